//! The agreed scores of a region's councils, or of every council, in one cycle, as `.csv` and
//! `.xlsx`: what the Home Office's own analysts take away. A row per council (those not yet
//! agreed included, with their state and no scores), a column per benchmark; scores are
//! numbers in the workbook. `?cycle=2025/26` chooses the cycle; the current one otherwise.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{Action, Object};
use crate::auth::session::ClientIp;
use crate::cache::councils::Download;
use crate::db;
use crate::db::dashboards::{AgreedScores, FRAMEWORK};
use crate::db::places::Organisation;
use crate::error::{AppError, AppResult};
use crate::web::assessments::state_label;
use crate::web::dashboards::{csv_body, csv_file, kept_file, today, xlsx_download};
use crate::web::forms::Query;
use crate::web::guard::authorise;
use crate::workbook::Cell;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regions/{slug}/scores.csv", get(region_csv))
        .route("/regions/{slug}/scores.xlsx", get(region_xlsx))
        .route("/national/scores.csv", get(national_csv))
        .route("/national/scores.xlsx", get(national_xlsx))
}

#[derive(Deserialize)]
struct CycleQuery {
    cycle: Option<String>,
}

/// What an export holds: whose scores, in which cycle.
struct Export {
    /// "north-vale" or "national", for the file's name.
    scope: String,
    /// "North Vale" or "England and Wales", for the workbook's heading.
    title: String,
    cycle: String,
    cycle_id: Uuid,
    regions: Vec<Uuid>,
}

/// The export of `regions` in the chosen cycle (an unknown cycle is not found).
async fn gather(
    state: &AppState,
    regions: Vec<Uuid>,
    scope: String,
    title: String,
    query: &CycleQuery,
) -> AppResult<Export> {
    let places = state.caches.places(&state.db).await?;
    let cycle = match query.cycle.as_deref().map(str::trim) {
        Some(label) if !label.is_empty() => places.cycles.iter().find(|c| c.label == label),
        _ => places.current_cycle(today()),
    }
    .ok_or(AppError::NotFound)?;
    Ok(Export {
        scope,
        title,
        cycle: cycle.label.clone(),
        cycle_id: cycle.id,
        regions,
    })
}

/// The export's file of `kind` ("csv" or "xlsx"), as kept, or read and written (a workbook of
/// every council costs the writer milliseconds of CPU; kept, it costs that once per change).
async fn file(state: &AppState, export: &Export, kind: &'static str) -> AppResult<Bytes> {
    let which = Download::Scores(
        kind,
        export.regions.clone(),
        export.cycle_id,
        export.title.clone(),
    );
    // Any council's change drops it: the owner only names the entry.
    kept_file(state, which, export.cycle_id, "the agreed scores", || {
        write(state, export, kind)
    })
    .await
}

/// The export's file of `kind`, read and written.
async fn write(
    state: &AppState,
    export: &Export,
    kind: &str,
) -> sqlx::Result<Result<Bytes, String>> {
    let places = state.caches.places(&state.db).await?;
    // The export's councils by region and name, as the places keep them.
    let councils: Vec<(&str, &Organisation)> = places
        .councils_by_region()
        .filter(|(r, _)| export.regions.contains(&r.id))
        .map(|(r, o)| (r.name.as_str(), o))
        .collect();
    let ids: Vec<Uuid> = councils.iter().map(|(_, o)| o.id).collect();
    let found: HashMap<Uuid, AgreedScores> =
        db::dashboards::agreed_scores(&state.db, &ids, export.cycle_id)
            .await?
            .into_iter()
            .map(|a| (a.organisation_id, a))
            .collect();
    let rows: Vec<Row> = councils
        .iter()
        .map(|(region, o)| {
            let a = found.get(&o.id);
            Row {
                region,
                council: &o.name,
                state: a.map(|a| a.state.as_str()),
                scores: a.and_then(|a| a.scores.as_deref()),
            }
        })
        .collect();
    let (headings, rows) = table(state, export, &rows);
    let titles: Vec<&str> = headings.iter().map(String::as_str).collect();
    Ok(if kind == "csv" {
        Ok(Bytes::from(csv_body(&titles, &rows)))
    } else {
        workbook(export, &titles, &rows)
            .map(Bytes::from)
            .map_err(|e| e.to_string())
    })
}

/// The file `Download::Scores(kind, regions, cycle, title)` holds, written again after a
/// change (`crate::web::downloads`); None when the cycle is gone.
pub(crate) async fn write_again(
    state: &AppState,
    kind: &str,
    regions: Vec<Uuid>,
    cycle_id: Uuid,
    title: String,
) -> crate::cache::councils::Written {
    let places = state.caches.places(&state.db).await?;
    let Some(cycle) = places.cycles.iter().find(|c| c.id == cycle_id) else {
        return Ok(None);
    };
    let export = Export {
        scope: String::new(),
        title,
        cycle: cycle.label.clone(),
        cycle_id,
        regions,
    };
    write(state, &export, kind).await.map(Some)
}

async fn region_export(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    slug: &str,
    query: &CycleQuery,
) -> AppResult<Export> {
    let places = state.caches.places(&state.db).await?;
    let region = places.region(slug).ok_or(AppError::NotFound)?.clone();
    authorise(
        state,
        who,
        ip,
        Action::ViewRegion,
        Object::Region(region.id),
    )
    .await?;
    gather(state, vec![region.id], region.slug, region.name, query).await
}

async fn national_export(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    query: &CycleQuery,
) -> AppResult<Export> {
    authorise(state, who, ip, Action::ViewNational, Object::Service).await?;
    let places = state.caches.places(&state.db).await?;
    let regions = places.regions.iter().map(|r| r.id).collect();
    gather(
        state,
        regions,
        "national".to_owned(),
        "Every council".to_owned(),
        query,
    )
    .await
}

/// The headings: where, who, when, the state, then "Benchmark 1: Risk assessment"… from the
/// framework file.
fn headings(state: &AppState) -> Vec<String> {
    let mut headings: Vec<String> = ["Region", "Council", "Cycle", "State"]
        .map(str::to_owned)
        .to_vec();
    if let Some(fw) = state.frameworks.get(FRAMEWORK) {
        headings.extend(
            fw.sections
                .iter()
                .map(|s| format!("Benchmark {}: {}", s.number, s.title)),
        );
    }
    headings
}

/// A council of the export with its assessment's state and agreed scores in the cycle.
struct Row<'a> {
    region: &'a str,
    council: &'a str,
    /// None when the council has not started an assessment in the cycle.
    state: Option<&'a str>,
    /// As `db::dashboards::AgreedScores::scores`.
    scores: Option<&'a [i16]>,
}

/// A row's cells: a score as a number, "Not scored", or empty.
fn cells(row: &Row, cycle: &str, benchmarks: usize) -> Vec<Cell> {
    let mut cells = vec![
        Cell::Text(row.region.to_owned()),
        Cell::Text(row.council.to_owned()),
        Cell::Text(cycle.to_owned()),
        Cell::Text(row.state.map_or("Not started", state_label).to_owned()),
    ];
    let scores = row.scores.unwrap_or(&[]);
    for b in 0..benchmarks {
        cells.push(match scores.get(b) {
            Some(s @ 1..=5) => Cell::Number(i64::from(*s)),
            Some(0) => Cell::Text("Not scored".to_owned()),
            _ => Cell::Text(String::new()),
        });
    }
    cells
}

fn file_name(export: &Export, ext: &str) -> String {
    format!(
        "{}-agreed-scores-{}.{ext}",
        export.scope,
        export.cycle.replace('/', "-")
    )
}

/// The headings and the rows as cells.
fn table(state: &AppState, export: &Export, rows: &[Row]) -> (Vec<String>, Vec<Vec<Cell>>) {
    let headings = headings(state);
    let benchmarks = headings.len() - 4;
    let rows = rows
        .iter()
        .map(|r| cells(r, &export.cycle, benchmarks))
        .collect();
    (headings, rows)
}

fn workbook(
    export: &Export,
    titles: &[&str],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, crate::workbook::XlsxError> {
    let mut widths = vec![22.0, 28.0, 10.0, 12.0];
    widths.extend(std::iter::repeat_n(16.0, titles.len() - 4));
    crate::workbook::table(
        "Agreed scores",
        &format!("{}: agreed scores, {}", export.title, export.cycle),
        titles,
        &widths,
        rows,
    )
}

async fn csv(state: &AppState, export: &Export) -> AppResult<Response> {
    let bytes = file(state, export, "csv").await?;
    Ok(csv_file(&file_name(export, "csv"), bytes))
}

async fn xlsx(state: &AppState, export: &Export) -> AppResult<Response> {
    let bytes = file(state, export, "xlsx").await?;
    Ok(xlsx_download(&file_name(export, "xlsx"), bytes))
}

async fn region_csv(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Query(query): Query<CycleQuery>,
) -> AppResult<Response> {
    let export = region_export(&state, &who, ip, &slug, &query).await?;
    csv(&state, &export).await
}

async fn region_xlsx(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Query(query): Query<CycleQuery>,
) -> AppResult<Response> {
    let export = region_export(&state, &who, ip, &slug, &query).await?;
    xlsx(&state, &export).await
}

async fn national_csv(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(query): Query<CycleQuery>,
) -> AppResult<Response> {
    let export = national_export(&state, &who, ip, &query).await?;
    csv(&state, &export).await
}

async fn national_xlsx(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(query): Query<CycleQuery>,
) -> AppResult<Response> {
    let export = national_export(&state, &who, ip, &query).await?;
    xlsx(&state, &export).await
}
