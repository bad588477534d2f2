//! A platform behind https: its certificate is checked against the system's trust
//! store, which `SSL_CERT_FILE` replaces (how a private CA is trusted).

use crate::common::setup::{CANARY, HEX, SECRET, Setup, artifact, canary_deploys, plan};
use crate::common::tls::TlsFront;

/// A promotion whose every platform call goes through an https front.
fn behind_tls() -> (Setup, TlsFront) {
    let s = Setup::new("", CANARY);
    let front = TlsFront::start(s.platform.addr, s.env.path());
    let text = plan(&s.platform, "", CANARY).replace(&s.platform.url(), &front.url());
    s.env.write("release.yaml", text);
    (s, front)
}

#[test]
fn an_https_platform_is_trusted_through_the_system_trust_store() {
    let (s, front) = behind_tls();
    let run = s.env.run_with(
        &[
            "promote",
            "--artifact",
            &artifact(HEX),
            "--version",
            "1.4.2",
        ],
        |c| {
            c.env("DEPLOY_TOKEN", SECRET)
                .env("RELCTL_BACKOFF_MS", "1")
                .env("RELCTL_POLL_MS", "20")
                .env("SSL_CERT_FILE", &front.ca);
        },
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(s.platform.deploys(), canary_deploys(HEX));
}

#[test]
fn an_https_platform_whose_certificate_nothing_trusts_is_refused() {
    let (s, front) = behind_tls();
    let run = s.promote(HEX, &["--version", "1.4.2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("POST {}/deploy/dev", front.url())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("invalid peer certificate"),
        "{}",
        run.stderr
    );
    assert!(s.platform.requests().is_empty(), "a request got through");
    // Said once per attempt by relctl, not again by the libraries underneath.
    assert!(!run.stderr.contains("rustls"), "{}", run.stderr);
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
}
