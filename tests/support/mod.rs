//! Shared by the integration tests: the application over a test database, requests through the
//! router, and a real server driven by headless Chromium with axe-core.

#![allow(dead_code)]

pub mod browser;
pub mod office;
pub mod oidc;
pub mod proxy;
pub mod smtp;
pub mod statements;

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use prevent_assure::app::{self, AppState};
use sqlx::PgPool;
use tower::ServiceExt;

/// The repository root, where `frameworks/` and `static/` live.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn frameworks_dir() -> PathBuf {
    root().join("frameworks")
}

/// The application state over a (migrated, per-test) database, with the real framework files.
pub async fn state(pool: PgPool) -> AppState {
    let frameworks = app::load_frameworks(&pool, &frameworks_dir())
        .await
        .expect("the framework files load");
    AppState::new(
        pool,
        frameworks,
        root().join("static"),
        prevent_assure::app::Settings::default(),
    )
}

/// The address of a test's own database (sqlx::test made it), on the server DATABASE_URL
/// names: for programs the test starts (the binary, a pool through a proxy).
pub async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .expect("the database");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let (server, _) = base.rsplit_once('/').expect("a database URL");
    format!("{server}/{name}")
}

/// A response with its body read.
pub struct Reply {
    pub bytes: Vec<u8>,
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn html(&self) -> scraper::Html {
        scraper::Html::parse_document(&self.body)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends a GET through the router, as the server would.
pub async fn get(router: &Router, uri: &str) -> Reply {
    let request = Request::get(uri)
        .header(header::HOST, "localhost")
        .body(Body::empty())
        .expect("a valid request");
    send(router, request).await
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body is readable")
        .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// The texts of every element matching a CSS selector, whitespace collapsed.
pub fn texts(html: &scraper::Html, selector: &str) -> Vec<String> {
    let selector = scraper::Selector::parse(selector).expect("a valid selector");
    html.select(&selector)
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The path (from `prefix` on) of the first link in a mail's text that contains `prefix`, such
/// as an invitation's `/invitations/…` or a reset's `/password-reset/…`.
pub fn link_path(body: &str, prefix: &str) -> String {
    let link = body
        .split_whitespace()
        .find(|w| w.contains(prefix))
        .unwrap_or_else(|| panic!("a {prefix} link in the mail:\n{body}"));
    link[link.find(prefix).expect("the prefix")..].to_owned()
}

/// An attribute of the first element matching a CSS selector.
pub fn attr(html: &scraper::Html, selector: &str, name: &str) -> Option<String> {
    let selector = scraper::Selector::parse(selector).expect("a valid selector");
    html.select(&selector)
        .next()
        .and_then(|e| e.value().attr(name))
        .map(str::to_owned)
}

/// Adds `n` councils to North Vale ("Extra Council 00", slug `extra-00`, and on), as
/// national-scale tests need; their ids.
pub async fn extra_councils(pool: &PgPool, n: usize) -> Vec<uuid::Uuid> {
    let mut conn = pool.acquire().await.expect("a connection");
    let region = prevent_assure::db::places::region_id(&mut conn, "north-vale")
        .await
        .expect("region")
        .expect("north vale");
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(
            prevent_assure::db::places::upsert_organisation(
                &mut conn,
                &format!("extra-{i:02}"),
                &format!("Extra Council {i:02}"),
                region,
            )
            .await
            .expect("a council"),
        );
    }
    ids
}

/// The password every test account gets.
pub const PASSWORD: &str = "lantern-orchard-47-quietly";

/// State with the demo places and people loaded (demo password: `demo::DEMO_PASSWORD`).
pub async fn demo_state(pool: PgPool) -> AppState {
    let state = state(pool).await;
    prevent_assure::demo::load(&state.db)
        .await
        .expect("the demo data loads");
    state
}

/// The router as the server runs it, with the client address the server would see.
pub fn router_from(state: AppState, ip: [u8; 4]) -> Router {
    app::router(state).layer(axum::extract::connect_info::MockConnectInfo(
        std::net::SocketAddr::from((ip, 40000)),
    ))
}

/// A browser-like client: keeps the session cookie, and sends forms as a page of the site would.
pub struct Client {
    pub router: Router,
    pub cookie: Option<String>,
}

impl Client {
    pub fn new(router: Router) -> Client {
        Client {
            router,
            cookie: None,
        }
    }

    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "localhost");
        if let Some(cookie) = &self.cookie {
            builder = builder.header(header::COOKIE, cookie.as_str());
        }
        builder
    }

    pub async fn get(&mut self, uri: &str) -> Reply {
        let request = self
            .request("GET", uri)
            .body(Body::empty())
            .expect("a request");
        self.send(request).await
    }

    /// Posts a form from a page of this site.
    pub async fn post(&mut self, uri: &str, form: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded::to_string(form).expect("a form");
        let request = self
            .request("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, "http://localhost")
            .body(Body::from(body))
            .expect("a request");
        self.send(request).await
    }

    /// Sends a request, keeping every cookie the reply sets (the session's and the device's)
    /// as a browser would, and dropping those it clears.
    pub async fn send(&mut self, request: Request<Body>) -> Reply {
        let reply = send(&self.router, request).await;
        let mut jar: Vec<(String, String)> = self
            .cookie
            .as_deref()
            .unwrap_or_default()
            .split("; ")
            .filter_map(|c| c.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for set in reply
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let Some((name, value)) = set.split(';').next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            jar.retain(|(k, _)| k != name);
            if !set.contains("Max-Age=0") {
                jar.push((name.to_owned(), value.to_owned()));
            }
        }
        self.cookie = (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        });
        reply
    }

    /// The session cookie alone ("pa_session=…"), if the client has one.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookie.as_deref().and_then(|c| {
            c.split("; ")
                .find(|p| p.starts_with("pa_session=") || p.starts_with("__Host-pa_session="))
                .map(str::to_owned)
        })
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        self.post("/login", &[("email", email), ("password", password)])
            .await
    }
}

/// A client signed in with the demo password (as a person of the demo data).
pub async fn signed_in(router: &Router, email: &str) -> Client {
    let mut client = Client::new(router.clone());
    assert_eq!(
        client
            .sign_in(email, prevent_assure::demo::DEMO_PASSWORD)
            .await
            .status,
        303,
        "{email} signs in"
    );
    client
}

/// Rates every statement of a Channel statement Green, key area by key area, through its pages.
pub async fn all_green(lead: &mut Client, statement: &str) {
    for n in 1..=5 {
        let page = format!("{statement}/key-areas/{n}");
        let html = lead.get(&page).await.html();
        let codes: Vec<String> = texts(&html, ".app-question__code");
        let changes: Vec<(String, String)> = codes
            .iter()
            .map(|c| (format!("status-{c}"), "green".to_owned()))
            .collect();
        let pairs: Vec<(&str, &str)> = changes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let saved = lead
            .submit_page(
                &page,
                &format!("form[action$='/key-areas/{n}']"),
                &pairs,
                "save",
            )
            .await;
        assert_eq!(saved.status, 303, "key area {n}");
    }
}

/// Where a redirect points.
pub fn location(reply: &Reply) -> &str {
    reply.header("location").unwrap_or("")
}

/// State with the demo places and people and every demo council's assessments filled, as
/// `load-demo` leaves them.
pub async fn full_demo_state(pool: PgPool) -> AppState {
    let state = demo_state(pool).await;
    prevent_assure::demo::fill(&state.db)
        .await
        .expect("the demo assessments fill");
    state
}

/// What a browser would send for a form of the page: every named input, select and textarea
/// with its current value (checked boxes and radios only, the selected option), in page order.
pub fn form_fields(html: &scraper::Html, form: &str) -> Vec<(String, String)> {
    let form_selector = scraper::Selector::parse(form).expect("a valid selector");
    let fields = scraper::Selector::parse("input[name], select[name], textarea[name]")
        .expect("a valid selector");
    let option = scraper::Selector::parse("option").expect("a valid selector");
    let Some(form) = html.select(&form_selector).next() else {
        panic!("no form {form:?} on the page");
    };
    let mut out = Vec::new();
    for field in form.select(&fields) {
        let el = field.value();
        let name = el.attr("name").unwrap_or_default().to_owned();
        if el.attr("disabled").is_some() {
            continue;
        }
        match el.name() {
            "input" => {
                let kind = el.attr("type").unwrap_or("text");
                if matches!(kind, "submit" | "button" | "file") {
                    continue;
                }
                if matches!(kind, "checkbox" | "radio") && el.attr("checked").is_none() {
                    continue;
                }
                out.push((name, el.attr("value").unwrap_or_default().to_owned()));
            }
            "select" => {
                let options: Vec<_> = field.select(&option).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.value().attr("selected").is_some())
                    .or(options.first());
                if let Some(o) = chosen {
                    let value = o
                        .value()
                        .attr("value")
                        .map(str::to_owned)
                        .unwrap_or_else(|| o.text().collect());
                    out.push((name, value));
                }
            }
            _ => {
                // A textarea's first newline is not part of its value.
                let text: String = field.text().collect();
                out.push((name, text.strip_prefix('\n').unwrap_or(&text).to_owned()));
            }
        }
    }
    out
}

/// Sets a field of a form (replacing every value it had), or adds it.
pub fn set_field(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_owned(), value.to_owned()));
}

impl Client {
    /// Loads a page, fills in its form `form` as `changes` say, and presses the button with
    /// `intent` (the form's own fields kept as the page had them): what a person does.
    pub async fn submit_page(
        &mut self,
        page: &str,
        form: &str,
        changes: &[(&str, &str)],
        intent: &str,
    ) -> Reply {
        let html = self.get(page).await.html();
        let mut fields = form_fields(&html, form);
        for (name, value) in changes {
            set_field(&mut fields, name, value);
        }
        let action = {
            let selector = scraper::Selector::parse(form).expect("a valid selector");
            html.select(&selector)
                .next()
                .and_then(|f| f.value().attr("action"))
                .unwrap_or(page)
                .to_owned()
        };
        set_field(&mut fields, "intent", intent);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(&action, &pairs).await
    }
}
