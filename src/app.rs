//! The application: its shared state, the router, and serving on a listener.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::cache::Caches;
use crate::config::Config;
use crate::db;
use crate::framework::{self, Catalogue, Framework};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub frameworks: Arc<Catalogue>,
    /// Shared, not copied: the state is cloned for every request's handler and layers.
    pub static_dir: Arc<Path>,
    pub settings: Arc<Settings>,
    /// Who is signed in and the places, kept in memory and kept true by notifications.
    pub caches: Arc<Caches>,
    /// Audit events as the trail words them (they never change once recorded).
    pub audit_rows: Arc<crate::web::audit_view::Worded>,
}

impl AppState {
    /// The state over a pool, with empty caches listening for changes (needs a Tokio runtime).
    pub fn new(
        db: PgPool,
        frameworks: Catalogue,
        static_dir: PathBuf,
        settings: Settings,
    ) -> AppState {
        let state = AppState {
            caches: Caches::start(&db),
            audit_rows: Arc::default(),
            db,
            frameworks: Arc::new(frameworks),
            static_dir: Arc::from(static_dir),
            settings: Arc::new(settings),
        };
        state
            .caches
            .write_downloads_with(crate::web::downloads::writer(&state));
        state
    }
}

/// Deployment settings the handlers need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address people reach the service at, for links in mail.
    pub public_url: String,
    /// Served over TLS: Secure cookies and HSTS.
    pub secure_cookies: bool,
    /// Failed sign-ins from one address in 15 minutes before it must wait.
    pub sign_in_limit_per_ip: i64,
    /// Failed sign-ins in a row that lock an account, and for how long.
    pub lock_after: i32,
    pub lock_minutes: i32,
    /// The RAG colour of each band.
    pub rags: crate::scoring::RagMapping,
    /// Whether the benchmark suite's floor route is served.
    pub bench_floor: bool,
    /// Where people write about accessibility problems and their personal data.
    pub support_email: String,
    /// When reminders and digests go.
    pub timetable: crate::notify::Timetable,
    /// How failed mail is retried.
    pub retries: crate::mail::Retries,
    /// Whether mail is sent by SMTP (else it waits in the outbox).
    pub smtp: bool,
    /// Reverse proxies whose `Forwarded`/`X-Forwarded-For` say who the client is.
    pub trusted_proxies: Vec<sqlx::types::ipnetwork::IpNetwork>,
    /// Which of the two headers they write (the other is never read).
    pub trusted_proxy_header: crate::auth::session::ProxyHeader,
    /// The key second-factor secrets are sealed with (MFA_KEY).
    pub mfa_key: Option<crate::auth::second_factor::MfaKey>,
    /// Whether advisers, the Channel team and administrators must have a second factor.
    pub second_factor_required: bool,
    /// Identity providers' client secrets by provider short name, from the environment
    /// (`OIDC_CLIENT_SECRET_<SHORT_NAME>`, upper case, hyphens as underscores).
    pub oidc_secrets: std::collections::BTreeMap<String, crate::config::Secret>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:3000".to_owned(),
            secure_cookies: false,
            sign_in_limit_per_ip: 100,
            lock_after: 10,
            lock_minutes: 15,
            rags: crate::scoring::RagMapping::default(),
            bench_floor: false,
            support_email: "support@prevent-assure.example".to_owned(),
            timetable: crate::notify::Timetable::default(),
            retries: crate::mail::Retries::default(),
            smtp: false,
            trusted_proxies: Vec::new(),
            trusted_proxy_header: crate::auth::session::ProxyHeader::XForwardedFor,
            mfa_key: None,
            second_factor_required: false,
            oidc_secrets: std::collections::BTreeMap::new(),
        }
    }
}

/// Loads and validates the framework files, stores them (idempotently), and returns every
/// stored framework. An invalid file stops here with a message naming the file and the fault.
pub async fn load_frameworks(pool: &PgPool, dir: &Path) -> anyhow::Result<Catalogue> {
    let files = framework::load_dir(dir)?;
    store_frameworks(pool, &files).await
}

/// Stores validated frameworks by code and edition (a restart changes nothing) and reads back
/// every stored one.
pub async fn store_frameworks(pool: &PgPool, files: &[Framework]) -> anyhow::Result<Catalogue> {
    for fw in files {
        let outcome = db::frameworks::store(pool, fw)
            .await
            .with_context(|| format!("storing framework {}", fw.code))?;
        tracing::info!(code = %fw.code, edition = %fw.edition, ?outcome, "framework loaded");
    }
    let stored = db::frameworks::load_all(pool)
        .await
        .context("reading the stored frameworks")?;
    Ok(Catalogue::new(stored))
}

/// Validates the framework files, connects, migrates and stores the frameworks: everything
/// `serve` needs before it listens. The files are checked first, so a faulty one stops
/// start-up before anything touches the database.
pub async fn prepare(config: &Config, static_dir: PathBuf) -> anyhow::Result<AppState> {
    let files = framework::load_dir(&config.frameworks_dir)?;
    let pool = db::connect_with(
        config.database_url.expose(),
        // The listeners hold theirs for as long as the server runs: the size asked for is
        // what requests and background work share.
        config.pool_size() + db::changes::LISTENERS,
        Duration::from_millis(config.database_acquire_timeout_ms),
    )
    .await
    .context("connecting to PostgreSQL (is DATABASE_URL right, and is the server running?)")?;
    db::MIGRATOR
        .run(&pool)
        .await
        .context("running the database migrations")?;
    let frameworks = store_frameworks(&pool, &files).await?;
    Ok(AppState::new(
        pool,
        frameworks,
        static_dir,
        Settings::default(),
    ))
}

/// The content security policy: no inline script, nothing from elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'; img-src 'self' data:";

/// The whole application as a router tests can call.
pub fn router(state: AppState) -> Router {
    let static_files = ServeDir::new(&state.static_dir);
    let mut routes = crate::web::routes();
    if state.settings.bench_floor {
        routes = routes.merge(crate::web::health::floor_router());
    }
    // Pages and exports may hold council data: no browser or proxy keeps a copy (a handler
    // that says otherwise, none does, would win). The static files are cached as usual.
    let routes = routes.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    let mut router = routes
        .nest_service("/static", static_files)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            settle_after_changes,
        ))
        .layer(axum::middleware::from_fn(keep_typing_on_outage))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::csrf::guard,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http());
    if state.settings.secure_cookies {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    router.with_state(state)
}

/// After a request that may have changed something, waits until this server has heard the
/// notifications of the change, so that the next request (the redirect's, typically) sees it.
async fn settle_after_changes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = next.run(request).await;
    // A request that failed on the server changed nothing to wait for (and the database may
    // be what failed).
    if changes && !response.status().is_server_error() {
        let carried = response
            .extensions()
            .get::<crate::cache::CarriedMarker>()
            .copied();
        match carried {
            Some(marker) => state.caches.settle_carried(&state.db, marker).await,
            None => state.caches.settle(&state.db).await,
        }
    }
    response
}

/// The largest form whose text an outage page shows back: a form's text, not an upload.
const TYPING_KEPT: usize = 2 * 1024 * 1024;

/// A form sent while the database is away answers 503 and is not saved: the page that says so
/// also shows what the person typed, so that nothing typed is lost (pages are `no-store`, so
/// the way back may load the form afresh). Forms of a known length (Content-Length) up to
/// [`TYPING_KEPT`] are held, a copy of the body dropped with the request: URL-encoded ones and
/// multipart ones (a benchmark page's, whose file parts are left out); a larger body (an
/// upload) passes as it is.
async fn keep_typing_on_outage(request: Request, next: Next) -> Response {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let multipart = content_type.starts_with("multipart/form-data");
    let held = request.method() == Method::POST
        && (multipart || content_type.starts_with("application/x-www-form-urlencoded"))
        && axum::body::HttpBody::size_hint(request.body())
            .upper()
            .is_some_and(|n| n <= TYPING_KEPT as u64);
    if !held {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, TYPING_KEPT).await else {
        return crate::error::error_page(StatusCode::BAD_REQUEST, None);
    };
    let response = next
        .run(Request::from_parts(
            parts,
            axum::body::Body::from(bytes.clone()),
        ))
        .await;
    if response
        .extensions()
        .get::<crate::error::DatabaseOutage>()
        .is_none()
    {
        return response;
    }
    let fields = if multipart {
        multipart_text(&content_type, bytes).await
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).ok()
    };
    match fields {
        Some(fields) => crate::error::unsaved_form_page(response, &fields),
        None => response,
    }
}

/// The text fields of a multipart form, in order; none of its files.
async fn multipart_text(
    content_type: &str,
    bytes: axum::body::Bytes,
) -> Option<Vec<(String, String)>> {
    use axum::extract::FromRequest;
    let request = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(bytes))
        .ok()?;
    let mut form = axum::extract::Multipart::from_request(request, &())
        .await
        .ok()?;
    let mut fields = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        if field.file_name().is_some() {
            continue;
        }
        let name = field.name().unwrap_or_default().to_owned();
        let Ok(text) = field.text().await else { break };
        fields.push((name, text));
    }
    Some(fields)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
