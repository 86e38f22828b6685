//! The Tags pane: the tag tree with member counts (rolled up over the
//! levels below), manual or rule (with the rule's query), colour and
//! description; its last line names its keys, asks before a delete, or
//! explains the question being typed (a rule's preview among them).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::tui::action::Action;
use crate::tui::app::{App, Mode};
use crate::tui::prompt::Ask;
use crate::tui::tags::TagRow;
use crate::tui::text::{fit, thousands};
use crate::tui::theme::Theme;

/// Column widths: (name, count, kind, colour); the rest is the details.
fn widths(total: usize) -> (usize, usize, usize, usize) {
    if total >= 120 {
        (40, 10, 7, 12)
    } else {
        (24, 9, 7, 8)
    }
}

fn cells(row: &TagRow, total: usize) -> String {
    let (name_w, count_w, kind_w, colour_w) = widths(total);
    let details_w = total.saturating_sub(2 + name_w + count_w + kind_w + colour_w + 4);
    let name = format!(
        "{}{}{}",
        "  ".repeat(row.depth),
        row.label,
        if row.children { "/" } else { "" }
    );
    let info = row.tag.as_ref().and_then(|t| t.info.as_ref());
    let kind = match (&row.tag, row.tag.as_ref().and_then(|t| t.rule())) {
        (None, _) => "",
        (Some(_), Some(_)) => "rule",
        (Some(_), None) => "manual",
    };
    let colour = info.and_then(|i| i.colour.as_deref()).unwrap_or("");
    let description = info.and_then(|i| i.description.as_deref()).unwrap_or("");
    let details = match row.tag.as_ref().and_then(|t| t.rule()) {
        Some(rule) if description.is_empty() => format!("rule: {rule}"),
        Some(rule) => format!("rule: {rule} · {description}"),
        None => description.to_owned(),
    };
    let count = thousands(row.total);
    format!(
        "  {} {}{} {} {} {}",
        fit(&name, name_w),
        " ".repeat(count_w.saturating_sub(count.len())),
        count,
        fit(kind, kind_w),
        fit(colour, colour_w),
        fit(&details, details_w)
    )
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let width = usize::from(area.width);
    let (name_w, count_w, kind_w, colour_w) = widths(width);
    let key = |a: Action, default: &'static str| app.keymap.key_for(a).unwrap_or(default);
    let header = format!(
        "  {} {:>count_w$} {} {} details",
        fit("tag", name_w),
        "customers",
        fit("kind", kind_w),
        fit("colour", colour_w),
    );
    let mut lines = vec![Line::styled(fit(&header, width), theme.title())];
    let rows = usize::from(area.height.saturating_sub(2));
    match &app.tags {
        Some(view) if !view.rows.is_empty() => {
            for (i, row) in view.rows.iter().enumerate().skip(view.offset).take(rows) {
                let text = fit(&cells(row, width), width);
                lines.push(if i == view.cursor {
                    Line::styled(text, theme.selected_row())
                } else {
                    Line::raw(text)
                });
            }
        }
        _ => lines.push(Line::styled(
            fit(
                &format!(
                    "  no tags yet: {} creates one, or in Customers ({}) select customers and press {}",
                    key(Action::NewTag, "n"),
                    key(Action::PaneCustomers, "1"),
                    key(Action::Tag, "t")
                ),
                width,
            ),
            theme.dim(),
        )),
    }
    while lines.len() < rows + 1 {
        lines.push(Line::raw(""));
    }
    let tag_ask = match (app.mode, &app.prompt) {
        (Mode::Prompt, Some(p)) => match &p.ask {
            Ask::Tag(ask) => Some((ask, p)),
            _ => None,
        },
        _ => None,
    };
    let last = if let Some((ask, p)) = tag_ask {
        match &p.error {
            Some(e) => Line::styled(fit(e, width), theme.error()),
            None => Line::styled(fit(&ask.explain(&p.input), width), theme.marked()),
        }
    } else if let Some((name, n)) = app.tags.as_ref().and_then(|t| t.confirm.as_ref()) {
        let who = match n {
            1 => "1 customer loses it".to_owned(),
            n => format!("{} customers lose it", thousands(*n)),
        };
        Line::styled(
            fit(
                &format!("delete tag {name}? {who} · y deletes, other keys keep it"),
                width,
            ),
            theme.error(),
        )
    } else {
        Line::styled(
            fit(
                &format!(
                    "{} customers · {} new · {} rename · {} merge · {} delete · {} rule · {} describe",
                    key(Action::Open, "enter"),
                    key(Action::NewTag, "n"),
                    key(Action::RenameTag, "R"),
                    key(Action::MergeTag, "m"),
                    key(Action::DeleteTag, "d"),
                    key(Action::TagRule, "r"),
                    key(Action::DescribeTag, "c"),
                ),
                width,
            ),
            theme.dim(),
        )
    };
    lines.push(last);
    frame.render_widget(Paragraph::new(lines), area);
}
