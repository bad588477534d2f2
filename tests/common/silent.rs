//! A loopback port that accepts every connection and never says a word: a remote (or
//! any server) that hangs.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub struct Silent {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    _held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Silent {
    /// Listens on a port the OS picks; every connection is held open, unanswered.
    pub fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("the bound address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (count, keep) = (accepted.clone(), held.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                keep.lock().unwrap_or_else(|e| e.into_inner()).push(stream);
                count.fetch_add(1, Ordering::SeqCst);
            }
        });
        Silent {
            port,
            accepted,
            _held: held,
        }
    }

    /// A records remote's URL on this port (`git@` for ssh).
    pub fn url(&self, scheme: &str) -> String {
        let user = if scheme == "ssh" { "git@" } else { "" };
        format!("{scheme}://{user}127.0.0.1:{}/records.git", self.port)
    }

    /// How many connections it has accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}
