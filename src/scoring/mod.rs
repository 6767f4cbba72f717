//! The Home Office Performance Scoring Criteria applied to what a council has recorded: the
//! suggested score of each benchmark, its band and RAG, why it is not higher, and the summary
//! sentence of the letter. Pure: no database, no web, no async.

pub mod request;
mod summary;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::domain::{Rag, Score, Status};
use crate::framework::{ItemKind, Section};

pub use summary::summary;

/// The highest suggestion while an expectation question is not yet started: the statutory
/// minimum (level 3) is not met.
pub const CAP_WHILE_EXPECTATION_NOT_STARTED: u8 = 2;

/// What a score says about the duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Scores 1 and 2: the duty is not met.
    NotMeeting,
    /// Score 3: the duty is met.
    Meeting,
    /// Scores 4 and 5: the duty is exceeded.
    Exceeding,
}

impl Band {
    pub const ALL: [Band; 3] = [Band::NotMeeting, Band::Meeting, Band::Exceeding];

    pub fn of(score: Score) -> Band {
        match score.get() {
            1 | 2 => Band::NotMeeting,
            3 => Band::Meeting,
            _ => Band::Exceeding,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Band::NotMeeting => "not_meeting",
            Band::Meeting => "meeting",
            Band::Exceeding => "exceeding",
        }
    }

    /// As the Home Office letter puts it.
    pub fn label(self) -> &'static str {
        match self {
            Band::NotMeeting => "Not meeting the duty",
            Band::Meeting => "Meeting the duty",
            Band::Exceeding => "Exceeding the duty",
        }
    }
}

/// Which RAG colour each band shows as; red, amber, green unless a deployment says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RagMapping {
    pub not_meeting: Rag,
    pub meeting: Rag,
    pub exceeding: Rag,
}

impl Default for RagMapping {
    fn default() -> Self {
        RagMapping {
            not_meeting: Rag::Red,
            meeting: Rag::Amber,
            exceeding: Rag::Green,
        }
    }
}

impl RagMapping {
    pub fn rag(&self, band: Band) -> Rag {
        match band {
            Band::NotMeeting => self.not_meeting,
            Band::Meeting => self.meeting,
            Band::Exceeding => self.exceeding,
        }
    }
}

impl FromStr for RagMapping {
    type Err = String;

    /// Reads `not_meeting=red,meeting=amber,exceeding=green`; bands left out keep the default.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut mapping = RagMapping::default();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (band, rag) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} is not band=colour (e.g. meeting=amber)"))?;
            let rag: Rag = rag.trim().parse()?;
            match band.trim() {
                "not_meeting" => mapping.not_meeting = rag,
                "meeting" => mapping.meeting = rag,
                "exceeding" => mapping.exceeding = rag,
                other => {
                    return Err(format!(
                        "unknown band {other:?}: the bands are not_meeting, meeting and exceeding"
                    ));
                }
            }
        }
        Ok(mapping)
    }
}

impl fmt::Display for RagMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not_meeting={},meeting={},exceeding={}",
            self.not_meeting.code(),
            self.meeting.code(),
            self.exceeding.code()
        )
    }
}

/// What a council has recorded for one benchmark, as far as scoring is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Ids of the criteria the council says it meets.
    pub criteria_met: BTreeSet<String>,
    /// Status of each question by code; a question without one has not been started.
    pub statuses: BTreeMap<String, Status>,
    /// The benchmark is not scored this time (only where the framework allows it).
    pub not_scored: bool,
}

/// A criterion that holds a suggestion back from the next level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocking {
    pub id: String,
    pub level: u8,
    pub text: String,
}

/// The suggested score of one benchmark, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub number: u32,
    /// None when the benchmark is not scored.
    pub score: Option<Score>,
    pub band: Option<Band>,
    pub rag: Option<Rag>,
    /// The level the criteria alone support, before any cap.
    pub criteria_level: Score,
    /// Expectation questions not yet started; while there are any the suggestion is at most 2.
    pub not_started_expectations: Vec<String>,
    /// The unmet criteria between this level and the next, in level order.
    pub blocking: Vec<Blocking>,
    /// The reasons in words a council officer understands.
    pub explanation: String,
}

impl Suggestion {
    /// Whether the expectation cap lowered the suggestion below what the criteria support.
    pub fn capped(&self) -> bool {
        self.score
            .is_some_and(|s| s.get() < self.criteria_level.get())
    }
}

/// The highest level L such that every criterion of levels 2 to L is met (1 when level 2 is not).
pub fn criteria_level(section: &Section, criteria_met: &BTreeSet<String>) -> Score {
    let mut reached = Score::MIN;
    let mut levels: Vec<_> = section.levels.iter().filter(|l| l.score >= 2).collect();
    levels.sort_by_key(|l| l.score);
    for level in levels {
        let all_met = level.criteria.iter().all(|c| criteria_met.contains(&c.id));
        match Score::new(level.score) {
            Some(score) if all_met && score.get() == reached.get() + 1 => reached = score,
            _ => break,
        }
    }
    reached
}

/// Applies the scoring rules to one benchmark.
pub fn suggest(section: &Section, record: &Record, rags: &RagMapping) -> Suggestion {
    let criteria_level = criteria_level(section, &record.criteria_met);
    let not_started_expectations: Vec<String> = section
        .items_of(ItemKind::Expectation)
        .filter(|item| {
            record
                .statuses
                .get(&item.code)
                .is_none_or(|s| *s == Status::NotStarted)
        })
        .map(|item| item.code.clone())
        .collect();
    if record.not_scored {
        return Suggestion {
            number: section.number,
            score: None,
            band: None,
            rag: None,
            criteria_level,
            not_started_expectations,
            blocking: Vec::new(),
            explanation: "Not scored: this benchmark is not scored this time, so it has no \
                          score and is left out of the summary."
                .to_owned(),
        };
    }
    let score = if not_started_expectations.is_empty() {
        criteria_level
    } else {
        criteria_level.min(Score::new(CAP_WHILE_EXPECTATION_NOT_STARTED).unwrap_or(Score::MIN))
    };
    let blocking = match score.next() {
        Some(next) => unmet_up_to(section, &record.criteria_met, next.get()),
        None => Vec::new(),
    };
    let band = Band::of(score);
    let mut suggestion = Suggestion {
        number: section.number,
        score: Some(score),
        band: Some(band),
        rag: Some(rags.rag(band)),
        criteria_level,
        not_started_expectations,
        blocking,
        explanation: String::new(),
    };
    suggestion.explanation = explain(&suggestion);
    suggestion
}

/// The unmet criteria of levels 2 to `level`, in level order.
fn unmet_up_to(section: &Section, met: &BTreeSet<String>, level: u8) -> Vec<Blocking> {
    let mut levels: Vec<_> = section
        .levels
        .iter()
        .filter(|l| (2..=level).contains(&l.score))
        .collect();
    levels.sort_by_key(|l| l.score);
    levels
        .into_iter()
        .flat_map(|l| {
            l.criteria
                .iter()
                .filter(|c| !met.contains(&c.id))
                .map(move |c| Blocking {
                    id: c.id.clone(),
                    level: l.score,
                    text: c.text.clone(),
                })
        })
        .collect()
}

/// "3.1", "3.1 and 3.2", "3.1, 3.2 and 3.3".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn questions(codes: &[String]) -> String {
    let noun = if codes.len() == 1 {
        "question"
    } else {
        "questions"
    };
    format!("{noun} {}", and_list(codes))
}

fn explain(s: &Suggestion) -> String {
    let Some(score) = s.score else {
        return String::new();
    };
    let level = score.get();
    let mut text = if level == 1 {
        "Level 1: not every criterion of level 2 is met yet.".to_owned()
    } else if s.capped() {
        let verb = if s.not_started_expectations.len() == 1 {
            "is"
        } else {
            "are"
        };
        format!(
            "Level 2: the criteria met would support level {}, but expectation {} {verb} not yet \
             started, so the statutory minimum is not met and the suggestion stops at level 2.",
            s.criteria_level,
            questions(&s.not_started_expectations)
        )
    } else if level == 2 {
        "Level 2: every criterion of level 2 is met.".to_owned()
    } else if level == 3 {
        "Level 3: every criterion of levels 2 and 3 is met.".to_owned()
    } else {
        format!("Level {level}: every criterion of levels 2 to {level} is met.")
    };
    if let Some(next) = score.next() {
        if !s.blocking.is_empty() {
            let shown: Vec<String> = s.blocking.iter().map(|b| format!("“{}”", b.text)).collect();
            text.push_str(&format!(
                " To reach level {next}, the evidence must also show: {}.",
                shown.join("; ")
            ));
        }
        if !s.not_started_expectations.is_empty() {
            if s.capped() {
                text.push_str(&format!(
                    " Start work on {} to go above level 2.",
                    questions(&s.not_started_expectations)
                ));
            } else {
                let verb = if s.not_started_expectations.len() == 1 {
                    "is"
                } else {
                    "are"
                };
                text.push_str(&format!(
                    " Expectation {} {verb} not yet started; until {} started, the suggestion \
                     cannot go above level 2.",
                    questions(&s.not_started_expectations),
                    if s.not_started_expectations.len() == 1 {
                        "it is"
                    } else {
                        "they are"
                    }
                ));
            }
        }
    }
    text
}

/// Whether a proposed score needs a justification: it does when it differs from the suggestion
/// (None on either side means not scored).
pub fn justification_required(suggested: Option<Score>, proposed: Option<Score>) -> bool {
    suggested != proposed
}
