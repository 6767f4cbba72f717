//! Headless Chromium (Debian's package) driven through chromedriver, against a real server on
//! a free port, with axe-core checking each page against WCAG 2.2 AA.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use prevent_assure::app::{self, AppState};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// The axe rule tags for WCAG 2.2 level AA (and everything below it).
pub const WCAG_22_AA: [&str; 6] = [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa",
];

/// A real server, a chromedriver and a browser session; dropped, all three stop.
pub struct Browser {
    pub client: Client,
    pub base: String,
    driver_url: String,
    _driver: Driver,
    _server: oneshot::Sender<()>,
}

/// Chromium's options: headless, and with JavaScript off when asked.
fn capabilities(javascript: bool) -> serde_json::Map<String, Value> {
    let profile =
        std::env::temp_dir().join(format!("prevent-assure-chrome-{}", uuid::Uuid::new_v4()));
    let mut options = json!({
        "binary": "/usr/bin/chromium",
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,1024", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
            format!("--user-data-dir={}", profile.display()),
        ]
    });
    if !javascript {
        options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    caps
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_server(state: AppState) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the server");
    serve_on(listener, state)
}

fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> (SocketAddr, oneshot::Sender<()>) {
    let addr = listener.local_addr().expect("the server's address");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        app::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await
        .expect("the server runs");
    });
    (addr, stop)
}

/// chromedriver in a process group of its own, with the browsers it starts: dropped (the test
/// passed, failed or panicked), the whole group is killed, so no Chromium outlives its test.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.0.start_kill();
    }
}

async fn start_driver() -> (Driver, String) {
    let port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver runs (scripts/test installs Debian's chromium-driver)");
    let driver = Driver(driver);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (driver, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

impl Browser {
    /// Serves `state` on a free port and opens a headless Chromium session.
    pub async fn start(state: AppState) -> Browser {
        Browser::start_with(state, true).await
    }

    /// As `start`, with JavaScript on or off.
    pub async fn start_with(state: AppState, javascript: bool) -> Browser {
        let (addr, server) = start_server(state).await;
        Browser::open(addr, server, javascript).await
    }

    /// Serves `state` on a listener the test bound already (so that the service's public
    /// address, which others redirect to, can name its port).
    pub async fn start_on(listener: tokio::net::TcpListener, state: AppState) -> Browser {
        Browser::start_on_with(listener, state, true).await
    }

    /// As `start_on`, with JavaScript on or off.
    pub async fn start_on_with(
        listener: tokio::net::TcpListener,
        state: AppState,
        javascript: bool,
    ) -> Browser {
        let (addr, server) = serve_on(listener, state);
        Browser::open(addr, server, javascript).await
    }

    async fn open(addr: SocketAddr, server: oneshot::Sender<()>, javascript: bool) -> Browser {
        let (driver, driver_url) = start_driver().await;
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(javascript))
            .connect(&driver_url)
            .await
            .expect("a Chromium session through chromedriver");
        Browser {
            client,
            base: format!("http://{addr}"),
            driver_url,
            _driver: driver,
            _server: server,
        }
    }

    /// A second, separate browser (its own cookies) on the same server: another person.
    pub async fn another(&self) -> Browser2 {
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(true))
            .connect(&self.driver_url)
            .await
            .expect("a second Chromium session");
        Browser2 {
            client,
            base: self.base.clone(),
        }
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    /// Runs axe-core on the current page with the WCAG 2.2 AA rules; returns the violations.
    pub async fn axe_violations(&self) -> Vec<Value> {
        let axe = include_str!("../vendor/axe.min.js");
        self.client
            .execute(axe, vec![])
            .await
            .expect("axe-core loads into the page");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: arguments[0] } })
                    .then(r => done(r.violations))
                    .catch(e => done([{ id: 'axe-error', help: String(e) }]));",
                vec![json!(WCAG_22_AA)],
            )
            .await
            .expect("axe-core runs");
        result.as_array().cloned().unwrap_or_default()
    }

    /// Fails the test with a readable list when axe finds any WCAG 2.2 AA violation.
    pub async fn assert_accessible(&self) {
        let violations = self.axe_violations().await;
        if !violations.is_empty() {
            let url = self
                .client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let list: Vec<String> = violations
                .iter()
                .map(|v| {
                    let nodes: Vec<String> = v["nodes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .take(3)
                        .map(|n| n["html"].as_str().unwrap_or("").chars().take(120).collect())
                        .collect();
                    format!(
                        "{} ({}): {}\n      {}",
                        v["id"],
                        v["impact"],
                        v["help"],
                        nodes.join("\n      ")
                    )
                })
                .collect();
            panic!(
                "axe found WCAG 2.2 AA violations on {url}:\n  {}",
                list.join("\n  ")
            );
        }
    }

    /// Saves a full-page screenshot under target/screenshots for people to look at.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Measured at the usual size: a window left tall by a longer page would stretch it.
        let _ = self.client.set_window_size(1280, 800).await;
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(1024)
            .min(16000) as u32;
        let _ = self.client.set_window_size(1280, height.max(800)).await;
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = super::root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }

    /// Saves a screenshot of one element (say, a table further down a long page).
    pub async fn screenshot_of(&self, selector: &str, name: &str) -> PathBuf {
        let element = self
            .client
            .find(fantoccini::Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"));
        let png = element.screenshot().await.expect("an element screenshot");
        let dir = super::root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    /// Makes the page as wide as a phone's (`width` CSS pixels), as Chromium's device mode does.
    pub async fn emulate_width(&self, width: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
    }

    /// Saves a screenshot of the whole page as a screen `width` CSS pixels wide shows it.
    pub async fn narrow_screenshot(&self, width: u32, name: &str) -> PathBuf {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(800)
            .clamp(800, 8000);
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
        let png = self.client.screenshot().await.expect("a screenshot");
        self.emulate_width(width).await;
        let dir = super::root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }

    /// Sends a Chrome DevTools command through chromedriver; its answer.
    async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.driver_post("goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
    }

    /// POSTs a command of this session to chromedriver; its answer's value.
    async fn driver_post(&self, command: &str, body: Value) -> Value {
        use http_body_util::BodyExt;
        let session = self
            .client
            .session_id()
            .await
            .expect("a session")
            .expect("a session id");
        let request =
            axum::http::Request::post(format!("{}/session/{session}/{command}", self.driver_url))
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(axum::body::Bytes::from(
                    body.to_string(),
                )))
                .expect("a request");
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(HttpConnector::new());
        let reply = client.request(request).await.expect("chromedriver answers");
        let bytes = reply
            .into_body()
            .collect()
            .await
            .expect("the body")
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).expect("JSON");
        value["value"].clone()
    }

    /// The current page printed to PDF by Chromium (WebDriver's Print Page) on A4, landscape or
    /// not, with backgrounds: what a person's "Print" or "Save as PDF" gives.
    pub async fn print_pdf(&self, landscape: bool) -> Vec<u8> {
        let body = json!({
            "orientation": if landscape { "landscape" } else { "portrait" },
            "background": true,
            "page": { "width": 21.0, "height": 29.7 },
            "margin": { "top": 0.0, "bottom": 0.0, "left": 0.0, "right": 0.0 },
        });
        let value = self.driver_post("print", body).await;
        base64_decode(value.as_str().expect("the PDF, base64"))
    }
}

/// Standard base64, as WebDriver sends a PDF or a screenshot.
pub fn base64_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| *c != b'=') {
        let Some(v) = alphabet.iter().position(|a| *a == c) else {
            continue;
        };
        buffer = (buffer << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// A second person's browser on the same server as a `Browser`.
pub struct Browser2 {
    pub client: Client,
    pub base: String,
}

impl Browser2 {
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }
}

// ----- What a person does on a page, for the browser tests ---------------------------------

/// Clears a field and types into it.
pub async fn fill(client: &Client, selector: &str, text: &str) {
    let field = client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    field.clear().await.expect("cleared");
    if !text.is_empty() {
        field.send_keys(text).await.expect("typed");
    }
}

/// Chooses an option of a select by its value.
pub async fn choose(client: &Client, selector: &str, value: &str) {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{selector} = {value}: {e}"));
}

/// Clicks an element.
pub async fn click(client: &Client, selector: &str) {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {selector}: {e}"));
}

/// Clicks a submit button and waits until the next page has replaced this one.
pub async fn submit(client: &Client, selector: &str) {
    let old = client.find(Locator::Css("html")).await.expect("the page");
    click(client, selector).await;
    for _ in 0..100 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{selector} did not lead to a new page");
}

/// The text of an element, waiting for it to appear.
pub async fn text(client: &Client, selector: &str) -> String {
    client
        .wait()
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .text()
        .await
        .expect("text")
}

/// The texts of every element matching the selector.
pub async fn texts(client: &Client, selector: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in client
        .find_all(Locator::Css(selector))
        .await
        .expect("elements")
    {
        out.push(e.text().await.expect("text"));
    }
    out
}

/// A field's current value.
pub async fn value(client: &Client, selector: &str) -> String {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .prop("value")
        .await
        .expect("a value")
        .unwrap_or_default()
}

/// Fetches a page of the site as the signed-in browser would download it: its bytes.
pub async fn download(client: &Client, path: &str) -> Vec<u8> {
    let encoded = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => {
               let s = ''; const a = new Uint8Array(b);
               for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
               done(btoa(s));
             });",
            vec![json!(path)],
        )
        .await
        .expect("fetched");
    let encoded = encoded.as_str().expect("base64").to_owned();
    base64_decode(&encoded)
}
