//! The tag picker (`t` adds a tag, `T` removes one, and the Tags pane's `m`
//! picks the tag to merge into): a line to type a tag name and the
//! existing tags that fuzzy-match it, best first. Enter picks
//! the highlighted tag; when adding, a name that does not exist yet is
//! offered last as a new tag (and is the only row when nothing matches).
//! Pure state: the app runs the store call.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use crate::model::CustomerId;

/// One tag the picker can offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickTag {
    pub name: String,
    /// Live customers carrying it.
    pub count: u64,
    /// Whether its members follow a rule (hand edits are refused).
    pub rule: bool,
}

/// A row of the picker's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// An existing tag (index into `tags`).
    Existing(usize),
    /// A tag that does not exist yet, named as typed.
    New(String),
}

/// The picker's state while open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPicker {
    /// Adding (`t`) or removing (`T`).
    pub add: bool,
    /// The customers the tag goes on (or comes off).
    pub targets: Vec<CustomerId>,
    /// What the targets are, for the title: "3 selected", "the whole result".
    pub what: String,
    /// The tags on offer, by name.
    pub tags: Vec<PickTag>,
    pub input: String,
    /// The highlighted row of `choices()`.
    pub cursor: usize,
    /// Why the last Enter was refused (the library's words).
    pub error: Option<String>,
    /// Picking the tag that this tag (name, customers carrying it) merges
    /// into, rather than tagging `targets`.
    pub merge_from: Option<(String, u64)>,
}

/// What a key did to the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickOutcome {
    Continue,
    Cancel,
    /// Add or remove this tag.
    Pick(String),
}

impl TagPicker {
    pub fn new(add: bool, targets: Vec<CustomerId>, what: String, tags: Vec<PickTag>) -> Self {
        TagPicker {
            add,
            targets,
            what,
            tags,
            input: String::new(),
            cursor: 0,
            error: None,
            merge_from: None,
        }
    }

    /// The picker of the tag `from` (carried by `count` customers) merges
    /// into: every other tag, or a new name (which renames it).
    pub fn merge(from: String, count: u64, tags: Vec<PickTag>) -> Self {
        let tags = tags.into_iter().filter(|t| t.name != from).collect();
        TagPicker {
            merge_from: Some((from, count)),
            ..TagPicker::new(true, Vec::new(), String::new(), tags)
        }
    }

    /// The rows on offer for what is typed: every tag when nothing is
    /// typed, else the fuzzy matches best first; when adding a name that
    /// is not a tag yet, that new tag last.
    pub fn choices(&self) -> Vec<Choice> {
        let typed = self.input.trim();
        let mut out: Vec<Choice> = if typed.is_empty() {
            (0..self.tags.len()).map(Choice::Existing).collect()
        } else {
            let matcher = SkimMatcherV2::default().ignore_case();
            let mut scored: Vec<(i64, usize)> = self
                .tags
                .iter()
                .enumerate()
                .filter_map(|(i, t)| matcher.fuzzy_match(&t.name, typed).map(|s| (s, i)))
                .collect();
            // Best score first; an exact name always on top.
            scored.sort_by_key(|(s, i)| {
                let exact = self.tags[*i].name.eq_ignore_ascii_case(typed);
                (!exact, -*s, *i)
            });
            scored
                .into_iter()
                .map(|(_, i)| Choice::Existing(i))
                .collect()
        };
        if self.add && !typed.is_empty() && !self.tags.iter().any(|t| t.name == typed) {
            out.push(Choice::New(typed.to_owned()));
        }
        out
    }

    /// The name Enter would pick.
    pub fn picked(&self) -> Option<String> {
        let choices = self.choices();
        match choices.get(self.cursor.min(choices.len().saturating_sub(1)))? {
            Choice::Existing(i) => Some(self.tags[*i].name.clone()),
            Choice::New(name) => Some(name.clone()),
        }
    }

    /// Handles a key: type, backspace, ctrl-u clears, up/down (ctrl-p,
    /// ctrl-n) move, tab completes the highlighted name, enter picks, esc
    /// closes.
    pub fn on_key(&mut self, key: KeyEvent) -> PickOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return PickOutcome::Cancel,
            KeyCode::Enter => match self.picked() {
                Some(name) => return PickOutcome::Pick(name),
                None => {
                    self.error = Some(if self.add {
                        "type a tag name".to_owned()
                    } else {
                        "no such tag on these customers".to_owned()
                    })
                }
            },
            KeyCode::Down => self.move_by(1),
            KeyCode::Up => self.move_by(-1),
            KeyCode::Char('n') if ctrl => self.move_by(1),
            KeyCode::Char('p') if ctrl => self.move_by(-1),
            KeyCode::Tab => {
                if let Some(name) = self.picked() {
                    self.input = name;
                    self.cursor = 0;
                    self.error = None;
                }
            }
            KeyCode::Backspace => {
                self.input.pop();
                self.cursor = 0;
                self.error = None;
            }
            KeyCode::Char('u') if ctrl => {
                self.input.clear();
                self.cursor = 0;
                self.error = None;
            }
            KeyCode::Char(c) if !ctrl => {
                self.input.push(c);
                self.cursor = 0;
                self.error = None;
            }
            _ => {}
        }
        PickOutcome::Continue
    }

    fn move_by(&mut self, delta: isize) {
        let last = self.choices().len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + delta).clamp(0, last.max(0)) as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str) -> PickTag {
        PickTag {
            name: name.to_owned(),
            count: 1,
            rule: false,
        }
    }

    fn typed(p: &mut TagPicker, s: &str) {
        for c in s.chars() {
            p.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn fuzzy_finds_existing_tags_and_offers_a_new_one() {
        let tags = vec![tag("interest/sports"), tag("vip"), tag("vip-gold")];
        let mut p = TagPicker::new(true, Vec::new(), String::new(), tags);
        assert_eq!(p.choices().len(), 3);
        typed(&mut p, "vip");
        assert_eq!(p.picked().as_deref(), Some("vip"), "exact name first");
        assert!(!p.choices().contains(&Choice::New("vip".into())));
        typed(&mut p, "x");
        assert_eq!(p.choices(), vec![Choice::New("vipx".into())]);
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(p.on_key(enter), PickOutcome::Pick("vipx".into()));
        let mut p = TagPicker::new(true, Vec::new(), String::new(), p.tags.clone());
        typed(&mut p, "isp");
        assert_eq!(p.picked().as_deref(), Some("interest/sports"));
        p.on_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        assert_eq!(p.picked().as_deref(), Some("isp"), "the new tag comes last");
        // Removing offers no new tag.
        let mut p = TagPicker::new(false, Vec::new(), String::new(), vec![tag("vip")]);
        typed(&mut p, "zzz");
        assert!(p.choices().is_empty());
        assert_eq!(p.on_key(enter), PickOutcome::Continue);
        assert!(p.error.is_some());
    }
}
