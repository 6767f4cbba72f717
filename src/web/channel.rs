//! The Home Office's Channel team: every council's statement in one grid (councils × the 36
//! statements, coloured by rating and written out, never colour alone), counts of Amber and
//! Red per key area and per region, who has not submitted by the deadline; and each statement's
//! check: accept it, or return it to the council with a reason.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{Action, Object};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::Head;
use crate::error::{AppError, AppResult};
use crate::framework::{Framework, Instrument};
use crate::web::assessments::{framework, object, shown_head, state_label_of, visible_head};
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::forms::{Form, Query};
use crate::web::guard::authorise;
use crate::web::statement::{self, Statement};

pub fn router() -> Router<AppState> {
    Router::new().route("/channel", get(grid)).route(
        "/assessments/{id}/channel-review",
        get(review_page).post(review),
    )
}

/// The Channel statement's framework.
fn channel_framework(state: &AppState) -> AppResult<&Framework> {
    state
        .frameworks
        .all()
        .iter()
        .find(|f| f.kind == Instrument::ChannelStatement)
        .ok_or(AppError::NotFound)
}

/// What the grid is filtered by, as the address says.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GridQuery {
    #[serde(default)]
    pub cycle: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub area: String,
    #[serde(default)]
    pub rating: String,
    /// The last council of the page before (its slug): the page starts after it.
    #[serde(default)]
    pub after: String,
    /// The first council of the page after: the page ends before it.
    #[serde(default)]
    pub before: String,
}

/// Councils shown in the grid at a time: 50 rows of 36 ratings is a page a browser lays out
/// at once and a person reads; the counts above it cover every council the filters keep.
pub const GRID_PAGE: usize = 50;

struct Column {
    code: String,
    area: u32,
    /// The first statement of its key area (a rule before it).
    starts_area: bool,
}

/// Written into the page unescaped (`|safe`): both are fixed words of [`cell`], never typed.
struct Cell {
    /// "G", "A", "R", "N/A", or "" when not rated.
    short: &'static str,
    class: &'static str,
}

struct Line<'a> {
    row: &'a db::channel::GridRow,
    cells: Vec<Cell>,
    state: &'static str,
    late: bool,
}

/// Amber and Red counts of one key area or region.
struct Count {
    label: String,
    amber: usize,
    red: usize,
}

struct Waiting {
    name: String,
    region: String,
    state: &'static str,
    overdue_days: i64,
}

#[derive(Template)]
#[template(path = "channel/grid.html")]
struct GridPage<'a> {
    chrome: Chrome,
    query: GridQuery,
    cycles: Vec<String>,
    cycle: String,
    deadline: String,
    regions: Vec<(String, String)>,
    areas: Vec<(u32, String)>,
    columns: Vec<Column>,
    lines: Vec<Line<'a>>,
    by_area: Vec<Count>,
    by_region: Vec<Count>,
    waiting: Vec<Waiting>,
    submitted: usize,
    councils: usize,
    /// Where the rows shown sit among the councils the filters keep: first (from 1), last, all.
    first: usize,
    last: usize,
    matching: usize,
    /// The keys of the pages either side, when there are any.
    previous: Option<String>,
    next: Option<String>,
    page_size: usize,
}

fn cell(code: &str) -> Cell {
    match code {
        "green" => Cell {
            short: "G",
            class: "app-r--green",
        },
        "amber" => Cell {
            short: "A",
            class: "app-r--amber",
        },
        "red" => Cell {
            short: "R",
            class: "app-r--red",
        },
        "na" => Cell {
            short: "N/A",
            class: "app-r--na",
        },
        _ => Cell {
            short: "",
            class: "",
        },
    }
}

async fn grid(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(query): Query<GridQuery>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::ViewChannel, Object::Service).await?;
    let fw = channel_framework(&state)?;
    let places = state.caches.places(&state.db).await?;
    let today = OffsetDateTime::now_utc().date();
    let cycle = places
        .cycles
        .iter()
        .find(|c| c.label == query.cycle)
        .or_else(|| places.current_cycle(today))
        .ok_or(AppError::NotFound)?;
    let region = places
        .regions
        .iter()
        .find(|r| r.slug == query.region)
        .map_or("", |r| r.slug.as_str());
    let grid = state
        .caches
        .channel_grid(&state.db, cycle.id, &fw.code)
        .await?;
    let rows = grid
        .rows
        .iter()
        .filter(|r| region.is_empty() || r.region_slug == region);
    let area: Option<u32> = query.area.parse().ok().filter(|n| fw.section(*n).is_some());
    // The columns shown: every statement, or one key area's.
    let all: Vec<Column> = fw
        .sections
        .iter()
        .flat_map(|s| {
            s.items.iter().enumerate().map(move |(k, i)| Column {
                code: i.code.clone(),
                area: s.number,
                starts_area: k == 0,
            })
        })
        .collect();
    let shown: Vec<usize> = (0..all.len())
        .filter(|&i| area.is_none_or(|a| all[i].area == a))
        .collect();
    let rating = fw.rating(&query.rating).map(|r| r.code.clone());
    let mut by_area: Vec<Count> = fw
        .sections
        .iter()
        .map(|s| Count {
            label: format!("{}. {}", s.number, s.title),
            amber: 0,
            red: 0,
        })
        .collect();
    let mut by_region: Vec<Count> = Vec::new();
    let mut waiting = Vec::new();
    let mut lines = Vec::new();
    let (mut submitted, mut councils) = (0, 0);
    for row in rows {
        councils += 1;
        let state_code = row.state.clone().unwrap_or_default();
        let ratings = &row.ratings;
        if !ratings.is_empty() {
            submitted += 1;
            let region_count = match by_region
                .iter_mut()
                .position(|c| c.label == row.region_name)
            {
                Some(i) => &mut by_region[i],
                None => {
                    by_region.push(Count {
                        label: row.region_name.clone(),
                        amber: 0,
                        red: 0,
                    });
                    by_region.last_mut().expect("just pushed")
                }
            };
            for (i, code) in ratings.iter().enumerate() {
                let Some(col) = all.get(i) else { continue };
                if area.is_some_and(|a| a != col.area) {
                    continue;
                }
                let slot = &mut by_area[col.area as usize - 1];
                match code {
                    "amber" => {
                        slot.amber += 1;
                        region_count.amber += 1;
                    }
                    "red" => {
                        slot.red += 1;
                        region_count.red += 1;
                    }
                    _ => {}
                }
            }
        } else {
            waiting.push(Waiting {
                name: row.organisation_name.clone(),
                region: row.region_name.clone(),
                state: if row.assessment.is_none() {
                    "Not started"
                } else {
                    state_label_of(true, &state_code)
                },
                overdue_days: (today - row.deadline).whole_days().max(0),
            });
        }
        // A rating filter keeps the councils with that rating among the columns shown.
        if let Some(r) = &rating
            && !shown.iter().any(|&i| ratings.get(i) == Some(r.as_str()))
        {
            continue;
        }
        let late = row.submitted_at.is_some_and(|at| at.date() > row.deadline);
        // The cells are made for the page's councils alone, below.
        lines.push(Line {
            cells: Vec::new(),
            state: if row.assessment.is_none() {
                "Not started"
            } else {
                state_label_of(true, &state_code)
            },
            late,
            row,
        });
    }
    // One page of the councils kept, by key: the page after a council or before one, so a
    // link stays on the same councils however the counts above change.
    let matching = lines.len();
    let at = |slug: &str| {
        (!slug.is_empty())
            .then(|| lines.iter().position(|l| l.row.organisation_slug == slug))
            .flatten()
    };
    let start = match (at(&query.after), at(&query.before)) {
        (Some(p), _) => p + 1,
        (None, Some(p)) => p.saturating_sub(GRID_PAGE),
        (None, None) => 0,
    };
    // After the last council (the list changed under the link): its last page.
    let start = if start >= matching {
        matching.saturating_sub(GRID_PAGE)
    } else {
        start
    };
    let end = (start + GRID_PAGE).min(matching);
    let previous = (start > 0).then(|| lines[start].row.organisation_slug.clone());
    let next = (end < matching).then(|| lines[end - 1].row.organisation_slug.clone());
    let lines: Vec<Line> = lines
        .drain(start..end)
        .map(|mut line| {
            line.cells = shown
                .iter()
                .map(|&i| cell(line.row.ratings.get(i).unwrap_or_default()))
                .collect();
            line
        })
        .collect();
    let deadline =
        crate::domain::long_date(lines.first().map_or(cycle.deadline, |l| l.row.deadline));
    let page = GridPage {
        chrome: Chrome::new(Some(&who), "/channel"),
        cycles: places.cycles.iter().map(|c| c.label.clone()).collect(),
        cycle: cycle.label.clone(),
        deadline,
        regions: places
            .regions
            .iter()
            .map(|r| (r.slug.clone(), r.name.clone()))
            .collect(),
        areas: fw
            .sections
            .iter()
            .map(|s| (s.number, s.title.clone()))
            .collect(),
        columns: shown
            .iter()
            .map(|&i| Column {
                code: all[i].code.clone(),
                area: all[i].area,
                starts_area: all[i].starts_area,
            })
            .collect(),
        lines,
        by_area: by_area
            .into_iter()
            .enumerate()
            .filter(|(i, _)| area.is_none_or(|a| a as usize == i + 1))
            .map(|(_, c)| c)
            .collect(),
        by_region,
        waiting,
        submitted,
        councils,
        first: if matching == 0 { 0 } else { start + 1 },
        last: end,
        matching,
        previous,
        next,
        page_size: GRID_PAGE,
        query,
    };
    Ok(Html(page.render()?).into_response())
}

// ----- One statement's check ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "channel/review.html")]
struct ReviewPage {
    chrome: Chrome,
    head: Head,
    state_label: &'static str,
    statement: Statement,
    reason: String,
    errors: Errors,
    done: Option<&'static str>,
}

impl ReviewPage {
    fn panel(&self, s: &db::sign_offs::SignOff) -> String {
        statement::panel_words(s)
    }
    fn when(&self, at: &OffsetDateTime) -> String {
        crate::domain::uk_date(*at)
    }
    fn open(&self) -> bool {
        matches!(self.head.state.as_str(), "submitted" | "in_review")
    }
}

/// The statement the Channel team may check: the database's answer (for a change), or,
/// `shown`, the kept copy (for the page that only shows it).
async fn reviewable(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
    shown: bool,
) -> AppResult<Head> {
    let head = if shown {
        shown_head(state, who, ip, id).await?
    } else {
        visible_head(state, who, ip, id).await?
    };
    if !head.channel {
        return Err(AppError::NotFound);
    }
    authorise(state, who, ip, Action::CheckStatement, object(&head)).await?;
    Ok(head)
}

async fn render(
    state: &AppState,
    who: &Principal,
    head: Head,
    reason: String,
    errors: Errors,
    done: Option<&'static str>,
    status: StatusCode,
) -> AppResult<Response> {
    let fw = framework(state, &head)?;
    let statement = statement::load(state, &head, fw).await?;
    let page = ReviewPage {
        chrome: Chrome::new(Some(who), "/channel"),
        state_label: state_label_of(true, &head.state),
        head,
        statement,
        reason,
        errors,
        done,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

async fn review_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let head = reviewable(&state, &who, ip, id, true).await?;
    let done = match q.done.as_str() {
        "accepted" => Some("The statement has been accepted."),
        "returned" => Some("The statement has been returned to the council with your reason."),
        _ => None,
    };
    render(
        &state,
        &who,
        head,
        String::new(),
        Errors::default(),
        done,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    intent: String,
    #[serde(default)]
    reason: String,
}

async fn review(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Form(form): Form<ReviewForm>,
) -> AppResult<Response> {
    let head = reviewable(&state, &who, ip, id, false).await?;
    let reason = form.reason.trim().to_owned();
    let mut errors = Errors::default();
    let open = matches!(head.state.as_str(), "submitted" | "in_review");
    if !open {
        errors.add(
            "reason",
            "Only a submitted statement can be accepted or returned",
        );
    } else if form.intent == "return" && reason.is_empty() {
        errors.add(
            "reason",
            "Say why the statement is being returned, so the council knows what to change",
        );
    } else if reason.chars().count() > 2000 {
        errors.add("reason", "The reason must be 2000 characters or fewer");
    } else if !matches!(form.intent.as_str(), "accept" | "return") {
        errors.add("reason", "Choose to accept the statement or return it");
    }
    if !errors.is_empty() {
        return render(
            &state,
            &who,
            head,
            form.reason,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // The engine's own steps: returned as a self-assessment is; accepted is its published.
    let accept = crate::web::review::Step {
        from: &["submitted", "in_review"],
        to: "published",
        action: "assessment.accepted",
        tell: Some(crate::notify::Kind::Accepted),
    };
    let (step, done) = if form.intent == "accept" {
        (&accept, "accepted")
    } else {
        (&crate::web::review::RETURN, "returned")
    };
    let mut tx = state.db.begin().await?;
    let reason = Some(reason.as_str()).filter(|r| !r.is_empty());
    crate::web::review::take_step(&mut tx, &who, ip, &head, step, reason).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/channel-review?done={done}")).into_response())
}
