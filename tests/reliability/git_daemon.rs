//! A `git://` server on a loopback port: every connection is handed to
//! `git daemon --inetd`, which runs upload-pack or receive-pack, hooks included. relctl
//! then talks to its records remote over the network as it would in production (a
//! remote on the local disk is pushed to directly, without git's hooks).

use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct GitDaemon {
    port: u16,
    stop: Arc<AtomicBool>,
    children: Arc<Mutex<Vec<Child>>>,
}

impl GitDaemon {
    /// Serves every repository under `base` as `git://127.0.0.1:PORT/<name>`, pushes
    /// allowed.
    pub fn start(base: &Path) -> GitDaemon {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("the bound address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let children: Arc<Mutex<Vec<Child>>> = Arc::new(Mutex::new(Vec::new()));
        let (base, flag, spawned) = (base.to_path_buf(), stop.clone(), children.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Some(child) = serve(&base, stream) {
                    let mut children = spawned.lock().unwrap_or_else(|e| e.into_inner());
                    // Reap the finished ones as we go.
                    children.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
                    children.push(child);
                }
            }
        });
        GitDaemon {
            port,
            stop,
            children,
        }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

fn serve(base: &Path, stream: TcpStream) -> Option<Child> {
    let input = stream.try_clone().ok()?;
    Command::new("git")
        .args(["daemon", "--inetd", "--export-all", "--informative-errors"])
        .arg("--enable=receive-pack")
        .arg(format!("--base-path={}", base.display()))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::from(OwnedFd::from(input)))
        .stdout(Stdio::from(OwnedFd::from(stream)))
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        let mut children = self.children.lock().unwrap_or_else(|e| e.into_inner());
        for child in children.iter_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
