//! The evaluator: whether a customer matches a query, and how well its
//! free text matches (for ranking).
//!
//! One evaluator serves search, tag rules, saved segments, bulk actions and
//! export, so a rule and a search never disagree. Matching is a pure function
//! of the query, the customer, its derived figures, its cached haystack and an
//! explicit context (the as-of date and the segment labels): no clock, no
//! store. It runs for every candidate, so it allocates as little as it can;
//! the costlier fuzzy scorer (`SkimMatcherV2`) only runs in [`text_rank`], and
//! only for candidates that no cheaper tier explains.

use std::cmp::Ordering;

use chrono::NaiveDate;
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::query::{
    CmpOp, CmpValue, FieldKey, FieldTerm, Figure, MatchKind, Presence, Query, SegmentKind,
    TextAtom, TextTerm, Validity,
};
use crate::ingest::validity;
use crate::model::{Customer, Field, Stats};

/// How deep saved segments may refer to saved segments; deeper references
/// match nothing.
const MAX_SAVED_DEPTH: usize = 16;

/// What evaluation needs besides the customer.
#[derive(Clone, Copy)]
pub struct EvalContext<'a> {
    /// The date ages are measured from (`last_order<90d`).
    pub as_of: NaiveDate,
    /// Segment labels and saved segments.
    pub segments: &'a dyn SegmentLookup,
}

impl EvalContext<'static> {
    /// A context with no segment figures.
    pub fn new(as_of: NaiveDate) -> Self {
        EvalContext {
            as_of,
            segments: &NoSegments,
        }
    }
}

/// What `rfm:`, `lifecycle:`, `value:` and `segment:` consult. The defaults
/// answer `None` (no such figures yet), which makes those terms match nothing.
/// `Sync` so that one context can serve several search threads.
pub trait SegmentLookup: Sync {
    /// The customer's label of this kind ("Champions", "at_risk", "high"),
    /// compared with the query's name ignoring case, spaces, '-' and '_'
    /// differences and apostrophes.
    fn label(&self, _c: &Customer, _kind: SegmentKind) -> Option<String> {
        None
    }

    /// The query of the saved segment `name`.
    fn saved(&self, _name: &str) -> Option<&Query> {
        None
    }

    /// A predicted figure of the customer (`p_alive`, `clv`,
    /// `expected_purchases`); `None` when there is no model or no orders.
    fn predicted(&self, _c: &Customer, _f: Figure) -> Option<f64> {
        None
    }
}

/// A lookup with no segment figures and no saved segments.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSegments;

impl SegmentLookup for NoSegments {}

/// Whether a (live) customer matches. `haystack` is
/// [`crate::model::searchable::haystack`] of `c` (passed in because callers
/// cache it); `stats` is `None` for a customer without orders.
pub fn matches(
    q: &Query,
    c: &Customer,
    stats: Option<&Stats>,
    haystack: &str,
    ctx: &EvalContext,
) -> bool {
    eval(q, c, stats, haystack, ctx, &mut SavedRefs::default())
}

/// The saved segments one evaluation has expanded. A reference back to a
/// segment still being evaluated (a cycle) matches nothing, and a segment
/// is evaluated once per customer however many segments refer to it: a
/// user's segments referring to each other several times over would
/// otherwise multiply the work at every level (`a` = `segment:b OR
/// segment:b`, `b` = `segment:a OR segment:a OR segment:a` made one
/// search run for minutes).
#[derive(Default)]
struct SavedRefs<'q> {
    open: Vec<&'q Query>,
    done: Vec<(&'q Query, bool)>,
}

fn eval<'q>(
    q: &'q Query,
    c: &Customer,
    stats: Option<&Stats>,
    hay: &str,
    ctx: &EvalContext<'q>,
    refs: &mut SavedRefs<'q>,
) -> bool {
    match q {
        Query::All => true,
        Query::And(parts) => parts.iter().all(|p| eval(p, c, stats, hay, ctx, refs)),
        Query::Or(parts) => parts.iter().any(|p| eval(p, c, stats, hay, ctx, refs)),
        Query::Not(inner) => !eval(inner, c, stats, hay, ctx, refs),
        Query::Text(t) => text_matches(t, hay),
        Query::Field(t) => field_matches(t, c),
        Query::Compare { figure, op, value } => compare(*figure, *op, value, c, stats, ctx),
        Query::Has(p) => is_present(p, c, stats),
        Query::Missing(p) => !is_present(p, c, stats),
        Query::Segment { kind, name } => ctx
            .segments
            .label(c, *kind)
            .is_some_and(|label| label_eq(&label, name)),
        Query::Saved(name) => {
            let Some(saved) = ctx.segments.saved(name) else {
                return false;
            };
            if let Some(&(_, hit)) = refs.done.iter().find(|(s, _)| std::ptr::eq(*s, saved)) {
                return hit;
            }
            if refs.open.len() >= MAX_SAVED_DEPTH
                || refs.open.iter().any(|s| std::ptr::eq(*s, saved))
            {
                return false;
            }
            refs.open.push(saved);
            let hit = eval(saved, c, stats, hay, ctx, refs);
            refs.open.pop();
            refs.done.push((saved, hit));
            hit
        }
        Query::Invalid(v) => match v {
            Validity::Field(f) => validity::is_invalid(c, *f, ctx.as_of),
            Validity::OrderDate => validity::has_order_before_signup(c, stats),
            Validity::Any => validity::has_any_problem(c, stats, ctx.as_of),
        },
        Query::Stale { amount, unit } => {
            let age = (ctx.as_of - c.updated_at.date_naive()).num_days();
            age > i64::from(*amount) * unit.days()
        }
    }
}

// ---- free text ----

/// Whether any alternative of the term matches the haystack.
pub fn text_matches(t: &TextTerm, hay: &str) -> bool {
    t.alternatives.iter().any(|a| atom_matches(a, hay))
}

fn atom_matches(a: &TextAtom, hay: &str) -> bool {
    let n = a.folded();
    let hit = if n.contains('\n') {
        false
    } else {
        match a.kind {
            MatchKind::Fuzzy => fuzzy_in_a_segment(n, hay),
            MatchKind::Substring => hay.contains(n),
            MatchKind::Prefix => hay.split('\n').any(|s| s.starts_with(n)),
            MatchKind::Suffix => hay.split('\n').any(|s| s.ends_with(n)),
            MatchKind::Exact => hay.split('\n').any(|s| s == n),
        }
    };
    hit != a.negated
}

/// Whether `needle`'s characters occur in order within one line of `hay`.
fn fuzzy_in_a_segment(needle: &str, hay: &str) -> bool {
    fuzzy_end(needle, hay.as_bytes(), 0, 0).is_some()
}

/// Where the leftmost greedy match of `needle` within one line of `hay`
/// ends (the byte after its last character), scanning from `pos` with the
/// first `done` bytes of the needle (whole characters) already matched in
/// the line `pos` is in. A caller that kept the end of a shorter needle's
/// match continues from there: leftmost greedy leaves the most room for more
/// characters, so the longer needle matches that line exactly when its new
/// characters follow; otherwise the scan restarts, whole, at the next line.
///
/// memchr2 jumps between the wanted character's first byte and line breaks
/// instead of stepping through every character. UTF-8 is self-synchronising
/// (a lead byte never occurs inside another character), so a lead byte
/// followed by the rest of the character's bytes is that character.
pub(crate) fn fuzzy_end(
    needle: &str,
    hay: &[u8],
    mut pos: usize,
    mut done: usize,
) -> Option<usize> {
    let n = needle.as_bytes();
    if done >= n.len() {
        return Some(pos);
    }
    if let (0, &[b]) = (done, n) {
        // One byte: its first occurrence completes a match in its line.
        return memchr::memchr(b, hay.get(pos..)?).map(|at| pos + at + 1);
    }
    loop {
        let width = utf8_width(n[done]).min(n.len() - done);
        let ch = &n[done..done + width];
        let at = pos + memchr::memchr2(ch[0], b'\n', hay.get(pos..)?)?;
        if hay[at] == b'\n' {
            pos = at + 1;
            done = 0;
        } else if hay.get(at..at + width) == Some(ch) {
            pos = at + width;
            done += width;
            if done == n.len() {
                return Some(pos);
            }
        } else {
            pos = at + 1;
        }
    }
}

/// The length of the UTF-8 character that starts with byte `b`.
fn utf8_width(b: u8) -> usize {
    match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

// ---- field terms ----

fn field_matches(t: &FieldTerm, c: &Customer) -> bool {
    let n = t.folded();
    match &t.key {
        FieldKey::Tag => tag_matches(&c.tags, n),
        FieldKey::Canonical(Field::Email) => c.emails.iter().any(|e| contains_folded(e, n)),
        FieldKey::Canonical(Field::Phone) => c.phones.iter().any(|p| digits_contain(p, n)),
        FieldKey::Canonical(Field::Gender) => c.gender.as_deref().is_some_and(|g| eq_folded(g, n)),
        FieldKey::Canonical(f @ (Field::BirthDate | Field::CreatedAt)) => {
            c.value(*f).is_some_and(|v| contains_folded(&v, n))
        }
        FieldKey::Canonical(f) => text_of(c, *f).is_some_and(|v| contains_folded(v, n)),
        FieldKey::Attr(key) => c
            .attrs
            .iter()
            .any(|(k, v)| key_eq(k, key) && contains_folded(v, n)),
    }
}

/// `tag:x` is an exact (case-insensitive) tag; `tag:x/*` or `tag:x*` is the
/// tag `x` or any tag below it (`x/...`); `tag:*` is any tag.
fn tag_matches(tags: &[String], folded: &str) -> bool {
    match folded.strip_suffix('*') {
        Some(base) => {
            let base = base.trim_end_matches('*').trim_end_matches('/');
            if base.is_empty() {
                return !tags.is_empty();
            }
            tags.iter().any(|t| {
                eq_folded(t, base)
                    || t.char_indices()
                        .any(|(i, ch)| ch == '/' && eq_folded(&t[..i], base))
            })
        }
        None => tags.iter().any(|t| eq_folded(t, folded)),
    }
}

/// The value of a single-text canonical field.
fn text_of(c: &Customer, f: Field) -> Option<&str> {
    match f {
        Field::ExtId => c.ext_id.as_deref(),
        Field::Name => Some(c.name.as_str()),
        Field::GivenName => c.given_name.as_deref(),
        Field::FamilyName => c.family_name.as_deref(),
        Field::Email => c.email(),
        Field::Phone => c.phone(),
        Field::Company => c.company.as_deref(),
        Field::Title => c.title.as_deref(),
        Field::Street => c.street.as_deref(),
        Field::City => c.city.as_deref(),
        Field::Region => c.region.as_deref(),
        Field::Postcode => c.postcode.as_deref(),
        Field::Country => c.country.as_deref(),
        Field::Gender => c.gender.as_deref(),
        Field::Source => c.source.as_deref(),
        Field::BirthDate | Field::CreatedAt => None,
    }
}

/// Whether `hay` contains the already lower-cased `needle`, ignoring case.
fn contains_folded(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle.is_ascii() {
        let n = needle.as_bytes();
        hay.as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n))
    } else {
        hay.to_lowercase().contains(needle)
    }
}

/// Whether `s` lower-cased equals the already lower-cased `folded`.
fn eq_folded(s: &str, folded: &str) -> bool {
    if s.is_ascii() {
        s.eq_ignore_ascii_case(folded)
    } else {
        s.chars().flat_map(char::to_lowercase).eq(folded.chars())
    }
}

/// Whether the digits of `phone` contain `digits`.
fn digits_contain(phone: &str, digits: &str) -> bool {
    let own: String = phone.chars().filter(char::is_ascii_digit).collect();
    own.contains(digits)
}

/// Attribute keys compare ignoring case, with ' ', '-' and '_' alike.
fn key_eq(a: &str, b: &str) -> bool {
    fn norm(c: char) -> impl Iterator<Item = char> {
        let c = if c.is_whitespace() || c == '-' {
            '_'
        } else {
            c
        };
        c.to_lowercase()
    }
    a.trim()
        .chars()
        .flat_map(norm)
        .eq(b.trim().chars().flat_map(norm))
}

/// Segment labels compare like [`super::query::canonical_label`].
fn label_eq(label: &str, name: &str) -> bool {
    fn norm(s: &str) -> impl Iterator<Item = char> + '_ {
        s.trim()
            .chars()
            .filter(|c| *c != '\'' && *c != '\u{2019}')
            .map(|c| {
                if c.is_whitespace() || c == '-' {
                    '_'
                } else {
                    c
                }
            })
            .flat_map(char::to_lowercase)
    }
    norm(label).eq(norm(name))
}

/// Whether `has:` holds (the quality report counts completeness with it).
pub fn is_present(p: &Presence, c: &Customer, stats: Option<&Stats>) -> bool {
    match p {
        Presence::Field(Field::Email) => !c.emails.is_empty(),
        Presence::Field(Field::Phone) => !c.phones.is_empty(),
        Presence::Field(Field::BirthDate) => c.birth_date.is_some(),
        Presence::Field(Field::CreatedAt) => c.created_at.is_some(),
        Presence::Field(f) => text_of(c, *f).is_some_and(|v| !v.trim().is_empty()),
        Presence::Tags => !c.tags.is_empty(),
        Presence::Orders => stats.is_some_and(|s| s.orders > 0),
        Presence::Attr(key) => c
            .attrs
            .iter()
            .any(|(k, v)| key_eq(k, key) && !v.trim().is_empty()),
    }
}

// ---- comparisons ----

fn compare(
    figure: Figure,
    op: CmpOp,
    value: &CmpValue,
    c: &Customer,
    stats: Option<&Stats>,
    ctx: &EvalContext,
) -> bool {
    let as_of = ctx.as_of;
    let number = |x: f64| match value {
        CmpValue::Amount(v) => x.partial_cmp(v).is_some_and(|o| op.holds(o)),
        CmpValue::Count(v) => x.partial_cmp(&f64::from(*v)).is_some_and(|o| op.holds(o)),
        CmpValue::Date(_) | CmpValue::Age { .. } => false,
    };
    let when = |d: Option<NaiveDate>| d.is_some_and(|d| compare_date(d, op, value, as_of));
    match figure {
        Figure::Spend => number(stats.map_or(0.0, Stats::spend)),
        Figure::Orders => number(f64::from(stats.map_or(0, |s| s.orders))),
        Figure::OrderDays => number(f64::from(stats.map_or(0, |s| s.order_days))),
        Figure::LastOrder => when(stats.and_then(|s| s.last_order)),
        Figure::FirstOrder => when(stats.and_then(|s| s.first_order)),
        Figure::Created => when(c.created_at.map(|t| t.date_naive())),
        Figure::Birth => when(c.birth_date),
        Figure::PAlive | Figure::Clv | Figure::ExpectedPurchases => {
            ctx.segments.predicted(c, figure).is_some_and(number)
        }
    }
}

/// A date against a date, or its age in days (as-of minus date) against an age.
fn compare_date(d: NaiveDate, op: CmpOp, value: &CmpValue, as_of: NaiveDate) -> bool {
    match value {
        CmpValue::Date(v) => op.holds(d.cmp(v)),
        CmpValue::Age { amount, unit } => {
            let age = (as_of - d).num_days();
            op.holds(age.cmp(&(i64::from(*amount) * unit.days())))
        }
        CmpValue::Amount(_) | CmpValue::Count(_) => false,
    }
}

// ---- ranking ----

/// How a free-text term matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// A whole segment equals the term.
    Exact,
    /// A segment, or a word in it, starts with the term.
    Prefix,
    /// A segment contains the term.
    Substring,
    /// The term's characters occur in order in a segment.
    Fuzzy,
}

/// How well a customer's free text matches a query. `Ord` sorts best first:
/// by tier, then by higher score (so `ranks.sort()` puts the best hit first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rank {
    /// The worst tier over the query's terms.
    pub tier: Tier,
    /// The summed score over the terms: for exact, prefix and substring hits
    /// how much of the segment the term covers (0..=1000), for fuzzy hits the
    /// skim score.
    pub score: i64,
}

impl Ord for Rank {
    fn cmp(&self, other: &Self) -> Ordering {
        self.tier
            .cmp(&other.tier)
            .then_with(|| other.score.cmp(&self.score))
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// How well the free-text terms of `q` match a haystack, for ranking: `None`
/// if some positive text term does not match. A query without free text
/// ranks every haystack `Exact` with score 0. Terms are those of
/// [`Query::text_terms`]; each takes its best alternative and its best
/// segment; the query takes the worst tier and the summed score.
pub fn text_rank(q: &Query, haystack: &str, matcher: &SkimMatcherV2) -> Option<Rank> {
    let mut total = Rank {
        tier: Tier::Exact,
        score: 0,
    };
    for term in q.text_terms() {
        let best = term
            .alternatives
            .iter()
            .filter_map(|a| atom_rank(a, haystack, matcher))
            .min()?;
        total.tier = total.tier.max(best.tier);
        total.score += best.score;
    }
    Some(total)
}

fn atom_rank(a: &TextAtom, hay: &str, matcher: &SkimMatcherV2) -> Option<Rank> {
    if a.negated {
        return None;
    }
    let n = a.folded();
    if n.is_empty() || n.contains('\n') {
        return None;
    }
    let n_chars = n.chars().count();
    let mut best: Option<Rank> = None;
    for seg in hay.split('\n') {
        let tier = match a.kind {
            MatchKind::Fuzzy | MatchKind::Substring => {
                if seg == n {
                    Some(Tier::Exact)
                } else if seg.starts_with(n) || word_starts_with(seg, n) {
                    Some(Tier::Prefix)
                } else if seg.contains(n) {
                    Some(Tier::Substring)
                } else {
                    None
                }
            }
            MatchKind::Prefix if seg == n => Some(Tier::Exact),
            MatchKind::Prefix => seg.starts_with(n).then_some(Tier::Prefix),
            MatchKind::Suffix if seg == n => Some(Tier::Exact),
            MatchKind::Suffix => seg.ends_with(n).then_some(Tier::Substring),
            MatchKind::Exact => (seg == n).then_some(Tier::Exact),
        };
        if let Some(tier) = tier {
            let seg_chars = seg.chars().count().max(1);
            let score = i64::try_from(n_chars * 1000 / seg_chars).unwrap_or(1000);
            let rank = Rank { tier, score };
            if best.is_none_or(|b| rank < b) {
                best = Some(rank);
            }
        }
    }
    if best.is_none() && a.kind == MatchKind::Fuzzy {
        best = hay
            .split('\n')
            .filter_map(|seg| matcher.fuzzy_match(seg, n))
            .max()
            .map(|score| Rank {
                tier: Tier::Fuzzy,
                score,
            });
    }
    best
}

/// Whether a word of `seg` (after a character that is not a letter or digit)
/// starts with `n`.
fn word_starts_with(seg: &str, n: &str) -> bool {
    let mut prev_alnum = true;
    for (i, ch) in seg.char_indices() {
        if !prev_alnum && seg[i..].starts_with(n) {
            return true;
        }
        prev_alnum = ch.is_alphanumeric();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::searchable::haystack;
    use crate::search::query::parse;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn as_of() -> NaiveDate {
        day(2024, 6, 30)
    }

    fn zhang() -> Customer {
        Customer {
            name: "张伟".into(),
            given_name: Some("伟".into()),
            family_name: Some("张".into()),
            emails: vec!["zhang.wei@example.com".into()],
            phones: vec!["+8613800138000".into()],
            company: Some("Acme Trading 有限公司".into()),
            title: Some("CTO".into()),
            street: Some("1 Main St".into()),
            city: Some("上海市".into()),
            region: Some("New South Wales".into()),
            postcode: Some("200000".into()),
            country: Some("CN".into()),
            birth_date: Some(day(1985, 3, 4)),
            gender: Some("Female".into()),
            source: Some("Web Shop".into()),
            created_at: Some(Utc.with_ymd_and_hms(2024, 6, 10, 8, 0, 0).unwrap()),
            ext_id: Some("C-0042".into()),
            attrs: vec![("Member Level".into(), "Gold".into())],
            tags: vec!["interest/golf".into(), "vip".into()],
            ..Customer::default()
        }
    }

    fn stats() -> Stats {
        Stats {
            orders: 3,
            order_days: 2,
            spend_minor: 123_456,
            first_order: Some(day(2023, 1, 15)),
            last_order: Some(day(2024, 5, 1)),
        }
    }

    struct Labels;

    impl SegmentLookup for Labels {
        fn label(&self, c: &Customer, kind: SegmentKind) -> Option<String> {
            if c.name.is_empty() {
                return None;
            }
            Some(
                match kind {
                    SegmentKind::Rfm => "Can't Lose Them",
                    SegmentKind::Lifecycle => "at_risk",
                    SegmentKind::Value => "high",
                }
                .into(),
            )
        }

        fn saved(&self, name: &str) -> Option<&Query> {
            use std::sync::OnceLock;
            static BIG: OnceLock<Query> = OnceLock::new();
            static LOOP: OnceLock<Query> = OnceLock::new();
            match name {
                "big" => Some(BIG.get_or_init(|| parse("spend>1000").unwrap())),
                "loop" => Some(LOOP.get_or_init(|| parse("segment:loop OR tag:vip").unwrap())),
                _ => None,
            }
        }
    }

    fn check(q: &str, c: &Customer, stats: Option<&Stats>, lookup: &dyn SegmentLookup) -> bool {
        let q = parse(q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        let ctx = EvalContext {
            as_of: as_of(),
            segments: lookup,
        };
        matches(&q, c, stats, &haystack(c), &ctx)
    }

    #[test]
    fn evaluates_every_form() {
        let c = zhang();
        let s = stats();
        let cases: Vec<(&str, bool)> = vec![
            ("", true),
            ("zhang wei", true),
            ("zhangwei", true),
            ("zw", true),
            ("ZW", true),
            ("张伟", true),
            ("zhang xiao", false),
            ("zwq", false),
            ("zhwe", true),
            ("acme", true),
            ("13800138000", true),
            ("8613800", true),
            ("c-0042", true),
            ("shanghai", false),
            ("'trading", true),
            ("'trdng", false),
            ("trdng", true),
            ("^zhang", true),
            ("^wei", false),
            ("example.com$", true),
            ("^zw$", true),
            ("^zhan$", false),
            ("!foo", true),
            ("!acme", false),
            ("!^acme", false),
            ("!^cme", true),
            ("!com$", false),
            ("foo|zhang", true),
            ("foo|bar", false),
            ("foo|!bar", true),
            ("foo|^acme", true),
            ("\"acme trading\"", true),
            ("'\"acme  trading\"", false),
            ("tag:vip", true),
            ("tag:VIP", true),
            ("tag:vi", false),
            ("tag:interest", false),
            ("tag:interest/*", true),
            ("tag:interest*", true),
            ("tag:inter*", false),
            ("tag:*", true),
            ("-tag:churned", true),
            ("city:上海", true),
            ("city:北京", false),
            ("region:\"south wales\"", true),
            ("company:TRADING", true),
            ("email:example", true),
            ("email:gmail", false),
            ("phone:138-0013", true),
            ("phone:+86 138", true),
            ("phone:139", false),
            ("source:web", true),
            ("country:cn", true),
            ("postcode:200", true),
            ("gender:female", true),
            ("gender:male", false),
            ("title:cto", true),
            ("street:main", true),
            ("name:张", true),
            ("ext_id:c-00", true),
            ("given_name:伟", true),
            ("family_name:张", true),
            ("birth_date:1985", true),
            ("member_level:gold", true),
            ("member-level:GOLD", true),
            ("level:gold", false),
            ("spend>1000", true),
            ("spend>1234.56", false),
            ("spend>=1234.56", true),
            ("spend=1234.56", true),
            ("spend<=50.5", false),
            ("orders>=3", true),
            ("orders=0", false),
            ("orders!=3", false),
            ("order_days=2", true),
            ("last_order<90d", true),
            ("last_order<60d", false),
            ("last_order<=60d", true),
            ("last_order<9w", true),
            ("last_order<1m", false),
            ("last_order>=2024-01-01", true),
            ("last_order>2024-05-01", false),
            ("first_order>365d", true),
            ("first_order>2y", false),
            ("created>=2024-01-01", true),
            ("created<30d", true),
            ("created<2w", false),
            ("created=2024-06-10", true),
            ("birth<1990-01-01", true),
            ("birth>30y", true),
            ("has:email", true),
            ("has:phone", true),
            ("missing:phone", false),
            ("has:tags", true),
            ("has:orders", true),
            ("has:birth_date", true),
            ("has:member_level", true),
            ("has:\"member level\"", true),
            ("has:nickname", false),
            ("missing:nickname", true),
            ("missing:company", false),
            ("rfm:champions", false),
            ("rfm:cant_lose_them", false),
            ("segment:big", false),
            ("(tag:a OR tag:vip) AND NOT city:Beijing", true),
            ("tag:a OR tag:b", false),
            ("NOT zhang", false),
            ("-(zhang spend>1000000)", true),
            // Her first order (2023-01-15) predates her signup (2024-06-10).
            ("invalid:any", true),
            ("invalid:email", false),
            ("invalid:order_date", true),
            ("-invalid:any", false),
        ];
        for (q, want) in cases {
            assert_eq!(check(q, &c, Some(&s), &NoSegments), want, "query {q:?}");
        }
    }

    #[test]
    fn customers_without_orders() {
        let c = zhang();
        for (q, want) in [
            ("spend=0", true),
            ("spend>0", false),
            ("orders=0", true),
            ("orders>0", false),
            ("order_days<1", true),
            ("last_order<90d", false),
            ("last_order>90d", false),
            ("last_order!=2024-01-01", false),
            ("first_order<2030-01-01", false),
            ("has:orders", false),
            ("missing:orders", true),
        ] {
            assert_eq!(check(q, &c, None, &NoSegments), want, "query {q:?}");
        }
    }

    #[test]
    fn segments_consult_the_context() {
        let c = zhang();
        let s = stats();
        for (q, want) in [
            ("rfm:cant_lose_them", true),
            ("rfm:champions", false),
            ("lifecycle:at_risk", true),
            ("value:high", true),
            ("value:low", false),
            ("segment:big", true),
            ("segment:nope", false),
            ("segment:loop", true),
            ("-segment:nope", true),
        ] {
            assert_eq!(check(q, &c, Some(&s), &Labels), want, "query {q:?}");
        }
        let nameless = Customer::default();
        assert!(!check("value:high", &nameless, None, &Labels));
        // A cycle of saved segments ends instead of overflowing the stack.
        let untagged = Customer {
            name: "x".into(),
            ..Customer::default()
        };
        assert!(!check("segment:loop", &untagged, None, &Labels));
    }

    /// Saved segments that refer to each other several times over.
    struct Tangle {
        expansions: std::sync::atomic::AtomicUsize,
        a: Query,
        b: Query,
        c: Query,
    }

    impl SegmentLookup for Tangle {
        fn saved(&self, name: &str) -> Option<&Query> {
            let n = self
                .expansions
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Enough to fail the test, not enough to make it hang.
            if n > 1000 {
                return None;
            }
            match name {
                "a" => Some(&self.a),
                "b" => Some(&self.b),
                "c" => Some(&self.c),
                _ => None,
            }
        }
    }

    #[test]
    fn segments_referring_to_each_other_are_evaluated_once_per_customer() {
        let tangle = Tangle {
            expansions: Default::default(),
            a: parse("segment:b OR segment:b OR segment:c OR segment:b").unwrap(),
            b: parse("segment:a OR segment:c OR segment:a OR tag:nope").unwrap(),
            c: parse("-tag:vip segment:b").unwrap(),
        };
        let c = zhang();
        // Found while writing the query fuzz target: each level multiplied
        // the work (4 x 3 references, 16 levels deep), so this ran for
        // minutes before saved segments were evaluated once.
        assert!(!check("segment:a OR segment:b", &c, None, &tangle));
        let n = tangle.expansions.load(std::sync::atomic::Ordering::Relaxed);
        assert!(n <= 16, "{n} expansions of saved segments for one customer");
    }

    #[test]
    fn invalid_and_stale_terms() {
        let s = stats();
        let mut c = zhang();
        // 365 days before as-of (2024 is a leap year).
        c.updated_at = Utc.with_ymd_and_hms(2023, 7, 1, 12, 0, 0).unwrap();
        for (q, want) in [
            ("stale:365d", false),
            ("stale:364d", true),
            ("stale:1y", false),
            ("stale:52w", true),
            ("-stale:365d", true),
        ] {
            assert_eq!(check(q, &c, Some(&s), &NoSegments), want, "query {q:?}");
        }
        // Recorded by the importer; the field itself is empty.
        c.phones.clear();
        c.invalid = vec![("phone".into(), "12345".into())];
        // Stored, but failing today's rule.
        c.birth_date = Some(day(2025, 1, 1));
        for (q, want) in [
            ("invalid:phone", true),
            ("invalid:phones", true),
            ("invalid:birth_date", true),
            ("invalid:email", false),
            ("invalid:created_at", false),
            ("invalid:order_date", true),
            ("invalid:any", true),
            ("missing:phone invalid:phone", true),
        ] {
            assert_eq!(check(q, &c, Some(&s), &NoSegments), want, "query {q:?}");
        }
        // First order (2023-01-15) before signup (2024-06-10).
        let clean = zhang();
        assert!(check("invalid:order_date", &clean, Some(&s), &NoSegments));
        assert!(check("invalid:any", &clean, Some(&s), &NoSegments));
        assert!(!check("invalid:order_date", &clean, None, &NoSegments));
        assert!(!check("invalid:any", &clean, None, &NoSegments));
    }

    #[test]
    fn heteronym_surname_readings_match() {
        let c = Customer {
            name: "曾小明".into(),
            ..Customer::default()
        };
        assert!(check("zengxiaoming", &c, None, &NoSegments));
        assert!(check("cengxiaoming", &c, None, &NoSegments));
        assert!(check("zxm", &c, None, &NoSegments));
    }

    #[test]
    fn fuzzy_never_spans_two_segments() {
        let c = Customer {
            name: "ab".into(),
            company: Some("cd".into()),
            ..Customer::default()
        };
        assert!(!check("bc", &c, None, &NoSegments));
        assert!(check("ab", &c, None, &NoSegments));
    }

    fn rank(q: &str, c: &Customer) -> Option<Rank> {
        let m = SkimMatcherV2::default();
        text_rank(&parse(q).unwrap(), &haystack(c), &m)
    }

    #[test]
    fn ranks_by_tier_then_score() {
        let c = zhang();
        assert_eq!(rank("zw", &c).map(|r| r.tier), Some(Tier::Exact));
        assert_eq!(rank("zhang", &c).map(|r| r.tier), Some(Tier::Prefix));
        assert_eq!(rank("wei", &c).map(|r| r.tier), Some(Tier::Prefix));
        assert_eq!(rank("hangw", &c).map(|r| r.tier), Some(Tier::Substring));
        assert_eq!(rank("zhwe", &c).map(|r| r.tier), Some(Tier::Fuzzy));
        assert_eq!(rank("zhang zw", &c).map(|r| r.tier), Some(Tier::Prefix));
        assert_eq!(rank("zhang qqq", &c), None);
        assert_eq!(rank("qqq|zw", &c).map(|r| r.tier), Some(Tier::Exact));
        assert_eq!(
            rank("tag:vip", &c),
            Some(Rank {
                tier: Tier::Exact,
                score: 0
            })
        );
        assert_eq!(rank("^zhang", &c).map(|r| r.tier), Some(Tier::Prefix));
        assert_eq!(rank("com$", &c).map(|r| r.tier), Some(Tier::Substring));

        let exact = rank("zw", &c).unwrap();
        let prefix = rank("zhan", &c).unwrap();
        let fuzzy = rank("zhwe", &c).unwrap();
        let mut ranks = vec![fuzzy, prefix, exact];
        ranks.sort();
        assert_eq!(ranks, [exact, prefix, fuzzy]);
        // Within a tier, the higher score comes first.
        let longer = rank("zhangwe", &c).unwrap();
        assert_eq!(longer.tier, prefix.tier);
        assert!(longer < prefix);
    }

    fn customer() -> impl Strategy<Value = (Customer, Option<Stats>)> {
        let name =
            prop::sample::select(vec!["张伟", "曾小明", "John Smith", "李娜", "", "Ann Lee"]);
        let city = prop::option::of(prop::sample::select(vec!["上海市", "Beijing", "New York"]));
        let tags = prop::sample::subsequence(vec!["a", "b", "interest/golf", "vip"], 0..4);
        let emails = prop::sample::subsequence(vec!["a@gmail.com", "zhang@x.cn"], 0..2);
        let phones = prop::sample::subsequence(vec!["+8613800138000", "+14155550123"], 0..2);
        let stats = prop::option::of((0u32..5, 0i64..500_000, 0i64..800).prop_map(
            |(orders, spend_minor, ago)| Stats {
                orders,
                order_days: orders,
                spend_minor,
                first_order: Some(as_of() - chrono::Duration::days(ago + 30)),
                last_order: Some(as_of() - chrono::Duration::days(ago)),
            },
        ));
        let born = prop::option::of(0i64..30_000);
        (name, city, tags, emails, phones, stats, born).prop_map(
            |(name, city, tags, emails, phones, stats, born)| {
                let c = Customer {
                    name: name.into(),
                    city: city.map(Into::into),
                    tags: tags.into_iter().map(Into::into).collect(),
                    emails: emails.into_iter().map(Into::into).collect(),
                    phones: phones.into_iter().map(Into::into).collect(),
                    birth_date: born.map(|d| day(1940, 1, 1) + chrono::Duration::days(d)),
                    attrs: vec![("level".into(), "gold".into())],
                    ..Customer::default()
                };
                (c, stats)
            },
        )
    }

    proptest! {
        #[test]
        fn not_is_the_complement(
            s in crate::search::query::tests::query_text(),
            (c, stats) in customer(),
        ) {
            if let Ok(q) = parse(&s) {
                let hay = haystack(&c);
                for lookup in [&NoSegments as &dyn SegmentLookup, &Labels] {
                    let ctx = EvalContext { as_of: as_of(), segments: lookup };
                    let yes = matches(&q, &c, stats.as_ref(), &hay, &ctx);
                    let negated = Query::Not(Box::new(q.clone()));
                    prop_assert_eq!(matches(&negated, &c, stats.as_ref(), &hay, &ctx), !yes);
                    // Whatever matches can be ranked.
                    if yes {
                        let m = SkimMatcherV2::default();
                        prop_assert!(text_rank(&q, &hay, &m).is_some(), "{:?} on {:?}", s, hay);
                    }
                }
            }
        }
    }
}
