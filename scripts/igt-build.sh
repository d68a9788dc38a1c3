#!/usr/bin/env bash
# Build igt-tests/ inside the chroot (the guest's userspace: same libc and
# libdrm) and put the test binaries in $CACHE/igt/bin.
STEP=igt-build
. "$(dirname "$0")/common.sh"
ROOT=$(readlink -f "$CACHE/chroot")
[ -f "$ROOT/.complete" ] || "$TOP/scripts/host-chroot.sh"
src=$ROOT/usr/local/src/vgm-igt
out=$CACHE/igt/bin
step "building igt-tests/ in the chroot"
rm -rf "$src" && mkdir -p "$src/igt-tests" "$src/bench" "$src/clients" "$out"
cp -r "$TOP/igt-tests/." "$src/igt-tests/"
cp -r "$TOP/bench/." "$src/bench/"
cp -r "$TOP/clients/." "$src/clients/"
chroot "$ROOT" make -s -C /usr/local/src/vgm-igt/igt-tests tests >&2 || die "igt-tests build failed"
chroot "$ROOT" make -s -C /usr/local/src/vgm-igt/bench >&2 || die "bench/ build failed"
chroot "$ROOT" make -s -C /usr/local/src/vgm-igt/clients >&2 || die "clients/ build failed"
rm -rf "$out" && mkdir -p "$out"
n=0
for f in "$src"/igt-tests/* "$src"/bench/* "$src"/clients/*; do
	case $(basename "$f") in virtgpu_* | vgm_*) ;; *) continue ;; esac
	[ -f "$f" ] && [ -x "$f" ] || continue
	cp "$f" "$out/" && n=$((n + 1))
done
[ $n -gt 0 ] || die "no test binaries were built"
info "$n test binaries in $out: $(cd "$out" && echo *)"
