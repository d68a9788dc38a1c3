#!/bin/sh
# SPDX-License-Identifier: MIT
#
# selftest/run.sh: the igt_harness self-test, run as the kernel runs its
# kselftest_harness self-test: harness_cases (the cases, in C: see its
# header) prints what every case did, normalized, and that must equal the
# golden *.expected files here. "make selftest" builds both programs first.
#
#   harness_selftest.expected  command-line cases: stdout, stderr, exit status
#   kmsg.expected              the /dev/kmsg markers (if /dev/kmsg can be used)
#   runner.expected            in the Debian chroot $IGT_CHROOT (default
#                              /var/cache/virtgpu-mapinfo/chroot, "none" skips;
#                              root and unshare): its gcc, its real libigt.so
#                              as the reference, its igt_runner in five modes
#
# After a deliberate change of the harness or of harness_selftest.c (the
# golden files hold its line numbers), BLESS=1 writes what was seen over the
# golden files; review the diff before committing it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
IGT_CHROOT=${IGT_CHROOT:-/var/cache/virtgpu-mapinfo/chroot}
seen=$(mktemp -d)
trap 'rm -rf "$seen"' EXIT
passed=0
failed=0

check() {	# NAME ARGS...: harness_cases ARGS, diffed with NAME.expected
	name=$1
	shift
	if ! "$here/harness_cases" "$@" >"$seen/$name.seen"; then
		echo "FAIL $name: harness_cases $1 did not finish"
		failed=$((failed + 1))
	elif [ "${BLESS:-0}" = 1 ] && cp "$seen/$name.seen" "$here/$name.expected"; then
		echo "bless $name"
	elif diff -u "$here/$name.expected" "$seen/$name.seen"; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name (the lines above: - expected, + seen)"
		failed=$((failed + 1))
	fi
}

check harness_selftest host "$here/harness_selftest"
if [ -r /dev/kmsg ] && [ -w /dev/kmsg ]; then
	check kmsg kmsg "$here/harness_selftest"
else
	echo "skip kmsg: /dev/kmsg cannot be read and written"
fi
if [ "$IGT_CHROOT" = none ] || [ ! -x "$IGT_CHROOT/usr/bin/igt_runner" ]; then
	echo "skip runner: no igt_runner chroot (IGT_CHROOT=$IGT_CHROOT)"
elif [ "$(id -u)" != 0 ] || ! unshare --mount --propagation private true 2>/dev/null; then
	echo "skip runner: the chroot needs root and unshare"
else
	check runner runner "$IGT_CHROOT" "$(dirname "$here")"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
