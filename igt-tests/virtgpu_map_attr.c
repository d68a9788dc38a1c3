// SPDX-License-Identifier: MIT
/*
 * virtgpu_map_attr: the cache attribute of guest mappings of host-visible
 * virtio-gpu blobs.
 */

/**
 * TEST: virtgpu map attr
 * Category: Core
 * Mega feature: General Core features
 * Sub-category: Memory management
 * Functionality: virtio-gpu host-visible blob mappings
 * Test category: functionality test
 * Description: A host-visible blob (VIRTGPU_BLOB_MEM_HOST3D, USE_MAPPABLE)
 *		is host memory that the host maps with the cache attribute it
 *		reports in the map_info of its RESOURCE_MAP_BLOB answer. The
 *		guest must map it into userspace with exactly that attribute,
 *		or refuse to map it: a second mapping with another attribute is
 *		an alias. The host's answer for the run is in VGM_HOST_MAPINFO.
 *		The tests read the process's own page tables (the test-only
 *		walker module kmod/vgm_ptewalk, which the ptewalk subtest checks
 *		against debugfs ptdump on x86; arm64's ptdump shows kernel
 *		tables only; x86 without the module: ptdump), the blob's place in the
 *		window and PAT's memtype list (x86), and compare with what
 *		RESOURCE_INFO reports (VIRTGPU_PARAM_MAP_CACHING).
 *
 * SUBTEST: mapping-whole
 * Description: Whole mappings of blobs of 4 KiB, 64 KiB, 2 MiB, 4 MiB +
 *		4 KiB and as large as the window (one dynamic subtest each),
 *		every page touched: every PTE has the memory type of the host's
 *		attribute (x86: cached WB, uncached UC-, wc WC; arm64: cached
 *		Normal-WB, uncached and wc Normal-NC, never a Device type; none:
 *		whatever the kernel's default gives, reported), every page
 *		reads back what was written to it, PAT reserved the same type
 *		for the blob's place in the window (x86), and RESOURCE_INFO
 *		reports it. Undefined values and host errors are
 *		refused with the exact errno; a platform that cannot give the
 *		attribute must refuse (EOPNOTSUPP) and report REFUSED.
 *
 * SUBTEST: mapping-partial
 * Description: The same for a mapping of the first half of each blob,
 *		whose pages are the blob's (a whole mapping reads them).
 *
 * SUBTEST: mapping-offset
 * Description: The same for a mapping of the second half of each blob,
 *		at a non-zero offset, through an exported dma-buf (mmap of the
 *		DRM file only maps an object from its start).
 *
 * SUBTEST: huge-pmd
 * Description: For blobs of 4 MiB and 4 MiB + 4 KiB, mmap returns an
 *		address congruent to the blob's physical address modulo 2 MiB,
 *		and faults map every 2 MiB-aligned part of the blob with a PMD
 *		entry and the rest with 4 KiB PTEs, all with the host's
 *		attribute. Blobs are placed in the window as by the stock
 *		driver, without alignment padding: how many PMD entries a blob
 *		gets depends on where it landed.
 *
 * SUBTEST: strict-none
 * Description: With strict_map_info set, a blob whose host reported no
 *		attribute (map_info NONE) is refused with ENODATA; with any
 *		other answer the blob maps as without it.
 *
 * SUBTEST: query-uapi
 * Description: VIRTGPU_PARAM_MAP_CACHING is 1, RESOURCE_INFO with the old
 *		16-byte struct still works, a host-visible blob reports PENDING
 *		(map_info 0) or the settled answer before it is mapped, never
 *		UNKNOWN, and once mmap waited for the host's answer, the
 *		host's map_info and the caching it requires (DEFAULT for a host
 *		that reported no attribute, REFUSED and map_info 0 for a host
 *		error), the host's answer read from the host's own record of
 *		it (the shim's answers file in the run directory, mounted at
 *		/mnt/host), never from the kernel under test; a guest-memory
 *		blob reports UNKNOWN and map_info 0. Skips on kernels without
 *		VIRTGPU_PARAM_MAP_CACHING; fails without the answers file.
 *
 * SUBTEST: query-pending
 * Description: On a run whose host answers RESOURCE_MAP_BLOB late
 *		(VGM_HOST_MAPINFO=slow:MS), RESOURCE_INFO right after the blob
 *		was created returns within 1 s, long before the answer, and
 *		reports PENDING with map_info 0: the query never waits for the
 *		host. Once mmap waited for the answer, it reports the settled
 *		one, as the mapping applies it. Skips on kernels without
 *		VIRTGPU_PARAM_MAP_CACHING.
 *
 * SUBTEST: platform-attr
 * Description: With platform_attr=1 (stock's behaviour, opt-in), a blob
 *   whose host attribute PAT cannot give maps with PAT's type, and
 *   RESOURCE_INFO reports the type of the guest's own PTE, not the host's.
 *   Skips where PAT gives the host's attribute anyway, and on other
 *   architectures than x86 (no PAT).
 *
 * SUBTEST: ptewalk
 * Description: The test-only page-table walker module (kmod/vgm_ptewalk)
 *   agrees with ptdump on every page of a faulted-in 4.25 MiB blob: cache
 *   mode, level, and the blob's own PFN, and the library's reads of the
 *   page tables from the walker give the mapping's ptdump spans (x86);
 *   with every other page made read-only, the walker's range queries (a
 *   run per page, several queries) say what its single-address answers say.
 *   arm64 has the walker only: every page has an entry with the blob's PFN
 *   and the memory type the host's attribute requires.
 *
 * SUBTEST: window-placement
 * Description: A host-visible window below 4 GiB that the MTRRs make
 *   uncachable fails if its BAR could move (64-bit, root bus) and a host
 *   bridge window above 4 GiB has free write-back room for it: the driver
 *   moves it there at probe. x86 only (MTRRs): skips elsewhere.
 *
 * SUBTEST: guest-blob-wb
 * Description: Control group: a guest-memory blob (VIRTGPU_BLOB_MEM_GUEST)
 *		maps write-back, whatever the host answers for host memory.
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
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "igt_harness.h"
#include "virtgpu_map_lib.h"

IGT_TEST_DESCRIPTION("Guest mappings of host-visible virtio-gpu blobs use exactly the cache attribute the host reported in map_info, or are refused.");

enum shape { WHOLE, PARTIAL, OFFSET };

static const char *const shape_names[] = { "whole", "partial", "offset" };

struct size_case {
	const char *name;
	uint64_t size;		/* 0: the window */
};

static const struct size_case sizes[] = {
	{ "4k", 4 * VGM_KIB },
	{ "64k", 64 * VGM_KIB },
	{ "2m", 2 * VGM_MIB },
	{ "4m-plus-4k", 4 * VGM_MIB + 4 * VGM_KIB },
	{ "window", 0 },
};

/* the largest blob the window test makes (host memory behind it is real) */
#define WINDOW_CAP (512 * VGM_MIB)

static void shape_range(uint64_t size, enum shape shape, uint64_t *off, uint64_t *len)
{
	uint64_t half = (size / 2) & ~(VGM_PAGE - 1);

	*off = 0;
	*len = size;
	switch (shape) {
	case WHOLE:
		*off = 0;
		*len = size;
		break;
	case PARTIAL:
		*off = 0;
		*len = half;
		break;
	case OFFSET:
		*off = (size - half + VGM_PAGE - 1) & ~(VGM_PAGE - 1);
		*len = size - *off;
		break;
	}
}

static uint64_t window_blob_size(int fd)
{
	uint64_t base, size;

	/* a kernel that lists where its blobs are must say where its window is */
	if (vgm_has_blob_list(fd))
		igt_assert_f(vgm_window(fd, &base, &size),
			     "the host-visible window is not found (no virtio PCI shared memory capability, nothing in /proc/iomem), on a kernel that lists its blobs in debugfs %s\n",
			     VGM_BLOBS_DEBUGFS);
	else
		igt_require_f(vgm_window(fd, &base, &size),
			      "host-visible window not found in /proc/iomem\n");
	igt_info("host-visible window [0x%" PRIx64 "+0x%" PRIx64 "]\n", base, size);
	return size < WINDOW_CAP ? size : WINDOW_CAP;
}

/*
 * Where [off, off + len) of the blob is: the driver's allocator says where
 * the blob is (pagemap cannot: VM_PFNMAP mappings are holes to it).
 */
static uint64_t mapping_phys(const struct vgm_blob *b, uint64_t off, uint64_t len,
			     const char *what)
{
	uint64_t phys = vgm_blob_phys(b, off), base, size;

	if (vgm_window(b->fd, &base, &size))
		igt_assert_f(phys >= base && phys + len <= base + size,
			     "%s: at [0x%" PRIx64 "+0x%" PRIx64 "], outside the host-visible window [0x%" PRIx64 "+0x%" PRIx64 "]\n",
			     what, phys, len, base, size);
	return phys;
}

/*
 * The mapping shows the blob's pages at off, in order: what it wrote is what
 * a whole mapping of the blob through the DRM file reads at off.
 */
static void check_same_pages(const struct vgm_blob *b, const void *p, uint64_t off,
			     uint64_t len, uint32_t seed, const char *what)
{
	uint8_t *whole;
	int64_t bad;
	int err;

	whole = __vgm_mmap(b, 0, b->size, PROT_READ, MAP_SHARED, &err);
	igt_assert_f(whole, "%s: a whole mapping to compare with failed: %s\n", what, strerror(err));
	bad = vgm_check_stamps(whole + off, len, seed);
	munmap(whole, b->size);
	igt_assert_f(bad < 0,
		     "%s: page %" PRId64 " of the mapping is not page %" PRId64 " of the blob (a whole mapping reads something else there)\n",
		     what, bad, bad + (int64_t)(off / VGM_PAGE));
	(void)p;
}

/*
 * Check a mapping the guest made: contents, PTE cache mode, pages, PAT.
 * Returns the PTE cache mode.
 */
static int check_mapping(struct vgm_ctx *c, const struct vgm_blob *b,
			 const struct vgm_expect *e, void *p, uint64_t off,
			 uint64_t len, const char *what)
{
	uint32_t seed = (uint32_t)rand();
	uint64_t phys;
	int64_t bad;
	int cache;

	/* distinct stamps per page: pages aliasing each other do not read back */
	vgm_write_stamps(p, len, seed);
	bad = vgm_check_stamps(p, len, seed);
	igt_assert_f(bad < 0, "%s: page %" PRId64 " does not read back what was written\n", what, bad);

	cache = vgm_assert_ptes(p, len, what);
	if (e->cache == VGM_CACHE_ANY)
		igt_info("%s: host gave no attribute the guest can use (%s): compat mapping, guest PTEs are %s\n",
			 what, e->what, vgm_cache_name(cache));
	else
		igt_assert_f(cache == e->cache,
			     "%s: guest maps host-%s memory (map_info 0x%x) as %s: alias (the PTEs must be %s)\n",
			     what, vgm_attr_name(e->attr), e->map_info, vgm_cache_name(cache),
			     vgm_cache_name(e->cache));

	if (off || len != b->size)
		check_same_pages(b, p, off, len, seed, what);

	phys = mapping_phys(b, off, len, what);
	/* x86 only: elsewhere nothing reserves a memory type for the range */
	vgm_assert_pat(phys, len, cache, what);
	igt_info("%s: host %s, PTEs %s, PAT %s for [0x%" PRIx64 "+0x%" PRIx64 "], RESOURCE_INFO %s\n",
		 what, c->host.name, vgm_cache_name(cache), VGM_X86 ? vgm_cache_name(cache) : "(none on this architecture)", phys, len,
		 c->have_query ? vgm_caching_name(e->caching) : "(not reported by this kernel)");
	return cache;
}

static void __attribute__((noinline)) test_mapping(const struct size_case *sc, enum shape shape)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint64_t size, off, len;
	char what[96];
	int refusal;
	void *p;

	vgm_ctx_open(&c);
	size = sc->size ? sc->size : window_blob_size(c.fd);
	shape_range(size, shape, &off, &len);
	snprintf(what, sizeof(what), "blob of %s (%" PRIu64 " KiB), %s mapping [+0x%" PRIx64 ", %" PRIu64 " KiB]",
		 sc->name, size / 1024, shape_names[shape], off, len / 1024);

	vgm_blob_create_retry(c.fd, size, &b);
	p = vgm_map_expected(&c, &b, shape == OFFSET ? VGM_VIA_DMABUF : VGM_VIA_DRM,
			     off, len, &e, &refusal);
	if (!p) {
		igt_info("%s: refused with %s (%s)\n", what, strerror(refusal), e.what);
	} else {
		check_mapping(&c, &b, &e, p, off, len, what);
		vgm_unmap(p, len);
	}
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_huge_pmd(void)
{
	static const uint64_t huge_sizes[] = { 4 * VGM_MIB, 4 * VGM_MIB + 4 * VGM_KIB };
	struct vgm_ctx c;
	unsigned int i;

	vgm_ctx_open(&c);
	igt_require_f(c.have_query,
		      "kernel without VIRTGPU_PARAM_MAP_CACHING: its driver maps host-visible blobs eagerly with 4 KiB PTEs (io_remap_pfn_range), no PMD mappings to check\n");

	for (i = 0; i < ARRAY_SIZE(huge_sizes); i++) {
		uint64_t size = huge_sizes[i], head, huge;
		struct vgm_ptdump pt;
		struct vgm_expect e;
		struct vgm_span s;
		struct vgm_blob b;
		uint64_t phys;
		char what[64];
		uint8_t *p;

		snprintf(what, sizeof(what), "blob of %" PRIu64 " KiB", size / 1024);
		vgm_blob_create_retry(c.fd, size, &b);
		p = vgm_map_or_skip(&c, &b, &e);

		phys = mapping_phys(&b, 0, size, what);
		igt_assert_f(((uintptr_t)p & (VGM_PMD - 1)) == (phys & (VGM_PMD - 1)),
			     "%s: mmap returned %p, not congruent to its physical address 0x%" PRIx64 " modulo 2 MiB\n",
			     what, p, phys);
		/*
		 * The 2 MiB-aligned physical part [phys + head, + huge) can be
		 * mapped by PMDs (at least 2 MiB of any blob of 4 MiB or more);
		 * what is before and after it only by PTEs.
		 */
		head = ((phys + VGM_PMD - 1) & ~(VGM_PMD - 1)) - phys;
		huge = ((phys + size) & ~(VGM_PMD - 1)) - (phys + head);

		check_mapping(&c, &b, &e, p, 0, size, what);

		igt_assert_eq(vgm_ptdump_read(&pt, p, size), 0);
		vgm_ptdump_span(&pt, (uintptr_t)p + head, huge, &s);
		igt_assert_f(s.pmd_bytes == huge,
			     "%s at 0x%" PRIx64 ": only %" PRIu64 " of its %" PRIu64 " KiB in 2 MiB-aligned steps are mapped by PMD entries (%" PRIu64 " KiB by 4 KiB PTEs)\n",
			     what, phys, s.pmd_bytes / 1024, huge / 1024, s.pte_bytes / 1024);
		if (head) {
			vgm_ptdump_span(&pt, (uintptr_t)p, head, &s);
			igt_assert_f(s.pte_bytes == head,
				     "%s at 0x%" PRIx64 ": the %" PRIu64 " KiB before its first 2 MiB boundary are not mapped by 4 KiB PTEs\n",
				     what, phys, head / 1024);
		}
		if (size > head + huge) {
			vgm_ptdump_span(&pt, (uintptr_t)p + head + huge, size - head - huge, &s);
			igt_assert_f(s.pte_bytes == size - head - huge,
				     "%s at 0x%" PRIx64 ": the %" PRIu64 " KiB tail is not mapped by 4 KiB PTEs\n",
				     what, phys, (size - head - huge) / 1024);
		}
		vgm_ptdump_free(&pt);
		igt_info("%s: %" PRIu64 " KiB mapped by PMDs at %p + 0x%" PRIx64 " (phys 0x%" PRIx64 ")\n",
			 what, huge / 1024, p, head, phys);

		vgm_unmap(p, size);
		vgm_gem_close(c.fd, b.handle);
	}
	vgm_ctx_close(&c);
}

static void test_strict_none(void)
{
	struct vgm_resource_info ri = {};
	struct vgm_ctx c;
	struct vgm_expect e;
	struct vgm_blob b;
	int old, ret, qret = 0, err = 0;
	uint64_t size = 64 * VGM_KIB;
	void *p = NULL;

	old = vgm_strict_get();
	igt_require_f(old >= 0, "no module parameter %s: this kernel has no strict mode\n",
		      VGM_STRICT_PARAM);
	vgm_ctx_open(&c);

	/*
	 * The parameter is read when the host's answer is first used: map
	 * (which waits for the answer; the query does not) and query before
	 * restoring it, assert after.
	 */
	igt_assert_eq(vgm_strict_set(true), 0);
	ret = __vgm_blob_create(c.fd, size, VIRTGPU_BLOB_MEM_HOST3D,
				VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &b);
	if (!ret) {
		p = __vgm_mmap(&b, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
		if (c.have_query)
			qret = __vgm_query(c.fd, b.handle, &ri);
	}
	vgm_strict_set(old == 1);

	igt_assert_f(ret == 0, "RESOURCE_CREATE_BLOB failed: %s\n", strerror(-ret));
	igt_assert_f(qret == 0, "RESOURCE_INFO failed: %s\n", strerror(-qret));
	igt_assert_f(!c.have_query || ri.map_caching != VIRTGPU_MAP_CACHING_PENDING,
		     "strict_map_info: RESOURCE_INFO reports PENDING after mmap (%s) waited for the host's answer\n",
		     p ? "mapped" : strerror(err));
	vgm_expect_blob(&c, &b, &ri, true, &e);
	igt_info("host %s, strict_map_info: %s\n", c.host.name, e.what);

	if (!e.map) {
		if (p)
			munmap(p, size);
		igt_assert_f(!p, "strict_map_info: mmap of a blob the guest must refuse (%s) succeeded\n", e.what);
		igt_assert_f(err == e.err, "strict_map_info: mmap failed with %s, expected %s (%s)\n",
			     strerror(err), strerror(e.err), e.what);
		if (c.have_query)
			igt_assert_f(ri.map_caching == VIRTGPU_MAP_CACHING_REFUSED,
				     "strict_map_info: RESOURCE_INFO reports %s for a refused blob, expected REFUSED\n",
				     vgm_caching_name(ri.map_caching));
	} else if (!p) {
		igt_assert_f(err == EOPNOTSUPP && e.platform_may_refuse &&
			     ri.map_caching == VIRTGPU_MAP_CACHING_REFUSED,
			     "strict_map_info: mmap failed with %s (RESOURCE_INFO %s), expected a mapping (%s)\n",
			     strerror(err), vgm_caching_name(ri.map_caching), e.what);
		igt_info("refused by the platform, as without strict_map_info\n");
	} else {
		igt_assert_f(!c.have_query || ri.map_caching == e.caching,
			     "strict_map_info: RESOURCE_INFO reports %s, expected %s\n",
			     vgm_caching_name(ri.map_caching), vgm_caching_name(e.caching));
		check_mapping(&c, &b, &e, p, 0, size, "strict_map_info mapping");
		munmap(p, size);
	}
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

struct old_resource_info {
	__u32 bo_handle;
	__u32 res_handle;
	__u32 size;
	__u32 blob_mem;
};

#define OLD_IOCTL_RESOURCE_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VIRTGPU_RESOURCE_INFO, struct old_resource_info)

static void test_query_uapi(void)
{
	struct old_resource_info old = {};
	struct vgm_resource_info ri, before;
	struct vgm_host_answer a;
	struct vgm_host h;
	struct vgm_blob b, g;
	struct vgm_ctx c;
	struct vgm_expect e;
	uint64_t size = 64 * VGM_KIB;
	bool pending;
	int ret, err;
	void *q;

	vgm_ctx_open(&c);
	igt_require_f(c.have_query,
		      "kernel without VIRTGPU_PARAM_MAP_CACHING (GETPARAM answers EINVAL): RESOURCE_INFO does not report map_caching\n");

	vgm_blob_create(c.fd, size, &b);

	/* old userspace: the 16-byte struct still works */
	old.bo_handle = b.handle;
	igt_assert_f(igt_ioctl(c.fd, OLD_IOCTL_RESOURCE_INFO, &old) == 0,
		     "RESOURCE_INFO with the old 16-byte struct failed: %s\n", strerror(errno));
	igt_assert_eq_u32(old.res_handle, b.res);
	igt_assert_eq_u32(old.size, (uint32_t)size);
	igt_assert_eq_u32(old.blob_mem, VIRTGPU_BLOB_MEM_HOST3D);

	/*
	 * Before any mmap the query does not wait for the host: PENDING
	 * (no answer yet, map_info 0) or already what the answer says. A
	 * host-visible blob is never UNKNOWN.
	 */
	ret = __vgm_query(c.fd, b.handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
	igt_assert_eq_u32(ri.res_handle, b.res);
	igt_assert_eq_u32(ri.size, (uint32_t)size);
	igt_assert_eq_u32(ri.blob_mem, VIRTGPU_BLOB_MEM_HOST3D);
	pending = ri.map_caching == VIRTGPU_MAP_CACHING_PENDING;
	igt_info("host %s: RESOURCE_INFO before mmap: map_caching %s, map_info 0x%x\n",
		 c.host.name, vgm_caching_name(ri.map_caching), ri.map_info);
	igt_assert_f(ri.map_caching != VIRTGPU_MAP_CACHING_UNKNOWN,
		     "a host-visible blob reports UNKNOWN before mmap, expected PENDING or the host's answer (UNKNOWN is for blobs that are not host visible)\n");
	igt_assert_f(!pending || ri.map_info == 0,
		     "a blob whose host answer is PENDING reports map_info 0x%x, expected 0\n", ri.map_info);
	before = ri;

	/* mmap waits for the answer; then the query reports it */
	q = __vgm_mmap(&b, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	if (q)
		munmap(q, size);
	ret = __vgm_query(c.fd, b.handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
	igt_assert_f(ri.map_caching != VIRTGPU_MAP_CACHING_PENDING,
		     "RESOURCE_INFO reports PENDING after mmap (%s) waited for the host's answer\n",
		     q ? "mapped" : strerror(err));
	igt_assert_f(pending || (ri.map_caching == before.map_caching && ri.map_info == before.map_info),
		     "RESOURCE_INFO changed from %s (map_info 0x%x) to %s (map_info 0x%x) across an mmap, without a new host answer\n",
		     vgm_caching_name(before.map_caching), before.map_info,
		     vgm_caching_name(ri.map_caching), ri.map_info);
	/* the truth is what the host answered, from the host's own record */
	ret = vgm_host_answer(b.res, 0, 2000, &a);
	igt_assert_f(ret != -ENOENT,
		     "the host's answers file %s cannot be read: the job always provides it (host/mapinfo-shim.c appends every RESOURCE_MAP_BLOB answer)\n",
		     vgm_host_answers_path());
	igt_assert_f(ret == 0,
		     "the host's answers file %s has no answer for resource %u, whose mmap returned (%s)\n",
		     vgm_host_answers_path(), b.res, q ? "mapped" : strerror(err));
	/* ... which is the run's mode, where the shim forces one */
	if (c.host.kind == VGM_HOST_VALUE)
		igt_assert_f(a.source == VGM_ANSWER_FORCED && a.map_info == c.host.value,
			     "the host answered %s 0x%x, but the run's mode is %s: the answers file and VGM_HOST_MAPINFO disagree\n",
			     vgm_answer_source_name(a.source), a.map_info, c.host.name);
	else if (c.host.kind == VGM_HOST_ERROR)
		igt_assert_f(a.source == VGM_ANSWER_ERROR,
			     "the host answered %s 0x%x, but the run's mode is error: the answers file and VGM_HOST_MAPINFO disagree\n",
			     vgm_answer_source_name(a.source), a.map_info);
	vgm_host_of_answer(&a, &h);
	vgm_expect_for(&h, true, NULL, c.strict, &e);
	igt_info("host %s: answered %s 0x%x; RESOURCE_INFO after mmap (%s): map_caching %s, map_info 0x%x (%s)\n",
		 c.host.name, vgm_answer_source_name(a.source), a.map_info, q ? "mapped" : strerror(err),
		 vgm_caching_name(ri.map_caching), ri.map_info, e.what);
	igt_assert_f(!q == (ri.map_caching == VIRTGPU_MAP_CACHING_REFUSED),
		     "mmap %s but RESOURCE_INFO reports %s\n", q ? "mapped the blob" : strerror(err),
		     vgm_caching_name(ri.map_caching));
	igt_assert_f(ri.map_info == (a.source == VGM_ANSWER_ERROR ? 0 : a.map_info),
		     "RESOURCE_INFO reports map_info 0x%x, the host answered %s 0x%x\n",
		     ri.map_info, vgm_answer_source_name(a.source), a.map_info);
	if (!q && e.map) {
		/* only WB can be out of the platform's reach (MTRRs), and only where they say so */
		igt_assert_f(err == EOPNOTSUPP && e.platform_may_refuse,
			     "mmap failed with %s, expected a mapping (%s)\n", strerror(err), e.what);
		vgm_check_platform_refusal(&c, &b, &e);
		igt_assert_f(ri.map_caching == VIRTGPU_MAP_CACHING_REFUSED,
			     "RESOURCE_INFO reports map_caching %s for a blob the platform refused, expected REFUSED\n",
			     vgm_caching_name(ri.map_caching));
	} else {
		igt_assert_f(q || err == e.err, "mmap failed with %s, expected %s (%s)\n",
			     strerror(err), strerror(e.err), e.what);
		igt_assert_f(ri.map_caching == (e.map ? e.caching : VIRTGPU_MAP_CACHING_REFUSED),
			     "RESOURCE_INFO reports map_caching %s, expected %s (%s)\n",
			     vgm_caching_name(ri.map_caching),
			     vgm_caching_name(e.map ? e.caching : VIRTGPU_MAP_CACHING_REFUSED), e.what);
	}

	/* memory of the guest: not host-visible, nothing to report */
	vgm_blob_guest(c.fd, size, &g);
	ret = __vgm_query(c.fd, g.handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO of a guest blob failed: %s\n", strerror(-ret));
	igt_assert_eq_u32(ri.blob_mem, VIRTGPU_BLOB_MEM_GUEST);
	igt_assert_f(ri.map_caching == VIRTGPU_MAP_CACHING_UNKNOWN && ri.map_info == 0,
		     "a guest-memory blob reports map_caching %s, map_info 0x%x; expected UNKNOWN, 0\n",
		     vgm_caching_name(ri.map_caching), ri.map_info);

	vgm_gem_close(c.fd, g.handle);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* what the thread of query-pending saw */
struct pending_report {
	int fd, ret;
	uint32_t handle, map_caching, map_info;
	uint64_t took_ns;
	int pipe;
};

static void *pending_query_fn(void *arg)
{
	struct pending_report *rep = arg;
	struct vgm_resource_info ri = {};
	struct timespec t = {};

	igt_gettime(&t);
	rep->ret = __vgm_query(rep->fd, rep->handle, &ri);
	rep->took_ns = igt_nsec_elapsed(&t);
	rep->map_caching = ri.map_caching;
	rep->map_info = ri.map_info;
	if (write(rep->pipe, "x", 1) != 1)
		rep->ret = -EPIPE;
	return NULL;
}

static void test_query_pending(void)
{
	const uint64_t limit_ns = 1000000000ull;	/* "never blocks": 1 s is plenty */
	/* static: a thread stuck in the kernel outlives this frame */
	static struct pending_report rep;
	struct vgm_resource_info ri;
	struct timespec created = {}, deadline;
	struct vgm_host host;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint64_t size = 64 * VGM_KIB, late_ns, waited_ns;
	int fds[2], refusal, ret;
	pthread_t thread;
	bool got = false;
	char x;
	void *p;

	vgm_host_get(&host);
	igt_require_f(host.late_ms,
		      "needs a host that answers RESOURCE_MAP_BLOB late (VGM_HOST_MAPINFO=slow:MS, the shim's slow mode); this run's host answers %s\n",
		      host.name);
	late_ns = host.late_ms * 1000000ull;
	vgm_ctx_open(&c);
	igt_require_f(c.have_query,
		      "kernel without VIRTGPU_PARAM_MAP_CACHING (GETPARAM answers EINVAL): RESOURCE_INFO does not report map_caching\n");
	igt_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	igt_assert_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	memset(&rep, 0, sizeof(rep));

	/*
	 * RESOURCE_MAP_BLOB goes out with the blob and the host holds its
	 * answer for late_ms; meanwhile QEMU's main loop serves no timer and
	 * no 9p. The query runs in a SCHED_FIFO thread on this CPU, so that
	 * a kernel that blocks in it cannot block the test: this thread
	 * polls for its report with a deadline. A thread, not a child
	 * process: the first ioctl of another process on a DRM file makes
	 * drm_file_update_pid() wait for an RCU grace period, which needs
	 * the timers the held main loop does not serve (the kernel stack of
	 * such a child showed it, 1 s into the hold).
	 */
	vgm_hold_begin();
	igt_gettime(&created);
	vgm_blob_create(c.fd, size, &b);
	rep.fd = c.fd;
	rep.handle = b.handle;
	rep.pipe = fds[1];
	igt_assert_eq(pthread_create(&thread, NULL, pending_query_fn, &rep), 0);
	vgm_hold_parent();

	for (;;) {
		if (read(fds[0], &x, 1) == 1) {
			got = true;
			break;
		}
		if (igt_nsec_elapsed(&created) >= limit_ns)
			break;
		sched_yield();
	}
	waited_ns = igt_nsec_elapsed(&created);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (late_ns + 30000000000ull) / 1000000000ull;
	ret = pthread_clockjoin_np(thread, NULL, CLOCK_MONOTONIC, &deadline);
	vgm_hold_end();
	close(fds[0]);
	if (ret == 0)
		close(fds[1]);	/* else the stuck thread still writes to it */

	igt_assert_f(ret == 0, "the thread that called RESOURCE_INFO has not returned %" PRIu64 " s after the host's answer was due: stuck in the kernel\n",
		     (uint64_t)30);
	igt_assert_f(got,
		     "RESOURCE_INFO has not returned %" PRIu64 " ms after the blob was created, while the host holds its RESOURCE_MAP_BLOB answer for %u ms: the query waits for the host (it returned after %" PRIu64 " ms)\n",
		     waited_ns / 1000000, host.late_ms, rep.took_ns / 1000000);
	igt_info("RESOURCE_INFO right after creation: %s, map_info 0x%x, in %" PRIu64 " us (the host answers %u ms after creation)\n",
		 rep.ret ? strerror(-rep.ret) : vgm_caching_name(rep.map_caching), rep.map_info,
		 rep.took_ns / 1000, host.late_ms);
	igt_assert_f(rep.ret == 0, "RESOURCE_INFO right after creating the blob failed: %s\n", strerror(-rep.ret));
	igt_assert_f(rep.took_ns < limit_ns,
		     "RESOURCE_INFO took %" PRIu64 " ms: it waits for the host's answer\n", rep.took_ns / 1000000);
	igt_assert_f(rep.map_caching == VIRTGPU_MAP_CACHING_PENDING,
		     "RESOURCE_INFO %" PRIu64 " ms after creating the blob, before the host's answer (due %u ms after creation), reports %s, expected PENDING\n",
		     waited_ns / 1000000, host.late_ms, vgm_caching_name(rep.map_caching));
	igt_assert_f(rep.map_info == 0, "a PENDING blob reports map_info 0x%x, expected 0 (no answer yet)\n",
		     rep.map_info);

	/* mmap waits for the answer; then the query reports what it applied */
	p = vgm_map_expected(&c, &b, VGM_VIA_DRM, 0, size, &e, &refusal);
	ret = __vgm_query(c.fd, b.handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
	igt_info("after mmap (%s, %" PRIu64 " ms after creation): RESOURCE_INFO %s, map_info 0x%x (%s)\n",
		 p ? "mapped" : strerror(refusal), igt_nsec_elapsed(&created) / 1000000,
		 vgm_caching_name(ri.map_caching), ri.map_info, e.what);
	igt_assert_f(ri.map_caching == (p ? e.caching : VIRTGPU_MAP_CACHING_REFUSED),
		     "after mmap RESOURCE_INFO reports %s, expected %s (%s)\n",
		     vgm_caching_name(ri.map_caching),
		     vgm_caching_name(p ? e.caching : VIRTGPU_MAP_CACHING_REFUSED), e.what);
	if (p) {
		vgm_write_stamps(p, size, 0x9e);
		vgm_assert_stamps(p, size, 0x9e, "mapping after the pending query");
		vgm_unmap(p, size);
	}
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_guest_blob_wb(void)
{
	uint64_t size = 64 * VGM_KIB;
	struct vgm_blob g;
	uint32_t seed = 0x5eed;
	int fd, err, cache;
	void *p;

	fd = vgm_open_ctx();
	vgm_blob_guest(fd, size, &g);
	p = __vgm_mmap(&g, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(p, "mmap of a guest-memory blob failed: %s\n", strerror(err));
	vgm_write_stamps(p, size, seed);
	igt_assert_f(vgm_check_stamps(p, size, seed) < 0,
		     "a guest-memory blob does not read back what was written\n");
	cache = vgm_assert_ptes(p, size, "guest-memory blob");
	igt_assert_f(cache == VGM_CACHE_WB,
		     "a guest-memory blob is mapped %s, expected %s (it is ordinary guest RAM)\n",
		     vgm_cache_name(cache), vgm_cache_name(VGM_CACHE_WB));
	munmap(p, size);
	vgm_gem_close(fd, g.handle);
	close(fd);
}

/*
 * The kernel's own mappings of [phys, phys + len): the vmalloc areas that
 * /proc/vmallocinfo marks "ioremap", by their physical address ("phys=");
 * an area's size there counts its guard page.
 */
static int kernel_mappings(uint64_t phys, uint64_t len, const char *what)
{
	char *info, *line, *save = NULL;
	int count = 0;

	info = vgm_read_file("/proc/vmallocinfo", NULL);
	igt_require_f(info, "no /proc/vmallocinfo: %s\n", strerror(errno));
	for (line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long size, pa;
		const char *ph = strstr(line, " phys=");

		if (!ph || !strstr(line, " ioremap") ||
		    sscanf(line, "%*s %llu", &size) != 1 || sscanf(ph, " phys=%llx", &pa) != 1)
			continue;
		/* the guard page: the kernel's page size */
		if (size > (unsigned long long)sysconf(_SC_PAGESIZE))
			size -= sysconf(_SC_PAGESIZE);
		if (pa < phys + len && pa + size > phys) {
			igt_info("%s: kernel mapping %s\n", what, line);
			count++;
		}
	}
	free(info);
	return count;
}

/*
 * A blob is mapped into the kernel only where a memory-type reservation
 * needs it: on x86 with PAT, write-back (the host's cached, or its default)
 * and UC- (uncached) have no exported interface but a kernel mapping (not
 * used for UC- on 32-bit kernels, whose vmalloc space is small). WC is
 * reserved without one, and other architectures reserve nothing. Where
 * one is needed, a kernel that reports the caching (ours) must have
 * exactly one: the positive control that the areas are found at all. A
 * kernel that does not (upstream) maps blobs at mmap() and never into the
 * kernel.
 */
static void test_kernel_mapping(void)
{
	uint64_t size = 4 * VGM_MIB + 4 * VGM_KIB, phys;
	const char *what = "blob of 4100 KiB";
	struct vgm_expect e;
	struct vgm_blob b;
	struct vgm_ctx c;
	struct utsname u;
	bool needed;
	uint8_t *p;
	int n;

	vgm_ctx_open(&c);
	vgm_blob_create_retry(c.fd, size, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	/* every page faulted: whatever the fault path maps, it has mapped */
	vgm_write_stamps(p, size, 0x6b6d);
	phys = mapping_phys(&b, 0, size, what);

	/* the kernel's word size, not this binary's */
	igt_assert_eq(uname(&u), 0);
	needed = c.have_query && VGM_X86 && vgm_pat_enabled() &&
		 (e.attr == VGM_ATTR_CACHED || e.attr == VGM_ATTR_NONE ||
		  (e.attr == VGM_ATTR_UNCACHED && !strcmp(u.machine, "x86_64")));
	n = kernel_mappings(phys, size, what);
	igt_info("%s at [0x%" PRIx64 "+0x%" PRIx64 "]: host %s, %d kernel mapping(s)%s\n",
		 what, phys, size, vgm_attr_name(e.attr), n,
		 needed ? " (x86 with PAT reserves this type through one)" : "");
	if (!needed)
		igt_assert_f(n == 0,
			     "%s at [0x%" PRIx64 "+0x%" PRIx64 "]: host %s on %s%s%s: %d kernel mapping(s) of the blob, where its memory type needs none\n",
			     what, phys, size, vgm_attr_name(e.attr), u.machine,
			     VGM_X86 && !vgm_pat_enabled() ? " (nopat)" : "",
			     c.have_query ? "" : ", a kernel that maps blobs at mmap()", n);
	else
		igt_assert_f(n == 1,
			     "%s at [0x%" PRIx64 "+0x%" PRIx64 "]: host %s: %d kernel mappings of it; x86 with PAT reserves the type through exactly one\n",
			     what, phys, size, vgm_attr_name(e.attr), n);

	vgm_unmap(p, size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/*
 * platform_attr=1, the opt-in to stock's behaviour: the guest maps what PAT
 * gives, and RESOURCE_INFO then reports the attribute the guest really got,
 * read back from the guest's own PTE (DEFAULT where the host said nothing).
 */
static void test_platform_attr(void)
{
	uint64_t size = 64 * VGM_KIB;
	struct vgm_resource_info ri = {};
	const struct vgm_ptrange *r;
	int old, ret, qret, err = 0, cache;
	struct vgm_ptdump pt;
	struct vgm_ctx c;
	struct vgm_blob b;
	uint32_t want;
	uint8_t *p = NULL;

	enum vgm_attr host;

	/* what PAT and the MTRRs give instead of the host's attribute: x86 only */
	vgm_require_x86("platform_attr (PAT's type instead of the host's)");
	old = vgm_param_get(VGM_PLATFORM_PARAM);
	igt_require_f(old >= 0, "no module parameter %s: this kernel maps what PAT gives anyway\n",
		      VGM_PLATFORM_PARAM);
	vgm_require_ptdump();
	vgm_ctx_open(&c);
	/* read when the host's answer is first used: map, then restore */
	igt_assert_eq(vgm_param_set(VGM_PLATFORM_PARAM, true), 0);
	/*
	 * (a window-sized blob of the subtest before, mapping-whole@window,
	 * gives its space back only when the host answered its UNREF: ENOSPC
	 * for a while; no assert here, the parameter is set)
	 */
	ret = __vgm_blob_create_retry(c.fd, size, &b);
	if (!ret)
		p = __vgm_mmap(&b, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(vgm_param_set(VGM_PLATFORM_PARAM, old == 1) == 0,
		     "cannot set %s back\n", VGM_PLATFORM_PARAM);
	igt_assert_f(ret == 0, "RESOURCE_CREATE_BLOB failed: %s\n", strerror(-ret));
	qret = __vgm_query(c.fd, b.handle, &ri);
	igt_assert_f(qret == 0, "RESOURCE_INFO failed: %s\n", strerror(-qret));
	if (!p) {
		/*
		 * The policy's own refusals: undefined, error; and WC without
		 * PAT (nopat: no PTE can say WC). Never PAT's type instead of
		 * the host's.
		 */
		igt_assert_f(err != EOPNOTSUPP || !vgm_pat_enabled(),
			     "platform_attr=1: mmap refused with EOPNOTSUPP, the platform's refusal the opt-in turns off\n");
		igt_skip("host %s: refused for a reason of its own (%s), not the platform's\n",
			 c.host.name, strerror(err));
	}
	(void)*(volatile uint8_t *)p;
	igt_assert_eq(vgm_ptdump_read(&pt, p, VGM_PAGE), 0);
	r = vgm_ptdump_find(&pt, (uintptr_t)p);
	igt_assert_f(r && r->present, "the blob's first page has no PTE after a touch\n");
	cache = vgm_ptrange_cache(r);
	vgm_ptdump_free(&pt);
	want = cache == VGM_CACHE_WB ? VIRTGPU_MAP_CACHING_CACHED :
	       cache == VGM_CACHE_WC ? VIRTGPU_MAP_CACHING_WC : VIRTGPU_MAP_CACHING_UNCACHED;
	host = vgm_attr_decode(ri.map_info);
	if (host == VGM_ATTR_NONE || vgm_attr_cache(host) == cache) {
		munmap(p, size);
		vgm_gem_close(c.fd, b.handle);
		vgm_ctx_close(&c);
		igt_skip("host %s: PAT gives the guest the host's attribute (PTE %s) here: the opt-in changes nothing to check\n",
			 c.host.name, vgm_cache_name(cache));
	}
	igt_assert_f(ri.map_caching == want,
			     "platform_attr=1: the guest's PTE is %s, but RESOURCE_INFO reports %s (map_info 0x%x)\n",
			     vgm_cache_name(cache), vgm_caching_name(ri.map_caching), ri.map_info);
	igt_info("host %s, platform_attr=1: PTE %s, RESOURCE_INFO %s\n", c.host.name,
		 vgm_cache_name(cache), vgm_caching_name(ri.map_caching));
	munmap(p, size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/*
 * The page-table walker module (kmod/vgm_ptewalk.c) against ptdump, page by
 * page of a faulted-in 4.25 MiB blob: the same cache mode, the same level
 * (PMD or PTE), and the blob's own PFN; and the library's page-table reads
 * from the walker (what other architectures use) against ptdump's, for the
 * whole mapping. On x86 both read the real page table; the walker is what
 * arm64 has instead of ptdump: there it is checked on its own, each page
 * present with the blob's PFN and the memory type of the host's attribute.
 */
/*
 * The walker's range queries against its single-address answers, where
 * they need many lines and several queries: every other page of the
 * mapping made read-only and faulted in again (a run per page).
 */
static void check_walker_runs(int wfd, uint8_t *p, uint64_t size)
{
	struct vgm_range rg = { .p = p, .len = size };
	unsigned int bad = 0, runs;
	struct vgm_ptdump pt;
	uint64_t off;
	int ret;

	for (off = VGM_PAGE; off < size; off += 2 * VGM_PAGE)
		igt_assert_eq(mprotect(p + off, VGM_PAGE, PROT_READ), 0);
	/* split PMDs of a PFN mapping are gone: fault every page in again */
	for (off = 0; off < size; off += VGM_PAGE)
		(void)*(volatile uint8_t *)(p + off);
	ret = vgm_ptdump_read_walker(&pt, &rg, 1);
	igt_assert_f(ret == 0, "the walker's range queries failed: %s\n", strerror(-ret));
	runs = pt.n;
	for (off = 0; off < size; off += VGM_PAGE) {
		const struct vgm_ptrange *r = vgm_ptdump_find(&pt, (uintptr_t)p + off);
		struct vgm_pte w;

		ret = vgm_ptewalk(wfd, (uintptr_t)p + off, &w);
		if (ret == -ENOENT) {
			bad += r && r->present;
			continue;
		}
		igt_assert_f(ret == 0, "page %" PRIu64 ": %s\n", off / VGM_PAGE, w.line);
		if (!r || !r->present || r->rw != w.writable || strcmp(r->level, w.level) ||
		    r->cache != vgm_cache_of_type(w.type)) {
			if (!bad)
				igt_info("page %" PRIu64 ": the range query says %s %s %s, the page's own: %s\n",
					 off / VGM_PAGE, r && r->present ? "present" : "absent",
					 r ? r->level : "-", r && r->rw ? "rw" : "ro", w.line);
			bad++;
		}
	}
	vgm_ptdump_free(&pt);
	igt_assert_f(bad == 0, "%u of %" PRIu64 " pages: the walker's range queries disagree with its single-address answers\n",
		     bad, size / VGM_PAGE);
	igt_assert_f(runs >= size / VGM_PAGE,
		     "%u ranges for %" PRIu64 " pages alternately writable and read-only\n", runs, size / VGM_PAGE);
	igt_info("every other page read-only: %u runs, the range queries agree with the single-address answers\n",
		 runs);
}

static void test_ptewalk(void)
{
	uint64_t size = 4 * VGM_MIB + 256 * VGM_KIB, off, phys;
	unsigned int pages = 0, pmd = 0;
	char first[24] = "";
	struct vgm_ptdump pt = {};
	struct vgm_expect e;
	struct vgm_ctx c;
	struct vgm_blob b;
	bool have_phys;
	int wfd, ret;
	uint8_t *p;

	wfd = vgm_ptewalk_open();
	igt_require_f(wfd >= 0, "no %s (kmod/vgm_ptewalk.ko not loaded): %s\n", VGM_PTEWALK,
		      strerror(-wfd));
	if (VGM_X86)
		igt_require_f(access("/sys/kernel/debug/page_tables/current_user", R_OK) == 0 ||
			      access("/sys/kernel/debug/page_tables/current_kernel", R_OK) == 0,
			      "no ptdump of this process's page tables (CONFIG_PTDUMP_DEBUGFS) to check the walker against\n");
	vgm_ctx_open(&c);
	vgm_blob_create_retry(c.fd, size, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	for (off = 0; off < size; off += VGM_PAGE)
		(void)*(volatile uint8_t *)(p + off);
	have_phys = vgm_blob_try_phys(&b, &phys);

	/* ptdump itself, not what the library reads elsewhere (the walker) */
	if (VGM_X86)
		igt_assert_eq(vgm_ptdump_read_x86(&pt), 0);
	for (off = 0; off < size; off += VGM_PAGE) {
		struct vgm_pte w;

		ret = vgm_ptewalk(wfd, (uintptr_t)p + off, &w);
		igt_assert_f(ret == 0, "page %" PRIu64 ": the walker has no entry (%s): %s\n",
			     off / VGM_PAGE, strerror(-ret), w.line);
		if (VGM_X86) {
			const struct vgm_ptrange *r = vgm_ptdump_find(&pt, (uintptr_t)p + off);

			igt_assert_f(r && r->present, "page %" PRIu64 " of the blob has no entry in ptdump\n",
				     off / VGM_PAGE);
			igt_assert_f(vgm_cache_of_type(w.type) == vgm_ptrange_cache(r),
				     "page %" PRIu64 ": the walker says %s, ptdump %s: %s\n", off / VGM_PAGE,
				     w.type, vgm_cache_name(vgm_ptrange_cache(r)), w.line);
			igt_assert_f(!strcmp(w.level, r->level),
				     "page %" PRIu64 ": the walker says %s, ptdump %s: %s\n", off / VGM_PAGE,
				     w.level, r->level, w.line);
		} else {
			/* nothing to compare with: the host's attribute and a type the suite knows */
			igt_assert_f(vgm_cache_of_type(w.type) != VGM_CACHE_UNKNOWN,
				     "page %" PRIu64 ": the walker reports a memory type the suite does not know: %s\n",
				     off / VGM_PAGE, w.line);
			if (e.cache != VGM_CACHE_ANY)
				igt_assert_f(vgm_cache_of_type(w.type) == e.cache,
					     "page %" PRIu64 ": host-%s memory (map_info 0x%x) is mapped %s, expected %s: %s\n",
					     off / VGM_PAGE, vgm_attr_name(e.attr), e.map_info, w.type,
					     vgm_cache_name(e.cache), w.line);
		}
		if (have_phys) {
			uint64_t want = (phys + off) / VGM_PAGE;

			igt_assert_f(w.pfn == want,
				     "page %" PRIu64 ": the walker's PFN 0x%" PRIx64 " is not the blob's 0x%" PRIx64 ": %s\n",
				     off / VGM_PAGE, w.pfn, want, w.line);
		}
		if (!pages)
			snprintf(first, sizeof(first), "%s", w.type);
		pages++;
		pmd += !strcmp(w.level, "pmd");
	}
	if (VGM_X86) {
		/* what the library reads from the walker elsewhere: the same spans as ptdump's */
		struct vgm_range rg = { .p = p, .len = size };
		struct vgm_ptdump wpt;
		struct vgm_span sd, sw;

		vgm_ptdump_span(&pt, (uintptr_t)p, size, &sd);
		ret = vgm_ptdump_read_walker(&wpt, &rg, 1);
		igt_assert_f(ret == 0, "the page tables of the mapping cannot be read from the walker: %s\n",
			     strerror(-ret));
		vgm_ptdump_span(&wpt, (uintptr_t)p, size, &sw);
		vgm_ptdump_free(&wpt);
		igt_assert_f(sd.present == sw.present && sd.pte_bytes == sw.pte_bytes &&
			     sd.pmd_bytes == sw.pmd_bytes && sd.other_bytes == sw.other_bytes &&
			     sd.cache == sw.cache && sd.writable == sw.writable,
			     "the mapping read from the walker (%" PRIu64 " KiB present, %" PRIu64 " KiB in PTEs, %" PRIu64 " KiB in PMDs, %s, %s) is not what ptdump says (%" PRIu64 " KiB, %" PRIu64 " KiB, %" PRIu64 " KiB, %s, %s)\n",
			     sw.present / 1024, sw.pte_bytes / 1024, sw.pmd_bytes / 1024, vgm_cache_name(sw.cache),
			     sw.writable ? "writable" : "not all writable",
			     sd.present / 1024, sd.pte_bytes / 1024, sd.pmd_bytes / 1024, vgm_cache_name(sd.cache),
			     sd.writable ? "writable" : "not all writable");
	}
	vgm_ptdump_free(&pt);
	check_walker_runs(wfd, p, size);
	if (VGM_X86)
		igt_info("%u pages (%u in PMD entries): the walker and ptdump agree (%s)%s\n", pages, pmd,
			 first, have_phys ? ", PFNs are the blob's" : "");
	else
		igt_info("%u pages (%u in PMD entries): the walker reads %s (host %s)%s\n", pages, pmd,
			 first, c.host.name, have_phys ? ", PFNs are the blob's" : "");
	vgm_unmap(p, size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
	close(wfd);
}

/*
 * Where the guest's MTRRs make the host-visible window uncachable (SeaBIOS's
 * 32-bit PCI hole), PAT cannot give a blob the host maps cached WB there.
 * If the host bridge has free write-back space above 4 GiB, the window must
 * be there: the driver moves it at probe. Expected values from the MTRRs
 * and /proc/iomem, not from the driver.
 */
static void test_window_placement(void)
{
	uint64_t base, size, at;
	char why[256], room[512];
	int fd, wb, r;

	vgm_require_x86("the MTRRs decide where a window can be mapped write-back");
	igt_require_f(vgm_param_get(VGM_RELOCATE_PARAM) != 0,
		      "virtio_gpu.relocate_window=0: the window stays where the firmware put it\n");
	igt_require_f(vgm_pat_enabled(), "PAT is off (nopat): MTRRs decide nothing a PTE could say\n");
	fd = vgm_open_render();
	igt_require_f(vgm_window(fd, &base, &size), "the host-visible window is not known\n");
	r = vgm_window_movable(fd, room, sizeof(room));
	close(fd);
	igt_require_f(r > 0, "the window's BAR cannot move: %s\n", room);
	wb = vgm_mtrr_wb(base, size, why, sizeof(why));
	igt_require_f(wb >= 0, "the MTRRs cannot be read (/proc/mtrr, /dev/cpu/0/msr): %s\n",
		      strerror(-wb));
	if (wb) {
		igt_info("host-visible window [0x%" PRIx64 "+0x%" PRIx64 "] is write-back in the MTRRs (%s)\n",
			 base, size, why);
		return;
	}
	igt_require_f(base + size <= 1ull << 32,
		      "the window is above 4 GiB already: the PCI core would place it there again\n");
	r = vgm_wb_room_above_4g(size, &at, room, sizeof(room));
	igt_require_f(r >= 0, "/proc/iomem or the MTRRs cannot be read (%s): %s\n", strerror(-r), room);
	igt_assert_f(r == 0,
		     "host-visible window [0x%" PRIx64 "+0x%" PRIx64 "] is not write-back in the MTRRs (%s), so PAT gives host-cached blobs UC-; but it could be moved: %s\n",
		     base, size, why, room);
	igt_info("host-visible window [0x%" PRIx64 "+0x%" PRIx64 "] is not write-back (%s), and cannot move to write-back space (%s): refusing host-cached blobs is all the guest can do\n",
		 base, size, why, room);
}

int igt_main()
{
	static const enum shape shapes[] = { WHOLE, PARTIAL, OFFSET };
	volatile unsigned int s, i;

	igt_fixture() {
		int fd = vgm_open_render();
		struct vgm_host h;

		vgm_require_host_visible(fd);
		vgm_host_get(&h);
		igt_require_f(h.kind != VGM_HOST_UNSET,
			      "VGM_HOST_MAPINFO is not set to what the host answers (passthrough, none, cached, uncached, wc, undefined, raw:N, error)\n");
		igt_require_f(getuid() == 0, "needs root (debugfs page tables, pagemap PFNs)\n");
		close(fd);
	}

	for (s = 0; s < ARRAY_SIZE(shapes); s++) {
		igt_describe("Cache mode of every PTE, PAT memtype and RESOURCE_INFO of a mapping of a host-visible blob, per blob size.");
		igt_subtest_with_dynamic_f("mapping-%s", shape_names[shapes[s]]) {
			for (i = 0; i < ARRAY_SIZE(sizes); i++) {
				if (shapes[s] != WHOLE && sizes[i].size == VGM_PAGE)
					continue;
				igt_dynamic_f("%s", sizes[i].name)
					test_mapping(&sizes[i], shapes[s]);
			}
		}
	}

	igt_describe("Blobs of 2 MiB and more are mapped with PMD entries.");
	igt_subtest("huge-pmd")
		test_huge_pmd();

	igt_describe("strict_map_info refuses blobs whose host reported no attribute.");
	igt_subtest("strict-none")
		test_strict_none();

	igt_describe("VIRTGPU_PARAM_MAP_CACHING and the RESOURCE_INFO extension.");
	igt_subtest("query-uapi")
		test_query_uapi();

	igt_describe("RESOURCE_INFO does not wait for the host's answer: PENDING until it came.");
	igt_subtest("query-pending")
		test_query_pending();

	igt_describe("platform_attr=1 maps what PAT gives and RESOURCE_INFO reports what the PTE says.");
	igt_subtest("platform-attr")
		test_platform_attr();

	igt_describe("The test-only page-table walker module agrees with ptdump, page by page.");
	igt_subtest("ptewalk")
		test_ptewalk();

	igt_describe("A window the MTRRs make uncachable is moved to write-back PCI space above 4 GiB when there is room.");
	igt_subtest("window-placement")
		test_window_placement();

	igt_describe("A host-visible blob is mapped into the kernel only where x86 PAT needs it to reserve its memory type.");
	igt_subtest("kernel-mapping")
		test_kernel_mapping();

	igt_describe("Guest-memory blobs map write-back (control group).");
	igt_subtest("guest-blob-wb")
		test_guest_blob_wb();
}
