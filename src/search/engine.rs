//! The in-memory search index and the one evaluator every caller uses.
//!
//! The persisted search chunks (see `store`) hold each live customer's
//! haystack; [`Index::load`] reads them into one arena (about 100 bytes a
//! customer) with a 64-bit character mask per customer. A query is answered
//! in three steps:
//!
//! 1. narrow: the positive free-text terms select candidates, skipping any
//!    whose mask lacks a needed character, and starting from the previous
//!    keystroke's candidates when the new query only extends the old one
//!    (a fuzzy match of `abc` is always a fuzzy match of `ab`);
//! 2. filter: the rest of the query (fields, figures, OR, NOT) is checked by
//!    `eval::matches` on the stored record, loaded only for candidates;
//! 3. rank: exact > prefix > word start > substring > fuzzy, then the
//!    shorter segment (or tighter fuzzy span), then the id, and only the top hits get a fuzzy-matcher score.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::eval::{EvalContext, fuzzy_end, matches, text_matches};
use super::query::{MatchKind, Query, TextTerm};
use crate::model::CustomerId;
use crate::model::searchable::{char_bit, mask_of};
use crate::store::{Result, Store};

/// How a free-text term met a haystack, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// A whole segment equals the term.
    Exact,
    /// A segment starts with the term.
    Prefix,
    /// A word inside a segment starts with the term.
    Word,
    Substring,
    Fuzzy,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: CustomerId,
    pub tier: Tier,
    /// The fuzzy-matcher score of the best segment (higher is better); 0 without text terms.
    pub score: i64,
}

/// The answer to a query: the exact number of matches and the best hits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
}

/// What a search remembers so that the next keystroke can start from its candidates.
#[derive(Debug, Clone, Default)]
pub struct Narrowing {
    terms: Vec<String>,
    candidates: Vec<u32>,
    /// For a single ASCII fuzzy term: where its leftmost greedy match ends in
    /// each candidate (parallel to `candidates`), so that the next keystroke,
    /// which usually appends a character, continues from there instead of
    /// rescanning the haystack. Empty when not kept.
    ends: Vec<u32>,
}

/// Entries kept per short query in [`Index::short_keys`]: a search asking
/// for at most this many hits can be ranked from them.
pub const SHORT_QUERY_KEYS: usize = 64;

/// One slot per ASCII letter or digit, then one per pair of them.
const SHORT_SLOTS: usize = SLOT_N + SLOT_N * SLOT_N;

/// The characters short-query keys are kept for: letters, digits and the
/// punctuation of emails (`@gmail`, `.com`).
const SLOT_CHARS: &[u8; SLOT_N] = b"abcdefghijklmnopqrstuvwxyz0123456789@.-_";
const SLOT_N: usize = 40;

/// The slot of a one- or two-character query of ASCII letters and digits.
fn short_slot(text: &str) -> Option<usize> {
    match text.as_bytes() {
        [a] => first_slot(*a),
        // A doubled punctuation mark ("..") overlaps itself, and the
        // ranker counts non-overlapping occurrences only.
        [a, b] if a == b && !a.is_ascii_alphanumeric() => None,
        [a, b] => Some(pair_slot(first_slot(*a)?, first_slot(*b)?)),
        _ => None,
    }
}

/// The characters of a slot: one, or a pair.
fn slot_text(slot: usize) -> (u8, Option<u8>) {
    if slot < SLOT_N {
        (SLOT_CHARS[slot], None)
    } else {
        let pair = slot - SLOT_N;
        (SLOT_CHARS[pair / SLOT_N], Some(SLOT_CHARS[pair % SLOT_N]))
    }
}

fn pair_slot(s1: usize, s2: usize) -> usize {
    SLOT_N + s1 * SLOT_N + s2
}

/// The best key per slot of one haystack, reset in O(touched slots).
struct Best {
    /// Per slot: index into `touched` + 1, or 0.
    at: Vec<u16>,
    touched: Vec<(usize, Tier, usize)>,
}

impl Best {
    fn new() -> Self {
        Best {
            at: vec![0; SHORT_SLOTS],
            touched: Vec::with_capacity(64),
        }
    }

    fn clear(&mut self) {
        for (slot, _, _) in self.touched.drain(..) {
            self.at[slot] = 0;
        }
    }

    /// A prefix segment of `len` bytes for `slot`.
    fn prefix(&mut self, slot: usize, len: usize) {
        let exact = len == if slot < SLOT_N { 1 } else { 2 };
        let tier = if exact { Tier::Exact } else { Tier::Prefix };
        self.note(slot, tier, len);
    }

    fn note(&mut self, slot: usize, tier: Tier, len: usize) {
        match self.at[slot] {
            0 => {
                self.touched.push((slot, tier, len));
                self.at[slot] = u16::try_from(self.touched.len()).unwrap_or(u16::MAX);
            }
            k => {
                let b = &mut self.touched[usize::from(k) - 1];
                if (tier, len) < (b.1, b.2) {
                    (b.1, b.2) = (tier, len);
                }
            }
        }
    }
}

/// Whether the character before the end of `before` is not alphanumeric (a
/// match after it starts a word), as `QuickKeys` decides.
fn follows_word_break(before: &[u8]) -> bool {
    match before.last() {
        None => return false,
        Some(b) if b.is_ascii() => return !b.is_ascii_alphanumeric(),
        Some(_) => {}
    }
    // The last character starts at the last byte that is not a UTF-8
    // continuation byte.
    let start = before.iter().rposition(|b| b & 0xC0 != 0x80).unwrap_or(0);
    std::str::from_utf8(&before[start..])
        .ok()
        .and_then(|s| s.chars().next_back())
        .is_some_and(|c| !c.is_alphanumeric())
}

/// The slot of an ASCII letter or digit (the characters whose mask bit is
/// exact), if `b` is one.
fn first_slot(b: u8) -> Option<usize> {
    match SLOT_OF[usize::from(b)] {
        u8::MAX => None,
        s => Some(usize::from(s)),
    }
}

/// [`SLOT_CHARS`] inverted: the slot of each byte, or `u8::MAX`.
const SLOT_OF: [u8; 256] = {
    let mut table = [u8::MAX; 256];
    let mut i = 0;
    while i < SLOT_N {
        table[SLOT_CHARS[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The haystacks of every live customer, in id order.
#[derive(Debug, Default)]
pub struct Index {
    ids: Vec<u64>,
    offsets: Vec<u32>,
    arena: String,
    masks: Vec<u64>,
    initials: Vec<u64>,
    /// For each one- and two-character query of ASCII letters and digits,
    /// its best ranking keys (exact, then prefix by segment length, then
    /// position), built at load: the first keystrokes match most customers
    /// and ranking them all would take longer than a frame.
    /// Built by [`Index::warm`]; unused until then.
    short_keys: std::sync::OnceLock<Vec<Vec<(Tier, usize, u32)>>>,
}

impl Index {
    /// Reads every search chunk of the store.
    pub fn load(store: &Store) -> Result<Index> {
        let mut index = Index::default();
        index.offsets.push(0);
        for chunk in store.search_chunks() {
            let chunk = chunk?;
            if !chunk.is_well_formed() {
                continue;
            }
            let (ids, ends, masks, initials, text) = chunk.parts();
            let base = index.arena.len();
            index.arena.push_str(text);
            index.ids.extend_from_slice(ids);
            index.masks.extend_from_slice(masks);
            index.initials.extend_from_slice(initials);
            index.offsets.extend(
                ends.iter()
                    .map(|e| u32::try_from(base + *e as usize).unwrap_or(u32::MAX)),
            );
        }
        Ok(index)
    }

    /// Builds what the first keystrokes of a search need (the short-query
    /// keys), for an index that will answer many queries (the workbench
    /// calls it in the background after loading). Idempotent. A one-shot
    /// query does not need it.
    pub fn warm(&self) {
        self.short_keys.get_or_init(|| self.build_short_keys());
    }

    /// The [`SHORT_QUERY_KEYS`] smallest ranking keys of every one- and
    /// two-character query made of ASCII letters and digits (slot
    /// [`short_slot`]). A haystack's key for a prefix `p` is (Exact, len)
    /// when a segment is `p`, else (Prefix, length of its shortest segment
    /// starting with `p`), as `rank_key` computes it; haystacks without
    /// such a segment rank below all of these. Lists holding fewer than
    /// [`SHORT_QUERY_KEYS`] prefix keys are completed with word-start and
    /// substring keys (see [`Index::short_results`]).
    fn build_short_keys(&self) -> Vec<Vec<(Tier, usize, u32)>> {
        let n = self.ids.len();
        let mut out = self.collect_keys(n, &|hay, best| {
            for seg in hay.split(|b| *b == b'\n') {
                let Some(s1) = seg.first().copied().and_then(first_slot) else {
                    continue;
                };
                best.prefix(s1, seg.len());
                if let Some(s2) = seg.get(1).copied().and_then(first_slot) {
                    best.prefix(pair_slot(s1, s2), seg.len());
                }
            }
        });
        // Lists with fewer prefix keys than a page take the word-start and
        // substring keys too (fuzzy-only matches still rank below them).
        let short: Vec<usize> = (0..SHORT_SLOTS)
            .filter(|s| out[*s].len() < SHORT_QUERY_KEYS)
            .collect();
        if short.is_empty() {
            return out;
        }
        let mut one = [false; 256];
        let mut two = vec![false; 1 << 16];
        for &s in &short {
            match slot_text(s) {
                (a, None) => one[usize::from(a)] = true,
                (a, Some(b)) => two[usize::from(a) << 8 | usize::from(b)] = true,
            }
        }
        let inner = self.collect_keys(n, &|hay, best| {
            let mut seg_start = 0;
            let mut seg_end = 0;
            for (at, &b) in hay.iter().enumerate() {
                if b == b'\n' {
                    seg_start = at + 1;
                    continue;
                }
                if at == seg_start {
                    continue;
                }
                let next = hay.get(at + 1).copied().unwrap_or(b'\n');
                let pair = two[usize::from(b) << 8 | usize::from(next)];
                if !one[usize::from(b)] && !pair {
                    continue;
                }
                if seg_end <= at {
                    seg_end = memchr::memchr(b'\n', &hay[at..]).map_or(hay.len(), |e| at + e);
                }
                let tier = if follows_word_break(&hay[..at]) {
                    Tier::Word
                } else {
                    Tier::Substring
                };
                let (Some(s1), s2) = (first_slot(b), first_slot(next)) else {
                    continue;
                };
                if one[usize::from(b)] {
                    best.note(s1, tier, seg_end - seg_start);
                }
                if let (true, Some(s2)) = (pair, s2) {
                    best.note(pair_slot(s1, s2), tier, seg_end - seg_start);
                }
            }
        });
        for s in short {
            let mut keys = std::mem::take(&mut out[s]);
            keys.extend(inner[s].iter().copied());
            // A haystack in both lists keeps its better (prefix) key.
            keys.sort_unstable_by_key(|k| (k.2, k.0, k.1));
            keys.dedup_by_key(|k| k.2);
            keys.sort_unstable();
            keys.truncate(SHORT_QUERY_KEYS);
            out[s] = keys;
        }
        out
    }

    /// Runs `visit` over every haystack (in parallel) and keeps, per slot,
    /// the [`SHORT_QUERY_KEYS`] smallest (tier, length, position) it reported.
    fn collect_keys(
        &self,
        n: usize,
        visit: &(dyn Fn(&[u8], &mut Best) + Sync),
    ) -> Vec<Vec<(Tier, usize, u32)>> {
        let parts = parallel_chunks(n, &|range| {
            let mut heaps: Vec<std::collections::BinaryHeap<(Tier, usize, u32)>> =
                (0..SHORT_SLOTS).map(|_| Default::default()).collect();
            let mut best = Best::new();
            for i in range {
                best.clear();
                visit(self.hay(i).as_bytes(), &mut best);
                for &(slot, tier, len) in &best.touched {
                    let key = (tier, len, i as u32);
                    let heap = &mut heaps[slot];
                    if heap.len() < SHORT_QUERY_KEYS {
                        heap.push(key);
                    } else if heap.peek().is_some_and(|top| key < *top) {
                        heap.pop();
                        heap.push(key);
                    }
                }
            }
            vec![heaps.into_iter().map(|h| h.into_vec()).collect::<Vec<_>>()]
        });
        let mut out: Vec<Vec<(Tier, usize, u32)>> = vec![Vec::new(); SHORT_SLOTS];
        for part in parts {
            for (slot, keys) in part.into_iter().enumerate() {
                out[slot].extend(keys);
            }
        }
        for keys in &mut out {
            keys.sort_unstable();
            keys.truncate(SHORT_QUERY_KEYS);
        }
        out
    }

    /// The id at a position in id order (browsing without a query).
    pub fn id_at(&self, pos: usize) -> Option<CustomerId> {
        self.ids.get(pos).map(|id| CustomerId(*id))
    }

    /// Number of indexed customers.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Bytes held in memory.
    pub fn memory_bytes(&self) -> usize {
        self.arena.len() + self.ids.len() * 8 + self.offsets.len() * 4 + self.masks.len() * 16
    }

    fn hay(&self, i: usize) -> &str {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        // Offsets always fall between whole haystacks; fall back to empty
        // rather than panic.
        self.arena.get(a..b).unwrap_or("")
    }

    /// Answers `query`: the exact match count and the `limit` best hits.
    /// `prev` (the narrowing of the previous keystroke) may speed it up; the
    /// returned narrowing is for the next one.
    pub fn search(
        &self,
        store: &Store,
        query: &Query,
        ctx: &EvalContext,
        limit: usize,
        prev: Option<&Narrowing>,
    ) -> Result<(Results, Narrowing)> {
        let terms = query.text_terms();
        let plain = plain_fuzzy_terms(&terms);
        let start: Option<&Narrowing> = match (prev, &plain) {
            (Some(p), Some(now)) if extends(&p.terms, now) => Some(p),
            _ => None,
        };
        let (candidates, ends) = match plain.as_deref() {
            // One fuzzy term: keep where each match ends, and continue from
            // the previous keystroke's ends (a single letter costs one
            // memchr per customer, and saves its next keystroke a rescan).
            Some([one]) => self.narrow_single(one, start),
            _ => (
                self.narrow(&terms, start.map(|p| &p.candidates[..])),
                Vec::new(),
            ),
        };
        if let (true, Some([one])) = (is_conjunction_of(query, &terms), plain.as_deref()) {
            if let Some(results) = self.short_results(&terms, one, candidates.len(), limit) {
                let narrowing = Narrowing {
                    terms: plain.unwrap_or_default(),
                    candidates,
                    ends,
                };
                return Ok((results, narrowing));
            }
        }
        let narrowing = Narrowing {
            terms: plain.unwrap_or_default(),
            candidates: candidates.clone(),
            ends,
        };
        let matched: Vec<u32> = if is_conjunction_of(query, &terms) {
            candidates
        } else {
            let mut out = Vec::with_capacity(candidates.len().min(1 << 16));
            for i in candidates {
                let id = CustomerId(self.ids[i as usize]);
                let Some(c) = store.customer(id)? else {
                    continue;
                };
                if !c.is_live() {
                    continue;
                }
                let stats = store.stats(id)?;
                if matches(query, &c, Some(&stats), self.hay(i as usize), ctx) {
                    out.push(i);
                }
            }
            out
        };
        Ok((self.rank(&terms, matched, limit), narrowing))
    }

    /// The answer to a one- or two-character query from the keys built at
    /// load, when they hold at least a page (or every match).
    fn short_results(
        &self,
        terms: &[&TextTerm],
        text: &str,
        total: usize,
        limit: usize,
    ) -> Option<Results> {
        let slot = short_slot(text)?;
        // Only once warmed: building them costs more than one query.
        let keys = self.short_keys.get()?.get(slot)?;
        // All missing haystacks rank below the list, and a list as long as
        // the match count holds every match.
        let enough = keys.len() >= limit || keys.len() == total;
        if !enough {
            return None;
        }
        let take = limit.min(keys.len());
        Some(self.finish(terms, total, keys[..take].to_vec()))
    }

    /// The candidates matching one fuzzy term and where each match
    /// ends. From a previous keystroke whose term this one extends by
    /// appending, each candidate continues from its kept end; from a
    /// previous keystroke without ends, only its candidates are scanned.
    fn narrow_single(&self, term: &str, start: Option<&Narrowing>) -> (Vec<u32>, Vec<u32>) {
        let need = mask_of(term);
        let scan = |i: u32, from: usize, done: usize| -> Option<(u32, u32)> {
            let at = i as usize;
            if self.masks[at] & need != need {
                return None;
            }
            let end = fuzzy_end(term, self.hay(at).as_bytes(), from, done)?;
            Some((i, u32::try_from(end).ok()?))
        };
        let pairs: Vec<(u32, u32)> = match start {
            Some(p)
                if !p.ends.is_empty()
                    && p.ends.len() == p.candidates.len()
                    && matches!(p.terms.as_slice(), [old] if term.starts_with(old.as_str())) =>
            {
                let done = p.terms[0].len();
                parallel_chunks(p.candidates.len(), &|range| {
                    range
                        .filter_map(|k| scan(p.candidates[k], p.ends[k] as usize, done))
                        .collect()
                })
            }
            Some(p) => parallel_chunks(p.candidates.len(), &|range| {
                range.filter_map(|k| scan(p.candidates[k], 0, 0)).collect()
            }),
            None => parallel_chunks(self.ids.len(), &|range| {
                range.filter_map(|i| scan(i as u32, 0, 0)).collect()
            }),
        };
        pairs.into_iter().unzip()
    }

    /// The indexes that every positive text term matches.
    fn narrow(&self, terms: &[&TextTerm], start: Option<&[u32]>) -> Vec<u32> {
        let need: u64 = terms
            .iter()
            .filter(|t| t.alternatives.len() == 1)
            .map(|t| mask_of(t.alternatives[0].folded()))
            .fold(0, |a, b| a | b);
        // A one-character ASCII term is decided by the mask alone.
        let verify: Vec<&TextTerm> = terms
            .iter()
            .copied()
            .filter(|t| !is_decided_by_mask(t))
            .collect();
        let check = |i: u32| {
            let i = i as usize;
            self.masks[i] & need == need && verify.iter().all(|t| text_matches(t, self.hay(i)))
        };
        match start {
            Some(s) => parallel_filter(s, &check),
            None if terms.is_empty() => (0..self.ids.len() as u32).collect(),
            None => parallel_chunks(self.ids.len(), &|range| {
                range.map(|i| i as u32).filter(|i| check(*i)).collect()
            }),
        }
    }

    fn rank(&self, terms: &[&TextTerm], matched: Vec<u32>, limit: usize) -> Results {
        let total = matched.len();
        if terms.is_empty() {
            let hits = matched
                .into_iter()
                .take(limit)
                .map(|i| Hit {
                    id: CustomerId(self.ids[i as usize]),
                    tier: Tier::Exact,
                    score: 0,
                })
                .collect();
            return Results { total, hits };
        }
        // Ranking runs in widening passes, each only when the previous one
        // did not fill the page:
        // 1. haystacks whose segment initials allow an exact or prefix hit
        //    (one memmem scan per term);
        // 2. the other matches, also by memmem (word starts, substrings);
        // 3. the full per-segment key (fuzzy spans) for fuzzy-only matches.
        let quick_keys = QuickKeys::new(terms);
        let keyed_by = |ids: &[u32]| -> Vec<(Option<(Tier, usize)>, u32)> {
            parallel_map(ids, &|i: u32| (quick_keys.key(self.hay(i as usize)), i))
        };
        let need = initials_needed(terms);
        let (likely, rest): (Vec<u32>, Vec<u32>) = if need == 0 {
            (Vec::new(), matched)
        } else {
            matched
                .into_iter()
                .partition(|i| self.initials[*i as usize] & need == need)
        };
        let mut quick = keyed_by(&likely);
        let prefix_hits = quick
            .iter()
            .filter(|(k, _)| k.is_some_and(|(t, _)| t <= Tier::Prefix))
            .count();
        if prefix_hits >= limit {
            let top = quick.into_iter().filter_map(|(k, i)| {
                k.filter(|(t, _)| *t <= Tier::Prefix)
                    .map(|(t, l)| (t, l, i))
            });
            return self.finish(terms, total, smallest(top.collect(), limit));
        }
        quick.extend(keyed_by(&rest));
        let (found, fuzzy): (Vec<_>, Vec<_>) = quick.into_iter().partition(|(k, _)| k.is_some());
        let mut keyed: Vec<(Tier, usize, u32)> = found
            .into_iter()
            .filter_map(|(k, i)| k.map(|(t, l)| (t, l, i)))
            .collect();
        if keyed.len() < limit {
            let fuzzy: Vec<u32> = fuzzy.into_iter().map(|(_, i)| i).collect();
            keyed.extend(parallel_map(&fuzzy, &|i: u32| {
                let (tier, span) = rank_key(terms, self.hay(i as usize));
                (tier, span, i)
            }));
        }
        self.finish(terms, total, smallest(keyed, limit))
    }

    /// Sorts the chosen hits and scores them with the fuzzy matcher.
    fn finish(
        &self,
        terms: &[&TextTerm],
        total: usize,
        mut keyed: Vec<(Tier, usize, u32)>,
    ) -> Results {
        keyed.sort_unstable();
        let matcher = SkimMatcherV2::default();
        let hits = keyed
            .into_iter()
            .map(|(tier, _, i)| {
                let hay = self.hay(i as usize);
                let score = terms
                    .iter()
                    .filter_map(|t| {
                        t.alternatives
                            .iter()
                            .filter_map(|a| {
                                hay.split('\n')
                                    .filter_map(|s| matcher.fuzzy_match(s, a.folded()))
                                    .max()
                            })
                            .max()
                    })
                    .sum();
                Hit {
                    id: CustomerId(self.ids[i as usize]),
                    tier,
                    score,
                }
            })
            .collect();
        Results { total, hits }
    }
}

/// The `limit` smallest keys, unordered.
fn smallest(mut keyed: Vec<(Tier, usize, u32)>, limit: usize) -> Vec<(Tier, usize, u32)> {
    if keyed.len() > limit && limit > 0 {
        keyed.select_nth_unstable(limit - 1);
    }
    keyed.truncate(limit);
    keyed
}

/// The segment-initial bits every exact or prefix hit must have: for each
/// term with one positive alternative, its first character's bit (terms
/// with several alternatives, or a first character without a bit, add none).
fn initials_needed(terms: &[&TextTerm]) -> u64 {
    terms
        .iter()
        .map(|t| {
            t.alternatives
                .iter()
                .filter(|a| !a.negated)
                .filter_map(|a| a.folded().chars().next())
                .map(char_bit)
                .fold(0, |m, b| m | b)
        })
        .filter(|m| m.count_ones() == 1)
        .fold(0, |a, b| a | b)
}

/// Whether `text` is one ASCII letter or digit (whose mask bit is exact).
fn is_single_ascii(text: &str) -> bool {
    matches!(text.as_bytes(), [b] if b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Whether a term is a single positive ASCII letter or digit, which a
/// haystack contains exactly when its mask has that bit.
fn is_decided_by_mask(t: &TextTerm) -> bool {
    match t.alternatives.as_slice() {
        [a] => {
            !a.negated
                && matches!(a.kind, MatchKind::Fuzzy | MatchKind::Substring)
                && is_single_ascii(a.folded())
        }
        _ => false,
    }
}

/// [`rank_key`] for haystacks where every term occurs as a substring,
/// found with one memmem scan per alternative instead of per-segment work;
/// only the fuzzy tier (no occurrence at all) needs the full key.
struct QuickKeys {
    terms: Vec<Vec<(usize, memchr::memmem::Finder<'static>)>>,
}

impl QuickKeys {
    fn new(terms: &[&TextTerm]) -> Self {
        let terms = terms
            .iter()
            .map(|t| {
                t.alternatives
                    .iter()
                    .filter(|a| !a.negated)
                    .map(|a| {
                        (
                            a.folded().len(),
                            memchr::memmem::Finder::new(a.folded().as_bytes()).into_owned(),
                        )
                    })
                    .collect()
            })
            .collect();
        QuickKeys { terms }
    }

    /// `rank_key(hay)` when every term occurs in `hay`, else `None`.
    fn key(&self, hay: &str) -> Option<(Tier, usize)> {
        let bytes = hay.as_bytes();
        let mut worst = Tier::Exact;
        let mut total = 0;
        for alternatives in &self.terms {
            let mut best: Option<(Tier, usize)> = None;
            for (len, finder) in alternatives {
                for at in finder.find_iter(bytes) {
                    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |n| n + 1);
                    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n);
                    let seg = end - start;
                    let tier = if at == start {
                        if seg == *len {
                            Tier::Exact
                        } else {
                            Tier::Prefix
                        }
                    } else if hay[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| !c.is_alphanumeric())
                    {
                        Tier::Word
                    } else {
                        Tier::Substring
                    };
                    let key = (tier, seg);
                    best = Some(best.map_or(key, |b| b.min(key)));
                }
            }
            let (tier, len) = best?;
            worst = worst.max(tier);
            total += len;
        }
        Some((worst, total))
    }
}

/// The folded texts when every term is a single plain fuzzy atom (the only
/// case where a longer query's matches are a subset of a shorter one's).
fn plain_fuzzy_terms(terms: &[&TextTerm]) -> Option<Vec<String>> {
    terms
        .iter()
        .map(|t| match t.alternatives.as_slice() {
            [a] if a.kind == MatchKind::Fuzzy && !a.negated => Some(a.folded().to_owned()),
            _ => None,
        })
        .collect()
}

/// Whether every match of `now` is also a match of `before`.
fn extends(before: &[String], now: &[String]) -> bool {
    !before.is_empty()
        && before.len() <= now.len()
        && before.iter().zip(now).all(|(b, n)| is_subsequence(b, n))
}

fn is_subsequence(needle: &str, hay: &str) -> bool {
    let mut it = hay.chars();
    needle.chars().all(|c| it.any(|h| h == c))
}

/// Whether `q` is exactly the AND of its positive text terms (nothing else
/// to check once they matched).
fn is_conjunction_of(q: &Query, terms: &[&TextTerm]) -> bool {
    match q {
        Query::All => true,
        Query::Text(t) => t.is_positive(),
        Query::And(parts) => {
            parts
                .iter()
                .all(|p| matches!(p, Query::Text(t) if t.is_positive()))
                && parts.len() == terms.len()
        }
        _ => false,
    }
}

/// The length in bytes of the shortest-ending greedy subsequence match of
/// `needle` in `seg`, or `None`.
fn fuzzy_span(needle: &str, seg: &str) -> Option<usize> {
    let mut chars = needle.chars();
    let first = chars.next()?;
    let start = seg.find(first)?;
    let mut pos = start + first.len_utf8();
    for c in chars {
        pos += seg[pos..].find(c)? + c.len_utf8();
    }
    Some(pos - start)
}

/// The cheap ranking key of a matching haystack: the worst tier over the
/// terms (each term at its best segment) and the total fuzzy span.
fn rank_key(terms: &[&TextTerm], hay: &str) -> (Tier, usize) {
    let mut worst = Tier::Exact;
    let mut span_total = 0;
    for t in terms {
        let mut best = (Tier::Fuzzy, usize::MAX);
        for a in t.alternatives.iter().filter(|a| !a.negated) {
            let text = a.folded();
            for seg in hay.split('\n') {
                // Within a tier, a term covering more of its segment ranks higher.
                let key = if seg == text {
                    (Tier::Exact, seg.len())
                } else if seg.starts_with(text) {
                    (Tier::Prefix, seg.len())
                } else if seg
                    .match_indices(text)
                    .any(|(at, _)| at > 0 && is_word_start(seg, at))
                {
                    (Tier::Word, seg.len())
                } else if seg.contains(text) {
                    (Tier::Substring, seg.len())
                } else if let Some(span) = fuzzy_span(text, seg) {
                    (Tier::Fuzzy, span)
                } else {
                    continue;
                };
                best = best.min(key);
            }
        }
        worst = worst.max(best.0);
        span_total += best.1.min(1 << 20);
    }
    (worst, span_total)
}

fn is_word_start(seg: &str, at: usize) -> bool {
    seg[..at]
        .chars()
        .next_back()
        .is_some_and(|c| !c.is_alphanumeric())
}

const PARALLEL_MIN: usize = 50_000;

fn threads() -> usize {
    // available_parallelism reads cgroup files on Linux: ask once.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    })
}

/// Runs `f` over `0..n` split into one contiguous range per thread (one
/// range below [`PARALLEL_MIN`]) and concatenates the outputs in order.
fn parallel_chunks<T: Send>(
    n: usize,
    f: &(dyn Fn(std::ops::Range<usize>) -> Vec<T> + Sync),
) -> Vec<T> {
    let threads = threads();
    if n < PARALLEL_MIN || threads == 1 {
        return f(0..n);
    }
    let size = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(size)
            .map(|a| s.spawn(move || f(a..(a + size).min(n))))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn parallel_filter(items: &[u32], keep: &(dyn Fn(u32) -> bool + Sync)) -> Vec<u32> {
    parallel_chunks(items.len(), &|range| {
        items[range].iter().copied().filter(|i| keep(*i)).collect()
    })
}

fn parallel_map<T: Send>(items: &[u32], f: &(dyn Fn(u32) -> T + Sync)) -> Vec<T> {
    parallel_chunks(items.len(), &|range| {
        items[range].iter().map(|i| f(*i)).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Index {
        /// An index over bare haystacks (ids 1..), as `load` builds it.
        fn from_haystacks(hays: &[String]) -> Index {
            let mut index = Index::default();
            index.offsets.push(0);
            for (n, h) in hays.iter().enumerate() {
                index.arena.push_str(h);
                index.ids.push(n as u64 + 1);
                index.masks.push(mask_of(h));
                index
                    .initials
                    .push(crate::model::searchable::initials_of(h));
                index.offsets.push(index.arena.len() as u32);
            }
            index.warm();
            index
        }
    }

    fn hay_strategy() -> impl proptest::strategy::Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            proptest::collection::vec("[abz0-2 .张伟é]{0,7}", 1..4).prop_map(|s| s.join("\n")),
            1..300,
        )
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// A one- or two-character query answered from the keys built at
        /// load ranks exactly as the general ranker does.
        #[test]
        fn short_keys_rank_like_the_general_ranker(hays in hay_strategy(), limit in 1usize..70) {
            let index = Index::from_haystacks(&hays);
            for c in ["a", "b", "z", "0", "1", ".", "ab", "z0", "bb", "a1", "a.", ".b", ".."] {
                let q = crate::search::parse(c).unwrap();
                let terms = q.text_terms();
                let matched = index.narrow(&terms, None);
                let general = index.rank(&terms, matched.clone(), limit);
                if let Some(fast) = index.short_results(&terms, c, matched.len(), limit) {
                    proptest::prop_assert_eq!(fast, general, "query {}", c);
                }
            }
        }

        /// Continuing from the kept ends of a shorter term finds exactly the
        /// haystacks a fresh scan finds, with the same ends.
        #[test]
        fn kept_ends_narrow_like_a_fresh_scan(hays in hay_strategy(), typed in "[abz0-2.张é]{2,6}") {
            let index = Index::from_haystacks(&hays);
            let mut prev: Option<Narrowing> = None;
            let ends: Vec<usize> = typed.char_indices().map(|(i, c)| i + c.len_utf8()).skip(1).collect();
            for end in ends {
                let term = &typed[..end];
                let fresh = index.narrow_single(term, None);
                let stepped = index.narrow_single(term, prev.as_ref());
                proptest::prop_assert_eq!(&stepped, &fresh, "term {:?}", term);
                let q = crate::search::parse(term).unwrap();
                let expected: Vec<u32> = (0..hays.len() as u32)
                    .filter(|i| text_matches(q.text_terms()[0], &hays[*i as usize]))
                    .collect();
                proptest::prop_assert_eq!(&fresh.0, &expected, "term {:?}", term);
                prev = Some(Narrowing {
                    terms: vec![term.to_owned()],
                    candidates: fresh.0,
                    ends: fresh.1,
                });
            }
        }
    }

    #[test]
    fn fuzzy_span_measures_tightness() {
        assert_eq!(fuzzy_span("zw", "zhang wei"), Some(7));
        assert_eq!(fuzzy_span("zw", "zw"), Some(2));
        assert_eq!(fuzzy_span("wz", "zhang wei"), None);
        assert_eq!(fuzzy_span("张伟", "张 伟"), Some(7));
    }

    #[test]
    fn segment_start_beats_word_start_and_shorter_segments_win() {
        let q = crate::search::parse("zhang").unwrap();
        let t = q.text_terms();
        assert_eq!(
            rank_key(&t, "陈娟长\nchenjuanzhang\nchen juan zhang"),
            (Tier::Word, 15)
        );
        assert_eq!(rank_key(&t, "张玉\nzhangyu\nzhang yu"), (Tier::Prefix, 7));
        assert_eq!(rank_key(&t, "zhang"), (Tier::Exact, 5));
        assert!(rank_key(&t, "张玉\nzhangyu") < rank_key(&t, "张雯静\nzhangwenjing"));
    }

    #[test]
    fn extension_rule() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(extends(&v(&["zh"]), &v(&["zha"])));
        assert!(extends(&v(&["zh"]), &v(&["zh", "w"])));
        assert!(!extends(&v(&["zh", "w"]), &v(&["zh"])));
        assert!(!extends(&v(&[]), &v(&["a"])));
    }

    #[test]
    fn masks_never_exclude_a_match() {
        for (t, h) in [("ab", "xaxb"), ("张", "张伟"), ("a1", "1a"), ("é", "é")] {
            assert_eq!(mask_of(h) & mask_of(t), mask_of(t), "{t} in {h}");
        }
    }

    proptest::proptest! {
        /// The quick key is the full ranking key whenever it applies, and
        /// applies whenever the full key is not fuzzy.
        #[test]
        fn quick_key_agrees_with_rank_key(segs in proptest::collection::vec("[abzé ._-]{0,6}", 1..5),
                                          words in proptest::collection::vec("[abz]{1,3}(\\|[abz]{1,2})?", 1..3)) {
            let hay = segs.join("\n");
            let q = crate::search::parse(&words.join(" ")).unwrap();
            let terms = q.text_terms();
            let full = rank_key(&terms, &hay);
            match QuickKeys::new(&terms).key(&hay) {
                Some(k) => proptest::prop_assert_eq!(k, full),
                None => proptest::prop_assert_eq!(full.0, Tier::Fuzzy, "{:?} for {:?}", full, hay),
            }
        }
    }
}
