//! A release's version as a command line gives it. Versions reach templates (URLs,
//! queries, headers), so they have a form that is never syntax in any of them.

/// The longest version, in characters.
pub const MAX_LEN: usize = 128;

/// What the command line accepts as a version (clap's value parser for `--version`):
/// 1 to 128 ASCII letters, digits, `.`, `-`, `+` and `_`. Anything else is a usage
/// error (exit 2) naming the first character that does not belong and its position.
pub fn parse(version: &str) -> Result<String, String> {
    const FORM: &str = "a version is 1 to 128 ASCII letters, digits, `.`, `-`, `+` and `_` (e.g. 1.4.2, v2.0.0-rc.1+build.7)";
    if let Some((at, c)) = version.chars().enumerate().find(|(_, c)| !allowed(*c)) {
        return Err(format!(
            "{c:?} (at position {}) is not allowed in a version; {FORM}",
            at + 1
        ));
    }
    match version.chars().count() {
        0 => Err(format!("the version is empty; {FORM}")),
        len if len > MAX_LEN => Err(format!("the version has {len} characters; {FORM}")),
        _ => Ok(version.to_string()),
    }
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_have_a_safe_form() {
        for ok in [
            "1.4.2",
            "v2.0.0-rc.1+build.7",
            "2026_11_30",
            &"9".repeat(MAX_LEN),
        ] {
            assert_eq!(parse(ok).as_deref(), Ok(ok));
        }
        let refused = |v: &str| parse(v).unwrap_err();
        assert!(refused("1\"}[1m])) * 0 or vector(0) #").starts_with(
            "'\"' (at position 2) is not allowed in a version; a version is 1 to 128"
        ));
        assert!(refused("1.0\n").starts_with("'\\n' (at position 4)"));
        assert!(refused("../admin").starts_with("'/' (at position 3)"));
        assert!(refused("1.0.0é").starts_with("'é' (at position 6)"));
        assert!(refused("").starts_with("the version is empty"));
        assert!(refused(&"9".repeat(MAX_LEN + 1)).starts_with("the version has 129 characters"));
    }
}
