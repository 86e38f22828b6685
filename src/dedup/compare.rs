//! Field-by-field comparison of two records into agreement levels.
//!
//! Each compared field lands on one level (DESIGN.md §4's "per-field
//! contribution" is the match weight of that level): `exact`, then weaker
//! agreements, then `different`; `missing` when either side has no value
//! (it then contributes nothing, as in Fellegi-Sunter with nulls). The
//! levels of all fields of a pair pack into one `u32` pattern (2 or 3 bits
//! per field, as many as its codes need), which is what the model counts
//! and EM iterates over.
//!
//! Besides the canonical fields, up to three custom attributes that look
//! like identifiers (see `prepare::Identifiers`) are compared in the slots
//! `Attr1`..`Attr3`; a scan names them `attr:NAME` in its explanations.

use strsim::normalized_levenshtein;

use super::prepare::{MAX_IDS, Record, hash, postcode_chars, seed};

/// The fields duplicate detection compares, by their canonical names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompareField {
    Name,
    Email,
    Phone,
    ExtId,
    BirthDate,
    Street,
    Company,
    City,
    Postcode,
    /// Female or male, both known.
    Gender,
    /// The first custom attribute picked as an identifier.
    Attr1,
    /// The second.
    Attr2,
    /// The third.
    Attr3,
}

/// How many fields are compared.
pub const FIELDS: usize = 13;

impl CompareField {
    /// Every compared field, in pattern order.
    pub const ALL: [CompareField; FIELDS] = [
        CompareField::Name,
        CompareField::Email,
        CompareField::Phone,
        CompareField::ExtId,
        CompareField::BirthDate,
        CompareField::Street,
        CompareField::Company,
        CompareField::City,
        CompareField::Postcode,
        CompareField::Gender,
        CompareField::Attr1,
        CompareField::Attr2,
        CompareField::Attr3,
    ];

    /// The identifier slots, in order.
    pub const ATTRS: [CompareField; MAX_IDS] = [
        CompareField::Attr1,
        CompareField::Attr2,
        CompareField::Attr3,
    ];

    /// The canonical field name (DESIGN.md §3); for an identifier slot its
    /// placeholder name (`attr1`), which a scan replaces by `attr:NAME`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareField::Name => "name",
            CompareField::Email => "email",
            CompareField::Phone => "phone",
            CompareField::ExtId => "ext_id",
            CompareField::BirthDate => "birth_date",
            CompareField::Street => "street",
            CompareField::Company => "company",
            CompareField::City => "city",
            CompareField::Postcode => "postcode",
            CompareField::Gender => "gender",
            CompareField::Attr1 => "attr1",
            CompareField::Attr2 => "attr2",
            CompareField::Attr3 => "attr3",
        }
    }

    /// The identifier slot of the field, if it is one.
    pub fn attr_slot(self) -> Option<usize> {
        CompareField::ATTRS.iter().position(|f| *f == self)
    }

    /// The field's position in a pattern.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The levels this field can take, strongest first (`missing` aside).
    /// A level's code in a pattern is 1 + its position here; 0 is missing.
    pub fn levels(self) -> &'static [Level] {
        use Level::*;
        match self {
            CompareField::Name => &[Exact, SameReading, Close, Similar, Partial, Different],
            CompareField::Street => &[Exact, Close, Similar, Partial, Different],
            CompareField::Email
            | CompareField::Phone
            | CompareField::BirthDate
            | CompareField::Company
            | CompareField::Attr1
            | CompareField::Attr2
            | CompareField::Attr3 => &[Exact, Close, Different],
            CompareField::Postcode => &[Exact, Close, Different],
            CompareField::ExtId | CompareField::City | CompareField::Gender => &[Exact, Different],
        }
    }

    /// The code of `level` for this field (0 for missing).
    pub fn code(self, level: Level) -> u8 {
        match self.levels().iter().position(|l| *l == level) {
            Some(i) => i as u8 + 1,
            None => 0,
        }
    }

    /// The level of `code` for this field.
    pub fn level(self, code: u8) -> Level {
        match code {
            0 => Level::Missing,
            c => self
                .levels()
                .get(usize::from(c) - 1)
                .copied()
                .unwrap_or(Level::Missing),
        }
    }
}

/// How far two values of one field agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Equal after folding (names: same letters, or same words in another
    /// order; lists: any value in common).
    Exact,
    /// Names only: the same pinyin reading in other characters (traditional
    /// and simplified forms, same-sounding variants, or pinyin against Han).
    SameReading,
    /// Nearly equal: names Jaro-Winkler ≥ 0.92; identifiers and postcodes
    /// one edit apart (a character changed, added or dropped, or two
    /// neighbours swapped);
    /// emails the same local part
    /// at another provider; phones the same last 8 digits; dates with day
    /// and month swapped or one digit off; streets one a prefix of the
    /// other, normalized edit similarity ≥ 0.8, or every word of one found
    /// in the other; companies token-set (Dice) similarity ≥ 0.75 or
    /// Jaro-Winkler ≥ 0.92.
    Close,
    /// Names: Jaro-Winkler ≥ 0.80. Streets: a house number and a street
    /// word in common, the rest not alike.
    Similar,
    /// Names: not alike as a whole, but one word in common or a typo
    /// apart (a family name kept while the given name differs, or one side
    /// has only part of the name). Streets: the same street name with
    /// another house number.
    Partial,
    /// Both present, not alike.
    Different,
    /// Either side has no value (for streets: or only a house number the
    /// other has too): no evidence either way.
    Missing,
}

impl Level {
    /// The name used in JSON and the docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Exact => "exact",
            Level::SameReading => "same_reading",
            Level::Close => "close",
            Level::Similar => "similar",
            Level::Partial => "partial",
            Level::Different => "different",
            Level::Missing => "missing",
        }
    }
}

/// The level codes of a pair, one per field in [`CompareField::ALL`] order.
pub type Codes = [u8; FIELDS];

/// Bits per field in a pattern: enough for its codes (missing and each
/// level), in [`CompareField::ALL`] order.
const WIDTH: [u32; FIELDS] = [3, 2, 2, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2];

/// Where each field's bits start in a pattern.
const SHIFT: [u32; FIELDS] = {
    let mut s = [0u32; FIELDS];
    let mut i = 1;
    while i < FIELDS {
        s[i] = s[i - 1] + WIDTH[i - 1];
        i += 1;
    }
    s
};

const _: () = assert!(SHIFT[FIELDS - 1] + WIDTH[FIELDS - 1] <= 32);

/// The bits of `field` in a pattern.
pub fn field_mask(field: usize) -> u32 {
    ((1 << WIDTH[field]) - 1) << SHIFT[field]
}

/// Packs level codes into a pattern.
pub fn pack(codes: &Codes) -> u32 {
    codes
        .iter()
        .enumerate()
        .fold(0, |p, (i, &c)| p | (u32::from(c) << SHIFT[i]))
}

/// The level code of `field` in a pattern.
pub fn code_of(pattern: u32, field: usize) -> u8 {
    ((pattern & field_mask(field)) >> SHIFT[field]) as u8
}

/// The values whose frequency adjusts an exact agreement (see
/// `model::Frequencies`): 0 where the field is not an exact agreement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agreed {
    pub name: u64,
    pub email: u64,
    pub company: u64,
    /// Per identifier slot: the hash of the agreed value (see
    /// [`id_hash`]).
    pub ids: [u64; MAX_IDS],
}

/// The hash an identifier's value is counted under, per slot.
pub(crate) fn id_hash(slot: usize, value: &str) -> u64 {
    hash(seed::ATTR_ID + ((slot as u64) << 8), value.as_bytes())
}

/// Compares two records field by field.
pub fn compare(a: &Record, b: &Record) -> (Codes, Agreed) {
    let mut agreed = Agreed::default();
    let mut codes = [0u8; FIELDS];
    let mut set = |f: CompareField, l: Level| codes[f.index()] = f.code(l);

    let name = name_level(a, b, &mut agreed);
    set(CompareField::Name, name);
    let names_agree = matches!(name, Level::Exact | Level::SameReading);
    set(
        CompareField::Email,
        email_level(a, b, names_agree, &mut agreed),
    );
    set(CompareField::Phone, phone_level(&a.phones, &b.phones));
    set(
        CompareField::ExtId,
        match (&a.ext_id, &b.ext_id) {
            (Some(x), Some(y)) if x == y => Level::Exact,
            (Some(_), Some(_)) => Level::Different,
            _ => Level::Missing,
        },
    );
    set(CompareField::BirthDate, date_level(a.birth, b.birth));
    set(
        CompareField::Street,
        match (&a.street, &b.street) {
            (Some(x), Some(y)) => street_level(x, y),
            _ => Level::Missing,
        },
    );
    set(
        CompareField::Company,
        match (&a.company, &b.company) {
            (Some(x), Some(y)) => {
                let l = company_level(x, y);
                if l == Level::Exact {
                    agreed.company = hash(seed::COMPANY, x.as_bytes());
                }
                l
            }
            _ => Level::Missing,
        },
    );
    let postcode = postcode_level(a.postcode, b.postcode);
    let city = hash_level(a.city, b.city);
    // City and postcode say one thing, where someone lives: an equal
    // postcode already says the city, and a different postcode already
    // says the place differs (someone who moved changes both). Counting
    // both would count one fact twice (the model assumes fields
    // independent), so the city speaks only where the postcode cannot, or
    // to say that two different or nearly equal postcodes are in one city
    // (a mistyped postcode). A postcode one character off in another city
    // name says nothing more: the city may be mistyped too, and its folded
    // form is only a hash.
    set(
        CompareField::City,
        match (postcode, city) {
            (Level::Exact, _)
            | (Level::Different | Level::Close, Level::Different)
            | (Level::Close, Level::Missing) => Level::Missing,
            _ => city,
        },
    );
    set(CompareField::Postcode, postcode);
    set(
        CompareField::Gender,
        match (a.gender, b.gender) {
            (0, _) | (_, 0) => Level::Missing,
            (x, y) if x == y => Level::Exact,
            _ => Level::Different,
        },
    );
    for (slot, f) in CompareField::ATTRS.iter().enumerate() {
        let (x, y) = (id_of(a, slot), id_of(b, slot));
        let l = id_level(x, y);
        if let (Level::Exact, Some(x)) = (l, x) {
            agreed.ids[slot] = id_hash(slot, x);
        }
        set(*f, l);
    }
    (codes, agreed)
}

/// A record's identifier in `slot`, if it has one.
fn id_of(r: &Record, slot: usize) -> Option<&str> {
    r.ids.get(slot).and_then(|v| v.as_deref())
}

/// Identifiers (folded): equal; one edit apart (a character changed,
/// added or dropped, or two neighbouring ones swapped: "one digit off");
/// else different.
pub(crate) fn id_level(a: Option<&str>, b: Option<&str>) -> Level {
    match (a, b) {
        (Some(x), Some(y)) if x == y => Level::Exact,
        (Some(x), Some(y)) if one_edit(x.as_bytes(), y.as_bytes()) => Level::Close,
        (Some(_), Some(_)) => Level::Different,
        _ => Level::Missing,
    }
}

/// Whether two different byte strings are one edit apart (substitution,
/// insertion, deletion or a swap of neighbours), without allocating.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let i = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    match long.len() - short.len() {
        0 => {
            i == short.len()
                || short[i + 1..] == long[i + 1..]
                || (i + 1 < short.len()
                    && short[i] == long[i + 1]
                    && short[i + 1] == long[i]
                    && short[i + 2..] == long[i + 2..])
        }
        1 => short[i..] == long[i + 1..],
        _ => false,
    }
}

/// Postcodes (see [`super::prepare::fold_postcode`]): equal; one edit apart (a character
/// changed, added or dropped, or two neighbours swapped: "4222" and
/// "4221", "7035" and "7053"); else different.
fn postcode_level(a: u64, b: u64) -> Level {
    match hash_level(a, b) {
        Level::Different => match (postcode_chars(a), postcode_chars(b)) {
            (Some((x, n)), Some((y, m))) if one_edit(&x[..n], &y[..m]) => Level::Close,
            _ => Level::Different,
        },
        l => l,
    }
}

fn hash_level(a: u64, b: u64) -> Level {
    match (a, b) {
        (0, _) | (_, 0) => Level::Missing,
        (x, y) if x == y => Level::Exact,
        _ => Level::Different,
    }
}

fn name_level(a: &Record, b: &Record, agreed: &mut Agreed) -> Level {
    let (Some(x), Some(y)) = (&a.name, &b.name) else {
        return Level::Missing;
    };
    if x.exact == y.exact {
        agreed.name = x.exact;
        return Level::Exact;
    }
    if x.key == y.key {
        if x.has_han || y.has_han {
            return Level::SameReading;
        }
        agreed.name = x.exact.min(y.exact);
        return Level::Exact;
    }
    let mut jw = jaro_winkler(&x.spelled, &y.spelled);
    if jw < 0.92 && (x.key.contains(' ') || y.key.contains(' ')) {
        jw = jw.max(jaro_winkler(&x.key, &y.key));
    }
    if jw >= 0.92 {
        Level::Close
    } else if jw >= 0.80 {
        Level::Similar
    } else if shares_word(&x.key, &y.key) {
        Level::Partial
    } else {
        Level::Different
    }
}

/// Whether two sorted name keys have a word in common: equal, or a typo
/// apart (four letters and more, the same first letter, Jaro-Winkler ≥
/// 0.92: "whittlesis" and "whittesis").
fn shares_word(a: &str, b: &str) -> bool {
    for x in a.split(' ').filter(|w| !w.is_empty()) {
        for y in b.split(' ').filter(|w| !w.is_empty()) {
            if x == y
                || (x.len() >= 4
                    && y.len() >= 4
                    && x.as_bytes()[0] == y.as_bytes()[0]
                    && jaro_winkler(x, y) >= 0.92)
            {
                return true;
            }
        }
    }
    false
}

/// Emails: any address in common; else the same local part at another
/// provider, unless the names agree and the local part is only the name
/// spelled out (then it repeats the name's evidence: missing); else
/// different.
fn email_level(a: &Record, b: &Record, names_agree: bool, agreed: &mut Agreed) -> Level {
    if a.emails.is_empty() || b.emails.is_empty() {
        return Level::Missing;
    }
    let mut close = false;
    let mut echo = false;
    for &(full, local) in a.emails.iter() {
        for &(full2, local2) in b.emails.iter() {
            if full == full2 {
                agreed.email = full;
                return Level::Exact;
            }
            // The lowest bit of a local part's hash is its name-derived flag.
            if local | 1 == local2 | 1 {
                if names_agree && local & local2 & 1 == 1 {
                    echo = true;
                } else {
                    close = true;
                }
            }
        }
    }
    if close {
        Level::Close
    } else if echo {
        Level::Missing
    } else {
        Level::Different
    }
}

/// Phones: any number in common, else any with the same last 8 digits
/// (a country code or trunk prefix read differently), else different.
pub(crate) fn phone_level(a: &[u64], b: &[u64]) -> Level {
    if a.is_empty() || b.is_empty() {
        return Level::Missing;
    }
    let mut close = false;
    for &x in a {
        for &y in b {
            if x == y {
                return Level::Exact;
            }
            close |= x % 100_000_000 == y % 100_000_000;
        }
    }
    if close {
        Level::Close
    } else {
        Level::Different
    }
}

/// Dates as yyyymmdd: equal; day and month swapped, one digit off, or two
/// neighbouring digits swapped; else different.
pub(crate) fn date_level(a: u32, b: u32) -> Level {
    if a == 0 || b == 0 {
        return Level::Missing;
    }
    if a == b {
        return Level::Exact;
    }
    let (ya, ma, da) = (a / 10_000, a / 100 % 100, a % 100);
    let (yb, mb, db) = (b / 10_000, b / 100 % 100, b % 100);
    if ya == yb && ma == db && da == mb {
        return Level::Close;
    }
    // One digit mistyped, or two neighbouring digits swapped.
    let digits = |mut v: u32| {
        let mut d = [0u8; 8];
        for slot in d.iter_mut().rev() {
            *slot = (v % 10) as u8;
            v /= 10;
        }
        d
    };
    if one_edit(&digits(a), &digits(b)) {
        Level::Close
    } else {
        Level::Different
    }
}

/// Streets (folded): equal; one the other's word prefix (a flat or room
/// number dropped), normalized Levenshtein similarity ≥ 0.8, or every word
/// of the one with fewer words found in the other (see [`street_words`]);
/// a house number and a street word in common; else different.
pub(crate) fn street_level(a: &str, b: &str) -> Level {
    if a == b {
        return Level::Exact;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let is_prefix =
        long.starts_with(short) && long[short.len()..].starts_with(' ') && short.contains(' ');
    if is_prefix || edit_similar(a, b) {
        Level::Close
    } else {
        street_words(a, b)
    }
}

/// Normalized Levenshtein similarity ≥ 0.8, with spaces or without (a
/// typo that splits or joins words: "woronora street", "woronoras treet").
/// One bag count decides both cheap tests first.
fn edit_similar(a: &str, b: &str) -> bool {
    let (with, without) = bag_tests(a, b, 0.2);
    if with && normalized_levenshtein(a, b) >= 0.8 {
        return true;
    }
    if !without || !(a.contains(' ') || b.contains(' ')) {
        return false;
    }
    let (x, y): (String, String) = (a.replace(' ', ""), b.replace(' ', ""));
    normalized_levenshtein(&x, &y) >= 0.8
}

/// Whether a street word is a number (house, flat or room): digits in
/// it, unless it is an ordinal ("4th street" is a street's name).
fn is_number(w: &str) -> bool {
    w.bytes().any(|b| b.is_ascii_digit()) && !super::prepare::is_ordinal(w)
}

/// Whether a street word names something: not a number, not a street type
/// or direction (street, road, north ...), not a one- or two-letter word
/// or a single Han character (号, 室).
fn is_street_name(w: &str) -> bool {
    !is_number(w) && w.chars().count() >= 3 && !super::prepare::is_street_type(w)
}

/// Street words equal, or (four letters and more) Jaro-Winkler ≥ 0.92.
fn words_alike(x: &str, y: &str) -> bool {
    x == y || (x.len() >= 4 && y.len() >= 4 && jaro_winkler(x, y) >= 0.92)
}

/// Streets word by word, in any order (address lines are often swapped):
/// `Close` when every number and every name word of the street with fewer
/// words is found in the other (with at least a number or two name words
/// to go by); `Similar` when they share a house number and a name word, or
/// the side without a number has one name word, found in the other;
/// `Partial` when every name word is found but no house number (the same
/// street, another house: a neighbour, or a mistyped number); `Missing`
/// when one side is only house numbers, all found in the other (its street
/// is unknown); else `Different`.
fn street_words(a: &str, b: &str) -> Level {
    let (short, long) = if a.split(' ').count() <= b.split(' ').count() {
        (a, b)
    } else {
        (b, a)
    };
    let mut short_numbers = 0;
    let mut kept_numbers = 0;
    for n in short.split(' ').filter(|w| is_number(w)) {
        short_numbers += 1;
        if long.split(' ').any(|m| m == n) {
            kept_numbers += 1;
        }
    }
    let mut names = 0;
    let mut found = 0;
    let mut squeezed: Option<String> = None;
    for w in short.split(' ').filter(|w| is_street_name(w)) {
        names += 1;
        // Against every word of the other side: a mistyped street type
        // ("creascent") counts as a name on its side.
        if long
            .split(' ')
            .filter(|v| !is_number(v))
            .any(|v| words_alike(w, v))
        {
            found += 1;
        } else if w.len() >= 5 {
            // Words run together on the other side ("croziercircuit").
            let joined = squeezed.get_or_insert_with(|| long.replace(' ', ""));
            if joined.contains(w) {
                found += 1;
            }
        }
    }
    if short_numbers > 0 && kept_numbers == 0 {
        // Another house number: the same street at most.
        return if names >= 1 && found == names {
            Level::Partial
        } else {
            Level::Different
        };
    }
    if names == 0 && short_numbers > 0 && kept_numbers == short_numbers {
        // Only a house number on one side, found on the other: the street
        // itself is unknown there, so nothing to weigh either way.
        return Level::Missing;
    }
    let all_kept = kept_numbers == short_numbers && found == names;
    if all_kept && names >= 1 && (short_numbers > 0 || names >= 2) {
        Level::Close
    } else if (kept_numbers > 0 && found > 0) || (all_kept && names >= 1) {
        // A number and a name word, or the one street name a side has.
        Level::Similar
    } else {
        Level::Different
    }
}

/// Whether the bag distance of two strings (a lower bound of their edit
/// distance) is at most `share` of the longer one's length: a cheap test
/// that spares most edit distances that could not reach the threshold.
#[cfg(test)]
fn bag_similar(a: &str, b: &str, share: f64) -> bool {
    let mut counts = [0i32; 64];
    let (mut la, mut lb) = (0usize, 0usize);
    for c in a.chars() {
        counts[(c as usize) & 63] += 1;
        la += 1;
    }
    for c in b.chars() {
        counts[(c as usize) & 63] -= 1;
        lb += 1;
    }
    let plus: i32 = counts.iter().filter(|&&n| n > 0).sum();
    let minus: i32 = -counts.iter().filter(|&&n| n < 0).sum::<i32>();
    let bag = plus.max(minus) as f64;
    bag <= share * la.max(lb) as f64
}

/// [`bag_similar`] of the two strings as they are, and with their spaces
/// left out, from one count.
fn bag_tests(a: &str, b: &str, share: f64) -> (bool, bool) {
    let mut counts = [0i32; 64];
    let (mut la, mut lb, mut sa, mut sb) = (0usize, 0usize, 0i32, 0i32);
    for c in a.chars() {
        if c == ' ' {
            sa += 1;
        } else {
            counts[(c as usize) & 63] += 1;
        }
        la += 1;
    }
    for c in b.chars() {
        if c == ' ' {
            sb += 1;
        } else {
            counts[(c as usize) & 63] -= 1;
        }
        lb += 1;
    }
    let plus: i32 = counts.iter().filter(|&&n| n > 0).sum();
    let minus: i32 = -counts.iter().filter(|&&n| n < 0).sum::<i32>();
    let without = f64::from(plus.max(minus));
    // With spaces: they share bucket 32 with whatever else falls there.
    let (old, new) = (counts[32], counts[32] + sa - sb);
    let plus_with = plus - old.max(0) + new.max(0);
    let minus_with = minus - (-old).max(0) + (-new).max(0);
    let with = f64::from(plus_with.max(minus_with));
    let (na, nb) = (la - sa as usize, lb - sb as usize);
    (
        with <= share * la.max(lb) as f64,
        without <= share * na.max(nb) as f64,
    )
}

/// Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters, boost
/// above 0.7), exactly `strsim::jaro_winkler`, without allocating for ASCII text of up to 64
/// bytes (names after folding): it runs for every candidate pair.
pub(crate) fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > 64 || y.len() > 64 {
        return strsim::jaro_winkler(a, b);
    }
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let window = (x.len().max(y.len()) / 2).saturating_sub(1);
    let mut used_y = 0u64;
    let mut used_x = 0u64;
    let mut matches = 0usize;
    for (i, &c) in x.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(y.len());
        for (j, &d) in y.iter().enumerate().take(hi).skip(lo) {
            if used_y & (1 << j) == 0 && d == c {
                used_y |= 1 << j;
                used_x |= 1 << i;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, &c) in x.iter().enumerate() {
        if used_x & (1 << i) != 0 {
            while used_y & (1 << j) == 0 {
                j += 1;
            }
            if c != y[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    let m = matches as f64;
    let jaro =
        (m / x.len() as f64 + m / y.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0;
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

/// Companies (folded, legal form gone): equal; token-set Dice similarity
/// ≥ 0.75 (Latin words, or character pairs of Han text) or Jaro-Winkler
/// ≥ 0.92; else different.
pub(crate) fn company_level(a: &str, b: &str) -> Level {
    if a == b {
        return Level::Exact;
    }
    if dice(&tokens(a), &tokens(b)) >= 0.75
        || (a.chars().next() == b.chars().next() && jaro_winkler(a, b) >= 0.92)
    {
        Level::Close
    } else {
        Level::Different
    }
}

/// The tokens of a folded company: its words, with each Han word split
/// into overlapping character pairs (Chinese has no spaces).
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in s.split(' ') {
        let chars: Vec<char> = w.chars().collect();
        if chars.len() > 2 && chars.iter().any(|c| super::prepare::is_han(*c)) {
            out.extend(chars.windows(2).map(|p| p.iter().collect::<String>()));
        } else if !w.is_empty() {
            out.push(w.to_owned());
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Dice similarity of two sorted, deduplicated token sets.
fn dice(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = a.iter().filter(|t| b.binary_search(t).is_ok()).count();
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Customer;

    fn rec(f: impl FnOnce(&mut Customer)) -> Record {
        let mut c = Customer::default();
        f(&mut c);
        Record::new(&c)
    }

    fn level(field: CompareField, a: &Record, b: &Record) -> Level {
        field.level(compare(a, b).0[field.index()])
    }

    fn named(n: &str) -> Record {
        rec(|c| c.name = n.into())
    }

    #[test]
    fn name_levels() {
        use Level::*;
        let f = CompareField::Name;
        for (a, b, want) in [
            ("张伟", "张 伟", Exact),
            ("Wei Zhang", "Zhang, Wei", Exact),
            ("John Smith", "JOHN SMITH", Exact),
            ("张伟", "張伟", SameReading),
            ("张伟", "Zhang Wei", SameReading),
            ("Catherine Smith", "Cathrine Smith", Close),
            ("Jonathan Smith", "Jonathon Smyth", Close),
            ("David Lee", "Davis Leigh", Similar),
            ("Pacey", "Casey Pacey", Partial),
            ("Chloe Whittesis", "Riley Whittlesis", Partial),
            ("John Smith", "Mary Jones", Different),
            ("张伟", "李娜", Different),
            ("张伟", "", Missing),
        ] {
            assert_eq!(level(f, &named(a), &named(b)), want, "{a} / {b}");
        }
    }

    #[test]
    fn jaro_winkler_agrees_with_strsim() {
        for (a, b) in [
            ("martha", "marhta"),
            ("dwayne", "duane"),
            ("dixon", "dicksonx"),
            ("johnsmith", "jonsmythe"),
            ("zhangwei", "zhangwen"),
            ("a", "b"),
            ("", "x"),
            ("", ""),
            ("abc", "abc"),
            ("张伟", "张伟明"),
        ] {
            let want = strsim::jaro_winkler(a, b);
            let got = jaro_winkler(a, b);
            assert!((want - got).abs() < 1e-12, "{a}/{b}: {got} vs {want}");
        }
        assert!(bag_similar("12 baker st", "21 baker st", 0.2));
        for (a, b) in [
            ("12 baker st", "21 baker st"),
            ("woronoras treet", "woronora street"),
            ("1 a b c", "abc"),
            ("7 elm rd", "12 baker st"),
            ("a`b c", "a b`c d"),
        ] {
            let x: String = a.replace(' ', "");
            let y: String = b.replace(' ', "");
            assert_eq!(
                bag_tests(a, b, 0.2),
                (bag_similar(a, b, 0.2), bag_similar(&x, &y, 0.2)),
                "{a} / {b}"
            );
        }
        assert!(!bag_similar("12 baker st", "7 elm rd", 0.2));
    }

    #[test]
    fn email_levels() {
        let e = |s: &str| rec(|c| c.emails = vec![s.into()]);
        let f = CompareField::Email;
        let a = e("j.smith@gmail.com");
        assert_eq!(level(f, &a, &e("jsmith+shop@gmail.com")), Level::Exact);
        assert_eq!(level(f, &a, &e("jsmith@yahoo.com")), Level::Close);
        // Namesakes at two providers with the name as local part: no
        // evidence beyond the name.
        let named = |n: &str, s: &str| {
            rec(|c| {
                c.name = n.into();
                c.emails = vec![s.into()];
            })
        };
        let (x, y) = (
            named("Wei Zhang", "zhang.wei@qq.com"),
            named("张伟", "zhangwei@163.com"),
        );
        assert_eq!(level(f, &x, &y), Level::Missing);
        let (x, y) = (
            named("Wei Zhang", "zwh1988@qq.com"),
            named("张伟", "zwh1988@163.com"),
        );
        assert_eq!(level(f, &x, &y), Level::Close);
        let (x, y) = (
            named("Wei Zhang", "zhangwei@qq.com"),
            named("Li Na", "zhangwei@163.com"),
        );
        assert_eq!(level(f, &x, &y), Level::Close);
        assert_eq!(level(f, &a, &e("mary@gmail.com")), Level::Different);
        assert_eq!(level(f, &a, &rec(|_| {})), Level::Missing);
        let both = rec(|c| c.emails = vec!["x@y.com".into(), "jsmith@gmail.com".into()]);
        assert_eq!(level(f, &a, &both), Level::Exact, "any of the list");
    }

    #[test]
    fn phone_levels() {
        assert_eq!(
            phone_level(&[8613800138000], &[8613800138000]),
            Level::Exact
        );
        assert_eq!(phone_level(&[8613800138000], &[13800138000]), Level::Close);
        assert_eq!(
            phone_level(&[1, 8613800138000], &[8613800138000]),
            Level::Exact
        );
        assert_eq!(
            phone_level(&[8613800138000], &[8613900139000]),
            Level::Different
        );
        assert_eq!(phone_level(&[], &[8613900139000]), Level::Missing);
    }

    #[test]
    fn date_levels() {
        assert_eq!(date_level(19900304, 19900304), Level::Exact);
        assert_eq!(date_level(19900304, 19900403), Level::Close);
        assert_eq!(date_level(19900304, 19910304), Level::Close);
        assert_eq!(date_level(19900304, 19900305), Level::Close);
        assert_eq!(date_level(19310715, 19310175), Level::Close, "71 typed 17");
        assert_eq!(date_level(19310715, 19310157), Level::Different);
        assert_eq!(date_level(19900304, 19850612), Level::Different);
        assert_eq!(date_level(0, 19850612), Level::Missing);
    }

    #[test]
    fn street_and_company_levels() {
        let s = |x: &str| super::super::prepare::fold_street(x).unwrap_or_default();
        assert_eq!(
            street_level(&s("12 Baker Street"), &s("12 Baker St")),
            Level::Exact
        );
        assert_eq!(
            street_level(&s("中山路123号"), &s("中山路123号A座1203室")),
            Level::Close
        );
        assert_eq!(
            street_level(&s("12 Baker St"), &s("21 Baker St")),
            Level::Close
        );
        assert_eq!(
            street_level(&s("12 Baker St"), &s("7 Elm Road")),
            Level::Different
        );
        // Address lines swapped, a typo in one word.
        assert_eq!(
            street_level(
                &s("25 Wattle Brae Rosenthal Street"),
                &s("25 Rosenthal Street Wattle Brea")
            ),
            Level::Close
        );
        // The house number is lost, the street's words are all there.
        assert_eq!(
            street_level(
                &s("162 Maclagan Street Environa"),
                &s("Maclagan Street Envirnoa")
            ),
            Level::Close
        );
        // The same number and one street word.
        assert_eq!(
            street_level(
                &s("113 Pullen Street Blue Hills"),
                &s("113 Nelson Place Blue Hills")
            ),
            Level::Similar
        );
        assert_eq!(
            street_level(&s("7 Main Street"), &s("7 Baker Street")),
            Level::Different,
            "a street type is not a name"
        );
        assert_eq!(
            street_level(&s("95"), &s("95 Grylls Crescent")),
            Level::Missing,
            "only the house number is known on one side"
        );
        assert_eq!(
            street_level(&s("28"), &s("85 Smiths Road")),
            Level::Different
        );
        assert_eq!(
            street_level(&s("570 4th St."), &s("570 Fourth Street")),
            Level::Exact
        );
        assert_eq!(
            street_level(
                &s("747 Ninth Ave."),
                &s("747 9th Ave. between 50th and 51st Sts.")
            ),
            Level::Close,
            "an ordinal is the street's name"
        );

        assert_eq!(
            street_level(
                &s("123 Chippendale Village Hawkekr Place"),
                &s("105 Hawker Place Chippendale Village")
            ),
            Level::Partial,
            "the same street, another house number"
        );
        assert_eq!(
            street_level(&s("12 Hawker Place"), &s("105 Baker Place")),
            Level::Different
        );
        assert_eq!(
            street_level(&s("32 Reuther Street Blue Hills Estate"), &s("Reuther St")),
            Level::Similar
        );
        assert_eq!(
            street_level(&s("Hyndes Creascent"), &s("6 Hyndes Crescent Killarney")),
            Level::Close
        );
        assert_eq!(
            street_level(
                &s("21 launcestonrstreet carav n park"),
                &s("21 launceston street caravn park")
            ),
            Level::Close
        );
        assert_eq!(
            street_level(
                &s("14 Crozier Circuit"),
                &s("14 croziercircuit hayfield vlge")
            ),
            Level::Close
        );
        // Split, joined and mistyped words.
        assert_eq!(
            street_level(&s("34 Jim Pike Avenue"), &s("34 jim pikea venue")),
            Level::Close
        );
        let c = |x: &str| super::super::prepare::fold_company(x).unwrap_or_default();
        assert_eq!(
            company_level(&c("Acme Steel Inc"), &c("ACME Steel")),
            Level::Exact
        );
        assert_eq!(
            company_level(&c("Acme Steel Works Ltd"), &c("Acme Steel")),
            Level::Close
        );
        assert_eq!(
            company_level(&c("上海华信科技有限公司"), &c("上海华信科技发展有限公司")),
            Level::Close
        );
        assert_eq!(
            company_level(&c("上海华信科技有限公司"), &c("北京远大物流有限公司")),
            Level::Different
        );
    }

    #[test]
    fn identifier_levels() {
        use Level::*;
        for (a, b, want) in [
            (Some("4902118"), Some("4902118"), Exact),
            (Some("4902118"), Some("4902119"), Close),
            (Some("4902118"), Some("4901218"), Close),
            (Some("4902118"), Some("490218"), Close),
            (Some("4902118"), Some("49021188"), Close),
            (Some("4902118"), Some("4092181"), Different),
            (Some("4902118"), Some("1234567"), Different),
            (Some("4902118"), Some("490211899"), Different),
            (Some("4902118"), None, Missing),
            (None, None, Missing),
        ] {
            assert_eq!(id_level(a, b), want, "{a:?} / {b:?}");
            assert_eq!(id_level(b, a), want, "{b:?} / {a:?}");
        }
        // In a comparison: the slot of the attribute, its value agreed.
        let mut x = rec(|_| {});
        let mut y = rec(|_| {});
        x.ids = vec![None, Some("m001234".into())].into_boxed_slice();
        y.ids = vec![Some("zz9999".into()), Some("m001234".into())].into_boxed_slice();
        let (codes, agreed) = compare(&x, &y);
        let at = |f: CompareField| f.level(codes[f.index()]);
        assert_eq!(at(CompareField::Attr1), Missing);
        assert_eq!(at(CompareField::Attr2), Exact);
        assert_eq!(at(CompareField::Attr3), Missing);
        assert_eq!(agreed.ids[1], id_hash(1, "m001234"));
        assert_eq!(agreed.ids[0], 0);
    }

    #[test]
    fn every_field_fits_its_bits_in_a_pattern() {
        let mut codes = [0u8; FIELDS];
        for f in CompareField::ALL {
            let n = f.levels().len() as u32;
            assert!(n < 1 << WIDTH[f.index()], "{f:?}");
            codes[f.index()] = n as u8;
        }
        let p = pack(&codes);
        for f in CompareField::ALL {
            assert_eq!(code_of(p, f.index()), codes[f.index()], "{f:?}");
            let mut one = [0u8; FIELDS];
            one[f.index()] = codes[f.index()];
            assert_eq!(pack(&one) & !field_mask(f.index()), 0, "{f:?}");
        }
    }

    #[test]
    fn gender_levels() {
        let g = |v: &str| rec(|c| c.gender = Some(v.into()));
        assert_eq!(
            level(CompareField::Gender, &g("女"), &g("female")),
            Level::Exact
        );
        assert_eq!(
            level(CompareField::Gender, &g("男"), &g("F")),
            Level::Different
        );
        assert_eq!(
            level(CompareField::Gender, &g("male"), &g("unknown")),
            Level::Missing
        );
        assert_eq!(
            level(CompareField::Gender, &g("male"), &rec(|_| {})),
            Level::Missing
        );
    }

    #[test]
    fn city_postcode_and_patterns() {
        let a = rec(|c| {
            c.city = Some("上海市".into());
            c.postcode = Some("200001".into());
        });
        let b = rec(|c| {
            c.city = Some("上海".into());
            c.postcode = Some("200002".into());
        });
        assert_eq!(level(CompareField::City, &a, &b), Level::Exact);
        assert_eq!(level(CompareField::Postcode, &a, &b), Level::Close);
        let far = rec(|c| {
            c.city = Some("北京".into());
            c.postcode = Some("100010".into());
        });
        assert_eq!(level(CompareField::Postcode, &a, &far), Level::Different);
        assert_eq!(level(CompareField::City, &a, &far), Level::Missing);
        let near_elsewhere = rec(|c| {
            c.city = Some("上海浦东".into());
            c.postcode = Some("200010".into());
        });
        assert_eq!(
            level(CompareField::Postcode, &a, &near_elsewhere),
            Level::Close,
            "two neighbours swapped"
        );
        assert_eq!(
            level(CompareField::City, &a, &near_elsewhere),
            Level::Missing
        );
        let c = rec(|c| {
            c.city = Some("上海".into());
            c.postcode = Some("200001".into());
        });
        assert_eq!(level(CompareField::Postcode, &a, &c), Level::Exact);
        assert_eq!(
            level(CompareField::City, &a, &c),
            Level::Missing,
            "said by the postcode"
        );
        let (codes, _) = compare(&a, &b);
        let p = pack(&codes);
        for f in CompareField::ALL {
            assert_eq!(code_of(p, f.index()), codes[f.index()]);
        }
    }
}
