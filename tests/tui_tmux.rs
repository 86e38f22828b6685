//! End to end: the real binary in a real terminal (tmux, its own server),
//! driven with send-keys and read with capture-pane. Polls for text instead
//! of sleeping. `.ci/run` installs tmux when it is missing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failure should stop the test loudly"
)]

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (.ci/run installs it)")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "rolo"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "rolo"]).stdout)
            .into_owned()
    }

    /// Whether the program in the pane asked for mouse reports ("1" or "0").
    fn mouse_flags(&self) -> String {
        String::from_utf8_lossy(
            &self
                .cmd(&["display-message", "-p", "-t", "rolo", "#{mouse_any_flag}"])
                .stdout,
        )
        .trim()
        .to_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited 20 s for {text:?}; the screen is:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

#[test]
fn open_search_view_edit_trash_restore_note_tags_sort_segments_quality_erase_and_quit_in_a_real_terminal()
 {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let csv = tmp.path().join("c.csv");
    std::fs::write(
        &csv,
        "ext_id,name,phone,email,city,注册日期\nC1,张伟,13800138000,zw@example.cn,上海,2024-01-01\nC2,Ann Lee,+14155550100,ann@example.com,SF,2024-01-02\nC3,Evil\u{1b}]0;pwned\u{7},13700137000,e@example.com,Paris,2024-01-03\n",
    )
    .unwrap();
    // One order, ten days ago: 张伟 is the one RFM "New Customer".
    let orders = tmp.path().join("o.csv");
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(10);
    std::fs::write(
        &orders,
        format!("order_id,customer,order_date,amount\nO1,C1,{day},99.00\n"),
    )
    .unwrap();
    for (kind, file) in [("customers", &csv), ("orders", &orders)] {
        let import = Command::new(env!("CARGO_BIN_EXE_rolo"))
            .args(["import", kind])
            .arg(file)
            .arg("--db")
            .arg(&db)
            .env_remove("ROLO_DB")
            .output()
            .unwrap();
        assert!(
            import.status.success(),
            "{}",
            String::from_utf8_lossy(&import.stderr)
        );
    }

    let tmux = Tmux {
        socket: format!("rolo-test-{}", std::process::id()),
    };
    let command = format!(
        "env HOME={home} XDG_CONFIG_HOME={home}/config NO_COLOR=1 {bin} --db {db}; echo ROLO-EXITED $?; sleep 30",
        home = tmp.path().display(),
        bin = env!("CARGO_BIN_EXE_rolo"),
        db = db.display()
    );
    let started = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "rolo",
        "-x",
        "80",
        "-y",
        "24",
        &command,
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );

    let s = tmux.wait_for("3 customers");
    assert!(s.contains("张伟") && s.contains("Ann Lee"), "{s}");
    // The Duplicates pane scans in the background, finds nobody twice,
    // and does not act on the list hidden behind it; the number keys pick
    // values there, so Shift-Tab leaves.
    tmux.keys(&["3"]);
    tmux.wait_for("no duplicates left to review among 3 customers");
    tmux.keys(&["d"]);
    tmux.wait_for("d does nothing here; ? lists the keys");
    tmux.keys(&["BTab", "BTab"]);
    tmux.wait_for("NORMAL │ Customers │ 3 customers");
    assert_eq!(tmux.mouse_flags(), "1", "the wheel needs mouse reports on");
    let title = String::from_utf8_lossy(
        &tmux
            .cmd(&["display-message", "-p", "-t", "rolo", "#{pane_title}"])
            .stdout,
    )
    .into_owned();
    assert!(
        !title.contains("pwned"),
        "an OSC title sequence from data reached the terminal: {title}"
    );

    tmux.keys(&["/", "zw"]);
    let s = tmux.wait_for("1 match ");
    assert!(s.contains("张伟") && !s.contains("Ann Lee"), "{s}");
    tmux.keys(&["Enter", "Enter"]);
    let s = tmux.wait_for("monthly spend");
    assert!(s.contains("zw@example.cn"), "{s}");
    // One Escape at a time: two in a row arrive as Alt-Escape.
    tmux.keys(&["Escape"]);
    tmux.wait_for("NORMAL");
    tmux.keys(&["Escape"]);
    tmux.wait_for("3 customers");
    tmux.keys(&["e"]);
    tmux.wait_for("edit customer");
    for _ in 0..6 {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["C-u", "Rome", "Enter"]);
    let s = tmux.wait_for("saved");
    assert!(!s.contains("edit customer"), "{s}");
    tmux.keys(&["u"]);
    tmux.wait_for("undid");
    tmux.keys(&["?"]);
    tmux.wait_for("keys: Customers list (any key closes)");
    tmux.keys(&["x", "d"]);
    tmux.wait_for("2 customers");
    tmux.keys(&["u"]);
    tmux.wait_for("3 customers");

    // Trash the first customer, find it in the trash view, restore it.
    tmux.keys(&["d"]);
    tmux.wait_for("2 customers");
    tmux.keys(&["D"]);
    let s = tmux.wait_for("the trash: 1 customer ");
    assert!(s.contains("张伟") && s.contains("TRASH"), "{s}");
    tmux.keys(&["r"]);
    tmux.wait_for("restored 张伟");
    let s = tmux.wait_for("the trash: 0 customers");
    assert!(s.contains("3 customers"), "{s}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("NORMAL");

    // Add a note from the list, see it in the 360° view, undo it there.
    tmux.keys(&["a"]);
    tmux.wait_for("note for 张伟");
    tmux.keys(&["Called back", "Tab", "4", "Enter"]);
    tmux.wait_for("added a call note to 张伟");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("call (4/5): Called back");
    assert!(s.contains("added a call note (4/5)"), "history: {s}");
    tmux.keys(&["u"]);
    let s = tmux.wait_for("undid");
    assert!(!s.contains("call (4/5): Called back"), "{s}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("NORMAL");

    // The Tags pane: create a tag, rename it, undo the rename.
    tmux.keys(&["2"]);
    tmux.wait_for("no tags yet: n creates one");
    tmux.keys(&["n", "vip", "Enter"]);
    tmux.wait_for("created tag vip");
    tmux.keys(&["R", "C-u", "gold", "Enter"]);
    let s = tmux.wait_for("renamed vip to gold");
    assert!(s.contains("  gold "), "{s}");
    tmux.keys(&["u"]);
    let s = tmux.wait_for("undid #");
    assert!(s.contains("  vip ") && !s.contains("  gold "), "{s}");
    tmux.keys(&["1"]);
    tmux.wait_for("NORMAL │ Customers");

    // Sort through the palette, with tab completion.
    tmux.keys(&[":", "sort sp", "Tab"]);
    tmux.wait_for(":sort spend");
    tmux.keys(&["Enter"]);
    tmux.wait_for("by spend ↓   ");

    // The Segments pane computes in the background, then Enter on a row
    // shows that segment's customers.
    tmux.keys(&["4"]);
    let s = tmux.wait_for("days since the last order");
    let row = s
        .lines()
        .find(|l| l.contains("New Customers"))
        .unwrap_or_default();
    assert!(
        row.split_whitespace().nth(2) == Some("1"),
        "one New Customer: {s}"
    );
    assert!(s.contains("No Orders"), "{s}");
    tmux.keys(&["j", "j", "j", "Enter"]);
    let s = tmux.wait_for("/rfm:new_customers");
    let s = if s.contains("1 match ") {
        s
    } else {
        tmux.wait_for("1 match ")
    };
    assert!(s.contains("张伟") && !s.contains("Ann Lee"), "{s}");

    // The Quality pane computes in the background too; Enter on a figure
    // lists its customers (neither a tag nor an order: Ann Lee and C3).
    tmux.keys(&["5"]);
    let s = tmux.wait_for("quality score");
    assert!(
        s.contains("no tag and no order") && s.contains("not available"),
        "{s}"
    );
    tmux.keys(&["j", "j", "j"]);
    tmux.wait_for("enter lists missing:tags missing:orders");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("/missing:tags missing:orders");
    let s = if s.contains("2 matches ") {
        s
    } else {
        tmux.wait_for("2 matches ")
    };
    assert!(s.contains("Ann Lee") && !s.contains("张伟"), "{s}");
    assert!(!s.contains("pwned"), "{s}");
    // The audit log, from the Quality pane.
    tmux.keys(&["5", "a"]);
    tmux.wait_for("audit log · every event");
    let s = tmux.wait_for(" events");
    assert!(s.contains("undo") && s.contains("edit"), "{s}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("NORMAL │ Quality");

    // Erase C3 after typing its id; the files are rewritten on the way out.
    tmux.keys(&["/", "C-u", "city:Paris", "Enter"]);
    tmux.wait_for("1 match ");
    tmux.keys(&["X"]);
    tmux.wait_for("erase customer 3: this cannot be undone");
    tmux.keys(&["3", "Enter"]);
    // (The sort on the status bar leaves room for the start only.)
    tmux.wait_for("erased customer 3; files compacte");
    tmux.wait_for("0 matches");
    tmux.keys(&["q"]);
    let s = tmux.wait_for("ROLO-EXITED 0");
    assert!(
        !s.contains("1 Customers"),
        "the workbench was left on screen:\n{s}"
    );
    assert!(s.contains("rewrote the database files"), "{s}");
    assert_eq!(
        tmux.mouse_flags(),
        "0",
        "mouse reports were left on for the shell"
    );
    let search = Command::new(env!("CARGO_BIN_EXE_rolo"))
        .args(["--json", "search", "city:Paris", "--db"])
        .arg(&db)
        .env_remove("ROLO_DB")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&search.stdout);
    assert!(out.contains("\"total\":0"), "{out}");
}

/// An SSH link that drops takes the terminal away: rolo must exit (not spin
/// on end-of-file) and release the database, with everything committed kept.
#[test]
fn a_dropped_terminal_ends_rolo_and_releases_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    {
        let store = rolo::store::Store::open(&db, &rolo::store::OpenOptions::default()).unwrap();
        store
            .create_customer(&rolo::model::Customer {
                name: "Kept".into(),
                ..Default::default()
            })
            .unwrap();
    }
    let tmux = Tmux {
        socket: format!("rolo-hup-{}", std::process::id()),
    };
    let command = format!(
        "env HOME={home} XDG_CONFIG_HOME={home}/config {bin} --db {db}",
        home = tmp.path().display(),
        bin = env!("CARGO_BIN_EXE_rolo"),
        db = db.display()
    );
    assert!(
        tmux.cmd(&[
            "new-session",
            "-d",
            "-s",
            "rolo",
            "-x",
            "80",
            "-y",
            "24",
            &command
        ])
        .status
        .success()
    );
    tmux.wait_for("1 customer ");
    assert!(tmux.cmd(&["kill-server"]).status.success());
    let start = Instant::now();
    loop {
        match rolo::store::Store::open(&db, &rolo::store::OpenOptions::default()) {
            Ok(store) => {
                assert_eq!(store.live_count().unwrap(), 1);
                break;
            }
            Err(e) => {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "rolo still holds the database 10 s after the terminal went away: {e}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
