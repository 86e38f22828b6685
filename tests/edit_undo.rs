//! Single-customer changes and their undo/redo, from the audit log alone.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure should stop the test loudly"
)]

mod common;

use proptest::prelude::*;
use rolo::model::{Customer, CustomerId, Note, NoteKind};
use rolo::store::{OpenOptions, Store};

fn open(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("db"), &OpenOptions::default()).unwrap()
}

fn seed(store: &Store, n: usize) -> Vec<CustomerId> {
    (0..n)
        .map(|i| {
            store
                .create_customer(&Customer {
                    name: format!("Person {i}"),
                    emails: vec![format!("p{i}@example.com")],
                    phones: vec![format!("+86138000000{i:02}")],
                    city: Some("上海".into()),
                    ..Customer::default()
                })
                .unwrap()
        })
        .collect()
}

fn snapshot(store: &Store) -> Vec<Customer> {
    store.all_customers().map(Result::unwrap).collect()
}

#[test]
fn edit_undo_redo_restore_exactly_and_keep_indexes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let ids = seed(&store, 3);
    let before = store.customer(ids[1]).unwrap().unwrap();
    let mut edited = before.clone();
    edited.emails = vec!["new@example.com".into()];
    edited.city = Some("北京".into());
    store.update_customer(&edited).unwrap();
    assert_eq!(store.find_email("new@example.com").unwrap(), [ids[1]]);
    assert!(store.find_email("p1@example.com").unwrap().is_empty());

    let undone = store.undo().unwrap().unwrap();
    assert_eq!(undone.op, "edit");
    assert_eq!(store.customer(ids[1]).unwrap().unwrap(), before);
    assert_eq!(store.find_email("p1@example.com").unwrap(), [ids[1]]);
    assert!(store.find_email("new@example.com").unwrap().is_empty());
    assert_eq!(store.check().unwrap(), Vec::<String>::new());

    store.redo().unwrap().unwrap();
    let redone = store.customer(ids[1]).unwrap().unwrap();
    assert_eq!(redone.city.as_deref(), Some("北京"));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    let history = store.history_of(ids[1]).unwrap();
    let ops: Vec<&str> = history.iter().map(|e| e.op.as_str()).collect();
    assert_eq!(ops, ["create", "edit", "undo", "redo"]);
}

#[test]
fn undo_after_a_restart_restores_the_previous_value() {
    let tmp = tempfile::tempdir().unwrap();
    let id;
    let before;
    {
        let store = open(tmp.path());
        id = seed(&store, 1)[0];
        before = store.customer(id).unwrap().unwrap();
        let mut edited = before.clone();
        edited.name = "Renamed".into();
        store.update_customer(&edited).unwrap();
    }
    // sled releases its lock a moment after the last handle goes.
    let store = (0..100)
        .find_map(|_| {
            Store::open(&tmp.path().join("db"), &OpenOptions::default())
                .ok()
                .or_else(|| {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    None
                })
        })
        .unwrap();
    store.undo().unwrap().unwrap();
    assert_eq!(store.customer(id).unwrap().unwrap(), before);
}

fn reopen(dir: &std::path::Path) -> Store {
    common::reopen(&dir.join("db"))
}

/// A note added by hand is one audited change: it shows in the customer's
/// history, and undo and redo take it back and bring it again, also after
/// the database was closed and opened again (the audit log is the source).
#[test]
fn note_add_undo_redo_across_a_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let id;
    {
        let store = open(tmp.path());
        id = seed(&store, 2)[1];
        let note = store
            .add_customer_note(id, NoteKind::Complaint, "late delivery: again", Some(2))
            .unwrap();
        assert_eq!(store.notes_of(id).unwrap(), [note]);
        let last = store.history_of(id).unwrap().pop().unwrap();
        assert_eq!(last.op, "note");
        assert_eq!(
            last.summary,
            "added a complaint note (2/5): late delivery: again"
        );
        assert!(
            store
                .add_customer_note(CustomerId(999), NoteKind::Call, "x", None)
                .is_err(),
            "a note needs its customer"
        );
    }
    let store = reopen(tmp.path());
    let undone = store.undo().unwrap().unwrap();
    assert_eq!(undone.op, "note");
    assert!(
        store.notes_of(id).unwrap().is_empty(),
        "undo removes the note"
    );
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
    drop(store);

    let store = reopen(tmp.path());
    store.redo().unwrap().unwrap();
    let notes = store.notes_of(id).unwrap();
    assert_eq!(notes.len(), 1, "redo adds it again");
    assert_eq!(notes[0].kind, NoteKind::Complaint);
    assert_eq!(notes[0].text, "late delivery: again");
    assert_eq!(notes[0].satisfaction, Some(2));
    let ops: Vec<String> = store
        .history_of(id)
        .unwrap()
        .into_iter()
        .map(|e| e.op)
        .collect();
    assert_eq!(ops, ["create", "note", "undo", "redo"]);
    drop(store);

    // Undo again after another reopen, then the seeding create is next.
    let store = reopen(tmp.path());
    assert_eq!(store.undo().unwrap().unwrap().op, "note");
    assert!(store.notes_of(id).unwrap().is_empty());
    assert_eq!(store.undo().unwrap().unwrap().op, "create");
}

/// Only the note that the event added goes: an identical note added by
/// import at another instant stays.
#[test]
fn note_undo_removes_only_its_own_note() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let id = seed(&store, 1)[0];
    let mut unit = store.begin().unwrap();
    let imported = Note {
        customer: id,
        at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        kind: NoteKind::Call,
        text: "same".into(),
        satisfaction: None,
    };
    unit.add_note(&imported).unwrap();
    unit.commit().unwrap();
    store
        .add_customer_note(id, NoteKind::Call, "same", None)
        .unwrap();
    assert_eq!(store.notes_of(id).unwrap().len(), 2);
    store.undo().unwrap().unwrap();
    assert_eq!(store.notes_of(id).unwrap(), [imported]);
}

#[test]
fn trash_restore_and_undo_of_create() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let ids = seed(&store, 2);
    let kept = store.customer(ids[0]).unwrap().unwrap();
    store.trash_customer(ids[0]).unwrap();
    assert_eq!(store.live_count().unwrap(), 1);
    assert!(store.find_email("p0@example.com").unwrap().is_empty());
    assert_eq!(store.trashed().count(), 1);
    store.restore_customer(ids[0]).unwrap();
    let back = store.customer(ids[0]).unwrap().unwrap();
    assert_eq!(
        Customer {
            updated_at: kept.updated_at,
            ..back
        },
        kept
    );
    assert_eq!(store.find_email("p0@example.com").unwrap(), [ids[0]]);

    let new = store
        .create_customer(&Customer {
            name: "Temp".into(),
            ..Customer::default()
        })
        .unwrap();
    store.undo().unwrap().unwrap();
    assert!(
        store.customer(new).unwrap().is_none(),
        "undoing a create removes it"
    );
    store.redo().unwrap().unwrap();
    assert_eq!(store.customer(new).unwrap().unwrap().name, "Temp");
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[derive(Debug, Clone)]
enum Change {
    Rename(usize, String),
    Email(usize, u8),
    Trash(usize),
    Restore(usize),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0usize..4, "[a-z张伟]{1,6}").prop_map(|(i, n)| Change::Rename(i, n)),
        (0usize..4, 0u8..5).prop_map(|(i, e)| Change::Email(i, e)),
        (0usize..4).prop_map(Change::Trash),
        (0usize..4).prop_map(Change::Restore),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Undoing every change returns every record (and index) to where it
    /// started; redoing them all returns to the end state.
    #[test]
    fn undo_all_is_the_identity(changes in proptest::collection::vec(change(), 1..10)) {
        let tmp = tempfile::tempdir().unwrap();
        let store = open(tmp.path());
        let ids = seed(&store, 4);
        let start = snapshot(&store);
        for c in &changes {
            match c {
                Change::Rename(i, n) => {
                    let mut x = store.customer(ids[*i]).unwrap().unwrap();
                    x.name = n.clone();
                    store.update_customer(&x).unwrap();
                }
                Change::Email(i, e) => {
                    let mut x = store.customer(ids[*i]).unwrap().unwrap();
                    x.emails = vec![format!("shared{e}@example.com")];
                    store.update_customer(&x).unwrap();
                }
                Change::Trash(i) => store.trash_customer(ids[*i]).unwrap(),
                Change::Restore(i) => store.restore_customer(ids[*i]).unwrap(),
            }
        }
        let end = snapshot(&store);
        while store.undo().unwrap().is_some_and(|e| e.op != "create") {}
        // The last undo may have taken back a seeding create: redo it.
        let after_undo = snapshot(&store);
        if after_undo.len() < start.len() {
            store.redo().unwrap();
        }
        prop_assert_eq!(snapshot(&store), start);
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
        while store.redo().unwrap().is_some() {}
        prop_assert_eq!(snapshot(&store), end);
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
    }
}

#[test]
fn trash_cli_lists_restores_and_purges_with_confirmation() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    {
        let store = open(tmp.path());
        let ids = seed(&store, 3);
        store.trash_customer(ids[0]).unwrap();
        store.trash_customer(ids[2]).unwrap();
    }
    let rolo = |args: &[&str]| {
        // sled releases its lock a moment after the last handle goes.
        for _ in 0..100 {
            let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_rolo"))
                .args(args)
                .arg("--db")
                .arg(&db)
                .env_remove("ROLO_DB")
                .output()
                .unwrap();
            if !String::from_utf8_lossy(&out.stderr).contains("in use") {
                return out;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("database stayed locked");
    };
    let list = rolo(&["trash", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v["trash"].as_array().unwrap().len(), 2, "{v}");

    let restore = rolo(&["trash", "restore", "1"]);
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let again = rolo(&["trash", "restore", "1"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "restoring a live customer is refused"
    );

    let unconfirmed = rolo(&["trash", "purge", "--older-than", "0d"]);
    assert_eq!(unconfirmed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
    let bad = rolo(&["trash", "purge", "--older-than", "soon", "--yes"]);
    assert_eq!(bad.status.code(), Some(2));
    let purge = rolo(&["trash", "purge", "--older-than", "0d", "--yes", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&purge.stdout).unwrap();
    assert_eq!(v["purged"], 1, "{v}");
    let list = rolo(&["trash", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(v["trash"].as_array().unwrap().is_empty(), "{v}");
    let check = rolo(&["check", "--json"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
