//! The Channel Panel Annual Assurance Statement on the same engine as the self-assessment:
//! started beside it in the cycle, rated statement by statement on its key areas' pages with
//! the framework's rules (details for Amber and Red with an area for improvement, a reason for
//! N/A, the chair's contacts in fields of their own), checked and submitted.

mod support;

use sqlx::PgPool;
use support::{Client, all_green, attr, location, router_from, signed_in, texts};

const LEAD: &str = "lead@ashbridge.example";

/// Starts Ashbridge's statement for this cycle; its address.
async fn started(lead: &mut Client) -> String {
    let reply = lead
        .post(
            "/assessments",
            &[
                ("organisation", "ashbridge"),
                ("from", "blank"),
                ("framework", "channel-aas-2020"),
            ],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    location(&reply).to_owned()
}

fn errors(reply: &support::Reply) -> Vec<String> {
    texts(&reply.html(), ".govuk-error-summary__list a")
}

#[sqlx::test]
async fn both_instruments_start_in_the_cycle_and_each_answers_at_its_own_address(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 1, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let list = lead.get("/assessments").await.html();
    let offers = texts(&list, ".govuk-inset-text h2");
    assert!(
        offers
            .iter()
            .any(|o| o.contains("Prevent duty self-assessment for Ashbridge")),
        "{offers:?}"
    );
    assert!(
        offers
            .iter()
            .any(|o| o.contains("Channel Panel assurance statement for Ashbridge")),
        "{offers:?}"
    );
    let statement = started(&mut lead).await;
    let again = started(&mut lead).await;
    assert_eq!(again, statement, "one statement per council and cycle");

    let tasks = lead.get(&statement).await.html();
    assert_eq!(
        texts(&tasks, "h1"),
        [format!(
            "Channel Panel assurance statement {}",
            texts(&tasks, "h1")[0].rsplit(' ').next().unwrap_or("")
        )]
    );
    let links = texts(&tasks, ".govuk-task-list__link");
    assert_eq!(links.len(), 5, "five key areas of control: {links:?}");
    assert_eq!(
        links[0],
        "Key area of control 1: Legal Requirements under CTSA 2015"
    );
    assert!(texts(&tasks, ".govuk-task-list__hint")[0].contains("0 of 5 statements rated"));
    assert_eq!(
        lead.get(&format!("{statement}/key-areas/3")).await.status,
        200
    );
    assert_eq!(
        lead.get(&format!("{statement}/benchmarks/3")).await.status,
        404,
        "a statement has no benchmarks"
    );
    // The self-assessment still starts, and has no key areas.
    let sa = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let sa = location(&sa).to_owned();
    assert_ne!(sa, statement);
    assert_eq!(lead.get(&format!("{sa}/key-areas/1")).await.status, 404);
    let rows = texts(&lead.get("/assessments").await.html(), "tbody tr");
    assert!(
        rows.iter()
            .any(|r| r.contains("Channel Panel assurance statement") && r.contains("Draft")),
        "{rows:?}"
    );
}

#[sqlx::test]
async fn a_key_area_page_rates_each_statement_by_the_frameworks_rules(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 2, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let statement = started(&mut lead).await;
    let page = format!("{statement}/key-areas/2");
    let html = lead.get(&page).await.html();
    // Ratings with their definitions as hints; the evidence box as the seed labels it.
    let labels = texts(&html, "#q2-1 .govuk-radios__label");
    assert_eq!(labels, ["Green", "Amber", "Red", "N/A"]);
    assert!(
        texts(&html, "#q2-1 .govuk-radios__hint")[2]
            .starts_with("Unable to give reasonable assurance")
    );
    assert!(
        texts(&html, "label[for=q2-1-evidence]")[0]
            .contains("Further details behind any amber or red entries")
    );
    assert!(
        texts(&html, "#criteria").is_empty(),
        "no scoring criteria on a statement"
    );

    // A Red with no details is refused, with everything typed kept.
    let form = "form[action$='/key-areas/2']";
    let red = lead
        .submit_page(
            &page,
            form,
            &[("status-2.1", "green"), ("status-2.4", "red")],
            "save",
        )
        .await;
    assert_eq!(red.status, 422);
    let said = errors(&red);
    assert!(
        said.contains(
            &"Give the further details behind the Red rating of statement 2.4".to_owned()
        ),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|e| e.starts_with("Add an area for improvement for statement 2.4")),
        "{said:?}"
    );
    assert_eq!(
        texts(&red.html(), "#q2-1-status[checked]").len(),
        1,
        "the Green is kept"
    );

    // An Amber with details and an improvement "Sept 21", added with the same button.
    let amber = lead
        .submit_page(
            &page,
            form,
            &[
                ("status-2.1", "green"),
                ("status-2.4", "amber"),
                (
                    "evidence-2.4",
                    "The escalation process is agreed but not yet published.",
                ),
                ("new-action-question", "2.4"),
                (
                    "new-action-description",
                    "Publish the escalation process on the partnership website",
                ),
                ("new-action-owner", "Community Safety Partnership Manager"),
                ("new-action-target", "Sept 21"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(amber.status, 303, "{:?}", errors(&amber));
    let (target, source): (String, String) = sqlx::query_as(
        "select target_text, source from actions a join items i on i.id = a.item_id where i.code = '2.4'",
    )
    .fetch_one(&pool)
    .await
    .expect("the area for improvement");
    assert_eq!((target.as_str(), source.as_str()), ("Sept 21", "question"));

    // N/A needs its reason.
    let one = format!("{statement}/key-areas/1");
    let form1 = "form[action$='/key-areas/1']";
    let na = lead
        .submit_page(&one, form1, &[("status-1.5", "na")], "save")
        .await;
    assert_eq!(errors(&na), ["Say why statement 1.5 is N/A"]);
    let na = lead
        .submit_page(
            &one,
            form1,
            &[
                ("status-1.5", "na"),
                ("evidence-1.5", "Ashbridge has a single-authority panel."),
            ],
            "save",
        )
        .await;
    assert_eq!(na.status, 303);

    // Statement 3.1's contacts are fields of their own, checked, and said to be shared.
    let three = format!("{statement}/key-areas/3");
    let form3 = "form[action$='/key-areas/3']";
    let html = lead.get(&three).await.html();
    assert!(texts(&html, "#q3-1-fields-notice")[0].contains("shared with the Home Office"));
    let bad = lead
        .submit_page(
            &three,
            form3,
            &[
                ("field-3.1-chair_name", "Director of Children's Services"),
                ("field-3.1-chair_email", "not an address"),
            ],
            "save",
        )
        .await;
    assert_eq!(
        errors(&bad),
        ["Enter channel chair email contact as an email address, like name@council.gov.uk"]
    );
    assert_eq!(
        support::attr(&bad.html(), "#q3-1-chair-name", "value").as_deref(),
        Some("Director of Children's Services")
    );
    let good = lead
        .submit_page(
            &three,
            form3,
            &[
                ("field-3.1-chair_name", "Director of Children's Services"),
                ("field-3.1-chair_email", "channel.chair@ashbridge.gov.uk"),
            ],
            "save",
        )
        .await;
    assert_eq!(good.status, 303);
    let fields: serde_json::Value = sqlx::query_scalar("select an.fields from answers an join items i on i.id = an.item_id where i.code = '3.1' and an.assessment_id = $1::uuid")
        .bind(statement.trim_start_matches("/assessments/"))
        .fetch_one(&pool)
        .await
        .expect("the fields");
    assert_eq!(fields["chair_email"], "channel.chair@ashbridge.gov.uk");

    // A contributor does not answer the lead's statement.
    let mut contributor = signed_in(&router, "contributor@ashbridge.example").await;
    let html = contributor.get(&page).await.html();
    assert!(
        texts(&html, "form[action$='/key-areas/2']").is_empty(),
        "read only"
    );
    let refused = contributor
        .post(&page, &[("version", "1"), ("status-2.1", "red")])
        .await;
    assert_eq!(refused.status, 403);
}

#[sqlx::test]
async fn the_check_page_lists_what_the_home_office_needs_before_submission(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    let router = router_from(state, [16, 3, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let statement = started(&mut lead).await;
    let check = lead.get(&format!("{statement}/check")).await.html();
    let gaps = texts(&check, "#must-fix li");
    assert_eq!(
        gaps.len(),
        37,
        "every statement needs a rating, and a signature: {gaps:?}"
    );
    assert_eq!(
        gaps[36],
        "The Channel Panel assurance statement has not been signed by the council's signatory"
    );
    assert_eq!(gaps[0], "Statement 1.1 has no rating");
    assert!(
        texts(&check, "#worth-checking li")
            .iter()
            .any(|g| g.contains("Named Channel chair"))
    );
    // Rating everything Green leaves nothing to fix.
    sqlx::query(
        "update answers set rating_id = (select r.id from ratings r join frameworks f on f.id = r.framework_id
                                         where f.code = 'channel-aas-2020' and r.code = 'green')
         where assessment_id = $1::uuid",
    )
    .bind(statement.trim_start_matches("/assessments/"))
    .execute(&pool)
    .await
    .expect("all green");
    // Changed as another server would: this one shows it once it has heard of it.
    caches.settle(&pool).await;
    let check = lead.get(&format!("{statement}/check")).await.html();
    assert_eq!(
        texts(&check, "#must-fix li").len(),
        1,
        "only the signature is left"
    );
    let rows = texts(&check, ".govuk-summary-list__row");
    assert!(
        rows[0].contains("5 of 5 statements rated") && !rows[0].contains("score"),
        "{}",
        rows[0]
    );
}

/// Rates every statement of the statement Green (the lead's typing, in one go per key area).

#[sqlx::test]
async fn signed_off_submitted_returned_and_accepted(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 4, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let statement = started(&mut lead).await;
    all_green(&mut lead, &statement).await;
    // Not signed: not submitted.
    let refused = lead.post(&format!("{statement}/submit"), &[]).await;
    assert_eq!(refused.status, 422);
    assert!(
        texts(&refused.html(), "#must-fix li")
            .iter()
            .any(|g| g.contains("has not been signed"))
    );

    // The signatory cannot sign before it is asked for, nor change a rating.
    let mut signatory = signed_in(&router, "signatory@ashbridge.example").await;
    let sign_page = signatory.get(&format!("{statement}/sign-off")).await.html();
    assert!(texts(&sign_page, ".govuk-inset-text")[0].contains("has not asked for sign-off"));
    let changed = signatory
        .post(
            &format!("{statement}/key-areas/1"),
            &[("version", "2"), ("status-1.1", "red")],
        )
        .await;
    assert_eq!(
        changed.status, 403,
        "the signatory reads, and does not change ratings"
    );
    assert_eq!(
        lead.post(&format!("{statement}/sign-off"), &[("declare", "yes")])
            .await
            .status,
        403,
        "the lead does not sign"
    );

    let asked = lead
        .post(&format!("{statement}/sign-off/request"), &[])
        .await;
    assert_eq!(
        location(&asked),
        format!("{statement}?done=sign-off-requested")
    );
    let sign = |panel: &'static str, with: &'static str, declare: &'static str| {
        vec![
            ("name", "Dr Helen Marsh"),
            ("position", "Chief Executive"),
            ("local_authority", "Ashbridge Borough Council"),
            ("panel", panel),
            ("combined_with", with),
            ("declare", declare),
        ]
    };
    // A NUL and a right-to-left override typed into a field are taken out, as everywhere.
    let mut typed = sign("combined", "", "");
    typed[1] = ("position", "Chief\u{0} Executive\u{202e}");
    let bad = signatory
        .post(&format!("{statement}/sign-off"), &typed)
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        errors(&bad),
        [
            "Name the other authorities the combined panel serves",
            "Confirm the declaration to sign the statement"
        ]
    );
    assert_eq!(
        support::attr(&bad.html(), "#position", "value").as_deref(),
        Some("Chief Executive"),
        "typing kept, control characters taken out"
    );
    // The lead changes the statement while the signatory reads it: what they read is not what
    // would be signed, so nothing is signed and the page shows the statement again.
    let open_page = signatory.get(&format!("{statement}/sign-off")).await.html();
    let mut read_then = support::form_fields(&open_page, "form[action$='/sign-off']");
    for (k, v) in sign("single", "", "yes") {
        support::set_field(&mut read_then, k, v);
    }
    let changed = lead
        .submit_page(
            &format!("{statement}/key-areas/1"),
            "form[action$='/key-areas/1']",
            &[(
                "evidence-1.1",
                "The panel's terms of reference were refreshed in March.",
            )],
            "save",
        )
        .await;
    assert_eq!(changed.status, 303);
    let pairs: Vec<(&str, &str)> = read_then
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let unseen = signatory
        .post(&format!("{statement}/sign-off"), &pairs)
        .await;
    assert_eq!(unseen.status, 409);
    assert!(
        errors(&unseen)[0].starts_with("The statement was changed while you were reading it"),
        "{:?}",
        errors(&unseen)
    );
    assert!(
        unseen
            .html()
            .root_element()
            .text()
            .any(|t| t.contains("terms of reference were refreshed in March")),
        "the page shows the change"
    );
    let signed_by: Option<uuid::Uuid> = sqlx::query_scalar("select signed_by from sign_offs")
        .fetch_one(&pool)
        .await
        .expect("the sign-off");
    assert_eq!(signed_by, None, "nothing was signed");

    let signed = signatory
        .submit_page(
            &format!("{statement}/sign-off"),
            "form[action$='/sign-off']",
            &sign("single", "", "yes"),
            "",
        )
        .await;
    assert_eq!(
        location(&signed),
        format!("{statement}/statement?done=signed")
    );
    let printed = lead.get(&format!("{statement}/statement")).await.html();
    let signature = texts(&printed, "#signature")[0].clone();
    assert!(
        signature.contains("Dr Helen Marsh")
            && signature.contains("Chief Executive")
            && signature.contains("Single local authority panel"),
        "{signature}"
    );
    assert!(
        signature.contains("signatory@ashbridge.example"),
        "recorded with the account: {signature}"
    );

    // A changed rating voids the signature, and both are told.
    let page = format!("{statement}/key-areas/5");
    let amber = lead
        .submit_page(
            &page,
            "form[action$='/key-areas/5']",
            &[
                ("status-5.2", "amber"),
                (
                    "evidence-5.2",
                    "These are in draft for sign-up by each organisation.",
                ),
                ("new-action-question", "5.2"),
                (
                    "new-action-description",
                    "Publish the updated privacy notices",
                ),
                ("new-action-target", "Sept 21"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(amber.status, 303, "{:?}", errors(&amber));
    let tasks = lead.get(&statement).await.html();
    assert!(
        texts(&tasks, "#sign-off ~ .govuk-warning-text")[0].contains("The signature was voided")
    );
    let sign_page = signatory.get(&format!("{statement}/sign-off")).await.html();
    assert!(texts(&sign_page, "#signature")[0].contains("A signature was voided"));
    assert_eq!(
        lead.post(&format!("{statement}/submit"), &[]).await.status,
        422,
        "voided: not submitted"
    );

    // Signed again (the lead asks again), and submitted.
    lead.post(&format!("{statement}/sign-off/request"), &[])
        .await;
    let signed = signatory
        .submit_page(
            &format!("{statement}/sign-off"),
            "form[action$='/sign-off']",
            &sign("single", "", "yes"),
            "",
        )
        .await;
    assert_eq!(signed.status, 303);
    let submitted = lead.post(&format!("{statement}/submit"), &[]).await;
    assert_eq!(location(&submitted), format!("{statement}?done=submitted"));

    // The Channel team finds it in the grid, returns it, and then accepts it.
    let mut team = signed_in(&router, "channel@homeoffice.example").await;
    let grid = team.get("/channel").await;
    assert_eq!(grid.status, 200);
    let html = grid.html();
    let row = texts(&html, "#grid tbody tr")
        .into_iter()
        .find(|r| r.contains("Ashbridge"))
        .expect("Ashbridge in the grid");
    assert!(row.contains("Submitted") && row.contains(" A "), "{row}");
    // The grid reads the ratings kept as the statement left its draft, not its answers.
    let statement_id: uuid::Uuid = statement
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the statement's id");
    let kept = |pool: PgPool| async move {
        sqlx::query_scalar::<_, Option<String>>(
            "select submitted_ratings from assessments where id = $1",
        )
        .bind(statement_id)
        .fetch_one(&pool)
        .await
        .expect("the statement")
    };
    let joined = kept(pool.clone()).await.expect("kept at submission");
    let ratings: Vec<&str> = joined.split(' ').collect();
    assert_eq!(ratings.len(), 36);
    assert_eq!(ratings.iter().filter(|r| **r == "amber").count(), 1);
    let amber_by_area = texts(&html, "#by-area tbody tr");
    assert!(
        amber_by_area[4].ends_with("1 0"),
        "one Amber in key area 5: {amber_by_area:?}"
    );
    let only_red = team.get("/channel?rating=red").await.html();
    assert!(
        !texts(&only_red, "#grid tbody tr")
            .iter()
            .any(|r| r.contains("Ashbridge")),
        "no Red at Ashbridge"
    );
    let review = format!("{statement}/channel-review");
    let no_reason = team
        .post(&review, &[("intent", "return"), ("reason", "")])
        .await;
    assert_eq!(
        errors(&no_reason),
        ["Say why the statement is being returned, so the council knows what to change"]
    );
    let returned = team
        .post(
            &review,
            &[
                ("intent", "return"),
                (
                    "reason",
                    "Statement 5.4: say when the uploads will be complete.",
                ),
            ],
        )
        .await;
    assert_eq!(location(&returned), format!("{review}?done=returned"));
    assert_eq!(
        kept(pool.clone()).await,
        None,
        "a draft again: its ratings may change"
    );
    let history = lead.get(&format!("{statement}/history")).await.html();
    let changes = texts(&history, "tbody tr");
    assert!(
        changes.iter().any(
            |c| c.contains("Returned to the council by the Channel team")
                && c.contains("Statement 5.4")
        ),
        "{changes:?}"
    );
    // Nothing changed since signing: the signature stands, and it goes back.
    let again = lead.post(&format!("{statement}/submit"), &[]).await;
    assert_eq!(again.status, 303);
    let accepted = team
        .post(&review, &[("intent", "accept"), ("reason", "")])
        .await;
    assert_eq!(location(&accepted), format!("{review}?done=accepted"));
    assert_eq!(
        kept(pool.clone()).await,
        Some(joined.clone()),
        "kept again when resubmitted"
    );
    let tasks = lead.get(&statement).await.html();
    assert!(texts(&tasks, ".govuk-summary-list__value .govuk-tag")[0].contains("Accepted"));
    // The team changes no council's statement.
    let edit = team
        .post(
            &format!("{statement}/key-areas/1"),
            &[("version", "1"), ("status-1.1", "red")],
        )
        .await;
    assert_eq!(edit.status, 403);
    let history = lead.get(&format!("{statement}/history")).await.html();
    assert!(
        texts(&history, "tbody tr")
            .iter()
            .any(|c| c.contains("Accepted by the Channel team"))
    );

    // The statement as a Word document: unzipped, then laid out by LibreOffice, it holds every
    // statement's rating, the area for improvement and the sign-off.
    let docx = lead.get(&format!("{statement}/statement.docx")).await;
    assert_eq!(docx.status, 200);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx.bytes.clone())).expect("a .docx");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("word/document.xml").expect("its body"),
        &mut xml,
    )
    .expect("text");
    assert_eq!(xml.matches(">Green<").count(), 35, "35 Green and one Amber");
    assert_eq!(xml.matches(">Amber<").count(), 1);
    assert!(
        !xml.contains(">Draft<"),
        "an accepted statement is not marked draft"
    );
    let pdf = support::office::to_pdf(&docx.bytes, "channel-statement.docx");
    let html = lead.get(&format!("{statement}/statement")).await.html();
    for row in texts(&html, ".app-statement tbody tr") {
        let code = row.split_whitespace().next().unwrap_or_default().to_owned();
        assert!(pdf.shows(&code), "{code} is in the PDF");
    }
    for text in [
        "5.2 Local Data Protection Information Notices",
        "Publish the updated privacy notices (Sept 21)",
        "These are in draft for sign-up by each organisation.",
        "Signed: Dr Helen Marsh",
        "Position: Chief Executive",
        "Single or combined panel: Single local authority panel",
        "This assurance statement provides an accurate assessment",
    ] {
        assert!(pdf.shows(text), "{text} is in the PDF");
    }
    assert!(pdf.pages >= 4, "{} pages", pdf.pages);
    support::office::pages_as_png(&pdf.pdf, "channel-statement-docx");
}

#[sqlx::test]
async fn every_statement_route_answers_each_role_as_the_policy_says(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 5, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let s = started(&mut lead).await;
    let pages = [
        s.clone(),
        format!("{s}/key-areas/1"),
        format!("{s}/statement"),
        format!("{s}/check"),
        format!("{s}/history"),
    ];
    // (who, sees the draft's pages, may review, may sign)
    let people = [
        ("contributor@ashbridge.example", true, false, false),
        ("board@ashbridge.example", false, false, false),
        ("owner@ashbridge.example", true, false, false),
        ("signatory@ashbridge.example", true, false, true),
        ("lead@brackenfield.example", false, false, false),
        ("adviser.north-vale@homeoffice.example", true, false, false),
        (
            "adviser.south-weald@homeoffice.example",
            false,
            false,
            false,
        ),
        ("channel@homeoffice.example", true, true, false),
        ("admin@prevent-assure.example", true, true, false),
    ];
    for (email, sees, reviews, signs) in people {
        let mut who = signed_in(&router, email).await;
        for page in &pages {
            let reply = who.get(page).await;
            if sees {
                assert_eq!(reply.status, 200, "{email} GET {page}");
            } else {
                // Another council's people (and a board member, before acceptance) find nothing.
                assert_eq!(reply.status, 404, "{email} GET {page}");
                assert!(!reply.body.contains("Ashbridge"), "{email} GET {page}");
            }
        }
        let key_area = who.get(&format!("{s}/key-areas/1")).await.html();
        assert!(
            texts(&key_area, "form[action$='/key-areas/1']").is_empty(),
            "{email}: read only"
        );
        let save = who
            .post(
                &format!("{s}/key-areas/1"),
                &[("version", "1"), ("status-1.1", "red")],
            )
            .await;
        assert!(
            matches!(save.status.as_u16(), 403 | 404),
            "{email} changes no rating: {}",
            save.status
        );
        let review = who.get(&format!("{s}/channel-review")).await;
        assert_eq!(
            reviews,
            review.status == 200,
            "{email} GET channel-review: {}",
            review.status
        );
        let grid = who.get("/channel").await;
        assert_eq!(
            reviews,
            grid.status == 200,
            "{email} GET /channel: {}",
            grid.status
        );
        let sign = who.get(&format!("{s}/sign-off")).await;
        if signs {
            assert_eq!(sign.status, 200, "{email}");
        } else if sees {
            assert_eq!(
                location(&sign),
                format!("{s}/statement"),
                "{email}: only reads"
            );
        }
        let signed = who
            .post(&format!("{s}/sign-off"), &[("declare", "yes")])
            .await;
        if !signs {
            assert!(
                matches!(signed.status.as_u16(), 403 | 404),
                "{email} signs nothing: {}",
                signed.status
            );
        }
        let asked = who.post(&format!("{s}/sign-off/request"), &[]).await;
        assert!(
            matches!(asked.status.as_u16(), 403 | 404),
            "{email} asks for nothing: {}",
            asked.status
        );
    }
    let untouched: (i64, i64) = sqlx::query_as(
        "select (select count(*) from answers where rating_id is not null), (select count(*) from sign_offs)",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(untouched, (0, 0), "nothing was changed by anyone refused");

    // Submitted: the self-assessment's review, return and letter are closed to a statement for
    // everyone, the Channel team included; only the team (and administrators) accept or return
    // it; nobody but the lead submits; its files go to those who see it.
    sqlx::query(
        "update assessments set state = 'submitted', submitted_at = now() where id = $1::uuid",
    )
    .bind(s.trim_start_matches("/assessments/"))
    .execute(&pool)
    .await
    .expect("submitted");
    for (email, sees, reviews, _) in people {
        let mut who = signed_in(&router, email).await;
        for page in [
            format!("{s}/review"),
            format!("{s}/return"),
            format!("{s}/letter"),
            format!("{s}/letter.docx"),
            format!("{s}/letter/edit"),
        ] {
            let reply = who.get(&page).await;
            assert!(
                matches!(reply.status.as_u16(), 403 | 404),
                "{email} GET {page}: {}",
                reply.status
            );
        }
        for (page, form) in [
            (format!("{s}/review"), vec![("intent", "start")]),
            (format!("{s}/review"), vec![("intent", "agree")]),
            (format!("{s}/return"), vec![("reason", "Try again")]),
            (
                format!("{s}/letter/edit"),
                vec![("addressee", "Someone"), ("version", "0")],
            ),
            (format!("{s}/submit"), vec![]),
        ] {
            let reply = who.post(&page, &form).await;
            assert!(
                matches!(reply.status.as_u16(), 403 | 404 | 422),
                "{email} POST {page}: {}",
                reply.status
            );
        }
        // An empty choice: the team is asked to choose (422); everyone else is refused.
        let checked = who.post(&format!("{s}/channel-review"), &[]).await;
        if reviews {
            assert_eq!(checked.status, 422, "{email}");
        } else {
            assert!(
                matches!(checked.status.as_u16(), 403 | 404),
                "{email} POST channel-review: {}",
                checked.status
            );
        }
        for file in [format!("{s}/statement.docx"), format!("{s}/export.xlsx")] {
            let reply = who.get(&file).await;
            if sees {
                assert_eq!(reply.status, 200, "{email} GET {file}");
            } else {
                assert_eq!(reply.status, 404, "{email} GET {file}");
            }
        }
        let import = who.get(&format!("{s}/import")).await;
        assert!(
            matches!(import.status.as_u16(), 403 | 404),
            "{email} imports nothing into a submitted statement: {}",
            import.status
        );
    }
    let state: String = sqlx::query_scalar("select state from assessments where id = $1::uuid")
        .bind(s.trim_start_matches("/assessments/"))
        .fetch_one(&pool)
        .await
        .expect("state");
    assert_eq!(state, "submitted", "nobody moved it by the wrong door");
    let letters: i64 = sqlx::query_scalar("select count(*) from letters")
        .fetch_one(&pool)
        .await
        .expect("letters");
    assert_eq!(letters, 0, "a statement has no letter");
    let anonymous = Client::new(router.clone())
        .get(&format!("{s}/channel-review"))
        .await;
    assert_eq!(location(&anonymous), "/login");

    // Once accepted, a board member reads the statement.
    sqlx::query(
        "update assessments set state = 'published', submitted_at = now() where id = $1::uuid",
    )
    .bind(s.trim_start_matches("/assessments/"))
    .execute(&pool)
    .await
    .expect("accepted");
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    assert_eq!(board.get(&format!("{s}/statement")).await.status, 200);
    let listed = texts(&board.get("/assessments").await.html(), "tbody tr");
    assert!(
        listed
            .iter()
            .any(|r| r.contains("Channel Panel assurance statement") && r.contains("Accepted")),
        "{listed:?}"
    );
}

#[sqlx::test]
async fn areas_for_improvement_are_in_the_councils_plan_and_its_exports(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 6, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    lead.post(
        "/assessments",
        &[("organisation", "ashbridge"), ("from", "blank")],
    )
    .await;
    let statement = started(&mut lead).await;
    let page = format!("{statement}/key-areas/5");
    let saved = lead
        .submit_page(
            &page,
            "form[action$='/key-areas/5']",
            &[
                ("status-5.2", "amber"),
                (
                    "evidence-5.2",
                    "These are in draft for sign-up by each organisation.",
                ),
                ("new-action-question", "5.2"),
                (
                    "new-action-description",
                    "Sign up to the shared privacy notice",
                ),
                ("new-action-owner", "Information Governance Lead"),
                ("new-action-target", "Sept 21"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(saved.status, 303, "{:?}", errors(&saved));

    let plan = lead.get("/orgs/ashbridge/actions").await.html();
    let row = texts(&plan, ".app-plan tbody tr")
        .into_iter()
        .find(|r| r.contains("Sign up to the shared privacy notice"))
        .expect("the area for improvement is in the plan");
    assert!(
        row.contains("Key area 5")
            && row.contains("5.2")
            && row.contains("Channel statement")
            && row.contains("Sept 21"),
        "{row}"
    );
    let change =
        support::attr(&plan, ".app-plan a[href*='/actions/']", "href").expect("a change link");
    assert!(
        change.starts_with(&format!("{statement}/actions/")),
        "changed on the statement: {change}"
    );
    assert_eq!(lead.get(&change).await.status, 200);
    // A benchmark filter is the self-assessment's: key area 5 is not benchmark 5.
    let five = lead.get("/orgs/ashbridge/actions?benchmark=5").await.html();
    assert!(
        !texts(&five, ".app-plan tbody tr")
            .iter()
            .any(|r| r.contains("privacy notice"))
    );

    let csv = lead.get("/orgs/ashbridge/actions.csv").await;
    let line = csv
        .body
        .lines()
        .find(|l| l.contains("Sign up to the shared privacy notice"))
        .expect("in the CSV");
    assert!(
        line.contains("\"Channel statement\"") && line.contains("\"Key area 5 Data Protection\""),
        "{line}"
    );
    // Whether a plan's workbook holds the statement's area for improvement.
    let holds_it = |bytes: &[u8]| {
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
                .expect("a workbook");
        let sheet = book.sheet_names()[0].clone();
        let range = book.worksheet_range(&sheet).expect("the sheet");
        range.rows().any(|r| {
            let cells: Vec<String> = r.iter().map(|c| c.to_string()).collect();
            cells
                .iter()
                .any(|c| c == "Sign up to the shared privacy notice")
                && cells.iter().any(|c| c == "Channel statement")
        })
    };
    let xlsx = lead.get("/orgs/ashbridge/actions.xlsx").await;
    assert!(holds_it(&xlsx.bytes), "in the workbook");

    // The board reads it only once the statement is accepted.
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    let plan = board.get("/orgs/ashbridge/actions").await.html();
    assert!(
        !texts(&plan, ".app-plan tbody tr")
            .iter()
            .any(|r| r.contains("privacy notice"))
    );
    // Nor in the plan's workbook, though the lead's, which holds it, is kept.
    let xlsx = board.get("/orgs/ashbridge/actions.xlsx").await;
    assert_eq!(xlsx.status, 200);
    assert!(!holds_it(&xlsx.bytes), "not in the board's workbook");
}

fn import_request(
    client: &Client,
    uri: &str,
    content: &[u8],
) -> axum::http::Request<axum::body::Body> {
    let boundary = "----prevent-assure-import";
    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"statement.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
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

/// Everything a statement records, as text.
async fn snapshot(pool: &PgPool, id: uuid::Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "select 'answer ' || i.code || ' ' || coalesce(rt.code, '-') || ' ' || an.evidence || ' ' ||
                an.needs_review || ' ' || an.fields::text || ' ' || array_to_string(an.prompt_evidence, '|')
         from answers an join items i on i.id = an.item_id left join ratings rt on rt.id = an.rating_id
         where an.assessment_id = $1
         union all
         select 'action ' || a.id || ' ' || coalesce(i.code, '-') || ' ' || a.description || ' ' ||
                a.owner_text || ' ' || a.target_text || ' ' || coalesce(a.due_on::text, '-') || ' ' || a.status
         from actions a left join items i on i.id = a.item_id where a.assessment_id = $1
         order by 1",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .expect("snapshot")
}

#[sqlx::test]
async fn the_statement_goes_to_excel_and_back_keeping_every_rating_contact_and_improvement(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 7, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let statement = started(&mut lead).await;
    let id: uuid::Uuid = statement
        .trim_start_matches("/assessments/")
        .parse()
        .expect("an id");
    all_green(&mut lead, &statement).await;
    let saved = lead
        .submit_page(
            &format!("{statement}/key-areas/3"),
            "form[action$='/key-areas/3']",
            &[
                ("status-3.2", "amber"),
                ("evidence-3.2", "The deputy chair is new in post."),
                ("new-action-question", "3.2"),
                (
                    "new-action-description",
                    "Induct the deputy chair with the Home Office",
                ),
                ("new-action-target", "June 21"),
                ("field-3.1-chair_name", "Director of Children's Services"),
                ("field-3.1-chair_email", "chair@ashbridge.gov.uk"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(saved.status, 303, "{:?}", errors(&saved));
    let before = snapshot(&pool, id).await;

    let exported = lead.get(&format!("{statement}/export.xlsx")).await;
    assert_eq!(exported.status, 200);
    // The workbook speaks of key areas and statements, with the footnotes and contacts written out.
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(exported.bytes.clone()))
            .expect("a workbook");
    let names = book.sheet_names();
    assert!(
        names.contains(&"Key area of control 3".to_owned()),
        "{names:?}"
    );
    let range = book
        .worksheet_range("Key area of control 3")
        .expect("the sheet");
    let cells: Vec<String> = range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(
        cells
            .iter()
            .any(|c| c.contains("Note: Changes to designated Channel chairs")),
        "footnote"
    );
    assert!(
        cells.contains(&"chair@ashbridge.gov.uk".to_owned()),
        "the chair's email"
    );
    assert!(cells.contains(&"Amber".to_owned()));
    assert!(cells.contains(&"Induct the deputy chair with the Home Office".to_owned()));

    let imported = lead
        .send(import_request(
            &lead,
            &format!("{statement}/import"),
            &exported.bytes,
        ))
        .await;
    assert_eq!(imported.status, 303, "{}", imported.body);
    assert_eq!(
        snapshot(&pool, id).await,
        before,
        "the round trip changes nothing"
    );

    // LibreOffice opens it too.
    let pdf = support::office::to_pdf(&exported.bytes, "channel-statement.xlsx");
    assert!(pdf.shows("Key area of control 3: Chairing skills / core competencies"));
}

#[sqlx::test]
async fn a_cycle_says_which_instruments_it_opens_and_by_when(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 8, 0, 1]);
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    let cycle = |label: &'static str, statement: [&'static str; 3], closed: bool| {
        let mut form = vec![
            ("label", label),
            ("opens-day", "1"),
            ("opens-month", "10"),
            ("opens-year", &label[..4]),
            ("deadline-day", "31"),
            ("deadline-month", "1"),
            ("deadline-year", "2031"),
            ("statement-day", statement[0]),
            ("statement-month", statement[1]),
            ("statement-year", statement[2]),
        ];
        if closed {
            form.push(("no-statement", "yes"));
        }
        form
    };
    let bad = admin
        .post("/admin/cycles", &cycle("2030/31", ["31", "2", "x"], false))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        errors(&bad),
        ["Enter the Channel statement's deadline as a real date like 19 4 2027, or leave it blank"]
    );
    assert_eq!(
        admin
            .post(
                "/admin/cycles",
                &cycle("2030/31", ["19", "4", "2031"], false)
            )
            .await
            .status,
        303
    );
    let rows = texts(&admin.get("/admin/cycles").await.html(), "tbody tr");
    let row = rows
        .iter()
        .find(|r| r.starts_with("2030/31"))
        .expect("the new cycle");
    assert!(
        row.contains("31 January 2031") && row.contains("19 April 2031"),
        "{row}"
    );

    // A cycle that does not open the statement: leads are not offered it, and cannot start it.
    let current: uuid::Uuid = sqlx::query_scalar(
        "select id from cycles where opens_on <= current_date order by starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("this cycle");
    sqlx::query("insert into cycle_frameworks (cycle_id, framework_code, open, deadline) values ($1, 'channel-aas-2020', false, current_date)")
        .bind(current)
        .execute(&pool)
        .await
        .expect("closed");
    let mut lead = signed_in(&router, LEAD).await;
    let offers = texts(
        &lead.get("/assessments").await.html(),
        ".govuk-inset-text h2",
    );
    assert!(!offers.iter().any(|o| o.contains("Channel")), "{offers:?}");
    let refused = lead
        .post(
            "/assessments",
            &[
                ("organisation", "ashbridge"),
                ("from", "blank"),
                ("framework", "channel-aas-2020"),
            ],
        )
        .await;
    assert_eq!(refused.status, 404);
}

/// The national grid at national scale: fifty councils a page, by key, forwards and back,
/// with the filters kept in the links and the counts above it covering every council.
#[sqlx::test]
async fn the_grid_pages_fifty_councils_at_a_time_by_key(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 9, 0, 1]);
    support::extra_councils(&pool, 70).await;
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("select id from organisations")
        .fetch_all(&pool)
        .await
        .expect("councils");
    prevent_assure::db::sample::fill_statements(
        &pool,
        &ids,
        time::OffsetDateTime::now_utc().date(),
    )
    .await
    .expect("statements");
    let councils = ids.len();
    assert!(councils > 70 && councils <= 100, "{councils}");

    let mut team = signed_in(&router, "channel@homeoffice.example").await;
    let first = team.get("/channel").await.html();
    let first_rows = texts(&first, "#grid tbody tr");
    assert_eq!(first_rows.len(), 50);
    assert_eq!(
        texts(&first, "#grid-shown"),
        [format!(
            "Showing councils 1 to 50 of {councils}, 50 at a time."
        )]
    );
    assert!(attr(&first, ".govuk-pagination__prev a", "href").is_none());
    let by_region = texts(&first, "#by-region tbody tr");
    let waiting = texts(&first, "#waiting");
    let next = attr(&first, ".govuk-pagination__next a", "href").expect("a next page");
    assert!(next.contains("after=") && next.contains("cycle="), "{next}");

    let second = team.get(&format!("/channel{next}")).await.html();
    let second_rows = texts(&second, "#grid tbody tr");
    assert_eq!(second_rows.len(), councils - 50);
    assert!(
        second_rows.iter().all(|r| !first_rows.contains(r)),
        "no council on both pages"
    );
    assert_eq!(
        texts(&second, "#grid-shown"),
        [format!(
            "Showing councils 51 to {councils} of {councils}, 50 at a time."
        )]
    );
    assert!(attr(&second, ".govuk-pagination__next a", "href").is_none());
    assert_eq!(
        texts(&second, "#by-region tbody tr"),
        by_region,
        "counts for all"
    );
    assert_eq!(texts(&second, "#waiting"), waiting);
    let previous = attr(&second, ".govuk-pagination__prev a", "href").expect("a page before");
    assert!(previous.contains("before="), "{previous}");
    let back = team.get(&format!("/channel{previous}")).await.html();
    assert_eq!(
        texts(&back, "#grid tbody tr"),
        first_rows,
        "back where it started"
    );

    // A filter is kept in the links; a key no longer in the list starts again.
    let region_only = team.get("/channel?region=north-vale").await.html();
    let in_region = texts(&region_only, "#grid tbody tr").len();
    assert_eq!(in_region, 50);
    let next = attr(&region_only, ".govuk-pagination__next a", "href").expect("a next page");
    assert!(next.contains("region=north-vale"), "{next}");
    let unknown = team.get("/channel?after=no-such-council").await.html();
    assert_eq!(texts(&unknown, "#grid tbody tr"), first_rows);
    let last_council: String = sqlx::query_scalar(
        "select o.slug from organisations o join regions r on r.id = o.region_id
         order by r.name desc, o.name desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("the last council");
    let after_last = team
        .get(&format!("/channel?after={last_council}"))
        .await
        .html();
    let tail = texts(&after_last, "#grid tbody tr");
    assert_eq!(tail.len(), 50, "after the last council: the last fifty");
    assert_eq!(tail.last(), second_rows.last());
}

#[sqlx::test]
async fn the_home_page_and_the_board_view_show_both_instruments(pool: PgPool) {
    let router = router_from(support::full_demo_state(pool.clone()).await, [16, 9, 0, 1]);
    // The lead's home: this cycle's self-assessment and statement, each with its state.
    let mut lead = signed_in(&router, LEAD).await;
    let home = lead.get("/").await.html();
    let rows = texts(&home, "#this-cycle + dl .govuk-summary-list__row");
    assert!(
        rows.iter().any(|r| r.contains("Ashbridge")
            && r.contains("self-assessment")
            && r.contains("Draft")),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.contains("Ashbridge")
            && r.contains("Channel Panel assurance statement")
            && r.contains("Draft")),
        "{rows:?}"
    );

    // The board view: the lead sees this cycle's statement (waiting for its signatory); a board
    // member, who reads a statement once accepted, sees last cycle's accepted one.
    let cycles: Vec<String> =
        sqlx::query_scalar("select label from cycles order by starts_on desc")
            .fetch_all(&pool)
            .await
            .expect("cycles");
    let board_of = |html: &scraper::Html| texts(html, "#channel-statement caption");
    let seen = board_of(&lead.get("/orgs/ashbridge").await.html());
    assert!(
        seen[0].contains(&cycles[0]) && seen[0].contains("Draft"),
        "{seen:?}"
    );
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    let html = board.get("/orgs/ashbridge").await.html();
    let seen = board_of(&html);
    assert!(
        seen[0].contains(&cycles[1]) && seen[0].contains("Accepted"),
        "{seen:?}"
    );
    let areas = texts(&html, "#channel-statement tbody tr");
    assert_eq!(areas.len(), 5, "five key areas: {areas:?}");
}

#[sqlx::test]
async fn a_statement_started_from_last_cycles_carries_evidence_contacts_and_open_improvements(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 10, 0, 1]);
    // Last cycle's statement: evidence, the chair's contacts, an open and a done improvement.
    let (org, lead_id, last_cycle): (uuid::Uuid, uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select o.id, u.id, c.id from organisations o, users u,
                (select id from cycles where opens_on <= current_date order by starts_on desc offset 1 limit 1) c
         where o.slug = 'ashbridge' and u.email = 'lead@ashbridge.example'",
    )
    .fetch_one(&pool)
    .await
    .expect("ids");
    let mut conn = pool.acquire().await.expect("a connection");
    let last = prevent_assure::db::assessments::start(
        &mut conn,
        org,
        last_cycle,
        "channel-aas-2020",
        false,
        lead_id,
    )
    .await
    .expect("last cycle's statement");
    let item = |code: &'static str| {
        format!(
            "(select i.id from items i join sections s on s.id = i.section_id
              where s.framework_id = (select framework_id from assessments where id = $1) and i.code = '{code}')"
        )
    };
    sqlx::query(&format!(
        "update answers set evidence = 'Terms of reference agreed by the panel in 2025.',
                rating_id = (select r.id from ratings r join assessments a on a.framework_id = r.framework_id
                             where a.id = $1 and r.code = 'green')
         where assessment_id = $1 and item_id = {}",
        item("1.1")
    ))
    .bind(last)
    .execute(&pool)
    .await
    .expect("evidence");
    sqlx::query(&format!(
        "update answers set fields = '{{\"chair_name\": \"Head of Early Help\", \"chair_email\": \"chair@ashbridge.gov.uk\"}}'
         where assessment_id = $1 and item_id = {}",
        item("3.1")
    ))
    .bind(last)
    .execute(&pool)
    .await
    .expect("contacts");
    sqlx::query(&format!(
        "insert into actions (organisation_id, assessment_id, section_id, item_id, source, description, owner_text, target_text, status)
         select $2, $1, i.section_id, i.id, 'question', d, 'Panel chair', 'Sept 26', st
         from items i, (values ('Refresh the panel induction pack', 'open'), ('Publish the privacy notice', 'done')) v(d, st)
         where i.id = {}",
        item("5.2")
    ))
    .bind(last)
    .bind(org)
    .execute(&pool)
    .await
    .expect("improvements");

    let mut lead = signed_in(&router, LEAD).await;
    let reply = lead
        .post(
            "/assessments",
            &[
                ("organisation", "ashbridge"),
                ("from", "previous"),
                ("framework", "channel-aas-2020"),
            ],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let statement = location(&reply).to_owned();
    assert_ne!(statement, format!("/assessments/{last}"));

    let tasks = lead.get(&statement).await.html();
    assert!(
        texts(&tasks, ".govuk-task-list__status")
            .iter()
            .all(|s| s == "Needs review"),
        "every rating to be confirmed again"
    );
    let area_1 = lead.get(&format!("{statement}/key-areas/1")).await.html();
    assert_eq!(
        texts(&area_1, "#q1-1-evidence"),
        ["Terms of reference agreed by the panel in 2025."]
    );
    assert!(
        attr(&area_1, "input[name='status-1.1'][checked]", "value").is_none(),
        "the rating is not carried: it is given again"
    );
    let area_3 = lead.get(&format!("{statement}/key-areas/3")).await.html();
    assert_eq!(
        attr(&area_3, "#q3-1-chair-name", "value").as_deref(),
        Some("Head of Early Help")
    );
    assert_eq!(
        attr(&area_3, "#q3-1-chair-email", "value").as_deref(),
        Some("chair@ashbridge.gov.uk")
    );
    let carried: Vec<String> = sqlx::query_scalar(
        "select description from actions where assessment_id = $1::uuid and carried_from is not null",
    )
    .bind(statement.trim_start_matches("/assessments/"))
    .fetch_all(&pool)
    .await
    .expect("carried");
    assert_eq!(
        carried,
        ["Refresh the panel induction pack"],
        "only the open one"
    );
}

#[sqlx::test]
async fn a_lead_invites_the_signatory_and_a_late_statement_is_recorded_as_late(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 11, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    // The lead invites the Chief Executive as the council's signatory.
    let invited = lead
        .submit_page(
            "/orgs/ashbridge/people",
            "main form",
            &[
                ("email", "chief.executive@ashbridge.example"),
                ("name", "Morgan Reyes"),
                ("role", "signatory"),
            ],
            "invite",
        )
        .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let role: String = sqlx::query_scalar(
        "select m.role from memberships m join users u on u.id = m.user_id
         where u.email = 'chief.executive@ashbridge.example'",
    )
    .fetch_one(&pool)
    .await
    .expect("the membership");
    assert_eq!(role, "signatory");
    let people = lead.get("/orgs/ashbridge/people").await.html();
    assert!(
        texts(&people, "tbody tr")
            .iter()
            .any(|r| r.contains("Morgan Reyes")
                && r.contains("Signatory (Chief Executive or Strategic Director)"))
    );

    // The statement's deadline has passed: it may still be submitted, and is recorded late.
    let statement = started(&mut lead).await;
    let id = statement.trim_start_matches("/assessments/").to_owned();
    sqlx::query(
        "insert into cycle_frameworks (cycle_id, framework_code, open, deadline)
         select a.cycle_id, 'channel-aas-2020', true, current_date - 3 from assessments a where a.id = $1::uuid
         on conflict (cycle_id, framework_code) do update set deadline = excluded.deadline",
    )
    .bind(&id)
    .execute(&pool)
    .await
    .expect("a deadline passed");
    all_green(&mut lead, &statement).await;
    lead.post(&format!("{statement}/sign-off/request"), &[])
        .await;
    let mut signatory = signed_in(&router, "signatory@ashbridge.example").await;
    let signed = signatory
        .submit_page(
            &format!("{statement}/sign-off"),
            "form[action$='/sign-off']",
            &[
                ("position", "Chief Executive"),
                ("panel", "single"),
                ("declare", "yes"),
            ],
            "",
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let submitted = lead.post(&format!("{statement}/submit"), &[]).await;
    assert_eq!(location(&submitted), format!("{statement}?done=submitted"));
    let late: serde_json::Value = sqlx::query_scalar(
        "select after from audit_events where action = 'assessment.submitted' and entity_id = $1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .expect("the submission");
    assert_eq!(late["late"], true, "{late}");
    let tasks = lead.get(&statement).await.html();
    assert!(
        texts(&tasks, ".govuk-summary-list__value .govuk-tag")
            .iter()
            .any(|t| t == "Late"),
        "the task list says it was late"
    );
}
