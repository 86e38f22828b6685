//! Black-box tests of `rolo tag`: tagging a search result, rename, merge,
//! delete, undo of each (through the store, as the workbench's `u` does),
//! a restart, rule tags against `rolo search`, and the errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, stderr};
use rolo::model::CustomerId;
use rolo::store::{OpenOptions, Store};
use serde_json::Value;
use std::collections::BTreeMap;

const CUSTOMERS: &str = "ext_id,name,email,city\n\
C1,Zhang Wei,zw@example.com,上海\n\
C2,Li Na,ln@example.com,上海\n\
C3,Wang Fang,wf@example.com,北京\n\
C4,Liu Yang,ly@example.com,上海\n\
C5,Chen Jie,cj@example.com,广州\n";

fn setup() -> Env {
    let env = Env::new();
    let f = env.write("customers.csv", CUSTOMERS);
    let r = env.import("customers", &f);
    assert_eq!(r["inserted"], 5, "{r}");
    env
}

/// tag name -> (count, kind)
fn tags(env: &Env) -> BTreeMap<String, (u64, String)> {
    let r = env.json(&["tag", "list"]);
    r["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                (
                    t["count"].as_u64().unwrap(),
                    t["kind"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

fn ids(r: &Value) -> Vec<u64> {
    let mut v: Vec<u64> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect();
    v.sort_unstable();
    v
}

fn open(env: &Env) -> Store {
    // sled releases its lock a moment after the last process exits.
    for _ in 0..100 {
        if let Ok(s) = Store::open(&env.db, &OpenOptions::default()) {
            return s;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("database stays locked");
}

fn map(pairs: &[(&str, u64, &str)]) -> BTreeMap<String, (u64, String)> {
    pairs
        .iter()
        .map(|(n, c, k)| ((*n).to_owned(), (*c, (*k).to_owned())))
        .collect()
}

#[test]
fn tag_search_result_rename_merge_delete_and_undo_each_across_restarts() {
    let env = setup();
    let r = env.json(&["tag", "add", "shanghai", "--query", "city:上海"]);
    assert_eq!(r["gained"], 3, "{r}");
    assert_eq!(
        ids(&env.search("tag:shanghai", 50)),
        ids(&env.search("city:上海", 50))
    );
    env.json(&["tag", "add", "east", "--id", "3"]);
    env.json(&["tag", "rename", "shanghai", "sh"]);
    assert_eq!(
        tags(&env),
        map(&[("east", 1, "manual"), ("sh", 3, "manual")])
    );
    let r = env.json(&["tag", "merge", "sh", "east"]);
    assert_eq!(r["customers"], 3, "{r}");
    assert_eq!(tags(&env), map(&[("east", 4, "manual")]));
    let r = env.json(&["tag", "delete", "east"]);
    assert_eq!(r["customers"], 4, "{r}");
    assert_eq!(tags(&env), map(&[]));

    // Undo each step, newest first, each in a fresh process (a restart).
    let expect_after_undo = [
        ("tag_delete", map(&[("east", 4, "manual")])),
        (
            "tag_merge",
            map(&[("east", 1, "manual"), ("sh", 3, "manual")]),
        ),
        (
            "tag_rename",
            map(&[("east", 1, "manual"), ("shanghai", 3, "manual")]),
        ),
        ("tag_add", map(&[("shanghai", 3, "manual")])),
        ("tag_add", map(&[])),
    ];
    for (op, want) in expect_after_undo {
        {
            let store = open(&env);
            let undone = store.undo().unwrap().unwrap();
            assert_eq!(undone.op, op);
            assert_eq!(store.check().unwrap(), Vec::<String>::new());
        }
        assert_eq!(tags(&env), want, "after undoing {op}");
    }
    // Redo all of it back.
    {
        let store = open(&env);
        for _ in 0..5 {
            store.redo().unwrap().unwrap();
        }
        assert!(store.redo().unwrap().is_none());
        assert_eq!(store.check().unwrap(), Vec::<String>::new());
        let history: Vec<String> = store
            .history_of(CustomerId(1))
            .unwrap()
            .into_iter()
            .map(|e| e.op)
            .collect();
        assert!(history.contains(&"tag_rename".to_owned()), "{history:?}");
    }
    assert_eq!(tags(&env), map(&[]));
}

#[test]
fn rule_tag_equals_search_after_import_and_edit() {
    let env = setup();
    let rule = "city:上海 -name:liu";
    // Without --yes: a preview only.
    let out = env.run(&["tag", "rule", "set", "sh", rule]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 would gain it"), "{text}");
    assert!(tags(&env).is_empty());
    let r = env.json(&["tag", "rule", "set", "sh", rule]);
    assert_eq!(r["applied"], true, "{r}");
    let same = |env: &Env| {
        let want = ids(&env.search(rule, 1000));
        assert_eq!(ids(&env.search("tag:sh", 1000)), want);
        want.len()
    };
    assert_eq!(same(&env), 2);
    // An import moves one out and brings one in.
    let f = env.write(
        "more.csv",
        "ext_id,name,email,city\nC2,Li Na,ln@example.com,北京\nC6,Zhou Min,zm@example.com,上海\n",
    );
    env.import("customers", &f);
    assert_eq!(same(&env), 2);
    // An edit through the library (as the workbench does).
    {
        let store = open(&env);
        let mut c = store.customer(CustomerId(5)).unwrap().unwrap();
        c.city = Some("上海".into());
        store.update_customer(&c).unwrap();
    }
    assert_eq!(same(&env), 3);
    let r = env.json(&["tag", "rule", "list"]);
    assert_eq!(r["rules"][0]["query"], rule, "{r}");
    assert_eq!(r["rules"][0]["count"], 3, "{r}");
    assert_eq!(tags(&env)["sh"], (3, "rule".to_owned()));
    // Undoing the rule takes its members and the rule away.
    {
        let store = open(&env);
        // The edit first, then the rule.
        assert_eq!(store.undo().unwrap().unwrap().op, "edit");
        assert_eq!(store.undo().unwrap().unwrap().op, "tag_rule_set");
    }
    assert!(tags(&env).is_empty(), "{:?}", tags(&env));
}

#[test]
fn errors_name_the_problem_and_exit_2() {
    let env = setup();
    env.json(&["tag", "rule", "set", "sh", "city:上海"]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["tag", "rename", "nope", "x"],
            "tag 'nope' does not exist",
        ),
        (vec!["tag", "delete", "nope"], "does not exist"),
        (vec!["tag", "add", "sh", "--id", "1"], "is a rule tag"),
        (vec!["tag", "remove", "sh", "--query", ""], "is a rule tag"),
        (vec!["tag", "merge", "sh", "sh2"], ""),
        (vec!["tag", "add", "x", "--query", "city:"], "column"),
        (vec!["tag", "rule", "set", "y", "(a"], "column"),
        (vec!["tag", "add", "x"], "--query"),
        (
            vec!["tag", "add", "a*b", "--id", "1"],
            "not a valid tag name",
        ),
        (
            vec!["tag", "add", "x", "--id", "99"],
            "customer 99 not found",
        ),
        (vec!["tag", "rule", "delete", "zzz"], "does not exist"),
    ];
    for (args, msg) in cases {
        let out = env.run(&args);
        if msg.is_empty() {
            // merging a rule tag into a new manual tag is allowed
            assert!(out.status.success(), "{args:?}: {}", stderr(&out));
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(msg), "{args:?}: {}", stderr(&out));
    }
    // A rule tag cannot be merged into.
    env.json(&["tag", "rule", "set", "r2", "city:北京"]);
    let out = env.run(&["tag", "merge", "sh2", "r2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a rule tag"), "{}", stderr(&out));
}
