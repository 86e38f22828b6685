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

    /// A tmux format (`#{pane_title}`, `#{alternate_on}`) for the pane.
    fn format(&self, f: &str) -> String {
        String::from_utf8_lossy(&self.cmd(&["display-message", "-p", "-t", "rolo", f]).stdout)
            .trim_end_matches('\n')
            .to_owned()
    }

    /// The paste buffers with a sample of each (`list-buffers`).
    fn buffers(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["list-buffers"]).stdout).into_owned()
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

/// Payloads that act on a terminal when printed as they are: set the
/// window title (OSC 0 ended by BEL, OSC 2 ended by ST), write the
/// clipboard (OSC 52, "PWNED-CLIP" in base64), clear the screen and home
/// the cursor (CSI), C1 controls (NEL, the 8-bit CSI) and bidi overrides
/// (RLO, LRI); and a bare carriage return.
const OSC_TITLE0: &str = "\u{1b}]0;PWNED-T0\u{7}";
const OSC_TITLE2: &str = "\u{1b}]2;PWNED-T2\u{1b}\\";
const OSC_CLIPBOARD: &str = "\u{1b}]52;c;UFdORUQtQ0xJUA==\u{7}";
const CSI_CLEAR_HOME: &str = "\u{1b}[2J\u{1b}[H";
const C1_NEL_CSI: &str = "\u{85}\u{9b}2J";
const BIDI: &str = "\u{202e}\u{2066}";

/// Every payload in one value.
fn payloads() -> String {
    [
        OSC_TITLE0,
        OSC_TITLE2,
        OSC_CLIPBOARD,
        CSI_CLEAR_HOME,
        "\r",
        C1_NEL_CSI,
        BIDI,
    ]
    .concat()
}

/// A database whose text carries the payloads wherever a value can reach
/// the screen. The importer cleans values, so one customer comes through
/// an import (its file name, which is not cleaned, reaches the audit
/// log); the rest go through the store API, which keeps values as given,
/// as an edit or an older rolo would: each field carries one payload
/// after a short label, so the screen shows it before any cut.
fn hostile_database(dir: &std::path::Path) -> std::path::PathBuf {
    use rolo::model::{Customer, NoteKind};
    let db = dir.join("db");
    let all = payloads();
    let csv = dir.join(format!("in{OSC_TITLE0}{CSI_CLEAR_HOME}.csv"));
    std::fs::write(
        &csv,
        format!("name,email,city\n\"Imp{all}orted\",imp@example.com,\"Imp{all}city\"\n,bad,row\n"),
    )
    .unwrap();
    let import = Command::new(env!("CARGO_BIN_EXE_rolo"))
        .args(["import", "customers"])
        .arg(&csv)
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
    let store = rolo::store::Store::open(&db, &rolo::store::OpenOptions::default()).unwrap();
    let hostile = Customer {
        ext_id: Some(format!("X{OSC_TITLE2}")),
        name: format!("Evil{OSC_TITLE0}name"),
        emails: vec!["evil@example.com".into()],
        phones: vec!["+8613800138000".into()],
        company: Some(format!("Co{OSC_CLIPBOARD}")),
        title: Some(format!("Ti{C1_NEL_CSI}tle")),
        street: Some("St\rreet".into()),
        city: Some(format!("Ci{CSI_CLEAR_HOME}ty")),
        attrs: vec![(format!("k{C1_NEL_CSI}"), format!("v{all}"))],
        invalid: vec![("email".into(), format!("inv{all}"))],
        tags: vec![format!("tag{OSC_TITLE0}")],
        ..Customer::default()
    };
    let id = store.create_customer(&hostile).unwrap();
    // The same email: a duplicate pair for the Duplicates pane.
    store
        .create_customer(&Customer {
            name: format!("Twin{all}"),
            emails: vec!["evil@example.com".into()],
            ..Customer::default()
        })
        .unwrap();
    let trashed = store
        .create_customer(&Customer {
            name: format!("Trashed{OSC_CLIPBOARD}"),
            ..Customer::default()
        })
        .unwrap();
    store.trash_customer(trashed).unwrap();
    store
        .add_customer_note(id, NoteKind::Call, &format!("note{all}"), Some(3))
        .unwrap();
    let mut edited = store.customer(id).unwrap().unwrap();
    edited.region = Some(format!("Re{OSC_TITLE2}gion"));
    store.update_customer(&edited).unwrap();
    let bidi_tag = format!("bidi{BIDI}tag");
    store.add_tag(&bidi_tag, &[id]).unwrap();
    store
        .set_tag_look(&bidi_tag, None, Some(&format!("desc{all}")))
        .unwrap();
    store
        .save_segment(&format!("Seg{BIDI}{OSC_TITLE2}"), "has:email")
        .unwrap();
    db
}

/// Terminal escape injection, end to end: values carrying title, clipboard,
/// cursor, carriage-return, C1 and bidi sequences are shown in every pane
/// (list, 360° view with notes and history, tags, duplicates, segments,
/// quality, audit log and an event's changes, trash, help), and the
/// terminal neither changes its title, nor gets a clipboard buffer, nor
/// clears or moves its cursor: the payloads show as visible placeholders.
#[test]
fn escape_sequences_in_data_show_as_placeholders_in_every_pane() {
    let tmp = tempfile::tempdir().unwrap();
    let db = hostile_database(tmp.path());
    let tmux = Tmux {
        socket: format!("rolo-esc-{}", std::process::id()),
    };
    // First a control: the same sequences printed raw do set the title
    // and create a buffer here, so the checks below can see a leak (tmux
    // keeps an OSC 52 as a buffer only with set-clipboard on).
    let control = format!("sleep 0.3; printf '{OSC_TITLE2}{OSC_CLIPBOARD}'; sleep 30");
    assert!(
        tmux.cmd(&["new-session", "-d", "-s", "control", &control])
            .status
            .success()
    );
    assert!(
        tmux.cmd(&["set-option", "-g", "set-clipboard", "on"])
            .status
            .success()
    );
    let start = Instant::now();
    while !tmux.buffers().contains("PWNED-CLIP") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "tmux did not take the control's OSC 52: {:?}",
            tmux.buffers()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let control_title = tmux.cmd(&["display-message", "-p", "-t", "control", "#{pane_title}"]);
    assert_eq!(
        String::from_utf8_lossy(&control_title.stdout).trim(),
        "PWNED-T2"
    );
    assert!(tmux.cmd(&["delete-buffer"]).status.success());
    assert!(
        tmux.cmd(&["kill-session", "-t", "control"])
            .status
            .success()
    );

    let command = format!(
        "env HOME={home} XDG_CONFIG_HOME={home}/config XDG_CACHE_HOME={home}/cache NO_COLOR=1 {bin} --db {db}; sleep 30",
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
            "160",
            "-y",
            "45",
            &command
        ])
        .status
        .success()
    );
    let title = tmux.format("#{pane_title}");
    let mut screens = vec![tmux.wait_for("3 customers")];
    // (keys, text the screen then shows); one Escape per step.
    let walk: [(&[&str], &str); 23] = [
        (&["j"], "NORMAL"),
        (&["Enter"], "monthly spend"),
        (&["Escape"], "NORMAL"),
        (&["2"], "enter customers · n new"),
        (&["3"], "Duplicates"),
        (&["Tab"], "RFM segment"),
        (&["b"], "lifecycle"),
        (&["b"], "value"),
        (&["b"], "region"),
        (&["b"], "city"),
        (&["b"], "Seg"),
        (&["5"], "quality score"),
        (&["A"], "audit log"),
        (&["j"], "audit log"),
        (&["j"], "audit log"),
        (&["j"], "audit log"),
        (&["Enter"], "region"),
        (&["Escape"], "audit log"),
        (&["Escape"], "NORMAL"),
        (&["1"], "Customers"),
        (&["D"], "the trash"),
        (&["Escape"], "NORMAL"),
        (&["?"], "keys:"),
    ];
    for (keys, text) in walk {
        tmux.keys(keys);
        let s = tmux.wait_for(text);
        // Let the frame settle, then read it once more.
        std::thread::sleep(Duration::from_millis(300));
        let s = if tmux.screen().contains(text) {
            tmux.screen()
        } else {
            s
        };
        screens.push(s);
    }
    let all = screens.join("\n");
    for s in &screens {
        // A clear or a cursor move that ran would blank or shift the frame.
        assert!(
            s.starts_with(" 1 Customers  2 Tags"),
            "the frame was disturbed:\n{s}"
        );
    }
    assert_eq!(
        tmux.format("#{pane_title}"),
        title,
        "an OSC title sequence from data reached the terminal"
    );
    assert_eq!(
        tmux.buffers(),
        "",
        "an OSC 52 from data wrote the clipboard"
    );
    // Each payload shows as placeholders (␛ ESC, ␇ BEL, ␍ CR, <U+XXXX>).
    for shown in [
        "Evil␛]0;PWNED-T0␇name",
        "Co␛]52;c;UFdORUQtQ0xJUA==␇",
        "Ci␛[2J␛[Hty",
        "St␍reet",
        "Ti<U+0085><U+009B>2Jtle",
        "Re␛]2;PWNED-T2␛\\gion",
        "note␛]0;PWNED-T0␇",
        "tag␛]0;PWNED-T0␇",
        "bidi<U+202E><U+2066>tag",
        "desc␛]0;PWNED-T0␇",
        "Seg<U+202E><U+2066>␛]2;PWNED-T2",
        "Trashed␛]52;c;",
        "in␛]0;PWNED-T0␇␛[2J␛[H",
        // The importer cleaned what it read.
        "Imp orted",
    ] {
        assert!(
            all.contains(shown),
            "{shown:?} is not on any screen:\n{all}"
        );
    }
}

/// The SSH link dropping right after an edit: SIGHUP reaches rolo within
/// 50 ms of the screen acknowledging a saved edit. rolo must exit with the
/// edit on disk and hand the terminal back as it found it (main screen,
/// mouse reports off, cursor shown) to the shell that started it.
#[test]
fn sighup_right_after_an_acknowledged_edit_keeps_it_and_restores_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let id = {
        let store = rolo::store::Store::open(&db, &rolo::store::OpenOptions::default()).unwrap();
        store
            .create_customer(&rolo::model::Customer {
                name: "Kept".into(),
                city: Some("Paris".into()),
                ..Default::default()
            })
            .unwrap()
    };
    let tmux = Tmux {
        socket: format!("rolo-sighup-{}", std::process::id()),
    };
    // The shell stays after rolo, so the terminal modes it is left with
    // can be read (tmux hides the cursor of a dead pane).
    let command = format!(
        "env HOME={home} XDG_CONFIG_HOME={home}/config XDG_CACHE_HOME={home}/cache NO_COLOR=1 {bin} --db {db}; echo ROLO-EXITED $?; sleep 30",
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
    let pid = child_of(&tmux.format("#{pane_pid}")).expect("the shell runs rolo");
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "rolo", "env execs rolo");
    assert_eq!(tmux.format("#{alternate_on}"), "1");
    assert_eq!(tmux.format("#{mouse_any_flag}"), "1");
    assert_eq!(tmux.format("#{cursor_flag}"), "0", "rolo hides the cursor");

    tmux.keys(&["e"]);
    tmux.wait_for("edit customer");
    for _ in 0..6 {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["C-u", "Hangup City", "Enter"]);
    // Poll fast: the signal must follow the acknowledgement closely.
    let start = Instant::now();
    let acknowledged = loop {
        let s = tmux.screen();
        if s.contains("saved") {
            break Instant::now();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no 'saved':\n{s}"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let hup = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    let delay = acknowledged.elapsed();
    assert!(hup.success());
    assert!(
        delay < Duration::from_millis(50),
        "SIGHUP went {delay:?} after the acknowledgement"
    );

    let start = Instant::now();
    let s = loop {
        let s = tmux.screen();
        if s.contains("ROLO-EXITED") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "rolo still runs 10 s after SIGHUP:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(s.contains("ROLO-EXITED 0"), "{s}");
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "0",
        "rolo left the terminal on the alternate screen:\n{}",
        tmux.screen()
    );
    assert_eq!(
        tmux.format("#{mouse_any_flag}"),
        "0",
        "mouse reports left on"
    );
    assert_eq!(
        tmux.format("#{cursor_flag}"),
        "1",
        "the cursor was left hidden"
    );
    let store = rolo::store::Store::open(&db, &rolo::store::OpenOptions::default()).unwrap();
    let kept = store.customer(id).unwrap().unwrap();
    assert_eq!(kept.city.as_deref(), Some("Hangup City"), "{kept:?}");
}

/// The first process whose parent is `pid` (from /proc/*/stat).
fn child_of(pid: &str) -> Option<String> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
        let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
        (ppid == pid).then_some(name)
    })
}
