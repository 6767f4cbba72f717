//! Turning notices into messages: who hears of each, and what it says to them.

use sqlx::{PgConnection, PgPool};

use super::message::{Message, To, why};
use crate::db;
use crate::db::notices::{Claimed, Recipient};
use crate::framework::{Catalogue, Instrument};

/// Turns every pending notice into notifications and mail, one transaction each, so that each
/// is turned exactly once whichever server gets to it. How many notices were handled.
pub async fn pending(
    pool: &PgPool,
    frameworks: &Catalogue,
    public_url: &str,
) -> anyhow::Result<usize> {
    let mut done = 0;
    // Bounded, so that a burst does not hold up the mail and the schedules.
    for _ in 0..500 {
        let mut tx = pool.begin().await?;
        let Some(notice) = db::notices::claim(&mut tx).await? else {
            break;
        };
        let messages = messages(&mut tx, frameworks, &notice).await?;
        let mut notifications = Vec::with_capacity(messages.len());
        let mut mails = Vec::with_capacity(messages.len());
        for (r, message) in &messages {
            let to = To {
                user_id: r.user_id,
                email: &r.email,
                mail_reminders: r.mail_reminders,
                mail_digests: r.mail_digests,
                unsubscribe_token: &r.unsubscribe_token,
            };
            let key = format!("notice:{}:{}", notice.id, r.user_id);
            let (notification, mail) = message.for_person(&to, &key, public_url)?;
            notifications.push(notification);
            mails.extend(mail);
        }
        db::notices::insert_notifications(&mut tx, &notifications).await?;
        db::outbox::enqueue_many(&mut tx, &mails).await?;
        db::notices::mark_dispatched(&mut tx, notice.id).await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// Who hears of a notice and what they are told. A notice about something since removed (a
/// council's assessment deleted) tells nobody.
async fn messages(
    conn: &mut PgConnection,
    frameworks: &Catalogue,
    n: &Claimed,
) -> sqlx::Result<Vec<(Recipient, Message)>> {
    let (Some(council), Some(slug)) = (
        n.organisation_name.as_deref(),
        n.organisation_slug.as_deref(),
    ) else {
        return Ok(Vec::new());
    };
    let fw = n.framework_code.as_deref().and_then(|c| frameworks.get(c));
    let channel = fw.is_some_and(|f| f.kind == Instrument::ChannelStatement);
    let name = match fw {
        Some(f) if channel => f.assessment_name.clone(),
        _ => "Prevent duty self-assessment".to_owned(),
    };
    let cycle = n.cycle_label.clone().unwrap_or_default();
    let id = n.assessment_id.map(|a| a.to_string()).unwrap_or_default();
    let region = n.region_name.clone().unwrap_or_default();
    let benchmark = n.section_number;
    let section_word = if channel { "key area" } else { "benchmark" };
    let section = match (benchmark, &n.section_title) {
        (Some(b), Some(t)) => format!("{section_word} {b} ({t})"),
        (Some(b), None) => format!("{section_word} {b}"),
        _ => String::new(),
    };

    // Who, by role: at the council, in its region, nationally, or one named person.
    let (council_roles, region_roles, national_roles): (&[&str], &[&str], &[&str]) =
        match n.kind.as_str() {
            "submitted" if channel => (&[], &[], &["channel_team"]),
            "submitted" => (&[], &["adviser"], &[]),
            "returned" | "signed" | "voided" => (&["lead"], &[], &[]),
            "evidence_requested" => (&["lead", "contributor"], &[], &[]),
            "agreed" | "published" | "accepted" => (&["lead", "board"], &[], &[]),
            "sign_off_requested" => (&["signatory"], &[], &[]),
            _ => (&[], &[], &[]),
        };
    let people = db::notices::recipients(
        conn,
        n.organisation_id,
        n.region_id,
        council_roles,
        benchmark,
        region_roles,
        national_roles,
        n.person_id,
        n.actor_id,
    )
    .await?;

    let base = |subject: String, lines: Vec<String>, link: String, link_text: &str| Message {
        kind: n.kind.clone(),
        subject,
        lines,
        quote: None,
        items: Vec::new(),
        link,
        link_text: link_text.to_owned(),
        why: String::new(),
        optional: None,
    };
    let message = match n.kind.as_str() {
        "submitted" => base(
            format!("{council} has submitted its {name} for {cycle}"),
            vec![if channel {
                format!("{council}'s {name} for {cycle} is signed and ready for the Channel team to check.")
            } else {
                format!("{council}'s {name} for {cycle} is ready for your review.")
            }],
            if channel {
                format!("/assessments/{id}/channel-review")
            } else {
                format!("/assessments/{id}/review")
            },
            if channel { "Check the statement" } else { "Review the self-assessment" },
        ),
        "returned" => Message {
            quote: n.reason.clone(),
            ..base(
                format!("Your {name} for {cycle} has been returned"),
                vec![format!(
                    "The {} returned {council}'s {name} for {cycle} so that it can be changed and submitted again. They said:",
                    if channel { "Home Office's Channel team" } else { "regional adviser" }
                )],
                format!("/assessments/{id}"),
                "Open the returned assessment",
            )
        },
        "evidence_requested" => base(
            format!("More evidence is asked for on {}", section_word_with_number(section_word, benchmark)),
            vec![format!(
                "The regional adviser has asked {council} for more evidence on {section} of the {name} for {cycle}. The request and a box for the reply are on the {section_word}'s page."
            )],
            format!("/assessments/{id}/{}/{}", fw.map_or("benchmarks", |f| f.section_path.as_str()), benchmark.unwrap_or(1)),
            "Read the request and reply",
        ),
        "evidence_replied" => base(
            format!("{council} has replied to your request on {}", section_word_with_number(section_word, benchmark)),
            vec![format!(
                "{council} has replied to your request for evidence on {section} of its {name} for {cycle}."
            )],
            format!("/assessments/{id}/review#benchmark-{}", benchmark.unwrap_or(1)),
            "Read the reply",
        ),
        "agreed" => base(
            format!("The scores of {council}'s {name} for {cycle} are agreed"),
            vec!["The regional adviser has agreed the scores. The letter follows when it is published.".to_owned()],
            format!("/orgs/{slug}"),
            "See the council's summary",
        ),
        "published" => base(
            format!("The letter on {council}'s {name} for {cycle} is published"),
            vec!["The regional adviser has published the agreed scores and the letter with the recommended actions, which are now in the council's action plan.".to_owned()],
            format!("/assessments/{id}/letter"),
            "Read the letter",
        ),
        "accepted" => base(
            format!("The Channel team has accepted {council}'s {name} for {cycle}"),
            vec![format!("The Home Office's Channel team has checked and accepted the {name}. Nothing more is needed for {cycle}.")],
            format!("/assessments/{id}/statement"),
            "See the statement",
        ),
        "sign_off_requested" => base(
            format!("{council}'s {name} for {cycle} is ready for your signature"),
            vec![format!("The Prevent lead asks you to read and sign {council}'s {name} for {cycle} before it goes to the Home Office's Channel team.")],
            format!("/assessments/{id}/sign-off"),
            "Read and sign the statement",
        ),
        "signed" => base(
            format!("{council}'s {name} for {cycle} is signed"),
            vec!["The statement is signed and can now be submitted to the Home Office's Channel team.".to_owned()],
            format!("/assessments/{id}/statement"),
            "See the statement",
        ),
        "voided" => base(
            format!("The signature on {council}'s {name} for {cycle} no longer stands"),
            vec![format!(
                "The signature was voided because {} after it was signed. Ask for it to be signed again before submitting.",
                n.reason.as_deref().filter(|r| !r.is_empty()).unwrap_or("the statement changed")
            )],
            format!("/assessments/{id}/statement"),
            "See the statement",
        ),
        "action_assigned" | "action_target_changed" => {
            let description: String = n.action_description.clone().unwrap_or_default();
            let short = if description.chars().count() > 200 {
                format!("{}…", description.chars().take(200).collect::<String>())
            } else {
                description
            };
            let target = n
                .action_target
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "no target".to_owned());
            let subject = if n.kind == "action_assigned" {
                format!("An action in {council}'s plan is yours")
            } else {
                format!("The target of your action in {council}'s plan has changed")
            };
            Message {
                items: vec![format!("{short} (target: {target})")],
                ..base(
                    subject,
                    vec![if n.kind == "action_assigned" {
                        format!("You are now the owner of this action in {council}'s action plan:")
                    } else {
                        format!("The target of this action you own in {council}'s action plan is now {target}:")
                    }],
                    "/me/actions".to_owned(),
                    "See your actions",
                )
            }
        }
        _ => return Ok(Vec::new()),
    };
    Ok(people
        .into_iter()
        .map(|r| {
            let place = match r.role.as_str() {
                "adviser" => region.as_str(),
                _ => council,
            };
            let reason = match n.kind.as_str() {
                "action_assigned" | "action_target_changed" => {
                    format!("You get this because you own this action in {council}'s plan.")
                }
                "evidence_replied" => {
                    "You get this because you asked for this evidence.".to_owned()
                }
                _ => why(&r.role, place, benchmark),
            };
            let m = Message {
                why: reason,
                ..message.clone()
            };
            (r, m)
        })
        .collect())
}

fn section_word_with_number(word: &str, n: Option<i32>) -> String {
    match n {
        Some(n) => format!("{word} {n}"),
        None => word.to_owned(),
    }
}
