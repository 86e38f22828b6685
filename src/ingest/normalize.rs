//! Field normalizers for the importer: text, emails, phones, dates, amounts
//! and gender.
//!
//! Every value that enters the store from a file passes through one of these,
//! so that "１３８ 0013 8000" in one export and "+86 138-0013-8000" in another
//! become the same stored phone, and dedup, search and segments compare like
//! with like. They are pure functions of their input and a [`NormalizeConfig`]
//! (no clock, no I/O, no global state besides the phone metadata), they never
//! panic on any input, and a rejected value comes back as a short human reason
//! that the importer writes into the rejects file as is.
//!
//! The decisions that are not obvious from the code:
//! - Text is cleaned before anything else is parsed, so full-width digits,
//!   ideographic spaces and pasted terminal colours never reach a parser.
//! - Ambiguous numeric dates (03/05/2024) are read with the configured
//!   [`DayMonth`]; a form that is unambiguous (25/03/2024) is read correctly
//!   whatever the setting. Two-digit years are rejected rather than guessed.
//! - A naive time is taken as UTC; an explicit offset is honoured.
//! - Amounts: when only commas appear, one comma followed by one or two
//!   digits is a decimal comma ("3,50") and a comma followed by three digits
//!   groups thousands ("1,234"); a single dot is always a decimal point.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use phonenumber::country;
use unicode_normalization::UnicodeNormalization;

/// Which of day/month comes first in ambiguous numeric dates like 03/05/2024.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DayMonth {
    /// 03/05/2024 is March 5 (United States style).
    #[default]
    MonthFirst,
    /// 03/05/2024 is 3 May (European style).
    DayFirst,
}

/// The settings that decide how ambiguous values are read.
#[derive(Debug, Clone)]
pub struct NormalizeConfig {
    /// The region assumed for phone numbers written without a country code.
    pub default_region: country::Id,
    /// The order of day and month in ambiguous numeric dates.
    pub day_month: DayMonth,
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        Self {
            default_region: country::Id::CN,
            day_month: DayMonth::MonthFirst,
        }
    }
}

// ---------------------------------------------------------------------------
// Text

/// Cleans free text for storage and comparison.
///
/// Applies NFKC (full-width digits and letters become ASCII, the ideographic
/// space becomes a space), removes control characters (C0, DEL and C1; tabs,
/// newlines and the other line breaks become spaces), ANSI/VT escape
/// sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL or ESC \`, and other
/// `ESC x`), bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
/// U+061C) and invisible characters (U+200B–U+200D, U+FEFF, U+2060, soft
/// hyphen U+00AD), then trims and collapses runs of whitespace to one space.
pub fn clean_text(s: &str) -> String {
    if is_clean(s) {
        return s.to_owned();
    }
    clean_text_slow(s)
}

/// Whether `s` is already what [`clean_text`] would make of it: most cells
/// of a real file are, and checking is far cheaper than normalizing.
fn is_clean(s: &str) -> bool {
    if s.starts_with(' ') || s.ends_with(' ') || s.contains("  ") {
        return false;
    }
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return true;
    }
    s.chars()
        .all(|c| c == ' ' || (!c.is_whitespace() && filter_char(c) == Some(c)))
        && unicode_normalization::is_nfkc_quick(s.chars())
            == unicode_normalization::IsNormalized::Yes
}

fn clean_text_slow(s: &str) -> String {
    let stripped = strip_escapes(s);
    let filtered: String = stripped.chars().filter_map(filter_char).collect();
    // NFKC may turn compatibility characters into spaces, so filter again
    // before collapsing.
    let nfkc: String = filtered.nfkc().filter_map(filter_char).collect();
    let mut out = String::with_capacity(nfkc.len());
    for word in nfkc.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Maps one character for [`clean_text`]: line breaks and tabs become spaces,
/// invisible and control characters disappear, anything else is kept.
fn filter_char(c: char) -> Option<char> {
    match c {
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{85}' => Some(' '),
        c if c.is_control() => None,
        // U+200C/U+200D (ZWNJ/ZWJ) stay: emoji sequences and Persian or
        // Indic text need them.
        '\u{200B}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{FEFF}'
        | '\u{2060}'
        | '\u{00AD}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061C}' => None,
        c => Some(c),
    }
}

const ESC: char = '\u{1B}';
const C1_CSI: char = '\u{9B}';
const C1_OSC: char = '\u{9D}';
const C1_ST: char = '\u{9C}';
const BEL: char = '\u{07}';

/// Removes ANSI/VT escape sequences, as pasted from a terminal.
fn strip_escapes(s: &str) -> String {
    if !s.contains([ESC, C1_CSI, C1_OSC]) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            ESC => match it.peek() {
                Some('[') => {
                    it.next();
                    skip_csi(&mut it);
                }
                Some(']') => {
                    it.next();
                    skip_osc(&mut it);
                }
                // nF sequences such as `ESC ( B`: intermediates, then a final.
                Some(' '..='/') => {
                    while it.next_if(|c| matches!(c, ' '..='/')).is_some() {}
                    it.next_if(|c| matches!(c, '0'..='~'));
                }
                // Two-character escapes (`ESC 7`, `ESC M`, `ESC c`, ...).
                Some('0'..='~') => {
                    it.next();
                }
                // A lone ESC: drop it and keep what follows.
                _ => {}
            },
            C1_CSI => skip_csi(&mut it),
            C1_OSC => skip_osc(&mut it),
            c => out.push(c),
        }
    }
    out
}

/// Skips the rest of a CSI sequence: parameters and intermediates, then one
/// final byte. A malformed sequence ends at the first unexpected character,
/// which is kept.
fn skip_csi(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while it.next_if(|c| matches!(c, ' '..='?')).is_some() {}
    it.next_if(|c| matches!(c, '@'..='~'));
}

/// Skips the rest of an OSC string, up to and including BEL, ST or `ESC \`.
fn skip_osc(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = it.next() {
        match c {
            BEL | C1_ST => return,
            ESC => {
                it.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Email

/// Lower-cases and validates an email address.
///
/// The check is pragmatic, not RFC 5322: one `@`, a non-empty local part of
/// the usual characters without leading, trailing or doubled dots, a domain
/// with at least one dot whose labels are `[a-z0-9-]` (not starting or ending
/// with `-`) and whose top-level label is not numeric, no spaces, at most 254
/// characters. A `mailto:` prefix, surrounding `<>` and a display name
/// (`Ann Lee <ann@example.com>`) are accepted and removed. The error carries
/// a short reason, e.g. "not a valid email: missing @".
pub fn email(s: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("not a valid email: {why}"));
    let cleaned = clean_text(s).to_lowercase();
    let mut v = cleaned.as_str();
    v = strip_angle_brackets(v);
    if let Some(rest) = strip_prefix_ascii_ci(v, "mailto:") {
        // A mailto URI may carry a query (`?subject=...`).
        v = rest.split('?').next().unwrap_or(rest);
        v = strip_angle_brackets(v.trim());
    }
    let v = v.trim();

    if v.is_empty() {
        return bad("empty");
    }
    if v.chars().any(char::is_whitespace) {
        return bad("contains a space");
    }
    if let Some(c) = v.chars().find(|c| !c.is_ascii()) {
        return bad(&format!("non-ASCII character '{c}'"));
    }
    if v.len() > 254 {
        return bad("longer than 254 characters");
    }
    let (local, domain) = match v.split_once('@') {
        None => return bad("missing @"),
        Some((_, d)) if d.contains('@') => return bad("more than one @"),
        Some(parts) => parts,
    };

    if local.is_empty() {
        return bad("nothing before @");
    }
    if local.len() > 64 {
        return bad("part before @ is longer than 64 characters");
    }
    if let Some(c) = local.chars().find(|&c| !is_local_char(c)) {
        return bad(&format!("invalid character '{c}' before @"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("misplaced dot before @");
    }

    if domain.is_empty() {
        return bad("nothing after @");
    }
    if let Some(c) = domain
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'))
    {
        return bad(&format!("invalid character '{c}' in domain"));
    }
    if !domain.contains('.') {
        return bad("domain has no dot");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return bad("empty part in domain");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("domain part starts or ends with -");
        }
        if label.len() > 63 {
            return bad("domain part longer than 63 characters");
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return bad("top-level domain is numeric");
    }
    if tld.len() < 2 {
        return bad("top-level domain too short");
    }
    Ok(v.to_owned())
}

/// True for the characters accepted in the local part (before `@`) of a
/// lower-cased address.
fn is_local_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || "!#$%&'*+/=?^_`{|}~.-".contains(c)
}

/// `<x>` -> `x`, and `Name <x>` -> `x`; anything else unchanged.
fn strip_angle_brackets(v: &str) -> &str {
    match v.strip_suffix('>').and_then(|rest| rest.rsplit_once('<')) {
        Some((_, inner)) => inner.trim(),
        None => v,
    }
}

/// `s` without `prefix`, compared ASCII case-insensitively.
fn strip_prefix_ascii_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Phone

/// Characters a phone number may be written with (after [`clean_text`]);
/// letters are allowed for `tel:` URIs, extensions and vanity numbers.
fn is_phone_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " +-()./#*:;=,~".contains(c)
}

/// Normalizes a phone number to E.164 (`+8613800138000`).
///
/// Numbers without a country code are read in `cfg.default_region`; `+86`,
/// the international prefix of the default region (`0086`), the national
/// trunk prefix (`(021) 6212-3456`), separators and full-width digits are all
/// accepted. Extensions are dropped. The number must be valid for its region
/// according to the libphonenumber metadata, otherwise the error reads
/// "not a valid phone number for CN: ...".
pub fn phone(s: &str, cfg: &NormalizeConfig) -> Result<String, String> {
    let region = cfg.default_region;
    let bad = |why: &str| {
        Err(format!(
            "not a valid phone number for {}: {why}",
            region.as_ref()
        ))
    };
    let t = clean_text(s);
    if t.is_empty() {
        return bad("empty");
    }
    if let Some(c) = t.chars().find(|&c| !is_phone_char(c)) {
        return bad(&format!("unexpected character '{c}' in {t}"));
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    if digits == 0 {
        return bad(&format!("no digits in {t}"));
    }
    if t.len() > 64 || digits > 24 {
        return bad(&format!("too long: {t}"));
    }
    if let Some(e164) = fast_cn_mobile(&t, region) {
        return Ok(e164);
    }
    let Some(number) = parse_phone_number(&t, region) else {
        return bad(&t);
    };
    let mut out = String::new();
    // The formatter reports an unknown country code as a fmt::Error, which
    // `to_string` would turn into a panic.
    if write!(out, "{}", number.format().mode(phonenumber::Mode::E164)).is_err() {
        return bad(&t);
    }
    Ok(out)
}

/// Parses and validates a cleaned phone number.
///
/// phonenumber 0.3 applies the default region's national-prefix rules even to
/// a number with a foreign country code (with region US, the `1` of
/// `+86 138...` is stripped as a trunk prefix), so a number written with `+`
/// is parsed without a region, and one whose international prefix (`0044`,
/// `011 44`) revealed a foreign country code is parsed again as `+<digits>`.
/// Chinese mobile numbers are most of what rolo's users import, and the
/// phonenumber crate's general parser costs several microseconds each. A
/// plain 11-digit mobile (optionally after +86 or 0086, with spaces, dashes,
/// dots or brackets) is checked against the same metadata's mobile pattern
/// directly; anything else takes the general path.
fn fast_cn_mobile(t: &str, region: country::Id) -> Option<String> {
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for (i, c) in t.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    let nsn = if plus {
        digits.strip_prefix("86")?
    } else if let Some(rest) = digits.strip_prefix("0086") {
        rest
    } else if region == country::Id::CN {
        digits.as_str()
    } else {
        return None;
    };
    if nsn.len() != 11 || !nsn.starts_with('1') {
        return None;
    }
    static CN_MOBILE: std::sync::OnceLock<Option<&'static phonenumber::metadata::Descriptor>> =
        std::sync::OnceLock::new();
    let mobile = CN_MOBILE.get_or_init(|| {
        let meta: &'static phonenumber::metadata::Metadata =
            phonenumber::metadata::DATABASE.by_id("CN")?;
        meta.descriptors().mobile()
    });
    mobile.as_ref()?.is_match(nsn).then(|| format!("+86{nsn}"))
}

fn parse_phone_number(t: &str, region: country::Id) -> Option<phonenumber::PhoneNumber> {
    let body = strip_prefix_ascii_ci(t, "tel:").unwrap_or(t).trim_start();
    if body.starts_with('+') {
        return phonenumber::parse(None, t)
            .ok()
            .filter(phonenumber::is_valid);
    }
    let number = phonenumber::parse(Some(region), t).ok()?;
    let region_code = phonenumber::metadata::DATABASE
        .by_id(region.as_ref())
        .map(|m| m.country_code());
    if Some(number.code().value()) == region_code {
        return Some(number).filter(phonenumber::is_valid);
    }
    let code = number.code().value().to_string();
    let digits: String = body
        .chars()
        .take_while(|c| !(c.is_ascii_alphabetic() || matches!(c, '#' | ';' | ',')))
        .filter(char::is_ascii_digit)
        .collect();
    (0..=4)
        .filter_map(|skip| digits.get(skip..))
        .filter(|rest| rest.starts_with(&code))
        .filter_map(|rest| phonenumber::parse(None, format!("+{rest}")).ok())
        .find(|n| n.code().value() == number.code().value() && phonenumber::is_valid(n))
}

// ---------------------------------------------------------------------------
// Dates and times

const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2100;

/// Parses a calendar date written in a common form.
///
/// Accepted: `2024-03-05`, `2024/3/5`, `2024.3.5`, `20240305`, `2024年3月5日`,
/// `5 Mar 2024`, `Mar 5, 2024`, `March 5th 2024`, `Tue, 5 Mar 2024`,
/// `05-Mar-2024`, `3/5/2024` (ambiguous: `cfg.day_month` decides; `25/3/2024`
/// is read correctly either way) and date-times, of which the date part is
/// taken as written (no time-zone conversion). Impossible dates
/// (`2024-02-30`), two-digit years and years outside 1900..=2100 are rejected
/// with a reason.
pub fn date(s: &str, cfg: &NormalizeConfig) -> Result<NaiveDate, String> {
    let t = clean_text(s).to_lowercase();
    let (date_part, time_part) = split_date_time(&t);
    let date = parse_date_part(date_part, cfg).map_err(|why| format!("not a valid date: {why}"))?;
    if let Some(time) = time_part {
        parse_time(time).map_err(|why| format!("not a valid date: {why}"))?;
    }
    Ok(date)
}

/// Parses a date or date-time as a UTC instant.
///
/// Accepts everything [`date`] does (a bare date is midnight UTC), followed by
/// a time `14:22`, `14:22:10`, `14:22:10.123`, `9:05 pm`, after a space or
/// `T`, optionally followed by `Z`, `UTC`, `GMT` or an offset (`+08:00`,
/// `+0800`, `+08`); so RFC 3339 and RFC 2822 forms work. A time without an
/// offset is taken as UTC. Unix timestamps are accepted as 9 or 10 digits
/// (seconds) or 12 or 13 digits (milliseconds); eight digits are a
/// `YYYYMMDD` date.
pub fn datetime(s: &str, cfg: &NormalizeConfig) -> Result<DateTime<Utc>, String> {
    let bad = |why: String| format!("not a valid date-time: {why}");
    let t = clean_text(s).to_lowercase();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && t.len() >= 9 {
        return unix_timestamp(&t).map_err(bad);
    }
    let (date_part, time_part) = split_date_time(&t);
    let date = parse_date_part(date_part, cfg).map_err(bad)?;
    let (time, offset_secs) = match time_part {
        Some(time) => parse_time(time).map_err(bad)?,
        None => (NaiveTime::MIN, 0),
    };
    let local = date.and_time(time);
    let utc = local
        .checked_sub_signed(TimeDelta::seconds(i64::from(offset_secs)))
        .ok_or_else(|| bad("out of range".to_owned()))?;
    Ok(Utc.from_utc_datetime(&utc))
}

/// A Unix timestamp in seconds (9-10 digits) or milliseconds (12-13 digits).
fn unix_timestamp(digits: &str) -> Result<DateTime<Utc>, String> {
    let value: i64 = digits
        .parse()
        .map_err(|_| format!("{digits} is not a Unix timestamp"))?;
    let instant = match digits.len() {
        9 | 10 => DateTime::from_timestamp(value, 0),
        12 | 13 => DateTime::from_timestamp_millis(value),
        _ => None,
    }
    .ok_or_else(|| format!("{digits} is not a Unix timestamp"))?;
    check_year(instant.year())?;
    Ok(instant)
}

/// The oldest a customer can plausibly be, in years.
pub const MAX_AGE_YEARS: i32 = 120;

/// Checks a birth date against the date it is judged on (`as_of`): the
/// importer's year range (1900..=2100), not after `as_of`, and not more than
/// [`MAX_AGE_YEARS`] before it. The importer reads dates without a clock, so
/// it applies only the year range; the quality report and the `invalid:`
/// query apply all three to stored birth dates.
pub fn birth_date(d: NaiveDate, as_of: NaiveDate) -> Result<NaiveDate, String> {
    let bad = |why: String| Err(format!("not a plausible birth date: {why}"));
    if let Err(why) = check_year(d.year()) {
        return bad(why);
    }
    if d > as_of {
        return bad(format!("{d} is after {as_of}"));
    }
    let oldest = as_of
        .with_year(as_of.year() - MAX_AGE_YEARS)
        .or_else(|| as_of.pred_opt()?.with_year(as_of.year() - MAX_AGE_YEARS));
    if oldest.is_some_and(|oldest| d < oldest) {
        return bad(format!(
            "{d} makes the customer older than {MAX_AGE_YEARS} on {as_of}"
        ));
    }
    Ok(d)
}

fn check_year(year: i32) -> Result<(), String> {
    if (MIN_YEAR..=MAX_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(format!("year {year} is outside {MIN_YEAR}..={MAX_YEAR}"))
    }
}

/// Splits a lower-cased date-time into its date part and, if present, its
/// time part (which starts with the hour).
fn split_date_time(s: &str) -> (&str, Option<&str>) {
    let bytes = s.as_bytes();
    // ISO 8601: a `T` between two digits.
    for (i, &b) in bytes.iter().enumerate() {
        if b == b't'
            && i > 0
            && bytes[i - 1].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            return (&s[..i], Some(&s[i + 1..]));
        }
    }
    // Otherwise the time starts at the number before the first colon.
    if let Some(colon) = s.find(':') {
        let start = s[..colon]
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .len();
        let date_part = s[..start].trim_end_matches([' ', ',']);
        return (date_part, Some(&s[start..]));
    }
    (s, None)
}

/// One token of a date: a run of digits, or a run of ASCII letters.
#[derive(Debug)]
enum DateToken<'a> {
    Number { value: u32, len: usize },
    Month(u32),
    Word(&'a str),
}

fn tokenize_date(s: &str) -> Result<Vec<DateToken<'_>>, String> {
    let mut tokens = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let digits = &rest[..end];
            if end > 9 {
                return Err(format!("unexpected number {digits}"));
            }
            let value = digits
                .parse()
                .map_err(|_| format!("unexpected number {digits}"))?;
            tokens.push(DateToken::Number { value, len: end });
            rest = &rest[end..];
        } else if c.is_ascii_alphabetic() {
            let end = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let word = &rest[..end];
            rest = &rest[end..];
            let after_number = matches!(tokens.last(), Some(DateToken::Number { .. }));
            if after_number && matches!(word, "st" | "nd" | "rd" | "th") {
                continue;
            }
            if is_weekday(word) || word == "of" {
                continue;
            }
            match month_number(word) {
                Some(m) => tokens.push(DateToken::Month(m)),
                None => tokens.push(DateToken::Word(word)),
            }
        } else if matches!(c, '-' | '/' | '.' | ',' | ' ' | '年' | '月' | '日' | '号') {
            rest = &rest[c.len_utf8()..];
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(tokens)
}

fn month_number(word: &str) -> Option<u32> {
    let m = match word {
        "jan" | "january" => 1,
        "feb" | "february" => 2,
        "mar" | "march" => 3,
        "apr" | "april" => 4,
        "may" => 5,
        "jun" | "june" => 6,
        "jul" | "july" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" => 10,
        "nov" | "november" => 11,
        "dec" | "december" => 12,
        _ => return None,
    };
    Some(m)
}

fn is_weekday(word: &str) -> bool {
    matches!(
        word,
        "mon"
            | "monday"
            | "tue"
            | "tues"
            | "tuesday"
            | "wed"
            | "wednesday"
            | "thu"
            | "thur"
            | "thurs"
            | "thursday"
            | "fri"
            | "friday"
            | "sat"
            | "saturday"
            | "sun"
            | "sunday"
    )
}

/// Parses the date part of a cleaned, lower-cased value (no time).
fn parse_date_part(s: &str, cfg: &NormalizeConfig) -> Result<NaiveDate, String> {
    if s.trim().is_empty() {
        return Err("empty".to_owned());
    }
    let tokens = tokenize_date(s)?;
    if let Some(DateToken::Word(w)) = tokens.iter().find(|t| matches!(t, DateToken::Word(_))) {
        return Err(format!("unrecognised word '{w}'"));
    }
    let two_digit_year = || Err("two-digit year; write the year in full".to_owned());
    let (year, month, day) = match tokens.as_slice() {
        // 20240305
        [DateToken::Number { value, len: 8 }] => (value / 10_000, value / 100 % 100, value % 100),
        // 2024-03-05, 2024年3月5日
        [
            DateToken::Number { value: y, len: 4 },
            DateToken::Number {
                value: m,
                len: 1..=2,
            },
            DateToken::Number {
                value: d,
                len: 1..=2,
            },
        ] => (*y, *m, *d),
        // 3/5/2024 or 5/3/2024
        [
            DateToken::Number {
                value: a,
                len: 1..=2,
            },
            DateToken::Number {
                value: b,
                len: 1..=2,
            },
            DateToken::Number { value: y, len: 4 },
        ] => {
            let (a, b) = (*a, *b);
            let day_first = if a > 12 && b <= 12 {
                true
            } else if b > 12 && a <= 12 {
                false
            } else {
                cfg.day_month == DayMonth::DayFirst
            };
            if day_first { (*y, b, a) } else { (*y, a, b) }
        }
        [
            DateToken::Number { len: 1..=2, .. },
            DateToken::Number { len: 1..=2, .. },
            DateToken::Number { len: 1..=2, .. },
        ] => return two_digit_year(),
        // 5 Mar 2024, Mar 5 2024, 2024 Mar 5, 05-Mar-2024
        [
            DateToken::Month(m),
            DateToken::Number {
                value: d,
                len: 1..=2,
            },
            DateToken::Number { value: y, len: 4 },
        ]
        | [
            DateToken::Number {
                value: d,
                len: 1..=2,
            },
            DateToken::Month(m),
            DateToken::Number { value: y, len: 4 },
        ]
        | [
            DateToken::Number { value: y, len: 4 },
            DateToken::Month(m),
            DateToken::Number {
                value: d,
                len: 1..=2,
            },
        ] => (*y, *m, *d),
        [
            DateToken::Month(_),
            DateToken::Number { len: 1..=2, .. },
            DateToken::Number { len: 1..=2, .. },
        ]
        | [
            DateToken::Number { len: 1..=2, .. },
            DateToken::Month(_),
            DateToken::Number { len: 1..=2, .. },
        ] => {
            return two_digit_year();
        }
        _ => return Err(format!("unrecognised date form '{}'", s.trim())),
    };
    let year = i32::try_from(year).map_err(|_| format!("year {year} is out of range"))?;
    check_year(year)?;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("no such date: {year}-{month:02}-{day:02}"))
}

/// A cursor over an ASCII string, for the time grammar.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self
            .bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(s.as_bytes()))
        {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while self.eat(b' ') {}
    }

    /// Reads up to `max` digits; returns the value and how many were read.
    fn digits(&mut self, max: usize) -> (u32, usize) {
        let mut value = 0u32;
        let mut n = 0;
        while n < max {
            match self.peek() {
                Some(b) if b.is_ascii_digit() => {
                    value = value * 10 + u32::from(b - b'0');
                    self.pos += 1;
                    n += 1;
                }
                _ => break,
            }
        }
        (value, n)
    }

    fn is_done(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

/// Parses a lower-cased time of day with an optional offset; returns the time
/// and the offset east of UTC in seconds (0 when absent).
fn parse_time(s: &str) -> Result<(NaiveTime, i32), String> {
    let s = s.trim();
    let unrecognised = || format!("unrecognised time '{s}'");
    if !s.is_ascii() {
        return Err(unrecognised());
    }
    let mut c = Cursor {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let (mut hour, minute, second);
    let (h, n) = c.digits(2);
    if n == 0 {
        return Err(unrecognised());
    }
    if c.eat(b':') {
        hour = h;
        let (m, n) = c.digits(2);
        if n != 2 {
            return Err(unrecognised());
        }
        minute = m;
        second = if c.eat(b':') {
            let (sec, n) = c.digits(2);
            if n != 2 {
                return Err(unrecognised());
            }
            sec
        } else {
            0
        };
    } else if n == 2 {
        // Basic ISO 8601: 1422 or 142210.
        hour = h;
        let (m, n) = c.digits(2);
        if n != 2 {
            return Err(unrecognised());
        }
        minute = m;
        let (sec, n) = c.digits(2);
        second = match n {
            0 => 0,
            2 => sec,
            _ => return Err(unrecognised()),
        };
    } else {
        return Err(unrecognised());
    }
    let mut nanos = 0u32;
    if c.eat(b'.') || c.eat(b',') {
        let (frac, n) = c.digits(9);
        if n == 0 {
            return Err(unrecognised());
        }
        nanos = frac * 10u32.pow(9 - n as u32);
        // Finer than nanoseconds: ignored.
        while c.peek().is_some_and(|b| b.is_ascii_digit()) {
            c.pos += 1;
        }
    }
    c.skip_spaces();
    let pm = if c.eat_str("am") || c.eat_str("a.m.") {
        Some(false)
    } else if c.eat_str("pm") || c.eat_str("p.m.") {
        Some(true)
    } else {
        None
    };
    if let Some(pm) = pm {
        if !(1..=12).contains(&hour) {
            return Err(format!("hour {hour} with am/pm"));
        }
        hour = match (pm, hour) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    c.skip_spaces();
    let offset = parse_offset(&mut c).ok_or_else(unrecognised)?;
    c.skip_spaces();
    if !c.is_done() {
        return Err(unrecognised());
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        .ok_or_else(|| format!("no such time: {hour:02}:{minute:02}:{second:02}"))?;
    Ok((time, offset))
}

/// Parses an optional `Z`, `UTC`, `GMT` or `±hh[[:]mm]`; None if malformed.
fn parse_offset(c: &mut Cursor<'_>) -> Option<i32> {
    if c.eat_str("z") {
        return Some(0);
    }
    let named = c.eat_str("utc") || c.eat_str("gmt");
    c.skip_spaces();
    let sign = if c.eat(b'+') {
        1
    } else if c.eat(b'-') {
        -1
    } else {
        return Some(0);
    };
    let (h, n) = c.digits(2);
    if n == 0 || (n == 1 && !named) {
        return None;
    }
    let had_colon = c.eat(b':');
    let (m, n) = c.digits(2);
    if (had_colon && n != 2) || n == 1 {
        return None;
    }
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (i32::try_from(h * 3600 + m * 60).ok()?))
}

// ---------------------------------------------------------------------------
// Money

/// Currency markers removed around an amount (after lower-casing), longest
/// first so that `us$` is not read as `us` + `$`.
const CURRENCY_AFFIXES: &[&str] = &[
    "人民币",
    "美元",
    "欧元",
    "港币",
    "港元",
    "日元",
    "英镑",
    "元整",
    "块钱",
    "rmb",
    "cny",
    "usd",
    "eur",
    "gbp",
    "jpy",
    "hkd",
    "twd",
    "ntd",
    "sgd",
    "aud",
    "cad",
    "chf",
    "krw",
    "inr",
    "nzd",
    "rub",
    "us$",
    "hk$",
    "nt$",
    "s$",
    "a$",
    "c$",
    "r$",
    "元",
    "圆",
    "块",
    "円",
    "$",
    "¥",
    "€",
    "£",
    "₩",
    "₹",
    "₽",
];

/// Removes one currency marker from the start and one from the end of `s`.
fn strip_currency(s: &str) -> &str {
    let mut s = s;
    if let Some(rest) = CURRENCY_AFFIXES.iter().find_map(|a| s.strip_prefix(a)) {
        s = rest;
    }
    if let Some(rest) = CURRENCY_AFFIXES.iter().find_map(|a| s.strip_suffix(a)) {
        s = rest;
    }
    s
}

/// Parses an amount of money into integer minor units (hundredths).
///
/// `1,234.50` -> 123450, `¥1,234` -> 123400, `$12`, `€ 3,50` (a single comma
/// followed by one or two final digits and no dot is a decimal comma),
/// `1.234,56`, `1 234,56`, `1'234.50`, `RMB 100`, `100元`, `CNY100.5`.
/// `-12.30`, `12.30-`, `(12.30)` and `¥-12` are negative. More than two
/// decimals are rounded half away from zero. Empty, non-numeric, malformed
/// digit grouping and values beyond `i64` are rejected.
pub fn amount_minor(s: &str) -> Result<i64, String> {
    let bad = |why: String| Err(format!("not a valid amount: {why}"));
    let cleaned = clean_text(s).to_lowercase();
    if cleaned.is_empty() {
        return bad("empty".to_owned());
    }
    let mut rest = cleaned.as_str();
    let mut negative = false;
    let mut signs = 0;
    loop {
        let before = rest.len();
        rest = strip_currency(rest.trim()).trim();
        if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            rest = inner;
            negative = true;
            signs += 1;
        } else if let Some(r) = rest.strip_prefix(['-', '\u{2212}']) {
            rest = r;
            negative = true;
            signs += 1;
        } else if let Some(r) = rest.strip_prefix('+') {
            rest = r;
            signs += 1;
        } else if let Some(r) = rest.strip_suffix(['-', '\u{2212}']) {
            rest = r;
            negative = true;
            signs += 1;
        }
        if rest.len() == before {
            break;
        }
    }
    if signs > 1 {
        return bad(format!("more than one sign in '{cleaned}'"));
    }
    let magnitude = match parse_magnitude(rest) {
        Ok(m) => m,
        Err(why) => return bad(format!("{why} in '{cleaned}'")),
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// Parses an unsigned decimal with optional digit grouping into hundredths.
fn parse_magnitude(s: &str) -> Result<i64, String> {
    if let Some(c) = s
        .chars()
        .find(|&c| !(c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '\'')))
    {
        return Err(format!("unexpected character '{c}'"));
    }
    if !s.chars().any(|c| c.is_ascii_digit()) {
        return Err("no digits".to_owned());
    }
    let dots = s.matches('.').count();
    let commas = s.matches(',').count();
    let decimal = match (dots, commas) {
        (0, 0) => None,
        (1, 0) => Some('.'),
        (_, 0) => None,
        (0, 1) => {
            let after = s.rsplit(',').next().unwrap_or_default();
            match after.len() {
                _ if !after.bytes().all(|b| b.is_ascii_digit()) => None,
                0..=2 => Some(','),
                3 => None,
                _ => return Err("malformed digit grouping".to_owned()),
            }
        }
        (0, _) => None,
        _ => {
            let last_dot = s.rfind('.');
            let last_comma = s.rfind(',');
            if last_dot > last_comma {
                Some('.')
            } else {
                Some(',')
            }
        }
    };
    if decimal.is_some_and(|sep| s.matches(sep).count() > 1) {
        return Err("malformed decimals".to_owned());
    }
    let (int_part, frac_part) = match decimal {
        Some(sep) => s.rsplit_once(sep).unwrap_or((s, "")),
        None => (s, ""),
    };
    if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err("malformed decimals".to_owned());
    }
    let int_digits = ungroup(int_part)?;
    if int_digits.is_empty() && frac_part.is_empty() {
        return Err("no digits".to_owned());
    }

    let overflow = || "too large".to_owned();
    let mut units: i64 = 0;
    for b in int_digits.bytes() {
        units = units
            .checked_mul(10)
            .and_then(|u| u.checked_add(i64::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    let frac = frac_part.as_bytes();
    let digit = |i: usize| frac.get(i).map_or(0, |b| i64::from(b - b'0'));
    let round_up = i64::from(digit(2) >= 5);
    units
        .checked_mul(100)
        .and_then(|u| u.checked_add(digit(0) * 10 + digit(1) + round_up))
        .ok_or_else(overflow)
}

/// Removes digit grouping from an integer part, checking that the groups are
/// well formed: one kind of separator, a first group of 1-3 digits, a last
/// group of 3, groups of 2 or 3 between (which admits Indian 1,23,45,678).
fn ungroup(int_part: &str) -> Result<String, String> {
    let mut separators = int_part.chars().filter(|c| !c.is_ascii_digit());
    let Some(sep) = separators.next() else {
        return Ok(int_part.to_owned());
    };
    if separators.any(|c| c != sep) {
        return Err("mixed digit grouping".to_owned());
    }
    let groups: Vec<&str> = int_part.split(sep).collect();
    let malformed = || Err("malformed digit grouping".to_owned());
    let Some((first, tail)) = groups.split_first() else {
        return malformed();
    };
    let Some((last, middle)) = tail.split_last() else {
        return malformed();
    };
    if !(1..=3).contains(&first.len())
        || last.len() != 3
        || middle.iter().any(|g| !(2..=3).contains(&g.len()))
    {
        return malformed();
    }
    Ok(groups.concat())
}

// ---------------------------------------------------------------------------
// Gender

/// Maps the common ways of writing gender to `"male"` or `"female"`:
/// 男/男性/先生/M/male/man/Mr and 女/女性/女士/小姐/F/female/woman/Ms/Mrs/Miss,
/// case-insensitively. Anything else is returned cleaned but otherwise as is.
pub fn gender(s: &str) -> String {
    let cleaned = clean_text(s);
    let key = cleaned.to_lowercase();
    let key = key.trim_end_matches('.');
    match key {
        "男" | "男性" | "男士" | "先生" | "m" | "male" | "man" | "mr" => "male".to_owned(),
        "女" | "女性" | "女士" | "小姐" | "f" | "female" | "woman" | "ms" | "mrs" | "miss" => {
            "female".to_owned()
        }
        _ => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_in_the_future_or_absurd_are_refused() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let as_of = d(2024, 6, 30);
        assert_eq!(birth_date(d(1985, 3, 4), as_of), Ok(d(1985, 3, 4)));
        assert_eq!(birth_date(as_of, as_of), Ok(as_of));
        assert_eq!(birth_date(d(1904, 6, 30), as_of), Ok(d(1904, 6, 30)));
        for bad in [
            d(2024, 7, 1),
            d(2090, 1, 1),
            d(1904, 6, 29),
            d(1899, 12, 31),
            d(1000, 1, 1),
        ] {
            assert!(birth_date(bad, as_of).is_err(), "{bad}");
        }
        // A leap day whose year 120 years earlier has none: the day before.
        assert!(birth_date(d(1900, 2, 28), d(2020, 2, 29)).is_ok());
        assert!(birth_date(d(1900, 2, 27), d(2020, 2, 29)).is_err());
    }
    use proptest::prelude::*;

    fn cfg() -> NormalizeConfig {
        NormalizeConfig::default()
    }

    fn day_first() -> NormalizeConfig {
        NormalizeConfig {
            day_month: DayMonth::DayFirst,
            ..NormalizeConfig::default()
        }
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn config_defaults_to_cn_month_first() {
        let c = NormalizeConfig::default();
        assert_eq!(c.default_region, country::Id::CN);
        assert_eq!(c.day_month, DayMonth::MonthFirst);
    }

    #[test]
    fn clean_text_cases() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("   ", ""),
            ("  Ann   Lee  ", "Ann Lee"),
            ("Ann\tLee\r\nSmith", "Ann Lee Smith"),
            ("１３８００１３８０００", "13800138000"),
            ("ＡＢＣ ａｂｃ", "ABC abc"),
            ("张\u{3000}三", "张 三"),
            ("a\u{00A0}b", "a b"),
            ("a\u{0}b\u{7}c\u{7F}d", "abcd"),
            ("a\u{80}b\u{9F}c", "abc"),
            ("a\u{85}b", "a b"),
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("\u{1b}[1;38;5;196mbold\u{1b}[m text", "bold text"),
            ("\u{1b}]0;title\u{7}after", "after"),
            ("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\", "link"),
            ("\u{1b}(Bplain", "plain"),
            ("\u{1b}7saved\u{1b}8", "saved"),
            ("\u{9b}31mc1\u{9b}0m", "c1"),
            ("trailing\u{1b}", "trailing"),
            ("\u{1b}张", "张"),
            ("\u{202E}evil\u{202C}", "evil"),
            ("\u{2066}iso\u{2069}\u{200E}\u{200F}\u{061C}", "iso"),
            ("\u{FEFF}bom", "bom"),
            ("zero\u{200B}width\u{200E}", "zerowidth"),
            ("👨\u{200D}👩", "👨\u{200D}👩"),
            ("soft\u{00AD}hyphen\u{2060}", "softhyphen"),
            ("ｅ\u{0301}", "é"),
            ("Ⅻ ㈱", "XII (株)"),
            ("a\u{2028}b\u{2029}c", "a b c"),
        ];
        for (input, want) in cases {
            assert_eq!(clean_text(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn email_accepts() {
        let cases: &[(&str, &str)] = &[
            ("ann@example.com", "ann@example.com"),
            ("  Ann.Lee@Example.COM ", "ann.lee@example.com"),
            ("mailto:ann@example.com", "ann@example.com"),
            ("MAILTO:ann@example.com?subject=hi", "ann@example.com"),
            ("<ann@example.com>", "ann@example.com"),
            ("Ann Lee <ann@example.com>", "ann@example.com"),
            ("<mailto:ann@example.com>", "ann@example.com"),
            ("ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ann@example.com"),
            ("ann\u{200B}@example.com", "ann@example.com"),
            ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("a_b-c@my-host.example", "a_b-c@my-host.example"),
            ("123@163.com", "123@163.com"),
            ("zhang.san@qq.com", "zhang.san@qq.com"),
        ];
        for (input, want) in cases {
            assert_eq!(email(input).as_deref(), Ok(*want), "input {input:?}");
        }
    }

    #[test]
    fn email_rejects_with_reason() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("   ", "empty"),
            ("ann.example.com", "missing @"),
            ("ann@@example.com", "more than one @"),
            ("a@b@example.com", "more than one @"),
            ("@example.com", "nothing before @"),
            ("ann@", "nothing after @"),
            ("ann@localhost", "domain has no dot"),
            ("ann lee@example.com", "contains a space"),
            ("ann@exa mple.com", "contains a space"),
            (".ann@example.com", "misplaced dot"),
            ("ann.@example.com", "misplaced dot"),
            ("an..n@example.com", "misplaced dot"),
            ("ann(x)@example.com", "invalid character '('"),
            ("ann@example..com", "empty part in domain"),
            ("ann@.example.com", "empty part in domain"),
            ("ann@example.com.", "empty part in domain"),
            ("ann@exa_mple.com", "invalid character '_' in domain"),
            ("ann@gmail,com", "invalid character ','"),
            ("ann@-example.com", "starts or ends with -"),
            ("ann@example-.com", "starts or ends with -"),
            ("ann@example.c", "top-level domain too short"),
            ("ann@1.2.3.4", "top-level domain is numeric"),
            ("张三@example.com", "non-ASCII"),
            ("ann@例子.中国", "non-ASCII"),
        ];
        for (input, why) in cases {
            let err = email(input).unwrap_err();
            assert!(
                err.starts_with("not a valid email: ") && err.contains(why),
                "input {input:?}: got {err:?}, want {why:?}"
            );
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(email(&long_local).unwrap_err().contains("64"));
        let long = format!("a@{}.com", "b.".repeat(130));
        assert!(email(&long).unwrap_err().contains("254"));
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert!(email(&long_label).unwrap_err().contains("63"));
    }

    #[test]
    fn phone_accepts() {
        let cases: &[(&str, &str)] = &[
            ("+86 138 0013 8000", "+8613800138000"),
            ("0086-13800138000", "+8613800138000"),
            ("13800138000", "+8613800138000"),
            ("138-0013-8000", "+8613800138000"),
            ("１３８００１３８０００", "+8613800138000"),
            ("+86 (138) 0013.8000", "+8613800138000"),
            ("(021) 6212-3456", "+862162123456"),
            ("021-62123456", "+862162123456"),
            ("010 6552 9988", "+861065529988"),
            ("+1 650-253-0000", "+16502530000"),
            ("+44 20 7946 0958", "+442079460958"),
            ("0044 20 7946 0958", "+442079460958"),
            ("00 1 650 253 0000", "+16502530000"),
            ("+86 138 0013 8000 ext. 12", "+8613800138000"),
            ("tel:+86-138-0013-8000", "+8613800138000"),
            ("\u{202A}+86 138 0013 8000\u{202C}", "+8613800138000"),
            ("\u{1b}[31m138 0013 8000\u{1b}[0m", "+8613800138000"),
        ];
        for (input, want) in cases {
            assert_eq!(
                phone(input, &cfg()).as_deref(),
                Ok(*want),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn phone_uses_default_region() {
        let us = NormalizeConfig {
            default_region: country::Id::US,
            ..NormalizeConfig::default()
        };
        assert_eq!(phone("(650) 253-0000", &us).as_deref(), Ok("+16502530000"));
        assert_eq!(
            phone("+86 138 0013 8000", &us).as_deref(),
            Ok("+8613800138000")
        );
        assert_eq!(
            phone("011 86 138 0013 8000", &us).as_deref(),
            Ok("+8613800138000")
        );
        assert_eq!(
            phone("01144 20 7946 0958", &us).as_deref(),
            Ok("+442079460958")
        );
        let err = phone("12345", &us).unwrap_err();
        assert!(
            err.starts_with("not a valid phone number for US: "),
            "{err}"
        );
    }

    #[test]
    fn phone_rejects() {
        let cases = [
            "",
            "   ",
            "n/a",
            "12345",
            "1380013800",
            "138001380001234",
            "+86 000 0000 0000",
            "+999 123456789",
            "phone: 電話",
            &"1".repeat(40),
            &"+86 138 0013 8000 ".repeat(10),
        ];
        for input in cases {
            let err = phone(input, &cfg()).unwrap_err();
            assert!(
                err.starts_with("not a valid phone number for CN: "),
                "{input:?}: {err}"
            );
        }
    }

    #[test]
    fn date_accepts() {
        let want = ymd(2024, 3, 5);
        let cases = [
            "2024-03-05",
            "2024-3-5",
            "2024/3/5",
            "2024/03/05",
            "2024.3.5",
            "20240305",
            "2024年3月5日",
            "2024年03月05号",
            "２０２４－０３－０５",
            "5 Mar 2024",
            "5 March 2024",
            "5th March 2024",
            "5th of March, 2024",
            "Mar 5, 2024",
            "March 5 2024",
            "March 5th, 2024",
            "MARCH 5, 2024",
            "05-Mar-2024",
            "05-mar-2024",
            "2024 Mar 5",
            "Tue, 5 Mar 2024",
            "Tuesday, March 5, 2024",
            "3/5/2024",
            "03/05/2024",
            "2024-03-05T14:22:10Z",
            "2024-03-05T23:59:59-08:00",
            "2024-03-05 14:22",
            "2024/3/5 9:05",
            "Tue, 05 Mar 2024 14:22:10 +0000",
            "  2024-03-05  ",
        ];
        for input in cases {
            assert_eq!(date(input, &cfg()), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn date_ambiguous_follows_config() {
        let cases: &[(&str, NaiveDate, NaiveDate)] = &[
            ("03/05/2024", ymd(2024, 3, 5), ymd(2024, 5, 3)),
            ("3.5.2024", ymd(2024, 3, 5), ymd(2024, 5, 3)),
            ("12-11-2024", ymd(2024, 12, 11), ymd(2024, 11, 12)),
            ("25/3/2024", ymd(2024, 3, 25), ymd(2024, 3, 25)),
            ("3/25/2024", ymd(2024, 3, 25), ymd(2024, 3, 25)),
            ("13/12/2024", ymd(2024, 12, 13), ymd(2024, 12, 13)),
            ("5/5/2024", ymd(2024, 5, 5), ymd(2024, 5, 5)),
        ];
        for (input, month_first, day_first_want) in cases {
            assert_eq!(
                date(input, &cfg()),
                Ok(*month_first),
                "month-first {input:?}"
            );
            assert_eq!(
                date(input, &day_first()),
                Ok(*day_first_want),
                "day-first {input:?}"
            );
        }
    }

    #[test]
    fn date_rejects_with_reason() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("2024-02-30", "no such date: 2024-02-30"),
            ("2023-02-29", "no such date"),
            ("2024-13-01", "no such date"),
            ("2024-00-10", "no such date"),
            ("20241301", "no such date"),
            ("31/31/2024", "no such date"),
            ("1899-12-31", "year 1899 is outside 1900..=2100"),
            ("2101-01-01", "year 2101"),
            ("0000-01-01", "year 0"),
            ("3/5/24", "two-digit year"),
            ("5 Mar 24", "two-digit year"),
            ("2024-03", "unrecognised date form"),
            ("March 2024", "unrecognised date form"),
            ("2024-03-05-07", "unrecognised date form"),
            ("yesterday", "unrecognised word 'yesterday'"),
            ("5 Foo 2024", "unrecognised word"),
            ("2024-03-05 25:00", "no such time"),
            ("2024-03-05 14:22 nonsense", "unrecognised time"),
            ("2024_03_05", "unexpected character '_'"),
            ("1234567890123", "unexpected number"),
            ("3月5日", "unrecognised date form"),
        ];
        for (input, why) in cases {
            let err = date(input, &cfg()).unwrap_err();
            assert!(
                err.starts_with("not a valid date: ") && err.contains(why),
                "input {input:?}: got {err:?}, want {why:?}"
            );
        }
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn datetime_accepts() {
        let cases: &[(&str, DateTime<Utc>)] = &[
            ("2024-03-05", utc(2024, 3, 5, 0, 0, 0)),
            ("2024-03-05 14:22:10", utc(2024, 3, 5, 14, 22, 10)),
            ("2024-03-05T14:22:10", utc(2024, 3, 5, 14, 22, 10)),
            ("2024-03-05T14:22:10Z", utc(2024, 3, 5, 14, 22, 10)),
            ("2024-03-05t14:22:10z", utc(2024, 3, 5, 14, 22, 10)),
            ("2024-03-05T14:22:10+08:00", utc(2024, 3, 5, 6, 22, 10)),
            ("2024-03-05T02:00:00+08:00", utc(2024, 3, 4, 18, 0, 0)),
            ("2024-03-05T14:22:10-0500", utc(2024, 3, 5, 19, 22, 10)),
            ("2024-03-05T14:22:10+08", utc(2024, 3, 5, 6, 22, 10)),
            ("2024-03-05 14:22:10 UTC", utc(2024, 3, 5, 14, 22, 10)),
            ("2024-03-05 14:22:10 GMT+8", utc(2024, 3, 5, 6, 22, 10)),
            ("20240305T142210Z", utc(2024, 3, 5, 14, 22, 10)),
            ("2024/3/5 9:05", utc(2024, 3, 5, 9, 5, 0)),
            ("2024年3月5日 09:05", utc(2024, 3, 5, 9, 5, 0)),
            ("3/5/2024 9:05 pm", utc(2024, 3, 5, 21, 5, 0)),
            ("3/5/2024 12:30 AM", utc(2024, 3, 5, 0, 30, 0)),
            ("3/5/2024 12:30PM", utc(2024, 3, 5, 12, 30, 0)),
            (
                "Tue, 05 Mar 2024 14:22:10 +0000",
                utc(2024, 3, 5, 14, 22, 10),
            ),
            ("1709600000", utc(2024, 3, 5, 0, 53, 20)),
            ("1709600000000", utc(2024, 3, 5, 0, 53, 20)),
            ("946684800", utc(2000, 1, 1, 0, 0, 0)),
        ];
        for (input, want) in cases {
            assert_eq!(datetime(input, &cfg()), Ok(*want), "input {input:?}");
        }
        let frac = datetime("2024-03-05T14:22:10.123456789123Z", &cfg()).unwrap();
        assert_eq!(frac.timestamp_subsec_nanos(), 123_456_789);
        let frac = datetime("2024-03-05 14:22:10,5", &cfg()).unwrap();
        assert_eq!(frac.timestamp_subsec_millis(), 500);
    }

    #[test]
    fn datetime_rejects_with_reason() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("14:22", "empty"),
            ("2024-02-30 10:00", "no such date"),
            ("2024-03-05 24:00", "no such time"),
            ("2024-03-05 14:60", "no such time"),
            ("2024-03-05 13:00 pm", "hour 13 with am/pm"),
            ("2024-03-05 14:22+25:00", "unrecognised time"),
            ("2024-03-05 14:2", "unrecognised time"),
            ("2024-03-05T14", "unrecognised time"),
            ("2024-03-05 14:22 CST", "unrecognised time"),
            ("9999999999", "year 2286"),
            ("99999999999", "not a Unix timestamp"),
        ];
        for (input, why) in cases {
            let err = datetime(input, &cfg()).unwrap_err();
            assert!(
                err.starts_with("not a valid date-time: ") && err.contains(why),
                "input {input:?}: got {err:?}, want {why:?}"
            );
        }
    }

    #[test]
    fn amount_accepts() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("12", 1200),
            ("12.3", 1230),
            ("12.30", 1230),
            ("1,234.50", 123450),
            ("1,234", 123400),
            ("1,234,567.89", 123456789),
            ("¥1,234", 123400),
            ("￥1,234.5", 123450),
            ("$12", 1200),
            ("US$ 12.00", 1200),
            ("€ 3,50", 350),
            ("3,5", 350),
            ("12,", 1200),
            ("1.234,56", 123456),
            ("1.234.567,89", 123456789),
            ("1.234.567", 123456700),
            ("1 234,56", 123456),
            ("1 234 567", 123456700),
            ("1'234.50", 123450),
            ("1,23,45,678.90", 1234567890),
            ("RMB 100", 10000),
            ("rmb100", 10000),
            ("100元", 10000),
            ("100 元", 10000),
            ("100元整", 10000),
            ("人民币100元", 10000),
            ("CNY100.5", 10050),
            ("100.5 CNY", 10050),
            ("１２３．４５", 12345),
            (".5", 50),
            ("12.", 1200),
            ("+12", 1200),
            ("-12.30", -1230),
            ("−12.30", -1230),
            ("(12.30)", -1230),
            ("(¥12.30)", -1230),
            ("¥(12.30)", -1230),
            ("¥-12", -1200),
            ("-¥12", -1200),
            ("12.30-", -1230),
            ("-0", 0),
            ("1.234", 123),
            ("0.125", 13),
            ("0.1249", 12),
            ("-0.125", -13),
            ("2.675", 268),
            ("0.005", 1),
            ("0.004999", 0),
            ("92233720368547758.07", i64::MAX),
            ("-92233720368547758.07", -i64::MAX),
            ("000012.50", 1250),
        ];
        for (input, want) in cases {
            assert_eq!(amount_minor(input), Ok(*want), "input {input:?}");
        }
    }

    #[test]
    fn amount_rejects_with_reason() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("  ", "empty"),
            ("abc", "unexpected character 'a'"),
            ("n/a", "unexpected character"),
            ("¥", "no digits"),
            ("-", "no digits"),
            ("()", "no digits"),
            ("1e5", "unexpected character 'e'"),
            ("12 kg", "unexpected character 'k'"),
            ("--12", "more than one sign"),
            ("-(12)", "more than one sign"),
            ("1,2345", "malformed digit grouping"),
            ("12,34,5", "malformed digit grouping"),
            ("1,234 567", "mixed digit grouping"),
            (",123", "malformed digit grouping"),
            ("1,,234", "malformed digit grouping"),
            ("1.2.3", "malformed digit grouping"),
            ("1,234.5.6", "malformed decimals"),
            ("1.234,5,6", "malformed decimals"),
            ("92233720368547758.08", "too large"),
            ("99999999999999999999999", "too large"),
            ("12 34", "malformed digit grouping"),
        ];
        for (input, why) in cases {
            let err = amount_minor(input).unwrap_err();
            assert!(
                err.starts_with("not a valid amount: ") && err.contains(why),
                "input {input:?}: got {err:?}, want {why:?}"
            );
        }
    }

    #[test]
    fn gender_cases() {
        let cases: &[(&str, &str)] = &[
            ("男", "male"),
            ("男性", "male"),
            ("先生", "male"),
            ("M", "male"),
            ("m", "male"),
            (" Male ", "male"),
            ("MALE", "male"),
            ("Mr.", "male"),
            ("女", "female"),
            ("女士", "female"),
            ("小姐", "female"),
            ("F", "female"),
            ("f", "female"),
            ("Female", "female"),
            ("Mrs", "female"),
            ("", ""),
            ("  non-binary  ", "non-binary"),
            ("Unknown", "Unknown"),
            ("未知", "未知"),
            ("\u{200B}男\u{200B}", "male"),
        ];
        for (input, want) in cases {
            assert_eq!(gender(input), *want, "input {input:?}");
        }
    }

    /// Strings rich in the characters the parsers care about, so proptest
    /// explores their edges rather than random Unicode only.
    fn tricky() -> impl Strategy<Value = String> {
        let alphabet = prop::sample::select(vec![
            '0', '1', '2', '9', '-', '/', '.', ',', ':', ' ', '+', '(', ')', '@', 'T', 'Z', 'a',
            'm', 'p', 'r', '年', '月', '日', '¥', '$', '元', '\u{1b}', '[', ']', '\u{7}', '\\',
            '\u{9b}', '\u{200B}', '\u{202E}', '\u{FEFF}', '\u{3000}', '１', '\u{0301}', '\n',
        ]);
        prop::collection::vec(alphabet, 0..40).prop_map(|v| v.into_iter().collect())
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), tricky()]
    }

    proptest! {
        #[test]
        fn clean_text_is_idempotent_and_clean(s in any_text()) {
            let once = clean_text(&s);
            prop_assert_eq!(clean_text(&once), once.clone());
            prop_assert!(!once.chars().any(|c| c.is_control()));
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
            prop_assert!(!once.contains("  "));
            let invisible = ['\u{200B}', '\u{FEFF}', '\u{202E}', '\u{1b}'];
            prop_assert!(!once.contains(invisible), "invisible character left in {:?}", once);
        }

        #[test]
        fn normalizers_never_panic(s in any_text()) {
            let _ = email(&s);
            let _ = phone(&s, &cfg());
            let _ = date(&s, &cfg());
            let _ = date(&s, &day_first());
            let _ = datetime(&s, &cfg());
            let _ = amount_minor(&s);
            let _ = gender(&s);
        }

        #[test]
        fn email_output_is_stable(s in any_text()) {
            if let Ok(e) = email(&s) {
                prop_assert_eq!(email(&e), Ok(e.clone()));
                prop_assert_eq!(e.to_lowercase(), e.clone());
                prop_assert_eq!(e.matches('@').count(), 1);
            }
        }

        #[test]
        fn phone_output_is_e164_and_stable(
            s in prop_oneof![
                any_text(),
                "[+0-9 ()-]{0,20}",
                "1[3-9][0-9]{9}",
                "(tel:)?[+]?(00|011)?[0-9 ()+#;x=.-]{0,30}",
            ]
        ) {
            if let Ok(p) = phone(&s, &cfg()) {
                prop_assert!(p.starts_with('+'));
                prop_assert!(p[1..].bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(p.len() <= 16);
                prop_assert_eq!(phone(&p, &cfg()), Ok(p.clone()));
            }
        }

        #[test]
        fn date_round_trips_common_formats(days in 0i64..73_000) {
            let d = ymd(1900, 1, 1) + TimeDelta::days(days);
            prop_assume!(chrono::Datelike::year(&d) <= 2100);
            for fmt in ["%Y-%m-%d", "%Y/%-m/%-d", "%Y.%m.%d", "%Y%m%d", "%Y年%-m月%-d日",
                        "%d %b %Y", "%B %-d, %Y", "%d-%b-%Y", "%a, %d %b %Y"] {
                let s = d.format(fmt).to_string();
                prop_assert_eq!(date(&s, &cfg()), Ok(d), "format {} gave {}", fmt, s);
            }
            let iso = d.and_hms_opt(14, 22, 10).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            prop_assert_eq!(date(&iso, &cfg()), Ok(d));
            let us = d.format("%m/%d/%Y").to_string();
            prop_assert_eq!(date(&us, &cfg()), Ok(d));
            let eu = d.format("%d/%m/%Y").to_string();
            prop_assert_eq!(date(&eu, &day_first()), Ok(d));
        }

        #[test]
        fn datetime_round_trips_rfc3339(
            secs in -2_208_988_800i64..4_133_980_799,
            offset_min in -(14 * 60)..=(14 * 60),
        ) {
            let instant = DateTime::from_timestamp(secs, 0).unwrap();
            let offset = chrono::FixedOffset::east_opt(offset_min * 60).unwrap();
            let local = instant.with_timezone(&offset);
            prop_assume!((1900..=2100).contains(&chrono::Datelike::year(&local)));
            prop_assert_eq!(datetime(&local.to_rfc3339(), &cfg()), Ok(instant));
            prop_assert_eq!(datetime(&instant.to_rfc2822(), &cfg()), Ok(instant));
            prop_assert_eq!(
                datetime(&instant.format("%Y-%m-%d %H:%M:%S").to_string(), &cfg()),
                Ok(instant)
            );
        }

        #[test]
        fn amount_round_trips(n in -i64::MAX..=i64::MAX) {
            let sign = if n < 0 { "-" } else { "" };
            let units = n.unsigned_abs() / 100;
            let cents = n.unsigned_abs() % 100;
            let plain = format!("{sign}{units}.{cents:02}");
            prop_assert_eq!(amount_minor(&plain), Ok(n));
            let grouped = group_thousands(units, ',');
            prop_assert_eq!(amount_minor(&format!("{sign}¥{grouped}.{cents:02}")), Ok(n));
            let european = group_thousands(units, '.');
            prop_assert_eq!(amount_minor(&format!("{sign}{european},{cents:02} €")), Ok(n));
            if n < 0 {
                prop_assert_eq!(amount_minor(&format!("({units}.{cents:02})")), Ok(n));
            }
        }

        #[test]
        fn amount_rounds_half_away_from_zero(units in 0i64..1_000_000, milli in 0i64..1000) {
            let s = format!("{units}.{milli:03}");
            let want = units * 100 + (milli + 5) / 10;
            prop_assert_eq!(amount_minor(&s), Ok(want));
            prop_assert_eq!(amount_minor(&format!("-{s}")), Ok(-want));
        }
    }

    fn group_thousands(n: u64, sep: char) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }

    proptest! {
        #[test]
        fn cn_mobile_fast_path_agrees_with_the_general_parser(n in 10_000_000_000u64..20_000_000_000u64, form in 0usize..4) {
            let d = n.to_string();
            let text = match form {
                0 => d.clone(),
                1 => format!("+86 {} {} {}", &d[..3], &d[3..7], &d[7..]),
                2 => format!("0086-{d}"),
                _ => format!("({}) {}-{}", &d[..3], &d[3..7], &d[7..]),
            };
            let cfg = NormalizeConfig::default();
            if let Some(fast) = fast_cn_mobile(&text, cfg.default_region) {
                let slow = parse_phone_number(&text, cfg.default_region)
                    .map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
                prop_assert_eq!(Some(fast), slow);
            }
        }
    }

    proptest! {
        #[test]
        fn clean_text_fast_path_equals_the_full_one(s in "(\\PC|[ \t\u{3000}\u{ff10}-\u{ff19}\u{1b}\u{200d}\u{202e}])*") {
            prop_assert_eq!(clean_text(&s), clean_text_slow(&s));
        }
    }
}
