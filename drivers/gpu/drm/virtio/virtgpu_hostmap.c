// SPDX-License-Identifier: MIT
/*
 * Guest mappings of host-visible blobs with the host's cache attribute.
 *
 * A host-visible blob (VIRTGPU_BLOB_MEM_HOST3D*) is host memory that the
 * host mapped with some cache attribute and reports in the map_info of its
 * RESOURCE_MAP_BLOB answer. Guest userspace must map it with the same
 * attribute: aliases with different attributes are forbidden on arm64 and
 * break coherency on x86. So:
 *
 *  - the answer is decoded (little-endian, masked) and checked: undefined
 *    values are refused, NONE keeps the old default unless strict_map_info;
 *  - on x86 the memory type that PAT will give every user PTE is reserved
 *    for the blob (UC- on 32-bit kernels excepted: see hostmap_reserve());
 *    if PAT or the MTRRs would turn it into another type, the mapping is
 *    refused;
 *  - mmap installs no PTE; faults insert PFNs (PMDs where aligned) with the
 *    attribute's pgprot, under a read lock of the blob's state;
 *  - unmapping the blob on the host first zaps every user PTE under the
 *    write lock, so the next fault sees the new state.
 */

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/huge_mm.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/seq_file.h>

#include <kunit/visibility.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>
#include <drm/drm_vma_manager.h>

#include "virtgpu_drv.h"

/*
 * What a host answers is logged once at notice level, and at debug level
 * after that: an unprivileged user can make the host answer as often as it
 * likes by creating blobs.
 */
static __printf(3, 4) void __hostmap_notice(struct drm_device *drm,
					     bool *once, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (!READ_ONCE(*once)) {
		WRITE_ONCE(*once, true);
		drm_notice(drm, "%pV", &vaf);
	} else {
		drm_dbg_driver(drm, "%pV", &vaf);
	}
	va_end(args);
}

#define hostmap_notice(drm, fmt, ...)					\
	do {								\
		static bool __once;					\
									\
		__hostmap_notice(drm, &__once, fmt, ##__VA_ARGS__);	\
	} while (0)

static bool platform_attr;
module_param(platform_attr, bool, 0644);
MODULE_PARM_DESC(platform_attr,
		 "Where the guest platform (x86 PAT/MTRRs) would map a host-visible blob with another cache attribute than the host's, map it with the platform's, as kernels without this check did, instead of refusing it; RESOURCE_INFO reports the attribute the guest got (default: refuse)");

static bool strict_map_info;
module_param(strict_map_info, bool, 0644);
MODULE_PARM_DESC(strict_map_info,
		 "Refuse to map host-visible blobs whose host did not report a cache attribute (default: map them with the default attribute)");

static const char *const attr_names[] = {
	[VIRTIO_GPU_MAP_ATTR_NONE] = "none",
	[VIRTIO_GPU_MAP_ATTR_CACHED] = "cached",
	[VIRTIO_GPU_MAP_ATTR_UNCACHED] = "uncached",
	[VIRTIO_GPU_MAP_ATTR_WC] = "wc",
	[VIRTIO_GPU_MAP_ATTR_UNDEFINED] = "undefined",
};

/**
 * virtio_gpu_map_info_decode - decode the map_info of a MAP_BLOB answer
 * @map_info: the value in CPU byte order
 *
 * Only the bits of VIRTIO_GPU_MAP_CACHE_MASK carry the cache attribute; the
 * others are ignored. Values inside the mask that the specification does not
 * define decode as %VIRTIO_GPU_MAP_ATTR_UNDEFINED: they are never guessed.
 *
 * Return: the decoded attribute.
 */
enum virtio_gpu_map_attr virtio_gpu_map_info_decode(u32 map_info)
{
	switch (map_info & VIRTIO_GPU_MAP_CACHE_MASK) {
	case VIRTIO_GPU_MAP_CACHE_NONE:
		return VIRTIO_GPU_MAP_ATTR_NONE;
	case VIRTIO_GPU_MAP_CACHE_CACHED:
		return VIRTIO_GPU_MAP_ATTR_CACHED;
	case VIRTIO_GPU_MAP_CACHE_UNCACHED:
		return VIRTIO_GPU_MAP_ATTR_UNCACHED;
	case VIRTIO_GPU_MAP_CACHE_WC:
		return VIRTIO_GPU_MAP_ATTR_WC;
	default:
		return VIRTIO_GPU_MAP_ATTR_UNDEFINED;
	}
}
EXPORT_SYMBOL_IF_KUNIT(virtio_gpu_map_info_decode);

/**
 * virtio_gpu_map_attr_check - may a blob with this attribute be mapped?
 * @attr: decoded host attribute
 * @strict: refuse %VIRTIO_GPU_MAP_ATTR_NONE (module parameter strict_map_info)
 *
 * Return: 0 if it may, -EINVAL for an undefined attribute, -ENODATA for an
 * attribute the host did not report in strict mode.
 */
int virtio_gpu_map_attr_check(enum virtio_gpu_map_attr attr, bool strict)
{
	switch (attr) {
	case VIRTIO_GPU_MAP_ATTR_NONE:
		return strict ? -ENODATA : 0;
	case VIRTIO_GPU_MAP_ATTR_CACHED:
	case VIRTIO_GPU_MAP_ATTR_UNCACHED:
	case VIRTIO_GPU_MAP_ATTR_WC:
		return 0;
	default:
		return -EINVAL;
	}
}
EXPORT_SYMBOL_IF_KUNIT(virtio_gpu_map_attr_check);

/*
 * What the host maps uncached is memory, not a device register. Where the
 * architecture has a non-cacheable memory type apart from its device types,
 * that is the one to use: arm64 and arm (Normal non-cacheable; a Device
 * type faults on unaligned accesses, so memcpy() into it kills the task)
 * and riscv (Svpbmt NC rather than IO), the type of pgprot_writecombine()
 * and of their coherent DMA buffers. Elsewhere (x86: UC-) it is the type of
 * pgprot_noncached().
 */
static bool hostmap_uncached_is_wc(void)
{
	return IS_ENABLED(CONFIG_ARM64) || IS_ENABLED(CONFIG_ARM) ||
	       IS_ENABLED(CONFIG_RISCV);
}

static pgprot_t hostmap_pgprot_uncached(pgprot_t prot)
{
	return hostmap_uncached_is_wc() ? pgprot_writecombine(prot) :
					  pgprot_noncached(prot);
}

/**
 * virtio_gpu_map_attr_pgprot - page protection for an attribute
 * @attr: a host attribute that passed virtio_gpu_map_attr_check()
 * @base: protection bits of the mapping, with the default (cached) attribute
 *
 * %VIRTIO_GPU_MAP_ATTR_NONE keeps @base, the default that guests used before
 * hosts reported anything. %VIRTIO_GPU_MAP_ATTR_UNCACHED is the
 * architecture's non-cacheable memory type, see hostmap_pgprot_uncached().
 *
 * Return: @base with the cache attribute of @attr.
 */
pgprot_t virtio_gpu_map_attr_pgprot(enum virtio_gpu_map_attr attr,
				    pgprot_t base)
{
	switch (attr) {
	case VIRTIO_GPU_MAP_ATTR_UNCACHED:
		return hostmap_pgprot_uncached(base);
	case VIRTIO_GPU_MAP_ATTR_WC:
		return pgprot_writecombine(base);
	default:
		return base;
	}
}
EXPORT_SYMBOL_IF_KUNIT(virtio_gpu_map_attr_pgprot);

/**
 * virtio_gpu_hostmap_caching - effective caching, as reported to userspace
 * @hm: the blob's mapping state; its lock held by the caller
 *
 * Return: one of the VIRTGPU_MAP_CACHING_* values of the uapi.
 */
u32 virtio_gpu_hostmap_caching(const struct virtio_gpu_hostmap *hm)
{
	switch (hm->state) {
	case VIRTIO_GPU_HOSTMAP_MAPPED:
		switch (hm->eff) {
		case VIRTIO_GPU_MAP_ATTR_CACHED:
			return VIRTGPU_MAP_CACHING_CACHED;
		case VIRTIO_GPU_MAP_ATTR_UNCACHED:
			return VIRTGPU_MAP_CACHING_UNCACHED;
		case VIRTIO_GPU_MAP_ATTR_WC:
			return VIRTGPU_MAP_CACHING_WC;
		default:
			return VIRTGPU_MAP_CACHING_DEFAULT;
		}
	case VIRTIO_GPU_HOSTMAP_REFUSED:
	case VIRTIO_GPU_HOSTMAP_ERROR:
	case VIRTIO_GPU_HOSTMAP_REVOKED:
		return VIRTGPU_MAP_CACHING_REFUSED;
	default:
		return VIRTGPU_MAP_CACHING_PENDING;
	}
}
EXPORT_SYMBOL_IF_KUNIT(virtio_gpu_hostmap_caching);

static struct virtio_gpu_device *vram_vgdev(struct virtio_gpu_object_vram *vram)
{
	return vram->base.base.base.dev->dev_private;
}

static u32 vram_res(struct virtio_gpu_object_vram *vram)
{
	return vram->base.hw_res_handle;
}

/**
 * virtio_gpu_hostmap_init - initialise the mapping state of a new blob
 * @vram: the blob
 */
void virtio_gpu_hostmap_init(struct virtio_gpu_object_vram *vram)
{
	init_rwsem(&vram->hostmap.lock);
	mutex_init(&vram->hostmap.revoke_lock);
	vram->hostmap.state = VIRTIO_GPU_HOSTMAP_UNRESOLVED;
}

/**
 * virtio_gpu_hostmap_answer - record the host's answer to RESOURCE_MAP_BLOB
 * @vram: the blob
 * @ok: the answer is VIRTIO_GPU_RESP_OK_MAP_INFO
 * @map_info: &virtio_gpu_resp_map_info.map_info as received (little-endian)
 *
 * Called from the response callback with host_visible_lock held; the answer
 * is checked later, in process context, by the first user of the mapping.
 */
void virtio_gpu_hostmap_answer(struct virtio_gpu_object_vram *vram,
			       bool ok, __le32 map_info)
{
	if (ok) {
		WRITE_ONCE(vram->hostmap.map_info, le32_to_cpu(map_info));
		WRITE_ONCE(vram->hostmap.answer, STATE_OK);
	} else {
		WRITE_ONCE(vram->hostmap.map_info, 0);
		WRITE_ONCE(vram->hostmap.answer, STATE_ERR);
	}
}

#ifdef CONFIG_X86
#include <asm/memtype.h>

static const char *x86_cache_name(unsigned long bits)
{
	switch (bits & (_PAGE_PWT | _PAGE_PCD)) {
	case 0:
		return "WB";
	case _PAGE_PWT:
		return "WC";
	case _PAGE_PCD:
		return "UC-";
	default:
		return "UC";
	}
}

/**
 * virtio_gpu_hostmap_pat_bits - the memory type a kernel mapping got (x86)
 * @vaddr: a kernel mapping (ioremap_*()) of host-visible memory
 *
 * PAT decides the cache mode of every PFN mapping from the memory type
 * reserved for the range, and the MTRRs can override what is asked for
 * (ioremap_cache() accepts a downgrade to UC- silently). The type a
 * reservation got is read from a kernel mapping under it: one that holds
 * it, or one mapped for the purpose (which gets the reservation's type).
 *
 * Return: its PTE cache bits (_PAGE_CACHE_MASK), or -1UL if it has no PTE.
 */
unsigned long virtio_gpu_hostmap_pat_bits(void __iomem *vaddr)
{
	unsigned int level;
	pgprot_t prot;
	pte_t *pte;

	pte = lookup_address((unsigned long)vaddr, &level);
	if (!pte)
		return -1UL;
	prot = __pgprot(pte_flags(*pte));
	if (level != PG_LEVEL_4K)
		prot = pgprot_large_2_4k(prot);
	return pgprot_val(prot) & _PAGE_CACHE_MASK;
}

/* Does the blob hold a memory-type reservation (hostmap_reserve())? */
static bool hostmap_reserved(const struct virtio_gpu_hostmap *hm)
{
	return hm->vaddr || hm->wc_size;
}

/*
 * @prot with the cache bits of the blob's reservation: what
 * vmf_insert_pfn_prot() and vmf_insert_pfn_pmd() give a PFN of the blob
 * anyway, and what faults that fill PTEs themselves must give too. It is
 * the attribute's, except for NONE, where the platform decides.
 */
static pgprot_t hostmap_platform_prot(const struct virtio_gpu_hostmap *hm,
				      pgprot_t prot)
{
	if (!hostmap_reserved(hm))
		return prot;
	return __pgprot((pgprot_val(prot) & ~_PAGE_CACHE_MASK) | hm->pat_bits);
}

/* The type reserved (PTE cache bits): refuse it unless it is the host's. */
static int hostmap_check_pat(struct virtio_gpu_object_vram *vram,
			     enum virtio_gpu_map_attr attr, unsigned long got)
{
	unsigned long want;

	if (attr == VIRTIO_GPU_MAP_ATTR_NONE)
		return 0;

	want = pgprot_val(virtio_gpu_map_attr_pgprot(attr, PAGE_KERNEL)) &
	       _PAGE_CACHE_MASK;
	if (got == want)
		return 0;

	if (READ_ONCE(platform_attr)) {
		/* the opt-in: what PAT gives, reported as such */
		vram->hostmap.eff = got == 0 ? VIRTIO_GPU_MAP_ATTR_CACHED :
				    got == _PAGE_PWT ? VIRTIO_GPU_MAP_ATTR_WC :
				    VIRTIO_GPU_MAP_ATTR_UNCACHED;
		hostmap_notice(vram->base.base.base.dev,
			       "resource %u: host maps it %s, PAT/MTRRs give the guest %s: mapping it %s (platform_attr)\n",
			       vram_res(vram), attr_names[attr], x86_cache_name(got),
			       x86_cache_name(got));
		return 0;
	}
	hostmap_notice(vram->base.base.base.dev,
		       "resource %u: host maps it %s, but PAT/MTRRs give the guest %s instead of %s: refusing to map; firmware whose MTRRs leave the host-visible window write-back fixes that for cached blobs, or virtio_gpu.platform_attr=1 maps it %s as before\n",
		       vram_res(vram), attr_names[attr], x86_cache_name(got),
		       x86_cache_name(want), x86_cache_name(got));
	return -EOPNOTSUPP;
}

static void hostmap_release(struct virtio_gpu_hostmap *hm)
{
	if (hm->vaddr) {
		iounmap(hm->vaddr);
		hm->vaddr = NULL;
	}
	if (hm->wc_size) {
		arch_io_free_memtype_wc(hm->wc_start, hm->wc_size);
		hm->wc_size = 0;
	}
}

/*
 * Whether a fault may fill the other PTEs of its page table itself
 * (hostmap_insert_ptes()), with hostmap_platform_prot(): not on x86 with
 * PAT where nothing is reserved, since only PAT's lookup knows the type.
 */
static bool hostmap_may_fill(const struct virtio_gpu_hostmap *hm)
{
	return !pat_enabled() || hostmap_reserved(hm);
}

/*
 * With PAT, every PFN mapping of the blob gets the memory type reserved for
 * its range (lookup_memtype()), whatever its PTE asked. So the type of @attr
 * is reserved for the blob for as long as it is mapped, and the blob is
 * mapped into the kernel only where nothing else can hold the reservation:
 *  - WC: arch_io_reserve_memtype_wc(), no kernel mapping;
 *  - WB (cached, and NONE, the platform's default) and UC- (uncached): no
 *    exported interface reserves them without a mapping, so a kernel
 *    mapping of the whole blob (ioremap_cache(), ioremap()) holds it;
 *  - except UC- on 32-bit kernels, whose vmalloc space is small: nothing is
 *    reserved there, as PAT gives UC- to a range nobody reserved. Only a
 *    reservation of the BAR by someone else (root, through sysfs
 *    resourceN_wc or /dev/mem) would change that; faults then take
 *    whatever PAT gives, page by page (hostmap_may_fill()).
 *    On 32-bit a cached or NONE blob that does not fit in vmalloc space is
 *    refused (the vmalloc= boot parameter enlarges it).
 * The type a reservation got, which MTRRs and earlier reservations can
 * change, is read from a kernel mapping under it: the blob's, or one page
 * mapped for that and unmapped at once.
 *
 * Without PAT (nopat) the PTE can only say WB or UC-: write-combining is
 * refused. A WC MTRR per blob (arch_phys_wc_add()) would make it exact, but
 * variable MTRRs are few, global, and an unprivileged user would hold them.
 */
static int hostmap_reserve(struct virtio_gpu_object_vram *vram,
			   enum virtio_gpu_map_attr attr)
{
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	resource_size_t phys = vram->vram_node.start;
	resource_size_t size = vram->vram_node.size;
	void __iomem *probe = NULL;
	unsigned long got;
	int ret;

	if (!pat_enabled()) {
		if (attr != VIRTIO_GPU_MAP_ATTR_WC)
			return 0;
		hostmap_notice(vram->base.base.base.dev,
			       "resource %u: host maps it wc, but PAT is disabled (nopat): the guest would map it UC-: refusing to map; boot without nopat\n",
			       vram_res(vram));
		return -EOPNOTSUPP;
	}

	switch (attr) {
	case VIRTIO_GPU_MAP_ATTR_UNCACHED:
		if (IS_ENABLED(CONFIG_X86_32))
			return 0;
		hm->vaddr = ioremap(phys, size);
		break;
	case VIRTIO_GPU_MAP_ATTR_WC:
		if (!arch_io_reserve_memtype_wc(phys, size)) {
			hm->wc_start = phys;
			hm->wc_size = size;
			probe = ioremap_wc(phys, PAGE_SIZE);
		}
		break;
	default:
		hm->vaddr = ioremap_cache(phys, size);
		break;
	}
	if (!hm->vaddr && !probe) {
		hostmap_release(hm);
		hostmap_notice(vram->base.base.base.dev,
			       "resource %u: cannot reserve memory type %s for [%pa+%pa] (%s): refusing to map\n",
			       vram_res(vram), attr_names[attr], &phys, &size,
			       attr == VIRTIO_GPU_MAP_ATTR_WC ?
			       "a conflicting memory type" :
			       "a conflicting memory type, or no vmalloc space for a kernel mapping of it: see vmalloc=");
		return -EOPNOTSUPP;
	}
	if (probe) {
		got = virtio_gpu_hostmap_pat_bits(probe);
		iounmap(probe);
	} else {
		got = virtio_gpu_hostmap_pat_bits(hm->vaddr);
	}

	ret = got == -1UL ? -EOPNOTSUPP : hostmap_check_pat(vram, attr, got);
	if (ret) {
		hostmap_release(hm);
		return ret;
	}
	hm->pat_bits = got;
	return 0;
}
#else
/*
 * Elsewhere the PTE carries the attribute as it is: nothing to reserve,
 * and no kernel mapping of the blob (32-bit kernels have little vmalloc
 * space for it).
 */
static int hostmap_reserve(struct virtio_gpu_object_vram *vram,
			   enum virtio_gpu_map_attr attr)
{
	return 0;
}

static void hostmap_release(struct virtio_gpu_hostmap *hm)
{
}

static pgprot_t hostmap_platform_prot(const struct virtio_gpu_hostmap *hm,
				      pgprot_t prot)
{
	return prot;
}

static bool hostmap_may_fill(const struct virtio_gpu_hostmap *hm)
{
	return true;
}
#endif

/**
 * virtio_gpu_hostmap_fini - release what the mapping state holds
 * @vram: the blob, with no user mapping left
 */
void virtio_gpu_hostmap_fini(struct virtio_gpu_object_vram *vram)
{
	hostmap_release(&vram->hostmap);
	mutex_destroy(&vram->hostmap.revoke_lock);
}

/* Has the host answered the last RESOURCE_MAP_BLOB? */
static bool hostmap_answered(struct virtio_gpu_object_vram *vram)
{
	return READ_ONCE(vram->hostmap.answer) != STATE_INITIALIZING;
}

/* Is the blob mapped on the host (MAP_BLOB sent, no UNMAP_BLOB since)? */
static bool hostmap_host_mapped(struct virtio_gpu_object_vram *vram)
{
	struct virtio_gpu_device *vgdev = vram_vgdev(vram);
	bool allocated;

	spin_lock(&vgdev->host_visible_lock);
	allocated = drm_mm_node_allocated(&vram->vram_node);
	spin_unlock(&vgdev->host_visible_lock);
	return allocated;
}

/* Apply the policy to the host's answer. Called with hostmap.lock held for write. */
static void hostmap_resolve(struct virtio_gpu_object_vram *vram)
{
	struct virtio_gpu_device *vgdev = vram_vgdev(vram);
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	u32 answer, map_info;
	int ret;

	lockdep_assert_held_write(&hm->lock);

	spin_lock(&vgdev->host_visible_lock);
	answer = hm->answer;
	map_info = hm->map_info;
	spin_unlock(&vgdev->host_visible_lock);

	if (answer == STATE_INITIALIZING)
		return;

	if (answer != STATE_OK) {
		hm->err = -EIO;
		WRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_ERROR);
		hostmap_notice(vgdev->ddev,
			       "resource %u: host failed RESOURCE_MAP_BLOB (-EIO)\n",
			       vram_res(vram));
		return;
	}

	hm->attr = virtio_gpu_map_info_decode(map_info);
	ret = virtio_gpu_map_attr_check(hm->attr, READ_ONCE(strict_map_info));
	if (ret) {
		hm->err = ret;
		WRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_REFUSED);
		hostmap_notice(vgdev->ddev,
			       "resource %u: host map_info 0x%x (%s) %s: refusing to map (%d)\n",
			       vram_res(vram), map_info, attr_names[hm->attr],
			       ret == -ENODATA ? "and strict_map_info" :
			       "is not a cache attribute", ret);
		return;
	}

	hm->eff = hm->attr;
	ret = hostmap_reserve(vram, hm->attr);
	if (ret) {
		hm->err = ret;
		WRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_REFUSED);
		return;
	}
	hm->err = 0;
	WRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_MAPPED);
}

/* Apply the policy to an answer that has arrived, once. Never waits for the host. */
static int hostmap_resolve_answered(struct virtio_gpu_object_vram *vram)
{
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	struct drm_device *dev = vram->base.base.base.dev;
	int idx, ret;

	if (READ_ONCE(hm->state) != VIRTIO_GPU_HOSTMAP_UNRESOLVED ||
	    !hostmap_answered(vram))
		return 0;

	/* the policy maps the blob into the kernel: not once the device is gone */
	if (!drm_dev_enter(dev, &idx))
		return -ENODEV;
	ret = down_write_killable(&hm->lock);
	if (!ret) {
		if (hm->state == VIRTIO_GPU_HOSTMAP_UNRESOLVED)
			hostmap_resolve(vram);
		up_write(&hm->lock);
	}
	drm_dev_exit(idx);
	return ret;
}

/*
 * Wait (killable) for the host's answer and apply the policy to it once.
 * A remap may have begun since the answer came (the state is unresolved
 * again): the caller checks the state. Never called with hostmap.lock held.
 */
static int hostmap_settle(struct virtio_gpu_object_vram *vram)
{
	struct virtio_gpu_device *vgdev = vram_vgdev(vram);
	int ret;

	ret = wait_event_killable(vgdev->resp_wq,
				  hostmap_answered(vram) ||
				  drm_dev_is_unplugged(vgdev->ddev));
	if (ret)
		return ret;
	if (drm_dev_is_unplugged(vgdev->ddev))
		return -ENODEV; /* the device is gone: no answer will come */
	return hostmap_resolve_answered(vram);
}

/**
 * virtio_gpu_hostmap_unplug - the device is gone
 * @vgdev: the device, after drm_dev_unplug()
 *
 * drm_dev_unplug() zapped the user mappings of the DRM file, and faults
 * fail drm_dev_enter() from now on. Wake whoever waits for an answer that
 * will not come.
 */
void virtio_gpu_hostmap_unplug(struct virtio_gpu_device *vgdev)
{
	wake_up_all(&vgdev->resp_wq);
}

/*
 * Send MAP_BLOB if creation deferred it. Return: 0, -ENOSPC if the window
 * is full, -ENODEV if the blob was unmapped on the host, -EINTR.
 */
static int hostmap_request(struct virtio_gpu_object_vram *vram)
{
	struct virtio_gpu_device *vgdev = vram_vgdev(vram);
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	int ret = 0;

	if (mutex_lock_killable(&hm->revoke_lock))
		return -EINTR;
	if (READ_ONCE(hm->state) == VIRTIO_GPU_HOSTMAP_REVOKED) {
		ret = -ENODEV;
		goto out;
	}
	virtio_gpu_vram_map_deferred(vram);
	if (!hostmap_host_mapped(vram))
		ret = -ENOSPC;
	else if (!hostmap_answered(vram))
		virtio_gpu_notify(vgdev);
out:
	mutex_unlock(&hm->revoke_lock);
	return ret;
}

/* Protection of a user mapping of the blob: the attribute it maps with. */
static pgprot_t hostmap_vma_prot(const struct virtio_gpu_hostmap *hm,
				 struct vm_area_struct *vma)
{
	pgprot_t prot = virtio_gpu_map_attr_pgprot(hm->eff,
						   vm_get_page_prot(vma->vm_flags));

	return pgprot_decrypted(hostmap_platform_prot(hm, prot));
}

/**
 * virtio_gpu_hostmap_vma_current - is a mapping of the host's current type?
 * @hm: the blob's mapping state, with the host's answer
 * @vma: a user mapping of the blob
 *
 * Compares the memory type of @vma's vm_page_prot, which it got at mmap()
 * time, with the one of the current answer, as mm keeps a type across
 * vma_set_page_prot(): through pgprot_modify() over the VMA's base
 * protection. A vm_page_prot that mm rebuilt read-only for soft-dirty
 * tracking, or without pgprot_decrypted()'s bits (arm64 realms), still has
 * the type it was made with.
 *
 * Return: true if faults may map @vma with the current answer's protection.
 */
bool virtio_gpu_hostmap_vma_current(const struct virtio_gpu_hostmap *hm,
				    struct vm_area_struct *vma)
{
	pgprot_t base = vm_get_page_prot(vma->vm_flags);

	return pgprot_val(pgprot_modify(vma->vm_page_prot, base)) ==
	       pgprot_val(pgprot_modify(hostmap_vma_prot(hm, vma), base));
}
EXPORT_SYMBOL_IF_KUNIT(virtio_gpu_hostmap_vma_current);

static struct virtio_gpu_object_vram *vma_to_vram(struct vm_area_struct *vma)
{
	struct drm_gem_object *obj = vma->vm_private_data;

	return to_virtio_gpu_vram(gem_to_virtio_gpu_obj(obj));
}

/* Page offset in the blob of the page mapped at @addr. */
static unsigned long vma_blob_pgoff(struct vm_area_struct *vma,
				    unsigned long addr)
{
	struct drm_gem_object *obj = vma->vm_private_data;

	return vma->vm_pgoff - drm_vma_node_start(&obj->vma_node) +
	       ((addr - vma->vm_start) >> PAGE_SHIFT);
}

struct hostmap_fill {
	struct mm_struct *mm;
	unsigned long start;	/* user address of @pfn */
	unsigned long pfn;
	pgprot_t prot;
};

static int hostmap_fill_pte(pte_t *pte, unsigned long addr, void *data)
{
	const struct hostmap_fill *f = data;

	if (pte_none(ptep_get(pte)))
		set_pte_at(f->mm, addr, pte,
			   pte_mkspecial(pfn_pte(f->pfn + ((addr - f->start) >> PAGE_SHIFT),
						 f->prot)));
	return 0;
}

/*
 * A 4 KiB fault maps the faulting page, then every page of the VMA (and
 * of the blob) that shares its page table, the 2 MiB-aligned range around
 * it: touching all of a small mapping costs one fault (stock's remap at
 * mmap() costs none), a large one gets page tables only where it is used,
 * and pages behind other tables stay unmapped until touched.
 *
 * The faulting page goes through vmf_insert_pfn_prot() and its checks;
 * once it is in, its page table exists and stays (no PMD can replace it),
 * and the others are set in one walk under one lock, as i915 does from
 * its fault handler, without the memtype lookup per page: @prot has the
 * memory type of the blob's reservation (x86 with PAT), see
 * hostmap_platform_prot(). Existing entries are left alone. Unless @fill
 * (hostmap_may_fill()), only the faulting page is mapped.
 */
static vm_fault_t hostmap_insert_ptes(struct vm_fault *vmf, unsigned long pfn,
				      unsigned long pgoff, unsigned long max_pages,
				      pgprot_t prot, bool fill)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned long start = max(ALIGN_DOWN(addr, PMD_SIZE), vma->vm_start);
	unsigned long end = min(ALIGN_DOWN(addr, PMD_SIZE) + PMD_SIZE,
				vma->vm_end);
	struct hostmap_fill f = { .mm = vma->vm_mm, .prot = prot };
	vm_fault_t ret;

	/* within the blob (in pages: no wrap-around on 32-bit) */
	if ((addr - start) >> PAGE_SHIFT > pgoff)
		start = addr - (pgoff << PAGE_SHIFT);
	if ((end - addr) >> PAGE_SHIFT > max_pages)
		end = addr + (max_pages << PAGE_SHIFT);
	f.start = start;
	f.pfn = pfn - ((addr - start) >> PAGE_SHIFT);
	ret = vmf_insert_pfn_prot(vma, addr, pfn, prot);
	if (ret & VM_FAULT_ERROR)
		return ret;
	/* the other pages are a bonus: they fault on their own if this fails */
	if (fill && end - start > PAGE_SIZE)
		apply_to_page_range(vma->vm_mm, start, end - start,
				    hostmap_fill_pte, &f);
	return ret;
}

static vm_fault_t hostmap_insert(struct vm_fault *vmf, unsigned int order,
				 unsigned long pfn, unsigned long pgoff,
				 unsigned long max_pages, pgprot_t prot, bool fill)
{
	if (!order)
		return hostmap_insert_ptes(vmf, pfn, pgoff, max_pages, prot,
					   fill);
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	/*
	 * PMD entries take the VMA's protection: only while it is @prot (the
	 * caller checked the memory type; a vm_page_prot made read-only for
	 * soft-dirty tracking differs in more)
	 */
	if (order == PMD_ORDER &&
	    pgprot_val(prot) == pgprot_val(vmf->vma->vm_page_prot))
		return vmf_insert_pfn_pmd(vmf, pfn, vmf->flags & FAULT_FLAG_WRITE);
#endif
	return VM_FAULT_FALLBACK;
}

/*
 * The host has not answered MAP_BLOB yet (the blob was remapped since
 * mmap). As TTM does, the first try never sleeps for the host with the
 * fault lock held: it drops it, waits killably and has the core retry the
 * fault. A retried fault that finds a new remap pending (remaps back to
 * back, a busy guest), or a fault that may not be retried, waits killably
 * with the lock held, as TTM's second try does: remaps with the same answer
 * never fail a fault. A fatal signal ends that wait with SIGBUS (the task
 * is dying; a kernel-mode access fails with -EFAULT), not with TTM's
 * VM_FAULT_NOPAGE: a killed task would loop in fixup_user_fault() callers
 * that do not check for signals.
 */
static vm_fault_t hostmap_fault_wait(struct vm_fault *vmf,
				     struct virtio_gpu_object_vram *vram)
{
	struct drm_gem_object *obj = &vram->base.base.base;

	if (hostmap_answered(vram))
		return hostmap_resolve_answered(vram) ? VM_FAULT_SIGBUS : 0;

	if (!fault_flag_allow_retry_first(vmf->flags))
		return hostmap_settle(vram) ? VM_FAULT_SIGBUS : 0;
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;

	drm_gem_object_get(obj);
	release_fault_lock(vmf);
	hostmap_settle(vram); /* killed: the retried fault sees the signal */
	drm_gem_object_put(obj);
	return VM_FAULT_RETRY;
}

static vm_fault_t virtio_gpu_hostmap_huge_fault(struct vm_fault *vmf,
						unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct drm_gem_object *obj = vma->vm_private_data;
	struct virtio_gpu_object_vram *vram = vma_to_vram(vma);
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	unsigned long nr = 1UL << order;
	unsigned long addr = ALIGN_DOWN(vmf->address, PAGE_SIZE << order);
	unsigned long pgoff, pfn;
	vm_fault_t ret;
	pgprot_t prot;
	int idx;

	if (addr < vma->vm_start || addr + (PAGE_SIZE << order) > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = vma_blob_pgoff(vma, addr);
	if (pgoff + nr > obj->size >> PAGE_SHIFT)
		return order ? VM_FAULT_FALLBACK : VM_FAULT_SIGBUS;

	if (READ_ONCE(hm->state) == VIRTIO_GPU_HOSTMAP_UNRESOLVED) {
		ret = hostmap_fault_wait(vmf, vram);
		if (ret)
			return ret;
	}

	/* no PFN of a device that is gone */
	if (!drm_dev_enter(obj->dev, &idx))
		return VM_FAULT_SIGBUS;
	down_read(&hm->lock);
	switch (hm->state) {
	case VIRTIO_GPU_HOSTMAP_MAPPED:
		/* the window node is stable while the state is MAPPED */
		pfn = (vram->vram_node.start >> PAGE_SHIFT) + pgoff;
		if (!IS_ALIGNED(pfn, nr)) {
			ret = VM_FAULT_FALLBACK;
			break;
		}
		/*
		 * A mapping made under an earlier answer of the host with
		 * another memory type keeps that type in vm_page_prot, which
		 * mprotect() would give its PTEs back (pte_modify() takes the
		 * type from it on arm64, riscv and powerpc) and which PMD
		 * entries get: it is not mapped with the new type either.
		 * The task gets SIGBUS (by default it dies: Mesa does not
		 * expect it); RESOURCE_INFO reports the new caching, and a
		 * new mapping has it.
		 */
		if (!virtio_gpu_hostmap_vma_current(hm, vma)) {
			drm_dbg_ratelimited(obj->dev,
					    "resource %u: mapped under an earlier host answer with another memory type: SIGBUS\n",
					    vram_res(vram));
			ret = VM_FAULT_SIGBUS;
			break;
		}
		prot = hostmap_vma_prot(hm, vma);
		ret = hostmap_insert(vmf, order, pfn, pgoff,
				     (obj->size >> PAGE_SHIFT) - pgoff, prot,
				     hostmap_may_fill(hm));
		break;
	case VIRTIO_GPU_HOSTMAP_UNRESOLVED:
		/* remapped meanwhile: fault again, which waits for the answer */
		ret = VM_FAULT_NOPAGE;
		break;
	default:
		ret = VM_FAULT_SIGBUS;
		break;
	}
	up_read(&hm->lock);
	drm_dev_exit(idx);
	return ret;
}

static vm_fault_t virtio_gpu_hostmap_fault(struct vm_fault *vmf)
{
	return virtio_gpu_hostmap_huge_fault(vmf, 0);
}

/*
 * Copy to or from one page of the blob with the attribute of its user
 * mappings: through the kernel mapping that holds the memory type where
 * there is one (x86 with PAT: write-back, and UC- on 64-bit), else through
 * a temporary kernel mapping of the page with the same attribute.
 */
static int hostmap_copy(struct virtio_gpu_object_vram *vram,
			unsigned long offset, void *buf, int len, bool write)
{
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	resource_size_t page = vram->vram_node.start + (offset & PAGE_MASK);
	void __iomem *p = hm->vaddr;
	void *wb = NULL;

	if (p) {
		p += offset;
	} else {
		/* the user mappings' type: see hostmap_pgprot_uncached() */
		switch (hm->eff) {
		case VIRTIO_GPU_MAP_ATTR_UNCACHED:
			if (hostmap_uncached_is_wc())
				p = ioremap_wc(page, PAGE_SIZE);
			else
				p = ioremap(page, PAGE_SIZE);
			break;
		case VIRTIO_GPU_MAP_ATTR_WC:
			p = ioremap_wc(page, PAGE_SIZE);
			break;
		default:
			wb = memremap(page, PAGE_SIZE, MEMREMAP_WB);
			p = (void __force __iomem *)wb;
			break;
		}
		if (!p)
			return -EIO;
		p += offset_in_page(offset);
	}
	if (write)
		memcpy_toio(p, buf, len);
	else
		memcpy_fromio(buf, p, len);
	if (wb)
		memunmap(wb);
	else if (!hm->vaddr)
		iounmap(p - offset_in_page(offset));
	return len;
}

/*
 * ptrace and /proc/pid/mem. Like generic_access_phys(): within the VMA and
 * one page at a time, and no write that the mapping does not allow (a
 * PROT_READ mapping, or any mapping of a read-only dma-buf). While the
 * host's answer to a remap is pending: -EIO (no wait for the host).
 */
static int virtio_gpu_hostmap_access(struct vm_area_struct *vma,
				     unsigned long addr, void *buf, int len,
				     int write)
{
	struct drm_gem_object *obj = vma->vm_private_data;
	struct virtio_gpu_object_vram *vram = vma_to_vram(vma);
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	unsigned long offset;
	int ret, idx;

	if (write && !(vma->vm_flags & VM_WRITE))
		return -EACCES;
	if (addr < vma->vm_start || addr >= vma->vm_end || len <= 0)
		return -EINVAL;
	len = min3((unsigned long)len, vma->vm_end - addr,
		   PAGE_SIZE - offset_in_page(addr));
	offset = (vma_blob_pgoff(vma, addr) << PAGE_SHIFT) + offset_in_page(addr);
	if (offset >= obj->size)
		return -EIO;

	/* an answer that came since a remap: apply it (never waits for the host) */
	ret = hostmap_resolve_answered(vram);
	if (ret)
		return ret == -EINTR ? ret : -EIO;

	if (!drm_dev_enter(obj->dev, &idx))
		return -EIO;
	ret = -EINTR;
	if (down_read_killable(&hm->lock))
		goto out;
	/* not through a mapping its faults refuse (see the fault handler) */
	if (hm->state == VIRTIO_GPU_HOSTMAP_MAPPED &&
	    virtio_gpu_hostmap_vma_current(hm, vma))
		ret = hostmap_copy(vram, offset, buf, len, write);
	else
		ret = -EIO;
	up_read(&hm->lock);
out:
	drm_dev_exit(idx);
	return ret;
}

static const struct vm_operations_struct virtio_gpu_hostmap_vm_ops = {
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
	.fault = virtio_gpu_hostmap_fault,
	.huge_fault = virtio_gpu_hostmap_huge_fault,
	.access = virtio_gpu_hostmap_access,
};

/**
 * virtio_gpu_hostmap_mmap - set up a user mapping of a host-visible blob
 * @obj: the blob
 * @vma: the new mapping; vm_pgoff holds the fake offset of @obj
 *
 * Validates and sets the mapping up; installs no page. Waits (killable) for
 * the host's answer to RESOURCE_MAP_BLOB so that a refusal is an mmap error.
 * Used by mmap of the DRM file and of an exported dma-buf alike.
 *
 * Return: 0, or -EINVAL (not mappable, copy-on-write mapping, out of bounds,
 * or an undefined host attribute), -ENODATA (no host attribute, strict
 * mode), -EOPNOTSUPP (the platform would map another attribute), -EIO (the
 * host failed RESOURCE_MAP_BLOB), -ENODEV (unmapped on the host), -ENOSPC
 * (no room in the host-visible window), -EINTR (killed while waiting).
 */
int virtio_gpu_hostmap_mmap(struct drm_gem_object *obj,
			    struct vm_area_struct *vma)
{
	struct virtio_gpu_object *bo = gem_to_virtio_gpu_obj(obj);
	struct virtio_gpu_object_vram *vram = to_virtio_gpu_vram(bo);
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	unsigned long first;
	pgprot_t prot;
	int ret;

	if (!(bo->blob_flags & VIRTGPU_BLOB_FLAG_USE_MAPPABLE)) {
		drm_dbg_driver(obj->dev, "resource %u: blob is not mappable\n",
			       bo->hw_res_handle);
		return -EINVAL;
	}
	/*
	 * A copy-on-write mapping would need COW of PFNs, which have no
	 * struct page. A read-only shared mapping of a read-only file (a
	 * dma-buf exported without DRM_RDWR) has VM_SHARED cleared by
	 * do_mmap() but is no COW mapping: it is allowed, as with TTM.
	 */
	if (is_cow_mapping(vma->vm_flags)) {
		drm_dbg_driver(obj->dev,
			       "resource %u: private mapping of a host-visible blob refused (-EINVAL)\n",
			       bo->hw_res_handle);
		return -EINVAL;
	}
	first = vma->vm_pgoff - drm_vma_node_start(&obj->vma_node);
	if (first > obj->size >> PAGE_SHIFT ||
	    vma_pages(vma) > (obj->size >> PAGE_SHIFT) - first)
		return -EINVAL;

	/*
	 * A remap between the answer and the state check leaves the blob
	 * unresolved again: wait for the new answer, as a fault would.
	 */
	do {
		ret = hostmap_request(vram);
		if (ret) {
			if (ret == -ENOSPC)
				drm_dbg_driver(obj->dev,
					       "resource %u: no room in the host-visible window (-ENOSPC)\n",
					       bo->hw_res_handle);
			return ret;
		}
		ret = hostmap_settle(vram);
		if (ret)
			return ret == -ENODEV ? ret : -EINTR;

		down_read(&hm->lock);
		ret = hm->state == VIRTIO_GPU_HOSTMAP_MAPPED ? 0 :
		      hm->state == VIRTIO_GPU_HOSTMAP_UNRESOLVED ? -EAGAIN :
		      hm->err;
		if (!ret)
			prot = hostmap_vma_prot(hm, vma);
		up_read(&hm->lock);
	} while (ret == -EAGAIN);
	if (ret)
		return ret;

	/*
	 * VM_PFNMAP | VM_IO: PFNs without struct page, never pinned or
	 * followed by GUP (KVM maps such VMAs by PFN with the attribute of
	 * the PTE); VM_DONTEXPAND: mremap cannot grow past the blob;
	 * VM_DONTDUMP: core dumps do not read host memory.
	 */
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = prot;
	vma->vm_ops = &virtio_gpu_hostmap_vm_ops;
	return 0;
}

/**
 * virtio_gpu_hostmap_query - effective caching of a blob, for userspace
 * @vram: the blob
 * @caching: returns a VIRTGPU_MAP_CACHING_* value
 * @map_info: returns the host's raw map_info (0 without an answer)
 *
 * Never waits for the host: without an answer yet, the caching is
 * %VIRTGPU_MAP_CACHING_PENDING (and a queued MAP_BLOB is sent on). A blob
 * created without %VIRTGPU_BLOB_FLAG_USE_MAPPABLE is
 * %VIRTGPU_MAP_CACHING_UNKNOWN; one the guest refuses to map, or whose host
 * failed to map it, %VIRTGPU_MAP_CACHING_REFUSED.
 *
 * Return: 0, -EINTR, or -ENODEV if the device is gone.
 */
int virtio_gpu_hostmap_query(struct virtio_gpu_object_vram *vram,
			     u32 *caching, u32 *map_info)
{
	struct virtio_gpu_device *vgdev = vram_vgdev(vram);
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	int ret = 0;

	if (!(vram->base.blob_flags & VIRTGPU_BLOB_FLAG_USE_MAPPABLE)) {
		*caching = VIRTGPU_MAP_CACHING_UNKNOWN;
		*map_info = 0;
		return 0;
	}
	if (hostmap_host_mapped(vram)) {
		if (!hostmap_answered(vram))
			virtio_gpu_notify(vgdev);
		else
			ret = hostmap_resolve_answered(vram);
		if (ret)
			return ret;
	}

	if (down_read_killable(&hm->lock))
		return -EINTR;
	*caching = virtio_gpu_hostmap_caching(hm);
	*map_info = hm->state == VIRTIO_GPU_HOSTMAP_UNRESOLVED ? 0 : hm->map_info;
	up_read(&hm->lock);
	return 0;
}

#ifdef CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK
/*
 * Zap every user PTE of the blob: mappings through a DRM file and through
 * a dma-buf alike, as both share the device's address space.
 */
static void hostmap_zap(struct drm_gem_object *obj)
{
	drm_vma_node_unmap(&obj->vma_node, obj->dev->anon_inode->i_mapping);
}

/*
 * Map a blob that was unmapped on the host again: a new window node and
 * RESOURCE_MAP_BLOB, whose answer the next user waits for.
 */
static int hostmap_map_again(struct virtio_gpu_object_vram *vram)
{
	struct virtio_gpu_device *vgdev = vram_vgdev(vram);
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	int ret = 0;

	lockdep_assert_held(&hm->revoke_lock);
	if (READ_ONCE(hm->state) != VIRTIO_GPU_HOSTMAP_REVOKED)
		return -ENXIO; /* never mapped: not the hook's business */

	spin_lock(&vgdev->host_visible_lock);
	WRITE_ONCE(vram->hostmap.answer, STATE_INITIALIZING);
	WRITE_ONCE(vram->hostmap.map_info, 0);
	spin_unlock(&vgdev->host_visible_lock);
	virtio_gpu_vram_map_deferred(vram);
	down_write(&hm->lock);
	if (hostmap_host_mapped(vram)) {
		hm->err = 0;
		WRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_UNRESOLVED);
	} else {
		ret = -ENOSPC;
	}
	up_write(&hm->lock);
	virtio_gpu_notify(vgdev);
	return ret;
}

/**
 * virtio_gpu_hostmap_revoke - unmap a blob on the host, and maybe map it again
 * @vram: the blob
 * @remap: send RESOURCE_MAP_BLOB again; the new answer decides what later
 *	faults map, and its attribute may differ from the old one
 *
 * Every user PTE is zapped and the state changed under the write lock that
 * faults take for read, before the host is told to unmap: no guest PTE
 * points to host pages the host has released, and the next fault sees the
 * new state (SIGBUS, or the new attribute after @remap). The commands are
 * queued after the write lock is dropped (queueing may wait for ring
 * space); revokes and deferred map requests of a blob are serialised.
 * Whether the blob is mapped on the host is told by its window node alone:
 * an unmapped blob gives its window space back, so freeing it sends no
 * second UNMAP_BLOB.
 *
 * A blob unmapped before is mapped again by @remap.
 *
 * Return: 0, -ENXIO if the blob was never mapped on the host, -ENOSPC if
 * an unmapped blob finds no room in the window again, -ENOMEM, -ENODEV if
 * the device is gone, or -EINTR.
 */
static int virtio_gpu_hostmap_revoke(struct virtio_gpu_object_vram *vram, bool remap)
{
	struct virtio_gpu_device *vgdev = vram_vgdev(vram);
	struct virtio_gpu_hostmap *hm = &vram->hostmap;
	struct drm_gem_object *obj = &vram->base.base.base;
	struct virtio_gpu_object_array *objs = NULL;
	int ret;

	if (mutex_lock_killable(&hm->revoke_lock))
		return -EINTR;
	if (!hostmap_host_mapped(vram)) {
		ret = remap ? hostmap_map_again(vram) : -ENXIO;
		goto out_unlock;
	}
	/* let a pending answer arrive first: it must not land after the remap */
	virtio_gpu_notify(vgdev);
	ret = hostmap_settle(vram);
	if (ret) {
		ret = ret == -ENODEV ? ret : -EINTR;
		goto out_unlock;
	}
	if (remap) {
		ret = -ENOMEM;
		objs = virtio_gpu_array_alloc(1);
		if (!objs)
			goto out_unlock;
		virtio_gpu_array_add_obj(objs, obj);
	}

	ret = down_write_killable(&hm->lock);
	if (ret)
		goto out_free;
	hostmap_zap(obj);
	hostmap_release(hm);
	if (remap) {
		spin_lock(&vgdev->host_visible_lock);
		WRITE_ONCE(vram->hostmap.answer, STATE_INITIALIZING);
		WRITE_ONCE(vram->hostmap.map_info, 0);
		spin_unlock(&vgdev->host_visible_lock);
		hm->err = 0;
		WRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_UNRESOLVED);
	} else {
		hm->err = -ENODEV;
		WRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_REVOKED);
	}
	up_write(&hm->lock);

	virtio_gpu_cmd_unmap(vgdev, &vram->base);
	if (remap) {
		ret = virtio_gpu_cmd_map(vgdev, objs,
					 vram->vram_node.start -
					 vgdev->host_visible_region.addr);
		if (ret) {
			/* no memory for the command: unmapped for good */
			spin_lock(&vgdev->host_visible_lock);
			WRITE_ONCE(hm->answer, STATE_ERR);
			spin_unlock(&vgdev->host_visible_lock);
			down_write(&hm->lock);
			hm->err = -ENODEV;
			WRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_REVOKED);
			up_write(&hm->lock);
		} else {
			objs = NULL;
		}
	}
	if (!remap || ret) {
		spin_lock(&vgdev->host_visible_lock);
		drm_mm_remove_node(&vram->vram_node);
		spin_unlock(&vgdev->host_visible_lock);
	}
	virtio_gpu_notify(vgdev);
	/* a waiter of a remap that failed re-reads the state */
	wake_up_all(&vgdev->resp_wq);
	drm_dbg_driver(obj->dev, "resource %u: unmapped on the host%s\n",
		       vram_res(vram), remap && !ret ? ", map requested again" : "");
out_free:
	if (objs)
		virtio_gpu_array_put_free(objs);
out_unlock:
	mutex_unlock(&hm->revoke_lock);
	return ret;
}
#endif /* CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK */

/**
 * virtio_gpu_get_unmapped_area - &file_operations.get_unmapped_area
 * @filp: DRM file
 * @uaddr: address hint
 * @len: length of the mapping
 * @pgoff: fake offset of the mapping, in pages
 * @flags: mmap flags
 *
 * A host-visible blob that has its place in the window gets a user address
 * congruent to its guest physical address modulo PMD_SIZE, so that PMD
 * entries can map it; everything else is left to
 * drm_gem_get_unmapped_area().
 *
 * Return: the address, or a negative errno.
 */
unsigned long virtio_gpu_get_unmapped_area(struct file *filp,
					   unsigned long uaddr,
					   unsigned long len,
					   unsigned long pgoff,
					   unsigned long flags)
{
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	struct drm_file *priv = filp->private_data;
	struct drm_device *dev = priv->minor->dev;
	struct drm_vma_offset_node *node;
	struct drm_gem_object *obj = NULL;
	unsigned long phys_pgoff = 0;

	drm_vma_offset_lock_lookup(dev->vma_offset_manager);
	node = drm_vma_offset_exact_lookup_locked(dev->vma_offset_manager,
						  pgoff, len >> PAGE_SHIFT);
	if (node) {
		obj = container_of(node, struct drm_gem_object, vma_node);
		if (!kref_get_unless_zero(&obj->refcount))
			obj = NULL;
	}
	drm_vma_offset_unlock_lookup(dev->vma_offset_manager);

	if (obj && drm_vma_node_is_allowed(node, priv) &&
	    virtio_gpu_is_vram(gem_to_virtio_gpu_obj(obj))) {
		struct virtio_gpu_object_vram *vram =
			to_virtio_gpu_vram(gem_to_virtio_gpu_obj(obj));

		/*
		 * Only a blob that has its place in the window already: this
		 * runs with mmap_lock held for write and before mmap has
		 * validated anything, so it must not send MAP_BLOB (which may
		 * wait for ring space). The place may change later (a
		 * revoke): the address is only a hint for PMD alignment.
		 */
		if (len >= PMD_SIZE && hostmap_host_mapped(vram))
			phys_pgoff = (READ_ONCE(vram->vram_node.start) >> PAGE_SHIFT) +
				     pgoff - drm_vma_node_start(node);
	}
	drm_gem_object_put(obj);
	if (phys_pgoff)
		return thp_get_unmapped_area(filp, uaddr, len, phys_pgoff, flags);
#endif
	return drm_gem_get_unmapped_area(filp, uaddr, len, pgoff, flags);
}

#ifdef CONFIG_DEBUG_FS
#ifdef CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK
/*
 * Test hook: "unmap FD HANDLE" or "remap FD HANDLE" written by a process
 * that has the blob's GEM HANDLE open on its DRM file FD (root only), as
 * a host-initiated unmap would, which the virtio spec does not have yet.
 */
static ssize_t hostmap_debugfs_write(struct file *file, const char __user *ubuf,
				     size_t len, loff_t *ppos)
{
	struct drm_device *dev = file->private_data;
	struct drm_gem_object *obj;
	struct drm_file *dfile;
	unsigned int fd, handle;
	char buf[48], cmd[8];
	struct file *f;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%7s %u %u", cmd, &fd, &handle) != 3 ||
	    (strcmp(cmd, "unmap") && strcmp(cmd, "remap")))
		return -EINVAL;

	f = fget(fd);
	if (!f)
		return -EBADF;
	ret = -EINVAL;
	if (f->f_op != dev->driver->fops)
		goto out_fput;
	dfile = f->private_data;
	if (dfile->minor->dev != dev)
		goto out_fput;
	ret = -ENOENT;
	obj = drm_gem_object_lookup(dfile, handle);
	if (!obj)
		goto out_fput;
	ret = -EINVAL;
	if (virtio_gpu_is_vram(gem_to_virtio_gpu_obj(obj)))
		ret = virtio_gpu_hostmap_revoke(to_virtio_gpu_vram(gem_to_virtio_gpu_obj(obj)),
						cmd[0] == 'r');
	drm_gem_object_put(obj);
out_fput:
	fput(f);
	return ret ? ret : len;
}

static const struct file_operations hostmap_debugfs_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = hostmap_debugfs_write,
	.llseek = noop_llseek,
};
#endif

static const char *const state_names[] = {
	[VIRTIO_GPU_HOSTMAP_UNRESOLVED] = "unresolved",
	[VIRTIO_GPU_HOSTMAP_MAPPED] = "mapped",
	[VIRTIO_GPU_HOSTMAP_REFUSED] = "refused",
	[VIRTIO_GPU_HOSTMAP_ERROR] = "error",
	[VIRTIO_GPU_HOSTMAP_REVOKED] = "revoked",
};

/*
 * One line per blob that has space in the host-visible window: where it
 * is, by resource id, so that tests need not guess from the allocator.
 */
static int hostmap_blobs_show(struct seq_file *m, void *data)
{
	struct drm_device *dev = m->private;
	struct virtio_gpu_device *vgdev = dev->dev_private;
	struct virtio_gpu_object_vram *vram;
	struct drm_mm_node *node;

	if (!vgdev->has_host_visible)
		return 0;
	spin_lock(&vgdev->host_visible_lock);
	drm_mm_for_each_node(node, &vgdev->host_visible_mm) {
		vram = container_of(node, struct virtio_gpu_object_vram,
				    vram_node);
		seq_printf(m, "res=%u offset=0x%llx size=0x%llx state=%s map_info=0x%x\n",
			   vram_res(vram),
			   node->start - vgdev->host_visible_region.addr,
			   node->size,
			   state_names[READ_ONCE(vram->hostmap.state)],
			   READ_ONCE(vram->hostmap.map_info));
	}
	spin_unlock(&vgdev->host_visible_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hostmap_blobs);

/**
 * virtio_gpu_hostmap_debugfs_init - create the debugfs files of host mappings
 * @minor: the DRM minor whose debugfs directory receives them
 *
 * virtio-gpu-host-visible-blobs: the window offset of each blob;
 * virtio-gpu-hostmap (CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK): the unmap/remap
 * test hook (root, write only).
 */
void virtio_gpu_hostmap_debugfs_init(struct drm_minor *minor)
{
#ifdef CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK
	debugfs_create_file("virtio-gpu-hostmap", 0200, minor->debugfs_root,
			    minor->dev, &hostmap_debugfs_fops);
#endif
	debugfs_create_file("virtio-gpu-host-visible-blobs", 0400,
			    minor->debugfs_root, minor->dev,
			    &hostmap_blobs_fops);
}
#else
void virtio_gpu_hostmap_debugfs_init(struct drm_minor *minor)
{
}
#endif
