//! The trash view: trashed customers, most recently trashed first, with
//! when each went; the search line above says which keys act here.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::model::Customer;
use crate::tui::text::{contact, display_name, fit};
use crate::tui::theme::Theme;
use crate::tui::trash::TrashView;

/// Width of the "trashed" column (`2026-11-30 10:00`).
const WHEN: usize = 16;

/// Column widths for `width`: (name, phone, email); the trash time is fixed.
fn widths(width: usize) -> [usize; 3] {
    let rest = width.saturating_sub(2 + WHEN + 3);
    let phone = if rest >= 55 { 15 } else { rest / 4 };
    let name = rest.saturating_sub(phone) * 40 / 100;
    [name, phone, rest.saturating_sub(phone + name)]
}

fn cells(c: &Customer, masked: bool, w: [usize; 3]) -> String {
    let (phone, email) = contact(c, masked);
    let when = c
        .trashed_at
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    format!(
        "{} {} {} {}",
        fit(&display_name(c, masked), w[0]),
        fit(&phone, w[1]),
        fit(&email, w[2]),
        fit(&when, WHEN)
    )
}

pub fn draw(frame: &mut Frame, area: Rect, t: &TrashView, masked: bool, theme: &Theme) {
    let w = widths(area.width as usize);
    let header = format!(
        "  {} {} {} {}",
        fit("name", w[0]),
        fit("phone", w[1]),
        fit("email", w[2]),
        fit("trashed", WHEN)
    );
    let mut lines = vec![Line::styled(header, theme.title())];
    if t.loading {
        lines.push(Line::styled("  reading the trash…", theme.dim()));
    } else if t.rows.is_empty() {
        lines.push(Line::styled("  the trash is empty", theme.dim()));
    }
    let rows = usize::from(area.height.saturating_sub(1));
    for (i, c) in t.rows.iter().enumerate().skip(t.offset).take(rows) {
        let text = format!("  {}", cells(c, masked, w));
        lines.push(if i == t.cursor {
            Line::styled(text, theme.selected_row())
        } else {
            Line::raw(text)
        });
    }
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_the_width() {
        for width in [40usize, 80, 120, 160] {
            let w = widths(width);
            let used = 2 + w.iter().sum::<usize>() + WHEN + 3;
            assert!(used <= width, "{width}: {w:?}");
        }
    }
}
