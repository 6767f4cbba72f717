//! The annual assurance letter as the Home Office writes it (seeds 001): the standard
//! paragraphs of the cycle's template, the adviser's own lines, the summary of performance and
//! recommended actions, and the annex of agreed scores. Composed once into a [`Letter`], which
//! the page, the print and the Word document all show, and which is kept as it was when the
//! letter is published.

use serde::{Deserialize, Serialize};

use super::word;

/// The standard paragraphs an administrator keeps per cycle. `{region}`, `{council}` and
/// `{year}` stand for the region, the council and the cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub attribution: String,
    pub sender: String,
    pub title: String,
    pub opening: String,
    pub statutory: Vec<String>,
    pub process: Vec<String>,
    pub threat_and_risk: Vec<String>,
    pub benchmark_5: String,
    pub year_on_year: String,
    pub summary_heading: String,
    pub summary_lead: String,
    pub recommendations_intro: String,
    pub annex_offer: String,
    pub sharing: String,
    pub thanks: String,
    pub closing: String,
    pub sign_off: String,
    pub signature_role: String,
    pub annex_heading: String,
}

/// The template every cycle starts from: the Home Office's 2022/23 letter (Crown copyright,
/// Open Government Licence v3.0).
pub fn default_template() -> Template {
    toml::from_str(include_str!("../../letters/assurance-letter.toml"))
        .expect("letters/assurance-letter.toml is a letter template (checked by a test)")
}

/// What the adviser writes into one council's letter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviserText {
    /// The addressee's name and position, one per line.
    pub addressee: String,
    pub salutation: String,
    pub cc: String,
    /// The first sentence of the thanks paragraph.
    pub thanks: String,
    /// A paragraph of their own, after the recommended actions (may be empty).
    pub extra: String,
}

/// One row of the annex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnexRow {
    pub number: u32,
    pub title: String,
    pub standard: String,
    /// "1" to "5", or "N/A".
    pub score: String,
    pub summary: String,
}

/// The facts of the letter, from the assessment and the scoring module.
#[derive(Debug, Clone)]
pub struct Facts {
    pub council: String,
    pub region: String,
    /// "2026/2027".
    pub year: String,
    /// "9 May 2027".
    pub date: String,
    pub adviser: String,
    /// The scoring module's sentence: "Overall, … is meeting …".
    pub summary: String,
    pub recommendations: Vec<String>,
    pub benchmark_5_not_scored: bool,
    pub annex: Vec<AnnexRow>,
    /// Not yet published: said on every page of it.
    pub draft: bool,
    /// The template version it is written from (0: the shipped default).
    pub template_version: i32,
}

/// One part of the letter's body, named for what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The template field (or "summary", "recommendations", "adviser") it comes from.
    pub key: String,
    pub kind: PartKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PartKind {
    Heading { text: String },
    Paragraph { text: String },
    Numbered { items: Vec<String> },
}

/// The letter, composed: what every rendering of it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub draft: bool,
    pub template_version: i32,
    pub sender: Vec<String>,
    pub addressee: Vec<String>,
    pub council: String,
    pub cc: String,
    pub date: String,
    pub salutation: String,
    pub title: String,
    pub body: Vec<Part>,
    pub sign_off: String,
    pub signature: Vec<String>,
    pub annex_heading: String,
    pub annex: Vec<AnnexRow>,
    pub attribution: String,
}

fn fill(text: &str, facts: &Facts) -> String {
    text.replace("{region}", &facts.region)
        .replace("{council}", &facts.council)
        .replace("{year}", &facts.year)
}

/// "Overall, X is …" → "overall, X is …", to follow "In terms of your performance,".
pub fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The letter from the cycle's template, the adviser's lines and the facts, in the Home
/// Office's order.
pub fn compose(template: &Template, adviser: &AdviserText, facts: &Facts) -> Letter {
    let mut body = Vec::new();
    let mut paragraph = |key: &str, text: String| {
        if !text.trim().is_empty() {
            body.push(Part {
                key: key.to_owned(),
                kind: PartKind::Paragraph { text },
            });
        }
    };
    paragraph("opening", fill(&template.opening, facts));
    for p in &template.statutory {
        paragraph("statutory", fill(p, facts));
    }
    for p in &template.process {
        paragraph("process", fill(p, facts));
    }
    for p in &template.threat_and_risk {
        paragraph("threat_and_risk", fill(p, facts));
    }
    if facts.benchmark_5_not_scored {
        paragraph("benchmark_5", fill(&template.benchmark_5, facts));
    }
    paragraph("year_on_year", fill(&template.year_on_year, facts));
    body.push(Part {
        key: "summary_heading".to_owned(),
        kind: PartKind::Heading {
            text: fill(&template.summary_heading, facts),
        },
    });
    body.push(Part {
        key: "summary".to_owned(),
        kind: PartKind::Paragraph {
            text: format!(
                "{} {}",
                fill(&template.summary_lead, facts),
                lower_first(&facts.summary)
            ),
        },
    });
    if !facts.recommendations.is_empty() {
        body.push(Part {
            key: "recommendations_intro".to_owned(),
            kind: PartKind::Paragraph {
                text: fill(&template.recommendations_intro, facts),
            },
        });
        body.push(Part {
            key: "recommendations".to_owned(),
            kind: PartKind::Numbered {
                items: facts.recommendations.clone(),
            },
        });
    }
    let mut paragraph = |key: &str, text: String| {
        if !text.trim().is_empty() {
            body.push(Part {
                key: key.to_owned(),
                kind: PartKind::Paragraph { text },
            });
        }
    };
    paragraph("adviser", adviser.extra.trim().to_owned());
    paragraph("annex_offer", fill(&template.annex_offer, facts));
    paragraph("sharing", fill(&template.sharing, facts));
    let thanks = [adviser.thanks.trim(), template.thanks.trim()]
        .iter()
        .filter(|t| !t.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    paragraph("thanks", fill(&thanks, facts));
    paragraph("closing", fill(&template.closing, facts));
    Letter {
        draft: facts.draft,
        template_version: facts.template_version,
        sender: lines(&template.sender),
        addressee: lines(&adviser.addressee),
        council: facts.council.clone(),
        cc: adviser.cc.trim().to_owned(),
        date: facts.date.clone(),
        salutation: adviser.salutation.trim().to_owned(),
        title: fill(&template.title, facts),
        body,
        sign_off: template.sign_off.clone(),
        signature: vec![facts.adviser.clone(), template.signature_role.clone()],
        annex_heading: template.annex_heading.clone(),
        annex: facts.annex.clone(),
        attribution: template.attribution.clone(),
    }
}

/// The column widths of the annex, in twentieths of a point: number, benchmark, score, summary.
const ANNEX: [usize; 4] = [500, 2900, 900, 5338];

/// The letter as a Word document: A4, styled, the annex on a page of its own, "Draft" on every
/// page until it is published, page numbers in the footer. `created` dates the file (the
/// publication time), so the same letter gives the same document.
pub fn docx(letter: &Letter, created: &str) -> anyhow::Result<Vec<u8>> {
    let draft = letter.draft.then_some("DRAFT – not yet issued");
    let mut doc = word::document(false, draft, created);
    doc = doc.add_paragraph(word::strong(&letter.sender.join("\n"), "Normal"));
    let mut to = letter.addressee.clone();
    to.push(letter.council.clone());
    doc = doc.add_paragraph(word::paragraph(&to.join("\n"), "Normal"));
    if !letter.cc.is_empty() {
        doc = doc.add_paragraph(word::paragraph(&format!("CC: {}", letter.cc), "Normal"));
    }
    doc = doc.add_paragraph(word::paragraph(&letter.date, "Normal"));
    if !letter.salutation.is_empty() {
        doc = doc.add_paragraph(word::paragraph(&letter.salutation, "Normal"));
    }
    let title = if letter.draft {
        format!("Draft: {}", letter.title)
    } else {
        letter.title.clone()
    };
    doc = doc.add_paragraph(word::heading(&title, 1));
    for part in &letter.body {
        match &part.kind {
            PartKind::Heading { text } => doc = doc.add_paragraph(word::heading(text, 2)),
            PartKind::Paragraph { text } => {
                doc = doc.add_paragraph(word::paragraph(text, "Normal"))
            }
            PartKind::Numbered { items } => {
                for (i, item) in items.iter().enumerate() {
                    doc = doc.add_paragraph(
                        word::paragraph(&format!("{}. {item}", i + 1), "Normal").indent(
                            Some(360),
                            Some(docx_rs::SpecialIndentType::Hanging(360)),
                            None,
                            None,
                        ),
                    );
                }
            }
        }
    }
    doc = doc
        .add_paragraph(word::paragraph(&letter.sign_off, "Normal"))
        .add_paragraph(word::strong(&letter.signature.join("\n"), "Normal"));
    doc = doc.add_paragraph(word::heading(&letter.annex_heading, 1).page_break_before(true));
    let rows = letter
        .annex
        .iter()
        .map(|r| {
            vec![
                vec![r.number.to_string()],
                vec![r.title.clone(), r.standard.clone()],
                vec![r.score.clone()],
                vec![r.summary.clone()],
            ]
        })
        .collect();
    doc = doc.add_table(word::table(
        &ANNEX,
        &["", "Benchmark", "Score 1-5", "Summary of scoring"],
        &[false, true, false, false],
        rows,
    ));
    doc = doc.add_paragraph(word::paragraph(&letter.attribution, "Footer"));
    word::bytes(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(b5_not_scored: bool) -> Facts {
        Facts {
            council: "Ashbridge Borough Council".into(),
            region: "North Vale".into(),
            year: "2026/2027".into(),
            date: "9 May 2027".into(),
            adviser: "Nadia Hussain".into(),
            summary: "Overall, Ashbridge Borough Council is meeting the requirements of the Prevent Duty in all areas.".into(),
            recommendations: vec!["Name a Channel deputy chair".into()],
            benchmark_5_not_scored: b5_not_scored,
            annex: Vec::new(),
            draft: true,
            template_version: 0,
        }
    }

    fn keys(letter: &Letter) -> Vec<&str> {
        let mut keys: Vec<&str> = letter.body.iter().map(|p| p.key.as_str()).collect();
        keys.dedup();
        keys
    }

    #[test]
    fn the_shipped_template_is_the_home_offices_letter() {
        let t = default_template();
        assert!(
            t.statutory[0].starts_with("Section 26 of the Counter-Terrorism and Security Act 2015")
        );
        assert_eq!(t.title, "Annual Prevent Duty Assurance {year}");
        assert!(t.attribution.contains("Open Government Licence v3.0"));
    }

    #[test]
    fn the_letter_follows_the_home_offices_order_with_the_advisers_lines() {
        let adviser = AdviserText {
            addressee: "Sam Patel\nHead of Community Safety".into(),
            salutation: "Dear Sam".into(),
            cc: "Jo Whitfield".into(),
            thanks: "I would like to thank Sam for engaging with this process.".into(),
            extra: "Your work with schools stood out this year.".into(),
        };
        let letter = compose(&default_template(), &adviser, &facts(true));
        assert_eq!(
            keys(&letter),
            [
                "opening",
                "statutory",
                "process",
                "threat_and_risk",
                "benchmark_5",
                "year_on_year",
                "summary_heading",
                "summary",
                "recommendations_intro",
                "recommendations",
                "adviser",
                "annex_offer",
                "sharing",
                "thanks",
                "closing"
            ]
        );
        assert_eq!(letter.title, "Annual Prevent Duty Assurance 2026/2027");
        assert_eq!(letter.addressee, ["Sam Patel", "Head of Community Safety"]);
        let PartKind::Paragraph { text } = &letter.body[0].kind else {
            panic!()
        };
        assert_eq!(
            text,
            "I am writing as the Home Office Regional Prevent Adviser for the North Vale region, covering Ashbridge Borough Council."
        );
        let thanks = letter
            .body
            .iter()
            .find(|p| p.key == "thanks")
            .expect("thanks");
        let PartKind::Paragraph { text } = &thanks.kind else {
            panic!()
        };
        assert!(text.starts_with("I would like to thank Sam for engaging with this process. I appreciate that this can be an onerous process"));
        let summary = letter
            .body
            .iter()
            .find(|p| p.key == "summary")
            .expect("summary");
        assert_eq!(
            summary.kind,
            PartKind::Paragraph {
                text: "In terms of your performance, overall, Ashbridge Borough Council is meeting the requirements of the Prevent Duty in all areas.".into()
            }
        );
    }

    #[test]
    fn with_benchmark_5_scored_there_is_no_benchmark_5_paragraph_and_blank_parts_go() {
        let letter = compose(&default_template(), &AdviserText::default(), &facts(false));
        let keys = keys(&letter);
        assert!(!keys.contains(&"benchmark_5"));
        assert!(!keys.contains(&"adviser"), "no paragraph of the adviser's");
    }

    #[test]
    fn a_letter_makes_a_word_document_that_says_draft_until_published() {
        let letter = compose(&default_template(), &AdviserText::default(), &facts(false));
        let bytes = docx(&letter, "2027-05-09T10:00:00Z").expect("a document");
        let again = docx(&letter, "2027-05-09T10:00:00Z").expect("a document");
        assert_eq!(bytes, again, "the same letter gives the same document");
        let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        let mut names: Vec<String> = zip
            .file_names()
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .collect();
        names.sort();
        assert!(names.contains(&"word/styles.xml".to_owned()), "{names:?}");
        assert!(
            names.iter().any(|n| n.starts_with("word/header")),
            "{names:?}"
        );
        assert!(
            names.iter().any(|n| n.starts_with("word/footer")),
            "{names:?}"
        );
    }
}
