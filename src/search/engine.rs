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

use super::eval::{EvalContext, matches, text_matches};
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
}

/// The haystacks of every live customer, in id order.
#[derive(Debug, Default)]
pub struct Index {
    ids: Vec<u64>,
    offsets: Vec<u32>,
    arena: String,
    masks: Vec<u64>,
    initials: Vec<u64>,
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
        let start: Option<&[u32]> = match (prev, &plain) {
            (Some(p), Some(now)) if extends(&p.terms, now) => Some(&p.candidates),
            _ => None,
        };
        let candidates = self.narrow(&terms, start);
        let narrowing = Narrowing {
            terms: plain.unwrap_or_default(),
            candidates: candidates.clone(),
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
            None => {
                let all: Vec<u32> = (0..self.ids.len() as u32).collect();
                if terms.is_empty() {
                    all
                } else {
                    parallel_filter(&all, &check)
                }
            }
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

/// Whether a term is a single positive ASCII letter or digit, which a
/// haystack contains exactly when its mask has that bit.
fn is_decided_by_mask(t: &TextTerm) -> bool {
    match t.alternatives.as_slice() {
        [a] => {
            !a.negated
                && matches!(a.kind, MatchKind::Fuzzy | MatchKind::Substring)
                && a.folded().len() == 1
                && a.folded()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
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

fn parallel_filter(items: &[u32], keep: &(dyn Fn(u32) -> bool + Sync)) -> Vec<u32> {
    let n = threads();
    if items.len() < PARALLEL_MIN || n == 1 {
        return items.iter().copied().filter(|i| keep(*i)).collect();
    }
    let size = items.len().div_ceil(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .copied()
                        .filter(|i| keep(*i))
                        .collect::<Vec<u32>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn parallel_map<T: Send>(items: &[u32], f: &(dyn Fn(u32) -> T + Sync)) -> Vec<T> {
    let n = threads();
    if items.len() < PARALLEL_MIN || n == 1 {
        return items.iter().map(|i| f(*i)).collect();
    }
    let size = items.len().div_ceil(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|part| s.spawn(move || part.iter().map(|i| f(*i)).collect::<Vec<T>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
