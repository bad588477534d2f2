//! git's own HTTP settings for the records remote, which libgit2 leaves to its caller:
//! `http.extraHeader` (how `actions/checkout` and Azure Pipelines hand a job its token)
//! and `http.sslCAInfo`, each also as `http.<url>.*`, chosen for the remote's URL the
//! way git chooses them. The proxy settings (`http.proxy`, `http.<url>.proxy`,
//! `remote.<name>.proxy`, `https_proxy`) libgit2 reads itself.

use std::path::PathBuf;

use base64::Engine as _;
use git2::Config;

use crate::providers::secrets::{MIN_LEN, Secrets};

/// What git's configuration says about HTTP for one URL.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct HttpConfig {
    /// `Name: value` lines to send with every request, in the order git sends them.
    pub headers: Vec<String>,
    /// The config key the `Authorization` header came from, to name it in errors.
    pub authorization_from: Option<String>,
    /// `http.sslCAInfo`: a CA bundle to trust besides the system's.
    pub ca_info: Option<PathBuf>,
}

impl HttpConfig {
    /// The settings git would use for `url`: of the values of a key, those under an
    /// `http.<url>.` that matches at least as closely as any seen before it, in the
    /// order git reads its files (system, global, local); an empty `extraHeader`
    /// drops the headers gathered so far. Nothing for a URL that is not http(s).
    pub fn for_url(config: &Config, url: &str) -> HttpConfig {
        let mut found = HttpConfig::default();
        let Some(target) = Url::parse(url).filter(|u| u.scheme.starts_with("http")) else {
            return found;
        };
        let mut best_header: Option<Match> = None;
        let mut best_ca: Option<Match> = None;
        let walked = config.entries(Some("^http\\.")).and_then(|entries| {
            entries.for_each(|entry| {
                let (Ok(name), Ok(value)) = (entry.name(), entry.value()) else {
                    return;
                };
                let Some((pattern, key)) = split_key(name) else {
                    return;
                };
                let matched = match pattern {
                    None => Match::default(),
                    Some(pattern) => {
                        match Url::parse(pattern).and_then(|p| target.matched_by(&p)) {
                            Some(matched) => matched,
                            None => return,
                        }
                    }
                };
                let best = match key.as_str() {
                    "extraheader" => &mut best_header,
                    "sslcainfo" => &mut best_ca,
                    _ => return,
                };
                if best.is_some_and(|best| matched < best) {
                    return;
                }
                *best = Some(matched);
                if key == "sslcainfo" {
                    found.ca_info = Some(expand_home(value));
                } else if value.is_empty() {
                    found.headers.clear();
                    found.authorization_from = None;
                } else {
                    if header_name(value).eq_ignore_ascii_case("authorization") {
                        found.authorization_from = Some(name.to_string());
                    }
                    found.headers.push(value.to_string());
                }
            })
        });
        if let Err(err) = walked {
            tracing::debug!(%err, "reading git's http.* configuration");
        }
        found
    }

    /// The CA bundle to trust: `GIT_SSL_CAINFO`, which overrides the configuration
    /// in git too, else `http.sslCAInfo`.
    pub fn ca_file(&self) -> Option<PathBuf> {
        std::env::var_os("GIT_SSL_CAINFO")
            .filter(|file| !file.is_empty())
            .map(PathBuf::from)
            .or_else(|| self.ca_info.clone())
    }

    /// The secret parts of the headers, to be masked wherever they could show: each
    /// value, its credentials after the scheme, and a Basic password decoded. Parts
    /// shorter than a secret may be (`X-Debug: 1`) are not secrets.
    pub fn secrets(&self) -> Vec<String> {
        let mut parts = Vec::new();
        for header in &self.headers {
            let value = header.split_once(':').map_or("", |(_, v)| v).trim();
            parts.push(value.to_string());
            if let Some((scheme, credentials)) = value.split_once(' ') {
                let credentials = credentials.trim();
                parts.push(credentials.to_string());
                if scheme.eq_ignore_ascii_case("basic")
                    && let Ok(decoded) =
                        base64::engine::general_purpose::STANDARD.decode(credentials)
                {
                    let decoded = String::from_utf8_lossy(&decoded).into_owned();
                    if let Some((_, password)) = decoded.split_once(':') {
                        parts.push(password.to_string());
                    }
                    parts.push(decoded);
                }
            }
        }
        parts.retain(|part| part.chars().count() >= MIN_LEN);
        parts
    }
}

/// Masks every credential relctl may send to the records remote: the headers above,
/// `RELCTL_GIT_TOKEN`, and a password written into the remote's URL.
pub(super) fn credential_secrets(http: &HttpConfig, token: Option<&str>, url: &str) -> Secrets {
    let mut values = http.secrets();
    values.extend(token.map(str::to_string));
    values.extend(crate::providers::secrets::url_password(url).map(str::to_string));
    Secrets::from_values(values.into_iter().map(|value| ("git credential", value)))
}

/// `http.<url>.<key>` or `http.<key>`, as (`<url>`, `<key>` in lower case).
fn split_key(name: &str) -> Option<(Option<&str>, String)> {
    let rest = name.strip_prefix("http.")?;
    Some(match rest.rsplit_once('.') {
        Some((pattern, key)) => (Some(pattern), key.to_ascii_lowercase()),
        None => (None, rest.to_ascii_lowercase()),
    })
}

fn header_name(header: &str) -> &str {
    header
        .split_once(':')
        .map_or(header, |(name, _)| name)
        .trim()
}

/// `~/` at the start of a path setting, as git expands it.
fn expand_home(value: &str) -> PathBuf {
    match (value.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(value),
    }
}

/// How closely a config URL matched, compared as git compares them: the longer host
/// pattern, then the longer path, then one that names the user.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Match {
    host: usize,
    path: usize,
    user: bool,
}

/// A URL as git normalises it for matching: scheme and host in lower case, the
/// scheme's default port dropped, a path that starts with `/`.
#[derive(Debug, PartialEq, Eq)]
struct Url {
    scheme: String,
    user: Option<String>,
    password: Option<String>,
    /// Host and port, `host[:port]`.
    host: String,
    path: String,
}

impl Url {
    fn parse(url: &str) -> Option<Url> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, ""),
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        let (user, password) = match userinfo.map(|u| u.split_once(':')) {
            Some(Some((user, password))) => (Some(user.to_string()), Some(password.to_string())),
            Some(None) => (userinfo.map(str::to_string), None),
            None => (None, None),
        };
        let mut host = host.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => Some(":443"),
            "http" => Some(":80"),
            _ => None,
        };
        if let Some(port) = default_port
            && host.ends_with(port)
        {
            host.truncate(host.len() - port.len());
        }
        if host.is_empty() {
            return None;
        }
        let path = if path.is_empty() { "/" } else { path };
        Some(Url {
            scheme,
            user,
            password,
            host,
            path: path.to_string(),
        })
    }

    /// How closely `pattern` (from a config key) matches this URL, if at all.
    fn matched_by(&self, pattern: &Url) -> Option<Match> {
        if pattern.scheme != self.scheme || !host_matches(&pattern.host, &self.host) {
            return None;
        }
        if let Some(user) = &pattern.user
            && self.user.as_ref() != Some(user)
        {
            return None;
        }
        Some(Match {
            host: pattern.host.len(),
            path: path_match(&self.path, &pattern.path)?,
            user: pattern.user.is_some(),
        })
    }
}

/// Host and port equal, where a `*` label of the pattern stands for any one label.
fn host_matches(pattern: &str, host: &str) -> bool {
    let split = |h: &str| -> (String, String) {
        match h
            .rsplit_once(':')
            .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        {
            Some((name, port)) => (name.to_string(), port.to_string()),
            None => (h.to_string(), String::new()),
        }
    };
    let ((pattern, pattern_port), (host, port)) = (split(pattern), split(host));
    if pattern_port != port {
        return false;
    }
    let (pattern, host): (Vec<&str>, Vec<&str>) =
        (pattern.split('.').collect(), host.split('.').collect());
    pattern.len() == host.len() && pattern.iter().zip(&host).all(|(p, h)| *p == "*" || p == h)
}

/// The length of the match of `prefix` over `path`, at a `/` boundary, counting an
/// implied final `/`; `None` when it does not match.
fn path_match(path: &str, prefix: &str) -> Option<usize> {
    if prefix == "/" {
        return Some(1);
    }
    let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(prefix.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("config");
        std::fs::write(&path, text).expect("write the config");
        let config = Config::open(&path).expect("open the config");
        (dir, config)
    }

    #[test]
    fn the_header_actions_checkout_writes_is_found_for_its_host() {
        let (_dir, config) = config(
            "[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46c2VjcmV0LXRva2Vu\n",
        );
        let found = HttpConfig::for_url(&config, "https://github.com/acme/app");
        assert_eq!(
            found.headers,
            ["AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46c2VjcmV0LXRva2Vu"]
        );
        assert_eq!(
            found.authorization_from.as_deref(),
            Some("http.https://github.com/.extraheader")
        );
        let secrets = found.secrets();
        assert!(secrets.contains(&"secret-token".to_string()), "{secrets:?}");
        assert!(
            HttpConfig::for_url(&config, "https://gitlab.com/acme/app")
                .headers
                .is_empty()
        );
        assert!(
            HttpConfig::for_url(&config, "http://github.com/acme/app")
                .headers
                .is_empty()
        );
        assert!(
            HttpConfig::for_url(&config, "git@github.com:acme/app")
                .headers
                .is_empty()
        );
    }

    #[test]
    fn values_are_kept_while_each_matches_at_least_as_closely_as_the_last() {
        let (_dir, config) = config(
            "[http]\n\textraHeader = X-All: 1\n\
             [http \"https://example.com/acme\"]\n\textraHeader = X-Acme: 2\n\
             [http \"https://example.com\"]\n\textraHeader = X-Host: 3\n\
             [http \"https://example.com:443/acme/app.git\"]\n\textraHeader = X-Repo: 4\n\
             [http \"https://other.example.com\"]\n\textraHeader = X-Other: 5\n",
        );
        let found = HttpConfig::for_url(&config, "https://example.com/acme/app.git");
        assert_eq!(found.headers, ["X-All: 1", "X-Acme: 2", "X-Repo: 4"]);
        let found = HttpConfig::for_url(&config, "https://example.com/acmeco/app.git");
        assert_eq!(found.headers, ["X-All: 1", "X-Host: 3"]);
    }

    #[test]
    fn an_empty_value_drops_the_headers_before_it_and_a_wildcard_matches_one_label() {
        let (_dir, config) = config(
            "[http]\n\textraheader = X-Old: 1\n\textraheader =\n\textraheader = X-New: 2\n\
             [http \"https://*.example.com\"]\n\textraheader = X-Wild: 3\n\
             [http \"https://me@git.example.com\"]\n\textraheader = X-Me: 4\n",
        );
        let found = HttpConfig::for_url(&config, "https://git.example.com/app");
        assert_eq!(found.headers, ["X-New: 2", "X-Wild: 3"]);
        let found = HttpConfig::for_url(&config, "https://me@git.example.com/app");
        assert_eq!(found.headers, ["X-New: 2", "X-Wild: 3", "X-Me: 4"]);
        let found = HttpConfig::for_url(&config, "https://a.b.example.com/app");
        assert_eq!(found.headers, ["X-New: 2"]);
    }

    #[test]
    fn the_closest_ca_bundle_wins() {
        let (_dir, config) = config(
            "[http \"https://git.example.com\"]\n\tsslCAInfo = /etc/ca/git.pem\n\
             [http]\n\tsslCAInfo = /etc/ca/all.pem\n",
        );
        let found = HttpConfig::for_url(&config, "https://git.example.com/app");
        assert_eq!(found.ca_info, Some(PathBuf::from("/etc/ca/git.pem")));
        let found = HttpConfig::for_url(&config, "https://other.example.com/app");
        assert_eq!(found.ca_info, Some(PathBuf::from("/etc/ca/all.pem")));
    }

    #[test]
    fn short_header_values_are_not_secrets_and_a_url_password_is() {
        let http = HttpConfig {
            headers: vec![
                "X-Debug: 1".into(),
                "Authorization: Bearer abcdef123456".into(),
            ],
            ..HttpConfig::default()
        };
        let secrets = credential_secrets(&http, None, "https://ci:hunter22pass@git.example.com/a");
        assert_eq!(
            secrets.mask("1 abcdef123456 hunter22pass Bearer"),
            "1 *** *** Bearer"
        );
    }
}
