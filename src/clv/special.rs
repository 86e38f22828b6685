//! Special functions the models need: ln Γ, digamma and the Gaussian
//! hypergeometric function ₂F₁, in plain `f64` with no dependencies.
//!
//! Method for ln Γ and ψ: shift the argument up with the recurrence
//! (Γ(x+1) = x Γ(x), ψ(x+1) = ψ(x) + 1/x) until it is at least 10, then use
//! the asymptotic (Stirling / de Moivre) series, whose first neglected term
//! there is below 1e-16 of the result. This is accurate to a few ulps
//! relative everywhere except next to the zeros of ln Γ at 1 and 2, where
//! the error is a few 1e-16 absolute.

/// Arguments below this are shifted up by the recurrence first.
const SHIFT_TO: f64 = 10.0;

/// ln Γ(x) for x > 0. NaN for x ≤ 0 or NaN, +∞ for +∞.
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let mut z = x;
    // Γ(x) = Γ(x + n) / (x (x+1) ... (x+n-1)); at most 10 factors, each
    // below 11, so the product never overflows and never underflows to 0
    // for any positive double (x ≥ 5e-324 gives a product ≥ 5e-324).
    let mut prod = 1.0;
    while z < SHIFT_TO {
        prod *= z;
        z += 1.0;
    }
    stirling_ln_gamma(z) - prod.ln()
}

/// The asymptotic series of ln Γ(z) for z ≥ 10.
fn stirling_ln_gamma(z: f64) -> f64 {
    stirling_main(z) + stirling_series(z)
}

/// 0.5 * ln(2π)
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// (z − ½) ln z − z + ½ ln 2π: Stirling's formula without its series.
fn stirling_main(z: f64) -> f64 {
    (z - 0.5) * z.ln() - z + HALF_LN_2PI
}

/// δ(x) = ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π], the remainder of
/// Stirling's formula (≈ 1/(12x) for large x), for x > 0.
pub(crate) fn ln_gamma_remainder(x: f64) -> f64 {
    if x >= SHIFT_TO {
        stirling_series(x)
    } else {
        ln_gamma(x) - stirling_main(x)
    }
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a+b), written so that huge a and
/// b lose nothing to cancellation:
/// (a−½) ln μ + (b−½) ln(1−μ) − ½ ln(a+b) + ½ ln 2π + δ(a) + δ(b) − δ(a+b)
/// with μ = a/(a+b) and δ the Stirling remainder.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    if !(a > 0.0 && b > 0.0) {
        return f64::NAN;
    }
    let (ln_mu, ln_nu) = (-(b / a).ln_1p(), -(a / b).ln_1p());
    (a - 0.5) * ln_mu + (b - 0.5) * ln_nu - 0.5 * (a + b).ln()
        + HALF_LN_2PI
        + ln_gamma_remainder(a)
        + ln_gamma_remainder(b)
        - ln_gamma_remainder(a + b)
}

/// Σ B₂ₖ / (2k(2k−1) z^(2k−1)), k = 1..7, for z ≥ 10.
fn stirling_series(z: f64) -> f64 {
    // B_{2k} / (2k (2k-1)) for k = 1..7.
    const C: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
    ];
    let w = 1.0 / (z * z);
    let mut series = C[6];
    for c in C[..6].iter().rev() {
        series = series * w + c;
    }
    series / z
}

/// The digamma function ψ(x) = d/dx ln Γ(x), for x > 0. NaN for x ≤ 0.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let mut z = x;
    let mut acc = 0.0;
    while z < SHIFT_TO {
        acc -= 1.0 / z;
        z += 1.0;
    }
    // B_{2k} / (2k) for k = 1..7.
    const C: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 120.0,
        1.0 / 252.0,
        -1.0 / 240.0,
        1.0 / 132.0,
        -691.0 / 32_760.0,
        1.0 / 12.0,
    ];
    let w = 1.0 / (z * z);
    let mut series = C[6];
    for c in C[..6].iter().rev() {
        series = series * w + c;
    }
    acc + z.ln() - 0.5 / z - series * w
}

/// The most terms any ₂F₁ series here may take before giving up (NaN).
pub(crate) const MAX_SERIES_TERMS: usize = 2_000_000;

/// The Gaussian hypergeometric function ₂F₁(a, b; c; z) by its power series
/// Σ (a)ₖ(b)ₖ / ((c)ₖ k!) zᵏ, for |z| < 1 and c not a non-positive integer.
///
/// Convergence is geometric with ratio |z|, so arguments close to 1 take
/// many terms (about 37 / (1 − |z|)); NaN is returned when the series does
/// not settle within `MAX_SERIES_TERMS` (2,000,000) or the arguments are out of range.
/// The models use a transformed series instead (see `bgnbd`), which stays
/// well scaled for large purchase counts.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) || z.abs() >= 1.0 {
        return f64::NAN;
    }
    if c <= 0.0 && c == c.floor() {
        return f64::NAN;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 0..MAX_SERIES_TERMS {
        let k = k as f64;
        let ratio = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        term *= ratio;
        sum += term;
        if term == 0.0 {
            return sum;
        }
        if !sum.is_finite() {
            return f64::NAN;
        }
        // Past k = |a| + |b| + |c| the ratio of consecutive terms moves
        // monotonically towards |z| < 1, so every later ratio is at most
        // q = max(|ratio|, |z|) and the tail at most |term|·q/(1−q): stop
        // once that cannot change the sum.
        let q = ratio.abs().max(z.abs());
        if k > a.abs() + b.abs() + c.abs()
            && q < 1.0
            && term.abs() * q <= 0.25 * f64::EPSILON * sum.abs() * (1.0 - q)
        {
            return sum;
        }
    }
    f64::NAN
}

/// ln Γ(x + n) − ln Γ(x) for x > 0 and n ≥ 0, i.e. the log of the rising
/// factorial. Small integer `n` uses the product directly (exact to a few
/// ulps even where the two ln Γ values are large and nearly equal).
pub fn ln_rising(x: f64, n: f64) -> f64 {
    if n == 0.0 {
        return 0.0;
    }
    if n == n.floor() && n <= 8.0 {
        let mut prod = 1.0;
        let mut k = 0.0;
        while k < n {
            prod *= x + k;
            k += 1.0;
        }
        if prod.is_finite() && prod > 0.0 {
            return prod.ln();
        }
    }
    ln_gamma(x + n) - ln_gamma(x)
}

#[cfg(test)]
// The reference values keep all the digits mpmath printed.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    // Reference values from mpmath at 40 digits.
    const LN_GAMMA: [(f64, f64); 11] = [
        (1e-300, 690.775_527_898_213_705_205_397_4),
        (1e-8, 18.420_680_738_180_208_905_375_31),
        (0.1, 2.252_712_651_734_205_959_869_702),
        (1.5, -0.120_782_237_635_245_222_345_518_4),
        (2.5, 0.284_682_870_472_919_159_632_494_7),
        (3.7, 1.428_072_326_665_387_921_872_381),
        (10.0, 12.801_827_480_081_469_611_207_72),
        (100.0, 359.134_205_369_575_398_776_044),
        (1234.5678, 7_551.033_504_440_955_606_383_63),
        (1e6, 12_815_504.569_147_611_659_976_97),
        (1e15, 33_538_776_394_910_668.909_820_21),
    ];

    #[test]
    fn ln_gamma_known_values() {
        // Γ(1/2) = √π.
        assert!(rel(ln_gamma(0.5).exp(), std::f64::consts::PI.sqrt()) < 1e-14);
        assert!(rel(ln_gamma(0.5), 0.572_364_942_924_700_087_071_713_7) < 1e-14);
        for (x, want) in LN_GAMMA {
            let got = ln_gamma(x);
            assert!(rel(got, want) < 1e-13, "lnΓ({x}) = {got}, want {want}");
        }
        // Factorials: Γ(n+1) = n!, exactly representable up to 22!.
        let mut fact = 1.0f64;
        for n in 1..=22 {
            fact *= n as f64;
            let got = ln_gamma(n as f64 + 1.0);
            assert!(
                (got - fact.ln()).abs() <= 1e-14 * fact.ln().max(1.0),
                "lnΓ({})",
                n + 1
            );
        }
        // The zeros at 1 and 2: absolute accuracy.
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!(ln_gamma(2.0).abs() < 1e-14);
    }

    #[test]
    fn ln_gamma_out_of_domain_is_nan_not_panic() {
        assert!(ln_gamma(0.0).is_nan());
        assert!(ln_gamma(-1.5).is_nan());
        assert!(ln_gamma(f64::NAN).is_nan());
        assert_eq!(ln_gamma(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn ln_gamma_recurrence_holds_across_the_shift_boundary() {
        // ln Γ(x+1) − ln Γ(x) = ln x, including where one side is shifted
        // and the other is not (x just below 10).
        for &x in &[0.3, 1.7, 8.9, 9.5, 9.999_999, 10.0, 10.5, 55.5] {
            let d = ln_gamma(x + 1.0) - ln_gamma(x);
            assert!((d - f64::ln(x)).abs() < 1e-13, "x = {x}: {d}");
        }
    }

    #[test]
    fn digamma_known_values() {
        let table = [
            (1e-8, -100_000_000.577_215_648_452_192_3),
            (0.1, -10.423_754_940_411_076_795_168_22),
            (0.5, -1.963_510_026_021_423_479_440_976),
            (1.0, -0.577_215_664_901_532_860_606_512_1),
            (1.5, 0.036_489_973_978_576_520_559_023_67),
            (3.7, 1.167_153_539_361_511_385_873_864),
            (10.0, 2.251_752_589_066_721_107_647_456),
            (100.0, 4.600_161_852_738_087_400_198_606),
            (1e6, 13.815_510_057_964_190_770_774_62),
        ];
        for (x, want) in table {
            let got = digamma(x);
            assert!(rel(got, want) < 1e-13, "ψ({x}) = {got}, want {want}");
        }
        // ψ is the derivative of ln Γ (central difference).
        for &x in &[0.7, 3.3, 42.0] {
            let h = 1e-5 * x;
            let fd = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!((fd - digamma(x)).abs() < 1e-8, "x = {x}");
        }
        assert!(digamma(0.0).is_nan());
    }

    #[test]
    fn hyp2f1_known_values() {
        // mpmath references.
        assert!(
            rel(
                hyp2f1(2.243, 4.426, 4.219, 0.3),
                2.321_072_475_782_529_870_095_552
            ) < 1e-13
        );
        assert!(
            rel(
                hyp2f1(1.5, 2.5, 4.25, 0.9),
                4.671_537_992_516_232_637_314_75
            ) < 1e-12
        );
        // A terminating series: a = −1/2 is not a non-positive integer, but
        // b = 3 with c = 2 gives a closed form checked by mpmath (−2.375).
        assert!(rel(hyp2f1(-0.5, 3.0, 2.0, 0.99), -2.375) < 1e-10);
        // Closed forms: ₂F₁(1,1;2;z) = −ln(1−z)/z and ₂F₁(a,b;b;z) = (1−z)^−a.
        for &z in &[-0.9, -0.2, 0.1, 0.5, 0.95] {
            let want = -f64::ln_1p(-z) / z;
            assert!(rel(hyp2f1(1.0, 1.0, 2.0, z), want) < 1e-12, "z = {z}");
            assert!(rel(hyp2f1(0.7, 3.1, 3.1, z), (1.0 - z).powf(-0.7)) < 1e-12);
        }
        assert_eq!(hyp2f1(1.0, 2.0, 3.0, 0.0), 1.0);
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_nan());
        assert!(hyp2f1(1.0, 1.0, -2.0, 0.5).is_nan());
    }

    #[test]
    fn ln_beta_is_accurate_for_small_and_huge_shapes() {
        // Small and moderate: the plain ln Γ sum is accurate there.
        for &(a, b) in &[(0.3, 0.7), (0.793, 2.426), (5.0, 1.0), (12.5, 40.0)] {
            let want = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
            assert!(
                (ln_beta(a, b) - want).abs() < 1e-13 * want.abs().max(1.0),
                "({a}, {b})"
            );
        }
        // B(1, b) = 1/b exactly, however large b is (the ln Γ sum would
        // lose ~1e-5 to cancellation at b = 1e10).
        for &b in &[1e3, 1e10, 1e200] {
            assert!(
                (ln_beta(1.0, b) + f64::ln(b)).abs() < 1e-13 * f64::ln(b),
                "b = {b}"
            );
        }
        // B(a, a) for a = 1e8 (mpmath): −138629444.05681730912…
        assert!(rel(ln_beta(1e8, 1e8), -138_629_444.056_817_309_1) < 1e-15);
        assert!(ln_beta(0.0, 1.0).is_nan());
    }

    #[test]
    fn ln_rising_matches_ln_gamma_difference() {
        for &x in &[1e-3, 0.243, 2.5, 300.0] {
            for &n in &[0.0, 1.0, 3.0, 8.0, 9.0, 250.0] {
                let want = ln_gamma(x + n) - ln_gamma(x);
                let got = ln_rising(x, n);
                assert!(
                    (got - want).abs() < 1e-12 * want.abs().max(1.0),
                    "x={x} n={n}"
                );
            }
        }
    }
}
