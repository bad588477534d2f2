//! An https front for a plain-http test double, as a platform behind TLS would be: it
//! terminates TLS with a certificate for 127.0.0.1 from a CA of its own (both made with
//! `openssl`)
//! and passes each request on to the double, one request per connection.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

pub struct TlsFront {
    pub addr: SocketAddr,
    /// The CA that issued its certificate, which no system trusts.
    pub ca: PathBuf,
}

impl TlsFront {
    pub fn start(backend: SocketAddr, dir: &Path) -> TlsFront {
        let (ca, config) = server_config(dir);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || {
                    let _ = relay(tcp, config, backend);
                });
            }
        });
        TlsFront { addr, ca }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

/// A TLS server configuration for 127.0.0.1 with a certificate from a CA of its own,
/// made in `dir`, and the path of that CA's certificate.
pub fn server_config(dir: &Path) -> (PathBuf, Arc<ServerConfig>) {
    let ca = dir.join("front-ca.pem");
    let cert = dir.join("front-cert.pem");
    let key = dir.join("front-key.pem");
    // A CA, and the front's own certificate issued by it.
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=relctl test CA",
        ],
        &[
            ("-keyout", dir.join("front-ca-key.pem")),
            ("-out", ca.clone()),
        ],
    );
    openssl(
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=relctl test platform",
        ],
        &[("-keyout", key.clone()), ("-out", dir.join("front.csr"))],
    );
    let ext = dir.join("front.ext");
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write the extensions");
    openssl(
        &["x509", "-req", "-days", "2", "-set_serial", "2"],
        &[
            ("-in", dir.join("front.csr")),
            ("-CA", ca.clone()),
            ("-CAkey", dir.join("front-ca-key.pem")),
            ("-extfile", ext),
            ("-out", cert.clone()),
        ],
    );
    let chain = CertificateDer::pem_file_iter(&cert)
        .expect("the certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("the certificate");
    let key = PrivateKeyDer::from_pem_file(&key).expect("the key");
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("a server configuration");
    (ca, Arc::new(config))
}

/// One request from the TLS client to the backend, and its answer back; then closed.
fn relay(tcp: TcpStream, config: Arc<ServerConfig>, backend: SocketAddr) -> std::io::Result<()> {
    let conn = ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = find(&request, b"\r\n\r\n") {
            break at;
        }
        let n = tls.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + 4 + length {
        let n = tls.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    // The backend closes after answering, and says so to the client.
    let mut forwarded = request[..head_end].to_vec();
    forwarded.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    forwarded.extend_from_slice(&request[head_end + 4..]);
    let mut upstream = TcpStream::connect(backend)?;
    upstream.write_all(&forwarded)?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    tls.write_all(&answer)?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn openssl(args: &[&str], paths: &[(&str, PathBuf)]) {
    let mut command = std::process::Command::new("openssl");
    command.args(args);
    for (flag, path) in paths {
        command.arg(flag).arg(path);
    }
    let made = command.output().expect("openssl, to make certificates");
    assert!(
        made.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
