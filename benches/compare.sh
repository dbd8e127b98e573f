#!/usr/bin/env bash
# Two critpath binaries on the same generated inputs, one run of each per
# set: `benches/measure.sh` with RUNS=1 (see there).
#
#   benches/compare.sh OLD NEW [TRACES]     (default 100000 traces ≈ 1M spans)
RUNS=1 exec "$(dirname "$0")/measure.sh" "$@"
