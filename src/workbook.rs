//! Excel workbooks: a plain table (the action plan export), and the whole self-assessment as a
//! workbook a council can fill in offline and import again. Reading checks every cell and names
//! the sheet, row and column of each fault; nothing here touches the database or the web.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use time::{Date, Duration, Month};
use uuid::Uuid;

use crate::framework::{Framework, Section};

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The longest text a cell may hold: evidence and justifications.
pub const MAX_TEXT: usize = 20_000;

/// A reminder on every sheet people type into.
const REMINDER: &str = "Describe processes, not people: do not enter personal or case details.";

/// One sheet with a bold heading row, then the rows, all as text.
pub fn table(sheet: &str, headers: &[&str], rows: &[&[String]]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, 18)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, cell)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(
        0,
        0,
        rows.len() as u32,
        headers.len().saturating_sub(1) as u16,
    )?;
    book.save_to_buffer()
}

/// A whole self-assessment, as the workbook holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub council: String,
    pub cycle: String,
    pub state: String,
    pub benchmarks: Vec<BookBenchmark>,
    /// Actions on no benchmark: the Home Office's recommended actions not filed under one.
    pub other_actions: Vec<BookAction>,
}

/// What an imported workbook holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub benchmarks: Vec<BookBenchmark>,
    pub other_actions: Vec<BookAction>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookBenchmark {
    pub number: u32,
    /// "red", "amber", "green".
    pub rag: Option<String>,
    pub proposed_score: Option<i16>,
    pub proposed_not_scored: bool,
    pub justification: String,
    pub comments: String,
    /// Criterion codes, such as "b1.l3.board".
    pub criteria_met: Vec<String>,
    /// The agreed score as shown (written for reference, never read back).
    pub agreed: String,
    pub answers: Vec<BookAnswer>,
    pub actions: Vec<BookAction>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookAnswer {
    pub code: String,
    /// A rating code of the framework.
    pub status: Option<String>,
    pub evidence: String,
    /// Evidence per prompt, as many as the question has prompts (empty when not used).
    pub prompt_evidence: Vec<String>,
    pub needs_review: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookAction {
    /// Set for an action that exists; empty for a new one.
    pub id: Option<Uuid>,
    pub question: Option<String>,
    pub description: String,
    pub owner: String,
    pub target_text: String,
    pub due_on: Option<Date>,
    /// "open", "in_progress", "done", "cancelled".
    pub status: String,
    pub rag: Option<String>,
    /// The row it was read from (counted from 1), to name in errors found later; 0 otherwise.
    pub row: u32,
}

/// A fault in a cell: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub sheet: String,
    /// Counted from 1, as Excel shows it.
    pub row: u32,
    /// A letter, as Excel shows it.
    pub column: String,
    pub message: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sheet “{}”, row {}, column {}: {}",
            self.sheet, self.row, self.column, self.message
        )
    }
}

/// Why a workbook could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not an Excel workbook at all.
    NotAWorkbook,
    Cells(Vec<CellError>),
}

/// The action statuses as (code, label), from the web layer's list.
pub type Statuses<'a> = &'a [(&'a str, &'a str)];

const SUMMARY: &str = "Summary";
const SUMMARY_HEADERS: [&str; 8] = [
    "Benchmark",
    "Title",
    "RAG",
    "Proposed score",
    "Justification",
    "Comments",
    "Criteria met",
    "Agreed score (read only)",
];
/// The sheet of actions on no benchmark.
const OTHER_ACTIONS: &str = "Other actions";
const QUESTION_HEADERS: [&str; 5] = [
    "Question",
    "Question text (read only)",
    "Status",
    "Evidence",
    "Needs review",
];
const ACTION_HEADERS: [&str; 7] = [
    "Action ID",
    "Question",
    "Action",
    "Owner",
    "Target",
    "Status",
    "RAG",
];

fn sheet_name(number: u32) -> String {
    format!("Benchmark {number}")
}

fn rag_label(code: &str) -> &'static str {
    match code {
        "red" => "Red",
        "amber" => "Amber",
        "green" => "Green",
        _ => "",
    }
}

/// Writes the whole assessment: a summary sheet, then a sheet per benchmark.
pub fn write(book: &Book, framework: &Framework, statuses: Statuses) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let heading = Format::new().set_bold().set_font_size(14);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);

    let ws = wb.add_worksheet();
    ws.set_name(SUMMARY)?;
    ws.write_string_with_format(0, 0, &framework.title, &heading)?;
    for (r, (k, v)) in [
        ("Council", &book.council),
        ("Cycle", &book.cycle),
        ("State", &book.state),
        (
            "Framework",
            &format!("{} ({})", framework.code, framework.edition),
        ),
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(r as u32 + 1, 0, *k, &bold)?;
        ws.write_string(r as u32 + 1, 1, *v)?;
    }
    ws.write_string(5, 0, REMINDER)?;
    ws.write_string(6, 0, &framework.attribution)?;
    let top = 8;
    for (c, h) in SUMMARY_HEADERS.iter().enumerate() {
        ws.write_string_with_format(top, c as u16, *h, &bold)?;
    }
    for (c, w) in [10, 40, 10, 14, 60, 60, 30, 14].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for (i, b) in book.benchmarks.iter().enumerate() {
        let r = top + 1 + i as u32;
        let title = framework.section(b.number).map_or("", |s| s.title.as_str());
        ws.write_number(r, 0, f64::from(b.number))?;
        ws.write_string_with_format(r, 1, title, &wrap)?;
        ws.write_string(r, 2, b.rag.as_deref().map(rag_label).unwrap_or_default())?;
        let proposed = match (b.proposed_score, b.proposed_not_scored) {
            (Some(s), _) => s.to_string(),
            (None, true) => "Not scored".to_owned(),
            _ => String::new(),
        };
        ws.write_string(r, 3, &proposed)?;
        ws.write_string_with_format(r, 4, &b.justification, &wrap)?;
        ws.write_string_with_format(r, 5, &b.comments, &wrap)?;
        ws.write_string(r, 6, b.criteria_met.join(", "))?;
        ws.write_string(r, 7, &b.agreed)?;
    }
    ws.set_freeze_panes(top + 1, 0)?;

    for b in &book.benchmarks {
        let Some(section) = framework.section(b.number) else {
            continue;
        };
        let prompts = section
            .items
            .iter()
            .map(|i| i.prompts.len())
            .max()
            .unwrap_or(0);
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(b.number))?;
        ws.write_string_with_format(
            0,
            0,
            format!("Benchmark {}: {}", b.number, section.title),
            &heading,
        )?;
        let labels: Vec<&str> = framework.ratings.iter().map(|r| r.label.as_str()).collect();
        ws.write_string(1, 0, format!("Status is one of: {}.", labels.join(", ")))?;
        ws.write_string(2, 0, REMINDER)?;
        let top = 4;
        for (c, h) in QUESTION_HEADERS.iter().enumerate() {
            ws.write_string_with_format(top, c as u16, *h, &bold)?;
        }
        for p in 0..prompts {
            ws.write_string_with_format(
                top,
                (QUESTION_HEADERS.len() + p) as u16,
                format!("Evidence for prompt {}", p + 1),
                &bold,
            )?;
            ws.set_column_width((QUESTION_HEADERS.len() + p) as u16, 40)?;
        }
        for (c, w) in [10, 50, 16, 70, 12].iter().enumerate() {
            ws.set_column_width(c as u16, *w)?;
        }
        let mut r = top + 1;
        for a in &b.answers {
            let text = section
                .items
                .iter()
                .find(|i| i.code == a.code)
                .map_or("", |i| i.text.as_str());
            ws.write_string(r, 0, &a.code)?;
            ws.write_string_with_format(r, 1, text, &wrap)?;
            let status = a
                .status
                .as_deref()
                .and_then(|s| framework.rating_label(s))
                .unwrap_or_default();
            ws.write_string(r, 2, status)?;
            ws.write_string_with_format(r, 3, &a.evidence, &wrap)?;
            ws.write_string(r, 4, if a.needs_review { "Yes" } else { "No" })?;
            for (p, text) in a.prompt_evidence.iter().enumerate() {
                ws.write_string_with_format(r, (QUESTION_HEADERS.len() + p) as u16, text, &wrap)?;
            }
            r += 1;
        }
        r += 1;
        ws.write_string_with_format(r, 0, "Actions", &heading)?;
        ws.write_string(
            r + 1,
            0,
            "Leave the Action ID empty for a new action. Actions not listed here are kept.",
        )?;
        write_actions(ws, r + 2, &b.actions, statuses, &bold, &wrap)?;
    }
    if !book.other_actions.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name(OTHER_ACTIONS)?;
        ws.write_string_with_format(
            0,
            0,
            "Actions on no benchmark: the Home Office's recommended actions",
            &heading,
        )?;
        ws.write_string(
            1,
            0,
            "Change the owner, target, status or RAG here; add new actions on a benchmark's sheet.",
        )?;
        ws.write_string(2, 0, REMINDER)?;
        write_actions(ws, 4, &book.other_actions, statuses, &bold, &wrap)?;
    }
    wb.save_to_buffer()
}

/// The actions table: its heading row at `top`, then a row per action.
fn write_actions(
    ws: &mut rust_xlsxwriter::Worksheet,
    top: u32,
    actions: &[BookAction],
    statuses: Statuses,
    bold: &Format,
    wrap: &Format,
) -> Result<(), XlsxError> {
    for (c, h) in ACTION_HEADERS.iter().enumerate() {
        ws.write_string_with_format(top, c as u16, *h, bold)?;
    }
    for (i, a) in actions.iter().enumerate() {
        let r = top + 1 + i as u32;
        ws.write_string(r, 0, a.id.map(|i| i.to_string()).unwrap_or_default())?;
        ws.write_string(r, 1, a.question.as_deref().unwrap_or_default())?;
        ws.write_string_with_format(r, 2, &a.description, wrap)?;
        ws.write_string(r, 3, &a.owner)?;
        ws.write_string(r, 4, &a.target_text)?;
        let status = statuses
            .iter()
            .find(|(c, _)| *c == a.status)
            .map_or("", |(_, l)| *l);
        ws.write_string(r, 5, status)?;
        ws.write_string(r, 6, a.rag.as_deref().map(rag_label).unwrap_or_default())?;
    }
    Ok(())
}

/// Column letters as Excel shows them: 0 is A, 26 is AA.
fn column(c: u32) -> String {
    let mut n = c + 1;
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// A cell's value as text, as the person typed it. Excel turns a typed date into a number of
/// days; that comes back as 31/03/2027.
fn text(range: &Range<Data>, row: u32, col: u32) -> String {
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
        let name = sheet_name(section.number);
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
        let (answers, actions) = read_benchmark(
            &range,
            framework,
            section,
            statuses,
            cycle_start_year,
            &mut f,
        );
        if let Some(b) = benchmarks.iter_mut().find(|b| b.number == section.number) {
            b.answers = answers;
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
        .flat_map(|b| b.actions.iter().map(move |a| (sheet_name(b.number), a)))
        .chain(other_actions.iter().map(|a| (OTHER_ACTIONS.to_owned(), a)));
    for (sheet, a) in listed {
        if let Some(id) = a.id {
            if !seen.insert(id) {
                errors.push(CellError {
                    sheet,
                    row: a.row,
                    column: "A".to_owned(),
                    message: format!("The action {id} is listed more than once"),
                });
            }
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
        let known: BTreeSet<&str> = section
            .levels
            .iter()
            .flat_map(|l| l.criteria.iter().map(|c| c.id.as_str()))
            .collect();
        let criteria_met: Vec<String> = text(range, r, 6)
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        for c in &criteria_met {
            if !known.contains(c.as_str()) {
                f.add(
                    r,
                    6,
                    format!("“{c}” is not a criterion of benchmark {}", section.number),
                );
            }
        }
        out.push(BookBenchmark {
            number: section.number,
            rag,
            proposed_score,
            proposed_not_scored,
            justification: long_text(text(range, r, 4), MAX_TEXT, "The justification", r, 4, f),
            comments: long_text(text(range, r, 5), MAX_TEXT, "The comments", r, 5, f),
            criteria_met,
            agreed: text(range, r, 7),
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

fn read_benchmark(
    range: &Range<Data>,
    framework: &Framework,
    section: &Section,
    statuses: Statuses,
    cycle_start_year: i32,
    f: &mut Faults,
) -> (Vec<BookAnswer>, Vec<BookAction>) {
    let mut answers: Vec<BookAnswer> = Vec::new();
    let mut actions = Vec::new();
    let Some(top) = find_row(range, QUESTION_HEADERS[0], 0) else {
        f.add(0, 0, "No heading row starting “Question” was found");
        return (answers, actions);
    };
    if !check_headers(range, top, &QUESTION_HEADERS, f) {
        return (answers, actions);
    }
    let mut r = top + 1;
    while r <= last_row(range) && !text(range, r, 0).is_empty() {
        let code = text(range, r, 0);
        let Some(item) = section.items.iter().find(|i| i.code == code) else {
            f.add(
                r,
                0,
                format!("“{code}” is not a question of benchmark {}", section.number),
            );
            r += 1;
            continue;
        };
        if answers.iter().any(|a| a.code == code) {
            f.add(r, 0, format!("Question {code} is listed more than once"));
        }
        let typed = text(range, r, 2);
        let status = match typed.as_str() {
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
                        format!("The status must be one of {}, or empty", labels.join(", ")),
                    );
                    None
                }
            },
        };
        let evidence = long_text(text(range, r, 3), MAX_TEXT, "The evidence", r, 3, f);
        let needs_review = match text(range, r, 4).to_lowercase().as_str() {
            "" | "no" => false,
            "yes" => true,
            _ => {
                f.add(r, 4, "Needs review must be Yes or No");
                false
            }
        };
        let mut prompt_evidence: Vec<String> = (0..item.prompts.len())
            .map(|p| {
                let c = (QUESTION_HEADERS.len() + p) as u32;
                long_text(text(range, r, c), MAX_TEXT, "The evidence", r, c, f)
            })
            .collect();
        // No evidence against any prompt is the same as evidence for the question as a whole.
        if prompt_evidence.iter().all(String::is_empty) {
            prompt_evidence.clear();
        }
        answers.push(BookAnswer {
            code,
            status,
            evidence,
            prompt_evidence,
            needs_review,
        });
        r += 1;
    }
    for item in &section.items {
        if !answers.iter().any(|a| a.code == item.code) {
            f.add(top, 0, format!("Question {} has no row", item.code));
        }
    }

    let Some(head) = find_row(range, ACTION_HEADERS[0], r) else {
        f.add(r, 0, "No heading row starting “Action ID” was found");
        return (answers, actions);
    };
    if !check_headers(range, head, &ACTION_HEADERS, f) {
        return (answers, actions);
    }
    actions = read_actions(range, head, Some(section), statuses, cycle_start_year, f);
    (answers, actions)
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
        let question = match (text(range, r, 1).as_str(), section) {
            ("", _) => None,
            (q, Some(section)) if section.items.iter().any(|i| i.code == q) => Some(q.to_owned()),
            (q, None) => {
                f.add(
                    r,
                    1,
                    format!(
                        "“{q}”: an action on this sheet is on no benchmark, so it names no question"
                    ),
                );
                None
            }
            (q, Some(section)) => {
                f.add(
                    r,
                    1,
                    format!("“{q}” is not a question of benchmark {}", section.number),
                );
                None
            }
        };
        let description = text(range, r, 2);
        if description.is_empty() {
            f.add(r, 2, "Describe the action");
        }
        let description = long_text(description, 2000, "The description", r, 2, f);
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
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_excel_does() {
        assert_eq!(column(0), "A");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(27), "AB");
    }

    #[test]
    fn a_table_is_a_workbook_calamine_reads_back() {
        let rows = [vec!["a".to_owned(), "=1+1".to_owned()]];
        let bytes = table(
            "Plan",
            &["One", "Two"],
            &rows.iter().map(|r| r.as_slice()).collect::<Vec<_>>(),
        )
        .expect("written");
        let mut wb: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("a workbook");
        let range = wb.worksheet_range("Plan").expect("the sheet");
        assert_eq!(text(&range, 0, 1), "Two");
        // Text that looks like a formula stays text.
        assert_eq!(text(&range, 1, 1), "=1+1");
    }

    #[test]
    fn something_that_is_not_a_workbook_is_refused() {
        let fw = crate::framework::parse(
            std::path::Path::new("prevent-la-2018.toml"),
            include_str!("../frameworks/prevent-la-2018.toml"),
        )
        .expect("the framework");
        assert_eq!(
            read(b"not a zip", &fw, &[], 2026),
            Err(ReadError::NotAWorkbook)
        );
    }
}
