//! The frameworks as a readable reference, and as the JSON they were loaded from.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;
use crate::auth::Principal;
use crate::domain::Score;
use crate::error::{AppError, AppResult};
use crate::framework::{Block, Framework, Item, ItemKind, Level, Rating, Section, blocks};
use crate::scoring::Band;
use crate::web::chrome::Chrome;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/frameworks", get(index))
        .route("/frameworks/{code}", get(show))
}

#[derive(Template)]
#[template(path = "frameworks/index.html")]
struct IndexPage<'a> {
    chrome: Chrome,
    frameworks: &'a [Framework],
}

async fn index(State(state): State<AppState>, who: Option<Principal>) -> AppResult<Html<String>> {
    let page = IndexPage {
        chrome: Chrome::new(who.as_ref(), "/frameworks"),
        frameworks: state.frameworks.all(),
    };
    Ok(Html(page.render()?))
}

/// Questions grouped under a heading (by kind, where the framework has kinds).
struct ItemGroup<'a> {
    heading: String,
    items: Vec<&'a Item>,
}

struct LevelView<'a> {
    level: &'a Level,
    band: &'static str,
}

struct SectionView<'a> {
    section: &'a Section,
    groups: Vec<ItemGroup<'a>>,
    levels: Vec<LevelView<'a>>,
    guidance: Vec<Block>,
}

#[derive(Template)]
#[template(path = "frameworks/show.html")]
struct ShowPage<'a> {
    chrome: Chrome,
    fw: &'a Framework,
    intro: Vec<Block>,
    rating_heading: &'static str,
    ratings: Vec<&'a Rating>,
    sections: Vec<SectionView<'a>>,
}

/// What a score means for the duty, as the Home Office letter puts it.
fn band_label(score: u8) -> &'static str {
    Score::new(score).map_or("", |s| Band::of(s).label())
}

fn section_view<'a>(fw: &Framework, section: &'a Section) -> SectionView<'a> {
    let mut groups = Vec::new();
    for kind in [ItemKind::Expectation, ItemKind::GoodPractice] {
        let items: Vec<&Item> = section.items_of(kind).collect();
        if !items.is_empty() {
            let heading = match kind {
                ItemKind::Expectation => "Expectations of compliance",
                ItemKind::GoodPractice => "Good practice activities",
            };
            groups.push(ItemGroup {
                heading: heading.to_owned(),
                items,
            });
        }
    }
    let plain: Vec<&Item> = section.items_without_kind().collect();
    if !plain.is_empty() {
        groups.push(ItemGroup {
            heading: format!("{}s", fw.item_label),
            items: plain,
        });
    }
    SectionView {
        section,
        groups,
        levels: section
            .levels
            .iter()
            .map(|level| LevelView {
                level,
                band: band_label(level.score),
            })
            .collect(),
        guidance: section.guidance.as_deref().map(blocks).unwrap_or_default(),
    }
}

async fn show(
    State(state): State<AppState>,
    who: Option<Principal>,
    Path(code): Path<String>,
) -> AppResult<Response> {
    if let Some(code) = code.strip_suffix(".json") {
        let fw = state.frameworks.get(code).ok_or(AppError::NotFound)?;
        return Ok(Json(fw).into_response());
    }
    let fw = state.frameworks.get(&code).ok_or(AppError::NotFound)?;
    let page = ShowPage {
        chrome: Chrome::new(who.as_ref(), &format!("/frameworks/{code}")),
        fw,
        intro: fw.introduction.as_deref().map(blocks).unwrap_or_default(),
        rating_heading: if fw.scored {
            "Status of each question"
        } else {
            "Compliance ratings"
        },
        ratings: fw
            .ratings
            .iter()
            .filter(|r| r.definition.is_some())
            .collect(),
        sections: fw.sections.iter().map(|s| section_view(fw, s)).collect(),
    };
    Ok(Html(page.render()?).into_response())
}
