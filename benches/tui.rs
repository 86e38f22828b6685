//! TUI benchmark (issue 4): open-to-first-frame and keystroke-to-frame at
//! N customers (default 1,000,000), drawing on ratatui's TestBackend.
//!
//! Run: `ROLO_BENCH_DATA=DIR cargo bench --bench tui` where `DIR/db` is a
//! database of N customers (the import bench or `rolo import` makes one).
//! Prints p50/p99 per kind of key; the last line is `BENCH_SUMMARY tui {json}`.

#![allow(
    clippy::expect_used,
    reason = "a benchmark stops loudly on a broken setup"
)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rolo::search::engine::Index;
use rolo::store::{OpenOptions, Store};
use rolo::tui::app::App;
use rolo::tui::keymap::KeyMap;
use rolo::tui::theme::Theme;
use rolo::tui::{page_rows, view};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let dir = std::env::var_os("ROLO_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("bench-data/n1000000"));
    let theme = Theme { color: false };
    let (w, h) = (80u16, 24u16);
    let t0 = Instant::now();
    let store = Arc::new(
        Store::open(&dir.join("db"), &OpenOptions::default()).expect("open the bench database"),
    );
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
    let opened = t0.elapsed().as_secs_f64() * 1e3;
    println!("Store::open: {opened:.1} ms");
    let mut app =
        App::new(Arc::clone(&store), KeyMap::default(), as_of, page_rows(h)).expect("app");
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| view::draw(f, &app, &theme)).expect("draw");
    let first_frame = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let index = Arc::new(Index::load(&store).expect("index"));
    app.set_index(Arc::clone(&index));
    let index_ready = t1.elapsed().as_secs_f64() * 1e3 + first_frame;
    // The workbench warms the index in the background right after loading
    // (src/tui/mod.rs); a user types well after that.
    let t2 = Instant::now();
    index.warm();
    let warmed = t2.elapsed().as_secs_f64() * 1e3 + index_ready;
    println!("customers: {}", app.total);
    println!(
        "open to first frame: {first_frame:.1} ms (index ready after {index_ready:.1} ms, warmed after {warmed:.1} ms, in the background)"
    );

    let mut frame = |app: &mut App, key: KeyEvent| {
        let t = Instant::now();
        app.on_key(key);
        term.draw(|f| view::draw(f, app, &theme)).expect("draw");
        t.elapsed().as_secs_f64() * 1e3
    };
    let k = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let code = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);

    let mut nav = Vec::new();
    for i in 0..2000 {
        let key = match i % 8 {
            0..=3 => k('j'),
            4 => code(KeyCode::PageDown),
            5 => k('k'),
            6 => code(KeyCode::PageUp),
            _ => k('G'),
        };
        nav.push(frame(&mut app, key));
        if i % 100 == 99 {
            frame(&mut app, k('g'));
        }
    }
    let mut typing = Vec::new();
    let mut open = Vec::new();
    for q in [
        "zhang wei",
        "smith",
        "13800",
        "gmail.com",
        "wang",
        "li na",
        "jones",
        "@qq",
    ] {
        frame(&mut app, k('/'));
        for (i, c) in q.chars().enumerate() {
            let ms = frame(&mut app, k(c));
            typing.push(ms);
            if ms > 50.0 {
                println!(
                    "  slow keystroke: {:?} took {ms:.1} ms ({} matches)",
                    &q[..q.char_indices().nth(i + 1).map_or(q.len(), |(b, _)| b)],
                    app.total
                );
            }
        }
        frame(&mut app, code(KeyCode::Enter));
        open.push(frame(&mut app, code(KeyCode::Enter)));
        frame(&mut app, code(KeyCode::Esc));
        frame(&mut app, code(KeyCode::Esc));
    }
    let (n50, n99) = (pct(&mut nav, 0.5), pct(&mut nav, 0.99));
    let (t50, t99) = (pct(&mut typing, 0.5), pct(&mut typing, 0.99));
    let (o50, o99) = (pct(&mut open, 0.5), pct(&mut open, 0.99));
    println!(
        "navigation keystroke-to-frame: p50 {n50:.3} ms  p99 {n99:.3} ms  (target p99 <= 16 ms)"
    );
    println!("search typing keystroke-to-frame: p50 {t50:.2} ms  p99 {t99:.2} ms");
    println!("opening the 360 view: p50 {o50:.2} ms  p99 {o99:.2} ms");
    println!(
        "BENCH_SUMMARY tui {{\"customers\":{},\"first_frame_ms\":{first_frame:.1},\"index_ready_ms\":{index_ready:.1},\"nav_p50_ms\":{n50:.3},\"nav_p99_ms\":{n99:.3},\"typing_p50_ms\":{t50:.2},\"typing_p99_ms\":{t99:.2},\"open_p50_ms\":{o50:.2},\"open_p99_ms\":{o99:.2}}}",
        app.total
    );
}
