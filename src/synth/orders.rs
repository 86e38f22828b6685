//! orders.csv: skewed order counts that add up exactly, recency-skewed
//! dates and log-normal amounts.
//!
//! Counts: a quarter of the (original) customers never buy and most
//! duplicates do not either; each buyer has an "appetite" weight, tiny for
//! one-off shoppers and log-normal for regulars.
//! If there are at least as many orders as buyers every buyer gets one, and
//! the rest is shared out in proportion to the weights by cumulative
//! rounding (floor of the running share), which makes the total exact by
//! construction with no correction pass. Spend follows the usual
//! Gamma-Gamma picture: each customer has their own typical basket and
//! orders scatter log-normally around it.

use std::io;

use super::Ctx;
use super::format::{push_cents, push_day, push_padded, push_u64};
use super::person::{Nation, push_ext_id};
use super::rng::{Rng, exp, ln};

/// Random-stream domain of the per-customer order plan (buyer, weight).
const DOMAIN_PLAN: u64 = 4;
/// Random-stream domain of a customer's orders.
const DOMAIN_ORDERS: u64 = 5;

/// The columns of orders.csv, in order.
pub const ORDER_HEADER: &[&str] = &[
    "order_id",
    "customer_id",
    "order_date",
    "amount",
    "quantity",
    "currency",
    "channel",
];

/// What order and note generation needs to know of a customer row.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// Creation date, days since 1970-01-01.
    pub created_day: i32,
    /// Where the customer lives (language and currency).
    pub nation: Nation,
    /// A planted duplicate.
    pub is_dup: bool,
}

const ZH_CHANNELS: &[(&str, u32)] = &[
    ("天猫", 20),
    ("京东", 15),
    ("微信小程序", 20),
    ("online", 15),
    ("app", 15),
    ("store", 15),
];
const EN_CHANNELS: &[(&str, u32)] = &[("online", 45), ("store", 30), ("app", 25)];

/// Median basket by currency, in major units.
fn median_amount(nation: Nation) -> f64 {
    match nation {
        Nation::Cn => 168.0,
        Nation::Us => 42.0,
        Nation::Uk => 34.0,
        Nation::Au => 58.0,
    }
}

/// Writes exactly `total` orders (none when there are no customers) and
/// returns how many were written. `progress` receives `rows_before` plus
/// the orders written so far.
pub fn write_orders<W: io::Write>(
    ctx: &Ctx,
    total: u64,
    metas: &[Meta],
    out: &mut csv::Writer<W>,
    rows_before: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<u64> {
    out.write_record(ORDER_HEADER)?;
    if metas.is_empty() || total == 0 {
        return Ok(0);
    }

    let mut weights = Vec::with_capacity(metas.len());
    let mut buyers = 0u64;
    for (i, m) in metas.iter().enumerate() {
        let mut r = Rng::stream(ctx.seed, DOMAIN_PLAN, i as u64);
        let buyer = r.chance(if m.is_dup { 0.2 } else { 0.75 });
        let w = if buyer {
            buyers += 1;
            let z = r.normal().clamp(-3.0, 3.5);
            // Two kinds of buyer: one-off shoppers with a tiny appetite and
            // regulars with a long log-normal tail.
            let w = if r.chance(0.4) {
                0.05 * exp(0.5 * z)
            } else {
                exp(1.3 * z)
            };
            w * if m.is_dup { 0.05 } else { 1.0 }
        } else {
            0.0
        };
        weights.push(w);
    }
    if buyers == 0 {
        weights[0] = 1.0;
        buyers = 1;
    }
    let base = u64::from(total >= buyers);
    let rest = total - base * buyers;
    let total_w: f64 = weights.iter().sum();
    let last_buyer = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);

    let ln_medians = [Nation::Cn, Nation::Us, Nation::Uk, Nation::Au].map(|n| ln(median_amount(n)));
    let mut days: Vec<i32> = Vec::new();
    let (mut oid, mut cid, mut date, mut amount, mut qty) = (
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    let mut written = 0u64;
    let mut cum = 0.0;
    let mut allotted = 0u64;
    for (i, (m, &w)) in metas.iter().zip(&weights).enumerate() {
        if w <= 0.0 {
            continue;
        }
        cum += w;
        let target = if i == last_buyer {
            rest
        } else {
            ((rest as f64 * (cum / total_w)).floor() as u64).min(rest)
        };
        let count = base + target.saturating_sub(allotted);
        allotted = allotted.max(target);
        if count == 0 {
            continue;
        }

        let mut r = Rng::stream(ctx.seed, DOMAIN_ORDERS, i as u64);
        let start = m.created_day.min(ctx.end_day);
        let span = ctx.end_day - start;
        // About a third stopped buying at some point; the rest still buy.
        let stop = if r.chance(0.35) {
            start + (f64::from(span) * r.f64()) as i32
        } else {
            ctx.end_day
        };
        days.clear();
        for _ in 0..count {
            days.push(start + r.below((stop - start + 1) as u64) as i32);
        }
        days.sort_unstable();
        if r.chance(0.3) {
            // First purchase on the day they signed up.
            days[0] = start;
        }
        let ln_median = ln_medians[m.nation as usize];
        let mu = ln_median + 0.45 * r.normal();
        let channels = if m.nation.is_zh() {
            ZH_CHANNELS
        } else {
            EN_CHANNELS
        };
        let favourite = r.pick_weighted(channels);
        cid.clear();
        push_ext_id(&mut cid, i as u64);
        for &day in &days {
            let q: u64 = match r.below(100) {
                0..60 => 1,
                60..80 => 2,
                80..90 => 3,
                90..95 => 4,
                95..98 => 5,
                _ => 6 + r.below(5),
            };
            let unit = exp(mu + 0.55 * r.normal().clamp(-4.0, 4.0));
            let value = unit * (1.0 + 0.7 * (q - 1) as f64);
            let cents = ((value * 100.0).round() as u64).max(1);
            let channel = if r.chance(0.6) {
                favourite
            } else {
                r.pick_weighted(channels)
            };
            written += 1;
            oid.clear();
            oid.push('O');
            push_padded(&mut oid, written, 8);
            date.clear();
            push_day(&mut date, day);
            amount.clear();
            push_cents(&mut amount, cents);
            qty.clear();
            push_u64(&mut qty, q);
            out.write_record([
                oid.as_str(),
                cid.as_str(),
                date.as_str(),
                amount.as_str(),
                qty.as_str(),
                m.nation.currency(),
                channel,
            ])?;
            if written % super::PROGRESS_EVERY == 0 {
                progress(rows_before + written);
            }
        }
    }
    Ok(written)
}
