//! Git remotes reached as CI runners and laptops reach them, on loopback: smart HTTP
//! over TLS requiring a token (`git http-backend` run as CGI behind a small server, with
//! a certificate from a CA of the test's own), and SSH with a key (Debian's `sshd`, a
//! host key and an authorized key made in the test). Each stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// How long a server gets to start accepting.
const START_DEADLINE: Duration = Duration::from_secs(10);

/// The bare repositories under a directory, served over https at
/// `https://127.0.0.1:PORT/<name>`; every request must carry `token`, as Basic
/// credentials (any user name) or as a Bearer token.
pub struct HttpsGit {
    addr: SocketAddr,
    /// The CA that issued the server's certificate, which no system trusts.
    pub ca: PathBuf,
    stop: Arc<AtomicBool>,
    /// The `Authorization` headers of each request, in order.
    seen: Arc<Mutex<Vec<Vec<String>>>>,
    /// The method and target of each request admitted, in order.
    lines: Arc<Mutex<Vec<String>>>,
}

impl HttpsGit {
    /// Serves the repositories under `root`; certificates are made in `dir`.
    pub fn start(root: &Path, dir: &Path, token: &str) -> HttpsGit {
        let (ca, config) = super::tls::server_config(dir);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let site = Arc::new(Site {
            root: root.to_path_buf(),
            token: token.to_string(),
            seen: seen.clone(),
            lines: lines.clone(),
        });
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = tcp else { continue };
                let (config, site) = (config.clone(), site.clone());
                std::thread::spawn(move || {
                    let _ = serve(tcp, config, &site);
                });
            }
        });
        // Bound before this returns: connections queue until the thread accepts them.
        HttpsGit {
            addr,
            ca,
            stop,
            seen,
            lines,
        }
    }

    /// How many fetches the server answered: the git-upload-pack advertisements it gave.
    pub fn fetches(&self) -> usize {
        self.lines.lock().map_or(0, |lines| {
            lines
                .iter()
                .filter(|l| l.starts_with("GET ") && l.contains("service=git-upload-pack"))
                .count()
        })
    }

    /// How many pushes the server took: the git-receive-pack requests it answered.
    pub fn pushes(&self) -> usize {
        self.lines.lock().map_or(0, |lines| {
            lines
                .iter()
                .filter(|l| l.starts_with("POST ") && l.ends_with("/git-receive-pack"))
                .count()
        })
    }

    /// The URL of repository `name` (a directory under the root).
    pub fn url(&self, name: &str) -> String {
        format!("https://{}/{name}", self.addr)
    }

    /// The `Authorization` headers each request carried, in order.
    pub fn authorizations(&self) -> Vec<Vec<String>> {
        self.seen
            .lock()
            .map(|seen| seen.clone())
            .unwrap_or_default()
    }
}

impl Drop for HttpsGit {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag and ends.
        let _ = TcpStream::connect(self.addr);
    }
}

struct Site {
    root: PathBuf,
    token: String,
    seen: Arc<Mutex<Vec<Vec<String>>>>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Site {
    fn admits(&self, authorizations: &[String]) -> bool {
        authorizations.iter().any(|value| {
            let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
            let credentials = credentials.trim();
            if scheme.eq_ignore_ascii_case("bearer") {
                return credentials == self.token;
            }
            scheme.eq_ignore_ascii_case("basic")
                && base64::engine::general_purpose::STANDARD
                    .decode(credentials)
                    .ok()
                    .and_then(|decoded| String::from_utf8(decoded).ok())
                    .and_then(|pair| {
                        pair.split_once(':')
                            .map(|(_, password)| password == self.token)
                    })
                    .unwrap_or(false)
        })
    }
}

/// One request on one TLS connection, answered by `git http-backend`; then closed.
fn serve(tcp: TcpStream, config: Arc<ServerConfig>, site: &Site) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let conn = ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut reader = BufReader::new(StreamOwned::new(conn, tcp));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = header.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let length = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };
    let authorizations: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n == "authorization")
        .map(|(_, v)| v.clone())
        .collect();
    if let Ok(mut seen) = site.seen.lock() {
        seen.push(authorizations.clone());
    }
    let answer = if site.admits(&authorizations) {
        if let Ok(mut lines) = site.lines.lock() {
            lines.push(format!("{method} {target}"));
        }
        cgi(site, &method, &target, header("content-type"), &body)?
    } else {
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
          Content-Length: 0\r\nConnection: close\r\n\r\n"
            .to_vec()
    };
    let tls = reader.get_mut();
    tls.write_all(&answer)?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
            .map_err(std::io::Error::other)?;
        if size == 0 {
            // The (empty) trailer.
            let mut end = String::new();
            reader.read_line(&mut end)?;
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}

/// The request run through `git http-backend`, and its CGI answer as an HTTP response.
fn cgi(
    site: &Site,
    method: &str,
    target: &str,
    content_type: Option<String>,
    body: &[u8],
) -> std::io::Result<Vec<u8>> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut child = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", &site.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        // Authenticated: http-backend lets only a known user push.
        .env("REMOTE_USER", "ci")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", content_type.unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("a piped stdin");
    let body = body.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .expect("a piped stdout")
        .read_to_end(&mut output)?;
    let _ = writer.join();
    child.wait()?;
    let (head, content) = match find(&output, b"\r\n\r\n") {
        Some(at) => (&output[..at], &output[at + 4..]),
        None => match find(&output, b"\n\n") {
            Some(at) => (&output[..at], &output[at + 2..]),
            None => (&output[..0], &output[..]),
        },
    };
    let head = String::from_utf8_lossy(head);
    let mut status = "200 OK".to_string();
    let mut answer = String::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => {
                status = value.trim().to_string();
            }
            Some(_) => answer.push_str(&format!("{line}\r\n")),
            None => {}
        }
    }
    let mut response = format!(
        "HTTP/1.1 {status}\r\n{answer}Content-Length: {}\r\nConnection: close\r\n\r\n",
        content.len()
    )
    .into_bytes();
    response.extend_from_slice(content);
    Ok(response)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `sshd` on a loopback port, letting in the keys `authorize` is given, as the user
/// running the tests; its git is the test's own (`git-upload-pack`, `git-receive-pack`).
pub struct SshGit {
    pub port: u16,
    dir: PathBuf,
    user: String,
    child: Child,
}

impl SshGit {
    /// Starts sshd with a host key and configuration made in `dir`.
    pub fn start(dir: &Path) -> SshGit {
        // sshd refuses to start without its privilege separation directory.
        if let Err(err) = std::fs::create_dir_all("/run/sshd") {
            panic!("sshd needs /run/sshd and it cannot be made ({err}); create it as root");
        }
        keygen(&dir.join("host_key"));
        std::fs::write(dir.join("authorized_keys"), "").expect("write authorized_keys");
        let user = String::from_utf8_lossy(
            &Command::new("id")
                .arg("-un")
                .output()
                .expect("id -un")
                .stdout,
        )
        .trim()
        .to_string();
        let sshd = ["/usr/sbin/sshd", "/usr/local/sbin/sshd"]
            .into_iter()
            .find(|path| Path::new(path).is_file())
            .unwrap_or("sshd");
        // The port is free when asked; another process may take it before sshd binds
        // it, so a start that fails is tried again on another port.
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let config = dir.join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\n\
                     AuthorizedKeysFile {dir}/authorized_keys\nPidFile none\nUsePAM no\n\
                     StrictModes no\nPasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                     PermitRootLogin prohibit-password\nSetEnv PATH={path}\n",
                    dir = dir.display(),
                    path = std::env::var("PATH").unwrap_or_default(),
                ),
            )
            .expect("write sshd_config");
            let log = dir.join("sshd.log");
            let child = Command::new(sshd)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("create the sshd log"))
                .spawn()
                .unwrap_or_else(|e| panic!("start {sshd} (openssh-server): {e}"));
            let mut server = SshGit {
                port,
                dir: dir.to_path_buf(),
                user: user.clone(),
                child,
            };
            if server.accepting() {
                return server;
            }
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("sshd did not start: {last_log}");
    }

    /// Whether sshd answers with its banner before the deadline (false if it exited).
    fn accepting(&mut self) -> bool {
        let deadline = Instant::now() + START_DEADLINE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut tcp) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
                let mut banner = [0; 4];
                if tcp.read_exact(&mut banner).is_ok() && &banner == b"SSH-" {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Lets in whoever holds the private half of `public_key`.
    pub fn authorize(&self, public_key: &Path) {
        let key = std::fs::read_to_string(public_key).expect("read the public key");
        let mut keys = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("authorized_keys"))
            .expect("open authorized_keys");
        keys.write_all(key.as_bytes()).expect("authorize the key");
    }

    /// The URL of the repository at `path` on this machine.
    pub fn url(&self, path: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            path.display()
        )
    }

    /// The line of `~/.ssh/known_hosts` that vouches for this server's host key.
    pub fn known_hosts_line(&self) -> String {
        let key = std::fs::read_to_string(self.dir.join("host_key.pub")).expect("the host key");
        let mut fields = key.split_whitespace();
        format!(
            "[127.0.0.1]:{} {} {}\n",
            self.port,
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default()
        )
    }
}

impl Drop for SshGit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes an ed25519 key pair, without a passphrase, at `path` and `path.pub`.
pub fn keygen(path: &Path) {
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "relctl-test", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen (openssh-client)");
    assert!(
        made.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&made.stderr)
    );
}

/// A port the OS says is free now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// An HTTP proxy that tunnels `CONNECT` requests, as a corporate proxy does for https,
/// and counts the tunnels it opened.
pub struct ConnectProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let stop = Arc::new(AtomicBool::new(false));
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let (stopped, opened) = (stop.clone(), tunnels.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let opened = opened.clone();
                std::thread::spawn(move || {
                    let _ = tunnel(client, &opened);
                });
            }
        });
        ConnectProxy {
            addr,
            stop,
            tunnels,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `host:port` of each tunnel opened, in order.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn tunnel(client: TcpStream, opened: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        (&client).write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    let upstream = TcpStream::connect(target)?;
    if let Ok(mut opened) = opened.lock() {
        opened.push(target.to_string());
    }
    (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (mut from_client, mut to_upstream) = (reader, upstream.try_clone()?);
    let (mut from_upstream, mut to_client) = (upstream, client);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_upstream);
        let _ = to_upstream.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut from_upstream, &mut to_client);
    let _ = to_client.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
    Ok(())
}
