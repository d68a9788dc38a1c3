// SPDX-License-Identifier: MIT
/*
 * virtgpu_map_gup: mappings of host-visible virtio-gpu blobs under the
 * kernel's own users of user memory (get_user_pages, uaccess, ptrace),
 * across fork, dma-buf lifetimes, PMD splits, a full window and reuse of
 * window space, and racing with the host revoking blobs.
 */

/**
 * TEST: virtgpu map gup
 * Category: Core
 * Mega feature: General Core features
 * Sub-category: Memory management
 * Functionality: virtio-gpu host-visible blob mappings
 * Test category: functionality test
 * Description: The kernel's users of user memory on a mapping of a
 *		host-visible blob (get_user_pages callers, uaccess, ptrace)
 *		fail cleanly or work with the right bytes; a revoke by the
 *		host (debugfs hook dri/N/virtio-gpu-hostmap) reaches forked
 *		children and dma-buf mappings that outlive their exporter;
 *		PMD mappings survive partial munmap and mprotect and are not
 *		used where the user address does not allow them; the window
 *		holds as many blobs of mixed sizes as the stock placement; a
 *		new blob at a freed or revoked blob's window offset shows only
 *		its own memory. Subtests skip on runs where the guest refuses
 *		to map the blobs, and those that need the hook on kernels
 *		without it (stock).
 *
 * SUBTEST: gup-users
 * Description: On a mapping of a blob that no page was touched through:
 *		MADV_POPULATE_READ/WRITE, process_vm_readv/writev on the own
 *		process with the mapping as the remote iovec, vmsplice of the
 *		mapping into a pipe, io_uring buffer registration and an
 *		O_DIRECT read of a 9p file into it (all get_user_pages users,
 *		which cannot pin PFN mappings) succeed or fail with a clean
 *		errno (EFAULT, EINVAL, EOPNOTSUPP, ENOSYS, EIO, EPERM), never
 *		hang or splat, and what a successful one wrote is what the
 *		blob holds. process_vm_readv/writev with the mapping as the
 *		local iovec, vmsplice from a pipe into it and O_DIRECT
 *		I/O with a tmpfs file go through uaccess and its faults: they
 *		must succeed. Every byte is checked through a second mapping.
 *
 * SUBTEST: ptrace-readonly
 * Description: A dma-buf exported without DRM_RDWR, mapped PROT_READ and
 *		MAP_SHARED in a traced child: PTRACE_PEEKDATA reads the
 *		blob's bytes (the .access path; a kernel without
 *		VIRTGPU_PARAM_MAP_CACHING has none and EIO is accepted there),
 *		PTRACE_POKEDATA fails with EIO and the blob keeps its bytes.
 *
 * SUBTEST: fork-revoke
 * Description: A forked child reads the parent's mapping of a touched
 *		blob (4 MiB + 4 KiB: PMD and PTE entries) and its own page
 *		tables show every page present; the parent has the host unmap
 *		the blob (debugfs hook): every page of the child's mapping then
 *		raises SIGBUS on read and on write.
 *
 * SUBTEST: dmabuf-outlives-revoke
 * Description: A dma-buf mapping of a touched blob outlives the GEM
 *		handle and the DRM file that exported it; a second DRM file
 *		imports the dma-buf (the same object) and has the host unmap
 *		the blob: every page of the dma-buf mapping raises SIGBUS;
 *		after a remap through that file the mapping faults in again,
 *		keeps what is written, and has the cache mode of the new
 *		answer, which RESOURCE_INFO reports.
 *
 * SUBTEST: pmd-partial-munmap
 * Description: A blob of 6 MiB (at least two 2 MiB-aligned parts wherever
 *		it landed in the window) is mapped and touched; 4 KiB in the
 *		middle of its first 2 MiB-aligned part are unmapped. The rest
 *		keeps the blob's bytes page by page (checked against a second
 *		mapping, both ways), the hole raises SIGSEGV and is not in the
 *		page tables, the split part is mapped by 4 KiB PTEs, the next
 *		2 MiB-aligned part is still one PMD entry (kernels with
 *		VIRTGPU_PARAM_MAP_CACHING; stock maps 4 KiB PTEs at mmap), all
 *		with one cache mode, the host's.
 *
 * SUBTEST: pmd-partial-mprotect
 * Description: The same with mprotect(PROT_READ) of the 4 KiB: the page
 *		reads the blob's bytes through a read-only 4 KiB PTE, writing it
 *		raises SIGSEGV, the pages around it stay writable and keep
 *		their bytes, the split part is mapped by 4 KiB PTEs and the
 *		next 2 MiB-aligned part by a PMD entry, with one cache mode.
 *
 * SUBTEST: pmd-misaligned-fixed
 * Description: A 4 MiB blob mapped with MAP_FIXED at a user address 64 KiB
 *		off its physical address modulo 2 MiB maps (PMD alignment is
 *		a preference), by 4 KiB PTEs only, and every page is the
 *		blob's: what a normal mapping wrote reads through it and the
 *		other way round, with the same cache mode.
 *
 * SUBTEST: capacity-mixed
 * Description: Blobs of 4 KiB, 2 MiB + 4 KiB, 64 KiB, 3 MiB and 1 MiB, in
 *		turn, are created and mapped in an empty window until ENOSPC:
 *		exactly as many fit as the stock placement (drm_mm best fit,
 *		no padding) fits, simulated by the test from the window's size
 *		as the device reports it, and kernels that list their blobs in
 *		debugfs place each one at the simulated offset. Windows above
 *		96 MiB are first filled with 256 MiB and 32 MiB blobs down to
 *		their last 64..96 MiB, so that at most some 80 blobs are
 *		counted.
 *
 * SUBTEST: close-race
 * Description: Four forked children create, map (DRM file and dma-buf),
 *		touch and close blobs for 2 s on a shared DRM file while the
 *		parent unmaps and remaps on the host every handle it finds:
 *		the hook succeeds or fails with ENOENT, ENXIO or ENOSPC, the
 *		children see data, SIGBUS or ENODEV and nothing else, every
 *		child exits within its deadline, the kernel logs no splat and
 *		the window is empty again once everything is closed.
 *
 * SUBTEST: reused-address
 * Description: A blob is mapped, touched and freed; once it has left the
 *		window, new blobs of its size are made until one lands at its
 *		offset. The host copies known bytes into the new blob, and a
 *		new mapping shows exactly those, with the new blob's
 *		attribute. With the debugfs hook, the same after the host
 *		unmapped a blob whose DRM and dma-buf mappings stay: a new
 *		blob takes its window space, and every page of the old
 *		mappings raises SIGBUS instead of reaching the new blob,
 *		whose bytes stay as written.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/io_uring.h>

#include "igt_harness.h"
#include "virtgpu_map_lib.h"

IGT_TEST_DESCRIPTION("Host-visible virtio-gpu blob mappings under get_user_pages users, ptrace, fork, dma-buf lifetimes, PMD splits, a full window, window reuse and revoke races.");

#define SIZE (64 * VGM_KIB)
#define HUGE_SIZE (4 * VGM_MIB + 4 * VGM_KIB)

/* ------------------------------------------------------------- helpers */

static uint64_t ms_to_ns(uint64_t ms)
{
	return ms * 1000000ull;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* the 8 bytes at byte offset @i of a blob filled by fill_pattern(@seed) */
static uint64_t pattern_word(uint32_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | seed);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

static void fill_pattern(void *p, uint64_t len, uint32_t seed)
{
	volatile uint64_t *q = p;
	uint64_t i;

	for (i = 0; i < len / 8; i++)
		q[i] = pattern_word(seed, i * 8);
}

/* write stamps for pages [first, first + n) of the blob mapped at @view */
static void write_pages(uint8_t *view, uint64_t first, uint64_t n, uint32_t seed)
{
	uint64_t i;

	for (i = first; i < first + n; i++) {
		*(volatile uint32_t *)(view + i * VGM_PAGE) = vgm_stamp(seed, i);
		*(volatile uint32_t *)(view + i * VGM_PAGE + VGM_PAGE - 4) = ~vgm_stamp(seed, i);
	}
}

/* first page of [first, first + n) without its stamps, or -1 */
static int64_t check_pages(const uint8_t *view, uint64_t first, uint64_t n, uint32_t seed)
{
	uint64_t i;

	for (i = first; i < first + n; i++)
		if (*(const volatile uint32_t *)(view + i * VGM_PAGE) != vgm_stamp(seed, i) ||
		    *(const volatile uint32_t *)(view + i * VGM_PAGE + VGM_PAGE - 4) != ~vgm_stamp(seed, i))
			return (int64_t)i;
	return -1;
}

static bool clean_errno(int err)
{
	switch (err) {
	case EFAULT:
	case EINVAL:
	case EOPNOTSUPP:
	case ENOSYS:
	case EIO:
	case EPERM:
		return true;
	default:
		return false;
	}
}

static int prime_import(int fd, int dmabuf, uint32_t *handle)
{
	struct drm_prime_handle ph = { .fd = dmabuf };

	if (igt_ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph))
		return -errno;
	*handle = ph.handle;
	return 0;
}

static int gem_close_raw(int fd, uint32_t handle)
{
	struct drm_gem_close gc = { .handle = handle };

	return igt_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc) ? -errno : 0;
}

/* read one byte from @fd within @timeout_ms: true if it came */
static bool wait_byte(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return read(fd, &c, 1) == 1;
}

/* a child that is gone does not read it: its reaper says why (no SIGPIPE here) */
static void send_byte(int fd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	ssize_t r;

	sigaction(SIGPIPE, &ign, &old);
	r = write(fd, "x", 1);
	sigaction(SIGPIPE, &old, NULL);
	(void)r;
}

/*
 * File descriptors a failed subtest would leave open (a second DRM file, a
 * dma-buf): they would keep blobs in the window for the next subtests.
 * Every subtest starts by closing what the previous one left.
 */
static int strays[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };

static int stray(int fd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(strays); i++) {
		if (strays[i] < 0) {
			strays[i] = fd;
			break;
		}
	}
	return fd;
}

static void stray_close(int fd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(strays); i++)
		if (strays[i] == fd)
			strays[i] = -1;
	close(fd);
}

static void strays_release(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(strays); i++) {
		if (strays[i] >= 0)
			close(strays[i]);
		strays[i] = -1;
	}
}

/* vgm_ctx_open(), after closing what the previous subtest left open */
static void open_ctx(struct vgm_ctx *c)
{
	strays_release();
	vgm_ctx_open(c);
}

/*
 * Children forked without igt_fork(): their waits have deadlines and a
 * stuck one is named. A child reports through a pipe ("FAIL ..." makes
 * it a failure, other lines are logged) and must end with _exit(); it
 * must not use igt_assert*(), which would carry on in the parent's
 * subtest.
 */
struct kid {
	pid_t pid;
	int msg;		/* read end of the child's report pipe */
	int status;
	bool reaped;
};

static void __attribute__((format(printf, 2, 3))) kid_say(int out, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(out, buf, n) != n)
		_exit(3);
}

#define kid_fail(out, fmt...) do { kid_say(out, "FAIL " fmt); _exit(1); } while (0)

static void kid_start(struct kid *k, void (*fn)(int out, void *arg), void *arg)
{
	int fds[2];

	igt_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	fflush(NULL);
	memset(k, 0, sizeof(*k));
	k->pid = fork();
	igt_assert_f(k->pid >= 0, "fork: %s\n", strerror(errno));
	if (k->pid == 0) {
		/* the harness's crash handler belongs to the parent */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		close(fds[0]);
		fn(fds[1], arg);
		_exit(0);
	}
	close(fds[1]);
	k->msg = fds[0];
}

/* a task's state letter and wait channel, for a stuck child */
static void task_where(pid_t pid, char *buf, size_t n)
{
	char path[64], *stat, *wchan, *c;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	stat = vgm_read_file(path, NULL);
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	wchan = vgm_read_file(path, NULL);
	c = stat ? strrchr(stat, ')') : NULL;
	snprintf(buf, n, "state %c, wchan %s", c && c[1] == ' ' ? c[2] : '?',
		 wchan && *wchan ? wchan : "?");
	free(stat);
	free(wchan);
}

/*
 * Reap @n children within @timeout_ms, then SIGKILL what is left and give
 * it 5 s more. Fails for a child that did not end in time, ended other
 * than with exit status 0, or reported a failure; logs the rest of what
 * they said.
 */
static void kids_reap(struct kid *k, int n, uint64_t timeout_ms, const char *what)
{
	char fail[640] = "", where[128] = "", line[600];
	struct timespec start = {};
	int i, left = n, stuck = -1, bad = -1;
	bool killed = false;

	igt_gettime(&start);
	while (left) {
		for (i = 0; i < n; i++) {
			if (k[i].reaped)
				continue;
			if (waitpid(k[i].pid, &k[i].status, WNOHANG) == k[i].pid) {
				k[i].reaped = true;
				left--;
			}
		}
		if (!left)
			break;
		if (!killed && igt_nsec_elapsed(&start) > ms_to_ns(timeout_ms)) {
			for (i = 0; i < n; i++) {
				if (!k[i].reaped) {
					if (stuck < 0) {
						stuck = i;
						task_where(k[i].pid, where, sizeof(where));
					}
					kill(k[i].pid, SIGKILL);
				}
			}
			killed = true;
		}
		if (killed && igt_nsec_elapsed(&start) > ms_to_ns(timeout_ms + 5000))
			break;
		usleep(2000);
	}

	for (i = 0; i < n; i++) {
		FILE *f;

		fcntl(k[i].msg, F_SETFL, O_NONBLOCK);
		f = fdopen(k[i].msg, "r");
		igt_assert(f);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (!strncmp(line, "FAIL ", 5)) {
				if (!fail[0])
					snprintf(fail, sizeof(fail), "%s child %d: %s", what, i, line + 5);
			} else {
				igt_info("%s child %d: %s\n", what, i, line);
			}
		}
		fclose(f);
		if (k[i].reaped && bad < 0 &&
		    !(WIFEXITED(k[i].status) && WEXITSTATUS(k[i].status) == 0))
			bad = i;
	}
	igt_assert_f(stuck < 0, "%s child %d did not finish within %" PRIu64 " s (%s)%s\n",
		     what, stuck, timeout_ms / 1000, where,
		     left ? ", and SIGKILL did not end it within 5 s: stuck in the kernel" : "");
	igt_assert_f(!fail[0], "%s\n", fail);
	igt_assert_f(bad < 0, "%s child %d ended with %s %d\n", what, bad,
		     WIFSIGNALED(k[bad < 0 ? 0 : bad].status) ? "signal" : "exit status",
		     WIFSIGNALED(k[bad < 0 ? 0 : bad].status) ? WTERMSIG(k[bad < 0 ? 0 : bad].status) :
		     WEXITSTATUS(k[bad < 0 ? 0 : bad].status));
}

/* every page of [p, p + len) raises SIGBUS on read and write; else the first bad page */
static int64_t first_not_sigbus(uint8_t *p, uint64_t len, uint32_t *val, int *sig)
{
	uint64_t i;

	for (i = 0; i < len / VGM_PAGE; i++) {
		*sig = vgm_probe_read(p + i * VGM_PAGE, val);
		if (*sig != SIGBUS)
			return (int64_t)i;
		*sig = vgm_probe_write(p + i * VGM_PAGE + 8, 0xdeadbeef);
		if (*sig != SIGBUS) {
			*val = 0;
			return (int64_t)i;
		}
	}
	return -1;
}

static void assert_all_sigbus(uint8_t *p, uint64_t len, const char *what)
{
	int64_t bad;
	uint32_t v = 0;
	int sig = 0;

	vgm_sigbus_install();
	bad = first_not_sigbus(p, len, &v, &sig);
	vgm_sigbus_restore();
	igt_assert_f(bad < 0, "%s: page %" PRId64 " %s after the host unmapped the blob, expected SIGBUS\n",
		     what, bad, !sig ? "can still be accessed (a stale PTE or a fault that maps a revoked blob)" :
		     sig == SIGSEGV ? "raises SIGSEGV" : "raises another signal");
}

/* ---------------------------------------------------------- gup-users */

#define GUP_SIZE (128 * VGM_KIB)
#define GUP_CHUNK (2 * VGM_PAGE)

/* page slots of the gup-users blob, GUP_CHUNK each */
enum {
	SLOT_DIRECT_WRITE_SRC,		/* pwrite(O_DIRECT, tmpfs) from the blob */
	SLOT_VM_READV_LOCAL,		/* process_vm_readv into the blob (local) */
	SLOT_VM_WRITEV_LOCAL,		/* process_vm_writev from the blob (local) */
	SLOT_VM_READV_REMOTE,		/* process_vm_readv from the blob (remote) */
	SLOT_VM_WRITEV_REMOTE,		/* process_vm_writev into the blob (remote) */
	SLOT_VMSPLICE_IN,		/* vmsplice of the blob into a pipe */
	SLOT_VMSPLICE_OUT,		/* vmsplice from a pipe into the blob */
	SLOT_DIRECT_READ_9P,		/* pread(O_DIRECT, 9p) into the blob */
	SLOT_DIRECT_READ_TMPFS,		/* pread(O_DIRECT, tmpfs) into the blob */
	NSLOTS
};

struct gup {
	uint8_t *p;		/* the mapping under test */
	uint8_t *shadow;	/* what the blob must hold */
	char log[1024];
	size_t used;
};

static uint8_t *slot(struct gup *g, int s)
{
	return g->p + s * GUP_CHUNK;
}

static void gup_log(struct gup *g, const char *name, ssize_t r, int err)
{
	g->used += snprintf(g->log + g->used, g->used < sizeof(g->log) ? sizeof(g->log) - g->used : 0,
			    "%s%s: %s", g->used ? "; " : "", name,
			    r < 0 ? strerror(err) : "ok");
}

/* a get_user_pages user: success, or a clean errno */
static void gup_judge(struct gup *g, const char *name, ssize_t r, int err, ssize_t want)
{
	gup_log(g, name, r, err);
	igt_assert_f(r == want || (r < 0 && clean_errno(err)),
		     "%s on a blob mapping: %s, expected %zd bytes or a clean errno (EFAULT, EINVAL, EOPNOTSUPP, ENOSYS, EIO, EPERM)\n",
		     name, r < 0 ? strerror(err) : "a short transfer", want);
}

/* a uaccess user (the kernel copies to or from the mapping, faulting it in): must work */
static void uaccess_judge(struct gup *g, const char *name, ssize_t r, int err, ssize_t want)
{
	gup_log(g, name, r, err);
	igt_assert_f(r == want,
		     "%s with the blob mapping as the user buffer: %s, expected %zd bytes (the kernel's copy faults the mapping in, as read() and write() do)\n",
		     name, r < 0 ? strerror(err) : "a short transfer", want);
}

static void gup_populate(struct gup *g)
{
	int r, err;

	r = madvise(g->p, GUP_SIZE, MADV_POPULATE_READ);
	err = errno;
	gup_judge(g, "MADV_POPULATE_READ", r, err, 0);
	r = madvise(g->p, GUP_SIZE, MADV_POPULATE_WRITE);
	err = errno;
	gup_judge(g, "MADV_POPULATE_WRITE", r, err, 0);
	/* nothing is written: the bytes are checked with the rest at the end */
}

static void gup_process_vm(struct gup *g)
{
	uint8_t buf[GUP_CHUNK];
	struct iovec local, remote;
	pid_t self = getpid();
	ssize_t r;
	int err;

	/* the blob as the local iovec: the kernel copies with uaccess */
	fill_pattern(buf, sizeof(buf), 71);
	local = (struct iovec){ slot(g, SLOT_VM_READV_LOCAL), GUP_CHUNK };
	remote = (struct iovec){ buf, sizeof(buf) };
	r = process_vm_readv(self, &local, 1, &remote, 1, 0);
	err = errno;
	uaccess_judge(g, "process_vm_readv into the mapping (local)", r, err, GUP_CHUNK);
	memcpy(g->shadow + SLOT_VM_READV_LOCAL * GUP_CHUNK, buf, sizeof(buf));

	memset(buf, 0, sizeof(buf));
	local = (struct iovec){ slot(g, SLOT_VM_WRITEV_LOCAL), GUP_CHUNK };
	remote = (struct iovec){ buf, sizeof(buf) };
	r = process_vm_writev(self, &local, 1, &remote, 1, 0);
	err = errno;
	uaccess_judge(g, "process_vm_writev from the mapping (local)", r, err, GUP_CHUNK);
	igt_assert_f(!memcmp(buf, g->shadow + SLOT_VM_WRITEV_LOCAL * GUP_CHUNK, sizeof(buf)),
		     "process_vm_writev from the blob mapping copied other bytes than the blob holds\n");

	/* the blob as the remote iovec: pin_user_pages_remote() */
	memset(buf, 0, sizeof(buf));
	local = (struct iovec){ buf, sizeof(buf) };
	remote = (struct iovec){ slot(g, SLOT_VM_READV_REMOTE), GUP_CHUNK };
	r = process_vm_readv(self, &local, 1, &remote, 1, 0);
	err = errno;
	gup_judge(g, "process_vm_readv from the mapping (remote)", r, err, GUP_CHUNK);
	if (r == GUP_CHUNK)
		igt_assert_f(!memcmp(buf, g->shadow + SLOT_VM_READV_REMOTE * GUP_CHUNK, sizeof(buf)),
			     "process_vm_readv of the blob mapping (remote) read other bytes than the blob holds\n");

	fill_pattern(buf, sizeof(buf), 72);
	local = (struct iovec){ buf, sizeof(buf) };
	remote = (struct iovec){ slot(g, SLOT_VM_WRITEV_REMOTE), GUP_CHUNK };
	r = process_vm_writev(self, &local, 1, &remote, 1, 0);
	err = errno;
	gup_judge(g, "process_vm_writev into the mapping (remote)", r, err, GUP_CHUNK);
	if (r == GUP_CHUNK)
		memcpy(g->shadow + SLOT_VM_WRITEV_REMOTE * GUP_CHUNK, buf, sizeof(buf));
}

static void gup_vmsplice(struct gup *g)
{
	uint8_t buf[GUP_CHUNK];
	struct iovec iov;
	int fds[2], err;
	ssize_t r;

	/* F_SETPIPE_SZ is not needed: 8 KiB fit the default 64 KiB pipe */
	igt_assert_eq(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);

	iov = (struct iovec){ slot(g, SLOT_VMSPLICE_IN), GUP_CHUNK };
	r = vmsplice(fds[1], &iov, 1, 0);
	err = errno;
	gup_judge(g, "vmsplice of the mapping into a pipe", r, err, GUP_CHUNK);
	if (r > 0) {
		memset(buf, 0, sizeof(buf));
		igt_assert_eq(read(fds[0], buf, r), r);
		igt_assert_f(!memcmp(buf, g->shadow + SLOT_VMSPLICE_IN * GUP_CHUNK, r),
			     "vmsplice of the blob mapping put other bytes than the blob holds into the pipe\n");
	}

	/* the other way, pipe to user memory: a uaccess copy */
	fill_pattern(buf, sizeof(buf), 73);
	igt_assert_eq(write(fds[1], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	iov = (struct iovec){ slot(g, SLOT_VMSPLICE_OUT), GUP_CHUNK };
	r = vmsplice(fds[0], &iov, 1, 0);
	err = errno;
	uaccess_judge(g, "vmsplice from a pipe into the mapping", r, err, GUP_CHUNK);
	memcpy(g->shadow + SLOT_VMSPLICE_OUT * GUP_CHUNK, buf, sizeof(buf));
	close(fds[0]);
	close(fds[1]);
}

static void gup_io_uring(struct gup *g)
{
	struct io_uring_params params = {};
	struct iovec iov = { g->p, GUP_SIZE };
	int ring, err;
	long r;

	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0) {
		err = errno;
		gup_log(g, "io_uring_setup", -1, err);
		igt_info("io_uring_setup: %s: %s; io_uring buffer registration not tried\n", strerror(err),
			 err == ENOSYS ? "io_uring is not built in" :
			 err == EPERM ? "io_uring is disabled (kernel.io_uring_disabled)" : "io_uring unavailable");
		return;
	}
	r = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1);
	err = errno;
	gup_judge(g, "IORING_REGISTER_BUFFERS of the mapping", r, err, 0);
	if (r == 0)
		syscall(__NR_io_uring_register, ring, IORING_UNREGISTER_BUFFERS, NULL, 0);
	close(ring);
}

#define V9FS_MAGIC 0x01021997
#define TMPFS_MAGIC 0x01021994

static void gup_direct_9p(struct gup *g)
{
	uint8_t ref[GUP_CHUNK];
	struct statfs sfs = {};
	int fd, plain, err;
	ssize_t r;

	/* the test's own binary: a file of the 9p root (or of the run directory, 9p too) */
	fd = open("/proc/self/exe", O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		gup_log(g, "open(O_DIRECT) of the test binary", -1, err);
		igt_info("open(/proc/self/exe, O_DIRECT): %s: its file system has no O_DIRECT; that part is not tried\n",
			 strerror(err));
		return;
	}
	fstatfs(fd, &sfs);
	plain = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	igt_assert_fd(plain);
	r = pread(plain, ref, sizeof(ref), 0);
	close(plain);
	igt_assert_f(r == (ssize_t)sizeof(ref), "reading the test binary: %s\n", r < 0 ? strerror(errno) : "short");

	r = pread(fd, slot(g, SLOT_DIRECT_READ_9P), GUP_CHUNK, 0);
	err = errno;
	close(fd);
	gup_judge(g, (unsigned long)sfs.f_type == V9FS_MAGIC ? "O_DIRECT read of a 9p file into the mapping" :
		  "O_DIRECT read of the test binary into the mapping", r, err, GUP_CHUNK);
	if (r == GUP_CHUNK)
		memcpy(g->shadow + SLOT_DIRECT_READ_9P * GUP_CHUNK, ref, sizeof(ref));
}

static void gup_direct_tmpfs(struct gup *g)
{
	char path[64];
	uint8_t buf[GUP_CHUNK];
	struct statfs sfs = {};
	int fd, plain, err;
	ssize_t r;

	snprintf(path, sizeof(path), "/tmp/virtgpu_map_gup.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		gup_log(g, "open(O_DIRECT) in /tmp", -1, err);
		igt_info("open(%s, O_DIRECT): %s: no O_DIRECT in /tmp; that part is not tried\n", path, strerror(err));
		return;
	}
	plain = open(path, O_RDWR | O_CLOEXEC);
	unlink(path);
	igt_assert_fd(plain);
	fstatfs(fd, &sfs);
	if ((unsigned long)sfs.f_type == TMPFS_MAGIC)
		igt_debug("/tmp is tmpfs: O_DIRECT I/O is copied, like buffered I/O\n");

	r = pwrite(fd, slot(g, SLOT_DIRECT_WRITE_SRC), GUP_CHUNK, 0);
	err = errno;
	gup_judge(g, "O_DIRECT write from the mapping (/tmp)", r, err, GUP_CHUNK);
	if (r == GUP_CHUNK) {
		igt_assert_eq(pread(plain, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
		igt_assert_f(!memcmp(buf, g->shadow + SLOT_DIRECT_WRITE_SRC * GUP_CHUNK, sizeof(buf)),
			     "an O_DIRECT write from the blob mapping wrote other bytes than the blob holds\n");
	}

	fill_pattern(buf, sizeof(buf), 74);
	igt_assert_eq(pwrite(plain, buf, sizeof(buf), GUP_CHUNK), (ssize_t)sizeof(buf));
	fsync(plain);
	r = pread(fd, slot(g, SLOT_DIRECT_READ_TMPFS), GUP_CHUNK, GUP_CHUNK);
	err = errno;
	gup_judge(g, "O_DIRECT read into the mapping (/tmp)", r, err, GUP_CHUNK);
	if (r == GUP_CHUNK)
		memcpy(g->shadow + SLOT_DIRECT_READ_TMPFS * GUP_CHUNK, buf, sizeof(buf));
	close(plain);
	close(fd);
}

static void test_gup_users(void)
{
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	struct gup g = {};
	uint8_t *q;
	uint64_t i;
	int err, kmsg;

	open_ctx(&c);
	vgm_blob_create(c.fd, GUP_SIZE, &b);
	g.p = vgm_map_or_skip(&c, &b, &e);
	fill_pattern(g.p, GUP_SIZE, 70);
	vgm_unmap(g.p, GUP_SIZE);
	g.shadow = malloc(GUP_SIZE);
	igt_assert(g.shadow);
	fill_pattern(g.shadow, GUP_SIZE, 70);

	/* a mapping no page was touched through: every user below faults first */
	g.p = __vgm_mmap(&b, 0, GUP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(g.p, "mapping the blob again failed: %s\n", strerror(err));
	vgm_track(g.p, GUP_SIZE);
	kmsg = vgm_kmsg_open();

	gup_populate(&g);
	gup_process_vm(&g);
	gup_vmsplice(&g);
	gup_io_uring(&g);
	gup_direct_9p(&g);
	gup_direct_tmpfs(&g);
	igt_info("%s\n", g.log);

	/* what the blob holds, through the mapping and through a new one */
	for (i = 0; i < GUP_SIZE / VGM_PAGE; i++)
		igt_assert_f(!memcmp(g.p + i * VGM_PAGE, g.shadow + i * VGM_PAGE, VGM_PAGE),
			     "page %" PRIu64 " (slot %" PRIu64 ") of the mapping does not hold what was written to the blob\n",
			     i, i * VGM_PAGE / GUP_CHUNK);
	q = __vgm_mmap(&b, 0, GUP_SIZE, PROT_READ, MAP_SHARED, &err);
	igt_assert_f(q, "a second mapping of the blob failed: %s\n", strerror(err));
	for (i = 0; i < GUP_SIZE / VGM_PAGE; i++) {
		if (memcmp(q + i * VGM_PAGE, g.shadow + i * VGM_PAGE, VGM_PAGE)) {
			munmap(q, GUP_SIZE);
			igt_assert_f(false,
				     "page %" PRIu64 " (slot %" PRIu64 ") of the blob, through a second mapping, does not hold what was written through the first: the write did not reach the blob\n",
				     i, i * VGM_PAGE / GUP_CHUNK);
		}
	}
	munmap(q, GUP_SIZE);
	vgm_kmsg_assert_clean(kmsg, "get_user_pages users of a blob mapping");

	free(g.shadow);
	vgm_unmap(g.p, GUP_SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* ----------------------------------------------------- ptrace-readonly */

static void stop_child(pid_t pid)
{
	uint64_t waited;
	int status;

	kill(pid, SIGKILL);
	vgm_reap(pid, ms_to_ns(10000), &status, &waited);
}

static void test_ptrace_readonly(void)
{
	struct timespec start = {};
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p, *ro;
	int dmabuf, ret, err, status = 0, peek_err, poke_err;
	long word, poke;
	int64_t bad;
	pid_t pid, r;

	open_ctx(&c);
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, SIZE, 80);

	ret = __vgm_prime_export_flags(c.fd, b.handle, DRM_CLOEXEC, &dmabuf);
	igt_assert_f(ret == 0, "PRIME_HANDLE_TO_FD without DRM_RDWR failed: %s\n", strerror(-ret));
	ro = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, dmabuf, 0);
	err = errno;
	close(dmabuf);
	igt_assert_f(ro != MAP_FAILED,
		     "a read-only shared mapping (PROT_READ, MAP_SHARED) of a read-only dma-buf failed: %s (it is no copy-on-write mapping: do_mmap() only cleared VM_SHARED and VM_MAYWRITE)\n",
		     strerror(err));
	vgm_track(ro, SIZE);
	vgm_assert_stamps(ro, SIZE, 80, "read-only dma-buf mapping");

	pid = fork();
	igt_assert(pid >= 0);
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		_exit(0);
	}
	igt_gettime(&start);
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && igt_nsec_elapsed(&start) < ms_to_ns(10000))
		usleep(1000);
	if (r != pid || !WIFSTOPPED(status)) {
		stop_child(pid);
		igt_assert_f(false, "the child did not stop for its tracer within 10 s (status 0x%x)\n", status);
	}

	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, pid, ro + 2 * VGM_PAGE, NULL);
	peek_err = errno;
	poke = ptrace(PTRACE_POKEDATA, pid, ro + 3 * VGM_PAGE, (void *)0x1122334455667788l);
	poke_err = errno;
	stop_child(pid);

	igt_info("PTRACE_PEEKDATA of the read-only mapping: %s; PTRACE_POKEDATA: %s\n",
		 peek_err ? strerror(peek_err) : "read", poke ? strerror(poke_err) : "wrote");
	if (peek_err == EIO && !c.have_query)
		igt_info("PTRACE_PEEKDATA fails with EIO: this kernel has no .access for these mappings (stock)\n");
	else
		igt_assert_f(!peek_err && (uint32_t)word == vgm_stamp(80, 2),
			     "PTRACE_PEEKDATA of a child's read-only dma-buf mapping: %s, expected the blob's 0x%x\n",
			     peek_err ? strerror(peek_err) : "other bytes", vgm_stamp(80, 2));
	bad = vgm_check_stamps(p, SIZE, 80);
	igt_assert_f(poke == -1 && poke_err == EIO,
		     "PTRACE_POKEDATA into a child's read-only (PROT_READ, read-only dma-buf) mapping: %s, expected EIO%s\n",
		     poke ? strerror(poke_err) : "it wrote",
		     poke ? "" : " (the .access handler writes into mappings without VM_WRITE)");
	igt_assert_f(bad < 0, "page %" PRId64 " of the blob changed after a refused PTRACE_POKEDATA into its read-only mapping\n",
		     bad);

	vgm_unmap(ro, SIZE);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* -------------------------------------------------------- fork-revoke */

struct fork_revoke {
	uint8_t *p;
	uint64_t size;
	int go;			/* read end: the parent revoked */
	int ready;		/* write end: the child is set */
};

static void fork_revoke_child(int out, void *arg)
{
	struct fork_revoke *f = arg;
	struct vgm_ptdump pt;
	struct vgm_span s;
	int64_t bad;
	uint32_t v = 0;
	int sig = 0, ret;

	bad = check_pages(f->p, 0, f->size / VGM_PAGE, 90);
	if (bad >= 0)
		kid_fail(out, "page %" PRId64 " of the inherited mapping does not hold what the parent wrote", bad);
	ret = vgm_ptdump_read(&pt, f->p, f->size);
	if (ret)
		kid_fail(out, "cannot read the child's page tables (%s): %s", vgm_pt_source_name(), strerror(-ret));
	vgm_ptdump_span(&pt, (uintptr_t)f->p, f->size, &s);
	vgm_ptdump_free(&pt);
	if (s.missing)
		kid_fail(out, "%" PRIu64 " KiB of the child's mapping are not in its page tables after it read every page",
			 s.missing / 1024);
	kid_say(out, "before the revoke: %" PRIu64 " KiB in PMD entries, %" PRIu64 " KiB in PTEs, cache %s",
		s.pmd_bytes / 1024, s.pte_bytes / 1024, vgm_cache_name(s.cache));

	if (write(f->ready, "x", 1) != 1)
		kid_fail(out, "cannot tell the parent: %s", strerror(errno));
	if (!wait_byte(f->go, 10000))
		kid_fail(out, "the parent did not revoke the blob within 10 s");

	vgm_sigbus_install();
	bad = first_not_sigbus(f->p, f->size, &v, &sig);
	if (bad >= 0)
		kid_fail(out, "page %" PRId64 " of the child's mapping %s after the parent had the host unmap the blob, expected SIGBUS%s",
			 bad, !sig ? "is still accessible" : sig == SIGSEGV ? "raises SIGSEGV" : "raises another signal",
			 !sig ? " (its PTEs were not zapped: only the revoking process's were?)" : "");
}

static void test_fork_revoke(void)
{
	struct fork_revoke f;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	int ready[2], go[2], ret;
	struct kid k;

	open_ctx(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, HUGE_SIZE, &b);
	f.p = vgm_map_or_skip(&c, &b, &e);
	f.size = HUGE_SIZE;
	vgm_write_stamps(f.p, f.size, 90);

	igt_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	igt_assert_eq(pipe2(go, O_CLOEXEC), 0);
	f.ready = ready[1];
	f.go = go[0];
	kid_start(&k, fork_revoke_child, &f);
	/* the child's ends: a child that dies closes the pipe, no wait for nothing */
	close(ready[1]);
	close(go[0]);

	if (!wait_byte(ready[0], 20000)) {
		/* the child failed, or is stuck: let the reaper say which */
		kids_reap(&k, 1, 1000, "fork-revoke");
		igt_assert_f(false, "the child never got ready\n");
	}
	ret = vgm_hook(c.fd, "unmap", b.handle);
	if (ret) {
		stop_child(k.pid);
		close(k.msg);
		igt_assert_f(false, "debugfs hook: unmap failed: %s\n", strerror(-ret));
	}
	send_byte(go[1]);
	kids_reap(&k, 1, 15000, "fork-revoke");
	assert_all_sigbus(f.p, f.size, "the parent's mapping");

	close(ready[0]);
	close(go[1]);
	vgm_unmap(f.p, f.size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* --------------------------------------------- dmabuf-outlives-revoke */

static void test_dmabuf_outlives_revoke(void)
{
	struct vgm_resource_info ri;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e, e2;
	uint32_t h2 = 0, v = 0;
	uint8_t *p, *d;
	int dmabuf, fd2, ret, err, sig, cache;

	open_ctx(&c);
	vgm_require_hook(c.fd);
	vgm_blob_create(c.fd, HUGE_SIZE, &b);
	/* whether this run maps at all, and the bytes to find again */
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_write_stamps(p, b.size, 100);
	vgm_unmap(p, b.size);

	ret = __vgm_prime_export(c.fd, b.handle, &dmabuf);
	igt_assert_f(ret == 0, "PRIME_HANDLE_TO_FD(DRM_RDWR) failed: %s\n", strerror(-ret));
	stray(dmabuf);
	d = mmap(NULL, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	err = errno;
	igt_assert_f(d != MAP_FAILED, "mmap of the dma-buf failed: %s\n", strerror(err));
	vgm_track(d, b.size);
	vgm_assert_stamps(d, b.size, 100, "dma-buf mapping");

	/* the exporter's handle and file go: the dma-buf keeps the object */
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
	vgm_assert_stamps(d, b.size, 100, "dma-buf mapping after its exporter's handle and DRM file were closed");

	/* another file imports it (the same GEM object) and revokes it */
	fd2 = stray(vgm_open_render());
	ret = prime_import(fd2, dmabuf, &h2);
	igt_assert_f(ret == 0, "PRIME_FD_TO_HANDLE of the dma-buf on a second DRM file failed: %s\n",
		     strerror(-ret));
	ret = vgm_hook(fd2, "unmap", h2);
	igt_assert_f(ret == 0, "debugfs hook: unmap through the importing file failed: %s\n", strerror(-ret));
	assert_all_sigbus(d, b.size, "dma-buf mapping that outlived its exporter's handle and file");

	ret = vgm_hook(fd2, "remap", h2);
	igt_assert_f(ret == 0, "debugfs hook: remap through the importing file failed: %s\n", strerror(-ret));
	vgm_sigbus_install();
	sig = vgm_probe_read(d, &v);
	vgm_sigbus_restore();
	if (sig) {
		ret = __vgm_query(fd2, h2, &ri);
		igt_assert_f(false,
			     "the dma-buf mapping raises %s after the host mapped the blob again (RESOURCE_INFO: %s, map_info 0x%x)\n",
			     strsignal(sig), ret ? strerror(-ret) : vgm_caching_name(ri.map_caching), ret ? 0 : ri.map_info);
	}
	igt_info("after the remap the first page holds %s\n",
		 v == vgm_stamp(100, 0) ? "the data from before" : "other data (the host did not keep it)");
	vgm_write_stamps(d, b.size, 101);
	vgm_assert_stamps(d, b.size, 101, "dma-buf mapping after the remap");

	ret = __vgm_query(fd2, h2, &ri);
	igt_assert_f(ret == 0, "RESOURCE_INFO through the importing file failed: %s\n", strerror(-ret));
	/* the host's answer to the remap (the context's fd is closed: only its run and kernel facts are used) */
	vgm_expect_blob(&c, &b, &ri, c.strict, &e2);
	igt_assert_f(ri.map_caching == e2.caching,
		     "after the remap RESOURCE_INFO reports %s, expected %s for the new answer (%s)\n",
		     vgm_caching_name(ri.map_caching), vgm_caching_name(e2.caching), e2.what);
	cache = vgm_assert_ptes(d, b.size, "dma-buf mapping after the remap");
	if (e2.cache != VGM_CACHE_ANY)
		igt_assert_f(cache == e2.cache,
			     "after the remap the dma-buf mapping maps host-%s memory as %s, expected %s\n",
			     vgm_attr_name(e2.attr), vgm_cache_name(cache), vgm_cache_name(e2.cache));

	vgm_unmap(d, b.size);
	stray_close(dmabuf);
	igt_assert_eq(gem_close_raw(fd2, h2), 0);
	stray_close(fd2);
}

/* ------------------------------------------------- pmd-partial-* */

#define PMD_BLOB (6 * VGM_MIB)
#define PMD_PAGES (PMD_BLOB / VGM_PAGE)
#define PMD_NR (VGM_PMD / VGM_PAGE)

struct pmd_case {
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint8_t *p;		/* the mapping that is cut */
	uint8_t *q;		/* a second mapping of the blob, to compare with */
	uint64_t r0;		/* first page of the first 2 MiB-aligned part of p */
	uint64_t hole;		/* the page cut out of it */
};

/*
 * A 6 MiB blob, mapped and touched: wherever it landed in the window, its
 * mapping (congruent to it modulo 2 MiB) holds two whole 2 MiB-aligned
 * parts, R0 and R1, which faults map by PMD entries where the kernel does.
 */
static void pmd_case_setup(struct pmd_case *s)
{
	int err;

	open_ctx(&s->c);
	vgm_blob_create_retry(s->c.fd, PMD_BLOB, &s->b);
	s->p = vgm_map_or_skip(&s->c, &s->b, &s->e);
	s->r0 = (align_up((uintptr_t)s->p, VGM_PMD) - (uintptr_t)s->p) / VGM_PAGE;
	s->hole = s->r0 + PMD_NR / 2;
	igt_assert(s->r0 + 2 * PMD_NR <= PMD_PAGES);
	/*
	 * R0 and R1 first: a 4 KiB fault just before them inserts up to 16
	 * PTEs, whose page table would take the slot of their PMD entry.
	 */
	write_pages(s->p, s->r0, 1, 110);
	write_pages(s->p, s->r0 + PMD_NR, 1, 110);
	write_pages(s->p, 0, PMD_PAGES, 110);
	s->q = __vgm_mmap(&s->b, 0, PMD_BLOB, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(s->q, "a second mapping of the blob failed: %s\n", strerror(err));
	vgm_track(s->q, PMD_BLOB);
}

static void assert_span(const struct vgm_ptdump *pt, uint8_t *p, uint64_t first, uint64_t n,
			const char *part, const char *what, struct vgm_span *s)
{
	vgm_ptdump_span(pt, (uintptr_t)(p + first * VGM_PAGE), n * VGM_PAGE, s);
	igt_assert_f(s->missing == 0,
		     "%s: %" PRIu64 " of the %" PRIu64 " KiB %s are not in the page tables after every page was read\n",
		     what, s->missing / 1024, n * VGM_PAGE / 1024, part);
}

/*
 * After the cut (munmap, or mprotect(PROT_READ) if @readonly) of the page
 * s->hole: the blob's bytes everywhere else, the hole as it must be, the
 * page tables of R0 (4 KiB PTEs), R1 (a PMD entry where the kernel maps
 * them) and of the whole mapping (one cache mode, the host's), and every
 * page the blob's own, through a second mapping both ways.
 */
static void pmd_case_check(struct pmd_case *s, bool readonly, const char *what)
{
	uint64_t h = s->hole, r0 = s->r0, r1 = s->r0 + PMD_NR;
	struct vgm_ptdump pt;
	struct vgm_span sp;
	int64_t bad;
	uint32_t v = 0;
	int sig, wsig = 0, cache, ret;

	bad = check_pages(s->p, 0, h, 110);
	if (bad < 0)
		bad = check_pages(s->p, h + 1, PMD_PAGES - h - 1, 110);
	igt_assert_f(bad < 0, "%s: page %" PRId64 " of the blob does not hold its bytes any more (the cut is at page %" PRIu64 ")\n",
		     what, bad, h);

	vgm_sigbus_install();
	sig = vgm_probe_read(s->p + h * VGM_PAGE, &v);
	if (readonly && !sig)
		wsig = vgm_probe_write(s->p + h * VGM_PAGE + 8, 0xdeadbeef);
	vgm_sigbus_restore();
	if (readonly) {
		igt_assert_f(!sig && v == vgm_stamp(110, h),
			     "%s: the read-only page %s\n", what,
			     sig ? strsignal(sig) : "reads other bytes than the blob's");
		igt_assert_f(wsig == SIGSEGV, "%s: writing the read-only page: %s, expected SIGSEGV%s\n", what,
			     wsig ? strsignal(wsig) : "it wrote",
			     wsig ? "" : " (a writable PMD entry across the read-only page?)");
	} else {
		igt_assert_f(sig == SIGSEGV, "%s: the unmapped page %s, expected SIGSEGV%s\n", what,
			     sig ? strsignal(sig) : "can be read",
			     sig ? "" : " (a PMD entry inserted across the hole: the huge fault ignored the VMA's bounds)");
	}

	ret = vgm_ptdump_read(&pt, s->p, PMD_BLOB);
	igt_require_f(ret == 0, "cannot read the page tables of this process (%s): %s\n", vgm_pt_source_name(), strerror(-ret));
	assert_span(&pt, s->p, r0, h - r0, "of R0 before the cut", what, &sp);
	igt_assert_f(!sp.pmd_bytes && sp.writable,
		     "%s: R0 before the cut: %" PRIu64 " KiB in PMD entries, %s, expected 4 KiB read-write PTEs only\n",
		     what, sp.pmd_bytes / 1024, sp.writable ? "read-write" : "not all read-write");
	assert_span(&pt, s->p, h + 1, r1 - h - 1, "of R0 after the cut", what, &sp);
	igt_assert_f(!sp.pmd_bytes && sp.writable,
		     "%s: R0 after the cut: %" PRIu64 " KiB in PMD entries, %s, expected 4 KiB read-write PTEs only\n",
		     what, sp.pmd_bytes / 1024, sp.writable ? "read-write" : "not all read-write");
	vgm_ptdump_span(&pt, (uintptr_t)(s->p + h * VGM_PAGE), VGM_PAGE, &sp);
	if (readonly)
		igt_assert_f(sp.present == VGM_PAGE && !sp.pmd_bytes && !sp.writable,
			     "%s: the read-only page is %s in the page tables, expected a read-only 4 KiB PTE\n",
			     what, !sp.present ? "missing" : sp.pmd_bytes ? "in a PMD entry" : "writable");
	else
		igt_assert_f(!sp.present, "%s: the unmapped page is still in the page tables\n", what);
	assert_span(&pt, s->p, r1, PMD_NR, "of R1", what, &sp);
	if (s->c.have_query)
		igt_assert_f(sp.pmd_bytes == VGM_PMD,
			     "%s: the next 2 MiB-aligned part, untouched by the cut, is %" PRIu64 " KiB in PMD entries and %" PRIu64 " KiB in PTEs, expected one PMD entry (the mapping is congruent to the blob modulo 2 MiB)\n",
			     what, sp.pmd_bytes / 1024, sp.pte_bytes / 1024);
	vgm_ptdump_span(&pt, (uintptr_t)s->p, PMD_BLOB, &sp);
	vgm_ptdump_free(&pt);
	cache = sp.cache;
	igt_assert_f(cache != VGM_CACHE_MIXED, "%s: the pages of the cut mapping have different cache modes\n", what);
	if (s->e.cache != VGM_CACHE_ANY)
		igt_assert_f(cache == s->e.cache, "%s: host-%s memory is mapped %s after the cut, expected %s\n",
			     what, vgm_attr_name(s->e.attr), vgm_cache_name(cache), vgm_cache_name(s->e.cache));
	igt_info("%s: R0 at page %" PRIu64 " in 4 KiB PTEs around the cut, R1 %s, cache %s\n", what, r0,
		 s->c.have_query ? "one PMD entry" : "in 4 KiB PTEs (no PMD mappings on this kernel)",
		 vgm_cache_name(cache));

	/* every page of the cut mapping is the blob's page: compare with q */
	write_pages(s->p, 0, h, 111);
	write_pages(s->p, h + 1, PMD_PAGES - h - 1, 111);
	bad = check_pages(s->q, 0, h, 111);
	if (bad < 0)
		bad = check_pages(s->q, h + 1, PMD_PAGES - h - 1, 111);
	igt_assert_f(bad < 0, "%s: page %" PRId64 " written through the cut mapping is not the blob's page %" PRId64 " (a second mapping reads other bytes)\n",
		     what, bad, bad);
	write_pages(s->q, 0, PMD_PAGES, 112);
	bad = check_pages(s->p, 0, h, 112);
	if (bad < 0)
		bad = check_pages(s->p, h + 1, PMD_PAGES - h - 1, 112);
	if (bad < 0 && readonly)
		bad = check_pages(s->p, h, 1, 112);
	igt_assert_f(bad < 0, "%s: page %" PRId64 " of the cut mapping does not show what a second mapping wrote to the blob\n",
		     what, bad);
}

static void pmd_case_teardown(struct pmd_case *s)
{
	vgm_unmap(s->q, PMD_BLOB);
	vgm_unmap(s->p, PMD_BLOB);
	vgm_gem_close(s->c.fd, s->b.handle);
	vgm_ctx_close(&s->c);
}

static void test_pmd_partial_munmap(void)
{
	struct pmd_case s;
	int kmsg;

	pmd_case_setup(&s);
	kmsg = vgm_kmsg_open();
	igt_assert_f(munmap(s.p + s.hole * VGM_PAGE, VGM_PAGE) == 0,
		     "munmap of 4 KiB inside a PMD-mapped part: %s\n", strerror(errno));
	pmd_case_check(&s, false, "after munmap of 4 KiB inside a PMD");
	vgm_kmsg_assert_clean(kmsg, "munmap of 4 KiB inside a PMD");
	pmd_case_teardown(&s);
}

static void test_pmd_partial_mprotect(void)
{
	struct pmd_case s;
	int kmsg;

	pmd_case_setup(&s);
	kmsg = vgm_kmsg_open();
	igt_assert_f(mprotect(s.p + s.hole * VGM_PAGE, VGM_PAGE, PROT_READ) == 0,
		     "mprotect(PROT_READ) of 4 KiB inside a PMD-mapped part: %s\n", strerror(errno));
	pmd_case_check(&s, true, "after mprotect(PROT_READ) of 4 KiB inside a PMD");
	vgm_kmsg_assert_clean(kmsg, "mprotect of 4 KiB inside a PMD");
	pmd_case_teardown(&s);
}

/* ------------------------------------------------ pmd-misaligned-fixed */

static void test_pmd_misaligned_fixed(void)
{
	const uint64_t size = 4 * VGM_MIB, pages = size / VGM_PAGE;
	struct vgm_ptdump pt;
	struct vgm_span sm, sp;
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	uint64_t phys = 0;
	uint8_t *p, *m;
	int64_t bad;
	int err, ret;

	open_ctx(&c);
	vgm_blob_create_retry(c.fd, size, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	write_pages(p, 0, pages, 120);
	vgm_blob_try_phys(&b, &phys);

	/* MAP_FIXED at a user address VGM_SKEW (64 KiB) off the blob's physical address modulo 2 MiB */
	m = __vgm_mmap_skewed(&b, VGM_VIA_DRM, 0, size, PROT_READ | PROT_WRITE, &err);
	igt_assert_f(m, "mmap(MAP_FIXED) of the blob 64 KiB off its physical address 0x%" PRIx64 " modulo 2 MiB: %s, expected a mapping (PMD alignment is a preference, not a requirement)\n",
		     phys, strerror(err));
	vgm_track(m, size);

	bad = check_pages(m, 0, pages, 120);
	igt_assert_f(bad < 0, "page %" PRId64 " read through the misaligned mapping is not the blob's page %" PRId64 " (a PMD entry for a PFN that is not 2 MiB-aligned?)\n",
		     bad, bad);
	write_pages(m, 0, pages, 121);
	bad = check_pages(p, 0, pages, 121);
	igt_assert_f(bad < 0, "page %" PRId64 " written through the misaligned mapping does not reach the blob's page %" PRId64 "\n",
		     bad, bad);

	ret = vgm_ptdump_read_ranges(&pt, (const struct vgm_range[]){ { m, size }, { p, size } }, 2);
	igt_require_f(ret == 0, "cannot read the page tables of this process (%s): %s\n", vgm_pt_source_name(), strerror(-ret));
	vgm_ptdump_span(&pt, (uintptr_t)m, size, &sm);
	vgm_ptdump_span(&pt, (uintptr_t)p, size, &sp);
	vgm_ptdump_free(&pt);
	igt_info("misaligned mapping %p (blob at 0x%" PRIx64 "): %" PRIu64 " KiB in PTEs, %" PRIu64 " KiB in PMD entries, %s; the congruent one at %p: %" PRIu64 " KiB in PMD entries\n",
		 m, phys, sm.pte_bytes / 1024, sm.pmd_bytes / 1024, vgm_cache_name(sm.cache), p, sp.pmd_bytes / 1024);
	igt_assert_f(sm.missing == 0, "%" PRIu64 " KiB of the misaligned mapping are not in the page tables after every page was touched\n",
		     sm.missing / 1024);
	igt_assert_f(sm.pmd_bytes == 0 && sm.other_bytes == 0,
		     "%" PRIu64 " KiB of a mapping 64 KiB off the blob's physical address modulo 2 MiB are in PMD entries: they map other pages than the blob's\n",
		     sm.pmd_bytes / 1024);
	igt_assert_f(sm.writable, "the misaligned read-write mapping has read-only entries\n");
	igt_assert_f(sm.cache != VGM_CACHE_MIXED && sm.cache == sp.cache,
		     "the misaligned mapping is %s, the congruent one %s: one blob, one cache mode\n",
		     vgm_cache_name(sm.cache), vgm_cache_name(sp.cache));
	if (e.cache != VGM_CACHE_ANY)
		igt_assert_f(sm.cache == e.cache, "the misaligned mapping maps host-%s memory as %s, expected %s\n",
			     vgm_attr_name(e.attr), vgm_cache_name(sm.cache), vgm_cache_name(e.cache));

	vgm_unmap(m, size);
	vgm_unmap(p, size);
	vgm_gem_close(c.fd, b.handle);
	vgm_ctx_close(&c);
}

/* ------------------------------------------------------ capacity-mixed */

static const uint64_t mix_sizes[] = {
	4 * VGM_KIB, 2 * VGM_MIB + 4 * VGM_KIB, 64 * VGM_KIB, 3 * VGM_MIB, 1 * VGM_MIB,
};

#define MIX_ROOM (64 * VGM_MIB)
#define FILL_BIG (256 * VGM_MIB)
#define FILL_SMALL (32 * VGM_MIB)

/*
 * How many of the sequence stock's placement fits in @room: drm_mm best
 * fit of every blob in turn into an empty range, nothing freed, places
 * each at the end of the one before, until one does not fit (@align: each
 * blob of 2 MiB or more aligned to 2 MiB, for the message only).
 */
static int simulate(uint64_t room, uint64_t align_big, uint64_t *offsets, int cap)
{
	uint64_t at = 0, size;
	int n;

	for (n = 0; n < cap; n++) {
		size = mix_sizes[n % ARRAY_SIZE(mix_sizes)];
		if (align_big && size >= VGM_PMD)
			at = align_up(at, align_big);
		if (at + size > room)
			break;
		if (offsets)
			offsets[n] = at;
		at += size;
	}
	return n;
}

static void test_capacity_mixed(void)
{
	struct vgm_blob *fill, *mixed;
	struct vgm_hv_blob *list = NULL;
	struct vgm_expect e;
	struct vgm_ctx c;
	uint64_t base, size, left, room, filled = 0, *offsets;
	int nfill = 0, n, i, j, cap, expected, padded, ret = 0, refusal, mapped = 0, nlist = 0, err = 0;
	char src[64];
	uint8_t *p;

	open_ctx(&c);
	igt_require_f(vgm_window_src(c.fd, &base, &size, src, sizeof(src)),
		      "the host-visible window is not found (no virtio PCI shared memory capability, nothing in /proc/iomem)\n");
	left = vgm_window_drain(c.fd, 15000);
	igt_require_f(left != UINT64_MAX, "what is allocated in the host-visible window cannot be read (no debugfs %s, no allocator dump)\n",
		      VGM_BLOBS_DEBUGFS);
	igt_assert_f(left == 0, "%" PRIu64 " KiB of the host-visible window are still allocated 15 s after every earlier blob was freed: leaked\n",
		     left / 1024);

	/* down to the last 64..96 MiB, with blobs that pack without gaps */
	fill = calloc(size / FILL_SMALL + 1, sizeof(*fill));
	igt_assert(fill);
	room = size;
	while (!err && room >= FILL_BIG + MIX_ROOM + FILL_SMALL) {
		err = -__vgm_blob_create(c.fd, FILL_BIG, VIRTGPU_BLOB_MEM_HOST3D, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &fill[nfill]);
		if (!err) {
			nfill++;
			room -= FILL_BIG;
			filled += FILL_BIG;
		}
	}
	while (!err && room >= FILL_SMALL + MIX_ROOM) {
		err = -__vgm_blob_create(c.fd, FILL_SMALL, VIRTGPU_BLOB_MEM_HOST3D, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &fill[nfill]);
		if (!err) {
			nfill++;
			room -= FILL_SMALL;
			filled += FILL_SMALL;
		}
	}

	cap = simulate(room, 0, NULL, 1 << 20) + 4;
	offsets = calloc(cap, sizeof(*offsets));
	mixed = calloc(cap, sizeof(*mixed));
	igt_assert(offsets && mixed);
	expected = simulate(room, 0, offsets, cap);
	padded = simulate(room, VGM_PMD, NULL, cap);
	for (n = 0; !err && n < cap; n++) {
		uint64_t bsize = mix_sizes[n % ARRAY_SIZE(mix_sizes)];

		ret = __vgm_blob_create(c.fd, bsize, VIRTGPU_BLOB_MEM_HOST3D, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &mixed[n]);
		if (ret)
			break;
		p = vgm_map_expected(&c, &mixed[n], VGM_VIA_DRM, 0, bsize, &e, &refusal);
		if (p) {
			write_pages(p, bsize / VGM_PAGE - 1, 1, 130 + n);
			igt_assert_f(check_pages(p, bsize / VGM_PAGE - 1, 1, 130 + n) < 0,
				     "the last page of blob %d (%" PRIu64 " bytes) does not read back\n", n, bsize);
			vgm_unmap(p, bsize);
			mapped++;
		}
	}
	igt_info("window of %" PRIu64 " MiB (%s): %d blobs fill %" PRIu64 " MiB, then %d blobs of mixed sizes (%d mapped) in the last %" PRIu64 " KiB, then %s; stock's placement fits %d (with 2 MiB alignment: %d)\n",
		 size / VGM_MIB, src, nfill, filled / VGM_MIB, n, mapped, room / 1024,
		 err ? strerror(err) : ret ? strerror(-ret) : "the cap", expected, padded);

	/* where each one went, on kernels that say */
	if (!err && vgm_has_blob_list(c.fd))
		igt_assert_eq(vgm_blob_list(c.fd, &list, &nlist), 0);
	for (i = 0; i < n && list; i++) {
		for (j = 0; j < nlist && list[j].res != mixed[i].res; j++)
			;
		igt_assert_f(j < nlist, "blob %d (resource %u) is not listed in debugfs %s\n", i, mixed[i].res, VGM_BLOBS_DEBUGFS);
		igt_assert_f(list[j].offset == filled + offsets[i],
			     "blob %d (%" PRIu64 " bytes) is at window offset 0x%" PRIx64 ", stock's placement puts it at 0x%" PRIx64 "\n",
			     i, mix_sizes[i % ARRAY_SIZE(mix_sizes)], list[j].offset, filled + offsets[i]);
	}
	free(list);

	for (i = 0; i < n; i++)
		vgm_gem_close(c.fd, mixed[i].handle);
	for (i = 0; i < nfill; i++)
		vgm_gem_close(c.fd, fill[i].handle);
	free(mixed);
	free(fill);
	free(offsets);

	igt_assert_f(!err, "creating filler blob %d failed with %s with %" PRIu64 " MiB of the %" PRIu64 " MiB window left\n",
		     nfill + 1, strerror(err), room / VGM_MIB, size / VGM_MIB);
	igt_assert_f(ret == -ENOSPC || (!ret && n == cap),
		     "creating blob %d of %" PRIu64 " bytes failed with %s, expected success or ENOSPC once the window is full\n",
		     n + 1, mix_sizes[n % ARRAY_SIZE(mix_sizes)], strerror(-ret));
	igt_assert_f(n <= expected,
		     "%d blobs of mixed sizes fit in the last %" PRIu64 " KiB of the window, more than stock's placement fits (%d): blobs overlap\n",
		     n, room / 1024, expected);
	igt_assert_f(n >= expected,
		     "only %d blobs of mixed sizes fit in the last %" PRIu64 " KiB of the window, stock's placement fits %d: space is wasted between blobs (a placement that aligns blobs of 2 MiB and more to 2 MiB fits %d)\n",
		     n, room / 1024, expected, padded);

	left = vgm_window_drain(c.fd, 15000);
	igt_assert_f(left == 0, "%" PRIu64 " KiB of the host-visible window are still allocated 15 s after the counted blobs were freed\n",
		     left / 1024);
	vgm_ctx_close(&c);
}

/* ---------------------------------------------------------- close-race */

#define RACE_KIDS 4
#define RACE_MS 2000
#define RACE_HANDLES 48

struct race {
	int fd;
	int id;
	struct timespec start;
};

/* write and read the first and the last page: 0, or the signal that is not SIGBUS */
static int race_touch(uint8_t *p, uint64_t size, unsigned int *sigbus)
{
	const uint64_t offs[2] = { 0, size - VGM_PAGE };
	uint32_t v;
	int i, sig;

	for (i = 0; i < 2; i++) {
		sig = vgm_probe_write(p + offs[i], 0x5a5a5a5a);
		if (!sig)
			sig = vgm_probe_read(p + offs[i], &v);
		if (sig == SIGBUS)
			(*sigbus)++;
		else if (sig)
			return sig;
	}
	return 0;
}

static void race_child(int out, void *arg)
{
	static const uint64_t sizes[] = {
		64 * VGM_KIB, 2 * VGM_MIB, 12 * VGM_KIB, 2 * VGM_MIB + 4 * VGM_KIB,
	};
	unsigned int blobs = 0, mapped = 0, dmabufs = 0, sigbus = 0, enodev = 0, enospc = 0, i;
	struct race *r = arg;

	vgm_sigbus_install();
	for (i = 0; igt_nsec_elapsed(&r->start) < ms_to_ns(RACE_MS); i++) {
		uint64_t size = sizes[(i + r->id) % ARRAY_SIZE(sizes)], off;
		struct vgm_blob b;
		uint8_t *p, *d;
		int ret, sig, dmabuf;

		ret = __vgm_blob_create(r->fd, size, VIRTGPU_BLOB_MEM_HOST3D, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &b);
		if (ret == -ENOSPC) {
			enospc++;
			usleep(1000);
			continue;
		}
		if (ret)
			kid_fail(out, "RESOURCE_CREATE_BLOB of %" PRIu64 " bytes failed: %s", size, strerror(-ret));
		blobs++;
		ret = __vgm_map_offset(r->fd, b.handle, &off);
		if (ret)
			kid_fail(out, "VIRTGPU_MAP of handle %u failed: %s", b.handle, strerror(-ret));
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, off);
		if (p == MAP_FAILED) {
			if (errno != ENODEV)
				kid_fail(out, "mmap of handle %u: %s, expected a mapping or ENODEV (unmapped on the host meanwhile)",
					 b.handle, strerror(errno));
			enodev++;
		} else {
			mapped++;
			sig = race_touch(p, size, &sigbus);
			if (sig)
				kid_fail(out, "touching the mapping of handle %u raised %s, expected data or SIGBUS",
					 b.handle, strsignal(sig));
			if (i % 3 == 0) {
				ret = __vgm_prime_export(r->fd, b.handle, &dmabuf);
				if (ret)
					kid_fail(out, "PRIME_HANDLE_TO_FD of handle %u failed: %s", b.handle, strerror(-ret));
				d = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
				if (d == MAP_FAILED) {
					if (errno != ENODEV)
						kid_fail(out, "mmap of the dma-buf of handle %u: %s, expected a mapping or ENODEV",
							 b.handle, strerror(errno));
					enodev++;
				} else {
					dmabufs++;
					sig = race_touch(d, size, &sigbus);
					if (sig)
						kid_fail(out, "touching the dma-buf mapping of handle %u raised %s, expected data or SIGBUS",
							 b.handle, strsignal(sig));
					if (munmap(d, size))
						kid_fail(out, "munmap of a dma-buf mapping: %s", strerror(errno));
				}
				close(dmabuf);
			}
			if (munmap(p, size))
				kid_fail(out, "munmap: %s", strerror(errno));
		}
		ret = gem_close_raw(r->fd, b.handle);
		if (ret)
			kid_fail(out, "GEM_CLOSE of handle %u failed: %s", b.handle, strerror(-ret));
	}
	kid_say(out, "%u blobs, %u mapped, %u dma-buf mappings; %u SIGBUS, %u ENODEV, %u ENOSPC",
		blobs, mapped, dmabufs, sigbus, enodev, enospc);
}

static void test_close_race(void)
{
	struct race r[RACE_KIDS];
	struct kid k[RACE_KIDS];
	struct timespec start = {};
	struct vgm_ctx c;
	struct vgm_blob b;
	struct vgm_expect e;
	unsigned int hits[2] = {}, misses = 0, round;
	uint32_t h, bad_h = 0;
	uint64_t left;
	int i, ret, bad = 0, kmsg;
	uint8_t *p;

	open_ctx(&c);
	vgm_require_hook(c.fd);
	/* whether this run maps at all */
	vgm_blob_create(c.fd, SIZE, &b);
	p = vgm_map_or_skip(&c, &b, &e);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c.fd, b.handle);
	left = vgm_window_drain(c.fd, 15000);
	igt_assert_f(left == 0 || left == UINT64_MAX,
		     "%" PRIu64 " KiB of the host-visible window are still allocated 15 s after every earlier blob was freed: leaked\n",
		     left / 1024);

	kmsg = vgm_kmsg_open();
	igt_gettime(&start);
	for (i = 0; i < RACE_KIDS; i++) {
		r[i] = (struct race){ .fd = c.fd, .id = i, .start = start };
		kid_start(&k[i], race_child, &r[i]);
	}
	/* every handle of the shared file, unmapped, then remapped, on the host */
	for (round = 0; igt_nsec_elapsed(&start) < ms_to_ns(RACE_MS) && !bad; round++) {
		for (h = 1; h <= RACE_HANDLES && !bad; h++) {
			ret = vgm_hook(c.fd, round & 1 ? "remap" : "unmap", h);
			if (!ret) {
				hits[round & 1]++;
			} else if (ret == -ENOENT || ret == -ENXIO || ret == -ENOSPC) {
				misses++;
			} else {
				bad = ret;
				bad_h = h;
			}
		}
	}
	kids_reap(k, RACE_KIDS, RACE_MS + 20000, "close-race");
	igt_info("%u rounds over handles 1..%d: %u unmaps and %u remaps hit a live blob, %u missed\n",
		 round, RACE_HANDLES, hits[0], hits[1], misses);
	igt_assert_f(!bad,
		     "debugfs hook on handle %u while children raced with it: %s, expected success, ENOENT (closed), ENXIO (not mapped on the host) or ENOSPC\n",
		     bad_h, strerror(-bad));
	igt_assert_f(hits[0], "no unmap through the hook hit a live blob in %d ms: the race did not happen\n", RACE_MS);
	vgm_kmsg_assert_clean(kmsg, "children racing with the host unmapping and remapping their blobs");

	left = vgm_window_drain(c.fd, 15000);
	igt_assert_f(left == 0 || left == UINT64_MAX,
		     "%" PRIu64 " KiB of the host-visible window are still allocated 15 s after every blob of the race was closed: a revoke racing with a close leaked window space\n",
		     left / 1024);
	vgm_ctx_close(&c);
}

/* ------------------------------------------------------- reused-address */

/* wait until the blob (@res, or the allocator's node at @phys on kernels without the list) left the window */
static bool wait_left_window(int fd, uint32_t res, uint64_t phys, int timeout_ms)
{
	bool listed = vgm_has_blob_list(fd), present;
	struct timespec start = {};
	struct vgm_hv_blob *l;
	struct vgm_mm_node *nodes;
	int i, n;

	igt_gettime(&start);
	for (;;) {
		present = false;
		if (listed) {
			igt_assert_eq(vgm_blob_list(fd, &l, &n), 0);
			for (i = 0; i < n; i++)
				present |= l[i].res == res;
			free(l);
		} else {
			igt_assert_eq(vgm_window_nodes(fd, &nodes, &n), 0);
			for (i = 0; i < n; i++)
				present |= nodes[i].start == phys;
			free(nodes);
		}
		if (!present)
			return true;
		if (igt_nsec_elapsed(&start) > ms_to_ns(timeout_ms))
			return false;
		usleep(10 * 1000);
	}
}

#define REUSE_TRIES 8

/* new blobs of @size until one lands at @phys (the others stay in @extra) */
static bool blob_at(int fd, uint64_t size, uint64_t phys, struct vgm_blob *out,
		    struct vgm_blob *extra, int *nextra)
{
	struct vgm_blob b;
	uint64_t at;
	int i;

	for (i = 0; i < REUSE_TRIES; i++) {
		vgm_blob_create_retry(fd, size, &b);
		if (vgm_blob_try_phys(&b, &at) && at == phys) {
			*out = b;
			return true;
		}
		extra[(*nextra)++] = b;
	}
	return false;
}

/* the host copies stamps @seed into @b (a guest-backed buffer, TRANSFER_TO_HOST, COPY_REGION) */
static void host_writes(int fd, const struct vgm_blob *b, uint32_t seed)
{
	uint32_t cmd[16], handles[2], handle, res;
	uint8_t *q;
	int n, ret, err;

	ret = __vgm_classic_buffer(fd, b->size, &handle, &res);
	igt_assert_f(ret == 0, "RESOURCE_CREATE of a guest-backed virgl buffer failed: %s\n", strerror(-ret));
	q = __vgm_mmap_handle(fd, handle, 0, b->size, &err);
	igt_assert_f(q, "mmap of the guest-backed buffer failed: %s\n", strerror(err));
	vgm_write_stamps(q, b->size, seed);
	munmap(q, b->size);
	ret = __vgm_transfer(fd, handle, b->size, true);
	igt_assert_f(ret == 0, "TRANSFER_TO_HOST failed: %s\n", strerror(-ret));
	n = vgm_copy_region_cmd(cmd, b->res, res, b->size);
	handles[0] = b->handle;
	handles[1] = handle;
	ret = __vgm_execbuf(fd, cmd, n, handles, 2);
	igt_assert_f(ret == 0, "EXECBUFFER with RESOURCE_COPY_REGION failed: %s\n", strerror(-ret));
	ret = __vgm_wait(fd, b->handle);
	igt_assert_f(ret == 0, "WAIT for the blob failed: %s\n", strerror(-ret));
	vgm_gem_close(fd, handle);
}

static void reuse_after_free(struct vgm_ctx *c, struct vgm_blob *extra, int *nextra)
{
	struct vgm_blob a, b;
	struct vgm_expect e, eb;
	uint64_t phys;
	uint8_t *p;
	int refusal, cache;
	int64_t bad;

	vgm_blob_create(c->fd, SIZE, &a);
	p = vgm_map_or_skip(c, &a, &e);
	vgm_write_stamps(p, SIZE, 140);
	igt_require_f(vgm_blob_try_phys(&a, &phys),
		      "where blobs are in the window cannot be told on this kernel (no debugfs %s, no allocator dump)\n",
		      VGM_BLOBS_DEBUGFS);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c->fd, a.handle);
	igt_assert_f(wait_left_window(c->fd, a.res, phys, 5000),
		     "the freed blob (resource %u at 0x%" PRIx64 ") is still in the window 5 s after its handle and mapping went\n",
		     a.res, phys);

	igt_require_f(blob_at(c->fd, SIZE, phys, &b, extra, nextra),
		      "none of %d new blobs of the freed blob's size landed at its window offset 0x%" PRIx64 "\n",
		      REUSE_TRIES, phys);
	host_writes(c->fd, &b, 141);
	p = vgm_map_expected(c, &b, VGM_VIA_DRM, 0, SIZE, &eb, &refusal);
	igt_assert_f(p, "the new blob at the freed blob's offset is refused (%s) where the freed one mapped\n",
		     strerror(refusal));
	bad = vgm_check_stamps(p, SIZE, 141);
	igt_assert_f(bad < 0, "page %" PRId64 " of the new blob at the freed blob's window offset 0x%" PRIx64 " shows %s, not what the host copied into it\n",
		     bad, phys, vgm_check_stamps(p, SIZE, 140) < 0 ? "the freed blob's bytes (its host memory is still mapped there)" : "other bytes");
	cache = vgm_assert_ptes(p, SIZE, "the new blob at the freed blob's offset");
	if (eb.cache != VGM_CACHE_ANY)
		igt_assert_f(cache == eb.cache, "the new blob at the freed blob's offset maps host-%s memory as %s, expected %s\n",
			     vgm_attr_name(eb.attr), vgm_cache_name(cache), vgm_cache_name(eb.cache));
	igt_info("a new blob (resource %u) took the freed one's place at 0x%" PRIx64 ", shows its own bytes, mapped %s\n",
		 b.res, phys, vgm_cache_name(cache));
	vgm_unmap(p, SIZE);
	vgm_gem_close(c->fd, b.handle);
}

static void reuse_after_revoke(struct vgm_ctx *c, struct vgm_blob *extra, int *nextra)
{
	struct vgm_blob a, b;
	struct vgm_expect e, eb;
	uint64_t phys;
	uint8_t *p, *d, *q;
	int refusal, ret, err, sig = 0;
	int64_t bad;
	uint32_t v = 0;

	vgm_blob_create(c->fd, SIZE, &a);
	p = vgm_map_or_skip(c, &a, &e);
	d = __vgm_mmap_via(&a, VGM_VIA_DMABUF, 0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, &err);
	igt_assert_f(d, "dma-buf mapping failed: %s\n", strerror(err));
	vgm_track(d, SIZE);
	vgm_write_stamps(p, SIZE, 142);
	vgm_assert_stamps(d, SIZE, 142, "dma-buf mapping");
	phys = vgm_blob_phys(&a, 0);

	/* unmapped on the host, the blob gives its window space back; its mappings stay */
	ret = vgm_hook(c->fd, "unmap", a.handle);
	igt_assert_f(ret == 0, "debugfs hook: unmap failed: %s\n", strerror(-ret));
	igt_assert_f(wait_left_window(c->fd, a.res, phys, 5000),
		     "the blob unmapped on the host (resource %u at 0x%" PRIx64 ") is still in the window 5 s later\n",
		     a.res, phys);
	igt_require_f(blob_at(c->fd, SIZE, phys, &b, extra, nextra),
		      "none of %d new blobs landed at the unmapped blob's window offset 0x%" PRIx64 "\n",
		      REUSE_TRIES, phys);
	q = vgm_map_expected(c, &b, VGM_VIA_DRM, 0, SIZE, &eb, &refusal);
	igt_assert_f(q, "the new blob at the unmapped blob's offset is refused (%s) where the unmapped one mapped\n",
		     strerror(refusal));
	vgm_write_stamps(q, SIZE, 143);

	vgm_sigbus_install();
	bad = first_not_sigbus(p, SIZE, &v, &sig);
	if (bad < 0)
		bad = first_not_sigbus(d, SIZE, &v, &sig);
	vgm_sigbus_restore();
	igt_assert_f(bad < 0,
		     "page %" PRId64 " of the unmapped blob's old mappings %s, expected SIGBUS: its window space now belongs to another blob\n",
		     bad, sig ? strsignal(sig) : v == vgm_stamp(143, bad) ? "reads the new blob's bytes" : "can still be accessed");
	bad = vgm_check_stamps(q, SIZE, 143);
	igt_assert_f(bad < 0, "page %" PRId64 " of the new blob changed while the old blob's mappings were touched\n", bad);
	igt_info("a new blob (resource %u) took the unmapped one's place at 0x%" PRIx64 "; the old DRM and dma-buf mappings raise SIGBUS\n",
		 b.res, phys);

	vgm_unmap(q, SIZE);
	vgm_unmap(d, SIZE);
	vgm_unmap(p, SIZE);
	vgm_gem_close(c->fd, b.handle);
	vgm_gem_close(c->fd, a.handle);
}

static void test_reused_address(void)
{
	struct vgm_blob extra[2 * REUSE_TRIES];
	struct vgm_ctx c;
	char path[256];
	int nextra = 0, i;

	open_ctx(&c);
	reuse_after_free(&c, extra, &nextra);
	if (vgm_hook_path(c.fd, path, sizeof(path)) == 0)
		reuse_after_revoke(&c, extra, &nextra);
	else
		igt_info("no debugfs hook on this kernel: the reuse of a revoked blob's window space is not tried\n");
	for (i = 0; i < nextra; i++)
		vgm_gem_close(c.fd, extra[i].handle);
	vgm_ctx_close(&c);
}

int igt_main()
{
	igt_fixture()
		vgm_require_host_visible_device();

	igt_describe("get_user_pages users of a blob mapping fail cleanly or move the right bytes.");
	igt_subtest("gup-users")
		test_gup_users();

	igt_describe("ptrace reads but cannot write a read-only dma-buf mapping.");
	igt_subtest("ptrace-readonly")
		test_ptrace_readonly();

	igt_describe("A revoke zaps a forked child's mapping too.");
	igt_subtest("fork-revoke")
		test_fork_revoke();

	igt_describe("A revoke zaps a dma-buf mapping that outlived its exporter; a remap brings it back.");
	igt_subtest("dmabuf-outlives-revoke")
		test_dmabuf_outlives_revoke();

	igt_describe("munmap of 4 KiB inside a PMD keeps the rest of the mapping right.");
	igt_subtest("pmd-partial-munmap")
		test_pmd_partial_munmap();

	igt_describe("mprotect of 4 KiB inside a PMD keeps the rest of the mapping right.");
	igt_subtest("pmd-partial-mprotect")
		test_pmd_partial_mprotect();

	igt_describe("A mapping not congruent to the blob modulo 2 MiB works, with 4 KiB PTEs.");
	igt_subtest("pmd-misaligned-fixed")
		test_pmd_misaligned_fixed();

	igt_describe("The window holds as many blobs of mixed sizes as the stock placement.");
	igt_subtest("capacity-mixed") {
		vgm_require_window_cell();
		test_capacity_mixed();
	}

	igt_describe("Creating, mapping and closing blobs races with the host revoking them.");
	igt_subtest("close-race")
		test_close_race();

	igt_describe("A new blob at a freed or revoked blob's window offset shows only its own memory.");
	igt_subtest("reused-address")
		test_reused_address();
}
