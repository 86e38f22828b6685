//! Crash harness: a child `rolo` runs an import, a bulk tag, an untag or an
//! import revert on one database, and is killed with SIGKILL at a random
//! moment; then the database must open, `rolo check` must find nothing
//! (every index entry points to a live record and every record is indexed,
//! search chunks, identity and order-id chunks, stored figures equal a
//! recomputation from the orders), and a bulk tag must be all or nothing.
//!
//! 50 trials in the normal suite (about a minute). A longer run:
//! `ROLO_CRASH_TRIALS=500 cargo test --release --test crash_harness -- --nocapture`
//! (`ROLO_CRASH_SEED=N` picks another sequence of operations and delays).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, assert_no_panic, rolo, rolo_std, single_json, stderr};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// A small deterministic generator (xorshift64*): no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn json(db: &Path, args: &[&str]) -> Value {
    let out = rolo()
        .arg("--db")
        .arg(db)
        .arg("--json")
        .arg("--yes")
        .args(args)
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "rolo {args:?} after a kill: {}",
        stderr(&out)
    );
    single_json(&out.stdout)
}

fn tag_count(db: &Path, tag: &str) -> u64 {
    json(db, &["tag", "list"])["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tag)
        .map_or(0, |t| t["count"].as_u64().unwrap())
}

#[test]
fn random_kills_never_break_an_invariant() {
    let trials = env_u64("ROLO_CRASH_TRIALS", 50);
    let mut rng = Rng(env_u64("ROLO_CRASH_SEED", 0x5eed_cafe) | 1);
    let env = Env::new();
    let data = env.generate(
        "data",
        &["--customers", "20000", "--notes", "0", "--seed", "23"],
    );
    let customers = data.join("customers.csv");
    let orders = data.join("orders.csv");
    let db = env.path("crash-db");
    let mut tags: Vec<String> = Vec::new();
    let mut kinds = [0u32; 5];
    let mut killed = 0u64;
    // Trials run until `trials` children were killed while running (a
    // child that finished first still has its invariants checked).
    let mut trial = 0u64;
    while killed < trials && trial < trials * 4 {
        trial += 1;
        let op = rng.below(5);
        kinds[op as usize] += 1;
        let live_before = json(&db, &["search", ""])["total"].as_u64().unwrap();
        let untag_before = tags.last().map_or(0, |t| tag_count(&db, t));
        let new_tag = format!("crash/{trial}");
        let args: Vec<String> = match op {
            0 => vec!["import".into(), "customers".into(), path(&customers)],
            1 => vec!["import".into(), "orders".into(), path(&orders)],
            2 => vec![
                "tag".into(),
                "add".into(),
                new_tag.clone(),
                "--query".into(),
                String::new(),
            ],
            3 => match tags.last() {
                Some(t) => vec![
                    "tag".into(),
                    "remove".into(),
                    t.clone(),
                    "--query".into(),
                    String::new(),
                ],
                None => vec!["import".into(), "orders".into(), path(&orders)],
            },
            _ => match last_import(&db) {
                Some(id) => vec!["import".into(), "revert".into(), id.to_string()],
                None => vec!["import".into(), "customers".into(), path(&customers)],
            },
        };
        // Within the time each kind of operation takes on 20k customers.
        let delay = rng.below(match op {
            0 | 1 => 900,
            4 => 400,
            _ => 250,
        });
        let child = rolo_std()
            .arg("--db")
            .arg(&db)
            .arg("--yes")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let mut child = child;
        if child.try_wait().unwrap().is_none() {
            killed += 1;
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "trial {trial} ({args:?}) panicked: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let check = json(&db, &["check"]);
        assert_eq!(
            check["problems"],
            Value::Array(Vec::new()),
            "trial {trial}: after killing {args:?} at {delay} ms"
        );
        if op == 2 {
            let n = tag_count(&db, &new_tag);
            assert!(
                n == 0 || n == live_before,
                "trial {trial}: tag {new_tag} is on {n} of {live_before} customers: not all or nothing"
            );
            if n > 0 {
                tags.push(new_tag);
            }
        }
        if op == 3 {
            if let Some(t) = tags.last().cloned() {
                let n = tag_count(&db, &t);
                assert!(
                    n == 0 || n == untag_before,
                    "trial {trial}: removing {t} left it on {n} of {untag_before} customers"
                );
                if n == 0 {
                    tags.pop();
                }
            }
        }
    }
    eprintln!(
        "{trial} trials, {killed} killed while running: {} customer imports, {} order imports, \
         {} tag adds, {} untags, {} reverts",
        kinds[0], kinds[1], kinds[2], kinds[3], kinds[4]
    );
    assert!(
        killed >= trials,
        "only {killed} of {trial} children were still running when killed"
    );
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The newest import that is not reverted yet.
fn last_import(db: &Path) -> Option<u64> {
    json(db, &["import", "list"])["imports"]
        .as_array()?
        .iter()
        .rev()
        .find(|l| l["reverted"] == false)
        .and_then(|l| l["id"].as_u64())
}
