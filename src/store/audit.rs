//! Reading the audit log through a filter: by user, operation and date,
//! newest first. `rolo audit` and the workbench's audit view share it.

use chrono::NaiveDate;

use super::read::decode_at;
use super::{Result, Store, keys};
use crate::model::AuditEvent;

/// Which audit events to list. Every set condition must hold; the default
/// lists every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The OS user who made the change (exact).
    pub user: Option<String>,
    /// The operation: exact (`tag_add`), or a family by its first word
    /// (`tag` matches `tag_add`, `tag_rule_set`, ...; `import` matches
    /// `import_revert`).
    pub op: Option<String>,
    /// Events on or after this day (UTC).
    pub since: Option<NaiveDate>,
    /// Events on or before this day (UTC).
    pub until: Option<NaiveDate>,
    /// At most this many events (the newest).
    pub limit: Option<usize>,
}

impl AuditFilter {
    /// Whether `e` passes every condition (the limit aside).
    pub fn matches(&self, e: &AuditEvent) -> bool {
        let day = e.at.date_naive();
        self.user.as_deref().is_none_or(|u| e.user == u)
            && self.op.as_deref().is_none_or(|op| {
                e.op == op
                    || e.op
                        .strip_prefix(op)
                        .is_some_and(|rest| rest.starts_with('_'))
            })
            && self.since.is_none_or(|d| day >= d)
            && self.until.is_none_or(|d| day <= d)
    }
}

impl Store {
    /// The audit events passing `filter`, newest first (by sequence number,
    /// which is the order they were written in).
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let mut out = Vec::new();
        if filter.limit == Some(0) {
            return Ok(out);
        }
        for item in self.db.scan_prefix([keys::AUDIT]).rev() {
            let (k, v) = item?;
            let e: AuditEvent = decode_at(&k, &v)?;
            if filter.matches(&e) {
                out.push(e);
                if filter.limit.is_some_and(|n| out.len() >= n) {
                    break;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OpenOptions, Store};
    use chrono::{TimeZone, Utc};

    fn store_at(dir: &std::path::Path, day: u32) -> Store {
        let opts = OpenOptions {
            clock: Utc.with_ymd_and_hms(2024, 5, day, 12, 0, 0).single(),
            ..OpenOptions::default()
        };
        Store::open(&dir.join("db"), &opts).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn filters_by_op_family_user_and_days_newest_first() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for day in [1, 2, 3] {
            let store = store_at(dir.path(), day);
            store
                .save_segment(&format!("s{day}"), "spend>1")
                .unwrap_or_else(|e| panic!("{e}"));
            let id = store
                .create_customer(&crate::model::Customer {
                    name: format!("c{day}"),
                    ..Default::default()
                })
                .unwrap_or_else(|e| panic!("{e}"));
            store
                .add_tag("vip", &[id])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let store = store_at(dir.path(), 4);
        let day = |d| NaiveDate::from_ymd_opt(2024, 5, d);
        let ops = |f: AuditFilter| -> Vec<(String, u32)> {
            use chrono::Datelike;
            store
                .audit_events(&f)
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .map(|e| (e.op, e.at.day()))
                .collect()
        };
        assert_eq!(ops(AuditFilter::default()).len(), 9);
        assert_eq!(
            ops(AuditFilter {
                op: Some("tag".into()),
                ..AuditFilter::default()
            }),
            [
                ("tag_add".into(), 3),
                ("tag_add".into(), 2),
                ("tag_add".into(), 1)
            ]
        );
        // A family is matched by whole words only.
        assert!(
            ops(AuditFilter {
                op: Some("ta".into()),
                ..AuditFilter::default()
            })
            .is_empty()
        );
        assert_eq!(
            ops(AuditFilter {
                since: day(2),
                until: day(2),
                ..AuditFilter::default()
            }),
            [
                ("tag_add".into(), 2),
                ("create".into(), 2),
                ("segment".into(), 2)
            ]
        );
        assert_eq!(
            ops(AuditFilter {
                op: Some("create".into()),
                limit: Some(2),
                ..AuditFilter::default()
            }),
            [("create".into(), 3), ("create".into(), 2)]
        );
        let user = store.user().to_owned();
        assert_eq!(
            ops(AuditFilter {
                user: Some(user),
                limit: Some(1),
                ..AuditFilter::default()
            })
            .len(),
            1
        );
        assert!(
            ops(AuditFilter {
                user: Some("nobody-here".into()),
                ..AuditFilter::default()
            })
            .is_empty()
        );
    }
}
