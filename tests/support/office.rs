//! Opening a generated file with the program its reader uses: LibreOffice headless converts it
//! to PDF, poppler's pdftotext reads the PDF's text and pdftoppm draws its pages for people to
//! look at (all from Debian's packages, installed by scripts/test).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A document converted to PDF: where the PDF is, its text, and its number of pages.
pub struct Converted {
    pub pdf: PathBuf,
    pub text: String,
    pub pages: usize,
}

impl Converted {
    /// Whether the PDF shows `text`, however its lines wrapped (a line may break at a hyphen,
    /// which pdftotext then drops).
    pub fn shows(&self, text: &str) -> bool {
        comparable(&self.text).contains(&comparable(text))
    }

    /// The PDF's text laid out as on the page (pdftotext -layout): a table's row on one line,
    /// its cells apart.
    pub fn layout(&self) -> String {
        let out = Command::new("pdftotext")
            .arg("-layout")
            .arg(&self.pdf)
            .arg("-")
            .output()
            .expect("pdftotext runs (poppler-utils)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether a line of the laid-out page has `cells` in order, each in a cell of its own (two
    /// or more spaces apart, as a table's columns are).
    pub fn row(&self, cells: &[&str]) -> bool {
        self.layout().lines().any(|line| {
            let found: Vec<&str> = line
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            let mut at = 0;
            cells.iter().all(
                |cell| match found[at..].iter().position(|f| f.starts_with(cell)) {
                    Some(i) => {
                        at += i + 1;
                        true
                    }
                    None => false,
                },
            )
        })
    }
}

/// Text with hyphens and dashes dropped and every run of whitespace one space.
fn comparable(text: &str) -> String {
    text.replace(['-', '\u{2010}', '\u{2011}'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Converts `bytes` (a .docx or .xlsx named `name`) to PDF with LibreOffice headless, and reads
/// it back. Each conversion has a profile of its own, so tests can run side by side.
pub fn to_pdf(bytes: &[u8], name: &str) -> Converted {
    let dir = std::env::temp_dir().join(format!("prevent-assure-office-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a folder for the conversion");
    let input = dir.join(name);
    std::fs::write(&input, bytes).expect("the document is written");
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.join("profile").display()
    );
    let status = Command::new("soffice")
        .args([
            &profile,
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(&dir)
        .arg(&input)
        .output()
        .expect("LibreOffice runs (scripts/test installs Debian's libreoffice-writer-nogui)");
    let pdf = input.with_extension("pdf");
    assert!(
        pdf.exists(),
        "LibreOffice could not convert {name}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    read(pdf)
}

/// Reads a PDF made elsewhere (say, printed by Chromium): its text and pages.
pub fn read_pdf(bytes: &[u8], name: &str) -> Converted {
    let dir = std::env::temp_dir().join(format!("prevent-assure-pdf-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let pdf = dir.join(name);
    std::fs::write(&pdf, bytes).expect("the PDF is written");
    read(pdf)
}

fn read(pdf: PathBuf) -> Converted {
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils)");
    let info = Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .expect("pdfinfo runs (poppler-utils)");
    let pages = String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("Pages:")
                .map(|n| n.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    Converted {
        pdf,
        text: String::from_utf8_lossy(&text.stdout).into_owned(),
        pages,
    }
}

/// Draws the PDF's pages as PNGs under target/screenshots (`name-1.png`, …) to look at.
pub fn pages_as_png(pdf: &Path, name: &str) -> Vec<PathBuf> {
    let dir = super::root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    let prefix = dir.join(name);
    Command::new("pdftoppm")
        .args(["-png", "-r", "70"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm runs (poppler-utils)");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{name}-")) && n.ends_with(".png"))
        })
        .collect();
    out.sort();
    out
}
