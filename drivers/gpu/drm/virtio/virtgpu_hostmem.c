// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Where the host-visible window sits in the guest's physical address space.
 *
 * The window is host memory, mapped write-back on the host for the blobs the
 * host reports cached. On x86 a guest can map it write-back only where the
 * guest's MTRRs say write-back: PAT turns a write-back request anywhere else
 * into UC-, an alias of the host's mapping that the driver refuses. Firmware
 * marks PCI space uncachable: SeaBIOS the 32-bit PCI hole, where it places a
 * small window. That says nothing about this device, which is host RAM and
 * never exists on bare metal, and a hypervisor does not take the memory type
 * from the guest's MTRRs; but the guest's PAT does.
 *
 * So at probe, before anything maps it, a window that a write-back mapping
 * would not get write-back is moved to PCI space above 4 GiB, where the PCI
 * core places 64-bit BARs first, as GPU drivers that resize their BARs at
 * probe do. Where that space is uncachable too (UEFI firmware marks its
 * whole 64-bit aperture so), or the BAR cannot move, the window stays, and
 * blobs the host maps cached are refused as before: the notice names the
 * remedies.
 */

#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/virtio_config.h>

#include <asm/memtype.h>

#include "virtgpu_drv.h"

static bool relocate_window = true;
module_param(relocate_window, bool, 0444);
MODULE_PARM_DESC(relocate_window,
		 "On x86, move a host-visible window that the guest's MTRRs make uncachable to write-back PCI space above 4 GiB at probe (default: on)");

/*
 * Whether a write-back mapping of the range gets write-back: the type that
 * PAT reserves for it (MTRRs included), read from a kernel mapping.
 */
static bool hostmem_is_wb(resource_size_t start, resource_size_t len)
{
	unsigned int level;
	void __iomem *va;
	pgprot_t prot;
	pte_t *pte;
	bool wb = false;

	va = ioremap_cache(start, len);
	if (!va)
		return false;
	pte = lookup_address((unsigned long)va, &level);
	if (pte) {
		prot = __pgprot(pte_flags(*pte));
		if (level != PG_LEVEL_4K)
			prot = pgprot_large_2_4k(prot);
		wb = !(pgprot_val(prot) & _PAGE_CACHE_MASK);
	}
	iounmap(va);
	return wb;
}

/* The memory BAR of @pdev that holds @addr, or -1. */
static int hostmem_bar(struct pci_dev *pdev, resource_size_t addr)
{
	struct resource *res;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		res = pci_resource_n(pdev, i);
		if ((res->flags & IORESOURCE_MEM) && res->start <= addr &&
		    addr <= res->end)
			return i;
	}
	return -1;
}

/**
 * virtio_gpu_hostmem_place - put the host-visible window in write-back space
 * @vdev: the virtio device, in probe, before the window is read and used
 *
 * If a write-back mapping of the window would not get write-back, move its
 * 64-bit BAR to PCI space above 4 GiB. Logs what it did, once per probe.
 *
 * Return: 0, or -ENODEV if the BAR could not be assigned again (the window
 * is then unusable).
 */
int virtio_gpu_hostmem_place(struct virtio_device *vdev)
{
	struct virtio_shm_region region;
	struct pci_dev *pdev;
	struct resource *res;
	resource_size_t from, to, off;
	int bar, ret;
	u16 cmd;

	if (!relocate_window || !pat_enabled() || !dev_is_pci(vdev->dev.parent) ||
	    !virtio_get_shm_region(vdev, &region, VIRTIO_GPU_SHM_ID_HOST_VISIBLE) ||
	    hostmem_is_wb(region.addr, region.len))
		return 0;

	pdev = to_pci_dev(vdev->dev.parent);
	bar = hostmem_bar(pdev, region.addr);
	if (bar < 0)
		return 0;
	res = pci_resource_n(pdev, bar);
	from = region.addr;
	off = from - res->start;
	if (!(res->flags & IORESOURCE_MEM_64) ||
	    (res->flags & IORESOURCE_PCI_FIXED) || res->child) {
		dev_notice(&vdev->dev,
			   "host-visible window at %pa is uncachable in the guest's MTRRs and its BAR cannot move: blobs the host maps cached will be refused; a window above 4 GiB (hostmem=4G or more) avoids it\n",
			   &from);
		return 0;
	}

	/* as amdgpu does around a BAR resize: no decoding half-way */
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	pci_write_config_word(pdev, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	ret = pci_release_resource(pdev, bar);
	if (!ret)
		ret = pci_assign_resource(pdev, bar);
	pci_write_config_word(pdev, PCI_COMMAND, cmd);
	if (ret || (res->flags & IORESOURCE_UNSET)) {
		dev_err(&vdev->dev,
			"host-visible window: BAR %d could not be assigned again (%d): no host-visible memory\n",
			bar, ret);
		return -ENODEV;
	}

	to = res->start + off;
	if (virtio_get_shm_region(vdev, &region, VIRTIO_GPU_SHM_ID_HOST_VISIBLE) &&
	    hostmem_is_wb(region.addr, region.len))
		dev_info(&vdev->dev,
			 "host-visible window moved from %pa to %pa: the guest's MTRRs made it uncachable there, write-back here\n",
			 &from, &to);
	else
		dev_notice(&vdev->dev,
			   "host-visible window at %pa is uncachable in the guest's MTRRs, and so is every PCI window it can move to (UEFI firmware marks its 64-bit aperture so): blobs the host maps cached will be refused; removing that MTRR range (/proc/mtrr) before loading the driver, or virtio_gpu.platform_attr=1 (map them uncached, as before), avoids it\n",
			   &to);
	return 0;
}
