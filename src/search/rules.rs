//! Rule tags: a query (DESIGN.md §6) bound to a tag, whose members are
//! exactly the live customers the query matches.
//!
//! Membership is decided by the one evaluator ([`super::matches`]) on the
//! same inputs a search uses: the record, its stored figures and its stored
//! haystack (the search chunk), so a rule and a search never disagree. The
//! store keeps the members on the records; this module computes them and
//! hands them over ([`Store::set_tag_rule`], [`Store::refresh_rule_tags`]).
//!
//! Rules are re-evaluated over the whole database, not per change: after
//! `rule set`, on `rolo tag rule refresh`, and whenever a front end opens
//! the database and [`refresh_if_stale`] finds that something was logged
//! since the last refresh or the as-of date moved (time-based rules such as
//! `last_order<90d`). One pass costs a scan of the customers, about the
//! cost of an export.

use crate::model::{CustomerId, days};
use crate::segments;
use crate::store::{Result, SearchChunk, Store, TagOutcome};

use super::{EvalContext, ParseError, Query, matches, parse};

/// What setting a rule would do: its members, and who gains and loses the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePreview {
    pub tag: String,
    /// The rule as typed.
    pub rule: String,
    pub members: Vec<CustomerId>,
    /// Ids that would gain the tag, ascending.
    pub gained: Vec<u64>,
    /// Ids that would lose it, ascending.
    pub lost: Vec<u64>,
}

/// Why a rule could not be previewed.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("rule query: {0}")]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Whether the query has a free-text term anywhere (only then is the
/// haystack needed).
fn uses_text(q: &Query) -> bool {
    match q {
        Query::Text(_) => true,
        Query::And(parts) | Query::Or(parts) => parts.iter().any(uses_text),
        Query::Not(inner) => uses_text(inner),
        // A saved segment may hold text terms.
        Query::Saved(_) => true,
        _ => false,
    }
}

/// The stored haystacks in id order, read alongside the customers.
struct Haystacks {
    chunks: std::vec::IntoIter<SearchChunk>,
    current: Option<SearchChunk>,
    at: usize,
}

impl Haystacks {
    fn new(store: &Store) -> Result<Haystacks> {
        let chunks: Vec<SearchChunk> = store
            .search_chunks()
            .filter(|c| c.as_ref().map_or(true, SearchChunk::is_well_formed))
            .collect::<Result<_>>()?;
        let mut chunks = chunks.into_iter();
        let current = chunks.next();
        Ok(Haystacks {
            chunks,
            current,
            at: 0,
        })
    }

    /// The haystack of `id` ("" when it has none); ids must be asked for
    /// in ascending order.
    fn get(&mut self, id: u64) -> &str {
        loop {
            let here = match &self.current {
                None => true,
                Some(chunk) => {
                    let ids = chunk.parts().0;
                    while self.at < ids.len() && ids[self.at] < id {
                        self.at += 1;
                    }
                    self.at < ids.len()
                }
            };
            if here {
                break;
            }
            self.current = self.chunks.next();
            self.at = 0;
        }
        let Some(chunk) = &self.current else {
            return "";
        };
        let (ids, ends, _, _, text) = chunk.parts();
        if ids.get(self.at) != Some(&id) {
            return "";
        }
        let start = match self.at {
            0 => 0,
            at => ends[at - 1] as usize,
        };
        text.get(start..ends[self.at] as usize).unwrap_or("")
    }
}

/// The live customers matching `q`, ascending, by brute force over every
/// record with its figures (and its haystack when `q` has text terms).
pub fn members(store: &Store, q: &Query, ctx: &EvalContext) -> Result<Vec<CustomerId>> {
    let mut out = Vec::new();
    let mut hays = if uses_text(q) {
        Some(Haystacks::new(store)?)
    } else {
        None
    };
    for item in store.live_with_stats() {
        let (c, mine) = item?;
        let hay = match hays.as_mut() {
            Some(h) => h.get(c.id.0),
            None => "",
        };
        // Search passes default figures for a customer without orders;
        // the evaluator treats both alike.
        let s = mine.unwrap_or_default();
        if matches(q, &c, Some(&s), hay, ctx) {
            out.push(c.id);
        }
    }
    Ok(out)
}

/// Parses `rule` and computes what binding it to `tag` would change.
pub fn preview(
    store: &Store,
    tag: &str,
    rule: &str,
    ctx: &EvalContext,
) -> Result<RulePreview, RuleError> {
    let q = parse(rule)?;
    let members = members(store, &q, ctx)?;
    let (gained, lost) = store.membership_diff(tag, &members)?;
    Ok(RulePreview {
        tag: tag.to_owned(),
        rule: rule.to_owned(),
        members,
        gained,
        lost,
    })
}

/// Stores the previewed rule and applies its membership (one undoable unit).
pub fn set_rule(store: &Store, p: &RulePreview) -> Result<TagOutcome> {
    store.set_tag_rule(&p.tag, &p.rule, &p.members)
}

/// Re-evaluates every rule tag and brings its members up to date (one
/// unit). A stored rule that no longer parses is left as it is and named
/// in the returned list.
pub fn refresh(store: &Store, ctx: &EvalContext) -> Result<(TagOutcome, Vec<String>)> {
    let mut parsed = Vec::new();
    let mut broken = Vec::new();
    for info in store.tag_rules()? {
        let Some(rule) = &info.rule else { continue };
        match parse(rule) {
            Ok(q) => parsed.push((info.name.clone(), q)),
            Err(e) => {
                tracing::warn!("rule of tag {} does not parse: {e}", info.name);
                broken.push(info.name.clone());
            }
        }
    }
    // Rules with segment terms see the segment figures as of the same day.
    let lookup = if parsed.iter().any(|(_, q)| segments::needs_figures(q)) {
        let settings = segments::Settings::load().unwrap_or_else(|e| {
            tracing::warn!("segment settings: {e}; using the defaults");
            segments::Settings::default()
        });
        Some(segments::Lookup::load(store, ctx.as_of, settings)?)
    } else {
        None
    };
    let seg_ctx = lookup.as_ref().map(segments::Lookup::context);
    let ctx = seg_ctx.as_ref().unwrap_or(ctx);
    let mut updates = Vec::new();
    for (name, q) in parsed {
        updates.push((name, members(store, &q, ctx)?));
    }
    let out = store.refresh_rule_tags(&updates, days::from_date(ctx.as_of))?;
    Ok((out, broken))
}

/// Whether something was logged, or the as-of date moved, since the last
/// refresh, while rule tags exist.
pub fn is_stale(store: &Store, ctx: &EvalContext) -> Result<bool> {
    let now = (store.audit_counter()?, days::from_date(ctx.as_of));
    if store.rules_mark()? == Some(now) {
        return Ok(false);
    }
    Ok(!store.tag_rules()?.is_empty())
}

/// Refreshes the rule tags when [`is_stale`] says they may be out of date;
/// what front ends call after opening the database. Read-only stores are
/// left alone.
pub fn refresh_if_stale(store: &Store, ctx: &EvalContext) -> Result<Option<TagOutcome>> {
    if store.is_read_only() || !is_stale(store, ctx)? {
        return Ok(None);
    }
    refresh(store, ctx).map(|(out, _)| Some(out))
}
