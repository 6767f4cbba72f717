//! The audit trail as people read it: administrators see all of it, a lead their council's part.
//! Events are named in words, each change is a list of the fields that changed, times are UK
//! local time. The filters live in the address, so a filtered view can be bookmarked or sent;
//! the same events download as JSON, as recorded, for auditors.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use crate::app::AppState;
use crate::db::audit::{Cursor, Event, Filter};
use crate::error::AppResult;
use crate::web::forms::Errors;

/// Events on one page.
pub const PAGE_SIZE: i64 = 50;
/// Events in one JSON download; a longer trail continues at the `next` address it gives.
pub const DOWNLOAD_SIZE: i64 = 5000;

/// Every event the service records, with what a person would call it.
pub const EVENTS: &[(&str, &str)] = &[
    ("action.created", "Added an action"),
    ("action.updated", "Changed an action"),
    ("action.noted", "Added a progress note"),
    ("action.deleted", "Deleted an action"),
    ("assessment.started", "Started a self-assessment"),
    ("assessment.imported", "Imported a workbook"),
    ("benchmark.saved", "Saved a benchmark"),
    ("attachment.added", "Uploaded an evidence file"),
    ("attachment.deleted", "Removed an evidence file"),
    ("assessment.submitted", "Submitted the self-assessment"),
    ("assessment.review_started", "Started the review"),
    ("review.saved", "Saved the review of a benchmark"),
    ("evidence.requested", "Asked for more evidence"),
    ("evidence.replied", "Replied to a request for evidence"),
    (
        "evidence.resolved",
        "Marked a request for evidence resolved",
    ),
    ("recommendation.added", "Added a recommended action"),
    ("recommendation.removed", "Removed a recommended action"),
    (
        "assessment.returned",
        "Returned the self-assessment to the council",
    ),
    ("assessment.agreed", "Agreed the scores"),
    ("letter.edited", "Changed the letter's own lines"),
    ("assessment.published", "Published the scores and letter"),
    ("letter_template.saved", "Saved a letter template"),
    ("sign_off.requested", "Asked for the statement to be signed"),
    ("sign_off.signed", "Signed the statement"),
    ("assessment.accepted", "Accepted the statement"),
    ("cycle.created", "Opened a cycle"),
    ("region.created", "Added a region"),
    ("organisation.created", "Added a council"),
    ("membership.added", "Gave someone a role"),
    ("membership.removed", "Took away a role"),
    ("invitation.accepted", "Accepted an invitation"),
    (
        "user.created",
        "Created an account with a password (command line)",
    ),
    ("user.disabled", "Disabled an account"),
    ("user.enabled", "Enabled an account"),
    ("user.unlocked", "Unlocked an account"),
    ("account.locked", "Account locked after failed sign-ins"),
    ("sign_in.succeeded", "Signed in"),
    (
        "sign_in.password_accepted",
        "Gave the right password; the second factor next",
    ),
    (
        "sign_in.sso",
        "Signed in through an identity provider (single sign-on)",
    ),
    (
        "sign_in.sso_accepted",
        "Signed in through an identity provider; the second factor next",
    ),
    (
        "sign_in.sso_refused",
        "Sign-in through an identity provider refused",
    ),
    ("identity_provider.saved", "Saved an identity provider"),
    ("mfa.set_up", "Set up a second factor"),
    (
        "mfa.used",
        "Signed in with a code from the authenticator app",
    ),
    ("mfa.recovery_used", "Signed in with a recovery code"),
    ("mfa.failed", "Entered a wrong or used second-factor code"),
    ("mfa.reset", "Reset someone's second factor"),
    (
        "sso.unlinked",
        "Forgot the link to someone's account at their organisation",
    ),
    (
        "mfa.council_required",
        "Changed whether the council requires a second factor",
    ),
    ("sign_in.failed", "Sign-in failed"),
    ("sign_in.refused_locked", "Sign-in refused: account locked"),
    (
        "sign_in.rate_limited",
        "Sign-in refused: too many attempts from this address",
    ),
    ("sessions.ended", "Signed out everywhere"),
    ("password.changed", "Changed their password"),
    ("mail.chosen", "Chose which reminders and digests to get"),
    (
        "mail.unsubscribed",
        "Stopped reminders or digests from a mail's link",
    ),
    (
        "mail.retried",
        "Put a mail that could not be sent back in the queue",
    ),
    ("password_reset.requested", "Asked to reset a password"),
    (
        "password_reset.throttled",
        "Refused a password reset: too many asked for",
    ),
    ("password_reset.completed", "Reset their password"),
    ("permission.refused", "Refused: not permitted"),
];

/// An event's name in words; an event this list does not know yet, as recorded.
pub fn describe(action: &str) -> String {
    words_for(action).into_owned()
}

/// As [`describe`], without a copy of the words when the event is known (the page's rows).
fn words_for(action: &str) -> Cow<'static, str> {
    EVENTS.iter().find(|(code, _)| *code == action).map_or_else(
        || Cow::Owned(action.to_owned()),
        |(_, words)| Cow::Borrowed(*words),
    )
}

/// A field's name in words: named here, or its name with spaces for `_` and `.` and a capital.
fn field_label(key: &str) -> Cow<'static, str> {
    Cow::Borrowed(match key {
        "item_code" => "Question",
        "section" | "number" | "section_number" => "Benchmark",
        "target_text" => "Target",
        "rag" => "RAG",
        "cc" => "Copied to",
        "owner_user" => "Owner's account",
        "extra" => "Own paragraph",
        "ip" => "Internet address",
        // The commonest fields and entities, as the rule below words them, without building
        // the words for each of a page's events (a test checks they agree with the rule).
        _ => match COMMON_FIELDS.iter().find(|(k, _)| *k == key) {
            Some((_, words)) => words,
            None => return Cow::Owned(field_words(key)),
        },
    })
}

const COMMON_FIELDS: &[(&str, &str)] = &[
    ("statuses", "Statuses"),
    ("status", "Status"),
    ("criteria_met", "Criteria met"),
    ("proposed_score", "Proposed score"),
    ("proposed_not_scored", "Proposed not scored"),
    ("version", "Version"),
    ("description", "Description"),
    ("owner", "Owner"),
    ("due_on", "Due on"),
    ("benchmark", "Benchmark"),
    ("question", "Question"),
    ("filename", "Filename"),
    ("state", "State"),
    ("assessment", "Assessment"),
    ("action", "Action"),
    ("attachment", "Attachment"),
    ("comment", "Comment"),
    ("user", "User"),
    ("session", "Session"),
    ("organisation", "Organisation"),
];

fn field_words(key: &str) -> String {
    let words = key.replace(['_', '.'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Longest text shown on the page for one value; the download holds it whole.
const SHOWN_CHARS: usize = 300;

fn value_text(v: &Value) -> String {
    let text = match v {
        Value::Null => "none".to_owned(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::String(s) if s.is_empty() => "blank".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join("; "),
        // A map of things by name (a benchmark's statuses by question, say): each named.
        Value::Object(map) if map.is_empty() => "none".to_owned(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", value_text(v)))
            .collect::<Vec<_>>()
            .join("; "),
    };
    if text.chars().count() > SHOWN_CHARS {
        let cut: String = text.chars().take(SHOWN_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// One field as it was and as it became (`None`: it was not there).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: Cow<'static, str>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Change {
    /// What it was and what it became, for the page.
    pub fn was_now(&self) -> (Option<&str>, Option<&str>) {
        (self.before.as_deref(), self.after.as_deref())
    }
}

/// The fields an event changed: for a new thing every field it was given, for a removed one
/// every field it had, otherwise only those whose value differs.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    // Read where they are, not copied: an event's before and after can hold a benchmark's
    // evidence, and a page shows fifty events.
    fn object<'a>(
        v: Option<&'a Value>,
        empty: &'a serde_json::Map<String, Value>,
    ) -> &'a serde_json::Map<String, Value> {
        v.and_then(Value::as_object).unwrap_or(empty)
    }
    let empty = serde_json::Map::new();
    match (before, after) {
        (None, None) => Vec::new(),
        (Some(b), Some(a)) if !b.is_object() || !a.is_object() => {
            if a == b {
                Vec::new()
            } else {
                vec![Change {
                    field: Cow::Borrowed("Value"),
                    before: Some(value_text(b)),
                    after: Some(value_text(a)),
                }]
            }
        }
        _ => {
            let (b, a) = (object(before, &empty), object(after, &empty));
            let mut keys: Vec<&String> = a.keys().collect();
            keys.extend(b.keys().filter(|k| !a.contains_key(*k)));
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| Change {
                    field: field_label(k),
                    before: before.and(b.get(k)).map(value_text),
                    after: after.and(a.get(k)).map(value_text),
                })
                .collect()
        }
    }
}

/// The filter form, as typed; it lives in the address.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Where the page starts: after this event (`micros.id` of the last one shown).
    #[serde(default)]
    pub older: String,
}

fn day(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

impl AuditQuery {
    /// The database filter; dates that do not parse are reported, not guessed.
    pub fn filter(
        &self,
        organisation: Option<uuid::Uuid>,
    ) -> (Filter, Vec<(&'static str, String)>) {
        let mut problems = Vec::new();
        let mut date = |field: &'static str, text: &str, next_day: bool| {
            if text.trim().is_empty() {
                return None;
            }
            match day(text) {
                Some(d) => {
                    let d = if next_day {
                        d.next_day().unwrap_or(d)
                    } else {
                        d
                    };
                    Some(OffsetDateTime::new_utc(d, Time::MIDNIGHT))
                }
                None => {
                    problems.push((
                        field,
                        "Enter the date as year-month-day, like 2026-04-01".to_owned(),
                    ));
                    None
                }
            }
        };
        let from = date("from", &self.from, false);
        let to = date("to", &self.to, true);
        (
            Filter {
                organisation,
                actor: self.actor.trim().to_owned(),
                action: self.action.trim().to_owned(),
                entity_type: self.entity.trim().to_owned(),
                from,
                to,
            },
            problems,
        )
    }

    /// The event the page starts after, if the address names a readable one.
    pub fn cursor(&self) -> Option<Cursor> {
        let (micros, id) = self.older.split_once('.')?;
        let micros: i128 = micros.parse().ok()?;
        let at = OffsetDateTime::from_unix_timestamp_nanos(micros.checked_mul(1000)?).ok()?;
        Some(Cursor {
            occurred_at: at,
            id: id.parse().ok()?,
        })
    }

    /// The filters as a query string, without the page's start.
    pub fn filters(&self) -> String {
        let pairs = [
            ("actor", self.actor.as_str()),
            ("action", self.action.as_str()),
            ("entity", self.entity.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The address of the page that follows `last`, with the same filters.
    fn after(&self, occurred_at: OffsetDateTime, id: i64) -> String {
        let micros = occurred_at.unix_timestamp_nanos() / 1000;
        let filters = self.filters();
        let sep = if filters.is_empty() { "" } else { "&" };
        format!("?{filters}{sep}older={micros}.{id}")
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One row of the trail, in words, and as the page's table shows it.
pub struct Row {
    /// The row's `<tr>`, escaped as written (`partials/audit_row.html`).
    pub html: String,
    pub when: String,
    pub who: String,
    pub from: String,
    pub what: Cow<'static, str>,
    pub code: String,
    pub entity: Cow<'static, str>,
    pub council: String,
    pub changes: Vec<Change>,
}

/// An event's `before` or `after`, as the JSON it was recorded as.
fn json(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

/// The row's cells, written once when the event is first worded.
#[derive(askama::Template)]
#[template(path = "partials/audit_row.html")]
struct RowHtml<'a> {
    r: &'a Row,
}

impl Row {
    fn worded(e: Event) -> askama::Result<Row> {
        let (before, after) = (json(e.before.as_deref()), json(e.after.as_deref()));
        let mut row = Row {
            html: String::new(),
            when: crate::domain::uk_time(e.occurred_at),
            who: e.actor_label,
            from: e.ip.map(|ip| ip.ip().to_string()).unwrap_or_default(),
            what: words_for(&e.action),
            changes: changes(before.as_ref(), after.as_ref()),
            code: e.action,
            entity: field_label(&e.entity_type),
            council: e.organisation_name.unwrap_or_default(),
        };
        row.html = askama::Template::render(&RowHtml { r: &row })?;
        Ok(row)
    }
}

/// Most events kept worded; past it, all are forgotten and worded again as they are shown.
const WORDED_LIMIT: usize = 5_000;

/// Events as the trail's page words them, by id, kept by each server. An event is never changed
/// once recorded (the database refuses it), so its words, time and changes are worked out once
/// and reused by every view that shows it: reading fifty events' JSON and listing what changed
/// was most of the page's cost, and the page is the one not otherwise kept in memory
/// (bench/README.md). The page's statement is told which events are worded already and leaves
/// out their `before` and `after`. Only an event's council's name can change (the council
/// renamed): a row whose name differs from the one just read is worded again.
#[derive(Default)]
pub struct Worded(Mutex<BTreeMap<i64, Arc<Row>>>);

impl Worded {
    fn kept(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, Arc<Row>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The newest `n` events worded, below `below` when given (a later page's start): those the
    /// page asked for most likely shows again (ids follow the order events are recorded in).
    fn newest(&self, below: Option<i64>, n: usize) -> Vec<i64> {
        let kept = self.kept();
        kept.range(..below.unwrap_or(i64::MAX))
            .rev()
            .take(n)
            .map(|(id, _)| *id)
            .collect()
    }

    /// The page's rows, worded or taken as kept; `keep`: whether copies are kept at all (not
    /// with `KEEP_VIEWS=false`, where every view is built from what the database says). An
    /// event read without its `before` and `after` that is not kept after all (forgotten since
    /// the statement was asked for, or its council renamed) is `Err(id)`: read it in full and
    /// word it with [`Worded::word`].
    fn rows(&self, events: Vec<Event>, keep: bool) -> askama::Result<Vec<Result<Arc<Row>, i64>>> {
        if !keep {
            return events
                .into_iter()
                .map(|e| Row::worded(e).map(|r| Ok(Arc::new(r))))
                .collect();
        }
        let mut kept = self.kept();
        events
            .into_iter()
            .map(|e| {
                let council = e.organisation_name.as_deref().unwrap_or_default();
                if let Some(row) = kept.get(&e.id).filter(|r| r.council == council) {
                    return Ok(Ok(row.clone()));
                }
                if e.unread {
                    return Ok(Err(e.id));
                }
                Self::keep(&mut kept, e).map(Ok)
            })
            .collect()
    }

    /// An event read in full, worded (and kept when `keep`).
    fn word(&self, e: Event, keep: bool) -> askama::Result<Arc<Row>> {
        if !keep {
            return Row::worded(e).map(Arc::new);
        }
        Self::keep(&mut self.kept(), e)
    }

    fn keep(kept: &mut BTreeMap<i64, Arc<Row>>, e: Event) -> askama::Result<Arc<Row>> {
        let id = e.id;
        let row = Arc::new(Row::worded(e)?);
        if kept.len() >= WORDED_LIMIT {
            kept.clear();
        }
        kept.insert(id, row.clone());
        Ok(row)
    }
}

/// Names each event's council from the places the server keeps (a council since removed, or
/// none: no name).
async fn name_councils(state: &AppState, events: &mut [Event]) -> sqlx::Result<()> {
    let places = state.caches.places(&state.db).await?;
    // A page names a handful of councils: look those up in one pass over the places.
    let mut names: std::collections::HashMap<uuid::Uuid, Option<&str>> = events
        .iter()
        .filter_map(|e| e.organisation_id)
        .map(|id| (id, None))
        .collect();
    for o in &places.organisations {
        if let Some(name) = names.get_mut(&o.id) {
            *name = Some(&o.name);
        }
    }
    for e in events {
        e.organisation_name = e
            .organisation_id
            .and_then(|id| names.get(&id).copied().flatten())
            .map(str::to_owned);
    }
    Ok(())
}

/// A page of the trail, for either audit page.
pub struct Trail {
    pub query: AuditQuery,
    pub rows: Vec<Arc<Row>>,
    pub errors: Errors,
    /// The next (older) page's address, when there is one.
    pub older: Option<String>,
    /// Whether this is a later page (so "newest" is offered).
    pub later_page: bool,
    /// The events' names for the filter, in the order things happen.
    pub events: &'static [(&'static str, &'static str)],
}

impl Trail {
    /// Reads one page of the trail: the whole service's, or one council's.
    pub async fn load(
        state: &AppState,
        query: AuditQuery,
        organisation: Option<uuid::Uuid>,
    ) -> AppResult<Trail> {
        let (filter, problems) = query.filter(organisation);
        let mut errors = Errors::default();
        for (field, message) in problems {
            errors.add(field, message);
        }
        let keep = state.caches.views_kept();
        let worded = if keep {
            state
                .audit_rows
                .newest(query.cursor().map(|c| c.id), PAGE_SIZE as usize + 1)
        } else {
            Vec::new()
        };
        let mut events =
            crate::db::audit::list(&state.db, &filter, query.cursor(), PAGE_SIZE + 1, &worded)
                .await?;
        name_councils(state, &mut events).await?;
        let older = if events.len() as i64 > PAGE_SIZE {
            events.truncate(PAGE_SIZE as usize);
            events
                .last()
                .map(|last| query.after(last.occurred_at, last.id))
        } else {
            None
        };
        let mut rows = state.audit_rows.rows(events, keep)?;
        // Events read without their before and after and forgotten meanwhile (seldom): read
        // in full and worded.
        let missing: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.as_ref().err())
            .copied()
            .collect();
        if !missing.is_empty() {
            let mut full = crate::db::audit::by_ids(&state.db, &missing).await?;
            name_councils(state, &mut full).await?;
            let mut full: std::collections::HashMap<i64, Event> =
                full.into_iter().map(|e| (e.id, e)).collect();
            for row in &mut rows {
                if let Err(id) = *row
                    && let Some(e) = full.remove(&id)
                {
                    *row = Ok(state.audit_rows.word(e, keep)?);
                }
            }
        }
        Ok(Trail {
            later_page: query.cursor().is_some(),
            query,
            // An event read without its changes and then not found in full (impossible: events
            // are never deleted) is left out rather than shown without them.
            rows: rows.into_iter().filter_map(Result::ok).collect(),
            errors,
            older,
            events: EVENTS,
        })
    }

    /// The same events as recorded, as JSON: before and after as stored, times in UTC.
    pub async fn download(
        state: &AppState,
        query: AuditQuery,
        organisation: Option<uuid::Uuid>,
        address: &str,
    ) -> AppResult<Value> {
        let (filter, _) = query.filter(organisation);
        let mut events =
            crate::db::audit::list(&state.db, &filter, query.cursor(), DOWNLOAD_SIZE + 1, &[])
                .await?;
        name_councils(state, &mut events).await?;
        let next = if events.len() as i64 > DOWNLOAD_SIZE {
            events.truncate(DOWNLOAD_SIZE as usize);
            events
                .last()
                .map(|last| format!("{address}{}", query.after(last.occurred_at, last.id)))
        } else {
            None
        };
        let events: Vec<Value> = events
            .into_iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id,
                    "occurred_at": e.occurred_at.format(&Rfc3339).unwrap_or_default(),
                    "actor": e.actor_label,
                    "ip": e.ip.map(|ip| ip.ip().to_string()),
                    "event": e.action,
                    "description": describe(&e.action),
                    "entity_type": e.entity_type,
                    "entity_id": e.entity_id,
                    "council": e.organisation_name,
                    "before": json(e.before.as_deref()),
                    "after": json(e.after.as_deref()),
                })
            })
            .collect();
        Ok(serde_json::json!({ "events": events, "next": next }))
    }
}

/// A JSON document to save, never kept by a browser's cache.
pub fn json_download(body: &Value, file_name: &str) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        serde_json::to_string_pretty(body).unwrap_or_default(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_listed_in_words() {
        let before =
            json!({"status": "open", "target_text": "March 2027", "rag": null, "owner": "Jo"});
        let after =
            json!({"status": "done", "target_text": "March 2027", "rag": "green", "owner": "Jo"});
        assert_eq!(
            changes(Some(&before), Some(&after)),
            // In the order of the fields' names, as the trail stores them.
            vec![
                Change {
                    field: "RAG".into(),
                    before: Some("none".into()),
                    after: Some("green".into())
                },
                Change {
                    field: "Status".into(),
                    before: Some("open".into()),
                    after: Some("done".into())
                },
            ]
        );
    }

    #[test]
    fn a_map_of_things_by_name_is_listed_in_words_not_as_json() {
        let before = json!({"statuses": {"2.1": null, "2.2": "developing"}});
        let after = json!({"statuses": {"2.1": "achieving", "2.2": "developing"}});
        assert_eq!(
            changes(Some(&before), Some(&after)),
            [Change {
                field: "Statuses".into(),
                before: Some("2.1: none; 2.2: developing".into()),
                after: Some("2.1: achieving; 2.2: developing".into())
            }]
        );
        assert_eq!(value_text(&json!({})), "none");
    }

    #[test]
    fn a_new_thing_lists_what_it_was_given_and_a_removed_one_what_it_had() {
        let made = json!({"description": "Train staff", "item_code": "1.2"});
        assert_eq!(
            changes(None, Some(&made)),
            vec![
                Change {
                    field: "Description".into(),
                    before: None,
                    after: Some("Train staff".into())
                },
                Change {
                    field: "Question".into(),
                    before: None,
                    after: Some("1.2".into())
                },
            ]
        );
        let gone = changes(Some(&made), None);
        assert_eq!(gone.len(), 2);
        assert!(gone.iter().all(|c| c.after.is_none() && c.before.is_some()));
    }

    #[test]
    fn an_event_is_worded_once_and_again_only_when_its_council_is_renamed() {
        let event = |council: &str| Event {
            id: 7,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            actor_label: "lead@ashbridge.example".into(),
            ip: None,
            action: "action.updated".into(),
            entity_type: "action".into(),
            entity_id: None,
            organisation_id: None,
            organisation_name: Some(council.into()),
            before: Some(r#"{"status": "open"}"#.into()),
            after: Some(r#"{"status": "done"}"#.into()),
            unread: false,
        };
        let shown = |worded: &Worded, e: Event, keep: bool| {
            worded
                .rows(vec![e], keep)
                .expect("worded")
                .remove(0)
                .expect("kept or read in full")
        };
        let worded = Worded::default();
        let first = shown(&worded, event("Ashbridge"), true);
        assert!(
            first
                .html
                .contains("<del><span class=\"govuk-visually-hidden\">was </span>open</del>")
        );
        assert_eq!(first.what, "Changed an action");
        assert_eq!(
            first.changes,
            [Change {
                field: "Status".into(),
                before: Some("open".into()),
                after: Some("done".into())
            }]
        );
        let again = shown(&worded, event("Ashbridge"), true);
        assert!(Arc::ptr_eq(&first, &again), "the same event, kept");
        // Read without its before and after, as the page asks when it has the event worded.
        let unread = |council: &str| Event {
            before: None,
            after: None,
            unread: true,
            ..event(council)
        };
        let kept = shown(&worded, unread("Ashbridge"), true);
        assert!(Arc::ptr_eq(&first, &kept), "kept, so nothing more to read");
        assert!(
            matches!(
                worded
                    .rows(vec![unread("Ashbridge Borough")], true)
                    .as_deref(),
                Ok([Err(7)])
            ),
            "renamed: to be read in full and worded again, never shown without its changes"
        );
        let renamed = worded
            .word(event("Ashbridge Borough"), true)
            .expect("worded again");
        assert!(!Arc::ptr_eq(&first, &renamed));
        assert_eq!(renamed.council, "Ashbridge Borough");
        assert_eq!(renamed.changes, first.changes);
        assert!(Arc::ptr_eq(
            &renamed,
            &shown(&worded, unread("Ashbridge Borough"), true)
        ));
        let unkept = shown(&worded, event("Ashbridge Borough"), false);
        assert!(
            !Arc::ptr_eq(&renamed, &unkept),
            "nothing kept is used when views are not kept"
        );
    }

    #[test]
    fn the_page_names_the_newest_events_worded_below_where_it_starts() {
        let worded = Worded::default();
        for id in [3, 9, 5, 12, 7] {
            let e = Event {
                id,
                occurred_at: OffsetDateTime::UNIX_EPOCH,
                actor_label: "admin@example.org".into(),
                ip: None,
                action: "user.signed_in".into(),
                entity_type: "user".into(),
                entity_id: None,
                organisation_id: None,
                organisation_name: None,
                before: None,
                after: None,
                unread: false,
            };
            worded.word(e, true).expect("worded");
        }
        assert_eq!(worded.newest(None, 3), [12, 9, 7]);
        assert_eq!(worded.newest(Some(9), 10), [7, 5, 3]);
        assert!(worded.newest(Some(3), 10).is_empty());
    }

    #[test]
    fn the_common_fields_are_worded_as_the_rule_words_them() {
        for (key, words) in COMMON_FIELDS {
            assert_eq!(field_words(key), *words);
        }
        assert_eq!(field_label("owner_text"), "Owner text");
        assert_eq!(field_label("criteria_met"), "Criteria met");
    }

    #[test]
    fn every_event_the_code_records_has_words() {
        for (code, _) in EVENTS {
            assert_ne!(describe(code), *code);
        }
        // Every string in the source shaped like an event name ("thing.happened").
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("the source folder").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("audit_view.rs")
                {
                    out.push(std::fs::read_to_string(&path).expect("a source file"));
                }
            }
        }
        let mut sources = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut sources,
        );
        let files = [
            "html", "csv", "xlsx", "docx", "txt", "toml", "json", "svg", "png", "pdf", "css",
            "mjs", "js", "md", "xml",
        ];
        let known: Vec<&str> = EVENTS.iter().map(|(c, _)| *c).collect();
        let mut seen = 0;
        for source in &sources {
            for piece in source.split('"').skip(1).step_by(2) {
                let Some((thing, happened)) = piece.split_once('.') else {
                    continue;
                };
                let word = |w: &str| {
                    !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                };
                if word(thing) && word(happened) && !files.contains(&happened) {
                    assert!(known.contains(&piece), "{piece} has no words in EVENTS");
                    seen += 1;
                }
            }
        }
        assert!(
            seen > 40,
            "the event names were found in the source ({seen})"
        );
    }

    #[test]
    fn the_address_keeps_the_filters_and_where_the_page_starts() {
        let q = AuditQuery {
            actor: "lead@a b".into(),
            action: "action.created".into(),
            ..Default::default()
        };
        assert_eq!(q.filters(), "actor=lead%40a%20b&action=action.created");
        let q = AuditQuery {
            older: "1764633600000000.42".into(),
            ..Default::default()
        };
        let c = q.cursor().expect("a cursor");
        assert_eq!((c.occurred_at.unix_timestamp(), c.id), (1_764_633_600, 42));
        assert!(
            AuditQuery {
                older: "x.1".into(),
                ..Default::default()
            }
            .cursor()
            .is_none()
        );
    }
}
