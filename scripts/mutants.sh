#!/usr/bin/env bash
# make mutants: tests that can fail. Builds deliberately broken variants of
# our virtio-gpu module (one defect each, defined with the subtests that must
# catch it in scripts/mutants/mutants.py), boots each in a guest that runs
# only those subtests, and prints which mutants the IGT suite killed, and by
# which subtest. Exit status: non-zero if a mutant survived, did not build,
# or the unmutated module (the baseline) failed one of the subtests.
#
#   mutants.sh [NAME...]      all mutants, or these (mutants.py describe)
#
# Each mutant is an exact edit of a copy of the patched tree's
# drivers/gpu/drm/virtio (kernel-build.sh patched-tree; neither that tree
# nor the repository is touched), built like kernel-build.sh builds ours:
# against the stock build directory, into $CACHE/mutants/NAME (modroot and
# the stock bzImage). One copy is reused for every mutant, and only files
# whose content changes are rewritten, so each build recompiles one file.
# The baseline is that copy unmutated, booted once per host mode x window
# with every subtest the mutants of that mode use: a subtest that fails
# there kills nothing.
#
#   VGM_MUTANTS_IGT_TIMEOUT  igt_runner's budget per guest (default 240 s);
#                            the guest gets 120 s more
#   VGM_MUTANTS_BASELINE=0   no baseline guests (faster, less certain)
#   VGM_MUTANTS_BOOT=0       build only (every mutant applies and compiles)
#   VGM_ARCH=arm64           the mutants of the arm64 guest (mutants.py's
#                            arch), against the stock-arm64 kernel
STEP=mutants
. "$(dirname "$0")/common.sh"
export VGM_ARCH=${VGM_ARCH:-x86_64}
arch_setup "$VGM_ARCH"
IGT=$IGT_BIN IMAGE=$(basename "$IMAGE")

MPY=$TOP/scripts/mutants/mutants.py
start=$(date +%s)

# what run.sh builds, only where it is missing (the stock kernel is shared
# with make run: it is never rebuilt here)
[ -f "$CACHE/out/stock$SUF/$IMAGE" ] && [ -f "$CACHE/build/stock$SUF/Module.symvers" ] ||
	"$TOP/scripts/kernel-build.sh" "stock$SUF"
[ -f "$CACHE/chroot/.complete" ] || "$TOP/scripts/host-chroot.sh"
[ -f "$CACHE/chroot/usr/local/lib/mapinfo-shim.so" ] || "$TOP/scripts/host-shim.sh"
ls "$IGT"/virtgpu_map_* >/dev/null 2>&1 || "$TOP/scripts/igt-build.sh" "$VGM_ARCH"

dirty=$(git -C "$TOP" status --short drivers include patches 2>/dev/null || true)
[ -z "$dirty" ] || info "warning: uncommitted driver changes are mutated too:"$'\n'"$dirty"
src=$("$TOP/scripts/kernel-build.sh" patched-tree)
python3 "$MPY" check "$src/drivers/gpu/drm/virtio" "$@" >&2 || die "mutants.py check failed (see above)"

names=("$@")
mapfile -t runs < <(python3 "$MPY" list "${names[@]}")
[ ${#runs[@]} -gt 0 ] || die "no mutants selected"
mutants=()
for r in "${runs[@]}"; do
	n=${r%%$'\t'*}
	[[ " ${mutants[*]} " == *" $n "* ]] || mutants+=("$n")
done

out=$RESULTS/mutants-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
ln -sfn "$out" "$RESULTS/mutants-latest"
tsv=$out/runs.tsv
: >"$tsv"
(cd "$TOP" && git rev-parse HEAD) >"$out/commit" 2>/dev/null || true
[ -z "$dirty" ] || echo "$dirty" >"$out/dirty"

# ------------------------------------------------------------------ build
KR=$(cat "$CACHE/out/stock$SUF/kernelrelease")
B=$CACHE/build/stock$SUF
WORK=$CACHE/mutants/work$SUF
M=$WORK/drivers/gpu/drm/virtio
INC=$CACHE/mutants/include
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_BASEDIR=$CACHE CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=5G
KMAKE=(make -s -j"${JOBS:-$(nproc)}" ARCH=$KARCH CROSS_COMPILE=$CROSS CC="ccache ${CROSS}gcc"
	KBUILD_BUILD_TIMESTAMP=0 KBUILD_BUILD_USER=vgm KBUILD_BUILD_HOST=vgm)

# our uapi header first in the include path, as kernel-build.sh does for ours
module_uapi_include "$src" "$INC"

declare -A built secs
# build NAME: the module with NAME's edits ("baseline": none) into $CACHE/mutants/NAME
build() {
	local name=$1 t0 o d log
	t0=$(date +%s)
	o=$CACHE/mutants/$name$SUF
	log=$out/build-$name.log
	mkdir -p "$M"
	python3 "$MPY" apply "$name" "$src/drivers/gpu/drm/virtio" "$M" >/dev/null 2>"$log" ||
		{ built[$name]="edit failed"; cat "$log" >&2; return; }
	if ! "${KMAKE[@]}" -C "$B" M="$M" W=1 NOSTDINC_FLAGS="-nostdinc -I$INC" \
		"${MODULE_OPTS[@]}" modules >>"$log" 2>&1; then
		built[$name]="compile error (see $log)"
		tail -n 20 "$log" >&2
		return
	fi
	rm -rf "$o" && mkdir -p "$o"
	cp "$CACHE/out/stock$SUF/$IMAGE" "$CACHE/out/stock$SUF/kernelrelease" "$o/"
	cp "$CACHE/out/stock$SUF/arch" "$o/" 2>/dev/null || true
	cp -a "$CACHE/out/stock$SUF/modroot" "$o/modroot"
	d=$o/modroot/lib/modules/$KR/kernel/drivers/gpu/drm/virtio
	mkdir -p "$d"
	cp "$M/virtio-gpu.ko" "$d/"
	depmod -b "$o/modroot" "$KR"
	built[$name]=ok
	secs[$name]=$(($(date +%s) - t0))
	info "built $name ($((${secs[$name]})) s)"
}

step "building ${#mutants[@]} mutants of $src/drivers/gpu/drm/virtio into $CACHE/mutants"
[ "${VGM_MUTANTS_BASELINE:-1}" = 1 ] && build baseline
for n in "${mutants[@]}"; do build "$n"; done

if [ "${VGM_MUTANTS_BOOT:-1}" = 0 ]; then
	bad=0
	for n in "${mutants[@]}"; do
		echo "$n: ${built[$n]}"
		[ "${built[$n]}" = ok ] || bad=1
	done
	exit $bad
fi

# ------------------------------------------------------------------ boot
IGT_T=${VGM_MUTANTS_IGT_TIMEOUT:-240}
# boot NAME MODE WINDOW REGEX CMDLINE DIR: one guest of the module NAME,
# running only the subtests REGEX matches (igt_runner -t)
boot() {
	local name=$1 mode=$2 window=$3 regex=$4 cmdline=$5 d=$6
	[ "$cmdline" = - ] && cmdline=
	mkdir -p "$d/tests"
	cp "$IGT"/* "$d/tests/"
	{
		echo "VGM_KERNEL=mutant-$name VGM_HOST_MAPINFO='$mode' VGM_WINDOW=$window VGM_UPSTREAM=0 VGM_FILTER='$regex' VGM_MESA_BUDGET=0 VGM_IGT_TIMEOUT=$IGT_T"
		cat "$TOP/scripts/guest-job.sh"
	} >"$d/job.in"
	# boot.sh takes a variant of $CACHE/out: the mutant's directory is a sibling
	VGM_TIMEOUT=$((IGT_T + 120)) VGM_CMDLINE="${VGM_CMDLINE:-} $cmdline" \
		"$TOP/scripts/boot.sh" "$d" "../mutants/$name$SUF" "$mode" "$window" "$d/job.in" ||
		echo "boot failed" >"$d/boot.failed"
	rm -f "$d/$IMAGE"
}
# the run's directory: WINDOW/MODE[-PARAMS]
rdir() {
	local m=${2//:/_} c=${3// /_}
	m=${m//,/+}
	[ "$3" = - ] || m=$m-$c
	echo "$1/$m"
}

if [ "${VGM_MUTANTS_BASELINE:-1}" = 1 ] && [ "${built[baseline]}" = ok ]; then
	# one baseline guest per host mode x window x parameters, with every
	# subtest the mutants run there
	declare -A union
	keys=()
	for r in "${runs[@]}"; do
		IFS=$'\t' read -r n mode window regex cmdline <<<"$r"
		k="$mode"$'\t'"$window"$'\t'"$cmdline"
		[ -n "${union[$k]:-}" ] || keys+=("$k")
		case "|${union[$k]:-}|" in *"|$regex|"*) ;; *) union[$k]=${union[$k]:+${union[$k]}|}$regex ;; esac
	done
	step "baseline: the unmutated module, ${#keys[@]} guests"
	for k in "${keys[@]}"; do
		IFS=$'\t' read -r mode window cmdline <<<"$k"
		d=baseline/$(rdir "$window" "$mode" "$cmdline")
		boot baseline "$mode" "$window" "${union[$k]}" "$cmdline" "$out/$d"
		printf 'baseline\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$window" "$cmdline" "$d" "${union[$k]}" >>"$tsv"
	done
fi

i=0
for n in "${mutants[@]}"; do
	i=$((i + 1))
	t0=$(date +%s)
	if [ "${built[$n]}" = ok ]; then
		for r in "${runs[@]}"; do
			IFS=$'\t' read -r rn mode window regex cmdline <<<"$r"
			[ "$rn" = "$n" ] || continue
			extra=
			[ "$cmdline" = - ] || extra=", kernel parameters '$cmdline'"
			step "mutant $i/${#mutants[@]}: $n (host $mode, window $window$extra, -t '$regex')"
			d=$n/$(rdir "$window" "$mode" "$cmdline")
			boot "$n" "$mode" "$window" "$regex" "$cmdline" "$out/$d"
			printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$mode" "$window" "$cmdline" "$d" "$regex" >>"$tsv"
		done
	fi
	printf 'mutant\t%s\t%s\t%s\n' "$n" "${built[$n]}" $((${secs[$n]:-0} + $(date +%s) - t0)) >>"$tsv"
done
printf 'wall\t%s\n' $(($(date +%s) - start)) >>"$tsv"

step "results in $out"
python3 "$MPY" report "$out" | tee "$out/summary.txt"
exit "${PIPESTATUS[0]}"
