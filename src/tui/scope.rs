//! Where keys act. The list, the 360° view, the trash view, the audit log
//! and each pane answer a different set of actions; one
//! table here decides, so the key handler, the command palette and the
//! help overlay never disagree. A key that does not act where it is
//! pressed says so in the status bar rather than acting on something off
//! screen (on the Tags pane, `d` used to trash the hidden list's row; the
//! pane's own table now binds it to deleting the tag under the cursor,
//! after asking).

use super::action::Action;
use super::app::Pane;
use super::keymap::Section;

/// What the screen shows under any overlay, form or palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The Customers pane's list.
    List,
    /// The Tags pane: the tag tree.
    Tags,
    /// The Segments pane: a segmentation's table.
    Segments,
    /// The Segments pane's movement view (since a snapshot).
    Movement,
    /// The Quality pane: the report's figures.
    Quality,
    /// The audit log view (over any pane).
    Audit,
    /// The Duplicates pane: a cluster of probable duplicates under review.
    Duplicates,
    /// The Duplicates pane's list of merges (`U`), to take one back.
    Merges,
    /// A pane whose features have not landed yet.
    Placeholder(Pane),
    /// The 360° view of one customer.
    Detail,
    /// The trash view.
    Trash,
}

impl Scope {
    /// How the help title and the status bar name it.
    pub fn title(self) -> String {
        match self {
            Scope::List => "Customers list".to_owned(),
            Scope::Tags => "Tags pane".to_owned(),
            Scope::Segments => "Segments pane".to_owned(),
            Scope::Movement => "segment movement".to_owned(),
            Scope::Quality => "Quality pane".to_owned(),
            Scope::Audit => "audit log".to_owned(),
            Scope::Duplicates => "Duplicates pane".to_owned(),
            Scope::Merges => "merges".to_owned(),
            Scope::Placeholder(p) => format!("{} pane", p.title()),
            Scope::Detail => "360° view".to_owned(),
            Scope::Trash => "trash view".to_owned(),
        }
    }

    /// The key map table consulted first here, if any.
    pub fn section(self) -> Option<Section> {
        match self {
            Scope::Segments | Scope::Movement => Some(Section::Segments),
            Scope::Quality => Some(Section::Quality),
            Scope::Audit => Some(Section::Audit),
            Scope::Duplicates | Scope::Merges => Some(Section::Duplicates),
            Scope::Tags => Some(Section::Tags),
            _ => None,
        }
    }

    /// Whether `action` does something here.
    pub fn acts(self, action: Action) -> bool {
        use Action::*;
        let everywhere = matches!(
            action,
            Quit | Help | Palette | ToggleMask | Undo | Redo | Search | Audit
        );
        let own = |section| action.sections().contains(&section);
        let moves = matches!(action, Down | Up | PageDown | PageUp | Top | Bottom);
        let leaving = matches!(
            action,
            NextPane
                | PrevPane
                | PaneCustomers
                | PaneTags
                | PaneDuplicates
                | PaneSegments
                | PaneQuality
                | ShowTrash
        );
        everywhere
            || match self {
                Scope::List => !action.is_pane_only(),
                Scope::Segments => {
                    leaving
                        || own(Section::Segments)
                        || moves
                        || matches!(action, Open | Tag | Untag)
                }
                Scope::Movement => leaving || own(Section::Segments) || moves || action == Clear,
                Scope::Quality => leaving || own(Section::Quality) || moves || action == Open,
                Scope::Audit => own(Section::Audit) || moves || matches!(action, Open | Clear),
                Scope::Duplicates => leaving || own(Section::Duplicates) || moves || action == Open,
                Scope::Merges => leaving || moves || matches!(action, Open | Unmerge | Clear),
                Scope::Tags => leaving || own(Section::Tags) || moves || action == Open,
                Scope::Placeholder(_) => matches!(
                    action,
                    NextPane
                        | PrevPane
                        | PaneCustomers
                        | PaneTags
                        | PaneDuplicates
                        | PaneSegments
                        | PaneQuality
                        | ShowTrash
                ),
                Scope::Detail => {
                    matches!(
                        action,
                        Clear | Open | AddNote | Edit | Trash | Restore | Erase
                    )
                }
                Scope::Trash => matches!(
                    action,
                    Clear
                        | ShowTrash
                        | Down
                        | Up
                        | PageDown
                        | PageUp
                        | Top
                        | Bottom
                        | Open
                        | Restore
                        | AddNote
                        | Erase
                ),
            }
    }

    /// Whether `action` closes this view (the 360° view or the trash view).
    pub fn closes(self, action: Action) -> bool {
        match self {
            Scope::Detail => matches!(action, Action::Clear | Action::Open),
            Scope::Trash => matches!(action, Action::Clear | Action::ShowTrash),
            Scope::Movement => matches!(action, Action::Clear | Action::Movement),
            Scope::Audit => matches!(action, Action::Clear | Action::Audit),
            Scope::Merges => matches!(action, Action::Clear | Action::Unmerge),
            Scope::List
            | Scope::Tags
            | Scope::Segments
            | Scope::Quality
            | Scope::Duplicates
            | Scope::Placeholder(_) => false,
        }
    }

    /// What `action` does here, for the help overlay.
    pub fn describe(self, action: Action) -> &'static str {
        if self.closes(action) {
            return match self {
                Scope::Detail => "close the 360° view",
                Scope::Movement => "back to the segment table",
                Scope::Merges => "back to the clusters",
                Scope::Audit if action == Action::Clear => "close the event, or the log",
                Scope::Audit => "close the audit log",
                _ => "close the trash view",
            };
        }
        match (self, action) {
            (
                Scope::Placeholder(_)
                | Scope::Tags
                | Scope::Segments
                | Scope::Movement
                | Scope::Quality
                | Scope::Duplicates
                | Scope::Merges,
                Action::Search,
            ) => "search customers",
            (Scope::Audit, Action::Search) => "close it and search",
            (Scope::Segments, Action::Recompute) => "recompute the segments",
            (Scope::Quality, Action::Recompute) => "recompute the report",
            (Scope::Quality, Action::Open) => "its customers (Customers)",
            (Scope::Quality, Action::Down) => "next figure",
            (Scope::Quality, Action::Up) => "previous figure",
            (Scope::Quality, Action::NextColumn) => "next column of a field",
            (Scope::Quality, Action::PrevColumn) => "previous column of a field",
            (Scope::Audit, Action::Down) => "older event",
            (Scope::Audit, Action::Up) => "newer event",
            (Scope::Audit, Action::Open) => "show / hide its changes",
            (Scope::Segments, Action::Open) => "its customers (Customers)",
            (Scope::Segments, Action::Tag) => "tag the whole segment",
            (Scope::Segments, Action::Untag) => "untag the whole segment",
            (Scope::Segments, Action::Down) => "next segment",
            (Scope::Segments, Action::Up) => "previous segment",
            (Scope::Movement, Action::Down) => "older snapshot",
            (Scope::Movement, Action::Up) => "newer snapshot",
            (Scope::Movement, Action::Top) => "newest snapshot",
            (Scope::Movement, Action::Bottom) => "oldest snapshot",
            (Scope::Movement, Action::PageDown) => "scroll the moves down",
            (Scope::Movement, Action::PageUp) => "scroll the moves up",
            (Scope::Tags, Action::Open) => "its customers (Customers)",
            (Scope::Tags, Action::Down) => "next tag",
            (Scope::Tags, Action::Up) => "previous tag",
            (Scope::Duplicates, Action::Down) => "next field",
            (Scope::Duplicates, Action::Up) => "previous field",
            (Scope::Duplicates, Action::Top) => "first field",
            (Scope::Duplicates, Action::Bottom) => "last field",
            (Scope::Duplicates, Action::PageDown) => "next cluster",
            (Scope::Duplicates, Action::PageUp) => "previous cluster",
            (Scope::Duplicates, Action::NextColumn) => "next record's value",
            (Scope::Duplicates, Action::PrevColumn) => "previous record's value",
            (Scope::Duplicates, Action::Recompute) => "scan for duplicates again",
            (Scope::Duplicates, Action::Open) => "the record's 360° view",
            (Scope::Merges, Action::Down) => "older merge",
            (Scope::Merges, Action::Up) => "newer merge",
            (Scope::Merges, Action::Open) => "unmerge it",
            (Scope::Trash, Action::Search) => "close it and search",
            (Scope::Detail, Action::Search) => "close it and search",
            (Scope::Detail, Action::Trash) => "move it to the trash",
            (Scope::Detail | Scope::Trash, Action::Erase) => "erase its personal data",
            (Scope::Trash, Action::Open) => "open it in the 360° view",
            _ => action.describe(),
        }
    }

    /// The status line for `what` (a key or `:command`) that does not act
    /// here; short, so that it fits the status bar at 80 columns (the
    /// pane and the mode are already on it).
    pub fn refusal(self, what: &str, customers_key: &str, help_key: &str) -> String {
        match self {
            Scope::Placeholder(_) => {
                format!("{what}: not here yet; {customers_key} goes to Customers")
            }
            _ => format!("{what} does nothing here; {help_key} lists the keys"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys that touch a customer act only where the customer is on
    /// screen; leaving, help and undo work everywhere.
    #[test]
    fn customer_actions_need_the_customer_on_screen() {
        for pane in [Pane::Duplicates] {
            let s = Scope::Placeholder(pane);
            for a in [
                Action::Trash,
                Action::Edit,
                Action::AddNote,
                Action::Open,
                Action::Down,
                Action::ToggleSelect,
                Action::SelectAll,
                Action::Sort,
            ] {
                assert!(!s.acts(a), "{a:?} acts on the hidden list of {pane:?}");
            }
            assert!(s.acts(Action::PaneCustomers) && s.acts(Action::Undo));
        }
        for s in [Scope::List, Scope::Detail, Scope::Trash] {
            for a in [Action::Quit, Action::Help, Action::Search, Action::Undo] {
                assert!(s.acts(a), "{a:?} in {s:?}");
            }
        }
        for a in [
            Action::Edit,
            Action::AddNote,
            Action::ToggleSelect,
            Action::Tag,
            Action::Sort,
        ] {
            assert!(!Scope::Tags.acts(a), "{a:?} acts on the hidden list");
        }
        assert!(
            !Scope::Tags.acts(Action::Trash),
            "d deletes the tag there, not a customer"
        );
        for a in [
            Action::Open,
            Action::NewTag,
            Action::RenameTag,
            Action::MergeTag,
            Action::DeleteTag,
            Action::DescribeTag,
            Action::ColourTag,
            Action::TagRule,
        ] {
            assert!(Scope::Tags.acts(a), "{a:?}");
            assert_eq!(Scope::List.acts(a), a == Action::Open, "{a:?}");
        }
        assert_eq!(Scope::Tags.section(), Some(Section::Tags));
        assert!(!Scope::Detail.acts(Action::Down));
        assert!(!Scope::Trash.acts(Action::Trash));
        assert!(Scope::Detail.closes(Action::Clear) && Scope::Trash.closes(Action::ShowTrash));
        assert!(
            Action::ALL
                .iter()
                .all(|a| Scope::List.acts(*a) != a.is_pane_only())
        );
    }

    /// The Segments pane acts on its rows (Enter, `t`) and its own keys;
    /// a customer's keys and the list's do nothing there. The movement
    /// view has no customers to open or tag; Esc or `m` goes back.
    #[test]
    fn segments_keys_act_only_in_the_segments_pane() {
        for a in [Action::Open, Action::Tag, Action::Recompute, Action::Down] {
            assert!(Scope::Segments.acts(a), "{a:?}");
        }
        for a in [
            Action::Trash,
            Action::Edit,
            Action::ToggleSelect,
            Action::Sort,
            Action::Restore,
            Action::Clear,
        ] {
            assert!(!Scope::Segments.acts(a), "{a:?}");
        }
        assert!(!Scope::Movement.acts(Action::Open) && !Scope::Movement.acts(Action::Tag));
        assert!(Scope::Movement.closes(Action::Clear) && Scope::Movement.closes(Action::Movement));
        assert!(!Scope::Segments.closes(Action::Movement));
        for s in [
            Scope::Tags,
            Scope::Detail,
            Scope::Trash,
            Scope::Quality,
            Scope::Audit,
            Scope::Placeholder(Pane::Duplicates),
        ] {
            assert!(!s.acts(Action::Snapshot) && !s.acts(Action::NextSegmentation));
        }
        assert_eq!(Scope::Movement.section(), Some(Section::Segments));
        assert_eq!(Scope::List.section(), None);
    }

    /// The Quality pane acts on its figures and its own keys (recompute
    /// shared with Segments); the audit log on its events; erasing only
    /// where one customer is on screen.
    #[test]
    fn quality_audit_and_erase_act_where_they_belong() {
        for a in [
            Action::Open,
            Action::Down,
            Action::Recompute,
            Action::SaveBaseline,
            Action::StaleDays,
            Action::NextColumn,
            Action::Audit,
            Action::PaneCustomers,
        ] {
            assert!(Scope::Quality.acts(a), "{a:?}");
        }
        for a in [
            Action::Trash,
            Action::Edit,
            Action::Erase,
            Action::Tag,
            Action::Snapshot,
            Action::AuditFilter,
            Action::Clear,
        ] {
            assert!(!Scope::Quality.acts(a), "{a:?}");
        }
        for a in [
            Action::AuditFilter,
            Action::Open,
            Action::Down,
            Action::Clear,
        ] {
            assert!(Scope::Audit.acts(a), "{a:?}");
        }
        for a in [
            Action::Erase,
            Action::Trash,
            Action::PaneQuality,
            Action::Recompute,
        ] {
            assert!(!Scope::Audit.acts(a), "{a:?}");
        }
        assert!(Scope::Audit.closes(Action::Clear) && Scope::Audit.closes(Action::Audit));
        for s in [Scope::List, Scope::Detail, Scope::Trash] {
            assert!(s.acts(Action::Erase), "{s:?}");
        }
        for s in [Scope::Tags, Scope::Segments, Scope::Quality, Scope::Audit] {
            assert!(!s.acts(Action::Erase), "{s:?}");
        }
        assert!(
            Scope::Segments.acts(Action::Recompute) && !Scope::Segments.acts(Action::SaveBaseline)
        );
        assert_eq!(Scope::Quality.section(), Some(Section::Quality));
        assert_eq!(Scope::Audit.section(), Some(Section::Audit));
    }

    /// The Duplicates pane acts on its cluster (its own keys, moving,
    /// Enter for a record's 360° view), never on the hidden list; its list
    /// of merges unmerges with Enter and goes back with Esc or `U`.
    #[test]
    fn duplicates_keys_act_on_the_cluster_and_the_merges() {
        for a in [
            Action::Merge,
            Action::NotDuplicate,
            Action::Skip,
            Action::Unmerge,
            Action::PickRecord,
            Action::DropMember,
            Action::NextColumn,
            Action::Recompute,
            Action::Down,
            Action::Open,
            Action::NextPane,
        ] {
            assert!(Scope::Duplicates.acts(a), "{a:?}");
        }
        for a in [
            Action::Trash,
            Action::Edit,
            Action::ToggleSelect,
            Action::Tag,
            Action::Sort,
            Action::Restore,
            Action::Erase,
            Action::Snapshot,
            Action::SaveBaseline,
        ] {
            assert!(!Scope::Duplicates.acts(a), "{a:?}");
        }
        for s in [Scope::List, Scope::Segments, Scope::Quality, Scope::Tags] {
            assert!(
                !s.acts(Action::Merge) && !s.acts(Action::PickRecord),
                "{s:?}"
            );
        }
        assert!(Scope::Merges.acts(Action::Open) && !Scope::Merges.acts(Action::Merge));
        assert!(Scope::Merges.closes(Action::Clear) && Scope::Merges.closes(Action::Unmerge));
        assert!(!Scope::Duplicates.closes(Action::Unmerge));
        assert_eq!(Scope::Merges.section(), Some(Section::Duplicates));
    }
}
