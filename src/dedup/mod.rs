//! Duplicate detection that explains itself: which customers are probably
//! one person, how sure that is, and why.
//!
//! A scan runs in five steps, each in its own module:
//! 1. [`prepare`]: every customer is folded once into a [`Record`]
//!    (pinyin for Han names, sorted name tokens, canonical emails, legal
//!    forms stripped ...), and up to three custom attributes that look
//!    like identifiers (a member number, a national id) are picked from
//!    the data and compared too ([`Identifiers`]).
//! 2. [`block`]: records meet only when they share a blocking key (email,
//!    phone, name with city or postcode, phonetic name, birth date with
//!    initial, company with city); oversized blocks are split or skipped
//!    and reported. A million customers give tens of millions of candidate
//!    pairs instead of 5·10^11.
//! 3. [`compare`]: each candidate pair gets an agreement level per field.
//! 4. [`model`]: a Fellegi-Sunter model, u from random pairs, m by EM over
//!    the candidates, no labels; each field's level contributes log2(m/u)
//!    bits, and the sum with the prior is the match probability.
//! 5. [`cluster`]: pairs at or above the threshold link records into
//!    clusters, guarded against chains.
//!
//! Everything is deterministic: sampling is seeded, work split across
//! threads is summed or sorted before use. Nothing here writes to the
//! database: merging is `store::merge`'s business; reviewers' "not a
//! duplicate" decisions come in as [`DismissedPairs`].

pub mod auto;
mod block;
mod cluster;
mod compare;
pub mod eval;
mod model;
mod prepare;
pub mod review;
pub mod state;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::model::{Customer, CustomerId};

pub use block::{BlockReport, KeyKind, LargeBlock};
pub use cluster::ClusterRule;
pub use compare::{CompareField, Level};
pub use eval::{Evaluation, Figures, Truth};
pub use model::{LevelParams, Model, bits_of, probability};
pub use prepare::{Identifiers, Record};

use block::Blocking;
use model::Frequencies;

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Pairs scoring at least this are reported and link clusters.
    pub threshold: f64,
    /// No two members of a cluster score below this against each other.
    pub low_threshold: f64,
    /// The largest block compared whole; larger ones are split or skipped.
    pub block_cap: usize,
    /// The largest cluster formed.
    pub max_cluster: usize,
    /// Random pairs compared to estimate u.
    pub u_samples: u64,
    /// The seed of every random choice.
    pub seed: u64,
    /// The most EM iterations.
    pub max_em_iterations: u32,
    /// Worker threads (0: one per core, at most 4).
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            threshold: 0.9,
            low_threshold: 0.2,
            block_cap: 200,
            max_cluster: 200,
            u_samples: 400_000,
            seed: 1,
            max_em_iterations: 200,
            threads: 0,
        }
    }
}

impl ScanOptions {
    fn threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 4),
            n => n,
        }
    }
}

/// Pairs a reviewer said are not duplicates: never reported, never in one
/// cluster.
#[derive(Debug, Clone, Default)]
pub struct DismissedPairs(HashSet<(CustomerId, CustomerId)>);

impl DismissedPairs {
    /// No dismissed pairs.
    pub fn new() -> DismissedPairs {
        DismissedPairs::default()
    }

    /// Adds a pair (in either order).
    pub fn insert(&mut self, a: CustomerId, b: CustomerId) {
        self.0.insert((a.min(b), a.max(b)));
    }

    /// Whether the pair (in either order) was dismissed.
    pub fn contains(&self, a: CustomerId, b: CustomerId) -> bool {
        self.0.contains(&(a.min(b), a.max(b)))
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(CustomerId, CustomerId)> for DismissedPairs {
    fn from_iter<I: IntoIterator<Item = (CustomerId, CustomerId)>>(iter: I) -> Self {
        let mut d = DismissedPairs::new();
        for (a, b) in iter {
            d.insert(a, b);
        }
        d
    }
}

/// One field's part in a pair's score.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldScore {
    pub field: CompareField,
    /// The field's name in explanations: the canonical name, or
    /// `attr:NAME` for a custom attribute compared as an identifier.
    pub name: Cow<'static, str>,
    pub level: Level,
    /// The contribution in bits (log2 of the Bayes factor; 0 when missing).
    pub weight: f64,
}

/// A pair of probable duplicates and why.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The lower id.
    pub a: CustomerId,
    pub b: CustomerId,
    pub a_ext_id: Option<String>,
    pub b_ext_id: Option<String>,
    /// The match probability, 0..1.
    pub score: f64,
    /// The match weight in bits: the prior's plus every field's.
    pub weight: f64,
    /// Every compared field, in [`CompareField::ALL`] order (identifier
    /// slots only as far as the scan picked identifiers).
    pub fields: Vec<FieldScore>,
    /// The blocking keys the two share.
    pub keys: Vec<KeyKind>,
}

/// Milliseconds per step of a scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub blocking_ms: u64,
    pub u_ms: u64,
    pub candidates_ms: u64,
    pub em_ms: u64,
    pub scoring_ms: u64,
    pub clustering_ms: u64,
}

/// What a scan found.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Records scanned.
    pub customers: u64,
    /// Candidate pairs compared (only those with a changed record, for an
    /// incremental scan).
    pub candidates: u64,
    /// Pairs at or above the threshold, by score (highest first), then ids.
    pub pairs: Vec<Pair>,
    /// Clusters of two or more, each sorted by id, sorted by first id.
    pub clusters: Vec<Vec<CustomerId>>,
    pub blocks: BlockReport,
    pub model: Model,
    pub timings: Timings,
}

fn ms(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

/// Sorts records by id; a later record with the same id replaces an
/// earlier one.
fn by_id(mut records: Vec<Record>) -> Vec<Record> {
    records.reverse();
    records.sort_by_key(|r| r.id);
    records.dedup_by_key(|r| r.id);
    records
}

/// Reads and folds every live customer of a store, one thread per part of
/// the id range (at a million customers, reading is a third of a scan).
pub fn read_records(store: &crate::store::Store) -> Result<Vec<Record>, crate::store::StoreError> {
    let bound = store.customer_id_bound()?;
    let parts = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4) as u64;
    let step = bound.div_ceil(parts).max(1);
    let results: Vec<Result<Vec<Record>, crate::store::StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parts)
            .map(|i| {
                let ids = (i * step).min(bound)..((i + 1) * step).min(bound);
                scope.spawn(move || {
                    let mut out = Vec::with_capacity((ids.end - ids.start) as usize);
                    for item in store.live_with_stats_in(ids) {
                        let (c, _) = item?;
                        out.push(Record::new(&c));
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut records = Vec::new();
    for part in results {
        records.extend(part?);
    }
    Ok(records)
}

/// Scans customers for duplicates (folds them first).
pub fn scan_customers(
    customers: &[Customer],
    dismissed: &DismissedPairs,
    opts: &ScanOptions,
) -> Scan {
    scan(customers.iter().map(Record::new).collect(), dismissed, opts)
}

/// A full scan: blocks, fits the model on these records and reports the
/// pairs at or above the threshold and their clusters.
pub fn scan(records: Vec<Record>, dismissed: &DismissedPairs, opts: &ScanOptions) -> Scan {
    let mut records = by_id(records);
    let threads = opts.threads();
    let mut timings = Timings::default();

    let t = Instant::now();
    let identifiers = Identifiers::detect(&records);
    identifiers.apply(&mut records);
    let blocking = Blocking::build(&records, opts.block_cap);
    let freq = Frequencies::count(&records);
    timings.blocking_ms = ms(t);

    let t = Instant::now();
    let (counts, sampled) = model::sample_levels(&records, opts.u_samples, opts.seed, threads);
    let u = model::u_from(&counts, &model::exact_u(&records));
    timings.u_ms = ms(t);

    let t = Instant::now();
    let chunks = candidate_patterns(&records, &blocking, None, threads);
    timings.candidates_ms = ms(t);

    let t = Instant::now();
    let mut full: HashMap<u32, u64> = HashMap::new();
    let mut by_kind: Vec<HashMap<u32, u64>> = vec![HashMap::new(); KeyKind::ALL.len()];
    for chunk in &chunks {
        for (&(kind, p), &n) in &chunk.sessions {
            *by_kind[usize::from(kind)].entry(p).or_default() += n;
        }
        for &p in &chunk.patterns {
            *full.entry(p).or_default() += 1;
        }
    }
    let sorted = |h: HashMap<u32, u64>| {
        let mut v: Vec<(u32, u64)> = h.into_iter().collect();
        v.sort_unstable();
        v
    };
    let sessions: Vec<model::SessionPatterns> = KeyKind::ALL
        .iter()
        .zip(by_kind)
        .map(|(k, h)| model::SessionPatterns {
            key: k.as_str(),
            masked: k.forces(),
            patterns: sorted(h),
        })
        .collect();
    let mut model = model::fit(
        &sorted(full),
        &sessions,
        u,
        records.len(),
        opts.max_em_iterations,
    );
    model.u_pairs = sampled;
    model.identifiers = identifiers;
    timings.em_ms = ms(t);

    let mut blocking = blocking;
    for chunk in &chunks {
        for (k, &n) in KeyKind::ALL.iter().zip(&chunk.by_block) {
            if n > 0 {
                *blocking.report.pairs_by_key.entry(k.as_str()).or_default() += n;
            }
        }
    }
    let patterns: Vec<Vec<u32>> = chunks.into_iter().map(|c| c.patterns).collect();
    finish(
        records, blocking, freq, model, None, &patterns, dismissed, opts, timings,
    )
}

/// An incremental scan: compares only the `changed` records (new or
/// edited; they replace existing records with the same id) with the blocks
/// of all records, scoring with a model fitted by an earlier full scan.
/// It finds the same pairs involving a changed record, with the same
/// scores, as a full scan over all records with that model would.
pub fn scan_incremental(
    existing: Vec<Record>,
    changed: Vec<Record>,
    dismissed: &DismissedPairs,
    opts: &ScanOptions,
    model: &Model,
) -> Scan {
    let changed_ids: HashSet<CustomerId> = changed.iter().map(|r| r.id).collect();
    let mut all = existing;
    all.extend(changed);
    let mut records = by_id(all);
    model.identifiers.apply(&mut records);
    let focus: Vec<bool> = records
        .iter()
        .map(|r| changed_ids.contains(&r.id))
        .collect();
    let threads = opts.threads();
    let mut timings = Timings::default();
    let t = Instant::now();
    let blocking = Blocking::build(&records, opts.block_cap);
    let freq = Frequencies::count(&records);
    timings.blocking_ms = ms(t);
    let t = Instant::now();
    let patterns: Vec<Vec<u32>> = candidate_patterns(&records, &blocking, Some(&focus), threads)
        .into_iter()
        .map(|c| c.patterns)
        .collect();
    timings.candidates_ms = ms(t);
    finish(
        records,
        blocking,
        freq,
        model.clone(),
        Some(&focus),
        &patterns,
        dismissed,
        opts,
        timings,
    )
}

/// Blocks per unit of work handed to a thread.
const CHUNK: usize = 512;

/// Runs `f` over chunks of blocks on `threads` threads; results in chunk
/// order.
fn over_chunks<T: Send>(
    blocking: &Blocking,
    threads: usize,
    f: impl Fn(std::ops::Range<usize>) -> T + Sync,
) -> Vec<T> {
    let n = blocking.blocks.len();
    let chunks = n.div_ceil(CHUNK);
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::with_capacity(chunks));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let r = f(c * CHUNK..((c + 1) * CHUNK).min(n));
                    if let Ok(mut o) = out.lock() {
                        o.push((c, r));
                    }
                }
            });
        }
    });
    let mut out = out.into_inner().unwrap_or_else(|p| p.into_inner());
    out.sort_by_key(|(c, _)| *c);
    out.into_iter().map(|(_, r)| r).collect()
}

/// What pass 1 gives per chunk of blocks.
struct ChunkPatterns {
    /// Every candidate's level pattern, in the order
    /// [`Blocking::for_pairs_in`] visits them.
    patterns: Vec<u32>,
    /// Pattern counts per EM session: (key kind, pattern with the fields
    /// that kind forces set to missing).
    sessions: HashMap<(u8, u32), u64>,
    /// Candidates by the kind of block that compared them.
    by_block: [u64; KeyKind::ALL.len()],
}

/// Pass 1: compares every candidate pair once.
fn candidate_patterns(
    records: &[Record],
    blocking: &Blocking,
    focus: Option<&[bool]>,
    threads: usize,
) -> Vec<ChunkPatterns> {
    let masks: Vec<u32> = KeyKind::ALL
        .iter()
        .map(|k| {
            k.forces()
                .iter()
                .fold(0u32, |m, f| m | compare::field_mask(f.index()))
        })
        .collect();
    over_chunks(blocking, threads, |range| {
        let mut out = ChunkPatterns {
            patterns: Vec::new(),
            sessions: HashMap::new(),
            by_block: [0; KeyKind::ALL.len()],
        };
        blocking.for_pairs_in(range, focus, |a, b, mask, kind| {
            let (codes, _) = compare::compare(&records[a as usize], &records[b as usize]);
            let p = compare::pack(&codes);
            out.patterns.push(p);
            for (k, m) in masks.iter().enumerate() {
                if mask & (1 << k) != 0 {
                    *out.sessions.entry((k as u8, p & !m)).or_default() += 1;
                }
            }
            out.by_block[kind as usize] += 1;
        });
        out
    })
}

/// Pass 2 and the rest: scores the candidates (skipping those whose
/// pattern cannot reach the threshold even with the rarest values),
/// builds the pairs and clusters.
#[expect(clippy::too_many_arguments, reason = "the internal tail of two scans")]
fn finish(
    records: Vec<Record>,
    blocking: Blocking,
    freq: Frequencies,
    model: Model,
    focus: Option<&[bool]>,
    patterns: &[Vec<u32>],
    dismissed: &DismissedPairs,
    opts: &ScanOptions,
    mut timings: Timings,
) -> Scan {
    let threads = opts.threads();
    let t = Instant::now();
    let threshold_bits = bits_of(opts.threshold);
    let candidates: u64 = patterns.iter().map(|p| p.len() as u64).sum();
    let found: Vec<Vec<(u32, u32, f64, u16)>> = {
        let records = &records;
        let model = &model;
        let freq = &freq;
        let blocking = &blocking;
        over_chunks(blocking, threads, |range| {
            let chunk = range.start / CHUNK;
            let pats = &patterns[chunk];
            let mut k = 0;
            let mut out = Vec::new();
            blocking.for_pairs_in(range, focus, |a, b, mask, _| {
                let p = pats[k];
                k += 1;
                let (ra, rb) = (&records[a as usize], &records[b as usize]);
                let names = [
                    ra.name.as_ref().map_or(0, |n| n.exact),
                    rb.name.as_ref().map_or(0, |n| n.exact),
                ];
                if model.pattern_weight(p) + model.tf_bonus(freq, p, names) < threshold_bits {
                    return;
                }
                if dismissed.contains(ra.id, rb.id) {
                    return;
                }
                let (score, _, _) = model.score(ra, rb, freq);
                if score >= opts.threshold {
                    out.push((a, b, score, mask));
                }
            });
            out
        })
    };
    let mut links: Vec<(u32, u32, f64, u16)> = found.into_iter().flatten().collect();
    links.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    let pairs: Vec<Pair> = links
        .iter()
        .map(|&(a, b, _, mask)| {
            explain(
                &records[a as usize],
                &records[b as usize],
                &model,
                &freq,
                mask,
            )
        })
        .collect();
    timings.scoring_ms = ms(t);

    let t = Instant::now();
    let rule = ClusterRule {
        low: opts.low_threshold,
        max_size: opts.max_cluster.max(2),
    };
    let link_list: Vec<(u32, u32, f64)> = links.iter().map(|&(a, b, s, _)| (a, b, s)).collect();
    let groups = cluster::clusters(
        &link_list,
        rule,
        |a, b| {
            model
                .score(&records[a as usize], &records[b as usize], &freq)
                .0
        },
        |a, b| dismissed.contains(records[a as usize].id, records[b as usize].id),
    );
    let mut clusters: Vec<Vec<CustomerId>> = groups
        .into_iter()
        .map(|g| g.into_iter().map(|i| records[i as usize].id).collect())
        .collect();
    clusters.sort();
    timings.clustering_ms = ms(t);

    Scan {
        customers: records.len() as u64,
        candidates,
        pairs,
        clusters,
        blocks: blocking.report,
        model,
        timings,
    }
}

/// The full explanation of one pair.
fn explain(a: &Record, b: &Record, model: &Model, freq: &Frequencies, mask: u16) -> Pair {
    let (score, parts, codes) = model.score(a, b, freq);
    let (a, b) = if a.id <= b.id { (a, b) } else { (b, a) };
    Pair {
        a: a.id,
        b: b.id,
        a_ext_id: a.ext_id.as_deref().map(str::to_owned),
        b_ext_id: b.ext_id.as_deref().map(str::to_owned),
        score,
        weight: model.prior_weight() + parts.iter().sum::<f64>(),
        fields: CompareField::ALL
            .iter()
            .filter_map(|&f| {
                Some(FieldScore {
                    field: f,
                    name: model.field_name(f)?,
                    level: f.level(codes[f.index()]),
                    weight: parts[f.index()],
                })
            })
            .collect(),
        keys: block::kinds(mask),
    }
}

/// Scores one pair of customers with a model (for the review pane and
/// tests): the same explanation a scan gives, with term frequencies taken
/// from `population`. The pair's identifiers are the model's; those of
/// `population` count only where [`Identifiers::apply`] gave them (records
/// fresh from [`Record::new`] have none, and an exact identifier then
/// weighs its level's average).
pub fn explain_pair(a: &Customer, b: &Customer, model: &Model, population: &[Record]) -> Pair {
    let freq = Frequencies::count(population);
    let mut pair = [Record::new(a), Record::new(b)];
    model.identifiers.apply(&mut pair);
    explain(&pair[0], &pair[1], model, &freq, 0)
}

#[cfg(test)]
mod tests;
