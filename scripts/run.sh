#!/usr/bin/env bash
# make run: build what is missing, then boot the stock and our kernel under
# QEMU for every host map_info mode and host-visible window size, run the IGT
# suite (ours + upstream drm_virtgpu) with igt_runner in each, and print the
# result table. Exit status: non-zero if anything failed on our kernel, if a
# guest splatted, or if the suite ran nothing.
#
#   VGM_KERNELS  kernels to run          (default: "stock ours")
#   VGM_CELLS    the cells, FIRMWARE/WINDOW/MODE ... (default: below)
#   VGM_MODES    host map_info modes, in every default window of SeaBIOS
#   VGM_WINDOWS  hostmem window sizes of SeaBIOS (default: "256M 4G 16G")
#   VGM_FIRMWARES firmware to boot       (default: "seabios ovmf")
#   VGM_FULL=1   every mode in every window and firmware, whole suite in each
#   VGM_ARCH=arm64  the arm64 guest's matrix (make run-arm64): firmware
#                "virt" (QEMU's virt machine, direct kernel boot), kernels
#                stock-arm64 and ours-arm64, every mode in a 256M window
#                and the attribute modes in a 4G one. A cell of firmware
#                virt always boots the -arm64 kernels, in any list of cells.
STEP=run
. "$(dirname "$0")/common.sh"

KERNELS=${VGM_KERNELS:-stock ours}
ALL_MODES="passthrough none cached uncached wc undefined raw:0x103 error seq:wc,uncached,none,cached,undefined,raw:0x103,error slow:3000"
# Where the window lands decides what the guest's MTRRs say there, and so
# which attributes PAT can honour: SeaBIOS puts 256M below 4 GiB, in its
# uncachable PCI hole (our kernel moves it above 4 GiB at probe), 4G and
# 16G above 4 GiB, write-back; OVMF puts every window in its 64-bit
# aperture, which it marks uncachable. A window proves something of its own
# only where the attribute meets the MTRRs: passthrough (the host's real
# answer, with the Mesa clients), none, cached, wc. The decoding, refusal
# and remap modes do not depend on the window: SeaBIOS 4G runs them.
modes_for() { # FIRMWARE WINDOW
	case $1/$2 in
	seabios/4G) echo "${VGM_MODES:-$ALL_MODES}" ;;
	seabios/256M) echo "${VGM_MODES:-passthrough none cached wc}" ;;
	ovmf/256M) echo "passthrough none cached wc" ;;
	ovmf/4G) echo "passthrough cached" ;;
	# without PAT a PTE says only WB or UC-: cached and uncached are
	# exact, wc is refused (stock maps it UC- without a word)
	seabios+nopat/4G) echo "cached uncached wc" ;;
	*) echo "passthrough" ;;
	esac
}
FIRMWARES=${VGM_FIRMWARES:-seabios ovmf seabios+nopat}
windows_for() {
	case $1 in
	seabios) echo "${VGM_WINDOWS:-256M 4G 16G}" ;;
	*+*) echo 4G ;;
	*) echo "256M 4G 16G" ;;
	esac
}
# arm64 has no MTRRs: the window's size changes only where it lands (virt's
# high PCIe window either way); 256M runs every mode, 4G the attributes
if [ "${VGM_ARCH:-x86_64}" = arm64 ]; then
	FIRMWARES=virt
	windows_for() { echo "256M 4G"; }
	modes_for() { case $2 in 256M) echo "${VGM_MODES:-$ALL_MODES}" ;; *) echo "${VGM_MODES:-passthrough none cached uncached wc}" ;; esac; }
fi
if [ -n "${VGM_CELLS:-}" ]; then
	CELLS=$VGM_CELLS
elif [ "${VGM_FULL:-0}" = 1 ]; then
	CELLS=$(for f in $FIRMWARES; do for w in 256M 4G 16G; do for m in $ALL_MODES; do echo "$f/$w/$m"; done; done; done)
else
	CELLS=$(for f in $FIRMWARES; do for w in $(windows_for "$f"); do for m in $(modes_for "$f" "$w"); do echo "$f/$w/$m"; done; done; done)
fi
# The cells that run the whole suite, one per class of result: a
# write-back window with wc (where the window-capacity subtests run: a
# small window fills fast) and with cached; the uncachable aperture of
# OVMF with cached (ours refuses, stock aliases) and with none (PAT gives
# it UC-). The operation subtests (lifetime, gup, abuse: fork, mremap,
# revoke ...) take the same driver path in every other cell of a class;
# every cell runs the attribute and data subtests.
FULL_CELLS=${VGM_FULL_CELLS:-seabios/256M/wc seabios/4G/cached ovmf/256M/cached ovmf/256M/none virt/256M/wc virt/256M/uncached}
[ "${VGM_FULL:-0}" = 1 ] && FULL_CELLS=$CELLS
out=$RESULTS/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
ln -sfn "$out" "$RESULTS/latest"

# the kernels a cell boots: virt is the arm64 guest's
kernels_for() { # FIRMWARE
	local k
	for k in $KERNELS; do if [ "$1" = virt ]; then echo "$k-arm64"; else echo "$k"; fi; done
}
ARCHES=$(for c in $CELLS; do case $c in virt/*) echo arm64 ;; *) echo x86_64 ;; esac; done | sort -u)

"$TOP/scripts/kernel-source.sh"
"$TOP/scripts/host-chroot.sh"
"$TOP/scripts/host-shim.sh"
for a in $ARCHES; do
	[ "$a" = arm64 ] && "$TOP/scripts/guest-root.sh" arm64
	for k in $(kernels_for "$([ "$a" = arm64 ] && echo virt)"); do "$TOP/scripts/kernel-build.sh" "$k"; done
	"$TOP/scripts/igt-build.sh" "$a"
done

step "running the matrix: kernels [$KERNELS] ($(echo $ARCHES)) x $(echo $CELLS | wc -w) cells -> $out"
start=$(date +%s)
# One guest (and the baseline's second boot): kernel $1, firmware $2, window
# $3, host modes $4... (several: a guest of one-mode cells, see below).
run_cell() {
	local k=$1 f=$2 w=$3 m=$4 d up filter t attempts a phases= shim mm
	shift 3
	d=$out/$k/$f/$w/${m//:/_}
	# several modes: one boot, the suite once per mode (guest-job.sh's
	# VGM_PHASES), in a directory of its own; each cell's directory
	# gets its phase's files and the guest's (split_guest)
	[ $# -gt 1 ] && phases="$*" && d=$out/.guests/$k/$f/$w/$(echo "${*//:/_}" | sed 's/@full//g' | tr ' ' +)
	shim=${phases:+phases}
	mkdir -p "$d/tests"
	if [ "$f" = virt ]; then cp "$CACHE"/igt-arm64/bin/* "$d/tests/"; else cp "$CACHE"/igt/bin/* "$d/tests/"; fi
	# The operation subtests (lifetime, gup, abuse: fork, mremap, revoke,
	# window capacity ...) take the same driver path for every attribute;
	# their results differ only between classes of cells, so they run in
	# one cell per class (see FULL_CELLS). Every cell runs the attribute
	# and data subtests.
	[ -n "$phases" ] || full "$f/$w/$m" || case $m in
	seq:* | slow:*) ;;
	*) rm -f "$d"/tests/virtgpu_map_{lifetime,gup,abuse} ;;
	esac
	# (a guest of several: MODE@full runs them, guest-job.sh)
	up=0 upigt=0 filter=
	[ "$m" = passthrough ] && up=1
	# upstream drm_virtgpu (about 50 s) does not depend on the window or
	# the firmware: one passthrough cell runs it
	[ "$f/$w/$m" = "${VGM_UPSTREAM_CELL:-seabios/4G/passthrough}" ] && upigt=1
	# a host whose answer changes at every MAP_BLOB only makes sense
	# for the subtest that remaps and checks each answer in turn
	case $m in seq:*) filter='hook-remap-answers|remap-mprotect' ;; esac
	# a host that answers MAP_BLOB late is there for the killed waiters
	# and the pending query (igt_runner -t takes a regex, matched
	# anywhere in igt@binary@subtest)
	case $m in slow:*) filter='killed-waiter|query-pending' ;; esac
	# and, last, device-remove: the GPU goes while a MAP_BLOB is in flight
	# (the stock driver leaks that command and the objects of commands
	# queued after the removal: kmem_cache_destroy and drm_mm_takedown
	# warn at the last close); VGM_DEVICE_REMOVE=0 leaves it out
	[ "${VGM_DEVICE_REMOVE:-1}" = 1 ] && case $m in slow:*) filter="$filter|device-remove" ;; esac
	{
		echo "VGM_KERNEL=$k VGM_HOST_MAPINFO='${shim:-$m}' VGM_PHASES='$phases' VGM_WINDOW=$w VGM_UPSTREAM=$up VGM_UPSTREAM_IGT=$upigt VGM_FILTER='$filter' VGM_MESA_BUDGET=${VGM_MESA_BUDGET:-300} VGM_VKMARK=${VGM_VKMARK:-1} VGM_IGT_TIMEOUT=${VGM_IGT_TIMEOUT:-600}"
		cat "$TOP/scripts/guest-job.sh"
	} >"$d/job.in"
	# the guest's budget: boot, KUnit and probe, igt_runner's
	# --overall-timeout (once per mode), and the Mesa clients' budget
	t=$((300 + $# * ${VGM_IGT_TIMEOUT:-600} + up * ${VGM_MESA_BUDGET:-300}))
	# The baseline kernel gets a second boot when its guest did not
	# finish (its hang or a flaky host are not what this project
	# gates on); the first attempt's logs stay in attempt1/ and
	# the report names the step it stopped in. Our kernel gets none.
	attempts=1
	[ "${k#stock}" != "$k" ] && [ "${VGM_RETRY_STOCK:-1}" = 1 ] && attempts=2
	for a in $(seq "$attempts"); do
		if [ "$a" = 2 ]; then
			mkdir -p "$d/attempt1"
			mv "$d"/*.log "$d"/*.txt "$d"/*.json "$d/boot.error" "$d"/phase-* "$d/host-phase" "$d/attempt1/" 2>/dev/null || true
			info "note: $k/$f/$w/${*}: the guest did not finish; booting it once more (logs of the first attempt in $d/attempt1)"
		fi
		VGM_FIRMWARE=$f VGM_TIMEOUT=${VGM_TIMEOUT:-$t} "$TOP/scripts/boot.sh" "$d" "$k" "${shim:-$m}" "$w" "$d/job.in" && break
		[ "$a" = "$attempts" ] && echo "boot failed" >"$d/boot.failed"
	done
	[ -z "$phases" ] || for mm in $phases; do
		mm=${mm%@full}
		split_guest "$d" "$out/$k/$f/$w/${mm//:/_}" "$mm" "$phases"
	done
	return 0
}

# A cell of a guest that ran several: its phase's files (results, probe,
# the host's answers), the guest's own (console, dmesg, KUnit, job.rc ...),
# hard links both, and guest.txt naming the guest.
split_guest() { # GUESTDIR CELLDIR MODE "MODE..."
	local g=$1 c=$2 p=$1/phase-${3//:/_} f
	mkdir -p "$c"
	for f in "$g"/*; do
		if [ -f "$f" ]; then ln -f "$f" "$c/"; fi
	done
	if [ -d "$g/attempt1" ]; then cp -al "$g/attempt1" "$c/attempt1"; fi
	if [ -d "$p" ]; then
		for f in "$p"/*; do
			if [ -e "$f" ]; then ln -f "$f" "$c/"; fi
		done
	fi
	echo "this cell's mode ran in one guest with the modes [$4], in this order: ${g#"$out"/}" >"$c/guest.txt"
}

# One-mode cells without the Mesa clients, a filter or upstream drm_virtgpu
# differ only in the host's answer and in whether they run the operation
# subtests (FULL_CELLS): the cells of a kernel, firmware and window share
# one guest, the suite run once per mode (VGM_PHASES; MODE@full runs the
# operation subtests too). VGM_GROUP=0: a guest each. A boot, KUnit and
# the copies cost about 7 s of a guest's time under TCG; the phases of a
# guest cost what their cells did.
groupable() { # FIRMWARE/WINDOW/MODE
	case ${1##*/} in passthrough | seq:* | slow:*) return 1 ;; esac
	[ "$1" != "${VGM_UPSTREAM_CELL:-seabios/4G/passthrough}" ] || return 1
	[ "${VGM_GROUP:-1}" = 1 ]
}
full() { case " $(echo $FULL_CELLS) " in *" $1 "*) return 0 ;; esac; return 1; }
# The guests, longest first (a guest's weight: Mesa clients, whole suite,
# arm64, the modes it runs), so that two at a time end together: a line
# "WEIGHT FIRMWARE/WINDOW MODE..." each, in the cells' order where equal.
guests() {
	local c f w m n fw
	declare -A group=()
	local order=()
	for c in $CELLS; do
		f=${c%%/*} w=${c#*/} m=${w#*/} w=${w%%/*}
		fw=$f/$w
		if groupable "$c"; then
			[ -n "${group[$fw]:-}" ] || order+=("$fw")
			if full "$c"; then m=$m@full; fi
			group[$fw]="${group[$fw]:-} $m"
			continue
		fi
		weight "$c"
	done
	for fw in "${order[@]}"; do
		# the whole-suite phases first: the operation subtests (window
		# capacity among them) meet a kernel no other phase has used
		set -- $(for m in ${group[$fw]}; do case $m in *@full) echo "$m" ;; esac; done) \
			$(for m in ${group[$fw]}; do case $m in *@full) ;; *) echo "$m" ;; esac; done)
		if [ $# = 1 ]; then weight "$fw/${1%@full}" && continue; fi
		n=$((5 + 6 * $# + 15 * $(echo "$*" | grep -o @full | wc -l)))
		[ "${fw%%/*}" = virt ] && n=$((n * 2))
		echo "$n $fw $*"
	done
}
weight() { # FIRMWARE/WINDOW/MODE: a guest of its own
	local f=${1%%/*} m=${1##*/} n=10
	[ "$m" = passthrough ] && n=$((n + 40))
	if full "$1"; then n=$((n + 15)); fi
	case $m in slow:*) n=$((n + 15)) ;; esac
	[ "$f" = virt ] && n=$((n * 2))
	echo "$n ${1%/*} $m"
}

# VGM_PARALLEL guests at a time (default 2: the kernels of one cell side by
# side, as the machine's 2 cores allow; 1 runs them one after another).
PARALLEL=${VGM_PARALLEL:-2}
# (a variable, not a process substitution: the pipeline's status, that of
# sort and of guests() as a whole, stops the run; errexit does not reach
# inside guests() there)
plan=$(guests | sort -s -k1,1nr)
[ -n "$plan" ] || die "no cells to run (VGM_CELLS='${VGM_CELLS:-}')"
while read -r n fw modes; do
	f=${fw%%/*} w=${fw#*/}
	for k in $(kernels_for "$f"); do
		while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
		# shellcheck disable=SC2086
		run_cell "$k" "$f" "$w" $modes &
	done
done <<<"$plan"
wait
info "matrix took $(($(date +%s) - start)) s"
python3 "$TOP/scripts/report.py" "$out"
