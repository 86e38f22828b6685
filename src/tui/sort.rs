//! Sorting the Customers pane by name, spend, orders, last order or
//! creation date.
//!
//! A sorted list needs a key for every customer in it, and a lookup per
//! customer is a million reads at 1M. So the keys are loaded in one pass
//! (one scan of the stored figures merged with the index's id list, or one
//! scan of the records for name and creation date) on the background worker,
//! and the list keeps its previous order until they arrive.

use chrono::NaiveDate;
use pinyin::ToPinyin;
use std::cmp::Ordering;

use crate::model::{Customer, CustomerId, Stats, days};
use crate::search::engine::Index;
use crate::store::{Result, Store};

/// What the Customers pane can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortField {
    Name,
    Spend,
    Orders,
    LastOrder,
    Created,
}

impl SortField {
    /// In the order `s` cycles through them.
    pub const ALL: [SortField; 5] = [
        SortField::Name,
        SortField::Spend,
        SortField::Orders,
        SortField::LastOrder,
        SortField::Created,
    ];

    /// The name `:sort` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Name => "name",
            SortField::Spend => "spend",
            SortField::Orders => "orders",
            SortField::LastOrder => "last_order",
            SortField::Created => "created",
        }
    }

    /// How the status bar says it.
    pub fn label(self) -> &'static str {
        match self {
            SortField::LastOrder => "last order",
            f => f.as_str(),
        }
    }

    /// Reads a field name (`last`, `last-order` and `created_at` too).
    pub fn parse(s: &str) -> Option<SortField> {
        Some(match s.trim().to_lowercase().replace('-', "_").as_str() {
            "name" => SortField::Name,
            "spend" => SortField::Spend,
            "orders" => SortField::Orders,
            "last_order" | "last" => SortField::LastOrder,
            "created" | "created_at" => SortField::Created,
            _ => return None,
        })
    }

    /// Whether the field is a figure from the stored stats (else from the record).
    pub fn is_figure(self) -> bool {
        matches!(
            self,
            SortField::Spend | SortField::Orders | SortField::LastOrder
        )
    }
}

/// A sort: a field and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Sort {
    /// `field` in its natural direction: names A to Z, figures and dates
    /// biggest or newest first.
    pub fn new(field: SortField) -> Sort {
        Sort {
            field,
            descending: field != SortField::Name,
        }
    }

    /// The next sort of the `s` cycle: none, name, spend, orders, last
    /// order, created, none.
    pub fn cycle(current: Option<Sort>) -> Option<Sort> {
        match current {
            None => Some(Sort::new(SortField::ALL[0])),
            Some(s) => {
                let i = SortField::ALL
                    .iter()
                    .position(|f| *f == s.field)
                    .unwrap_or(0);
                SortField::ALL.get(i + 1).copied().map(Sort::new)
            }
        }
    }

    /// The same field the other way round.
    pub fn reversed(self) -> Sort {
        Sort {
            descending: !self.descending,
            ..self
        }
    }

    /// `↓` or `↑`.
    pub fn arrow(self) -> &'static str {
        if self.descending { "↓" } else { "↑" }
    }

    /// For the status bar: `by spend ↓`.
    pub fn describe(self) -> String {
        format!("by {} {}", self.field.label(), self.arrow())
    }

    /// Parses `:sort`'s arguments: `FIELD [asc|desc]`, or `off`/`none`
    /// (`Ok(None)`). The error says what is accepted.
    pub fn parse_args(args: &str) -> std::result::Result<Option<Sort>, String> {
        let mut words = args.split_whitespace();
        let fields = SortField::ALL.map(SortField::as_str).join(", ");
        let Some(field) = words.next() else {
            return Err(format!("sort needs a field: {fields}, or off"));
        };
        if matches!(field, "off" | "none") {
            return match words.next() {
                None => Ok(None),
                Some(w) => Err(format!("sort off takes nothing after it (got '{w}')")),
            };
        }
        let field = SortField::parse(field)
            .ok_or_else(|| format!("cannot sort by '{field}': use {fields}, or off"))?;
        let mut sort = Sort::new(field);
        match words.next() {
            None => {}
            Some("asc" | "ascending") => sort.descending = false,
            Some("desc" | "descending") => sort.descending = true,
            Some(w) => return Err(format!("sort direction '{w}': use asc or desc")),
        }
        if let Some(w) = words.next() {
            return Err(format!(
                "sort takes a field and a direction (got '{w}' too)"
            ));
        }
        Ok(Some(sort))
    }
}

/// A customer's key for one field. `None` (no orders, no creation date, no
/// name) sorts last in either direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Text(String),
    Number(i64),
}

/// The key of a name: lower case, with Chinese characters spelt in pinyin,
/// so 张伟 sorts with "Zhang Wei" rather than after every Latin name.
pub fn name_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 2);
    for c in name.chars() {
        match c.to_pinyin() {
            Some(p) => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push_str(p.plain());
                out.push(' ');
            }
            None => out.extend(c.to_lowercase()),
        }
    }
    out.trim_end().to_owned()
}

/// The key of a record field (name, created).
pub fn record_key(field: SortField, c: &Customer) -> Option<SortKey> {
    match field {
        SortField::Name => (!c.name.is_empty()).then(|| SortKey::Text(name_key(&c.name))),
        SortField::Created => c.created_at.map(|t| SortKey::Number(t.timestamp())),
        _ => None,
    }
}

/// The key of a figure (spend, orders, last order). Customers without
/// orders have a spend and an order count of zero but no last order.
pub fn figure_key(field: SortField, s: &Stats) -> Option<SortKey> {
    match field {
        SortField::Spend => Some(SortKey::Number(s.spend_minor)),
        SortField::Orders => Some(SortKey::Number(i64::from(s.orders))),
        SortField::LastOrder => s
            .last_order
            .map(|d: NaiveDate| SortKey::Number(i64::from(days::from_date(d)))),
        _ => None,
    }
}

/// Compares two keys in a direction; a missing key is always last.
fn compare(a: &Option<SortKey>, b: &Option<SortKey>, descending: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) if descending => y.cmp(x),
        (Some(x), Some(y)) => x.cmp(y),
    }
}

/// The ids in sort order; equal keys keep id order.
pub fn order(keyed: &mut [(Option<SortKey>, CustomerId)], descending: bool) -> Vec<CustomerId> {
    keyed.sort_unstable_by(|(ka, a), (kb, b)| compare(ka, kb, descending).then(a.cmp(b)));
    keyed.iter().map(|(_, id)| *id).collect()
}

/// The key of every live customer for `field`, in one pass: the figures by
/// one scan of the stored stats merged with the index's ids (both in id
/// order), the record fields by one scan of the records.
pub fn load_keys(
    store: &Store,
    index: &Index,
    field: SortField,
) -> Result<Vec<(Option<SortKey>, CustomerId)>> {
    if !field.is_figure() {
        let mut out = Vec::with_capacity(index.len());
        for c in store.customers() {
            let c = c?;
            out.push((record_key(field, &c), c.id));
        }
        return Ok(out);
    }
    let mut stats = store.all_stats().peekable();
    let mut out = Vec::with_capacity(index.len());
    let mut previous = None;
    let mut in_id_order = true;
    for pos in 0..index.len() {
        let Some(id) = index.id_at(pos) else { break };
        in_id_order &= previous.is_none_or(|p| id > p);
        previous = Some(id);
        let s = if in_id_order {
            let mut found = Stats::default();
            loop {
                match stats.peek() {
                    Some(Ok((sid, _))) if *sid < id => {
                        stats.next();
                    }
                    Some(Ok((sid, s))) if *sid == id => {
                        found = *s;
                        stats.next();
                        break;
                    }
                    Some(Err(_)) => {
                        if let Some(Err(e)) = stats.next() {
                            return Err(e);
                        }
                    }
                    _ => break,
                }
            }
            found
        } else {
            // Not in id order after all: look each one up.
            store.stats(id)?
        };
        out.push((figure_key(field, &s), id));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_pinyin_with_latin_names() {
        assert_eq!(name_key("张伟"), "zhang wei");
        assert_eq!(name_key("Ann Lee"), "ann lee");
        assert_eq!(name_key("王Fang"), "wang fang");
        let mut keyed = vec![
            (Some(SortKey::Text(name_key("张伟"))), CustomerId(1)),
            (Some(SortKey::Text(name_key("Bob"))), CustomerId(2)),
            (None, CustomerId(3)),
            (Some(SortKey::Text(name_key("Ann"))), CustomerId(4)),
            (Some(SortKey::Text(name_key("Zhang Wei"))), CustomerId(5)),
        ];
        let ids: Vec<u64> = order(&mut keyed, false).iter().map(|i| i.0).collect();
        assert_eq!(ids, [4, 2, 1, 5, 3]);
        let ids: Vec<u64> = order(&mut keyed, true).iter().map(|i| i.0).collect();
        assert_eq!(
            ids,
            [1, 5, 2, 4, 3],
            "missing keys stay last; ties keep id order"
        );
    }

    #[test]
    fn cycle_visits_every_field_then_none() {
        let mut s = None;
        let mut seen = Vec::new();
        for _ in 0..6 {
            s = Sort::cycle(s);
            seen.push(s.map(|s| s.field));
        }
        assert_eq!(
            seen,
            [
                Some(SortField::Name),
                Some(SortField::Spend),
                Some(SortField::Orders),
                Some(SortField::LastOrder),
                Some(SortField::Created),
                None
            ]
        );
        assert!(!Sort::new(SortField::Name).descending);
        assert!(Sort::new(SortField::Spend).descending);
    }

    #[test]
    fn sort_arguments_parse_with_clear_errors() {
        assert_eq!(
            Sort::parse_args("spend asc"),
            Ok(Some(Sort {
                field: SortField::Spend,
                descending: false
            }))
        );
        assert_eq!(
            Sort::parse_args("last-order"),
            Ok(Some(Sort::new(SortField::LastOrder)))
        );
        assert_eq!(Sort::parse_args("off"), Ok(None));
        assert!(Sort::parse_args("").unwrap_err().contains("needs a field"));
        assert!(Sort::parse_args("colour").unwrap_err().contains("'colour'"));
        assert!(
            Sort::parse_args("name up")
                .unwrap_err()
                .contains("asc or desc")
        );
        assert!(Sort::parse_args("name asc x").is_err());
    }
}
