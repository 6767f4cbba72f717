//! A TCP proxy between the server and PostgreSQL that counts round trips, and can hold each
//! message for a while in each direction to put the database some milliseconds away. Shared by
//! `tests/round_trips.rs` and `bench/delayed` (through `examples/db_proxy.rs`).
//!
//! A round trip is a turn of the conversation: what the server sends after PostgreSQL last
//! answered (however many packets it takes), then waits for. A turn that is only `Sync` (five
//! bytes: `S`, length 4) is the connection pool checking a connection: sqlx does so when a
//! connection is given back (after the statement, off the request's way: counted apart, as a
//! check) and, when asked to, before lending an idle one (a check straight after a check on
//! the same connection: on the request's way, so counted as a round trip).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The proxy's counts since it started.
#[derive(Default)]
pub struct Counts {
    turns: AtomicUsize,
    checks: AtomicUsize,
}

impl Counts {
    /// Round trips on requests' way: statements, transactions' BEGIN and COMMIT, and a pool's
    /// check of a connection before lending it.
    pub fn round_trips(&self) -> usize {
        self.turns.load(Ordering::SeqCst)
    }

    /// A pool's checks of a connection given back to it.
    pub fn checks(&self) -> usize {
        self.checks.load(Ordering::SeqCst)
    }
}

pub struct Proxy {
    pub port: u16,
    pub counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listens on `listen` (port 0: any free port) and forwards each connection to `upstream`,
/// holding every chunk `one_way` in each direction.
pub async fn start(listen: &str, upstream: String, one_way: Duration) -> std::io::Result<Proxy> {
    let listener = TcpListener::bind(listen).await?;
    let port = listener.local_addr()?.port();
    let counts = Arc::new(Counts::default());
    let shared = counts.clone();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let counts = shared.clone();
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(&upstream).await {
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    forward(client, server, counts, one_way).await;
                }
            });
        }
    });
    Ok(Proxy { port, counts, task })
}

const LONE_SYNC: [u8; 5] = [b'S', 0, 0, 0, 4];

async fn forward(client: TcpStream, server: TcpStream, counts: Arc<Counts>, one_way: Duration) {
    let (mut client_read, client_write) = client.into_split();
    let (mut server_read, server_write) = server.into_split();
    // Set when the client has spoken and PostgreSQL has not answered yet.
    let turn_open = Arc::new(AtomicBool::new(false));
    let mut last_was_check = false;
    let to_server = delayed_writer(server_write, one_way);
    let to_client = delayed_writer(client_write, one_way);

    let open = turn_open.clone();
    let upward = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if !open.swap(true, Ordering::SeqCst) {
                        let check = buffer[..n] == LONE_SYNC;
                        if check && !last_was_check {
                            counts.checks.fetch_add(1, Ordering::SeqCst);
                        } else {
                            counts.turns.fetch_add(1, Ordering::SeqCst);
                        }
                        last_was_check = check;
                    }
                    if to_server
                        .send((Instant::now(), buffer[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    let downward = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    turn_open.store(false, Ordering::SeqCst);
                    if to_client
                        .send((Instant::now(), buffer[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    tokio::select! {
        () = upward => {}
        () = downward => {}
    }
}

/// A task that writes each chunk to `to` once it is `delay` old, in order. Tokio's timers
/// wake on whole milliseconds, rounding up, so a sleep alone made each 5 ms leg about 6.3 ms;
/// the last millisecond is waited out by yielding, which holds the delay to within a few
/// microseconds of what was asked.
fn delayed_writer(
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) -> mpsc::UnboundedSender<(Instant, Vec<u8>)> {
    let (send, mut receive) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    tokio::spawn(async move {
        while let Some((read_at, bytes)) = receive.recv().await {
            if !delay.is_zero() {
                let due = read_at + delay;
                if let Some(early) = due.checked_sub(Duration::from_millis(1)) {
                    tokio::time::sleep_until(early).await;
                }
                while Instant::now() < due {
                    tokio::task::yield_now().await;
                }
            }
            if to.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    });
    send
}
