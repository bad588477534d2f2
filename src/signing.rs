//! SSH signatures on record commits, made and checked as git makes and checks them
//! with `gpg.format=ssh`: `ssh-keygen -Y sign` with the caller's `user.signingkey`, and
//! `ssh-keygen -Y verify` against an allowed-signers file (docs/trust.md).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::error::Error;

/// The namespace git signs commits in; a signature made for anything else does not count.
const NAMESPACE: &str = "git";

/// The caller's signing key: a key file (a public key signs through ssh-agent), or a
/// `key::` literal written to a file of our own for ssh-keygen.
pub struct Key {
    path: PathBuf,
    /// Holds the literal's file for as long as the key is used.
    _literal: Option<tempfile::NamedTempFile>,
}

/// The signing key git's configuration in `dir` gives (`user.signingkey` with
/// `gpg.format=ssh`), `None` when it gives none.
pub fn configured(dir: &Path) -> Result<Option<Key>> {
    let Some(config) = crate::identity::git_config(dir) else {
        return Ok(None);
    };
    let format = config.get_string("gpg.format").unwrap_or_default();
    let Ok(value) = config.get_string("user.signingkey") else {
        return Ok(None);
    };
    let value = value.trim();
    if value.is_empty() || !format.trim().eq_ignore_ascii_case("ssh") {
        return Ok(None);
    }
    if let Some(literal) = value.strip_prefix("key::") {
        let mut file = tempfile::NamedTempFile::new().context("writing the signing key literal")?;
        writeln!(file, "{}", literal.trim()).context("writing the signing key literal")?;
        return Ok(Some(Key {
            path: file.path().to_path_buf(),
            _literal: Some(file),
        }));
    }
    let path = match value.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(rest))
            .unwrap_or_else(|| PathBuf::from(value)),
        None => PathBuf::from(value),
    };
    Ok(Some(Key {
        path,
        _literal: None,
    }))
}

/// The refusal to record a decision that must be signed when no key is configured (exit 2).
pub fn missing_key(what: &str) -> Error {
    Error::usage(format!(
        "{what} must be signed here (the plan's approval has `signed: true`), and git has no SSH signing key configured"
    ))
    .with_hint(
        "configure one in the plan's repository: `git config user.signingkey ~/.ssh/id_ed25519.pub; git config gpg.format ssh` (docs/trust.md)",
    )
}

impl Key {
    /// The public half (`ssh-ed25519 AAAA…`), when it can be read without the private
    /// key: a public key file, a `key::` literal, or the `.pub` beside a private key.
    pub fn public(&self) -> Option<String> {
        let beside = PathBuf::from(format!("{}.pub", self.path.display()));
        [&self.path, &beside].iter().find_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let line = text.lines().next()?.trim().to_string();
            (line.starts_with("ssh-") || line.starts_with("ecdsa-") || line.starts_with("sk-"))
                .then_some(line)
        })
    }

    /// An armored SSH signature of `data` in git's namespace, as git puts in `gpgsig`.
    pub fn sign(&self, data: &[u8]) -> Result<String> {
        let path = self.path.to_string_lossy().into_owned();
        let out = keygen(&["-Y", "sign", "-n", NAMESPACE, "-f", &path], data)
            .with_context(|| format!("signing a record commit with {path}"))?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            if self._literal.is_some() {
                return Err(Error::usage(
                    "ssh-agent has no key for the `key::` literal git's user.signingkey gives",
                )
                .with_hint("is SSH_AUTH_SOCK set? add the key to the agent: `ssh-add KEY`")
                .into());
            }
            if said.contains("passphrase") {
                return Err(Error::usage(format!(
                    "the signing key {path} needs its passphrase, and there is no terminal to ask for it"
                ))
                .with_hint(format!("add it to ssh-agent: `ssh-add {path}`"))
                .into());
            }
            bail!("ssh-keygen could not sign with {path}: {}", said.trim());
        }
        String::from_utf8(out.stdout).context("ssh-keygen's signature is not text")
    }
}

/// What checking one signature found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The key's fingerprint (`SHA256:…`), when the signature could be read.
    pub fingerprint: Option<String>,
    /// `None`: signed by a key the allowed signers give the principal.
    pub problem: Option<Problem>,
}

/// Why a signature does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Unsigned,
    /// Not a valid signature of this commit: altered after signing, or not a signature.
    Bad,
    /// A good signature by a key the allowed-signers file does not list.
    UnknownKey,
    /// A good signature by a key the file gives to these principals, not the one claimed.
    OtherPrincipal(Vec<String>),
    /// A good signature by a key the file gives the principal only for a time, and that
    /// time is not now: why (`expired at 2020-01-01 00:00:00Z`).
    OutOfDate(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Unsigned => f.write_str("unsigned"),
            Problem::Bad => f.write_str("bad signature (the commit was altered after it was signed, or the signature is not valid)"),
            Problem::UnknownKey => f.write_str("signed by a key that is not in the allowed signers"),
            Problem::OtherPrincipal(owners) => write!(
                f,
                "signed by a key the allowed signers give to {}, not to the approver",
                owners.join(", ")
            ),
            Problem::OutOfDate(why) => write!(
                f,
                "signed by a key the allowed signers give the approver with a time limit, and it is {why}"
            ),
        }
    }
}

/// Whether `signature` signs `data` with a key `allowed` (an allowed-signers file's
/// bytes) gives `principal`.
pub fn check(allowed: &[u8], principal: &str, data: &[u8], signature: &str) -> Result<Checked> {
    let files = Files::write(&crate::allowed_signers::folded(allowed), signature)?;
    let Some(fingerprint) = files.good(data)? else {
        return Ok(Checked {
            fingerprint: None,
            problem: Some(Problem::Bad),
        });
    };
    let verified = keygen(
        &[
            "-Y",
            "verify",
            "-n",
            NAMESPACE,
            "-f",
            &files.signers(),
            "-I",
            &principal.to_lowercase(),
            "-s",
            &files.sig(),
        ],
        data,
    )?;
    let problem = if verified.status.success() {
        None
    } else {
        let owners = files.principals()?;
        Some(match out_of_date(allowed, principal, &fingerprint) {
            Some(why) => Problem::OutOfDate(why),
            None if owners.is_empty() => Problem::UnknownKey,
            None => Problem::OtherPrincipal(owners),
        })
    };
    Ok(Checked {
        fingerprint: Some(fingerprint),
        problem,
    })
}

/// Why the lines of `allowed` that give the key with `fingerprint` to `principal` do
/// not hold now, when there are such lines and none holds.
fn out_of_date(allowed: &[u8], principal: &str, fingerprint: &str) -> Option<String> {
    let now = crate::clock::now();
    let lines: Vec<_> = crate::allowed_signers::parse(allowed)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| crate::allowed_signers::admits(e, principal))
        .filter(|e| key_fingerprint(&e.key).is_some_and(|f| f == fingerprint))
        .collect();
    let why: Option<Vec<String>> = lines
        .iter()
        .map(|e| crate::allowed_signers::out_of_date(e, now))
        .collect();
    why.filter(|why| !why.is_empty()).map(|why| why.join("; "))
}

/// The fingerprint ssh-keygen gives a public key (`SHA256:…`), from its base64 blob
/// (the second word of `ssh-ed25519 AAAA… comment`).
pub fn key_fingerprint(base64_blob: &str) -> Option<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(base64_blob)
        .ok()?;
    let digest = sha2::Sha256::digest(&blob);
    Some(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    ))
}

/// Who made a valid `signature` of `data`: the key's fingerprint and the principals
/// `allowed` gives it; `None` when it is not a valid signature of `data`.
pub fn signer(
    allowed: &[u8],
    data: &[u8],
    signature: &str,
) -> Result<Option<(String, Vec<String>)>> {
    let files = Files::write(&crate::allowed_signers::folded(allowed), signature)?;
    let Some(fingerprint) = files.good(data)? else {
        return Ok(None);
    };
    Ok(Some((fingerprint, files.principals()?)))
}

/// A signature and an allowed-signers file written where ssh-keygen can read them.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn write(allowed: &[u8], signature: &str) -> Result<Files> {
        let dir = tempfile::tempdir().context("making a directory to check a signature in")?;
        std::fs::write(dir.path().join("commit.sig"), signature)
            .context("writing a signature to check")?;
        std::fs::write(dir.path().join("allowed_signers"), allowed)
            .context("writing the allowed signers to check with")?;
        Ok(Files { dir })
    }

    fn sig(&self) -> String {
        self.dir
            .path()
            .join("commit.sig")
            .to_string_lossy()
            .into_owned()
    }

    fn signers(&self) -> String {
        self.dir
            .path()
            .join("allowed_signers")
            .to_string_lossy()
            .into_owned()
    }

    /// The key's fingerprint when the signature is a valid one of `data`, whoever made it.
    fn good(&self, data: &[u8]) -> Result<Option<String>> {
        let out = keygen(
            &["-Y", "check-novalidate", "-n", NAMESPACE, "-s", &self.sig()],
            data,
        )?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(Some(
            fingerprint(&String::from_utf8_lossy(&out.stdout))
                .or_else(|| fingerprint(&String::from_utf8_lossy(&out.stderr)))
                .unwrap_or_else(|| "unknown key".to_string()),
        ))
    }

    /// The principals the allowed signers give the signature's key.
    fn principals(&self) -> Result<Vec<String>> {
        let out = keygen(
            &[
                "-Y",
                "find-principals",
                "-f",
                &self.signers(),
                "-s",
                &self.sig(),
            ],
            b"",
        )?;
        if !out.status.success() {
            return Ok(Vec::new());
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// `SHA256:…` from ssh-keygen's "Good "git" signature … with ED25519 key SHA256:…".
fn fingerprint(said: &str) -> Option<String> {
    said.split_whitespace()
        .find(|word| word.starts_with("SHA256:"))
        .map(str::to_string)
}

/// Runs `ssh-keygen` with `input` on its standard input.
fn keygen(args: &[&str], input: &[u8]) -> Result<std::process::Output> {
    let mut child = Command::new("ssh-keygen")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running ssh-keygen (OpenSSH 8.2 or later signs and checks record commits)")?;
    if let Some(mut stdin) = child.stdin.take() {
        // A refusal may close stdin before reading it all; what it says is on stderr.
        let _ = stdin.write_all(input);
    }
    child.wait_with_output().context("running ssh-keygen")
}
