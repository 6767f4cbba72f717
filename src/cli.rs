//! The command line: `serve`, `migrate`, `load-demo`, `generate`, `score`, and setting up a
//! deployment: `add-admin`, `create-region`, `create-org`, `create-user`, `set-role`,
//! `disable-user`.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{AccountConfig, Config, MailConfig, ServeConfig, default_dir};
use crate::framework::{self, Catalogue};
use crate::scoring::RagMapping;
use crate::scoring::request;
use crate::{app, demo, mail, setup};

/// Prevent Assure: the Prevent duty self-assessment and its review.
#[derive(Debug, Parser)]
#[command(name = "prevent-assure", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the migrations, load the frameworks and serve the web application.
    Serve {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        serve: ServeConfig,
        #[command(flatten)]
        accounts: AccountConfig,
        #[command(flatten)]
        mail: MailConfig,
    },
    /// Invite an administrator: prints a one-time link (valid 7 days) to set their password.
    AddAdmin {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        accounts: AccountConfig,
        /// Their email address.
        #[arg(long)]
        email: String,
        /// Their name.
        #[arg(long)]
        name: String,
    },
    /// Add a region.
    CreateRegion {
        #[command(flatten)]
        config: Config,
        /// Its address part, e.g. north-west.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// Add a council to a region.
    CreateOrg {
        #[command(flatten)]
        config: Config,
        /// Its address part, e.g. ashbridge.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// The region's slug.
        #[arg(long)]
        region: String,
    },
    /// Add a person who can sign in at once, with one role; the password is read from the
    /// first line of standard input (never an argument, which others could see).
    CreateUser {
        #[command(flatten)]
        config: Config,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        role: RoleArgs,
    },
    /// Give an existing person another role.
    SetRole {
        #[command(flatten)]
        config: Config,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        role: RoleArgs,
    },
    /// Disable an account and end its sessions.
    DisableUser {
        #[command(flatten)]
        config: Config,
        #[arg(long)]
        email: String,
    },
    /// Run the database migrations and load the frameworks, then stop.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Create the demonstration regions, councils, people and cycles, and fill every demo
    /// council's self-assessment for each cycle (idempotent).
    LoadDemo {
        #[command(flatten)]
        config: Config,
    },
    /// Generate a national-scale data set for the benchmark suite (see bench/README.md).
    Generate {
        #[command(flatten)]
        config: Config,
        /// Councils, spread over the regions.
        #[arg(long, default_value_t = 350)]
        councils: u32,
        #[arg(long, default_value_t = 9)]
        regions: u32,
        /// Cycles, ending with this financial year.
        #[arg(long, default_value_t = 5)]
        cycles: u32,
        /// Actions per council and cycle.
        #[arg(long, default_value_t = 30)]
        actions: i32,
    },
    /// Suggest scores: read a council's criteria and statuses as JSON on standard input, write
    /// the suggestions, bands, RAG, blocking criteria and summary as JSON on standard output.
    /// Bad input gets a message on standard error and exit code 2. Needs no database.
    Score {
        /// Folder of framework files.
        #[arg(long, env = "FRAMEWORKS_DIR", default_value_os_t = default_dir("frameworks"))]
        frameworks_dir: PathBuf,
        /// Which RAG colour each band shows as.
        #[arg(long, env = "RAG_MAPPING", default_value_t = RagMapping::default())]
        rag_mapping: RagMapping,
    },
}

/// Exit code for input the command cannot use.
pub const BAD_INPUT: u8 = 2;

/// A role and where it is held.
#[derive(Debug, clap::Args)]
pub struct RoleArgs {
    /// lead, contributor, board, owner, signatory (with --org), adviser (with --region),
    /// channel_team or admin (with neither).
    #[arg(long)]
    role: String,
    /// The council's slug, for a council role.
    #[arg(long)]
    org: Option<String>,
    /// The region's slug, for an adviser.
    #[arg(long)]
    region: Option<String>,
    /// A contributor's benchmarks, comma-separated.
    #[arg(long, value_delimiter = ',')]
    sections: Vec<i32>,
}

impl RoleArgs {
    fn place(&self) -> setup::Place<'_> {
        setup::Place {
            org: self.org.as_deref(),
            region: self.region.as_deref(),
            sections: &self.sections,
        }
    }
}

/// What a set-up command says: done, or why not (exit code 2).
fn outcome<T>(
    result: Result<T, setup::SetupError>,
    done: impl FnOnce(T) -> String,
) -> anyhow::Result<ExitCode> {
    match result {
        Ok(value) => {
            println!("{}", done(value));
            Ok(ExitCode::SUCCESS)
        }
        Err(setup::SetupError::Bad(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(BAD_INPUT))
        }
        Err(setup::SetupError::Other(e)) => Err(e),
    }
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            config,
            serve,
            accounts,
            mail: mail_config,
        } => {
            let mut state = app::prepare(&config, serve.static_dir).await?;
            state.caches.keep_views(serve.keep_views);
            let retries = mail::Retries {
                first_wait_seconds: mail_config.mail_retry_seconds,
                max_attempts: mail_config.mail_max_attempts,
            };
            let timetable = crate::notify::Timetable {
                reminder_days: mail_config.reminder_days.clone(),
                digest_day: mail_config.digest_day,
                hour: mail_config.digest_hour,
                scheduled: mail_config.scheduled_mail,
            };
            let mfa_key = accounts
                .mfa_key
                .as_ref()
                .map(|k| crate::auth::second_factor::MfaKey::from_hex(k.expose()))
                .transpose()
                .map_err(|e| anyhow::anyhow!(e))?;
            if mfa_key.is_none() {
                if accounts.second_factor_required {
                    anyhow::bail!(
                        "SECOND_FACTOR_REQUIRED is on but MFA_KEY is not set: set MFA_KEY to 64 hexadecimal digits (openssl rand -hex 32), or SECOND_FACTOR_REQUIRED=false"
                    );
                }
                if crate::db::second_factor::any_in_use(&state.db).await? {
                    anyhow::bail!(
                        "some accounts have a second factor but MFA_KEY is not set: their secrets cannot be read without it"
                    );
                }
            }
            state.settings = Arc::new(app::Settings {
                mfa_key,
                second_factor_required: accounts.second_factor_required,
                bench_floor: serve.bench_floor,
                timetable: timetable.clone(),
                retries,
                smtp: accounts.smtp_url.is_some(),
                ..settings(&accounts, serve.bind_addr)
            });
            let listener = TcpListener::bind(serve.bind_addr)
                .await
                .with_context(|| format!("listening on {}", serve.bind_addr))?;
            let addr: SocketAddr = listener.local_addr()?;
            let sender = match &accounts.smtp_url {
                Some(url) => Some(mail::Sender::new(url, &accounts.mail_from, retries)?),
                None => {
                    tracing::info!("no SMTP_URL: mail stays in the outbox (/admin/outbox)");
                    None
                }
            };
            tokio::spawn(
                crate::notify::postman::Postman {
                    pool: state.db.clone(),
                    frameworks: state.frameworks.clone(),
                    public_url: state.settings.public_url.clone(),
                    timetable,
                    sender,
                    poll: std::time::Duration::from_secs(5),
                }
                .run(),
            );
            tokio::spawn(crate::db::housekeeping::run(
                state.db.clone(),
                crate::auth::session::IDLE_MINUTES,
            ));
            tracing::info!(%addr, "serving on http://{addr}");
            app::serve(listener, state, shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { config } => {
            let state = app::prepare(&config, Default::default()).await?;
            tracing::info!(
                frameworks = state.frameworks.all().len(),
                "database migrated and frameworks loaded"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::LoadDemo { config } => {
            let state = app::prepare(&config, Default::default()).await?;
            demo::load(&state.db).await?;
            let filled = demo::fill(&state.db).await?;
            tracing::info!(?filled, "demo data loaded");
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            config,
            councils,
            regions,
            cycles,
            actions,
        } => {
            let state = app::prepare(&config, Default::default()).await?;
            let scale = demo::Scale {
                councils,
                regions: regions.max(1),
                cycles: cycles.max(1),
                actions,
            };
            let filled = demo::generate(&state.db, scale).await?;
            tracing::info!(?filled, "data generated");
            Ok(ExitCode::SUCCESS)
        }
        Command::AddAdmin {
            config,
            accounts,
            email,
            name,
        } => {
            let state = app::prepare(&config, Default::default()).await?;
            let settings = settings(&accounts, ServeConfig::default_bind_addr());
            let link =
                crate::web::account::invite_admin(&state.db, &settings, &email, &name).await?;
            println!("Invitation for {email} (valid 7 days): {link}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Score {
            frameworks_dir,
            rag_mapping,
        } => score(&frameworks_dir, &rag_mapping),
        Command::CreateRegion { config, slug, name } => {
            let state = app::prepare(&config, Default::default()).await?;
            outcome(setup::create_region(&state.db, &slug, &name).await, |_| {
                format!("Region {slug} added")
            })
        }
        Command::CreateOrg {
            config,
            slug,
            name,
            region,
        } => {
            let state = app::prepare(&config, Default::default()).await?;
            outcome(
                setup::create_org(&state.db, &slug, &name, &region).await,
                |_| format!("Council {slug} added to {region}"),
            )
        }
        Command::CreateUser {
            config,
            email,
            name,
            role,
        } => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = crate::config::Secret::new(line.trim_end_matches(['\r', '\n']));
            let state = app::prepare(&config, Default::default()).await?;
            outcome(
                setup::create_user(
                    &state.db,
                    &email,
                    &name,
                    &role.role,
                    &role.place(),
                    password,
                )
                .await,
                |_| format!("{email} can sign in as {}", role.role),
            )
        }
        Command::SetRole {
            config,
            email,
            role,
        } => {
            let state = app::prepare(&config, Default::default()).await?;
            outcome(
                setup::set_role(&state.db, &email, &role.role, &role.place()).await,
                |added| {
                    if added {
                        format!("{email} is now also {}", role.role)
                    } else {
                        format!("{email} already had that role")
                    }
                },
            )
        }
        Command::DisableUser { config, email } => {
            let state = app::prepare(&config, Default::default()).await?;
            outcome(setup::disable_user(&state.db, &email).await, |_| {
                format!("{email} is disabled and signed out")
            })
        }
    }
}

/// The handlers' settings from the command line and environment.
fn settings(accounts: &AccountConfig, bind_addr: SocketAddr) -> app::Settings {
    app::Settings {
        public_url: accounts
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bind_addr}"))
            .trim_end_matches('/')
            .to_owned(),
        secure_cookies: accounts.cookie_secure,
        support_email: accounts.support_email.clone(),
        trusted_proxies: accounts.trusted_proxies.clone(),
        trusted_proxy_header: accounts.trusted_proxy_header,
        oidc_secrets: crate::config::oidc_secrets_from_env(),
        ..app::Settings::default()
    }
}

fn score(frameworks_dir: &Path, rags: &RagMapping) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::new(framework::load_dir(frameworks_dir)?);
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading standard input")?;
    let answer = request::parse(&input).and_then(|r| request::answer(&catalogue, &r, rags));
    match answer {
        Ok(response) => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &response).context("writing the answer")?;
            writeln!(out).context("writing the answer")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(bad) => {
            for fault in &bad.0 {
                eprintln!("error: {fault}");
            }
            Ok(ExitCode::from(BAD_INPUT))
        }
    }
}

/// Completes on Ctrl-C or SIGTERM, so requests in flight can finish.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
