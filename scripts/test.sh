#!/usr/bin/env bash
# make test: every check, each counted; ends with "N passed, N failed".
#   1. the IGT harness self-test
#   2. kernel builds: pristine (baseline), ours as a module, ours built in
#   3. checkpatch --strict on the generated series; W=1 + sparse; the driver
#      cross-built with W=1 for arm64, riscv64, i386 and um (User-mode Linux) (check.sh cross);
#      every mutant of make mutants still applies (mutants.py check)
#   3b. the arm64 guest: its Debian root and kernels (VGM_ARM64=0: not)
#   4. the run matrix (KUnit in the guest, our IGT suite, upstream
#      drm_virtgpu, on the stock and our kernel; x86_64 under SeaBIOS and
#      OVMF, and three arm64 cells), judged by report.py
STEP=test
. "$(dirname "$0")/common.sh"
passed=0 failed=0 names=()
t0=$(date +%s)
check() {
	local name=$1 s r
	shift
	s=$(date +%s)
	step "TEST $name"
	if "$@"; then
		passed=$((passed + 1))
		# a static check whose inputs did not change (check.sh run_step)
		r=
		[ "$1" = "$TOP/scripts/check.sh" ] && [ -f "$RESULTS/check-$2.reused" ] &&
			r="; $(cat "$RESULTS/check-$2.reused")"
		names+=("PASS $name ($(($(date +%s) - s)) s$r)")
	else
		failed=$((failed + 1))
		names+=("FAIL $name ($(($(date +%s) - s)) s)")
	fi
}
check "host stack (chroot, shim)" bash -c "'$TOP/scripts/host-chroot.sh' && '$TOP/scripts/host-shim.sh'"
# stage 2 of the self-test drives the chroot's real igt_runner
check "igt harness self-test (with the real igt_runner)" \
	make -s -C "$TOP/igt-tests" selftest IGT_CHROOT="$(readlink -f "$CACHE/chroot")"
# VGM_ARM64=0 leaves the arm64 guest out (its root needs binfmt_misc and
# qemu-user-static as root, its first build about 10 minutes): said in the
# summary, never silently
ARM64=${VGM_ARM64:-1}
# The arm64 guest root (debootstrap and apt under qemu-user, about 10 min
# cold, one core most of the time) is built beside the x86_64 kernels, in
# a session of its own: stopped with make test (its log:
# results/guest-root-arm64.log; the arm64 check's time is its wait)
ROOT_LOG=$RESULTS/guest-root-arm64.log ROOT_PID=
# the cross compilers first: the keys of the checks name every compiler,
# and one installed while a check runs makes its pass unstorable
# (a failure here is the kernel and check steps' to count)
(need_host_pkgs gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu) || info "the cross compilers could not be installed"
if [ "$ARM64" = 1 ]; then
	setsid "$TOP/scripts/guest-root.sh" arm64 >"$ROOT_LOG" 2>&1 &
	ROOT_PID=$!
	trap '[ -z "$ROOT_PID" ] || kill -- -"$ROOT_PID" 2>/dev/null || true' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	step "arm64 guest root: building beside the kernels (log: $ROOT_LOG)"
fi
arm64_guest() {
	local rc=0
	wait "$ROOT_PID" || rc=$?
	ROOT_PID=
	cat "$ROOT_LOG" >&2
	[ $rc -eq 0 ] || return 1
	"$TOP/scripts/kernel-build.sh" stock-arm64 && "$TOP/scripts/kernel-build.sh" ours-arm64
}
check "pristine 7.2 kernel builds" "$TOP/scripts/kernel-build.sh" stock
check "our virtio-gpu module builds against it" "$TOP/scripts/kernel-build.sh" ours
check "our driver built in links" "$TOP/scripts/kernel-build.sh" builtin
if [ "$ARM64" = 1 ]; then
	check "arm64 guest: its Debian root, the stock kernel and our module (cross-built)" arm64_guest
fi
check "patch series: format-patch + checkpatch --strict + every commit builds" "$TOP/scripts/check.sh" patches
check "W=1 + sparse clean" "$TOP/scripts/check.sh" build
# make mutants starts only if every mutant's edit still applies to the
# driver: a driver change that moves an anchor shows here, not weeks later
check "mutant edits apply to the driver (make mutants can start)" \
	python3 "$TOP/scripts/mutants/mutants.py" check "$CACHE/linux-patched/drivers/gpu/drm/virtio"
check "driver cross-builds (arm64, riscv64, i386, um)" "$TOP/scripts/check.sh" cross
# make test runs one cell per class of result (make run: every window and
# firmware): the moved window and its Mesa clients (SeaBIOS 256M), the
# window-capacity cell (SeaBIOS 256M wc), every host mode above 4 GiB
# (SeaBIOS 4G), the uncachable aperture of UEFI firmware with cached
# (refusal), none (UC-) and wc, and Mesa there (OVMF 4G); a guest booted
# with nopat (no PTE can say WC: cached maps WB, wc is refused); the arm64 guest
# (virt) with Mesa, with an uncached host (Normal-NC, unaligned stores,
# and the operation subtests) and with a host whose answer changes
# (remap + mprotect)
TEST_CELLS="seabios/256M/passthrough seabios/256M/wc
$(for m in passthrough none cached uncached wc undefined raw:0x103 error seq:wc,uncached,none,cached,undefined,raw:0x103,error slow:3000; do echo "seabios/4G/$m"; done)
ovmf/256M/cached ovmf/256M/none ovmf/256M/wc ovmf/4G/passthrough
seabios+nopat/4G/cached seabios+nopat/4G/wc"
[ "$ARM64" = 1 ] && TEST_CELLS="$TEST_CELLS
virt/256M/passthrough virt/256M/uncached virt/256M/seq:wc,uncached,none,cached,undefined,raw:0x103,error"
# vkmark is a benchmark (not gated): make run only
check "run matrix: KUnit, IGT suite, drm_virtgpu (report verdict)" env VGM_CELLS="${VGM_CELLS:-$TEST_CELLS}" \
	VGM_VKMARK="${VGM_VKMARK:-0}" "$TOP/scripts/run.sh"
echo
[ "$ARM64" = 1 ] || names+=("NOTE the arm64 guest was left out (VGM_ARM64=0)")
printf '%s\n' "${names[@]}"
echo "total time: $(($(date +%s) - t0)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
