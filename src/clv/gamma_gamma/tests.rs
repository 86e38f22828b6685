use super::*;
use crate::clv::simulate::{self, SplitMix64};
use proptest::prelude::*;

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

const PUBLISHED: GammaGamma = GammaGamma {
    p: 6.25,
    q: 3.74,
    v: 15.44,
};

fn some_data(seed: u64, n: usize) -> Vec<(u32, f64)> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| (1 + (rng.uniform() * 8.0) as u32, 5.0 + 60.0 * rng.uniform()))
        .collect()
}

#[test]
fn grouped_likelihood_and_gradient_are_right() {
    let data = some_data(1, 300);
    let prepared = Prepared::new(&data).expect("valid");
    for gg in [
        PUBLISHED,
        GammaGamma {
            p: 0.8,
            q: 1.5,
            v: 200.0,
        },
    ] {
        let mut g = [0.0; 3];
        let grouped = prepared.evaluate(&gg, &mut g);
        assert!(rel(grouped, gg.log_likelihood(&data)) < 1e-12);
        let base = [gg.p, gg.q, gg.v];
        for i in 0..3 {
            let h = 1e-6 * base[i];
            let at = |d: f64| {
                let mut v = base;
                v[i] += d;
                prepared.evaluate(
                    &GammaGamma {
                        p: v[0],
                        q: v[1],
                        v: v[2],
                    },
                    &mut [0.0; 3],
                )
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
fn the_density_integrates_to_one() {
    // f(m | x) over m ∈ (0, ∞), by the substitution m = e^u and the
    // trapezoid rule in u: a check on every constant of the likelihood.
    for x in [1u32, 3, 10] {
        let du = 0.001;
        let mut total = 0.0;
        let mut u = -12.0;
        while u < 12.0 {
            let m = f64::exp(u);
            total += PUBLISHED.log_likelihood(&[(x, m)]).exp() * m * du;
            u += du;
        }
        assert!((total - 1.0).abs() < 1e-6, "x={x}: {total}");
    }
}

#[test]
fn expected_average_value_is_the_weighted_mean() {
    let gg = PUBLISHED;
    let population = gg.p * gg.v / (gg.q - 1.0);
    assert!(rel(gg.expected_average_value(0, 999.0), population) < 1e-15);
    // p(v + x m)/(px + q − 1) = w·population + (1−w)·m with
    // w = (q−1)/(px+q−1).
    for (x, m) in [(1u32, 10.0), (5, 40.0), (100, 22.35)] {
        let w = (gg.q - 1.0) / (gg.p * f64::from(x) + gg.q - 1.0);
        let want = w * population + (1.0 - w) * m;
        assert!(rel(gg.expected_average_value(x, m), want) < 1e-14);
    }
    // More transactions pull the estimate towards the customer's own mean.
    let m = 100.0;
    let e: Vec<f64> = (1..20).map(|x| gg.expected_average_value(x, m)).collect();
    assert!(e.windows(2).all(|w| w[0] < w[1] && w[1] < m));
    // No mean when px + q ≤ 1.
    let heavy = GammaGamma {
        p: 0.2,
        q: 0.5,
        v: 1.0,
    };
    assert_eq!(heavy.expected_average_value(1, 10.0), f64::INFINITY);
    assert!(gg.expected_average_value(2, -1.0).is_nan());
}

#[test]
fn fitting_simulated_spend_recovers_the_parameters() {
    // 30,000 repeat buyers with 1–10 repeat purchases. p and q are only
    // weakly identified separately (the likelihood has a long ridge along
    // which p·v/(q−1) is nearly constant), so the checks are: each
    // parameter within 15%, and the population mean p·v/(q−1), which is
    // what predictions use, within 1% (its sampling error here is ≈ 0.4%).
    let truth = GammaGamma {
        p: 6.0,
        q: 4.0,
        v: 15.0,
    };
    let mut rng = SplitMix64::new(5);
    let counts: Vec<u32> = (0..30_000)
        .map(|_| 1 + (rng.uniform() * 10.0) as u32)
        .collect();
    let data = simulate::gamma_gamma(&truth, &counts, 6);
    let fit = fit_gamma_gamma(&data).expect("fits");
    assert!(fit.converged, "{fit:?}");
    let got = fit.params;
    for (name, g, w) in [
        ("p", got.p, truth.p),
        ("q", got.q, truth.q),
        ("v", got.v, truth.v),
    ] {
        assert!(rel(g, w) < 0.15, "{name}: {g} vs {w}");
    }
    let mean = |gg: &GammaGamma| gg.p * gg.v / (gg.q - 1.0);
    assert!(rel(mean(&got), mean(&truth)) < 0.01, "{got:?}");
    assert!(fit.log_likelihood >= truth.log_likelihood(&data));
}

#[test]
fn fit_errors() {
    assert_eq!(
        fit_gamma_gamma(&some_data(2, 3)).err(),
        Some(FitError::TooFewCustomers {
            found: 3,
            needed: MIN_CUSTOMERS
        })
    );
    let mut bad = some_data(3, 30);
    bad[4] = (0, 10.0);
    assert!(matches!(
        fit_gamma_gamma(&bad),
        Err(FitError::InvalidInput { index: 4, .. })
    ));
    bad[4] = (2, 0.0);
    assert!(matches!(
        fit_gamma_gamma(&bad),
        Err(FitError::InvalidInput { index: 4, .. })
    ));
    bad[4] = (2, f64::NAN);
    assert!(matches!(
        fit_gamma_gamma(&bad),
        Err(FitError::InvalidInput { index: 4, .. })
    ));
}

proptest! {
    #[test]
    fn fitting_never_panics(raw in prop::collection::vec((0u32..12, -1.0f64..1e4), 0..40)) {
        if let Ok(fit) = fit_gamma_gamma(&raw) {
            let p = fit.params;
            prop_assert!(p.p > 0.0 && p.q > 0.0 && p.v > 0.0);
            prop_assert!(fit.log_likelihood.is_finite());
        }
    }

    #[test]
    fn log_likelihood_is_finite_for_valid_input(
        x in 1u32..1000,
        m in 1e-3f64..1e6,
        p in 1e-3f64..1e3,
        q in 1e-3f64..1e3,
        v in 1e-3f64..1e5,
    ) {
        let ll = GammaGamma { p, q, v }.log_likelihood(&[(x, m)]);
        prop_assert!(ll.is_finite(), "{ll}");
    }
}
