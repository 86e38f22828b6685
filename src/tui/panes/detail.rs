//! The 360° view: every field and custom attribute, tags, figures, a
//! monthly spend sparkline, orders, notes and the change history.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use crate::model::Field;
use crate::tui::app::Detail;
use crate::tui::text::{display_name, fit, mask_email, mask_phone};
use crate::tui::theme::Theme;

fn value(d: &Detail, f: Field, masked: bool) -> String {
    let c = &d.customer;
    match f {
        Field::Email if masked => c
            .emails
            .iter()
            .map(|e| mask_email(e))
            .collect::<Vec<_>>()
            .join("; "),
        Field::Phone if masked => c
            .phones
            .iter()
            .map(|p| mask_phone(p))
            .collect::<Vec<_>>()
            .join("; "),
        f => c.value(f).unwrap_or_default(),
    }
}

fn fields(d: &Detail, masked: bool, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let label = 12;
    let mut lines = Vec::new();
    if let Some(at) = d.customer.trashed_at {
        lines.push(Line::styled(
            format!(
                "{} {}",
                fit("trashed", label),
                fit(
                    &at.format("%Y-%m-%d %H:%M").to_string(),
                    width.saturating_sub(label + 1)
                )
            ),
            theme.error(),
        ));
    }
    for f in Field::ALL {
        let v = value(d, f, masked);
        if v.is_empty() && f != Field::Name {
            continue;
        }
        lines.push(Line::raw(format!(
            "{} {}",
            fit(f.as_str(), label),
            fit(&v, width.saturating_sub(label + 1))
        )));
    }
    for (k, v) in &d.customer.attrs {
        lines.push(Line::raw(format!(
            "{} {}",
            fit(k, label),
            fit(v, width.saturating_sub(label + 1))
        )));
    }
    for (k, v) in &d.customer.invalid {
        lines.push(Line::styled(
            format!(
                "{} {}",
                fit(&format!("{k}?"), label),
                fit(&format!("invalid: {v}"), width.saturating_sub(label + 1))
            ),
            theme.error(),
        ));
    }
    let tags = if d.customer.tags.is_empty() {
        "(none)".to_owned()
    } else {
        d.customer.tags.join(", ")
    };
    lines.push(Line::raw(format!(
        "{} {}",
        fit("tags", label),
        fit(&tags, width.saturating_sub(label + 1))
    )));
    lines
}

/// How many orders, notes and history events fit in `rows` lines after the
/// summary and the three section titles: shared out one at a time in turn,
/// so at 80x24 each section still shows its newest entries.
fn budget(d: &Detail, rows: usize) -> [usize; 3] {
    let want = [
        d.orders.len().min(8),
        d.notes.len().min(4),
        d.history.len().min(4),
    ];
    // An empty section still takes a line ("none").
    let mut left = rows.saturating_sub(4 + want.iter().filter(|w| **w == 0).count());
    let mut got = [0; 3];
    while left > 0 && got != want {
        for i in 0..3 {
            if left > 0 && got[i] < want[i] {
                got[i] += 1;
                left -= 1;
            }
        }
    }
    got
}

/// `1 order`, `3 orders`.
fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A section title with its count when not every entry is shown.
fn section(title: &str, shown: usize, total: usize) -> String {
    if shown < total {
        format!("{title} ({shown} of {total}, newest first)")
    } else {
        format!("{title} (newest first)")
    }
}

fn activity(d: &Detail, width: usize, rows: usize, theme: &Theme) -> Vec<Line<'static>> {
    let s = &d.stats;
    let [n_orders, n_notes, n_history] = budget(d, rows);
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "{} on {}, spend {:.2}, first {}, last {}",
                plural(u64::from(s.orders), "order"),
                plural(u64::from(s.order_days), "day"),
                s.spend(),
                s.first_order
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "-".into()),
                s.last_order
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "-".into())
            ),
            width,
        ),
        theme.title(),
    )];
    if let Some(p) = &d.prediction {
        let value = p
            .clv
            .filter(|v| v.is_finite())
            .map_or(String::new(), |v| format!(", value {v:.2}"));
        lines.push(Line::raw(fit(
            &format!(
                "predicted: P(alive) {:.2}, {:.1} purchases in 365 days{value}",
                p.p_alive, p.expected_purchases
            ),
            width,
        )));
    }
    lines.push(Line::styled(
        fit(&section("orders", n_orders, d.orders.len()), width),
        theme.title(),
    ));
    if d.orders.is_empty() {
        lines.push(Line::styled("  none", theme.dim()));
    }
    for o in d.orders.iter().take(n_orders) {
        let text = format!(
            "  {} {:>10.2} {} {}",
            o.date,
            o.amount_minor as f64 / 100.0,
            o.currency.as_deref().unwrap_or(""),
            o.channel.as_deref().unwrap_or("")
        );
        lines.push(Line::raw(fit(&text, width)));
    }
    lines.push(Line::styled(
        fit(&section("notes", n_notes, d.notes.len()), width),
        theme.title(),
    ));
    if d.notes.is_empty() {
        lines.push(Line::styled("  none", theme.dim()));
    }
    for n in d.notes.iter().take(n_notes) {
        let score = n
            .satisfaction
            .map(|s| format!(" ({s}/5)"))
            .unwrap_or_default();
        let text = format!(
            "  {} {}{score}: {}",
            n.at.format("%Y-%m-%d"),
            n.kind,
            n.text
        );
        lines.push(Line::raw(fit(&text, width)));
    }
    lines.push(Line::styled(
        fit(&section("history", n_history, d.history.len()), width),
        theme.title(),
    ));
    if d.history.is_empty() {
        lines.push(Line::styled("  no recorded changes", theme.dim()));
    }
    for e in d.history.iter().take(n_history) {
        let text = format!(
            "  {} {} {}: {}",
            e.at.format("%Y-%m-%d %H:%M"),
            e.user,
            e.op,
            e.summary
        );
        lines.push(Line::raw(fit(&text, width)));
    }
    lines
}

/// Draws the view; `keys` (what the main keys do here) goes on the bottom border.
pub fn draw(frame: &mut Frame, area: Rect, d: &Detail, masked: bool, keys: &str, theme: &Theme) {
    let title = format!(
        " {} (id {}) ",
        fit(&display_name(&d.customer, masked), 40).trim_end(),
        d.customer.id
    );
    let keys = format!(
        " {} ",
        fit(keys, usize::from(area.width.saturating_sub(6))).trim_end()
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .title_bottom(Line::styled(keys, theme.dim()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let wide = inner.width >= 100;
    let (left, right) = if wide {
        let [l, r] = Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
            .areas(inner);
        (l, r)
    } else {
        // Stacked: the fields take the lines they need, up to half.
        let needed = fields(d, masked, inner.width as usize, theme).len() as u16;
        let [l, r] = Layout::vertical([
            Constraint::Length(needed.min(inner.height / 2)),
            Constraint::Min(1),
        ])
        .areas(inner);
        (l, r)
    };
    frame.render_widget(
        Paragraph::new(fields(d, masked, left.width as usize, theme)),
        left,
    );
    let [spark_area, rest] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(right);
    let data: Vec<u64> = d
        .monthly
        .iter()
        .map(|(_, v)| u64::try_from(*v).unwrap_or(0))
        .collect();
    let first = d.monthly.first().map(|(m, _)| m.as_str()).unwrap_or("");
    let last = d.monthly.last().map(|(m, _)| m.as_str()).unwrap_or("");
    frame.render_widget(
        Sparkline::default()
            .block(Block::default().title(format!("monthly spend {first} .. {last}")))
            .data(&data),
        spark_area,
    );
    frame.render_widget(
        Paragraph::new(activity(
            d,
            rest.width as usize,
            rest.height as usize,
            theme,
        )),
        rest,
    );
}
