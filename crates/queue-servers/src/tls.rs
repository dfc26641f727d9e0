//! TLS for the throw-away servers: a certificate authority and a server certificate for
//! `127.0.0.1` and `localhost`, as PEM, and writing them where a server reads them.

use std::path::{Path, PathBuf};

use crate::process::set_mode;

/// A server's TLS material in PEM: the CA that signed it, its certificate and its key.
///
/// With the `certs` feature, `TlsCerts::generate` makes a fresh set; otherwise bring
/// your own.
///
/// ```
/// # #[cfg(feature = "certs")] {
/// use queue_servers::TlsCerts;
/// let certs = TlsCerts::generate()?;
/// assert!(certs.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
/// # }
/// # Ok::<(), String>(())
/// ```
#[derive(Clone)]
pub struct TlsCerts {
    /// The certificate authority's certificate: what a client trusts.
    pub ca_pem: String,
    /// The server's certificate, signed by the CA.
    pub cert_pem: String,
    /// The server's private key (PKCS#8).
    pub key_pem: String,
}

impl std::fmt::Debug for TlsCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs, even a throw-away one.
        f.debug_struct("TlsCerts").finish_non_exhaustive()
    }
}

#[cfg(feature = "certs")]
impl TlsCerts {
    /// A new CA (its key thrown away once it has signed) and a server certificate it
    /// signed for `127.0.0.1`, `::1` and `localhost`. Each call makes a different CA, so
    /// a second one is the "wrong CA" for the first one's server.
    pub fn generate() -> Result<TlsCerts, String> {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};

        let bad = |e: rcgen::Error| format!("cannot generate test certificates: {e}");
        let ca_key = KeyPair::generate().map_err(bad)?;
        let mut ca = CertificateParams::new(Vec::new()).map_err(bad)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        // A name of its own, so a client holding another such CA does not take it for
        // this one's issuer.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        ca.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("queue-servers test CA {}-{nanos}", std::process::id()),
        );
        let ca_cert = ca.self_signed(&ca_key).map_err(bad)?;
        let issuer = Issuer::new(ca, ca_key);

        let key = KeyPair::generate().map_err(bad)?;
        let names = ["127.0.0.1", "::1", "localhost"].map(String::from).to_vec();
        let mut server = CertificateParams::new(names).map_err(bad)?;
        server
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let cert = server.signed_by(&key, &issuer).map_err(bad)?;
        Ok(TlsCerts {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Where a server's TLS files were written.
pub(crate) struct TlsFiles {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// Writes `certs` into `dir` as `ca.crt`, `server.crt` and `server.key`, the key readable
/// by its owner only (Postgres refuses it otherwise), all owned by `owner` when given.
pub(crate) fn write(
    certs: &TlsCerts,
    dir: &Path,
    owner: Option<(u32, u32)>,
) -> Result<TlsFiles, String> {
    let files = TlsFiles {
        ca: dir.join("ca.crt"),
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    for (path, pem, mode) in [
        (&files.ca, &certs.ca_pem, 0o644),
        (&files.cert, &certs.cert_pem, 0o644),
        (&files.key, &certs.key_pem, 0o600),
    ] {
        std::fs::write(path, pem).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        set_mode(path, mode)?;
        if let Some(ids) = owner {
            crate::host::chown(path, ids)?;
        }
    }
    Ok(files)
}
