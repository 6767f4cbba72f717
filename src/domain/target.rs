//! Action targets as councils write them ("Q4 2022/23", "Apr 22", "Nov 21", "– 2022",
//! "For April 21 panel", "31/03/2023", "Ongoing"), with the date each means: the last day of the
//! period. A blank target, "Ongoing", or words with no date in them have no due date; text that
//! looks like a date but is not one is refused, never guessed.

use time::{Date, Month};

/// Why a target could not be read: the forms that are understood.
pub const HOW_TO_WRITE: &str = "Enter the target as a date like 31/3/2023, a month like April 2023 or Apr 23, a quarter like Q4 2022/23, a financial year like 2022/23, a year like 2023, or Ongoing; or leave it blank";

/// A quarter needs its financial year: "Q4 2022" could be December 2022 or March 2023.
pub const QUARTER_NEEDS_FINANCIAL_YEAR: &str =
    "Write the financial year after the quarter, like Q4 2022/23, or leave the year off (Q4)";

/// A target as written, and the date it is due (none when blank, ongoing or not a date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub text: String,
    pub due: Option<Date>,
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
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
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

/// "2022/23", "22/23" or "2022/2023" → 2022, when the second year follows the first.
fn financial_year(text: &str) -> Option<i32> {
    let (first, second) = text.split_once('/')?;
    let start = year(first)?;
    if !second.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let end: i32 = second.parse().ok()?;
    let follows = match second.len() {
        2 => (start + 1) % 100 == end,
        4 => start + 1 == end,
        _ => false,
    };
    follows.then_some(start)
}

/// "31/03/2023", "1/4/23", "2023-03-31".
fn calendar_date(text: &str) -> Option<Date> {
    if text.len() == 10 && text.as_bytes()[4] == b'-' {
        return Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok();
    }
    let parts: Vec<&str> = text.split('/').collect();
    let [d, m, y] = parts.as_slice() else {
        return None;
    };
    let m = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year(y)?, m, d.parse().ok()?).ok()
}

/// "Q4" → 4.
fn quarter(word: &str) -> Option<u8> {
    let rest = word.strip_prefix(['Q', 'q'])?;
    (rest.len() == 1).then(|| rest.parse().ok()).flatten()
}

/// The words of a target, without the punctuation around them; "Feb20" is two words.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '/');
        let word = word.trim_end_matches('/');
        if word.is_empty() {
            continue;
        }
        // A month glued to its year ("Feb20", "Sept2021").
        let split = word
            .find(|c: char| c.is_ascii_digit())
            .filter(|&at| at >= 3 && word[..at].chars().all(char::is_alphabetic));
        match split {
            Some(at) if month(&word[..at]).is_some() && year(&word[at..]).is_some() => {
                out.push(word[..at].to_owned());
                out.push(word[at..].to_owned());
            }
            _ => out.push(word.to_owned()),
        }
    }
    out
}

/// Words that may stand before a year alone: "by 2022", "end of 2022", "during 2022".
const CONNECTORS: [&str; 12] = [
    "by", "for", "end", "of", "due", "in", "from", "until", "before", "to", "during", "year",
];

/// Words that put a number into a period: "Autumn 21", "Term 2" could be a date we cannot place.
const PERIODS: [&str; 10] = [
    "spring",
    "summer",
    "autumn",
    "winter",
    "fall",
    "term",
    "christmas",
    "easter",
    "half",
    "week",
];

/// Whether a word with digits in it would be part of a date. A small number counting something
/// ("Within 6 months", "Phase 2", "after 3 panels") is not; one standing alone, after a
/// connector or a season ("– 22", "by 22", "Autumn 21"), or any other number ("13/2023",
/// "20222"), is.
fn number_date_like(words: &[String], i: usize) -> bool {
    let word = words[i].as_str();
    let small = word.len() <= 2 && word.bytes().all(|b| b.is_ascii_digit());
    if !small {
        return true;
    }
    let plain = |w: &str| {
        let w = w.to_lowercase();
        w.chars().count() >= 3
            && w.chars().all(char::is_alphabetic)
            && month(&w).is_none()
            && !CONNECTORS.contains(&w.as_str())
            && !PERIODS.contains(&w.as_str())
    };
    let before = i.checked_sub(1).map(|b| words[b].as_str());
    let after = words.get(i + 1).map(String::as_str);
    !(before.is_some_and(plain) || after.is_some_and(plain))
}

/// A month word with no year after it: "For April panel" is a date we cannot place, but "may"
/// and "mar" in lower case are the verbs ("Staff may attend").
fn month_without_year_is_date_like(word: &str) -> bool {
    !matches!(word, "may" | "mar")
}

/// Reads a target; `cycle_start_year` is the financial year a bare quarter ("Q1") belongs to.
pub fn parse(text: &str, cycle_start_year: i32) -> Result<Target, &'static str> {
    let trimmed = text.trim();
    let words = words(trimmed);
    // Every date the words give, with how many words each took.
    let mut dates: Vec<Date> = Vec::new();
    let mut unread = false;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        if let Some(q) = quarter(word) {
            match next {
                Some(fy) if financial_year(fy).is_some() => {
                    let due = financial_year(fy).and_then(|y| end_of_quarter(q, y));
                    match due {
                        Some(d) => dates.push(d),
                        None => unread = true,
                    }
                    i += 2;
                }
                Some(y) if year(y).is_some() => return Err(QUARTER_NEEDS_FINANCIAL_YEAR),
                _ => {
                    match end_of_quarter(q, cycle_start_year) {
                        Some(d) => dates.push(d),
                        None => unread = true,
                    }
                    i += 1;
                }
            }
        } else if let Some(m) = month(word) {
            match next.and_then(year) {
                Some(y) => {
                    dates.extend(end_of_month(y, m));
                    i += 2;
                }
                None => {
                    // A month with no year ("For April panel") is not a date we can place.
                    unread |= month_without_year_is_date_like(word);
                    i += 1;
                }
            }
        } else if let Some(start) = financial_year(word) {
            dates.extend(end_of_month(start + 1, Month::March));
            i += 1;
        } else if word.contains(['/', '-']) {
            match calendar_date(word) {
                Some(d) => dates.push(d),
                None => unread = true,
            }
            i += 1;
        } else if word.len() == 4 && year(word).is_some() {
            // "Smarch 2022", "Spring 2023": a word before a year that is not a month is a
            // period we cannot place; "by 2022", "end of 2022" are the year itself.
            let before = i.checked_sub(1).map(|b| words[b].to_lowercase());
            if before.is_some_and(|w| {
                w.chars().all(char::is_alphabetic) && !CONNECTORS.contains(&w.as_str())
            }) {
                unread = true;
            }
            dates.extend(year(word).and_then(|y| end_of_month(y, Month::December)));
            i += 1;
        } else {
            unread |= quarter(word).is_some()
                || (word.chars().any(|c| c.is_ascii_digit()) && number_date_like(&words, i));
            i += 1;
        }
    }
    if unread {
        return Err(HOW_TO_WRITE);
    }
    // A period written as a range ("April 2022 to March 2023") is due at its end.
    Ok(Target {
        text: trimmed.to_owned(),
        due: dates.into_iter().max(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn due(text: &str) -> Result<Option<Date>, &'static str> {
        parse(text, 2022).map(|t| t.due)
    }

    #[test]
    fn the_forms_councils_write_are_read_as_the_end_of_the_period() {
        assert_eq!(due("Q4 2021/22"), Ok(Some(date!(2022 - 03 - 31))));
        assert_eq!(due("Q4 21/22"), Ok(Some(date!(2022 - 03 - 31))));
        assert_eq!(due("Q1"), Ok(Some(date!(2022 - 06 - 30))));
        assert_eq!(due("q3"), Ok(Some(date!(2022 - 12 - 31))));
        assert_eq!(due("April 2022"), Ok(Some(date!(2022 - 04 - 30))));
        assert_eq!(due("Apr 22"), Ok(Some(date!(2022 - 04 - 30))));
        assert_eq!(due("Nov 21"), Ok(Some(date!(2021 - 11 - 30))));
        assert_eq!(due("March 2023"), Ok(Some(date!(2023 - 03 - 31))));
        assert_eq!(due("Feb 24"), Ok(Some(date!(2024 - 02 - 29))));
        assert_eq!(due("Sept 2022"), Ok(Some(date!(2022 - 09 - 30))));
        assert_eq!(due("31/03/2023"), Ok(Some(date!(2023 - 03 - 31))));
        assert_eq!(due("1/4/23"), Ok(Some(date!(2023 - 04 - 01))));
        assert_eq!(due("2023-03-31"), Ok(Some(date!(2023 - 03 - 31))));
    }

    #[test]
    fn a_year_or_a_financial_year_alone_is_due_at_its_end() {
        assert_eq!(due("2022"), Ok(Some(date!(2022 - 12 - 31))));
        assert_eq!(due("– 2022"), Ok(Some(date!(2022 - 12 - 31))));
        assert_eq!(due("by 2022"), Ok(Some(date!(2022 - 12 - 31))));
        assert_eq!(due("end of 2022"), Ok(Some(date!(2022 - 12 - 31))));
        assert_eq!(due("2022/23"), Ok(Some(date!(2023 - 03 - 31))));
        assert_eq!(due("21/22"), Ok(Some(date!(2022 - 03 - 31))));
        assert_eq!(due("2022/2023"), Ok(Some(date!(2023 - 03 - 31))));
    }

    #[test]
    fn a_month_inside_a_short_phrase_is_read() {
        assert_eq!(due("For April 21 panel"), Ok(Some(date!(2021 - 04 - 30))));
        assert_eq!(due("End of June 2021"), Ok(Some(date!(2021 - 06 - 30))));
        assert_eq!(due("due June 21"), Ok(Some(date!(2021 - 06 - 30))));
        assert_eq!(due("by April 22"), Ok(Some(date!(2022 - 04 - 30))));
        assert_eq!(due("Feb20"), Ok(Some(date!(2020 - 02 - 29))));
        assert_eq!(
            due("April 2022 to March 2023"),
            Ok(Some(date!(2023 - 03 - 31)))
        );
    }

    #[test]
    fn blank_ongoing_and_words_without_a_date_have_no_due_date() {
        for text in [
            "",
            "   ",
            "Ongoing",
            "ongoing",
            "When the new guidance is published",
            "Within 6 months",
            "Phase 2",
            "After 3 panels",
            "Staff may attend",
            "Step 1 of the plan",
        ] {
            assert_eq!(due(text), Ok(None), "{text:?}");
        }
    }

    #[test]
    fn the_target_is_kept_as_written() {
        assert_eq!(
            parse("  Q4 2022/23 ", 2022).map(|t| t.text),
            Ok("Q4 2022/23".to_owned())
        );
    }

    #[test]
    fn what_looks_like_a_date_but_is_not_one_is_refused_not_guessed() {
        for text in [
            "Q5",
            "Q4 2022/24",
            "Smarch 2022",
            "31/02/2023",
            "Ap 22",
            "For April panel",
            "13/2023",
            "Autumn 21",
            "Spring 2023",
            "2023-02-30",
            "– 22",
            "by 22",
            "Term 2",
            "20222",
            "For May panel",
        ] {
            assert_eq!(due(text), Err(HOW_TO_WRITE), "{text:?}");
        }
        assert_eq!(due("Q4 2022"), Err(QUARTER_NEEDS_FINANCIAL_YEAR));
    }

    /// Every target written in the seeds (grep of `seeds/000`, `002` and `003` for quarters,
    /// months with years, financial years, "– 2022" and "Ongoing" in the action and timescale
    /// columns), with what each means.
    #[test]
    fn every_target_written_in_the_seed_documents_is_read() {
        let seeds: [(&str, Option<Date>); 21] = [
            // seeds/000: Thurrock's 2021 self-assessment
            ("Q4 21/22", Some(date!(2022 - 03 - 31))),
            ("Nov 21", Some(date!(2021 - 11 - 30))),
            ("– 2022", Some(date!(2022 - 12 - 31))),
            ("Q4 19/20", Some(date!(2020 - 03 - 31))),
            ("April 21", Some(date!(2021 - 04 - 30))),
            ("Apr 21", Some(date!(2021 - 04 - 30))),
            ("ongoing", None),
            // seeds/002: the June 2022 committee pack
            ("by March 2023", Some(date!(2023 - 03 - 31))),
            ("Feb 22", Some(date!(2022 - 02 - 28))),
            ("2022/23", Some(date!(2023 - 03 - 31))),
            // seeds/003: the December 2021 self-assessment and the Channel statement
            ("Apr 22", Some(date!(2022 - 04 - 30))),
            ("April 22", Some(date!(2022 - 04 - 30))),
            ("by April 22", Some(date!(2022 - 04 - 30))),
            ("Oct 21", Some(date!(2021 - 10 - 31))),
            ("Dec 2021", Some(date!(2021 - 12 - 31))),
            ("For April 21 panel", Some(date!(2021 - 04 - 30))),
            ("June 21", Some(date!(2021 - 06 - 30))),
            ("due June 21", Some(date!(2021 - 06 - 30))),
            ("Sept 21", Some(date!(2021 - 09 - 30))),
            ("Ongoing", None),
            ("Complete for Q1", Some(date!(2022 - 06 - 30))),
        ];
        for (text, expected) in seeds {
            assert_eq!(due(text), Ok(expected), "{text:?}");
        }
    }
}
