//! Secret values read from the environment, and the masking that keeps them out of
//! everything relctl prints or records: request summaries, answers, command output, errors.
//! A platform may echo a secret back encoded, so every common encoding is masked too.

use std::fmt;

use base64::Engine as _;

use crate::error::Error;

/// What a secret value becomes in text.
pub const MASK: &str = "***";

/// The URL with the password in its userinfo (`user:password@`) replaced by `MASK`; the
/// user name and everything else are left as written. Over http(s), a user name given
/// alone (`https://TOKEN@host/…`, how many forges take a token) is masked too. git's
/// scp-like form is masked the same way (`ci:TOKEN@host:path`); given a user name alone
/// (`git@host:path`), it has no password to hide and is returned as it is.
pub fn mask_url_password(url: &str) -> String {
    let Some((before, userinfo, after)) = url_userinfo(url) else {
        return url.to_string();
    };
    let http = before.eq_ignore_ascii_case("https://") || before.eq_ignore_ascii_case("http://");
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{before}{user}:{MASK}@{after}"),
        None if !userinfo.is_empty() && http => format!("{before}{MASK}@{after}"),
        None => url.to_string(),
    }
}

/// The password in a URL's userinfo (`user:password@`), if it has one.
pub fn url_password(url: &str) -> Option<&str> {
    let (_, userinfo, _) = url_userinfo(url)?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password).filter(|password| !password.is_empty())
}

/// The credentials written into an http(s) URL: its password (`user:password@`), or a
/// user name given alone (`https://TOKEN@host`, a token). Masked like `secret.*` values
/// wherever a provider's text appears (see `Secrets::with`).
pub fn url_credentials(url: &str) -> Option<&str> {
    let url = url.trim();
    let (before, userinfo, _) = url_userinfo(url)?;
    if !(before.eq_ignore_ascii_case("https://") || before.eq_ignore_ascii_case("http://")) {
        return None;
    }
    match userinfo.split_once(':') {
        Some((_, password)) => Some(password),
        None => Some(userinfo),
    }
    .filter(|credential| !credential.is_empty())
}

/// A URL cut around its userinfo: (what comes before it, the userinfo without its `@`,
/// what comes after the `@`). With a scheme, the userinfo is the authority's part before
/// its last `@`; in git's scp-like form (`[user[:password]@]host:path`, no scheme), the
/// part before the last `@` ahead of the path's first `/`. None when there is none.
pub fn url_userinfo(url: &str) -> Option<(&str, &str, &str)> {
    let (start, end) = match url.find("://") {
        Some(at) => {
            let start = at + "://".len();
            let end = url[start..]
                .find(['/', '?', '#'])
                .map_or(url.len(), |i| start + i);
            (start, end)
        }
        None => (0, url.find('/').unwrap_or(url.len())),
    };
    let at = start + url[start..end].rfind('@')?;
    Some((&url[..start], &url[start..at], &url[at + 1..]))
}

/// The shortest secret relctl accepts: a shorter one would be found in ordinary words
/// and digests, and masking it would garble everything shown and recorded.
pub const MIN_LEN: usize = 6;

/// The secrets a release uses, by name. `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct Secrets {
    values: Vec<(String, String)>,
    /// The values' characters, longest first so that a secret containing another one is
    /// masked whole. Each character is matched in any of its encodings (see `encoded_char`).
    needles: Vec<Vec<char>>,
    /// Each value's base64 forms (standard and URL-safe, with and without padding).
    base64: Vec<String>,
    /// The length in bytes of the shortest value.
    shortest: usize,
}

impl Secrets {
    /// Reads each named secret from the process environment. A missing, empty, blank
    /// (only whitespace) or too short one is a usage error (exit 2) naming every such
    /// secret, raised before anything is deployed.
    pub fn from_env<I, S>(names: I) -> Result<Secrets, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut values = Vec::new();
        let mut missing = Vec::new();
        let mut short = Vec::new();
        for name in names {
            let name = name.as_ref();
            match std::env::var(name) {
                // Masking a blank one would hide every run of spaces in what relctl shows.
                Ok(value) if !value.is_empty() && value.trim().is_empty() => {
                    missing.push(format!("{name} (set but only whitespace)"))
                }
                Ok(value) if value.chars().count() >= MIN_LEN => {
                    values.push((name.to_string(), value))
                }
                Ok(value) if !value.is_empty() => short.push(name.to_string()),
                Ok(_) => missing.push(format!("{name} (set but empty)")),
                Err(std::env::VarError::NotPresent) => missing.push(name.to_string()),
                Err(std::env::VarError::NotUnicode(_)) => {
                    missing.push(format!("{name} (not valid UTF-8)"))
                }
            }
        }
        if !missing.is_empty() {
            let noun = if missing.len() == 1 {
                "secret"
            } else {
                "secrets"
            };
            return Err(Error::usage(format!(
                "missing {noun} {}: the plan reads it from the environment as `secret.NAME`",
                missing.join(", ")
            ))
            .with_hint("export it before running relctl (in CI: from the secret store)"));
        }
        if !short.is_empty() {
            let noun = if short.len() == 1 {
                "secret is"
            } else {
                "secrets are"
            };
            return Err(Error::usage(format!(
                "the {noun} too short to mask safely: {} (fewer than {MIN_LEN} characters)",
                short.join(", ")
            ))
            .with_hint(format!(
                "relctl masks every secret in what it prints and records, and a value this short \
                 would be masked inside ordinary words; use a secret of at least {MIN_LEN} characters"
            )));
        }
        Ok(Secrets::from_values(values))
    }

    /// Secrets given directly, as (name, value) pairs.
    pub fn from_values<I, N, V>(pairs: I) -> Secrets
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<String>,
        V: Into<String>,
    {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let values: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        let mut needles = Vec::new();
        let mut base64 = Vec::new();
        for (_, value) in values.iter().filter(|(_, v)| !v.is_empty()) {
            needles.push(value.chars().collect::<Vec<_>>());
            for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
                base64.push(engine.encode(value));
            }
        }
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        base64.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        base64.dedup();
        let shortest = values
            .iter()
            .map(|(_, v)| v.len())
            .filter(|&n| n > 0)
            .min()
            .unwrap_or(0);
        Secrets {
            values,
            needles,
            base64,
            shortest,
        }
    }

    /// These secrets and more values to mask, under `name` (never rendered: no template
    /// can name them). A value already known is not added twice.
    pub fn with<I, V>(&self, name: &str, more: I) -> Secrets
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        let mut pairs: Vec<(String, String)> = self.values.clone();
        for value in more {
            let value = value.into();
            if !pairs.iter().any(|(_, v)| *v == value) {
                pairs.push((name.to_string(), value));
            }
        }
        Secrets::from_values(pairs)
    }

    /// The value of one secret, for rendering templates (`secret.NAME`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every (name, value) pair, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The text with every occurrence of every secret value replaced by `***`: as is,
    /// JSON-escaped (`\"`, `\u0041`, also escaped again), percent- or form-encoded,
    /// base64 or base64url, or inside a base64 token (a Basic `Authorization` header).
    pub fn mask(&self, text: &str) -> String {
        if self.needles.is_empty() {
            return text.to_string();
        }
        // One left-to-right pass, longest match first: a replacement is never scanned
        // again, so a secret that looks like `*` cannot eat into an earlier `***`.
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        while let Some(c) = text[at..].chars().next() {
            match self.match_at(text, at) {
                Some(end) => {
                    out.push_str(MASK);
                    at = end;
                }
                None => {
                    out.push(c);
                    at += c.len_utf8();
                }
            }
        }
        out
    }

    /// Whether `text` holds a secret in any encoding `mask` hides, or in another case
    /// (`S3CR3T`, and each encoding of that), or hex-encoded (either case): for what must
    /// never be recorded at all, where a form `mask` leaves alone counts too.
    pub fn appear_in(&self, text: &str) -> bool {
        if self.mask(text) != text {
            return true;
        }
        let folded = Secrets::from_values(self.values.iter().flat_map(|(name, value)| {
            [
                (name.clone(), value.to_lowercase()),
                (name.clone(), hex::encode(value.as_bytes())),
            ]
        }));
        let lower = text.to_lowercase();
        folded.mask(&lower) != lower
    }

    /// Where the longest secret starting at `at` ends, in any of its forms.
    fn match_at(&self, text: &str, at: usize) -> Option<usize> {
        let mut best = None;
        for needle in &self.needles {
            if let Some(end) = match_chars(text, at, needle).last() {
                best = best.max(Some(*end));
            }
        }
        let rest = &text[at..];
        if let Some(b64) = self.base64.iter().find(|p| rest.starts_with(p.as_str())) {
            best = best.max(Some(at + b64.len()));
        }
        if at == 0 || !text[..at].ends_with(is_base64_char) {
            let run = base64_run(rest);
            // Four characters of base64 hold three bytes: skip tokens too short to hold one.
            if run * 3 / 4 >= self.shortest && self.in_base64(&rest[..run]) {
                best = best.max(Some(at + run));
            }
        }
        best
    }

    /// True when a base64 token decodes to bytes that hold a secret (`user:secret`).
    fn in_base64(&self, token: &str) -> bool {
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        const LENIENT: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new()
                .with_decode_padding_mode(DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true),
        );
        let standard: String = token
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        // A length of 4n+1 is never valid base64: its last character belongs to
        // something else.
        let usable = standard.len() - usize::from(standard.len() % 4 == 1);
        let Ok(bytes) = LENIENT.decode(&standard[..usable]) else {
            return false;
        };
        self.values
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .any(|(_, v)| memchr::memmem::find(&bytes, v.as_bytes()).is_some())
    }

    /// A JSON value with every string (and key) masked. A number or boolean whose text
    /// is a secret becomes the string `***`.
    pub fn mask_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        if self.needles.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.mask(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.mask_json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.mask(k), self.mask_json(v)))
                    .collect(),
            ),
            Value::Number(_) | Value::Bool(_) => {
                let text = value.to_string();
                let masked = self.mask(&text);
                if masked == text {
                    value.clone()
                } else {
                    Value::String(masked)
                }
            }
            Value::Null => Value::Null,
        }
    }

    /// Masks bytes cut out of a longer stream. Where the excerpt was cut, a secret may
    /// have been cut in two: a start that is the end of a secret (`cut_front`), or an
    /// end that is the beginning of one (`cut_back`), in any of its character
    /// encodings, is masked too.
    pub(crate) fn mask_excerpt(&self, raw: &[u8], cut_front: bool, cut_back: bool) -> String {
        let text = String::from_utf8_lossy(raw);
        let mut text: &str = &text;
        let mut head = "";
        let mut tail = "";
        if cut_front {
            let cut = self
                .needles
                .iter()
                .flat_map(|n| (1..n.len()).map(move |k| &n[k..]))
                .filter_map(|suffix| match_chars(text, 0, suffix).last().copied())
                .max();
            if let Some(n) = cut {
                text = &text[n..];
                head = MASK;
            }
        }
        if cut_back {
            let longest = self.needles.first().map_or(0, Vec::len);
            let from = text.len().saturating_sub(longest * ENCODED_CHAR_MAX);
            let cut = text
                .char_indices()
                .map(|(i, _)| i)
                .filter(|&i| i >= from)
                .find(|&i| self.needles.iter().any(|n| ends_inside(text, i, n)));
            if let Some(i) = cut {
                text = &text[..i];
                tail = MASK;
            }
        }
        format!("{head}{}{tail}", self.mask(text))
    }
}

/// The most bytes one character of a secret takes in any encoding matched (a re-escaped
/// surrogate pair), to bound the search for a secret cut at an excerpt's end.
const ENCODED_CHAR_MAX: usize = 16;

/// Every end of `needle` (in any mix of its characters' encodings) starting at `at`,
/// in ascending order; empty when it does not start there.
fn match_chars(text: &str, at: usize, needle: &[char]) -> Vec<usize> {
    // Most places start no encoding of the first character: tell them apart cheaply.
    let Some(&first) = needle.first() else {
        return vec![at];
    };
    let may_start = match text.as_bytes().get(at) {
        Some(b'%' | b'\\') => true,
        Some(b'+') => first == ' ' || first == '+',
        Some(_) => text[at..].starts_with(first),
        None => false,
    };
    if !may_start {
        return Vec::new();
    }
    let mut ends = vec![at];
    for &c in needle {
        let mut next: Vec<usize> = ends
            .iter()
            .flat_map(|&p| encoded_char(text, p, c))
            .collect();
        next.sort_unstable();
        next.dedup();
        if next.is_empty() {
            return next;
        }
        ends = next;
    }
    ends
}

/// True when the text from `at` to its end is the beginning of `needle` (some but not
/// all of its characters, in any of their encodings).
fn ends_inside(text: &str, at: usize, needle: &[char]) -> bool {
    let mut ends = vec![at];
    for &c in &needle[..needle.len().saturating_sub(1)] {
        ends = ends
            .iter()
            .flat_map(|&p| encoded_char(text, p, c))
            .collect();
        if ends.contains(&text.len()) {
            return true;
        }
        if ends.is_empty() {
            return false;
        }
    }
    false
}

/// Where character `c` ends if it starts at `at` in one of the forms a platform may echo
/// it in: as is; percent-encoded, in either case, also encoded twice (`%2520`); `+` for
/// a space (form encoding); or JSON-escaped (`\"`, `\n`, `\u00e9`, a surrogate pair for
/// characters beyond the BMP), with the backslash itself escaped any number of times
/// (JSON inside a JSON string).
fn encoded_char(text: &str, at: usize, c: char) -> Vec<usize> {
    let rest = &text.as_bytes()[at..];
    let mut ends = Vec::new();
    let mut utf8 = [0; 4];
    let bytes = c.encode_utf8(&mut utf8).as_bytes();
    if rest.starts_with(bytes) {
        ends.push(at + bytes.len());
    }
    if c == ' ' && rest.first() == Some(&b'+') {
        ends.push(at + 1);
    }
    if let Some(n) = percent_encoded(rest, bytes) {
        ends.push(at + n);
    }
    if rest.first() == Some(&b'\\') {
        let mut units = [0; 2];
        let units = c.encode_utf16(&mut units);
        let short = match c {
            '"' => Some(b'"'),
            '\\' => Some(b'\\'),
            '/' => Some(b'/'),
            '\n' => Some(b'n'),
            '\r' => Some(b'r'),
            '\t' => Some(b't'),
            '\u{8}' => Some(b'b'),
            '\u{c}' => Some(b'f'),
            _ => None,
        };
        let slashes = rest.iter().take_while(|&&b| b == b'\\').count();
        // `\\` is an escaped backslash, so every shorter run of them may end one.
        for k in 1..=slashes {
            if short.is_some_and(|s| rest.get(k) == Some(&s)) {
                ends.push(at + k + 1);
            }
        }
        if let Some(n) = unicode_escaped(rest, units, slashes) {
            ends.push(at + n);
        }
    }
    ends
}

/// The length of `bytes` percent-encoded at the start of `text` (`%HH` or `%25HH` each,
/// either case), if they are.
fn percent_encoded(text: &[u8], bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    for &b in bytes {
        let rest = text.get(at..)?;
        let rest = rest.strip_prefix(b"%")?;
        let (skip, rest) = match rest.strip_prefix(b"25") {
            Some(r) if r.len() >= 2 && hex_byte(r) == Some(b) => (3, r),
            _ => (1, rest),
        };
        if hex_byte(rest) != Some(b) {
            return None;
        }
        at += skip + 2;
    }
    Some(at)
}

/// `%HH` escapes decoded, as an HTTP client decodes a URL's userinfo before it sends it.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..).and_then(hex_byte)) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(text: &[u8]) -> Option<u8> {
    let pair = std::str::from_utf8(text.get(..2)?).ok()?;
    u8::from_str_radix(pair, 16).ok()
}

/// The length of `units` written as `\uXXXX` escapes (each with `slashes` backslashes,
/// hex in either case) at the start of `text`, if they are.
fn unicode_escaped(text: &[u8], units: &[u16], slashes: usize) -> Option<usize> {
    let mut at = 0;
    for &unit in units {
        let rest = text.get(at..)?;
        if rest.len() < slashes + 5 || !rest[..slashes].iter().all(|&b| b == b'\\') {
            return None;
        }
        let rest = rest[slashes..].strip_prefix(b"u")?;
        let hex = std::str::from_utf8(&rest[..4]).ok()?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) || u16::from_str_radix(hex, 16).ok()? != unit
        {
            return None;
        }
        at += slashes + 5;
    }
    Some(at)
}

fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_')
}

/// The length of the base64 token at the start of `text`: its alphabet (standard or
/// URL-safe), then up to two `=`; 0 when shorter than 4 characters.
fn base64_run(text: &str) -> usize {
    let body = text.len() - text.trim_start_matches(is_base64_char).len();
    if body < 4 {
        return 0;
    }
    let padding = text[body..]
        .bytes()
        .take(2)
        .take_while(|&b| b == b'=')
        .count();
    body + padding
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field(
                "names",
                &self.values.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The first `max` bytes of a text (on a character boundary), with `…` when cut.
pub(crate) fn head(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The last `max` bytes of a text (on a character boundary), with `…` when cut.
pub(crate) fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secrets() -> Secrets {
        Secrets::from_values([
            ("TOKEN", "s3cr3t-token"),
            ("SHORT", "s3cr3t"),
            ("Q", "a\"b"),
        ])
    }

    #[test]
    fn a_url_shows_its_user_but_not_its_password_nor_a_token_given_as_the_user() {
        for (url, shown) in [
            (
                "https://ci:glcbt-abc@gitlab.com/acme/app.git",
                "https://ci:***@gitlab.com/acme/app.git",
            ),
            (
                "https://me:p@ss@prom:9090?q=1#f",
                "https://me:***@prom:9090?q=1#f",
            ),
            ("https://me:@host/x", "https://me:***@host/x"),
            (
                "https://ghp_t0kenAsUser@git.example.com/app",
                "https://***@git.example.com/app",
            ),
            (
                "ssh://git@git.example.com/app",
                "ssh://git@git.example.com/app",
            ),
            ("https://host/a@b:c", "https://host/a@b:c"),
            ("git@github.com:acme/app", "git@github.com:acme/app"),
            (
                "ci:s3cr3t@example.invalid:org/records.git",
                "ci:***@example.invalid:org/records.git",
            ),
            ("ci:t@k@host:a/b@c", "ci:***@host:a/b@c"),
            ("/srv/git/a:b@c/records.git", "/srv/git/a:b@c/records.git"),
        ] {
            assert_eq!(mask_url_password(url), shown, "{url}");
        }
    }

    #[test]
    fn the_credentials_of_an_http_url_are_its_password_or_its_lone_user() {
        for (url, credentials) in [
            ("http://admin:hunter2@prom:9090", Some("hunter2")),
            ("https://TOKEN123@prom/x", Some("TOKEN123")),
            ("http://me:@host", None),
            ("http://prom:9090/a@b", None),
            ("git@github.com:acme/app", None),
            ("ssh://git@host/app", None),
        ] {
            assert_eq!(url_credentials(url), credentials, "{url}");
        }
    }

    #[test]
    fn masks_every_occurrence_longest_first() {
        let s = secrets();
        assert_eq!(
            s.mask("Bearer s3cr3t-token and s3cr3t, s3cr3t-token!"),
            "Bearer *** and ***, ***!"
        );
        assert_eq!(s.mask("nothing here"), "nothing here");
        // The JSON-escaped form of a value is a secret too.
        assert_eq!(s.mask(r#"{"q":"a\"b"}"#), r#"{"q":"***"}"#);
        assert_eq!(s.mask("é s3cr3t ü"), "é *** ü");
    }

    #[test]
    fn masks_every_common_encoding() {
        let s = Secrets::from_values([("T", "p@ss wörd/\"x\"+1")]);
        for encoded in [
            r#"p@ss wörd/"x"+1"#,
            // JSON, with `/` escaped, and with only non-ASCII or every character as \u
            r#"p@ss w\u00f6rd\/\"x\"+1"#,
            r#"\u0070\u0040\u0073\u0073\u0020\u0077\u00F6\u0072\u0064\u002f\u0022\u0078\u0022\u002B\u0031"#,
            // JSON escaped again (a JSON document inside a JSON string)
            r#"p@ss w\\u00f6rd/\\\"x\\\"+1"#,
            // percent and form encoding, upper and lower case, and encoded twice
            "p%40ss%20w%C3%B6rd%2F%22x%22%2B1",
            "p%40ss+w%c3%b6rd/%22x%22%2b1",
            "%70%40%73%73%20%77%c3%b6%72%64%2f%22%78%22%2b%31",
            "p%2540ss%2520w%25C3%25B6rd%252F%2522x%2522%252B1",
            // base64, with and without padding
            "cEBzcyB3w7ZyZC8ieCIrMQ==",
            "cEBzcyB3w7ZyZC8ieCIrMQ",
        ] {
            assert_eq!(s.mask(&format!("<{encoded}>")), "<***>", "{encoded}");
        }
        // base64url, and a character beyond the BMP as a surrogate pair.
        let s = Secrets::from_values([("T", "\u{1F600}~~>>??")]);
        assert_eq!(s.mask("a 8J-YgH5-Pj4_Pw b"), "a *** b");
        assert_eq!(s.mask("a 8J+YgH5+Pj4/Pw== b"), "a *** b");
        assert_eq!(s.mask(r#"[\ud83d\uDE00~~>>??]"#), "[***]");
    }

    #[test]
    fn a_secret_appears_in_another_case_and_in_hex_too() {
        let s = Secrets::from_values([("T", "s3cr3t-Value")]);
        for text in [
            "x S3CR3T-VALUE y",
            "x 7333637233742d56616c7565 y",
            "7333637233742D56616C7565",
            "s3cr3t%2DValue",
        ] {
            assert!(s.appear_in(text), "{text}");
        }
        assert!(!s.appear_in("nothing here, 733363"));
    }

    #[test]
    fn masks_a_secret_inside_a_base64_token() {
        use base64::Engine as _;
        // `Basic base64(user:secret)`: the secret's own base64 is not a substring of it.
        let s = Secrets::from_values([("PASSWORD", "s3cr3t-value")]);
        let basic = base64::engine::general_purpose::STANDARD.encode("deployer:s3cr3t-value");
        assert_eq!(
            s.mask(&format!("Authorization: Basic {basic}")),
            "Authorization: Basic ***"
        );
        assert_eq!(
            s.mask(&format!(r#"{{"auth":"{}"}}"#, basic.trim_end_matches('='))),
            r#"{"auth":"***"}"#
        );
        // Base64 that holds no secret is left alone.
        assert_eq!(
            s.mask("Basic ZGVwbG95ZXI6b3RoZXI="),
            "Basic ZGVwbG95ZXI6b3RoZXI="
        );
    }

    #[test]
    fn masks_encoded_secrets_cut_at_an_excerpt_edge() {
        let s = Secrets::from_values([("T", "s3cr3t value")]);
        assert_eq!(s.mask_excerpt(b"t%20value tail", true, false), "*** tail");
        assert_eq!(s.mask_excerpt(b"head s3cr3t+va", false, true), "head ***");
        assert_eq!(
            s.mask_excerpt(br"head \u0073\u0033", false, true),
            "head ***"
        );
    }

    #[test]
    fn empty_values_mask_nothing() {
        let s = Secrets::from_values([("EMPTY", "")]);
        assert_eq!(s.mask("abc"), "abc");
        assert_eq!(s.mask_json(&json!({"a": "abc"})), json!({"a": "abc"}));
    }

    #[test]
    fn a_star_secret_does_not_eat_masks() {
        let s = Secrets::from_values([("A", "tok"), ("B", "*")]);
        assert_eq!(s.mask("tok*"), "******");
        assert_eq!(s.mask("x"), "x");
    }

    #[test]
    fn masks_json_strings_keys_and_numbers() {
        let s = Secrets::from_values([("T", "s3cr3t"), ("PIN", "4711")]);
        let v = json!({"auth": "Bearer s3cr3t", "s3cr3t": [1, 4711, true], "n": null});
        assert_eq!(
            s.mask_json(&v),
            json!({"auth": "Bearer ***", "***": [1, "***", true], "n": null})
        );
    }

    #[test]
    fn masks_secrets_cut_at_an_excerpt_edge() {
        let s = secrets();
        assert_eq!(s.mask_excerpt(b"-token tail", true, false), "*** tail");
        assert_eq!(s.mask_excerpt(b"head s3cr", false, true), "head ***");
        assert_eq!(s.mask_excerpt(b"plain", true, true), "plain");
        assert_eq!(s.mask_excerpt(b"s3cr3t-token", true, true), "***");
    }

    #[test]
    fn from_env_names_what_is_missing() {
        let err = Secrets::from_env(["RELCTL_TEST_SURELY_UNSET_1", "RELCTL_TEST_SURELY_UNSET_2"])
            .unwrap_err();
        assert_eq!(err.exit, crate::error::Exit::Usage);
        let text = err.to_string();
        assert!(text.contains("RELCTL_TEST_SURELY_UNSET_1"), "{text}");
        assert!(text.contains("RELCTL_TEST_SURELY_UNSET_2"), "{text}");
        // PATH is always set in a test process.
        let s = Secrets::from_env(["PATH"]).unwrap();
        assert!(s.get("PATH").is_some());
        assert!(!format!("{s:?}").contains(s.get("PATH").unwrap()));
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(head("héllo", 2), "h…");
        assert_eq!(tail("héllo", 4), "…llo");
        assert_eq!(head("abc", 3), "abc");
    }
}
