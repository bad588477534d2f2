//! A raw TCP server in front of the platform double that breaks HTTP the way networks
//! and overloaded platforms do: it never answers, resets the connection half way through
//! an answer, dribbles the body, or answers with broken JSON. Requests without a scripted
//! fault go through to the platform unchanged, so the platform's log stays the truth
//! about what reached it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One way of breaking one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No fault: through to the platform (to script "this one passes, the next fails").
    Pass,
    /// An answer with this status, from the fault server; nothing reaches the platform.
    Status(u16),
    /// Hold the connection without a word; nothing reaches the platform.
    Hang,
    /// The platform gets the request and acts; the answer is cut half way through its
    /// body by a TCP reset.
    ResetMidResponse,
    /// The platform gets the request; its answer's head comes at once and the body one
    /// byte every 200ms, far slower than any timeout in these tests.
    SlowBody,
    /// The platform gets the request; the answer is a 200 whose body is cut-off JSON.
    Malformed,
}

/// A request the fault server saw, and what it did to it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct Script {
    /// Faults for the next requests whose path starts with a prefix, in order.
    next: Vec<(String, VecDeque<Fault>)>,
    /// A fault for every request whose path starts with a prefix (after `next`).
    always: Vec<(String, Fault)>,
    seen: Vec<Seen>,
}

impl Script {
    fn fault_for(&mut self, path: &str) -> Option<Fault> {
        for (prefix, queue) in &mut self.next {
            if path.starts_with(prefix.as_str())
                && let Some(fault) = queue.pop_front()
            {
                return Some(fault);
            }
        }
        self.always
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, fault)| *fault)
    }
}

pub struct FaultServer {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    _runtime: tokio::runtime::Runtime,
}

impl FaultServer {
    /// Listens on a loopback port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the fault server");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, upstream, shared.clone()));
            }
        });
        FaultServer {
            addr,
            script,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next requests under `prefix` meet these faults, one each.
    pub fn next(&self, prefix: &str, faults: &[Fault]) {
        self.lock()
            .next
            .push((prefix.to_string(), faults.iter().copied().collect()));
    }

    /// Every request under `prefix` meets `fault` (once the scripted ones are used up).
    pub fn always(&self, prefix: &str, fault: Fault) {
        self.lock().always.push((prefix.to_string(), fault));
    }

    /// Back to passing everything through.
    pub fn heal(&self) {
        let mut script = self.lock();
        script.next.clear();
        script.always.clear();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// How many requests under `prefix` met `fault`.
    pub fn count(&self, prefix: &str, fault: Fault) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path.starts_with(prefix) && s.fault == Some(fault))
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A request as read off the wire: its head (through the blank line) and body.
struct Raw {
    head: Vec<u8>,
    body: Vec<u8>,
    path: String,
}

async fn read_request(stream: &mut TcpStream) -> Option<Raw> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let target = head
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(Raw {
        head: buf[..head_end].to_vec(),
        body: buf[head_end..head_end + length].to_vec(),
        path,
    })
}

/// Sends the request to the platform on a connection of its own (asking it to close
/// after answering) and returns the whole answer.
async fn forward(upstream: SocketAddr, raw: &Raw) -> Option<Vec<u8>> {
    let mut conn = TcpStream::connect(upstream).await.ok()?;
    let line_end = raw.head.windows(2).position(|w| w == b"\r\n")? + 2;
    let mut request = raw.head[..line_end].to_vec();
    request.extend_from_slice(b"connection: close\r\n");
    request.extend_from_slice(&raw.head[line_end..]);
    request.extend_from_slice(&raw.body);
    conn.write_all(&request).await.ok()?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.ok()?;
    Some(answer)
}

fn split_answer(answer: &[u8]) -> (&[u8], &[u8]) {
    match answer.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => answer.split_at(i + 4),
        None => (answer, &[]),
    }
}

async fn serve(mut stream: TcpStream, upstream: SocketAddr, script: Arc<Mutex<Script>>) {
    // One request per connection: every answer below says `connection: close`.
    let Some(raw) = read_request(&mut stream).await else {
        return;
    };
    let fault = {
        let mut script = script.lock().unwrap_or_else(|e| e.into_inner());
        let fault = script.fault_for(&raw.path);
        script.seen.push(Seen {
            path: raw.path.clone(),
            fault,
        });
        fault
    };
    if let Some(Fault::Status(status)) = fault {
        let text = format!(
            "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
        );
        let _ = stream.write_all(text.as_bytes()).await;
        let _ = stream.shutdown().await;
        return;
    }
    if fault == Some(Fault::Hang) {
        // Until the client gives up (bounded, so a test that forgets cannot hang us).
        let mut chunk = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(120), async {
            while matches!(stream.read(&mut chunk).await, Ok(n) if n > 0) {}
        })
        .await;
        return;
    }
    let Some(answer) = forward(upstream, &raw).await else {
        return;
    };
    let (head, body) = split_answer(&answer);
    match fault {
        None | Some(Fault::Pass | Fault::Hang | Fault::Status(_)) => {
            let _ = stream.write_all(&answer).await;
            let _ = stream.shutdown().await;
        }
        Some(Fault::ResetMidResponse) => {
            let _ = stream.write_all(head).await;
            let _ = stream.write_all(&body[..body.len() / 2]).await;
            let _ = stream.flush().await;
            let _ = stream.set_zero_linger();
            drop(stream); // RST, not FIN
        }
        Some(Fault::SlowBody) => {
            if stream.write_all(head).await.is_err() {
                return;
            }
            for byte in body {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if stream.write_all(&[*byte]).await.is_err() {
                    return; // the client gave up
                }
            }
        }
        Some(Fault::Malformed) => {
            let broken = br#"{"id": "dev", "state": "ready", "digest": "sha2"#;
            let text = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                broken.len()
            );
            let _ = stream.write_all(text.as_bytes()).await;
            let _ = stream.write_all(broken).await;
            let _ = stream.shutdown().await;
        }
    }
}
