//! Forges (GitHub, GitLab): the web page behind a git remote, for the links release
//! notes and notifications point at. Knows URLs only: nothing of relctl's record.

/// A forge repository a git remote points at: its web address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forge {
    /// `https://host/owner/repo`
    pub web: String,
    gitlab: bool,
}

impl Forge {
    /// The web page of commit `sha`.
    pub fn commit(&self, sha: &str) -> String {
        if self.gitlab {
            format!("{}/-/commit/{sha}", self.web)
        } else {
            format!("{}/commit/{sha}", self.web)
        }
    }
}

/// The forge (github.com, gitlab.com) behind a remote URL, in any of git's spellings:
/// `https://[user@]host/owner/repo(.git)`, `ssh://git@host[:port]/owner/repo`,
/// `git@host:owner/repo.git`. Credentials in the URL are never kept.
pub fn forge(url: &str) -> Option<Forge> {
    let url = url.trim();
    let (host, path) = if let Some((scheme, rest)) = url.split_once("://") {
        if !matches!(scheme, "https" | "http" | "ssh" | "git" | "git+ssh") {
            return None;
        }
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = host.split_once(':').map_or(host, |(h, _)| h);
        (host, path)
    } else {
        // scp-like: [user@]host:path
        let (authority, path) = url.split_once(':')?;
        if authority.contains('/') {
            return None;
        }
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        (host, path)
    };
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    let valid = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && *p != "."
            && *p != ".."
    };
    if !parts.iter().all(valid) {
        return None;
    }
    let gitlab = match host {
        "github.com" if parts.len() == 2 => false,
        "gitlab.com" if parts.len() >= 2 => true,
        _ => return None,
    };
    Some(Forge {
        web: format!("https://{host}/{}", parts.join("/")),
        gitlab,
    })
}

/// The web page of commit `sha` when `remote_url` is a known forge.
pub fn commit_url(remote_url: &str, sha: &str) -> Option<String> {
    forge(remote_url).map(|f| f.commit(sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forge_urls_in_every_spelling() {
        let sha = "abc";
        for url in [
            "https://github.com/acme/checkout.git",
            "https://github.com/acme/checkout",
            "https://x-access-token:s3cret@github.com/acme/checkout.git",
            "git@github.com:acme/checkout.git",
            "ssh://git@github.com/acme/checkout.git",
            "ssh://git@github.com:22/acme/checkout/",
            "https://GitHub.com/acme/checkout.git",
        ] {
            assert_eq!(
                commit_url(url, sha).as_deref(),
                Some("https://github.com/acme/checkout/commit/abc"),
                "{url}"
            );
        }
        assert_eq!(
            commit_url("git@gitlab.com:acme/platform/checkout.git", sha).as_deref(),
            Some("https://gitlab.com/acme/platform/checkout/-/commit/abc")
        );
        for url in [
            "https://example.com/acme/checkout.git",
            "/srv/git/checkout.git",
            "file:///srv/git/checkout.git",
            "https://github.com/acme",
            "https://github.com/acme/checkout/extra",
            "../checkout",
            "C:/repos/checkout",
        ] {
            assert_eq!(commit_url(url, sha), None, "{url}");
        }
    }
}
