//! Black-box tests of `rolo import` (and the export, revert, locking,
//! permissions and crash safety around it), run against the real binary with
//! a private temporary database. The acceptance criteria are issue #2's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    CHINESE_HEADERS_TEXT, Env, assert_no_panic, hostile_fixtures, read_rejects, rolo, rolo_std,
    single_json, stderr,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

// ---------------------------------------------------------------------------
// Hostile fixtures

/// The committed files under tests/fixtures/hostile/ are exactly what
/// `common::hostile_fixtures` describes (so a checkout that mangled line
/// endings or encodings is caught). `ROLO_WRITE_FIXTURES=1` rewrites them.
#[test]
fn hostile_fixtures_on_disk_are_current() {
    let dir = common::fixtures().join("hostile");
    let write = std::env::var_os("ROLO_WRITE_FIXTURES").is_some();
    if write {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, bytes) in hostile_fixtures() {
        let p = dir.join(name);
        if write {
            std::fs::write(&p, &bytes).unwrap();
        }
        let on_disk = std::fs::read(&p)
            .unwrap_or_else(|e| panic!("{}: {e} (ROLO_WRITE_FIXTURES=1 writes it)", p.display()));
        assert!(
            on_disk == bytes,
            "{} differs from common::hostile_fixtures()",
            p.display()
        );
    }
}

/// Characters that must never survive into a stored value.
fn is_forbidden(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{feff}' | '\u{fffd}')
}

fn assert_clean(v: &Value, path: &str) {
    match v {
        Value::String(s) => assert!(
            !s.chars().any(is_forbidden),
            "{path} holds a control, bidi or replacement character: {s:?}"
        ),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| assert_clean(x, &format!("{path}[{i}]"))),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| assert_clean(x, &format!("{path}.{k}"))),
        _ => {}
    }
}

/// What one hostile import produced.
struct Imported {
    report: Value,
    /// Exported customers by ext_id.
    records: BTreeMap<String, Value>,
    /// Rejected rows: (the row's ext_id cell, the reason).
    rejects: Vec<(String, String)>,
}

impl Imported {
    fn rec(&self, ext: &str) -> &Value {
        self.records
            .get(ext)
            .unwrap_or_else(|| panic!("{ext} was not imported; have {:?}", self.records.keys()))
    }

    fn reason(&self, ext: &str) -> &str {
        self.rejects
            .iter()
            .find(|(e, _)| e == ext)
            .map(|(_, r)| r.as_str())
            .unwrap_or_else(|| panic!("{ext} is not in the rejects file: {:?}", self.rejects))
    }

    fn n(&self, key: &str) -> u64 {
        self.report[key].as_u64().unwrap()
    }

    fn counts(&self) -> (u64, u64, u64, u64) {
        (
            self.n("read"),
            self.n("inserted"),
            self.n("updated"),
            self.n("rejected"),
        )
    }
}

/// Imports one hostile fixture into a fresh database and checks what holds
/// for every file: exit 0, no panic, the counts add up, every rejected row is
/// in the rejects CSV with a reason, every record is clean text.
fn import_hostile(name: &str) -> Imported {
    let env = Env::new();
    let file = env.copy_fixture(&format!("hostile/{name}"));
    let out = env.run(&["import", "customers", file.to_str().unwrap(), "--json"]);
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "{name}: import failed ({:?}): {}",
        out.status,
        stderr(&out)
    );
    let report = single_json(&out.stdout);
    common::assert_counts_add_up(&report);
    let rejected = report["rejected"].as_u64().unwrap();
    let mut rejects = Vec::new();
    if rejected > 0 {
        let p = report["rejects_file"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: rows rejected but no rejects_file: {report}"));
        assert!(
            p.starts_with(env.dir.path().to_str().unwrap()),
            "rejects file {p} is not next to the input"
        );
        let (headers, rows) = read_rejects(Path::new(p));
        assert_eq!(
            rows.len() as u64,
            rejected,
            "{name}: rejects file rows != rejected"
        );
        assert_eq!(
            headers.iter().next_back(),
            Some("reason"),
            "{name}: rejects header does not end in `reason`: {headers:?}"
        );
        for r in &rows {
            // The reason is the last cell (a long ragged row has more cells
            // than the header; see rejects_reason_column_lines_up_with_its_header).
            let reason = r.get(r.len() - 1).unwrap_or("").trim().to_owned();
            assert!(
                !reason.is_empty(),
                "{name}: rejected row without a reason: {r:?}"
            );
            rejects.push((r.get(0).unwrap_or("").to_owned(), reason));
        }
    } else {
        assert!(report["rejects_file"].is_null(), "{report}");
    }
    let all = env.export();
    assert_eq!(
        all.len() as u64,
        report["inserted"].as_u64().unwrap(),
        "{name}: exported customers != inserted"
    );
    for c in &all {
        assert_clean(c, name);
    }
    // Keyed by ext_id, or by name for files without one.
    let records = all
        .into_iter()
        .map(|c| {
            let key = c["ext_id"]
                .as_str()
                .or(c["name"].as_str())
                .unwrap()
                .to_owned();
            (key, c)
        })
        .collect();
    Imported {
        report,
        records,
        rejects,
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn list(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not a list in {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn hostile_utf8_bom_and_crlf() {
    let r = import_hostile("utf8_bom_crlf.csv");
    assert_eq!(r.counts(), (3, 3, 0, 0));
    assert_eq!(
        r.report["columns"][0]["field"], "ext_id",
        "BOM not stripped"
    );
    let b1 = r.rec("B1");
    assert_eq!(s(b1, "name"), "Ann Lee");
    assert_eq!(list(b1, "email"), ["ann.lee@example.com"]);
    assert_eq!(list(b1, "phone"), ["+8613800138000"]);
    assert_eq!(s(b1, "city"), "Paris");
    assert_eq!(s(r.rec("B2"), "name"), "Bob Stone");
    assert_eq!(s(r.rec("B3"), "city"), "Oslo");
}

#[test]
fn hostile_gbk_with_chinese_headers() {
    let r = import_hostile("gbk_chinese_headers.csv");
    assert_eq!(r.report["encoding"], "gbk");
    let fields: Vec<&str> = r.report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "phone", "email", "city", "created_at"]);
    assert_eq!(r.counts(), (5, 5, 0, 0));
    // These records have no ext_id: they are keyed by name.
    let by_name = |n: &str| r.rec(n);
    let zw = by_name("张伟");
    assert_eq!(list(zw, "phone"), ["+8613800138000"]);
    assert_eq!(list(zw, "email"), ["zhangwei@example.com"]);
    assert_eq!(s(zw, "city"), "上海");
    assert_eq!(s(zw, "created_at"), "2024-03-05T00:00:00Z");
    assert_eq!(list(by_name("李娜"), "phone"), ["+8613900139000"]);
    assert_eq!(list(by_name("王芳"), "phone"), ["+8613700137000"]);
    assert_eq!(list(by_name("欧阳娜娜"), "phone"), ["+861062123456"]);
    for n in ["李娜", "王芳", "赵磊"] {
        assert_eq!(s(by_name(n), "created_at"), "2024-03-05T00:00:00Z", "{n}");
    }
}

#[test]
fn hostile_embedded_quotes_and_newlines() {
    let r = import_hostile("quotes_newlines.csv");
    assert_eq!(r.counts(), (3, 3, 0, 0));
    let q1 = r.rec("Q1");
    assert_eq!(s(q1, "name"), "Li \"The Boss\" Lei");
    assert_eq!(s(q1, "company"), "Acme, Inc.");
    assert_eq!(s(q1, "street"), "Line 1 Line 2");
    assert_eq!(s(q1, "city"), "Shanghai");
    let q2 = r.rec("Q2");
    assert_eq!(s(q2, "name"), "\"Quoted\"");
    assert_eq!(s(q2, "company"), "Say \"hi\"");
    assert_eq!(s(q2, "city"), "Multi line city");
    assert_eq!(s(r.rec("Q3"), "name"), "Plain");
    assert!(r.rec("Q3")["city"].is_null());
}

/// A correctly quoted multi-line address whose second line holds commas is
/// valid CSV, not an unclosed quote.
#[test]
fn quoted_multiline_field_with_commas_is_not_an_unclosed_quote() {
    let r = import_hostile("quoted_multiline_with_commas.csv");
    assert_eq!(r.counts(), (2, 2, 0, 0), "{:?}", r.rejects);
    assert_eq!(
        s(r.rec("M1"), "street"),
        "Room 5, Floor 3 Building 2, Zone A, Park Road"
    );
    assert_eq!(s(r.rec("M1"), "city"), "Shanghai");
}

#[test]
fn hostile_ragged_rows() {
    let r = import_hostile("ragged_rows.csv");
    assert_eq!(r.counts(), (4, 3, 0, 1));
    assert!(r.rec("R1")["city"].is_null());
    assert_eq!(s(r.rec("R1"), "name"), "Short Row");
    assert!(r.reason("R2").contains("fields"), "{}", r.reason("R2"));
    assert_eq!(s(r.rec("R3"), "city"), "Rome");
    assert_eq!(list(r.rec("R4"), "phone"), ["+8613800138001"]);
}

/// A spreadsheet (or the csv crate) finds the reason of a rejected row under
/// the `reason` header. A long ragged row keeps its extra cells, which pushes
/// its reason to the right of the `reason` column.
#[test]
fn rejects_reason_column_lines_up_with_its_header() {
    let env = Env::new();
    let file = env.copy_fixture("hostile/ragged_rows.csv");
    let r = env.import("customers", &file);
    let (headers, rows) = read_rejects(Path::new(r["rejects_file"].as_str().unwrap()));
    let col = headers.iter().position(|h| h == "reason").unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].get(col).unwrap_or("").contains("fields"),
        "under `reason`: {:?}",
        rows[0].get(col)
    );
}

#[test]
fn hostile_invalid_emails_and_phones() {
    let r = import_hostile("invalid_emails_phones.csv");
    assert_eq!(r.counts(), (6, 5, 0, 1));
    assert!(r.n("warnings") >= 5, "{}", r.report);
    let i1 = r.rec("I1");
    assert!(list(i1, "email").is_empty());
    assert_eq!(i1["invalid"]["email"], "not-an-email");
    assert_eq!(list(i1, "phone"), ["+8613800138002"]);
    let i2 = r.rec("I2");
    assert!(list(i2, "phone").is_empty());
    assert_eq!(i2["invalid"]["phone"], "12345");
    assert_eq!(list(i2, "email"), ["badphone@example.com"]);
    assert!(!r.reason("I3").is_empty());
    assert_eq!(list(r.rec("I4"), "email"), ["ok@example.com"]);
    assert_eq!(list(r.rec("I5"), "phone"), ["+8613800138003"]);
    let i6 = r.rec("I6");
    assert!(list(i6, "email").is_empty() && list(i6, "phone").is_empty());
    assert_eq!(i6["invalid"]["email"], "a@b");
    assert_eq!(i6["invalid"]["phone"], "999");
}

#[test]
fn hostile_mixed_date_formats() {
    let r = import_hostile("mixed_dates.csv");
    assert_eq!(r.counts(), (6, 6, 0, 0));
    for ext in ["D1", "D2", "D3", "D4", "D5"] {
        let c = r.rec(ext);
        assert_eq!(s(c, "birth_date"), "2024-03-05", "{ext}");
        assert_eq!(s(c, "created_at"), "2024-03-05T00:00:00Z", "{ext}");
    }
    let bad = r.rec("D6");
    assert!(bad["birth_date"].is_null());
    assert_eq!(bad["invalid"]["birth_date"], "2024-02-30");
    assert_eq!(bad["invalid"]["created_at"], "yesterday");
}

#[test]
fn hostile_100kb_field() {
    let r = import_hostile("field_100kb.csv");
    assert_eq!(r.counts(), (3, 1, 0, 2));
    assert!(r.reason("K1").contains("KB"), "{}", r.reason("K1"));
    assert!(r.reason("K2").contains("KB"), "{}", r.reason("K2"));
    assert_eq!(s(r.rec("K3"), "name"), "Small");
}

#[test]
fn hostile_control_characters_ansi_and_bidi() {
    let r = import_hostile("control_ansi_bidi.csv");
    assert_eq!(r.counts(), (4, 3, 0, 1));
    let a1 = r.rec("A1");
    assert_eq!(s(a1, "name"), "Red Alert");
    assert!(!s(a1, "name").contains('\u{1b}'));
    assert_eq!(s(a1, "company"), "Evil Corp");
    assert_eq!(s(r.rec("A2"), "name"), "Bell Ringer");
    assert_eq!(s(r.rec("A2"), "company"), "NullByte Ltd");
    assert_eq!(s(r.rec("A3"), "name"), "Right To Left");
    assert_eq!(s(r.rec("A3"), "company"), "Isolate Ltd");
    // A name made only of escapes is no name.
    assert!(!r.reason("A4").is_empty());
}

#[test]
fn hostile_emoji_kept_as_is() {
    let r = import_hostile("emoji.csv");
    assert_eq!(r.counts(), (3, 3, 0, 0));
    assert_eq!(s(r.rec("E1"), "name"), "Zoë 😀 Smith");
    assert_eq!(s(r.rec("E1"), "company"), "🍕 Pizza Palace");
    assert_eq!(s(r.rec("E2"), "name"), "王😊芳");
    assert_eq!(s(r.rec("E2"), "company"), "Café ☕");
    assert_eq!(s(r.rec("E3"), "name"), "👍🏽 Thumbs");
    assert_eq!(s(r.rec("E3"), "company"), "🇨🇳 Flag Co");
}

/// U+200D joins emoji into one glyph (and is meaningful in Indic and
/// Persian text); removing it changes the data.
#[test]
fn emoji_zwj_sequence_is_kept() {
    let r = import_hostile("emoji_zwj_sequence.csv");
    assert_eq!(r.counts(), (1, 1, 0, 0));
    assert_eq!(s(r.rec("Z1"), "name"), "👨\u{200d}👩\u{200d}👧 Family");
}

#[test]
fn hostile_fullwidth_digits_and_letters() {
    let r = import_hostile("fullwidth_digits.csv");
    assert_eq!(r.counts(), (2, 2, 0, 0));
    let f1 = r.rec("F1");
    assert_eq!(list(f1, "phone"), ["+8613800138000"]);
    assert_eq!(list(f1, "email"), ["john@example.com"]);
    assert_eq!(s(f1, "name"), "John Doe");
    assert_eq!(list(r.rec("F2"), "phone"), ["+8613900139000"]);
}

#[test]
fn hostile_unclosed_quote_in_the_middle() {
    let r = import_hostile("unclosed_quote.csv");
    assert_eq!(r.counts(), (4, 3, 0, 1));
    assert!(
        r.reason("U2").contains("unclosed quote"),
        "{}",
        r.reason("U2")
    );
    for (ext, city) in [("U1", "Paris"), ("U3", "Oslo"), ("U4", "Lima")] {
        assert_eq!(s(r.rec(ext), "city"), city);
    }
}

#[test]
fn hostile_semicolon_delimited() {
    let r = import_hostile("semicolon.csv");
    assert_eq!(r.counts(), (2, 2, 0, 0));
    let s1 = r.rec("S1");
    assert_eq!(s(s1, "name"), "Müller, Hans");
    assert_eq!(list(s1, "email"), ["hans@example.de"]);
    assert_eq!(list(s1, "phone"), ["+8613800138005"]);
    assert_eq!(s1["attributes"]["balance"], "1,50");
    assert_eq!(r.rec("S2")["attributes"]["balance"], "2,75");
}

#[test]
fn hostile_tab_delimited() {
    let r = import_hostile("tab_delimited.tsv");
    assert_eq!(r.counts(), (2, 2, 0, 0));
    assert_eq!(s(r.rec("T1"), "city"), "New York, NY");
    assert_eq!(s(r.rec("T2"), "city"), "Paris; France");
    assert_eq!(list(r.rec("T2"), "email"), ["t2@example.com"]);
}

#[test]
fn hostile_json_array() {
    let r = import_hostile("array.json");
    assert_eq!(r.counts(), (4, 2, 0, 2));
    let j1 = r.rec("J1");
    assert_eq!(list(j1, "email"), ["j1@example.com"]);
    assert_eq!(list(j1, "phone"), ["+8613800138004"]);
    assert_eq!(j1["attributes"]["vip"], "true");
    assert_eq!(r.rec("J2")["attributes"]["labels"], r#"["a","b"]"#);
    assert!(!r.reason("J4").is_empty());
}

#[test]
fn hostile_json_lines() {
    let r = import_hostile("lines.jsonl");
    assert_eq!(r.counts(), (5, 2, 0, 3));
    assert_eq!(list(r.rec("L1"), "email"), ["l1@example.com"]);
    assert_eq!(list(r.rec("L2"), "phone"), ["+8613900139001"]);
}

#[test]
fn hostile_stray_byte_rejects_only_its_row() {
    let r = import_hostile("utf8_stray_byte.csv");
    assert_eq!(r.report["encoding"], "utf-8");
    assert_eq!(r.counts(), (4, 3, 0, 1));
    assert!(r.reason("G2").contains("UTF-8"), "{}", r.reason("G2"));
    assert_eq!(s(r.rec("G1"), "name"), "张伟");
    assert_eq!(s(r.rec("G3"), "name"), "王芳");
    assert_eq!(s(r.rec("G4"), "city"), "深圳");
}

// ---------------------------------------------------------------------------
// Encodings, re-imports, revert

/// Imports `bytes` as customers into a fresh database; returns the report
/// and the export with `id` removed (and `created_at` where the source row
/// had no date, since that defaults to the import time).
fn import_and_export(bytes: &[u8], undated: &[&str]) -> (Value, Vec<Value>) {
    let env = Env::new();
    let file = env.write("customers.csv", bytes);
    let report = env.import("customers", &file);
    let mut records = env.export();
    for r in &mut records {
        let m = r.as_object_mut().unwrap();
        m.remove("id");
        if undated.contains(&m["name"].as_str().unwrap()) {
            m.remove("created_at");
        }
    }
    records.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    (report, records)
}

#[test]
fn same_file_in_utf8_and_gbk_gives_the_same_records() {
    let (gbk, _, _) = encoding_rs::GB18030.encode(CHINESE_HEADERS_TEXT);
    let undated = ["欧阳娜娜"];
    let (r_utf8, utf8) = import_and_export(CHINESE_HEADERS_TEXT.as_bytes(), &undated);
    let (r_gbk, gbk) = import_and_export(&gbk, &undated);
    assert_eq!(r_utf8["encoding"], "utf-8");
    assert_eq!(r_gbk["encoding"], "gbk");
    assert_eq!(r_utf8["columns"], r_gbk["columns"]);
    assert_eq!(utf8.len(), 5);
    assert_eq!(utf8, gbk);
    // And a BOM-prefixed UTF-8 copy reads the same too.
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(CHINESE_HEADERS_TEXT.as_bytes());
    let (_, with_bom) = import_and_export(&bom, &undated);
    assert_eq!(utf8, with_bom);
}

#[test]
fn importing_the_same_file_twice_inserts_nothing_the_second_time() {
    let env = Env::new();
    let data = env.generate(
        "data",
        &[
            "--customers",
            "1500",
            "--orders",
            "0",
            "--notes",
            "0",
            "--seed",
            "21",
        ],
    );
    let file = data.join("customers.csv");
    let first = env.import("customers", &file);
    assert_eq!(first["read"], 1500);
    assert!(first["inserted"].as_u64().unwrap() > 1000, "{first}");
    let total = env.total("");
    assert_eq!(total, first["inserted"].as_u64().unwrap());
    let before = env.export();

    let second = env.import("customers", &file);
    assert_eq!(second["inserted"], 0, "{second}");
    assert_eq!(second["read"], first["read"]);
    assert_eq!(second["rejected"], first["rejected"]);
    assert_eq!(second["updated"], second["unchanged"], "{second}");
    assert_eq!(env.total(""), total);
    assert_eq!(env.export(), before, "a re-import changed records");
}

#[test]
fn import_revert_restores_the_previous_export_exactly() {
    let env = Env::new();
    let a = env.write(
        "a.csv",
        "ext_id,name,email,city\n\
         V1,Ann,ann@example.com,Paris\n\
         V2,Bob,bob@example.com,Rome\n\
         V3,Cy,,Oslo\n",
    );
    let b = env.write(
        "b.csv",
        "ext_id,name,email,phone,city,vip\n\
         V1,Ann Lee,ann.lee@example.com,13800138000,Lyon,yes\n\
         V3,Cy,,,Oslo,\n\
         V4,Di,di@example.com,,Lima,no\n",
    );
    let orders = env.write(
        "orders.csv",
        "order_id,customer_id,order_date,amount\n\
         O1,V1,2024-01-02,10.50\n\
         O2,V2,2024-02-03,\"1,000.00\"\n",
    );
    let empty = env.export();
    assert!(empty.is_empty());

    let ra = env.import("customers", &a);
    assert_eq!(
        (ra["inserted"].as_u64(), ra["updated"].as_u64()),
        (Some(3), Some(0))
    );
    let after_a = env.export();

    let rb = env.import("customers", &b);
    assert_eq!(rb["inserted"], 1, "{rb}");
    assert_eq!(rb["updated"], 2, "{rb}");
    assert_eq!(rb["unchanged"], 1, "{rb}");
    let after_b = env.export();
    assert_ne!(after_b, after_a);
    assert_eq!(env.total("'ann.lee"), 1);

    let ro = env.import("orders", &orders);
    assert_eq!(ro["inserted"], 2, "{ro}");
    let after_orders = env.export();
    assert_ne!(after_orders, after_b);

    // Newest first: orders, then the updating import, then the inserting one.
    let rev = env.json(&["import", "revert", &ro["import_id"].to_string()]);
    assert_eq!(rev["removed"], 2, "{rev}");
    assert_eq!(env.export(), after_b);

    let rev = env.json(&["import", "revert", &rb["import_id"].to_string()]);
    assert_eq!(rev["removed"], 1, "{rev}");
    assert_eq!(env.export(), after_a, "revert of an updating import");
    assert_eq!(env.total(""), 3);
    assert_eq!(
        env.total("'ann.lee"),
        0,
        "the search index still has the reverted email"
    );
    assert_eq!(
        env.total("'13800138000"),
        0,
        "the search index still has the reverted phone"
    );
    assert_eq!(env.total("'lima"), 0);
    assert_eq!(env.json(&["check"])["problems"], serde_json::json!([]));

    let rev = env.json(&["import", "revert", &ra["import_id"].to_string()]);
    assert_eq!(rev["removed"], 3, "{rev}");
    assert_eq!(env.export(), empty);
    assert_eq!(env.total(""), 0);

    let list = env.json(&["import", "list"]);
    let imports = list["imports"].as_array().unwrap();
    assert_eq!(imports.len(), 3);
    assert!(imports.iter().all(|i| i["reverted"] == true), "{list}");

    // A second revert is refused as a user error.
    let out = env.run(&["import", "revert", &ra["import_id"].to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("already reverted"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------
// Orders

#[test]
fn orders_link_to_customers_and_unknown_ones_are_rejected_with_no_create_customers() {
    let env = Env::new();
    let data = env.generate(
        "data",
        &[
            "--customers",
            "400",
            "--orders",
            "2500",
            "--notes",
            "0",
            "--seed",
            "5",
            "--locale",
            "en",
        ],
    );
    let customers_csv = data.join("customers.csv");
    let orders_csv = data.join("orders.csv");
    let mut text = std::fs::read_to_string(&orders_csv).unwrap();
    text.push_str(
        "X1,NOPE-1,2024-01-01,10.00,1,CNY,web\n\
         X2,nobody@example.com,2024-01-02,20.00,1,CNY,web\n\
         X3,C9999999,2024-01-03,30.00,1,CNY,web\n",
    );
    std::fs::write(&orders_csv, text).unwrap();

    let rc = env.import("customers", &customers_csv);
    assert_eq!(rc["rejected"], 0, "{rc}");
    let ro = env.import_kind_with("orders", &orders_csv, &["--no-create-customers"]);
    assert_eq!(ro["read"], 2503, "{ro}");
    assert_eq!(ro["customers_created"], 0, "{ro}");
    assert_eq!(ro["rejected"], 3, "{ro}");
    let (_, rows) = read_rejects(Path::new(ro["rejects_file"].as_str().unwrap()));
    let mut rejected_ids: Vec<&str> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    rejected_ids.sort_unstable();
    assert_eq!(rejected_ids, ["X1", "X2", "X3"]);
    for r in &rows {
        assert!(
            r.get(r.len() - 1).unwrap().contains("no such customer"),
            "{r:?}"
        );
    }

    // Expected figures, computed from the CSV.
    #[derive(Default, Debug, PartialEq)]
    struct Fig {
        orders: u64,
        cents: i64,
        days: std::collections::BTreeSet<String>,
    }
    let mut want: BTreeMap<String, Fig> = BTreeMap::new();
    for row in common::read_csv_maps(&orders_csv) {
        if row["order_id"].starts_with('X') {
            continue;
        }
        let f = want.entry(row["customer_id"].clone()).or_default();
        f.orders += 1;
        f.cents += common::cents(&row["amount"]);
        f.days.insert(row["order_date"].clone());
    }
    let got = env.export_by_ext_id();
    assert_eq!(got.len(), 400);
    let mut with_orders = 0;
    for (ext, c) in &got {
        let empty = Fig::default();
        let w = want.get(ext).unwrap_or(&empty);
        assert_eq!(c["orders"].as_u64(), Some(w.orders), "{ext}");
        let spend = (c["spend"].as_f64().unwrap() * 100.0).round() as i64;
        assert_eq!(spend, w.cents, "{ext}");
        assert_eq!(c["order_days"].as_u64(), Some(w.days.len() as u64), "{ext}");
        if w.orders > 0 {
            with_orders += 1;
            assert_eq!(
                c["first_order"].as_str(),
                w.days.first().map(String::as_str)
            );
            assert_eq!(c["last_order"].as_str(), w.days.last().map(String::as_str));
        } else {
            assert!(c["first_order"].is_null());
        }
    }
    assert!(
        with_orders > 100,
        "only {with_orders} customers have orders"
    );
    let total_cents: i64 = want.values().map(|f| f.cents).sum();
    let got_cents: i64 = got
        .values()
        .map(|c| (c["spend"].as_f64().unwrap() * 100.0).round() as i64)
        .sum();
    assert_eq!(got_cents, total_cents);
}

/// A deterministic xorshift stream for generated test logs.
struct Xs(u64);

impl Xs {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Rows of an Online Retail II shaped log (`Invoice, StockCode, Description,
/// Quantity, InvoiceDate, Price, Customer ID, Country`): invoices of 1-40
/// lines, a few cancelled (`C...`, negative quantities), a few without a
/// customer, one invoice across row 5,000 (the batch boundary) and one
/// invoice with a line at the very end of the file, in another batch.
fn online_retail_rows() -> Vec<[String; 8]> {
    let mut rng = Xs(0x5eed_1234_abcd);
    let customers: Vec<String> = (0..180).map(|i| (12346 + i * 7).to_string()).collect();
    let countries = ["United Kingdom", "France", "EIRE", "Germany"];
    let mut rows: Vec<[String; 8]> = Vec::new();
    let mut invoice = 489_434u64;
    while rows.len() < 5_400 {
        let mut n_lines = 1 + rng.next(40) as usize;
        // The invoice that reaches row 5,000 goes on past it.
        let straddles = rows.len() < 5_000 && rows.len() + n_lines >= 5_000;
        if straddles {
            n_lines = n_lines.max(5_003 - rows.len());
        }
        let cancelled = rng.next(12) == 0;
        let customer = if rng.next(15) == 0 && !straddles {
            String::new()
        } else {
            customers[rng.next(customers.len() as u64) as usize].clone()
        };
        let day = 1 + rng.next(28);
        let month = if rng.next(2) == 0 {
            "2009-12"
        } else {
            "2010-01"
        };
        let date = format!(
            "{month}-{day:02} {:02}:{:02}:00",
            7 + rng.next(12),
            rng.next(60)
        );
        let id = if cancelled {
            format!("C{invoice}")
        } else {
            invoice.to_string()
        };
        invoice += 1;
        let country = countries[rng.next(4) as usize];
        for _ in 0..n_lines {
            let qty = 1 + rng.next(48) as i64;
            let qty = if cancelled { -qty } else { qty };
            let cents = 10 + rng.next(2_000);
            rows.push([
                id.clone(),
                format!("{}", 20_000 + rng.next(5_000)),
                "WHITE HANGING HEART, T-LIGHT HOLDER".to_owned(),
                qty.to_string(),
                date.clone(),
                format!("{}.{:02}", cents / 100, cents % 100),
                customer.clone(),
                country.to_owned(),
            ]);
        }
    }
    // A late line of an early invoice (with a customer, not cancelled).
    let early = rows
        .iter()
        .find(|r| !r[6].is_empty() && !r[0].starts_with('C'))
        .cloned()
        .unwrap();
    rows.push(early);
    rows
}

fn write_csv(path: &Path, header: &[&str], rows: &[[String; 8]]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

/// Per-customer figures as an independent computation gives them.
#[derive(Debug, Default, PartialEq)]
struct Figures {
    orders: std::collections::BTreeSet<String>,
    cents: i64,
    days: std::collections::BTreeSet<String>,
}

fn exported_figures(env: &Env) -> BTreeMap<String, (u64, i64, u64, Value, Value)> {
    env.export_by_ext_id()
        .into_iter()
        .map(|(ext, c)| {
            let spend = (c["spend"].as_f64().unwrap() * 100.0).round() as i64;
            let fig = (
                c["orders"].as_u64().unwrap(),
                spend,
                c["order_days"].as_u64().unwrap(),
                c["first_order"].clone(),
                c["last_order"].clone(),
            );
            (ext, fig)
        })
        .collect()
}

fn expected_figures(
    want: &BTreeMap<String, Figures>,
) -> BTreeMap<String, (u64, i64, u64, Value, Value)> {
    want.iter()
        .map(|(ext, f)| {
            let fig = (
                f.orders.len() as u64,
                f.cents,
                f.days.len() as u64,
                Value::from(f.days.first().unwrap().as_str()),
                Value::from(f.days.last().unwrap().as_str()),
            );
            (ext.clone(), fig)
        })
        .collect()
}

const RETAIL_HEADER: &[&str] = &[
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
];

const RETAIL_MAPS: &[&str] = &[
    "--map",
    "Invoice=order_id",
    "--map",
    "InvoiceDate=order_date",
    "--map",
    "Price=unit_price",
    "--map",
    "Customer ID=customer",
];

/// An Online Retail II shaped log imports into exactly the figures computed
/// from the CSV itself; a re-import changes nothing; the reverts leave the
/// database empty.
#[test]
fn online_retail_line_items_give_the_independently_computed_figures() {
    let env = Env::new();
    let rows = online_retail_rows();
    let file = env.path("online_retail_II.csv");
    write_csv(&file, RETAIL_HEADER, &rows);

    // Independent figures: spend is the sum of quantity x price over the
    // rows with a customer; order days are the distinct invoice dates.
    let mut want: BTreeMap<String, Figures> = BTreeMap::new();
    let mut no_customer = 0u64;
    let read = common::read_csv_maps(&file);
    for r in &read {
        if r["Customer ID"].is_empty() {
            no_customer += 1;
            continue;
        }
        let f = want.entry(r["Customer ID"].clone()).or_default();
        f.orders.insert(r["Invoice"].clone());
        f.cents += r["Quantity"].parse::<i64>().unwrap() * common::cents(&r["Price"]);
        f.days.insert(r["InvoiceDate"][..10].to_owned());
    }
    let invoices: std::collections::BTreeSet<&str> = read
        .iter()
        .filter(|r| !r["Customer ID"].is_empty())
        .map(|r| r["Invoice"].as_str())
        .collect();
    // The test proves something only if an invoice spans the batch boundary.
    assert_eq!(read[4_999]["Invoice"], read[5_000]["Invoice"]);
    assert_ne!(read[4_999]["Customer ID"], "");
    assert!(read.iter().any(|r| r["Quantity"].starts_with('-')));
    assert!(no_customer > 0);

    let r1 = env.import_kind_with("orders", &file, RETAIL_MAPS);
    assert_eq!(r1["read"], read.len() as u64, "{r1}");
    assert_eq!(r1["rejected"], no_customer, "{r1}");
    assert_eq!(r1["inserted"], invoices.len() as u64, "{r1}");
    assert_eq!(r1["customers_created"], want.len() as u64, "{r1}");
    let (_, rejects) = read_rejects(Path::new(r1["rejects_file"].as_str().unwrap()));
    assert_eq!(rejects.len() as u64, no_customer);
    for r in &rejects {
        assert_eq!(r.get(6), Some(""), "{r:?}");
        assert!(
            r.get(r.len() - 1).unwrap().contains("no customer given"),
            "{r:?}"
        );
    }
    let samples = r1["warning_samples"].to_string();
    assert!(
        samples.contains("is negative (a return or cancellation)"),
        "{samples}"
    );

    let expected = expected_figures(&want);
    let got = exported_figures(&env);
    assert_eq!(got.len(), want.len());
    for (ext, w) in &expected {
        assert_eq!(got.get(ext), Some(w), "customer {ext}");
    }
    let export_after_first = env.export();
    for c in &export_after_first {
        assert!(c["name"].is_null(), "no name is made up: {c}");
        assert_eq!(c["source"], "orders import", "{c}");
    }

    // The same file again: identical figures, every accepted row updated.
    let r2 = env.import_kind_with("orders", &file, RETAIL_MAPS);
    assert_eq!(r2["inserted"], 0, "{r2}");
    assert_eq!(r2["updated"], read.len() as u64 - no_customer, "{r2}");
    assert_eq!(r2["customers_created"], 0, "{r2}");
    assert_eq!(env.export(), export_after_first);

    env.json(&["import", "revert", &r2["import_id"].to_string()]);
    assert_eq!(env.export(), export_after_first);
    let rev = env.json(&["import", "revert", &r1["import_id"].to_string()]);
    assert_eq!(
        rev["removed"],
        (invoices.len() + want.len()) as u64,
        "orders and created customers: {rev}"
    );
    assert!(env.export().is_empty());
    assert_eq!(env.total(""), 0);
    assert_eq!(env.json(&["check"])["problems"], serde_json::json!([]));
}

/// With --no-create-customers an order log alone imports nothing: every
/// row names an unknown customer (or none) and says so.
#[test]
fn online_retail_with_no_create_customers_rejects_every_row() {
    let env = Env::new();
    let rows: Vec<[String; 8]> = online_retail_rows().into_iter().take(300).collect();
    let file = env.path("retail.csv");
    write_csv(&file, RETAIL_HEADER, &rows);
    let mut args = RETAIL_MAPS.to_vec();
    args.push("--no-create-customers");
    let r = env.import_kind_with("orders", &file, &args);
    assert_eq!(r["read"], 300, "{r}");
    assert_eq!(r["rejected"], 300, "{r}");
    assert_eq!(r["customers_created"], 0, "{r}");
    let (_, rejects) = read_rejects(Path::new(r["rejects_file"].as_str().unwrap()));
    for row in &rejects {
        let reason = row.get(row.len() - 1).unwrap();
        assert!(
            reason.contains("no such customer") || reason.contains("no customer given"),
            "{reason}"
        );
    }
    assert!(env.export().is_empty());

    // The text summary names the created customers too.
    let out = env.run(&["import", "orders", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("customers created"), "{text}");
}

/// A CDNOW shaped log (customer id, date as yyyymmdd, quantity, amount; no
/// order id) gives the figures a per-customer sum of the rows gives, even
/// where two rows are identical (two purchases, not one repeated).
#[test]
fn cdnow_shaped_log_without_order_ids_gives_the_summed_figures() {
    let env = Env::new();
    let mut rng = Xs(0xcd_0001);
    let mut text = "customer_id,date,quantity,amount\n".to_owned();
    let mut rows = Vec::new();
    for _ in 0..600 {
        let cust = format!("{:05}", 1 + rng.next(90));
        let date = format!("1997{:02}{:02}", 1 + rng.next(6), 1 + rng.next(28));
        let qty = 1 + rng.next(5);
        let cents = 500 + rng.next(9_000);
        rows.push(format!(
            "{cust},{date},{qty},{}.{:02}",
            cents / 100,
            cents % 100
        ));
    }
    // Identical rows, and whitespace around a date.
    rows.push(rows[10].clone());
    rows.push(rows[10].clone());
    let (c, d) = {
        let f: Vec<&str> = rows[20].split(',').collect();
        (f[0].to_owned(), f[1].to_owned())
    };
    rows.push(format!("{c},  {d} ,1,1.00"));
    for r in &rows {
        text.push_str(r);
        text.push('\n');
    }
    let file = env.write("CDNOW_sample.csv", &text);

    let mut want: BTreeMap<String, Figures> = BTreeMap::new();
    for r in &rows {
        let f: Vec<&str> = r.split(',').collect();
        let w = want.entry(f[0].to_owned()).or_default();
        w.cents += common::cents(f[3]);
        let day = f[1].trim();
        w.days
            .insert(format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..]));
    }
    let r1 = env.import("orders", &file);
    assert_eq!(r1["rejected"], 0, "{r1}");
    assert_eq!(r1["customers_created"], want.len() as u64, "{r1}");
    let got = exported_figures(&env);
    assert_eq!(got.len(), want.len());
    for (ext, w) in &want {
        let (_, cents, days, first, last) = &got[ext];
        assert_eq!(*cents, w.cents, "spend of {ext}");
        assert_eq!(*days, w.days.len() as u64, "order days of {ext}");
        assert_eq!(first.as_str(), w.days.first().map(String::as_str), "{ext}");
        assert_eq!(last.as_str(), w.days.last().map(String::as_str), "{ext}");
    }
    let before = env.export();
    let r2 = env.import("orders", &file);
    assert_eq!(r2["inserted"], 0, "{r2}");
    assert_eq!(env.export(), before);
}

// ---------------------------------------------------------------------------
// Locking, errors, export safety, permissions

#[test]
fn second_process_on_an_open_database_gets_in_use_error_exit_2() {
    use rolo::store::{OpenOptions, Store};
    let env = Env::new();
    let file = env.write("c.csv", "name,email\nAnn,ann@example.com\n");
    env.import("customers", &file);
    let store = Store::open(&env.db, &OpenOptions::default()).expect("open in the test");
    for args in [
        vec!["search", "x"],
        vec!["import", "customers", file.to_str().unwrap()],
        vec!["export", "customers"],
    ] {
        let out = env.run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("in use by another rolo process"),
            "{args:?}: {err}"
        );
        assert!(err.contains(env.db.to_str().unwrap()), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    drop(store);
    assert_eq!(env.total(""), 1, "the database works again once released");
}

fn one_line_error(out: &std::process::Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "exit code: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("rolo: "), "{err}");
    assert!(out.stdout.is_empty(), "stdout not empty on error");
    err
}

#[test]
fn exit_codes_and_error_messages() {
    let env = Env::new();
    let missing = env.path("no-such-file.csv");
    let err =
        one_line_error(&env.run(&["import", "customers", missing.to_str().unwrap(), "--json"]));
    assert!(err.contains(missing.to_str().unwrap()), "{err}");

    let file = env.write("c.csv", "Full Name,Cell\nAnn,13800138000\n");
    let err = one_line_error(&env.run(&[
        "import",
        "customers",
        file.to_str().unwrap(),
        "--map",
        "Full Name=nmae",
    ]));
    assert!(err.contains("nmae"), "{err}");
    for field in ["ext_id", "name", "email", "phone", "created_at"] {
        assert!(err.contains(field), "valid fields not listed: {err}");
    }
    let err = one_line_error(&env.run(&[
        "import",
        "customers",
        file.to_str().unwrap(),
        "--map",
        "Mobile=phone",
    ]));
    assert!(err.contains("Full Name") && err.contains("Cell"), "{err}");
    // The right mapping works.
    let r = env.import_with(&file, &["--map", "Full Name=name", "--map", "Cell=phone"]);
    assert_eq!(r["inserted"], 1, "{r}");

    let err = one_line_error(&env.run(&["search", "city:"]));
    assert!(err.contains("column"), "{err}");
    let err = one_line_error(&env.run(&["search", "(city:x", "--json"]));
    assert!(err.contains("column"), "{err}");

    let err = one_line_error(&env.run(&[
        "--read-only",
        "import",
        "customers",
        file.to_str().unwrap(),
        "--map",
        "Full Name=name",
    ]));
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(env.total(""), 1, "a read-only import changed data");

    let err = one_line_error(&env.run(&["--yes", "restore", "missing.rolobak"]));
    assert!(err.contains("missing.rolobak"), "{err}");

    let err = one_line_error(&env.run(&["frobnicate"]));
    assert!(err.contains("frobnicate"), "{err}");
}

#[test]
fn json_flag_prints_exactly_one_document_before_or_after_the_command() {
    let env = Env::new();
    let file = env.write(
        "c.csv",
        "name,email\nAnn,ann@example.com\nBob,bob@example.com\n",
    );
    let db = env.db.to_str().unwrap();
    let f = file.to_str().unwrap();
    let before = rolo()
        .args(["--json", "--db", db, "import", "customers", f])
        .output()
        .unwrap();
    assert!(before.status.success(), "{}", stderr(&before));
    let doc = single_json(&before.stdout);
    assert_eq!(doc["inserted"], 2);
    for args in [
        vec!["import", "customers", f],
        vec!["import", "list"],
        vec!["search", "ann"],
        vec!["search", ""],
        vec!["check"],
        vec!["reindex"],
        vec!["compact"],
    ] {
        let after = env.json(&args);
        assert!(after.is_object(), "{args:?}: {after}");
    }
    let s = env.search("ann", 10);
    assert_eq!(s["total"], 1);
    assert_eq!(s["hits"][0]["name"], "Ann");
    let gen_out = rolo()
        .args(["gen", "--customers", "10", "--json", "-o"])
        .arg(env.path("g"))
        .output()
        .unwrap();
    assert!(gen_out.status.success());
    assert_eq!(single_json(&gen_out.stdout)["customers"], 10);
}

#[test]
fn export_neutralises_formulas_but_not_phone_numbers() {
    let env = Env::new();
    let file = env.write(
        "c.csv",
        "ext_id,name,company,phone,title\n\
         X1,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",@SUM(1),+8613800138000,-2+3+cmd|x\n\
         X2,Plain Name,Acme,13900139000,Manager\n",
    );
    env.import("customers", &file);
    let text = env.export_csv();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let headers = rd.headers().unwrap().clone();
    let col = |h: &str| headers.iter().position(|x| x == h).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let x1 = rows
        .iter()
        .find(|r| r.get(col("ext_id")) == Some("X1"))
        .unwrap();
    assert_eq!(&x1[col("name")], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(&x1[col("company")], "'@SUM(1)");
    assert_eq!(&x1[col("phone")], "+8613800138000");
    assert_eq!(&x1[col("title")], "'-2+3+cmd|x");
    let x2 = rows
        .iter()
        .find(|r| r.get(col("ext_id")) == Some("X2"))
        .unwrap();
    assert_eq!(&x2[col("name")], "Plain Name");
    assert_eq!(&x2[col("phone")], "+8613900139000");
    assert_eq!(&x2[col("spend")], "0.00");
    // JSON is data, not a spreadsheet: values stay as stored.
    let json = env.export_by_ext_id();
    assert_eq!(json["X1"]["name"], "=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(json["X1"]["company"], "@SUM(1)");
}

fn assert_private(dir: &Path) -> usize {
    use std::os::unix::fs::PermissionsExt;
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{} is {mode:o}", entry.path().display());
            files += assert_private(&entry.path());
        } else {
            assert_eq!(mode, 0o600, "{} is {mode:o}", entry.path().display());
            files += 1;
        }
    }
    files
}

#[test]
fn database_folder_is_0700_and_its_files_0600_under_umask_022() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let file = env.write("c.csv", "name,email\nAnn,ann@example.com\n");
    // Run under the usual umask explicitly (this test process's own umask
    // may have been tightened by another test opening a Store).
    let run = |db: &Path| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("umask 022 && exec \"$0\" \"$@\"")
            .arg(common::bin())
            .args(["import", "customers"])
            .arg(&file)
            .arg("--db")
            .arg(db)
            .env("NO_COLOR", "1")
            .env_remove("ROLO_DB")
            .output()
            .unwrap();
        assert_no_panic(&out);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let fresh = env.path("fresh/db");
    run(&fresh);
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(assert_private(&fresh) >= 2, "sled wrote no files?");

    // An existing empty folder made with the usual 0755 is tightened.
    let existing = env.path("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o755)).unwrap();
    run(&existing);
    let mode = std::fs::metadata(&existing).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(assert_private(&existing) >= 2);
}

// ---------------------------------------------------------------------------
// Crash safety

#[test]
fn sigkill_during_import_keeps_only_whole_batches() {
    const ROWS: u64 = 200_000;
    const BATCH: u64 = 5_000;
    let env = Env::new();
    let data = env.generate(
        "data",
        &[
            "--customers",
            &ROWS.to_string(),
            "--orders",
            "0",
            "--notes",
            "0",
            "--seed",
            "13",
        ],
    );
    let file = data.join("customers.csv");
    let distinct: std::collections::HashSet<String> = common::read_csv_maps(&file)
        .into_iter()
        .map(|r| r["ext_id"].clone())
        .collect();
    assert_eq!(
        distinct.len() as u64,
        ROWS,
        "generated ext_ids are not unique"
    );

    let mut partial = Vec::new();
    for (trial, delay_ms) in [150u64, 600, 1200, 1800].into_iter().enumerate() {
        let db = env.path(&format!("db{trial}"));
        let mut child = rolo_std()
            .args(["import", "customers"])
            .arg(&file)
            .arg("--db")
            .arg(&db)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished_early = child.try_wait().unwrap().is_some();
        child.kill().unwrap_or(()); // SIGKILL
        child.wait().unwrap();
        assert!(
            !finished_early,
            "the import finished within {delay_ms} ms: use a bigger file"
        );

        let dbs = db.to_str().unwrap();
        let check = rolo()
            .args(["check", "--json", "--db", dbs])
            .output()
            .unwrap();
        assert_no_panic(&check);
        assert!(
            check.status.success(),
            "trial {trial} ({delay_ms} ms): reopen/check failed: {} {}",
            stderr(&check),
            String::from_utf8_lossy(&check.stdout)
        );
        assert_eq!(
            single_json(&check.stdout)["problems"],
            serde_json::json!([])
        );

        let list = rolo()
            .args(["import", "list", "--json", "--db", dbs])
            .output()
            .unwrap();
        assert!(list.status.success(), "{}", stderr(&list));
        let list = single_json(&list.stdout);
        let imports = list["imports"].as_array().unwrap();
        assert!(imports.len() <= 1, "{list}");
        let (read, inserted) = match imports.first() {
            None => (0, 0),
            Some(i) => {
                let read = i["read"].as_u64().unwrap();
                let inserted = i["inserted"].as_u64().unwrap();
                assert_eq!(
                    read,
                    inserted + i["updated"].as_u64().unwrap() + i["rejected"].as_u64().unwrap()
                );
                assert!(
                    read % BATCH == 0 || read == ROWS,
                    "trial {trial}: committed read {read} is not whole batches"
                );
                assert_eq!(i["finished"], read == ROWS, "{i}");
                (read, inserted)
            }
        };
        let search = rolo()
            .args(["search", "", "--json", "--db", dbs])
            .output()
            .unwrap();
        assert!(search.status.success(), "{}", stderr(&search));
        assert_eq!(
            single_json(&search.stdout)["total"].as_u64(),
            Some(inserted),
            "trial {trial} ({delay_ms} ms): customers on disk != committed inserts"
        );
        eprintln!("trial {trial}: SIGKILL after {delay_ms} ms, {read} rows committed");
        if read > 0 && read < ROWS {
            partial.push((db, inserted));
        }
    }
    assert!(
        !partial.is_empty(),
        "no kill landed between batches; the test proved nothing"
    );

    // Reverting a killed import takes back its committed batches.
    if partial.len() >= 2 {
        let (db, _) = partial.remove(0);
        let out = rolo()
            .args(["import", "revert", "1", "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        assert_no_panic(&out);
        assert!(out.status.success(), "{}", stderr(&out));
        let search = rolo()
            .args(["search", "", "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        assert_eq!(single_json(&search.stdout)["total"], 0);
        let check = rolo()
            .args(["check", "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        assert!(check.status.success(), "{}", stderr(&check));
    }

    // Finishing the import after a crash: the total is the file's customers.
    let (db, committed) = partial.pop().unwrap();
    let out = rolo()
        .args(["import", "customers"])
        .arg(&file)
        .args(["--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = single_json(&out.stdout);
    common::assert_counts_add_up(&r);
    assert_eq!(r["inserted"].as_u64(), Some(ROWS - committed), "{r}");
    let search = rolo()
        .args(["search", "", "--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(
        single_json(&search.stdout)["total"].as_u64(),
        Some(distinct.len() as u64)
    );
}

/// SIGTERM (like SIGINT and SIGHUP) stops an import at the next batch
/// boundary: the committed batches are kept and reported, exit 2.
#[test]
fn sigterm_during_import_stops_at_a_batch_boundary() {
    let env = Env::new();
    let data = env.generate(
        "data",
        &[
            "--customers",
            "200000",
            "--orders",
            "0",
            "--notes",
            "0",
            "--seed",
            "17",
        ],
    );
    let file = data.join("customers.csv");
    // A loaded machine may not have committed a batch by the first signal:
    // then try again on a fresh database, waiting longer.
    for (attempt, wait_ms) in [700u64, 1500, 3000].into_iter().enumerate() {
        let db = env.path(&format!("db-term-{attempt}"));
        let child = rolo_std()
            .args(["import", "customers"])
            .arg(&file)
            .arg("--json")
            .arg("--db")
            .arg(&db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(
            kill.success(),
            "the import finished before SIGTERM: use a bigger file"
        );
        let out = child.wait_with_output().unwrap();
        assert_no_panic(&out);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("interrupted"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        let r = single_json(&out.stdout);
        assert_eq!(r["interrupted"], true, "{r}");
        let read = r["read"].as_u64().unwrap();
        if read == 0 {
            continue;
        }
        assert!(read < 200_000 && read % 5000 == 0, "{r}");
        let json = |args: &[&str]| {
            let out = rolo()
                .arg("--db")
                .arg(&db)
                .arg("--json")
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
            single_json(&out.stdout)
        };
        let list = json(&["import", "list"]);
        assert_eq!(list["imports"][0]["read"].as_u64(), Some(read), "{list}");
        assert_eq!(list["imports"][0]["finished"], false);
        let all = json(&["search", ""]);
        assert_eq!(all["total"], r["inserted"], "{all}");
        return;
    }
    panic!("no batch was committed before SIGTERM, even after 3 s");
}

/// `rolo export ... | head` closes stdout early: that is not an error.
#[test]
fn export_into_a_closed_pipe_exits_quietly() {
    use std::io::Read;
    let env = Env::new();
    let data = env.generate(
        "data",
        &["--customers", "2000", "--orders", "0", "--notes", "0"],
    );
    env.import("customers", &data.join("customers.csv"));
    for format in ["json", "csv"] {
        let mut child = rolo_std()
            .args(["export", "customers", "--format", format, "--db"])
            .arg(&env.db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        assert_no_panic(&out);
        assert_eq!(
            (out.status.code(), stderr(&out).as_str()),
            (Some(0), ""),
            "{format}"
        );
    }
}

/// Text output quotes data (header names, values in warnings and errors):
/// escape sequences in it reach the terminal as visible placeholders only.
#[test]
fn text_output_never_carries_escape_sequences_from_the_data() {
    let env = Env::new();
    let file = env.write(
        "esc.csv",
        "ext_id,name,vip\x1b[5mlevel,email\n\
         E1,Evil\x1b]0;pwned\x07Name,1,bad\x1b[2J@@x\n",
    );
    let f = file.to_str().unwrap();
    let outs = [
        env.run(&["import", "customers", f]),
        env.run(&["search", "evil"]),
        env.run(&["search", "city:\x1b[31m("]),
        env.run(&["import", "customers", "/nonexistent/\x1b[31m.csv"]),
    ];
    for out in &outs {
        assert_no_panic(out);
        for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !bytes.contains(&0x1b) && !bytes.contains(&0x07),
                "{name} carries a raw escape: {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    let text = String::from_utf8_lossy(&outs[0].stdout);
    assert!(text.contains("vip\u{241b}[5mlevel"), "{text}");
}

/// Record-linkage data often has rows whose names are lost but whose source
/// id, address and birth date remain: they are customers to compare, not
/// rejects. A source id alone (or with blanks) still identifies nothing.
#[test]
fn a_row_known_by_its_ext_id_and_details_is_kept_one_with_the_id_alone_is_not() {
    let env = Env::new();
    let f = env.write(
        "c.csv",
        "ext_id,name,street,postcode,birth_date\n\
         R1,,12 Hill St,2602,1971-03-04\n\
         R2,,,,\n\
         R3,Ann Lee,,,\n",
    );
    let r = env.json(&["import", "customers", f.to_str().unwrap()]);
    assert_eq!(
        (r["inserted"].as_u64(), r["rejected"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    let rows = env.export();
    let r1 = rows.iter().find(|c| c["ext_id"] == "R1").expect("R1 kept");
    assert_eq!(r1["postcode"], "2602", "{r1}");
    assert!(rows.iter().all(|c| c["ext_id"] != "R2"));
    assert_eq!(env.total("R1"), 1, "found by its id");
}
