//! The summary a council puts into a committee report (the first page of seeds 000): each
//! benchmark with its score, RAG, open actions and latest comment, as at a date.

use super::word;

/// One benchmark's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// "1. Risk Assessment".
    pub benchmark: String,
    /// "4 (agreed 2026/27)", or "3 (proposed); agreed 2025/26: 4".
    pub score: String,
    /// "Green", or "" for none.
    pub rag: String,
    /// "Share the risk assessment – CSP Manager, Q4 2026/27", the first few, then "and 2 more".
    pub actions: Vec<String>,
    pub comment: String,
}

/// The whole table, with what it is and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub council: String,
    pub title: String,
    /// "As at 1 December 2026".
    pub as_at: String,
    /// What the scores are: agreed, or proposals still to be agreed.
    pub note: String,
    pub rows: Vec<Row>,
}

/// Column widths on A4 landscape, in twentieths of a point.
const WIDTHS: [usize; 5] = [2500, 2100, 900, 5670, 3400];

/// The summary as a Word document on A4 landscape.
pub fn docx(summary: &Summary, created: &str) -> anyhow::Result<Vec<u8>> {
    let mut doc = word::document(true, None, created)
        .add_paragraph(word::heading(&summary.title, 1))
        .add_paragraph(word::paragraph(
            &format!("{}. {}", summary.as_at, summary.note),
            "Normal",
        ));
    let rows = summary
        .rows
        .iter()
        .map(|r| {
            vec![
                vec![r.benchmark.clone()],
                vec![r.score.clone()],
                vec![r.rag.clone()],
                if r.actions.is_empty() {
                    vec!["None open".to_owned()]
                } else {
                    r.actions.clone()
                },
                vec![r.comment.clone()],
            ]
        })
        .collect();
    doc = doc.add_table(word::table(
        &WIDTHS,
        &[
            "Benchmark",
            "Score",
            "RAG",
            "Open actions",
            "Latest comment",
        ],
        &[true, false, false, false, false],
        rows,
    ));
    word::bytes(doc)
}
