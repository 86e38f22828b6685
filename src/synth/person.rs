//! One synthetic customer row, clean or dirty.
//!
//! A row is a pure function of (seed, locale, end date, dup rate, row
//! index): each index has its own random stream, so `customer_rows` and
//! `generate` agree without sharing state, and a planted duplicate is made by
//! regenerating its original from the original's index and then soiling it
//! with the duplicate's own stream. `Person` keeps its `String`s between
//! rows so the hot loop does not allocate for clean rows.

use super::Ctx;
use super::data::{
    AU_EMAIL_DOMAINS, AU_LEGAL, AU_PLACES, CN_BUILDINGS, CN_EMAIL_DOMAINS, CN_GIVEN_FEMALE,
    CN_GIVEN_MALE, CN_GIVEN_NEUTRAL, CN_INDUSTRIES, CN_LEGAL, CN_MOBILE_PREFIXES, CN_PLACES,
    CN_ROADS, CN_SOURCES, CN_SURNAMES, CN_TRADE_WORDS, CN_VARIANTS, EN_COMPANY_WORDS,
    EN_FIRST_FEMALE, EN_FIRST_MALE, EN_INDUSTRIES, EN_LAST, EN_SOURCES, EN_STREET_NAMES,
    EN_STREET_TYPES, UK_EMAIL_DOMAINS, UK_LEGAL, UK_PLACES, US_EMAIL_DOMAINS, US_LEGAL, US_PLACES,
};
use super::format::{
    civil_from_days, push_iso, push_padded, push_random_digits, push_slash, push_time, push_u64,
    to_full_width_digits,
};
use super::rng::Rng;
use crate::synth::Locale;

/// Random-stream domain of clean people.
pub const DOMAIN_PERSON: u64 = 1;
/// Random-stream domain deciding which rows are duplicates.
pub const DOMAIN_DUP: u64 = 2;
/// Random-stream domain of the dirt applied to a duplicate.
pub const DOMAIN_DIRT: u64 = 3;

/// Where a synthetic person lives; decides language, formats and currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nation {
    /// Mainland China (Chinese names and text).
    #[default]
    Cn,
    /// United States.
    Us,
    /// United Kingdom.
    Uk,
    /// Australia.
    Au,
}

impl Nation {
    /// ISO 4217 code of the currency the person pays in.
    pub fn currency(self) -> &'static str {
        match self {
            Nation::Cn => "CNY",
            Nation::Us => "USD",
            Nation::Uk => "GBP",
            Nation::Au => "AUD",
        }
    }

    /// True for Chinese-speaking people.
    pub fn is_zh(self) -> bool {
        self == Nation::Cn
    }

    fn email_domains(self) -> &'static [(&'static str, u32)] {
        match self {
            Nation::Cn => CN_EMAIL_DOMAINS,
            Nation::Us => US_EMAIL_DOMAINS,
            Nation::Uk => UK_EMAIL_DOMAINS,
            Nation::Au => AU_EMAIL_DOMAINS,
        }
    }
}

/// The columns of customers.csv, in order.
pub const CUSTOMER_HEADER: &[&str] = &[
    "ext_id",
    "name",
    "email",
    "phone",
    "company",
    "street",
    "city",
    "region",
    "postcode",
    "country",
    "birth_date",
    "gender",
    "source",
    "created_at",
];

/// A customer row with the hidden facts needed to soil it convincingly.
#[derive(Debug, Default, Clone)]
pub struct Person {
    pub ext_id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub company: String,
    pub street: String,
    pub city: String,
    pub region: String,
    pub postcode: String,
    pub country: String,
    pub birth_date: String,
    pub gender: String,
    pub source: String,
    pub created_at: String,
    /// Where the person lives.
    pub nation: Nation,
    /// Creation date in days since 1970-01-01.
    pub created_day: i32,
    /// For a planted duplicate, the row index of its clean original.
    pub original: Option<u64>,
    given: String,
    family: String,
    given_ascii: String,
    family_ascii: String,
    phone_nsn: String,
    phone_mobile: bool,
    phone_area_len: usize,
    phone_style: usize,
    company_legal: &'static str,
    street_type: Option<(&'static str, &'static str)>,
    birth: Option<(i32, u32, u32)>,
    birth_slash: bool,
}

impl Person {
    /// The row as the 14 fields of [`CUSTOMER_HEADER`].
    pub fn fields(&self) -> [&str; 14] {
        [
            &self.ext_id,
            &self.name,
            &self.email,
            &self.phone,
            &self.company,
            &self.street,
            &self.city,
            &self.region,
            &self.postcode,
            &self.country,
            &self.birth_date,
            &self.gender,
            &self.source,
            &self.created_at,
        ]
    }

    /// The fields a duplicate is judged by: name to gender.
    fn identity(&self) -> [&str; 11] {
        [
            &self.name,
            &self.email,
            &self.phone,
            &self.company,
            &self.street,
            &self.city,
            &self.region,
            &self.postcode,
            &self.country,
            &self.birth_date,
            &self.gender,
        ]
    }

    /// Overwrites `self` with row `index`.
    pub fn fill(&mut self, ctx: &Ctx, index: u64) {
        match ctx.original_of(index) {
            None => {
                let mut r = Rng::stream(ctx.seed, DOMAIN_PERSON, index);
                self.fill_clean(ctx, &mut r);
                self.original = None;
            }
            Some(orig) => {
                let mut r = Rng::stream(ctx.seed, DOMAIN_PERSON, orig);
                self.fill_clean(ctx, &mut r);
                let mut d = Rng::stream(ctx.seed, DOMAIN_DIRT, index);
                self.soil(ctx, &mut d);
                self.original = Some(orig);
            }
        }
        self.ext_id.clear();
        push_ext_id(&mut self.ext_id, index);
    }

    fn clear(&mut self) {
        for s in [
            &mut self.ext_id,
            &mut self.name,
            &mut self.email,
            &mut self.phone,
            &mut self.company,
            &mut self.street,
            &mut self.city,
            &mut self.region,
            &mut self.postcode,
            &mut self.country,
            &mut self.birth_date,
            &mut self.gender,
            &mut self.source,
            &mut self.created_at,
            &mut self.given,
            &mut self.family,
            &mut self.given_ascii,
            &mut self.family_ascii,
            &mut self.phone_nsn,
        ] {
            s.clear();
        }
        self.company_legal = "";
        self.street_type = None;
        self.birth = None;
        self.birth_slash = false;
        self.phone_mobile = true;
        self.phone_area_len = 0;
        self.phone_style = 0;
    }

    fn fill_clean(&mut self, ctx: &Ctx, r: &mut Rng) {
        self.clear();
        let zh = match ctx.locale {
            Locale::Zh => true,
            Locale::En => false,
            Locale::Mixed => r.chance(0.5),
        };
        self.nation = if zh {
            Nation::Cn
        } else {
            r.pick_weighted(&[(Nation::Us, 5), (Nation::Uk, 3), (Nation::Au, 2)])
        };
        let female = r.chance(0.5);
        self.set_created(ctx, r, None);
        if zh {
            self.fill_zh(ctx, r, female);
        } else {
            self.fill_en(ctx, r, female);
        }
    }

    /// Picks a creation date in the five years before the end date (recent
    /// dates a little likelier: the customer base grows), at most
    /// `max_back` days before the end when given.
    fn set_created(&mut self, ctx: &Ctx, r: &mut Rng, max_back: Option<i32>) {
        let span: u64 = 5 * 365 + 1;
        let back = if r.chance(0.5) {
            r.below(span)
        } else {
            r.below(span).min(r.below(span))
        } as i32;
        let back = match max_back {
            Some(limit) => back % (limit.max(0) + 1),
            None => back,
        };
        self.created_day = ctx.end_day - back;
        let (y, m, d) = civil_from_days(self.created_day);
        self.created_at.clear();
        let style = r.below(20);
        if style < 11 {
            push_iso(&mut self.created_at, y, m, d);
            push_time(&mut self.created_at, 7 * 3600 + r.below(17 * 3600) as u32);
        } else if style < 17 {
            push_iso(&mut self.created_at, y, m, d);
        } else {
            push_slash(&mut self.created_at, y, m, d);
        }
    }

    fn set_birth(&mut self, ctx: &Ctx, r: &mut Rng, absent: f64, slash: f64) {
        if r.chance(absent) {
            return;
        }
        let mut age = 18 + r.below(8) + r.below(8) + r.below(8);
        if r.chance(0.4) {
            age += r.below(39);
        }
        let day = ctx.end_day - (age * 365 + r.below(365)) as i32;
        self.birth = Some(civil_from_days(day));
        self.birth_slash = r.chance(slash);
        self.write_birth();
    }

    fn write_birth(&mut self) {
        self.birth_date.clear();
        if let Some((y, m, d)) = self.birth {
            if self.birth_slash {
                push_slash(&mut self.birth_date, y, m, d);
            } else {
                push_iso(&mut self.birth_date, y, m, d);
            }
        }
    }

    fn fill_zh(&mut self, ctx: &Ctx, r: &mut Rng, female: bool) {
        let (fam, fam_py) = r.pick_weighted(CN_SURNAMES);
        self.family.push_str(fam);
        self.family_ascii.push_str(fam_py);
        let gendered = if female {
            CN_GIVEN_FEMALE
        } else {
            CN_GIVEN_MALE
        };
        let len = if r.chance(0.25) { 1 } else { 2 };
        // Initials of the given name, for local parts like "zwh1988".
        let mut initials = [b'x'; 2];
        for slot in initials.iter_mut().take(len) {
            let pool = if r.chance(0.7) {
                gendered
            } else {
                CN_GIVEN_NEUTRAL
            };
            let (han, py) = r.pick(pool);
            self.given.push_str(han);
            self.given_ascii.push_str(py);
            *slot = py.as_bytes().first().copied().unwrap_or(b'x');
        }
        self.name.push_str(&self.family);
        self.name.push_str(&self.given);

        let g = r.below(100);
        self.gender.push_str(match (g, female) {
            (0..88, false) => "男",
            (0..88, true) => "女",
            (88..92, false) => "M",
            (88..92, true) => "F",
            (92..94, false) => "male",
            (92..94, true) => "female",
            _ => "",
        });

        self.set_birth(ctx, r, 0.15, 0.12);

        // E-mail.
        if !r.chance(0.06) {
            let domain = r.pick_weighted(CN_EMAIL_DOMAINS);
            if domain == "qq.com" && r.chance(0.5) {
                self.email.push(char::from(b'1' + r.below(9) as u8));
                let n = 5 + r.below(5) as usize;
                push_random_digits(&mut self.email, r, n);
            } else {
                match r.below(10) {
                    0..4 => {
                        self.email.push_str(&self.family_ascii);
                        self.email.push_str(&self.given_ascii);
                        self.push_email_digits(r);
                    }
                    4..6 => {
                        self.email.push_str(&self.given_ascii);
                        self.email.push('.');
                        self.email.push_str(&self.family_ascii);
                    }
                    6..8 => {
                        self.email.push_str(&self.family_ascii);
                        self.email.push('_');
                        self.email.push_str(&self.given_ascii);
                        self.push_email_digits(r);
                    }
                    _ => {
                        let f0 = self.family_ascii.as_bytes().first().copied();
                        self.email.push(char::from(f0.unwrap_or(b'x')));
                        for &b in initials.iter().take(len) {
                            self.email.push(char::from(b));
                        }
                        let n = 3 + r.below(2) as usize;
                        push_random_digits(&mut self.email, r, n);
                    }
                }
            }
            self.email.push('@');
            self.email.push_str(domain);
        }

        // Phone: mainland mobiles.
        if !r.chance(0.03) {
            self.phone_nsn.push_str(r.pick(CN_MOBILE_PREFIXES));
            push_random_digits(&mut self.phone_nsn, r, 8);
            self.phone_mobile = true;
            self.phone_style = weighted_index(r, phone_weights(Nation::Cn, true));
            self.write_phone();
        }

        // Address.
        let (region, city, pc) = r.pick_weighted(CN_PLACES);
        let short_city = city.strip_suffix('市').unwrap_or(city);
        if r.chance(0.8) {
            self.city.push_str(city);
        } else {
            self.city.push_str(short_city);
        }
        let rr = r.below(100);
        if rr < 80 {
            self.region.push_str(region);
        } else if rr < 95 {
            let short = region
                .strip_suffix("壮族自治区")
                .or_else(|| region.strip_suffix('省'))
                .or_else(|| region.strip_suffix('市'))
                .unwrap_or(region);
            self.region.push_str(short);
        }
        if !r.chance(0.05) {
            self.street.push_str(r.pick(CN_ROADS));
            push_u64(&mut self.street, 1 + r.below(1500));
            self.street.push('号');
            if r.chance(0.35) {
                let kind = r.pick(CN_BUILDINGS);
                if kind == "座" {
                    self.street.push(char::from(b'A' + r.below(6) as u8));
                } else {
                    push_u64(&mut self.street, 1 + r.below(30));
                }
                self.street.push_str(kind);
                push_u64(&mut self.street, 1 + r.below(32));
                push_padded(&mut self.street, 1 + r.below(8), 2);
                self.street.push('室');
            }
        }
        if !r.chance(0.08) {
            self.postcode.push_str(pc);
            push_random_digits(&mut self.postcode, r, 2);
        }
        let c = r.below(100);
        self.country.push_str(if c < 75 {
            "中国"
        } else if c < 95 {
            "CN"
        } else {
            "China"
        });

        // Company: about 40% are buying for a business.
        if r.chance(0.4) {
            let home = if r.chance(0.5) {
                short_city
            } else {
                let (_, other, _) = r.pick_weighted(CN_PLACES);
                other.strip_suffix('市').unwrap_or(other)
            };
            self.company.push_str(home);
            self.company.push_str(r.pick(CN_TRADE_WORDS));
            self.company.push_str(r.pick(CN_INDUSTRIES));
            let legal = r.pick_weighted(CN_LEGAL);
            self.company.push_str(legal);
            self.company_legal = legal;
        }

        self.source.push_str(r.pick_weighted(CN_SOURCES));
    }

    fn push_email_digits(&mut self, r: &mut Rng) {
        match r.below(10) {
            0..4 => {}
            4..8 => push_padded(&mut self.email, r.below(100), 2),
            _ => match self.birth {
                Some((y, _, _)) => push_u64(&mut self.email, y.max(0) as u64),
                None => push_u64(&mut self.email, 1960 + r.below(45)),
            },
        }
    }

    fn fill_en(&mut self, ctx: &Ctx, r: &mut Rng, female: bool) {
        let first = r.pick(if female {
            EN_FIRST_FEMALE
        } else {
            EN_FIRST_MALE
        });
        let last = r.pick(EN_LAST);
        self.given.push_str(first);
        self.family.push_str(last);
        push_ascii_lower(&mut self.given_ascii, first);
        push_ascii_lower(&mut self.family_ascii, last);
        let style = r.below(100);
        self.name.push_str(first);
        self.name.push(' ');
        if style < 7 {
            self.name.push(char::from(b'A' + r.below(26) as u8));
            self.name.push_str(". ");
        }
        self.name.push_str(last);
        if style >= 98 {
            self.name = self.name.to_uppercase();
        }

        let g = r.below(100);
        self.gender.push_str(match (g, female) {
            (0..45, false) => "M",
            (0..45, true) => "F",
            (45..70, false) => "male",
            (45..70, true) => "female",
            (70..85, false) => "Male",
            (70..85, true) => "Female",
            _ => "",
        });

        self.set_birth(ctx, r, 0.15, 0.05);

        // Place, phone and company depend on the nation.
        let legal_table = match self.nation {
            Nation::Uk => UK_LEGAL,
            Nation::Au => AU_LEGAL,
            _ => US_LEGAL,
        };
        let mobile = r.chance(0.7);
        self.phone_mobile = mobile;
        match self.nation {
            Nation::Uk => {
                let (city, nation, outward, area) = r.pick_weighted(UK_PLACES);
                self.city.push_str(city);
                if r.chance(0.6) {
                    self.region.push_str(nation);
                }
                self.postcode.push_str(r.pick(outward));
                self.postcode.push(' ');
                push_random_digits(&mut self.postcode, r, 1);
                for _ in 0..2 {
                    let letters = b"ABDEFGHJLNPQRSTUWXYZ";
                    self.postcode.push(char::from(r.pick(letters)));
                }
                let c = r.below(100);
                self.country.push_str(if c < 40 {
                    "UK"
                } else if c < 80 {
                    "United Kingdom"
                } else {
                    "GB"
                });
                if mobile {
                    self.phone_nsn.push('7');
                    self.phone_nsn.push(char::from(b'4' + r.below(6) as u8));
                    push_random_digits(&mut self.phone_nsn, r, 8);
                } else {
                    self.phone_nsn.push_str(area);
                    self.phone_area_len = area.len();
                    self.phone_nsn.push(char::from(b'2' + r.below(8) as u8));
                    push_random_digits(&mut self.phone_nsn, r, 9 - area.len());
                }
            }
            Nation::Au => {
                let (city, state, abbr, lo, hi, area) = r.pick_weighted(AU_PLACES);
                self.city.push_str(city);
                self.region
                    .push_str(if r.chance(0.6) { abbr } else { state });
                push_u64(
                    &mut self.postcode,
                    u64::from(lo) + r.below(u64::from(hi - lo + 1)),
                );
                self.country
                    .push_str(if r.chance(0.7) { "Australia" } else { "AU" });
                if mobile {
                    self.phone_nsn.push('4');
                    push_random_digits(&mut self.phone_nsn, r, 8);
                } else {
                    self.phone_nsn.push_str(area);
                    self.phone_area_len = 1;
                    self.phone_nsn.push(char::from(b'3' + r.below(7) as u8));
                    push_random_digits(&mut self.phone_nsn, r, 7);
                }
            }
            _ => {
                let (city, state, abbr, zip3, area) = r.pick_weighted(US_PLACES);
                self.city.push_str(city);
                self.region
                    .push_str(if r.chance(0.7) { abbr } else { state });
                self.postcode.push_str(zip3);
                push_random_digits(&mut self.postcode, r, 2);
                if r.chance(0.1) {
                    self.postcode.push('-');
                    push_random_digits(&mut self.postcode, r, 4);
                }
                let c = r.below(100);
                self.country.push_str(if c < 40 {
                    "US"
                } else if c < 70 {
                    "USA"
                } else {
                    "United States"
                });
                self.phone_nsn.push_str(area);
                self.phone_area_len = 3;
                self.phone_nsn.push(char::from(b'2' + r.below(8) as u8));
                push_random_digits(&mut self.phone_nsn, r, 6);
            }
        }
        if r.chance(0.05) {
            self.phone_nsn.clear();
        } else {
            self.phone_style = weighted_index(r, phone_weights(self.nation, mobile));
            self.write_phone();
        }
        if r.chance(0.05) {
            self.postcode.clear();
        }

        // Street.
        if !r.chance(0.05) {
            let (full, abbr) = r.pick(EN_STREET_TYPES);
            if self.nation == Nation::Au && r.chance(0.1) {
                self.street.push_str("Unit ");
                push_u64(&mut self.street, 1 + r.below(40));
                self.street.push('/');
            }
            let max = if self.nation == Nation::Us { 9999 } else { 300 };
            push_u64(&mut self.street, 1 + r.below(max));
            self.street.push(' ');
            self.street.push_str(r.pick(EN_STREET_NAMES));
            self.street.push(' ');
            self.street.push_str(full);
            self.street_type = Some((full, abbr));
            if self.nation == Nation::Us && r.chance(0.1) {
                self.street.push_str(" Apt ");
                push_u64(&mut self.street, 1 + r.below(30));
            }
        }

        // Company.
        let work_word = if r.chance(0.4) {
            let word = r.pick(EN_COMPANY_WORDS);
            self.company.push_str(word);
            self.company.push(' ');
            self.company.push_str(r.pick(EN_INDUSTRIES));
            self.company.push(' ');
            let legal = r.pick_weighted(legal_table);
            self.company.push_str(legal);
            self.company_legal = legal;
            Some(word)
        } else {
            None
        };

        // E-mail.
        if !r.chance(0.07) {
            let capitals = r.chance(0.05);
            let (f, l) = if capitals {
                (first, last)
            } else {
                (self.given_ascii.as_str(), self.family_ascii.as_str())
            };
            let mut local = String::new();
            match r.below(100) {
                0..40 => {
                    push_ascii(&mut local, f);
                    local.push('.');
                    push_ascii(&mut local, l);
                }
                40..55 => {
                    push_ascii(&mut local, f);
                    push_ascii(&mut local, l);
                    push_padded(&mut local, r.below(100), 2);
                }
                55..70 => {
                    push_ascii(&mut local, &f[..1.min(f.len())]);
                    push_ascii(&mut local, l);
                }
                70..80 => {
                    push_ascii(&mut local, f);
                    local.push('_');
                    push_ascii(&mut local, l);
                }
                80..90 => {
                    push_ascii(&mut local, f);
                    push_u64(&mut local, 1 + r.below(9999));
                }
                _ => {
                    push_ascii(&mut local, f);
                    local.push('.');
                    push_ascii(&mut local, l);
                    push_u64(&mut local, 1 + r.below(99));
                }
            }
            self.email.push_str(&local);
            self.email.push('@');
            match work_word {
                Some(word) if r.chance(0.3) => {
                    push_ascii_lower(&mut self.email, word);
                    self.email.push_str(match self.nation {
                        Nation::Uk => ".co.uk",
                        Nation::Au => ".com.au",
                        _ => ".com",
                    });
                }
                _ => self
                    .email
                    .push_str(r.pick_weighted(self.nation.email_domains())),
            }
        }

        self.source.push_str(r.pick_weighted(EN_SOURCES));
    }

    fn write_phone(&mut self) {
        self.phone.clear();
        write_phone(
            &mut self.phone,
            self.nation,
            &self.phone_nsn,
            self.phone_mobile,
            self.phone_area_len,
            self.phone_style,
        );
    }

    /// Turns the clean copy into a planted duplicate: 1-3 effective changes
    /// of the kinds a second data-entry pass produces, then its own
    /// creation date (not before the original's) and source.
    fn soil(&mut self, ctx: &Ctx, r: &mut Rng) {
        let want = match r.below(100) {
            0..50 => 1,
            50..85 => 2,
            _ => 3,
        };
        let clean: [String; 11] = self.identity().map(str::to_owned);
        let mut done = 0;
        for _ in 0..60 {
            // Two kinds of dirt can cancel out (a typo swapped back), so the
            // row is compared with its clean self as well.
            if done >= want && self.identity() != clean.each_ref().map(String::as_str) {
                break;
            }
            if self.mutate(r.below(12), r) {
                done += 1;
            }
        }
        let since = ctx.end_day - self.created_day;
        self.set_created(ctx, r, Some(since));
        self.source.clear();
        self.source.push_str(if self.nation.is_zh() {
            r.pick_weighted(CN_SOURCES)
        } else {
            r.pick_weighted(EN_SOURCES)
        });
    }

    /// Applies one kind of dirt; false when it would change nothing.
    fn mutate(&mut self, kind: u64, r: &mut Rng) -> bool {
        match kind {
            // Full-width digits, as typed with a Chinese IME.
            0 => {
                if !self.phone.bytes().any(|b| b.is_ascii_digit()) {
                    return false;
                }
                self.phone = to_full_width_digits(&self.phone);
                true
            }
            // Same number, another format (+86 more likely for China).
            1 => {
                if self.phone.is_empty() || self.phone_nsn.is_empty() {
                    return false;
                }
                let n = phone_weights(self.nation, self.phone_mobile).len();
                let new = if self.nation.is_zh() && self.phone_style != 3 && r.chance(0.5) {
                    3
                } else {
                    (self.phone_style + 1 + r.index(n - 1)) % n
                };
                self.phone_style = new;
                self.write_phone();
                true
            }
            // E-mail upper-cased.
            2 => {
                let upper = self.email.to_ascii_uppercase();
                if upper == self.email {
                    return false;
                }
                self.email = upper;
                true
            }
            // E-mail at another provider.
            3 => {
                let Some(at) = self.email.find('@') else {
                    return false;
                };
                let domains = self.nation.email_domains();
                let current = &self.email[at + 1..];
                let pick = r.pick_weighted(domains);
                let pick = if pick == current {
                    domains[(r.index(domains.len() - 1) + 1) % domains.len()].0
                } else {
                    pick
                };
                if pick == current {
                    return false;
                }
                self.email.truncate(at + 1);
                self.email.push_str(pick);
                true
            }
            // E-mail missing.
            4 => blank(&mut self.email),
            // Name typo.
            5 => {
                if self.nation.is_zh() {
                    self.zh_variant(r)
                } else {
                    self.latin_typo(r)
                }
            }
            // Given and family swapped (English), a space inserted (Chinese).
            6 => {
                if self.nation.is_zh() {
                    self.zh_space()
                } else {
                    let sep = if r.chance(0.5) { ", " } else { " " };
                    let swapped = format!("{}{sep}{}", self.family, self.given);
                    if swapped == self.name {
                        return false;
                    }
                    self.name = swapped;
                    true
                }
            }
            // Legal suffix dropped.
            7 => {
                if self.company_legal.is_empty() {
                    return false;
                }
                match self.company.strip_suffix(self.company_legal) {
                    Some(rest) => {
                        let keep = rest.trim_end_matches([' ', ',']).len();
                        self.company.truncate(keep);
                        true
                    }
                    None => false,
                }
            }
            // City missing.
            8 => blank(&mut self.city),
            // Street abbreviated.
            9 => self.abbreviate_street(),
            // Birth date with day and month swapped.
            10 => match self.birth {
                Some((y, m, d)) if d <= 12 && d != m => {
                    self.birth = Some((y, d, m));
                    self.write_birth();
                    true
                }
                _ => false,
            },
            // Some field left blank.
            _ => match r.below(8) {
                0 => blank(&mut self.phone),
                1 => blank(&mut self.email),
                2 => blank(&mut self.company),
                3 => blank(&mut self.street),
                4 => blank(&mut self.postcode),
                5 => {
                    self.birth = None;
                    blank(&mut self.birth_date)
                }
                6 => blank(&mut self.gender),
                _ => blank(&mut self.region),
            },
        }
    }

    fn zh_variant(&mut self, r: &mut Rng) -> bool {
        let candidates = self
            .name
            .chars()
            .filter(|c| CN_VARIANTS.iter().any(|(s, _)| s == c))
            .count();
        if candidates == 0 {
            return self.zh_space();
        }
        let target = r.index(candidates);
        let mut seen = 0;
        let mut out = String::with_capacity(self.name.len() + 3);
        for c in self.name.chars() {
            match CN_VARIANTS.iter().find(|(s, _)| *s == c) {
                Some(&(_, v)) => {
                    out.push(if seen == target { v } else { c });
                    seen += 1;
                }
                None => out.push(c),
            }
        }
        self.name = out;
        true
    }

    fn zh_space(&mut self) -> bool {
        if self.name.contains(' ') || !self.name.starts_with(self.family.as_str()) {
            return false;
        }
        self.name.insert(self.family.len(), ' ');
        true
    }

    fn latin_typo(&mut self, r: &mut Rng) -> bool {
        let chars: Vec<char> = self.name.chars().collect();
        let spots: Vec<usize> = (1..chars.len())
            .filter(|&i| chars[i].is_alphabetic())
            .collect();
        if spots.is_empty() {
            return false;
        }
        let i = spots[r.index(spots.len())];
        let mut out = chars.clone();
        match r.below(3) {
            0 if i + 1 < chars.len()
                && chars[i + 1].is_alphabetic()
                && chars[i] != chars[i + 1] =>
            {
                out.swap(i, i + 1);
            }
            1 => {
                out.remove(i);
            }
            _ => out.insert(i, chars[i]),
        }
        if out == chars {
            return false;
        }
        self.name = out.into_iter().collect();
        true
    }

    fn abbreviate_street(&mut self) -> bool {
        if self.street.is_empty() {
            return false;
        }
        if let Some((full, abbr)) = self.street_type {
            let word = format!(" {full}");
            if let Some(pos) = self.street.find(&word) {
                let mut out = String::with_capacity(self.street.len());
                out.push_str(&self.street[..pos + 1]);
                out.push_str(abbr);
                out.push_str(&self.street[pos + word.len()..]);
                self.street = out;
                return true;
            }
            return false;
        }
        // Chinese: the room part dropped, or the number typed full-width.
        match self.street.find('号') {
            Some(pos) if pos + '号'.len_utf8() < self.street.len() => {
                self.street.truncate(pos + '号'.len_utf8());
                true
            }
            _ => {
                let wide = to_full_width_digits(&self.street);
                if wide == self.street {
                    return false;
                }
                self.street = wide;
                true
            }
        }
    }
}

/// Pushes the ext_id of row `index` ("C0000001" for row 0).
pub fn push_ext_id(buf: &mut String, index: u64) {
    buf.push('C');
    push_padded(buf, index + 1, 7);
}

fn blank(s: &mut String) -> bool {
    if s.is_empty() {
        return false;
    }
    s.clear();
    true
}

fn push_ascii(buf: &mut String, s: &str) {
    buf.extend(s.chars().filter(char::is_ascii_alphanumeric));
}

fn push_ascii_lower(buf: &mut String, s: &str) {
    buf.extend(
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase()),
    );
}

fn weighted_index(r: &mut Rng, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    let mut x = r.below(total);
    for (i, &w) in weights.iter().enumerate() {
        if x < u64::from(w) {
            return i;
        }
        x -= u64::from(w);
    }
    weights.len() - 1
}

/// Relative frequency of each written phone form, by nation and line type;
/// `write_phone` gives the forms.
fn phone_weights(nation: Nation, mobile: bool) -> &'static [u32] {
    match (nation, mobile) {
        (Nation::Cn, _) => &[40, 15, 15, 15, 10, 5],
        (Nation::Us, _) => &[30, 30, 15, 5, 10, 10],
        (Nation::Uk, true) => &[40, 30, 10, 20],
        (Nation::Uk, false) => &[50, 30, 10, 10],
        (Nation::Au, true) => &[45, 30, 10, 15],
        (Nation::Au, false) => &[35, 35, 30],
    }
}

fn push_groups(buf: &mut String, digits: &str, sizes: &[usize], sep: char) {
    let mut at = 0;
    for (k, &n) in sizes.iter().enumerate() {
        if k > 0 {
            buf.push(sep);
        }
        let end = (at + n).min(digits.len());
        buf.push_str(&digits[at..end]);
        at = end;
    }
    buf.push_str(&digits[at..]);
}

/// Writes a national significant number in one of the real-world forms.
fn write_phone(
    buf: &mut String,
    nation: Nation,
    nsn: &str,
    mobile: bool,
    area_len: usize,
    style: usize,
) {
    match (nation, mobile) {
        // 13800138000, 138-0013-8000, 138 0013 8000, +86 138 0013 8000,
        // +8613800138000, 86-13800138000
        (Nation::Cn, _) => match style {
            0 => buf.push_str(nsn),
            1 => push_groups(buf, nsn, &[3, 4, 4], '-'),
            2 => push_groups(buf, nsn, &[3, 4, 4], ' '),
            3 => {
                buf.push_str("+86 ");
                push_groups(buf, nsn, &[3, 4, 4], ' ');
            }
            4 => {
                buf.push_str("+86");
                buf.push_str(nsn);
            }
            _ => {
                buf.push_str("86-");
                buf.push_str(nsn);
            }
        },
        // (415) 555-0123, 415-555-0123, +1 415 555 0123, +1-415-555-0123,
        // 4155550123, 415.555.0123
        (Nation::Us, _) => match style {
            0 => {
                buf.push('(');
                buf.push_str(&nsn[..3]);
                buf.push_str(") ");
                push_groups(buf, &nsn[3..], &[3, 4], '-');
            }
            1 => push_groups(buf, nsn, &[3, 3, 4], '-'),
            2 => {
                buf.push_str("+1 ");
                push_groups(buf, nsn, &[3, 3, 4], ' ');
            }
            3 => {
                buf.push_str("+1-");
                push_groups(buf, nsn, &[3, 3, 4], '-');
            }
            4 => buf.push_str(nsn),
            _ => push_groups(buf, nsn, &[3, 3, 4], '.'),
        },
        // 07700 900123, +44 7700 900123, +447700900123, 07700900123
        (Nation::Uk, true) => match style {
            0 => {
                buf.push('0');
                push_groups(buf, nsn, &[4, 6], ' ');
            }
            1 => {
                buf.push_str("+44 ");
                push_groups(buf, nsn, &[4, 6], ' ');
            }
            2 => {
                buf.push_str("+44");
                buf.push_str(nsn);
            }
            _ => {
                buf.push('0');
                buf.push_str(nsn);
            }
        },
        // 020 7946 0958, +44 20 7946 0958, (020) 7946 0958, 02079460958
        (Nation::Uk, false) => {
            let groups: &[usize] = if area_len == 2 {
                &[2, 4, 4]
            } else {
                &[3, 3, 4]
            };
            match style {
                0 => {
                    buf.push('0');
                    push_groups(buf, nsn, groups, ' ');
                }
                1 => {
                    buf.push_str("+44 ");
                    push_groups(buf, nsn, groups, ' ');
                }
                2 => {
                    buf.push_str("(0");
                    buf.push_str(&nsn[..area_len]);
                    buf.push_str(") ");
                    push_groups(buf, &nsn[area_len..], &groups[1..], ' ');
                }
                _ => {
                    buf.push('0');
                    buf.push_str(nsn);
                }
            }
        }
        // 0412 345 678, +61 412 345 678, +61412345678, 0412345678
        (Nation::Au, true) => match style {
            0 => {
                buf.push('0');
                push_groups(buf, nsn, &[3, 3, 3], ' ');
            }
            1 => {
                buf.push_str("+61 ");
                push_groups(buf, nsn, &[3, 3, 3], ' ');
            }
            2 => {
                buf.push_str("+61");
                buf.push_str(nsn);
            }
            _ => {
                buf.push('0');
                buf.push_str(nsn);
            }
        },
        // (02) 9374 4000, 02 9374 4000, +61 2 9374 4000
        (Nation::Au, false) => match style {
            0 => {
                buf.push_str("(0");
                buf.push_str(&nsn[..1]);
                buf.push_str(") ");
                push_groups(buf, &nsn[1..], &[4, 4], ' ');
            }
            1 => {
                buf.push('0');
                push_groups(buf, nsn, &[1, 4, 4], ' ');
            }
            _ => {
                buf.push_str("+61 ");
                push_groups(buf, nsn, &[1, 4, 4], ' ');
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(nation: Nation, nsn: &str, mobile: bool, area_len: usize, style: usize) -> String {
        let mut s = String::new();
        write_phone(&mut s, nation, nsn, mobile, area_len, style);
        s
    }

    #[test]
    fn phone_forms_are_the_real_ones() {
        let cn = "13800138000";
        let got: Vec<String> = (0..6).map(|s| phone(Nation::Cn, cn, true, 0, s)).collect();
        assert_eq!(
            got,
            [
                "13800138000",
                "138-0013-8000",
                "138 0013 8000",
                "+86 138 0013 8000",
                "+8613800138000",
                "86-13800138000"
            ]
        );
        assert_eq!(
            phone(Nation::Us, "4155550123", false, 3, 0),
            "(415) 555-0123"
        );
        assert_eq!(
            phone(Nation::Us, "4155550123", false, 3, 2),
            "+1 415 555 0123"
        );
        assert_eq!(phone(Nation::Uk, "7700900123", true, 0, 0), "07700 900123");
        assert_eq!(
            phone(Nation::Uk, "2079460958", false, 2, 1),
            "+44 20 7946 0958"
        );
        assert_eq!(
            phone(Nation::Uk, "2079460958", false, 2, 2),
            "(020) 7946 0958"
        );
        assert_eq!(
            phone(Nation::Uk, "1614960000", false, 3, 0),
            "0161 496 0000"
        );
        assert_eq!(phone(Nation::Au, "412345678", true, 0, 0), "0412 345 678");
        assert_eq!(
            phone(Nation::Au, "293744000", false, 1, 0),
            "(02) 9374 4000"
        );
        assert_eq!(
            phone(Nation::Au, "293744000", false, 1, 2),
            "+61 2 9374 4000"
        );
    }

    #[test]
    fn weights_match_the_forms() {
        for nation in [Nation::Cn, Nation::Us, Nation::Uk, Nation::Au] {
            for mobile in [true, false] {
                let n = phone_weights(nation, mobile).len();
                assert!(n >= 3);
            }
        }
    }

    #[test]
    fn every_mutation_kind_changes_something_somewhere() {
        let ctx = Ctx::for_test(Locale::Mixed);
        let mut changed = [false; 12];
        let mut p = Person::default();
        for i in 0..300 {
            let mut r = Rng::stream(9, DOMAIN_PERSON, i);
            p.fill_clean(&ctx, &mut r);
            for (kind, flag) in changed.iter_mut().enumerate() {
                let mut q = p.clone();
                let before = q.fields().map(str::to_owned);
                if q.mutate(kind as u64, &mut r) {
                    assert_ne!(before, q.fields().map(str::to_owned), "kind {kind}");
                    *flag = true;
                }
            }
        }
        assert!(changed.iter().all(|&c| c), "{changed:?}");
    }

    #[test]
    fn chinese_variants_and_spaces() {
        let ctx = Ctx::for_test(Locale::Zh);
        let mut p = Person::default();
        let mut r = Rng::new(5);
        p.fill_clean(&ctx, &mut r);
        p.name = "张伟".into();
        p.family = "张".into();
        assert!(p.zh_variant(&mut r));
        assert!(["張伟", "张偉"].contains(&p.name.as_str()), "{}", p.name);
        p.name = "张伟".into();
        assert!(p.zh_space());
        assert_eq!(p.name, "张 伟");
    }
}
