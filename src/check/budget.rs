//! The budget file (TOML): its schema, and validation with errors that name
//! the file, the line and the key.
//!
//! ```toml
//! [[budget]]
//! operation = "notification-sender:process"   # SERVICE:OPERATION, * wildcards
//! p50_ms = 2000
//! p99_ms = 10000
//!
//! [[budget]]
//! service = "aaa-api"
//! max_critical_share = 0.25
//!
//! [[budget]]
//! finding = "n_plus_one"
//! max_count = 0
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::analysis::detectors::FindingKind;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetFile {
    #[serde(default)]
    budget: Vec<toml::Spanned<Rule>>,
}

/// One `[[budget]]` entry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A label for reports (default: derived from the target).
    pub name: Option<String>,
    /// Target: operations matching `SERVICE:OPERATION`.
    pub operation: Option<String>,
    /// Target: services matching this (or, with `finding`, a filter).
    pub service: Option<String>,
    /// Target: findings of this kind (`*` wildcards).
    pub finding: Option<String>,
    /// Selector: analyse only roots matching `SERVICE[:OPERATION]`.
    pub root: Option<String>,
    /// Selector: analyse the subtrees under spans matching this.
    pub entry: Option<String>,
    /// Limit on the median duration, ms.
    pub p50_ms: Option<f64>,
    /// Limit on the 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// Limit on the 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Limit on the longest duration, ms.
    pub max_ms: Option<f64>,
    /// Limit on the critical share (of summed root durations).
    pub max_critical_share: Option<f64>,
    /// Limit on the self share.
    pub max_self_share: Option<f64>,
    /// Limit on the share of spans with an error status.
    pub max_error_rate: Option<f64>,
    /// Limit on the spans in one root's subtree.
    pub max_spans_per_trace: Option<u64>,
    /// Limit on the number of matching findings.
    pub max_count: Option<u64>,
    /// Limit on the growth of p50/p95/p99 against the baseline: `"20%"` or `0.2`.
    pub max_regression: Option<Regression>,
    /// Least spans on both sides before a regression is judged (default 20).
    pub min_count: Option<u64>,
    /// A rule that matches nothing passes instead of failing.
    #[serde(default)]
    pub optional: bool,
}

/// A relative growth limit, written `"20%"` or `0.2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regression(pub f64);

impl<'de> Deserialize<'de> for Regression {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) if n >= 0.0 => Ok(Regression(n)),
            Raw::Text(t) => parse_percent(&t).map(Regression).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "expected a percentage such as \"20%\", found {t:?}"
                ))
            }),
            Raw::Number(n) => Err(serde::de::Error::custom(format!(
                "expected a non-negative fraction, found {n}"
            ))),
        }
    }
}

/// Parses `"20%"` (or `"0.2"`) into a fraction.
pub fn parse_percent(text: &str) -> Option<f64> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => t.parse::<f64>().ok()?,
    };
    (value >= 0.0 && value.is_finite()).then_some(value)
}

/// What a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Operations.
    Operation,
    /// Services.
    Service,
    /// Findings.
    Finding,
    /// Whole traces (roots).
    Trace,
}

impl Rule {
    /// The rule's target.
    pub fn target(&self) -> Target {
        if self.finding.is_some() {
            Target::Finding
        } else if self.operation.is_some() {
            Target::Operation
        } else if self.service.is_some() {
            Target::Service
        } else {
            Target::Trace
        }
    }

    /// A label: the name, or the target pattern.
    pub fn label(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let mut parts = Vec::new();
        if let Some(f) = &self.finding {
            parts.push(format!("finding {f}"));
        }
        if let Some(o) = &self.operation {
            parts.push(format!("operation {o}"));
        }
        if let Some(s) = &self.service {
            parts.push(format!("service {s}"));
        }
        if let Some(r) = &self.root {
            parts.push(format!("root {r}"));
        }
        if let Some(e) = &self.entry {
            parts.push(format!("entry {e}"));
        }
        if parts.is_empty() {
            "traces".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// The limits set, by key name, that do not apply to the rule's target.
    fn misplaced_keys(&self) -> Vec<&'static str> {
        let set: [(&'static str, bool, &[Target]); 11] = [
            ("p50_ms", self.p50_ms.is_some(), &[Target::Operation]),
            ("p95_ms", self.p95_ms.is_some(), &[Target::Operation]),
            ("p99_ms", self.p99_ms.is_some(), &[Target::Operation]),
            ("max_ms", self.max_ms.is_some(), &[Target::Operation]),
            (
                "max_critical_share",
                self.max_critical_share.is_some(),
                &[Target::Operation, Target::Service],
            ),
            (
                "max_self_share",
                self.max_self_share.is_some(),
                &[Target::Operation, Target::Service],
            ),
            (
                "max_error_rate",
                self.max_error_rate.is_some(),
                &[Target::Operation, Target::Service],
            ),
            (
                "max_spans_per_trace",
                self.max_spans_per_trace.is_some(),
                &[Target::Trace],
            ),
            ("max_count", self.max_count.is_some(), &[Target::Finding]),
            (
                "max_regression",
                self.max_regression.is_some(),
                &[Target::Operation],
            ),
            ("min_count", self.min_count.is_some(), &[Target::Operation]),
        ];
        let target = self.target();
        set.iter()
            .filter(|(_, present, allowed)| *present && !allowed.contains(&target))
            .map(|(k, _, _)| *k)
            .collect()
    }

    fn has_limit(&self) -> bool {
        self.p50_ms.is_some()
            || self.p95_ms.is_some()
            || self.p99_ms.is_some()
            || self.max_ms.is_some()
            || self.max_critical_share.is_some()
            || self.max_self_share.is_some()
            || self.max_error_rate.is_some()
            || self.max_spans_per_trace.is_some()
            || self.max_count.is_some()
            || self.max_regression.is_some()
    }
}

/// A budget file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct BudgetError {
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong, naming the key.
    pub message: String,
}

/// A rule with the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct LocatedRule {
    /// The rule.
    pub rule: Rule,
    /// The line of its `[[budget]]` header.
    pub line: usize,
}

/// Reads and validates a budget file.
pub fn load(path: &Path) -> Result<Vec<LocatedRule>, BudgetError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| BudgetError {
        file: file.clone(),
        line: 0,
        message: e.to_string(),
    })?;
    parse(&file, &text)
}

/// Parses and validates budget text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<LocatedRule>, BudgetError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let parsed: BudgetFile = toml::from_str(text).map_err(|e| BudgetError {
        file: file.to_string(),
        line: e.span().map_or(1, |s| line_of(s.start)),
        message: with_suggestion(e.message()),
    })?;
    let mut rules = Vec::new();
    for spanned in parsed.budget {
        let line = line_of(spanned.span().start);
        let rule = spanned.into_inner();
        let fail = |message: String| BudgetError {
            file: file.to_string(),
            line,
            message,
        };
        if rule.operation.is_some() && rule.finding.is_none() && rule.service.is_some() {
            return Err(fail(
                "a rule takes `operation` or `service`, not both (SERVICE:OPERATION names both)"
                    .into(),
            ));
        }
        if let Some(key) = rule.misplaced_keys().first() {
            return Err(fail(format!(
                "key `{key}` does not apply to a {} rule",
                match rule.target() {
                    Target::Operation => "operation",
                    Target::Service => "service",
                    Target::Finding => "finding",
                    Target::Trace => "trace-level (no operation, service or finding)",
                }
            )));
        }
        let mut rule = rule;
        if let Some(pattern) = &rule.finding {
            rule.finding = Some(finding_kind(pattern).map_err(fail)?);
        }
        if !rule.has_limit() {
            return Err(fail(
                "the rule sets no limit (e.g. p99_ms, max_critical_share, max_count)".into(),
            ));
        }
        rules.push(LocatedRule { rule, line });
    }
    Ok(rules)
}

/// The keys a `[[budget]]` rule takes, for "did you mean" suggestions.
const KEYS: &[&str] = &[
    "name",
    "operation",
    "service",
    "finding",
    "root",
    "entry",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "max_critical_share",
    "max_self_share",
    "max_error_rate",
    "max_spans_per_trace",
    "max_count",
    "max_regression",
    "min_count",
    "optional",
];

/// A TOML error message, with the closest known key when it names an
/// unknown one.
fn with_suggestion(message: &str) -> String {
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next());
    match unknown.and_then(|key| KEYS.iter().min_by_key(|k| strsim::levenshtein(k, key))) {
        Some(best) => format!("{}; did you mean `{best}`?", message.trim_end()),
        None => message.to_string(),
    }
}

/// A `finding` value checked against the kinds that exist: a kind (the
/// hyphenated spelling accepted) becomes its one spelling; a pattern with
/// `*` or `?` must match at least one kind.
fn finding_kind(pattern: &str) -> Result<String, String> {
    let kinds = FindingKind::ALL.map(FindingKind::as_str).join(", ");
    if pattern.contains(['*', '?']) {
        let w = wildmatch::WildMatch::new(&pattern.replace('-', "_"));
        if FindingKind::ALL.iter().any(|k| w.matches(k.as_str())) {
            return Ok(pattern.replace('-', "_"));
        }
        return Err(format!(
            "finding pattern \"{pattern}\" matches no finding kind (kinds: {kinds})"
        ));
    }
    match FindingKind::parse(pattern) {
        Some(kind) => Ok(kind.as_str().to_string()),
        None => Err(format!(
            "unknown finding kind \"{pattern}\"; did you mean \"{}\"? (kinds: {kinds})",
            FindingKind::closest(pattern)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[budget]]
operation = "notification-sender:process"
p50_ms = 2000
p99_ms = 10000

[[budget]]
service = "aaa-api"
max_critical_share = 0.25

[[budget]]
finding = "n_plus_one"
max_count = 0
"#;

    #[test]
    fn parses_the_documented_example() {
        let rules = parse("critpath.toml", EXAMPLE).unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].line, 2);
        assert_eq!(rules[0].rule.p99_ms, Some(10000.0));
        assert_eq!(rules[1].rule.target(), Target::Service);
        assert_eq!(rules[2].rule.target(), Target::Finding);
        assert_eq!(rules[1].line, 7);
        assert_eq!(rules[2].line, 11);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("b.toml", "[[budget]]\nservice = \"x\"\np99_msec = 3\n").unwrap_err();
        assert_eq!(err.file, "b.toml");
        assert_eq!(err.line, 3);
        assert!(err.message.contains("p99_msec"), "{}", err.message);
    }

    #[test]
    fn malformed_toml_is_located() {
        let err = parse("b.toml", "[[budget]]\noperation = \n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn misplaced_limit_is_rejected_with_its_key() {
        let err = parse("b.toml", "\n[[budget]]\nservice = \"a\"\np99_ms = 3\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("p99_ms"), "{}", err.message);
    }

    #[test]
    fn finding_kinds_are_checked_against_those_that_exist() {
        let rule = |kind: &str| {
            parse(
                "b.toml",
                &format!("[[budget]]\nfinding = \"{kind}\"\nmax_count = 0\n"),
            )
        };
        // The CLI's hyphenated spelling is the same kind.
        assert_eq!(
            rule("n-plus-one").unwrap()[0].rule.finding.as_deref(),
            Some("n_plus_one")
        );
        assert_eq!(
            rule("n_plus_*").unwrap()[0].rule.finding.as_deref(),
            Some("n_plus_*")
        );
        let err = rule("n_plus_onee").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("b.toml", 1));
        assert!(
            err.message
                .contains("unknown finding kind \"n_plus_onee\"; did you mean \"n_plus_one\"?"),
            "{err}"
        );
        let err = rule("slow_*").unwrap_err();
        assert!(err.message.contains("matches no finding kind"), "{err}");
    }

    #[test]
    fn an_unknown_key_gets_the_closest_known_one() {
        let err = parse(
            "b.toml",
            "[[budget]]\nservice = \"x\"\nmax_critical_shar = 0.1\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 3);
        assert!(
            err.message.contains("did you mean `max_critical_share`?"),
            "{err}"
        );
    }

    #[test]
    fn a_limit_of_the_wrong_type_is_located() {
        let err = parse(
            "b.toml",
            "[[budget]]\noperation = \"a:b\"\np99_ms = \"fast\"\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        let err = parse(
            "b.toml",
            "[[budget]]\nfinding = \"fan_out\"\nmax_count = -1\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
    }

    #[test]
    fn a_rule_without_limit_is_rejected() {
        let err = parse("b.toml", "[[budget]]\nservice = \"a\"\n").unwrap_err();
        assert!(err.message.contains("no limit"));
    }

    #[test]
    fn regressions_as_percent_or_fraction() {
        let rules = parse(
            "b",
            "[[budget]]\noperation=\"a:b\"\nmax_regression=\"20%\"\n[[budget]]\noperation=\"a:c\"\nmax_regression=0.1\n",
        )
        .unwrap();
        assert_eq!(rules[0].rule.max_regression, Some(Regression(0.2)));
        assert_eq!(rules[1].rule.max_regression, Some(Regression(0.1)));
        assert!(
            parse(
                "b",
                "[[budget]]\noperation=\"a:b\"\nmax_regression=\"lots\"\n"
            )
            .is_err()
        );
    }
}
