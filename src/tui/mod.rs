//! The terminal front end. `app` holds the state and the update function,
//! `view` and `panes` draw it, `keymap` turns keys into `action`s. Only this
//! module (and nothing in the core) touches ratatui or crossterm, and it
//! reaches the database only through library calls.

pub mod action;
pub mod app;
pub mod audit;
pub mod duplicates;
pub mod form;
pub mod keymap;
pub mod note_form;
pub mod palette;
pub mod panes;
pub mod prompt;
pub mod quality;
pub mod scope;
pub mod segments;
pub mod sort;
pub mod tag_edit;
pub mod tag_picker;
pub mod tags;
pub mod text;
pub mod theme;
pub mod trash;
pub mod view;
pub mod worker;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use crossterm::event::{self, Event};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::search::engine::Index;
use crate::store::Store;
use app::App;
use keymap::KeyMap;
use theme::Theme;

/// Tag changes touching more customers than this run on the worker, the
/// status bar saying "tagging N customers…" with a spinner meanwhile.
const BULK_TAGGING: usize = 5_000;

/// Where a user key map lives: `$XDG_CONFIG_HOME/rolo/keys.toml`.
pub fn keymap_path() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("", "", "rolo").map(|d| d.config_dir().join("keys.toml"))
}

/// The default key map with the user's overrides, if a file exists.
pub fn load_keymap() -> Result<KeyMap> {
    match keymap_path() {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            KeyMap::with_overrides(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        _ => Ok(KeyMap::default()),
    }
}

/// Runs the workbench until the user quits or `stop` is set (SIGHUP,
/// SIGTERM). The terminal is restored on every exit path, panics included
/// (ratatui's hook, and ours on top for mouse capture); the store flushes
/// when dropped. After an erasure the database files are rewritten on the
/// way out (see [`compact_after_erasure`]).
pub fn run(store: Store, as_of: NaiveDate, stop: Arc<AtomicBool>) -> Result<()> {
    let keymap = load_keymap()?;
    let theme = Theme::from_env();
    // crossterm's own NO_COLOR handling also resets bold and reverse; the
    // theme decides instead.
    crossterm::style::force_color_output(true);
    let store = Arc::new(store);
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            let loaded = Index::load(&store).map(Arc::new);
            let warm = loaded.as_ref().ok().map(Arc::clone);
            let _ = tx.send(loaded);
            // The first keystrokes of a search use what `warm` builds; the
            // list is already on screen while it runs.
            if let Some(index) = warm {
                index.warm();
            }
        });
    }
    // Rule tags are brought up to date off the UI thread: at a million
    // customers a refresh takes seconds, and the first frame must not wait.
    let (rules_tx, rules_rx) = std::sync::mpsc::channel();
    {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            let ctx = crate::search::EvalContext::new(as_of);
            let _ = rules_tx.send(crate::search::rules::refresh_if_stale(&store, &ctx));
        });
    }
    let running = Arc::new(AtomicBool::new(true));
    spawn_hangup_watchdog(Arc::clone(&store), Arc::clone(&stop), Arc::clone(&running));
    let mut terminal = ratatui::init();
    let outcome = (|| -> Result<usize> {
        capture_mouse()?;
        let size = terminal.size()?;
        let mut app = App::new(Arc::clone(&store), keymap, as_of, page_rows(size.height))?;
        app.defer_bulk_above = Some(BULK_TAGGING);
        match crate::segments::Settings::load() {
            Ok(s) => app.segment_settings = s,
            Err(e) => app.status = Some(format!("segment settings: {e}; using the defaults")),
        }
        let mut dirty = true;
        while !app.quit && !stop.load(Ordering::Relaxed) {
            if dirty {
                terminal.draw(|f| view::draw(f, &app, &theme))?;
                dirty = false;
            }
            // An erasure runs once the frame saying so is on screen.
            if app.run_pending() {
                dirty = true;
                continue;
            }
            if let Ok(loaded) = rx.try_recv() {
                app.set_index(loaded?);
                dirty = true;
            }
            if let Ok(refreshed) = rules_rx.try_recv() {
                match refreshed {
                    Ok(Some(_)) => {
                        app.refresh_visible();
                        app.status = Some("rule tags brought up to date".into());
                    }
                    Ok(None) => {}
                    Err(e) => app.status = Some(format!("refreshing rule tags failed: {e}")),
                }
                dirty = true;
            }
            dirty |= app.poll_worker();
            // A tag write on the worker: its spinner and seconds move on.
            dirty |= app.tick(std::time::Instant::now());
            if event::poll(Duration::from_millis(100))? {
                match event::read()? {
                    Event::Key(key) => dirty |= app.on_key(key),
                    Event::Mouse(m) => dirty |= app.on_mouse(m),
                    Event::Resize(_, h) => {
                        app.resize(page_rows(h));
                        dirty = true;
                    }
                    _ => {}
                }
            }
        }
        Ok(app.erased.len())
    })();
    running.store(false, Ordering::Relaxed);
    release_mouse();
    ratatui::restore();
    match outcome {
        Ok(erased) if erased > 0 => compact_after_erasure(store, erased),
        Ok(_) => Ok(store.flush()?),
        Err(e) => {
            store.flush()?;
            Err(e)
        }
    }
}

/// `rolo erase` rewrites the database files after erasing, because sled
/// keeps overwritten values in its log until they are reused. The
/// workbench cannot while it runs (the rewrite swaps the files under the
/// open store), so it does it on the way out, once the threads that share
/// the store have let go of it (the workers finish their current job);
/// if they do not within a while, it says to run `rolo compact`.
fn compact_after_erasure(store: Arc<Store>, erased: usize) -> Result<()> {
    let who = match erased {
        1 => "1 customer".to_owned(),
        n => format!("{n} customers"),
    };
    eprintln!("rolo: rewriting the database files after erasing {who}…");
    let start = std::time::Instant::now();
    let mut shared = store;
    let owned = loop {
        match Arc::try_unwrap(shared) {
            Ok(s) => break Some(s),
            Err(s) if start.elapsed() < Duration::from_secs(60) => {
                shared = s;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(s) => {
                s.flush()?;
                break None;
            }
        }
    };
    match owned {
        Some(s) => {
            let report = s
                .compact_and_close(&mut |_| {})
                .context("rewriting the database files after an erasure (run `rolo compact`)")?;
            eprintln!(
                "rolo: rewrote the database files ({} keys), so the erased values are gone from disk",
                report.keys
            );
        }
        None => eprintln!(
            "rolo: the database is still busy; run `rolo compact` so the erased values are gone from disk"
        ),
    }
    Ok(())
}

/// Turns on mouse reports (the wheel scrolls the list) and makes sure a
/// panic turns them off again: this hook runs before ratatui's, which
/// restores raw mode and the screen, so the shell never receives mouse
/// escape sequences after rolo is gone.
fn capture_mouse() -> Result<()> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        release_mouse();
        previous(info);
    }));
    crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
        .context("enabling mouse reports")
}

/// Turns mouse reports off (on every exit path).
fn release_mouse() {
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
}

/// When the terminal goes away (an SSH link drops) crossterm keeps reading
/// end-of-file inside its poll and never returns, so neither the event loop
/// nor the SIGHUP flag it checks gets a turn. This thread watches for that
/// (three checks in a row, 100 ms apart) and for a stop signal the loop
/// did not honour within a second, flushes the store and exits. Every
/// change was already flushed at its commit; this is belt and braces.
fn spawn_hangup_watchdog(store: Arc<Store>, stop: Arc<AtomicBool>, running: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut hung = 0;
        let mut stopping = 0;
        while running.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            hung = if terminal_hung_up() { hung + 1 } else { 0 };
            stopping = if stop.load(Ordering::Relaxed) {
                stopping + 1
            } else {
                0
            };
            if (hung >= 3 || stopping >= 10) && running.load(Ordering::Relaxed) {
                tracing::info!("terminal gone or stop signal not honoured: flushing and exiting");
                let _ = store.flush();
                std::process::exit(if hung >= 3 { 0 } else { 130 });
            }
        }
    });
}

/// Whether the terminal went away (an SSH link dropped, tmux killed).
/// crossterm then keeps reading end-of-file and never reports it, so rolo
/// asks the tty itself: readable (or hung up) with nothing to read means
/// end-of-file. rolo then quits; the store flushes on the way out.
fn terminal_hung_up() -> bool {
    let mut fds = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    let mut pending: libc::c_int = 0;
    #[expect(
        unsafe_code,
        reason = "poll(2) and ioctl(FIONREAD) on stdin; no safe std wrapper"
    )]
    // SAFETY: one valid pollfd with a zero timeout; FIONREAD writes one c_int.
    let (ready, available) = unsafe {
        let n = libc::poll(&mut fds, 1, 0);
        let r = libc::ioctl(0, libc::FIONREAD, &mut pending);
        (n, r)
    };
    if ready <= 0 {
        return false;
    }
    let hup = fds.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0;
    let eof = fds.revents & libc::POLLIN != 0 && available == 0 && pending == 0;
    hup || eof
}

/// Table rows that fit in a terminal `height` rows tall: every row between
/// the table header and the status bar (20 at 80x24).
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(view::CHROME_ROWS)).max(1)
}
