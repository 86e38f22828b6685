//! Making data safe to show: control characters, escape sequences and
//! bidi overrides from imported data must never reach a terminal as
//! themselves, so they are shown as visible placeholders.

use std::borrow::Cow;

/// Whether `c` must not be written to a terminal as itself.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// `s` with every unsafe character replaced by a visible placeholder:
/// C0 controls as their Unicode control pictures (ESC shows as `␛`), DEL
/// as `␡`, everything else (C1, bidi controls) as `<U+XXXX>`.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\0'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            '\u{7f}' => out.push('\u{2421}'),
            c if is_unsafe(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_visible() {
        assert_eq!(printable("a\x1b[31mb"), "a␛[31mb");
        assert_eq!(printable("x\u{202e}y"), "x<U+202E>y");
        assert_eq!(printable("\u{9b}2J"), "<U+009B>2J");
        assert_eq!(printable("r\rn\n"), "r␍n␊");
        assert!(matches!(printable("张伟 ok"), Cow::Borrowed(_)));
    }
}
