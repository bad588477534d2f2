//! What templates see when a step runs: the names docs/plan.md ("Templates: trusted
//! and untrusted values") lists, filled in.

use minijinja::Value;

use crate::engine::Live;
use crate::plan::Plan;
use crate::providers::Secrets;

/// The artifact being deployed: the release itself, or the baseline on a rollback.
#[derive(Debug, Clone)]
pub struct Deployable {
    pub release: String,
    pub artifact: String,
    pub name: String,
    pub digest: String,
    pub version: String,
}

impl From<&Live> for Deployable {
    fn from(live: &Live) -> Self {
        let name = live
            .artifact
            .rsplit_once('@')
            .map_or(live.artifact.as_str(), |(name, _)| name)
            .to_string();
        Deployable {
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
    pub target: &'a Deployable,
    pub baseline: Option<&'a Live>,
    pub step: usize,
    pub weight: u8,
    pub response: Option<&'a serde_json::Value>,
    /// The environment's target the step runs for (`target.*`), if it has targets.
    pub place: Option<&'a crate::plan::Target>,
}

impl Scope<'_> {
    /// The names templates see. What the plan itself says (`app`, `vars.*`, `env.name`,
    /// the step's numbers) and the operator's secrets are trusted
    /// (`plan::template::is_trusted`): marked safe, they are rendered as they are.
    /// Everything else comes from outside the plan (the command line, the record, the
    /// platform's answers) and is escaped where it lands.
    pub fn value(&self) -> Value {
        let trusted = |text: &str| Value::from_safe_string(text.to_string());
        let map = Value::from_pairs::<Vec<(&str, Value)>, _, _>;
        let vars = Value::from_pairs(self.plan.vars.iter().map(|(k, v)| (k.as_str(), trusted(v))));
        let secrets = Value::from_pairs(self.secrets.iter().map(|(k, v)| (k, trusted(v))));
        let baseline = self.baseline.map_or(Value::from(()), |b| {
            map(vec![
                ("id", Value::from(b.release.as_str())),
                ("version", Value::from(b.version.as_str())),
                ("digest", Value::from(b.digest.as_str())),
            ])
        });
        let target = self.target;
        let mut names = vec![
            ("app", trusted(&self.plan.app)),
            ("vars", vars),
            ("secret", secrets),
            ("env", map(vec![("name", trusted(self.env))])),
            (
                "release",
                map(vec![
                    ("id", Value::from(target.release.as_str())),
                    ("version", Value::from(target.version.as_str())),
                ]),
            ),
            (
                "artifact",
                map(vec![
                    ("ref", Value::from(target.artifact.as_str())),
                    ("name", Value::from(target.name.as_str())),
                    ("digest", Value::from(target.digest.as_str())),
                ]),
            ),
            (
                "step",
                map(vec![
                    ("index", Value::from(self.step)),
                    ("weight", Value::from(self.weight)),
                ]),
            ),
            ("baseline", baseline),
        ];
        if let Some(place) = self.place {
            let vars = Value::from_pairs(place.vars.iter().map(|(k, v)| (k.as_str(), trusted(v))));
            names.push((
                "target",
                map(vec![("name", trusted(&place.name)), ("vars", vars)]),
            ));
        }
        if let Some(response) = self.response {
            names.push(("response", Value::from(minijinja::value::Serde(response))));
        }
        map(names)
    }

    /// The RELCTL_* variables an `exec` command gets.
    pub fn exec_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
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
        ];
        if let Some(place) = self.place {
            env.push(("RELCTL_TARGET".into(), place.name.clone()));
        }
        env
    }

    /// The target's name, for the events the step records.
    pub fn target_name(&self) -> Option<&str> {
        self.place.map(|t| t.name.as_str())
    }
}
