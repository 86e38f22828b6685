//! The trash view's state: the trashed customers, most recently trashed
//! first, with a cursor. The list is read once on the worker when the view
//! opens and then patched by each restore, undo or redo, so a change never
//! rereads a million records.

use crate::model::{Customer, CustomerId};

/// The trash view, kept while it is open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrashView {
    pub rows: Vec<Customer>,
    pub cursor: usize,
    pub offset: usize,
    /// Until the worker has read the trash.
    pub loading: bool,
}

impl TrashView {
    /// An empty view waiting for the worker.
    pub fn loading() -> TrashView {
        TrashView {
            loading: true,
            ..TrashView::default()
        }
    }

    /// The customer under the cursor.
    pub fn current(&self) -> Option<&Customer> {
        self.rows.get(self.cursor)
    }

    /// The list read by the worker arrived.
    pub fn fill(&mut self, rows: Vec<Customer>, page: usize) {
        self.rows = rows;
        self.loading = false;
        self.move_by(0, page);
    }

    /// Moves the cursor by `delta` rows (clamped) and scrolls to it.
    pub fn move_by(&mut self, delta: isize, page: usize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize)
            .saturating_add(delta)
            .clamp(0, last.max(0)) as usize;
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + page.max(1) {
            self.offset = self.cursor + 1 - page.max(1);
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(1));
    }

    /// Brings one customer's row up to date: `now` is its record after a
    /// change (`None` when it no longer exists). A trashed record is
    /// (re)placed by its trash time; any other leaves the list.
    pub fn patch(&mut self, id: CustomerId, now: Option<Customer>, page: usize) {
        self.rows.retain(|c| c.id != id);
        if let Some(c) = now.filter(|c| c.trashed_at.is_some()) {
            let at = self.rows.partition_point(|r| {
                (r.trashed_at, std::cmp::Reverse(r.id)) > (c.trashed_at, std::cmp::Reverse(c.id))
            });
            self.rows.insert(at, c);
        }
        self.move_by(0, page);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn trashed(id: u64, at: i64) -> Customer {
        Customer {
            id: CustomerId(id),
            trashed_at: DateTime::from_timestamp(at, 0),
            ..Customer::default()
        }
    }

    #[test]
    fn patch_keeps_newest_first_and_the_cursor_in_range() {
        let mut t = TrashView::loading();
        t.fill(vec![trashed(1, 30), trashed(2, 20), trashed(3, 10)], 10);
        assert!(!t.loading);
        t.move_by(5, 10);
        assert_eq!(t.cursor, 2);
        t.patch(CustomerId(3), Some(Customer::default()), 10);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.cursor, 1, "clamped after the last row left");
        t.patch(CustomerId(4), Some(trashed(4, 25)), 10);
        let ids: Vec<u64> = t.rows.iter().map(|c| c.id.0).collect();
        assert_eq!(ids, [1, 4, 2]);
        t.patch(CustomerId(1), None, 10);
        t.patch(CustomerId(2), None, 10);
        t.patch(CustomerId(4), None, 10);
        assert!(t.current().is_none());
        assert_eq!((t.cursor, t.offset), (0, 0));
    }
}
