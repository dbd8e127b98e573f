#!/usr/bin/env python3
"""How many cores a critpath run kept busy, slice by slice, and on what.

Finds the stretches where one core works alone: `--timings` gives each
stage's average, this gives the shape inside it. No hardware counters are
needed (perf's cpu-clock is a software timer, so this works in a VM):

    perf record -e cpu-clock -F 1000 -g -o run.data \\
        critpath analyze INPUT --format json -o out.json --timings
    perf script -i run.data -F tid,time,ip,sym > run.txt
    benches/busy_cores.py run.txt [SLICE_SECONDS]

Each line is one slice of the run (default 50 ms): the cores busy on
average (samples in the slice over the samples one core gives at 1 kHz),
then the three functions most samples were in, each named by its
innermost critpath frame (else its innermost frame).
"""

import collections
import sys

RATE_HZ = 1000


def samples(path):
    """(time, innermost frame, innermost critpath frame) per sample."""
    current = None
    with open(path, errors="replace") as lines:
        for line in lines:
            if not line.strip():
                if current:
                    yield current
                current = None
            elif not line.startswith("\t"):
                # "TID TIME:" opens a sample; its frames follow, indented.
                current = [float(line.split()[1].rstrip(":")), None, None]
            elif current is not None:
                parts = line.strip().split(None, 1)
                frame = parts[1] if len(parts) > 1 else "?"
                if current[1] is None:
                    current[1] = frame
                if current[2] is None and "critpath::" in frame and "closure" not in frame:
                    current[2] = frame
    if current:
        yield current


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    width = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    all_samples = list(samples(sys.argv[1]))
    if not all_samples:
        sys.exit(f"no samples in {sys.argv[1]}: is it `perf script` output?")
    start = min(s[0] for s in all_samples)
    slices = collections.defaultdict(list)
    for s in all_samples:
        slices[int((s[0] - start) / width)].append(s)
    for k in sorted(slices):
        inside = slices[k]
        where = collections.Counter((s[2] or s[1] or "?")[:70] for s in inside)
        top = "; ".join(f"{n} {f}" for f, n in where.most_common(3))
        print(f"{k * width:6.2f}s {len(inside) / (width * RATE_HZ):4.2f} cores  {top}")


if __name__ == "__main__":
    main()
