//! OpenSSH's allowed-signers file (the format `git` and `ssh-keygen -Y verify` read,
//! ssh-keygen(1) "ALLOWED SIGNERS"), parsed so that a malformed line is reported with
//! its number instead of being skipped: `principals [options] keytype base64-key
//! [comment]`, `#` comments and blank lines allowed.

use base64::Engine as _;
use chrono::{DateTime, Utc};

/// One line that gives a key to principals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Principal patterns (`*` and `?` match as in OpenSSH).
    pub principals: Vec<String>,
    /// `namespaces="…"`: `None` when every namespace is allowed.
    pub namespaces: Option<Vec<String>>,
    pub cert_authority: bool,
    /// `valid-after="…"` and `valid-before="…"`, as OpenSSH reads them.
    pub valid_after: Option<DateTime<Utc>>,
    pub valid_before: Option<DateTime<Utc>>,
    pub keytype: String,
    pub key: String,
}

/// `FILE:LINE: what is wrong` for each line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    pub what: String,
}

/// Every entry of `text`, or every line that does not parse.
pub fn parse(text: &[u8]) -> Result<Vec<Entry>, Vec<Malformed>> {
    let Ok(text) = std::str::from_utf8(text) else {
        return Err(vec![Malformed {
            line: 1,
            what: "the file is not text (UTF-8)".into(),
        }]);
    };
    let mut entries = Vec::new();
    let mut malformed = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match entry(line) {
            Ok(entry) => entries.push(entry),
            Err(what) => malformed.push(Malformed { line: i + 1, what }),
        }
    }
    if malformed.is_empty() {
        Ok(entries)
    } else {
        Err(malformed)
    }
}

/// `text` with every line's principals in lower case, as relctl compares identities
/// (README, "Identity"): ssh-keygen, which checks the signatures, compares principals
/// as they are written, so it is given the file and the principal both folded. Keys,
/// options and comments are left as they are.
pub fn folded(text: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(text) else {
        return text.to_vec();
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        let mut rest = body;
        match field(&mut rest) {
            Ok(principals) if !body.is_empty() && !body.starts_with('#') => {
                out.push_str(&line[..line.len() - body.len()]);
                out.push_str(&principals.to_lowercase());
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    out.into_bytes()
}

/// The problems of a file at `path`, one `path:LINE: what` each, joined by "; ".
pub fn describe(path: &str, malformed: &[Malformed]) -> String {
    malformed
        .iter()
        .map(|m| format!("{path}:{}: {}", m.line, m.what))
        .collect::<Vec<_>>()
        .join("; ")
}

fn entry(line: &str) -> Result<Entry, String> {
    let mut rest = line;
    let principals = field(&mut rest).map_err(|_| "an unclosed `\"` in the principals")?;
    let principals: Vec<String> = principals
        .trim_matches('"')
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if principals.is_empty() {
        return Err("no principal".into());
    }
    let mut next = field(&mut rest).map_err(|_| "an unclosed `\"` in the options")?;
    let (mut namespaces, mut cert_authority) = (None, false);
    let (mut valid_after, mut valid_before) = (None, None);
    if !is_keytype(&next) {
        if next.is_empty() {
            return Err("no key after the principals".into());
        }
        for option in split_options(&next)? {
            let (name, value) = match option.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (option.as_str(), None),
            };
            match (name.to_ascii_lowercase().as_str(), value) {
                ("cert-authority", None) => cert_authority = true,
                ("namespaces", Some(value)) => {
                    namespaces = Some(
                        quoted(value, name)?
                            .split(',')
                            .map(|n| n.trim().to_string())
                            .collect(),
                    );
                }
                ("valid-after", Some(value)) => valid_after = Some(time(quoted(value, name)?)?),
                ("valid-before", Some(value)) => {
                    valid_before = Some(time(quoted(value, name)?)?);
                }
                _ => return Err(format!("unknown option `{option}`")),
            }
        }
        next = field(&mut rest).map_err(|_| "an unclosed `\"`")?;
        if next.is_empty() {
            return Err("no key after the options".into());
        }
        if !is_keytype(&next) {
            return Err(format!("`{next}` is not an SSH key type (ssh-ed25519, …)"));
        }
    }
    let keytype = next;
    let key = field(&mut rest).map_err(|_| "an unclosed `\"`")?;
    if key.is_empty() {
        return Err(format!("no key after the key type `{keytype}`"));
    }
    let Ok(blob) = base64::engine::general_purpose::STANDARD.decode(&key) else {
        return Err(format!("the {keytype} key is not valid base64"));
    };
    if embedded_type(&blob).as_deref() != Some(keytype.as_str()) {
        return Err(format!("the key is not an {keytype} key"));
    }
    Ok(Entry {
        principals,
        namespaces,
        cert_authority,
        valid_after,
        valid_before,
        keytype,
        key,
    })
}

/// The next whitespace-separated field of `rest`, quotes kept together; `Err` on an
/// unclosed quote. Empty at the end of the line.
fn field(rest: &mut &str) -> Result<String, ()> {
    let text = rest.trim_start();
    let mut quoted = false;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    if quoted {
        return Err(());
    }
    *rest = &text[end..];
    Ok(text[..end].to_string())
}

/// `a,b="x,y",c` split at the commas outside quotes.
fn split_options(options: &str) -> Result<Vec<String>, String> {
    let (mut list, mut current, mut quoted) = (Vec::new(), String::new(), false);
    for c in options.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => list.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    list.push(current);
    Ok(list)
}

/// OpenSSH's `YYYYMMDD[HHMM[SS]]`, in UTC with a trailing `Z`, else in local time.
fn time(value: &str) -> Result<DateTime<Utc>, String> {
    let bad = || format!("`{value}` is not a time as YYYYMMDD[HHMM[SS]][Z]");
    let (digits, utc) = match value.strip_suffix(['Z', 'z']) {
        Some(digits) => (digits, true),
        None => (value, false),
    };
    let full = match digits.len() {
        8 => format!("{digits}000000"),
        12 => format!("{digits}00"),
        14 => digits.to_string(),
        _ => return Err(bad()),
    };
    let naive = chrono::NaiveDateTime::parse_from_str(&full, "%Y%m%d%H%M%S").map_err(|_| bad())?;
    if utc {
        return Ok(naive.and_utc());
    }
    naive
        .and_local_timezone(chrono::Local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(bad)
}

/// Why `entry`'s key is not valid at `now` (expired, or not yet valid), if it is not.
pub fn out_of_date(entry: &Entry, now: DateTime<Utc>) -> Option<String> {
    let shown = |t: &DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%SZ").to_string();
    if let Some(before) = entry.valid_before.filter(|b| now >= *b) {
        return Some(format!("expired at {} (valid-before)", shown(&before)));
    }
    if let Some(after) = entry.valid_after.filter(|a| now < *a) {
        return Some(format!("not valid before {} (valid-after)", shown(&after)));
    }
    None
}

fn quoted<'a>(value: &'a str, name: &str) -> Result<&'a str, String> {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or_else(|| format!("the value of `{name}` must be in double quotes"))
}

fn is_keytype(word: &str) -> bool {
    ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"]
        .iter()
        .any(|prefix| word.starts_with(prefix))
}

/// The key type a public key blob names in its first field.
fn embedded_type(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4 + len)?;
    String::from_utf8(name.to_vec()).ok()
}

/// Whether `entry` gives its key to `principal` for git's signatures.
pub fn admits(entry: &Entry, principal: &str) -> bool {
    !entry.cert_authority
        && entry
            .namespaces
            .as_ref()
            .is_none_or(|ns| ns.iter().any(|n| matches(n, "git")))
        && entry
            .principals
            .iter()
            .any(|p| matches(&p.to_lowercase(), &principal.to_lowercase()))
}

/// OpenSSH's pattern match: `*` any run, `?` any one character.
fn matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIGqXg0zcM9hJ6H6f8s2kQ0pV1nYl2m3R2YkF8cOYk5bN";

    #[test]
    fn a_well_formed_file_parses_and_each_kind_of_mistake_is_named_by_line() {
        let good = format!(
            "# who may approve\n\nalice@acme.io namespaces=\"git\" ssh-ed25519 {KEY} alice\n*@sre.acme.io ssh-ed25519 {KEY}\n"
        );
        let entries = parse(good.as_bytes()).expect("parses");
        assert_eq!(entries.len(), 2);
        assert!(admits(&entries[0], "alice@acme.io"));
        assert!(admits(&entries[1], "bob@sre.acme.io"));
        assert!(!admits(&entries[1], "bob@acme.io"));
        let bad = format!(
            "alice@acme.io namespaces=\"git ssh-ed25519 {KEY}\nbob@acme.io ssh-ed25519 not-base64!\ngarbage\ncarol@acme.io ssh-rsa {KEY}\n"
        );
        let malformed = parse(bad.as_bytes()).expect_err("does not parse");
        assert_eq!(
            describe(".relctl/allowed_signers", &malformed),
            ".relctl/allowed_signers:1: an unclosed `\"` in the options; \
             .relctl/allowed_signers:2: the ssh-ed25519 key is not valid base64; \
             .relctl/allowed_signers:3: no key after the principals; \
             .relctl/allowed_signers:4: the key is not an ssh-rsa key"
        );
    }
}
