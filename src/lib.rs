//! rolo: a keyboard-driven customer-data workbench.
//!
//! The library is the whole product except the terminal: `model` holds the
//! pure domain types; `store`, `ingest`, `search`, `synth` build on it;
//! `segments` and `quality` compute figures over the store; the
//! `cli` and `tui` front ends are thin layers over the same calls. `clv`
//! (customer-lifetime-value models) is pure arithmetic on plain summaries.
//! See `docs/architecture.md` for the dependency rule.

pub mod cli;
pub mod clv;
pub mod dedup;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod ingest;
pub mod model;
pub mod quality;
pub mod search;
pub mod segments;
pub mod store;
pub mod synth;
pub mod tui;
