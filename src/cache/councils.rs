//! What councils' pages show: the board, the plan, an assessment's head and benchmark pages,
//! and the region tables. Read far more often than written (a board or an adviser looks many
//! times between two saves), each kept until its council's data changes ('council:<id>').
//! Who may see a page is still asked of the policy on every request: this keeps only what
//! the database would answer, never a decision.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::Notify;

use axum::body::Bytes;
use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::Caches;
use crate::db;
use crate::db::assessments::{BenchmarkPage, Contents, Head, Progress, ReviewRow};
use crate::db::dashboards::{BoardRow, OwnAction, Plan, PlanFilter, RegionCouncil};

/// Answers kept by key, each with the council (or, for a region, the region) it shows.
struct Keyed<K, V> {
    entries: RwLock<HashMap<K, (Uuid, Arc<V>)>>,
    /// Keys being loaded now: the first view after a change is asked of the database once,
    /// however many ask for it at that moment.
    loading: Mutex<HashMap<K, Arc<Flight>>>,
    /// Past this many answers, all are dropped (a simple bound on memory).
    capacity: usize,
}

/// How long a request waits for another's load of the same view before asking itself.
const LOAD_WAIT: Duration = Duration::from_secs(5);

/// One load in flight, and what those waiting for it learn when it ends.
#[derive(Default)]
struct Flight {
    ended: Notify,
    /// It failed for want of the database: those waiting answer so at once, rather than each
    /// trying again and keeping their person waiting twice as long.
    outage: AtomicBool,
}

/// The load of one key in flight: when it ends, however it ends (done, failed, or the request
/// that started it gone), the key is no longer loading and whoever waits is woken.
struct Loading<'a, K: Eq + Hash + Clone> {
    loading: &'a Mutex<HashMap<K, Arc<Flight>>>,
    key: K,
    flight: Arc<Flight>,
}

impl<K: Eq + Hash + Clone> Loading<'_, K> {
    /// The load failed: an outage is told to those waiting.
    fn failed(&self, error: &sqlx::Error) {
        if matches!(
            error,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
        ) {
            self.flight.outage.store(true, Ordering::SeqCst);
        }
    }
}

impl<K: Eq + Hash + Clone> Drop for Loading<'_, K> {
    fn drop(&mut self) {
        let mut loading = super::lock(self.loading);
        if loading
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            loading.remove(&self.key);
        }
        drop(loading);
        self.flight.ended.notify_waiters();
    }
}

/// What a request found when it asked to load a key.
enum Turn<'a, K: Eq + Hash + Clone, V> {
    /// Nobody was loading it: this request does, and says so while the guard lives.
    Lead(Loading<'a, K>),
    /// Another's load kept it.
    Kept(Arc<V>),
    /// Another's load ended without keeping it (something changed meanwhile, or the request
    /// went): ask again.
    Again,
    /// Another's load found no database.
    Outage,
    /// Another's load is taking too long: this request asks itself, without waiting again.
    Alone,
}

impl<K: Eq + Hash + Clone, V> Keyed<K, V> {
    fn new(capacity: usize) -> Self {
        Keyed {
            entries: RwLock::new(HashMap::new()),
            loading: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// Leads the load of `key`, or waits while another request loads it (at most
    /// [`LOAD_WAIT`]) and says how that ended.
    async fn turn(&self, key: &K) -> Turn<'_, K, V> {
        let flight = {
            let mut loading = super::lock(&self.loading);
            match loading.get(key) {
                Some(flight) => flight.clone(),
                None => {
                    let flight = Arc::new(Flight::default());
                    loading.insert(key.clone(), flight.clone());
                    return Turn::Lead(Loading {
                        loading: &self.loading,
                        key: key.clone(),
                        flight,
                    });
                }
            }
        };
        let ended = flight.ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        // The load may have ended between the look and the wait.
        let still = super::lock(&self.loading)
            .get(key)
            .is_some_and(|f| Arc::ptr_eq(f, &flight));
        if still && tokio::time::timeout(LOAD_WAIT, ended).await.is_err() {
            return Turn::Alone;
        }
        match self.get(key) {
            Some(value) => Turn::Kept(value),
            None if flight.outage.load(Ordering::SeqCst) => Turn::Outage,
            None => Turn::Again,
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

    /// Drops the answers `drop` picks, by key and owner.
    fn forget_where(&self, drop: impl Fn(&K, &Uuid) -> bool) {
        self.write().retain(|k, (o, _)| !drop(k, o));
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
    /// Each benchmark's progress, for an assessment's task list and check page.
    progress: Keyed<Uuid, Vec<Progress>>,
    /// An assessment's contents (with the evidence as written, or only whether there is
    /// any), for its check and review pages, by the day they were read.
    contents: Keyed<(Uuid, bool, Date), Contents>,
    /// The results as the adviser reviews them.
    review_rows: Keyed<Uuid, Vec<ReviewRow>>,
    pages: Keyed<(Uuid, i32, Option<Uuid>), Option<BenchmarkPage>>,
    /// By region: any council's change drops them all (there are a handful).
    regions: Keyed<(Uuid, Uuid, Date), Vec<RegionCouncil>>,
    /// A person's own actions (`/me/actions`) by person and day. They span the councils the
    /// person belongs to, so any council's change drops them all, as it does the regions' views.
    own_actions: Keyed<(Uuid, Date), Vec<OwnAction>>,
    /// Downloads as written, or why they could not be: a workbook's writer costs milliseconds
    /// of CPU, then spent once per change, not once per download.
    downloads: Keyed<Download, Result<Bytes, String>>,
}

/// A download kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Download {
    /// An assessment's workbook (`export.xlsx`).
    Assessment(Uuid),
    /// A plan's workbook (`actions.xlsx`): the council, the filter, the day (overdue and due
    /// soon depend on it), and whether it holds the Channel statement's areas for improvement
    /// (shown only to those who may read the statement: with the plan kept, these say all that
    /// the workbook holds).
    Plan(Uuid, PlanFilter, Date, bool),
    /// The agreed scores of a region or of every council (`scores.csv`, `scores.xlsx`): the
    /// file's kind, the regions, the cycle. Any council's change drops them, as it does the
    /// regions' views.
    Scores(&'static str, Vec<Uuid>, Uuid),
}

impl Default for CouncilViews {
    fn default() -> Self {
        CouncilViews {
            boards: Keyed::new(2_000),
            statements: Keyed::new(2_000),
            plans: Keyed::new(2_000),
            heads: Keyed::new(10_000),
            progress: Keyed::new(10_000),
            // Every answer's evidence: the largest of all, so the fewest.
            contents: Keyed::new(200),
            review_rows: Keyed::new(2_000),
            // Evidence text makes these the largest: a few hundred pages is a few megabytes.
            pages: Keyed::new(500),
            // Tens of kilobytes each: a hundred is a few megabytes.
            regions: Keyed::new(200),
            own_actions: Keyed::new(2_000),
            // Tens of kilobytes each: a few hundred are a few megabytes.
            downloads: Keyed::new(300),
        }
    }
}

impl CouncilViews {
    pub(super) fn forget_council(&self, council: Uuid) {
        self.boards.forget(council);
        self.statements.forget(council);
        self.plans.forget(council);
        self.heads.forget(council);
        self.progress.forget(council);
        self.contents.forget(council);
        self.review_rows.forget(council);
        self.pages.forget(council);
        self.regions.clear();
        self.own_actions.clear();
        self.downloads.forget_where(|which, owner| {
            *owner == council || matches!(which, Download::Scores(..))
        });
    }

    pub(super) fn forget_all(&self) {
        self.boards.clear();
        self.statements.clear();
        self.plans.clear();
        self.heads.clear();
        self.progress.clear();
        self.contents.clear();
        self.review_rows.clear();
        self.pages.clear();
        self.regions.clear();
        self.own_actions.clear();
        self.downloads.clear();
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
        // Another request loading the same view: its answer, unless it could not keep it
        // (something changed meanwhile), when this one asks afresh.
        let mut leading = None;
        for _ in 0..3 {
            match keyed.turn(&key).await {
                Turn::Lead(lead) => {
                    leading = Some(lead);
                    break;
                }
                Turn::Kept(value) => return Ok(value),
                Turn::Again => continue,
                Turn::Outage => return Err(sqlx::Error::PoolTimedOut),
                Turn::Alone => break,
            }
        }
        let generation = self.generation();
        let value = match load().await {
            Ok(value) => Arc::new(value),
            Err(error) => {
                if let Some(lead) = &leading {
                    lead.failed(&error);
                }
                return Err(error);
            }
        };
        if let Some(owner) = owner(&value) {
            self.keep(keyed, key, owner, &value, generation);
        }
        Ok(value)
    }

    /// Keeps `value` as `owner`'s, unless something was forgotten since `generation` (when it
    /// was asked of the database).
    fn keep<K, V>(&self, keyed: &Keyed<K, V>, key: K, owner: Uuid, value: &Arc<V>, generation: u64)
    where
        K: Eq + Hash + Clone,
    {
        let mut entries = keyed.write();
        // Checked under the lock, as for sessions.
        if self.may_keep(generation) {
            if entries.len() >= keyed.capacity {
                entries.clear();
            }
            entries.insert(key, (owner, value.clone()));
        }
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

    /// Every benchmark's progress of `head`'s assessment (see `db::assessments::progress`).
    pub async fn progress(&self, pool: &PgPool, head: &Head) -> sqlx::Result<Arc<Vec<Progress>>> {
        let load = || db::assessments::progress(pool, head.id);
        self.kept_for(&self.councils.progress, head.id, load, |_| {
            Some(head.organisation_id)
        })
        .await
    }

    /// An assessment's head and every benchmark's progress, for the task list: as kept, or,
    /// when the head is not (the first view after a change), both in one statement
    /// (`db::assessments::head_and_progress`) and both kept. The head's load is shared as
    /// [`Self::head`]'s is: whoever asks at the same moment waits for it, then finds the
    /// progress kept beside it.
    pub async fn head_and_progress(
        &self,
        pool: &PgPool,
        id: Uuid,
    ) -> sqlx::Result<Option<(Head, Arc<Vec<Progress>>)>> {
        let read: Mutex<Option<Arc<Vec<Progress>>>> = Mutex::new(None);
        let load = || async {
            let generation = self.generation();
            let loaded = db::assessments::head_and_progress(pool, id).await?;
            Ok(loaded.map(|(head, progress)| {
                let progress = Arc::new(progress);
                if self.views_kept() {
                    self.keep(
                        &self.councils.progress,
                        id,
                        head.organisation_id,
                        &progress,
                        generation,
                    );
                }
                *super::lock(&read) = Some(progress);
                head
            }))
        };
        let head = self
            .kept_for(&self.councils.heads, id, load, |h| {
                h.as_ref().map(|h| h.organisation_id)
            })
            .await?;
        let Some(head) = (*head).clone() else {
            return Ok(None);
        };
        let loaded = super::lock(&read).take();
        let progress = match loaded {
            Some(progress) => progress,
            None => self.progress(pool, &head).await?,
        };
        Ok(Some((head, progress)))
    }

    /// `head`'s assessment's contents (see `db::assessments::contents`; `text`: the evidence
    /// as written). Kept for the day: an attachment that turns a year old during it is listed
    /// as old from the next.
    pub async fn contents(
        &self,
        pool: &PgPool,
        head: &Head,
        text: bool,
        today: Date,
    ) -> sqlx::Result<Arc<Contents>> {
        let load =
            || db::assessments::contents(pool, head.id, time::OffsetDateTime::now_utc(), text);
        self.kept_for(
            &self.councils.contents,
            (head.id, text, today),
            load,
            |_| Some(head.organisation_id),
        )
        .await
    }

    /// The results of `head`'s assessment as the adviser reviews them (see
    /// `db::assessments::review_rows`).
    pub async fn review_rows(
        &self,
        pool: &PgPool,
        head: &Head,
    ) -> sqlx::Result<Arc<Vec<ReviewRow>>> {
        let load = || db::assessments::review_rows(pool, head.id);
        self.kept_for(&self.councils.review_rows, head.id, load, |_| {
            Some(head.organisation_id)
        })
        .await
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

    /// The actions `user` owns (see `db::dashboards::own_actions`), as of `today`.
    pub async fn own_actions(
        &self,
        pool: &PgPool,
        user: Uuid,
        today: Date,
    ) -> sqlx::Result<Arc<Vec<OwnAction>>> {
        let load = || db::dashboards::own_actions(pool, user, today);
        self.kept_for(&self.councils.own_actions, (user, today), load, |_| {
            Some(user)
        })
        .await
    }

    /// A download as `write` writes it, kept as `owner`'s (the council whose change drops it)
    /// when written; not when the writer failed (the download then says so, and the next one
    /// tries again).
    pub async fn download<F, Fut>(
        &self,
        which: Download,
        owner: Uuid,
        write: F,
    ) -> sqlx::Result<Arc<Result<Bytes, String>>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = sqlx::Result<Result<Bytes, String>>>,
    {
        self.kept_for(&self.councils.downloads, which, write, |file| {
            file.as_ref().ok().map(|_| owner)
        })
        .await
    }
}
