//! An axum service that writes an order and enqueues its receipt job in one Postgres
//! transaction: the job exists exactly when the order does.
//!
//! ```sh
//! cargo run -p queue-sql --example axum_enqueue_tx   # DATABASE_URL, else the local test database
//! curl -X POST 127.0.0.1:3000/orders -H 'content-type: application/json' \
//!      -d '{"email":"a@example.com","total_cents":1299}'
//! cargo run -p queue-sql --example worker            # runs the receipt jobs
//! ```

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use queue_core::Job;
use queue_sql::{SqlOptions, SqlQueue};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgPool;

#[derive(Clone)]
struct App {
    pool: PgPool,
    queue: Arc<SqlQueue>,
}

#[derive(Deserialize)]
struct NewOrder {
    email: String,
    total_cents: i64,
}

/// Any failure is a 500 with its message; a real service would log it and say less.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

impl axum::response::IntoResponse for Failure {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.0).into_response()
    }
}

async fn create_order(
    State(app): State<App>,
    Json(order): Json<NewOrder>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let mut tx = app.pool.begin().await?;
    let (order_id,): (i64,) = sqlx::query_as(
        "INSERT INTO example_orders (email, total_cents) VALUES ($1, $2) RETURNING id",
    )
    .bind(&order.email)
    .bind(order.total_cents)
    .fetch_one(&mut *tx)
    .await?;
    let receipt = Job::new("receipt", json!({"order": order_id, "email": order.email}));
    let job_id = app.queue.enqueue_tx(&mut *tx, receipt).await?;
    // Until this commit neither the order nor the job is visible; an error before it rolls
    // both back when `tx` is dropped.
    tx.commit().await?;
    let body = json!({"order": order_id, "receipt_job": job_id.to_string()});
    Ok((StatusCode::CREATED, Json(body)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let pool = PgPool::connect(&url).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS example_orders \
         (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL, total_cents BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    // The queue shares the app's pool, so `enqueue_tx` runs on the app's transactions.
    let queue = Arc::new(SqlQueue::from_pg_pool(pool.clone(), SqlOptions::default()).await?);

    let app = Router::new()
        .route("/orders", post(create_order))
        .with_state(App { pool, queue });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
