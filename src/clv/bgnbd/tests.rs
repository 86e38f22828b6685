// The reference values keep all the digits mpmath printed.
#![allow(clippy::excessive_precision)]

use super::*;
use crate::clv::simulate::{self, SplitMix64};
use crate::clv::special::hyp2f1;
use proptest::prelude::*;

/// The published CDNOW estimates (Fader, Hardie & Lee 2005, weeks).
const CDNOW: BgNbd = BgNbd {
    r: 0.243,
    alpha: 4.414,
    a: 0.793,
    b: 2.426,
};

fn s(x: f64, t_x: f64, t: f64) -> Summary {
    Summary { x, t_x, t }
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

/// Some mixed data: a few hundred random histories with repeats.
fn mixed_data(seed: u64, n: usize) -> Vec<Summary> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let t = (rng.uniform() * 80.0 * 4.0).round() / 4.0;
            let x = (rng.uniform() * 6.0).floor().max(0.0);
            let x = if rng.uniform() < 0.4 { 0.0 } else { x };
            let t_x = if x == 0.0 {
                0.0
            } else {
                (rng.uniform() * t * 4.0).round() / 4.0
            };
            s(x, t_x, t)
        })
        .collect()
}

#[test]
fn grouped_likelihood_equals_the_per_customer_formula() {
    let mut data = mixed_data(1, 400);
    // Duplicates, so grouping has something to merge.
    data.extend_from_slice(&data.clone()[..100]);
    let prepared = Prepared::new(&data).expect("valid data");
    assert!(prepared.groups.count.len() + prepared.once.len() < data.len());
    for p in [
        CDNOW,
        BgNbd {
            r: 3.0,
            alpha: 0.2,
            a: 1.0,
            b: 40.0,
        },
    ] {
        let mut g = [0.0; 4];
        let grouped = prepared.evaluate(&p, &mut g);
        let direct = p.log_likelihood(&data);
        assert!(rel(grouped, direct) < 1e-12, "{grouped} vs {direct}");
    }
}

#[test]
fn the_analytic_gradient_matches_finite_differences() {
    let data = mixed_data(2, 300);
    let prepared = Prepared::new(&data).expect("valid data");
    for p in [
        CDNOW,
        BgNbd {
            r: 1.7,
            alpha: 12.0,
            a: 2.5,
            b: 0.6,
        },
    ] {
        let mut g = [0.0; 4];
        prepared.evaluate(&p, &mut g);
        let base = [p.r, p.alpha, p.a, p.b];
        for i in 0..4 {
            let h = 1e-6 * base[i];
            let at = |d: f64| {
                let mut v = base;
                v[i] += d;
                let q = BgNbd {
                    r: v[0],
                    alpha: v[1],
                    a: v[2],
                    b: v[3],
                };
                prepared.evaluate(&q, &mut [0.0; 4])
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 1e-5 * g[i].abs().max(1.0),
                "d/d{}: {fd} vs {}",
                NAMES[i],
                g[i]
            );
        }
    }
}

#[test]
fn one_customer_likelihood_by_hand() {
    // x = 0, T = 10: L = A₁A₂A₃ = αʳ (α+T)^−r.
    let p = BgNbd {
        r: 0.5,
        alpha: 2.0,
        a: 1.0,
        b: 2.0,
    };
    let want = 0.5 * 2f64.ln() - 0.5 * 12f64.ln();
    assert!((p.log_likelihood(&[s(0.0, 0.0, 10.0)]) - want).abs() < 1e-14);
    // x = 1, t_x = 4, T = 10: Γ(1.5)/Γ(0.5) = 0.5, Γ(3)Γ(3)/(Γ(2)Γ(4)) = 2/3,
    // A₃ = 12^−1.5, A₄ = (1/2)·6^−1.5.
    let l = 0.5 * 2f64.sqrt() * (2.0 / 3.0) * (12f64.powf(-1.5) + 0.5 * 6f64.powf(-1.5));
    assert!(rel(p.log_likelihood(&[s(1.0, 4.0, 10.0)]), l.ln()) < 1e-14);
}

#[test]
fn the_likelihood_does_not_overflow_for_heavy_buyers_and_old_customers() {
    let p = BgNbd {
        r: 0.25,
        alpha: 30.0,
        a: 0.8,
        b: 2.4,
    };
    for x in [100.0, 500.0, 5_000.0] {
        for t in [1_000.0, 5_000.0, 100_000.0] {
            for t_x in [0.0, 1.0, t / 2.0, t] {
                // (A density in the purchase times, so it may exceed 1.)
                let ll = p.log_likelihood(&[s(x, t_x, t)]);
                assert!(ll.is_finite(), "x={x} t_x={t_x} t={t}: {ll}");
                // The naive product A₃ + A₄ would underflow to 0 here.
                assert!((-(p.r + x) * (p.alpha + t).ln()).exp() == 0.0 || x < 500.0);
            }
        }
    }
    // Invalid input and parameters give NaN, never a panic.
    assert!(p.log_likelihood(&[s(1.0, 5.0, 4.0)]).is_nan());
    assert!(
        BgNbd { r: -1.0, ..p }
            .log_likelihood(&[s(1.0, 1.0, 4.0)])
            .is_nan()
    );
    assert_eq!(p.log_likelihood(&[]), 0.0);
}

#[test]
fn p_alive_is_one_for_one_time_buyers() {
    for p in [
        CDNOW,
        BgNbd {
            r: 9.0,
            alpha: 0.1,
            a: 50.0,
            b: 0.01,
        },
    ] {
        for t in [0.0, 1.0, 1e4] {
            assert_eq!(p.p_alive(&s(0.0, 0.0, t)), 1.0);
        }
    }
}

#[test]
fn p_alive_of_cdnow_customer_1() {
    // Customer 1 of the CDNOW summary: x = 2, t_x = 30.43, T = 38.86.
    // By hand with the published estimates:
    //   (α+T)/(α+t_x) = 43.274 / 34.844 = 1.241935…, ln = 0.216674…
    //   (r+x)·ln = 2.243 · 0.216674 = 0.486000…, e^… = 1.625838…
    //   a/(b+x−1) = 0.793 / 3.426 = 0.231465…
    //   P(alive) = 1 / (1 + 0.231465 · 1.625838) = 1 / 1.376329 = 0.72658
    // (mpmath at 40 digits: 0.72657857008067291…).
    let got = CDNOW.p_alive(&s(2.0, 30.43, 38.86));
    assert!((got - 0.726_578_570_080_672_9).abs() < 1e-13, "{got}");
    // Recent buyers are more likely alive than lapsed ones.
    assert!(CDNOW.p_alive(&s(2.0, 38.0, 38.86)) > got);
    assert!(CDNOW.p_alive(&s(2.0, 5.0, 38.86)) < got);
    // Huge exponents saturate instead of overflowing.
    let lapsed = CDNOW.p_alive(&s(500.0, 1.0, 5_000.0));
    assert!((0.0..1e-100).contains(&lapsed));
    assert!(CDNOW.p_alive(&s(2.0, 5.0, 4.0)).is_nan());
}

#[test]
fn expected_purchases_match_the_published_formula() {
    // References: eq. 10 and eq. 7 evaluated with mpmath (40 digits, its
    // own hyp2f1) at the published CDNOW estimates. Customer 1's 1.226 over
    // the 39-week holdout is the figure in the paper.
    let cases = [
        (s(2.0, 30.43, 38.86), 1.226_028_174_767_144_4),
        (s(0.0, 0.0, 38.86), 0.195_098_052_011_262_64),
        (s(7.0, 35.71, 38.86), 4.472_242_204_014_456_8),
    ];
    for (sum, want) in cases {
        let got = CDNOW.expected_purchases(39.0, &sum);
        assert!(rel(got, want) < 1e-12, "{sum:?}: {got} vs {want}");
    }
    assert!(rel(CDNOW.expected_purchases_new(39.0), 1.196_723_193_320_816_8) < 1e-12);
    assert!(rel(CDNOW.expected_purchases_new(78.0), 1.860_519_057_942_768_5) < 1e-12);
    assert_eq!(CDNOW.expected_purchases(0.0, &s(2.0, 1.0, 3.0)), 0.0);
    assert!(CDNOW.expected_purchases(-1.0, &s(2.0, 1.0, 3.0)).is_nan());
    assert!(CDNOW.expected_purchases_new(f64::INFINITY).is_nan());
}

/// Eq. 10 / eq. 7 written literally with the plain ₂F₁ series.
fn literal_eq10(p: &BgNbd, t: f64, c: &Summary) -> f64 {
    let BgNbd { r, alpha, a, b } = *p;
    let x = c.x;
    let z = t / (alpha + c.t + t);
    let f = hyp2f1(r + x, b + x, a + b + x - 1.0, z);
    (a + b + x - 1.0) / (a - 1.0)
        * (1.0 - ((alpha + c.t) / (alpha + c.t + t)).powf(r + x) * f)
        * p.p_alive(c)
}

#[test]
fn the_transformed_series_agrees_with_the_literal_formula() {
    let params = [
        CDNOW,
        BgNbd {
            r: 2.0,
            alpha: 10.0,
            a: 3.5,
            b: 6.0,
        },
        BgNbd {
            r: 0.1,
            alpha: 100.0,
            a: 0.3,
            b: 0.9,
        },
        BgNbd {
            r: 5.0,
            alpha: 1.0,
            a: 1.2,
            b: 40.0,
        },
    ];
    let people = [
        s(0.0, 0.0, 20.0),
        s(1.0, 3.0, 20.0),
        s(4.0, 15.0, 20.0),
        s(12.0, 19.0, 60.0),
    ];
    for p in params {
        for c in &people {
            for t in [0.5, 5.0, 30.0, 200.0] {
                let got = p.expected_purchases(t, c);
                let want = literal_eq10(&p, t, c);
                assert!(rel(got, want) < 1e-9, "{p:?} {c:?} t={t}: {got} vs {want}");
            }
        }
    }
}

#[test]
fn the_series_and_the_quadrature_agree() {
    let shapes = [
        (0.793, 2.426, 0.243),
        (0.793, 9.426, 7.243),
        (3.5, 6.0, 2.0),
        (0.05, 0.3, 0.1),
        (1.0, 40.0, 5.0),
        (300.0, 900.0, 3.5),
        (0.01, 5000.0, 400.0),
    ];
    for (a, bb, n) in shapes {
        for rho in [0.01, 0.5, 5.0, 50.0, 100.0] {
            let c = a + bb - 1.0;
            let series = c * bracket(c - n, a - 1.0, c, rho);
            let quad = expected_while_alive_by_quadrature(a, bb, n, rho);
            assert!(
                rel(quad, series) < 1e-11,
                "a={a} bb={bb} n={n} rho={rho}: {series} vs {quad}"
            );
        }
    }
}

#[test]
fn large_shapes_are_routed_to_the_quadrature_and_stay_exact() {
    // With a = 20000 the series would need ~17,000 terms and carries an
    // exponent of ~−36,000 whose rounding costs ~1e-11; the quadrature
    // does not. References: mpmath, 50 digits, eq. 10's bracket form.
    let cases = [
        ((20_000.0, 3.0, 0.5, 5.0), 0.591_814_956_747_258_894_286_7),
        ((20_000.0, 3.0, 0.5, 50.0), 0.860_090_695_639_826_454_909_1),
        ((300.0, 900.0, 3.5, 100.0), 4.009_987_485_024_013_394_102_7),
    ];
    for ((a, bb, n, rho), want) in cases {
        let got = expected_while_alive(a, bb, n, rho);
        assert!(
            rel(got, want) < 1e-12,
            "a={a} bb={bb} rho={rho}: {got} vs {want}"
        );
    }
}

#[test]
fn a_equal_to_one_is_the_limit_of_its_neighbours() {
    // Eq. 10 is 0/0 at a = 1; the bracket has no such point.
    let at = |a: f64| BgNbd { a, ..CDNOW };
    let c = s(3.0, 20.0, 38.86);
    for t in [1.0, 39.0, 500.0] {
        let mid = at(1.0).expected_purchases(t, &c);
        let lo = at(1.0 - 1e-7).expected_purchases(t, &c);
        let hi = at(1.0 + 1e-7).expected_purchases(t, &c);
        assert!(mid.is_finite() && mid > 0.0);
        assert!(
            rel(lo, mid) < 1e-6 && rel(hi, mid) < 1e-6,
            "{lo} {mid} {hi}"
        );
        let new = at(1.0).expected_purchases_new(t);
        assert!(rel(at(1.0 + 1e-7).expected_purchases_new(t), new) < 1e-6);
    }
}

#[test]
fn expected_purchases_grow_with_the_horizon() {
    let params = [
        CDNOW,
        BgNbd {
            r: 2.0,
            alpha: 10.0,
            a: 3.5,
            b: 6.0,
        },
        BgNbd {
            r: 0.5,
            alpha: 60.0,
            a: 0.2,
            b: 30.0,
        },
    ];
    let people = [
        s(0.0, 0.0, 38.86),
        s(2.0, 30.43, 38.86),
        s(40.0, 700.0, 730.0),
        s(300.0, 100.0, 2000.0),
    ];
    for p in params {
        for c in &people {
            let mut last = 0.0;
            for k in 1..=60 {
                let t = 1.7f64.powi(k) / 10.0;
                let e = p.expected_purchases(t, c);
                assert!(
                    e.is_finite() && e >= last,
                    "{p:?} {c:?} t={t}: {e} < {last}"
                );
                last = e;
            }
            let mut last_new = 0.0;
            for k in 1..=40 {
                let e = p.expected_purchases_new(1.7f64.powi(k) / 10.0);
                assert!(e.is_finite() && e >= last_new);
                last_new = e;
            }
        }
    }
}

#[test]
fn extreme_parameters_keep_predictions_finite() {
    // Large a makes the series terms huge before (1−z)^(a−1) shrinks them.
    let p = BgNbd {
        r: 0.5,
        alpha: 10.0,
        a: 300.0,
        b: 900.0,
    };
    for t in [1.0, 100.0, 10_000.0] {
        let e = p.expected_purchases(t, &s(3.0, 50.0, 60.0));
        assert!(e.is_finite() && e > 0.0, "t={t}: {e}");
        let n = p.expected_purchases_new(t);
        assert!(n.is_finite() && n > 0.0, "t={t}: {n}");
    }
}

#[test]
fn degenerate_shapes_end_quickly() {
    // Subnormal and huge shapes must not make the quadrature loop forever
    // (nor give ∞ or a negative count).
    for (a, b) in [
        (5e-324, 1.0),
        (1.0, 5e-324),
        (1e-300, 1e-300),
        (1e300, 1e300),
    ] {
        let p = BgNbd {
            r: 0.5,
            alpha: 1.0,
            a,
            b,
        };
        for t in [1.0, 1e6] {
            let e = p.expected_purchases(t, &s(1.0, 1.0, 2.0));
            assert!(
                e.is_nan() || (e.is_finite() && e >= 0.0),
                "a={a} b={b} t={t}: {e}"
            );
        }
    }
}

/// Observed-information standard errors of the log-parameters: the inverse
/// of the Hessian of −LL in θ = ln(params), by central differences of the
/// analytic gradient.
fn log_param_standard_errors(prepared: &Prepared, theta: [f64; 4]) -> [f64; 4] {
    let grad = |t: [f64; 4]| {
        let mut g = [0.0; 4];
        prepared.objective(&t, &mut g);
        g.map(|v| v * prepared.n)
    };
    let mut h = [[0.0; 4]; 4];
    for j in 0..4 {
        let e = 1e-4;
        let (mut up, mut down) = (theta, theta);
        up[j] += e;
        down[j] -= e;
        let (gu, gd) = (grad(up), grad(down));
        for i in 0..4 {
            h[i][j] = (gu[i] - gd[i]) / (2.0 * e);
        }
    }
    let inv = invert4(h);
    [0, 1, 2, 3].map(|i| inv[i][i].sqrt())
}

fn invert4(m: [[f64; 4]; 4]) -> [[f64; 4]; 4] {
    let mut a = m;
    let mut inv = [[0.0; 4]; 4];
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for col in 0..4 {
        let pivot = (col..4)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let d = a[col][col];
        for k in 0..4 {
            a[col][k] /= d;
            inv[col][k] /= d;
        }
        for row in 0..4 {
            if row != col {
                let f = a[row][col];
                for k in 0..4 {
                    a[row][k] -= f * a[col][k];
                    inv[row][k] -= f * inv[col][k];
                }
            }
        }
    }
    inv
}

#[test]
fn fitting_simulated_customers_recovers_the_parameters() {
    // 30,000 customers from known parameters, ages spread over 26–78 weeks
    // as if acquired over a year. Tolerance: each estimate within 4
    // standard errors of the truth, on the log scale, with the standard
    // errors from the observed information of this very sample (a 4-SE
    // miss has probability ~6e-5 per parameter for a correct fit; the seed
    // is fixed, so the test is deterministic). Also a coarse 25% band, so a
    // wildly uncertain fit cannot pass on huge standard errors alone.
    let truth = BgNbd {
        r: 0.6,
        alpha: 8.0,
        a: 0.9,
        b: 3.0,
    };
    let mut rng = SplitMix64::new(11);
    let ages: Vec<f64> = (0..30_000).map(|_| 26.0 + 52.0 * rng.uniform()).collect();
    let data = simulate::bgnbd(&truth, &ages, 12);
    let fit = fit_bgnbd(&data).expect("fits");
    assert!(fit.converged, "{fit:?}");
    let prepared = Prepared::new(&data).expect("valid");
    let got = [fit.params.r, fit.params.alpha, fit.params.a, fit.params.b];
    let theta = got.map(f64::ln);
    let se = log_param_standard_errors(&prepared, theta);
    let want = [truth.r, truth.alpha, truth.a, truth.b];
    for i in 0..4 {
        let z = (theta[i] - want[i].ln()) / se[i];
        assert!(
            z.abs() < 4.0,
            "{}: {} vs {} (z = {z:.2}, se {:.3})",
            NAMES[i],
            got[i],
            want[i],
            se[i]
        );
        assert!(
            rel(got[i], want[i]) < 0.25,
            "{}: {} vs {}",
            NAMES[i],
            got[i],
            want[i]
        );
    }
    // The fit's likelihood beats the truth's on its own sample.
    assert!(fit.log_likelihood >= truth.log_likelihood(&data));
    assert!(
        (fit.log_likelihood - fit.params.log_likelihood(&data)).abs()
            < 1e-6 * fit.log_likelihood.abs()
    );
}

#[test]
fn fit_errors() {
    assert_eq!(
        fit_bgnbd(&mixed_data(3, 5)).err(),
        Some(FitError::TooFewCustomers {
            found: 5,
            needed: MIN_CUSTOMERS
        })
    );
    let once: Vec<Summary> = (0..50).map(|i| s(0.0, 0.0, f64::from(i))).collect();
    assert_eq!(fit_bgnbd(&once).err(), Some(FitError::NoRepeatBuyers));
    let mut bad = mixed_data(4, 50);
    bad[17] = s(2.0, 9.0, 8.0);
    assert!(matches!(
        fit_bgnbd(&bad),
        Err(FitError::InvalidInput { index: 17, .. })
    ));
    bad[17] = s(f64::NAN, 1.0, 8.0);
    assert!(matches!(
        fit_bgnbd(&bad),
        Err(FitError::InvalidInput { index: 17, .. })
    ));
}

#[test]
fn data_with_no_dropout_at_all_does_not_pretend_to_a_fit() {
    // Everybody buys steadily until the end: the likelihood keeps rising as
    // p → 0 (a → 0 or b → ∞), so there is no interior maximum. Either an
    // error naming the runaway parameter or a fit that says so is fine; a
    // confident "converged" fit is not.
    let data: Vec<Summary> = (0..200)
        .map(|i| s(f64::from(5 + i % 7), 50.0, 50.0))
        .collect();
    match fit_bgnbd(&data) {
        Err(FitError::DidNotConverge { reason }) => assert!(reason.contains("ran off"), "{reason}"),
        Ok(fit) => assert!(fit.params.b / fit.params.a > 1e4, "{fit:?}"),
        Err(e) => panic!("unexpected {e}"),
    }
}

fn summary_strategy() -> impl Strategy<Value = Summary> {
    (0u32..=600, 0.0f64..=1.0, 0.0f64..=5_000.0).prop_map(|(x, frac, t)| Summary {
        x: f64::from(x),
        t_x: if x == 0 { 0.0 } else { frac * t },
        t,
    })
}

fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo.ln()..hi.ln()).prop_map(f64::exp)
}

proptest! {
    #[test]
    fn log_likelihood_is_finite_for_valid_input(
        c in summary_strategy(),
        r in log_uniform(1e-4, 1e4),
        alpha in log_uniform(1e-4, 1e5),
        a in log_uniform(1e-4, 1e4),
        b in log_uniform(1e-4, 1e4),
    ) {
        let p = BgNbd { r, alpha, a, b };
        let ll = p.log_likelihood(&[c]);
        prop_assert!(ll.is_finite(), "{p:?} {c:?}: {ll}");
        let alive = p.p_alive(&c);
        prop_assert!((0.0..=1.0).contains(&alive));
    }

    #[test]
    fn fitting_never_panics(
        raw in prop::collection::vec((0u32..30, -5.0f64..100.0, -5.0f64..100.0, 0u8..20), 0..40),
    ) {
        // Mostly valid histories with some broken ones (NaN, t_x > T,
        // negative times, fractional counts).
        let data: Vec<Summary> = raw
            .iter()
            .map(|&(x, a, b, kind)| match kind {
                0 => s(f64::NAN, a, b),
                1 => s(f64::from(x) + 0.5, a.abs(), b.abs()),
                2 => s(f64::from(x), a, b),
                _ => {
                    let (lo, hi) = if a.abs() <= b.abs() { (a.abs(), b.abs()) } else { (b.abs(), a.abs()) };
                    s(f64::from(x), if x == 0 { 0.0 } else { lo }, hi)
                }
            })
            .collect();
        if let Ok(fit) = fit_bgnbd(&data) {
            let p = fit.params;
            prop_assert!(p.r > 0.0 && p.alpha > 0.0 && p.a > 0.0 && p.b > 0.0);
            prop_assert!(fit.log_likelihood.is_finite());
        }
    }
}
