//! A real OpenID Connect provider for the single sign-on tests: panva's oidc-provider from the
//! npm registry (installed by scripts/test), run under the machine's Node.js from
//! `tests/support/oidc/provider.mjs`, and a way to sign in at it as a person would.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use super::smtp::free_port;

pub struct Provider {
    child: Child,
    _stdin: ChildStdin,
    pub issuer: String,
}

/// A client registered at the provider.
pub struct Registration<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub redirect_uri: &'a str,
    pub post_logout_redirect_uri: &'a str,
}

/// Who signs in at the provider's login prompt.
pub struct Person<'a> {
    pub subject: &'a str,
    pub email: &'a str,
    pub verified: bool,
    pub mfa: bool,
}

impl Provider {
    pub fn start(clients: &[Registration<'_>]) -> Provider {
        let port = free_port();
        let clients: Vec<serde_json::Value> = clients
            .iter()
            .map(|c| {
                serde_json::json!({
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "redirect_uris": [c.redirect_uri],
                    "post_logout_redirect_uris": [c.post_logout_redirect_uri],
                })
            })
            .collect();
        let dir = super::root().join("tests/support/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "oidc-provider is installed (scripts/test runs npm ci in tests/support/oidc)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .arg(port.to_string())
            .arg(serde_json::Value::Array(clients).to_string())
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs the identity provider");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("ready ") {
                    let _ = tx.send(issuer.to_owned());
                }
            }
        });
        let issuer = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the identity provider starts");
        Provider {
            child,
            _stdin: stdin,
            issuer,
        }
    }

    /// Follows an authorization URL as a browser would, signs in at the provider's prompt as
    /// `person`, and returns the address the provider sends the browser back to (our
    /// callback, with the code and state), as a path and query.
    pub async fn sign_in(&self, authorize_url: &str, person: &Person<'_>) -> String {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let mut url = authorize_url.to_owned();
        let mut signed_in = false;
        for _ in 0..10 {
            if !url.starts_with(&self.issuer) {
                // Back at the service.
                let parsed = reqwest::Url::parse(&url).expect("a URL");
                return match parsed.query() {
                    Some(q) => format!("{}?{q}", parsed.path()),
                    None => parsed.path().to_owned(),
                };
            }
            let reply = if url.contains("/interaction/") && !signed_in {
                signed_in = true;
                let mut form = vec![("subject", person.subject), ("email", person.email)];
                if person.verified {
                    form.push(("verified", "yes"));
                }
                if person.mfa {
                    form.push(("mfa", "yes"));
                }
                // The prompt's page first (as a browser shows it), then its form.
                let page = http.get(&url).send().await.expect("the login prompt");
                assert_eq!(page.status(), 200, "the provider's login prompt");
                http.post(&url)
                    .form(&form)
                    .send()
                    .await
                    .expect("the prompt's answer")
            } else {
                http.get(&url).send().await.expect("the provider answers")
            };
            let status = reply.status();
            assert!(
                status.is_redirection(),
                "the provider redirects at {url}: {status} {}",
                reply.text().await.unwrap_or_default()
            );
            let location = reply
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .expect("a Location")
                .to_owned();
            url = if location.starts_with('/') {
                format!("{}{location}", self.issuer)
            } else {
                location
            };
        }
        panic!("the provider did not send the browser back");
    }

    /// An ID token the provider issues to `client` for `person` with `nonce`: the whole code
    /// flow as that client (the test is the client here), for checking what we refuse.
    pub async fn id_token_for(
        &self,
        client: &Registration<'_>,
        person: &Person<'_>,
        nonce: &str,
    ) -> String {
        let verifier = "a-test-pkce-verifier-of-enough-length-0123456789abcdefghij";
        let challenge = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(verifier.as_bytes());
            base64url(&digest)
        };
        let query = serde_urlencoded::to_string([
            ("client_id", client.client_id),
            ("redirect_uri", client.redirect_uri),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "test-state"),
            ("nonce", nonce),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .expect("a query");
        let back = self
            .sign_in(&format!("{}/auth?{query}", self.issuer), person)
            .await;
        let code = reqwest::Url::parse(&format!("http://x{back}"))
            .expect("a URL")
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("a code");
        let http = reqwest::Client::new();
        let reply = http
            .post(format!("{}/token", self.issuer))
            .basic_auth(client.client_id, Some(client.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", client.redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .expect("the token endpoint");
        let body: serde_json::Value =
            serde_json::from_slice(&reply.bytes().await.expect("a body")).expect("JSON");
        body["id_token"]
            .as_str()
            .unwrap_or_else(|| panic!("an ID token: {body}"))
            .to_owned()
    }
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
