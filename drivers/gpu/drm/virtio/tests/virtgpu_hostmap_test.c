// SPDX-License-Identifier: MIT
/*
 * KUnit tests for the host-visible mapping policy of virtio-gpu: decoding
 * of map_info, the check of an attribute, its page protection, and what
 * userspace is told in each state.
 */

#include <kunit/test.h>

#ifdef CONFIG_X86
#include <asm/memtype.h>
#endif

#include <linux/mm.h>
#include <linux/virtio_gpu.h>

#include <drm/virtgpu_drm.h>

#include "../virtgpu_hostmap.h"

struct decode_case {
	const char *desc;
	u32 map_info;
	enum virtio_gpu_map_attr attr;
};

static const struct decode_case decode_cases[] = {
	{ "none", VIRTIO_GPU_MAP_CACHE_NONE, VIRTIO_GPU_MAP_ATTR_NONE },
	{ "cached", VIRTIO_GPU_MAP_CACHE_CACHED, VIRTIO_GPU_MAP_ATTR_CACHED },
	{ "uncached", VIRTIO_GPU_MAP_CACHE_UNCACHED, VIRTIO_GPU_MAP_ATTR_UNCACHED },
	{ "wc", VIRTIO_GPU_MAP_CACHE_WC, VIRTIO_GPU_MAP_ATTR_WC },
	{ "0x4 undefined", 0x4, VIRTIO_GPU_MAP_ATTR_UNDEFINED },
	{ "0x7 undefined", 0x7, VIRTIO_GPU_MAP_ATTR_UNDEFINED },
	{ "0xf undefined", 0xf, VIRTIO_GPU_MAP_ATTR_UNDEFINED },
	{ "wc with bits above the mask", 0x100 | VIRTIO_GPU_MAP_CACHE_WC,
	  VIRTIO_GPU_MAP_ATTR_WC },
	{ "cached with all high bits", 0xfffffff0 | VIRTIO_GPU_MAP_CACHE_CACHED,
	  VIRTIO_GPU_MAP_ATTR_CACHED },
	{ "none with high bits", 0x80000000, VIRTIO_GPU_MAP_ATTR_NONE },
	{ "all ones", 0xffffffff, VIRTIO_GPU_MAP_ATTR_UNDEFINED },
};

static void decode_case_desc(const struct decode_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(decode, decode_cases, decode_case_desc);

static void virtgpu_test_map_info_decode(struct kunit *test)
{
	const struct decode_case *t = test->param_value;

	KUNIT_EXPECT_EQ(test, virtio_gpu_map_info_decode(t->map_info), t->attr);
}

/* every value of the mask decodes to something, and only 0..3 are defined */
static void virtgpu_test_map_info_decode_all(struct kunit *test)
{
	u32 v;

	for (v = 0; v <= VIRTIO_GPU_MAP_CACHE_MASK; v++) {
		enum virtio_gpu_map_attr attr = virtio_gpu_map_info_decode(v);

		if (v <= VIRTIO_GPU_MAP_CACHE_WC)
			KUNIT_EXPECT_NE_MSG(test, attr, VIRTIO_GPU_MAP_ATTR_UNDEFINED,
					    "value 0x%x", v);
		else
			KUNIT_EXPECT_EQ_MSG(test, attr, VIRTIO_GPU_MAP_ATTR_UNDEFINED,
					    "value 0x%x", v);
	}
}

struct check_case {
	const char *desc;
	enum virtio_gpu_map_attr attr;
	bool strict;
	int err;
};

static const struct check_case check_cases[] = {
	{ "none, compatible", VIRTIO_GPU_MAP_ATTR_NONE, false, 0 },
	{ "none, strict", VIRTIO_GPU_MAP_ATTR_NONE, true, -ENODATA },
	{ "cached, compatible", VIRTIO_GPU_MAP_ATTR_CACHED, false, 0 },
	{ "cached, strict", VIRTIO_GPU_MAP_ATTR_CACHED, true, 0 },
	{ "uncached, strict", VIRTIO_GPU_MAP_ATTR_UNCACHED, true, 0 },
	{ "wc, strict", VIRTIO_GPU_MAP_ATTR_WC, true, 0 },
	{ "undefined, compatible", VIRTIO_GPU_MAP_ATTR_UNDEFINED, false, -EINVAL },
	{ "undefined, strict", VIRTIO_GPU_MAP_ATTR_UNDEFINED, true, -EINVAL },
};

static void check_case_desc(const struct check_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(check, check_cases, check_case_desc);

static void virtgpu_test_map_attr_check(struct kunit *test)
{
	const struct check_case *t = test->param_value;

	KUNIT_EXPECT_EQ(test, virtio_gpu_map_attr_check(t->attr, t->strict),
			t->err);
}

static void virtgpu_test_map_attr_pgprot(struct kunit *test)
{
	pgprot_t base = PAGE_SHARED;
	pgprot_t prot __maybe_unused;

	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_NONE, base)),
			pgprot_val(base));
	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_CACHED, base)),
			pgprot_val(base));
	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_WC, base)),
			pgprot_val(pgprot_writecombine(base)));
#ifdef CONFIG_ARM64
	/*
	 * The MAIR index: Normal (write-back) or Normal non-cacheable; host
	 * memory mapped uncached is memory, not a Device type. mprotect()
	 * derives a VMA's new protection with pgprot_modify(), which must
	 * keep the type.
	 */
	prot = virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_UNCACHED, base);
	KUNIT_EXPECT_EQ(test,
			pgprot_val(pgprot_modify(prot, PAGE_READONLY)) & PTE_ATTRINDX_MASK,
			(u64)PTE_ATTRINDX(MT_NORMAL_NC));
	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_CACHED, base)) &
			PTE_ATTRINDX_MASK, (u64)PTE_ATTRINDX(MT_NORMAL));
	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_WC, base)) &
			PTE_ATTRINDX_MASK, (u64)PTE_ATTRINDX(MT_NORMAL_NC));
	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_UNCACHED, base)) &
			PTE_ATTRINDX_MASK, (u64)PTE_ATTRINDX(MT_NORMAL_NC));
#endif
#ifdef CONFIG_X86
	/* Linux's PAT layout: WB no bits, WC = PWT, UC- = PCD */
	if (!pat_enabled())
		return;
	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_CACHED, base)) &
			_PAGE_CACHE_MASK, 0UL);
	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_WC, base)) &
			_PAGE_CACHE_MASK, (unsigned long)_PAGE_PWT);
	KUNIT_EXPECT_EQ(test,
			pgprot_val(virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_UNCACHED, base)) &
			_PAGE_CACHE_MASK, (unsigned long)_PAGE_PCD);
	prot = virtio_gpu_map_attr_pgprot(VIRTIO_GPU_MAP_ATTR_WC, base);
	KUNIT_EXPECT_EQ(test,
			pgprot_val(pgprot_modify(prot, PAGE_READONLY)) & _PAGE_CACHE_MASK,
			(unsigned long)_PAGE_PWT);
#endif
}

/*
 * A mapping keeps the memory type it was made with: faults refuse it once
 * the host's answer has another type, but not for what mm changes in its
 * vm_page_prot (soft-dirty tracking rebuilds it without VM_SHARED).
 */
static void virtgpu_test_vma_current(struct kunit *test)
{
	const vm_flags_t flags = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD |
				 VM_MAYWRITE | VM_MAYSHARE | VM_PFNMAP | VM_IO;
	struct virtio_gpu_hostmap hm = { .eff = VIRTIO_GPU_MAP_ATTR_WC };
	struct vm_area_struct vma = {};

	vm_flags_init(&vma, flags);
	vma.vm_page_prot = pgprot_decrypted(virtio_gpu_map_attr_pgprot(hm.eff,
								       vm_get_page_prot(flags)));
	KUNIT_EXPECT_TRUE(test, virtio_gpu_hostmap_vma_current(&hm, &vma));
	/* mm's write-notify protection (soft-dirty): read-only, same type */
	vma.vm_page_prot = pgprot_modify(vma.vm_page_prot,
					 vm_get_page_prot(flags & ~VM_SHARED));
	KUNIT_EXPECT_TRUE(test, virtio_gpu_hostmap_vma_current(&hm, &vma));
	/* the host's answer changed to a type of its own */
	hm.eff = VIRTIO_GPU_MAP_ATTR_CACHED;
	KUNIT_EXPECT_FALSE(test, virtio_gpu_hostmap_vma_current(&hm, &vma));
}

struct caching_case {
	const char *desc;
	enum virtio_gpu_hostmap_state state;
	enum virtio_gpu_map_attr attr;
	u32 caching;
};

static const struct caching_case caching_cases[] = {
	{ "pending", VIRTIO_GPU_HOSTMAP_UNRESOLVED, VIRTIO_GPU_MAP_ATTR_NONE,
	  VIRTGPU_MAP_CACHING_PENDING },
	{ "ok, none", VIRTIO_GPU_HOSTMAP_MAPPED, VIRTIO_GPU_MAP_ATTR_NONE,
	  VIRTGPU_MAP_CACHING_DEFAULT },
	{ "ok, cached", VIRTIO_GPU_HOSTMAP_MAPPED, VIRTIO_GPU_MAP_ATTR_CACHED,
	  VIRTGPU_MAP_CACHING_CACHED },
	{ "ok, uncached", VIRTIO_GPU_HOSTMAP_MAPPED, VIRTIO_GPU_MAP_ATTR_UNCACHED,
	  VIRTGPU_MAP_CACHING_UNCACHED },
	{ "ok, wc", VIRTIO_GPU_HOSTMAP_MAPPED, VIRTIO_GPU_MAP_ATTR_WC,
	  VIRTGPU_MAP_CACHING_WC },
	{ "refused, undefined", VIRTIO_GPU_HOSTMAP_REFUSED,
	  VIRTIO_GPU_MAP_ATTR_UNDEFINED, VIRTGPU_MAP_CACHING_REFUSED },
	{ "refused, strict none", VIRTIO_GPU_HOSTMAP_REFUSED,
	  VIRTIO_GPU_MAP_ATTR_NONE, VIRTGPU_MAP_CACHING_REFUSED },
	{ "error", VIRTIO_GPU_HOSTMAP_ERROR, VIRTIO_GPU_MAP_ATTR_NONE,
	  VIRTGPU_MAP_CACHING_REFUSED },
	{ "revoked", VIRTIO_GPU_HOSTMAP_REVOKED, VIRTIO_GPU_MAP_ATTR_WC,
	  VIRTGPU_MAP_CACHING_REFUSED },
};

static void caching_case_desc(const struct caching_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(caching, caching_cases, caching_case_desc);

static void virtgpu_test_hostmap_caching(struct kunit *test)
{
	const struct caching_case *t = test->param_value;
	struct virtio_gpu_hostmap hm = {
		.state = t->state, .attr = t->attr, .eff = t->attr,
	};

	KUNIT_EXPECT_EQ(test, virtio_gpu_hostmap_caching(&hm), t->caching);
}

static struct kunit_case virtgpu_hostmap_tests[] = {
	KUNIT_CASE_PARAM(virtgpu_test_map_info_decode, decode_gen_params),
	KUNIT_CASE(virtgpu_test_map_info_decode_all),
	KUNIT_CASE_PARAM(virtgpu_test_map_attr_check, check_gen_params),
	KUNIT_CASE(virtgpu_test_map_attr_pgprot),
	KUNIT_CASE(virtgpu_test_vma_current),
	KUNIT_CASE_PARAM(virtgpu_test_hostmap_caching, caching_gen_params),
	{}
};

static struct kunit_suite virtgpu_hostmap_suite = {
	.name = "virtio-gpu-hostmap",
	.test_cases = virtgpu_hostmap_tests,
};

kunit_test_suite(virtgpu_hostmap_suite);

MODULE_DESCRIPTION("KUnit tests for virtio-gpu host-visible mappings");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
