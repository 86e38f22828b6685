//! `rolo check` finds a deliberately corrupted index entry, a record with a
//! wrong derived figure and a missing identity chunk, names each, and
//! `rolo check --repair` rebuilds them from the records without touching
//! the records themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, open_raw, single_json};

const CUSTOMERS: &str = "ext_id,name,email\n\
C1,Zhang Wei,zw@example.com\n\
C2,Li Na,ln@example.com\n\
C3,Wang Fang,wf@example.com\n";

const ORDERS: &str = "order_id,customer_id,order_date,amount\n\
O1,C1,2025-01-02,10.00\n\
O2,C1,2025-02-03,20.00\n\
O3,C1,2025-03-04,30.00\n\
O4,C2,2025-01-05,99.00\n";

fn key(prefix: u8, id: u64) -> Vec<u8> {
    let mut k = vec![prefix];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// The problems `rolo check --json` reports (it exits 2 when there are any).
fn problems(env: &Env) -> Vec<String> {
    let out = env.run(&["check", "--json"]);
    let doc = single_json(&out.stdout);
    let found = doc["problems"].as_array().expect("problems").len();
    assert_eq!(
        out.status.code(),
        Some(if found == 0 { 0 } else { 2 }),
        "{doc}"
    );
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn check_names_corruption_and_repair_rebuilds_it() {
    let env = Env::new();
    let c = env.write("c.csv", CUSTOMERS);
    let o = env.write("o.csv", ORDERS);
    env.import("customers", &c);
    env.import("orders", &o);
    assert_eq!(problems(&env), Vec::<String>::new());
    env.json(&["tag", "add", "real", "--id", "3"]);
    let before = env.export();
    let stats_of = |v: &[serde_json::Value], ext: &str| {
        v.iter()
            .find(|c| c["ext_id"] == ext)
            .map(|c| (c["orders"].clone(), c["spend"].clone()))
    };

    {
        let raw = open_raw(&env.db);
        // 1. An index entry for a tag nobody carries, naming customer 3:
        //    the tag index chunk of 'real' (ids 0..4095) copied to 'ghost'.
        let chunk_key = |tag: &str| {
            let mut k = format!("t{tag}").into_bytes();
            k.push(0);
            k.extend_from_slice(&0u64.to_be_bytes());
            k
        };
        let real = raw.get(chunk_key("real")).unwrap().expect("tag chunk");
        raw.insert(chunk_key("ghost"), real).unwrap();
        // 2. Customer 2's stored figures replaced by customer 1's: a valid
        //    record with wrong figures (3 orders instead of 1).
        let one = raw.get(key(b's', 1)).unwrap().expect("stats of customer 1");
        raw.insert(key(b's', 2), one).unwrap();
        // 3. The identity chunk of customers 0..1023 removed.
        assert!(raw.remove(key(b'k', 0)).unwrap().is_some());
        raw.flush().unwrap();
    }

    let found = problems(&env);
    let has = |needle: &str| found.iter().any(|p| p.contains(needle));
    assert!(
        has("tag 'ghost' of customer 3"),
        "the stray tag entry is named: {found:?}"
    );
    assert!(
        has("customer 2: stored figures"),
        "the wrong figures are named: {found:?}"
    );
    assert!(
        has("identity chunk 0"),
        "the missing chunk is named: {found:?}"
    );

    let repaired = env.json(&["check", "--repair"]);
    assert_eq!(repaired["repaired"], true, "{repaired}");
    assert_eq!(problems(&env), Vec::<String>::new());
    // Records are untouched; figures and lookups are right again.
    let after = env.export();
    for ext in ["C1", "C2", "C3"] {
        assert_eq!(stats_of(&after, ext), stats_of(&before, ext), "{ext}");
    }
    assert_eq!(env.total("zw@example.com"), 1);
    let again = env.import("customers", &c);
    assert_eq!(again["inserted"], 0, "identity lookups work again: {again}");
}

/// A write that failed (a full disk) leaves `rolo-write-failed` behind:
/// sled may have kept part of the batch. The next open that may write
/// checks the database, rebuilds what is out of step, says so and removes
/// the mark; a read-only open leaves both alone.
#[test]
fn the_open_after_a_failed_write_rebuilds_what_a_torn_batch_left() {
    let env = Env::new();
    let c = env.write("c.csv", CUSTOMERS);
    env.import("customers", &c);
    {
        let raw = open_raw(&env.db);
        // What a torn batch leaves: records without their identity chunk.
        assert!(raw.remove(key(b'k', 0)).unwrap().is_some());
        raw.flush().unwrap();
    }
    let mark = env.db.join("rolo-write-failed");
    std::fs::write(&mark, "").unwrap();

    let out = env.run(&["--read-only", "search", "zw@example.com", "--json"]);
    assert!(out.status.success());
    assert!(mark.exists(), "a read-only open repairs nothing");

    let out = env.run(&["search", "zw@example.com", "--json"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("failed last time") && err.contains("rebuilt"),
        "the repair is reported: {err}"
    );
    assert!(!mark.exists(), "the mark is removed once repaired");
    assert_eq!(problems(&env), Vec::<String>::new());
    let again = env.import("customers", &c);
    assert_eq!(again["inserted"], 0, "identity lookups work again: {again}");
}

/// A counter behind its highest id (a torn batch kept the records but not
/// the counter) would hand out ids that overwrite records: `check` names
/// it and `--repair` raises it.
#[test]
fn a_counter_behind_its_records_is_found_and_raised() {
    let env = Env::new();
    let c = env.write("c.csv", CUSTOMERS);
    env.import("customers", &c);
    {
        let raw = open_raw(&env.db);
        raw.insert(b"mnext_customer", &1u64.to_be_bytes()).unwrap();
        raw.flush().unwrap();
    }
    let found = problems(&env);
    assert!(
        found
            .iter()
            .any(|p| p.contains("counter next_customer is 1 but customer 3 exists")),
        "{found:?}"
    );
    env.json(&["check", "--repair"]);
    assert_eq!(problems(&env), Vec::<String>::new());
    let more = env.write("more.csv", "ext_id,name\nC4,Zhao Lei\n");
    env.import("customers", &more);
    assert_eq!(env.export().len(), 4, "the new customer took a fresh id");
}
