//! The searchable text of a customer: what free-text query terms match.
//!
//! The haystack is built once per customer (at import and on every change) and
//! cached by callers, so it favours a cheap, allocation-light build over
//! cleverness. It is lower-case, one segment per line: a fuzzy term must match
//! within one segment, so "zw" never matches the end of a name and the start of
//! an email. Chinese names add their pinyin in the forms people type (joined,
//! spaced, initials) and every reading of a heteronym surname, because the
//! pinyin crate's first reading of 曾, 单 or 区 is rarely the surname's.

use pinyin::{ToPinyin, ToPinyinMulti};

use super::Customer;

/// The lower-cased text segments of a customer that free-text terms match,
/// joined by '\n' (one segment per line, so a fuzzy match never spans two
/// fields): the name; for names with Han characters the full pinyin without
/// tones and spaces ("zhangwei"), spaced ("zhang wei") and initials ("zw"),
/// with every reading of a heteronym surname as extra segments; given and
/// family name where not already within the name; each email; each phone as
/// digits only (E.164 digits without '+', then the national number without
/// the country code); company; ext_id. 'ü' is written 'v' as pinyin IMEs do,
/// with one extra joined segment using 'u' ("lvwei", "luwei").
pub fn haystack(c: &Customer) -> String {
    let mut out = String::with_capacity(
        c.name.len() * 4
            + c.emails.iter().map(|e| e.len() + 1).sum::<usize>()
            + c.phones.iter().map(|p| p.len() * 2 + 2).sum::<usize>()
            + c.company.as_deref().map_or(0, str::len)
            + c.ext_id.as_deref().map_or(0, str::len)
            + 64,
    );
    let name_start = out.len();
    push_segment(&mut out, &c.name);
    let name_end = out.len();
    if c.name.chars().any(is_han) {
        // Pinyin is built from the lower-cased copy already in `out`.
        let lowered = out[name_start..name_end].to_owned();
        push_pinyin(&mut out, &lowered);
    }
    for part in [&c.given_name, &c.family_name].into_iter().flatten() {
        let lowered = part.to_lowercase();
        if !lowered.trim().is_empty() && !out[name_start..name_end].contains(lowered.as_str()) {
            push_segment(&mut out, &lowered);
        }
    }
    for email in &c.emails {
        push_segment(&mut out, email);
    }
    for phone in &c.phones {
        push_phone(&mut out, phone);
    }
    if let Some(company) = &c.company {
        push_segment(&mut out, company);
    }
    if let Some(ext_id) = &c.ext_id {
        push_segment(&mut out, ext_id);
    }
    out
}

/// The character-class bit of one (lower-cased) char: one bit per ASCII
/// letter and digit (exact), one for other ASCII, and 27 hashed bits for the
/// rest. A haystack can only match a term whose mask bits it has.
pub fn char_bit(c: char) -> u64 {
    match c {
        'a'..='z' => 1 << (c as u32 - 'a' as u32),
        '0'..='9' => 1 << (26 + c as u32 - '0' as u32),
        '@' | '.' | '-' | '_' | '+' | ' ' | '\n' => 0,
        c if c.is_ascii() => 1 << 36,
        c => 1 << (37 + (c as u32).wrapping_mul(2_654_435_761) % 27),
    }
}

/// The union of [`char_bit`] over the first character of every segment:
/// a haystack can only rank as an exact or prefix match for a term whose
/// first character's bit it has.
pub fn initials_of(text: &str) -> u64 {
    text.split('\n')
        .filter_map(|seg| seg.chars().next())
        .fold(0, |m, c| m | char_bit(c))
}

/// The union of [`char_bit`] over `text`.
pub fn mask_of(text: &str) -> u64 {
    text.chars().fold(0, |m, c| m | char_bit(c))
}

/// Whether `c` is a Han character (the CJK blocks that carry pinyin).
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

/// Appends `text` lower-cased as a new segment; blank text adds nothing.
/// Line breaks inside the text become spaces so a segment stays one line.
fn push_segment(out: &mut String, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| match b {
            b'\n' | b'\r' => ' ',
            b => char::from(b.to_ascii_lowercase()),
        }));
    } else {
        for ch in text.chars() {
            if ch == '\n' || ch == '\r' {
                out.push(' ');
            } else {
                out.extend(ch.to_lowercase());
            }
        }
    }
}

/// Appends `segment` unless it is empty or equal to the last segment.
fn push_raw(out: &mut String, segment: &str) {
    if segment.is_empty() {
        return;
    }
    let last = out.rsplit('\n').next().unwrap_or("");
    if last == segment {
        return;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(segment);
}

/// One unit of a name for pinyin: a syllable of a Han character or a run of
/// other letters and digits.
#[derive(Clone, Copy)]
enum Unit<'a> {
    Syllable(&'static str),
    Word(&'a str),
}

impl Unit<'_> {
    fn as_str(&self) -> &str {
        match self {
            Unit::Syllable(s) => s,
            Unit::Word(w) => w,
        }
    }
}

/// Appends the pinyin segments of a lower-cased name that contains Han
/// characters.
fn push_pinyin(out: &mut String, name: &str) {
    let mut units: Vec<Unit<'_>> = Vec::with_capacity(name.chars().count());
    let mut word_start: Option<usize> = None;
    for (at, ch) in name.char_indices() {
        let syllable = if is_han(ch) {
            ch.to_pinyin().map(|p| p.plain())
        } else {
            None
        };
        if let Some(s) = syllable {
            if let Some(start) = word_start.take() {
                units.push(Unit::Word(&name[start..at]));
            }
            units.push(Unit::Syllable(s));
        } else if ch.is_alphanumeric() {
            word_start.get_or_insert(at);
        } else if let Some(start) = word_start.take() {
            units.push(Unit::Word(&name[start..at]));
        }
    }
    if let Some(start) = word_start {
        units.push(Unit::Word(&name[start..]));
    }
    if !units.iter().any(|u| matches!(u, Unit::Syllable(_))) {
        return;
    }
    push_forms(out, &units, None);

    // Every other reading of a Han first character (the surname).
    let Some(first) = name.chars().next().filter(|c| is_han(*c)) else {
        return;
    };
    let Some(readings) = first.to_pinyin_multi() else {
        return;
    };
    let default = units.first().map(Unit::as_str).unwrap_or("");
    let mut seen: [&str; 8] = [""; 8];
    let mut seen_len = 0;
    for reading in readings {
        let plain = reading.plain();
        if plain == default || seen[..seen_len].contains(&plain) {
            continue;
        }
        if seen_len < seen.len() {
            seen[seen_len] = plain;
            seen_len += 1;
        }
        push_forms(out, &units, Some(plain));
    }
}

/// Appends the joined, spaced and initials forms of `units`, with the first
/// unit replaced by `first` when given.
fn push_forms(out: &mut String, units: &[Unit<'_>], first: Option<&str>) {
    let unit = |i: usize| -> &str {
        match (i, first) {
            (0, Some(f)) => f,
            _ => units[i].as_str(),
        }
    };
    let mut joined = String::with_capacity(32);
    let mut spaced = String::with_capacity(36);
    let mut initials = String::with_capacity(units.len());
    for i in 0..units.len() {
        let u = unit(i);
        joined.push_str(u);
        if i > 0 {
            spaced.push(' ');
        }
        spaced.push_str(u);
        if let Some(ch) = u.chars().next() {
            initials.push(if ch == 'ü' { 'v' } else { ch });
        }
    }
    if joined.contains('ü') {
        push_raw(out, &joined.replace('ü', "v"));
        push_raw(out, &spaced.replace('ü', "v"));
        push_raw(out, &joined.replace('ü', "u"));
    } else {
        push_raw(out, &joined);
        push_raw(out, &spaced);
    }
    if units.len() > 1 {
        push_raw(out, &initials);
    }
}

/// Appends a phone's digits and, for E.164 numbers, its national number.
fn push_phone(out: &mut String, phone: &str) {
    for form in phone_digit_forms(phone) {
        push_raw(out, &form);
    }
}

/// The digit forms a phone is searched by: all its digits and, for an E.164
/// number, the national number without the country code
/// (`+8613800138000` gives `8613800138000` and `13800138000`).
pub fn phone_digit_forms(phone: &str) -> Vec<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(2);
    if phone.trim_start().starts_with('+') {
        let cc = country_code_len(&digits);
        if cc < digits.len() {
            out.push(digits[cc..].to_owned());
        }
    }
    out.insert(0, digits);
    out
}

/// The length of the country calling code that starts `digits` (ITU E.164
/// codes are prefix-free: 1 and 7 are one digit, the listed two-digit codes
/// are two, every other code is three).
fn country_code_len(digits: &str) -> usize {
    const TWO_DIGIT: [&str; 44] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    match digits.as_bytes().first() {
        Some(b'1' | b'7') => 1,
        _ if digits.len() >= 2 && TWO_DIGIT.contains(&&digits[..2]) => 2,
        _ => 3.min(digits.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(c: &Customer) -> Vec<String> {
        haystack(c).split('\n').map(str::to_owned).collect()
    }

    fn named(name: &str) -> Customer {
        Customer {
            name: name.into(),
            ..Customer::default()
        }
    }

    #[test]
    fn latin_name_fields_are_lowercased_one_per_line() {
        let c = Customer {
            name: "John Smith".into(),
            given_name: Some("John".into()),
            family_name: Some("Smyth".into()),
            emails: vec!["john@x.com".into(), "js@y.org".into()],
            company: Some("ACME Ltd".into()),
            ext_id: Some("C-001".into()),
            ..Customer::default()
        };
        assert_eq!(
            segments(&c),
            [
                "john smith",
                "smyth",
                "john@x.com",
                "js@y.org",
                "acme ltd",
                "c-001"
            ]
        );
    }

    #[test]
    fn chinese_name_adds_pinyin_forms() {
        let s = segments(&named("张伟"));
        assert_eq!(s, ["张伟", "zhangwei", "zhang wei", "zw"]);
    }

    #[test]
    fn heteronym_surnames_add_every_reading() {
        for (name, wanted) in [
            ("单伟", ["danwei", "shanwei", "sw", "dw"].as_slice()),
            ("曾志", &["zengzhi", "cengzhi", "zeng zhi", "zz", "cz"]),
            ("解明", &["xieming", "jieming"]),
            ("区华", &["ouhua", "quhua"]),
            ("仇刚", &["qiugang", "chougang"]),
            ("朴敏", &["piaomin", "pumin"]),
            ("查强", &["zhaqiang", "chaqiang"]),
            ("乐乐", &["yuele", "lele"]),
        ] {
            let s = segments(&named(name));
            for w in wanted {
                assert!(s.iter().any(|x| x == w), "{name}: {w} missing from {s:?}");
            }
        }
    }

    #[test]
    fn u_umlaut_is_typed_as_v_and_u() {
        let s = segments(&named("吕伟"));
        for w in ["lvwei", "lv wei", "luwei", "lw"] {
            assert!(s.iter().any(|x| x == w), "{w} missing from {s:?}");
        }
    }

    #[test]
    fn mixed_name_keeps_latin_words() {
        let s = segments(&named("张伟 David"));
        assert!(s.contains(&"zhangweidavid".to_owned()), "{s:?}");
        assert!(s.contains(&"zhang wei david".to_owned()), "{s:?}");
        assert!(s.contains(&"zwd".to_owned()), "{s:?}");
    }

    #[test]
    fn given_and_family_are_skipped_when_inside_name() {
        let c = Customer {
            name: "王小明".into(),
            given_name: Some("小明".into()),
            family_name: Some("王".into()),
            ..Customer::default()
        };
        assert!(!segments(&c).contains(&"小明".to_owned()));
    }

    #[test]
    fn phones_add_digits_and_national_number() {
        let c = Customer {
            phones: vec![
                "+8613800138000".into(),
                "+14155550123".into(),
                "+3531234567".into(),
            ],
            ..Customer::default()
        };
        assert_eq!(
            segments(&c),
            [
                "8613800138000",
                "13800138000",
                "14155550123",
                "4155550123",
                "3531234567",
                "1234567"
            ]
        );
    }

    #[test]
    fn empty_customer_has_empty_haystack() {
        assert_eq!(haystack(&Customer::default()), "");
    }

    #[test]
    fn line_breaks_never_split_a_segment() {
        let c = named("a\nb");
        assert_eq!(segments(&c), ["a b"]);
    }

    #[test]
    fn country_codes() {
        assert_eq!(country_code_len("8613800138000"), 2);
        assert_eq!(country_code_len("14155550123"), 1);
        assert_eq!(country_code_len("85291234567"), 3);
        assert_eq!(country_code_len("79161234567"), 1);
        assert_eq!(country_code_len("4"), 1);
    }
}
