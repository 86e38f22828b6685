//! Panes whose features have not landed yet show one line saying so.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::tui::app::Pane;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, pane: Pane, theme: &Theme) {
    let what = match pane {
        Pane::Tags => "tags, bulk tagging and rule tags",
        Pane::Duplicates => "duplicate review, merge and unmerge",
        Pane::Segments => "RFM, lifecycle, value and region summaries",
        Pane::Quality => "completeness, invalid values and history",
        Pane::Customers => "",
    };
    let line = Line::styled(
        format!("{}: not available yet ({what})", pane.title()),
        theme.dim(),
    );
    frame.render_widget(Paragraph::new(line), area);
}
