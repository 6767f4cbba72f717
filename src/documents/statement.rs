//! The Channel Panel Annual Assurance Statement as the council returns it: per key area of
//! control a table of statement, compliance rating, evidence or further details, and areas for
//! improvement with timescales; then the declaration and the signatory's sign-off.

use super::word;

/// One statement's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// "1.3 Partners of the panel …", then its notes and fields, one per line.
    pub statement: Vec<String>,
    pub rating: String,
    pub evidence: String,
    /// "Publish the process (Sept 21)", one per line.
    pub improvements: Vec<String>,
}

/// One key area's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    /// "2. Key area of control – Strategic Governance".
    pub heading: String,
    pub evidence_label: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub title: String,
    pub council: String,
    /// "Draft" until it is submitted: said at the top of every page.
    pub draft: bool,
    pub areas: Vec<Area>,
    pub declaration: String,
    /// (label, value): Signed, Date, Position, Local Authority, panel; or "Not signed".
    pub sign_off: Vec<(String, String)>,
}

/// Column widths on A4 landscape, in twentieths of a point (14570 between the margins).
const WIDTHS: [usize; 4] = [5000, 1570, 4400, 3600];

pub fn docx(s: &Statement, created: &str) -> anyhow::Result<Vec<u8>> {
    let mut doc = word::document(true, s.draft.then_some("Draft"), created)
        .add_paragraph(word::heading(&s.title, 1))
        .add_paragraph(word::strong(&s.council, "Normal"));
    for area in &s.areas {
        doc = doc.add_paragraph(word::heading(&area.heading, 2));
        let rows = area
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.statement.clone(),
                    vec![r.rating.clone()],
                    vec![r.evidence.clone()],
                    r.improvements.clone(),
                ]
            })
            .collect();
        doc = doc.add_table(word::table(
            &WIDTHS,
            &[
                "Statement",
                "Compliance rating",
                &area.evidence_label,
                "Areas for improvement and timescales for completion",
            ],
            &[false, true, false, false],
            rows,
        ));
    }
    doc = doc
        .add_paragraph(word::heading("Declaration", 2))
        .add_paragraph(word::paragraph(&s.declaration, "Normal"))
        .add_paragraph(word::strong(
            "Local authority Chief Executive/ Strategic Director Signatory:",
            "Normal",
        ));
    for (label, value) in &s.sign_off {
        doc = doc.add_paragraph(word::paragraph(&format!("{label}: {value}"), "Normal"));
    }
    word::bytes(doc)
}
