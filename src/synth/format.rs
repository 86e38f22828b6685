//! Allocation-free text helpers for the generator: numbers and calendar
//! dates pushed onto reused `String` buffers.
//!
//! Dates are days since 1970-01-01 (`i32`) and converted with Howard
//! Hinnant's civil-date algorithms: exact, branch-light and independent of
//! chrono's formatting machinery, which is the slow part when writing
//! millions of rows.

/// Pushes the decimal digits of `n`.
pub fn push_u64(buf: &mut String, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &tmp[i..] {
        buf.push(char::from(b));
    }
}

/// Pushes `n` zero-padded to at least `width` digits.
pub fn push_padded(buf: &mut String, n: u64, width: usize) {
    let mut digits = 1;
    let mut m = n / 10;
    while m > 0 {
        digits += 1;
        m /= 10;
    }
    for _ in digits..width {
        buf.push('0');
    }
    push_u64(buf, n);
}

/// Pushes a random string of `n` decimal digits.
pub fn push_random_digits(buf: &mut String, rng: &mut super::rng::Rng, n: usize) {
    for _ in 0..n {
        buf.push(char::from(b'0' + rng.below(10) as u8));
    }
}

/// Pushes an amount in minor units as `units.cc` (e.g. 12850 -> "128.50").
pub fn push_cents(buf: &mut String, cents: u64) {
    push_u64(buf, cents / 100);
    buf.push('.');
    push_padded(buf, cents % 100, 2);
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Pushes `YYYY-MM-DD`.
pub fn push_iso(buf: &mut String, y: i32, m: u32, d: u32) {
    push_padded(buf, y.max(0) as u64, 4);
    buf.push('-');
    push_padded(buf, u64::from(m), 2);
    buf.push('-');
    push_padded(buf, u64::from(d), 2);
}

/// Pushes `YYYY/M/D` (no padding, the way spreadsheets often export).
pub fn push_slash(buf: &mut String, y: i32, m: u32, d: u32) {
    push_u64(buf, y.max(0) as u64);
    buf.push('/');
    push_u64(buf, u64::from(m));
    buf.push('/');
    push_u64(buf, u64::from(d));
}

/// Pushes `YYYY-MM-DD` for a day number.
pub fn push_day(buf: &mut String, day: i32) {
    let (y, m, d) = civil_from_days(day);
    push_iso(buf, y, m, d);
}

/// Pushes ` HH:MM:SS` for a number of seconds into the day.
pub fn push_time(buf: &mut String, secs: u32) {
    buf.push(' ');
    push_padded(buf, u64::from(secs / 3600), 2);
    buf.push(':');
    push_padded(buf, u64::from(secs / 60 % 60), 2);
    buf.push(':');
    push_padded(buf, u64::from(secs % 60), 2);
}

/// Replaces ASCII digits with their full-width forms (１３８...).
pub fn to_full_width_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn civil_round_trips_and_matches_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for day in (-30_000..40_000).step_by(7) {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
            let c = epoch + chrono::Days::new(0) + chrono::TimeDelta::days(i64::from(day));
            assert_eq!((c.year(), c.month(), c.day()), (y, m, d));
        }
    }

    #[test]
    fn numbers_and_dates_format() {
        let mut s = String::new();
        push_padded(&mut s, 42, 7);
        s.push('|');
        push_cents(&mut s, 12_850);
        s.push('|');
        push_cents(&mut s, 5);
        s.push('|');
        push_day(&mut s, days_from_civil(2024, 3, 5));
        s.push('|');
        push_slash(&mut s, 2024, 3, 5);
        push_time(&mut s, 10 * 3600 + 22 * 60 + 11);
        assert_eq!(s, "0000042|128.50|0.05|2024-03-05|2024/3/5 10:22:11");
        assert_eq!(to_full_width_digits("+86 138"), "+８６ １３８");
    }
}
