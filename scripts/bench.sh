#!/usr/bin/env bash
# make bench: one boot of the pristine 7.2 kernel; the stock virtio-gpu
# module is loaded and measured, unloaded, then ours is loaded and measured
# (bench/virtgpu_map_bench.c), then stock once more as the control (its
# ratio to the first stock run is the noise floor of the run). Writes
# bench.csv, a ratio table with the control row, the blob sizes Mesa
# allocated in the last `make run` (its passthrough cells), and
# bench.png under results/bench-<date>/. Never gates anything.
#   VGM_BENCH_WINDOW (1G), VGM_BENCH_MAX (256M in bytes), VGM_BENCH_REPS (9)
STEP=bench
. "$(dirname "$0")/common.sh"
need_host_pkgs gnuplot-nox
"$TOP/scripts/host-chroot.sh"
"$TOP/scripts/host-shim.sh"
"$TOP/scripts/kernel-build.sh" ours
"$TOP/scripts/igt-build.sh"
out=$RESULTS/bench-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out/tests"
kr=$(cat "$CACHE/out/stock/kernelrelease")
cp "$CACHE/out/stock/modroot/lib/modules/$kr/kernel/drivers/gpu/drm/virtio/virtio-gpu.ko" "$out/stock-virtio-gpu.ko"
cp "$CACHE/igt/bin/vgm_bench" "$out/tests/"
max=${VGM_BENCH_MAX:-268435456} reps=${VGM_BENCH_REPS:-9}
cat >"$out/job.in" <<JOB
set -u
H=/mnt/host
modprobe virtio_gpu || exit 1
rmmod virtio_gpu || { echo "vgm-bench: cannot unload virtio_gpu"; exit 1; }
insmod \$H/stock-virtio-gpu.ko || exit 1
sleep 1
\$H/tests/vgm_bench stock $max $reps >\$H/stock.csv 2>\$H/stock.err
rmmod virtio_gpu || { echo "vgm-bench: cannot unload the stock module"; exit 1; }
modprobe virtio_gpu || exit 1
sleep 1
\$H/tests/vgm_bench ours $max $reps >\$H/ours.csv 2>\$H/ours.err
# the control: stock once more, after ours; stock2/stock is the run's noise floor
rmmod virtio_gpu || { echo "vgm-bench: cannot unload our module"; exit 1; }
insmod \$H/stock-virtio-gpu.ko || exit 1
sleep 1
\$H/tests/vgm_bench stock2 $max $reps >\$H/stock2.csv 2>\$H/stock2.err
echo "vgm-bench: done"
JOB
VGM_TIMEOUT=${VGM_TIMEOUT:-1800} "$TOP/scripts/boot.sh" "$out" ours passthrough "${VGM_BENCH_WINDOW:-1G}" "$out/job.in"
grep -q "vgm-bench: done" "$out/job.log" || die "bench did not complete: $out/job.log"
{ cat "$out/stock.csv"; tail -n +2 "$out/ours.csv"; tail -n +2 "$out/stock2.csv"; } >"$out/bench.csv"
python3 "$TOP/bench/report.py" "$out" "$RESULTS/latest"
