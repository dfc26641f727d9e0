//! The standalone server over real sockets: authentication, the loopback rule, CSRF on
//! top of authentication, and its metrics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64_header::basic;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use queue_admin::{Admin, Auth, ServeError, ServeOptions, Server};
use queue_core::{Job, Queue};
use queue_memory::MemoryQueue;
use serde_json::json;
use tokio::sync::oneshot;

/// A running server on 127.0.0.1, stopped when dropped.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    queue: Arc<MemoryQueue>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start(auth: Auth) -> Running {
    let queue = Arc::new(MemoryQueue::new());
    let admin = Admin::new().queue("default", queue.clone());
    let server = Server::bind(
        admin,
        ServeOptions::new("127.0.0.1:0".parse().unwrap(), auth),
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        queue,
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

async fn send(addr: SocketAddr, method: Method, path: &str, headers: &[(&str, String)]) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let res = client
        .request(req.body(Full::default()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

mod base64_header {
    /// `Basic base64(user:password)`, written out here so the test does not share the
    /// server's decoder.
    pub fn basic(user: &str, password: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let input = format!("{user}:{password}").into_bytes();
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        format!("Basic {out}")
    }

    #[test]
    fn encodes_like_rfc_4648() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic("a", ""), "Basic YTo=");
    }
}

#[tokio::test]
async fn a_bearer_token_guards_every_route() {
    let server = start(Auth::Bearer("s3cret-token".into())).await;
    let addr = server.addr;
    for path in [
        "/",
        "/api/stats",
        "/api/csrf",
        "/assets/admin.css",
        "/metrics",
    ] {
        let reply = send(addr, Method::GET, path, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        let challenges: Vec<_> = reply
            .headers
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert!(
            challenges.iter().any(|c| c.starts_with("Basic realm=")),
            "the browser prompt: {challenges:?}"
        );
        assert_eq!(reply.json()["error"]["code"], "unauthorized");
    }
    let bearer = [("authorization", "Bearer s3cret-token".to_owned())];
    let reply = send(addr, Method::GET, "/api/stats", &bearer).await;
    assert_eq!(reply.status, StatusCode::OK);
    // A browser sends the token as the Basic password, under any user name.
    let browser = [("authorization", basic("me", "s3cret-token"))];
    assert_eq!(
        send(addr, Method::GET, "/", &browser).await.status,
        StatusCode::OK
    );
    for wrong in [
        "Bearer s3cret-toke".to_owned(),
        "Bearer s3cret-token-and-more".to_owned(),
        basic("s3cret-token", "x"),
        "s3cret-token".to_owned(),
    ] {
        let reply = send(
            addr,
            Method::GET,
            "/api/stats",
            &[("authorization", wrong.clone())],
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{wrong}");
    }
}

#[tokio::test]
async fn basic_auth_needs_the_user_and_the_password() {
    let server = start(Auth::Basic {
        user: "ops".into(),
        password: "pa55".into(),
    })
    .await;
    let ok = [("authorization", basic("ops", "pa55"))];
    assert_eq!(
        send(server.addr, Method::GET, "/", &ok).await.status,
        StatusCode::OK
    );
    for (user, password) in [("ops", "pa5"), ("op", "pa55"), ("", "pa55")] {
        let h = [("authorization", basic(user, password))];
        let reply = send(server.addr, Method::GET, "/", &h).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{user}:{password}");
    }
    let bearer = [("authorization", "Bearer pa55".to_owned())];
    assert_eq!(
        send(server.addr, Method::GET, "/", &bearer).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn authenticated_changes_still_need_the_csrf_token() {
    let server = start(Auth::Bearer("t".into())).await;
    let id = server.queue.enqueue(Job::new("k", json!(1))).await.unwrap();
    let auth = ("authorization", "Bearer t".to_owned());
    let cancel = format!("/api/jobs/{id}/cancel");

    let reply = send(
        server.addr,
        Method::POST,
        &cancel,
        std::slice::from_ref(&auth),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"]["code"], "csrf");

    let token = send(
        server.addr,
        Method::GET,
        "/api/csrf",
        std::slice::from_ref(&auth),
    )
    .await
    .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let cross = [
        auth.clone(),
        ("x-csrf-token", token.clone()),
        ("origin", "http://evil.example".to_owned()),
    ];
    let reply = send(server.addr, Method::POST, &cancel, &cross).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"]["code"], "cross_site");

    // Same origin: the Origin names the host the request went to.
    let same = [
        auth.clone(),
        ("x-csrf-token", token),
        ("origin", format!("http://{}", server.addr)),
    ];
    let reply = send(server.addr, Method::POST, &cancel, &same).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.json()["outcome"], "cancelled");

    // Credentials come first: without them, not even the CSRF check is reached.
    let reply = send(server.addr, Method::POST, &cancel, &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn no_auth_is_refused_off_loopback_and_allowed_on_it() {
    for bind in ["0.0.0.0:0", "[::]:0"] {
        let options = ServeOptions::new(bind.parse().unwrap(), Auth::None);
        match Server::bind(Admin::new(), options).await {
            Err(ServeError::NoAuth(addr)) => assert_eq!(addr, bind.parse().unwrap()),
            Err(e) => panic!("{bind}: wrong error {e}"),
            Ok(_) => panic!("{bind}: served without authentication"),
        }
    }
    let empty = ServeOptions::new("0.0.0.0:0".parse().unwrap(), Auth::Bearer(String::new()));
    assert!(matches!(
        Server::bind(Admin::new(), empty).await,
        Err(ServeError::BadCredentials(_))
    ));

    let open = start(Auth::None).await;
    assert_eq!(
        send(open.addr, Method::GET, "/api/stats", &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_taken_port_is_a_bind_error() {
    let first = start(Auth::None).await;
    let options = ServeOptions::new(first.addr, Auth::None);
    match Server::bind(Admin::new(), options).await {
        Err(ServeError::Bind { addr, .. }) => assert_eq!(addr, first.addr),
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("bound a taken port"),
    }
}

#[cfg(feature = "prometheus")]
#[tokio::test]
async fn the_server_serves_prometheus_metrics() {
    let server = start(Auth::Bearer("t".into())).await;
    // The server installed the global recorder; what the process records shows up.
    metrics::counter!("queue_admin_serve_test_total").increment(2);
    let auth = [("authorization", "Bearer t".to_owned())];
    let reply = send(server.addr, Method::GET, "/metrics", &auth).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8_lossy(&reply.body);
    assert!(text.contains("queue_admin_serve_test_total 2"), "{text}");

    // A second server in the same process shares the recorder.
    let again = start(Auth::Bearer("t".into())).await;
    let reply = send(again.addr, Method::GET, "/metrics", &auth).await;
    assert_eq!(reply.status, StatusCode::OK);
}
