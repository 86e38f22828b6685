//! The add-a-note form (`a`): the kind of interaction, its text and an
//! optional satisfaction score, checked with the importer's rules (the
//! text cleaned the same way, the score a whole number from 1 to 5).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::form::FormOutcome;
use crate::ingest::normalize::clean_text;
use crate::model::{CustomerId, NoteKind};

/// The longest note text the form accepts, in characters.
pub const MAX_TEXT: usize = 2000;

/// The form's lines, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteField {
    Kind,
    Text,
    Satisfaction,
}

impl NoteField {
    pub const ALL: [NoteField; 3] = [NoteField::Kind, NoteField::Text, NoteField::Satisfaction];

    pub fn label(self) -> &'static str {
        match self {
            NoteField::Kind => "kind",
            NoteField::Text => "text",
            NoteField::Satisfaction => "satisfaction",
        }
    }
}

/// What a valid form adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteDraft {
    pub kind: NoteKind,
    pub text: String,
    pub satisfaction: Option<u8>,
}

/// The form's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteForm {
    pub customer: CustomerId,
    /// The customer's name, for the title.
    pub name: String,
    pub kind: NoteKind,
    pub text: String,
    pub satisfaction: String,
    pub cursor: usize,
    /// Why the last submit was refused.
    pub error: Option<String>,
}

impl NoteForm {
    /// An empty note for `customer`: a call, no text, no score.
    pub fn new(customer: CustomerId, name: &str) -> NoteForm {
        NoteForm {
            customer,
            name: name.to_owned(),
            kind: NoteKind::Call,
            text: String::new(),
            satisfaction: String::new(),
            cursor: 1,
            error: None,
        }
    }

    /// The line the cursor is on.
    pub fn field(&self) -> NoteField {
        NoteField::ALL[self.cursor % NoteField::ALL.len()]
    }

    fn step_kind(&mut self, forward: bool) {
        let n = NoteKind::ALL.len();
        let i = NoteKind::ALL
            .iter()
            .position(|k| *k == self.kind)
            .unwrap_or(0);
        self.kind = NoteKind::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    /// Handles a key: move between lines, pick the kind (left/right, space,
    /// or its first letter), edit the text or score, submit or cancel.
    pub fn on_key(&mut self, key: KeyEvent) -> FormOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let n = NoteField::ALL.len();
        if key.code != KeyCode::Enter {
            // The reason of a refused save goes once the user acts on it.
            self.error = None;
        }
        match (self.field(), key.code) {
            (_, KeyCode::Esc) => return FormOutcome::Cancel,
            (_, KeyCode::Enter) => return FormOutcome::Submit,
            (_, KeyCode::Down | KeyCode::Tab) => self.cursor = (self.cursor + 1) % n,
            (_, KeyCode::Up | KeyCode::BackTab) => self.cursor = (self.cursor + n - 1) % n,
            (NoteField::Kind, KeyCode::Right | KeyCode::Char(' ')) => self.step_kind(true),
            (NoteField::Kind, KeyCode::Left) => self.step_kind(false),
            (NoteField::Kind, KeyCode::Char(c)) if !ctrl => {
                // The next kind starting with that letter (c: call, complaint).
                let c = c.to_ascii_lowercase();
                let start = NoteKind::ALL
                    .iter()
                    .position(|k| *k == self.kind)
                    .unwrap_or(0);
                if let Some(k) = (1..=NoteKind::ALL.len())
                    .map(|d| NoteKind::ALL[(start + d) % NoteKind::ALL.len()])
                    .find(|k| k.as_str().starts_with(c))
                {
                    self.kind = k;
                }
            }
            (field, KeyCode::Backspace) => {
                if let Some(s) = self.value_mut(field) {
                    s.pop();
                }
            }
            (field, KeyCode::Char('u')) if ctrl => {
                if let Some(s) = self.value_mut(field) {
                    s.clear();
                }
            }
            (field, KeyCode::Char(c)) if !ctrl => {
                if let Some(s) = self.value_mut(field) {
                    s.push(c);
                }
            }
            _ => {}
        }
        FormOutcome::Continue
    }

    fn value_mut(&mut self, field: NoteField) -> Option<&mut String> {
        match field {
            NoteField::Kind => None,
            NoteField::Text => Some(&mut self.text),
            NoteField::Satisfaction => Some(&mut self.satisfaction),
        }
    }

    /// The note the form describes, or why it cannot be added.
    pub fn draft(&self) -> Result<NoteDraft, String> {
        let text = clean_text(&self.text);
        if text.is_empty() {
            return Err("the note needs a text: what was said or done".to_owned());
        }
        let chars = text.chars().count();
        if chars > MAX_TEXT {
            return Err(format!(
                "the text is {chars} characters long; at most {MAX_TEXT}"
            ));
        }
        let score = clean_text(&self.satisfaction);
        let satisfaction = if score.is_empty() {
            None
        } else {
            match score.parse::<u8>() {
                Ok(s @ 1..=5) => Some(s),
                _ => {
                    return Err(format!(
                        "satisfaction '{score}': a whole number from 1 to 5, or empty"
                    ));
                }
            }
        };
        Ok(NoteDraft {
            kind: self.kind,
            text,
            satisfaction,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn typed(f: &mut NoteForm, s: &str) {
        for c in s.chars() {
            f.on_key(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn kind_is_picked_by_arrows_space_and_first_letter() {
        let mut f = NoteForm::new(CustomerId(1), "Ann");
        assert_eq!(
            f.field(),
            NoteField::Text,
            "the text is where typing starts"
        );
        f.on_key(key(KeyCode::Up));
        assert_eq!(f.field(), NoteField::Kind);
        f.on_key(key(KeyCode::Right));
        assert_eq!(f.kind, NoteKind::Email);
        f.on_key(key(KeyCode::Left));
        f.on_key(key(KeyCode::Left));
        assert_eq!(f.kind, NoteKind::Other, "wraps around");
        typed(&mut f, "c");
        assert_eq!(f.kind, NoteKind::Call);
        typed(&mut f, "c");
        assert_eq!(f.kind, NoteKind::Complaint, "the same letter moves on");
        typed(&mut f, " ");
        assert_eq!(f.kind, NoteKind::Other);
        typed(&mut f, "z");
        assert_eq!(f.kind, NoteKind::Other, "no kind starts with z");
    }

    #[test]
    fn text_and_score_are_validated_with_clear_messages() {
        let mut f = NoteForm::new(CustomerId(1), "Ann");
        assert!(f.draft().unwrap_err().contains("needs a text"));
        typed(&mut f, "  called\tback  ");
        f.on_key(key(KeyCode::Down));
        typed(&mut f, "9");
        assert!(f.draft().unwrap_err().contains("satisfaction '9'"));
        f.on_key(key(KeyCode::Backspace));
        typed(&mut f, "x");
        assert!(f.draft().unwrap_err().contains("1 to 5"));
        f.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(
            f.draft(),
            Ok(NoteDraft {
                kind: NoteKind::Call,
                text: "called back".into(),
                satisfaction: None
            })
        );
        typed(&mut f, "４");
        assert_eq!(
            f.draft().unwrap().satisfaction,
            Some(4),
            "full-width digits too"
        );
        f.text = "x".repeat(MAX_TEXT + 1);
        assert!(f.draft().unwrap_err().contains("at most"));
        assert_eq!(f.on_key(key(KeyCode::Enter)), FormOutcome::Submit);
        assert_eq!(f.on_key(key(KeyCode::Esc)), FormOutcome::Cancel);
    }
}
