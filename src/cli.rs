//! The command line: `serve`, `migrate`, `load-demo`, `generate`, `score`.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{AccountConfig, Config, ServeConfig, default_dir};
use crate::framework::{self, Catalogue};
use crate::scoring::RagMapping;
use crate::scoring::request;
use crate::{app, demo, mail};

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

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            config,
            serve,
            accounts,
        } => {
            let mut state = app::prepare(&config, serve.static_dir).await?;
            state.caches.keep_views(serve.keep_views);
            state.settings = Arc::new(app::Settings {
                bench_floor: serve.bench_floor,
                ..settings(&accounts, serve.bind_addr)
            });
            let listener = TcpListener::bind(serve.bind_addr)
                .await
                .with_context(|| format!("listening on {}", serve.bind_addr))?;
            let addr: SocketAddr = listener.local_addr()?;
            match &accounts.smtp_url {
                Some(url) => {
                    let sender = mail::Sender::new(url, &accounts.mail_from)?;
                    tokio::spawn(sender.run(state.db.clone()));
                }
                None => tracing::info!("no SMTP_URL: mail stays in the outbox (/admin/outbox)"),
            }
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
