#!/usr/bin/env bash
# Static checks of the kernel change:
#   check.sh patches   make patches + checkpatch.pl --strict on the series, and
#                      every commit of the series builds on its own (W=1)
#   check.sh build     our module rebuilt from clean with W=1 and sparse (C=2):
#                      any warning or sparse report fails; and W=1 once more
#                      without the test hook (CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK)
#   check.sh cross     our driver directory compiled with W=1 for arm64, riscv64,
#                      i386 and um (allnoconfig + configs/cross.config): any
#                      warning or error fails; logs in results/cross-<arch>.txt
#                      (VGM_CROSS_ARCHES="arm64 riscv64 i386 um" narrows the list)
# A step whose inputs did not change since it passed is not run again (see
# run_step; VGM_CHECK_CACHE=0 runs it).
STEP=check
. "$(dirname "$0")/common.sh"
what=${1:-all}

check_patches() {
	"$TOP/scripts/mkpatches.sh"
	step "checkpatch.pl --strict on $RESULTS/patches"
	# FILE_PATH_CHANGES: new files are under drivers/gpu/drm/virtio/, which
	# the VIRTIO GPU DRIVER entry of MAINTAINERS already covers.
	# UNKNOWN_COMMIT_ID: the Fixes: tags name upstream commits, which the
	# history-less Debian source tree in patch-git cannot resolve.
	# (the cover letter is no patch)
	local series
	series=$(ls "$RESULTS"/patches/*.patch | grep -v /0000-cover-letter.patch)
	"$CACHE/patch-git/scripts/checkpatch.pl" --strict --no-tree --color=never \
		--ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID $series |
		tee "$RESULTS/checkpatch.txt" | grep -E '^total:|^(ERROR|WARNING|CHECK):' >&2
	if grep -qE '^total: ([1-9]|0 errors, [1-9]|0 errors, 0 warnings, [1-9])' "$RESULTS/checkpatch.txt"; then
		die "checkpatch found problems: $RESULTS/checkpatch.txt"
	fi
	info "checkpatch: clean ($(echo "$series" | wc -l) patches)"
	# the test-only module (kmod/) is not in the series, but kernel code
	"$CACHE/patch-git/scripts/checkpatch.pl" --strict --no-tree --color=never -f "$TOP"/kmod/*.c |
		tee "$RESULTS/checkpatch-kmod.txt" | grep -E '^total:|^(ERROR|WARNING|CHECK):' >&2
	grep -qE '^total: 0 errors, 0 warnings, 0 checks' "$RESULTS/checkpatch-kmod.txt" ||
		die "checkpatch found problems in kmod/: $RESULTS/checkpatch-kmod.txt"
	check_bisect
}

# Every commit of the series builds on its own: the virtio-gpu directory of
# each commit of $CACHE/patch-git compiled (W=1) as modules against the stock
# build, with that commit's uapi header. Any warning or error fails.
check_bisect() {
	VGM_FLAVOR=base "$TOP/scripts/kernel-build.sh" stock
	local G=$CACHE/patch-git inc=$CACHE/build/bisect-include c n=0 log
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache} CCACHE_BASEDIR=$CACHE CCACHE_NOHASHDIR=1
	step "each commit of the series builds (W=1, module against the stock kernel)"
	for c in $(git -C "$G" rev-list --reverse v7.2-debian..vgm); do
		n=$((n + 1))
		log=$RESULTS/bisect-$n.txt
		git -C "$G" checkout -q -f "$c"
		git -C "$G" clean -qfdx drivers/gpu/drm/virtio
		module_uapi_include "$G" "$inc"
		if ! make -s -j"$(nproc)" CC="ccache gcc" -C "$CACHE/build/stock" \
			M="$G/drivers/gpu/drm/virtio" W=1 NOSTDINC_FLAGS="-nostdinc -I$inc" \
			"${MODULE_OPTS[@]}" modules >"$log" 2>&1 ||
			grep -qE 'warning:|error:' "$log"; then
			grep -E 'warning:|error:' "$log" | head -n 20 >&2
			git -C "$G" checkout -q -f vgm
			die "commit $n ($(git -C "$G" log -1 --format=%s "$c")) does not build cleanly: $log"
		fi
		info "commit $n builds: $(git -C "$G" log -1 --format=%s "$c")"
	done
	[ "$n" -gt 0 ] || die "no commits in $G v7.2-debian..vgm: the series was not built"
	git -C "$G" checkout -q -f vgm
	git -C "$G" clean -qfdx drivers/gpu/drm/virtio
}

check_build() {
	# the stock build this compiles against, current (kernel-build.sh skips
	# an unchanged one), and our uapi header in an include dir of its own
	VGM_FLAVOR=base "$TOP/scripts/kernel-build.sh" stock
	local src inc=$CACHE/build/check-include
	src=$("$TOP/scripts/kernel-build.sh" patched-tree)
	module_uapi_include "$src" "$inc"
	step "W=1 and sparse (C=2) over drivers/gpu/drm/virtio of the patched tree"
	# the out-of-tree module build of DIR against the stock build, with
	# our uapi header first; the options follow
	modmake() {
		local dir=$1
		shift
		make -C "$CACHE/build/stock" M="$dir" NOSTDINC_FLAGS="-nostdinc -I$inc" "$@"
	}
	local m=("$src/drivers/gpu/drm/virtio" "${MODULE_OPTS[@]}")
	modmake "${m[@]}" clean >/dev/null
	modmake "${m[@]}" -j"$(nproc)" W=1 C=2 CHECK="$TOP/scripts/sparse-chroot.sh" modules \
		>"$RESULTS/w1-sparse.txt" 2>&1 || die "build failed: $RESULTS/w1-sparse.txt"
	grep -c '^  CHECK' "$RESULTS/w1-sparse.txt" | sed 's/^/    sparse checked files: /' >&2
	grep -q '^  CHECK' "$RESULTS/w1-sparse.txt" || die "sparse did not run (see $RESULTS/w1-sparse.txt)"
	if grep -E 'warning:|error:' "$RESULTS/w1-sparse.txt" >&2; then
		die "W=1/sparse reports above ($RESULTS/w1-sparse.txt)"
	fi
	info "W=1 + sparse: clean"
	# and once without the test hook (CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK
	# off, as production kernels build it: no revoke code), in a copy
	step "W=1 without the test hook (CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK=n)"
	local t
	t=$(mktemp -d)
	cp -a "$src/drivers/gpu/drm/virtio" "$t/"
	modmake "$t/virtio" CONFIG_DRM_VIRTIO_GPU=m clean >/dev/null
	modmake "$t/virtio" CONFIG_DRM_VIRTIO_GPU=m -j"$(nproc)" W=1 modules >"$RESULTS/w1-nohook.txt" 2>&1 ||
		{ rm -rf "$t"; die "build without the test hook failed: $RESULTS/w1-nohook.txt"; }
	rm -rf "$t"
	if grep -E 'warning:|error:' "$RESULTS/w1-nohook.txt" >&2; then
		die "W=1 without the test hook reports above ($RESULTS/w1-nohook.txt)"
	fi
	info "W=1 without the test hook: clean"
}

# The kernel's ARCH, CROSS_COMPILE and config lines of each cross target
# (on top of configs/cross.config). i386 uses the host gcc (-m32).
cross_arch_setup() {
	case $1 in
	arm64)
		arch_setup arm64
		karch=$KARCH cross=$CROSS
		printf '%s\n' CONFIG_64BIT=y CONFIG_PCI_HOST_GENERIC=y
		;;
	riscv64)
		karch=riscv cross=riscv64-linux-gnu-
		printf '%s\n' CONFIG_MMU=y CONFIG_ARCH_RV64I=y CONFIG_64BIT=y CONFIG_PCI_HOST_GENERIC=y
		;;
	i386)
		karch=i386 cross=''
		# 32-bit (ARCH=i386 turns 64BIT off); PAT decides x86 cache modes
		printf '%s\n' CONFIG_X86_32=y CONFIG_MTRR=y CONFIG_X86_PAT=y
		;;
	um)
		# User-mode Linux on x86_64: CONFIG_X86_64 without CONFIG_X86;
		# virtio-gpu through its virtio-PCI emulation
		karch=um cross=''
		printf '%s\n' CONFIG_64BIT=y CONFIG_VIRTIO_UML=y CONFIG_UML_PCI_OVER_VIRTIO=y CONFIG_UML_PCI_OVER_VIRTIO_DEVICE_ID=1234
		;;
	*) die "unknown cross arch '$1'" ;;
	esac
}

# cross_config_ok <builddir>: every CONFIG_ line of vgm.fragment is in .config
# (the last one of an option wins; "# vgm-if CONFIG_X=y" before a line makes
# it required only where CONFIG_X=y). Prints what differs.
cross_config_ok() {
	local b=$1 bad=0 line cond opt
	while IFS=$'\t' read -r line cond; do
		opt=${line%%=*}
		grep -qxF "$line" "$b/.config" && continue
		if [ -n "$cond" ] && ! grep -qxF "$cond" "$b/.config"; then
			continue
		fi
		info "config: asked $line, got: $(grep -E "^(# )?${opt}[= ]" "$b/.config" || echo unset)"
		bad=1
	done < <(awk '/^# vgm-if CONFIG_/ { cond = $3; next }
		/^CONFIG_/ { split($0, kv, "="); last[kv[1]] = $0 "\t" cond; if (!(kv[1] in seen)) order[n++] = kv[1]; seen[kv[1]] = 1 }
		!/^# vgm-if / { cond = "" }
		END { for (i = 0; i < n; i++) print last[order[i]] }' "$b/vgm.fragment")
	return $bad
}

# cross_build <arch> <srctree>: configure (keyed by the fragment's hash, as
# kernel-build.sh does), make prepare, then compile drivers/gpu/drm/virtio/
# from scratch with W=1 (objects only, no vmlinux). Log: $RESULTS/cross-<arch>.txt.
cross_build() {
	local arch=$1 src=$2 karch cross b log frag key
	b=$CACHE/cross/$arch
	log=$RESULTS/cross-$arch.txt
	mkdir -p "$b"
	frag=$CACHE/cross/$arch.fragment
	# (a group, not a subshell: cross_arch_setup also sets karch and cross)
	{
		cat "$TOP/configs/cross.config"
		echo "# $arch"
		cross_arch_setup "$arch"
	} >"$frag"
	local km=(nice -n 19 make -j"${JOBS:-2}" -C "$src" O="$b" ARCH="$karch"
		CC="ccache ${cross}gcc" KBUILD_BUILD_TIMESTAMP=0 KBUILD_BUILD_USER=vgm KBUILD_BUILD_HOST=vgm)
	[ -n "$cross" ] && km+=(CROSS_COMPILE="$cross")
	: >"$log"
	key=$(inputs_hash "$frag")
	if [ ! -f "$b/.config" ] || [ "$(cat "$b/.vgm-config-key" 2>/dev/null)" != "$key" ]; then
		echo "### allnoconfig + $frag" >>"$log"
		cp "$frag" "$b/vgm.fragment"
		"${km[@]}" -s KCONFIG_ALLCONFIG="$b/vgm.fragment" allnoconfig >>"$log" 2>&1 ||
			{ info "$arch: allnoconfig failed"; return 1; }
		cross_config_ok "$b" || { info "$arch: config fragment not applied as written"; return 1; }
		echo "$key" >"$b/.vgm-config-key"
	fi
	# W=1 here too: with other flags the driver step would rebuild
	# prepare's objects (asm-offsets, vdso) on every run
	echo "### make W=1 prepare" >>"$log"
	"${km[@]}" W=1 prepare >>"$log" 2>&1 || { info "$arch: make prepare failed (see $log)"; return 1; }
	# Kconfig of the patched tree may have changed since configuring: check again
	cross_config_ok "$b" || { info "$arch: config lost an option after prepare"; return 1; }
	# every file compiled each time: ccache replays a cached file's warnings
	rm -rf "$b/drivers/gpu/drm/virtio"
	echo "### make W=1 drivers/gpu/drm/virtio/" >>"$log"
	local rc=0
	"${km[@]}" W=1 drivers/gpu/drm/virtio/ >"$b/driver.log" 2>&1 || rc=$?
	cat "$b/driver.log" >>"$log"
	echo "### exit status $rc" >>"$log"
	if grep -E 'warning:|error:' "$log" >&2; then
		info "$arch: warnings/errors above (see $log)"
		return 1
	fi
	[ $rc -eq 0 ] || { info "$arch: the driver build failed (see $log)"; return 1; }
	grep -qE '^  CC .*drivers/gpu/drm/virtio/virtgpu_hostmap\.o$' "$b/driver.log" ||
		{ info "$arch: virtgpu_hostmap.c was not compiled (see $log)"; return 1; }
	return 0
}

check_cross() {
	local arches
	read -ra arches <<<"${VGM_CROSS_ARCHES:-arm64 riscv64 i386 um}"
	need_host_pkgs gcc make flex bison bc libelf-dev libssl-dev ccache \
		gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu
	local src
	src=$("$TOP/scripts/kernel-build.sh" patched-tree) ||
		die "the patched tree could not be prepared (scripts/kernel-build.sh patched-tree)"
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
	export CCACHE_BASEDIR=$CACHE CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=5G
	local a s r failed=() lines=()
	for a in "${arches[@]}"; do
		step "cross-build of drivers/gpu/drm/virtio for $a (W=1)"
		s=$(date +%s)
		if cross_build "$a" "$src"; then r=PASS; else r=FAIL failed+=("$a"); fi
		lines+=("$(printf 'cross %-8s %s %4d s  %s' "$a" "$r" $(($(date +%s) - s)) "$RESULTS/cross-$a.txt")")
	done
	printf '    %s\n' "${lines[@]}" >&2
	[ ${#failed[@]} -eq 0 ] || die "driver cross-build failed for: ${failed[*]}"
	info "cross-builds: clean (${arches[*]})"
}

# A step's result is keyed by its inputs: the kernel-side files of the tree
# (drivers, include, patches, kmod, configs), the scripts, the Makefile, the
# pristine kernel source, the chroot (its sparse) and the host's toolchain.
# A step whose inputs did not change since it passed is not run again: the
# logs of that pass are restored into results/ and the step says so
# (VGM_CHECK_CACHE=0 always runs it). A fresh machine has no such results.
check_key() { # STEP
	{
		echo "$1 ${VGM_CROSS_ARCHES:-}"
		readlink -f "$CACHE/linux-pristine" "$CACHE/chroot"
		toolchain_id
		perl -v | sed -n 2p
		dpkg-query -W binutils binutils-aarch64-linux-gnu binutils-riscv64-linux-gnu libc6-dev 2>/dev/null || true
		dpkg-query --admindir="$CACHE/chroot/var/lib/dpkg" -W sparse 2>/dev/null || true
		(cd "$TOP" && for d in drivers include patches kmod configs scripts Makefile; do
			[ ! -e "$d" ] || find "$d" -type f ! -path '*/__pycache__/*' -print0
		done | sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -c1-16
}

# the logs each step leaves in results/
step_logs() { # STEP
	case $1 in
	patches) echo patches checkpatch.txt checkpatch-kmod.txt bisect-*.txt ;;
	build) echo w1-sparse.txt w1-nohook.txt ;;
	cross) printf 'cross-%s.txt\n' ${VGM_CROSS_ARCHES:-arm64 riscv64 i386 um} ;;
	esac
}

run_step() { # STEP
	local s=$1 key dir tmp f
	key=$(check_key "$s")
	dir=$CACHE/check-results/$s-$key
	mkdir -p "$RESULTS" "$CACHE/check-results"
	rm -f "$RESULTS/check-$s.reused"
	# no log of an earlier run is kept, or stored, with this one's
	(cd "$RESULTS" && for f in $(step_logs "$s"); do rm -rf "$f"; done)
	if [ "${VGM_CHECK_CACHE:-1}" = 1 ] && [ -f "$dir/passed" ]; then
		cp -a "$dir/logs/." "$RESULTS/"
		echo "pass of $(cat "$dir/passed") reused, inputs unchanged" >"$RESULTS/check-$s.reused"
		info "check $s: its inputs are those of a pass at $(cat "$dir/passed") (key $key): not run again, its logs restored into $RESULTS (VGM_CHECK_CACHE=0 runs it)"
		return 0
	fi
	"check_$s"
	# inputs edited while the step ran: its pass is not stored
	[ "$(check_key "$s")" = "$key" ] || { info "check $s: inputs changed while it ran: its pass is not stored"; return 0; }
	tmp=$CACHE/check-results/.tmp-$s-$key-$$
	rm -rf "$tmp" && mkdir -p "$tmp/logs"
	(cd "$RESULTS" && for f in $(step_logs "$s"); do [ ! -e "$f" ] || cp -a "$f" "$tmp/logs/"; done)
	date -u +%Y-%m-%dT%H:%M:%SZ >"$tmp/passed"
	rm -rf "$dir" && mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
}

case $what in
patches | build | cross) run_step "$what" ;;
# (one after another, not with &&: set -e does not stop a function that
# is part of an && list, and a failing step inside it would go unseen)
all)
	run_step patches
	run_step build
	run_step cross
	;;
*) die "usage: check.sh [patches|build|cross|all]" ;;
esac
