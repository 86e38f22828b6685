//! `rolo erase`: after erasing two people (one with a Latin name, one with
//! a Chinese one) whose values went through imports, re-imports, orders,
//! notes, edits, trash and restore, tags and undo batches, no command shows
//! any of their values and no byte of any file under the database folder
//! holds them; everyone else is untouched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, rolo, stderr};
use rolo::model::{CustomerId, NoteKind};
use rolo::store::{OpenOptions, Store};
use serde_json::Value;
use std::path::Path;

/// The values of the two people to erase, as they appear in records,
/// indexes and logs (names, lower-cased names and pinyin as the search
/// index holds them, emails, phones in E.164 and national form).
const LATIN: [&str; 6] = [
    "Quintessa",
    "Vandermolen",
    "quintessa",
    "quintessa.v@example.net",
    "+8613912345678",
    "13912345678",
];
const CHINESE: [&str; 5] = [
    "欧阳娜娜",
    "ouyangnana",
    "ouyang.nana@example.cn",
    "+8613787654321",
    "13787654321",
];

fn all_values() -> Vec<&'static str> {
    LATIN.iter().chain(&CHINESE).copied().collect()
}

const PEOPLE: &str = "ext_id,name,email,phone,city\n\
E-1,Quintessa Vandermolen,quintessa.v@example.net,13912345678,Paris\n\
E-2,欧阳娜娜,ouyang.nana@example.cn,13787654321,北京\n\
E-3,Ann Lee,ann@example.com,13800138000,Rome\n\
E-4,李娜,lina@example.cn,13600136000,上海\n";

/// A re-import that updates both: its undo batch holds their old records.
const PEOPLE_AGAIN: &str = "ext_id,name,email,phone,city\n\
E-1,Quintessa Vandermolen,quintessa.v@example.net,13912345678,Lyon\n\
E-2,欧阳娜娜,ouyang.nana@example.cn,13787654321,天津\n";

/// Orders with a free-form column naming the person (an order attribute).
const ORDERS: &str = "order_id,customer_id,order_date,amount,gift_to\n\
O-1,E-1,2024-05-01,120.50,Quintessa Vandermolen\n\
O-2,E-2,2024-05-02,88.00,欧阳娜娜 13787654321\n\
O-3,E-3,2024-05-03,10.00,\n";

const NOTES: &str = "customer_id,at,kind,text\n\
E-1,2024-05-04 10:00,call,Quintessa asked to write to quintessa.v@example.net\n\
E-2,2024-05-05 11:00,visit,欧阳娜娜 came by\n\
E-3,2024-05-06 12:00,call,Ann is happy\n";

/// Every occurrence of any of `values` in the files under `dir`: (file, value).
fn byte_hits(dir: &Path, values: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            for v in values {
                if memchr::memmem::find(&bytes, v.as_bytes()).is_some() {
                    out.push((p.display().to_string(), (*v).to_owned()));
                }
            }
        }
    }
    out
}

/// Fails when `text` (what a command showed) holds one of the values.
fn assert_clean(what: &str, text: &str) {
    for v in all_values() {
        assert!(!text.contains(v), "`{what}` still shows {v:?}:\n{text}");
    }
}

fn text_of(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn hit_ids(env: &Env, q: &str) -> Vec<u64> {
    env.search(q, 100)["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn erase_removes_every_value_from_every_command_and_every_file() {
    let env = Env::new();
    env.import("customers", &env.write("people.csv", PEOPLE));
    env.import("customers", &env.write("again.csv", PEOPLE_AGAIN));
    env.import("orders", &env.write("orders.csv", ORDERS));
    env.import("notes", &env.write("notes.csv", NOTES));
    let ids = env.export_by_ext_id();
    let id = |ext: &str| ids[ext]["id"].as_u64().unwrap();
    let (latin, chinese, ann) = (id("E-1"), id("E-2"), id("E-3"));
    env.json(&[
        "tag",
        "add",
        "vip",
        "--id",
        &latin.to_string(),
        "--id",
        &chinese.to_string(),
    ]);
    {
        // Edits, trash and restore, a note by hand: audit events that carry
        // whole records and values.
        let store = Store::open(&env.db, &OpenOptions::default()).unwrap();
        let mut c = store.require_customer(CustomerId(latin)).unwrap();
        c.company = Some("Vandermolen Holdings".into());
        c.emails.push("q.vandermolen@example.org".into());
        store.update_customer(&c).unwrap();
        store
            .add_customer_note(
                CustomerId(latin),
                NoteKind::Email,
                "Quintessa replied",
                None,
            )
            .unwrap();
        store.trash_customer(CustomerId(chinese)).unwrap();
        store.restore_customer(CustomerId(chinese)).unwrap();
        store.trash_customer(CustomerId(latin)).unwrap();
    }

    // Not vacuous: before the erasure the values are found everywhere.
    for v in all_values() {
        assert!(
            !byte_hits(&env.db, &[v]).is_empty(),
            "{v} is not in the database before the erasure"
        );
    }
    for q in [
        "欧阳娜娜",
        "ouyang.nana@example.cn",
        "13787654321",
        "'654321",
    ] {
        assert!(hit_ids(&env, q).contains(&chinese), "{q} finds nobody");
    }
    assert!(text_of(&env, &["trash", "list"]).contains("Quintessa"));
    assert!(text_of(&env, &["history", &latin.to_string()]).contains("Quintessa"));

    // Destructive: without a terminal it needs --yes.
    let out = env.run(&["erase", &latin.to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));

    for who in [latin, chinese] {
        let r = env.json(&["erase", &who.to_string(), "--yes"]);
        assert_eq!(r["erased"], who, "{r}");
        assert_eq!(r["compacted"], true, "{r}");
        assert_eq!(r["orders_kept"], 1, "{r}");
        assert!(r["audit_events_scrubbed"].as_u64().unwrap() >= 1, "{r}");
        assert!(r["undo_batches_scrubbed"].as_u64().unwrap() >= 1, "{r}");
    }

    for q in [
        "quintessa",
        "vandermolen",
        "quintessa.v@example.net",
        "'quintessa",
        "13912345678",
        "+8613912345678",
        "'345678",
        "欧阳娜娜",
        "ouyangnana",
        "oynn",
        "ouyang.nana@example.cn",
        "13787654321",
        "'654321",
        "tag:vip",
    ] {
        let hits = hit_ids(&env, q);
        assert!(
            !hits.contains(&latin) && !hits.contains(&chinese),
            "`{q}` still finds an erased customer: {hits:?}"
        );
    }
    // Everyone else is untouched.
    assert_eq!(hit_ids(&env, "ann lee"), [ann]);
    assert!(hit_ids(&env, "李娜").contains(&id("E-4")));

    assert_clean("export csv", &env.export_csv());
    assert_clean(
        "export json",
        &serde_json::to_string(&env.export()).unwrap(),
    );
    for who in [latin, chinese] {
        let h = text_of(&env, &["history", &who.to_string()]);
        assert_clean("history", &h);
        assert!(h.contains("erased"), "{h}");
        let hj = env.json(&["history", &who.to_string()]);
        assert_clean("history --json", &hj.to_string());
        assert!(hj["erased"].is_string(), "{hj}");
        let ops: Vec<&str> = hj["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["op"].as_str().unwrap())
            .collect();
        assert_eq!(ops.last(), Some(&"erase"), "{hj}");
    }
    assert_clean("audit", &text_of(&env, &["audit"]));
    assert_clean("audit --json", &env.json(&["audit"]).to_string());
    assert_clean("trash list", &text_of(&env, &["trash", "list"]));
    assert_clean(
        "trash list --json",
        &env.json(&["trash", "list"]).to_string(),
    );
    assert_clean(
        "import list --json",
        &env.json(&["import", "list"]).to_string(),
    );
    assert_eq!(env.json(&["check"])["problems"], Value::Array(Vec::new()));

    // Erased ids stay taken and say so.
    let out = env.run(&["trash", "restore", &latin.to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("erased"), "{}", stderr(&out));
    let out = env.run(&["erase", &latin.to_string(), "--yes"]);
    assert_eq!(out.status.code(), Some(2));

    // The erase compacted the files: no byte of any value is left.
    let left = byte_hits(&env.db, &all_values());
    assert!(left.is_empty(), "values left on disk: {left:?}");
    // And the revenue of the kept orders did not go anywhere: the books
    // still hold both orders' amounts (Ann's order is untouched).
    let store = Store::open(&env.db, &OpenOptions::default()).unwrap();
    let amounts: Vec<i64> = [latin, chinese, ann]
        .iter()
        .map(|i| store.stats(CustomerId(*i)).unwrap().spend_minor)
        .collect();
    assert_eq!(amounts, [12050, 8800, 1000]);
    assert!(
        store.orders_of(CustomerId(latin)).unwrap()[0]
            .attrs
            .is_empty()
    );
}

#[test]
fn erase_without_compaction_says_to_compact() {
    let env = Env::new();
    env.import("customers", &env.write("people.csv", PEOPLE));
    let id = env.export_by_ext_id()["E-3"]["id"].as_u64().unwrap();
    let out = rolo()
        .args(["erase", &id.to_string(), "--yes", "--no-compact", "--db"])
        .arg(&env.db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("rolo compact"), "{text}");
    let r = env.json(&["compact"]);
    assert!(r["keys"].as_u64().unwrap() > 0, "{r}");
    assert!(byte_hits(&env.db, &["ann@example.com", "Ann Lee"]).is_empty());
}

/// A person merged from two records: erasing the survivor erases the
/// record merged into it too, and the merge record's before-images.
#[test]
fn erasing_a_merged_person_leaves_no_copy_in_merge_records() {
    let env = Env::new();
    let people = "ext_id,name,email,phone\n\
M-1,Zebulon Quartermaine,zebulon@example.org,13911112222\n\
M-2,Zeb Quartermaine,zq.alt@example.org,13933334444\n\
M-3,Ann Lee,ann@example.com,13800138000\n";
    env.import("customers", &env.write("m.csv", people));
    let ids = env.export_by_ext_id();
    let (a, b) = (
        ids["M-1"]["id"].as_u64().unwrap(),
        ids["M-2"]["id"].as_u64().unwrap(),
    );
    {
        let store = Store::open(&env.db, &OpenOptions::default()).unwrap();
        store
            .merge(&rolo::store::MergePlan {
                survivor: CustomerId(a),
                others: vec![CustomerId(b)],
                picks: Vec::new(),
            })
            .unwrap();
    }
    let out = rolo()
        .args(["erase", &a.to_string(), "--yes", "--db"])
        .arg(&env.db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let values = [
        "Zebulon",
        "Quartermaine",
        "zebulon@example.org",
        "zq.alt@example.org",
        "13933334444",
    ];
    let left = byte_hits(&env.db, &values);
    assert!(left.is_empty(), "{left:?}");
    assert!(
        !byte_hits(&env.db, &["ann@example.com"]).is_empty(),
        "others stay"
    );
    let hits = env.json(&["search", "zq.alt"]);
    assert_eq!(hits["total"], 0);
}
