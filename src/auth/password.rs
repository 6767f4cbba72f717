//! Passwords: argon2id with the OWASP parameters, hashed off the async runtime; the length rule
//! and the common-password list, and nothing else (no composition rules).

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::Secret;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// OWASP's minimum for argon2id: 19 MiB of memory, two passes, one lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("the OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .collect()
});

/// Why a new password is refused, in words for the person choosing it.
pub fn check_new(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err("Your password must be at least 12 characters long");
    }
    if length > MAX_LENGTH {
        return Err("Your password must be 128 characters or fewer");
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(
            "That password is on a list of common passwords; choose one that is harder to guess",
        );
    }
    Ok(())
}

fn hash_now(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a salt");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash nobody's password matches, verified against when an email is unknown so that unknown
/// and known emails take the same time.
static DUMMY: LazyLock<String> = LazyLock::new(|| {
    let mut random = [0u8; 24];
    getrandom::fill(&mut random).expect("the operating system's random source");
    hash_now(&format!("{random:?}"))
});

/// Hashes or verifications running at once, at most: each takes 19 MiB (the OWASP memory
/// cost) and a core for tens of milliseconds, so more than the cores at once only adds memory
/// (a flood of sign-ins once tripled the server's resident memory) and waiting.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::sync::Semaphore::new(cores.max(1))
});

/// Runs an argon2 computation on the blocking pool, no more of them at once than cores. Its
/// 19 MiB go back to the operating system when it is done: the server's allocator (mimalloc)
/// would otherwise keep them with the blocking thread, which sleeps, and then exits leaving
/// them abandoned, so a burst of sign-ins kept the server 40 MB larger for good.
async fn with_hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _permit = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let done = work();
        // SAFETY: mi_collect takes no pointers; it frees what this thread's heap holds
        // unused. Without mimalloc as the global allocator (the tests) it has nothing to do.
        unsafe { libmimalloc_sys::mi_collect(true) };
        done
    })
    .await
    .ok()
}

/// Hashes a password on the blocking pool (argon2 takes tens of milliseconds of CPU).
pub async fn hash(password: Secret) -> String {
    with_hashing(move || hash_now(password.expose()))
        .await
        .expect("the hashing task completes")
}

/// Verifies a password against a stored hash, or against the dummy hash when there is none,
/// so the time taken does not say whether the account exists.
pub async fn verify(password: Secret, hash: Option<String>) -> bool {
    with_hashing(move || match hash {
        Some(hash) => verify_now(password.expose(), &hash),
        None => {
            verify_now(password.expose(), &DUMMY);
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_verify() {
        let hash = hash_now("correct horse battery staple");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_now("correct horse battery staple", &hash));
        assert!(!verify_now("correct horse battery stapler", &hash));
    }

    #[test]
    fn new_passwords_are_12_to_128_characters_and_not_common() {
        assert!(check_new("short").is_err());
        assert!(check_new(&"x".repeat(129)).is_err());
        assert!(check_new("qwerty123456").is_err());
        assert!(check_new("QWERTY123456").is_err());
        assert!(check_new("passwordpassword").is_err());
        assert!(check_new("lantern-orchard-47-quietly").is_ok());
        // Twelve characters, counted as characters rather than bytes.
        assert!(check_new("ééééééééééé").is_err());
        assert!(check_new("éééééééééééé").is_ok());
    }
}
