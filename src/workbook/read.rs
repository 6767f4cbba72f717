//! Reading a workbook written by [`super::write`]: every cell checked against the framework,
//! the rows matched by the ids in the hidden column, each fault named by sheet, row and column.

use std::collections::{BTreeSet, HashSet};
use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use time::{Date, Duration, Month};
use uuid::Uuid;

use super::{
    ACTION_HEADERS, BookAction, BookAnswer, BookBenchmark, CRITERIA_HEADERS, CellError, Imported,
    MAX_TEXT, OTHER_ACTIONS, Part, QUESTION_HEADERS, ReadError, SUMMARY, SUMMARY_HEADERS, Statuses,
    column, parts, sheet_name,
};
use crate::framework::{Framework, Section};

/// A cell's value as text, as the person typed it. Excel turns a typed date into a number of
/// days; that comes back as 31/03/2027.
/// A cell as text, cleaned as every form value is (no NUL or other control characters, no
/// bidirectional overrides): a workbook is typing too.
fn text(range: &Range<Data>, row: u32, col: u32) -> String {
    crate::web::forms::clean_text(&unescape_xstring(&raw_text(range, row, col)))
        .trim()
        .to_owned()
}

/// Office Open XML writes a character XML cannot hold (a control character) as `_xHHHH_`, and a
/// literal `_x` that would read as one as `_x005F_x`; the reader leaves them as written.
fn unescape_xstring(s: &str) -> String {
    if !s.contains("_x") {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let code = tail
            .get(2..6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn raw_text(range: &Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.trim().to_owned(),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Bool(b)) => if *b { "Yes" } else { "No" }.to_owned(),
        Some(Data::DateTime(d)) => {
            let base = Date::from_calendar_date(1899, Month::December, 30).ok();
            base.and_then(|b| b.checked_add(Duration::days(d.as_f64().floor() as i64)))
                .map(|d| format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year()))
                .unwrap_or_default()
        }
        Some(Data::DateTimeIso(s)) | Some(Data::DurationIso(s)) => s.clone(),
        Some(Data::Error(_)) => "#ERROR".to_owned(),
    }
}

/// Collects faults with their place.
struct Faults<'a> {
    sheet: &'a str,
    all: &'a mut Vec<CellError>,
}

impl Faults<'_> {
    fn add(&mut self, row: u32, col: u32, message: impl Into<String>) {
        self.all.push(CellError {
            sheet: self.sheet.to_owned(),
            row: row + 1,
            column: column(col),
            message: message.into(),
        });
    }
}

/// The row (0-based) whose first cell is `first`, at or after `from`.
fn find_row(range: &Range<Data>, first: &str, from: u32) -> Option<u32> {
    let end = range.end()?.0;
    (from..=end).find(|r| text(range, *r, 0) == first)
}

fn check_headers(range: &Range<Data>, row: u32, headers: &[&str], faults: &mut Faults) -> bool {
    let mut ok = true;
    for (c, h) in headers.iter().enumerate() {
        if !text(range, row, c as u32).eq_ignore_ascii_case(h) {
            faults.add(row, c as u32, format!("The heading must be “{h}”"));
            ok = false;
        }
    }
    ok
}

fn last_row(range: &Range<Data>) -> u32 {
    range.end().map_or(0, |e| e.0)
}

fn row_is_blank(range: &Range<Data>, row: u32, width: u32) -> bool {
    (0..width).all(|c| text(range, row, c).is_empty())
}

fn long_text(value: String, max: usize, what: &str, row: u32, col: u32, f: &mut Faults) -> String {
    if value.chars().count() > max {
        f.add(
            row,
            col,
            format!("{what} must be {max} characters or fewer"),
        );
    }
    value
}

/// Reads a workbook written by [`write`], checking every cell against the framework. Either
/// every benchmark (answers, result, actions) comes back, or every fault found.
pub fn read(
    bytes: &[u8],
    framework: &Framework,
    statuses: Statuses,
    cycle_start_year: i32,
) -> Result<Imported, ReadError> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|_| ReadError::NotAWorkbook)?;
    let mut errors = Vec::new();
    let names = wb.sheet_names();
    let mut benchmarks: Vec<BookBenchmark> = Vec::new();

    // The summary: one row per benchmark.
    match names.iter().any(|n| n == SUMMARY) {
        false => errors.push(CellError {
            sheet: SUMMARY.to_owned(),
            row: 1,
            column: "A".to_owned(),
            message:
                "The workbook has no Summary sheet: import a workbook exported from this service"
                    .to_owned(),
        }),
        true => {
            let range = wb
                .worksheet_range(SUMMARY)
                .map_err(|_| ReadError::NotAWorkbook)?;
            let mut f = Faults {
                sheet: SUMMARY,
                all: &mut errors,
            };
            read_summary(&range, framework, &mut f, &mut benchmarks);
        }
    }

    for section in &framework.sections {
        let name = sheet_name(framework, section.number);
        let mut f = Faults {
            sheet: &name,
            all: &mut errors,
        };
        if !names.contains(&name) {
            f.add(
                0,
                0,
                "The sheet is missing: every benchmark needs its sheet",
            );
            continue;
        }
        let range = wb
            .worksheet_range(&name)
            .map_err(|_| ReadError::NotAWorkbook)?;
        let (answers, criteria_met, actions) = read_benchmark(
            &range,
            framework,
            section,
            statuses,
            cycle_start_year,
            &mut f,
        );
        if let Some(b) = benchmarks.iter_mut().find(|b| b.number == section.number) {
            b.answers = answers;
            b.criteria_met = criteria_met;
            b.actions = actions;
        }
    }
    // Actions on no benchmark, when the workbook has any.
    let mut other_actions = Vec::new();
    if names.iter().any(|n| n == OTHER_ACTIONS) {
        let range = wb
            .worksheet_range(OTHER_ACTIONS)
            .map_err(|_| ReadError::NotAWorkbook)?;
        let mut f = Faults {
            sheet: OTHER_ACTIONS,
            all: &mut errors,
        };
        match find_row(&range, ACTION_HEADERS[0], 0) {
            None => f.add(0, 0, "No heading row starting “Action ID” was found"),
            Some(head) => {
                if check_headers(&range, head, &ACTION_HEADERS, &mut f) {
                    other_actions =
                        read_actions(&range, head, None, statuses, cycle_start_year, &mut f);
                }
            }
        }
    }
    // An action appears once in the whole workbook.
    let mut seen = HashSet::new();
    let listed = benchmarks
        .iter()
        .flat_map(|b| {
            b.actions
                .iter()
                .map(move |a| (sheet_name(framework, b.number), a))
        })
        .chain(other_actions.iter().map(|a| (OTHER_ACTIONS.to_owned(), a)));
    for (sheet, a) in listed {
        if let Some(id) = a.id
            && !seen.insert(id)
        {
            errors.push(CellError {
                sheet,
                row: a.row,
                column: "A".to_owned(),
                message: format!("The action {id} is listed more than once"),
            });
        }
    }
    if errors.is_empty() {
        Ok(Imported {
            benchmarks,
            other_actions,
        })
    } else {
        Err(ReadError::Cells(errors))
    }
}

fn read_summary(
    range: &Range<Data>,
    framework: &Framework,
    f: &mut Faults,
    out: &mut Vec<BookBenchmark>,
) {
    let Some(top) = find_row(range, SUMMARY_HEADERS[0], 0) else {
        f.add(0, 0, "No heading row starting “Benchmark” was found");
        return;
    };
    if !check_headers(range, top, &SUMMARY_HEADERS, f) {
        return;
    }
    for r in top + 1..=last_row(range) {
        if row_is_blank(range, r, SUMMARY_HEADERS.len() as u32) {
            continue;
        }
        let number = text(range, r, 0);
        let Some(section) = number
            .parse::<u32>()
            .ok()
            .and_then(|n| framework.section(n))
        else {
            f.add(
                r,
                0,
                format!(
                    "“{number}” is not a benchmark number (1 to {})",
                    framework.sections.len()
                ),
            );
            continue;
        };
        if out.iter().any(|b| b.number == section.number) {
            f.add(
                r,
                0,
                format!("Benchmark {} is listed more than once", section.number),
            );
            continue;
        }
        let rag = match text(range, r, 2).to_lowercase().as_str() {
            "" => None,
            v @ ("red" | "amber" | "green") => Some(v.to_owned()),
            _ => {
                f.add(r, 2, "The RAG must be Red, Amber or Green, or empty");
                None
            }
        };
        let (proposed_score, proposed_not_scored) = match text(range, r, 3).as_str() {
            "" => (None, false),
            v if v.eq_ignore_ascii_case("not scored") => {
                if !section.may_be_not_scored {
                    f.add(
                        r,
                        3,
                        format!("Benchmark {} must be scored from 1 to 5", section.number),
                    );
                }
                (None, true)
            }
            v => match v.parse::<i16>() {
                Ok(s) if (1..=5).contains(&s) => (Some(s), false),
                _ => {
                    f.add(
                        r,
                        3,
                        "The proposed score must be a whole number from 1 to 5",
                    );
                    (None, false)
                }
            },
        };
        out.push(BookBenchmark {
            number: section.number,
            rag,
            proposed_score,
            proposed_not_scored,
            justification: long_text(text(range, r, 4), MAX_TEXT, "The justification", r, 4, f),
            comments: long_text(text(range, r, 5), MAX_TEXT, "The comments", r, 5, f),
            criteria_met: Vec::new(),
            agreed: text(range, r, 6),
            answers: Vec::new(),
            actions: Vec::new(),
        });
    }
    for s in &framework.sections {
        if !out.iter().any(|b| b.number == s.number) {
            f.add(top, 0, format!("Benchmark {} has no row", s.number));
        }
    }
}

/// A benchmark's sheet: its questions and prompts (matched by the hidden ids), the criteria
/// met, and its actions.
fn read_benchmark(
    range: &Range<Data>,
    framework: &Framework,
    section: &Section,
    statuses: Statuses,
    cycle_start_year: i32,
    f: &mut Faults,
) -> (Vec<BookAnswer>, Vec<String>, Vec<BookAction>) {
    let mut answers: Vec<BookAnswer> = Vec::new();
    let mut criteria = Vec::new();
    let mut actions = Vec::new();
    let Some(top) = find_row(range, QUESTION_HEADERS[0], 0) else {
        f.add(0, 0, "No heading row starting “Question ID” was found");
        return (answers, criteria, actions);
    };
    if !check_headers(range, top, &QUESTION_HEADERS, f) {
        return (answers, criteria, actions);
    }
    // The ids the sheet was written with, in order: each item, then its fields and prompts.
    let mut expected: Vec<(String, usize, Part)> = Vec::new();
    for (q, item) in section.items.iter().enumerate() {
        for (id, part) in parts(framework, item) {
            expected.push((id, q, part));
        }
    }
    let prompts_of = |item: &crate::framework::Item| {
        if framework.prompts_are_footnotes {
            0
        } else {
            item.prompts.len()
        }
    };
    let mut seen = HashSet::new();
    let mut r = top + 1;
    while r <= last_row(range) && !text(range, r, 0).is_empty() {
        let id = text(range, r, 0);
        let Some((_, q, part)) = expected.iter().find(|(e, _, _)| *e == id).cloned() else {
            f.add(
                r,
                0,
                format!(
                    "“{id}” is not a question or prompt of benchmark {}: the hidden column A must be left as exported",
                    section.number
                ),
            );
            r += 1;
            continue;
        };
        if !seen.insert(id.clone()) {
            f.add(
                r,
                0,
                format!(
                    "“{id}” is listed more than once: the hidden column A must be left as exported"
                ),
            );
            r += 1;
            continue;
        }
        let item = &section.items[q];
        if answers.iter().all(|a| a.code != item.code) {
            answers.push(BookAnswer {
                code: item.code.clone(),
                status: None,
                evidence: String::new(),
                prompt_evidence: vec![String::new(); prompts_of(item)],
                needs_review: false,
                fields: Default::default(),
            });
        }
        let evidence = long_text(text(range, r, 3), MAX_TEXT, "The evidence", r, 3, f);
        let Some(answer) = answers.iter_mut().find(|a| a.code == item.code) else {
            r += 1;
            continue;
        };
        match part {
            Part::Prompt(p) => {
                if let Some(slot) = answer.prompt_evidence.get_mut(p) {
                    *slot = evidence;
                }
            }
            Part::Field(i) => {
                let field = &item.fields[i];
                let value = evidence.trim().to_owned();
                if value.chars().count() > 254 {
                    f.add(
                        r,
                        3,
                        format!("{} must be 254 characters or fewer", field.label),
                    );
                } else if field.email && !value.is_empty() && !value.contains('@') {
                    f.add(r, 3, format!("{} must be an email address", field.label));
                } else if !value.is_empty() {
                    answer.fields.insert(field.code.clone(), value);
                }
            }
            Part::Item => {
                let typed = text(range, r, 2);
                answer.status = match typed.as_str() {
                    "" => None,
                    v => match framework
                        .ratings
                        .iter()
                        .find(|rt| rt.label.eq_ignore_ascii_case(v) || rt.code == v)
                    {
                        Some(rt) => Some(rt.code.clone()),
                        None => {
                            let labels: Vec<&str> =
                                framework.ratings.iter().map(|r| r.label.as_str()).collect();
                            f.add(
                                r,
                                2,
                                format!(
                                    "The status must be one of {}, or empty",
                                    labels.join(", ")
                                ),
                            );
                            None
                        }
                    },
                };
                answer.evidence = evidence;
                answer.needs_review = match text(range, r, 4).to_lowercase().as_str() {
                    "" | "no" => false,
                    "yes" => true,
                    _ => {
                        f.add(r, 4, "Needs review must be Yes or No");
                        false
                    }
                };
            }
        }
        r += 1;
    }
    for (id, _, _) in &expected {
        if !seen.contains(id) {
            f.add(
                top,
                0,
                format!("“{id}” has no row: the hidden column A must be left as exported"),
            );
        }
    }
    // No evidence against any prompt is the same as evidence for the question as a whole.
    for a in &mut answers {
        if a.prompt_evidence.iter().all(String::is_empty) {
            a.prompt_evidence.clear();
        }
    }
    answers.sort_by_key(|a| section.items.iter().position(|i| i.code == a.code));

    let Some(head) = find_row(range, CRITERIA_HEADERS[0], r) else {
        f.add(r, 0, "No heading row starting “Criterion ID” was found");
        return (answers, criteria, actions);
    };
    if !check_headers(range, head, &CRITERIA_HEADERS, f) {
        return (answers, criteria, actions);
    }
    let known: BTreeSet<&str> = section
        .levels
        .iter()
        .flat_map(|l| l.criteria.iter().map(|c| c.id.as_str()))
        .collect();
    let mut r = head + 1;
    while r <= last_row(range) && !text(range, r, 0).is_empty() {
        let id = text(range, r, 0);
        if !known.contains(id.as_str()) {
            f.add(
                r,
                0,
                format!(
                    "“{id}” is not a criterion of benchmark {}: the hidden column A must be left as exported",
                    section.number
                ),
            );
        } else {
            match text(range, r, 2).to_lowercase().as_str() {
                "yes" => criteria.push(id),
                "" | "no" => {}
                _ => f.add(r, 2, "Met must be Yes or No"),
            }
        }
        r += 1;
    }
    criteria.sort();

    let Some(head) = find_row(range, ACTION_HEADERS[0], r) else {
        f.add(r, 0, "No heading row starting “Action ID” was found");
        return (answers, criteria, actions);
    };
    if !check_headers(range, head, &ACTION_HEADERS, f) {
        return (answers, criteria, actions);
    }
    actions = read_actions(range, head, Some(section), statuses, cycle_start_year, f);
    (answers, criteria, actions)
}

/// The action rows under the heading row `head`. Without a section (the sheet of actions on no
/// benchmark), an action names no question and must be one that exists.
fn read_actions(
    range: &Range<Data>,
    head: u32,
    section: Option<&Section>,
    statuses: Statuses,
    cycle_start_year: i32,
    f: &mut Faults,
) -> Vec<BookAction> {
    let mut actions = Vec::new();
    for r in head + 1..=last_row(range) {
        if row_is_blank(range, r, ACTION_HEADERS.len() as u32) {
            continue;
        }
        let id = match text(range, r, 0).as_str() {
            "" => None,
            v => match Uuid::parse_str(v) {
                Ok(id) => Some(id),
                Err(_) => {
                    f.add(
                        r,
                        0,
                        "The action ID must be left as exported, or empty for a new action",
                    );
                    None
                }
            },
        };
        if section.is_none() && id.is_none() {
            f.add(
                r,
                0,
                "Add a new action on its benchmark's sheet: this sheet only changes actions that exist",
            );
        }
        let question = match (text(range, r, 2).as_str(), section) {
            ("", _) => None,
            (q, Some(section)) if section.items.iter().any(|i| i.code == q) => Some(q.to_owned()),
            (q, None) => {
                f.add(
                    r,
                    2,
                    format!(
                        "“{q}”: an action on this sheet is on no benchmark, so it names no question"
                    ),
                );
                None
            }
            (q, Some(section)) => {
                f.add(
                    r,
                    2,
                    format!("“{q}” is not a question of benchmark {}", section.number),
                );
                None
            }
        };
        let description = text(range, r, 1);
        if description.is_empty() {
            f.add(r, 1, "Describe the action");
        }
        let description = long_text(description, 2000, "The description", r, 1, f);
        let owner = long_text(text(range, r, 3), 200, "The owner", r, 3, f);
        let target_text = text(range, r, 4);
        let due_on = match crate::domain::target::parse(&target_text, cycle_start_year) {
            Ok(t) => t.due,
            Err(message) => {
                f.add(r, 4, message);
                None
            }
        };
        let typed = text(range, r, 5);
        let status = match statuses
            .iter()
            .find(|(c, l)| l.eq_ignore_ascii_case(&typed) || *c == typed)
        {
            Some((c, _)) => (*c).to_owned(),
            None => {
                let labels: Vec<&str> = statuses.iter().map(|(_, l)| *l).collect();
                f.add(
                    r,
                    5,
                    format!("The status must be one of {}", labels.join(", ")),
                );
                String::new()
            }
        };
        let rag = match text(range, r, 6).to_lowercase().as_str() {
            "" => None,
            v @ ("red" | "amber" | "green") => Some(v.to_owned()),
            _ => {
                f.add(r, 6, "The RAG must be Red, Amber or Green, or empty");
                None
            }
        };
        actions.push(BookAction {
            id,
            question,
            description,
            owner,
            target_text,
            due_on,
            status,
            rag,
            row: r + 1,
        });
    }
    actions
}

#[cfg(test)]
mod xstring_tests {
    use super::unescape_xstring;

    #[test]
    fn escaped_characters_are_read_back_and_other_text_is_left() {
        assert_eq!(
            unescape_xstring("Board_x0000_ minutes_x0007_"),
            "Board\u{0} minutes\u{7}"
        );
        assert_eq!(unescape_xstring("_x005F_x0041_"), "_x0041_");
        assert_eq!(unescape_xstring("box_xyz_ and _x12_"), "box_xyz_ and _x12_");
        assert_eq!(unescape_xstring("no escapes"), "no escapes");
    }
}
