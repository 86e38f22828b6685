//! The canary test: personal data must not leak into places the user did
//! not ask to see it. Unique values (`canary7f3a9c` in names, emails,
//! ext_ids, notes, addresses; the digits 13900007777 in a phone) go
//! through imports with bad rows, every kind of failing command and debug
//! logging; then these places are scanned and must hold none of them:
//!
//! - **the log files**: everything under `$XDG_CACHE_HOME` (the log is
//!   `rolo/rolo.log`), written at `ROLO_LOG=debug`/`RUST_LOG=debug`. Logs
//!   are kept, rotated and shipped; they must name what happened, never a
//!   value.
//! - **every stderr**: errors, warnings and progress of every command,
//!   successful or not, including errors about queries that contain a
//!   canary next to their mistake (an error may quote the bad token, which
//!   is the user's own typing, but never the rest of the query) and about
//!   a database locked by another process. stderr ends up in cron mails
//!   and CI logs.
//! - **panic output**: rolo has no way to force a panic (and gets no
//!   backdoor for this test); the panic hook is checked directly instead:
//!   a panic whose message carries a value must not put the value in the
//!   log or on stderr (Rust's own messages quote strings, e.g. slicing
//!   one off a character boundary).
//!
//! Exempt, on purpose: stdout, which is the data the user asked for (a
//! search, an export, an import report naming the fields it emptied), and
//! **the rejects file**, whose whole point is to hold the original rows so
//! the user can fix and re-import them. It is the user's own data written
//! next to the input they chose, so what matters is who else can read it:
//! the test checks it is 0600 (and the log file too).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failure should stop the test loudly"
)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Text that only the seeded values contain (checked case-insensitively).
const CANARY: &str = "canary7f3a9c";
/// The digits of the seeded phone number, in the forms they could show.
const PHONE_DIGITS: [&str; 3] = ["13900007777", "139 0000 7777", "139-0000-7777"];

struct Sandbox {
    env: common::Env,
    /// Every stderr captured, with the command that wrote it.
    stderrs: Vec<(String, String)>,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            env: common::Env::new(),
            stderrs: Vec::new(),
        }
    }

    fn home(&self) -> PathBuf {
        self.env.path("home")
    }

    fn cache(&self) -> PathBuf {
        self.env.path("cache")
    }

    /// `rolo ARGS --db DB` with private XDG folders and debug logging;
    /// records stderr.
    fn run(&mut self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        common::assert_no_panic(&out);
        self.stderrs
            .push((format!("{args:?}"), common::stderr(&out)));
        out
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = common::rolo_std();
        c.args(args)
            .arg("--db")
            .arg(&self.env.db)
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.cache())
            .env("XDG_CONFIG_HOME", self.env.path("config"))
            .env("XDG_DATA_HOME", self.env.path("data"))
            .env("ROLO_LOG", "debug")
            .env("RUST_LOG", "debug")
            .env("RUST_BACKTRACE", "1");
        c
    }

    /// Runs a command that must succeed.
    fn ok(&mut self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rolo {args:?}: {}",
            common::stderr(&out)
        );
        out
    }

    /// Runs a command that must fail.
    fn fails(&mut self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "rolo {args:?} should have failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        out
    }
}

/// Where `text` holds a canary, if anywhere.
fn canary_in(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    if lower.contains(CANARY) {
        return Some(CANARY);
    }
    PHONE_DIGITS.into_iter().find(|d| text.contains(d))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The permission bits, in octal.
fn mode(p: &Path) -> String {
    format!(
        "{:o}",
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    )
}

#[test]
fn seeded_values_never_reach_logs_or_stderr() {
    let mut sb = Sandbox::new();
    let customers = sb.env.write(
        "customers.csv",
        "ext_id,name,email,phone,street,city,notes\n\
         CANARY7f3a9cEXT1,Canary7f3a9c Name,canary7f3a9c@example.com,+86 139 0000 7777,Canary7f3a9c Street 9,Canary7f3a9c City,Canary7f3a9c remark\n\
         CANARY7f3a9cEXT2,Other Canary7f3a9c,canary7f3a9c-not-an-email,139-0000-7777x,,Canary7f3a9c Town,\n\
         ,,,,Canary7f3a9c Street 1,Canary7f3a9c only a city,\n\
         CANARY7f3a9cEXT3,\"Canary7f3a9c unclosed,quote\n",
    );
    let orders = sb.env.write(
        "orders.csv",
        "order_id,customer,order_date,amount\n\
         CANARY7f3a9cO1,CANARY7f3a9cEXT1,2024-03-01,10.00\n\
         CANARY7f3a9cO2,CANARY7f3a9cEXT1,not a date canary7f3a9c,10.00\n\
         CANARY7f3a9cO3,canary7f3a9c@example.com,2024-03-02,canary7f3a9c\n",
    );
    let notes = sb.env.write(
        "notes.csv",
        "customer,at,kind,text\n\
         CANARY7f3a9cEXT1,2024-03-01 10:00,call,Canary7f3a9c called about 139 0000 7777\n\
         CANARY7f3a9cNOBODY,2024-03-01 10:00,call,Canary7f3a9c unknown customer\n\
         CANARY7f3a9cEXT1,canary7f3a9c,canary7f3a9c,Canary7f3a9c bad time\n",
    );
    let json = sb.env.write(
        "more.json",
        "[{\"name\":\"Canary7f3a9c Json\",\"email\":\"canary7f3a9c.json@example.com\"},\
          {\"city\":\"Canary7f3a9c nobody\"}, 42]",
    );
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let r = sb.ok(&["import", "customers", &path(&customers), "--json"]);
    let report = common::single_json(&r.stdout);
    assert!(report["rejected"].as_u64().unwrap() >= 1, "{report}");
    sb.ok(&["import", "customers", &path(&customers)]);
    sb.ok(&["import", "orders", &path(&orders)]);
    sb.ok(&["import", "notes", &path(&notes)]);
    sb.ok(&["import", "customers", &path(&json), "--format", "json"]);
    sb.fails(&[
        "import",
        "customers",
        &path(&customers),
        "--map",
        "nosuchcolumn=name",
    ]);
    let headerless = sb
        .env
        .write("headerless.csv", "Canary7f3a9c,canary7f3a9c@x.com\n");
    sb.run(&["import", "customers", &path(&headerless)]);

    // Reading it back works (stdout is exempt) ...
    let found = sb.ok(&["search", "canary7f3a9c", "--json"]);
    assert!(
        common::single_json(&found.stdout)["total"]
            .as_u64()
            .unwrap()
            >= 2,
        "the canaries were imported"
    );
    for args in [
        &["export", "customers", "--format", "json"][..],
        &["history", "1"],
        &["audit"],
        &["quality"],
        &["dedup", "scan"],
        &["segments", "--by", "city"],
        &["check"],
    ] {
        sb.ok(args);
    }
    // ... and failing commands say what is wrong without the values.
    for q in [
        "Canary7f3a9c city:",
        "Canary7f3a9c (",
        "canary7f3a9c spend>",
        "\"Canary7f3a9c",
        "Canary7f3a9c OR",
        "Canary7f3a9c rfm:x",
        "139 0000 7777 )",
    ] {
        sb.fails(&["search", "--", q]);
        sb.fails(&["export", "customers", "--query", q]);
        sb.fails(&["tag", "add", "vip", "--query", q]);
    }
    sb.fails(&["tag", "add", "bad*", "--id", "1"]);
    sb.fails(&["tag", "rename", "none", "x"]);
    sb.fails(&["tag", "rule", "set", "r", "Canary7f3a9c ("]);
    sb.fails(&["segments", "save", "s", "canary7f3a9c spend>"]);
    sb.fails(&["erase", "1"]);
    sb.fails(&["dedup", "merge", "1", "999"]);
    sb.fails(&["trash", "restore", "1"]);
    sb.fails(&["history", "999"]);
    sb.fails(&["import", "revert", "999"]);
    sb.fails(&["import", "customers", "/nonexistent/customers.csv"]);

    // A database locked by another process (the workbench, say).
    {
        let _lock =
            rolo::store::Store::open(&sb.env.db, &rolo::store::OpenOptions::default()).unwrap();
        let out = sb.fails(&["search", "Canary7f3a9c"]);
        assert!(
            common::stderr(&out).contains("in use"),
            "{}",
            common::stderr(&out)
        );
        sb.fails(&["import", "customers", &path(&customers)]);
    }

    // Nothing in any stderr ...
    let leaks: Vec<String> = sb
        .stderrs
        .iter()
        .filter_map(|(cmd, err)| canary_in(err).map(|c| format!("rolo {cmd}: {c} in {err}")))
        .collect();
    assert!(
        leaks.is_empty(),
        "stderr holds seeded values:\n{}",
        leaks.join("\n")
    );
    // ... nor in any log file, which exist and are private.
    let logs = files_under(&sb.cache());
    assert!(
        logs.iter().any(|p| p.ends_with("rolo/rolo.log")),
        "no log under {}: {logs:?}",
        sb.cache().display()
    );
    for log in &logs {
        let text = String::from_utf8_lossy(&std::fs::read(log).unwrap()).into_owned();
        if let Some(c) = canary_in(&text) {
            panic!("{} holds {c}:\n{text}", log.display());
        }
        assert_eq!(mode(log), "600", "{} is readable by others", log.display());
    }
    // The rejects files hold the rows (their purpose), for the user only.
    let rejects = files_under(sb.env.dir.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".rejects.csv"))
        .collect::<Vec<_>>();
    assert!(rejects.len() >= 3, "{rejects:?}");
    for r in &rejects {
        assert_eq!(mode(r), "600", "{} is readable by others", r.display());
    }
}

/// rolo has no way to force a panic, so the report its panic hook writes
/// (to the log and to stderr) is checked on a panic raised here, whose
/// message carries a canary the way Rust's own messages quote strings.
#[test]
fn a_panic_reports_its_place_not_its_message() {
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&reports);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        sink.lock().unwrap().push(rolo::cli::panic_report(info));
    }));
    let name = String::from("张Canary7f3a9c");
    let caught = std::panic::catch_unwind(|| {
        let cut = std::hint::black_box(1);
        name[..cut].len()
    });
    std::panic::set_hook(previous);
    assert!(caught.is_err(), "slicing inside a character panics");
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].starts_with("internal error at tests/canary.rs:"),
        "{reports:?}"
    );
    assert_eq!(canary_in(&reports[0]), None, "{reports:?}");
}
