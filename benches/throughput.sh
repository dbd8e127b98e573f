#!/usr/bin/env bash
# Whole-process throughput: generate N traces per input format, run
# `critpath analyze --format json` (all sections, output to a file) under
# /usr/bin/time -v, and print spans/s and peak RSS per format, with the
# read/analyse split that `--timings` reports. A last row runs the
# OTLP/protobuf input again spilled to disk (`--memory-limit 64MiB`, a fifth
# of that input), and a yardstick row times Python's `json.loads` over the
# OTLP/JSON file, line by line.
#
#   benches/throughput.sh [TRACES]     (default 100000 traces ≈ 1M spans)
#
# Needs a release build (`cargo build --release --examples` is run here) and
# GNU time (Debian's `time` package).
set -euo pipefail
cd "$(dirname "$0")/.."

traces=${1:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# CRITPATH and GENERATE name binaries already built (say, copied out of a
# target folder another worktree shares); otherwise both are built here.
if [ -z "${CRITPATH:-}" ] || [ -z "${GENERATE:-}" ]; then
  cargo build --release --quiet --bin critpath --example generate
fi
bin=${CRITPATH:-target/release/critpath}
gen=${GENERATE:-target/release/examples/generate}

printf '%-11s %10s %10s %8s %12s %10s %10s %8s %8s\n' format spans "MB in" "wall s" "spans/s" "peak MiB" "B/span" "read s" "anal. s"
for format in otlp-json otlp-proto jaeger sentry spilled; do
  input="$work/input.$format"
  extra=()
  if [ "$format" = spilled ]; then
    input="$work/input.otlp-proto"
    "$gen" --traces "$traces" --format otlp-proto --seed 7 --out "$input"
    extra=(--memory-limit 64MiB)
  else
    "$gen" --traces "$traces" --format "$format" --seed 7 --out "$input"
  fi
  spans=$("$bin" stats "$input" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["spans"])')
  # Warm the page cache so the first format is not penalised for it.
  cat "$input" > /dev/null
  /usr/bin/time -v "$bin" analyze "$input" --format json -o "$work/report.json" --quiet --timings "${extra[@]}" 2> "$work/time.txt"
  read_s=$(awk '/timings: read/ {print $4}' "$work/time.txt")
  analyse_s=$(awk '/timings: (analyse|per-trace|aggregate|diagnose) / {s += $4} END {printf "%.3f", s}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" \
    | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  mb=$(du -m "$input" | cut -f1)
  python3 - "$format" "$spans" "$mb" "$wall" "$rss_kb" "$read_s" "$analyse_s" <<'PY'
import sys
fmt, spans, mb, wall, rss_kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
read_s, analyse_s = float(sys.argv[6]), float(sys.argv[7])
print(f"{fmt:<11} {spans:>10} {mb:>10} {wall:>8.2f} {spans / wall:>12,.0f} {rss_kb / 1024:>10.0f} {rss_kb * 1024 / spans:>10.0f} {read_s:>8.2f} {analyse_s:>8.2f}")
PY
  if [ "$format" = otlp-json ]; then
    # The yardstick: Python's json.loads on the same file, line by line,
    # doing nothing with the result.
    /usr/bin/time -v python3 -c 'import json, sys
for line in open(sys.argv[1], "rb"):
    json.loads(line)' "$input" 2> "$work/time.txt"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" \
      | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    python3 - "$spans" "$mb" "$wall" "$rss_kb" <<'PY'
import sys
spans, mb, wall, rss_kb = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"{'json.loads':<11} {spans:>10} {mb:>10} {wall:>8.2f} {spans / wall:>12,.0f} {rss_kb / 1024:>10.0f} {rss_kb * 1024 / spans:>10.0f} {'-':>8} {'-':>8}")
PY
  fi
  rm -f "$input"
done
