//! The terminal front end. `app` holds the state and the update function,
//! `view` and `panes` draw it, `keymap` turns keys into `action`s. Only this
//! module (and nothing in the core) touches ratatui or crossterm, and it
//! reaches the database only through library calls.

pub mod action;
pub mod app;
pub mod keymap;
pub mod panes;
pub mod text;
pub mod theme;
pub mod view;

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
/// (ratatui's hook); the store flushes when dropped.
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
            let _ = tx.send(Index::load(&store));
        });
    }
    let mut terminal = ratatui::init();
    let outcome = (|| -> Result<()> {
        let size = terminal.size()?;
        let mut app = App::new(Arc::clone(&store), keymap, as_of, page_rows(size.height))?;
        let mut dirty = true;
        while !app.quit && !stop.load(Ordering::Relaxed) {
            if dirty {
                terminal.draw(|f| view::draw(f, &app, &theme))?;
                dirty = false;
            }
            if let Ok(loaded) = rx.try_recv() {
                app.set_index(Arc::new(loaded?));
                dirty = true;
            }
            if event::poll(Duration::from_millis(100))? {
                match event::read()? {
                    Event::Key(key) => dirty |= app.on_key(key),
                    Event::Resize(_, h) => {
                        app.resize(page_rows(h));
                        dirty = true;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    })();
    ratatui::restore();
    store.flush()?;
    outcome
}

/// Table rows that fit in a terminal `height` rows tall.
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(view::CHROME_ROWS + 1)).max(1)
}
