//! What the service's workbooks cost to write, apart from the pages that write them
//! (bench/README.md, the exports' measured cause): the assessment workbook (the Prevent
//! framework's 38 questions answered with 600 characters of evidence each, their prompts too,
//! three actions a benchmark, half the criteria met), and a table of 350 rows of 12 cells (the
//! national agreed scores' shape), each written n times (200 without an argument). Run under
//! `perf record --call-graph dwarf` to see where the time goes; `SAVE_TO=file.xlsx` keeps one
//! assessment workbook to open.
//!
//! ```sh
//! cargo build --release --example xlsx_cost && target/release/examples/xlsx_cost 200
//! ```

use std::time::Instant;

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    assessment(n);
    table(n);
}

fn table(n: u32) {
    use prevent_assure::workbook::Cell;
    let headers: Vec<String> = (0..12).map(|c| format!("Column {c}")).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let rows: Vec<Vec<Cell>> = (0..350)
        .map(|r| {
            (0..12)
                .map(|c| match c {
                    0..=3 => Cell::Text(format!("cell {r} {c} some text here")),
                    _ => Cell::Number(i64::from(c % 5 + 1)),
                })
                .collect()
        })
        .collect();
    let widths = [16.0; 12];
    let mut size = 0;
    let t = Instant::now();
    for _ in 0..n {
        size = prevent_assure::workbook::table("Scores", "A table", &headers, &widths, &rows)
            .expect("written")
            .len();
    }
    println!(
        "table of 350 rows: {:?} per workbook, {size} bytes",
        t.elapsed() / n
    );
}

fn assessment(n: u32) {
    use prevent_assure::workbook::{Book, BookAction, BookAnswer, BookBenchmark};
    let fw = prevent_assure::framework::parse(
        std::path::Path::new("prevent-la-2018.toml"),
        include_str!("../frameworks/prevent-la-2018.toml"),
    )
    .expect("the framework");
    let evidence = |code: &str| {
        format!("{code}: the partnership board reviews the referral pathway each quarter and records its decisions in minutes that the Prevent lead keeps; training for frontline staff is refreshed annually and attendance is reported to the board, which follows up teams below the expected rate. ")
            .repeat(2)
    };
    let book = Book {
        council: "Bench Council".to_owned(),
        cycle: "2026/27".to_owned(),
        state: "Draft".to_owned(),
        benchmarks: fw
            .sections
            .iter()
            .map(|s| BookBenchmark {
                number: s.number,
                rag: Some("amber".to_owned()),
                proposed_score: Some(3),
                proposed_not_scored: false,
                justification: "In line with the criteria met.".to_owned(),
                comments: String::new(),
                criteria_met: s
                    .levels
                    .iter()
                    .flat_map(|l| &l.criteria)
                    .step_by(2)
                    .map(|c| c.id.clone())
                    .collect(),
                agreed: String::new(),
                answers: s
                    .items
                    .iter()
                    .map(|i| BookAnswer {
                        code: i.code.clone(),
                        status: Some("achieving".to_owned()),
                        evidence: evidence(&i.code),
                        prompt_evidence: i
                            .prompts
                            .iter()
                            .enumerate()
                            .map(|(k, _)| format!("Prompt {k}. {}", evidence(&i.code)))
                            .collect(),
                        needs_review: false,
                        fields: Default::default(),
                    })
                    .collect(),
                actions: (0..3)
                    .map(|k| BookAction {
                        id: Some(uuid::Uuid::new_v4()),
                        question: s.items.first().map(|i| i.code.clone()),
                        description: format!(
                            "Action {k}: refresh the training plan and report to the board."
                        ),
                        owner: "Prevent lead".to_owned(),
                        target_text: "March 2027".to_owned(),
                        due_on: None,
                        status: "open".to_owned(),
                        rag: Some("amber".to_owned()),
                        row: 0,
                    })
                    .collect(),
            })
            .collect(),
        other_actions: Vec::new(),
    };
    let statuses = [
        ("open", "Open"),
        ("in_progress", "In progress"),
        ("done", "Done"),
        ("cancelled", "Cancelled"),
    ];
    let mut size = 0;
    let t = Instant::now();
    for _ in 0..n {
        size = prevent_assure::workbook::write(&book, &fw, &statuses)
            .expect("written")
            .len();
    }
    println!(
        "assessment workbook: {:?} per workbook, {size} bytes",
        t.elapsed() / n
    );
    if let Ok(path) = std::env::var("SAVE_TO") {
        let bytes = prevent_assure::workbook::write(&book, &fw, &statuses).expect("written");
        std::fs::write(path, bytes).expect("saved");
    }
}
