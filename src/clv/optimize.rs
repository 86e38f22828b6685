//! A small BFGS minimiser with a strong-Wolfe line search (Nocedal & Wright,
//! *Numerical Optimization*, 2nd ed., algorithms 6.1, 3.5 and 3.6), for the
//! handful of parameters the models have.
//!
//! The models minimise the mean negative log-likelihood over the logs of
//! their parameters, so the problem is unconstrained and well scaled; the
//! objective returns +∞ (or NaN) outside the region it accepts and the line
//! search backs off from there.

/// Tuning of [`minimize`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Most BFGS iterations.
    pub max_iterations: usize,
    /// Converged when every gradient component is at most this in size.
    pub gradient_tolerance: f64,
    /// Longest first trial step (max-norm) of a line search, so one bad
    /// quasi-Newton direction cannot jump e^10-fold in a parameter.
    pub max_step: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_iterations: 200,
            gradient_tolerance: 1e-9,
            max_step: 2.0,
        }
    }
}

/// Where [`minimize`] stopped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome<const N: usize> {
    pub x: [f64; N],
    pub f: f64,
    pub iterations: usize,
    /// Objective evaluations, line searches included (read by tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub evaluations: usize,
    pub converged: bool,
}

/// When rounding noise stops progress, a gradient this many times the
/// tolerance still counts as converged.
const NOISE_FLOOR_FACTOR: f64 = 100.0;

const C1: f64 = 1e-4;
const C2: f64 = 0.9;
const LINE_SEARCH_STEPS: usize = 40;

fn dot<const N: usize>(a: &[f64; N], b: &[f64; N]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs<const N: usize>(a: &[f64; N]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

fn identity<const N: usize>() -> [[f64; N]; N] {
    let mut h = [[0.0; N]; N];
    for (i, row) in h.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    h
}

/// One evaluated point.
#[derive(Clone, Copy)]
struct Point<const N: usize> {
    step: f64,
    f: f64,
    g: [f64; N],
    /// Directional derivative g·d.
    slope: f64,
}

/// Minimises `objective`, which returns f(x) and writes ∇f(x) into its
/// second argument. A non-finite value means "outside the domain".
pub(crate) fn minimize<const N: usize, F>(
    mut objective: F,
    x0: [f64; N],
    opts: &Options,
) -> Option<Outcome<N>>
where
    F: FnMut(&[f64; N], &mut [f64; N]) -> f64,
{
    let mut evaluations = 0usize;
    let mut eval = |x: &[f64; N], g: &mut [f64; N]| {
        evaluations += 1;
        let f = objective(x, g);
        if f.is_finite() && g.iter().all(|v| v.is_finite()) {
            f
        } else {
            f64::INFINITY
        }
    };
    let mut x = x0;
    let mut g = [0.0; N];
    let mut f = eval(&x, &mut g);
    if !f.is_finite() {
        return None;
    }
    let mut h = identity::<N>();
    let mut fresh = true; // h is the (unscaled) identity
    let mut converged = false;
    let mut iterations = 0;
    while iterations < opts.max_iterations {
        if max_abs(&g) <= opts.gradient_tolerance {
            converged = true;
            break;
        }
        iterations += 1;
        let mut d = [0.0; N];
        for i in 0..N {
            d[i] = -dot(&h[i], &g);
        }
        if dot(&d, &g) >= 0.0 {
            h = identity();
            fresh = true;
            d = g.map(|v| -v);
        }
        let first = (opts.max_step / max_abs(&d)).min(1.0);
        let Some(p) = line_search(&mut eval, &x, f, &g, &d, first) else {
            if fresh {
                // Not even steepest descent finds a lower value: rounding
                // noise in f is as large as the decrease. That is a
                // minimum if the gradient is nearly zero.
                converged = max_abs(&g) <= NOISE_FLOOR_FACTOR * opts.gradient_tolerance;
                break;
            }
            // A stale curvature model can point badly: start over from
            // steepest descent once before giving up.
            h = identity();
            fresh = true;
            continue;
        };
        let mut s = [0.0; N];
        let mut y = [0.0; N];
        let mut x_new = x;
        for i in 0..N {
            x_new[i] = x[i] + p.step * d[i];
            s[i] = x_new[i] - x[i];
            y[i] = p.g[i] - g[i];
        }
        let f_old = f;
        x = x_new;
        f = p.f;
        g = p.g;
        let sy = dot(&s, &y);
        let yy = dot(&y, &y);
        if sy > 1e-12 * dot(&s, &s).sqrt() * yy.sqrt() && yy > 0.0 {
            if fresh {
                // Nocedal & Wright (6.20): scale the first inverse Hessian.
                let scale = sy / yy;
                for (i, row) in h.iter_mut().enumerate() {
                    row[i] = scale;
                }
                fresh = false;
            }
            bfgs_update(&mut h, &s, &y, sy);
        }
        // No measurable progress: we are at the floating-point floor.
        if (f_old - f).abs() <= 4.0 * f64::EPSILON * f.abs().max(1.0) && max_abs(&s) <= 1e-10 {
            converged = max_abs(&g) <= NOISE_FLOOR_FACTOR * opts.gradient_tolerance;
            break;
        }
    }
    if !converged && max_abs(&g) <= opts.gradient_tolerance {
        converged = true;
    }
    Some(Outcome {
        x,
        f,
        iterations,
        evaluations,
        converged,
    })
}

/// Ranks two outcomes for a multi-start search: an acceptable one (the
/// caller's judgement, e.g. parameters inside their limits) first; then,
/// when the values agree to rounding noise, a converged one; then the lower
/// value.
pub(crate) fn better<const N: usize>(
    a: &Outcome<N>,
    a_ok: bool,
    b: &Outcome<N>,
    b_ok: bool,
) -> bool {
    if a_ok != b_ok {
        return a_ok;
    }
    let noise = 1e-12 * a.f.abs().max(b.f.abs()).max(1.0);
    if (a.f - b.f).abs() <= noise && a.converged != b.converged {
        return a.converged;
    }
    a.f < b.f
}

/// H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1 / (yᵀ s).
fn bfgs_update<const N: usize>(h: &mut [[f64; N]; N], s: &[f64; N], y: &[f64; N], sy: f64) {
    let rho = 1.0 / sy;
    let mut hy = [0.0; N];
    for i in 0..N {
        hy[i] = dot(&h[i], y);
    }
    let yhy = dot(y, &hy);
    let k = rho * rho * yhy + rho;
    for i in 0..N {
        for j in 0..N {
            h[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j]) + k * s[i] * s[j];
        }
    }
}

/// A step length along `d` satisfying the strong Wolfe conditions, or the
/// best sufficient-decrease point found, or None.
fn line_search<const N: usize, E>(
    eval: &mut E,
    x: &[f64; N],
    f0: f64,
    g0: &[f64; N],
    d: &[f64; N],
    first: f64,
) -> Option<Point<N>>
where
    E: FnMut(&[f64; N], &mut [f64; N]) -> f64,
{
    let slope0 = dot(g0, d);
    if slope0 >= 0.0 || !slope0.is_finite() {
        return None;
    }
    let mut at = |step: f64| {
        let mut xt = *x;
        for i in 0..N {
            xt[i] += step * d[i];
        }
        let mut g = [0.0; N];
        let f = eval(&xt, &mut g);
        Point {
            step,
            f,
            g,
            slope: if f.is_finite() { dot(&g, d) } else { f64::NAN },
        }
    };
    let armijo = |p: &Point<N>| p.f.is_finite() && p.f <= f0 + C1 * p.step * slope0;
    let curvature = |p: &Point<N>| p.slope.abs() <= -C2 * slope0;
    let origin = Point {
        step: 0.0,
        f: f0,
        g: *g0,
        slope: slope0,
    };
    let mut prev = origin;
    let mut step = first;
    let max_step = first * 1e3;
    for i in 0..LINE_SEARCH_STEPS {
        let p = at(step);
        if !armijo(&p) || (i > 0 && p.f >= prev.f) {
            return zoom(&mut at, prev, p, f0, slope0);
        }
        if curvature(&p) {
            return Some(p);
        }
        if p.slope >= 0.0 {
            return zoom(&mut at, p, prev, f0, slope0);
        }
        prev = p;
        if step >= max_step {
            return Some(p);
        }
        step = (step * 2.0).min(max_step);
    }
    (prev.step > 0.0).then_some(prev)
}

/// Algorithm 3.6: `lo` satisfies sufficient decrease and has the lowest f
/// so far; the minimiser along the line lies between `lo` and `hi`.
fn zoom<const N: usize, A>(
    at: &mut A,
    mut lo: Point<N>,
    mut hi: Point<N>,
    f0: f64,
    slope0: f64,
) -> Option<Point<N>>
where
    A: FnMut(f64) -> Point<N>,
{
    for _ in 0..LINE_SEARCH_STEPS {
        let (a, b) = (lo.step, hi.step);
        let width = b - a;
        if width.abs() <= 1e-16 * a.abs().max(b.abs()) {
            break;
        }
        // Minimiser of the quadratic through f(lo), f'(lo), f(hi) when hi
        // is finite; safeguarded to the middle 80% of the interval.
        let mut t = a + 0.5 * width;
        if hi.f.is_finite() {
            let denom = 2.0 * (hi.f - lo.f - lo.slope * width);
            if denom > 0.0 {
                let q = a - lo.slope * width * width / denom;
                if q.is_finite() {
                    t = q;
                }
            }
        }
        let (l, u) = if a < b { (a, b) } else { (b, a) };
        t = t.clamp(l + 0.1 * (u - l), u - 0.1 * (u - l));
        let p = at(t);
        let sufficient = p.f.is_finite() && p.f <= f0 + C1 * p.step * slope0;
        if !sufficient || p.f >= lo.f {
            hi = p;
        } else {
            if p.slope.abs() <= -C2 * slope0 {
                return Some(p);
            }
            if p.slope * (hi.step - lo.step) >= 0.0 {
                hi = lo;
            }
            lo = p;
        }
    }
    (lo.step > 0.0 && lo.f < f0).then_some(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64; 2], g: &mut [f64; 2]) -> f64 {
        let (a, b) = (x[0], x[1]);
        g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
        g[1] = 200.0 * (b - a * a);
        (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let opts = Options {
            max_step: 10.0,
            ..Options::default()
        };
        let out = minimize(rosenbrock, [-1.2, 1.0], &opts).expect("finite start");
        assert!(out.converged, "{out:?}");
        assert!(
            (out.x[0] - 1.0).abs() < 1e-6 && (out.x[1] - 1.0).abs() < 1e-6,
            "{out:?}"
        );
        // BFGS needs a few dozen iterations here; Nelder–Mead needs hundreds.
        assert!(out.iterations < 100 && out.evaluations < 200, "{out:?}");
    }

    #[test]
    fn minimises_an_ill_conditioned_quadratic_exactly() {
        let scales = [1.0, 1e3, 1e-2, 50.0];
        let centre = [3.0, -1.0, 10.0, 0.5];
        let f = |x: &[f64; 4], g: &mut [f64; 4]| {
            let mut v = 0.0;
            for i in 0..4 {
                let d = x[i] - centre[i];
                g[i] = scales[i] * d;
                v += 0.5 * scales[i] * d * d;
            }
            v
        };
        let opts = Options {
            max_step: 100.0,
            ..Options::default()
        };
        let out = minimize(f, [0.0; 4], &opts).expect("finite start");
        assert!(out.converged);
        for (got, want) in out.x.iter().zip(centre) {
            assert!((got - want).abs() < 1e-8, "{out:?}");
        }
    }

    #[test]
    fn backs_off_from_a_domain_wall() {
        // f = x − ln(x) has its minimum at 1 and is undefined for x ≤ 0; a
        // long first step lands outside and must be pulled back.
        let f = |x: &[f64; 1], g: &mut [f64; 1]| {
            if x[0] <= 0.0 {
                return f64::NAN;
            }
            g[0] = 1.0 - 1.0 / x[0];
            x[0] - x[0].ln()
        };
        let opts = Options {
            max_step: 50.0,
            ..Options::default()
        };
        let out = minimize(f, [20.0], &opts).expect("finite start");
        assert!(out.converged && (out.x[0] - 1.0).abs() < 1e-8, "{out:?}");
    }

    #[test]
    fn a_non_finite_start_is_none() {
        let f = |_: &[f64; 1], _: &mut [f64; 1]| f64::NAN;
        assert!(minimize(f, [0.0], &Options::default()).is_none());
    }

    #[test]
    fn an_unbounded_objective_stops_unconverged() {
        let f = |x: &[f64; 1], g: &mut [f64; 1]| {
            g[0] = 1.0;
            x[0]
        };
        let opts = Options {
            max_iterations: 30,
            ..Options::default()
        };
        let out = minimize(f, [0.0], &opts).expect("finite start");
        assert!(!out.converged);
        assert!(out.x[0] < -10.0);
    }
}
