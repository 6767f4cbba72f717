//! A real SMTP server for the mail tests: Python's aiosmtpd (installed by scripts/test), run
//! from `tests/support/smtp_server.py`, which records every message it accepts.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Smtp {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
    out: PathBuf,
    /// Lines the server printed ("holding" while it holds a connection).
    said: Arc<Mutex<Vec<String>>>,
}

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub message_id: String,
    pub subject: String,
    pub list_unsubscribe: String,
    pub list_unsubscribe_post: String,
    pub text: String,
    pub html: String,
}

/// A free port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Smtp {
    /// Starts a server; `args` make it fail or hold (see the script).
    pub fn start(args: &[&str]) -> Smtp {
        Smtp::start_on(free_port(), args)
    }

    pub fn start_on(port: u16, args: &[&str]) -> Smtp {
        let dir = super::root().join("target").join("smtp");
        std::fs::create_dir_all(&dir).expect("target/smtp");
        let out = dir.join(format!("{}-{port}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&out);
        let mut child =
            Command::new(std::env::var("SMTP_PYTHON").unwrap_or_else(|_| "python3".into()))
                .arg(super::root().join("tests/support/smtp_server.py"))
                .args(["--port", &port.to_string(), "--out"])
                .arg(&out)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3 runs the SMTP server (scripts/test installs aiosmtpd)");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let said = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let said = said.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if line.starts_with("ready") {
                        let _ = tx.send(());
                    }
                    said.lock().expect("lines").push(line);
                }
            });
        }
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the SMTP server starts (is aiosmtpd installed?)");
        Smtp {
            child,
            _stdin: stdin,
            port,
            out,
            said,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let Ok(text) = std::fs::read_to_string(&self.out) else {
            return Vec::new();
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("a JSON line");
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                Received {
                    to: v["to"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    message_id: s("message_id"),
                    subject: s("subject"),
                    list_unsubscribe: s("list_unsubscribe"),
                    list_unsubscribe_post: s("list_unsubscribe_post"),
                    text: s("text"),
                    html: s("html"),
                }
            })
            .collect()
    }

    /// Waits until at least `n` messages have arrived (or `limit` passes); all received.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > limit {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the server has printed `line`.
    pub fn wait_said(&self, line: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.said.lock().expect("lines").iter().any(|l| l == line) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
