// SPDX-License-Identifier: MIT
/*
 * virtgpu_map_lifetime: guest mappings of host-visible virtio-gpu blobs
 * across the life of the blob, the process and the host mapping.
 */

/**
 * TEST: virtgpu map lifetime
 * Category: Core
 * Mega feature: General Core features
 * Sub-category: Memory management
 * Functionality: virtio-gpu host-visible blob mappings
 * Test category: functionality test
 * Description: A mapping of a host-visible blob outlives its GEM handle and
 *		its DRM file, is inherited by fork(), is reachable by ptrace and
 *		/proc/pid/mem, cannot grow, survives madvise and mremap moves,
 *		and after the host unmapped the blob faults with SIGBUS instead
 *		of showing stale memory, until the blob is mapped again. The
 *		host unmap/remap uses the debugfs hook dri/N/virtio-gpu-hostmap.
 *		Subtests skip on runs where the guest refuses to map the blob.
 *
 * SUBTEST: close-handle
 * Description: The GEM handle is closed while the blob is mapped, before
 *		any page was touched: the mapping faults in and keeps the data;
 *		after munmap the blob is freed (its PAT reservation is gone).
 *
 * SUBTEST: close-fd
 * Description: A blob of 2.25 MiB is mapped through its dma-buf (placed
 *		off PMD alignment: 4 KiB faults only), one page touched; then
 *		the DRM file, the GEM handle and the dma-buf's fd are closed,
 *		so that only the dma-buf the mapping holds owns the blob. The
 *		blob stays listed in debugfs as mapped, the untouched pages
 *		are not in the page tables (on kernels that map at fault
 *		time), and their first faults show the blob's data, with the
 *		cache mode of before and the host's, and PAT's reservation
 *		still there; once the mapping goes, the reservation goes.
 *
 * SUBTEST: fork
 * Description: In a 2.25 MiB mapping placed off PMD alignment, the parent
 *		touches one page; the pages from 256 KiB on are not in the page
 *		tables, in the parent or in the child after fork() (kernels
 *		that map at fault time). The child's first faults read the
 *		parent's data with the parent's cache mode, and the pages it
 *		writes are, after it exited, first faults of the parent that
 *		read what it wrote.
 *
 * SUBTEST: ptrace
 * Description: PTRACE_PEEKDATA/POKEDATA and /proc/pid/mem read and write a
 *		stopped child's mapping of the blob (the .access path, GUP
 *		cannot pin PFN mappings), and the writes land in the blob;
 *		/proc/self/mem does the same for the process itself.
 *
 * SUBTEST: mremap
 * Description: A 2.25 MiB mapping placed off PMD alignment, one page
 *		touched, is moved to another such place: the untouched pages
 *		are not in the page tables before or after the move (kernels
 *		that map at fault time), their first faults at the new address
 *		show the blob's pages in order with the cache mode of before;
 *		shrinking it keeps the data.
 *
 * SUBTEST: mremap-grow
 * Description: Growing the mapping is refused (EFAULT: VM_DONTEXPAND,
 *		VM_PFNMAP) and the data stays. Enforced by DRM core/core mm,
 *		not driver proof.
 *
 * SUBTEST: madvise-dontneed
 * Description: MADV_DONTNEED on the mapping fails with EINVAL (a PFN
 *		mapping has no pages to drop) and the data stays. Enforced by
 *		DRM core/core mm, not driver proof.
 *
 * SUBTEST: split-vma
 * Description: A page is unmapped 800 KiB into a 2.25 MiB mapping placed
 *		off PMD alignment, of which one page was touched: the two
 *		mappings left have no page table entries beyond that page's
 *		fault (kernels that map at fault time), the fault of the page
 *		before the hole maps nothing in it, and the first faults of
 *		either mapping show the blob's pages at their offsets, with the
 *		cache mode of before.
 *
 * SUBTEST: mprotect
 * Description: A read-only mprotect of a mapping with PMD and PTE entries
 *		keeps its cache mode, faults writes with SIGSEGV and still
 *		reads; making it writable again keeps the cache mode too.
 *
 * SUBTEST: syscall-io
 * Description: The kernel reads and writes an untouched 2.25 MiB mapping
 *		placed off PMD alignment, none of whose pages is in the page
 *		tables (kernels that map at fault time), for system calls
 *		(write() from it into a pipe, read() from a pipe into it),
 *		faulting pages in from kernel mode: with the blob's bytes and
 *		the host's cache mode, and what read() stored is what another
 *		mapping of the blob reads.
 *
 * SUBTEST: hook-unmap
 * Description: After the host unmapped the blob, every touch of its DRM
 *		and dma-buf mappings raises SIGBUS (never old data), system
 *		calls that access it fail with EFAULT, RESOURCE_INFO reports
 *		REFUSED, a new mmap fails with ENODEV and the PAT reservation
 *		is released.
 *
 * SUBTEST: hook-remap
 * Description: After the host unmapped and mapped the blob again, the
 *		mapping faults in again, with the attribute of the new answer
 *		(PTE cache mode and RESOURCE_INFO), also after an unmap that
 *		raised SIGBUS; with the same answer, /proc/self/mem reads the
 *		blob before anything else touched it.
 *
 * SUBTEST: remap-race
 * Description: Four processes have the host unmap and map one mapped blob
 *		again at the same time (25 remaps each through the debugfs
 *		hook), while a fifth keeps the control queue full (empty
 *		EXECBUFFERs), so that a remap waits for ring space between
 *		its UNMAP_BLOB and its MAP_BLOB. Every remap that succeeds sends exactly one
 *		RESOURCE_MAP_BLOB, and only after the host's UNMAP: the host's
 *		answers file holds one answer per remap plus the first (a
 *		second MAP_BLOB in flight is refused by QEMU before the host
 *		answers it, "resource already mapped"), none of them an error,
 *		and the blob then maps and keeps what is written.
 *
 * SUBTEST: hook-remap-answers
 * Description: On a run whose host answers differently every time
 *		(VGM_HOST_MAPINFO=seq:..., the shim's sequence mode), round r
 *		(the r-th remap) is checked against the r-th answer the host
 *		gave for the blob, read from the host's answers file (which
 *		must be element (answer index mod n) of the sequence): a new
 *		mmap and RESOURCE_INFO apply that answer, its map_info and
 *		attribute in the PTEs, or the errno of the refusal it requires,
 *		and map_info 0 when the host failed. The first mapping, kept,
 *		maps with the same type and bytes as a new one, or faults with
 *		SIGBUS where the answer has another memory type than the one
 *		it was made under (or the blob is refused).
 *
 * SUBTEST: remap-mprotect
 * Description: On a run whose host answers differently every time
 *		(VGM_HOST_MAPINFO=seq:...), a blob is mapped under one answer
 *		(the first that maps with a memory type of its own: cached,
 *		uncached or wc), every page touched, and remapped through the
 *		debugfs hook until the host's answer (read from its answers
 *		file) requires another memory type on this architecture. The
 *		old mapping is touched again, then made read-only and writable
 *		again with mprotect(): after each, a touch either faults with
 *		SIGBUS (the mapping was made under another memory type: the
 *		driver refuses it, userspace maps again) or maps, and every
 *		entry present has the current answer's memory type, never the
 *		one of the answer at mmap() time; a new mapping gets the new
 *		type. arm64's pte_modify() takes the memory type of the entries
 *		from the VMA's vm_page_prot, which the driver set at mmap(): a
 *		driver that maps the old VMA with the new type fails there
 *		after mprotect(). x86's pte_modify() keeps the PTEs' cache
 *		bits: there it passes on such a driver too. Skips on other
 *		runs, and where the sequence never changes the memory type (on
 *		arm64 uncached and wc are both Normal-NC).
 *
 * SUBTEST: killed-waiter
 * Description: On a run whose host answers RESOURCE_MAP_BLOB late
 *		(VGM_HOST_MAPINFO=slow:MS, the shim's slow mode), a process
 *		sleeping in mmap() for the answer is killed with SIGKILL and
 *		reaped while the host still holds the answer (sooner than MS
 *		after the MAP_BLOB went out, which is when the host answers at
 *		the earliest). Once the answer came, the blob maps, with the
 *		answer's cache mode in the PTEs, keeps data, and the device
 *		still completes a transfer; dmesg stays clean (a kill is no
 *		error). The stock driver waits uninterruptibly there, so its
 *		waiter dies only after the answer and the subtest fails on it.
 *
 * SUBTEST: killed-waiter-syscall
 * Description: On a run whose host answers RESOURCE_MAP_BLOB late
 *		(VGM_HOST_MAPINFO=slow:MS), a mapped and touched blob is
 *		remapped through the debugfs hook, and a child faults on it
 *		from kernel mode, in write(pipe, mapping, 4096): the fault
 *		waits for the new answer. Killed with SIGKILL some 300 ms
 *		later, the child is reaped within MS/2 of the kill, before the
 *		host answers (a fault that waits releases mmap_lock, waits
 *		killably and is retried: a kernel-mode access of a killed task
 *		then fails instead of faulting again and again until the
 *		answer). Afterwards the mapping faults in again and keeps
 *		data, and the device still completes a transfer.
 *
 * SUBTEST: killed-waiter-fault
 * Description: The same with a child that faults on the remapped blob
 *		from user mode (a load from the mapping).
 *
 * SUBTEST: proc-mem-readonly
 * Description: A read-only (PROT_READ, MAP_SHARED) mapping of the DRM file
 *		cannot be written through /proc/self/mem (the .access path
 *		that ptrace uses too): pwrite fails with EIO and the blob keeps
 *		its bytes. Reads through /proc/self/mem return the blob's bytes
 *		(on a kernel without VIRTGPU_PARAM_MAP_CACHING, which has no
 *		.access for these mappings, EIO is accepted) and stop at the
 *		end of the mapping, also where the blob goes on beyond it.
 *
 * SUBTEST: debugfs-mm-vs-unmap
 * Description: Two children, one on each of the first two CPUs (one child
 *		on a guest of one CPU), read debugfs
 *		dri/N/virtio-gpu-host-visible-mm, the dump of the window's
 *		allocator, in a loop for 6 s, while the parent, on the first
 *		child's CPU, creates host-visible blobs and closes them (4
 *		alive at a time): creations insert allocator nodes, and the
 *		callbacks of the host's answers to RESOURCE_UNREF remove
 *		them, while the dump is printed. The readers must finish
 *		every read (and the runner's kernel log check pass). A dump
 *		printed without host_visible_lock walks freed list entries:
 *		a general protection fault in drm_mm_print(), which panics
 *		the guest (it boots with oops=panic), so the run reports the
 *		guest as crashed; on a kernel that survives it a reader is
 *		killed or the log has the splat. It runs where the host
 *		answers at once with one answer (a slow host would hold QEMU
 *		for every blob). Kernels without debugfs
 *		virtio-gpu-host-visible-blobs (the upstream driver, which
 *		prints the dump unlocked) skip it: there it would crash the
 *		guest. The mutant debugfs-mm-unlocked (make mutants) shows
 *		it failing.
 *
 * SUBTEST: device-remove
 * Description: On a run whose host answers RESOURCE_MAP_BLOB late
 *		(VGM_HOST_MAPINFO=slow:MS), the GPU is removed from the guest
 *		(sysfs remove of its PCI device) while a mapped and touched
 *		blob has PTEs and a child sleeps in mmap() of a new blob whose
 *		answer the host still holds. The child's mmap() fails (ENODEV;
 *		any error is accepted) within MS/2 of the removal, before the
 *		host answers, and touching the mapped blob afterwards raises
 *		SIGBUS (no PFN of a removed device is inserted), through the
 *		DRM file and through a dma-buf of it alike (both share the
 *		device's address space, which the removal zaps). A command
 *		submitted with an out-fence (EXECBUFFER, FENCE_FD_OUT) behind
 *		the held MAP_BLOB: within 2 s of the removal its sync_file is
 *		signalled, with an error (status < 0) unless the host answered
 *		the command before its reset, as QEMU's fence trace in the run
 *		directory's qemu.log tells (virtio_gpu_fence_ctrl and
 *		virtio_gpu_fence_resp, enabled by boot.sh in slow runs). A
 *		fence never signalled, or signalled as if a command the host
 *		never answered had run, fails. It skips
 *		on every other run, and must stay the last subtest of the last
 *		binary of the suite: the device stays removed.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sync_file.h>

#include "igt_harness.h"
#include "virtgpu_map_lib.h"

IGT_TEST_DESCRIPTION("Mappings of host-visible virtio-gpu blobs across the life of handles, files, processes and the host mapping.");

#define SIZE (64 * VGM_KIB)

static void test_close_handle(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint64_t phys = 0;
	bool have_phys;
	uint8_t *p;
	int left;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	have_phys = vgm_blob_try_phys(&b, &phys);

	vgm_gem_close(c.fd, b.handle);
	/* first faults after the handle is gone */
	vgm_write_stamps(p, SIZE, 11);
	vgm_assert_stamps(p, SIZE, 11, "after GEM_CLOSE");
	vgm_assert_ptes(p, SIZE, "mapping after GEM_CLOSE");
	vgm_unmap(p, SIZE);

	if (have_phys) {
		left = vgm_pat_count_settled(phys, SIZE, 5000);
		igt_assert_f(left <= 0,
			     "%d PAT reservations of the freed blob's range [0x%" PRIx64 "+0x%" PRIx64 "] remain 5 s after its last mapping went\n",
			     left, phys, (uint64_t)SIZE);
	}
	vgm_ctx_close(&c);
}

/*
 * Blobs of the subtests that need first faults after an operation: mapped
 * skewed (vgm_map_fresh()) so that no fault maps a PMD, and large enough
 * that more than 2 MiB of them lies past the page table of page 0, which
 * a fault of page 0 may fill (vgm_fault_reach()).
 */
#define BIG (4 * VGM_MIB + 256 * VGM_KIB)
#define BIG_PAGES (BIG / VGM_PAGE)

/* pages [first, first + n) of the blob, as mapped at p */
static void assert_blob_pages(const uint8_t *p, uint64_t first, uint64_t n,
			      uint32_t seed, const char *what)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		igt_assert_f(*(const volatile uint32_t *)(p + i * VGM_PAGE) == vgm_stamp(seed, first + i),
			     "%s: page %" PRIu64 " of the blob shows another page\n", what, first + i);
}

/* the cache mode of a mapping after an operation: as before it, and the host's */
static void assert_cache_kept(const struct vgm_expect *e, int cache, int before, const char *what)
{
	igt_assert_f(cache == before, "%s: the pages are %s, the ones mapped before were %s\n",
		     what, vgm_cache_name(cache), vgm_cache_name(before));
	if (e->cache != VGM_CACHE_ANY)
		igt_assert_f(cache == e->cache, "%s: host-%s memory (map_info 0x%x) is mapped %s, expected %s\n",
			     what, vgm_attr_name(e->attr), e->map_info, vgm_cache_name(cache),
			     vgm_cache_name(e->cache));
}

/*
 * Only a dma-buf mapping can outlive the DRM file: a mapping of the DRM
 * file holds that file (and so every handle) until it goes. Here the VMA
 * holds the dma-buf's file, and nothing else holds the blob once the DRM
 * file, the handle and the dma-buf's fd are closed.
 */
static void test_close_fd(void)
{
	struct vgm_hv_blob *list;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint64_t phys = 0;
	bool have_phys;
	int cache0, cache, fd, n, i, sig, left;
	uint32_t v = 0;
	uint64_t far;
	uint8_t *p;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, BIG, &b);
	/* stamps through the DRM file, then an untouched dma-buf mapping whose fd is closed at once */
	p = vgm_map_fresh(&c, &b, VGM_VIA_DMABUF, 12, &e);
	have_phys = vgm_blob_try_phys(&b, &phys);
	/* one fault before the close */
	assert_blob_pages(p, 0, 1, 12, "dma-buf mapping before the close");
	cache0 = vgm_assert_ptes(p, VGM_PAGE, "dma-buf mapping before the close");

	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
	/* what the driver frees late (from a work item, on the host's answer) has time to go */
	usleep(200 * 1000);

	/* the blob keeps its place in the window, mapped */
	fd = vgm_open_render();
	if (vgm_blob_list(fd, &list, &n) == 0) {
		for (i = 0; i < n && list[i].res != b.res; i++)
			;
		igt_assert_f(i < n,
			     "resource %u left debugfs %s once its DRM file, handle and dma-buf fd were closed, while a mapping of its dma-buf remains\n",
			     b.res, VGM_BLOBS_DEBUGFS);
		igt_assert_f(!strcmp(list[i].state, "mapped"),
			     "resource %u is in state %s once its DRM file, handle and dma-buf fd were closed, while a mapping of its dma-buf remains; expected mapped\n",
			     b.res, list[i].state);
		free(list);
	}
	close(fd);

	/* first faults after the close: the blob's data, with the attribute of before */
	far = vgm_fault_reach(p);
	vgm_assert_unfaulted(&c, p + far * VGM_PAGE, BIG - far * VGM_PAGE,
			     "dma-buf mapping after the close");
	vgm_sigbus_install();
	sig = vgm_probe_read(p + BIG - VGM_PAGE, &v);
	vgm_sigbus_restore();
	igt_assert_f(!sig,
		     "a first fault of the dma-buf mapping after the DRM file, the handle and the dma-buf fd were closed raised %s: the dma-buf still owns the blob\n",
		     strsignal(sig));
	assert_blob_pages(p, 0, BIG_PAGES, 12, "first faults after the DRM file, handle and dma-buf fd were closed");
	vgm_write_stamps(p, BIG, 13);
	vgm_assert_stamps(p, BIG, 13, "written after the close");
	cache = vgm_assert_ptes(p, BIG, "dma-buf mapping after the close");
	assert_cache_kept(&e, cache, cache0, "dma-buf mapping after the close");
	if (have_phys)
		vgm_assert_pat(phys, BIG, cache, "the blob's PAT reservation after the close");
	vgm_unmap(p, BIG);

	/* the last mapping went: so does the blob */
	if (have_phys) {
		left = vgm_pat_count_settled(phys, BIG, 5000);
		igt_assert_f(left <= 0,
			     "%d PAT reservations of the blob's range [0x%" PRIx64 "+0x%" PRIx64 "] remain 5 s after its last mapping, the dma-buf's, went\n",
			     left, phys, (uint64_t)BIG);
	}
}

/*
 * fork() copies the page tables of PFN mappings: the pages the parent
 * touched are there in the child, the others fault in the child, in its own
 * page tables; the child's faults do not map anything in the parent's.
 */
static void test_fork(void)
{
	const uint64_t un = 96, wn = 96;
	uint64_t far, u0, w0;	/* read, written first by the child */
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p;
	int cache0, cache;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, BIG, &b);
	p = vgm_map_fresh(&c, &b, VGM_VIA_DRM, 14, &e);
	far = vgm_fault_reach(p);
	u0 = far;
	w0 = far + 192;
	/* the parent faults in the first page (and the rest of its page table) only */
	assert_blob_pages(p, 0, 1, 14, "parent before fork");
	cache0 = vgm_assert_ptes(p, VGM_PAGE, "parent before fork");
	vgm_assert_unfaulted(&c, p + far * VGM_PAGE, BIG - far * VGM_PAGE, "parent before fork");

	igt_fork(child, 1) {
		vgm_assert_unfaulted(&c, p + far * VGM_PAGE, BIG - far * VGM_PAGE,
				     "child right after fork");
		assert_blob_pages(p, 0, 1, 14, "child reads the page the parent touched");
		assert_blob_pages(p + u0 * VGM_PAGE, u0, un, 14, "child's first faults");
		igt_assert_f(vgm_assert_ptes(p + u0 * VGM_PAGE, un * VGM_PAGE, "child's first faults") == cache0,
			     "the child's faults map another cache mode than the parent's\n");
		vgm_write_stamps(p + w0 * VGM_PAGE, wn * VGM_PAGE, 15);
		vgm_assert_stamps(p + w0 * VGM_PAGE, wn * VGM_PAGE, 15, "child reads what it wrote");
	}
	igt_waitchildren();

	/* the child is gone (its VMA closed): the parent's first faults still work */
	vgm_assert_unfaulted(&c, p + far * VGM_PAGE, BIG - far * VGM_PAGE,
			     "parent after the child faulted and exited");
	vgm_assert_stamps(p + w0 * VGM_PAGE, wn * VGM_PAGE, 15, "parent's first faults read what the child wrote");
	assert_blob_pages(p + u0 * VGM_PAGE, u0, un, 14, "parent's first faults of the pages the child read");
	cache = vgm_assert_ptes(p + w0 * VGM_PAGE, wn * VGM_PAGE, "parent after the child");
	assert_cache_kept(&e, cache, cache0, "parent after the child");
	vgm_unmap(p, BIG);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_ptrace(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t buf[VGM_PAGE], *p;
	char path[64];
	long word;
	int status, memfd, err = 0;
	ssize_t r;
	pid_t pid;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 16);

	/* the process itself: /proc/self/mem goes through the same path */
	memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	igt_assert_fd(memfd);
	r = pread(memfd, buf, sizeof(buf), (uintptr_t)(p + VGM_PAGE));
	err = errno;
	igt_assert_f(r == (ssize_t)sizeof(buf),
		     "/proc/self/mem cannot read the mapping (%zd: %s): no .access for PFN mappings\n",
		     r, strerror(err));
	igt_assert_f(!memcmp(buf, p + VGM_PAGE, sizeof(buf)), "/proc/self/mem reads other bytes than the mapping\n");
	memset(buf, 0xa5, sizeof(buf));
	r = pwrite(memfd, buf, sizeof(buf), (uintptr_t)(p + VGM_PAGE));
	err = errno;
	igt_assert_f(r == (ssize_t)sizeof(buf), "/proc/self/mem cannot write the mapping (%zd: %s)\n",
		     r, strerror(err));
	igt_assert_f(p[VGM_PAGE] == 0xa5 && p[2 * VGM_PAGE - 1] == 0xa5,
		     "a write through /proc/self/mem did not reach the blob\n");
	close(memfd);
	vgm_write_stamps(p, SIZE, 17);

	/* a stopped child, reached by its tracer */
	pid = fork();
	igt_assert(pid >= 0);
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		_exit(0);
	}
	igt_assert_eq(waitpid(pid, &status, 0), pid);
	if (!WIFSTOPPED(status)) {
		stop_child(pid);
		igt_assert_f(false, "the child did not stop for its tracer (status 0x%x)\n", status);
	}

	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, pid, p + 2 * VGM_PAGE, NULL);
	err = errno;
	if (err || (uint32_t)word != vgm_stamp(17, 2)) {
		stop_child(pid);
		igt_assert_f(!err, "PTRACE_PEEKDATA of the child's mapping failed: %s\n", strerror(err));
		igt_assert_f(false, "PTRACE_PEEKDATA read 0x%x, the blob holds 0x%x\n",
			     (uint32_t)word, vgm_stamp(17, 2));
	}
	if (ptrace(PTRACE_POKEDATA, pid, p + 3 * VGM_PAGE, (void *)0x1122334455667788l)) {
		err = errno;
		stop_child(pid);
		igt_assert_f(false, "PTRACE_POKEDATA of the child's mapping failed: %s\n", strerror(err));
	}

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	memfd = open(path, O_RDWR | O_CLOEXEC);
	r = memfd < 0 ? -1 : pread(memfd, buf, sizeof(buf), (uintptr_t)(p + 4 * VGM_PAGE));
	err = errno;
	if (r == (ssize_t)sizeof(buf)) {
		memset(buf, 0x5a, sizeof(buf));
		r = pwrite(memfd, buf, sizeof(buf), (uintptr_t)(p + 5 * VGM_PAGE));
		err = errno;
	}
	if (memfd >= 0)
		close(memfd);
	stop_child(pid);
	igt_assert_f(r == (ssize_t)sizeof(buf), "/proc/%d/mem cannot access the child's mapping: %s\n",
		     pid, strerror(err));

	/* the writes went to the blob the parent maps */
	igt_assert_f(*(volatile uint64_t *)(p + 3 * VGM_PAGE) == 0x1122334455667788ull,
		     "PTRACE_POKEDATA into the child's mapping did not reach the blob\n");
	igt_assert_f(p[5 * VGM_PAGE] == 0x5a && p[6 * VGM_PAGE - 1] == 0x5a,
		     "a write through /proc/pid/mem did not reach the blob\n");
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_proc_mem_readonly(void)
{
	const uint64_t half = SIZE / 2;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t buf[VGM_PAGE], *p, *ro, *spot;
	uint64_t offset;
	int64_t bad;
	int memfd, err;
	ssize_t r;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 29);

	/* a read-only mapping of the first half, with nothing mapped after it */
	igt_assert_eq(__vgm_map_offset(c.fd, b.handle, &offset), 0);
	spot = mmap(NULL, half + VGM_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	igt_assert(spot != MAP_FAILED);
	ro = mmap(spot, half, PROT_READ, MAP_SHARED | MAP_FIXED, c.fd, offset);
	err = errno;
	munmap(spot + half, VGM_PAGE);
	if (ro == MAP_FAILED)
		munmap(spot, half);
	igt_assert_f(ro != MAP_FAILED, "a read-only (PROT_READ, MAP_SHARED) mapping of the blob failed: %s\n",
		     strerror(err));
	vgm_track(ro, half);
	vgm_assert_stamps(ro, half, 29, "read-only mapping");

	memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	igt_assert_fd(memfd);

	/* a write goes through .access (GUP cannot pin PFNs): refused */
	memset(buf, 0xa5, sizeof(buf));
	r = pwrite(memfd, buf, sizeof(buf), (uintptr_t)(ro + VGM_PAGE));
	err = errno;
	bad = vgm_check_stamps(p, SIZE, 29);
	igt_assert_f(r == -1 && err == EIO,
		     "pwrite of /proc/self/mem at a PROT_READ mapping of the blob: %s, expected EIO (%s)\n",
		     r < 0 ? strerror(err) : "it wrote",
		     r >= 0 ? "the .access handler writes into mappings without PROT_WRITE" : "wrong errno");
	igt_assert_f(bad < 0,
		     "page %" PRId64 " of the blob changed after a refused write through /proc/self/mem into its read-only mapping\n",
		     bad);

	/* reads work, and stop at the end of the mapping */
	r = pread(memfd, buf, sizeof(buf), (uintptr_t)(ro + VGM_PAGE));
	err = errno;
	if (!c.have_query && r == -1 && err == EIO) {
		igt_info("/proc/self/mem cannot read the mapping (EIO): this kernel has no .access for it, as the stock driver; nothing more to check\n");
	} else {
		igt_assert_f(r == (ssize_t)sizeof(buf),
			     "pread of /proc/self/mem at a PROT_READ mapping of the blob: %s, expected %zu bytes\n",
			     r < 0 ? strerror(err) : "short read", sizeof(buf));
		igt_assert_f(!memcmp(buf, p + VGM_PAGE, sizeof(buf)),
			     "/proc/self/mem reads other bytes than the blob holds\n");

		memset(buf, 0, sizeof(buf));
		r = pread(memfd, buf, 128, (uintptr_t)(ro + half - 64));
		err = errno;
		igt_assert_f(r == 64,
			     "a 128-byte read of /proc/self/mem from 64 bytes before the end of the mapping: %s, expected 64 bytes%s\n",
			     r < 0 ? strerror(err) : r == 128 ? "128 bytes" : "a short read",
			     r == 128 ? " (it read the blob past the end of the mapping: .access is not clamped to the VMA)" : "");
		igt_assert_f(!memcmp(buf, p + half - 64, 64),
			     "/proc/self/mem reads other bytes than the blob holds at the end of the mapping\n");
	}
	close(memfd);
	vgm_unmap(ro, half);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_mremap(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint64_t phys = 0;
	const uint64_t tail = BIG_PAGES / 2;	/* first page of the part moved alone */
	uint8_t *p, *q, *spot;
	int cache0, cache, err;
	bool moved;
	uint64_t far;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, BIG, &b);
	p = vgm_map_fresh(&c, &b, VGM_VIA_DRM, 18, &e);
	if (!vgm_blob_try_phys(&b, &phys))
		phys = 0;
	/* touch the first page only: the pages past its page table fault after the move */
	assert_blob_pages(p, 0, 1, 18, "before mremap");
	cache0 = vgm_assert_ptes(p, VGM_PAGE, "before mremap");
	far = vgm_fault_reach(p);
	vgm_assert_unfaulted(&c, p + far * VGM_PAGE, BIG - far * VGM_PAGE, "before mremap");

	/* move it, to a place as far from PMD alignment as the old one */
	spot = vgm_skewed_spot(phys, BIG);
	q = mremap(p, BIG, BIG, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
	err = errno;
	moved = q == spot;
	if (!moved)
		munmap(spot, BIG);
	igt_assert_f(moved, "moving the mapping failed: %s\n", q == MAP_FAILED ? strerror(err) : "moved elsewhere");
	vgm_untrack(p);
	vgm_track(q, BIG);
	/* the same offset in its 2 MiB range as before: the same pages unfaulted */
	vgm_assert_unfaulted(&c, q + far * VGM_PAGE, BIG - far * VGM_PAGE, "after mremap");

	/* first faults at the new address: the blob's own pages, in order */
	assert_blob_pages(q, 0, 1, 18, "the page touched before the move");
	assert_blob_pages(q, 0, BIG_PAGES, 18, "pages first touched after the move");
	cache = vgm_assert_ptes(q, BIG, "after mremap");
	assert_cache_kept(&e, cache, cache0, "after mremap");
	vgm_write_stamps(q, BIG, 19);

	/* shrink it */
	p = mremap(q, BIG, BIG / 2, 0);
	igt_assert_f(p == q, "shrinking the mapping failed: %s\n", strerror(errno));
	vgm_assert_stamps(p, BIG / 2, 19, "after shrinking the mapping");
	vgm_unmap(p, BIG / 2);


	p = vgm_map_or_skip(&c, &b, &e);
	vgm_assert_stamps(p, BIG, 19, "through a new mapping after mremap");
	vgm_unmap(p, BIG);

	/*
	 * a part moved alone before its first faults: its VMA starts inside
	 * the blob (vm_pgoff moves with it)
	 */
	p = vgm_map_fresh(&c, &b, VGM_VIA_DRM, 20, &e);
	spot = vgm_skewed_spot(phys + tail * VGM_PAGE, (BIG_PAGES - tail) * VGM_PAGE);
	q = mremap(p + tail * VGM_PAGE, (BIG_PAGES - tail) * VGM_PAGE, (BIG_PAGES - tail) * VGM_PAGE,
		   MREMAP_MAYMOVE | MREMAP_FIXED, spot);
	err = errno;
	moved = q == spot;
	if (!moved)
		munmap(spot, (BIG_PAGES - tail) * VGM_PAGE);
	igt_assert_f(moved, "moving the upper part of the mapping failed: %s\n",
		     q == MAP_FAILED ? strerror(err) : "moved elsewhere");
	vgm_untrack(p);
	vgm_track(p, tail * VGM_PAGE);
	vgm_track(q, (BIG_PAGES - tail) * VGM_PAGE);
	vgm_assert_unfaulted(&c, q, (BIG_PAGES - tail) * VGM_PAGE, "a part moved alone");
	assert_blob_pages(q, tail, BIG_PAGES - tail, 20, "first faults of a part moved alone");
	cache = vgm_assert_ptes(q, (BIG_PAGES - tail) * VGM_PAGE, "a part moved alone");
	assert_cache_kept(&e, cache, cache0, "a part moved alone");
	assert_blob_pages(p, 0, tail, 20, "the part left in place");
	vgm_unmap(q, (BIG_PAGES - tail) * VGM_PAGE);
	vgm_unmap(p, tail * VGM_PAGE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_mremap_grow(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p, *q;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 18);

	q = mremap(p, SIZE, 2 * SIZE, 0);
	igt_assert_f(q == MAP_FAILED && errno == EFAULT,
		     "growing the mapping in place: %s, expected EFAULT\n",
		     q == MAP_FAILED ? strerror(errno) : "it grew");
	q = mremap(p, SIZE, 2 * SIZE, MREMAP_MAYMOVE);
	igt_assert_f(q == MAP_FAILED && errno == EFAULT,
		     "growing the mapping with MREMAP_MAYMOVE: %s, expected EFAULT\n",
		     q == MAP_FAILED ? strerror(errno) : "it grew");
	vgm_assert_stamps(p, SIZE, 18, "after the refused growth");
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_madvise(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p;
	int ret;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 20);

	ret = madvise(p, SIZE, MADV_DONTNEED);
	igt_assert_f(ret == -1 && errno == EINVAL,
		     "MADV_DONTNEED on a PFN mapping: %s, expected EINVAL\n",
		     ret ? strerror(errno) : "accepted");
	vgm_assert_stamps(p, SIZE, 20, "after MADV_DONTNEED");

	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_split_vma(void)
{
	uint64_t far, hole;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p;
	int cache0, cache;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, BIG, &b);
	p = vgm_map_fresh(&c, &b, VGM_VIA_DRM, 21, &e);
	/* touch page 0 only, then cut page @hole (past its page table) out: the rest faults in two VMAs */
	far = vgm_fault_reach(p);
	hole = far + 200;
	assert_blob_pages(p, 0, 1, 21, "before the split");
	cache0 = vgm_assert_ptes(p, VGM_PAGE, "before the split");
	vgm_assert_unfaulted(&c, p + far * VGM_PAGE, BIG - far * VGM_PAGE, "before the split");
	igt_assert_eq(munmap(p + hole * VGM_PAGE, VGM_PAGE), 0);
	vgm_assert_unfaulted(&c, p + far * VGM_PAGE, (hole - far) * VGM_PAGE, "mapping before the hole");
	vgm_assert_unfaulted(&c, p + (hole + 1) * VGM_PAGE, (BIG_PAGES - hole - 1) * VGM_PAGE,
			     "mapping after the hole");

	/* the last page before the hole: what its fault maps ends with its VMA */
	assert_blob_pages(p + (hole - 1) * VGM_PAGE, hole - 1, 1, 21, "last page before the hole");
	igt_assert_f(vgm_present(p + hole * VGM_PAGE, VGM_PAGE, NULL) == 0,
		     "the unmapped page between the two mappings has a page table entry after a fault of the page before it\n");
	/* first faults of the second VMA, which starts hole + 1 pages into the blob */
	assert_blob_pages(p + (hole + 1) * VGM_PAGE, hole + 1, BIG_PAGES - hole - 1, 21,
			  "mapping after the hole");
	assert_blob_pages(p, 0, hole, 21, "mapping before the hole");
	cache = vgm_assert_ptes(p, hole * VGM_PAGE, "mapping before the hole");
	assert_cache_kept(&e, cache, cache0, "mapping before the hole");
	cache = vgm_assert_ptes(p + (hole + 1) * VGM_PAGE, (BIG_PAGES - hole - 1) * VGM_PAGE,
				"mapping after the hole");
	assert_cache_kept(&e, cache, cache0, "mapping after the hole");

	vgm_untrack(p);
	munmap(p, hole * VGM_PAGE);
	munmap(p + (hole + 1) * VGM_PAGE, (BIG_PAGES - hole - 1) * VGM_PAGE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* the kernel's own accesses (uaccess) of a revoked mapping fail with EFAULT */
static void assert_syscalls_efault(uint8_t *p, const char *what)
{
	char buf[64] = "x";
	int fds[2];
	ssize_t r;

	igt_assert_eq(pipe(fds), 0);
	r = write(fds[1], p, sizeof(buf));
	igt_assert_f(r == -1 && errno == EFAULT,
		     "%s: write() from the revoked mapping: %s, expected EFAULT\n",
		     what, r < 0 ? strerror(errno) : "it wrote");
	igt_assert_eq(write(fds[1], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	r = read(fds[0], p + VGM_PAGE, sizeof(buf));
	igt_assert_f(r == -1 && errno == EFAULT,
		     "%s: read() into the revoked mapping: %s, expected EFAULT\n",
		     what, r < 0 ? strerror(errno) : "it read");
	close(fds[0]);
	close(fds[1]);
}

static void test_mprotect(void)
{
	uint64_t size = 4 * VGM_MIB + 4 * VGM_KIB;
	struct vgm_ptdump pt;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	struct vgm_span s;
	uint8_t *p;
	uint32_t v;
	int cache, sig;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, size, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, size, 25);
	cache = vgm_assert_ptes(p, size, "before mprotect");

	igt_assert_eq(mprotect(p, size, PROT_READ), 0);
	igt_assert_eq(vgm_ptdump_read(&pt, p, size), 0);
	vgm_ptdump_span(&pt, (uintptr_t)p, size, &s);
	vgm_ptdump_free(&pt);
	igt_assert_f(s.cache == cache, "read-only mprotect changed the cache mode from %s to %s\n",
		     vgm_cache_name(cache), vgm_cache_name(s.cache));
	igt_assert_f(!s.writable || !s.present, "entries stay writable after a read-only mprotect\n");
	vgm_assert_stamps(p, size, 25, "after a read-only mprotect");
	vgm_sigbus_install();
	sig = vgm_probe_write(p + size - VGM_PAGE, 1);
	if (!sig)
		sig = vgm_probe_write(p, 1);
	vgm_sigbus_restore();
	igt_assert_f(sig == SIGSEGV, "writing a read-only mapping: %s, expected SIGSEGV\n",
		     sig ? strsignal(sig) : "it wrote");

	igt_assert_eq(mprotect(p, size, PROT_READ | PROT_WRITE), 0);
	vgm_write_stamps(p, size, 26);
	vgm_assert_stamps(p, size, 26, "after making the mapping writable again");
	igt_assert_f(vgm_assert_ptes(p, size, "after mprotect") == cache,
		     "mprotect changed the cache mode\n");
	(void)v;
	vgm_unmap(p, size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_syscall_io(void)
{
	const uint64_t src = 0;
	uint64_t dst;	/* in another page table than src's: a fault of its own */
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p, *q, buf[2 * VGM_PAGE];
	int fds[2], err, cache;
	bool landed;
	ssize_t r;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, BIG, &b);
	/* a fresh mapping: the kernel's accesses are the first faults */
	p = vgm_map_fresh(&c, &b, VGM_VIA_DRM, 27, &e);
	vgm_assert_unfaulted(&c, p, BIG, "before the system calls");
	dst = src + 2 + vgm_fault_reach(p + (src + 2) * VGM_PAGE);

	igt_assert_eq(pipe(fds), 0);
	r = write(fds[1], p + src * VGM_PAGE, sizeof(buf));
	igt_assert_f(r == (ssize_t)sizeof(buf), "write() from the mapping: %s\n", r < 0 ? strerror(errno) : "short");
	r = read(fds[0], buf, sizeof(buf));
	igt_assert_eq(r, (ssize_t)sizeof(buf));
	igt_assert_f(*(uint32_t *)buf == vgm_stamp(27, src) &&
		     *(uint32_t *)(buf + VGM_PAGE) == vgm_stamp(27, src + 1),
		     "write() from the mapping sent other bytes than the blob holds\n");
	cache = vgm_assert_ptes(p + src * VGM_PAGE, sizeof(buf), "pages write() faulted in");
	assert_cache_kept(&e, cache, cache, "pages write() faulted in");

	vgm_assert_unfaulted(&c, p + dst * VGM_PAGE, sizeof(buf), "before read() into the mapping");
	memset(buf, 0x3c, sizeof(buf));
	igt_assert_eq(write(fds[1], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	r = read(fds[0], p + dst * VGM_PAGE, sizeof(buf));
	igt_assert_f(r == (ssize_t)sizeof(buf), "read() into the mapping: %s\n", r < 0 ? strerror(errno) : "short");
	close(fds[0]);
	close(fds[1]);
	igt_assert_f(vgm_assert_ptes(p + dst * VGM_PAGE, sizeof(buf), "pages read() faulted in") == cache,
		     "the pages read() faulted in have another cache mode than those of write()\n");
	igt_assert_f(p[dst * VGM_PAGE] == 0x3c && p[(dst + 2) * VGM_PAGE - 1] == 0x3c,
		     "read() into the mapping did not land where the mapping reads\n");

	/* the bytes are in the blob: a new mapping reads them, and the rest unchanged */
	q = __vgm_mmap(&b, 0, BIG, PROT_READ, MAP_SHARED, &err);
	igt_assert_f(q, "a second mapping of the blob failed: %s\n", strerror(err));
	landed = q[dst * VGM_PAGE] == 0x3c && q[(dst + 2) * VGM_PAGE - 1] == 0x3c &&
		 *(volatile uint32_t *)(q + (dst + 2) * VGM_PAGE) == vgm_stamp(27, dst + 2) &&
		 *(volatile uint32_t *)(q + src * VGM_PAGE) == vgm_stamp(27, src);
	munmap(q, BIG);
	igt_assert_f(landed, "a second mapping of the blob does not read what read() put into the first one\n");
	vgm_unmap(p, BIG);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* every page of [p, p + len) raises SIGBUS on read and on write */
static void assert_sigbus(uint8_t *p, uint64_t len, const char *what)
{
	uint64_t i;
	uint32_t v;
	int sig;

	vgm_sigbus_install();
	for (i = 0; i < len / VGM_PAGE; i++) {
		sig = vgm_probe_read(p + i * VGM_PAGE, &v);
		if (sig != SIGBUS) {
			vgm_sigbus_restore();
			igt_assert_f(sig, "%s: page %" PRIu64 " still reads (0x%x) after the host unmapped the blob\n",
				     what, i, v);
			igt_assert_f(false, "%s: page %" PRIu64 " raised signal %d, expected SIGBUS\n", what, i, sig);
		}
		sig = vgm_probe_write(p + i * VGM_PAGE, 0xdead);
		if (sig != SIGBUS) {
			vgm_sigbus_restore();
			igt_assert_f(false, "%s: writing page %" PRIu64 " after the host unmapped the blob: %s\n",
				     what, i, sig ? strsignal(sig) : "no fault");
		}
	}
	vgm_sigbus_restore();
}

static void test_hook_unmap(void)
{
	struct vgm_hv_blob hv = {};
	struct vgm_resource_info ri;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint64_t phys;
	uint8_t *p, *d, *q;
	int ret, err, left;

	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, 4 * VGM_MIB + 4 * VGM_KIB, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	d = __vgm_mmap_via(&b, VGM_VIA_DMABUF, 0, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(d, "dma-buf mapping failed: %s\n", strerror(err));
	vgm_track(d, b.size);
	vgm_write_stamps(p, b.size, 22);
	vgm_assert_stamps(d, b.size, 22, "dma-buf mapping before the host unmap");
	/* where it was: an unmapped blob may leave the window */
	phys = vgm_blob_phys(&b, 0);

	ret = vgm_hook(c.fd, "unmap", b.handle);
	igt_assert_f(ret == 0, "debugfs hook: unmap failed: %s\n", strerror(-ret));

	assert_sigbus(p, b.size, "DRM mapping");
	assert_sigbus(d, b.size, "dma-buf mapping");
	assert_syscalls_efault(p, "DRM mapping");

	ret = __vgm_query(c.fd, b.handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
	igt_assert_f(ri.map_caching == VIRTGPU_MAP_CACHING_REFUSED,
		     "RESOURCE_INFO reports %s for a blob unmapped on the host, expected REFUSED\n",
		     vgm_caching_name(ri.map_caching));
	/* it may give its window space back; while it has some, it is revoked */
	ret = __vgm_blob_listed(&b, &hv);
	igt_assert_f(ret || !strcmp(hv.state, "revoked"),
		     "debugfs %s says state=%s for a blob unmapped on the host, expected revoked\n",
		     VGM_BLOBS_DEBUGFS, hv.state);

	q = __vgm_mmap(&b, 0, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	if (q)
		munmap(q, b.size);
	igt_assert_f(!q && err == ENODEV, "mmap of a blob unmapped on the host: %s, expected ENODEV\n",
		     q ? "succeeded" : strerror(err));

	left = vgm_pat_count_settled(phys, b.size, 5000);
	igt_assert_f(left <= 0, "%d PAT reservations of the blob remain 5 s after the host unmapped it\n", left);

	vgm_unmap(d, b.size);
	vgm_unmap(p, b.size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void check_remapped(struct vgm_ctx *c, struct vgm_blob *b, uint8_t *p,
			   const struct vgm_expect *e, uint32_t seed, const char *what)
{
	struct vgm_resource_info ri;
	struct vgm_expect e2;
	uint32_t v;
	int ret, sig, cache;

	vgm_sigbus_install();
	sig = vgm_probe_read(p, &v);
	vgm_sigbus_restore();
	igt_assert_f(!sig, "%s: the mapping raises %s after the host mapped the blob again\n",
		     what, strsignal(sig));
	igt_info("%s: the first page holds %s\n", what,
		 v == vgm_stamp(seed, 0) ? "the data from before" : "other data (the host did not keep it)");

	vgm_write_stamps(p, b->size, seed + 1);
	vgm_assert_stamps(p, b->size, seed + 1, what);

	ret = __vgm_query(c->fd, b->handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
	vgm_expect_blob(c, b, &ri, c->strict, &e2);
	igt_assert_f(ri.map_caching == e2.caching,
		     "%s: RESOURCE_INFO reports %s, expected %s for the new answer (%s)\n",
		     what, vgm_caching_name(ri.map_caching), vgm_caching_name(e2.caching), e2.what);
	cache = vgm_assert_ptes(p, b->size, what);
	if (e2.cache != VGM_CACHE_ANY)
		igt_assert_f(cache == e2.cache, "%s: guest maps host-%s memory as %s after the remap\n",
			     what, vgm_attr_name(e2.attr), vgm_cache_name(cache));
	else
		igt_assert_f(cache == vgm_assert_ptes(p, b->size, what),
			     "%s: cache mode changed\n", what);
	(void)e;
}

/*
 * /proc/self/mem (ptrace's path, .access) right after a remap, before
 * anything else touches the blob: once the host has answered with the
 * answer of the mapping, the access applies it itself and reads what the
 * mapping reads; while the guest has not got it yet, EIO (no wait).
 */
static void check_access_after_remap(const struct vgm_blob *b, uint8_t *p, int round,
				     const char *what)
{
	struct vgm_host_answer first, now;
	uint64_t page = b->size / VGM_PAGE / 2;
	uint32_t v = 0, direct;
	ssize_t r = -1;
	int fd, i, err = 0;

	if (vgm_host_answer(b->res, 0, 2000, &first) || vgm_host_answer(b->res, round, 2000, &now)) {
		igt_info("%s: the host's answers file has no answers %d and 0: /proc/self/mem not checked\n",
			 what, round);
		return;
	}
	if (!now.map_info || now.map_info != first.map_info) {
		igt_info("%s: the host answered 0x%x, the mapping was made under 0x%x: /proc/self/mem not checked\n",
			 what, now.map_info, first.map_info);
		return;
	}
	fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	igt_assert(fd >= 0);
	/* the guest gets the answer a moment after the host wrote it down */
	for (i = 0; i < 100; i++) {
		r = pread(fd, &v, sizeof(v), (off_t)(uintptr_t)(p + page * VGM_PAGE));
		err = errno;
		if (r == (ssize_t)sizeof(v) || err != EIO)
			break;
		usleep(20 * 1000);
	}
	close(fd);
	igt_assert_f(r == (ssize_t)sizeof(v),
		     "%s: /proc/self/mem cannot read the blob 2 s after the host answered the remap with the mapping's answer 0x%x (%s): the access does not apply an answer that came\n",
		     what, now.map_info, r < 0 ? strerror(err) : "short read");
	direct = *(volatile uint32_t *)(p + page * VGM_PAGE);
	igt_assert_f(v == direct, "%s: /proc/self/mem reads 0x%08x, the mapping 0x%08x (page %" PRIu64 ")\n",
		     what, v, direct, page);
	igt_info("%s: /proc/self/mem reads the blob after %d ms\n", what, i * 20);
}

static void test_hook_remap(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p;
	int ret;

	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, 4 * VGM_MIB + 4 * VGM_KIB, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, b.size, 23);

	ret = vgm_hook(c.fd, "remap", b.handle);
	igt_assert_f(ret == 0, "debugfs hook: remap failed: %s\n", strerror(-ret));
	check_access_after_remap(&b, p, 1, "after remap");
	check_remapped(&c, &b, p, &e, 23, "after remap");

	ret = vgm_hook(c.fd, "unmap", b.handle);
	igt_assert_f(ret == 0, "debugfs hook: unmap failed: %s\n", strerror(-ret));
	assert_sigbus(p, VGM_PAGE, "after unmap");
	ret = vgm_hook(c.fd, "remap", b.handle);
	igt_assert_f(ret == 0, "debugfs hook: remap after unmap failed: %s\n", strerror(-ret));
	check_remapped(&c, &b, p, &e, 24, "after unmap and remap");

	vgm_unmap(p, b.size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* the modes of VGM_HOST_MAPINFO=seq:A,B,..., as the shim cycles through them */
#define MAX_SEQ 16
struct host_seq {
	struct vgm_host el[MAX_SEQ];
	int n;
};

/* The host's sequence of answers (VGM_HOST_MAPINFO=seq:A,B,...): skips on any other host. */
static void require_host_seq(struct host_seq *seq)
{
	const char *env = getenv("VGM_HOST_MAPINFO");
	char buf[256], *tok, *save;

	igt_require_f(env && !strncmp(env, "seq:", 4),
		      "needs a host whose answer changes with every RESOURCE_MAP_BLOB (VGM_HOST_MAPINFO=seq:A,B,..., the shim's sequence mode); this run's host answers %s\n",
		      env ? env : "(unset)");
	memset(seq, 0, sizeof(*seq));
	snprintf(buf, sizeof(buf), "%s", env + 4);
	for (tok = strtok_r(buf, ",", &save); tok && seq->n < MAX_SEQ; tok = strtok_r(NULL, ",", &save)) {
		vgm_host_parse(tok, &seq->el[seq->n]);
		igt_assert_f(seq->el[seq->n].kind != VGM_HOST_UNSET,
			     "VGM_HOST_MAPINFO=%s: element '%s' is not a mode of the shim\n", env, tok);
		seq->n++;
	}
	igt_assert_f(seq->n > 0, "VGM_HOST_MAPINFO=%s names no answer\n", env);
}

/* The host's answer number @round (from 0) to @b, from its answers file. */
static void round_answer(const struct vgm_blob *b, int round, struct vgm_host_answer *a)
{
	int ret = vgm_host_answer(b->res, round, 2000, a);

	igt_assert_f(ret != -ENOENT,
		     "the host's answers file %s cannot be read: the job always provides it (host/mapinfo-shim.c appends every RESOURCE_MAP_BLOB answer)\n",
		     vgm_host_answers_path());
	igt_assert_f(ret == 0,
		     "answer %d: the host's answers file %s has no answer %d for resource %u: the guest did not send RESOURCE_MAP_BLOB for the remap\n",
		     round, vgm_host_answers_path(), round, b->res);
}

/*
 * One answer of the host, as the mapping, a new mmap and RESOURCE_INFO see
 * it. What the host answered comes from the host (its answers file), and
 * that answer from the shim's sequence: element (its answer index) mod n.
 */
static void check_answer(struct vgm_ctx *c, struct vgm_blob *b, uint8_t **keep, int *keep_cache,
			 int round, const struct host_seq *seq)
{
	struct vgm_resource_info ri;
	struct vgm_host_answer a;
	const struct vgm_host *el;
	enum vgm_attr attr;
	uint32_t v, want_info;
	uint8_t *q;
	int ret, err, sig, cache, want, must_err;

	/* mmap waits for the answer to the remap, RESOURCE_INFO does not */
	q = __vgm_mmap(b, 0, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	ret = __vgm_query(c->fd, b->handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
	igt_assert_f(ri.map_caching != VIRTGPU_MAP_CACHING_PENDING,
		     "answer %d: RESOURCE_INFO reports PENDING after mmap (%s) waited for the host's answer\n",
		     round, q ? "mapped" : strerror(err));
	if (q)
		vgm_track(q, b->size);

	/* the host's answer number @round to this blob */
	round_answer(b, round, &a);
	el = &seq->el[a.call % seq->n];
	igt_assert_f(el->kind == VGM_HOST_ERROR ? a.source == VGM_ANSWER_ERROR :
		     el->kind == VGM_HOST_VALUE ? a.source == VGM_ANSWER_FORCED && a.map_info == el->value :
		     a.source != VGM_ANSWER_FORCED,
		     "answer %d: the host's answer #%u was %s 0x%x, but element %u of the sequence is %s: the answers file and VGM_HOST_MAPINFO disagree\n",
		     round, a.call, vgm_answer_source_name(a.source), a.map_info, a.call % seq->n, el->name);
	attr = vgm_attr_decode(a.map_info);
	igt_info("answer %d: the host answered %s 0x%x (%s; its answer #%u, element %s of the sequence); RESOURCE_INFO %s, map_info 0x%x; new mmap: %s\n",
		 round, vgm_answer_source_name(a.source), a.map_info,
		 a.source == VGM_ANSWER_ERROR ? "MAP_BLOB failed" : vgm_attr_name(attr), a.call, el->name,
		 vgm_caching_name(ri.map_caching), ri.map_info, q ? "mapped" : strerror(err));

	/* RESOURCE_INFO reports the answer the host gave, not an earlier one */
	want_info = a.source == VGM_ANSWER_ERROR ? 0 : a.map_info;
	igt_assert_f(ri.map_info == want_info,
		     "answer %d: RESOURCE_INFO reports map_info 0x%x, but the host answered %s (map_info 0x%x expected)\n",
		     round, ri.map_info, a.source == VGM_ANSWER_ERROR ? "an error" : "another value", want_info);

	/* what the answer requires: a refusal with this errno, or a mapping */
	must_err = a.source == VGM_ANSWER_ERROR ? EIO :
		   attr == VGM_ATTR_UNDEFINED ? EINVAL :
		   attr == VGM_ATTR_NONE && c->strict ? ENODATA : 0;

	if (q) {
		igt_assert_f(!must_err, "answer %d: the host answered %s 0x%x, the guest must refuse it (%s), but a new mmap maps the blob\n",
			     round, vgm_answer_source_name(a.source), a.map_info, strerror(must_err));
		want = attr == VGM_ATTR_CACHED ? VIRTGPU_MAP_CACHING_CACHED :
		       attr == VGM_ATTR_UNCACHED ? VIRTGPU_MAP_CACHING_UNCACHED :
		       attr == VGM_ATTR_WC ? VIRTGPU_MAP_CACHING_WC : VIRTGPU_MAP_CACHING_DEFAULT;
		igt_assert_f(ri.map_caching == (uint32_t)want,
			     "answer %d: the blob maps, the host answered 0x%x, but RESOURCE_INFO says %s (expected %s)\n",
			     round, a.map_info, vgm_caching_name(ri.map_caching), vgm_caching_name(want));
		vgm_write_stamps(q, b->size, 40 + round);
		cache = vgm_assert_ptes(q, b->size, "new mapping");
		if (attr != VGM_ATTR_NONE)
			igt_assert_f(cache == vgm_attr_cache(attr),
				     "answer %d: host-%s memory (the host answered 0x%x) is mapped %s\n", round,
				     vgm_attr_name(attr), a.map_info, vgm_cache_name(cache));
		if (*keep) {
			vgm_sigbus_install();
			sig = vgm_probe_read(*keep, &v);
			vgm_sigbus_restore();
			/*
			 * a mapping made under another memory type may be
			 * refused (its vm_page_prot has the old type), never
			 * mapped with the old one
			 */
			igt_assert_f(!sig || (sig == SIGBUS && cache != *keep_cache),
				     "answer %d: the old mapping (made under %s) raises %s, a new one maps with %s\n",
				     round, vgm_cache_name(*keep_cache), strsignal(sig), vgm_cache_name(cache));
			if (sig) {
				igt_info("answer %d: the old mapping, made under %s, faults with SIGBUS now that the answer maps %s: userspace maps again\n",
					 round, vgm_cache_name(*keep_cache), vgm_cache_name(cache));
				vgm_unmap(q, b->size);
				return;
			}
			igt_assert_f(vgm_check_stamps(*keep, b->size, 40 + round) < 0,
				     "answer %d: the old mapping shows other bytes than the new one\n", round);
			igt_assert_f(vgm_assert_ptes(*keep, b->size, "old mapping") == cache,
				     "answer %d: the old mapping has another cache mode than a new one\n", round);
			vgm_unmap(q, b->size);
		} else {
			*keep = q;
			*keep_cache = cache;
		}
		return;
	}

	igt_assert_f(ri.map_caching == VIRTGPU_MAP_CACHING_REFUSED,
		     "answer %d: mmap fails with %s but RESOURCE_INFO says %s, expected REFUSED\n",
		     round, strerror(err), vgm_caching_name(ri.map_caching));
	if (must_err)
		igt_assert_f(err == must_err, "answer %d: the host answered %s 0x%x: mmap fails with %s, expected %s\n",
			     round, vgm_answer_source_name(a.source), a.map_info, strerror(err), strerror(must_err));
	else
		igt_assert_f(err == EOPNOTSUPP && attr == VGM_ATTR_CACHED && VGM_X86,
			     "answer %d: the host answered %s (0x%x), which maps, but mmap fails with %s (only WB can be refused by the platform, EOPNOTSUPP, and only on x86: PAT and MTRRs)\n",
			     round, vgm_attr_name(attr), a.map_info, strerror(err));
	if (*keep) {
		vgm_sigbus_install();
		sig = vgm_probe_read(*keep, &v);
		vgm_sigbus_restore();
		igt_assert_f(sig == SIGBUS, "answer %d: the blob is refused (%s) but the old mapping %s\n",
			     round, strerror(err), sig ? strsignal(sig) : "still reads");
	}
}

/* ------------------------------------------------------- remap-race */

#define RACE_PROCS 4
#define RACE_ROUNDS 25

static void test_remap_race(void)
{
	struct vgm_host_answer *a = NULL, last;
	int i, n = 0, status, ok = 0, failed = 0, errors = 0, ret;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	pid_t pid[RACE_PROCS], flood;
	char hook[PATH_MAX];
	uint64_t waited;
	uint8_t *p;

	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, 4 * VGM_MIB + 4 * VGM_KIB, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, b.size, 71);
	vgm_unmap(p, b.size);
	/* the first answer, before the race */
	ret = vgm_host_answer(b.res, 0, 5000, &last);
	igt_require_f(ret == 0, "the host's answers file has no answer for resource %u: %s\n",
		      b.res, strerror(-ret));

	igt_assert_eq(vgm_hook_path(c.fd, hook, sizeof(hook)), 0);

	fflush(NULL);
	/*
	 * A process that keeps the control queue full: a revoke that must
	 * wait for ring space between its UNMAP_BLOB and its MAP_BLOB
	 * leaves room for another revoke's commands in between, if revokes
	 * are not serialised.
	 */
	flood = fork();
	igt_assert_f(flood >= 0, "fork: %s\n", strerror(errno));
	if (!flood) {
		int ffd;

		/* ends with the test, however it ends */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		ffd = vgm_open_ctx();

		for (;;)
			(void)__vgm_execbuf(ffd, NULL, 0, NULL, 0);
	}
	for (i = 0; i < RACE_PROCS; i++) {
		pid[i] = fork();
		igt_assert_f(pid[i] >= 0, "fork: %s\n", strerror(errno));
		if (!pid[i]) {
			char cmd[64];
			int r, done = 0, hfd, len;

			/* one open file, no lookups between the remaps */
			hfd = open(hook, O_WRONLY | O_CLOEXEC);
			if (hfd < 0)
				_exit(0);
			len = snprintf(cmd, sizeof(cmd), "remap %d %u", c.fd, b.handle);
			for (r = 0; r < RACE_ROUNDS; r++)
				done += write(hfd, cmd, len) == len;
			_exit(done);
		}
	}
	for (i = 0; i < RACE_PROCS; i++) {
		igt_assert_f(vgm_reap(pid[i], 120 * 1000000000ull, &status, &waited) == 0,
			     "remapping process %d did not finish within 120 s\n", i);
		igt_assert_f(WIFEXITED(status), "remapping process %d died (status 0x%x)\n", i, status);
		ok += WEXITSTATUS(status);
		failed += RACE_ROUNDS - WEXITSTATUS(status);
	}
	kill(flood, SIGKILL);
	igt_assert_f(vgm_reap(flood, 30 * 1000000000ull, &status, &waited) == 0,
		     "the process that filled the control queue did not end within 30 s of SIGKILL\n");
	igt_info("%d processes x %d remaps, the control queue kept full: %d succeeded, %d failed\n",
		 RACE_PROCS, RACE_ROUNDS, ok, failed);
	igt_assert_f(ok > 0, "no remap through the debugfs hook succeeded\n");
	/* a mapped blob in a window with room: no remap has a reason to fail */
	igt_assert_f(failed == 0,
		     "%d of %d remaps of a mapped blob failed: concurrent revokes saw each other's half-done state\n",
		     failed, RACE_PROCS * RACE_ROUNDS);

	/* one answer per MAP_BLOB the host saw: the first, and one per remap */
	ret = vgm_host_answer(b.res, ok, 10000, &last);
	ret = vgm_host_answers(b.res, &a, &n);
	igt_assert_f(ret == 0, "the host's answers file cannot be read: %s\n", strerror(-ret));
	for (i = 0; i < n; i++)
		errors += a[i].source == VGM_ANSWER_ERROR;
	free(a);
	igt_assert_f(n == ok + 1,
		     "the host answered RESOURCE_MAP_BLOB %d times for resource %u, expected %d (the first map and %d remaps): %s\n",
		     n, b.res, ok + 1, ok,
		     n < ok + 1 ? "a MAP_BLOB went out while another was in flight, and QEMU refused it (resource already mapped)" :
		     "more MAP_BLOBs than remaps");
	igt_assert_f(errors == 0, "%d of the host's %d answers for resource %u were errors\n", errors, n, b.res);

	/* and the blob maps again and works (whether the host kept its bytes is the host's business) */
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, b.size, 72);
	vgm_assert_stamps(p, b.size, 72, "mapping after the remap race");
	vgm_unmap(p, b.size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_hook_remap_answers(void)
{
	struct host_seq seq;
	struct vgm_ctx c;
	struct vgm_blob b;
	uint8_t *keep = NULL;
	int round, ret, keep_cache = VGM_CACHE_ANY;

	require_host_seq(&seq);
	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, 4 * VGM_MIB + 4 * VGM_KIB, &b);

	for (round = 0; round < 2 * seq.n + 1; round++) {
		if (round) {
			ret = vgm_hook(c.fd, "remap", b.handle);
			igt_assert_f(ret == 0, "debugfs hook: remap failed: %s\n", strerror(-ret));
		}
		check_answer(&c, &b, &keep, &keep_cache, round, &seq);
	}
	if (keep)
		vgm_unmap(keep, b.size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* "Normal-WB: 2048 KiB, Normal-NC: 2052 KiB" of a span */
static void span_types(const struct vgm_span *s, char *buf, size_t n)
{
	size_t used = 0;
	int t;

	buf[0] = '\0';
	for (t = 0; t < VGM_CACHE_COUNT; t++)
		if (s->by_cache[t])
			used += snprintf(buf + used, used < n ? n - used : 0, "%s%s: %" PRIu64 " KiB",
					 used ? ", " : "", vgm_cache_name(t), s->by_cache[t] / 1024);
	if (!used)
		snprintf(buf, n, "nothing present");
}

/*
 * mprotect() of a mapping made before the host changed its answer. arm64's
 * pte_modify() (and pmd_modify()) takes the memory type (AttrIndx) of the
 * entries it changes from the new protection, which mprotect() derives
 * from the VMA's vm_page_prot: the driver set that at mmap(), from the
 * answer of then. A driver that maps such a VMA with the new answer's
 * type lets mprotect() put the old type back into entries that faults gave
 * the new one; ours refuses the VMA (SIGBUS). x86's pte_modify() keeps the
 * entries' cache bits (_PAGE_CHG_MASK): there it holds on either driver.
 * Expected types from the host's answers file, types seen from the page
 * tables.
 */
static void test_remap_mprotect(void)
{
	const char *env = getenv("VGM_HOST_MAPINFO");
	struct vgm_host_answer a, a0 = {};
	struct vgm_ptdump pt;
	struct vgm_span s;
	struct vgm_ctx c;
	struct vgm_blob b;
	char types[256];
	int rounds, round, r0 = -1, t0 = VGM_CACHE_ANY, t = VGM_CACHE_ANY, cache, ret, err;
	int step, refused = 0;
	uint8_t *p = NULL, *q;
	bool found = false;
	struct host_seq seq;

	require_host_seq(&seq);
	/* every element of the sequence comes twice, whatever the phase */
	rounds = 2 * seq.n + 1;
	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, 4 * VGM_MIB + 4 * VGM_KIB, &b);

	for (round = 0; round < rounds && !found; round++) {
		if (round) {
			ret = vgm_hook(c.fd, "remap", b.handle);
			igt_assert_f(ret == 0, "debugfs hook: remap failed: %s\n", strerror(-ret));
		}
		/* mmap waits for the answer (to the remap) */
		q = __vgm_mmap(&b, 0, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
		if (q)
			vgm_track(q, b.size);
		round_answer(&b, round, &a);
		/* none (the kernel's default), undefined, errors: no type of the host's to compare with */
		t = a.source == VGM_ANSWER_ERROR ? VGM_CACHE_ANY : vgm_attr_cache(vgm_attr_decode(a.map_info));
		igt_info("answer %d: the host answered %s 0x%x (%s, %s on %s); a new mmap: %s\n", round,
			 vgm_answer_source_name(a.source), a.map_info,
			 a.source == VGM_ANSWER_ERROR ? "MAP_BLOB failed" : vgm_attr_name(vgm_attr_decode(a.map_info)),
			 vgm_cache_name(t), vgm_arch(), q ? "mapped" : strerror(err));
		if (!q || t == VGM_CACHE_ANY) {
			if (q)
				vgm_unmap(q, b.size);
			continue;
		}
		if (!p) {
			/* the VMA whose vm_page_prot the driver sets from this answer */
			p = q;
			r0 = round;
			t0 = t;
			a0 = a;
			vgm_write_stamps(p, b.size, 60);
			cache = vgm_assert_ptes(p, b.size, "mapping under the first answer");
			igt_assert_f(cache == t0,
				     "answer %d: host-%s memory (the host answered 0x%x) is mapped %s, expected %s\n",
				     round, vgm_attr_name(vgm_attr_decode(a.map_info)), a.map_info,
				     vgm_cache_name(cache), vgm_cache_name(t0));
			continue;
		}
		vgm_unmap(q, b.size);
		found = t != t0;
	}
	if (!found) {
		if (p)
			vgm_unmap(p, b.size);
		vgm_gem_close(c.fd, b.handle);
		vgm_ctx_close(&c);
		igt_skip("in %d answers (%s) the host never gave a mapping one memory type on %s and then another: nothing for mprotect() to mix up\n",
			 rounds, env, vgm_arch());
	}
	round--;

	/*
	 * The VMA made under the old answer, now that the host's answer has
	 * another type: a fault either refuses it (SIGBUS: userspace maps
	 * the blob again) or maps it with the new type. Never the old one,
	 * before or after mprotect().
	 */
	for (step = 0; step < 3; step++) {
		static const char *const what[] = {
			"after the remap", "after mprotect(PROT_READ)", "after mprotect(PROT_READ | PROT_WRITE)",
		};
		uint32_t v;
		int sig;

		if (step == 1)
			igt_assert_eq(mprotect(p, b.size, PROT_READ), 0);
		if (step == 2)
			igt_assert_eq(mprotect(p, b.size, PROT_READ | PROT_WRITE), 0);
		vgm_sigbus_install();
		sig = vgm_probe_read(p, &v);
		vgm_sigbus_restore();
		if (!sig && step != 1)
			vgm_write_stamps(p, b.size, 61 + step);
		else if (!sig)
			vgm_assert_stamps(p, b.size, 61, what[step]);
		igt_assert_eq(vgm_ptdump_read(&pt, p, b.size), 0);
		vgm_ptdump_span(&pt, (uintptr_t)p, b.size, &s);
		vgm_ptdump_free(&pt);
		span_types(&s, types, sizeof(types));
		igt_info("the mapping made under answer %d (%s), %s: %s; %" PRIu64 " of %" PRIu64 " KiB present (%s)\n",
			 r0, vgm_cache_name(t0), what[step], sig ? strsignal(sig) : "mapped",
			 s.present / 1024, b.size / 1024, types);
		igt_assert_f(!s.present || s.cache == t,
			     "%s the mapping made under answer %d, 0x%x (%s) is %s, expected %s or no entry: the host's current answer %d is 0x%x (%s)%s\n",
			     what[step], r0, a0.map_info, vgm_cache_name(t0), types, vgm_cache_name(t),
			     round, a.map_info, vgm_attr_name(vgm_attr_decode(a.map_info)),
			     s.by_cache[t0] ? ": the entries have the type of the answer at mmap time, which vm_page_prot still has (mprotect() takes the type from it on arm64)" : "");
		igt_assert_f(sig || s.missing == 0,
			     "%s the mapping maps, but %" PRIu64 " of %" PRIu64 " KiB are not in the page tables after every page was touched\n",
			     what[step], s.missing / 1024, b.size / 1024);
		igt_assert_f(!s.present || (step == 1 ? !s.writable : true),
			     "entries stay writable after a read-only mprotect\n");
		if (sig)
			refused++;
	}

	/* a new mapping gets the new type */
	q = __vgm_mmap(&b, 0, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(q, "answer %d (0x%x, %s): a new mapping fails: %s\n", round, a.map_info,
		     vgm_cache_name(t), strerror(err));
	vgm_track(q, b.size);
	vgm_write_stamps(q, b.size, 64);
	cache = vgm_assert_ptes(q, b.size, "a new mapping");
	igt_assert_f(cache == t, "answer %d (0x%x, %s): a new mapping is %s\n", round, a.map_info,
		     vgm_cache_name(t), vgm_cache_name(cache));
	vgm_unmap(q, b.size);
	igt_info("answer %d (%s) after answer %d (%s) at mmap time: the old mapping %s, never %s; a new one %s\n",
		 round, vgm_cache_name(t), r0, vgm_cache_name(t0),
		 refused ? "refused (SIGBUS)" : "mapped with the new type", vgm_cache_name(t0), vgm_cache_name(t));

	vgm_unmap(p, b.size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* /proc/PID/NAME, or "" (free it) */
static char *proc_read(pid_t pid, const char *name)
{
	char path[64], *s;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	s = vgm_read_file(path, NULL);
	return s ?: strdup("");
}

/* state letter, system call number and wait channel of a task, from /proc */
static void task_state(pid_t pid, char *state, long *nr, char *wchan, size_t len)
{
	char *stat = proc_read(pid, "stat");
	char *call = proc_read(pid, "syscall");
	char *chan = proc_read(pid, "wchan");
	char *c = strrchr(stat, ')');

	*state = c && c[1] == ' ' ? c[2] : '?';
	/*
	 * "running" while runnable (-2 here), the number while asleep in a
	 * call, -1 while asleep outside one (in a fault from user mode)
	 */
	*nr = isdigit((unsigned char)call[0]) || call[0] == '-' ? strtol(call, NULL, 10) : -2;
	snprintf(wchan, len, "%s", chan);
	free(stat);
	free(call);
	free(chan);
}

static void test_killed_waiter(void)
{
	struct sched_param fifo = { .sched_priority = 1 }, other = {};
	struct timespec sent = {}, killed = {};
	uint64_t late_ns, seen_ns, reap_ns, gone_ns, offset;
	struct vgm_host host;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	char state = '?', wchan[64] = "";
	uint32_t handle, res;
	int status = 0, ret;
	bool left = false;
	cpu_set_t cpu;
	pid_t pid;
	long nr = -2;
	uint8_t *p;

	vgm_host_get(&host);
	igt_require_f(host.late_ms,
		      "needs a host that answers RESOURCE_MAP_BLOB late (VGM_HOST_MAPINFO=slow:MS, the shim's slow mode); this run's host answers %s\n",
		      host.name);
	late_ns = host.late_ms * 1000000ull;
	/* jiffies stand still while the host holds QEMU's main loop */
	vgm_require_tsc_clock();
	vgm_ctx_open(&c);

	/*
	 * While QEMU's main loop holds the answer, it serves nothing else:
	 * not the 9p root file system (what this process runs must already
	 * be in memory) and no timer. The child is SCHED_FIFO on the
	 * parent's CPU: it runs into mmap(), and out of it once killed,
	 * without waiting for a tick or an IPI.
	 */
	igt_assert_f(mlockall(MCL_CURRENT) == 0, "mlockall: %s\n", strerror(errno));
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu(), &cpu);
	igt_assert(sched_setaffinity(0, sizeof(cpu), &cpu) == 0);
	igt_require_f(sched_setscheduler(0, SCHED_FIFO, &fifo) == 0,
		      "SCHED_FIFO: %s\n", strerror(errno));

	/*
	 * RESOURCE_MAP_BLOB goes out with the blob: the host starts holding
	 * its answer after @sent, for @late_ns. A waiter reaped before
	 * @sent + @late_ns was reaped before the answer came.
	 */
	igt_gettime(&sent);
	vgm_blob_create(c.fd, SIZE, &b);
	igt_assert_eq(__vgm_map_offset(c.fd, b.handle, &offset), 0);
	pid = fork();
	if (pid == 0) {
		mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, offset);
		_exit(0);
	}
	igt_assert(sched_setscheduler(0, SCHED_OTHER, &other) == 0);
	igt_assert(pid > 0);

	/*
	 * The child sleeps in mmap() (killable sleeps show as D too), seen
	 * before the host answers; every wait here has a deadline.
	 */
	for (;;) {
		task_state(pid, &state, &nr, wchan, sizeof(wchan));
		if (state == 'D' && nr == SYS_mmap)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid)
			left = true;
		seen_ns = igt_nsec_elapsed(&sent);
		if (left || seen_ns >= late_ns) {
			if (!left) {
				kill(pid, SIGKILL);
				vgm_reap(pid, late_ns + 30000000000ull, &status, &reap_ns);
			}
			munlockall();
			igt_assert_f(!left,
				     "the child left mmap() (status 0x%x) before it was seen waiting in it: is the host's answer really late?\n",
				     status);
			igt_assert_f(false,
				     "the child was not seen asleep in mmap() (state %c, system call %ld, wchan %s) within %" PRIu64 " ms of its MAP_BLOB, when the host's answer was due\n",
				     state, nr, wchan, late_ns / 1000000);
		}
		sched_yield();
	}
	seen_ns = igt_nsec_elapsed(&sent);
	igt_assert_f(seen_ns < late_ns, "the child was seen waiting only %" PRIu64 " ms after the MAP_BLOB went out, when the host may have answered\n",
		     seen_ns / 1000000);
	igt_gettime(&killed);
	igt_assert_eq(kill(pid, SIGKILL), 0);
	/* an uninterruptible wait ends with the answer: 30 s more is a task stuck for good */
	ret = vgm_reap(pid, late_ns + 30000000000ull, &status, &reap_ns);
	gone_ns = igt_nsec_elapsed(&sent);
	munlockall();
	igt_assert_f(ret == 0,
		     "the child killed while waiting in mmap() (wchan %s) is not reaped %" PRIu64 " s after SIGKILL, long after the host's answer: stuck\n",
		     wchan, reap_ns / 1000000000);
	igt_info("waiter seen in mmap() (wchan %s) %" PRIu64 " us after MAP_BLOB went out; reaped %" PRIu64 " us after SIGKILL; the host answers %" PRIu64 " ms after MAP_BLOB\n",
		 wchan, seen_ns / 1000, reap_ns / 1000, late_ns / 1000000);
	igt_assert_f(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		     "the child was not killed by SIGKILL (status 0x%x)\n", status);
	igt_assert_f(gone_ns < late_ns,
		     "the child, killed while waiting in mmap() (wchan %s), was reaped %" PRIu64 " ms after MAP_BLOB went out, not before the host's answer (%" PRIu64 " ms): the wait is not killable\n",
		     wchan, gone_ns / 1000000, late_ns / 1000000);

	/* then the answer comes: the blob maps as it says, and the device works */
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 16);
	vgm_assert_stamps(p, SIZE, 16, "after the killed waiter");
	vgm_assert_ptes(p, SIZE, "mapping after the killed waiter");
	vgm_unmap(p, SIZE);
	igt_assert_eq(__vgm_classic_buffer(c.fd, 4096, &handle, &res), 0);
	igt_assert_eq(__vgm_transfer(c.fd, handle, 4096, true), 0);
	igt_assert_f(__vgm_wait(c.fd, handle) == 0, "the device did not finish a transfer after the killed waiter\n");
	vgm_gem_close(c.fd, handle);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/*
 * A child faults on a blob that was remapped (the fault waits for the new
 * answer, which the slow host holds for late_ms), from kernel mode
 * (write() from the mapping into a pipe) or from user mode (a load), and is
 * killed some 300 ms later: it must be reaped long before the answer.
 */
static void test_killed_waiter_remap(bool from_kernel)
{
	const uint64_t kill_ns = 300000000ull;
	const char *access = from_kernel ? "write(pipe, mapping, 4096)" : "a load from the mapping";
	struct timespec sent = {};
	uint64_t late_ns, now_ns, seen_ns = 0, reap_ns = 0, gone_ns;
	struct vgm_host host;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	char state = '?', wchan[64] = "";
	bool seen = false, left = false;
	uint32_t handle, res, v;
	int fds[2], status = 0, ret, sig;
	long nr = -2, want_nr = from_kernel ? SYS_write : -1;
	pid_t pid;
	uint8_t *p;

	vgm_host_get(&host);
	igt_require_f(host.late_ms >= 1000,
		      "needs a host that answers RESOURCE_MAP_BLOB at least 1 s late (VGM_HOST_MAPINFO=slow:MS, the shim's slow mode); this run's host answers %s\n",
		      host.name);
	late_ns = host.late_ms * 1000000ull;
	vgm_require_tsc_clock();
	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);

	/* mmap waits for the first answer; the touched pages are then zapped by the remap */
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 52);
	igt_assert_eq(pipe2(fds, O_CLOEXEC), 0);

	/*
	 * The remap sends RESOURCE_MAP_BLOB again: the host holds the answer
	 * for late_ms after @sent. The child is SCHED_FIFO on this CPU, runs
	 * into the fault at once and out of it once killed.
	 */
	vgm_hold_begin();
	igt_gettime(&sent);
	ret = vgm_hook(c.fd, "remap", b.handle);
	if (ret) {
		vgm_hold_end();
		igt_assert_f(false, "debugfs hook: remap failed: %s\n", strerror(-ret));
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (from_kernel)
			_exit(write(fds[1], p, VGM_PAGE) == (ssize_t)VGM_PAGE ? 0 : 1);
		_exit(*(volatile uint32_t *)p ? 0 : 2);
	}
	vgm_hold_parent();
	igt_assert(pid > 0);

	/* seen asleep in the fault, then still there when killed */
	while ((now_ns = igt_nsec_elapsed(&sent)) < late_ns) {
		if (!seen) {
			task_state(pid, &state, &nr, wchan, sizeof(wchan));
			seen = (state == 'D' || state == 'S') && nr == want_nr;
			if (seen)
				seen_ns = now_ns;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			left = true;
			break;
		}
		if (seen && now_ns >= kill_ns)
			break;
		sched_yield();
	}
	if (left || !seen || now_ns >= late_ns) {
		if (!left) {
			kill(pid, SIGKILL);
			vgm_reap(pid, late_ns + 30000000000ull, &status, &reap_ns);
		}
		vgm_hold_end();
		igt_assert_f(!left,
			     "the child's %s returned (status 0x%x) %" PRIu64 " ms after the remap, before it was killed: the fault did not wait for the host's answer (due %u ms after the remap)\n",
			     access, status, now_ns / 1000000, host.late_ms);
		igt_assert_f(false,
			     "the child was not seen asleep in the fault of %s (state %c, system call %ld, wchan %s) before the host's answer was due %u ms after the remap\n",
			     access, state, nr, wchan, host.late_ms);
	}

	igt_assert_eq(kill(pid, SIGKILL), 0);
	ret = vgm_reap(pid, late_ns + 30000000000ull, &status, &reap_ns);
	gone_ns = igt_nsec_elapsed(&sent);
	vgm_hold_end();
	close(fds[0]);
	close(fds[1]);
	igt_info("child seen asleep in the fault of %s (wchan %s) %" PRIu64 " us after the remap, killed %" PRIu64 " us after it, reaped %" PRIu64 " us after SIGKILL; the host answers %u ms after the remap\n",
		 access, wchan, seen_ns / 1000, now_ns / 1000, reap_ns / 1000, host.late_ms);
	igt_assert_f(ret == 0,
		     "the child killed in the fault of %s is not reaped %" PRIu64 " s after SIGKILL, long after the host's answer: stuck\n",
		     access, reap_ns / 1000000000);
	igt_assert_f(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		     "the child was not killed by SIGKILL (status 0x%x)\n", status);
	igt_assert_f(reap_ns < late_ns / 2 && gone_ns < late_ns,
		     "the child, killed while the fault of %s waited for the host's answer to a remap (wchan %s), was reaped %" PRIu64 " ms after SIGKILL, %" PRIu64 " ms after the remap (the host answers %u ms after it): %s\n",
		     access, wchan, reap_ns / 1000000, gone_ns / 1000000, host.late_ms,
		     from_kernel ? "a killed task's kernel-mode access keeps faulting until the answer instead of failing (the fault must give up the wait and mmap_lock: VM_FAULT_RETRY)" :
		     "the wait in the fault is not killable");

	/* then the answer comes: the mapping faults in again, and the device works */
	vgm_sigbus_install();
	sig = vgm_probe_read(p, &v);
	vgm_sigbus_restore();
	igt_assert_f(!sig, "the mapping raises %s after the host answered the remap\n", strsignal(sig));
	igt_info("after the remap the first page holds %s\n",
		 v == vgm_stamp(52, 0) ? "the data from before" : "other data (the host did not keep it)");
	vgm_write_stamps(p, SIZE, 53);
	vgm_assert_stamps(p, SIZE, 53, "after the killed waiter");
	vgm_assert_ptes(p, SIZE, "mapping after the killed waiter");
	vgm_unmap(p, SIZE);
	igt_assert_eq(__vgm_classic_buffer(c.fd, 4096, &handle, &res), 0);
	igt_assert_eq(__vgm_transfer(c.fd, handle, 4096, true), 0);
	igt_assert_f(__vgm_wait(c.fd, handle) == 0, "the device did not finish a transfer after the killed waiter\n");
	vgm_gem_close(c.fd, handle);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* CLOCK_MONOTONIC_RAW (the guest's TSC) in ns: comparable across processes */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	igt_gettime(&ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * The sysfs directory of the PCI device the DRM device of @fd sits on:
 * /sys/dev/char/M:N/device (= /sys/class/drm/renderD128/device) is the
 * virtio device, .../0000:00:02.0/virtio1, under a virtio-pci PCI device.
 */
static bool pci_device_dir(int fd, char *out, size_t n)
{
	char link[64], dev[PATH_MAX], sub[PATH_MAX + 16], bus[PATH_MAX];
	struct stat st;
	char *slash;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return false;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(link, dev))
		return false;
	while (!strncmp(dev, "/sys/devices/", 13)) {
		snprintf(sub, sizeof(sub), "%s/subsystem", dev);
		if (realpath(sub, bus) && !strcmp(bus, "/sys/bus/pci")) {
			snprintf(out, n, "%s", dev);
			return true;
		}
		slash = strrchr(dev, '/');
		*slash = '\0';
	}
	return false;
}

/*
 * A child that may outlive the test (asleep in the kernel for good): stdio
 * on /dev/null, and no other file but @keep, so that it holds neither the
 * runner's pipes nor its socket.
 */
static void child_detach(int devnull, int keep)
{
	int fd;

	dup2(devnull, 0);
	dup2(devnull, 1);
	dup2(devnull, 2);
	if ((keep > 3 && close_range(3, keep - 1, 0)) || close_range(keep + 1, ~0u, 0))
		for (fd = 3; fd < 1024; fd++)
			if (fd != keep)
				close(fd);
}

/* what the remover and the waiter tell the parent (shared memory) */
struct removal {
	int go;			/* 0 wait, 1 remove the device, 2 leave */
	int remover_cpu;	/* -1 until the remover runs where it stays */
	int removed;		/* the write to remove returned */
	int remove_err;		/* its errno, 0 if it wrote */
	uint64_t remove_start_ns, remove_end_ns;
	int waiter_done;	/* mmap() returned */
	int waiter_err;		/* its errno, 0 if it mapped */
	uint64_t waiter_ns;
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/*
 * The remover: runs on another CPU than the parent and the waiter (the
 * removal may stop its vCPU in QEMU until the host lets go of the main
 * loop), spins until told, then writes 1 to the PCI device's remove file.
 */
static void __attribute__((noreturn))
remover(struct removal *r, const cpu_set_t *cpus, int devnull, int fd, uint64_t give_up_ns)
{
	struct sched_param other = {};
	uint64_t start;
	ssize_t ret;
	int go;

	child_detach(devnull, fd);
	sched_setscheduler(0, SCHED_OTHER, &other);
	sched_setaffinity(0, sizeof(*cpus), cpus);
	STORE(r->remover_cpu, sched_getcpu());
	start = mono_ns();
	while (!(go = LOAD(r->go)) && mono_ns() - start < give_up_ns)
		sched_yield();
	if (go != 1)
		_exit(0);
	STORE(r->remove_start_ns, mono_ns());
	ret = write(fd, "1", 1);
	STORE(r->remove_err, ret == 1 ? 0 : ret < 0 ? errno : EIO);
	STORE(r->remove_end_ns, mono_ns());
	STORE(r->removed, 1);
	_exit(0);
}

/*
 * QEMU's fence trace (boot.sh enables virtio_gpu_fence_ctrl and _resp in
 * slow runs; the log is the run directory's qemu.log, which the guest
 * mounts at /mnt/host): its size, read before anything is held (9p waits
 * for QEMU's main loop), or -1.
 */
static const char *qemu_log_path(void)
{
	const char *p = getenv("VGM_QEMU_LOG");

	return p && *p ? p : "/mnt/host/qemu.log";
}

static off_t qemu_log_size(void)
{
	struct stat st;

	return stat(qemu_log_path(), &st) ? -1 : st.st_size;
}

/*
 * After @from: did the host get a fenced SUBMIT_3D (type 0x207), and did
 * it answer it (a virtio_gpu_fence_resp of its fence)? -1 if the log
 * cannot be read.
 */
static int host_answered_submit(off_t from, bool *got, uint64_t *fence)
{
	char *buf = vgm_read_file(qemu_log_path(), NULL), *line, *next, *q;
	unsigned long long f;
	unsigned int type;
	int answered = 0;

	*got = false;
	if (!buf)
		return -1;
	if (from > (off_t)strlen(buf))
		from = 0;
	for (line = buf + from; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		q = strstr(line, "virtio_gpu_fence_ctrl");
		if (q && sscanf(q, "virtio_gpu_fence_ctrl fence 0x%llx, type 0x%x", &f, &type) == 2 &&
		    type == 0x207) {
			*got = true;
			*fence = f;
			answered = 0;
			continue;
		}
		q = strstr(line, "virtio_gpu_fence_resp");
		if (q && *got && sscanf(q, "virtio_gpu_fence_resp fence 0x%llx", &f) == 1 && f == *fence)
			answered = 1;
	}
	free(buf);
	return answered;
}

/*
 * (5): what became of the out-fence of a command in flight at the removal:
 * signalled, and with an error unless QEMU's trace says the host answered.
 */
static bool removed_fence(int fence_fd, off_t log_from, char *what, size_t len)
{
	struct sync_file_info info = {};
	struct pollfd pfd = { .fd = fence_fd, .events = POLLIN };
	char host[160];
	uint64_t fence = 0;
	bool got = false;
	int n, answered;

	if (fence_fd < 0) {
		snprintf(what, len, "EXECBUFFER with FENCE_FD_OUT behind the held MAP_BLOB failed: %s",
			 strerror(-fence_fd));
		return false;
	}
	n = poll(&pfd, 1, 2000);
	if (igt_ioctl(fence_fd, SYNC_IOC_FILE_INFO, &info)) {
		snprintf(what, len, "SYNC_IOC_FILE_INFO on its sync_file failed: %s", strerror(errno));
		return false;
	}
	answered = log_from < 0 ? -1 : host_answered_submit(log_from, &got, &fence);
	if (answered < 0) {
		snprintf(what, len, "QEMU's fence trace %s cannot be read: the host's side is unknown (sync_file status %d)",
			 qemu_log_path(), info.status);
		return false;
	}
	if (!got)
		snprintf(host, sizeof(host), "the host never got the command (no fenced SUBMIT_3D in QEMU's trace)");
	else
		snprintf(host, sizeof(host), "the host %s its fence 0x%" PRIx64 " (QEMU's trace)",
			 answered ? "answered" : "never answered", fence);
	if (info.status < 0)
		snprintf(what, len, "the out-fence of the command queued behind the held MAP_BLOB was signalled with %s (status %d); %s",
			 strerror(-info.status), info.status, host);
	else if (info.status > 0)
		snprintf(what, len, "the out-fence of the command queued behind the held MAP_BLOB was signalled without an error (status 1)%s; %s",
			 answered ? "" : ", as if the command had run on the removed device", host);
	else
		snprintf(what, len, "the out-fence of the command queued behind the held MAP_BLOB was not signalled 2 s after the removal%s: its waiters wait forever; %s",
			 n < 0 ? " (poll failed)" : "", host);
	return answered ? info.status != 0 : info.status < 0;
}

static void test_device_remove(void)
{
	const uint64_t remove_after_ns = 300000000ull, sec = 1000000000ull;
	char pci[PATH_MAX], path[PATH_MAX + 16], wchan[64] = "", state = '?';
	char what1[PATH_MAX + 128], what2[512], what3[256], what4[256], what5[512];
	uint64_t late_ns, offset, now = 0, sent = 0, seen_ns = 0, removal, ready, reap_ns = 0, wait_ns;
	uint64_t gave_up = 0;
	bool seen = false, waiter_left = false, waiter_reaped = false, remover_left = false;
	bool ok1, ok2, ok3, ok4, ok5;
	int devnull, rfd, status = 0, rstatus = 0, cpu, sig, sig2 = 0, sig4, err, ret, dmabuf;
	int fence_fd = -EINVAL;
	off_t log_from;
	struct vgm_host host;
	struct vgm_ctx c;
	struct vgm_blob b, b2;
	struct vgm_expect e;
	struct removal *r;
	cpu_set_t all, one, others;
	uint32_t v = 0, v2 = 0, v4 = 0;
	long nr = -2;
	pid_t rpid, wpid;
	uint8_t *p, *d;

	/* a normal run never removes the device: only the slow-host runs end with it */
	vgm_host_get(&host);
	igt_require_f(host.late_ms >= 1000,
		      "removes the GPU from the guest, so it only runs where the host answers RESOURCE_MAP_BLOB at least 1 s late (VGM_HOST_MAPINFO=slow:MS, the shim's slow mode); this run's host answers %s\n",
		      host.name);
	late_ns = host.late_ms * 1000000ull;
	vgm_require_tsc_clock();
	vgm_ctx_open(&c);

	/* (1) a mapped blob with every page touched: its PTEs are present */
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 61);
	vgm_assert_ptes(p, SIZE, "mapping before the removal");
	/* and a mapping of it through a dma-buf, touched too */
	ret = __vgm_prime_export(c.fd, b.handle, &dmabuf);
	igt_assert_f(ret == 0, "PRIME_HANDLE_TO_FD(DRM_RDWR) failed: %s\n", strerror(-ret));
	d = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	igt_assert_f(d != MAP_FAILED, "mmap of the dma-buf failed: %s\n", strerror(errno));
	vgm_assert_stamps(d, SIZE, 61, "dma-buf mapping before the removal");

	igt_require_f(pci_device_dir(c.fd, pci, sizeof(pci)),
		      "the PCI device of the virtio-gpu render node is not found in sysfs\n");
	snprintf(path, sizeof(path), "%s/remove", pci);
	rfd = open(path, O_WRONLY | O_CLOEXEC);
	igt_require_f(rfd >= 0, "cannot open %s: %s\n", path, strerror(errno));
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	igt_assert_fd(devnull);
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	igt_assert(r != MAP_FAILED);
	memset(r, 0, sizeof(*r));
	r->remover_cpu = -1;

	/*
	 * While the host holds an answer, QEMU's main loop serves no 9p: what
	 * this process and its children run must be in memory first. The
	 * remover goes to another CPU now, while everything still runs.
	 */
	igt_assert_f(mlockall(MCL_CURRENT) == 0, "mlockall: %s\n", strerror(errno));
	igt_assert(sched_getaffinity(0, sizeof(all), &all) == 0);
	cpu = sched_getcpu();
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	igt_assert(sched_setaffinity(0, sizeof(one), &one) == 0);
	others = all;
	CPU_CLR(cpu, &others);
	if (!CPU_COUNT(&others))
		others = one;
	fflush(NULL);
	rpid = fork();
	if (rpid == 0)
		remover(r, &others, devnull, rfd, late_ns + 10 * sec);
	if (rpid > 0) {
		for (ready = mono_ns(); LOAD(r->remover_cpu) < 0 && mono_ns() - ready < 5 * sec;)
			usleep(1000);
	}
	if (rpid < 0 || LOAD(r->remover_cpu) < 0) {
		err = errno;
		if (rpid > 0) {
			kill(rpid, SIGKILL);
			waitpid(rpid, NULL, 0);
		}
		munlockall();
		sched_setaffinity(0, sizeof(all), &all);
		igt_assert_f(false, "the child that removes the device %s\n",
			     rpid < 0 ? strerror(err) : "did not start within 5 s");
	}

	/* where QEMU's fence trace is now, before anything is held */
	log_from = qemu_log_size();

	/*
	 * (2) a new blob: RESOURCE_MAP_BLOB goes out with it, and the host
	 * holds the answer for late_ns after @sent. The waiter is SCHED_FIFO
	 * on this CPU: it runs into mmap() at once and out of it when woken.
	 */
	vgm_hold_begin();
	sent = mono_ns();
	vgm_blob_create(c.fd, SIZE, &b2);
	ret = __vgm_map_offset(c.fd, b2.handle, &offset);
	/* (5) a fenced command behind it, kicked out at once: in flight at the removal */
	if (!ret)
		fence_fd = __vgm_fenced_nop(c.fd);
	fflush(NULL);
	wpid = ret ? -1 : fork();
	if (wpid == 0) {
		void *q;

		child_detach(devnull, c.fd);
		q = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, offset);
		STORE(r->waiter_err, q == MAP_FAILED ? errno : 0);
		STORE(r->waiter_ns, mono_ns());
		STORE(r->waiter_done, 1);
		_exit(0);
	}
	err = errno;
	vgm_hold_parent();

	/* seen asleep in mmap(), then still there ~300 ms after the MAP_BLOB */
	while (wpid > 0 && (now = mono_ns()) - sent < late_ns / 2) {
		if (!seen) {
			task_state(wpid, &state, &nr, wchan, sizeof(wchan));
			seen = (state == 'D' || state == 'S') && nr == SYS_mmap;
			if (seen)
				seen_ns = now - sent;
		}
		if (waitpid(wpid, &status, WNOHANG) == wpid) {
			waiter_left = true;
			break;
		}
		if (seen && now - sent >= remove_after_ns)
			break;
		sched_yield();
	}
	if (wpid < 0 || waiter_left || !seen) {
		STORE(r->go, 2);
		if (wpid > 0 && !waiter_left) {
			kill(wpid, SIGKILL);
			vgm_reap(wpid, 2 * sec, &status, &reap_ns);
		}
		vgm_reap(rpid, 2 * sec, &rstatus, &reap_ns);
		vgm_hold_end();
		sched_setaffinity(0, sizeof(all), &all);
		igt_assert_f(ret == 0, "VIRTGPU_MAP of the new blob failed: %s\n", strerror(-ret));
		igt_assert_f(wpid > 0, "fork: %s\n", strerror(err));
		igt_assert_f(!waiter_left,
			     "the child's mmap() of the new blob returned (%s) %" PRIu64 " ms after its MAP_BLOB went out, before the device was removed: the host's answer was not late (due after %u ms); the device was not removed\n",
			     LOAD(r->waiter_done) ? (LOAD(r->waiter_err) ? strerror(LOAD(r->waiter_err)) : "mapped") : "it died",
			     (mono_ns() - sent) / 1000000, host.late_ms);
		igt_assert_f(false,
			     "the child was not seen asleep in mmap() of the new blob (state %c, system call %ld, wchan %s) within %u ms of its MAP_BLOB: the device was not removed\n",
			     state, nr, wchan, host.late_ms / 2);
	}

	/* remove the device; the waiter must be out of mmap() long before the answer */
	STORE(r->go, 1);
	removal = mono_ns();
	while ((now = mono_ns()) < sent + late_ns + 2 * sec) {
		if (waitpid(wpid, &status, WNOHANG) == wpid) {
			waiter_left = true;
			break;
		}
		if (!remover_left && waitpid(rpid, &rstatus, WNOHANG) == rpid)
			remover_left = true;
		sched_yield();
	}
	if (LOAD(r->remove_start_ns))
		removal = LOAD(r->remove_start_ns);
	if (!waiter_left) {
		/* stock waits uninterruptibly: it may stay asleep for good */
		gave_up = mono_ns();
		task_state(wpid, &state, &nr, wchan, sizeof(wchan));
		kill(wpid, SIGKILL);
		waiter_reaped = vgm_reap(wpid, 2 * sec, &status, &reap_ns) == 0;
	}
	/* the removal resets the device, which waits for the host's main loop */
	if (!remover_left) {
		now = mono_ns();
		wait_ns = removal + late_ns + 20 * sec > now ? removal + late_ns + 20 * sec - now : 0;
		remover_left = vgm_reap(rpid, wait_ns, &rstatus, &reap_ns) == 0;
		if (!remover_left)
			kill(rpid, SIGKILL);
	}

	/* (5) the command's out-fence */
	ok5 = removed_fence(fence_fd, log_from, what5, sizeof(what5));

	/* (3) the mapped blob after the removal */
	vgm_sigbus_install();
	sig = vgm_probe_read(p, &v);
	if (sig == SIGBUS)
		sig2 = vgm_probe_read(p + SIZE - VGM_PAGE, &v2);
	sig4 = vgm_probe_read(d, &v4);
	vgm_sigbus_restore();
	vgm_hold_end();
	sched_setaffinity(0, sizeof(all), &all);

	/* the three results, in words */
	if (!LOAD(r->removed))
		snprintf(what1, sizeof(what1), "the write of 1 to %s/remove had not returned %" PRIu64 " ms after it started",
			 pci, (mono_ns() - removal) / 1000000);
	else if (LOAD(r->remove_err))
		snprintf(what1, sizeof(what1), "the write of 1 to %s/remove failed: %s",
			 pci, strerror(LOAD(r->remove_err)));
	else
		snprintf(what1, sizeof(what1), "the GPU %s was removed through sysfs (the write took %" PRIu64 " ms)",
			 pci, (LOAD(r->remove_end_ns) - removal) / 1000000);
	ok1 = LOAD(r->removed) && !LOAD(r->remove_err);

	ok2 = false;
	if (LOAD(r->waiter_done)) {
		uint64_t t = LOAD(r->waiter_ns);
		int werr = LOAD(r->waiter_err);

		if (t < removal)
			snprintf(what2, sizeof(what2), "the child's mmap() of a blob whose MAP_BLOB answer the host held returned (%s) before the removal",
				 werr ? strerror(werr) : "mapped");
		else if (!werr)
			snprintf(what2, sizeof(what2), "the child's mmap() of a blob whose MAP_BLOB answer the host held succeeded %" PRIu64 " ms after the removal: it mapped a blob of a removed device",
				 (t - removal) / 1000000);
		else if (t - removal < late_ns / 2 && t - sent < late_ns)
			snprintf(what2, sizeof(what2), "the child's mmap() of a blob whose MAP_BLOB answer the host held failed with %s %" PRIu64 " ms after the removal, before the host's answer (due %u ms after the MAP_BLOB, %" PRIu64 " ms after the removal)",
				 strerror(werr), (t - removal) / 1000000, host.late_ms, (sent + late_ns - removal) / 1000000);
		else
			snprintf(what2, sizeof(what2), "the child's mmap() of a blob whose MAP_BLOB answer the host held failed with %s only %" PRIu64 " ms after the removal (%" PRIu64 " ms after the MAP_BLOB; the host answers after %u ms): the removal did not end the wait",
				 strerror(werr), (t - removal) / 1000000, (t - sent) / 1000000, host.late_ms);
		ok2 = t >= removal && werr && t - removal < late_ns / 2 && t - sent < late_ns;
	} else if (waiter_left) {
		snprintf(what2, sizeof(what2), "the child waiting in mmap() for the host's answer died (status 0x%x)", status);
	} else {
		snprintf(what2, sizeof(what2), "the child waiting in mmap() for the host's answer was still asleep there (state %c, wchan %s) %" PRIu64 " ms after the removal, after the host's answer was due (%u ms after the MAP_BLOB); %s",
			 state, wchan, (gave_up - removal) / 1000000, host.late_ms,
			 waiter_reaped ? "SIGKILL ended it: the wait is killable, but the removal does not end it" :
			 "SIGKILL did not end it within 2 s either: it waits uninterruptibly (left behind asleep)");
	}

	if (sig == SIGBUS && sig2 == SIGBUS)
		snprintf(what3, sizeof(what3), "touching the blob mapped and touched before the removal raised SIGBUS");
	else if (sig == SIGBUS)
		snprintf(what3, sizeof(what3), "touching the blob mapped before the removal raised SIGBUS on its first page, but its last page %s",
			 sig2 ? strsignal(sig2) : "read back");
	else if (!sig)
		snprintf(what3, sizeof(what3), "touching the blob mapped before the removal read 0x%08x (%s)%s",
			 v, v == vgm_stamp(61, 0) ? "its data" : "not its data",
			 ok1 ? ": a PFN of the removed device was inserted (or its PTE never zapped), expected SIGBUS" :
			 ", but the device was not removed");
	else
		snprintf(what3, sizeof(what3), "touching the blob mapped before the removal raised %s, expected SIGBUS",
			 strsignal(sig));
	ok3 = sig == SIGBUS && sig2 == SIGBUS;

	/* (4) its dma-buf mapping: drm_dev_unplug() zaps it only if it shares the device's address space */
	if (sig4 == SIGBUS)
		snprintf(what4, sizeof(what4), "touching its dma-buf mapping raised SIGBUS");
	else if (!sig4)
		snprintf(what4, sizeof(what4), "touching its dma-buf mapping read 0x%08x (%s)%s",
			 v4, v4 == vgm_stamp(61, 0) ? "its data" : "not its data",
			 ok1 ? ": the removal left its PTEs in place, expected SIGBUS" : ", but the device was not removed");
	else
		snprintf(what4, sizeof(what4), "touching its dma-buf mapping raised %s, expected SIGBUS", strsignal(sig4));
	ok4 = sig4 == SIGBUS;

	igt_info("device-remove: parent and waiter on CPU %d, remover on CPU %d; waiter seen in mmap() %" PRIu64 " us after MAP_BLOB, removal %" PRIu64 " us after it; remover %s\n",
		 cpu, LOAD(r->remover_cpu), seen_ns / 1000, (removal - sent) / 1000,
		 remover_left ? "exited" : "still in the kernel, killed");
	igt_info("device-remove: (1) %s; (2) %s; (3) %s; (4) %s; (5) %s\n", what1, what2, what3, what4, what5);
	igt_assert_f(ok1 && ok2 && ok3 && ok4, "%s%s%s%s%s%s%s: (1) %s; (2) %s; (3) %s; (4) %s\n",
		     ok1 ? "" : "the device was not removed",
		     !ok1 && (!ok2 || !ok3 || !ok4) ? ", " : "",
		     ok2 ? "" : "the removal did not end the wait in mmap() for the host's answer",
		     !ok2 && (!ok3 || !ok4) ? ", " : "",
		     ok3 ? "" : "a mapping of the removed device did not raise SIGBUS",
		     !ok3 && !ok4 ? ", " : "",
		     ok4 ? "" : "a dma-buf mapping of the removed device did not raise SIGBUS",
		     what1, what2, what3, what4);
	igt_assert_f(ok5, "a fence of the removed device was %s: (5) %s\n",
		     fence_fd < 0 ? "not made" : "not signalled with an error", what5);

	/* the device stays removed: nothing runs after this subtest */
	if (fence_fd >= 0)
		close(fence_fd);
	munmap(d, SIZE);
	close(dmabuf);
	vgm_unmap(p, SIZE);
	vgm_ctx_close(&c);
	close(rfd);
	close(devnull);
	munmap(r, sizeof(*r));
}

/* 4 blobs live at a time, the oldest closed as a new one is made */
#define MM_RING 4
#define MM_READERS 2
#define MM_LOOP_NS (6000ull * 1000000)
/* a reader that cannot open the dump exits with this, one that fails a read with its errno */
#define MM_NO_OPEN 255

/*
 * A reader of the allocator's dump, on CPU @cpu, for MM_LOOP_NS: one open
 * file, read again and again from offset 0 (each pread at 0 prints the
 * dump anew), so that most of its time is spent walking the allocator.
 */
static void __attribute__((noreturn)) mm_reader(int fd, int cpu)
{
	static char buf[1 << 16];
	struct timespec t0;
	cpu_set_t set;
	int dfd;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		igt_debug("reader: cannot run on CPU %d only: %s\n", cpu, strerror(errno));
	dfd = vgm_debugfs_dev_open(fd, "virtio-gpu-host-visible-mm");
	if (dfd < 0)
		_exit(MM_NO_OPEN);
	igt_gettime(&t0);
	while (igt_nsec_elapsed(&t0) < MM_LOOP_NS)
		if (pread(dfd, buf, sizeof(buf), 0) < 0)
			_exit(errno < MM_NO_OPEN ? errno : MM_NO_OPEN - 1);
	_exit(0);
}

static void test_debugfs_mm_vs_unmap(void)
{
	struct vgm_blob ring[MM_RING] = {};
	pid_t reader[MM_READERS];
	int status[MM_READERS], timed_out[MM_READERS], cpus[MM_READERS];
	struct drm_gem_close gc = {};
	cpu_set_t all, first;
	struct vgm_host h;
	struct vgm_ctx c;
	struct timespec t0;
	uint64_t made = 0, waited, left;
	int i, n, cpu, dfd, err = 0;

	/* (a slow host holds QEMU MS ms per blob; a sequence is for the remap subtests) */
	vgm_host_get(&h);
	igt_require_f(h.kind != VGM_HOST_UNSET && !h.late_ms,
		      "needs a host that answers at once, with one answer (VGM_HOST_MAPINFO: %s)\n", h.name);
	vgm_ctx_open(&c);
	/* (an open is no read: the dump is printed only when read) */
	dfd = vgm_debugfs_dev_open(c.fd, "virtio-gpu-host-visible-mm");
	igt_require_f(dfd >= 0, "no debugfs virtio-gpu-host-visible-mm to read\n");
	close(dfd);
	/* the blob list before any read: on a kernel without it, not one unlocked read */
	igt_require_f(vgm_has_blob_list(c.fd),
		      "a kernel without debugfs virtio-gpu-host-visible-blobs: the upstream driver prints the allocator without host_visible_lock, and this subtest would crash the guest\n");

	/* one reader on each of the first two CPUs we may run on (one where there is one) */
	igt_assert_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	for (cpu = 0, n = 0; cpu < CPU_SETSIZE && n < MM_READERS; cpu++)
		if (CPU_ISSET(cpu, &all))
			cpus[n++] = cpu;
	igt_assert(n > 0);
	for (i = 0; i < n; i++) {
		reader[i] = fork();
		if (!reader[i])
			mm_reader(c.fd, cpus[i]);
		if (reader[i] < 0) {
			err = -errno;
			n = i;
			break;
		}
	}

	/*
	 * The parent on the first reader's CPU while it makes and closes
	 * blobs, so that the second reader has a CPU to itself (0 of 5 runs
	 * killed the mutant with one reader, on CPU 0, where the driver's
	 * work item ran). Nothing in this loop asserts: the mask is restored
	 * and the readers reaped before any verdict.
	 */
	CPU_ZERO(&first);
	CPU_SET(cpus[0], &first);
	if (sched_setaffinity(0, sizeof(first), &first))
		igt_debug("cannot run on CPU %d only: %s\n", cpus[0], strerror(errno));
	igt_gettime(&t0);
	while (!err && igt_nsec_elapsed(&t0) < MM_LOOP_NS) {
		struct vgm_blob *b = &ring[made % MM_RING];

		if (b->handle) {
			gc.handle = b->handle;
			if (igt_ioctl(c.fd, DRM_IOCTL_GEM_CLOSE, &gc))
				err = -errno;
		}
		memset(b, 0, sizeof(*b));
		if (!err)
			err = __vgm_blob_create(c.fd, SIZE, VIRTGPU_BLOB_MEM_HOST3D,
						VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, b);
		if (!err)
			made++;
	}
	for (i = 0; i < MM_RING; i++) {
		gc.handle = ring[i].handle;
		if (gc.handle)
			igt_ioctl(c.fd, DRM_IOCTL_GEM_CLOSE, &gc);
	}
	sched_setaffinity(0, sizeof(all), &all);

	/* the readers' loops end with the parent's: 10 s more, for all, is a reader stuck in the kernel */
	for (i = 0; i < n; i++) {
		left = igt_nsec_elapsed(&t0);
		left = left < MM_LOOP_NS + 10000ull * 1000000 ? MM_LOOP_NS + 10000ull * 1000000 - left : 0;
		timed_out[i] = vgm_reap(reader[i], left, &status[i], &waited) != 0;
		if (timed_out[i]) {
			kill(reader[i], SIGKILL);
			/* (one that SIGKILL does not end either is left to the runner) */
			vgm_reap(reader[i], 2000ull * 1000000, &status[i], &waited);
		}
	}
	igt_info("debugfs-mm-vs-unmap: %" PRIu64 " blobs made and closed while %d readers read the allocator\n",
		 made, n);
	igt_assert_f(err == 0, "making or closing blob %" PRIu64 " failed: %s\n", made, strerror(-err));
	for (i = 0; i < n; i++) {
		igt_assert_f(!timed_out[i],
			     "reader %d of debugfs virtio-gpu-host-visible-mm did not end its 6 s loop within 10 s more: stuck in the kernel\n",
			     i);
		igt_assert_f(!WIFEXITED(status[i]) || WEXITSTATUS(status[i]) != MM_NO_OPEN,
			     "reader %d could not open debugfs virtio-gpu-host-visible-mm\n", i);
		igt_assert_f(WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0,
			     "reader %d of debugfs virtio-gpu-host-visible-mm %s %s while %" PRIu64 " blobs were made and closed\n",
			     i, WIFSIGNALED(status[i]) ? "was killed by" : "failed a read:",
			     WIFSIGNALED(status[i]) ? strsignal(WTERMSIG(status[i])) :
			     strerror(WEXITSTATUS(status[i])), made);
	}
	vgm_ctx_close(&c);
}

int igt_main()
{
	igt_fixture()
		vgm_require_host_visible_device();

	igt_describe("The mapping outlives the GEM handle.");
	igt_subtest("close-handle")
		test_close_handle();

	igt_describe("A dma-buf mapping outlives the DRM file, every handle and the dma-buf fd.");
	igt_subtest("close-fd")
		test_close_fd();

	igt_describe("fork() shares the mapping.");
	igt_subtest("fork")
		test_fork();

	igt_describe("ptrace and /proc/pid/mem reach the mapping.");
	igt_subtest("ptrace")
		test_ptrace();

	igt_describe("/proc/pid/mem cannot write a read-only mapping and reads only the mapping.");
	igt_subtest("proc-mem-readonly")
		test_proc_mem_readonly();

	igt_describe("Pages first touched after mremap moved the mapping fault in the blob's pages.");
	igt_subtest("mremap")
		test_mremap();

	igt_describe("mremap cannot grow the mapping (enforced by DRM core/core mm, not driver proof).");
	igt_subtest("mremap-grow")
		test_mremap_grow();

	igt_describe("MADV_DONTNEED is refused and drops nothing (enforced by DRM core/core mm, not driver proof).");
	igt_subtest("madvise-dontneed")
		test_madvise();

	igt_describe("Split mappings keep faulting in the right pages.");
	igt_subtest("split-vma")
		test_split_vma();

	igt_describe("mprotect keeps the cache mode.");
	igt_subtest("mprotect")
		test_mprotect();

	igt_describe("System calls read and write the mapping.");
	igt_subtest("syscall-io")
		test_syscall_io();

	igt_describe("A blob unmapped on the host faults with SIGBUS.");
	igt_subtest("hook-unmap")
		test_hook_unmap();

	igt_describe("A blob mapped again on the host faults in again.");
	igt_subtest("hook-remap")
		test_hook_remap();

	igt_describe("Concurrent remaps send one RESOURCE_MAP_BLOB each, never two at a time.");
	igt_subtest("remap-race")
		test_remap_race();

	igt_describe("Every new answer of the host after a remap is applied and reported.");
	igt_subtest("hook-remap-answers")
		test_hook_remap_answers();

	igt_describe("mprotect() of a mapping made under an earlier host answer keeps the current answer's memory type.");
	igt_subtest("remap-mprotect")
		test_remap_mprotect();

	igt_describe("A task waiting for the host's map answer can be killed.");
	igt_subtest("killed-waiter")
		test_killed_waiter();

	igt_describe("A task whose system call faults on a remapped blob can be killed.");
	igt_subtest("killed-waiter-syscall")
		test_killed_waiter_remap(true);

	igt_describe("A task faulting on a remapped blob can be killed.");
	igt_subtest("killed-waiter-fault")
		test_killed_waiter_remap(false);

	igt_describe("Reading the allocator's debugfs dump while blobs are closed is safe.");
	igt_subtest("debugfs-mm-vs-unmap")
		test_debugfs_mm_vs_unmap();

	/* the last subtest of the last binary of the suite: the device stays removed */
	igt_describe("Removing the GPU ends a wait in mmap() for the host's answer, and mappings of the removed device fault with SIGBUS.");
	igt_subtest("device-remove")
		test_device_remove();
}
