//! The vocabulary of the TUI: every key resolves to one [`Action`], and the
//! key map file names actions the way the help screen shows them.

use serde::{Deserialize, Serialize};

/// Something the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Quit rolo.
    Quit,
    /// Show or hide the help overlay.
    Help,
    /// Move down one row.
    Down,
    /// Move up one row.
    Up,
    /// Move down one page.
    PageDown,
    /// Move up one page.
    PageUp,
    /// Go to the first row.
    Top,
    /// Go to the last row.
    Bottom,
    /// Start typing a search query.
    Search,
    /// Select or unselect the current row.
    ToggleSelect,
    /// Select the whole result.
    SelectAll,
    /// Clear the search and the selection.
    Clear,
    /// Switch to the next pane.
    NextPane,
    /// Switch to the previous pane.
    PrevPane,
    /// Customers pane.
    PaneCustomers,
    /// Tags pane.
    PaneTags,
    /// Duplicates pane.
    PaneDuplicates,
    /// Segments pane.
    PaneSegments,
    /// Quality pane.
    PaneQuality,
    /// Mask personal data on screen (for screen sharing).
    ToggleMask,
    /// Open the 360° view of the current customer.
    Open,
    /// Move the current customer to the trash.
    Trash,
    /// Undo the last change (also after a restart).
    Undo,
    /// Redo the last undone change.
    Redo,
    /// Edit the current customer in a form.
    Edit,
    /// Create a new customer in a form.
    New,
}

impl Action {
    /// Every action, in help order.
    pub const ALL: [Action; 26] = [
        Action::Down,
        Action::Up,
        Action::Open,
        Action::PageDown,
        Action::PageUp,
        Action::Top,
        Action::Bottom,
        Action::Search,
        Action::ToggleSelect,
        Action::SelectAll,
        Action::Edit,
        Action::New,
        Action::Trash,
        Action::Undo,
        Action::Redo,
        Action::Clear,
        Action::NextPane,
        Action::PrevPane,
        Action::PaneCustomers,
        Action::PaneTags,
        Action::PaneDuplicates,
        Action::PaneSegments,
        Action::PaneQuality,
        Action::ToggleMask,
        Action::Help,
        Action::Quit,
    ];

    /// What the action does, for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "show or hide this help",
            Action::Down => "move down",
            Action::Up => "move up",
            Action::PageDown => "page down",
            Action::PageUp => "page up",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::Search => "search as you type (query language)",
            Action::ToggleSelect => "select / unselect the row",
            Action::SelectAll => "select the whole result",
            Action::Clear => "clear the search and the selection",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::PaneCustomers => "Customers pane",
            Action::PaneTags => "Tags pane",
            Action::PaneDuplicates => "Duplicates pane",
            Action::PaneSegments => "Segments pane",
            Action::PaneQuality => "Quality pane",
            Action::ToggleMask => "mask personal data on screen",
            Action::Open => "open the customer's 360° view (esc closes)",
            Action::Trash => "move the customer to the trash",
            Action::Edit => "edit the customer (enter saves, esc cancels)",
            Action::New => "new customer",
            Action::Undo => "undo the last change (also after a restart)",
            Action::Redo => "redo the last undone change",
        }
    }
}
