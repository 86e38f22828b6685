//! `rolo export customers [--query Q] [--format csv|json] [-o FILE]`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

use super::{Ctx, user_error};
use crate::export::{CsvExport, to_json};
use crate::search::engine::Index;
use crate::search::parse;

#[derive(Debug, Subcommand)]
pub enum ExportCmd {
    /// Export customers with their derived figures
    Customers(ExportArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only customers matching this query (see docs/query-language.md)
    #[arg(long, short)]
    pub query: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Write to FILE instead of stdout
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, cmd: ExportCmd) -> Result<()> {
    let ExportCmd::Customers(a) = cmd;
    let query =
        parse(a.query.as_deref().unwrap_or("")).map_err(|e| user_error(format!("query: {e}")))?;
    let store = ctx.open()?;
    let sink: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    // Export always carries the segment figures, so compute them once.
    let settings = crate::segments::Settings::load().map_err(user_error)?;
    let lookup = crate::segments::Lookup::load(&store, ctx.today(), settings)?;
    let ids: Option<Vec<u64>> = if query.is_all() {
        None
    } else {
        let index = Index::load(&store)?;
        let ectx = lookup.context();
        let (results, _) = index.search(&store, &query, &ectx, usize::MAX, None)?;
        let mut ids: Vec<u64> = results.hits.iter().map(|h| h.id.0).collect();
        ids.sort_unstable();
        Some(ids)
    };
    let customers: Box<dyn Iterator<Item = crate::store::Result<crate::model::Customer>>> =
        match ids {
            None => Box::new(store.customers()),
            Some(ids) => Box::new(
                ids.into_iter()
                    .filter_map(|id| store.customer(crate::model::CustomerId(id)).transpose()),
            ),
        };
    let mut count = 0u64;
    match a.format {
        ExportFormat::Csv => {
            let mut w = CsvExport::new(sink)?;
            for c in customers {
                let c = c?;
                w.write(&c, &store.stats(c.id)?, &lookup.figures.get(c.id))?;
                count += 1;
            }
            w.finish()?;
        }
        ExportFormat::Json => {
            let mut sink = sink;
            sink.write_all(b"[")?;
            for c in customers {
                let c = c?;
                if count > 0 {
                    sink.write_all(b",\n")?;
                }
                let d = lookup.figures.get(c.id);
                serde_json::to_writer(&mut sink, &to_json(&c, &store.stats(c.id)?, &d))?;
                count += 1;
            }
            sink.write_all(b"]\n")?;
            sink.flush()?;
        }
    }
    if let Some(p) = &a.out {
        if !ctx.out.is_json() {
            eprintln!("exported {count} customers to {}", p.display());
        }
    }
    Ok(())
}
