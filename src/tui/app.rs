//! The TUI's state and its one update function. `update` does no terminal
//! I/O: it reads the store for the rows on screen and runs searches; the
//! view only draws from the state. Tests drive it key by key.

use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::HashSet;
use std::sync::Arc;

use super::action::Action;
use super::keymap::KeyMap;
use crate::model::{Customer, CustomerId, Stats};
use crate::search::engine::{Index, Narrowing};
use crate::search::{EvalContext, parse};
use crate::store::Store;

/// How many ranked hits a search fetches at first (the count is always
/// exact); scrolling near the end fetches four times more.
pub const RESULT_LIMIT: usize = 200;

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
}

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
        Ok(Detail {
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
    pub status: Option<String>,
    pub quit: bool,
    narrowing: Option<Narrowing>,
    /// How many hits the current search fetched.
    fetched: usize,
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
            status: None,
            quit: false,
            narrowing: None,
            fetched: RESULT_LIMIT,
        };
        app.refresh_visible();
        Ok(app)
    }

    /// The search index arrived from the loader thread.
    pub fn set_index(&mut self, index: Arc<Index>) {
        self.total = index.len();
        self.index = Some(index);
        if !self.query.is_empty() {
            self.run_search();
        }
        self.refresh_visible();
    }

    /// The terminal changed size: `page` rows fit.
    pub fn resize(&mut self, page: usize) {
        self.page = page.max(1);
        self.scroll_to_cursor();
        self.refresh_visible();
    }

    /// The id at a row position of the current view.
    pub fn id_at(&self, pos: usize) -> Option<CustomerId> {
        match (&self.results, &self.index) {
            (Some(r), _) => r.get(pos).copied(),
            (None, Some(ix)) => ix.id_at(pos),
            (None, None) => self.first_page.get(pos).copied(),
        }
    }

    /// Rows that can be scrolled to (a search keeps its top hits).
    pub fn scrollable(&self) -> usize {
        match (&self.results, &self.index) {
            (Some(r), _) => r.len(),
            (None, Some(ix)) => ix.len(),
            (None, None) => self.first_page.len(),
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
                self.mode = if self.detail.is_some() {
                    Mode::Detail
                } else {
                    Mode::Normal
                };
                true
            }
            Mode::Edit => {
                self.on_form_key(key);
                true
            }
            Mode::Detail => match self.keymap.action(key) {
                Some(Action::Clear | Action::Open) => {
                    self.detail = None;
                    self.mode = Mode::Normal;
                    true
                }
                Some(a @ (Action::Quit | Action::Help | Action::ToggleMask)) => {
                    self.update(a);
                    true
                }
                _ => false,
            },
            Mode::Normal => match self.keymap.action(key) {
                Some(a) => {
                    self.update(a);
                    true
                }
                None => false,
            },
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
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.mode = Mode::Help,
            Action::Down => self.move_cursor(1),
            Action::Up => self.move_cursor(-1),
            Action::PageDown => self.move_cursor(self.page as isize),
            Action::PageUp => self.move_cursor(-(self.page as isize)),
            Action::Top => self.move_cursor(isize::MIN / 2),
            Action::Bottom => self.move_cursor(isize::MAX / 2),
            Action::Search => {
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
            Action::Trash => {
                if let Some(id) = self.id_at(self.cursor) {
                    let name = self
                        .visible
                        .get(self.cursor - self.offset)
                        .map(|r| r.customer.name.clone())
                        .unwrap_or_default();
                    match self.store.trash_customer(id) {
                        Ok(()) => {
                            self.after_change();
                            self.status = Some(format!("moved {name} to the trash (u undoes)"));
                        }
                        Err(e) => self.status = Some(format!("trash failed: {e}")),
                    }
                }
            }
            Action::Undo | Action::Redo => {
                let result = if action == Action::Undo {
                    self.store.undo()
                } else {
                    self.store.redo()
                };
                let verb = if action == Action::Undo {
                    "undid"
                } else {
                    "redid"
                };
                match result {
                    Ok(Some(e)) => {
                        self.after_change();
                        self.status = Some(format!("{verb} #{}: {}", e.seq, e.summary));
                    }
                    Ok(None) => {
                        self.status = Some(format!(
                            "nothing to {}",
                            if action == Action::Undo {
                                "undo"
                            } else {
                                "redo"
                            }
                        ))
                    }
                    Err(e) => self.status = Some(format!("{verb} failed: {e}")),
                }
            }
            Action::Edit => {
                if let Some(row) = self.visible.get(self.cursor.saturating_sub(self.offset)) {
                    self.form = Some(super::form::Form::edit(&row.customer));
                    self.mode = Mode::Edit;
                }
            }
            Action::New => {
                self.form = Some(super::form::Form::new_customer());
                self.mode = Mode::Edit;
            }
            Action::Open => {
                if let Some(id) = self.id_at(self.cursor) {
                    match Detail::load(&self.store, id, self.as_of) {
                        Ok(d) => {
                            self.detail = Some(d);
                            self.mode = Mode::Detail;
                        }
                        Err(e) => self.status = Some(format!("cannot open customer {id}: {e}")),
                    }
                }
            }
        }
        self.refresh_visible();
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
        let ids: Vec<CustomerId> = match (&self.results, &self.index) {
            (Some(_), Some(ix)) => match parse(&self.query) {
                Ok(q) => {
                    let ctx = EvalContext::new(self.as_of);
                    match ix.search(&self.store, &q, &ctx, usize::MAX, None) {
                        Ok((r, _)) => r.hits.into_iter().map(|h| h.id).collect(),
                        Err(e) => {
                            self.status = Some(format!("select all failed: {e}"));
                            return;
                        }
                    }
                }
                Err(_) => return,
            },
            (None, Some(ix)) => (0..ix.len()).filter_map(|p| ix.id_at(p)).collect(),
            _ => {
                self.status = Some("still loading the index; try again in a moment".into());
                return;
            }
        };
        self.selected.extend(ids);
    }

    /// Runs the current query against the index (narrowing from the last keystroke).
    fn run_search(&mut self) {
        self.fetched = RESULT_LIMIT;
        self.search_with_limit(RESULT_LIMIT, true);
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
        let ctx = EvalContext::new(self.as_of);
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
            self.mode = Mode::Normal;
            return;
        };
        match form.on_key(key) {
            FormOutcome::Continue => {}
            FormOutcome::Cancel => {
                self.form = None;
                self.mode = Mode::Normal;
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
                    Err(why) => {
                        form.error = Some(why);
                        return;
                    }
                };
                let saved = match form.id {
                    Some(_) if record == base => Ok("nothing changed".to_owned()),
                    Some(_) => self
                        .store
                        .update_customer(&record)
                        .map(|_| format!("saved {} (u undoes)", record.name)),
                    None => self
                        .store
                        .create_customer(&record)
                        .map(|id| format!("created {} as {id} (u undoes)", record.name)),
                };
                match saved {
                    Ok(msg) => {
                        self.form = None;
                        self.mode = Mode::Normal;
                        self.after_change();
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

    /// After a change: reload the search index (its chunks changed in the
    /// same commit), rerun the query and keep the cursor in range.
    fn after_change(&mut self) {
        if self.index.is_some() {
            match Index::load(&self.store) {
                Ok(ix) => self.index = Some(Arc::new(ix)),
                Err(e) => self.status = Some(format!("reloading the index failed: {e}")),
            }
        }
        let cursor = self.cursor;
        self.narrowing = None;
        self.run_search();
        self.cursor = cursor;
        if self.results.is_none() {
            self.total = self.index.as_ref().map_or(self.total, |ix| ix.len());
        }
        self.move_cursor(0);
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
