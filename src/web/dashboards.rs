//! What people look at: a council's board view and action plan (with CSV and Excel exports), an
//! owner's own actions, the adviser's region and the national picture.

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Object};
use crate::auth::session::ClientIp;
use crate::cache::councils::Download;
use crate::db;
use crate::db::dashboards::{Latest, PlanFilter, PlanRow, RegionCouncil};
use crate::db::places::Organisation;
use crate::domain::Score;
use crate::error::{AppError, AppResult};
use crate::scoring::Band;
use crate::web::assessments::{
    ACTION_STATUSES, action_status_label, content_disposition, state_label,
};
use crate::web::charts::{self, Chart};
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::forms::Query;
use crate::web::guard::{authorise, authorise_or_hide};
use crate::workbook::Cell;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/actions", get(plan))
        .route("/orgs/{slug}/actions.csv", get(plan_csv))
        .route("/orgs/{slug}/actions.xlsx", get(plan_xlsx))
        .route("/regions/{slug}", get(region))
        .route("/national", get(national))
}

pub(crate) fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// The council, if this person may see it; another council's is not found (404).
pub(crate) async fn visible_council(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    slug: &str,
) -> AppResult<Organisation> {
    let org = state
        .caches
        .places(&state.db)
        .await?
        .organisation(slug)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let object = Object::Organisation {
        id: org.id,
        region_id: org.region_id,
    };
    authorise_or_hide(state, who, ip, Action::ViewOrganisation, object).await?;
    Ok(org)
}

/// A score as shown: "3", "Not scored", or nothing.
pub(crate) fn score_text(score: Option<i16>, not_scored: bool) -> String {
    match (score, not_scored) {
        (Some(s), _) => s.to_string(),
        (None, true) => "Not scored".to_owned(),
        (None, false) => String::new(),
    }
}

pub(crate) fn rag_label(rag: &str) -> &'static str {
    match rag {
        "red" => "Red",
        "amber" => "Amber",
        "green" => "Green",
        _ => "",
    }
}

// ----- The action plan --------------------------------------------------------------------------

/// The plan's filters as typed in the address.
#[derive(Debug, Clone, Default, Deserialize)]
struct PlanQuery {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    benchmark: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    overdue: String,
    /// Set after a change made from the plan, for the success banner.
    #[serde(default)]
    done: String,
}

impl PlanQuery {
    /// The filter to apply, and an error for each value that is not one of the choices (that
    /// part of the filter is left off).
    fn filter(&self) -> (PlanFilter, Errors) {
        let mut errors = Errors::default();
        let benchmark = match self.benchmark.trim() {
            "" => None,
            n => match n.parse::<i32>() {
                Ok(n) if (1..=10).contains(&n) => Some(n),
                _ => {
                    errors.add("benchmark", "Choose a benchmark from the list");
                    None
                }
            },
        };
        let status = match self.status.trim() {
            "" => None,
            s if ACTION_STATUSES.iter().any(|(c, _)| *c == s) => Some(s.to_owned()),
            _ => {
                errors.add("status", "Choose a status from the list");
                None
            }
        };
        let owner = Some(self.owner.trim().to_owned()).filter(|o| !o.is_empty());
        let filter = PlanFilter {
            owner,
            benchmark,
            status,
            overdue: matches!(self.overdue.as_str(), "yes" | "true" | "on"),
        };
        (filter, errors)
    }
}

/// The query string that gives this filter (for the export links).
fn query_string(filter: &PlanFilter) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(o) = &filter.owner {
        pairs.push(("owner", o.clone()));
    }
    if let Some(b) = filter.benchmark {
        pairs.push(("benchmark", b.to_string()));
    }
    if let Some(s) = &filter.status {
        pairs.push(("status", s.clone()));
    }
    if filter.overdue {
        pairs.push(("overdue", "yes".to_owned()));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!(
            "?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }
}

/// One owner's actions.
struct OwnerGroup {
    owner: String,
    rows: Vec<PlanRow>,
    overdue: usize,
}

#[derive(Template)]
#[template(path = "dashboards/plan.html")]
struct PlanPage {
    chrome: Chrome,
    org: Organisation,
    latest: Option<Latest>,
    errors: Errors,
    query: PlanQuery,
    filter: PlanFilter,
    owners: Vec<String>,
    groups: Vec<OwnerGroup>,
    total: usize,
    export_query: String,
    limited: bool,
    /// The benchmarks (and None for no benchmark) whose actions this person may change.
    editable: Vec<Option<i32>>,
    /// Whether they may change the Channel statement's areas for improvement.
    channel_editable: bool,
    /// What the last change did.
    done: Option<&'static str>,
}

impl PlanPage {
    fn date(&self, d: &Date) -> String {
        crate::domain::long_date(*d)
    }
    fn status_label(&self, code: &str) -> &'static str {
        action_status_label(code)
    }
    fn statuses(&self) -> &'static [(&'static str, &'static str)] {
        &ACTION_STATUSES
    }
    fn filtered(&self) -> bool {
        self.filter != PlanFilter::default()
    }
    fn recommended(&self, cycle: &str) -> String {
        recommended_label(cycle)
    }
    fn may_edit(&self, r: &PlanRow) -> bool {
        if r.channel {
            self.channel_editable
        } else {
            self.editable.contains(&r.number)
        }
    }
}

/// The plan's rows for the council and filter: (council, latest assessment, the owners named
/// in its plan, filter, errors, rows).
async fn plan_rows(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    slug: &str,
    query: &PlanQuery,
) -> AppResult<(
    Organisation,
    Option<Latest>,
    Vec<String>,
    PlanFilter,
    Errors,
    Vec<PlanRow>,
    Option<Object>,
)> {
    let org = visible_council(state, who, ip, slug).await?;
    let (filter, errors) = query.filter();
    let plan = state
        .caches
        .plan(&state.db, org.id, &filter, today())
        .await?;
    let (latest, owners, statement, mut rows) = match (*plan).clone() {
        Some(plan) => (
            Some(plan.latest),
            plan.owners,
            plan.statement_state
                .map(|state| crate::web::assessments::statement_object(&org, &state)),
            plan.rows,
        ),
        None => (None, Vec::new(), None, Vec::new()),
    };
    // The Channel statement's areas for improvement, for those who may read the statement (a
    // board member once it is accepted).
    let visible = statement.is_some_and(|s| policy::allows(who, Action::ViewAssessment, s));
    if !visible {
        rows.retain(|r| !r.channel);
    }
    Ok((org, latest, owners, filter, errors, rows, statement))
}

async fn plan(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Query(query): Query<PlanQuery>,
) -> AppResult<Response> {
    let (org, latest, owners, filter, errors, rows, statement) =
        plan_rows(&state, &who, ip, &slug, &query).await?;
    let total = rows.len();
    let mut groups: Vec<OwnerGroup> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(g) if g.owner == row.owner => g.rows.push(row),
            _ => groups.push(OwnerGroup {
                owner: row.owner.clone(),
                rows: vec![row],
                overdue: 0,
            }),
        }
    }
    for g in &mut groups {
        g.overdue = g.rows.iter().filter(|r| r.overdue).count();
    }
    // Owners with overdue actions come first, the most overdue first.
    groups.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(a.owner.cmp(&b.owner)));
    // Who may change which actions: the policy, asked of the plan's assessment.
    let editable = match &latest {
        Some(l) => {
            let object = Object::Assessment {
                organisation_id: org.id,
                region_id: org.region_id,
                draft: l.state == "draft",
                in_review: matches!(l.state.as_str(), "submitted" | "in_review"),
                published: l.state == "published",
                channel: false,
            };
            std::iter::once(None)
                .chain((1..=10).map(Some))
                .filter(|n| policy::allows(&who, Action::EditAction(*n), object))
                .collect()
        }
        None => Vec::new(),
    };
    // Who may change the Channel statement's areas for improvement, when the plan shows them.
    let channel_editable = groups.iter().flat_map(|g| &g.rows).any(|r| r.channel)
        && statement.is_some_and(|s| policy::allows(&who, Action::EditAction(None), s));
    let page = PlanPage {
        channel_editable,
        chrome: Chrome::new(Some(&who), &format!("/orgs/{slug}/actions")),
        done: match query.done.as_str() {
            "action-changed" => Some("The action has been changed."),
            "action-deleted" => Some("The action has been deleted."),
            _ => None,
        },
        editable,
        export_query: query_string(&filter),
        limited: total as i64 >= db::dashboards::PLAN_LIMIT,
        org,
        latest,
        errors,
        query,
        filter,
        owners,
        groups,
        total,
    };
    Ok(Html(page.render()?).into_response())
}

/// Where a recommended action came from, as the plan labels it.
pub(crate) fn recommended_label(cycle: &str) -> String {
    format!("Recommended by the Home Office, {cycle}")
}

/// The columns of the plan's exports.
const EXPORT_COLUMNS: [&str; 13] = [
    "Owner",
    "Owner's account",
    "Benchmark",
    "Question",
    "Source",
    "Action",
    "Target",
    "Due date",
    "Status",
    "RAG",
    "Overdue",
    "Latest progress note",
    "Note date",
];

/// The widths of the export's columns in the workbook, in characters.
const EXPORT_WIDTHS: [f64; 13] = [
    22.0, 16.0, 22.0, 9.0, 20.0, 50.0, 13.0, 12.0, 11.0, 8.0, 9.0, 40.0, 12.0,
];

fn export_cells(r: &PlanRow) -> [Cell; 13] {
    let text = |s: String| Cell::Text(s);
    [
        text(r.owner.clone()),
        text(r.owner_name.clone().unwrap_or_default()),
        text(match (r.number, &r.benchmark) {
            (Some(n), Some(title)) if r.channel => format!("Key area {n} {title}"),
            (Some(n), Some(title)) => format!("{n} {title}"),
            _ => String::new(),
        }),
        text(r.item_code.clone().unwrap_or_default()),
        text(if r.channel {
            "Channel statement".to_owned()
        } else {
            r.recommended_in
                .as_deref()
                .map_or_else(|| "Self-assessment".to_owned(), recommended_label)
        }),
        text(r.description.clone()),
        text(r.target_text.clone()),
        Cell::Date(r.due_on),
        text(action_status_label(&r.status).to_owned()),
        text(
            r.rag
                .as_deref()
                .map(rag_label)
                .unwrap_or_default()
                .to_owned(),
        ),
        text(if r.overdue { "Yes" } else { "No" }.to_owned()),
        text(r.latest_note.clone().unwrap_or_default()),
        Cell::Date(r.latest_note_on),
    ]
}

/// A cell as the CSV writes it: dates as 2027-03-31.
fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        Cell::Date(d) => d.map(|d| d.to_string()).unwrap_or_default(),
        Cell::Number(n) => n.to_string(),
    }
}

/// A CSV field, quoted; text a spreadsheet would run as a formula is prefixed with `'`.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", value.replace('"', "\"\""))
}

fn export_name(org: &Organisation, latest: &Option<Latest>, ext: &str) -> String {
    let cycle = latest
        .as_ref()
        .map(|l| format!("-{}", l.cycle.replace('/', "-")))
        .unwrap_or_default();
    format!("{}-action-plan{cycle}.{ext}", org.slug)
}

/// A table as a CSV download named `name`: the headings, then a line per row.
pub(crate) fn csv_download(name: &str, headings: &[&str], rows: &[Vec<Cell>]) -> Response {
    csv_file(name, csv_body(headings, rows))
}

/// A table as CSV text: the headings, then a line per row.
pub(crate) fn csv_body(headings: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut out = String::with_capacity(128 * (rows.len() + 1));
    let mut line = |fields: Vec<String>| {
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    };
    line(headings.iter().map(|h| csv_field(h)).collect());
    for row in rows {
        line(row.iter().map(|c| csv_field(&csv_text(c))).collect());
    }
    out
}

/// CSV text as a download named `name`.
pub(crate) fn csv_file(name: &str, body: impl Into<Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, content_disposition(name)),
        ],
        body.into(),
    )
        .into_response()
}

/// A download as kept (see [`crate::cache::Caches::download`]), or as `write` writes it: the
/// bytes, or, when the writer failed, an error naming `what` it was writing.
pub(crate) async fn kept_file<F, Fut>(
    state: &AppState,
    which: Download,
    owner: Uuid,
    what: &str,
    write: F,
) -> AppResult<Bytes>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = sqlx::Result<Result<Bytes, String>>>,
{
    match state.caches.download(which, owner, write).await?.as_ref() {
        Ok(bytes) => Ok(bytes.clone()),
        Err(e) => Err(AppError::Internal(anyhow::anyhow!("writing {what}: {e}"))),
    }
}

/// A workbook download named `name`.
pub(crate) fn xlsx_download(name: &str, bytes: impl Into<Body>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                crate::workbook::CONTENT_TYPE.to_owned(),
            ),
            (header::CONTENT_DISPOSITION, content_disposition(name)),
        ],
        bytes.into(),
    )
        .into_response()
}

async fn plan_csv(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Query(query): Query<PlanQuery>,
) -> AppResult<Response> {
    let (org, latest, _, _, _, rows, _) = plan_rows(&state, &who, ip, &slug, &query).await?;
    let table: Vec<Vec<Cell>> = rows.iter().map(|r| export_cells(r).to_vec()).collect();
    Ok(csv_download(
        &export_name(&org, &latest, "csv"),
        &EXPORT_COLUMNS,
        &table,
    ))
}

/// The plan's workbook as `actions.xlsx` downloads it (and as it is written again after a
/// change, `crate::web::downloads`).
pub(crate) fn plan_workbook(
    org: &Organisation,
    latest: Option<&Latest>,
    rows: &[PlanRow],
) -> Result<Bytes, String> {
    let table: Vec<Vec<Cell>> = rows.iter().map(|r| export_cells(r).to_vec()).collect();
    let title = format!(
        "{} action plan{}",
        org.name,
        latest.map(|l| format!(", {}", l.cycle)).unwrap_or_default()
    );
    crate::workbook::table(
        "Action plan",
        &title,
        &EXPORT_COLUMNS,
        &EXPORT_WIDTHS,
        &table,
    )
    .map(Bytes::from)
    .map_err(|e| e.to_string())
}

async fn plan_xlsx(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Query(query): Query<PlanQuery>,
) -> AppResult<Response> {
    let (org, latest, _, filter, _, rows, _) = plan_rows(&state, &who, ip, &slug, &query).await?;
    // Written once per change of the plan (the rows are the kept plan's), then kept.
    let which = Download::Plan(org.id, filter, today(), rows.iter().any(|r| r.channel));
    let bytes = kept_file(
        &state,
        which,
        org.id,
        "the action plan workbook",
        || async { Ok(plan_workbook(&org, latest.as_ref(), &rows)) },
    )
    .await?;
    Ok(xlsx_download(&export_name(&org, &latest, "xlsx"), bytes))
}

// ----- The region -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "dashboards/region.html")]
struct RegionPage {
    chrome: Chrome,
    slug: String,
    name: String,
    cycle: Option<String>,
    rows: Vec<RegionCouncil>,
    benchmarks: Vec<i32>,
}

impl RegionPage {
    fn state(&self, row: &RegionCouncil) -> &'static str {
        row.state.as_deref().map_or("Not started", state_label)
    }

    /// The council's agreed scores, or "none" on every benchmark until it is agreed.
    fn scores<'a>(&self, row: &'a RegionCouncil) -> &'a [i16] {
        row.scores
            .as_deref()
            .unwrap_or(&NO_SCORES[..self.benchmarks.len().min(10)])
    }

    fn waiting(&self, row: &RegionCouncil) -> bool {
        matches!(row.state.as_deref(), Some("submitted" | "in_review"))
    }

    /// The class of a score's cell: coloured by its band.
    fn band_class(&self, score: &i16) -> &'static str {
        match u8::try_from(*score).ok().and_then(Score::new).map(Band::of) {
            Some(band) => band_class(band),
            None => "app-score--none",
        }
    }
}

/// A council with no agreed scores: "none" on each of the ten benchmarks.
const NO_SCORES: [i16; 10] = [-1; 10];

fn band_class(band: Band) -> &'static str {
    match band.code() {
        "not_meeting" => "app-score--not-meeting",
        "meeting" => "app-score--meeting",
        _ => "app-score--exceeding",
    }
}

async fn region(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let places = state.caches.places(&state.db).await?;
    let region = places.region(&slug).ok_or(AppError::NotFound)?;
    authorise(
        &state,
        &who,
        ip,
        Action::ViewRegion,
        Object::Region(region.id),
    )
    .await?;
    let cycle = places.current_cycle(today());
    let rows = match cycle {
        Some(cycle) => {
            let rows = state
                .caches
                .region_councils(&state.db, region.id, cycle.id, today())
                .await?;
            (*rows).clone()
        }
        None => Vec::new(),
    };
    let page = RegionPage {
        chrome: Chrome::new(Some(&who), &format!("/regions/{slug}")),
        slug: region.slug.clone(),
        name: region.name.clone(),
        cycle: cycle.map(|c| c.label.clone()),
        benchmarks: (1..=rows
            .iter()
            .filter_map(|r| r.scores.as_ref().map(|s| s.len() as i32))
            .max()
            .unwrap_or(10))
            .collect(),
        rows,
    };
    Ok(Html(page.render()?).into_response())
}

// ----- The national picture ---------------------------------------------------------------------

#[derive(Deserialize)]
struct NationalQuery {
    cycle: Option<String>,
}

/// A region's line of the consistency table: mean agreed score per benchmark (and how many).
struct RegionMeans {
    region: String,
    cells: Vec<Option<(f64, i64)>>,
}

#[derive(Template)]
#[template(path = "dashboards/national.html")]
struct NationalPage {
    chrome: Chrome,
    cycles: Vec<db::dashboards::CycleAgreed>,
    cycle: Option<String>,
    /// Councils agreed each score 1-5, per benchmark.
    counts: Vec<[i64; 5]>,
    distribution: Chart,
    means: Vec<RegionMeans>,
    trend_cycles: Vec<String>,
    trend: Vec<(String, Vec<Option<f64>>)>,
    trend_chart: Chart,
}

impl NationalPage {
    fn mean_class(&self, mean: &f64) -> &'static str {
        match Score::new(mean.round().clamp(1.0, 5.0) as u8).map(Band::of) {
            Some(band) => band_class(band),
            None => "app-score--none",
        }
    }
}

async fn national(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(query): Query<NationalQuery>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::ViewNational, Object::Service).await?;
    let rows = state.caches.national(&state.db).await?;
    let rows = rows.as_slice();
    let mut cycles: Vec<db::dashboards::CycleAgreed> = Vec::new();
    for r in rows {
        match cycles.last_mut() {
            Some(c) if c.id == r.cycle_id => c.agreed += r.assessments,
            _ => cycles.push(db::dashboards::CycleAgreed {
                id: r.cycle_id,
                label: r.cycle.clone(),
                agreed: r.assessments,
            }),
        }
    }
    // The chosen cycle, else the latest with agreed scores.
    let chosen = query
        .cycle
        .as_deref()
        .and_then(|label| cycles.iter().find(|c| c.label == label))
        .or_else(|| cycles.iter().find(|c| c.agreed > 0))
        .or(cycles.first());
    // (region, counts) of the chosen cycle, by region name.
    let regions_of = |cycle: Uuid| {
        rows.iter()
            .filter(move |r| r.cycle_id == cycle)
            .filter_map(|r| Some((r.region.as_ref()?, r.counts.as_ref()?)))
    };
    let mut counts = vec![[0i64; 5]; 10];
    let mut means: Vec<RegionMeans> = Vec::new();
    for (region, cells) in chosen.into_iter().flat_map(|c| regions_of(c.id)) {
        let mut line = RegionMeans {
            region: region.clone(),
            cells: vec![None; 10],
        };
        for (b, scores) in cells.chunks(5).enumerate().take(counts.len()) {
            let n: i64 = scores.iter().sum();
            let total: i64 = scores.iter().zip(1..).map(|(k, s)| k * s).sum();
            for (slot, k) in counts[b].iter_mut().zip(scores) {
                *slot += k;
            }
            line.cells[b] = (n > 0).then(|| (total as f64 / n as f64, n));
        }
        means.push(line);
    }
    // The trend: each region's mean over every benchmark, in the cycles with agreed scores,
    // oldest first.
    let trend_cycles: Vec<String> = cycles
        .iter()
        .rev()
        .filter(|c| c.agreed > 0)
        .map(|c| c.label.clone())
        .collect();
    let mut regions: Vec<&String> = rows.iter().filter_map(|r| r.region.as_ref()).collect();
    regions.sort();
    regions.dedup();
    let trend: Vec<(String, Vec<Option<f64>>)> = regions
        .into_iter()
        .map(|region| {
            let values = trend_cycles
                .iter()
                .map(|c| {
                    let cells = rows
                        .iter()
                        .find(|r| &r.cycle == c && r.region.as_ref() == Some(region))?
                        .counts
                        .as_ref()?;
                    let n: i64 = cells.iter().sum();
                    let total: i64 = cells.iter().zip((1..=5).cycle()).map(|(k, s)| k * s).sum();
                    (n > 0).then(|| total as f64 / n as f64)
                })
                .collect();
            (region.clone(), values)
        })
        .collect();
    let page = NationalPage {
        chrome: Chrome::new(Some(&who), "/national"),
        cycle: chosen.map(|c| c.label.clone()),
        distribution: charts::distribution(&counts),
        trend_chart: charts::trend(&trend_cycles, &trend),
        cycles,
        counts,
        means,
        trend_cycles,
        trend,
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_field_is_quoted_and_a_formula_is_defused() {
        assert_eq!(csv_field("Say \"hi\""), "\"Say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "\"'=SUM(A1)\"");
        assert_eq!(csv_field("Q1 2026/27"), "\"Q1 2026/27\"");
    }

    #[test]
    fn a_filter_outside_the_choices_is_reported_and_left_off() {
        let q = PlanQuery {
            benchmark: "11".into(),
            status: "lost".into(),
            ..Default::default()
        };
        let (filter, errors) = q.filter();
        assert_eq!(filter, PlanFilter::default());
        assert!(errors.has("benchmark") && errors.has("status"));
    }

    #[test]
    fn the_export_links_carry_the_filter() {
        let filter = PlanFilter {
            owner: Some("Jo Whitfield & co".into()),
            benchmark: Some(3),
            status: None,
            overdue: true,
        };
        assert_eq!(
            query_string(&filter),
            "?owner=Jo+Whitfield+%26+co&benchmark=3&overdue=yes"
        );
    }
}
