//! `rolo clv fit [--until DATE] [--unit day|week]` and
//! `rolo clv predict [--horizon DAYS] [--discount RATE] [--limit N]`.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use super::{Ctx, parse_date, user_error};
use crate::clv::Unit;
use crate::model::display::printable;
use crate::segments::predict::{self, Horizon};
use crate::segments::{Lookup, Settings};

#[derive(Debug, Subcommand)]
pub enum ClvCmd {
    /// Fit BG/NBD (purchases, P(alive)) and Gamma-Gamma (spend) on the
    /// orders up to --until, store the model, and check it on the orders after
    Fit {
        /// End of the calibration period [default: the as-of date]
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        until: Option<NaiveDate>,
        /// Time unit of the model
        #[arg(long, value_enum, default_value = "week")]
        unit: UnitArg,
    },
    /// Predicted purchases, P(alive) and value per customer, highest value first
    Predict {
        /// How far ahead, in days
        #[arg(long, default_value_t = 365.0)]
        horizon: f64,
        /// Annual discount rate of future spend (0.1 = 10%)
        #[arg(long, default_value_t = 0.0)]
        discount: f64,
        /// How many customers to list (0: all)
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnitArg {
    Day,
    Week,
}

pub fn run(ctx: &Ctx, cmd: ClvCmd) -> Result<()> {
    match cmd {
        ClvCmd::Fit { until, unit } => fit(ctx, until, unit),
        ClvCmd::Predict {
            horizon,
            discount,
            limit,
        } => predict(ctx, horizon, discount, limit),
    }
}

fn fit(ctx: &Ctx, until: Option<NaiveDate>, unit: UnitArg) -> Result<()> {
    let until = until.unwrap_or_else(|| ctx.today());
    let unit = match unit {
        UnitArg::Day => Unit::Day,
        UnitArg::Week => Unit::Week,
    };
    let store = ctx.open()?;
    let rows = predict::fit_rows(&store, until, unit)?;
    let out = predict::fit(&rows, until, unit, store.now()).map_err(|e| {
        user_error(format!(
            "cannot fit the model on the orders up to {until}: {e}"
        ))
    })?;
    store.save_clv_model(&out.model)?;
    let m = &out.model;
    let mut doc = json!({
        "model": "bgnbd",
        "unit": m.unit,
        "until": m.until.to_string(),
        "params": {"r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b},
        "log_likelihood": m.log_likelihood,
        "converged": m.converged,
        "customers": m.customers,
        "gamma_gamma": m.gamma_gamma.map(|[p, q, v]| json!({"p": p, "q": q, "v": v})),
    });
    if let Some(h) = &out.holdout {
        doc["holdout"] = json!(h);
    }
    ctx.out.json(&doc)?;
    ctx.out.line(&format!(
        "BG/NBD fitted on {} customers, orders up to {until}, in {}s: r {:.4}  alpha {:.4}  a {:.4}  b {:.4}  (log-likelihood {:.2}{})",
        m.customers,
        m.unit,
        m.r,
        m.alpha,
        m.a,
        m.b,
        m.log_likelihood,
        if m.converged { "" } else { "; did not fully converge" }
    ))?;
    match m.gamma_gamma {
        Some([p, q, v]) => ctx.out.line(&format!(
            "Gamma-Gamma (spend): p {p:.4}  q {q:.4}  v {v:.4}"
        ))?,
        None => ctx
            .out
            .line("Gamma-Gamma (spend) could not be fitted: too few repeat buyers with spend")?,
    }
    if let Some(h) = &out.holdout {
        ctx.out.line(&format!(
            "holdout, {} days after {until}: predicted {:.1} repeat purchases, actual {}",
            h.days, h.predicted, h.actual
        ))?;
        ctx.out
            .line("  purchases in calibration  customers  predicted  actual (mean per customer)")?;
        for r in &h.by_calibration_purchases {
            ctx.out.line(&format!(
                "  {:>24}  {:>9}  {:>9.3}  {:>6.3}",
                r.purchases, r.customers, r.predicted_mean, r.actual_mean
            ))?;
        }
    }
    Ok(())
}

fn predict(ctx: &Ctx, horizon: f64, discount: f64, limit: usize) -> Result<()> {
    if !(horizon.is_finite() && (0.0..=36_500.0).contains(&horizon)) {
        return Err(user_error(
            "--horizon must be a number of days from 0 to 36500",
        ));
    }
    if !(discount.is_finite() && discount > -1.0) {
        return Err(user_error(
            "--discount must be a rate above -1 (0.1 = 10% a year)",
        ));
    }
    let store = ctx.open()?;
    let settings = Settings::load().map_err(user_error)?;
    let mut lookup = Lookup::load(&store, ctx.today(), settings)?;
    if lookup.model.is_none() {
        return Err(user_error("no model fitted yet; run `rolo clv fit` first"));
    }
    lookup.horizon = Horizon {
        days: horizon,
        annual_discount: discount,
    };
    let mut rows: Vec<(u64, predict::Prediction)> = lookup
        .figures
        .iter()
        .filter_map(|(id, _)| Some((id.0, lookup.prediction(id)?)))
        .collect();
    rows.sort_by(|a, b| {
        let key = |p: &predict::Prediction| p.clv.unwrap_or(p.expected_purchases);
        key(&b.1).total_cmp(&key(&a.1)).then(a.0.cmp(&b.0))
    });
    let total = rows.len();
    if limit > 0 {
        rows.truncate(limit);
    }
    let mut listed = Vec::with_capacity(rows.len());
    for (id, p) in &rows {
        let c = store.customer(crate::model::CustomerId(*id))?;
        listed.push((c, p));
    }
    ctx.out.json(&json!({
        "as_of": ctx.today().to_string(),
        "horizon_days": horizon,
        "discount": discount,
        "total": total,
        "customers": listed.iter().map(|(c, p)| json!({
            "id": c.as_ref().map(|c| c.id.0),
            "ext_id": c.as_ref().and_then(|c| c.ext_id.clone()),
            "name": c.as_ref().map(|c| c.name.clone()),
            "expected_purchases": p.expected_purchases,
            "p_alive": p.p_alive,
            "expected_value": p.expected_value,
            "clv": p.clv,
        })).collect::<Vec<_>>(),
    }))?;
    ctx.out.line(&format!(
        "{total} customers with orders; predictions over {horizon} days as of {}",
        ctx.today()
    ))?;
    ctx.out
        .line("      id  name                  purchases  p_alive  avg value        clv")?;
    for (c, p) in &listed {
        let (id, name) = c.as_ref().map_or((0, String::new()), |c| {
            (c.id.0, printable(&c.name).into_owned())
        });
        let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
        ctx.out.line(&format!(
            "{id:>8}  {:<20}  {:>9.2}  {:>7.3}  {:>9}  {:>9}",
            name.chars().take(20).collect::<String>(),
            p.expected_purchases,
            p.p_alive,
            opt(p.expected_value),
            opt(p.clv)
        ))?;
    }
    Ok(())
}
