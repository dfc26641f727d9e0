//! Requests straight into a router (`tower::ServiceExt::oneshot`), no sockets.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A router, and the CSRF token it gave out.
pub struct Api {
    pub router: Router,
    pub csrf: String,
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `error.code` of a JSON error.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code: {} {}", self.status, self.text()))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }

    /// Panics unless the status is `want`.
    #[track_caller]
    pub fn expect(self, want: u16) -> Self {
        assert_eq!(self.status.as_u16(), want, "{}", self.text());
        self
    }
}

impl Api {
    /// Wraps `router`, reading its CSRF token from `api/csrf` under `prefix` ("" at the top).
    pub async fn new(router: Router) -> Api {
        Api::nested(router, "").await
    }

    pub async fn nested(router: Router, prefix: &str) -> Api {
        let mut api = Api {
            router,
            csrf: String::new(),
        };
        let reply = api.get(&format!("{prefix}/api/csrf")).await.expect(200);
        api.csrf = reply.json()["token"].as_str().unwrap().to_owned();
        api
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// A request with the CSRF token, as the page sends it.
    pub async fn call(&self, method: Method, uri: &str) -> Reply {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-csrf-token", &self.csrf)
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A `PUT` with a JSON body and the CSRF token.
    pub async fn put_json(&self, uri: &str, body: &serde_json::Value) -> Reply {
        let req = Request::builder()
            .method(Method::PUT)
            .uri(uri)
            .header("x-csrf-token", &self.csrf)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    pub async fn post(&self, uri: &str) -> Reply {
        self.call(Method::POST, uri).await
    }

    pub async fn delete(&self, uri: &str) -> Reply {
        self.call(Method::DELETE, uri).await
    }
}
