//! `rolo audit [--user U] [--op OP] [--since DATE] [--until DATE] [--limit N]`:
//! the audit log, newest first, through the same filter the workbench uses.

use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;
use serde_json::json;

use super::{Ctx, parse_date, user_error};
use crate::model::display::printable;
use crate::store::AuditFilter;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only changes made by this OS user
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Only this operation (edit, trash, tag_add, ...) or family (tag, import)
    #[arg(long, value_name = "OP")]
    pub op: Option<String>,
    /// Only changes on or after this day (UTC)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Only changes on or before this day (UTC)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub until: Option<NaiveDate>,
    /// At most this many events, the newest
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

pub fn run(ctx: &Ctx, a: AuditArgs) -> Result<()> {
    if let (Some(since), Some(until)) = (a.since, a.until) {
        if since > until {
            return Err(user_error(format!(
                "--since {since} is after --until {until}; swap them"
            )));
        }
    }
    let store = ctx.open()?;
    let filter = AuditFilter {
        user: a.user,
        op: a.op,
        since: a.since,
        until: a.until,
        limit: a.limit,
    };
    let events = store.audit_events(&filter)?;
    ctx.out.json(&json!({
        "total": events.len(),
        "events": events.iter().map(|e| json!({
            "seq": e.seq, "at": e.at.to_rfc3339(), "user": e.user, "op": e.op,
            "customers": e.customers.iter().map(|c| c.0).collect::<Vec<_>>(),
            "summary": e.summary, "undoes": e.undoes,
            "changes": e.changes.iter().map(|ch| json!({"field": ch.field, "before": ch.before, "after": ch.after})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))?;
    if events.is_empty() {
        ctx.out.line("no audit events match")?;
    }
    for e in &events {
        let who = match e.customers.as_slice() {
            [] => String::new(),
            [one] => format!(" customer {one}"),
            many => format!(" {} customers", many.len()),
        };
        ctx.out.line(&format!(
            "#{:<6} {} {} {}{who}: {}",
            e.seq,
            e.at.format("%Y-%m-%d %H:%M"),
            printable(&e.user),
            e.op,
            printable(&e.summary)
        ))?;
    }
    Ok(())
}
