//! Starting libgit2 for the record. Two of its defaults cost every command time:
//! it reads every CA certificate of the system when it starts (about 25 ms with
//! OpenSSL 3.0), though only a records remote reached over the network needs them, and
//! it does not keep trees over 4 KiB in its object cache, so the `releases/` tree
//! (about 50 bytes a release) is read and parsed again for every file looked up in it.
//! A third would cost a command its end: it waits for a remote without limit.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, OnceLock};

/// The caller's `SSL_CERT_FILE`, once libgit2 was started without certificates.
static DEFERRED: OnceLock<Option<OsString>> = OnceLock::new();

/// Where libgit2 uses OpenSSL; elsewhere it uses the system's TLS, which loads
/// nothing up front.
const OPENSSL: bool = cfg!(all(unix, not(any(target_os = "macos", target_os = "ios"))));

/// Trees up to this size stay parsed in libgit2's cache (256 MiB in all by default):
/// `releases/` with 100,000 releases is about 5 MiB.
const TREE_CACHE_LIMIT: usize = 64 << 20;

/// Starts libgit2 with no CA certificates loaded and a cache that keeps large trees.
/// Must run before any other git call and while the process has a single thread: it
/// sets an environment variable for the moment libgit2 starts, then puts it back.
pub fn start_git() {
    keep_freed_memory();
    let mut first = false;
    let user = DEFERRED.get_or_init(|| {
        first = true;
        std::env::var_os("SSL_CERT_FILE")
    });
    if !first {
        return;
    }
    if OPENSSL {
        // An empty, existing file: OpenSSL reads no certificate from it, and git2's
        // own probing (which fills in only missing or dangling paths) leaves it alone.
        // SAFETY: single-threaded, as this function's contract says.
        unsafe { std::env::set_var("SSL_CERT_FILE", "/dev/null") };
    }
    // SAFETY: single-threaded, as this function's contract says; this call also
    // starts libgit2, once per process.
    if let Err(err) =
        unsafe { git2::opts::set_cache_object_limit(git2::ObjectType::Tree, TREE_CACHE_LIMIT) }
    {
        tracing::debug!(%err, "setting libgit2's tree cache limit");
    }
    // A remote that accepts a connection and never answers would otherwise hold a
    // command forever (libgit2 waits without limit by default).
    let answer = i32::try_from(super::waiting::ANSWER.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: single-threaded, as this function's contract says.
    unsafe {
        for set in [
            git2::opts::set_server_connect_timeout_in_milliseconds,
            git2::opts::set_server_timeout_in_milliseconds,
        ] {
            if let Err(err) = set(answer) {
                tracing::debug!(%err, "setting libgit2's network timeouts");
            }
        }
    }
    // Objects are read as git itself reads them, without hashing each one again to
    // compare with its name: zlib checks every object's data as it inflates it, and
    // re-hashing every tree and file read was a sixth of a rollback's instructions
    // (a hundred thousand release files, most of `report`'s).
    git2::opts::strict_hash_verification(false);
    if OPENSSL {
        // SAFETY: as above.
        unsafe {
            match user {
                Some(file) => std::env::set_var("SSL_CERT_FILE", file),
                None => std::env::remove_var("SSL_CERT_FILE"),
            }
        }
    }
}

/// zlib allocates its window (about 256 KiB to deflate, 40 KiB to inflate) for every
/// object libgit2 writes or reads and frees it after; with glibc's defaults each free
/// gives the memory back to the system (the heap's top trimmed, `brk`) and the next
/// object takes it again: about 1,300 `brk` calls in a promotion. Kept instead (a
/// process of relctl's lifetime and size holds a few MiB more at most). Setting the
/// trim threshold stops glibc from raising its `mmap` threshold as blocks are freed,
/// so that one is set too, at the highest glibc would raise it to: a large tree or
/// file read again and again is not mapped and unmapped each time.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's thresholds; it is called before any
    // other thread starts (start_git's contract).
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

/// Gives libgit2 the CA certificates git2 would have given it at start-up (the
/// caller's `SSL_CERT_FILE`, else the system's bundle), once, if it started without.
/// Called on the thread that fetches and pushes, before it talks to a remote.
pub(super) fn load_certificates() {
    static LOADED: Once = Once::new();
    if !OPENSSL || DEFERRED.get().is_none() {
        return;
    }
    LOADED.call_once(|| {
        let Some(file) = openssl_probe::probe().cert_file else {
            tracing::debug!("no CA certificate bundle found for the records remote");
            return;
        };
        // SAFETY: libgit2 is started and no transfer is under way on another thread.
        if let Err(err) = unsafe { git2::opts::set_ssl_cert_file(&file) } {
            tracing::debug!(file = %file.display(), %err, "loading CA certificates for git");
        }
    });
}

/// Adds the CA certificates in `file` (git's `http.sslCAInfo`) to those libgit2
/// trusts, once per file: libgit2 keeps one set for the whole process, so they are
/// trusted besides the system's rather than instead of them, as git would.
pub(super) fn trust_ca_file(file: &Path) {
    static ADDED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    load_certificates();
    let mut added = ADDED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if added.iter().any(|known| known == file) {
        return;
    }
    added.push(file.to_path_buf());
    // SAFETY: libgit2 is started and no transfer is under way on another thread.
    if let Err(err) = unsafe { git2::opts::set_ssl_cert_file(file) } {
        tracing::warn!(file = %file.display(), %err, "cannot load http.sslCAInfo for the records remote");
    }
}
