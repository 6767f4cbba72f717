//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of skew), its
//! secret encrypted at rest with ChaCha20-Poly1305 under `MFA_KEY` (the account's id as
//! associated data, so a secret copied to another account does not decrypt), a code accepted
//! only for a step later than the last one used, and ten one-time recovery codes.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret as TotpSecret, TOTP};
use uuid::Uuid;

/// The key secrets are encrypted with: 32 bytes, from `MFA_KEY` as 64 hex digits.
#[derive(Clone)]
pub struct MfaKey([u8; 32]);

impl std::fmt::Debug for MfaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaKey([redacted])")
    }
}

impl MfaKey {
    pub fn from_hex(hex: &str) -> Result<MfaKey, &'static str> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(
                "MFA_KEY must be 64 hexadecimal digits (32 random bytes, e.g. `openssl rand -hex 32`)",
            );
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| "MFA_KEY is not hexadecimal")?;
        }
        Ok(MfaKey(key))
    }

    /// A secret sealed for an account: nonce then ciphertext.
    pub fn seal(&self, user: Uuid, secret: &[u8]) -> Vec<u8> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.0));
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the operating system's random source");
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: user.as_bytes(),
                },
            )
            .expect("encryption of a short secret does not fail");
        [nonce.as_slice(), sealed.as_slice()].concat()
    }

    /// The secret, if it was sealed for this account with this key.
    pub fn open(&self, user: Uuid, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: user.as_bytes(),
                },
            )
            .ok()
    }
}

/// 20 random bytes (160 bits, as RFC 4226 recommends).
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    getrandom::fill(&mut secret).expect("the operating system's random source");
    secret
}

fn totp(secret: &[u8], email: &str) -> Option<TOTP> {
    // An account name may not hold a colon; emails do not.
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        secret.to_vec(),
        Some("Prevent Assure".to_owned()),
        email.replace(':', ""),
    )
    .ok()
}

/// The secret as people type it into an app (base32).
pub fn secret_text(secret: &[u8]) -> String {
    let encoded = TotpSecret::Raw(secret.to_vec()).to_encoded().to_string();
    // In groups of four, easier to read and type.
    encoded
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The QR code of the otpauth:// address, drawn on the server as SVG (works without JavaScript).
pub fn qr_svg(secret: &[u8], email: &str) -> String {
    let Some(t) = totp(secret, email) else {
        return String::new();
    };
    match qrcode::QrCode::new(t.get_url().as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// The time step a code is for, if `code` is right for now (one step either way) and for a
/// step later than `last_step` (a code is used once).
pub fn accepts(secret: &[u8], email: &str, code: &str, last_step: i64, now: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, email)?;
    let step = (now / 30) as i64;
    [step - 1, step, step + 1]
        .into_iter()
        .filter(|s| *s > last_step && *s >= 0)
        .find(|s| {
            let expected = t.generate(*s as u64 * 30);
            // Compared in constant time: the codes are short, the loop is fixed.
            expected.len() == code.len()
                && expected
                    .bytes()
                    .zip(code.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
}

/// The code an authenticator app shows at `time` (for tests and the command line).
pub fn code_at(secret: &[u8], email: &str, time: u64) -> String {
    totp(secret, email)
        .map(|t| t.generate(time))
        .unwrap_or_default()
}

/// Reads a secret typed as base32 (as `secret_text` writes it).
pub fn secret_from_text(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    TotpSecret::Encoded(compact).to_bytes().ok()
}

/// Ten recovery codes ("k7m2q-9xpfa": 10 characters of 32, 50 bits each) and what is kept of
/// each for `user` (see [`MfaKey::recovery_hash`]).
pub fn new_recovery_codes(key: &MfaKey, user: uuid::Uuid) -> Vec<(String, Vec<u8>)> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..10)
        .map(|_| {
            let mut bytes = [0u8; 10];
            getrandom::fill(&mut bytes).expect("the operating system's random source");
            let chars: String = bytes
                .iter()
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .collect();
            let code = format!("{}-{}", &chars[..5], &chars[5..]);
            let hash = key.recovery_hash(user, &code);
            (code, hash)
        })
        .collect()
}

impl MfaKey {
    /// What is kept of a recovery code: an HMAC-SHA-256 of the account and the code's letters
    /// and digits (lower-cased), under a key derived from this one. A copy of the database alone
    /// gives nothing to try codes against; the same code for another account is another value.
    pub fn recovery_hash(&self, user: uuid::Uuid, code: &str) -> Vec<u8> {
        use hmac::{Hmac, Mac};
        let normal: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let subkey = Sha256::new()
            .chain_update(b"prevent-assure recovery codes")
            .chain_update(self.0)
            .finalize();
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&subkey).expect("HMAC takes a key of any length");
        mac.update(user.as_bytes());
        mac.update(normal.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_accepted_once_and_within_one_step() {
        let secret = new_secret();
        let now = 1_800_000_000u64;
        let code = code_at(&secret, "a@b.example", now);
        let step = accepts(&secret, "a@b.example", &code, 0, now).expect("accepted");
        assert_eq!(step, (now / 30) as i64);
        assert_eq!(
            accepts(&secret, "a@b.example", &code, step, now),
            None,
            "used once"
        );
        assert!(
            accepts(&secret, "a@b.example", &code, 0, now + 30).is_some(),
            "a step late"
        );
        assert_eq!(
            accepts(&secret, "a@b.example", &code, 0, now + 90),
            None,
            "too late"
        );
        assert_eq!(accepts(&secret, "a@b.example", "12345", 0, now), None);
        assert_eq!(accepts(&secret, "a@b.example", "abcdef", 0, now), None);
    }

    #[test]
    fn secrets_are_sealed_for_their_account() {
        let key = MfaKey::from_hex(&"ab".repeat(32)).expect("a key");
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = key.seal(me, b"twenty bytes secret!");
        assert_eq!(
            key.open(me, &sealed).as_deref(),
            Some(&b"twenty bytes secret!"[..])
        );
        assert_eq!(key.open(other, &sealed), None);
        let wrong = MfaKey::from_hex(&"cd".repeat(32)).expect("a key");
        assert_eq!(wrong.open(me, &sealed), None);
        assert!(MfaKey::from_hex("short").is_err());
    }

    #[test]
    fn the_secret_reads_back_and_recovery_codes_are_distinct() {
        let secret = new_secret();
        assert_eq!(secret_from_text(&secret_text(&secret)), Some(secret));
        let key = MfaKey::from_hex(&"ab".repeat(32)).expect("a key");
        let me = uuid::Uuid::new_v4();
        let codes = new_recovery_codes(&key, me);
        assert_eq!(codes.len(), 10);
        let unique: std::collections::BTreeSet<_> = codes.iter().map(|(c, _)| c.clone()).collect();
        assert_eq!(unique.len(), 10);
        assert_eq!(
            key.recovery_hash(me, &codes[0].0.to_uppercase()),
            codes[0].1
        );
        // Another account, or another key, keeps another value for the same code.
        assert_ne!(
            key.recovery_hash(uuid::Uuid::new_v4(), &codes[0].0),
            codes[0].1
        );
        let other = MfaKey::from_hex(&"cd".repeat(32)).expect("a key");
        assert_ne!(other.recovery_hash(me, &codes[0].0), codes[0].1);
    }
}
