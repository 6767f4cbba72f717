//! What kind of file an upload is, from its content (never its name): PDF, Office documents,
//! images, or plain text.

/// The largest file accepted: 20 MB.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// The types accepted, by MIME type as recognised from content.
const ACCEPTED: [&str; 13] = [
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/rtf",
    "image/png",
    "image/jpeg",
    "image/gif",
];

/// The MIME type of an acceptable file, or None when it is not one we take.
pub fn recognise(content: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(content) {
        return ACCEPTED
            .iter()
            .copied()
            .find(|accepted| *accepted == kind.mime_type());
    }
    // Plain text has no signature: UTF-8 without control characters other than whitespace.
    let text = std::str::from_utf8(content).ok()?;
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    plain.then_some("text/plain; charset=utf-8")
}

/// A file name safe to show and to offer back: no path, no control characters, at most 200
/// characters; "attachment" when nothing is left.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "attachment".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_recognised_by_content_not_name() {
        assert_eq!(recognise(b"%PDF-1.7\n1 0 obj\n"), Some("application/pdf"));
        assert_eq!(
            recognise(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(
            recognise("Minutes of the Prevent board, 3 March.\n".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
        // An executable is refused whatever it is called.
        assert_eq!(recognise(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"), None);
        assert_eq!(recognise(b"\x7fELF\x02\x01\x01\0"), None);
        assert_eq!(recognise(b"binary\0\x01\x02"), None);
        assert_eq!(recognise(b""), None);
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(
            clean_name("C:\\Users\\me\\Board minutes.pdf"),
            "Board minutes.pdf"
        );
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\"b\r\n.txt"), "ab.txt");
        assert_eq!(clean_name(".."), "attachment");
    }
}
