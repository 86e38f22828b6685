//! Tags: the labels users put on customers, by hand or by a rule.
//!
//! A customer's tags live on its record (`Customer::tags`); a [`TagInfo`]
//! holds what belongs to the tag itself: its colour, its description, and,
//! for a rule tag, the query that decides its members. A tag whose info has a
//! rule is never edited by hand, so a manual tag and a rule tag cannot be
//! confused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest tag name, in characters.
pub const MAX_TAG_LEN: usize = 100;

/// What rolo knows about one tag besides its members.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TagInfo {
    /// The tag's name; `/` separates levels (`interest/sports`).
    pub name: String,
    /// A colour name or `#rrggbb`, as the user gave it.
    pub colour: Option<String>,
    pub description: Option<String>,
    /// The query (DESIGN.md §6) that decides the members of a rule tag;
    /// `None` for a manual tag.
    pub rule: Option<String>,
    #[serde(with = "super::instant")]
    pub created_at: DateTime<Utc>,
}

impl TagInfo {
    /// Whether the tag's members are decided by a rule.
    pub fn is_rule(&self) -> bool {
        self.rule.is_some()
    }
}

/// Why a text is not a valid tag name, or `None` when it is one. Names are
/// used as typed (after trimming by the caller); a NUL would break the index
/// key layout, `*` means "any tag" in queries, and control characters would
/// reach the terminal.
pub fn tag_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("a tag name cannot be empty")
    } else if name != name.trim() {
        Some("a tag name cannot start or end with a space")
    } else if name.chars().count() > MAX_TAG_LEN {
        Some("a tag name is at most 100 characters")
    } else if name.chars().any(char::is_control) {
        Some("a tag name cannot hold control characters")
    } else if name.contains('*') {
        Some("a tag name cannot hold '*' (in queries it means any tag)")
    } else if name.starts_with('-') {
        Some("a tag name cannot start with '-' (in queries it means NOT)")
    } else if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        Some("'/' separates the levels of a tag name, so each level needs a name")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::tag_name_problem;

    #[test]
    fn tag_names() {
        for ok in ["vip", "called 11/30", "interest/sports", "会员"] {
            assert_eq!(tag_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            " vip",
            "a\0b",
            "a*",
            "-x",
            "a//b",
            "/a",
            "a/",
            "x\u{1b}[31m",
        ] {
            assert!(tag_name_problem(bad).is_some(), "{bad:?}");
        }
        assert!(tag_name_problem(&"x".repeat(101)).is_some());
    }
}
