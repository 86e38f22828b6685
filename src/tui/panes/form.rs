//! Drawing the edit form: one line per field, the current one highlighted,
//! the reason of a refused save underneath.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::tui::form::{FIELDS, Form};
use crate::tui::text::fit;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, form: &Form, theme: &Theme) {
    let title = match form.id {
        Some(id) => format!(" edit customer {id} "),
        None => " new customer ".to_owned(),
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let label = 12;
    let mut lines: Vec<Line> = FIELDS
        .iter()
        .zip(&form.values)
        .enumerate()
        .map(|(i, (f, v))| {
            let cursor = if i == form.cursor { "▏" } else { " " };
            let text = format!(
                "{} {}",
                fit(f.as_str(), label),
                fit(&format!("{v}{cursor}"), width.saturating_sub(label + 1))
            );
            if i == form.cursor {
                Line::styled(text, theme.selected_row())
            } else {
                Line::raw(text)
            }
        })
        .collect();
    lines.push(Line::raw(""));
    if let Some(err) = &form.error {
        lines.push(Line::styled(fit(err, width), theme.error()));
    }
    lines.push(Line::styled(
        fit(
            "enter saves · esc cancels · tab/↓ ↑ move · ctrl-u clears the field",
            width,
        ),
        theme.dim(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}
