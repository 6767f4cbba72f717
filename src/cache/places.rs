//! Regions, councils and cycles: a few hundred rows, read by nearly every page, changed by
//! administrators a few times a year.

use std::sync::Arc;

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

    /// Every council with its region, by region and name as PostgreSQL sorted each list when
    /// loaded: region by region in the regions' order, each region's councils in theirs.
    pub fn councils_by_region(&self) -> impl Iterator<Item = (&RegionPlace, &Organisation)> {
        self.regions.iter().flat_map(|r| {
            self.organisations
                .iter()
                .filter(move |o| o.region_id == r.id)
                .map(move |o| (r, o))
        })
    }

    /// The cycle open on `today`: the latest that has opened.
    pub fn current_cycle(&self, today: Date) -> Option<&Cycle> {
        self.cycles.iter().find(|c| c.opens_on <= today)
    }
}

impl Caches {
    /// The places: the kept copy, or loaded now (and kept, when nothing changed meanwhile).
    pub async fn places(&self, pool: &PgPool) -> sqlx::Result<Arc<Places>> {
        self.kept(&self.places, self.listening(), || async {
            let (regions, organisations, cycles) = db::places::snapshot(pool).await?;
            Ok(Places {
                regions: regions
                    .into_iter()
                    .map(|(id, slug, name)| RegionPlace { id, slug, name })
                    .collect(),
                organisations,
                cycles,
            })
        })
        .await
    }
}
