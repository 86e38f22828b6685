//! Audit events: who changed what, when, with the before and after of each
//! changed field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Customer, CustomerId, Field};

/// One change of one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One logged operation. Single-record operations carry the whole record
/// before and after, so an undo (even after a restart) restores it exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: u64,
    #[serde(with = "super::instant")]
    pub at: DateTime<Utc>,
    /// The OS user who ran rolo.
    pub user: String,
    /// The operation, e.g. `import`, `edit`, `create`, `trash`, `restore`, `tag`.
    pub op: String,
    /// The customers the operation touched (may be empty for bulk operations
    /// whose members are listed elsewhere, such as imports).
    pub customers: Vec<CustomerId>,
    /// A human summary, e.g. `import #3 customers.csv: 10 inserted, 2 updated`.
    pub summary: String,
    pub changes: Vec<FieldChange>,
    pub before: Option<Customer>,
    pub after: Option<Customer>,
    /// For `undo` and `redo` events: the sequence number of the event undone
    /// or redone. (Added in record version 2.)
    pub undoes: Option<u64>,
}

impl FieldChange {
    /// The canonical-field and attribute differences between two versions.
    pub fn diff(before: &Customer, after: &Customer) -> Vec<FieldChange> {
        let mut out = Vec::new();
        for f in Field::ALL {
            let (b, a) = (before.value(f), after.value(f));
            if b != a {
                out.push(FieldChange {
                    field: f.as_str().to_owned(),
                    before: b,
                    after: a,
                });
            }
        }
        let mut keys: Vec<&str> = before
            .attrs
            .iter()
            .chain(&after.attrs)
            .map(|(k, _)| k.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            let (b, a) = (before.attr(k), after.attr(k));
            if b != a {
                out.push(FieldChange {
                    field: k.to_owned(),
                    before: b.map(str::to_owned),
                    after: a.map(str::to_owned),
                });
            }
        }
        if before.tags != after.tags {
            out.push(FieldChange {
                field: "tags".to_owned(),
                before: Some(before.tags.join(", ")),
                after: Some(after.tags.join(", ")),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_changed_fields_only() {
        let a = Customer {
            name: "Ann".into(),
            city: Some("Paris".into()),
            ..Customer::default()
        };
        let mut b = a.clone();
        b.city = Some("Lyon".into());
        b.attrs.push(("vip_level".into(), "2".into()));
        let d = FieldChange::diff(&a, &b);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].field, "city");
        assert_eq!(d[0].before.as_deref(), Some("Paris"));
        assert_eq!(d[1].field, "vip_level");
        assert_eq!(d[1].before, None);
    }
}
