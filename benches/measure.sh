#!/usr/bin/env bash
# The README's performance table: two critpath binaries taking turns, RUNS
# runs each (default 3; `benches/compare.sh` is this with one), on the
# generator's sets (plus the OTLP/JSON lines joined into
# one request on one line, as OTLP's `{"resourceSpans": [...]}` and as
# Tempo's `{"batches": [...]}`, and the protobuf set spilled with
# `--memory-limit 64MiB`). Per set and binary it prints the range over the
# runs of wall time, spans/s, peak RSS (and per span), cores (CPU time over
# wall time, from `--timings`), and the read and analysis stages; and says
# when the two binaries' reports differ.
#
#   benches/measure.sh OLD NEW [TRACES]     (default 100000 traces ≈ 1M spans)
#
# GENERATE names a built generator; it defaults to
# target/release/examples/generate. Needs GNU time (Debian's `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  echo "usage: benches/measure.sh OLD NEW [TRACES]" >&2
  exit 2
fi
old=$1 new=$2 traces=${3:-100000} runs=${RUNS:-3}
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

for format in otlp-json otlp-proto jaeger sentry; do
  "$gen" --traces "$traces" --format "$format" --seed 7 --out "$work/input.$format"
done
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
head, tail = '{"resourceSpans":[', ']}'
parts = []
with open(f"{work}/input.otlp-json") as lines:
    for line in lines:
        line = line.rstrip("\n")
        assert line.startswith(head) and line.endswith(tail), "not one request a line"
        parts.append(line[len(head):-len(tail)])
body = ",".join(parts)
with open(f"{work}/input.one-line", "w") as out:
    out.write(head + body + tail + "\n")
with open(f"{work}/input.tempo", "w") as out:
    out.write('{"batches":[' + body + "]}\n")
PY
spans=$("$new" stats "$work/input.otlp-proto" --format json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["spans"])')

for set in otlp-json one-line tempo otlp-proto jaeger sentry spilled; do
  input="$work/input.$set"
  extra=()
  if [ "$set" = spilled ]; then
    input="$work/input.otlp-proto"
    extra=(--memory-limit 64MiB)
  fi
  cat "$input" > /dev/null
  : > "$work/runs.old"
  : > "$work/runs.new"
  for _ in $(seq "$runs"); do
    for which in old new; do
      bin=$old
      [ "$which" = new ] && bin=$new
      /usr/bin/time -f '%e %M' "$bin" analyze "$input" --format json -o "$work/$which.json" \
        --quiet --timings "${extra[@]}" 2> "$work/time.txt"
      cores=$(awk '/timings: total/ {printf "%.2f", $7 / $4}' "$work/time.txt")
      read_s=$(awk '/timings: read/ {print $4}' "$work/time.txt")
      analyse_s=$(awk '/timings: (per-trace|aggregate|diagnose) / {s += $4} END {printf "%.2f", s}' "$work/time.txt")
      read -r wall rss_kb < <(tail -n 1 "$work/time.txt")
      echo "$wall $rss_kb $cores $read_s $analyse_s" >> "$work/runs.$which"
    done
  done
  cmp -s "$work/old.json" "$work/new.json" || echo "$set: the two reports differ"
  for which in old new; do
    python3 - "$set" "$which" "$spans" "$work/runs.$which" <<'PY'
import sys
name, which, spans, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
runs = [[float(x) for x in line.split()] for line in open(path)]
columns = list(zip(*runs))
def span(values, fmt):
    low, high = fmt % min(values), fmt % max(values)
    return low if low == high else f"{low}–{high}"
wall, rss_kb, cores, read_s, analyse_s = columns
mib = [kb / 1024 for kb in rss_kb]
print(f"{name:<10} {which:<3} wall {span(wall, '%.2f')} s"
      f" | {span([spans / w / 1e3 for w in wall], '%.0f')} k spans/s"
      f" | peak {span(mib, '%.0f')} MiB, {span([kb * 1024 / spans for kb in rss_kb], '%.0f')} B/span"
      f" | cores {span(cores, '%.2f')} | read {span(read_s, '%.2f')} s | analyse {span(analyse_s, '%.2f')} s")
PY
  done
done
