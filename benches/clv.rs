//! CLV model fitting benchmark: BG/NBD on 1,000,000 simulated customers
//! must fit in well under 10 seconds on the 2-core reference machine.
//!
//! The customers are drawn from known parameters (CDNOW-like, in days)
//! with first purchases spread evenly over a two-year window, and their
//! times rounded down to whole days, as summaries built from real order
//! dates are. Three fits; the median wall time is the figure. Timed once
//! each as well: the fit on the unrounded times (every history distinct,
//! the slow case) and a Gamma-Gamma fit on the repeat buyers' simulated
//! spend.
//!
//! Run: `cargo bench --bench clv` (`ROLO_BENCH_CLV_CUSTOMERS=N` for
//! another size). The last line is `BENCH_SUMMARY clv {json}`.

// The same allocator as the `rolo` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use anyhow::Result;
use rolo::clv::simulate::{self, SplitMix64};
use rolo::clv::{BgNbd, GammaGamma, Summary, fit_bgnbd, fit_gamma_gamma};

const WINDOW_DAYS: f64 = 730.0;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let n: usize = std::env::var("ROLO_BENCH_CLV_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // The CDNOW estimates, with alpha converted from weeks to days.
    let truth = BgNbd {
        r: 0.243,
        alpha: 4.414 * 7.0,
        a: 0.793,
        b: 2.426,
    };
    let spend = GammaGamma {
        p: 6.25,
        q: 3.74,
        v: 15.44,
    };

    let started = Instant::now();
    let mut rng = SplitMix64::new(2024);
    let ages: Vec<f64> = (0..n)
        .map(|_| (rng.uniform() * WINDOW_DAYS).floor())
        .collect();
    let exact = simulate::bgnbd(&truth, &ages, 7);
    let data: Vec<Summary> = exact
        .iter()
        .map(|s| Summary {
            t_x: s.t_x.floor(),
            ..*s
        })
        .collect();
    let repeaters = data.iter().filter(|s| s.x > 0.0).count();
    println!(
        "== CLV fit: {n} customers over {WINDOW_DAYS} days, {repeaters} repeat buyers (simulated in {:.2} s) ==",
        started.elapsed().as_secs_f64()
    );

    let mut times = Vec::new();
    let mut last = None;
    for round in 1..=3 {
        let t = Instant::now();
        let fit = fit_bgnbd(&data)?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "fit {round}: {secs:.3} s ({} BFGS iterations)",
            fit.iterations
        );
        times.push(secs);
        last = Some(fit);
    }
    let fit_s = median(&mut times);
    let Some(fit) = last else {
        anyhow::bail!("no fit ran");
    };
    let p = fit.params;
    println!("BG/NBD median of 3: {fit_s:.3} s");
    println!(
        "  true      r {:.4}  alpha {:.3}  a {:.4}  b {:.4}",
        truth.r, truth.alpha, truth.a, truth.b
    );
    println!(
        "  recovered r {:.4}  alpha {:.3}  a {:.4}  b {:.4}  (LL {:.1}, converged {})",
        p.r, p.alpha, p.a, p.b, fit.log_likelihood, fit.converged
    );

    // The same customers with exact (unrounded) purchase times: no two
    // repeat buyers share a history, so grouping saves nothing (the worst
    // case for speed), and there is no rounding bias in the estimates.
    let t = Instant::now();
    let unrounded = fit_bgnbd(&exact)?;
    let exact_s = t.elapsed().as_secs_f64();
    let u = unrounded.params;
    println!(
        "  unrounded times: {exact_s:.3} s; r {:.4}  alpha {:.3}  a {:.4}  b {:.4}",
        u.r, u.alpha, u.a, u.b
    );

    let counts: Vec<u32> = data
        .iter()
        .filter(|s| s.x > 0.0)
        .map(|s| s.x as u32)
        .collect();
    let values = simulate::gamma_gamma(&spend, &counts, 8);
    let t = Instant::now();
    let gg = fit_gamma_gamma(&values)?;
    let gg_s = t.elapsed().as_secs_f64();
    println!(
        "Gamma-Gamma on {} repeat buyers: {gg_s:.3} s; true p {} q {} v {}; recovered p {:.3} q {:.3} v {:.3}",
        values.len(),
        spend.p,
        spend.q,
        spend.v,
        gg.params.p,
        gg.params.q,
        gg.params.v
    );
    println!(
        "BENCH_SUMMARY clv {{\"customers\":{n},\"bgnbd_fit_s\":{fit_s:.3},\"unrounded_fit_s\":{exact_s:.3},\"gamma_gamma_fit_s\":{gg_s:.3},\"r\":{:.4},\"alpha\":{:.3},\"a\":{:.4},\"b\":{:.4}}}",
        p.r, p.alpha, p.a, p.b
    );
    Ok(())
}
