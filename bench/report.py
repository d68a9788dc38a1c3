#!/usr/bin/env python3
"""Table of ours/stock ratios and a gnuplot PNG from bench.csv (scripts/bench.sh)."""
import csv
import glob
import os
import subprocess
import sys

out = sys.argv[1]
runs = sys.argv[2] if len(sys.argv) > 2 else None
rows = list(csv.DictReader(open(os.path.join(out, "bench.csv"))))
data = {}
for r in rows:
    data[(r["driver"], r["kind"], int(r["size"]), r["metric"])] = \
        (float(r["median"]), float(r["min"]), float(r["max"]))
sizes = sorted({k[2] for k in data})
metrics = ["mmap_us", "touch_all_us", "mmap_touch_us", "touch_one_us", "munmap_us", "faults", "pte_kb"]


def human(n):
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


def med(d, k, s, m):
    v = data.get((d, k, s, m))
    return v[0] if v else None




def ratio(a, b):
    if a is None or b is None:
        return None
    return b / a if a else (1.0 if b == a else float("inf"))


def fmt(a, b):
    if a is None or b is None:
        return "-"
    r = ratio(a, b)
    return f"{a:.0f} / {b:.0f} ({r:.2f})"


# The user's question first: host-visible blobs, ours against stock, with
# the control (stock measured again after ours in the same boot): a ratio
# inside the control's spread around 1 cannot be told from noise.
print("host-visible blobs: ours against stock (medians in us, stock / ours; ratio ours/stock; control = stock again / stock)")
hdr = f"{'size':>8}  {'touch every page':>24} {'control':>8} {'':>10}  {'mmap + touch':>24} {'control':>8} {'':>10}"
print(hdr)
verdicts = {}
for s_ in sizes:
    line = f"{human(s_):>8}"
    for m in ("touch_all_us", "mmap_touch_us"):
        a, b, c = (med(d, "host", s_, m) for d in ("stock", "ours", "stock2"))
        r, rc = ratio(a, b), ratio(a, c)
        if r is None:
            line += f"  {'-':>24} {'-':>8} {'':>10}"
            continue
        noise = abs(rc - 1) if rc is not None else 0
        if r <= 1.0:
            v = "ok"
        elif r - 1 <= noise:
            v = "noise"
        else:
            v = "SLOWER"
        verdicts.setdefault(m, []).append((s_, v))
        line += f"  {fmt(a, b):>24} {f'{rc:.2f}' if rc is not None else '-':>8} {v:>10}"
    print(line)
for m, vs in verdicts.items():
    bad = [human(s_) for s_, v in vs if v == "SLOWER"]
    und = [human(s_) for s_, v in vs if v == "noise"]
    print(f"{m}: ratio <= 1.0 at {sum(1 for _, v in vs if v == 'ok')} of {len(vs)} sizes"
          + (f"; slower beyond the noise at {', '.join(bad)}" if bad else "")
          + (f"; within the control's noise at {', '.join(und)}" if und else ""))

for kind in ("host", "guest"):
    print(f"\n{kind}-memory blobs, every metric (medians; ratio = ours/stock)")
    hdr = f"{'size':>10}" + "".join(f"{m:>26}" for m in metrics)
    print(hdr)
    for s_ in sizes:
        line = f"{human(s_):>10}"
        for m in metrics:
            line += f"{fmt(med('stock', kind, s_, m), med('ours', kind, s_, m)):>26}"
        print(line)
    host_goal = []
    for s_ in sizes:
        f = med("ours", kind, s_, "faults")
        if kind == "host" and f is not None and s_ % (2 << 20) == 0:
            host_goal.append(f"{s_ >> 20}M: faults {f:.0f} (goal <= {s_ // (2 << 20) + 1})")
    if host_goal:
        print("goal faults <= size/2MiB + 1: " + "; ".join(host_goal))

# what Mesa allocates: the host shim's blob log of the last make run's
# passthrough cells (virgl GL persistent buffers, venus)
if runs and os.path.isdir(runs):
    hist, total = {}, 0
    # runs/KERNEL/FIRMWARE/WINDOW/passthrough (and the older KERNEL/WINDOW/passthrough)
    for f in glob.glob(os.path.join(runs, "*", "*", "*", "passthrough", "mesa-blobs.txt")) + \
            glob.glob(os.path.join(runs, "*", "*", "passthrough", "mesa-blobs.txt")):
        for line in open(f):
            kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
            # host-visible: HOST3D (2), mappable (VIRTGPU_BLOB_FLAG_USE_MAPPABLE)
            if kv.get("ret") != "0" or kv.get("blob_mem") != "2" or not int(kv.get("flags", "0"), 16) & 1:
                continue
            size = int(kv["size"])
            b = 4096
            while b < size:
                b *= 2
            hist[b] = hist.get(b, 0) + 1
            total += 1
    print(f"\nhost-visible blobs Mesa created in {os.path.realpath(runs)} (passthrough cells, both kernels): {total}")
    for b in sorted(hist):
        print(f"  <= {human(b):>6} {hist[b]:>6}  {'#' * max(1, round(60 * hist[b] / max(hist.values())))}")
    if not total:
        print("  (none: run `make run` first; the shim logs them, the guest keeps the Mesa clients' in mesa-blobs.txt)")

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
