//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under the repository root.
pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// The binary, with a clean environment for stable output.
pub fn critpath() -> Command {
    let mut cmd = Command::cargo_bin("critpath").expect("binary builds");
    cmd.env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .current_dir(root());
    cmd
}

/// Runs `cmd`, asserting exit 0 (showing stderr if not); its stdout and
/// stderr as text.
pub fn succeed(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

/// Runs the binary and parses its stdout as JSON, asserting exit 0.
pub fn json(args: &[&str]) -> serde_json::Value {
    let out = critpath().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "critpath {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Writes `content` to a file in a fresh temporary folder.
pub fn temp_file(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join(name);
    std::fs::write(&file, content).expect("write temp file");
    (dir, file)
}

/// Whether `p` exists, with a message naming it when it does not.
pub fn require(p: &Path) {
    assert!(p.exists(), "missing test input {}", p.display());
}

/// The bundled incident scenarios: each is a fixture in every format's
/// folder of `fixtures/`.
pub const SCENARIOS: [&str; 5] = [
    "cascade",
    "n_plus_one",
    "slow_queries",
    "sequential",
    "near_misses",
];
