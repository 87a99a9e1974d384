//! TLS for relays, with rustls on aws-lc-rs and the Mozilla roots (`webpki-roots`).
//!
//! STARTTLS is lettre's (`TlsParameters`); implicit TLS (`smtps://`) is done here, before
//! the stream is handed to lettre, because lettre only accepts an already-open stream or
//! opens the socket itself (without `TCP_NODELAY`).

use herald_domain::relay::Relay;
use lettre::transport::smtp::client::{AsyncTokioStream, TlsParameters};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// What a relay's connections need for TLS, built once per relay.
#[derive(Clone)]
pub(crate) struct TlsSetup {
    /// For STARTTLS (lettre).
    pub(crate) starttls: TlsParameters,
    /// For implicit TLS.
    pub(crate) implicit: TlsConnector,
    pub(crate) server_name: ServerName<'static>,
}

impl TlsSetup {
    pub(crate) fn new(relay: &Relay) -> Result<Self, String> {
        let starttls = TlsParameters::builder(relay.host().to_owned())
            .dangerous_accept_invalid_certs(relay.accept_invalid_certs())
            .build_rustls()
            .map_err(|error| error.to_string())?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|error| error.to_string())?;
        let config = if relay.accept_invalid_certs() {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        let server_name = ServerName::try_from(relay.host().to_owned())
            .map_err(|_| format!("{:?} is not a TLS server name", relay.host()))?;
        Ok(Self {
            starttls,
            implicit: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }

    /// The TLS handshake of implicit TLS, over an open TCP stream.
    pub(crate) async fn handshake(&self, tcp: TcpStream) -> io::Result<ImplicitTls> {
        let stream = self.implicit.connect(self.server_name.clone(), tcp).await?;
        Ok(ImplicitTls(stream))
    }
}

/// An implicit-TLS stream in the shape lettre takes over.
#[derive(Debug)]
pub(crate) struct ImplicitTls(TlsStream<TcpStream>);

impl AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// Accepts any certificate but still checks the handshake signatures: `insecure=true`,
/// for lab relays with self-signed certificates.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
