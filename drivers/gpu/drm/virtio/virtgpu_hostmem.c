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
 * never exists on bare metal, and KVM does not take memory types from the
 * guest's MTRRs (unless the guest has non-coherent DMA); but the guest's PAT
 * does.
 *
 * So at probe, before anything maps it, a window below 4 GiB that a
 * write-back mapping would not get write-back is assigned again: on the root
 * bus the PCI core tries space above 4 GiB first for a 64-bit BAR. Where that
 * is not possible (no room, a bridge, firmware that asks to keep the PCI
 * configuration) or not write-back either (OVMF marks its whole 64-bit
 * aperture uncachable), the window keeps its place, blobs the host maps
 * cached are refused as before, and a notice says why.
 *
 * The BAR belongs to the virtio-pci device under this virtio device; moving
 * it here is possible only because nothing has mapped or requested it yet
 * (virtio-pci requests the BARs of its own capabilities only).
 */

#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/virtio_config.h>

#include <asm/memtype.h>

#include "virtgpu_drv.h"

static bool relocate_window = true;
module_param(relocate_window, bool, 0444);
MODULE_PARM_DESC(relocate_window,
		 "On x86, move a host-visible window that the guest's MTRRs make uncachable to write-back PCI space above 4 GiB at probe (default: on)");

/*
 * Whether a write-back mapping of the range gets write-back: the type that
 * PAT reserves for it, MTRRs merged over the whole range, read from a kernel
 * mapping of it. 1 yes, 0 no, -ENOMEM if it cannot be mapped (a conflicting
 * reservation, no address space): unknown.
 */
static int hostmem_is_wb(resource_size_t start, resource_size_t len)
{
	unsigned long bits;
	void __iomem *va;

	va = ioremap_cache(start, len);
	if (!va)
		return -ENOMEM;
	bits = virtio_gpu_hostmap_pat_bits(va);
	iounmap(va);
	return bits == -1UL ? -ENOMEM : !bits;
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

/* Why the BAR of the window cannot move, or NULL. */
static const char *hostmem_fixed(struct pci_dev *pdev, int bar)
{
	struct resource *res = pci_resource_n(pdev, bar);
	u32 table, pba;

	/* the PCI core tries above 4 GiB first only in root bus windows */
	if (!pci_is_root_bus(pdev->bus))
		return "not on the root bus";
	if (pci_find_host_bridge(pdev->bus)->preserve_config)
		return "the firmware asks to preserve the PCI configuration";
	if (!(res->flags & IORESOURCE_MEM_64) || (res->flags & IORESOURCE_PCI_FIXED))
		return "not a movable 64-bit BAR";
	if (res->child)
		return "BAR in use";
	if (pdev->msix_cap) {
		pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
		pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_PBA, &pba);
		if ((table & PCI_MSIX_TABLE_BIR) == bar || (pba & PCI_MSIX_PBA_BIR) == bar)
			return "BAR shared with MSI-X";
	}
	return NULL;
}

/**
 * virtio_gpu_hostmem_place - put the host-visible window in write-back space
 * @vdev: the virtio device, in probe, before the window is read and used
 *
 * If a write-back mapping of a window below 4 GiB would not get write-back,
 * assign its 64-bit BAR again: on the root bus, the PCI core tries space
 * above 4 GiB first. If that fails, the BAR keeps its place. Logs the
 * outcome once per probe where the window is not write-back.
 *
 * Return: 0, or -EBUSY if the BAR could not be claimed again (the window is
 * then not usable).
 */
int virtio_gpu_hostmem_place(struct virtio_device *vdev)
{
	struct virtio_shm_region region;
	struct resource *res, saved;
	const char *why = NULL;
	resource_size_t from, to;
	struct pci_dev *pdev;
	int bar;

	if (!relocate_window || !pat_enabled() || !dev_is_pci(vdev->dev.parent) ||
	    !virtio_get_shm_region(vdev, &region, VIRTIO_GPU_SHM_ID_HOST_VISIBLE) ||
	    hostmem_is_wb(region.addr, region.len) != 0)
		return 0;

	from = region.addr;
	pdev = to_pci_dev(vdev->dev.parent);
	bar = hostmem_bar(pdev, region.addr);
	if (bar < 0)
		return 0;
	res = pci_resource_n(pdev, bar);
	if (region.addr + region.len > SZ_4G)
		why = "above 4 GiB already, where OVMF marks PCI space uncachable too";
	else
		why = hostmem_fixed(pdev, bar);
	if (why)
		goto stays;

	saved = *res;
	if (pci_release_resource(pdev, bar)) {
		why = "cannot release its BAR";
		goto stays;
	}
	if (pci_assign_resource(pdev, bar)) {
		/* the BAR register still decodes the old place: claim it again */
		res->start = saved.start;
		res->end = saved.end;
		res->flags = saved.flags;
		if (pci_claim_resource(pdev, bar)) {
			dev_err(&vdev->dev, "host-visible window %pR: cannot claim it again\n",
				res);
			return -EBUSY;
		}
		why = "no room above 4 GiB";
		goto stays;
	}

	to = pci_resource_start(pdev, bar) + (from - saved.start);
	if (hostmem_is_wb(to, region.len) == 1) {
		dev_info(&vdev->dev,
			 "host-visible window moved from %pa to %pa: write-back there\n",
			 &from, &to);
		return 0;
	}
	from = to;
	why = "not write-back where it moved";
stays:
	dev_notice(&vdev->dev,
		   "host-visible window at %pa is uncachable in the guest's MTRRs (%s): blobs the host maps cached will be refused; firmware that leaves the window write-back fixes that, and virtio_gpu.platform_attr=1 maps them as PAT allows (UC-), as before\n",
		   &from, why);
	return 0;
}
