//! The definitions of DESIGN.md §5: percentile breakpoints, R/F/M scores,
//! the named RFM segments, lifecycle stages and value tiers. Pure functions
//! of one customer's figures and the population's breakpoints.

use serde::{Deserialize, Serialize};

/// Every threshold of §5, with its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `new`: the first order is at most this many days old.
    pub new_days: i64,
    /// `active`: the last order is at most this many days old.
    pub active_days: i64,
    /// `at_risk`: the last order is at most this many days old (and more
    /// than `active_days`); older is `churned`.
    pub at_risk_days: i64,
    /// `high` value tier: this top share of the customers with orders.
    pub high_share: f64,
    /// `mid` value tier: the next share.
    pub mid_share: f64,
    /// Churn warning: P(alive) below this marks an active customer.
    pub churn_p_alive: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            new_days: 30,
            active_days: 90,
            at_risk_days: 180,
            high_share: 0.2,
            mid_share: 0.3,
            churn_p_alive: 0.3,
        }
    }
}

impl Settings {
    /// DESIGN.md §5's defaults, overridden by the `[segments]` table of
    /// `$XDG_CONFIG_HOME/rolo/config.toml` when that file exists. The error
    /// names the file and the problem.
    pub fn load() -> Result<Settings, String> {
        let Some(path) = directories::ProjectDirs::from("", "", "rolo")
            .map(|d| d.config_dir().join("config.toml"))
            .filter(|p| p.exists())
        else {
            return Ok(Settings::default());
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Settings::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The settings of a config file's text (its `[segments]` table; other
    /// tables are left to their owners).
    pub fn from_toml(text: &str) -> Result<Settings, String> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            segments: Settings,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        match file.segments.problem() {
            Some(p) => Err(p),
            None => Ok(file.segments),
        }
    }

    /// Why these settings cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        if !(0 <= self.new_days && 0 <= self.active_days && self.active_days <= self.at_risk_days) {
            return Some(
                "segments: need 0 <= new_days, 0 <= active_days <= at_risk_days".to_owned(),
            );
        }
        let shares_ok = (0.0..=1.0).contains(&self.high_share)
            && (0.0..=1.0).contains(&self.mid_share)
            && self.high_share + self.mid_share <= 1.0;
        if !shares_ok {
            return Some(
                "segments: high_share and mid_share must be in 0..1 and sum to at most 1"
                    .to_owned(),
            );
        }
        if !(0.0..=1.0).contains(&self.churn_p_alive) {
            return Some("segments: churn_p_alive must be in 0..1".to_owned());
        }
        None
    }
}

/// The `q`-quantile (0..=1) of ascending `sorted` values with linear
/// interpolation between the two nearest ranks: numpy's default method.
/// `None` for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    let (a, b) = (sorted[lo], sorted[hi]);
    let t = h - lo as f64;
    // numpy's _lerp: from the nearer end, so t = 0 and t = 1 are exact.
    Some(if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    })
}

/// The 20th, 40th, 60th and 80th percentiles of `sorted`.
pub fn quintile_breaks(sorted: &[f64]) -> [f64; 4] {
    [0.2, 0.4, 0.6, 0.8].map(|q| percentile(sorted, q).unwrap_or(0.0))
}

/// F and M score: 1 + the number of breakpoints `v` is strictly greater than.
pub fn score_up(v: f64, breaks: &[f64; 4]) -> u8 {
    1 + breaks.iter().filter(|b| v > **b).count() as u8
}

/// R score: 5 - the number of breakpoints the recency is strictly greater
/// than (recent is good).
pub fn score_down(recency: f64, breaks: &[f64; 4]) -> u8 {
    5 - breaks.iter().filter(|b| recency > **b).count() as u8
}

/// The named RFM segments, in the order summaries list them (best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RfmSegment {
    Champions,
    LoyalCustomers,
    PotentialLoyalists,
    NewCustomers,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CantLoseThem,
    Hibernating,
}

impl RfmSegment {
    pub const ALL: [RfmSegment; 10] = [
        RfmSegment::Champions,
        RfmSegment::LoyalCustomers,
        RfmSegment::PotentialLoyalists,
        RfmSegment::NewCustomers,
        RfmSegment::Promising,
        RfmSegment::NeedAttention,
        RfmSegment::AboutToSleep,
        RfmSegment::AtRisk,
        RfmSegment::CantLoseThem,
        RfmSegment::Hibernating,
    ];

    /// The segment of an R and F score (1..=5 each), from the table of §5.
    pub fn of(r: u8, f: u8) -> RfmSegment {
        use RfmSegment::*;
        match (r, f) {
            (5, 1) => NewCustomers,
            (5, 2 | 3) | (4, 2 | 3) => PotentialLoyalists,
            (5, _) => Champions,
            (4, 1) => Promising,
            (4, _) | (3, 4 | 5) => LoyalCustomers,
            (3, 3) => NeedAttention,
            (3, _) => AboutToSleep,
            (_, 1 | 2) => Hibernating,
            (_, 3 | 4) => AtRisk,
            _ => CantLoseThem,
        }
    }

    /// The display name ("Can't Lose Them").
    pub fn name(self) -> &'static str {
        match self {
            RfmSegment::Champions => "Champions",
            RfmSegment::LoyalCustomers => "Loyal Customers",
            RfmSegment::PotentialLoyalists => "Potential Loyalists",
            RfmSegment::NewCustomers => "New Customers",
            RfmSegment::Promising => "Promising",
            RfmSegment::NeedAttention => "Need Attention",
            RfmSegment::AboutToSleep => "About to Sleep",
            RfmSegment::AtRisk => "At Risk",
            RfmSegment::CantLoseThem => "Can't Lose Them",
            RfmSegment::Hibernating => "Hibernating",
        }
    }

    /// The name written in queries (`cant_lose_them`).
    pub fn slug(self) -> &'static str {
        match self {
            RfmSegment::Champions => "champions",
            RfmSegment::LoyalCustomers => "loyal_customers",
            RfmSegment::PotentialLoyalists => "potential_loyalists",
            RfmSegment::NewCustomers => "new_customers",
            RfmSegment::Promising => "promising",
            RfmSegment::NeedAttention => "need_attention",
            RfmSegment::AboutToSleep => "about_to_sleep",
            RfmSegment::AtRisk => "at_risk",
            RfmSegment::CantLoseThem => "cant_lose_them",
            RfmSegment::Hibernating => "hibernating",
        }
    }
}

/// Lifecycle stages by order dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lifecycle {
    New,
    Active,
    AtRisk,
    Churned,
    Prospect,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 5] = [
        Lifecycle::New,
        Lifecycle::Active,
        Lifecycle::AtRisk,
        Lifecycle::Churned,
        Lifecycle::Prospect,
    ];

    /// The stage of a customer whose first order is `since_first` days and
    /// last order `recency` days before the as-of date (`None`: no orders).
    /// A first order within `new_days` makes `new` before anything else.
    pub fn of(since_first: Option<i64>, recency: Option<i64>, s: &Settings) -> Lifecycle {
        match (since_first, recency) {
            (Some(first), _) if first <= s.new_days => Lifecycle::New,
            (_, Some(r)) if r <= s.active_days => Lifecycle::Active,
            (_, Some(r)) if r <= s.at_risk_days => Lifecycle::AtRisk,
            (_, Some(_)) => Lifecycle::Churned,
            _ => Lifecycle::Prospect,
        }
    }

    /// The name written in queries and summaries.
    pub fn slug(self) -> &'static str {
        match self {
            Lifecycle::New => "new",
            Lifecycle::Active => "active",
            Lifecycle::AtRisk => "at_risk",
            Lifecycle::Churned => "churned",
            Lifecycle::Prospect => "prospect",
        }
    }
}

/// Value tiers by total spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ValueTier {
    High,
    Mid,
    Low,
    None,
}

impl ValueTier {
    pub const ALL: [ValueTier; 4] = [
        ValueTier::High,
        ValueTier::Mid,
        ValueTier::Low,
        ValueTier::None,
    ];

    /// The tier of `spend` given the spend breakpoints of the customers with
    /// orders: `high` above `high_break`, `mid` above `mid_break`. No orders
    /// or no positive spend is `none`.
    pub fn of(spend: Option<f64>, high_break: f64, mid_break: f64) -> ValueTier {
        match spend {
            Some(v) if v > 0.0 && v > high_break => ValueTier::High,
            Some(v) if v > 0.0 && v > mid_break => ValueTier::Mid,
            Some(v) if v > 0.0 => ValueTier::Low,
            _ => ValueTier::None,
        }
    }

    /// The name written in queries and summaries.
    pub fn slug(self) -> &'static str {
        match self {
            ValueTier::High => "high",
            ValueTier::Mid => "mid",
            ValueTier::Low => "low",
            ValueTier::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_numpys_linear() {
        // numpy.percentile([1, 2, 3, 4], [20, 40, 60, 80]) = 1.6 2.2 2.8 3.4
        let v = [1.0, 2.0, 3.0, 4.0];
        let got = quintile_breaks(&v);
        for (g, w) in got.iter().zip([1.6, 2.2, 2.8, 3.4]) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert_eq!(percentile(&[7.0], 0.4), Some(7.0));
        assert_eq!(percentile(&[], 0.4), None);
        // Exact at whole ranks: numpy.percentile([10, 20, 30, 40, 50, 60], 40) = 30
        assert_eq!(
            percentile(&[10.0, 20.0, 30.0, 40.0, 50.0, 60.0], 0.4),
            Some(30.0)
        );
    }

    #[test]
    fn equal_values_share_a_score_and_ties_sit_low() {
        let breaks = quintile_breaks(&[1.0, 1.0, 1.0, 1.0, 2.0]);
        // Every breakpoint but the 80th is 1: a value of 1 is greater than none.
        assert_eq!(score_up(1.0, &breaks), 1);
        assert_eq!(score_up(2.0, &breaks), 5);
        assert_eq!(score_down(1.0, &breaks), 5);
        assert_eq!(score_down(2.0, &breaks), 1);
    }

    #[test]
    fn the_rfm_table_of_the_design() {
        let want = [
            // R = 5
            [
                "New Customers",
                "Potential Loyalists",
                "Potential Loyalists",
                "Champions",
                "Champions",
            ],
            [
                "Promising",
                "Potential Loyalists",
                "Potential Loyalists",
                "Loyal Customers",
                "Loyal Customers",
            ],
            [
                "About to Sleep",
                "About to Sleep",
                "Need Attention",
                "Loyal Customers",
                "Loyal Customers",
            ],
            [
                "Hibernating",
                "Hibernating",
                "At Risk",
                "At Risk",
                "Can't Lose Them",
            ],
            [
                "Hibernating",
                "Hibernating",
                "At Risk",
                "At Risk",
                "Can't Lose Them",
            ],
        ];
        for (row, r) in want.iter().zip([5u8, 4, 3, 2, 1]) {
            for (name, f) in row.iter().zip(1u8..=5) {
                assert_eq!(RfmSegment::of(r, f).name(), *name, "R{r} F{f}");
            }
        }
    }

    #[test]
    fn lifecycle_boundaries() {
        let s = Settings::default();
        assert_eq!(Lifecycle::of(None, None, &s), Lifecycle::Prospect);
        assert_eq!(Lifecycle::of(Some(30), Some(30), &s), Lifecycle::New);
        assert_eq!(Lifecycle::of(Some(31), Some(0), &s), Lifecycle::Active);
        assert_eq!(Lifecycle::of(Some(400), Some(90), &s), Lifecycle::Active);
        assert_eq!(Lifecycle::of(Some(400), Some(91), &s), Lifecycle::AtRisk);
        assert_eq!(Lifecycle::of(Some(400), Some(180), &s), Lifecycle::AtRisk);
        assert_eq!(Lifecycle::of(Some(400), Some(181), &s), Lifecycle::Churned);
    }

    #[test]
    fn value_tiers() {
        assert_eq!(ValueTier::of(None, 10.0, 5.0), ValueTier::None);
        assert_eq!(ValueTier::of(Some(0.0), -1.0, -2.0), ValueTier::None);
        assert_eq!(ValueTier::of(Some(11.0), 10.0, 5.0), ValueTier::High);
        assert_eq!(ValueTier::of(Some(10.0), 10.0, 5.0), ValueTier::Mid);
        assert_eq!(ValueTier::of(Some(5.0), 10.0, 5.0), ValueTier::Low);
    }

    #[test]
    fn settings_from_a_config_file() {
        let s = Settings::from_toml("[keys]\nx = 1\n[segments]\nactive_days = 60\n");
        assert_eq!(s.map(|s| s.active_days), Ok(60));
        assert_eq!(Settings::from_toml("").ok(), Some(Settings::default()));
        assert!(Settings::from_toml("[segments]\nactiv_days = 60\n").is_err());
        assert!(Settings::from_toml("[segments]\nactive_days = 500\n").is_err());
    }

    #[test]
    fn settings_problems() {
        assert_eq!(Settings::default().problem(), None);
        let bad = Settings {
            high_share: 0.8,
            mid_share: 0.3,
            ..Settings::default()
        };
        assert!(bad.problem().is_some());
    }
}
