#!/usr/bin/env bash
# CHECK= wrapper for kernel builds: runs the chroot's sparse (Debian
# unstable; the host's 0.6.4 is too old for 7.2) on files of the cache,
# which is bind-mounted at the same path inside a private mount namespace.
set -euo pipefail
CACHE=${VGM_CACHE:-/var/cache/virtgpu-mapinfo}
ROOT=$(readlink -f "$CACHE/chroot")
exec unshare --mount --propagation private bash -c '
	R=$1 C=$2 D=$3; shift 3
	mkdir -p "$R$C" 2>/dev/null || true
	mount --bind "$C" "$R$C"
	mount -t tmpfs tmpfs "$R/tmp"
	exec chroot "$R" /bin/sh -c "cd \"\$0\" 2>/dev/null; exec sparse \"\$@\"" "$D" "$@"
' sparse-chroot "$ROOT" "$CACHE" "$PWD" "$@"
