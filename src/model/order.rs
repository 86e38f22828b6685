//! Orders and notes (interactions) attached to a customer.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::CustomerId;

/// One order. Amounts are integer minor units so that sums are exact.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    pub customer: CustomerId,
    #[serde(with = "super::days::req")]
    pub date: NaiveDate,
    pub amount_minor: i64,
    pub quantity: Option<u32>,
    pub currency: Option<String>,
    pub channel: Option<String>,
    pub attrs: Vec<(String, String)>,
}

/// What kind of interaction a note records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NoteKind {
    Call,
    Email,
    Visit,
    Feedback,
    Complaint,
    #[default]
    Other,
}

impl NoteKind {
    pub const ALL: [NoteKind; 6] = [
        NoteKind::Call,
        NoteKind::Email,
        NoteKind::Visit,
        NoteKind::Feedback,
        NoteKind::Complaint,
        NoteKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Call => "call",
            NoteKind::Email => "email",
            NoteKind::Visit => "visit",
            NoteKind::Feedback => "feedback",
            NoteKind::Complaint => "complaint",
            NoteKind::Other => "other",
        }
    }
}

impl fmt::Display for NoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NoteKind {
    type Err = ();

    /// Accepts the English names and common Chinese ones (电话, 邮件, 拜访, 反馈, 投诉).
    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim().to_lowercase();
        Ok(match s.as_str() {
            "call" | "phone" | "电话" | "来电" => NoteKind::Call,
            "email" | "e-mail" | "mail" | "邮件" => NoteKind::Email,
            "visit" | "meeting" | "拜访" | "上门" => NoteKind::Visit,
            "feedback" | "反馈" => NoteKind::Feedback,
            "complaint" | "投诉" => NoteKind::Complaint,
            "other" | "note" | "" | "其他" => NoteKind::Other,
            _ => return Err(()),
        })
    }
}

/// A note or interaction with a customer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Note {
    pub customer: CustomerId,
    #[serde(with = "super::instant")]
    pub at: DateTime<Utc>,
    pub kind: NoteKind,
    pub text: String,
    /// 1 to 5 when given.
    pub satisfaction: Option<u8>,
}
