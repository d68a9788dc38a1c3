// SPDX-License-Identifier: MIT
/*
 * vgm_probe: one line for the result table of scripts/run.sh, read from the
 * guest itself: for a 4 MiB host-visible blob, what the host reported (uapi
 * query where the kernel has it), whether mmap succeeded, the cache mode and
 * level of the process's own PTEs (read as the IGT library reads them), and
 * the PAT memtype reserved for the blob's physical range.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "virtgpu_map_lib.h"

#define SIZE (4ull << 20)

int main(void)
{
	const char *mode = getenv("VGM_HOST_MAPINFO");
	struct vgm_resource_info ri = { 0 };
	struct vgm_memtype *mt;
	struct vgm_ptdump pt;
	struct vgm_span s;
	char query[64] = "n/a", pat[48] = "-", pte[48] = "-";
	volatile uint32_t *p;
	struct vgm_blob b;
	uint64_t off, i, phys;
	uint64_t val = 0;
	int fd, err, n, k;

	fd = vgm_open_render();
	if (fd < 0 || __vgm_context_init(fd, 2)) {
		printf("probe: no virtio-gpu virgl context\n");
		return 0;
	}
	err = __vgm_blob_create(fd, SIZE, VIRTGPU_BLOB_MEM_HOST3D,
				VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &b);
	if (err || __vgm_map_offset(fd, b.handle, &off)) {
		printf("probe: host=%s blob create/map failed (%s)\n", mode ? mode : "?",
		       strerror(err ? -err : errno));
		return 0;
	}
	/* mmap first: it waits for the host's answer, the query does not */
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	err = p == MAP_FAILED ? errno : 0;
	if (!__vgm_getparam(fd, VIRTGPU_PARAM_MAP_CACHING, &val) && val) {
		ri.bo_handle = b.handle;
		if (!__vgm_query(fd, b.handle, &ri))
			snprintf(query, sizeof(query), "%s map_info=0x%x",
				 vgm_caching_name(ri.map_caching), ri.map_info);
	}
	if (p == MAP_FAILED) {
		printf("probe: host=%s | mmap %s | query %s\n", mode ? mode : "?",
		       strerror(err), query);
		return 0;
	}
	for (i = 0; i < SIZE; i += 4096)
		p[i / 4] = (uint32_t)i;
	if (!vgm_ptdump_read(&pt, (const void *)p, SIZE)) {
		vgm_ptdump_span(&pt, (uintptr_t)p, SIZE, &s);
		snprintf(pte, sizeof(pte), "%s%s%s", vgm_cache_name(s.cache),
			 s.pmd_bytes ? " pmd" : "", s.pte_bytes ? " pte" : "");
		vgm_ptdump_free(&pt);
	}
	/* where the driver placed the blob (debugfs, see vgm_blob_try_phys()) */
	if (vgm_blob_try_phys(&b, &phys) && !vgm_pat_list(&mt, &n)) {

		for (k = 0; k < n; k++)
			if (mt[k].start <= phys && phys < mt[k].end)
				snprintf(pat, sizeof(pat), "%s", vgm_cache_name(mt[k].type));
		free(mt);
		if (!strcmp(pat, "-"))
			snprintf(pat, sizeof(pat), "none reserved");
	}
	printf("probe: host=%s | PTE %s | PAT %s | query %s\n", mode ? mode : "?",
	       pte, pat, query);
	munmap((void *)p, SIZE);
	return 0;
}
