//! Storing the frameworks: by code and edition, so that a restart changes nothing.

mod support;

use prevent_assure::app;
use prevent_assure::db::frameworks::{self, Stored};
use prevent_assure::framework;
use sqlx::PgPool;

async fn counts(pool: &PgPool) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "frameworks",
        "sections",
        "items",
        "levels",
        "criteria",
        "ratings",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(pool)
            .await
            .expect("a count");
        counts.push(n);
    }
    counts
}

#[sqlx::test]
async fn storing_the_frameworks_twice_changes_nothing(pool: PgPool) {
    let files = framework::load_dir(&support::frameworks_dir()).expect("the files load");
    for fw in &files {
        assert_eq!(
            frameworks::store(&pool, fw).await.expect("stored"),
            Stored::Inserted
        );
    }
    let before = counts(&pool).await;

    for fw in &files {
        assert_eq!(
            frameworks::store(&pool, fw).await.expect("stored"),
            Stored::Unchanged
        );
    }

    assert_eq!(counts(&pool).await, before);
    assert_eq!(before, [2, 15, 74, 50, 148, 7]);
}

#[sqlx::test]
async fn what_is_stored_reads_back_as_it_was_loaded(pool: PgPool) {
    let files = framework::load_dir(&support::frameworks_dir()).expect("the files load");

    let catalogue = app::store_frameworks(&pool, &files).await.expect("stored");

    for fw in &files {
        let stored = catalogue.get(&fw.code).expect("stored framework");
        assert_eq!(stored.sections.len(), fw.sections.len());
        assert_eq!(
            serde_json::to_value(stored).expect("json"),
            serde_json::to_value(fw).expect("json")
        );
    }
}

#[sqlx::test]
async fn a_faulty_framework_file_stops_start_up_before_anything_is_stored(pool: PgPool) {
    let dir = std::env::temp_dir().join(format!("prevent-assure-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let text = std::fs::read_to_string(support::frameworks_dir().join("prevent-la-2018.toml"))
        .expect("reads");
    let file = dir.join("prevent-la-2018.toml");
    std::fs::write(&file, text.replacen("code = \"2.4\"", "code = \"2.3\"", 1)).expect("writes");

    let error = app::load_frameworks(&pool, &dir)
        .await
        .expect_err("refused");

    let message = format!("{error:#}");
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(
        message.contains("item 2.3: duplicate item code"),
        "{message}"
    );
    assert_eq!(counts(&pool).await[0], 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[sqlx::test]
async fn loading_the_demo_data_twice_changes_nothing(pool: PgPool) {
    prevent_assure::demo::load(&pool).await.expect("loaded");
    let count = |table: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
                .fetch_one(&pool)
                .await
                .expect("a count")
        }
    };
    let before = (
        count("regions").await,
        count("organisations").await,
        count("cycles").await,
    );

    prevent_assure::demo::load(&pool)
        .await
        .expect("loaded again");

    let after = (
        count("regions").await,
        count("organisations").await,
        count("cycles").await,
    );
    assert_eq!(before, (2, 7, 3));
    assert_eq!(after, before);
}
