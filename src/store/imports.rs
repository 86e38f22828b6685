//! Import logs and the undo data that lets `rolo import revert` take an
//! import back completely, updates included.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Customer, CustomerId, Note, Order};

/// One import run, updated with every committed batch, so that a killed
/// import still shows what it committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLog {
    pub id: u64,
    /// `customers`, `orders` or `notes`.
    pub kind: String,
    pub file: String,
    #[serde(with = "crate::model::instant")]
    pub at: DateTime<Utc>,
    pub user: String,
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub rejected: u64,
    pub batches: u64,
    /// Whether the whole file was read (false for an import that was killed or interrupted).
    pub finished: bool,
    pub reverted: bool,
}

/// What one record looked like before an import batch touched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UndoEntry {
    /// `before` is `None` when the import created the customer.
    Customer {
        id: CustomerId,
        before: Option<Box<Customer>>,
    },
    Order {
        order_id: String,
        before: Option<Order>,
    },
    Note {
        key: Vec<u8>,
        note: Note,
    },
}

/// The undo entries of one committed batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoBatch {
    pub entries: Vec<UndoEntry>,
}
