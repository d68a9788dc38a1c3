#!/usr/bin/env bash
# Static checks of the kernel change:
#   check.sh patches   make patches + checkpatch.pl --strict on the series
#   check.sh build     our module rebuilt from clean with W=1 and sparse (C=2):
#                      any warning or sparse report fails
STEP=check
. "$(dirname "$0")/common.sh"
what=${1:-all}

check_patches() {
	"$TOP/scripts/mkpatches.sh"
	step "checkpatch.pl --strict on $RESULTS/patches"
	# FILE_PATH_CHANGES: new files are under drivers/gpu/drm/virtio/, which
	# the VIRTIO GPU DRIVER entry of MAINTAINERS already covers.
	"$CACHE/patch-git/scripts/checkpatch.pl" --strict --no-tree --color=never \
		--ignore FILE_PATH_CHANGES "$RESULTS"/patches/*.patch | tee "$RESULTS/checkpatch.txt" |
		grep -E '^total:|^(ERROR|WARNING|CHECK):' >&2
	if grep -qE '^total: ([1-9]|0 errors, [1-9]|0 errors, 0 warnings, [1-9])' "$RESULTS/checkpatch.txt"; then
		die "checkpatch found problems: $RESULTS/checkpatch.txt"
	fi
	info "checkpatch: clean ($(ls "$RESULTS"/patches/*.patch | wc -l) patches)"
}

check_build() {
	[ -f "$CACHE/out/stock/bzImage" ] || "$TOP/scripts/kernel-build.sh" stock
	local src
	src=$("$TOP/scripts/kernel-build.sh" patched-tree)
	"$TOP/scripts/kernel-build.sh" ours >/dev/null
	step "W=1 and sparse (C=2) over drivers/gpu/drm/virtio of the patched tree"
	local m=(make -C "$CACHE/build/stock" M="$src/drivers/gpu/drm/virtio"
		NOSTDINC_FLAGS="-nostdinc -I$CACHE/build/ours-include"
		CONFIG_DRM_VIRTIO_GPU=m CONFIG_DRM_VIRTIO_GPU_KUNIT_TEST=m)
	"${m[@]}" clean >/dev/null
	"${m[@]}" -j"$(nproc)" W=1 C=2 CHECK="$TOP/scripts/sparse-chroot.sh" modules \
		>"$RESULTS/w1-sparse.txt" 2>&1 || die "build failed: $RESULTS/w1-sparse.txt"
	grep -c '^  CHECK' "$RESULTS/w1-sparse.txt" | sed 's/^/    sparse checked files: /' >&2
	grep -q '^  CHECK' "$RESULTS/w1-sparse.txt" || die "sparse did not run (see $RESULTS/w1-sparse.txt)"
	if grep -E 'warning:|error:' "$RESULTS/w1-sparse.txt" >&2; then
		die "W=1/sparse reports above ($RESULTS/w1-sparse.txt)"
	fi
	info "W=1 + sparse: clean"
}

case $what in
patches) check_patches ;;
build) check_build ;;
all) check_patches && check_build ;;
*) die "usage: check.sh [patches|build|all]" ;;
esac
