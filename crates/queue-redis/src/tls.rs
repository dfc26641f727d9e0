//! TLS to Redis: `rediss://` (and `valkeys://`) URLs, refused when no TLS feature is
//! compiled in (fred would otherwise connect in clear text, password and all), and a
//! CA of the caller's own in place of the system's roots.

use fred::prelude::Config;
use queue_core::{QueueError, Result};

/// The scheme of `url` when it asks for TLS.
pub(crate) fn tls_scheme(url: &str) -> Option<&str> {
    let scheme = url.split_once("://")?.0;
    (scheme.starts_with("rediss") || scheme.starts_with("valkeys")).then_some(scheme)
}

/// Refuses a TLS URL when this build cannot do TLS.
pub(crate) fn check_url(url: &str) -> Result<()> {
    match tls_scheme(url) {
        Some(scheme) if !ENABLED => Err(QueueError::InvalidConfig(format!(
            "{scheme}:// needs the tls-rustls or tls-native feature of queue-redis"
        ))),
        _ => Ok(()),
    }
}

/// Whether a TLS feature is compiled in.
const ENABLED: bool = cfg!(any(feature = "tls-rustls", feature = "tls-native"));

/// Makes `config`, already TLS from its URL, trust only the CA in `ca_pem`.
pub(crate) fn use_ca(config: &mut Config, ca_pem: &[u8]) -> Result<()> {
    if !ENABLED {
        return Err(QueueError::InvalidConfig(
            "tls_ca_pem needs the tls-rustls or tls-native feature of queue-redis".into(),
        ));
    }
    if !uses_tls(config) {
        return Err(QueueError::InvalidConfig(
            "tls_ca_pem is given but the URL is not a TLS one: use rediss://".into(),
        ));
    }
    set_connector(config, ca_pem)
}

#[cfg(any(feature = "tls-rustls", feature = "tls-native"))]
fn uses_tls(config: &Config) -> bool {
    config.uses_tls()
}

#[cfg(not(any(feature = "tls-rustls", feature = "tls-native")))]
fn uses_tls(_: &Config) -> bool {
    false
}

/// A bad CA, as a configuration error.
#[cfg(any(feature = "tls-rustls", feature = "tls-native"))]
fn bad_ca(why: impl std::fmt::Display) -> QueueError {
    QueueError::InvalidConfig(format!(
        "tls_ca_pem is not a usable PEM CA certificate: {why}"
    ))
}

/// native-tls (OpenSSL on Linux) when compiled in, as fred itself prefers it.
#[cfg(feature = "tls-native")]
fn set_connector(config: &mut Config, ca_pem: &[u8]) -> Result<()> {
    use fred::native_tls::{Certificate, TlsConnector as Native};
    use fred::types::config::TlsConnector;

    let ca = Certificate::from_pem(ca_pem).map_err(bad_ca)?;
    let mut builder = Native::builder();
    builder
        .disable_built_in_roots(true)
        .add_root_certificate(ca);
    let connector = TlsConnector::try_from(builder).map_err(bad_ca)?;
    config.tls = Some(connector.into());
    Ok(())
}

/// rustls on ring, trusting the given certificates only.
#[cfg(all(feature = "tls-rustls", not(feature = "tls-native")))]
fn set_connector(config: &mut Config, ca_pem: &[u8]) -> Result<()> {
    use std::sync::Arc;

    use fred::rustls::pki_types::pem::PemObject;
    use fred::rustls::pki_types::CertificateDer;
    use fred::rustls::{crypto, ClientConfig, RootCertStore};

    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.map_err(bad_ca)?).map_err(bad_ca)?;
    }
    if roots.is_empty() {
        return Err(bad_ca("no certificate in it"));
    }
    // The provider named, not picked from the process: another crate may enable a second.
    let client = ClientConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(bad_ca)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.tls = Some(client.into());
    Ok(())
}

#[cfg(not(any(feature = "tls-rustls", feature = "tls-native")))]
fn set_connector(_: &mut Config, _: &[u8]) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_schemes_are_recognised() {
        assert_eq!(tls_scheme("rediss://:pw@h:1"), Some("rediss"));
        assert_eq!(tls_scheme("rediss-cluster://h:1"), Some("rediss-cluster"));
        assert_eq!(tls_scheme("valkeys://h"), Some("valkeys"));
        assert_eq!(tls_scheme("redis://h"), None);
        assert_eq!(tls_scheme("redis-cluster://h"), None);
    }

    #[test]
    fn a_tls_url_is_refused_exactly_when_no_tls_is_compiled_in() {
        let got = check_url("rediss://:secret@h:6380");
        if ENABLED {
            assert!(got.is_ok());
        } else {
            let e = got.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                e.contains("rediss:// needs the tls-rustls or tls-native feature"),
                "{e}"
            );
            assert!(!e.contains("secret"), "{e}");
        }
        assert!(check_url("redis://:secret@h:6379").is_ok());
    }
}
