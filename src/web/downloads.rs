//! Downloads written again after a change, from their keys alone, by the writers their pages
//! use: a file downloaded since it was last written is written again as soon as a change that
//! drops it is heard, after the views it is written from, so that its first download after the
//! change is served as kept (`crate::cache`'s [`Writer`]).

use std::sync::{Arc, Weak};

use crate::app::AppState;
use crate::cache::Caches;
use crate::cache::councils::{Download, Writer, Written};

/// The writer the caches use, holding the caches themselves only weakly (they hold it).
pub fn writer(state: &AppState) -> Writer {
    let caches: Weak<Caches> = Arc::downgrade(&state.caches);
    let (db, frameworks, static_dir, settings, audit_rows) = (
        state.db.clone(),
        state.frameworks.clone(),
        state.static_dir.clone(),
        state.settings.clone(),
        state.audit_rows.clone(),
    );
    Arc::new(move |which| {
        let state = caches.upgrade().map(|caches| AppState {
            db: db.clone(),
            frameworks: frameworks.clone(),
            static_dir: static_dir.clone(),
            settings: settings.clone(),
            caches,
            audit_rows: audit_rows.clone(),
        });
        Box::pin(async move {
            match state {
                Some(state) => write(&state, which).await,
                None => Ok(None),
            }
        })
    })
}

/// The file `which` holds, written as its page writes it.
async fn write(state: &AppState, which: Download) -> Written {
    match which {
        Download::Assessment(id) => {
            let Some(head) = state.caches.head(&state.db, id).await? else {
                return Ok(None);
            };
            let Some(fw) = state.frameworks.get(&head.framework_code) else {
                return Ok(None);
            };
            crate::web::transfer::assessment_workbook(state, &head, fw)
                .await
                .map(Some)
        }
        Download::Plan(council, filter, day, channel) => {
            let places = state.caches.places(&state.db).await?;
            let Some(org) = places.organisations.iter().find(|o| o.id == council) else {
                return Ok(None);
            };
            let plan = state.caches.plan(&state.db, council, &filter, day).await?;
            let (latest, mut rows) = match plan.as_ref() {
                Some(plan) => (Some(&plan.latest), plan.rows.clone()),
                None => (None, Vec::new()),
            };
            // As the page shows it to those it was written for: the Channel statement's areas
            // only when they may read the statement.
            if !channel {
                rows.retain(|r| !r.channel);
            }
            Ok(Some(crate::web::dashboards::plan_workbook(
                org, latest, &rows,
            )))
        }
        Download::Scores(kind, regions, cycle, title) => {
            crate::web::score_exports::write_again(state, kind, regions, cycle, title).await
        }
    }
}
