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
    let store = Store::open(&tmp.path().join("db"), &OpenOptions::default()).unwrap();
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

fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
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
            s.contains(action.describe()) || s.contains(&keys),
            "help lacks {action:?}"
        );
    }
    insta::assert_snapshot!("help_80x24", t.backend());
    press(&mut a, "x");
    assert_eq!(a.mode, Mode::Normal, "any key closes help");
}

#[test]
fn other_panes_say_not_available_yet() {
    let f = fixture();
    let mut a = app(&f, 24);
    for (k, pane) in [
        ('2', Pane::Tags),
        ('3', Pane::Duplicates),
        ('4', Pane::Segments),
        ('5', Pane::Quality),
        ('1', Pane::Customers),
    ] {
        press(&mut a, &k.to_string());
        assert_eq!(a.pane, pane);
        let s = text(&screen(&a, 80, 24));
        if pane != Pane::Customers {
            assert!(s.contains("not available yet"), "{s}");
        }
    }
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
    let mut a = app(&f, 8);
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
