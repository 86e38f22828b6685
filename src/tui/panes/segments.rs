//! The Segments pane: for the chosen segmentation a table of customers,
//! share, revenue, revenue share, average order value and average recency
//! with bars; below it, when there is room, the R×F grid (RFM) and the
//! recency histogram. The movement view lists, since a chosen snapshot,
//! how many customers went from each segment to each other. The search
//! line above names the segmentations, the as-of date and the totals.
//!
//! At 80 columns the numbers keep their columns and the bar shortens (one
//! bar, customers); from 120 columns there is a bar for revenue too. A
//! short terminal keeps the table and drops the grid and histogram.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::segments::{By, GONE, Move, NOT_IN_SNAPSHOT, Row, Summary};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Section;
use crate::tui::segments::{MOVEMENT_BY, MovementView, SegmentsView, by_title};
use crate::tui::text::{fit, thousands};
use crate::tui::theme::Theme;

/// Rows of the grid and histogram block: a title line and seven buckets.
pub const BLOCK_ROWS: usize = 8;
/// With fewer table rows than this on screen the block gives way.
const MIN_TABLE_ROWS: usize = 6;
/// Width of the snapshot list of the movement view.
const DAYS_WIDTH: usize = 12;

/// How the pane's height is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Segment rows on screen (the table scrolls when there are more).
    pub table: usize,
    /// Whether the "all customers" row fits under them.
    pub total: bool,
    /// Whether the grid and histogram fit under the table.
    pub block: bool,
}

/// The layout of a pane `height` rows tall (a header and a key line
/// included) showing `rows` segments: the table first, then the grid and
/// histogram, then the total row (the title has the totals too).
pub fn layout(height: usize, rows: usize) -> Layout {
    let avail = height.saturating_sub(2);
    let (table, total, block) = if avail >= rows + 1 + BLOCK_ROWS {
        (rows, true, true)
    } else if avail >= rows + BLOCK_ROWS {
        (rows, false, true)
    } else if avail >= BLOCK_ROWS + MIN_TABLE_ROWS {
        (avail - BLOCK_ROWS, false, true)
    } else if avail > rows {
        (rows, true, false)
    } else {
        (avail.max(1), false, false)
    };
    Layout {
        table,
        total,
        block,
    }
}

/// Moves on screen in the movement view of a pane `height` rows tall.
pub fn movement_rows(height: usize) -> usize {
    height.saturating_sub(3).max(1)
}

/// `5010.5` -> `5,010.50`.
pub fn money(v: f64) -> String {
    let cents = (v * 100.0).round() as i128;
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", thousands((c / 100) as u64), c % 100)
}

/// Money in at most nine columns: `99,999.99`, then `1,234.5k`, `12.3M`.
pub fn money_short(v: f64) -> String {
    let scaled = |unit: f64, suffix: &str| {
        let tenths = (v / unit * 10.0).round() as i128;
        let sign = if tenths < 0 { "-" } else { "" };
        let t = tenths.unsigned_abs();
        format!("{sign}{}.{}{suffix}", thousands((t / 10) as u64), t % 10)
    };
    // The bounds are where rounding would add a digit.
    if v.abs() < 99_999.995 {
        money(v)
    } else if v.abs() < 99_999_950.0 {
        scaled(1_000.0, "k")
    } else {
        scaled(1_000_000.0, "M")
    }
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn days(d: Option<f64>) -> String {
    d.map_or_else(
        || "–".to_owned(),
        |d| format!("{}d", thousands(d.max(0.0).round() as u64)),
    )
}

/// A bar `frac` (0..1) of `width` columns long, in eighths of a column;
/// anything above zero shows at least an eighth. Padded to `width`.
pub fn bar(frac: f64, width: usize) -> String {
    const PARTS: [char; 7] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let frac = if frac.is_finite() {
        frac.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut eighths = (frac * (width * 8) as f64).round() as usize;
    if frac > 0.0 && width > 0 {
        eighths = eighths.max(1);
    }
    let mut out = "█".repeat(eighths / 8);
    if eighths % 8 > 0 {
        out.push(PARTS[eighths % 8 - 1]);
    }
    let used = out.chars().count();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// Two columns shaded by `n` against the largest cell `max`.
fn shade(n: u64, max: u64) -> &'static str {
    if n == 0 || max == 0 {
        return "  ";
    }
    match (n * 4).div_ceil(max) {
        0 | 1 => "░░",
        2 => "▒▒",
        3 => "▓▓",
        _ => "██",
    }
}

/// Column widths of the table.
struct Cols {
    seg: usize,
    customers: usize,
    share: usize,
    revenue: usize,
    revenue_share: usize,
    aov: usize,
    recency: usize,
    /// Customer-share bar, and revenue-share bar (0: none).
    bars: [usize; 2],
    wide: bool,
}

impl Cols {
    fn of(width: usize) -> Cols {
        if width >= 120 {
            let fixed = 2 + 10 + 7 + 15 + 13 + 12 + 9 + 6;
            let bar = (width.saturating_sub(fixed + 26 + 2) / 2).min(40);
            let seg = width.saturating_sub(fixed + 2 * bar + 2).min(40);
            Cols {
                seg,
                customers: 10,
                share: 7,
                revenue: 15,
                revenue_share: 13,
                aov: 12,
                recency: 9,
                bars: [bar, bar],
                wide: true,
            }
        } else {
            let fixed = 2 + 9 + 6 + 9 + 6 + 9 + 7 + 6;
            let room = width.saturating_sub(fixed + 19 + 1);
            let bar = if room >= 3 { room.min(30) } else { 0 };
            let seg = width
                .saturating_sub(fixed + if bar > 0 { bar + 1 } else { 0 })
                .max(6);
            Cols {
                seg,
                customers: 9,
                share: 6,
                revenue: 9,
                revenue_share: 6,
                aov: 9,
                recency: 7,
                bars: [bar, 0],
                wide: false,
            }
        }
    }

    fn money(&self, v: f64) -> String {
        if self.wide { money(v) } else { money_short(v) }
    }

    /// The numeric cells of a row (or the header), right-aligned.
    fn numbers(&self, cells: [&str; 6]) -> String {
        let w = [
            self.customers,
            self.share,
            self.revenue,
            self.revenue_share,
            self.aov,
            self.recency,
        ];
        cells
            .iter()
            .zip(w)
            .map(|(c, w)| format!("{}{}", " ".repeat(w.saturating_sub(c.width())), c))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn heading(by: By) -> &'static str {
    match by {
        By::Rfm => "RFM segment",
        By::Lifecycle => "lifecycle stage",
        By::Value => "value tier",
        By::Region => "region",
        By::City => "city",
        By::Saved => "saved segment",
        By::Churn => "churn warning",
    }
}

/// The search line over the pane: the segmentations (the chosen one
/// highlighted), then the as-of date and the totals.
pub fn title(app: &App, width: usize, theme: &Theme) -> Line<'static> {
    let v = &app.segments;
    let movement = v.movement.is_some();
    let choices: &[By] = if movement { &MOVEMENT_BY } else { &By::ALL };
    let mut spans = Vec::new();
    let mut used = 0;
    if movement {
        spans.push(Span::styled("movement by ", theme.title()));
        used += 12;
    }
    // One space apart, the chosen one padded: seven names fit 80 columns
    // with the date.
    for (i, by) in choices.iter().enumerate() {
        let chosen = *by == v.by;
        let gap = if i > 0 && !chosen && choices[i - 1] != v.by {
            " "
        } else {
            ""
        };
        let label = if chosen {
            format!(" {} ", by_title(*by))
        } else {
            format!("{gap}{}", by_title(*by))
        };
        used += label.width();
        spans.push(if chosen {
            Span::styled(label, theme.active_tab())
        } else {
            Span::raw(label)
        });
    }
    let as_of = v.figures.as_ref().map_or(app.as_of, |f| f.figures.as_of);
    let info = match (movement, v.summary()) {
        (false, Some(s)) => format!(
            " · as of {as_of} · {} customers · revenue {}",
            thousands(s.customers),
            money(s.revenue)
        ),
        _ => format!(" · as of {as_of}"),
    };
    spans.push(Span::styled(
        fit(&info, width.saturating_sub(used)),
        theme.dim(),
    ));
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let v = &app.segments;
    let width = usize::from(area.width);
    let height = usize::from(area.height);
    let key = |a: Action, default: &'static str| {
        app.keymap
            .key_in(a, Some(Section::Segments))
            .unwrap_or(default)
    };
    let short = |a: Action, default: &'static str| {
        app.keymap
            .short_key_in(a, Some(Section::Segments))
            .unwrap_or(default)
    };
    let mut lines = match &v.movement {
        Some(m) => movement_lines(app, v, m, width, height, theme),
        None => table_lines(app, v, width, height, theme),
    };
    let keys = match v.movement {
        Some(_) => format!(
            "{}/{} snapshot · {}/{} by · {} snapshot now · {}/{} scroll · {} back",
            short(Action::Down, "j"),
            short(Action::Up, "k"),
            short(Action::NextSegmentation, "b"),
            short(Action::PrevSegmentation, "B"),
            key(Action::Snapshot, "S"),
            short(Action::PageDown, "pgdn"),
            short(Action::PageUp, "pgup"),
            key(Action::Movement, "m"),
        ),
        None => format!(
            "{} customers · {} tag all · {}/{} by · {} movement · {} snapshot · {} recompute",
            key(Action::Open, "enter"),
            key(Action::Tag, "t"),
            short(Action::NextSegmentation, "b"),
            short(Action::PrevSegmentation, "B"),
            key(Action::Movement, "m"),
            key(Action::Snapshot, "S"),
            key(Action::Recompute, "r"),
        ),
    };
    lines.truncate(height.saturating_sub(1));
    while lines.len() < height.saturating_sub(1) {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(fit(&keys, width), theme.dim()));
    frame.render_widget(Paragraph::new(lines), area);
}

/// What the pane says instead of a table: computing, or what failed.
fn waiting(app: &App, v: &SegmentsView, width: usize, theme: &Theme) -> Line<'static> {
    let text = match &v.error {
        Some(e) if !v.is_busy() => {
            let key = app
                .keymap
                .key_in(Action::Recompute, Some(Section::Segments))
                .unwrap_or("r");
            return Line::styled(
                fit(&format!("  {e} · {key} tries again"), width),
                theme.error(),
            );
        }
        _ if v.figures.is_none() => format!(
            "  computing the segments of {} customers…",
            thousands(app.total as u64)
        ),
        _ => format!("  summarising by {}…", by_title(v.by)),
    };
    Line::styled(fit(&text, width), theme.dim())
}

fn table_lines(
    app: &App,
    v: &SegmentsView,
    width: usize,
    height: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let c = Cols::of(width);
    let Some(summary) = v.summary() else {
        return vec![Line::raw(""), waiting(app, v, width, theme)];
    };
    let rev_header = if c.wide { "revenue share" } else { "rev %" };
    let aov_header = "avg order";
    let mut header = format!(
        "  {} {}",
        fit(heading(summary.by), c.seg),
        c.numbers([
            "customers",
            "share",
            "revenue",
            rev_header,
            aov_header,
            "recency"
        ])
    );
    if c.bars[0] > 0 {
        header.push(' ');
        header.push_str(&fit(if c.wide { "customers" } else { "" }, c.bars[0]));
    }
    if c.bars[1] > 0 {
        header.push(' ');
        header.push_str(&fit("revenue", c.bars[1]));
    }
    let mut lines = vec![Line::styled(fit(&header, width), theme.title())];
    if summary.rows.is_empty() {
        let none = match summary.by {
            By::Saved => "  no saved segments yet: rolo segments save NAME QUERY saves one",
            _ => "  no customers yet",
        };
        lines.push(Line::styled(fit(none, width), theme.dim()));
        return lines;
    }
    let shape = layout(height, summary.rows.len());
    let max_share = summary.rows.iter().map(|r| r.share).fold(0.0, f64::max);
    let max_rev = summary
        .rows
        .iter()
        .map(|r| r.revenue_share)
        .fold(0.0, f64::max);
    // The cursor stays on screen even if the state's offset is behind.
    let offset = v
        .offset
        .min(v.cursor)
        .max((v.cursor + 1).saturating_sub(shape.table));
    for (i, r) in summary
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(shape.table)
    {
        let (text, bars) = row_cells(r, &c, max_share, max_rev);
        lines.push(if i == v.cursor {
            Line::styled(fit(&format!("{text}{bars}"), width), theme.selected_row())
        } else {
            Line::from(vec![Span::raw(text), Span::styled(bars, theme.bar())])
        });
    }
    if shape.total {
        let orders: u64 = summary.rows.iter().map(|r| r.orders).sum();
        // Saved segments overlap: their orders do not add up to everyone's.
        let aov = if summary.by != By::Saved && orders > 0 {
            c.money(summary.revenue / orders as f64)
        } else {
            String::new()
        };
        let total = format!(
            "  {} {}",
            fit("all customers", c.seg),
            c.numbers([
                &thousands(summary.customers),
                &percent(1.0),
                &c.money(summary.revenue),
                if summary.revenue != 0.0 { "100.0%" } else { "" },
                &aov,
                "",
            ])
        );
        lines.push(Line::styled(fit(&total, width), theme.title()));
    }
    if shape.block {
        while lines.len() < 1 + shape.table + usize::from(shape.total) {
            lines.push(Line::raw(""));
        }
        lines.extend(block_lines(summary, width, theme));
    }
    lines
}

/// A row's text and its bars.
fn row_cells(r: &Row, c: &Cols, max_share: f64, max_rev: f64) -> (String, String) {
    let text = format!(
        "  {} {}",
        fit(&r.segment, c.seg),
        c.numbers([
            &thousands(r.customers),
            &percent(r.share),
            &c.money(r.revenue),
            &percent(r.revenue_share),
            &r.avg_order_value
                .map_or_else(|| "–".to_owned(), |v| c.money(v)),
            &days(r.avg_recency_days),
        ])
    );
    let ratio = |x: f64, max: f64| if max > 0.0 { x / max } else { 0.0 };
    let mut bars = String::new();
    if c.bars[0] > 0 {
        bars.push(' ');
        bars.push_str(&bar(ratio(r.share, max_share), c.bars[0]));
    }
    if c.bars[1] > 0 {
        bars.push(' ');
        bars.push_str(&bar(ratio(r.revenue_share, max_rev), c.bars[1]));
    }
    (text, bars)
}

/// The R×F grid (RFM only) and the recency histogram, side by side.
fn block_lines(summary: &Summary, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let cell = if width >= 120 { 10 } else { 8 };
    let mut left: Vec<Vec<Span<'static>>> = Vec::new();
    let mut left_width = 0;
    if let Some(grid) = &summary.grid {
        left_width = 3 + 5 * cell;
        let max = grid.iter().flatten().copied().max().unwrap_or(0);
        left.push(vec![Span::styled(
            fit("customers by R and F score", left_width),
            theme.title(),
        )]);
        let mut header = "R\\F".to_owned();
        for f in 1..=5 {
            header.push_str(&format!("{:>cell$}", format!("F{f}")));
        }
        left.push(vec![Span::raw(header)]);
        for (i, row) in grid.iter().enumerate() {
            let mut spans = vec![Span::raw(format!("R{} ", 5 - i))];
            for n in row {
                let count = thousands(*n);
                spans.push(Span::raw(" "));
                spans.push(Span::styled(shade(*n, max), theme.bar()));
                spans.push(Span::raw(format!(
                    "{:>w$}",
                    count,
                    w = cell.saturating_sub(3)
                )));
            }
            left.push(spans);
        }
    }
    let gap = if left_width > 0 { 3 } else { 0 };
    let hist_width = width.saturating_sub(left_width + gap).min(70);
    let hist = &summary.recency_histogram;
    let max = hist.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let count_w = hist
        .iter()
        .map(|(_, n)| thousands(*n).len())
        .max()
        .unwrap_or(1);
    let label_w = hist.iter().map(|(b, _)| b.width()).max().unwrap_or(0);
    let bar_w = hist_width.saturating_sub(label_w + count_w + 2);
    let mut right: Vec<Vec<Span<'static>>> = vec![vec![Span::styled(
        fit("days since the last order", hist_width),
        theme.title(),
    )]];
    for (bucket, n) in hist {
        let frac = if max > 0 { *n as f64 / max as f64 } else { 0.0 };
        right.push(vec![
            Span::raw(format!("{bucket:>label_w$} ")),
            Span::styled(bar(frac, bar_w), theme.bar()),
            Span::raw(format!(" {:>count_w$}", thousands(*n))),
        ]);
    }
    if hist_width < label_w + count_w + 4 {
        right.clear();
    }
    let rows = left.len().max(right.len()).min(BLOCK_ROWS);
    let mut left = left.into_iter();
    let mut right = right.into_iter();
    (0..rows)
        .map(|_| {
            let mut spans = Vec::new();
            if left_width > 0 {
                let l = left.next().unwrap_or_default();
                let used: usize = l.iter().map(|s| s.content.width()).sum();
                spans.extend(l);
                spans.push(Span::raw(" ".repeat(left_width.saturating_sub(used) + gap)));
            }
            spans.extend(right.next().unwrap_or_default());
            Line::from(spans)
        })
        .collect()
}

/// `1 customer`, `2 customers`.
fn customers(n: u64) -> String {
    match n {
        1 => "1 customer".to_owned(),
        n => format!("{} customers", thousands(n)),
    }
}

/// The counts of a movement: changed segment, stayed, new since, gone.
fn tally(moves: &[Move]) -> (u64, u64, u64, u64) {
    let mut t = (0, 0, 0, 0);
    for m in moves {
        if m.from == NOT_IN_SNAPSHOT {
            t.2 += m.customers;
        } else if m.to == GONE {
            t.3 += m.customers;
        } else if m.from == m.to {
            t.1 += m.customers;
        } else {
            t.0 += m.customers;
        }
    }
    t
}

fn movement_lines(
    app: &App,
    v: &SegmentsView,
    m: &MovementView,
    width: usize,
    height: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let key = |a: Action, default: &'static str| {
        app.keymap
            .key_in(a, Some(Section::Segments))
            .unwrap_or(default)
    };
    if m.days.is_empty() {
        return vec![
            Line::raw(fit(
                &format!(
                    "  no snapshot yet: {} records every customer's segments as of {}",
                    key(Action::Snapshot, "S"),
                    app.as_of
                ),
                width,
            )),
            Line::styled(
                fit(
                    "  after changes, or on a later day, this view shows who moved where",
                    width,
                ),
                theme.dim(),
            ),
        ];
    }
    let what = match v.by {
        By::Lifecycle => "lifecycle stage",
        By::Value => "value tier",
        _ => "RFM segment",
    };
    let moves: &[Move] = match &m.result {
        Some(r) if m.is_current() => r
            .moves
            .iter()
            .find(|(by, _)| *by == v.by)
            .map_or(&[], |(_, moves)| moves.as_slice()),
        _ => &[],
    };
    let day = m.day().map(|d| d.to_string()).unwrap_or_default();
    let first = match (&m.result, m.is_current()) {
        (Some(_), true) => {
            let (changed, stayed, new, gone) = tally(moves);
            let mut text = format!(
                "  since {day}: {} changed {what}, {} stayed",
                customers(changed),
                thousands(stayed),
            );
            if new > 0 {
                text.push_str(&format!(", {} new since", thousands(new)));
            }
            if gone > 0 {
                text.push_str(&format!(", {} gone", thousands(gone)));
            }
            Line::raw(fit(&text, width))
        }
        _ if v.computing.is_some() || v.figures.is_none() => waiting(app, v, width, theme),
        _ => Line::styled(
            fit(&format!("  reading the snapshot of {day}…"), width),
            theme.dim(),
        ),
    };
    let right = width.saturating_sub(DAYS_WIDTH + 2);
    let name_w = (right.saturating_sub(9 + 2 + 3) / 2).min(32);
    let header = format!(
        "{}  {:>9}  {}{}",
        fit("  snapshot", DAYS_WIDTH),
        "customers",
        fit("from", name_w),
        fit("   to", name_w + 3),
    );
    let mut lines = vec![first, Line::styled(fit(&header, width), theme.title())];
    let rows = movement_rows(height);
    let offset = m.offset.min(moves.len().saturating_sub(1));
    for i in 0..rows {
        let mut spans = Vec::new();
        match m.days.get(i) {
            Some(d) => {
                let text = fit(&format!("  {d}"), DAYS_WIDTH);
                spans.push(if i == m.cursor {
                    Span::styled(text, theme.selected_row())
                } else {
                    Span::raw(text)
                });
            }
            None => spans.push(Span::raw(" ".repeat(DAYS_WIDTH))),
        }
        spans.push(Span::raw("  "));
        if let Some(mv) = moves.get(offset + i) {
            let to = if mv.from == mv.to {
                "   (stayed)".to_owned()
            } else {
                format!(" → {}", mv.to)
            };
            spans.push(Span::raw(fit(
                &format!(
                    "{:>9}  {}{}",
                    thousands(mv.customers),
                    fit(&mv.from, name_w),
                    fit(&to, name_w + 3),
                ),
                right,
            )));
        } else if i == 0 && moves.is_empty() && m.result.is_some() && m.is_current() {
            spans.push(Span::styled("nobody to compare", theme.dim()));
        }
        if m.days.get(i).is_none() && moves.get(offset + i).is_none() {
            break;
        }
        lines.push(Line::from(spans));
    }
    let shown = moves.len().saturating_sub(offset);
    if shown > rows {
        if let Some(last) = lines.last_mut() {
            *last = Line::styled(
                fit(
                    &format!(
                        "{}  … {} more moves: {} scrolls",
                        " ".repeat(DAYS_WIDTH),
                        shown - rows + 1,
                        key(Action::PageDown, "pgdn")
                    ),
                    width,
                ),
                theme.dim(),
            );
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_keeps_to_its_columns() {
        assert_eq!(money(5010.5), "5,010.50");
        assert_eq!(money(-3.0), "-3.00");
        assert_eq!(money_short(99_999.99), "99,999.99");
        assert_eq!(money_short(1_234_567.0), "1,234.6k");
        assert_eq!(money_short(123_456_789.0), "123.5M");
        for v in [
            0.0,
            12.5,
            99_999.99,
            99_999.995,
            100_000.0,
            99_999_949.0,
            99_999_999.0,
            9_999_999_999.0,
        ] {
            assert!(money_short(v).len() <= 9, "{v}: {}", money_short(v));
        }
    }

    #[test]
    fn bars_fill_in_eighths_and_keep_their_width() {
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██  ");
        assert_eq!(bar(0.0, 3), "   ");
        assert_eq!(bar(0.001, 3), "▏  ", "a non-empty segment shows");
        assert_eq!(bar(f64::NAN, 2), "  ");
        for f in [0.0, 0.1, 0.33, 0.99, 1.0] {
            assert_eq!(bar(f, 7).chars().count(), 7);
        }
    }

    #[test]
    fn columns_fit_the_width() {
        for width in [60usize, 80, 100, 119, 120, 160, 200] {
            let c = Cols::of(width);
            let used = 2
                + c.seg
                + c.customers
                + c.share
                + c.revenue
                + c.revenue_share
                + c.aov
                + c.recency
                + 6
                + c.bars
                    .iter()
                    .map(|b| if *b > 0 { b + 1 } else { 0 })
                    .sum::<usize>();
            assert!(
                c.revenue_share >= if c.wide { 13 } else { 5 },
                "its header fits"
            );
            assert!(used <= width.max(60), "{width}: {used}");
        }
        assert_eq!(Cols::of(80).seg, 19, "Potential Loyalists fits at 80");
        assert!(Cols::of(80).bars[0] >= 4);
    }

    #[test]
    fn layout_puts_the_table_first() {
        // 80x24: 21 rows of pane, RFM's 11 rows with the grid block.
        let l = layout(21, 11);
        assert_eq!((l.table, l.block), (11, true));
        assert!(!l.total);
        assert_eq!(
            layout(21, 5),
            Layout {
                table: 5,
                total: true,
                block: true
            }
        );
        // Many places: the table scrolls, the block stays.
        assert_eq!(layout(45, 300).table, 45 - 2 - BLOCK_ROWS);
        // Too short for the block: the table only.
        assert_eq!(
            layout(12, 11),
            Layout {
                table: 10,
                total: false,
                block: false
            }
        );
        assert_eq!(layout(3, 11).table, 1);
    }
}
