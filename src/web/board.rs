//! A council's board view: the committee summary a board or an elected member reads (seeds
//! 000's first page) with each benchmark's score, RAG, open actions and latest comment, the
//! scores by cycle, and the actions by status; printable on A4 landscape and downloadable as a
//! Word table for a committee report.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use time::Date;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::dashboards::{BoardRow, Latest};
use crate::db::places::Organisation;
use crate::documents::committee;
use crate::domain::{Score, long_date};
use crate::error::{AppError, AppResult};
use crate::scoring::{Band, RagMapping};
use crate::web::assessments::{ACTION_STATUSES, content_disposition, state_label};
use crate::web::charts::{self, Chart};
use crate::web::chrome::Chrome;
use crate::web::dashboards::{rag_label, score_text, today, visible_council};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}", get(board))
        .route("/orgs/{slug}/summary.docx", get(summary_docx))
}

/// One benchmark of the committee summary.
struct BoardView {
    number: i32,
    title: String,
    rag: Option<&'static str>,
    /// This cycle's agreed score, or the council's proposal (marked so).
    score: String,
    proposed: bool,
    /// Last cycle's agreed score, beside a proposal.
    last: Option<(String, String)>,
    /// The first open actions, as "what – owner, target".
    actions: Vec<String>,
    more: i64,
    comments: String,
}

/// What the board view and its Word copy are made of.
struct Board {
    latest: Option<Latest>,
    rows: Vec<BoardView>,
    /// Open actions on no benchmark (the adviser's recommendations): their first few, and how
    /// many more.
    others: (Vec<String>, i64),
    cycles: Vec<String>,
    series: Vec<charts::CycleScores>,
    benchmarks: usize,
    /// (status label, count, overdue) for every status.
    actions: Vec<(&'static str, i64, i64)>,
}

/// How many cycles the trend shows.
const TREND_CYCLES: i64 = 3;

fn describe(a: &crate::db::dashboards::OpenAction) -> String {
    let owner = if a.owner.is_empty() {
        "no owner"
    } else {
        &a.owner
    };
    let target = if a.target.is_empty() {
        "no target"
    } else {
        &a.target
    };
    format!("{} – {owner}, {target}", a.description)
}

fn first_open(r: &BoardRow) -> (Vec<String>, i64) {
    let listed: Vec<String> = r
        .first_open
        .as_ref()
        .map(|j| j.0.iter().map(describe).collect())
        .unwrap_or_default();
    let more = (r.open + r.in_progress - listed.len() as i64).max(0);
    (listed, more)
}

/// The board's parts from its rows (see `db::dashboards::board`).
fn board_of(rows: &[BoardRow], rags: &RagMapping) -> Board {
    let latest = rows.iter().find(|r| r.latest).map(|r| Latest {
        id: r.assessment_id,
        state: r.state.clone(),
        cycle: r.cycle.clone(),
    });
    // The latest assessment's actions by status, over every benchmark and none.
    let mut counts = [(0, 0); 4];
    for r in rows.iter().filter(|r| r.latest) {
        for (slot, (n, overdue)) in counts.iter_mut().zip([
            (r.open, r.open_overdue),
            (r.in_progress, r.in_progress_overdue),
            (r.done, 0),
            (r.cancelled, 0),
        ]) {
            slot.0 += n;
            slot.1 += overdue;
        }
    }
    // The cycles of the trend, oldest first (labels such as "2024/25" sort by date).
    let mut cycles: Vec<String> = rows.iter().map(|r| r.cycle.clone()).collect();
    cycles.sort();
    cycles.dedup();
    let benchmarks = rows
        .iter()
        .filter(|r| r.latest)
        .filter_map(|r| r.number)
        .count()
        .max(10);
    // Per cycle, each benchmark's score: agreed, else proposed (marked so).
    let mut series: Vec<charts::CycleScores> = cycles
        .iter()
        .map(|c| (c.clone(), vec![None; benchmarks]))
        .collect();
    for r in rows {
        let value = match (r.agreed_score, r.proposed_score) {
            (Some(a), _) => Some((a, false)),
            (None, Some(s)) => Some((s, true)),
            _ => None,
        };
        let column = cycles.iter().position(|c| *c == r.cycle);
        if let (Some((_, scores)), Some(n)) = (column.and_then(|k| series.get_mut(k)), r.number)
            && let Some(slot) = scores.get_mut((n - 1) as usize)
        {
            *slot = value;
        }
    }
    // Last cycle's agreed score of each benchmark: the latest earlier cycle that has one.
    let last_agreed = |n: i32| {
        rows.iter()
            .filter(|r| !r.latest && r.number == Some(n))
            .filter(|r| r.agreed_score.is_some() || r.agreed_not_scored)
            .max_by(|a, b| a.cycle.cmp(&b.cycle))
            .map(|r| {
                (
                    r.cycle.clone(),
                    score_text(r.agreed_score, r.agreed_not_scored),
                )
            })
    };
    let mut others = (Vec::new(), 0);
    let mut views = Vec::new();
    for r in rows.iter().filter(|r| r.latest) {
        let Some(number) = r.number else {
            others = first_open(r);
            continue;
        };
        let (score, proposed) = match (r.agreed_score, r.agreed_not_scored) {
            (None, false) => (score_text(r.proposed_score, r.proposed_not_scored), true),
            (s, ns) => (score_text(s, ns), false),
        };
        let from_agreed = r
            .agreed_score
            .and_then(|s| u8::try_from(s).ok())
            .and_then(Score::new)
            .map(|s| rags.rag(Band::of(s)).code());
        let (actions, more) = first_open(r);
        views.push(BoardView {
            number,
            title: r.title.clone().unwrap_or_default(),
            rag: from_agreed.or(r.rag.as_deref().map(|c| match c {
                "red" => "red",
                "amber" => "amber",
                _ => "green",
            })),
            proposed: proposed && !score.is_empty(),
            last: if proposed { last_agreed(number) } else { None },
            score,
            actions,
            more,
            comments: r.comments.clone().unwrap_or_default(),
        });
    }
    let actions = ACTION_STATUSES
        .iter()
        .zip(counts)
        .map(|((_, label), (n, overdue))| (*label, n, overdue))
        .collect();
    Board {
        latest,
        rows: views,
        others,
        cycles,
        series,
        benchmarks,
        actions,
    }
}

#[derive(Template)]
#[template(path = "dashboards/board.html")]
struct BoardPage {
    chrome: Chrome,
    org: Organisation,
    latest: Option<Latest>,
    as_at: String,
    rows: Vec<BoardView>,
    others: (Vec<String>, i64),
    chart: Chart,
    /// The trend table: cycle labels, then per benchmark the score text per cycle.
    cycles: Vec<String>,
    trend: Vec<(i32, Vec<String>)>,
    actions: Vec<(&'static str, i64, i64)>,
    /// The latest Channel statement by key area, when this person may read it.
    statement: Vec<db::channel::AreaCount>,
    statement_state: &'static str,
}

impl BoardPage {
    fn state_label(&self, state: &str) -> &'static str {
        state_label(state)
    }
}

async fn load(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    slug: &str,
) -> AppResult<(Organisation, Board, Date)> {
    let (org, board, today, ()) = load_with(state, who, ip, slug, |_| async { Ok(()) }).await?;
    Ok((org, board, today))
}

/// The board of the council `slug` this person may see, and what `also` reads of the council
/// meanwhile, once the council is known to be theirs to see (on a connection of its own: with
/// the database some milliseconds away, the page then waits for one round trip, not two).
async fn load_with<T, F, Fut>(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    slug: &str,
    also: F,
) -> AppResult<(Organisation, Board, Date, T)>
where
    F: FnOnce(Uuid) -> Fut,
    Fut: std::future::Future<Output = sqlx::Result<T>>,
{
    let org = visible_council(state, who, ip, slug).await?;
    let today = today();
    let (rows, also) = tokio::try_join!(
        state.caches.board(&state.db, org.id, today, TREND_CYCLES),
        also(org.id)
    )?;
    let board = board_of(&rows[..], &state.settings.rags);
    Ok((org, board, today, also))
}

async fn board(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    // The Channel statement beside the benchmarks, read with them.
    let (org, board, today, kept) = load_with(&state, &who, ip, &slug, |council| {
        state.caches.statement_areas(&state.db, council)
    })
    .await?;
    let trend = (1..=board.benchmarks as i32)
        .map(|n| {
            let cells = board
                .series
                .iter()
                .map(|(_, s)| match s[(n - 1) as usize] {
                    Some((v, true)) => format!("{v} (proposed)"),
                    Some((v, false)) => v.to_string(),
                    None => "–".to_owned(),
                })
                .collect();
            (n, cells)
        })
        .collect();
    // The Channel statement beside the benchmarks: the latest one this person may read (a
    // board member reads one once it is accepted, so last cycle's while this one is written).
    let readable = kept
        .iter()
        .map(|a| (a.assessment, a.state.as_str()))
        .find(|(_, st)| {
            crate::auth::policy::allows(
                &who,
                crate::auth::policy::Action::ViewAssessment,
                crate::web::assessments::statement_object(&org, st),
            )
        });
    let (statement, statement_state) = match readable {
        Some((id, st)) => (
            kept.iter()
                .filter(|a| a.assessment == id)
                .cloned()
                .collect(),
            crate::web::assessments::state_label_of(true, st),
        ),
        None => (Vec::new(), ""),
    };
    let page = BoardPage {
        statement,
        statement_state,
        chrome: Chrome::new(Some(&who), &format!("/orgs/{slug}")),
        chart: charts::grouped_scores(board.benchmarks, &board.series),
        as_at: format!("As at {}", long_date(today)),
        cycles: board.cycles,
        trend,
        actions: board.actions,
        rows: board.rows,
        others: board.others,
        latest: board.latest,
        org,
    };
    Ok(Html(page.render()?).into_response())
}

/// The committee summary as a Word table, the same as the page's.
async fn summary_docx(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let (org, board, today) = load(&state, &who, ip, &slug).await?;
    let latest = board.latest.as_ref().ok_or(AppError::NotFound)?;
    let mut rows: Vec<committee::Row> = board
        .rows
        .iter()
        .map(|r| {
            let mut score = if r.score.is_empty() {
                "None yet".to_owned()
            } else if r.proposed {
                format!("{} (proposed)", r.score)
            } else {
                r.score.clone()
            };
            if let Some((cycle, last)) = &r.last {
                score.push_str(&format!("; agreed {cycle}: {last}"));
            }
            let mut actions = r.actions.clone();
            if r.more > 0 {
                actions.push(format!("and {} more", r.more));
            }
            committee::Row {
                benchmark: format!("{}. {}", r.number, r.title),
                score,
                rag: r.rag.map(rag_label).unwrap_or_default().to_owned(),
                actions,
                comment: r.comments.clone(),
            }
        })
        .collect();
    if !board.others.0.is_empty() {
        let mut actions = board.others.0.clone();
        if board.others.1 > 0 {
            actions.push(format!("and {} more", board.others.1));
        }
        rows.push(committee::Row {
            benchmark: "Recommended by the Home Office".to_owned(),
            score: String::new(),
            rag: String::new(),
            actions,
            comment: String::new(),
        });
    }
    let summary = committee::Summary {
        council: org.name.clone(),
        title: format!(
            "{}: Prevent duty self-assessment {}",
            org.name, latest.cycle
        ),
        as_at: format!("As at {}", long_date(today)),
        note: format!(
            "The {} self-assessment is {}. Scores are agreed with the Home Office regional adviser unless marked proposed.",
            latest.cycle,
            state_label(&latest.state).to_lowercase()
        ),
        rows,
    };
    let created = format!("{today}T00:00:00Z");
    let bytes = committee::docx(&summary, &created).map_err(AppError::Internal)?;
    let name = format!(
        "{}-prevent-summary-{}.docx",
        org.slug,
        latest.cycle.replace('/', "-")
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    .to_owned(),
            ),
            (header::CONTENT_DISPOSITION, content_disposition(&name)),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
