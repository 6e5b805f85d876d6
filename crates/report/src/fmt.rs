//! Number formatting for handouts: percentages to one decimal, means and medians, 和暦 dates.
//!
//! Everything is computed on integers (counts, and decimal answers scaled to whole units) and
//! rounded half up once, at the end. Floating point would turn 0.05 into 0.0 now and then, and a
//! presenter asked "why does the handout say 12.3% when 37/300 is 12.33…" needs one plain rule.

use chrono::{Datelike, NaiveDate};

/// `count / n` as a percentage in tenths of a percent, rounded half up: 1/8 → 125 (12.5%),
/// 1/3 → 333, 2/3 → 667. `None` when `n` is 0 (no percentage can be given).
pub fn pct_tenths(count: u64, n: u64) -> Option<u64> {
    if n == 0 {
        return None;
    }
    let (c, n) = (count as u128, n as u128);
    // round(c * 1000 / n) half up == floor((2 * c * 1000 + n) / (2 * n)).
    Some(((2 * c * 1000 + n) / (2 * n)) as u64)
}

/// Tenths of a percent as printed: 654 → `65.4`, 1000 → `100.0`, 0 → `0.0`.
pub fn format_tenths(tenths: u64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// `count / n` as printed in a table (`65.4`), or `-` when `n` is 0.
pub fn pct_text(count: u64, n: u64) -> String {
    pct_tenths(count, n).map_or_else(|| "-".to_owned(), format_tenths)
}

/// `numerator / denominator` rounded half up to `decimals` places, as text (`3.5`, `12.00`).
///
/// Both are non-negative: answers have no sign. `None` when the denominator is 0.
pub fn ratio_text(numerator: u128, denominator: u128, decimals: u32) -> Option<String> {
    if denominator == 0 {
        return None;
    }
    let scale = 10u128.pow(decimals);
    let scaled = (2 * numerator * scale + denominator) / (2 * denominator);
    Some(fixed_text(scaled, decimals))
}

/// An integer holding `decimals` implied decimal places, as text: (1234, 1) → `123.4`.
pub fn fixed_text(scaled: u128, decimals: u32) -> String {
    if decimals == 0 {
        return group_thousands(scaled);
    }
    let scale = 10u128.pow(decimals);
    format!(
        "{}.{:0width$}",
        group_thousands(scaled / scale),
        scaled % scale,
        width = decimals as usize
    )
}

/// Digits grouped by thousands as Japanese reports print them: 12345 → `12,345`.
pub fn group_thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A date in 和暦 as forms and handouts print it: 2024-11-01 → `令和6年11月1日`.
///
/// Only 令和 and 平成 are needed for reference dates; earlier dates are printed in the western
/// calendar rather than guessed.
pub fn wareki(date: NaiveDate) -> String {
    let reiwa = NaiveDate::from_ymd_opt(2019, 5, 1).expect("valid date");
    let heisei = NaiveDate::from_ymd_opt(1989, 1, 8).expect("valid date");
    let (era, year) = if date >= reiwa {
        ("令和", date.year() - 2018)
    } else if date >= heisei {
        ("平成", date.year() - 1988)
    } else {
        return format!("{}年{}月{}日", date.year(), date.month(), date.day());
    };
    let year = if year == 1 {
        "元".to_owned()
    } else {
        year.to_string()
    };
    format!("{era}{year}年{}月{}日", date.month(), date.day())
}

/// A date in 和暦 with the western year, as deadlines are written: `令和6(2024)年11月1日`.
pub fn wareki_with_year(date: NaiveDate) -> String {
    let w = wareki(date);
    match w.find('年') {
        Some(i) if w.starts_with('令') || w.starts_with('平') => {
            format!("{}({}){}", &w[..i], date.year(), &w[i..])
        }
        _ => w,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up_to_one_decimal() {
        assert_eq!(pct_tenths(1, 8), Some(125)); // 12.5 exactly
        assert_eq!(pct_tenths(1, 3), Some(333)); // 33.33…
        assert_eq!(pct_tenths(2, 3), Some(667)); // 66.66…
        assert_eq!(pct_tenths(1, 16), Some(63)); // 6.25 → 6.3 (half up, not to even)
        assert_eq!(pct_tenths(3, 16), Some(188)); // 18.75 → 18.8
        assert_eq!(pct_tenths(1, 2000), Some(1)); // 0.05 → 0.1
        assert_eq!(pct_tenths(1, 2001), Some(0)); // 0.0499… → 0.0
        assert_eq!(pct_tenths(0, 7), Some(0));
        assert_eq!(pct_tenths(7, 7), Some(1000));
        assert_eq!(pct_tenths(5, 0), None);
        assert_eq!(pct_text(899, 1374), "65.4");
        assert_eq!(pct_text(1, 0), "-");
        assert_eq!(format_tenths(1000), "100.0");
        assert_eq!(format_tenths(5), "0.5");
    }

    #[test]
    fn rounded_shares_may_not_total_100() {
        // Three equal thirds print as 33.3 each: 99.9, which is why the handout carries the note.
        let total: u64 = (0..3).map(|_| pct_tenths(1, 3).unwrap()).sum();
        assert_eq!(total, 999);
        // 2/3 + 1/6 + 1/6 → 66.7 + 16.7 + 16.7 = 100.1
        let total = pct_tenths(4, 6).unwrap() + 2 * pct_tenths(1, 6).unwrap();
        assert_eq!(total, 1001);
    }

    #[test]
    fn ratios_and_fixed_point() {
        assert_eq!(ratio_text(7, 2, 1).as_deref(), Some("3.5"));
        assert_eq!(ratio_text(10, 4, 1).as_deref(), Some("2.5"));
        assert_eq!(ratio_text(1, 3, 1).as_deref(), Some("0.3"));
        assert_eq!(ratio_text(2, 3, 2).as_deref(), Some("0.67"));
        assert_eq!(ratio_text(5, 100, 1).as_deref(), Some("0.1")); // 0.05 half up
        assert_eq!(ratio_text(1, 0, 1), None);
        assert_eq!(fixed_text(1234, 1), "123.4");
        assert_eq!(fixed_text(5, 2), "0.05");
        assert_eq!(fixed_text(1234567, 0), "1,234,567");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
    }

    #[test]
    fn japanese_era_dates() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(wareki(d(2024, 11, 1)), "令和6年11月1日");
        assert_eq!(wareki(d(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(wareki(d(2019, 4, 30)), "平成31年4月30日");
        assert_eq!(wareki(d(1989, 1, 8)), "平成元年1月8日");
        assert_eq!(wareki(d(1988, 12, 31)), "1988年12月31日");
        assert_eq!(wareki_with_year(d(2023, 10, 10)), "令和5(2023)年10月10日");
    }
}
