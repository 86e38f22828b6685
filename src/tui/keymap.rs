//! The key map is data: defaults in code, overridden per key by a TOML file
//! (`$XDG_CONFIG_HOME/rolo/keys.toml`), and the help overlay is generated
//! from it, so what the help says is what the keys do.
//!
//! ```toml
//! [keys]
//! "ctrl-n" = "down"
//! "x" = "quit"
//! ```

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

use super::action::Action;

/// Key names (as written in the TOML file) bound to actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    bindings: BTreeMap<String, Action>,
}

const DEFAULTS: [(&str, Action); 40] = [
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
];

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap {
            bindings: DEFAULTS
                .iter()
                .map(|(k, a)| ((*k).to_owned(), *a))
                .collect(),
        }
    }
}

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    keys: BTreeMap<String, Action>,
}

impl KeyMap {
    /// The defaults with the bindings of a TOML key map on top. An unknown
    /// key name or action is an error naming it.
    pub fn with_overrides(toml_text: &str) -> Result<KeyMap, String> {
        let file: File =
            toml::from_str(toml_text).map_err(|e| format!("key map: {}", e.message()))?;
        let mut map = KeyMap::default();
        for (key, action) in file.keys {
            if parse_key(&key).is_none() {
                return Err(format!(
                    "key map: unknown key '{key}' (examples: j, G, ctrl-r, pgdn, space, f5)"
                ));
            }
            map.bindings.insert(key, action);
        }
        Ok(map)
    }

    /// The action bound to a key event, if any.
    pub fn action(&self, key: KeyEvent) -> Option<Action> {
        self.bindings.get(&key_name(key)?).copied()
    }

    /// Every binding, grouped by action in help order: (keys, action).
    pub fn help(&self) -> Vec<(String, Action)> {
        Action::ALL
            .iter()
            .filter_map(|a| {
                let keys: Vec<&str> = self
                    .bindings
                    .iter()
                    .filter(|(_, b)| *b == a)
                    .map(|(k, _)| k.as_str())
                    .collect();
                (!keys.is_empty()).then(|| (keys.join(" "), *a))
            })
            .collect()
    }

    /// The shortest key bound to `action` (`j` rather than `down`), for
    /// hints.
    pub fn short_key_for(&self, action: Action) -> Option<&str> {
        self.bindings
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| k.as_str())
            .min_by_key(|k| k.chars().count())
    }

    /// The first key bound to `action`, for the footer.
    pub fn key_for(&self, action: Action) -> Option<&str> {
        self.bindings
            .iter()
            .find(|(_, a)| **a == action)
            .map(|(k, _)| k.as_str())
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
        for (name, _) in DEFAULTS {
            let ev = parse_key(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(key_name(ev).as_deref(), Some(name));
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
        // Its comment lists every action by name.
        for a in Action::ALL {
            assert!(
                text.split_whitespace().any(|w| w == a.name()),
                "keys.example.toml does not list {}",
                a.name()
            );
        }
    }

    #[test]
    fn help_lists_every_bound_action_once() {
        let help = KeyMap::default().help();
        assert_eq!(help.len(), Action::ALL.len());
        assert!(
            help.iter()
                .any(|(k, a)| k.contains('j') && *a == Action::Down)
        );
    }
}
