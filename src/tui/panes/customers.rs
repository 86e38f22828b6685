//! The Customers pane: a table of the rows on screen, columns chosen by width.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Row};
use crate::tui::sort::SortField;
use crate::tui::text::{contact, display_name, fit};
use crate::tui::theme::Theme;

/// Column widths for a terminal `width` columns wide: (name, phone, email, city, company).
fn widths(width: usize) -> [usize; 5] {
    // Fixed: selection mark 2, spend 11, orders 7, and 1 space between columns.
    let rest = width.saturating_sub(2 + 11 + 7 + 4);
    if width >= 120 {
        let r = rest.saturating_sub(3);
        [
            r * 18 / 100,
            16,
            r * 30 / 100,
            r * 14 / 100,
            r.saturating_sub(16 + r * 62 / 100),
        ]
    } else {
        // E.164 numbers are up to 15 characters: the phone column keeps them whole.
        let r = rest.saturating_sub(2);
        let phone = if r >= 45 { 15 } else { r / 4 };
        let name = r.saturating_sub(phone) * 40 / 100;
        [name, phone, r.saturating_sub(phone + name), 0, 0]
    }
}

fn cells(row: &Row, masked: bool, w: [usize; 5]) -> Vec<String> {
    let c = &row.customer;
    let (phone, email) = contact(c, masked);
    let mut out = vec![
        fit(&display_name(c, masked), w[0]),
        fit(&phone, w[1]),
        fit(&email, w[2]),
    ];
    if w[3] > 0 {
        out.push(fit(c.city.as_deref().unwrap_or(""), w[3]));
        out.push(fit(c.company.as_deref().unwrap_or(""), w[4]));
    }
    out.push(format!("{:>11}", format!("{:.2}", row.stats.spend())));
    out.push(format!("{:>7}", row.stats.orders));
    out
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let width = area.width as usize;
    let w = widths(width);
    // The sorted column's title carries the direction.
    let title = |name: &str, field: SortField| match app.sort {
        Some(s) if s.field == field => format!("{name} {}", s.arrow()),
        _ => name.to_owned(),
    };
    let mut header = vec![
        fit(&title("name", SortField::Name), w[0]),
        fit("phone", w[1]),
        fit("email", w[2]),
    ];
    if w[3] > 0 {
        header.push(fit("city", w[3]));
        header.push(fit("company", w[4]));
    }
    header.push(format!("{:>11}", title("spend", SortField::Spend)));
    header.push(format!("{:>7}", title("orders", SortField::Orders)));
    let mut lines = vec![Line::styled(
        format!("  {}", header.join(" ")),
        theme.title(),
    )];
    if app.visible.is_empty() {
        let msg = if app.query.is_empty() {
            "no customers yet: import some with `rolo import customers FILE`"
        } else {
            "no matches"
        };
        lines.push(Line::styled(format!("  {msg}"), theme.dim()));
    }
    for (i, row) in app.visible.iter().enumerate() {
        let pos = app.offset + i;
        let mark = if app.selected.contains(&row.customer.id) {
            "* "
        } else {
            "  "
        };
        let text = format!("{mark}{}", cells(row, app.masked, w).join(" "));
        let style = if pos == app.cursor {
            theme.selected_row()
        } else if app.selected.contains(&row.customer.id) {
            theme.marked()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fill_the_width_exactly() {
        for width in [40usize, 80, 100, 119, 120, 160, 240] {
            let w = widths(width);
            let cols = if w[3] > 0 { 7 } else { 5 };
            let used: usize = w.iter().sum::<usize>() + 2 + 11 + 7 + (cols - 1);
            assert!(used <= width, "{width}: {w:?} uses {used}");
            assert!(
                width < 60 || used + 4 >= width,
                "{width}: {w:?} leaves too much"
            );
        }
    }
}
