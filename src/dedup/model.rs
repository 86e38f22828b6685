//! The Fellegi-Sunter model: for every field and level, m = P(level | the
//! two records are one person) and u = P(level | they are not); a pair's
//! match weight is the prior's log-odds plus, per field, log2(m/u) (its
//! contribution in bits), and its score is the probability 1/(1+2^-weight).
//!
//! Without labels the parameters come from the data, as in Splink:
//! - **u** from pairs drawn at random (seeded), which are almost all
//!   non-matches; the u of an exact agreement is computed exactly from the
//!   value counts (the chance that two random records share a value), so
//!   rare agreements are not left to a sample that never sees them.
//! - **m** and the match rate among candidates by expectation-maximisation
//!   over the candidate pairs' patterns (a latent two-class model), from
//!   priors that say agreement is likelier among matches.
//! - The **prior** is the expected number of matches among the candidates
//!   over all pairs: the chance that two random customers are one person.
//!   The score of a pair therefore does not depend on which other pairs
//!   were candidates, which is what lets an incremental scan give the same
//!   scores as a full one.
//! - **Term frequencies**: an exact agreement on a name, an email or a
//!   company uses u = the share of records with that very value (Splink's
//!   term-frequency adjustment), so two 张伟 count for less than two 欧阳娜娜.
//!   Identifiers (custom attributes picked as such) too: a placeholder
//!   member number that hundreds of records carry says little.
//!
//! Weights are made monotone in agreement (a stronger level never weighs
//! less than a weaker one of the same field), so a pair can only gain by
//! agreeing more.

use std::collections::HashMap;

use serde::Serialize;

use std::borrow::Cow;

use super::compare::{Agreed, CompareField, FIELDS, Level, code_of, compare, id_hash};
use super::prepare::{Identifiers, MAX_IDS, Record};

/// Levels per field, missing included (codes 0..=6).
const CODES: usize = 7;

/// A probability never reaches 0 or 1 in the model (keeps weights finite).
const EPS: f64 = 1e-9;

/// Counts of values in the scanned records, for term-frequency u.
#[derive(Debug, Clone, Default)]
pub struct Frequencies {
    /// Per distinct name (its exact hash): the term-frequency u of an
    /// exact agreement on it (see [`Frequencies::count`]).
    name_u: HashMap<u64, f64, foldhash::fast::FixedState>,
    email: HashMap<u64, u32, foldhash::fast::FixedState>,
    company: HashMap<u64, u32, foldhash::fast::FixedState>,
    emails: u64,
    companies: u64,
    /// Per identifier slot: counts of values, and records with one.
    ids: [HashMap<u64, u32, foldhash::fast::FixedState>; MAX_IDS],
    id_totals: [u64; MAX_IDS],
    /// Among the records with a phone and a street: the share of their
    /// pairs that have a phone and the street in common, and the share one
    /// such pair is (see [`Model::cap_household`]); `None` when fewer than
    /// two records have both.
    household: Option<(f64, f64)>,
}

impl Frequencies {
    /// Counts the names, emails and companies of `records`.
    ///
    /// A name's u (the chance that two different people share it) is the
    /// larger of two estimates: the product of its words' shares (the
    /// share of named records with each word: given and family names are
    /// nearly independent, so "Aidan Blackwell" is rarer than either word)
    /// and the share of records with the whole name besides the pair
    /// itself, once it is seen [`WHOLE_NAME_MIN`] times (catches
    /// combinations commoner than their words say). The
    /// product is what lets a small list tell a rare full name from a
    /// common one: the whole-name share alone can never go below 2/N.
    pub fn count<'a>(records: impl IntoIterator<Item = &'a Record> + Clone) -> Frequencies {
        let mut f = Frequencies::default();
        let mut names: HashMap<u64, u32, foldhash::fast::FixedState> = HashMap::default();
        let mut words: HashMap<u64, u32, foldhash::fast::FixedState> = HashMap::default();
        let mut named = 0u64;
        let mut seen: Vec<u64> = Vec::with_capacity(4);
        for r in records.clone() {
            if let Some(n) = &r.name {
                *names.entry(n.exact).or_default() += 1;
                named += 1;
                seen.clear();
                seen.extend(n.key.split(' ').map(word_hash));
                seen.sort_unstable();
                seen.dedup();
                for &w in &seen {
                    *words.entry(w).or_default() += 1;
                }
            }
            for &(e, _) in r.emails.iter() {
                *f.email.entry(e).or_default() += 1;
                f.emails += 1;
            }
            if let Some(c) = &r.company {
                let h = super::prepare::hash(super::prepare::seed::COMPANY, c.as_bytes());
                *f.company.entry(h).or_default() += 1;
                f.companies += 1;
            }
            for (slot, v) in r.ids.iter().enumerate() {
                if let Some(v) = v {
                    *f.ids[slot].entry(id_hash(slot, v)).or_default() += 1;
                    f.id_totals[slot] += 1;
                }
            }
        }
        f.household = household_share(records.clone());
        if named > 0 {
            let total = named as f64;
            for r in records {
                let Some(n) = &r.name else { continue };
                if f.name_u.contains_key(&n.exact) {
                    continue;
                }
                seen.clear();
                seen.extend(n.key.split(' ').map(word_hash));
                seen.sort_unstable();
                seen.dedup();
                let product: f64 = seen
                    .iter()
                    .map(|w| f64::from(words.get(w).copied().unwrap_or(1)) / total)
                    .product();
                // Below ten records, copies of one person could explain the
                // count (a list with five copies of someone is common).
                let seen_whole = names.get(&n.exact).copied().unwrap_or(0);
                let others = if seen_whole >= WHOLE_NAME_MIN {
                    f64::from(seen_whole - 2)
                } else {
                    0.0
                };
                let u = product.max(others / total).clamp(EPS, 1.0);
                f.name_u.insert(n.exact, u);
            }
        }
        f
    }

    /// The term-frequency u of an exact agreement on `value` of `field`
    /// (None for fields without term frequencies or an unseen value).
    fn u_of(&self, field: CompareField, value: u64) -> Option<f64> {
        if value == 0 {
            return None;
        }
        let (map, total) = match field {
            CompareField::Name => return self.name_u.get(&value).copied(),
            CompareField::Email => (&self.email, self.emails),
            CompareField::Company => (&self.company, self.companies),
            f => match f.attr_slot() {
                Some(slot) => (&self.ids[slot], self.id_totals[slot]),
                None => return None,
            },
        };
        if total == 0 {
            return None;
        }
        let n = map.get(&value).copied()?;
        Some((f64::from(n.max(2)) / total as f64).clamp(EPS, 1.0))
    }
}

/// The chance that two random records, each with a phone and a street,
/// share a phone and have the same (folded) street: Σ c(c-1) / (M(M-1))
/// over the groups of equal phone and street; and 2 / (M(M-1)), what
/// one such pair weighs in it.
fn household_share<'a>(records: impl IntoIterator<Item = &'a Record>) -> Option<(f64, f64)> {
    let mut keys: Vec<u64> = Vec::new();
    let mut holders = 0u64;
    for r in records {
        let Some(street) = r.street.as_deref().filter(|_| !r.phones.is_empty()) else {
            continue;
        };
        holders += 1;
        let s = super::prepare::hash(super::prepare::seed::STREET, street.as_bytes());
        keys.extend(r.phones.iter().map(|&p| super::block::mix(s, p)));
    }
    let shared = share(keys, holders)?;
    Some((shared, 2.0 / (holders as f64 * (holders as f64 - 1.0))))
}

/// How often a whole name must be seen before its own count can raise its
/// u above the product of its words' shares.
const WHOLE_NAME_MIN: u32 = 10;

/// The hash a name word is counted under.
fn word_hash(word: &str) -> u64 {
    super::prepare::hash(super::prepare::seed::NAME_KEY, word.as_bytes())
}

/// m, u and weight of one level of one field.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LevelParams {
    pub level: &'static str,
    pub m: f64,
    pub u: f64,
    /// log2(m/u), made monotone: the contribution in bits.
    pub weight: f64,
}

/// The fitted model.
#[derive(Debug, Clone)]
pub struct Model {
    /// m per field and level code (code 0, missing, unused).
    pub(crate) m: [[f64; CODES]; FIELDS],
    /// u per field and level code (from random pairs).
    pub(crate) u: [[f64; CODES]; FIELDS],
    /// log2(m/u) per field and level code, monotone; 0 for missing.
    pub(crate) w: [[f64; CODES]; FIELDS],
    /// The chance that two random customers are one person.
    pub prior: f64,
    /// The share of candidate pairs EM took for matches.
    pub candidate_match_rate: f64,
    /// The EM sessions m was averaged from.
    pub sessions: Vec<Session>,
    /// EM iterations run (0 when m kept its priors).
    pub em_iterations: u32,
    /// Random pairs compared for u.
    pub u_pairs: u64,
    /// The custom attributes compared as identifiers, by slot.
    pub identifiers: Identifiers,
}

/// m before EM: agreement is likely among matches. Per field, in level
/// order (strongest first).
fn m_prior(f: CompareField) -> &'static [f64] {
    match f {
        CompareField::Name => &[0.78, 0.05, 0.08, 0.04, 0.02, 0.03],
        CompareField::Email | CompareField::Phone => &[0.85, 0.05, 0.10],
        CompareField::BirthDate => &[0.90, 0.04, 0.06],
        CompareField::Street => &[0.70, 0.10, 0.05, 0.05, 0.10],
        CompareField::Company => &[0.80, 0.10, 0.10],
        CompareField::Attr1 | CompareField::Attr2 | CompareField::Attr3 => &[0.85, 0.05, 0.10],
        CompareField::ExtId => &[0.10, 0.90],
        CompareField::City => &[0.90, 0.10],
        CompareField::Postcode => &[0.85, 0.05, 0.10],
        CompareField::Gender => &[0.95, 0.05],
    }
}

/// u before any data: agreement is rare among non-matches.
fn u_prior(f: CompareField) -> &'static [f64] {
    match f {
        CompareField::Name => &[0.0005, 0.0005, 0.005, 0.02, 0.02, 0.954],
        CompareField::Email | CompareField::Phone => &[0.00001, 0.0001, 0.99989],
        CompareField::BirthDate => &[0.0001, 0.001, 0.9989],
        CompareField::Street => &[0.0001, 0.001, 0.002, 0.002, 0.9949],
        CompareField::Company => &[0.0001, 0.001, 0.9989],
        CompareField::Attr1 | CompareField::Attr2 | CompareField::Attr3 => {
            &[0.00001, 0.0001, 0.99989]
        }
        CompareField::ExtId => &[0.00001, 0.99999],
        CompareField::City => &[0.05, 0.95],
        CompareField::Postcode => &[0.05, 0.01, 0.94],
        CompareField::Gender => &[0.5, 0.5],
    }
}

fn table(get: impl Fn(CompareField) -> &'static [f64]) -> [[f64; CODES]; FIELDS] {
    let mut t = [[0.0; CODES]; FIELDS];
    for f in CompareField::ALL {
        for (i, &p) in get(f).iter().enumerate() {
            t[f.index()][i + 1] = p;
        }
    }
    t
}

impl Default for Model {
    /// The priors alone (what a scan starts from), with a prior match
    /// chance of one in a million.
    fn default() -> Model {
        Model::new(table(m_prior), table(u_prior), 1e-6)
    }
}

impl Model {
    /// A model from m and u tables and the prior.
    pub(crate) fn new(m: [[f64; CODES]; FIELDS], u: [[f64; CODES]; FIELDS], prior: f64) -> Model {
        let mut model = Model {
            m,
            u,
            w: [[0.0; CODES]; FIELDS],
            prior: prior.clamp(1e-15, 0.5),
            candidate_match_rate: 0.0,
            sessions: Vec::new(),
            em_iterations: 0,
            u_pairs: 0,
            identifiers: Identifiers::default(),
        };
        model.update_weights();
        model
    }

    /// Recomputes the weights from m and u: log2(m/u), then monotone from
    /// the weakest level up (a level weighs at least what the next weaker
    /// one does).
    fn update_weights(&mut self) {
        for f in CompareField::ALL {
            let i = f.index();
            let n = f.levels().len();
            let mut floor = f64::NEG_INFINITY;
            for code in (1..=n).rev() {
                let w = (self.m[i][code].max(EPS) / self.u[i][code].max(EPS)).log2();
                let w = w.max(floor);
                self.w[i][code] = w;
                floor = w;
            }
            self.w[i][0] = 0.0;
        }
    }

    /// The prior as log-odds in bits.
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// The contribution in bits of `level` of `field` (0 for missing).
    pub fn weight(&self, field: CompareField, level: Level) -> f64 {
        self.w[field.index()][usize::from(field.code(level))]
    }

    /// The weight of an exact agreement adjusted by term frequency, never
    /// below the next weaker level's weight (monotone).
    fn tf_weight(&self, field: CompareField, u_tf: f64) -> f64 {
        let i = field.index();
        let raw = (self.m[i][1].max(EPS) / u_tf).log2();
        raw.max(self.w[i][2])
    }

    /// The per-field contributions of a pair (in [`CompareField::ALL`]
    /// order) given its level codes and agreed values.
    pub(crate) fn contributions(
        &self,
        codes: &[u8; FIELDS],
        agreed: &Agreed,
        freq: &Frequencies,
    ) -> [f64; FIELDS] {
        let mut out = [0.0; FIELDS];
        for f in CompareField::ALL {
            let i = f.index();
            let code = codes[i];
            out[i] = self.w[i][usize::from(code)];
            if code == 1 {
                let value = match f {
                    CompareField::Name => agreed.name,
                    CompareField::Email => agreed.email,
                    CompareField::Company => agreed.company,
                    f => f.attr_slot().map_or(0, |slot| agreed.ids[slot]),
                };
                if let Some(u) = freq.u_of(f, value) {
                    out[i] = self.tf_weight(f, u);
                }
            }
        }
        self.cap_household(codes, freq, &mut out);
        out
    }

    /// One household, counted once. People living together share the
    /// street, the postcode and the city, and often a landline: for two
    /// different people those agreements are not independent, so adding
    /// up their weights (as the model does for independent fields) would
    /// make a couple at one address and number certain duplicates. When
    /// the phone and the street agree, what the place and contact fields
    /// add together is held to what sharing both is worth in this data:
    /// log2(m / u), with m the chance that a person's two records agree on
    /// both, and u the chance that two different people do: the share of
    /// record pairs with the same phone and street
    /// ([`household_share`]), less what the duplicates among them explain
    /// (match rate × m), and at least one pair's worth. Their positive
    /// parts shrink in proportion, so the explanation still adds up.
    fn cap_household(&self, codes: &[u8; FIELDS], freq: &Frequencies, out: &mut [f64; FIELDS]) {
        let (phone, street) = (CompareField::Phone, CompareField::Street);
        let phone_exact = codes[phone.index()] == phone.code(Level::Exact);
        let street_agrees = matches!(
            street.level(codes[street.index()]),
            Level::Exact | Level::Close
        );
        let Some((share, one)) = freq.household.filter(|_| phone_exact && street_agrees) else {
            return;
        };
        let m = self.m[phone.index()][1] * self.m[street.index()][1];
        let u = ((share - self.prior * m) / (1.0 - self.prior)).max(one);
        let cap = (m.max(EPS) / u).log2().max(0.0);
        let place = [phone, street, CompareField::Postcode, CompareField::City];
        let total: f64 = place.iter().map(|f| out[f.index()].max(0.0)).sum();
        if total > cap {
            let keep = cap / total;
            for f in place {
                if out[f.index()] > 0.0 {
                    out[f.index()] *= keep;
                }
            }
        }
    }

    /// The match weight of a pattern without term frequencies.
    pub(crate) fn pattern_weight(&self, pattern: u32) -> f64 {
        self.prior_weight()
            + (0..FIELDS)
                .map(|i| self.w[i][usize::from(code_of(pattern, i))])
                .sum::<f64>()
    }

    /// How much term frequencies can add to a pattern's weight at most:
    /// for emails and companies over all values; for the name, `name`
    /// gives the exact hashes of the pair's two names (their own u is
    /// looked up, which keeps the bound tight: a rare full name can weigh
    /// far more than the level's average).
    pub(crate) fn tf_bonus(&self, freq: &Frequencies, pattern: u32, names: [u64; 2]) -> f64 {
        let mut bonus = 0.0;
        for f in [
            CompareField::Email,
            CompareField::Company,
            CompareField::Attr1,
            CompareField::Attr2,
            CompareField::Attr3,
        ] {
            if code_of(pattern, f.index()) != 1 {
                continue;
            }
            let total = match f {
                CompareField::Email => freq.emails,
                CompareField::Company => freq.companies,
                f => f.attr_slot().map_or(0, |slot| freq.id_totals[slot]),
            };
            if total > 0 {
                let u = (2.0 / total as f64).clamp(EPS, 1.0);
                bonus += (self.tf_weight(f, u) - self.w[f.index()][1]).max(0.0);
            }
        }
        let name = CompareField::Name;
        if code_of(pattern, name.index()) == 1 {
            let u = names
                .iter()
                .filter_map(|&h| freq.u_of(name, h))
                .fold(1.0f64, f64::min);
            bonus += (self.tf_weight(name, u) - self.w[name.index()][1]).max(0.0);
        }
        bonus
    }

    /// Compares two records and scores them: (probability, per-field
    /// contributions, level codes).
    pub fn score(
        &self,
        a: &Record,
        b: &Record,
        freq: &Frequencies,
    ) -> (f64, [f64; FIELDS], [u8; FIELDS]) {
        let (codes, agreed) = compare(a, b);
        let parts = self.contributions(&codes, &agreed, freq);
        let bits = self.prior_weight() + parts.iter().sum::<f64>();
        (probability(bits), parts, codes)
    }

    /// The name a field goes by in explanations: the canonical name, or
    /// `attr:NAME` for an identifier slot; `None` for a slot this model
    /// does not use.
    pub fn field_name(&self, f: CompareField) -> Option<Cow<'static, str>> {
        match f.attr_slot() {
            None => Some(Cow::Borrowed(f.as_str())),
            Some(slot) => self
                .identifiers
                .names()
                .get(slot)
                .map(|n| Cow::Owned(format!("attr:{n}"))),
        }
    }

    /// Every field's levels with m, u and weight (for the JSON `model`),
    /// by the field's name; unused identifier slots left out.
    pub fn params(&self) -> Vec<(Cow<'static, str>, Vec<LevelParams>)> {
        CompareField::ALL
            .iter()
            .filter_map(|&f| Some((f, self.field_name(f)?)))
            .map(|(f, name)| {
                let i = f.index();
                let levels = f
                    .levels()
                    .iter()
                    .enumerate()
                    .map(|(k, l)| LevelParams {
                        level: l.as_str(),
                        m: self.m[i][k + 1],
                        u: self.u[i][k + 1],
                        weight: self.w[i][k + 1],
                    })
                    .collect();
                (name, levels)
            })
            .collect()
    }
}

impl Model {
    /// The model as plain numbers for the store, tagged with `scheme`.
    pub(crate) fn to_stored(&self, scheme: String) -> crate::store::StoredModel {
        let flat = |t: &[[f64; CODES]; FIELDS]| t.iter().flatten().copied().collect::<Vec<f64>>();
        crate::store::StoredModel {
            scheme,
            m: flat(&self.m),
            u: flat(&self.u),
            w: flat(&self.w),
            prior: self.prior,
            candidate_match_rate: self.candidate_match_rate,
            em_iterations: self.em_iterations,
            u_pairs: self.u_pairs,
        }
    }

    /// A model back from the store; `None` when its tables do not have
    /// this build's shape (the scheme is checked by the caller).
    pub(crate) fn from_stored(s: &crate::store::StoredModel) -> Option<Model> {
        let table = |v: &[f64]| -> Option<[[f64; CODES]; FIELDS]> {
            if v.len() != CODES * FIELDS || v.iter().any(|x| !x.is_finite()) {
                return None;
            }
            let mut t = [[0.0; CODES]; FIELDS];
            for (i, row) in t.iter_mut().enumerate() {
                row.copy_from_slice(&v[i * CODES..(i + 1) * CODES]);
            }
            Some(t)
        };
        if !(s.prior.is_finite() && s.prior > 0.0 && s.prior < 1.0) {
            return None;
        }
        Some(Model {
            m: table(&s.m)?,
            u: table(&s.u)?,
            w: table(&s.w)?,
            prior: s.prior,
            candidate_match_rate: s.candidate_match_rate,
            sessions: Vec::new(),
            em_iterations: s.em_iterations,
            u_pairs: s.u_pairs,
            identifiers: Identifiers::default(),
        })
    }
}

/// A match weight in bits as a probability.
pub fn probability(bits: f64) -> f64 {
    1.0 / (1.0 + (-bits).exp2())
}

/// A match probability as a weight in bits.
pub fn bits_of(p: f64) -> f64 {
    let p = p.clamp(1e-15, 1.0 - 1e-15);
    (p / (1.0 - p)).log2()
}

/// SplitMix64: the seeded stream behind every random choice of a scan.
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Level counts per field and code.
pub(crate) type Counts = [[u64; CODES]; FIELDS];

/// Compares `samples` random pairs of `records` (all pairs when there are
/// fewer), drawn from `seed` on `threads` threads (each its own stream,
/// so the result does not depend on timing).
pub(crate) fn sample_levels(
    records: &[Record],
    samples: u64,
    seed: u64,
    threads: usize,
) -> (Counts, u64) {
    let n = records.len() as u64;
    let all = n * n.saturating_sub(1) / 2;
    if all <= samples {
        let mut counts = [[0u64; CODES]; FIELDS];
        for i in 0..records.len() {
            for j in i + 1..records.len() {
                let (codes, _) = compare(&records[i], &records[j]);
                for (f, &c) in codes.iter().enumerate() {
                    counts[f][usize::from(c)] += 1;
                }
            }
        }
        return (counts, all);
    }
    // A fixed number of streams, whatever the number of threads, so the
    // counts never depend on the machine.
    const STREAMS: u64 = 8;
    let per = samples.div_ceil(STREAMS);
    let next = std::sync::atomic::AtomicU64::new(0);
    let parts: Vec<Counts> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut counts = [[0u64; CODES]; FIELDS];
                    loop {
                        let t = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if t >= STREAMS {
                            break;
                        }
                        let mut state = seed ^ (t + 1).wrapping_mul(0xA076_1D64_78BD_642F);
                        for _ in 0..per {
                            let i = splitmix(&mut state) % n;
                            let mut j = splitmix(&mut state) % (n - 1);
                            if j >= i {
                                j += 1;
                            }
                            let (codes, _) = compare(&records[i as usize], &records[j as usize]);
                            for (f, &c) in codes.iter().enumerate() {
                                counts[f][usize::from(c)] += 1;
                            }
                        }
                    }
                    counts
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut counts = [[0u64; CODES]; FIELDS];
    for part in parts {
        for f in 0..FIELDS {
            for c in 0..CODES {
                counts[f][c] += part[f][c];
            }
        }
    }
    (counts, per * STREAMS)
}

/// The chance that two random records with a value share one, per field,
/// from the value counts: Σ c(c-1) / (M(M-1)). `None` for fields whose
/// exact level is not a plain value equality (names, streets: folding
/// makes more pairs exact than equal hashes would say).
pub(crate) fn exact_u(records: &[Record]) -> [Option<f64>; FIELDS] {
    let mut out = [None; FIELDS];
    let holders = |f: &dyn Fn(&Record) -> bool| records.iter().filter(|r| f(r)).count() as u64;
    // A field held as one number per record, 0 for none.
    let plain = |value: &dyn Fn(&Record) -> u64| {
        let values: Vec<u64> = records.iter().map(value).filter(|&v| v != 0).collect();
        let n = values.len() as u64;
        share(values, n)
    };
    out[CompareField::Email.index()] = share(
        records
            .iter()
            .flat_map(|r| r.emails.iter().map(|e| e.0))
            .collect(),
        holders(&|r| !r.emails.is_empty()),
    );
    out[CompareField::Phone.index()] = share(
        records
            .iter()
            .flat_map(|r| r.phones.iter().copied())
            .collect(),
        holders(&|r| !r.phones.is_empty()),
    );
    out[CompareField::BirthDate.index()] = plain(&|r| u64::from(r.birth));
    out[CompareField::City.index()] = plain(&|r| r.city);
    out[CompareField::Postcode.index()] = plain(&|r| r.postcode);
    out[CompareField::Gender.index()] = plain(&|r| u64::from(r.gender));
    for (slot, f) in CompareField::ATTRS.iter().enumerate() {
        out[f.index()] = share(
            records
                .iter()
                .filter_map(|r| r.ids.get(slot)?.as_deref())
                .map(|v| id_hash(slot, v))
                .collect(),
            holders(&|r| r.ids.get(slot).is_some_and(Option::is_some)),
        );
    }
    out[CompareField::ExtId.index()] = share(
        records
            .iter()
            .filter_map(|r| r.ext_id.as_deref())
            .map(|e| super::prepare::hash(super::prepare::seed::EXT_ID, e.as_bytes()))
            .collect(),
        holders(&|r| r.ext_id.is_some()),
    );
    out
}

/// The chance that two of `holders` records share a value, from the
/// values they hold (a record may hold several): Σ c(c-1) / (M(M-1)) over
/// the counts c of equal values; `None` below two holders.
fn share(mut values: Vec<u64>, holders: u64) -> Option<f64> {
    if holders < 2 {
        return None;
    }
    values.sort_unstable();
    let sum: f64 = values
        .chunk_by(|a, b| a == b)
        .map(|run| {
            let c = run.len() as f64;
            c * (c - 1.0)
        })
        .sum();
    let m = holders as f64;
    Some((sum / (m * (m - 1.0))).min(1.0))
}

/// u per field and level from random-pair counts (missing excluded), with
/// half a pair of pseudo-count per level, and exact levels replaced by
/// their value-count figure where known.
pub(crate) fn u_from(counts: &Counts, exact: &[Option<f64>; FIELDS]) -> [[f64; CODES]; FIELDS] {
    let mut u = [[0.0; CODES]; FIELDS];
    for f in CompareField::ALL {
        let i = f.index();
        let n = f.levels().len();
        let seen: f64 = (1..=n).map(|c| counts[i][c] as f64 + 0.5).sum();
        for c in 1..=n {
            u[i][c] = (counts[i][c] as f64 + 0.5) / seen;
        }
        if let Some(e) = exact[i] {
            let e = e.clamp(EPS, 0.5);
            let rest: f64 = (2..=n).map(|c| u[i][c]).sum();
            u[i][1] = e;
            for v in &mut u[i][2..=n] {
                *v = *v / rest * (1.0 - e);
            }
        }
    }
    u
}

/// What EM found.
#[derive(Debug, Clone)]
pub(crate) struct EmFit {
    pub m: [[f64; CODES]; FIELDS],
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "EM estimates the candidates' u too; only tests read it"
        )
    )]
    pub u: [[f64; CODES]; FIELDS],
    pub lambda: f64,
    pub iterations: u32,
}

/// Expectation-maximisation of a two-class model over pattern counts:
/// estimates the match rate, m and u (of the candidates) per field and
/// level, starting from `m0`, `u0` and `lambda0`. Missing levels are
/// ignored. Pseudo-counts (one pair spread by the starting values) keep
/// every probability positive. Stops when no parameter moves more than
/// 1e-7, or after `max_iter` rounds.
pub(crate) fn em(
    patterns: &[(u32, u64)],
    m0: &[[f64; CODES]; FIELDS],
    u0: &[[f64; CODES]; FIELDS],
    lambda0: f64,
    max_iter: u32,
) -> EmFit {
    let mut m = *m0;
    let mut u = *u0;
    let mut lambda = lambda0.clamp(1e-6, 1.0 - 1e-6);
    let total: f64 = patterns.iter().map(|&(_, n)| n as f64).sum();
    let mut iterations = 0;
    if total == 0.0 {
        return EmFit {
            m,
            u,
            lambda,
            iterations,
        };
    }
    for _ in 0..max_iter {
        iterations += 1;
        let mut mc = [[0.0f64; CODES]; FIELDS];
        let mut uc = [[0.0f64; CODES]; FIELDS];
        let mut matches = 0.0;
        for &(p, n) in patterns {
            let n = n as f64;
            let mut lm = lambda.ln();
            let mut lu = (1.0 - lambda).ln();
            for i in 0..FIELDS {
                let c = usize::from(code_of(p, i));
                if c != 0 {
                    lm += m[i][c].max(EPS).ln();
                    lu += u[i][c].max(EPS).ln();
                }
            }
            let post = 1.0 / (1.0 + (lu - lm).exp());
            matches += n * post;
            for i in 0..FIELDS {
                let c = usize::from(code_of(p, i));
                if c != 0 {
                    mc[i][c] += n * post;
                    uc[i][c] += n * (1.0 - post);
                }
            }
        }
        let new_lambda = (matches / total).clamp(1e-9, 1.0 - 1e-9);
        let mut moved = (new_lambda - lambda).abs();
        lambda = new_lambda;
        for f in CompareField::ALL {
            let i = f.index();
            let levels = f.levels().len();
            let msum: f64 = (1..=levels).map(|c| mc[i][c]).sum::<f64>() + 1.0;
            let usum: f64 = (1..=levels).map(|c| uc[i][c]).sum::<f64>() + 1.0;
            for c in 1..=levels {
                let nm = ((mc[i][c] + m0[i][c]) / msum).max(EPS);
                let nu = ((uc[i][c] + u0[i][c]) / usum).max(EPS);
                moved = moved.max((nm - m[i][c]).abs()).max((nu - u[i][c]).abs());
                m[i][c] = nm;
                u[i][c] = nu;
            }
        }
        if moved < 1e-7 {
            break;
        }
    }
    EmFit {
        m,
        u,
        lambda,
        iterations,
    }
}

/// One EM session: the candidates sharing one kind of blocking key, with
/// the fields that key forces to agree left out.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// The blocking key kind.
    pub key: &'static str,
    /// Candidate pairs in the session.
    pub pairs: u64,
    /// The share EM took for matches.
    pub match_rate: f64,
    pub iterations: u32,
}

/// The training data of one EM session.
pub(crate) struct SessionPatterns {
    /// The blocking key kind's name.
    pub key: &'static str,
    /// The fields it forces to agree (left out).
    pub masked: &'static [CompareField],
    /// Pattern counts, the masked fields set to missing.
    pub patterns: Vec<(u32, u64)>,
}

/// m never falls below this: one field that differs costs at most about
/// 10 bits, however clean the training data (EM on data where copies
/// never change a value puts m(different) at 0, which would let one field
/// veto any pair).
const M_FLOOR: f64 = 1e-3;

/// Fits the model, as Splink trains one:
/// - u from `u` (random pairs);
/// - m by EM in sessions, one per kind of blocking key over the candidates
///   sharing that key, with the fields that key forces to agree masked
///   (inside a name block every pair agrees on the name, matches or not:
///   counting that agreement would break the model's independence
///   assumption and let EM take "same name" for "same person"); each
///   field's m is the average over the sessions that estimate it, weighted
///   by their expected matches;
/// - the prior by a fixed point over all candidates' patterns: the
///   expected matches under the model, over all pairs of the records.
pub(crate) fn fit(
    full: &[(u32, u64)],
    sessions: &[SessionPatterns],
    u: [[f64; CODES]; FIELDS],
    records: usize,
    max_iter: u32,
) -> Model {
    let m0 = table(m_prior);
    let mut acc = [[0.0f64; CODES]; FIELDS];
    let mut acc_w = [0.0f64; FIELDS];
    let mut report = Vec::new();
    for SessionPatterns {
        key,
        masked,
        patterns,
    } in sessions
    {
        let pairs: u64 = patterns.iter().map(|&(_, n)| n).sum();
        if pairs < 20 {
            continue;
        }
        let fit = em(patterns, &m0, &u, 0.1, max_iter);
        let weight = fit.lambda * pairs as f64;
        for f in CompareField::ALL {
            if masked.contains(&f) {
                continue;
            }
            let i = f.index();
            let n = f.levels().len();
            for (a, m) in acc[i][1..=n].iter_mut().zip(&fit.m[i][1..=n]) {
                *a += weight * m;
            }
            acc_w[i] += weight;
        }
        report.push(Session {
            key,
            pairs,
            match_rate: fit.lambda,
            iterations: fit.iterations,
        });
    }
    let mut m = m0;
    for f in CompareField::ALL {
        let i = f.index();
        let n = f.levels().len();
        let row = &mut m[i][1..=n];
        if acc_w[i] > 0.0 {
            for (v, a) in row.iter_mut().zip(&acc[i][1..=n]) {
                *v = a / acc_w[i];
            }
        }
        for v in row.iter_mut() {
            *v = v.max(M_FLOOR);
        }
        let sum: f64 = row.iter().sum();
        for v in row.iter_mut() {
            *v /= sum;
        }
    }
    let n = records as f64;
    let all_pairs = (n * (n - 1.0) / 2.0).max(1.0);
    let (prior, iterations) = prior_fixed_point(full, &m, &u, all_pairs, max_iter);
    let candidates: u64 = full.iter().map(|&(_, n)| n).sum();
    let mut model = Model::new(m, u, prior);
    model.candidate_match_rate = (prior * all_pairs / candidates.max(1) as f64).min(1.0);
    model.em_iterations = iterations;
    model.sessions = report;
    model
}

/// The prior λ such that λ times all pairs is the expected number of
/// matches among the candidates when each is scored with λ (pairs outside
/// the candidates are taken to be non-matches).
fn prior_fixed_point(
    patterns: &[(u32, u64)],
    m: &[[f64; CODES]; FIELDS],
    u: &[[f64; CODES]; FIELDS],
    all_pairs: f64,
    max_iter: u32,
) -> (f64, u32) {
    // log2 of the Bayes factor of each pattern.
    let factors: Vec<(f64, f64)> = patterns
        .iter()
        .map(|&(p, n)| {
            let bits: f64 = (0..FIELDS)
                .map(|i| {
                    let c = usize::from(code_of(p, i));
                    if c == 0 {
                        0.0
                    } else {
                        (m[i][c].max(EPS) / u[i][c].max(EPS)).log2()
                    }
                })
                .sum();
            (bits, n as f64)
        })
        .collect();
    let mut lambda = (1.0 / all_pairs).min(0.5);
    let mut iterations = 0;
    for _ in 0..max_iter.max(1) {
        iterations += 1;
        let odds = (lambda / (1.0 - lambda)).log2();
        let expected: f64 = factors
            .iter()
            .map(|&(bits, n)| n * probability(odds + bits))
            .sum();
        let next = (expected / all_pairs).clamp(1e-15, 0.5);
        let moved = (next - lambda).abs() / lambda;
        lambda = next;
        if moved < 1e-9 {
            break;
        }
    }
    (lambda, iterations)
}

/// Packs codes given per field.
#[cfg(test)]
pub(crate) fn pattern_of(levels: &[(CompareField, Level)]) -> u32 {
    let mut codes = [0u8; FIELDS];
    for &(f, l) in levels {
        codes[f.index()] = f.code(l);
    }
    super::compare::pack(&codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::compare::pack;

    /// Every level of every field starts EM with a prior m and u: a level
    /// left at 0 would never be learned.
    #[test]
    fn priors_cover_every_level() {
        for f in CompareField::ALL {
            for (what, p) in [("m", m_prior(f)), ("u", u_prior(f))] {
                assert_eq!(p.len(), f.levels().len(), "{what} of {f:?}");
                assert!(p.iter().all(|&x| x > 0.0), "{what} of {f:?}");
                let sum: f64 = p.iter().sum();
                assert!((sum - 1.0).abs() < 1e-9, "{what} of {f:?} sums to {sum}");
            }
        }
    }

    /// Simulated comparison vectors from known parameters: EM gets m, u
    /// and the match rate back.
    #[test]
    fn em_recovers_m_and_u_from_simulated_vectors() {
        let mut true_m = [[0.0; CODES]; FIELDS];
        let mut true_u = [[0.0; CODES]; FIELDS];
        let mut state = 42u64;
        for f in CompareField::ALL {
            let i = f.index();
            let n = f.levels().len();
            // Matches agree; non-matches mostly differ.
            let (m, u): (Vec<f64>, Vec<f64>) = match n {
                2 => (vec![0.9, 0.1], vec![0.15, 0.85]),
                3 => (vec![0.8, 0.12, 0.08], vec![0.05, 0.1, 0.85]),
                4 => (vec![0.7, 0.12, 0.1, 0.08], vec![0.05, 0.05, 0.1, 0.8]),
                5 => (
                    vec![0.65, 0.12, 0.1, 0.08, 0.05],
                    vec![0.02, 0.03, 0.05, 0.1, 0.8],
                ),
                _ => (
                    vec![0.65, 0.1, 0.1, 0.05, 0.05, 0.05],
                    vec![0.02, 0.03, 0.05, 0.1, 0.05, 0.75],
                ),
            };
            true_m[i][1..=n].copy_from_slice(&m);
            true_u[i][1..=n].copy_from_slice(&u);
        }
        let lambda = 0.3;
        let mut hist: HashMap<u32, u64> = HashMap::new();
        let draw = |state: &mut u64, probs: &[f64; CODES], n: usize| -> u8 {
            let x = (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64;
            let mut acc = 0.0;
            for (c, p) in probs.iter().enumerate().take(n + 1).skip(1) {
                acc += p;
                if x < acc {
                    return c as u8;
                }
            }
            n as u8
        };
        for _ in 0..200_000 {
            let is_match = ((splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64) < lambda;
            let mut codes = [0u8; FIELDS];
            for f in CompareField::ALL {
                let i = f.index();
                let probs = if is_match { &true_m[i] } else { &true_u[i] };
                codes[i] = draw(&mut state, probs, f.levels().len());
            }
            *hist.entry(pack(&codes)).or_default() += 1;
        }
        let mut patterns: Vec<(u32, u64)> = hist.into_iter().collect();
        patterns.sort_unstable();
        let fit = em(&patterns, &table(m_prior), &table(u_prior), 0.1, 500);
        assert!((fit.lambda - lambda).abs() < 0.01, "lambda {}", fit.lambda);
        for f in CompareField::ALL {
            let i = f.index();
            for c in 1..=f.levels().len() {
                assert!(
                    (fit.m[i][c] - true_m[i][c]).abs() < 0.02,
                    "m {f:?} {c}: {} vs {}",
                    fit.m[i][c],
                    true_m[i][c]
                );
                assert!(
                    (fit.u[i][c] - true_u[i][c]).abs() < 0.02,
                    "u {f:?} {c}: {} vs {}",
                    fit.u[i][c],
                    true_u[i][c]
                );
            }
        }
    }

    /// Raising any one field's agreement never lowers the probability.
    #[test]
    fn probability_is_monotone_in_agreement() {
        // A model whose raw log2(m/u) is not monotone: the close level is
        // rarer among matches than among non-matches.
        let mut m = table(m_prior);
        let u = table(u_prior);
        let email = CompareField::Email.index();
        m[email][2] = 1e-6;
        let model = Model::new(m, u, 1e-6);
        let mut state = 7u64;
        for _ in 0..2_000 {
            let mut codes = [0u8; FIELDS];
            for f in CompareField::ALL {
                let n = f.levels().len() as u64 + 1;
                codes[f.index()] = (splitmix(&mut state) % n) as u8;
            }
            let base = model.pattern_weight(pack(&codes));
            for f in CompareField::ALL {
                let i = f.index();
                let c = codes[i];
                // One step stronger (a lower non-zero code), unless exact
                // or missing.
                if c > 1 {
                    let mut better = codes;
                    better[i] = c - 1;
                    let w = model.pattern_weight(pack(&better));
                    assert!(w >= base - 1e-12, "{f:?} {c}: {w} < {base}");
                }
                // Missing to different: from no evidence to evidence
                // against may lower it, but different to any agreement
                // may not.
            }
        }
        for f in CompareField::ALL {
            let i = f.index();
            for c in 1..f.levels().len() {
                assert!(model.w[i][c] >= model.w[i][c + 1], "{f:?} level {c}");
            }
        }
    }

    #[test]
    fn term_frequency_lowers_common_values() {
        let rec = |n: &str| {
            Record::new(&crate::model::Customer {
                name: n.into(),
                ..Default::default()
            })
        };
        let mut records: Vec<Record> = (0..50).map(|_| rec("张伟")).collect();
        records.push(rec("欧阳娜娜"));
        records.push(rec("欧阳娜娜"));
        records.extend((0..2000).map(|i| rec(&format!("Person{i} Example"))));
        let freq = Frequencies::count(&records);
        let model = Model::default();
        let (_, common, _) = model.score(&records[0], &records[1], &freq);
        let (_, rare, _) = model.score(&records[50], &records[51], &freq);
        let name = CompareField::Name.index();
        assert!(rare[name] > common[name] + 1.0, "{rare:?} vs {common:?}");
        assert!(common[name] >= model.weight(CompareField::Name, Level::SameReading));
    }

    /// Two people at one address with one landline: the place and contact
    /// fields together weigh what sharing a phone and a street is worth
    /// in the data, not the sum of their separate weights.
    #[test]
    fn a_shared_phone_and_street_count_once() {
        let rec = |name: &str, phone: &str, street: &str| {
            Record::new(&crate::model::Customer {
                name: name.into(),
                phones: vec![phone.into()],
                street: Some(street.into()),
                postcode: Some("200001".into()),
                ..Default::default()
            })
        };
        let mut records = vec![
            rec("宋春辉", "+862238203439", "南开区青年路7号6号楼502"),
            rec("宋莹", "+862238203439", "南开区青年路7号6号楼502"),
        ];
        records.extend((0..200).map(|i| {
            rec(
                &format!("Person{i}"),
                &format!("+8613800{i:06}"),
                &format!("{i} Main St"),
            )
        }));
        let freq = Frequencies::count(&records);
        let (share, one) = freq.household.unwrap_or((0.0, 0.0));
        // One sharing pair among 202 records.
        assert!((share - 2.0 / (202.0 * 201.0)).abs() < 1e-12, "{share}");
        assert_eq!(share, one);
        let model = Model::default();
        let m = model.m[CompareField::Phone.index()][1] * model.m[CompareField::Street.index()][1];
        let u = ((share - model.prior * m) / (1.0 - model.prior)).max(one);
        let (_, parts, codes) = model.score(&records[0], &records[1], &freq);
        let place = [
            CompareField::Phone,
            CompareField::Street,
            CompareField::Postcode,
            CompareField::City,
        ];
        let sum: f64 = place.iter().map(|f| parts[f.index()]).sum();
        let separate: f64 = place
            .iter()
            .map(|&f| model.weight(f, f.level(codes[f.index()])))
            .sum();
        let cap = (m / u).log2();
        assert!(sum <= cap + 1e-9, "{sum} > {cap}");
        assert!(sum < separate - 1.0, "{sum} vs {separate}");
        // Without a shared phone nothing is held back.
        let mut other = records[1].clone();
        other.phones = Box::new([8613900000000]);
        let (_, parts, codes) = model.score(&records[0], &other, &freq);
        for f in [CompareField::Street, CompareField::Postcode] {
            let w = model.weight(f, f.level(codes[f.index()]));
            assert!((parts[f.index()] - w).abs() < 1e-9, "{f:?}");
        }
    }

    #[test]
    fn exact_u_counts_shared_values() {
        let rec = |city: &str| {
            Record::new(&crate::model::Customer {
                city: Some(city.into()),
                ..Default::default()
            })
        };
        let records = vec![rec("a"), rec("a"), rec("b"), rec("c")];
        let u = exact_u(&records);
        // One sharing pair out of 4*3/2 = 6 pairs: 2/12.
        let got = u[CompareField::City.index()].unwrap_or(0.0);
        assert!((got - 2.0 / 12.0).abs() < 1e-12, "{got}");
        assert_eq!(u[CompareField::Email.index()], None);
    }

    #[test]
    fn score_is_a_probability_and_grows_with_evidence() {
        let model = Model::default();
        let weak = pattern_of(&[(CompareField::Name, Level::Exact)]);
        let strong = pattern_of(&[
            (CompareField::Name, Level::Exact),
            (CompareField::Email, Level::Exact),
            (CompareField::Phone, Level::Exact),
        ]);
        let pw = probability(model.pattern_weight(weak));
        let ps = probability(model.pattern_weight(strong));
        assert!((0.0..=1.0).contains(&pw) && (0.0..=1.0).contains(&ps));
        assert!(ps > 0.99 && pw < 0.5, "{pw} {ps}");
        assert!((bits_of(probability(3.0)) - 3.0).abs() < 1e-9);
    }
}
