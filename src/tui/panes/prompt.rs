//! The box of an erasure's confirmation: exactly what goes and what stays
//! (as `store::erase` does it), and how to confirm. The typed answer is
//! drawn in the search line, like the palette's.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::tui::prompt::{Ask, Prompt};
use crate::tui::text::{fit, thousands};
use crate::tui::theme::Theme;

/// `n` things: `1 note`, `2 notes`.
fn count(n: u64, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{} {many}", thousands(n)),
    }
}

/// Words wrapped into lines `width` columns wide; later lines indented
/// by two spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let indent = if out.is_empty() { 0 } else { 2 };
        if !line.is_empty() && indent + line.width() + 1 + word.width() > width {
            out.push(line);
            line = String::new();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out.into_iter()
        .enumerate()
        .map(|(i, l)| if i == 0 { l } else { format!("  {l}") })
        .collect()
}

/// Draws the erase box over the pane; other questions need none.
pub fn draw(frame: &mut Frame, body: Rect, prompt: &Prompt, theme: &Theme) {
    let Ask::Erase(t) = &prompt.ask else {
        return;
    };
    let inner = usize::from(body.width.saturating_sub(2)).clamp(1, 76);
    let mut identity = vec![count(t.emails as u64, "email", "emails")];
    identity.push(count(t.phones as u64, "phone", "phones"));
    let removed = format!(
        "removed: the record with every field ({}, name, address, dates), {}, {}, its search and identity entries; its values in the audit log and the undo data become [erased]",
        identity.join(", "),
        count(t.tags as u64, "tag", "tags"),
        count(t.notes as u64, "note", "notes"),
    );
    let kept = format!(
        "kept: {} (dates and amounts, without their extra columns) so revenue stays right, and a tombstone: the id, when and by whom",
        count(t.orders, "order", "orders"),
    );
    let trashed = if t.trashed { " (in the trash)" } else { "" };
    let mut lines = vec![Line::styled(
        fit(&format!("{}{trashed}", t.name), inner),
        theme.title(),
    )];
    for text in [
        removed.as_str(),
        kept.as_str(),
        "then: rolo rewrites the database files when you quit, as rolo compact does, so no copy stays on disk",
    ] {
        lines.extend(wrap(text, inner).iter().map(|l| Line::raw(fit(l, inner))));
    }
    let answer = match &prompt.error {
        Some(e) => Line::styled(fit(e, inner), theme.error()),
        None => Line::styled(
            fit(
                &format!("type {} or yes, then enter, to erase; esc keeps them", t.id),
                inner,
            ),
            theme.marked(),
        ),
    };
    lines.push(answer);
    let width = (inner as u16 + 2).min(body.width);
    let height = (lines.len() as u16 + 2).min(body.height);
    let area = Rect::new(
        body.x + (body.width - width) / 2,
        body.y + (body.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" erase customer {}: this cannot be undone ", t.id)),
        ),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_to_the_width() {
        let lines = wrap("one two three four five six seven", 11);
        assert_eq!(lines, ["one two", "  three", "  four five", "  six seven"]);
        for l in &lines {
            assert!(l.width() <= 11, "{l}");
        }
    }
}
