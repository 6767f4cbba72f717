//! Outgoing mail: written to the outbox in the same transaction as what caused it, and sent by
//! SMTP in the background when SMTP_URL is set.

use std::time::Duration;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

use crate::config::Secret;
use crate::db;

/// Sends what waits in the outbox.
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Sender {
    pub fn new(url: &Secret, from: &str) -> anyhow::Result<Sender> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .context("SMTP_URL is not a valid SMTP address")?
            .build();
        let from = from.parse().context("MAIL_FROM is not a valid address")?;
        Ok(Sender { transport, from })
    }

    /// Every ten seconds, sends the waiting mail; a failure is recorded and retried (five times).
    pub async fn run(self, pool: PgPool) {
        loop {
            if let Err(e) = self.send_waiting(&pool).await {
                tracing::warn!(error = %e, "reading the outbox");
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    }

    async fn send_waiting(&self, pool: &PgPool) -> anyhow::Result<()> {
        for mail in db::outbox::unsent(pool, 20).await? {
            let message = mail
                .to_address
                .parse::<Mailbox>()
                .map_err(anyhow::Error::from)
                .and_then(|to| {
                    Message::builder()
                        .from(self.from.clone())
                        .to(to)
                        .subject(mail.subject.clone())
                        .body(mail.body.clone())
                        .map_err(anyhow::Error::from)
                });
            let result = match message {
                Ok(message) => self
                    .transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(anyhow::Error::from),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => db::outbox::mark_sent(pool, mail.id).await?,
                Err(e) => {
                    // The body holds one-time links: log only the id.
                    tracing::warn!(mail = %mail.id, error = %e, "sending mail");
                    db::outbox::mark_failed(pool, mail.id, &e.to_string()).await?;
                }
            }
        }
        Ok(())
    }
}
