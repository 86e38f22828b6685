//! `rolo quality [--stale-days N] [--save]`: completeness and validity of
//! every field, stale and unused records, each figure with the query that
//! lists its customers, and how the figures moved since the last save.

use anyhow::Result;
use clap::Args;
use serde_json::{Value, json};

use super::Ctx;
use crate::quality::{self, DEFAULT_STALE_DAYS, Figure, Options, Report};
use crate::store::QualityFigures;

#[derive(Debug, Args)]
pub struct QualityArgs {
    /// Records not updated for more than this many days count as stale
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_STALE_DAYS)]
    pub stale_days: u32,
    /// Save these figures as this visit's: the next report compares with them
    #[arg(long)]
    pub save: bool,
}

pub fn run(ctx: &Ctx, a: QualityArgs) -> Result<()> {
    let store = ctx.open()?;
    let opts = Options {
        as_of: ctx.today(),
        stale_days: a.stale_days,
    };
    let report = quality::scan(&store, &opts)?;
    let previous = store.quality_figures()?;
    let changes = previous.as_ref().map(|p| report.compare(p));
    if a.save {
        quality::save(&store, &report)?;
    }
    let mut doc = serde_json::to_value(&report)?;
    if let Value::Object(map) = &mut doc {
        map.insert(
            "duplicates_note".into(),
            json!(match &report.duplicates_scan {
                Some(_) => "pairs of the last `rolo dedup scan` (kept current by `rolo import customers --check-duplicates`) whose customers are both live and not dismissed; `rolo dedup scan` lists them",
                None => "no duplicate scan yet: `rolo dedup scan` finds the pairs, and later reports count those still pending",
            }),
        );
        map.insert(
            "previous".into(),
            previous.as_ref().map_or(Value::Null, previous_json),
        );
        map.insert("changes".into(), serde_json::to_value(&changes)?);
        map.insert("saved".into(), json!(a.save));
    }
    ctx.out.json(&doc)?;
    if !ctx.out.is_json() {
        print_text(ctx, &report, previous.as_ref(), changes.as_ref(), a.save)?;
    }
    Ok(())
}

/// The saved figures as JSON (dates readable, unlike their stored form).
fn previous_json(p: &QualityFigures) -> Value {
    json!({
        "saved_at": p.saved_at.to_rfc3339(),
        "as_of": p.as_of.to_string(),
        "customers": p.customers,
        "score": p.score,
        "invalid": p.invalid,
        "order_before_signup": p.order_before_signup,
        "stale_days": p.stale_days,
        "stale": p.stale,
        "no_tag_no_order": p.no_tag_no_order,
        "fields": p.fields.iter().map(|f| json!({
            "field": f.field, "filled": f.filled, "invalid": f.invalid, "score": f.score,
        })).collect::<Vec<_>>(),
    })
}

fn signed(d: i64) -> String {
    if d > 0 {
        format!("+{d}")
    } else {
        d.to_string()
    }
}

fn print_text(
    ctx: &Ctx,
    r: &Report,
    previous: Option<&QualityFigures>,
    changes: Option<&quality::Changes>,
    saved: bool,
) -> Result<()> {
    let since = match (previous, changes) {
        (Some(p), Some(c)) => format!(" ({:+.1} since {})", c.score, p.saved_at.format("%Y-%m-%d")),
        _ => String::new(),
    };
    ctx.out.line(&format!(
        "data quality of {} customers as of {}: score {:.1}{since}",
        r.customers, r.as_of, r.score
    ))?;
    ctx.out.line(&format!(
        "{:<13} {:>16} {:>16} {:>6}",
        "field", "filled", "invalid", "score"
    ))?;
    for q in &r.fields {
        let delta = changes
            .and_then(|c| c.fields.iter().find(|f| f.field == q.field))
            .filter(|f| f.score != 0.0)
            .map(|f| format!(" {:+.1}", f.score))
            .unwrap_or_default();
        ctx.out.line(&format!(
            "{:<13} {:>8} {:>6.1}% {:>8} {:>6.1}% {:>6.1}{delta}",
            q.field.as_str(),
            q.filled.count,
            q.filled.pct,
            q.invalid.count,
            q.invalid.pct,
            q.score
        ))?;
    }
    let row = |label: &str, f: &Figure, delta: Option<i64>| {
        let delta = delta
            .filter(|d| *d != 0)
            .map(|d| format!(" ({} since last save)", signed(d)))
            .unwrap_or_default();
        ctx.out.line(&format!(
            "{label:<28} {:>8} {:>6.1}%{delta}   query: {}",
            f.count, f.pct, f.query
        ))
    };
    row("invalid values", &r.invalid, changes.map(|c| c.invalid))?;
    row(
        "orders before signup",
        &r.order_before_signup,
        changes.map(|c| c.order_before_signup),
    )?;
    row(
        &format!("stale (over {} days)", r.stale_days),
        &r.stale,
        changes.and_then(|c| c.stale),
    )?;
    row(
        "no tag and no order",
        &r.no_tag_no_order,
        changes.map(|c| c.no_tag_no_order),
    )?;
    match (&r.duplicates_pending, &r.duplicates_scan) {
        (Some(f), Some(scan)) => ctx.out.line(&format!(
            "{:<28} {:>8} pairs   (at or above {} from the scan of {}: `rolo dedup scan` lists them)",
            "duplicates pending review",
            f.count,
            scan.threshold,
            scan.scanned_at.get(..10).unwrap_or(&scan.scanned_at)
        ))?,
        _ => ctx.out.line(&format!(
            "{:<28} {:>8}   (no duplicate scan yet: run `rolo dedup scan`)",
            "duplicates pending review", "n/a"
        ))?,
    }
    if saved {
        ctx.out
            .line("saved these figures: the next `rolo quality` compares with them")?;
    } else if previous.is_none() {
        ctx.out
            .line("run `rolo quality --save` to compare later reports with this one")?;
    }
    Ok(())
}
