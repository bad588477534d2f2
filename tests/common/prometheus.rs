//! A real Prometheus on a loopback port, scraping the given targets every second, for
//! the tests of relctl's Prometheus provider. It runs under a small `sh` watchdog that
//! kills it and removes its temp dir (config, data, log) when the pipe from this process
//! closes: on `stop` and drop, and also when this process ends without dropping it (a
//! shared `static` instance, a test binary killed by a CI timeout).
//!
//! Tests wait for scraped data with `wait_for`, never with sleeps. Prometheus hands its
//! targets to the scrapers about 5s after it starts (a fixed throttle in its service
//! discovery), so the first samples come then.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Overrides where the binary is looked for.
const BINARY_ENV: &str = "RELCTL_TEST_PROMETHEUS";
/// How long a start may take before the test fails.
const READY_DEADLINE: Duration = Duration::from_secs(30);
/// How often readiness and `wait_for` ask again.
const POLL: Duration = Duration::from_millis(100);
/// `sh -c WATCHDOG sh DIR PROMETHEUS ARGS…`: runs Prometheus; when its stdin reaches end
/// of file, kills it, waits (at most ~5s) for it to be gone and removes DIR. The script
/// itself ends when Prometheus does, with its status; DIR (and so the log) stays until
/// the pipe closes.
const WATCHDOG: &str = r#"dir=$1
shift
exec 3<&0
"$@" </dev/null &
pid=$!
(
    read -r _ <&3
    kill -9 "$pid" 2>/dev/null
    n=0
    while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 100 ]; do
        sleep 0.05
        n=$((n + 1))
    done
    rm -rf "$dir"
) &
wait "$pid"
"#;

/// One sample of an instant query's answer (a scalar is one sample without labels).
#[derive(Debug, Clone)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

pub struct Prometheus {
    /// The watchdog (`sh`), and the pipe whose end stops Prometheus.
    child: Option<(Child, ChildStdin)>,
    addr: SocketAddr,
    log: PathBuf,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    /// Config, data and log. The watchdog removes it; this is in case it could not.
    _dir: tempfile::TempDir,
}

/// The binary: `$RELCTL_TEST_PROMETHEUS`, else `prometheus` on PATH, else
/// /usr/bin/prometheus. A missing one fails the test: this suite never skips.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os(BINARY_ENV) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{BINARY_ENV}={} is not a file; unset it to use the prometheus that tests/run installs",
            path.display()
        );
        return path;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .chain([PathBuf::from("/usr/bin/prometheus")])
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "these tests need a real Prometheus and the `prometheus` binary is missing \
                 (not on PATH, not /usr/bin/prometheus): tests/run installs it (Debian package \
                 `prometheus`: apt-get install prometheus), or set {BINARY_ENV} to one"
            )
        })
}

fn config(targets: &[SocketAddr], rules: Option<&Path>) -> String {
    let mut text = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n",
    );
    if let Some(rules) = rules {
        text.push_str(&format!("rule_files: ['{}']\n", rules.display()));
    }
    if targets.is_empty() {
        text.push_str("scrape_configs: []\n");
    } else {
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        text.push_str(&format!(
            "scrape_configs:\n  - job_name: service\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ));
    }
    text
}

/// A port that was free a moment ago (Prometheus binds it itself; a clash is retried).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn read_log(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

enum Start {
    Ready,
    Exited(String),
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` every second and waits until it is ready.
    pub fn start(targets: &[SocketAddr]) -> Prometheus {
        Prometheus::start_with_rules(targets, None)
    }

    /// Like `start`, with `rules` (the YAML of a Prometheus rules file) evaluated every
    /// second.
    pub fn start_with_rules(targets: &[SocketAddr], rules: Option<&str>) -> Prometheus {
        let binary = binary();
        // Multi-threaded, so that tests sharing one instance may query it at once.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the prometheus harness");
        let client = relctl::providers::http::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client");
        const ATTEMPTS: u32 = 3;
        for attempt in 1..=ATTEMPTS {
            // A dir per attempt: the watchdog of a failed one removes its own.
            let dir = tempfile::tempdir().expect("a temp dir for prometheus");
            let config_file = dir.path().join("prometheus.yml");
            let rules_file = rules.map(|rules| {
                let path = dir.path().join("rules.yml");
                std::fs::write(&path, rules).expect("write the prometheus rules");
                path
            });
            std::fs::write(&config_file, config(targets, rules_file.as_deref()))
                .expect("write the prometheus config");
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let log = dir.path().join("prometheus.log");
            let stderr = std::fs::File::create(&log).expect("create the prometheus log");
            let mut child = Command::new("sh")
                .args(["-c", WATCHDOG, "sh"])
                .arg(dir.path())
                .arg(&binary)
                .arg(format!("--config.file={}", config_file.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .arg("--storage.tsdb.retention.time=1h")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {} under sh: {e}", binary.display()));
            let stdin = child.stdin.take().expect("the watchdog's stdin");
            match wait_ready(&runtime, &client, &mut child, addr, &log) {
                Start::Ready => {
                    return Prometheus {
                        child: Some((child, stdin)),
                        addr,
                        log,
                        runtime,
                        client,
                        _dir: dir,
                    };
                }
                Start::Exited(log_text)
                    if log_text.contains("address already in use") && attempt < ATTEMPTS =>
                {
                    continue;
                }
                Start::Exited(log_text) => {
                    panic!("prometheus exited before it was ready; its log:\n{log_text}")
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the process: Prometheus is gone, its port refuses connections.
    pub fn stop(&mut self) {
        if let Some((child, stdin)) = self.child.take() {
            drop(stdin);
            reap(child);
        }
    }

    /// One instant query at the server's now: the samples of a vector, or a scalar as
    /// one sample.
    pub fn query(&self, query: &str) -> Result<Vec<Sample>, String> {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/query", self.url()))
            .map_err(|e| e.to_string())?;
        url.query_pairs_mut().append_pair("query", query);
        let answer: Value = self.runtime.block_on(async {
            let response = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            response.json().await.map_err(|e| e.to_string())
        })?;
        if answer["status"] != "success" {
            return Err(format!("query `{query}` failed: {answer}"));
        }
        let value = |pair: &Value| -> Result<f64, String> {
            pair[1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("not a sample value: {pair}"))
        };
        let result = &answer["data"]["result"];
        match answer["data"]["resultType"].as_str() {
            Some("vector") => result
                .as_array()
                .into_iter()
                .flatten()
                .map(|sample| {
                    let labels = sample["metric"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect();
                    Ok(Sample {
                        labels,
                        value: value(&sample["value"])?,
                    })
                })
                .collect(),
            Some("scalar") => Ok(vec![Sample {
                labels: BTreeMap::new(),
                value: value(result)?,
            }]),
            _ => Err(format!(
                "query `{query}` gave neither a vector nor a scalar: {answer}"
            )),
        }
    }

    /// Polls `query` until `until` holds for its samples (or fails the test after
    /// `deadline`, with what it last saw, the targets' health and Prometheus' log).
    pub fn wait_for(
        &self,
        query: &str,
        until: impl Fn(&[Sample]) -> bool,
        deadline: Duration,
    ) -> Vec<Sample> {
        let end = Instant::now() + deadline;
        loop {
            let last = match self.query(query) {
                Ok(samples) if until(&samples) => return samples,
                Ok(samples) => format!("{samples:?}"),
                Err(e) => e,
            };
            if Instant::now() >= end {
                panic!(
                    "waited {deadline:?} for `{query}`; last: {last}\ntargets: {}\nprometheus log:\n{}",
                    self.targets(),
                    read_log(&self.log)
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// The scrape targets' health, for failure messages.
    fn targets(&self) -> String {
        let url = format!("{}/api/v1/targets", self.url());
        self.runtime
            .block_on(async {
                let answer: Value = self.client.get(url).send().await?.json().await?;
                Ok::<_, reqwest::Error>(answer["data"]["activeTargets"].to_string())
            })
            .unwrap_or_else(|e| e.to_string())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits for the watchdog to end once its pipe is closed (it kills Prometheus and exits
/// when Prometheus has); kills the watchdog itself if that takes too long.
fn reap(mut child: Child) {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for `/-/ready`, or for the process to exit (then returns its log). On a
/// failure the watchdog's stdin is dropped with it, which stops Prometheus.
fn wait_ready(
    runtime: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    child: &mut Child,
    addr: SocketAddr,
    log: &Path,
) -> Start {
    let end = Instant::now() + READY_DEADLINE;
    let url = format!("http://{addr}/-/ready");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Start::Exited(format!("({status})\n{}", read_log(log)));
        }
        let ready = runtime.block_on(async {
            client
                .get(&url)
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        });
        if ready {
            return Start::Ready;
        }
        if Instant::now() >= end {
            panic!(
                "prometheus was not ready at {url} within {READY_DEADLINE:?}; its log:\n{}",
                read_log(log)
            );
        }
        std::thread::sleep(POLL);
    }
}
