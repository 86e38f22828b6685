//! Deterministic simulation of customers from the models, for tests,
//! benchmarks and demos: the same seed gives the same customers on every
//! platform and release (the generator is SplitMix64, written out here, not
//! a crate whose stream may change).

use super::{BgNbd, GammaGamma, Summary};

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast generator that
/// passes BigCrush; plenty for simulation.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole stream is a function of `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on the open interval (0, 1): never 0, so its log is finite.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Exponential with the given rate (+∞ for rate 0).
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform().ln() / rate
    }

    /// ln of a Gamma(shape, 1) variate, for shape > 0. Working in logs
    /// keeps tiny shapes (whose draws underflow) usable for Beta draws.
    ///
    /// Marsaglia & Tsang (2000) for shape ≥ 1; for shape < 1 the boost
    /// Gamma(k) = Gamma(k+1) · U^(1/k).
    pub fn ln_gamma_variate(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let boost = self.uniform().ln() / shape;
            return self.ln_gamma_variate(shape + 1.0) + boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let z = self.normal();
            let v = 1.0 + c * z;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
                return d.ln() + v.ln();
            }
        }
    }

    /// Gamma with the given shape and rate (mean shape/rate).
    pub fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        self.ln_gamma_variate(shape).exp() / rate
    }

    /// Beta(a, b), as G₁/(G₁+G₂) computed from the logs.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let (g1, g2) = (self.ln_gamma_variate(a), self.ln_gamma_variate(b));
        1.0 / (1.0 + (g2 - g1).exp())
    }
}

/// One BG/NBD customer observed for `age` units after their first
/// purchase: λ ~ Gamma(r, rate α), p ~ Beta(a, b); purchases arrive as a
/// Poisson process of rate λ, and after each repeat purchase the customer
/// drops out for good with probability p.
///
/// The loop runs once per purchase, so keep λ·age modest (it is a
/// simulation of real customers, not a stress test).
pub fn bgnbd_customer(params: &BgNbd, age: f64, rng: &mut SplitMix64) -> Summary {
    let lambda = rng.gamma(params.r, params.alpha);
    let p = rng.beta(params.a, params.b);
    let (mut x, mut t_x, mut now) = (0.0, 0.0, 0.0);
    loop {
        now += rng.exponential(lambda);
        if now.is_nan() || now > age {
            break;
        }
        x += 1.0;
        t_x = now;
        if rng.uniform() < p {
            break;
        }
    }
    Summary { x, t_x, t: age }
}

/// Customers with the given ages (one per entry), all from one stream
/// seeded by `seed`.
pub fn bgnbd(params: &BgNbd, ages: &[f64], seed: u64) -> Vec<Summary> {
    let mut rng = SplitMix64::new(seed);
    ages.iter()
        .map(|&age| bgnbd_customer(params, age, &mut rng))
        .collect()
}

/// The mean value of `x` ≥ 1 transactions of one Gamma-Gamma customer:
/// ν ~ Gamma(q, rate v), each transaction Gamma(p, rate ν), so their sum is
/// Gamma(p·x, rate ν).
pub fn gamma_gamma_mean(params: &GammaGamma, x: u32, rng: &mut SplitMix64) -> f64 {
    let nu = rng.gamma(params.q, params.v);
    let x = f64::from(x.max(1));
    rng.gamma(params.p * x, nu) / x
}

/// (x, mean value) for each repeat count in `counts` (counts of 0 are
/// treated as 1), from one stream seeded by `seed`.
pub fn gamma_gamma(params: &GammaGamma, counts: &[u32], seed: u64) -> Vec<(u32, f64)> {
    let mut rng = SplitMix64::new(seed);
    counts
        .iter()
        .map(|&x| (x.max(1), gamma_gamma_mean(params, x, &mut rng)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_var(v: &[f64]) -> (f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (
            m,
            v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
        )
    }

    #[test]
    fn the_stream_is_fixed_by_the_seed() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        let mut c = SplitMix64::new(8);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..5).map(|_| c.next_u64()).collect::<Vec<_>>());
        // The published first output of SplitMix64 seeded with 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn uniforms_are_inside_the_open_interval() {
        let mut rng = SplitMix64::new(1);
        let u: Vec<f64> = (0..100_000).map(|_| rng.uniform()).collect();
        assert!(u.iter().all(|&v| v > 0.0 && v < 1.0));
        let (m, var) = mean_var(&u);
        // Mean 1/2 ± 4 SE (SE = √(1/12/n) ≈ 0.0009); variance 1/12.
        assert!((m - 0.5).abs() < 0.004, "{m}");
        assert!((var - 1.0 / 12.0).abs() < 0.002, "{var}");
    }

    #[test]
    fn gamma_and_beta_draws_have_the_right_moments() {
        let mut rng = SplitMix64::new(42);
        let n = 200_000;
        for &(shape, rate) in &[(0.243, 4.414), (2.5, 0.5), (40.0, 2.0)] {
            let v: Vec<f64> = (0..n).map(|_| rng.gamma(shape, rate)).collect();
            let (m, var) = mean_var(&v);
            let (want_m, want_var) = (shape / rate, shape / (rate * rate));
            // 5 standard errors of the mean; 10% on the variance.
            let se = (want_var / n as f64).sqrt();
            assert!(
                (m - want_m).abs() < 5.0 * se,
                "shape {shape}: mean {m} vs {want_m}"
            );
            assert!(
                (var / want_var - 1.0).abs() < 0.1,
                "shape {shape}: var {var} vs {want_var}"
            );
        }
        for &(a, b) in &[(0.793, 2.426), (5.0, 1.0)] {
            let v: Vec<f64> = (0..n).map(|_| rng.beta(a, b)).collect();
            let (m, var) = mean_var(&v);
            let want_m = a / (a + b);
            let want_var = a * b / ((a + b).powi(2) * (a + b + 1.0));
            assert!(
                (m - want_m).abs() < 5.0 * (want_var / n as f64).sqrt(),
                "beta({a},{b}) mean {m}"
            );
            assert!(
                (var / want_var - 1.0).abs() < 0.05,
                "beta({a},{b}) var {var}"
            );
        }
        // Tiny shapes stay finite and in range.
        let v: Vec<f64> = (0..1000).map(|_| rng.beta(0.01, 0.01)).collect();
        assert!(v.iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn simulated_bgnbd_customers_match_the_model_mean() {
        // E[X(t)] of eq. 7 against the average simulated repeat count at a
        // common age.
        let params = BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        };
        let ages = vec![39.0; 100_000];
        let sim = bgnbd(&params, &ages, 3);
        assert!(sim.iter().all(|s| s.validate().is_ok() && s.t == 39.0));
        let xs: Vec<f64> = sim.iter().map(|s| s.x).collect();
        let (m, var) = mean_var(&xs);
        let want = params.expected_purchases_new(39.0);
        assert!(
            (m - want).abs() < 4.0 * (var / xs.len() as f64).sqrt(),
            "{m} vs {want}"
        );
        // Deterministic.
        assert_eq!(sim[..10], bgnbd(&params, &ages[..10], 3)[..]);
    }

    #[test]
    fn simulated_spend_matches_the_model_mean() {
        // E[M] = p v / (q − 1) whatever x is.
        let params = GammaGamma {
            p: 6.25,
            q: 3.74,
            v: 15.44,
        };
        let counts: Vec<u32> = (0..100_000).map(|i| 1 + i % 5).collect();
        let sim = gamma_gamma(&params, &counts, 9);
        let ms: Vec<f64> = sim.iter().map(|&(_, m)| m).collect();
        let (m, var) = mean_var(&ms);
        let want = params.p * params.v / (params.q - 1.0);
        assert!(
            (m - want).abs() < 4.0 * (var / ms.len() as f64).sqrt(),
            "{m} vs {want}"
        );
    }
}
