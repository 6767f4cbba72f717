//! What every Word document of the service shares, written with docx-rs: A4 pages with margins,
//! named styles (body text with spacing, headings, table text), a footer with "Page n of m",
//! and tables with a grid of fixed column widths that Word and LibreOffice both lay out.

use docx_rs::{
    AlignmentType, BreakType, Docx, Footer, Header, LineSpacing, NumPages, PageMargin, PageNum,
    PageOrientationType, Paragraph, Run, RunFonts, Shading, Style, StyleType, Table, TableCell,
    TableLayoutType, TableRow, WidthType,
};

/// A4 in twentieths of a point.
const A4_SHORT: u32 = 11906;
const A4_LONG: u32 = 16838;
/// 2 cm margins.
const MARGIN: i32 = 1134;

/// The width a table may take between the margins, in twentieths of a point.
pub fn text_width(landscape: bool) -> usize {
    let page = if landscape { A4_LONG } else { A4_SHORT };
    page as usize - 2 * MARGIN as usize
}

/// A new document: A4 (landscape or portrait), margins, styles, page numbers in the footer,
/// and `header` (say, "Draft") at the top of every page when given.
pub fn document(landscape: bool, header: Option<&str>, created: &str) -> Docx {
    let (w, h) = if landscape {
        (A4_LONG, A4_SHORT)
    } else {
        (A4_SHORT, A4_LONG)
    };
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .style("Footer")
            .add_run(Run::new().add_text("Page "))
            .add_page_num(PageNum::new())
            .add_run(Run::new().add_text(" of "))
            .add_num_pages(NumPages::new()),
    );
    let mut docx = Docx::new()
        .page_size(w, h)
        .page_orient(if landscape {
            PageOrientationType::Landscape
        } else {
            PageOrientationType::Portrait
        })
        .page_margin(PageMargin {
            top: MARGIN,
            left: MARGIN,
            bottom: MARGIN,
            right: MARGIN,
            header: 567,
            footer: 567,
            gutter: 0,
        })
        .default_fonts(RunFonts::new().ascii("Arial").hi_ansi("Arial").cs("Arial"))
        .default_size(22)
        .default_line_spacing(LineSpacing::new().after(160).line(264))
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("Heading 1")
                .based_on("Normal")
                .next("Normal")
                .bold()
                .size(32)
                .line_spacing(LineSpacing::new().before(240).after(160)),
        )
        .add_style(
            Style::new("Heading2", StyleType::Paragraph)
                .name("Heading 2")
                .based_on("Normal")
                .next("Normal")
                .bold()
                .size(26)
                .line_spacing(LineSpacing::new().before(240).after(120)),
        )
        .add_style(
            Style::new("TableText", StyleType::Paragraph)
                .name("Table text")
                .based_on("Normal")
                .size(19)
                .line_spacing(LineSpacing::new().before(0).after(60)),
        )
        .add_style(
            Style::new("Footer", StyleType::Paragraph)
                .name("Footer")
                .based_on("Normal")
                .size(18),
        )
        .footer(footer)
        .created_at(created)
        .updated_at(created);
    if let Some(text) = header {
        docx = docx.header(
            Header::new().add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Right)
                    .add_run(Run::new().add_text(text).bold().color("D4351C")),
            ),
        );
    }
    docx
}

/// A run of text keeping the line breaks it was written with.
fn run(text: &str, bold: bool) -> Run {
    let mut run = Run::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        run = run.add_text(line);
    }
    if bold { run.bold() } else { run }
}

/// A paragraph of text in `style`.
pub fn paragraph(text: &str, style: &str) -> Paragraph {
    Paragraph::new().style(style).add_run(run(text, false))
}

/// A paragraph of bold text in `style`.
pub fn strong(text: &str, style: &str) -> Paragraph {
    Paragraph::new().style(style).add_run(run(text, true))
}

/// A heading that stays with what follows it.
pub fn heading(text: &str, level: u8) -> Paragraph {
    let style = if level <= 1 { "Heading1" } else { "Heading2" };
    Paragraph::new()
        .style(style)
        .keep_next(true)
        .add_run(Run::new().add_text(text))
}

/// One cell of a table: paragraphs of table text, the first bold when `bold`.
pub fn cell(lines: &[&str], width: usize, bold: bool) -> TableCell {
    let mut cell = TableCell::new().width(width, WidthType::Dxa);
    for (i, line) in lines.iter().enumerate() {
        cell = cell.add_paragraph(if bold && i == 0 {
            strong(line, "TableText")
        } else {
            paragraph(line, "TableText")
        });
    }
    if lines.is_empty() {
        cell = cell.add_paragraph(Paragraph::new().style("TableText"));
    }
    cell
}

/// A table with fixed column widths (twentieths of a point), a shaded heading row and grid
/// lines; each row's cells are paragraphs, the first of them bold in the columns `strong` says.
pub fn table(
    widths: &[usize],
    headings: &[&str],
    strong: &[bool],
    rows: Vec<Vec<Vec<String>>>,
) -> Table {
    let head = TableRow::new(
        headings
            .iter()
            .zip(widths)
            .map(|(h, w)| cell(&[h], *w, true).shading(Shading::new().fill("F3F2F1")))
            .collect(),
    )
    .cant_split();
    let mut table = Table::new(vec![head])
        .set_grid(widths.to_vec())
        .width(widths.iter().sum(), WidthType::Dxa)
        .layout(TableLayoutType::Fixed);
    for row in rows {
        let cells = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(c, (lines, w))| {
                let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
                cell(&lines, *w, strong.get(c).copied().unwrap_or(false))
            })
            .collect();
        table = table.add_row(TableRow::new(cells).cant_split());
    }
    table
}

/// The document's bytes.
pub fn bytes(docx: Docx) -> anyhow::Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .map_err(|e| anyhow::anyhow!("writing a Word document: {e}"))?;
    Ok(out.into_inner())
}
