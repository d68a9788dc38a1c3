#!/usr/bin/env bash
# Build the map_info shim inside the chroot (same libc as QEMU) and install
# it at /usr/local/lib/mapinfo-shim.so there.
STEP=host-shim
. "$(dirname "$0")/common.sh"
ROOT=$(readlink -f "$CACHE/chroot")
[ -f "$ROOT/.complete" ] || "$TOP/scripts/host-chroot.sh"
so=$ROOT/usr/local/lib/mapinfo-shim.so
if [ ! -f "$so" ] || [ "$TOP/host/mapinfo-shim.c" -nt "$so" ]; then
	step "building host/mapinfo-shim.c in the chroot"
	mkdir -p "$ROOT/usr/local/src" "$ROOT/usr/local/lib"
	cp "$TOP/host/mapinfo-shim.c" "$ROOT/usr/local/src/"
	chroot "$ROOT" gcc -O2 -g -Wall -Wextra -Werror -shared -fPIC \
		-o /usr/local/lib/mapinfo-shim.so /usr/local/src/mapinfo-shim.c -ldl -lpthread ||
		die "shim build failed"
fi
info "shim: $so"
