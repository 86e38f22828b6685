//! The Duplicates pane: its state and what its keys do.
//!
//! The pane reviews a duplicate scan one cluster at a time. The scan takes
//! half a minute at a million customers, so the worker runs it, when the
//! pane is first shown and again on `r`; the keys stay live meanwhile and
//! nothing else rescans (the status bar says when the data changed since).
//! The queue is the scan's clusters, best score first
//! ([`crate::dedup::review`]); the cluster on screen is read from the store
//! when shown (a handful of records), so an edit made meanwhile shows, and
//! a member merged, trashed or erased since the scan leaves the cluster.
//!
//! The table is a grid: a row per field, a column per record. The cursor
//! is a cell: j/k choose the row, and on a row whose value can be picked
//! the highlighted column is the record the merged value comes from, so
//! h/l and the number keys move the pick. The first row picks the
//! survivor (the record that keeps its id). `-` leaves the highlighted
//! record out, Enter opens it. `m` and `x` ask on the last line before
//! merging or marking "not duplicates"; either takes the cluster out of
//! the queue without a rescan. `U` lists the merges in effect, newest
//! first, and Enter takes the chosen one back (a cluster merged in this
//! session returns to the queue).

use std::collections::HashSet;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::app::{App, Detail, Mode};
use super::scope::Scope;
use super::worker::Job;
use crate::dedup::review::{Choices, Cluster, Member, Review, rule_tags};
use crate::model::{CustomerId, Field};
use crate::store::MergeSummary;

/// A row of the cluster table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Which record keeps its id: the survivor.
    Survivor,
    /// A canonical field.
    Field(Field),
    /// The union of the records' tags.
    Tags,
    /// Every record's orders move to the survivor.
    Orders,
    /// Every record's notes move to the survivor.
    Notes,
}

impl Row {
    /// The row's name in the table.
    pub fn label(self) -> &'static str {
        match self {
            Row::Survivor => "keeps id",
            Row::Field(f) => f.as_str(),
            Row::Tags => "tags",
            Row::Orders => "orders",
            Row::Notes => "notes",
        }
    }
}

/// The rows of a cluster: the survivor, the fields some record fills (name,
/// email and phone always), tags, orders and notes.
fn rows_of(members: &[Member]) -> Vec<Row> {
    let mut rows = vec![Row::Survivor];
    rows.extend(
        Field::ALL
            .into_iter()
            .filter(|f| {
                matches!(f, Field::Name | Field::Email | Field::Phone)
                    || members.iter().any(|m| m.customer.value(*f).is_some())
            })
            .map(Row::Field),
    );
    rows.extend([Row::Tags, Row::Orders, Row::Notes]);
    rows
}

/// The cluster on screen, read from the store when shown.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The records, in the cluster's order (column 1 first).
    pub members: Vec<Member>,
    pub choices: Choices,
    /// The tags a rule decides (a merge does not carry them over).
    pub rule_tags: HashSet<String>,
    pub rows: Vec<Row>,
    /// The row under the cursor and the first row on screen.
    pub row: usize,
    pub offset: usize,
    /// The highlighted record (its column).
    pub col: usize,
    /// The app's change counter when read.
    pub data: u64,
}

impl Shown {
    /// The cluster `members` with fresh default choices, or, when
    /// `previous` showed the same cluster (or the same minus a record),
    /// its survivor, picks and cursor kept where they still apply.
    fn new(
        members: Vec<Member>,
        previous: Option<&Shown>,
        rule_tags: HashSet<String>,
        data: u64,
    ) -> Shown {
        let ids: Vec<CustomerId> = members.iter().map(Member::id).collect();
        let related = previous.filter(|p| ids.iter().all(|id| p.has(*id)));
        let choices = match related {
            Some(p) if ids.contains(&p.choices.survivor) => {
                Choices::with_survivor(&members, p.choices.survivor, &p.choices.picks())
            }
            Some(p) => {
                let fresh = Choices::new(&members);
                Choices::with_survivor(&members, fresh.survivor, &p.choices.picks())
            }
            None => Choices::new(&members),
        };
        let rows = rows_of(&members);
        let mut shown = Shown {
            members,
            choices,
            rule_tags,
            rows,
            row: 0,
            offset: 0,
            col: 0,
            data,
        };
        if let Some(p) = related {
            let row = p.current_row();
            shown.row = shown.rows.iter().position(|r| *r == row).unwrap_or(0);
            shown.offset = p.offset;
            let col = p.highlighted().map(Member::id);
            shown.col = shown
                .members
                .iter()
                .position(|m| Some(m.id()) == col)
                .unwrap_or(0);
        }
        shown.follow_pick();
        shown
    }

    fn has(&self, id: CustomerId) -> bool {
        self.members.iter().any(|m| m.id() == id)
    }

    /// The ids of the records, column order.
    pub fn ids(&self) -> Vec<CustomerId> {
        self.members.iter().map(Member::id).collect()
    }

    pub fn current_row(&self) -> Row {
        self.rows.get(self.row).copied().unwrap_or(Row::Survivor)
    }

    /// The highlighted record.
    pub fn highlighted(&self) -> Option<&Member> {
        self.members.get(self.col)
    }

    /// The record a row's value comes from (`None` for tags, orders and
    /// notes, which every record gives).
    pub fn source(&self, row: Row) -> Option<CustomerId> {
        match row {
            Row::Survivor => Some(self.choices.survivor),
            Row::Field(f) => Some(self.choices.source(f).0),
            _ => None,
        }
    }

    /// On a row with a pick, the highlight is the picked record.
    fn follow_pick(&mut self) {
        if let Some(id) = self.source(self.current_row()) {
            if let Some(at) = self.members.iter().position(|m| m.id() == id) {
                self.col = at;
            }
        }
    }

    /// Moves the cursor by `delta` rows with `visible` rows on screen.
    pub fn move_row(&mut self, delta: isize, visible: usize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.row = (self.row as isize).saturating_add(delta).clamp(0, last) as usize;
        let visible = visible.max(1);
        if self.row < self.offset {
            self.offset = self.row;
        } else if self.row >= self.offset + visible {
            self.offset = self.row + 1 - visible;
        }
        self.follow_pick();
    }

    /// Highlights column `col` and, on a row with a pick, takes that
    /// record's value (on the first row: makes it the survivor). Refused
    /// with the reason (nothing changes).
    fn choose(&mut self, col: usize) -> Result<(), String> {
        let Some(id) = self.members.get(col).map(Member::id) else {
            let n = self.members.len();
            return Err(format!("this cluster has {n} records: 1-{n} pick"));
        };
        match self.current_row() {
            Row::Survivor => {
                let picks = self.choices.picks();
                self.choices = Choices::with_survivor(&self.members, id, &picks);
            }
            Row::Field(f) => self.choices.pick(&self.members, f, id)?,
            _ => {}
        }
        self.col = col;
        Ok(())
    }
}

/// What `y` confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Merge,
    Dismiss,
}

/// The list of merges in effect (`U`).
#[derive(Debug, Clone, Default)]
pub struct MergesView {
    /// Newest first, once read.
    pub rows: Option<Vec<MergeSummary>>,
    /// The ticket of the read on its way.
    pub loading: Option<u64>,
    pub cursor: usize,
    pub offset: usize,
}

impl MergesView {
    /// The chosen merge.
    pub fn current(&self) -> Option<&MergeSummary> {
        self.rows.as_ref().and_then(|r| r.get(self.cursor))
    }

    /// Moves the choice by `delta` with `visible` rows on screen.
    pub fn move_by(&mut self, delta: isize, visible: usize) {
        let n = self.rows.as_ref().map_or(0, Vec::len);
        let last = n.saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize)
            .saturating_add(delta)
            .clamp(0, last.max(0)) as usize;
        let visible = visible.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + visible {
            self.offset = self.cursor + 1 - visible;
        }
    }
}

/// The pane's state, kept across frames.
#[derive(Debug, Clone, Default)]
pub struct DuplicatesView {
    /// The queue, once scanned; clusters leave it when merged or dismissed.
    pub review: Option<Review>,
    /// The position in the queue.
    pub at: usize,
    /// The cluster at `at`, as read from the store.
    pub shown: Option<Shown>,
    /// The ticket of the scan on its way.
    pub scanning: Option<u64>,
    /// Why the last scan failed (not retried until `r` or the pane is
    /// shown again).
    pub error: Option<String>,
    /// The app's change counter the queue is up to date with (this pane's
    /// own merges and unmerges move it along).
    pub data: u64,
    /// The question on the last line, while asked.
    pub confirm: Option<Confirm>,
    /// The list of merges, while open.
    pub merges: Option<MergesView>,
    /// Clusters merged in this session, by merge: an unmerge puts them
    /// back in the queue.
    merged: Vec<(u64, Cluster)>,
    /// The number key that asked for [`Action::PickRecord`] (1-9).
    pub digit: Option<usize>,
}

impl DuplicatesView {
    /// The cluster at the queue position.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.review.as_ref().and_then(|r| r.clusters.get(self.at))
    }

    fn cluster_mut(&mut self) -> Option<&mut Cluster> {
        let at = self.at;
        self.review.as_mut().and_then(|r| r.clusters.get_mut(at))
    }

    /// Clusters waiting in the queue.
    pub fn queued(&self) -> usize {
        self.review.as_ref().map_or(0, |r| r.clusters.len())
    }

    /// Whether the worker is at something the pane waits for.
    pub fn is_busy(&self) -> bool {
        self.scanning.is_some() || self.merges.as_ref().is_some_and(|m| m.loading.is_some())
    }

    /// Whether the data changed (elsewhere) since the scan.
    pub fn is_stale(&self, data: u64) -> bool {
        self.review.is_some() && self.data != data
    }

    /// Takes the cluster at the queue position out of the queue.
    fn take_current(&mut self) -> Option<Cluster> {
        let at = self.at;
        let review = self.review.as_mut()?;
        if at >= review.clusters.len() {
            return None;
        }
        let c = review.clusters.remove(at);
        if self.at >= review.clusters.len() {
            self.at = 0;
        }
        Some(c)
    }

    /// Moves through the queue by `delta` clusters, wrapping around.
    fn step(&mut self, delta: isize) {
        let n = self.queued();
        if n > 0 {
            self.at = (self.at as isize + delta).rem_euclid(n as isize) as usize;
        }
    }
}

/// Whether the pane (or its list of merges) handles `action` itself.
pub fn acts_on(action: Action) -> bool {
    use Action::*;
    matches!(
        action,
        Down | Up
            | Top
            | Bottom
            | PageDown
            | PageUp
            | NextColumn
            | PrevColumn
            | PickRecord
            | DropMember
            | Merge
            | NotDuplicate
            | Skip
            | Unmerge
            | Recompute
            | Open
    )
}

/// The digit of a number key (1-9).
pub fn digit_of(key: KeyEvent) -> Option<usize> {
    match key.code {
        KeyCode::Char(c @ '1'..='9') => c.to_digit(10).map(|d| d as usize),
        _ => None,
    }
}

/// "#3, #7 and #9".
pub fn id_list(ids: &[CustomerId]) -> String {
    let names: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

impl App {
    /// Field rows of the cluster table on screen (the pane is one row
    /// taller than a page of the list).
    fn duplicate_rows(&self) -> usize {
        super::panes::duplicates::field_rows(self.page + 1)
    }

    /// The key that reaches `action` in the Duplicates pane.
    fn dup_key(&self, action: Action, default: &'static str) -> String {
        self.keymap
            .key_in(action, Some(super::keymap::Section::Duplicates))
            .unwrap_or(default)
            .to_owned()
    }

    /// What the shown pane lacks: a scan (the first time, or after one
    /// failed and the pane is shown again), the cluster's records (after a
    /// change), the list of merges.
    pub(super) fn sync_duplicates(&mut self, entered: bool) {
        if !matches!(self.scope(), Scope::Duplicates | Scope::Merges) {
            return;
        }
        if entered && self.duplicates.scanning.is_none() {
            self.duplicates.error = None;
        }
        let v = &self.duplicates;
        if v.review.is_none() && v.scanning.is_none() && v.error.is_none() {
            self.request_scan();
        }
        let wants_merges = self
            .duplicates
            .merges
            .as_ref()
            .is_some_and(|m| m.rows.is_none() && m.loading.is_none());
        if wants_merges {
            self.request_merges();
        }
        self.show_cluster();
    }

    /// Scans on the worker; the old queue, if any, stays meanwhile.
    fn request_scan(&mut self) {
        let ticket = self.next_job();
        self.duplicates.scanning = Some(ticket);
        self.duplicates.error = None;
        self.worker.send(Job::Duplicates {
            ticket,
            data: self.data_generation(),
        });
    }

    /// Reads the merges in effect on the worker.
    fn request_merges(&mut self) {
        let ticket = self.next_job();
        if let Some(m) = self.duplicates.merges.as_mut() {
            m.loading = Some(ticket);
            self.worker.send(Job::Merges { ticket });
        }
    }

    /// Takes in a scan; whether it was still wanted. The cluster that was
    /// on screen stays on screen when the new queue has it.
    pub(super) fn apply_duplicates(
        &mut self,
        ticket: u64,
        data: u64,
        result: Result<Box<Review>, String>,
    ) -> bool {
        let v = &mut self.duplicates;
        if v.scanning != Some(ticket) {
            return false;
        }
        v.scanning = None;
        match result {
            Ok(review) => {
                let was = v.cluster().map(|c| c.members.clone());
                v.at = was
                    .and_then(|m| review.clusters.iter().position(|c| c.members == m))
                    .unwrap_or(0);
                v.review = Some(*review);
                v.data = data;
                v.error = None;
            }
            Err(e) => {
                v.error = Some(e.clone());
                self.status = Some(e);
            }
        }
        // A question about the old queue's cluster is not answered now.
        if self.duplicates.confirm.take().is_some() {
            self.mode = self.base_mode();
            self.status = Some("a new scan came in: nothing done".into());
        }
        self.show_cluster();
        true
    }

    /// Takes in the list of merges; whether it was still wanted.
    pub(super) fn apply_merges(
        &mut self,
        ticket: u64,
        result: Result<Vec<MergeSummary>, String>,
    ) -> bool {
        let visible = self.duplicate_rows();
        let Some(m) = self.duplicates.merges.as_mut() else {
            return false;
        };
        if m.loading != Some(ticket) {
            return false;
        }
        m.loading = None;
        match result {
            Ok(rows) => {
                m.rows = Some(rows);
                m.move_by(0, visible);
            }
            Err(e) => {
                m.rows = Some(Vec::new());
                self.status = Some(e);
            }
        }
        true
    }

    /// Reads the cluster at the queue position when it is not on screen
    /// yet or the data changed since it was read. Members no longer live
    /// leave it; a cluster left with fewer than two leaves the queue.
    fn show_cluster(&mut self) {
        let data = self.data_generation();
        loop {
            let Some(cluster) = self.duplicates.cluster() else {
                self.duplicates.shown = None;
                return;
            };
            let ids = cluster.members.clone();
            let fresh = self
                .duplicates
                .shown
                .as_ref()
                .is_some_and(|s| s.ids() == ids && s.data == data);
            if fresh {
                return;
            }
            let mut members = Vec::with_capacity(ids.len());
            for id in &ids {
                match Member::load(&self.store, *id) {
                    Ok(Some(m)) => members.push(m),
                    Ok(None) => {
                        if let Some(c) = self.duplicates.cluster_mut() {
                            c.remove(*id);
                        }
                    }
                    Err(e) => {
                        self.status = Some(format!("reading customer {id} failed: {e}"));
                        self.duplicates.shown = None;
                        return;
                    }
                }
            }
            if members.len() < 2 {
                self.duplicates.take_current();
                // Short: the status bar has about 38 columns at 80.
                self.status = Some(format!("{} left the queue (gone)", id_list(&ids)));
                continue;
            }
            let rules = match rule_tags(&self.store) {
                Ok(r) => r,
                Err(e) => {
                    self.status = Some(format!("reading the tags failed: {e}"));
                    HashSet::new()
                }
            };
            let visible = self.duplicate_rows();
            let mut shown = Shown::new(members, self.duplicates.shown.as_ref(), rules, data);
            shown.move_row(0, visible);
            self.duplicates.shown = Some(shown);
            return;
        }
    }

    /// The Duplicates pane's keys (and the list of merges').
    pub(super) fn on_duplicates(&mut self, action: Action) {
        match self.scope() {
            Scope::Merges => return self.on_merges(action),
            Scope::Duplicates => {}
            _ => return,
        }
        let visible = self.duplicate_rows();
        if action == Action::Recompute {
            if self.duplicates.scanning.is_some() {
                self.status = Some("already scanning for duplicates…".into());
            } else {
                self.request_scan();
            }
            return;
        }
        if action == Action::Unmerge {
            self.duplicates.merges = Some(MergesView::default());
            self.request_merges();
            return;
        }
        let Some(shown) = self.duplicates.shown.as_mut() else {
            self.status = Some(self.no_cluster());
            return;
        };
        match action {
            Action::Down => shown.move_row(1, visible),
            Action::Up => shown.move_row(-1, visible),
            Action::Top => shown.move_row(isize::MIN / 2, visible),
            Action::Bottom => shown.move_row(isize::MAX / 2, visible),
            Action::NextColumn | Action::PrevColumn => {
                let last = shown.members.len().saturating_sub(1);
                let col = match action {
                    Action::NextColumn => (shown.col + 1).min(last),
                    _ => shown.col.saturating_sub(1),
                };
                if let Err(why) = shown.choose(col) {
                    self.status = Some(why);
                }
            }
            Action::PickRecord => match self.duplicates.digit.take() {
                Some(n) => {
                    if let Err(why) = shown.choose(n - 1) {
                        self.status = Some(why);
                    }
                }
                None => self.status = Some("pick_record takes a number key, 1-9".into()),
            },
            Action::PageDown | Action::Skip => {
                self.duplicates.step(1);
                if action == Action::Skip && self.duplicates.at == 0 {
                    self.status = Some("back to the first cluster".into());
                }
                self.show_cluster();
            }
            Action::PageUp => {
                self.duplicates.step(-1);
                self.show_cluster();
            }
            Action::DropMember => self.drop_member(),
            Action::Merge => {
                self.duplicates.confirm = Some(Confirm::Merge);
                self.mode = Mode::Confirm;
            }
            Action::NotDuplicate => {
                self.duplicates.confirm = Some(Confirm::Dismiss);
                self.mode = Mode::Confirm;
            }
            Action::Open => {
                let Some(id) = shown.highlighted().map(Member::id) else {
                    return;
                };
                match Detail::load(&self.store, id, self.as_of) {
                    Ok(d) => {
                        self.detail = Some(d);
                        self.mode = Mode::Detail;
                    }
                    Err(e) => self.status = Some(format!("cannot open customer {id}: {e}")),
                }
            }
            _ => {}
        }
    }

    /// Why a key that needs a cluster did nothing.
    fn no_cluster(&self) -> String {
        let r = self.dup_key(Action::Recompute, "r");
        let v = &self.duplicates;
        if v.scanning.is_some() {
            "still scanning for duplicates…".to_owned()
        } else if let Some(e) = &v.error {
            format!("{e}; {r} tries again")
        } else {
            format!("no duplicates to review; {r} scans again")
        }
    }

    /// The mouse wheel in the pane moves the cursor.
    pub(super) fn scroll_duplicates(&mut self, delta: isize) {
        let visible = self.duplicate_rows();
        if let Some(m) = self.duplicates.merges.as_mut() {
            m.move_by(delta, visible);
        } else if let Some(s) = self.duplicates.shown.as_mut() {
            s.move_row(delta, visible);
        }
    }

    /// `-`: leaves the highlighted record out of this merge (a rescan
    /// brings it back).
    fn drop_member(&mut self) {
        let Some(shown) = self.duplicates.shown.as_ref() else {
            return;
        };
        if shown.members.len() <= 2 {
            let x = self.dup_key(Action::NotDuplicate, "x");
            self.status = Some(format!("a pair cannot lose one ({x}: not duplicates)"));
            return;
        }
        let Some(id) = shown.highlighted().map(Member::id) else {
            return;
        };
        if let Some(c) = self.duplicates.cluster_mut() {
            c.remove(id);
        }
        self.show_cluster();
        let r = self.dup_key(Action::Recompute, "r");
        self.status = Some(format!("left #{id} out of this merge ({r} rescans)"));
    }

    /// The answer to the merge or "not duplicates" question: `y` goes
    /// ahead, any other key keeps the records as they are. Whether a
    /// question of this pane was asked.
    pub(super) fn on_duplicates_confirm(&mut self, key: KeyEvent) -> bool {
        let Some(what) = self.duplicates.confirm.take() else {
            return false;
        };
        self.mode = self.base_mode();
        let yes = key.code == KeyCode::Char('y') && !key.modifiers.contains(KeyModifiers::CONTROL);
        match (what, yes) {
            (Confirm::Merge, true) => self.merge_cluster(),
            (Confirm::Dismiss, true) => self.dismiss_cluster(),
            (Confirm::Merge, false) => self.status = Some("nothing merged".into()),
            (Confirm::Dismiss, false) => self.status = Some("nothing marked".into()),
        }
        true
    }

    /// After this pane's own change: the rest of the app follows, and the
    /// queue stays up to date unless something else changed before.
    fn after_own_change(&mut self, touched: &[CustomerId]) {
        let was_fresh = !self.duplicates.is_stale(self.data_generation());
        self.after_change(touched);
        if was_fresh {
            self.duplicates.data = self.data_generation();
        }
    }

    /// `m` then `y`: one store merge with every field's source named.
    fn merge_cluster(&mut self) {
        let Some(shown) = self.duplicates.shown.as_ref() else {
            return;
        };
        let plan = shown.choices.plan(&shown.members);
        let n = shown.members.len();
        match self.store.merge(&plan) {
            Ok(out) => {
                let mut touched = vec![plan.survivor];
                touched.extend(&plan.others);
                if let Some(c) = self.duplicates.take_current() {
                    self.duplicates.merged.push((out.seq, c));
                }
                self.duplicates.shown = None;
                self.after_own_change(&touched);
                self.show_cluster();
                let u = self.dup_key(Action::Unmerge, "U");
                self.status = Some(format!(
                    "merged {n} records into #{}; {u} unmerges",
                    out.survivor
                ));
            }
            Err(e) => self.status = Some(format!("merge failed: {e}")),
        }
    }

    /// `x` then `y`: every pair of the cluster is dismissed, so no scan
    /// reports it again.
    fn dismiss_cluster(&mut self) {
        let Some(cluster) = self.duplicates.cluster().cloned() else {
            return;
        };
        for (a, b) in cluster.member_pairs() {
            if let Err(e) = self.store.dismiss_pair(a, b) {
                self.status = Some(format!("marking #{a} and #{b} failed: {e}"));
                return;
            }
        }
        self.duplicates.take_current();
        self.duplicates.shown = None;
        self.show_cluster();
        self.status = Some(format!(
            "marked {} not duplicates",
            id_list(&cluster.members)
        ));
    }

    /// Keys in the list of merges: move, Enter takes the chosen one back.
    fn on_merges(&mut self, action: Action) {
        let visible = self.duplicate_rows();
        let Some(m) = self.duplicates.merges.as_mut() else {
            return;
        };
        match action {
            Action::Down => m.move_by(1, visible),
            Action::Up => m.move_by(-1, visible),
            Action::PageDown => m.move_by(visible as isize, visible),
            Action::PageUp => m.move_by(-(visible as isize), visible),
            Action::Top => m.move_by(isize::MIN / 2, visible),
            Action::Bottom => m.move_by(isize::MAX / 2, visible),
            Action::Open => self.unmerge_chosen(),
            _ => {}
        }
    }

    /// Takes the chosen merge back: every record, order, note and tag as
    /// before. A cluster merged in this session returns to the queue.
    fn unmerge_chosen(&mut self) {
        let Some(m) = self.duplicates.merges.as_ref() else {
            return;
        };
        let Some(chosen) = m.current().cloned() else {
            self.status = Some(if m.rows.is_none() {
                "still reading the merges…".to_owned()
            } else {
                "no merges to take back".to_owned()
            });
            return;
        };
        if let Some(why) = &chosen.blocker {
            self.status = Some(format!("cannot unmerge #{}: {why}", chosen.seq));
            return;
        }
        match self.store.unmerge(chosen.seq) {
            Ok(out) => {
                let mut ids = vec![out.survivor];
                ids.extend(&out.restored);
                self.after_own_change(&ids);
                let back = self.requeue(out.merge_seq);
                self.show_cluster();
                ids.sort_unstable();
                self.request_merges();
                self.status = Some(if back {
                    format!("unmerged #{}; the cluster is back", out.merge_seq)
                } else {
                    format!("unmerged #{}: {} apart again", out.merge_seq, id_list(&ids))
                });
            }
            Err(e) => self.status = Some(format!("unmerge failed: {e}")),
        }
    }

    /// Puts the cluster of merge `seq`, if merged in this session, back
    /// in the queue (unless a rescan queued its records since) and shows
    /// it.
    fn requeue(&mut self, seq: u64) -> bool {
        let v = &mut self.duplicates;
        let Some(at) = v.merged.iter().position(|(s, _)| *s == seq) else {
            return false;
        };
        let (_, cluster) = v.merged.remove(at);
        let Some(review) = v.review.as_mut() else {
            return false;
        };
        let queued = review
            .clusters
            .iter()
            .any(|c| c.members.iter().any(|m| cluster.members.contains(m)));
        if queued {
            return false;
        }
        // It shows, ready to be merged another way.
        v.at = review.insert(cluster);
        v.shown = None;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn member(id: u64, name: &str, city: Option<&str>) -> Member {
        Member {
            customer: crate::model::Customer {
                id: CustomerId(id),
                name: name.into(),
                city: city.map(str::to_owned),
                updated_at: Utc.timestamp_opt(id as i64, 0).single().unwrap_or_default(),
                ..Default::default()
            },
            stats: crate::model::Stats::default(),
            notes: 0,
        }
    }

    #[test]
    fn the_highlight_follows_the_pick_and_choosing_moves_it() {
        let members = vec![
            member(1, "Ann Lee", Some("Paris")),
            member(2, "Ann", None),
            member(3, "A. Lee", Some("Lyon")),
        ];
        let mut s = Shown::new(members, None, HashSet::new(), 0);
        assert_eq!(s.choices.survivor, CustomerId(1));
        assert_eq!(
            s.rows[..4],
            [
                Row::Survivor,
                Row::Field(Field::Name),
                Row::Field(Field::Email),
                Row::Field(Field::Phone)
            ]
        );
        assert!(s.rows.contains(&Row::Field(Field::City)));
        assert!(!s.rows.contains(&Row::Field(Field::Company)));
        let city = s
            .rows
            .iter()
            .position(|r| *r == Row::Field(Field::City))
            .unwrap_or(0);
        s.move_row(city as isize, 20);
        assert_eq!(s.col, 0, "the survivor's city");
        s.choose(2).unwrap();
        assert_eq!(s.choices.source(Field::City).0, CustomerId(3));
        s.move_row(-(city as isize), 20);
        assert_eq!((s.row, s.col), (0, 0));
        s.choose(1).unwrap();
        assert_eq!(s.choices.survivor, CustomerId(2));
        assert_eq!(
            s.choices.source(Field::City).0,
            CustomerId(3),
            "the pick stays with a new survivor"
        );
        assert!(s.choose(5).is_err());
        // The same cluster read again (after a change) keeps it all.
        let again = Shown::new(s.members.clone(), Some(&s), HashSet::new(), 1);
        assert_eq!(again.choices, s.choices);
        assert_eq!((again.row, again.col), (s.row, s.col));
    }

    #[test]
    fn id_lists_read_as_english() {
        let ids = |n: &[u64]| n.iter().map(|i| CustomerId(*i)).collect::<Vec<_>>();
        assert_eq!(id_list(&ids(&[4])), "#4");
        assert_eq!(id_list(&ids(&[4, 9])), "#4 and #9");
        assert_eq!(id_list(&ids(&[1, 4, 9])), "#1, #4 and #9");
    }
}
