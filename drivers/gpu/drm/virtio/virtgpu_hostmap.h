/* SPDX-License-Identifier: MIT */
/*
 * Guest mappings of host-visible blobs with the host's cache attribute.
 */
#ifndef VIRTGPU_HOSTMAP_H
#define VIRTGPU_HOSTMAP_H

#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>

struct drm_gem_object;
struct drm_minor;
struct file;
struct virtio_gpu_device;
struct virtio_gpu_object_vram;

/**
 * enum virtio_gpu_map_attr - decoded &virtio_gpu_resp_map_info.map_info
 * @VIRTIO_GPU_MAP_ATTR_NONE: the host did not say (VIRTIO_GPU_MAP_CACHE_NONE)
 * @VIRTIO_GPU_MAP_ATTR_CACHED: the host maps the blob cached
 * @VIRTIO_GPU_MAP_ATTR_UNCACHED: the host maps the blob uncached
 * @VIRTIO_GPU_MAP_ATTR_WC: the host maps the blob write-combined
 * @VIRTIO_GPU_MAP_ATTR_UNDEFINED: a value the specification does not define
 */
enum virtio_gpu_map_attr {
	VIRTIO_GPU_MAP_ATTR_NONE,
	VIRTIO_GPU_MAP_ATTR_CACHED,
	VIRTIO_GPU_MAP_ATTR_UNCACHED,
	VIRTIO_GPU_MAP_ATTR_WC,
	VIRTIO_GPU_MAP_ATTR_UNDEFINED,
};

/**
 * enum virtio_gpu_hostmap_state - what guest mappings of a blob may do
 * @VIRTIO_GPU_HOSTMAP_UNRESOLVED: no usable answer yet: either MAP_BLOB is
 *	pending or its answer has not been checked against the policy
 * @VIRTIO_GPU_HOSTMAP_MAPPED: faults insert PFNs with @virtio_gpu_hostmap.eff
 * @VIRTIO_GPU_HOSTMAP_REFUSED: the host answered, the guest cannot honour it
 * @VIRTIO_GPU_HOSTMAP_ERROR: the host failed RESOURCE_MAP_BLOB
 * @VIRTIO_GPU_HOSTMAP_REVOKED: the blob was unmapped on the host
 */
enum virtio_gpu_hostmap_state {
	VIRTIO_GPU_HOSTMAP_UNRESOLVED,
	VIRTIO_GPU_HOSTMAP_MAPPED,
	VIRTIO_GPU_HOSTMAP_REFUSED,
	VIRTIO_GPU_HOSTMAP_ERROR,
	VIRTIO_GPU_HOSTMAP_REVOKED,
};

/**
 * struct virtio_gpu_hostmap - per-blob mapping state
 * @lock: faults and .access hold it for read while they use the state;
 *	whoever changes the state holds it for write and zaps user PTEs first
 * @state: see &enum virtio_gpu_hostmap_state
 * @attr: the host's attribute, valid from the host's answer on
 * @eff: the attribute user mappings get: @attr, or with the platform_attr
 *	module parameter what the platform gives instead
 * @answer: the host's answer to the last RESOURCE_MAP_BLOB: STATE_INITIALIZING
 *	(none yet), STATE_OK or STATE_ERR; written under host_visible_lock,
 *	read locklessly by waiters
 * @map_info: the map_info of that answer (CPU byte order), 0 without one
 * @err: the errno mmap returns when @state is not MAPPED
 * @revoke_lock: serialises unmapping and remapping on the host with each
 *	other and with deferred map requests
 * @vaddr: x86 with PAT, write-back (cached or NONE) and, on 64-bit, UC-:
 *	kernel mapping of the blob with that type; it holds the memory-type
 *	reservation that makes PAT give user PTEs the same type
 * @wc_start: x86 with PAT, write-combining: start of the range reserved
 *	with arch_io_reserve_memtype_wc() (no kernel mapping)
 * @wc_size: its size; 0 if the blob holds no such reservation
 * @pat_bits: x86 with PAT: the PTE cache bits of the type reserved, valid
 *	while @vaddr or @wc_size hold a reservation
 */
struct virtio_gpu_hostmap {
	struct rw_semaphore lock;
	struct mutex revoke_lock; /* see above: revoke, remap, deferred map */
	enum virtio_gpu_hostmap_state state;
	enum virtio_gpu_map_attr attr;
	enum virtio_gpu_map_attr eff;
	u32 answer;
	u32 map_info;
	int err;
	void __iomem *vaddr;
	resource_size_t wc_start;
	resource_size_t wc_size;
	unsigned long pat_bits;
};

enum virtio_gpu_map_attr virtio_gpu_map_info_decode(u32 map_info);
int virtio_gpu_map_attr_check(enum virtio_gpu_map_attr attr, bool strict);
pgprot_t virtio_gpu_map_attr_pgprot(enum virtio_gpu_map_attr attr,
				    pgprot_t base);
u32 virtio_gpu_hostmap_caching(const struct virtio_gpu_hostmap *hm);
bool virtio_gpu_hostmap_vma_current(const struct virtio_gpu_hostmap *hm,
				    struct vm_area_struct *vma);

void virtio_gpu_hostmap_init(struct virtio_gpu_object_vram *vram);
void virtio_gpu_hostmap_fini(struct virtio_gpu_object_vram *vram);
void virtio_gpu_hostmap_answer(struct virtio_gpu_object_vram *vram,
			       bool ok, __le32 map_info);
int virtio_gpu_hostmap_mmap(struct drm_gem_object *obj,
			    struct vm_area_struct *vma);
int virtio_gpu_hostmap_query(struct virtio_gpu_object_vram *vram,
			     u32 *caching, u32 *map_info);
unsigned long virtio_gpu_get_unmapped_area(struct file *filp,
					   unsigned long uaddr,
					   unsigned long len,
					   unsigned long pgoff,
					   unsigned long flags);
void virtio_gpu_hostmap_unplug(struct virtio_gpu_device *vgdev);
void virtio_gpu_hostmap_debugfs_init(struct drm_minor *minor);
#ifdef CONFIG_X86
unsigned long virtio_gpu_hostmap_pat_bits(void __iomem *vaddr);
#endif

#endif
