//! One file per pane.

pub mod audit;
pub mod customers;
pub mod detail;
pub mod duplicates;
pub mod form;
pub mod note_form;
pub mod palette;
pub mod placeholder;
pub mod prompt;
pub mod quality;
pub mod segments;
pub mod tag_picker;
pub mod tags;
pub mod trash;
