//! Japanese era dates (和暦), as printed on letters and forms.
//!
//! Municipal letters write dates in the Japanese era with the western year in brackets and the
//! weekday: 「令和7(2025)年1月31日(金)」. The first year of an era is written 「元年」
//! (「令和元(2019)年5月1日(水)」), as official documents do.
//!
//! Eras are switched on the day the new era began:
//!
//! | era | first day |
//! |---|---|
//! | 明治 | 1868-10-23 (dates are only converted from 1873-01-01, when Japan adopted the Gregorian calendar) |
//! | 大正 | 1912-07-30 |
//! | 昭和 | 1926-12-25 |
//! | 平成 | 1989-01-08 |
//! | 令和 | 2019-05-01 |
//!
//! ```
//! use capsurvey_forms::wareki;
//! let d = chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap();
//! assert_eq!(wareki::long(d), "令和7(2025)年1月31日(金)");
//! assert_eq!(wareki::short(d), "令和7年1月31日");
//! ```

use chrono::{Datelike, NaiveDate, Weekday};

/// A Japanese era.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Era {
    /// 明治 (from 1868-10-23).
    Meiji,
    /// 大正 (from 1912-07-30).
    Taisho,
    /// 昭和 (from 1926-12-25).
    Showa,
    /// 平成 (from 1989-01-08).
    Heisei,
    /// 令和 (from 2019-05-01).
    Reiwa,
}

impl Era {
    /// The era's name in kanji: 「令和」.
    pub fn name(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The first day of the era.
    pub fn first_day(self) -> NaiveDate {
        let (y, m, d) = match self {
            Era::Meiji => (1868, 10, 23),
            Era::Taisho => (1912, 7, 30),
            Era::Showa => (1926, 12, 25),
            Era::Heisei => (1989, 1, 8),
            Era::Reiwa => (2019, 5, 1),
        };
        NaiveDate::from_ymd_opt(y, m, d).expect("valid era start")
    }

    /// All eras, oldest first.
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];
}

/// A date in the Japanese era calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Wareki {
    /// The era.
    pub era: Era,
    /// The year of the era, 1 for the first (元年).
    pub year: i32,
    /// The western date it stands for.
    pub date: NaiveDate,
}

impl Wareki {
    /// The era year as printed: 「元」 for the first year, else the number.
    pub fn year_text(&self) -> String {
        if self.year == 1 {
            "元".to_owned()
        } else {
            self.year.to_string()
        }
    }
}

/// The first day converted: 1873-01-01, when the Gregorian calendar replaced the lunisolar one.
pub fn first_convertible_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1873, 1, 1).expect("valid date")
}

/// Converts a date to its era and era year; `None` before 1873-01-01 (see [`first_convertible_day`]).
pub fn to_wareki(date: NaiveDate) -> Option<Wareki> {
    if date < first_convertible_day() {
        return None;
    }
    let era = Era::ALL.into_iter().rev().find(|e| date >= e.first_day())?;
    let year = date.year() - era.first_day().year() + 1;
    Some(Wareki { era, year, date })
}

/// The weekday as one kanji: 月 火 水 木 金 土 日.
pub fn weekday_kanji(date: NaiveDate) -> &'static str {
    match date.weekday() {
        Weekday::Mon => "月",
        Weekday::Tue => "火",
        Weekday::Wed => "水",
        Weekday::Thu => "木",
        Weekday::Fri => "金",
        Weekday::Sat => "土",
        Weekday::Sun => "日",
    }
}

/// 「令和7(2025)年1月31日(金)」: era, western year, month, day and weekday, for deadlines.
///
/// Dates before 1873 are written in the western calendar only: 「1850年1月1日(火)」.
pub fn long(date: NaiveDate) -> String {
    let wd = weekday_kanji(date);
    match to_wareki(date) {
        Some(w) => format!(
            "{}{}({})年{}月{}日({wd})",
            w.era.name(),
            w.year_text(),
            date.year(),
            date.month(),
            date.day()
        ),
        None => format!("{}年{}月{}日({wd})", date.year(), date.month(), date.day()),
    }
}

/// 「令和6年11月1日」: era date without the western year or weekday, for reference dates.
pub fn short(date: NaiveDate) -> String {
    match to_wareki(date) {
        Some(w) => format!(
            "{}{}年{}月{}日",
            w.era.name(),
            w.year_text(),
            date.month(),
            date.day()
        ),
        None => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn deadlines_print_era_western_year_and_weekday() {
        assert_eq!(long(d(2025, 1, 31)), "令和7(2025)年1月31日(金)");
        assert_eq!(long(d(2023, 10, 10)), "令和5(2023)年10月10日(火)");
        assert_eq!(long(d(2024, 11, 29)), "令和6(2024)年11月29日(金)");
        assert_eq!(short(d(2024, 11, 1)), "令和6年11月1日");
    }

    #[test]
    fn heisei_reiwa_boundary() {
        assert_eq!(long(d(2019, 4, 30)), "平成31(2019)年4月30日(火)");
        assert_eq!(long(d(2019, 5, 1)), "令和元(2019)年5月1日(水)");
        assert_eq!(short(d(2019, 12, 31)), "令和元年12月31日");
        assert_eq!(short(d(2020, 1, 1)), "令和2年1月1日");
    }

    #[test]
    fn showa_heisei_boundary() {
        assert_eq!(short(d(1989, 1, 7)), "昭和64年1月7日");
        assert_eq!(short(d(1989, 1, 8)), "平成元年1月8日");
        assert_eq!(long(d(1990, 1, 1)), "平成2(1990)年1月1日(月)");
    }

    #[test]
    fn older_boundaries() {
        assert_eq!(short(d(1926, 12, 24)), "大正15年12月24日");
        assert_eq!(short(d(1926, 12, 25)), "昭和元年12月25日");
        assert_eq!(short(d(1912, 7, 29)), "明治45年7月29日");
        assert_eq!(short(d(1912, 7, 30)), "大正元年7月30日");
        assert_eq!(short(d(1873, 1, 1)), "明治6年1月1日");
        assert_eq!(to_wareki(d(1872, 12, 31)), None);
        assert_eq!(short(d(1850, 1, 1)), "1850年1月1日");
    }

    #[test]
    fn era_years() {
        let w = to_wareki(d(2024, 11, 1)).unwrap();
        assert_eq!((w.era, w.year), (Era::Reiwa, 6));
        let w = to_wareki(d(2018, 12, 31)).unwrap();
        assert_eq!((w.era, w.year), (Era::Heisei, 30));
        assert_eq!(weekday_kanji(d(2024, 11, 3)), "日");
    }
}
