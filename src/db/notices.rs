//! Notices of what happened, the notifications people read in the service, and the scheduled
//! jobs' record of what they last ran for.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A notice to queue, in the transaction of what it tells of.
#[derive(Debug, Clone, Default)]
pub struct NewNotice<'a> {
    pub kind: &'a str,
    pub assessment: Option<Uuid>,
    pub action: Option<Uuid>,
    pub section_number: Option<i32>,
    pub actor: Option<Uuid>,
    pub person: Option<Uuid>,
    pub reason: Option<&'a str>,
}

pub async fn queue<'c>(conn: impl PgExecutor<'c>, n: &NewNotice<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into notices (kind, assessment_id, action_id, section_number, actor_id, person_id, reason)
         values ($1, $2, $3, $4, $5, $6, $7)",
        n.kind,
        n.assessment,
        n.action,
        n.section_number,
        n.actor,
        n.person,
        n.reason
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// A reply to an adviser's request is a notice to the adviser who asked.
pub async fn queue_reply<'c>(
    conn: impl PgExecutor<'c>,
    assessment: Uuid,
    section_number: i32,
    request: Uuid,
    actor: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into notices (kind, assessment_id, section_number, actor_id, person_id)
         select 'evidence_replied', $1, $2, $4, c.author_id
         from comments c where c.id = $3 and c.assessment_id = $1 and c.author_id is not null",
        assessment,
        section_number,
        request,
        actor
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// An action given to a linked person, or whose target changed while they own it, is a notice
/// to that person (`before` is the owner and target before the change; none for a new action).
pub async fn queue_for_action<'c>(
    conn: impl PgExecutor<'c>,
    action: Uuid,
    before: Option<(Option<Uuid>, &str)>,
    actor: Uuid,
) -> sqlx::Result<()> {
    let (known, owner, target) = match before {
        Some((owner, target)) => (true, owner, target),
        None => (false, None, ""),
    };
    sqlx::query!(
        "insert into notices (kind, assessment_id, action_id, actor_id, person_id)
         select case when not $2 or a.owner_user_id is distinct from $3 then 'action_assigned'
                     else 'action_target_changed' end,
                a.assessment_id, a.id, $5, a.owner_user_id
         from actions a
         where a.id = $1 and a.owner_user_id is not null and a.owner_user_id is distinct from $5
           and (not $2 or a.owner_user_id is distinct from $3 or a.target_text <> $4)",
        action,
        known,
        owner,
        target,
        actor
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// A claimed notice with what its message needs to say.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub assessment_id: Option<Uuid>,
    pub action_id: Option<Uuid>,
    pub section_number: Option<i32>,
    pub actor_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
    pub reason: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub organisation_name: Option<String>,
    pub organisation_slug: Option<String>,
    pub region_id: Option<Uuid>,
    pub region_name: Option<String>,
    pub cycle_label: Option<String>,
    pub framework_code: Option<String>,
    pub section_title: Option<String>,
    pub action_description: Option<String>,
    pub action_target: Option<String>,
}

/// The oldest pending notice no other server holds, locked until the transaction ends.
pub async fn claim(conn: &mut PgConnection) -> sqlx::Result<Option<Claimed>> {
    sqlx::query_as!(
        Claimed,
        r#"select n.id, n.kind, n.assessment_id, n.action_id, n.section_number, n.actor_id,
                  n.person_id, n.reason,
                  o.id as "organisation_id?", o.name as "organisation_name?", o.slug as "organisation_slug?",
                  r.id as "region_id?", r.name as "region_name?",
                  cy.label as "cycle_label?", f.code as "framework_code?",
                  (select s.title from sections s
                    where s.framework_id = a.framework_id and s.number = n.section_number) as section_title,
                  act.description as "action_description?", act.target_text as "action_target?"
           from notices n
           left join actions act on act.id = n.action_id
           left join assessments a on a.id = coalesce(n.assessment_id, act.assessment_id)
           left join organisations o on o.id = coalesce(a.organisation_id, act.organisation_id)
           left join regions r on r.id = o.region_id
           left join cycles cy on cy.id = a.cycle_id
           left join frameworks f on f.id = a.framework_id
           where n.dispatched_at is null
           order by n.id
           limit 1
           for update of n skip locked"#
    )
    .fetch_optional(conn)
    .await
}

pub async fn mark_dispatched(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!("update notices set dispatched_at = now() where id = $1", id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Someone a message goes to, with the role it comes to them by.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub mail_reminders: bool,
    pub mail_digests: bool,
    pub unsubscribe_token: String,
}

/// Who hears of a notice: people of the council with one of `council_roles` (contributors only
/// when given `section`), advisers of the region with one of `region_roles`, people with one of
/// the national `national_roles`, and `person` where they still have a role there. Never the
/// person who caused it, nor a disabled account. One row per person.
#[allow(clippy::too_many_arguments)]
pub async fn recipients(
    conn: &mut PgConnection,
    organisation: Option<Uuid>,
    region: Option<Uuid>,
    council_roles: &[&str],
    section: Option<i32>,
    region_roles: &[&str],
    national_roles: &[&str],
    person: Option<Uuid>,
    actor: Option<Uuid>,
) -> sqlx::Result<Vec<Recipient>> {
    let council_roles: Vec<String> = council_roles.iter().map(|r| (*r).to_owned()).collect();
    let region_roles: Vec<String> = region_roles.iter().map(|r| (*r).to_owned()).collect();
    let national_roles: Vec<String> = national_roles.iter().map(|r| (*r).to_owned()).collect();
    sqlx::query_as!(
        Recipient,
        r#"select distinct on (u.id) u.id as user_id, u.email, u.display_name, m.role,
                  u.mail_reminders, u.mail_digests, u.unsubscribe_token
           from memberships m
           join users u on u.id = m.user_id
           where u.disabled_at is null and u.id is distinct from $8
             and ((m.organisation_id = $1 and m.role = any($3)
                   and (m.role <> 'contributor' or $4 = any(m.sections)))
                  or (m.region_id = $2 and m.role = any($5))
                  or (m.organisation_id is null and m.region_id is null and m.role = any($6))
                  or (u.id = $7 and (m.organisation_id = $1 or m.region_id = $2
                                     or m.role in ('admin', 'channel_team'))))
           order by u.id, m.created_at"#,
        organisation,
        region,
        &council_roles,
        section,
        &region_roles,
        &national_roles,
        person,
        actor
    )
    .fetch_all(conn)
    .await
}

/// A notification to store.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: String,
    pub key: String,
}

/// Stores notifications in one statement; one already stored under its key is left alone.
pub async fn insert_notifications(
    conn: &mut PgConnection,
    rows: &[NewNotification],
) -> sqlx::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let users: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let kinds: Vec<String> = rows.iter().map(|r| r.kind.clone()).collect();
    let titles: Vec<String> = rows.iter().map(|r| r.title.clone()).collect();
    let bodies: Vec<String> = rows.iter().map(|r| r.body.clone()).collect();
    let links: Vec<String> = rows.iter().map(|r| r.link.clone()).collect();
    let keys: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
    sqlx::query!(
        "insert into notifications (user_id, kind, title, body, link, idempotency_key)
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         on conflict (idempotency_key) do nothing",
        &users,
        &kinds,
        &titles,
        &bodies,
        &links,
        &keys
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub id: i64,
    pub created_at: OffsetDateTime,
    pub title: String,
    pub body: String,
    pub link: String,
    pub read_at: Option<OffsetDateTime>,
}

/// A person's notifications, newest first, older than `before` (an id) when given.
pub async fn for_user(
    pool: &PgPool,
    user: Uuid,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Notification>> {
    sqlx::query_as!(
        Notification,
        "select id, created_at, title, body, link, read_at from notifications
         where user_id = $1 and id < coalesce($2, 9223372036854775807)
         order by id desc limit $3",
        user,
        before,
        limit
    )
    .fetch_all(pool)
    .await
}

/// Marks one of the person's notifications read (or all of them, with no id); how many.
pub async fn mark_read(pool: &PgPool, user: Uuid, id: Option<i64>) -> sqlx::Result<u64> {
    sqlx::query!(
        "update notifications set read_at = now()
         where user_id = $1 and read_at is null and ($2::bigint is null or id = $2)",
        user,
        id
    )
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
}

/// A scheduled job's record.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub last_period: Option<OffsetDateTime>,
    pub last_run_at: Option<OffsetDateTime>,
    pub last_result: String,
}

pub async fn jobs(pool: &PgPool) -> sqlx::Result<Vec<Job>> {
    sqlx::query_as!(
        Job,
        "select name, last_period, last_run_at, last_result from scheduled_jobs order by name"
    )
    .fetch_all(pool)
    .await
}

/// Holds the job's row for this transaction and says the period it last ran for; None when
/// another server holds it (it is running the job now).
pub async fn hold_job(
    conn: &mut PgConnection,
    name: &str,
) -> sqlx::Result<Option<Option<OffsetDateTime>>> {
    sqlx::query!(
        "insert into scheduled_jobs (name) values ($1) on conflict (name) do nothing",
        name
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        "select last_period from scheduled_jobs where name = $1 for update skip locked",
        name
    )
    .fetch_optional(conn)
    .await
}

pub async fn finish_job(
    conn: &mut PgConnection,
    name: &str,
    period: OffsetDateTime,
    result: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update scheduled_jobs set last_period = $2, last_run_at = now(), last_result = $3 where name = $1",
        name,
        period,
        result
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// A council that has not submitted an instrument of a cycle, with a lead to remind.
#[derive(Debug, Clone)]
pub struct Unsubmitted {
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub region_id: Uuid,
    pub assessment_id: Option<Uuid>,
    pub started: bool,
}

/// Councils with no submitted assessment of the framework in the cycle (none started, or a
/// draft), by region and name.
pub async fn unsubmitted(
    conn: &mut PgConnection,
    cycle: Uuid,
    framework_code: &str,
) -> sqlx::Result<Vec<Unsubmitted>> {
    sqlx::query_as!(
        Unsubmitted,
        r#"select o.id as organisation_id, o.name as organisation_name, o.region_id,
                  a.id as "assessment_id?", a.id is not null as "started!"
           from organisations o
           left join lateral (
               select a.id, a.state from assessments a join frameworks f on f.id = a.framework_id
               where a.organisation_id = o.id and a.cycle_id = $1 and f.code = $2
               limit 1
           ) a on true
           where a.id is null or a.state = 'draft'
           order by o.region_id, o.name"#,
        cycle,
        framework_code
    )
    .fetch_all(conn)
    .await
}

/// Everyone with one of `roles` at any of `organisations` (council roles), or in any of
/// `regions`, or nationally, who is not disabled: one row per person and place.
#[derive(Debug, Clone)]
pub struct PlacedRecipient {
    pub place_id: Option<Uuid>,
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub mail_reminders: bool,
    pub mail_digests: bool,
    pub unsubscribe_token: String,
}

pub async fn people_with_role(
    conn: &mut PgConnection,
    role: &str,
    places: &[Uuid],
) -> sqlx::Result<Vec<PlacedRecipient>> {
    sqlx::query_as!(
        PlacedRecipient,
        r#"select coalesce(m.organisation_id, m.region_id) as place_id, u.id as user_id, u.email,
                  u.display_name, m.role, u.mail_reminders, u.mail_digests, u.unsubscribe_token
           from memberships m join users u on u.id = m.user_id
           where m.role = $1 and u.disabled_at is null
             and (coalesce(m.organisation_id, m.region_id) = any($2)
                  or (m.organisation_id is null and m.region_id is null))
           order by u.id"#,
        role,
        places
    )
    .fetch_all(conn)
    .await
}

/// An open action of a linked owner that is overdue or due soon, for the weekly digest.
#[derive(Debug, Clone)]
pub struct DueAction {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub unsubscribe_token: String,
    pub mail_digests: bool,
    pub description: String,
    pub target_text: String,
    pub due_on: Date,
    pub organisation_name: String,
}

/// Open actions owned by linked people of their council, due by `until`, by person then date.
pub async fn due_actions(conn: &mut PgConnection, until: Date) -> sqlx::Result<Vec<DueAction>> {
    sqlx::query_as!(
        DueAction,
        r#"select u.id as user_id, u.email, u.display_name, u.unsubscribe_token, u.mail_digests,
                  a.description, a.target_text, a.due_on as "due_on!", o.name as organisation_name
           from actions a
           join users u on u.id = a.owner_user_id
           join organisations o on o.id = a.organisation_id
           where a.owner_user_id is not null and a.status in ('open', 'in_progress')
             and a.due_on <= $1 and u.disabled_at is null
             and exists (select 1 from memberships m
                          where m.user_id = u.id and m.organisation_id = a.organisation_id)
           order by u.id, a.due_on, a.description"#,
        until
    )
    .fetch_all(conn)
    .await
}

/// Sets which optional mail a person gets.
pub async fn set_preferences<'c>(
    conn: impl PgExecutor<'c>,
    user: Uuid,
    reminders: bool,
    digests: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set mail_reminders = $2, mail_digests = $3, updated_at = now() where id = $1",
        user,
        reminders,
        digests
    )
    .execute(conn)
    .await
    .map(|_| ())
}

#[derive(Debug, Clone)]
pub struct Preferences {
    pub user_id: Uuid,
    pub email: String,
    pub mail_reminders: bool,
    pub mail_digests: bool,
}

pub async fn preferences(pool: &PgPool, user: Uuid) -> sqlx::Result<Option<Preferences>> {
    sqlx::query_as!(
        Preferences,
        "select id as user_id, email, mail_reminders, mail_digests from users where id = $1",
        user
    )
    .fetch_optional(pool)
    .await
}

pub async fn preferences_by_token(pool: &PgPool, token: &str) -> sqlx::Result<Option<Preferences>> {
    sqlx::query_as!(
        Preferences,
        "select id as user_id, email, mail_reminders, mail_digests from users
         where unsubscribe_token = $1 and disabled_at is null",
        token
    )
    .fetch_optional(pool)
    .await
}

/// An instrument a cycle has open, with its deadline.
#[derive(Debug, Clone)]
pub struct OpenInstrument {
    pub cycle_id: Uuid,
    pub cycle_label: String,
    pub framework_code: String,
    pub deadline: Date,
}

/// The instruments of cycles that have opened by `today` whose deadline is at most `ahead` days
/// away and at most `behind` days past, of the frameworks `codes`.
pub async fn open_instruments(
    conn: &mut PgConnection,
    today: Date,
    ahead: i32,
    behind: i32,
    codes: &[String],
) -> sqlx::Result<Vec<OpenInstrument>> {
    sqlx::query_as!(
        OpenInstrument,
        r#"select c.id as cycle_id, c.label as cycle_label, f.code as "framework_code!",
                  coalesce(cf.deadline, c.deadline) as "deadline!"
           from cycles c
           cross join unnest($4::text[]) as f(code)
           left join cycle_frameworks cf on cf.cycle_id = c.id and cf.framework_code = f.code
           where coalesce(cf.open, true) and c.opens_on <= $1
             and coalesce(cf.deadline, c.deadline) between $1 - $3::int and $1 + $2::int
           order by 4, 3"#,
        today,
        ahead,
        behind,
        codes
    )
    .fetch_all(conn)
    .await
}

/// Regions by id, for links and names in the advisers' lists.
pub async fn regions(conn: &mut PgConnection) -> sqlx::Result<Vec<(Uuid, String, String)>> {
    let rows = sqlx::query!("select id, slug, name from regions order by name")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.slug, r.name)).collect())
}
