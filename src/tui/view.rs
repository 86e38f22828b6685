//! Drawing: only reads the state. Tabs on top, the search line, the pane,
//! and a status bar; the help overlay is generated from the key map.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use unicode_width::UnicodeWidthStr;

use super::action::Action;
use super::app::{App, Mode, Pane};
use super::panes;
use super::scope::Scope;
use super::text::fit;
use super::theme::Theme;

/// Rows of chrome around the pane (tabs, search, table header, status).
pub const CHROME_ROWS: u16 = 4;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let [tabs, search, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_tabs(frame, tabs, app, theme);
    draw_search(frame, search, app, theme);
    match (&app.form, &app.note_form, &app.detail, &app.trash) {
        (Some(form), _, _, _) if app.mode == Mode::Edit => {
            panes::form::draw(frame, body, form, theme)
        }
        (_, Some(form), _, _) if app.mode == Mode::Note => {
            panes::note_form::draw(frame, body, form, theme)
        }
        _ if app.audit.is_some() => {
            if let Some(v) = &app.audit {
                panes::audit::draw(frame, body, app, v, theme);
            }
        }
        (_, _, Some(d), _) => {
            let key = |a: Action, default: &'static str| app.keymap.key_for(a).unwrap_or(default);
            let keys = if d.customer.trashed_at.is_some() {
                format!(
                    "in the trash: {} restores · {} edits · {} adds a note · {} closes · {} keys",
                    key(Action::Restore, "r"),
                    key(Action::Edit, "e"),
                    key(Action::AddNote, "a"),
                    key(Action::Clear, "esc"),
                    key(Action::Help, "?"),
                )
            } else {
                format!(
                    "{} edits · {} adds a note · {} trashes · {} closes · {} keys",
                    key(Action::Edit, "e"),
                    key(Action::AddNote, "a"),
                    key(Action::Trash, "d"),
                    key(Action::Clear, "esc"),
                    key(Action::Help, "?"),
                )
            };
            panes::detail::draw(frame, body, d, app.masked, &keys, theme)
        }
        (_, _, None, Some(t)) => panes::trash::draw(frame, body, t, app.masked, theme),
        _ if app.pane == Pane::Customers => panes::customers::draw(frame, body, app, theme),
        _ if app.pane == Pane::Tags => panes::tags::draw(frame, body, app, theme),
        _ if app.pane == Pane::Segments => panes::segments::draw(frame, body, app, theme),
        _ if app.pane == Pane::Quality => panes::quality::draw(frame, body, app, theme),
        _ if app.pane == Pane::Duplicates => panes::duplicates::draw(frame, body, app, theme),
        _ => panes::placeholder::draw(frame, body, app.pane, theme),
    }
    if let (Mode::Prompt, Some(p)) = (app.mode, &app.prompt) {
        panes::prompt::draw(frame, body, p, theme);
    }
    if let (Mode::Command, Some(p)) = (app.mode, &app.palette) {
        panes::palette::draw(frame, body, p, theme);
    }
    if let (Mode::TagPicker, Some(p)) = (app.mode, &app.tag_picker) {
        panes::tag_picker::draw(frame, body, p, theme);
    }
    draw_status(frame, status, app, theme);
    if app.mode == Mode::Help {
        draw_help(frame, app, theme);
    }
}

fn draw_tabs(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    for (i, p) in Pane::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, p.title());
        spans.push(if *p == app.pane {
            Span::styled(label, theme.active_tab())
        } else {
            Span::raw(label)
        });
    }
    let help_key = app
        .keymap
        .key_for(crate::tui::action::Action::Help)
        .unwrap_or("?");
    spans.push(Span::styled(format!("  {help_key} help"), theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_search(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let width = area.width as usize;
    let key = |a: Action, default: &'static str| app.keymap.key_for(a).unwrap_or(default);
    let line = if let (Mode::Prompt, Some(p)) = (app.mode, &app.prompt) {
        let label = p.label();
        let room = width.saturating_sub(label.width() + 2);
        let typed = fit(&p.input, room);
        let mut spans = vec![
            Span::styled(label, theme.title()),
            Span::raw(format!("{}▏", typed.trim_end())),
        ];
        let used = spans.iter().map(|s| s.content.width()).sum::<usize>();
        let room = width.saturating_sub(used);
        match &p.error {
            // An erasure's box shows its refusal.
            Some(_) if matches!(p.ask, crate::tui::prompt::Ask::Erase(_)) => {}
            Some(err) => spans.push(Span::styled(fit(&format!(" {err}"), room), theme.error())),
            None => spans.push(Span::styled(fit(p.hint(), room), theme.dim())),
        }
        Line::from(spans)
    } else if let (Mode::Command, Some(p)) = (app.mode, &app.palette) {
        Line::raw(format!(
            ":{}▏",
            fit(&p.input, width.saturating_sub(3)).trim_end()
        ))
    } else if let Some(v) = &app.audit {
        panes::audit::title(v, width, theme)
    } else if let (Some(t), None) = (&app.trash, &app.detail) {
        let what = if t.loading {
            "the trash: reading…".to_owned()
        } else {
            match t.rows.len() {
                1 => "the trash: 1 customer".to_owned(),
                n => format!("the trash: {n} customers"),
            }
        };
        Line::styled(
            fit(
                &format!(
                    "{what} · {} restores · {} opens · {} notes · esc closes",
                    key(Action::Restore, "r"),
                    key(Action::Open, "enter"),
                    key(Action::AddNote, "a"),
                ),
                width,
            ),
            theme.title(),
        )
    } else if app.pane == Pane::Segments && app.detail.is_none() && app.mode != Mode::Search {
        panes::segments::title(app, width, theme)
    } else if app.pane == Pane::Quality && app.detail.is_none() && app.mode != Mode::Search {
        panes::quality::title(app, width, theme)
    } else if app.pane == Pane::Duplicates && app.detail.is_none() && app.mode != Mode::Search {
        panes::duplicates::title(app, width, theme)
    } else if let Some(err) = &app.query_error {
        Line::from(vec![
            Span::raw(format!("/{} ", fit(&app.query, width / 2).trim_end())),
            Span::styled(fit(err, width / 2), theme.error()),
        ])
    } else if app.mode == Mode::Search || !app.query.is_empty() {
        let cursor = if app.mode == Mode::Search { "▏" } else { "" };
        Line::raw(format!(
            "/{}{cursor}",
            fit(&app.query, width.saturating_sub(3)).trim_end()
        ))
    } else {
        let key = app
            .keymap
            .key_for(crate::tui::action::Action::Search)
            .unwrap_or("/");
        Line::styled(
            fit(
                &format!(
                    "press {key} to search: name, pinyin, phone digits, email, tag:vip city:上海 spend>1000"
                ),
                width,
            ),
            theme.dim(),
        )
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // The folder name only: the full path rarely fits and the user chose it.
    let db = app
        .store
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let count = match (app.results.is_some(), app.total) {
        (true, 1) => "1 match".to_owned(),
        (true, n) => format!("{n} matches"),
        (false, 1) => "1 customer".to_owned(),
        (false, n) => format!("{n} customers"),
    };
    let mode = match app.mode {
        Mode::Normal => "NORMAL",
        Mode::Search => "SEARCH",
        Mode::Help => "HELP",
        Mode::Detail => "360°",
        Mode::Edit => "EDIT",
        Mode::Note => "NOTE",
        Mode::Trash => "TRASH",
        Mode::Command => "COMMAND",
        Mode::TagPicker => "TAG",
        Mode::Confirm => "CONFIRM",
        Mode::Audit => "AUDIT",
        Mode::Prompt => match app.prompt.as_ref().map(|p| &p.ask) {
            Some(crate::tui::prompt::Ask::Erase(_)) => "CONFIRM",
            _ => "INPUT",
        },
    };
    let mut parts = vec![mode.to_owned(), app.pane.title().to_owned(), count];
    if let Some(sort) = app.sort {
        parts.push(if app.is_sorting() {
            format!("sorting {}…", sort.describe())
        } else {
            sort.describe()
        });
    }
    if !app.selected.is_empty() {
        parts.push(format!("{} selected", app.selected.len()));
    }
    if app.index.is_none() {
        parts.push("indexing…".to_owned());
    }
    let seg = &app.segments;
    if seg.search_waits || (app.pane == Pane::Segments && seg.is_busy()) {
        parts.push("computing segments…".to_owned());
    } else if app.pane == Pane::Segments && seg.is_stale(app.data_generation()) {
        let key = app
            .keymap
            .key_in(
                Action::Recompute,
                Some(crate::tui::keymap::Section::Segments),
            )
            .unwrap_or("r");
        parts.push(format!("changed since computed: {key} recomputes"));
    }
    let q = &app.quality;
    let on_quality = app.pane == Pane::Quality && app.audit.is_none();
    if on_quality && q.computing.is_some() {
        parts.push("computing quality…".to_owned());
    } else if on_quality && q.is_stale(app.data_generation()) {
        let key = app
            .keymap
            .key_in(
                Action::Recompute,
                Some(crate::tui::keymap::Section::Quality),
            )
            .unwrap_or("r");
        parts.push(format!("changed since computed: {key} recomputes"));
    }
    let d = &app.duplicates;
    let on_duplicates = app.pane == Pane::Duplicates && app.audit.is_none();
    if on_duplicates && d.scanning.is_some() {
        parts.push("scanning for duplicates…".to_owned());
    } else if on_duplicates && d.is_stale(app.data_generation()) {
        let key = app
            .keymap
            .key_in(
                Action::Recompute,
                Some(crate::tui::keymap::Section::Duplicates),
            )
            .unwrap_or("r");
        parts.push(format!("changed since the scan: {key} rescans"));
    }
    if app.masked {
        parts.push("masked".to_owned());
    }
    if let Some(s) = &app.status {
        parts.push(s.clone());
    }
    // Last: a key's answer while it runs ("u waits…") must not be cut off.
    if let Some(p) = app.tag_progress() {
        parts.push(p.to_owned());
    }
    let left = parts.join(" │ ");
    let width = area.width as usize;
    let right_width = width.saturating_sub(left.width() + 3).min(40);
    let text = format!("{left}   {}", fit(&db, right_width));
    frame.render_widget(
        Paragraph::new(Line::styled(fit(&text, width), theme.selected_row())),
        area,
    );
}

/// The help overlay: the keys that act in the current scope (the list,
/// the 360° view, the trash view or a pane not available yet), each with
/// what it does there, in one column when they fit and two otherwise.
fn draw_help(frame: &mut Frame, app: &App, theme: &Theme) {
    let scope = app.scope();
    let help: Vec<(String, &str)> = app
        .keymap
        .help_in(scope.section())
        .into_iter()
        .filter(|(_, a)| scope.acts(*a) || scope.closes(*a))
        .map(|(keys, a)| (keys, scope.describe(a)))
        .collect();
    let footer: &[&str] = match scope {
        Scope::List => &[
            "in search: type, backspace, ctrl-u clears, enter/esc ends; mouse wheel scrolls",
            ":sort name|spend|orders|last_order|created [asc|desc] · :search QUERY · :trash",
        ],
        Scope::Trash => &["mouse wheel scrolls · : runs a command by name"],
        Scope::Tags => &[
            "d asks first: y deletes, any other key keeps the tag",
            "r: type a query, enter previews who gains and loses it, enter again saves",
            "m picks the tag to merge into (a new name renames); u undoes each change",
        ],
        Scope::Segments => &["figures are computed when shown after a change, or on r"],
        Scope::Movement => &["S records today's segments; later ones compare with it"],
        Scope::Quality => &[
            "on a field row h/l choose filled, missing or invalid; enter lists them",
            "S saves the figures as the baseline the change column compares with",
        ],
        Scope::Audit => &["filter: user:NAME op:OP since:DATE until:DATE (op:tag = tag_*)"],
        Scope::Duplicates => &[
            "1-9 take that record's value; on the first row it survives; tab leaves",
            "m and x ask first (y goes ahead); the cluster then leaves the queue",
        ],
        Scope::Merges => &["enter takes the chosen merge back: records, orders, notes as before"],
        Scope::Detail | Scope::Placeholder(_) => &[": runs a command by name"],
    };
    let area = frame.area();
    let max_inner = usize::from(area.width.saturating_sub(2)).max(1);
    let rows_available = usize::from(area.height.saturating_sub(2)).saturating_sub(footer.len());
    let columns = if help.len() <= rows_available.max(1) {
        1
    } else {
        2
    };
    let rows = help.len().div_ceil(columns);
    // Each column as wide as its own keys and descriptions.
    let widths: Vec<(usize, usize)> = (0..columns)
        .map(|c| {
            let cells = help.iter().skip(c * rows).take(rows);
            let keys = cells.clone().map(|(k, _)| k.width()).max().unwrap_or(0);
            let desc = cells.map(|(_, d)| d.width()).max().unwrap_or(0);
            (keys.min(12), desc)
        })
        .collect();
    let table: usize = widths.iter().map(|(k, d)| k + 1 + d).sum::<usize>() + 2 * (columns - 1);
    let title = format!(" keys: {} (any key closes) ", scope.title());
    let inner = footer
        .iter()
        .map(|f| f.width())
        .chain([table, title.width() + 2])
        .max()
        .unwrap_or(table)
        .min(max_inner);
    let mut lines: Vec<Line> = (0..rows)
        .map(|r| {
            let text: String = widths
                .iter()
                .enumerate()
                .map(|(c, (kw, dw))| {
                    let sep = if c > 0 { "  " } else { "" };
                    match help.get(c * rows + r) {
                        Some((keys, desc)) => format!("{sep}{} {}", fit(keys, *kw), fit(desc, *dw)),
                        None => String::new(),
                    }
                })
                .collect();
            Line::raw(fit(&text, inner))
        })
        .collect();
    for f in footer {
        lines.push(Line::styled(fit(f, inner), theme.dim()));
    }
    let width = (inner as u16 + 2).min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect::new(
        (area.width - width) / 2,
        (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        popup,
    );
}
