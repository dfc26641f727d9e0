//! The stylesheet, script and icon, compiled into the crate and served under `assets/`.
//!
//! The page links each with `?v=<hash of its content>`, so a browser may keep it for a year:
//! a new build links a new URL. A request without the current hash (an old page, a typed
//! URL) must revalidate, by ETag.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::api::params::Params;
use crate::error::ApiError;

/// One embedded file.
pub(crate) struct Asset {
    pub name: &'static str,
    content_type: &'static str,
    body: &'static str,
    hash: u64,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static str) -> Self {
        Asset {
            name,
            content_type,
            body,
            hash: fnv1a(body.as_bytes()),
        }
    }

    /// Its URL relative to the router's root, with the content hash.
    pub fn href(&self) -> String {
        format!("assets/{}?v={:016x}", self.name, self.hash)
    }

    fn etag(&self) -> String {
        format!("\"{:016x}\"", self.hash)
    }
}

pub(crate) const CSS: Asset = Asset::new(
    "admin.css",
    "text/css; charset=utf-8",
    include_str!("../assets/admin.css"),
);
pub(crate) const JS: Asset = Asset::new(
    "admin.js",
    "text/javascript; charset=utf-8",
    include_str!("../assets/admin.js"),
);
pub(crate) const ICON: Asset = Asset::new(
    "favicon.svg",
    "image/svg+xml",
    include_str!("../assets/favicon.svg"),
);

const ALL: [&Asset; 3] = [&CSS, &JS, &ICON];

/// `GET assets/{file}`.
pub(crate) async fn serve(
    Path(file): Path<String>,
    params: Params,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = ALL.into_iter().find(|a| a.name == file) else {
        return ApiError::not_found(format!("no asset {file:?}")).into_response();
    };
    let etag = asset.etag();
    let cache = if params.get("v") == Some(&format!("{:016x}", asset.hash)) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// FNV-1a, 64 bits: enough to tell builds apart, and computable at compile time.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn hashes_tell_contents_apart() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert!(CSS.href().starts_with("assets/admin.css?v="));
    }
}
