//! What people look at: the board view, the action plan, an owner's actions, the region and the
//! national picture. Each page's reads are a fixed handful of statements, whatever the numbers
//! of councils, cycles and actions.

use sqlx::PgPool;
use sqlx::types::Json;
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

/// A row of the board: one benchmark of one of the council's recent assessments (with the
/// latest assessment's result and action counts in full, earlier ones' scores only), or the
/// latest assessment's actions on no benchmark (the adviser's recommendations: no number).
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub assessment_id: Uuid,
    pub state: String,
    pub cycle: String,
    /// Whether this is the council's latest assessment, which the board summarises.
    pub latest: bool,
    pub number: Option<i32>,
    pub title: Option<String>,
    pub rag: Option<String>,
    pub proposed_score: Option<i16>,
    pub proposed_not_scored: bool,
    /// Only once the assessment is agreed: until then the adviser's scores are a draft.
    pub agreed_score: Option<i16>,
    pub agreed_not_scored: bool,
    pub comments: Option<String>,
    /// The latest assessment's actions on this benchmark: open, in progress, done, cancelled;
    /// and of the open and in progress ones, how many are overdue.
    pub open: i64,
    pub in_progress: i64,
    pub done: i64,
    pub cancelled: i64,
    pub open_overdue: i64,
    pub in_progress_overdue: i64,
    /// The latest assessment's first open actions on this benchmark (or on none), soonest due
    /// first; how many there are in all is `open + in_progress`.
    pub first_open: Option<Json<Vec<OpenAction>>>,
}

/// An open action as the committee summary names it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OpenAction {
    pub description: String,
    pub owner: String,
    pub target: String,
}

/// How many open actions the board names per benchmark.
pub const FIRST_OPEN: i64 = 3;

/// The council's latest `cycles` assessments benchmark by benchmark, latest first, with the
/// latest one's action counts per benchmark, in one statement. No rows: no assessment yet.
/// The latest plan's actions are read once, counted and their first open ones gathered by
/// benchmark in the same pass (not looked up again for each benchmark of each cycle).
pub async fn board(
    pool: &PgPool,
    organisation: Uuid,
    today: Date,
    cycles: i64,
) -> sqlx::Result<Vec<BoardRow>> {
    sqlx::query_as!(
        BoardRow,
        r#"with recent as (
               select a.id, a.state, c.label as cycle, c.starts_on,
                      a.state in ('agreed', 'published') as agreed,
                      row_number() over (order by c.starts_on desc) = 1 as latest
               from assessments a
               join cycles c on c.id = a.cycle_id
               join frameworks f on f.id = a.framework_id
               where a.organisation_id = $1 and f.code = $2
               order by c.starts_on desc limit $4
           ),
           counts as (
               select ac.section_id,
                      count(*) filter (where ac.status = 'open') as open,
                      count(*) filter (where ac.status = 'in_progress') as in_progress,
                      count(*) filter (where ac.status = 'done') as done,
                      count(*) filter (where ac.status = 'cancelled') as cancelled,
                      count(*) filter (where ac.status = 'open' and ac.due_on < $3) as open_overdue,
                      count(*) filter (where ac.status = 'in_progress' and ac.due_on < $3) as in_progress_overdue,
                      json_agg(json_build_object('description', ac.description, 'owner', ac.owner_text,
                                                 'target', ac.target_text)
                               order by ac.due_on nulls last, ac.created_at, ac.id)
                          filter (where ac.pending and ac.n <= $5) as first
               from (select ac.section_id, ac.status, ac.due_on, ac.created_at, ac.id, ac.description,
                            ac.owner_text, ac.target_text, ac.status in ('open', 'in_progress') as pending,
                            row_number() over (partition by ac.section_id, ac.status in ('open', 'in_progress')
                                               order by ac.due_on nulls last, ac.created_at, ac.id) as n
                     from actions ac where ac.assessment_id = (select id from recent where latest)) ac
               group by ac.section_id
           )
           select rc.id as "assessment_id!", rc.state as "state!", rc.cycle as "cycle!",
                  rc.latest as "latest!", s.number as "number?",
                  case when rc.latest then s.title end as "title?",
                  r.rag as "rag?", r.proposed_score as "proposed_score?",
                  coalesce(r.proposed_not_scored, false) as "proposed_not_scored!",
                  case when rc.agreed then r.agreed_score end as "agreed_score?",
                  coalesce(rc.agreed and r.agreed_not_scored, false) as "agreed_not_scored!",
                  case when rc.latest then r.comments end as "comments?",
                  coalesce(k.open, 0) as "open!", coalesce(k.in_progress, 0) as "in_progress!",
                  coalesce(k.done, 0) as "done!", coalesce(k.cancelled, 0) as "cancelled!",
                  coalesce(k.open_overdue, 0) as "open_overdue!",
                  coalesce(k.in_progress_overdue, 0) as "in_progress_overdue!",
                  k.first as "first_open?: Json<Vec<OpenAction>>"
           from recent rc
           join section_results r on r.assessment_id = rc.id
           join sections s on s.id = r.section_id
           left join counts k on k.section_id = r.section_id and rc.latest
           union all
           select rc.id, rc.state, rc.cycle, rc.latest, null, null, null, null, false, null, false, null,
                  k.open, k.in_progress, k.done, k.cancelled, k.open_overdue, k.in_progress_overdue,
                  k.first
           from recent rc join counts k on k.section_id is null
           where rc.latest
           order by 4 desc, 5, 3"#,
        organisation,
        FRAMEWORK,
        today,
        cycles,
        FIRST_OPEN
    )
    .fetch_all(pool)
    .await
}

/// Which actions of the plan to show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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
    /// The owner as the council wrote it, or "No owner".
    pub owner: String,
    /// The person of the council linked to the action, by name.
    pub owner_name: Option<String>,
    pub owner_user_id: Option<Uuid>,
    /// None for an action on no benchmark (a recommendation not yet filed under one).
    pub number: Option<i32>,
    pub benchmark: Option<String>,
    pub item_code: Option<String>,
    /// The cycle whose letter recommended it, for the Home Office's recommended actions.
    pub recommended_in: Option<String>,
    pub description: String,
    pub target_text: String,
    pub due_on: Option<Date>,
    pub status: String,
    pub rag: Option<String>,
    pub version: i32,
    /// An area for improvement of the council's Channel statement (not of the self-assessment).
    pub channel: bool,
    /// The assessment (or statement) the action belongs to.
    pub assessment_id: Uuid,
    pub latest_note: Option<String>,
    pub latest_note_on: Option<Date>,
    pub overdue: bool,
    pub due_soon: bool,
}

/// What a plan's owner filter calls an action with no owner.
pub const NO_OWNER: &str = "No owner";

/// The most rows a plan page or export holds: far beyond any council's plan, a bound all the same.
pub const PLAN_LIMIT: i64 = 2000;

/// A council's plan: its latest assessment, the owners named in the plan (for the filter),
/// and the actions that pass the filter.
#[derive(Debug, Clone)]
pub struct Plan {
    pub latest: Latest,
    pub owners: Vec<String>,
    /// The state of the council's latest Channel statement, whose areas for improvement the
    /// plan holds: who may read and change them is asked of the policy with it, without
    /// reading the statement again.
    pub statement_state: Option<String>,
    pub rows: Vec<PlanRow>,
}

/// The plan of the council's latest assessment: its actions that pass the filter (on a
/// benchmark or not), by owner as written, then overdue first, then due soon (within 30
/// days), then by date, each with its latest progress note. One statement; nothing when the
/// council has no assessment.
pub async fn plan(
    pool: &PgPool,
    organisation: Uuid,
    filter: &PlanFilter,
    today: Date,
) -> sqlx::Result<Option<Plan>> {
    let rows = sqlx::query!(
        r#"with
           -- The council's latest Channel statement: its areas for improvement are in the plan.
           statement as (
               select a.id, a.state from assessments a
               join cycles c on c.id = a.cycle_id
               join frameworks f on f.id = a.framework_id
               where a.organisation_id = $1 and f.kind = 'channel_statement'
               order by c.starts_on desc limit 1
           ),
           latest as (
               select a.id, a.state, c.label as cycle,
                      array(select distinct coalesce(nullif(ac.owner_text, ''), $9)
                            from actions ac
                            -- One index condition, not an OR (which reads every action).
                            where ac.assessment_id = any(array[a.id, (select id from statement)])
                            order by 1) as owners
               from assessments a
               join cycles c on c.id = a.cycle_id
               join frameworks f on f.id = a.framework_id
               where a.organisation_id = $1 and f.code = $2
               order by c.starts_on desc limit 1
           )
           select l.id as latest_id, l.state as latest_state, l.cycle as latest_cycle,
                  l.owners as "owners!",
                  (select st.state from statement st) as "statement_state?",
                  p.id as "id?", p.owner as "owner?", p.owner_user_id as "owner_user_id?",
                  p.owner_name as "owner_name?",
                  p.number as "number?", p.benchmark as "benchmark?", p.item_code as "item_code?",
                  p.recommended_in as "recommended_in?",
                  p.description as "description?", p.target_text as "target_text?", p.due_on as "due_on?",
                  p.status as "status?", p.rag as "rag?", p.version as "version?",
                  p.latest_note as "latest_note?", p.latest_note_on as "latest_note_on?",
                  p.overdue as "overdue?", p.due_soon as "due_soon?",
                  p.channel as "channel?", p.assessment_id as "assessment_id?"
           from latest l
           left join lateral (
               select x.* from (
                   select a.id, coalesce(nullif(a.owner_text, ''), $9) as owner, a.owner_user_id,
                          -- Names and labels by key, one at a time: a join would read every row.
                          (select u.display_name from users u where u.id = a.owner_user_id) as owner_name,
                          s.number, s.title as benchmark, i.code as item_code,
                          case when a.source = 'recommendation' then
                              coalesce((select rc.label from cycles rc where rc.id = a.recommended_in), l.cycle)
                          end as recommended_in,
                          a.description, a.target_text, a.due_on, a.status, a.rag, a.version,
                          n.body as latest_note, n.noted_on as latest_note_on,
                          -- An action with no target date is neither overdue nor due soon.
                          coalesce(a.due_on < $7 and a.status in ('open', 'in_progress'), false) as overdue,
                          coalesce(a.due_on between $7 and $7 + 30 and a.status in ('open', 'in_progress'), false) as due_soon,
                          a.assessment_id <> l.id as channel, a.assessment_id,
                          a.created_at
                   from actions a
                   left join sections s on s.id = a.section_id
                   left join items i on i.id = a.item_id
                   left join lateral (
                       select body, noted_on from action_notes
                       where action_id = a.id order by noted_on desc, created_at desc limit 1
                   ) n on true
                   where a.assessment_id = any(array[l.id, (select id from statement)])
                   -- Planned on its own (not merged with the filter below): a generic plan
                   -- counts on the filter's parameters keeping one action in a thousand, and
                   -- then looks up each action's benchmark and question by reading every one
                   -- (nested loops); planned alone, the plan's actions are joined to them by hash.
                   offset 0
               ) x
               where ($3::text is null or x.owner = $3)
                 -- A benchmark is the self-assessment's: key areas share its numbers.
                 and ($4::int is null or (x.number = $4 and x.assessment_id = l.id))
                 and ($5::text is null or x.status = $5)
                 and (not $6 or x.overdue)
               order by x.owner, x.overdue desc, x.due_soon desc, x.due_on nulls last, x.number nulls first, x.created_at, x.id
               limit $8
           ) p on true
           order by p.owner, p.overdue desc, p.due_soon desc, p.due_on nulls last, p.number nulls first,
                    p.created_at, p.id"#,
        organisation,
        FRAMEWORK,
        filter.owner,
        filter.benchmark,
        filter.status,
        filter.overdue,
        today,
        PLAN_LIMIT,
        NO_OWNER
    )
    .fetch_all(pool)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let latest = Latest {
        id: first.latest_id,
        state: first.latest_state.clone(),
        cycle: first.latest_cycle.clone(),
    };
    let owners = first.owners.clone();
    let statement_state = first.statement_state.clone();
    let rows = rows
        .into_iter()
        .filter_map(|r| {
            Some(PlanRow {
                id: r.id?,
                owner: r.owner?,
                owner_name: r.owner_name,
                owner_user_id: r.owner_user_id,
                number: r.number,
                benchmark: r.benchmark,
                item_code: r.item_code,
                recommended_in: r.recommended_in,
                description: r.description?,
                target_text: r.target_text?,
                due_on: r.due_on,
                status: r.status?,
                rag: r.rag,
                version: r.version?,
                latest_note: r.latest_note,
                latest_note_on: r.latest_note_on,
                overdue: r.overdue?,
                due_soon: r.due_soon?,
                channel: r.channel?,
                assessment_id: r.assessment_id?,
            })
        })
        .collect();
    Ok(Some(Plan {
        latest,
        owners,
        statement_state,
        rows,
    }))
}

/// One of a person's own actions, with its council.
#[derive(Debug, Clone)]
pub struct OwnAction {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub organisation_id: Uuid,
    pub region_id: Uuid,
    pub council: String,
    pub cycle: String,
    pub number: Option<i32>,
    pub benchmark: Option<String>,
    pub item_code: Option<String>,
    /// The cycle whose letter recommended it, for the Home Office's recommended actions.
    pub recommended_in: Option<String>,
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
        r#"select a.id, asm.id as assessment_id, o.id as organisation_id, o.region_id, o.name as council, c.label as cycle,
                  s.number as "number?", s.title as "benchmark?", i.code as "item_code?",
                  case when a.source = 'recommendation' then
                      coalesce((select rc.label from cycles rc where rc.id = a.recommended_in), c.label)
                  end as "recommended_in?",
                  a.description, a.target_text, a.due_on, a.status, a.rag, a.version,
                  n.body as "latest_note?", n.noted_on as "latest_note_on?",
                  coalesce(a.due_on < $2 and a.status in ('open', 'in_progress'), false) as "overdue!"
           from actions a
           join organisations o on o.id = a.organisation_id
           join assessments asm on asm.id = a.assessment_id
           join cycles c on c.id = asm.cycle_id
           left join sections s on s.id = a.section_id
           left join items i on i.id = a.item_id
           left join lateral (
               select body, noted_on from action_notes
               where action_id = a.id order by noted_on desc, created_at desc limit 1
           ) n on true
           where a.owner_user_id = $1
             and exists (select 1 from memberships m where m.user_id = $1 and m.organisation_id = a.organisation_id)
             and (a.status in ('open', 'in_progress') or a.updated_at > now() - interval '1 year')
           order by "overdue!" desc, a.status in ('done', 'cancelled'), a.due_on nulls last, o.name, s.number nulls first, a.id
           limit $3"#,
        user,
        today,
        PLAN_LIMIT
    )
    .fetch_all(pool)
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
                  -- Kept on the assessment while it is agreed (migration 0021).
                  a.agreed_scores as "scores?",
                  (select count(*) from actions ac
                   where ac.assessment_id = l.id and ac.due_on < $3
                     and ac.status in ('open', 'in_progress')) as "overdue!"
           from organisations o
           cross join (select id from frameworks where code = $4 order by loaded_at limit 1) f
           -- A probe of the unique key per council, not a join: a join's generic plan reads every
           -- assessment of the cycle in the country and hashes them (from the database, 532 µs of
           -- PostgreSQL's CPU a view against 404: bench/README.md). The agreed scores' export,
           -- measured the same way, was the cheaper as a join, and stays one.
           left join lateral (
               select a.id, a.state, a.submitted_at, a.agreed_scores from assessments a
               where a.organisation_id = o.id and a.cycle_id = $2 and a.framework_id = f.id limit 1
           ) a on true
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
    let mut tx = pool.begin().await?;
    sqlx::query!("refresh materialized view agreed_score_summary")
        .execute(&mut *tx)
        .await?;
    crate::db::changes::notify(&mut *tx, "agreed").await?;
    tx.commit().await
}

/// A council's agreed scores in a cycle, for the exports the Home Office's analysts use.
#[derive(Debug, Clone)]
pub struct AgreedScores {
    pub organisation_id: Uuid,
    /// The council's assessment's state in the cycle.
    pub state: String,
    /// As [`RegionCouncil::scores`]: per benchmark 1-5, 0 for "not scored", -1 for none;
    /// nothing until the assessment is agreed.
    pub scores: Option<Vec<i16>>,
}

/// The assessments of `organisations` in `cycle` with their agreed scores: one statement, a
/// probe of the unique key per council (a few hundred nationally, however many cycles pass).
/// The councils' and regions' names and their order come from the places the server keeps
/// (`crate::cache::places`): joined and sorted by name here, the national export's statement
/// cost PostgreSQL three times as much (1.65 ms against 0.53 a run, bench/README.md).
pub async fn agreed_scores(
    pool: &PgPool,
    organisations: &[Uuid],
    cycle: Uuid,
) -> sqlx::Result<Vec<AgreedScores>> {
    sqlx::query_as!(
        AgreedScores,
        r#"select a.organisation_id, a.state,
                  -- Kept on the assessment while it is agreed (migration 0021).
                  a.agreed_scores as "scores?"
           from assessments a
           where a.organisation_id = any($1) and a.cycle_id = $2
             and a.framework_id = (select id from frameworks where code = $3 order by loaded_at limit 1)"#,
        organisations,
        cycle,
        FRAMEWORK
    )
    .fetch_all(pool)
    .await
}
