//! completions/ and man/ are generated from the clap definitions and committed. This
//! test regenerates them in memory and fails on any difference; run it with
//! RELCTL_UPDATE_GENERATED=1 to rewrite them.

use std::path::Path;

use relctl::generated;

use crate::common::repo_root;

fn check(dir: &Path, files: Vec<(String, Vec<u8>)>, stale: &mut Vec<String>) {
    let update = std::env::var_os("RELCTL_UPDATE_GENERATED").is_some_and(|v| v == "1");
    for (name, content) in files {
        let path = dir.join(&name);
        let current = std::fs::read(&path).ok();
        if current.as_deref() == Some(content.as_slice()) {
            continue;
        }
        if update {
            std::fs::create_dir_all(dir).expect("create dir");
            std::fs::write(&path, &content).expect("write generated file");
        } else {
            stale.push(path.display().to_string());
        }
    }
}

#[test]
fn completions_and_man_pages_are_up_to_date() {
    let root = repo_root();
    let mut stale = Vec::new();
    let completions = generated::SHELLS
        .iter()
        .map(|s| generated::completion(*s))
        .collect();
    check(&root.join("completions"), completions, &mut stale);
    let pages = generated::man_pages().expect("man pages render");
    check(&root.join("man"), pages, &mut stale);
    assert!(
        stale.is_empty(),
        "generated files are out of date: {}\nrun `RELCTL_UPDATE_GENERATED=1 cargo test generated` and commit them",
        stale.join(", ")
    );
}
