//! Rule tags: a query (DESIGN.md §6) bound to a tag, whose members are
//! exactly the live customers the query matches.
//!
//! Membership is decided by the one evaluator ([`super::matches`]) on the
//! same inputs a search uses: the record, its stored figures and its stored
//! haystack (the search chunk), so a rule and a search never disagree. The
//! store keeps the members on the records; this module computes them and
//! hands them over ([`Store::set_tag_rule`], [`Store::refresh_rule_tags`]).
//!
//! Membership follows every change of a customer, re-evaluating only the
//! customers that changed: while rule tags exist, each unit of work marks
//! the customers it touched (record, orders, tags, merge, trash) in the
//! same batch (`store::rule_marks`), and [`refresh_if_stale`] (which front
//! ends call when they open the database, and the workbench after each
//! change) evaluates the rules for the marked customers only. A full pass,
//! a scan of every customer about the cost of an export, runs after
//! `rule set`, on `rolo tag rule refresh`, when the as-of date moved
//! (time-based rules such as `last_order<90d`), after a change too big to
//! mark customer by customer, and, for rules with segment terms (whose
//! breakpoints depend on every customer), after anything was logged.

use crate::model::{CustomerId, days};
use crate::segments;
use crate::store::{Result, RuleDirt, SearchChunk, Store, TagOutcome};

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
    /// The date the rule was evaluated for.
    pub as_of: chrono::NaiveDate,
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
        as_of: ctx.as_of,
    })
}

/// Stores the previewed rule and applies its membership (one undoable
/// unit). When the other rule tags were current, they still are.
pub fn set_rule(store: &Store, p: &RulePreview) -> Result<TagOutcome> {
    let ctx = EvalContext::new(p.as_of);
    let fresh = !is_stale(store, &ctx)?;
    let out = store.set_tag_rule(&p.tag, &p.rule, &p.members)?;
    if fresh {
        store.mark_rules_fresh(days::from_date(p.as_of))?;
    }
    Ok(out)
}

/// Rule tags with their parsed queries.
type Rules = Vec<(String, Query)>;

/// The stored rules that parse, and the names of those that do not.
fn parsed_rules(store: &Store) -> Result<(Rules, Vec<String>)> {
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
    Ok((parsed, broken))
}

/// Re-evaluates every rule tag over every customer and brings its members
/// up to date (one unit). A stored rule that no longer parses is left as
/// it is and named in the returned list.
pub fn refresh(store: &Store, ctx: &EvalContext) -> Result<(TagOutcome, Vec<String>)> {
    let seen = store.rule_dirt()?;
    let (parsed, broken) = parsed_rules(store)?;
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
    let out = store.refresh_rule_tags(&updates, None, &seen, days::from_date(ctx.as_of))?;
    Ok((out, broken))
}

/// What a refresh has to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    /// Nothing changed since the last refresh.
    Fresh,
    /// Only these customers changed (with their markers).
    Some(RuleDirt),
    /// Every customer must be looked at again.
    All,
}

/// What changed since the last refresh, while rule tags exist (see the
/// module docs).
pub fn staleness(store: &Store, ctx: &EvalContext) -> Result<Staleness> {
    if !store.has_rule_tags()? {
        return Ok(Staleness::Fresh);
    }
    let dirt = store.rule_dirt()?;
    let today = days::from_date(ctx.as_of);
    let Some((seq, day)) = store.rules_mark()? else {
        return Ok(Staleness::All);
    };
    if day != today || dirt.all.is_some() {
        return Ok(Staleness::All);
    }
    let changed = seq != store.audit_counter()? || !dirt.ids.is_empty();
    if changed {
        // Segment terms depend on every customer's figures.
        let (parsed, _) = parsed_rules(store)?;
        if parsed.iter().any(|(_, q)| segments::needs_figures(q)) {
            return Ok(Staleness::All);
        }
    }
    if dirt.ids.is_empty() {
        return Ok(Staleness::Fresh);
    }
    Ok(Staleness::Some(dirt))
}

/// Whether [`refresh_if_stale`] would change anything.
pub fn is_stale(store: &Store, ctx: &EvalContext) -> Result<bool> {
    Ok(staleness(store, ctx)? != Staleness::Fresh)
}

/// Re-evaluates the rules for the customers `dirt` names only.
fn refresh_some(store: &Store, ctx: &EvalContext, dirt: &RuleDirt) -> Result<TagOutcome> {
    let (parsed, _) = parsed_rules(store)?;
    let mut ids: Vec<CustomerId> = dirt.ids.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut updates: Vec<(String, Vec<CustomerId>)> = parsed
        .iter()
        .map(|(name, _)| (name.clone(), Vec::new()))
        .collect();
    let needs_text = parsed.iter().any(|(_, q)| uses_text(q));
    let mut chunk: Option<(u64, SearchChunk)> = None;
    for &id in &ids {
        let Some(c) = store.customer(id)? else {
            continue;
        };
        if !c.is_live() {
            continue;
        }
        let s = store.stats(id)?;
        let hay = if needs_text {
            let n = crate::store::chunk_of(id);
            if chunk.as_ref().is_none_or(|(m, _)| *m != n) {
                chunk = Some((n, store.search_chunk(n)?));
            }
            chunk
                .as_ref()
                .and_then(|(_, ch)| ch.get(id))
                .unwrap_or("")
                .to_owned()
        } else {
            String::new()
        };
        for ((_, q), (_, members)) in parsed.iter().zip(updates.iter_mut()) {
            if matches(q, &c, Some(&s), &hay, ctx) {
                members.push(id);
            }
        }
    }
    store.refresh_rule_tags(&updates, Some(&ids), dirt, days::from_date(ctx.as_of))
}

/// Brings the rule tags up to date with what changed since the last
/// refresh ([`staleness`]): nothing, the changed customers, or everyone.
/// What front ends call after opening the database and the workbench after
/// each change. Read-only stores are left alone.
pub fn refresh_if_stale(store: &Store, ctx: &EvalContext) -> Result<Option<TagOutcome>> {
    if store.is_read_only() {
        return Ok(None);
    }
    match staleness(store, ctx)? {
        Staleness::Fresh => Ok(None),
        Staleness::Some(dirt) => refresh_some(store, ctx, &dirt).map(Some),
        Staleness::All => refresh(store, ctx).map(|(out, _)| Some(out)),
    }
}
