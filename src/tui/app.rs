//! The TUI's state and its one update function. `update` does no terminal
//! I/O: it reads the store for the rows on screen and runs searches; the
//! view only draws from the state. Tests drive it key by key. Reads too slow
//! for a keystroke (sort keys, sorted searches, the trash, the segment
//! figures, the quality report, the audit log) go to the background
//! [`Worker`]; `poll_worker` takes their answers in, `settle` waits for
//! them (tests).

use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::action::Action;
use super::audit::{AuditView, FIRST_PAGE, filter_line, parse_filter};
use super::duplicates::{DuplicatesView, digit_of};
use super::keymap::{KeyMap, Section};
use super::note_form::NoteForm;
use super::palette::{Command, Palette, PaletteOutcome};
use super::prompt::{Ask, EraseTarget, Prompt, PromptOutcome, confirms_erase, parse_stale_days};
use super::quality::QualityView;
use super::scope::Scope;
use super::segments::{MOVEMENT_BY, MovementView, SegmentsView, query_for};
use super::sort::Sort;
use super::tag_picker::{PickTag, TagPicker};
use super::tags::TagsView;
use super::text::{display_name, thousands};
use super::trash::TrashView;
use super::worker::{Done, Job, Worker};
use crate::model::{AuditEvent, Customer, CustomerId, Stats};
use crate::search::engine::{Index, Narrowing};
use crate::search::rules::{self, Staleness};
use crate::search::{EvalContext, Query, parse};
use crate::segments::{self, Lookup, Settings};
use crate::store::{AuditFilter, Store};

mod tag_ops;

/// How many ranked hits a search fetches at first (the count is always
/// exact); scrolling near the end fetches four times more. A page of the
/// tallest screens, and no more than the index keeps per short query, so
/// the first keystrokes rank from those keys.
pub const RESULT_LIMIT: usize = crate::search::engine::SHORT_QUERY_KEYS;

/// The panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Customers,
    Tags,
    Duplicates,
    Segments,
    Quality,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Customers,
        Pane::Tags,
        Pane::Duplicates,
        Pane::Segments,
        Pane::Quality,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Customers => "Customers",
            Pane::Tags => "Tags",
            Pane::Duplicates => "Duplicates",
            Pane::Segments => "Segments",
            Pane::Quality => "Quality",
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// What keys do right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing into the search box.
    Search,
    Help,
    /// The 360° view of one customer.
    Detail,
    /// Editing a customer (or a new one) in a form.
    Edit,
    /// Adding a note in a form.
    Note,
    /// The trash view.
    Trash,
    /// Typing a command into the palette.
    Command,
    /// Picking a tag to add (`t`) or remove (`T`).
    TagPicker,
    /// Answering the Tags pane's "delete tag X?" (`y` deletes).
    Confirm,
    /// The audit log view.
    Audit,
    /// Typing an answer to a one-line question (a threshold, a filter,
    /// the confirmation of an erasure).
    Prompt,
}

/// Tag rows that fit in the Tags pane when `page` table rows fit (one
/// line goes to its keys or its question).
pub fn tags_page(page: usize) -> usize {
    page.saturating_sub(1).max(1)
}

/// Rows the mouse wheel moves per notch.
pub const WHEEL_ROWS: isize = 3;

/// Everything the 360° view shows about one customer, read once when opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub customer: Customer,
    pub stats: Stats,
    /// Newest first.
    pub orders: Vec<crate::model::Order>,
    /// Newest first.
    pub notes: Vec<crate::model::Note>,
    /// Newest first.
    pub history: Vec<crate::model::AuditEvent>,
    /// Spend per calendar month, oldest first: the 12 months up to the as-of date.
    pub monthly: Vec<(String, i64)>,
    /// P(alive), expected purchases and value under the fitted model, if any.
    pub prediction: Option<segments::predict::Prediction>,
}

impl Detail {
    /// Reads a customer's record, figures, orders, notes and history.
    pub fn load(store: &Store, id: CustomerId, as_of: NaiveDate) -> crate::store::Result<Detail> {
        let customer = store.require_customer(id)?;
        let stats = store.stats(id)?;
        let mut orders = store.orders_of(id)?;
        orders.reverse();
        let mut notes = store.notes_of(id)?;
        notes.reverse();
        let mut history = store.history_of(id)?;
        history.reverse();
        let monthly = monthly_spend(&orders, as_of);
        let prediction = store.clv_model()?.and_then(|m| {
            segments::predict::predict(&m, &stats, as_of, segments::predict::Horizon::default())
        });
        Ok(Detail {
            prediction,
            customer,
            stats,
            orders,
            notes,
            history,
            monthly,
        })
    }
}

/// Total spend per month for the 12 months ending with `as_of`'s month.
pub fn monthly_spend(orders: &[crate::model::Order], as_of: NaiveDate) -> Vec<(String, i64)> {
    use chrono::Datelike;
    let end = as_of.year() * 12 + as_of.month0() as i32;
    let mut out: Vec<(String, i64)> = (end - 11..=end)
        .map(|m| {
            (
                format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1),
                0,
            )
        })
        .collect();
    for o in orders {
        let m = o.date.year() * 12 + o.date.month0() as i32;
        if (end - 11..=end).contains(&m) {
            let slot = (m - (end - 11)) as usize;
            out[slot].1 = out[slot].1.saturating_add(o.amount_minor);
        }
    }
    out
}

/// One customer row as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub customer: Customer,
    pub stats: Stats,
}

/// Everything the screen shows, kept across frames.
pub struct App {
    pub store: Arc<Store>,
    pub index: Option<Arc<Index>>,
    pub keymap: KeyMap,
    pub as_of: NaiveDate,
    pub pane: Pane,
    pub mode: Mode,
    pub query: String,
    /// The parse error of the query, if any (the previous results stay).
    pub query_error: Option<String>,
    /// Ranked ids of the current search; `None` while browsing all customers.
    pub results: Option<Vec<CustomerId>>,
    /// Exact number of rows in the current view.
    pub total: usize,
    /// Before the index is loaded: the first page, read straight from the store.
    pub first_page: Vec<CustomerId>,
    pub cursor: usize,
    pub offset: usize,
    /// Rows that fit on screen (set from the terminal size).
    pub page: usize,
    pub visible: Vec<Row>,
    pub selected: HashSet<CustomerId>,
    pub masked: bool,
    pub detail: Option<Detail>,
    pub form: Option<super::form::Form>,
    pub note_form: Option<NoteForm>,
    pub palette: Option<Palette>,
    pub tag_picker: Option<TagPicker>,
    /// The Tags pane, read when shown and again after a change.
    pub tags: Option<TagsView>,
    /// The Segments pane (its figures also serve `rfm:` and the like in
    /// searches).
    pub segments: SegmentsView,
    /// The segment thresholds (DESIGN.md §5; `run` reads the config file).
    pub segment_settings: Settings,
    /// The Quality pane.
    pub quality: QualityView,
    /// The Duplicates pane (its queue, the cluster on screen, the merges).
    pub duplicates: DuplicatesView,
    /// The audit log view, while open.
    pub audit: Option<AuditView>,
    /// The one-line question being answered, if any.
    pub prompt: Option<Prompt>,
    /// Tag changes touching more customers than this run on the worker,
    /// with their progress in the status bar (see `app/tag_ops.rs`). When
    /// it is set, undo and redo run there too (their size is not known
    /// before: one may take back 100,000 taggings), and erasures run after
    /// a frame saying so (see [`App::run_pending`]: they scrub the whole
    /// audit log). `None` runs every one at once (tests).
    pub defer_bulk_above: Option<usize>,
    /// The tag change running on the worker, if any.
    tag_job: Option<tag_ops::TagJob>,
    /// The customer of a deferred erasure.
    pending_erase: Option<CustomerId>,
    /// The customers erased in this session: `run` rewrites the database
    /// files on the way out, as `rolo erase` does, so that no copy of
    /// their values stays in sled's log.
    pub erased: Vec<CustomerId>,
    pub trash: Option<TrashView>,
    /// The sort of the Customers pane; `None` is id order (relevance in a search).
    pub sort: Option<Sort>,
    /// Every live customer in `sort` order, once the worker has sorted them.
    sorted: Option<Arc<Vec<CustomerId>>>,
    pub status: Option<String>,
    pub quit: bool,
    narrowing: Option<Narrowing>,
    /// How many hits the current search fetched.
    fetched: usize,
    pub(super) worker: Worker,
    /// The last job number handed out.
    job: u64,
    /// Counts changes, so the worker knows when its cached keys are stale.
    data: u64,
    awaiting_sort: Option<u64>,
    awaiting_search: Option<u64>,
    awaiting_trash: Option<u64>,
    /// A new sort moves the cursor to the top when it arrives.
    sort_to_top: bool,
}

impl App {
    /// A new app on `store`; reads only the first page of customers.
    pub fn new(
        store: Arc<Store>,
        keymap: KeyMap,
        as_of: NaiveDate,
        page: usize,
    ) -> crate::store::Result<App> {
        let total = usize::try_from(store.live_count()?).unwrap_or(usize::MAX);
        let mut first_page = Vec::new();
        for c in store.customers().take(page.max(1) * 2) {
            first_page.push(c?.id);
        }
        let worker = Worker::spawn(Arc::clone(&store));
        let mut app = App {
            store,
            index: None,
            keymap,
            as_of,
            pane: Pane::Customers,
            mode: Mode::Normal,
            query: String::new(),
            query_error: None,
            results: None,
            total,
            first_page,
            cursor: 0,
            offset: 0,
            page: page.max(1),
            visible: Vec::new(),
            selected: HashSet::new(),
            masked: false,
            detail: None,
            form: None,
            note_form: None,
            palette: None,
            tag_picker: None,
            tags: None,
            segments: SegmentsView::default(),
            segment_settings: Settings::default(),
            quality: QualityView::default(),
            duplicates: DuplicatesView::default(),
            audit: None,
            prompt: None,
            defer_bulk_above: None,
            tag_job: None,
            pending_erase: None,
            erased: Vec::new(),
            trash: None,
            sort: None,
            sorted: None,
            status: None,
            quit: false,
            narrowing: None,
            fetched: RESULT_LIMIT,
            worker,
            job: 0,
            data: 0,
            awaiting_sort: None,
            awaiting_search: None,
            awaiting_trash: None,
            sort_to_top: false,
        };
        app.refresh_visible();
        Ok(app)
    }

    /// The change counter: moves with every change made here (the
    /// Segments pane's figures are out of date when it has moved).
    pub fn data_generation(&self) -> u64 {
        self.data
    }

    /// The search index arrived from the loader thread.
    pub fn set_index(&mut self, index: Arc<Index>) {
        self.total = index.len();
        self.index = Some(index);
        if !self.query.is_empty() {
            self.run_search();
        }
        if self.sort.is_some() && self.awaiting_sort.is_none() {
            self.request_sort();
        }
        self.refresh_visible();
    }

    /// The terminal changed size: `page` rows fit.
    pub fn resize(&mut self, page: usize) {
        self.page = page.max(1);
        self.scroll_to_cursor();
        let page = self.page;
        if let Some(t) = self.trash.as_mut() {
            t.move_by(0, page);
        }
        if let Some(t) = self.tags.as_mut() {
            t.move_by(0, tags_page(page));
        }
        let rows = self.segment_rows();
        self.segments.move_by(0, rows);
        let rows = self.quality_rows();
        self.quality.move_by(0, rows);
        let rows = self.audit_rows();
        if let Some(v) = self.audit.as_mut() {
            v.move_by(0, rows);
        }
        self.refresh_visible();
    }

    /// The id at a row position of the current view.
    pub fn id_at(&self, pos: usize) -> Option<CustomerId> {
        match (&self.results, &self.sorted, &self.index) {
            (Some(r), _, _) => r.get(pos).copied(),
            (None, Some(s), _) => s.get(pos).copied(),
            (None, None, Some(ix)) => ix.id_at(pos),
            (None, None, None) => self.first_page.get(pos).copied(),
        }
    }

    /// Rows that can be scrolled to (a search keeps its top hits).
    pub fn scrollable(&self) -> usize {
        match (&self.results, &self.sorted, &self.index) {
            (Some(r), _, _) => r.len(),
            (None, Some(s), _) => s.len(),
            (None, None, Some(ix)) => ix.len(),
            (None, None, None) => self.first_page.len(),
        }
    }

    /// Whether a sort is on but not shown yet (the worker is at it, or it
    /// waits for the index); the list shows its previous order meanwhile.
    pub fn is_sorting(&self) -> bool {
        self.awaiting_sort.is_some()
            || self.awaiting_search.is_some()
            || (self.sort.is_some() && self.sorted.is_none())
    }

    /// The mode to return to when an overlay, form or palette closes.
    pub fn base_mode(&self) -> Mode {
        if self.audit.is_some() {
            Mode::Audit
        } else if self.detail.is_some() {
            Mode::Detail
        } else if self.trash.is_some() {
            Mode::Trash
        } else {
            Mode::Normal
        }
    }

    /// The customer the keys act on: the one in the 360° view, else the
    /// trash view's current row, else the list's.
    pub fn current_id(&self) -> Option<CustomerId> {
        if let Some(d) = &self.detail {
            return Some(d.customer.id);
        }
        match (self.mode, &self.trash) {
            (Mode::Trash, Some(t)) => t.current().map(|c| c.id),
            _ => self.id_at(self.cursor),
        }
    }

    /// Takes in what the worker finished; returns whether the screen changed.
    pub fn poll_worker(&mut self) -> bool {
        let mut changed = false;
        while let Some(done) = self.worker.try_recv() {
            changed |= self.apply(done);
        }
        changed
    }

    /// Waits (up to `timeout` in all) until the worker has answered every
    /// job the app still waits for. For tests and benchmarks.
    pub fn settle(&mut self, timeout: Duration) {
        let start = std::time::Instant::now();
        while self.awaiting_sort.is_some()
            || self.awaiting_search.is_some()
            || self.awaiting_trash.is_some()
            || self.segments.is_busy()
            || self.segments.snapshotting.is_some()
            || self.quality.computing.is_some()
            || self.duplicates.is_busy()
            || self.audit.as_ref().is_some_and(|v| v.loading.is_some())
            || self
                .segments
                .movement
                .as_ref()
                .is_some_and(|m| m.loading.is_some())
            || self.is_tag_busy()
        {
            let Some(left) = timeout.checked_sub(start.elapsed()) else {
                return;
            };
            match self.worker.recv_timeout(left) {
                Some(done) => {
                    self.apply(done);
                }
                None => return,
            }
        }
    }

    fn apply(&mut self, done: Done) -> bool {
        match done {
            Done::Sorted { ticket, result } => {
                if self.awaiting_sort != Some(ticket) {
                    return false;
                }
                self.awaiting_sort = None;
                match result {
                    Ok(order) => {
                        self.sorted = Some(order);
                        if self.results.is_some() {
                            self.request_sorted_search();
                        } else {
                            self.total = self.index.as_ref().map_or(self.total, |ix| ix.len());
                        }
                        if std::mem::take(&mut self.sort_to_top) && self.results.is_none() {
                            self.cursor = 0;
                            self.offset = 0;
                        }
                        self.move_cursor(0);
                    }
                    Err(e) => self.status = Some(e),
                }
            }
            Done::Searched { ticket, result } => {
                if self.awaiting_search != Some(ticket) {
                    return false;
                }
                self.awaiting_search = None;
                match result {
                    Ok((total, ids)) => {
                        self.total = total;
                        self.fetched = ids.len();
                        self.results = Some(ids);
                        if std::mem::take(&mut self.sort_to_top) {
                            self.cursor = 0;
                            self.offset = 0;
                        }
                        self.move_cursor(0);
                    }
                    Err(e) => self.status = Some(e),
                }
            }
            Done::Trash { ticket, result } => {
                if self.awaiting_trash != Some(ticket) {
                    return false;
                }
                self.awaiting_trash = None;
                let page = self.page;
                match (result, self.trash.as_mut()) {
                    (Ok(rows), Some(t)) => t.fill(rows, page),
                    (Err(e), Some(t)) => {
                        t.loading = false;
                        self.status = Some(e);
                    }
                    (_, None) => {}
                }
            }
            Done::Segments {
                ticket,
                data,
                result,
            } => {
                if !self.apply_segments(ticket, data, result) {
                    return false;
                }
            }
            Done::Movement { ticket, result } => {
                let Some(m) = self.segments.movement.as_mut() else {
                    return false;
                };
                if m.loading != Some(ticket) {
                    return false;
                }
                m.loading = None;
                match result {
                    Ok(r) => {
                        let current = self
                            .segments
                            .figures
                            .as_ref()
                            .is_some_and(|f| Arc::ptr_eq(f, &r.figures));
                        if current {
                            self.segments.now = Some(Arc::clone(&r.now));
                            if let Some(m) = self.segments.movement.as_mut() {
                                m.result = Some(r);
                            }
                        }
                    }
                    Err(e) => self.status = Some(e),
                }
                self.sync_segments(false);
            }
            Done::Snapshot { ticket, result } => {
                let Some((waited, replaces)) = self.segments.snapshotting else {
                    return false;
                };
                if waited != ticket {
                    return false;
                }
                self.segments.snapshotting = None;
                match result {
                    Ok((day, n)) => {
                        let who = match n {
                            1 => "1 customer".to_owned(),
                            n => format!("{} customers", thousands(n as u64)),
                        };
                        // Short enough for the status bar at 80 columns.
                        let again = if replaces { " again" } else { "" };
                        self.status = Some(format!("recorded {who}{again} (snapshot {day})"));
                        self.reload_snapshot_days();
                    }
                    Err(e) => self.status = Some(e),
                }
            }
            Done::Quality {
                ticket,
                data,
                result,
            } => {
                let v = &mut self.quality;
                if v.computing != Some(ticket) {
                    return false;
                }
                v.computing = None;
                match result {
                    Ok((report, baseline)) => {
                        v.report = Some(report);
                        v.baseline = baseline;
                        v.data = data;
                        v.error = None;
                    }
                    Err(e) => {
                        v.error = Some(e.clone());
                        self.status = Some(e);
                    }
                }
            }
            Done::Audit {
                ticket,
                asked,
                result,
            } => {
                let rows = self.audit_rows();
                let Some(v) = self.audit.as_mut() else {
                    return false;
                };
                if v.loading != Some(ticket) {
                    return false;
                }
                v.loading = None;
                match result {
                    Ok(events) => {
                        v.error = None;
                        v.fill(events, asked, rows);
                    }
                    Err(e) => {
                        v.error = Some(e.clone());
                        self.status = Some(e);
                    }
                }
            }
            Done::Duplicates {
                ticket,
                data,
                result,
            } => {
                if !self.apply_duplicates(ticket, data, result) {
                    return false;
                }
            }
            Done::Merges { ticket, result } => {
                if !self.apply_merges(ticket, result) {
                    return false;
                }
            }
            Done::TagWrite {
                ticket,
                write,
                result,
            } => {
                if !self.apply_tag_write(ticket, &write, result) {
                    return false;
                }
            }
            Done::Undone {
                ticket,
                undo,
                result,
            } => {
                if !self.apply_undone(ticket, undo, result) {
                    return false;
                }
            }
            Done::RulePreview { ticket, result } => {
                if !self.apply_rule_preview(ticket, result) {
                    return false;
                }
            }
        }
        self.refresh_visible();
        true
    }

    /// Takes in figures and a summary from the worker; whether they were
    /// still wanted.
    fn apply_segments(
        &mut self,
        ticket: u64,
        data: u64,
        result: Result<(Arc<Lookup>, Box<segments::Summary>), String>,
    ) -> bool {
        let v = &mut self.segments;
        let computed = v.computing == Some(ticket);
        let summarized = v.summarizing.is_some_and(|(t, _)| t == ticket);
        match result {
            Ok((figures, summary)) if computed => {
                v.computing = None;
                v.summarizing = None;
                v.error = None;
                v.set_figures(figures, data);
                v.add_summary(*summary);
                if std::mem::take(&mut v.snapshot_waits) {
                    self.send_snapshot();
                }
                // A search with segment terms follows the new figures.
                let waits = std::mem::take(&mut self.segments.search_waits);
                let uses = parse(&self.query).is_ok_and(|q| segments::needs_figures(&q));
                if waits || uses {
                    let (cursor, offset) = (self.cursor, self.offset);
                    self.run_search();
                    if !waits {
                        self.cursor = cursor;
                        self.offset = offset;
                        self.move_cursor(0);
                    }
                }
            }
            Ok((figures, summary)) => {
                let current = v.figures.as_ref().is_some_and(|f| Arc::ptr_eq(f, &figures));
                if summarized {
                    v.summarizing = None;
                }
                if !current {
                    return false;
                }
                v.add_summary(*summary);
            }
            Err(e) => {
                if !computed && !summarized {
                    return false;
                }
                if computed {
                    v.computing = None;
                    v.search_waits = false;
                    v.snapshot_waits = false;
                }
                v.summarizing = None;
                v.error = Some(e.clone());
                self.status = Some(e);
            }
        }
        let rows = self.segment_rows();
        self.segments.move_by(0, rows);
        self.sync_segments(false);
        true
    }

    pub(super) fn next_job(&mut self) -> u64 {
        self.job += 1;
        self.job
    }

    /// Asks the worker for every live customer in the current sort order
    /// (once the index is loaded; `set_index` asks again).
    fn request_sort(&mut self) {
        let (Some(sort), Some(index)) = (self.sort, self.index.clone()) else {
            return;
        };
        let ticket = self.next_job();
        self.awaiting_sort = Some(ticket);
        self.worker.send(Job::Sort {
            ticket,
            data: self.data,
            sort,
            index,
        });
    }

    /// With a sort and a query: asks the worker for every match in sort
    /// order. The ranked hits stay on screen meanwhile.
    fn request_sorted_search(&mut self) {
        self.awaiting_search = None;
        if self.sort.is_none() || self.query.trim().is_empty() || self.query_error.is_some() {
            return;
        }
        let (Some(order), Some(index)) = (self.sorted.clone(), self.index.clone()) else {
            // The sorted order is on its way; its arrival asks again.
            return;
        };
        let ticket = self.next_job();
        self.awaiting_search = Some(ticket);
        self.worker.send(Job::SortedSearch {
            ticket,
            query: self.query.clone(),
            as_of: self.as_of,
            index,
            order,
            segments: self.segments.figures.clone(),
        });
    }

    /// Sorts the Customers pane by `sort` (or stops sorting).
    pub fn set_sort(&mut self, sort: Option<Sort>) {
        self.sort = sort;
        self.awaiting_sort = None;
        self.awaiting_search = None;
        self.sorted = None;
        self.pane = Pane::Customers;
        self.cursor = 0;
        self.offset = 0;
        match sort {
            None => {
                self.sort_to_top = false;
                self.run_search();
                self.status = Some("unsorted: id order, or relevance in a search".into());
            }
            Some(_) => {
                // The status bar says "sorting…" until the order arrives.
                self.sort_to_top = true;
                self.request_sort();
            }
        }
        self.refresh_visible();
    }

    /// Mouse: the wheel scrolls the list (or the trash view) by a few rows.
    pub fn on_mouse(&mut self, ev: MouseEvent) -> bool {
        let delta = match ev.kind {
            MouseEventKind::ScrollDown => WHEEL_ROWS,
            MouseEventKind::ScrollUp => -WHEEL_ROWS,
            _ => return false,
        };
        match self.mode {
            Mode::Normal | Mode::Search if self.pane == Pane::Customers => {
                self.move_cursor(delta);
                self.refresh_visible();
                true
            }
            Mode::Normal if matches!(self.pane, Pane::Segments | Pane::Quality) => {
                self.move_in_view(delta, false);
                true
            }
            Mode::Audit => {
                self.move_in_view(delta, false);
                true
            }
            Mode::Normal if self.pane == Pane::Duplicates => {
                self.scroll_duplicates(delta);
                true
            }
            Mode::Trash => {
                let page = self.page;
                if let Some(t) = self.trash.as_mut() {
                    t.move_by(delta, page);
                }
                true
            }
            _ => false,
        }
    }

    /// Handles one key event; returns whether the screen needs redrawing.
    pub fn on_key(&mut self, key: KeyEvent) -> bool {
        if key.kind != KeyEventKind::Press {
            return false;
        }
        match self.mode {
            Mode::Search => self.on_search_key(key),
            Mode::Help => {
                self.mode = self.base_mode();
                true
            }
            Mode::Edit => {
                self.on_form_key(key);
                true
            }
            Mode::Note => {
                self.on_note_key(key);
                true
            }
            Mode::Command => {
                self.on_palette_key(key);
                true
            }
            Mode::TagPicker => {
                self.on_picker_key(key);
                true
            }
            Mode::Confirm => {
                self.on_confirm_key(key);
                true
            }
            Mode::Prompt => {
                self.on_prompt_key(key);
                true
            }
            Mode::Normal | Mode::Detail | Mode::Trash | Mode::Audit => {
                match self.keymap.action_in(key, self.scope().section()) {
                    Some(a) => {
                        if a == Action::PickRecord {
                            self.duplicates.digit = digit_of(key);
                        }
                        let what =
                            super::keymap::key_name(key).unwrap_or_else(|| a.name().to_owned());
                        self.dispatch(a, &what);
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// What the screen shows under any overlay: decides which keys act.
    pub fn scope(&self) -> Scope {
        if self.audit.is_some() {
            Scope::Audit
        } else if self.detail.is_some() {
            Scope::Detail
        } else if self.trash.is_some() {
            Scope::Trash
        } else if self.pane == Pane::Customers {
            Scope::List
        } else if self.pane == Pane::Tags {
            Scope::Tags
        } else if self.pane == Pane::Segments {
            if self.segments.movement.is_some() {
                Scope::Movement
            } else {
                Scope::Segments
            }
        } else if self.pane == Pane::Quality {
            Scope::Quality
        } else if self.pane == Pane::Duplicates {
            if self.duplicates.merges.is_some() {
                Scope::Merges
            } else {
                Scope::Duplicates
            }
        } else {
            Scope::Placeholder(self.pane)
        }
    }

    /// Runs `action` if it acts in the current scope (closing the 360° or
    /// trash view for the keys that close them); otherwise says so in the
    /// status bar. `what` names the key or command for that message.
    fn dispatch(&mut self, action: Action, what: &str) {
        if self.waits_for_tag_write(action, what) {
            return;
        }
        let scope = self.scope();
        if scope.closes(action) {
            self.status = None;
            match scope {
                Scope::Detail => self.detail = None,
                Scope::Movement => self.segments.movement = None,
                Scope::Merges => self.duplicates.merges = None,
                Scope::Audit => match self.audit.as_mut() {
                    // Esc closes the event's changes first, then the log.
                    Some(v) if v.open && action == Action::Clear => v.open = false,
                    _ => self.audit = None,
                },
                _ => self.close_views(),
            }
            self.mode = self.base_mode();
            // What a closed view changed shows in the pane under it.
            self.sync_duplicates(false);
        } else if scope.acts(action) {
            self.update(action);
        } else if action.is_pane_only() {
            let pane_key = |a: Action, default: &'static str| {
                self.keymap.key_for(a).unwrap_or(default).to_owned()
            };
            let whereto = match action.sections() {
                [Section::Segments] => format!(
                    "the Segments pane; {} goes there",
                    pane_key(Action::PaneSegments, "4")
                ),
                [Section::Quality] => format!(
                    "the Quality pane; {} goes there",
                    pane_key(Action::PaneQuality, "5")
                ),
                [Section::Audit] => {
                    format!("the audit log; {} opens it", pane_key(Action::Audit, "A"))
                }
                [Section::Duplicates] => format!(
                    "the Duplicates pane; {} goes there",
                    pane_key(Action::PaneDuplicates, "3")
                ),
                [Section::Tags] => format!(
                    "the Tags pane; {} goes there",
                    pane_key(Action::PaneTags, "2")
                ),
                several => {
                    let names: Vec<&str> = several.iter().map(|s| s.title()).collect();
                    match names.split_last() {
                        Some((last, rest)) if !rest.is_empty() => {
                            format!("the {} and {last} panes", rest.join(", "))
                        }
                        _ => "its pane".to_owned(),
                    }
                }
            };
            self.status = Some(format!("{what} acts in {whereto}"));
        } else {
            let customers = self.keymap.key_for(Action::PaneCustomers).unwrap_or("1");
            let help = self.keymap.key_for(Action::Help).unwrap_or("?");
            self.status = Some(scope.refusal(what, customers, help));
        }
    }

    fn on_search_key(&mut self, key: KeyEvent) -> bool {
        match key.code {
            KeyCode::Esc | KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                self.query.pop();
                self.run_search();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.query.clear();
                self.run_search();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.query.push(c);
                self.run_search();
            }
            KeyCode::Down => self.update(Action::Down),
            KeyCode::Up => self.update(Action::Up),
            _ => return false,
        }
        self.refresh_visible();
        true
    }

    /// Applies one action. Pure state change plus store reads; no terminal I/O.
    pub fn update(&mut self, action: Action) {
        self.status = None;
        let in_trash = self.mode == Mode::Trash && self.trash.is_some();
        let was_shown = self.pane == Pane::Segments;
        let was_quality = self.pane == Pane::Quality;
        let in_segments = matches!(self.scope(), Scope::Segments | Scope::Movement);
        let in_quality = self.scope() == Scope::Quality;
        let was_duplicates = self.pane == Pane::Duplicates;
        let in_duplicates = matches!(self.scope(), Scope::Duplicates | Scope::Merges);
        match action {
            a if in_duplicates && super::duplicates::acts_on(a) => self.on_duplicates(a),
            Action::PickRecord
            | Action::DropMember
            | Action::Merge
            | Action::NotDuplicate
            | Action::Skip
            | Action::Unmerge => self.on_duplicates(action),
            Action::Quit => self.quit = true,
            Action::Help => self.mode = Mode::Help,
            Action::Down => self.move_in_view(1, in_trash),
            Action::Up => self.move_in_view(-1, in_trash),
            Action::PageDown => self.move_in_view(self.page as isize, in_trash),
            Action::PageUp => self.move_in_view(-(self.page as isize), in_trash),
            Action::Top => self.move_in_view(isize::MIN / 2, in_trash),
            Action::Bottom => self.move_in_view(isize::MAX / 2, in_trash),
            Action::Search => {
                self.close_views();
                self.pane = Pane::Customers;
                self.mode = Mode::Search;
            }
            Action::ToggleSelect => {
                if let Some(id) = self.id_at(self.cursor) {
                    if !self.selected.remove(&id) {
                        self.selected.insert(id);
                    }
                }
            }
            Action::SelectAll => self.select_all(),
            Action::Tag if in_segments => self.tag_segment(true),
            Action::Untag if in_segments => self.tag_segment(false),
            Action::Tag => self.open_tag_picker(true),
            Action::Untag => self.open_tag_picker(false),
            Action::NextSegmentation => self.segments.cycle(1),
            Action::PrevSegmentation => self.segments.cycle(-1),
            Action::Movement => self.toggle_movement(),
            Action::Snapshot => self.take_snapshot(),
            Action::Recompute if in_quality => {
                self.quality.error = None;
                self.request_quality();
            }
            Action::Recompute => {
                self.segments.error = None;
                self.request_figures();
            }
            Action::NextColumn => self.quality.cycle_column(1),
            Action::PrevColumn => self.quality.cycle_column(-1),
            Action::SaveBaseline => self.save_baseline(),
            Action::StaleDays => {
                let days = self.quality.stale_days.to_string();
                self.prompt = Some(Prompt::new(Ask::StaleDays, days));
                self.mode = Mode::Prompt;
            }
            Action::Audit => self.open_audit(AuditFilter::default()),
            Action::AuditFilter => {
                let line = self
                    .audit
                    .as_ref()
                    .map(|v| filter_line(&v.filter))
                    .unwrap_or_default();
                self.prompt = Some(Prompt::new(Ask::AuditFilter, line));
                self.mode = Mode::Prompt;
            }
            Action::Erase => self.ask_erase(),
            Action::Clear => {
                self.query.clear();
                self.selected.clear();
                self.run_search();
            }
            Action::NextPane => self.pane = Pane::ALL[(self.pane.index() + 1) % Pane::ALL.len()],
            Action::PrevPane => {
                self.pane = Pane::ALL[(self.pane.index() + Pane::ALL.len() - 1) % Pane::ALL.len()]
            }
            Action::PaneCustomers => self.pane = Pane::Customers,
            Action::PaneTags => self.pane = Pane::Tags,
            Action::PaneDuplicates => self.pane = Pane::Duplicates,
            Action::PaneSegments => self.pane = Pane::Segments,
            Action::PaneQuality => self.pane = Pane::Quality,
            Action::ToggleMask => self.masked = !self.masked,
            Action::NewTag => self.ask_new_tag(),
            Action::RenameTag => self.ask_rename_tag(),
            Action::MergeTag => self.open_merge_picker(),
            Action::DeleteTag => self.ask_delete_tag(),
            Action::DescribeTag => self.ask_tag_look(false),
            Action::ColourTag => self.ask_tag_look(true),
            Action::TagRule => self.ask_tag_rule(),
            Action::Trash => self.trash_current(),
            Action::ShowTrash => self.open_trash(),
            Action::Restore => self.restore_current(),
            Action::Undo | Action::Redo => self.undo_redo(action == Action::Undo),
            Action::Edit => {
                if let Some(id) = self.current_id() {
                    match self.store.customer(id) {
                        Ok(Some(c)) => {
                            self.form = Some(super::form::Form::edit(&c));
                            self.mode = Mode::Edit;
                        }
                        Ok(None) => self.status = Some(format!("customer {id} is gone")),
                        Err(e) => self.status = Some(format!("cannot edit customer {id}: {e}")),
                    }
                } else {
                    self.say_nobody_here();
                }
            }
            Action::New => {
                self.form = Some(super::form::Form::new_customer());
                self.mode = Mode::Edit;
            }
            Action::AddNote => {
                if let Some(id) = self.current_id() {
                    match self.store.customer(id) {
                        Ok(Some(c)) => {
                            self.note_form =
                                Some(NoteForm::new(id, &display_name(&c, self.masked)));
                            self.mode = Mode::Note;
                        }
                        Ok(None) => self.status = Some(format!("customer {id} is gone")),
                        Err(e) => self.status = Some(format!("cannot add a note to {id}: {e}")),
                    }
                } else {
                    self.say_nobody_here();
                }
            }
            Action::Sort => {
                let next = Sort::cycle(self.sort);
                self.set_sort(next);
            }
            Action::SortReverse => match self.sort {
                Some(s) => self.set_sort(Some(s.reversed())),
                None => {
                    let key = self.keymap.key_for(Action::Sort).unwrap_or("s");
                    self.status = Some(format!("not sorted yet: {key} sorts"));
                }
            },
            Action::Palette => {
                self.palette = Some(Palette::default());
                self.mode = Mode::Command;
            }
            Action::Open if self.scope() == Scope::Tags => self.open_tag(),
            Action::Open if in_segments => self.open_segment(),
            Action::Open if in_quality => self.drill_down(),
            Action::Open if self.scope() == Scope::Audit => {
                if let Some(v) = self.audit.as_mut() {
                    v.open = !v.open && v.current().is_some();
                }
            }
            Action::Open => {
                let id = match (in_trash, &self.trash) {
                    (true, Some(t)) => t.current().map(|c| c.id),
                    _ => self.id_at(self.cursor),
                };
                if let Some(id) = id {
                    match Detail::load(&self.store, id, self.as_of) {
                        Ok(d) => {
                            self.detail = Some(d);
                            self.mode = Mode::Detail;
                        }
                        Err(e) => self.status = Some(format!("cannot open customer {id}: {e}")),
                    }
                } else {
                    self.say_nobody_here();
                }
            }
        }
        self.sync_tags();
        let entered = !was_shown && self.pane == Pane::Segments;
        if entered {
            self.segments.error = None;
        }
        self.sync_segments(entered);
        let entered = !was_quality && self.pane == Pane::Quality;
        if entered {
            self.quality.error = None;
        }
        self.sync_quality(entered);
        self.sync_duplicates(!was_duplicates && self.pane == Pane::Duplicates);
        self.refresh_visible();
    }

    /// Runs a command from the palette.
    pub fn run_command(&mut self, command: Command) {
        match command {
            Command::Run(action) => self.dispatch(action, &format!(":{}", action.name())),
            Command::Sort(sort) => self.set_sort(sort),
            Command::Search(query) => {
                self.close_views();
                self.pane = Pane::Customers;
                self.mode = Mode::Normal;
                self.query = query;
                self.status = None;
                self.run_search();
                self.refresh_visible();
            }
            Command::StaleDays(days) => {
                self.close_views();
                self.pane = Pane::Quality;
                self.mode = Mode::Normal;
                self.set_stale_days(days);
            }
            Command::Audit(filter) => self.open_audit(filter),
            Command::Backup(file) => self.backup(&file),
        }
    }

    /// `:backup FILE`: a backup taken by this process, which holds the
    /// database (the walk waits for a change being committed). An existing
    /// file is never replaced from here.
    fn backup(&mut self, file: &std::path::Path) {
        self.status = Some(if file.exists() {
            format!("{} exists; choose another file name", file.display())
        } else {
            match self.store.backup(file, &mut |_| {}) {
                Ok(s) => format!(
                    "backed up {} keys to {} (sha256 {})",
                    s.keys,
                    file.display(),
                    s.sha256.get(..16).unwrap_or_default()
                ),
                Err(e) => format!("backup failed: {e}"),
            }
        });
    }

    /// Closes the 360° view, the trash view and the audit log (a search
    /// replaces them).
    fn close_views(&mut self) {
        self.detail = None;
        self.trash = None;
        self.awaiting_trash = None;
        self.audit = None;
    }

    fn move_in_view(&mut self, delta: isize, in_trash: bool) {
        let page = self.page;
        // A page key moves by the rows the view shows, not the list's.
        let paged = |rows: usize| match delta {
            d if d == page as isize => rows as isize,
            d if d == -(page as isize) => -(rows as isize),
            d => d,
        };
        if self.scope() == Scope::Quality {
            let rows = self.quality_rows();
            self.quality.move_by(paged(rows), rows);
            return;
        }
        if self.scope() == Scope::Audit {
            let rows = self.audit_rows();
            let delta = paged(rows);
            let more = self.audit.as_ref().and_then(|v| v.wants_more(delta, rows));
            if let Some(n) = more {
                self.request_audit(n);
            }
            if let Some(v) = self.audit.as_mut() {
                v.move_by(delta, rows);
            }
            return;
        }
        if self.scope() == Scope::Segments {
            let rows = self.segment_rows();
            let delta = match delta {
                d if d == page as isize => rows as isize,
                d if d == -(page as isize) => -(rows as isize),
                d => d,
            };
            self.segments.move_by(delta, rows);
            return;
        }
        if self.scope() == Scope::Movement {
            let rows = super::panes::segments::movement_rows(page + 1);
            if let Some(m) = self.segments.movement.as_mut() {
                if delta.unsigned_abs() == page {
                    // Pages scroll the moves; other keys choose the snapshot.
                    let step = if delta > 0 {
                        rows as isize
                    } else {
                        -(rows as isize)
                    };
                    m.offset = (m.offset as isize + step).max(0) as usize;
                    let n = m
                        .result
                        .as_ref()
                        .and_then(|r| r.moves.iter().find(|(b, _)| *b == self.segments.by))
                        .map_or(0, |(_, moves)| moves.len());
                    m.offset = m.offset.min(n.saturating_sub(1));
                } else {
                    m.choose_by(delta);
                }
            }
            return;
        }
        if self.scope() == Scope::Tags {
            self.sync_tags();
            if let Some(t) = self.tags.as_mut() {
                t.move_by(delta, tags_page(page));
            }
            return;
        }
        match (in_trash, self.trash.as_mut()) {
            (true, Some(t)) => t.move_by(delta, page),
            _ => self.move_cursor(delta),
        }
    }

    /// Reads the Tags pane when it is shown and out of date.
    fn sync_tags(&mut self) {
        if self.scope() != Scope::Tags || self.tags.as_ref().is_some_and(|t| t.data == self.data) {
            return;
        }
        match TagsView::load(&self.store, self.data, self.tags.as_ref()) {
            Ok(mut t) => {
                t.move_by(0, tags_page(self.page));
                self.tags = Some(t);
            }
            Err(e) => self.status = Some(format!("reading the tags failed: {e}")),
        }
    }

    /// Figure rows of the Quality pane on screen (the pane is one row
    /// taller than a page of the list).
    fn quality_rows(&self) -> usize {
        super::panes::quality::item_rows(self.page + 1)
    }

    /// Event rows of the audit log on screen.
    fn audit_rows(&self) -> usize {
        super::panes::audit::event_rows(self.page + 1)
    }

    /// Computes the quality report when the Quality pane is shown and has
    /// none, or is `entered` after a change; never twice at once, nor again
    /// after it failed (until `r` or the pane is shown again).
    fn sync_quality(&mut self, entered: bool) {
        if self.scope() != Scope::Quality {
            return;
        }
        let v = &self.quality;
        if v.computing.is_some() || v.error.is_some() {
            return;
        }
        if v.report.is_none() || (entered && v.is_stale(self.data)) {
            self.request_quality();
        }
    }

    /// Computes the quality report (again) on the worker; the pane shows
    /// the old one, if any, meanwhile.
    fn request_quality(&mut self) {
        let ticket = self.next_job();
        self.quality.computing = Some(ticket);
        self.worker.send(Job::Quality {
            ticket,
            data: self.data,
            opts: crate::quality::Options {
                as_of: self.as_of,
                stale_days: self.quality.stale_days,
            },
        });
    }

    /// A new staleness threshold: the report is computed again with it.
    fn set_stale_days(&mut self, days: u32) {
        self.quality.stale_days = days;
        self.quality.error = None;
        self.request_quality();
        self.status = Some(format!("stale now means over {days} days; recomputing…"));
    }

    /// Enter in the Quality pane: the customers behind the figure under
    /// the cursor, in the Customers pane (the search box holds its query).
    fn drill_down(&mut self) {
        match self.quality.current_figure() {
            Ok((_, figure)) => {
                let query = figure.query.clone();
                self.run_command(Command::Search(query));
            }
            Err(why) => self.status = Some(why),
        }
    }

    /// `S` in the Quality pane: saves the report's figures as the baseline
    /// later visits compare with (as `rolo quality --save` does).
    fn save_baseline(&mut self) {
        let key = self
            .keymap
            .key_in(Action::Recompute, Some(Section::Quality))
            .unwrap_or("r");
        let Some(report) = self.quality.report.as_deref() else {
            self.status = Some("the report is still being computed".to_owned());
            return;
        };
        if self.quality.computing.is_some() || self.quality.is_stale(self.data) {
            self.status = Some(format!(
                "the report is out of date: {key} recomputes it first"
            ));
            return;
        }
        match crate::quality::save(&self.store, report).and_then(|()| self.store.quality_figures())
        {
            Ok(saved) => {
                self.quality.baseline = saved;
                self.status = Some(format!(
                    "saved as the baseline (score {:.1}); later visits compare with it",
                    report.score
                ));
            }
            Err(e) => self.status = Some(format!("saving the baseline failed: {e}")),
        }
    }

    /// Opens the audit log view on `filter`; the worker reads its first page.
    fn open_audit(&mut self, filter: AuditFilter) {
        self.close_views();
        self.audit = Some(AuditView::new(filter));
        self.mode = Mode::Audit;
        self.request_audit(FIRST_PAGE);
    }

    /// Asks the worker for the newest `n` events passing the view's filter.
    fn request_audit(&mut self, n: usize) {
        let ticket = self.next_job();
        let Some(v) = self.audit.as_mut() else {
            return;
        };
        v.loading = Some(ticket);
        let filter = v.page(n);
        self.worker.send(Job::Audit { ticket, filter });
    }

    /// `X`: asks, with what will go, before erasing the current customer.
    fn ask_erase(&mut self) {
        let Some(id) = self.current_id() else {
            self.say_nobody_here();
            return;
        };
        let c = match self.store.customer(id) {
            Ok(Some(c)) => c,
            Ok(None) => {
                self.status = Some(format!("customer {id} is gone"));
                return;
            }
            Err(e) => {
                self.status = Some(format!("cannot read customer {id}: {e}"));
                return;
            }
        };
        let notes = self.store.notes_of(id).map_or(0, |n| n.len());
        let orders = self.store.stats(id).map_or(0, |s| u64::from(s.orders));
        let target = EraseTarget {
            id,
            name: display_name(&c, self.masked),
            emails: c.emails.len(),
            phones: c.phones.len(),
            tags: c.tags.len(),
            notes,
            orders,
            trashed: c.trashed_at.is_some(),
        };
        self.prompt = Some(Prompt::new(Ask::Erase(Box::new(target)), ""));
        self.mode = Mode::Prompt;
    }

    fn on_prompt_key(&mut self, key: KeyEvent) {
        let Some(prompt) = self.prompt.as_mut() else {
            self.mode = self.base_mode();
            return;
        };
        match prompt.on_key(key) {
            PromptOutcome::Continue => {}
            PromptOutcome::Cancel => {
                let ask = self.prompt.take().map(|p| p.ask);
                self.mode = self.base_mode();
                if let Some(Ask::Erase(t)) = ask {
                    self.status = Some(format!("kept {}: nothing was erased", t.name));
                }
            }
            PromptOutcome::Submit => self.submit_prompt(),
        }
    }

    /// Enter on a question: acts on a valid answer, or keeps the question
    /// open with the reason.
    fn submit_prompt(&mut self) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        match &prompt.ask {
            Ask::StaleDays => match parse_stale_days(&prompt.input) {
                Ok(days) => {
                    self.prompt = None;
                    self.mode = self.base_mode();
                    self.set_stale_days(days);
                }
                Err(e) => prompt.error = Some(e),
            },
            Ask::AuditFilter => match parse_filter(&prompt.input) {
                Ok(filter) => {
                    self.prompt = None;
                    self.open_audit(filter);
                }
                Err(e) => prompt.error = Some(e),
            },
            Ask::Tag(_) => self.submit_tag_prompt(),
            Ask::Erase(t) => {
                if !confirms_erase(&prompt.input, t.id) {
                    prompt.error = Some(format!("type {} or yes to erase; esc keeps them", t.id));
                    return;
                }
                let (id, name) = (t.id, t.name.clone());
                self.prompt = None;
                self.mode = self.base_mode();
                if self.defer_bulk_above.is_some() {
                    // It scrubs the whole audit log: say so first.
                    self.status = Some(format!("erasing {name}: scrubbing the audit log…"));
                    self.pending_erase = Some(id);
                } else {
                    self.erase(id);
                }
            }
        }
    }

    /// Erases customer `id`'s personal data (one store call); the files
    /// are rewritten when rolo quits (see [`App::erased`]).
    fn erase(&mut self, id: CustomerId) {
        match self.store.erase_customer(id) {
            Ok(r) => {
                self.erased.push(id);
                self.selected.remove(&id);
                self.after_change(&[id]);
                self.status = Some(if r.mentions.is_empty() {
                    format!("erased customer {id}; files compacted on quit")
                } else {
                    format!(
                        "erased customer {id}; edit {} (mentions them); compacted on quit",
                        r.mentions.join(", ")
                    )
                });
            }
            Err(e) => self.status = Some(format!("erase failed: {e}")),
        }
    }

    /// Segment rows of the table on screen (the pane is one row taller
    /// than a page of the list).
    fn segment_rows(&self) -> usize {
        let rows = self.segments.summary().map_or(0, |s| s.rows.len());
        super::panes::segments::layout(self.page + 1, rows)
            .table
            .max(1)
    }

    /// Asks the worker for what the shown Segments pane lacks: figures
    /// (when there are none, or when `entered` after a change), the chosen
    /// segmentation's summary, the chosen snapshot's movement. Nothing is
    /// asked twice while on its way, nor again after it failed (until `r`
    /// or the pane is shown again).
    fn sync_segments(&mut self, entered: bool) {
        if !matches!(self.scope(), Scope::Segments | Scope::Movement) {
            return;
        }
        let v = &self.segments;
        if v.computing.is_some() || v.error.is_some() {
            return;
        }
        if v.figures.is_none() || (entered && v.is_stale(self.data)) {
            self.request_figures();
            return;
        }
        let by = v.by;
        if v.summary().is_none() && v.summarizing.is_none_or(|(_, b)| b != by) {
            let ticket = self.next_job();
            self.segments.summarizing = Some((ticket, by));
            self.worker.send(Job::Segments {
                ticket,
                data: self.data,
                by,
                figures: self.segments.figures.clone(),
                as_of: self.as_of,
                settings: self.segment_settings.clone(),
            });
        }
        let wanted = self.segments.movement.as_ref().and_then(|m| {
            (!m.is_current() && m.loading.is_none())
                .then(|| m.day())
                .flatten()
        });
        if let (Some(day), Some(figures)) = (wanted, self.segments.figures.clone()) {
            let ticket = self.next_job();
            let now = self.segments.now.clone();
            if let Some(m) = self.segments.movement.as_mut() {
                m.loading = Some(ticket);
            }
            self.worker.send(Job::Movement {
                ticket,
                day,
                figures,
                now,
            });
        }
    }

    /// Computes the segment figures (again) on the worker; the table
    /// shows the old ones, if any, meanwhile.
    fn request_figures(&mut self) {
        let ticket = self.next_job();
        self.segments.computing = Some(ticket);
        self.segments.summarizing = None;
        self.worker.send(Job::Segments {
            ticket,
            data: self.data,
            by: self.segments.by,
            figures: None,
            as_of: self.as_of,
            settings: self.segment_settings.clone(),
        });
    }

    /// The figures a search for `q` evaluates with: `None` when it has no
    /// segment terms, or when the figures are not computed yet (they are
    /// asked for, and the search runs again when they arrive).
    fn figures_for(&mut self, q: &Query) -> Option<Arc<Lookup>> {
        if !segments::needs_figures(q) {
            return None;
        }
        if let Some(f) = &self.segments.figures {
            return Some(Arc::clone(f));
        }
        self.segments.search_waits = true;
        if self.segments.computing.is_none() {
            self.request_figures();
        }
        None
    }

    /// Enter in the Segments pane: the segment's customers in the
    /// Customers pane (the search box holds its query).
    fn open_segment(&mut self) {
        match self.segment_query() {
            Ok((query, _)) => self.run_command(Command::Search(query)),
            Err(why) => self.status = Some(why),
        }
    }

    /// The query of the segment under the cursor, and its name; or why
    /// there is none.
    fn segment_query(&self) -> Result<(String, String), String> {
        let v = &self.segments;
        let Some(summary) = v.summary() else {
            return Err("the segments are still being computed".to_owned());
        };
        let Some(row) = v.current() else {
            return Err("no segment here".to_owned());
        };
        let settings = v
            .figures
            .as_ref()
            .map_or(&self.segment_settings, |f| &f.figures.settings);
        query_for(summary.by, &row.segment, &summary.rows, settings)
            .map(|q| (q, row.segment.clone()))
            .ok_or_else(|| format!("{} has no query", row.segment))
    }

    /// `t` / `T` in the Segments pane: the tag picker for every customer
    /// of the segment under the cursor (what its query finds).
    fn tag_segment(&mut self, add: bool) {
        let verb = if add { "tag" } else { "untag" };
        let (query, name) = match self.segment_query() {
            Ok(q) => q,
            Err(why) => {
                self.status = Some(why);
                return;
            }
        };
        let Some(index) = self.index.clone() else {
            self.status = Some("still loading the index; try again in a moment".into());
            return;
        };
        let q = match parse(&query) {
            Ok(q) => q,
            Err(e) => {
                self.status = Some(format!("{verb} failed: {e}"));
                return;
            }
        };
        let figures = self.segments.figures.clone();
        let ctx = figures
            .as_deref()
            .map_or_else(|| EvalContext::new(self.as_of), Lookup::context);
        let ids: Vec<CustomerId> = match index.search(&self.store, &q, &ctx, usize::MAX, None) {
            Ok((r, _)) => r.hits.into_iter().map(|h| h.id).collect(),
            Err(e) => {
                self.status = Some(format!("{verb} failed: {e}"));
                return;
            }
        };
        let what = match ids.len() {
            0 => {
                self.status = Some(format!("{verb}: {name} has no customers"));
                return;
            }
            1 => format!("the 1 customer of {name}"),
            n => format!("the {} customers of {name}", thousands(n as u64)),
        };
        self.open_picker_for(add, ids, what);
    }

    /// `m`: the movement view (among the segmentations snapshots keep),
    /// newest snapshot first; `m` or Esc goes back.
    fn toggle_movement(&mut self) {
        if self.segments.movement.take().is_some() {
            return;
        }
        if !MOVEMENT_BY.contains(&self.segments.by) {
            self.segments.by = MOVEMENT_BY[0];
            self.segments.cursor = 0;
            self.segments.offset = 0;
        }
        self.segments.movement = Some(MovementView::default());
        self.reload_snapshot_days();
    }

    /// Reads the days with a snapshot again, keeping the chosen one.
    fn reload_snapshot_days(&mut self) {
        let Some(m) = self.segments.movement.as_mut() else {
            return;
        };
        match self.store.snapshot_days() {
            Ok(mut days) => {
                days.reverse();
                let chosen = m.day();
                m.cursor = chosen
                    .and_then(|d| days.iter().position(|x| *x == d))
                    .unwrap_or(0);
                m.days = days;
            }
            Err(e) => self.status = Some(format!("reading the snapshots failed: {e}")),
        }
        self.sync_segments(false);
    }

    /// `S`: records every customer's segments as of the as-of date, from
    /// fresh figures (computed first when they are out of date).
    fn take_snapshot(&mut self) {
        if self.segments.snapshotting.is_some() {
            self.status = Some("already recording a snapshot…".into());
            return;
        }
        let fresh = self.segments.computing.is_none() && !self.segments.is_stale(self.data);
        if fresh && self.segments.figures.is_some() {
            self.send_snapshot();
        } else {
            self.segments.snapshot_waits = true;
            if self.segments.computing.is_none() {
                self.segments.error = None;
                self.request_figures();
            }
            self.status = Some("computing the segments, then recording a snapshot…".into());
        }
    }

    fn send_snapshot(&mut self) {
        let Some(figures) = self.segments.figures.clone() else {
            return;
        };
        let replaces = self
            .store
            .snapshot_days()
            .is_ok_and(|d| d.contains(&figures.figures.as_of));
        let ticket = self.next_job();
        self.segments.snapshotting = Some((ticket, replaces));
        let n = thousands(figures.figures.customers());
        self.status = Some(format!("recording the segments of {n} customers…"));
        self.worker.send(Job::Snapshot { ticket, figures });
    }

    /// Enter in the Tags pane: the tag's customers in the Customers pane.
    fn open_tag(&mut self) {
        let Some(row) = self.tags.as_ref().and_then(|t| t.current()) else {
            self.status = Some(self.no_tags());
            return;
        };
        let query = row.query();
        self.run_command(Command::Search(query));
    }

    /// `d`: moves the current customer to the trash.
    fn trash_current(&mut self) {
        let Some(id) = self.current_id() else {
            self.say_nobody_here();
            return;
        };
        let name = self.name_of(id);
        match self.store.customer(id) {
            Ok(Some(c)) if c.trashed_at.is_some() => {
                self.status = Some(format!("{name} is already in the trash"));
                return;
            }
            _ => {}
        }
        match self.store.trash_customer(id) {
            Ok(()) => {
                self.after_change(&[id]);
                self.status = Some(format!("moved {name} to the trash (u undoes)"));
            }
            Err(e) => self.status = Some(format!("trash failed: {e}")),
        }
    }

    /// `D`: opens the trash view; the worker reads the trash.
    fn open_trash(&mut self) {
        self.detail = None;
        self.pane = Pane::Customers;
        self.trash = Some(TrashView::loading());
        self.mode = Mode::Trash;
        let ticket = self.next_job();
        self.awaiting_trash = Some(ticket);
        self.worker.send(Job::Trash { ticket });
    }

    /// `r`: restores the trash view's current customer (or the trashed
    /// customer open in the 360° view).
    fn restore_current(&mut self) {
        let key = self.keymap.key_for(Action::ShowTrash).unwrap_or("D");
        let Some(id) = self.current_id() else {
            if self.scope() == Scope::Trash {
                self.status = Some("the trash is empty".to_owned());
            } else {
                self.status = Some(format!("nothing to restore: {key} lists the trash"));
            }
            return;
        };
        let name = self.name_of(id);
        match self.store.customer(id) {
            Ok(Some(c)) if c.trashed_at.is_some() => {}
            _ => {
                self.status = Some(format!("{name} is not trashed; {key} lists the trash"));
                return;
            }
        }
        match self.store.restore_customer(id) {
            Ok(()) => {
                self.after_change(&[id]);
                self.status = Some(format!("restored {name} (u undoes)"));
            }
            Err(e) => self.status = Some(format!("restore failed: {e}")),
        }
    }

    fn undo_redo(&mut self, undo: bool) {
        if self.defer_bulk_above.is_some() {
            // Taking back 100,000 taggings takes seconds: on the worker.
            self.undo_on_worker(undo);
            return;
        }
        let result = if undo {
            self.store.undo()
        } else {
            self.store.redo()
        };
        self.finish_undo_redo(undo, result.map_err(|e| e.to_string()));
    }

    /// After an undo (redo): the data follows and the status bar says what
    /// was taken back.
    fn finish_undo_redo(&mut self, undo: bool, result: Result<Option<AuditEvent>, String>) {
        let (verb, noun) = if undo {
            ("undid", "undo")
        } else {
            ("redid", "redo")
        };
        match result {
            Ok(Some(e)) => {
                if e.op == "note" {
                    // A note changes no record, index or sort key.
                    self.reload_detail();
                } else {
                    self.after_change(&e.customers);
                }
                self.status = Some(format!("{verb} #{}: {}", e.seq, e.summary));
            }
            Ok(None) => self.status = Some(format!("nothing to {noun}")),
            Err(e) => self.status = Some(format!("{verb} failed: {e}")),
        }
    }

    /// Says why a key that acts on the current customer did nothing: there
    /// is no row under the cursor.
    fn say_nobody_here(&mut self) {
        let msg = if self.scope() == Scope::Trash {
            "the trash is empty".to_owned()
        } else if self.results.is_some() {
            let key = self.keymap.key_for(Action::Clear).unwrap_or("esc");
            format!("no match here; {key} clears the search")
        } else {
            let key = self.keymap.key_for(Action::New).unwrap_or("n");
            format!("no customers yet; {key} creates one")
        };
        self.status = Some(msg);
    }

    /// A customer's name for a status message (the id if it cannot be read).
    fn name_of(&self, id: CustomerId) -> String {
        match self.store.customer(id) {
            Ok(Some(c)) => display_name(&c, self.masked),
            _ => format!("customer {id}"),
        }
    }

    /// Reads the 360° view again after a change (closes it when the
    /// customer no longer exists).
    fn reload_detail(&mut self) {
        let Some(id) = self.detail.as_ref().map(|d| d.customer.id) else {
            return;
        };
        match Detail::load(&self.store, id, self.as_of) {
            Ok(d) => self.detail = Some(d),
            Err(_) => {
                self.detail = None;
                if self.mode == Mode::Detail {
                    self.mode = self.base_mode();
                }
            }
        }
    }

    fn move_cursor(&mut self, delta: isize) {
        // Near the end of the fetched hits of a larger result: fetch more.
        let wanted = (self.cursor as isize).saturating_add(delta).max(0) as usize + self.page;
        if self
            .results
            .as_ref()
            .is_some_and(|r| wanted >= r.len() && r.len() < self.total)
        {
            self.fetched = (self.fetched * 4).max(wanted);
            let cursor = self.cursor;
            let offset = self.offset;
            self.search_with_limit(self.fetched, false);
            self.cursor = cursor;
            self.offset = offset;
        }
        let last = self.scrollable().saturating_sub(1);
        let next = (self.cursor as isize)
            .saturating_add(delta)
            .clamp(0, last as isize);
        self.cursor = next as usize;
        self.scroll_to_cursor();
    }

    fn scroll_to_cursor(&mut self) {
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + self.page {
            self.offset = self.cursor + 1 - self.page;
        }
    }

    fn select_all(&mut self) {
        if let Some(ids) = self.result_ids("select all") {
            self.selected.extend(ids);
        }
    }

    /// Every id of the current result: all the matches of the search (not
    /// only the fetched hits), or every live customer. `None` (with the
    /// reason in the status bar) when they cannot be read.
    fn result_ids(&mut self, what: &str) -> Option<Vec<CustomerId>> {
        let ids: Vec<CustomerId> = match (&self.results, &self.index) {
            (Some(_), Some(ix)) => match parse(&self.query) {
                Ok(q) => {
                    let ix = Arc::clone(ix);
                    let figures = self.figures_for(&q);
                    if segments::needs_figures(&q) && figures.is_none() {
                        self.status = Some(format!(
                            "{what}: computing the segments first; try again in a moment"
                        ));
                        return None;
                    }
                    let ctx = figures
                        .as_deref()
                        .map_or_else(|| EvalContext::new(self.as_of), Lookup::context);
                    match ix.search(&self.store, &q, &ctx, usize::MAX, None) {
                        Ok((r, _)) => r.hits.into_iter().map(|h| h.id).collect(),
                        Err(e) => {
                            self.status = Some(format!("{what} failed: {e}"));
                            return None;
                        }
                    }
                }
                Err(_) => {
                    self.status = Some(format!("{what}: the query has an error"));
                    return None;
                }
            },
            (None, Some(ix)) => (0..ix.len()).filter_map(|p| ix.id_at(p)).collect(),
            _ => {
                self.status = Some("still loading the index; try again in a moment".into());
                return None;
            }
        };
        Some(ids)
    }

    /// `t` / `T`: opens the tag picker for the selection or, with nothing
    /// selected, for the whole current result.
    fn open_tag_picker(&mut self, add: bool) {
        let verb = if add { "tag" } else { "untag" };
        let (targets, what) = if self.selected.is_empty() {
            let Some(ids) = self.result_ids(verb) else {
                return;
            };
            let n = thousands(ids.len() as u64);
            let what = match (ids.len(), self.results.is_some()) {
                (0, _) => {
                    self.status = Some(format!("{verb}: the result is empty"));
                    return;
                }
                (1, true) => "the 1 match".to_owned(),
                (1, false) => "the 1 customer".to_owned(),
                (_, true) => format!("all {n} matches"),
                (_, false) => format!("all {n} customers"),
            };
            (ids, what)
        } else {
            let mut ids: Vec<CustomerId> = self.selected.iter().copied().collect();
            ids.sort_unstable();
            let what = match ids.len() {
                1 => "1 selected customer".to_owned(),
                n => format!("{} selected customers", thousands(n as u64)),
            };
            (ids, what)
        };
        self.open_picker_for(add, targets, what);
    }

    /// The tag picker for `targets` (`what` names them in its title).
    fn open_picker_for(&mut self, add: bool, targets: Vec<CustomerId>, what: String) {
        let verb = if add { "tag" } else { "untag" };
        let summaries = match self.store.tags() {
            Ok(t) => t,
            Err(e) => {
                self.status = Some(format!("{verb} failed: {e}"));
                return;
            }
        };
        // Removing offers the tags the customers carry (read from their
        // records when there are few; for a large result every tag in use).
        let present: Option<HashSet<String>> = (!add && targets.len() <= 10_000).then(|| {
            targets
                .iter()
                .filter_map(|id| self.store.customer(*id).ok().flatten())
                .flat_map(|c| c.tags)
                .collect()
        });
        let tags: Vec<PickTag> = summaries
            .into_iter()
            .filter(|t| {
                add || present
                    .as_ref()
                    .map_or(t.count > 0, |p| p.contains(&t.name))
            })
            .map(|t| PickTag {
                rule: t.rule().is_some(),
                name: t.name,
                count: t.count,
            })
            .collect();
        if !add && tags.is_empty() {
            self.status = Some(format!("untag: {what} carry no tag"));
            return;
        }
        self.tag_picker = Some(TagPicker::new(add, targets, what, tags));
        self.mode = Mode::TagPicker;
    }

    /// Whether an erasure waits for [`App::run_pending`].
    pub fn has_pending(&self) -> bool {
        self.pending_erase.is_some()
    }

    /// Runs the erasure that waited for the frame saying it runs.
    pub fn run_pending(&mut self) -> bool {
        match self.pending_erase.take() {
            Some(id) => {
                self.erase(id);
                true
            }
            None => false,
        }
    }

    /// Runs the current query against the index (narrowing from the last keystroke).
    fn run_search(&mut self) {
        self.fetched = RESULT_LIMIT;
        self.search_with_limit(RESULT_LIMIT, true);
        self.request_sorted_search();
    }

    fn search_with_limit(&mut self, limit: usize, narrow: bool) {
        self.cursor = 0;
        self.offset = 0;
        if self.query.trim().is_empty() {
            self.results = None;
            self.query_error = None;
            self.narrowing = None;
            self.total = self.index.as_ref().map_or(self.total, |ix| ix.len());
            return;
        }
        let q = match parse(&self.query) {
            Ok(q) => q,
            Err(e) => {
                self.query_error = Some(e.to_string());
                return;
            }
        };
        self.query_error = None;
        let Some(index) = self.index.clone() else {
            self.status = Some("loading the search index…".into());
            return;
        };
        let figures = self.figures_for(&q);
        let ctx = figures
            .as_deref()
            .map_or_else(|| EvalContext::new(self.as_of), Lookup::context);
        let prev = if narrow {
            self.narrowing.as_ref()
        } else {
            None
        };
        match index.search(&self.store, &q, &ctx, limit, prev) {
            Ok((r, n)) => {
                self.total = r.total;
                self.results = Some(r.hits.into_iter().map(|h| h.id).collect());
                self.narrowing = Some(n);
            }
            Err(e) => self.status = Some(format!("search failed: {e}")),
        }
    }

    fn on_form_key(&mut self, key: KeyEvent) {
        use super::form::FormOutcome;
        let Some(form) = self.form.as_mut() else {
            self.mode = self.base_mode();
            return;
        };
        match form.on_key(key) {
            FormOutcome::Continue => {}
            FormOutcome::Cancel => {
                self.form = None;
                self.mode = self.base_mode();
                self.status = Some("edit cancelled".into());
            }
            FormOutcome::Submit => {
                let base = match form.id {
                    Some(id) => match self.store.customer(id) {
                        Ok(Some(c)) => c,
                        _ => {
                            form.error = Some(format!("customer {id} is gone"));
                            return;
                        }
                    },
                    None => Customer::default(),
                };
                let cfg = crate::ingest::normalize::NormalizeConfig::default();
                let record = match form.apply(&base, &cfg) {
                    Ok(r) => r,
                    Err((line, why)) => {
                        // The cursor goes to the field to fix.
                        form.cursor = line;
                        form.error = Some(why);
                        return;
                    }
                };
                let saved = match form.id {
                    Some(id) if record == base => Ok((id, "nothing changed".to_owned())),
                    Some(id) => self.store.update_customer(&record).map(|_| {
                        (
                            id,
                            format!("saved {} (u undoes)", display_name(&record, self.masked)),
                        )
                    }),
                    None => self.store.create_customer(&record).map(|id| {
                        (
                            id,
                            format!(
                                "created {} as {id} (u undoes)",
                                display_name(&record, self.masked)
                            ),
                        )
                    }),
                };
                match saved {
                    Ok((id, msg)) => {
                        self.form = None;
                        self.mode = self.base_mode();
                        self.after_change(&[id]);
                        self.status = Some(msg);
                        self.refresh_visible();
                    }
                    Err(e) => {
                        if let Some(f) = self.form.as_mut() {
                            f.error = Some(format!("not saved: {e}"));
                        }
                    }
                }
            }
        }
    }

    fn on_note_key(&mut self, key: KeyEvent) {
        use super::form::FormOutcome;
        let Some(form) = self.note_form.as_mut() else {
            self.mode = self.base_mode();
            return;
        };
        match form.on_key(key) {
            FormOutcome::Continue => {}
            FormOutcome::Cancel => {
                self.note_form = None;
                self.mode = self.base_mode();
                self.status = Some("note not added".into());
            }
            FormOutcome::Submit => {
                let draft = match form.draft() {
                    Ok(d) => d,
                    Err(why) => {
                        form.error = Some(why);
                        return;
                    }
                };
                match self.store.add_customer_note(
                    form.customer,
                    draft.kind,
                    &draft.text,
                    draft.satisfaction,
                ) {
                    Ok(note) => {
                        let name = form.name.clone();
                        self.note_form = None;
                        self.mode = self.base_mode();
                        self.reload_detail();
                        self.status =
                            Some(format!("added a {} note to {name} (u undoes)", note.kind));
                    }
                    Err(e) => form.error = Some(format!("not added: {e}")),
                }
            }
        }
    }

    fn on_palette_key(&mut self, key: KeyEvent) {
        let Some(palette) = self.palette.as_mut() else {
            self.mode = self.base_mode();
            return;
        };
        match palette.on_key(key) {
            PaletteOutcome::Continue => {}
            PaletteOutcome::Cancel => {
                self.palette = None;
                self.mode = self.base_mode();
            }
            PaletteOutcome::Run(command) => {
                self.palette = None;
                self.mode = self.base_mode();
                self.run_command(command);
            }
        }
    }

    /// After a change to the customers `touched`: reload the search index
    /// (its chunks changed in the same commit), rerun the query, keep the
    /// cursor in range, bring the trash view and the 360° view up to date,
    /// and re-sort in the background. Until the new order arrives, the
    /// sorted list only drops the customers that left it.
    pub(super) fn after_change(&mut self, touched: &[CustomerId]) {
        self.data += 1;
        self.follow_rules();
        if self.index.is_some() {
            match Index::load(&self.store) {
                Ok(ix) => {
                    // The short-query keys are rebuilt in the background,
                    // as after the first load; until then searches rank
                    // every match.
                    let ix = Arc::new(ix);
                    let warm = Arc::clone(&ix);
                    std::thread::spawn(move || warm.warm());
                    self.index = Some(ix);
                }
                Err(e) => self.status = Some(format!("reloading the index failed: {e}")),
            }
        }
        let records: Vec<(CustomerId, Option<Customer>)> = touched
            .iter()
            .map(|id| (*id, self.store.customer(*id).ok().flatten()))
            .collect();
        let gone: HashSet<CustomerId> = records
            .iter()
            .filter(|(_, c)| !c.as_ref().is_some_and(Customer::is_live))
            .map(|(id, _)| *id)
            .collect();
        if let Some(sorted) = self.sorted.as_mut() {
            if !gone.is_empty() {
                Arc::make_mut(sorted).retain(|id| !gone.contains(id));
            }
        }
        let cursor = self.cursor;
        let offset = self.offset;
        self.narrowing = None;
        if self.sort.is_some() && self.results.is_some() {
            if let Some(results) = self.results.as_mut() {
                let before = results.len();
                results.retain(|id| !gone.contains(id));
                self.total = self.total.saturating_sub(before - results.len());
            }
            self.request_sorted_search();
        } else {
            self.run_search();
        }
        self.cursor = cursor;
        self.offset = offset;
        if self.results.is_none() {
            self.total = self.index.as_ref().map_or(self.total, |ix| ix.len());
        }
        self.move_cursor(0);
        if self.sort.is_some() {
            self.request_sort();
        }
        let page = self.page;
        if let Some(t) = self.trash.as_mut() {
            for (id, c) in records {
                t.patch(id, c, page);
            }
        }
        // The change is the log's newest event.
        let asked = self.audit.as_ref().map(|v| v.asked.max(FIRST_PAGE));
        if let Some(n) = asked {
            self.request_audit(n);
        }
        self.reload_detail();
    }

    /// Brings rule tags up to date after a change: the customers it marked
    /// at once (a few reads), a change too big to mark one by one (a whole
    /// pass at a million customers takes seconds) in the background.
    fn follow_rules(&mut self) {
        let ctx = crate::search::EvalContext::new(self.as_of);
        match rules::staleness(&self.store, &ctx) {
            Ok(Staleness::Fresh) => {}
            Ok(Staleness::Some(_)) => {
                if let Err(e) = rules::refresh_if_stale(&self.store, &ctx) {
                    self.status = Some(format!("rule tags: {e}"));
                }
            }
            Ok(Staleness::All) => {
                let store = Arc::clone(&self.store);
                std::thread::spawn(move || {
                    if let Err(e) = rules::refresh_if_stale(&store, &ctx) {
                        tracing::warn!("refreshing rule tags: {e}");
                    }
                });
            }
            Err(e) => self.status = Some(format!("rule tags: {e}")),
        }
    }

    /// Reads the rows on screen (and only those) from the store.
    pub fn refresh_visible(&mut self) {
        self.visible.clear();
        for pos in self.offset..self.offset + self.page {
            let Some(id) = self.id_at(pos) else { break };
            let Ok(Some(customer)) = self.store.customer(id) else {
                continue;
            };
            let stats = self.store.stats(id).unwrap_or_default();
            self.visible.push(Row { customer, stats });
        }
    }
}
