//! Cross-site request forgery protection for every request that changes something.
//!
//! A browser sends its cookies and cached HTTP Basic credentials along with requests that
//! other sites make it send, so authentication alone does not tell the operator's own
//! clicks apart from a hostile page's form. Every method other than GET, HEAD and OPTIONS
//! must therefore carry the router's random token in `x-csrf-token` (the page holds it in
//! a meta tag; another origin cannot read it), and must not come from another site by the
//! browser's own account (`Sec-Fetch-Site`, else `Origin` against `Host`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::same_secret;
use crate::error::ApiError;

/// The request header that carries the token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The router's token: 32 random bytes as hex, made once per router.
#[derive(Clone, Debug)]
pub(crate) struct CsrfToken(Option<Arc<str>>);

impl CsrfToken {
    /// A fresh token from the operating system's random source. Should that fail, there is
    /// no token and every state-changing request is refused rather than guarded by a
    /// guessable one.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        match getrandom::fill(&mut bytes) {
            Ok(()) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                CsrfToken(Some(hex.into()))
            }
            Err(e) => {
                tracing::error!(error = %e, "queue admin: no random source for the CSRF token; \
                    every state-changing request will be refused");
                CsrfToken(None)
            }
        }
    }

    /// The token to put into the page ("" when there is none).
    pub fn value(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

/// The middleware: passes safe methods, checks everything else.
pub(crate) async fn guard(State(token): State<CsrfToken>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    match check(
        &token,
        req.headers(),
        req.uri().authority().map(|a| a.as_str()),
    ) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// Why a state-changing request with these headers is refused, if it is.
fn check(
    token: &CsrfToken,
    headers: &HeaderMap,
    uri_authority: Option<&str>,
) -> Result<(), ApiError> {
    let forbidden = |code, message: &str| ApiError::new(StatusCode::FORBIDDEN, code, message);
    if cross_site(headers, uri_authority) {
        return Err(forbidden(
            "cross_site",
            "refused: the request comes from another site",
        ));
    }
    let Some(expected) = token.0.as_deref() else {
        return Err(forbidden(
            "csrf",
            "refused: the server has no CSRF token (its random source failed)",
        ));
    };
    let sent = headers
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if same_secret(sent, expected.as_bytes()) {
        Ok(())
    } else {
        Err(forbidden(
            "csrf",
            "refused: missing or wrong x-csrf-token header (reload the page)",
        ))
    }
}

/// Whether the browser says the request was made by another site. `Sec-Fetch-Site`, sent
/// by current browsers, decides when present; otherwise an `Origin` must name the host the
/// request was sent to (`Host`, or `X-Forwarded-Host` behind a proxy). Requests with
/// neither (curl, scripts) are not from a browser page, and the token still applies.
fn cross_site(headers: &HeaderMap, uri_authority: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Some(origin_host) = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, host)| host.trim_end_matches('/'))
    else {
        return true; // "null" (a sandboxed frame, a file) or garbage
    };
    let hosts = [
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
        headers
            .get("x-forwarded-host")
            .and_then(|h| h.to_str().ok()),
        uri_authority,
    ];
    !hosts
        .into_iter()
        .flatten()
        .any(|host| host.eq_ignore_ascii_case(origin_host))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (CsrfToken::generate(), CsrfToken::generate());
        assert_eq!(a.value().len(), 64);
        assert_ne!(a.value(), b.value());
    }

    #[test]
    fn the_token_is_required() {
        let t = CsrfToken::generate();
        let ok = headers(&[(CSRF_HEADER, t.value())]);
        assert!(check(&t, &ok, None).is_ok());
        for bad in [
            headers(&[]),
            headers(&[(CSRF_HEADER, "0")]),
            headers(&[(CSRF_HEADER, "")]),
        ] {
            let e = check(&t, &bad, None).unwrap_err();
            assert_eq!((e.status, e.code), (StatusCode::FORBIDDEN, "csrf"));
        }
    }

    #[test]
    fn without_a_token_nothing_passes() {
        let none = CsrfToken(None);
        assert_eq!(none.value(), "");
        let e = check(&none, &headers(&[(CSRF_HEADER, "")]), None).unwrap_err();
        assert_eq!(e.code, "csrf");
    }

    #[test]
    fn cross_site_requests_are_refused_even_with_the_token() {
        let t = CsrfToken::generate();
        let v = t.value();
        for h in [
            headers(&[(CSRF_HEADER, v), ("sec-fetch-site", "cross-site")]),
            headers(&[(CSRF_HEADER, v), ("sec-fetch-site", "same-site")]),
            headers(&[
                (CSRF_HEADER, v),
                ("origin", "https://evil.example"),
                ("host", "ops:8080"),
            ]),
            headers(&[(CSRF_HEADER, v), ("origin", "null"), ("host", "ops:8080")]),
        ] {
            let e = check(&t, &h, None).unwrap_err();
            assert_eq!(
                (e.status, e.code),
                (StatusCode::FORBIDDEN, "cross_site"),
                "{h:?}"
            );
        }
    }

    #[test]
    fn same_origin_requests_pass() {
        let t = CsrfToken::generate();
        let v = t.value();
        for h in [
            headers(&[(CSRF_HEADER, v), ("sec-fetch-site", "same-origin")]),
            headers(&[
                (CSRF_HEADER, v),
                ("origin", "http://ops:8080"),
                ("host", "ops:8080"),
            ]),
            headers(&[
                (CSRF_HEADER, v),
                ("origin", "https://ops.example"),
                ("host", "127.0.0.1:8080"),
                ("x-forwarded-host", "ops.example"),
            ]),
        ] {
            assert!(check(&t, &h, None).is_ok(), "{h:?}");
        }
        let h = headers(&[(CSRF_HEADER, v), ("origin", "http://ops:8080")]);
        assert!(check(&t, &h, Some("ops:8080")).is_ok());
    }
}
