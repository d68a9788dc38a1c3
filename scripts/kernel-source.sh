#!/usr/bin/env bash
# Fetch Debian's linux-source package (unstable) and unpack a pristine tree
# into the cache: $CACHE/src/<version>/linux (never modified afterwards).
STEP=kernel-source
. "$(dirname "$0")/common.sh"

need_host_pkgs xz-utils ca-certificates
dl=$CACHE/downloads
mkdir -p "$dl"
if ! ls "$dl/${KVER_PKG}"_*.deb >/dev/null 2>&1; then
	step "fetching $KVER_PKG from Debian unstable (own apt config in $APT_SID)"
	apt_sid update >&2 || die "apt update for unstable failed"
	(cd "$dl" && apt_sid download "$KVER_PKG" >&2) || die "could not download $KVER_PKG"
fi
deb=$(ls "$dl/${KVER_PKG}"_*.deb | sort -V | tail -n1)
ver=$(dpkg-deb -f "$deb" Version)
src=$CACHE/src/$ver
if [ ! -f "$src/.unpacked" ]; then
	step "unpacking $deb ($ver) into $src"
	rm -rf "$src" && mkdir -p "$src/deb"
	dpkg-deb -x "$deb" "$src/deb"
	tarball=$(ls "$src"/deb/usr/src/linux-source-*.tar.* | head -n1)
	tar -C "$src" -xf "$tarball"
	mv "$src"/linux-source-*/ "$src/linux"
	rm -rf "$src/deb"
	touch "$src/.unpacked"
fi
ln -sfn "$src/linux" "$CACHE/linux-pristine"
info "pristine tree: $src/linux ($(make -s -C "$src/linux" kernelversion))"
