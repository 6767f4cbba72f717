//! Outgoing mail: written to the outbox in the same transaction as what caused it, and sent by
//! SMTP in the background when SMTP_URL is set, by whichever server claims it first.

use std::time::Duration;

use anyhow::Context;
use lettre::message::header::{self, ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

use crate::config::Secret;
use crate::db;

/// How failures are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    /// The wait after the first failure, doubled after each further one (at most six hours).
    pub first_wait_seconds: i64,
    /// Tries before a mail is given up and listed for administrators.
    pub max_attempts: i32,
}

impl Default for Retries {
    fn default() -> Self {
        Retries {
            first_wait_seconds: 60,
            max_attempts: 8,
        }
    }
}

/// Sends what waits in the outbox.
#[derive(Clone)]
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    retries: Retries,
    /// The host part of Message-IDs.
    host: String,
}

/// `List-Unsubscribe` (RFC 2369) with the one-click POST of RFC 8058.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

impl Sender {
    pub fn new(url: &Secret, from: &str, retries: Retries) -> anyhow::Result<Sender> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .context("SMTP_URL is not a valid SMTP address")?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = from.parse().context("MAIL_FROM is not a valid address")?;
        let host = from.email.domain().to_owned();
        Ok(Sender {
            transport,
            from,
            retries,
            host,
        })
    }

    /// Sends every mail that is due, one transaction each, so that a mail is marked sent in
    /// the transaction that holds it: a server stopped mid-send leaves it waiting, never
    /// sends it twice to SMTP from two servers. How many were sent.
    pub async fn send_due(&self, pool: &PgPool) -> anyhow::Result<usize> {
        let mut sent = 0;
        // Bounded, so that a long queue does not hold up notices and schedules.
        for _ in 0..200 {
            let mut tx = pool.begin().await?;
            let Some(mail) = db::outbox::claim_due(&mut tx).await? else {
                break;
            };
            let failed = match self.send(&mail).await {
                Ok(()) => {
                    db::outbox::mark_sent(&mut tx, mail.id).await?;
                    sent += 1;
                    false
                }
                Err(e) => {
                    // The body may hold one-time links: log only the id.
                    tracing::warn!(mail = %mail.id, attempts = mail.attempts + 1, error = %e, "sending mail");
                    db::outbox::mark_failed(
                        &mut tx,
                        mail.id,
                        &e.to_string(),
                        self.retries.first_wait_seconds,
                        self.retries.max_attempts,
                    )
                    .await?;
                    true
                }
            };
            tx.commit().await?;
            if failed {
                // The server is likely down: try the rest later.
                break;
            }
        }
        Ok(sent)
    }

    async fn send(&self, mail: &db::outbox::Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail.to_address.parse()?;
        // The same Message-ID on every try, so that a receiver can tell a repeat.
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@{}>", mail.id, self.host)));
        if let Some(url) = &mail.list_unsubscribe {
            builder = builder
                .header(ListUnsubscribe(url.clone()))
                .header(ListUnsubscribePost);
        }
        let message = match &mail.html_body {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.body.clone(),
                html.clone(),
            ))?,
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .header(header::ContentTransferEncoding::QuotedPrintable)
                    .body(mail.body.clone()),
            )?,
        };
        self.transport.send(message).await?;
        Ok(())
    }
}
