//! The command line's contract: exit codes and error messages.

use predicates::prelude::*;

use crate::util::{critpath, temp_file};

#[test]
fn missing_input_exits_2_and_names_the_path() {
    critpath()
        .args(["stats", "no/such/file.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/file.json"));
}

#[test]
fn unrecognised_content_exits_2_and_suggests_input_format() {
    let (_dir, file) = temp_file("notes.txt", b"just some text\n");
    critpath()
        .arg("stats")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a recognised trace format"))
        .stderr(predicate::str::contains("--input-format"));
}

#[test]
fn usage_errors_exit_2() {
    critpath().args(["analyze"]).assert().code(2);
    critpath().args(["frobnicate"]).assert().code(2);
    critpath()
        .args(["analyze", "x.json", "--min-duration", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid value 'soon' for '--min-duration",
        ))
        .stderr(predicate::str::contains(
            "expected a duration such as 250ms",
        ));
}

#[test]
fn bad_flag_values_get_claps_error_and_exit_2() {
    for (flag, value, expected) in [
        ("--since", "yesterday", "expected an RFC 3339 time"),
        ("--until", "2024-13-45", "expected an RFC 3339 time"),
        ("--memory-limit", "5 parsecs", "unknown unit"),
        ("--n-plus-one-min-total", "lots", "expected a duration"),
        ("--slow", "p100", "between 0 and 100"),
    ] {
        critpath()
            .args(["analyze", "fixtures/otlp-json/cascade.jsonl", flag, value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "invalid value '{value}' for '{flag}"
            )))
            .stderr(predicate::str::contains(expected));
    }
    critpath()
        .args([
            "check",
            "fixtures/otlp-json",
            "--baseline",
            "x.json",
            "--max-regression",
            "much",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid value 'much' for '--max-regression",
        ));
}

#[test]
fn every_command_takes_color_and_diff_takes_strict_and_threads() {
    for args in [
        vec!["stats", "fixtures/otlp-json/cascade.jsonl"],
        vec!["analyze", "fixtures/otlp-json/cascade.jsonl"],
        vec!["check", "fixtures/otlp-json", "--budget", "critpath.toml"],
        vec![
            "diff",
            "fixtures/otlp-json/cascade.jsonl",
            "fixtures/otlp-json/cascade.jsonl",
            "--strict",
            "--threads",
            "1",
        ],
    ] {
        critpath()
            .args(&args)
            .args(["--color", "never"])
            .assert()
            .code(0);
    }
}

#[test]
fn help_shows_examples() {
    critpath()
        .args(["analyze", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
}
