//! One file per pane.

pub mod customers;
pub mod placeholder;
