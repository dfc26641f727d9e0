//! Authentication of the standalone server ([`crate::serve`]). The router on its own does
//! none: an application that mounts it puts its own in front.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// How the standalone server checks its callers.
///
/// Its `Debug` form never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No authentication. [`crate::serve`] accepts it only on a loopback address.
    None,
    /// A shared token: `Authorization: Bearer <token>`. Browsers, which cannot send a
    /// bearer token from their address bar, get the HTTP Basic prompt instead and may
    /// enter any user name with the token as the password.
    Bearer(String),
    /// HTTP Basic with this user name and password.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, password: *** }}"),
        }
    }
}

impl Auth {
    /// Whether the `Authorization` header in `headers` satisfies this rule.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(Credentials::parse);
        match (self, given) {
            (Auth::None, _) => true,
            (Auth::Bearer(token), Some(Credentials::Bearer(sent))) => {
                same_secret(sent.as_bytes(), token.as_bytes())
            }
            (Auth::Bearer(token), Some(Credentials::Basic { password, .. })) => {
                same_secret(&password, token.as_bytes())
            }
            (
                Auth::Basic { user, password },
                Some(Credentials::Basic {
                    user: u,
                    password: p,
                }),
            ) => {
                // Both compared, whatever the first gives, so timing tells nothing of which.
                let user_ok = same_secret(&u, user.as_bytes());
                let password_ok = same_secret(&p, password.as_bytes());
                user_ok & password_ok
            }
            _ => false,
        }
    }
}

/// What a request presented.
enum Credentials<'a> {
    Bearer(&'a str),
    Basic { user: Vec<u8>, password: Vec<u8> },
}

impl<'a> Credentials<'a> {
    fn parse(value: &'a str) -> Option<Self> {
        let (scheme, rest) = value.trim().split_once(' ')?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            Some(Credentials::Bearer(rest))
        } else if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let colon = decoded.iter().position(|&b| b == b':')?;
            Some(Credentials::Basic {
                user: decoded[..colon].to_vec(),
                password: decoded[colon + 1..].to_vec(),
            })
        } else {
            None
        }
    }
}

/// Compares two secrets in time that depends on their lengths only, not on where they
/// first differ.
pub(crate) fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

/// The middleware: a request without the right credentials gets 401 with the challenges
/// that make a browser show its login prompt.
pub(crate) async fn require(State(auth): State<Arc<Auth>>, req: Request, next: Next) -> Response {
    if auth.allows(req.headers()) {
        return next.run(req).await;
    }
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "authentication required",
    )
    .into_response();
    let headers = response.headers_mut();
    headers.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Basic realm="queue admin", charset="UTF-8""#),
    );
    if matches!(*auth, Auth::Bearer(_)) {
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="queue admin""#),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn with(authorization: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).unwrap(),
        );
        h
    }

    fn basic(user: &str, password: &str) -> HeaderMap {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        with(&format!("Basic {encoded}"))
    }

    #[test]
    fn bearer_token_by_header_or_as_basic_password() {
        let auth = Auth::Bearer("t0ken".into());
        assert!(auth.allows(&with("Bearer t0ken")));
        assert!(auth.allows(&with("bearer   t0ken ")));
        assert!(auth.allows(&basic("anyone", "t0ken")));
        assert!(auth.allows(&basic("", "t0ken")));
        for h in [
            HeaderMap::new(),
            with("Bearer t0ke"),
            with("Bearer t0ken2"),
            with("Bearer "),
            with("Token t0ken"),
            basic("t0ken", "x"),
            with("Basic !!!not-base64"),
        ] {
            assert!(!auth.allows(&h), "{h:?}");
        }
    }

    #[test]
    fn basic_needs_user_and_password() {
        let auth = Auth::Basic {
            user: "ops".into(),
            password: "pa:ss".into(),
        };
        assert!(auth.allows(&basic("ops", "pa:ss")));
        for h in [
            basic("ops", "pa"),
            basic("op", "pa:ss"),
            basic("", "pa:ss"),
            with("Bearer pa:ss"),
            HeaderMap::new(),
        ] {
            assert!(!auth.allows(&h), "{h:?}");
        }
    }

    #[test]
    fn none_allows_everything() {
        assert!(Auth::None.allows(&HeaderMap::new()));
    }

    #[test]
    fn debug_hides_secrets() {
        let shown = format!(
            "{:?} {:?}",
            Auth::Bearer("s3cret".into()),
            Auth::Basic {
                user: "ops".into(),
                password: "s3cret".into()
            }
        );
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("ops"));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }
}
