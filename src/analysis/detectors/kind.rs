//! The kinds of finding: one spelling each, the JSON report's and the budget
//! file's (`n_plus_one`); the CLI's hyphenated spelling (`n-plus-one`) is
//! accepted as an alias wherever a kind is read.

use serde::{Deserialize, Serialize};

/// What a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The same query in a loop.
    #[serde(alias = "n-plus-one")]
    NPlusOne,
    /// The same key/value command in a loop.
    #[serde(alias = "n-plus-one-cache")]
    NPlusOneCache,
    /// The same call, concurrently.
    #[serde(alias = "fan-out")]
    FanOut,
    /// Independent calls made one after another.
    #[serde(alias = "sequential-calls")]
    SequentialCalls,
    /// Time no span explains.
    Uninstrumented,
}

impl FindingKind {
    /// Every kind, in report order.
    pub const ALL: [FindingKind; 5] = [
        FindingKind::NPlusOne,
        FindingKind::NPlusOneCache,
        FindingKind::FanOut,
        FindingKind::SequentialCalls,
        FindingKind::Uninstrumented,
    ];

    /// The kind's one spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::NPlusOne => "n_plus_one",
            FindingKind::NPlusOneCache => "n_plus_one_cache",
            FindingKind::FanOut => "fan_out",
            FindingKind::SequentialCalls => "sequential_calls",
            FindingKind::Uninstrumented => "uninstrumented",
        }
    }

    /// The kind a name spells, with `-` accepted for `_`.
    pub fn parse(name: &str) -> Option<FindingKind> {
        let name = name.trim().replace('-', "_");
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The known spelling closest to `name`, for "did you mean" messages.
    pub fn closest(name: &str) -> FindingKind {
        let name = name.trim().replace('-', "_").to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .min_by_key(|k| strsim::levenshtein(k.as_str(), &name))
            .expect("ALL is not empty")
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_each_and_the_hyphenated_alias() {
        for k in FindingKind::ALL {
            assert_eq!(FindingKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            let hyphen: FindingKind =
                serde_json::from_str(&format!("\"{}\"", k.as_str().replace('_', "-"))).unwrap();
            assert_eq!(hyphen, k);
        }
        assert_eq!(
            FindingKind::parse("n-plus-one"),
            Some(FindingKind::NPlusOne)
        );
        assert_eq!(FindingKind::parse("n_plus_two"), None);
        assert_eq!(FindingKind::closest("n_plus_onee"), FindingKind::NPlusOne);
        assert_eq!(FindingKind::closest("fanout"), FindingKind::FanOut);
    }
}
