//! Excel workbooks: the action plan as a table, and the whole self-assessment as a workbook a
//! council fills in offline and imports again. Written for people: the questions and prompts
//! written out, criteria in words, lists to choose statuses, RAG and scores from, read-only
//! cells locked, set up to print on A4. Reading checks every cell and names the sheet, row and
//! column of each fault; nothing here touches the database or the web.

mod package;
mod read;
mod table;
mod write;
mod xlsx;

use std::fmt;

use crate::framework::Framework;

use time::Date;
use uuid::Uuid;

pub use read::read;
pub use table::{Cell, table};
pub use write::write;
pub use xlsx::XlsxError;

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The longest text a cell may hold: evidence and justifications.
pub const MAX_TEXT: usize = 20_000;

/// A new workbook (`xlsx`: written here, bench/README.md says why), saved at `ZIP_LEVEL`.
fn new_workbook() -> xlsx::Workbook {
    xlsx::Workbook::new()
}

/// The zip level of every workbook written here: the files are tens of kilobytes, and at
/// zlib's default level (6) deflate took half of a workbook's CPU (bench/README.md).
pub const ZIP_LEVEL: i64 = 1;

/// Sets a row tall enough for its wrapped text: Excel and LibreOffice do not grow a row for
/// wrapped text on opening a file, so each row is given the height its longest cell needs.
/// `cells` are (column width in characters, text).
fn fit_row(ws: &mut xlsx::Worksheet, row: u32, cells: &[(f64, &str)]) -> Result<(), XlsxError> {
    let lines = cells
        .iter()
        .map(|(width, text)| {
            let per_line = (width * 1.1).max(1.0) as usize;
            text.split('\n')
                .map(|line| line.chars().count().div_ceil(per_line).max(1))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(1);
    if lines > 1 {
        ws.set_row_height(row, (15.0 * lines as f64).min(409.0))?;
    }
    Ok(())
}

/// A reminder on every sheet people type into.
const REMINDER: &str = "Describe processes, not people: do not enter personal or case details.";

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
    /// The item's own fields, by field code.
    pub fields: std::collections::BTreeMap<String, String>,
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
const SUMMARY_HEADERS: [&str; 7] = [
    "Benchmark",
    "Title (read only)",
    "RAG",
    "Proposed score",
    "Justification",
    "Comments",
    "Agreed score (read only)",
];
/// The row (counted from 0) of the summary's heading row.
const SUMMARY_TOP: u32 = 8;
/// The sheet of actions on no benchmark.
const OTHER_ACTIONS: &str = "Other actions";
/// A benchmark sheet's blocks, each under its heading row; column A (hidden) holds the ids.
const QUESTION_HEADERS: [&str; 5] = [
    "Question ID",
    "Question or prompt (read only)",
    "Status",
    "Evidence",
    "Needs review",
];
const CRITERIA_HEADERS: [&str; 3] = ["Criterion ID", "Criterion (read only)", "Met"];
const ACTION_HEADERS: [&str; 7] = [
    "Action ID",
    "Action",
    "Question",
    "Owner",
    "Target",
    "Status",
    "RAG",
];
/// Empty rows left open for new actions under each benchmark's actions.
const NEW_ACTION_ROWS: u32 = 20;

const RAG_LABELS: [&str; 3] = ["Red", "Amber", "Green"];
const YES_NO: [&str; 2] = ["Yes", "No"];

/// A section's sheet: "Benchmark 3", "Key area of control 3".
fn sheet_name(framework: &Framework, number: u32) -> String {
    format!("{} {number}", framework.section_label)
}

/// What a row of a section's sheet holds for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The item itself: its status (or rating), evidence and needs-review.
    Item,
    /// Evidence for one of its prompts (where prompts are not footnotes).
    Prompt(usize),
    /// One of its own fields (the Channel chair's name, their email).
    Field(usize),
}

/// The rows an item takes, in order, each with the id the hidden column A holds.
fn parts(framework: &Framework, item: &crate::framework::Item) -> Vec<(String, Part)> {
    let mut out = vec![(item.code.clone(), Part::Item)];
    if !framework.prompts_are_footnotes {
        out.extend((0..item.prompts.len()).map(|p| (prompt_id(&item.code, p), Part::Prompt(p))));
    }
    out.extend(
        item.fields
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("{}:{}", item.code, f.code), Part::Field(i))),
    );
    out
}

/// An item's text as its row shows it: with its footnotes, where prompts are footnotes.
fn item_text(framework: &Framework, item: &crate::framework::Item) -> String {
    let mut text = format!("{} {}", item.code, item.text);
    if framework.prompts_are_footnotes {
        for note in &item.prompts {
            text.push_str(&format!("\nNote: {note}"));
        }
    }
    text
}

fn rag_label(code: &str) -> &'static str {
    match code {
        "red" => "Red",
        "amber" => "Amber",
        "green" => "Green",
        _ => "",
    }
}

/// Column letters as Excel shows them: 0 is A, 26 is AA.
fn column(c: u32) -> String {
    let mut s = String::new();
    xlsx::push_column(&mut s, c);
    s
}

/// A prompt's id in the hidden column: "1.1/2" for the second prompt of question 1.1.
fn prompt_id(code: &str, index: usize) -> String {
    format!("{code}/{}", index + 1)
}

#[cfg(test)]
mod tests;
