//! Regions, councils and cycles: a few hundred rows, read by nearly every page, changed by
//! administrators a few times a year.

use std::sync::{Arc, RwLock};

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::Caches;
use crate::db;
use crate::db::places::{Cycle, Organisation};

/// A region.
#[derive(Debug, Clone)]
pub struct RegionPlace {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// Every region, council and cycle, as loaded at one moment.
#[derive(Debug, Clone)]
pub struct Places {
    pub regions: Vec<RegionPlace>,
    /// By name.
    pub organisations: Vec<Organisation>,
    /// Latest first.
    pub cycles: Vec<Cycle>,
}

impl Places {
    pub fn organisation(&self, slug: &str) -> Option<&Organisation> {
        self.organisations.iter().find(|o| o.slug == slug)
    }

    pub fn region(&self, slug: &str) -> Option<&RegionPlace> {
        self.regions.iter().find(|r| r.slug == slug)
    }

    /// The cycle open on `today`: the latest that has opened.
    pub fn current_cycle(&self, today: Date) -> Option<&Cycle> {
        self.cycles.iter().find(|c| c.opens_on <= today)
    }
}

#[derive(Default)]
pub struct PlacesCache {
    kept: RwLock<Option<Arc<Places>>>,
}

impl PlacesCache {
    pub(super) fn forget(&self) {
        *self
            .kept
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

impl Caches {
    /// The places: the kept copy, or loaded now (and kept, when nothing changed meanwhile).
    pub async fn places(&self, pool: &PgPool) -> sqlx::Result<Arc<Places>> {
        if self.listening() {
            let kept = self
                .places
                .kept
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone();
            if let Some(places) = kept {
                return Ok(places);
            }
        }
        let generation = self.generation();
        let (regions, organisations, cycles) = db::places::snapshot(pool).await?;
        let places = Arc::new(Places {
            regions: regions
                .into_iter()
                .map(|(id, slug, name)| RegionPlace { id, slug, name })
                .collect(),
            organisations,
            cycles,
        });
        let mut kept = self
            .places
            .kept
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.may_keep(generation) {
            *kept = Some(places.clone());
        }
        Ok(places)
    }
}
