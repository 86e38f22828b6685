//! The key map is data: defaults in code, overridden per key by a TOML file
//! (`$XDG_CONFIG_HOME/rolo/keys.toml`), and the help overlay is generated
//! from it, so what the help says is what the keys do.
//!
//! `[keys]` binds keys everywhere. A pane whose keys mean something else
//! there has its own table, consulted first while it is shown: in the
//! Segments pane `r` recomputes and `S` takes a snapshot, in the Quality
//! pane `S` saves the baseline and `a` opens the audit log, while elsewhere
//! they restore, reverse the sort and add a note (DESIGN.md §7 gives the
//! Duplicates pane its own `m`, `h` and `l` the same way: there `1`..`9`
//! take a record's value, so Tab and Shift-Tab leave it). The audit log
//! view has its own table too (`f` filters), and so has the Tags pane (`n`
//! creates a tag, `d` deletes one, `r` edits its rule, `m` merges).
//!
//! ```toml
//! [keys]
//! "ctrl-n" = "down"
//! "x" = "quit"
//!
//! [segments]
//! "f5" = "recompute"
//!
//! [quality]
//! "f5" = "recompute"
//!
//! [audit]
//! "/" = "audit_filter"
//!
//! [duplicates]
//! "M" = "merge"
//! [tags]
//! "f2" = "rename_tag"
//! ```

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

use super::action::Action;

/// Key names (as written in the TOML file) bound to actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    bindings: BTreeMap<String, Action>,
    /// The panes' own tables, by [`Section::index`], before `bindings`.
    sections: [BTreeMap<String, Action>; Section::ALL.len()],
}

/// A pane with its own table of keys (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `[segments]`: the Segments pane and its movement view.
    Segments,
    /// `[quality]`: the Quality pane.
    Quality,
    /// `[audit]`: the audit log view.
    Audit,
    /// `[duplicates]`: the Duplicates pane and its list of merges.
    Duplicates,
    /// `[tags]`: the Tags pane.
    Tags,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Segments,
        Section::Quality,
        Section::Audit,
        Section::Duplicates,
        Section::Tags,
    ];

    fn index(self) -> usize {
        match self {
            Section::Segments => 0,
            Section::Quality => 1,
            Section::Audit => 2,
            Section::Duplicates => 3,
            Section::Tags => 4,
        }
    }

    /// The pane's name as the screen shows it.
    pub fn title(self) -> &'static str {
        match self {
            Section::Segments => "Segments",
            Section::Quality => "Quality",
            Section::Audit => "audit log",
            Section::Duplicates => "Duplicates",
            Section::Tags => "Tags",
        }
    }

    /// The table's name in key map files.
    pub fn name(self) -> &'static str {
        match self {
            Section::Segments => "segments",
            Section::Quality => "quality",
            Section::Audit => "audit",
            Section::Duplicates => "duplicates",
            Section::Tags => "tags",
        }
    }
}

const DEFAULTS: [(&str, Action); 42] = [
    ("q", Action::Quit),
    ("?", Action::Help),
    ("j", Action::Down),
    ("down", Action::Down),
    ("k", Action::Up),
    ("up", Action::Up),
    ("pgdn", Action::PageDown),
    ("ctrl-d", Action::PageDown),
    ("pgup", Action::PageUp),
    ("ctrl-u", Action::PageUp),
    ("g", Action::Top),
    ("home", Action::Top),
    ("G", Action::Bottom),
    ("end", Action::Bottom),
    ("/", Action::Search),
    ("space", Action::ToggleSelect),
    ("*", Action::SelectAll),
    ("t", Action::Tag),
    ("T", Action::Untag),
    ("esc", Action::Clear),
    ("tab", Action::NextPane),
    ("backtab", Action::PrevPane),
    ("1", Action::PaneCustomers),
    ("2", Action::PaneTags),
    ("3", Action::PaneDuplicates),
    ("4", Action::PaneSegments),
    ("5", Action::PaneQuality),
    ("M", Action::ToggleMask),
    ("enter", Action::Open),
    ("d", Action::Trash),
    ("e", Action::Edit),
    ("n", Action::New),
    ("u", Action::Undo),
    ("ctrl-r", Action::Redo),
    ("a", Action::AddNote),
    ("D", Action::ShowTrash),
    ("r", Action::Restore),
    ("s", Action::Sort),
    ("S", Action::SortReverse),
    (":", Action::Palette),
    ("A", Action::Audit),
    ("X", Action::Erase),
];

/// The Segments pane's own keys (`[segments]`).
const SEGMENTS_DEFAULTS: [(&str, Action); 9] = [
    ("b", Action::NextSegmentation),
    ("l", Action::NextSegmentation),
    ("right", Action::NextSegmentation),
    ("B", Action::PrevSegmentation),
    ("h", Action::PrevSegmentation),
    ("left", Action::PrevSegmentation),
    ("m", Action::Movement),
    ("S", Action::Snapshot),
    ("r", Action::Recompute),
];

/// The Quality pane's own keys (`[quality]`).
const QUALITY_DEFAULTS: [(&str, Action); 8] = [
    ("l", Action::NextColumn),
    ("right", Action::NextColumn),
    ("h", Action::PrevColumn),
    ("left", Action::PrevColumn),
    ("S", Action::SaveBaseline),
    ("s", Action::StaleDays),
    ("r", Action::Recompute),
    ("a", Action::Audit),
];

/// The audit log view's own keys (`[audit]`).
const AUDIT_DEFAULTS: [(&str, Action); 1] = [("f", Action::AuditFilter)];

/// The Duplicates pane's own keys (`[duplicates]`): DESIGN.md §7's `m`,
/// `x`, `U` and h/l, and the issue's number keys (which shadow the pane
/// keys there: Tab and Shift-Tab leave).
const DUPLICATES_DEFAULTS: [(&str, Action); 20] = [
    ("1", Action::PickRecord),
    ("2", Action::PickRecord),
    ("3", Action::PickRecord),
    ("4", Action::PickRecord),
    ("5", Action::PickRecord),
    ("6", Action::PickRecord),
    ("7", Action::PickRecord),
    ("8", Action::PickRecord),
    ("9", Action::PickRecord),
    ("l", Action::NextColumn),
    ("right", Action::NextColumn),
    ("h", Action::PrevColumn),
    ("left", Action::PrevColumn),
    ("-", Action::DropMember),
    ("m", Action::Merge),
    ("x", Action::NotDuplicate),
    ("s", Action::Skip),
    ("U", Action::Unmerge),
    ("r", Action::Recompute),
    ("o", Action::Open),
];

/// The Tags pane's own keys (`[tags]`).
const TAGS_DEFAULTS: [(&str, Action); 8] = [
    ("n", Action::NewTag),
    ("R", Action::RenameTag),
    ("e", Action::RenameTag),
    ("m", Action::MergeTag),
    ("d", Action::DeleteTag),
    ("c", Action::DescribeTag),
    ("C", Action::ColourTag),
    ("r", Action::TagRule),
];

fn table(pairs: &[(&str, Action)]) -> BTreeMap<String, Action> {
    pairs.iter().map(|(k, a)| ((*k).to_owned(), *a)).collect()
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap {
            bindings: table(&DEFAULTS),
            sections: [
                table(&SEGMENTS_DEFAULTS),
                table(&QUALITY_DEFAULTS),
                table(&AUDIT_DEFAULTS),
                table(&DUPLICATES_DEFAULTS),
                table(&TAGS_DEFAULTS),
            ],
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keys: BTreeMap<String, Action>,
    #[serde(default)]
    segments: BTreeMap<String, Action>,
    #[serde(default)]
    quality: BTreeMap<String, Action>,
    #[serde(default)]
    audit: BTreeMap<String, Action>,
    #[serde(default)]
    duplicates: BTreeMap<String, Action>,
    #[serde(default)]
    tags: BTreeMap<String, Action>,
}

impl KeyMap {
    /// The defaults with the bindings of a TOML key map on top. An unknown
    /// key name or action is an error naming it.
    pub fn with_overrides(toml_text: &str) -> Result<KeyMap, String> {
        let file: File =
            toml::from_str(toml_text).map_err(|e| format!("key map: {}", e.message()))?;
        let mut map = KeyMap::default();
        let tables = [
            (file.keys, None),
            (file.segments, Some(Section::Segments)),
            (file.quality, Some(Section::Quality)),
            (file.audit, Some(Section::Audit)),
            (file.duplicates, Some(Section::Duplicates)),
            (file.tags, Some(Section::Tags)),
        ];
        for (table, section) in tables {
            for (key, action) in table {
                if parse_key(&key).is_none() {
                    return Err(format!(
                        "key map: unknown key '{key}' (examples: j, G, ctrl-r, pgdn, space, f5)"
                    ));
                }
                match section {
                    None => map.bindings.insert(key, action),
                    Some(s) => map.sections[s.index()].insert(key, action),
                };
            }
        }
        Ok(map)
    }

    fn table(&self, section: Section) -> &BTreeMap<String, Action> {
        &self.sections[section.index()]
    }

    /// The action bound to a key event everywhere (`[keys]`), if any.
    pub fn action(&self, key: KeyEvent) -> Option<Action> {
        self.action_in(key, None)
    }

    /// The action bound to a key event where `section`'s pane is shown:
    /// its own table first, then `[keys]`.
    pub fn action_in(&self, key: KeyEvent, section: Option<Section>) -> Option<Action> {
        let name = key_name(key)?;
        section
            .and_then(|s| self.table(s).get(&name))
            .or_else(|| self.bindings.get(&name))
            .copied()
    }

    /// The keys that reach each action where `section`'s pane is shown (its
    /// table, then the `[keys]` it does not shadow), grouped by action in
    /// help order: (keys, action).
    fn reaching(&self, section: Option<Section>) -> Vec<(&str, Action)> {
        let own = section.map(|s| self.table(s));
        let mut out: Vec<(&str, Action)> = own
            .into_iter()
            .flatten()
            .map(|(k, a)| (k.as_str(), *a))
            .collect();
        out.extend(
            self.bindings
                .iter()
                .filter(|(k, _)| !own.is_some_and(|t| t.contains_key(*k)))
                .map(|(k, a)| (k.as_str(), *a)),
        );
        out
    }

    /// Every `[keys]` binding, grouped by action in help order: (keys, action).
    pub fn help(&self) -> Vec<(String, Action)> {
        self.help_in(None)
    }

    /// Every key that acts where `section`'s pane is shown, grouped by
    /// action in help order: (keys, action).
    pub fn help_in(&self, section: Option<Section>) -> Vec<(String, Action)> {
        let reaching = self.reaching(section);
        Action::ALL
            .iter()
            .filter_map(|a| {
                let mut keys: Vec<&str> = reaching
                    .iter()
                    .filter(|(_, b)| b == a)
                    .map(|(k, _)| *k)
                    .collect();
                keys.sort_unstable();
                (!keys.is_empty()).then(|| (keys.join(" "), *a))
            })
            .collect()
    }

    /// The shortest key bound to `action` (`j` rather than `down`), for
    /// hints.
    pub fn short_key_for(&self, action: Action) -> Option<&str> {
        self.short_key_in(action, None)
    }

    /// The shortest key that reaches `action` where `section`'s pane is shown.
    pub fn short_key_in(&self, action: Action, section: Option<Section>) -> Option<&str> {
        self.reaching(section.or_else(|| Self::home(action)))
            .into_iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| k)
            .min_by_key(|k| (k.chars().count(), *k))
    }

    /// The first key bound to `action`, for the footer (a pane's own
    /// action: its first key there).
    pub fn key_for(&self, action: Action) -> Option<&str> {
        self.key_in(action, None)
    }

    /// The first key that reaches `action` where `section`'s pane is shown.
    pub fn key_in(&self, action: Action, section: Option<Section>) -> Option<&str> {
        let mut keys: Vec<&str> = self
            .reaching(section.or_else(|| Self::home(action)))
            .into_iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| k)
            .collect();
        keys.sort_unstable();
        keys.first().copied()
    }

    /// The pane whose table binds `action` by default (the first, for an
    /// action of several panes).
    fn home(action: Action) -> Option<Section> {
        action.sections().first().copied()
    }
}

/// The name of a key event as the key map writes it.
pub fn key_name(key: KeyEvent) -> Option<String> {
    let base = match key.code {
        KeyCode::Char(' ') => "space".to_owned(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Down => "down".into(),
        KeyCode::Up => "up".into(),
        KeyCode::Left => "left".into(),
        KeyCode::Right => "right".into(),
        KeyCode::PageDown => "pgdn".into(),
        KeyCode::PageUp => "pgup".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "backtab".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::F(n) => format!("f{n}"),
        _ => return None,
    };
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        Some(format!("ctrl-{base}"))
    } else if key.modifiers.contains(KeyModifiers::ALT) {
        Some(format!("alt-{base}"))
    } else {
        Some(base)
    }
}

/// Parses a key name back into an event (used to validate key map files).
pub fn parse_key(name: &str) -> Option<KeyEvent> {
    let (mods, base) = if let Some(rest) = name.strip_prefix("ctrl-") {
        (KeyModifiers::CONTROL, rest)
    } else if let Some(rest) = name.strip_prefix("alt-") {
        (KeyModifiers::ALT, rest)
    } else {
        (KeyModifiers::NONE, name)
    };
    let code = match base {
        "space" => KeyCode::Char(' '),
        "down" => KeyCode::Down,
        "up" => KeyCode::Up,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pgdn" => KeyCode::PageDown,
        "pgup" => KeyCode::PageUp,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        f if f.len() > 1 && f.starts_with('f') => KeyCode::F(f[1..].parse().ok()?),
        c if c.chars().count() == 1 => KeyCode::Char(c.chars().next()?),
        _ => return None,
    };
    let event = KeyEvent::new(code, mods);
    (key_name(event).as_deref() == Some(name)).then_some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_key_name_parses_and_round_trips() {
        for (name, _) in DEFAULTS
            .iter()
            .chain(&SEGMENTS_DEFAULTS)
            .chain(&QUALITY_DEFAULTS)
            .chain(&AUDIT_DEFAULTS)
            .chain(&DUPLICATES_DEFAULTS)
            .chain(&TAGS_DEFAULTS)
        {
            let ev = parse_key(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(key_name(ev).as_deref(), Some(*name));
        }
    }

    #[test]
    fn overrides_replace_per_key() {
        let map =
            KeyMap::with_overrides("[keys]\n\"ctrl-n\" = \"down\"\n\"q\" = \"help\"\n").unwrap();
        assert_eq!(
            map.action(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        assert_eq!(
            map.action(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert!(
            KeyMap::with_overrides("[keys]\n\"hyper-x\" = \"down\"\n")
                .unwrap_err()
                .contains("hyper-x")
        );
        assert!(KeyMap::with_overrides("[keys]\n\"x\" = \"fly\"\n").is_err());
        assert!(
            KeyMap::with_overrides("[segment]\n\"x\" = \"recompute\"\n").is_err(),
            "a misspelt table is named, not ignored"
        );
    }

    /// The Segments pane's table comes first there and nowhere else, and
    /// is rebound like `[keys]`.
    #[test]
    fn the_segments_table_shadows_keys_only_in_its_pane() {
        let k = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let seg = Some(Section::Segments);
        let map = KeyMap::default();
        assert_eq!(map.action(k('r')), Some(Action::Restore));
        assert_eq!(map.action_in(k('r'), seg), Some(Action::Recompute));
        assert_eq!(map.action_in(k('S'), seg), Some(Action::Snapshot));
        assert_eq!(map.action_in(k('j'), seg), Some(Action::Down));
        assert_eq!(map.action(k('b')), None);
        let help = map.help_in(seg);
        assert!(help.contains(&("r".to_owned(), Action::Recompute)));
        assert!(
            !help.iter().any(|(_, a)| *a == Action::Restore),
            "r restores elsewhere, not here"
        );
        assert_eq!(map.key_for(Action::Snapshot), Some("S"));
        assert_eq!(map.short_key_for(Action::NextSegmentation), Some("b"));
        let map = KeyMap::with_overrides("[segments]\n\"f5\" = \"recompute\"\n\"r\" = \"down\"\n")
            .unwrap();
        assert_eq!(
            map.action_in(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE), seg),
            Some(Action::Recompute)
        );
        assert_eq!(map.action_in(k('r'), seg), Some(Action::Down));
        assert_eq!(map.action(k('r')), Some(Action::Restore));
        assert_eq!(map.key_for(Action::Recompute), Some("f5"));
    }

    /// The shipped example key map must stay valid (a stale example fails here).
    #[test]
    fn shipped_example_key_map_parses() {
        let text = include_str!("../../docs/keys.example.toml");
        let map = KeyMap::with_overrides(text).unwrap();
        assert_eq!(
            map.action(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action_in(
                KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE),
                Some(Section::Segments)
            ),
            Some(Action::Recompute)
        );
        // Its comment lists every action by name.
        for a in Action::ALL {
            assert!(
                text.split_whitespace().any(|w| w == a.name()),
                "keys.example.toml does not list {}",
                a.name()
            );
        }
    }

    /// The Quality pane's and the audit view's tables work like
    /// `[segments]`: first there, nowhere else, rebound per key.
    #[test]
    fn the_quality_and_audit_tables_shadow_keys_only_there() {
        let k = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let q = Some(Section::Quality);
        let map = KeyMap::default();
        assert_eq!(map.action_in(k('S'), q), Some(Action::SaveBaseline));
        assert_eq!(map.action_in(k('r'), q), Some(Action::Recompute));
        assert_eq!(map.action_in(k('a'), q), Some(Action::Audit));
        assert_eq!(map.action_in(k('s'), q), Some(Action::StaleDays));
        assert_eq!(map.action(k('a')), Some(Action::AddNote));
        assert_eq!(map.action(k('A')), Some(Action::Audit));
        assert_eq!(map.action(k('X')), Some(Action::Erase));
        assert_eq!(
            map.action_in(k('f'), Some(Section::Audit)),
            Some(Action::AuditFilter)
        );
        assert_eq!(map.action(k('f')), None);
        assert_eq!(map.key_in(Action::Recompute, q), Some("r"));
        assert_eq!(map.key_for(Action::SaveBaseline), Some("S"));
        let map = KeyMap::with_overrides(
            "[quality]\n\"b\" = \"save_baseline\"\n[audit]\n\"/\" = \"audit_filter\"\n",
        )
        .unwrap();
        assert_eq!(map.action_in(k('b'), q), Some(Action::SaveBaseline));
        assert_eq!(map.action_in(k('S'), q), Some(Action::SaveBaseline));
        assert_eq!(map.key_for(Action::SaveBaseline), Some("S"));
        assert_eq!(
            map.action_in(k('/'), Some(Section::Audit)),
            Some(Action::AuditFilter)
        );
        assert_eq!(map.action(k('/')), Some(Action::Search));
        assert!(
            map.help_in(q)
                .contains(&("S b".to_owned(), Action::SaveBaseline))
        );
    }

    /// In the Duplicates pane the number keys pick a record's value (they
    /// switch panes elsewhere), so its help offers Tab to leave instead.
    #[test]
    fn the_duplicates_table_takes_the_number_keys_there_only() {
        let k = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let dup = Some(Section::Duplicates);
        let map = KeyMap::default();
        for c in ['1', '3', '9'] {
            assert_eq!(map.action_in(k(c), dup), Some(Action::PickRecord));
        }
        assert_eq!(map.action(k('1')), Some(Action::PaneCustomers));
        assert_eq!(map.action_in(k('m'), dup), Some(Action::Merge));
        assert_eq!(map.action_in(k('x'), dup), Some(Action::NotDuplicate));
        assert_eq!(map.action_in(k('s'), dup), Some(Action::Skip));
        assert_eq!(map.action(k('s')), Some(Action::Sort));
        assert_eq!(map.action_in(k('U'), dup), Some(Action::Unmerge));
        assert_eq!(map.action_in(k('-'), dup), Some(Action::DropMember));
        assert_eq!(map.action_in(k('r'), dup), Some(Action::Recompute));
        assert_eq!(map.action_in(k('l'), dup), Some(Action::NextColumn));
        let help = map.help_in(dup);
        assert!(help.contains(&("1 2 3 4 5 6 7 8 9".to_owned(), Action::PickRecord)));
        assert!(help.contains(&("enter o".to_owned(), Action::Open)));
        assert!(!help.iter().any(|(_, a)| *a == Action::PaneCustomers));
        assert!(help.iter().any(|(_, a)| *a == Action::NextPane));
        let map = KeyMap::with_overrides("[duplicates]\n\"M\" = \"merge\"\n").unwrap();
        assert_eq!(map.action_in(k('M'), dup), Some(Action::Merge));
        assert_eq!(map.action(k('M')), Some(Action::ToggleMask));
        assert_eq!(map.key_for(Action::Merge), Some("M"));
    }

    /// The Tags pane's table: its keys act there, elsewhere `n`, `d`, `e`
    /// and `r` keep their meaning, and `[tags]` rebinds them.
    #[test]
    fn the_tags_table_shadows_keys_only_in_the_tags_pane() {
        let k = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let tags = Some(Section::Tags);
        let map = KeyMap::default();
        for (c, a) in [
            ('n', Action::NewTag),
            ('R', Action::RenameTag),
            ('e', Action::RenameTag),
            ('m', Action::MergeTag),
            ('d', Action::DeleteTag),
            ('c', Action::DescribeTag),
            ('C', Action::ColourTag),
            ('r', Action::TagRule),
        ] {
            assert_eq!(map.action_in(k(c), tags), Some(a), "{c}");
        }
        assert_eq!(map.action(k('n')), Some(Action::New));
        assert_eq!(map.action(k('d')), Some(Action::Trash));
        assert_eq!(map.action(k('m')), None);
        assert_eq!(map.key_for(Action::RenameTag), Some("R"));
        assert_eq!(map.key_for(Action::TagRule), Some("r"));
        let map = KeyMap::with_overrides("[tags]\n\"f2\" = \"rename_tag\"\n").unwrap();
        assert_eq!(
            map.action_in(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE), tags),
            Some(Action::RenameTag)
        );
        assert_eq!(
            map.action(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn help_lists_every_bound_action_once() {
        let map = KeyMap::default();
        let help = map.help();
        let panes: Vec<(String, Action)> = Section::ALL
            .iter()
            .flat_map(|s| map.help_in(Some(*s)))
            .collect();
        for a in Action::ALL {
            let n = help.iter().chain(&panes).filter(|(_, b)| *b == a).count();
            assert!(n >= 1, "{a:?} has no key");
            assert!(help.iter().filter(|(_, b)| *b == a).count() <= 1);
        }
        assert!(
            panes
                .iter()
                .all(|(_, a)| !a.is_pane_only() || !help.iter().any(|(_, b)| b == a))
        );
        assert!(
            help.iter()
                .any(|(k, a)| k.contains('j') && *a == Action::Down)
        );
    }
}
