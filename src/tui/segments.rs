//! The Segments pane's state: the chosen segmentation, the figures its
//! table was computed from (also what `rfm:` and the like consult in the
//! search box, so a row's count is what Enter finds), the summaries of
//! those figures, and the movement view.
//!
//! The figures take a scan of every customer (seconds at a million), so
//! the worker computes them; this state only records what is on its way.
//! They are computed when first needed, again on `r`, and again when the
//! pane is shown after a change — never per keystroke. Until then a change
//! marks them out of date and the pane says so.

use chrono::NaiveDate;
use std::sync::Arc;

use super::worker::{Entries, Movement};
use crate::model::Field;
use crate::search::{FieldKey, FieldTerm, Presence, Query, SegmentKind};
use crate::segments::{
    By, CHURN_ROWS, Lookup, NO_ORDERS, RfmSegment, Row, Settings, Summary, UNKNOWN_PLACE,
};

/// The segmentations the movement view can show (snapshots keep these).
pub const MOVEMENT_BY: [By; 3] = [By::Rfm, By::Lifecycle, By::Value];

/// The pane's state, kept across frames.
#[derive(Clone)]
pub struct SegmentsView {
    pub by: By,
    pub cursor: usize,
    pub offset: usize,
    /// The figures of the table and of segment searches, once computed.
    pub figures: Option<Arc<Lookup>>,
    /// The app's change counter when `figures` were computed.
    pub data: u64,
    /// Summaries of `figures`, one per segmentation shown so far.
    pub summaries: Vec<Summary>,
    /// The ticket of a computation of new figures on the worker.
    pub computing: Option<u64>,
    /// The ticket of a summary of the current figures on the worker, and
    /// its segmentation.
    pub summarizing: Option<(u64, By)>,
    /// A search waits for the figures (it has segment terms).
    pub search_waits: bool,
    /// `S` waits for fresh figures before recording them.
    pub snapshot_waits: bool,
    /// The ticket of a snapshot being recorded, and whether it replaces
    /// one of the same day.
    pub snapshotting: Option<(u64, bool)>,
    /// Every customer's codes under `figures`, once the movement view
    /// has read them (kept for the next snapshot chosen).
    pub now: Option<Entries>,
    /// The movement view, while shown.
    pub movement: Option<MovementView>,
    /// Why the last computation failed (not retried until asked).
    pub error: Option<String>,
}

impl Default for SegmentsView {
    fn default() -> Self {
        SegmentsView {
            by: By::Rfm,
            cursor: 0,
            offset: 0,
            figures: None,
            data: 0,
            summaries: Vec::new(),
            computing: None,
            summarizing: None,
            search_waits: false,
            snapshot_waits: false,
            snapshotting: None,
            now: None,
            movement: None,
            error: None,
        }
    }
}

impl SegmentsView {
    /// The summary of the chosen segmentation, if computed.
    pub fn summary(&self) -> Option<&Summary> {
        self.summaries.iter().find(|s| s.by == self.by)
    }

    /// The row under the cursor.
    pub fn current(&self) -> Option<&Row> {
        self.summary().and_then(|s| s.rows.get(self.cursor))
    }

    /// Whether the figures predate the change counter `data`.
    pub fn is_stale(&self, data: u64) -> bool {
        self.figures.is_some() && self.data != data
    }

    /// Whether the worker is at something the pane waits for.
    pub fn is_busy(&self) -> bool {
        self.computing.is_some() || self.summarizing.is_some()
    }

    /// New figures arrived: summaries and codes of the old ones go.
    pub fn set_figures(&mut self, figures: Arc<Lookup>, data: u64) {
        self.figures = Some(figures);
        self.data = data;
        self.summaries.clear();
        self.now = None;
        if let Some(m) = self.movement.as_mut() {
            m.result = None;
        }
    }

    /// Adds (or replaces) a summary of the current figures.
    pub fn add_summary(&mut self, summary: Summary) {
        self.summaries.retain(|s| s.by != summary.by);
        self.summaries.push(summary);
    }

    /// Moves the cursor by `delta` rows with `page` table rows on screen.
    pub fn move_by(&mut self, delta: isize, page: usize) {
        let rows = self.summary().map_or(0, |s| s.rows.len());
        let last = rows.saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize)
            .saturating_add(delta)
            .clamp(0, last.max(0)) as usize;
        let page = page.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + page {
            self.offset = self.cursor + 1 - page;
        }
    }

    /// The next (`delta` 1) or previous (-1) segmentation; the movement
    /// view cycles among the ones snapshots keep.
    pub fn cycle(&mut self, delta: isize) {
        let choices: &[By] = if self.movement.is_some() {
            &MOVEMENT_BY
        } else {
            &By::ALL
        };
        let at = choices.iter().position(|b| *b == self.by).unwrap_or(0) as isize;
        let n = choices.len() as isize;
        self.by = choices[(at + delta).rem_euclid(n) as usize];
        self.cursor = 0;
        self.offset = 0;
    }
}

/// The movement view's state.
#[derive(Clone, Default)]
pub struct MovementView {
    /// Days with a snapshot, newest first.
    pub days: Vec<NaiveDate>,
    /// The chosen day.
    pub cursor: usize,
    /// The first move shown.
    pub offset: usize,
    /// The ticket of the movement being read.
    pub loading: Option<u64>,
    /// The movement since the chosen day, once read.
    pub result: Option<Movement>,
}

impl MovementView {
    /// The chosen snapshot's day.
    pub fn day(&self) -> Option<NaiveDate> {
        self.days.get(self.cursor).copied()
    }

    /// Moves the choice by `delta` days of the list (clamped); whether it
    /// changed.
    pub fn choose_by(&mut self, delta: isize) -> bool {
        let last = self.days.len().saturating_sub(1) as isize;
        let next = (self.cursor as isize)
            .saturating_add(delta)
            .clamp(0, last.max(0)) as usize;
        let changed = next != self.cursor;
        self.cursor = next;
        if changed {
            self.offset = 0;
        }
        changed
    }

    /// Whether the result shown is the chosen day's.
    pub fn is_current(&self) -> bool {
        self.result.as_ref().map(|r| r.day) == self.day()
    }
}

/// The query that finds a row's customers: what Enter searches for and
/// `t` tags. RFM's "No Orders" row is `lifecycle:prospect` (no order by
/// the as-of date, exactly as the row counts them). A place matches as a
/// substring in queries, so a place's query leaves out the other places
/// of `rows` whose name contains it (`city:上海 -city:上海市`); places that
/// differ only in case cannot be told apart and find each other. The
/// churn-warning rows compare `p_alive` with `settings.churn_p_alive`,
/// as the summary does.
pub fn query_for(by: By, segment: &str, rows: &[Row], settings: &Settings) -> Option<String> {
    if by == By::Churn {
        let active = "(lifecycle:new OR lifecycle:active)";
        let p = settings.churn_p_alive;
        let q = match CHURN_ROWS.iter().position(|r| *r == segment)? {
            0 => format!("{active} p_alive<{p}"),
            1 => format!("{active} -p_alive<{p}"),
            2 => "lifecycle:at_risk OR lifecycle:churned".to_owned(),
            _ => "lifecycle:prospect".to_owned(),
        };
        return Some(q);
    }
    let q = match by {
        By::Rfm if segment == NO_ORDERS => Query::Segment {
            kind: SegmentKind::Lifecycle,
            name: "prospect".to_owned(),
        },
        By::Rfm => Query::Segment {
            kind: SegmentKind::Rfm,
            name: RfmSegment::ALL
                .iter()
                .find(|s| s.name() == segment)?
                .slug()
                .to_owned(),
        },
        By::Lifecycle => Query::Segment {
            kind: SegmentKind::Lifecycle,
            name: segment.to_owned(),
        },
        By::Value => Query::Segment {
            kind: SegmentKind::Value,
            name: segment.to_owned(),
        },
        By::Region | By::City => {
            let field = if by == By::Region {
                Field::Region
            } else {
                Field::City
            };
            if segment == UNKNOWN_PLACE {
                Query::Missing(Presence::Field(field))
            } else {
                let term = |v: &str| Query::Field(FieldTerm::new(FieldKey::Canonical(field), v));
                let folded = segment.to_lowercase();
                let mut parts = vec![term(segment)];
                for other in rows {
                    let o = other.segment.to_lowercase();
                    if other.segment != UNKNOWN_PLACE && o != folded && o.contains(&folded) {
                        parts.push(Query::Not(Box::new(term(&other.segment))));
                    }
                }
                if parts.len() == 1 {
                    parts.remove(0)
                } else {
                    Query::And(parts)
                }
            }
        }
        By::Saved => Query::Saved(segment.to_owned()),
        By::Churn => return None,
    };
    Some(q.to_string())
}

/// How a segmentation is named on screen.
pub fn by_title(by: By) -> &'static str {
    match by {
        By::Rfm => "RFM",
        By::Lifecycle => "lifecycle",
        By::Value => "value",
        By::Region => "region",
        By::City => "city",
        By::Saved => "saved",
        By::Churn => "churn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::parse;

    fn row(name: &str) -> Row {
        Row {
            segment: name.to_owned(),
            customers: 1,
            share: 0.0,
            revenue: 0.0,
            revenue_share: 0.0,
            avg_order_value: None,
            avg_recency_days: None,
            orders: 0,
        }
    }

    #[test]
    fn every_row_has_a_query_that_parses_back() {
        let rows = [
            row("上海"),
            row("上海市"),
            row("New South Wales"),
            row("South Wales"),
            row("say \"hi\""),
            row(UNKNOWN_PLACE),
        ];
        let cases = [
            (By::Rfm, "Champions", "rfm:champions"),
            (By::Rfm, "Can't Lose Them", "rfm:cant_lose_them"),
            (By::Rfm, NO_ORDERS, "lifecycle:prospect"),
            (By::Lifecycle, "at_risk", "lifecycle:at_risk"),
            (By::Value, "high", "value:high"),
            (By::City, "上海", "city:上海 -city:上海市"),
            (By::City, "上海市", "city:上海市"),
            (
                By::Region,
                "South Wales",
                "region:\"South Wales\" -region:\"New South Wales\"",
            ),
            (By::Region, "say \"hi\"", "region:\"say \\\"hi\\\"\""),
            (By::City, UNKNOWN_PLACE, "missing:city"),
            (By::Saved, "big spenders", "segment:\"big spenders\""),
        ];
        let settings = Settings::default();
        for (by, name, want) in cases {
            let q = query_for(by, name, &rows, &settings).unwrap();
            assert_eq!(q, want, "{by:?} {name}");
            assert!(parse(&q).is_ok(), "{q}");
        }
        assert_eq!(query_for(By::Rfm, "Nobody", &rows, &settings), None);
        let churn: Vec<String> = CHURN_ROWS
            .iter()
            .map(|r| query_for(By::Churn, r, &[], &settings).unwrap())
            .collect();
        assert_eq!(
            churn,
            [
                "(lifecycle:new OR lifecycle:active) p_alive<0.3",
                "(lifecycle:new OR lifecycle:active) -p_alive<0.3",
                "lifecycle:at_risk OR lifecycle:churned",
                "lifecycle:prospect",
            ]
        );
        for q in churn {
            assert!(parse(&q).is_ok(), "{q}");
        }
    }

    #[test]
    fn cycling_wraps_and_the_movement_view_keeps_to_snapshot_segmentations() {
        let mut v = SegmentsView::default();
        v.cycle(-1);
        assert_eq!(Some(&v.by), By::ALL.last());
        v.cycle(1);
        assert_eq!(v.by, By::Rfm);
        v.movement = Some(MovementView::default());
        v.cycle(-1);
        assert_eq!(v.by, By::Value);
        v.cycle(1);
        assert_eq!(v.by, By::Rfm);
    }
}
