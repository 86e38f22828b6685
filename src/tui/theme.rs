//! Colours, or none: with `NO_COLOR` set, emphasis comes from reverse and
//! bold only (crossterm's own NO_COLOR handling also drops those, so rolo
//! forces colour output on and decides here).

use ratatui::style::{Color, Modifier, Style};

/// The styles the views use.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Reads `NO_COLOR` (any non-empty value disables colour).
    pub fn from_env() -> Self {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn active_tab(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        if self.color { s.fg(Color::Cyan) } else { s }
    }

    pub fn selected_row(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    pub fn marked(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color { s.fg(Color::Yellow) } else { s }
    }

    pub fn error(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color { s.fg(Color::Red) } else { s }
    }

    /// Bars and heat cells of the Segments pane (their length or shade
    /// carries the value, so without colour they stay plain).
    pub fn bar(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Cyan)
        } else {
            Style::default()
        }
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
}
