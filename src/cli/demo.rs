//! `rolo demo`: build a demo database once, then open it.

use anyhow::{Context, Result};
use clap::Args;

use super::Ctx;
use crate::ingest::ImportOptions;
use crate::ingest::headers::RecordKind;
use crate::synth::{GenOptions, generate};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of demo customers
    #[arg(long, default_value_t = 20_000)]
    pub size: u64,
}

/// The demo database lives beside the default one unless `--db` says otherwise.
fn demo_path(ctx: &Ctx) -> Result<std::path::PathBuf> {
    if std::env::var_os("ROLO_DB").is_some() || ctx.db != super::default_db_path()? {
        return Ok(ctx.db.clone());
    }
    Ok(ctx.db.with_file_name("demo"))
}

pub fn run(ctx: &Ctx, a: DemoArgs) -> Result<()> {
    let path = demo_path(ctx)?;
    let ctx = Ctx {
        db: path.clone(),
        ..ctx.clone_shallow()
    };
    let store = ctx.open()?;
    if store.live_count()? == 0 && store.imports()?.is_empty() {
        let dir = tempfile_dir()?;
        let mut opts = GenOptions::new(a.size);
        opts.end = ctx.today();
        if !ctx.out.is_json() {
            eprintln!(
                "building a demo database of {} customers in {} (once)...",
                a.size,
                path.display()
            );
        }
        let bar = ctx
            .out
            .progress(opts.customers + opts.orders + opts.notes, "generating");
        generate(&opts, &dir, &mut |n| bar.set_position(n)).context("generating demo data")?;
        bar.finish_and_clear();
        for (kind, file) in [
            (RecordKind::Customers, "customers.csv"),
            (RecordKind::Orders, "orders.csv"),
            (RecordKind::Notes, "notes.csv"),
        ] {
            let mut io = ImportOptions::new(kind);
            io.rejects_path = Some(dir.join(format!("{file}.rejects.csv")));
            super::import::run_import(&ctx, &store, &dir.join(file), &io)?;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    super::open_workbench(&ctx, store)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("rolo-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
