# shellcheck shell=bash
# Common settings for every script of virtgpu-mapinfo. Source it, do not run it.
#
# Caches live outside the repository (so a fresh clone reuses them) and are
# keyed by their inputs: a changed package list or config makes a new one.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VGM_CACHE:-/var/cache/virtgpu-mapinfo}
RESULTS=${VGM_RESULTS:-$TOP/results}
KVER_PKG=${VGM_KPKG:-linux-source-7.2}
ARCH=x86_64

mkdir -p "$CACHE" "$RESULTS"

# arch_setup ARCH: what the scripts need to know of a guest architecture,
# in one place. Sets KARCH and CROSS (the kernel's ARCH and CROSS_COMPILE;
# arm64 is cross-built with Debian's gcc-aarch64-linux-gnu), IMAGE (the
# kernel image in a build tree), SUF (the suffix of its kernel variants:
# stock$SUF, ours$SUF), IGT_BIN (where igt-build.sh puts the suite), CONSOLE
# (the guest's serial console) and QEMU (the system emulator).
arch_setup() {
	case $1 in
	x86_64)
		KARCH=x86_64 CROSS= IMAGE=arch/x86/boot/bzImage SUF=
		IGT_BIN=$CACHE/igt/bin CONSOLE=ttyS0 QEMU=qemu-system-x86_64
		;;
	arm64)
		KARCH=arm64 CROSS=aarch64-linux-gnu- IMAGE=arch/arm64/boot/Image SUF=-arm64
		IGT_BIN=$CACHE/igt-arm64/bin CONSOLE=ttyAMA0 QEMU=qemu-system-aarch64
		;;
	*) die "guest architecture '$1': x86_64 or arm64" ;;
	esac
}

step() { printf '\n==> [%s] %s\n' "${STEP:-$(basename "$0" .sh)}" "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die() {
	printf '\nERROR [%s]: %s\n' "${STEP:-$(basename "$0" .sh)}" "$*" >&2
	exit 1
}

# A short hash of files' content, used to key caches by their inputs.
inputs_hash() { cat "$@" | sha256sum | cut -c1-12; }

# The compilers, linkers and make that builds use, with their full versions
# (Debian revisions): part of the keys of checks and kernel builds.
#   toolchain_id [PREFIX...]   only these CROSS_COMPILE prefixes ("" is the
#                              host's); by default the host's, arm64's, riscv64's
# (a kernel's key names its own compiler only: installing a cross compiler
# for the next step must not make the x86_64 kernels stale)
toolchain_id() {
	local p t prefixes=("$@")
	[ $# -gt 0 ] || prefixes=("" aarch64-linux-gnu- riscv64-linux-gnu-)
	for p in "${prefixes[@]}"; do
		for t in gcc ld; do
			if command -v "$p$t" >/dev/null; then "$p$t" -v 2>&1 | tail -n1; else echo "$p$t: none"; fi
		done
	done
	make -v | head -n1
}

# apt against Debian unstable with a configuration of our own: the machine's
# sources are never edited. Lists and downloaded packages stay in the cache.
APT_SID=$CACHE/apt-sid
apt_sid() {
	mkdir -p "$APT_SID"/{lists/partial,archives/partial,etc}
	cat >"$APT_SID/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
SRC
	apt-get -q \
		-o Dir::Etc::sourcelist="$APT_SID/etc/sources.list" \
		-o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$APT_SID/lists" \
		-o Dir::Cache::Archives="$APT_SID/archives" \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
		-o Acquire::Check-Valid-Until=false \
		-o APT::Get::List-Cleanup=false \
		"$@"
}

# Install host packages we need, only those missing.
need_host_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	step "installing host packages: ${missing[*]}"
	# (one apt at a time: test.sh builds the arm64 root beside the kernels)
	(
		flock -w 900 9 || exit 1
		[ -n "$(find /var/lib/apt/lists -name '*_Packages*' -print -quit 2>/dev/null)" ] ||
			apt-get update -q >&2 9>&- || exit 1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 9>&-
	) 9>"$CACHE/.host-apt.lock" || die "could not install host packages: ${missing[*]}"
}

# Files of ours laid over the kernel tree (drivers/, include/ where present).
overlay_files() {
	local d
	for d in drivers include; do
		[ -d "$TOP/$d" ] || continue
		(cd "$TOP" && find "$d" -type f)
	done | sort
}

# The patches of patches/series, in order.
series_patches() { grep -vE '^\s*(#|$)' "$TOP/patches/series"; }

# series_step DIR PATCH [TOUCHED]: one commit of the series applied to the
# tree DIR, as make patches builds it and the tree make test builds: the
# patch, if it has a diff (hard links to the cache broken first), then the
# files of ours that patches/overlay gives their content at that commit (a
# patch may create or change a file of ours before its final content is
# laid over, or have no diff at all). Every file written is appended to
# TOUCHED when given.
series_step() {
	local dir=$1 p=$2 touched=${3:-/dev/null} pf=$TOP/patches/$2 f
	if grep -q '^@@' "$pf"; then
		grep -E '^\+\+\+ b/' "$pf" | sed 's,^+++ b/,,; s,\t.*,,' | while read -r f; do
			if [ -e "$dir/$f" ]; then
				cp "$dir/$f" "$dir/$f.vgm" && mv "$dir/$f.vgm" "$dir/$f"
			fi
			echo "$f" >>"$touched"
		done
		patch -d "$dir" -p1 -s --no-backup-if-mismatch -F0 <"$pf" >&2 ||
			die "patch $p does not apply to $KVER_PKG"
	fi
	for f in $(awk -v p="$p" '$1 == p { for (i = 2; i <= NF; i++) print $i }' "$TOP/patches/overlay"); do
		mkdir -p "$(dirname "$dir/$f")"
		cp --remove-destination "$TOP/$f" "$dir/$f"
		echo "$f" >>"$touched"
	done
}

# Building our virtio-gpu module (and its KUnit module) out of tree against
# the stock kernel build: kbuild options, and the include directory that
# puts our uapi header (only it) ahead of the stock tree's.
#   module_uapi_include TREE DIR   fill DIR from TREE's include/uapi/drm
# The test hook (CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK, debugfs) is on in every
# build this project tests; its Kconfig symbol does not exist in the stock
# kernel's configuration, hence the define.
MODULE_OPTS=(CONFIG_DRM_VIRTIO_GPU=m CONFIG_DRM_VIRTIO_GPU_KUNIT_TEST=m
	KCFLAGS=-DCONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK=1)
module_uapi_include() {
	local src=$1 inc=$2 f
	rm -rf "$inc" && mkdir -p "$inc/drm"
	cp "$src/include/uapi/drm/virtgpu_drm.h" "$inc/drm/"
	# its relative includes (drm.h, drm_mode.h) resolve next to it; names
	# the kernel-internal include/drm/ also has must resolve there
	for f in "$src"/include/uapi/drm/drm*.h; do
		[ -e "$src/include/drm/$(basename "$f")" ] || ln -s "$f" "$inc/drm/"
	done
}
