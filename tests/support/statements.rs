//! Counting the SQL statements a request costs: sqlx logs one event per statement.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

use super::{Client, Reply};

#[derive(Clone, Default)]
struct Statements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Tests that count take turns (hold it for the whole test): a thread-local subscriber in one
/// test and another's on a second thread upset tracing's per-callsite cache, and events go
/// uncounted.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Counts the statements run on this thread while its guard lives (several requests at once,
/// on the test's one thread).
#[derive(Clone, Default)]
pub struct Counter(Statements);

impl Counter {
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(Registry::default().with(self.0.clone()))
    }

    pub fn count(&self) -> usize {
        self.0.0.load(Ordering::SeqCst)
    }
}

/// A GET, which must answer 200, and the statements it cost.
pub async fn get_counting(client: &mut Client, uri: &str) -> (Reply, usize) {
    let counter = Statements::default();
    let _guard = tracing::subscriber::set_default(Registry::default().with(counter.clone()));
    let reply = client.get(uri).await;
    assert_eq!(reply.status, 200, "{uri}");
    (reply, counter.0.load(Ordering::SeqCst))
}

/// Records the text of every statement sqlx runs.
#[derive(Clone, Default)]
struct Texts(Arc<std::sync::Mutex<Vec<String>>>);

#[derive(Default)]
struct Fields {
    summary: String,
    statement: String,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            "db.statement" => self.statement = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "summary" if self.summary.is_empty() => self.summary = text,
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Texts {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut fields = Fields::default();
            event.record(&mut fields);
            // sqlx gives the whole text when it is longer than its one-line summary.
            let text = if fields.statement.trim().is_empty() {
                fields.summary
            } else {
                fields.statement.trim().to_owned()
            };
            self.0.lock().expect("texts").push(text);
        }
    }
}

/// A GET, which must answer 200, and the text of each statement it cost, in order.
pub async fn get_recording(client: &mut Client, uri: &str) -> (Reply, Vec<String>) {
    let texts = Texts::default();
    let _guard = tracing::subscriber::set_default(Registry::default().with(texts.clone()));
    let reply = client.get(uri).await;
    assert_eq!(reply.status, 200, "{uri}");
    let recorded = texts.0.lock().expect("texts").clone();
    (reply, recorded)
}
