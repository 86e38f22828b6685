//! The vocabulary of the TUI: every key resolves to one [`Action`], and the
//! key map file names actions the way the help screen shows them.

use serde::{Deserialize, Serialize};

use super::keymap::Section;

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
    /// Add a tag to the selection, or to the whole result.
    Tag,
    /// Remove a tag from the selection, or from the whole result.
    Untag,
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
    /// Move the current customer to the trash. Named `trash_customer` so
    /// that the palette's `trash` can open the trash view; key maps may
    /// still say `trash`.
    #[serde(rename = "trash_customer", alias = "trash")]
    Trash,
    /// List the customers in the trash.
    ShowTrash,
    /// Restore the current customer of the trash view.
    Restore,
    /// Add a note (call, visit, feedback...) to the current customer.
    AddNote,
    /// Sort the customers by the next field: name, spend, orders, last order, created, none.
    Sort,
    /// Reverse the direction of the sort.
    SortReverse,
    /// Open the command palette.
    Palette,
    /// Undo the last change (also after a restart).
    Undo,
    /// Redo the last undone change.
    Redo,
    /// Edit the current customer in a form.
    Edit,
    /// Create a new customer in a form.
    New,
    /// Segments pane: the next segmentation (RFM, lifecycle, value, region, city, saved).
    NextSegmentation,
    /// Segments pane: the previous segmentation.
    PrevSegmentation,
    /// Segments pane: show or hide how customers moved between segments since a snapshot.
    Movement,
    /// Segments pane: record every customer's segments today (for movement).
    Snapshot,
    /// Segments and Quality panes: compute the figures again (after a change).
    Recompute,
    /// Quality pane: save the figures as the baseline the next visits compare with.
    SaveBaseline,
    /// Quality pane: set after how many days without an update a record is stale.
    StaleDays,
    /// Quality pane: the next figure column of a field row (filled, missing, invalid).
    NextColumn,
    /// Quality pane: the previous figure column of a field row.
    PrevColumn,
    /// Open (or close) the audit log: every change, newest first.
    Audit,
    /// Audit log: filter the events by user, operation and date.
    AuditFilter,
    /// Erase the current customer's personal data everywhere (asks first).
    Erase,
    /// Duplicates pane: the current field takes the value of the record
    /// whose number (1-9) was pressed; on the first row, that record survives.
    PickRecord,
    /// Duplicates pane: leave the highlighted record out of this merge.
    DropMember,
    /// Duplicates pane: merge the cluster with the picked values (asks first).
    Merge,
    /// Duplicates pane: mark the cluster's records as not duplicates (asks first).
    NotDuplicate,
    /// Duplicates pane: leave the cluster for later and show the next.
    Skip,
    /// Duplicates pane: list the merges, to take one back.
    Unmerge,
    /// Tags pane: create a new, empty manual tag.
    NewTag,
    /// Tags pane: rename the tag under the cursor.
    RenameTag,
    /// Tags pane: merge the tag under the cursor into another (picked).
    MergeTag,
    /// Tags pane: delete the tag under the cursor (asks first).
    DeleteTag,
    /// Tags pane: edit the description of the tag under the cursor.
    DescribeTag,
    /// Tags pane: set the colour of the tag under the cursor.
    ColourTag,
    /// Tags pane: set, change or drop the tag's rule (previewed first).
    TagRule,
}

impl Action {
    /// Every action, in help order.
    pub const ALL: [Action; 59] = [
        Action::Down,
        Action::Up,
        Action::Open,
        Action::PageDown,
        Action::PageUp,
        Action::Top,
        Action::Bottom,
        Action::Search,
        Action::Palette,
        Action::ToggleSelect,
        Action::SelectAll,
        Action::Tag,
        Action::Untag,
        Action::Sort,
        Action::SortReverse,
        Action::NextSegmentation,
        Action::PrevSegmentation,
        Action::Movement,
        Action::Snapshot,
        Action::Recompute,
        Action::NextColumn,
        Action::PrevColumn,
        Action::SaveBaseline,
        Action::StaleDays,
        Action::PickRecord,
        Action::DropMember,
        Action::Merge,
        Action::NotDuplicate,
        Action::Skip,
        Action::Unmerge,
        Action::Audit,
        Action::AuditFilter,
        Action::NewTag,
        Action::RenameTag,
        Action::MergeTag,
        Action::DeleteTag,
        Action::DescribeTag,
        Action::ColourTag,
        Action::TagRule,
        Action::Edit,
        Action::New,
        Action::AddNote,
        Action::Trash,
        Action::ShowTrash,
        Action::Restore,
        Action::Erase,
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

    /// What the action does, for the help overlay and the palette: short
    /// enough (26 columns) that two columns of help fit in 80.
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
            Action::Search => "search as you type",
            Action::ToggleSelect => "select / unselect the row",
            Action::SelectAll => "select the whole result",
            Action::Tag => "tag selection or result",
            Action::Untag => "untag selection or result",
            Action::Clear => "clear search and selection",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::PaneCustomers => "Customers pane",
            Action::PaneTags => "Tags pane",
            Action::PaneDuplicates => "Duplicates pane",
            Action::PaneSegments => "Segments pane",
            Action::PaneQuality => "Quality pane",
            Action::ToggleMask => "mask phones and emails",
            Action::Open => "the customer's 360° view",
            Action::Trash => "move to the trash",
            Action::Edit => "edit the customer",
            Action::New => "new customer",
            Action::Undo => "undo, even after a restart",
            Action::Redo => "redo what was undone",
            Action::ShowTrash => "list the trash",
            Action::Restore => "restore from the trash",
            Action::AddNote => "add a note to the customer",
            Action::Sort => "sort by the next field",
            Action::SortReverse => "reverse the sort",
            Action::Palette => "command palette",
            Action::NextSegmentation => "next segmentation",
            Action::PrevSegmentation => "previous segmentation",
            Action::Movement => "movement since a snapshot",
            Action::Snapshot => "record a segment snapshot",
            Action::Recompute => "recompute the figures",
            Action::SaveBaseline => "save figures as baseline",
            Action::StaleDays => "set the stale threshold",
            Action::NextColumn => "next column",
            Action::PrevColumn => "previous column",
            Action::Audit => "the audit log",
            Action::AuditFilter => "filter the audit log",
            Action::Erase => "erase the customer's data",
            Action::PickRecord => "take record N's value",
            Action::DropMember => "leave the record out",
            Action::Merge => "merge the cluster (asks)",
            Action::NotDuplicate => "not duplicates (asks)",
            Action::Skip => "skip to the next cluster",
            Action::Unmerge => "list merges to unmerge",
            Action::NewTag => "new (empty) tag",
            Action::RenameTag => "rename the tag",
            Action::MergeTag => "merge into another tag",
            Action::DeleteTag => "delete the tag (asks)",
            Action::DescribeTag => "describe the tag",
            Action::ColourTag => "set the tag's colour",
            Action::TagRule => "set or change its rule",
        }
    }

    /// The panes (key map tables) where the action means something, for
    /// an action that acts only there; empty for one that acts anywhere
    /// it has something to act on.
    pub fn sections(self) -> &'static [Section] {
        match self {
            Action::NextSegmentation
            | Action::PrevSegmentation
            | Action::Movement
            | Action::Snapshot => &[Section::Segments],
            Action::Recompute => &[Section::Segments, Section::Quality, Section::Duplicates],
            Action::SaveBaseline | Action::StaleDays => &[Section::Quality],
            Action::NextColumn | Action::PrevColumn => &[Section::Quality, Section::Duplicates],
            Action::PickRecord
            | Action::DropMember
            | Action::Merge
            | Action::NotDuplicate
            | Action::Skip
            | Action::Unmerge => &[Section::Duplicates],
            Action::AuditFilter => &[Section::Audit],
            Action::NewTag
            | Action::RenameTag
            | Action::MergeTag
            | Action::DeleteTag
            | Action::DescribeTag
            | Action::ColourTag
            | Action::TagRule => &[Section::Tags],
            _ => &[],
        }
    }

    /// Whether the action only means something in a pane with its own
    /// key map table (see [`Action::sections`]).
    pub fn is_pane_only(self) -> bool {
        !self.sections().is_empty()
    }

    /// The action's name in key map files and the command palette.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Down => "down",
            Action::Up => "up",
            Action::PageDown => "page_down",
            Action::PageUp => "page_up",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Search => "search",
            Action::ToggleSelect => "toggle_select",
            Action::SelectAll => "select_all",
            Action::Tag => "tag",
            Action::Untag => "untag",
            Action::Clear => "clear",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::PaneCustomers => "pane_customers",
            Action::PaneTags => "pane_tags",
            Action::PaneDuplicates => "pane_duplicates",
            Action::PaneSegments => "pane_segments",
            Action::PaneQuality => "pane_quality",
            Action::ToggleMask => "toggle_mask",
            Action::Open => "open",
            Action::Trash => "trash_customer",
            Action::ShowTrash => "show_trash",
            Action::Restore => "restore",
            Action::Undo => "undo",
            Action::Redo => "redo",
            Action::Edit => "edit",
            Action::New => "new",
            Action::AddNote => "add_note",
            Action::Sort => "sort",
            Action::SortReverse => "sort_reverse",
            Action::Palette => "palette",
            Action::NextSegmentation => "next_segmentation",
            Action::PrevSegmentation => "prev_segmentation",
            Action::Movement => "movement",
            Action::Snapshot => "snapshot",
            Action::Recompute => "recompute",
            Action::SaveBaseline => "save_baseline",
            Action::StaleDays => "stale_days",
            Action::NextColumn => "next_column",
            Action::PrevColumn => "prev_column",
            Action::Audit => "audit",
            Action::AuditFilter => "audit_filter",
            Action::Erase => "erase",
            Action::PickRecord => "pick_record",
            Action::DropMember => "drop_member",
            Action::Merge => "merge",
            Action::NotDuplicate => "not_duplicate",
            Action::Skip => "skip",
            Action::Unmerge => "unmerge",
            Action::NewTag => "new_tag",
            Action::RenameTag => "rename_tag",
            Action::MergeTag => "merge_tag",
            Action::DeleteTag => "delete_tag",
            Action::DescribeTag => "describe_tag",
            Action::ColourTag => "colour_tag",
            Action::TagRule => "tag_rule",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two help columns fit in 80: a description cut with "…" explained
    /// nothing at 80x24.
    #[test]
    fn descriptions_fit_a_help_column_at_80_wide() {
        for a in Action::ALL {
            assert!(
                unicode_width::UnicodeWidthStr::width(a.describe()) <= 26,
                "{}: {:?}",
                a.name(),
                a.describe()
            );
        }
    }

    /// `name` is what serde reads and writes, so the palette and key map
    /// files agree; every action is in `ALL` once.
    #[test]
    fn names_match_serde_and_all_is_complete() {
        #[derive(serde::Deserialize)]
        struct One {
            a: Action,
        }
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a), "{a:?} twice in ALL");
            let one: One = toml::from_str(&format!("a = \"{}\"", a.name())).unwrap();
            assert_eq!(one.a, a);
            assert_eq!(
                toml::to_string(&std::collections::BTreeMap::from([("a", a)])).unwrap(),
                format!("a = \"{}\"\n", a.name())
            );
        }
        let old: One = toml::from_str("a = \"trash\"").unwrap();
        assert_eq!(
            old.a,
            Action::Trash,
            "key maps written before the rename still load"
        );
    }
}
