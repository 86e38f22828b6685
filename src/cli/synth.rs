//! `rolo gen`: synthetic customers, orders, notes and a duplicates truth file.

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

use super::{Ctx, user_error};
use crate::synth::{GenOptions, Locale, generate};

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of customer rows (planted duplicates included)
    #[arg(long)]
    pub customers: u64,
    /// Number of orders [default: 5 per customer]
    #[arg(long)]
    pub orders: Option<u64>,
    /// Number of notes [default: 1 per 2 customers]
    #[arg(long)]
    pub notes: Option<u64>,
    /// Share of rows that are dirty duplicates of another row (0 to 0.5)
    #[arg(long, default_value_t = 0.05)]
    pub dup_rate: f64,
    /// Names, addresses and phones: en, zh or mixed
    #[arg(long, default_value = "mixed", value_parser = |s: &str| s.parse::<Locale>().map_err(|_| format!("unknown locale '{s}'; use en, zh or mixed")))]
    pub locale: Locale,
    /// Seed: the same seed and options give the same files
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run(ctx: &Ctx, a: GenArgs) -> Result<()> {
    if !(0.0..=0.5).contains(&a.dup_rate) {
        return Err(user_error(format!(
            "--dup-rate {} is out of range; use a value from 0 to 0.5",
            a.dup_rate
        )));
    }
    let mut opts = GenOptions::new(a.customers);
    if let Some(o) = a.orders {
        opts.orders = o;
    }
    if let Some(n) = a.notes {
        opts.notes = n;
    }
    opts.dup_rate = a.dup_rate;
    opts.locale = a.locale;
    opts.seed = a.seed;
    if let Some(d) = ctx.as_of {
        opts.end = d;
    }
    let total = opts.customers + opts.orders + opts.notes;
    let bar = ctx.out.progress(total, "generating");
    let summary = generate(&opts, &a.out, &mut |n| bar.set_position(n))
        .with_context(|| format!("writing into {}", a.out.display()))?;
    bar.finish_and_clear();
    ctx.out.json(&json!({
        "dir": a.out,
        "customers": summary.customers,
        "duplicates": summary.duplicates,
        "orders": summary.orders,
        "notes": summary.notes,
    }))?;
    ctx.out.line(&format!(
        "wrote {} customers ({} planted duplicates), {} orders, {} notes into {}",
        summary.customers,
        summary.duplicates,
        summary.orders,
        summary.notes,
        a.out.display()
    ))
}
