//! Form errors, shown in a GOV.UK error summary and beside each field, with the typing kept.

/// One problem with a field.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The id of the field, for the summary's link.
    pub field: String,
    pub message: String,
}

/// Every problem with a submitted form.
#[derive(Debug, Clone, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for a field, for the template.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn all(&self) -> &[FieldError] {
        &self.0
    }
}

/// Lower-case letters, digits and single hyphens: what a slug in an address may be.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 80
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// A plausible email address: something@something, no spaces, at most 254 characters.
pub fn is_email(s: &str) -> bool {
    s.len() <= 254
        && !s.chars().any(char::is_whitespace)
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        })
}

/// The largest body of a page that takes a file: the file and the page's own text (every
/// other route keeps axum's default, 2 MB).
pub const FILE_FORM_LIMIT: usize = crate::domain::files::MAX_BYTES + 1024 * 1024;

/// A form larger than its page takes: a 413 page that says nothing was saved.
pub struct TooLarge;

impl axum::response::IntoResponse for TooLarge {
    fn into_response(self) -> axum::response::Response {
        crate::error::message_page(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "That was too much to send",
            "What was sent was larger than this page takes, so nothing was saved. Go back to the page, check what you typed (copy any long text you pasted) and send it again in shorter parts.",
        )
    }
}

/// A file chosen in a form: its name as sent, and its bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub content: Vec<u8>,
}

/// A posted form, urlencoded or multipart: every field as typed (in order, repeats kept) and
/// the chosen file, if any. Line breaks come back as `\n`.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pairs: Vec<(String, String)>,
    pub file: Option<Upload>,
    /// The body could not be read whole (larger than allowed, or cut short).
    pub too_large: bool,
}

impl Fields {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Fields {
        Fields {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| {
                    (
                        clean_text(&k).into_owned(),
                        clean_text(&v).replace("\r\n", "\n"),
                    )
                })
                .collect(),
            ..Fields::default()
        }
    }

    /// Reads a request's form, whichever way the browser encoded it; a file field named `file`.
    pub async fn read(request: axum::extract::Request) -> Fields {
        use axum::extract::FromRequest;
        let multipart = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            // Through the extractor, so the route's body limit holds.
            return match axum::body::Bytes::from_request(request, &()).await {
                Ok(bytes) => Fields::from_pairs(clean_pairs(&bytes)),
                Err(_) => Fields {
                    too_large: true,
                    ..Fields::default()
                },
            };
        }
        let Ok(mut parts) = axum::extract::Multipart::from_request(request, &()).await else {
            return Fields::default();
        };
        let mut pairs = Vec::new();
        let mut file = None;
        let mut too_large = false;
        loop {
            match parts.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    if name == "file" {
                        let filename = clean_text(field.file_name().unwrap_or_default())
                            .trim()
                            .to_owned();
                        match field.bytes().await {
                            // A file input left empty sends a part with no name and no bytes.
                            Ok(bytes) if filename.is_empty() && bytes.is_empty() => {}
                            Ok(bytes) => {
                                file = Some(Upload {
                                    name: filename,
                                    content: bytes.to_vec(),
                                })
                            }
                            Err(_) => {
                                too_large = true;
                                break;
                            }
                        }
                    } else {
                        match field.text().await {
                            Ok(value) => pairs.push((name, value)),
                            Err(_) => {
                                too_large = true;
                                break;
                            }
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    too_large = true;
                    break;
                }
            }
        }
        let mut fields = Fields::from_pairs(pairs);
        fields.file = file;
        fields.too_large = too_large;
        fields
    }

    /// The first value of a field, or "".
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether the form had the field at all.
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// Every value of a field (checkboxes).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every (rest of the name, value) of the fields whose name starts with `prefix`.
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.pairs
            .iter()
            .filter_map(move |(k, v)| Some((k.strip_prefix(prefix)?, v.as_str())))
    }
}

/// Text as people can type it: without NUL and the other control characters that have no place
/// in text (the C0 set but tab and line breaks, DEL, the C1 set), and without the bidirectional
/// overrides and isolates that make a file name or a line read other than it is stored
/// (U+202A–U+202E, U+2066–U+2069). PostgreSQL refuses NUL in text; the rest would be stored and
/// shown raw. Every value of every form, query string and file name passes through here.
pub fn clean_text(s: &str) -> std::borrow::Cow<'_, str> {
    fn unwanted(c: char) -> bool {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }
    if s.chars().any(unwanted) {
        std::borrow::Cow::Owned(s.chars().filter(|c| !unwanted(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Decodes `application/x-www-form-urlencoded` text into cleaned pairs (bad percent-encoding
/// and invalid UTF-8 become U+FFFD rather than an error).
pub fn clean_pairs(raw: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (clean_text(&k).into_owned(), clean_text(&v).into_owned()))
        .collect()
}

/// Deserializes cleaned pairs into `T` as `axum::Form` would.
fn from_pairs<T: serde::de::DeserializeOwned>(
    pairs: &[(String, String)],
) -> Result<T, serde_urlencoded::de::Error> {
    let encoded = serde_urlencoded::to_string(pairs).unwrap_or_default();
    serde_urlencoded::from_str(&encoded)
}

/// A form that could not be read: a 400 page that says nothing was saved.
pub struct BadForm;

impl axum::response::IntoResponse for BadForm {
    fn into_response(self) -> axum::response::Response {
        crate::error::message_page(
            axum::http::StatusCode::BAD_REQUEST,
            "This form could not be read",
            "What was sent was not in the form this page sends, so nothing was saved. Go back to the page, reload it and try again.",
        )
    }
}

/// `axum::Form`, with every value cleaned ([`clean_text`]) before it is read.
pub struct Form<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Form<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = axum::response::Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| match e {
                // Past the route's limit (read up to it: refusing unread by `Content-Length`
                // was tried, and a browser still sending is then cut off without the page).
                axum::extract::rejection::BytesRejection::FailedToBufferBody(
                    axum::extract::rejection::FailedToBufferBody::LengthLimitError(_),
                ) => TooLarge.into_response(),
                e => e.into_response(),
            })?;
        from_pairs(&clean_pairs(&bytes))
            .map(Form)
            .map_err(|_| BadForm.into_response())
    }
}

/// `axum::extract::Query`, with every value cleaned ([`clean_text`]); a query string that
/// does not fit (someone edited the address) is read as no query at all where `T` allows it.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let pairs = clean_pairs(parts.uri.query().unwrap_or_default().as_bytes());
        from_pairs(&pairs)
            .map(Query)
            .map_err(|_| BadForm.into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidirectional_characters_are_taken_out_of_text() {
        assert_eq!(clean_text("plain text"), "plain text");
        assert!(matches!(clean_text("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(clean_text("a\u{0}b"), "ab");
        assert_eq!(
            clean_text("line one\r\nline two\ttab"),
            "line one\r\nline two\ttab"
        );
        assert_eq!(clean_text("bell\u{7}del\u{7f}c1\u{85}"), "belldelc1");
        assert_eq!(clean_text("\u{202e}Txt.exe"), "Txt.exe");
        assert_eq!(clean_text("a\u{2066}b\u{2069}"), "ab");
        assert_eq!(
            clean_text("Ysgol Gymraeg – café ☕"),
            "Ysgol Gymraeg – café ☕"
        );
    }

    #[test]
    fn forms_and_queries_are_read_cleaned() {
        let pairs = clean_pairs(b"owner=Comm%00unity&note=a%E2%80%AEb&bad=%FF");
        assert_eq!(pairs[0], ("owner".to_owned(), "Community".to_owned()));
        assert_eq!(pairs[1].1, "ab");
        assert_eq!(pairs[2].1, "\u{FFFD}");
    }
}
