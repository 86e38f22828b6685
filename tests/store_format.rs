//! Databases written by earlier format versions must keep opening. The
//! fixture `tests/fixtures/db_v1` was written by format 1 from the CSVs in
//! `tests/fixtures/db_v1_source`; never regenerate it.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure should stop the test loudly"
)]

mod common;

use common::{copy_dir, open_raw};
use rolo::model::CustomerId;
use rolo::store::{FORMAT_VERSION, OpenOptions, Store, StoreError};
use std::path::Path;

fn open_fixture() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    copy_dir(Path::new("tests/fixtures/db_v1"), &db);
    let store = Store::open(&db, &OpenOptions::default()).unwrap();
    (tmp, store)
}

#[test]
fn format_v1_database_opens_with_its_records_intact() {
    const { assert!(FORMAT_VERSION >= 1) };
    let (_tmp, store) = open_fixture();
    assert_eq!(store.live_count().unwrap(), 3);
    let zhang = store.customer(CustomerId(1)).unwrap().unwrap();
    assert_eq!(zhang.name, "张伟");
    assert_eq!(zhang.phones, ["+8613800138000"]);
    assert_eq!(zhang.attrs, [("会员等级".to_string(), "金卡".to_string())]);
    let stats = store.stats(CustomerId(1)).unwrap();
    assert_eq!((stats.orders, stats.spend_minor), (2, 112_850));
    assert_eq!(store.notes_of(CustomerId(1)).unwrap().len(), 1);
    assert_eq!(store.imports().unwrap().len(), 3);
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    assert_eq!(
        store.find_email("ann@example.com").unwrap(),
        [CustomerId(2)]
    );
}

/// Format 1 kept one sled key per ext_id, email and phone; format 2 keeps
/// identity chunks. Opening migrates: the old keys are gone, the marker says
/// 2, and lookups still work (checked above).
#[test]
fn format_v1_is_migrated_to_identity_chunks() {
    let (tmp, store) = open_fixture();
    assert_eq!(store.find_ext_id("C3").unwrap(), Some(CustomerId(3)));
    drop(store);
    let raw = open_raw(&tmp.path().join("db"));
    let format = raw.get(b"mformat").unwrap().unwrap();
    assert_eq!(
        u32::from_be_bytes(format.as_ref().try_into().unwrap()),
        FORMAT_VERSION
    );
    for legacy in [b'x', b'e', b'p'] {
        assert_eq!(
            raw.scan_prefix([legacy]).count(),
            0,
            "legacy {} keys left",
            legacy as char
        );
    }
    assert!(
        raw.scan_prefix([b'k']).count() > 0,
        "identity chunks were built"
    );
}

#[test]
fn second_open_in_one_process_reports_the_lock() {
    let (tmp, _store) = open_fixture();
    match Store::open(&tmp.path().join("db"), &OpenOptions::default()) {
        Err(StoreError::Locked(p)) => assert_eq!(p, tmp.path().join("db")),
        Err(e) => panic!("expected a lock error, got {e}"),
        Ok(_) => panic!("a second open succeeded"),
    }
}

#[test]
fn a_folder_of_other_files_is_not_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    assert!(matches!(
        Store::open(tmp.path(), &OpenOptions::default()),
        Err(StoreError::NotRolo(_))
    ));
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "nothing was created"
    );
}

#[test]
fn a_newer_format_is_refused_not_rewritten() {
    let (tmp, store) = open_fixture();
    drop(store);
    let db = tmp.path().join("db");
    {
        let raw = open_raw(&db);
        raw.insert(b"mformat", &(FORMAT_VERSION + 1).to_be_bytes())
            .unwrap();
        raw.flush().unwrap();
    }
    match Store::open(&db, &OpenOptions::default()) {
        Err(StoreError::TooNew { found, .. }) => assert_eq!(found, FORMAT_VERSION + 1),
        other => panic!(
            "expected TooNew, got {:?}",
            other.err().map(|e| e.to_string())
        ),
    }
}

fn open_copy(fixture: &str) -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    copy_dir(Path::new(fixture), &db);
    let store = Store::open(&db, &OpenOptions::default()).unwrap();
    (tmp, store)
}

fn rolo(db: &Path, args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("rolo")
        .unwrap()
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rolo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Format 2 kept one key per order and one per order id; format 3 keeps one
/// order book per customer. `tests/fixtures/db_v2` was written by format 2
/// from `tests/fixtures/db_v2_source` (see its README), including an import
/// that moved an order to another customer. Once migrated, every customer's
/// orders and figures equal those of a fresh import of the same files.
#[test]
fn format_v2_orders_fold_into_books_equal_to_a_fresh_import() {
    let (tmp, migrated) = open_copy("tests/fixtures/db_v2");
    assert_eq!(migrated.check().unwrap(), Vec::<String>::new());
    let fresh_db = tmp.path().join("fresh");
    let src = Path::new("tests/fixtures/db_v2_source");
    for (kind, file) in [
        ("customers", "customers.csv"),
        ("orders", "orders.csv"),
        ("notes", "notes.csv"),
        ("orders", "orders_update.csv"),
    ] {
        let path = src.join(file);
        rolo(&fresh_db, &["import", kind, path.to_str().unwrap()]);
    }
    let fresh = Store::open(&fresh_db, &OpenOptions::default()).unwrap();
    let ids: Vec<CustomerId> = fresh.all_customers().map(|c| c.unwrap().id).collect();
    assert_eq!(ids.len(), 40);
    let mut orders = 0;
    for id in ids {
        let want = fresh.orders_of(id).unwrap();
        orders += want.len();
        assert_eq!(migrated.orders_of(id).unwrap(), want, "orders of {id}");
        assert_eq!(migrated.stats(id).unwrap(), fresh.stats(id).unwrap());
        assert_eq!(migrated.notes_of(id).unwrap(), fresh.notes_of(id).unwrap());
    }
    assert_eq!(orders, 201);
    assert_eq!(migrated.all_orders().count(), 201);
    let moved = migrated
        .orders_of(CustomerId(8))
        .unwrap()
        .into_iter()
        .find(|o| o.order_id == "O00000001")
        .expect("the moved order is in its new customer's book");
    assert_eq!(moved.amount_minor, 30_000);
    drop(migrated);

    // No format-2 order keys are left.
    let db = tmp.path().join("db");
    {
        let raw = open_raw(&db);
        for item in raw.scan_prefix([b'o']) {
            assert_eq!(item.unwrap().0.len(), 9, "an order book key");
        }
        for item in raw.scan_prefix([b'O']) {
            assert_eq!(item.unwrap().0.len(), 9, "an order-id chunk key");
        }
    }

    // Order ids are still found after the migration: re-importing changes
    // nothing, and reverting the format-2 import that moved an order puts it
    // back where it was.
    let again = rolo(
        &db,
        &[
            "--json",
            "import",
            "orders",
            src.join("orders_update.csv").to_str().unwrap(),
        ],
    );
    assert!(again.contains(r#""inserted":0,"#), "{again}");
    assert!(again.contains(r#""unchanged":3,"#), "{again}");
    rolo(&db, &["--yes", "import", "revert", "4"]);
    let store = Store::open(&db, &OpenOptions::default()).unwrap();
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    let back = store
        .orders_of(CustomerId(2))
        .unwrap()
        .into_iter()
        .find(|o| o.order_id == "O00000001")
        .expect("the revert moved the order back");
    assert_eq!(back.amount_minor, 25_289);
    assert!(
        store
            .orders_of(CustomerId(8))
            .unwrap()
            .iter()
            .all(|o| o.order_id != "X-NEW-1")
    );
}

/// Format 3 kept one tag index key per (tag, customer); format 4 keeps one
/// chunk per tag and 4096 ids. `tests/fixtures/db_v3` was written by format
/// 3 (see `tests/fixtures/db_v3_source/README.md`) with a manual tag, a
/// hierarchical tag removed from one customer, and a rule tag. Once
/// migrated, every tag has the members the records say, `check` is clean,
/// no per-customer key is left, and tagging, undo and the rule still work.
#[test]
fn format_v3_tag_keys_become_chunks_with_the_same_members() {
    let (tmp, store) = open_copy("tests/fixtures/db_v3");
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    let members = |store: &Store, tag: &str| -> Vec<u64> {
        store
            .find_tag(tag)
            .unwrap()
            .into_iter()
            .map(|c| c.0)
            .collect()
    };
    // What the records say, independently of the index.
    let carried = |store: &Store, tag: &str| -> Vec<u64> {
        store
            .all_customers()
            .map(|c| c.unwrap())
            .filter(|c| c.is_live() && c.tags.iter().any(|t| t == tag))
            .map(|c| c.id.0)
            .collect()
    };
    assert_eq!(members(&store, "vip"), vec![1, 2, 3, 5]);
    let sports = members(&store, "interest/sports");
    assert_eq!(sports.len(), 29);
    assert!(!sports.contains(&4));
    for tag in ["vip", "interest/sports", "big"] {
        assert_eq!(members(&store, tag), carried(&store, tag), "{tag}");
    }
    let counts: Vec<(String, u64)> = store
        .tags()
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.count))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("big".to_owned(), members(&store, "big").len() as u64),
            ("interest/sports".to_owned(), 29),
            ("vip".to_owned(), 4),
        ]
    );
    store.add_tag("vip", &[CustomerId(4)]).unwrap();
    assert_eq!(members(&store, "vip"), vec![1, 2, 3, 4, 5]);
    store.undo().unwrap();
    assert_eq!(members(&store, "vip"), vec![1, 2, 3, 5]);
    drop(store);

    let db = tmp.path().join("db");
    let raw = open_raw(&db);
    for item in raw.scan_prefix([b't']) {
        let (k, v) = item.unwrap();
        assert!(!v.is_empty(), "a format-3 tag key is left: {k:?}");
    }
    assert_eq!(
        raw.get(b"mformat").unwrap().unwrap().as_ref(),
        FORMAT_VERSION.to_be_bytes()
    );
}

fn new_db_with_customers(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let store = Store::open(&db, &OpenOptions::default()).unwrap();
    for i in 0..n {
        let c = rolo::model::Customer {
            name: format!("Customer {i}"),
            ..rolo::model::Customer::default()
        };
        store.create_customer(&c).unwrap();
    }
    drop(store);
    (tmp, db)
}

fn damaged_reason(db: &Path) -> String {
    match common::reopen_result(db) {
        Err(StoreError::Damaged { reason, .. }) => reason,
        Err(e) => panic!("expected Damaged, got {e}"),
        Ok(_) => panic!("a damaged database opened"),
    }
}

/// sled files that hold nothing (cut to nothing, no snapshot, no commit
/// marker to compare with) are refused: writing a fresh format marker
/// there would pass an empty database off as the user's.
#[test]
fn a_database_cut_to_nothing_is_refused_not_recreated() {
    let (tmp, db) = new_db_with_customers(3);
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().count() == 1,
        "creation leaves no work folder"
    );
    std::fs::remove_file(db.join("rolo-commits")).unwrap();
    for e in std::fs::read_dir(&db).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("snap.")
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    std::fs::File::create(db.join("db")).unwrap();
    for _ in 0..2 {
        assert!(damaged_reason(&db).contains("hold no data"));
    }
    assert!(db.join("db").exists() && db.join("conf").exists());
}

/// The commit marker says how many commits were flushed; a database that
/// opens with fewer lost acknowledged changes, and is refused until the
/// user restores a backup or deletes the marker to accept the loss.
#[test]
fn lost_commits_are_caught_by_the_commit_marker() {
    let (_tmp, db) = new_db_with_customers(4);
    {
        let raw = open_raw(&db);
        raw.insert(b"mnext_commit", &2u64.to_be_bytes()).unwrap();
        raw.flush().unwrap();
    }
    let reason = damaged_reason(&db);
    assert!(reason.contains("holds 2 committed changes but"), "{reason}");
    assert!(reason.contains("rolo-commits"), "{reason}");
    std::fs::remove_file(db.join("rolo-commits")).unwrap();
    let store = common::reopen(&db);
    assert_eq!(store.live_count().unwrap(), 4);
}

/// sled 0.34 reads a leftover `snap.N.generating` (a snapshot a crash or
/// a full disk interrupted) as its newest snapshot and reports corruption
/// on every open; rolo removes it first.
#[test]
fn an_unfinished_snapshot_does_not_stop_the_open() {
    let (_tmp, db) = new_db_with_customers(2);
    let unfinished = db.join("snap.7FFFFFFFFFFFFFFF.generating");
    std::fs::write(&unfinished, b"").unwrap();
    let store = common::reopen(&db);
    assert_eq!(store.live_count().unwrap(), 2);
    assert!(!unfinished.exists());
}
