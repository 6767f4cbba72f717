//! Attachments: checking a chosen file, and sending one back under its original name.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::visible_head;
use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::session::ClientIp;
use crate::db;
use crate::domain::files;
use crate::error::{AppError, AppResult};
use crate::web::forms::Upload;

/// What a chosen file is (its MIME type, from its content), or why it is refused.
pub(super) fn check(file: &Upload) -> Result<&'static str, &'static str> {
    if file.content.is_empty() {
        Err("The selected file is empty")
    } else if file.content.len() > files::MAX_BYTES {
        Err("The file must be 20 MB or smaller")
    } else {
        files::recognise(&file.content).ok_or("The file must be a PDF, a Word, Excel, PowerPoint or OpenDocument file, an image (PNG, JPEG, GIF) or plain text")
    }
}

/// "340 KB", "2.5 MB".
pub(super) fn human_size(bytes: i32) -> String {
    let bytes = f64::from(bytes);
    if bytes < 1024.0 * 1024.0 {
        format!("{} KB", (bytes / 1024.0).ceil())
    } else {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0))
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…`: the original name, safely.
pub(crate) fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

pub(super) async fn download(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, file)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    visible_head(&state, &who, ip, id).await?;
    let file = db::attachments::download(&state.db, id, file)
        .await?
        .ok_or(AppError::NotFound)?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, file.content_type.clone()),
        (
            axum::http::header::CONTENT_DISPOSITION,
            content_disposition(&file.filename),
        ),
        (
            axum::http::header::CACHE_CONTROL,
            "private, no-store".to_owned(),
        ),
    ];
    Ok((headers, file.content).into_response())
}
