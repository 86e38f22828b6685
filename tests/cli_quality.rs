//! `rolo quality`, `rolo audit` and `rolo trash purge` as scripts use them:
//! every quality figure's query finds exactly the customers it counts, the
//! saved figures come back as `previous` with the changes since, the audit
//! log filters by operation, user and day, and destructive commands need
//! `--yes` without a terminal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, figure_count as count, quality_field as field, stderr};
use rolo::model::CustomerId;
use rolo::store::{OpenOptions, Store};
use serde_json::Value;

/// Q-2's email and Q-3's phone are invalid (kept aside by the importer),
/// Q-2's birth date is ahead of the as-of date (stored, invalid today),
/// Q-4's is before 1900 (kept aside), Q-1 ordered before signing up.
const CUSTOMERS: &str = "ext_id,name,email,phone,birth_date,created_at\n\
Q-1,Ann Lee,ann@example.com,13800138000,1990-01-01,2024-01-01\n\
Q-2,Bob Stone,bob(at)example.com,13900139000,2090-05-05,2024-01-01\n\
Q-3,Cy Young,cy@example.com,12345,,2024-03-01\n\
Q-4,Di Ross,di@example.com,13700137000,1850-01-01,2024-03-01\n\
Q-5,Ed Wu,,,,2024-06-01\n";

const ORDERS: &str = "order_id,customer_id,order_date,amount\n\
O-1,Q-1,2023-12-01,10\n\
O-2,Q-3,2024-04-01,20\n";

const AS_OF: &str = "2024-06-30";

fn setup() -> Env {
    let env = Env::new();
    env.import("customers", &env.write("c.csv", CUSTOMERS));
    env.import("orders", &env.write("o.csv", ORDERS));
    env.json(&["tag", "add", "vip", "--query", "ext_id:Q-2"]);
    env
}

fn quality(env: &Env, extra: &[&str]) -> Value {
    let mut args = vec!["quality", "--as-of", AS_OF];
    args.extend_from_slice(extra);
    env.json(&args)
}

/// `rolo search Q --as-of DATE` total.
fn total_as_of(env: &Env, q: &str, as_of: &str) -> u64 {
    env.json(&["search", q, "--limit", "1", "--as-of", as_of])["total"]
        .as_u64()
        .unwrap()
}

#[test]
fn figures_count_what_their_queries_find() {
    let env = setup();
    let r = quality(&env, &[]);
    assert_eq!(r["customers"], 5, "{r}");
    assert_eq!(r["as_of"], AS_OF);
    let email = field(&r, "email");
    assert_eq!((count(&email["filled"]), count(&email["invalid"])), (3, 1));
    assert_eq!(email["invalid"]["query"], "invalid:email");
    let phone = field(&r, "phone");
    assert_eq!((count(&phone["filled"]), count(&phone["invalid"])), (3, 1));
    let birth = field(&r, "birth_date");
    assert_eq!((count(&birth["filled"]), count(&birth["invalid"])), (2, 2));
    assert_eq!(birth["score"], 20.0);
    assert_eq!(field(&r, "name")["score"], 100.0);
    assert_eq!(count(&r["invalid"]), 4);
    assert_eq!(count(&r["order_before_signup"]), 1);
    assert_eq!(count(&r["no_tag_no_order"]), 2);
    assert_eq!(count(&r["stale"]), 0);
    assert_eq!(r["duplicates_pending"], Value::Null);
    assert_eq!(r["previous"], Value::Null);
    assert_eq!(r["saved"], false);
    let score = r["score"].as_f64().unwrap();
    assert!(score > 0.0 && score < 100.0, "{r}");

    // Every figure drills down to exactly its customers.
    let mut figures: Vec<&Value> = vec![
        &r["invalid"],
        &r["order_before_signup"],
        &r["stale"],
        &r["no_tag_no_order"],
    ];
    for f in r["fields"].as_array().unwrap() {
        figures.extend([&f["filled"], &f["missing"], &f["invalid"]]);
    }
    let mut nonzero = 0;
    for f in figures {
        let q = f["query"].as_str().unwrap();
        assert_eq!(total_as_of(&env, q, AS_OF), count(f), "`{q}`");
        nonzero += usize::from(count(f) > 0 && count(f) < 5);
    }
    assert!(nonzero >= 10, "too many trivial figures: {nonzero}");

    // Stale: judged on the as-of date, with the threshold given.
    let later = env.json(&["quality", "--as-of", "2099-01-01", "--stale-days", "30"]);
    assert_eq!(count(&later["stale"]), 5, "{later}");
    assert_eq!(later["stale"]["query"], "stale:30d");
    assert_eq!(total_as_of(&env, "stale:30d", "2099-01-01"), 5);
    assert_eq!(total_as_of(&env, "stale:30d", AS_OF), 0);

    let text = String::from_utf8(env.run(&["quality", "--as-of", AS_OF]).stdout).unwrap();
    assert!(text.contains("query: invalid:order_date"), "{text}");
    assert!(text.contains("no duplicate scan yet"), "{text}");

    // After a duplicate scan, pending pairs are counted (none here), with
    // the scan they come from.
    let scan = env.json(&["dedup", "scan"]);
    let r = quality(&env, &[]);
    assert_eq!(
        count(&r["duplicates_pending"]),
        scan["pairs_total"].as_u64().unwrap()
    );
    assert_eq!(r["duplicates_scan"]["threshold"], 0.9, "{r}");
    let text = String::from_utf8(env.run(&["quality", "--as-of", AS_OF]).stdout).unwrap();
    assert!(text.contains("duplicates pending review"), "{text}");
    assert!(text.contains("from the scan of"), "{text}");
}

#[test]
fn saved_figures_come_back_as_previous_with_changes() {
    let env = setup();
    let first = quality(&env, &["--save"]);
    assert_eq!(first["saved"], true);
    assert_eq!(first["previous"], Value::Null);
    // Q-4 gains a tag: one fewer customer with neither tag nor order.
    env.json(&["tag", "add", "vip", "--query", "ext_id:Q-4"]);
    let second = quality(&env, &[]);
    let prev = &second["previous"];
    assert_eq!(prev["no_tag_no_order"], 2, "{second}");
    assert_eq!(prev["as_of"], AS_OF);
    assert_eq!(prev["score"], first["score"]);
    assert_eq!(second["changes"]["no_tag_no_order"], -1, "{second}");
    assert_eq!(second["changes"]["invalid"], 0);
    assert_eq!(second["changes"]["stale"], 0);
    // Not saved: a third run still compares with the first.
    let third = quality(&env, &["--stale-days", "10"]);
    assert_eq!(third["previous"]["no_tag_no_order"], 2);
    assert_eq!(third["changes"]["stale"], Value::Null, "other threshold");
    // Saving needs a writable database.
    let out = env.run(&["quality", "--save", "--read-only"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let events = env.json(&["audit", "--op", "quality"]);
    assert_eq!(events["total"], 1, "{events}");
}

#[test]
fn audit_lists_events_newest_first_through_filters() {
    let env = setup();
    let all = env.json(&["audit"]);
    let seqs: Vec<u64> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 3, "{all}");
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    let imports = env.json(&["audit", "--op", "import"]);
    assert_eq!(imports["total"], 2);
    assert_eq!(
        imports["events"][0]["summary"].as_str().unwrap()[..9],
        *"import #2"
    );
    assert_eq!(
        env.json(&["audit", "--op", "tag"])["events"][0]["op"],
        "tag_add"
    );
    assert_eq!(env.json(&["audit", "--limit", "1"])["total"], 1);
    let user = all["events"][0]["user"].as_str().unwrap().to_owned();
    assert_eq!(env.json(&["audit", "--user", &user])["total"], 3);
    assert_eq!(env.json(&["audit", "--user", "nobody-at-all"])["total"], 0);
    assert_eq!(env.json(&["audit", "--since", "2099-01-01"])["total"], 0);
    assert_eq!(env.json(&["audit", "--until", "2000-01-01"])["total"], 0);
    let out = env.run(&["audit", "--since", "2024-02-01", "--until", "2024-01-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since"), "{}", stderr(&out));
}

#[test]
fn purge_needs_yes_without_a_terminal() {
    let env = setup();
    let ids = env.export_by_ext_id();
    let ed = ids["Q-5"]["id"].as_u64().unwrap();
    // Nothing old enough: nothing to confirm.
    assert_eq!(
        env.json(&["trash", "purge", "--older-than", "30d"])["purged"],
        0
    );
    {
        let store = Store::open(&env.db, &OpenOptions::default()).unwrap();
        store.trash_customer(CustomerId(ed)).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = env.run(&["trash", "purge", "--older-than", "0d"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(
        env.json(&["trash", "list"])["trash"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = env.json(&["trash", "purge", "--older-than", "0d", "--yes"]);
    assert_eq!(r["purged"], 1, "{r}");
    assert!(
        env.json(&["trash", "list"])["trash"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
