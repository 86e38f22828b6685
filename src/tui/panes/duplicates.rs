//! The Duplicates pane: the cluster under review side by side, one row per
//! field and one column per record, after the merged result; then what
//! the current row's value follows and why the highlighted record is in
//! the cluster (its best pair: score, bits, blocking keys); then the keys
//! or the question being asked. The search line above counts the queue.
//! The list of merges (`U`) takes the table's place while open.
//!
//! Marks that need no colour: `≠` before a row whose records disagree,
//! `▸` before the value each row takes, the cursor cell reversed.
//! Differing values are emphasised too. Columns are as wide as 80 columns
//! allow for three records; a larger cluster scrolls sideways with the
//! highlight (`◂` and `▸` in the header say more are hidden).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::dedup::review::{Choices, Member, Rule, is_list};
use crate::dedup::{CompareField, Level, Pair};
use crate::model::{CustomerId, Field};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::duplicates::{Confirm, DuplicatesView, MergesView, Row, Shown, id_list};
use crate::tui::keymap::Section;
use crate::tui::panes::segments::money;
use crate::tui::text::{display_name, fit, mask_email, mask_phone, thousands};
use crate::tui::theme::Theme;

/// Width of the row names (`family_name`).
const LABEL: usize = 11;
/// Width of the bits column (`+23.0`).
const BITS: usize = 6;
/// The narrowest and widest record column.
const MIN_CELL: usize = 12;
const MAX_CELL: usize = 40;
/// Rows below the table: two lines of explanation, the key line.
const BELOW: usize = 3;

/// Table rows on screen in a pane `height` rows tall (its header, the
/// explanation and the key line aside).
pub fn field_rows(height: usize) -> usize {
    height.saturating_sub(1 + BELOW).max(1)
}

/// How the width is shared: the merged column and `shown` record columns
/// from `first`, each `cell` wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cols {
    cell: usize,
    first: usize,
    shown: usize,
}

impl Cols {
    /// The columns for `n` records at `width`, keeping record `col` on
    /// screen.
    fn of(width: usize, n: usize, col: usize) -> Cols {
        let avail = width.saturating_sub(2 + LABEL + 1 + BITS + 1 + 2);
        let mut shown = n.max(1);
        let cell = loop {
            let cell = avail.saturating_sub(shown) / (shown + 1);
            if cell >= MIN_CELL || shown == 1 {
                break cell.min(MAX_CELL);
            }
            shown -= 1;
        };
        let first = (col + 1).saturating_sub(shown).min(n.saturating_sub(shown));
        Cols { cell, first, shown }
    }
}

/// The search line over the pane: where in the queue, the cluster's size
/// and best score, what was scanned.
pub fn title(app: &App, width: usize, theme: &Theme) -> Line<'static> {
    let v = &app.duplicates;
    if let Some(m) = &v.merges {
        let n = m.rows.as_ref().map_or_else(
            || "reading…".to_owned(),
            |r| format!("{} in effect, newest first", thousands(r.len() as u64)),
        );
        return Line::styled(fit(&format!("merges · {n}"), width), theme.title());
    }
    let Some(review) = &v.review else {
        let what = if v.error.is_some() {
            "the scan failed".to_owned()
        } else {
            format!("scanning {} customers…", thousands(app.total as u64))
        };
        return Line::styled(fit(&format!("duplicates · {what}"), width), theme.title());
    };
    let head = match (v.cluster(), v.queued()) {
        (Some(c), n) => format!(
            "cluster {}/{} · {} records · best {:.4}",
            v.at + 1,
            thousands(n as u64),
            c.members.len(),
            c.best
        ),
        (None, _) => "no clusters to review".to_owned(),
    };
    let mut rest = format!(
        " · {} customers scanned, {} pairs ≥ {}",
        thousands(review.customers),
        thousands(review.pairs as u64),
        review.threshold
    );
    if let Some(s) = &v.shown {
        let c = Cols::of(width, s.members.len(), s.col);
        if c.shown < s.members.len() {
            rest = format!(
                " · records {}-{} of {}{rest}",
                c.first + 1,
                c.first + c.shown,
                s.members.len()
            );
        }
    }
    if v.scanning.is_some() {
        rest = format!(" · rescanning…{rest}");
    }
    let used = head.width();
    Line::from(vec![
        Span::styled(head, theme.title()),
        Span::styled(fit(&rest, width.saturating_sub(used)), theme.dim()),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let v = &app.duplicates;
    let width = usize::from(area.width);
    let height = usize::from(area.height);
    let rows = field_rows(height);
    let (mut lines, explain) = match (&v.merges, &v.shown) {
        (Some(m), _) => merges_lines(app, m, width, rows, theme),
        (None, Some(s)) => table_lines(app, s, width, rows, theme),
        (None, None) => (vec![Line::raw(""), waiting(app, v, width, theme)], vec![]),
    };
    lines.truncate(1 + rows);
    while lines.len() < 1 + rows {
        lines.push(Line::raw(""));
    }
    lines.extend(explain);
    lines.truncate(height.saturating_sub(1));
    while lines.len() < height.saturating_sub(1) {
        lines.push(Line::raw(""));
    }
    lines.push(key_line(app, width, theme));
    frame.render_widget(Paragraph::new(lines), area);
}

/// The key that reaches `action` in the pane.
fn key(app: &App, action: Action, default: &'static str) -> String {
    app.keymap
        .key_in(action, Some(Section::Duplicates))
        .unwrap_or(default)
        .to_owned()
}

fn short(app: &App, action: Action, default: &'static str) -> String {
    app.keymap
        .short_key_in(action, Some(Section::Duplicates))
        .unwrap_or(default)
        .to_owned()
}

/// The last line: the question being asked, or the keys.
fn key_line(app: &App, width: usize, theme: &Theme) -> Line<'static> {
    let v = &app.duplicates;
    if let (Some(what), Some(s)) = (v.confirm, &v.shown) {
        let survivor = s.choices.survivor;
        let name = s.choices.value(&s.members, Field::Name).unwrap_or_default();
        let others: Vec<CustomerId> = s.ids().into_iter().filter(|id| *id != survivor).collect();
        let q = match what {
            Confirm::Merge => format!(
                "merge {} into #{survivor} {name}? y merges · any other key keeps them",
                id_list(&others)
            ),
            Confirm::Dismiss => format!(
                "{} not duplicates (never shown again)? y marks them · any other key keeps them",
                id_list(&s.ids())
            ),
        };
        return Line::styled(fit(&q, width), theme.title());
    }
    let text = if v.merges.is_some() {
        format!(
            "{} unmerges the chosen merge · {}/{} choose · {} or esc back to the clusters",
            key(app, Action::Open, "enter"),
            short(app, Action::Down, "j"),
            short(app, Action::Up, "k"),
            key(app, Action::Unmerge, "U"),
        )
    } else {
        let n = v.shown.as_ref().map_or(2, |s| s.members.len()).min(9);
        format!(
            "{} merge  {} not dup  {} skip  {}/{}/1-{n} pick  {} drop  {} unmerge  {} rescan  {} open",
            key(app, Action::Merge, "m"),
            key(app, Action::NotDuplicate, "x"),
            key(app, Action::Skip, "s"),
            short(app, Action::PrevColumn, "h"),
            short(app, Action::NextColumn, "l"),
            key(app, Action::DropMember, "-"),
            key(app, Action::Unmerge, "U"),
            key(app, Action::Recompute, "r"),
            short(app, Action::Open, "o"),
        )
    };
    Line::styled(fit(&text, width), theme.dim())
}

/// What the pane says instead of a cluster: scanning, what failed, or
/// that nothing is left.
fn waiting(app: &App, v: &DuplicatesView, width: usize, theme: &Theme) -> Line<'static> {
    let r = key(app, Action::Recompute, "r");
    let (text, style) = match (&v.review, &v.error) {
        (_, Some(e)) if v.scanning.is_none() => (format!("  {e} · {r} tries again"), theme.error()),
        (None, _) => (
            format!(
                "  scanning {} customers for duplicates… (about half a minute a million; the keys stay live)",
                thousands(app.total as u64)
            ),
            theme.dim(),
        ),
        (Some(review), _) => (
            format!(
                "  no duplicates left to review among {} customers (pairs scoring {} or more) · {r} scans again",
                thousands(review.customers),
                review.threshold
            ),
            theme.dim(),
        ),
    };
    Line::styled(fit(&text, width), style)
}

/// A record's value on a row, as the cell shows it (masked when masking).
fn cell_text(m: &Member, row: Row, masked: bool) -> String {
    let c = &m.customer;
    match row {
        Row::Survivor => format!("#{} · {} fields", c.id, m.filled()),
        Row::Field(Field::Email) if masked => c
            .emails
            .iter()
            .map(|e| mask_email(e))
            .collect::<Vec<_>>()
            .join("; "),
        Row::Field(Field::Phone) if masked => c
            .phones
            .iter()
            .map(|p| mask_phone(p))
            .collect::<Vec<_>>()
            .join("; "),
        Row::Field(f) => shorter(f, c.value(f).unwrap_or_default()),
        Row::Tags => c.tags.join(", "),
        Row::Orders => orders(u64::from(m.stats.orders), m.stats.spend_minor),
        Row::Notes => m.notes.to_string(),
    }
}

/// A creation instant at midnight (what an import of a date gives) as
/// the date alone: the columns are narrow.
fn shorter(field: Field, value: String) -> String {
    match value.strip_suffix("T00:00:00Z") {
        Some(day) if field == Field::CreatedAt => day.to_owned(),
        _ => value,
    }
}

fn orders(n: u64, spend_minor: i64) -> String {
    match n {
        0 => "0".to_owned(),
        n => format!("{} · {}", thousands(n), money(spend_minor as f64 / 100.0)),
    }
}

/// The merged record's value on a row.
fn merged_text(s: &Shown, row: Row, masked: bool) -> String {
    match row {
        Row::Survivor => format!("#{}", s.choices.survivor),
        Row::Field(f) if masked && is_list(f) => {
            let mask = |v: &str| {
                if f == Field::Email {
                    mask_email(v)
                } else {
                    mask_phone(v)
                }
            };
            s.choices
                .value(&s.members, f)
                .map(|v| v.split("; ").map(mask).collect::<Vec<_>>().join("; "))
                .unwrap_or_default()
        }
        Row::Field(f) => shorter(f, s.choices.value(&s.members, f).unwrap_or_default()),
        Row::Tags => s.choices.tags(&s.members, &s.rule_tags).join(", "),
        Row::Orders => orders(
            s.members.iter().map(|m| u64::from(m.stats.orders)).sum(),
            s.members.iter().map(|m| m.stats.spend_minor).sum(),
        ),
        Row::Notes => s.members.iter().map(|m| m.notes).sum::<usize>().to_string(),
    }
}

/// Whether the records disagree on a row.
fn differs(s: &Shown, row: Row) -> bool {
    let values: Vec<String> = match row {
        Row::Field(f) => s
            .members
            .iter()
            .map(|m| m.customer.value(f).unwrap_or_default())
            .collect(),
        Row::Tags => s
            .members
            .iter()
            .map(|m| m.customer.tags.join(","))
            .collect(),
        _ => return false,
    };
    values.windows(2).any(|w| w[0] != w[1])
}

/// A contribution in bits with its sign, one decimal (`0.0` rather than
/// `-0.0` for a tiny one).
fn bits(w: f64) -> String {
    if w.abs() < 0.05 {
        "0.0".to_owned()
    } else {
        format!("{w:+.1}")
    }
}

/// The scored comparison field of a canonical field, if it is one.
fn compared(field: Field) -> Option<CompareField> {
    CompareField::ALL
        .into_iter()
        .find(|c| c.as_str() == field.as_str())
}

/// The highlighted record's best pair in the cluster.
fn best_link<'a>(app: &'a App, s: &Shown) -> Option<&'a Pair> {
    let id = s.highlighted()?.id();
    app.duplicates.cluster()?.best_link(id)
}

/// A field's part in a pair: its level and bits.
fn part(pair: &Pair, field: Field) -> Option<(Level, f64)> {
    let c = compared(field)?;
    pair.fields
        .iter()
        .find(|f| f.field == c)
        .map(|f| (f.level, f.weight))
}

fn table_lines(
    app: &App,
    s: &Shown,
    width: usize,
    rows: usize,
    theme: &Theme,
) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let n = s.members.len();
    let cols = Cols::of(width, n, s.col);
    let visible: Vec<(usize, &Member)> = s
        .members
        .iter()
        .enumerate()
        .skip(cols.first)
        .take(cols.shown)
        .collect();
    let link = best_link(app, s);
    let right = |t: &str, w: usize| format!("{}{}", " ".repeat(w.saturating_sub(t.width())), t);

    let hidden_left = cols.first > 0;
    let hidden_right = cols.first + cols.shown < n;
    let mut header = vec![Span::styled(
        format!(
            "  {} {} {}{}",
            fit("field", LABEL),
            right("bits", BITS),
            fit("merged", cols.cell),
            if hidden_left { " ◂" } else { " │" }
        ),
        theme.title(),
    )];
    for (k, (i, m)) in visible.iter().enumerate() {
        let label = format!(
            "{} #{} {}",
            i + 1,
            m.id(),
            display_name(&m.customer, app.masked)
        );
        let last = k + 1 == visible.len();
        let text = if last && hidden_right {
            format!("{}▸", fit(&label, cols.cell.saturating_sub(1)))
        } else {
            fit(&label, cols.cell)
        };
        header.push(Span::styled(format!(" {text}"), theme.title()));
    }
    let mut lines = vec![Line::from(header)];

    let last_row = (s.offset + rows).min(s.rows.len());
    for (r, row) in s.rows.iter().enumerate().take(last_row).skip(s.offset) {
        let row = *row;
        let current = r == s.row;
        let source = s.source(row);
        let merged = merged_text(s, row, app.masked);
        let bits = match (row, link) {
            (Row::Field(f), Some(p)) => part(p, f)
                .filter(|(level, _)| *level != Level::Missing)
                .map_or_else(String::new, |(_, w)| bits(w)),
            _ => String::new(),
        };
        let mark = if differs(s, row) { "≠ " } else { "  " };
        let label_style = if current {
            theme.selected_row()
        } else {
            Style::default()
        };
        let mut spans = vec![
            Span::raw(mark.to_owned()),
            Span::styled(fit(row.label(), LABEL), label_style),
            Span::raw(format!(" {} ", right(&bits, BITS))),
            Span::styled(fit(&merged, cols.cell), theme.title()),
            Span::raw(" │"),
        ];
        for (i, m) in &visible {
            let value = cell_text(m, row, app.masked);
            let picked = source == Some(m.id());
            let text = format!("{}{}", if picked { "▸" } else { " " }, value);
            let style = if current && *i == s.col {
                theme.selected_row()
            } else if matches!(row, Row::Field(_)) && !picked && value != merged {
                theme.marked()
            } else {
                Style::default()
            };
            spans.push(Span::raw(" "));
            spans.push(Span::styled(fit(&text, cols.cell), style));
        }
        lines.push(Line::from(spans));
    }
    let explain = vec![
        Line::styled(fit(&rule_line(s), width), theme.dim()),
        Line::styled(fit(&pair_line(s, link), width), theme.dim()),
    ];
    (lines, explain)
}

/// What the current row's merged value follows.
fn rule_line(s: &Shown) -> String {
    let survivor = s.choices.survivor;
    match s.current_row() {
        Row::Survivor => {
            let why = if Choices::new(&s.members).survivor == survivor {
                "the most complete record"
            } else {
                "your pick"
            };
            format!("#{survivor} keeps its id ({why}); the others hide behind it")
        }
        Row::Field(f) => {
            let (from, rule) = s.choices.source(f);
            let locked = f == Field::ExtId
                && rule == Rule::Survivor
                && s.members
                    .iter()
                    .any(|m| m.id() == survivor && m.customer.value(f).is_some());
            let why = match rule {
                Rule::Survivor if locked => {
                    "the survivor's (its source system finds it by it)".to_owned()
                }
                Rule::Survivor => "the survivor's".to_owned(),
                Rule::MostRecent => format!(
                    "#{from}'s, the most recently updated record with one (the survivor has none)"
                ),
                Rule::Earliest => format!("#{from}'s, the earliest"),
                Rule::Picked => format!("#{from}'s, your pick"),
            };
            if is_list(f) {
                format!("{f}: every record's kept (union); first: {why}")
            } else {
                format!("{f}: {why}")
            }
        }
        Row::Tags => "tags: every record's (union); rule tags follow their rules".to_owned(),
        Row::Orders => "orders: every record's move to the survivor".to_owned(),
        Row::Notes => "notes: every record's move to the survivor".to_owned(),
    }
}

/// Why the highlighted record is in the cluster: its best pair.
fn pair_line(s: &Shown, link: Option<&Pair>) -> String {
    let Some(m) = s.highlighted() else {
        return String::new();
    };
    let Some(p) = link else {
        return format!(
            "#{}: no pair at or above the threshold left with the others",
            m.id()
        );
    };
    let other = if p.a == m.id() { p.b } else { p.a };
    let keys: Vec<&str> = p.keys.iter().map(|k| k.as_str()).collect();
    let mut text = format!(
        "#{} ~ #{other}: score {:.4}, {:.1} bits · keys {}",
        m.id(),
        p.score,
        p.weight,
        keys.join(", ")
    );
    if let Row::Field(f) = s.current_row() {
        if let Some((level, w)) = part(p, f) {
            text.push_str(&format!(" · {f} {} {}", level.as_str(), bits(w)));
        }
    }
    // Custom attributes compared as identifiers have no row of their own.
    for a in p
        .fields
        .iter()
        .filter(|a| a.field.attr_slot().is_some() && a.level != Level::Missing)
    {
        text.push_str(&format!(
            " · {} {} {}",
            a.name,
            a.level.as_str(),
            bits(a.weight)
        ));
    }
    text
}

fn merges_lines(
    app: &App,
    m: &MergesView,
    width: usize,
    rows: usize,
    theme: &Theme,
) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let Some(list) = &m.rows else {
        return (
            vec![
                Line::raw(""),
                Line::styled(fit("  reading the merges…", width), theme.dim()),
            ],
            vec![],
        );
    };
    if list.is_empty() {
        return (
            vec![
                Line::raw(""),
                Line::styled(
                    fit(
                        "  no merges in effect: a merge made here or with rolo dedup merge shows here",
                        width,
                    ),
                    theme.dim(),
                ),
            ],
            vec![],
        );
    }
    let name_w = width.saturating_sub(2 + 8 + 17 + 16 + 3).clamp(10, 40);
    let header = format!(
        "  {} {} {} merged",
        fit("merge", 8),
        fit("when", 16),
        fit("survivor", name_w)
    );
    let mut lines = vec![Line::styled(fit(&header, width), theme.title())];
    for (i, row) in list.iter().enumerate().skip(m.offset).take(rows) {
        let others: Vec<String> = row.others.iter().map(|o| format!("#{o}")).collect();
        let name = if app.masked && row.name.contains('@') {
            mask_email(&row.name)
        } else {
            row.name.clone()
        };
        let blocked = if row.blocker.is_some() {
            " (blocked)"
        } else {
            ""
        };
        let text = format!(
            "{} {} {} {} {}{blocked}",
            if i == m.cursor { "▸" } else { " " },
            fit(&format!("#{}", row.seq), 8),
            row.at.format("%Y-%m-%d %H:%M"),
            fit(&format!("#{} {name}", row.survivor), name_w),
            others.join(", ")
        );
        let style = if i == m.cursor {
            theme.selected_row()
        } else {
            Style::default()
        };
        lines.push(Line::styled(fit(&text, width), style));
    }
    let about = match m.current() {
        Some(c) => match &c.blocker {
            Some(why) => format!("#{} cannot be unmerged now: {why}", c.seq),
            None => format!(
                "#{} by {}: an unmerge brings back every record, order, note and tag as before",
                c.seq, c.user
            ),
        },
        None => String::new(),
    };
    (lines, vec![Line::styled(fit(&about, width), theme.dim())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_three_records_at_80_and_scroll_beyond() {
        let c = Cols::of(80, 2, 0);
        assert_eq!((c.shown, c.first), (2, 0));
        assert!(c.cell >= 18, "{c:?}");
        let c = Cols::of(80, 3, 2);
        assert_eq!((c.shown, c.first), (3, 0));
        let c = Cols::of(80, 5, 4);
        assert_eq!((c.shown, c.first), (3, 2), "the highlight stays on screen");
        assert!(c.cell >= MIN_CELL);
        let c = Cols::of(160, 5, 0);
        assert_eq!((c.shown, c.first), (5, 0));
        assert!(c.cell <= MAX_CELL);
        for n in 1..=9 {
            for w in [80, 100, 160] {
                let c = Cols::of(w, n, n - 1);
                let used = 2 + LABEL + 1 + BITS + 1 + c.cell + 2 + c.shown * (c.cell + 1);
                assert!(used <= w, "{n} records at {w}: {c:?}");
            }
        }
    }
}
