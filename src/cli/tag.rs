//! `rolo tag add|remove TAG (--query Q | --id ID...)`, `tag list | rename
//! OLD NEW | merge FROM INTO | delete TAG | set TAG`, and `tag rule set TAG
//! QUERY | rule list | rule delete TAG | rule refresh`.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::json;

use super::{Ctx, user_error};
use crate::model::CustomerId;
use crate::model::display::printable;
use crate::search::rules::{self, RuleError};
use crate::search::{EvalContext, Query, parse};
use crate::segments::{Lookup, Settings};
use crate::store::{Store, TagOutcome};

#[derive(Debug, Subcommand)]
pub enum TagCmd {
    /// Add a tag to a search result or to customers by id (one undoable step)
    Add(Target),
    /// Remove a tag from a search result or from customers by id
    Remove(Target),
    /// List every tag with its member count, kind and rule
    List,
    /// Rename a tag on every customer carrying it
    Rename { old: String, new: String },
    /// Merge tag FROM into tag INTO (FROM is gone afterwards)
    Merge { from: String, into: String },
    /// Delete a tag from every customer carrying it
    Delete { tag: String },
    /// Set a tag's colour or description (an empty value clears it)
    Set {
        tag: String,
        #[arg(long)]
        colour: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Rule tags: a query whose matches carry the tag, kept current
    #[command(subcommand)]
    Rule(RuleCmd),
}

#[derive(Debug, Subcommand)]
pub enum RuleCmd {
    /// Preview who would gain and lose the tag; with --yes (or --json) store and apply it
    Set {
        tag: String,
        /// The query (see docs/query-language.md)
        #[arg(allow_hyphen_values = true)]
        query: String,
    },
    /// List the rule tags
    List,
    /// Drop a tag's rule; the tag stays, as a manual tag with its current members
    Delete { tag: String },
    /// Re-evaluate every rule now (also done when the database opens after a change)
    Refresh,
}

/// Which customers a tag add or remove applies to.
#[derive(Debug, Args)]
pub struct Target {
    pub tag: String,
    /// Every customer a search for this query finds ('' is everyone)
    #[arg(
        long,
        allow_hyphen_values = true,
        conflicts_with = "id",
        required_unless_present = "id"
    )]
    pub query: Option<String>,
    /// These customer ids
    #[arg(long, num_args = 1..)]
    pub id: Vec<u64>,
}

fn eval_ctx(ctx: &Ctx) -> EvalContext<'static> {
    EvalContext::new(ctx.today())
}

/// What evaluating `q` needs: the segment figures when it has segment terms.
pub(super) fn lookup_for(ctx: &Ctx, store: &Store, q: &Query) -> Result<Lookup> {
    let settings = Settings::load().map_err(user_error)?;
    Ok(Lookup::for_query(store, q, ctx.today(), settings)?)
}

/// The customers a target names: a query's matches, or ids that must exist.
fn targets(ctx: &Ctx, store: &Store, t: &Target) -> Result<Vec<CustomerId>> {
    match &t.query {
        Some(q) => {
            let q = parse(q).map_err(|e| user_error(format!("query: {e}")))?;
            let lookup = lookup_for(ctx, store, &q)?;
            Ok(rules::members(store, &q, &lookup.context())?)
        }
        None => {
            let mut ids = Vec::with_capacity(t.id.len());
            for id in &t.id {
                ids.push(store.require_customer(CustomerId(*id))?.id);
            }
            Ok(ids)
        }
    }
}

fn outcome_json(tag: &str, matched: usize, out: &TagOutcome) -> serde_json::Value {
    json!({
        "tag": tag,
        "matched": matched,
        "gained": out.gained,
        "lost": out.lost,
        "event": out.seq,
    })
}

pub fn run(ctx: &Ctx, cmd: TagCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        TagCmd::Add(t) => {
            let ids = targets(ctx, &store, &t)?;
            let out = store.add_tag(&t.tag, &ids)?;
            ctx.out.json(&outcome_json(&t.tag, ids.len(), &out))?;
            ctx.out.line(&format!(
                "tagged {} customers with {} ({} of {} already had it)",
                out.gained,
                printable(&t.tag),
                ids.len() as u64 - out.gained,
                ids.len()
            ))
        }
        TagCmd::Remove(t) => {
            let ids = targets(ctx, &store, &t)?;
            let out = store.remove_tag(&t.tag, &ids)?;
            ctx.out.json(&outcome_json(&t.tag, ids.len(), &out))?;
            ctx.out.line(&format!(
                "removed {} from {} customers",
                printable(&t.tag),
                out.lost
            ))
        }
        TagCmd::List => list(ctx, &store),
        TagCmd::Rename { old, new } => {
            let out = store.rename_tag(&old, &new)?;
            ctx.out
                .json(&json!({"renamed": old, "to": new, "customers": out.gained}))?;
            ctx.out.line(&format!(
                "renamed {} to {} on {} customers",
                printable(&old),
                printable(&new),
                out.gained
            ))
        }
        TagCmd::Merge { from, into } => {
            let out = store.merge_tags(&from, &into)?;
            ctx.out.json(&json!({
                "merged": from, "into": into, "customers": out.lost, "gained": out.gained,
            }))?;
            ctx.out.line(&format!(
                "merged {} ({} customers) into {} ({} newly tagged)",
                printable(&from),
                out.lost,
                printable(&into),
                out.gained
            ))
        }
        TagCmd::Delete { tag } => {
            let out = store.delete_tag(&tag)?;
            ctx.out
                .json(&json!({"deleted": tag, "customers": out.lost}))?;
            ctx.out.line(&format!(
                "deleted {}: {} customers lost it",
                printable(&tag),
                out.lost
            ))
        }
        TagCmd::Set {
            tag,
            colour,
            description,
        } => {
            store.set_tag_look(&tag, colour.as_deref(), description.as_deref())?;
            let info = store.tag_info(&tag)?.unwrap_or_default();
            ctx.out.json(&json!({
                "tag": tag, "colour": info.colour, "description": info.description,
            }))?;
            ctx.out.line(&format!("updated {}", printable(&tag)))
        }
        TagCmd::Rule(cmd) => rule(ctx, &store, cmd),
    }
}

fn list(ctx: &Ctx, store: &Store) -> Result<()> {
    let tags = store.tags()?;
    ctx.out.json(&json!({ "tags": tags.iter().map(|t| json!({
        "name": t.name,
        "count": t.count,
        "kind": if t.rule().is_some() { "rule" } else { "manual" },
        "query": t.rule(),
        "colour": t.info.as_ref().and_then(|i| i.colour.clone()),
        "description": t.info.as_ref().and_then(|i| i.description.clone()),
    })).collect::<Vec<_>>() }))?;
    if tags.is_empty() {
        ctx.out
            .line("no tags yet; add one with `rolo tag add TAG --query Q`")?;
    }
    for t in &tags {
        let kind = match t.rule() {
            Some(q) => format!("rule: {}", printable(q)),
            None => "manual".to_owned(),
        };
        ctx.out.line(&format!(
            "{:>8}  {:<24}  {kind}",
            t.count,
            printable(&t.name)
        ))?;
    }
    Ok(())
}

fn rule(ctx: &Ctx, store: &Store, cmd: RuleCmd) -> Result<()> {
    match cmd {
        RuleCmd::Set { tag, query } => {
            let q = parse(&query).map_err(|e| user_error(format!("rule query: {e}")))?;
            let lookup = lookup_for(ctx, store, &q)?;
            let p = rules::preview(store, &tag, &query, &lookup.context()).map_err(|e| match e {
                RuleError::Parse(e) => user_error(format!("rule query: {e}")),
                RuleError::Store(e) => e.into(),
            })?;
            let apply = ctx.yes || ctx.out.is_json();
            let out = if apply {
                Some(rules::set_rule(store, &p)?)
            } else {
                None
            };
            ctx.out.json(&json!({
                "tag": tag,
                "query": query,
                "members": p.members.len(),
                "gained": p.gained.len(),
                "lost": p.lost.len(),
                "applied": out.is_some(),
            }))?;
            ctx.out.line(&format!(
                "rule {} = `{}`: {} customers match; {} would gain it, {} would lose it",
                printable(&tag),
                printable(&query),
                p.members.len(),
                p.gained.len(),
                p.lost.len()
            ))?;
            if out.is_some() {
                ctx.out.line("rule saved and applied")
            } else {
                ctx.out
                    .line("nothing changed yet; run again with --yes to save and apply the rule")
            }
        }
        RuleCmd::List => {
            let all = store.tags()?;
            let rules: Vec<_> = all.iter().filter(|t| t.rule().is_some()).collect();
            ctx.out.json(&json!({ "rules": rules.iter().map(|t| json!({
                "tag": t.name, "query": t.rule(), "count": t.count,
            })).collect::<Vec<_>>() }))?;
            if rules.is_empty() {
                ctx.out
                    .line("no rule tags; add one with `rolo tag rule set TAG QUERY`")?;
            }
            for t in rules {
                ctx.out.line(&format!(
                    "{:>8}  {:<24}  {}",
                    t.count,
                    printable(&t.name),
                    printable(t.rule().unwrap_or(""))
                ))?;
            }
            Ok(())
        }
        RuleCmd::Delete { tag } => {
            store.delete_tag_rule(&tag)?;
            ctx.out.json(&json!({"tag": tag, "kind": "manual"}))?;
            ctx.out.line(&format!(
                "{} is a manual tag now; its customers keep it",
                printable(&tag)
            ))
        }
        RuleCmd::Refresh => {
            let (out, broken) = rules::refresh(store, &eval_ctx(ctx))?;
            ctx.out.json(&json!({
                "gained": out.gained, "lost": out.lost, "broken": broken,
            }))?;
            ctx.out.line(&format!(
                "rule tags refreshed: {} gained, {} lost",
                out.gained, out.lost
            ))?;
            if !broken.is_empty() {
                return Err(user_error(format!(
                    "the rules of {} no longer parse; set them again with `rolo tag rule set`",
                    broken.join(", ")
                )));
            }
            Ok(())
        }
    }
}
