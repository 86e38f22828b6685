//! `rolo search QUERY [--limit N]`.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::{Ctx, user_error};
use crate::search::engine::Index;
use crate::search::parse;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query (see docs/query-language.md); empty matches every customer
    #[arg(default_value = "", allow_hyphen_values = true)]
    pub query: String,
    /// How many hits to show
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

pub fn run(ctx: &Ctx, a: SearchArgs) -> Result<()> {
    let query = parse(&a.query).map_err(|e| user_error(format!("query: {e}")))?;
    let store = ctx.open()?;
    let index = Index::load(&store)?;
    let lookup = super::tag::lookup_for(ctx, &store, &query)?;
    let ectx = lookup.context();
    let (results, _) = index.search(&store, &query, &ectx, a.limit, None)?;
    let mut hits = Vec::with_capacity(results.hits.len());
    for h in &results.hits {
        let Some(c) = store.customer(h.id)? else {
            continue;
        };
        hits.push((h, c));
    }
    ctx.out.json(&json!({
        "total": results.total,
        "hits": hits.iter().map(|(h, c)| json!({
            "id": c.id.0,
            "ext_id": c.ext_id,
            "name": c.name,
            "score": h.score,
            "match": h.tier,
            "email": c.email(),
            "phone": c.phone(),
            "company": c.company,
            "city": c.city,
        })).collect::<Vec<_>>(),
    }))?;
    if !ctx.out.is_json() {
        ctx.out.line(&format!("{} matches", results.total))?;
        for (_, c) in &hits {
            ctx.out.line(&format!(
                "{:>8}  {:<20}  {:<28}  {:<16}  {}",
                c.id.0,
                crate::model::display::printable(&c.display_name()),
                crate::model::display::printable(c.email().unwrap_or("")),
                c.phone().unwrap_or(""),
                crate::model::display::printable(c.company.as_deref().unwrap_or(""))
            ))?;
        }
    }
    Ok(())
}
