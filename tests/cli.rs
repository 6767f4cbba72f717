//! The command line, run as a newcomer (or an operator's script) would run it.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use sqlx::PgPool;
use support::{Client, location, router_from};

/// Runs the binary with `args` and `stdin`; (exit code, standard output, standard error).
fn run(url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_prevent-assure"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("it ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[sqlx::test]
async fn the_command_line_sets_up_a_region_a_council_a_lead_and_an_adviser_who_can_sign_in(
    pool: PgPool,
) {
    let url = support::database_url(&pool).await;
    let password = "copper-kettle-river-91";
    let steps: [(&[&str], &str, &str); 4] = [
        (
            &[
                "create-region",
                "--slug",
                "north-west",
                "--name",
                "North West",
            ],
            "",
            "Region north-west added",
        ),
        (
            &[
                "create-org",
                "--slug",
                "lowmoor",
                "--name",
                "Lowmoor Borough Council",
                "--region",
                "north-west",
            ],
            "",
            "Council lowmoor added to north-west",
        ),
        (
            &[
                "create-user",
                "--email",
                "lead@lowmoor.example",
                "--name",
                "Sam Lee",
                "--role",
                "lead",
                "--org",
                "lowmoor",
            ],
            password,
            "lead@lowmoor.example can sign in as lead",
        ),
        (
            &[
                "create-user",
                "--email",
                "adviser@homeoffice.example",
                "--name",
                "Ana Diaz",
                "--role",
                "adviser",
                "--region",
                "north-west",
            ],
            password,
            "adviser@homeoffice.example can sign in as adviser",
        ),
    ];
    for (args, stdin, said) in steps {
        let (code, out, err) = run(&url, args, &format!("{stdin}\n"));
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(out.trim(), said);
    }
    // Bad input: a message, exit code 2, nothing changed.
    for (args, stdin, said) in [
        (
            &[
                "create-org",
                "--slug",
                "Bad Slug",
                "--name",
                "X",
                "--region",
                "north-west",
            ][..],
            "",
            "not a valid address part",
        ),
        (
            &[
                "create-org",
                "--slug",
                "x",
                "--name",
                "X",
                "--region",
                "nowhere",
            ][..],
            "",
            "There is no region \"nowhere\"",
        ),
        (
            &[
                "create-user",
                "--email",
                "a@b.example",
                "--name",
                "A",
                "--role",
                "adviser",
                "--org",
                "lowmoor",
            ][..],
            password,
            "adviser needs --region",
        ),
        (
            &[
                "create-user",
                "--email",
                "a@b.example",
                "--name",
                "A",
                "--role",
                "lead",
                "--org",
                "lowmoor",
            ][..],
            "short",
            "password",
        ),
        (
            &[
                "create-user",
                "--email",
                "lead@lowmoor.example",
                "--name",
                "A",
                "--role",
                "board",
                "--org",
                "lowmoor",
            ][..],
            password,
            "already has an account",
        ),
        (
            &[
                "create-user",
                "--email",
                "c@lowmoor.example",
                "--name",
                "C",
                "--role",
                "contributor",
                "--org",
                "lowmoor",
            ][..],
            password,
            "needs --sections",
        ),
        (
            &[
                "set-role",
                "--email",
                "nobody@x.example",
                "--role",
                "board",
                "--org",
                "lowmoor",
            ][..],
            "",
            "no account",
        ),
        (
            &["create-region", "--slug", "north-west", "--name", "Again"][..],
            "",
            "already exists",
        ),
    ] {
        let (code, _, err) = run(&url, args, &format!("{stdin}\n"));
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(said), "{args:?}: {err}");
    }
    let people: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(people, 2, "nothing made by the refused commands");

    // Both sign in, and see their places.
    let state = support::state(pool.clone()).await;
    let router = router_from(state, [10, 30, 0, 1]);
    let mut lead = Client::new(router.clone());
    assert_eq!(
        lead.sign_in("lead@lowmoor.example", password).await.status,
        303
    );
    assert_eq!(lead.get("/orgs/lowmoor").await.status, 200);
    let mut adviser = Client::new(router.clone());
    assert_eq!(
        adviser
            .sign_in("adviser@homeoffice.example", password)
            .await
            .status,
        303
    );
    assert_eq!(adviser.get("/regions/north-west").await.status, 200);
    assert_eq!(adviser.get("/orgs/lowmoor").await.status, 200);

    // Another role, then the account disabled: signed out, and refused.
    let (code, out, _) = run(
        &url,
        &[
            "set-role",
            "--email",
            "lead@lowmoor.example",
            "--role",
            "board",
            "--org",
            "lowmoor",
        ],
        "",
    );
    assert_eq!(
        (code, out.trim()),
        (0, "lead@lowmoor.example is now also board")
    );
    let (code, _, _) = run(
        &url,
        &["disable-user", "--email", "lead@lowmoor.example"],
        "",
    );
    assert_eq!(code, 0);
    // The server hears of it through PostgreSQL's notification, a moment later.
    let mut status = 0;
    for _ in 0..50 {
        let after = lead.get("/orgs/lowmoor").await;
        status = after.status.as_u16();
        if status == 303 {
            assert!(
                location(&after).starts_with("/login"),
                "{}",
                location(&after)
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 303, "signed out once disabled");
    let audit: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where actor_label = 'command line' order by id",
    )
    .fetch_all(&pool)
    .await
    .expect("the trail");
    assert_eq!(
        audit,
        [
            "region.created",
            "organisation.created",
            "user.created",
            "user.created",
            "membership.added",
            "user.disabled"
        ]
    );
}

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

/// The key second-factor secrets are sealed with is required when second factors are, and when
/// any account has one; a malformed key is refused. The server says which, and does not start.
#[sqlx::test]
async fn serve_refuses_to_start_without_the_second_factor_key_it_needs(pool: PgPool) {
    let url = support::database_url(&pool).await;
    let serve = |envs: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_prevent-assure"));
        command
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("FRAMEWORKS_DIR", support::frameworks_dir())
            .env("LOG_LEVEL", "warn")
            .env_remove("MFA_KEY");
        for (k, v) in envs {
            command.env(k, v);
        }
        let output = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("the binary runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (started, stderr) = serve(&[("SECOND_FACTOR_REQUIRED", "true")]);
    assert!(!started);
    assert!(
        stderr.contains("SECOND_FACTOR_REQUIRED is on but MFA_KEY is not set"),
        "{stderr}"
    );
    let (started, stderr) = serve(&[("SECOND_FACTOR_REQUIRED", "true"), ("MFA_KEY", "abc")]);
    assert!(!started);
    assert!(stderr.contains("MFA_KEY"), "{stderr}");
    // Not required, but an account has one: its secret could not be read.
    sqlx::query(
        "insert into users (email, display_name, totp_secret, totp_enabled_at)
         values ('someone@ashbridge.example', 'Someone', '\\x00'::bytea, now())",
    )
    .execute(&pool)
    .await
    .expect("an account with a second factor");
    let (started, stderr) = serve(&[("SECOND_FACTOR_REQUIRED", "false")]);
    assert!(!started);
    assert!(
        stderr.contains("some accounts have a second factor but MFA_KEY is not set"),
        "{stderr}"
    );
}
