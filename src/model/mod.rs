//! Domain types: customers, orders, notes, audit events and the derived
//! figures kept per customer.
//!
//! This module is pure: no I/O, no database, no terminal. Every other layer
//! speaks these types. They are also the records that `store` encodes for
//! format version 1; once a format version has shipped, a change to a stored
//! type means freezing the old shape in `store::legacy` and adding a version
//! (the golden-bytes test in `store::codec` fails first, on purpose).

mod audit;
mod customer;
pub mod display;
mod field;
mod order;
pub mod searchable;
mod tag;

pub use audit::{AuditEvent, FieldChange};
pub use customer::{Customer, CustomerId, Stats};
pub use field::Field;
pub use order::{Note, NoteKind, Order};
pub use tag::{MAX_TAG_LEN, TagInfo, tag_name_problem};

/// Days since 1970-01-01, the compact form dates take inside stored records.
pub mod days {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
        Some(d) => d,
        None => panic!("1970-01-01 is a valid date"),
    };

    /// The day number of `date`.
    pub fn from_date(date: NaiveDate) -> i32 {
        i32::try_from((date - EPOCH).num_days()).unwrap_or(i32::MAX)
    }

    /// The date of day number `n`; out-of-range numbers clamp to the epoch.
    pub fn to_date(n: i32) -> NaiveDate {
        EPOCH
            .checked_add_signed(chrono::Duration::days(i64::from(n)))
            .unwrap_or(EPOCH)
    }

    /// Serde adapter for `Option<NaiveDate>` fields.
    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
            d.map(from_date).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
            Ok(Option::<i32>::deserialize(d)?.map(to_date))
        }
    }

    /// Serde adapter for `NaiveDate` fields.
    pub mod req {
        use super::*;

        pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
            from_date(*d).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
            Ok(to_date(i32::deserialize(d)?))
        }
    }
}

/// UTC instants stored as seconds since the Unix epoch.
pub mod instant {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        t.timestamp().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let secs = i64::deserialize(d)?;
        Ok(DateTime::from_timestamp(secs, 0).unwrap_or_default())
    }

    /// Serde adapter for `Option<DateTime<Utc>>` fields.
    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            t.map(|t| t.timestamp()).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Ok(Option::<i64>::deserialize(d)?
                .map(|secs| DateTime::from_timestamp(secs, 0).unwrap_or_default()))
        }
    }
}
