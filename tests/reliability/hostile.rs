//! Hostile plans through the real `relctl validate`: each is refused with exit 2 and a
//! message that says what is wrong and where, and the process ends (no unbounded
//! memory, time or output). The text cases live in tests/hostile/, each saying what it
//! expects on an `# expect:` line; the large and binary ones are made here.

use std::fmt::Write as _;
use std::io::Read as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{TestEnv, repo_root};

/// A bound on a run, so that a regression fails the test instead of hanging the suite.
const KILL_AFTER: Duration = Duration::from_secs(120);
/// More than any honest answer to one of these plans.
const OUTPUT_MAX: usize = 32 * 1024;

struct Case {
    name: String,
    bytes: Vec<u8>,
    /// `line:col: message start` (or just a message part), as validate prints it.
    expect: String,
}

/// Runs `relctl validate` on `bytes` as release.yaml: exit code, stderr, stdout.
fn validate(bytes: &[u8]) -> (i32, String, String) {
    let env = TestEnv::new();
    env.write("release.yaml", bytes);
    let mut child = env
        .std_command()
        .arg("validate")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start relctl validate");
    // Read both pipes while waiting, so a large output cannot block the child.
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let mut stdout_pipe = child.stdout.take().expect("stdout");
    let err_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut text);
        text
    });
    let out_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout_pipe.read_to_end(&mut text);
        text
    });
    let end = Instant::now() + KILL_AFTER;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll relctl") {
            break status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("relctl validate did not finish within {KILL_AFTER:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = err_reader.join().expect("stderr reader");
    let stdout = out_reader.join().expect("stdout reader");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stderr).into_owned(),
        String::from_utf8_lossy(&stdout).into_owned(),
    )
}

/// The files of tests/hostile/, each with its `# expect:` line.
fn corpus() -> Vec<Case> {
    let dir = repo_root().join("tests").join("hostile");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .expect("tests/hostile/")
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read a corpus file");
            let text = String::from_utf8_lossy(&bytes);
            let expect = text
                .lines()
                .find_map(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{} has no `# expect:` line", path.display()))
                .to_string();
            Case {
                name: path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into(),
                expect,
                bytes,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(cases.len() >= 5, "the corpus is missing files");
    cases
}

/// The cases too large or too binary to keep as files.
fn generated() -> Vec<Case> {
    let case = |name: &str, bytes: Vec<u8>, expect: &str| Case {
        name: name.into(),
        bytes,
        expect: expect.into(),
    };
    let mut block = String::new();
    for depth in 0..200 {
        let _ = writeln!(block, "{}a:", "  ".repeat(depth));
    }
    let long_app = format!("version: 1\napp: {}X\n", "k".repeat(900_000));
    let huge = format!(
        "version: 1\napp: checkout\n{}",
        "# padding\n".repeat(210_000)
    );
    let example = std::fs::read_to_string(repo_root().join("release.example.yaml"))
        .expect("release.example.yaml");
    let with_jq = |jq: &str| {
        let plan = example.replacen(
            "verify_digest: '.digest'",
            &format!("verify_digest: '{jq}'"),
            1,
        );
        assert_ne!(plan, example, "the example plan has a verify_digest");
        plan.into_bytes()
    };
    let deep_template = example.replacen(
        "{{ vars.api }}",
        &format!(
            "{{{{ {}vars.api{} }}}}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
        1,
    );
    vec![
        case(
            "a jq expression 5,000 parentheses deep",
            with_jq(&format!(
                "{}.digest{}",
                "(".repeat(5_000),
                ")".repeat(5_000)
            )),
            "jq expressions are limited to 1024",
        ),
        case(
            "a jq expression 200 parentheses deep",
            with_jq(&format!("{}.digest{}", "(".repeat(200), ")".repeat(200))),
            "it nests deeper than 64 levels",
        ),
        case(
            "a jq expression of 900 minus signs",
            with_jq(&format!("{}1", "-".repeat(900))),
            "it nests deeper than 64 levels",
        ),
        case(
            "a template 100,000 parentheses deep",
            deep_template.into_bytes(),
            "invalid template `{{ ((((",
        ),
        case(
            "over 1 MiB",
            huge.clone().into_bytes(),
            &format!(
                "1:1: the plan is {} bytes; plans are limited to 1048576 bytes",
                huge.len()
            ),
        ),
        case(
            "200 levels of block nesting",
            block.into_bytes(),
            "the plan nests deeper than 64 levels",
        ),
        case(
            "500,000 levels of flow nesting",
            format!("a: {}{}", "[".repeat(500_000), "]".repeat(500_000)).into_bytes(),
            "the plan nests deeper than 64 levels",
        ),
        case(
            "Latin-1, not UTF-8",
            b"version: 1\napp: caf\xe9\n".to_vec(),
            "2:9: the plan is not valid UTF-8",
        ),
        case(
            "UTF-16 with a byte-order mark",
            b"\xff\xfev\x00e\x00r\x00s\x00i\x00o\x00n\x00:\x00 \x001\x00\n\x00".to_vec(),
            "1:1: the plan is not valid UTF-8",
        ),
        case(
            "a NUL byte",
            b"version: 1\napp: check\x00out\n".to_vec(),
            "2:11: found unprintable character",
        ),
        case(
            "a 900,000-character line",
            long_app.into_bytes(),
            "2:6: `app` must be lowercase letters, digits and dashes, found `kkkkk",
        ),
        case(
            "an empty file",
            Vec::new(),
            "1:1: the plan must be a mapping, found nothing",
        ),
    ]
}

#[test]
fn hostile_plans_are_refused_with_exit_2_and_a_clear_message() {
    let mut failures = Vec::new();
    for case in corpus().into_iter().chain(generated()) {
        let (code, stderr, stdout) = validate(&case.bytes);
        let wanted = format!("  release.yaml:{}", case.expect);
        let found = if case.expect.contains(": ") && case.expect.starts_with(char::is_numeric) {
            stderr.contains(&wanted)
        } else {
            stderr.contains(&case.expect)
        };
        if code != 2
            || !found
            || !stderr.starts_with("error: release.yaml has ")
            || !stdout.is_empty()
        {
            failures.push(format!(
                "{}: exit {code}, expected `{}` in:\n{}",
                case.name,
                case.expect,
                head_of(&stderr)
            ));
        }
        // One line per problem, each a bounded length: a huge value is never echoed whole.
        for line in stderr.lines() {
            if line.chars().count() > 1_000 {
                failures.push(format!(
                    "{}: a line of {} characters",
                    case.name,
                    line.len()
                ));
                break;
            }
        }
        // The summary line, then exactly one line per problem.
        let problems = stderr.lines().count().saturating_sub(1);
        let counted = stderr
            .strip_prefix("error: release.yaml has ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok());
        if counted != Some(problems) {
            failures.push(format!(
                "{}: {problems} lines for {counted:?} problems:\n{}",
                case.name,
                head_of(&stderr)
            ));
        }
        if problems <= 10 && stderr.len() > OUTPUT_MAX {
            failures.push(format!("{}: {} bytes of output", case.name, stderr.len()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The first lines of an output, for failure messages.
fn head_of(text: &str) -> String {
    text.lines().take(8).collect::<Vec<_>>().join("\n")
}

/// A 100,000-key mapping in 800,000 bytes: four letters, a colon, a space, "1".
fn many_keys() -> Vec<u8> {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    let mut keys = String::with_capacity(800_000);
    for a in letters {
        for b in letters {
            for c in letters {
                for d in &letters[..6] {
                    let key = [*a, *b, *c, *d].map(char::from);
                    let _ = writeln!(keys, "{}{}{}{}: 1", key[0], key[1], key[2], key[3]);
                }
            }
        }
    }
    keys.truncate(800_000);
    assert!(keys.len() < 1 << 20 && keys.lines().count() == 100_000);
    keys.into_bytes()
}

#[test]
fn a_100k_key_mapping_is_refused_key_by_key() {
    let (code, stderr, stdout) = validate(&many_keys());
    assert!(stdout.is_empty());
    assert_eq!(code, 2);
    // Four required keys are missing, no environment, and 100,000 unknown keys.
    assert!(
        stderr.starts_with("error: release.yaml has 100005 problems\n"),
        "{}",
        head_of(&stderr)
    );
    assert!(
        stderr.contains("  release.yaml:100000:1: unknown key `yrad` in the plan"),
        "{}",
        head_of(&stderr)
    );
}
