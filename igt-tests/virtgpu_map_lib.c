// SPDX-License-Identifier: MIT
/*
 * virtgpu_map_lib: helpers shared by the virtgpu_map_* tests. See the
 * header for what each part is for.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "igt_harness.h"
#include "virtgpu_map_lib.h"

static int debugfs_dev_file(int fd, const char *name, char *path, size_t n);

/*
 * virgl protocol, from Mesa's src/virtio/virtio-gpu/virgl_protocol.h and
 * virgl_hw.h (the values are the wire protocol, they do not change).
 */
#define VIRGL_CMD0(cmd, obj, len) ((cmd) | ((obj) << 8) | ((len) << 16))
#define VIRGL_CCMD_RESOURCE_COPY_REGION 17
#define VIRGL_CCMD_PIPE_RESOURCE_CREATE 48
#define VIRGL_PIPE_RES_CREATE_SIZE 11
#define VIRGL_PIPE_RES_CREATE_TARGET 1
#define VIRGL_PIPE_RES_CREATE_FORMAT 2
#define VIRGL_PIPE_RES_CREATE_BIND 3
#define VIRGL_PIPE_RES_CREATE_WIDTH 4
#define VIRGL_PIPE_RES_CREATE_HEIGHT 5
#define VIRGL_PIPE_RES_CREATE_DEPTH 6
#define VIRGL_PIPE_RES_CREATE_ARRAY_SIZE 7
#define VIRGL_PIPE_RES_CREATE_LAST_LEVEL 8
#define VIRGL_PIPE_RES_CREATE_NR_SAMPLES 9
#define VIRGL_PIPE_RES_CREATE_FLAGS 10
#define VIRGL_PIPE_RES_CREATE_BLOB_ID 11
#define VIRGL_CMD_RESOURCE_COPY_REGION_SIZE 13
#define PIPE_BUFFER 0
#define VIRGL_FORMAT_R8_UNORM 64
#define VIRGL_BIND_VERTEX_BUFFER (1u << 4)
#define VIRGL_RESOURCE_FLAG_MAP_PERSISTENT (1u << 1)
#define VIRGL_RESOURCE_FLAG_MAP_COHERENT (1u << 2)

#define DRM_MAJOR 226

/* ---------------------------------------------------------------- device */

static bool is_virtio_gpu(int fd)
{
	char name[32] = "";
	struct drm_version v = { .name_len = sizeof(name) - 1, .name = name };

	if (igt_ioctl(fd, DRM_IOCTL_VERSION, &v))
		return false;
	return !strcmp(name, "virtio_gpu");
}

/**
 * vgm_open_render: open the render node of the virtio-gpu device
 *
 * Skips the subtest if there is none.
 */
int vgm_open_render(void)
{
	char path[64];
	int i, fd;

	for (i = 128; i < 192; i++) {
		snprintf(path, sizeof(path), "/dev/dri/renderD%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (is_virtio_gpu(fd))
			return fd;
		close(fd);
	}
	igt_skip("no virtio_gpu render node in /dev/dri (is virtio_gpu loaded?)\n");
}

int __vgm_getparam(int fd, uint64_t param, uint64_t *value)
{
	int v = 0;
	struct drm_virtgpu_getparam gp = {
		.param = param,
		.value = (uintptr_t)&v,
	};

	if (igt_ioctl(fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp))
		return -errno;
	*value = (uint32_t)v;
	return 0;
}

/**
 * vgm_has_map_caching: does RESOURCE_INFO report map_caching?
 *
 * VIRTGPU_PARAM_MAP_CACHING answers 1 on a kernel that fills in the
 * extension, EINVAL on one that predates it. Anything else is a failure.
 */
bool vgm_has_map_caching(int fd)
{
	uint64_t v = 0;
	int ret = __vgm_getparam(fd, VIRTGPU_PARAM_MAP_CACHING, &v);

	if (ret == -EINVAL)
		return false;
	igt_assert_f(ret == 0, "GETPARAM(VIRTGPU_PARAM_MAP_CACHING) failed with %s, expected success or EINVAL\n",
		     strerror(-ret));
	igt_assert_f(v == 1, "GETPARAM(VIRTGPU_PARAM_MAP_CACHING) returned %" PRIu64 ", expected 1\n", v);
	return true;
}

static void require_param(int fd, uint64_t param, const char *name)
{
	uint64_t v = 0;
	int ret = __vgm_getparam(fd, param, &v);

	igt_require_f(ret == 0 && v, "virtio-gpu has no %s (getparam: %s, value %" PRIu64 ")\n",
		      name, ret ? strerror(-ret) : "ok", v);
}

/**
 * vgm_require_host_visible: skip unless host-visible virgl blobs can be made
 */
void vgm_require_host_visible(int fd)
{
	uint64_t caps = 0;

	/* every size and offset of the suite counts 4 KiB pages (arm64 may run 16 or 64 KiB) */
	igt_require_f(sysconf(_SC_PAGESIZE) == (long)VGM_PAGE,
		      "the kernel's pages are %ld bytes: the tests assume 4 KiB pages and 2 MiB PMDs\n",
		      sysconf(_SC_PAGESIZE));
	require_param(fd, VIRTGPU_PARAM_3D_FEATURES, "3D (virgl) support");
	require_param(fd, VIRTGPU_PARAM_RESOURCE_BLOB, "blob resources (VIRTGPU_PARAM_RESOURCE_BLOB)");
	require_param(fd, VIRTGPU_PARAM_HOST_VISIBLE, "host-visible memory window (VIRTGPU_PARAM_HOST_VISIBLE; hostmem=0?)");
	require_param(fd, VIRTGPU_PARAM_CONTEXT_INIT, "context init (VIRTGPU_PARAM_CONTEXT_INIT)");
	igt_require_f(__vgm_getparam(fd, VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs, &caps) == 0 &&
		      (caps & (1u << VIRTGPU_DRM_CAPSET_VIRGL2)),
		      "the host does not offer the virgl2 capset (capset mask 0x%" PRIx64 ")\n", caps);
}

void vgm_require_host_visible_device(void)
{
	int fd = vgm_open_render();

	vgm_require_host_visible(fd);
	close(fd);
}

int __vgm_context_init(int fd, uint32_t capset)
{
	struct drm_virtgpu_context_set_param p = {
		.param = VIRTGPU_CONTEXT_PARAM_CAPSET_ID,
		.value = capset,
	};
	struct drm_virtgpu_context_init ci = {
		.num_params = 1,
		.ctx_set_params = (uintptr_t)&p,
	};

	if (igt_ioctl(fd, DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci))
		return -errno;
	return 0;
}

/**
 * vgm_open_ctx: a new DRM file with a virgl2 context, ready for blobs
 */
int vgm_open_ctx(void)
{
	int fd = vgm_open_render();
	int ret;

	vgm_require_host_visible(fd);
	ret = __vgm_context_init(fd, VIRTGPU_DRM_CAPSET_VIRGL2);
	igt_assert_f(ret == 0, "CONTEXT_INIT with the virgl2 capset failed: %s\n", strerror(-ret));
	return fd;
}

static uint32_t next_blob_id(void)
{
	static uint32_t counter;

	/* unique in the context of this file, also across fork() */
	return ((uint32_t)(getpid() & 0xfff) << 20) | (++counter & 0xfffff);
}

/**
 * __vgm_blob_create: create a blob
 * @blob_mem: VIRTGPU_BLOB_MEM_HOST3D or VIRTGPU_BLOB_MEM_GUEST
 * @flags: VIRTGPU_BLOB_FLAG_*
 * @hints: DRM_VIRTGPU_BLOB_FLAG_HINT_*
 *
 * A HOST3D blob is a virgl PIPE_BUFFER of @size bytes (R8_UNORM), created
 * persistent and coherent as Mesa's virgl winsys does for blobs, so that
 * vrend can map it for RESOURCE_MAP_BLOB.
 *
 * Returns: 0 or -errno.
 */
int __vgm_blob_create(int fd, uint64_t size, uint32_t blob_mem,
		      uint32_t flags, uint32_t hints, struct vgm_blob *b)
{
	uint32_t cmd[VIRGL_PIPE_RES_CREATE_SIZE + 1] = { 0 };
	struct vgm_create_blob cb = {
		.blob_mem = blob_mem,
		.blob_flags = flags,
		.size = size,
		.blob_hints = hints,
	};

	if (blob_mem == VIRTGPU_BLOB_MEM_HOST3D) {
		if (size > UINT32_MAX)
			return -E2BIG;
		cb.blob_id = next_blob_id();
		cmd[0] = VIRGL_CMD0(VIRGL_CCMD_PIPE_RESOURCE_CREATE, 0,
				    VIRGL_PIPE_RES_CREATE_SIZE);
		cmd[VIRGL_PIPE_RES_CREATE_TARGET] = PIPE_BUFFER;
		cmd[VIRGL_PIPE_RES_CREATE_FORMAT] = VIRGL_FORMAT_R8_UNORM;
		cmd[VIRGL_PIPE_RES_CREATE_BIND] = VIRGL_BIND_VERTEX_BUFFER;
		cmd[VIRGL_PIPE_RES_CREATE_WIDTH] = (uint32_t)size;
		cmd[VIRGL_PIPE_RES_CREATE_HEIGHT] = 1;
		cmd[VIRGL_PIPE_RES_CREATE_DEPTH] = 1;
		cmd[VIRGL_PIPE_RES_CREATE_ARRAY_SIZE] = 1;
		cmd[VIRGL_PIPE_RES_CREATE_LAST_LEVEL] = 0;
		cmd[VIRGL_PIPE_RES_CREATE_NR_SAMPLES] = 0;
		cmd[VIRGL_PIPE_RES_CREATE_FLAGS] = VIRGL_RESOURCE_FLAG_MAP_PERSISTENT |
						   VIRGL_RESOURCE_FLAG_MAP_COHERENT;
		cmd[VIRGL_PIPE_RES_CREATE_BLOB_ID] = (uint32_t)cb.blob_id;
		cb.cmd = (uintptr_t)cmd;
		cb.cmd_size = sizeof(cmd);
	}

	struct vgm_mm_node *before = NULL, *after = NULL;
	int nbefore = 0, nafter = 0, i, j, err = 0;
	/*
	 * Kernels that list their blobs in debugfs are asked where a blob is
	 * when a test needs it (vgm_blob_phys()). On the others (stock), the
	 * new node of the allocator is the blob.
	 */
	bool placed = blob_mem == VIRTGPU_BLOB_MEM_HOST3D &&
		      (flags & VIRTGPU_BLOB_FLAG_USE_MAPPABLE) &&
		      !(hints & DRM_VIRTGPU_BLOB_FLAG_HINT_DEFER_MAPPING) &&
		      !vgm_has_blob_list(fd);

	if (placed && vgm_window_nodes(fd, &before, &nbefore))
		placed = false;
	if (igt_ioctl(fd, VGM_IOCTL_CREATE_BLOB, &cb))
		err = -errno;

	memset(b, 0, sizeof(*b));
	/*
	 * The new node of the window's allocator is the blob. A node is known
	 * by its start and its size: the node of a blob closed before may
	 * still be listed in "before" and leave once the host answered its
	 * UNMAP_BLOB, and the new blob can then start where it started.
	 * Only one new node of the blob's size says where the blob is.
	 */
	/* (no drain: nothing was closed since "before", and a slow host holds the MAP_BLOB) */
	if (!err && placed && !__vgm_window_nodes(fd, true, &after, &nafter)) {
		uint64_t want = (size + VGM_PAGE - 1) & ~(VGM_PAGE - 1);
		int found = 0;

		for (i = 0; i < nafter; i++) {
			if (after[i].size != want)
				continue;
			for (j = 0; j < nbefore; j++)
				if (before[j].start == after[i].start &&
				    before[j].size == after[i].size)
					break;
			if (j == nbefore && !found++)
				b->phys = after[i].start;
		}
		b->phys_known = found == 1;
		if (!b->phys_known)
			b->phys = 0;
	}
	free(before);
	free(after);
	if (err)
		return err;

	b->fd = fd;
	b->handle = cb.bo_handle;
	b->res = cb.res_handle;
	b->size = size;
	b->blob_mem = blob_mem;
	b->blob_flags = flags;
	return 0;
}

/**
 * vgm_blob_create: a host-visible, mappable blob of @size bytes
 */
void vgm_blob_create(int fd, uint64_t size, struct vgm_blob *b)
{
	int ret = __vgm_blob_create(fd, size, VIRTGPU_BLOB_MEM_HOST3D,
				    VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, b);

	igt_assert_f(ret == 0, "RESOURCE_CREATE_BLOB(HOST3D, USE_MAPPABLE, %" PRIu64 " bytes) failed: %s\n",
		     size, strerror(-ret));
}

/**
 * vgm_blob_create_retry: vgm_blob_create(), waiting up to 10 s for room
 *
 * Freed blobs leave the host-visible window only once the host answered
 * their RESOURCE_UNREF, so a blob as large as what was just freed may not
 * fit yet.
 */
int __vgm_blob_create_retry(int fd, uint64_t size, struct vgm_blob *b)
{
	struct timespec start = {};
	int ret;

	igt_gettime(&start);
	for (;;) {
		ret = __vgm_blob_create(fd, size, VIRTGPU_BLOB_MEM_HOST3D,
					VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, b);
		if (ret != -ENOSPC || igt_nsec_elapsed(&start) > 10ull * 1000000000ull)
			return ret;
		usleep(20 * 1000);
	}
}

void vgm_blob_create_retry(int fd, uint64_t size, struct vgm_blob *b)
{
	int ret = __vgm_blob_create_retry(fd, size, b);

	igt_assert_f(ret == 0, "RESOURCE_CREATE_BLOB(HOST3D, USE_MAPPABLE, %" PRIu64 " bytes) failed: %s%s\n",
		     size, strerror(-ret),
		     ret == -ENOSPC ? " (for 10 s: window space of freed blobs never came back?)" : "");
}

/**
 * vgm_blob_guest: a guest-memory (VIRTGPU_BLOB_MEM_GUEST) mappable blob
 */
void vgm_blob_guest(int fd, uint64_t size, struct vgm_blob *b)
{
	int ret = __vgm_blob_create(fd, size, VIRTGPU_BLOB_MEM_GUEST,
				    VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, b);

	igt_assert_f(ret == 0, "RESOURCE_CREATE_BLOB(GUEST, USE_MAPPABLE, %" PRIu64 " bytes) failed: %s\n",
		     size, strerror(-ret));
}

/**
 * __vgm_classic_buffer: a guest-backed virgl PIPE_BUFFER (RESOURCE_CREATE)
 */
int __vgm_classic_buffer(int fd, uint32_t size, uint32_t *handle, uint32_t *res)
{
	struct drm_virtgpu_resource_create rc = {
		.target = PIPE_BUFFER,
		.format = VIRGL_FORMAT_R8_UNORM,
		.bind = VIRGL_BIND_VERTEX_BUFFER,
		.width = size,
		.height = 1,
		.depth = 1,
		.array_size = 1,
		.size = size,
	};

	if (igt_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc))
		return -errno;
	*handle = rc.bo_handle;
	*res = rc.res_handle;
	return 0;
}

int __vgm_map_offset(int fd, uint32_t handle, uint64_t *offset)
{
	struct drm_virtgpu_map m = { .handle = handle };

	if (igt_ioctl(fd, DRM_IOCTL_VIRTGPU_MAP, &m))
		return -errno;
	*offset = m.offset;
	return 0;
}

void *__vgm_mmap_handle(int fd, uint32_t handle, uint64_t offset,
			uint64_t len, int *err)
{
	uint64_t base = 0;
	void *p;
	int ret;

	ret = __vgm_map_offset(fd, handle, &base);
	if (ret) {
		*err = -ret;
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base + offset);
	if (p == MAP_FAILED) {
		*err = errno;
		return NULL;
	}
	*err = 0;
	return p;
}

/**
 * __vgm_mmap: mmap [offset, offset + len) of a blob through its DRM file
 *
 * Returns: the mapping, or NULL with the errno in *err (of VIRTGPU_MAP if
 * that failed, of mmap otherwise).
 */
void *__vgm_mmap(const struct vgm_blob *b, uint64_t offset, uint64_t len,
		 int prot, int flags, int *err)
{
	uint64_t base = 0;
	void *p;
	int ret;

	ret = __vgm_map_offset(b->fd, b->handle, &base);
	igt_assert_f(ret == 0, "VIRTGPU_MAP of handle %u failed: %s\n", b->handle, strerror(-ret));
	p = mmap(NULL, len, prot, flags, b->fd, base + offset);
	if (p == MAP_FAILED) {
		*err = errno;
		return NULL;
	}
	*err = 0;
	return p;
}

void vgm_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close gc = { .handle = handle };

	igt_assert_f(igt_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc) == 0,
		     "GEM_CLOSE of handle %u failed: %s\n", handle, strerror(errno));
}

/**
 * __vgm_query: RESOURCE_INFO with the map_caching extension
 *
 * map_caching and map_info are set to 0 first: a kernel that predates the
 * extension copies them back untouched.
 */
int __vgm_query(int fd, uint32_t handle, struct vgm_resource_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->bo_handle = handle;
	if (igt_ioctl(fd, VGM_IOCTL_RESOURCE_INFO, ri))
		return -errno;
	return 0;
}

int __vgm_prime_export_flags(int fd, uint32_t handle, uint32_t flags, int *dmabuf)
{
	struct drm_prime_handle ph = {
		.handle = handle,
		.flags = flags,
		.fd = -1,
	};

	if (igt_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph))
		return -errno;
	*dmabuf = ph.fd;
	return 0;
}

int __vgm_prime_export(int fd, uint32_t handle, int *dmabuf)
{
	return __vgm_prime_export_flags(fd, handle, DRM_RDWR | DRM_CLOEXEC, dmabuf);
}

int __vgm_execbuf(int fd, const uint32_t *cmd, uint32_t ndw,
		  const uint32_t *handles, uint32_t nhandles)
{
	struct drm_virtgpu_execbuffer eb = {
		.size = ndw * 4,
		.command = (uintptr_t)cmd,
		.bo_handles = (uintptr_t)handles,
		.num_bo_handles = nhandles,
		.fence_fd = -1,
	};

	if (igt_ioctl(fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &eb))
		return -errno;
	return 0;
}

/* one virgl NOP (a zero header dword) with an out-fence: its sync_file, or -errno */
int __vgm_fenced_nop(int fd)
{
	uint32_t nop = 0;
	struct drm_virtgpu_execbuffer eb = {
		.flags = VIRTGPU_EXECBUF_FENCE_FD_OUT,
		.size = sizeof(nop),
		.command = (uintptr_t)&nop,
		.fence_fd = -1,
	};

	return igt_ioctl(fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &eb) ? -errno : eb.fence_fd;
}

/* wait until the host is done with the object (up to ~30 s) */
int __vgm_wait(int fd, uint32_t handle)
{
	struct drm_virtgpu_3d_wait w = { .handle = handle };
	int i;

	for (i = 0; i < 30; i++) {
		if (!igt_ioctl(fd, DRM_IOCTL_VIRTGPU_WAIT, &w))
			return 0;
		if (errno != EBUSY && errno != ETIME && errno != ETIMEDOUT)
			return -errno;
	}
	return -ETIMEDOUT;
}

int __vgm_transfer(int fd, uint32_t handle, uint32_t size, bool to_host)
{
	int ret;

	if (to_host) {
		struct drm_virtgpu_3d_transfer_to_host t = {
			.bo_handle = handle,
			.box = { .w = size, .h = 1, .d = 1 },
		};

		ret = igt_ioctl(fd, DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST, &t);
	} else {
		struct drm_virtgpu_3d_transfer_from_host t = {
			.bo_handle = handle,
			.box = { .w = size, .h = 1, .d = 1 },
		};

		ret = igt_ioctl(fd, DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST, &t);
	}
	return ret ? -errno : 0;
}

/**
 * vgm_copy_region_cmd: virgl RESOURCE_COPY_REGION of @size bytes of buffers
 * @cmd: room for VIRGL_CMD_RESOURCE_COPY_REGION_SIZE + 1 dwords
 *
 * Returns: the number of dwords.
 */
int vgm_copy_region_cmd(uint32_t *cmd, uint32_t dst_res, uint32_t src_res,
			uint32_t size)
{
	memset(cmd, 0, (VIRGL_CMD_RESOURCE_COPY_REGION_SIZE + 1) * 4);
	cmd[0] = VIRGL_CMD0(VIRGL_CCMD_RESOURCE_COPY_REGION, 0,
			    VIRGL_CMD_RESOURCE_COPY_REGION_SIZE);
	cmd[1] = dst_res;	/* dst level, x, y, z: 0 */
	cmd[6] = src_res;	/* src level, x, y, z: 0 */
	cmd[11] = size;		/* w */
	cmd[12] = 1;		/* h */
	cmd[13] = 1;		/* d */
	return VIRGL_CMD_RESOURCE_COPY_REGION_SIZE + 1;
}

/* ------------------------------------------------------------ host mode */

/**
 * vgm_host_get: what the host of this run answers to RESOURCE_MAP_BLOB
 *
 * From VGM_HOST_MAPINFO (set by the job that boots the guest, the same
 * value the host's mapinfo shim got): passthrough, none, cached, uncached,
 * wc, undefined (0x07), raw:N, error, or slow:MS (the real answer, late).
 */
void vgm_host_get(struct vgm_host *h)
{
	vgm_host_parse(getenv("VGM_HOST_MAPINFO"), h);
}

/* one mode as VGM_HOST_MAPINFO (or an element of its seq:) names it */
void vgm_host_parse(const char *env, struct vgm_host *h)
{
	static const struct { const char *name; uint32_t value; } names[] = {
		{ "none", VGM_MAP_CACHE_NONE },
		{ "cached", VGM_MAP_CACHE_CACHED },
		{ "uncached", VGM_MAP_CACHE_UNCACHED },
		{ "wc", VGM_MAP_CACHE_WC },
		{ "undefined", 0x07 },
	};
	size_t i;

	memset(h, 0, sizeof(*h));
	if (!env || !*env) {
		h->kind = VGM_HOST_UNSET;
		snprintf(h->name, sizeof(h->name), "unset");
		return;
	}
	snprintf(h->name, sizeof(h->name), "%s", env);
	if (!strcmp(env, "passthrough")) {
		h->kind = VGM_HOST_PASSTHROUGH;
		return;
	}
	/* slow:MS is the real answer, given MS ms late */
	if (!strncmp(env, "slow:", 5)) {
		h->kind = VGM_HOST_PASSTHROUGH;
		h->late_ms = (uint32_t)strtoul(env + 5, NULL, 0);
		return;
	}
	if (!strcmp(env, "error")) {
		h->kind = VGM_HOST_ERROR;
		return;
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(env, names[i].name)) {
			h->kind = VGM_HOST_VALUE;
			h->value = names[i].value;
			return;
		}
	}
	if (!strncmp(env, "raw:", 4)) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(env + 4, &end, 0);
		if (!errno && end != env + 4 && !*end && v <= UINT32_MAX) {
			h->kind = VGM_HOST_VALUE;
			h->value = (uint32_t)v;
			return;
		}
	}
	h->kind = VGM_HOST_UNSET;
}

/* ------------------------------------------------------ host's answers */

const char *vgm_host_answers_path(void)
{
	const char *p = getenv("VGM_HOST_ANSWERS");

	return p && *p ? p : VGM_HOST_ANSWERS_FILE;
}

const char *vgm_answer_source_name(enum vgm_answer_source s)
{
	return s == VGM_ANSWER_REAL ? "real" : s == VGM_ANSWER_FORCED ? "forced" : "error";
}

/**
 * vgm_host_answers: the host's MAP_BLOB answers for a resource, in order
 *
 * One line per answer, written at once by the shim: a line without its
 * newline is still being written and is left out.
 */
int vgm_host_answers(uint32_t res, struct vgm_host_answer **out, int *n)
{
	char *buf, *line, *next;
	int cap = 0, idx = 0;

	*out = NULL;
	*n = 0;
	buf = vgm_read_file(vgm_host_answers_path(), NULL);
	if (!buf)
		return errno ? -errno : -ENOENT;
	for (line = buf; (next = strchr(line, '\n')); line = next + 1, idx++) {
		struct vgm_host_answer a = {};
		char src[16] = "";
		unsigned int call = 0;
		int k;

		*next = '\0';
		k = sscanf(line, "res=%" SCNu32 " map_info=0x%" SCNx32 " source=%15s call=%u",
			   &a.res, &a.map_info, src, &call);
		igt_assert_f(k >= 3, "%s, line %d: cannot parse '%s' (expected res=N map_info=0xN source=real|forced|error call=N)\n",
			     vgm_host_answers_path(), idx + 1, line);
		if (!strcmp(src, "real"))
			a.source = VGM_ANSWER_REAL;
		else if (!strcmp(src, "forced"))
			a.source = VGM_ANSWER_FORCED;
		else if (!strcmp(src, "error"))
			a.source = VGM_ANSWER_ERROR;
		else
			igt_assert_f(false, "%s, line %d: unknown source '%s'\n",
				     vgm_host_answers_path(), idx + 1, src);
		a.call = k == 4 ? call : (uint32_t)idx;
		if (res && a.res != res)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = realloc(*out, cap * sizeof(**out));
			igt_assert(*out);
		}
		(*out)[(*n)++] = a;
	}
	free(buf);
	return 0;
}

int vgm_host_answer(uint32_t res, int nth, int timeout_ms, struct vgm_host_answer *a)
{
	struct vgm_host_answer *list;
	struct timespec start = {};
	int n, ret;

	igt_gettime(&start);
	for (;;) {
		ret = vgm_host_answers(res, &list, &n);
		if (!ret) {
			ret = -ESRCH;
			if (nth < 0 ? n > 0 : n > nth) {
				*a = list[nth < 0 ? n - 1 : nth];
				ret = 0;
			}
			free(list);
		}
		if (!ret || igt_nsec_elapsed(&start) / 1000000 >= (uint64_t)timeout_ms)
			return ret;
		/* the guest's 9p mount of the run directory may lag behind the host */
		usleep(20 * 1000);
	}
}

void vgm_host_of_answer(const struct vgm_host_answer *a, struct vgm_host *h)
{
	memset(h, 0, sizeof(*h));
	if (a->source == VGM_ANSWER_ERROR) {
		h->kind = VGM_HOST_ERROR;
		snprintf(h->name, sizeof(h->name), "error (res %u)", a->res);
	} else {
		h->kind = VGM_HOST_VALUE;
		h->value = a->map_info;
		snprintf(h->name, sizeof(h->name), "%s 0x%x (res %u)",
			 vgm_answer_source_name(a->source), a->map_info, a->res);
	}
}

enum vgm_attr vgm_attr_decode(uint32_t map_info)
{
	switch (map_info & VGM_MAP_CACHE_MASK) {
	case VGM_MAP_CACHE_NONE:
		return VGM_ATTR_NONE;
	case VGM_MAP_CACHE_CACHED:
		return VGM_ATTR_CACHED;
	case VGM_MAP_CACHE_UNCACHED:
		return VGM_ATTR_UNCACHED;
	case VGM_MAP_CACHE_WC:
		return VGM_ATTR_WC;
	default:
		return VGM_ATTR_UNDEFINED;
	}
}

const char *vgm_attr_name(enum vgm_attr a)
{
	static const char *const n[] = { "none", "cached", "uncached", "wc", "undefined" };

	return a <= VGM_ATTR_UNDEFINED ? n[a] : "?";
}

const char *vgm_caching_name(uint32_t caching)
{
	static const char *const n[] = {
		[VIRTGPU_MAP_CACHING_UNKNOWN] = "UNKNOWN",
		[VIRTGPU_MAP_CACHING_CACHED] = "CACHED",
		[VIRTGPU_MAP_CACHING_UNCACHED] = "UNCACHED",
		[VIRTGPU_MAP_CACHING_WC] = "WC",
		[VIRTGPU_MAP_CACHING_REFUSED] = "REFUSED",
		[VIRTGPU_MAP_CACHING_PENDING] = "PENDING",
		[VIRTGPU_MAP_CACHING_DEFAULT] = "DEFAULT",
	};

	return caching < ARRAY_SIZE(n) && n[caching] ? n[caching] : "(invalid)";
}

const char *vgm_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__i386__)
	return "i386";
#elif defined(__aarch64__)
	return "aarch64";
#elif defined(__arm__)
	return "arm";
#elif defined(__riscv)
	return "riscv";
#else
	return "this architecture";
#endif
}

void vgm_require_x86(const char *what)
{
	igt_require_f(VGM_X86, "%s: x86 only (PAT and MTRRs), this is %s\n", what, vgm_arch());
}

const char *vgm_cache_name(int c)
{
	static const char *const n[VGM_CACHE_COUNT] = {
		[VGM_CACHE_WB] = VGM_X86 ? "WB" : "Normal-WB",
		[VGM_CACHE_WC] = "WC",
		[VGM_CACHE_UC_MINUS] = "UC-",
		[VGM_CACHE_UC] = "UC",
		[VGM_CACHE_WT] = "WT",
		[VGM_CACHE_WP] = "WP",
		[VGM_CACHE_NORMAL_NC] = "Normal-NC",
		[VGM_CACHE_NORMAL_WT] = "Normal-WT",
		[VGM_CACHE_NORMAL_TAGGED] = "Normal-Tagged",
		[VGM_CACHE_DEVICE_nGnRnE] = "Device-nGnRnE",
		[VGM_CACHE_DEVICE_nGnRE] = "Device-nGnRE",
		[VGM_CACHE_DEVICE_nGRE] = "Device-nGRE",
		[VGM_CACHE_DEVICE_GRE] = "Device-GRE",
		[VGM_CACHE_UNKNOWN] = "?",
	};

	if (c == VGM_CACHE_ANY)
		return "any";
	if (c == VGM_CACHE_MIXED)
		return "mixed";
	return c >= 0 && c < VGM_CACHE_COUNT ? n[c] : "?";
}

bool vgm_cache_is_device(int c)
{
	return c == VGM_CACHE_DEVICE_nGnRnE || c == VGM_CACHE_DEVICE_nGnRE ||
	       c == VGM_CACHE_DEVICE_nGRE || c == VGM_CACHE_DEVICE_GRE;
}

/*
 * The memory type a guest mapping of host memory with this attribute needs,
 * as the driver documents it (virtgpu_hostmap.c, virtio_gpu_map_attr_pgprot()
 * and hostmap_pgprot_uncached()):
 *
 *   host attribute   x86 (PAT)   arm64, arm, riscv
 *   CACHED           WB          Normal-WB
 *   WC               WC          Normal-NC  (pgprot_writecombine())
 *   UNCACHED         UC-         Normal-NC  (pgprot_writecombine(), not pgprot_noncached())
 *   NONE             the kernel's default (any one type), UNDEFINED: refused
 *
 * What the host maps uncached is host RAM, not a device register: the
 * architecture's non-cacheable memory type, not a Device type. On x86 that
 * is UC- (pgprot_noncached()), which is still memory to the CPU. On arm64
 * pgprot_noncached() would be Device-nGnRnE, where unaligned accesses fault
 * (memcpy() from userspace, as Mesa does into mapped buffers, dies with
 * SIGBUS) and which the host's own cacheable or NC mapping of the same RAM
 * does not match; Normal-NC is what arm64 (and arm, and riscv's Svpbmt NC)
 * use for non-cacheable RAM, e.g. coherent DMA buffers. riscv and arm are
 * listed for the driver's table; the walker decodes x86 and arm64 only.
 */
int vgm_attr_cache(enum vgm_attr a)
{
	switch (a) {
	case VGM_ATTR_CACHED:
		return VGM_CACHE_WB;
	case VGM_ATTR_UNCACHED:
		return VGM_X86 ? VGM_CACHE_UC_MINUS : VGM_CACHE_NORMAL_NC;
	case VGM_ATTR_WC:
		return VGM_X86 ? VGM_CACHE_WC : VGM_CACHE_NORMAL_NC;
	default:
		return VGM_CACHE_ANY;
	}
}

/**
 * vgm_expect_for: what mapping a host-visible blob must do
 * @have_query: the kernel reports map_caching (VIRTGPU_PARAM_MAP_CACHING)
 * @ri: its report for the blob, for passthrough runs (may be NULL); taken
 *	after an mmap of the blob waited for the host's answer, so it is never
 *	PENDING (that fails the test)
 * @strict: strict_map_info is set
 */
void vgm_expect_for(const struct vgm_host *h, bool have_query,
		    const struct vgm_resource_info *ri, bool strict,
		    struct vgm_expect *e)
{
	uint32_t value;

	memset(e, 0, sizeof(*e));
	switch (h->kind) {
	case VGM_HOST_ERROR:
		e->map = false;
		/* stock: "map_state != STATE_OK -> -EINVAL"; ours: -EIO */
		e->err = have_query ? EIO : EINVAL;
		e->caching = VIRTGPU_MAP_CACHING_REFUSED;
		snprintf(e->what, sizeof(e->what), "host fails RESOURCE_MAP_BLOB: mmap fails with %s",
			 strerror(e->err));
		return;
	case VGM_HOST_VALUE:
		value = h->value;
		break;
	case VGM_HOST_PASSTHROUGH:
		if (have_query && ri) {
			igt_assert_f(ri->map_caching != VIRTGPU_MAP_CACHING_PENDING,
				     "RESOURCE_INFO reports PENDING for a blob whose mmap already waited for the host's answer\n");
			value = ri->map_info;
			break;
		}
		/* fallthrough */
	default:
		e->map = true;
		e->attr = VGM_ATTR_NONE;
		e->cache = VGM_CACHE_ANY;
		e->caching = VIRTGPU_MAP_CACHING_UNKNOWN;
		snprintf(e->what, sizeof(e->what),
			 "host answer not known to the test (%s): any one attribute", h->name);
		return;
	}

	e->map_info = value;
	e->map_info_known = true;
	e->attr = vgm_attr_decode(value);
	switch (e->attr) {
	case VGM_ATTR_NONE:
		if (strict) {
			e->map = false;
			e->err = ENODATA;
			e->caching = VIRTGPU_MAP_CACHING_REFUSED;
			snprintf(e->what, sizeof(e->what),
				 "host map_info 0x%x (none) with strict_map_info: ENODATA", value);
		} else {
			/* reported as DEFAULT: UNKNOWN is for blobs that are not host visible */
			e->map = true;
			e->cache = VGM_CACHE_ANY;
			e->caching = VIRTGPU_MAP_CACHING_DEFAULT;
			snprintf(e->what, sizeof(e->what),
				 "host map_info 0x%x (none): compat mapping with the default attribute", value);
		}
		return;
	case VGM_ATTR_CACHED:
	case VGM_ATTR_UNCACHED:
	case VGM_ATTR_WC:
		e->map = true;
		e->cache = vgm_attr_cache(e->attr);
		e->caching = e->attr == VGM_ATTR_CACHED ? VIRTGPU_MAP_CACHING_CACHED :
			     e->attr == VGM_ATTR_UNCACHED ? VIRTGPU_MAP_CACHING_UNCACHED :
			     VIRTGPU_MAP_CACHING_WC;
		/* only x86 can lack a type for an attribute (PAT and MTRRs) */
		e->platform_may_refuse = have_query && VGM_X86;
		snprintf(e->what, sizeof(e->what), "host map_info 0x%x (%s): guest PTEs %s",
			 value, vgm_attr_name(e->attr), vgm_cache_name(e->cache));
		return;
	default:
		e->map = false;
		e->err = EINVAL;
		e->caching = VIRTGPU_MAP_CACHING_REFUSED;
		snprintf(e->what, sizeof(e->what),
			 "host map_info 0x%x is not a defined cache attribute: EINVAL", value);
		return;
	}
}

void vgm_expect_blob(struct vgm_ctx *c, const struct vgm_blob *b,
		     const struct vgm_resource_info *ri, bool strict,
		     struct vgm_expect *e)
{
	struct vgm_host_answer a;
	struct vgm_host h;
	size_t used;
	int ret;

	if (c->host.kind != VGM_HOST_PASSTHROUGH) {
		vgm_expect_for(&c->host, c->have_query, ri, strict, e);
		return;
	}
	/* the host passes virglrenderer's answer through: it says which */
	ret = vgm_host_answer(b->res, -1, 2000, &a);
	if (ret == -ENOENT && !c->have_query) {
		igt_info("no host answers file %s: this kernel's answer for resource %u is not known to the test\n",
			 vgm_host_answers_path(), b->res);
		vgm_expect_for(&c->host, c->have_query, ri, strict, e);
		return;
	}
	igt_assert_f(ret != -ENOENT,
		     "the host's answers file %s cannot be read (%s): the job always provides it (host/mapinfo-shim.c appends every RESOURCE_MAP_BLOB answer)\n",
		     vgm_host_answers_path(), strerror(-ret));
	igt_assert_f(ret == 0,
		     "the host's answers file %s has no answer for resource %u, whose RESOURCE_MAP_BLOB was answered (an mmap of it returned)\n",
		     vgm_host_answers_path(), b->res);
	vgm_host_of_answer(&a, &h);
	vgm_expect_for(&h, c->have_query, NULL, strict, e);
	used = strlen(e->what);
	snprintf(e->what + used, sizeof(e->what) - used, " [host: %s]", vgm_answer_source_name(a.source));
}

/* ------------------------------------------------------------- context */

#define MAX_TRACKED 256
static struct { void *p; uint64_t len; } tracked[MAX_TRACKED];
static int last_ctx_fd = -1;

void vgm_track(void *p, uint64_t len)
{
	int i;

	for (i = 0; i < MAX_TRACKED; i++) {
		if (!tracked[i].p) {
			tracked[i].p = p;
			tracked[i].len = len;
			return;
		}
	}
}

void vgm_untrack(void *p)
{
	int i;

	for (i = 0; i < MAX_TRACKED; i++)
		if (tracked[i].p == p)
			tracked[i].p = NULL;
}

void vgm_unmap(void *p, uint64_t len)
{
	vgm_untrack(p);
	igt_assert_f(munmap(p, len) == 0, "munmap(%p, 0x%" PRIx64 ") failed: %s\n",
		     p, len, strerror(errno));
}

static void release_leftovers(void)
{
	int i;

	for (i = 0; i < MAX_TRACKED; i++) {
		if (tracked[i].p) {
			munmap(tracked[i].p, tracked[i].len);
			tracked[i].p = NULL;
		}
	}
	if (last_ctx_fd >= 0)
		close(last_ctx_fd);
	last_ctx_fd = -1;
}

void vgm_ctx_open(struct vgm_ctx *c)
{
	release_leftovers();
	memset(c, 0, sizeof(*c));
	c->fd = vgm_open_ctx();
	last_ctx_fd = c->fd;
	c->have_query = vgm_has_map_caching(c->fd);
	vgm_host_get(&c->host);
	c->strict = vgm_strict_get() == 1;
	igt_debug("host map_info mode %s, kernel %s, map_caching query %s, strict_map_info %d\n",
		  c->host.name, getenv("VGM_KERNEL") ?: "?", c->have_query ? "yes" : "no", c->strict);
}

void vgm_ctx_close(struct vgm_ctx *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->fd == last_ctx_fd)
		last_ctx_fd = -1;
	c->fd = -1;
}

static int first_page_cache(void *p)
{
	struct vgm_ptdump pt;
	const struct vgm_ptrange *r;
	int c = VGM_CACHE_UNKNOWN;

	*(volatile uint32_t *)p;
	if (vgm_ptdump_read(&pt, p, VGM_PAGE))
		return c;
	r = vgm_ptdump_find(&pt, (uintptr_t)p);
	if (r && r->present)
		c = vgm_ptrange_cache(r);
	vgm_ptdump_free(&pt);
	return c;
}

static void check_query(struct vgm_ctx *c, const struct vgm_blob *b,
			const struct vgm_expect *e, uint32_t caching)
{
	struct vgm_resource_info ri;
	int ret;

	if (!c->have_query)
		return;
	ret = __vgm_query(b->fd, b->handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
	igt_assert_f(ri.map_caching == caching,
		     "RESOURCE_INFO reports map_caching %s, expected %s (%s)\n",
		     vgm_caching_name(ri.map_caching), vgm_caching_name(caching), e->what);
	if (e->map_info_known)
		igt_assert_f(ri.map_info == e->map_info,
			     "RESOURCE_INFO reports map_info 0x%x, the host answered 0x%x\n",
			     ri.map_info, e->map_info);
	else if (c->host.kind == VGM_HOST_ERROR)
		igt_assert_f(ri.map_info == 0,
			     "RESOURCE_INFO reports map_info 0x%x for a blob the host failed to map, expected 0\n",
			     ri.map_info);
}

static const int *x86_pat_table(bool *from_msr);

/*
 * A refusal with EOPNOTSUPP: is the platform really unable to do it? On
 * x86, PAT gives WB only where the MTRRs say WB (pat_x_mtrr_type()), and
 * can always give WC and UC-.
 */
void vgm_check_platform_refusal(struct vgm_ctx *c, const struct vgm_blob *b,
				const struct vgm_expect *e)
{
	uint64_t base, size;
	const char *where = "the blob";
	char why[256] = "";
	int wb;

#if defined(__x86_64__) || defined(__i386__)
	if (e->attr != VGM_ATTR_CACHED && !vgm_pat_can_give(e->cache)) {
		bool msr;

		x86_pat_table(&msr);
		igt_assert_f(msr, "mmap refused host-%s memory with EOPNOTSUPP, and the PAT MSR cannot be read to cross-check it (/dev/cpu/0/msr)\n",
			     vgm_attr_name(e->attr));
		igt_info("no entry of the CPU's PAT table (IA32_PAT) is %s (PAT off, nopat): no PTE can say it, refusal is right\n",
			 vgm_cache_name(e->cache));
		return;
	}
	igt_assert_f(e->attr == VGM_ATTR_CACHED,
		     "mmap refused host-%s memory with EOPNOTSUPP, but x86 PAT can always give %s (PAT entries override MTRRs for it)\n",
		     vgm_attr_name(e->attr), vgm_cache_name(e->cache));
	/* where the blob is (a refused blob keeps its place), else the window */
	size = (b->size + VGM_PAGE - 1) & ~(VGM_PAGE - 1);
	if (!vgm_blob_try_phys(b, &base)) {
		where = "the host-visible window";
		igt_assert_f(vgm_window(c->fd, &base, &size),
			     "mmap refused host-cached memory with EOPNOTSUPP, and neither the blob's place nor the host-visible window is known to cross-check it with the MTRRs\n");
	}
	wb = vgm_mtrr_wb(base, size, why, sizeof(why));
	igt_assert_f(wb >= 0,
		     "mmap refused host-cached memory with EOPNOTSUPP, and the MTRRs cannot be read to cross-check it (/proc/mtrr, /dev/cpu/0/msr): %s\n",
		     strerror(-wb));
	igt_assert_f(wb == 0,
		     "mmap refused host-cached memory with EOPNOTSUPP, but the MTRRs make %s [0x%" PRIx64 "+0x%" PRIx64 "] write-back all over (%s): PAT gives it WB\n",
		     where, base, size, why);
	igt_info("%s [0x%" PRIx64 "+0x%" PRIx64 "] is not write-back in the MTRRs (%s): WB would become UC-, refusal is right\n",
		 where, base, size, why);
#else
	(void)c;
	(void)b;
	(void)base;
	(void)size;
	(void)where;
	(void)why;
	(void)wb;
	/* no PAT, no MTRRs: every attribute has its memory type here */
	igt_assert_f(false,
		     "mmap refused host-%s memory with EOPNOTSUPP, but on %s every host attribute has a memory type (%s): there is no platform refusal\n",
		     vgm_attr_name(e->attr), vgm_arch(), vgm_cache_name(e->cache));
#endif
}

void *__vgm_mmap_via(const struct vgm_blob *b, enum vgm_via via,
		     uint64_t offset, uint64_t len, int prot, int flags,
		     int *err)
{
	int dmabuf = -1, ret;
	void *p;

	if (via == VGM_VIA_DRM)
		return __vgm_mmap(b, offset, len, prot, flags, err);
	ret = __vgm_prime_export(b->fd, b->handle, &dmabuf);
	igt_assert_f(ret == 0, "PRIME_HANDLE_TO_FD(DRM_RDWR) of handle %u failed: %s\n",
		     b->handle, strerror(-ret));
	p = mmap(NULL, len, prot, flags, dmabuf, offset);
	*err = p == MAP_FAILED ? errno : 0;
	close(dmabuf);
	return p == MAP_FAILED ? NULL : p;
}

void *vgm_map_expected(struct vgm_ctx *c, const struct vgm_blob *b,
		       enum vgm_via via, uint64_t off, uint64_t len,
		       struct vgm_expect *e, int *refusal)
{
	struct vgm_resource_info ri = {};
	void *p;
	int err, ret;

	*refusal = 0;
	/*
	 * mmap first: it waits for the host's answer, which RESOURCE_INFO
	 * does not (it reports PENDING until then), and a passthrough run
	 * learns the answer from RESOURCE_INFO.
	 */
	p = __vgm_mmap_via(b, via, off, len, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	if (c->have_query) {
		ret = __vgm_query(b->fd, b->handle, &ri);
		igt_assert_f(ret == 0, "RESOURCE_INFO failed: %s\n", strerror(-ret));
		igt_assert_f(ri.map_caching != VIRTGPU_MAP_CACHING_PENDING,
			     "RESOURCE_INFO reports PENDING after mmap (%s) waited for the host's answer\n",
			     p ? "mapped" : strerror(err));
	}
	vgm_expect_blob(c, b, &ri, c->strict, e);
	igt_debug("blob res %u, %" PRIu64 " bytes, map [0x%" PRIx64 "+0x%" PRIx64 "] through %s: %s; mmap %s\n",
		  b->res, b->size, off, len, via == VGM_VIA_DRM ? "the DRM file" : "a dma-buf", e->what,
		  p ? "mapped" : strerror(err));

	if (!e->map) {
		if (p) {
			int cache = first_page_cache(p);

			munmap(p, len);
			igt_assert_f(false,
				     "host %s: the guest must refuse to map the blob (%s), but mmap succeeded and maps it as %s\n",
				     c->host.name, e->what, vgm_cache_name(cache));
		}
		igt_assert_f(err == e->err, "host %s: mmap failed with %s, expected %s (%s)\n",
			     c->host.name, strerror(err), strerror(e->err), e->what);
		check_query(c, b, e, VIRTGPU_MAP_CACHING_REFUSED);
		*refusal = err;
		return NULL;
	}
	if (!p) {
		igt_assert_f(err == EOPNOTSUPP && e->platform_may_refuse,
			     "host %s: mmap failed with %s, expected a mapping (%s)\n",
			     c->host.name, strerror(err), e->what);
		check_query(c, b, e, VIRTGPU_MAP_CACHING_REFUSED);
		vgm_check_platform_refusal(c, b, e);
		igt_info("host %s: the guest platform cannot map it %s; refused with EOPNOTSUPP and reported REFUSED, as it must\n",
			 c->host.name, vgm_cache_name(e->cache));
		*refusal = err;
		return NULL;
	}
	vgm_track(p, len);
	check_query(c, b, e, e->caching);
	return p;
}

void *vgm_map_or_skip(struct vgm_ctx *c, const struct vgm_blob *b,
		      struct vgm_expect *e)
{
	int refusal;
	void *p = vgm_map_expected(c, b, VGM_VIA_DRM, 0, b->size, e, &refusal);

	if (!p)
		igt_skip("host %s: the guest refuses to map host-visible blobs on this run (%s, as it must): nothing to test\n",
			 c->host.name, strerror(refusal));
	return p;
}

void *vgm_skewed_spot(uint64_t phys, uint64_t len)
{
	uint64_t span = len + 2 * VGM_PMD;
	uint8_t *r, *at;
	uintptr_t aligned;

	r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	igt_assert_f(r != MAP_FAILED, "reserving 0x%" PRIx64 " bytes of address space: %s\n",
		     span, strerror(errno));
	aligned = ((uintptr_t)r + VGM_PMD - 1) & ~(uintptr_t)(VGM_PMD - 1);
	at = (uint8_t *)aligned + ((phys + VGM_SKEW) & (VGM_PMD - 1));
	if (at > r)
		munmap(r, at - r);
	if (at + len < r + span)
		munmap(at + len, r + span - (at + len));
	return at;
}

/**
 * __vgm_mmap_skewed: a mapping that faults with 4 KiB PTEs only
 *
 * PMD entries need a 2 MiB-aligned user range over a 2 MiB-aligned
 * physical one: at VGM_SKEW off congruence, no part of the mapping has
 * that. The blob's place comes from vgm_blob_try_phys() (0 where the
 * kernel cannot tell: the stock driver maps everything with PTEs at mmap).
 */
void *__vgm_mmap_skewed(const struct vgm_blob *b, enum vgm_via via, uint64_t off,
			uint64_t len, int prot, int *err)
{
	uint64_t phys = 0, base = 0;
	int fd = b->fd, ret;
	uint8_t *at, *p;

	if (!vgm_blob_try_phys(b, &phys))
		phys = 0;
	if (via == VGM_VIA_DRM) {
		ret = __vgm_map_offset(b->fd, b->handle, &base);
		igt_assert_f(ret == 0, "VIRTGPU_MAP of handle %u failed: %s\n", b->handle, strerror(-ret));
	} else {
		ret = __vgm_prime_export(b->fd, b->handle, &fd);
		igt_assert_f(ret == 0, "PRIME_HANDLE_TO_FD(DRM_RDWR) of handle %u failed: %s\n",
			     b->handle, strerror(-ret));
	}
	at = vgm_skewed_spot(phys + off, len);
	p = mmap(at, len, prot, MAP_SHARED | MAP_FIXED, fd, base + off);
	*err = p == MAP_FAILED ? errno : 0;
	if (via == VGM_VIA_DMABUF)
		close(fd);
	if (p == MAP_FAILED) {
		munmap(at, len);
		return NULL;
	}
	igt_assert_f(p == at, "mmap(MAP_FIXED) at %p returned %p\n", at, p);
	return p;
}

/**
 * vgm_map_fresh: a mapping of @b that no page was touched through yet
 *
 * Maps @b (skipping if the guest refuses it as it must), writes stamps
 * @seed in every page, unmaps it and maps it again through @via, skewed
 * (see __vgm_mmap_skewed()): the pages of the new mapping, tracked
 * (release it with vgm_unmap()), are first faults, of 4 KiB each.
 */
void *vgm_map_fresh(struct vgm_ctx *c, const struct vgm_blob *b, enum vgm_via via,
		    uint32_t seed, struct vgm_expect *e)
{
	struct vgm_expect ee;
	uint8_t *p = vgm_map_or_skip(c, b, e ?: &ee);
	int err;

	vgm_write_stamps(p, b->size, seed);
	vgm_unmap(p, b->size);
	p = __vgm_mmap_skewed(b, via, 0, b->size, PROT_READ | PROT_WRITE, &err);
	igt_assert_f(p, "mapping the blob again after munmap (%s) failed: %s\n",
		     via == VGM_VIA_DRM ? "DRM file" : "dma-buf", strerror(err));
	vgm_track(p, b->size);
	return p;
}

/* ---------------------------------------------------------------- stamps */

uint32_t vgm_stamp(uint32_t seed, uint64_t page)
{
	uint32_t x = seed * 0x9e3779b1u ^ (uint32_t)(page * 0x85ebca6bull) ^ (uint32_t)(page >> 32);

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return x | 1;	/* never 0 */
}

void vgm_write_stamps(volatile void *p, uint64_t len, uint32_t seed)
{
	volatile uint8_t *b = p;
	uint64_t i;

	for (i = 0; i < len / VGM_PAGE; i++) {
		*(volatile uint32_t *)(b + i * VGM_PAGE) = vgm_stamp(seed, i);
		*(volatile uint32_t *)(b + i * VGM_PAGE + VGM_PAGE - 4) = ~vgm_stamp(seed, i);
	}
}

int64_t vgm_check_stamps(const volatile void *p, uint64_t len, uint32_t seed)
{
	const volatile uint8_t *b = p;
	uint64_t i;

	for (i = 0; i < len / VGM_PAGE; i++) {
		if (*(const volatile uint32_t *)(b + i * VGM_PAGE) != vgm_stamp(seed, i) ||
		    *(const volatile uint32_t *)(b + i * VGM_PAGE + VGM_PAGE - 4) != ~vgm_stamp(seed, i))
			return (int64_t)i;
	}
	return -1;
}

void vgm_assert_stamps(const volatile void *p, uint64_t len, uint32_t seed,
		       const char *what)
{
	int64_t bad = vgm_check_stamps(p, len, seed);

	igt_assert_f(bad < 0, "%s: page %" PRId64 " does not hold what was written\n", what, bad);
}

/* ---------------------------------------------------------------- ptdump */

/* the whole file, NUL-terminated (free it), or NULL if it cannot be opened */
char *vgm_read_file(const char *path, size_t *lenp)
{
	size_t cap = 1 << 16, len = 0;
	char *buf;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	igt_assert(buf);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			igt_assert(buf);
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

/*
 * The hardware's PAT table (IA32_PAT, MSR 0x277), read once: a PTE's
 * PAT/PCD/PWT bits index it. Linux programs WB, WC, UC-, UC, WB, WP, UC-,
 * WT; without PAT (nopat) the register keeps its power-on value WB, WT,
 * UC-, UC (twice), which has no WC at all. Falls back to Linux's table
 * when the MSR cannot be read (no msr module): *@from_msr says which.
 */
#define MSR_IA32_PAT 0x277

/* IA32_PAT's power-on value: what it keeps when the kernel does not program PAT */
#define PAT_POWER_ON 0x0007040600070406ull

static uint64_t pat_msr;	/* IA32_PAT as read, when x86_pat_table() could */

static const int *x86_pat_table(bool *from_msr)
{
	static const int linux_pat[8] = {
		VGM_CACHE_WB, VGM_CACHE_WC, VGM_CACHE_UC_MINUS, VGM_CACHE_UC,
		VGM_CACHE_WB, VGM_CACHE_WP, VGM_CACHE_UC_MINUS, VGM_CACHE_WT,
	};
	static const int type[8] = {
		VGM_CACHE_UC, VGM_CACHE_WC, VGM_CACHE_UNKNOWN, VGM_CACHE_UNKNOWN,
		VGM_CACHE_WT, VGM_CACHE_WP, VGM_CACHE_WB, VGM_CACHE_UC_MINUS,
	};
	static int hw[8];
	static int state; /* 0 not read, 1 from the MSR, -1 Linux's */
	uint64_t msr;
	int fd, i, got = -1;

	/* threads may race here: each reads the same MSR, the result is published last */
	if (!__atomic_load_n(&state, __ATOMIC_ACQUIRE)) {
		fd = open("/dev/cpu/0/msr", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (pread(fd, &msr, sizeof(msr), MSR_IA32_PAT) == sizeof(msr)) {
				for (i = 0; i < 8; i++)
					hw[i] = type[(msr >> (8 * i)) & 7];
				pat_msr = msr;
				got = 1;
			}
			close(fd);
		}
		__atomic_store_n(&state, got, __ATOMIC_RELEASE);
	}
	if (from_msr)
		*from_msr = state == 1;
	return state == 1 ? hw : linux_pat;
}

static int x86_pat_cache(const struct vgm_ptrange *r)
{
	return x86_pat_table(NULL)[(r->pat ? 4 : 0) | (r->pcd ? 2 : 0) | (r->pwt ? 1 : 0)];
}

/**
 * vgm_pat_can_give: whether some PTE can say @cache on this CPU (x86: an
 * entry of the hardware's PAT table has that type); true elsewhere
 */
bool vgm_pat_can_give(int cache)
{
	const int *t;
	int i;

	if (!VGM_X86)
		return true;
	t = x86_pat_table(NULL);
	for (i = 0; i < 8; i++)
		if (t[i] == cache)
			return true;
	return false;
}

/*
 * vgm_ptdump_read_x86: the user half of this process's page tables
 *
 * From debugfs page_tables/current_user (kernels with page table
 * isolation) or current_kernel, which walk current->mm: the process that
 * reads is the one that is dumped.
 *
 * Returns: 0, or -errno (skip-worthy: no CONFIG_PTDUMP_DEBUGFS).
 */
int vgm_ptdump_read_x86(struct vgm_ptdump *pt)
{
	static const char *const paths[] = {
		"/sys/kernel/debug/page_tables/current_user",
		"/sys/kernel/debug/page_tables/current_kernel",
	};
	char *buf = NULL, *line, *save;
	size_t i;
	int cap = 0;
	bool user = false;

	memset(pt, 0, sizeof(*pt));
	for (i = 0; i < ARRAY_SIZE(paths) && !buf; i++)
		buf = vgm_read_file(paths[i], NULL);
	if (!buf)
		return -ENOENT;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct vgm_ptrange r = {};
		char *tok, *tsave, *rest;
		uint64_t s, e;
		int pos = 0;

		if (!strncmp(line, "---[", 4)) {
			if (strstr(line, "User Space"))
				user = true;
			else if (user)
				break;
			continue;
		}
		if (sscanf(line, "0x%" SCNx64 "-0x%" SCNx64 " %n", &s, &e, &pos) != 2 || !pos)
			continue;
		r.start = s;
		r.end = e;
		rest = line + pos;
		/* the size, e.g. "4K" or "2M", then the flags, then the level */
		tok = strtok_r(rest, " ", &tsave);
		for (tok = strtok_r(NULL, " ", &tsave); tok; tok = strtok_r(NULL, " ", &tsave)) {
			if (!strcmp(tok, "USR"))
				r.user = true;
			else if (!strcmp(tok, "RW"))
				r.present = r.rw = true;
			else if (!strcmp(tok, "ro"))
				r.present = true;
			else if (!strcmp(tok, "PWT"))
				r.pwt = true;
			else if (!strcmp(tok, "PCD"))
				r.pcd = true;
			else if (!strcmp(tok, "PSE"))
				r.pse = true;
			else if (!strcmp(tok, "PAT"))
				r.pat = true;
			else if (strlen(tok) == 3 && tok[0] == 'p')
				snprintf(r.level, sizeof(r.level), "%s", tok);
		}
		r.cache = x86_pat_cache(&r);
		if (pt->n == cap) {
			cap = cap ? cap * 2 : 256;
			pt->r = realloc(pt->r, cap * sizeof(*pt->r));
			igt_assert(pt->r);
		}
		pt->r[pt->n++] = r;
	}
	free(buf);
	return pt->n ? 0 : -ENODATA;
}

static void ptdump_add(struct vgm_ptdump *pt, int *cap, const struct vgm_ptrange *r)
{
	struct vgm_ptrange *last = pt->n ? &pt->r[pt->n - 1] : NULL;

	/* adjacent entries alike: one range, as ptdump prints them */
	if (last && last->end == r->start && last->present == r->present && last->rw == r->rw &&
	    last->cache == r->cache && !strcmp(last->level, r->level)) {
		last->end = r->end;
		return;
	}
	if (pt->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		pt->r = realloc(pt->r, *cap * sizeof(*pt->r));
		igt_assert(pt->r);
	}
	pt->r[pt->n++] = *r;
}

static int range_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct vgm_range *)a)->p;
	uintptr_t y = (uintptr_t)((const struct vgm_range *)b)->p;

	return x < y ? -1 : x > y;
}

/*
 * One run of the walker's answer to "ADDR PAGES": a line as vgm_ptewalk()
 * parses it, with n=PAGES. Returns the run's pages, 0 where the line
 * cannot be parsed.
 */
static int ptewalk_parse(const char *line, struct vgm_pte *pte, uint64_t *addr,
			 uint64_t *pages);

static uint64_t walker_run(const char *line, struct vgm_ptrange *r)
{
	struct vgm_pte w;
	uint64_t addr, n;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = ptewalk_parse(line, &w, &addr, &n);
	if ((ret && ret != -ENOENT) || !n)
		return 0;
	if (ret == -ENOENT) {
		snprintf(r->level, sizeof(r->level), "pte");
		r->cache = VGM_CACHE_UNKNOWN;
	} else {
		r->present = true;
		r->user = true;
		r->rw = w.writable;
		r->cache = vgm_cache_of_type(w.type);
		snprintf(r->level, sizeof(r->level), "%s", w.level);
	}
	r->start = addr;
	r->end = addr + n * VGM_PAGE;
	return n;
}

/**
 * vgm_ptdump_read_walker: [p, p + len) of each range from the walker module
 *
 * One query of debugfs vgm_ptewalk per range ("ADDR PAGES"; again from
 * where its answer stops, 4 KiB of lines at a time): one entry here per
 * run of page-table entries alike (level, writable, memory type, PFNs
 * following each other). Addresses without a PFN entry (no VMA, not
 * faulted in, not a PFN mapping) are entries that are not present. The
 * ranges are walked in address order; overlaps are walked once.
 *
 * Returns: 0, or -errno (the module is not loaded, or its answer cannot be
 * parsed: -EPROTO).
 */
int vgm_ptdump_read_walker(struct vgm_ptdump *pt, const struct vgm_range *rg, int n)
{
	struct vgm_range *sorted;
	uint64_t done = 0;
	int wfd, i, cap = 0, ret = 0;
	char *buf;

	memset(pt, 0, sizeof(*pt));
	wfd = vgm_ptewalk_open();
	if (wfd < 0)
		return wfd;
	buf = malloc(4097);
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	igt_assert(buf && sorted);
	memcpy(sorted, rg, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), range_cmp);
	for (i = 0; i < n && !ret; i++) {
		uint64_t start = (uintptr_t)sorted[i].p & ~(VGM_PAGE - 1);
		uint64_t end = ((uintptr_t)sorted[i].p + sorted[i].len + VGM_PAGE - 1) & ~(VGM_PAGE - 1);
		uint64_t addr = start > done ? start : done;

		while (addr < end && !ret) {
			char req[64], *line, *next;
			uint64_t from = addr;
			ssize_t r;
			int len;

			len = snprintf(req, sizeof(req), "0x%" PRIx64 " %" PRIu64, addr,
				       (end - addr) / VGM_PAGE);
			if (pwrite(wfd, req, len, 0) != len) {
				ret = errno ? -errno : -EIO;
				break;
			}
			r = pread(wfd, buf, 4096, 0);
			if (r < 0) {
				ret = -errno;
				break;
			}
			buf[r] = '\0';
			for (line = buf; (next = strchr(line, '\n')); line = next + 1) {
				struct vgm_ptrange pr;

				*next = '\0';
				if (!walker_run(line, &pr) || pr.start != addr || pr.end > end) {
					igt_debug("%s: unexpected answer to '%s': %s\n", VGM_PTEWALK, req, line);
					ret = -EPROTO;
					break;
				}
				ptdump_add(pt, &cap, &pr);
				addr = pr.end;
			}
			if (!ret && addr == from)
				ret = -EPROTO;	/* no progress */
		}
		done = end > done ? end : done;
	}
	free(sorted);
	free(buf);
	close(wfd);
	if (ret)
		vgm_ptdump_free(pt);
	return ret;
}

enum vgm_pt_source vgm_pt_source(void)
{
	static int source = -1;
	const char *env;

	if (source >= 0)
		return source;
	/* arm64's ptdump (debugfs kernel_page_tables) shows the kernel's tables only */
	source = VGM_PT_WALKER;
	if (VGM_X86) {
		/*
		 * Without page table isolation there is no current_user:
		 * current_kernel dumps the kernel half too, 0.85 s a read
		 * under TCG. The walker reads only the pages asked about.
		 */
		env = getenv("VGM_PT_SOURCE");
		if ((env && !strcmp(env, "ptdump")) || access(VGM_PTEWALK, W_OK))
			source = VGM_PT_PTDUMP;
	}
	igt_debug("page tables read from %s\n", vgm_pt_source_name());
	return source;
}

const char *vgm_pt_source_name(void)
{
	return vgm_pt_source() == VGM_PT_PTDUMP ?
	       "debugfs page_tables, CONFIG_PTDUMP_DEBUGFS" :
	       VGM_X86 ? "debugfs vgm_ptewalk (kmod/vgm_ptewalk.ko; VGM_PT_SOURCE=ptdump reads ptdump instead)" :
	       "debugfs vgm_ptewalk (kmod/vgm_ptewalk.ko; there is no ptdump of user page tables on this architecture)";
}

int vgm_ptdump_read_ranges(struct vgm_ptdump *pt, const struct vgm_range *rg, int n)
{
	/* x86: the whole user half, as before (ranges are only for the walker) */
	if (vgm_pt_source() == VGM_PT_PTDUMP)
		return vgm_ptdump_read_x86(pt);
	return vgm_ptdump_read_walker(pt, rg, n);
}

int vgm_ptdump_read(struct vgm_ptdump *pt, const void *p, uint64_t len)
{
	struct vgm_range rg = { .p = p, .len = len };

	return vgm_ptdump_read_ranges(pt, &rg, 1);
}

void vgm_require_ptdump(void)
{
	struct vgm_ptdump pt;
	int ret;

	if (vgm_pt_source() == VGM_PT_PTDUMP) {
		ret = vgm_ptdump_read_x86(&pt);
		igt_require_f(ret == 0, "no ptdump of this process's page tables\n");
		vgm_ptdump_free(&pt);
		return;
	}
	ret = vgm_ptewalk_open();
	igt_require_f(ret >= 0, "cannot read the page tables of this process from %s: %s\n",
		      vgm_pt_source_name(), strerror(-ret));
	close(ret);
}

void vgm_ptdump_free(struct vgm_ptdump *pt)
{
	free(pt->r);
	pt->r = NULL;
	pt->n = 0;
}

int vgm_ptrange_cache(const struct vgm_ptrange *r)
{
	return r->cache >= 0 && r->cache < VGM_CACHE_COUNT ? r->cache : VGM_CACHE_UNKNOWN;
}

const struct vgm_ptrange *vgm_ptdump_find(const struct vgm_ptdump *pt, uint64_t addr)
{
	int lo = 0, hi = pt->n - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (addr < pt->r[mid].start)
			hi = mid - 1;
		else if (addr >= pt->r[mid].end)
			lo = mid + 1;
		else
			return &pt->r[mid];
	}
	return NULL;
}

void vgm_ptdump_span(const struct vgm_ptdump *pt, uint64_t start,
		     uint64_t len, struct vgm_span *s)
{
	uint64_t end = start + len, cursor = start;
	int i, kinds = 0, c;

	memset(s, 0, sizeof(*s));
	s->writable = true;
	s->first_missing = UINT64_MAX;
	for (i = 0; i < pt->n; i++) {
		const struct vgm_ptrange *r = &pt->r[i];
		uint64_t a = r->start > start ? r->start : start;
		uint64_t b = r->end < end ? r->end : end;

		if (a >= b || !r->present)
			continue;
		if (a > cursor && s->first_missing == UINT64_MAX)
			s->first_missing = cursor;
		cursor = b > cursor ? b : cursor;
		s->present += b - a;
		s->by_cache[vgm_ptrange_cache(r)] += b - a;
		if (!strcmp(r->level, "pte"))
			s->pte_bytes += b - a;
		else if (!strcmp(r->level, "pmd"))
			s->pmd_bytes += b - a;
		else
			s->other_bytes += b - a;
		if (!r->rw)
			s->writable = false;
	}
	if (cursor < end && s->first_missing == UINT64_MAX)
		s->first_missing = cursor;
	s->missing = len - s->present;
	s->cache = VGM_CACHE_MIXED;
	for (c = 0; c < VGM_CACHE_COUNT; c++) {
		if (s->by_cache[c]) {
			kinds++;
			s->cache = c;
		}
	}
	if (kinds != 1)
		s->cache = VGM_CACHE_MIXED;
}

static void span_desc(const struct vgm_span *s, char *buf, size_t n)
{
	size_t used = 0;
	int c;

	buf[0] = '\0';
	for (c = 0; c < VGM_CACHE_COUNT; c++)
		if (s->by_cache[c])
			used += snprintf(buf + used, used < n ? n - used : 0, "%s%s: %" PRIu64 " KiB",
					 used ? ", " : "", vgm_cache_name(c), s->by_cache[c] / 1024);
}

/**
 * vgm_assert_ptes: every page of [p, p + len) present with one cache mode
 *
 * Returns: the cache mode (enum vgm_cache).
 */
int vgm_assert_ptes(const void *p, uint64_t len, const char *what)
{
	struct vgm_ptdump pt;
	struct vgm_span s;
	char desc[256];
	int ret;

	ret = vgm_ptdump_read(&pt, p, len);
	igt_require_f(ret == 0, "cannot read the page tables of this process (%s): %s\n",
		      vgm_pt_source_name(), strerror(-ret));
	vgm_ptdump_span(&pt, (uintptr_t)p, len, &s);
	vgm_ptdump_free(&pt);
	span_desc(&s, desc, sizeof(desc));
	igt_debug("%s: [%p+0x%" PRIx64 "]: %s; %" PRIu64 " KiB in PTEs, %" PRIu64 " KiB in PMDs\n",
		  what, p, len, desc, s.pte_bytes / 1024, s.pmd_bytes / 1024);
	igt_assert_f(s.missing == 0,
		     "%s: %" PRIu64 " of %" PRIu64 " KiB not in the page tables after every page was touched (first at +0x%" PRIx64 ")\n",
		     what, s.missing / 1024, len / 1024, s.first_missing - (uintptr_t)p);
	igt_assert_f(s.cache != VGM_CACHE_MIXED,
		     "%s: the pages of one mapping have different cache modes (%s)\n", what, desc);
	igt_assert_f(s.writable, "%s: a shared read-write mapping has read-only entries\n", what);
	return s.cache;
}

uint64_t vgm_present(const void *p, uint64_t len, uint64_t *pmd)
{
	struct vgm_ptdump pt;
	struct vgm_span s;
	int ret;

	ret = vgm_ptdump_read(&pt, p, len);
	igt_require_f(ret == 0, "cannot read the page tables of this process (%s): %s\n",
		      vgm_pt_source_name(), strerror(-ret));
	vgm_ptdump_span(&pt, (uintptr_t)p, len, &s);
	vgm_ptdump_free(&pt);
	if (pmd)
		*pmd = s.pmd_bytes;
	return s.present;
}

/**
 * vgm_fault_reach: pages that one 4 KiB fault at @p may map
 *
 * Our kernel fills the rest of the faulting page's page table (the
 * 2 MiB-aligned range of user addresses around it) within the VMA; the
 * pages from @p to the end of that range, at least 1. A page that many
 * pages or more past a fault is in another page table: its first access
 * is a fault of its own.
 */
uint64_t vgm_fault_reach(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	return (((a | (VGM_PMD - 1)) + 1) - a) / VGM_PAGE;
}

bool vgm_assert_unfaulted(const struct vgm_ctx *c, const void *p, uint64_t len,
			  const char *what)
{
	uint64_t pmd, present = vgm_present(p, len, &pmd);

	if (!present) {
		igt_debug("%s: [%p+0x%" PRIx64 "] not in the page tables yet\n", what, p, len);
		return true;
	}
	if (!c->have_query) {
		igt_info("%s: %" PRIu64 " of %" PRIu64 " KiB untouched pages are in the page tables already: this kernel maps host-visible blobs at mmap (stock: io_remap_pfn_range), no fault to take here (not failed)\n",
			 what, present / 1024, len / 1024);
		return false;
	}
	igt_assert_f(false,
		     "%s: %" PRIu64 " of %" PRIu64 " KiB (%" PRIu64 " KiB in PMD entries) of pages never touched are in the page tables already: the operation will not fault them in (a driver that maps eagerly, or past the page table of a faulting page)\n",
		     what, present / 1024, len / 1024, pmd / 1024);
	return false;
}

/* ------------------------------------------------------------- physical */

static int debugfs_dev_file(int fd, const char *name, char *path, size_t n)
{
	struct stat st;
	int minors[3], i;

	if (fstat(fd, &st))
		return -errno;
	minors[0] = minor(st.st_rdev);
	minors[1] = 0;
	minors[2] = 128;
	for (i = 0; i < 3; i++) {
		snprintf(path, n, "/sys/kernel/debug/dri/%d/%s", minors[i], name);
		if (!access(path, F_OK))
			return 0;
	}
	return -ENOENT;
}

/*
 * Drain the control queue before reading the window's allocator, on
 * kernels without the blob list. The upstream driver prints the allocator
 * without host_visible_lock (the bug patch 4 of the series fixes), and the
 * callback of the host's answer to RESOURCE_UNREF removes a freed blob's
 * node: a read at that moment can crash the kernel (drm_mm_print()
 * walking a poisoned list). The RESOURCE_UNREFs of the blobs this process
 * closed are mostly queued already; a fenced NOP queued behind them and
 * waited for means their answers were handled: the device answers in
 * order, and the driver runs an answer's callback before it handles later
 * fences. Best effort, it narrows the race and does not close it: a blob
 * that a command in flight still holds (its MAP_BLOB not answered yet) is
 * freed by a work item after that answer, behind the NOP. The NOP goes
 * through a second open of the device (its own context, made by the
 * EXECBUFFER), so that the caller's file keeps the context it has or has
 * not made. No 3D, or no answer in 1 s (a slow host holds a MAP_BLOB,
 * which the NOP waits behind), and the read goes ahead.
 */
static void drain_ctrlq(int fd)
{
	static int dfd = -1;
	static pid_t dpid;
	struct pollfd pfd = { .events = POLLIN };
	char self[64];
	int ret;

	/* (a child of a fork opens its own: the context is the parent's) */
	if (dfd >= 0 && dpid != getpid()) {
		close(dfd);
		dfd = -1;
	}
	if (dfd < 0) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		dfd = open(self, O_RDWR | O_CLOEXEC);
		dpid = getpid();
	}
	if (dfd < 0)
		return;
	pfd.fd = __vgm_fenced_nop(dfd);
	if (pfd.fd < 0)
		return;
	do
		ret = poll(&pfd, 1, 1000);
	while (ret < 0 && errno == EINTR);
	if (ret != 1)
		igt_debug("control queue not drained: the NOP's fence is not signalled after 1 s\n");
	close(pfd.fd);
}

/* the allocator's dump, read after drain_ctrlq() unless raw */
static char *read_window_mm(int fd, bool raw)
{
	char path[PATH_MAX];
	int ret;

	ret = debugfs_dev_file(fd, "virtio-gpu-host-visible-mm", path, sizeof(path));
	if (ret) {
		errno = -ret;
		return NULL;
	}
	/* (kernels with the blob list print the allocator under its lock) */
	if (!raw && !vgm_has_blob_list(fd))
		drain_ctrlq(fd);
	return vgm_read_file(path, NULL);
}

/* open debugfs dri/N/NAME of the device of @fd: the fd, or -errno */
int vgm_debugfs_dev_open(int fd, const char *name)
{
	char path[PATH_MAX];
	int ret;

	ret = debugfs_dev_file(fd, name, path, sizeof(path));
	if (ret)
		return ret;
	ret = open(path, O_RDONLY | O_CLOEXEC);
	return ret < 0 ? -errno : ret;
}

/* "0x00000000e0000000-0x00000000e0010000: 65536: used" */
int __vgm_window_nodes(int fd, bool raw, struct vgm_mm_node **out, int *n)
{
	char *buf, *line, *save;
	int cap = 0;

	*out = NULL;
	*n = 0;
	buf = read_window_mm(fd, raw);
	if (!buf)
		return -errno;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e, size;
		char what[16];

		if (sscanf(line, "%llx-%llx: %llu: %15s", &s, &e, &size, what) != 4 ||
		    strcmp(what, "used"))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = realloc(*out, cap * sizeof(**out));
			igt_assert(*out);
		}
		(*out)[*n].start = s;
		(*out)[*n].size = e - s;
		(*n)++;
	}
	free(buf);
	return 0;
}

int vgm_window_nodes(int fd, struct vgm_mm_node **out, int *n)
{
	return __vgm_window_nodes(fd, false, out, n);
}

bool vgm_has_blob_list(int fd)
{
	char path[PATH_MAX];

	return debugfs_dev_file(fd, VGM_BLOBS_DEBUGFS, path, sizeof(path)) == 0;
}

/* "res=7 offset=0x200000 size=0x10000 state=mapped map_info=0x3" */
int vgm_blob_list(int fd, struct vgm_hv_blob **out, int *n)
{
	char path[PATH_MAX], *buf, *line, *save;
	int cap = 0, ret;

	*out = NULL;
	*n = 0;
	ret = debugfs_dev_file(fd, VGM_BLOBS_DEBUGFS, path, sizeof(path));
	if (ret)
		return ret;
	buf = vgm_read_file(path, NULL);
	igt_assert_f(buf, "cannot read debugfs %s: %s\n", path, strerror(errno));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct vgm_hv_blob hv = {};

		igt_assert_f(sscanf(line, "res=%" SCNu32 " offset=0x%" SCNx64 " size=0x%" SCNx64 " state=%15s map_info=0x%" SCNx32,
				    &hv.res, &hv.offset, &hv.size, hv.state, &hv.map_info) == 5,
			     "debugfs %s: cannot parse '%s' (expected res=N offset=0xN size=0xN state=S map_info=0xN)\n",
			     path, line);
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = realloc(*out, cap * sizeof(**out));
			igt_assert(*out);
		}
		(*out)[(*n)++] = hv;
	}
	free(buf);
	return 0;
}

int __vgm_blob_listed(const struct vgm_blob *b, struct vgm_hv_blob *out)
{
	struct vgm_resource_info ri;
	struct vgm_hv_blob *list;
	int i, n, ret;

	ret = vgm_blob_list(b->fd, &list, &n);
	if (ret)
		return ret;
	/* RESOURCE_INFO names the blob's resource (stock has it too) */
	ret = __vgm_query(b->fd, b->handle, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO of handle %u failed: %s\n", b->handle, strerror(-ret));
	igt_assert_f(ri.res_handle == b->res,
		     "RESOURCE_INFO says handle %u is resource %u, RESOURCE_CREATE_BLOB said %u\n",
		     b->handle, ri.res_handle, b->res);
	ret = -ESRCH;
	for (i = 0; i < n; i++) {
		if (list[i].res == ri.res_handle) {
			igt_assert_f(ret, "debugfs %s lists resource %u twice\n", VGM_BLOBS_DEBUGFS, ri.res_handle);
			*out = list[i];
			ret = 0;
		}
	}
	free(list);
	return ret;
}

uint64_t vgm_window_drain(int fd, int timeout_ms)
{
	struct timespec start = {};
	struct vgm_mm_node *nodes;
	struct vgm_hv_blob *blobs;
	bool listed = vgm_has_blob_list(fd);
	uint64_t used;
	int i, n;

	igt_gettime(&start);
	for (;;) {
		used = 0;
		if (listed) {
			/* not the allocator dump: reading it raced with frees */
			if (vgm_blob_list(fd, &blobs, &n))
				return UINT64_MAX;
			for (i = 0; i < n; i++)
				used += blobs[i].size;
			free(blobs);
		} else {
			if (vgm_window_nodes(fd, &nodes, &n))
				return UINT64_MAX;
			for (i = 0; i < n; i++)
				used += nodes[i].size;
			free(nodes);
		}
		if (!used || igt_nsec_elapsed(&start) / 1000000 >= (uint64_t)timeout_ms)
			break;
		usleep(20 * 1000);
	}
	igt_debug("window drained to %" PRIu64 " bytes in %" PRIu64 " ms (%s)\n",
		  used, igt_nsec_elapsed(&start) / 1000000,
		  listed ? VGM_BLOBS_DEBUGFS : "allocator dump");
	return used;
}

static bool blob_phys(const struct vgm_blob *b, uint64_t off, uint64_t *phys, bool skip)
{
	struct vgm_hv_blob hv;
	uint64_t base, size, want = (b->size + VGM_PAGE - 1) & ~(VGM_PAGE - 1);
	char src[64];
	int ret;

	ret = __vgm_blob_listed(b, &hv);
	if (ret == -ENOENT) {
		/* no list (stock): what the allocator said at creation */
		if (!b->phys_known) {
			igt_require_f(!skip,
				      "where the blob is in the host-visible window is unknown (no debugfs %s, and its allocator did not say)\n",
				      VGM_BLOBS_DEBUGFS);
			return false;
		}
		*phys = b->phys + off;
		return true;
	}
	igt_assert_f(ret == 0,
		     "resource %u (handle %u, %" PRIu64 " bytes) is not listed in debugfs %s: the driver does not account for a host-visible blob that has space in the window\n",
		     b->res, b->handle, b->size, VGM_BLOBS_DEBUGFS);
	igt_debug("resource %u: offset 0x%" PRIx64 " size 0x%" PRIx64 " state %s map_info 0x%x\n",
		  hv.res, hv.offset, hv.size, hv.state, hv.map_info);
	igt_assert_f(hv.size == want,
		     "debugfs %s: resource %u has size 0x%" PRIx64 ", the blob is 0x%" PRIx64 " bytes\n",
		     VGM_BLOBS_DEBUGFS, hv.res, hv.size, want);
	/* a kernel that lists where its blobs are must say where its window is */
	igt_assert_f(vgm_window_src(b->fd, &base, &size, src, sizeof(src)),
		     "debugfs %s lists resource %u at offset 0x%" PRIx64 " of the host-visible window, but the window is not found (no virtio PCI shared memory capability, nothing in /proc/iomem)\n",
		     VGM_BLOBS_DEBUGFS, hv.res, hv.offset);
	igt_assert_f(hv.offset + hv.size <= size,
		     "debugfs %s: resource %u at [0x%" PRIx64 "+0x%" PRIx64 "] is outside the window of 0x%" PRIx64 " bytes (%s)\n",
		     VGM_BLOBS_DEBUGFS, hv.res, hv.offset, hv.size, size, src);
	*phys = base + hv.offset + off;
	return true;
}

uint64_t vgm_blob_phys(const struct vgm_blob *b, uint64_t off)
{
	uint64_t phys = 0;

	blob_phys(b, off, &phys, true);
	return phys;
}

bool vgm_blob_try_phys(const struct vgm_blob *b, uint64_t *phys)
{
	return blob_phys(b, 0, phys, false);
}

static int memtype_from_name(const char *s)
{
	if (!strcmp(s, "write-back"))
		return VGM_CACHE_WB;
	if (!strcmp(s, "write-combining"))
		return VGM_CACHE_WC;
	if (!strcmp(s, "uncached-minus"))
		return VGM_CACHE_UC_MINUS;
	if (!strcmp(s, "uncached"))
		return VGM_CACHE_UC;
	if (!strcmp(s, "write-through"))
		return VGM_CACHE_WT;
	if (!strcmp(s, "write-protected"))
		return VGM_CACHE_WP;
	return VGM_CACHE_UNKNOWN;
}

/* debugfs x86/pat_memtype_list: "PAT: [mem 0x...-0x...] type" */
int vgm_pat_list(struct vgm_memtype **out, int *n)
{
	char *buf, *line, *save;
	int cap = 0;

	*out = NULL;
	*n = 0;
	buf = vgm_read_file("/sys/kernel/debug/x86/pat_memtype_list", NULL);
	if (!buf)
		return -ENOENT;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t s, e;
		char type[32];

		if (sscanf(line, "PAT: [mem 0x%" SCNx64 "-0x%" SCNx64 "] %31s", &s, &e, type) != 3)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = realloc(*out, cap * sizeof(**out));
			igt_assert(*out);
		}
		(*out)[*n].start = s;
		(*out)[*n].end = e;
		(*out)[*n].type = memtype_from_name(type);
		(*n)++;
	}
	free(buf);
	return 0;
}

/**
 * vgm_assert_pat: PAT reserved [phys, phys + len) as @cache, all of it
 */
void vgm_assert_pat(uint64_t phys, uint64_t len, int cache, const char *what)
{
	struct vgm_memtype *m;
	uint64_t end = phys + len, covered = 0, cursor = phys;
	int i, n, ret;

	if (!VGM_X86) {
		/* no memory type reservations to cross-check outside x86 */
		igt_debug("%s: no PAT on %s: nothing reserves a memory type for [0x%" PRIx64 "+0x%" PRIx64 "]\n",
			  what, vgm_arch(), phys, len);
		return;
	}
	if (!vgm_pat_enabled()) {
		/* nopat: nothing is reserved; the PTE bits alone decide */
		igt_debug("%s: PAT is off (nopat): no memory type reservation for [0x%" PRIx64 "+0x%" PRIx64 "]\n",
			  what, phys, len);
		return;
	}
	ret = vgm_pat_list(&m, &n);
	igt_require_f(ret == 0, "no debugfs x86/pat_memtype_list\n");
	/* entries come sorted by start; overlapping ones may repeat */
	for (i = 0; i < n; i++) {
		uint64_t a = m[i].start > phys ? m[i].start : phys;
		uint64_t b = m[i].end < end ? m[i].end : end;

		if (a >= b)
			continue;
		igt_debug("%s: PAT [0x%" PRIx64 "-0x%" PRIx64 "] %s\n", what,
			  m[i].start, m[i].end, vgm_cache_name(m[i].type));
		igt_assert_f(m[i].type == cache,
			     "%s: PAT reserved [0x%" PRIx64 "-0x%" PRIx64 "] as %s, but the PTEs are %s\n",
			     what, m[i].start, m[i].end, vgm_cache_name(m[i].type), vgm_cache_name(cache));
		if (a > cursor)
			break;
		if (b > cursor) {
			covered += b - cursor;
			cursor = b;
		}
	}
	free(m);
	igt_assert_f(covered == len,
		     "%s: no PAT reservation covers [0x%" PRIx64 "-0x%" PRIx64 ") (only 0x%" PRIx64 " bytes from its start)\n",
		     what, phys, end, covered);
}

static int pat_count(uint64_t start, uint64_t len, bool log)
{
	struct vgm_memtype *m;
	int i, n, count = 0;

	if (vgm_pat_list(&m, &n))
		return -1;
	for (i = 0; i < n; i++) {
		if (m[i].start < start + len && m[i].end > start) {
			if (log)
				igt_info("PAT reservation [0x%" PRIx64 "-0x%" PRIx64 "] %s\n",
					 m[i].start, m[i].end, vgm_cache_name(m[i].type));
			count++;
		}
	}
	free(m);
	return count;
}

int vgm_pat_count(uint64_t start, uint64_t len)
{
	return pat_count(start, len, true);
}

int vgm_pat_count_settled(uint64_t start, uint64_t len, int timeout_ms)
{
	struct timespec t0 = {};
	int count;

	igt_gettime(&t0);
	while ((count = pat_count(start, len, false)) > 0 &&
	       igt_nsec_elapsed(&t0) / 1000000 < (uint64_t)timeout_ms)
		usleep(20 * 1000);
	if (count > 0)
		pat_count(start, len, true);
	else
		igt_debug("PAT reservations of [0x%" PRIx64 "+0x%" PRIx64 "] gone after %" PRIu64 " ms\n",
			  start, len, igt_nsec_elapsed(&t0) / 1000000);
	return count;
}

/* from the driver's allocator: "total: N, ..." and the lowest range start */
static bool window_from_mm(int fd, uint64_t *base, uint64_t *size)
{
	char *buf, *line, *save;
	unsigned long long s, e, n, total = 0, lowest = ~0ull;

	buf = read_window_mm(fd, false);
	if (!buf)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%llx-%llx: %llu:", &s, &e, &n) == 3 && s < lowest)
			lowest = s;
		else
			sscanf(line, "total: %llu", &total);
	}
	free(buf);
	if (!total || lowest == ~0ull)
		return false;
	*base = lowest;
	*size = total;
	return true;
}

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_PCI_CAP_SHARED_MEMORY_CFG 8
#define VIRTIO_GPU_SHM_ID_HOST_VISIBLE 1

/*
 * The window as the device describes it: the virtio PCI capability of type
 * VIRTIO_PCI_CAP_SHARED_MEMORY_CFG with id VIRTIO_GPU_SHM_ID_HOST_VISIBLE
 * (struct virtio_pci_cap64: bar, offset, length) in the config space of the
 * PCI device under the virtio device, at the address of that BAR.
 */
static bool window_from_pci(int fd, uint64_t *base, uint64_t *size)
{
	char link[PATH_MAX], dev[PATH_MAX], path[PATH_MAX + 16], *buf, *line, *save;
	uint64_t off, len, start = 0, end = 0, flags;
	const uint8_t *cfg;
	struct stat st;
	size_t n = 0;
	int ptr, hops, bar = -1, i;

	if (fstat(fd, &st))
		return false;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(link, dev))
		return false;
	/* .../0000:00:02.0/virtio0 -> .../0000:00:02.0 */
	snprintf(path, sizeof(path), "%s", dev);
	snprintf(dev, sizeof(dev), "%s", dirname(path));

	snprintf(path, sizeof(path), "%s/config", dev);
	buf = vgm_read_file(path, &n);
	if (!buf)
		return false;
	cfg = (const uint8_t *)buf;
	if (n < 64 || !(cfg[0x06] & 0x10)) {
		free(buf);
		return false;
	}
	for (ptr = cfg[0x34] & ~3, hops = 0; ptr >= 0x40 && ptr + 2 <= (int)n && hops < 48;
	     ptr = cfg[ptr + 1] & ~3, hops++) {
		if (cfg[ptr] != PCI_CAP_ID_VNDR || ptr + 24 > (int)n || cfg[ptr + 2] < 24 ||
		    cfg[ptr + 3] != VIRTIO_PCI_CAP_SHARED_MEMORY_CFG ||
		    cfg[ptr + 5] != VIRTIO_GPU_SHM_ID_HOST_VISIBLE)
			continue;
		bar = cfg[ptr + 4];
		off = le32_at(cfg + ptr + 8) | (uint64_t)le32_at(cfg + ptr + 16) << 32;
		len = le32_at(cfg + ptr + 12) | (uint64_t)le32_at(cfg + ptr + 20) << 32;
		break;
	}
	free(buf);
	if (bar < 0 || bar > 5)
		return false;

	/* sysfs resource: one "start end flags" line per BAR */
	snprintf(path, sizeof(path), "%s/resource", dev);
	buf = vgm_read_file(path, NULL);
	if (!buf)
		return false;
	for (i = 0, line = strtok_r(buf, "\n", &save); line && i < bar;
	     i++, line = strtok_r(NULL, "\n", &save))
		;
	if (!line || sscanf(line, "0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64, &start, &end, &flags) != 3 ||
	    !start || end < start || off + len > end - start + 1) {
		free(buf);
		return false;
	}
	free(buf);
	*base = start + off;
	*size = len;
	return true;
}

uint64_t vgm_window_env(void)
{
	const char *env = getenv("VGM_WINDOW");
	unsigned long long v;
	char *end;

	if (!env || !*env)
		return 0;
	errno = 0;
	v = strtoull(env, &end, 0);
	if (errno || end == env)
		return 0;
	switch (*end) {
	case 'G': case 'g':
		v <<= 10;
		/* fallthrough */
	case 'M': case 'm':
		v <<= 10;
		/* fallthrough */
	case 'K': case 'k':
		v <<= 10;
		end++;
		break;
	}
	return *end ? 0 : v;
}

/* /proc/iomem, where the driver claims the window under the name of its virtio device */
static bool window_from_iomem(int fd, uint64_t *base, uint64_t *size)
{
	char link[PATH_MAX], target[PATH_MAX], *name, *buf, *line, *save;
	struct stat st;
	ssize_t r;
	bool found = false;

	if (fstat(fd, &st))
		return false;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/device",
		 major(st.st_rdev), minor(st.st_rdev));
	r = readlink(link, target, sizeof(target) - 1);
	if (r <= 0)
		return false;
	target[r] = '\0';
	name = basename(target);

	buf = vgm_read_file("/proc/iomem", NULL);
	if (!buf)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t s, e;
		int pos = 0;

		if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %n", &s, &e, &pos) != 2 || !pos)
			continue;
		if (!strcmp(line + pos, name) && e > s && (!found || e - s + 1 > *size)) {
			*base = s;
			*size = e - s + 1;
			found = true;
		}
	}
	free(buf);
	return found;
}

/**
 * vgm_window_src: the host-visible window of the device of @fd
 *
 * From the device where it can (the host made it), else from what the
 * driver claimed in /proc/iomem (e.g. "virtio0"; other, smaller resources
 * may carry that name too), else, on kernels without the blob list, from
 * the driver's allocator.
 */
bool vgm_window_src(int fd, uint64_t *base, uint64_t *size, char *src, size_t n)
{
	const char *from;

	if (window_from_pci(fd, base, size))
		from = "virtio PCI shared memory capability";
	else if (window_from_iomem(fd, base, size))
		from = "the driver's claim in /proc/iomem";
	else if (!vgm_has_blob_list(fd) && window_from_mm(fd, base, size))
		from = "the driver's allocator";
	else
		return false;
	if (src)
		snprintf(src, n, "%s", from);
	return true;
}

bool vgm_window(int fd, uint64_t *base, uint64_t *size)
{
	return vgm_window_src(fd, base, size, NULL, 0);
}

#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_DEF_TYPE_E (1u << 11)	/* MTRRs enabled */
#define MTRR_TYPE_WB 6

static const char *mtrr_type_name(unsigned int t)
{
	static const char *const n[] = {
		"uncachable", "write-combining", "?", "?", "write-through",
		"write-protect", "write-back",
	};

	return t < ARRAY_SIZE(n) ? n[t] : "?";
}

int vgm_mtrr_wb(uint64_t start, uint64_t len, char *why, size_t n)
{
	struct { uint64_t base, end; } wb[64];
	uint64_t def = 0, end = start + len, cursor;
	char *buf, *line, *save;
	int fd, nwb = 0, i, ret = 1;
	bool moved;
	ssize_t r;

	snprintf(why, n, "?");
	fd = open("/dev/cpu/0/msr", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = pread(fd, &def, sizeof(def), MSR_MTRR_DEF_TYPE);
	close(fd);
	if (r != sizeof(def))
		return r < 0 ? -errno : -EIO;
	if (!(def & MTRR_DEF_TYPE_E)) {
		/* mtrr_type_lookup(): disabled MTRRs make everything UC */
		snprintf(why, n, "MTRRs disabled (IA32_MTRR_DEF_TYPE 0x%" PRIx64 ")", def);
		return 0;
	}

	buf = vgm_read_file("/proc/mtrr", NULL);
	if (!buf)
		return -errno;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long base, mb, size;
		char unit, type[32];
		int reg, count;

		if (sscanf(line, "reg%d: base=0x%llx (%lluMB), size=%llu%cB, count=%d: %31s",
			   &reg, &base, &mb, &size, &unit, &count, type) != 7)
			continue;
		size <<= unit == 'K' ? 10 : unit == 'G' ? 30 : 20;
		if (base >= end || base + size <= start)
			continue;
		/* overlapping ranges: any type but WB makes that part not WB */
		if (strcmp(type, "write-back")) {
			if (ret)
				snprintf(why, n, "reg%02d [0x%llx+0x%llx] is %s", reg, base, size, type);
			ret = 0;
		} else if (nwb < (int)ARRAY_SIZE(wb)) {
			wb[nwb].base = base;
			wb[nwb].end = base + size;
			nwb++;
		}
	}
	free(buf);
	if (!ret)
		return 0;

	/* what no write-back range covers has the default type */
	cursor = start;
	do {
		moved = false;
		for (i = 0; i < nwb; i++) {
			if (wb[i].base <= cursor && wb[i].end > cursor) {
				cursor = wb[i].end;
				moved = true;
			}
		}
	} while (moved && cursor < end);
	if (cursor < end && (def & 0xff) != MTRR_TYPE_WB) {
		snprintf(why, n, "[0x%" PRIx64 "-...) has the default type, %s", cursor,
			 mtrr_type_name(def & 0xff));
		return 0;
	}
	snprintf(why, n, cursor < end ? "default type write-back" : "write-back variable ranges");
	return 1;
}

/*
 * vgm_wb_room_above_4g: is there a place for a BAR of @size (aligned to its
 * size, as BARs are) above 4 GiB, in a host bridge window of /proc/iomem
 * ("PCI Bus 0000:00", top level), free of its children, where the MTRRs
 * say write-back? 1 and the place in @at, 0, or -errno. /proc/iomem shows
 * addresses to root only.
 */
/* the first place >= from aligned to size that none of the ranges overlaps */
static uint64_t first_fit(uint64_t from, uint64_t size, const uint64_t (*r)[2], int nr)
{
	uint64_t cand = (from + size - 1) & ~(size - 1);
	bool moved;
	int i;

	do {
		moved = false;
		for (i = 0; i < nr; i++) {
			if (r[i][0] <= cand + size - 1 && r[i][1] >= cand) {
				cand = (r[i][1] + size) & ~(size - 1);
				moved = true;
			}
		}
	} while (moved && cand);
	return cand;
}

int vgm_wb_room_above_4g(uint64_t size, uint64_t *at, char *why, size_t n)
{
	uint64_t kids[256][2], ws = 0, we = 0;
	char *buf, *line, *save, w[256];
	int bus_indent = -1, nk = 0, found = 0, err = 0;

	snprintf(why, n, "no host bridge window above 4 GiB in /proc/iomem");
	if (!size || (size & (size - 1)))
		return -EINVAL;	/* BARs are powers of two */
	buf = vgm_read_file("/proc/iomem", NULL);
	if (!buf)
		return -errno;
	/*
	 * "PCI Bus 0000:00" windows at any depth (e820 may nest them in a
	 * reserved range), their children one level deeper; each window is
	 * searched when the line after its last child comes.
	 */
	for (line = strtok_r(buf, "\n", &save); ; line = line ? strtok_r(NULL, "\n", &save) : NULL) {
		unsigned long long a = 0, b = 0;
		int indent = 0;

		if (line) {
			while (line[indent] == ' ')
				indent++;
			if (sscanf(line + indent, "%llx-%llx :", &a, &b) != 2)
				continue;
			if (bus_indent >= 0 && indent > bus_indent) {
				if (indent != bus_indent + 2)
					continue;
				if (nk == (int)ARRAY_SIZE(kids)) {
					err = -E2BIG;
					break;
				}
				kids[nk][0] = a;
				kids[nk][1] = b;
				nk++;
				continue;
			}
		}
		if (bus_indent >= 0 && we >= 1ULL << 32) {
			uint64_t cand = first_fit(ws < 1ULL << 32 ? 1ULL << 32 : ws, size, kids, nk);
			int wb = 0;

			if (cand && cand >= ws && cand - 1 <= we - size)
				wb = vgm_mtrr_wb(cand, size, w, sizeof(w));
			if (wb < 0) {
				err = wb;
				snprintf(why, n, "MTRRs unreadable");
				break;
			}
			if (wb) {
				*at = cand;
				snprintf(why, n, "[0x%" PRIx64 "+0x%" PRIx64 "] is free in host bridge window [0x%" PRIx64 "-0x%" PRIx64 "], %s",
					 cand, size, ws, we, w);
				found = 1;
				break;
			}
			snprintf(why, n, "no free write-back place of 0x%" PRIx64 " in host bridge window [0x%" PRIx64 "-0x%" PRIx64 "]",
				 size, ws, we);
		}
		bus_indent = -1;
		if (!line)
			break;
		if (strstr(line, ": PCI Bus 0000:")) {
			bus_indent = indent;
			ws = a;
			we = b;
			nk = 0;
		}
	}
	free(buf);
	return err ? err : found;
}

int vgm_window_movable(int fd, char *why, size_t n)
{
	char link[PATH_MAX], path[PATH_MAX], *res, *line, *save, *dev;
	uint64_t base, size;
	struct stat st;
	int ret = 0;

	snprintf(why, n, "?");
	if (fstat(fd, &st) || !vgm_window(fd, &base, &size))
		return -ENODEV;
	/*
	 * /sys/dev/char/M:m/device: the PCI device (virtio-gpu registers its
	 * DRM device under the virtio device's PCI parent), or virtioN under it
	 */
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device", major(st.st_rdev),
		 minor(st.st_rdev));
	if (!realpath(path, link))
		return -errno;
	dev = strrchr(link, '/');
	if (dev && !strncmp(dev + 1, "virtio", 6)) {
		*dev = '\0';
		dev = strrchr(link, '/');
	}
	/* the parent of a device on a root bus is pciDDDD:BB */
	if (dev && dev > link) {
		char *parent;

		*dev = '\0';
		parent = strrchr(link, '/');
		*dev = '/';
		if (parent && !strncmp(parent + 1, "pci", 3) && !strncmp(dev + 1, "0000:", 5))
			parent = NULL;	/* on a root bus */
		else
			dev = NULL;
		(void)parent;
	}
	if (!dev) {
		snprintf(why, n, "%s is not a PCI device on a root bus", link);
		return 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%.*s/resource", (int)(sizeof(path) - 16), link) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	res = vgm_read_file(path, NULL);
	if (!res)
		return -errno;
	snprintf(why, n, "no BAR of %s holds the window", dev + 1);
	for (line = strtok_r(res, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b, flags;

		if (sscanf(line, "%llx %llx %llx", &a, &b, &flags) != 3 || !(a <= base && base <= b))
			continue;
		/* IORESOURCE_MEM_64 */
		ret = !!(flags & 0x00100000);
		snprintf(why, n, "its BAR [0x%llx-0x%llx] is %s", a, b, ret ? "64-bit" : "32-bit");
		break;
	}
	free(res);
	return ret;
}

/**
 * vgm_pat_enabled: whether the kernel uses PAT (x86): it keeps memory type
 * reservations (debugfs x86/pat_memtype_list exists only then). Where
 * debugfs has no x86 directory: whether IA32_PAT still holds its power-on
 * value, which nopat leaves (Linux programs it at boot otherwise).
 */
bool vgm_pat_enabled(void)
{
	bool msr;

	if (!VGM_X86)
		return false;
	if (access("/sys/kernel/debug/x86", F_OK) == 0)
		return access("/sys/kernel/debug/x86/pat_memtype_list", F_OK) == 0;
	x86_pat_table(&msr);
	return msr && pat_msr != PAT_POWER_ON;
}

/* ------------------------------------------- the page-table walker module */

int vgm_ptewalk_open(void)
{
	int fd = open(VGM_PTEWALK, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vgm_ptewalk(int wfd, uint64_t addr, struct vgm_pte *pte)
{
	char buf[320];
	ssize_t r;
	int len;

	memset(pte, 0, sizeof(*pte));
	len = snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	if (pwrite(wfd, buf, len, 0) != len)
		return -errno;
	r = pread(wfd, buf, sizeof(buf) - 1, 0);
	if (r < 0)
		return -errno;
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return ptewalk_parse(buf, pte, NULL, NULL);
}

/*
 * One line of the walker: "addr=A none" or "addr=A level=L pfn=P raw=R w=W
 * type=T ...", with "n=PAGES" before type= (after none) in the answers to
 * a range. Fills @pte (its line too) and, when asked, @addr and @pages (0
 * without n=). Returns 0, -ENOENT (no entry) or -EPROTO.
 */
static int ptewalk_parse(const char *line, struct vgm_pte *pte, uint64_t *addr,
			 uint64_t *pages)
{
	unsigned long long a = 0, pfn, raw = 0, n = 0;
	char rawtok[32];
	const char *t;
	int w;

	memset(pte, 0, sizeof(*pte));
	snprintf(pte->line, sizeof(pte->line), "%s", line);
	if (sscanf(line, "addr=0x%llx", &a) != 1)
		return -EPROTO;
	t = strstr(line, " n=");
	if (t && sscanf(t, " n=%llu", &n) != 1)
		return -EPROTO;
	if (addr)
		*addr = a;
	if (pages)
		*pages = n;
	if (strstr(line, " none"))
		return -ENOENT;
	/* raw=? where the walker cannot rebuild the entry (a PUD) */
	if (sscanf(line, "addr=%*s level=%3s pfn=0x%llx raw=%31s w=%d", pte->level, &pfn, rawtok, &w) != 4 ||
	    (strcmp(rawtok, "?") && sscanf(rawtok, "0x%llx", &raw) != 1))
		return -EPROTO;
	pte->pfn = pfn;
	pte->raw = raw;
	pte->writable = w;
	t = strstr(line, " type=");
	if (!t || sscanf(t, " type=%23s", pte->type) != 1)
		return -EPROTO;
	return 0;
}

int vgm_cache_of_type(const char *type)
{
	/* the walker's names: x86's PAT types, arm64's MAIR attributes */
	static const struct { const char *name; int cache; } names[] = {
		{ "WB", VGM_CACHE_WB }, { "WC", VGM_CACHE_WC }, { "UC-", VGM_CACHE_UC_MINUS },
		{ "UC", VGM_CACHE_UC }, { "WT", VGM_CACHE_WT }, { "WP", VGM_CACHE_WP },
		{ "Normal-WB", VGM_CACHE_WB },
		{ "Normal-NC", VGM_CACHE_NORMAL_NC },
		{ "Normal-WT", VGM_CACHE_NORMAL_WT },
		{ "Normal-Tagged", VGM_CACHE_NORMAL_TAGGED },
		{ "Device-nGnRnE", VGM_CACHE_DEVICE_nGnRnE },
		{ "Device-nGnRE", VGM_CACHE_DEVICE_nGnRE },
		{ "Device-nGRE", VGM_CACHE_DEVICE_nGRE },
		{ "Device-GRE", VGM_CACHE_DEVICE_GRE },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(type, names[i].name))
			return names[i].cache;
	return VGM_CACHE_UNKNOWN;
}

/* ----------------------------------------------------------------- hooks */

int vgm_hook_path(int fd, char *path, size_t n)
{
	return debugfs_dev_file(fd, "virtio-gpu-hostmap", path, n);
}

void vgm_require_hook(int fd)
{
	char path[PATH_MAX];

	igt_require_f(vgm_hook_path(fd, path, sizeof(path)) == 0,
		      "no debugfs test hook dri/N/virtio-gpu-hostmap: this kernel cannot unmap a blob on the host on request\n");
}

/**
 * vgm_hook: "unmap" or "remap" a blob of ours on the host
 *
 * Returns: 0 or -errno of the write.
 */
int vgm_hook(int fd, const char *cmd, uint32_t handle)
{
	char path[PATH_MAX], buf[64];
	int hfd, len, ret = 0;

	ret = vgm_hook_path(fd, path, sizeof(path));
	if (ret)
		return ret;
	hfd = open(path, O_WRONLY | O_CLOEXEC);
	if (hfd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%s %d %u", cmd, fd, handle);
	if (write(hfd, buf, len) != len)
		ret = -errno;
	close(hfd);
	return ret;
}

int vgm_param_get(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' || c == '1';
}

int vgm_param_set(const char *path, bool on)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, on ? "Y\n" : "N\n", 2) != 2)
		ret = -errno;
	close(fd);
	return ret;
}

int vgm_strict_get(void)
{
	return vgm_param_get(VGM_STRICT_PARAM);
}

int vgm_strict_set(bool on)
{
	return vgm_param_set(VGM_STRICT_PARAM, on);
}

/* ------------------------------------------------------------ slow host */

void vgm_require_tsc_clock(void)
{
	char *clock = vgm_read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", NULL);

	/*
	 * jiffies stand still while the host holds QEMU's main loop; a CPU
	 * counter does not: x86's TSC, arm64's generic timer counter (TCG
	 * computes CNTVCT from QEMU's virtual clock, which needs no main loop)
	 */
#if defined(__aarch64__) || defined(__arm__)
	igt_require_f(clock && !strncmp(clock, "arch_sys_counter", 16),
		      "the guest's clock is '%.20s', not the generic timer's counter (arch_sys_counter): it does not run while the host holds the answer\n",
		      clock ?: "?");
#else
	igt_require_f(clock && !strncmp(clock, "tsc", 3),
		      "the guest's clock is '%.20s', not the TSC: it does not run while the host holds the answer (boot with tsc_early_khz=)\n",
		      clock ?: "?");
#endif
	free(clock);
}

static cpu_set_t hold_cpus;
static bool hold_cpus_saved;

void vgm_hold_begin(void)
{
	struct sched_param fifo = { .sched_priority = 1 };
	cpu_set_t cpu;

	igt_assert_f(mlockall(MCL_CURRENT) == 0, "mlockall: %s\n", strerror(errno));
	hold_cpus_saved = sched_getaffinity(0, sizeof(hold_cpus), &hold_cpus) == 0;
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu(), &cpu);
	igt_assert_f(sched_setaffinity(0, sizeof(cpu), &cpu) == 0, "sched_setaffinity: %s\n", strerror(errno));
	igt_require_f(sched_setscheduler(0, SCHED_FIFO, &fifo) == 0, "SCHED_FIFO: %s\n", strerror(errno));
}

void vgm_hold_parent(void)
{
	struct sched_param other = {};

	igt_assert_f(sched_setscheduler(0, SCHED_OTHER, &other) == 0, "SCHED_OTHER: %s\n", strerror(errno));
}

void vgm_hold_end(void)
{
	struct sched_param other = {};

	sched_setscheduler(0, SCHED_OTHER, &other);
	if (hold_cpus_saved)
		sched_setaffinity(0, sizeof(hold_cpus), &hold_cpus);
	hold_cpus_saved = false;
	munlockall();
}

int vgm_reap(pid_t pid, uint64_t timeout_ns, int *status, uint64_t *waited_ns)
{
	struct timespec start = {};
	pid_t r;

	igt_gettime(&start);
	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		*waited_ns = igt_nsec_elapsed(&start);
		if (r == pid)
			return 0;
		igt_assert_f(r == 0, "waitpid(%d): %s\n", pid, strerror(errno));
		if (*waited_ns >= timeout_ns)
			return -ETIMEDOUT;
		sched_yield();
	}
}

/* ------------------------------------------------------------ kernel log */

int vgm_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

void vgm_kmsg_assert_clean(int fd, const char *what)
{
	static const char *const splats[] = {
		"WARNING:", "BUG:", "Oops", "KASAN", "possible circular locking",
		"possible recursive locking", "blocked for more than", "Kernel panic",
		"UBSAN", "refcount_t:", "list_add corruption", "list_del corruption",
		"general protection", "bad page map", "Bad page",
	};
	char rec[2048];
	ssize_t r;
	size_t i;

	igt_require_f(fd >= 0, "cannot read /dev/kmsg\n");
	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on with the next */
		if (r <= 0)
			break;
		rec[r] = '\0';
		for (i = 0; i < ARRAY_SIZE(splats); i++)
			igt_assert_f(!strstr(rec, splats[i]), "%s: the kernel logged a splat: %s", what,
				     strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
	}
	close(fd);
}

/* ---------------------------------------------------------------- faults */

static __thread sigjmp_buf *volatile probe_jmp;
static __thread volatile sig_atomic_t probe_sig;
static __thread volatile int probe_code;
static __thread void *volatile probe_addr;
static struct sigaction old_bus, old_segv;
static int installed;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;

	if (probe_jmp) {
		probe_sig = sig;
		probe_code = si ? si->si_code : 0;
		probe_addr = si ? si->si_addr : NULL;
		siglongjmp(*probe_jmp, 1);
	}
	/* not ours: what was there before (the harness reports a crash) */
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uc);
	} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
	} else {
		signal(sig, SIG_DFL);
		raise(sig);
	}
}

/**
 * vgm_sigbus_install: let vgm_probe_*() catch SIGBUS and SIGSEGV
 *
 * Process-wide; faults outside a probe go to the previous handlers.
 */
void vgm_sigbus_install(void)
{
	struct sigaction sa = { .sa_sigaction = probe_handler, .sa_flags = SA_SIGINFO };

	if (installed++)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
}

void vgm_sigbus_restore(void)
{
	if (!installed || --installed)
		return;
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
}

int vgm_probe_read(const volatile void *p, uint32_t *val)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 1)) {
		probe_jmp = NULL;
		return probe_sig;
	}
	probe_jmp = &jb;
	*val = *(const volatile uint32_t *)p;
	probe_jmp = NULL;
	return 0;
}

int vgm_probe_call(void (*fn)(void *), void *arg, struct vgm_fault *f)
{
	sigjmp_buf jb;

	if (f)
		memset(f, 0, sizeof(*f));
	if (sigsetjmp(jb, 1)) {
		probe_jmp = NULL;
		if (f) {
			f->sig = probe_sig;
			f->code = probe_code;
			f->addr = (uintptr_t)probe_addr;
		}
		return probe_sig;
	}
	probe_jmp = &jb;
	fn(arg);
	probe_jmp = NULL;
	return 0;
}

const char *vgm_fault_desc(const struct vgm_fault *f, char *buf, size_t n)
{
	const char *code = "";

	if (f->sig == SIGBUS)
		code = f->code == BUS_ADRALN ? "BUS_ADRALN: alignment fault" :
		       f->code == BUS_ADRERR ? "BUS_ADRERR" :
		       f->code == BUS_OBJERR ? "BUS_OBJERR" : "";
	else if (f->sig == SIGSEGV)
		code = f->code == SEGV_MAPERR ? "SEGV_MAPERR" :
		       f->code == SEGV_ACCERR ? "SEGV_ACCERR" : "";
	snprintf(buf, n, "%s (%s%ssi_code %d, at 0x%" PRIx64 ")", f->sig ? strsignal(f->sig) : "no signal",
		 code, *code ? ", " : "", f->code, f->addr);
	return buf;
}

int vgm_probe_write(volatile void *p, uint32_t val)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 1)) {
		probe_jmp = NULL;
		return probe_sig;
	}
	probe_jmp = &jb;
	*(volatile uint32_t *)p = val;
	probe_jmp = NULL;
	return 0;
}

/*
 * Subtests that fill the whole host-visible window prove the same in every
 * host mode and take up to 20 s each in a 4G window under TCG: they run in
 * the host mode wc only (and wherever VGM_HOST_MAPINFO is not set).
 */
void vgm_require_window_cell(void)
{
	const char *m = getenv("VGM_HOST_MAPINFO");

	igt_require_f(!m || !strcmp(m, "wc"),
		      "fills the window: runs in the host mode wc only (this run: %s)\n", m);
}
