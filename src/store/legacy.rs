//! Frozen shapes of records as older versions wrote them. Append only:
//! once a version has shipped, its shape here never changes, and `codec`
//! converts it to the current type when it is read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{AuditEvent, Customer, CustomerId, FieldChange};

/// Audit event, record version 1 (before `undoes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEventV1 {
    pub seq: u64,
    #[serde(with = "crate::model::instant")]
    pub at: DateTime<Utc>,
    pub user: String,
    pub op: String,
    pub customers: Vec<CustomerId>,
    pub summary: String,
    pub changes: Vec<FieldChange>,
    pub before: Option<Customer>,
    pub after: Option<Customer>,
}

impl From<AuditEventV1> for AuditEvent {
    fn from(v: AuditEventV1) -> Self {
        AuditEvent {
            seq: v.seq,
            at: v.at,
            user: v.user,
            op: v.op,
            customers: v.customers,
            summary: v.summary,
            changes: v.changes,
            before: v.before,
            after: v.after,
            undoes: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::{decode, decode_payload};

    /// A version-1 audit event (as format-1 databases hold) reads as the
    /// current shape with `undoes` empty.
    #[test]
    fn audit_event_v1_reads_as_v2() {
        let v1 = AuditEventV1 {
            seq: 7,
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            user: "ops".into(),
            op: "edit".into(),
            customers: vec![CustomerId(3)],
            summary: "city".into(),
            changes: vec![FieldChange {
                field: "city".into(),
                before: Some("A".into()),
                after: Some("B".into()),
            }],
            before: None,
            after: None,
        };
        let payload = bincode::serde::encode_to_vec(&v1, bincode::config::standard()).unwrap();
        let mut bytes = vec![b'A', 1, 0, 0, 0, 0];
        bytes.extend_from_slice(&payload);
        let crc = crc32fast::hash(&bytes[6..]).to_le_bytes();
        bytes[2..6].copy_from_slice(&crc);
        let read: AuditEvent = decode(&bytes).unwrap();
        assert_eq!(read, AuditEvent::from(v1.clone()));
        assert_eq!(read.undoes, None);
        // And a v2 payload is not silently readable as v1 (it has more bytes).
        let v2 = bincode::serde::encode_to_vec(&read, bincode::config::standard()).unwrap();
        assert!(decode_payload::<AuditEventV1>(&v2).is_err());
    }
}
