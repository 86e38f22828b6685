//! What a customer looks like to duplicate detection: every field folded
//! once into the form comparisons and blocking keys use, so that the hot
//! loop over millions of candidate pairs only compares integers and short
//! ASCII strings.
//!
//! The folding is where "the same value written differently" becomes equal:
//! Han characters become their pinyin (so traditional, simplified and
//! same-reading variants meet, and a name typed in pinyin meets the same name
//! in characters), name tokens are sorted (so "Zhang, Wei" meets "Wei
//! Zhang"), Gmail addresses lose dots and `+tags`, company names lose their
//! legal form (有限公司, Ltd, GmbH ...), street types are abbreviated, and a
//! trailing 市 leaves city names. Values that are only compared for equality
//! are kept as 64-bit hashes.

use std::hash::BuildHasher;

use chrono::Datelike;
use pinyin::ToPinyin;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::model::{Customer, CustomerId};
use crate::search::query::key_chars;

/// A 64-bit hash of `bytes` under a fixed seed (the same in every run, so
/// scans are deterministic). Never 0: 0 means "no value".
pub(crate) fn hash(seed: u64, bytes: &[u8]) -> u64 {
    let h = foldhash::fast::FixedState::with_seed(seed).hash_one(bytes);
    h.max(1)
}

/// Hash seeds, one per kind of value, so that equal text in two fields does
/// not collide.
pub(crate) mod seed {
    pub const NAME_EXACT: u64 = 11;
    pub const NAME_KEY: u64 = 12;
    pub const PHONETIC: u64 = 13;
    pub const EMAIL: u64 = 14;
    pub const LOCAL: u64 = 15;
    pub const CITY: u64 = 16;
    pub const POSTCODE: u64 = 17;
    pub const COMPANY: u64 = 18;
    pub const EXT_ID: u64 = 19;
    pub const ADDRESS: u64 = 20;
    pub const ATTR_ID: u64 = 21;
    pub const STREET: u64 = 22;
}

/// A customer's name, folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// Hash of the lower-cased letters, digits and Han characters in order
    /// (spaces and punctuation dropped): "张 伟" and "张伟" are equal,
    /// "張伟" is not.
    pub exact: u64,
    /// The tokens (pinyin syllables for Han characters, Latin words with
    /// diacritics removed; initials and titles dropped), sorted, joined by
    /// spaces: "wei zhang" for 张伟, 張偉, "Zhang Wei" and "Wei, Zhang".
    pub key: Box<str>,
    /// The same tokens in written order, without spaces ("zhangwei",
    /// "johnsmith"): what Jaro-Winkler compares, since sorting would move
    /// a typo in the first letter far away.
    pub spelled: Box<str>,
    /// Hash of the sorted phonetic codes of the tokens (Soundex for Latin
    /// words, pinyin with z/zh, c/ch, s/sh, n/ng, l/n merged for syllables).
    pub phonetic: u64,
    /// Whether the written name has Han characters.
    pub has_han: bool,
    /// For a name written in Han characters only: the length of the
    /// family name's pinyin at the start of `spelled` (its first
    /// character); 0 otherwise. See [`Name::parts`].
    family_len: u8,
}

impl Name {
    /// The parts of the name a person keeps when the rest changes: the
    /// words of a Latin name; for a name in Han characters the family name
    /// (its first character) and the given name (the rest), since its
    /// single syllables ("wei", "li") are shared by far too many people to
    /// tell anyone apart.
    pub(crate) fn parts(&self) -> impl Iterator<Item = &str> {
        let fl = usize::from(self.family_len);
        let han = (fl > 0 && fl < self.spelled.len() && self.spelled.is_char_boundary(fl))
            .then(|| [&self.spelled[..fl], &self.spelled[fl..]]);
        let words = han.is_none().then(|| self.key.split(' '));
        han.into_iter()
            .flatten()
            .chain(words.into_iter().flatten())
            .filter(|w| !w.is_empty())
    }
}

/// Custom attributes by name, each value folded as an identifier or
/// `None` (see [`fold_identifier`]).
pub(crate) type AttrValues = Box<[(Box<str>, Option<Box<str>>)]>;

/// One customer as duplicate detection sees it.
#[derive(Debug, Clone)]
pub struct Record {
    pub(crate) id: CustomerId,
    pub(crate) ext_id: Option<Box<str>>,
    pub(crate) name: Option<Name>,
    /// Per email: (hash of the canonical address, hash of its canonical
    /// local part). The local part's lowest bit says whether it is spelled
    /// from the name alone (see [`is_name_derived`]).
    pub(crate) emails: Box<[(u64, u64)]>,
    /// E.164 numbers as integers (the digits after '+').
    pub(crate) phones: Box<[u64]>,
    /// The birth date as yyyymmdd, 0 when unknown.
    pub(crate) birth: u32,
    pub(crate) street: Option<Box<str>>,
    /// The company without its legal form, folded.
    pub(crate) company: Option<Box<str>>,
    pub(crate) city: u64,
    pub(crate) postcode: u64,
    /// 1 female, 2 male, 0 unknown or anything else.
    pub(crate) gender: u8,
    /// The identifiers compared, one per picked custom attribute (see
    /// [`Identifiers`]), in the order of the pick; empty until
    /// [`Identifiers::apply`] runs.
    pub(crate) ids: Box<[Option<Box<str>>]>,
    /// Every custom attribute with a value, as an identifier would be
    /// folded (`None` for a value that does not look like one): what
    /// [`Identifiers::detect`] counts. Emptied by [`Identifiers::apply`].
    pub(crate) attrs: AttrValues,
}

impl Record {
    /// Folds a customer for comparison.
    pub fn new(c: &Customer) -> Record {
        fn text(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let name = fold_name(&c.name);
        let mut emails: Vec<(u64, u64)> = c
            .emails
            .iter()
            .filter_map(|e| canonical_email(e))
            .map(|(full, local)| {
                let derived = name
                    .as_ref()
                    .is_some_and(|n| is_name_derived(&local, &n.key));
                (
                    hash(seed::EMAIL, full.as_bytes()),
                    (hash(seed::LOCAL, local.as_bytes()) & !1) | u64::from(derived),
                )
            })
            .collect();
        emails.dedup();
        let mut phones: Vec<u64> = c.phones.iter().filter_map(|p| phone_number(p)).collect();
        phones.dedup();
        Record {
            id: c.id,
            ext_id: text(&c.ext_id).map(Box::from),
            name,
            emails: emails.into_boxed_slice(),
            phones: phones.into_boxed_slice(),
            birth: c.birth_date.map_or(0, |d| {
                d.year().clamp(0, 9999) as u32 * 10_000 + d.month() * 100 + d.day()
            }),
            street: text(&c.street).and_then(fold_street),
            company: text(&c.company).and_then(fold_company),
            city: text(&c.city).map_or(0, |s| hash(seed::CITY, fold_city(s).as_bytes())),
            postcode: text(&c.postcode).map_or(0, fold_postcode),
            gender: text(&c.gender).map_or(0, fold_gender),
            ids: Box::default(),
            attrs: c
                .attrs
                .iter()
                .filter(|(k, v)| !v.trim().is_empty() && k.len() <= MAX_ATTR_NAME)
                .map(|(k, v)| (Box::from(k.as_str()), fold_identifier(v)))
                .collect(),
        }
    }

    /// The customer's id.
    pub fn id(&self) -> CustomerId {
        self.id
    }

    /// The customer's ext_id, if any.
    pub fn ext_id(&self) -> Option<&str> {
        self.ext_id.as_deref()
    }
}

/// The longest custom attribute name looked at.
const MAX_ATTR_NAME: usize = 64;

/// The most custom attributes compared as identifiers.
pub(crate) const MAX_IDS: usize = 3;

/// The fewest records with a value before an attribute can be picked.
const MIN_FILLED: u64 = 10;

/// A value held by more records than this is a crowd (a placeholder like
/// "000000", or a category), not one person's identifier.
const CROWD: u32 = 10;

/// The custom attributes a scan compares as identifiers: a member number,
/// a national id, an old customer code. Nothing names them; they are
/// picked from the data itself (see [`Identifiers::detect`]), so a list
/// with a `soc_sec_id`, a `会员号` or a `legacy_code` column gets it
/// compared, and one without gets nothing new.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identifiers {
    names: Vec<String>,
}

impl Identifiers {
    /// The picked attribute names, in slot order (at most [`MAX_IDS`]).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Identifiers by name (a saved model's); extra names beyond
    /// [`MAX_IDS`] are dropped.
    pub fn from_names(mut names: Vec<String>) -> Identifiers {
        names.truncate(MAX_IDS);
        Identifiers { names }
    }

    /// Picks the attributes that look like identifiers in `records`: held
    /// by at least half of the records (and ten), at least 90% of their
    /// values identifier-shaped (see [`fold_identifier`]: letters and
    /// digits, 4 to 32 of them, not a date, an amount or words), at least
    /// half of them with a digit, at least 30% of them distinct, some
    /// value held by two records, and at most 20% of the values in crowds (held by more than ten records).
    /// Gender, source or segment columns fail on their few distinct values
    /// and their lack of digits, notes and comments on their words, dates
    /// on their shape. The best filled and most distinct come first; ties
    /// by name, so the pick never depends on the order of the records.
    pub fn detect(records: &[Record]) -> Identifiers {
        #[derive(Default)]
        struct Stat<'a> {
            filled: u64,
            shaped: u64,
            digits: u64,
            values: std::collections::HashMap<&'a str, u32, foldhash::fast::FixedState>,
        }
        let mut by_name: std::collections::BTreeMap<&str, Stat> = Default::default();
        for r in records {
            for (k, v) in r.attrs.iter() {
                let st = by_name.entry(k).or_default();
                st.filled += 1;
                if let Some(v) = v {
                    st.shaped += 1;
                    st.digits += u64::from(v.bytes().any(|b| b.is_ascii_digit()));
                    *st.values.entry(v).or_default() += 1;
                }
            }
        }
        // Names that differ only in case, spaces or '-' are one attribute
        // (as in queries), shown under the first of them.
        let mut stats: std::collections::BTreeMap<String, (&str, Stat)> = Default::default();
        for (name, st) in by_name {
            let (_, into) = stats
                .entry(key_chars(name).collect())
                .or_insert_with(|| (name, Stat::default()));
            into.filled += st.filled;
            into.shaped += st.shaped;
            into.digits += st.digits;
            for (v, c) in st.values {
                *into.values.entry(v).or_default() += c;
            }
        }
        let n = records.len() as u64;
        let mut picked: Vec<(f64, &str)> = stats
            .values()
            .filter_map(|(name, st)| {
                let distinct = st.values.len() as u64;
                let crowded: u64 = st
                    .values
                    .values()
                    .filter(|&&c| c > CROWD)
                    .map(|&c| u64::from(c))
                    .sum();
                // Records whose value another record shares: an attribute
                // no two records agree on (a row number, the source
                // system's own key, different on every copy) gives no
                // evidence of a match, only noise in "close".
                let shared: u64 = st
                    .values
                    .values()
                    .filter(|&&c| c >= 2)
                    .map(|&c| u64::from(c))
                    .sum();
                let fit = st.filled >= MIN_FILLED
                    && shared >= 2
                    && st.filled * 2 >= n
                    && st.shaped * 10 >= st.filled * 9
                    && st.digits * 2 >= st.shaped
                    && distinct * 10 >= st.shaped * 3
                    && crowded * 5 <= st.shaped;
                fit.then(|| {
                    let rank = (st.filled as f64 / n as f64) * (distinct as f64 / st.shaped as f64);
                    (rank, *name)
                })
            })
            .collect();
        picked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        Identifiers {
            names: picked
                .into_iter()
                .take(MAX_IDS)
                .map(|(_, n)| n.to_owned())
                .collect(),
        }
    }

    /// Gives every record its identifiers (one slot per picked name) and
    /// drops the other attributes it was carrying for [`Self::detect`].
    pub fn apply(&self, records: &mut [Record]) {
        for r in records {
            let attrs = std::mem::take(&mut r.attrs);
            r.ids = if self.names.is_empty() {
                Box::default()
            } else {
                self.names
                    .iter()
                    .map(|n| {
                        attrs
                            .iter()
                            .find(|(k, _)| key_chars(k).eq(key_chars(n)))
                            .and_then(|(_, v)| v.clone())
                    })
                    .collect()
            };
        }
    }
}

/// A custom attribute's value folded as an identifier: NFKC (full-width
/// digits and letters become ASCII), spaces and the separators
/// (`-`, `_`, `.`, `/`, `+`, `(`, `)`, `#`) removed, letters lower-cased.
/// `None` for anything that does not look like one: fewer than 4 or more
/// than 32 letters and digits, another character (a Han character, '@',
/// ':'), a date, a decimal amount, or words (a word of three letters or
/// more among others: free text).
pub(crate) fn fold_identifier(value: &str) -> Option<Box<str>> {
    let value: String = value.trim().nfkc().collect();
    let value = value.trim();
    if value.len() > 64 {
        return None;
    }
    let mut words = value.split_whitespace();
    if words.clone().count() > 1
        && words.any(|w| w.chars().count() >= 3 && w.chars().all(char::is_alphabetic))
    {
        return None;
    }
    if is_date_like(value) || is_decimal(value) {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !(c.is_whitespace() || matches!(c, '-' | '_' | '.' | '/' | '+' | '(' | ')' | '#'))
        {
            return None;
        }
    }
    (4..=32).contains(&out.len()).then(|| out.into_boxed_str())
}

/// Whether a value reads as a calendar date: three parts split by '-',
/// '/', '.' or spaces with a year (1800-2199) first or last and the others
/// numbers or a month's name ("09-SEP-1956"), or eight digits (also the
/// start of a 12- or 14-digit timestamp) that are a valid yyyymmdd,
/// ddmmyyyy or mmddyyyy.
fn is_date_like(v: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let year = |s: &str| s.len() == 4 && (1800..2200).contains(&s.parse::<u32>().unwrap_or(0));
    let small = |s: &str| {
        ((1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            || (s.len() >= 3
                && s.is_ascii()
                && MONTHS.contains(&s[..3].to_ascii_lowercase().as_str()))
    };
    let parts: Vec<&str> = v
        .split(|c: char| matches!(c, '-' | '/' | '.' | ',') || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() == 3 {
        return (year(parts[0]) && small(parts[1]) && small(parts[2]))
            || (small(parts[0]) && small(parts[1]) && year(parts[2]));
    }
    if ![8, 12, 14].contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if v.len() > 8 {
        let v = &v[..8];
        let num = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(0);
        return (1900..2100).contains(&num(0..4))
            && chrono::NaiveDate::from_ymd_opt(num(0..4) as i32, num(4..6), num(6..8)).is_some();
    }
    let num = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(0);
    let valid = |y: u32, m: u32, d: u32| {
        (1900..2100).contains(&y) && chrono::NaiveDate::from_ymd_opt(y as i32, m, d).is_some()
    };
    valid(num(0..4), num(4..6), num(6..8))
        || valid(num(4..8), num(2..4), num(0..2))
        || valid(num(4..8), num(0..2), num(2..4))
}

/// Whether a value is a decimal amount ("1234.50", "-3,5").
fn is_decimal(v: &str) -> bool {
    let v = v.strip_prefix('-').unwrap_or(v);
    match v.split_once(['.', ',']) {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && b.len() <= 2
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Whether `c` is a Han character (the CJK blocks that carry pinyin).
pub(crate) fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

/// Titles that say nothing about who someone is.
const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam"];

/// Pushes `c` lower-cased and without diacritics ("é" -> "e").
fn push_folded_latin(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for l in c.to_lowercase() {
        for d in std::iter::once(l).nfd() {
            if !is_combining_mark(d) {
                out.push(d);
            }
        }
    }
}

/// A postcode as one number (0 when it has no letters or digits): its
/// letters and digits, upper-cased, packed byte by byte when they are ASCII
/// and at most 8 (nearly every postcode in the world: "SW1A1AA", "200001",
/// "10115"), so that two can still be compared character by character (see
/// [`postcode_chars`]); else a hash with the top bit set, which no packed
/// ASCII text has.
pub(crate) fn fold_postcode(s: &str) -> u64 {
    let folded: String = s
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    if folded.is_empty() {
        0
    } else if folded.is_ascii() && folded.len() <= 8 {
        let mut bytes = [0u8; 8];
        bytes[..folded.len()].copy_from_slice(folded.as_bytes());
        u64::from_le_bytes(bytes)
    } else {
        hash(seed::POSTCODE, folded.as_bytes()) | 1 << 63
    }
}

/// A gender as compared: 1 female, 2 male, 0 for anything else (unknown,
/// other, a value the import could not read), which is never compared.
pub(crate) fn fold_gender(g: &str) -> u8 {
    let code = |g: &str| match g {
        "female" => 1,
        "male" => 2,
        _ => 0,
    };
    // Import stores the canonical words; anything else (an older record,
    // an edit) is read as import would read it.
    match code(g) {
        0 => code(&crate::ingest::normalize::gender(g)),
        c => c,
    }
}

/// The characters of a postcode packed by [`fold_postcode`] and their
/// count; `None` for a hashed one.
pub(crate) fn postcode_chars(p: u64) -> Option<([u8; 8], usize)> {
    if p == 0 || p >> 63 == 1 {
        return None;
    }
    let bytes = p.to_le_bytes();
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(8);
    Some((bytes, len))
}

/// Folds a name (see [`Name`]); `None` when it has no letters.
pub(crate) fn fold_name(name: &str) -> Option<Name> {
    let mut exact = String::with_capacity(name.len());
    let mut tokens: Vec<String> = Vec::with_capacity(4);
    let mut from_han: Vec<bool> = Vec::with_capacity(4);
    let mut word = String::new();
    let mut has_han = false;
    let flush = |word: &mut String, tokens: &mut Vec<String>, from_han: &mut Vec<bool>| {
        if !word.is_empty() {
            tokens.push(std::mem::take(word));
            from_han.push(false);
        }
    };
    for c in name.chars() {
        if is_han(c) {
            has_han = true;
            exact.push(c);
            flush(&mut word, &mut tokens, &mut from_han);
            match c.to_pinyin() {
                Some(p) => tokens.push(p.plain().replace('ü', "v")),
                None => tokens.push(c.to_string()),
            }
            from_han.push(true);
        } else if c.is_alphanumeric() {
            push_folded_latin(&mut exact, c);
            push_folded_latin(&mut word, c);
        } else if c == '\'' || c == '\u{2019}' {
            // O'Brien and OBrien are one word.
        } else {
            flush(&mut word, &mut tokens, &mut from_han);
        }
    }
    flush(&mut word, &mut tokens, &mut from_han);
    if exact.is_empty() {
        return None;
    }
    let mut kept: Vec<&str> = tokens
        .iter()
        .zip(&from_han)
        .filter(|(t, han)| **han || (t.chars().count() > 1 && !TITLES.contains(&t.as_str())))
        .map(|(t, _)| t.as_str())
        .collect();
    if kept.is_empty() {
        kept = tokens.iter().map(String::as_str).collect();
    }
    let spelled: String = kept.concat();
    let mut phon: Vec<String> = kept
        .iter()
        .zip(from_han.iter())
        .map(|(t, han)| {
            if *han || is_pinyin_syllable(t) {
                fuzzy_pinyin(t)
            } else {
                soundex(t)
            }
        })
        .collect();
    phon.sort_unstable();
    let phonetic = hash(seed::PHONETIC, phon.join(" ").as_bytes());
    let family_len = if kept.len() >= 2 && from_han.iter().all(|h| *h) {
        u8::try_from(kept[0].len()).unwrap_or(0)
    } else {
        0
    };
    kept.sort_unstable();
    let key = kept.join(" ");
    Some(Name {
        exact: hash(seed::NAME_EXACT, exact.as_bytes()),
        key: key.into_boxed_str(),
        spelled: spelled.into_boxed_str(),
        phonetic,
        has_han,
        family_len,
    })
}

/// Whether a Latin token is (most likely) one pinyin syllable, so that
/// "Zhang Wei" gets the same phonetic key as 张伟.
fn is_pinyin_syllable(t: &str) -> bool {
    const INITIALS: [&str; 23] = [
        "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x",
        "r", "z", "c", "s", "y", "w",
    ];
    const FINALS: [&str; 35] = [
        "a", "o", "e", "i", "u", "v", "ai", "ei", "ui", "ao", "ou", "iu", "ie", "ve", "er", "an",
        "en", "in", "un", "vn", "ang", "eng", "ing", "ong", "ia", "iao", "ian", "iang", "iong",
        "ua", "uo", "uai", "uan", "uang", "ue",
    ];
    if !t.is_ascii() || t.len() > 6 {
        return false;
    }
    let rest = INITIALS.iter().find_map(|i| t.strip_prefix(i)).unwrap_or(t);
    FINALS.contains(&rest)
}

/// A pinyin syllable with the distinctions southern speakers and hurried
/// typists blur merged: zh/z, ch/c, sh/s, final ng/n, initial n/l.
fn fuzzy_pinyin(s: &str) -> String {
    let s = s
        .strip_prefix("zh")
        .map(|r| format!("z{r}"))
        .or_else(|| s.strip_prefix("ch").map(|r| format!("c{r}")))
        .or_else(|| s.strip_prefix("sh").map(|r| format!("s{r}")))
        .or_else(|| s.strip_prefix('n').map(|r| format!("l{r}")))
        .unwrap_or_else(|| s.to_owned());
    match s.strip_suffix("ng") {
        Some(r) => format!("{r}n"),
        None => s,
    }
}

/// American Soundex of a Latin word ("robert" -> "R163"); a word with no
/// ASCII letter is its own code.
pub(crate) fn soundex(word: &str) -> String {
    fn code(c: u8) -> u8 {
        match c {
            b'b' | b'f' | b'p' | b'v' => b'1',
            b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
            b'd' | b't' => b'3',
            b'l' => b'4',
            b'm' | b'n' => b'5',
            b'r' => b'6',
            b'h' | b'w' => b'h',
            _ => b'0',
        }
    }
    let letters: Vec<u8> = word
        .bytes()
        .filter(u8::is_ascii_alphabetic)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let Some(&first) = letters.first() else {
        return word.to_owned();
    };
    let mut out = vec![first.to_ascii_uppercase()];
    let mut last = code(first);
    for &b in &letters[1..] {
        let c = code(b);
        if c == b'h' {
            // h and w do not separate equal codes.
            continue;
        }
        if c != b'0' && c != last {
            out.push(c);
            if out.len() == 4 {
                break;
            }
        }
        last = c;
    }
    while out.len() < 4 {
        out.push(b'0');
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Providers that ignore dots in the local part.
const DOTLESS: &[&str] = &["gmail.com", "googlemail.com"];

/// The canonical address and local part: lower-cased; a `+tag` dropped
/// (every major provider delivers `a+x@` to `a@`); for Gmail, dots dropped
/// and googlemail.com read as gmail.com. `None` for text without '@'.
pub(crate) fn canonical_email(email: &str) -> Option<(String, String)> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let local = local.split('+').next().unwrap_or(local);
    let (local, domain) = if DOTLESS.contains(&domain) {
        (local.replace('.', ""), "gmail.com")
    } else {
        (local.to_owned(), domain)
    };
    if local.is_empty() {
        return None;
    }
    let full = format!("{local}@{domain}");
    // Dots are the usual variation (and Gmail ignores them); '_' and '-'
    // tell different people apart ("c_smith" and "csmith").
    let bare_local = local.replace('.', "");
    Some((full, bare_local))
}

/// Whether an email's local part says nothing beyond the name: its letters
/// (digits and separators ignored) are the name's tokens in some order, or
/// one token's initial and another token ("zhangwei", "wei.zhang88",
/// "jsmith"). Two namesakes easily share such a local part at different
/// providers, so it is no evidence of its own once the names agree.
pub(crate) fn is_name_derived(local: &str, name_key: &str) -> bool {
    let letters: String = local.chars().filter(char::is_ascii_alphabetic).collect();
    if letters.is_empty() {
        return false;
    }
    let tokens: Vec<&str> = name_key.split(' ').filter(|t| !t.is_empty()).collect();
    if tokens.is_empty() || tokens.len() > 4 {
        return false;
    }
    if letters == tokens.concat() {
        return true;
    }
    let n = tokens.len();
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let (a, b) = (tokens[i], tokens[j]);
            if letters.len() == a.len() + b.len() && letters.starts_with(a) && letters.ends_with(b)
            {
                return true;
            }
            if letters.len() == 1 + b.len()
                && letters.as_bytes()[0] == a.as_bytes()[0]
                && letters.ends_with(b)
            {
                return true;
            }
        }
    }
    false
}

/// An E.164 number's digits as an integer; `None` for anything else.
pub(crate) fn phone_number(phone: &str) -> Option<u64> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 || digits.len() > 15 {
        return None;
    }
    digits.parse().ok()
}

/// A city folded: lower-case, a trailing 市 or " city" dropped.
pub(crate) fn fold_city(city: &str) -> String {
    let lower = city.trim().to_lowercase();
    let s = lower
        .strip_suffix('市')
        .or_else(|| lower.strip_suffix(" city"))
        .unwrap_or(&lower);
    s.trim().to_owned()
}

/// Street types, directions and flat words: the folded form, and the
/// words that fold to it. Types are written out ("st" is "street"), so a
/// mistyped or split type ("sreet", "pikea venue") stays a small edit
/// away; directions and "unit" become their letter, since expanding a
/// lone letter would turn "carav n park" into "carav north park".
const STREET_WORDS: &[(&str, &[&str])] = &[
    ("street", &["st", "str"]),
    ("avenue", &["ave", "av"]),
    ("road", &["rd"]),
    ("lane", &["ln"]),
    ("drive", &["dr"]),
    ("boulevard", &["blvd"]),
    ("court", &["ct"]),
    ("place", &["pl"]),
    ("terrace", &["tce"]),
    ("crescent", &["cres"]),
    ("highway", &["hwy"]),
    ("parkway", &["pkwy"]),
    ("square", &["sq"]),
    ("apartment", &["apt"]),
    ("u", &["unit"]),
    ("n", &["north"]),
    ("s", &["south"]),
    ("e", &["east"]),
    ("w", &["west"]),
];

/// Ordinals written out, and their numeric form: "fourth street" is
/// "4th street".
const ORDINALS: &[(&str, &str)] = &[
    ("1st", "first"),
    ("2nd", "second"),
    ("3rd", "third"),
    ("4th", "fourth"),
    ("5th", "fifth"),
    ("6th", "sixth"),
    ("7th", "seventh"),
    ("8th", "eighth"),
    ("9th", "ninth"),
    ("10th", "tenth"),
    ("11th", "eleventh"),
    ("12th", "twelfth"),
    ("13th", "thirteenth"),
    ("14th", "fourteenth"),
    ("15th", "fifteenth"),
    ("16th", "sixteenth"),
    ("17th", "seventeenth"),
    ("18th", "eighteenth"),
    ("19th", "nineteenth"),
    ("20th", "twentieth"),
];

/// Whether a folded street word is an ordinal in digits ("4th", "51st"):
/// a street's name, not a house number.
pub(crate) fn is_ordinal(w: &str) -> bool {
    ["st", "nd", "rd", "th"].iter().any(|suffix| {
        w.strip_suffix(suffix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Whether a folded street word is a street type, direction or flat word
/// (street, avenue ... n, u): it says little about where someone lives.
pub(crate) fn is_street_type(w: &str) -> bool {
    STREET_WORDS.iter().any(|(full, _)| *full == w)
}

/// Splits text into lower-case words: runs of letters and digits, with
/// every run of Han characters kept as one word.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut w = String::new();
    let mut w_han = false;
    for c in s.chars() {
        let han = is_han(c);
        if c.is_alphanumeric() {
            if !w.is_empty() && han != w_han {
                out.push(std::mem::take(&mut w));
            }
            w_han = han;
            push_folded_latin(&mut w, c);
        } else if !w.is_empty() {
            out.push(std::mem::take(&mut w));
        }
    }
    if !w.is_empty() {
        out.push(w);
    }
    out
}

/// A street folded: lower-case words, street types written out,
/// directions abbreviated (see `STREET_WORDS`) and ordinals in digits
/// ("ninth" is "9th").
pub(crate) fn fold_street(street: &str) -> Option<Box<str>> {
    let ws: Vec<String> = words(street)
        .into_iter()
        .map(|w| {
            if let Some((full, _)) = STREET_WORDS
                .iter()
                .find(|(_, abbrs)| abbrs.contains(&w.as_str()))
            {
                (*full).to_owned()
            } else if let Some((digits, _)) = ORDINALS.iter().find(|(_, word)| *word == w) {
                (*digits).to_owned()
            } else {
                w
            }
        })
        .collect();
    (!ws.is_empty()).then(|| ws.join(" ").into_boxed_str())
}

/// Legal forms, longest first; Chinese ones are stripped as suffixes of a
/// Han run, Latin ones as trailing words.
const CN_LEGAL: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "分公司",
    "公司",
];
const LATIN_LEGAL: &[&str] = &[
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "co",
    "company",
    "pty",
    "sa",
    "sarl",
    "bv",
    "nv",
    "oy",
    "ab",
    "kk",
    "srl",
    "spa",
];

/// A company folded: lower-case words without the legal form ("Acme Pty
/// Ltd" and "ACME" are "acme"; 北京华信科技有限公司 is 北京华信科技).
pub(crate) fn fold_company(company: &str) -> Option<Box<str>> {
    // 有限責任公司 is the traditional form of 有限责任公司.
    let company = company.replace('責', "责");
    let mut ws = words(&company);
    // "L.L.C." splits into one-letter words: join a trailing run of them.
    let letters = ws
        .iter()
        .rev()
        .take_while(|w| w.len() == 1 && w.is_ascii())
        .count();
    if letters > 1 && letters < ws.len() {
        let run: String = ws.split_off(ws.len() - letters).concat();
        ws.push(run);
    }
    while let Some(last) = ws.last() {
        if ws.len() > 1 && LATIN_LEGAL.contains(&last.as_str()) {
            ws.pop();
            continue;
        }
        let han = last.chars().next().is_some_and(is_han);
        let rest = CN_LEGAL.iter().find_map(|l| last.strip_suffix(l));
        match rest {
            Some("") if han && ws.len() > 1 => {
                ws.pop();
            }
            Some(rest) if han && !rest.is_empty() => {
                let rest = rest.to_owned();
                if let Some(l) = ws.last_mut() {
                    *l = rest;
                }
            }
            _ => break,
        }
    }
    (!ws.is_empty()).then(|| ws.join(" ").into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        fold_name(s).unwrap_or_else(|| panic!("{s} has a name"))
    }

    #[test]
    fn han_variants_and_pinyin_share_the_name_key() {
        let base = name("张伟");
        for other in [
            "張伟",
            "张偉",
            "張偉",
            "张 伟",
            "Zhang Wei",
            "WEI, Zhang",
            "zhang wei",
        ] {
            assert_eq!(name(other).key, base.key, "{other}");
            assert_eq!(name(other).phonetic, base.phonetic, "{other}");
        }
        assert_eq!(&*base.key, "wei zhang");
        let parts = |s: &str| name(s).parts().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(parts("张小明"), ["zhang", "xiaoming"]);
        assert_eq!(parts("張曉明"), ["zhang", "xiaoming"]);
        assert_eq!(parts("Zhang Xiaoming"), ["xiaoming", "zhang"]);
        assert_eq!(parts("Mary-Jane O'Brien"), ["jane", "mary", "obrien"]);
        assert_eq!(name("张 伟").exact, base.exact);
        assert_ne!(name("張伟").exact, base.exact);
        assert!(base.has_han && !name("Zhang Wei").has_han);
    }

    #[test]
    fn latin_names_fold_order_case_initials_and_diacritics() {
        let base = name("John Smith");
        for other in [
            "Smith, John",
            "JOHN SMITH",
            "John A. Smith",
            "Mr John Smith",
        ] {
            assert_eq!(name(other).key, base.key, "{other}");
        }
        assert_eq!(name("José Núñez").key, name("Jose Nunez").key);
        assert_eq!(&*name("Mary-Jane O'Brien").key, "jane mary obrien");
        assert_eq!(&*base.spelled, "johnsmith");
        assert_eq!(fold_name(" .. "), None);
    }

    #[test]
    fn phonetic_key_survives_typos() {
        let base = name("Catherine Smith").phonetic;
        assert_eq!(name("Cathrine Smith").phonetic, base);
        assert_eq!(name("Catherine Smiith").phonetic, base);
        assert_eq!(name("Smith Catherine").phonetic, base);
        assert_ne!(name("Robert Smith").phonetic, base);
        assert_eq!(soundex("robert"), "R163");
        assert_eq!(soundex("rupert"), "R163");
        assert_eq!(soundex("ashcraft"), "A261");
        assert_eq!(soundex("tymczak"), "T522");
        assert_eq!(name("陈晨").phonetic, name("程岑").phonetic);
    }

    #[test]
    fn emails_are_canonical() {
        let c = |s: &str| canonical_email(s).map(|(f, _)| f);
        assert_eq!(
            c("J.Smith+news@GoogleMail.com").as_deref(),
            Some("jsmith@gmail.com")
        );
        assert_eq!(c("j.smith+x@163.com").as_deref(), Some("j.smith@163.com"));
        assert_eq!(c("nobody"), None);
        assert_eq!(
            canonical_email("zhang.wei@qq.com")
                .map(|(_, l)| l)
                .as_deref(),
            Some("zhangwei")
        );
    }

    #[test]
    fn local_parts_spelled_from_the_name() {
        for local in ["zhangwei", "wei.zhang88", "zhang_wei", "wzhang", "zwei"] {
            assert!(is_name_derived(local, "wei zhang"), "{local}");
        }
        for local in ["zwh1988", "bigfish", "12345", "weiz"] {
            assert!(!is_name_derived(local, "wei zhang"), "{local}");
        }
    }

    #[test]
    fn companies_lose_their_legal_form() {
        let f = |s: &str| fold_company(s).map(String::from);
        assert_eq!(f("北京华信科技有限公司").as_deref(), Some("北京华信科技"));
        assert_eq!(
            f("北京华信科技股份有限公司").as_deref(),
            Some("北京华信科技")
        );
        assert_eq!(f("北京华信科技").as_deref(), Some("北京华信科技"));
        assert_eq!(f("Acme Steel Pty Ltd").as_deref(), Some("acme steel"));
        assert_eq!(f("ACME Steel, Inc.").as_deref(), Some("acme steel"));
        assert_eq!(f("Acme Steel GmbH").as_deref(), Some("acme steel"));
        assert_eq!(f("Acme Steel L.L.C.").as_deref(), Some("acme steel"));
        assert_eq!(f("Acme Steel Co.").as_deref(), Some("acme steel"));
        assert_eq!(f("Ltd").as_deref(), Some("ltd"));
    }

    #[test]
    fn streets_and_cities_fold() {
        assert_eq!(
            fold_street("12 Baker Street").as_deref(),
            fold_street("12 baker st.").as_deref()
        );
        assert_eq!(fold_street("中山路123号").as_deref(), Some("中山路 123 号"));
        assert_eq!(fold_city("上海市"), fold_city("上海"));
        assert_eq!(fold_city("New York City"), "new york");
    }

    #[test]
    fn identifiers_fold_to_ascii_letters_and_digits() {
        let f = |s: &str| fold_identifier(s).map(String::from);
        assert_eq!(f("ＡＢ－１２３４").as_deref(), Some("ab1234"), "full-width");
        assert_eq!(f(" 123 456 789 ").as_deref(), Some("123456789"));
        assert_eq!(f("CUST-000123").as_deref(), Some("cust000123"));
        assert_eq!(
            f("11010519491231002X").as_deref(),
            Some("11010519491231002x")
        );
        assert_eq!(f("4902118"), Some("4902118".to_owned()));
        for not in [
            "abc",
            "12",
            "2024-01-03",
            "03/01/2024",
            "19560909",
            "09-SEP-1956",
            "Sep 9, 1956",
            "20240103103000",
            "12.50",
            "1234,5",
            "likes blue 12",
            "Room 101",
            "张三1234",
            "a@b.com",
            "10:30",
        ] {
            assert_eq!(f(not), None, "{not}");
        }
    }

    fn with_attrs(i: u64, attrs: &[(&str, String)]) -> Record {
        Record::new(&Customer {
            id: CustomerId(i),
            name: format!("Person{i}"),
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            ..Customer::default()
        })
    }

    #[test]
    fn detection_picks_identifiers_and_rejects_categories_text_and_dates() {
        let records: Vec<Record> = (0..300u64)
            .map(|i| {
                with_attrs(
                    i,
                    &[
                        ("gender", ["M", "F"][i as usize % 2].to_owned()),
                        (
                            "source",
                            ["web", "store", "wechat"][i as usize % 3].to_owned(),
                        ),
                        ("segment", format!("tier{}", i % 4)),
                        ("store_code", format!("S{:03}", i % 7)),
                        ("note", format!("called back about order {i}")),
                        (
                            "signup",
                            format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                        ),
                        ("spend", format!("{}.{:02}", 10 + i * 7, i % 100)),
                        // Copies of one person share a member number.
                        ("member_no", format!("M-{:06}", 100_000 + i / 2 * 37)),
                        // Nearly all distinct, a few shared.
                        (
                            "old_code",
                            format!("X{:05}", if i % 50 == 1 { i - 1 } else { i } * 13),
                        ),
                        // Every record its own: nothing to agree on.
                        ("row_no", format!("R{i:06}")),
                    ],
                )
            })
            .collect();
        let picked = Identifiers::detect(&records);
        assert_eq!(picked.names(), ["old_code", "member_no"]);

        // One attribute under two spellings (two imports' headers).
        let mut spelled: Vec<Record> = (0..20u64)
            .map(|i| {
                let key = if i % 2 == 0 { "Member No" } else { "member_no" };
                with_attrs(i, &[(key, format!("{:07}", 1_000_000 + i / 2))])
            })
            .collect();
        let picked = Identifiers::detect(&spelled);
        assert_eq!(picked.names(), ["Member No"]);
        picked.apply(&mut spelled);
        assert!(spelled.iter().all(|r| r.ids[0].is_some()));

        // Only a third of the records: not well populated.
        let sparse: Vec<Record> = (0..300u64)
            .map(|i| {
                let attrs = if i % 3 == 0 {
                    vec![("member_no", format!("{:07}", 1_000_000 + i))]
                } else {
                    Vec::new()
                };
                with_attrs(i, &attrs)
            })
            .collect();
        assert!(Identifiers::detect(&sparse).names().is_empty());

        // A placeholder most records carry is a crowd.
        let crowd: Vec<Record> = (0..300u64)
            .map(|i| {
                let v = if i % 2 == 0 {
                    "000000".to_owned()
                } else {
                    format!("{:07}", 1_000_000 + i)
                };
                with_attrs(i, &[("member_no", v)])
            })
            .collect();
        assert!(Identifiers::detect(&crowd).names().is_empty());
    }

    #[test]
    fn at_most_three_identifiers_and_apply_fills_their_slots() {
        let mut records: Vec<Record> = (0..100u64)
            .map(|i| {
                // A few values shared, as copies of one person share them.
                let j = if i % 10 == 1 { i - 1 } else { i };
                with_attrs(
                    i,
                    &[
                        ("a_id", format!("{:06}", j * 3)),
                        ("b_id", format!("{:06}", j * 5)),
                        ("c_id", format!("{:06}", j * 7)),
                        ("d_id", format!("{:06}", j * 11)),
                    ],
                )
            })
            .collect();
        let picked = Identifiers::detect(&records);
        assert_eq!(picked.names(), ["a_id", "b_id", "c_id"]);
        picked.apply(&mut records);
        assert_eq!(records[2].ids.len(), 3);
        assert_eq!(records[2].ids[1].as_deref(), Some("000010"));
        assert!(records[2].attrs.is_empty(), "the rest is dropped");
        let none = Identifiers::default();
        none.apply(&mut records);
        assert!(records[2].ids.is_empty());
    }

    #[test]
    fn record_folds_every_field() {
        let c = Customer {
            name: "張伟".into(),
            emails: vec!["Zhang.Wei@gmail.com".into(), "zhangwei@gmail.com".into()],
            phones: vec!["+8613800138000".into()],
            birth_date: chrono::NaiveDate::from_ymd_opt(1990, 3, 4),
            postcode: Some("sw1a 1aa".into()),
            ..Customer::default()
        };
        let r = Record::new(&c);
        assert_eq!(r.emails.len(), 1, "canonical duplicates collapse");
        assert_eq!(&*r.phones, &[8613800138000]);
        assert_eq!(r.birth, 19900304);
        assert_ne!(r.postcode, 0);
        assert_eq!(postcode_chars(r.postcode), Some((*b"SW1A1AA\0", 7)));
        assert_eq!(
            postcode_chars(fold_postcode("2000-01")),
            Some((*b"200001\0\0", 6))
        );
        let long = fold_postcode("12345-6789 extra");
        assert_ne!(long, 0);
        assert_eq!(postcode_chars(long), None, "over 8 characters: hashed");
        assert_ne!(long, fold_postcode("12345-6789 extrb"));
        assert_eq!(fold_postcode(" - "), 0);
        assert_eq!(r.city, 0);
        assert!(r.company.is_none());
    }
}
