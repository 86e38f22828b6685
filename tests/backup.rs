//! `rolo backup FILE` and `rolo restore FILE --db NEW`: the round trip is
//! exact (every key and value, and what search and export show), a damaged
//! or cut backup is refused before anything is created, restoring over a
//! database needs --yes, and a backup taken while another thread of the
//! same process commits changes holds one consistent state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, reopen, rolo, single_json, stderr};
use rolo::store::Store;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

const AS_OF: &str = "2025-06-30";

/// A database with customers, orders, notes, a manual tag, a rule tag, a
/// merge and a saved segment.
fn populated() -> Env {
    let env = Env::new();
    let data = env.generate(
        "data",
        &["--customers", "400", "--notes", "60", "--seed", "11"],
    );
    for kind in ["customers", "orders", "notes"] {
        env.import(kind, &data.join(format!("{kind}.csv")));
    }
    env.json(&["tag", "add", "vip", "--query", "spend>300"]);
    env.json(&["--yes", "tag", "rule", "set", "regulars", "orders>=3"]);
    env.json(&["dedup", "merge", "1", "2", "3"]);
    env.json(&["segments", "save", "big", "spend>1000"]);
    env
}

fn run(args: &[&str], db: &Path) -> std::process::Output {
    let out = rolo().arg("--db").arg(db).args(args).output().unwrap();
    common::assert_no_panic(&out);
    out
}

fn ok_json(args: &[&str], db: &Path) -> Value {
    let mut full = args.to_vec();
    full.push("--json");
    let out = run(&full, db);
    assert!(out.status.success(), "rolo {args:?}: {}", stderr(&out));
    single_json(&out.stdout)
}

/// `rolo ARGS` must fail with exit 2 and one line on stderr; returns it.
fn refused(args: &[&str], db: &Path) -> String {
    let out = run(args, db);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "rolo {args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "rolo {args:?}: {err}");
    err
}

fn export(db: &Path) -> Vec<u8> {
    let out = run(
        &["export", "customers", "--format", "json", "--as-of", AS_OF],
        db,
    );
    assert!(out.status.success(), "export: {}", stderr(&out));
    out.stdout
}

fn entries(db: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    reopen(db).raw_entries().map(Result::unwrap).collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn round_trip_is_exact_key_for_key_and_in_search_and_export() {
    let env = populated();
    let file = env.path("nightly.rolobak");
    let b = ok_json(&["backup", path(&file)], &env.db);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(b["bytes"], bytes.len() as u64);
    // The file ends with the SHA-256 of everything before it.
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    assert_eq!(Sha256::digest(body).as_slice(), digest);
    let hex: String = digest.iter().map(|x| format!("{x:02x}")).collect();
    assert_eq!(b["sha256"], hex);
    assert!(bytes.starts_with(b"ROLOBAK\n"));

    let new = env.path("restored");
    let r = ok_json(&["restore", path(&file)], &new);
    assert_eq!(
        (&r["keys"], &r["sha256"], &r["replaced"]),
        (&b["keys"], &b["sha256"], &Value::Bool(false))
    );

    let before = entries(&env.db);
    assert_eq!(before.len() as u64, b["keys"].as_u64().unwrap());
    assert_eq!(entries(&new), before, "every key and value is restored");
    assert_eq!(ok_json(&["check"], &new)["problems"], Value::Array(vec![]));
    assert_eq!(
        ok_json(&["search", "", "--limit", "1000"], &new),
        ok_json(&["search", "", "--limit", "1000"], &env.db)
    );
    assert_eq!(export(&new), export(&env.db));
    assert!(
        !env.path("restored.restore").exists(),
        "no work folder is left"
    );
}

#[test]
fn damaged_or_cut_backups_are_refused_and_nothing_is_created() {
    let env = populated();
    let file = env.path("b.rolobak");
    ok_json(&["backup", path(&file)], &env.db);
    let good = std::fs::read(&file).unwrap();
    let mut variants: Vec<(&str, Vec<u8>)> = Vec::new();
    for at in [
        3,
        10,
        40,
        good.len() / 3,
        good.len() / 2,
        good.len() - 40,
        good.len() - 1,
    ] {
        let mut b = good.clone();
        b[at] ^= 0x20;
        variants.push(("damaged", b));
    }
    for cut in [0, 12, good.len() / 2, good.len() - 32, good.len() - 1] {
        variants.push(("cut short", good[..cut].to_vec()));
    }
    let mut longer = good.clone();
    longer.extend_from_slice(b"extra");
    variants.push(("follow its checksum", longer));
    for (i, (why, bytes)) in variants.iter().enumerate() {
        let bad = env.write(&format!("bad{i}.rolobak"), bytes);
        let new = env.path(&format!("new{i}"));
        let err = refused(&["restore", path(&bad)], &new);
        assert!(
            err.contains("damaged") && err.contains(why),
            "variant {i}: {err}"
        );
        assert!(err.contains(path(&bad)), "names the file: {err}");
        assert!(
            !new.exists(),
            "variant {i}: the database folder was created"
        );
        assert!(
            !env.path(&format!("new{i}.restore")).exists(),
            "variant {i}: work folder left"
        );
    }
    let other = env.write("notes.txt", "not a backup at all, just text");
    let err = refused(&["restore", path(&other)], &env.path("n"));
    assert!(err.contains("not a rolo backup"), "{err}");
    assert!(!env.path("n").exists());
}

#[test]
fn restore_over_a_database_needs_yes_and_then_replaces_it_whole() {
    let env = populated();
    let file = env.path("b.rolobak");
    ok_json(&["backup", path(&file)], &env.db);
    let backed_up = export(&env.db);
    // Changes after the backup.
    ok_json(&["tag", "add", "later", "--query", ""], &env.db);
    let changed = export(&env.db);
    assert_ne!(changed, backed_up);

    let err = refused(&["restore", path(&file)], &env.db);
    assert!(err.contains("--yes") && err.contains("holds data"), "{err}");
    assert_eq!(
        export(&env.db),
        changed,
        "refused: the database is as it was"
    );

    let r = ok_json(&["restore", path(&file), "--yes"], &env.db);
    assert_eq!(r["replaced"], true);
    assert_eq!(export(&env.db), backed_up);
    assert_eq!(
        ok_json(&["check"], &env.db)["problems"],
        Value::Array(vec![])
    );
    assert!(
        !env.path("db.restore").exists(),
        "the old database is removed"
    );

    // A folder of other files is never replaced, even with --yes.
    let docs = env.path("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("letter.txt"), "mine").unwrap();
    let err = refused(&["restore", path(&file), "--yes"], &docs);
    assert!(err.contains("not a rolo database"), "{err}");
    assert_eq!(
        std::fs::read_to_string(docs.join("letter.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn backup_refuses_to_overwrite_a_file_or_back_up_nothing() {
    let env = populated();
    let file = env.write("taken.rolobak", "an older backup");
    let err = refused(&["backup", path(&file)], &env.db);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "an older backup");
    ok_json(&["backup", path(&file), "--yes"], &env.db);
    assert!(std::fs::read(&file).unwrap().starts_with(b"ROLOBAK\n"));

    let none = env.path("nowhere");
    let err = refused(&["backup", path(&env.path("x.rolobak"))], &none);
    assert!(err.contains("no database"), "{err}");
    assert!(
        !none.exists(),
        "backing up a missing database does not create one"
    );
}

/// A backup is taken by the process that holds the database, while it
/// works: here one thread tags and untags every customer in one unit each,
/// over and over, while another takes backups. Each backup must restore to
/// a database that passes `check` with the tag on everyone or no one.
#[test]
fn backups_taken_while_changes_commit_are_consistent() {
    let env = populated();
    let store = std::sync::Arc::new(reopen(&env.db));
    let everyone: Vec<_> = store.customers().map(|c| c.unwrap().id).collect();
    let live = store.live_count().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (std::sync::Arc::clone(&store), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut rounds = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if rounds % 2 == 0 {
                    store.add_tag("flip", &everyone).unwrap();
                } else {
                    store.remove_tag("flip", &everyone).unwrap();
                }
                rounds += 1;
            }
            rounds
        })
    };
    for i in 0..20 {
        let file = env.path(&format!("live{i}.rolobak"));
        store.backup(&file, &mut |_| {}).unwrap();
        let new = env.path(&format!("live{i}"));
        Store::restore(&file, &new, false, &mut |_| {}).unwrap();
        let restored = reopen(&new);
        assert_eq!(
            restored.check().unwrap(),
            Vec::<String>::new(),
            "backup {i}"
        );
        let tagged = restored
            .tags()
            .unwrap()
            .into_iter()
            .find(|t| t.name == "flip")
            .map_or(0, |t| t.count);
        assert!(
            tagged == 0 || tagged == live,
            "backup {i}: flip on {tagged} of {live}"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        writer.join().unwrap() > 0,
        "the writer committed while backups ran"
    );
}

/// `:backup FILE` in the workbench writes a backup of the open database,
/// says so on the status line, and never replaces an existing file.
#[test]
fn the_workbench_palette_backs_up_the_open_database() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use rolo::tui::app::App;
    use rolo::tui::keymap::KeyMap;

    let env = populated();
    let store = std::sync::Arc::new(reopen(&env.db));
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    let mut app = App::new(std::sync::Arc::clone(&store), KeyMap::default(), as_of, 20).unwrap();
    fn type_line(app: &mut App, line: &str) -> String {
        app.on_key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE));
        for c in line.chars() {
            app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        app.status.clone().unwrap_or_default()
    }
    let file = env.path("from-the-workbench.rolobak");
    let status = type_line(&mut app, &format!("backup {}", path(&file)));
    assert!(status.contains("backed up"), "{status}");
    let new = env.path("restored");
    Store::restore(&file, &new, false, &mut |_| {}).unwrap();
    drop(app);
    assert_eq!(
        entries(&new),
        store.raw_entries().map(Result::unwrap).collect::<Vec<_>>()
    );

    let taken = env.write("taken.rolobak", "keep me");
    let mut app = App::new(std::sync::Arc::clone(&store), KeyMap::default(), as_of, 20).unwrap();
    let status = type_line(&mut app, &format!("backup {}", path(&taken)));
    assert!(status.contains("exists"), "{status}");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me");
}
