// SPDX-License-Identifier: MIT
/*
 * virtgpu_map_bench: cost of mapping blobs, for whichever virtio-gpu driver
 * is loaded. For each blob kind (host-visible, guest memory) and size:
 *
 *   mmap_us      mmap() of the whole blob
 *   touch_all_us reading one word of every 4 KiB page, first touch
 *   mmap_touch_us mmap() and touch_all of the same repetition: what a client
 *                that maps a blob and fills it pays
 *   touch_one_us reading one word of the last page of a fresh mapping
 *   faults       minor faults taken by touch_all (getrusage)
 *   pte_kb       VmPTE growth while the blob is mapped and touched
 *   munmap_us    munmap() of the touched mapping
 *
 * Prints CSV: driver,kind,size,metric,median,min,max,reps
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "virtgpu_map_lib.h"

#define MAX_REPS 64

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static long vmpte_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPTE: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *drv, const char *kind, uint64_t size,
		   const char *metric, double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	printf("%s,%s,%llu,%s,%.3f,%.3f,%.3f,%d\n", drv, kind,
	       (unsigned long long)size, metric, v[n / 2], v[0], v[n - 1], n);
}

static int bench_one(int fd, const char *drv, const char *kind, uint64_t size,
		     int reps)
{
	double t_mmap[MAX_REPS], t_all[MAX_REPS], t_one[MAX_REPS];
	double t_unmap[MAX_REPS], faults[MAX_REPS], pte[MAX_REPS];
	double t_both[MAX_REPS];
	bool host = !strcmp(kind, "host");
	struct vgm_blob b;
	uint64_t off;
	int r, err;

	err = __vgm_blob_create(fd, size,
				host ? VIRTGPU_BLOB_MEM_HOST3D : VIRTGPU_BLOB_MEM_GUEST,
				VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &b);
	if (err) {
		fprintf(stderr, "# %s %s %llu: blob create failed: %s\n", drv,
			kind, (unsigned long long)size, strerror(-err));
		return -1;
	}
	if (__vgm_map_offset(fd, b.handle, &off)) {
		fprintf(stderr, "# %s %s %llu: VIRTGPU_MAP failed\n", drv, kind,
			(unsigned long long)size);
		vgm_gem_close(fd, b.handle);
		return -1;
	}
	for (r = 0; r < reps; r++) {
		volatile uint32_t *p;
		double t0, t1;
		long f0, k0;
		uint64_t i;
		uint32_t sum = 0;

		k0 = vmpte_kb();
		t0 = now_us();
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		t1 = now_us();
		if (p == MAP_FAILED) {
			fprintf(stderr, "# %s %s %llu: mmap: %s\n", drv, kind,
				(unsigned long long)size, strerror(errno));
			vgm_gem_close(fd, b.handle);
			return -1;
		}
		t_mmap[r] = t1 - t0;
		f0 = minflt();
		t0 = now_us();
		for (i = 0; i < size; i += 4096)
			sum += p[i / 4];
		t1 = now_us();
		t_all[r] = t1 - t0;
		t_both[r] = t_mmap[r] + t_all[r];
		faults[r] = minflt() - f0;
		pte[r] = vmpte_kb() - k0;
		t0 = now_us();
		munmap((void *)p, size);
		t_unmap[r] = now_us() - t0;

		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		if (p == MAP_FAILED)
			return -1;
		t0 = now_us();
		sum += p[(size - 4096) / 4];
		t_one[r] = now_us() - t0;
		munmap((void *)p, size);
		if (sum == 0xdeadbeef)
			fprintf(stderr, "#\n");
	}
	vgm_gem_close(fd, b.handle);
	report(drv, kind, size, "mmap_us", t_mmap, reps);
	report(drv, kind, size, "touch_all_us", t_all, reps);
	report(drv, kind, size, "mmap_touch_us", t_both, reps);
	report(drv, kind, size, "touch_one_us", t_one, reps);
	report(drv, kind, size, "faults", faults, reps);
	report(drv, kind, size, "pte_kb", pte, reps);
	report(drv, kind, size, "munmap_us", t_unmap, reps);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *drv = argc > 1 ? argv[1] : "unknown";
	uint64_t max = argc > 2 ? strtoull(argv[2], NULL, 0) : 128ull << 20;
	int reps = argc > 3 ? atoi(argv[3]) : 9;
	uint64_t size;
	int fd;

	if (reps < 1 || reps > MAX_REPS)
		reps = 9;
	fd = vgm_open_render();
	if (fd < 0 || __vgm_context_init(fd, 2)) {
		fprintf(stderr, "# no virtio-gpu render node with a virgl context\n");
		return 77;
	}
	printf("driver,kind,size,metric,median,min,max,reps\n");
	/* from one page up: Mesa's blobs start at 4 KiB (make run's histogram) */
	for (size = 4 << 10; size <= max; size *= 4) {
		bench_one(fd, drv, "host", size, reps);
		bench_one(fd, drv, "guest", size, reps);
	}
	close(fd);
	return 0;
}
