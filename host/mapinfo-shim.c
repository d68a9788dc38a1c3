// SPDX-License-Identifier: MIT
/*
 * mapinfo-shim: an LD_PRELOAD library for QEMU that sets what the host
 * reports to the guest as virtio_gpu_resp_map_info.map_info for mapped
 * blobs, so that every cache attribute can be exercised on a host without
 * a GPU. It is explicit and selected per run:
 *
 *   VGM_MAPINFO=passthrough   the real virglrenderer answer (default)
 *   VGM_MAPINFO=none|cached|uncached|wc
 *                             VIRTIO_GPU_MAP_CACHE_NONE/CACHED/UNCACHED/WC
 *   VGM_MAPINFO=undefined     0x07: inside VIRTIO_GPU_MAP_CACHE_MASK, but
 *                             not a defined value
 *   VGM_MAPINFO=raw:N         any 32-bit value N (e.g. raw:0x103 = WC with
 *                             bits outside the cache mask set)
 *   VGM_MAPINFO=error         RESOURCE_MAP_BLOB fails on the host
 *   VGM_MAPINFO=seq:A,B,...   the n-th answer is the n-th mode, cyclically
 *                             (exercises an attribute that changes on remap)
 *   VGM_MAPINFO=slow:MS       the real answer, given MS milliseconds late: a
 *                             slow host, that keeps guest tasks waiting for
 *                             RESOURCE_MAP_BLOB (QEMU handles the control
 *                             queue in its main loop, so the whole device
 *                             stalls, as with a slow virglrenderer)
 *   VGM_MAPINFO=phases        one of the modes above at a time, as the guest
 *                             says: a guest that runs the suite once per
 *                             mode (scripts/run.sh puts several one-mode
 *                             cells in one boot) writes, by rename, before
 *                             each run, the phase file (VGM_PHASE, default
 *                             /mnt/host/host-phase): "MODE ANSWERS-FILE".
 *                             The shim reads it at every answer; a new
 *                             phase starts its own answers file and counts
 *                             its answers from 0. Until the first phase,
 *                             the real answer.
 *
 * Every answer is logged on stderr ("vgm-shim: ...") so the run's log says
 * what the guest was told, and appended, as one line written at once, to
 * the answers file that the guest reads to know the truth (VGM_ANSWERS,
 * default /mnt/host/host-answers.txt: QEMU runs in a chroot whose /mnt/host
 * is the run directory, which the guest mounts at /mnt/host too):
 *
 *   res=<id> map_info=0x<hex> source=<real|forced|error> call=<n>
 *
 * one line per RESOURCE_MAP_BLOB, in order: <id> the resource, map_info
 * what the guest was told (0 for an error), source whether it is
 * virglrenderer's own answer, one the shim forced, or a failure (the mode
 * "error", or virglrenderer failing), <n> the index of the answer (the n-th
 * MAP_BLOB answer of this QEMU, from 0, which picks seq:'s element n mod
 * its length). The file is emptied at the first MAP_BLOB.
 *
 * Every blob the guest creates is logged too, one line each, to the blobs
 * file (VGM_BLOBS, default /mnt/host/host-blobs.txt, emptied at the first
 * blob): what Mesa really allocates, for `make bench`'s size histogram:
 *
 *   res=<id> ctx=<ctx> blob_mem=<n> flags=0x<hex> size=<bytes> ret=<r>
 *
 * QEMU loads libvirglrenderer from a module (hw-display-virtio-gpu-gl.so)
 * with local binding, so RTLD_NEXT does not find it: the real symbols are
 * looked up through a handle of the library itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAP_CACHE_NONE 0x00
#define MAP_CACHE_CACHED 0x01
#define MAP_CACHE_UNCACHED 0x02
#define MAP_CACHE_WC 0x03
#define MAP_UNDEFINED 0x07

enum kind { PASS, VALUE, FAIL, SLOW };
struct mode { enum kind kind; uint32_t value; };

#define MAX_SEQ 16
static struct mode seq[MAX_SEQ];
static unsigned int nseq;
static unsigned int calls;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int answers_fd = -1;
static char answers_file[256] = "/mnt/host/host-answers.txt";
/* VGM_MAPINFO=phases: the phase file's path, and its text now in force */
static bool phased;
static char phase_text[512];

static const char *answers_path(void)
{
	return answers_file;
}

/*
 * A new, empty answers file (a stale one would lie about resource ids), at
 * the first MAP_BLOB of this QEMU: not when the library loads, since
 * processes QEMU starts (virglrenderer's render server) inherit LD_PRELOAD.
 */
static void answers_open(void)
{
	if (answers_fd >= 0)
		close(answers_fd);
	answers_fd = open(answers_path(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (answers_fd < 0)
		fprintf(stderr, "vgm-shim: cannot create the answers file %s: %s (the guest will not know the host's answers)\n",
			answers_path(), strerror(errno));
}

/*
 * one line per answer, written at once (O_APPEND: whole lines, in order).
 * answers_fd is used without the lock: QEMU calls virglrenderer, and so
 * current(), which may reopen it at a new phase, from its main loop only.
 */
static void answer_line(uint32_t res, uint32_t map_info, const char *source, unsigned int call)
{
	char line[128];
	int n;

	if (answers_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "res=%u map_info=0x%x source=%s call=%u\n",
		     res, map_info, source, call);
	if (write(answers_fd, line, n) != n)
		fprintf(stderr, "vgm-shim: writing to %s failed: %s\n", answers_path(), strerror(errno));
}

static int parse_one(const char *s, struct mode *m)
{
	static const struct { const char *name; struct mode m; } names[] = {
		{ "passthrough", { PASS, 0 } },
		{ "none", { VALUE, MAP_CACHE_NONE } },
		{ "cached", { VALUE, MAP_CACHE_CACHED } },
		{ "uncached", { VALUE, MAP_CACHE_UNCACHED } },
		{ "wc", { VALUE, MAP_CACHE_WC } },
		{ "undefined", { VALUE, MAP_UNDEFINED } },
		{ "error", { FAIL, 0 } },
	};
	char *end;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i].name)) {
			*m = names[i].m;
			return 0;
		}
	}
	if (!strncmp(s, "raw:", 4)) {
		m->kind = VALUE;
		s += 4;
	} else if (!strncmp(s, "slow:", 5)) {
		m->kind = SLOW;
		s += 5;
	} else {
		return -1;
	}
	errno = 0;
	m->value = (uint32_t)strtoul(s, &end, 0);
	return !errno && end != s && !*end ? 0 : -1;
}

static int blobs_fd = -1;
static pthread_once_t blobs_once = PTHREAD_ONCE_INIT;

static const char *blobs_path(void)
{
	const char *p = getenv("VGM_BLOBS");

	return p && *p ? p : "/mnt/host/host-blobs.txt";
}

static void blobs_open(void)
{
	blobs_fd = open(blobs_path(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (blobs_fd < 0)
		fprintf(stderr, "vgm-shim: cannot create the blobs file %s: %s\n",
			blobs_path(), strerror(errno));
}

/* a mode, or seq:A,B,..., into seq[]: a bad one stops QEMU, loudly */
static void set_modes(const char *what, const char *mode)
{
	char buf[256], *tok, *save;

	nseq = 0;
	snprintf(buf, sizeof(buf), "%s", !strncmp(mode, "seq:", 4) ? mode + 4 : mode);
	for (tok = strtok_r(buf, ",", &save); tok && nseq < MAX_SEQ;
	     tok = strtok_r(NULL, ",", &save)) {
		if (parse_one(tok, &seq[nseq])) {
			fprintf(stderr, "vgm-shim: bad %s element '%s'\n", what, tok);
			abort();
		}
		nseq++;
	}
	if (!nseq) {
		fprintf(stderr, "vgm-shim: empty %s\n", what);
		abort();
	}
}

static const char *phase_path(void)
{
	const char *p = getenv("VGM_PHASE");

	return p && *p ? p : "/mnt/host/host-phase";
}

/*
 * VGM_MAPINFO=phases, with the lock held: a new text in the phase file
 * starts a new phase (its mode, its answers file, answers counted from 0).
 */
static void phase_check(void)
{
	char buf[sizeof(phase_text)], mode[256], path[sizeof(answers_file)];
	ssize_t n;
	int fd;

	fd = open(phase_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;	/* no phase yet: the real answer */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (!strcmp(buf, phase_text))
		return;
	if (sscanf(buf, "%255s %255s", mode, path) != 2) {
		fprintf(stderr, "vgm-shim: %s: expected 'MODE ANSWERS-FILE', read '%s'\n",
			phase_path(), buf);
		abort();
	}
	strcpy(phase_text, buf);
	set_modes(phase_path(), mode);
	calls = 0;
	snprintf(answers_file, sizeof(answers_file), "%s", path);
	answers_open();
	fprintf(stderr, "vgm-shim: phase: mode %s, answers in %s\n", mode, answers_path());
}

static void setup(void)
{
	const char *env = getenv("VGM_MAPINFO");
	const char *p = getenv("VGM_ANSWERS");

	if (!env || !*env)
		env = "passthrough";
	if (p && *p)
		snprintf(answers_file, sizeof(answers_file), "%s", p);
	if (!strcmp(env, "phases")) {
		phased = true;
		seq[0] = (struct mode){ PASS, 0 };
		nseq = 1;
		fprintf(stderr, "vgm-shim: loaded, VGM_MAPINFO=phases: the mode of each phase from %s\n",
			phase_path());
		return;
	}
	set_modes("VGM_MAPINFO", env);
	answers_open();
	fprintf(stderr, "vgm-shim: loaded, VGM_MAPINFO=%s, answers in %s\n", env, answers_path());
}

static void *real(const char *sym)
{
	void *h = dlopen("libvirglrenderer.so.1", RTLD_NOW | RTLD_NOLOAD);
	void *f = h ? dlsym(h, sym) : NULL;

	if (!f)
		f = dlsym(RTLD_NEXT, sym);
	if (!f) {
		fprintf(stderr, "vgm-shim: cannot find real %s: %s\n", sym, dlerror());
		abort();
	}
	return f;
}

/*
 * The mode for the answer being prepared; map and get_map_info share it.
 * Every MAP_BLOB takes exactly one answer: the map when it fails (mode
 * error, or virglrenderer's own failure), get_map_info otherwise. *call, if
 * not NULL, gets the answer's index.
 */
static struct mode current(int advance, unsigned int *call)
{
	struct mode m;

	pthread_once(&once, setup);
	pthread_mutex_lock(&lock);
	if (phased)
		phase_check();
	m = seq[calls % nseq];
	if (call)
		*call = calls;
	if (advance)
		calls++;
	pthread_mutex_unlock(&lock);
	return m;
}

/*
 * MAP_BLOB fails: forced (mode error) or virglrenderer's own failure (ret).
 * Only the forced failure is the answer: when virglrenderer's map fails,
 * QEMU maps the blob another way and still asks get_map_info, whose
 * answer is the one the guest gets.
 */
static int map_failed(uint32_t res_handle, int ret)
{
	unsigned int call;

	if (ret) {
		fprintf(stderr, "vgm-shim: res %u: virglrenderer's map fails (ret=%d); QEMU's answer comes from get_map_info\n",
			res_handle, ret);
		return ret;
	}
	current(1, &call);
	fprintf(stderr, "vgm-shim: res %u: MAP_BLOB fails (mode error)\n", res_handle);
	answer_line(res_handle, 0, "error", call);
	return -EINVAL;
}

int virgl_renderer_resource_map(uint32_t res_handle, void **map, uint64_t *out_size)
{
	int (*fn)(uint32_t, void **, uint64_t *) = real(__func__);
	int ret;

	if (current(0, NULL).kind == FAIL)
		return map_failed(res_handle, 0);
	ret = fn(res_handle, map, out_size);
	return ret ? map_failed(res_handle, ret) : 0;
}

int virgl_renderer_resource_map_fixed(uint32_t res_handle, void *map)
{
	int (*fn)(uint32_t, void *) = real(__func__);
	int ret;

	if (current(0, NULL).kind == FAIL)
		return map_failed(res_handle, 0);
	ret = fn(res_handle, map);
	return ret ? map_failed(res_handle, ret) : 0;
}

/*
 * Slow mode: the answer is late. QEMU runs virtio-gpu commands in its main
 * loop with the big QEMU lock held; under TCG a vCPU's virtqueue notify is
 * an MMIO write that needs that lock (with KVM, an ioeventfd does not), so
 * the lock is dropped while the answer is held: the vCPUs keep running and
 * queueing commands, as they would on KVM. The main loop itself (its
 * timers, 9p) waits, as it does for any slow virglrenderer call.
 */
static void hold_answer(uint32_t res_handle, uint32_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	void (*unlock)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "bql_unlock");
	void (*lock)(const char *, int) =
		(void (*)(const char *, int))dlsym(RTLD_DEFAULT, "bql_lock_impl");
	bool (*locked)(void) = (bool (*)(void))dlsym(RTLD_DEFAULT, "bql_locked");
	bool dropped = unlock && lock && locked && locked();

	fprintf(stderr, "vgm-shim: res %u: holding the answer for %u ms (%s)\n",
		res_handle, ms, dropped ? "QEMU's big lock dropped meanwhile" :
		"QEMU's big lock not found: the vCPUs may stall too");
	if (dropped)
		unlock();
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	if (dropped)
		lock(__FILE__, __LINE__);
}

int virgl_renderer_resource_get_map_info(uint32_t res_handle, uint32_t *map_info)
{
	int (*fn)(uint32_t, uint32_t *) = real(__func__);
	unsigned int call;
	struct mode m = current(1, &call);
	uint32_t host = 0;
	int ret;

	ret = fn(res_handle, &host);
	if (m.kind == SLOW) {
		hold_answer(res_handle, m.value);
		m.kind = PASS;
	}
	if (m.kind == PASS) {
		fprintf(stderr, "vgm-shim: res %u: map_info passthrough ret=%d value=0x%x\n",
			res_handle, ret, ret ? 0 : host);
		/* QEMU answers OK with map_info 0 when the call fails (vrend on llvmpipe) */
		answer_line(res_handle, ret ? 0 : host, "real", call);
		if (!ret)
			*map_info = host;
		return ret;
	}
	fprintf(stderr, "vgm-shim: res %u: map_info 0x%x (real: ret=%d value=0x%x)\n",
		res_handle, m.value, ret, ret ? 0 : host);
	answer_line(res_handle, m.value, "forced", call);
	*map_info = m.value;
	return 0;
}

/* virglrenderer.h's struct virgl_renderer_resource_create_blob_args (ABI) */
struct create_blob_args {
	uint32_t res_handle;
	uint32_t ctx_id;
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint64_t blob_id;
	uint64_t size;
	const void *iovecs;
	uint32_t num_iovs;
};

int virgl_renderer_resource_create_blob(const struct create_blob_args *args)
{
	int (*fn)(const struct create_blob_args *) = real(__func__);
	int ret = fn(args);
	char line[160];
	int n;

	pthread_once(&blobs_once, blobs_open);
	if (blobs_fd >= 0) {
		n = snprintf(line, sizeof(line), "res=%u ctx=%u blob_mem=%u flags=0x%x size=%llu ret=%d\n",
			     args->res_handle, args->ctx_id, args->blob_mem, args->blob_flags,
			     (unsigned long long)args->size, ret);
		if (write(blobs_fd, line, n) != n)
			fprintf(stderr, "vgm-shim: writing to %s failed: %s\n", blobs_path(), strerror(errno));
	}
	return ret;
}
