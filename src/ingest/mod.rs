//! Reading real-world customer files: encodings, CSV/JSON shapes, header
//! mapping, normalization, and the batched import with its rejects report.

pub mod headers;
pub mod import;
pub mod normalize;
pub mod reader;

pub use import::{ImportError, ImportOptions, ImportReport, import_file};
