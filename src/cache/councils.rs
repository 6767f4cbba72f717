//! What councils' pages show: the board, the plan, an assessment's head and benchmark pages,
//! and the region tables. Read far more often than written (a board or an adviser looks many
//! times between two saves), each kept until its council's data changes ('council:<id>').
//! Who may see a page is still asked of the policy on every request: this keeps only what
//! the database would answer, never a decision.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::Caches;
use crate::db;
use crate::db::assessments::{BenchmarkPage, Head};
use crate::db::dashboards::{BoardRow, Plan, PlanFilter, RegionCouncil};

/// Answers kept by key, each with the council (or, for a region, the region) it shows.
struct Keyed<K, V> {
    entries: RwLock<HashMap<K, (Uuid, Arc<V>)>>,
    /// Past this many answers, all are dropped (a simple bound on memory).
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V> Keyed<K, V> {
    fn new(capacity: usize) -> Self {
        Keyed {
            entries: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<K, (Uuid, Arc<V>)>> {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<K, (Uuid, Arc<V>)>> {
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &K) -> Option<Arc<V>> {
        self.read().get(key).map(|(_, v)| v.clone())
    }

    fn forget(&self, owner: Uuid) {
        self.write().retain(|_, (o, _)| *o != owner);
    }

    fn clear(&self) {
        self.write().clear();
    }
}

/// The kept answers of councils' pages.
pub struct CouncilViews {
    boards: Keyed<(Uuid, Date), Vec<BoardRow>>,
    /// The council's latest Channel statement by key area, for its board view.
    statements: Keyed<Uuid, Vec<db::channel::AreaCount>>,
    plans: Keyed<(Uuid, PlanFilter, Date), Option<Plan>>,
    heads: Keyed<Uuid, Option<Head>>,
    pages: Keyed<(Uuid, i32, Option<Uuid>), Option<BenchmarkPage>>,
    /// By region: any council's change drops them all (there are a handful).
    regions: Keyed<(Uuid, Uuid, Date), Vec<RegionCouncil>>,
}

impl Default for CouncilViews {
    fn default() -> Self {
        CouncilViews {
            boards: Keyed::new(2_000),
            statements: Keyed::new(2_000),
            plans: Keyed::new(2_000),
            heads: Keyed::new(10_000),
            // Evidence text makes these the largest: a few hundred pages is a few megabytes.
            pages: Keyed::new(500),
            regions: Keyed::new(200),
        }
    }
}

impl CouncilViews {
    pub(super) fn forget_council(&self, council: Uuid) {
        self.boards.forget(council);
        self.statements.forget(council);
        self.plans.forget(council);
        self.heads.forget(council);
        self.pages.forget(council);
        self.regions.clear();
    }

    pub(super) fn forget_all(&self) {
        self.boards.clear();
        self.statements.clear();
        self.plans.clear();
        self.heads.clear();
        self.pages.clear();
        self.regions.clear();
    }
}

impl Caches {
    /// The answer kept under `key`, or `load`'s, kept (as `owner`'s) when nothing changed
    /// while it was loading. `owner` of None: not kept (nothing found, say).
    async fn kept_for<K, V, F, Fut>(
        &self,
        keyed: &Keyed<K, V>,
        key: K,
        load: F,
        owner: impl FnOnce(&V) -> Option<Uuid>,
    ) -> sqlx::Result<Arc<V>>
    where
        K: Eq + Hash + Clone,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = sqlx::Result<V>>,
    {
        if !self.views_kept() {
            return Ok(Arc::new(load().await?));
        }
        if let Some(value) = keyed.get(&key) {
            return Ok(value);
        }
        let generation = self.generation();
        let value = Arc::new(load().await?);
        if let Some(owner) = owner(&value) {
            let mut entries = keyed.write();
            // Checked under the lock, as for sessions.
            if self.may_keep(generation) {
                if entries.len() >= keyed.capacity {
                    entries.clear();
                }
                entries.insert(key, (owner, value.clone()));
            }
        }
        Ok(value)
    }

    /// The council's board (see `db::dashboards::board`).
    pub async fn board(
        &self,
        pool: &PgPool,
        organisation: Uuid,
        today: Date,
        cycles: i64,
    ) -> sqlx::Result<Arc<Vec<BoardRow>>> {
        let load = || db::dashboards::board(pool, organisation, today, cycles);
        self.kept_for(&self.councils.boards, (organisation, today), load, |_| {
            Some(organisation)
        })
        .await
    }

    /// The council's latest Channel statement by key area (see `db::channel::latest_by_area`).
    pub async fn statement_areas(
        &self,
        pool: &PgPool,
        organisation: Uuid,
    ) -> sqlx::Result<Arc<Vec<db::channel::AreaCount>>> {
        let load = || db::channel::latest_by_area(pool, organisation);
        self.kept_for(&self.councils.statements, organisation, load, |_| {
            Some(organisation)
        })
        .await
    }

    /// The council's plan as filtered (see `db::dashboards::plan`).
    pub async fn plan(
        &self,
        pool: &PgPool,
        organisation: Uuid,
        filter: &PlanFilter,
        today: Date,
    ) -> sqlx::Result<Arc<Option<Plan>>> {
        let load = || db::dashboards::plan(pool, organisation, filter, today);
        self.kept_for(
            &self.councils.plans,
            (organisation, filter.clone(), today),
            load,
            |_| Some(organisation),
        )
        .await
    }

    /// What every page of an assessment needs to know about it, for pages that only show it;
    /// changes go by the database's own answer. Not found is not kept: it is asked again.
    pub async fn head(&self, pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Head>> {
        let load = || db::assessments::head(pool, id);
        let head = self
            .kept_for(&self.councils.heads, id, load, |h| {
                h.as_ref().map(|h| h.organisation_id)
            })
            .await?;
        Ok((*head).clone())
    }

    /// A benchmark's page (see `db::assessments::benchmark_page`) of `head`'s assessment.
    pub async fn benchmark_page(
        &self,
        pool: &PgPool,
        head: &Head,
        number: i32,
        people_of: Option<Uuid>,
    ) -> sqlx::Result<Arc<Option<BenchmarkPage>>> {
        let load = || db::assessments::benchmark_page(pool, head.id, number, people_of);
        self.kept_for(
            &self.councils.pages,
            (head.id, number, people_of),
            load,
            |page| page.as_ref().map(|_| head.organisation_id),
        )
        .await
    }

    /// The region's councils in a cycle (see `db::dashboards::region_councils`).
    pub async fn region_councils(
        &self,
        pool: &PgPool,
        region: Uuid,
        cycle: Uuid,
        today: Date,
    ) -> sqlx::Result<Arc<Vec<RegionCouncil>>> {
        let load = || db::dashboards::region_councils(pool, region, cycle, today);
        self.kept_for(&self.councils.regions, (region, cycle, today), load, |_| {
            Some(region)
        })
        .await
    }
}
