//! Drawing the tag picker: a box over the pane with the typed name, the
//! tags that match it (the highlighted one is what Enter picks) and, after
//! a refused Enter, the reason.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::tag_picker::{Choice, TagPicker};
use crate::tui::text::{fit, thousands};
use crate::tui::theme::Theme;

/// Rows of matches shown at most.
const MAX_ROWS: usize = 10;

pub fn draw(frame: &mut Frame, body: Rect, picker: &TagPicker, theme: &Theme) {
    let width = body.width.min(72);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let choices = picker.choices();
    let room = usize::from(body.height.saturating_sub(5)).clamp(1, MAX_ROWS);
    let cursor = picker.cursor.min(choices.len().saturating_sub(1));
    let first = cursor.saturating_sub(room - 1);
    let mut lines = vec![Line::raw(fit(&format!("tag: {}▏", picker.input), inner))];
    for (i, c) in choices.iter().enumerate().skip(first).take(room) {
        let mark = if i == cursor { "▶ " } else { "  " };
        let text = match c {
            Choice::Existing(t) => {
                let t = &picker.tags[*t];
                let kind = if t.rule { " · rule" } else { "" };
                let count = format!("{}{kind}", thousands(t.count));
                let name_width = inner.saturating_sub(count.chars().count() + 3);
                format!("{mark}{} {count}", fit(&t.name, name_width))
            }
            Choice::New(name) => format!("{mark}new tag: {name}"),
        };
        let line = fit(&text, inner);
        lines.push(if i == cursor {
            Line::styled(line, theme.selected_row())
        } else {
            Line::raw(line)
        });
    }
    if choices.is_empty() {
        let none = if picker.add {
            "type a name: a new one creates the tag"
        } else {
            "no tag on these customers matches"
        };
        lines.push(Line::styled(fit(none, inner), theme.dim()));
    }
    if let Some(err) = &picker.error {
        lines.push(Line::styled(err.clone(), theme.error()));
    } else {
        lines.push(Line::styled(
            fit(
                "↑/↓ choose · tab completes · enter picks · esc closes",
                inner,
            ),
            theme.dim(),
        ));
    }
    // The reason of a refusal wraps; every other line fits one row.
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let para = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = (rows as u16 + 2).min(body.height);
    let area = Rect::new(
        body.x + (body.width - width) / 2,
        body.y + body.height.saturating_sub(height) / 2,
        width,
        height,
    );
    let title = match (&picker.merge_from, picker.add) {
        (Some((from, n)), _) => format!(" merge {from} ({}) into ", thousands(*n)),
        (None, true) => format!(" add a tag to {} ", picker.what),
        (None, false) => format!(" remove a tag from {} ", picker.what),
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        para.block(
            Block::default()
                .borders(Borders::ALL)
                .title(fit(&title, inner).trim_end().to_owned() + " "),
        ),
        area,
    );
}
