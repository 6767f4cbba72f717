//! The assurance letter: a page that prints on A4, and the same content as a Word document.

use std::io::Write;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::Head;
use crate::domain::{Score, long_date};
use crate::error::{AppError, AppResult};
use crate::scoring::{Band, summary};
use crate::web::assessments::{framework, object, visible_head};
use crate::web::chrome::Chrome;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments/{id}/letter", get(page))
        .route("/assessments/{id}/letter.docx", get(word))
}

/// The Home Office's explanation of the scale (seeds 001; Crown copyright, OGL v3.0).
pub const SCALE: &str = "The assurance process uses a scoring system based on a scale of 1-5. A score of 3 against a benchmark indicates that that Duty is being met, whereas a score of 1-2 indicates that statutory responsibilities are not being met, and a score of 4-5 indicates that the Duty requirements are being exceeded.";

/// One row of the annex.
pub struct AnnexRow {
    pub benchmark: String,
    pub score: String,
    pub summary: String,
}

/// Everything the letter says.
pub struct Letter {
    pub to: String,
    pub council: String,
    pub cc: Vec<String>,
    pub date: String,
    pub title: String,
    pub adviser: String,
    pub region: String,
    pub summary: String,
    pub recommendations: Vec<String>,
    pub annex: Vec<AnnexRow>,
}

#[derive(Template)]
#[template(path = "letter/letter.html")]
struct LetterPage {
    chrome: Chrome,
    head: Head,
    letter: Letter,
    scale: &'static str,
}

async fn build(state: &AppState, head: &Head) -> AppResult<Letter> {
    let fw = framework(state)?;
    let people = db::assessments::letter_people(&state.db, head.id).await?;
    let rows = db::assessments::review_rows(&state.db, head.id).await?;
    let recommendations = db::assessments::recommendations(&state.db, head.id).await?;
    let mut bands = Vec::new();
    let mut annex = Vec::new();
    for section in &fw.sections {
        let Some(r) = rows.iter().find(|r| r.number as u32 == section.number) else {
            continue;
        };
        let score = r
            .agreed_score
            .and_then(|s| u8::try_from(s).ok())
            .and_then(Score::new);
        if let Some(score) = score {
            bands.push(Band::of(score));
        }
        annex.push(AnnexRow {
            benchmark: format!("{}. {}", section.number, section.title),
            score: score.map_or_else(|| "N/A".to_owned(), |s| s.to_string()),
            summary: r.adviser_summary.clone(),
        });
    }
    let start: i32 = head
        .cycle_label
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(0);
    let mut leads = people.leads.into_iter();
    Ok(Letter {
        to: leads
            .next()
            .unwrap_or_else(|| "The Prevent lead".to_owned()),
        council: head.organisation_name.clone(),
        cc: leads.chain(people.board).collect(),
        date: people
            .agreed_at
            .map(|t| long_date(t.date()))
            .unwrap_or_default(),
        title: format!("Annual Prevent Duty Assurance {start}/{}", start + 1),
        adviser: people
            .adviser
            .unwrap_or_else(|| "Regional Prevent Adviser".to_owned()),
        region: people.region_name,
        summary: summary(&head.organisation_name, &bands),
        recommendations: recommendations.into_iter().map(|(_, text)| text).collect(),
        annex,
    })
}

/// The letter exists once scores are agreed; the adviser sees it then, the council once published.
async fn letter_head(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
) -> AppResult<Head> {
    let head = visible_head(state, who, ip, id).await?;
    let allowed = match head.state.as_str() {
        "agreed" => policy::allows(who, Action::Review, object(&head)),
        "published" => true,
        _ => false,
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
    Ok(head)
}

async fn page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = letter_head(&state, &who, ip, id).await?;
    let letter = build(&state, &head).await?;
    let page = LetterPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        head,
        letter,
        scale: SCALE,
    };
    Ok(Html(page.render()?).into_response())
}

async fn word(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = letter_head(&state, &who, ip, id).await?;
    let letter = build(&state, &head).await?;
    {
        let bytes = docx(&letter).map_err(|e| AppError::Internal(e.into()))?;
        let name = format!(
            "Prevent assurance letter {} {}.docx",
            head.organisation_name,
            head.cycle_label.replace('/', "-")
        );
        let headers = [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    .to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", name.replace('"', "")),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ];
        Ok((headers, bytes).into_response())
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A paragraph of WordprocessingML, bold or not, keeping line breaks.
fn paragraph(text: &str, bold: bool) -> String {
    let props = if bold { "<w:rPr><w:b/></w:rPr>" } else { "" };
    let runs: Vec<String> = text
        .split('\n')
        .map(|line| {
            format!(
                "<w:r>{props}<w:t xml:space=\"preserve\">{}</w:t></w:r>",
                xml_escape(line)
            )
        })
        .collect();
    format!("<w:p>{}</w:p>", runs.join("<w:r><w:br/></w:r>"))
}

fn cell(text: &str, bold: bool) -> String {
    format!(
        "<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/></w:tcPr>{}</w:tc>",
        paragraph(text, bold)
    )
}

/// The letter as a minimal Word document (document.xml in a zip with its content types).
pub fn docx(letter: &Letter) -> zip::result::ZipResult<Vec<u8>> {
    let mut body = String::new();
    body.push_str(&paragraph(&letter.to, false));
    body.push_str(&paragraph(&letter.council, true));
    if !letter.cc.is_empty() {
        body.push_str(&paragraph(&format!("CC: {}", letter.cc.join(", ")), false));
    }
    body.push_str(&paragraph(&letter.date, false));
    body.push_str(&paragraph(&format!("Dear {}", letter.to), false));
    body.push_str(&paragraph(&letter.title, true));
    body.push_str(&paragraph(&format!("I am writing as the Home Office Regional Prevent Adviser for the {} region, covering {}.", letter.region, letter.council), false));
    body.push_str(&paragraph(SCALE, false));
    body.push_str(&paragraph("Summary of Performance", true));
    body.push_str(&paragraph(
        &format!(
            "In terms of your performance, {}",
            lower_first(&letter.summary)
        ),
        false,
    ));
    if !letter.recommendations.is_empty() {
        body.push_str(&paragraph("The following actions are recommended in order to assist you in responding to the outcome of this process, namely:", false));
        for (i, r) in letter.recommendations.iter().enumerate() {
            body.push_str(&paragraph(&format!("{}. {r}", i + 1), false));
        }
    }
    body.push_str(&paragraph("Yours sincerely,", false));
    body.push_str(&paragraph(&letter.adviser, true));
    body.push_str(&paragraph(
        &format!("Regional Prevent Adviser, {}", letter.region),
        false,
    ));
    body.push_str("<w:p><w:r><w:br w:type=\"page\"/></w:r></w:p>");
    body.push_str(&paragraph("Annex: agreed scores", true));
    body.push_str("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"0\" w:type=\"auto\"/><w:tblBorders><w:top w:val=\"single\" w:sz=\"4\"/><w:left w:val=\"single\" w:sz=\"4\"/><w:bottom w:val=\"single\" w:sz=\"4\"/><w:right w:val=\"single\" w:sz=\"4\"/><w:insideH w:val=\"single\" w:sz=\"4\"/><w:insideV w:val=\"single\" w:sz=\"4\"/></w:tblBorders></w:tblPr>");
    body.push_str(&format!(
        "<w:tr>{}{}{}</w:tr>",
        cell("Benchmark", true),
        cell("Score (1-5 or N/A)", true),
        cell("Summary of scoring", true)
    ));
    for row in &letter.annex {
        body.push_str(&format!(
            "<w:tr>{}{}{}</w:tr>",
            cell(&row.benchmark, false),
            cell(&row.score, false),
            cell(&row.summary, false)
        ));
    }
    body.push_str("</w:tbl>");
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}\
         <w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" w:right=\"1134\" w:bottom=\"1134\" w:left=\"1134\" w:header=\"709\" w:footer=\"709\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    );
    let content_types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
        <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
        <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
        <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
        </Types>";
    let rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
        <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
        </Relationships>";
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("word/document.xml", document.as_str()),
    ] {
        zip.start_file(name, options)?;
        zip.write_all(content.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

/// "Overall, X is …" → "overall, X is …", to follow "In terms of your performance,".
pub fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
