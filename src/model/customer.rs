//! The customer record and its per-customer derived figures.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::Field;

/// A customer's internal id: stable for the life of the database, never reused.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct CustomerId(pub u64);

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One customer. Text is already normalized (NFKC, trimmed, no control
/// characters); emails are lower-case and phones E.164.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub ext_id: Option<String>,
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Every known email, the primary first. A merge keeps all of them.
    pub emails: Vec<String>,
    /// Every known phone in E.164, the primary first.
    pub phones: Vec<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    #[serde(with = "super::days::opt")]
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub source: Option<String>,
    #[serde(with = "super::instant::opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Columns that map onto no canonical field, in source order.
    pub attrs: Vec<(String, String)>,
    /// Values that failed validation on import (field, original text): the
    /// field stays empty, the original is kept here for the user to fix.
    pub invalid: Vec<(String, String)>,
    /// Tag names, sorted and unique.
    pub tags: Vec<String>,
    #[serde(with = "super::instant")]
    pub updated_at: DateTime<Utc>,
    /// Set when this record was merged into another; it is then hidden but kept,
    /// so an unmerge can restore it exactly.
    pub merged_into: Option<CustomerId>,
    /// Set when the record is in the trash.
    #[serde(with = "super::instant::opt")]
    pub trashed_at: Option<DateTime<Utc>>,
}

impl Customer {
    /// Whether the record is live: neither merged away nor in the trash.
    pub fn is_live(&self) -> bool {
        self.merged_into.is_none() && self.trashed_at.is_none()
    }

    /// The primary email, if any.
    pub fn email(&self) -> Option<&str> {
        self.emails.first().map(String::as_str)
    }

    /// The primary phone, if any.
    pub fn phone(&self) -> Option<&str> {
        self.phones.first().map(String::as_str)
    }

    /// What to call the customer in a list or a message: the name, else the
    /// ext_id, else the primary email, else the primary phone, else
    /// `customer ID`. Customers created from an order log have no name; the
    /// stored name stays empty (an import of the customers fills it).
    pub fn display_name(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        if !self.name.is_empty() {
            return Cow::Borrowed(&self.name);
        }
        match self
            .ext_id
            .as_deref()
            .filter(|e| !e.is_empty())
            .or_else(|| self.email())
            .or_else(|| self.phone())
        {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(format!("customer {}", self.id)),
        }
    }

    /// A field's value as text: lists are joined with "; ", dates are ISO.
    /// `None` when the field is empty.
    pub fn value(&self, field: Field) -> Option<String> {
        fn opt(s: &Option<String>) -> Option<String> {
            s.as_ref().filter(|s| !s.is_empty()).cloned()
        }
        fn list(v: &[String]) -> Option<String> {
            (!v.is_empty()).then(|| v.join("; "))
        }
        match field {
            Field::ExtId => opt(&self.ext_id),
            Field::Name => (!self.name.is_empty()).then(|| self.name.clone()),
            Field::GivenName => opt(&self.given_name),
            Field::FamilyName => opt(&self.family_name),
            Field::Email => list(&self.emails),
            Field::Phone => list(&self.phones),
            Field::Company => opt(&self.company),
            Field::Title => opt(&self.title),
            Field::Street => opt(&self.street),
            Field::City => opt(&self.city),
            Field::Region => opt(&self.region),
            Field::Postcode => opt(&self.postcode),
            Field::Country => opt(&self.country),
            Field::BirthDate => self.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
            Field::Gender => opt(&self.gender),
            Field::Source => opt(&self.source),
            Field::CreatedAt => self
                .created_at
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        }
    }

    /// The value of a custom attribute, matched case-insensitively.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the customer carries `tag` (exact name).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.binary_search_by(|t| t.as_str().cmp(tag)).is_ok()
    }

    /// Adds `tag`, keeping the list sorted; returns whether it was new.
    pub fn add_tag(&mut self, tag: &str) -> bool {
        match self.tags.binary_search_by(|t| t.as_str().cmp(tag)) {
            Ok(_) => false,
            Err(at) => {
                self.tags.insert(at, tag.to_owned());
                true
            }
        }
    }

    /// Removes `tag`; returns whether it was there.
    pub fn remove_tag(&mut self, tag: &str) -> bool {
        match self.tags.binary_search_by(|t| t.as_str().cmp(tag)) {
            Ok(at) => {
                self.tags.remove(at);
                true
            }
            Err(_) => false,
        }
    }
}

/// Figures derived from a customer's orders, kept current on every order
/// change so that nothing is recomputed per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Number of orders.
    pub orders: u32,
    /// Number of distinct days with an order (the RFM frequency).
    pub order_days: u32,
    /// Total spend in minor units (cents, fen).
    pub spend_minor: i64,
    #[serde(with = "super::days::opt")]
    pub first_order: Option<NaiveDate>,
    #[serde(with = "super::days::opt")]
    pub last_order: Option<NaiveDate>,
}

impl Stats {
    /// Total spend in major units.
    pub fn spend(&self) -> f64 {
        self.spend_minor as f64 / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_stay_sorted_and_unique() {
        let mut c = Customer::default();
        assert!(c.add_tag("vip"));
        assert!(c.add_tag("a"));
        assert!(!c.add_tag("vip"));
        assert_eq!(c.tags, ["a", "vip"]);
        assert!(c.has_tag("vip"));
        assert!(c.remove_tag("vip"));
        assert!(!c.remove_tag("vip"));
        assert_eq!(c.tags, ["a"]);
    }

    #[test]
    fn value_renders_lists_and_dates() {
        let c = Customer {
            emails: vec!["a@x.com".into(), "b@x.com".into()],
            birth_date: NaiveDate::from_ymd_opt(1990, 2, 3),
            ..Customer::default()
        };
        assert_eq!(c.value(Field::Email).as_deref(), Some("a@x.com; b@x.com"));
        assert_eq!(c.value(Field::BirthDate).as_deref(), Some("1990-02-03"));
        assert_eq!(c.value(Field::Phone), None);
        assert_eq!(c.value(Field::Name), None);
    }

    /// Customers created from an order log have no name: lists show the
    /// ext_id, else the email, else the phone, and never an empty cell.
    #[test]
    fn display_name_falls_back_to_identity() {
        let mut c = Customer {
            id: CustomerId(42),
            ..Customer::default()
        };
        assert_eq!(c.display_name(), "customer 42");
        c.phones = vec!["+8613800138000".into()];
        assert_eq!(c.display_name(), "+8613800138000");
        c.emails = vec!["bob@example.com".into()];
        assert_eq!(c.display_name(), "bob@example.com");
        c.ext_id = Some(String::new());
        assert_eq!(c.display_name(), "bob@example.com");
        c.ext_id = Some("13085".into());
        assert_eq!(c.display_name(), "13085");
        c.name = "Bob Stone".into();
        assert_eq!(c.display_name(), "Bob Stone");
    }
}
