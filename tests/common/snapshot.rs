//! What makes a command's output comparable from one run to the next, for snapshot
//! tests: a pinned clock per command (opt-in, through the `RELCTL_NOW` test hook: the
//! usual harness leaves the clock alone), and the temp paths, ports, commit ids and
//! timings that differ on every run replaced by names.

use super::Run;
use super::setup::{Setup, quick};

impl Setup {
    /// relctl as `Setup::relctl` runs it, with the clock pinned at `now` (RFC 3339).
    pub fn relctl_at(&self, now: &str, args: &[&str]) -> Run {
        self.env.run_with(args, |c| {
            quick(c);
            c.env("RELCTL_NOW", now);
        })
    }

    /// relctl run by `actor` (as `Setup::relctl_as`) with the clock pinned at `now`.
    pub fn relctl_as_at(&self, actor: &str, now: &str, args: &[&str]) -> Run {
        self.env.operator(actor).run_with(args, |c| {
            quick(c);
            c.env("RELCTL_NOW", now);
        })
    }

    /// `text` with what differs between runs named: the project's and HOME's temp
    /// paths, the platform double's address, commit ids (and the time of the project's
    /// commit), the plan's digest (its text holds the port) and measured durations.
    pub fn normalise(&self, text: &str) -> String {
        let text = text
            .replace(&self.env.path().display().to_string(), "[project]")
            .replace(&self.env.home().display().to_string(), "[home]")
            .replace(&self.platform.url(), "[platform]")
            .replace(&self.platform.addr.to_string(), "[platform]");
        let mut text = commit_ids(&text);
        // At least 7 hex digits after these: the plan's digest and short commit ids.
        for named in [
            ("plan: sha256:", "[plan]"),
            ("source ", "[commit]"),
            ("`", "[commit]"),
            ("run: ", "[run]"),
            ("from run ", "[run]"),
        ] {
            text = replace_after(&text, named, 7, |b| b.is_ascii_hexdigit());
        }
        for marker in ["ms: ", "paused_ms: ", "done in "] {
            text = replace_after(&text, (marker, "[ms]"), 1, |b| b.is_ascii_digit());
        }
        replace_after(&text, ("source_commit_time: ", "[commit time]"), 1, |b| {
            b != b'\n'
        })
    }
}

/// `history` without a release lists the record's commits with the time git's clock
/// gave each (which the pinned clock does not reach): that column named.
pub fn commit_times(text: &str) -> String {
    text.lines()
        .map(|line| {
            let stamp = line.get(..19).filter(|s| {
                s.bytes().enumerate().all(|(i, b)| match i {
                    4 | 7 => b == b'-',
                    10 => b == b' ',
                    13 | 16 => b == b':',
                    _ => b.is_ascii_digit(),
                })
            });
            match stamp {
                Some(_) => format!("[committed at]{}", &line[19..]),
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// Every run of exactly 40 lower-case hex digits standing alone (a git commit id) as
/// `[commit]`.
fn commit_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let ends = bytes
            .get(i + hex)
            .is_none_or(|b| !b.is_ascii_alphanumeric());
        if boundary && ends && hex == 40 {
            out.push_str("[commit]");
            i += hex;
        } else if hex > 0 {
            out.push_str(&text[i..i + hex]);
            i += hex;
        } else {
            let ch = text[i..].chars().next().unwrap_or_default();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// After each `marker`, a run of at least `min` bytes that `part` accepts replaced by
/// `name`.
fn replace_after(
    text: &str,
    (marker, name): (&str, &str),
    min: usize,
    part: impl Fn(u8) -> bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let after = at + marker.len();
        out.push_str(&rest[..after]);
        let tail = &rest[after..];
        let run = tail.bytes().take_while(|b| part(*b)).count();
        if run >= min.max(1) && tail.is_char_boundary(run) {
            out.push_str(name);
            rest = &tail[run..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}
