//! Inputs larger than memory: `--memory-limit` spills spans to disk by
//! trace and analyses them a partition at a time, with the same report.

use crate::util::{SCENARIOS, critpath, path, succeed};

/// The JSON report of `analyze` on `input`, with extra flags, run with
/// `TMPDIR` pointing at `tmp` so that spill folders can be checked.
fn report(input: &str, extra: &[&str], tmp: &std::path::Path) -> (String, String) {
    report_of(&[input], extra, tmp)
}

/// [`report`] on several inputs.
fn report_of(inputs: &[&str], extra: &[&str], tmp: &std::path::Path) -> (String, String) {
    succeed(
        critpath()
            .arg("analyze")
            .args(inputs.iter().map(|input| path(input)))
            .args(["--format", "json"])
            .args(extra)
            .env("TMPDIR", tmp),
    )
}

#[test]
fn a_spilled_report_is_byte_for_byte_the_in_memory_one() {
    for input in [
        "fixtures/otlp-json",
        "fixtures/jaeger",
        "fixtures/sentry",
        "fixtures/otlp-proto",
        "fixtures/integrity",
        "fixtures/xray",
        "fixtures/zipkin",
        "fixtures/queues",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let (in_memory, quiet) = report(input, &[], tmp.path());
        assert!(!quiet.contains("spilling"), "{input}: {quiet}");
        let (spilled, said) = report(input, &["--memory-limit", "1KiB"], tmp.path());
        assert!(said.contains("spilling spans to"), "{input}: {said}");
        assert_eq!(in_memory, spilled, "{input}");
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "{input}: spill files left: {left:?}");
    }
}

/// Every fixture folder holds the same traces in another format, so read
/// together each span comes several times, and which copy a trace keeps
/// must not depend on the order the copies arrive in: reader threads
/// decide the order spilled spans reach a partition, and the command line
/// the order of the inputs. Several runs and thread counts, because one
/// run can happen to write a partition in the in-memory order.
#[test]
fn a_spilled_report_of_repeated_spans_is_the_in_memory_one_on_any_threads() {
    let tmp = tempfile::tempdir().unwrap();
    // Every fixture at once takes seconds a run in a debug build.
    let all = [("2MiB", "2"), ("1KiB", "3"), ("2MiB", "1")];
    same_report_spilled_or_not(&["fixtures"], &all, 1, tmp.path());
    let formats = ["fixtures/xray", "fixtures/zipkin", "fixtures/sentry"];
    let runs = [("1MiB", "2"), ("1KiB", "3"), ("1MiB", "1")];
    let forwards = same_report_spilled_or_not(&formats, &runs, 3, tmp.path());
    let mut reversed = formats;
    reversed.reverse();
    let backwards = same_report_spilled_or_not(&reversed, &runs[..1], 2, tmp.path());
    assert_eq!(forwards, backwards, "the order of the inputs changed it");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "spill files left: {left:?}");
}

/// Asserts that `inputs` give one report in memory on 1 and 3 threads and
/// spilled under each `(limit, threads)` of `runs`, `times` runs each, and
/// returns it.
fn same_report_spilled_or_not(
    inputs: &[&str],
    runs: &[(&str, &str)],
    times: usize,
    tmp: &std::path::Path,
) -> String {
    let (in_memory, _) = report_of(inputs, &["--threads", "1"], tmp);
    let (again, _) = report_of(inputs, &["--threads", "3"], tmp);
    assert_eq!(in_memory, again, "{inputs:?} in memory on 3 threads");
    for &(limit, threads) in runs {
        for time in 0..times {
            let flags = ["--memory-limit", limit, "--threads", threads];
            let (spilled, said) = report_of(inputs, &flags, tmp);
            assert!(said.contains("spilling spans to"), "{inputs:?}: {said}");
            assert_eq!(in_memory, spilled, "{inputs:?} {flags:?}, run {time}");
        }
    }
    in_memory
}

#[test]
fn a_diagnosis_against_an_earlier_range_reads_the_spill_again() {
    // The baseline range is analysed after the incident, from the same
    // spill; its files used to be deleted as they were first read.
    let input = "tests/oracles/nezha/W1_ob_currency_netdelay.otlp.jsonl.gz";
    let range = [
        "--since",
        "2022-08-22T05:27:06Z",
        "--baseline-until",
        "2022-08-22T05:27:06Z",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let (in_memory, _) = report(input, &range, tmp.path());
    let mut spilled_args = range.to_vec();
    spilled_args.extend(["--memory-limit", "1KiB"]);
    let (spilled, said) = report(input, &spilled_args, tmp.path());
    assert!(said.contains("spilling spans to"), "{said}");
    assert_eq!(in_memory, spilled);
    assert!(
        in_memory.contains("\"suspects\""),
        "no diagnosis: {in_memory}"
    );
}

#[test]
fn a_roomy_limit_reads_into_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, said) = report(
        "fixtures/otlp-json",
        &["--memory-limit", "8GiB"],
        tmp.path(),
    );
    assert!(!said.contains("spilling"), "{said}");
}

#[test]
fn spill_files_are_removed_when_the_run_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let out = critpath()
        .arg("analyze")
        .arg(path("fixtures/integrity"))
        .args(["--memory-limit", "1KiB", "--strict"])
        .env("TMPDIR", tmp.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "spill files left: {left:?}");
}

#[test]
fn a_bad_memory_limit_is_a_usage_error() {
    let out = critpath()
        .arg("analyze")
        .arg(path("fixtures/otlp-json"))
        .args(["--memory-limit", "lots"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid value 'lots' for '--memory-limit"),
        "{stderr}"
    );
}

#[test]
fn reports_that_walk_every_trace_refuse_a_memory_limit() {
    let out = critpath()
        .arg("analyze")
        .arg(path("fixtures/otlp-json"))
        .args(["--memory-limit", "1KiB", "--format", "html"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format html"));
}

#[test]
fn timings_go_to_stderr_and_leave_the_report_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, _) = report("fixtures/otlp-json", &[], tmp.path());
    let (timed, said) = report("fixtures/otlp-json", &["--timings"], tmp.path());
    assert_eq!(plain, timed);
    for stage in [
        "read",
        "per-trace",
        "aggregate",
        "diagnose",
        "write",
        "total",
    ] {
        assert!(said.contains(&format!("timings: {stage}")), "{said}");
        // Each stage's CPU time, and the cores it kept busy on average.
        let line = said
            .lines()
            .find(|l| l.contains(&format!("timings: {stage} ")))
            .unwrap();
        let cpu = line.split(", CPU ").nth(1).expect(line);
        let (seconds, cores) = cpu.split_once(" s (").expect(line);
        assert!(seconds.parse::<f64>().unwrap() >= 0.0, "{line}");
        assert!(cores.contains(" cores)"), "{line}");
    }
    assert!(said.contains("spans/s"), "{said}");
    // Where Linux tells, each stage's own peak memory (sampled), within
    // the run's peak so far, which never falls; the total's is the run's.
    if cfg!(target_os = "linux") {
        let mib = |text: &str| text.parse::<u64>().expect(text);
        let mut last = 0;
        for line in said.lines().filter(|l| l.contains(", peak memory ")) {
            let rest = line.split(", peak memory ").nth(1).unwrap();
            if line.contains("timings: total ") {
                assert!(mib(rest.split(" MiB").next().unwrap()) >= last, "{said}");
                continue;
            }
            let (own, so_far) = rest.split_once(" MiB (so far ").expect(line);
            let so_far = mib(so_far.split(" MiB").next().unwrap());
            assert!(mib(own) <= so_far && so_far >= last, "{said}");
            last = so_far;
        }
        assert!(last > 0, "{said}");
    }
}

/// The `threads` line of `--timings`: the threads of the one pool every
/// stage runs on.
fn threads_started(said: &str) -> usize {
    let line = said
        .lines()
        .find(|l| l.starts_with("critpath: timings: threads"))
        .unwrap_or_else(|| panic!("no threads line in {said}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 1, "{line}");
    numbers[0]
}

#[cfg(target_os = "linux")]
#[test]
fn threads_bounds_the_one_pool() {
    let tmp = tempfile::tempdir().unwrap();
    for n in [1, 3] {
        let (_, said) = report(
            "fixtures/otlp-json",
            &["--timings", "--threads", &n.to_string()],
            tmp.path(),
        );
        // Before, polars started one thread per core whatever was asked.
        assert_eq!(threads_started(&said), n, "{said}");
    }
}

#[test]
fn spill_files_are_removed_on_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    // Standard input that never ends: the run waits with its spill folder
    // made, until it is interrupted.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("critpath"))
        .args(["analyze", "-", "--memory-limit", "1KiB"])
        .env("TMPDIR", tmp.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("runs");
    // Held open until the child has exited: `wait` would close it, and an
    // input ending before the signal lands would end the run by itself.
    let stdin = child.stdin.take();
    let made = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::fs::read_dir(tmp.path()).unwrap().next().is_some()
    });
    assert!(made, "no spill folder appeared");
    // The shell's own `kill`: no package needed beyond a POSIX shell.
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .expect("sh runs");
    assert!(status.success());
    let mut exit = None;
    for _ in 0..500 {
        exit = child.try_wait().expect("waits");
        if exit.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let Some(exit) = exit else {
        let _ = child.kill();
        panic!("critpath did not exit within 10 s of SIGINT");
    };
    drop(stdin);
    assert_eq!(exit.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "spill files left: {left:?}");
}

/// A request wrapped as Tempo's `/api/v2/traces/{id}` answers it, on one
/// line and longer than three windows (`--memory-limit` makes a window 256
/// KiB), reads window by window, spilled or not, as the same requests read
/// as JSON lines.
#[test]
fn a_tempo_v2_answer_longer_than_a_window_reads_as_its_requests_do() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut lines, mut members) = (String::new(), Vec::new());
    for name in SCENARIOS {
        let text = std::fs::read_to_string(path(&format!("fixtures/otlp-json/{name}.jsonl")));
        for line in text.unwrap().lines().filter(|l| !l.trim().is_empty()) {
            let request: serde_json::Value = serde_json::from_str(line).unwrap();
            members.extend(request["resourceSpans"].as_array().unwrap().iter().cloned());
            lines.push_str(line);
            lines.push('\n');
        }
    }
    // Written out by hand: serde_json's maps sort their keys, and `trace`
    // must come first for the answer to be cut by member.
    let answer = format!(
        "{{\"trace\": {{\"resourceSpans\": {}}}, \"status\": \"complete\"}}",
        serde_json::to_string(&members).unwrap()
    );
    assert!(answer.len() > 3 * 256 * 1024 && !answer.contains('\n'));
    let (tempo, jsonl) = (
        tmp.path().join("answer.json"),
        tmp.path().join("lines.jsonl"),
    );
    std::fs::write(&tempo, answer).unwrap();
    std::fs::write(&jsonl, lines).unwrap();
    let spill = tempfile::tempdir().unwrap();
    let (tempo, jsonl) = (tempo.to_str().unwrap(), jsonl.to_str().unwrap());
    let (expected, _) = report(jsonl, &[], spill.path());
    let (whole, _) = report(tempo, &[], spill.path());
    assert_eq!(whole, expected);
    let (windowed, said) = report(tempo, &["--memory-limit", "1KiB"], spill.path());
    assert!(said.contains("spilling spans to"), "{said}");
    assert_eq!(windowed, expected);
}

/// A Jaeger trace written as the Jaeger UI downloads it, `{"data":
/// [trace]}`, and larger than three windows, reads span by span (its
/// processes come last), spilled or not, as the same trace read whole.
#[test]
fn a_jaeger_trace_larger_than_a_window_reads_as_it_does_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let id = "5a1e0f0c0ffee000";
    let spans: Vec<serde_json::Value> = (1..=4000u64)
        .map(|i| {
            let mut span = serde_json::json!({
                "traceID": id,
                "spanID": format!("{i:x}"),
                "operationName": if i % 3 == 0 { "SELECT users" } else { "GET /users/{id}" },
                "startTime": 1_700_000_000_000_000u64 + i,
                // Each ends within its parent (span i / 2), so no span is an
                // example of a data-quality problem, which name lines.
                "duration": 100_000 - 2 * i,
                "tags": [
                    {"key": "db.statement", "type": "string", "value": format!("SELECT * FROM users WHERE id = {i}")},
                    {"key": "span.kind", "type": "string", "value": "client"}
                ],
                "processID": format!("p{}", i % 3),
            });
            if i > 1 {
                span["references"] = serde_json::json!([
                    {"refType": "CHILD_OF", "traceID": id, "spanID": format!("{:x}", i / 2)}
                ]);
            }
            span
        })
        .collect();
    let trace = format!(
        "{{\"traceID\": \"{id}\", \"spans\": {}, \"processes\": {{\"p0\": {{\"serviceName\": \"gateway\"}}, \"p1\": {{\"serviceName\": \"users\"}}, \"p2\": {{\"serviceName\": \"postgres\"}}}}, \"warnings\": null}}",
        serde_json::to_string(&spans).unwrap()
    );
    assert!(trace.len() > 3 * 256 * 1024);
    let (bare, download) = (
        tmp.path().join("trace.json"),
        tmp.path().join("download.json"),
    );
    // A bare trace is read whole; the download is cut into its spans.
    std::fs::write(&bare, &trace).unwrap();
    std::fs::write(
        &download,
        format!("{{\"data\": [{trace}], \"total\": 0, \"errors\": null}}"),
    )
    .unwrap();
    let spill = tempfile::tempdir().unwrap();
    let (bare, download) = (bare.to_str().unwrap(), download.to_str().unwrap());
    let (expected, _) = report(bare, &[], spill.path());
    for service in ["gateway", "users", "postgres"] {
        assert!(expected.contains(&format!("\"{service}\"")), "{service}");
    }
    let (in_memory, _) = report(download, &[], spill.path());
    assert_eq!(in_memory, expected);
    let (spilled, said) = report(download, &["--memory-limit", "1KiB"], spill.path());
    assert!(said.contains("spilling spans to"), "{said}");
    assert_eq!(spilled, expected);
}

/// A Jaeger export whose keys were sorted, so that `errors`, `limit` and
/// `offset` come before `data`, and larger than a window, reads a trace at
/// a time, spilled or not, as the same traces in `{"data": [...]}` do.
#[test]
fn a_jaeger_export_with_members_before_its_data_reads_as_the_plain_one() {
    let tmp = tempfile::tempdir().unwrap();
    let traces: Vec<serde_json::Value> = (1..=400u64)
        .map(|t| {
            let id = format!("{t:016x}");
            let spans: Vec<serde_json::Value> = (1..=12u64)
                .map(|i| {
                    let mut span = serde_json::json!({
                        "traceID": id,
                        "spanID": format!("{t:x}{i:04x}"),
                        "operationName": if i % 4 == 0 { "SELECT orders" } else { "GET /orders/{id}" },
                        "startTime": 1_700_000_000_000_000u64 + t * 1_000_000 + i,
                        "duration": 50_000 - 2 * i - (t % 7) * 10,
                        "tags": [{"key": "span.kind", "type": "string", "value": "server"}],
                        "processID": format!("p{}", i % 2),
                    });
                    if i > 1 {
                        span["references"] = serde_json::json!([
                            {"refType": "CHILD_OF", "traceID": id, "spanID": format!("{t:x}{:04x}", i / 2)}
                        ]);
                    }
                    // One span without a start: counted at its trace's line.
                    if t == 300 && i == 5 {
                        span.as_object_mut().unwrap().remove("startTime");
                    }
                    span
                })
                .collect();
            serde_json::json!({
                "traceID": id,
                "spans": spans,
                "processes": {"p0": {"serviceName": "gateway"}, "p1": {"serviceName": "orders"}},
            })
        })
        .collect();
    // A trace a line, so that the span without a start has a line of its
    // own (read whole, the document is located at its first line).
    let lines: Vec<String> = traces.iter().map(|t| t.to_string()).collect();
    let data = format!("[{}]", lines.join(",\n"));
    assert!(data.len() > 3 * 256 * 1024);
    let (plain, sorted) = (
        tmp.path().join("plain.json"),
        tmp.path().join("sorted.json"),
    );
    std::fs::write(&plain, format!("{{\n\"data\": {data}, \"total\": 0}}")).unwrap();
    std::fs::write(
        &sorted,
        format!(
            "{{\"errors\": null, \"limit\": 0, \"offset\": 0,\n\"data\": {data}, \"total\": 0}}"
        ),
    )
    .unwrap();
    let spill = tempfile::tempdir().unwrap();
    let (plain, sorted) = (plain.to_str().unwrap(), sorted.to_str().unwrap());
    let (expected, _) = report(plain, &[], spill.path());
    assert!(expected.contains("\"orders\""), "{}", &expected[..200]);
    let parsed: serde_json::Value = serde_json::from_str(&expected).unwrap();
    let examples = &parsed["summary"]["data_quality"];
    assert!(examples.to_string().contains("\"line\":301"), "{examples}");
    // The reports name their files.
    let expected = expected.replace(plain, "export.json");
    let (in_memory, _) = report(sorted, &[], spill.path());
    let in_memory = in_memory.replace(sorted, "export.json");
    assert!(in_memory == expected, "the sorted export reads differently");
    let (spilled, said) = report(sorted, &["--memory-limit", "1KiB"], spill.path());
    assert!(said.contains("spilling spans to"), "{said}");
    let spilled = spilled.replace(sorted, "export.json");
    assert!(
        spilled == expected,
        "the sorted export reads differently, spilled"
    );
}

/// A file is read where it is mapped into memory, standard input and
/// `--no-mmap` into buffers: the same bytes give the same report every way,
/// in one window or in many (`--memory-limit` makes a window 256 KiB), for
/// each way of cutting an input into windows (lines, an envelope's
/// members, frames).
#[test]
fn a_mapped_file_reads_as_the_same_bytes_piped_in() {
    let tmp = tempfile::tempdir().unwrap();
    // The protobuf fixtures, one after another, are one stream of frames
    // long enough for two windows.
    let mut frames = Vec::new();
    for name in SCENARIOS {
        frames.extend(std::fs::read(path(&format!("fixtures/otlp-proto/{name}.binpb"))).unwrap());
    }
    let protobuf = tmp.path().join("all.binpb");
    std::fs::write(&protobuf, &frames).unwrap();
    for input in [
        path("fixtures/otlp-json/n_plus_one.jsonl"),
        path("fixtures/jaeger/n_plus_one.json"),
        protobuf,
    ] {
        let input = input.to_str().unwrap();
        let bytes = std::fs::read(input).unwrap();
        assert!(bytes.len() > 256 * 1024, "{input}: more than one window");
        for extra in [&[][..], &["--memory-limit", "1KiB"][..]] {
            let spill = tempfile::tempdir().unwrap();
            let (mapped, _) = report(input, extra, spill.path());
            assert!(mapped.contains("\"spans\": "), "{mapped}");
            let (piped, _) = succeed(
                critpath()
                    .args(["analyze", "-", "--format", "json"])
                    .args(extra)
                    .env("TMPDIR", spill.path())
                    .write_stdin(bytes.clone()),
            );
            assert_eq!(mapped, piped, "{input} {extra:?}");
            let no_mmap = [extra, &["--no-mmap"][..]].concat();
            let (buffered, _) = report(input, &no_mmap, spill.path());
            assert_eq!(mapped, buffered, "{input} {extra:?}");
        }
    }
}

/// A named pipe is read as a stream, and only by the reader: the memory
/// estimate opened it to look for a compression's magic number, took its
/// first bytes, and the reader found no trace format in the rest. The
/// report is the file's.
#[cfg(unix)]
#[test]
fn a_named_pipe_reads_as_the_file_written_into_it() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("traces.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let input = "fixtures/jaeger/n_plus_one.json";
    let bytes = std::fs::read(path(input)).unwrap();
    let writer = {
        let fifo = fifo.clone();
        // Opening a pipe to write waits for its reader.
        std::thread::spawn(move || std::fs::write(fifo, bytes))
    };
    // Bounded: a pipe opened again after its writer left waits forever.
    let (piped, _) = succeed(
        critpath()
            .args(["analyze", "--format", "json"])
            .arg(&fifo)
            .timeout(std::time::Duration::from_secs(120)),
    );
    writer
        .join()
        .unwrap()
        .expect("the whole file written into the pipe");
    let (from_file, _) = report(input, &[], tmp.path());
    assert_eq!(piped, from_file);
}
