# The job run inside the guest by one boot of scripts/run.sh (sourced by
# /bin/sh, with VGM_* variables prepended by run.sh). Writes into /mnt/host:
# results.json (igt_runner), kunit.txt, probe.txt, igt-runner.log.
# VGM_PHASES="MODE ..." (the host's mode then "phases"): the probe and the
# suite once per mode, each phase's files in /mnt/host/phase-MODE (":" as
# "_"), after telling the host shim the phase's mode (host-phase); MODE@full
# runs the operation subtests too (lifetime, gup, abuse), MODE not.
set -u
H=/mnt/host
# Each step is announced in the kernel log too, so that the console of a guest
# killed by boot.sh's timeout names the step it was stuck in.
# step() also starts its clock: $(since $t) is the step's time so far.
now() { cut -d. -f1 /proc/uptime; }
T0=$(now)
step() { t=$(now); echo "vgm-job: step $*" | tee /dev/kmsg; }
since() { echo $(($(now) - $1)); }
# The Mesa clients share one budget (VGM_MESA_BUDGET seconds), so that a
# client that hangs cannot take the guest past boot.sh's timeout.
budget() { l=$((MESA_END - $(now))); [ $l -gt $1 ] && l=$1; [ $l -lt 1 ] && l=1; echo $l; }
step "modprobe virtio_gpu"
modprobe virtio_gpu || { echo "vgm-job: modprobe virtio_gpu failed"; exit 1; }
# the test-only page-table walker (kmod/), for the suite's PTE checks
modprobe vgm_ptewalk 2>/dev/null || echo "vgm-job: no vgm_ptewalk module"
# where the firmware (and the driver) put the window, and what the guest's
# MTRRs say there: the report's firmware table
cat /proc/mtrr >$H/mtrr.txt 2>/dev/null
if [ "${VGM_KERNEL#ours}" != "$VGM_KERNEL" ]; then  # ours, ours-debug
	step "KUnit"
	modprobe virtgpu_hostmap_test && dmesg | grep -E '^\[[ 0-9.]+\] +(# |ok |not ok |KTAP|1\.\.)' >$H/kunit.txt
fi
root=/tmp/igt-root
mkdir -p $root
# igt_runner reads binary names from TEST_ROOT/test-list.txt and lists
# their subtests itself
# (copied to tmpfs: the runner executes a binary once per subtest, and an
# exec from the 9p run directory, which the guest does not cache, costs
# 0.07 s under TCG against 0.03 s from tmpfs)
names=
for b in $H/tests/virtgpu_*; do
	[ -x "$b" ] || continue
	cp "$b" $root/$(basename "$b")
	names="$names $(basename "$b")"
done
# (igt-gpu-tools, with drm_virtgpu, exists in Debian for x86 only)
if [ "${VGM_UPSTREAM_IGT:-$VGM_UPSTREAM}" = 1 ] && [ -x /usr/libexec/igt-gpu-tools/drm_virtgpu ]; then
	ln -s /usr/libexec/igt-gpu-tools/drm_virtgpu $root/drm_virtgpu
	names="$names drm_virtgpu"
fi
printf 'TESTLIST\n%s\nEND TESTLIST\n' "$names" >$root/test-list.txt
echo "vgm-job: tests [$names ], host map_info=$VGM_HOST_MAPINFO kernel=$VGM_KERNEL"
export VGM_HOST_MAPINFO VGM_KERNEL
# one phase: the probe and the suite, their files into $1
run_suite() {
	[ -z "$VGM_FILTER" ] && [ -x $H/tests/vgm_probe ] && step "probe" && $H/tests/vgm_probe >$1/probe.txt 2>&1
	cd /tmp
	rm -rf /tmp/igt-results
	step "igt_runner ($(since $T0) s into the job)"
	$runner --per-test-timeout 120 --overall-timeout ${VGM_IGT_TIMEOUT:-600} ${VGM_FILTER:+-t "$VGM_FILTER"} \
		$root /tmp/igt-results >$1/igt-runner.log 2>&1
	rc=$?
	cp /tmp/igt-results/results.json $1/results.json 2>/dev/null || echo "vgm-job: igt_runner wrote no results.json (exit $rc)"
	echo "vgm-job: igt_runner exit $rc, job took $(since $T0) s"
}
# igt_runner, or where Debian has none (arm64) its stand-in from igt-tests/runner
runner=igt_runner
command -v igt_runner >/dev/null || runner="python3 $H/tests/vgm_runner.py"
if [ -n "${VGM_PHASES:-}" ]; then
	all=$names
	for ph in $VGM_PHASES; do
		VGM_HOST_MAPINFO=${ph%@full}
		case $ph in
		*@full) names=$all ;;
		*) names=$(for n in $all; do case $n in virtgpu_map_lifetime | virtgpu_map_gup | virtgpu_map_abuse) ;; *) echo $n ;; esac; done) ;;
		esac
		printf 'TESTLIST\n%s\nEND TESTLIST\n' "$(echo $names)" >$root/test-list.txt
		P=$H/phase-$(echo "$VGM_HOST_MAPINFO" | tr : _)
		mkdir -p "$P"
		VGM_HOST_ANSWERS=$P/host-answers.txt
		export VGM_HOST_ANSWERS
		# by rename: the shim reads the file at every answer
		echo "$VGM_HOST_MAPINFO $VGM_HOST_ANSWERS" >$H/.host-phase && mv $H/.host-phase $H/host-phase
		step "phase: host map_info=$VGM_HOST_MAPINFO, tests [$(echo $names) ]"
		run_suite "$P"
	done
	exit 0
fi
if [ "$VGM_UPSTREAM" = 1 ]; then
	# Mesa on this kernel: virgl (EGL, GL persistent buffers through
	# host-visible blobs) and venus (Vulkan), one "mesa: NAME: RESULT: DETAIL" line each
	P=$(echo /usr/lib/*-linux-gnu/piglit/bin)
	MESA_END=$(($(now) + ${VGM_MESA_BUDGET:-300}))
	{
		step "mesa: eglinfo" >&2
		r=$(timeout -k 10 $(budget 120) eglinfo -B -p surfaceless 2>&1 | grep -m1 "OpenGL core profile renderer")
		case $r in *virgl*) echo "mesa: eglinfo: pass: $r ($(since $t) s)" ;; *) echo "mesa: eglinfo: fail: ${r:-no renderer} ($(since $t) s)" ;; esac
		# venus's first instance under TCG sometimes finds no device, and
		# once (stock-arm64) hung for the whole 180 s of its try, where a
		# try takes 7-15 s: 3 tries of at most 60 s
		t0=$(now)
		for i in 1 2 3; do
			step "mesa: vulkaninfo (try $i)" >&2
			r=$(timeout -k 10 $(budget 60) vulkaninfo --summary 2>&1 | grep -m1 "deviceName.*Venus") && break
		done
		case $r in *Venus*) echo "mesa: vulkaninfo: pass: $(echo $r) (try $i, $(since $t0) s)" ;; *) echo "mesa: vulkaninfo: fail: no venus device ($i tries, $(since $t0) s)" ;; esac
		# a Vulkan client that maps host-visible memory of every type and
		# reads its PTEs (clients/vgm_vkmap.c); exit 2: no venus device yet
		t0=$(now)
		for i in 1 2 3; do
			step "mesa: vkmap (try $i)" >&2
			r=$(timeout -k 10 $(budget 120) $H/tests/vgm_vkmap Venus 2>&1)
			rc=$?
			[ $rc -ne 2 ] && break
		done
		echo "$r" | sed 's/^/  /'
		v=$(echo "$r" | grep -m1 -o 'type [0-9]* [A-Z_|]*: PTE [^(,]*' | sed 's/^\(type [0-9]*\) \([A-Z_|]*\): PTE \(.*\)/\3, \1 \2/')
		case $rc in 0) echo "mesa: vkmap: pass: PTE $v (try $i, $(since $t0) s)" ;; *) echo "mesa: vkmap: fail: exit $rc: $(echo "$r" | tail -n1) (try $i, $(since $t0) s)" ;; esac
		for a in "draw" "read" "draw coherent" "read coherent" "draw client-storage" "read client-storage"; do
			step "mesa: bufferstorage-persistent $a" >&2
			r=$(timeout -k 10 $(budget 180) env PIGLIT_PLATFORM=surfaceless_egl $P/bufferstorage-persistent $a -auto -fbo 2>&1 | grep -o '"result": "[a-z]*"' | tail -n1 | cut -d'"' -f4)
			echo "mesa: bufferstorage-persistent $a: ${r:-crash}: piglit ($(since $t) s)"
		done
		# a benchmark, not gated: make run only (VGM_VKMARK=1), where installed
		if [ "${VGM_VKMARK:-1}" = 1 ] && command -v vkmark >/dev/null; then
			step "mesa: vkmark" >&2
			r=$(timeout -k 10 $(budget 120) vkmark --winsys headless -b clear:duration=2 2>&1 | tail -n1)
			case $r in *Score*) echo "mesa: vkmark: pass: $r" ;; *) echo "mesa: vkmark: info: ${r:-no output} (not gated: fails on the stock kernel too; $(since $t) s)" ;; esac
		fi
	} >$H/mesa.txt 2>&1
	# the blobs the Mesa clients made, as the host shim logged them (the IGT
	# suite's follow in host-blobs.txt): make bench's size histogram
	cp $H/host-blobs.txt $H/mesa-blobs.txt 2>/dev/null
fi
run_suite $H
exit 0
