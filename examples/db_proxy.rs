//! The database some milliseconds away, for `bench/delayed`: a TCP proxy between the server and
//! PostgreSQL that holds every message `ONE_WAY_MS` in each direction and counts round trips
//! (`tests/support/proxy.rs`, which `tests/round_trips.rs` also uses).
//!
//! ```sh
//! cargo run --release --example db_proxy -- LISTEN UPSTREAM ONE_WAY_MS STATS
//! ```
//!
//! A connection to `STATS` gets one line, `round_trips checks`, the counts since the start.

#[path = "../tests/support/proxy.rs"]
mod proxy;

use std::time::Duration;

use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, upstream, one_way, stats] = args.as_slice() else {
        eprintln!("usage: db_proxy LISTEN UPSTREAM ONE_WAY_MS STATS");
        std::process::exit(2);
    };
    let one_way: u64 = one_way.parse().expect("ONE_WAY_MS: whole milliseconds");
    let proxy = proxy::start(listen, upstream.clone(), Duration::from_millis(one_way)).await?;
    let stats = tokio::net::TcpListener::bind(stats).await?;
    eprintln!(
        "db_proxy: 127.0.0.1:{} -> {upstream}, {one_way} ms each way; counts on {}",
        proxy.port,
        stats.local_addr()?
    );
    loop {
        let (mut asker, _) = stats.accept().await?;
        let line = format!("{} {}\n", proxy.counts.round_trips(), proxy.counts.checks());
        let _ = asker.write_all(line.as_bytes()).await;
    }
}
