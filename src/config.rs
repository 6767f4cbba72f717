//! Settings from the environment; secrets typed so they never reach a log.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A value that must not be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where the application's files are, by default beside its source.
pub fn default_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// Settings shared by the commands.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// PostgreSQL connection URL (it may hold a password, so it is never logged).
    #[arg(long, env = "DATABASE_URL", value_parser = |s: &str| Ok::<_, String>(Secret::new(s)), hide_env_values = true)]
    pub database_url: Secret,

    /// Folder of framework files.
    #[arg(long, env = "FRAMEWORKS_DIR", default_value_os_t = default_dir("frameworks"))]
    pub frameworks_dir: PathBuf,

    /// Connections to PostgreSQL at most for requests and background work (default: twice
    /// the processor cores, at least 4); the server holds two more, which listen for changes
    /// and for mail. More connections than PostgreSQL has cores to run them make every
    /// statement slower.
    #[arg(long, env = "DATABASE_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: Option<u32>,

    /// Milliseconds a request waits for a free connection before it is told the service is
    /// unavailable (503, what it sent not saved).
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(50..=60000))]
    pub database_acquire_timeout_ms: u64,
}

impl Config {
    pub fn pool_size(&self) -> u32 {
        self.database_pool_size.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
            (2 * cores).max(4)
        })
    }
}

/// Settings of the web server.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address and port to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:3000")]
    pub bind_addr: SocketAddr,

    /// Folder of static files (CSS, JavaScript).
    #[arg(long, env = "STATIC_DIR", default_value_os_t = default_dir("static"))]
    pub static_dir: PathBuf,

    /// Serve `/bench/floor` (one trivial query, a tiny page, no sign-in) for the benchmark
    /// suite to measure the views against. Never set in production.
    #[arg(long, env = "BENCH_FLOOR", default_value_t = false)]
    pub bench_floor: bool,

    /// Keep what councils' pages and the national picture show in memory until it changes.
    /// Off, every view asks the database (the benchmark suite measures both).
    #[arg(long, env = "KEEP_VIEWS", default_value_t = true, action = clap::ArgAction::Set)]
    pub keep_views: bool,
}

impl ServeConfig {
    pub fn default_bind_addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 3000))
    }
}

/// Settings of sign-in and mail.
#[derive(Debug, Clone, clap::Args)]
pub struct AccountConfig {
    /// The address people use to reach the service, for links in mail (default: http://BIND_ADDR).
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Set when the service is reached over TLS: cookies are marked Secure and HSTS is sent.
    #[arg(long, env = "COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,

    /// SMTP server for outgoing mail, e.g. smtps://user:password@mail.example.org. Without it,
    /// mail waits in the outbox, which administrators read at /admin/outbox.
    #[arg(long, env = "SMTP_URL", value_parser = |s: &str| Ok::<_, String>(Secret::new(s)), hide_env_values = true)]
    pub smtp_url: Option<Secret>,

    /// The sender of outgoing mail.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Prevent Assure <no-reply@prevent-assure.invalid>"
    )]
    pub mail_from: String,

    /// The key second-factor secrets are encrypted with: 64 hexadecimal digits (32 random
    /// bytes, e.g. `openssl rand -hex 32`). Required once any account has a second factor, and
    /// when SECOND_FACTOR_REQUIRED is on. Never logged.
    #[arg(long, env = "MFA_KEY", value_parser = |s: &str| Ok::<_, String>(Secret::new(s)), hide_env_values = true)]
    pub mfa_key: Option<Secret>,

    /// Advisers, the Channel team and administrators must set up a second factor (TOTP) at
    /// their next sign-in before anything else.
    #[arg(long, env = "SECOND_FACTOR_REQUIRED", default_value_t = true, action = clap::ArgAction::Set)]
    pub second_factor_required: bool,

    /// Reverse proxies (addresses or CIDR blocks, comma-separated) in front of the server:
    /// only from these is the client's address taken from Forwarded / X-Forwarded-For.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<sqlx::types::ipnetwork::IpNetwork>,

    /// The one header the trusted proxies write the client's address into:
    /// `x-forwarded-for` (nginx's `$proxy_add_x_forwarded_for`) or `forwarded` (RFC 7239).
    /// Only that one is read: a proxy passes the other on as the client wrote it.
    #[arg(long, env = "TRUSTED_PROXY_HEADER", default_value = "x-forwarded-for", value_parser = parse_proxy_header)]
    pub trusted_proxy_header: crate::auth::session::ProxyHeader,

    /// Where people write about the service: accessibility problems, questions about their
    /// personal data. Shown on /accessibility and /privacy.
    #[arg(
        long,
        env = "SUPPORT_EMAIL",
        default_value = "support@prevent-assure.example"
    )]
    pub support_email: String,
}

/// When reminders and digests go, and how mail is retried.
#[derive(Debug, Clone, clap::Args)]
pub struct MailConfig {
    /// Days before a deadline on which the leads of councils that have not submitted are
    /// reminded, comma-separated.
    #[arg(long, env = "REMINDER_DAYS", value_delimiter = ',', default_value = "28,7,1",
          value_parser = clap::value_parser!(i32).range(0..=366))]
    pub reminder_days: Vec<i32>,

    /// The day of the weekly digests and advisers' lists.
    #[arg(long, env = "DIGEST_DAY", default_value = "monday", value_parser = parse_weekday)]
    pub digest_day: time::Weekday,

    /// The hour (0-23, UK time) at which reminders, lists and digests go.
    #[arg(long, env = "DIGEST_HOUR", default_value_t = 7, value_parser = clap::value_parser!(u8).range(0..=23))]
    pub digest_hour: u8,

    /// Whether this server sends the scheduled reminders and digests (any number of servers
    /// may; each is sent once). Off: only what people do sends mail.
    #[arg(long, env = "SCHEDULED_MAIL", default_value_t = true, action = clap::ArgAction::Set)]
    pub scheduled_mail: bool,

    /// Tries before a mail is given up and listed for administrators at /admin/notifications.
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(i32).range(1..=100))]
    pub mail_max_attempts: i32,

    /// Seconds before a failed mail is tried again, doubled after each failure (at most 6 hours).
    #[arg(long, env = "MAIL_RETRY_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=21600))]
    pub mail_retry_seconds: i64,
}

fn parse_weekday(s: &str) -> Result<time::Weekday, String> {
    use time::Weekday::*;
    match s.trim().to_ascii_lowercase().as_str() {
        "monday" | "mon" => Ok(Monday),
        "tuesday" | "tue" => Ok(Tuesday),
        "wednesday" | "wed" => Ok(Wednesday),
        "thursday" | "thu" => Ok(Thursday),
        "friday" | "fri" => Ok(Friday),
        "saturday" | "sat" => Ok(Saturday),
        "sunday" | "sun" => Ok(Sunday),
        _ => Err(format!("{s:?} is not a day of the week (monday … sunday)")),
    }
}

fn parse_proxy_header(s: &str) -> Result<crate::auth::session::ProxyHeader, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "x-forwarded-for" => Ok(crate::auth::session::ProxyHeader::XForwardedFor),
        "forwarded" => Ok(crate::auth::session::ProxyHeader::Forwarded),
        other => Err(format!(
            "{other:?} is not a header this server reads: x-forwarded-for or forwarded"
        )),
    }
}

fn parse_network(s: &str) -> Result<sqlx::types::ipnetwork::IpNetwork, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an address or CIDR block (e.g. 10.0.0.0/8)"))
}

/// The environment variable an identity provider's client secret is read from.
pub fn oidc_secret_variable(slug: &str) -> String {
    format!(
        "OIDC_CLIENT_SECRET_{}",
        slug.to_ascii_uppercase().replace('-', "_")
    )
}

/// Every `OIDC_CLIENT_SECRET_<SHORT_NAME>` in the environment, by the provider's short name.
pub fn oidc_secrets_from_env() -> std::collections::BTreeMap<String, Secret> {
    std::env::vars()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("OIDC_CLIENT_SECRET_")?;
            (!v.is_empty()).then(|| (name.to_ascii_lowercase().replace('_', "-"), Secret::new(v)))
        })
        .collect()
}
