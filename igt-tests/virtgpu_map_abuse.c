// SPDX-License-Identifier: MIT
/*
 * virtgpu_map_abuse: mappings of host-visible virtio-gpu blobs that must be
 * refused, races, and a full host-visible window.
 */

/**
 * TEST: virtgpu map abuse
 * Category: Core
 * Mega feature: General Core features
 * Sub-category: Memory management
 * Functionality: virtio-gpu host-visible blob mappings
 * Test category: negative test
 * Description: Requests the driver must refuse with the exact errno,
 *		faults racing with the host unmapping the blob, and blobs until
 *		the host-visible window is full.
 *
 * SUBTEST: private-mapping
 * Description: MAP_PRIVATE mappings of a host-visible blob, read-write and
 *		read-only, are refused with EINVAL: copy-on-write of host
 *		memory mapped by PFN cannot work.
 *
 * SUBTEST: out-of-bounds
 * Description: Mappings that extend past the blob, through the DRM file
 *		and through a dma-buf, and DRM file mappings at a non-zero
 *		offset, are refused with EINVAL; the last page through a
 *		dma-buf is not. Enforced by DRM core/core mm, not driver proof.
 *
 * SUBTEST: not-mappable
 * Description: A host blob created without USE_MAPPABLE gets a fake
 *		offset but its mmap, through the DRM file or a dma-buf, fails
 *		with EINVAL; RESOURCE_INFO reports UNKNOWN.
 *
 * SUBTEST: foreign-offset
 * Description: Another DRM file cannot mmap the blob's fake offset
 *		(EACCES). Enforced by DRM core/core mm, not driver proof.
 *
 * SUBTEST: foreign-handle
 * Description: Another DRM file cannot use the blob's GEM handle:
 *		VIRTGPU_MAP and RESOURCE_INFO fail with ENOENT. Enforced by DRM
 *		core/core mm, not driver proof.
 *
 * SUBTEST: hook-errors
 * Description: The debugfs hook refuses malformed commands (EINVAL), bad
 *		file descriptors (EBADF), files that are not this DRM device
 *		(EINVAL), unknown handles (ENOENT), guest-memory blobs (EINVAL)
 *		and blobs never mapped on the host (ENXIO).
 *
 * SUBTEST: fault-vs-unmap
 * Description: Four threads read pages 97 pages apart all over a 4 MiB +
 *		64 KiB blob mapped off PMD alignment (4 KiB faults only, none
 *		touched before), from the start, while the test unmaps and
 *		remaps the blob on the host through the debugfs hook for
 *		1.5 s (the unmap's zap makes every later read a fault again).
 *		Every read gives the blob's data or SIGBUS, no other signal,
 *		none succeeds between an unmap and the next remap, a page the
 *		test thread faulted in raises SIGBUS right after every unmap,
 *		no thread hangs (10 s), the blob ends with its data and the
 *		host's attribute in 4 KiB PTEs, and the kernel logs no splat.
 *
 * SUBTEST: fault-vs-remap
 * Description: Threads fault every page of a blob while the host unmaps and
 *		maps it again, 200 times with the same answer, mostly back to
 *		back (a fault retried after one answer finds the next remap):
 *		no thread ever gets a signal (faults during a remap wait for
 *		the new answer) and the mapping ends with the attribute of the
 *		answer.
 *
 * SUBTEST: window-full
 * Description: Blobs are created and mapped until the host-visible window
 *		is full: the error is ENOSPC or ENOMEM, mappings keep working,
 *		and after everything is freed new blobs fit again and no PAT
 *		reservation is left in the window.
 *
 * SUBTEST: window-capacity
 * Description: Blobs of 2 MiB + 4 KiB are created and mapped until the
 *		host-visible window is full (ENOSPC): exactly floor(window /
 *		blob size) fit, the window's size taken from the device (its
 *		virtio PCI shared memory capability), as with the stock
 *		driver, which places blobs without padding (a 2 MiB-aligned
 *		placement fits only half as many). Windows larger than
 *		512 MiB are first filled with 256 MiB blobs down to the last
 *		256 MiB or more, which are counted. Everything is freed after.
 *
 * SUBTEST: window-full-deferred
 * Description: A blob created with DRM_VIRTGPU_BLOB_FLAG_HINT_DEFER_MAPPING
 *		while the window is full fails to mmap with ENOSPC at once
 *		(in a child, within 5 s: a kernel whose mmap waits for a
 *		RESOURCE_MAP_BLOB it never sent fails, and its child is
 *		released by mapping the blob once there is room), and maps once
 *		there is room.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "igt_harness.h"
#include "virtgpu_map_lib.h"

IGT_TEST_DESCRIPTION("Mappings of host-visible virtio-gpu blobs that must be refused, races with the host unmapping them, and a full host-visible window.");

#define SIZE (64 * VGM_KIB)

static void assert_mmap_fails(void *p, int err, uint64_t len, int want, const char *what)
{
	if (p)
		munmap(p, len);
	igt_assert_f(!p, "%s: accepted, expected %s\n", what, strerror(want));
	igt_assert_f(err == want, "%s: %s, expected %s\n", what, strerror(err), strerror(want));
}

static void test_private(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	void *p;
	int err;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);

	p = __vgm_mmap(&b, 0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, &err);
	assert_mmap_fails(p, err, SIZE, EINVAL,
			  "MAP_PRIVATE read-write mapping of host memory (copy-on-write of PFNs without struct page)");
	p = __vgm_mmap(&b, 0, SIZE, PROT_READ, MAP_PRIVATE, &err);
	assert_mmap_fails(p, err, SIZE, EINVAL, "MAP_PRIVATE read-only mapping of host memory");
	p = __vgm_mmap_via(&b, VGM_VIA_DMABUF, 0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, &err);
	assert_mmap_fails(p, err, SIZE, EINVAL, "MAP_PRIVATE mapping of the blob's dma-buf");

	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_out_of_bounds(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	int err, refusal;
	uint8_t *p;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);

	p = __vgm_mmap(&b, 0, SIZE + VGM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	assert_mmap_fails(p, err, SIZE + VGM_PAGE, EINVAL, "DRM mapping one page longer than the blob");
	p = __vgm_mmap(&b, SIZE - VGM_PAGE, 2 * VGM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	assert_mmap_fails(p, err, 2 * VGM_PAGE, EINVAL, "DRM mapping of the last page and one past it");
	p = __vgm_mmap(&b, VGM_PAGE, VGM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	assert_mmap_fails(p, err, VGM_PAGE, EINVAL,
			  "DRM mapping at a non-zero offset (DRM looks fake offsets up exactly)");

	p = __vgm_mmap_via(&b, VGM_VIA_DMABUF, 0, SIZE + VGM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	assert_mmap_fails(p, err, SIZE + VGM_PAGE, EINVAL, "dma-buf mapping one page longer than the blob");
	p = __vgm_mmap_via(&b, VGM_VIA_DMABUF, SIZE - VGM_PAGE, 2 * VGM_PAGE,
			   PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	assert_mmap_fails(p, err, 2 * VGM_PAGE, EINVAL, "dma-buf mapping of the last page and one past it");
	p = __vgm_mmap_via(&b, VGM_VIA_DMABUF, SIZE, VGM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	assert_mmap_fails(p, err, VGM_PAGE, EINVAL, "dma-buf mapping past the end of the blob");

	/* the last page itself is fine */
	p = vgm_map_expected(&c, &b, VGM_VIA_DMABUF, SIZE - VGM_PAGE, VGM_PAGE, &e, &refusal);
	if (p) {
		vgm_write_stamps(p, VGM_PAGE, 31);
		igt_assert_f(vgm_check_stamps(p, VGM_PAGE, 31) < 0, "the blob's last page does not read back\n");
		vgm_unmap(p, VGM_PAGE);
	}

	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_not_mappable(void)
{
	struct vgm_resource_info ri;
	struct vgm_ctx c;
	struct vgm_blob b;
	uint64_t offset;
	int ret, err;
	void *p;

	vgm_ctx_open(&c);
	ret = __vgm_blob_create(c.fd, SIZE, VIRTGPU_BLOB_MEM_HOST3D, 0, 0, &b);
	igt_assert_f(ret == 0, "RESOURCE_CREATE_BLOB(HOST3D) without USE_MAPPABLE failed: %s\n", strerror(-ret));
	ret = __vgm_map_offset(c.fd, b.handle, &offset);
	igt_assert_f(ret == 0, "VIRTGPU_MAP of a non-mappable blob failed: %s (it only hands out the fake offset)\n",
		     strerror(-ret));

	p = __vgm_mmap(&b, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	assert_mmap_fails(p, err, SIZE, EINVAL, "mmap of a blob created without USE_MAPPABLE");
	p = __vgm_mmap_via(&b, VGM_VIA_DMABUF, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	assert_mmap_fails(p, err, SIZE, EINVAL, "dma-buf mmap of a blob created without USE_MAPPABLE");

	if (c.have_query) {
		ret = __vgm_query(c.fd, b.handle, &ri);
		igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
		igt_assert_f(ri.map_caching == VIRTGPU_MAP_CACHING_UNKNOWN && ri.map_info == 0,
			     "a blob that is not mapped on the host reports %s, map_info 0x%x; expected UNKNOWN, 0\n",
			     vgm_caching_name(ri.map_caching), ri.map_info);
	}
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_foreign_offset(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	uint64_t offset;
	int other, ret;
	void *p;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	ret = __vgm_map_offset(c.fd, b.handle, &offset);
	igt_assert_f(ret == 0, "VIRTGPU_MAP failed: %s\n", strerror(-ret));

	other = vgm_open_render();
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, other, offset);
	assert_mmap_fails(p == MAP_FAILED ? NULL : p, p == MAP_FAILED ? errno : 0, SIZE, EACCES,
			  "mmap of another client's fake offset");
	close(other);

	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_foreign_handle(void)
{
	struct drm_virtgpu_map m = {};
	struct vgm_resource_info ri = {};
	struct vgm_ctx c;
	struct vgm_blob b;
	int other;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);

	other = vgm_open_render();
	m.handle = b.handle;
	igt_assert_f(igt_ioctl(other, DRM_IOCTL_VIRTGPU_MAP, &m) == -1 && errno == ENOENT,
		     "VIRTGPU_MAP of another file's handle %u: %s, expected ENOENT\n",
		     b.handle, errno ? strerror(errno) : "succeeded");
	ri.bo_handle = b.handle;
	igt_assert_f(igt_ioctl(other, VGM_IOCTL_RESOURCE_INFO, &ri) == -1 && errno == ENOENT,
		     "RESOURCE_INFO of another file's handle %u: %s, expected ENOENT\n",
		     b.handle, errno ? strerror(errno) : "succeeded");
	close(other);

	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static int hook_raw(int fd, const char *text)
{
	char path[512];
	int hfd, ret = 0;
	ssize_t len = strlen(text);

	igt_assert_eq(vgm_hook_path(fd, path, sizeof(path)), 0);
	hfd = open(path, O_WRONLY | O_CLOEXEC);
	igt_assert_fd(hfd);
	if (write(hfd, text, len) != len)
		ret = -errno;
	close(hfd);
	return ret;
}

static void test_hook_errors(void)
{
	struct vgm_ctx c;
	struct vgm_blob b, g, d;
	char cmd[64];
	int ret, nul;

	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, SIZE, &b);
	vgm_blob_guest(c.fd, SIZE, &g);
	ret = __vgm_blob_create(c.fd, SIZE, VIRTGPU_BLOB_MEM_HOST3D, VIRTGPU_BLOB_FLAG_USE_MAPPABLE,
				DRM_VIRTGPU_BLOB_FLAG_HINT_DEFER_MAPPING, &d);
	igt_assert_f(ret == 0, "RESOURCE_CREATE_BLOB with the DEFER_MAPPING hint failed: %s\n", strerror(-ret));

	ret = hook_raw(c.fd, "frobnicate 1 2");
	igt_assert_f(ret == -EINVAL, "hook: unknown command: %s, expected EINVAL\n", strerror(-ret));
	ret = hook_raw(c.fd, "unmap");
	igt_assert_f(ret == -EINVAL, "hook: missing arguments: %s, expected EINVAL\n", strerror(-ret));
	ret = hook_raw(c.fd, "unmap 100000 1");
	igt_assert_f(ret == -EBADF, "hook: unused fd: %s, expected EBADF\n", strerror(-ret));

	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	snprintf(cmd, sizeof(cmd), "unmap %d %u", nul, b.handle);
	ret = hook_raw(c.fd, cmd);
	close(nul);
	igt_assert_f(ret == -EINVAL, "hook: fd of /dev/null: %s, expected EINVAL\n", strerror(-ret));

	ret = vgm_hook(c.fd, "unmap", 0x7fffffff);
	igt_assert_f(ret == -ENOENT, "hook: unknown handle: %s, expected ENOENT\n", strerror(-ret));
	ret = vgm_hook(c.fd, "unmap", g.handle);
	igt_assert_f(ret == -EINVAL, "hook: guest-memory blob: %s, expected EINVAL\n", strerror(-ret));
	ret = vgm_hook(c.fd, "remap", d.handle);
	igt_assert_f(ret == -ENXIO, "hook: blob never mapped on the host: %s, expected ENXIO\n", strerror(-ret));

	vgm_gem_close(c.fd, d.handle);
	vgm_gem_close(c.fd, g.handle);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

struct racer {
	pthread_t thread;
	int id;
	uint8_t *p;
	uint64_t pages;
	uint32_t seed;
	volatile int *stop;
	volatile unsigned int *phase;	/* odd: the blob is unmapped on the host */
	uint64_t reads, sigbus, bad, stale;
	int other_sig;
	uint64_t bad_page, stale_page;
	uint32_t bad_val;
	volatile int done;
};

/*
 * Reads pages spread over the blob, 97 pages apart: the first read of each
 * page table's range after a revoke zapped the PTEs is a fault.
 */
static void *racer_fn(void *arg)
{
	struct racer *w = arg;
	uint64_t i;

	for (i = 0; !*w->stop; i++) {
		uint64_t page = (i * 97 + (uint64_t)w->id * 331) % w->pages;
		unsigned int before = __atomic_load_n(w->phase, __ATOMIC_ACQUIRE), after;
		uint32_t v = 0;
		int sig;

		sig = vgm_probe_read(w->p + page * VGM_PAGE, &v);
		after = __atomic_load_n(w->phase, __ATOMIC_ACQUIRE);
		if (sig == SIGBUS) {
			w->sigbus++;
			continue;
		}
		if (sig) {
			w->other_sig = sig;
			break;
		}
		w->reads++;
		if (v != vgm_stamp(w->seed, page)) {
			if (!w->bad++) {
				w->bad_page = page;
				w->bad_val = v;
			}
		} else if (before == after && (before & 1)) {
			/* the whole read lay between an unmap and the next remap */
			if (!w->stale++)
				w->stale_page = page;
		}
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

#define NWORKERS 6
#define NRACERS 4
#define NREMAP_READERS 8 /* fault-vs-remap */
#define RACE_NS 1500000000ull

static void test_fault_vs_unmap(void)
{
	struct racer w[NRACERS] = {};
	volatile unsigned int phase = 0;
	volatile int stop = 0;
	struct timespec start = {}, deadline;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint64_t size = 4 * VGM_MIB + 64 * VGM_KIB, pages = size / VGM_PAGE, pmd, reads = 0, sigbus = 0;
	uint64_t probe_page = 0;
	const char *step = "unmap";
	uint32_t v;
	uint8_t *p;
	int i, ret = 0, stuck = 0, rounds = 0, sig = 0, probe_sig = SIGBUS, cache, kmsg;

	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, size, &b);
	/* stamped, then mapped again off PMD alignment, untouched: 4 KiB faults only */
	p = vgm_map_fresh(&c, &b, VGM_VIA_DRM, 32, &e);
	kmsg = vgm_kmsg_open();

	vgm_sigbus_install();
	for (i = 0; i < NRACERS; i++) {
		w[i].id = i;
		w[i].p = p;
		w[i].pages = pages;
		w[i].seed = 32;
		w[i].stop = &stop;
		w[i].phase = &phase;
		igt_assert_eq(pthread_create(&w[i].thread, NULL, racer_fn, &w[i]), 0);
	}

	/*
	 * No warm-up: unmap and map the blob again on the host, over and
	 * over, while the racers fault. Right after each unmap, a page this
	 * thread had faulted in must raise SIGBUS (its PTE was zapped).
	 */
	igt_gettime(&start);
	while (igt_nsec_elapsed(&start) < RACE_NS) {
		probe_page = (rounds * 13 + 5) % pages;
		sig = vgm_probe_read(p + probe_page * VGM_PAGE, &v);
		if (sig)
			break;
		step = "unmap";
		ret = vgm_hook(c.fd, "unmap", b.handle);
		if (ret)
			break;
		__atomic_store_n(&phase, 2 * rounds + 1, __ATOMIC_RELEASE);
		probe_sig = vgm_probe_read(p + probe_page * VGM_PAGE, &v);
		if (probe_sig != SIGBUS)
			break;
		usleep(500);
		__atomic_store_n(&phase, 2 * rounds + 2, __ATOMIC_RELEASE);
		step = "remap";
		ret = vgm_hook(c.fd, "remap", b.handle);
		if (ret)
			break;
		rounds++;
		usleep(500);
	}

	/* every racer leaves within 10 s, or is stuck in a fault */
	stop = 1;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	for (i = 0; i < NRACERS; i++)
		if (pthread_timedjoin_np(w[i].thread, NULL, &deadline))
			stuck++;
	vgm_sigbus_restore();

	igt_assert_f(!stuck, "%d of %d threads are stuck in a fault 10 s after %d host unmaps and remaps\n",
		     stuck, NRACERS, rounds);
	igt_assert_f(ret == 0, "debugfs hook: %s %d failed: %s\n", step, rounds, strerror(-ret));
	igt_assert_f(!sig, "round %d: page %" PRIu64 " raised %s while the blob was mapped on the host (after %d remaps with the same answer)\n",
		     rounds, probe_page, strsignal(sig), rounds);
	igt_assert_f(probe_sig == SIGBUS,
		     "round %d: page %" PRIu64 ", faulted in before the host unmapped the blob, %s after the unmap: its PTE was not zapped%s\n",
		     rounds, probe_page, probe_sig ? strsignal(probe_sig) : "still reads",
		     probe_sig ? "" : " (stale mapping of host memory the host let go of)");
	for (i = 0; i < NRACERS; i++) {
		igt_info("thread %d: %" PRIu64 " reads, %" PRIu64 " SIGBUS\n", i, w[i].reads, w[i].sigbus);
		igt_assert_f(!w[i].other_sig, "thread %d got %s, expected data or SIGBUS\n",
			     i, strsignal(w[i].other_sig));
		igt_assert_f(!w[i].bad,
			     "thread %d read wrong data %" PRIu64 " times (first at page %" PRIu64 ": 0x%08x, the blob holds 0x%08x)\n",
			     i, w[i].bad, w[i].bad_page, w[i].bad_val, vgm_stamp(32, w[i].bad_page));
		igt_assert_f(!w[i].stale,
			     "thread %d read %" PRIu64 " times between a host unmap and the next remap (first at page %" PRIu64 "): stale mapping\n",
			     i, w[i].stale, w[i].stale_page);
		reads += w[i].reads;
		sigbus += w[i].sigbus;
	}
	igt_info("%d host unmaps and remaps in %" PRIu64 " ms; the racers read %" PRIu64 " times and got SIGBUS %" PRIu64 " times\n",
		 rounds, igt_nsec_elapsed(&start) / 1000000, reads, sigbus);
	igt_assert_f(rounds > 0 && reads > 0, "no race: %d unmap/remap rounds, %" PRIu64 " reads\n", rounds, reads);

	/* after the last remap: the blob's data, with the host's attribute, in PTEs */
	vgm_assert_stamps(p, size, 32, "after the races");
	cache = vgm_assert_ptes(p, size, "after the races");
	igt_assert_f(vgm_present(p, size, &pmd) == size && pmd == 0,
		     "a mapping placed off PMD alignment has %" PRIu64 " KiB in PMD entries\n", pmd / 1024);
	if (e.cache != VGM_CACHE_ANY)
		igt_assert_f(cache == e.cache, "after the races host-%s memory is mapped %s\n",
			     vgm_attr_name(e.attr), vgm_cache_name(cache));
	vgm_kmsg_assert_clean(kmsg, "faults racing host unmaps and remaps");
	vgm_unmap(p, size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

struct reader {
	pthread_t thread;
	int id;
	uint8_t *p;
	uint64_t pages;
	volatile int *stop;
	uint64_t reads;
	int sig;
	int cpu; /* >= 0: runs there, at SCHED_IDLE */
	int remapper_cpu;
	int setup_err;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	struct sched_param sp = {};
	cpu_set_t set;
	uint64_t i;
	uint32_t v;

	/* the others stay off that CPU, where there is another */
	r->setup_err = pthread_getaffinity_np(pthread_self(), sizeof(set), &set);
	if (!r->setup_err && r->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(r->cpu, &set);
		r->setup_err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) ?:
			       pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	} else if (!r->setup_err && CPU_COUNT(&set) > 1) {
		CPU_CLR(r->remapper_cpu, &set);
		r->setup_err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (r->setup_err)
		return NULL;
	for (i = 0; !*r->stop; i++) {
		uint64_t page = (i * 7919 + (uint64_t)r->id * 131) % r->pages;

		r->sig = vgm_probe_read(r->p + page * VGM_PAGE, &v);
		if (r->sig)
			break;
		__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_fault_vs_remap(void)
{
	struct reader r[NREMAP_READERS] = {};
	struct timespec deadline;
	volatile int stop = 0;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	cpu_set_t all, one;
	uint64_t size = 4 * VGM_MIB + 4 * VGM_KIB;
	int i, n, ret = 0, stuck = 0, cache, cpu;
	uint8_t *p;

	vgm_ctx_open(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, size, &b);
	p = vgm_map_or_skip(&c, &b, &e);

	/*
	 * The remapping thread keeps a CPU to itself: half the readers share
	 * it at SCHED_IDLE (one that a host answer wakes runs only once this
	 * thread sleeps, when its next remap has begun: a busy guest does
	 * that by chance), the others fault on the other CPUs, racing the
	 * zaps, and never delay a remap.
	 */
	cpu = sched_getcpu();
	igt_assert(cpu >= 0);
	igt_assert_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	vgm_sigbus_install();
	for (i = 0; i < NREMAP_READERS; i++) {
		r[i].cpu = i % 2 ? -1 : cpu;
		r[i].remapper_cpu = cpu;
		r[i].id = i;
		r[i].p = p;
		r[i].pages = size / VGM_PAGE;
		r[i].stop = &stop;
		igt_assert_eq(pthread_create(&r[i].thread, NULL, reader_fn, &r[i]), 0);
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	igt_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	/*
	 * Back to back, with a pause every tenth round for the readers to
	 * map the blob: a fault that waited for one answer is often retried
	 * only after the next remap began, and must wait for that one too.
	 */
	for (n = 0; n < 200 && !ret; n++) {
		if (n % 10 == 0)
			usleep(20 * 1000);
		ret = vgm_hook(c.fd, "remap", b.handle);
	}
	usleep(50 * 1000);
	stop = 1;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;
	for (i = 0; i < NREMAP_READERS; i++)
		if (pthread_timedjoin_np(r[i].thread, NULL, &deadline))
			stuck++;
	vgm_sigbus_restore();
	igt_assert_eq(sched_setaffinity(0, sizeof(all), &all), 0);

	igt_assert_f(!stuck, "%d of %d threads are stuck in a fault after %d remaps\n", stuck, NREMAP_READERS, n);
	igt_assert_f(ret == 0, "debugfs hook: remap %d failed: %s\n", n, strerror(-ret));
	for (i = 0; i < NREMAP_READERS; i++) {
		igt_info("thread %d (%s): %" PRIu64 " reads across %d remaps\n", i,
			 r[i].cpu >= 0 ? "SCHED_IDLE, on the remapper's CPU" : "other CPUs", r[i].reads, n);
		igt_assert_f(!r[i].setup_err, "thread %d: %s: %s\n", i,
			     r[i].cpu >= 0 ? "CPU of the remapper at SCHED_IDLE" : "the other CPUs",
			     strerror(r[i].setup_err));
		igt_assert_f(!r[i].sig, "thread %d got %s while the host remapped the blob with the same answer\n",
			     i, strsignal(r[i].sig));
	}
	vgm_write_stamps(p, size, 36);
	igt_assert_f(vgm_check_stamps(p, size, 36) < 0, "the blob does not read back after the remaps\n");
	cache = vgm_assert_ptes(p, size, "after the remaps");
	if (e.cache != VGM_CACHE_ANY)
		igt_assert_f(cache == e.cache, "after the remaps host-%s memory is mapped %s\n",
			     vgm_attr_name(e.attr), vgm_cache_name(cache));
	vgm_unmap(p, size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

struct fill {
	struct vgm_blob *b;
	int n;
	uint64_t bsz;
	uint64_t base, size;
	bool window_known;
	int err;
};

/* blobs until the window is full; the final error in f->err */
static void fill_window(int fd, struct fill *f)
{
	uint64_t left;
	int cap, ret, tries;

	memset(f, 0, sizeof(*f));
	left = vgm_window_drain(fd, 15000);
	igt_assert_f(left == 0 || left == UINT64_MAX,
		     "%" PRIu64 " KiB of the host-visible window are still allocated 15 s after every earlier blob was freed: leaked\n",
		     left / 1024);
	f->window_known = vgm_window(fd, &f->base, &f->size);
	/* a kernel that lists where its blobs are must say where its window is */
	igt_assert_f(f->window_known || !vgm_has_blob_list(fd),
		     "the host-visible window is not found (no virtio PCI shared memory capability, nothing in /proc/iomem), on a kernel that lists its blobs in debugfs %s\n",
		     VGM_BLOBS_DEBUGFS);
	if (f->window_known) {
		f->bsz = (f->size / 16 + VGM_PMD - 1) & ~(VGM_PMD - 1);
		if (f->bsz < 4 * VGM_MIB)
			f->bsz = 4 * VGM_MIB;
		cap = f->size / f->bsz + 8;
	} else {
		f->bsz = 16 * VGM_MIB;
		cap = 1024;
	}
	f->b = calloc(cap, sizeof(*f->b));
	igt_assert(f->b);
	for (f->n = 0; f->n < cap; f->n++) {
		/* space of blobs freed just before comes back asynchronously */
		for (tries = 0; tries < 20; tries++) {
			ret = __vgm_blob_create(fd, f->bsz, VIRTGPU_BLOB_MEM_HOST3D,
						VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &f->b[f->n]);
			if (ret != -ENOSPC)
				break;
			usleep(100 * 1000);
		}
		if (ret)
			break;
	}
	f->err = -ret;
	igt_info("window %s: %d blobs of %" PRIu64 " MiB, then %s\n",
		 f->window_known ? "known" : "unknown", f->n, f->bsz / VGM_MIB, strerror(f->err));
	igt_assert_f(f->n < cap, "%d blobs of %" PRIu64 " MiB fit in the window: it never fills up\n",
		     f->n, f->bsz / VGM_MIB);
	igt_assert_f(f->err == ENOSPC || f->err == ENOMEM,
		     "creating blob %d in a full window failed with %s, expected ENOSPC or ENOMEM\n",
		     f->n, strerror(f->err));
	igt_assert_f(f->n > 0, "not even one blob of %" PRIu64 " MiB fits in the window\n", f->bsz / VGM_MIB);
	if (f->window_known)
		igt_assert_f((uint64_t)f->n * f->bsz <= f->size && (uint64_t)(f->n + 1) * f->bsz > f->size,
			     "%d blobs of %" PRIu64 " MiB in a window of %" PRIu64 " MiB: it was full too early\n",
			     f->n, f->bsz / VGM_MIB, f->size / VGM_MIB);
}

static void free_fill(int fd, struct fill *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		vgm_gem_close(fd, f->b[i].handle);
	free(f->b);
	f->b = NULL;
	f->n = 0;
}

static void test_window_full(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	struct fill f;
	uint8_t **maps, *q;
	int i, refusal, left;

	vgm_ctx_open(&c);
	fill_window(c.fd, &f);

	/* map them all, if this run maps at all */
	maps = calloc(f.n, sizeof(*maps));
	igt_assert(maps);
	for (i = 0; i < f.n; i++) {
		maps[i] = vgm_map_expected(&c, &f.b[i], VGM_VIA_DRM, 0, f.bsz, &e, &refusal);
		if (!maps[i])
			break;
		vgm_write_stamps(maps[i], VGM_PAGE, 33 + i);
	}
	for (i = 0; i < f.n && maps[i]; i++)
		igt_assert_f(vgm_check_stamps(maps[i], VGM_PAGE, 33 + i) < 0,
			     "blob %d of the full window does not read back\n", i);
	for (i = 0; i < f.n && maps[i]; i++)
		vgm_unmap(maps[i], f.bsz);
	free(maps);
	free_fill(c.fd, &f);

	/* the space comes back */
	vgm_blob_create_retry(c.fd, f.bsz, &b);
	vgm_gem_close(c.fd, b.handle);
	vgm_blob_create_retry(c.fd, f.window_known ? f.size / 2 : 2 * f.bsz, &b);
	q = vgm_map_expected(&c, &b, VGM_VIA_DRM, 0, b.size, &e, &refusal);
	if (q) {
		vgm_write_stamps(q, b.size, 34);
		igt_assert_f(vgm_check_stamps(q, b.size, 34) < 0,
			     "a blob made after the window was freed does not read back\n");
		vgm_unmap(q, b.size);
	}
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);

	if (f.window_known) {
		left = vgm_pat_count_settled(f.base, f.size, 5000);
		igt_assert_f(left <= 0,
			     "%d PAT reservations are left in the host-visible window 5 s after every blob was freed\n",
			     left);
	}
}

#define CAP_BLOB (2 * VGM_MIB + 4 * VGM_KIB)
#define CAP_FILL (256 * VGM_MIB)

/* create a blob, waiting up to 2 s for the space of blobs freed just before */
static int create_counted(int fd, uint64_t size, struct vgm_blob *b)
{
	int ret, tries;

	for (tries = 0; tries < 20; tries++) {
		ret = __vgm_blob_create(fd, size, VIRTGPU_BLOB_MEM_HOST3D,
					VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, b);
		if (ret != -ENOSPC)
			break;
		usleep(100 * 1000);
	}
	return ret;
}

static void test_window_capacity(void)
{
	struct vgm_blob *fill = NULL, *blobs;
	struct vgm_expect e;
	struct vgm_ctx c;
	uint64_t base, size, env, left, room;
	int nfill = 0, nfilled, n, i, cap, expected, ret = 0, fill_ret = 0, refusal, mapped = 0;
	char src[64];
	uint8_t *p;

	vgm_ctx_open(&c);
	/* a kernel that lists where its blobs are must say where its window is */
	if (vgm_has_blob_list(c.fd))
		igt_assert_f(vgm_window_src(c.fd, &base, &size, src, sizeof(src)),
			     "the host-visible window is not found (no virtio PCI shared memory capability, nothing in /proc/iomem), on a kernel that lists its blobs in debugfs %s\n",
			     VGM_BLOBS_DEBUGFS);
	else
		igt_require_f(vgm_window_src(c.fd, &base, &size, src, sizeof(src)),
			      "the host-visible window is not found (no virtio PCI shared memory capability, nothing in /proc/iomem)\n");
	env = vgm_window_env();
	igt_info("host-visible window [0x%" PRIx64 "+0x%" PRIx64 "] (%" PRIu64 " MiB) from the %s; the job gave QEMU %s\n",
		 base, size, size / VGM_MIB, src, getenv("VGM_WINDOW") ?: "(VGM_WINDOW not exported to the test)");
	igt_assert_f(!env || env == size,
		     "the device's host-visible window is %" PRIu64 " MiB (%s), but the job gave QEMU %s\n",
		     size / VGM_MIB, src, getenv("VGM_WINDOW"));
	left = vgm_window_drain(c.fd, 15000);
	igt_assert_f(left == 0 || left == UINT64_MAX,
		     "%" PRIu64 " KiB of the host-visible window are still allocated 15 s after every earlier blob was freed: leaked\n",
		     left / 1024);

	/*
	 * A big window is first filled down to its last 256..512 MiB with
	 * 256 MiB blobs, 2 MiB multiples that every placement packs without
	 * a gap: the count stays small (the blobs are real host memory,
	 * and each one costs a round trip to the host).
	 */
	if (size > 2 * CAP_FILL) {
		nfill = (size - CAP_FILL) / CAP_FILL;
		fill = calloc(nfill, sizeof(*fill));
		igt_assert(fill);
	}
	for (nfilled = 0; nfilled < nfill; nfilled++) {
		fill_ret = create_counted(c.fd, CAP_FILL, &fill[nfilled]);
		if (fill_ret)
			break;
	}
	room = size - (uint64_t)nfill * CAP_FILL;
	expected = room / CAP_BLOB;

	cap = fill_ret ? 0 : expected + 8;
	blobs = calloc(cap + 1, sizeof(*blobs));
	igt_assert(blobs);
	for (n = 0; n < cap; n++) {
		ret = create_counted(c.fd, CAP_BLOB, &blobs[n]);
		if (ret)
			break;
		/* mapped as this run must: a refusal with the right errno is fine */
		p = vgm_map_expected(&c, &blobs[n], VGM_VIA_DRM, 0, CAP_BLOB, &e, &refusal);
		if (p) {
			/* the last page, past the first 2 MiB */
			vgm_write_stamps(p + CAP_BLOB - VGM_PAGE, VGM_PAGE, 40 + n);
			vgm_assert_stamps(p + CAP_BLOB - VGM_PAGE, VGM_PAGE, 40 + n, "last page of a counted blob");
			vgm_unmap(p, CAP_BLOB);
			mapped++;
		}
	}
	igt_info("%d blobs of 256 MiB, then %d blobs of %" PRIu64 " bytes (%d mapped), then %s; expected floor(%" PRIu64 " / %" PRIu64 ") = %d of them\n",
		 nfilled, n, (uint64_t)CAP_BLOB, mapped, strerror(-(fill_ret ?: ret)), room, (uint64_t)CAP_BLOB, expected);

	/* free them all before judging */
	for (i = 0; i < n; i++)
		vgm_gem_close(c.fd, blobs[i].handle);
	for (i = 0; i < nfilled; i++)
		vgm_gem_close(c.fd, fill[i].handle);
	free(blobs);
	free(fill);

	igt_assert_f(!fill_ret, "creating 256 MiB blob %d of %d to fill a %" PRIu64 " MiB window failed: %s\n",
		     nfilled + 1, nfill, size / VGM_MIB, strerror(-fill_ret));
	igt_assert_f(ret == -ENOSPC || n == cap,
		     "creating blob %d of %" PRIu64 " bytes failed with %s, expected success or ENOSPC once the window is full\n",
		     n + 1, (uint64_t)CAP_BLOB, strerror(-ret));
	igt_assert_f(n <= expected,
		     "%d blobs of %" PRIu64 " bytes fit in %" PRIu64 " MiB of the window, more than floor(%" PRIu64 " / %" PRIu64 ") = %d: blobs overlap in the window\n",
		     n, (uint64_t)CAP_BLOB, room / VGM_MIB, room, (uint64_t)CAP_BLOB, expected);
	igt_assert_f(n == expected,
		     "only %d blobs of 2 MiB + 4 KiB fit in %" PRIu64 " MiB of the window, expected floor(%" PRIu64 " / %" PRIu64 ") = %d as with the stock driver: space is wasted between blobs (a placement padded to 2 MiB alignment fits %" PRIu64 ")\n",
		     n, room / VGM_MIB, room, (uint64_t)CAP_BLOB, expected, room / (2 * VGM_PMD));

	left = vgm_window_drain(c.fd, 15000);
	igt_assert_f(left == 0 || left == UINT64_MAX,
		     "%" PRIu64 " KiB of the host-visible window are still allocated 15 s after the counted blobs were freed\n",
		     left / 1024);
	vgm_ctx_close(&c);
}

static void test_window_full_deferred(void)
{
	const uint64_t limit_ns = 5000000000ull;
	struct vgm_resource_info ri = {};
	struct timespec start = {};
	struct vgm_ctx c;
	struct vgm_expect e;
	struct vgm_blob d;
	struct fill f;
	uint64_t offset, left, reap_ns = 0;
	int status = 0, ret, err = 0;
	bool exited = false, released = false;
	uint8_t *p = NULL;
	pid_t pid;

	vgm_ctx_open(&c);
	fill_window(c.fd, &f);
	/* a deferred blob: created without window space, mapped on the host at its first mmap */
	ret = __vgm_blob_create(c.fd, SIZE, VIRTGPU_BLOB_MEM_HOST3D, VIRTGPU_BLOB_FLAG_USE_MAPPABLE,
				DRM_VIRTGPU_BLOB_FLAG_HINT_DEFER_MAPPING, &d);
	if (ret)
		free_fill(c.fd, &f);
	igt_assert_f(ret == 0, "RESOURCE_CREATE_BLOB with the DEFER_MAPPING hint failed: %s\n", strerror(-ret));
	ret = __vgm_map_offset(c.fd, d.handle, &offset);
	if (ret)
		free_fill(c.fd, &f);
	igt_assert_f(ret == 0, "VIRTGPU_MAP of the deferred blob failed: %s\n", strerror(-ret));

	/*
	 * Its mmap while the window is full, in a child with a deadline: a
	 * kernel that waits there for a RESOURCE_MAP_BLOB it could not send
	 * (the stock driver, uninterruptibly) hangs the child, not the test.
	 */
	fflush(NULL);
	pid = fork();
	igt_assert(pid >= 0);
	if (pid == 0) {
		void *cp = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, offset);

		_exit(cp == MAP_FAILED ? errno : 0);
	}
	igt_gettime(&start);
	do {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			exited = true;
			break;
		}
		usleep(10 * 1000);
	} while (igt_nsec_elapsed(&start) < limit_ns);

	/* room again (freed space comes back once the host acknowledged) */
	free_fill(c.fd, &f);
	left = vgm_window_drain(c.fd, 15000);
	if (!exited) {
		kill(pid, SIGKILL);
		/*
		 * SIGKILL ends a killable wait. An uninterruptible one only
		 * ends with the answer to a RESOURCE_MAP_BLOB: with room in the
		 * window, an mmap of the same blob (same DRM file) sends it.
		 */
		exited = vgm_reap(pid, 2000000000ull, &status, &reap_ns) == 0;
		if (!exited && left == 0) {
			p = __vgm_mmap(&d, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
			if (p)
				vgm_track(p, SIZE);
			released = vgm_reap(pid, 10000000000ull, &status, &reap_ns) == 0;
		}
		igt_assert_f(false,
			     "mmap of a deferred blob in a full window has not returned after %" PRIu64 " s: it waits for a RESOURCE_MAP_BLOB that was never sent (the child %s)\n",
			     limit_ns / 1000000000,
			     exited ? "died of SIGKILL" :
			     released ? "left only once the blob was mapped when there was room: the wait is not killable" :
			     "is still asleep: left behind");
	}
	igt_assert_f(left == 0 || left == UINT64_MAX,
		     "%" PRIu64 " KiB of the host-visible window are still allocated 15 s after the blobs that filled it were freed\n",
		     left / 1024);
	igt_assert_f(WIFEXITED(status),
		     "the child that mapped the deferred blob died (status 0x%x)\n", status);
	igt_assert_f(WEXITSTATUS(status) == ENOSPC,
		     "mmap of a deferred blob in a full window: %s, expected ENOSPC\n",
		     WEXITSTATUS(status) ? strerror(WEXITSTATUS(status)) : "it was mapped");

	/* mapped, now that there is room */
	igt_gettime(&start);
	do {
		p = __vgm_mmap(&d, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
		if (p || err != ENOSPC)
			break;
		usleep(50 * 1000);
	} while (igt_nsec_elapsed(&start) < 10000000000ull);
	if (c.have_query)
		igt_assert_eq(__vgm_query(c.fd, d.handle, &ri), 0);
	vgm_expect_blob(&c, &d, &ri, c.strict, &e);
	if (p) {
		vgm_track(p, SIZE);
		igt_assert_f(e.map, "the deferred blob was mapped, but this run must refuse it (%s)\n", e.what);
		vgm_write_stamps(p, SIZE, 35);
		igt_assert_f(vgm_check_stamps(p, SIZE, 35) < 0, "the deferred blob does not read back\n");
		vgm_unmap(p, SIZE);
	} else {
		igt_assert_f(err != ENOSPC, "the deferred blob still finds no room 10 s after the window was freed\n");
		igt_assert_f((!e.map && err == e.err) ||
			     (e.platform_may_refuse && err == EOPNOTSUPP &&
			      ri.map_caching == VIRTGPU_MAP_CACHING_REFUSED),
			     "mmap of the deferred blob once there is room: %s (%s)\n", strerror(err), e.what);
	}
	vgm_gem_close(c.fd, d.handle);
	vgm_ctx_close(&c);
}

int igt_main()
{
	igt_fixture()
		vgm_require_host_visible_device();

	igt_describe("Private mappings of host memory are refused.");
	igt_subtest("private-mapping")
		test_private();

	igt_describe("Mappings past the blob are refused (enforced by DRM core/core mm, not driver proof).");
	igt_subtest("out-of-bounds")
		test_out_of_bounds();

	igt_describe("Blobs created without USE_MAPPABLE cannot be mapped.");
	igt_subtest("not-mappable")
		test_not_mappable();

	igt_describe("Another client cannot map the blob's fake offset (enforced by DRM core/core mm, not driver proof).");
	igt_subtest("foreign-offset")
		test_foreign_offset();

	igt_describe("Another client cannot use the blob's handle (enforced by DRM core/core mm, not driver proof).");
	igt_subtest("foreign-handle")
		test_foreign_handle();

	igt_describe("The debugfs unmap/remap hook refuses what it cannot do.");
	igt_subtest("hook-errors")
		test_hook_errors();

	igt_describe("4 KiB faults racing with the host unmapping and remapping the blob: data or SIGBUS, never stale, no hang, no splat.");
	igt_subtest("fault-vs-unmap")
		test_fault_vs_unmap();

	igt_describe("Faults racing with the host remapping the blob.");
	igt_subtest("fault-vs-remap")
		test_fault_vs_remap();

	igt_describe("Blobs until the host-visible window is full.");
	igt_subtest("window-full") {
		vgm_require_window_cell();
		test_window_full();
	}

	igt_describe("The window holds as many blobs as fit in it, placed without padding.");
	igt_subtest("window-capacity") {
		vgm_require_window_cell();
		test_window_capacity();
	}

	igt_describe("A deferred blob cannot be mapped while the window is full: ENOSPC at once, no hang.");
	igt_subtest("window-full-deferred") {
		vgm_require_window_cell();
		test_window_full_deferred();
	}
}
