//! One file per pane.

pub mod customers;
pub mod detail;
pub mod form;
pub mod placeholder;
