//! The importer's validation rules applied to stored customers: which
//! values of a record are invalid today.
//!
//! The importer keeps a value that fails validation in `Customer::invalid`
//! (field, original text) and leaves the field empty. A stored value can
//! also fail: a birth date ahead of the as-of date or absurdly old, an email
//! or phone entered by hand or by an older rolo whose rules were looser. So
//! a field is invalid when an `invalid` entry names it **or** a stored value
//! fails today's rule. The quality report counts with this one definition
//! and the `invalid:` query finds with it, so a figure and its drill-down
//! always agree.

use chrono::NaiveDate;

use super::normalize;
use crate::model::{Customer, Field, Stats};

/// The fields that have a validation rule (the importer's: email syntax,
/// phone numbers valid for their region, dates). Other fields are free text.
pub const CHECKED_FIELDS: [Field; 4] = [
    Field::Email,
    Field::Phone,
    Field::BirthDate,
    Field::CreatedAt,
];

/// Whether the importer recorded an invalid value of `field` for `c`.
pub fn has_invalid_entry(c: &Customer, field: Field) -> bool {
    c.invalid.iter().any(|(k, _)| k == field.as_str())
}

/// Whether a value stored in `field` fails its rule as of `as_of`: an email
/// that is not an address, a phone that is not a valid number for its
/// region (stored phones carry their country code), a birth date after
/// `as_of`, before 1900 or more than 120 years before `as_of`.
pub fn has_invalid_value(c: &Customer, field: Field, as_of: NaiveDate) -> bool {
    match field {
        Field::Email => c.emails.iter().any(|e| normalize::email(e).is_err()),
        Field::Phone => c.phones.iter().any(|p| !is_e164_shaped(p)),
        Field::BirthDate => c
            .birth_date
            .is_some_and(|d| normalize::birth_date(d, as_of).is_err()),
        _ => false,
    }
}

/// Whether a stored phone has the E.164 shape (`+`, then 8 to 15 digits,
/// the first not 0). Every stored phone passed the full check for its
/// region when it was imported or edited (`normalize::phone`); running that
/// check again costs about 20 µs a phone (20 s over a million customers),
/// so a stored phone is checked for its shape, which catches values written
/// by hand into the database or by a build that did not normalise.
pub fn is_e164_shaped(p: &str) -> bool {
    let Some(digits) = p.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Whether `field` of `c` is invalid: recorded by the importer or failing
/// its rule today.
pub fn is_invalid(c: &Customer, field: Field, as_of: NaiveDate) -> bool {
    has_invalid_entry(c, field) || has_invalid_value(c, field, as_of)
}

/// Whether the customer's first order is dated before the day it signed up
/// (`created_at`): one of the two dates is wrong.
pub fn has_order_before_signup(c: &Customer, stats: Option<&Stats>) -> bool {
    match (stats.and_then(|s| s.first_order), c.created_at) {
        (Some(first), Some(created)) => first < created.date_naive(),
        _ => false,
    }
}

/// Whether anything about `c` is invalid: an invalid entry of any field, a
/// stored value failing its rule, or an order before signup.
pub fn has_any_problem(c: &Customer, stats: Option<&Stats>, as_of: NaiveDate) -> bool {
    !c.invalid.is_empty()
        || CHECKED_FIELDS
            .iter()
            .any(|f| has_invalid_value(c, *f, as_of))
        || has_order_before_signup(c, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn e164_shape() {
        for ok in ["+8613800138000", "+442079460018", "+12025550123"] {
            assert!(is_e164_shaped(ok), "{ok}");
        }
        for bad in [
            "8613800138000",
            "+861234",
            "+0123456789",
            "+86 138",
            "+1234567890123456",
            "",
        ] {
            assert!(!is_e164_shaped(bad), "{bad}");
        }
    }

    #[test]
    fn recorded_and_stored_values_both_count() {
        let as_of = day(2024, 6, 30);
        let clean = Customer {
            emails: vec!["ann@example.com".into()],
            phones: vec!["+8613800138000".into()],
            birth_date: Some(day(1990, 1, 1)),
            ..Customer::default()
        };
        assert!(!has_any_problem(&clean, None, as_of));
        for f in CHECKED_FIELDS {
            assert!(!is_invalid(&clean, f, as_of), "{f}");
        }

        let recorded = Customer {
            invalid: vec![("phone".into(), "12345".into())],
            ..clean.clone()
        };
        assert!(is_invalid(&recorded, Field::Phone, as_of));
        assert!(!has_invalid_value(&recorded, Field::Phone, as_of));
        assert!(!is_invalid(&recorded, Field::Email, as_of));
        assert!(has_any_problem(&recorded, None, as_of));

        let stored = Customer {
            emails: vec!["ann@example.com".into(), "not-an-email".into()],
            phones: vec!["+861234".into()],
            birth_date: Some(day(2030, 1, 1)),
            ..Customer::default()
        };
        for f in [Field::Email, Field::Phone, Field::BirthDate] {
            assert!(has_invalid_value(&stored, f, as_of), "{f}");
        }
        // The same birth date judged before it is in the future is fine.
        assert!(!is_invalid(&stored, Field::BirthDate, day(2031, 1, 1)));
        let ancient = Customer {
            birth_date: Some(day(1890, 1, 1)),
            ..Customer::default()
        };
        assert!(is_invalid(&ancient, Field::BirthDate, as_of));
    }

    #[test]
    fn orders_before_signup() {
        let c = Customer {
            created_at: chrono::Utc.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).single(),
            ..Customer::default()
        };
        let stats = |first| Stats {
            orders: 1,
            order_days: 1,
            first_order: Some(first),
            last_order: Some(first),
            ..Stats::default()
        };
        assert!(has_order_before_signup(&c, Some(&stats(day(2024, 2, 29)))));
        assert!(!has_order_before_signup(&c, Some(&stats(day(2024, 3, 1)))));
        assert!(!has_order_before_signup(&c, None));
        let unknown = Customer::default();
        assert!(!has_order_before_signup(
            &unknown,
            Some(&stats(day(2000, 1, 1)))
        ));
        assert!(has_any_problem(
            &c,
            Some(&stats(day(2024, 1, 1))),
            day(2024, 6, 30)
        ));
    }
}
