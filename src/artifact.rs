//! Artifact references: an image (or any artifact) pinned by digest, never by tag.

use std::fmt;

use crate::error::Error;

/// A digest-pinned artifact: `NAME@sha256:<64 hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    /// The 64 lowercase hex characters after `sha256:`.
    hex: String,
}

impl Artifact {
    /// Parse what a user passed to `--artifact`: `NAME@sha256:…`, `NAME:TAG@sha256:…`
    /// (the digest wins; the tag is dropped) or a bare `sha256:…`, where NAME must be the
    /// plan's artifact name.
    pub fn parse(input: &str, plan_name: &str) -> Result<Artifact, Error> {
        let input = input.trim();
        let (name, digest) = match input.rsplit_once('@') {
            Some((name, digest)) => (without_tag(name), digest),
            None if input.starts_with("sha256:") => (plan_name, input),
            None => return Err(tag_error(input)),
        };
        if name != plan_name {
            return Err(Error::usage(format!(
                "artifact `{name}` is not this plan's artifact `{plan_name}`"
            ))
            .with_hint(format!(
                "pass {plan_name}@sha256:<digest>, or the bare sha256:<digest>"
            )));
        }
        let Some(hex) = digest.strip_prefix("sha256:") else {
            return Err(
                Error::usage(format!("artifact digest `{digest}` is not a sha256 digest"))
                    .with_hint("digests look like sha256:<64 hex characters>"),
            );
        };
        if let Some((at, c)) = hex
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_hexdigit())
        {
            return Err(Error::usage(format!(
                "artifact digest `sha256:{hex}` has `{c}` at position {}, which is not a hex \
                 digit (0-9, a-f)",
                at + 1
            ))
            .with_hint("copy the digest whole (e.g. from `crane digest IMAGE:TAG`)"));
        }
        if hex.len() != 64 {
            return Err(Error::usage(format!(
                "artifact digest `sha256:{hex}` has {} hex characters; a sha256 digest has 64",
                hex.len()
            ))
            .with_hint(
                "short digests are ambiguous; copy the full digest (e.g. `crane digest IMAGE:TAG`)",
            ));
        }
        Ok(Artifact {
            name: name.to_string(),
            hex: hex.to_ascii_lowercase(),
        })
    }

    /// `sha256:<64 hex>`.
    pub fn digest(&self) -> String {
        format!("sha256:{}", self.hex)
    }

    /// The first 12 hex characters, as in release ids and tables.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }

    /// The release id of this artifact in an app: `<app>-<first 12 hex>`.
    pub fn release_id(&self, app: &str) -> String {
        format!("{app}-{}", self.short())
    }
}

impl fmt::Display for Artifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@sha256:{}", self.name, self.hex)
    }
}

/// `name` without a `:tag` on its last path component (a registry's `:port` stays).
fn without_tag(name: &str) -> &str {
    let last = name.rfind('/').map_or(0, |i| i + 1);
    match name[last..].find(':') {
        Some(colon) => &name[..last + colon],
        None => name,
    }
}

fn tag_error(input: &str) -> Error {
    let what = if input
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'))
    {
        "is pinned by a tag, not a digest"
    } else {
        "has no digest"
    };
    Error::usage(format!("artifact `{input}` {what}"))
        .with_hint("tags move; pass NAME@sha256:<64 hex> (e.g. from `crane digest IMAGE:TAG`)")
}

/// Checks an artifact *name* as the plan declares it (an OCI-style repository path,
/// optionally with a registry host and port). Returns the problem, if any.
pub fn check_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("artifact name is empty".into());
    }
    if name.contains('@') {
        return Some(format!(
            "artifact name `{name}` must not carry a digest; the digest is given to promote"
        ));
    }
    let mut parts = name.split('/').peekable();
    let mut first = true;
    while let Some(part) = parts.next() {
        let is_registry = first
            && parts.peek().is_some()
            && (part.contains('.') || part.contains(':') || part == "localhost");
        first = false;
        if is_registry {
            let (host, port) = part.split_once(':').unwrap_or((part, ""));
            let host_ok = !host.is_empty()
                && host.split('.').all(|l| {
                    !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            let port_ok = port.is_empty() || port.bytes().all(|b| b.is_ascii_digit());
            if !host_ok || !port_ok {
                return Some(format!(
                    "artifact name `{name}` has an invalid registry `{part}`"
                ));
            }
            continue;
        }
        if part.contains(':') {
            return Some(format!(
                "artifact name `{name}` must not carry a tag; releases are pinned by digest"
            ));
        }
        if !is_path_component(part) {
            return Some(format!(
                "artifact name `{name}`: `{part}` must be lowercase letters and digits, separated by `.`, `_`, `__` or `-`"
            ));
        }
    }
    None
}

fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if alnum(first) && alnum(last) => {}
        _ => return false,
    }
    bytes
        .iter()
        .all(|b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
        && !part.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "4f2a9c1be0d3a7f6e5c4b3a2918070605040302010f0e0d0c0b0a09080706050";

    #[test]
    fn accepts_full_and_bare_digests() {
        let full = Artifact::parse(
            &format!("ghcr.io/acme/checkout@sha256:{HEX}"),
            "ghcr.io/acme/checkout",
        )
        .unwrap();
        let bare = Artifact::parse(&format!("sha256:{HEX}"), "ghcr.io/acme/checkout").unwrap();
        assert_eq!(full, bare);
        assert_eq!(full.release_id("checkout"), "checkout-4f2a9c1be0d3");
        assert_eq!(full.digest(), format!("sha256:{HEX}"));
    }

    #[test]
    fn a_tag_beside_the_digest_is_dropped() {
        let name = "localhost:5000/acme/checkout";
        let tagged = Artifact::parse(&format!("{name}:1.4.2@sha256:{HEX}"), name).unwrap();
        assert_eq!(tagged.to_string(), format!("{name}@sha256:{HEX}"));
        let err = Artifact::parse(&format!("localhost:5000/acme/other:1@sha256:{HEX}"), name)
            .unwrap_err();
        assert!(
            err.to_string().contains("`localhost:5000/acme/other`"),
            "{err}"
        );
    }

    #[test]
    fn says_what_is_wrong_with_a_digest() {
        let name = "ghcr.io/acme/checkout";
        let err = Artifact::parse(&format!("sha256:{}", HEX.replacen('4', "g", 1)), name)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has `g` at position 1, which is not a hex digit"),
            "{err}"
        );
        let err = Artifact::parse("sha256:4f2a9c1b", name)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has 8 hex characters; a sha256 digest has 64"),
            "{err}"
        );
    }

    #[test]
    fn refuses_tags_short_digests_and_other_names() {
        let name = "ghcr.io/acme/checkout";
        for bad in [
            "ghcr.io/acme/checkout:1.2.3",
            "ghcr.io/acme/checkout",
            "ghcr.io/acme/checkout@sha256:4f2a9c1b",
            &format!("ghcr.io/acme/other@sha256:{HEX}"),
            &format!("ghcr.io/acme/checkout@md5:{HEX}"),
            &format!("ghcr.io/acme/checkout@sha256:{}", HEX.replace('4', "g")),
        ] {
            let err = Artifact::parse(bad, name).unwrap_err();
            assert_eq!(err.exit, crate::error::Exit::Usage, "{bad}");
            assert!(err.hint().is_some(), "{bad} has no hint");
        }
    }

    #[test]
    fn checks_plan_artifact_names() {
        for ok in [
            "ghcr.io/acme/checkout",
            "checkout",
            "localhost:5000/a/b-c",
            "acme/check_out.v2",
        ] {
            assert_eq!(check_name(ok), None, "{ok}");
        }
        for bad in [
            "",
            "Acme/Checkout",
            "acme/checkout:latest",
            "acme//x",
            "-x",
            "acme/checkout@sha256:00",
        ] {
            assert!(check_name(bad).is_some(), "{bad}");
        }
    }
}

#[cfg(test)]
mod proptests {
    //! Whatever is passed to `--artifact` or written as the plan's artifact name: no
    //! panic, and every refusal says what is wrong and what to do instead.

    use proptest::prelude::*;
    use proptest::test_runner::Config;

    use super::*;

    fn config() -> Config {
        Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        }
    }

    /// Names `check_name` accepts: an optional registry, then lowercase components
    /// (without dots, which would make a first component a registry host).
    fn valid_name() -> impl Strategy<Value = String> {
        let component = "[a-z0-9]([a-z0-9]|[_-][a-z0-9]|__[a-z0-9]){0,6}";
        let registry = prop_oneof![
            Just(String::new()),
            Just("ghcr.io/".to_string()),
            Just("localhost:5000/".to_string()),
            "[a-z]{1,5}\\.[a-z]{2,3}(:[0-9]{1,5})?/",
        ];
        (registry, proptest::collection::vec(component, 1..4))
            .prop_map(|(registry, parts)| format!("{registry}{}", parts.join("/")))
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_reference_is_parsed_or_refused_with_a_hint(
            input in prop_oneof![
                "\\PC{0,100}",
                "[a-z./:@]{0,20}(sha256:)?[0-9a-fA-FgG]{0,70}",
            ],
            plan_name in valid_name(),
        ) {
            match Artifact::parse(&input, &plan_name) {
                Ok(artifact) => {
                    prop_assert_eq!(&artifact.name, &plan_name);
                    prop_assert_eq!(artifact.digest().len(), 71);
                    prop_assert_eq!(artifact.short().len(), 12);
                }
                Err(err) => {
                    prop_assert_eq!(err.exit, crate::error::Exit::Usage);
                    prop_assert!(!err.to_string().trim().is_empty());
                    prop_assert!(err.hint().is_some_and(|h| !h.trim().is_empty()), "{err}");
                }
            }
        }

        #[test]
        fn a_pinned_reference_round_trips(
            name in valid_name(),
            hex in "[0-9a-fA-F]{64}",
            bare in any::<bool>(),
        ) {
            let input = if bare {
                format!("  sha256:{hex}\n")
            } else {
                format!("{name}@sha256:{hex}")
            };
            let artifact = Artifact::parse(&input, &name).expect("a pinned reference");
            prop_assert_eq!(artifact.digest(), format!("sha256:{}", hex.to_ascii_lowercase()));
            prop_assert_eq!(
                Artifact::parse(&artifact.to_string(), &name).expect("its own display"),
                artifact.clone()
            );
            prop_assert!(check_name(&name).is_none(), "{}", name);
        }

        #[test]
        fn any_plan_name_is_accepted_or_refused_with_a_reason(name in "\\PC{0,60}") {
            if let Some(problem) = check_name(&name) {
                prop_assert!(problem.starts_with("artifact name"), "{}", problem);
            }
        }
    }
}
