//! What templates see when a step runs: the names of SPEC §4, filled in.

use serde_json::{Value, json};

use crate::engine::Live;
use crate::plan::Plan;
use crate::providers::Secrets;

/// The artifact being deployed: the release itself, or the baseline on a rollback.
#[derive(Debug, Clone)]
pub struct Target {
    pub release: String,
    pub artifact: String,
    pub name: String,
    pub digest: String,
    pub version: String,
}

impl From<&Live> for Target {
    fn from(live: &Live) -> Self {
        let name = live
            .artifact
            .rsplit_once('@')
            .map_or(live.artifact.as_str(), |(name, _)| name)
            .to_string();
        Target {
            release: live.release.clone(),
            artifact: live.artifact.clone(),
            name,
            digest: live.digest.clone(),
            version: live.version.clone(),
        }
    }
}

pub struct Scope<'a> {
    pub plan: &'a Plan,
    pub secrets: &'a Secrets,
    pub env: &'a str,
    pub target: &'a Target,
    pub baseline: Option<&'a Live>,
    pub step: usize,
    pub weight: u8,
    pub response: Option<&'a Value>,
}

impl Scope<'_> {
    pub fn value(&self) -> minijinja::Value {
        let secrets: serde_json::Map<String, Value> = self
            .secrets
            .iter()
            .map(|(name, value)| (name.to_string(), json!(value)))
            .collect();
        let baseline = self.baseline.map_or(
            Value::Null,
            |b| json!({ "id": b.release, "version": b.version, "digest": b.digest }),
        );
        let mut ctx = json!({
            "app": self.plan.app,
            "vars": self.plan.vars,
            "secret": secrets,
            "env": { "name": self.env },
            "release": { "id": self.target.release, "version": self.target.version },
            "artifact": { "ref": self.target.artifact, "name": self.target.name, "digest": self.target.digest },
            "step": { "index": self.step, "weight": self.weight },
            "baseline": baseline,
        });
        if let (Some(response), Some(obj)) = (self.response, ctx.as_object_mut()) {
            obj.insert("response".into(), response.clone());
        }
        minijinja::Value::from(minijinja::value::Serde(ctx))
    }

    /// The RELCTL_* variables an `exec` command gets.
    pub fn exec_env(&self) -> Vec<(String, String)> {
        vec![
            ("RELCTL_APP".into(), self.plan.app.clone()),
            ("RELCTL_ENV".into(), self.env.to_string()),
            ("RELCTL_RELEASE".into(), self.target.release.clone()),
            ("RELCTL_VERSION".into(), self.target.version.clone()),
            ("RELCTL_ARTIFACT".into(), self.target.artifact.clone()),
            ("RELCTL_DIGEST".into(), self.target.digest.clone()),
            ("RELCTL_STEP".into(), self.step.to_string()),
            ("RELCTL_WEIGHT".into(), self.weight.to_string()),
            (
                "RELCTL_BASELINE".into(),
                self.baseline.map(|b| b.release.clone()).unwrap_or_default(),
            ),
        ]
    }
}
