# virtgpu-mapinfo: one entry point. See README.md.
SHELL := /bin/bash
S := scripts

.PHONY: all run run-arm64 test kernel host igt patches check bench debug mutants clean help
all: run

help:
	@echo "make run      build what is missing, boot stock + our kernel per host mode, run the IGT suite, print the table"
	@echo "make run-arm64  the same matrix in an arm64 guest (QEMU virt, Debian arm64 userspace)"
	@echo "make test     every check (builds, checkpatch, W=1/sparse, KUnit, IGT matrix); ends with 'N passed, N failed'"
	@echo "make kernel   pristine 7.2 kernel + our virtio-gpu module (and the built-in variant)"
	@echo "make host     the Debian unstable chroot (QEMU, virglrenderer, Mesa, IGT) and the map_info shim"
	@echo "make patches  git format-patch series against 7.2 in results/patches"
	@echo "make check    checkpatch --strict, W=1 + sparse, W=1 cross-builds of the driver (arm64, riscv64, i386, um)"
	@echo "make mutants  build deliberately broken variants of our module, one guest each: which IGT subtest kills each"
	@echo "make clean    remove results/ (caches stay in \$$VGM_CACHE, default /var/cache/virtgpu-mapinfo)"

run:
	$(S)/run.sh

run-arm64:
	VGM_ARCH=arm64 $(S)/run.sh

test:
	$(S)/test.sh

kernel:
	$(S)/kernel-build.sh stock && $(S)/kernel-build.sh ours && $(S)/kernel-build.sh builtin

host:
	$(S)/host-chroot.sh && $(S)/host-shim.sh

igt:
	$(S)/igt-build.sh

patches:
	$(S)/mkpatches.sh

check:
	$(S)/check.sh all

clean:
	rm -rf results
	$(MAKE) -C igt-tests clean

bench:
	$(S)/bench.sh

# tests that can fail: one defect per mutant (scripts/mutants/mutants.py),
# killed or survived, by which subtest; MUTANTS="name ..." picks some
mutants:
	$(S)/mutants.sh $(MUTANTS)

# The suite on a debug kernel (KASAN, lockdep, DEBUG_VM, DEBUG_ATOMIC_SLEEP):
# a separate target: two more kernel builds (12 min) and guests several times
# slower under TCG (the Mesa clients alone took 6 min) do not fit CI's budget.
debug:
	VGM_KERNELS="stock-debug ours-debug" VGM_MODES="wc undefined error slow:3000" VGM_IGT_TIMEOUT=1500 \
		VGM_WINDOWS="4G" $(S)/run.sh
