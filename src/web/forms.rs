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
                .map(|(k, v)| (k, v.replace("\r\n", "\n")))
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
                Ok(bytes) => {
                    Fields::from_pairs(serde_urlencoded::from_bytes(&bytes).unwrap_or_default())
                }
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
                        let filename = field.file_name().unwrap_or_default().to_owned();
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
