//! What people look at: the board view, the action plan, an owner's actions, the region and the
//! national picture. Each page's reads are a fixed handful of statements, whatever the numbers
//! of councils, cycles and actions.

use sqlx::PgPool;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// The framework the views summarise.
pub const FRAMEWORK: &str = "prevent-la-2018";

/// A council's latest self-assessment: the one its board follows and its plan belongs to.
#[derive(Debug, Clone)]
pub struct Latest {
    pub id: Uuid,
    pub state: String,
    pub cycle: String,
}

/// The latest assessment with the owners named in its plan (for the plan's filter), in one
/// statement.
pub async fn latest_with_owners(
    pool: &PgPool,
    organisation: Uuid,
) -> sqlx::Result<Option<(Latest, Vec<String>)>> {
    let row = sqlx::query!(
        r#"select a.id, a.state, c.label as cycle,
                  array(select distinct coalesce(nullif(u.display_name, ''), nullif(ac.owner_text, ''), 'No owner')
                        from actions ac left join users u on u.id = ac.owner_user_id
                        where ac.assessment_id = a.id
                        order by 1) as "owners!"
           from assessments a
           join cycles c on c.id = a.cycle_id
           join frameworks f on f.id = a.framework_id
           where a.organisation_id = $1 and f.code = $2
           order by c.starts_on desc limit 1"#,
        organisation,
        FRAMEWORK
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        (
            Latest {
                id: r.id,
                state: r.state,
                cycle: r.cycle,
            },
            r.owners,
        )
    }))
}

/// One benchmark of the board's RAG summary, with the assessment it belongs to and the counts of
/// the assessment's actions by status (the same on every row).
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub assessment_id: Uuid,
    pub state: String,
    pub cycle: String,
    pub number: i32,
    pub title: String,
    pub rag: Option<String>,
    pub proposed_score: Option<i16>,
    pub proposed_not_scored: bool,
    /// Only once the assessment is agreed: until then the adviser's scores are a draft.
    pub agreed_score: Option<i16>,
    pub agreed_not_scored: bool,
    pub comments: String,
    pub open_actions: i64,
    /// The assessment's actions: open, in progress, done, cancelled; and of the open and in
    /// progress ones, how many are overdue.
    pub open: i64,
    pub in_progress: i64,
    pub done: i64,
    pub cancelled: i64,
    pub open_overdue: i64,
    pub in_progress_overdue: i64,
}

/// The ten benchmarks of the council's latest assessment, with their open actions and the
/// assessment's action counts, in one statement. No rows: no assessment yet.
pub async fn board(pool: &PgPool, organisation: Uuid, today: Date) -> sqlx::Result<Vec<BoardRow>> {
    sqlx::query_as!(
        BoardRow,
        r#"with latest as (
               select a.id, a.state, c.label as cycle,
                      a.state in ('agreed', 'published') as agreed
               from assessments a
               join cycles c on c.id = a.cycle_id
               join frameworks f on f.id = a.framework_id
               where a.organisation_id = $1 and f.code = $2
               order by c.starts_on desc limit 1
           ),
           counts as (
               select count(*) filter (where ac.status = 'open') as open,
                      count(*) filter (where ac.status = 'in_progress') as in_progress,
                      count(*) filter (where ac.status = 'done') as done,
                      count(*) filter (where ac.status = 'cancelled') as cancelled,
                      count(*) filter (where ac.status = 'open' and ac.due_on < $3) as open_overdue,
                      count(*) filter (where ac.status = 'in_progress' and ac.due_on < $3) as in_progress_overdue
               from actions ac where ac.assessment_id = (select id from latest)
           ),
           by_section as (
               select ac.section_id, count(*) as n from actions ac
               where ac.assessment_id = (select id from latest) and ac.status in ('open', 'in_progress')
               group by ac.section_id
           )
           select l.id as assessment_id, l.state, l.cycle, s.number, s.title, r.rag,
                  r.proposed_score, r.proposed_not_scored,
                  case when l.agreed then r.agreed_score end as agreed_score,
                  (l.agreed and r.agreed_not_scored) as "agreed_not_scored!",
                  r.comments, coalesce(b.n, 0) as "open_actions!",
                  k.open as "open!", k.in_progress as "in_progress!", k.done as "done!",
                  k.cancelled as "cancelled!", k.open_overdue as "open_overdue!",
                  k.in_progress_overdue as "in_progress_overdue!"
           from latest l
           join section_results r on r.assessment_id = l.id
           join sections s on s.id = r.section_id
           cross join counts k
           left join by_section b on b.section_id = r.section_id
           order by s.number"#,
        organisation,
        FRAMEWORK,
        today
    )
    .fetch_all(pool)
    .await
}

/// A benchmark's score in one cycle: agreed when there is one, else the proposal.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    pub cycle: String,
    pub number: i32,
    pub agreed_score: Option<i16>,
    pub proposed_score: Option<i16>,
}

/// The council's scores over its latest `cycles` cycles, oldest first, in one statement.
pub async fn council_trend(
    pool: &PgPool,
    organisation: Uuid,
    cycles: i64,
) -> sqlx::Result<Vec<TrendPoint>> {
    sqlx::query_as!(
        TrendPoint,
        r#"with recent as (
               select a.id, c.label, c.starts_on, a.state in ('agreed', 'published') as agreed
               from assessments a
               join cycles c on c.id = a.cycle_id
               join frameworks f on f.id = a.framework_id
               where a.organisation_id = $1 and f.code = $2
               order by c.starts_on desc limit $3
           )
           select recent.label as cycle, s.number,
                  case when recent.agreed then r.agreed_score end as agreed_score, r.proposed_score
           from recent
           join section_results r on r.assessment_id = recent.id
           join sections s on s.id = r.section_id
           order by recent.starts_on, s.number"#,
        organisation,
        FRAMEWORK,
        cycles
    )
    .fetch_all(pool)
    .await
}

/// Which actions of the plan to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanFilter {
    pub owner: Option<String>,
    pub benchmark: Option<i32>,
    pub status: Option<String>,
    pub overdue: bool,
}

/// One action of a plan.
#[derive(Debug, Clone)]
pub struct PlanRow {
    pub id: Uuid,
    pub owner: String,
    pub owner_user_id: Option<Uuid>,
    pub number: i32,
    pub benchmark: String,
    pub item_code: Option<String>,
    pub description: String,
    pub target_text: String,
    pub due_on: Option<Date>,
    pub status: String,
    pub rag: Option<String>,
    pub version: i32,
    pub latest_note: Option<String>,
    pub latest_note_on: Option<Date>,
    pub overdue: bool,
    pub due_soon: bool,
}

/// The most rows a plan page or export holds: far beyond any council's plan, a bound all the same.
pub const PLAN_LIMIT: i64 = 2000;

/// The actions of an assessment that pass the filter, by owner, then overdue first, then due
/// soon (within 30 days), then by date; with each one's latest progress note. One statement.
pub async fn plan(
    pool: &PgPool,
    assessment: Uuid,
    filter: &PlanFilter,
    today: Date,
) -> sqlx::Result<Vec<PlanRow>> {
    sqlx::query_as!(
        PlanRow,
        r#"select a.id, coalesce(nullif(u.display_name, ''), nullif(a.owner_text, ''), 'No owner') as "owner!",
                  a.owner_user_id, s.number, s.title as benchmark, i.code as "item_code?", a.description,
                  a.target_text, a.due_on, a.status, a.rag, a.version,
                  n.body as "latest_note?", n.noted_on as "latest_note_on?",
                  (a.due_on < $6 and a.status in ('open', 'in_progress')) as "overdue!",
                  (a.due_on between $6 and $6 + 30 and a.status in ('open', 'in_progress')) as "due_soon!"
           from actions a
           join sections s on s.id = a.section_id
           left join items i on i.id = a.item_id
           left join users u on u.id = a.owner_user_id
           left join lateral (
               select body, noted_on from action_notes
               where action_id = a.id order by noted_on desc, created_at desc limit 1
           ) n on true
           where a.assessment_id = $1
             and ($2::text is null or coalesce(nullif(u.display_name, ''), nullif(a.owner_text, ''), 'No owner') = $2)
             and ($3::int is null or s.number = $3)
             and ($4::text is null or a.status = $4)
             and (not $5 or (a.due_on < $6 and a.status in ('open', 'in_progress')))
           order by 2, 15 desc, 16 desc, a.due_on nulls last, s.number, a.created_at, a.id
           limit $7"#,
        assessment,
        filter.owner,
        filter.benchmark,
        filter.status,
        filter.overdue,
        today,
        PLAN_LIMIT
    )
    .fetch_all(pool)
    .await
}

/// One of a person's own actions, with its council.
#[derive(Debug, Clone)]
pub struct OwnAction {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub region_id: Uuid,
    pub council: String,
    pub cycle: String,
    pub number: i32,
    pub benchmark: String,
    pub item_code: Option<String>,
    pub description: String,
    pub target_text: String,
    pub due_on: Option<Date>,
    pub status: String,
    pub rag: Option<String>,
    pub version: i32,
    pub latest_note: Option<String>,
    pub latest_note_on: Option<Date>,
    pub overdue: bool,
}

/// The actions a person owns in councils they still belong to, overdue first, then by date.
pub async fn own_actions(pool: &PgPool, user: Uuid, today: Date) -> sqlx::Result<Vec<OwnAction>> {
    sqlx::query_as!(
        OwnAction,
        r#"select a.id, o.id as organisation_id, o.region_id, o.name as council, c.label as cycle,
                  s.number, s.title as benchmark, i.code as "item_code?", a.description,
                  a.target_text, a.due_on, a.status, a.rag, a.version,
                  n.body as "latest_note?", n.noted_on as "latest_note_on?",
                  (a.due_on < $2 and a.status in ('open', 'in_progress')) as "overdue!"
           from actions a
           join organisations o on o.id = a.organisation_id
           join assessments asm on asm.id = a.assessment_id
           join cycles c on c.id = asm.cycle_id
           join sections s on s.id = a.section_id
           left join items i on i.id = a.item_id
           left join lateral (
               select body, noted_on from action_notes
               where action_id = a.id order by noted_on desc, created_at desc limit 1
           ) n on true
           where a.owner_user_id = $1
             and exists (select 1 from memberships m where m.user_id = $1 and m.organisation_id = a.organisation_id)
             and (a.status in ('open', 'in_progress') or a.updated_at > now() - interval '1 year')
           order by 17 desc, a.status in ('done', 'cancelled'), a.due_on nulls last, o.name, s.number, a.id
           limit $3"#,
        user,
        today,
        PLAN_LIMIT
    )
    .fetch_all(pool)
    .await
}

/// An action with what the policy needs to decide who may change it.
#[derive(Debug, Clone)]
pub struct ActionScope {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub region_id: Uuid,
    pub owner_user_id: Option<Uuid>,
    pub assessment_id: Option<Uuid>,
    pub status: String,
    pub rag: Option<String>,
    pub version: i32,
}

pub async fn action_scope(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<ActionScope>> {
    sqlx::query_as!(
        ActionScope,
        "select a.id, a.organisation_id, o.region_id, a.owner_user_id, a.assessment_id,
                a.status, a.rag, a.version
         from actions a join organisations o on o.id = a.organisation_id where a.id = $1",
        id
    )
    .fetch_optional(pool)
    .await
}

/// One council of a region in a cycle: its state, agreed scores and overdue actions.
#[derive(Debug, Clone)]
pub struct RegionCouncil {
    pub slug: String,
    pub name: String,
    pub assessment: Option<Uuid>,
    pub state: Option<String>,
    pub submitted_at: Option<OffsetDateTime>,
    /// Agreed score per benchmark in number order: 1-5, 0 for "not scored", -1 for none;
    /// nothing until the assessment is agreed.
    pub scores: Option<Vec<i16>>,
    /// Overdue actions in the council's latest plan.
    pub overdue: i64,
}

/// The councils of a region with their assessment in the cycle, what waits for the adviser
/// first (submitted, then in review), then by name; in one statement. Scores count once the
/// assessment is agreed: before that they are the adviser's draft.
pub async fn region_councils(
    pool: &PgPool,
    region: Uuid,
    cycle: Uuid,
    today: Date,
) -> sqlx::Result<Vec<RegionCouncil>> {
    sqlx::query_as!(
        RegionCouncil,
        r#"select o.slug, o.name, a.id as "assessment?", a.state as "state?",
                  a.submitted_at as "submitted_at?",
                  case when a.state in ('agreed', 'published') then
                      array(select case when r.agreed_not_scored then 0::smallint
                                        else coalesce(r.agreed_score, -1::smallint) end
                            from section_results r join sections s on s.id = r.section_id
                            where r.assessment_id = a.id order by s.number)
                  end as "scores?",
                  (select count(*) from actions ac
                   where ac.assessment_id = l.id and ac.due_on < $3
                     and ac.status in ('open', 'in_progress')) as "overdue!"
           from organisations o
           cross join (select id from frameworks where code = $4 order by loaded_at limit 1) f
           left join assessments a on a.organisation_id = o.id and a.cycle_id = $2 and a.framework_id = f.id
           left join lateral (
               select la.id from assessments la join cycles lc on lc.id = la.cycle_id
               where la.organisation_id = o.id and la.framework_id = f.id
               order by lc.starts_on desc limit 1
           ) l on true
           where o.region_id = $1
           order by case a.state when 'submitted' then 0 when 'in_review' then 1 else 2 end,
                    a.submitted_at nulls last, o.name"#,
        region,
        cycle,
        today,
        FRAMEWORK
    )
    .fetch_all(pool)
    .await
}

/// A cycle, for choosing which the national view shows.
#[derive(Debug, Clone)]
pub struct CycleAgreed {
    pub id: Uuid,
    pub label: String,
    pub agreed: i64,
}

/// One region's agreed scores in one cycle; a cycle with none has one row with no region.
#[derive(Debug, Clone)]
pub struct NationalRow {
    pub cycle_id: Uuid,
    pub cycle: String,
    pub region: Option<String>,
    /// Its agreed assessments.
    pub assessments: i64,
    /// Councils agreed each score on each benchmark: benchmark 1 scores 1-5, then benchmark 2…
    pub counts: Option<Vec<i64>>,
}

/// Every cycle, latest first, with each region's agreed scores, from the summary kept up to
/// date as assessments are agreed: one statement, a row per cycle and region.
pub async fn national(pool: &PgPool) -> sqlx::Result<Vec<NationalRow>> {
    sqlx::query_as!(
        NationalRow,
        r#"select c.id as cycle_id, c.label as cycle, rg.name as "region?",
                  coalesce(k.assessments, 0) as "assessments!", k.counts as "counts?"
           from cycles c
           left join (agreed_score_summary k join frameworks f on f.id = k.framework_id and f.code = $1)
                  on k.cycle_id = c.id
           left join regions rg on rg.id = k.region_id
           order by c.starts_on desc, rg.name"#,
        FRAMEWORK
    )
    .fetch_all(pool)
    .await
}

/// Recounts the agreed scores after writing assessments directly (the sample generator); the
/// application's own state changes recount by trigger.
pub async fn recount_agreed_scores(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query!("refresh materialized view agreed_score_summary")
        .execute(pool)
        .await
        .map(|_| ())
}
