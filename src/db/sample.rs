//! Sample assessments for the demo and the benchmark suite: answers with evidence of realistic
//! length, benchmark results with proposed and agreed scores, and action plans with progress
//! notes, for many councils and cycles at once. Set-based SQL (a handful of statements however
//! many councils), deterministic (every choice is a hash of names and ids), and idempotent: only
//! assessments it creates are filled, so running it again adds nothing.
//!
//! The statements are built at run time (`sqlx::query`), not compile-checked: they are bulk
//! generators with no row types to check, used only by the `load-demo` and `generate` commands.

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

/// What a fill created.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Filled {
    pub assessments: u64,
    pub answers: u64,
    pub actions: u64,
    pub notes: u64,
    /// Channel statements.
    pub statements: u64,
}

/// Sentences about processes, never people, that evidence is made of.
const EVIDENCE: &str = "array[
  'The Prevent partnership board meets quarterly and reviews the delivery plan against the counter-terrorism local profile; minutes and the action log are held by the community safety team.',
  'Terms of reference were refreshed this year and agreed by the community safety partnership, with named deputies for each statutory partner.',
  'Training completion is reported monthly from the learning management system, broken down by directorate, and escalated where a service falls below the agreed threshold.',
  'The referral pathway is published on the intranet, with a flowchart for staff, the Prevent single point of contact and out-of-hours arrangements.',
  'Commissioned services are asked to confirm their Prevent arrangements at contract monitoring meetings, and the standard terms include the duty.',
  'The risk assessment was produced with the police Prevent team and shared with partners under the information-sharing agreement signed in the spring.',
  'An annual audit of venue hire and IT filtering was completed by internal audit; the recommendations are tracked in the corporate risk register.',
  'Communications have been planned with the communications team, including a staff briefing, a newsletter item and a page for residents on the council website.',
  'Elected members received a briefing from the Prevent coordinator, and the portfolio holder reports on progress to scrutiny twice a year.',
  'Channel panel arrangements follow the statutory guidance; attendance is recorded and the panel chair reviews the quality of case discussions each quarter.',
  'Schools and colleges are supported through the designated safeguarding leads network, with termly updates and a shared resource library.',
  'The self-assessment was discussed with partners at a workshop, and the evidence folder is kept on the shared drive with version control.'
]";

const COMMENTS: &str = "array[
  'Progress reported to the partnership board in the last quarter.',
  'Further work planned with partners; see the action plan.',
  'Evidence folder updated and shared with the regional adviser.',
  'Improvement on last year; the new training offer is now in place.',
  'Awaiting sign-off of the refreshed policy by the corporate leadership team.',
  'Good engagement from partners; attendance to be monitored.'
]";

const ACTIONS: &str = "array[
  'Refresh the Prevent risk assessment with partners and the police Prevent team',
  'Deliver WRAP training to frontline housing and customer services staff',
  'Add the Prevent duty to the standard terms for commissioned services',
  'Publish the referral pathway on the intranet and brief team managers',
  'Review the venue hire policy and the booking checks with facilities',
  'Agree the information-sharing protocol with the community safety partnership',
  'Report training completion figures to the partnership board each quarter',
  'Brief elected members on the counter-terrorism local profile',
  'Audit IT filtering against the agreed categories and record the results',
  'Plan the communications campaign with the communications team',
  'Run a workshop with designated safeguarding leads on the referral process',
  'Review the Channel panel terms of reference and attendance'
]";

const OWNERS: &str = "array[
  'Community Safety Manager', 'Prevent Coordinator', 'Head of Children''s Safeguarding',
  'Adult Safeguarding Lead', 'Education Safeguarding Adviser', 'Procurement Manager',
  'Communications Lead', 'IT Security Manager', 'Learning and Development Manager',
  'Channel Panel Chair'
]";

const NOTES: &str = "array[
  'DRAFTED', 'Complete for education and shared with partners',
  'Meeting booked with the community safety partnership',
  'Awaiting sign-off at the partnership board', 'Training dates set for the next quarter',
  'First draft circulated for comment'
]";

/// Fills an assessment of the Prevent framework for each given council in each cycle that has
/// opened by `today`: earlier cycles published with agreed scores, the current one in a mix of
/// states (some councils not started). `actions` is the number of actions per assessment.
pub async fn fill(
    pool: &PgPool,
    organisations: &[Uuid],
    actions: i32,
    today: Date,
) -> sqlx::Result<Filled> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "create temp table new_assessments (
            id uuid primary key, organisation_id uuid, cycle_id uuid, state text, current boolean,
            strength double precision, drift integer, starts_on date,
            -- What the pseudo-random choices hash: the council and the cycle, never a new id,
            -- so the same data comes out every time.
            seed text
         ) on commit drop",
    )
    .execute(&mut *tx)
    .await?;
    let assessments = sqlx::query(
        "with c as (
             select id, starts_on, (row_number() over (order by starts_on) - 1)::int as idx,
                    starts_on = max(starts_on) over () as current
             from cycles where opens_on <= $2
         ),
         f as (select id from frameworks where code = 'prevent-la-2018' order by loaded_at limit 1),
         planned as (
             select o.id as organisation_id, c.id as cycle_id, c.starts_on, c.current,
                    o.slug || '/' || c.idx::text as seed,
                    case when not c.current then 'published'
                         when o.slug = 'ashbridge' then 'draft'
                         else (array['none', 'draft', 'draft', 'draft', 'submitted', 'in_review',
                                     'agreed', 'published', 'published', 'published'])
                              [1 + abs(hashtext(o.slug || c.idx::text)) % 10]
                    end as state,
                    least(0.95, (abs(hashtext(o.slug)) % 55) / 100.0 + c.idx * 0.09) as strength,
                    -- Each region's adviser leans one way: some generous, some strict.
                    (abs(hashtext(r.slug)) % 3) - 1 as drift
             from organisations o join regions r on r.id = o.region_id cross join c
             where o.id = any($1)
         ),
         ins as (
             insert into assessments (organisation_id, cycle_id, framework_id, state, created_at,
                                      submitted_at, updated_at)
             select p.organisation_id, p.cycle_id, f.id, p.state,
                    least(p.starts_on + interval '6 months', now() - interval '40 days'),
                    case when p.state <> 'draft'
                         then least(p.starts_on + interval '9 months', now() - interval '10 days') end,
                    least(p.starts_on + interval '10 months', now() - interval '5 days')
             from planned p cross join f
             where p.state <> 'none'
             on conflict do nothing
             returning id, organisation_id, cycle_id
         )
         insert into new_assessments
         select ins.id, ins.organisation_id, ins.cycle_id, p.state, p.current, p.strength, p.drift, p.starts_on,
                p.seed
         from ins join planned p using (organisation_id, cycle_id)",
    )
    .bind(organisations)
    .bind(today)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    let answers = sqlx::query(&format!(
        "with pool as (select {EVIDENCE} as sentences)
         insert into answers (assessment_id, item_id, rating_id, evidence, updated_at)
         select n.id, i.id,
                case when not blank then (select rt.id from ratings rt
                    where rt.framework_id = s.framework_id
                      and rt.code = case when h.r < 25 + 60 * n.strength then 'achieving'
                                         when h.r < 93 then 'developing' else 'not_started' end) end,
                case when blank then '' else (
                    select string_agg(sentences[1 + abs(hashtext(n.seed || i.code || k::text)) % 12], ' ' order by k)
                    from generate_series(1, 3 + h.r % 3) k) end,
                least(n.starts_on + interval '8 months', now() - interval '12 days')
         from new_assessments n
         join assessments a on a.id = n.id
         join sections s on s.framework_id = a.framework_id
         join items i on i.section_id = s.id
         cross join pool
         cross join lateral (select abs(hashtext(n.seed || i.code)) % 100 as r) h
         cross join lateral (select n.state = 'draft' and h.r % 4 = 0 as blank) b"
    ))
    .execute(&mut *tx)
    .await?
    .rows_affected();

    sqlx::query(&format!(
        "with pool as (select {COMMENTS} as comments),
         scored as (
             select n.id as assessment_id, s.id as section_id, n.state, n.drift,
                    abs(hashtext(n.seed || s.number::text)) % 100 as r,
                    -- A council is steadily stronger on some benchmarks than others, and
                    -- grows from cycle to cycle, with an occasional step either way.
                    greatest(1, least(5, 1 + floor(n.strength * 4.2
                        + ((abs(hashtext(split_part(n.seed, '/', 1) || s.number::text)) % 3) - 1) * 0.8)::int
                        + (abs(hashtext(n.seed || s.number::text)) % 6 = 0)::int
                        - (abs(hashtext(n.seed || s.number::text)) % 7 = 0)::int)) as proposed
             from new_assessments n
             join assessments a on a.id = n.id
             join sections s on s.framework_id = a.framework_id
         )
         insert into section_results (assessment_id, section_id, rag, proposed_score, justification,
                                      comments, adviser_score, adviser_summary, agreed_score)
         select sc.assessment_id, sc.section_id,
                case when blank then null when sc.proposed <= 2 then 'red' when sc.proposed = 3 then 'amber' else 'green' end,
                case when blank then null else sc.proposed end,
                case when blank then '' else 'The evidence shows the criteria for this score are met; the gaps are in the action plan.' end,
                case when blank then '' else comments[1 + sc.r % 6] end,
                agreed,
                case when agreed is null then '' else 'Arrangements are in place and evidenced; the council should continue the work in its action plan.' end,
                agreed
         from scored sc cross join pool
         cross join lateral (select sc.state = 'draft' and sc.r % 3 = 0 as blank) b
         cross join lateral (
             select case when sc.state in ('agreed', 'published')
                         then greatest(1, least(5, sc.proposed + case when sc.r < 45 then sc.drift else 0 end))
                    end as agreed
         ) g"
    ))
    .execute(&mut *tx)
    .await?;

    let actions = sqlx::query(&format!(
        "with pool as (select {ACTIONS} as descriptions, {OWNERS} as owners)
         insert into actions (organisation_id, assessment_id, section_id, item_id, source, description,
                              owner_text, owner_user_id, target_text, due_on, status, rag,
                              created_at, updated_at)
         select n.organisation_id, n.id, s.id, i.id,
                case when i.id is null then 'benchmark' else 'question' end,
                descriptions[1 + (h.r + g) % 12],
                coalesce(u.display_name, owners[1 + h.r % 10]),
                u.id,
                'Q' || q.q || ' ' || c.label,
                (c.starts_on + make_interval(months => 3 * q.q) - interval '1 day')::date,
                st.status,
                case when st.status = 'done' then 'green'
                     when st.status = 'cancelled' then null
                     when (c.starts_on + make_interval(months => 3 * q.q) - interval '1 day')::date < $2 then 'red'
                     when h.r % 2 = 0 then 'amber' else 'green' end,
                least(c.starts_on + interval '6 months', now() - interval '40 days') + g * interval '1 minute',
                least(c.starts_on + interval '9 months', now() - interval '3 days')
         from new_assessments n
         join assessments a on a.id = n.id
         join cycles c on c.id = n.cycle_id
         cross join generate_series(1, $1) g
         join sections s on s.framework_id = a.framework_id and s.number = 1 + (g - 1) % 10
         left join items i on i.section_id = s.id and i.position = 1 + ((g - 1) / 10) % 4
         cross join pool
         cross join lateral (select abs(hashtext(n.seed || '/' || g::text)) % 1000 as r) h
         cross join lateral (select 1 + h.r % 4 as q) q
         cross join lateral (
             select case when not n.current then (case when h.r % 10 < 8 then 'done' else 'cancelled' end)
                         when h.r % 20 < 7 then 'open' when h.r % 20 < 14 then 'in_progress'
                         when h.r % 20 < 19 then 'done' else 'cancelled' end as status
         ) st
         left join lateral (
             select us.id, us.display_name from memberships m join users us on us.id = m.user_id
             where m.organisation_id = n.organisation_id and m.role = 'owner' and g % 4 = 0
             order by us.email limit 1
         ) u on true"
    ))
    .bind(actions)
    .bind(today)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    let notes = sqlx::query(&format!(
        "with pool as (select {NOTES} as notes)
         insert into action_notes (action_id, noted_on, body, created_at)
         select ac.id, least(ac.due_on - k * 20, $1), notes[1 + (abs(hashtext(ac.id::text)) + k) % 6],
                least(ac.due_on - k * 20, $1)::timestamptz
         from actions ac
         join new_assessments n on n.id = ac.assessment_id
         cross join pool
         cross join generate_series(1, abs(hashtext(ac.id::text)) % 3) k"
    ))
    .bind(today)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    tx.commit().await?;
    crate::db::dashboards::recount_agreed_scores(pool).await?;
    Ok(Filled {
        assessments,
        answers,
        actions,
        notes,
        statements: 0,
    })
}

/// What a Channel statement of the sample says where it is not Green.
const DETAILS: &str = "array[
  'The process is agreed by the panel but not yet published on the partnership website.',
  'These are in draft for sign-up by each organisation across the county.',
  'Consent was recorded verbally; a written form is now in place for case officers.',
  'Uploads to the case management system are up to date for new cases; older cases are being added.',
  'Feedback to families is given by the police but not consistently reported to the panel.'
]";

const IMPROVEMENTS: &str = "array[
  'Publish the escalation process on the partnership website',
  'Sign up to the shared privacy notice',
  'Agree the written consent form with case officers',
  'Upload the remaining case documents',
  'Agree how feedback to families is reported to the panel'
]";

/// Fills a Channel statement for each council in the last cycle before this one (signed and
/// accepted) and in this one, in a mix of states: for the demo councils by name (Ashbridge's
/// waiting for sign-off, Brackenfield's signed, Calderbrook's submitted, Dunmere's returned,
/// Eastholme's accepted, Greyhaven's a draft, Fenwick Vale's not started), for generated ones
/// by hash. Signed by each council's signatory (or its lead when it has none). Deterministic
/// and idempotent like [`fill`]. Returns how many statements it made.
pub async fn fill_statements(
    pool: &PgPool,
    organisations: &[Uuid],
    today: Date,
) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "create temp table new_statements (
            id uuid primary key, organisation_id uuid, region_id uuid, cycle_id uuid, label text,
            state text, plan text, starts_on date, seed text, signer uuid
         ) on commit drop",
    )
    .execute(&mut *tx)
    .await?;
    let made = sqlx::query(
        "with c as (
             select id, label, starts_on, row_number() over (order by starts_on desc) as back
             from cycles where opens_on <= $2
         ),
         f as (select id from frameworks where kind = 'channel_statement'
               order by loaded_at limit 1),
         planned as (
             select o.id as organisation_id, o.region_id, c.id as cycle_id, c.label, c.starts_on,
                    o.slug || '/channel/' || c.label as seed,
                    case when c.back = 2 then 'accepted'
                         when o.slug = 'ashbridge' then 'requested'
                         when o.slug = 'brackenfield' then 'signed'
                         when o.slug = 'calderbrook' then 'submitted'
                         when o.slug = 'dunmere' then 'returned'
                         when o.slug = 'eastholme' then 'accepted'
                         when o.slug = 'greyhaven' then 'draft'
                         when o.slug = 'fenwick-vale' then 'none'
                         else (array['none', 'draft', 'requested', 'signed', 'submitted', 'submitted',
                                     'returned', 'accepted', 'accepted', 'accepted'])
                              [1 + abs(hashtext(o.slug || '/channel')) % 10]
                    end as plan,
                    (select m.user_id from memberships m join users u on u.id = m.user_id
                     where m.organisation_id = o.id and m.role in ('signatory', 'lead')
                     order by m.role = 'signatory' desc, u.email limit 1) as signer
             from organisations o cross join c
             where o.id = any($1) and c.back <= 2
         ),
         ins as (
             insert into assessments (organisation_id, cycle_id, framework_id, state, created_at,
                                      submitted_at, updated_at)
             select p.organisation_id, p.cycle_id, f.id,
                    case p.plan when 'accepted' then 'published' when 'submitted' then 'submitted'
                                else 'draft' end,
                    least(p.starts_on + interval '5 months', now() - interval '30 days'),
                    case when p.plan in ('accepted', 'submitted', 'returned')
                         then least(p.starts_on + interval '9 months', now() - interval '8 days') end,
                    least(p.starts_on + interval '9 months', now() - interval '6 days')
             from planned p cross join f
             where p.plan <> 'none'
             on conflict do nothing
             returning id, organisation_id, cycle_id
         )
         insert into new_statements
         select ins.id, ins.organisation_id, p.region_id, ins.cycle_id, p.label,
                case p.plan when 'accepted' then 'published' when 'submitted' then 'submitted'
                            else 'draft' end,
                p.plan, p.starts_on, p.seed, p.signer
         from ins join planned p using (organisation_id, cycle_id)",
    )
    .bind(organisations)
    .bind(today)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    // Ratings: mostly Green, some Amber, the odd Red; the combined-panel statement N/A; a draft
    // left part rated.
    sqlx::query(&format!(
        "with pool as (select {DETAILS} as details)
         insert into answers (assessment_id, item_id, rating_id, evidence, fields, updated_at)
         select n.id, i.id, rt.id,
                case g.code when 'amber' then details[1 + h.r % 5] when 'red' then details[1 + (h.r + 2) % 5]
                            when 'na' then 'The panel serves this authority alone, not a combined area.'
                            else '' end,
                case when i.code = '3.1' and g.code is not null then jsonb_build_object(
                    'chair_name', 'Director of Children''s Services',
                    'chair_email', 'channel.chair@' || o.slug || '.gov.uk',
                    'deputy_name', 'Head of Community Safety',
                    'deputy_email', 'channel.deputy@' || o.slug || '.gov.uk') else '{{}}' end,
                least(n.starts_on + interval '8 months', now() - interval '10 days')
         from new_statements n
         join organisations o on o.id = n.organisation_id
         join assessments a on a.id = n.id
         join sections s on s.framework_id = a.framework_id
         join items i on i.section_id = s.id
         cross join pool
         cross join lateral (select abs(hashtext(n.seed || i.code)) % 100 as r) h
         cross join lateral (
             select case when n.plan = 'draft' and h.r % 5 < 2 then null
                         when i.code = '1.5' then 'na'
                         when h.r < 84 then 'green' when h.r < 96 then 'amber' else 'red' end as code
         ) g
         left join ratings rt on rt.framework_id = s.framework_id and rt.code = g.code"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into section_results (assessment_id, section_id)
         select n.id, s.id from new_statements n
         join assessments a on a.id = n.id join sections s on s.framework_id = a.framework_id",
    )
    .execute(&mut *tx)
    .await?;

    // An area for improvement, with a timescale, for each Amber and Red.
    sqlx::query(&format!(
        "with pool as (select {IMPROVEMENTS} as improvements)
         insert into actions (organisation_id, assessment_id, section_id, item_id, source, description,
                              owner_text, target_text, due_on, status, created_at, updated_at)
         select n.organisation_id, n.id, i.section_id, i.id, 'question',
                improvements[1 + abs(hashtext(n.seed || i.code)) % 5], 'Channel Panel Chair',
                to_char(d.due, 'Mon YY'), d.due,
                case when n.plan = 'accepted' and n.starts_on < $1 - 365 then 'done' else 'open' end,
                least(n.starts_on + interval '8 months', now() - interval '10 days'),
                least(n.starts_on + interval '8 months', now() - interval '10 days')
         from new_statements n
         join answers an on an.assessment_id = n.id
         join ratings rt on rt.id = an.rating_id and rt.code in ('amber', 'red')
         join items i on i.id = an.item_id
         cross join pool
         cross join lateral (
             select (date_trunc('month', n.starts_on + interval '17 months') - interval '1 day')::date as due
         ) d",
    ))
    .bind(today)
    .execute(&mut *tx)
    .await?;

    // Sign-off: asked for, and signed (after the last change) unless it waits.
    sqlx::query(
        "insert into sign_offs (assessment_id, requested_at, requested_by, signed_at, signed_by,
                                signer_name, position, local_authority, panel)
         select n.id, least(n.starts_on + interval '8 months', now() - interval '9 days'), null,
                case when n.plan <> 'requested'
                     then least(n.starts_on + interval '8 months' + interval '2 days', now() - interval '7 days') end,
                case when n.plan <> 'requested' then n.signer end,
                case when n.plan <> 'requested' then u.display_name else '' end,
                case when n.plan <> 'requested' then 'Chief Executive' else '' end,
                case when n.plan <> 'requested' then o.name else '' end,
                case when n.plan <> 'requested' then 'single' end
         from new_statements n
         join organisations o on o.id = n.organisation_id
         left join users u on u.id = n.signer
         where n.plan in ('requested', 'signed', 'submitted', 'returned', 'accepted')
           and (n.plan = 'requested' or n.signer is not null)",
    )
    .execute(&mut *tx)
    .await?;

    // The history: submitted, and accepted or returned with a reason.
    sqlx::query(
        "insert into audit_events (occurred_at, actor_label, action, entity_type, entity_id,
                                   organisation_id, region_id, before, after)
         select least(n.starts_on + interval '9 months', now() - interval '8 days') + e.k * interval '1 day',
                e.actor, e.action, 'assessment', n.id::text, n.organisation_id, n.region_id,
                jsonb_build_object('state', e.before), jsonb_build_object('state', e.after, 'reason', e.reason)
         from new_statements n
         cross join lateral (values
             (0, 'assessment.submitted', 'Prevent lead', 'draft', 'submitted', null::text),
             (1, case n.plan when 'returned' then 'assessment.returned' else 'assessment.accepted' end,
              'channel@homeoffice.example', 'submitted',
              case n.plan when 'returned' then 'draft' else 'published' end,
              case n.plan when 'returned'
                   then 'Statement 4.5: say when written consent will be in place for every case.' end)
         ) e(k, action, actor, before, after, reason)
         where n.plan in ('submitted', 'returned', 'accepted')
           and (e.k = 0 or n.plan <> 'submitted')",
    )
    .execute(&mut *tx)
    .await?;
    // Made in their final state, their answers after: the ratings kept for the Channel
    // team's grid, as submitting keeps them (migrations 0018, 0025).
    sqlx::query(
        "update assessments a set submitted_ratings = array_to_string(assessment_ratings(a.id), ' ', '')
         from new_statements n where a.id = n.id and a.state <> 'draft'",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(made)
}
