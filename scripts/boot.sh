#!/usr/bin/env bash
# Boot one guest under QEMU (virtio-gpu-gl, blob, hostmem) on the real host
# stack in the chroot, run a job in it and bring the results back.
#
#   boot.sh RUNDIR KERNEL_VARIANT MAPINFO_MODE HOSTMEM JOBSCRIPT
#
# RUNDIR receives console.log, qemu.log, job.log, job.rc, dmesg.txt and
# whatever the job writes to /mnt/host. Everything runs in private mount and
# PID namespaces: mounts vanish and every process dies with the run, and a
# timeout (VGM_TIMEOUT, seconds) kills only what this run started. A private
# network namespace keeps concurrent runs' X servers (abstract sockets) apart.
STEP=boot
. "$(dirname "$0")/common.sh"

[ $# -eq 5 ] || die "usage: boot.sh RUNDIR VARIANT MAPINFO HOSTMEM JOB"
rundir=$(mkdir -p "$1" && cd "$1" && pwd)
variant=$2 mapinfo=$3 hostmem=$4 job=$5
ROOT=$(readlink -f "$CACHE/chroot")
OUTK=$CACHE/out/$variant
[ -f "$ROOT/.complete" ] || die "no host chroot: run scripts/host-chroot.sh"
[ -d "$OUTK/modroot" ] || die "no kernel '$variant': run scripts/kernel-build.sh $variant"
[ -f "$ROOT/usr/local/lib/mapinfo-shim.so" ] || die "no host shim: run scripts/host-shim.sh"
timeout=${VGM_TIMEOUT:-900}
# The guest's architecture is the kernel's (kernel-build.sh writes it).
# x86_64 guests mount the host chroot as their root; others a root of
# their own architecture's packages (scripts/guest-root.sh).
garch=$(cat "$OUTK/arch" 2>/dev/null || echo x86_64)
case $garch in
x86_64) GROOT=$ROOT ;;
arm64)
	GROOT=$(readlink -f "$CACHE/guestroot-arm64")
	[ -f "$GROOT/.complete" ] || die "no arm64 guest root: run scripts/guest-root.sh arm64"
	;;
*) die "kernel '$variant' is for '$garch': no guest for it" ;;
esac
arch_setup "$garch"
image=$(basename "$IMAGE")
[ -f "$OUTK/$image" ] || die "no kernel image $OUTK/$image: run scripts/kernel-build.sh $variant"

rm -f "$rundir"/{console.log,qemu.log,job.log,job.rc,dmesg.txt}
cp "$OUTK/$image" "$rundir/$image"
rm -rf "$rundir/modroot" && cp -a "$OUTK/modroot" "$rundir/modroot"
cp "$job" "$rundir/job.sh"
# only when it changed: a guest booting beside this one may be reading it
# two guests may boot at once from a fresh chroot: install by rename
if ! cmp -s "$TOP/scripts/guest-init.sh" "$GROOT/usr/local/sbin/vgm-guest-init"; then
	mkdir -p "$GROOT/usr/local/sbin"
	install -m 0755 "$TOP/scripts/guest-init.sh" "$GROOT/usr/local/sbin/.vgm-guest-init.$$"
	mv -f "$GROOT/usr/local/sbin/.vgm-guest-init.$$" "$GROOT/usr/local/sbin/vgm-guest-init"
fi
mkdir -p "$ROOT/mnt/host" "$ROOT/mnt/guestroot" "$GROOT/mnt/host"

# VGM_FIRMWARE: seabios (QEMU's default) or ovmf (UEFI, Debian's ovmf
# package; the kernel boots through its EFI stub, as distributions do)
# (arm64: virt, QEMU's direct kernel boot with the machine's device tree).
# FIRMWARE+PARAM boots it with the kernel parameter PARAM added (a matrix
# dimension of the guest's own: seabios+nopat is SeaBIOS without PAT)
bios=
fw=${VGM_FIRMWARE:-$([ "$garch" = arm64 ] && echo virt || echo seabios)}
fwparams=
case $fw in *+*) fwparams=$(echo "${fw#*+}" | tr + ' ') fw=${fw%%+*} ;; esac
case $garch/$fw in
x86_64/seabios | arm64/virt) ;;
x86_64/ovmf)
	[ -f "$ROOT/usr/share/ovmf/OVMF.fd" ] || die "no OVMF in the host chroot (package ovmf): run scripts/host-chroot.sh"
	bios="-bios /usr/share/ovmf/OVMF.fd"
	;;
*) die "VGM_FIRMWARE=$fw: x86_64 boots seabios or ovmf, arm64 virt" ;;
esac
accel=tcg
# KVM is opt-in (VGM_ACCEL=kvm): nested KVM on these machines fails to
# emulate some guest instructions; TCG is what CI has.
[ "${VGM_ACCEL:-tcg}" = kvm ] && [ -w /dev/kvm ] && [ "$garch" = x86_64 ] && accel=kvm
smp=${VGM_SMP:-2}
# Without ACPI the guest has no HPET/PM timer to calibrate the TSC against
# and may fall back to jiffies (4 ms steps, and no clock at all while QEMU's
# main loop is busy): give it the host's TSC rate, which TCG's TSC follows.
# VGM_TSC=0 leaves the guest to calibrate.
tsc=
if [ "${VGM_TSC:-1}" = 1 ] && [ "$garch" = x86_64 ]; then
	khz=$(cat /sys/devices/system/cpu/cpu0/tsc_freq_khz 2>/dev/null ||
		awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
	[ -n "$khz" ] && tsc="tsc_early_khz=$khz tsc=reliable clocksource=tsc"
fi
console=$CONSOLE
cmdline="console=$console root=root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro init=/usr/local/sbin/vgm-guest-init panic=-1 oops=panic loglevel=6 kunit.enable=1 kunit.autorun=1 $tsc $fwparams ${VGM_CMDLINE:-}"
step "boot $variant kernel ($garch), $fw${fwparams:+ ($fwparams)}, host map_info=$mapinfo, hostmem=$hostmem, accel=$accel ($rundir)"

# arm64: QEMU's virt machine (PCIe, GICv3, PSCI) with a Neoverse N1, an
# Armv8.2 server core as clouds run. Not -cpu max: with FEAT_MOPS there,
# glibc's memset/memcpy are SET*/CPY* instructions, which TCG runs on
# Device memory without the alignment faults that ordinary stores get
# (measured), and pointer authentication makes TCG slower.
case $garch in
x86_64) qemu="$QEMU -machine q35,accel=$accel -cpu max -vga none" ;;
arm64)
	qemu="$QEMU -machine virt,gic-version=3,accel=tcg -cpu ${VGM_ARM64_CPU:-neoverse-n1}"
	;;
esac
# A slow host (the device-remove subtest): QEMU's fence trace in qemu.log,
# which the guest reads (/mnt/host/qemu.log) to know whether the host
# answered a fenced command before the removal reset the device
trace=
case $mapinfo in slow:*) trace="-trace virtio_gpu_fence_ctrl -trace virtio_gpu_fence_resp" ;; esac
# the chroot side: Xvfb for QEMU's GL display, then QEMU
cat >"$rundir/host.sh" <<HOST
set -e
export HOME=/tmp DISPLAY=:77 XDG_RUNTIME_DIR=/tmp
Xvfb :77 -screen 0 1280x800x24 -nolisten tcp >/mnt/host/xvfb.log 2>&1 &
for i in \$(seq 100); do [ -e /tmp/.X11-unix/X77 ] && break; sleep 0.1; done
export VGM_MAPINFO='$mapinfo' LD_PRELOAD=/usr/local/lib/mapinfo-shim.so
exec $qemu -smp $smp -m ${VGM_MEM:-2048} $trace \\
	-no-reboot -nodefaults -display sdl,gl=on \\
	-device virtio-gpu-gl-pci,blob=on,hostmem=$hostmem,venus=on \\
	-virtfs local,path=/mnt/guestroot,mount_tag=root,security_model=none,readonly=on,multidevs=remap \\
	-virtfs local,path=/mnt/host,mount_tag=host,security_model=none,multidevs=remap \\
	-serial file:/mnt/host/console.log -monitor none \\
	$bios -kernel /mnt/host/$image -append '$cmdline'
HOST

set +e
# In the background so that a signal to this script stops the guest too:
# timeout passes it on, and unshare --kill-child takes everything down.
timeout --kill-after=10 "$timeout" unshare --mount --pid --net --fork --kill-child --propagation private \
	bash -c '
	set -e
	R=$1 D=$2 G=$3
	mount --bind "$G" "$R/mnt/guestroot"
	mount -t proc proc "$R/proc"
	mount --bind /dev "$R/dev"
	mount -t tmpfs tmpfs "$R/tmp"
	mount --bind "$D" "$R/mnt/host"
	exec chroot "$R" /bin/bash /mnt/host/host.sh
	' vgm-boot "$ROOT" "$rundir" "$GROOT" >"$rundir/qemu.log" 2>&1 &
guest=$!
trap 'kill -TERM $guest 2>/dev/null; wait $guest; exit 130' INT TERM
wait $guest
rc=$?
trap - INT TERM
set -e
# why the guest did not finish, for the run's report too
fail() { echo "$*" >"$rundir/boot.error"; die "$*"; }
rm -f "$rundir/boot.error"
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	tail -n 20 "$rundir/console.log" >&2 || true
	fail "guest did not finish within ${timeout}s (killed); logs kept in $rundir"
fi
if [ $rc -ne 0 ]; then
	tail -n 20 "$rundir/qemu.log" >&2 || true
	fail "QEMU exited with $rc; logs in $rundir (qemu.log, console.log)"
fi
[ -f "$rundir/job.rc" ] || {
	tail -n 30 "$rundir/console.log" >&2
	fail "guest ended without finishing its job (boot failure or crash); see $rundir/console.log"
}
info "guest job exit $(cat "$rundir/job.rc"); logs in $rundir"
