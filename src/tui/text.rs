//! Text for the screen: true display width for CJK, clean truncation with an
//! ellipsis, visible placeholders for control characters, and masking.

use unicode_width::UnicodeWidthChar;

use crate::model::display::printable;

/// `s` made safe (control characters visible) and fitted into `width`
/// columns: wide characters count two, and a cut ends in `…` rather than a
/// half character. The result is padded with spaces to exactly `width`.
pub fn fit(s: &str, width: usize) -> String {
    let safe = printable(s);
    let mut out = String::new();
    let mut used = 0;
    let total: usize = safe.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        out.push_str(&safe);
        used = total;
    } else if width > 0 {
        for c in safe.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width - 1 {
                break;
            }
            out.push(c);
            used += w;
        }
        out.push('…');
        used += 1;
    }
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// What the screen calls a customer ([`Customer::display_name`]): when
/// `masked`, a nameless customer without an ext_id shows its masked email or
/// phone, never the clear one.
///
/// [`Customer::display_name`]: crate::model::Customer::display_name
pub fn display_name(c: &crate::model::Customer, masked: bool) -> String {
    if masked && c.name.is_empty() && c.ext_id.as_deref().is_none_or(str::is_empty) {
        let (phone, email) = contact(c, true);
        if !email.is_empty() {
            return email;
        }
        if !phone.is_empty() {
            return phone;
        }
    }
    c.display_name().into_owned()
}

/// A customer's first phone and first email as a list row shows them,
/// masked when `masked` (empty when missing).
pub fn contact(c: &crate::model::Customer, masked: bool) -> (String, String) {
    let phone = c
        .phone()
        .map(|p| if masked { mask_phone(p) } else { p.to_owned() })
        .unwrap_or_default();
    let email = c
        .email()
        .map(|e| if masked { mask_email(e) } else { e.to_owned() })
        .unwrap_or_default();
    (phone, email)
}

/// `13800138000` -> `138****8000`; keeps the first 3 and last 4 digits.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let keep_end = 4;
    let start = if p.starts_with("+86") {
        6
    } else {
        3.min(chars.len() - keep_end)
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i >= start && i < chars.len() - keep_end {
                '*'
            } else {
                *c
            }
        })
        .collect()
}

/// `jane@example.com` -> `j***@example.com`.
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// `1234567` -> `1,234,567`: counts in status messages.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1234567), "1,234,567");
    }
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn fit_measures_cjk_emoji_and_full_width() {
        assert_eq!(fit("张三丰", 5), "张三…");
        assert_eq!(fit("张三丰", 6), "张三丰");
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit("１２３４", 5), "１２…");
        assert_eq!(fit("😀😀😀", 4), "😀… ");
        for s in ["张三丰abc", "😀x", "１２３", "plain"] {
            for w in 0..10 {
                assert_eq!(fit(s, w).width(), w, "{s} in {w}");
            }
        }
    }

    #[test]
    fn fit_never_emits_control_characters() {
        let out = fit("a\x1b[31mred\u{202e}x", 40);
        assert!(
            !out.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{out:?}"
        );
        assert!(out.contains('␛'));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_phone("+8613800138000"), "+86138****8000");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_email("jane@example.com"), "j***@example.com");
    }

    #[test]
    fn a_nameless_customer_shows_its_identity_masked_when_masking() {
        let mut c = crate::model::Customer {
            emails: vec!["jane@example.com".into()],
            phones: vec!["13800138000".into()],
            ..Default::default()
        };
        assert_eq!(display_name(&c, false), "jane@example.com");
        assert_eq!(display_name(&c, true), "j***@example.com");
        c.emails.clear();
        assert_eq!(display_name(&c, true), "138****8000");
        c.ext_id = Some("13085".into());
        assert_eq!(display_name(&c, true), "13085");
        c.name = "Jane".into();
        assert_eq!(display_name(&c, true), "Jane");
    }
}
