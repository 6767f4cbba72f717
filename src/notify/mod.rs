//! Telling people when it is their turn. What happens is written as a notice in the same
//! transaction ([`tell`]); each server's postman ([`postman`]) turns notices into notifications
//! in the service and mail ([`dispatch`]), runs the scheduled reminders and digests
//! ([`schedule`]) and sends the mail. PostgreSQL coordinates the servers: a notice, a mail and
//! a period of a job are each claimed by one server (`FOR UPDATE SKIP LOCKED`), and every
//! message has an idempotency key (what happened, to whom, for which period).

pub mod dispatch;
pub mod message;
pub mod postman;
pub mod schedule;

use sqlx::PgExecutor;
use uuid::Uuid;

pub use message::Message;
pub use schedule::Timetable;

use crate::db;

/// What happened to an assessment that someone must hear of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Submitted,
    Returned,
    Agreed,
    Published,
    Accepted,
    SignOffRequested,
    Signed,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Submitted => "submitted",
            Kind::Returned => "returned",
            Kind::Agreed => "agreed",
            Kind::Published => "published",
            Kind::Accepted => "accepted",
            Kind::SignOffRequested => "sign_off_requested",
            Kind::Signed => "signed",
        }
    }
}

/// Queues the notice that `kind` happened to an assessment, caused by `actor`.
pub async fn tell<'c>(
    conn: impl PgExecutor<'c>,
    kind: Kind,
    assessment: Uuid,
    actor: Uuid,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    db::notices::queue(
        conn,
        &db::notices::NewNotice {
            kind: kind.code(),
            assessment: Some(assessment),
            actor: Some(actor),
            reason,
            ..Default::default()
        },
    )
    .await
}

/// Queues the notice that the adviser asked for more evidence on a benchmark.
pub async fn evidence_requested<'c>(
    conn: impl PgExecutor<'c>,
    assessment: Uuid,
    benchmark: i32,
    actor: Uuid,
) -> sqlx::Result<()> {
    db::notices::queue(
        conn,
        &db::notices::NewNotice {
            kind: "evidence_requested",
            assessment: Some(assessment),
            section_number: Some(benchmark),
            actor: Some(actor),
            ..Default::default()
        },
    )
    .await
}
