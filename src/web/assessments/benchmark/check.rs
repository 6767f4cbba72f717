//! Checking everything typed on a benchmark's page against what is stored: what to save, or
//! every error at once.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::super::Words;
use super::super::actions::check_fields;
use super::super::{ACTION_STATUSES, MAX_EVIDENCE, field_id, object, read_rag};
use super::{Extra, Intent, Typed};
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::db;
use crate::db::assessments::{Answer, Benchmark, Head, Save};
use crate::domain::files;
use crate::framework::{Framework, Requirement, Section};
use crate::scoring;
use crate::web::forms::{Errors, Upload};

/// The longest progress note, and the longest reply to an evidence request.
const MAX_NOTE: usize = 2000;
const MAX_REPLY: usize = 5000;

/// The stored answers as a save would write them, to tell whether anything changed.
fn stored_save(b: &Benchmark) -> Save {
    Save {
        answers: b
            .answers
            .iter()
            .map(|a| Answer {
                prompt_evidence: normal_prompts(a.prompt_evidence.clone()),
                ..a.clone()
            })
            .collect(),
        criteria_met: b
            .criteria_met
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        rag: b.result.rag.clone(),
        proposed_score: b.result.proposed_score,
        proposed_not_scored: b.result.proposed_not_scored,
        justification: b.result.justification.clone(),
        comments: b.result.comments.clone(),
    }
}

/// No evidence against any prompt is the same as none.
fn normal_prompts(prompts: Vec<String>) -> Vec<String> {
    if prompts.iter().all(String::is_empty) {
        Vec::new()
    } else {
        prompts
    }
}

/// The longest value of an item's own field (a name, an email address).
const MAX_FIELD: usize = 254;

/// Checks the section's own fields; returns what to save, adding any errors. A carried
/// forward item stays to be reviewed until it has a rating. `improved` names the items with
/// an action that has a timescale (including one typed on this page).
fn check_typed(
    fw: &Framework,
    section: &Section,
    typed: &Typed,
    stored: &Benchmark,
    improved: &BTreeSet<String>,
    rags: &scoring::RagMapping,
    errors: &mut Errors,
) -> Save {
    let words = Words::of(fw);
    let scale = if fw.scored { "status" } else { "rating" };
    let mut answers = Vec::with_capacity(section.items.len());
    for item in &section.items {
        let id = field_id(&item.code);
        let what = format!("{} {}", words.item_lower, item.code);
        let rating = match typed.statuses.get(&item.code).map(String::as_str) {
            None | Some("") => None,
            Some(s) => match fw.rating(s) {
                Some(r) => Some(r),
                None => {
                    errors.add(
                        format!("{id}-status"),
                        format!("Choose a {scale} for {what} from the list"),
                    );
                    None
                }
            },
        };
        let evidence = typed.evidence.get(&item.code).cloned().unwrap_or_default();
        if evidence.chars().count() > MAX_EVIDENCE {
            errors.add(
                format!("{id}-evidence"),
                format!("The evidence for {what} must be {MAX_EVIDENCE} characters or fewer"),
            );
        }
        if let Some(r) = rating {
            if evidence.trim().is_empty() && r.requires(Requirement::Details) {
                errors.add(
                    format!("{id}-evidence"),
                    format!(
                        "Give the further details behind the {} rating of {what}",
                        r.label
                    ),
                );
            }
            if evidence.trim().is_empty() && r.requires(Requirement::Reason) {
                errors.add(
                    format!("{id}-evidence"),
                    format!("Say why {what} is {}", r.label),
                );
            }
            if r.requires(Requirement::Improvement) && !improved.contains(&item.code) {
                errors.add(
                    format!("{id}-status"),
                    format!(
                        "Add an {} for {what} with a {}: a {} rating needs one",
                        words.action_lower,
                        words.target.to_lowercase(),
                        r.label
                    ),
                );
            }
        }
        let mut fields = std::collections::BTreeMap::new();
        for f in &item.fields {
            let value = typed
                .fields
                .get(&(item.code.clone(), f.code.clone()))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default();
            let field = format!("{id}-{}", f.code.replace('_', "-"));
            if value.chars().count() > MAX_FIELD {
                errors.add(
                    &field,
                    format!("{} must be {MAX_FIELD} characters or fewer", f.label),
                );
            } else if f.email && !value.is_empty() && !crate::web::forms::is_email(&value) {
                errors.add(
                    &field,
                    format!(
                        "Enter {} as an email address, like name@council.gov.uk",
                        f.label.to_lowercase()
                    ),
                );
            }
            if !value.is_empty() {
                fields.insert(f.code.clone(), value);
            }
        }
        let status = rating.map(|r| r.code.clone());
        let prompts = if fw.prompts_are_footnotes {
            0
        } else {
            item.prompts.len()
        };
        let prompt_evidence: Vec<String> = (0..prompts)
            .map(|i| {
                typed
                    .prompts
                    .get(&(item.code.clone(), i))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        for (i, p) in prompt_evidence.iter().enumerate() {
            if p.chars().count() > MAX_EVIDENCE {
                errors.add(format!("{id}-prompt-{i}"), format!("The evidence for prompt {} of question {} must be {MAX_EVIDENCE} characters or fewer", i + 1, item.code));
            }
        }
        let carried = stored
            .answers
            .iter()
            .any(|a| a.code == item.code && a.needs_review);
        answers.push(Answer {
            code: item.code.clone(),
            needs_review: carried && status.is_none(),
            status,
            evidence,
            prompt_evidence: normal_prompts(prompt_evidence),
            fields,
        });
    }
    let known: BTreeSet<&str> = section
        .levels
        .iter()
        .flat_map(|l| l.criteria.iter().map(|c| c.id.as_str()))
        .collect();
    if typed.criteria.iter().any(|c| !known.contains(c.as_str())) {
        errors.add("criteria", "Choose criteria from the list");
    }
    let rag = read_rag(&typed.rag).unwrap_or_else(|message| {
        errors.add("rag", message);
        None
    });
    let (proposed_score, proposed_not_scored) = match typed.proposed.as_str() {
        "" => (None, false),
        "not_scored" if section.may_be_not_scored => (None, true),
        "not_scored" => {
            errors.add(
                "proposed",
                format!(
                    "Benchmark {} is always scored: choose a score from 1 to 5",
                    section.number
                ),
            );
            (None, false)
        }
        _ => match typed.proposed_score() {
            Some(s) => (Some(i16::from(s.get())), false),
            None => {
                errors.add("proposed", "Choose a score from 1 to 5");
                (None, false)
            }
        },
    };
    let suggestion = scoring::suggest(section, &typed.record(section), rags);
    let proposed = if proposed_not_scored {
        None
    } else {
        typed.proposed_score()
    };
    let has_proposal = proposed_score.is_some() || proposed_not_scored;
    if has_proposal
        && scoring::justification_required(suggestion.score, proposed)
        && typed.justification.trim().is_empty()
    {
        errors.add(
            "justification",
            "Explain why the proposed score differs from the suggested score",
        );
    }
    for (field, text, label) in [
        ("justification", &typed.justification, "The justification"),
        ("comments", &typed.comments, "The comments"),
    ] {
        if text.chars().count() > MAX_EVIDENCE {
            errors.add(
                field,
                format!("{label} must be {MAX_EVIDENCE} characters or fewer"),
            );
        }
    }
    Save {
        answers,
        criteria_met: typed.criteria.iter().cloned().collect(),
        rag,
        proposed_score,
        proposed_not_scored,
        justification: typed.justification.trim().to_owned(),
        comments: typed.comments.trim().to_owned(),
    }
}

/// A change of an action's status or RAG, to make at the version it was chosen at.
pub(super) struct StatusChange {
    pub(super) id: Uuid,
    pub(super) version: i32,
    pub(super) status: String,
    pub(super) rag: Option<String>,
    pub(super) before: (String, Option<String>),
}

/// Everything a save does, once checked.
#[derive(Default)]
pub(super) struct Plan {
    pub(super) benchmark: Option<Save>,
    pub(super) statuses: Vec<StatusChange>,
    pub(super) notes: Vec<(Uuid, String)>,
    pub(super) new_action: Option<db::actions::NewAction>,
    pub(super) file: Option<(Option<String>, String, &'static str, Vec<u8>)>,
    pub(super) replies: Vec<(Uuid, String)>,
    pub(super) delete_file: Option<(Uuid, String)>,
}

/// Checks everything typed on the page against what is stored, adding errors; returns what
/// to do.
#[allow(clippy::too_many_arguments)]
pub(super) fn plan(
    who: &Principal,
    head: &Head,
    fw: &Framework,
    section: &Section,
    stored: &db::assessments::BenchmarkPage,
    typed: &Typed,
    extra: &mut Extra,
    file: Option<Upload>,
    intent: Intent,
    rags: &scoring::RagMapping,
    errors: &mut Errors,
) -> Plan {
    let n = section.number as i32;
    let words = Words::of(fw);
    let editable = policy::allows(who, Action::EditBenchmark(n), object(head));
    let may_answer = policy::allows(who, Action::AnswerRequest(n), object(head));
    let mut plan = Plan::default();
    let of_page = |id: &Uuid| stored.actions.iter().find(|a| a.id == *id);

    if editable {
        // Items with an action that has a timescale: stored and still to be done, or typed here.
        let mut improved: BTreeSet<String> = stored
            .actions
            .iter()
            .filter(|a| !a.target_text.trim().is_empty() && a.status != "cancelled")
            .filter_map(|a| a.item_code.clone())
            .collect();
        if !extra.new_action.target.trim().is_empty()
            && !extra.new_action.description.trim().is_empty()
        {
            improved.insert(extra.new_action.place.clone());
        }
        let save = check_typed(
            fw,
            section,
            typed,
            &stored.benchmark,
            &improved,
            rags,
            errors,
        );
        if save != stored_save(&stored.benchmark) {
            plan.benchmark = Some(save);
        }

        // Existing actions: a changed status or RAG, a progress note.
        for (id, t) in &extra.statuses {
            let Some(a) = of_page(id) else { continue };
            if t.status == a.status && t.rag == a.rag.clone().unwrap_or_default() {
                continue;
            }
            let field = format!("action-{id}-status");
            if !ACTION_STATUSES.iter().any(|(c, _)| *c == t.status) {
                errors.add(field, "Choose the action's status");
                continue;
            }
            match read_rag(&t.rag) {
                Ok(rag) => plan.statuses.push(StatusChange {
                    id: *id,
                    version: t.version,
                    status: t.status.clone(),
                    rag,
                    before: (a.status.clone(), a.rag.clone()),
                }),
                Err(message) => errors.add(format!("action-{id}-rag"), message),
            }
        }
        for (id, note) in &extra.notes {
            if of_page(id).is_none() {
                if !note.trim().is_empty() {
                    errors.add(
                        "actions",
                        format!(
                            "An action you wrote a progress note for has been deleted since you opened this page, so nothing was saved. Your note was: “{}”",
                            note.trim()
                        ),
                    );
                }
                continue;
            }
            let field = format!("action-{id}-note");
            let note = note.trim();
            if note.chars().count() > MAX_NOTE {
                errors.add(
                    field,
                    format!("A progress note must be {MAX_NOTE} characters or fewer"),
                );
            } else if !note.is_empty() {
                plan.notes.push((*id, note.to_owned()));
            }
        }
        if let Intent::Note(id) = intent
            && extra.notes.get(&id).is_none_or(|n| n.trim().is_empty())
        {
            errors.add(format!("action-{id}-note"), "Write the progress note");
        }

        // A new action, when one was typed (or asked for).
        if extra.new_action.is_typed() || intent == Intent::AddAction {
            let question = match extra.new_action.place.as_str() {
                "" => None,
                code if section.items.iter().any(|i| i.code == code) => Some(code.to_owned()),
                _ => {
                    errors.add(
                        "new-action-question",
                        format!(
                            "Choose the {} the {} is for, or the {}",
                            words.item_lower, words.action_lower, words.section_lower
                        ),
                    );
                    None
                }
            };
            if let Some(checked) = check_fields(
                &extra.new_action,
                "new-action",
                &stored.people,
                head,
                errors,
            ) {
                plan.new_action = Some(db::actions::NewAction {
                    organisation: head.organisation_id,
                    assessment: head.id,
                    section_number: n,
                    item_code: question,
                    description: checked.description,
                    owner_text: checked.owner_text,
                    owner_user: checked.owner_user,
                    target_text: checked.target.text,
                    due_on: checked.target.due,
                    status: "open".to_owned(),
                    rag: checked.rag,
                });
            }
        }

        // A file, when one was chosen (or asked for).
        let question = match extra.attachment_question.as_str() {
            "" => Ok(None),
            code if section.items.iter().any(|i| i.code == code) => Ok(Some(code.to_owned())),
            _ => Err(()),
        };
        match (file, intent) {
            (Some(file), _) => match (super::super::attachments::check(&file), question) {
                (Ok(kind), Ok(question)) => {
                    plan.file = Some((question, files::clean_name(&file.name), kind, file.content))
                }
                (Err(message), _) => {
                    errors.add("attachment-file", message);
                    extra.file_again = true;
                }
                (_, Err(())) => {
                    errors.add(
                        "attachment-question",
                        format!(
                            "Choose the {} the file is for, or the {}",
                            words.item_lower, words.section_lower
                        ),
                    );
                    extra.file_again = true;
                }
            },
            (None, Intent::Upload) => errors.add("attachment-file", "Select a file"),
            _ => {}
        }
        // A file already gone needs no deleting.
        if let Intent::DeleteAttachment(file) = intent
            && let Some(listed) = stored.attachments.iter().find(|f| f.id == file)
        {
            plan.delete_file = Some((file, listed.filename.clone()));
        }
    }

    if may_answer {
        for t in &stored.threads {
            let id = t.request.id;
            let reply = extra.replies.get(&id).map_or("", |r| r.trim());
            let field = format!("reply-{id}");
            if reply.is_empty() {
                if intent == Intent::Reply(id) {
                    errors.add(field, "Write your reply");
                }
            } else if t.request.resolved_at.is_some() {
                errors.add(field, "The adviser has resolved this request");
            } else if reply.chars().count() > MAX_REPLY {
                errors.add(
                    field,
                    format!("A reply must be {MAX_REPLY} characters or fewer"),
                );
            } else {
                plan.replies.push((id, reply.to_owned()));
            }
        }
    }
    // A button for something gone since the page was opened: said, and nothing lost.
    match intent {
        Intent::EditAction(id) | Intent::Note(id) | Intent::Status(id)
            if of_page(&id).is_none() =>
        {
            errors.add(
                "actions",
                "That action has been deleted since you opened this page, so nothing was saved. Everything you typed is still below",
            );
        }
        Intent::Reply(id) if !stored.threads.iter().any(|t| t.request.id == id) => {
            errors.add(
                "requests",
                format!("That evidence request is no longer on this {}, so nothing was saved. Everything you typed is still below", words.section_lower),
            );
        }
        _ => {}
    }
    plan
}
