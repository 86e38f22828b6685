//! Writing customers out as CSV or JSON, with their derived figures.
//!
//! CSV cells that a spreadsheet would run as a formula are neutralised with
//! a leading apostrophe. Cells made only of digits and number punctuation
//! (phone numbers like `+86 138 0013 8000`, negative amounts like `-12.50`)
//! cannot call a function, so they are left exactly as they are.

use serde_json::{Value, json};
use std::borrow::Cow;
use std::io::Write;

use crate::model::{Customer, Field, Stats};
use crate::segments::{Derived, RfmSegment};

/// Neutralises a CSV cell that would start a formula (`=`, `+`, `-`, `@`, tab, CR).
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    let Some(first) = cell.chars().next() else {
        return Cow::Borrowed(cell);
    };
    if !matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r') {
        return Cow::Borrowed(cell);
    }
    let numeric = matches!(first, '+' | '-')
        && cell.chars().any(|c| c.is_ascii_digit())
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | ',' | ' ' | '(' | ')'));
    if numeric {
        Cow::Borrowed(cell)
    } else {
        Cow::Owned(format!("'{cell}"))
    }
}

/// The columns of a customer export, in order.
pub fn columns() -> Vec<&'static str> {
    let mut cols = vec!["id"];
    cols.extend(Field::ALL.iter().map(|f| f.as_str()));
    cols.extend([
        "tags",
        "orders",
        "order_days",
        "spend",
        "first_order",
        "last_order",
        "recency_days",
        "frequency",
        "monetary",
        "r",
        "f",
        "m",
        "rfm_segment",
        "lifecycle",
        "value_tier",
        "attributes",
        "invalid",
    ]);
    cols
}

fn pairs_json(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// The segment columns of one customer, as (name, JSON value) in
/// [`columns`] order: figures as of the computation's date.
fn segment_cells(d: &Derived) -> [(&'static str, Value); 9] {
    let score = |i: usize| d.scores.map_or(Value::Null, |s| json!(s[i]));
    [
        ("recency_days", json!(d.recency_days)),
        ("frequency", json!(d.frequency)),
        ("monetary", json!(d.monetary())),
        ("r", score(0)),
        ("f", score(1)),
        ("m", score(2)),
        ("rfm_segment", json!(d.rfm.map(RfmSegment::name))),
        ("lifecycle", json!(d.lifecycle.slug())),
        ("value_tier", json!(d.value.slug())),
    ]
}

/// A JSON scalar as a CSV cell (null is empty).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or_default()),
        other => other.to_string(),
    }
}

/// One customer's export row, aligned with [`columns`] (not yet neutralised).
pub fn row(c: &Customer, s: &Stats, d: &Derived) -> Vec<String> {
    let mut out = vec![c.id.to_string()];
    out.extend(Field::ALL.iter().map(|f| c.value(*f).unwrap_or_default()));
    out.push(c.tags.join("; "));
    out.push(s.orders.to_string());
    out.push(s.order_days.to_string());
    out.push(format!("{:.2}", s.spend()));
    out.push(s.first_order.map(|d| d.to_string()).unwrap_or_default());
    out.push(s.last_order.map(|d| d.to_string()).unwrap_or_default());
    out.extend(segment_cells(d).iter().map(|(_, v)| cell(v)));
    out.push(if c.attrs.is_empty() {
        String::new()
    } else {
        pairs_json(&c.attrs).to_string()
    });
    out.push(if c.invalid.is_empty() {
        String::new()
    } else {
        pairs_json(&c.invalid).to_string()
    });
    out
}

/// One customer as a JSON object (lists stay lists; figures are numbers).
pub fn to_json(c: &Customer, s: &Stats, d: &Derived) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(c.id.0));
    for f in Field::ALL {
        let v = match f {
            Field::Email => json!(c.emails),
            Field::Phone => json!(c.phones),
            _ => c.value(f).map_or(Value::Null, Value::String),
        };
        m.insert(f.as_str().into(), v);
    }
    m.insert("tags".into(), json!(c.tags));
    m.insert("orders".into(), json!(s.orders));
    m.insert("order_days".into(), json!(s.order_days));
    m.insert("spend".into(), json!(s.spend()));
    m.insert(
        "first_order".into(),
        json!(s.first_order.map(|d| d.to_string())),
    );
    m.insert(
        "last_order".into(),
        json!(s.last_order.map(|d| d.to_string())),
    );
    for (name, v) in segment_cells(d) {
        m.insert(name.into(), v);
    }
    m.insert("attributes".into(), pairs_json(&c.attrs));
    m.insert("invalid".into(), pairs_json(&c.invalid));
    Value::Object(m)
}

/// Writes CSV: the header, then one neutralised row per customer.
pub struct CsvExport<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvExport<W> {
    pub fn new(out: W) -> csv::Result<Self> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(columns())?;
        Ok(CsvExport { w })
    }

    pub fn write(&mut self, c: &Customer, s: &Stats, d: &Derived) -> csv::Result<()> {
        let cells = row(c, s, d);
        self.w
            .write_record(cells.iter().map(|c| neutralize(c).into_owned()))
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_but_numbers_are_not() {
        for (cell, want) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3+cmd|x", "'-2+3+cmd|x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("+8613800138000", "+8613800138000"),
            ("+86 138 0013 8000", "+86 138 0013 8000"),
            ("-12.50", "-12.50"),
            ("-", "'-"),
            ("Ann", "Ann"),
            ("", ""),
        ] {
            assert_eq!(neutralize(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn row_matches_columns() {
        let c = Customer::default();
        assert_eq!(
            row(&c, &Stats::default(), &Derived::NONE).len(),
            columns().len()
        );
        let keys: Vec<String> = match to_json(&c, &Stats::default(), &Derived::NONE) {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        assert_eq!(keys, columns());
    }
}
