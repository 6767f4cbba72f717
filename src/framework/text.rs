//! The plain-text format of long framework text (guidance, introductions, definitions): blank
//! lines between paragraphs, `- ` list items, `## ` subheadings. Parsed into blocks so templates
//! render it with ordinary escaping and no HTML in the data.

use serde::Serialize;

/// One block of long text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    List(Vec<String>),
}

/// Splits long text into headings, paragraphs and bulleted lists.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    for chunk in text.split("\n\n") {
        let lines: Vec<&str> = chunk
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            continue;
        }
        if lines.iter().all(|l| l.starts_with("- ")) {
            out.push(Block::List(
                lines.iter().map(|l| l[2..].trim().to_owned()).collect(),
            ));
        } else if lines.len() == 1 && lines[0].starts_with("## ") {
            out.push(Block::Heading(lines[0][3..].trim().to_owned()));
        } else {
            out.push(Block::Paragraph(lines.join(" ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_and_headings_are_told_apart() {
        let text = "## Assessing risk\n\nFirst line\ncontinues.\n\n- one\n- two\n\nLast.";
        assert_eq!(
            blocks(text),
            vec![
                Block::Heading("Assessing risk".into()),
                Block::Paragraph("First line continues.".into()),
                Block::List(vec!["one".into(), "two".into()]),
                Block::Paragraph("Last.".into()),
            ]
        );
    }

    #[test]
    fn a_paragraph_that_merely_contains_a_dash_line_stays_a_paragraph() {
        assert_eq!(
            blocks("Intro:\n- item"),
            vec![Block::Paragraph("Intro: - item".into())]
        );
    }
}
