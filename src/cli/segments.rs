//! `rolo segments [--by rfm|lifecycle|value|region|city|saved]`,
//! `segments save NAME QUERY | delete NAME | snapshot | snapshots`, and
//! `segments --since-snapshot DATE` (movement between segments).

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use unicode_width::UnicodeWidthStr;

use super::{Ctx, parse_date, user_error};
use crate::model::display::printable;
use crate::search::{parse, rules};
use crate::segments::{self, By, Lookup, Settings, Summary};
use crate::store::Store;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SegmentsArgs {
    #[command(subcommand)]
    pub cmd: Option<SegmentsCmd>,
    /// The segmentation to summarise
    #[arg(long, value_enum, default_value = "rfm")]
    pub by: ByArg,
    /// Show how customers moved between segments since this snapshot
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since_snapshot: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ByArg {
    Rfm,
    Lifecycle,
    Value,
    Region,
    City,
    Saved,
}

impl From<ByArg> for By {
    fn from(b: ByArg) -> By {
        match b {
            ByArg::Rfm => By::Rfm,
            ByArg::Lifecycle => By::Lifecycle,
            ByArg::Value => By::Value,
            ByArg::Region => By::Region,
            ByArg::City => By::City,
            ByArg::Saved => By::Saved,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SegmentsCmd {
    /// Save a query under a name, usable as segment:NAME in every query
    Save {
        name: String,
        /// The query (see docs/query-language.md)
        #[arg(allow_hyphen_values = true)]
        query: String,
    },
    /// Delete a saved segment
    Delete { name: String },
    /// Record every customer's RFM segment, lifecycle stage and value tier
    /// as of today (or --as-of), for `segments --since-snapshot DATE`
    Snapshot,
    /// List the dates with a snapshot
    Snapshots,
}

pub fn run(ctx: &Ctx, a: SegmentsArgs) -> Result<()> {
    let settings = settings()?;
    match a.cmd {
        Some(SegmentsCmd::Save { name, query }) => save(ctx, &name, &query, settings),
        Some(SegmentsCmd::Delete { name }) => delete(ctx, &name),
        Some(SegmentsCmd::Snapshot) => snapshot(ctx, settings),
        Some(SegmentsCmd::Snapshots) => list_snapshots(ctx),
        None => match a.since_snapshot {
            Some(day) => movement(ctx, a.by.into(), day, settings),
            None => summary(ctx, a.by.into(), settings),
        },
    }
}

/// The segment thresholds (DESIGN.md §5 defaults, or the config file's).
pub fn settings() -> Result<Settings> {
    Settings::load().map_err(user_error)
}

fn name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("is empty")
    } else if name.chars().any(char::is_control) {
        Some("has a control character")
    } else if name.chars().count() > 64 {
        Some("is longer than 64 characters")
    } else {
        None
    }
}

fn save(ctx: &Ctx, name: &str, query: &str, settings: Settings) -> Result<()> {
    if let Some(why) = name_problem(name) {
        return Err(user_error(format!(
            "segment name '{}' {why}",
            printable(name)
        )));
    }
    let q = parse(query).map_err(|e| user_error(format!("query: {e}")))?;
    if segments::refers_to(&q, name) {
        return Err(user_error(format!(
            "segment {} cannot refer to itself",
            printable(name)
        )));
    }
    let store = ctx.open()?;
    let lookup = Lookup::for_query(&store, &q, ctx.today(), settings)?;
    let count = rules::members(&store, &q, &lookup.context())?.len();
    let old = store.save_segment(name, query)?;
    ctx.out.json(&json!({
        "name": name,
        "query": query,
        "customers": count,
        "replaced": old.map(|o| o.query),
    }))?;
    ctx.out.line(&format!(
        "saved segment {} ({count} customers now); use it as segment:{}",
        printable(name),
        quote_if_needed(name)
    ))
}

fn quote_if_needed(name: &str) -> String {
    if name
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '"' | '(' | ')' | ':'))
    {
        format!("\"{}\"", printable(&name.replace('"', "")))
    } else {
        printable(name).into_owned()
    }
}

fn delete(ctx: &Ctx, name: &str) -> Result<()> {
    let store = ctx.open()?;
    match store.delete_segment(name)? {
        Some(old) => {
            ctx.out
                .json(&json!({"name": name, "deleted": true, "query": old.query}))?;
            ctx.out.line(&format!(
                "deleted segment {} ('{}')",
                printable(name),
                printable(&old.query)
            ))
        }
        None => Err(user_error(format!(
            "no saved segment named {}; `rolo segments --by saved` lists them",
            printable(name)
        ))),
    }
}

fn open_with_figures(ctx: &Ctx, settings: Settings) -> Result<(Store, segments::Figures)> {
    let store = ctx.open()?;
    let figures = segments::compute(&store, ctx.today(), settings)?;
    Ok((store, figures))
}

fn snapshot(ctx: &Ctx, settings: Settings) -> Result<()> {
    let (store, figures) = open_with_figures(ctx, settings)?;
    let n = segments::take_snapshot(&store, &figures)?;
    ctx.out
        .json(&json!({"snapshot": figures.as_of.to_string(), "customers": n}))?;
    ctx.out.line(&format!(
        "snapshot of {}: {n} customers' segments recorded; later, `rolo segments --since-snapshot {}` shows who moved",
        figures.as_of, figures.as_of
    ))
}

fn list_snapshots(ctx: &Ctx) -> Result<()> {
    let store = ctx.open()?;
    let days = store.snapshot_days()?;
    ctx.out.json(&json!({
        "snapshots": days.iter().map(ToString::to_string).collect::<Vec<_>>()
    }))?;
    if days.is_empty() {
        return ctx
            .out
            .line("no snapshots yet; `rolo segments snapshot` takes one");
    }
    for d in days {
        ctx.out.line(&d.to_string())?;
    }
    Ok(())
}

fn movement(ctx: &Ctx, by: By, day: NaiveDate, settings: Settings) -> Result<()> {
    if by.code_slot().is_none() {
        return Err(user_error(format!(
            "movement is recorded for rfm, lifecycle and value, not {}",
            by.as_str()
        )));
    }
    let (store, figures) = open_with_figures(ctx, settings)?;
    let Some(then) = store.snapshot(day)? else {
        let have = store.snapshot_days()?;
        let list = if have.is_empty() {
            "none yet; `rolo segments snapshot` takes one".to_owned()
        } else {
            have.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(user_error(format!(
            "no snapshot of {day}; snapshots: {list}"
        )));
    };
    let now = segments::snapshot_entries(&store, &figures)?;
    let moves = segments::movement(by, &then, &now);
    ctx.out.json(&json!({
        "by": by.as_str(),
        "since": day.to_string(),
        "as_of": figures.as_of.to_string(),
        "moves": moves,
    }))?;
    ctx.out.line(&format!(
        "{} movement from the snapshot of {day} to {}",
        by.as_str(),
        figures.as_of
    ))?;
    for m in moves.iter().filter(|m| m.from != m.to) {
        ctx.out
            .line(&format!("{:>9}  {} -> {}", m.customers, m.from, m.to))?;
    }
    let stayed: u64 = moves
        .iter()
        .filter(|m| m.from == m.to)
        .map(|m| m.customers)
        .sum();
    ctx.out
        .line(&format!("{stayed:>9}  stayed in their segment"))
}

fn summary(ctx: &Ctx, by: By, settings: Settings) -> Result<()> {
    let (store, figures) = open_with_figures(ctx, settings)?;
    let s = segments::summarize(&store, &figures, by)?;
    ctx.out.json(&summary_json(&s, &figures))?;
    if !ctx.out.is_json() {
        for line in text_table(&s) {
            ctx.out.line(&line)?;
        }
    }
    Ok(())
}

fn summary_json(s: &Summary, f: &segments::Figures) -> serde_json::Value {
    let mut v = json!({
        "by": s.by.as_str(),
        "as_of": s.as_of.to_string(),
        "customers": s.customers,
        "revenue": s.revenue,
        "rows": s.rows,
        "recency_histogram": s.recency_histogram.iter()
            .map(|(b, n)| json!({"days": b, "customers": n})).collect::<Vec<_>>(),
    });
    if let Some(grid) = s.grid {
        v["grid"] = json!({"rows": "r 5..1", "columns": "f 1..5", "customers": grid});
    }
    if let Some(b) = &f.breakpoints {
        v["breakpoints"] = json!({
            "recency_days": b.recency_days,
            "frequency": b.frequency,
            "monetary": b.monetary_minor.map(|m| m / 100.0),
            "value_high_above": b.high_minor / 100.0,
            "value_mid_above": b.mid_minor / 100.0,
        });
    }
    v
}

/// The summary as aligned text lines with a bar of each row's share.
pub fn text_table(s: &Summary) -> Vec<String> {
    let width = s
        .rows
        .iter()
        .map(|r| printable(&r.segment).width())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = vec![format!(
        "{} as of {}: {} customers, revenue {:.2}",
        s.by.as_str(),
        s.as_of,
        s.customers,
        s.revenue
    )];
    out.push(format!(
        "{}  {:>9} {:>6} {:>14} {:>6} {:>10} {:>8}",
        pad("segment", width),
        "customers",
        "share",
        "revenue",
        "rev%",
        "avg order",
        "recency"
    ));
    for r in &s.rows {
        let bar = "█".repeat((r.share * 20.0).round() as usize);
        out.push(format!(
            "{}  {:>9} {:>5.1}% {:>14.2} {:>5.1}% {:>10} {:>8}  {bar}",
            pad(&r.segment, width),
            r.customers,
            r.share * 100.0,
            r.revenue,
            r.revenue_share * 100.0,
            r.avg_order_value.map_or("-".into(), |v| format!("{v:.2}")),
            r.avg_recency_days
                .map_or("-".into(), |v| format!("{v:.0}d")),
        ));
    }
    out
}

fn pad(s: &str, width: usize) -> String {
    let shown = printable(s);
    let w = shown.width();
    format!("{shown}{}", " ".repeat(width.saturating_sub(w)))
}
