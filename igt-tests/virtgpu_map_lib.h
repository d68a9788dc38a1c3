/* SPDX-License-Identifier: MIT */
/*
 * virtgpu_map_lib: helpers shared by the virtgpu_map_* tests.
 *
 * Host-visible blobs (VIRTGPU_BLOB_MEM_HOST3D with
 * VIRTGPU_BLOB_FLAG_USE_MAPPABLE) are host memory that the host maps with
 * the cache attribute it reports in virtio_gpu_resp_map_info.map_info. The
 * tests check what the guest makes of it, from the outside:
 *
 *  - the process's own page tables give the memory type of every user PTE
 *    or PMD: on x86 from debugfs ptdump (page_tables/current_kernel or
 *    current_user), elsewhere (arm64) from the test-only walker module
 *    kmod/vgm_ptewalk.ko (debugfs vgm_ptewalk);
 *  - debugfs dri/N/virtio-gpu-host-visible-blobs gives where in the window
 *    the driver placed a blob, by its resource handle; kernels without it
 *    (stock) are read from the allocator, debugfs virtio-gpu-host-visible-mm
 *    (/proc/self/pagemap cannot: the page walker skips VM_PFNMAP mappings
 *    and reports them as holes);
 *  - the device's virtio PCI shared memory capability gives the window
 *    itself, as the host made it;
 *  - debugfs x86/pat_memtype_list gives the memory type PAT reserved for a
 *    physical range (x86 only: other architectures have no such
 *    reservations, and no MTRRs);
 *  - DRM_IOCTL_VIRTGPU_RESOURCE_INFO, extended with map_caching/map_info,
 *    gives what the kernel says it did (VIRTGPU_PARAM_MAP_CACHING);
 *  - debugfs dri/N/virtio-gpu-hostmap unmaps or remaps a blob on the host.
 *
 * The tests are built against Debian's libdrm headers, whose virtgpu_drm.h
 * predates the extension: everything new is defined here under #ifndef.
 */
#ifndef VIRTGPU_MAP_LIB_H
#define VIRTGPU_MAP_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <drm.h>
#include <virtgpu_drm.h>

#ifndef VIRTGPU_PARAM_MAP_CACHING
#define VIRTGPU_PARAM_MAP_CACHING 10 /* resource_info reports map_caching */
#endif
#ifndef VIRTGPU_MAP_CACHING_UNKNOWN
#define VIRTGPU_MAP_CACHING_UNKNOWN 0
#define VIRTGPU_MAP_CACHING_CACHED 1
#define VIRTGPU_MAP_CACHING_UNCACHED 2
#define VIRTGPU_MAP_CACHING_WC 3
#define VIRTGPU_MAP_CACHING_REFUSED 4
#endif
/* the host has not answered RESOURCE_MAP_BLOB yet, or the blob is not mapped on the host yet */
#ifndef VIRTGPU_MAP_CACHING_PENDING
#define VIRTGPU_MAP_CACHING_PENDING 5
#endif
/* the host reported no attribute (map_info NONE): mapped with the kernel's default, cached */
#ifndef VIRTGPU_MAP_CACHING_DEFAULT
#define VIRTGPU_MAP_CACHING_DEFAULT 6
#endif
#ifndef DRM_VIRTGPU_BLOB_FLAG_HINT_DEFER_MAPPING
#define DRM_VIRTGPU_BLOB_FLAG_HINT_DEFER_MAPPING 0x0001
#endif

/* virtio_gpu_resp_map_info.map_info */
#define VGM_MAP_CACHE_NONE 0x00
#define VGM_MAP_CACHE_CACHED 0x01
#define VGM_MAP_CACHE_UNCACHED 0x02
#define VGM_MAP_CACHE_WC 0x03
#define VGM_MAP_CACHE_MASK 0x0f

/* struct drm_virtgpu_resource_info with the map_caching extension */
struct vgm_resource_info {
	__u32 bo_handle;
	__u32 res_handle;
	__u32 size;
	__u32 blob_mem;
	__u32 map_caching;
	__u32 map_info;
};

#define VGM_IOCTL_RESOURCE_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VIRTGPU_RESOURCE_INFO, \
		 struct vgm_resource_info)

/* struct drm_virtgpu_resource_create_blob of Linux 7.2 (with blob_hints) */
struct vgm_create_blob {
	__u32 blob_mem;
	__u32 blob_flags;
	__u32 bo_handle;
	__u32 res_handle;
	__u64 size;
	__u32 pad;
	__u32 cmd_size;
	__u64 cmd;
	__u64 blob_id;
	__u32 blob_hints;
	__u32 pad2;
};

#define VGM_IOCTL_CREATE_BLOB \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VIRTGPU_RESOURCE_CREATE_BLOB, \
		 struct vgm_create_blob)

#define VGM_KIB ((uint64_t)1024)
#define VGM_MIB ((uint64_t)1024 * 1024)
#define VGM_PAGE ((uint64_t)4096)
#define VGM_PMD (2 * VGM_MIB)

/* ---- device and blobs ---- */

struct vgm_blob {
	int fd;
	uint32_t handle;
	uint32_t res;
	uint64_t size;
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint64_t phys;		/* where the driver placed it in the window */
	bool phys_known;
};

int vgm_open_render(void);
int __vgm_getparam(int fd, uint64_t param, uint64_t *value);
bool vgm_has_map_caching(int fd);
void vgm_require_host_visible(int fd);
/* the fixture of every virtgpu_map_* binary: skip all without host-visible memory */
void vgm_require_host_visible_device(void);
int __vgm_context_init(int fd, uint32_t capset);
int vgm_open_ctx(void);
int __vgm_blob_create(int fd, uint64_t size, uint32_t blob_mem,
		      uint32_t flags, uint32_t hints, struct vgm_blob *b);
void vgm_blob_create(int fd, uint64_t size, struct vgm_blob *b);
void vgm_blob_create_retry(int fd, uint64_t size, struct vgm_blob *b);
/* the same without the assert: 0 or -errno (-ENOSPC after 10 s) */
int __vgm_blob_create_retry(int fd, uint64_t size, struct vgm_blob *b);
void vgm_blob_guest(int fd, uint64_t size, struct vgm_blob *b);
int __vgm_classic_buffer(int fd, uint32_t size, uint32_t *handle, uint32_t *res);
int __vgm_map_offset(int fd, uint32_t handle, uint64_t *offset);
void *__vgm_mmap(const struct vgm_blob *b, uint64_t offset, uint64_t len,
		 int prot, int flags, int *err);
void *__vgm_mmap_handle(int fd, uint32_t handle, uint64_t offset,
			uint64_t len, int *err);
void vgm_gem_close(int fd, uint32_t handle);
int __vgm_query(int fd, uint32_t handle, struct vgm_resource_info *ri);
int __vgm_prime_export(int fd, uint32_t handle, int *dmabuf);
/* @flags: DRM_CLOEXEC and/or DRM_RDWR */
int __vgm_prime_export_flags(int fd, uint32_t handle, uint32_t flags, int *dmabuf);
int __vgm_execbuf(int fd, const uint32_t *cmd, uint32_t ndw,
		  const uint32_t *handles, uint32_t nhandles);
int __vgm_wait(int fd, uint32_t handle);
/* one virgl NOP with an out-fence (EXECBUFFER, FENCE_FD_OUT): its sync_file, or -errno */
int __vgm_fenced_nop(int fd);
int __vgm_transfer(int fd, uint32_t handle, uint32_t size, bool to_host);
char *vgm_read_file(const char *path, size_t *lenp);
int vgm_copy_region_cmd(uint32_t *cmd, uint32_t dst_res, uint32_t src_res,
			uint32_t size);

/* ---- host map_info mode of the run (env VGM_HOST_MAPINFO) ---- */

enum vgm_host_kind {
	VGM_HOST_UNSET,
	VGM_HOST_PASSTHROUGH,
	VGM_HOST_VALUE,
	VGM_HOST_ERROR,
};

struct vgm_host {
	enum vgm_host_kind kind;
	uint32_t value;
	uint32_t late_ms;		/* slow:MS: the answer comes MS ms late */
	char name[40];
};

void vgm_host_get(struct vgm_host *h);
void vgm_require_window_cell(void);
/* the same from a string: one mode, or seq:... (then kind UNSET) */
void vgm_host_parse(const char *s, struct vgm_host *h);

/*
 * What the host really answered: host/mapinfo-shim.c appends one line per
 * RESOURCE_MAP_BLOB answer to a file of the run directory, which the guest
 * mounts at /mnt/host (env VGM_HOST_ANSWERS overrides the path):
 * "res=<id> map_info=0x<hex> source=<real|forced|error> call=<n>".
 * The tests take the expected answer from there, never from the kernel
 * under test.
 */
#define VGM_HOST_ANSWERS_FILE "/mnt/host/host-answers.txt"

enum vgm_answer_source {
	VGM_ANSWER_REAL,		/* virglrenderer's own answer */
	VGM_ANSWER_FORCED,		/* the shim's mode replaced it */
	VGM_ANSWER_ERROR,		/* MAP_BLOB failed on the host */
};

struct vgm_host_answer {
	uint32_t res;
	uint32_t map_info;		/* what the guest was told; 0 for an error */
	enum vgm_answer_source source;
	uint32_t call;			/* index of the answer among all of this QEMU's */
};

const char *vgm_host_answers_path(void);
/* every answer for resource @res, in order (@res 0: all); -ENOENT without the file */
int vgm_host_answers(uint32_t res, struct vgm_host_answer **out, int *n);
/*
 * The @nth answer (from 0) the host gave for resource @res, or its last
 * one if @nth < 0, waiting up to @timeout_ms for it to show up in the file:
 * 0, -ENOENT if there is no file, -ESRCH if there is no such answer.
 */
int vgm_host_answer(uint32_t res, int nth, int timeout_ms, struct vgm_host_answer *a);
/* the host mode that gives exactly this answer (VALUE or ERROR) */
void vgm_host_of_answer(const struct vgm_host_answer *a, struct vgm_host *h);
const char *vgm_answer_source_name(enum vgm_answer_source s);

enum vgm_attr {
	VGM_ATTR_NONE,
	VGM_ATTR_CACHED,
	VGM_ATTR_UNCACHED,
	VGM_ATTR_WC,
	VGM_ATTR_UNDEFINED,
};

enum vgm_attr vgm_attr_decode(uint32_t map_info);
const char *vgm_attr_name(enum vgm_attr a);
const char *vgm_caching_name(uint32_t caching);

/* the architecture the tests are built for: only x86 has PAT, MTRRs and a user ptdump */
#if defined(__x86_64__) || defined(__i386__)
#define VGM_X86 1
#else
#define VGM_X86 0
#endif
/* "x86_64", "aarch64", ...: for messages */
const char *vgm_arch(void);

/*
 * Memory types of user PTEs. x86: the cache modes as Linux programs the
 * PAT MSR. arm64: the MAIR_EL1 attributes Linux programs (see
 * kmod/vgm_ptewalk.c); Normal-WB is VGM_CACHE_WB (named "Normal-WB" there).
 */
enum vgm_cache {
	VGM_CACHE_WB,
	VGM_CACHE_WC,
	VGM_CACHE_UC_MINUS,
	VGM_CACHE_UC,
	VGM_CACHE_WT,
	VGM_CACHE_WP,
	VGM_CACHE_NORMAL_NC,		/* arm64 MT_NORMAL_NC (MAIR 0x44) */
	VGM_CACHE_NORMAL_WT,		/* arm64 Normal write-through (MAIR 0xbb) */
	VGM_CACHE_NORMAL_TAGGED,	/* arm64 MT_NORMAL_TAGGED (MTE, MAIR 0xf0) */
	VGM_CACHE_DEVICE_nGnRnE,	/* arm64 MT_DEVICE_nGnRnE (MAIR 0x00) */
	VGM_CACHE_DEVICE_nGnRE,		/* arm64 MT_DEVICE_nGnRE (MAIR 0x04) */
	VGM_CACHE_DEVICE_nGRE,		/* arm64 Device-nGRE (MAIR 0x08) */
	VGM_CACHE_DEVICE_GRE,		/* arm64 Device-GRE (MAIR 0x0c) */
	VGM_CACHE_UNKNOWN,
	VGM_CACHE_COUNT,
};
#define VGM_CACHE_ANY (-1)
#define VGM_CACHE_MIXED (-2)

const char *vgm_cache_name(int c);
/* an arm64 Device memory type: unaligned accesses fault (SIGBUS) */
bool vgm_cache_is_device(int c);
/*
 * The memory type of the guest's user PTEs that a host attribute requires
 * on this architecture (the table is in virtgpu_map_lib.c), VGM_CACHE_ANY
 * for none/undefined.
 */
int vgm_attr_cache(enum vgm_attr a);

/* what mapping a host-visible blob must do on this run */
struct vgm_expect {
	bool map;			/* mmap succeeds */
	int err;			/* errno otherwise */
	enum vgm_attr attr;		/* the host's attribute */
	uint32_t map_info;		/* the host's raw value, if known */
	bool map_info_known;
	int cache;			/* enum vgm_cache, or VGM_CACHE_ANY */
	uint32_t caching;		/* VIRTGPU_MAP_CACHING_* when mapped */
	bool platform_may_refuse;	/* EOPNOTSUPP + REFUSED is acceptable */
	char what[128];
};

void vgm_expect_for(const struct vgm_host *h, bool have_query,
		    const struct vgm_resource_info *ri, bool strict,
		    struct vgm_expect *e);

/* ---- the whole picture of one host-visible blob on this run ---- */

struct vgm_ctx {
	int fd;
	bool have_query;
	struct vgm_host host;
	bool strict;
};

/*
 * vgm_ctx_open() first releases what a failed subtest left behind: the
 * previous context's file and the mappings vgm_map_expected() made, which
 * would otherwise keep their blobs in the host-visible window.
 */
void vgm_ctx_open(struct vgm_ctx *c);
void vgm_ctx_close(struct vgm_ctx *c);

/*
 * What mapping @b must do on this run: from the host's own answer for it
 * (the answers file) where the host passes virglrenderer's answer through,
 * else from the run's host mode. @ri (may be NULL) is only used, as
 * before, on a passthrough run of a kernel without the query and without
 * the answers file. Call it after the answer came (an mmap returned).
 */
void vgm_expect_blob(struct vgm_ctx *c, const struct vgm_blob *b,
		     const struct vgm_resource_info *ri, bool strict,
		     struct vgm_expect *e);

void vgm_track(void *p, uint64_t len);
void vgm_untrack(void *p);
void vgm_unmap(void *p, uint64_t len);

/* how a blob is mapped: mmap of the DRM file, or of an exported dma-buf */
enum vgm_via {
	VGM_VIA_DRM,
	VGM_VIA_DMABUF,
};

/*
 * mmap [offset, offset + len) of the blob. The DRM file only maps from the
 * start of an object (DRM looks the fake offset up exactly); a dma-buf
 * maps at any page offset.
 */
void *__vgm_mmap_via(const struct vgm_blob *b, enum vgm_via via,
		     uint64_t offset, uint64_t len, int prot, int flags,
		     int *err);

/*
 * Query the blob (if the kernel can), work out the expectation and map
 * [off, off + len) of it. Returns the mapping (tracked: release it with
 * vgm_unmap()), or NULL if the guest refused it as it must (*refusal gets
 * the errno); fails the test otherwise.
 */
void *vgm_map_expected(struct vgm_ctx *c, const struct vgm_blob *b,
		       enum vgm_via via, uint64_t off, uint64_t len,
		       struct vgm_expect *e, int *refusal);
/*
 * A refusal with EOPNOTSUPP of a blob the host gave attribute e->attr:
 * only WB, and only where the MTRRs do not make the blob write-back (x86:
 * fails if they cannot be read).
 */
void vgm_check_platform_refusal(struct vgm_ctx *c, const struct vgm_blob *b,
				const struct vgm_expect *e);
/* whole mapping through the DRM file; skips if the guest refused as it must */
void *vgm_map_or_skip(struct vgm_ctx *c, const struct vgm_blob *b,
		      struct vgm_expect *e);
/*
 * Map the whole blob (skipping if the guest refuses it as it must; *e, if
 * not NULL, gets the expectation), stamp every page with @seed, unmap it
 * and map it again through @via, untouched and tracked, at a user address
 * that is VGM_SKEW off its physical address modulo 2 MiB: no fault can
 * map a PMD there, every first touch is a 4 KiB fault.
 */
void *vgm_map_fresh(struct vgm_ctx *c, const struct vgm_blob *b, enum vgm_via via,
		    uint32_t seed, struct vgm_expect *e);

/* user address minus physical address, modulo 2 MiB, of a skewed mapping */
#define VGM_SKEW (64 * VGM_KIB)
/*
 * The start of len bytes of PROT_NONE anonymous memory at an address that
 * is VGM_SKEW off @phys modulo 2 MiB: a place to mmap (MAP_FIXED) or
 * mremap (MREMAP_FIXED) a mapping of the blob page at @phys to.
 */
void *vgm_skewed_spot(uint64_t phys, uint64_t len);
/* mmap [off, off + len) of @b through @via at such a place (NULL, *err) */
void *__vgm_mmap_skewed(const struct vgm_blob *b, enum vgm_via via, uint64_t off,
			uint64_t len, int prot, int *err);

/* ---- page contents ---- */

uint32_t vgm_stamp(uint32_t seed, uint64_t page);
void vgm_write_stamps(volatile void *p, uint64_t len, uint32_t seed);
/* returns the first page whose stamp differs, or -1 */
int64_t vgm_check_stamps(const volatile void *p, uint64_t len, uint32_t seed);
/* fails the test unless every page holds its stamp */
void vgm_assert_stamps(const volatile void *p, uint64_t len, uint32_t seed,
		       const char *what);

/* ---- the process's page tables (ptdump, or the walker module) ---- */

/*
 * A range of user addresses with the same entries. From x86's ptdump
 * (debugfs page_tables/current_user), or where there is no ptdump of user
 * page tables (arm64: its ptdump shows the kernel's only) from the
 * page-table walker module, one query per page, PMD or PUD entry (see
 * vgm_ptewalk() below).
 */
struct vgm_ptrange {
	uint64_t start, end;
	bool present, user, rw;
	bool pwt, pcd, pat, pse;	/* x86 ptdump only */
	int cache;			/* enum vgm_cache, decoded: the hardware's memory type */
	char level[4];			/* "pte", "pmd", "pud", ... */
};

struct vgm_ptdump {
	struct vgm_ptrange *r;
	int n;
};

/* a range of user addresses to read the page tables of */
struct vgm_range {
	const void *p;
	uint64_t len;
};

/* where the page tables are read from */
enum vgm_pt_source {
	VGM_PT_PTDUMP,		/* x86 only: debugfs page_tables (CONFIG_PTDUMP_DEBUGFS) */
	VGM_PT_WALKER,		/* debugfs vgm_ptewalk (kmod/vgm_ptewalk.ko) */
};
/*
 * The walker where it is loaded (x86 too: ptdump dumps the whole address
 * space at every read); x86 without it, or with VGM_PT_SOURCE=ptdump in
 * the environment: ptdump. The ptewalk subtest checks on x86 that both
 * say the same.
 */
enum vgm_pt_source vgm_pt_source(void);
/* x86: the user half of this process's page tables from ptdump, whatever vgm_pt_source() says */
int vgm_ptdump_read_x86(struct vgm_ptdump *pt);
/* what to name in a skip: the debugfs file and what provides it */
const char *vgm_pt_source_name(void);
/*
 * The entries of [p, p + len) of this process's page tables (at least:
 * ptdump gives all of them). Look up only addresses inside the range.
 * Returns 0, or -errno (skip-worthy: no ptdump, no walker module).
 */
int vgm_ptdump_read(struct vgm_ptdump *pt, const void *p, uint64_t len);
/* the same for several ranges at once (one ptdump read on x86) */
int vgm_ptdump_read_ranges(struct vgm_ptdump *pt, const struct vgm_range *rg, int n);
/* the same from the walker module, whatever the architecture (x86: to compare with ptdump) */
int vgm_ptdump_read_walker(struct vgm_ptdump *pt, const struct vgm_range *rg, int n);
/* skips the subtest unless this process's page tables can be read */
void vgm_require_ptdump(void);
void vgm_ptdump_free(struct vgm_ptdump *pt);
int vgm_ptrange_cache(const struct vgm_ptrange *r);
const struct vgm_ptrange *vgm_ptdump_find(const struct vgm_ptdump *pt,
					  uint64_t addr);

struct vgm_span {
	uint64_t present, missing, first_missing;
	uint64_t pte_bytes, pmd_bytes, other_bytes;
	uint64_t by_cache[VGM_CACHE_COUNT];
	int cache;			/* uniform cache, or VGM_CACHE_MIXED */
	bool writable;			/* every present entry is RW */
};

void vgm_ptdump_span(const struct vgm_ptdump *pt, uint64_t start,
		     uint64_t len, struct vgm_span *s);
/* ptdump of [p, p + len): every page present with one cache mode; returns it */
int vgm_assert_ptes(const void *p, uint64_t len, const char *what);
/* bytes of [p, p + len) present in the page tables; in PMD entries in *pmd (may be NULL) */
uint64_t vgm_present(const void *p, uint64_t len, uint64_t *pmd);
/*
 * Nothing of [p, p + len), which was never touched, is in the page tables
 * yet: the next touch is a fault of the driver. Our kernel maps at fault
 * time (the rest of the faulting page's page table within the VMA, see
 * vgm_fault_reach(), or a PMD) and must pass;
 * kernels without VIRTGPU_PARAM_MAP_CACHING (stock) map everything at mmap
 * (io_remap_pfn_range): there it is logged, not failed, and false returned.
 */
uint64_t vgm_fault_reach(const void *p);
bool vgm_assert_unfaulted(const struct vgm_ctx *c, const void *p, uint64_t len,
			  const char *what);

/* ---- physical addresses and PAT ---- */

/*
 * Allocated ("used") ranges of the host-visible window, from the
 * allocator's debugfs dump. On kernels without the blob list (stock,
 * whose driver prints the dump unlocked) it is read after the control
 * queue is drained, best effort (drain_ctrlq()); raw: read as it is.
 */
struct vgm_mm_node {
	uint64_t start, size;
};

int vgm_window_nodes(int fd, struct vgm_mm_node **out, int *n);
int __vgm_window_nodes(int fd, bool raw, struct vgm_mm_node **out, int *n);
/* open debugfs dri/N/NAME of the device of @fd: the fd, or -errno */
int vgm_debugfs_dev_open(int fd, const char *name);

/*
 * One line of debugfs dri/N/virtio-gpu-host-visible-blobs: a host-visible
 * blob that has space in the window.
 * "res=<dec> offset=0x<hex> size=0x<hex> state=<word> map_info=0x<hex>"
 */
#define VGM_BLOBS_DEBUGFS "virtio-gpu-host-visible-blobs"
struct vgm_hv_blob {
	uint32_t res;
	uint64_t offset;		/* in the window */
	uint64_t size;
	char state[16];			/* unresolved|mapped|refused|error|revoked */
	uint32_t map_info;
};

/* does the kernel list its host-visible blobs in debugfs? */
bool vgm_has_blob_list(int fd);
/* every line; -ENOENT if the kernel has no such file */
int vgm_blob_list(int fd, struct vgm_hv_blob **out, int *n);
/*
 * The line of @b, found by the resource handle RESOURCE_INFO reports for it:
 * 0, -ENOENT if the kernel has no such file, -ESRCH if @b is not listed.
 */
int __vgm_blob_listed(const struct vgm_blob *b, struct vgm_hv_blob *out);

/*
 * Wait up to timeout_ms until no blob is left in the window (freed blobs
 * leave it when the host answers their RESOURCE_UNREF); returns the bytes
 * still allocated, or UINT64_MAX if that cannot be read.
 */
uint64_t vgm_window_drain(int fd, int timeout_ms);
/*
 * Physical address of the blob at offset off: from debugfs
 * virtio-gpu-host-visible-blobs where the kernel has it (a blob missing
 * from it fails the test), else as recorded at creation from the
 * allocator (skips if that is unknown).
 */
uint64_t vgm_blob_phys(const struct vgm_blob *b, uint64_t off);
/* the same, but false instead of a skip when the kernel cannot say */
bool vgm_blob_try_phys(const struct vgm_blob *b, uint64_t *phys);

struct vgm_memtype {
	uint64_t start, end;		/* end exclusive */
	int type;			/* enum vgm_cache */
};

int vgm_pat_list(struct vgm_memtype **out, int *n);
/* PAT reservations of [phys, phys + len): all of type cache, covering it */
void vgm_assert_pat(uint64_t phys, uint64_t len, int cache, const char *what);
/* number of PAT reservations overlapping [start, start + len) */
int vgm_pat_count(uint64_t start, uint64_t len);
/*
 * The same, after waiting up to timeout_ms for them to go: a freed blob
 * can outlive its last handle and mapping for a moment (the driver drops
 * the reference its RESOURCE_MAP_BLOB command held from a work item).
 */
int vgm_pat_count_settled(uint64_t start, uint64_t len, int timeout_ms);

/*
 * The host-visible window of the device of @fd, from the host's side where
 * it can: the virtio PCI shared memory capability (VIRTIO_GPU_SHM_ID_HOST_VISIBLE)
 * in the device's config space and the address of its BAR (sysfs resource),
 * else the range the driver claimed in /proc/iomem, else (kernels without
 * debugfs virtio-gpu-host-visible-blobs) the driver's allocator. @src, if
 * not NULL, names the source.
 */
bool vgm_window_src(int fd, uint64_t *base, uint64_t *size, char *src, size_t n);
bool vgm_window(int fd, uint64_t *base, uint64_t *size);
/* the window size the job gave QEMU (env VGM_WINDOW, e.g. "256M"), 0 if unset */
uint64_t vgm_window_env(void);
/*
 * Do the MTRRs make [start, start + len) write-back all over, as PAT needs
 * to give a WB request WB (pat_x_mtrr_type(): anything else is UC-)? From
 * the variable ranges in /proc/mtrr and the default type and enable bit of
 * MSR IA32_MTRR_DEF_TYPE (/dev/cpu/0/msr): 1 yes, 0 no (@why says which
 * part is what), -errno if they cannot be read.
 */
int vgm_mtrr_wb(uint64_t start, uint64_t len, char *why, size_t n);
/*
 * Is there a place for a BAR of @size above 4 GiB, free, in a host bridge
 * window of /proc/iomem, where the MTRRs say write-back? 1 (@at: where), 0,
 * or -errno.
 */
int vgm_wb_room_above_4g(uint64_t size, uint64_t *at, char *why, size_t n);
/*
 * Can the BAR that holds the host-visible window of @fd move: a 64-bit BAR
 * of a PCI device on a root bus (sysfs)? 1, 0 (@why says why not), -errno.
 */
int vgm_window_movable(int fd, char *why, size_t n);
/* x86 PAT is on (debugfs x86/pat_memtype_list exists); false elsewhere */
bool vgm_pat_enabled(void);
bool vgm_pat_can_give(int cache);
/* skips the subtest on other architectures than x86, naming @what needs it */
void vgm_require_x86(const char *what);

/* ---- the page-table walker module (kmod/vgm_ptewalk.c) ---- */

/*
 * What the caller's own page table says about a PFN-mapped user address,
 * read by a test-only kernel module (follow_pfnmap_start()) and decoded by
 * the hardware's rules (x86: the PAT MSR; arm64: MAIR_EL1): the source of
 * truth where ptdump cannot show user tables (arm64).
 */
#define VGM_PTEWALK "/sys/kernel/debug/vgm_ptewalk"

struct vgm_pte {
	uint64_t pfn, raw;
	bool writable;
	char level[4];		/* "pte", "pmd", "pud" */
	char type[24];		/* x86: WB WC UC- UC WT WP; arm64: Normal-WB, Normal-NC, Device-nGnRnE ... */
	char line[320];		/* the module's whole line */
};

/* the walker's file, or -errno (module not loaded) */
int vgm_ptewalk_open(void);
/* 0, -ENOENT (no PFN entry there), or -errno */
int vgm_ptewalk(int wfd, uint64_t addr, struct vgm_pte *pte);
/* VGM_CACHE_* of a type name of the walker (x86 or arm64), VGM_CACHE_UNKNOWN else */
int vgm_cache_of_type(const char *type);

/* ---- test hooks ---- */

int vgm_hook_path(int fd, char *path, size_t n);
void vgm_require_hook(int fd);
int vgm_hook(int fd, const char *cmd, uint32_t handle);

#define VGM_STRICT_PARAM "/sys/module/virtio_gpu/parameters/strict_map_info"
#define VGM_PLATFORM_PARAM "/sys/module/virtio_gpu/parameters/platform_attr"
#define VGM_RELOCATE_PARAM "/sys/module/virtio_gpu/parameters/relocate_window"
int vgm_param_get(const char *path);	/* a bool module parameter: 0/1, -errno */
int vgm_param_set(const char *path, bool on);
int vgm_strict_get(void);		/* 0/1, -ENOENT without the parameter */
int vgm_strict_set(bool on);

/* ---- a host that answers RESOURCE_MAP_BLOB late (slow:MS) ---- */

/*
 * While the host holds an answer, QEMU's main loop serves nothing else: no
 * 9p (the root file system) and no timer interrupt of the guest. A test that
 * measures what happens meanwhile keeps everything it runs in memory, stays
 * on one CPU and runs its child SCHED_FIFO (it runs without a tick or an
 * IPI), and measures time with a clock read from a CPU counter (x86: the
 * TSC; arm64: the generic timer's counter, arch_sys_counter), not jiffies.
 */
void vgm_require_tsc_clock(void);
/* mlockall, pin to this CPU, SCHED_FIFO: children forked now inherit the last two */
void vgm_hold_begin(void);
/* back to SCHED_OTHER (the parent, right after forking its FIFO child) */
void vgm_hold_parent(void);
/* SCHED_OTHER, every CPU again, munlockall */
void vgm_hold_end(void);
/*
 * Reap @pid, polling (never sleeping on a timer) for at most timeout_ns:
 * 0 and its status, or -ETIMEDOUT. *waited_ns gets the time it took.
 */
int vgm_reap(pid_t pid, uint64_t timeout_ns, int *status, uint64_t *waited_ns);

/* ---- kernel log ---- */

/* /dev/kmsg, read from its current end on (non-blocking); -1 if it cannot be opened */
int vgm_kmsg_open(void);
/* fails the test if the kernel logged a splat (WARNING, BUG, lockdep, ...) since */
void vgm_kmsg_assert_clean(int fd, const char *what);

/* ---- faults ---- */

void vgm_sigbus_install(void);
void vgm_sigbus_restore(void);
/* 0, or the signal that the access raised */
int vgm_probe_read(const volatile void *p, uint32_t *val);
int vgm_probe_write(volatile void *p, uint32_t val);

/* what a probe caught */
struct vgm_fault {
	int sig;		/* 0: none */
	int code;		/* si_code, e.g. BUS_ADRALN */
	uint64_t addr;		/* si_addr */
};
/*
 * Run fn(arg) with SIGBUS and SIGSEGV caught (vgm_sigbus_install() first):
 * 0, or the signal it raised (then *f, if not NULL, says what and where).
 */
int vgm_probe_call(void (*fn)(void *), void *arg, struct vgm_fault *f);
/* "SIGBUS (BUS_ADRALN, at 0x...)" */
const char *vgm_fault_desc(const struct vgm_fault *f, char *buf, size_t n);

#endif
