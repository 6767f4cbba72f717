//! Action targets as councils write them ("Q4 2022/23", "Apr 22", "Nov 21", "March 2023",
//! "31/03/2023"), with the date each means: the last day of the period. What cannot be read is
//! refused, never guessed.

use time::{Date, Month};

/// Why a target could not be read.
pub const HOW_TO_WRITE: &str = "Enter the target as a date like 31/3/2023, a month like April 2023 or Apr 23, or a quarter like Q4 2022/23";

/// A target as written, and the date it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub text: String,
    pub due: Date,
}

fn month(word: &str) -> Option<Month> {
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word = word.trim_end_matches('.').to_lowercase();
    if word.len() < 3 {
        return None;
    }
    let index = NAMES
        .iter()
        .position(|name| name.starts_with(&word) || (word == "sept" && *name == "september"))?;
    Month::try_from(index as u8 + 1).ok()
}

fn year(text: &str) -> Option<i32> {
    let n: i32 = text.parse().ok()?;
    match text.len() {
        2 => Some(2000 + n),
        4 if (2000..=2100).contains(&n) => Some(n),
        _ => None,
    }
}

fn end_of_month(year: i32, month: Month) -> Option<Date> {
    Date::from_calendar_date(year, month, time::util::days_in_month(month, year)).ok()
}

/// The end of quarter `q` (1 to 4) of the financial year starting in April of `start_year`.
fn end_of_quarter(q: u8, start_year: i32) -> Option<Date> {
    match q {
        1 => end_of_month(start_year, Month::June),
        2 => end_of_month(start_year, Month::September),
        3 => end_of_month(start_year, Month::December),
        4 => end_of_month(start_year + 1, Month::March),
        _ => None,
    }
}

/// "2022/23" or "22/23" → 2022, when the second year follows the first.
fn financial_year(text: &str) -> Option<i32> {
    let (first, second) = text.split_once('/')?;
    let start = year(first)?;
    let end: i32 = second.parse().ok()?;
    let follows = match second.len() {
        2 => (start + 1) % 100 == end,
        4 => start + 1 == end,
        _ => false,
    };
    follows.then_some(start)
}

/// Reads a target; `cycle_start_year` is the financial year a bare quarter ("Q1") belongs to.
pub fn parse(text: &str, cycle_start_year: i32) -> Result<Target, &'static str> {
    let trimmed = text.trim();
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let due = match words.as_slice() {
        [q] if q.len() == 2 && (q.starts_with('Q') || q.starts_with('q')) => q[1..]
            .parse()
            .ok()
            .and_then(|n| end_of_quarter(n, cycle_start_year)),
        [q, fy] if q.len() == 2 && (q.starts_with('Q') || q.starts_with('q')) => {
            let n = q[1..].parse().ok();
            n.zip(financial_year(fy))
                .and_then(|(n, y)| end_of_quarter(n, y))
        }
        [m, y] => month(m).zip(year(y)).and_then(|(m, y)| end_of_month(y, m)),
        [date] if date.contains('/') => {
            let parts: Vec<&str> = date.split('/').collect();
            match parts.as_slice() {
                [d, m, y] => {
                    let m = m.parse::<u8>().ok().and_then(|m| Month::try_from(m).ok());
                    match (d.parse::<u8>().ok(), m, year(y)) {
                        (Some(d), Some(m), Some(y)) => Date::from_calendar_date(y, m, d).ok(),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        [date] if date.len() == 10 && date.as_bytes()[4] == b'-' => Date::parse(
            date,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok(),
        _ => None,
    };
    due.map(|due| Target {
        text: trimmed.to_owned(),
        due,
    })
    .ok_or(HOW_TO_WRITE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn due(text: &str) -> Result<Date, &'static str> {
        parse(text, 2022).map(|t| t.due)
    }

    #[test]
    fn the_forms_councils_write_are_read_as_the_end_of_the_period() {
        assert_eq!(due("Q4 2021/22"), Ok(date!(2022 - 03 - 31)));
        assert_eq!(due("Q4 21/22"), Ok(date!(2022 - 03 - 31)));
        assert_eq!(due("Q1"), Ok(date!(2022 - 06 - 30)));
        assert_eq!(due("q3"), Ok(date!(2022 - 12 - 31)));
        assert_eq!(due("April 2022"), Ok(date!(2022 - 04 - 30)));
        assert_eq!(due("Apr 22"), Ok(date!(2022 - 04 - 30)));
        assert_eq!(due("Nov 21"), Ok(date!(2021 - 11 - 30)));
        assert_eq!(due("March 2023"), Ok(date!(2023 - 03 - 31)));
        assert_eq!(due("Feb 24"), Ok(date!(2024 - 02 - 29)));
        assert_eq!(due("Sept 2022"), Ok(date!(2022 - 09 - 30)));
        assert_eq!(due("31/03/2023"), Ok(date!(2023 - 03 - 31)));
        assert_eq!(due("1/4/23"), Ok(date!(2023 - 04 - 01)));
        assert_eq!(due("2023-03-31"), Ok(date!(2023 - 03 - 31)));
    }

    #[test]
    fn the_target_is_kept_as_written() {
        assert_eq!(
            parse("  Q4 2022/23 ", 2022).map(|t| t.text),
            Ok("Q4 2022/23".to_owned())
        );
    }

    #[test]
    fn what_cannot_be_read_is_refused_not_guessed() {
        for text in [
            "",
            "soon",
            "Q5",
            "Q4 2022/24",
            "Smarch 2022",
            "31/02/2023",
            "ongoing",
            "Ap 22",
            "2023",
            "Q4 2022",
        ] {
            assert_eq!(due(text), Err(HOW_TO_WRITE), "{text:?}");
        }
    }
}
