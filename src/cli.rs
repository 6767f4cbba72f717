//! The command line: `serve`, `migrate`, `load-demo`.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{Config, ServeConfig};
use crate::{app, demo};

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
    },
    /// Run the database migrations and load the frameworks, then stop.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Create the demonstration regions, councils and cycles (idempotent).
    LoadDemo {
        #[command(flatten)]
        config: Config,
    },
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config, serve } => {
            let state = app::prepare(
                config.database_url.expose(),
                &config.frameworks_dir,
                serve.static_dir,
            )
            .await?;
            let listener = TcpListener::bind(serve.bind_addr)
                .await
                .with_context(|| format!("listening on {}", serve.bind_addr))?;
            let addr: SocketAddr = listener.local_addr()?;
            tracing::info!(%addr, "serving on http://{addr}");
            app::serve(listener, state, shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Migrate { config } => {
            let state = app::prepare(
                config.database_url.expose(),
                &config.frameworks_dir,
                Default::default(),
            )
            .await?;
            tracing::info!(
                frameworks = state.frameworks.all().len(),
                "database migrated and frameworks loaded"
            );
            Ok(())
        }
        Command::LoadDemo { config } => {
            let state = app::prepare(
                config.database_url.expose(),
                &config.frameworks_dir,
                Default::default(),
            )
            .await?;
            demo::load(&state.db).await?;
            tracing::info!("demo data loaded");
            Ok(())
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
