// SPDX-License-Identifier: MIT
/*
 * virtgpu_map_data: what is written through a mapping of a host-visible
 * virtio-gpu blob is what every other view of the blob reads.
 */

/**
 * TEST: virtgpu map data
 * Category: Core
 * Mega feature: General Core features
 * Sub-category: Memory management
 * Functionality: virtio-gpu host-visible blob mappings
 * Test category: functionality test
 * Description: Contents of host-visible blobs through their guest
 *		mappings: several mappings of one blob, a mapping made after
 *		another was removed, a mapping of an exported dma-buf, and the
 *		host's own view through virgl copies. Guest-memory blobs are the
 *		control group. Subtests skip on runs where the host's answer
 *		makes the guest refuse to map host-visible blobs.
 *
 * SUBTEST: two-mappings
 * Description: Bytes written through one mapping are read through a second
 *		mapping of the same blob, in both directions, and through a
 *		partial mapping of its first half.
 *
 * SUBTEST: munmap-mmap
 * Description: Bytes written through a mapping are read through a new
 *		mapping made after the first one was removed.
 *
 * SUBTEST: dmabuf
 * Description: The blob exported as a dma-buf (DRM_RDWR) and mapped through
 *		the dma-buf file shows the same bytes as the DRM mapping in both
 *		directions, with the same PTE cache mode, and keeps working
 *		after the dma-buf file and the GEM handle are closed.
 *
 * SUBTEST: dmabuf-readonly
 * Description: The blob exported as a read-only dma-buf (without
 *		DRM_RDWR: its file is opened O_RDONLY) maps read-only and
 *		shared: the mapping shows what the DRM mapping wrote, before
 *		and after, with read-only entries of the same cache mode, and a
 *		store to it raises SIGSEGV. A writable shared mapping of that
 *		file and mprotect(PROT_WRITE) of the read-only one fail with
 *		EACCES (the core refuses; a read-only shared mapping is no
 *		copy-on-write mapping, so the driver must not refuse it).
 *
 * SUBTEST: guest-blob
 * Description: Control group: a guest-memory blob reads back through a
 *		second mapping and after munmap/mmap, mapped write-back.
 *
 * SUBTEST: host-reads-guest-writes
 * Description: Bytes the guest wrote through the mapping are what the host
 *		copies out of the blob (virgl RESOURCE_COPY_REGION into a
 *		guest-backed buffer, TRANSFER_FROM_HOST, read in the guest).
 *
 * SUBTEST: guest-reads-host-writes
 * Description: Bytes the host copied into the blob (TRANSFER_TO_HOST of a
 *		guest-backed buffer, RESOURCE_COPY_REGION into the blob) are
 *		what the guest reads through its mapping.
 *
 * SUBTEST: unaligned-access
 * Description: Whatever attribute the host gives the blob on this run,
 *		libc's memset() (zero and non-zero) and memcpy() into and out
 *		of its mapping, as Mesa uses them on mapped buffers, work at
 *		every offset 0..15 within a page for every length 1..64, and
 *		for 4095 bytes at offset 1, a page at offset 3 (across a page
 *		boundary) and three pages and 5 bytes at offset 7: no SIGBUS,
 *		and the bytes read back (volatile byte loads) with nothing
 *		written around them. A fault fails the subtest naming the
 *		call, offset, length, host attribute and PTE memory type. On
 *		arm64 the stock driver maps host-uncached blobs with
 *		pgprot_noncached(), Device-nGnRnE, where the first unaligned
 *		store (or DC ZVA) raises SIGBUS (alignment fault); Normal-NC
 *		and x86's UC- take any alignment. (With FEAT_MOPS, glibc's
 *		memset/memcpy are SET and CPY instructions, which QEMU's TCG
 *		runs on Device memory without alignment faults: the arm64
 *		guest is a Neoverse N1, as most arm64 hardware has no MOPS.)
 */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt_harness.h"
#include "virtgpu_map_lib.h"

IGT_TEST_DESCRIPTION("Every view of a host-visible virtio-gpu blob shows the same bytes: guest mappings, dma-buf mappings and the host.");

#define SIZE (64 * VGM_KIB)

static void test_two_mappings(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p1, *p2, *half;
	int err;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p1 = vgm_map_or_skip(&c, &b, &e);
	p2 = __vgm_mmap(&b, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(p2, "second mapping of the blob failed: %s\n", strerror(err));
	vgm_track(p2, SIZE);
	igt_assert(p1 != p2);

	vgm_write_stamps(p1, SIZE, 1);
	vgm_assert_stamps(p2, SIZE, 1, "written through the first mapping, read through the second");
	vgm_write_stamps(p2, SIZE, 2);
	vgm_assert_stamps(p1, SIZE, 2, "written through the second mapping, read through the first");

	half = __vgm_mmap(&b, 0, SIZE / 2, PROT_READ, MAP_SHARED, &err);
	igt_assert_f(half, "partial mapping of the blob failed: %s\n", strerror(err));
	vgm_assert_stamps(half, SIZE / 2, 2, "read through a partial mapping");
	munmap(half, SIZE / 2);

	vgm_unmap(p2, SIZE);
	vgm_unmap(p1, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_munmap_mmap(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	uint8_t *p;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_fresh(&c, &b, VGM_VIA_DRM, 3, NULL);
	vgm_assert_stamps(p, SIZE, 3, "read through a new mapping after munmap");
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_dmabuf(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	int dmabuf, ret, drm_cache, buf_cache;
	uint8_t *p, *d;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 4);

	ret = __vgm_prime_export(c.fd, b.handle, &dmabuf);
	igt_assert_f(ret == 0, "PRIME_HANDLE_TO_FD(DRM_RDWR | DRM_CLOEXEC) failed: %s\n", strerror(-ret));
	d = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	igt_assert_f(d != MAP_FAILED, "mmap of the exported dma-buf failed: %s\n", strerror(errno));
	vgm_track(d, SIZE);

	vgm_assert_stamps(d, SIZE, 4, "written through the DRM mapping, read through the dma-buf mapping");
	vgm_write_stamps(d, SIZE, 5);
	vgm_assert_stamps(p, SIZE, 5, "written through the dma-buf mapping, read through the DRM mapping");

	drm_cache = vgm_assert_ptes(p, SIZE, "DRM mapping");
	buf_cache = vgm_assert_ptes(d, SIZE, "dma-buf mapping");
	igt_assert_f(drm_cache == buf_cache,
		     "the dma-buf mapping is %s but the DRM mapping of the same blob is %s: alias\n",
		     vgm_cache_name(buf_cache), vgm_cache_name(drm_cache));
	if (e.cache != VGM_CACHE_ANY)
		igt_assert_f(buf_cache == e.cache,
			     "the dma-buf mapping of host-%s memory is %s, expected %s\n",
			     vgm_attr_name(e.attr), vgm_cache_name(buf_cache), vgm_cache_name(e.cache));

	/* the mapping holds the dma-buf, which holds the object */
	close(dmabuf);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_write_stamps(d, SIZE, 6);
	vgm_assert_stamps(d, SIZE, 6, "dma-buf mapping after closing the dma-buf file and the GEM handle");
	vgm_unmap(d, SIZE);
	vgm_ctx_close(&c);
}

static void test_dmabuf_readonly(void)
{
	struct vgm_ptdump pt;
	struct vgm_span sp;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	int dmabuf, ret, fl, err, drm_cache, sig;
	uint8_t *p, *r, *w;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 10);

	/* the first export of the object: a later one would share its file and mode */
	ret = __vgm_prime_export_flags(c.fd, b.handle, DRM_CLOEXEC, &dmabuf);
	igt_assert_f(ret == 0, "PRIME_HANDLE_TO_FD(DRM_CLOEXEC) failed: %s\n", strerror(-ret));
	fl = fcntl(dmabuf, F_GETFL);
	igt_assert_f(fl >= 0 && (fl & O_ACCMODE) == O_RDONLY,
		     "the dma-buf exported without DRM_RDWR has file flags 0x%x, expected O_RDONLY\n", fl);

	r = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, dmabuf, 0);
	err = errno;
	igt_assert_f(r != MAP_FAILED,
		     "mmap(PROT_READ, MAP_SHARED) of the read-only dma-buf failed: %s, expected a mapping (it is shared, not copy-on-write: do_mmap() only cleared VM_SHARED and VM_MAYWRITE because the file is read-only)\n",
		     strerror(err));
	vgm_track(r, SIZE);
	vgm_assert_stamps(r, SIZE, 10, "written through the DRM mapping, read through the read-only dma-buf mapping");
	vgm_write_stamps(p, SIZE, 11);
	vgm_assert_stamps(r, SIZE, 11, "written through the DRM mapping later, read through the read-only dma-buf mapping");

	drm_cache = vgm_assert_ptes(p, SIZE, "DRM mapping");
	igt_assert_eq(vgm_ptdump_read(&pt, r, SIZE), 0);
	vgm_ptdump_span(&pt, (uintptr_t)r, SIZE, &sp);
	vgm_ptdump_free(&pt);
	igt_assert_f(sp.missing == 0,
		     "%" PRIu64 " KiB of the read-only mapping are not in the page tables after every page was read\n",
		     sp.missing / 1024);
	igt_assert_f(sp.cache == drm_cache,
		     "the read-only dma-buf mapping is %s but the DRM mapping of the same blob is %s: alias\n",
		     vgm_cache_name(sp.cache), vgm_cache_name(drm_cache));
	igt_assert_f(!sp.writable, "the read-only dma-buf mapping has writable entries\n");

	vgm_sigbus_install();
	sig = vgm_probe_write(r, 1);
	vgm_sigbus_restore();
	igt_assert_f(sig == SIGSEGV, "a store to the read-only dma-buf mapping: %s, expected SIGSEGV\n",
		     sig ? strsignal(sig) : "it wrote");
	vgm_assert_stamps(p, SIZE, 11, "after a store to the read-only mapping");

	ret = mprotect(r, SIZE, PROT_READ | PROT_WRITE);
	err = errno;
	igt_assert_f(ret == -1 && err == EACCES,
		     "mprotect(PROT_READ | PROT_WRITE) of a mapping of the read-only dma-buf: %s, expected EACCES\n",
		     ret ? strerror(err) : "it became writable");
	w = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	err = errno;
	if (w != MAP_FAILED)
		munmap(w, SIZE);
	igt_assert_f(w == MAP_FAILED && err == EACCES,
		     "mmap(PROT_READ | PROT_WRITE, MAP_SHARED) of the read-only dma-buf: %s, expected EACCES\n",
		     w != MAP_FAILED ? "it mapped" : strerror(err));

	close(dmabuf);
	vgm_unmap(r, SIZE);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_guest_blob(void)
{
	struct vgm_blob g;
	int fd, err, cache;
	uint8_t *p, *q;

	fd = vgm_open_ctx();
	vgm_blob_guest(fd, SIZE, &g);
	p = __vgm_mmap(&g, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(p, "mmap of a guest-memory blob failed: %s\n", strerror(err));
	q = __vgm_mmap(&g, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(q, "second mmap of a guest-memory blob failed: %s\n", strerror(err));

	vgm_write_stamps(p, SIZE, 7);
	vgm_assert_stamps(q, SIZE, 7, "guest blob, second mapping");
	cache = vgm_assert_ptes(p, SIZE, "guest-memory blob");
	igt_assert_f(cache == VGM_CACHE_WB, "a guest-memory blob is mapped %s, expected %s\n",
		     vgm_cache_name(cache), vgm_cache_name(VGM_CACHE_WB));
	munmap(p, SIZE);
	munmap(q, SIZE);

	p = __vgm_mmap(&g, 0, SIZE, PROT_READ, MAP_SHARED, &err);
	igt_assert_f(p, "mmap of a guest-memory blob after munmap failed: %s\n", strerror(err));
	vgm_assert_stamps(p, SIZE, 7, "guest blob after munmap/mmap");
	munmap(p, SIZE);
	vgm_gem_close(fd, g.handle);
	close(fd);
}

/* a guest-backed virgl buffer and its mapping (ordinary guest memory) */
static uint8_t *classic_buffer(int fd, uint32_t *handle, uint32_t *res)
{
	uint8_t *p;
	int ret, err;

	ret = __vgm_classic_buffer(fd, SIZE, handle, res);
	igt_assert_f(ret == 0, "RESOURCE_CREATE of a guest-backed virgl buffer failed: %s\n", strerror(-ret));
	p = __vgm_mmap_handle(fd, *handle, 0, SIZE, &err);
	igt_assert_f(p, "mmap of the guest-backed buffer failed: %s\n", strerror(err));
	return p;
}

static void test_host_reads(void)
{
	uint32_t cmd[16], handles[2], handle, res;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p, *q;
	int n, ret;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	q = classic_buffer(c.fd, &handle, &res);
	memset(q, 0, SIZE);
	ret = __vgm_transfer(c.fd, handle, SIZE, true);
	igt_assert_f(ret == 0, "TRANSFER_TO_HOST of the zeroed buffer failed: %s\n", strerror(-ret));

	vgm_write_stamps(p, SIZE, 8);

	/* the host copies the blob into the buffer and gives it back */
	n = vgm_copy_region_cmd(cmd, res, b.res, SIZE);
	handles[0] = b.handle;
	handles[1] = handle;
	ret = __vgm_execbuf(c.fd, cmd, n, handles, 2);
	igt_assert_f(ret == 0, "EXECBUFFER with RESOURCE_COPY_REGION failed: %s\n", strerror(-ret));
	ret = __vgm_transfer(c.fd, handle, SIZE, false);
	igt_assert_f(ret == 0, "TRANSFER_FROM_HOST failed: %s\n", strerror(-ret));
	ret = __vgm_wait(c.fd, handle);
	igt_assert_f(ret == 0, "WAIT for the buffer failed: %s\n", strerror(-ret));

	vgm_assert_stamps(q, SIZE, 8, "bytes the guest wrote through its mapping, as the host copied them");

	munmap(q, SIZE);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, handle);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

static void test_guest_reads(void)
{
	uint32_t cmd[16], handles[2], handle, res;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p, *q;
	int n, ret;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	memset(p, 0, SIZE);
	q = classic_buffer(c.fd, &handle, &res);

	vgm_write_stamps(q, SIZE, 9);
	ret = __vgm_transfer(c.fd, handle, SIZE, true);
	igt_assert_f(ret == 0, "TRANSFER_TO_HOST failed: %s\n", strerror(-ret));
	n = vgm_copy_region_cmd(cmd, b.res, res, SIZE);
	handles[0] = b.handle;
	handles[1] = handle;
	ret = __vgm_execbuf(c.fd, cmd, n, handles, 2);
	igt_assert_f(ret == 0, "EXECBUFFER with RESOURCE_COPY_REGION failed: %s\n", strerror(-ret));
	ret = __vgm_wait(c.fd, b.handle);
	igt_assert_f(ret == 0, "WAIT for the blob failed: %s\n", strerror(-ret));

	vgm_assert_stamps(p, SIZE, 9, "bytes the host copied into the blob, read through the guest mapping");

	munmap(q, SIZE);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, handle);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/*
 * libc's memset() and memcpy(), called through volatile pointers: the
 * compiler can neither inline them as its own (aligned) stores nor elide
 * them. glibc's versions use unaligned loads and stores, overlapping ones
 * for short lengths, and DC ZVA for long zero fills on arm64: what Mesa's
 * accesses to a mapped buffer do.
 */
static void *(*volatile libc_memset)(void *, int, size_t) = memset;
static void *(*volatile libc_memcpy)(void *, const void *, size_t) = memcpy;

enum ua_op { UA_MEMSET, UA_TO_MAP, UA_FROM_MAP };

struct ua_call {
	enum ua_op op;
	uint8_t *map;		/* in the mapping */
	uint8_t *buf;		/* ordinary memory */
	size_t len;
	int val;
};

static void ua_run(void *arg)
{
	struct ua_call *u = arg;

	switch (u->op) {
	case UA_MEMSET:
		libc_memset(u->map, u->val, u->len);
		break;
	case UA_TO_MAP:
		libc_memcpy(u->map, u->buf, u->len);
		break;
	case UA_FROM_MAP:
		libc_memcpy(u->buf, u->map, u->len);
		break;
	}
}

#define UA_GUARD 16
#define UA_MAX (3 * VGM_PAGE + 64)

struct ua_state {
	uint8_t *base;			/* page 1 of the mapping */
	const struct vgm_expect *e;
	int cache;			/* the PTEs' memory type, for messages */
	char fail[512];			/* the first failure */
};

/* the background of the mapping around a call: byte i of base (i may be negative: page 0) */
static uint8_t ua_bg(ptrdiff_t i)
{
	return (uint8_t)(i * 7 + 0x3b);
}

static uint8_t ua_pat(size_t i, size_t off, size_t len)
{
	return (uint8_t)((i * 13 + off * 3 + len) ^ 0xc5);
}

/* [off - UA_GUARD, off + len + UA_GUARD) of base gets the background, byte by byte */
static void ua_fill_bg(volatile uint8_t *base, size_t off, size_t len)
{
	ptrdiff_t i;

	for (i = (ptrdiff_t)off - UA_GUARD; i < (ptrdiff_t)(off + len) + UA_GUARD; i++)
		base[i] = ua_bg(i);
}

/* the guards around [off, off + len) still hold the background: -1, or where not (from base) */
static ptrdiff_t ua_guards(const volatile uint8_t *base, size_t off, size_t len, bool *bad)
{
	ptrdiff_t i;

	*bad = true;
	for (i = (ptrdiff_t)off - UA_GUARD; i < (ptrdiff_t)off; i++)
		if (base[i] != ua_bg(i))
			return i;
	for (i = (ptrdiff_t)(off + len); i < (ptrdiff_t)(off + len) + UA_GUARD; i++)
		if (base[i] != ua_bg(i))
			return i;
	*bad = false;
	return 0;
}

static const char *ua_what(enum ua_op op)
{
	return op == UA_MEMSET ? "memset" : op == UA_TO_MAP ? "memcpy into" : "memcpy out of";
}

/*
 * One call at base + off of len bytes, checked: false with s->fail set if it
 * faulted or the bytes are wrong. @val is memset()'s byte.
 */
static bool ua_case(struct ua_state *s, enum ua_op op, size_t off, size_t len, int val)
{
	static uint8_t src[UA_MAX], dst[UA_MAX + 2 * UA_GUARD];
	volatile uint8_t *m = s->base;
	const volatile uint8_t *d = dst;
	struct ua_call u = { .op = op, .map = s->base + off, .len = len, .val = val };
	struct vgm_fault f;
	char desc[128];
	ptrdiff_t bad = -1;
	size_t i;

	if (op == UA_FROM_MAP) {
		/* the mapping holds a pattern (byte stores), dst a background */
		for (i = 0; i < len; i++)
			m[off + i] = ua_pat(i, off, len);
		memset(dst, 0xee, sizeof(dst));
		u.buf = dst + UA_GUARD;
	} else {
		ua_fill_bg(m, off, len);
		for (i = 0; i < len; i++)
			src[i] = ua_pat(i, off, len);
		u.buf = src;
	}

	if (vgm_probe_call(ua_run, &u, &f)) {
		snprintf(s->fail, sizeof(s->fail),
			 "%s the mapping at page offset %zu, %zu bytes%s: %s on host-%s memory (map_info 0x%x, PTEs %s)%s",
			 ua_what(op), off, len, op == UA_MEMSET ? (val ? " (non-zero)" : " (zero)") : "",
			 vgm_fault_desc(&f, desc, sizeof(desc)), vgm_attr_name(s->e->attr), s->e->map_info,
			 vgm_cache_name(s->cache),
			 vgm_cache_is_device(s->cache) ?
			 ": a Device memory type faults on unaligned accesses; host RAM the host maps uncached must be mapped Normal-NC (pgprot_writecombine()), not pgprot_noncached()" : "");
		return false;
	}

	for (i = 0; i < len && bad < 0; i++) {
		uint8_t want = op == UA_MEMSET ? (uint8_t)val : ua_pat(i, off, len);
		uint8_t got = op == UA_FROM_MAP ? d[UA_GUARD + i] : m[off + i];

		if (got != want)
			bad = (ptrdiff_t)i;
	}
	if (bad >= 0) {
		snprintf(s->fail, sizeof(s->fail),
			 "%s the mapping at page offset %zu, %zu bytes: byte %td reads 0x%02x, expected 0x%02x (host-%s memory, PTEs %s)",
			 ua_what(op), off, len, bad,
			 op == UA_FROM_MAP ? d[UA_GUARD + bad] : m[off + bad],
			 op == UA_MEMSET ? (uint8_t)val : ua_pat(bad, off, len),
			 vgm_attr_name(s->e->attr), vgm_cache_name(s->cache));
		return false;
	}
	if (op == UA_FROM_MAP) {
		for (i = 0; i < UA_GUARD && bad < 0; i++)
			if (d[i] != 0xee || d[UA_GUARD + len + i] != 0xee)
				bad = (ptrdiff_t)i;
		if (bad >= 0) {
			snprintf(s->fail, sizeof(s->fail),
				 "memcpy out of the mapping at page offset %zu, %zu bytes wrote outside the %zu bytes of its destination",
				 off, len, len);
			return false;
		}
	} else {
		bool wrong;
		ptrdiff_t at = ua_guards(m, off, len, &wrong);

		if (wrong) {
			snprintf(s->fail, sizeof(s->fail),
				 "%s the mapping at page offset %zu, %zu bytes changed the byte at page offset %td, outside [%zu, %zu) (host-%s memory, PTEs %s)",
				 ua_what(op), off, len, at, off, off + len, vgm_attr_name(s->e->attr),
				 vgm_cache_name(s->cache));
			return false;
		}
	}
	return true;
}

/* the memory type of the mapping's first page, for messages (VGM_CACHE_UNKNOWN if unreadable) */
static int ua_mapping_type(const void *p)
{
	const struct vgm_ptrange *r;
	struct vgm_ptdump pt;
	int cache = VGM_CACHE_UNKNOWN;

	if (vgm_ptdump_read(&pt, p, VGM_PAGE))
		return cache;
	r = vgm_ptdump_find(&pt, (uintptr_t)p);
	if (r && r->present)
		cache = vgm_ptrange_cache(r);
	vgm_ptdump_free(&pt);
	return cache;
}

static void test_unaligned_access(void)
{
	static const struct { size_t off, len; } big[] = {
		{ 1, VGM_PAGE - 1 },
		{ 3, VGM_PAGE },		/* across the boundary to page 2 */
		{ 7, 3 * VGM_PAGE + 5 },	/* across three boundaries */
	};
	static const int vals[] = { 0x5a, 0x00 };
	static const enum ua_op ops[] = { UA_MEMSET, UA_TO_MAP, UA_FROM_MAP };
	struct ua_state s = {};
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	unsigned int calls = 0, k, v, i;
	size_t off, len;
	bool ok = true;
	uint8_t *p;

	vgm_ctx_open(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	/* aligned 4-byte stores: every page faulted in */
	vgm_write_stamps(p, SIZE, 12);
	s.base = p + VGM_PAGE;
	s.e = &e;
	s.cache = ua_mapping_type(p);
	igt_info("host %s (%s): PTEs %s\n", c.host.name, e.what, vgm_cache_name(s.cache));

	vgm_sigbus_install();
	for (k = 0; k < ARRAY_SIZE(ops) && ok; k++) {
		for (v = 0; v < (ops[k] == UA_MEMSET ? ARRAY_SIZE(vals) : 1) && ok; v++) {
			for (off = 0; off < 16 && ok; off++) {
				for (len = 1; len <= 64 && ok; len++, calls++)
					ok = ua_case(&s, ops[k], off, len, vals[v]);
			}
			for (i = 0; i < ARRAY_SIZE(big) && ok; i++, calls++)
				ok = ua_case(&s, ops[k], big[i].off, big[i].len, vals[v]);
		}
	}
	vgm_sigbus_restore();
	igt_assert_f(ok, "%s\n", s.fail);
	igt_info("%u unaligned memset/memcpy calls on host-%s memory (PTEs %s): no fault, every byte right\n",
		 calls, vgm_attr_name(e.attr), vgm_cache_name(s.cache));

	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

int igt_main()
{
	igt_fixture()
		vgm_require_host_visible_device();

	igt_describe("Two mappings of one blob show the same bytes.");
	igt_subtest("two-mappings")
		test_two_mappings();

	igt_describe("A new mapping shows what the removed one wrote.");
	igt_subtest("munmap-mmap")
		test_munmap_mmap();

	igt_describe("The dma-buf mapping shows the same bytes with the same attribute.");
	igt_subtest("dmabuf")
		test_dmabuf();

	igt_describe("A dma-buf exported read-only maps read-only.");
	igt_subtest("dmabuf-readonly")
		test_dmabuf_readonly();

	igt_describe("Guest-memory blobs keep working (control group).");
	igt_subtest("guest-blob")
		test_guest_blob();

	igt_describe("The host sees what the guest wrote through the mapping.");
	igt_subtest("host-reads-guest-writes")
		test_host_reads();

	igt_describe("The guest sees through the mapping what the host wrote.");
	igt_subtest("guest-reads-host-writes")
		test_guest_reads();

	igt_describe("Unaligned libc memset/memcpy into and out of the mapping neither fault nor corrupt, whatever the host's attribute.");
	igt_subtest("unaligned-access")
		test_unaligned_access();
}
