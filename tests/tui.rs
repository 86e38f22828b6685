//! The TUI without a terminal: key sequences into `App::on_key`, and screens
//! drawn on ratatui's TestBackend, compared with committed insta snapshots.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure should stop the test loudly"
)]

use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rolo::ingest::headers::RecordKind;
use rolo::ingest::{ImportOptions, import_file};
use rolo::search::engine::Index;
use rolo::store::{OpenOptions, Store};
use rolo::tui::app::{App, Mode, Pane};
use rolo::tui::keymap::KeyMap;
use rolo::tui::theme::Theme;
use rolo::tui::{page_rows, view};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

mod common;

const CUSTOMERS: &str = "ext_id,name,phone,email,city,company,注册日期
C1,张伟,13800138000,zhang.wei@example.cn,上海,上海云杉科技有限公司,2024-01-01
C2,Ann Lee,+1 415 555 0100,ann@example.com,San Francisco,Acme Inc,2024-02-01
C3,单田芳,13900139000,,北京,,2024-03-01
C4,\"Evil\x1b[31mRed\",13700137000,evil@example.com,Paris,,2024-04-01
C5,王芳芳芳芳芳芳芳芳芳芳芳,13600136000,wang@example.com,杭州,,2024-05-01
C6,Bob Smith,+44 20 7946 0018,bob@example.co.uk,London,Smith & Sons Ltd,2024-06-01
";

const ORDERS: &str = "order_id,customer,order_date,amount,currency,channel
O1,C1,2026-01-15,128.50,CNY,天猫
O2,C1,2026-06-01,99.00,CNY,京东
O3,C1,2026-11-20,300.00,CNY,store
O4,C2,2025-02-01,20.00,USD,web
";

struct Fixture {
    _tmp: tempfile::TempDir,
    store: Arc<Store>,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, CUSTOMERS).unwrap();
    // A fixed clock: notes and trash times on screen are reproducible.
    let opts = OpenOptions {
        clock: Some(
            chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
                .unwrap()
                .to_utc(),
        ),
        ..OpenOptions::default()
    };
    let store = Store::open(&tmp.path().join("db"), &opts).unwrap();
    let report = import_file(
        &store,
        &csv,
        &ImportOptions::new(RecordKind::Customers),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.inserted, 6, "{report:?}");
    let orders = tmp.path().join("o.csv");
    std::fs::write(&orders, ORDERS).unwrap();
    let report = import_file(
        &store,
        &orders,
        &ImportOptions::new(RecordKind::Orders),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.inserted, 4, "{report:?}");
    let notes = tmp.path().join("n.csv");
    std::fs::write(
        &notes,
        "customer,at,kind,text,satisfaction\nC1,2026-11-02 10:00:00,call,回访：很满意,5\n",
    )
    .unwrap();
    let report = import_file(
        &store,
        &notes,
        &ImportOptions::new(RecordKind::Notes),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.inserted, 1, "{report:?}");
    Fixture {
        _tmp: tmp,
        store: Arc::new(store),
    }
}

fn app(f: &Fixture, height: u16) -> App {
    let mut app = App::new(
        Arc::clone(&f.store),
        KeyMap::default(),
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        page_rows(height),
    )
    .unwrap();
    app.set_index(Arc::new(Index::load(&f.store).unwrap()));
    app
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        app.on_key(key(c));
    }
}

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, app, &Theme { color: false }))
        .unwrap();
    t
}

/// The screen as a terminal shows it: the cell after a wide character is
/// covered by it, so it is skipped ("张伟", not "张 伟 ").
fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut covered = 0;
        for x in 0..buf.area.width {
            if covered > 0 {
                covered -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            out.push_str(symbol);
            covered = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
        }
        out.push('\n');
    }
    out
}

#[test]
fn customers_pane_80x24() {
    let f = fixture();
    let a = app(&f, 24);
    insta::assert_snapshot!("customers_80x24", screen(&a, 80, 24).backend());
}

#[test]
fn customers_pane_160x48() {
    let f = fixture();
    let a = app(&f, 48);
    insta::assert_snapshot!("customers_160x48", screen(&a, 160, 48).backend());
}

#[test]
fn search_by_pinyin_initials_80x24() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "/zw");
    assert_eq!(a.mode, Mode::Search);
    assert_eq!(a.total, 1);
    assert_eq!(a.visible.len(), 1, "the rows on screen follow the search");
    assert_eq!(a.visible[0].customer.name, "张伟");
    insta::assert_snapshot!("search_zw_80x24", screen(&a, 80, 24).backend());
    let mut wide = app(&f, 48);
    press(&mut wide, "/zw");
    insta::assert_snapshot!("search_zw_160x48", screen(&wide, 160, 48).backend());
}

#[test]
fn help_overlay_lists_every_key_80x24() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "?");
    assert_eq!(a.mode, Mode::Help);
    let t = screen(&a, 80, 24);
    let s = text(&t);
    for (keys, action) in KeyMap::default().help() {
        assert!(
            s.contains(action.describe()) && s.contains(&keys),
            "help lacks {action:?} or cuts its description:\n{s}"
        );
    }
    insta::assert_snapshot!("help_80x24", t.backend());
    press(&mut a, "x");
    assert_eq!(a.mode, Mode::Normal, "any key closes help");
}

/// Number keys and Tab switch panes; in the Duplicates pane the number
/// keys pick a record's value instead, so Tab and Shift-Tab leave it.
#[test]
fn number_keys_and_tab_switch_panes() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "3");
    assert_eq!(a.pane, Pane::Duplicates);
    settle(&mut a);
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("no duplicates left to review among 6 customers"),
        "{s}"
    );
    press(&mut a, "1");
    assert_eq!(a.pane, Pane::Duplicates, "1 picks a value there");
    assert_eq!(status(&a), "no duplicates to review; r scans again");
    a.on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(a.pane, Pane::Tags);
    press(&mut a, "1");
    assert_eq!(a.pane, Pane::Customers);
    a.on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(a.pane, Pane::Tags);
    a.on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(a.pane, Pane::Customers);
}

#[test]
fn navigation_keys_move_and_clamp() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "jjj");
    assert_eq!(a.cursor, 3);
    press(&mut a, "k");
    assert_eq!(a.cursor, 2);
    press(&mut a, "G");
    assert_eq!(a.cursor, 5);
    press(&mut a, "j");
    assert_eq!(a.cursor, 5, "clamped at the last row");
    press(&mut a, "g");
    assert_eq!(a.cursor, 0);
    press(&mut a, "k");
    assert_eq!(a.cursor, 0);
    a.on_key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE));
    assert_eq!(a.cursor, 5);
}

#[test]
fn paging_reads_only_the_rows_on_screen() {
    let f = fixture();
    let mut a = app(&f, 7);
    assert_eq!(a.page, 3);
    assert_eq!(a.visible.len(), 3);
    press(&mut a, "jjjj");
    assert_eq!(a.offset, 2);
    assert_eq!(a.visible.len(), 3);
    assert_eq!(a.visible[0].customer.ext_id.as_deref(), Some("C3"));
}

#[test]
fn select_and_select_all() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, " j ");
    assert_eq!(a.selected.len(), 2);
    press(&mut a, "k ");
    assert_eq!(a.selected.len(), 1, "space toggles");
    a.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(a.selected.is_empty());
    press(&mut a, "/138");
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    press(&mut a, "*");
    assert_eq!(a.selected.len(), a.total);
    assert_eq!(a.total, 1);
}

#[test]
fn bad_query_shows_its_column_and_keeps_results() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "/city:");
    assert!(
        a.query_error.as_deref().unwrap().contains("column"),
        "{:?}",
        a.query_error
    );
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("column"), "{s}");
    a.on_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    press(&mut a, "上海");
    assert_eq!(a.query, "city上海");
}

#[test]
fn control_characters_from_data_are_shown_as_placeholders() {
    let f = fixture();
    // Import strips escapes; a record written another way must still be safe.
    let mut unit = f.store.begin().unwrap();
    let id = unit.new_customer_id().unwrap();
    let c = rolo::model::Customer {
        id,
        name: "Raw\x1b[31mRed\x1b]0;pwned\x07\r\u{202e}x".into(),
        ..Default::default()
    };
    unit.save_customer(&c).unwrap();
    unit.commit().unwrap();
    let mut a = app(&f, 24);
    press(&mut a, "G");
    let s = text(&screen(&a, 200, 24));
    assert!(
        !s.chars().any(|c| c.is_control() && c != '\n'),
        "a control character reached the screen: {s:?}"
    );
    assert!(
        !s.contains('\u{202e}'),
        "a bidi override reached the screen"
    );
    assert!(s.contains("Raw␛[31mRed␛]0;pwned␇␍"), "{s}");
}

#[test]
fn mask_hides_phones_and_emails() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "M");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("+86138****8000"), "{s}");
    assert!(s.contains("z***@example.cn"), "{s}");
    assert!(!s.contains("zhang.wei@"), "{s}");
}

#[test]
fn quit_key_quits() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "q");
    assert!(a.quit);
}

#[test]
fn enter_opens_the_360_view_and_esc_closes_it() {
    let f = fixture();
    let mut a = app(&f, 24);
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(a.mode, Mode::Detail);
    let d = a.detail.as_ref().unwrap();
    assert_eq!(d.customer.name, "张伟");
    assert_eq!(d.orders.first().unwrap().order_id, "O3", "newest first");
    assert_eq!(d.notes.len(), 1);
    let months: i64 = d.monthly.iter().map(|(_, v)| v).sum();
    assert_eq!(
        months,
        12850 + 9900 + 30000,
        "all three 2026 orders fall in the last 12 months"
    );
    insta::assert_snapshot!("detail_80x24", screen(&a, 80, 24).backend());
    insta::assert_snapshot!("detail_160x48", screen(&a, 160, 48).backend());
    press(&mut a, "M");
    let s = text(&screen(&a, 160, 48));
    assert!(
        s.contains("+86138****8000") && !s.contains("13800138000"),
        "{s}"
    );
    press(&mut a, "j");
    assert_eq!(
        a.mode,
        Mode::Detail,
        "navigation keys do nothing in the 360° view"
    );
    a.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.detail.is_none());
}

#[test]
fn monthly_spend_covers_the_twelve_months_up_to_as_of() {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let order = |d: &str, minor| rolo::model::Order {
        order_id: d.into(),
        date: date(d),
        amount_minor: minor,
        ..Default::default()
    };
    let m = rolo::tui::app::monthly_spend(
        &[
            order("2025-12-31", 5),
            order("2025-11-30", 7),
            order("2026-11-01", 3),
            order("2026-11-30", 4),
        ],
        date("2026-11-30"),
    );
    assert_eq!(m.len(), 12);
    assert_eq!(m[0], ("2025-12".to_string(), 5));
    assert_eq!(m[11], ("2026-11".to_string(), 7));
    assert_eq!(
        m.iter().map(|(_, v)| v).sum::<i64>(),
        12,
        "2025-11 is outside the window"
    );
}

#[test]
fn trash_undo_redo_from_the_keyboard() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "j");
    let second = a.visible[1].customer.id;
    press(&mut a, "d");
    assert_eq!(a.total, 5);
    assert!(
        a.status.as_deref().unwrap().contains("trash"),
        "{:?}",
        a.status
    );
    assert!(a.visible.iter().all(|r| r.customer.id != second));
    press(&mut a, "u");
    assert_eq!(a.total, 6);
    assert!(a.visible.iter().any(|r| r.customer.id == second));
    a.on_key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(a.total, 5, "redo trashes again");
    press(&mut a, "uu");
    assert_eq!(a.total, 6);
    assert!(
        a.status.as_deref().unwrap().contains("nothing to undo"),
        "{:?}",
        a.status
    );
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

#[test]
fn edit_form_saves_validates_and_undoes() {
    let f = fixture();
    let mut a = app(&f, 24);
    let id = a.visible[0].customer.id;
    press(&mut a, "e");
    assert_eq!(a.mode, Mode::Edit);
    insta::assert_snapshot!("edit_form_80x24", screen(&a, 80, 24).backend());
    insta::assert_snapshot!("edit_form_160x48", screen(&a, 160, 48).backend());
    // Move to the city field (7th) and replace it.
    for _ in 0..6 {
        a.on_key(code(KeyCode::Down));
    }
    a.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    press(&mut a, "北京");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal, "{:?}", a.form);
    assert!(
        a.status.as_deref().unwrap().starts_with("saved"),
        "{:?}",
        a.status
    );
    assert_eq!(
        f.store.customer(id).unwrap().unwrap().city.as_deref(),
        Some("北京")
    );
    press(&mut a, "u");
    assert_eq!(
        f.store.customer(id).unwrap().unwrap().city.as_deref(),
        Some("上海")
    );

    // An invalid email keeps the form open with the reason on screen.
    press(&mut a, "e");
    a.on_key(code(KeyCode::Down));
    a.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    press(&mut a, "not-an-email");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Edit);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("email 'not-an-email'"), "{s}");
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(
        f.store.customer(id).unwrap().unwrap().emails,
        ["zhang.wei@example.cn"]
    );
}

#[test]
fn new_customer_form_creates_one() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "n");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Edit, "an empty customer is refused");
    assert!(a.form.as_ref().unwrap().error.is_some());
    press(&mut a, "李娜");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.total, 7);
    press(&mut a, "/lina");
    assert_eq!(a.total, 1);
    assert_eq!(a.visible[0].customer.name, "李娜");
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// The worker's answers (sort keys, sorted searches, the trash) are in.
fn settle(a: &mut App) {
    a.settle(std::time::Duration::from_secs(20));
    assert!(!a.is_sorting(), "the worker did not answer");
}

fn ext_ids(a: &App) -> Vec<String> {
    a.visible
        .iter()
        .map(|r| r.customer.ext_id.clone().unwrap_or_default())
        .collect()
}

#[test]
fn help_lists_the_new_keys() {
    let f = fixture();
    let mut a = app(&f, 48);
    press(&mut a, "?");
    let s = text(&screen(&a, 160, 48));
    for want in [
        "add a note to the customer",
        "list the trash",
        "restore from the trash",
        "sort by the next field",
        "reverse the sort",
        "command palette",
        ":sort name|spend|orders|last_order|created [asc|desc]",
    ] {
        assert!(s.contains(want), "help lacks {want:?}:\n{s}");
    }
    for a in rolo::tui::action::Action::ALL {
        // Pane-only keys are in their pane's help (segments_help_..., quality_help_...).
        if !a.is_pane_only() {
            assert!(s.contains(a.describe()), "{a:?} is missing or cut:\n{s}");
        }
    }
    insta::assert_snapshot!("help_160x48", screen(&a, 160, 48).backend());
}

#[test]
fn note_key_adds_a_validated_note_that_undo_and_redo_take_back() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "j");
    let id = a.visible[1].customer.id;
    press(&mut a, "a");
    assert_eq!(a.mode, Mode::Note);
    assert_eq!(a.note_form.as_ref().unwrap().customer, id);
    // Enter with no text is refused, with the reason on screen.
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Note);
    assert!(text(&screen(&a, 80, 24)).contains("the note needs a text"));
    press(&mut a, "Asked for a refund: 退款");
    a.on_key(code(KeyCode::Up));
    a.on_key(code(KeyCode::Right));
    a.on_key(code(KeyCode::Right));
    a.on_key(code(KeyCode::Down));
    a.on_key(code(KeyCode::Down));
    press(&mut a, "7");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Note, "a score of 7 is refused");
    insta::assert_snapshot!("note_form_error_80x24", screen(&a, 80, 24).backend());
    a.on_key(code(KeyCode::Backspace));
    press(&mut a, "2");
    assert_eq!(
        a.note_form.as_ref().unwrap().error,
        None,
        "fixing it clears the reason"
    );
    insta::assert_snapshot!("note_form_160x48", screen(&a, 160, 48).backend());
    insta::assert_snapshot!("note_form_80x24", screen(&a, 80, 24).backend());
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(
        a.status.as_deref(),
        Some("added a visit note to Ann Lee (u undoes)")
    );
    let notes = f.store.notes_of(id).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].kind, rolo::model::NoteKind::Visit);
    assert_eq!(notes[0].text, "Asked for a refund: 退款");
    assert_eq!(notes[0].satisfaction, Some(2));

    press(&mut a, "u");
    assert!(f.store.notes_of(id).unwrap().is_empty(), "u takes it back");
    assert!(
        a.status.as_deref().unwrap().starts_with("undid"),
        "{:?}",
        a.status
    );
    a.on_key(ctrl('r'));
    assert_eq!(
        f.store.notes_of(id).unwrap().len(),
        1,
        "ctrl-r brings it again"
    );

    // Esc cancels without adding anything.
    press(&mut a, "a");
    press(&mut a, "never mind");
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(f.store.notes_of(id).unwrap().len(), 1);
}

#[test]
fn note_added_in_the_360_view_shows_in_its_notes_and_history() {
    let f = fixture();
    let mut a = app(&f, 24);
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Detail);
    press(&mut a, "a");
    assert_eq!(a.mode, Mode::Note);
    press(&mut a, "回访：想要发票");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Detail, "back to the 360° view");
    let d = a.detail.as_ref().unwrap();
    assert_eq!(d.notes.len(), 2);
    assert_eq!(
        d.notes[0].text, "回访:想要发票",
        "newest first, NFKC like an import"
    );
    assert_eq!(d.history[0].op, "note");
    insta::assert_snapshot!("detail_with_note_80x24", screen(&a, 80, 24).backend());
    insta::assert_snapshot!("detail_with_note_160x48", screen(&a, 160, 48).backend());
    press(&mut a, "u");
    assert_eq!(a.mode, Mode::Detail);
    let d = a.detail.as_ref().unwrap();
    assert_eq!(d.notes.len(), 1, "the 360° view follows undo");
    assert_eq!(d.history[0].op, "undo");
}

#[test]
fn trash_view_lists_restores_and_undoes() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "D");
    assert_eq!(a.mode, Mode::Trash);
    settle(&mut a);
    assert!(a.trash.as_ref().unwrap().rows.is_empty());
    assert!(text(&screen(&a, 80, 24)).contains("the trash is empty"));
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);
    assert!(a.trash.is_none());

    // Trash two customers, then list them: the latest first.
    press(&mut a, "jdjd");
    assert_eq!(a.total, 4);
    press(&mut a, "D");
    settle(&mut a);
    let rows: Vec<String> = a
        .trash
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(rows.len(), 2);
    insta::assert_snapshot!("trash_80x24", screen(&a, 80, 24).backend());
    insta::assert_snapshot!("trash_160x48", screen(&a, 160, 48).backend());
    press(&mut a, "j");
    assert_eq!(a.trash.as_ref().unwrap().cursor, 1);
    press(&mut a, "j");
    assert_eq!(a.trash.as_ref().unwrap().cursor, 1, "clamped");
    let restored = a.trash.as_ref().unwrap().rows[1].id;
    press(&mut a, "r");
    assert!(
        a.status.as_deref().unwrap().starts_with("restored"),
        "{:?}",
        a.status
    );
    assert_eq!(a.trash.as_ref().unwrap().rows.len(), 1);
    assert_eq!(a.total, 5, "the list behind has it back");
    assert!(f.store.customer(restored).unwrap().unwrap().is_live());
    press(&mut a, "u");
    assert_eq!(
        a.trash.as_ref().unwrap().rows.len(),
        2,
        "undo puts it back in the trash"
    );
    assert!(!f.store.customer(restored).unwrap().unwrap().is_live());
    a.on_key(ctrl('r'));
    assert_eq!(a.trash.as_ref().unwrap().rows.len(), 1);
    assert!(f.store.customer(restored).unwrap().unwrap().is_live());

    // Enter opens the 360° view of a trashed customer; esc returns to the trash.
    press(&mut a, "g");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Detail);
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Trash);
    press(&mut a, "D");
    assert_eq!(a.mode, Mode::Normal, "D closes it too");
}

#[test]
fn restore_key_outside_the_trash_says_where_it_works() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "r");
    assert!(
        a.status
            .as_deref()
            .unwrap()
            .contains("张伟 is not trashed; D lists the trash"),
        "{:?}",
        a.status
    );
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    assert_eq!(a.total, 6);
}

#[test]
fn sort_key_cycles_fields_and_reverse_key_flips() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "jj");
    press(&mut a, "s");
    assert_eq!(a.sort.unwrap().field, rolo::tui::sort::SortField::Name);
    settle(&mut a);
    assert_eq!(a.cursor, 0, "a new sort starts at the top");
    assert_eq!(
        ext_ids(&a),
        ["C2", "C6", "C3", "C4", "C5", "C1"],
        "by pinyin"
    );
    insta::assert_snapshot!("sorted_by_name_160x48", screen(&a, 160, 48).backend());
    press(&mut a, "s");
    settle(&mut a);
    assert_eq!(
        ext_ids(&a),
        ["C1", "C2", "C3", "C4", "C5", "C6"],
        "spend, biggest first"
    );
    insta::assert_snapshot!("sorted_by_spend_80x24", screen(&a, 80, 24).backend());
    press(&mut a, "S");
    settle(&mut a);
    assert_eq!(
        ext_ids(&a),
        ["C3", "C4", "C5", "C6", "C2", "C1"],
        "spend, smallest first"
    );
    press(&mut a, "s");
    settle(&mut a);
    assert_eq!(a.sort.unwrap().field, rolo::tui::sort::SortField::Orders);
    assert_eq!(ext_ids(&a)[..2], ["C1", "C2"]);
    press(&mut a, "s");
    settle(&mut a);
    assert_eq!(
        ext_ids(&a)[..3],
        ["C1", "C2", "C3"],
        "last order; none last"
    );
    press(&mut a, "s");
    settle(&mut a);
    assert_eq!(
        ext_ids(&a),
        ["C6", "C5", "C4", "C3", "C2", "C1"],
        "newest first"
    );
    press(&mut a, "s");
    assert_eq!(a.sort, None);
    assert_eq!(
        ext_ids(&a),
        ["C1", "C2", "C3", "C4", "C5", "C6"],
        "id order again"
    );
    press(&mut a, "S");
    assert!(
        a.status.as_deref().unwrap().contains("not sorted yet"),
        "{:?}",
        a.status
    );
}

#[test]
fn sort_applies_to_every_match_of_a_search_and_follows_changes() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "/138");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.total, 1);
    a.on_key(code(KeyCode::Esc));
    // Customers with a Chinese mobile: C1, C3, C4, C5 (+86 1..).
    press(&mut a, "/86");
    a.on_key(code(KeyCode::Enter));
    let matches = a.total;
    assert!(matches >= 4, "{matches}");
    press(&mut a, "s");
    settle(&mut a);
    assert_eq!(a.total, matches, "sorting keeps every match");
    let names: Vec<String> = a.visible.iter().map(|r| r.customer.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| rolo::tui::sort::name_key(n));
    assert_eq!(names, sorted);
    // Trash the first: it leaves at once, and the re-sort keeps the rest.
    let first = a.visible[0].customer.id;
    press(&mut a, "d");
    assert!(a.visible.iter().all(|r| r.customer.id != first));
    settle(&mut a);
    assert_eq!(a.total, matches - 1);
    press(&mut a, "u");
    settle(&mut a);
    assert_eq!(a.total, matches);
    assert_eq!(a.visible[0].customer.id, first, "back in its sorted place");
}

#[test]
fn sorted_browsing_follows_trash_and_undo() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "ss");
    settle(&mut a);
    assert_eq!(ext_ids(&a)[0], "C1");
    press(&mut a, "d");
    assert_eq!(ext_ids(&a)[0], "C2", "gone before the re-sort arrives");
    assert_eq!(a.total, 5);
    settle(&mut a);
    assert_eq!(ext_ids(&a), ["C2", "C3", "C4", "C5", "C6"]);
    press(&mut a, "u");
    settle(&mut a);
    assert_eq!(ext_ids(&a)[0], "C1");
    assert_eq!(a.total, 6);
}

#[test]
fn palette_completes_lists_runs_and_refuses_unknown_commands() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, ":");
    assert_eq!(a.mode, Mode::Command);
    insta::assert_snapshot!("palette_80x24", screen(&a, 80, 24).backend());
    let mut wide = app(&f, 48);
    press(&mut wide, ":");
    insta::assert_snapshot!("palette_160x48", screen(&wide, 160, 48).backend());
    press(&mut a, "so");
    a.on_key(code(KeyCode::Tab));
    assert_eq!(a.palette.as_ref().unwrap().input, "sort");
    press(&mut a, " sp");
    a.on_key(code(KeyCode::Tab));
    assert_eq!(a.palette.as_ref().unwrap().input, "sort spend");
    insta::assert_snapshot!("palette_sort_160x48", screen(&a, 160, 48).backend());
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal);
    settle(&mut a);
    assert_eq!(a.sort.unwrap().field, rolo::tui::sort::SortField::Spend);
    assert_eq!(ext_ids(&a)[..2], ["C1", "C2"]);

    press(&mut a, ":fly");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Command, "stays open to fix the typo");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("unknown command 'fly'"), "{s}");
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);

    press(&mut a, ":sort off");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.sort, None);
    press(&mut a, ":search zw");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.query, "zw");
    assert_eq!(a.total, 1);
    press(&mut a, ":trash");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Trash);
    a.on_key(code(KeyCode::Esc));
    press(&mut a, ":toggle_mask");
    a.on_key(code(KeyCode::Enter));
    assert!(a.masked);
    press(&mut a, ":quit");
    a.on_key(code(KeyCode::Enter));
    assert!(a.quit);
}

#[test]
fn mouse_wheel_scrolls_the_list_and_the_trash() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let wheel = |kind| MouseEvent {
        kind,
        column: 10,
        row: 5,
        modifiers: KeyModifiers::NONE,
    };
    let f = fixture();
    let mut a = app(&f, 7);
    assert!(a.on_mouse(wheel(MouseEventKind::ScrollDown)));
    assert_eq!(a.cursor, 3);
    assert!(a.on_mouse(wheel(MouseEventKind::ScrollDown)));
    assert_eq!(a.cursor, 5, "clamped at the last row");
    assert_eq!(
        a.visible[0].customer.ext_id.as_deref(),
        Some("C4"),
        "scrolled"
    );
    assert!(a.on_mouse(wheel(MouseEventKind::ScrollUp)));
    assert_eq!(a.cursor, 2);
    assert!(
        !a.on_mouse(wheel(MouseEventKind::Moved)),
        "other mouse events are ignored"
    );
    press(&mut a, "ggdddd");
    press(&mut a, "D");
    settle(&mut a);
    assert!(a.on_mouse(wheel(MouseEventKind::ScrollDown)));
    assert_eq!(a.trash.as_ref().unwrap().cursor, 3);
    a.on_key(code(KeyCode::Enter));
    assert!(
        !a.on_mouse(wheel(MouseEventKind::ScrollDown)),
        "not in the 360° view"
    );
}

/// The first frame never waits for a sort: chosen before the index has
/// loaded, the sort says "sorting…" and happens once the index is there.
#[test]
fn sort_chosen_before_the_index_loads_waits_for_it() {
    let f = fixture();
    let mut a = App::new(
        Arc::clone(&f.store),
        KeyMap::default(),
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        page_rows(24),
    )
    .unwrap();
    press(&mut a, "ss");
    assert!(a.is_sorting());
    a.settle(std::time::Duration::from_millis(200));
    assert!(a.is_sorting(), "nothing to sort until the index is there");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("sorting by spend ↓…"), "{s}");
    a.set_index(Arc::new(Index::load(&f.store).unwrap()));
    settle(&mut a);
    assert_eq!(ext_ids(&a)[..2], ["C1", "C2"]);
    assert!(text(&screen(&a, 80, 24)).contains("│ by spend ↓ "));
}

fn status(a: &App) -> String {
    a.status.clone().unwrap_or_default()
}

/// Whether the whole status message is on the status bar at 80x24.
fn status_shown(a: &App) -> bool {
    let s = text(&screen(a, 80, 24));
    s.lines().nth(23).is_some_and(|l| l.contains(&status(a)))
}

/// Regression: on a pane without the list (Duplicates, when it was a
/// placeholder), `j` moved and `d` trashed the hidden list's row (and
/// `e`, `a`, Enter acted on it). Those keys now say they do nothing
/// there (Enter, with no cluster, says why), and nothing changes.
#[test]
fn duplicates_pane_refuses_keys_that_would_act_on_the_hidden_list() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "3");
    settle(&mut a);
    for (k, name) in [
        ("d", "d"),
        ("e", "e"),
        ("a", "a"),
        (" ", "space"),
        ("*", "*"),
        ("t", "t"),
        ("S", "S"),
    ] {
        press(&mut a, k);
        assert_eq!(a.mode, Mode::Normal, "{k}");
        assert_eq!(
            status(&a),
            format!("{name} does nothing here; ? lists the keys"),
        );
        assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    }
    a.on_key(code(KeyCode::Enter));
    assert!(a.detail.is_none(), "enter opened a customer nobody sees");
    assert_eq!(status(&a), "no duplicates to review; r scans again");
    assert_eq!(a.total, 6, "nothing was trashed");
    assert_eq!(a.cursor, 0);
    assert!(a.selected.is_empty() && a.sort.is_none());
    // The palette runs the same rules.
    press(&mut a, ":trash_customer");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.total, 6);
    assert!(
        status(&a).starts_with(":trash_customer does nothing here"),
        "{}",
        status(&a)
    );
    // Leaving works, and so does search (it goes to the list).
    press(&mut a, "/zw");
    assert_eq!(
        (a.pane, a.mode, a.total),
        (Pane::Customers, Mode::Search, 1)
    );
}

/// `?` explains the keys of where it is pressed: in the 360° view and the
/// trash view it lists the keys that act there (esc closes the view), not
/// the list's; in the Duplicates pane, its own keys (the number keys
/// pick there, so the pane keys are not offered).
#[test]
fn help_lists_the_keys_of_the_current_view() {
    let f = fixture();
    let mut a = app(&f, 24);
    a.on_key(code(KeyCode::Enter));
    press(&mut a, "?");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("keys: 360° view (any key closes)"), "{s}");
    for want in [
        "close the 360° view",
        "edit the customer",
        "move it to the trash",
        "add a note",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    for not in [
        "move down",
        "first row",
        "select the whole result",
        "Tags pane",
    ] {
        assert!(
            !s.contains(not),
            "lists {not:?}, which does nothing here:\n{s}"
        );
    }
    insta::assert_snapshot!("help_detail_80x24", screen(&a, 80, 24).backend());
    press(&mut a, "x");
    assert_eq!(a.mode, Mode::Detail, "closing help returns to the view");
    a.on_key(code(KeyCode::Esc));

    press(&mut a, "D");
    settle(&mut a);
    press(&mut a, "?");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("keys: trash view"), "{s}");
    for want in [
        "close the trash view",
        "restore from the trash",
        "move down",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    assert!(!s.contains("move to the trash"), "{s}");
    insta::assert_snapshot!("help_trash_80x24", screen(&a, 80, 24).backend());
    press(&mut a, "x");
    a.on_key(code(KeyCode::Esc));

    press(&mut a, "3?");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("keys: Duplicates pane"), "{s}");
    assert!(
        s.contains("next pane") && s.contains("take record N's value"),
        "{s}"
    );
    assert!(
        !s.contains("Customers pane") && !s.contains("edit the customer"),
        "{s}"
    );
}

// ---- the Duplicates pane ----

/// Nine customers with planted duplicates: 1 and 2 (Zhang Wei, 张伟), 3,
/// 4 and 5 (Maria Garcia three times), 8 and 9 (Ann Lee with two emails);
/// 6 and 7 are nobody's double. 1, 2, 4 and 5 have an order each, 4 a note.
const DUP_CUSTOMERS: &str = "ext_id,name,email,phone,city,company,street,postcode,birth_date,注册日期
D-1,Zhang Wei,zhang.wei@example.cn,13800138001,上海,云杉科技,浦东大道100号,200120,1985-04-12,2024-01-05
D-2,张伟,zhang.wei@example.cn,13800138001,上海,云杉科技有限公司,,200120,,2024-03-01
D-3,Maria Garcia,maria.garcia@example.es,+34 612 345 678,Madrid,,Calle Mayor 5,28013,1990-07-01,2023-05-01
D-4,María García,maria.garcia@example.es,+34612345678,Madrid,Garcia SL,Calle Mayor 5,28013,,2024-02-01
D-5,M. Garcia,maria.garcia@example.es,+34612345678,Madrid,Garcia SL,,28013,1990-07-01,2024-06-01
D-6,Li Na,li.na@example.cn,13900139000,北京,,,,,2024-01-01
D-7,Bob Smith,bob@example.co.uk,+44 20 7946 0018,London,Smith & Sons Ltd,,,,2024-06-01
D-8,Ann Lee,ann@example.com,+1 415 555 0100,San Francisco,Acme Inc,,,,2024-02-01
D-9,Ann Lee,ann.lee@example.com,+1 415 555 0100,San Francisco,Acme,,,,2024-07-01
";

fn dup_fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let store = store_at(tmp.path(), NOW);
    for (name, text, kind, want) in [
        ("c.csv", DUP_CUSTOMERS, RecordKind::Customers, 9),
        (
            "o.csv",
            "order_id,customer,order_date,amount,currency\n\
             O1,D-1,2026-01-15,128.50,CNY\nO2,D-2,2026-06-01,99.00,CNY\n\
             O3,D-4,2025-02-01,20.00,EUR\nO4,D-5,2025-03-01,35.00,EUR\n",
            RecordKind::Orders,
            4,
        ),
        (
            "n.csv",
            "customer,at,kind,text\nD-4,2026-11-02 10:00:00,call,asked for a refund\n",
            RecordKind::Notes,
            1,
        ),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let report = import_file(
            &store,
            &path,
            &ImportOptions::new(kind),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(report.inserted, want, "{report:?}");
    }
    Fixture {
        _tmp: tmp,
        store: Arc::new(store),
    }
}

/// `3`, then the scan's answer.
fn dup_app(f: &Fixture, height: u16) -> App {
    let mut a = app(f, height);
    press(&mut a, "3");
    assert_eq!(a.pane, Pane::Duplicates);
    settle(&mut a);
    assert!(a.duplicates.review.is_some(), "the scan did not answer");
    a
}

/// The members of every cluster in the queue, in queue order.
fn queue(a: &App) -> Vec<Vec<u64>> {
    a.duplicates
        .review
        .as_ref()
        .map(|r| {
            r.clusters
                .iter()
                .map(|c| c.members.iter().map(|m| m.0).collect())
                .collect()
        })
        .unwrap_or_default()
}

/// Moves the cursor to the row of `field`.
fn to_row(a: &mut App, field: rolo::model::Field) {
    use rolo::tui::duplicates::Row;
    press(a, "g");
    let rows = a.duplicates.shown.as_ref().unwrap().rows.clone();
    let at = rows.iter().position(|r| *r == Row::Field(field)).unwrap();
    press(a, &"j".repeat(at));
}

/// The scan runs in the background when the pane is first shown; the
/// queue is its clusters, best score first, each side by side with the
/// merged result, the rows whose records disagree marked, each row's
/// pick marked, and why the highlighted record is there.
#[test]
fn duplicates_pane_shows_the_queue_best_first() {
    let f = dup_fixture();
    let mut a = app(&f, 24);
    press(&mut a, "3");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("scanning 9 customers for duplicates…"),
        "the pane says it scans, and the keys stay live:\n{s}"
    );
    settle(&mut a);
    assert_eq!(queue(&a), [vec![1, 2], vec![3, 4, 5], vec![8, 9]]);
    let s = text(&screen(&a, 80, 24));
    for want in [
        "cluster 1/3 · 2 records · best 0.99",
        "≠ name",
        "▸Zhang Wei",
        "#1 ~ #2: score 0.99",
        "keys email, phone, name",
        "m merge",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    no_control_characters(&s);
    insta::assert_snapshot!("duplicates_80x24", screen(&a, 80, 24).backend());
    insta::assert_snapshot!("duplicates_160x48", screen(&a, 160, 48).backend());
    // The three Maria Garcias fit 80 columns; masking hides their emails.
    press(&mut a, "s");
    assert_eq!(a.duplicates.at, 1);
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("cluster 2/3 · 3 records") && s.contains("3 #5 M. Garc"),
        "{s}"
    );
    insta::assert_snapshot!("duplicates_three_80x24", screen(&a, 80, 24).backend());
    press(&mut a, "M");
    let s = text(&screen(&a, 160, 48));
    assert!(
        !s.contains("maria.garcia@example.es") && s.contains("m***@example.es"),
        "{s}"
    );
    press(&mut a, "M");
    // Pages and s go round the queue.
    press(&mut a, "ss");
    assert_eq!(a.duplicates.at, 0);
    assert_eq!(status(&a), "back to the first cluster");
    a.on_key(code(KeyCode::PageUp));
    assert_eq!(a.duplicates.at, 2);
}

/// The review loop from the keyboard: a field takes another record's
/// value (number key, h/l), another record survives, `m` asks and `y`
/// merges as one store merge: the survivor has every value the merged
/// column showed, the others are hidden, their orders and notes moved,
/// the cluster leaves the queue. `U` lists the merge and Enter takes it
/// back: every record, order and note exactly as before, and the cluster
/// returns to the queue.
#[test]
fn duplicates_pick_merge_and_unmerge_from_the_keyboard() {
    use rolo::model::{CustomerId, Field};
    let f = dup_fixture();
    let mut a = dup_app(&f, 24);
    press(&mut a, "s");
    let maria = [CustomerId(3), CustomerId(4), CustomerId(5)];
    let read = |id: CustomerId| {
        (
            f.store.customer(id).unwrap().unwrap(),
            f.store.orders_of(id).unwrap(),
            f.store.notes_of(id).unwrap(),
            f.store.stats(id).unwrap(),
        )
    };
    let before: Vec<_> = maria.iter().map(|id| read(*id)).collect();
    let shown = |a: &App| a.duplicates.shown.clone().unwrap();
    assert_eq!(
        shown(&a).choices.survivor,
        CustomerId(4),
        "most complete, then most orders"
    );

    to_row(&mut a, Field::Name);
    press(&mut a, "3");
    assert_eq!(shown(&a).choices.source(Field::Name).0, CustomerId(5));
    assert_eq!(shown(&a).col, 2, "the highlight follows the pick");
    to_row(&mut a, Field::BirthDate);
    assert_eq!(shown(&a).choices.source(Field::BirthDate).0, CustomerId(3));
    press(&mut a, "l");
    assert_eq!(shown(&a).choices.source(Field::BirthDate).0, CustomerId(4));
    press(&mut a, "l");
    assert_eq!(shown(&a).choices.source(Field::BirthDate).0, CustomerId(5));
    // The first row chooses the survivor; its ext_id cannot be replaced.
    press(&mut a, "gh");
    assert_eq!(shown(&a).choices.survivor, CustomerId(3));
    assert_eq!(
        shown(&a).choices.source(Field::Name).0,
        CustomerId(5),
        "picks stay"
    );
    to_row(&mut a, Field::ExtId);
    press(&mut a, "2");
    assert_eq!(status(&a), "ext_id D-3 stays: make #4 the survivor");
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    assert_eq!(shown(&a).choices.source(Field::ExtId).0, CustomerId(3));
    press(&mut a, "7");
    assert_eq!(status(&a), "this cluster has 3 records: 1-3 pick");

    let s = shown(&a);
    let preview: Vec<(Field, Option<String>)> = Field::ALL
        .iter()
        .map(|f| (*f, s.choices.value(&s.members, *f)))
        .collect();
    press(&mut a, "m");
    assert_eq!(a.mode, Mode::Confirm);
    let screen_text = text(&screen(&a, 80, 24));
    assert!(
        screen_text.contains("merge #4 and #5 into #3 M. Garcia? y merges"),
        "{screen_text}"
    );
    insta::assert_snapshot!("duplicates_confirm_80x24", screen(&a, 80, 24).backend());
    press(&mut a, "n");
    assert_eq!(status(&a), "nothing merged");
    assert_eq!(a.total, 9);
    press(&mut a, "my");
    assert_eq!(status(&a), "merged 3 records into #3; U unmerges");
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    let survivor = f.store.customer(CustomerId(3)).unwrap().unwrap();
    for (field, want) in &preview {
        assert_eq!(
            &survivor.value(*field),
            want,
            "{field}: the merged column showed it"
        );
    }
    assert_eq!(survivor.name, "M. Garcia");
    assert_eq!(
        survivor.birth_date.map(|d| d.to_string()).as_deref(),
        Some("1990-07-01")
    );
    for id in [CustomerId(4), CustomerId(5)] {
        assert_eq!(
            f.store.customer(id).unwrap().unwrap().merged_into,
            Some(CustomerId(3))
        );
        assert!(f.store.orders_of(id).unwrap().is_empty());
    }
    let orders: Vec<String> = f
        .store
        .orders_of(CustomerId(3))
        .unwrap()
        .into_iter()
        .map(|o| o.order_id)
        .collect();
    assert_eq!(orders, ["O3", "O4"]);
    assert_eq!(f.store.notes_of(CustomerId(3)).unwrap().len(), 1);
    assert_eq!(queue(&a), [vec![1, 2], vec![8, 9]], "gone without a rescan");
    assert_eq!(a.total, 7);
    assert!(!text(&screen(&a, 80, 24)).contains("changed since the scan"));

    press(&mut a, "U");
    settle(&mut a);
    let user = f.store.user().to_owned();
    let s = text(&screen(&a, 80, 24)).replace(&format!("by {user}:"), "by ‹user›:");
    assert!(
        s.contains("merges · 1 in effect") && s.contains("#4, #5"),
        "{s}"
    );
    insta::assert_snapshot!("duplicates_merges_80x24", s);
    a.on_key(code(KeyCode::Enter));
    assert!(status(&a).starts_with("unmerged #"), "{}", status(&a));
    assert!(
        status(&a).ends_with("; the cluster is back"),
        "{}",
        status(&a)
    );
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    for (id, was) in maria.iter().zip(&before) {
        assert_eq!(&read(*id), was, "customer {id} is as before the merge");
    }
    assert_eq!(queue(&a), [vec![1, 2], vec![3, 4, 5], vec![8, 9]]);
    assert_eq!(a.total, 9);
    settle(&mut a);
    assert!(text(&screen(&a, 80, 24)).contains("merges · 0 in effect"));
    a.on_key(code(KeyCode::Esc));
    assert!(a.duplicates.merges.is_none());
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("cluster 2/3 · 3 records"),
        "the cluster is back on screen:\n{s}"
    );
}

/// `x` then `y` dismisses every pair of the cluster: it leaves the queue
/// at once, and neither a rescan nor a restart shows it again. Any other
/// answer keeps it.
#[test]
fn duplicates_not_a_duplicate_survives_a_rescan() {
    use rolo::model::CustomerId;
    let f = dup_fixture();
    let mut a = dup_app(&f, 24);
    press(&mut a, "x");
    assert!(
        text(&screen(&a, 80, 24))
            .contains("#1 and #2 not duplicates (never shown again)? y marks them")
    );
    press(&mut a, "k");
    assert_eq!(status(&a), "nothing marked");
    assert_eq!(queue(&a).len(), 3);
    press(&mut a, "xy");
    assert_eq!(status(&a), "marked #1 and #2 not duplicates");
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    assert_eq!(queue(&a), [vec![3, 4, 5], vec![8, 9]]);
    assert!(f.store.is_dismissed(CustomerId(2), CustomerId(1)).unwrap());
    press(&mut a, "r");
    assert!(text(&screen(&a, 80, 24)).contains("rescanning…"));
    settle(&mut a);
    assert_eq!(queue(&a), [vec![3, 4, 5], vec![8, 9]], "not after a rescan");
    // A scan that comes in while `x` asks cancels the question.
    press(&mut a, "rx");
    assert_eq!(a.mode, Mode::Confirm);
    settle(&mut a);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(status(&a), "a new scan came in: nothing done");
    assert_eq!(queue(&a).len(), 2);
    let mut b = dup_app(&f, 24);
    assert_eq!(
        queue(&b),
        [vec![3, 4, 5], vec![8, 9]],
        "nor after a restart"
    );
    // A three-record cluster: every pair.
    press(&mut b, "xy");
    assert_eq!(status(&b), "marked #3, #4 and #5 not duplicates");
    assert_eq!(f.store.dismissed_pairs().unwrap().len(), 4);
}

/// `-` leaves the highlighted record out of the merge (on a row without a
/// pick the highlight moves alone); a pair cannot lose one.
#[test]
fn duplicates_a_record_left_out_is_not_merged() {
    use rolo::model::CustomerId;
    use rolo::tui::duplicates::Row;
    let f = dup_fixture();
    let mut a = dup_app(&f, 24);
    press(&mut a, "-");
    assert_eq!(status(&a), "a pair cannot lose one (x: not duplicates)");
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    press(&mut a, "s");
    press(&mut a, "G");
    assert_eq!(
        a.duplicates.shown.as_ref().unwrap().current_row(),
        Row::Notes
    );
    press(&mut a, "3");
    let s = a.duplicates.shown.clone().unwrap();
    assert_eq!(
        (s.col, s.choices.survivor),
        (2, CustomerId(4)),
        "nothing picked"
    );
    press(&mut a, "-");
    assert_eq!(status(&a), "left #5 out of this merge (r rescans)");
    assert_eq!(queue(&a)[1], [3, 4]);
    press(&mut a, "my");
    assert_eq!(status(&a), "merged 2 records into #4; U unmerges");
    let five = f.store.customer(CustomerId(5)).unwrap().unwrap();
    assert!(five.is_live(), "the record left out stays");
    assert_eq!(
        f.store
            .customer(CustomerId(3))
            .unwrap()
            .unwrap()
            .merged_into,
        Some(CustomerId(4))
    );
}

/// Enter opens the highlighted record's 360° view; an edit made there
/// shows in the cluster when the view closes. A change made elsewhere
/// says the queue may be out of date.
#[test]
fn duplicates_enter_opens_the_record_and_changes_show() {
    use rolo::model::CustomerId;
    let f = dup_fixture();
    let mut a = dup_app(&f, 24);
    press(&mut a, "l");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Detail);
    assert_eq!(a.detail.as_ref().unwrap().customer.id, CustomerId(2));
    press(&mut a, "d");
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.pane, Pane::Duplicates);
    assert_eq!(
        queue(&a),
        [vec![3, 4, 5], vec![8, 9]],
        "a trashed record leaves its cluster, a pair then the queue"
    );
    assert_eq!(status(&a), "#1 and #2 left the queue (gone)");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("changed since the scan: r rescans"), "{s}");
}

/// `?` in the pane lists its keys from the key map, each with what it
/// does there; the list's keys are not offered.
#[test]
fn duplicates_help_lists_the_pane_keys() {
    use rolo::tui::keymap::Section;
    use rolo::tui::scope::Scope;
    let f = dup_fixture();
    let mut a = dup_app(&f, 24);
    press(&mut a, "?");
    let s = text(&screen(&a, 80, 24));
    let scope = Scope::Duplicates;
    for (keys, action) in KeyMap::default().help_in(Some(Section::Duplicates)) {
        if scope.acts(action) {
            let first = keys.split(' ').next().unwrap();
            assert!(
                s.contains(scope.describe(action)) && s.contains(first),
                "help lacks {action:?} ({keys}):\n{s}"
            );
        }
    }
    for want in [
        "merge the cluster (asks)",
        "take record N's value",
        "leave the record out",
        "list merges to unmerge",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    for not in [
        "edit the customer",
        "Customers pane",
        "restore from the trash",
    ] {
        assert!(!s.contains(not), "lists {not:?}:\n{s}");
    }
    insta::assert_snapshot!("help_duplicates_80x24", screen(&a, 80, 24).backend());
}

/// In the 360° view a key that does nothing there says so (it was
/// silent); `/` starts a search, and `d` trashes the customer on view,
/// which then says it is in the trash and how to restore it.
#[test]
fn keys_in_the_360_view_act_on_it_or_say_they_do_not() {
    let f = fixture();
    let mut a = app(&f, 24);
    a.on_key(code(KeyCode::Enter));
    press(&mut a, "j");
    assert_eq!(a.mode, Mode::Detail);
    assert_eq!(status(&a), "j does nothing here; ? lists the keys");
    assert!(status_shown(&a));
    press(&mut a, "d");
    assert_eq!(a.total, 5);
    assert!(
        status(&a).starts_with("moved 张伟 to the trash"),
        "{}",
        status(&a)
    );
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    assert_eq!(
        a.mode,
        Mode::Detail,
        "the view stays on the trashed customer"
    );
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("trashed      2026-11-30 10:00"), "{s}");
    assert!(s.contains("in the trash: r restores"), "{s}");
    insta::assert_snapshot!("detail_trashed_80x24", screen(&a, 80, 24).backend());
    press(&mut a, "r");
    assert_eq!(a.total, 6);
    assert!(text(&screen(&a, 80, 24)).contains("e edits · a adds a note · d trashes · esc closes"));
    press(&mut a, "/");
    assert_eq!(a.mode, Mode::Search);
    assert!(a.detail.is_none(), "a search replaces the 360° view");
}

/// Keys that act on "the current customer" with no row under the cursor
/// said nothing; now they say why, and `r` in an empty trash view says
/// the trash is empty rather than pointing at the trash view itself.
#[test]
fn customer_keys_with_no_row_say_why() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "/qqqqzzzz");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.total, 0);
    for k in ["e", "a", "d"] {
        press(&mut a, k);
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(status(&a), "no match here; esc clears the search", "{k}");
        assert!(status_shown(&a));
    }
    a.on_key(code(KeyCode::Enter));
    assert!(status(&a).starts_with("no match here"));
    a.on_key(code(KeyCode::Esc));
    press(&mut a, "D");
    settle(&mut a);
    press(&mut a, "r");
    assert_eq!(status(&a), "the trash is empty");
    press(&mut a, "a");
    assert_eq!(status(&a), "the trash is empty");
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.status, None, "closing the view clears its message");
}

/// A refused save puts the cursor on the field to fix, and the reason goes
/// once the user edits (it used to stay, so a fixed value still looked wrong).
#[test]
fn edit_form_refusal_moves_to_the_field_and_clears_on_edit() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "e");
    a.on_key(code(KeyCode::Down));
    a.on_key(ctrl('u'));
    press(&mut a, "bad@@x");
    for _ in 0..5 {
        a.on_key(code(KeyCode::Down));
    }
    a.on_key(code(KeyCode::Enter));
    let form = a.form.as_ref().unwrap();
    assert_eq!(form.cursor, 1, "back on the email line");
    assert!(form.error.as_deref().unwrap().starts_with("email 'bad@@x'"));
    insta::assert_snapshot!("edit_form_error_80x24", screen(&a, 80, 24).backend());
    a.on_key(code(KeyCode::Backspace));
    assert_eq!(a.form.as_ref().unwrap().error, None);
    a.on_key(ctrl('u'));
    press(&mut a, "zw@example.cn");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal);
    assert!(status(&a).starts_with("saved"), "{}", status(&a));
}

/// The status bar counts the selection, and says "1 match" / "1 customer"
/// (not "1 matches"); the 360° summary says "1 order on 1 day".
#[test]
fn status_bar_counts_the_selection_in_good_english() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, " jj ");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("NORMAL │ Customers │ 6 customers │ 2 selected"),
        "{s}"
    );
    insta::assert_snapshot!("selection_80x24", screen(&a, 80, 24).backend());
    let mut wide = app(&f, 48);
    press(&mut wide, " jj j*");
    assert_eq!(wide.selected.len(), 6);
    insta::assert_snapshot!("selection_160x48", screen(&wide, 160, 48).backend());
    press(&mut a, "/zw");
    assert!(text(&screen(&a, 80, 24)).contains("│ 1 match │ 2 selected"));
    a.on_key(code(KeyCode::Enter));
    a.on_key(code(KeyCode::Esc));
    press(&mut a, "/ann lee");
    a.on_key(code(KeyCode::Enter));
    a.on_key(code(KeyCode::Enter));
    assert!(
        text(&screen(&a, 80, 24)).contains("1 order on 1 day, spend 20.00"),
        "{}",
        text(&screen(&a, 80, 24))
    );
}

/// At 80x24 the list uses every row between its header and the status bar.
#[test]
fn the_list_fills_the_screen() {
    assert_eq!(page_rows(24), 20);
    assert_eq!(page_rows(48), 44);
    assert_eq!(page_rows(3), 1);
}

fn tagged(f: &Fixture, tag: &str) -> usize {
    f.store.find_tag(tag).unwrap().len()
}

/// `t` on a selection: the picker fuzzy-finds existing tags, Enter on a
/// new name creates it on exactly the selected customers, the status bar
/// says how many, and one `u` takes it all back.
#[test]
fn tag_key_tags_the_selection_and_undo_takes_it_back() {
    let f = fixture();
    f.store
        .add_tag("interest/sports", &[rolo::model::CustomerId(1)])
        .unwrap();
    f.store
        .add_tag("interest/travel", &[rolo::model::CustomerId(2)])
        .unwrap();
    let mut a = app(&f, 24);
    press(&mut a, " j ");
    assert_eq!(a.selected.len(), 2);
    press(&mut a, "t");
    assert_eq!(a.mode, Mode::TagPicker);
    press(&mut a, "ist");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("add a tag to 2 selected customers") && s.contains("interest/sports"),
        "{s}"
    );
    insta::assert_snapshot!("tag_picker_80x24", screen(&a, 80, 24).backend());
    insta::assert_snapshot!("tag_picker_160x48", screen(&a, 160, 48).backend());
    a.on_key(ctrl('u'));
    press(&mut a, "vip");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(status(&a), "tagged 2 customers vip; u undoes");
    assert_eq!(tagged(&f, "vip"), 2);
    press(&mut a, "/tag:vip");
    assert_eq!(a.total, 2, "the index follows the tagging");
    a.on_key(code(KeyCode::Esc));
    press(&mut a, "u");
    assert!(status(&a).starts_with("undid #"), "{}", status(&a));
    assert_eq!(tagged(&f, "vip"), 0);
    assert_eq!(a.total, 0, "the search follows the undo");
    // Picking an existing tag: Enter on the highlighted match.
    a.on_key(code(KeyCode::Esc));
    press(&mut a, " tisp");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(status(&a), "1 customer already had interest/sports");
    press(&mut a, "t");
    press(&mut a, "itr");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(status(&a), "tagged 1 customer interest/travel; u undoes");
    assert_eq!(tagged(&f, "interest/travel"), 2);
}

/// With nothing selected `t` tags every match of the search (not only
/// the rows fetched), as one unit that one `u` undoes; `T` removes a tag
/// the customers carry.
#[test]
fn tag_key_tags_the_whole_result_and_untag_removes() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "/has:email");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.total, 5);
    press(&mut a, "t");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("add a tag to all 5 matches"), "{s}");
    press(&mut a, "mail ok");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(status(&a), "tagged 5 customers mail ok; u undoes");
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    assert_eq!(tagged(&f, "mail ok"), 5);
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.total, 6);
    press(&mut a, "t");
    assert!(text(&screen(&a, 80, 24)).contains("add a tag to all 6 customers"));
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(tagged(&f, "mail ok"), 5, "esc tags nothing");
    // Untag from one customer: the picker lists the tags it carries.
    press(&mut a, " T");
    assert_eq!(a.mode, Mode::TagPicker);
    let p = a.tag_picker.as_ref().unwrap();
    assert_eq!(
        p.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["mail ok"]
    );
    a.on_key(code(KeyCode::Enter));
    assert_eq!(status(&a), "untagged 1 customer mail ok; u undoes");
    assert_eq!(tagged(&f, "mail ok"), 4);
    press(&mut a, "u");
    assert_eq!(tagged(&f, "mail ok"), 5);
    press(&mut a, "u");
    assert_eq!(tagged(&f, "mail ok"), 0, "one u undid the bulk tagging");
}

/// A rule tag is not tagged by hand: the picker shows the library's
/// explanation and tags nobody.
#[test]
fn tag_key_refuses_a_rule_tag_with_the_reason() {
    let f = fixture();
    let ctx = rolo::search::EvalContext::new(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    let p = rolo::search::rules::preview(&f.store, "shanghai", "city:上海", &ctx).unwrap();
    rolo::search::rules::set_rule(&f.store, &p).unwrap();
    let mut a = app(&f, 24);
    press(&mut a, "jj tshanghai");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::TagPicker, "the picker stays open");
    let err = a.tag_picker.as_ref().unwrap().error.clone().unwrap();
    assert!(
        err.contains("shanghai is a rule tag: its members are the customers matching `city:上海`")
            && err.ends_with("r in the Tags pane changes the rule"),
        "{err}"
    );
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("is a rule tag"), "{s}");
    assert_eq!(tagged(&f, "shanghai"), 1);
    // Removing it by hand (from the customer carrying it) is refused too,
    // and so is merging a manual tag into it from the Tags pane.
    a.on_key(code(KeyCode::Esc));
    press(&mut a, "g TS");
    assert_eq!(a.tag_picker.as_ref().unwrap().input, "S");
    a.on_key(code(KeyCode::Enter));
    let err = a.tag_picker.as_ref().unwrap().error.clone().unwrap();
    assert!(err.contains("shanghai is a rule tag"), "{err}");
    a.on_key(code(KeyCode::Esc));
    f.store.add_tag("vip", &[id(2)]).unwrap();
    press(&mut a, "2Gmshanghai");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::TagPicker);
    let err = a.tag_picker.as_ref().unwrap().error.clone().unwrap();
    assert!(err.contains("shanghai is a rule tag"), "{err}");
    assert_eq!((tagged(&f, "shanghai"), tagged(&f, "vip")), (1, 1));
}

/// A rule tag follows each change made in the workbench at once, for the
/// changed customers only: tagging a customer by hand makes it gain a rule
/// tag whose query names that tag, and the undo takes both back.
#[test]
fn rule_tags_follow_changes_made_in_the_workbench() {
    let f = fixture();
    let ctx = rolo::search::EvalContext::new(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    let p = rolo::search::rules::preview(&f.store, "followers", "tag:vip", &ctx).unwrap();
    rolo::search::rules::set_rule(&f.store, &p).unwrap();
    assert_eq!(tagged(&f, "followers"), 0);
    let mut a = app(&f, 24);
    press(&mut a, " tvip");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(tagged(&f, "vip"), 1);
    assert_eq!(
        f.store.find_tag("followers").unwrap(),
        f.store.find_tag("vip").unwrap(),
        "the rule tag followed the tagging"
    );
    assert!(!rolo::search::rules::is_stale(&f.store, &ctx).unwrap());
    press(&mut a, "u");
    assert_eq!(tagged(&f, "vip"), 0);
    assert_eq!(tagged(&f, "followers"), 0, "and the undo");
}

fn id(n: u64) -> rolo::model::CustomerId {
    rolo::model::CustomerId(n)
}

/// Tags for the Tags pane: a tree (`interest/...`), a described manual
/// tag and a rule tag.
fn tag_fixture(f: &Fixture) {
    f.store.add_tag("interest/sports", &[id(1), id(2)]).unwrap();
    f.store.add_tag("interest/travel", &[id(2), id(3)]).unwrap();
    f.store.add_tag("vip", &[id(1)]).unwrap();
    f.store
        .set_tag_look("vip", Some("gold"), Some("top spenders"))
        .unwrap();
    let ctx = rolo::search::EvalContext::new(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    let p = rolo::search::rules::preview(&f.store, "shanghai", "city:上海", &ctx).unwrap();
    rolo::search::rules::set_rule(&f.store, &p).unwrap();
}

/// The Tags pane: a tree by `/` with rolled-up distinct counts, manual or
/// rule (with its query), colour and description; j/k move, Enter shows
/// the tag's customers in the Customers pane.
#[test]
fn tags_pane_shows_the_tree_and_enter_searches_the_tag() {
    let f = fixture();
    tag_fixture(&f);
    let mut a = app(&f, 24);
    press(&mut a, "2");
    assert_eq!(a.pane, Pane::Tags);
    let rows: Vec<(String, u64)> = a
        .tags
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| (r.path.clone(), r.total))
        .collect();
    assert_eq!(
        rows,
        [
            ("interest".to_owned(), 3),
            ("interest/sports".to_owned(), 2),
            ("interest/travel".to_owned(), 2),
            ("shanghai".to_owned(), 1),
            ("vip".to_owned(), 1),
        ]
    );
    let s = text(&screen(&a, 80, 24));
    for want in [
        "rule: city:上海",
        "top spenders",
        "gold",
        "manual",
        "sports",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    insta::assert_snapshot!("tags_pane_80x24", screen(&a, 80, 24).backend());
    insta::assert_snapshot!("tags_pane_160x48", screen(&a, 160, 48).backend());
    a.on_key(code(KeyCode::Enter));
    assert_eq!(
        (a.pane, a.query.as_str()),
        (Pane::Customers, "tag:interest/*")
    );
    assert_eq!(a.total, 3, "the rolled-up count is what the search finds");
    press(&mut a, "2j");
    assert_eq!(a.tags.as_ref().unwrap().cursor, 1, "the cursor stays put");
    press(&mut a, "j");
    a.on_key(code(KeyCode::Enter));
    assert_eq!((a.query.as_str(), a.total), ("tag:interest/travel", 2));
    press(&mut a, "2G");
    assert_eq!(a.tags.as_ref().unwrap().cursor, 4);
    press(&mut a, "k");
    a.on_key(code(KeyCode::Enter));
    assert_eq!((a.query.as_str(), a.total), ("tag:shanghai", 1));
    // Keys for customers do nothing here, and say so.
    press(&mut a, "2a");
    assert_eq!(status(&a), "a does nothing here; ? lists the keys");
    press(&mut a, "?");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("keys: Tags pane") && s.contains("delete the tag") && !s.contains("edit"),
        "{s}"
    );
    insta::assert_snapshot!("help_tags_80x24", screen(&a, 80, 24).backend());
}

/// `d` in the Tags pane asks first, saying how many customers lose the
/// tag; `y` deletes it (one `u` brings it back), any other key keeps it.
#[test]
fn tags_pane_delete_asks_first_and_undo_restores() {
    let f = fixture();
    tag_fixture(&f);
    let mut a = app(&f, 24);
    press(&mut a, "2jd");
    assert_eq!(a.mode, Mode::Confirm);
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("delete tag interest/sports? 2 customers lose it"),
        "{s}"
    );
    insta::assert_snapshot!("tags_pane_confirm_80x24", screen(&a, 80, 24).backend());
    press(&mut a, "n");
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(status(&a), "kept tag interest/sports");
    assert_eq!(tagged(&f, "interest/sports"), 2);
    press(&mut a, "dy");
    assert_eq!(
        status(&a),
        "deleted tag interest/sports from 2 customers; u undoes"
    );
    assert_eq!(tagged(&f, "interest/sports"), 0);
    let rows = &a.tags.as_ref().unwrap().rows;
    assert!(rows.iter().all(|r| r.path != "interest/sports"));
    assert_eq!(rows[0].total, 2, "the level's count follows");
    press(&mut a, "u");
    assert_eq!(tagged(&f, "interest/sports"), 2);
    assert_eq!(a.tags.as_ref().unwrap().rows[0].total, 3);
    // A level that is not a tag itself is not deleted.
    press(&mut a, "gd");
    assert_eq!(a.mode, Mode::Normal);
    assert!(status(&a).contains("only a level"), "{}", status(&a));
}

/// A large tagging runs on the worker: the status bar says what runs (then
/// with a spinner and the seconds so far), keys that change data wait for
/// it, and one `u` takes the whole of it back. A refused one reopens the
/// picker with the reason.
#[test]
fn bulk_tagging_runs_on_the_worker_with_progress() {
    let f = fixture();
    let mut a = app(&f, 24);
    a.defer_bulk_above = Some(2);
    press(&mut a, "tvip");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.tag_progress(), Some("tagging 6 customers vip…"));
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.lines()
            .nth(23)
            .is_some_and(|l| l.contains("tagging 6 customers vip…")),
        "{s}"
    );
    insta::assert_snapshot!("bulk_tagging_80x24", screen(&a, 80, 24).backend());
    let later = std::time::Instant::now() + std::time::Duration::from_millis(1_250);
    assert!(a.tick(later));
    let progress = a.tag_progress().unwrap().to_owned();
    assert!(
        progress.ends_with("tagging 6 customers vip… 1s"),
        "{progress}"
    );
    assert!(!a.tick(later), "nothing to redraw until it moves");
    // The app learns the outcome only from `poll_worker`/`settle`, so
    // this `u` is pressed while the tagging still counts as running.
    press(&mut a, "u");
    assert_eq!(status(&a), "u waits until it is done");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.lines()
            .nth(23)
            .is_some_and(|l| l.contains("u waits until it is done │ ⠹ tagging 6 custo")),
        "the answer first, then the progress:\n{s}"
    );
    press(&mut a, "j");
    assert_eq!(a.cursor, 1, "moving does not wait");
    settle(&mut a);
    assert_eq!(a.tag_progress(), None);
    assert_eq!(status(&a), "tagged 6 customers vip; u undoes");
    assert_eq!(tagged(&f, "vip"), 6);
    press(&mut a, "/tag:vip");
    assert_eq!(a.total, 6, "the index follows the tagging");
    a.on_key(code(KeyCode::Esc));
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.query, "");
    // Undo may take back 100,000 taggings: it runs on the worker too.
    press(&mut a, "u");
    assert_eq!(a.tag_progress(), Some("undoing the last change…"));
    settle(&mut a);
    assert!(status(&a).starts_with("undid #"), "{}", status(&a));
    assert_eq!(tagged(&f, "vip"), 0, "one u undid it all");
    a.on_key(ctrl('r'));
    settle(&mut a);
    assert_eq!(tagged(&f, "vip"), 6);
    // The Tags pane shown when the undo arrives follows it.
    press(&mut a, "2");
    assert_eq!(a.tags.as_ref().unwrap().rows[0].path, "vip");
    press(&mut a, "u");
    settle(&mut a);
    assert_eq!(tagged(&f, "vip"), 0);
    assert!(a.tags.as_ref().unwrap().rows.is_empty());
    press(&mut a, "1");
    let ctx = rolo::search::EvalContext::new(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    let p = rolo::search::rules::preview(&f.store, "shanghai", "city:上海", &ctx).unwrap();
    rolo::search::rules::set_rule(&f.store, &p).unwrap();
    press(&mut a, "tshanghai");
    a.on_key(code(KeyCode::Enter));
    assert!(a.tag_progress().is_some());
    settle(&mut a);
    assert_eq!(a.mode, Mode::TagPicker, "the picker is back");
    let err = a.tag_picker.as_ref().unwrap().error.clone().unwrap();
    assert!(err.contains("rule tag"), "{err}");
    assert_eq!(tagged(&f, "shanghai"), 1);
}

/// What a new user does: tag a search result, rename the tag in the Tags
/// pane, merge it into another, undo each step (the store checked after
/// each), then restart: the state is as left, and `u` still works.
#[test]
fn tag_rename_merge_undo_each_and_restart_from_the_keyboard() {
    let f = fixture();
    f.store.add_tag("gold", &[id(3)]).unwrap();
    let mut a = app(&f, 24);
    press(&mut a, "/has:email");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.total, 5);
    press(&mut a, "tnewsletter");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(status(&a), "tagged 5 customers newsletter; u undoes");
    assert_eq!(tagged(&f, "newsletter"), 5);
    // The Tags pane: gold, newsletter.
    press(&mut a, "2gj");
    assert_eq!(
        a.tags.as_ref().unwrap().current().unwrap().path,
        "newsletter"
    );
    press(&mut a, "R");
    assert_eq!(a.mode, Mode::Prompt);
    a.on_key(ctrl('u'));
    press(&mut a, "news/weekly");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("rename newsletter to: news/weekly")
            && s.contains("the new name of newsletter (5 customers), not taken yet"),
        "{s}"
    );
    insta::assert_snapshot!("tags_rename_prompt_80x24", screen(&a, 80, 24).backend());
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(
        status(&a),
        "renamed newsletter to news/weekly on 5 customers; u undoes"
    );
    assert_eq!(
        (tagged(&f, "newsletter"), tagged(&f, "news/weekly")),
        (0, 5)
    );
    let v = a.tags.as_ref().unwrap();
    assert_eq!(
        v.current().unwrap().path,
        "news/weekly",
        "the cursor follows"
    );
    // Renaming to an existing name is refused, with the way to combine them.
    press(&mut a, "R");
    a.on_key(ctrl('u'));
    press(&mut a, "gold");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Prompt, "the question stays, with the reason");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("tag gold already exists; m in the Tags pane"),
        "{s}"
    );
    a.on_key(code(KeyCode::Esc));
    assert_eq!(tagged(&f, "news/weekly"), 5);
    // Merge it into gold, picked with the fuzzy picker.
    press(&mut a, "m");
    assert_eq!(a.mode, Mode::TagPicker);
    press(&mut a, "gld");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("merge news/weekly (5) into") && s.contains("▶ gold"),
        "{s}"
    );
    insta::assert_snapshot!("tags_merge_picker_80x24", screen(&a, 80, 24).backend());
    a.on_key(code(KeyCode::Enter));
    assert_eq!(
        status(&a),
        "merged news/weekly (5 customers) into gold; u undoes"
    );
    assert_eq!((tagged(&f, "news/weekly"), tagged(&f, "gold")), (0, 6));
    assert_eq!(a.tags.as_ref().unwrap().current().unwrap().path, "gold");
    // Undo each step.
    press(&mut a, "u");
    assert!(
        status(&a).contains("merged tag news/weekly"),
        "{}",
        status(&a)
    );
    assert_eq!((tagged(&f, "news/weekly"), tagged(&f, "gold")), (5, 1));
    press(&mut a, "u");
    assert!(
        status(&a).contains("renamed tag newsletter"),
        "{}",
        status(&a)
    );
    assert_eq!(
        (tagged(&f, "newsletter"), tagged(&f, "news/weekly")),
        (5, 0)
    );
    let paths: Vec<String> = a
        .tags
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["gold", "newsletter"], "the pane follows the undo");
    press(&mut a, "u");
    assert!(
        status(&a).contains("added tag newsletter"),
        "{}",
        status(&a)
    );
    assert_eq!(tagged(&f, "newsletter"), 0);
    // Redo the tagging and the rename, then restart.
    a.on_key(ctrl('r'));
    a.on_key(ctrl('r'));
    assert_eq!(
        (tagged(&f, "newsletter"), tagged(&f, "news/weekly")),
        (0, 5)
    );
    let tmp = release(f, a);
    let f = Fixture {
        store: Arc::new(common::reopen(&tmp.path().join("db"))),
        _tmp: tmp,
    };
    let names: Vec<(String, u64)> = f
        .store
        .tags()
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.count))
        .collect();
    assert_eq!(
        names,
        [("gold".to_owned(), 1), ("news/weekly".to_owned(), 5)]
    );
    let mut a = app(&f, 24);
    press(&mut a, "2");
    let rows: Vec<(String, u64)> = a
        .tags
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .map(|r| (r.path.clone(), r.total))
        .collect();
    assert_eq!(
        rows,
        [
            ("gold".to_owned(), 1),
            ("news".to_owned(), 5),
            ("news/weekly".to_owned(), 5)
        ]
    );
    press(&mut a, "u");
    assert!(
        status(&a).contains("renamed tag newsletter"),
        "{}",
        status(&a)
    );
    assert_eq!(
        (tagged(&f, "newsletter"), tagged(&f, "news/weekly")),
        (5, 0)
    );
}

/// The Tags pane creates an empty manual tag, describes and colours it,
/// and gives it a rule after a preview of who gains and loses it; an empty
/// rule makes it manual again. Levels and bad queries say why not.
#[test]
fn tags_pane_creates_describes_and_sets_a_previewed_rule() {
    let f = fixture();
    let mut a = app(&f, 24);
    press(&mut a, "2");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("no tags yet: n creates one"), "{s}");
    press(&mut a, "n");
    assert_eq!(a.mode, Mode::Prompt);
    press(&mut a, "interest/sports");
    insta::assert_snapshot!("tags_new_prompt_80x24", screen(&a, 80, 24).backend());
    a.on_key(code(KeyCode::Enter));
    assert_eq!(
        status(&a),
        "created tag interest/sports, on nobody yet; u undoes"
    );
    let tags = f.store.tags().unwrap();
    assert_eq!(
        (tags[0].name.as_str(), tags[0].count, tags[0].rule()),
        ("interest/sports", 0, None)
    );
    let v = a.tags.as_ref().unwrap();
    assert_eq!(v.rows.len(), 2);
    assert_eq!(v.current().unwrap().path, "interest/sports");
    // The level above it is no tag.
    press(&mut a, "kR");
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(
        status(&a),
        "interest is only a level: rename the tags below it"
    );
    press(&mut a, "jcsporty people");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(status(&a), "described interest/sports; u undoes");
    press(&mut a, "Cgreen");
    a.on_key(code(KeyCode::Enter));
    let info = f.store.tag_info("interest/sports").unwrap().unwrap();
    assert_eq!(
        (info.description.as_deref(), info.colour.as_deref()),
        (Some("sporty people"), Some("green"))
    );
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("green") && s.contains("sporty people"), "{s}");
    // A rule: a bad query is refused where it is typed.
    press(&mut a, "rspend>");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Prompt);
    let err = a.prompt.as_ref().unwrap().error.clone().unwrap();
    assert!(err.starts_with("rule: "), "{err}");
    a.on_key(ctrl('u'));
    press(&mut a, "city:上海");
    a.on_key(code(KeyCode::Enter));
    settle(&mut a);
    assert_eq!(a.mode, Mode::Prompt, "a preview first");
    assert_eq!(tagged(&f, "interest/sports"), 0, "nothing saved yet");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("1 would gain it, 0 would lose it (1 in all); enter saves, esc cancels"),
        "{s}"
    );
    insta::assert_snapshot!("tags_rule_preview_80x24", screen(&a, 80, 24).backend());
    // Editing the query asks for a new preview.
    press(&mut a, "x");
    assert!(text(&screen(&a, 80, 24)).contains("enter previews"));
    a.on_key(code(KeyCode::Backspace));
    a.on_key(code(KeyCode::Enter));
    assert_eq!(
        status(&a),
        "saved the rule of interest/sports: 1 gained it, 0 lost it; u undoes"
    );
    assert_eq!(tagged(&f, "interest/sports"), 1);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("rule: city:上海"), "{s}");
    // An empty rule makes it manual again, keeping its members.
    press(&mut a, "r");
    a.on_key(ctrl('u'));
    assert!(text(&screen(&a, 80, 24)).contains("enter makes interest/sports a manual tag"));
    a.on_key(code(KeyCode::Enter));
    assert_eq!(status(&a), "interest/sports is a manual tag now; u undoes");
    let info = f.store.tag_info("interest/sports").unwrap().unwrap();
    assert_eq!((info.rule, tagged(&f, "interest/sports")), (None, 1));
    press(&mut a, "u");
    assert!(
        f.store
            .tag_info("interest/sports")
            .unwrap()
            .unwrap()
            .rule
            .is_some()
    );
    // Undo back to before the tag existed.
    press(&mut a, "uuuu");
    assert!(f.store.tags().unwrap().is_empty());
    assert_eq!(
        status(&a).split(':').nth(1).map(str::trim),
        Some("created tag interest/sports")
    );
}

// ---- the Segments pane ----

/// The as-of date of the segment tests.
fn seg_as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

/// Twelve customers whose orders were chosen by hand, as of 2026-11-30
/// (orders as days before it; amounts in CNY):
///
/// | ext | city | orders (days ago) | R F | RFM | lifecycle | value |
/// |---|---|---|---|---|---|---|
/// | S1 | 上海 | 5 5 60 120 200 300 400 | 5 5 | Champions | active | high |
/// | S2 | 上海市 | 10 50 100 150 250 | 5 4 | Champions | active | mid |
/// | S3 | 北京 | 20 | 4 1 | Promising | new | low |
/// | S4 | Sydney | 40 200 | 4 2 | Potential Loyalists | active | mid |
/// | S5 | Sydney | 100 130 160 | 3 3 | Need Attention | at_risk | low |
/// | S6 | London | 150 200 250 300 | 3 4 | Loyal Customers | at_risk | mid |
/// | S7 | — | 200 400 | 2 2 | Hibernating | churned | low |
/// | S8 | 上海 | 300 350 400 450 500 | 2 4 | At Risk | churned | high |
/// | S9 | Paris | 400 | 1 1 | Hibernating | churned | low |
/// | S10 | Paris | 700 | 1 1 | Hibernating | churned | low |
/// | S11 | 北京 | — | | No Orders | prospect | none |
/// | S12 | Evil, an escape and a bidi override (written raw) | — | | No Orders | prospect | none |
///
/// Recency breakpoints 18, 76, 170, 320 days; frequency 1, 2, 3.4, 5
/// days; value tiers above 820.00 (high) and 225.00 (mid).
const SEG_CUSTOMERS: &str = "ext_id,name,city,region
S1,张伟,上海,上海
S2,Ann Lee,上海市,上海
S3,单田芳,北京,
S4,Olivia Brown,Sydney,New South Wales
S5,Jack Wilson,Sydney,New South Wales
S6,Bob Smith,London,
S7,李娜,,
S8,王芳,上海,上海
S9,Marie Curie,Paris,
S10,Pierre Curie,Paris,
S11,赵敏,北京,
S12,Nobody,,
";

const SEG_ORDERS: [(&str, &[(i64, &str)]); 10] = [
    (
        "S1",
        &[
            (5, "100"),
            (5, "100"),
            (60, "200"),
            (120, "200"),
            (200, "200"),
            (300, "200"),
            (400, "200"),
        ],
    ),
    (
        "S2",
        &[
            (10, "160"),
            (50, "160"),
            (100, "160"),
            (150, "160"),
            (250, "160"),
        ],
    ),
    ("S3", &[(20, "50")]),
    ("S4", &[(40, "150"), (200, "150")]),
    ("S5", &[(100, "50"), (130, "50"), (160, "50")]),
    (
        "S6",
        &[(150, "150"), (200, "150"), (250, "150"), (300, "150")],
    ),
    ("S7", &[(200, "40"), (400, "40")]),
    (
        "S8",
        &[
            (300, "180"),
            (350, "180"),
            (400, "180"),
            (450, "180"),
            (500, "180"),
        ],
    ),
    ("S9", &[(400, "20")]),
    ("S10", &[(700, "10")]),
];

fn segments_fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        clock: Some(
            chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
                .unwrap()
                .to_utc(),
        ),
        ..OpenOptions::default()
    };
    let store = Store::open(&tmp.path().join("db"), &opts).unwrap();
    let mut orders = String::from("order_id,customer,order_date,amount,currency\n");
    let mut n = 0;
    for (ext, list) in SEG_ORDERS {
        for (ago, amount) in list {
            n += 1;
            let day = seg_as_of() - chrono::Duration::days(*ago);
            orders.push_str(&format!("O{n},{ext},{day},{amount},CNY\n"));
        }
    }
    for (name, text, kind, want) in [
        ("c.csv", SEG_CUSTOMERS.to_owned(), RecordKind::Customers, 12),
        ("o.csv", orders, RecordKind::Orders, n),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let report = import_file(
            &store,
            &path,
            &ImportOptions::new(kind),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(report.inserted, want, "{report:?}");
    }
    // Import strips escapes; a record written another way must still be
    // shown safely (and found by its row's query).
    let mut c = store.require_customer(id(12)).unwrap();
    c.city = Some("Evil\x1b[31m\u{202e}x".into());
    let mut unit = store.begin().unwrap();
    unit.save_customer(&c).unwrap();
    unit.commit().unwrap();
    Fixture {
        _tmp: tmp,
        store: Arc::new(store),
    }
}

/// Press `4` and wait for the figures.
fn segments_app(f: &Fixture, height: u16) -> App {
    let mut a = app(f, height);
    press(&mut a, "4");
    assert_eq!(a.pane, Pane::Segments);
    settle(&mut a);
    a
}

/// The rows of the table on view: (segment, customers).
fn seg_rows(a: &App) -> Vec<(String, u64)> {
    a.segments
        .summary()
        .unwrap()
        .rows
        .iter()
        .map(|r| (r.segment.clone(), r.customers))
        .collect()
}

fn no_control_characters(s: &str) {
    assert!(
        !s.chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "a control character reached the screen: {s:?}"
    );
}

/// RFM: the counts of the hand-made table, every customer once; the grid
/// holds those with orders; the histogram their recency. At 80x24 the
/// table, the grid and the histogram all fit; at 160x48 two bars.
#[test]
fn segments_pane_rfm_table_grid_and_histogram() {
    let f = segments_fixture();
    let mut a = segments_app(&f, 24);
    let s = a.segments.summary().unwrap();
    assert_eq!(s.customers, 12);
    assert_eq!(
        seg_rows(&a),
        [
            ("Champions", 2),
            ("Loyal Customers", 1),
            ("Potential Loyalists", 1),
            ("New Customers", 0),
            ("Promising", 1),
            ("Need Attention", 1),
            ("About to Sleep", 0),
            ("At Risk", 1),
            ("Can't Lose Them", 0),
            ("Hibernating", 3),
            ("No Orders", 2),
        ]
        .map(|(n, c)| (n.to_owned(), c))
    );
    let grid = s.grid.unwrap();
    assert_eq!(
        grid.iter().flatten().sum::<u64>(),
        10,
        "customers with orders"
    );
    assert_eq!(grid[0], [0, 0, 0, 1, 1], "R5: S2 at F4, S1 at F5");
    assert_eq!(grid[4], [2, 0, 0, 0, 0], "R1: S9 and S10 at F1");
    let hist: Vec<u64> = s.recency_histogram.iter().map(|(_, n)| *n).collect();
    assert_eq!(hist, [3, 1, 0, 2, 2, 2, 0]);
    let t = screen(&a, 80, 24);
    let shown = text(&t);
    for want in [
        "Potential Loyalists",
        "customers by R and F score",
        "days since the last order",
        "366-730d",
        "R1 ",
        "enter customers",
    ] {
        assert!(shown.contains(want), "lacks {want:?}:\n{shown}");
    }
    insta::assert_snapshot!("segments_rfm_80x24", t.backend());
    let wide = segments_app(&f, 48);
    let t = screen(&wide, 160, 48);
    assert!(text(&t).contains("revenue share"), "{}", text(&t));
    insta::assert_snapshot!("segments_rfm_160x48", t.backend());
    // A short terminal keeps the table and drops the grid.
    a.resize(page_rows(14));
    let short = text(&screen(&a, 80, 14));
    assert!(
        short.contains("Champions") && !short.contains("R and F"),
        "{short}"
    );
    // j/k move, G goes to the last row, and the cursor stays on screen.
    press(&mut a, "G");
    assert_eq!(a.segments.cursor, 10);
    assert!(text(&screen(&a, 80, 14)).contains("No Orders"));
    press(&mut a, "gjj");
    assert_eq!(a.segments.cursor, 2);
}

/// `b` (or →, l) cycles to lifecycle: new, active, at_risk, churned and
/// prospect add up to everyone; no grid, the histogram stays. `B`, ←
/// and h go back.
#[test]
fn segments_pane_lifecycle_and_cycling() {
    let f = segments_fixture();
    let mut a = segments_app(&f, 24);
    press(&mut a, "b");
    settle(&mut a);
    assert_eq!(a.segments.by, rolo::segments::By::Lifecycle);
    assert_eq!(
        seg_rows(&a),
        [
            ("new", 1),
            ("active", 3),
            ("at_risk", 2),
            ("churned", 4),
            ("prospect", 2)
        ]
        .map(|(n, c)| (n.to_owned(), c))
    );
    let t = screen(&a, 80, 24);
    let s = text(&t);
    assert!(s.contains("all customers") && !s.contains("R and F"), "{s}");
    insta::assert_snapshot!("segments_lifecycle_80x24", t.backend());
    let mut wide = segments_app(&f, 48);
    wide.on_key(code(KeyCode::Right));
    settle(&mut wide);
    assert_eq!(wide.segments.by, rolo::segments::By::Lifecycle);
    insta::assert_snapshot!(
        "segments_lifecycle_160x48",
        screen(&wide, 160, 48).backend()
    );
    for (k, want) in [
        ("l", rolo::segments::By::Value),
        ("h", rolo::segments::By::Lifecycle),
        ("B", rolo::segments::By::Rfm),
        ("B", rolo::segments::By::Churn),
    ] {
        press(&mut a, k);
        settle(&mut a);
        assert_eq!(a.segments.by, want, "{k}");
    }
    // No model fitted: every new or active customer is "likely alive".
    assert_eq!(
        seg_rows(&a),
        [
            ("churn warning", 0),
            ("active, likely alive", 4),
            ("not active", 6),
            ("no orders", 2)
        ]
        .map(|(n, c)| (n.to_owned(), c))
    );
    press(&mut a, "h");
    settle(&mut a);
    assert_eq!(a.segments.by, rolo::segments::By::Saved);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("no saved segments yet"), "{s}");
    a.on_key(code(KeyCode::Left));
    settle(&mut a);
    assert_eq!(a.segments.by, rolo::segments::By::City);
    let cities = seg_rows(&a);
    assert_eq!(cities.iter().map(|(_, n)| n).sum::<u64>(), 12);
    assert_eq!(cities.last().unwrap(), &("(unknown)".to_owned(), 1));
    let s = text(&screen(&a, 160, 48));
    no_control_characters(&s);
    assert!(s.contains("Evil␛[31m"), "{s}");
}

/// The movement view: snapshots taken as of 2026-06-01 and 2026-10-01
/// compared with now; j/k choose the snapshot, `b` the segmentation;
/// `S` records today's (saying how many customers), and the list grows.
#[test]
fn segments_movement_view_and_snapshot_key() {
    let f = segments_fixture();
    for day in [(2026, 6, 1), (2026, 10, 1)] {
        let as_of = NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap();
        let figures = rolo::segments::compute(&f.store, as_of, Default::default()).unwrap();
        assert_eq!(
            rolo::segments::take_snapshot(&f.store, &figures).unwrap(),
            12
        );
    }
    let mut a = segments_app(&f, 24);
    press(&mut a, "m");
    settle(&mut a);
    assert_eq!(a.scope(), rolo::tui::scope::Scope::Movement);
    let m = a.segments.movement.as_ref().unwrap();
    assert_eq!(
        m.day(),
        NaiveDate::from_ymd_opt(2026, 10, 1),
        "newest first"
    );
    let moves = &m.result.as_ref().unwrap().moves[0].1;
    assert_eq!(moves.iter().map(|m| m.customers).sum::<u64>(), 12);
    let t = screen(&a, 80, 24);
    let s = text(&t);
    assert!(s.contains("since 2026-10-01:"), "{s}");
    assert!(s.contains("→"), "{s}");
    insta::assert_snapshot!("segments_movement_80x24", t.backend());
    press(&mut a, "j");
    settle(&mut a);
    let m = a.segments.movement.as_ref().unwrap();
    assert_eq!(m.day(), NaiveDate::from_ymd_opt(2026, 6, 1));
    assert!(m.is_current());
    press(&mut a, "b");
    settle(&mut a);
    assert_eq!(a.segments.by, rolo::segments::By::Lifecycle);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("changed lifecycle stage"), "{s}");
    let mut wide = segments_app(&f, 48);
    press(&mut wide, "m");
    settle(&mut wide);
    insta::assert_snapshot!("segments_movement_160x48", screen(&wide, 160, 48).backend());
    // Enter and t have no customers to act on here; esc goes back.
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.pane, Pane::Segments);
    assert_eq!(status(&a), "enter does nothing here; ? lists the keys");
    press(&mut a, "S");
    settle(&mut a);
    assert_eq!(status(&a), "recorded 12 customers (snapshot 2026-11-30)");
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    assert_eq!(f.store.snapshot_days().unwrap().len(), 3);
    let m = a.segments.movement.as_ref().unwrap();
    assert_eq!(m.days.len(), 3);
    assert_eq!(
        m.day(),
        NaiveDate::from_ymd_opt(2026, 6, 1),
        "the choice stays"
    );
    press(&mut a, "S");
    settle(&mut a);
    assert_eq!(
        status(&a),
        "recorded 12 customers again (snapshot 2026-11-30)"
    );
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.scope(), rolo::tui::scope::Scope::Segments);
    // The palette knows the command too.
    press(&mut a, ":snapshot");
    a.on_key(code(KeyCode::Enter));
    settle(&mut a);
    assert!(
        status(&a).starts_with("recorded 12 customers again"),
        "{}",
        status(&a)
    );
    press(&mut a, "1:snapshot");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(
        status(&a),
        ":snapshot acts in the Segments pane; 4 goes there"
    );
}

/// Without any snapshot the movement view says how to take one.
#[test]
fn segments_movement_without_snapshots_says_how() {
    let f = segments_fixture();
    let mut a = segments_app(&f, 24);
    press(&mut a, "m");
    settle(&mut a);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("no snapshot yet: S records"), "{s}");
    press(&mut a, "m");
    assert!(a.segments.movement.is_none());
}

/// The members of a segment by the library's own definition.
fn members_by_label(f: &Fixture, by: rolo::segments::By, label: &str) -> Vec<u64> {
    let figures = rolo::segments::compute(&f.store, seg_as_of(), Default::default()).unwrap();
    let mut ids: Vec<u64> = f
        .store
        .customers()
        .map(|c| c.unwrap())
        .filter(|c| rolo::segments::label_of(by, &figures.get(c.id)) == label)
        .map(|c| c.id.0)
        .collect();
    ids.sort_unstable();
    ids
}

/// Enter on a row under the cursor in segmentation `by`: the query it
/// searched and every id found.
fn enter_row(a: &mut App, by: rolo::segments::By, name: &str) -> (String, Vec<u64>) {
    press(a, "4");
    while a.segments.by != by {
        press(a, "b");
        settle(a);
    }
    let at = seg_rows(a).iter().position(|(n, _)| n == name).unwrap();
    press(a, "g");
    for _ in 0..at {
        press(a, "j");
    }
    a.on_key(code(KeyCode::Enter));
    settle(a);
    assert_eq!(a.pane, Pane::Customers);
    let mut ids: Vec<u64> = a.results.clone().unwrap().iter().map(|i| i.0).collect();
    assert_eq!(ids.len(), a.total, "every match was fetched");
    ids.sort_unstable();
    (a.query.clone(), ids)
}

/// Enter on a row shows the Customers pane searching the segment's query,
/// with exactly the row's customers, and exactly what `rolo search`
/// finds for that query.
#[test]
fn enter_on_a_segment_shows_what_rolo_search_finds() {
    use rolo::segments::By;
    let f = segments_fixture();
    let mut a = segments_app(&f, 24);
    let cases = [
        (By::Rfm, "Champions", "rfm:champions", vec![1, 2]),
        (By::Rfm, "Hibernating", "rfm:hibernating", vec![7, 9, 10]),
        (By::Rfm, "No Orders", "lifecycle:prospect", vec![11, 12]),
        (By::Lifecycle, "at_risk", "lifecycle:at_risk", vec![5, 6]),
        (By::Value, "high", "value:high", vec![1, 8]),
        (
            By::Region,
            "New South Wales",
            "region:\"New South Wales\"",
            vec![4, 5],
        ),
        (By::City, "上海", "city:上海 -city:上海市", vec![1, 8]),
        (By::City, "(unknown)", "missing:city", vec![7]),
        (
            By::City,
            "Evil\x1b[31m\u{202e}x",
            "city:Evil\x1b[31m\u{202e}x",
            vec![12],
        ),
        (
            By::Churn,
            "active, likely alive",
            "(lifecycle:new OR lifecycle:active) -p_alive<0.3",
            vec![1, 2, 3, 4],
        ),
        (
            By::Churn,
            "not active",
            "lifecycle:at_risk OR lifecycle:churned",
            vec![5, 6, 7, 8, 9, 10],
        ),
    ];
    let mut seen = Vec::new();
    for (by, name, query, want) in &cases {
        let (q, ids) = enter_row(&mut a, *by, name);
        assert_eq!((q.as_str(), &ids), (*query, want), "{by:?} {name}");
        let row = seg_rows(&a).into_iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(
            row.1,
            ids.len() as u64,
            "the row's count is what Enter finds"
        );
        if matches!(by, By::Rfm | By::Lifecycle | By::Value) {
            let label = if *name == "No Orders" {
                "No Orders"
            } else {
                name
            };
            assert_eq!(ids, members_by_label(&f, *by, label));
        }
        no_control_characters(&text(&screen(&a, 80, 24)));
        seen.push((q, ids));
    }
    // The database is free once the workbench is gone; then the CLI.
    let db = f._tmp.path().join("db");
    let home = f._tmp.path().to_owned();
    let weak = Arc::downgrade(&f.store);
    drop(a);
    let Fixture { _tmp, store } = f;
    drop(store);
    let start = std::time::Instant::now();
    while weak.strong_count() > 0 {
        assert!(start.elapsed().as_secs() < 10, "the worker kept the store");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    for (q, ids) in seen {
        let out = loop {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_rolo"))
                .args(["--as-of", "2026-11-30", "--json", "--db"])
                .arg(&db)
                .args(["search", "--limit", "100", "--", &q])
                .env("NO_COLOR", "1")
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env_remove("ROLO_DB")
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            if !err.contains("in use") || start.elapsed().as_secs() > 10 {
                break out;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(
            out.status.success(),
            "{q}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut cli: Vec<u64> = doc["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_u64().unwrap())
            .collect();
        cli.sort_unstable();
        assert_eq!(cli, ids, "rolo search {q:?}");
        assert_eq!(doc["total"].as_u64(), Some(ids.len() as u64), "{q}");
    }
}

/// `t` on a row tags exactly the segment's customers (one undo takes it
/// back); on a place, not the places whose name contains it.
#[test]
fn tag_key_tags_exactly_the_segment() {
    use rolo::segments::By;
    let f = segments_fixture();
    let mut a = segments_app(&f, 24);
    press(&mut a, "t");
    assert_eq!(a.mode, Mode::TagPicker);
    let picker = a.tag_picker.as_ref().unwrap();
    assert_eq!(picker.what, "the 2 customers of Champions");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("add a tag to the 2 customers of Champions"),
        "{s}"
    );
    press(&mut a, "champ");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(status(&a), "tagged 2 customers champ; u undoes");
    assert_eq!(a.pane, Pane::Segments, "still on the pane");
    let mut tagged: Vec<u64> = f
        .store
        .find_tag("champ")
        .unwrap()
        .iter()
        .map(|i| i.0)
        .collect();
    tagged.sort_unstable();
    assert_eq!(tagged, members_by_label(&f, By::Rfm, "Champions"));
    press(&mut a, "j");
    press(&mut a, "jjjjjjjjt");
    assert_eq!(a.segments.current().unwrap().segment, "Hibernating");
    press(&mut a, "sleepy");
    a.on_key(code(KeyCode::Enter));
    let mut tagged: Vec<u64> = f
        .store
        .find_tag("sleepy")
        .unwrap()
        .iter()
        .map(|i| i.0)
        .collect();
    tagged.sort_unstable();
    assert_eq!(tagged, members_by_label(&f, By::Rfm, "Hibernating"));
    press(&mut a, "u");
    assert_eq!(f.store.find_tag("sleepy").unwrap().len(), 0);
    // A city: 上海 but not 上海市.
    while a.segments.by != By::City {
        press(&mut a, "b");
        settle(&mut a);
    }
    let at = seg_rows(&a).iter().position(|(n, _)| n == "上海").unwrap();
    press(&mut a, "g");
    for _ in 0..at {
        press(&mut a, "j");
    }
    press(&mut a, "tsh");
    a.on_key(code(KeyCode::Enter));
    let exact: Vec<u64> = f
        .store
        .customers()
        .map(|c| c.unwrap())
        .filter(|c| c.city.as_deref() == Some("上海"))
        .map(|c| c.id.0)
        .collect();
    let mut tagged: Vec<u64> = f
        .store
        .find_tag("sh")
        .unwrap()
        .iter()
        .map(|i| i.0)
        .collect();
    tagged.sort_unstable();
    assert_eq!(tagged, exact);
    assert_eq!(tagged, [1, 8]);
}

/// The figures are computed off the UI thread ("computing" meanwhile),
/// once; a change marks them out of date without recomputing, until the
/// pane is shown again or `r` asks.
#[test]
fn segments_recompute_after_a_change_only_when_shown_again_or_asked() {
    let f = segments_fixture();
    let mut a = app(&f, 24);
    press(&mut a, "4");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("computing the segments of 12 customers…") || a.segments.summary().is_some(),
        "{s}"
    );
    settle(&mut a);
    let first = Arc::clone(a.segments.figures.as_ref().unwrap());
    press(&mut a, "jk");
    assert!(
        Arc::ptr_eq(&first, a.segments.figures.as_ref().unwrap()),
        "keys do not recompute"
    );
    // Trash S1 (a Champion) in the Customers pane, then come back.
    press(&mut a, "1d");
    assert_eq!(a.total, 11);
    press(&mut a, "4");
    settle(&mut a);
    assert_eq!(seg_rows(&a)[0], ("Champions".to_owned(), 1));
    assert_eq!(a.segments.summary().unwrap().customers, 11);
    // An undo while on the pane: out of date, said so, until r.
    let before = Arc::clone(a.segments.figures.as_ref().unwrap());
    press(&mut a, "u");
    settle(&mut a);
    assert!(Arc::ptr_eq(&before, a.segments.figures.as_ref().unwrap()));
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("changed since computed: r recomputes"), "{s}");
    press(&mut a, "r");
    settle(&mut a);
    assert_eq!(a.segments.summary().unwrap().customers, 12);
    assert!(!text(&screen(&a, 80, 24)).contains("changed since"));
}

/// A search for a segment typed in the search box waits for the figures
/// and then shows the segment (it matched nobody before segments landed).
#[test]
fn a_typed_segment_search_computes_the_figures_then_shows_them() {
    let f = segments_fixture();
    let mut a = app(&f, 24);
    press(&mut a, "/rfm:champions");
    assert!(a.segments.search_waits || a.total == 2);
    settle(&mut a);
    assert_eq!(a.total, 2);
    assert_eq!(ext_ids(&a), ["S1", "S2"]);
    assert!(!text(&screen(&a, 80, 24)).contains("computing"));
}

/// `?` in the Segments pane lists its keys (r recomputes there; it
/// restores elsewhere); keys of the list say they do nothing here.
#[test]
fn segments_help_lists_the_pane_keys() {
    let f = segments_fixture();
    let mut a = segments_app(&f, 24);
    press(&mut a, "?");
    let s = text(&screen(&a, 80, 24));
    for want in [
        "keys: Segments pane",
        "next segmentation",
        "previous segmentation",
        "movement since a snapshot",
        "record a segment snapshot",
        "recompute the segments",
        "its customers (Customers)",
        "tag the whole segment",
        "b l right",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    for not in [
        "restore from the trash",
        "reverse the sort",
        "edit the customer",
    ] {
        assert!(!s.contains(not), "lists {not:?}:\n{s}");
    }
    press(&mut a, "x");
    press(&mut a, "e");
    assert_eq!(status(&a), "e does nothing here; ? lists the keys");
    press(&mut a, "d");
    assert_eq!(a.total, 12, "d trashed nobody");
}

#[test]
fn the_360_view_shows_predictions_once_a_model_is_fitted() {
    let f = fixture();
    let mut a = app(&f, 48);
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(a.detail.as_ref().unwrap().prediction.is_none());
    assert!(!text(&screen(&a, 160, 48)).contains("P(alive)"));
    a.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    // The CDNOW parameters in weeks, with a spend model.
    f.store
        .save_clv_model(&rolo::store::ClvModel {
            unit: "week".into(),
            until: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
            log_likelihood: 0.0,
            converged: true,
            customers: 2,
            gamma_gamma: Some([6.25, 3.74, 15.44]),
            fitted_at: chrono::DateTime::UNIX_EPOCH,
        })
        .unwrap();
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let d = a.detail.as_ref().unwrap();
    let p = d.prediction.unwrap();
    assert!(p.p_alive > 0.0 && p.p_alive <= 1.0, "{p:?}");
    let s = text(&screen(&a, 160, 48));
    let want = format!("P(alive) {:.2}", p.p_alive);
    assert!(s.contains(&want), "{s}");
    assert!(s.contains("value "), "{s}");
}

// ---- the Quality pane, the audit log and erasure ----

/// The instant of the "old" writes of the quality fixture.
const OLD: &str = "2025-01-10T09:00:00Z";
/// The instant of every other write (the as-of day is 2026-11-30).
const NOW: &str = "2026-11-30T10:00:00Z";

/// Opens the database in `dir` with its clock at `at`; retries briefly,
/// as `common::reopen` does, while sled lets go of the lock of a store
/// just dropped (on a busy machine this took long enough to fail tests).
fn store_at(dir: &std::path::Path, at: &str) -> Store {
    let opts = OpenOptions {
        clock: Some(chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc()),
        ..OpenOptions::default()
    };
    for _ in 0..100 {
        if let Ok(store) = Store::open(&dir.join("db"), &opts) {
            return store;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Store::open(&dir.join("db"), &opts).unwrap()
}

/// Seven customers with planted defects, as of 2026-11-30 (stale: not
/// updated for more than 365 days). Q1–Q3 were written on 2025-01-10
/// (689 days before), the rest on 2026-11-30; every record gets a
/// `created_at` (the write's instant unless given). Q7 is in the trash,
/// so none of its defects (an invalid email, no tag, no order) count.
///
/// | ext | name | email | phone | other | tags | orders |
/// |---|---|---|---|---|---|---|
/// | Q1 | 张伟 | zw@example.cn | +8613800138000 | city 上海 | vip | — |
/// | Q2 | Ann Lee | `ann(at)example.com` (invalid) | +14155550100 | city San Francisco | — | — |
/// | Q3 | Evil␛[31mRed | — | — (import kept `12345` aside: invalid) | city Paris | — | 2026-10-01 |
/// | Q4 | 王芳 | wang@example.com | `+86123` (invalid) | birth 2030-01-01 (invalid), created 2026-01-01 | — | 2025-12-01 (before signup) |
/// | Q5 | Bob Smith | bob@example.co.uk | +442079460018 | company | vip | — |
/// | Q6 | Nobody | — | — | — | — | — |
///
/// By hand, over the six live customers:
///
/// | field | filled | missing | invalid | filled and valid | score |
/// |---|---|---|---|---|---|
/// | ext_id, name, created_at | 6 | 0 | 0 | 6 | 100.0 |
/// | email | 4 (Q1 Q2 Q4 Q5) | 2 | 1 (Q2) | 3 | 50.0 |
/// | phone | 4 (Q1 Q2 Q4 Q5) | 2 | 2 (Q3 kept aside, Q4) | 3 | 50.0 |
/// | company | 1 | 5 | 0 | 1 | 16.7 |
/// | city | 3 | 3 | 0 | 3 | 50.0 |
/// | birth_date | 1 | 5 | 1 | 0 | 0.0 |
/// | the other nine | 0 | 6 | 0 | 0 | 0.0, not in use |
///
/// Overall: the mean over the 8 fields in use, (3 × 100 + 3 × 50 + 16.7 +
/// 0) / 8 = 58.3. Invalid anywhere: Q2, Q3, Q4 = 3 (50.0%); orders
/// before signup: Q4 = 1 (16.7%); stale: Q1, Q2, Q3 = 3 (50.0%); neither
/// tag nor order: Q2, Q6 = 2 (33.3%); duplicates: not counted (n/a).
fn quality_fixture() -> Fixture {
    quality_fixture_with(true)
}

/// [`quality_fixture`], without the orders when `orders` is false (their
/// import's audit summary names a temporary file).
fn quality_fixture_with(orders: bool) -> Fixture {
    use rolo::model::Customer;
    let tmp = tempfile::tempdir().unwrap();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    {
        let old = store_at(tmp.path(), OLD);
        for c in [
            Customer {
                ext_id: Some("Q1".into()),
                name: "张伟".into(),
                emails: vec!["zw@example.cn".into()],
                phones: vec!["+8613800138000".into()],
                city: Some("上海".into()),
                tags: vec!["vip".into()],
                ..Customer::default()
            },
            Customer {
                ext_id: Some("Q2".into()),
                name: "Ann Lee".into(),
                emails: vec!["ann(at)example.com".into()],
                phones: vec!["+14155550100".into()],
                city: Some("San Francisco".into()),
                ..Customer::default()
            },
            Customer {
                ext_id: Some("Q3".into()),
                name: "Evil\x1b[31mRed".into(),
                invalid: vec![("phone".into(), "12345".into())],
                city: Some("Paris".into()),
                ..Customer::default()
            },
        ] {
            old.create_customer(&c).unwrap();
        }
    }
    let store = store_at(tmp.path(), NOW);
    let created = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    for c in [
        Customer {
            ext_id: Some("Q4".into()),
            name: "王芳".into(),
            emails: vec!["wang@example.com".into()],
            phones: vec!["+86123".into()],
            birth_date: Some(day(2030, 1, 1)),
            created_at: Some(created),
            ..Customer::default()
        },
        Customer {
            ext_id: Some("Q5".into()),
            name: "Bob Smith".into(),
            emails: vec!["bob@example.co.uk".into()],
            phones: vec!["+442079460018".into()],
            company: Some("Smith & Sons".into()),
            tags: vec!["vip".into()],
            ..Customer::default()
        },
        Customer {
            ext_id: Some("Q6".into()),
            name: "Nobody".into(),
            ..Customer::default()
        },
        Customer {
            ext_id: Some("Q7".into()),
            name: "垃圾\x1b[2JTom".into(),
            emails: vec!["bad@@x".into()],
            ..Customer::default()
        },
    ] {
        store.create_customer(&c).unwrap();
    }
    store.trash_customer(id(7)).unwrap();
    if !orders {
        return Fixture {
            _tmp: tmp,
            store: Arc::new(store),
        };
    }
    let orders = tmp.path().join("o.csv");
    std::fs::write(
        &orders,
        "order_id,customer,order_date,amount,currency\nO1,Q3,2026-10-01,50.00,EUR\nO2,Q4,2025-12-01,80.00,CNY\n",
    )
    .unwrap();
    let report = import_file(
        &store,
        &orders,
        &ImportOptions::new(RecordKind::Orders),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.inserted, 2, "{report:?}");
    Fixture {
        _tmp: tmp,
        store: Arc::new(store),
    }
}

/// Press `5` and wait for the report.
fn quality_app(f: &Fixture, height: u16) -> App {
    let mut a = app(f, height);
    press(&mut a, "5");
    assert_eq!(a.pane, Pane::Quality);
    settle(&mut a);
    assert!(a.quality.report.is_some(), "{:?}", a.status);
    a
}

/// (filled, missing, invalid, score) of a field in the report on screen.
fn field_figures(a: &App, field: &str) -> (u64, u64, u64, f64) {
    let r = a.quality.report.as_ref().unwrap();
    let q = r.fields.iter().find(|q| q.field.as_str() == field).unwrap();
    (q.filled.count, q.missing.count, q.invalid.count, q.score)
}

/// The hand-worked figures of [`quality_fixture`], on screen at 80x24 and
/// 160x48; computed off the UI thread ("computing…" meanwhile).
#[test]
fn quality_pane_shows_the_hand_counted_figures() {
    let f = quality_fixture();
    let mut a = app(&f, 24);
    press(&mut a, "5");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("computing the quality report of 6 customers…") || a.quality.report.is_some(),
        "{s}"
    );
    settle(&mut a);
    let r = a.quality.report.as_ref().unwrap();
    assert_eq!(r.customers, 6);
    assert_eq!(
        [
            r.invalid.count,
            r.order_before_signup.count,
            r.stale.count,
            r.no_tag_no_order.count
        ],
        [3, 1, 3, 2]
    );
    assert_eq!(r.stale.query, "stale:365d");
    assert!(r.duplicates_pending.is_none());
    assert_eq!(r.score, 58.3);
    for (field, want) in [
        ("ext_id", (6, 0, 0, 100.0)),
        ("name", (6, 0, 0, 100.0)),
        ("email", (4, 2, 1, 50.0)),
        ("phone", (4, 2, 2, 50.0)),
        ("company", (1, 5, 0, 16.7)),
        ("city", (3, 3, 0, 50.0)),
        ("birth_date", (1, 5, 1, 0.0)),
        ("created_at", (6, 0, 0, 100.0)),
        ("street", (0, 6, 0, 0.0)),
        ("given_name", (0, 6, 0, 0.0)),
    ] {
        assert_eq!(field_figures(&a, field), want, "{field}");
    }
    let s = text(&screen(&a, 80, 24));
    for want in [
        "quality score 58.3",
        "no baseline yet (S saves)",
        "invalid, any field              3  50.0%",
        "stale (over 365 days)           3  50.0%",
        "not available",
        "stale:365d",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    no_control_characters(&s);
    insta::assert_snapshot!("quality_80x24", screen(&a, 80, 24).backend());
    let mut wide = quality_app(&f, 48);
    let s = text(&screen(&wide, 160, 48));
    for want in [
        "overall: mean of the 8 fields in use",
        "created_at",
        "missing:tags missing:orders",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    insta::assert_snapshot!("quality_160x48", screen(&wide, 160, 48).backend());
    // The last rows scroll into view at 80x24.
    press(&mut a, "G");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("▸ overall: mean of the 8 fields in use"), "{s}");
    assert!(s.contains("field       "), "the fields' header stays: {s}");
    press(&mut wide, "?");
    let s = text(&screen(&wide, 160, 48));
    for want in [
        "keys: Quality pane",
        "save figures as baseline",
        "set the stale threshold",
        "recompute the report",
        "the audit log",
        "next column of a field",
    ] {
        assert!(s.contains(want), "help lacks {want:?}:\n{s}");
    }
    assert!(!s.contains("move to the trash"), "{s}");
}

/// `S` saves the baseline; a change made elsewhere marks the report out
/// of date and coming back recomputes it, with how each figure moved.
/// Trashing Q2 (invalid email, stale, no tag, no order): 5 customers,
/// invalid 2 (−1), stale 2 (−1), neither 1 (−1); email 3 filled, all
/// valid: 60.0 (+10.0); phone Q1 Q5 of 5: 40.0 (−10.0); overall
/// (3 × 100 + 60 + 40 + 20 + 40 + 0) / 8 = 57.5 (−0.8).
#[test]
fn quality_baseline_and_changes_since() {
    let f = quality_fixture();
    let mut a = quality_app(&f, 24);
    press(&mut a, "S");
    assert!(
        status(&a).starts_with("saved as the baseline"),
        "{}",
        status(&a)
    );
    assert_eq!(f.store.quality_figures().unwrap().unwrap().score, 58.3);
    // Trash Q2 in the list, then come back: recomputed, compared.
    press(&mut a, "1jd");
    assert_eq!(a.total, 5);
    press(&mut a, "5");
    settle(&mut a);
    let r = a.quality.report.as_ref().unwrap();
    assert_eq!((r.customers, r.score), (5, 57.5));
    let c = r.compare(a.quality.baseline.as_ref().unwrap());
    assert_eq!(
        (c.invalid, c.stale, c.no_tag_no_order, c.score),
        (-1, Some(-1), -1, -0.8)
    );
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("quality score 57.5 (-0.8 since 2026-11-30)"),
        "{s}"
    );
    assert!(s.contains("+10.0") && s.contains("-10.0"), "{s}");
    insta::assert_snapshot!("quality_changes_80x24", screen(&a, 80, 24).backend());
    // An undo while on the pane: out of date, said so, until r.
    press(&mut a, "u");
    assert_eq!(a.total, 6);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("changed since computed: r recomputes"), "{s}");
    press(&mut a, "r");
    settle(&mut a);
    assert_eq!(a.quality.report.as_ref().unwrap().customers, 6);
    assert!(!text(&screen(&a, 80, 24)).contains("changed since"));
    // A new threshold: `s` asks, the report follows; a bad answer stays.
    press(&mut a, "s");
    assert_eq!(a.mode, Mode::Prompt);
    a.on_key(ctrl('u'));
    press(&mut a, "x");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Prompt);
    assert!(text(&screen(&a, 80, 24)).contains("not a number of days"));
    a.on_key(ctrl('u'));
    press(&mut a, "700");
    a.on_key(code(KeyCode::Enter));
    settle(&mut a);
    let r = a.quality.report.as_ref().unwrap();
    assert_eq!((r.stale_days, r.stale.count), (700, 0));
    assert!(text(&screen(&a, 80, 24)).contains("stale (over 700 days)"));
    // The palette sets it too (and goes to the pane).
    press(&mut a, "1:stale_days 30");
    a.on_key(code(KeyCode::Enter));
    settle(&mut a);
    assert_eq!(a.pane, Pane::Quality);
    assert_eq!(a.quality.report.as_ref().unwrap().stale.query, "stale:30d");
    // Elsewhere `S` reverses the sort, and the command says where it acts.
    let saved = f.store.quality_figures().unwrap();
    press(&mut a, "1S");
    assert_eq!(status(&a), "not sorted yet: s sorts");
    press(&mut a, ":save_baseline");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(
        status(&a),
        ":save_baseline acts in the Quality pane; 5 goes there"
    );
    assert_eq!(f.store.quality_figures().unwrap(), saved);
}

/// A figure's customers as the workbench's Enter shows them: every id.
fn drilled(a: &mut App) -> (String, Vec<u64>) {
    a.on_key(code(KeyCode::Enter));
    settle(a);
    assert_eq!(a.pane, Pane::Customers, "{:?}", a.status);
    let mut ids: Vec<u64> = a.results.clone().unwrap().iter().map(|i| i.0).collect();
    assert_eq!(ids.len(), a.total, "every match was fetched");
    ids.sort_unstable();
    (a.query.clone(), ids)
}

/// What `rolo search QUERY` finds in the database in `dir`, by id (the
/// workbench must be gone: see [`release`]).
fn rolo_search(dir: &std::path::Path, q: &str) -> Vec<u64> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rolo"))
        .args(["--as-of", "2026-11-30", "--json", "--db"])
        .arg(dir.join("db"))
        .args(["search", "--limit", "100", "--", q])
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env_remove("ROLO_DB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{q}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<u64> = doc["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(doc["total"].as_u64(), Some(ids.len() as u64), "{q}");
    ids
}

/// Waits until only `f` holds its store (the workbench's threads are
/// gone), then releases it, so that the CLI can open the database.
fn release(f: Fixture, a: App) -> tempfile::TempDir {
    let weak = Arc::downgrade(&f.store);
    drop(a);
    let Fixture { _tmp, store } = f;
    drop(store);
    let start = std::time::Instant::now();
    while weak.strong_count() > 0 {
        assert!(start.elapsed().as_secs() < 10, "the worker kept the store");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    _tmp
}

/// Enter on every figure (each headline, each field's filled, missing and
/// invalid) shows the Customers pane searching the figure's query, with
/// as many customers as the figure counts, and exactly what `rolo search`
/// finds for it.
#[test]
fn enter_on_every_quality_figure_shows_what_rolo_search_finds() {
    use rolo::tui::quality::{Column, Item, items};
    let f = quality_fixture();
    let mut a = quality_app(&f, 24);
    let mut seen: Vec<(String, Vec<u64>)> = Vec::new();
    let all = items();
    for (i, item) in all.iter().enumerate() {
        let columns: &[Column] = match item {
            Item::Field(_) => &Column::ALL,
            _ => &[Column::Missing],
        };
        for column in columns {
            press(&mut a, "5g");
            for _ in 0..i {
                press(&mut a, "j");
            }
            while a.quality.column != *column {
                press(&mut a, "l");
            }
            let want = a
                .quality
                .current_figure()
                .map(|(_, fig)| (fig.query.clone(), fig.count));
            let Ok((query, count)) = want else {
                // Duplicates and the overall score: no query, and Enter
                // says why instead of leaving the pane.
                a.on_key(code(KeyCode::Enter));
                assert_eq!(a.pane, Pane::Quality);
                assert!(!status(&a).is_empty());
                continue;
            };
            let (q, ids) = drilled(&mut a);
            assert_eq!(q, query, "{item:?} {column:?}");
            assert_eq!(
                ids.len() as u64,
                count,
                "{q}: the figure is what Enter finds"
            );
            no_control_characters(&text(&screen(&a, 80, 24)));
            seen.push((q, ids));
        }
    }
    assert_eq!(seen.len(), 4 + 3 * 17);
    let find = |q: &str| seen.iter().find(|(s, _)| s == q).unwrap().1.clone();
    assert_eq!(find("invalid:any"), [2, 3, 4]);
    assert_eq!(find("invalid:order_date"), [4]);
    assert_eq!(find("stale:365d"), [1, 2, 3]);
    assert_eq!(find("missing:tags missing:orders"), [2, 6]);
    assert_eq!(find("invalid:phone"), [3, 4]);
    assert_eq!(find("missing:email"), [3, 6]);
    assert_eq!(find("has:company"), [5]);
    // The CLI needs the database to itself.
    let tmp = release(f, a);
    seen.sort();
    seen.dedup();
    for (q, ids) in seen {
        assert_eq!(rolo_search(tmp.path(), &q), ids, "rolo search {q:?}");
    }
}

/// The screen as text with the OS user's name (which the audit log
/// records, and which differs between machines) replaced, so that a
/// snapshot of the audit log is the same everywhere.
fn without_user(f: &Fixture, s: &str) -> String {
    let user = f.store.user().to_owned();
    let cell = |w: usize| {
        let mut u: String = user.chars().take(w).collect();
        let mut x: String = "‹user›".chars().take(w).collect();
        while unicode_width::UnicodeWidthStr::width(u.as_str()) < w {
            u.push(' ');
        }
        while unicode_width::UnicodeWidthStr::width(x.as_str()) < w {
            x.push(' ');
        }
        (u, x)
    };
    let (u, x) = cell(8);
    s.replace(&format!(" {u} "), &format!(" {x} "))
        .replace(&format!(" · {user} · "), " · ‹user› · ")
}

/// The audit log: every change newest first (from the Quality pane's `a`
/// or anywhere with `A`), Enter shows an event's changes, `f` filters by
/// operation, day and user, Esc steps back.
#[test]
fn audit_log_lists_filters_and_shows_changes() {
    let f = quality_fixture_with(false);
    let mut a = app(&f, 24);
    // An edit: 张伟 moves from 上海 to 北京 (city is the form's 7th line).
    press(&mut a, "e");
    for _ in 0..6 {
        a.on_key(code(KeyCode::Down));
    }
    a.on_key(ctrl('u'));
    press(&mut a, "北京");
    a.on_key(code(KeyCode::Enter));
    assert!(status(&a).starts_with("saved"), "{}", status(&a));
    press(&mut a, "5");
    settle(&mut a);
    press(&mut a, "a");
    assert_eq!(a.mode, Mode::Audit);
    settle(&mut a);
    let v = a.audit.as_ref().unwrap();
    // 7 creations, 1 trash, 1 edit; newest first.
    let ops: Vec<&str> = v.events.iter().map(|e| e.op.as_str()).collect();
    assert_eq!(ops.len(), 9, "{ops:?}");
    assert_eq!(ops[0], "edit");
    assert_eq!(ops[1], "trash");
    assert!(v.complete);
    let seqs: Vec<u64> = v.events.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    let s = text(&screen(&a, 80, 24));
    no_control_characters(&s);
    assert!(s.contains("audit log · every event · 9 events"), "{s}");
    insta::assert_snapshot!("audit_80x24", without_user(&f, &s));
    // Enter: the edit's change, before and after.
    a.on_key(code(KeyCode::Enter));
    assert!(a.audit.as_ref().unwrap().open);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("event #9") && s.contains("customer 1"), "{s}");
    assert!(
        s.contains("city") && s.contains("上海") && s.contains("北京"),
        "{s}"
    );
    insta::assert_snapshot!(
        "audit_event_160x48",
        without_user(&f, &text(&screen(&a, 160, 48)))
    );
    // j/k go from event to event; a creation lists every field it set.
    press(&mut a, "j");
    let s = text(&screen(&a, 80, 24));
    no_control_characters(&s);
    assert!(s.contains("event #8") && s.contains("customer 7"), "{s}");
    press(&mut a, "j");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("event #7") && s.contains("email"), "{s}");
    assert!(s.contains("bad@@x") && s.contains("垃圾"), "{s}");
    press(&mut a, "M");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("b***@@x") && !s.contains("bad@@x"),
        "masked: {s}"
    );
    press(&mut a, "M");
    a.on_key(code(KeyCode::Esc));
    assert!(
        !a.audit.as_ref().unwrap().open,
        "esc closes the event first"
    );
    assert_eq!(a.mode, Mode::Audit);

    // The filter: by operation, by day, by user; a bad one says why.
    let filter = |a: &mut App, line: &str| {
        press(a, "f");
        assert_eq!(a.mode, Mode::Prompt);
        a.on_key(ctrl('u'));
        press(a, line);
        a.on_key(code(KeyCode::Enter));
        settle(a);
    };
    filter(&mut a, "op:create");
    let v = a.audit.as_ref().unwrap();
    assert_eq!(v.events.len(), 7);
    assert!(v.events.iter().all(|e| e.op == "create"));
    assert_eq!(v.cursor, 0, "a new filter starts at the top");
    assert!(text(&screen(&a, 80, 24)).contains("audit log · op:create · 7 events"));
    filter(&mut a, "until:2025-12-31");
    assert_eq!(a.audit.as_ref().unwrap().events.len(), 3, "Q1–Q3 in 2025");
    filter(&mut a, "create since:2026-11-30");
    assert_eq!(a.audit.as_ref().unwrap().events.len(), 4, "Q4–Q7");
    let me = f.store.user().to_owned();
    filter(&mut a, &format!("user:{me} op:trash"));
    assert_eq!(a.audit.as_ref().unwrap().events.len(), 1);
    filter(&mut a, "user:somebody-else");
    assert!(a.audit.as_ref().unwrap().events.is_empty());
    assert!(text(&screen(&a, 80, 24)).contains("no events match"));
    press(&mut a, "f");
    a.on_key(ctrl('u'));
    press(&mut a, "since:2026-12-01 until:2026-01-01");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Prompt, "a bad filter keeps the prompt open");
    assert!(text(&screen(&a, 80, 24)).contains("swap them"));
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.mode, Mode::Audit);
    // Keys of the list do nothing here and say so; Esc closes the log.
    press(&mut a, "d");
    assert_eq!(status(&a), "d does nothing here; ? lists the keys");
    press(&mut a, "?");
    let s = text(&screen(&a, 80, 24));
    assert!(
        s.contains("keys: audit log") && s.contains("filter the audit log"),
        "{s}"
    );
    press(&mut a, "x");
    a.on_key(code(KeyCode::Esc));
    assert!(a.audit.is_none());
    assert_eq!((a.mode, a.pane), (Mode::Normal, Pane::Quality));
    // The palette opens it with a filter, from anywhere.
    press(&mut a, "1:audit op:trash");
    a.on_key(code(KeyCode::Enter));
    settle(&mut a);
    assert_eq!(a.audit.as_ref().unwrap().events.len(), 1);
    // A change made meanwhile (an undo) is the log's newest event.
    a.on_key(code(KeyCode::Esc));
    press(&mut a, "A");
    settle(&mut a);
    assert_eq!(a.audit.as_ref().unwrap().events.len(), 9);
    press(&mut a, "u");
    assert!(status(&a).starts_with("undid #9"), "{}", status(&a));
    settle(&mut a);
    let v = a.audit.as_ref().unwrap();
    assert_eq!((v.events.len(), v.events[0].op.as_str()), (10, "undo"));
}

/// The log is read a page at a time: the first page, then four times
/// more when the cursor nears its end; never the whole log at once.
#[test]
fn audit_log_reads_in_pages() {
    use rolo::tui::audit::FIRST_PAGE;
    let f = fixture();
    for i in 0..(FIRST_PAGE + 60) {
        f.store.add_tag(&format!("t{i}"), &[id(1)]).unwrap();
    }
    let total = f.store.audit_log().count();
    assert!(total > FIRST_PAGE + 60);
    let mut a = app(&f, 24);
    press(&mut a, "A");
    settle(&mut a);
    let v = a.audit.as_ref().unwrap();
    assert_eq!(
        (v.events.len(), v.asked, v.complete),
        (FIRST_PAGE, FIRST_PAGE, false)
    );
    assert!(text(&screen(&a, 80, 24)).contains("the newest 200 events, more as you scroll"));
    press(&mut a, "G");
    settle(&mut a);
    let v = a.audit.as_ref().unwrap();
    assert_eq!(
        v.asked,
        4 * FIRST_PAGE,
        "G asks for one more step, not the whole log"
    );
    assert_eq!((v.events.len(), v.complete), (total, true));
    assert_eq!(
        v.cursor,
        FIRST_PAGE - 1,
        "G went to the end of what was read"
    );
    press(&mut a, "G");
    assert_eq!(a.audit.as_ref().unwrap().cursor, total - 1);
    assert_eq!(a.audit.as_ref().unwrap().events[total - 1].seq, 1);
}

/// `X` asks, stating what goes and what stays, for the id or `yes`;
/// then the customer's name, email and phone find nobody, in the
/// workbench and with `rolo search`, and the status says the files are
/// rewritten on the way out.
#[test]
fn erase_from_the_list_and_the_360_view() {
    let f = fixture();
    let mut a = app(&f, 24);
    let queries = ["Ann Lee", "'ann", "ann@example.com", "4155550100", "C2"];
    let search = |a: &mut App, q: &str| -> Vec<u64> {
        press(a, "/");
        a.on_key(ctrl('u'));
        press(a, q);
        a.on_key(code(KeyCode::Esc));
        a.results.clone().unwrap().iter().map(|i| i.0).collect()
    };
    for q in queries {
        assert_eq!(search(&mut a, q), [2], "{q} finds Ann Lee before");
    }
    a.on_key(code(KeyCode::Esc));
    press(&mut a, "j");
    assert_eq!(a.visible[1].customer.name, "Ann Lee");
    press(&mut a, "X");
    assert_eq!(a.mode, Mode::Prompt);
    let s = text(&screen(&a, 80, 24));
    for want in [
        "erase customer 2: this cannot be undone",
        "1 email, 1 phone",
        "0 notes",
        "kept: 1 order",
        "type 2 or yes",
        "CONFIRM",
    ] {
        assert!(s.contains(want), "lacks {want:?}:\n{s}");
    }
    insta::assert_snapshot!("erase_confirm_80x24", screen(&a, 80, 24).backend());
    press(&mut a, "y");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Prompt, "y alone is not enough");
    assert!(text(&screen(&a, 80, 24)).contains("type 2 or yes to erase"));
    a.on_key(code(KeyCode::Esc));
    assert_eq!(status(&a), "kept Ann Lee: nothing was erased");
    assert_eq!(a.total, 6);
    press(&mut a, "X2");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(status(&a), "erased customer 2; files compacted on quit");
    assert!(status_shown(&a), "{}", text(&screen(&a, 80, 24)));
    assert_eq!(a.total, 5);
    assert_eq!(a.erased, [id(2)]);
    assert!(f.store.customer(id(2)).unwrap().is_none());
    for q in queries {
        assert!(
            search(&mut a, q).is_empty(),
            "{q} still finds the erased customer"
        );
    }
    a.on_key(code(KeyCode::Esc));
    // From the 360° view: it closes once its customer is gone.
    press(&mut a, "/bob");
    a.on_key(code(KeyCode::Enter));
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.mode, Mode::Detail);
    press(&mut a, "Xyes");
    a.on_key(code(KeyCode::Enter));
    assert!(a.detail.is_none());
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.erased, [id(2), id(6)]);
    // Not undoable: u takes back an earlier change, never the erasure.
    let tmp = release(f, a);
    for q in [
        "'ann",
        "ann@example.com",
        "+14155550100",
        "'bob",
        "'Smith & Sons",
    ] {
        assert!(rolo_search(tmp.path(), q).is_empty(), "rolo search {q}");
    }
}

/// An erasure says it runs before it runs when deferring is on (it
/// scrubs the whole audit log: seconds on a large database).
#[test]
fn erasure_says_it_runs_before_it_runs() {
    let f = fixture();
    let mut a = app(&f, 24);
    a.defer_bulk_above = Some(5_000);
    press(&mut a, "X1");
    a.on_key(code(KeyCode::Enter));
    assert!(a.has_pending());
    assert!(status(&a).starts_with("erasing 张伟"), "{}", status(&a));
    assert!(f.store.customer(id(1)).unwrap().is_some());
    assert!(a.run_pending());
    assert!(f.store.customer(id(1)).unwrap().is_none());
    assert_eq!(status(&a), "erased customer 1; files compacted on quit");
}

/// A custom attribute that looks like an identifier (a member number) is
/// compared by the scan, and the line about the highlighted record's best
/// pair names it: it has no row of its own.
#[test]
fn duplicates_pane_names_an_identifier_attribute_in_the_pair_line() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store_at(tmp.path(), NOW);
    let mut csv = String::from("ext_id,name,phone,city,member_no,tier\n");
    csv.push_str("M-1,Katherine Johnston,+1 415 555 0100,Springfield,MB-100234,gold\n");
    csv.push_str("M-2,Catherine Jonston,+1 415 555 0100,Springfield,MB 100234,gold\n");
    for (i, name) in [
        "Oliver Brown",
        "Amelia Clarke",
        "Noah Evans",
        "Isla Foster",
        "Leo Grant",
        "Ava Hughes",
        "Jack Irwin",
        "Mia Jenkins",
        "Theo Kerr",
        "Ruby Lane",
        "Hugo Marsh",
        "Ella Nash",
    ]
    .iter()
    .enumerate()
    {
        csv.push_str(&format!(
            "M-{},{name},+1 415 555 {:04},Town{i},MB-{},basic\n",
            i + 3,
            200 + i,
            300_000 + i * 7919
        ));
    }
    let path = tmp.path().join("m.csv");
    std::fs::write(&path, csv).unwrap();
    let report = import_file(
        &store,
        &path,
        &ImportOptions::new(RecordKind::Customers),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.inserted, 14, "{report:?}");
    let f = Fixture {
        _tmp: tmp,
        store: Arc::new(store),
    };
    let a = dup_app(&f, 24);
    assert_eq!(queue(&a), [vec![1, 2]]);
    let s = text(&screen(&a, 160, 48));
    assert!(s.contains("attr:member_no exact +"), "{s}");
    assert!(!s.contains("attr:tier"), "{s}");
}
