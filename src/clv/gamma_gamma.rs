//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee
//! 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis";
//! Fader & Hardie, "The Gamma-Gamma Model of Monetary Value", 2013).
//!
//! Each transaction of a customer is worth Z ~ Gamma(shape p, rate ν), with
//! ν ~ Gamma(shape q, rate v) across customers. The mean m of x transactions
//! then has the density
//!
//! f(m | x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q · m^(px−1) · x^(px) / (v + x m)^(px+q),
//!
//! and E[Z | x, m] = p (v + x m) / (px + q − 1). As in the papers and the
//! `lifetimes` package, only repeat transactions are used (the first
//! purchase is often atypical), so x ≥ 1.

use super::optimize::{self, Options};
use super::special::{digamma, ln_gamma};
use super::{Fit, FitError, MIN_CUSTOMERS};

/// Gamma-Gamma parameters: transaction value ~ Gamma(p, ν), ν ~ Gamma(q, v).
/// v is in money units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

/// As in `bgnbd`: beyond ±this the log-parameter is not determined.
const LOG_PARAM_LIMIT: f64 = 25.0;

const NAMES: [&str; 3] = ["p", "q", "v"];

impl GammaGamma {
    fn valid(&self) -> bool {
        [self.p, self.q, self.v]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    }

    /// E[Z | x, m]: the expected value of a future transaction of a
    /// customer with `x` ≥ 1 repeat transactions of mean value `mean`,
    /// p (v + x m) / (px + q − 1), a weighted average of the population
    /// mean p v / (q − 1) and `mean`. For x = 0 this is the population mean
    /// (`mean` ignored). +∞ when px + q ≤ 1 (the mean does not exist); NaN
    /// for invalid parameters or a negative or non-finite `mean` with x ≥ 1.
    pub fn expected_average_value(&self, x: u32, mean: f64) -> f64 {
        self.expected_value_given(f64::from(x), mean)
    }

    pub(super) fn expected_value_given(&self, x: f64, mean: f64) -> f64 {
        if !self.valid() {
            return f64::NAN;
        }
        let mean = if x == 0.0 { 0.0 } else { mean };
        if !(mean.is_finite() && mean >= 0.0) {
            return f64::NAN;
        }
        let denominator = self.p * x + self.q - 1.0;
        if denominator <= 0.0 {
            return f64::INFINITY;
        }
        self.p * (self.v + x * mean) / denominator
    }

    /// The total log-likelihood of (repeat count, mean value) pairs. NaN
    /// for invalid parameters or data (x = 0, mean not finite and > 0).
    pub fn log_likelihood(&self, data: &[(u32, f64)]) -> f64 {
        if !self.valid() {
            return f64::NAN;
        }
        let GammaGamma { p, q, v } = *self;
        let mut total = 0.0;
        for &(x, m) in data {
            if x == 0 || !(m.is_finite() && m > 0.0) {
                return f64::NAN;
            }
            let x = f64::from(x);
            let px = p * x;
            total += ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
                + q * v.ln()
                + (px - 1.0) * m.ln()
                + px * x.ln()
                - (px + q) * (v + x * m).ln();
        }
        total
    }
}

/// The data grouped by repeat count.
struct Prepared {
    n: f64,
    classes: Vec<Class>,
    /// x·m for every customer, grouped by class.
    xm: Vec<f64>,
}

struct Class {
    x: f64,
    count: f64,
    /// Σ ln m over the class.
    sum_ln_m: f64,
    start: usize,
    end: usize,
}

impl Prepared {
    fn new(data: &[(u32, f64)]) -> Result<Prepared, FitError> {
        let mut rows: Vec<(u32, f64)> = Vec::with_capacity(data.len());
        for (index, &(x, m)) in data.iter().enumerate() {
            if x == 0 {
                return Err(FitError::InvalidInput {
                    index,
                    reason: "the Gamma-Gamma model needs repeat buyers (a repeat count of at least 1)",
                });
            }
            if !(m.is_finite() && m > 0.0) {
                return Err(FitError::InvalidInput {
                    index,
                    reason: "the mean spend must be a finite amount above 0",
                });
            }
            rows.push((x, m));
        }
        if rows.len() < MIN_CUSTOMERS {
            return Err(FitError::TooFewCustomers {
                found: rows.len(),
                needed: MIN_CUSTOMERS,
            });
        }
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut classes: Vec<Class> = Vec::new();
        let mut xm = Vec::with_capacity(rows.len());
        for (i, &(x, m)) in rows.iter().enumerate() {
            let x = f64::from(x);
            match classes.last_mut() {
                Some(c) if c.x == x => {
                    c.count += 1.0;
                    c.sum_ln_m += m.ln();
                    c.end = i + 1;
                }
                _ => classes.push(Class {
                    x,
                    count: 1.0,
                    sum_ln_m: m.ln(),
                    start: i,
                    end: i + 1,
                }),
            }
            xm.push(x * m);
        }
        Ok(Prepared {
            n: rows.len() as f64,
            classes,
            xm,
        })
    }

    /// Total log-likelihood and gradient with respect to (p, q, v).
    fn evaluate(&self, gg: &GammaGamma, grad: &mut [f64; 3]) -> f64 {
        let GammaGamma { p, q, v } = *gg;
        let (ln_v, lg_q, psi_q) = (v.ln(), ln_gamma(q), digamma(q));
        let (mut ll, mut g_p, mut g_q, mut g_v) = (0.0, 0.0, 0.0, 0.0);
        for c in &self.classes {
            let (x, n) = (c.x, c.count);
            let px = p * x;
            let ln_x = x.ln();
            let (psi_pxq, psi_px) = (digamma(px + q), digamma(px));
            // Terms that are the same for every customer of the class.
            ll += n * (ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v + px * ln_x)
                + (px - 1.0) * c.sum_ln_m;
            g_p += n * x * (psi_pxq - psi_px + ln_x) + x * c.sum_ln_m;
            g_q += n * (psi_pxq - psi_q + ln_v);
            g_v += n * q / v;
            // −(px+q) Σ ln(v + x m).
            let (mut s_ln, mut s_inv) = (0.0, 0.0);
            for &xm in &self.xm[c.start..c.end] {
                let w = v + xm;
                s_ln += w.ln();
                s_inv += 1.0 / w;
            }
            ll -= (px + q) * s_ln;
            g_p -= x * s_ln;
            g_q -= s_ln;
            g_v -= (px + q) * s_inv;
        }
        *grad = [g_p, g_q, g_v];
        ll
    }

    fn objective(&self, theta: &[f64; 3], grad: &mut [f64; 3]) -> f64 {
        if theta
            .iter()
            .any(|v| !v.is_finite() || v.abs() > LOG_PARAM_LIMIT + 5.0)
        {
            return f64::INFINITY;
        }
        let e = theta.map(f64::exp);
        let mut g = [0.0; 3];
        let ll = self.evaluate(
            &GammaGamma {
                p: e[0],
                q: e[1],
                v: e[2],
            },
            &mut g,
        );
        for i in 0..3 {
            grad[i] = -g[i] * e[i] / self.n;
        }
        -ll / self.n
    }

    /// Starting points with the population mean p v / (q − 1) equal to the
    /// data's mean spend.
    fn starts(&self) -> Vec<[f64; 3]> {
        let total: f64 = self.xm.iter().sum::<f64>();
        let weights: f64 = self.classes.iter().map(|c| c.x * c.count).sum();
        let mean = (total / weights).max(f64::MIN_POSITIVE);
        let start = |p: f64, q: f64| {
            [
                p.ln(),
                q.ln(),
                (mean * (q - 1.0) / p)
                    .ln()
                    .clamp(-LOG_PARAM_LIMIT, LOG_PARAM_LIMIT),
            ]
        };
        vec![
            start(1.0, 3.0),
            start(5.0, 4.0),
            start(0.5, 2.0),
            start(20.0, 20.0),
        ]
    }
}

/// Fits Gamma-Gamma by maximum likelihood from (repeat count x ≥ 1, mean
/// value of those repeat transactions) per customer. Same optimiser and
/// error rules as [`super::fit_bgnbd`].
pub fn fit_gamma_gamma(data: &[(u32, f64)]) -> Result<Fit<GammaGamma>, FitError> {
    let prepared = Prepared::new(data)?;
    let opts = Options::default();
    let objective = |t: &[f64; 3], g: &mut [f64; 3]| prepared.objective(t, g);
    let small = prepared.xm.len() <= 20_000;
    let mut best: Option<(optimize::Outcome<3>, usize)> = None;
    for (i, start) in prepared.starts().into_iter().enumerate() {
        if i > 0 && !small && best.is_some_and(|(b, _)| b.converged && inside(&b.x)) {
            break;
        }
        let Some(first) = optimize::minimize(objective, start, &opts) else {
            continue;
        };
        let out = match optimize::minimize(objective, first.x, &opts) {
            Some(again) if again.f <= first.f => again,
            _ => first,
        };
        let iterations = first.iterations + out.iterations;
        let wins =
            best.is_none_or(|(b, _)| optimize::better(&out, inside(&out.x), &b, inside(&b.x)));
        if wins {
            best = Some((out, iterations));
        }
    }
    let Some((best, iterations)) = best else {
        return Err(FitError::DidNotConverge {
            reason: "the likelihood could not be evaluated at any starting point".into(),
        });
    };
    if let Some(i) = best.x.iter().position(|v| v.abs() > LOG_PARAM_LIMIT) {
        let direction = if best.x[i] > 0.0 { "infinity" } else { "zero" };
        return Err(FitError::DidNotConverge {
            reason: format!(
                "parameter {} ran off towards {direction}; the spend data do not determine the model (too few repeat buyers, or every customer spends alike?)",
                NAMES[i]
            ),
        });
    }
    let e = best.x.map(f64::exp);
    Ok(Fit {
        params: GammaGamma {
            p: e[0],
            q: e[1],
            v: e[2],
        },
        log_likelihood: -best.f * prepared.n,
        iterations,
        converged: best.converged,
    })
}

fn inside(theta: &[f64; 3]) -> bool {
    theta.iter().all(|v| v.abs() <= LOG_PARAM_LIMIT)
}

#[cfg(test)]
mod tests;
