//! The signed-in people, by the hash of their session id.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use uuid::Uuid;

use super::Caches;
use crate::auth::Principal;

/// How long a copy of a session is used before the database is asked again: the session is
/// then marked used (its idle limit) and checked against both limits.
pub const RECHECK: Duration = Duration::from_secs(60);

/// At most this many sessions are kept; past it, the oldest copies go first.
const CAPACITY: usize = 10_000;

struct Entry {
    principal: Principal,
    loaded: Instant,
    expires_at: OffsetDateTime,
}

impl Entry {
    fn fresh(&self) -> bool {
        self.loaded.elapsed() < RECHECK && OffsetDateTime::now_utc() < self.expires_at
    }
}

#[derive(Default)]
pub struct Principals {
    by_session: RwLock<HashMap<Vec<u8>, Entry>>,
}

impl Principals {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Vec<u8>, Entry>> {
        self.by_session
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Vec<u8>, Entry>> {
        self.by_session
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn forget_user(&self, user: Uuid) {
        self.write().retain(|_, e| e.principal.user_id != user);
    }

    pub(super) fn forget_all(&self) {
        self.write().clear();
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Caches {
    /// The person behind a session, if a fresh copy is kept.
    pub fn principal(&self, session_hash: &[u8]) -> Option<Principal> {
        if !self.listening() {
            return None;
        }
        self.principals
            .read()
            .get(session_hash)
            .filter(|e| e.fresh())
            .map(|e| e.principal.clone())
    }

    /// Keeps a copy of the person behind a session, loaded at `generation`, unless something
    /// was forgotten since.
    pub fn keep_principal(
        &self,
        generation: u64,
        principal: &Principal,
        expires_at: OffsetDateTime,
    ) {
        let mut map = self.principals.write();
        // Checked under the lock: a forgetting either happened before (and this is not kept)
        // or waits for the lock (and removes it).
        if !self.may_keep(generation) {
            return;
        }
        if map.len() >= CAPACITY {
            map.retain(|_, e| e.fresh());
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(
            principal.session_hash.clone(),
            Entry {
                principal: principal.clone(),
                loaded: Instant::now(),
                expires_at,
            },
        );
    }
}
