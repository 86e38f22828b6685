//! The Quality pane's state: the last report (computed on the worker, as
//! the segment figures are: a scan of every customer takes seconds at a
//! million), the baseline it is compared with, and a cursor over the
//! figures.
//!
//! The cursor moves over rows; on a field row it also picks a column
//! (filled, missing, invalid), so that every number on screen that counts
//! customers can be drilled into: Enter searches the Customers pane for
//! the figure's query, which the library wrote next to the count (the
//! report and the search share one definition, so they never disagree).
//!
//! **Baseline.** "Since the last visit" compares with the figures saved
//! last (`rolo quality --save`, or `S` here). Saving is explicit rather
//! than on leaving the pane: a visit that only glanced at the figures
//! would otherwise move the baseline and hide a change from the next one.

use crate::model::Field;
use crate::quality::{DEFAULT_STALE_DAYS, Figure, Report};
use crate::store::QualityFigures;

/// The headline figures above the field table, in screen order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headline {
    /// Customers with anything invalid.
    Invalid,
    /// First order before signup.
    OrderBeforeSignup,
    /// Not updated for more than the threshold.
    Stale,
    /// Neither a tag nor an order.
    NoTagNoOrder,
    /// Duplicates waiting for review: not counted by the report (a scan
    /// reads and compares every record; `rolo dedup scan` lists the pairs).
    Duplicates,
}

impl Headline {
    pub const ALL: [Headline; 5] = [
        Headline::Invalid,
        Headline::OrderBeforeSignup,
        Headline::Stale,
        Headline::NoTagNoOrder,
        Headline::Duplicates,
    ];

    /// The row's label (`stale_days` for the stale row).
    pub fn label(self, stale_days: u32) -> String {
        match self {
            Headline::Invalid => "invalid, any field".to_owned(),
            Headline::OrderBeforeSignup => "orders before signup".to_owned(),
            Headline::Stale => format!("stale (over {stale_days} days)"),
            Headline::NoTagNoOrder => "no tag and no order".to_owned(),
            Headline::Duplicates => "duplicates pending".to_owned(),
        }
    }

    /// The report's figure for the row (`None` for duplicates, which the
    /// report does not count).
    pub fn figure(self, r: &Report) -> Option<&Figure> {
        match self {
            Headline::Invalid => Some(&r.invalid),
            Headline::OrderBeforeSignup => Some(&r.order_before_signup),
            Headline::Stale => Some(&r.stale),
            Headline::NoTagNoOrder => Some(&r.no_tag_no_order),
            Headline::Duplicates => r.duplicates_pending.as_ref(),
        }
    }
}

/// A row the cursor can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Headline(Headline),
    /// A canonical field's row, by its index in [`Field::ALL`].
    Field(usize),
    /// The overall score under the field table.
    Overall,
}

/// Every row, in screen order.
pub fn items() -> Vec<Item> {
    Headline::ALL
        .into_iter()
        .map(Item::Headline)
        .chain((0..Field::ALL.len()).map(Item::Field))
        .chain([Item::Overall])
        .collect()
}

/// The figure columns of a field row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Filled,
    Missing,
    Invalid,
}

impl Column {
    pub const ALL: [Column; 3] = [Column::Filled, Column::Missing, Column::Invalid];
}

/// The pane's state, kept across frames.
#[derive(Debug, Clone)]
pub struct QualityView {
    /// The report on screen, once computed.
    pub report: Option<Box<Report>>,
    /// The figures saved last (the baseline), read with the report.
    pub baseline: Option<QualityFigures>,
    /// The app's change counter when `report` was computed.
    pub data: u64,
    /// The ticket of a computation on the worker.
    pub computing: Option<u64>,
    /// Why the last computation failed (not retried until asked).
    pub error: Option<String>,
    /// Records not updated for more than this many days are stale.
    pub stale_days: u32,
    /// The row under the cursor (an index into [`items`]).
    pub cursor: usize,
    /// The column chosen on field rows (kept while moving between rows).
    pub column: Column,
    /// The first row on screen.
    pub offset: usize,
}

impl Default for QualityView {
    fn default() -> Self {
        QualityView {
            report: None,
            baseline: None,
            data: 0,
            computing: None,
            error: None,
            stale_days: DEFAULT_STALE_DAYS,
            // Invalid values first: the figure most often drilled into.
            cursor: 0,
            column: Column::Missing,
            offset: 0,
        }
    }
}

impl QualityView {
    /// Whether the report predates the change counter `data`.
    pub fn is_stale(&self, data: u64) -> bool {
        self.report.is_some() && self.data != data
    }

    /// The row under the cursor.
    pub fn current(&self) -> Item {
        items().get(self.cursor).copied().unwrap_or(Item::Overall)
    }

    /// Moves the cursor by `delta` rows; `rows` fit on screen.
    pub fn move_by(&mut self, delta: isize, rows: usize) {
        let last = items().len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize).saturating_add(delta).clamp(0, last) as usize;
        let rows = rows.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + rows {
            self.offset = self.cursor + 1 - rows;
        }
    }

    /// The next (`delta` 1) or previous (-1) column of the field rows.
    pub fn cycle_column(&mut self, delta: isize) {
        let n = Column::ALL.len() as isize;
        let at = Column::ALL
            .iter()
            .position(|c| *c == self.column)
            .unwrap_or(0) as isize;
        self.column = Column::ALL[(at + delta).rem_euclid(n) as usize];
    }

    /// The figure under the cursor: its name for messages and the figure
    /// itself; or why there is none to drill into.
    pub fn current_figure(&self) -> Result<(String, &Figure), String> {
        let Some(r) = self.report.as_deref() else {
            return Err("the quality report is still being computed".to_owned());
        };
        match self.current() {
            Item::Headline(Headline::Duplicates) => Err(
                "duplicates are not counted here: rolo dedup scan lists the pairs".to_owned(),
            ),
            Item::Headline(h) => h
                .figure(r)
                .map(|f| (h.label(r.stale_days), f))
                .ok_or_else(|| "no figure here".to_owned()),
            Item::Field(i) => {
                let q = r.fields.get(i).ok_or_else(|| "no field here".to_owned())?;
                let (what, f) = match self.column {
                    Column::Filled => ("with", &q.filled),
                    Column::Missing => ("missing", &q.missing),
                    Column::Invalid => ("invalid", &q.invalid),
                };
                Ok((format!("{what} {}", q.field.as_str()), f))
            }
            Item::Overall => Err(
                "the overall score is a mean of the field scores: Enter on a field's figure lists its customers"
                    .to_owned(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_clamps_and_columns_wrap() {
        let mut v = QualityView::default();
        v.move_by(-3, 10);
        assert_eq!(v.cursor, 0);
        v.move_by(100, 10);
        assert_eq!(v.current(), Item::Overall);
        assert_eq!(v.offset, items().len() - 10);
        v.move_by(-1, 10);
        assert_eq!(v.current(), Item::Field(Field::ALL.len() - 1));
        v.cycle_column(1);
        assert_eq!(v.column, Column::Invalid);
        v.cycle_column(1);
        assert_eq!(v.column, Column::Filled);
        v.cycle_column(-1);
        assert_eq!(v.column, Column::Invalid);
        assert!(v.current_figure().is_err(), "nothing computed yet");
    }
}
