//! What every page needs and what rarely changes, kept in memory: the person behind a session,
//! the places (regions, councils, cycles) and the national picture of agreed scores, the Channel grid. Each signed-in page used to start with a round
//! trip for the session and another for the council; on two shared cores those round trips,
//! not the pages' own queries, were most of a page's cost.
//!
//! The copies are kept true by PostgreSQL: triggers (migration 0005) notify every server of
//! what changed, whoever changed it, and this server forgets it. Nothing is served from memory
//! while the server is not listening (before it connects, or after the connection drops, when
//! it also forgets everything, or after [`SILENCE`] and [`PROBE_WAIT`] without hearing its own
//! probe when a connection is lost without a word); a copy loaded while something changed is not kept (the
//! generation check); and after each request that may change something, the server waits
//! until it has heard its own notifications ([`Caches::settle`]), so the next request sees the
//! change. A copy of a session is used for at most [`principals::RECHECK`], so the session's
//! idle and absolute limits are still checked in the database.
//!
//! A council's view that is not kept (the first view after a change) is loaded by one request
//! at a time: others asking for it meanwhile wait for that load rather than each asking the
//! database the same ([`councils`]), so a change does not send every reader of a busy page to
//! PostgreSQL at once. And a view read since it was loaded is loaded again as soon as a change
//! to its council is heard, in the background, one view after another ([`Caches::refreshed`]
//! waits for them): the first reader after the change finds it kept. So are the national
//! picture after an agreement, the Channel grid after a statement's change, and the downloads
//! (written again, after the views, by their pages' own writers: `crate::web::downloads`). A view nobody
//! read since its last load is left for its next reader, so no view is loaded more often than
//! it is read.

pub mod councils;
pub mod places;
pub mod principals;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::oneshot;
use tracing::instrument::WithSubscriber;
use uuid::Uuid;

use crate::db;

/// The in-memory copies and what keeps them true.
#[derive(Default)]
pub struct Caches {
    pub principals: principals::Principals,
    places: Kept<places::Places>,
    national: Kept<Vec<db::dashboards::NationalRow>>,
    /// The Channel team's grid of one cycle (the one last asked for).
    channel: Kept<ChannelGrid>,
    councils: councils::CouncilViews,
    /// Whether notifications are being heard: copies are used only then.
    listening: AtomicBool,
    /// Whether views (councils' pages, the national picture) are kept; set at start.
    views_off: AtomicBool,
    /// Moves on at every forgetting: a copy loaded across a move is not kept.
    generation: AtomicU64,
    /// Markers sent and not yet heard ([`Caches::settle`], [`Caches::carry_marker`]).
    markers: Mutex<HashMap<Uuid, Marker>>,
    /// How many changes of each council this server has heard of ([`Caches::forget_council_since`]).
    councils_heard: Mutex<HashMap<Uuid, u64>>,
    /// These caches and their pool, for loading views again after a change ([`Caches::start`]).
    home: OnceLock<(Weak<Caches>, PgPool)>,
    /// What a request dropped itself after its change (a save), by council: loaded again when
    /// the change's own notification arrives, which would otherwise drop the new copies.
    dropped_by_requests: Mutex<HashMap<Uuid, councils::Stale>>,
    /// Loads of dropped views again under way or waiting, one at a time.
    refreshes: AtomicUsize,
    refresh_turn: tokio::sync::Mutex<()>,
    refreshed: tokio::sync::Notify,
    /// Writes a download again from its key ([`Caches::write_downloads_with`]).
    writer: OnceLock<councils::Writer>,
}

/// Where a marker is between being sent and being heard.
enum Marker {
    /// A request waits for it.
    Awaited(oneshot::Sender<()>),
    /// It travels in a write's own statement, sent at this moment; nobody waits for it yet.
    Carried(Instant),
    /// It was heard before anyone waited for it.
    Heard(Instant),
}

/// A marker that travels in a write's own statement ([`Caches::carry_marker`]): put on the
/// response of the request that committed it, so that the wait after the request is for it
/// rather than for a marker sent afresh (a round trip fewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarriedMarker(Uuid);

impl CarriedMarker {
    /// What the write sends on [`db::changes::CHANNEL`].
    pub fn payload(&self) -> String {
        format!("marker:{}", self.0)
    }
}

/// Every council's line of the Channel grid for one cycle.
pub struct ChannelGrid {
    pub cycle: Uuid,
    /// The Channel statement's framework, whose grid this is (to load it again).
    pub framework_code: String,
    pub rows: Vec<db::channel::GridRow>,
}

/// How long a request waits for its marker before giving up and forgetting everything.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

/// After this long without a notification the listener asks whether it still hears: a
/// connection lost without a word (a network that drops packets, a firewall's idle timeout)
/// sends no end, and would otherwise be listened to for hours.
pub const SILENCE: Duration = Duration::from_secs(15);
/// How long the listener waits to hear the notification it sent itself, after a silence.
pub const PROBE_WAIT: Duration = Duration::from_secs(2);

impl Caches {
    /// New, empty caches, and the task that listens for changes (it stops when the pool is
    /// closed or the caches are dropped). Needs a Tokio runtime.
    pub fn start(pool: &PgPool) -> Arc<Caches> {
        let caches = Arc::new(Caches::default());
        let _ = caches.home.set((Arc::downgrade(&caches), pool.clone()));
        tokio::spawn(listen(Arc::downgrade(&caches), pool.clone()));
        caches
    }

    /// Keep views in memory (the default), or ask the database for every one.
    pub fn keep_views(&self, keep: bool) {
        self.views_off.store(!keep, Ordering::SeqCst);
        self.forget_all();
    }

    /// Whether views are kept in memory now (listening, and not started with `KEEP_VIEWS=false`).
    pub fn views_kept(&self) -> bool {
        self.listening() && !self.views_off.load(Ordering::SeqCst)
    }

    /// Whether copies may be used and kept now.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    /// The generation to give back to `keep` when what was loaded is offered for keeping.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether a copy loaded at `generation` may be kept: nothing was forgotten since, and
    /// notifications are being heard.
    fn may_keep(&self, generation: u64) -> bool {
        self.listening() && self.generation() == generation
    }

    fn advance(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A session of `user` ended: their kept sessions go.
    pub fn forget_sessions(&self, user: Uuid) {
        self.advance();
        self.principals.forget_user(user);
    }

    /// `user`'s account or memberships changed: their sessions go, and councils' pages, which
    /// show people's names (and, to editors, who may own an action).
    pub fn forget_user(&self, user: Uuid) {
        self.advance();
        self.principals.forget_user(user);
        self.councils.forget_all();
    }

    /// Something a council's pages show changed, as a request that changed it knows before
    /// the change's notification arrives: its views go now, and those read since they were
    /// loaded are loaded again when the notification comes ([`Caches::council_changed`]).
    pub fn forget_council(&self, council: Uuid) {
        self.advance();
        let stale = self.councils.forget_council(council, false);
        if !stale.is_empty() {
            lock(&self.dropped_by_requests)
                .entry(council)
                .or_default()
                .merge(stale);
        }
    }

    /// How many of `council`'s changes this server has heard of: taken before a change commits,
    /// and given to [`Caches::forget_council_since`] after.
    pub fn council_changes_heard(&self, council: Uuid) -> u64 {
        lock(&self.councils_heard)
            .get(&council)
            .copied()
            .unwrap_or(0)
    }

    /// As [`Caches::forget_council`], by a request whose change committed after this server had
    /// heard of `heard_before` of the council's changes. When it has heard of more since, the
    /// change's own notification has most likely come already, and whatever is kept of the
    /// council now was loaded since (loaded again for having been read, or by a reader): it
    /// goes, and is loaded again now rather than left for a notification that has been. When
    /// that was another change's, this one's, still to come, drops what is loaded now before
    /// anyone reads it, and the next reader loads it, as without loading again at all: never a
    /// copy older than the change.
    pub fn forget_council_since(&self, council: Uuid, heard_before: u64) {
        if self.council_changes_heard(council) == heard_before {
            self.forget_council(council);
        } else {
            self.drop_and_load_again(council, true);
        }
    }

    /// The notification that a council's data changed: its views go, and those read since
    /// they were loaded are loaded again at once, in the background, so that the first view
    /// after the change is kept rather than asked of the database by its reader. Each such
    /// load follows a read since the view's last load, so no view is loaded more often than
    /// it is read; one nobody reads after it is loaded again is not loaded after the next
    /// change.
    fn council_changed(&self, council: Uuid) {
        *lock(&self.councils_heard).entry(council).or_default() += 1;
        self.drop_and_load_again(council, false);
    }

    /// Drops the council's views and loads again, in the background, those read since they
    /// were loaded (or, `all`, every one dropped), with what a request dropped itself before.
    fn drop_and_load_again(&self, council: Uuid, all: bool) {
        self.advance();
        let mut stale = self.councils.forget_council(council, all);
        if let Some(earlier) = lock(&self.dropped_by_requests).remove(&council) {
            stale.merge(earlier);
        }
        self.refresh_later(stale);
    }

    fn refresh_later(&self, stale: councils::Stale) {
        if stale.is_empty() || !self.views_kept() {
            return;
        }
        let Some((me, pool)) = self.home.get() else {
            return;
        };
        let (Some(me), Ok(runtime)) = (me.upgrade(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let pool = pool.clone();
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        runtime.spawn(async move {
            let refreshed = {
                let _turn = me.refresh_turn.lock().await;
                // No request's work: its statements are not told to whoever listens to the
                // request that happens to be running on this thread when it runs.
                me.refresh(&pool, stale)
                    .with_subscriber(tracing::subscriber::NoSubscriber::default())
                    .await
            };
            if let Err(error) = refreshed {
                tracing::debug!(%error, "could not load again the views a change dropped");
            }
            if me.refreshes.fetch_sub(1, Ordering::SeqCst) == 1 {
                me.refreshed.notify_waiters();
            }
        });
    }

    /// Waits until the views dropped by the changes heard so far have been loaded again (or
    /// could not be), at most `limit`.
    pub async fn refreshed(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, async {
            loop {
                let done = self.refreshed.notified();
                tokio::pin!(done);
                done.as_mut().enable();
                if self.refreshes.load(Ordering::SeqCst) == 0 {
                    return;
                }
                done.await;
            }
        })
        .await;
    }

    pub fn forget_all(&self) {
        self.advance();
        self.principals.forget_all();
        self.places.forget();
        self.national.forget();
        self.channel.forget();
        self.councils.forget_all();
        lock(&self.dropped_by_requests).clear();
    }

    /// A value kept in `kept`, or loaded by `load` now and kept when nothing changed meanwhile;
    /// when copies are not `in_use`, always loaded and never kept.
    async fn kept<T, F, Fut>(&self, kept: &Kept<T>, in_use: bool, load: F) -> sqlx::Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = sqlx::Result<T>>,
    {
        if !in_use {
            return Ok(Arc::new(load().await?));
        }
        if let Some(value) = kept.get() {
            return Ok(value);
        }
        let generation = self.generation();
        let value = Arc::new(load().await?);
        let mut slot = kept.write();
        // Checked under the lock, as for sessions.
        if self.may_keep(generation) {
            kept.put(&mut slot, value.clone(), true);
        }
        Ok(value)
    }

    /// Every cycle's agreed scores by region (the national picture): they change only when an
    /// assessment is agreed, or stops being.
    pub async fn national(
        &self,
        pool: &PgPool,
    ) -> sqlx::Result<Arc<Vec<db::dashboards::NationalRow>>> {
        self.kept(&self.national, self.views_kept(), || {
            db::dashboards::national(pool)
        })
        .await
    }

    /// The Channel grid of `cycle`: every council by region and name, as the places keep them,
    /// each with its statement in the cycle. A council with a statement but not among the
    /// places (added since they were loaded: the places' change drops the grid too) is left
    /// out; no cycle, no rows.
    async fn load_channel_grid(
        &self,
        pool: &PgPool,
        cycle: Uuid,
        framework_code: &str,
    ) -> sqlx::Result<ChannelGrid> {
        let places = self.places(pool).await?;
        let found = db::channel::grid_statements(pool, cycle, framework_code).await?;
        let rows = match found {
            None => Vec::new(),
            Some((deadline, statements)) => {
                let mut statements: HashMap<Uuid, db::channel::GridStatement> = statements
                    .into_iter()
                    .map(|s| (s.organisation_id, s))
                    .collect();
                places
                    .councils_by_region()
                    .map(|(region, o)| {
                        let (assessment, state, submitted_at, ratings) =
                            match statements.remove(&o.id) {
                                Some(s) => {
                                    (Some(s.assessment), Some(s.state), s.submitted_at, s.ratings)
                                }
                                None => (None, None, None, Default::default()),
                            };
                        db::channel::GridRow {
                            organisation_slug: o.slug.clone(),
                            organisation_name: o.name.clone(),
                            region_slug: region.slug.clone(),
                            region_name: region.name.clone(),
                            assessment,
                            state,
                            submitted_at,
                            deadline,
                            ratings,
                        }
                    })
                    .collect()
            }
        };
        Ok(ChannelGrid {
            cycle,
            framework_code: framework_code.to_owned(),
            rows,
        })
    }

    /// Every council's line of the Channel grid for `cycle`: it changes only when a Channel
    /// statement is started, removed, or changes state (the 'channel' notification), or the
    /// places do. One cycle is kept, the one last asked for.
    pub async fn channel_grid(
        &self,
        pool: &PgPool,
        cycle: Uuid,
        framework_code: &str,
    ) -> sqlx::Result<Arc<ChannelGrid>> {
        let in_use = self.views_kept();
        if in_use && let Some(grid) = self.channel.get().filter(|g| g.cycle == cycle) {
            return Ok(grid);
        }
        let generation = self.generation();
        let grid = Arc::new(self.load_channel_grid(pool, cycle, framework_code).await?);
        if in_use {
            let mut slot = self.channel.write();
            if self.may_keep(generation) {
                self.channel.put(&mut slot, grid.clone(), true);
            }
        }
        Ok(grid)
    }

    /// Acts on one notification.
    fn heard(&self, payload: &str) {
        let id = |prefix: &str| payload.strip_prefix(prefix).map(str::parse::<Uuid>);
        if let Some(Ok(user)) = id("session:") {
            self.forget_sessions(user);
        } else if let Some(Ok(user)) = id("user:") {
            self.forget_user(user);
        } else if let Some(Ok(council)) = id("council:") {
            self.council_changed(council);
        } else if let Some(marker) = payload.strip_prefix("marker:") {
            if let Ok(marker) = marker.parse::<Uuid>() {
                let mut markers = lock(&self.markers);
                match markers.remove(&marker) {
                    Some(Marker::Awaited(waiter)) => {
                        let _ = waiter.send(());
                    }
                    Some(Marker::Carried(_)) => {
                        markers.insert(marker, Marker::Heard(Instant::now()));
                    }
                    Some(Marker::Heard(_)) | None => {}
                }
            }
        } else if payload == "heartbeat" {
            // A listener asking, after a silence, whether it still hears: nothing changed.
        } else if payload == "agreed" {
            self.advance();
            if self.national.forget().is_some() {
                self.refresh_later(councils::Stale::national());
            }
        } else if payload == "channel" {
            self.advance();
            if let Some(grid) = self.channel.forget() {
                self.refresh_later(councils::Stale::channel_grid(
                    grid.cycle,
                    grid.framework_code.clone(),
                ));
            }
        } else {
            // 'places' (councils' names are in every person's memberships), or anything new.
            self.forget_all();
        }
    }

    /// Returns once this server has heard every notification committed before the call: it
    /// sends itself a marker and waits for it, notifications arriving in commit order. Called
    /// after each request that may change something, so that the next request, wherever it
    /// lands on this server, sees the change.
    pub async fn settle(&self, pool: &PgPool) {
        if !self.listening() {
            return;
        }
        let marker = Uuid::new_v4();
        let (sender, arrived) = oneshot::channel();
        lock(&self.markers).insert(marker, Marker::Awaited(sender));
        let sent = db::changes::notify(pool, &format!("marker:{marker}")).await;
        self.wait_for(marker, sent.is_ok(), arrived).await;
    }

    async fn wait_for(&self, marker: Uuid, sent: bool, arrived: oneshot::Receiver<()>) {
        let heard = sent
            && matches!(
                tokio::time::timeout(SETTLE_TIMEOUT, arrived).await,
                Ok(Ok(()))
            );
        if !heard {
            lock(&self.markers).remove(&marker);
            tracing::warn!("change notifications did not arrive in time: forgetting every copy");
            self.forget_all();
        }
    }

    /// Markers sent and not yet both heard and waited for (for tests: none once all is quiet).
    pub fn markers_outstanding(&self) -> usize {
        lock(&self.markers).len()
    }

    /// A marker for a write to send in its own statement, when copies are in use: heard, it
    /// says that this server has heard everything committed before the write. The write's own
    /// notifications may arrive after it (a statement's triggers notify after its `WITH`
    /// parts), so the writer also forgets here what its write changed, once it has committed.
    /// Markers whose write never committed are dropped after a while.
    pub fn carry_marker(&self) -> Option<CarriedMarker> {
        if !self.listening() {
            return None;
        }
        let now = Instant::now();
        let mut markers = lock(&self.markers);
        markers.retain(|_, m| match m {
            Marker::Awaited(_) => true,
            Marker::Carried(at) | Marker::Heard(at) => now.duration_since(*at) < 2 * SETTLE_TIMEOUT,
        });
        let marker = Uuid::new_v4();
        markers.insert(marker, Marker::Carried(now));
        Some(CarriedMarker(marker))
    }

    /// After a request whose write carried `marker` and committed: returns once it is heard
    /// (at once if it was heard already), as [`Caches::settle`] does for a marker of its own.
    pub async fn settle_carried(&self, pool: &PgPool, marker: CarriedMarker) {
        if !self.listening() {
            return;
        }
        let (sender, arrived) = oneshot::channel();
        let known = {
            let mut markers = lock(&self.markers);
            match markers.remove(&marker.0) {
                Some(Marker::Heard(_)) => return,
                Some(Marker::Carried(_)) => {
                    markers.insert(marker.0, Marker::Awaited(sender));
                    true
                }
                Some(Marker::Awaited(_)) | None => false,
            }
        };
        if known {
            self.wait_for(marker.0, true, arrived).await;
        } else {
            // Dropped as too old, or never ours: a marker of its own instead.
            self.settle(pool).await;
        }
    }

    fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::SeqCst);
        // Whatever was kept may have changed unheard.
        self.forget_all();
    }
}

/// One value kept in memory.
struct Kept<T> {
    value: RwLock<Option<Arc<T>>>,
    /// Whether a request has been served it since it was loaded: only then is it loaded again
    /// when a change drops it, as councils' views are.
    read: AtomicBool,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            value: RwLock::new(None),
            read: AtomicBool::new(false),
        }
    }
}

impl<T> Kept<T> {
    /// The value kept, which a request is served.
    fn get(&self) -> Option<Arc<T>> {
        let value = self
            .value
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if value.is_some() && !self.read.load(Ordering::Relaxed) {
            self.read.store(true, Ordering::Relaxed);
        }
        value
    }

    fn is_kept(&self) -> bool {
        self.value
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Option<Arc<T>>> {
        self.value
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `value` in `slot` (this one's, locked), marked as read or not.
    fn put(&self, slot: &mut Option<Arc<T>>, value: Arc<T>, read: bool) {
        *slot = Some(value);
        self.read.store(read, Ordering::Relaxed);
    }

    /// Drops the value; gives it back when a request was served it since it was loaded.
    fn forget(&self) -> Option<Arc<T>> {
        let mut slot = self.write();
        let read = self.read.swap(false, Ordering::Relaxed);
        slot.take().filter(|_| read)
    }
}

/// A poisoned lock only means another request panicked while holding it; the map is still whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Listens for changes until the pool closes or the caches are gone, reconnecting (with a
/// growing pause) when the connection drops.
async fn listen(caches: Weak<Caches>, pool: PgPool) {
    let mut pause = Duration::from_millis(100);
    loop {
        match db::changes::listen(&pool).await {
            Ok(mut listener) => {
                let Some(c) = caches.upgrade() else { return };
                c.set_listening(true);
                drop(c);
                pause = Duration::from_millis(100);
                loop {
                    let received = match tokio::time::timeout(SILENCE, listener.try_recv()).await {
                        Ok(received) => received,
                        // Quiet for a while: this server notifies itself and must hear it (or
                        // anything) soon, else the connection is lost, whatever it says.
                        Err(_) => {
                            let probe = db::changes::notify(&pool, "heartbeat").await;
                            match tokio::time::timeout(PROBE_WAIT, listener.try_recv()).await {
                                Ok(received) if probe.is_ok() => received,
                                _ => {
                                    if let Some(c) = caches.upgrade() {
                                        c.set_listening(false);
                                    }
                                    tracing::warn!(
                                        "heard nothing from the change notifications; reconnecting"
                                    );
                                    break;
                                }
                            }
                        }
                    };
                    let Some(c) = caches.upgrade() else { return };
                    match received {
                        Ok(Some(notification)) => c.heard(notification.payload()),
                        // The connection dropped (the database stopped, the network went):
                        // nothing kept is used from this moment, until a new connection
                        // listens again (the outer loop), whatever was sent meanwhile.
                        Ok(None) => {
                            c.set_listening(false);
                            if !pool.is_closed() {
                                tracing::warn!("lost the change notifications; reconnecting");
                            }
                            break;
                        }
                        Err(e) => {
                            c.set_listening(false);
                            if !pool.is_closed() {
                                tracing::warn!(error = %e, "lost the change notifications; reconnecting");
                            }
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                if let Some(c) = caches.upgrade() {
                    c.set_listening(false);
                }
                if !pool.is_closed() {
                    tracing::warn!(error = %e, "cannot listen for change notifications; retrying");
                }
            }
        }
        if pool.is_closed() {
            return;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}
