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

step() { printf '\n==> [%s] %s\n' "${STEP:-$(basename "$0" .sh)}" "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die() {
	printf '\nERROR [%s]: %s\n' "${STEP:-$(basename "$0" .sh)}" "$*" >&2
	exit 1
}

# A short hash of files' content, used to key caches by their inputs.
inputs_hash() { cat "$@" | sha256sum | cut -c1-12; }

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
	[ -n "$(find /var/lib/apt/lists -name '*_Packages*' -print -quit 2>/dev/null)" ] || apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		die "could not install host packages: ${missing[*]}"
}

# Files of ours laid over the kernel tree (drivers/, include/ where present).
overlay_files() {
	local d
	for d in drivers include; do
		[ -d "$TOP/$d" ] || continue
		(cd "$TOP" && find "$d" -type f)
	done | sort
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
