// SPDX-License-Identifier: MIT
/*
 * vgm_vkmap: a Vulkan client that maps host-visible memory, as applications
 * do, and reports what the guest's page tables say about that mapping.
 *
 * On the first Vulkan device whose name has NAME in it (default "Venus"), for
 * every memory type that is HOST_VISIBLE: allocate SIZE bytes (default 1 MiB),
 * vkMapMemory() it, write a pattern and read it back, and read the mapping's
 * page-table entries as the IGT suite does (virtgpu_map_lib: the vgm_ptewalk
 * module, or x86 ptdump without it). One line per memory type:
 *
 *   vkmap: type 0 DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT|HOST_CACHED: PTE WB (1024 KiB in PTEs, 0 KiB in PMDs, 0 KiB missing), pattern read back
 *
 * The memory type is the library's (x86: WB, WC, UC-, UC from Linux's PAT
 * setup; arm64: Normal-WB, Normal-NC, Device-... from MAIR); more than one
 * type inside one mapping is reported as "mixed" (an alias inside the
 * mapping). Exit status: 0 if every type mapped,
 * read back its pattern, and had one cache mode; 1 otherwise; 2 if there is
 * no such device (77 is not used: the caller counts a missing device as a
 * failure).
 *
 * Usage: vgm_vkmap [NAME [SIZE_KIB]]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "virtgpu_map_lib.h"

/*
 * The memory type of [start, start + len) from this process's page tables,
 * as the IGT library reads them (x86: ptdump; elsewhere: the vgm_ptewalk
 * module): "WB", "WC", "UC-", "Normal-NC" ..., "mixed", or "none" (no entry:
 * not faulted in).
 */
static void ptdump_mode(uintptr_t start, size_t len, char *out, size_t outlen)
{
	struct vgm_ptdump pt;
	struct vgm_span s;
	int ret;

	ret = vgm_ptdump_read(&pt, (const void *)start, len);
	if (ret) {
		snprintf(out, outlen, "unknown (%s: %s)", vgm_pt_source_name(), strerror(-ret));
		return;
	}
	vgm_ptdump_span(&pt, start, len, &s);
	vgm_ptdump_free(&pt);
	if (!s.present)
		snprintf(out, outlen, "none (no entry)");
	else
		snprintf(out, outlen, "%s (%llu KiB in PTEs, %llu KiB in PMDs, %llu KiB missing)",
			 s.cache == VGM_CACHE_MIXED ? "mixed" : vgm_cache_name(s.cache),
			 (unsigned long long)s.pte_bytes / 1024, (unsigned long long)s.pmd_bytes / 1024,
			 (unsigned long long)s.missing / 1024);
}

static void flags_name(VkMemoryPropertyFlags fl, char *out, size_t outlen)
{
	static const struct { VkMemoryPropertyFlags bit; const char *name; } names[] = {
		{ VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, "DEVICE_LOCAL" },
		{ VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, "HOST_VISIBLE" },
		{ VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, "HOST_COHERENT" },
		{ VK_MEMORY_PROPERTY_HOST_CACHED_BIT, "HOST_CACHED" },
	};
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(fl & names[i].bit))
			continue;
		if (out[0])
			strncat(out, "|", outlen - strlen(out) - 1);
		strncat(out, names[i].name, outlen - strlen(out) - 1);
	}
}

int main(int argc, char **argv)
{
	const char *want = argc > 1 ? argv[1] : "Venus";
	VkDeviceSize size = (argc > 2 ? strtoull(argv[2], NULL, 0) : 1024) * 1024;
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "vgm_vkmap",
		.apiVersion = VK_API_VERSION_1_1,
	};
	VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkPhysicalDeviceMemoryProperties mp;
	VkPhysicalDeviceProperties props;
	VkPhysicalDevice pdevs[8], pdev = VK_NULL_HANDLE;
	uint32_t n = 8, i;
	VkInstance inst;
	VkDevice dev;
	int bad = 0, mapped = 0;
	VkResult r;

	r = vkCreateInstance(&ici, NULL, &inst);
	if (r != VK_SUCCESS) {
		printf("vkmap: vkCreateInstance: %d\n", r);
		return 2;
	}
	vkEnumeratePhysicalDevices(inst, &n, pdevs);
	for (i = 0; i < n && pdev == VK_NULL_HANDLE; i++) {
		vkGetPhysicalDeviceProperties(pdevs[i], &props);
		if (strstr(props.deviceName, want))
			pdev = pdevs[i];
	}
	if (pdev == VK_NULL_HANDLE) {
		printf("vkmap: no device named *%s* among %u\n", want, n);
		vkDestroyInstance(inst, NULL);
		return 2;
	}
	printf("vkmap: device %s\n", props.deviceName);

	{
		float prio = 1.0f;
		VkDeviceQueueCreateInfo qci = {
			.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
			.queueFamilyIndex = 0,
			.queueCount = 1,
			.pQueuePriorities = &prio,
		};
		VkDeviceCreateInfo dci = {
			.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
			.queueCreateInfoCount = 1,
			.pQueueCreateInfos = &qci,
		};

		r = vkCreateDevice(pdev, &dci, NULL, &dev);
		if (r != VK_SUCCESS) {
			printf("vkmap: vkCreateDevice: %d\n", r);
			vkDestroyInstance(inst, NULL);
			return 1;
		}
	}

	vkGetPhysicalDeviceMemoryProperties(pdev, &mp);
	for (i = 0; i < mp.memoryTypeCount; i++) {
		VkMemoryPropertyFlags fl = mp.memoryTypes[i].propertyFlags;
		VkMemoryAllocateInfo mai = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
			.allocationSize = size,
			.memoryTypeIndex = i,
		};
		char fname[128], mode[160];
		VkDeviceMemory mem;
		uint32_t *p;
		size_t k, words = size / sizeof(uint32_t);
		bool ok = true;

		if (!(fl & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
			continue;
		flags_name(fl, fname, sizeof(fname));
		r = vkAllocateMemory(dev, &mai, NULL, &mem);
		if (r != VK_SUCCESS) {
			printf("vkmap: type %u %s: vkAllocateMemory: %d\n", i, fname, r);
			bad++;
			continue;
		}
		r = vkMapMemory(dev, mem, 0, VK_WHOLE_SIZE, 0, (void **)&p);
		if (r != VK_SUCCESS) {
			printf("vkmap: type %u %s: vkMapMemory: %d\n", i, fname, r);
			vkFreeMemory(dev, mem, NULL);
			bad++;
			continue;
		}
		for (k = 0; k < words; k++)
			p[k] = (uint32_t)(k * 2654435761u) ^ i;
		for (k = 0; k < words; k++)
			ok &= p[k] == ((uint32_t)(k * 2654435761u) ^ i);
		ptdump_mode((uintptr_t)p, size, mode, sizeof(mode));
		printf("vkmap: type %u %s: PTE %s, pattern %s\n", i, fname, mode,
		       ok ? "read back" : "MISMATCH");
		if (!ok || !strncmp(mode, "mixed", 5) || !strncmp(mode, "none", 4))
			bad++;
		mapped++;
		vkUnmapMemory(dev, mem);
		vkFreeMemory(dev, mem, NULL);
	}
	vkDestroyDevice(dev, NULL);
	vkDestroyInstance(inst, NULL);
	if (!mapped)
		printf("vkmap: no host-visible memory type mapped\n");
	return bad || !mapped;
}
