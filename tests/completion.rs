//! Shell completion that knows the plan and the record: the committed scripts call
//! relctl back (`COMPLETE=<shell> relctl -- <words>`), which offers the plan's
//! environments and the record's releases, and nothing, silently, without them.

use std::path::Path;

use crate::common::setup::{CANARY, HEX, OLD, Setup, release};
use crate::common::{Run, TestEnv, ok, repo_root};

/// What the shell's registration runs on a Tab: `words` is the command line so far,
/// the last word the one being completed.
fn tab(env: &TestEnv, shell: &str, words: &[&str]) -> Run {
    let index = (words.len() - 1).to_string();
    let mut args = vec!["--"];
    args.extend_from_slice(words);
    env.run_with(&args, |c| {
        c.env("COMPLETE", shell)
            .env("_CLAP_COMPLETE_INDEX", &index)
            .env("_CLAP_IFS", "\n");
    })
}

/// The values a run offered, without their descriptions (fish: `\t`, zsh: `:`) and
/// without the flags clap offers beside a positional argument's values.
fn offered(run: &Run) -> Vec<String> {
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "", "completion printed on stderr");
    run.stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(['\t', ':']).next().unwrap_or_default().to_string())
        .filter(|value| !value.starts_with('-'))
        .collect()
}

/// A project whose record has OLD and then HEX live in every environment.
fn project() -> Setup {
    let s = Setup::new("", CANARY);
    ok(&s.promote(OLD, &[]));
    ok(&s.promote(HEX, &[]));
    s
}

#[test]
fn environments_come_from_the_plan() {
    let s = project();
    for shell in ["bash", "zsh", "fish"] {
        assert_eq!(
            offered(&tab(&s.env, shell, &["relctl", "rollback", "--env", ""])),
            ["dev", "staging", "production"],
            "{shell}"
        );
    }
    assert_eq!(
        offered(&tab(&s.env, "bash", &["relctl", "promote", "--to", "st"])),
        ["staging"]
    );
    assert_eq!(
        offered(&tab(&s.env, "fish", &["relctl", "status", "--env", "p"])),
        ["production"]
    );
}

#[test]
fn releases_come_from_the_record() {
    let s = project();
    let both = [release(HEX), release(OLD)];
    for shell in ["bash", "zsh", "fish"] {
        assert_eq!(
            offered(&tab(
                &s.env,
                shell,
                &["relctl", "rollback", "--env", "production", "--to", ""]
            )),
            both,
            "{shell}"
        );
        assert_eq!(
            offered(&tab(&s.env, shell, &["relctl", "approve", ""])),
            both,
            "{shell}"
        );
    }
    for words in [
        &["relctl", "resume", "checkout-0"][..],
        &["relctl", "history", "checkout-01"],
        &["relctl", "notes", "checkout-0123"],
        &["relctl", "abort", "c"],
    ] {
        let offer = offered(&tab(&s.env, "bash", words));
        let expected = if words[2] == "c" {
            both.to_vec()
        } else {
            vec![release(OLD)]
        };
        assert_eq!(offer, expected, "{words:?}");
    }
    // fish shows where each one stands.
    let fish = tab(&s.env, "fish", &["relctl", "reject", ""]);
    assert!(
        fish.stdout.contains(&format!("{}\t", release(HEX))) && fish.stdout.contains("live in dev"),
        "{}",
        fish.stdout
    );
}

#[test]
fn the_plan_flag_on_the_line_is_the_plan_completed_from() {
    let s = project();
    std::fs::create_dir_all(s.env.path().join("elsewhere")).expect("a directory");
    let run = s.env.run_with(
        &[
            "--",
            "relctl",
            "--plan",
            "../release.yaml",
            "rollback",
            "--to",
            "",
        ],
        |c| {
            c.current_dir(s.env.path().join("elsewhere"))
                .env("COMPLETE", "bash")
                .env("_CLAP_COMPLETE_INDEX", "5")
                .env("_CLAP_IFS", "\n");
        },
    );
    assert_eq!(offered(&run), [release(HEX), release(OLD)]);
}

#[test]
fn without_a_plan_or_a_record_nothing_is_offered_and_nothing_said() {
    // No plan at all.
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        assert!(offered(&tab(&env, shell, &["relctl", "rollback", "--env", ""])).is_empty());
        assert!(offered(&tab(&env, shell, &["relctl", "approve", ""])).is_empty());
    }
    // A plan, in a git repository with no records branch yet.
    let s = Setup::new("", CANARY);
    assert!(offered(&tab(&s.env, "bash", &["relctl", "approve", ""])).is_empty());
    assert_eq!(
        offered(&tab(&s.env, "bash", &["relctl", "unlock", "--env", "d"])),
        ["dev"]
    );
    // A plan outside any git repository.
    let bare = TestEnv::new();
    std::fs::copy(
        s.env.path().join("release.yaml"),
        bare.path().join("release.yaml"),
    )
    .expect("copy the plan");
    assert!(offered(&tab(&bare, "fish", &["relctl", "history", ""])).is_empty());
}

#[test]
fn the_completions_command_prints_the_committed_scripts() {
    let env = TestEnv::new();
    for (shell, file) in [
        ("bash", "relctl.bash"),
        ("zsh", "_relctl"),
        ("fish", "relctl.fish"),
    ] {
        let run = env.run(&["completions", shell]);
        ok(&run);
        let committed = std::fs::read_to_string(repo_root().join("completions").join(file))
            .expect("the committed script");
        assert_eq!(run.stdout, committed, "{shell}");
        assert!(
            committed.contains("COMPLETE="),
            "{file} does not call relctl back"
        );
    }
}

/// bash, as a person's shell runs it: the committed script sourced, then Tab.
fn bash_tab(dir: &Path, home: &Path, line: &[&str]) -> (String, Vec<String>) {
    let binary = assert_cmd::cargo::cargo_bin("relctl");
    let bin_dir = binary.parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        r#"source '{script}'
complete -p relctl
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
_clap_complete_relctl relctl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        script = repo_root().join("completions/relctl.bash").display(),
        words = words.join(" "),
        cword = line.len() - 1,
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"))
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = stdout.lines();
    let registration = lines.next().unwrap_or_default().to_string();
    let replies = lines
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .map(str::to_string)
        .collect();
    (registration, replies)
}

#[test]
fn the_committed_bash_script_completes_from_the_record() {
    let s = project();
    let (registration, envs) = bash_tab(
        s.env.path(),
        s.env.home(),
        &["relctl", "rollback", "--env", "s"],
    );
    assert!(
        registration.contains("-F _clap_complete_relctl relctl"),
        "{registration}"
    );
    assert_eq!(envs, ["staging"]);
    let (_, releases) = bash_tab(
        s.env.path(),
        s.env.home(),
        &["relctl", "rollback", "--env", "production", "--to", ""],
    );
    assert_eq!(releases, [release(HEX), release(OLD)]);
    // Outside the project (no plan here or above): nothing.
    let (_, nothing) = bash_tab(s.env.home(), s.env.home(), &["relctl", "approve", ""]);
    assert!(nothing.is_empty(), "{nothing:?}");
}
