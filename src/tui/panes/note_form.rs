//! Drawing the add-a-note form: the kind as a choice among every kind, the
//! text and the score, the reason of a refused save underneath.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::model::NoteKind;
use crate::tui::note_form::{NoteField, NoteForm};
use crate::tui::text::fit;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, form: &NoteForm, theme: &Theme) {
    let title = format!(
        " note for {} (id {}) ",
        fit(&form.name, 30).trim_end(),
        form.customer
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let label = 13;
    let mut lines = Vec::new();
    for field in NoteField::ALL {
        let on = form.field() == field;
        let cursor = if on { "▏" } else { "" };
        let value = match field {
            NoteField::Kind => NoteKind::ALL
                .iter()
                .map(|k| {
                    if *k == form.kind {
                        format!("[{k}]")
                    } else {
                        k.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            NoteField::Text => format!("{}{cursor}", form.text),
            NoteField::Satisfaction => format!("{}{cursor}", form.satisfaction),
        };
        let text = format!(
            "{} {}",
            fit(field.label(), label),
            fit(&value, width.saturating_sub(label + 1))
        );
        lines.push(if on {
            Line::styled(text, theme.selected_row())
        } else {
            Line::raw(text)
        });
    }
    lines.push(Line::raw(""));
    if let Some(err) = &form.error {
        lines.push(Line::styled(fit(err, width), theme.error()));
    }
    lines.push(Line::styled(
        fit(
            "kind: ←/→, space or its first letter · satisfaction 1-5 or empty",
            width,
        ),
        theme.dim(),
    ));
    lines.push(Line::styled(
        fit(
            "enter adds · esc cancels · tab/↓ ↑ move · ctrl-u clears the field",
            width,
        ),
        theme.dim(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}
