//! Search: the query language (one parser, one evaluator) that serves the
//! search box, tag rules, saved segments, bulk actions and export, so that a
//! rule and a search never disagree.
//!
//! `query` turns text into a [`Query`]; `eval` decides whether a customer
//! matches it and ranks free-text hits. The text a customer is searched by is
//! [`crate::model::searchable::haystack`].

pub mod engine;
pub mod eval;
pub mod query;
pub mod rules;

pub use eval::{
    EvalContext, NoSegments, Rank, SegmentLookup, Tier, matches, text_matches, text_rank,
};
pub use query::{
    AgeUnit, CmpOp, CmpValue, FieldKey, FieldTerm, Figure, MatchKind, ParseError, Presence, Query,
    SegmentKind, TextAtom, TextTerm, Validity, parse,
};
