//! `rolo trash list | restore ID | purge --older-than 30d`.

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use super::{Ctx, confirm, user_error};
use crate::model::CustomerId;
use crate::model::display::printable;

#[derive(Debug, Subcommand)]
pub enum TrashCmd {
    /// List the customers in the trash
    List,
    /// Bring a customer back, exactly as it was
    Restore {
        /// The customer id
        id: u64,
    },
    /// Delete trashed customers for good (with their orders and notes);
    /// asks first on a terminal, needs --yes otherwise
    Purge {
        /// Only those trashed longer ago than this: 30d, 12w, 6m, 1y
        #[arg(long, value_name = "AGE")]
        older_than: String,
    },
}

/// Parses `30d`, `12w`, `6m` (30-day months) or `1y` (365 days) into days.
pub fn parse_age(s: &str) -> Option<i64> {
    let (n, unit) = s.trim().split_at_checked(s.trim().len().checked_sub(1)?)?;
    let n: i64 = n.parse().ok()?;
    let per = match unit {
        "d" => 1,
        "w" => 7,
        "m" => 30,
        "y" => 365,
        _ => return None,
    };
    (n >= 0).then_some(n * per)
}

pub fn run(ctx: &Ctx, cmd: TrashCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        TrashCmd::List => {
            let trashed: Vec<_> = store.trashed().collect::<Result<_, _>>()?;
            ctx.out
                .json(&json!({ "trash": trashed.iter().map(|c| json!({
                "id": c.id.0, "ext_id": c.ext_id, "name": c.name,
                "trashed_at": c.trashed_at.map(|t| t.to_rfc3339()),
            })).collect::<Vec<_>>() }))?;
            if trashed.is_empty() {
                ctx.out.line("the trash is empty")?;
            }
            for c in &trashed {
                let at = c
                    .trashed_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default();
                ctx.out.line(&format!(
                    "{:>8}  {at}  {}",
                    c.id.0,
                    printable(&c.display_name())
                ))?;
            }
            Ok(())
        }
        TrashCmd::Restore { id } => {
            let c = store.require_customer(CustomerId(id))?;
            if c.trashed_at.is_none() {
                return Err(user_error(format!(
                    "customer {id} is not in the trash; `rolo trash list` shows what is"
                )));
            }
            store.restore_customer(c.id)?;
            ctx.out.json(&json!({ "restored": id }))?;
            ctx.out.line(&format!(
                "restored {} ({})",
                id,
                printable(&c.display_name())
            ))
        }
        TrashCmd::Purge { older_than } => {
            let days = parse_age(&older_than).ok_or_else(|| {
                user_error(format!(
                    "--older-than '{older_than}' is not an age; write it like 30d, 12w, 6m or 1y"
                ))
            })?;
            let cutoff = store.now() - chrono::Duration::days(days);
            let ids: Vec<CustomerId> = store
                .trashed()
                .filter_map(|c| c.ok())
                .filter(|c| c.trashed_at.is_some_and(|t| t < cutoff))
                .map(|c| c.id)
                .collect();
            let n = if ids.is_empty() {
                0
            } else {
                confirm(
                    ctx,
                    &format!(
                        "delete {} customers trashed more than {older_than} ago for good, with their orders and notes?",
                        ids.len()
                    ),
                    &format!(
                        "this deletes {} customers for good, with their orders and notes",
                        ids.len()
                    ),
                )?;
                store.purge_trashed(&ids)?
            };
            ctx.out.json(&json!({ "purged": n }))?;
            ctx.out.line(&format!(
                "purged {n} customers trashed more than {older_than} ago"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_age;

    #[test]
    fn ages() {
        assert_eq!(parse_age("30d"), Some(30));
        assert_eq!(parse_age("2w"), Some(14));
        assert_eq!(parse_age("1y"), Some(365));
        assert_eq!(parse_age("30"), None);
        assert_eq!(parse_age("-1d"), None);
        assert_eq!(parse_age(""), None);
    }
}
