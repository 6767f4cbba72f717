//! The session cookie and the extractors that turn it into the signed-in person.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{COOKIE, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::types::ipnetwork::IpNetwork;

use super::{Membership, Principal, Role, hash_token, new_token};
use crate::app::AppState;
use crate::db;
use crate::error::AppError;

/// A session ends after 30 minutes without a request…
pub const IDLE_MINUTES: i32 = 30;
/// …and 12 hours after sign-in, whatever the activity.
pub const ABSOLUTE_MINUTES: i32 = 12 * 60;

/// The cookie's name: with the `__Host-` prefix when it is Secure, which pins it to this host.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pa_session"
    } else {
        "pa_session"
    }
}

/// The value of the first cookie of this name the request carries.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A short-lived cookie of the sign-in steps (a second-factor challenge, a single sign-on
/// state): HttpOnly, SameSite=Lax, Secure over TLS; `max_age` 0 removes it.
pub fn short_cookie(
    name: &str,
    value: &str,
    max_age: u32,
    secure: bool,
) -> (axum::http::HeaderName, HeaderValue) {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    if secure {
        cookie.push_str("; Secure");
    }
    (
        SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("a cookie of URL-safe characters"),
    )
}

/// The device cookie: set at each sign-in, for a year, so that the account knows the browser.
pub fn device_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pa_device"
    } else {
        "pa_device"
    }
}

/// The hash of the device cookie this request carries, if any.
pub fn presented_device(headers: &HeaderMap, secure: bool) -> Option<Vec<u8>> {
    cookie_value(headers, device_cookie_name(secure))
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|v| hash_token(&v))
}

/// A new device cookie's value and hash, and its Set-Cookie header.
pub fn new_device_cookie(secure: bool) -> (Vec<u8>, (axum::http::HeaderName, HeaderValue)) {
    let (token, hash) = new_token();
    let mut cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000",
        device_cookie_name(secure)
    );
    if secure {
        cookie.push_str("; Secure");
    }
    (
        hash,
        (
            SET_COOKIE,
            HeaderValue::from_str(&cookie).expect("a cookie of hex digits is a valid header"),
        ),
    )
}

/// The hash of the session id this request carries, if any.
pub fn presented_hash(headers: &HeaderMap, secure: bool) -> Option<Vec<u8>> {
    cookie_value(headers, cookie_name(secure)).map(|v| hash_token(&v))
}

fn set_cookie(value: &str, secure: bool, clear: bool) -> HeaderValue {
    let mut cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax",
        cookie_name(secure)
    );
    if secure {
        cookie.push_str("; Secure");
    }
    if clear {
        cookie.push_str("; Max-Age=0");
    }
    HeaderValue::from_str(&cookie).expect("a cookie of hex digits is a valid header")
}

/// Starts a new session for a user (a new id: any earlier one is not reused) and returns the
/// Set-Cookie header.
pub async fn start(
    state: &AppState,
    user_id: uuid::Uuid,
    ip: Option<IpNetwork>,
    headers: &HeaderMap,
) -> sqlx::Result<(axum::http::HeaderName, HeaderValue)> {
    let (token, hash) = new_token();
    let agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect::<String>();
    db::sessions::insert(&state.db, &hash, user_id, ABSOLUTE_MINUTES, ip, &agent).await?;
    Ok((
        SET_COOKIE,
        set_cookie(&token, state.settings.secure_cookies, false),
    ))
}

/// The Set-Cookie header that removes the cookie from the browser.
pub fn clear(state: &AppState) -> (axum::http::HeaderName, HeaderValue) {
    (
        SET_COOKIE,
        set_cookie("", state.settings.secure_cookies, true),
    )
}

/// Loads the person behind a session cookie, if it is live and the account is enabled: from
/// the kept copy when there is a fresh one (see `crate::cache`), else from the database.
async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, AppError> {
    let Some(hash) = presented_hash(headers, state.settings.secure_cookies) else {
        return Ok(None);
    };
    if let Some(kept) = state.caches.principal(&hash) {
        return Ok(Some(kept));
    }
    let generation = state.caches.generation();
    let rows = db::sessions::signed_in(&state.db, &hash, IDLE_MINUTES).await?;
    let Some(first) = rows.first() else {
        db::sessions::delete(&state.db, &hash).await?;
        return Ok(None);
    };
    if first.disabled {
        db::sessions::delete_for_user(&state.db, first.user_id, None).await?;
        return Ok(None);
    }
    // A kept copy is used until the first of the session's two limits, never past either.
    let idle_ends = first.last_used + time::Duration::minutes(i64::from(IDLE_MINUTES));
    let (user_id, email, display_name, expires_at, unread) = (
        first.user_id,
        first.email.clone(),
        first.display_name.clone(),
        first.expires_at.min(idle_ends),
        first.unread,
    );
    let memberships = rows
        .into_iter()
        .filter_map(|r| {
            Some(Membership {
                id: r.membership_id?,
                role: r.role?.parse::<Role>().ok()?,
                organisation_id: r.organisation_id,
                organisation_slug: r.organisation_slug,
                organisation_name: r.organisation_name,
                region_id: r.region_id,
                region_slug: r.region_slug,
                region_name: r.region_name,
                sections: r.sections.unwrap_or_default(),
            })
        })
        .collect();
    let principal = Principal {
        user_id,
        email,
        display_name,
        memberships,
        session_hash: hash,
        unread,
    };
    state
        .caches
        .keep_principal(generation, &principal, expires_at);
    Ok(Some(principal))
}

/// Anyone not signed in is sent to the sign-in page.
pub struct SignInFirst;

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match principal(state, &parts.headers).await {
            Ok(Some(p)) => Ok(p),
            // A form sent after the session ended: say plainly that it was not saved (the
            // browser's Back button still holds the typing) rather than dropping it silently.
            Ok(None) if !matches!(parts.method, Method::GET | Method::HEAD) => {
                Err(crate::error::message_page(
                    StatusCode::UNAUTHORIZED,
                    "You have been signed out",
                    "You were signed out, so what you just sent was not saved. Use your browser's Back button to get your typing back and copy it, then sign in again and send it.",
                ))
            }
            Ok(None) => Err(SignInFirst.into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl OptionalFromRequestParts<AppState> for Principal {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        principal(state, &parts.headers)
            .await
            .map_err(IntoResponse::into_response)
    }
}

/// The address the request came from, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpNetwork>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .ok()
            .map(|ConnectInfo(addr)| {
                IpNetwork::from(client_address(
                    addr.ip(),
                    &parts.headers,
                    &state.settings.trusted_proxies,
                    state.settings.trusted_proxy_header,
                ))
            });
        Ok(ClientIp(ip))
    }
}

/// The header trusted proxies write the client's address into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    XForwardedFor,
    Forwarded,
}

/// The client's address: the peer's, unless the peer is one of the trusted proxies; then the
/// address that proxy saw (the right-most of the one header the proxies write, each appending
/// what it saw), skipping further trusted proxies. Whatever a client writes in that header
/// itself is further left, so it is never taken; the other header, which a proxy passes on as
/// the client wrote it, is never read.
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[IpNetwork],
    header: ProxyHeader,
) -> std::net::IpAddr {
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut chain = forwarded_for(headers, header);
    let mut current = peer;
    while is_trusted(current) {
        match chain.pop() {
            Some(Some(ip)) => current = ip,
            // Missing, or not an address: the proxy's own is all that is known.
            _ => return current,
        }
    }
    current
}

/// The addresses proxies recorded, left to right (None where one is not an address).
fn forwarded_for(
    headers: &axum::http::HeaderMap,
    header: ProxyHeader,
) -> Vec<Option<std::net::IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    };
    if header == ProxyHeader::Forwarded {
        return values("forwarded")
            .iter()
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    if !k.trim().eq_ignore_ascii_case("for") {
                        return None;
                    }
                    parse_node(v.trim().trim_matches('"'))
                })
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .map(|v| parse_node(v))
        .collect()
}

/// "203.0.113.7", "203.0.113.7:4711", "[2001:db8::1]:4711", "2001:db8::1".
fn parse_node(v: &str) -> Option<std::net::IpAddr> {
    if let Ok(ip) = v.parse() {
        return Some(ip);
    }
    if let Ok(addr) = v.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    v.strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}
