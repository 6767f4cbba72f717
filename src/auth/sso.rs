//! Single sign-on by OpenID Connect, the protocol side: discovery, the authorization request
//! (code flow with PKCE, a state and a nonce) and the checks on what comes back (the code
//! exchanged over the back channel, the ID token's signature against the provider's keys, its
//! issuer, audience, expiry and nonce). The `openidconnect` crate does the protocol: hand-written
//! JWT checks are where sign-in bugs live. Which account the identity opens is decided in
//! `crate::web::sso`.

use std::sync::OnceLock;
use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

use crate::config::Secret;

/// Why a sign-in through a provider did not give an identity. Shown to the person in words;
/// the detail goes to the log (never a token).
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the provider could not be reached or its settings could not be read: {0}")]
    Discovery(String),
    #[error("the provider's address or ours is not a valid URL: {0}")]
    Url(String),
    #[error("the provider refused to exchange the code: {0}")]
    Exchange(String),
    #[error("the provider sent no ID token")]
    NoIdToken,
    #[error("the ID token was refused: {0}")]
    IdToken(String),
}

/// The provider as configured by an administrator, with its secret from the environment.
pub struct Provider<'a> {
    pub issuer_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
}

/// An authorization request to send the browser with: the URL, and what must be kept until
/// the browser comes back.
pub struct Begun {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who the provider says signed in, once every check has passed.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// The `amr` claim: how the person authenticated at the provider (RFC 8176).
    pub methods: Vec<String>,
}

impl Identity {
    /// Whether the provider says more than one factor was used: `mfa`, or a method that is
    /// itself a second factor (a one-time code, a hardware or software key, a biometric).
    pub fn multi_factor(&self) -> bool {
        self.methods.iter().any(|m| {
            matches!(
                m.as_str(),
                "mfa" | "otp" | "hwk" | "swk" | "sc" | "fpt" | "face" | "iris" | "retina" | "vbm"
            )
        })
    }
}

/// One HTTP client for every provider: no redirects followed (a redirect from a provider's
/// endpoint is an SSRF door), and a bound on how long a provider may keep a sign-in waiting.
fn http() -> &'static openidconnect::reqwest::Client {
    static CLIENT: OnceLock<openidconnect::reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client")
    })
}

/// The provider's metadata and keys, read afresh (sign-ins are rare; a provider's keys rotate).
/// Discovery refuses a document whose `issuer` is not the configured issuer.
async fn discover(issuer_url: &str) -> Result<CoreProviderMetadata, SsoError> {
    let issuer = IssuerUrl::new(issuer_url.to_owned()).map_err(|e| SsoError::Url(e.to_string()))?;
    CoreProviderMetadata::discover_async(issuer, http())
        .await
        .map_err(|e| SsoError::Discovery(error_chain(&e)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The URL to send the browser to, with a fresh state, nonce and PKCE challenge (S256), asking
/// for the `openid` and `email` scopes; `login_hint` is the email the person typed.
pub async fn begin(
    provider: &Provider<'_>,
    redirect_uri: &str,
    login_hint: &str,
) -> Result<Begun, SsoError> {
    let metadata = discover(provider.issuer_url).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.to_owned()),
        Some(ClientSecret::new(
            provider.client_secret.expose().to_owned(),
        )),
    )
    .set_redirect_uri(
        RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| SsoError::Url(e.to_string()))?,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        .add_extra_param("login_hint", login_hint)
        .set_pkce_challenge(challenge)
        .url();
    Ok(Begun {
        url: url.to_string(),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
    })
}

/// Exchanges the code (with the PKCE verifier and the client secret) and checks the ID token.
pub async fn finish(
    provider: &Provider<'_>,
    redirect_uri: &str,
    code: &str,
    pkce_verifier: &str,
    nonce: &str,
) -> Result<Identity, SsoError> {
    let metadata = discover(provider.issuer_url).await?;
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(provider.client_id.to_owned()),
        Some(ClientSecret::new(
            provider.client_secret.expose().to_owned(),
        )),
    )
    .set_redirect_uri(
        RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| SsoError::Url(e.to_string()))?,
    );
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| SsoError::Exchange(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
        .request_async(http())
        .await
        .map_err(|e| SsoError::Exchange(error_chain(&e)))?;
    let id_token = tokens.id_token().ok_or(SsoError::NoIdToken)?;
    let mut identity = identity(&metadata, provider.client_id, id_token, nonce)?;
    // Many providers put the email in the UserInfo response rather than the ID token: asked
    // for there, for the same subject (the crate refuses a response about another).
    if identity.email.is_none() {
        let info: openidconnect::core::CoreUserInfoClaims = client
            .user_info(
                tokens.access_token().clone(),
                Some(openidconnect::SubjectIdentifier::new(
                    identity.subject.clone(),
                )),
            )
            .map_err(|e| SsoError::IdToken(e.to_string()))?
            .request_async(http())
            .await
            .map_err(|e| SsoError::IdToken(error_chain(&e)))?;
        identity.email = info.email().map(|e| e.as_str().to_owned());
        identity.email_verified = info.email_verified().unwrap_or(false);
    }
    Ok(identity)
}

/// Checks an ID token as `finish` does (signature by the provider's published keys, issuer,
/// audience = our client id, expiry, nonce) and reads the identity from it. Public so that
/// a token the provider issued to another client can be shown to be refused.
pub async fn verify_id_token(
    issuer_url: &str,
    client_id: &str,
    raw: &str,
    nonce: &str,
) -> Result<Identity, SsoError> {
    let metadata = discover(issuer_url).await?;
    let token: CoreIdToken = raw
        .parse()
        .map_err(|e: serde_json::Error| SsoError::IdToken(e.to_string()))?;
    identity(&metadata, client_id, &token, nonce)
}

fn identity(
    metadata: &CoreProviderMetadata,
    client_id: &str,
    token: &CoreIdToken,
    nonce: &str,
) -> Result<Identity, SsoError> {
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(client_id.to_owned()),
        None,
    );
    let claims = token
        .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
        .map_err(|e| SsoError::IdToken(e.to_string()))?;
    Ok(Identity {
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified().unwrap_or(false),
        methods: claims
            .auth_method_refs()
            .map(|m| m.iter().map(|r| r.as_str().to_owned()).collect())
            .unwrap_or_default(),
    })
}

/// The provider's end-session endpoint (OpenID Connect RP-Initiated Logout), if it publishes
/// one, with our client id and where to come back to.
pub async fn end_session_url(
    issuer_url: &str,
    client_id: &str,
    come_back_to: &str,
) -> Option<String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer_url.trim_end_matches('/')
    );
    let body = http().get(url).send().await.ok()?.bytes().await.ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let endpoint = doc.get("end_session_endpoint")?.as_str()?;
    let query = serde_urlencoded::to_string([
        ("client_id", client_id),
        ("post_logout_redirect_uri", come_back_to),
    ])
    .ok()?;
    let joiner = if endpoint.contains('?') { '&' } else { '?' };
    Some(format!("{endpoint}{joiner}{query}"))
}
