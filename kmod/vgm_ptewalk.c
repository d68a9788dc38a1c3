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
 *
 * Or write "ADDR PAGES" (ADDR page-aligned, PAGES >= 1): the entries of
 * [ADDR, ADDR + PAGES pages), one line per run of entries alike (same level,
 * w and type, PFNs following each other; or no entry), with n=PAGES of the
 * run after w= (after "none"), as many runs as fit in 4 KiB and at most
 * 65536 entries looked up: the reader asks again from where the last run
 * ends. What the suite reads for a whole mapping (65536 PTEs of a 256 MiB
 * blob would be 65536 queries one address at a time).
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
#include <linux/overflow.h>
#include <linux/pgtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#ifdef CONFIG_X86
#include <asm/msr.h>
#endif

/* the longest line walk_line() writes, and the entries a query looks up at most */
#define WALK_LINE_MAX	256
#define WALK_LOOKUPS	65536

/* per open file: the lines about the last address (range) written, walked then */
struct walk_file {
	struct mutex lock;	/* protects line and len */
	char line[4096];
	int len;
};

/* one entry of the page table, or none */
struct walk_entry {
	bool none;
	const char *level;
	unsigned long pfn;
	unsigned long end;	/* where the entry's range ends */
	u64 raw;
	bool raw_ok;
	bool writable;
	char type[128];
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

/* the entry of addr in mm (mmap_read_lock held) */
static void walk_one(struct mm_struct *mm, unsigned long addr, struct walk_entry *e)
{
	struct follow_pfnmap_args args = { .address = addr };

	memset(e, 0, sizeof(*e));
	e->end = (addr & PAGE_MASK) + PAGE_SIZE;
	args.vma = find_vma(mm, addr);
	/* no entry up to the next VMA, or to the end of one that is not PFN-mapped */
	if (!args.vma || args.vma->vm_start > addr) {
		e->none = true;
		e->end = args.vma ? args.vma->vm_start : ULONG_MAX;
		return;
	}
	if (!(args.vma->vm_flags & (VM_IO | VM_PFNMAP))) {
		e->none = true;
		e->end = args.vma->vm_end;
		return;
	}
	if (follow_pfnmap_start(&args)) {
		e->none = true;
		return;
	}
	e->raw_ok = true;
	if (args.addr_mask == PAGE_MASK) {
		e->level = "pte";
		e->raw = pte_val(pfn_pte(args.pfn, args.pgprot));
	} else if (args.addr_mask == PMD_MASK) {
		e->level = "pmd";
#ifdef CONFIG_PGTABLE_HAS_HUGE_LEAVES
		/* args.pfn is the page's own, inside the PMD's range */
		e->raw = pmd_val(pfn_pmd(args.pfn & ~((PMD_SIZE >> PAGE_SHIFT) - 1),
					 args.pgprot));
#else
		e->raw_ok = false;
#endif
	} else if (args.addr_mask == PUD_MASK) {
		e->level = "pud";
		e->raw_ok = false;
	} else {
		e->level = "?";
		e->raw_ok = false;
	}
	if (args.addr_mask == PMD_MASK || args.addr_mask == PUD_MASK)
		e->end = (addr & args.addr_mask) + ~args.addr_mask + 1;
	e->pfn = args.pfn;
	e->writable = args.writable;
	decode(e->type, sizeof(e->type), args.pgprot, args.addr_mask != PAGE_MASK);
	follow_pfnmap_end(&args);
}

/* one line; pages < 0: the single-address form (no n=) */
static int walk_line(char *buf, size_t n, unsigned long addr,
		     const struct walk_entry *e, long pages)
{
	int len;

	if (e->none) {
		if (pages < 0)
			return scnprintf(buf, n, "addr=0x%lx none\n", addr);
		return scnprintf(buf, n, "addr=0x%lx none n=%ld\n", addr, pages);
	}
	len = scnprintf(buf, n, "addr=0x%lx level=%s pfn=0x%lx ", addr, e->level, e->pfn);
	if (e->raw_ok)
		len += scnprintf(buf + len, n - len, "raw=0x%016llx ", e->raw);
	else
		len += scnprintf(buf + len, n - len, "raw=? ");
	len += scnprintf(buf + len, n - len, "w=%d ", e->writable);
	if (pages >= 0)
		len += scnprintf(buf + len, n - len, "n=%ld ", pages);
	len += scnprintf(buf + len, n - len, "%s\n", e->type);
	return len;
}

/* whether next, at next_addr, continues the run that e starts at addr */
static bool walk_same(const struct walk_entry *e, unsigned long addr,
		      const struct walk_entry *next, unsigned long next_addr)
{
	if (e->none || next->none)
		return e->none == next->none;
	return !strcmp(e->level, next->level) && e->writable == next->writable &&
	       !strcmp(e->type, next->type) &&
	       next->pfn == e->pfn + ((next_addr - addr) >> PAGE_SHIFT);
}

/*
 * The runs of [addr, addr + pages pages) that fit in buf; pages < 0: the
 * one entry of addr.
 */
static int walk(char *buf, size_t n, unsigned long addr, long pages)
{
	struct mm_struct *mm = current->mm;
	struct walk_entry e, next;
	unsigned long end, at, run, bytes;
	unsigned int lookups = 0;
	int len = 0;

	if (!mm)
		return -EINVAL;
	if (pages > 0 && ((addr & ~PAGE_MASK) ||
			  check_shl_overflow((unsigned long)pages, PAGE_SHIFT, &bytes) ||
			  check_add_overflow(addr, bytes, &end)))
		return -EINVAL;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	if (pages <= 0) {
		walk_one(mm, addr, &e);
		len = walk_line(buf, n, addr, &e, -1);
		mmap_read_unlock(mm);
		return len;
	}
	/*
	 * Room for one more line, and at most WALK_LOOKUPS entries looked up
	 * a query (the reader asks again from where the answer stops): the
	 * mmap lock is not held for long, and a fatal signal ends the walk.
	 */
	while (addr < end && n - len > WALK_LINE_MAX && lookups < WALK_LOOKUPS) {
		walk_one(mm, addr, &e);
		at = min(e.end, end);
		while (at < end && ++lookups < WALK_LOOKUPS) {
			walk_one(mm, at, &next);
			if (!walk_same(&e, addr, &next, at))
				break;
			at = min(next.end, end);
			if (fatal_signal_pending(current))
				break;
			cond_resched();
		}
		if (fatal_signal_pending(current))
			break;
		run = (at - addr) >> PAGE_SHIFT;
		len += walk_line(buf + len, n - len, addr, &e, run);
		addr = at;
	}
	mmap_read_unlock(mm);
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
	long pages = -1;
	char req[64], *arg;
	int ret;

	if (len >= sizeof(req))
		return -EINVAL;
	if (copy_from_user(req, ubuf, len))
		return -EFAULT;
	req[len] = '\0';
	/* "ADDR" or "ADDR PAGES", any base */
	arg = strim(req);
	ret = kstrtoul(strsep(&arg, " "), 0, &addr);
	if (ret)
		return ret;
	if (arg) {
		ret = kstrtol(skip_spaces(arg), 0, &pages);
		if (ret)
			return ret;
		if (pages < 1)
			return -EINVAL;
	}
	if (mutex_lock_interruptible(&wf->lock))
		return -EINTR;
	ret = walk(wf->line, sizeof(wf->line), addr, pages);
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
