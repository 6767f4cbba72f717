//! The pages every public service links from its footer: the accessibility statement, the
//! privacy notice and the cookies page. Open to everyone, signed in or not.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::session::{ABSOLUTE_MINUTES, IDLE_MINUTES, cookie_name, device_cookie_name};
use crate::db::housekeeping::{SENT_MAIL_DAYS, SIGN_IN_ATTEMPT_DAYS, TOKEN_DAYS};
use crate::error::AppResult;
use crate::web::chrome::Chrome;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accessibility", get(accessibility))
        .route("/privacy", get(privacy))
        .route("/cookies", get(cookies))
}

#[derive(Template)]
#[template(path = "about/accessibility.html")]
struct AccessibilityPage {
    chrome: Chrome,
    support_email: String,
    idle_minutes: i32,
}

async fn accessibility(
    State(state): State<AppState>,
    who: Option<Principal>,
) -> AppResult<Html<String>> {
    Ok(Html(
        AccessibilityPage {
            chrome: Chrome::new(who.as_ref(), "/accessibility"),
            support_email: state.settings.support_email.clone(),
            idle_minutes: IDLE_MINUTES,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "about/privacy.html")]
struct PrivacyPage {
    chrome: Chrome,
    support_email: String,
    idle_minutes: i32,
    absolute_hours: i32,
    sign_in_attempt_days: i32,
    token_days: i32,
    sent_mail_days: i32,
    notification_days: i32,
}

async fn privacy(State(state): State<AppState>, who: Option<Principal>) -> AppResult<Html<String>> {
    Ok(Html(
        PrivacyPage {
            chrome: Chrome::new(who.as_ref(), "/privacy"),
            support_email: state.settings.support_email.clone(),
            idle_minutes: IDLE_MINUTES,
            absolute_hours: ABSOLUTE_MINUTES / 60,
            sign_in_attempt_days: SIGN_IN_ATTEMPT_DAYS,
            token_days: TOKEN_DAYS,
            sent_mail_days: SENT_MAIL_DAYS,
            notification_days: crate::db::housekeeping::NOTIFICATION_DAYS,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "about/cookies.html")]
struct CookiesPage {
    chrome: Chrome,
    cookie: &'static str,
    device_cookie: &'static str,
    challenge_cookie: &'static str,
    sso_cookie: &'static str,
    idle_minutes: i32,
    absolute_hours: i32,
}

async fn cookies(State(state): State<AppState>, who: Option<Principal>) -> AppResult<Html<String>> {
    Ok(Html(
        CookiesPage {
            chrome: Chrome::new(who.as_ref(), "/cookies"),
            cookie: cookie_name(state.settings.secure_cookies),
            device_cookie: device_cookie_name(state.settings.secure_cookies),
            challenge_cookie: crate::web::second_factor::challenge_cookie_name(
                state.settings.secure_cookies,
            ),
            sso_cookie: crate::web::sso::state_cookie_name(state.settings.secure_cookies),
            idle_minutes: IDLE_MINUTES,
            absolute_hours: ABSOLUTE_MINUTES / 60,
        }
        .render()?,
    ))
}
