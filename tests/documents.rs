//! The documents the service writes, opened with the program their readers use: each Word file
//! converted by LibreOffice headless, its text read from the PDF, its pages drawn to look at.

mod support;

use prevent_assure::documents::letter::{self, AdviserText, AnnexRow, Facts};
use support::office;

fn annex() -> Vec<AnnexRow> {
    let fw = prevent_assure::framework::parse(
        std::path::Path::new("prevent-la-2018.toml"),
        include_str!("../frameworks/prevent-la-2018.toml"),
    )
    .expect("the framework");
    fw.sections
        .iter()
        .map(|s| AnnexRow {
            number: s.number,
            title: s.title.clone(),
            standard: s.standard.clone().unwrap_or_default(),
            score: if s.number == 5 { "N/A".into() } else { (3 + s.number % 2).to_string() },
            summary: if s.number == 5 {
                String::new()
            } else {
                format!("Benchmark {} summary: a situational risk assessment is refreshed each year on the back of the CTLP, and a report goes to the senior leadership team and scrutiny committee annually.", s.number)
            },
        })
        .collect()
}

#[test]
fn a_letter_opened_in_libreoffice_shows_every_annex_cell() {
    let facts = Facts {
        council: "Ashbridge Borough Council".into(),
        region: "North Vale".into(),
        year: "2026/2027".into(),
        date: "9 May 2027".into(),
        adviser: "Nadia Hussain".into(),
        summary: "Overall, Ashbridge Borough Council is exceeding the requirements of the Prevent Duty in most areas and meeting them in some.".into(),
        recommendations: vec!["Name a Channel deputy chair".into(), "Publish a Prevent communications plan".into()],
        benchmark_5_not_scored: true,
        annex: annex(),
        draft: false,
        template_version: 0,
    };
    let adviser = AdviserText {
        addressee: "Sam Patel\nHead of Community Safety".into(),
        salutation: "Dear Sam".into(),
        cc: "Jo Whitfield, Programme Co-ordinator".into(),
        thanks: "I would like to thank Jo for engaging with this process.".into(),
        extra: String::new(),
    };
    let composed = letter::compose(&letter::default_template(), &adviser, &facts);
    let bytes = letter::docx(&composed, "2027-05-09T10:00:00Z").expect("a document");
    let pdf = office::to_pdf(&bytes, "letter.docx");
    for row in &composed.annex {
        for cell in [&row.title, &row.standard, &row.score, &row.summary] {
            assert!(pdf.shows(cell), "{cell:?} is in the PDF");
        }
        // Each row's score beside its number and title, in the score's column: the table is
        // laid out as a table, not one column after another.
        let first_word = row.title.split_whitespace().next().unwrap_or_default();
        let number = row.number.to_string();
        let summary_start = row.summary.split_whitespace().next().unwrap_or_default();
        let mut cells = vec![number.as_str(), first_word, row.score.as_str()];
        if !summary_start.is_empty() {
            cells.push(summary_start);
        }
        assert!(
            pdf.row(&cells),
            "benchmark {} is one row of the annex with its score {}:\n{}",
            row.number,
            row.score,
            pdf.layout()
        );
    }
    assert!(pdf.shows("Page 1 of"), "page numbers");
    office::pages_as_png(&pdf.pdf, "letter-docx");
}

// ----- The letter through the service ---------------------------------------------------------

use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from, texts};

async fn signed_in(router: &axum::Router, email: &str) -> Client {
    let mut client = Client::new(router.clone());
    assert_eq!(
        client.sign_in(email, DEMO_PASSWORD).await.status,
        303,
        "{email}"
    );
    client
}

const ADVISER: &str = "adviser.north-vale@homeoffice.example";

/// Ashbridge's assessment in review with agreed scores and summaries (benchmark 5 not scored
/// unless `score_5`) and two recommendations: its address.
async fn reviewed(router: &axum::Router, pool: &PgPool, score_5: bool) -> String {
    let mut lead = signed_in(router, "lead@ashbridge.example").await;
    let reply = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let address = location(&reply).to_owned();
    let id: uuid::Uuid = address
        .trim_start_matches("/assessments/")
        .parse()
        .expect("an id");
    sqlx::query("update assessments set state = 'in_review', submitted_at = now(), submitted_by = (select id from users where email = 'lead@ashbridge.example') where id = $1")
        .bind(id)
        .execute(pool)
        .await
        .expect("in review");
    sqlx::query(
        "update section_results set agreed_score = case when s.number = 5 and not $2 then null else 3 + s.number % 2 end,
                agreed_not_scored = s.number = 5 and not $2,
                adviser_summary = 'Benchmark ' || s.number || ': a settled process, evidenced by the board''s minutes and the partnership plan.'
         from sections s where s.id = section_results.section_id and section_results.assessment_id = $1",
    )
    .bind(id)
    .bind(score_5)
    .execute(pool)
    .await
    .expect("scores");
    let mut adviser = signed_in(router, ADVISER).await;
    for r in [
        "Name a Channel deputy chair",
        "Publish a Prevent communications plan",
    ] {
        let added = adviser
            .post(
                &format!("{address}/review"),
                &[("recommendation", r), ("intent", "add-recommendation")],
            )
            .await;
        assert_eq!(added.status, 303);
    }
    address
}

/// The text of every paragraph of a Word document's body, in order.
fn docx_paragraphs(bytes: &[u8]) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("word/document.xml").expect("the document"),
        &mut xml,
    )
    .expect("read");
    xml.split("</w:p>")
        .map(|p| {
            let mut text = String::new();
            for piece in p.split("<w:t").skip(1) {
                if let Some(start) = piece.find('>') {
                    let rest = &piece[start + 1..];
                    text.push_str(&rest[..rest.find("</w:t>").unwrap_or(rest.len())]);
                }
            }
            text.replace("&quot;", "\"")
                .replace("&amp;", "&")
                .replace("&apos;", "'")
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// The XML of the first part of a Word document whose name starts with `prefix`.
fn docx_part(bytes: &[u8], prefix: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let name = zip
        .file_names()
        .filter_map(Result::ok)
        .find(|n| n.starts_with(prefix))
        .map(|n| n.into_owned())
        .unwrap_or_else(|| panic!("no {prefix} part"));
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name(&name).expect("the part"), &mut xml)
        .expect("read");
    xml
}

/// Where each of `wanted` is found in `have` (a paragraph containing it), in order.
fn in_order(have: &[String], wanted: &[String]) -> bool {
    let mut at = 0;
    for w in wanted {
        match have[at..].iter().position(|h| h.contains(w.as_str())) {
            Some(i) => at += i + 1,
            None => return false,
        }
    }
    true
}

/// The template's standard paragraphs as a letter to Ashbridge in North Vale gives them.
fn standard_paragraphs(b5: bool) -> Vec<String> {
    let t = letter::default_template();
    let fill = |s: &str| {
        s.replace("{region}", "North Vale")
            .replace("{council}", "Ashbridge Borough Council")
    };
    // The sender block's first line, then the paragraphs in the Home Office's order.
    let sender = t.sender.lines().map(str::trim).find(|l| !l.is_empty());
    let mut out: Vec<String> = sender.map(str::to_owned).into_iter().collect();
    out.push(fill(&t.opening));
    out.extend(t.statutory.iter().map(|p| fill(p)));
    out.extend(t.process.iter().map(|p| fill(p)));
    out.extend(t.threat_and_risk.iter().map(|p| fill(p)));
    if b5 {
        out.push(fill(&t.benchmark_5));
    }
    out.push(fill(&t.year_on_year));
    out.push(t.summary_heading.clone());
    out.push(t.summary_lead.clone());
    out.push(t.recommendations_intro.clone());
    out.push(t.annex_offer.clone());
    out.push(t.sharing.clone());
    out.push(t.thanks.clone());
    out.push(t.closing.clone());
    out.push(t.sign_off.clone());
    out.push(t.signature_role.clone());
    out.push(t.annex_heading.clone());
    out.push(t.attribution.clone());
    out
}

#[sqlx::test]
async fn the_letter_holds_the_template_in_order_with_the_advisers_lines_marked_draft_until_published(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 7, 0, 1]);
    let address = reviewed(&router, &pool, false).await;
    let mut adviser = signed_in(&router, ADVISER).await;
    // The adviser's lines, before agreement.
    let form = adviser.get(&format!("{address}/letter/edit")).await.html();
    let mut fields = support::form_fields(&form, "main form");
    for (k, v) in [
        ("addressee", "Sam Patel\nHead of Community Safety"),
        ("salutation", "Dear Sam"),
        ("cc", "Jo Whitfield, Programme Co-ordinator"),
        (
            "thanks",
            "I would like to thank Jo for engaging with this process.",
        ),
        (
            "extra",
            "The partnership's work with schools stood out this year.",
        ),
    ] {
        support::set_field(&mut fields, k, v);
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = adviser
        .post(&format!("{address}/letter/edit"), &pairs)
        .await;
    assert_eq!(location(&saved), format!("{address}/letter?done=saved"));
    // Saving again from the same form: someone changed it in between, so it is refused, kept.
    let stale = adviser
        .post(&format!("{address}/letter/edit"), &pairs)
        .await;
    assert_eq!(stale.status, 422);
    let kept = support::form_fields(&stale.html(), "main form");
    assert!(
        kept.contains(&("salutation".to_owned(), "Dear Sam".to_owned())),
        "{kept:?}"
    );
    assert!(
        texts(&stale.html(), ".govuk-error-summary__list a")[0]
            .starts_with("Someone changed this letter")
    );

    let page = adviser.get(&format!("{address}/letter")).await;
    assert_eq!(page.status, 200);
    let html = page.html();
    assert!(
        texts(&html, ".app-letter__draft")[0].contains("Draft: this letter has not been issued")
    );
    assert!(texts(&html, "h1")[0].starts_with("Draft: Annual Prevent Duty Assurance"));
    let parts = texts(&html, ".app-letter p, .app-letter h2");
    let mut wanted = standard_paragraphs(true);
    // The addressee follows the sender block.
    wanted.insert(1, "Sam Patel".to_owned());
    assert!(in_order(&parts, &wanted), "{parts:#?}");
    assert!(
        parts
            .iter()
            .any(|p| p.contains("The partnership's work with schools stood out this year."))
    );
    assert!(parts.iter().any(|p| {
        p.starts_with("I would like to thank Jo for engaging with this process. I appreciate")
    }));
    assert_eq!(
        texts(&html, ".app-letter__cc"),
        ["CC: Jo Whitfield, Programme Co-ordinator"]
    );

    let docx = adviser.get(&format!("{address}/letter.docx")).await;
    assert_eq!(docx.status, 200);
    assert!(
        docx.header("content-disposition")
            .unwrap_or_default()
            .contains("DRAFT")
    );
    let paragraphs = docx_paragraphs(&docx.bytes);
    assert!(in_order(&paragraphs, &wanted), "{paragraphs:#?}");
    // The adviser's own lines are in the document too, where the page has them.
    for line in [
        "CC: Jo Whitfield, Programme Co-ordinator",
        "Dear Sam",
        "I would like to thank Jo for engaging with this process. I appreciate",
        "The partnership's work with schools stood out this year.",
    ] {
        assert!(
            paragraphs.iter().any(|p| p.contains(line)),
            "{line:?} in {paragraphs:#?}"
        );
    }
    assert!(
        paragraphs
            .iter()
            .any(|p| p.starts_with("Draft: Annual Prevent Duty Assurance"))
    );
    assert!(
        docx_part(&docx.bytes, "word/header").contains("DRAFT – not yet issued"),
        "every page's header says so"
    );

    // The council does not see it before it is issued; another region's adviser never does.
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    assert_eq!(lead.get(&format!("{address}/letter")).await.status, 404);
    assert_eq!(
        lead.get(&format!("{address}/letter/edit")).await.status,
        403
    );
    let mut other = signed_in(&router, "adviser.south-weald@homeoffice.example").await;
    assert_eq!(other.get(&format!("{address}/letter")).await.status, 404);
    assert_eq!(
        other.get(&format!("{address}/letter.docx")).await.status,
        404
    );
}

/// Letters published before the service kept them (the demo's earlier cycles, data generated or
/// imported): the council reads the letter, dated when it was published, not marked draft, and
/// the same at every reading from then on.
#[sqlx::test]
async fn a_letter_published_before_letters_were_kept_is_kept_at_its_first_reading(pool: PgPool) {
    let router = router_from(support::full_demo_state(pool.clone()).await, [10, 7, 0, 9]);
    let (id, updated): (uuid::Uuid, time::OffsetDateTime) = sqlx::query_as(
        "select a.id, a.updated_at from assessments a join organisations o on o.id = a.organisation_id
         join frameworks f on f.id = a.framework_id
         where o.slug = 'ashbridge' and a.state = 'published' and f.code = 'prevent-la-2018'
         order by a.updated_at limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a published assessment of the demo");
    let kept: i64 = sqlx::query_scalar("select count(*) from letters where assessment_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(kept, 0, "the demo publishes without a letter");

    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let address = format!("/assessments/{id}");
    let task_list = lead.get(&address).await.html();
    assert_eq!(
        support::attr(&task_list, "main a[href$='/letter']", "href"),
        Some(format!("{address}/letter")),
        "the council's page links to its letter"
    );
    let first = lead.get(&format!("{address}/letter")).await;
    assert_eq!(first.status, 200);
    let html = first.html();
    assert!(texts(&html, ".app-letter__draft").is_empty(), "not a draft");
    assert_eq!(
        texts(&html, ".app-letter__date"),
        [prevent_assure::domain::uk_date(updated)],
        "dated when it was published"
    );
    let word = lead.get(&format!("{address}/letter.docx")).await.bytes;

    // The template of that cycle changes: the letter does not.
    sqlx::query(
        "insert into letter_templates (cycle_id, version, template)
         select a.cycle_id, 1, jsonb_set(to_jsonb($2::jsonb), '{opening}', '\"A different opening.\"')
         from assessments a where a.id = $1",
    )
    .bind(id)
    .bind(serde_json::to_value(letter::default_template()).expect("json"))
    .execute(&pool)
    .await
    .expect("a new template");
    let again = lead.get(&format!("{address}/letter")).await.html();
    assert_eq!(
        texts(&again, "article.app-letter"),
        texts(&html, "article.app-letter")
    );
    assert_eq!(
        lead.get(&format!("{address}/letter.docx")).await.bytes,
        word
    );
    let mut adviser = signed_in(&router, ADVISER).await;
    assert_eq!(
        texts(
            &adviser.get(&format!("{address}/letter")).await.html(),
            "article.app-letter"
        ),
        texts(&html, "article.app-letter"),
        "the adviser reads the same letter"
    );
}

#[sqlx::test]
async fn with_benchmark_5_scored_the_letter_has_no_benchmark_5_paragraph(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 7, 0, 2]);
    let address = reviewed(&router, &pool, true).await;
    let mut adviser = signed_in(&router, ADVISER).await;
    let b5 = letter::default_template().benchmark_5;
    let html = adviser.get(&format!("{address}/letter")).await.html();
    assert!(in_order(
        &texts(&html, ".app-letter p, .app-letter h2"),
        &standard_paragraphs(false)
    ));
    assert!(
        !texts(&html, ".app-letter p")
            .iter()
            .any(|p| p.contains(&b5))
    );
    let docx = adviser.get(&format!("{address}/letter.docx")).await;
    assert!(!docx_paragraphs(&docx.bytes).iter().any(|p| p.contains(&b5)));
}

#[sqlx::test]
async fn a_published_letter_reads_the_same_after_the_template_changes_and_libreoffice_lays_it_out(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 7, 0, 3]);
    let address = reviewed(&router, &pool, false).await;
    let mut adviser = signed_in(&router, ADVISER).await;
    for intent in ["agree", "publish"] {
        let reply = adviser
            .post(&format!("{address}/review"), &[("intent", intent)])
            .await;
        assert_eq!(reply.status, 303, "{intent}");
    }
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let article = |html: &scraper::Html| texts(html, "article.app-letter");
    let before = lead.get(&format!("{address}/letter")).await;
    assert_eq!(before.status, 200);
    let before_html = before.html();
    assert!(
        texts(&before_html, ".app-letter__draft").is_empty(),
        "no longer a draft"
    );
    assert!(texts(&before_html, "h1")[0].starts_with("Annual Prevent Duty Assurance"));
    let before_docx = lead.get(&format!("{address}/letter.docx")).await.bytes;

    // The administrator changes the cycle's template.
    let cycle: uuid::Uuid =
        sqlx::query_scalar("select cycle_id from assessments where id = $1::uuid")
            .bind(address.trim_start_matches("/assessments/"))
            .fetch_one(&pool)
            .await
            .expect("the cycle");
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    let page = format!("/admin/letters/{cycle}");
    let saved = admin
        .submit_page(
            &page,
            "main form",
            &[("opening", "A different opening for {council}.")],
            "",
        )
        .await;
    assert_eq!(location(&saved), format!("{page}?saved=1"));
    // A save from the form as it was before is refused, keeping its text.
    let stale = admin
        .submit_page(&page, "main form", &[("closing", "Changed again.")], "")
        .await;
    assert_eq!(stale.status, 303, "the form reloads at the new version");
    let html = admin.get(&page).await.html();
    let mut old = support::form_fields(&html, "main form");
    support::set_field(&mut old, "version", "1");
    support::set_field(&mut old, "closing", "A third closing.");
    let pairs: Vec<(&str, &str)> = old.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = admin.post(&page, &pairs).await;
    assert_eq!(refused.status, 422);
    assert_eq!(texts(&refused.html(), "#closing"), ["A third closing."]);

    let after = lead.get(&format!("{address}/letter")).await.html();
    assert_eq!(
        article(&after),
        article(&before_html),
        "the published letter is kept whole"
    );
    assert!(
        !texts(&after, ".app-letter p")
            .iter()
            .any(|p| p.contains("A different opening"))
    );
    let after_docx = lead.get(&format!("{address}/letter.docx")).await.bytes;
    assert_eq!(after_docx, before_docx, "the same document, byte for byte");

    // LibreOffice lays it out: every annex cell's text is in the PDF, and its pages are drawn.
    let pdf = office::to_pdf(&after_docx, "published-letter.docx");
    let html_annex = texts(&after, ".app-letter__annex tbody tr");
    assert_eq!(html_annex.len(), 10);
    let fw = prevent_assure::framework::parse(
        std::path::Path::new("prevent-la-2018.toml"),
        include_str!("../frameworks/prevent-la-2018.toml"),
    )
    .expect("the framework");
    for s in &fw.sections {
        assert!(pdf.shows(&s.title), "{} is in the PDF", s.title);
        assert!(
            pdf.shows(s.standard.as_deref().unwrap_or_default()),
            "benchmark {}'s standard",
            s.number
        );
        if s.number != 5 {
            assert!(pdf.shows(&format!("Benchmark {}: a settled process, evidenced by the board's minutes and the partnership plan.", s.number)));
        }
    }
    assert!(pdf.shows("N/A") && pdf.shows("Score 1-5") && pdf.shows("Summary of scoring"));
    assert!(pdf.pages >= 3, "{} pages", pdf.pages);
    let pngs = office::pages_as_png(&pdf.pdf, "letter-published");
    assert_eq!(pngs.len(), pdf.pages);
}

#[sqlx::test]
async fn the_committee_copy_of_the_board_summary_opens_in_libreoffice_with_the_pages_table(
    pool: PgPool,
) {
    let state = support::full_demo_state(pool.clone()).await;
    let router = router_from(state, [10, 7, 0, 4]);
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    let page = board.get("/orgs/ashbridge").await.html();
    let rows = texts(&page, "#summary tbody tr");
    let benchmarks = texts(&page, "#summary tbody th");
    let actions = texts(&page, "#summary .app-board__list li");
    assert!(rows.len() >= 10 && !actions.is_empty(), "{rows:?}");
    let docx = board.get("/orgs/ashbridge/summary.docx").await;
    assert_eq!(docx.status, 200);
    assert_eq!(
        docx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    );
    let pdf = office::to_pdf(&docx.bytes, "committee-summary.docx");
    for text in benchmarks.iter().chain(&actions) {
        assert!(pdf.shows(text), "{text:?} is in the committee copy");
    }
    assert!(pdf.shows("As at ") && pdf.shows("Latest comment"));
    office::pages_as_png(&pdf.pdf, "committee-summary-docx");
    // Another council's people get nothing.
    let mut other = signed_in(&router, "lead@brackenfield.example").await;
    assert_eq!(other.get("/orgs/ashbridge/summary.docx").await.status, 404);
}

// ----- Workbooks ------------------------------------------------------------------------------

/// Every part of an .xlsx by name, as text.
fn xlsx_parts(bytes: &[u8]) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    names
        .into_iter()
        .map(|name| {
            let mut text = String::new();
            let _ =
                std::io::Read::read_to_string(&mut zip.by_name(&name).expect("a part"), &mut text);
            (name, text)
        })
        .collect()
}

/// The workbook with one shared string replaced, as a person editing it might.
fn with_string_replaced(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in xlsx_parts(bytes) {
        out.start_file(name.as_str(), options).expect("a part");
        // The text is in the cells (written inline), or in the shared strings of a file Excel saved.
        let text = if name == "xl/sharedStrings.xml" || name.starts_with("xl/worksheets/") {
            text.replace(&format!(">{from}<"), &format!(">{to}<"))
        } else {
            text
        };
        std::io::Write::write_all(&mut out, text.as_bytes()).expect("written");
    }
    out.finish().expect("a zip").into_inner()
}

fn import_request(
    client: &Client,
    uri: &str,
    content: &[u8],
) -> axum::http::Request<axum::body::Body> {
    let boundary = "----prevent-assure-import";
    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"book.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(content);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = axum::http::Request::post(uri)
        .header("host", "localhost")
        .header("sec-fetch-site", "same-origin")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        );
    if let Some(cookie) = &client.cookie {
        request = request.header("cookie", cookie.as_str());
    }
    request
        .body(axum::body::Body::from(body))
        .expect("a request")
}

#[sqlx::test]
async fn the_assessment_workbook_writes_out_prompts_and_criteria_offers_lists_and_prints_on_a4(
    pool: PgPool,
) {
    let router = router_from(support::full_demo_state(pool.clone()).await, [10, 7, 0, 5]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let id: uuid::Uuid = sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks fw on fw.id = a.framework_id
         where fw.code = 'prevent-la-2018' and o.slug = 'ashbridge' order by c.starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("the draft");
    let exported = lead.get(&format!("/assessments/{id}/export.xlsx")).await;
    assert_eq!(exported.status, 200);
    let fw = prevent_assure::framework::parse(
        std::path::Path::new("prevent-la-2018.toml"),
        include_str!("../frameworks/prevent-la-2018.toml"),
    )
    .expect("the framework");

    // Read with calamine: the prompts and the criteria are written out in words.
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(exported.bytes.clone()))
            .expect("a workbook");
    let sheet = book.worksheet_range("Benchmark 1").expect("benchmark 1");
    let column_b: Vec<String> = sheet
        .rows()
        .map(|r| r.get(1).map(|c| c.to_string()).unwrap_or_default())
        .collect();
    let section = fw.section(1).expect("benchmark 1");
    for (p, prompt) in section.items[0].prompts.iter().enumerate() {
        assert!(
            column_b.contains(&format!("    Prompt {}: {prompt}", p + 1)),
            "prompt {p} in words"
        );
    }
    let criterion = &section
        .levels
        .iter()
        .find(|l| l.score == 2)
        .expect("level 2")
        .criteria[0];
    assert!(
        column_b.contains(&format!("Level 2: {}", criterion.text)),
        "criteria in words"
    );
    let column_a: Vec<String> = sheet
        .rows()
        .map(|r| r.first().map(|c| c.to_string()).unwrap_or_default())
        .collect();
    assert!(
        column_a.contains(&criterion.id),
        "the id kept beside it for the import"
    );

    // The file's own settings: lists to choose from, the id column hidden, locked read-only
    // cells, A4 landscape one page wide, titles repeated.
    let parts = xlsx_parts(&exported.bytes);
    let part = |name: &str| {
        parts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let benchmark_1 = part("xl/worksheets/sheet2.xml");
    assert!(
        benchmark_1.contains("<dataValidation type=\"list\""),
        "drop-down lists"
    );
    let lists: Vec<&str> = benchmark_1
        .split("<formula1>")
        .skip(1)
        .map(|f| f.split("</formula1>").next().unwrap_or_default())
        .collect();
    assert!(
        lists.contains(&"\"Not yet started,Developing,Achieving\""),
        "the status list: {lists:?}"
    );
    assert!(
        lists.contains(&"\"Red,Amber,Green\"") && lists.contains(&"\"Yes,No\""),
        "{lists:?}"
    );
    assert!(
        benchmark_1.contains("hidden=\"1\""),
        "the id column is hidden"
    );
    assert!(
        benchmark_1.contains("<sheetProtection") && !benchmark_1.contains("password="),
        "locked, no password"
    );
    assert!(
        benchmark_1.contains("paperSize=\"9\"")
            && benchmark_1.contains("orientation=\"landscape\"")
            && benchmark_1.contains("fitToHeight=\"0\"")
    );
    assert!(
        part("xl/workbook.xml").contains("_xlnm.Print_Titles"),
        "titles repeated on each page"
    );
    assert!(
        part("xl/worksheets/sheet1.xml").contains("<formula1>\"1,2,3,4,5\"</formula1>"),
        "the proposed score's list"
    );

    // LibreOffice lays it out on A4 landscape pages, prompts and all.
    let pdf = office::to_pdf(&exported.bytes, "assessment.xlsx");
    assert!(pdf.shows(&section.items[0].prompts[0]) && pdf.shows(&criterion.text));
    assert!(pdf.pages <= 40, "{} pages (83 before)", pdf.pages);
    let info = std::process::Command::new("pdfinfo")
        .arg(&pdf.pdf)
        .output()
        .expect("pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout);
    let size = info
        .lines()
        .find(|l| l.starts_with("Page size:"))
        .unwrap_or_default()
        .to_owned();
    let numbers: Vec<f64> = size
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(
        numbers.len() >= 2 && numbers[0] > numbers[1],
        "landscape: {size}"
    );
    office::pages_as_png(&pdf.pdf, "assessment-xlsx");

    // A hidden id changed by hand is refused, naming the cell; nothing is imported.
    let broken = with_string_replaced(&exported.bytes, "1.1/1", "1.1/9");
    let reply = lead
        .send(import_request(
            &lead,
            &format!("/assessments/{id}/import"),
            &broken,
        ))
        .await;
    assert_eq!(reply.status, 422);
    let faults = texts(&reply.html(), "#faults tbody tr");
    assert!(
        faults.iter().any(|f| f.starts_with("Benchmark 1 ")
            && f.contains(" A “1.1/9” is not a question or prompt of benchmark 1")),
        "{faults:?}"
    );
    // The export as it is imports cleanly.
    let clean = lead
        .send(import_request(
            &lead,
            &format!("/assessments/{id}/import"),
            &exported.bytes,
        ))
        .await;
    assert_eq!(clean.status, 303, "{}", clean.body);
}

#[sqlx::test]
async fn the_plan_workbook_has_real_dates_a_filter_and_prints_on_a4_landscape(pool: PgPool) {
    let router = router_from(support::full_demo_state(pool.clone()).await, [10, 7, 0, 6]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let xlsx = lead.get("/orgs/ashbridge/actions.xlsx").await;
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes.clone()))
            .expect("a workbook");
    let sheet = book.worksheet_range("Action plan").expect("the plan");
    let due = sheet
        .rows()
        .skip(1)
        .filter_map(|r| r.get(7))
        .find(|c| !matches!(c, calamine::Data::Empty));
    assert!(
        matches!(due, Some(calamine::Data::DateTime(_))),
        "due dates are dates: {due:?}"
    );
    let parts = xlsx_parts(&xlsx.bytes);
    let sheet_xml = parts
        .iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    assert!(
        sheet_xml.contains("<autoFilter")
            && sheet_xml.contains("orientation=\"landscape\"")
            && sheet_xml.contains("paperSize=\"9\"")
    );
    // A row whose text wraps is as tall as its text: LibreOffice draws the lines of a row left
    // at one line's height over each other.
    let tall_rows = sheet_xml
        .split("<row ")
        .skip(2)
        .filter(|row| {
            row.split('>')
                .next()
                .is_some_and(|tag| tag.contains(" ht=\""))
        })
        .count();
    assert!(
        tall_rows > 0,
        "the demo's longer actions wrap, and their rows are given the height"
    );
    let pdf = office::to_pdf(&xlsx.bytes, "plan.xlsx");
    assert!(
        pdf.shows("Latest progress note"),
        "every column on the page"
    );
    office::pages_as_png(&pdf.pdf, "plan-xlsx");
}

/// The workbook's one statement reads what the pages' statements read, for every assessment
/// of the demo: each benchmark's result with the criteria it meets, every answer (evidence,
/// evidence by prompt, fields) and every action, in the same order.
#[sqlx::test]
async fn the_workbook_reads_what_the_pages_read(pool: PgPool) {
    use prevent_assure::db::assessments;
    support::full_demo_state(pool.clone()).await;
    // What the demo may not have: criteria met, evidence by prompt, an item's fields, an
    // action on no benchmark, text that JSON would escape.
    sqlx::query(
        "insert into criteria_met (section_result_id, criterion_id)
         select r.id, c.id from section_results r
         join levels l on l.section_id = r.section_id
         join criteria c on c.level_id = l.id
         where r.id = (select r2.id from section_results r2
                       where exists (select 1 from levels l2 join criteria c2 on c2.level_id = l2.id
                                     where l2.section_id = r2.section_id)
                       order by r2.id limit 1)
         order by c.code limit 3
         on conflict do nothing",
    )
    .execute(&pool)
    .await
    .expect("criteria met");
    sqlx::query(
        "update answers set prompt_evidence = array['First \"prompt\"', '', 'Third\\\\ line\n2'],
                            fields = '{\"chair_name\": \"A. Chair\"}',
                            evidence = 'Tab\there, quote \" and <angle> & é'
         where id = (select id from answers order by id limit 1)",
    )
    .execute(&pool)
    .await
    .expect("an answer");
    sqlx::query(
        "update actions set section_id = null, item_id = null, source = 'recommendation'
         where id = (select id from actions order by id limit 1)",
    )
    .execute(&pool)
    .await
    .expect("an action on no benchmark");

    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("select id from assessments order by id")
        .fetch_all(&pool)
        .await
        .expect("assessments");
    assert!(ids.len() > 3, "the demo's assessments");
    let now = time::OffsetDateTime::now_utc();
    let (mut criteria, mut prompts, mut fields, mut unfiled) = (0, 0, 0, 0);
    for id in ids {
        let book = assessments::workbook_contents(&pool, id)
            .await
            .expect("the workbook's contents");
        let results = assessments::full_results(&pool, id)
            .await
            .expect("the results");
        let contents = assessments::contents(&pool, id, now, true)
            .await
            .expect("the contents");
        assert_eq!(book.results, results, "{id}: the results");
        assert_eq!(book.answers, contents.answers, "{id}: the answers");
        assert_eq!(book.actions, contents.actions, "{id}: the actions");
        criteria += results
            .iter()
            .filter(|r| !r.criteria_met.is_empty())
            .count();
        prompts += book
            .answers
            .iter()
            .filter(|a| !a.prompt_evidence.is_empty())
            .count();
        fields += book.answers.iter().filter(|a| !a.fields.is_empty()).count();
        unfiled += book.actions.iter().filter(|a| a.number.is_none()).count();
    }
    assert!(
        criteria > 0 && prompts > 0 && fields > 0 && unfiled > 0,
        "compared with criteria met ({criteria}), evidence by prompt ({prompts}), fields \
         ({fields}) and an action on no benchmark ({unfiled})"
    );
}
