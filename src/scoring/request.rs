//! The JSON that `prevent-assure score` reads and writes: a council's criteria and statuses in,
//! the suggestions and the summary sentence out. Every unknown code is refused by name.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Band, RagMapping, Record, justification_required, suggest, summary};
use crate::domain::{Rag, Score, Status};
use crate::framework::{Catalogue, Framework, Section};

/// The request, as read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub framework: String,
    /// The council's name for the summary sentence; "The council" when left out.
    #[serde(default)]
    pub council: Option<String>,
    pub benchmarks: Vec<BenchmarkIn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkIn {
    pub number: u32,
    #[serde(default)]
    pub criteria_met: Vec<String>,
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    #[serde(default)]
    pub not_scored: bool,
    /// The council's proposed score (1 to 5, or "not_scored"), to learn whether it needs a
    /// justification.
    #[serde(default)]
    pub proposed: Option<Proposed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Proposed {
    Score(u8),
    Other(String),
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct Response {
    pub framework: String,
    pub benchmarks: Vec<BenchmarkOut>,
    pub summary: String,
}

#[derive(Debug, Serialize)]
pub struct BenchmarkOut {
    pub number: u32,
    pub title: String,
    pub suggested: Option<Score>,
    pub band: Option<Band>,
    pub rag: Option<Rag>,
    /// The level the criteria alone support, before the expectation cap.
    pub criteria_level: Score,
    /// Expectation questions not yet started (they cap the suggestion at 2).
    pub not_started_expectations: Vec<String>,
    /// Unmet criteria between the suggestion and the next level.
    pub blocking: Vec<String>,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification_required: Option<bool>,
}

/// Everything wrong with a request, each naming the code at fault.
#[derive(Debug, PartialEq, Eq)]
pub struct BadRequest(pub Vec<String>);

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for BadRequest {}

/// Reads a request's JSON text.
pub fn parse(text: &str) -> Result<Request, BadRequest> {
    serde_json::from_str(text).map_err(|e| BadRequest(vec![format!("malformed JSON: {e}")]))
}

/// Checks a request against the frameworks and scores it.
pub fn answer(
    catalogue: &Catalogue,
    request: &Request,
    rags: &RagMapping,
) -> Result<Response, BadRequest> {
    let Some(fw) = catalogue.get(&request.framework) else {
        let known: Vec<&str> = catalogue.all().iter().map(|f| f.code.as_str()).collect();
        return Err(BadRequest(vec![format!(
            "unknown framework {:?}; the frameworks are {}",
            request.framework,
            known.join(", ")
        )]));
    };
    if !fw.scored {
        return Err(BadRequest(vec![format!(
            "framework {:?} is not scored; only scored frameworks have suggestions",
            fw.code
        )]));
    }
    let mut faults = Vec::new();
    let mut seen = BTreeSet::new();
    let mut records = Vec::new();
    for benchmark in &request.benchmarks {
        if !seen.insert(benchmark.number) {
            faults.push(format!("benchmark {} is given twice", benchmark.number));
            continue;
        }
        match check_benchmark(fw, benchmark) {
            Ok(checked) => records.push(checked),
            Err(mut more) => faults.append(&mut more),
        }
    }
    if !faults.is_empty() {
        return Err(BadRequest(faults));
    }
    let mut out = Vec::with_capacity(records.len());
    let mut bands = Vec::new();
    for (section, record, proposed) in records {
        let s = suggest(section, &record, rags);
        bands.extend(s.band);
        out.push(BenchmarkOut {
            number: s.number,
            title: section.title.clone(),
            suggested: s.score,
            band: s.band,
            rag: s.rag,
            criteria_level: s.criteria_level,
            not_started_expectations: s.not_started_expectations.clone(),
            blocking: s.blocking.iter().map(|b| b.id.clone()).collect(),
            explanation: s.explanation.clone(),
            justification_required: proposed.map(|p| justification_required(s.score, p)),
        });
    }
    let council = request.council.as_deref().unwrap_or("the council");
    Ok(Response {
        framework: fw.code.clone(),
        benchmarks: out,
        summary: summary(council, &bands),
    })
}

type Checked<'a> = (&'a Section, Record, Option<Option<Score>>);

fn check_benchmark<'a>(fw: &'a Framework, b: &BenchmarkIn) -> Result<Checked<'a>, Vec<String>> {
    let Some(section) = fw.section(b.number) else {
        return Err(vec![format!(
            "unknown benchmark {}; the benchmarks are numbered 1 to {}",
            b.number,
            fw.sections.len()
        )]);
    };
    let n = b.number;
    let mut faults = Vec::new();
    let criteria: BTreeSet<&str> = section
        .levels
        .iter()
        .flat_map(|l| l.criteria.iter().map(|c| c.id.as_str()))
        .collect();
    for id in &b.criteria_met {
        if !criteria.contains(id.as_str()) {
            let elsewhere = fw.sections.iter().find(|s| {
                s.levels
                    .iter()
                    .flat_map(|l| &l.criteria)
                    .any(|c| &c.id == id)
            });
            faults.push(match elsewhere {
                Some(other) => format!(
                    "benchmark {n}: criterion {id:?} belongs to benchmark {}",
                    other.number
                ),
                None => format!("benchmark {n}: unknown criterion {id:?}"),
            });
        }
    }
    let mut statuses = BTreeMap::new();
    for (code, status) in &b.statuses {
        if !section.items.iter().any(|i| &i.code == code) {
            faults.push(format!(
                "benchmark {n}: unknown question {code:?}; its questions are {}",
                section
                    .items
                    .iter()
                    .map(|i| i.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        }
        match status.parse::<Status>() {
            Ok(status) => {
                statuses.insert(code.clone(), status);
            }
            Err(e) => faults.push(format!("benchmark {n}, question {code}: {e}")),
        }
    }
    if b.not_scored && !section.may_be_not_scored {
        faults.push(format!(
            "benchmark {n} cannot be marked not scored; the framework allows that only for {}",
            describe_not_scorable(fw)
        ));
    }
    let proposed = match &b.proposed {
        None => None,
        Some(Proposed::Score(v)) => match Score::new(*v) {
            Some(score) => Some(Some(score)),
            None => {
                faults.push(format!(
                    "benchmark {n}: a proposed score is 1 to 5, not {v}"
                ));
                None
            }
        },
        Some(Proposed::Other(s)) if s == "not_scored" => Some(None),
        Some(Proposed::Other(s)) => {
            faults.push(format!(
                "benchmark {n}: a proposed score is 1 to 5 or \"not_scored\", not {s:?}"
            ));
            None
        }
    };
    if !faults.is_empty() {
        return Err(faults);
    }
    let record = Record {
        criteria_met: b.criteria_met.iter().cloned().collect(),
        statuses,
        not_scored: b.not_scored,
    };
    Ok((section, record, proposed))
}

fn describe_not_scorable(fw: &Framework) -> String {
    let numbers: Vec<String> = fw
        .sections
        .iter()
        .filter(|s| s.may_be_not_scored)
        .map(|s| s.number.to_string())
        .collect();
    match numbers.len() {
        0 => "no benchmark".to_owned(),
        1 => format!("benchmark {}", numbers[0]),
        _ => format!("benchmarks {}", super::and_list(&numbers)),
    }
}
