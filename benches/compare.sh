#!/usr/bin/env bash
# Two critpath binaries on the same generated inputs, run one after the
# other per format so that both see the same machine: wall time, peak RSS
# and the read/analyse split `--timings` reports (analyse: its per-trace,
# aggregate and diagnose stages together, or the one `analyse` line a
# binary from before they were split prints), per format, plus the
# OTLP/protobuf input spilled (`--memory-limit 64MiB`). The reports of the
# two binaries are compared byte for byte.
#
#   benches/compare.sh OLD NEW [TRACES]     (default 100000 traces ≈ 1M spans)
#
# GENERATE names a built generator (`cargo build --release --example
# generate`); it defaults to target/release/examples/generate. Needs GNU
# time (Debian's `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  echo "usage: benches/compare.sh OLD NEW [TRACES]" >&2
  exit 2
fi
old=$1 new=$2 traces=${3:-100000}
gen=${GENERATE:-target/release/examples/generate}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each binary's pages leave the page cache first. Run from a freshly
# written file, a binary's file-backed resident memory was 3 MiB larger
# (27.5 against 30.8 MiB on the protobuf set, the same code copied twice):
# a copy made just before a run would otherwise look that much heavier.
sync
for bin in "$old" "$new"; do
  dd if="$bin" iflag=nocache count=0 status=none
done

printf '%-10s %-4s %8s %10s %8s %8s\n' format bin "wall s" "peak MiB" "read s" "anal. s"
for format in otlp-json otlp-proto jaeger sentry spilled; do
  extra=()
  if [ "$format" = spilled ]; then
    input="$work/input.otlp-proto"
    extra=(--memory-limit 64MiB)
  else
    input="$work/input.$format"
    "$gen" --traces "$traces" --format "$format" --seed 7 --out "$input"
  fi
  cat "$input" > /dev/null
  for which in old new; do
    bin=$old
    [ "$which" = new ] && bin=$new
    /usr/bin/time -f '%e %M' "$bin" analyze "$input" --format json -o "$work/$which.json" \
      --quiet --timings "${extra[@]}" 2> "$work/time.txt"
    read_s=$(awk '/timings: read/ {print $4}' "$work/time.txt")
    analyse_s=$(awk '/timings: (analyse|per-trace|aggregate|diagnose) / {s += $4} END {printf "%.3f", s}' "$work/time.txt")
    read -r wall rss_kb < <(tail -n 1 "$work/time.txt")
    printf '%-10s %-4s %8.2f %10d %8s %8s\n' "$format" "$which" "$wall" $((rss_kb / 1024)) "$read_s" "$analyse_s"
  done
  cmp -s "$work/old.json" "$work/new.json" || echo "$format: the two reports differ"
  [ "$format" = otlp-proto ] || [ "$format" = spilled ] || rm -f "$input"
done
