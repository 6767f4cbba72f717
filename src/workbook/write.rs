//! Writing the whole self-assessment: a summary sheet (each benchmark's RAG, proposed score,
//! justification and comments), a sheet per benchmark (each question and each of its prompts
//! on a row of its own, the criteria in words with a Met column, the actions with room for
//! more), and the actions on no benchmark. What people fill in is unlocked and offers its
//! choices as a list; the rest is locked (no password: protection keeps the ids the import
//! needs as exported, it hides nothing). Each sheet prints on A4 landscape, one page wide.

use super::xlsx::{DataValidation, Style, Worksheet, XlsxError};

use super::{
    ACTION_HEADERS, Book, BookAction, CRITERIA_HEADERS, NEW_ACTION_ROWS, OTHER_ACTIONS, Part,
    QUESTION_HEADERS, RAG_LABELS, REMINDER, SUMMARY, SUMMARY_HEADERS, SUMMARY_TOP, Statuses,
    YES_NO, fit_row, item_text, parts, prompt_id, rag_label, sheet_name,
};
use crate::framework::Framework;

/// The styles of a workbook's cells (`xlsx::Style`, one style sheet for every workbook).
struct Formats {
    heading: Style,
    header: Style,
    /// Read only: locked, shaded.
    fixed: Style,
    fixed_bold: Style,
    /// To fill in: unlocked.
    open: Style,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            heading: Style::Heading,
            header: Style::Header,
            fixed: Style::Fixed,
            fixed_bold: Style::FixedBold,
            open: Style::Open,
        }
    }
}

/// A choice from a list, with a message saying what the cell takes.
fn choice(list: &[&str], what: &str) -> Result<DataValidation, XlsxError> {
    DataValidation::list(
        list,
        "Choose from the list",
        &format!("{what} must be one of: {}", list.join(", ")),
    )
}

/// Print setup every sheet shares: A4 landscape, one page wide, the heading rows repeated.
fn print_setup(ws: &mut Worksheet, title: &str, repeat: Option<u32>) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_width();
    if let Some(row) = repeat {
        ws.set_repeat_row(row)?;
    }
    ws.set_header(format!("&L&B{}&R&A", title.replace('&', "&&")));
    ws.set_footer("&CPage &P of &N");
    ws.protect();
    Ok(())
}

/// Writes the whole assessment: a summary sheet, a sheet per benchmark, and the actions on no
/// benchmark when there are any.
pub fn write(book: &Book, framework: &Framework, statuses: Statuses) -> Result<Vec<u8>, XlsxError> {
    let mut wb = super::new_workbook();
    let f = Formats::new();
    let title = format!(
        "{}: {} {}",
        book.council, framework.assessment_name, book.cycle
    );
    let rating_labels: Vec<&str> = framework.ratings.iter().map(|r| r.label.as_str()).collect();

    let ws = wb.add_worksheet();
    ws.set_name(SUMMARY)?;
    ws.write_string_with_format(0, 0, &framework.title, &f.heading)?;
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
        ws.write_string(r as u32 + 1, 0, *k)?;
        ws.write_string(r as u32 + 1, 1, *v)?;
    }
    ws.write_string(5, 0, REMINDER)?;
    ws.write_string(6, 0, &framework.attribution)?;
    ws.write_string(
        7,
        0,
        if framework.scored {
            "Fill in the white cells; choose RAG and proposed score from their lists. Each benchmark's sheet has its questions, criteria and actions."
        } else {
            "This has no scores: the ratings and evidence are on each key area's sheet, with its areas for improvement."
        },
    )?;
    let top = SUMMARY_TOP;
    for (c, h) in SUMMARY_HEADERS.iter().enumerate() {
        ws.write_string_with_format(top, c as u16, *h, &f.header)?;
    }
    for (c, w) in [11.0, 36.0, 10.0, 12.0, 60.0, 60.0, 12.0]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    for (i, b) in book.benchmarks.iter().enumerate() {
        let r = top + 1 + i as u32;
        let section = framework.section(b.number);
        let title = section.map_or("", |s| s.title.as_str());
        ws.write_number_with_format(r, 0, f64::from(b.number), &f.fixed_bold)?;
        ws.write_string_with_format(r, 1, title, &f.fixed)?;
        ws.write_string_with_format(
            r,
            2,
            b.rag.as_deref().map(rag_label).unwrap_or_default(),
            &f.open,
        )?;
        let proposed = match (b.proposed_score, b.proposed_not_scored) {
            (Some(s), _) => s.to_string(),
            (None, true) => "Not scored".to_owned(),
            _ => String::new(),
        };
        ws.write_string_with_format(r, 3, &proposed, &f.open)?;
        ws.write_string_with_format(r, 4, &b.justification, &f.open)?;
        ws.write_string_with_format(r, 5, &b.comments, &f.open)?;
        ws.write_string_with_format(r, 6, &b.agreed, &f.fixed)?;
        fit_row(
            ws,
            r,
            &[(36.0, title), (60.0, &b.justification), (60.0, &b.comments)],
        )?;
        if framework.scored {
            let mut scores = vec!["1", "2", "3", "4", "5"];
            if section.is_some_and(|s| s.may_be_not_scored) {
                scores.push("Not scored");
            }
            ws.add_data_validation(r, 3, r, 3, &choice(&scores, "The proposed score")?)?;
        }
    }
    let last = top + book.benchmarks.len() as u32;
    if framework.scored {
        ws.add_data_validation(
            top + 1,
            2,
            last.max(top + 1),
            2,
            &choice(&RAG_LABELS, "The RAG")?,
        )?;
    }
    ws.set_freeze_panes(top + 1, 0)?;
    print_setup(ws, &title, Some(top))?;

    for b in &book.benchmarks {
        let Some(section) = framework.section(b.number) else {
            continue;
        };
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(framework, b.number))?;
        ws.write_string_with_format(
            0,
            1,
            format!(
                "{} {}: {}",
                framework.section_label, b.number, section.title
            ),
            &f.heading,
        )?;
        ws.write_string(
            1,
            1,
            if framework.scored {
                "Fill in the white cells: a status and evidence for each question, evidence for its prompts if you answer them one by one, Met for each criterion your evidence shows, and the actions. Choose from the lists; the grey cells are read only."
            } else {
                "Fill in the white cells: a rating (in the Status column) and the evidence or further details for each statement (Amber and Red need details and an area for improvement with a timescale; N/A needs a reason), the contacts asked for, and the areas for improvement. Choose from the lists; the grey cells are read only."
            },
        )?;
        ws.write_string(2, 1, REMINDER)?;
        for (c, w) in [12.0, 62.0, 16.0, 70.0, 14.0, 14.0, 10.0]
            .iter()
            .enumerate()
        {
            ws.set_column_width(c as u16, *w)?;
        }
        // Column A holds the ids the import matches by: kept, but out of sight.
        ws.set_column_hidden(0)?;

        let top = 4;
        for (c, h) in QUESTION_HEADERS.iter().enumerate() {
            ws.write_string_with_format(top, c as u16, *h, &f.header)?;
        }
        let mut r = top + 1;
        let ratings = choice(&rating_labels, "The status")?;
        let yes_no = choice(&YES_NO, "This")?;
        for item in &section.items {
            let answer = b.answers.iter().find(|a| a.code == item.code);
            ws.write_string_with_format(r, 0, &item.code, &f.fixed)?;
            ws.write_string_with_format(r, 1, item_text(framework, item), &f.fixed_bold)?;
            let status = answer
                .and_then(|a| a.status.as_deref())
                .and_then(|s| framework.rating_label(s))
                .unwrap_or_default();
            ws.write_string_with_format(r, 2, status, &f.open)?;
            ws.add_data_validation(r, 2, r, 2, &ratings)?;
            ws.write_string_with_format(r, 3, answer.map_or("", |a| a.evidence.as_str()), &f.open)?;
            let review = if answer.is_some_and(|a| a.needs_review) {
                "Yes"
            } else {
                "No"
            };
            ws.write_string_with_format(r, 4, review, &f.open)?;
            ws.add_data_validation(r, 4, r, 4, &yes_no)?;
            let question = item_text(framework, item);
            let evidence = answer.map_or("", |a| a.evidence.as_str());
            fit_row(ws, r, &[(62.0, &question), (70.0, evidence)])?;
            r += 1;
            for (id, part) in parts(framework, item) {
                let Part::Field(i) = part else { continue };
                let field = &item.fields[i];
                let value = answer
                    .and_then(|a| a.fields.get(&field.code))
                    .map_or("", String::as_str);
                ws.write_string_with_format(r, 0, &id, &f.fixed)?;
                ws.write_string_with_format(r, 1, format!("    {}", field.label), &f.fixed)?;
                ws.write_blank(r, 2, &f.fixed)?;
                ws.write_string_with_format(r, 3, value, &f.open)?;
                ws.write_blank(r, 4, &f.fixed)?;
                r += 1;
            }
            let prompts: &[String] = if framework.prompts_are_footnotes {
                &[]
            } else {
                &item.prompts
            };
            for (p, text) in prompts.iter().enumerate() {
                let evidence = answer
                    .and_then(|a| a.prompt_evidence.get(p))
                    .map_or("", String::as_str);
                ws.write_string_with_format(r, 0, prompt_id(&item.code, p), &f.fixed)?;
                ws.write_string_with_format(
                    r,
                    1,
                    format!("    Prompt {}: {text}", p + 1),
                    &f.fixed,
                )?;
                ws.write_blank(r, 2, &f.fixed)?;
                ws.write_string_with_format(r, 3, evidence, &f.open)?;
                ws.write_blank(r, 4, &f.fixed)?;
                fit_row(
                    ws,
                    r,
                    &[
                        (62.0, &format!("    Prompt {}: {text}", p + 1)),
                        (70.0, evidence),
                    ],
                )?;
                r += 1;
            }
        }
        ws.set_freeze_panes(top + 1, 2)?;

        r += 1;
        for (c, h) in CRITERIA_HEADERS.iter().enumerate() {
            ws.write_string_with_format(r, c as u16, *h, &f.header)?;
        }
        if !framework.scored {
            ws.write_string(r + 1, 1, "This has no scoring criteria.")?;
            r += 1;
        }
        r += 1;
        for level in section.levels.iter().filter(|l| l.score >= 2) {
            for c in &level.criteria {
                ws.write_string_with_format(r, 0, &c.id, &f.fixed)?;
                ws.write_string_with_format(
                    r,
                    1,
                    format!("Level {}: {}", level.score, c.text),
                    &f.fixed,
                )?;
                let met = if b.criteria_met.contains(&c.id) {
                    "Yes"
                } else {
                    "No"
                };
                ws.write_string_with_format(r, 2, met, &f.open)?;
                ws.add_data_validation(r, 2, r, 2, &yes_no)?;
                fit_row(
                    ws,
                    r,
                    &[(62.0, &format!("Level {}: {}", level.score, c.text))],
                )?;
                r += 1;
            }
        }

        r += 1;
        ws.write_string_with_format(
            r,
            1,
            if framework.scored {
                "Actions".to_owned()
            } else {
                format!("{}s and timescales", framework.action_label)
            },
            &f.heading,
        )?;
        ws.write_string(
            r + 1,
            1,
            "Add a new action in an empty row; actions not listed here are kept.",
        )?;
        write_actions(ws, r + 2, &b.actions, statuses, &f)?;
        print_setup(ws, &title, Some(top))?;
    }
    if !book.other_actions.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name(OTHER_ACTIONS)?;
        ws.write_string_with_format(
            0,
            1,
            "Actions on no benchmark: the Home Office's recommended actions",
            &f.heading,
        )?;
        ws.write_string(
            1,
            1,
            "Change the owner, target, status or RAG here; add new actions on a benchmark's sheet.",
        )?;
        ws.write_string(2, 1, REMINDER)?;
        for (c, w) in [12.0, 62.0, 16.0, 40.0, 14.0, 14.0, 10.0]
            .iter()
            .enumerate()
        {
            ws.set_column_width(c as u16, *w)?;
        }
        ws.set_column_hidden(0)?;
        write_actions_only(ws, 4, &book.other_actions, statuses, &f)?;
        print_setup(ws, &title, Some(4))?;
    }
    wb.save_to_buffer(super::ZIP_LEVEL)
}

/// The actions table at `top`, with empty open rows under it for new actions.
fn write_actions(
    ws: &mut Worksheet,
    top: u32,
    actions: &[BookAction],
    statuses: Statuses,
    f: &Formats,
) -> Result<(), XlsxError> {
    let last = write_rows(ws, top, actions, statuses, f)?;
    for r in last + 1..=last + NEW_ACTION_ROWS {
        ws.write_blank(r, 0, &f.fixed)?;
        for c in 1..ACTION_HEADERS.len() as u16 {
            ws.write_blank(r, c, &f.open)?;
        }
    }
    validations(ws, top + 1, last + NEW_ACTION_ROWS, statuses)
}

/// The actions table at `top`, with no room for new ones (they are added on a benchmark).
fn write_actions_only(
    ws: &mut Worksheet,
    top: u32,
    actions: &[BookAction],
    statuses: Statuses,
    f: &Formats,
) -> Result<(), XlsxError> {
    let last = write_rows(ws, top, actions, statuses, f)?;
    validations(ws, top + 1, last.max(top + 1), statuses)
}

/// The heading row and a row per action; the last row written.
fn write_rows(
    ws: &mut Worksheet,
    top: u32,
    actions: &[BookAction],
    statuses: Statuses,
    f: &Formats,
) -> Result<u32, XlsxError> {
    for (c, h) in ACTION_HEADERS.iter().enumerate() {
        ws.write_string_with_format(top, c as u16, *h, &f.header)?;
    }
    let mut r = top;
    for a in actions {
        r += 1;
        ws.write_string_with_format(
            r,
            0,
            a.id.map(|i| i.to_string()).unwrap_or_default(),
            &f.fixed,
        )?;
        ws.write_string_with_format(r, 1, &a.description, &f.open)?;
        ws.write_string_with_format(r, 2, a.question.as_deref().unwrap_or_default(), &f.open)?;
        ws.write_string_with_format(r, 3, &a.owner, &f.open)?;
        ws.write_string_with_format(r, 4, &a.target_text, &f.open)?;
        let status = statuses
            .iter()
            .find(|(c, _)| *c == a.status)
            .map_or("", |(_, l)| *l);
        ws.write_string_with_format(r, 5, status, &f.open)?;
        ws.write_string_with_format(
            r,
            6,
            a.rag.as_deref().map(rag_label).unwrap_or_default(),
            &f.open,
        )?;
        fit_row(ws, r, &[(62.0, &a.description), (70.0, &a.owner)])?;
    }
    Ok(r)
}

fn validations(
    ws: &mut Worksheet,
    first: u32,
    last: u32,
    statuses: Statuses,
) -> Result<(), XlsxError> {
    let labels: Vec<&str> = statuses.iter().map(|(_, l)| *l).collect();
    ws.add_data_validation(first, 5, last, 5, &choice(&labels, "The status")?)?;
    ws.add_data_validation(first, 6, last, 6, &choice(&RAG_LABELS, "The RAG")?)?;
    Ok(())
}
