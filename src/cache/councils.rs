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
use crate::db::letters::Stored;
use crate::db::sign_offs::SignOff;

/// Answers kept by key, each with the council (or, for a region, the region) it shows.
struct Keyed<K, V> {
    entries: RwLock<HashMap<K, Entry<V>>>,
    /// Keys being loaded now: the first view after a change is asked of the database once,
    /// however many ask for it at that moment.
    loading: Mutex<HashMap<K, Arc<Flight>>>,
    /// Past this many answers, all are dropped (a simple bound on memory).
    capacity: usize,
}

/// One kept answer.
struct Entry<V> {
    /// The council (region, person) whose change drops it.
    owner: Uuid,
    value: Arc<V>,
    /// Whether a request has been served it since it was loaded: only such an answer is
    /// loaded again when a change drops it ([`Stale`]), so that an answer nobody reads is not
    /// loaded again and again as its council changes.
    read: AtomicBool,
}

/// The most views one change loads again ([`Caches::refresh`]).
pub const REFRESH_LIMIT: usize = 64;

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

    /// Leads the load of `key` when nobody loads it now; never waits.
    fn try_lead(&self, key: &K) -> Option<Loading<'_, K>> {
        let mut loading = super::lock(&self.loading);
        if loading.contains_key(key) {
            return None;
        }
        let flight = Arc::new(Flight::default());
        loading.insert(key.clone(), flight.clone());
        Some(Loading {
            loading: &self.loading,
            key: key.clone(),
            flight,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<K, Entry<V>>> {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<K, Entry<V>>> {
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The answer kept under `key`, which a request is served.
    fn get(&self, key: &K) -> Option<Arc<V>> {
        self.read().get(key).map(|e| {
            if !e.read.load(Ordering::Relaxed) {
                e.read.store(true, Ordering::Relaxed);
            }
            e.value.clone()
        })
    }

    fn contains(&self, key: &K) -> bool {
        self.read().contains_key(key)
    }

    /// Drops the answers `drop` picks, by key and owner; gives back those read since they were
    /// loaded (or, `all`, every one), with their owners.
    fn forget_where(&self, all: bool, drop: impl Fn(&K, &Uuid) -> bool) -> Vec<(K, Uuid)> {
        let mut read = Vec::new();
        self.write().retain(|k, e| {
            if !drop(k, &e.owner) {
                return true;
            }
            if all || e.read.load(Ordering::Relaxed) {
                read.push((k.clone(), e.owner));
            }
            false
        });
        read
    }

    fn forget(&self, all: bool, owner: Uuid) -> Vec<(K, Uuid)> {
        self.forget_where(all, |_, o| *o == owner)
    }

    fn clear(&self) {
        self.write().clear();
    }
}

/// A benchmark page: the assessment, the benchmark, and whose people its owner list names.
type PageKey = (Uuid, i32, Option<Uuid>);

/// The kept answers of councils' pages.
pub struct CouncilViews {
    /// By council, day, and how many cycles the trend shows.
    boards: Keyed<(Uuid, Date, i64), Vec<BoardRow>>,
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
    /// A Channel statement's sign-off, for its task list, its statement and the Channel team's
    /// check (sign-offs notify their council's change, migration 0009).
    sign_offs: Keyed<Uuid, Option<SignOff>>,
    /// An assessment's letter as kept in the database (the adviser's lines, and the letter as
    /// issued once published), for the letter page (letters notify their council's change,
    /// migration 0023).
    letters: Keyed<Uuid, Option<Stored>>,
    pages: Keyed<PageKey, Option<BenchmarkPage>>,
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
    /// file's kind, the regions, the cycle, and the workbook's title for them ("North Vale",
    /// "Every council"). Any council's change drops them, as it does the regions' views.
    Scores(&'static str, Vec<Uuid>, Uuid, String),
}

impl Download {
    /// The day the file was written for, when it depends on it.
    fn day(&self) -> Option<Date> {
        match self {
            Download::Plan(_, _, day, _) => Some(*day),
            Download::Assessment(_) | Download::Scores(..) => None,
        }
    }
}

/// What writing a download again gives: the file (or why it could not be written), or None
/// when what it holds is gone.
pub type Written = sqlx::Result<Option<Result<Bytes, String>>>;

/// Writes a download again from its key alone, as its page writes it: set by the application
/// ([`Caches::write_downloads_with`]), whose pages own the writers.
pub type Writer = Arc<
    dyn Fn(Download) -> std::pin::Pin<Box<dyn std::future::Future<Output = Written> + Send>>
        + Send
        + Sync,
>;

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
            sign_offs: Keyed::new(2_000),
            // A few kilobytes each, issued letters.
            letters: Keyed::new(1_000),
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

/// What a change dropped that had been read since it was loaded, by key and owner: loaded
/// again at once ([`Caches::refresh`]), so that the next reader finds it kept; and the national
/// picture and the Channel grid (kept apart, in [`Caches`]) when an agreement or a Channel
/// statement's change dropped them; and the downloads, written again by the application's
/// [`Writer`] after the views they are written from.
#[derive(Default)]
pub struct Stale {
    national: bool,
    /// The Channel grid's cycle and framework.
    channel: Option<(Uuid, String)>,
    boards: Vec<((Uuid, Date, i64), Uuid)>,
    statements: Vec<(Uuid, Uuid)>,
    plans: Vec<((Uuid, PlanFilter, Date), Uuid)>,
    heads: Vec<(Uuid, Uuid)>,
    progress: Vec<(Uuid, Uuid)>,
    contents: Vec<((Uuid, bool, Date), Uuid)>,
    review_rows: Vec<(Uuid, Uuid)>,
    sign_offs: Vec<(Uuid, Uuid)>,
    letters: Vec<(Uuid, Uuid)>,
    pages: Vec<(PageKey, Uuid)>,
    regions: Vec<((Uuid, Uuid, Date), Uuid)>,
    own_actions: Vec<((Uuid, Date), Uuid)>,
    downloads: Vec<(Download, Uuid)>,
}

impl Stale {
    /// The national picture, dropped by an agreement.
    pub fn national() -> Self {
        Stale {
            national: true,
            ..Stale::default()
        }
    }

    /// The Channel grid of `cycle`, dropped by a statement's change.
    pub fn channel_grid(cycle: Uuid, framework_code: String) -> Self {
        Stale {
            channel: Some((cycle, framework_code)),
            ..Stale::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        usize::from(self.national)
            + usize::from(self.channel.is_some())
            + self.boards.len()
            + self.statements.len()
            + self.plans.len()
            + self.heads.len()
            + self.progress.len()
            + self.contents.len()
            + self.review_rows.len()
            + self.sign_offs.len()
            + self.letters.len()
            + self.pages.len()
            + self.regions.len()
            + self.own_actions.len()
            + self.downloads.len()
    }

    /// Adds `other`'s views to these.
    pub fn merge(&mut self, other: Stale) {
        self.national |= other.national;
        if other.channel.is_some() {
            self.channel = other.channel;
        }
        self.boards.extend(other.boards);
        self.statements.extend(other.statements);
        self.plans.extend(other.plans);
        self.heads.extend(other.heads);
        self.progress.extend(other.progress);
        self.contents.extend(other.contents);
        self.review_rows.extend(other.review_rows);
        self.sign_offs.extend(other.sign_offs);
        self.letters.extend(other.letters);
        self.pages.extend(other.pages);
        self.regions.extend(other.regions);
        self.own_actions.extend(other.own_actions);
        self.downloads.extend(other.downloads);
    }
}

impl CouncilViews {
    /// Drops what shows `council` (and every region's view and person's own actions, which
    /// span councils); gives back what of it had been read since it was loaded (or, `all`,
    /// everything dropped).
    pub(super) fn forget_council(&self, council: Uuid, all: bool) -> Stale {
        Stale {
            national: false,
            channel: None,
            boards: self.boards.forget(all, council),
            statements: self.statements.forget(all, council),
            plans: self.plans.forget(all, council),
            heads: self.heads.forget(all, council),
            progress: self.progress.forget(all, council),
            contents: self.contents.forget(all, council),
            review_rows: self.review_rows.forget(all, council),
            sign_offs: self.sign_offs.forget(all, council),
            letters: self.letters.forget(all, council),
            pages: self.pages.forget(all, council),
            regions: self.regions.forget_where(all, |_, _| true),
            own_actions: self.own_actions.forget_where(all, |_, _| true),
            downloads: self.downloads.forget_where(all, |which, owner| {
                *owner == council || matches!(which, Download::Scores(..))
            }),
        }
    }

    pub(super) fn forget_all(&self) {
        self.boards.clear();
        self.statements.clear();
        self.plans.clear();
        self.heads.clear();
        self.progress.clear();
        self.contents.clear();
        self.review_rows.clear();
        self.sign_offs.clear();
        self.letters.clear();
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
            self.keep(keyed, key, owner, &value, generation, true);
        }
        Ok(value)
    }

    /// Loads the view under `key` again after a change dropped it, unless a request has
    /// already (or is now): kept as `owner`'s when `keep_if` says so and nothing changed
    /// meanwhile; not marked as read, so that it is loaded again after the next change only if
    /// someone reads it before.
    async fn refresh_one<K, V, F, Fut>(
        &self,
        keyed: &Keyed<K, V>,
        key: K,
        owner: Uuid,
        load: F,
        keep_if: impl Fn(&V) -> bool,
    ) -> sqlx::Result<()>
    where
        K: Eq + Hash + Clone,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = sqlx::Result<V>>,
    {
        if !self.views_kept() || keyed.contains(&key) {
            return Ok(());
        }
        let Some(lead) = keyed.try_lead(&key) else {
            return Ok(());
        };
        // Twice at most: something changed while the first load was under way (this council
        // again, the request that changed it dropping what its notification had loaded
        // again, or any other council), so its answer may not be kept; the second load begins
        // after that change.
        for _ in 0..2 {
            // A reader's load may have ended between the look and the lead: its copy stays,
            // with its mark of having been read.
            if keyed.contains(&key) || !self.views_kept() {
                return Ok(());
            }
            let generation = self.generation();
            let value = match load().await {
                Ok(value) => Arc::new(value),
                Err(error) => {
                    lead.failed(&error);
                    return Err(error);
                }
            };
            if !keep_if(&value) || self.keep(keyed, key.clone(), owner, &value, generation, false) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Loads again, one after another, the views a change dropped that had been read (at
    /// most [`REFRESH_LIMIT`]; the rest wait for their next reader), those of a past day
    /// excepted. Stops at the first failure: the database is away, and readers will say so.
    pub(super) async fn refresh(&self, pool: &PgPool, stale: Stale) -> sqlx::Result<()> {
        let today = time::OffsetDateTime::now_utc().date();
        let now = time::OffsetDateTime::now_utc();
        let views = &self.councils;
        let mut left = REFRESH_LIMIT;
        let mut go = || {
            if left == 0 {
                return false;
            }
            left -= 1;
            true
        };
        async {
            if stale.national && go() {
                self.refresh_kept(&self.national, || db::dashboards::national(pool))
                    .await?;
            }
            if let Some((cycle, framework_code)) = &stale.channel
                && go()
            {
                self.refresh_kept(&self.channel, || {
                    self.load_channel_grid(pool, *cycle, framework_code)
                })
                .await?;
            }
            for ((region, cycle, day), owner) in stale.regions {
                if day == today && go() {
                    let key = (region, cycle, day);
                    let load = || db::dashboards::region_councils(pool, region, cycle, day);
                    self.refresh_one(&views.regions, key, owner, load, |_| true)
                        .await?;
                }
            }
            for ((council, day, cycles), owner) in stale.boards {
                if day == today && go() {
                    let load = || db::dashboards::board(pool, council, day, cycles);
                    let key = (council, day, cycles);
                    self.refresh_one(&views.boards, key, owner, load, |_| true)
                        .await?;
                }
            }
            for (council, owner) in stale.statements {
                if go() {
                    let load = || db::channel::latest_by_area(pool, council);
                    self.refresh_one(&views.statements, council, owner, load, |_| true)
                        .await?;
                }
            }
            for ((council, filter, day), owner) in stale.plans {
                if day == today && go() {
                    let load = || db::dashboards::plan(pool, council, &filter, day);
                    let key = (council, filter.clone(), day);
                    self.refresh_one(&views.plans, key, owner, load, |_| true)
                        .await?;
                }
            }
            for (id, owner) in stale.heads {
                if go() {
                    let load = || db::assessments::head(pool, id);
                    self.refresh_one(&views.heads, id, owner, load, |h| h.is_some())
                        .await?;
                }
            }
            for (id, owner) in stale.progress {
                if go() {
                    let load = || db::assessments::progress(pool, id);
                    self.refresh_one(&views.progress, id, owner, load, |_| true)
                        .await?;
                }
            }
            for ((id, number, people_of), owner) in stale.pages {
                if go() {
                    let load = || db::assessments::benchmark_page(pool, id, number, people_of);
                    let key = (id, number, people_of);
                    self.refresh_one(&views.pages, key, owner, load, |p| p.is_some())
                        .await?;
                }
            }
            for ((id, text, day), owner) in stale.contents {
                if day == today && go() {
                    let load = || db::assessments::contents(pool, id, now, text);
                    let key = (id, text, day);
                    self.refresh_one(&views.contents, key, owner, load, |_| true)
                        .await?;
                }
            }
            for (id, owner) in stale.review_rows {
                if go() {
                    let load = || db::assessments::review_rows(pool, id);
                    self.refresh_one(&views.review_rows, id, owner, load, |_| true)
                        .await?;
                }
            }
            for (id, owner) in stale.sign_offs {
                if go() {
                    let load = || db::sign_offs::get(pool, id);
                    self.refresh_one(&views.sign_offs, id, owner, load, |_| true)
                        .await?;
                }
            }
            for (id, owner) in stale.letters {
                if go() {
                    let load = || db::letters::stored(pool, id);
                    self.refresh_one(&views.letters, id, owner, load, |_| true)
                        .await?;
                }
            }
            for ((user, day), owner) in stale.own_actions {
                if day == today && go() {
                    let load = || db::dashboards::own_actions(pool, user, day);
                    let key = (user, day);
                    self.refresh_one(&views.own_actions, key, owner, load, |_| true)
                        .await?;
                }
            }
            // Last: their writers read the views loaded again above.
            if let Some(writer) = self.writer.get() {
                for (which, owner) in stale.downloads {
                    if which.day().is_none_or(|day| day == today) && go() {
                        let load = || {
                            let written = writer(which.clone());
                            async move {
                                Ok(written.await?.unwrap_or_else(|| Err("gone".to_owned())))
                            }
                        };
                        self.refresh_one(&views.downloads, which.clone(), owner, load, |file| {
                            file.is_ok()
                        })
                        .await?;
                    }
                }
            }
            Ok(())
        }
        .await
    }

    /// Loads again one of the values kept apart (the national picture, the Channel grid) after
    /// a change dropped it, unless a request has already: kept when nothing changed meanwhile
    /// (twice at most, as [`Caches::refresh_one`]), not marked as read.
    async fn refresh_kept<V, F, Fut>(&self, kept: &super::Kept<V>, load: F) -> sqlx::Result<()>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = sqlx::Result<V>>,
    {
        for _ in 0..2 {
            if !self.views_kept() || kept.is_kept() {
                return Ok(());
            }
            let generation = self.generation();
            let value = Arc::new(load().await?);
            let mut slot = kept.write();
            if slot.is_some() {
                return Ok(());
            }
            if self.may_keep(generation) {
                kept.put(&mut slot, value, false);
                return Ok(());
            }
        }
        Ok(())
    }

    /// Keeps `value` as `owner`'s, unless something was forgotten since `generation` (when it
    /// was asked of the database); says whether it did.
    fn keep<K, V>(
        &self,
        keyed: &Keyed<K, V>,
        key: K,
        owner: Uuid,
        value: &Arc<V>,
        generation: u64,
        read: bool,
    ) -> bool
    where
        K: Eq + Hash + Clone,
    {
        let mut entries = keyed.write();
        // Checked under the lock, as for sessions.
        if !self.may_keep(generation) {
            return false;
        }
        if entries.len() >= keyed.capacity {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                owner,
                value: value.clone(),
                read: AtomicBool::new(read),
            },
        );
        true
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
        self.kept_for(
            &self.councils.boards,
            (organisation, today, cycles),
            load,
            |_| Some(organisation),
        )
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
                        true,
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

    /// The sign-off of `head`'s Channel statement, if asked for (see `db::sign_offs::get`).
    pub async fn sign_off(&self, pool: &PgPool, head: &Head) -> sqlx::Result<Arc<Option<SignOff>>> {
        let load = || db::sign_offs::get(pool, head.id);
        self.kept_for(&self.councils.sign_offs, head.id, load, |_| {
            Some(head.organisation_id)
        })
        .await
    }

    /// The letter of `head`'s assessment as kept (see `db::letters::stored`).
    pub async fn letter(&self, pool: &PgPool, head: &Head) -> sqlx::Result<Arc<Option<Stored>>> {
        let load = || db::letters::stored(pool, head.id);
        self.kept_for(&self.councils.letters, head.id, load, |_| {
            Some(head.organisation_id)
        })
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

    /// Writes downloads again after a change with `writer` (once; later calls change nothing).
    pub fn write_downloads_with(&self, writer: Writer) {
        let _ = self.writer.set(writer);
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
