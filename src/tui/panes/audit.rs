//! The audit log view: events newest first (number, time, user,
//! operation, summary), or, after Enter, one event's field changes with
//! their values before and after. The search line names the filter and
//! how many events are read; the last line names the keys. Masking hides
//! emails and phones in the changes as it does in the list.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::model::AuditEvent;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::audit::{AuditView, changes_of, filter_line};
use crate::tui::keymap::Section;
use crate::tui::text::{fit, mask_email, mask_phone, thousands};
use crate::tui::theme::Theme;

/// Width of the time column (`2026-11-30 10:00`).
const WHEN: usize = 16;
const SEQ: usize = 8;
const USER: usize = 8;
const OP: usize = 13;
/// Width of the customer column (an id, or how many).
const WHO: usize = 8;

/// Event rows on screen in a view `height` rows tall (a header and the
/// key line aside).
pub fn event_rows(height: usize) -> usize {
    height.saturating_sub(2).max(1)
}

/// The search line over the view: the filter and how much is read.
pub fn title(v: &AuditView, width: usize, theme: &Theme) -> Line<'static> {
    let filter = match filter_line(&v.filter) {
        f if f.is_empty() => "every event".to_owned(),
        f => f,
    };
    let count = match (v.events.len(), v.complete) {
        (_, _) if v.loading.is_some() && v.events.is_empty() => "reading…".to_owned(),
        (1, true) => "1 event".to_owned(),
        (n, true) => format!("{} events", thousands(n as u64)),
        (n, false) => format!(
            "the newest {} events, more as you scroll",
            thousands(n as u64)
        ),
    };
    let reading = if v.loading.is_some() && !v.events.is_empty() {
        " · reading…"
    } else {
        ""
    };
    Line::styled(
        fit(&format!("audit log · {filter} · {count}{reading}"), width),
        theme.title(),
    )
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, v: &AuditView, theme: &Theme) {
    let width = usize::from(area.width);
    let height = usize::from(area.height);
    let mut lines = match v.current().filter(|_| v.open) {
        Some(e) => event_lines(e, app.masked, width, theme),
        None => list_lines(v, width, height, theme),
    };
    lines.truncate(height.saturating_sub(1));
    while lines.len() < height.saturating_sub(1) {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(fit(&keys(app, v), width), theme.dim()));
    frame.render_widget(Paragraph::new(lines), area);
}

fn keys(app: &App, v: &AuditView) -> String {
    let key = |a: Action, default: &'static str| {
        app.keymap
            .key_in(a, Some(Section::Audit))
            .unwrap_or(default)
    };
    let short = |a: Action, default: &'static str| {
        app.keymap
            .short_key_in(a, Some(Section::Audit))
            .unwrap_or(default)
    };
    let (open, close) = if v.open {
        ("back to the list", "back")
    } else {
        ("shows its changes", "closes")
    };
    format!(
        "{} {open} · {} filters · {}/{} older/newer · {} {close}",
        key(Action::Open, "enter"),
        key(Action::AuditFilter, "f"),
        short(Action::Down, "j"),
        short(Action::Up, "k"),
        key(Action::Clear, "esc"),
    )
}

fn when(e: &AuditEvent) -> String {
    e.at.format("%Y-%m-%d %H:%M").to_string()
}

/// The customer column: the one customer's id, or how many.
fn who(e: &AuditEvent) -> String {
    match e.customers.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        many => format!("{} cust.", thousands(many.len() as u64)),
    }
}

fn list_lines(v: &AuditView, width: usize, height: usize, theme: &Theme) -> Vec<Line<'static>> {
    let summary = width.saturating_sub(2 + SEQ + 1 + WHEN + 1 + USER + 1 + OP + 1 + WHO + 1);
    let header = format!(
        "  {} {} {} {} {} {}",
        fit("#", SEQ),
        fit("when (UTC)", WHEN),
        fit("user", USER),
        fit("operation", OP),
        fit("customer", WHO),
        fit("summary", summary)
    );
    let mut lines = vec![Line::styled(fit(&header, width), theme.title())];
    if let Some(e) = &v.error {
        lines.push(Line::styled(fit(&format!("  {e}"), width), theme.error()));
        return lines;
    }
    if v.events.is_empty() {
        let what = if v.loading.is_some() {
            "  reading the audit log…"
        } else {
            "  no events match; f changes the filter"
        };
        lines.push(Line::styled(fit(what, width), theme.dim()));
        return lines;
    }
    let rows = event_rows(height);
    // The cursor stays on screen even if the state's offset is behind.
    let offset = v
        .offset
        .min(v.cursor)
        .max((v.cursor + 1).saturating_sub(rows));
    for (i, e) in v.events.iter().enumerate().skip(offset).take(rows) {
        let text = format!(
            "  {} {} {} {} {} {}",
            fit(&format!("#{}", e.seq), SEQ),
            fit(&when(e), WHEN),
            fit(&e.user, USER),
            fit(&e.op, OP),
            fit(&who(e), WHO),
            fit(&e.summary, summary)
        );
        lines.push(if i == v.cursor {
            Line::styled(fit(&text, width), theme.selected_row())
        } else {
            Line::raw(fit(&text, width))
        });
    }
    lines
}

/// A changed value as shown: masked for the fields masking hides.
fn shown(field: &str, value: Option<&str>, masked: bool) -> String {
    let Some(v) = value else {
        return "–".to_owned();
    };
    if !masked {
        return v.to_owned();
    }
    match field {
        "email" | "emails" => v.split("; ").map(mask_email).collect::<Vec<_>>().join("; "),
        "phone" | "phones" => v.split("; ").map(mask_phone).collect::<Vec<_>>().join("; "),
        _ => v.to_owned(),
    }
}

fn event_lines(e: &AuditEvent, masked: bool, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let customers = match e.customers.as_slice() {
        [] => String::new(),
        [one] => format!(" · customer {one}"),
        many => format!(" · {} customers", thousands(many.len() as u64)),
    };
    let undoes = e
        .undoes
        .map(|s| format!(" · undoes #{s}"))
        .unwrap_or_default();
    let head = format!(
        "  event #{} · {} UTC · {} · {}{customers}{undoes}",
        e.seq,
        when(e),
        e.user,
        e.op
    );
    let mut lines = vec![
        Line::styled(fit(&head, width), theme.title()),
        Line::raw(fit(&format!("  {}", e.summary), width)),
        Line::raw(""),
    ];
    let changes = changes_of(e);
    if changes.is_empty() {
        lines.push(Line::styled(
            fit("  no field changes recorded for this event", width),
            theme.dim(),
        ));
        return lines;
    }
    let field_w = changes
        .iter()
        .map(|c| unicode_width::UnicodeWidthStr::width(c.field.as_str()))
        .max()
        .unwrap_or(5)
        .clamp(5, 16);
    let value_w = (width.saturating_sub(2 + field_w + 1 + 3) / 2).min(48);
    lines.push(Line::styled(
        fit(
            &format!(
                "  {} {}   {}",
                fit("field", field_w),
                fit("before", value_w),
                fit("after", value_w)
            ),
            width,
        ),
        theme.title(),
    ));
    for c in changes {
        lines.push(Line::from(vec![
            Span::raw(format!("  {} ", fit(&c.field, field_w))),
            Span::raw(fit(&shown(&c.field, c.before.as_deref(), masked), value_w)),
            Span::styled(" → ", theme.dim()),
            Span::raw(fit(&shown(&c.field, c.after.as_deref(), masked), value_w)),
        ]));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_hides_changed_emails_and_phones() {
        assert_eq!(
            shown("email", Some("ann@example.com; b@x.org"), true),
            "a***@example.com; b***@x.org"
        );
        assert_eq!(
            shown("phone", Some("+8613800138000"), true),
            "+86138****8000"
        );
        assert_eq!(shown("city", Some("上海"), true), "上海");
        assert_eq!(shown("email", None, false), "–");
    }
}
