//! The audit log view's state: the events passing a filter, newest first,
//! read in pages through `Store::audit_events` on the worker, with a
//! cursor, and the one event whose changes are shown.
//!
//! **Paging.** The library reads the log newest first and stops after
//! `limit` matches, so the view asks for a first page (a screenful and
//! then some) and, when the cursor nears the end of what it has, for four
//! times as many. A million events are never read at once unless the user
//! scrolls through them; a filter that matches little may still scan far
//! back, which is why the reading happens off the UI thread.
//!
//! **Filter.** One line, `user:alice op:tag since:2026-11-01
//! until:2026-11-30`, any of the terms in any order (`from:` and `to:` are
//! read as `since:` and `until:`); a bare word is an operation. The same
//! words as `rolo audit --user --op --since --until`.

use chrono::NaiveDate;

use crate::model::{AuditEvent, FieldChange};
use crate::store::AuditFilter;

/// Events asked for first; a screenful at 160x48 and then some.
pub const FIRST_PAGE: usize = 200;

/// The view's state while open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditView {
    /// The filter (its `limit` unset; pages set it).
    pub filter: AuditFilter,
    /// The events read so far, newest first.
    pub events: Vec<AuditEvent>,
    /// How many events were asked for last.
    pub asked: usize,
    /// Whether `events` holds every event passing the filter.
    pub complete: bool,
    /// The ticket of a read on the worker.
    pub loading: Option<u64>,
    pub cursor: usize,
    pub offset: usize,
    /// Whether the current event's changes are shown.
    pub open: bool,
    /// Why the last read failed.
    pub error: Option<String>,
}

impl AuditView {
    /// A view of `filter`, waiting for its first page.
    pub fn new(filter: AuditFilter) -> AuditView {
        AuditView {
            filter,
            ..AuditView::default()
        }
    }

    /// The event under the cursor.
    pub fn current(&self) -> Option<&AuditEvent> {
        self.events.get(self.cursor)
    }

    /// The filter with a limit of `n` events, for the worker.
    pub fn page(&self, n: usize) -> AuditFilter {
        AuditFilter {
            limit: Some(n),
            ..self.filter.clone()
        }
    }

    /// A page arrived: `events` for a limit of `asked`.
    pub fn fill(&mut self, events: Vec<AuditEvent>, asked: usize, rows: usize) {
        self.complete = events.len() < asked;
        self.events = events;
        self.asked = asked;
        self.move_by(0, rows);
    }

    /// How many events to ask for when the cursor moves by `delta`:
    /// four times as many as last time once it nears the end of what is
    /// read; `None` when what is read suffices. A jump to the end (`G`)
    /// asks for the next step only, not for the whole log.
    pub fn wants_more(&self, delta: isize, rows: usize) -> Option<usize> {
        if self.complete || self.loading.is_some() {
            return None;
        }
        let to = (self.cursor as isize).saturating_add(delta).max(0) as usize;
        let wanted = to.min(self.events.len()) + rows;
        (wanted >= self.events.len()).then(|| (self.asked * 4).max(FIRST_PAGE))
    }

    /// Moves the cursor by `delta` events (clamped) with `rows` on screen.
    pub fn move_by(&mut self, delta: isize, rows: usize) {
        let last = self.events.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize)
            .saturating_add(delta)
            .clamp(0, last.max(0)) as usize;
        let rows = rows.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + rows {
            self.offset = self.cursor + 1 - rows;
        }
    }
}

/// The field changes an event records: its own list, or (for events that
/// keep whole records) the difference between its before and after.
pub fn changes_of(e: &AuditEvent) -> Vec<FieldChange> {
    if !e.changes.is_empty() {
        return e.changes.clone();
    }
    match (&e.before, &e.after) {
        (Some(b), Some(a)) => FieldChange::diff(b, a),
        (None, Some(a)) => FieldChange::diff(&crate::model::Customer::default(), a),
        (Some(b), None) => FieldChange::diff(b, &crate::model::Customer::default()),
        (None, None) => Vec::new(),
    }
}

/// Parses a filter line (see the module docs). The error names the term
/// and what would work.
pub fn parse_filter(line: &str) -> Result<AuditFilter, String> {
    let mut f = AuditFilter::default();
    let date = |key: &str, v: &str| -> Result<NaiveDate, String> {
        let cfg = crate::ingest::normalize::NormalizeConfig::default();
        crate::ingest::normalize::date(v, &cfg)
            .map_err(|_| format!("'{key}:{v}' is not a date; write {key}:2026-11-01"))
    };
    for word in line.split_whitespace() {
        let (key, value) = word.split_once(':').unwrap_or(("op", word));
        if value.is_empty() {
            return Err(format!("'{word}' needs a value after the ':'"));
        }
        match key {
            "user" => f.user = Some(value.to_owned()),
            "op" => f.op = Some(value.to_owned()),
            "since" | "from" => f.since = Some(date(key, value)?),
            "until" | "to" => f.until = Some(date(key, value)?),
            _ => {
                return Err(format!(
                    "unknown term '{key}:'; use user:NAME op:OP since:DATE until:DATE"
                ));
            }
        }
    }
    if let (Some(since), Some(until)) = (f.since, f.until) {
        if since > until {
            return Err("since is after until; swap them".to_owned());
        }
    }
    Ok(f)
}

/// A filter written back as a line [`parse_filter`] reads; empty for
/// every event.
pub fn filter_line(f: &AuditFilter) -> String {
    let mut words = Vec::new();
    if let Some(u) = &f.user {
        words.push(format!("user:{u}"));
    }
    if let Some(op) = &f.op {
        words.push(format!("op:{op}"));
    }
    if let Some(d) = f.since {
        words.push(format!("since:{d}"));
    }
    if let Some(d) = f.until {
        words.push(format!("until:{d}"));
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn filter_lines_parse_and_round_trip() {
        let cases = [
            ("", AuditFilter::default()),
            (
                "user:alice op:tag since:2026-11-01 until:2026-11-30",
                AuditFilter {
                    user: Some("alice".into()),
                    op: Some("tag".into()),
                    since: day(2026, 11, 1),
                    until: day(2026, 11, 30),
                    limit: None,
                },
            ),
            (
                "erase from:2026-01-02",
                AuditFilter {
                    op: Some("erase".into()),
                    since: day(2026, 1, 2),
                    ..AuditFilter::default()
                },
            ),
            (
                "to:2026-01-02",
                AuditFilter {
                    until: day(2026, 1, 2),
                    ..AuditFilter::default()
                },
            ),
        ];
        for (line, want) in cases {
            let f = parse_filter(line).unwrap();
            assert_eq!(f, want, "{line}");
            assert_eq!(parse_filter(&filter_line(&f)).unwrap(), f, "{line}");
        }
        assert!(parse_filter("who:me").unwrap_err().contains("'who:'"));
        assert!(
            parse_filter("since:soon")
                .unwrap_err()
                .contains("not a date")
        );
        assert!(parse_filter("user:").unwrap_err().contains("needs a value"));
        assert!(
            parse_filter("since:2026-02-01 until:2026-01-01")
                .unwrap_err()
                .contains("swap")
        );
    }

    #[test]
    fn paging_asks_for_more_near_the_end_only() {
        let mut v = AuditView::new(AuditFilter::default());
        let events = vec![
            AuditEvent {
                seq: 1,
                at: chrono::DateTime::default(),
                user: String::new(),
                op: String::new(),
                customers: Vec::new(),
                summary: String::new(),
                changes: Vec::new(),
                before: None,
                after: None,
                undoes: None,
            };
            30
        ];
        v.fill(events.clone(), 30, 10);
        assert!(!v.complete, "a full page may have more behind it");
        assert_eq!(v.wants_more(1, 10), None);
        assert_eq!(v.wants_more(25, 10), Some(FIRST_PAGE));
        v.asked = 1_000;
        assert_eq!(v.wants_more(isize::MAX / 2, 10), Some(4_000), "G: one step");
        v.fill(events[..12].to_vec(), FIRST_PAGE, 10);
        assert!(v.complete);
        assert_eq!(v.wants_more(100, 10), None);
        v.move_by(100, 10);
        assert_eq!((v.cursor, v.offset), (11, 2));
    }
}
