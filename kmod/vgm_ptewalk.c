// SPDX-License-Identifier: GPL-2.0
/*
 * vgm_ptewalk: what the calling process's page table says about one of its
 * PFN-mapped user addresses, decoded by the hardware's rules. Test-only, not
 * part of the driver: the IGT suite reads it to check cache attributes on
 * any architecture (arm64's ptdump shows kernel tables only).
 *
 * debugfs vgm_ptewalk (root): write a user address (text, any base); the
 * walk happens then, in the writer's own mm; read the line about it:
 *
 *   addr=0x7f0000200000 level=pmd pfn=0x100200 raw=0x80000001002000e7 w=1
 *     type=WB (x86 PAT index 0: PAT=0 PCD=0 PWT=0, PAT MSR 0x0407050600070106)
 *   addr=0xffff80000000 level=pte pfn=0x8000100 raw=0x68000080001f43 w=1
 *     type=Normal-NC (arm64 AttrIndx 2, MAIR 0x44)
 *
 * (one line each; wrapped here)
 *
 * or "addr=... none" where no PFN mapping (VM_IO/VM_PFNMAP) has an entry.
 * pfn is the PFN of the page at addr, also inside a PMD or PUD entry; raw is
 * the entry rebuilt from its PFN and protection (a PTE, or a PMD), "?" for
 * a PUD.
 * On arm64 the type is stage 1's: under KVM with FWB the effective memory
 * type also depends on stage 2 (under TCG it does not).
 * The walk is follow_pfnmap_start(), under mmap_read_lock; the raw entry is
 * rebuilt from its PFN and protection bits.
 */

#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#ifdef CONFIG_X86
#include <asm/msr.h>
#endif

/* per open file: the line about the last address written, walked then */
struct walk_file {
	struct mutex lock;	/* protects line and len */
	char line[256];
	int len;
};

#ifdef CONFIG_X86
static const char *const x86_types[8] = {
	[0] = "UC", [1] = "WC", [4] = "WT", [5] = "WP", [6] = "WB", [7] = "UC-",
};

static int decode(char *buf, size_t n, pgprot_t prot, bool leaf_large)
{
	unsigned long v = pgprot_val(prot);
	bool pat = leaf_large ? v & _PAGE_PAT_LARGE : v & _PAGE_PAT;
	bool pcd = v & _PAGE_PCD, pwt = v & _PAGE_PWT;
	unsigned int idx = (pat << 2) | (pcd << 1) | pwt;
	const char *t;
	u64 msr;

	/* without PAT, PCD and PWT alone: the architecture's fixed meaning */
	if (!cpu_feature_enabled(X86_FEATURE_PAT) || rdmsrq_safe(MSR_IA32_CR_PAT, &msr))
		msr = 0x0007040600070406ULL;	/* the PAT MSR's reset value */
	t = x86_types[(msr >> (idx * 8)) & 7];
	return scnprintf(buf, n,
			 "type=%s (x86 PAT index %u: PAT=%d PCD=%d PWT=%d, PAT MSR 0x%016llx)",
			 t ?: "reserved", idx, pat, pcd, pwt, msr);
}
#elif defined(CONFIG_ARM64)
static const char *arm64_mair_name(u8 attr)
{
	switch (attr) {
	case 0x00: return "Device-nGnRnE";
	case 0x04: return "Device-nGnRE";
	case 0x08: return "Device-nGRE";
	case 0x0c: return "Device-GRE";
	case 0x44: return "Normal-NC";
	case 0xbb: return "Normal-WT";
	case 0xf0: return "Normal-Tagged";
	case 0xff: return "Normal-WB";
	default: return "other";
	}
}

static int decode(char *buf, size_t n, pgprot_t prot, bool leaf_large)
{
	unsigned int idx = (pgprot_val(prot) & PTE_ATTRINDX_MASK) >> 2;
	u64 mair = read_sysreg(mair_el1);
	u8 attr = mair >> (idx * 8);

	return scnprintf(buf, n, "type=%s (arm64 AttrIndx %u, MAIR 0x%02x)",
			 arm64_mair_name(attr), idx, attr);
}
#else
static int decode(char *buf, size_t n, pgprot_t prot, bool leaf_large)
{
	return scnprintf(buf, n, "type=unknown (prot 0x%llx)",
			 (unsigned long long)pgprot_val(prot));
}
#endif

static int walk(char *buf, size_t n, unsigned long addr)
{
	struct follow_pfnmap_args args = { .address = addr };
	struct mm_struct *mm = current->mm;
	const char *level;
	bool raw_ok;
	u64 raw = 0;
	int len;

	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	args.vma = vma_lookup(mm, addr);
	if (!args.vma || follow_pfnmap_start(&args)) {
		mmap_read_unlock(mm);
		return scnprintf(buf, n, "addr=0x%lx none\n", addr);
	}
	raw_ok = true;
	if (args.addr_mask == PAGE_MASK) {
		level = "pte";
		raw = pte_val(pfn_pte(args.pfn, args.pgprot));
	} else if (args.addr_mask == PMD_MASK) {
		level = "pmd";
#ifdef CONFIG_PGTABLE_HAS_HUGE_LEAVES
		/* args.pfn is the page's own, inside the PMD's range */
		raw = pmd_val(pfn_pmd(args.pfn & ~((PMD_SIZE >> PAGE_SHIFT) - 1),
				      args.pgprot));
#else
		raw_ok = false;
#endif
	} else if (args.addr_mask == PUD_MASK) {
		level = "pud";
		raw_ok = false;
	} else {
		level = "?";
		raw_ok = false;
	}
	len = scnprintf(buf, n, "addr=0x%lx level=%s pfn=0x%lx ", addr, level, args.pfn);
	if (raw_ok)
		len += scnprintf(buf + len, n - len, "raw=0x%016llx ", raw);
	else
		len += scnprintf(buf + len, n - len, "raw=? ");
	len += scnprintf(buf + len, n - len, "w=%d ", args.writable);
	len += decode(buf + len, n - len, args.pgprot, args.addr_mask != PAGE_MASK);
	follow_pfnmap_end(&args);
	mmap_read_unlock(mm);
	len += scnprintf(buf + len, n - len, "\n");
	return len;
}

static int walk_open(struct inode *inode, struct file *file)
{
	struct walk_file *wf = kzalloc_obj(*wf);

	if (!wf)
		return -ENOMEM;
	mutex_init(&wf->lock);
	file->private_data = wf;
	return 0;
}

static int walk_release(struct inode *inode, struct file *file)
{
	struct walk_file *wf = file->private_data;

	mutex_destroy(&wf->lock);
	kfree(wf);
	return 0;
}

/* the walk happens here, in the writer's mm; a read returns its line */
static ssize_t walk_write(struct file *file, const char __user *ubuf,
			  size_t len, loff_t *ppos)
{
	struct walk_file *wf = file->private_data;
	unsigned long addr;
	int ret;

	ret = kstrtoul_from_user(ubuf, len, 0, &addr);
	if (ret)
		return ret;
	mutex_lock(&wf->lock);
	ret = walk(wf->line, sizeof(wf->line), addr);
	wf->len = ret < 0 ? 0 : ret;
	mutex_unlock(&wf->lock);
	return ret < 0 ? ret : len;
}

static ssize_t walk_read(struct file *file, char __user *ubuf, size_t len,
			 loff_t *ppos)
{
	struct walk_file *wf = file->private_data;
	ssize_t ret;

	mutex_lock(&wf->lock);
	ret = wf->len ? simple_read_from_buffer(ubuf, len, ppos, wf->line, wf->len) :
			-EDESTADDRREQ;
	mutex_unlock(&wf->lock);
	return ret;
}

static const struct file_operations walk_fops = {
	.owner = THIS_MODULE,
	.open = walk_open,
	.release = walk_release,
	.read = walk_read,
	.write = walk_write,
	.llseek = default_llseek,
};

static struct dentry *walk_dentry;

static int __init vgm_ptewalk_init(void)
{
	walk_dentry = debugfs_create_file("vgm_ptewalk", 0600, NULL, NULL, &walk_fops);
	return 0;
}

static void __exit vgm_ptewalk_exit(void)
{
	debugfs_remove(walk_dentry);
}

module_init(vgm_ptewalk_init);
module_exit(vgm_ptewalk_exit);
MODULE_DESCRIPTION("Test-only: the caller's page-table entry of a PFN-mapped address, decoded");
MODULE_LICENSE("GPL");
