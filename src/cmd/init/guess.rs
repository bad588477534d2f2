//! What `relctl init` can tell from the repository it runs in: the app's name from the
//! git remote or the directory, and the artifact's name when the remote's host has a
//! well-known registry. Credentials in a remote's URL are never read past.

use reqwest::Url;

/// Where a git remote points, without user, password or port: the host (none for a
/// local path) and the repository's path on it (`acme/shop`, no `.git`).
#[derive(Debug, PartialEq, Eq)]
pub struct Remote {
    pub host: Option<String>,
    pub path: String,
}

impl Remote {
    /// Reads `https://[user[:token]@]host[:port]/path`, `ssh://…`, `git://…`, the scp-like
    /// `[user@]host:path`, `file://path` and a plain local path.
    pub fn parse(url: &str) -> Option<Remote> {
        let url = url.trim();
        let (host, path) = if url.contains("://") {
            let parsed = Url::parse(url).ok()?;
            let host = parsed.host_str().filter(|h| !h.is_empty());
            (host.map(str::to_ascii_lowercase), parsed.path().to_string())
        } else if let Some((before, path)) = url.split_once(':')
            && !before.contains('/')
            && !before.is_empty()
        {
            let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
            (Some(host.to_ascii_lowercase()), path.to_string())
        } else {
            (None, url.to_string())
        };
        let path = path.trim_matches('/');
        let path = path
            .strip_suffix(".git")
            .unwrap_or(path)
            .trim_end_matches('/');
        (!path.is_empty()).then(|| Remote {
            host,
            path: path.to_string(),
        })
    }

    /// The repository's own name: the last segment of its path.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// `host/path`, to say where a guess came from (never with credentials).
    pub fn shown(&self) -> String {
        match &self.host {
            Some(host) => format!("{host}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// The image name this repository's registry would give it, for the hosts whose
    /// registry follows from the repository: GitHub (ghcr.io) and GitLab.com.
    pub fn artifact(&self) -> Option<String> {
        let registry = match self.host.as_deref()? {
            "github.com" => "ghcr.io",
            "gitlab.com" => "registry.gitlab.com",
            _ => return None,
        };
        let name = format!("{registry}/{}", self.path.to_ascii_lowercase());
        crate::artifact::check_name(&name).is_none().then_some(name)
    }
}

/// A valid `app` made from any name: lowercase ASCII letters and digits, every run of
/// other characters (spaces, `_`, `.`, letters outside ASCII) one dash, no dash at
/// either end, at most 63 characters; `app` when nothing is left.
pub fn app_name(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(crate::plan::APP_MAX);
    let name = out.trim_end_matches('-');
    if name.is_empty() {
        "app".to_string()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(url: &str) -> Remote {
        Remote::parse(url).unwrap()
    }

    #[test]
    fn reads_every_remote_form() {
        for url in [
            "https://github.com/acme/shop.git",
            "https://user:t0ken@github.com/acme/shop.git",
            "https://GitHub.com/acme/shop/",
            "git@github.com:acme/shop.git",
            "ssh://git@github.com:22/acme/shop.git",
            "git://github.com/acme/shop",
        ] {
            assert_eq!(
                remote(url),
                Remote {
                    host: Some("github.com".into()),
                    path: "acme/shop".into()
                },
                "{url}"
            );
        }
        assert_eq!(remote("/srv/git/shop.git").host, None);
        assert_eq!(remote("/srv/git/shop.git").name(), "shop");
        assert_eq!(remote("file:///srv/git/shop.git").name(), "shop");
        assert_eq!(remote("../shop").name(), "shop");
        assert_eq!(Remote::parse(""), None);
    }

    #[test]
    fn never_keeps_credentials() {
        let r = remote("https://user:s3cret@github.com/acme/shop.git");
        assert!(!format!("{r:?} {}", r.shown()).contains("s3cret"));
    }

    #[test]
    fn guesses_the_registry_of_known_hosts() {
        let guess = |url: &str| remote(url).artifact();
        assert_eq!(
            guess("https://github.com/Acme/Shop.git").as_deref(),
            Some("ghcr.io/acme/shop")
        );
        assert_eq!(
            guess("git@gitlab.com:group/sub/proj.git").as_deref(),
            Some("registry.gitlab.com/group/sub/proj")
        );
        assert_eq!(guess("https://git.example.com/acme/shop.git"), None);
        assert_eq!(guess("/srv/git/shop.git"), None);
        // A name the registry could not hold is not guessed.
        assert_eq!(guess("https://github.com/acme/shop..x"), None);
    }

    #[test]
    fn app_names_are_valid_whatever_the_directory() {
        for (raw, app) in [
            ("shop", "shop"),
            ("My Service_2", "my-service-2"),
            ("2fast", "2fast"),
            ("--x--", "x"),
            ("café au lait", "caf-au-lait"),
            ("日本語", "app"),
            ("", "app"),
            ("a.b.c", "a-b-c"),
        ] {
            assert_eq!(app_name(raw), app, "{raw}");
            assert!(crate::plan::valid_app(app), "{app}");
        }
        let long = app_name(&"x".repeat(100));
        assert_eq!(long.len(), 63);
        assert!(crate::plan::valid_app(&long));
        assert!(crate::plan::valid_app(&app_name(&format!(
            "{}-y",
            "x".repeat(62)
        ))));
    }
}
