#!/usr/bin/env bash
# Create, once, the Debian unstable chroot that is both the host stack
# (QEMU, virglrenderer, Mesa, Xvfb) and, read-only over 9p, the guest's root
# filesystem (igt-gpu-tools, Mesa clients). Keyed by the package list.
STEP=host-chroot
. "$(dirname "$0")/common.sh"

PKGS=(
	# host stack
	qemu-system-x86 qemu-system-gui qemu-system-modules-opengl ovmf qemu-system-arm
	libvirglrenderer1 virgl-server xvfb xauth
	# Mesa: llvmpipe/lavapipe, virgl gallium driver, venus ICD
	libgl1-mesa-dri libegl-mesa0 libegl1 libgles2 mesa-vulkan-drivers
	mesa-utils vulkan-tools libvulkan-dev
	# guest test userspace
	igt-gpu-tools igt-gpu-tools-tests piglit vkmark
	python3 kmod procps util-linux iproute2
	# building our IGT tests and the host shim against the same libc
	gcc libc6-dev libdrm-dev pkgconf make
	# sparse for the kernel checks (the host's is too old for 7.2)
	sparse
)
key=$(printf '%s\n' "${PKGS[@]}" | sha256sum | cut -c1-12)
ROOT=$CACHE/chroot-$key

chroot_mounts() { findmnt -rn -o TARGET | grep -F "$1/" || true; }

# Mount what apt needs inside; always unmounted on exit.
mount_api() {
	mount -t proc proc "$ROOT/proc"
	mount --bind /dev "$ROOT/dev"
	mount -t devpts devpts "$ROOT/dev/pts" -o newinstance,ptmxmode=0666 || true
}
umount_api() {
	local m
	for m in $(chroot_mounts "$ROOT" | sort -r); do umount -l "$m" || true; done
}

# Delete a half-built tree, but never one with live mounts.
safe_rm() {
	local d=$1
	[ -e "$d" ] || return 0
	if [ -n "$(chroot_mounts "$d")" ]; then
		die "refusing to delete $d: it still has mounts ($(chroot_mounts "$d" | tr '\n' ' '))"
	fi
	rm -rf --one-file-system "$d"
}

if [ ! -f "$ROOT/.complete" ]; then
	need_host_pkgs debootstrap debian-archive-keyring
	safe_rm "$ROOT"
	step "debootstrap --variant=minbase sid $ROOT (several minutes)"
	debootstrap --variant=minbase sid "$ROOT" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $CACHE/debootstrap.log"
	echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99no-valid-until"
	printf 'APT::Install-Recommends "false";\n' >"$ROOT/etc/apt/apt.conf.d/99no-recommends"
	trap umount_api EXIT
	mount_api
	step "installing ${#PKGS[@]} packages into the chroot"
	chroot "$ROOT" apt-get update -q >"$CACHE/chroot-apt.log" 2>&1 ||
		die "apt-get update in chroot failed, see $CACHE/chroot-apt.log"
	DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get install -y -q "${PKGS[@]}" \
		>>"$CACHE/chroot-apt.log" 2>&1 || die "package install failed, see $CACHE/chroot-apt.log"
	chroot "$ROOT" apt-get clean
	umount_api
	trap - EXIT
	# mount points the guest uses
	mkdir -p "$ROOT"/{lib/modules,mnt/results,mnt/tests,mnt/kmod}
	touch "$ROOT/.complete"
fi
ln -sfn "$ROOT" "$CACHE/chroot"
info "chroot ready: $ROOT ($(chroot "$ROOT" dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null | sed 's/^/qemu /'))"
