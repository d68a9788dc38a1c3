#!/usr/bin/env bash
# make run: build what is missing, then boot the stock and our kernel under
# QEMU for every host map_info mode and host-visible window size, run the IGT
# suite (ours + upstream drm_virtgpu) with igt_runner in each, and print the
# result table. Exit status: non-zero if anything failed on our kernel, if a
# guest splatted, or if the suite ran nothing.
#
#   VGM_KERNELS  kernels to run          (default: "stock ours")
#   VGM_MODES    host map_info modes     (default: all, see host/mapinfo-shim.c)
#   VGM_WINDOWS  hostmem window sizes    (default: "256M 4G")
STEP=run
. "$(dirname "$0")/common.sh"

KERNELS=${VGM_KERNELS:-stock ours}
MODES=${VGM_MODES:-passthrough none cached uncached wc undefined raw:0x103 error seq:wc,uncached,none,cached,undefined,raw:0x103,error}
WINDOWS=${VGM_WINDOWS:-256M 4G}
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
for w in $WINDOWS; do
	for m in $MODES; do
		for k in $KERNELS; do
			d=$out/$k/$w/${m//:/_}
			mkdir -p "$d/tests"
			cp "$CACHE"/igt/bin/* "$d/tests/"
			up=0 filter=
			[ "$m" = passthrough ] && up=1
			# a host whose answer changes at every MAP_BLOB only makes sense
			# for the subtest that remaps and checks each answer in turn
			case $m in seq:*) filter=hook-remap-answers ;; esac
			{
				echo "VGM_KERNEL=$k VGM_HOST_MAPINFO='$m' VGM_WINDOW=$w VGM_UPSTREAM=$up VGM_FILTER='$filter'"
				cat "$TOP/scripts/guest-job.sh"
			} >"$d/job.in"
			if ! "$TOP/scripts/boot.sh" "$d" "$k" "$m" "$w" "$d/job.in"; then
				echo "boot failed" >"$d/boot.failed"
			fi
		done
	done
done
info "matrix took $(($(date +%s) - start)) s"
python3 "$TOP/scripts/report.py" "$out"
