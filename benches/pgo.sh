#!/usr/bin/env bash
# A release build of critpath laid out by a profile of its own runs
# (profile-guided optimisation, as rustc and CPython ship): an instrumented
# build analyses a generated set of each format and the bundled fixtures,
# and the build after it uses what those runs executed to decide inlining
# and code layout. The README's table shows it beside the plain release
# build.
#
#   benches/pgo.sh [OUT]          (default target/pgo/critpath)
#
# Needs the `llvm-profdata` of rustc's own LLVM: `rustup component add
# llvm-tools` puts it in rustc's sysroot, where it is found; LLVM_PROFDATA
# names another. TRACES sets the size of each training set (default 20000
# traces). Both builds compile every dependency, polars too: together
# about twice a cold release build. The training sets use a seed the
# benchmark does not (1 against 7), so the table is not measured on the
# runs the build was shaped by.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-target/pgo/critpath}
traces=${TRACES:-20000}
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=${LLVM_PROFDATA:-$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata}
if [ ! -x "$profdata" ]; then
  echo "benches/pgo.sh: no llvm-profdata at $profdata;" \
    "run 'rustup component add llvm-tools' or set LLVM_PROFDATA" >&2
  exit 2
fi
target=${CARGO_TARGET_DIR:-target}
root=$(mkdir -p "$target/pgo" && cd "$target/pgo" && pwd)
raw=$root/raw
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `--target` keeps the flags off build scripts and proc macros, which
# would otherwise be instrumented and write profiles while compiling.
build() {
  RUSTFLAGS="$1" cargo build --release --bin critpath --target "$host" \
    --target-dir "$2" --quiet
}

cargo build --release --example generate --quiet
rm -rf "$raw"
build "-Cprofile-generate=$raw" "$root/generate"
# Code no run takes is laid out as cold (for size, not speed), so the
# runs take every path a user's might: the four formats, OTLP/JSON also
# as one request on one line (cut by the envelope scan, which JSON lines
# never reach: trained on lines alone, that form ran no faster than the
# plain build), a spilled run, the bundled fixtures (Zipkin, X-Ray,
# compressed inputs, bad records) and the other commands.
train() {
  "$root/generate/$host/release/critpath" "$@" > /dev/null
}
for format in otlp-json otlp-proto jaeger sentry; do
  "$target/release/examples/generate" --traces "$traces" --format "$format" --seed 1 \
    --out "$work/train.$format"
  train analyze "$work/train.$format" --format json -o "$work/out.json"
done
sed -e 's/^{"resourceSpans":\[//' -e 's/\]}$//' "$work/train.otlp-json" | paste -sd, - |
  sed -e 's/^/{"batches":[/' -e 's/$/]}/' > "$work/train.tempo"
train analyze "$work/train.tempo" --format json -o "$work/out.json"
train analyze "$work/train.otlp-proto" --memory-limit 16MiB --format json -o "$work/out.json"
train analyze fixtures --format html -o "$work/out.html"
train stats fixtures
train diff fixtures/otlp-json fixtures/jaeger
train check fixtures/otlp-json --budget critpath.toml
"$profdata" merge -o "$root/merged.profdata" "$raw"
build "-Cprofile-use=$root/merged.profdata" "$root/use"
mkdir -p "$(dirname "$out")"
cp "$root/use/$host/release/critpath" "$out"
echo "benches/pgo.sh: built $out"
