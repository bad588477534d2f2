//! TLS for every HTTP client relctl builds: rustls with the ring provider, verifying
//! servers against the system's trust store (rustls-platform-verifier), which is loaded
//! at the first https handshake rather than when the client is built. Loading it reads
//! and decodes every certificate under /etc/ssl (a few milliseconds, more than all of
//! relctl's own work before a rollback's deploy call), and a plan whose endpoints are
//! plain http never needs it.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// The rustls configuration for a reqwest client (HTTP/1.1 only, as reqwest is built).
pub fn config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PlatformOnDemand::new(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier, made at the first certificate it is asked to verify.
/// Handshake signatures are checked with the provider's algorithms, as the platform
/// verifier checks them, so they need no trust store.
#[derive(Debug)]
struct PlatformOnDemand {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<Verifier, rustls::Error>>,
}

impl PlatformOnDemand {
    fn new(provider: Arc<CryptoProvider>) -> Self {
        PlatformOnDemand {
            provider,
            verifier: OnceLock::new(),
        }
    }

    fn verifier(&self) -> Result<&Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for PlatformOnDemand {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_store_is_loaded_at_the_first_certificate_and_then_judges_it() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let lazy = PlatformOnDemand::new(provider);
        assert!(lazy.verifier.get().is_none(), "loaded before any handshake");
        assert!(!lazy.supported_verify_schemes().is_empty());
        assert!(
            lazy.verifier.get().is_none(),
            "loaded for the signature schemes"
        );
        // Not a certificate at all: refused, never accepted.
        let name = ServerName::try_from("relctl.invalid").expect("a valid name");
        let verdict = lazy.verify_server_cert(
            &CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]),
            &[],
            &name,
            &[],
            UnixTime::now(),
        );
        assert!(verdict.is_err(), "{verdict:?}");
        assert!(
            lazy.verifier.get().is_some(),
            "not loaded by the first certificate"
        );
    }
}
