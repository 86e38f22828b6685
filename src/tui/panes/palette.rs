//! Drawing the command palette's candidates: a box at the bottom of the
//! pane listing the commands (or sort fields) the typed word can become,
//! in columns, with the usage of the first one or the reason of a refused
//! command underneath. The typed line itself is drawn in the search line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::palette::{Palette, candidates, commands};
use crate::tui::text::fit;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, body: Rect, palette: &Palette, theme: &Theme) {
    let found = candidates(&palette.input);
    let inner_width = usize::from(body.width.saturating_sub(2)).max(1);
    let cell = found.iter().map(|c| c.len()).max().unwrap_or(0) + 2;
    let columns = (inner_width / cell.max(1)).max(1);
    let max_rows = usize::from(body.height.saturating_sub(3)).max(1);
    let rows = found.len().div_ceil(columns).min(max_rows);
    let mut lines: Vec<Line> = (0..rows)
        .map(|r| {
            let text: String = (0..columns)
                .filter_map(|c| found.get(c * rows + r))
                .map(|name| fit(name, cell))
                .collect();
            Line::raw(fit(&text, inner_width))
        })
        .collect();
    if found.len() > rows * columns {
        lines.push(Line::styled(
            fit(
                &format!("… {} more: type to narrow", found.len() - rows * columns),
                inner_width,
            ),
            theme.dim(),
        ));
    }
    // The command being typed: its usage and what it does.
    let word = palette.input.split_whitespace().next().unwrap_or("");
    let all = commands();
    let shown = all
        .iter()
        .find(|c| c.name == word)
        .or_else(|| all.iter().find(|c| found.first() == Some(&c.name)));
    match (&palette.error, shown) {
        (Some(err), _) => lines.push(Line::styled(fit(err, inner_width), theme.error())),
        (None, Some(c)) => {
            let usage = format!(
                "{}{}{} — {}",
                c.name,
                if c.args.is_empty() { "" } else { " " },
                c.args,
                c.describe
            );
            lines.push(Line::styled(fit(&usage, inner_width), theme.dim()));
        }
        (None, None) => lines.push(Line::styled(
            fit(
                "no such command; ctrl-u clears the line to list every command",
                inner_width,
            ),
            theme.dim(),
        )),
    }
    let height = (lines.len() as u16 + 2).min(body.height);
    let area = Rect::new(
        body.x,
        body.y + body.height.saturating_sub(height),
        body.width,
        height,
    );
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" commands: tab completes, enter runs, esc closes "),
        ),
        area,
    );
}
