//! Checked types shared by every layer: a score is 1 to 5, a status is one of three, and so on.

pub mod files;
pub mod target;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A benchmark score on the Home Office scale of 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Score(u8);

impl Score {
    pub const MIN: Score = Score(1);
    pub const MAX: Score = Score(5);

    pub fn new(value: u8) -> Option<Score> {
        (1..=5).contains(&value).then_some(Score(value))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The next level up, if there is one.
    pub fn next(self) -> Option<Score> {
        Score::new(self.0 + 1)
    }
}

impl TryFrom<u8> for Score {
    type Error = String;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Score::new(value).ok_or_else(|| format!("a score is 1 to 5, not {value}"))
    }
}

impl From<Score> for u8 {
    fn from(score: Score) -> u8 {
        score.0
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a question stands: the three columns of the self-assessment tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotStarted,
    Developing,
    Achieving,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::NotStarted, Status::Developing, Status::Achieving];

    /// The words of the self-assessment tool.
    pub fn label(self) -> &'static str {
        match self {
            Status::NotStarted => "Not yet started",
            Status::Developing => "Developing",
            Status::Achieving => "Achieving",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::Developing => "developing",
            Status::Achieving => "achieving",
        }
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.code() == s)
            .ok_or_else(|| {
                format!("unknown status {s:?}: a status is not_started, developing or achieving")
            })
    }
}

/// A red, amber or green rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rag {
    Red,
    Amber,
    Green,
}

impl Rag {
    pub const ALL: [Rag; 3] = [Rag::Red, Rag::Amber, Rag::Green];

    pub fn code(self) -> &'static str {
        match self {
            Rag::Red => "red",
            Rag::Amber => "amber",
            Rag::Green => "green",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Rag::Red => "Red",
            Rag::Amber => "Amber",
            Rag::Green => "Green",
        }
    }
}

impl FromStr for Rag {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rag::ALL
            .into_iter()
            .find(|rag| rag.code() == s)
            .ok_or_else(|| format!("unknown RAG rating {s:?}: use red, amber or green"))
    }
}

/// A date as people write it: "31 January 2027".
pub fn long_date(date: time::Date) -> String {
    format!("{} {} {}", date.day(), date.month(), date.year())
}

/// The UK's offset from UTC at a moment: British Summer Time (+1) from 1am UTC on the last
/// Sunday of March to 1am UTC on the last Sunday of October, else Greenwich Mean Time.
pub fn uk_offset(at: time::OffsetDateTime) -> time::UtcOffset {
    let at = at.to_offset(time::UtcOffset::UTC);
    let last_sunday = |month: time::Month| {
        let last = time::Date::from_calendar_date(
            at.year(),
            month,
            time::util::days_in_month(month, at.year()),
        )
        .ok()?;
        let back = last.weekday().number_days_from_sunday();
        Some(last.saturating_sub(time::Duration::days(i64::from(back))))
    };
    let summer = match (
        last_sunday(time::Month::March),
        last_sunday(time::Month::October),
    ) {
        (Some(start), Some(end)) => {
            let start = start.with_hms(1, 0, 0).map(|d| d.assume_utc());
            let end = end.with_hms(1, 0, 0).map(|d| d.assume_utc());
            matches!((start, end), (Ok(s), Ok(e)) if at >= s && at < e)
        }
        _ => false,
    };
    if summer {
        time::UtcOffset::from_hms(1, 0, 0).unwrap_or(time::UtcOffset::UTC)
    } else {
        time::UtcOffset::UTC
    }
}

/// The day a moment falls on in the UK: "1 July 2026" for 11:30pm UTC on 30 June.
pub fn uk_date(at: time::OffsetDateTime) -> String {
    long_date(at.to_offset(uk_offset(at)).date())
}

/// A moment as people in the UK read it: "3:05pm on 1 December 2026 (GMT)".
pub fn uk_time(at: time::OffsetDateTime) -> String {
    let offset = uk_offset(at);
    let local = at.to_offset(offset);
    let zone = if offset.is_utc() { "GMT" } else { "BST" };
    let hour = match local.hour() % 12 {
        0 => 12,
        h => h,
    };
    let half = if local.hour() < 12 { "am" } else { "pm" };
    format!(
        "{hour}:{:02}{half} on {} ({zone})",
        local.minute(),
        long_date(local.date())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_uk_time_with_the_zone() {
        use time::macros::datetime;
        assert_eq!(
            uk_time(datetime!(2026-12-01 15:05 UTC)),
            "3:05pm on 1 December 2026 (GMT)"
        );
        assert_eq!(
            uk_time(datetime!(2026-07-01 23:30 UTC)),
            "12:30am on 2 July 2026 (BST)"
        );
        // The clocks go forward at 1am UTC on the last Sunday of March (29 March 2026).
        assert_eq!(
            uk_time(datetime!(2026-03-29 00:59 UTC)),
            "12:59am on 29 March 2026 (GMT)"
        );
        assert_eq!(
            uk_time(datetime!(2026-03-29 01:00 UTC)),
            "2:00am on 29 March 2026 (BST)"
        );
    }

    #[test]
    fn a_day_is_the_uk_day_after_midnight_in_summer() {
        use time::macros::datetime;
        assert_eq!(uk_date(datetime!(2026-06-30 23:30 UTC)), "1 July 2026");
        assert_eq!(uk_date(datetime!(2026-12-31 23:30 UTC)), "31 December 2026");
    }

    #[test]
    fn dates_read_as_people_write_them() {
        let date = time::Date::from_calendar_date(2027, time::Month::January, 31).expect("a date");
        assert_eq!(long_date(date), "31 January 2027");
    }

    #[test]
    fn a_score_is_one_to_five() {
        assert_eq!(Score::new(0), None);
        assert_eq!(Score::new(1).map(Score::get), Some(1));
        assert_eq!(Score::new(5).map(Score::get), Some(5));
        assert_eq!(Score::new(6), None);
        assert_eq!(Score::MAX.next(), None);
        assert!(serde_json::from_str::<Score>("7").is_err());
    }

    #[test]
    fn statuses_and_rags_read_their_codes_and_refuse_others() {
        assert_eq!("developing".parse::<Status>(), Ok(Status::Developing));
        assert!("started".parse::<Status>().is_err());
        assert_eq!("amber".parse::<Rag>(), Ok(Rag::Amber));
        assert!("blue".parse::<Rag>().is_err());
    }
}
