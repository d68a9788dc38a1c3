# The job run inside the guest by one boot of scripts/run.sh (sourced by
# /bin/sh, with VGM_* variables prepended by run.sh). Writes into /mnt/host:
# results.json (igt_runner), kunit.txt, probe.txt, igt-runner.log.
set -u
H=/mnt/host
modprobe virtio_gpu || { echo "vgm-job: modprobe virtio_gpu failed"; exit 1; }
if [ "$VGM_KERNEL" = ours ]; then
	modprobe virtgpu_hostmap_test && dmesg | grep -E '^\[[ 0-9.]+\] +(# |ok |not ok |KTAP|1\.\.)' >$H/kunit.txt
fi
root=/tmp/igt-root
mkdir -p $root
# igt_runner reads binary names from TEST_ROOT/test-list.txt and lists
# their subtests itself
names=
for b in $H/tests/virtgpu_*; do
	[ -x "$b" ] || continue
	ln -s "$b" $root/$(basename "$b")
	names="$names $(basename "$b")"
done
if [ "$VGM_UPSTREAM" = 1 ]; then
	ln -s /usr/libexec/igt-gpu-tools/drm_virtgpu $root/drm_virtgpu
	names="$names drm_virtgpu"
fi
printf 'TESTLIST\n%s\nEND TESTLIST\n' "$names" >$root/test-list.txt
echo "vgm-job: tests [$names ], host map_info=$VGM_HOST_MAPINFO kernel=$VGM_KERNEL"
export VGM_HOST_MAPINFO VGM_KERNEL
[ -z "$VGM_FILTER" ] && [ -x $H/tests/vgm_probe ] && $H/tests/vgm_probe >$H/probe.txt 2>&1
cd /tmp
igt_runner --per-test-timeout 120 --overall-timeout 900 ${VGM_FILTER:+-t "$VGM_FILTER"} \
	$root /tmp/igt-results >$H/igt-runner.log 2>&1
rc=$?
cp /tmp/igt-results/results.json $H/results.json 2>/dev/null || echo "vgm-job: igt_runner wrote no results.json (exit $rc)"
echo "vgm-job: igt_runner exit $rc"
exit 0
