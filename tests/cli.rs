//! The command line, run as a newcomer would run it.

use std::process::Command;

#[test]
fn serve_refuses_to_start_with_a_faulty_framework_file_and_says_which_and_why() {
    let dir = std::env::temp_dir().join(format!("prevent-assure-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("frameworks");
    let text = std::fs::read_to_string(source.join("prevent-la-2018.toml")).expect("reads");
    // Benchmark 7 loses its level 5.
    let b7 = text.find("number = 7\n").expect("benchmark 7");
    let level5 = b7 + text[b7..].find("score = 5").expect("level 5");
    let start = text[..level5]
        .rfind("[[sections.levels]]")
        .expect("level table");
    let end = start + text[start..].find("[[sections]]").expect("benchmark 8");
    let file = dir.join("prevent-la-2018.toml");
    std::fs::write(&file, format!("{}{}", &text[..start], &text[end..])).expect("writes");

    let output = Command::new(env!("CARGO_BIN_EXE_prevent-assure"))
        .arg("serve")
        .env("FRAMEWORKS_DIR", &dir)
        // The files are checked before the database is touched, so none is needed.
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .expect("the binary runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(stderr.contains("section 7: has 4 levels"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
