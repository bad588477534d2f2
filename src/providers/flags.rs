//! Feature flags through Unleash's Admin API: read a flag's state in one environment
//! (on or off, and its strategies), switch it or set a gradual rollout, and put back a
//! state read before. Unleash answers through the project's feature endpoints
//! (`/api/admin/projects/P/features/F…`).
//!
//! Unleash turns on a flag that has no strategy by adding a 100% `flexibleRollout` of its
//! own, which a later smaller rollout would be OR-ed with: a rollout here therefore sets
//! the strategy before it turns the flag on, and keeps one `flexibleRollout` (no `default`
//! strategy beside it); a restore adds the old strategies before it removes the new.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Secrets;

/// Why a flag call did not do what it was asked; the message names the flag and
/// Unleash's answer, secrets masked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FlagError(pub String);

/// A flag's state in one environment, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagState {
    pub enabled: bool,
    /// Each strategy without its id (ids change when a state is put back).
    pub strategies: Vec<Value>,
}

impl FlagState {
    /// `on at 25%`, `off`, `on (2 strategies)`: what status and the record say.
    pub fn summary(&self) -> String {
        let rollouts: Vec<String> = self
            .strategies
            .iter()
            .filter(|s| s["name"] == "flexibleRollout")
            .filter_map(|s| s["parameters"]["rollout"].as_str().map(|r| format!("{r}%")))
            .collect();
        let state = if self.enabled { "on" } else { "off" };
        match (rollouts.as_slice(), self.strategies.len()) {
            (_, 0) => state.to_string(),
            ([one], 1) => format!("{state} at {one}"),
            (_, n) => format!("{state} ({n} strategies)"),
        }
    }

    /// How `now` differs from `self` in a few words: `on at 5%, now off`, or, when the
    /// summaries agree, that the strategies changed.
    pub fn change_to(&self, now: &FlagState) -> String {
        let (was, is) = (self.summary(), now.summary());
        if was == is {
            format!("{was}, its strategies changed since")
        } else {
            format!("{was}, now {is}")
        }
    }
}

/// What a flag step asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub enabled: bool,
    pub rollout: Option<u8>,
    pub stickiness: Option<String>,
    pub group_id: Option<String>,
}

/// One Unleash, one project, one of its environments.
pub struct Unleash<'a> {
    pub client: &'a reqwest::Client,
    /// The base URL, without a trailing `/`.
    pub url: String,
    pub token: String,
    pub project: String,
    pub environment: String,
    pub timeout: Duration,
    pub secrets: &'a Secrets,
}

/// The keys of a strategy that say what it does (not which row it is).
const STRATEGY_KEYS: [&str; 7] = [
    "name",
    "title",
    "parameters",
    "constraints",
    "variants",
    "segments",
    "disabled",
];

fn strategy(raw: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in STRATEGY_KEYS {
        let value = match (key, raw.get(key)) {
            (_, Some(v)) if !v.is_null() => v.clone(),
            ("parameters", _) => json!({}),
            ("constraints" | "variants" | "segments", _) => json!([]),
            ("disabled", _) => json!(false),
            _ => Value::Null,
        };
        out.insert(key.to_string(), value);
    }
    Value::Object(out)
}

impl Unleash<'_> {
    fn feature_url(&self, flag: &str) -> String {
        format!(
            "{}/api/admin/projects/{}/features/{}",
            self.url,
            urlencoding(&self.project),
            urlencoding(flag)
        )
    }

    fn env_url(&self, flag: &str) -> String {
        format!(
            "{}/environments/{}",
            self.feature_url(flag),
            urlencoding(&self.environment)
        )
    }

    async fn call(
        &self,
        flag: &str,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, FlagError> {
        let mut request = self
            .client
            .request(method.clone(), url)
            .header("Authorization", &self.token)
            .timeout(self.timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        let fail = |what: String| FlagError(self.secrets.mask(&format!("flag `{flag}`: {what}")));
        let response = request.send().await.map_err(|e| {
            fail(format!(
                "Unleash at {} did not answer ({method} {url}): {}",
                self.url,
                if e.is_timeout() {
                    format!("no answer within {}", crate::duration::format(self.timeout))
                } else {
                    super::http::error_chain(e)
                }
            ))
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(answer);
        }
        // Masked before it is cut: a secret the cut would split is hidden whole.
        let said = answer["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| super::secrets::head(&self.secrets.mask(text.trim()), 200));
        let code = status.as_u16();
        Err(fail(match code {
            401 | 403 => format!(
                "Unleash at {} refused the token (HTTP {code}: {said}); it needs an admin or personal token with access to project `{}`",
                self.url, self.project
            ),
            404 if self.archived(flag).await => "the flag is archived in Unleash: clients see it off, and relctl cannot change or put it back (revive it in Unleash first, or take its steps out of the plan)".to_string(),
            404 => format!(
                "Unleash has no flag `{flag}` in project `{}` (HTTP 404: {said})",
                self.project
            ),
            _ => format!("Unleash answered {method} {url} with HTTP {code}: {said}"),
        }))
    }

    /// Whether Unleash holds `flag` archived: its check of a new flag's name says so.
    async fn archived(&self, flag: &str) -> bool {
        let answer = self
            .client
            .post(format!("{}/api/admin/features/validate", self.url))
            .header("Authorization", &self.token)
            .timeout(self.timeout)
            .json(&json!({ "name": flag }))
            .send()
            .await;
        match answer {
            Ok(r) if r.status().as_u16() == 409 => r
                .text()
                .await
                .is_ok_and(|t| t.to_lowercase().contains("archived")),
            _ => false,
        }
    }

    /// The flag's state in the environment, with its strategies' ids (to change them).
    async fn read_raw(&self, flag: &str) -> Result<(bool, Vec<Value>), FlagError> {
        let feature = self
            .call(flag, reqwest::Method::GET, &self.feature_url(flag), None)
            .await?;
        let envs = feature["environments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(env) = envs.iter().find(|e| e["name"] == self.environment.as_str()) else {
            let names: Vec<&str> = envs.iter().filter_map(|e| e["name"].as_str()).collect();
            return Err(FlagError(format!(
                "flag `{flag}`: Unleash has no environment `{}` in project `{}` (its environments: {}); the flag provider's `environments` maps to it",
                self.environment,
                self.project,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        let enabled = env["enabled"].as_bool().unwrap_or(false);
        let strategies = env["strategies"].as_array().cloned().unwrap_or_default();
        Ok((enabled, strategies))
    }

    /// The flag's state in the environment.
    /// A state holding a secret the plan knows is refused: relctl records a flag's state
    /// before it changes it (to put it back), and a secret never reaches the record.
    pub async fn read(&self, flag: &str) -> Result<FlagState, FlagError> {
        let (enabled, strategies) = self.read_raw(flag).await?;
        self.recordable(enabled, &strategies).ok_or_else(|| FlagError(format!(
            "flag `{flag}`: its strategies in Unleash hold a secret of this plan; relctl records a flag's state before it changes it, so it leaves this flag alone (take the secret out of the flag's strategies)"
        )))
    }

    /// The state read, unless it holds a secret of the plan in any form (which is never
    /// recorded).
    fn recordable(&self, enabled: bool, strategies: &[Value]) -> Option<FlagState> {
        let state = FlagState {
            enabled,
            strategies: strategies.iter().map(strategy).collect(),
        };
        let text = serde_json::to_string(&state.strategies).unwrap_or_default();
        (!self.secrets.appear_in(&text)).then_some(state)
    }

    async fn switch(&self, flag: &str, on: bool) -> Result<(), FlagError> {
        let url = format!("{}/{}", self.env_url(flag), if on { "on" } else { "off" });
        self.call(flag, reqwest::Method::POST, &url, None)
            .await
            .map(|_| ())
    }

    async fn add(&self, flag: &str, s: &Value) -> Result<(), FlagError> {
        let url = format!("{}/strategies", self.env_url(flag));
        self.call(flag, reqwest::Method::POST, &url, Some(&strategy(s)))
            .await
            .map(|_| ())
    }

    async fn remove(&self, flag: &str, id: &str) -> Result<(), FlagError> {
        let url = format!("{}/strategies/{}", self.env_url(flag), urlencoding(id));
        self.call(flag, reqwest::Method::DELETE, &url, None)
            .await
            .map(|_| ())
    }

    /// Makes the flag what `change` asks, from its state `now` (read just before); the
    /// state it is in afterwards.
    pub async fn apply(&self, flag: &str, change: &Change) -> Result<FlagState, FlagError> {
        let (enabled, strategies) = self.read_raw(flag).await?;
        if !change.enabled && enabled {
            self.switch(flag, false).await?; // the kill switch first: it is what matters
        }
        if let Some(rollout) = change.rollout {
            let rollouts = |s: &&Value| s["name"] == "flexibleRollout" || s["name"] == "default";
            let old = strategies.iter().find(|s| s["name"] == "flexibleRollout");
            let param = |key: &str, given: &Option<String>, default: &str| {
                given
                    .clone()
                    .or_else(|| old.and_then(|o| o["parameters"][key].as_str().map(String::from)))
                    .unwrap_or_else(|| default.to_string())
            };
            let mut new = old.map(strategy).unwrap_or_else(|| {
                strategy(&json!({ "name": "flexibleRollout", "constraints": [] }))
            });
            new["parameters"] = json!({
                "rollout": rollout.to_string(),
                "stickiness": param("stickiness", &change.stickiness, "default"),
                "groupId": param("groupId", &change.group_id, flag),
            });
            // The new strategy goes in before the old ones go: an enabled flag is never
            // without one (Unleash would add its 100% one).
            self.add(flag, &new).await?;
            for old in strategies.iter().filter(rollouts) {
                if let Some(id) = old["id"].as_str() {
                    self.remove(flag, id).await?;
                }
            }
        }
        if change.enabled && !enabled {
            self.switch(flag, true).await?;
        }
        self.read(flag).await
    }

    /// Puts the flag back as `before` was: off first when it was off, its strategies
    /// as they were, on last when it was on. Reads it again and says when it differs.
    /// The state it found just before (`None` when that holds a secret of the plan).
    pub async fn restore(
        &self,
        flag: &str,
        before: &FlagState,
    ) -> Result<Option<FlagState>, FlagError> {
        let (enabled, strategies) = self.read_raw(flag).await?;
        let found = self.recordable(enabled, &strategies);
        if !before.enabled && enabled {
            self.switch(flag, false).await?;
        }
        let now: Vec<Value> = strategies.iter().map(strategy).collect();
        if now != before.strategies {
            for s in &before.strategies {
                self.add(flag, s).await?;
            }
            for old in &strategies {
                if let Some(id) = old["id"].as_str() {
                    self.remove(flag, id).await?;
                }
            }
        }
        if before.enabled && !enabled {
            self.switch(flag, true).await?;
        }
        let after = self.read(flag).await?;
        if &after != before {
            return Err(FlagError(format!(
                "flag `{flag}`: put back as it was ({}), Unleash now says it is {}",
                before.summary(),
                after.summary()
            )));
        }
        Ok(found)
    }
}

/// A path segment as a URL carries it.
fn urlencoding(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_says_whether_the_flag_is_on_and_at_what_rollout() {
        let rollout = |r: &str| {
            strategy(&json!({ "name": "flexibleRollout", "parameters": { "rollout": r } }))
        };
        let state = |enabled, strategies| FlagState {
            enabled,
            strategies,
        };
        assert_eq!(state(false, vec![]).summary(), "off");
        assert_eq!(state(true, vec![rollout("25")]).summary(), "on at 25%");
        assert_eq!(state(false, vec![rollout("5")]).summary(), "off at 5%");
        assert_eq!(
            state(true, vec![rollout("5"), rollout("100")]).summary(),
            "on (2 strategies)"
        );
    }

    #[test]
    fn a_strategy_is_kept_without_its_id_and_with_every_list_present() {
        let read = json!({
            "id": "07dc", "featureName": "f", "sortOrder": 1, "name": "flexibleRollout",
            "parameters": { "rollout": "10" }, "constraints": [], "variants": [], "title": null,
        });
        let added = json!({ "name": "flexibleRollout", "parameters": { "rollout": "10" } });
        assert_eq!(
            strategy(&read),
            strategy(&added),
            "the same strategy, however Unleash spelt it"
        );
        assert!(strategy(&read).get("id").is_none());
    }

    #[test]
    fn names_are_one_path_segment() {
        assert_eq!(urlencoding("new-checkout_2.x~"), "new-checkout_2.x~");
        assert_eq!(urlencoding("a/b c"), "a%2Fb%20c");
    }
}
