//! The BG/NBD model: likelihood, fitting and predictions.
//!
//! Likelihood (Fader, Hardie & Lee 2005, eq. 6), per customer:
//!
//! L = A₁·A₂·(A₃ + [x > 0]·A₄) with
//! A₁ = Γ(r+x) αʳ / Γ(r), A₂ = Γ(a+b) Γ(b+x) / (Γ(b) Γ(a+b+x)),
//! A₃ = (α+T)^−(r+x), A₄ = a/(b+x−1) · (α+t_x)^−(r+x),
//!
//! evaluated in logs: ln A₁ and ln A₂ through ln Γ (only once per distinct
//! x), ln(A₃ + A₄) as ln A₃ + softplus(ln A₄ − ln A₃), which cannot overflow
//! whatever x and T are.
//!
//! Speed: customers are grouped by identical (x, t_x, T) (one-time buyers by
//! T alone) and weighted by their count; ln(α+v) and 1/(α+v) are computed
//! once per distinct time value v; the per-group work is then one `exp`,
//! one `ln_1p` and a few multiply-adds for the value and the whole gradient.
//! The optimiser is BFGS on (ln r, ln α, ln a, ln b) with that analytic
//! gradient, so a fit takes a few dozen evaluations.

use std::collections::HashMap;

use super::optimize::{self, Options};
use super::special::{digamma, ln_beta, ln_rising};
use super::{Fit, FitError, MIN_CUSTOMERS, Summary};

/// BG/NBD parameters: purchase rate λ ~ Gamma(shape r, rate α) and
/// dropout probability p ~ Beta(a, b). α is in the time unit of the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// Fitted log-parameters beyond ±this (e^25 ≈ 7e10) mean the data do not
/// pin the model down; the optimiser is not allowed past ±(this + 5).
const LOG_PARAM_LIMIT: f64 = 25.0;

const NAMES: [&str; 4] = ["r", "alpha", "a", "b"];

impl BgNbd {
    fn valid(&self) -> bool {
        [self.r, self.alpha, self.a, self.b]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    }

    /// The total log-likelihood of `data` (sum over customers of ln L,
    /// eq. 6). NaN when a parameter is not finite and positive or a summary
    /// is invalid (see [`Summary::validate`]).
    pub fn log_likelihood(&self, data: &[Summary]) -> f64 {
        if !self.valid() {
            return f64::NAN;
        }
        let mut total = 0.0;
        for s in data {
            if s.validate().is_err() {
                return f64::NAN;
            }
            total += self.ln_l(s);
        }
        total
    }

    /// ln L for one valid summary, straight from eq. 6 (the reference the
    /// grouped evaluation is tested against).
    fn ln_l(&self, s: &Summary) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.x;
        let ln_a1 = ln_rising(r, x) + r * alpha.ln();
        let ln_a2 = ln_rising(b, x) - ln_rising(a + b, x);
        let ln_a3 = -(r + x) * (alpha + s.t).ln();
        if x == 0.0 {
            return ln_a1 + ln_a2 + ln_a3;
        }
        let ln_a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + s.t_x).ln();
        ln_a1 + ln_a2 + log_add_exp(ln_a3, ln_a4)
    }

    /// ln of the odds that a customer with this history has dropped out:
    /// a/(b+x−1) · ((α+T)/(α+t_x))^(r+x).
    fn ln_dead_odds(&self, s: &Summary) -> f64 {
        let x = s.x;
        self.a.ln() - (self.b + x - 1.0).ln()
            + (self.r + x) * ((s.t - s.t_x) / (self.alpha + s.t_x)).ln_1p()
    }

    /// P(alive | x, t_x, T) = 1 / (1 + [x > 0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
    /// Exactly 1 for x = 0 (under BG/NBD nobody drops out before their
    /// first repeat purchase). NaN for an invalid summary or parameters.
    pub fn p_alive(&self, s: &Summary) -> f64 {
        if !self.valid() || s.validate().is_err() {
            return f64::NAN;
        }
        if s.x == 0.0 {
            return 1.0;
        }
        let ln_odds = self.ln_dead_odds(s);
        // 1 / (1 + e^z), computed without overflow for large z.
        if ln_odds > 0.0 {
            let e = (-ln_odds).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + ln_odds.exp())
        }
    }

    /// E[Y(t) | x, t_x, T]: the expected number of purchases in the next
    /// `horizon` units of a customer with history `s` (eq. 10):
    ///
    /// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)] · P(alive),
    /// z = t/(α+T+t).
    ///
    /// Evaluated by `expected_while_alive`: a transformed ₂F₁ series that
    /// stays well scaled for large x and has no singularity at a = 1, or a
    /// quadrature for horizons far beyond the customer's age. 0 for a zero
    /// horizon; NaN for a negative or non-finite horizon, an invalid summary
    /// or invalid parameters.
    pub fn expected_purchases(&self, horizon: f64, s: &Summary) -> f64 {
        if !self.valid() || s.validate().is_err() || !(horizon.is_finite() && horizon >= 0.0) {
            return f64::NAN;
        }
        if horizon == 0.0 {
            return 0.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.x;
        expected_while_alive(a, b + x, r + x, horizon / (alpha + s.t)) * self.p_alive(s)
    }

    /// E[X(t)]: the expected number of repeat purchases of a new customer
    /// in their first `t` units (eq. 7):
    ///
    /// (a+b−1)/(a−1) · [1 − (α/(α+t))ʳ ₂F₁(r, b; a+b−1; t/(α+t))].
    ///
    /// Same evaluation and domain as [`BgNbd::expected_purchases`].
    pub fn expected_purchases_new(&self, t: f64) -> f64 {
        if !(self.valid() && t.is_finite() && t >= 0.0) {
            return f64::NAN;
        }
        if t == 0.0 {
            return 0.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        expected_while_alive(a, b, r, t / alpha)
    }
}

/// ln(eᵘ + eᵛ) without overflow.
fn log_add_exp(u: f64, v: f64) -> f64 {
    let m = u.max(v);
    m + (-(u - v).abs()).exp().ln_1p()
}

/// The series is used while it needs at most about this many terms (up to
/// ρ = t/(α+T) ≈ 100 for ordinary shapes); beyond, the quadrature (a few
/// hundred to a few thousand integrand evaluations).
const SERIES_TERMS_LIMIT: f64 = 4_000.0;

/// The expected number of purchases in the next ρ·(α+T) units of a
/// customer known to be alive, whose posterior is λ ~ Gamma(n, α+T),
/// p ~ Beta(a, bb) with n = r + x, bb = b + x:
///
/// E[Y | alive] = E_p[(1 − (1 + pρ)^−n) / p]
///             = (a+bb−1) · [1 − (1−z)^(a−1) ₂F₁(a+bb−1−n, a−1; a+bb−1; z)] / (a−1),
///
/// z = ρ/(1+ρ): eq. 10 without its P(alive) factor, and eq. 7 with x = 0,
/// T = 0. The series ([`bracket`]) needs about 37(1+ρ) terms (more for
/// large shapes), so for long horizons the expectation over p is
/// integrated numerically instead ([`expected_while_alive_by_quadrature`]);
/// the two agree to ~1e-12.
fn expected_while_alive(a: f64, bb: f64, n: f64, rho: f64) -> f64 {
    let c = a + bb - 1.0;
    if a + bb > 1e12 {
        // p is all but fixed at its mean (its variance is below 1e-12):
        // neither method copes with such shapes, and neither is needed.
        let p = a / (a + bb);
        return -(-n * (p * rho).ln_1p()).exp_m1() / p;
    }
    // The series' terms grow until k ≈ max(|A|, |a−1|)·z before they
    // shrink, then fall like zᵏ: keep it to a few thousand terms.
    let z = rho / (1.0 + rho);
    let terms = (c - n).abs().max((a - 1.0).abs()) * z + 37.0 * (1.0 + rho);
    if terms <= SERIES_TERMS_LIMIT {
        c * bracket(c - n, a - 1.0, c, rho)
    } else {
        expected_while_alive_by_quadrature(a, bb, n, rho)
    }
}

/// E_p[(1 − (1+pρ)^−n)/p] for p ~ Beta(a, bb) by the trapezoid rule in
/// t after the substitution logit(p) = m + w·sinh(t), with m the logit of
/// the mean a/(a+bb) and w = min(1, √(1/a + 1/bb)) about the width of the
/// Beta density in logit space. So the step resolves a narrow peak (large
/// shapes), and the sinh reaches the slowly decaying tails of small shapes
/// (p^a as p → 0) in a few dozen steps: the integrand decays double-
/// exponentially in t, where the trapezoid rule converges geometrically.
///
/// Everything is in logs relative to the mean (p may be e^−10000, and
/// a ln p may be 1e10 while the integrand is O(1)); ln B(a, bb) comes from
/// [`ln_beta`]'s cancellation-free form. The step is halved until two
/// estimates agree to 1e-14.
fn expected_while_alive_by_quadrature(a: f64, bb: f64, n: f64, rho: f64) -> f64 {
    // ln μ, ln(1−μ) and the logit m of the mean μ = a/(a+bb).
    let (ln_mu, ln_nu) = (-(bb / a).ln_1p(), -(a / bb).ln_1p());
    let (mu, nu) = (ln_mu.exp(), ln_nu.exp());
    let m = a.ln() - bb.ln();
    let w = (1.0 / a + 1.0 / bb).sqrt().min(1.0);
    // (a−1) ln μ + bb ln(1−μ) − ln B(a, bb), so that the exponent below
    // is (a−1)(ln p − ln μ) + bb(ln q − ln(1−μ)) + k0, each part small.
    let k0 = (a - 1.0) * ln_mu + bb * ln_nu - ln_beta(a, bb);
    let ln_rho = rho.ln();
    let softplus = |y: f64| y.max(0.0) + (-y.abs()).exp().ln_1p();
    let f = |t: f64| -> f64 {
        let d = w * t.sinh();
        // ln p − ln μ and ln q − ln(1−μ) for logit(p) = m + d: near the
        // mean without cancellation, far from it without overflow.
        let (dp, dq) = if d.abs() < 1.0 {
            (-(nu * (-d).exp_m1()).ln_1p(), -(mu * d.exp_m1()).ln_1p())
        } else {
            (-softplus(-(m + d)) - ln_mu, -softplus(m + d) - ln_nu)
        };
        let ln_p_rho = ln_mu + dp + ln_rho;
        // ln(1 − (1+pρ)^−n); for tiny pρ its first-order form.
        let ln_gain = if ln_p_rho < -20.0 {
            let p_rho = ln_p_rho.exp();
            n.ln() + ln_p_rho + (-0.5 * (n + 1.0) * p_rho).ln_1p()
        } else {
            (-(-n * ln_p_rho.exp().ln_1p()).exp_m1()).ln()
        };
        // Density in logit space is p^a q^bb / B; times (1−…)/p and dℓ/dt.
        ((a - 1.0) * dp + bb * dq + k0 + ln_gain).exp() * w * t.cosh()
    };
    // Below the mean the integrand falls like e^(a·d) once p < 1/ρ, above
    // it like e^(−bb·d): reach d where that is e^−40, past the transition
    // at logit p ≈ −ln ρ. (Capped for absurdly small shapes, below ~1e-14,
    // at a cost in accuracy rather than an endless loop.)
    let reach_lo = (40.0 / a.min(1.0) + ln_rho.max(0.0) + m.max(0.0) + 40.0).min(1e15);
    let reach_hi = (40.0 / bb.min(1.0) + (-m).max(0.0) + 40.0).min(1e15);
    let (t_lo, t_hi) = (-(reach_lo / w).asinh(), (reach_hi / w).asinh());
    let mut h = 0.25;
    let mut sum = 0.0;
    let mut k = (t_lo / h).ceil();
    while k * h <= t_hi {
        sum += f(k * h);
        k += 1.0;
    }
    let mut estimate = sum * h;
    for _ in 0..8 {
        // Halve the step: add the midpoints.
        let mut k = (t_lo / h - 0.5).ceil();
        while (k + 0.5) * h <= t_hi {
            sum += f((k + 0.5) * h);
            k += 1.0;
        }
        h *= 0.5;
        let next = sum * h;
        let settled = (next - estimate).abs() <= 1e-14 * next.abs();
        estimate = next;
        if settled {
            break;
        }
    }
    estimate
}

/// [1 − (1−z)^(ε) ₂F₁(A, ε; C; z)] / ε with z = ρ/(1+ρ), for ρ ≥ 0.
///
/// With A = a+b−1−r, ε = a−1 and C = a+b+x−1 this is the bracket of eq. 10
/// divided by (a−1): Euler's transformation ₂F₁(α, β; γ; z) =
/// (1−z)^(γ−α−β) ₂F₁(γ−α, γ−β; γ; z) turns (1−z)^(r+x) ₂F₁(r+x, b+x; C; z)
/// into (1−z)^(a−1) ₂F₁(A, a−1; C; z), whose numerator parameters no longer
/// grow with x. Writing ₂F₁(A, ε; C; z) = 1 + ε S with
/// S = Σ_{k≥1} (A)ₖ (1+ε)ₖ₋₁ zᵏ / ((C)ₖ k!), the bracket is
///
/// −expm1(ε L)/ε − e^(ε L) S, L = ln(1−z) = −ln(1+ρ),
///
/// which is smooth through ε = 0 (a = 1, where eq. 10 reads 0/0). The
/// series is summed with a running scale factor, so huge intermediate
/// terms (large a) neither overflow nor underflow.
fn bracket(big_a: f64, eps: f64, c: f64, rho: f64) -> f64 {
    let z = rho / (1.0 + rho);
    let l = -rho.ln_1p();
    let head = if eps == 0.0 {
        -l
    } else {
        -(eps * l).exp_m1() / eps
    };
    // Scaled terms: value = term · e^shift; the first is e^(εL) A z / C.
    let first = big_a * z / c;
    if first == 0.0 || !first.is_finite() {
        return if first == 0.0 { head } else { f64::NAN };
    }
    let mut shift = eps * l + first.abs().ln();
    let mut term = first.signum();
    let mut sum = term;
    const BIG: f64 = 1e200;
    let ln_big = BIG.ln();
    let past = big_a.abs() + eps.abs() + c.abs();
    let mut k = 1.0f64;
    let mut done = false;
    for _ in 0..super::special::MAX_SERIES_TERMS {
        let ratio = (big_a + k) * (eps + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        k += 1.0;
        if term == 0.0 {
            done = true;
            break;
        }
        if term.abs() > BIG {
            term /= BIG;
            sum /= BIG;
            shift += ln_big;
        }
        let q = ratio.abs().max(z);
        if k > past && q < 1.0 && term.abs() * q <= 0.25 * f64::EPSILON * sum.abs() * (1.0 - q) {
            done = true;
            break;
        }
    }
    if !done {
        return f64::NAN;
    }
    head - sum * shift.exp()
}

/// The data in the shape the likelihood is evaluated in.
struct Prepared {
    /// Number of customers.
    n: f64,
    /// Distinct time values (ages and last-purchase times).
    times: Vec<f64>,
    /// One-time buyers, by age: (index into `times`, count).
    once: Vec<(u32, f64)>,
    /// Distinct repeat counts x > 0 with their number of customers, and
    /// the range of `groups` holding them.
    xs: Vec<XClass>,
    /// Repeat buyers grouped by (x, t_x, T), sorted by x.
    groups: Groups,
}

struct XClass {
    x: f64,
    count: f64,
    start: usize,
    end: usize,
}

#[derive(Default)]
struct Groups {
    t: Vec<u32>,
    t_x: Vec<u32>,
    count: Vec<f64>,
}

impl Prepared {
    fn new(data: &[Summary]) -> Result<Prepared, FitError> {
        // Keys (x, t_x bits, T bits); +0.0 for -0.0 so bits order like values.
        let mut keys: Vec<(u32, u64, u64)> = Vec::with_capacity(data.len());
        for (index, s) in data.iter().enumerate() {
            s.validate()
                .map_err(|reason| FitError::InvalidInput { index, reason })?;
            if s.x > f64::from(u32::MAX) {
                return Err(FitError::InvalidInput {
                    index,
                    reason: "the repeat-purchase count is implausibly large",
                });
            }
            let t_x = if s.x == 0.0 { 0.0 } else { s.t_x + 0.0 };
            keys.push((s.x as u32, t_x.to_bits(), (s.t + 0.0).to_bits()));
        }
        if data.len() < MIN_CUSTOMERS {
            return Err(FitError::TooFewCustomers {
                found: data.len(),
                needed: MIN_CUSTOMERS,
            });
        }
        keys.sort_unstable();
        let mut index_of: HashMap<u64, u32, foldhash::fast::RandomState> = HashMap::default();
        let mut times = Vec::new();
        let mut slot = |bits: u64| -> u32 {
            *index_of.entry(bits).or_insert_with(|| {
                times.push(f64::from_bits(bits));
                (times.len() - 1) as u32
            })
        };
        let mut once: Vec<(u32, f64)> = Vec::new();
        let mut xs: Vec<XClass> = Vec::new();
        let mut groups = Groups::default();
        let mut i = 0;
        while i < keys.len() {
            let key = keys[i];
            let mut j = i + 1;
            while j < keys.len() && keys[j] == key {
                j += 1;
            }
            let count = (j - i) as f64;
            let (x, t_x, t) = key;
            if x == 0 {
                once.push((slot(t), count));
            } else {
                let g = groups.count.len();
                match xs.last_mut() {
                    Some(c) if c.x == f64::from(x) => {
                        c.count += count;
                        c.end = g + 1;
                    }
                    _ => xs.push(XClass {
                        x: f64::from(x),
                        count,
                        start: g,
                        end: g + 1,
                    }),
                }
                groups.t.push(slot(t));
                groups.t_x.push(slot(t_x));
                groups.count.push(count);
            }
            i = j;
        }
        if xs.is_empty() {
            return Err(FitError::NoRepeatBuyers);
        }
        Ok(Prepared {
            n: data.len() as f64,
            times,
            once,
            xs,
            groups,
        })
    }

    /// Total log-likelihood and its gradient with respect to (r, α, a, b).
    fn evaluate(&self, p: &BgNbd, grad: &mut [f64; 4]) -> f64 {
        let BgNbd { r, alpha, a, b } = *p;
        let ln_v: Vec<f64> = self.times.iter().map(|v| (alpha + v).ln()).collect();
        let inv_v: Vec<f64> = self.times.iter().map(|v| 1.0 / (alpha + v)).collect();
        let (psi_r, psi_b, psi_ab) = (digamma(r), digamma(b), digamma(a + b));
        let ln_alpha = alpha.ln();
        let ln_a = a.ln();

        // ln A₁'s r·ln α for everyone.
        let mut ll = self.n * r * ln_alpha;
        let mut g_r = self.n * ln_alpha;
        let mut g_alpha = self.n * r / alpha;
        let mut g_a = 0.0;
        let mut g_b = 0.0;

        // One-time buyers: ln A₃ = −r ln(α+T).
        for &(t, count) in &self.once {
            let t = t as usize;
            ll -= count * r * ln_v[t];
            g_r -= count * ln_v[t];
            g_alpha -= count * r * inv_v[t];
        }

        let gr = &self.groups;
        for class in &self.xs {
            let x = class.x;
            let n = class.count;
            let rx = r + x;
            // ln A₁ (the Γ part) and ln A₂, once per distinct x.
            ll += n * (ln_rising(r, x) + ln_rising(b, x) - ln_rising(a + b, x));
            let psi_abx = digamma(a + b + x);
            g_r += n * (digamma(rx) - psi_r);
            g_a += n * (psi_ab - psi_abx);
            g_b += n * (psi_ab - psi_abx + digamma(b + x) - psi_b);

            // ln(A₃ + A₄) = −(r+x) ln(α+T) + softplus(d),
            // d = ln A₄ − ln A₃ = ln a − ln(b+x−1) + (r+x)(ln(α+T) − ln(α+t_x)).
            let bx = b + x - 1.0;
            let c = ln_a - bx.ln();
            let (mut s_f, mut s_r, mut s_alpha, mut s_w) = (0.0, 0.0, 0.0, 0.0);
            for k in class.start..class.end {
                let (t, t_x, count) = (gr.t[k] as usize, gr.t_x[k] as usize, gr.count[k]);
                let (lt, lx) = (ln_v[t], ln_v[t_x]);
                let (it, ix) = (inv_v[t], inv_v[t_x]);
                let d = c + rx * (lt - lx);
                let e = (-d.abs()).exp();
                let softplus = d.max(0.0) + e.ln_1p();
                // w = A₄ / (A₃ + A₄) = sigmoid(d).
                let w = if d > 0.0 {
                    1.0 / (1.0 + e)
                } else {
                    e / (1.0 + e)
                };
                s_f += count * (softplus - rx * lt);
                s_r += count * (w * (lt - lx) - lt);
                s_alpha += count * (it + w * (ix - it));
                s_w += count * w;
            }
            ll += s_f;
            g_r += s_r;
            g_alpha -= rx * s_alpha;
            g_a += s_w / a;
            g_b -= s_w / bx;
        }
        *grad = [g_r, g_alpha, g_a, g_b];
        ll
    }

    /// Mean negative log-likelihood over θ = ln(params), and its gradient.
    fn objective(&self, theta: &[f64; 4], grad: &mut [f64; 4]) -> f64 {
        if theta
            .iter()
            .any(|v| !v.is_finite() || v.abs() > LOG_PARAM_LIMIT + 5.0)
        {
            return f64::INFINITY;
        }
        let p = theta.map(f64::exp);
        let params = BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        };
        let mut g = [0.0; 4];
        let ll = self.evaluate(&params, &mut g);
        for i in 0..4 {
            grad[i] = -g[i] * p[i] / self.n;
        }
        -ll / self.n
    }

    /// Starting points: a scale for α from the average purchase rate, and a
    /// spread of shapes.
    fn starts(&self) -> Vec<[f64; 4]> {
        let mut repeats = 0.0;
        let mut exposure = 0.0;
        for class in &self.xs {
            repeats += class.x * class.count;
        }
        for &(t, count) in &self.once {
            exposure += count * self.times[t as usize];
        }
        for k in 0..self.groups.count.len() {
            exposure += self.groups.count[k] * self.times[self.groups.t[k] as usize];
        }
        // Mean purchase rate r/α ≈ repeats / exposure.
        let rate = if exposure > 0.0 && repeats > 0.0 {
            repeats / exposure
        } else {
            1.0
        };
        let start = |r: f64, a: f64, b: f64| {
            [
                r.ln(),
                (r / rate).ln().clamp(-LOG_PARAM_LIMIT, LOG_PARAM_LIMIT),
                a.ln(),
                b.ln(),
            ]
        };
        vec![
            start(1.0, 1.0, 3.0),
            start(0.3, 0.5, 1.0),
            start(3.0, 2.0, 10.0),
            start(0.1, 5.0, 5.0),
        ]
    }
}

/// Fits BG/NBD by maximum likelihood.
///
/// Runs BFGS from a first starting point, then again from its result with
/// a fresh curvature estimate to confirm; the other starting points are
/// tried when that fails, or always when the data have at most 20,000
/// distinct histories (cheap). The best likelihood wins.
///
/// Errors: an invalid summary, fewer than [`MIN_CUSTOMERS`], no repeat
/// buyer, or no interior maximum (a parameter runs off to 0 or ∞, e.g.
/// when nobody appears to drop out, a and b grow without bound).
pub fn fit_bgnbd(data: &[Summary]) -> Result<Fit<BgNbd>, FitError> {
    let prepared = Prepared::new(data)?;
    let opts = Options::default();
    let objective = |t: &[f64; 4], g: &mut [f64; 4]| prepared.objective(t, g);
    let small = prepared.groups.count.len() + prepared.once.len() <= 20_000;
    let mut best: Option<optimize::Outcome<4>> = None;
    let mut iterations_of_best = 0;
    for (i, start) in prepared.starts().into_iter().enumerate() {
        if i > 0 && !small && best.is_some_and(|b| b.converged && inside(&b.x)) {
            break;
        }
        let Some(first) = optimize::minimize(objective, start, &opts) else {
            continue;
        };
        // Confirm from the result with the curvature model reset.
        let out = match optimize::minimize(objective, first.x, &opts) {
            Some(again) if again.f <= first.f => again,
            _ => first,
        };
        let iterations = first.iterations + out.iterations;
        if best.is_none_or(|b| better(&out, &b)) {
            best = Some(out);
            iterations_of_best = iterations;
        }
    }
    let Some(best) = best else {
        return Err(FitError::DidNotConverge {
            reason: "the likelihood could not be evaluated at any starting point".into(),
        });
    };
    if let Some(i) = best.x.iter().position(|v| v.abs() > LOG_PARAM_LIMIT) {
        let direction = if best.x[i] > 0.0 { "infinity" } else { "zero" };
        return Err(FitError::DidNotConverge {
            reason: format!(
                "parameter {} ran off towards {direction}; the data do not determine the model (too few customers or too short a period?)",
                NAMES[i]
            ),
        });
    }
    let p = best.x.map(f64::exp);
    let params = BgNbd {
        r: p[0],
        alpha: p[1],
        a: p[2],
        b: p[3],
    };
    Ok(Fit {
        params,
        log_likelihood: -best.f * prepared.n,
        iterations: iterations_of_best,
        converged: best.converged,
    })
}

fn inside(theta: &[f64; 4]) -> bool {
    theta.iter().all(|v| v.abs() <= LOG_PARAM_LIMIT)
}

/// Prefer an interior optimum, then a converged run among those whose
/// likelihoods agree to rounding noise, then the higher likelihood.
fn better(a: &optimize::Outcome<4>, b: &optimize::Outcome<4>) -> bool {
    optimize::better(a, inside(&a.x), b, inside(&b.x))
}

#[cfg(test)]
mod tests;
