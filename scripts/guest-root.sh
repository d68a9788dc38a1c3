#!/usr/bin/env bash
# Create, once, the root filesystem of a guest of another architecture
# (today: arm64), a Debian unstable tree of that architecture's packages that
# the guest mounts read-only over 9p, as the x86_64 guest mounts the host
# chroot. The host stack (QEMU, virglrenderer, Mesa on the host) stays the
# x86_64 chroot's. Keyed by the package list.
#
#   guest-root.sh arm64
#
# debootstrap's second stage and apt run the tree's own binaries through
# qemu-user (the host's qemu-user-static, registered with binfmt_misc with
# the fix-binary flag, so that the chroot needs no copy of it): only while
# the tree is made. Nothing runs in it afterwards (the suite is
# cross-built against it, scripts/igt-build.sh).
STEP=guest-root
. "$(dirname "$0")/common.sh"

garch=${1:-arm64}
case $garch in
arm64) qarch=aarch64 ;;
*) die "guest-root.sh: unknown architecture '$garch' (arm64)" ;;
esac
# Debian builds igt-gpu-tools (igt_runner, drm_virtgpu) for x86 only: the
# arm64 guest runs the suite with igt-tests/runner/vgm_runner.py instead
PKGS=(
	# what the guest job runs, as in the x86_64 chroot
	piglit
	libgl1-mesa-dri libegl-mesa0 libegl1 libgles2 mesa-vulkan-drivers
	mesa-utils vulkan-tools libvulkan-dev
	python3 kmod procps util-linux iproute2
	# our IGT tests and clients are built in the tree, against its libc
	gcc libc6-dev libdrm-dev pkgconf make
)
key=$(printf '%s\n' "$garch" "${PKGS[@]}" | sha256sum | cut -c1-12)
ROOT=$CACHE/guestroot-$garch-$key

mounts_under() { findmnt -rn -o TARGET | grep -F "$1/" || true; }
umount_api() {
	local m
	for m in $(mounts_under "$ROOT" | sort -r); do umount -l "$m" || true; done
}

# qemu-user for the tree's binaries: registered once per boot of the host
binfmt() {
	need_host_pkgs qemu-user-static
	[ -e /proc/sys/fs/binfmt_misc/register ] ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
		die "cannot mount binfmt_misc (needed to run $garch binaries)"
	local reg=/proc/sys/fs/binfmt_misc/qemu-$qarch f=/usr/share/binfmts/qemu-$qarch magic mask interp
	local flags=F fl
	interp=$(awk '$1 == "interpreter" { print $2 }' "$f")
	# The flags: F (the interpreter is opened at registration: the chroot
	# has no copy of it), and what the package's description asks for:
	# qemu-user-static since 1:7.2+dfsg-7+deb12u18 names a wrapper
	# (.../qemu-binfmt/ARCH-binfmt-P) that runs only with P (preserve
	# argv[0]), and stops every binary of the tree without it
	grep -q '^preserve yes' "$f" && flags=${flags}P
	grep -q '^credentials yes' "$f" && flags=${flags}C
	if [ -e "$reg" ]; then
		fl=$(awk '$1 == "flags:" { print $2 }' "$reg")
		[ "$(echo "$fl" | fold -w1 | sort | tr -d '\n')" = "$(echo "$flags" | fold -w1 | sort | tr -d '\n')" ] &&
			grep -q "^interpreter $interp\$" "$reg" && return 0
		echo -1 >"$reg" || die "cannot replace the binfmt_misc entry qemu-$qarch (flags '$fl', $flags wanted)"
	fi
	magic=$(awk '$1 == "magic" { print $2 }' "$f")
	mask=$(awk '$1 == "mask" { print $2 }' "$f")
	[ -n "$magic" ] && [ -n "$mask" ] && [ -x "$interp" ] || die "no usable binfmt description in $f"
	echo ":qemu-$qarch:M::$magic:$mask:$interp:$flags" >/proc/sys/fs/binfmt_misc/register ||
		die "could not register $interp with binfmt_misc"
}

# one builder of a tree at a time (make test builds it in the background;
# a second make test, or make run-arm64, waits here instead of deleting a
# tree that debootstrap is writing)
exec 8>"$CACHE/guestroot-$garch.lock"
flock -w 3600 8 || die "another guest-root.sh $garch has held $CACHE/guestroot-$garch.lock for an hour"
if [ ! -f "$ROOT/.complete" ]; then
	need_host_pkgs debootstrap debian-archive-keyring
	binfmt
	if [ -n "$(mounts_under "$ROOT")" ]; then
		die "refusing to delete $ROOT: it still has mounts"
	fi
	rm -rf --one-file-system "$ROOT"
	step "debootstrap --arch=$garch --variant=minbase sid $ROOT (qemu-user: ~10 min)"
	debootstrap --arch="$garch" --variant=minbase sid "$ROOT" http://deb.debian.org/debian \
		>"$CACHE/debootstrap-$garch.log" 2>&1 ||
		die "debootstrap failed, see $CACHE/debootstrap-$garch.log"
	echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99no-valid-until"
	printf 'APT::Install-Recommends "false";\n' >"$ROOT/etc/apt/apt.conf.d/99no-recommends"
	trap umount_api EXIT
	mount -t proc proc "$ROOT/proc"
	mount --bind /dev "$ROOT/dev"
	step "installing ${#PKGS[@]} packages into the $garch tree"
	chroot "$ROOT" apt-get update -q >"$CACHE/guestroot-$garch-apt.log" 2>&1 ||
		die "apt-get update failed, see $CACHE/guestroot-$garch-apt.log"
	DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get install -y -q "${PKGS[@]}" \
		>>"$CACHE/guestroot-$garch-apt.log" 2>&1 ||
		die "package install failed, see $CACHE/guestroot-$garch-apt.log"
	chroot "$ROOT" apt-get clean
	umount_api
	trap - EXIT
	mkdir -p "$ROOT"/{lib/modules,mnt/host}
	touch "$ROOT/.complete"
fi
ln -sfn "$ROOT" "$CACHE/guestroot-$garch"
info "$garch guest root ready: $ROOT (mesa $(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo '?'))"
