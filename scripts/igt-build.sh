#!/usr/bin/env bash
# Build igt-tests/ (and bench/, clients/) inside the guest's root (the
# guest's userspace: same libc and libdrm) and put the test binaries in
# $CACHE/igt/bin (x86_64: the host chroot) or $CACHE/igt-ARCH/bin.
#
#   igt-build.sh [x86_64|arm64]
#
# arm64: cross-built with Debian's gcc-aarch64-linux-gnu against the arm64
# root as the sysroot (its libc, libdrm, Vulkan loader): seconds, where
# the root's own gcc under qemu-user takes 7 minutes.
STEP=igt-build
. "$(dirname "$0")/common.sh"
garch=${1:-x86_64}
arch_setup "$garch"
out=$IGT_BIN
case $garch in
x86_64)
	ROOT=$(readlink -f "$CACHE/chroot")
	[ -f "$ROOT/.complete" ] || "$TOP/scripts/host-chroot.sh"
	;;
arm64)
	"$TOP/scripts/guest-root.sh" arm64
	ROOT=$(readlink -f "$CACHE/guestroot-arm64")
	;;
esac
src=$ROOT/usr/local/src/vgm-igt
# Keyed by its inputs, as kernel builds are: the sources (the files git
# knows or would add, relative names: clones share the key), this script,
# the root (its path names its package list) and the compilers. Unchanged:
# the binaries of the last build stay (VGM_REBUILD=1 builds anyway).
# (outside a git checkout: every file of the three directories)
srcs=$(cd "$TOP" && { git ls-files -co --exclude-standard igt-tests bench clients 2>/dev/null ||
	find igt-tests bench clients -type f | sort; })
[ -n "$srcs" ] || die "no sources of igt-tests/ bench/ clients/ found"
key=$(
	{
		echo "$garch $ROOT ${CC:-} ${CFLAGS:-} ${DRM_CFLAGS:-}"
		(cd "$TOP" && xargs -d '\n' sha256sum scripts/igt-build.sh scripts/common.sh <<<"$srcs")
		toolchain_id "$CROSS"
		# the root's libc and libdrm (a root remade at the same path)
		dpkg-query --admindir="$ROOT/var/lib/dpkg" -W libc6-dev libdrm-dev 2>&1
		if [ "$garch" = x86_64 ]; then chroot "$ROOT" gcc -v 2>&1 | tail -n1; fi
	} | sha256sum | cut -c1-16
)
if [ "${VGM_REBUILD:-0}" != 1 ] && [ "$(cat "$out/.vgm-key" 2>/dev/null)" = "$key" ]; then
	info "igt-tests: built from the same inputs (key $key): $out"
	exit 0
fi
step "building igt-tests/ in the $garch root"
rm -rf "$src" && mkdir -p "$src/igt-tests" "$src/bench" "$src/clients"
cp -r "$TOP/igt-tests/." "$src/igt-tests/"
cp -r "$TOP/bench/." "$src/bench/"
cp -r "$TOP/clients/." "$src/clients/"
# build products of a build elsewhere (git-ignored) are not ours to reuse
for d in igt-tests bench clients; do make -s -C "$src/$d" clean >/dev/null 2>&1 || true; done
if [ "$garch" = x86_64 ]; then
	build() { chroot "$ROOT" make -s -C "/usr/local/src/vgm-igt/$1" "${@:2}" >&2; }
else
	need_host_pkgs gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
	build() {
		# the root's libraries first, ahead of the host's own arm64
		# cross libc (libc6-dev-arm64-cross, older) where it is installed
		local lib=$ROOT/usr/lib/aarch64-linux-gnu
		make -s -C "$src/$1" AR="${CROSS}ar" \
			CC="${CROSS}gcc --sysroot=$ROOT -B$lib/ -L$lib -Wl,-rpath-link,$lib" \
			DRM_CFLAGS="-I$ROOT/usr/include/libdrm" "${@:2}" >&2
	}
fi
build igt-tests tests || die "igt-tests build failed"
build bench || die "bench/ build failed"
build clients || die "clients/ build failed"
rm -rf "$out" && mkdir -p "$out"
n=0
for f in "$src"/igt-tests/* "$src"/bench/* "$src"/clients/*; do
	case $(basename "$f") in virtgpu_* | vgm_*) ;; *) continue ;; esac
	[ -f "$f" ] && [ -x "$f" ] || continue
	cp "$f" "$out/" && n=$((n + 1))
done
[ $n -gt 0 ] || die "no test binaries were built"
# igt_runner's stand-in, for a guest whose root has no igt-gpu-tools
cp "$TOP/igt-tests/runner/vgm_runner.py" "$out/"
echo "$key" >"$out/.vgm-key"
info "$n test binaries in $out: $(cd "$out" && echo *)"
