//! Assessments: starting one (blank or from last cycle's), the task list's progress, one
//! benchmark's answers and result, saving them under a version check, and submitting.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// What every assessment page needs to know about the assessment.
#[derive(Debug, Clone)]
pub struct Head {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub organisation_slug: String,
    pub organisation_name: String,
    pub region_id: Uuid,
    pub cycle_label: String,
    pub deadline: Date,
    pub framework_code: String,
    /// A Channel statement (answered by the lead, signed, checked by the Channel team).
    pub channel: bool,
    /// The address segment of its sections' pages ("benchmarks", "key-areas").
    pub section_path: String,
    pub state: String,
    pub submitted_at: Option<OffsetDateTime>,
    pub submitted_by: Option<String>,
    pub started_from_label: Option<String>,
}

impl Head {
    /// The address of one of its sections' pages.
    pub fn section_href(&self, n: impl std::fmt::Display) -> String {
        format!("/assessments/{}/{}/{n}", self.id, self.section_path)
    }
}

pub async fn head(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Head>> {
    sqlx::query_as!(
        Head,
        r#"select a.id, a.organisation_id, o.slug as organisation_slug, o.name as organisation_name,
                  o.region_id, c.label as cycle_label,
                  coalesce(cf.deadline, c.deadline) as "deadline!", f.code as framework_code,
                  coalesce(f.kind = 'channel_statement', false) as "channel!",
                  f.section_path as "section_path!", a.state,
                  a.submitted_at, u.display_name as "submitted_by?", pc.label as "started_from_label?"
           from assessments a
           join organisations o on o.id = a.organisation_id
           join cycles c on c.id = a.cycle_id
           join frameworks f on f.id = a.framework_id
           left join cycle_frameworks cf on cf.cycle_id = a.cycle_id and cf.framework_code = f.code
           left join users u on u.id = a.submitted_by
           left join assessments p on p.id = a.started_from
           left join cycles pc on pc.id = p.cycle_id
           where a.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
}

/// An assessment in a list.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub region_id: Uuid,
    pub organisation_name: String,
    pub cycle_label: String,
    pub framework_code: String,
    pub channel: bool,
    pub state: String,
}

/// The assessments of the given councils and regions (or all, for administrators), newest first.
pub async fn visible(
    pool: &PgPool,
    all: bool,
    organisations: &[Uuid],
    regions: &[Uuid],
) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as!(
        Listed,
        r#"select a.id, a.organisation_id, o.region_id, o.name as organisation_name,
                  c.label as cycle_label, f.code as framework_code,
                  coalesce(f.kind = 'channel_statement', false) as "channel!", a.state
           from assessments a
           join organisations o on o.id = a.organisation_id
           join cycles c on c.id = a.cycle_id
           join frameworks f on f.id = a.framework_id
           where $1 or a.organisation_id = any($2) or o.region_id = any($3)
           order by c.starts_on desc, o.name, f.code desc
           limit 500"#,
        all,
        organisations,
        regions
    )
    .fetch_all(pool)
    .await
}

/// The council's assessment on a framework for a cycle, if started.
pub async fn find(
    pool: &PgPool,
    organisation: Uuid,
    cycle: Uuid,
    framework_code: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "select a.id from assessments a join frameworks f on f.id = a.framework_id
         where a.organisation_id = $1 and a.cycle_id = $2 and f.code = $3",
        organisation,
        cycle,
        framework_code
    )
    .fetch_optional(pool)
    .await
}

/// Starts an assessment: an answer for every question and a result for every benchmark. From
/// the previous cycle's, the evidence is copied (marked as needing review, statuses cleared) and
/// the open actions are carried forward. Returns the new id.
pub async fn start(
    conn: &mut PgConnection,
    organisation: Uuid,
    cycle: Uuid,
    framework_code: &str,
    from_previous: bool,
    by: Uuid,
) -> sqlx::Result<Uuid> {
    let previous = if from_previous {
        sqlx::query_scalar!(
            "select a.id from assessments a
             join frameworks f on f.id = a.framework_id
             join cycles c on c.id = a.cycle_id
             where a.organisation_id = $1 and f.code = $2
               and c.starts_on < (select starts_on from cycles where id = $3)
             order by c.starts_on desc limit 1",
            organisation,
            framework_code,
            cycle
        )
        .fetch_optional(&mut *conn)
        .await?
    } else {
        None
    };
    let id = sqlx::query_scalar!(
        "insert into assessments (organisation_id, cycle_id, framework_id, started_from, created_by)
         select $1, $2, f.id, $4, $5 from frameworks f where f.code = $3
         returning id",
        organisation,
        cycle,
        framework_code,
        previous,
        by
    )
    .fetch_one(&mut *conn)
    .await?;
    // Answers: the previous evidence by question code (editions may differ), needing review.
    sqlx::query!(
        "insert into answers (assessment_id, item_id, evidence, prompt_evidence, evidence_per_prompt, needs_review, fields)
         select $1, i.id, coalesce(p.evidence, ''), coalesce(p.prompt_evidence, '{}'),
                coalesce(p.evidence_per_prompt, false), p.item_code is not null, coalesce(p.fields, '{}')
         from assessments a
         join sections s on s.framework_id = a.framework_id
         join items i on i.section_id = s.id
         left join (select pi.code as item_code, pa.evidence, pa.prompt_evidence, pa.evidence_per_prompt, pa.fields
                    from answers pa join items pi on pi.id = pa.item_id
                    where pa.assessment_id = $2) p on p.item_code = i.code
         where a.id = $1",
        id,
        previous
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into section_results (assessment_id, section_id)
         select $1, s.id from assessments a join sections s on s.framework_id = a.framework_id
         where a.id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    if let Some(previous) = previous {
        sqlx::query!(
            "insert into actions (organisation_id, assessment_id, section_id, item_id, source, description,
                                  owner_text, owner_user_id, target_text, due_on, status, rag, carried_from, created_by,
                                  recommended_in)
             select a.organisation_id, $1, ns.id, ni.id,
                    case when ni.id is null and a.source = 'question' then 'benchmark' else a.source end,
                    a.description, a.owner_text, a.owner_user_id, a.target_text, a.due_on, a.status, a.rag, a.id, $3,
                    a.recommended_in
             from actions a
             left join sections os on os.id = a.section_id
             left join items oi on oi.id = a.item_id
             left join sections ns on ns.framework_id = (select framework_id from assessments where id = $1)
                                  and ns.number = os.number
             left join items ni on ni.section_id = ns.id and ni.code = oi.code
             where a.assessment_id = $2 and a.status in ('open', 'in_progress')",
            id,
            previous,
            by
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// One benchmark's progress on the task list.
#[derive(Debug, Clone, Deserialize)]
pub struct Progress {
    pub number: i32,
    pub answered: i64,
    pub questions: i64,
    pub needs_review: i64,
    pub proposed_score: Option<i16>,
    pub proposed_not_scored: bool,
    pub justification: String,
    pub version: i32,
    /// Evidence requests on the benchmark not yet answered.
    pub open_requests: i64,
}

/// Every benchmark's progress, in one statement: [`head_and_progress`]'s, the head set aside,
/// so that what counts as progress is written once (the head costs it a few single-row joins).
pub async fn progress(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<Progress>> {
    Ok(head_and_progress(pool, id)
        .await?
        .map(|(_, progress)| progress)
        .unwrap_or_default())
}

/// The head and every benchmark's progress in one statement: the task list's first view after
/// a change (`Caches::head_and_progress`). One round trip instead of two, each costing the server
/// and PostgreSQL a wake-up, most of a light page's CPU from the database (bench/README.md).
pub async fn head_and_progress(
    pool: &PgPool,
    id: Uuid,
) -> sqlx::Result<Option<(Head, Vec<Progress>)>> {
    let row = sqlx::query!(
        r#"select a.id, a.organisation_id, o.slug as organisation_slug, o.name as organisation_name,
                  o.region_id, c.label as cycle_label,
                  coalesce(cf.deadline, c.deadline) as "deadline!", f.code as framework_code,
                  coalesce(f.kind = 'channel_statement', false) as "channel!",
                  f.section_path as "section_path!", a.state,
                  a.submitted_at, u.display_name as "submitted_by?", pc.label as "started_from_label?",
                  -- The answers' counts are kept on each result (migration 0022).
                  (select coalesce(json_agg(p order by p.number), '[]') from (
                       select s.number, r.answered, r.questions, r.needs_review,
                              r.proposed_score, r.proposed_not_scored, r.justification, r.version,
                              (select count(*) from comments cm
                               where cm.assessment_id = r.assessment_id and cm.section_id = s.id
                                 and cm.kind = 'evidence_request' and cm.resolved_at is null) as open_requests
                       from section_results r
                       join sections s on s.id = r.section_id
                       where r.assessment_id = a.id) p) as "progress!: Json<Vec<Progress>>"
           from assessments a
           join organisations o on o.id = a.organisation_id
           join cycles c on c.id = a.cycle_id
           join frameworks f on f.id = a.framework_id
           left join cycle_frameworks cf on cf.cycle_id = a.cycle_id and cf.framework_code = f.code
           left join users u on u.id = a.submitted_by
           left join assessments p on p.id = a.started_from
           left join cycles pc on pc.id = p.cycle_id
           where a.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        (
            Head {
                id: r.id,
                organisation_id: r.organisation_id,
                organisation_slug: r.organisation_slug,
                organisation_name: r.organisation_name,
                region_id: r.region_id,
                cycle_label: r.cycle_label,
                deadline: r.deadline,
                framework_code: r.framework_code,
                channel: r.channel,
                section_path: r.section_path,
                state: r.state,
                submitted_at: r.submitted_at,
                submitted_by: r.submitted_by,
                started_from_label: r.started_from_label,
            },
            r.progress.0,
        )
    }))
}

/// A question's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub code: String,
    pub status: Option<String>,
    pub evidence: String,
    pub prompt_evidence: Vec<String>,
    pub needs_review: bool,
    /// The item's own fields (the Channel chair's name and email), by field code.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
}

/// A benchmark's result as the council records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Result {
    pub rag: Option<String>,
    pub proposed_score: Option<i16>,
    pub proposed_not_scored: bool,
    pub justification: String,
    pub comments: String,
    pub version: i32,
    pub updated_by: Option<String>,
    pub updated_at: OffsetDateTime,
}

/// What the benchmark page shows and saves.
#[derive(Debug, Clone)]
pub struct Benchmark {
    pub result: Result,
    pub answers: Vec<Answer>,
    pub criteria_met: Vec<String>,
}

/// Everything a benchmark's page shows besides the framework: the council's answers and
/// result, the benchmark's actions, attachments and evidence requests, and (for those who may
/// edit) the council's people who may own an action.
#[derive(Debug, Clone)]
pub struct BenchmarkPage {
    pub benchmark: Benchmark,
    pub actions: Vec<crate::db::actions::Action>,
    pub attachments: Vec<crate::db::attachments::Listed>,
    pub threads: Vec<crate::db::comments::Thread>,
    /// (user id, name), by name; empty unless asked for.
    pub people: Vec<(Uuid, String)>,
}

#[derive(Debug, Deserialize)]
struct Person {
    id: Uuid,
    name: String,
}

/// A benchmark's page in one statement: the lists come as JSON, so that the page costs one
/// round trip whatever it holds. `people_of`: the council whose people to list, if any.
pub async fn benchmark_page(
    pool: &PgPool,
    id: Uuid,
    number: i32,
    people_of: Option<Uuid>,
) -> sqlx::Result<Option<BenchmarkPage>> {
    let Some(row) = sqlx::query!(
        r#"select r.rag, r.proposed_score, r.proposed_not_scored, r.justification, r.comments, r.version,
                  (select u.display_name from users u where u.id = r.updated_by) as "updated_by?",
                  r.updated_at,
                  array(select c.code from criteria_met m join criteria c on c.id = m.criterion_id
                        where m.section_result_id = r.id order by c.code) as "criteria_met!",
                  (select coalesce(json_agg(json_build_object(
                              'code', i.code, 'status', rt.code, 'evidence', an.evidence,
                              'prompt_evidence', an.prompt_evidence, 'needs_review', an.needs_review,
                              'fields', an.fields)
                              order by i.position), '[]')
                   from answers an
                   join items i on i.id = an.item_id
                   left join ratings rt on rt.id = an.rating_id
                   where an.assessment_id = r.assessment_id and i.section_id = r.section_id
                  ) as "answers!: Json<Vec<Answer>>",
                  (select coalesce(json_agg(json_build_object(
                              'id', a.id, 'item_code', i.code, 'description', a.description,
                              'owner_text', a.owner_text,
                              'owner_name', (select u.display_name from users u where u.id = a.owner_user_id),
                              'target_text', a.target_text, 'due_on', a.due_on, 'status', a.status,
                              'rag', a.rag, 'carried', a.carried_from is not null, 'version', a.version,
                              'latest_note', n.body, 'latest_note_on', n.noted_on,
                              'notes', coalesce(n.total, 0))
                              order by a.created_at, a.id), '[]')
                   from actions a
                   left join items i on i.id = a.item_id
                   left join lateral (
                       select body, noted_on, count(*) over () as total from action_notes
                       where action_id = a.id order by noted_on desc, created_at desc limit 1
                   ) n on true
                   where a.assessment_id = r.assessment_id and a.section_id = r.section_id
                  ) as "actions!: Json<Vec<crate::db::actions::Action>>",
                  (select coalesce(json_agg(json_build_object(
                              'id', f.id, 'item_code', i.code, 'filename', f.filename,
                              'content_type', f.content_type, 'size_bytes', f.size_bytes,
                              'created_at', f.created_at)
                              order by f.created_at, f.id), '[]')
                   from attachments f
                   left join items i on i.id = f.item_id
                   where f.assessment_id = r.assessment_id and f.section_id = r.section_id
                  ) as "attachments!: Json<Vec<crate::db::attachments::Listed>>",
                  (select coalesce(json_agg(json_build_object(
                              'id', c.id, 'number', s.number, 'kind', c.kind, 'parent_id', c.parent_id,
                              'body', c.body,
                              'author', (select u.display_name from users u where u.id = c.author_id),
                              'resolved_at', c.resolved_at, 'created_at', c.created_at)
                              order by c.created_at, c.id), '[]')
                   from comments c
                   where c.assessment_id = r.assessment_id and c.section_id = r.section_id
                     and c.kind in ('evidence_request', 'reply')
                  ) as "messages!: Json<Vec<crate::db::comments::Message>>",
                  (select coalesce(json_agg(json_build_object('id', p.id, 'name', p.display_name)
                              order by lower(p.display_name), p.id), '[]')
                   from (select distinct u.id, u.display_name
                         from memberships m join users u on u.id = m.user_id
                         where m.organisation_id = $3 and u.disabled_at is null) p
                  ) as "people!: Json<Vec<Person>>"
           from section_results r join sections s on s.id = r.section_id
           where r.assessment_id = $1 and s.number = $2"#,
        id,
        number,
        people_of
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(BenchmarkPage {
        benchmark: Benchmark {
            result: Result {
                rag: row.rag,
                proposed_score: row.proposed_score,
                proposed_not_scored: row.proposed_not_scored,
                justification: row.justification,
                comments: row.comments,
                version: row.version,
                updated_by: row.updated_by,
                updated_at: row.updated_at,
            },
            answers: row.answers.0,
            criteria_met: row.criteria_met,
        },
        actions: row.actions.0,
        attachments: row.attachments.0,
        threads: crate::db::comments::into_threads(row.messages.0),
        people: row.people.0.into_iter().map(|p| (p.id, p.name)).collect(),
    }))
}

/// What a save writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Save {
    pub answers: Vec<Answer>,
    pub criteria_met: Vec<String>,
    pub rag: Option<String>,
    pub proposed_score: Option<i16>,
    pub proposed_not_scored: bool,
    pub justification: String,
    pub comments: String,
}

/// Someone saved the benchmark since the page was loaded.
#[derive(Debug)]
pub struct Conflict;

/// A save with what travels in its statement.
pub struct Saving<'a> {
    pub save: &'a Save,
    /// The audit event to record (its `after` gains the new version).
    pub event: Option<&'a crate::db::audit::NewEvent>,
    /// A notification to send on the changes channel when the save is made (the caches'
    /// marker, [`crate::cache::Caches::carry_marker`]).
    pub marker: Option<&'a str>,
}

/// Saves a benchmark if its version is still `expected`, bumping the version, and records the
/// audit event and sends the marker given. One statement, so one round trip and atomic
/// without a transaction of its own: the result, the answers that changed (those left as they
/// were are not written again), the criteria met (only those that changed are deleted or
/// inserted), the assessment's time, the audit event and the marker. When the version has
/// moved on, nothing is changed and nothing is sent.
pub async fn save_benchmark<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    id: Uuid,
    number: i32,
    expected: i32,
    by: Uuid,
    saving: &Saving<'_>,
) -> sqlx::Result<std::result::Result<i32, Conflict>> {
    let (save, audit) = (saving.save, saving.event);
    let answers = serde_json::to_value(&save.answers).unwrap_or_default();
    let (actor, label, ip, action, kind, entity, organisation, region, after) = match audit {
        Some(e) => (
            e.actor_id,
            Some(e.actor_label.as_str()),
            e.ip,
            Some(e.action),
            Some(e.entity_type),
            e.entity_id.as_deref(),
            e.organisation_id,
            e.region_id,
            e.after.clone(),
        ),
        None => (None, None, None, None, None, None, None, None, None),
    };
    let version = sqlx::query_scalar!(
        r#"with result as (
               update section_results r set rag = $4, proposed_score = $5, proposed_not_scored = $6,
                      justification = $7, comments = $8, version = version + 1, updated_by = $9,
                      updated_at = now()
               from sections s
               where s.id = r.section_id and r.assessment_id = $1 and s.number = $2 and r.version = $3
               returning r.id, r.version, r.section_id
           ), answered as (
               update answers an set
                 rating_id = rated.id,
                 evidence = v.evidence, prompt_evidence = v.prompt_evidence,
                 evidence_per_prompt = cardinality(array_remove(v.prompt_evidence, '')) > 0,
                 needs_review = v.needs_review, fields = coalesce(v.fields, '{}'), updated_by = $9,
                 updated_at = now()
               from result
               cross join jsonb_to_recordset($10) as v(code text, status text, evidence text,
                        prompt_evidence text[], needs_review boolean, fields jsonb)
               left join lateral (select rt.id from ratings rt join assessments a on a.framework_id = rt.framework_id
                                  where a.id = $1 and rt.code = v.status) rated on true
               join items i on i.code = v.code
               where an.assessment_id = $1 and an.item_id = i.id and i.section_id = result.section_id
                 -- Only the answers the save changes: the others keep who changed them last, and
                 -- are not written again (nor counted again by the progress trigger).
                 and (an.rating_id, an.evidence, an.prompt_evidence, an.needs_review, an.fields)
                     is distinct from (rated.id, v.evidence, v.prompt_evidence, v.needs_review, coalesce(v.fields, '{}'))
               returning 1
           ), unmet as (
               delete from criteria_met m using result
               where m.section_result_id = result.id
                 and not exists (select 1 from criteria c where c.id = m.criterion_id and c.code = any($11))
               returning 1
           ), met as (
               insert into criteria_met (section_result_id, criterion_id)
               select result.id, c.id from result
               join levels l on l.section_id = result.section_id
               join criteria c on c.level_id = l.id
               where c.code = any($11)
               on conflict do nothing
               returning 1
           ), touched as (
               update assessments a set updated_at = now() from result where a.id = $1
               returning 1
           ), audited as (
               insert into audit_events (actor_id, actor_label, ip, action, entity_type, entity_id,
                                         organisation_id, region_id, after)
               select $12, $13, $14, $15, $16, $17, $18, $19,
                      coalesce($20::jsonb, '{}') || jsonb_build_object('version', result.version)
               from result where $15::text is not null
               returning 1
           ), marked as (
               select pg_notify('pa_changes', $21) from result where $21::text is not null
           )
           select version from result where (select count(*) from marked) >= 0"#,
        id,
        number,
        expected,
        save.rag,
        save.proposed_score,
        save.proposed_not_scored,
        save.justification,
        save.comments,
        by,
        answers,
        &save.criteria_met,
        actor,
        label,
        ip,
        action,
        kind,
        entity,
        organisation,
        region,
        after,
        saving.marker
    )
    .fetch_optional(conn)
    .await?;
    Ok(version.ok_or(Conflict))
}

/// Submits a draft; false when it was not a draft.
pub async fn submit(conn: &mut PgConnection, id: Uuid, by: Uuid) -> sqlx::Result<bool> {
    sqlx::query!(
        "update assessments set state = 'submitted', submitted_by = $2, submitted_at = now(), updated_at = now()
         where id = $1 and state = 'draft'",
        id,
        by
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// A file uploaded over a year ago, for the check page.
#[derive(Debug, Clone, Deserialize)]
pub struct OldFile {
    pub number: i32,
    pub filename: String,
    #[serde(with = "super::json_time::timestamp")]
    pub created_at: OffsetDateTime,
}

/// What the check page, the review page, the statement page and the workbook read of an
/// assessment, in one statement (one round trip) rather than one per list.
#[derive(Debug, Clone)]
pub struct Contents {
    /// By benchmark and position.
    pub answers: Vec<Answer>,
    /// By benchmark (those on none first), oldest first.
    pub actions: Vec<crate::db::actions::Row>,
    /// (benchmark number, criterion code) of every criterion met.
    pub criteria: Vec<(i32, String)>,
    /// Files uploaded over a year before `now`, oldest first.
    pub old_files: Vec<OldFile>,
    /// Whether the council's signatory has signed it (a Channel statement).
    pub signed: bool,
    /// The evidence requests and replies on every benchmark, in the order they were written.
    pub messages: Vec<crate::db::comments::Message>,
    /// The council's Channel statement of the same cycle: (id, state).
    pub statement_beside: Option<(Uuid, String)>,
}

/// `text`: whether the evidence is wanted as written. Without it (the check page, which asks
/// only whether there is any) each evidence box and prompt comes as `x` when it has anything
/// in it but white space, so that the statement does not build and send every answer's text.
pub async fn contents(
    pool: &PgPool,
    id: Uuid,
    now: OffsetDateTime,
    text: bool,
) -> sqlx::Result<Contents> {
    let row = sqlx::query!(
        r#"select
             coalesce((select json_agg(json_build_object(
                           'code', i.code, 'status', rt.code,
                           'evidence', case when $3 or an.evidence ~ '^[[:space:]]*$' then an.evidence else 'x' end,
                           'prompt_evidence', case when $3 then an.prompt_evidence
                               else array(select case when p.t ~ '^[[:space:]]*$' then p.t else 'x' end
                                          from unnest(an.prompt_evidence) with ordinality as p(t, n) order by p.n) end,
                           'needs_review', an.needs_review,
                           'fields', an.fields) order by s.number, i.position)
                       from answers an
                       join items i on i.id = an.item_id
                       join sections s on s.id = i.section_id
                       left join ratings rt on rt.id = an.rating_id
                       where an.assessment_id = $1), '[]') as "answers!: Json<Vec<Answer>>",
             coalesce((select json_agg(json_build_object(
                           'id', a.id, 'number', s.number, 'item_code', i.code,
                           'description', a.description, 'owner_text', a.owner_text,
                           'target_text', a.target_text, 'status', a.status, 'rag', a.rag,
                           'recommended', a.source = 'recommendation')
                           order by s.number nulls first, a.created_at, a.id)
                       from actions a
                       left join sections s on s.id = a.section_id
                       left join items i on i.id = a.item_id
                       where a.assessment_id = $1), '[]') as "actions!: Json<Vec<crate::db::actions::Row>>",
             coalesce((select json_agg(json_build_array(s.number, c.code))
                       from criteria_met m
                       join criteria c on c.id = m.criterion_id
                       join section_results r on r.id = m.section_result_id
                       join sections s on s.id = r.section_id
                       where r.assessment_id = $1), '[]') as "criteria!: Json<Vec<(i32, String)>>",
             coalesce((select json_agg(json_build_object(
                           'number', s.number, 'filename', f.filename, 'created_at', f.created_at)
                           order by f.created_at, f.id)
                       from attachments f join sections s on s.id = f.section_id
                       where f.assessment_id = $1
                         and f.created_at < $2::timestamptz - interval '1 year'), '[]') as "old_files!: Json<Vec<OldFile>>",
             exists (select 1 from sign_offs so
                     where so.assessment_id = $1 and so.signed_at is not null) as "signed!",
             coalesce((select json_agg(json_build_object(
                           'id', c.id, 'number', s.number, 'kind', c.kind, 'parent_id', c.parent_id,
                           'body', c.body, 'author', u.display_name, 'resolved_at', c.resolved_at,
                           'created_at', c.created_at) order by c.created_at, c.id)
                       from comments c
                       join sections s on s.id = c.section_id
                       left join users u on u.id = c.author_id
                       where c.assessment_id = $1 and c.kind in ('evidence_request', 'reply')), '[]')
                 as "messages!: Json<Vec<crate::db::comments::Message>>",
             (select json_build_array(st.id, st.state) from assessments a
              join assessments st on st.organisation_id = a.organisation_id and st.cycle_id = a.cycle_id
              join frameworks f on f.id = st.framework_id
              where a.id = $1 and f.kind = 'channel_statement')
                 as "statement_beside?: Json<(Uuid, String)>""#,
        id,
        now,
        text
    )
    .fetch_one(pool)
    .await?;
    Ok(Contents {
        answers: row.answers.0,
        actions: row.actions.0,
        criteria: row.criteria.0,
        old_files: row.old_files.0,
        signed: row.signed,
        messages: row.messages.0,
        statement_beside: row.statement_beside.map(|j| j.0),
    })
}

/// Moves an assessment from one of `from` to `to`; false when it was in none of them.
pub async fn transition(
    conn: &mut PgConnection,
    id: Uuid,
    from: &[&str],
    to: &str,
) -> sqlx::Result<bool> {
    let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
    sqlx::query!(
        "update assessments set state = $3, updated_at = now() where id = $1 and state = any($2)",
        id,
        &from,
        to
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// A change of state, for the history page.
#[derive(Debug, Clone)]
pub struct StateChange {
    pub occurred_at: OffsetDateTime,
    pub actor_label: String,
    pub action: String,
    pub after: Option<serde_json::Value>,
}

/// The assessment's changes of state, oldest first. The events are found by the assessment alone
/// (`audit_events_entity_idx`) and only then sorted by kind: asked of the index of events by kind
/// as well (a `BitmapAnd`, which PostgreSQL chose for the generic plan once the bench data's
/// saves made few events per assessment look likely), the statement read every state change of
/// every assessment, more each year. `offset 0` keeps the kinds out of the scan.
pub async fn history(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<StateChange>> {
    sqlx::query_as!(
        StateChange,
        r#"select e.occurred_at as "occurred_at!", e.actor_label as "actor_label!",
                  e.action as "action!", e.after
           from (select occurred_at, id, actor_label, action, after from audit_events
                 where entity_type = 'assessment' and entity_id = $1::uuid::text
                 offset 0) e
           where e.action in ('assessment.started', 'assessment.submitted', 'assessment.review_started',
                              'assessment.returned', 'assessment.agreed', 'assessment.published',
                              'assessment.accepted')
           order by e.occurred_at, e.id"#,
        id
    )
    .fetch_all(pool)
    .await
}

/// One benchmark as the adviser reviews it.
#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub number: i32,
    pub proposed_score: Option<i16>,
    pub proposed_not_scored: bool,
    pub justification: String,
    pub adviser_score: Option<i16>,
    pub adviser_not_scored: bool,
    pub adviser_summary: String,
    pub agreed_score: Option<i16>,
    pub agreed_not_scored: bool,
    /// Last cycle's agreed score for the council, if there was one.
    pub last_agreed: Option<i16>,
    pub last_not_scored: Option<bool>,
}

pub async fn review_rows(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<ReviewRow>> {
    sqlx::query_as!(
        ReviewRow,
        r#"select s.number, r.proposed_score, r.proposed_not_scored, r.justification,
                  r.adviser_score, r.adviser_not_scored, r.adviser_summary,
                  r.agreed_score, r.agreed_not_scored,
                  last.agreed_score as "last_agreed?", last.agreed_not_scored as "last_not_scored?"
           from section_results r
           join sections s on s.id = r.section_id
           join assessments a on a.id = r.assessment_id
           join cycles c on c.id = a.cycle_id
           left join lateral (
               select pr.agreed_score, pr.agreed_not_scored
               from assessments p
               join cycles pc on pc.id = p.cycle_id
               join section_results pr on pr.assessment_id = p.id
               join sections ps on ps.id = pr.section_id and ps.number = s.number
               where p.organisation_id = a.organisation_id and pc.starts_on < c.starts_on
                 and p.state in ('agreed', 'published')
               order by pc.starts_on desc limit 1
           ) last on true
           where r.assessment_id = $1
           order by s.number"#,
        id
    )
    .fetch_all(pool)
    .await
}

/// The adviser's view of one benchmark.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdviserDecision {
    pub number: i32,
    pub summary: String,
    pub adviser_score: Option<i16>,
    pub adviser_not_scored: bool,
    pub agreed_score: Option<i16>,
    pub agreed_not_scored: bool,
}

/// Saves the adviser's summaries and scores for every benchmark, in one statement.
pub async fn save_review(
    conn: &mut PgConnection,
    id: Uuid,
    decisions: &[AdviserDecision],
    by: Uuid,
) -> sqlx::Result<()> {
    let json = serde_json::to_value(decisions).unwrap_or_default();
    sqlx::query!(
        r#"update section_results r set adviser_summary = v.summary, adviser_score = v.adviser_score,
                  adviser_not_scored = v.adviser_not_scored, agreed_score = v.agreed_score,
                  agreed_not_scored = v.agreed_not_scored, updated_by = $3, updated_at = now()
           from jsonb_to_recordset($2) as v(number int, summary text, adviser_score smallint,
                    adviser_not_scored boolean, agreed_score smallint, agreed_not_scored boolean),
                sections s
           where r.assessment_id = $1 and s.id = r.section_id and s.number = v.number"#,
        id,
        json,
        by
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// The adviser's recommended actions of an assessment.
pub async fn recommendations(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!(
        "select id, description from actions where assessment_id = $1 and source = 'recommendation' order by created_at, id",
        id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.description)).collect())
}

/// Locks an assessment's row for the rest of the transaction, so checks made on it hold (two
/// advisers adding a recommendation at once cannot make a fourth).
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("select state from assessments where id = $1 for update", id)
        .fetch_optional(conn)
        .await
}

/// Adds a recommended action to the council's plan unless there are already `limit` (call
/// within a transaction after `lock`).
pub async fn add_recommendation(
    conn: &mut PgConnection,
    id: Uuid,
    description: &str,
    limit: i64,
    by: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "insert into actions (organisation_id, assessment_id, source, description, created_by, recommended_in)
         select a.organisation_id, a.id, 'recommendation', $2, $4, a.cycle_id from assessments a
         where a.id = $1
           and (select count(*) from actions where assessment_id = $1 and source = 'recommendation') < $3
         returning id",
        id,
        description,
        limit,
        by
    )
    .fetch_optional(conn)
    .await
}

pub async fn remove_recommendation(
    conn: &mut PgConnection,
    id: Uuid,
    action: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query!(
        "delete from actions where id = $2 and assessment_id = $1 and source = 'recommendation'",
        id,
        action
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// What the letter names: the council's leads and board members, the region, and the adviser
/// who agreed the scores, with when.
#[derive(Debug, Clone)]
pub struct LetterPeople {
    pub leads: Vec<String>,
    pub board: Vec<String>,
    pub region_name: String,
    pub adviser: Option<String>,
    pub agreed_at: Option<OffsetDateTime>,
}

pub async fn letter_people(pool: &PgPool, id: Uuid) -> sqlx::Result<LetterPeople> {
    let row = sqlx::query!(
        r#"select
             coalesce((select array_agg(u.display_name order by m.created_at) from memberships m join users u on u.id = m.user_id
                       where m.organisation_id = a.organisation_id and m.role = 'lead' and u.disabled_at is null), '{}') as "leads!",
             coalesce((select array_agg(u.display_name order by u.display_name) from memberships m join users u on u.id = m.user_id
                       where m.organisation_id = a.organisation_id and m.role = 'board' and u.disabled_at is null), '{}') as "board!",
             r.name as region_name,
             (select coalesce(u.display_name, e.actor_label) from audit_events e left join users u on u.id = e.actor_id
              where e.entity_type = 'assessment' and e.entity_id = a.id::text and e.action = 'assessment.agreed'
              order by e.occurred_at desc limit 1) as "adviser?",
             (select e.occurred_at from audit_events e
              where e.entity_type = 'assessment' and e.entity_id = a.id::text and e.action = 'assessment.agreed'
              order by e.occurred_at desc limit 1) as "agreed_at?"
           from assessments a join organisations o on o.id = a.organisation_id join regions r on r.id = o.region_id
           where a.id = $1"#,
        id
    )
    .fetch_one(pool)
    .await?;
    Ok(LetterPeople {
        leads: row.leads,
        board: row.board,
        region_name: row.region_name,
        adviser: row.adviser,
        agreed_at: row.agreed_at,
    })
}

/// A benchmark's whole result, for the workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullResult {
    pub number: i32,
    pub rag: Option<String>,
    pub proposed_score: Option<i16>,
    pub proposed_not_scored: bool,
    pub justification: String,
    pub comments: String,
    pub agreed_score: Option<i16>,
    pub agreed_not_scored: bool,
    pub version: i32,
    pub criteria_met: Vec<String>,
}

/// Every benchmark's result with the criteria it meets, in one statement.
pub async fn full_results<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    id: Uuid,
) -> sqlx::Result<Vec<FullResult>> {
    sqlx::query_as!(
        FullResult,
        r#"select s.number, r.rag, r.proposed_score, r.proposed_not_scored, r.justification, r.comments,
                  r.agreed_score, r.agreed_not_scored, r.version,
                  array(select c.code from criteria_met m join criteria c on c.id = m.criterion_id
                        where m.section_result_id = r.id order by c.code) as "criteria_met!"
           from section_results r join sections s on s.id = r.section_id
           where r.assessment_id = $1
           order by s.number"#,
        id
    )
    .fetch_all(conn)
    .await
}

/// What an assessment's workbook holds: every benchmark's result with the criteria it meets,
/// every answer with its evidence, every action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkbookContents {
    pub results: Vec<FullResult>,
    pub answers: Vec<Answer>,
    pub actions: Vec<crate::db::actions::Row>,
}

/// [`WorkbookContents`] in one statement, on one connection. The answers and the actions,
/// most of what it reads, come as arrays of their columns, which PostgreSQL sends and sqlx
/// reads as they are, not as JSON built and parsed again with every answer's evidence escaped
/// (as the statement [`contents`] does for the pages). Each array is aggregated without an
/// order of its own (PostgreSQL 15 sorts the rows again for every aggregate that names one: 25
/// sorts, as dear as the JSON): the aggregates of one query see its rows in one order, and the
/// rows' places, numbered once, put them in order here.
pub async fn workbook_contents(pool: &PgPool, id: Uuid) -> sqlx::Result<WorkbookContents> {
    let row = sqlx::query!(
        r#"select
             r.numbers as "numbers!: Vec<i32>", r.rags as "rags!: Vec<Option<String>>",
             r.proposed as "proposed!: Vec<Option<i16>>", r.proposed_not as "proposed_not!: Vec<bool>",
             r.justifications as "justifications!: Vec<String>", r.comments as "comments!: Vec<String>",
             r.agreed as "agreed!: Vec<Option<i16>>", r.agreed_not as "agreed_not!: Vec<bool>",
             r.versions as "versions!: Vec<i32>",
             r.criteria as "criteria!: Json<Vec<Vec<String>>>",
             an.places as "answer_places!: Vec<i64>",
             an.codes as "codes!: Vec<String>", an.statuses as "statuses!: Vec<Option<String>>",
             an.evidence as "evidence!: Vec<String>", an.prompts as "prompts!: Json<Vec<Vec<String>>>",
             an.needs_review as "needs_review!: Vec<bool>",
             an.fields as "fields!: Json<Vec<std::collections::BTreeMap<String, String>>>",
             ac.places as "action_places!: Vec<i64>",
             ac.ids as "action_ids!: Vec<Uuid>", ac.numbers as "action_numbers!: Vec<Option<i32>>",
             ac.item_codes as "action_codes!: Vec<Option<String>>",
             ac.descriptions as "descriptions!: Vec<String>", ac.owners as "owners!: Vec<String>",
             ac.targets as "targets!: Vec<String>", ac.statuses as "action_statuses!: Vec<String>",
             ac.rags as "action_rags!: Vec<Option<String>>", ac.recommended as "recommended!: Vec<bool>"
           from (select coalesce(array_agg(s.number), '{}') as numbers,
                        coalesce(array_agg(r.rag), '{}') as rags,
                        coalesce(array_agg(r.proposed_score), '{}') as proposed,
                        coalesce(array_agg(r.proposed_not_scored), '{}') as proposed_not,
                        coalesce(array_agg(r.justification), '{}') as justifications,
                        coalesce(array_agg(r.comments), '{}') as comments,
                        coalesce(array_agg(r.agreed_score), '{}') as agreed,
                        coalesce(array_agg(r.agreed_not_scored), '{}') as agreed_not,
                        coalesce(array_agg(r.version), '{}') as versions,
                        coalesce(json_agg(array(select c.code from criteria_met m
                                                join criteria c on c.id = m.criterion_id
                                                where m.section_result_id = r.id order by c.code)),
                                 '[]') as criteria
                 from section_results r join sections s on s.id = r.section_id
                 where r.assessment_id = $1) r,
                (select coalesce(array_agg(x.place), '{}') as places,
                        coalesce(array_agg(x.code), '{}') as codes,
                        coalesce(array_agg(x.status), '{}') as statuses,
                        coalesce(array_agg(x.evidence), '{}') as evidence,
                        coalesce(json_agg(x.prompt_evidence), '[]') as prompts,
                        coalesce(array_agg(x.needs_review), '{}') as needs_review,
                        coalesce(json_agg(x.fields), '[]') as fields
                 from (select row_number() over (order by s.number, i.position) as place,
                              i.code, rt.code as status, an.evidence, an.prompt_evidence,
                              an.needs_review, an.fields
                       from answers an
                       join items i on i.id = an.item_id
                       join sections s on s.id = i.section_id
                       left join ratings rt on rt.id = an.rating_id
                       where an.assessment_id = $1) x) an,
                (select coalesce(array_agg(x.place), '{}') as places,
                        coalesce(array_agg(x.id), '{}') as ids,
                        coalesce(array_agg(x.number), '{}') as numbers,
                        coalesce(array_agg(x.code), '{}') as item_codes,
                        coalesce(array_agg(x.description), '{}') as descriptions,
                        coalesce(array_agg(x.owner_text), '{}') as owners,
                        coalesce(array_agg(x.target_text), '{}') as targets,
                        coalesce(array_agg(x.status), '{}') as statuses,
                        coalesce(array_agg(x.rag), '{}') as rags,
                        coalesce(array_agg(x.recommended), '{}') as recommended
                 from (select row_number() over (order by s.number nulls first, a.created_at, a.id) as place,
                              a.id, s.number, i.code, a.description, a.owner_text, a.target_text,
                              a.status, a.rag, a.source = 'recommendation' as recommended
                       from actions a
                       left join sections s on s.id = a.section_id
                       left join items i on i.id = a.item_id
                       where a.assessment_id = $1) x) ac"#,
        id
    )
    .fetch_one(pool)
    .await?;
    let mut criteria = row.criteria.0.into_iter();
    let mut results: Vec<FullResult> = (0..row.numbers.len())
        .map(|k| FullResult {
            number: row.numbers[k],
            rag: row.rags[k].clone(),
            proposed_score: row.proposed[k],
            proposed_not_scored: row.proposed_not[k],
            justification: row.justifications[k].clone(),
            comments: row.comments[k].clone(),
            agreed_score: row.agreed[k],
            agreed_not_scored: row.agreed_not[k],
            version: row.versions[k],
            criteria_met: criteria.next().unwrap_or_default(),
        })
        .collect();
    results.sort_unstable_by_key(|r| r.number);
    let mut prompts = row.prompts.0.into_iter();
    let mut fields = row.fields.0.into_iter();
    let answers = in_place(
        row.answer_places,
        row.codes
            .into_iter()
            .zip(row.statuses)
            .zip(row.evidence)
            .zip(row.needs_review)
            .map(|(((code, status), evidence), needs_review)| Answer {
                code,
                status,
                evidence,
                prompt_evidence: prompts.next().unwrap_or_default(),
                needs_review,
                fields: fields.next().unwrap_or_default(),
            }),
    );
    let mut numbers = row.action_numbers.into_iter();
    let mut codes = row.action_codes.into_iter();
    let mut descriptions = row.descriptions.into_iter();
    let mut owners = row.owners.into_iter();
    let mut targets = row.targets.into_iter();
    let mut statuses = row.action_statuses.into_iter();
    let mut rags = row.action_rags.into_iter();
    let mut recommended = row.recommended.into_iter();
    let actions = in_place(
        row.action_places,
        row.action_ids
            .into_iter()
            .map(|id| crate::db::actions::Row {
                id,
                number: numbers.next().flatten(),
                item_code: codes.next().flatten(),
                description: descriptions.next().unwrap_or_default(),
                owner_text: owners.next().unwrap_or_default(),
                target_text: targets.next().unwrap_or_default(),
                status: statuses.next().unwrap_or_default(),
                rag: rags.next().flatten(),
                recommended: recommended.next().unwrap_or_default(),
            }),
    );
    Ok(WorkbookContents {
        results,
        answers,
        actions,
    })
}

/// `items` put in the order of their `places` (each item's place, numbered from 1): as they
/// come when they already are.
fn in_place<T>(places: Vec<i64>, items: impl Iterator<Item = T>) -> Vec<T> {
    let mut items: Vec<(i64, T)> = places.into_iter().zip(items).collect();
    if !items.is_sorted_by_key(|(place, _)| *place) {
        items.sort_unstable_by_key(|(place, _)| *place);
    }
    items.into_iter().map(|(_, item)| item).collect()
}

#[cfg(test)]
mod workbook_order {
    /// The workbook's answers and actions come out in their places, however the arrays came.
    #[test]
    fn items_come_back_in_their_places() {
        assert_eq!(
            super::in_place(vec![2, 3, 1], ["b", "c", "a"].into_iter()),
            ["a", "b", "c"]
        );
        assert_eq!(
            super::in_place(vec![1, 2], ["a", "b"].into_iter()),
            ["a", "b"]
        );
        assert!(super::in_place(Vec::new(), std::iter::empty::<u8>()).is_empty());
    }
}
