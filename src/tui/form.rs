//! The edit form (`e`) and the new-customer form (`n`): one line per
//! field, validated with the importer's own rules on submit, so a value the
//! form accepts is one an import would have accepted.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::ingest::normalize::{self, NormalizeConfig, clean_text};
use crate::model::{Customer, CustomerId, Field};

/// The fields the form edits, in order.
pub const FIELDS: [Field; 12] = [
    Field::Name,
    Field::Email,
    Field::Phone,
    Field::Company,
    Field::Title,
    Field::Street,
    Field::City,
    Field::Region,
    Field::Postcode,
    Field::Country,
    Field::BirthDate,
    Field::Gender,
];

/// What a key did to the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormOutcome {
    Continue,
    Cancel,
    Submit,
}

/// The form's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// `None` for a new customer.
    pub id: Option<CustomerId>,
    pub values: Vec<String>,
    pub cursor: usize,
    /// Why the last submit was refused.
    pub error: Option<String>,
}

impl Form {
    /// A form holding `c`'s values (lists joined with "; ").
    pub fn edit(c: &Customer) -> Form {
        let values = FIELDS
            .iter()
            .map(|f| c.value(*f).unwrap_or_default())
            .collect();
        Form {
            id: Some(c.id),
            values,
            cursor: 0,
            error: None,
        }
    }

    /// An empty form for a new customer.
    pub fn new_customer() -> Form {
        Form {
            id: None,
            values: vec![String::new(); FIELDS.len()],
            cursor: 0,
            error: None,
        }
    }

    /// Handles a key: move between fields, edit the current one, submit or cancel.
    pub fn on_key(&mut self, key: KeyEvent) -> FormOutcome {
        if key.code != KeyCode::Enter {
            // The reason of a refused save goes once the user acts on it.
            self.error = None;
        }
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancel,
            KeyCode::Enter => return FormOutcome::Submit,
            KeyCode::Down | KeyCode::Tab => self.cursor = (self.cursor + 1) % FIELDS.len(),
            KeyCode::Up | KeyCode::BackTab => {
                self.cursor = (self.cursor + FIELDS.len() - 1) % FIELDS.len()
            }
            KeyCode::Backspace => {
                self.values[self.cursor].pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.values[self.cursor].clear()
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.values[self.cursor].push(c)
            }
            _ => {}
        }
        FormOutcome::Continue
    }

    /// The record the form describes, on top of `base`; `Err` gives the
    /// line of the first invalid field and why.
    pub fn apply(
        &self,
        base: &Customer,
        cfg: &NormalizeConfig,
    ) -> Result<Customer, (usize, String)> {
        let mut c = base.clone();
        for (line, (f, raw)) in FIELDS.iter().zip(&self.values).enumerate() {
            let at = |why: String| (line, why);
            let v = clean_text(raw);
            let opt = (!v.is_empty()).then(|| v.clone());
            match f {
                Field::Name => c.name = v,
                Field::Email => {
                    let mut list = Vec::new();
                    for part in v
                        .split([';', ',', ' '])
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                    {
                        list.push(
                            normalize::email(part)
                                .map_err(|why| at(format!("email '{part}': {why}")))?,
                        );
                    }
                    c.emails = list;
                }
                Field::Phone => {
                    let mut list = Vec::new();
                    for part in v.split([';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
                        list.push(
                            normalize::phone(part, cfg)
                                .map_err(|why| at(format!("phone '{part}': {why}")))?,
                        );
                    }
                    c.phones = list;
                }
                Field::Company => c.company = opt,
                Field::Title => c.title = opt,
                Field::Street => c.street = opt,
                Field::City => c.city = opt,
                Field::Region => c.region = opt,
                Field::Postcode => c.postcode = opt,
                Field::Country => c.country = opt,
                Field::BirthDate => {
                    c.birth_date = match opt {
                        Some(d) => Some(
                            normalize::date(&d, cfg)
                                .map_err(|why| at(format!("birth_date '{d}': {why}")))?,
                        ),
                        None => None,
                    }
                }
                Field::Gender => c.gender = opt.map(|g| normalize::gender(&g)),
                _ => {}
            }
        }
        if c.name.is_empty() && c.emails.is_empty() && c.phones.is_empty() {
            return Err((0, "a customer needs a name, an email or a phone".to_owned()));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn edits_move_and_validate() {
        let base = Customer {
            name: "Ann".into(),
            emails: vec!["ann@x.com".into()],
            ..Customer::default()
        };
        let mut f = Form::edit(&base);
        assert_eq!(f.values[0], "Ann");
        f.on_key(key(KeyCode::Down));
        for _ in 0.."ann@x.com".len() {
            f.on_key(key(KeyCode::Backspace));
        }
        for c in "not-an-email".chars() {
            f.on_key(key(KeyCode::Char(c)));
        }
        let cfg = NormalizeConfig::default();
        let (line, why) = f.apply(&base, &cfg).unwrap_err();
        assert_eq!(FIELDS[line], Field::Email);
        assert!(why.contains("email 'not-an-email'"), "{why}");
        f.values[1] = "ANN@Example.com".into();
        f.values[2] = "１３８ ００１３ ８０００".into();
        f.values[10] = "1990/2/3".into();
        let c = f.apply(&base, &cfg).unwrap();
        assert_eq!(c.emails, ["ann@example.com"]);
        assert_eq!(c.phones, ["+8613800138000"]);
        assert_eq!(
            c.birth_date.map(|d| d.to_string()).as_deref(),
            Some("1990-02-03")
        );
        f.values[10] = "2024-02-30".into();
        let (line, why) = f.apply(&base, &cfg).unwrap_err();
        assert_eq!(FIELDS[line], Field::BirthDate);
        assert!(why.starts_with("birth_date"), "{why}");
        assert_eq!(f.on_key(key(KeyCode::Esc)), FormOutcome::Cancel);
        assert_eq!(f.on_key(key(KeyCode::Enter)), FormOutcome::Submit);
    }

    #[test]
    fn an_empty_customer_is_refused() {
        let f = Form::new_customer();
        assert!(
            f.apply(&Customer::default(), &NormalizeConfig::default())
                .is_err()
        );
    }
}
