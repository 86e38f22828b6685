//! The Quality pane: the headline figures (invalid values, orders before
//! signup, stale records, customers with neither a tag nor an order,
//! duplicates pending: not counted, as in `rolo quality`) with their queries, then every canonical field's
//! completeness, missing and invalid counts and score with a bar, and the
//! overall score; each with how it moved since the baseline. The search
//! line above carries the overall score, the as-of date and the baseline's
//! day; the last line names the keys and the query Enter runs.
//!
//! The rows scroll under a header that stays: at 80x24 the headline
//! figures and most fields fit, the rest is a `j` away. On a field row the
//! chosen column (filled, missing, invalid) is the figure Enter drills
//! into; it is reversed, and the row carries a `▸`, so the cursor shows
//! without colour too.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::quality::{Changes, Figure, Report};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Section;
use crate::tui::panes::segments::bar;
use crate::tui::quality::{Column, Headline, Item, QualityView, items};
use crate::tui::text::{fit, thousands};
use crate::tui::theme::Theme;

/// Width of a count column (`1,000,000` and a space to spare).
const COUNT: usize = 9;
/// Width of a percentage (`100.0%`).
const PCT: usize = 6;
/// Width of a change (`+1,234`, `-12.5`).
const CHANGE: usize = 7;
/// Width of the headline labels (`stale (over 36500 days)`).
const LABEL: usize = 23;
/// Width of the field names (`family_name`).
const FIELD: usize = 12;

/// Figure rows that surely fit in a pane `height` rows tall: the key line
/// and the two section headers aside.
pub fn item_rows(height: usize) -> usize {
    height.saturating_sub(3).max(1)
}

/// Width of the score bars at `width` columns.
fn bar_width(width: usize) -> usize {
    let fixed = 2 + FIELD + 1 + COUNT + 1 + PCT + 1 + COUNT + 1 + COUNT + 1 + 5 + 1 + 1 + CHANGE;
    width.saturating_sub(fixed).min(40)
}

fn right(s: &str, w: usize) -> String {
    let s = fit(s, w);
    let t = s.trim_end();
    format!("{}{}", " ".repeat(w.saturating_sub(t.width())), t)
}

fn pct(p: f64) -> String {
    format!("{p:.1}%")
}

fn signed(d: i64) -> String {
    match d {
        0 => "0".to_owned(),
        d if d > 0 => format!("+{}", thousands(d as u64)),
        d => format!("-{}", thousands(d.unsigned_abs())),
    }
}

fn signed_score(d: f64) -> String {
    if d.abs() < 0.05 {
        "0.0".to_owned()
    } else {
        format!("{d:+.1}")
    }
}

/// The search line over the pane: the overall score and how it moved,
/// the customers, the as-of date, the threshold.
pub fn title(app: &App, width: usize, theme: &Theme) -> Line<'static> {
    let v = &app.quality;
    let Some(r) = v.report.as_deref() else {
        let what = if v.error.is_some() {
            "failed"
        } else {
            "computing…"
        };
        return Line::styled(
            fit(
                &format!("data quality · as of {} · {what}", app.as_of),
                width,
            ),
            theme.title(),
        );
    };
    let since = match &v.baseline {
        Some(b) => format!(
            " ({} since {})",
            signed_score(r.compare(b).score),
            b.saved_at.format("%Y-%m-%d")
        ),
        None => String::new(),
    };
    let head = format!("quality score {:.1}{since}", r.score);
    let save = app
        .keymap
        .key_in(Action::SaveBaseline, Some(Section::Quality))
        .unwrap_or("S");
    let rest = match &v.baseline {
        Some(_) => format!(
            " · {} customers · as of {}",
            thousands(r.customers),
            r.as_of
        ),
        None => format!(
            " · {} customers · as of {} · no baseline yet ({save} saves)",
            thousands(r.customers),
            r.as_of
        ),
    };
    let used = head.width();
    Line::from(vec![
        Span::styled(head, theme.title()),
        Span::styled(fit(&rest, width.saturating_sub(used)), theme.dim()),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let v = &app.quality;
    let width = usize::from(area.width);
    let height = usize::from(area.height);
    let list = height.saturating_sub(1);
    let mut lines = match v.report.as_deref() {
        Some(r) => table_lines(v, r, width, list, theme),
        None => vec![Line::raw(""), waiting(app, width, theme)],
    };
    lines.truncate(list);
    while lines.len() < list {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(fit(&keys(app), width), theme.dim()));
    frame.render_widget(Paragraph::new(lines), area);
}

/// The key line: what Enter lists first, then the pane's keys.
fn keys(app: &App) -> String {
    let key = |a: Action, default: &'static str| {
        app.keymap
            .key_in(a, Some(Section::Quality))
            .unwrap_or(default)
    };
    let short = |a: Action, default: &'static str| {
        app.keymap
            .short_key_in(a, Some(Section::Quality))
            .unwrap_or(default)
    };
    let enter = match app.quality.current_figure() {
        Ok((_, f)) => format!("{} lists {}", key(Action::Open, "enter"), f.query),
        Err(_) => format!("{} lists a figure's customers", key(Action::Open, "enter")),
    };
    format!(
        "{enter} · {}/{} column · {} baseline · {} stale days · {} audit log",
        short(Action::PrevColumn, "h"),
        short(Action::NextColumn, "l"),
        key(Action::SaveBaseline, "S"),
        key(Action::StaleDays, "s"),
        short(Action::Audit, "a"),
    )
}

/// What the pane says instead of the figures: computing, or what failed.
fn waiting(app: &App, width: usize, theme: &Theme) -> Line<'static> {
    let v = &app.quality;
    match &v.error {
        Some(e) if v.computing.is_none() => {
            let key = app
                .keymap
                .key_in(Action::Recompute, Some(Section::Quality))
                .unwrap_or("r");
            Line::styled(
                fit(&format!("  {e} · {key} tries again"), width),
                theme.error(),
            )
        }
        _ => Line::styled(
            fit(
                &format!(
                    "  computing the quality report of {} customers…",
                    thousands(app.total as u64)
                ),
                width,
            ),
            theme.dim(),
        ),
    }
}

fn is_headline(item: Item) -> bool {
    matches!(item, Item::Headline(_))
}

/// The first row shown: the state's offset, moved so that the cursor's
/// row fits with the headers it needs.
fn first_row(v: &QualityView, all: &[Item], list: usize) -> usize {
    let mut start = v.offset.min(v.cursor);
    let needs = |start: usize| {
        let crosses = is_headline(all[start]) && !is_headline(all[v.cursor]);
        1 + (v.cursor - start + 1) + usize::from(crosses)
    };
    while start < v.cursor && needs(start) > list {
        start += 1;
    }
    start
}

fn table_lines(
    v: &QualityView,
    r: &Report,
    width: usize,
    list: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let all = items();
    let changes = v.baseline.as_ref().map(|b| r.compare(b));
    let start = first_row(v, &all, list.max(1));
    let mut lines = Vec::new();
    for (i, item) in all.iter().enumerate().skip(start) {
        if lines.len() >= list {
            break;
        }
        if i == start || (is_headline(all[i - 1]) && !is_headline(*item)) {
            lines.push(header(*item, width, theme));
            if lines.len() >= list {
                break;
            }
        }
        let at = i == v.cursor;
        lines.push(match item {
            Item::Headline(h) => headline_line(*h, r, changes.as_ref(), at, width, theme),
            Item::Field(f) => field_line(*f, r, changes.as_ref(), at, v.column, width, theme),
            Item::Overall => overall_line(r, changes.as_ref(), at, width, theme),
        });
    }
    lines
}

fn header(item: Item, width: usize, theme: &Theme) -> Line<'static> {
    let text = if is_headline(item) {
        format!(
            "  {} {} {} {}  query",
            fit("figure", LABEL),
            right("customers", COUNT),
            right("%", PCT),
            right("change", CHANGE),
        )
    } else {
        let bw = bar_width(width);
        format!(
            "  {} {} {} {} {} {} {}{}",
            fit("field", FIELD),
            right("filled", COUNT),
            right("%", PCT),
            right("missing", COUNT),
            right("invalid", COUNT),
            right("score", 5),
            fit("", bw),
            right("change", CHANGE + 1),
        )
    };
    Line::styled(fit(&text, width), theme.title())
}

/// The row's first two columns: the cursor mark.
fn mark(at: bool) -> Span<'static> {
    Span::raw(if at { "▸ " } else { "  " })
}

/// A figure's cells (count and share), reversed under the cursor.
fn cells(f: &Figure, chosen: bool, theme: &Theme) -> Span<'static> {
    let text = format!(
        "{} {}",
        right(&thousands(f.count), COUNT),
        right(&pct(f.pct), PCT)
    );
    if chosen {
        Span::styled(text, theme.selected_row())
    } else {
        Span::raw(text)
    }
}

fn headline_line(
    h: Headline,
    r: &Report,
    changes: Option<&Changes>,
    at: bool,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let mut spans = vec![
        mark(at),
        Span::raw(fit(&h.label(r.stale_days), LABEL)),
        Span::raw(" "),
    ];
    let Some(f) = h.figure(r) else {
        let na = fit("not available", COUNT + 1 + PCT);
        spans.push(if at {
            Span::styled(na, theme.selected_row())
        } else {
            Span::raw(na)
        });
        spans.push(Span::raw(format!(" {}  ", " ".repeat(CHANGE))));
        spans.push(Span::styled(
            "rolo dedup scan lists them".to_owned(),
            theme.dim(),
        ));
        return fitted(spans, width);
    };
    spans.push(cells(f, at, theme));
    let change = changes.map(|c| match h {
        Headline::Invalid => Some(c.invalid),
        Headline::OrderBeforeSignup => Some(c.order_before_signup),
        Headline::Stale => c.stale,
        Headline::NoTagNoOrder => Some(c.no_tag_no_order),
        Headline::Duplicates => None,
    });
    let change = match change {
        Some(Some(d)) => signed(d),
        // Compared with a baseline of another threshold.
        Some(None) => "–".to_owned(),
        None => String::new(),
    };
    spans.push(Span::raw(format!(" {}  ", right(&change, CHANGE))));
    spans.push(Span::styled(f.query.clone(), theme.dim()));
    fitted(spans, width)
}

fn field_line(
    i: usize,
    r: &Report,
    changes: Option<&Changes>,
    at: bool,
    column: Column,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let Some(q) = r.fields.get(i) else {
        return Line::raw("");
    };
    let cell = |text: String, c: Column| {
        if at && column == c {
            Span::styled(text, theme.selected_row())
        } else {
            Span::raw(text)
        }
    };
    let count = |f: &Figure, c: Column| cell(right(&thousands(f.count), COUNT), c);
    let change = changes
        .and_then(|c| c.fields.iter().find(|f| f.field == q.field))
        .map(|f| signed_score(f.score))
        .unwrap_or_default();
    let bw = bar_width(width);
    // The share belongs to the filled count.
    let filled = format!(
        "{} {}",
        right(&thousands(q.filled.count), COUNT),
        right(&pct(q.filled.pct), PCT)
    );
    let spans = vec![
        mark(at),
        Span::raw(fit(q.field.as_str(), FIELD)),
        Span::raw(" "),
        cell(filled, Column::Filled),
        Span::raw(" "),
        count(&q.missing, Column::Missing),
        Span::raw(" "),
        count(&q.invalid, Column::Invalid),
        Span::raw(format!(" {} ", right(&format!("{:.1}", q.score), 5))),
        Span::styled(bar(q.score / 100.0, bw), theme.bar()),
        Span::raw(right(&change, CHANGE + 1)),
    ];
    fitted(spans, width)
}

fn overall_line(
    r: &Report,
    changes: Option<&Changes>,
    at: bool,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let in_use = r
        .fields
        .iter()
        .filter(|q| q.filled.count > 0 || q.invalid.count > 0)
        .count();
    let label = format!("overall: mean of the {in_use} fields in use");
    let label_width = FIELD + 1 + COUNT + 1 + PCT + 1 + COUNT + 1 + COUNT;
    let score = right(&format!("{:.1}", r.score), 5);
    let change = changes.map(|c| signed_score(c.score)).unwrap_or_default();
    let spans = vec![
        mark(at),
        Span::styled(fit(&label, label_width), theme.title()),
        Span::raw(" "),
        if at {
            Span::styled(score, theme.selected_row())
        } else {
            Span::styled(score, theme.title())
        },
        Span::raw(" "),
        Span::styled(bar(r.score / 100.0, bar_width(width)), theme.bar()),
        Span::raw(right(&change, CHANGE + 1)),
    ];
    fitted(spans, width)
}

/// The spans cut to `width` columns (the last ones shortened or dropped).
fn fitted(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let mut used = 0;
    let mut out = Vec::new();
    for s in spans {
        let w = s.content.width();
        if used + w <= width {
            used += w;
            out.push(s);
        } else {
            let left = width - used;
            if left > 0 {
                out.push(Span::styled(fit(&s.content, left), s.style));
            }
            break;
        }
    }
    Line::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_row_fits_80_columns_with_a_bar() {
        assert!(bar_width(80) >= 10, "{}", bar_width(80));
        assert_eq!(bar_width(200), 40);
        assert_eq!(bar_width(20), 0);
    }

    #[test]
    fn changes_are_signed() {
        assert_eq!(signed(3), "+3");
        assert_eq!(signed(-1234), "-1,234");
        assert_eq!(signed(0), "0");
        assert_eq!(signed_score(2.5), "+2.5");
        assert_eq!(signed_score(-0.04), "0.0");
        assert_eq!(signed_score(-10.0), "-10.0");
    }

    #[test]
    fn the_cursor_row_fits_with_its_headers() {
        let all = items();
        // 20 lines at 80x24: the last field needs the top rows gone.
        let mut v = QualityView {
            cursor: all.len() - 1,
            ..QualityView::default()
        };
        assert_eq!(first_row(&v, &all, 20), 5, "the fields' header and rows");
        v.cursor = 2;
        v.offset = 10;
        assert_eq!(first_row(&v, &all, 20), 2);
        // A window over both sections needs both headers.
        v.cursor = 8;
        v.offset = 0;
        assert_eq!(first_row(&v, &all, 5), 5);
    }
}
