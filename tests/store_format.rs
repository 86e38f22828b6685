//! Databases written by earlier format versions must keep opening. The
//! fixture `tests/fixtures/db_v1` was written by format 1 from the CSVs in
//! `tests/fixtures/db_v1_source`; never regenerate it.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure should stop the test loudly"
)]

mod common;

use common::open_raw;
use rolo::model::CustomerId;
use rolo::store::{FORMAT_VERSION, OpenOptions, Store, StoreError};
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

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
