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
        .stderr(predicate::str::contains("--min-duration soon"));
}

#[test]
fn help_shows_examples() {
    critpath()
        .args(["analyze", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
}
