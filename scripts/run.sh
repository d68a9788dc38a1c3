#!/usr/bin/env bash
# make run: build what is missing, then boot the stock and our kernel under
# QEMU for every host map_info mode and host-visible window size, run the IGT
# suite (ours + upstream drm_virtgpu) with igt_runner in each, and print the
# result table. Exit status: non-zero if anything failed on our kernel, if a
# guest splatted, or if the suite ran nothing.
#
#   VGM_KERNELS  kernels to run          (default: "stock ours")
#   VGM_MODES    host map_info modes     (default: all in 4G, those the window
#                matters for in 256M; VGM_FULL=1: all in every window)
#   VGM_WINDOWS  hostmem window sizes    (default: "256M 4G")
STEP=run
. "$(dirname "$0")/common.sh"

KERNELS=${VGM_KERNELS:-stock ours}
ALL_MODES="passthrough none cached uncached wc undefined raw:0x103 error seq:wc,uncached,none,cached,undefined,raw:0x103,error slow:3000"
# The 256M window lands below 4 GiB, under the firmware's uncachable MTRR:
# it proves something of its own only where the attribute meets that MTRR
# (the host's answer as is, none, cached, wc). The other modes test decoding,
# refusal and remap paths that do not depend on the window: 4G runs them.
# VGM_MODES runs the given modes in every window; VGM_FULL=1 all of them.
MODES_256M="passthrough none cached wc"
[ "${VGM_FULL:-0}" = 1 ] && MODES_256M=$ALL_MODES
MODES=${VGM_MODES:-$ALL_MODES}
[ -n "${VGM_MODES:-}" ] && MODES_256M=$VGM_MODES
WINDOWS=${VGM_WINDOWS:-256M 4G}
modes_for() { if [ "$1" = 256M ]; then echo "$MODES_256M"; else echo "$MODES"; fi; }
out=$RESULTS/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
ln -sfn "$out" "$RESULTS/latest"

"$TOP/scripts/kernel-source.sh"
"$TOP/scripts/host-chroot.sh"
"$TOP/scripts/host-shim.sh"
for k in $KERNELS; do "$TOP/scripts/kernel-build.sh" "$k"; done
"$TOP/scripts/igt-build.sh"

step "running the matrix: kernels [$KERNELS] x modes [$MODES] x windows [$WINDOWS] -> $out"
start=$(date +%s)
# One guest (and the baseline's second boot): kernel $1, window $2, host mode $3.
run_cell() {
	local k=$1 w=$2 m=$3 d up filter t attempts a
	d=$out/$k/$w/${m//:/_}
	mkdir -p "$d/tests"
	cp "$CACHE"/igt/bin/* "$d/tests/"
	up=0 filter=
	[ "$m" = passthrough ] && up=1
	# a host whose answer changes at every MAP_BLOB only makes sense
	# for the subtest that remaps and checks each answer in turn
	case $m in seq:*) filter=hook-remap-answers ;; esac
	# a host that answers MAP_BLOB late is there for the killed waiters
	# and the pending query (igt_runner -t takes a regex, matched
	# anywhere in igt@binary@subtest)
	case $m in slow:*) filter='killed-waiter|query-pending' ;; esac
	# device-remove removes the GPU while commands are in flight: upstream
	# virtio-gpu then leaks them (kmem_cache_destroy and drm_mm_takedown
	# warn at the last close), so it runs only when asked for
	[ "${VGM_DEVICE_REMOVE:-0}" = 1 ] && case $m in slow:*) filter="$filter|device-remove" ;; esac
	{
		echo "VGM_KERNEL=$k VGM_HOST_MAPINFO='$m' VGM_WINDOW=$w VGM_UPSTREAM=$up VGM_FILTER='$filter' VGM_MESA_BUDGET=${VGM_MESA_BUDGET:-300} VGM_IGT_TIMEOUT=${VGM_IGT_TIMEOUT:-600}"
		cat "$TOP/scripts/guest-job.sh"
	} >"$d/job.in"
	# the guest's budget: boot, KUnit and probe, igt_runner's
	# --overall-timeout, and the Mesa clients' budget
	t=$((300 + ${VGM_IGT_TIMEOUT:-600} + up * ${VGM_MESA_BUDGET:-300}))
	# The baseline kernel gets a second boot when its guest did not
	# finish (its hang or a flaky host are not what this project
	# gates on); the first attempt's logs stay in attempt1/ and
	# the report names the step it stopped in. Our kernel gets none.
	attempts=1
	[ "${k#stock}" != "$k" ] && [ "${VGM_RETRY_STOCK:-1}" = 1 ] && attempts=2
	for a in $(seq "$attempts"); do
		if [ "$a" = 2 ]; then
			mkdir -p "$d/attempt1"
			mv "$d"/*.log "$d"/*.txt "$d"/*.json "$d/boot.error" "$d/attempt1/" 2>/dev/null || true
			info "note: $k/$w/$m: the guest did not finish; booting it once more (logs of the first attempt in $d/attempt1)"
		fi
		VGM_TIMEOUT=${VGM_TIMEOUT:-$t} "$TOP/scripts/boot.sh" "$d" "$k" "$m" "$w" "$d/job.in" && return 0
	done
	echo "boot failed" >"$d/boot.failed"
}

# VGM_PARALLEL guests at a time (default 2: the kernels of one cell side by
# side, as the machine's 2 cores allow; 1 runs them one after another).
PARALLEL=${VGM_PARALLEL:-2}
for w in $WINDOWS; do
	for m in $(modes_for "$w"); do
		for k in $KERNELS; do
			while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
			run_cell "$k" "$w" "$m" &
		done
	done
done
wait
info "matrix took $(($(date +%s) - start)) s"
python3 "$TOP/scripts/report.py" "$out"
