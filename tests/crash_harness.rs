//! Crash harness: a child `rolo` runs an import, a bulk tag, an untag, an
//! import revert, a merge or an unmerge on one database, and is killed
//! with SIGKILL at a random moment; then the database must open, `rolo
//! check` must find nothing (every index entry points to a live record and
//! every record is indexed, search chunks, identity and order-id chunks,
//! stored figures equal a recomputation from the orders, merge links), and
//! a bulk tag, a merge and an unmerge must each be all or nothing.
//!
//! 50 trials in the normal suite (about a minute). A longer run:
//! `ROLO_CRASH_TRIALS=500 cargo test --release --test crash_harness -- --nocapture`
//! (`ROLO_CRASH_SEED=N` picks another sequence of operations and delays).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, Rng, assert_no_panic, env_u64, rolo, rolo_std, single_json, stderr};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

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

/// A merge about to run: its survivor and the others, with each one's
/// ext_id and order count before.
struct PlannedMerge {
    survivor: (u64, String),
    others: Vec<(u64, String)>,
    orders_before: BTreeMap<String, u64>,
}

/// A merge the harness saw committed, which an unmerge may take back.
struct DoneMerge {
    seq: u64,
    hidden: u64,
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
    // A base of customers with orders that reverts leave alone, so merges
    // and bulk tags always have people to work on.
    let base = base_files(&env);
    for (kind, file) in [("customers", &base.0), ("orders", &base.1)] {
        json(&db, &["import", kind, &path(file)]);
    }
    let base_imports = 2;
    let mut tags: Vec<String> = Vec::new();
    let mut merges: Vec<DoneMerge> = Vec::new();
    let mut kinds = [0u32; 7];
    // Merges and unmerges seen committed (the rest were killed first or refused).
    let (mut merged_n, mut unmerged_n) = (0u32, 0u32);
    let mut killed = 0u64;
    // Trials run until `trials` children were killed while running (a
    // child that finished first still has its invariants checked).
    let mut trial = 0u64;
    while killed < trials && trial < trials * 4 {
        trial += 1;
        let op = rng.below(7);
        kinds[op as usize] += 1;
        let live_before = json(&db, &["search", ""])["total"].as_u64().unwrap();
        let untag_before = tags.last().map_or(0, |t| tag_count(&db, t));
        let new_tag = format!("crash/{trial}");
        let planned = if op == 5 {
            plan_merge(&db, &mut rng)
        } else {
            None
        };
        let merge_before = if op == 5 {
            latest_event(&db, "merge")
        } else {
            0
        };
        let unmerge_before = if op == 6 {
            latest_event(&db, "unmerge")
        } else {
            0
        };
        let import_orders = || vec!["import".into(), "orders".into(), path(&orders)];
        let args: Vec<String> = match op {
            0 => vec!["import".into(), "customers".into(), path(&customers)],
            1 => import_orders(),
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
                None => import_orders(),
            },
            4 => match last_import(&db, base_imports) {
                Some(id) => vec!["import".into(), "revert".into(), id.to_string()],
                None => vec!["import".into(), "customers".into(), path(&customers)],
            },
            5 => match &planned {
                Some(p) => [
                    "dedup".to_owned(),
                    "merge".to_owned(),
                    p.survivor.0.to_string(),
                ]
                .into_iter()
                .chain(p.others.iter().map(|o| o.0.to_string()))
                .collect(),
                None => vec!["import".into(), "customers".into(), path(&customers)],
            },
            _ => match merges.last() {
                Some(m) => vec!["dedup".into(), "unmerge".into(), m.seq.to_string()],
                None => import_orders(),
            },
        };
        // Within the time each kind of operation takes on 20k customers.
        let delay = rng.below(match op {
            0 | 1 => 900,
            4 => 400,
            5 | 6 => 70,
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
        let was_running = child.try_wait().unwrap().is_none();
        if was_running {
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
        let live_after = json(&db, &["search", ""])["total"].as_u64().unwrap();
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
        if let Some(p) = planned.filter(|_| op == 5) {
            let seq = latest_event(&db, "merge");
            let merged = seq != merge_before;
            check_merge(&db, &p, merged, live_before, live_after, trial);
            if merged {
                merged_n += 1;
                merges.push(DoneMerge {
                    seq,
                    hidden: p.others.len() as u64,
                });
            }
        }
        if op == 6 {
            if let Some(m) = merges.last() {
                let unmerged = latest_event(&db, "unmerge") != unmerge_before;
                let want = if unmerged {
                    live_before + m.hidden
                } else {
                    live_before
                };
                assert_eq!(
                    live_after, want,
                    "trial {trial}: unmerge #{} (recorded: {unmerged}) is not all or nothing",
                    m.seq
                );
                // Taken back, or refused (a later change in the way): either
                // way it is not tried again.
                unmerged_n += u32::from(unmerged);
                if unmerged || (!was_running && !out.status.success()) {
                    merges.pop();
                }
            }
        }
    }
    eprintln!(
        "{trial} trials, {killed} killed while running: {} customer imports, {} order imports, \
         {} tag adds, {} untags, {} reverts, {} merges ({merged_n} committed), \
         {} unmerges ({unmerged_n} committed)",
        kinds[0], kinds[1], kinds[2], kinds[3], kinds[4], kinds[5], kinds[6]
    );
    assert!(
        killed >= trials,
        "only {killed} of {trial} children were still running when killed"
    );
}

/// Picks a survivor and up to 80 others among live customers with an
/// ext_id, and reads their order counts.
fn plan_merge(db: &Path, rng: &mut Rng) -> Option<PlannedMerge> {
    let hits = json(db, &["search", "", "--limit", "500"])["hits"].clone();
    let mut pool: Vec<(u64, String)> = hits
        .as_array()?
        .iter()
        .filter_map(|h| Some((h["id"].as_u64()?, h["ext_id"].as_str()?.to_owned())))
        .collect();
    if pool.len() < 2 {
        return None;
    }
    let n = 2 + rng.below(pool.len().min(81) as u64 - 1) as usize;
    let mut chosen = Vec::with_capacity(n);
    for _ in 0..n {
        chosen.push(pool.swap_remove(rng.below(pool.len() as u64) as usize));
    }
    let survivor = chosen.remove(0);
    let exts: Vec<String> = std::iter::once(&survivor)
        .chain(&chosen)
        .map(|c| c.1.clone())
        .collect();
    Some(PlannedMerge {
        orders_before: orders_by_ext_id(db, &exts),
        survivor,
        others: chosen,
    })
}

/// A merge is all or nothing: recorded, with every other hidden and its
/// orders on the survivor; or not recorded, with nothing changed.
fn check_merge(db: &Path, p: &PlannedMerge, merged: bool, before: u64, after: u64, trial: u64) {
    let exts: Vec<String> = p.orders_before.keys().cloned().collect();
    let now = orders_by_ext_id(db, &exts);
    if merged {
        assert_eq!(
            after,
            before - p.others.len() as u64,
            "trial {trial}: merge hid some"
        );
        let all: u64 = p.orders_before.values().sum();
        assert_eq!(
            now,
            BTreeMap::from([(p.survivor.1.clone(), all)]),
            "trial {trial}: the merge did not move every order to the survivor"
        );
    } else {
        assert_eq!(
            after, before,
            "trial {trial}: an unrecorded merge changed the count"
        );
        assert_eq!(
            now, p.orders_before,
            "trial {trial}: an unrecorded merge moved orders"
        );
    }
}

/// Live customers' order counts by ext_id.
fn orders_by_ext_id(db: &Path, exts: &[String]) -> BTreeMap<String, u64> {
    let query = exts
        .iter()
        .map(|e| format!("ext_id:{e}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let out = rolo()
        .arg("--db")
        .arg(db)
        .args(["export", "customers", "--format", "json", "--query", &query])
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert!(out.status.success(), "export: {}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.iter()
        .map(|r| {
            (
                r["ext_id"].as_str().unwrap().to_owned(),
                r["orders"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The sequence number of the newest audit event of operation `op` (0: none).
fn latest_event(db: &Path, op: &str) -> u64 {
    json(db, &["audit", "--op", op, "--limit", "1"])["events"][0]["seq"]
        .as_u64()
        .unwrap_or(0)
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The newest import after the first `base` that is not reverted yet.
fn last_import(db: &Path, base: u64) -> Option<u64> {
    json(db, &["import", "list"])["imports"]
        .as_array()?
        .iter()
        .rev()
        .filter(|l| l["id"].as_u64().is_some_and(|id| id > base))
        .find(|l| l["reverted"] == false)
        .and_then(|l| l["id"].as_u64())
}

/// 3,000 customers and their orders under ext_ids (`B...`) and order ids
/// (`Q...`) of their own, so the trials' files never touch them.
fn base_files(env: &Env) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = env.generate(
        "base",
        &["--customers", "3000", "--notes", "0", "--seed", "29"],
    );
    // `C0000001` -> `B0000001`: only a letter followed by digits changes.
    let swap = |col: &mut String, (from, to): (char, char)| {
        let mut chars = col.chars();
        if chars.next() == Some(from) && chars.all(|c| c.is_ascii_digit()) {
            col.replace_range(..1, &to.to_string());
        }
    };
    let rename = |name: &str, first: (char, char), second: Option<(char, char)>| {
        let file = dir.join(name);
        let text = std::fs::read_to_string(&file).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            let mut cols: Vec<String> = line.split(',').map(str::to_owned).collect();
            swap(&mut cols[0], first);
            if let (Some(pair), Some(col)) = (second, cols.get_mut(1)) {
                swap(col, pair);
            }
            out.push_str(&cols.join(","));
            out.push('\n');
        }
        std::fs::write(&file, out).unwrap();
        file
    };
    (
        rename("customers.csv", ('C', 'B'), None),
        rename("orders.csv", ('O', 'Q'), Some(('C', 'B'))),
    )
}
