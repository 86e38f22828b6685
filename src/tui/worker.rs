//! The background worker: the slow reads that must not hold up a frame
//! (sort keys of every customer, a sorted search over all its matches, the
//! trash list, the segment figures, the quality report, pages of the audit
//! log) run off the UI thread. The app sends
//! jobs tagged with a generation and ignores answers to jobs it has since
//! replaced; the worker itself skips to the newest job of each kind when
//! several queued up while it was busy (typing with a sort on sends one
//! per key).
//!
//! Four threads answer on one channel: one for the list (sorts, searches,
//! the trash), one for the figures (segments and quality), which take
//! seconds at a million customers, so that a sort never waits behind them,
//! one for the audit log (and the list of merges), whose filtered reads may
//! scan far back, and one for duplicate scans, which take half a minute at
//! a million customers.
//! one for the audit log, whose filtered reads may scan far back, and one
//! for writes that take seconds at scale (bulk tag changes, undo and redo)
//! and rule previews. The app sends one write at a time (other changes
//! wait for it), so skipping to the newest job of a kind never drops one.

use chrono::NaiveDate;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use super::sort::{self, Sort, SortField, SortKey};
use crate::dedup::ScanOptions;
use crate::dedup::review::{self, Review};
use crate::model::{AuditEvent, Customer, CustomerId};
use crate::quality::{Options, Report};
use crate::search::engine::Index;
use crate::search::rules::RulePreview;
use crate::search::{EvalContext, parse};
use crate::segments::{self, By, Lookup, Move, Settings, Summary};
use crate::store::{AuditFilter, MergeSummary, QualityFigures, Store};
use crate::store::{StoreError, TagOutcome};
use crate::tui::tag_edit::TagWrite;

/// Every live customer's snapshot codes, by id ([`segments::snapshot_entries`]).
pub type Entries = Arc<Vec<(u64, [u8; 3])>>;

/// Work for the background thread.
pub enum Job {
    /// Every live customer in `sort` order. `data` is the app's change
    /// counter: keys loaded at the same `data` are reused.
    Sort {
        ticket: u64,
        data: u64,
        sort: Sort,
        index: Arc<Index>,
    },
    /// Every match of `query`, in the order of `order` (matches missing
    /// from it, new since it was made, go last).
    SortedSearch {
        ticket: u64,
        query: String,
        as_of: NaiveDate,
        index: Arc<Index>,
        order: Arc<Vec<CustomerId>>,
        /// The segment figures `rfm:` and the like consult, when computed.
        segments: Option<Arc<Lookup>>,
    },
    /// The customers in the trash, most recently trashed first.
    Trash { ticket: u64 },
    /// The summary of `by` over `figures`, computing the figures first
    /// when there are none (or they are out of date). `data` is the app's
    /// change counter, handed back with the answer.
    Segments {
        ticket: u64,
        data: u64,
        by: By,
        figures: Option<Arc<Lookup>>,
        as_of: NaiveDate,
        settings: Settings,
    },
    /// How customers moved from the snapshot of `day` to `figures`;
    /// `now` is their codes, when already read for these figures.
    Movement {
        ticket: u64,
        day: NaiveDate,
        figures: Arc<Lookup>,
        now: Option<Entries>,
    },
    /// Records every live customer's segments of `figures` (a write).
    Snapshot { ticket: u64, figures: Arc<Lookup> },
    /// The quality report for `opts` and the saved baseline. `data` is
    /// the app's change counter, handed back with the answer.
    Quality {
        ticket: u64,
        data: u64,
        opts: Options,
    },
    /// The audit events passing `filter` (its limit set), newest first.
    Audit { ticket: u64, filter: AuditFilter },
    /// A duplicate scan made ready for review. `data` is the app's change
    /// counter, handed back with the answer.
    Duplicates { ticket: u64, data: u64 },
    /// The merges still in effect, newest first.
    Merges { ticket: u64 },
    /// A tag change too large to run between two frames.
    TagWrite { ticket: u64, write: Box<TagWrite> },
    /// Undoes (`undo`) or redoes the newest change.
    Undo { ticket: u64, undo: bool },
    /// Who would gain and lose `tag` if its rule were `rule`; `figures`
    /// serve segment terms when current (else they are computed).
    RulePreview {
        ticket: u64,
        tag: String,
        rule: String,
        as_of: NaiveDate,
        figures: Option<Arc<Lookup>>,
        settings: Settings,
    },
}

/// The thread a job runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    List,
    Figures,
    Log,
    Dedup,
    Writes,
}

impl Job {
    fn slot(&self) -> usize {
        match self {
            Job::Sort { .. } => 0,
            Job::SortedSearch { .. } => 1,
            Job::Trash { .. } => 2,
            Job::Segments { .. } => 3,
            Job::Movement { .. } => 4,
            Job::Snapshot { .. } => 5,
            Job::Quality { .. } => 6,
            Job::Audit { .. } => 7,
            Job::Duplicates { .. } => 8,
            Job::Merges { .. } => 9,
            Job::TagWrite { .. } => 10,
            Job::RulePreview { .. } => 11,
            Job::Undo { .. } => 12,
        }
    }

    fn lane(&self) -> Lane {
        match self.slot() {
            0..=2 => Lane::List,
            7 | 9 => Lane::Log,
            8 => Lane::Dedup,
            10..=12 => Lane::Writes,
            _ => Lane::Figures,
        }
    }
}

/// Kinds of job (see [`Job::slot`]).
const SLOTS: usize = 13;

/// The movement since one snapshot, for the segmentations snapshots keep.
#[derive(Clone)]
pub struct Movement {
    pub day: NaiveDate,
    /// The figures it compares the snapshot with.
    pub figures: Arc<Lookup>,
    pub now: Entries,
    /// Customers recorded in the snapshot.
    pub then: usize,
    /// For RFM, lifecycle and value: the moves, biggest first, stays last.
    pub moves: Vec<(By, Vec<Move>)>,
}

/// A finished job. Errors are already worded for the status bar.
pub enum Done {
    Sorted {
        ticket: u64,
        result: Result<Arc<Vec<CustomerId>>, String>,
    },
    Searched {
        ticket: u64,
        result: Result<(usize, Vec<CustomerId>), String>,
    },
    Trash {
        ticket: u64,
        result: Result<Vec<Customer>, String>,
    },
    Segments {
        ticket: u64,
        data: u64,
        /// Boxed: a summary is large beside the other answers.
        result: Result<(Arc<Lookup>, Box<Summary>), String>,
    },
    Movement {
        ticket: u64,
        result: Result<Movement, String>,
    },
    /// The day recorded and how many customers.
    Snapshot {
        ticket: u64,
        result: Result<(NaiveDate, usize), String>,
    },
    Quality {
        ticket: u64,
        data: u64,
        /// Boxed: a report is large beside the other answers.
        result: Result<(Box<Report>, Option<QualityFigures>), String>,
    },
    /// The events read and the limit they were read with.
    Audit {
        ticket: u64,
        asked: usize,
        result: Result<Vec<AuditEvent>, String>,
    },
    Duplicates {
        ticket: u64,
        data: u64,
        /// Boxed: a review is large beside the other answers.
        result: Result<Box<Review>, String>,
    },
    Merges {
        ticket: u64,
        result: Result<Vec<MergeSummary>, String>,
    },
    /// The write handed back with what the store said (the app words a
    /// refusal with its own keys).
    TagWrite {
        ticket: u64,
        write: Box<TagWrite>,
        result: Result<TagOutcome, StoreError>,
    },
    /// The change taken back (or redone), if there was one.
    Undone {
        ticket: u64,
        undo: bool,
        /// Boxed: an event is large beside the other answers.
        result: Result<Option<Box<AuditEvent>>, String>,
    },
    RulePreview {
        ticket: u64,
        result: Result<Box<RulePreview>, String>,
    },
}

/// The app's end of the worker threads. Dropping it ends the threads after
/// their current jobs.
pub struct Worker {
    jobs: Sender<Job>,
    figure_jobs: Sender<Job>,
    log_jobs: Sender<Job>,
    dedup_jobs: Sender<Job>,
    write_jobs: Sender<Job>,
    done: Receiver<Done>,
}

impl Worker {
    /// Starts the threads.
    pub fn spawn(store: Arc<Store>) -> Worker {
        let (done_tx, done) = channel();
        let start = |name: &str| {
            let (jobs, job_rx) = channel::<Job>();
            let store = Arc::clone(&store);
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || run(&store, &job_rx, &done_tx))
                .map_or_else(
                    |e| tracing::error!("cannot start the TUI worker {name}: {e}"),
                    |_| (),
                );
            jobs
        };
        Worker {
            jobs: start("rolo-tui-worker"),
            figure_jobs: start("rolo-tui-figures"),
            log_jobs: start("rolo-tui-audit"),
            dedup_jobs: start("rolo-tui-dedup"),
            write_jobs: start("rolo-tui-writes"),
            done,
        }
    }

    /// Queues a job.
    pub fn send(&self, job: Job) {
        // A dead worker shows as an answer that never comes ("sorting…").
        let _ = match job.lane() {
            Lane::List => self.jobs.send(job),
            Lane::Figures => self.figure_jobs.send(job),
            Lane::Log => self.log_jobs.send(job),
            Lane::Dedup => self.dedup_jobs.send(job),
            Lane::Writes => self.write_jobs.send(job),
        };
    }

    /// A finished job, if one is ready.
    pub fn try_recv(&self) -> Option<Done> {
        self.done.try_recv().ok()
    }

    /// Waits up to `timeout` for a finished job.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Done> {
        self.done.recv_timeout(timeout).ok()
    }
}

/// Keys loaded for one field at one data generation, kept for the next
/// sort of the same field (reversing the direction needs no new scan).
struct KeyCache {
    field: SortField,
    data: u64,
    keyed: Vec<(Option<SortKey>, CustomerId)>,
}

fn run(store: &Store, jobs: &Receiver<Job>, done: &Sender<Done>) {
    let mut cache: Option<KeyCache> = None;
    while let Ok(first) = jobs.recv() {
        let mut latest: [Option<Job>; SLOTS] = Default::default();
        let slot = first.slot();
        latest[slot] = Some(first);
        while let Ok(next) = jobs.try_recv() {
            let slot = next.slot();
            latest[slot] = Some(next);
        }
        for job in latest.into_iter().flatten() {
            let answer = match job {
                Job::Sort {
                    ticket,
                    data,
                    sort,
                    index,
                } => Done::Sorted {
                    ticket,
                    result: sorted(store, &index, sort, data, &mut cache),
                },
                Job::SortedSearch {
                    ticket,
                    query,
                    as_of,
                    index,
                    order,
                    segments,
                } => Done::Searched {
                    ticket,
                    result: sorted_search(store, &index, &query, as_of, &order, segments),
                },
                Job::Trash { ticket } => Done::Trash {
                    ticket,
                    result: trash(store),
                },
                Job::Segments {
                    ticket,
                    data,
                    by,
                    figures,
                    as_of,
                    settings,
                } => Done::Segments {
                    ticket,
                    data,
                    result: summary(store, by, figures, as_of, settings),
                },
                Job::Movement {
                    ticket,
                    day,
                    figures,
                    now,
                } => Done::Movement {
                    ticket,
                    result: movement(store, day, figures, now),
                },
                Job::Snapshot { ticket, figures } => Done::Snapshot {
                    ticket,
                    result: segments::take_snapshot(store, &figures.figures)
                        .map(|n| (figures.figures.as_of, n))
                        .map_err(|e| format!("recording the snapshot failed: {e}")),
                },
                Job::Quality { ticket, data, opts } => Done::Quality {
                    ticket,
                    data,
                    result: quality(store, &opts),
                },
                Job::Audit { ticket, filter } => Done::Audit {
                    ticket,
                    asked: filter.limit.unwrap_or(usize::MAX),
                    result: store
                        .audit_events(&filter)
                        .map_err(|e| format!("reading the audit log failed: {e}")),
                },
                Job::Duplicates { ticket, data } => Done::Duplicates {
                    ticket,
                    data,
                    result: review::review(store, &ScanOptions::default())
                        .map(Box::new)
                        .map_err(|e| format!("scanning for duplicates failed: {e}")),
                },
                Job::Merges { ticket } => Done::Merges {
                    ticket,
                    result: store
                        .merges()
                        .map_err(|e| format!("reading the merges failed: {e}")),
                },
                Job::TagWrite { ticket, write } => {
                    let result = write.run(store);
                    Done::TagWrite {
                        ticket,
                        write,
                        result,
                    }
                }
                Job::Undo { ticket, undo } => Done::Undone {
                    ticket,
                    undo,
                    result: if undo { store.undo() } else { store.redo() }
                        .map(|e| e.map(Box::new))
                        .map_err(|e| e.to_string()),
                },
                Job::RulePreview {
                    ticket,
                    tag,
                    rule,
                    as_of,
                    figures,
                    settings,
                } => Done::RulePreview {
                    ticket,
                    result: rule_preview(store, &tag, &rule, as_of, figures, settings)
                        .map(Box::new),
                },
            };
            if done.send(answer).is_err() {
                return;
            }
        }
    }
}

fn sorted(
    store: &Store,
    index: &Index,
    sort: Sort,
    data: u64,
    cache: &mut Option<KeyCache>,
) -> Result<Arc<Vec<CustomerId>>, String> {
    let fresh = cache
        .as_ref()
        .is_some_and(|c| c.field == sort.field && c.data == data);
    if !fresh {
        *cache = None;
        let keyed = sort::load_keys(store, index, sort.field)
            .map_err(|e| format!("sorting failed: {e}"))?;
        *cache = Some(KeyCache {
            field: sort.field,
            data,
            keyed,
        });
    }
    let keyed = cache.as_mut().map(|c| &mut c.keyed);
    Ok(Arc::new(keyed.map_or_else(Vec::new, |k| {
        sort::order(k, sort.descending)
    })))
}

fn sorted_search(
    store: &Store,
    index: &Index,
    query: &str,
    as_of: NaiveDate,
    order: &[CustomerId],
    segments: Option<Arc<Lookup>>,
) -> Result<(usize, Vec<CustomerId>), String> {
    let q = parse(query).map_err(|e| e.to_string())?;
    let ctx = segments
        .as_deref()
        .map_or_else(|| EvalContext::new(as_of), Lookup::context);
    let (results, _) = index
        .search(store, &q, &ctx, usize::MAX, None)
        .map_err(|e| format!("search failed: {e}"))?;
    let mut matched: std::collections::HashSet<CustomerId> =
        results.hits.iter().map(|h| h.id).collect();
    let mut ids = Vec::with_capacity(matched.len());
    for id in order {
        if matched.remove(id) {
            ids.push(*id);
        }
    }
    let mut rest: Vec<CustomerId> = matched.into_iter().collect();
    rest.sort_unstable();
    ids.extend(rest);
    Ok((results.total, ids))
}

/// The figures (computed when `figures` is `None`) and their summary by `by`.
fn summary(
    store: &Store,
    by: By,
    figures: Option<Arc<Lookup>>,
    as_of: NaiveDate,
    settings: Settings,
) -> Result<(Arc<Lookup>, Box<Summary>), String> {
    let lookup = match figures {
        Some(l) => l,
        None => Arc::new(
            Lookup::load(store, as_of, settings)
                .map_err(|e| format!("computing the segments failed: {e}"))?,
        ),
    };
    let summary = segments::summarize(store, &lookup.figures, by)
        .map_err(|e| format!("summarising by {} failed: {e}", by.as_str()))?;
    Ok((lookup, Box::new(summary)))
}

fn movement(
    store: &Store,
    day: NaiveDate,
    figures: Arc<Lookup>,
    now: Option<Entries>,
) -> Result<Movement, String> {
    let fail = |e: crate::store::StoreError| format!("reading the snapshot of {day} failed: {e}");
    let then = store
        .snapshot(day)
        .map_err(fail)?
        .ok_or_else(|| format!("there is no snapshot of {day}"))?;
    let now = match now {
        Some(n) => n,
        None => Arc::new(segments::snapshot_entries(store, &figures.figures).map_err(fail)?),
    };
    let moves = [By::Rfm, By::Lifecycle, By::Value]
        .into_iter()
        .map(|by| (by, segments::movement(by, &then, &now)))
        .collect();
    Ok(Movement {
        day,
        figures,
        now,
        then: then.len(),
        moves,
    })
}

/// What setting `rule` on `tag` would change, with the segment figures a
/// rule with segment terms needs (the current ones, else computed).
fn rule_preview(
    store: &Store,
    tag: &str,
    rule: &str,
    as_of: NaiveDate,
    figures: Option<Arc<Lookup>>,
    settings: Settings,
) -> Result<RulePreview, String> {
    let q = parse(rule).map_err(|e| format!("rule: {e}"))?;
    let lookup = match figures {
        Some(f) if segments::needs_figures(&q) => f,
        _ => Arc::new(
            Lookup::for_query(store, &q, as_of, settings)
                .map_err(|e| format!("computing the segments failed: {e}"))?,
        ),
    };
    crate::search::rules::preview(store, tag, rule, &lookup.context())
        .map_err(|e| format!("previewing the rule failed: {e}"))
}

/// The quality report and the baseline it is compared with.
fn quality(store: &Store, opts: &Options) -> Result<(Box<Report>, Option<QualityFigures>), String> {
    let report = crate::quality::scan(store, opts)
        .map_err(|e| format!("computing the quality report failed: {e}"))?;
    let baseline = store
        .quality_figures()
        .map_err(|e| format!("reading the quality baseline failed: {e}"))?;
    Ok((Box::new(report), baseline))
}

fn trash(store: &Store) -> Result<Vec<Customer>, String> {
    let mut rows = store
        .trashed()
        .collect::<crate::store::Result<Vec<Customer>>>()
        .map_err(|e| format!("reading the trash failed: {e}"))?;
    rows.sort_by(|a, b| b.trashed_at.cmp(&a.trashed_at).then(a.id.cmp(&b.id)));
    Ok(rows)
}
