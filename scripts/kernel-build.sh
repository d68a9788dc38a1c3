#!/usr/bin/env bash
# Build the guest kernels from the cached pristine tree.
#
#   kernel-build.sh stock    pristine 7.2 (bzImage + modules, virtio-gpu =m):
#                            the baseline, no overlay, no patches
#   kernel-build.sh ours     this repo's overlay + patches/series, virtio-gpu
#                            built as a module against the *same* stock kernel
#   kernel-build.sh builtin  the patched tree with virtio-gpu built in (=y),
#                            proves the built-in variant links
#
#   kernel-build.sh stock-arm64, ours-arm64
#                            the same for an arm64 guest (configs/arm64.config)
#
# Outputs under $CACHE/out/<variant>/: bzImage (arm64: Image), arch,
# modroot/lib/modules/<kver>.
# Builds are incremental (O= build dirs kept, ccache).
STEP=kernel-build
. "$(dirname "$0")/common.sh"

variant=${1:-stock}
# VGM_FLAVOR=debug: the same builds with configs/debug.config on top
# (KASAN, lockdep, DEBUG_VM), as variants stock-debug and ours-debug
FLAVOR=${VGM_FLAVOR:-base}
SUFFIX=
# The guest's architecture: x86_64, or arm64 for the variants stock-arm64
# and ours-arm64 (cross-built with Debian's gcc-aarch64-linux-gnu)
arch_setup x86_64
case $variant in
*-arm64)
	arch_setup arm64
	SUFFIX=$SUF variant=${variant%-arm64}
	need_host_pkgs gcc-aarch64-linux-gnu
	;;
esac
# (ours-debug-arm64: the arm64 suffix first, as run.sh appends it)
case $variant in *-debug) FLAVOR=debug ;; esac
FRAGMENTS=("$TOP/configs/base.config" "$TOP/configs/$KARCH.config")
if [ "$FLAVOR" = debug ]; then
	SUFFIX=$SUFFIX-debug
	FRAGMENTS+=("$TOP/configs/debug.config")
fi
variant=${variant%-debug}
need_host_pkgs gcc make flex bison bc libelf-dev libssl-dev ccache cpio patch rsync kmod
[ -d "$CACHE/linux-pristine/" ] || "$TOP/scripts/kernel-source.sh"
PRISTINE=$(readlink -f "$CACHE/linux-pristine")
JOBS=${JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
# the compiler's paths relative to the build directory, and that directory
# not hashed: builds from one source path share objects (build_builtin)
export CCACHE_BASEDIR=$CACHE CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=5G
KMAKE=(make -s -j"$JOBS" ARCH=$KARCH CROSS_COMPILE=$CROSS CC="ccache ${CROSS}gcc" KBUILD_BUILD_TIMESTAMP=0
	KBUILD_BUILD_USER=vgm KBUILD_BUILD_HOST=vgm)
OUT=$CACHE/out
mkdir -p "$OUT"

# configure <srctree> <builddir> <fragment...>: allnoconfig + fragments, then
# check that every requested option survived.
configure() {
	local src=$1 b=$2
	shift 2
	local key
	key=$(inputs_hash "$@")
	[ -f "$b/.config" ] && [ "$(cat "$b/.vgm-config-key" 2>/dev/null)" = "$key" ] && return 0
	step "configuring $b from $*"
	mkdir -p "$b"
	cat "$@" >"$b/vgm.fragment"
	"${KMAKE[@]}" -C "$src" O="$b" KCONFIG_ALLCONFIG="$b/vgm.fragment" allnoconfig >/dev/null
	local bad=0 line opt
	while read -r line; do
		case $line in CONFIG_*=*) ;; *) continue ;; esac
		opt=${line%%=*}
		if ! grep -qxF "$line" "$b/.config"; then
			info "config: asked $line, got: $(grep -E "^(# )?$opt[= ]" "$b/.config" || echo unset)"
			bad=1
		fi
	done < <(tac "$b/vgm.fragment" | awk -F= '/^CONFIG_/ && !seen[$1]++')
	[ $bad -eq 0 ] || die "config fragment not applied as written (see lines above)"
	echo "$key" >"$b/.vgm-config-key"
}

# The patched tree: hard-linked copy of the pristine tree, our files laid over
# it, patches/series applied. Rebuilt when any input changes, by one run at a
# time: make test, make mutants and check.sh may run side by side, and two
# preparations at once leave a half-patched tree behind a valid key.
patched_tree() {
	local lk rc=0
	exec {lk}>>"$CACHE/linux-patched.lock"
	flock -w 900 "$lk" || die "another run has prepared $CACHE/linux-patched for 15 min"
	prepare_patched_tree || rc=$?
	exec {lk}>&-
	return $rc
}

prepare_patched_tree() {
	local dst=$CACHE/linux-patched key f p
	key=$({ echo "$PRISTINE"; { overlay_files; (cd "$TOP" && find patches -type f | sort); } |
		(cd "$TOP" && xargs sha256sum); } | sha256sum | cut -c1-12)
	if [ "$(cat "$dst/.vgm-key" 2>/dev/null)" = "$key" ]; then
		echo "$dst"
		return
	fi
	step "preparing patched tree $dst (overlay + patches/series)"
	# (no key while the tree changes: a failed patch leaves none)
	rm -f "$dst/.vgm-key"
	if [ ! -d "$dst" ]; then
		cp -al "$PRISTINE" "$dst.tmp" && mv "$dst.tmp" "$dst"
	fi
	# undo the previous overlay/patches: every file we touched back to
	# pristine, as a copy (a new mtime: a hard link would bring back the
	# pristine file's old one, and make would keep objects built from
	# the patched file)
	if [ -f "$dst/.vgm-touched" ]; then
		while read -r f; do
			rm -f "$dst/$f"
			[ ! -e "$PRISTINE/$f" ] || cp "$PRISTINE/$f" "$dst/$f"
		done <"$dst/.vgm-touched"
	fi
	: >"$dst/.vgm-touched"
	# as make patches builds the series: each patch, then the files of ours
	# that patches/overlay gives their content at that commit (a patch may
	# create or change a file of ours before its final content is laid over)
	if [ -f "$TOP/patches/series" ]; then
		series_patches | while read -r p; do
			series_step "$dst" "$p" "$dst/.vgm-touched"
		done
	fi
	# files of ours in no commit (make patches refuses them): laid over last
	overlay_files | while read -r f; do
		cmp -s "$TOP/$f" "$dst/$f" && continue
		mkdir -p "$(dirname "$dst/$f")"
		cp --remove-destination "$TOP/$f" "$dst/$f"
		echo "$f" >>"$dst/.vgm-touched"
	done
	sort -u -o "$dst/.vgm-touched" "$dst/.vgm-touched"
	echo "$key" >"$dst/.vgm-key"
	echo "$dst"
}

# The test-only page-table walker (kmod/vgm_ptewalk.c), built against the
# build directory $1 and installed into the modroot $2 (release $3) as an
# extra module: every kernel of the matrix has it, the IGT suite reads it.
build_kmod() {
	local b=$1 root=$2 kr=$3 src=$CACHE/build/kmod
	rm -rf "$src" && mkdir -p "$src"
	cp "$TOP"/kmod/*.c "$TOP"/kmod/Kbuild "$src/"
	"${KMAKE[@]}" -C "$b" M="$src" W=1 modules >&2 || die "kmod/ failed to build"
	mkdir -p "$root/lib/modules/$kr/extra"
	cp "$src"/*.ko "$root/lib/modules/$kr/extra/"
	depmod -b "$root" "$kr"
}

build_stock() {
	local b=$CACHE/build/stock$SUFFIX
	configure "$PRISTINE" "$b" "${FRAGMENTS[@]}"
	step "building pristine kernel in $b (cold: ~15 min on 2 cores)"
	"${KMAKE[@]}" -C "$PRISTINE" O="$b" "$(basename "$IMAGE")" modules >&2 || die "pristine kernel build failed"
	local o=$OUT/stock$SUFFIX
	rm -rf "$o.new" && mkdir -p "$o.new"
	# boot.sh boots whatever kernel image the variant has, for its arch
	cp "$b/$IMAGE" "$o.new/"
	echo "$KARCH" >"$o.new/arch"
	"${KMAKE[@]}" -C "$PRISTINE" O="$b" INSTALL_MOD_PATH="$o.new/modroot" modules_install >/dev/null
	"${KMAKE[@]}" -C "$PRISTINE" O="$b" kernelrelease >"$o.new/kernelrelease"
	build_kmod "$b" "$o.new/modroot" "$(cat "$o.new/kernelrelease")"
	rm -rf "$o" && mv "$o.new" "$o"
	info "stock$SUFFIX: $o/$(basename "$IMAGE") $(cat "$o/kernelrelease")"
}

build_ours() {
	[ -f "$OUT/stock$SUFFIX/$(basename "$IMAGE")" ] || build_stock
	local b=$CACHE/build/stock$SUFFIX src kr
	src=$(patched_tree)
	kr=$(cat "$OUT/stock$SUFFIX/kernelrelease")
	step "building our virtio-gpu module against the stock kernel $kr"
	# our uapi header (only it) first in the include path, ahead of the stock tree's
	local inc=$CACHE/build/ours-include
	module_uapi_include "$src" "$inc"
	"${KMAKE[@]}" -C "$b" M="$src/drivers/gpu/drm/virtio" W=1 \
		NOSTDINC_FLAGS="-nostdinc -I$inc" "${MODULE_OPTS[@]}" modules >&2 || die "our virtio-gpu module failed to build"
	local o=$OUT/ours$SUFFIX
	rm -rf "$o.new" && mkdir -p "$o.new"
	cp "$OUT/stock$SUFFIX/$(basename "$IMAGE")" "$OUT/stock$SUFFIX/kernelrelease" "$o.new/"
	echo "$KARCH" >"$o.new/arch"
	cp -a "$OUT/stock$SUFFIX/modroot" "$o.new/modroot"
	local d=$o.new/modroot/lib/modules/$kr/kernel/drivers/gpu/drm/virtio
	cp "$src"/drivers/gpu/drm/virtio/*.ko "$src"/drivers/gpu/drm/virtio/tests/*.ko "$d/"
	depmod -b "$o.new/modroot" "$kr"
	rm -rf "$o" && mv "$o.new" "$o"
	info "ours: $(cd "$o/modroot/lib/modules/$kr/kernel/drivers/gpu/drm/virtio" && echo *.ko)"
}

# The patched tree with virtio-gpu built in. It is compiled from the
# pristine tree's path: in a private mount namespace the patched tree (a
# hard-linked copy of the pristine one) is bound over that path, so every
# compiler command line is the one of the stock build, and ccache answers
# for each file whose preprocessed text our patches and the three options
# below leave alone. Cold, after the stock build: minutes instead of the
# 15 of a build from the patched tree's own path. Where no mount
# namespace can be made (not root, a container), it is built from that
# path. build/builtin names the pristine path in its Makefile and .cmd
# files: only this script's namespace builds in it.
build_builtin() {
	local src
	src=$(patched_tree)
	printf 'CONFIG_DRM_VIRTIO_GPU=y\nCONFIG_DRM_VIRTIO_GPU_KUNIT_TEST=y\nCONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK=y\n' >"$CACHE/builtin.fragment"
	[ "$KARCH" = x86_64 ] || die "builtin: x86_64 only (check.sh cross builds the driver in for other architectures)"
	if unshare -m --propagation private mount --bind "$src" "$PRISTINE" 2>/dev/null; then
		unshare -m --propagation private bash -c 'mount --bind "$1" "$2" && exec "$3" builtin-in "$2"' \
			_ "$src" "$PRISTINE" "$0" || die "built-in kernel build failed"
	else
		info "builtin: no mount namespace here: built from $src (no ccache sharing with stock)"
		build_builtin_in "$src"
	fi
}

# build_builtin_in SRCTREE: configure and build the built-in kernel from
# SRCTREE (the pristine path with the patched tree bound over it)
build_builtin_in() {
	local src=$1 b=$CACHE/build/builtin kr
	configure "$src" "$b" "$TOP/configs/base.config" "$TOP/configs/x86_64.config" "$CACHE/builtin.fragment"
	step "building patched kernel with virtio-gpu built in ($b)"
	"${KMAKE[@]}" -C "$src" O="$b" bzImage >&2 || die "built-in kernel build failed"
	kr=$("${KMAKE[@]}" -C "$src" O="$b" kernelrelease)
	rm -rf "$OUT/builtin" && mkdir -p "$OUT/builtin/modroot/lib/modules/$kr"
	cp "$b/arch/x86/boot/bzImage" "$OUT/builtin/"
	echo "$kr" >"$OUT/builtin/kernelrelease"
	info "builtin: $OUT/builtin/bzImage"
}

# A variant whose inputs did not change since it was built is not built
# again: make's own pass over an unchanged kernel tree, modules_install and
# depmod cost 7-12 s, and make test asks for each kernel twice. The key:
# the variant, architecture and flavor, the pristine tree, the config
# fragments, kmod/, this script and common.sh, the host's toolchain, and
# for ours and builtin the patched tree's key (and stock's, which ours is
# built against). VGM_REBUILD=1 builds anyway.
variant_key() { # VARIANT
	{
		echo "$1 $KARCH $SUFFIX $FLAVOR"
		echo "$PRISTINE"
		# (names relative to the tree: clones of it share the key)
		(cd "$TOP" && sha256sum "${FRAGMENTS[@]#"$TOP"/}" kmod/* scripts/kernel-build.sh scripts/common.sh)
		toolchain_id "$CROSS"
		case $1 in
		ours) cat "$CACHE/linux-patched/.vgm-key" "$OUT/stock$SUFFIX/.vgm-key" ;;
		builtin) cat "$CACHE/linux-patched/.vgm-key" ;;
		esac
	} | sha256sum | cut -c1-16
}

# build_VARIANT unless OUT/NAME was built from the same inputs (and the
# stock build directory, which ours and the checks compile against, is
# there). The key goes before the build: a build that fails leaves none,
# so reverting what made it fail builds again.
build_keyed() { # VARIANT NAME
	local key
	key=$(variant_key "$1")
	if [ "${VGM_REBUILD:-0}" != 1 ] && [ "$(cat "$OUT/$2/.vgm-key" 2>/dev/null)" = "$key" ] &&
		[ -f "$CACHE/build/stock$SUFFIX/Module.symvers" ]; then
		info "$2: built from the same inputs (key $key): $OUT/$2"
		return 0
	fi
	rm -f "$OUT/$2/.vgm-key"
	"build_$1"
	echo "$key" >"$OUT/$2/.vgm-key"
}

case $variant in
stock) build_keyed stock "stock$SUFFIX" ;;
ours)
	build_keyed stock "stock$SUFFIX"
	patched_tree >/dev/null
	build_keyed ours "ours$SUFFIX"
	;;
builtin)
	patched_tree >/dev/null
	build_keyed builtin builtin
	;;
patched-tree) patched_tree ;;
# (build_builtin, inside its mount namespace)
builtin-in) build_builtin_in "$2" ;;
*)
	# a kernel built elsewhere and put (or linked) into $OUT/<name>, e.g.
	# an earlier version of the driver for a comparison run
	[ -f "$OUT/$variant$SUFFIX/bzImage" ] || [ -f "$OUT/$variant$SUFFIX/Image" ] || die "no kernel image in $OUT/$variant$SUFFIX"
	[ -d "$OUT/$variant$SUFFIX/modroot" ] ||
		die "unknown variant '$variant' (stock|ours|builtin|patched-tree, or a prebuilt $OUT/<name>)"
	info "$variant$SUFFIX: prebuilt in $OUT/$variant$SUFFIX"
	;;
esac
