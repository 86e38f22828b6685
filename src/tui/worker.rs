//! The background worker: the slow reads that must not hold up a frame
//! (sort keys of every customer, a sorted search over all its matches, the
//! trash list) run on one thread. The app sends jobs tagged with a
//! generation and ignores answers to jobs it has since replaced; the
//! worker itself skips to the newest job of each kind when several queued
//! up while it was busy (typing with a sort on sends one per key).

use chrono::NaiveDate;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use super::sort::{self, Sort, SortField, SortKey};
use crate::model::{Customer, CustomerId};
use crate::search::engine::Index;
use crate::search::{EvalContext, parse};
use crate::store::Store;

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
    },
    /// The customers in the trash, most recently trashed first.
    Trash { ticket: u64 },
}

impl Job {
    fn slot(&self) -> usize {
        match self {
            Job::Sort { .. } => 0,
            Job::SortedSearch { .. } => 1,
            Job::Trash { .. } => 2,
        }
    }
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
}

/// The app's end of the worker thread. Dropping it ends the thread after
/// its current job.
pub struct Worker {
    jobs: Sender<Job>,
    done: Receiver<Done>,
}

impl Worker {
    /// Starts the thread.
    pub fn spawn(store: Arc<Store>) -> Worker {
        let (jobs, job_rx) = channel::<Job>();
        let (done_tx, done) = channel();
        std::thread::Builder::new()
            .name("rolo-tui-worker".into())
            .spawn(move || run(&store, &job_rx, &done_tx))
            .map_or_else(
                |e| tracing::error!("cannot start the TUI worker: {e}"),
                |_| (),
            );
        Worker { jobs, done }
    }

    /// Queues a job.
    pub fn send(&self, job: Job) {
        // A dead worker shows as an answer that never comes ("sorting…").
        let _ = self.jobs.send(job);
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
        let mut latest: [Option<Job>; 3] = [None, None, None];
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
                } => Done::Searched {
                    ticket,
                    result: sorted_search(store, &index, &query, as_of, &order),
                },
                Job::Trash { ticket } => Done::Trash {
                    ticket,
                    result: trash(store),
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
) -> Result<(usize, Vec<CustomerId>), String> {
    let q = parse(query).map_err(|e| e.to_string())?;
    let ctx = EvalContext::new(as_of);
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

fn trash(store: &Store) -> Result<Vec<Customer>, String> {
    let mut rows = store
        .trashed()
        .collect::<crate::store::Result<Vec<Customer>>>()
        .map_err(|e| format!("reading the trash failed: {e}"))?;
    rows.sort_by(|a, b| b.trashed_at.cmp(&a.trashed_at).then(a.id.cmp(&b.id)));
    Ok(rows)
}
