//! Findings on Sentry's own detector fixtures (`tests/oracles/sentry/`): the
//! N+1 finding names the repeated query and the offenders Sentry's tests
//! assert, and critpath stays quiet where Sentry does.

use serde_json::Value;

use crate::util::{json, path};

fn findings(file: &str, extra: &[&str]) -> Vec<Value> {
    let p = path(&format!("tests/oracles/sentry/{file}"));
    crate::util::require(&p);
    let mut args = vec!["analyze", p.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    json(&args)["findings"].as_array().unwrap().clone()
}

fn of_kind<'a>(f: &'a [Value], kind: &str) -> Vec<&'a Value> {
    f.iter().filter(|f| f["kind"] == kind).collect()
}

fn sorted_ids(f: &Value) -> Vec<String> {
    let mut ids: Vec<String> = f["example_span_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

const DJANGO_OFFENDERS: [&str; 10] = [
    "b8be6138369491dd",
    "b2d4826e7b618f1b",
    "b3fdeea42536dbf1",
    "b409e78a092e642f",
    "86d2ede57bbf48d4",
    "8e554c84cdc9731e",
    "94d6230f3f910e12",
    "a210b87a2191ceb6",
    "88a5ccaf25b9bd8f",
    "bb32cf50fc56b296",
];

const DJANGO_QUERY: &str = "SELECT `books_author`.`id`, `books_author`.`name` FROM `books_author` WHERE `books_author`.`id` = %s LIMIT 21";

fn assert_django_n_plus_one(file: &str) {
    let f = findings(file, &[]);
    let n1 = of_kind(&f, "n_plus_one");
    assert_eq!(n1.len(), 1, "{file}: {f:#?}");
    assert_eq!(n1[0]["count"], 10);
    assert_eq!(sorted_ids(n1[0]), sorted(&DJANGO_OFFENDERS), "{file}");
    assert_eq!(n1[0]["example_parent_span_id"], "8dd7a5869a4f4583");
    // The same query, normalised the way critpath normalises every statement.
    assert_eq!(
        n1[0]["shape"],
        critpath::normalize::statement_shape(None, DJANGO_QUERY),
        "{file}"
    );
}

#[test]
fn django_index_view_n_plus_one() {
    assert_django_n_plus_one("n-plus-one-in-django-index-view.json");
}

#[test]
fn django_index_view_unparameterized_is_the_same_problem() {
    assert_django_n_plus_one("n-plus-one-in-django-index-view-unparameterized.json");
}

#[test]
fn django_index_view_activerecord_is_the_same_problem() {
    let f = findings("n-plus-one-in-django-index-view-activerecord.json", &[]);
    let n1 = of_kind(&f, "n_plus_one");
    assert_eq!(n1.len(), 1, "{f:#?}");
    assert_eq!(sorted_ids(n1[0]), sorted(&DJANGO_OFFENDERS));
}

#[test]
fn quiet_when_the_loop_is_fed_by_redis() {
    let f = findings("n-plus-one-in-django-index-view-source-redis.json", &[]);
    assert!(of_kind(&f, "n_plus_one").is_empty(), "{f:#?}");
}

#[test]
fn repeated_redis_is_not_an_n_plus_one_query() {
    let f = findings("n-plus-one-in-django-index-view-repeating-redis.json", &[]);
    assert!(of_kind(&f, "n_plus_one").is_empty(), "{f:#?}");
    // It is still a loop of cache calls, reported as such.
    assert_eq!(of_kind(&f, "n_plus_one_cache").len(), 1, "{f:#?}");
}

#[test]
fn quiet_on_the_solved_view_and_the_waterfall() {
    let solved = findings("solved-n-plus-one-in-django-index-view.json", &[]);
    assert!(of_kind(&solved, "n_plus_one").is_empty(), "{solved:#?}");
    let waterfall = findings("query-waterfall-in-django-random-view.json", &[]);
    assert!(
        of_kind(&waterfall, "n_plus_one").is_empty(),
        "{waterfall:#?}"
    );
    assert!(
        of_kind(&waterfall, "sequential_calls").is_empty(),
        "{waterfall:#?}"
    );
}

#[test]
fn odd_db_sources_without_duration_threshold() {
    let f = findings(
        "n-plus-one-in-django-with-odd-db-sources.json",
        &["--n-plus-one-min-total", "0ms"],
    );
    let n1 = of_kind(&f, "n_plus_one");
    assert_eq!(n1.len(), 1, "{f:#?}");
    assert_eq!(n1[0]["count"], 20);
    assert_eq!(n1[0]["example_parent_span_id"], "81a4b462bdc5c764");
    let shape = n1[0]["shape"].as_str().unwrap();
    assert!(
        shape.contains(r#""expense_expenses"."report_id" = %s"#),
        "{shape}"
    );
}

#[test]
fn concurrent_api_calls_are_a_fan_out() {
    let f = findings("n-plus-one-api-calls-in-issue-stream.json", &[]);
    let fan = of_kind(&f, "fan_out");
    assert_eq!(fan.len(), 1, "{f:#?}");
    assert_eq!(fan[0]["count"], 25);
    assert_eq!(fan[0]["example_parent_span_id"], "a0c39078d1570b00");
    assert!(of_kind(&f, "n_plus_one").is_empty());
}

#[test]
fn quiet_on_unparameterised_urls_and_non_repeating_calls() {
    for file in [
        "n-plus-one-api-calls-in-weather-app.json",
        "not-n-plus-one-api-calls.json",
    ] {
        let f = findings(file, &[]);
        assert!(of_kind(&f, "fan_out").is_empty(), "{file}: {f:#?}");
        assert!(of_kind(&f, "n_plus_one").is_empty(), "{file}: {f:#?}");
    }
}

#[test]
fn consecutive_pages_of_one_endpoint_are_an_n_plus_one() {
    let f = findings("consecutive-http-basic.json", &[]);
    let n1 = of_kind(&f, "n_plus_one");
    assert_eq!(n1.len(), 1, "{f:#?}");
    assert_eq!(
        sorted_ids(n1[0]),
        sorted(&[
            "96e0ae187b5481a1",
            "8d22b49a27b18270",
            "b2bc2ebb42248c74",
            "9336922774fd35bc",
            "a307ceb77c702cea",
            "ac1e90ff646617e7"
        ])
    );
}

/// Sentry reports these 12 (resolver, query) pairs as an MN+1 problem, by
/// span order alone. The queries overlap (async resolvers: each starts
/// before the previous one ends), so by critpath's rule they are a fan-out,
/// not an N+1: the same repeated query is found, under the kind that says
/// waiting in line is not what costs time here.
#[test]
fn graphql_repeated_resolver_queries_are_found_as_a_fan_out() {
    let f = findings("m-n-plus-one-graphql.json", &[]);
    let fan = of_kind(&f, "fan_out");
    assert!(
        fan.iter()
            .any(|f| f["shape"].as_str().unwrap().contains("FROM authors") && f["count"] == 12),
        "{f:#?}"
    );
    assert!(of_kind(&f, "n_plus_one").is_empty(), "{f:#?}");
}
