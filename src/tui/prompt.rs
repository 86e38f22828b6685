//! One-line questions: the staleness threshold of the Quality pane, the
//! audit log's filter, the Tags pane's names, descriptions and rules
//! ([`TagAsk`]), and the confirmation of an erasure (which must be
//! typed: the customer's id or `yes`). The typed line is drawn in the
//! search line; an erasure also shows, in a box, exactly what goes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::CustomerId;
use crate::tui::tag_edit::TagAsk;

/// What an erasure will remove, read when it is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EraseTarget {
    pub id: CustomerId,
    /// The name as the screen shows it (masked when masking).
    pub name: String,
    pub emails: usize,
    pub phones: usize,
    pub tags: usize,
    pub notes: usize,
    pub orders: u64,
    /// Whether the customer is in the trash.
    pub trashed: bool,
}

/// What the question is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// After how many days without an update a record is stale.
    StaleDays,
    /// The audit log's filter.
    AuditFilter,
    /// Whether to erase this customer.
    Erase(Box<EraseTarget>),
    /// A question of the Tags pane.
    Tag(TagAsk),
}

/// The question's state while asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub ask: Ask,
    pub input: String,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

/// What a key did to the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptOutcome {
    Continue,
    Cancel,
    Submit,
}

impl Prompt {
    /// A question with `input` typed already (the current value).
    pub fn new(ask: Ask, input: impl Into<String>) -> Prompt {
        Prompt {
            ask,
            input: input.into(),
            error: None,
        }
    }

    /// What the search line says before the typed text.
    pub fn label(&self) -> String {
        match &self.ask {
            Ask::StaleDays => "stale after how many days without an update? ".to_owned(),
            Ask::AuditFilter => "filter: ".to_owned(),
            Ask::Erase(t) => format!("erase customer {}? type {} or yes: ", t.id, t.id),
            Ask::Tag(t) => t.label(),
        }
    }

    /// What the search line says after the typed text while there is no
    /// error: how to answer.
    pub fn hint(&self) -> &'static str {
        match &self.ask {
            Ask::StaleDays => "  (enter sets it, esc keeps it)",
            Ask::AuditFilter => "  user:NAME op:OP since:DATE until:DATE",
            Ask::Erase(_) => "",
            Ask::Tag(t) => t.hint(),
        }
    }

    /// Handles a key: type, backspace, ctrl-u clears, enter submits, esc
    /// cancels.
    pub fn on_key(&mut self, key: KeyEvent) -> PromptOutcome {
        match key.code {
            KeyCode::Esc => return PromptOutcome::Cancel,
            KeyCode::Enter => return PromptOutcome::Submit,
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.clear();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.push(c);
            }
            _ => return PromptOutcome::Continue,
        }
        self.error = None;
        PromptOutcome::Continue
    }
}

/// Whether `typed` confirms erasing customer `id`: its id, or `yes`.
pub fn confirms_erase(typed: &str, id: CustomerId) -> bool {
    let t = typed.trim();
    t.eq_ignore_ascii_case("yes") || t == id.to_string()
}

/// Parses a staleness threshold in days (1 to 36,500).
pub fn parse_stale_days(typed: &str) -> Result<u32, String> {
    let t = typed.trim().trim_end_matches('d');
    match t.parse::<u32>() {
        Ok(n) if (1..=36_500).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{}' is not a number of days from 1 to 36500",
            typed.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasing_needs_the_id_or_yes() {
        let id = CustomerId(42);
        for ok in ["42", " 42 ", "yes", "YES"] {
            assert!(confirms_erase(ok, id), "{ok}");
        }
        for no in ["", "y", "4", "420", "no", "43"] {
            assert!(!confirms_erase(no, id), "{no}");
        }
    }

    #[test]
    fn stale_days_are_a_positive_number() {
        assert_eq!(parse_stale_days("180"), Ok(180));
        assert_eq!(parse_stale_days(" 90d "), Ok(90));
        for bad in ["0", "-1", "x", "", "99999"] {
            assert!(parse_stale_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_type_clear_submit_and_cancel() {
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        let mut p = Prompt::new(Ask::StaleDays, "365");
        p.error = Some("old".into());
        assert_eq!(p.on_key(k(KeyCode::Backspace)), PromptOutcome::Continue);
        assert_eq!((p.input.as_str(), p.error.as_ref()), ("36", None));
        p.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        p.on_key(k(KeyCode::Char('9')));
        assert_eq!(p.input, "9");
        assert_eq!(p.on_key(k(KeyCode::Enter)), PromptOutcome::Submit);
        assert_eq!(p.on_key(k(KeyCode::Esc)), PromptOutcome::Cancel);
    }
}
