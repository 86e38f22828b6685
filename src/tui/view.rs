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
        (_, _, Some(d), _) => panes::detail::draw(frame, body, d, app.masked, theme),
        (_, _, None, Some(t)) => panes::trash::draw(frame, body, t, app.masked, theme),
        _ if app.pane == Pane::Customers => panes::customers::draw(frame, body, app, theme),
        _ => panes::placeholder::draw(frame, body, app.pane, theme),
    }
    if let (Mode::Command, Some(p)) = (app.mode, &app.palette) {
        panes::palette::draw(frame, body, p, theme);
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
    let line = if let (Mode::Command, Some(p)) = (app.mode, &app.palette) {
        Line::raw(format!(
            ":{}▏",
            fit(&p.input, width.saturating_sub(3)).trim_end()
        ))
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
    let count = if app.results.is_some() {
        format!("{} matches", app.total)
    } else {
        format!("{} customers", app.total)
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
    if app.masked {
        parts.push("masked".to_owned());
    }
    if let Some(s) = &app.status {
        parts.push(s.clone());
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

fn draw_help(frame: &mut Frame, app: &App, theme: &Theme) {
    let help = app.keymap.help();
    let area = frame.area();
    // One column when it fits, else two side by side.
    let rows_available = usize::from(area.height.saturating_sub(5)).max(1);
    let columns = if help.len() <= rows_available { 1 } else { 2 };
    let rows = help.len().div_ceil(columns);
    let width = if columns == 1 {
        60.min(area.width)
    } else {
        area.width
    };
    let height = (rows as u16 + 4).min(area.height);
    let popup = Rect::new(
        (area.width - width) / 2,
        (area.height - height) / 2,
        width,
        height,
    );
    let col_width = (width.saturating_sub(2) as usize) / columns;
    let keys_width = 12.min(col_width / 3);
    let cell = |i: usize| -> String {
        help.get(i).map_or_else(
            || " ".repeat(col_width),
            |(keys, action)| {
                format!(
                    "{} {}",
                    fit(keys, keys_width),
                    fit(action.describe(), col_width.saturating_sub(keys_width + 2)) + " "
                )
            },
        )
    };
    let mut lines: Vec<Line> = (0..rows)
        .map(|r| Line::raw((0..columns).map(|c| cell(c * rows + r)).collect::<String>()))
        .collect();
    lines.push(Line::styled(
        fit(
            "in search: type, backspace, ctrl-u clears, enter/esc ends; mouse wheel scrolls",
            col_width * columns,
        ),
        theme.dim(),
    ));
    lines.push(Line::styled(
        fit(
            ":sort name|spend|orders|last_order|created [asc|desc] · :search QUERY · :trash",
            col_width * columns,
        ),
        theme.dim(),
    ));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys (any key closes) "),
        ),
        popup,
    );
}
