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
