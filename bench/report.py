#!/usr/bin/env python3
"""Table of ours/stock ratios and a gnuplot PNG from bench.csv (scripts/bench.sh)."""
import csv
import os
import subprocess
import sys

out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "bench.csv"))))
data = {}
for r in rows:
    data[(r["driver"], r["kind"], int(r["size"]), r["metric"])] = \
        (float(r["median"]), float(r["min"]), float(r["max"]))
sizes = sorted({k[2] for k in data})
metrics = ["mmap_us", "touch_all_us", "touch_one_us", "munmap_us", "faults", "pte_kb"]


def med(d, k, s, m):
    v = data.get((d, k, s, m))
    return v[0] if v else None


for kind in ("host", "guest"):
    print(f"\n{kind}-memory blobs (medians; ratio = ours/stock)")
    hdr = f"{'size':>10}" + "".join(f"{m:>26}" for m in metrics)
    print(hdr)
    for s in sizes:
        line = f"{s >> 10:>8}Ki"
        for m in metrics:
            a, b = med("stock", kind, s, m), med("ours", kind, s, m)
            if a is None or b is None:
                line += f"{'-':>26}"
                continue
            ratio = f"{b / a:.2f}" if a else ("=" if b == a else "inf")
            line += f"{f'{a:.0f} / {b:.0f} ({ratio})':>26}"
        print(line)
    host_goal = []
    for s in sizes:
        f = med("ours", kind, s, "faults")
        if kind == "host" and f is not None and s % (2 << 20) == 0:
            host_goal.append(f"{s >> 20}M: faults {f:.0f} (goal <= {s // (2 << 20) + 1})")
    if host_goal:
        print("goal faults <= size/2MiB + 1: " + "; ".join(host_goal))

# plot: time and page-table bytes vs size, both drivers, log scale
dat = os.path.join(out, "bench.dat")
with open(dat, "w") as f:
    for d in ("stock", "ours"):
        for kind in ("host", "guest"):
            f.write(f"# {d} {kind}\n")
            for s in sizes:
                vals = [med(d, kind, s, m) for m in ("mmap_us", "touch_all_us", "pte_kb", "faults")]
                if None in vals:
                    continue
                f.write(f"{s} " + " ".join(f"{v:.3f}" for v in vals) + "\n")
            f.write("\n\n")
png = os.path.join(out, "bench.png")
gp = f"""
set terminal pngcairo size 1400,500
set output '{png}'
set multiplot layout 1,3
set logscale xy
set key top left
set xlabel 'blob size (bytes)'
set ylabel 'microseconds'
set title 'mmap() time'
plot for [i=0:3] '{dat}' index i using 1:($2+0.001) with linespoints title columnheader(1)
set title 'touch every page'
plot for [i=0:3] '{dat}' index i using 1:($3+0.001) with linespoints notitle
set ylabel 'KiB'
set title 'page-table growth (VmPTE)'
plot for [i=0:3] '{dat}' index i using 1:($4+1) with linespoints notitle
unset multiplot
"""
# columnheader does not read comments: label the series explicitly
titles = ["stock host", "stock guest", "ours host", "ours guest"]
gp = gp.replace("title columnheader(1)", "title word('" + " ".join(t.replace(" ", "-") for t in titles) + "', i+1)")
subprocess.run(["gnuplot"], input=gp, text=True, check=True)
print(f"\nCSV: {os.path.join(out, 'bench.csv')}\nplot: {png}")
