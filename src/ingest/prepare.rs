//! Preparing rows: everything an import does to a row that needs no
//! database (mapping columns, cleaning text, parsing emails, phones, dates
//! and amounts). Runs on the reader thread, ahead of the writer.

use super::headers::RecordKind;
use super::import::ImportOptions;
use super::normalize::{self, clean_text};
use super::reader::SourceRow;
use crate::model::{Customer, CustomerId, Note, NoteKind, Order};

/// The columns of the file and where each goes.
pub(super) struct Layout {
    pub(super) columns: Vec<Option<&'static str>>,
    pub(super) headers: Vec<String>,
}

/// The cleaned values of one row: canonical fields (several columns joined
/// by a space) and custom attributes.
struct Values {
    fields: Vec<(&'static str, String)>,
    attrs: Vec<(String, String)>,
}

impl Values {
    fn of(row: &SourceRow, layout: &Layout) -> Values {
        let (columns, headers) = (&layout.columns, &layout.headers);
        let mut fields: Vec<(&'static str, String)> = Vec::new();
        let mut attrs = Vec::new();
        for (i, raw) in row.fields.iter().enumerate() {
            let v = clean_text(raw);
            if v.is_empty() {
                continue;
            }
            match columns.get(i).copied().flatten() {
                Some(f) => match fields.iter_mut().find(|(k, _)| *k == f) {
                    // Several columns on one field: text joins with a space,
                    // lists with ';'; a figure or date keeps the first value
                    // and the other column stays as an attribute.
                    Some((_, existing)) => match join_rule(f) {
                        Join::Text => {
                            existing.push(' ');
                            existing.push_str(&v);
                        }
                        Join::List => {
                            existing.push(';');
                            existing.push_str(&v);
                        }
                        Join::First => {
                            let key = headers.get(i).map(|h| clean_text(h)).unwrap_or_default();
                            attrs.push((key, v));
                        }
                    },
                    None => fields.push((f, v)),
                },
                None => {
                    let key = headers.get(i).map(|h| clean_text(h)).unwrap_or_default();
                    let key = if key.is_empty() {
                        format!("column_{}", i + 1)
                    } else {
                        key
                    };
                    attrs.push((key, v));
                }
            }
        }
        Values { fields, attrs }
    }

    fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| v.as_str())
    }
}

enum Join {
    Text,
    List,
    First,
}

fn join_rule(field: &str) -> Join {
    match field {
        "email" | "phone" => Join::List,
        "name" | "given_name" | "family_name" | "company" | "title" | "street" | "city"
        | "region" | "country" | "source" | "text" | "channel" => Join::Text,
        _ => Join::First,
    }
}

/// Splits a cell holding several emails or phones.
fn split_list(s: &str, allow_space: bool) -> Vec<&str> {
    s.split(|c: char| {
        c == ';' || c == ',' || c == '/' || c == '|' || (allow_space && c.is_whitespace())
    })
    .map(str::trim)
    .filter(|p| !p.is_empty())
    .collect()
}

/// Splits a cell holding several phones, unless the whole cell is one
/// valid number: "310/246-1501" is an area code and a number (a US
/// listing's way), "13800138000/13900139000" two mobiles.
fn phone_parts<'a>(s: &'a str, cfg: &normalize::NormalizeConfig) -> Vec<&'a str> {
    let parts = split_list(s, false);
    if parts.len() > 1 && normalize::phone(s, cfg).is_ok() {
        vec![s.trim()]
    } else {
        parts
    }
}

/// A row after the work that needs no database: cleaned, parsed and
/// validated. Runs on its own thread, ahead of the writer.
pub(super) enum Prepared {
    Customer(Box<Customer>),
    Order(Box<Order>, Who),
    Note(Box<Note>, Who),
}

/// One source row on its way to the writer.
pub(super) struct PreparedRow {
    pub(super) row: SourceRow,
    pub(super) result: Result<Prepared, String>,
    pub(super) warnings: Vec<String>,
}

pub(super) fn prepare(
    kind: RecordKind,
    row: SourceRow,
    layout: &Layout,
    opts: &ImportOptions,
) -> PreparedRow {
    let mut warnings = Vec::new();
    let result = match &row.problem {
        Some(p) => Err(p.clone()),
        None => match kind {
            RecordKind::Customers => prepare_customer(&row, layout, opts, &mut warnings),
            RecordKind::Orders => prepare_order(&row, layout, opts, &mut warnings),
            RecordKind::Notes => prepare_note(&row, layout, opts, &mut warnings),
        },
    };
    PreparedRow {
        row,
        result,
        warnings,
    }
}

fn prepare_customer(
    row: &SourceRow,
    layout: &Layout,
    opts: &ImportOptions,
    warnings: &mut Vec<String>,
) -> Result<Prepared, String> {
    let v = Values::of(row, layout);
    // A row's own country decides how its phone numbers without a country
    // code are read; the configured region is the fallback.
    let mut row_cfg = opts.normalize.clone();
    if let Some(region) = v.get("country").and_then(region_of_country) {
        row_cfg.default_region = region;
    }
    let cfg = &row_cfg;
    let mut draft = Customer::default();
    let mut invalid = Vec::new();
    let mut warn = |field: &str, value: &str, why: String| {
        warnings.push(format!("{field} '{}' emptied: {why}", preview(value)));
        invalid.push((field.to_owned(), value.to_owned()));
    };
    for (field, value) in &v.fields {
        let value = value.as_str();
        match *field {
            "ext_id" => draft.ext_id = Some(value.to_owned()),
            "name" => draft.name = value.to_owned(),
            "given_name" => draft.given_name = Some(value.to_owned()),
            "family_name" => draft.family_name = Some(value.to_owned()),
            "email" => {
                for part in split_list(value, true) {
                    match normalize::email(part) {
                        Ok(e) if !draft.emails.contains(&e) => draft.emails.push(e),
                        Ok(_) => {}
                        Err(why) => warn("email", part, why),
                    }
                }
            }
            "phone" => {
                for part in phone_parts(value, cfg) {
                    match normalize::phone(part, cfg) {
                        Ok(p) if !draft.phones.contains(&p) => draft.phones.push(p),
                        Ok(_) => {}
                        Err(why) => warn("phone", part, why),
                    }
                }
            }
            "company" => draft.company = Some(value.to_owned()),
            "title" => draft.title = Some(value.to_owned()),
            "street" => draft.street = Some(value.to_owned()),
            "city" => draft.city = Some(value.to_owned()),
            "region" => draft.region = Some(value.to_owned()),
            "postcode" => draft.postcode = Some(value.to_owned()),
            "country" => draft.country = Some(value.to_owned()),
            "birth_date" => match normalize::date(value, cfg) {
                Ok(d) => draft.birth_date = Some(d),
                Err(why) => warn("birth_date", value, why),
            },
            "gender" => draft.gender = Some(normalize::gender(value)),
            "source" => draft.source = Some(value.to_owned()),
            "created_at" => match normalize::datetime(value, cfg) {
                Ok(t) => draft.created_at = Some(t),
                Err(why) => warn("created_at", value, why),
            },
            other => draft.attrs.push((other.to_owned(), value.to_owned())),
        }
    }
    draft.attrs.extend(v.attrs);
    draft.invalid = invalid;
    if draft.name.is_empty() {
        draft.name = derive_name(draft.given_name.as_deref(), draft.family_name.as_deref());
    }
    // A source system's id with something to go by (an address, a birth
    // date, a company, a member number...) identifies a customer too, as
    // one created from an order log is known by its id alone.
    let described = draft.ext_id.is_some()
        && (draft.company.is_some()
            || draft.street.is_some()
            || draft.city.is_some()
            || draft.postcode.is_some()
            || draft.birth_date.is_some()
            || !draft.attrs.is_empty());
    if draft.name.is_empty() && draft.emails.is_empty() && draft.phones.is_empty() && !described {
        return Err(
            "no name, no valid email, no valid phone and no ext_id with other details: \
             nothing identifies this customer"
                .to_owned(),
        );
    }
    Ok(Prepared::Customer(Box::new(draft)))
}

/// The phone region of a country as exports write it (ISO code, English or Chinese name).
fn region_of_country(country: &str) -> Option<phonenumber::country::Id> {
    use phonenumber::country::Id;
    let c = country.trim().to_lowercase();
    let id = match c.as_str() {
        "cn" | "chn" | "china" | "中国" | "中华人民共和国" | "prc" => Id::CN,
        "us" | "usa" | "united states" | "united states of america" | "美国" => Id::US,
        "gb" | "uk" | "united kingdom" | "england" | "scotland" | "wales" | "great britain"
        | "英国" => Id::GB,
        "au" | "aus" | "australia" | "澳大利亚" => Id::AU,
        "ca" | "canada" | "加拿大" => Id::CA,
        "hk" | "hong kong" | "香港" | "中国香港" => Id::HK,
        "tw" | "taiwan" | "台湾" | "中国台湾" => Id::TW,
        "mo" | "macau" | "macao" | "澳门" => Id::MO,
        "sg" | "singapore" | "新加坡" => Id::SG,
        "jp" | "japan" | "日本" => Id::JP,
        "kr" | "korea" | "south korea" | "韩国" => Id::KR,
        "de" | "germany" | "deutschland" | "德国" => Id::DE,
        "fr" | "france" | "法国" => Id::FR,
        "nz" | "new zealand" | "新西兰" => Id::NZ,
        "in" | "india" | "印度" => Id::IN,
        other => return other.to_ascii_uppercase().parse().ok(),
    };
    Some(id)
}

/// `name` from its parts: "张" + "伟" -> "张伟"; "Ann" + "Lee" -> "Ann Lee".
fn derive_name(given: Option<&str>, family: Option<&str>) -> String {
    match (given, family) {
        (Some(g), Some(f)) => {
            let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            if cjk(g) || cjk(f) {
                format!("{f}{g}")
            } else {
                format!("{g} {f}")
            }
        }
        (Some(x), None) | (None, Some(x)) => x.to_owned(),
        (None, None) => String::new(),
    }
}

/// How an order or note row names its customer.
pub(super) struct Who {
    pub(super) customer: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
}

impl Who {
    fn of(v: &Values) -> Who {
        Who {
            customer: v.get("customer").map(str::to_owned),
            email: v.get("customer_email").map(str::to_owned),
            phone: v.get("customer_phone").map(str::to_owned),
        }
    }
}

fn prepare_order(
    row: &SourceRow,
    layout: &Layout,
    opts: &ImportOptions,
    warnings: &mut Vec<String>,
) -> Result<Prepared, String> {
    let v = Values::of(row, layout);
    let cfg = &opts.normalize;
    let date_text = v.get("order_date").ok_or("no order date")?;
    let date = normalize::datetime(date_text, cfg)
        .map(|t| t.date_naive())
        .or_else(|_| normalize::date(date_text, cfg))
        .map_err(|why| format!("order date '{}': {why}", preview(date_text)))?;
    let quantity_text = v.get("quantity");
    let signed_quantity = quantity_text.and_then(whole_quantity);
    let amount_minor = match (v.get("amount"), v.get("unit_price")) {
        (Some(text), _) => normalize::amount_minor(text)
            .map_err(|why| format!("amount '{}': {why}", preview(text)))?,
        (None, Some(text)) => {
            let unit = normalize::amount_minor(text)
                .map_err(|why| format!("unit price '{}': {why}", preview(text)))?;
            let n = match (quantity_text, signed_quantity) {
                (None, _) => 1,
                (Some(_), Some(n)) => n,
                (Some(q), None) => {
                    return Err(format!(
                        "no amount, and unit price x quantity needs a whole quantity, not '{}'",
                        preview(q)
                    ));
                }
            };
            unit.checked_mul(n).ok_or_else(|| {
                format!("unit price '{}' x quantity {n} is too large", preview(text))
            })?
        }
        (None, None) => return Err("no amount and no unit price".to_owned()),
    };
    let quantity = match (quantity_text, signed_quantity) {
        (Some(_), Some(n)) if n >= 0 => match u32::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                warnings.push(format!("quantity {n} emptied: too large"));
                None
            }
        },
        (Some(q), Some(_)) => {
            let amount = if v.get("amount").is_some() {
                "the amount is as given".to_owned()
            } else {
                format!(
                    "amount = unit price x quantity = {}",
                    minor_text(amount_minor)
                )
            };
            warnings.push(format!(
                "quantity '{}' is negative (a return or cancellation): not stored; {amount}",
                preview(q)
            ));
            None
        }
        (Some(q), None) => {
            warnings.push(format!(
                "quantity '{}' emptied: not a whole number",
                preview(q)
            ));
            None
        }
        (None, _) => None,
    };
    let mut attrs = v.attrs.clone();
    if let Some(p) = v.get("unit_price") {
        attrs.push(("unit_price".to_owned(), p.to_owned()));
    }
    let order_id = match v.get("order_id") {
        Some(id) => id.to_owned(),
        // No order id: derive one from the row's content, so that importing
        // the same file again updates instead of duplicating.
        None => format!("auto-{:016x}", content_hash(&row.fields)),
    };
    // customer_email / customer_phone only identified the customer: the
    // order links to that customer instead of copying personal data.
    let order = Order {
        order_id,
        customer: CustomerId(0),
        date,
        amount_minor,
        quantity,
        currency: v.get("currency").map(|c| c.to_uppercase()),
        channel: v.get("channel").map(str::to_owned),
        attrs,
    };
    Ok(Prepared::Order(Box::new(order), Who::of(&v)))
}

fn prepare_note(
    row: &SourceRow,
    layout: &Layout,
    opts: &ImportOptions,
    warnings: &mut Vec<String>,
) -> Result<Prepared, String> {
    let v = Values::of(row, layout);
    let at_text = v.get("at").ok_or("no date or time")?;
    let at = normalize::datetime(at_text, &opts.normalize)
        .map_err(|why| format!("time '{}': {why}", preview(at_text)))?;
    let mut text = v.get("text").unwrap_or_default().to_owned();
    let kind = match v.get("kind") {
        Some(k) => k.parse::<NoteKind>().unwrap_or_else(|()| {
            warnings.push(format!(
                "kind '{}' is not call/email/visit/feedback/complaint: kept as other",
                preview(k)
            ));
            text = format!("[{k}] {text}");
            NoteKind::Other
        }),
        None => NoteKind::Other,
    };
    let satisfaction = match v.get("satisfaction") {
        Some(s) => match s.trim().parse::<f64>() {
            Ok(n) if (1.0..=5.0).contains(&n) && n.fract() == 0.0 => Some(n as u8),
            _ => {
                warnings.push(format!(
                    "satisfaction '{}' emptied: expected 1 to 5",
                    preview(s)
                ));
                None
            }
        },
        None => None,
    };
    if text.trim().is_empty() && satisfaction.is_none() {
        return Err("the note has neither text nor a satisfaction score".to_owned());
    }
    let note = Note {
        customer: CustomerId(0),
        at,
        kind,
        text,
        satisfaction,
    };
    Ok(Prepared::Note(Box::new(note), Who::of(&v)))
}

/// A quantity as a whole number, negative for returns: `3`, `-3`, `3.0`.
fn whole_quantity(q: &str) -> Option<i64> {
    let q = q.trim();
    q.parse::<i64>().ok().or_else(|| {
        let n = q.parse::<f64>().ok()?;
        // Beyond 2^53 an f64 is no longer a whole number exactly.
        (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0).then_some(n as i64)
    })
}

/// Minor units as a decimal: -630 -> "-6.30".
fn minor_text(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:02}", m / 100, m % 100)
}

fn content_hash(fields: &[String]) -> u64 {
    // FNV-1a: stable across runs and versions, unlike std's SipHash keys.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in fields {
        for b in f.as_bytes().iter().chain(std::iter::once(&0x1f)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

pub(super) fn preview(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::headers::map_header;
    use chrono::NaiveDate;

    /// Prepares one order row of a file with these headers (mapped as import maps them).
    fn order_row(headers: &[&str], fields: &[&str]) -> (Result<Order, String>, Vec<String>) {
        let layout = Layout {
            columns: headers
                .iter()
                .map(|h| map_header(RecordKind::Orders, h))
                .collect(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        };
        let row = SourceRow {
            line: 2,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            problem: None,
        };
        let opts = ImportOptions::new(RecordKind::Orders);
        let prepared = prepare(RecordKind::Orders, row, &layout, &opts);
        let order = prepared.result.map(|p| match p {
            Prepared::Order(o, _) => *o,
            _ => panic!("not an order"),
        });
        (order, prepared.warnings)
    }

    const RETAIL: &[&str] = &[
        "Invoice",
        "StockCode",
        "Quantity",
        "InvoiceDate",
        "Price",
        "Customer ID",
    ];

    #[test]
    fn a_slash_splits_phones_unless_the_cell_is_one_number() {
        let us = normalize::NormalizeConfig {
            default_region: phonenumber::country::Id::US,
            ..normalize::NormalizeConfig::default()
        };
        let cn = normalize::NormalizeConfig::default();
        assert_eq!(phone_parts("310/246-1501", &us), ["310/246-1501"]);
        assert_eq!(
            phone_parts("13800138000/13900139000", &cn),
            ["13800138000", "13900139000"]
        );
        assert_eq!(
            phone_parts("13800138000; 010-88881234", &cn),
            ["13800138000", "010-88881234"]
        );
        assert_eq!(phone_parts(" 13800138000 ", &cn), ["13800138000"]);
    }

    #[test]
    fn amount_is_unit_price_times_quantity_in_exact_minor_units() {
        let cases: &[(&str, &str, i64, Option<u32>)] = &[
            ("6", "2.55", 1530, Some(6)),
            ("1", "0.85", 85, Some(1)),
            ("3", "0.10", 30, Some(3)),
            // A float product would give 0.1 x 3 = 0.30000000000000004.
            ("12", "1.25", 1500, Some(12)),
            ("0", "4.95", 0, Some(0)),
            ("2.0", "1.50", 300, Some(2)),
            ("1000000", "£1,234.56", 123_456_000_000, Some(1_000_000)),
        ];
        for (qty, price, want, want_qty) in cases {
            let (order, warnings) = order_row(
                RETAIL,
                &[
                    "489434",
                    "85048",
                    qty,
                    "2009-12-01 07:45:00",
                    price,
                    "13085",
                ],
            );
            let order = order.unwrap_or_else(|e| panic!("{qty} x {price}: {e}"));
            assert_eq!(order.amount_minor, *want, "{qty} x {price}");
            assert_eq!(order.quantity, *want_qty, "{qty} x {price}");
            assert!(warnings.is_empty(), "{warnings:?}");
            let kept = order.attrs.iter().find(|(k, _)| k == "unit_price");
            assert_eq!(kept.map(|(_, v)| v.as_str()), Some(*price));
        }
    }

    #[test]
    fn negative_quantity_makes_a_negative_amount_with_a_warning() {
        let (order, warnings) = order_row(
            RETAIL,
            &[
                "C489449",
                "22087",
                "-12",
                "2009-12-01 10:33:00",
                "0.85",
                "16321",
            ],
        );
        let order = order.unwrap();
        assert_eq!(order.amount_minor, -1020);
        assert_eq!(order.quantity, None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("'-12' is negative"), "{warnings:?}");
        assert!(warnings[0].contains("-10.20"), "{warnings:?}");
    }

    #[test]
    fn amount_wins_over_unit_price_and_negative_quantity_is_not_stored() {
        let headers = &[
            "order_id",
            "customer",
            "date",
            "amount",
            "unit_price",
            "qty",
        ];
        let (order, warnings) =
            order_row(headers, &["O1", "C1", "2024-01-01", "9.99", "5.00", "-2"]);
        let order = order.unwrap();
        assert_eq!(order.amount_minor, 999);
        assert_eq!(order.quantity, None);
        assert!(warnings[0].contains("amount is as given"), "{warnings:?}");
    }

    #[test]
    fn missing_quantity_counts_as_one() {
        let headers = &["order_id", "customer", "date", "单价"];
        let (order, _) = order_row(headers, &["O1", "C1", "2024-01-01", "¥12.50"]);
        assert_eq!(order.unwrap().amount_minor, 1250);
    }

    #[test]
    fn rows_without_a_usable_amount_are_rejected_with_a_reason() {
        let cases: &[(&str, &str, &str)] = &[
            ("", "", "no amount and no unit price"),
            ("2.5", "1.00", "needs a whole quantity"),
            ("x", "1.00", "needs a whole quantity"),
            ("3", "abc", "unit price 'abc'"),
            ("9223372036854775807", "1.00", "too large"),
        ];
        for (qty, price, why) in cases {
            let (order, _) = order_row(RETAIL, &["1", "S", qty, "2024-01-01", price, "C1"]);
            let err = order.expect_err(qty);
            assert!(err.contains(why), "{qty} x {price}: {err}");
        }
    }

    /// `20240101` and whitespace around or inside a date-time read like
    /// `2024-01-01`.
    #[test]
    fn compact_dates_and_whitespace_give_the_same_order_date() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        for date in [
            "2024-01-01",
            "20240101",
            "  20240101 ",
            "\t2024-01-01",
            "2024-01-01  07:45:00",
            " 2024-01-01 07:45 ",
            "2024/1/1",
            "1/1/2024 7:45",
        ] {
            let (order, _) = order_row(RETAIL, &["1", "S", "1", date, "1.00", "C1"]);
            assert_eq!(order.map(|o| o.date), Ok(day), "{date:?}");
        }
    }
}
