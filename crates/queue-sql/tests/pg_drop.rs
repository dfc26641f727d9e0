//! `drop_schema` on Postgres removes the NOTIFY function the queue tables of a schema
//! share, with the last table whose trigger calls it, and never from under another table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use queue_core::{Job, Queue};
use queue_sql::{SqlOptions, SqlQueue};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use support::{fresh_table, pg_pool, pg_url};

/// Whether the shared function exists in `schema`.
async fn function_exists(admin: &sqlx::PgPool, schema: &str) -> bool {
    sqlx::query_scalar("SELECT to_regprocedure($1) IS NOT NULL")
        .bind(format!("{schema}.queue_notify_insert()"))
        .fetch_one(admin)
        .await
        .unwrap()
}

/// The test's own schema: the other tests on this server keep their tables (and the
/// function) in the default one, so what is counted here is only this test's.
#[tokio::test]
async fn the_shared_notify_function_goes_with_its_last_table() {
    let admin = pg_pool(2).await;
    let schema = fresh_table();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let opts: PgConnectOptions = pg_url().parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(opts.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let open =
        |table: String| SqlQueue::from_pg_pool(pool.clone(), SqlOptions::default().table(table));

    let first = open(fresh_table()).await.unwrap();
    let second = open(fresh_table()).await.unwrap();
    assert!(function_exists(&admin, &schema).await);

    first.drop_schema().await.unwrap();
    assert!(
        function_exists(&admin, &schema).await,
        "the second table's trigger still calls it"
    );
    second
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();

    second.drop_schema().await.unwrap();
    assert!(
        !function_exists(&admin, &schema).await,
        "no table calls it any more"
    );

    let third = open(fresh_table()).await.unwrap();
    assert!(
        function_exists(&admin, &schema).await,
        "a new table creates it again"
    );
    third
        .enqueue(Job::new("k", serde_json::json!(1)))
        .await
        .unwrap();
    third.drop_schema().await.unwrap();

    pool.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}

/// Tables created, used and dropped at once on many connections: no drop takes the
/// function from under a table another connection is creating (its enqueue would fail),
/// and the last drop removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_and_drops_never_lose_the_function() {
    let admin = pg_pool(2).await;
    let schema = fresh_table();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let opts: PgConnectOptions = pg_url().parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(12)
        .connect_with(opts.options([("search_path", schema.as_str())]))
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for _ in 0..6 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..4 {
                let options = SqlOptions::default().table(fresh_table());
                let q = SqlQueue::from_pg_pool(pool.clone(), options).await.unwrap();
                q.enqueue(Job::new("k", serde_json::json!(1)))
                    .await
                    .unwrap();
                q.drop_schema().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        !function_exists(&admin, &schema).await,
        "the last drop removes it"
    );

    pool.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
