//! Each server's postman: turns notices into messages, runs the scheduled jobs, sends the mail.
//! Woken at once by `NOTIFY pa_notices` (a notice or a mail was queued, by any server), and
//! every few seconds in any case for retries and the timetable.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;

use super::{Timetable, dispatch, schedule};
use crate::framework::Catalogue;
use crate::mail::Sender;

pub struct Postman {
    pub pool: PgPool,
    pub frameworks: Arc<Catalogue>,
    pub public_url: String,
    pub timetable: Timetable,
    /// None: mail waits in the outbox (no SMTP_URL).
    pub sender: Option<Sender>,
    /// How long to wait for a wake-up before looking anyway.
    pub poll: Duration,
}

impl Postman {
    /// One round: notices, then (with `schedule`) the jobs that are due if this server runs
    /// them, then mail.
    pub async fn round(&self, schedule: bool) -> anyhow::Result<()> {
        dispatch::pending(&self.pool, &self.frameworks, &self.public_url).await?;
        if schedule && self.timetable.scheduled {
            schedule::run_due(
                &self.pool,
                &self.frameworks,
                &self.timetable,
                &self.public_url,
                OffsetDateTime::now_utc(),
            )
            .await?;
        }
        if let Some(sender) = &self.sender {
            sender.send_due(&self.pool).await?;
        }
        Ok(())
    }

    /// Runs until the process ends. A failure (the database away) is logged and tried again.
    pub async fn run(self) {
        let mut listener = None;
        // The timetable is looked at every half minute, not on every wake-up.
        let mut next_schedule = std::time::Instant::now();
        loop {
            if listener.is_none() {
                match crate::db::changes::listen_notices(&self.pool).await {
                    Ok(l) => listener = Some(l),
                    Err(e) => tracing::warn!(error = %e, "listening for notices"),
                }
            }
            let schedule = std::time::Instant::now() >= next_schedule;
            if schedule {
                next_schedule = std::time::Instant::now() + Duration::from_secs(30);
            }
            if let Err(e) = self.round(schedule).await {
                tracing::warn!(error = %e, "sending notifications");
            }
            match listener.as_mut() {
                Some(l) => match tokio::time::timeout(self.poll, l.try_recv()).await {
                    Ok(Ok(Some(_))) | Err(_) => {}
                    // The connection went: connect again next round.
                    Ok(Ok(None)) | Ok(Err(_)) => listener = None,
                },
                None => tokio::time::sleep(self.poll).await,
            }
        }
    }
}
