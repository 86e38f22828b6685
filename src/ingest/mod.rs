//! Reading real-world customer files: encodings, CSV/JSON shapes, header
//! mapping, normalization, and the batched import with its rejects report.

mod apply;
pub mod headers;
pub mod import;
pub mod normalize;
mod prepare;
pub mod reader;
pub mod validity;

pub use import::{ImportError, ImportOptions, ImportReport, import_file};
