//! Secret values read from the environment, and the masking that keeps them out of
//! everything relctl prints or records: request summaries, answers, command output, errors.

use std::fmt;

use crate::error::Error;

/// What a secret value becomes in text.
pub const MASK: &str = "***";

/// The secrets a release uses, by name. `Debug` shows the names only.
#[derive(Clone, Default)]
pub struct Secrets {
    values: Vec<(String, String)>,
    /// Every form a value may take in text (as is, escaped inside a JSON string),
    /// longest first so that a secret containing another one is masked whole.
    patterns: Vec<String>,
}

impl Secrets {
    /// Reads each named secret from the process environment. A missing or empty one is a
    /// usage error (exit 2) naming every such secret, raised before anything is deployed.
    pub fn from_env<I, S>(names: I) -> Result<Secrets, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut values = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            let name = name.as_ref();
            match std::env::var(name) {
                Ok(value) if !value.is_empty() => values.push((name.to_string(), value)),
                Ok(_) => missing.push(format!("{name} (set but empty)")),
                Err(std::env::VarError::NotPresent) => missing.push(name.to_string()),
                Err(std::env::VarError::NotUnicode(_)) => {
                    missing.push(format!("{name} (not valid UTF-8)"))
                }
            }
        }
        if missing.is_empty() {
            return Ok(Secrets::from_values(values));
        }
        let noun = if missing.len() == 1 {
            "secret"
        } else {
            "secrets"
        };
        Err(Error::usage(format!(
            "missing {noun} {}: the plan reads it from the environment as `secret.NAME`",
            missing.join(", ")
        ))
        .with_hint("export it before running relctl (in CI: from the secret store)"))
    }

    /// Secrets given directly, as (name, value) pairs.
    pub fn from_values<I, N, V>(pairs: I) -> Secrets
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<String>,
        V: Into<String>,
    {
        let values: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        let mut patterns = Vec::new();
        for (_, value) in &values {
            if value.is_empty() {
                continue;
            }
            patterns.push(value.clone());
            let escaped = serde_json::to_string(value).unwrap_or_default();
            let escaped = escaped.trim_start_matches('"').trim_end_matches('"');
            if escaped != value && !escaped.is_empty() {
                patterns.push(escaped.to_string());
            }
        }
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        patterns.dedup();
        Secrets { values, patterns }
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

    /// The text with every occurrence of every secret value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        if self.patterns.is_empty() {
            return text.to_string();
        }
        // One left-to-right pass, longest match first: a replacement is never scanned
        // again, so a secret that looks like `*` cannot eat into an earlier `***`.
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        'scan: while let Some(c) = rest.chars().next() {
            for pattern in &self.patterns {
                if rest.starts_with(pattern.as_str()) {
                    out.push_str(MASK);
                    rest = &rest[pattern.len()..];
                    continue 'scan;
                }
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    /// A JSON value with every string (and key) masked. A number or boolean whose text
    /// is a secret becomes the string `***`.
    pub fn mask_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        if self.patterns.is_empty() {
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
    /// have been cut in two: a start that is the end of a secret value (`cut_front`), or
    /// an end that is the beginning of one (`cut_back`), is masked too.
    pub(crate) fn mask_excerpt(&self, raw: &[u8], cut_front: bool, cut_back: bool) -> String {
        let mut raw = raw;
        let mut head = "";
        let mut tail = "";
        if cut_front {
            let cut = self
                .patterns
                .iter()
                .flat_map(|p| (1..p.len()).map(move |k| &p.as_bytes()[k..]))
                .filter(|suffix| raw.starts_with(suffix))
                .map(<[u8]>::len)
                .max();
            if let Some(n) = cut {
                raw = &raw[n..];
                head = MASK;
            }
        }
        if cut_back {
            let cut = self
                .patterns
                .iter()
                .flat_map(|p| (1..p.len()).map(move |k| &p.as_bytes()[..k]))
                .filter(|prefix| raw.ends_with(prefix))
                .map(<[u8]>::len)
                .max();
            if let Some(n) = cut {
                raw = &raw[..raw.len() - n];
                tail = MASK;
            }
        }
        format!("{head}{}{tail}", self.mask(&String::from_utf8_lossy(raw)))
    }
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
