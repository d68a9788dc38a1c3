#!/usr/bin/env python3
"""Mutants of our virtio-gpu driver, for `make mutants` (scripts/mutants.sh).

Each mutant is one deliberate defect: exact text edits of a copy of the
patched tree's drivers/gpu/drm/virtio/ (mostly virtgpu_hostmap.c; also
virtgpu_vram.c, virtgpu_prime.c, virtgpu_vq.c and virtgpu_debugfs.c),
and the guest runs whose IGT subtests must catch it
(host map_info mode, host-visible window, igt_runner -t regex).
Every edit names an anchor that must occur exactly once in the file; a
driver change that moves an anchor stops the run before anything is built.

    mutants.py check SRC [NAME...]       every edit of every mutant (or these) applies to SRC
    mutants.py list [NAME...]            one line per guest run: name mode window filter
    mutants.py apply NAME SRC DST        make DST (sources only) SRC with NAME's edits
                                         ("baseline": none); files whose content does
                                         not change are left alone (incremental builds)
    mutants.py describe                  the mutants, their defects and killers
    mutants.py report OUTDIR             the table of a run; exit 1 unless every mutant
                                         was killed and every baseline run was clean
"""
import hashlib
import json
import os
import re
import sys

HOSTMAP = "virtgpu_hostmap.c"
VRAM = "virtgpu_vram.c"
PRIME = "virtgpu_prime.c"
VQ = "virtgpu_vq.c"
DEBUGFS = "virtgpu_debugfs.c"

# the guest's settings of one run: host map_info mode, window, subtests
WC = ("wc", "4G")


class Mutant:
    def __init__(self, name, what, edits, runs, arch="x86_64"):
        self.name, self.what, self.edits, self.runs = name, what, edits, runs
        # the guest architecture it runs in (VGM_ARCH of mutants.sh)
        self.arch = arch


def E(old, new, file=HOSTMAP):
    return (file, old, new)


# SeaBIOS puts a 256M window under an uncachable MTRR; our driver moves it
# above 4 GiB at probe unless told not to: the mutants of the PAT check need
# it to stay
NOMOVE = "virtio_gpu.relocate_window=0"


def R(mode, window, regex, cmdline="-"):
    """One guest: host map_info mode, window, igt_runner -t regex, and extra
    kernel parameters ("-": none)."""
    return (mode, window, regex, cmdline)


MUTANTS = [
    Mutant("decode-no-mask",
           "virtio_gpu_map_info_decode() switches on the whole map_info, not on its cache bits",
           [E("\tswitch (map_info & VIRTIO_GPU_MAP_CACHE_MASK) {\n",
              "\tswitch (map_info) {\n")],
           [R("raw:0x103", "4G", "mapping-whole|query-uapi")]),
    # Not the literal "no le32_to_cpu()": on the little-endian guests the IGT
    # runs on, that is the same code (equivalent mutant); reading the
    # answer in the wrong byte order is what a missing conversion does on
    # big-endian guests.
    Mutant("answer-byte-order",
           "virtio_gpu_hostmap_answer() reads map_info in the wrong byte order (be32_to_cpu)",
           [E("le32_to_cpu(map_info)", "be32_to_cpu((__force __be32)map_info)")],
           [R(*WC, "mapping-whole|query-uapi")]),
    Mutant("pgprot-ignores-attr",
           "virtio_gpu_map_attr_pgprot() always returns the base (cached) protection",
           [E("\tswitch (attr) {\n\tcase VIRTIO_GPU_MAP_ATTR_UNCACHED:\n\t\treturn hostmap_pgprot_uncached(base);\n",
              "\tswitch (attr) {\n\tcase VIRTIO_GPU_MAP_ATTR_UNCACHED:\n\t\treturn base;\n"),
            E("\tcase VIRTIO_GPU_MAP_ATTR_WC:\n\t\treturn pgprot_writecombine(base);\n",
              "\tcase VIRTIO_GPU_MAP_ATTR_WC:\n\t\treturn base;\n")],
           [R(*WC, "mapping-whole")]),
    Mutant("wc-as-uncached",
           "write-combining answers get the uncached protection",
           [E("\tcase VIRTIO_GPU_MAP_ATTR_WC:\n\t\treturn pgprot_writecombine(base);\n",
              "\tcase VIRTIO_GPU_MAP_ATTR_WC:\n\t\treturn pgprot_noncached(base);\n")],
           [R(*WC, "mapping-whole")]),
    Mutant("wc-reserved-uncached",
           "hostmap_reserve() reserves UC- (ioremap) for a write-combining answer",
           [E("\tcase VIRTIO_GPU_MAP_ATTR_WC:\n\t\tif (!arch_io_reserve_memtype_wc(phys, size)) {\n",
              "\tcase VIRTIO_GPU_MAP_ATTR_WC:\n\t\thm->vaddr = ioremap(phys, size);\n\t\tbreak;\n\t\tif (!arch_io_reserve_memtype_wc(phys, size)) {\n")],
           [R(*WC, "mapping-whole")]),
    Mutant("pat-check-skipped",
           "hostmap_check_pat() accepts whatever type PAT/MTRRs gave the reservation",
           [E("\tif (attr == VIRTIO_GPU_MAP_ATTR_NONE)\n\t\treturn 0;\n\n\twant = ",
              "\tif (attr == VIRTIO_GPU_MAP_ATTR_NONE || 1)\n\t\treturn 0;\n\n\twant = ")],
           # below 4 GiB the MTRRs make the host's WB UC-: only there it matters
           [R("cached", "256M", "mapping-whole", NOMOVE)]),
    Mutant("platform-attr-default-on",
           "the platform_attr opt-in is on by default: what PAT/MTRRs give is mapped instead of refused",
           [E("static bool platform_attr;\n", "static bool platform_attr = true;\n")],
           [R("cached", "256M", "mapping-whole", NOMOVE)]),
    Mutant("zap-noop",
           "hostmap_zap() zaps nothing: user PTEs survive a host unmap/remap",
           [E("\tdrm_vma_node_unmap(&obj->vma_node, obj->dev->anon_inode->i_mapping);\n",
              "\t(void)obj;\n")],
           [R(*WC, "hook-unmap|hook-remap|fork-revoke|dmabuf-outlives-revoke|fault-vs-unmap|reused-address")]),
    Mutant("remap-unserialised",
           "revokes of one blob are not serialised: two remaps can queue UNMAP, UNMAP, MAP, MAP",
           [E("\tif (mutex_lock_killable(&hm->revoke_lock))\n\t\treturn -EINTR;\n"
              "\tif (!hostmap_host_mapped(vram)) {\n\t\tret = remap ? hostmap_map_again(vram) : -ENXIO;\n",
              "\tif (!hostmap_host_mapped(vram)) {\n\t\tret = remap ? hostmap_map_again(vram) : -ENXIO;\n"),
            E("out_unlock:\n\tmutex_unlock(&hm->revoke_lock);\n\treturn ret;\n}\n#endif /* CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK */",
              "out_unlock:\n\treturn ret;\n}\n#endif /* CONFIG_DRM_VIRTIO_GPU_UNMAP_HOOK */")],
           [R(*WC, "remap-race")]),
    Mutant("retried-fault-sigbus",
           "a retried fault that finds the blob remapped again gets SIGBUS (back-to-back remaps fail faults)",
           [E("\tif (!fault_flag_allow_retry_first(vmf->flags))\n\t\treturn hostmap_settle(vram) ? VM_FAULT_SIGBUS : 0;\n",
              "\tif (!fault_flag_allow_retry_first(vmf->flags))\n\t\treturn VM_FAULT_SIGBUS;\n")],
           [R(*WC, "fault-vs-remap")]),
    Mutant("access-ignores-new-answer",
           ".access (ptrace, /proc/pid/mem) does not apply an answer that came after a remap: EIO until something else does",
           [E("\t/* an answer that came since a remap: apply it (never waits for the host) */\n"
              "\tret = hostmap_resolve_answered(vram);\n\tif (ret)\n\t\treturn ret == -EINTR ? ret : -EIO;\n\n", "")],
           [R(*WC, "hook-remap")]),
    Mutant("cancel-keeps-objects",
           "a command the removed device never answers is freed without putting its objects (upstream before patch 3)",
           [E("\tif (vbuf->objs)\n\t\tvirtio_gpu_array_put_free(vbuf->objs);\n\tfree_vbuf(vgdev, vbuf);\n",
              "\tfree_vbuf(vgdev, vbuf);\n", file=VQ)],
           [R("slow:3000", "4G", "device-remove")]),
    Mutant("cancel-fence-no-error",
           "the fence of a command the removed device never answers is signalled without an error, as if it ran (the landed driver before this fix)",
           [E("\t\tvirtio_gpu_fence_cancel(vgdev, le64_to_cpu(cmd->fence_id),\n\t\t\t\t\t-ENODEV);\n",
              "\t\tvirtio_gpu_fence_event_process(vgdev, le64_to_cpu(cmd->fence_id));\n", file=VQ)],
           [R("slow:3000", "4G", "device-remove")]),
    Mutant("debugfs-mm-unlocked",
           "the allocator's debugfs dump is printed without host_visible_lock (upstream before patch 4)",
           [E("\tspin_lock(&vgdev->host_visible_lock);\n\tdrm_mm_print(&vgdev->host_visible_mm, &p);\n"
              "\tspin_unlock(&vgdev->host_visible_lock);\n",
              "\tdrm_mm_print(&vgdev->host_visible_mm, &p);\n", file=DEBUGFS)],
           # (a race: 9 guests of 9 killed it; with a 3 s loop, 5 of 9)
           [R(*WC, "debugfs-mm-vs-unmap"), R("cached", "4G", "debugfs-mm-vs-unmap"),
            R("none", "4G", "debugfs-mm-vs-unmap")]),
    Mutant("wc-kernel-mapping",
           "x86 with PAT: a write-combined blob is mapped into the kernel whole to hold its reservation (the driver before item 12)",
           [E("\t\t\tprobe = ioremap_wc(phys, PAGE_SIZE);\n",
              "\t\t\thm->vaddr = ioremap_wc(phys, size);\n")],
           [R(*WC, "kernel-mapping")]),
    Mutant("uncached-unreserved",
           "x86_64 with PAT: UC- is left unreserved, as on 32-bit (no kernel mapping holds it)",
           [E("\t\tif (IS_ENABLED(CONFIG_X86_32))\n\t\t\treturn 0;\n",
              "\t\treturn 0;\n")],
           [R("uncached", "4G", "kernel-mapping|mapping-whole")]),
    Mutant("nopat-wc-accepted",
           "without PAT (nopat) a write-combined blob is mapped anyway: its PTEs can only say UC- (issue 8, item 9)",
           [E("\tif (!pat_enabled()) {\n\t\tif (attr != VIRTIO_GPU_MAP_ATTR_WC)\n\t\t\treturn 0;\n",
              "\tif (!pat_enabled()) {\n\t\treturn 0;\n")],
           [R("wc", "4G", "mapping-whole", "nopat")]),
    Mutant("dmabuf-own-mapping",
           "exported dma-bufs keep their own address space (upstream before patch 2): zaps miss their mappings",
           [E("\tbuf->file->f_mapping = dev->anon_inode->i_mapping;\n", "", file=PRIME)],
           [R(*WC, "hook-unmap|dmabuf-outlives-revoke")]),
    Mutant("shared-flag-required",
           "virtio_gpu_hostmap_mmap() refuses mappings without VM_SHARED, as the landed driver did: a read-only dma-buf mapped PROT_READ, MAP_SHARED fails (issue 8, item 1)",
           [E("\tif (is_cow_mapping(vma->vm_flags)) {\n",
              "\tif (!(vma->vm_flags & VM_SHARED)) {\n")],
           [R(*WC, "dmabuf-readonly")]),
    Mutant("private-allowed",
           "virtio_gpu_hostmap_mmap() accepts copy-on-write (MAP_PRIVATE) mappings",
           [E("\tif (is_cow_mapping(vma->vm_flags)) {\n",
              "\tif (0 && is_cow_mapping(vma->vm_flags)) {\n")],
           [R(*WC, "private-mapping")]),
    Mutant("access-ignores-prot",
           ".access writes into mappings without VM_WRITE (ptrace, /proc/pid/mem)",
           [E("\tif (write && !(vma->vm_flags & VM_WRITE))\n\t\treturn -EACCES;\n",
              "")],
           [R(*WC, "proc-mem-readonly|ptrace")]),  # ptrace, ptrace-readonly
    Mutant("wait-uninterruptible",
           "hostmap_settle() waits for the host uninterruptibly (wait_event)",
           [E("static int hostmap_settle(",
              "#define wait_event_uninterruptible(wq, cond) ({ wait_event(wq, cond); 0; })\n"
              "static int hostmap_settle("),
            E("wait_event_killable(", "wait_event_uninterruptible(")],
           [R("slow:3000", "4G", "killed-waiter")]),
    Mutant("fault-waits-locked",
           "hostmap_fault_wait() waits for the host with the fault lock held (no VM_FAULT_RETRY), NOPAGE when killed",
           [E("\tif (!fault_flag_allow_retry_first(vmf->flags))\n"
              "\t\treturn hostmap_settle(vram) ? VM_FAULT_SIGBUS : 0;\n"
              "\tif (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)\n"
              "\t\treturn VM_FAULT_RETRY;\n"
              "\n"
              "\tdrm_gem_object_get(obj);\n"
              "\trelease_fault_lock(vmf);\n"
              "\thostmap_settle(vram); /* killed: the retried fault sees the signal */\n"
              "\tdrm_gem_object_put(obj);\n"
              "\treturn VM_FAULT_RETRY;\n",
              "\t(void)obj;\n"
              "\treturn hostmap_settle(vram) ? VM_FAULT_NOPAGE : 0;\n")],
           [R("slow:3000", "4G", "killed-waiter")]),
    # The PMD path maps with the VMA's protection, which still has the
    # attribute of the answer at mmap time; after a remap to another answer
    # only PTEs have the new one. On x86 with PAT, vmf_insert_pfn_pmd() takes
    # the cache mode from the memtype reservation whatever the protection
    # says, so this defect shows only without PAT (nopat), where the
    # protection is all there is: cached -> uncached answers under one VMA.
    # (a VMA made under another memory type mapped with the new one is no
    # alias on x86: pte_modify() keeps the PTE's cache bits and PMDs check
    # the VMA's protection, so that defect is an arm64 mutant, below)
    Mutant("fault-prot-no-attr",
           "faults insert with the VMA's base protection, without the host's attribute (PMDs fall back to PTEs)",
           [E("\t\t\t\t     (obj->size >> PAGE_SHIFT) - pgoff, prot,\n",
              "\t\t\t\t     (obj->size >> PAGE_SHIFT) - pgoff, vm_get_page_prot(vma->vm_flags),\n")],
           [R(*WC, "huge-pmd|pmd-partial")]),
    Mutant("undefined-accepted",
           "virtio_gpu_map_attr_check() accepts undefined attributes",
           [E("\t\treturn 0;\n\tdefault:\n\t\treturn -EINVAL;\n",
              "\t\treturn 0;\n\tdefault:\n\t\treturn 0;\n")],
           [R("undefined", "4G", "mapping-whole|query-uapi")]),
    Mutant("revoked-state-not-set",
           "a host unmap leaves the state MAPPED: faults map the released window",
           [E("\t} else {\n"
              "\t\thm->err = -ENODEV;\n"
              "\t\tWRITE_ONCE(hm->state, VIRTIO_GPU_HOSTMAP_REVOKED);\n"
              "\t}\n",
              "\t} else {\n"
              "\t\thm->err = -ENODEV;\n"
              "\t}\n")],
           [R(*WC, "hook-unmap|fork-revoke")]),
    Mutant("query-blocking",
           "virtio_gpu_hostmap_query() waits for the host's answer (hostmap_settle)",
           [E("\tif (hostmap_host_mapped(vram)) {\n"
              "\t\tif (!hostmap_answered(vram))\n"
              "\t\t\tvirtio_gpu_notify(vgdev);\n"
              "\t\telse\n"
              "\t\t\tret = hostmap_resolve_answered(vram);\n"
              "\t\tif (ret)\n"
              "\t\t\treturn ret;\n"
              "\t}\n",
              "\tif (hostmap_host_mapped(vram)) {\n"
              "\t\tvirtio_gpu_notify(vgdev);\n"
              "\t\tret = hostmap_settle(vram);\n"
              "\t\tif (ret)\n"
              "\t\t\treturn -EINTR;\n"
              "\t}\n")],
           [R("slow:3000", "4G", "query-pending")]),
    Mutant("window-pmd-aligned",
           "blobs of 2 MiB or more are placed 2 MiB-aligned in the window (padding)",
           [E("\tret = drm_mm_insert_node(&vgdev->host_visible_mm, &vram->vram_node,\n"
              "\t\t\t\t bo->base.base.size);\n",
              "\tret = drm_mm_insert_node_generic(&vgdev->host_visible_mm, &vram->vram_node,\n"
              "\t\t\t\t\t bo->base.base.size,\n"
              "\t\t\t\t\t bo->base.base.size >= PMD_SIZE ? PMD_SIZE : 0,\n"
              "\t\t\t\t\t 0, DRM_MM_INSERT_BEST);\n", file=VRAM)],
           [R(*WC, "window-capacity|capacity-mixed")]),
    Mutant("strict-ignored",
           "strict_map_info is ignored: a host without attribute maps with the default",
           [E("\t\treturn strict ? -ENODATA : 0;\n",
              "\t\treturn 0;\n")],
           [R("none", "4G", "strict-none")]),
    Mutant("host-error-einval",
           "a failed RESOURCE_MAP_BLOB is reported as -EINVAL, not -EIO",
           [E("\t\thm->err = -EIO;\n", "\t\thm->err = -EINVAL;\n")],
           [R("error", "4G", "mapping-whole")]),
    # The operations the lifetime subtests are named after: each defect
    # breaks the fault that the operation is meant to take.
    Mutant("pgoff-ignores-vma",
           "faults compute the blob page from the address in the VMA alone, without vm_pgoff (a split or partly moved VMA maps the blob's first pages)",
           [E("\treturn vma->vm_pgoff - drm_vma_node_start(&obj->vma_node) +\n"
              "\t       ((addr - vma->vm_start) >> PAGE_SHIFT);\n",
              "\t(void)obj;\n"
              "\treturn (addr - vma->vm_start) >> PAGE_SHIFT;\n")],
           [R(*WC, "split-vma|mremap")]),
    Mutant("kernel-fault-sigbus",
           "faults taken in kernel mode (uaccess of a syscall, GUP) fail with SIGBUS",
           [E("\tif (addr < vma->vm_start || addr + (PAGE_SIZE << order) > vma->vm_end)\n",
              "\tif (!(vmf->flags & FAULT_FLAG_USER))\n"
              "\t\treturn VM_FAULT_SIGBUS;\n"
              "\tif (addr < vma->vm_start || addr + (PAGE_SIZE << order) > vma->vm_end)\n")],
           [R(*WC, "syscall-io|gup-users")]),
    Mutant("fork-dontcopy",
           "mappings are not inherited across fork (VM_DONTCOPY)",
           [E("\tvm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);\n",
              "\tvm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY);\n")],
           [R(*WC, "@fork$|fork-revoke")]),
    Mutant("fault-needs-handle",
           "faults fail once the blob has no GEM handle left (a mapping that outlives its handles and DRM file raises SIGBUS)",
           [E("\tif (addr < vma->vm_start || addr + (PAGE_SIZE << order) > vma->vm_end)\n",
              "\tif (!READ_ONCE(obj->handle_count))\n"
              "\t\treturn VM_FAULT_SIGBUS;\n"
              "\tif (addr < vma->vm_start || addr + (PAGE_SIZE << order) > vma->vm_end)\n")],
           [R(*WC, "close-fd|dmabuf-outlives")]),
    # A fault that fills PTEs itself must give them the memory type PAT
    # gives the faulting page (vmf_insert_pfn_prot()); with no attribute
    # from the host, below 4 GiB, that is UC- (MTRR), not the base WB.
    Mutant("fill-ignores-reservation",
           "the PTEs a fault fills get the attribute's protection, not the memory type of the blob's reservation",
           [E("\treturn pgprot_decrypted(hostmap_platform_prot(hm, prot));\n",
              "\treturn pgprot_decrypted(prot);\n")],
           [R("none", "256M", "mapping-whole|split-vma", NOMOVE)]),
    Mutant("platform-attr-reports-host",
           "with platform_attr=1, RESOURCE_INFO reports the host's attribute, not the one PAT gave the guest",
           [E("\t\tvram->hostmap.eff = got == 0 ? VIRTIO_GPU_MAP_ATTR_CACHED :\n"
              "\t\t\t\t    got == _PAGE_PWT ? VIRTIO_GPU_MAP_ATTR_WC :\n"
              "\t\t\t\t    VIRTIO_GPU_MAP_ATTR_UNCACHED;\n",
              "\t\tvram->hostmap.eff = attr;\n")],
           [R("cached", "256M", "platform-attr", NOMOVE)]),
    Mutant("relocate-noop",
           "virtio_gpu_hostmem_place() leaves a window the MTRRs make uncachable where it is",
           [E("\tif (!relocate_window || !pat_enabled() ||",
              "\tif (1 || !relocate_window || !pat_enabled() ||", "virtgpu_hostmem.c")],
           [R("cached", "256M", "window-placement|mapping-whole")]),
    # arm64 (VGM_ARCH=arm64 make mutants): the two defects of the landed
    # driver that x86 cannot show
    Mutant("uncached-device",
           "UNCACHED is mapped with pgprot_noncached(): Device-nGnRnE on arm64 (the landed and the stock driver)",
           [E("\treturn IS_ENABLED(CONFIG_ARM64) || IS_ENABLED(CONFIG_ARM) ||\n\t       IS_ENABLED(CONFIG_RISCV);\n",
              "\treturn false;\n")],
           [R("uncached", "256M", "unaligned-access|mapping-whole")], arch="arm64"),
    Mutant("stale-vma-mapped-arm64",
           "faults map a VMA made under an earlier host answer of another memory type, whose old type mprotect() puts back (the landed driver)",
           [E("\t\tif (!virtio_gpu_hostmap_vma_current(hm, vma)) {\n",
              "\t\tif (0 && !virtio_gpu_hostmap_vma_current(hm, vma)) {\n")],
           [R("seq:cached,wc", "256M", "remap-mprotect")], arch="arm64"),
    Mutant("pmd-misaligned",
           "PMD faults do not check that the PFN is 2 MiB-aligned",
           [E("\t\tif (!IS_ALIGNED(pfn, nr)) {\n",
              "\t\tif (0 && !IS_ALIGNED(pfn, nr)) {\n")],
           [R(*WC, "pmd-misaligned-fixed")]),
]

BY_NAME = {m.name: m for m in MUTANTS}


class AnchorError(Exception):
    pass


def die(msg):
    print(f"mutants.py: ERROR: {msg}", file=sys.stderr)
    sys.exit(1)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


# ---------------------------------------------------------------- editing

def source_files(src):
    """The sources of the driver directory (no build products)."""
    out = []
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if f.endswith((".c", ".h")) and not f.endswith(".mod.c") or \
                    f in ("Makefile", "Kconfig"):
                out.append(os.path.relpath(os.path.join(root, f), src))
    return sorted(out)


def mutate(m, src):
    """{relative file: mutated content} of the files m edits; dies on a missing anchor."""
    out = {}
    for file, old, new in m.edits:
        text = out.get(file)
        if text is None:
            text = read(os.path.join(src, file))
            if text is None:
                raise AnchorError(f"mutant {m.name}: {file} not found in {src}")
        n = text.count(old)
        if n != 1:
            first = old.strip().splitlines()[0] if old.strip() else old
            raise AnchorError(f"mutant {m.name}: anchor {'not found' if n == 0 else f'found {n} times'} "
                              f"in {file}: {first!r}")
        out[file] = text.replace(old, new)
    return out


def cmd_check(src, names):
    errors = []
    for m in selected(names):
        try:
            mutate(m, src)
        except AnchorError as e:
            errors.append(str(e))
    for e in errors:
        print(f"mutants.py: ERROR: {e}", file=sys.stderr)
    if errors:
        die(f"{len(errors)} mutants do not apply: the driver changed, update scripts/mutants/mutants.py")
    print(f"{len(selected(names))} mutants, every anchor found once in {src}")


def cmd_apply(name, src, dst):
    if name != "baseline" and name not in BY_NAME:
        die(f"no mutant {name}")
    try:
        edits = {} if name == "baseline" else mutate(BY_NAME[name], src)
    except AnchorError as e:
        die(str(e))
    files = source_files(src)
    for f in files:
        want = edits.get(f)
        if want is None:
            want = read(os.path.join(src, f))
        path = os.path.join(dst, f)
        if read(path) == want:
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as fh:
            fh.write(want)
        os.replace(path + ".tmp", path)
        print(f"    {name}: wrote {f}", file=sys.stderr)
    # a source that went away upstream must not stay in the copy
    for f in source_files(dst):
        if f not in files:
            os.unlink(os.path.join(dst, f))
    h = hashlib.sha256()
    for f in files:
        h.update(f.encode() + b"\0" + (edits.get(f) or read(os.path.join(src, f))).encode())
    print(h.hexdigest()[:12])


def selected(names):
    """The mutants named, or every mutant of the architecture VGM_ARCH."""
    arch = os.environ.get("VGM_ARCH", "x86_64")
    if not names:
        return [m for m in MUTANTS if m.arch == arch]
    bad = [n for n in names if n not in BY_NAME]
    if bad:
        die(f"no such mutant: {' '.join(bad)} (see: mutants.py describe)")
    other = [n for n in names if BY_NAME[n].arch != arch]
    if other:
        die(f"not a mutant of a {arch} guest: {' '.join(other)} (VGM_ARCH)")
    return [BY_NAME[n] for n in names]


def cmd_list(names):
    """tab-separated: name, mode, window, regex, kernel parameters or '-'"""
    for m in selected(names):
        for run in m.runs:
            print("\t".join((m.name,) + run))


def cmd_describe():
    for m in MUTANTS:
        print(f"{m.name}: {m.what}")
        for mode, window, regex, cmdline in m.runs:
            extra = f", kernel parameters '{cmdline}'" if cmdline != "-" else ""
            print(f"    host {mode}, window {window}{extra}: igt_runner -t '{regex}'")


# ---------------------------------------------------------------- report

def report_py():
    """scripts/report.py: the same splats and host-error rule as `make run`."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import report
    return report


# how bad an igt_runner result is: a mutant is killed by a subtest whose
# result is worse than the baseline's (a dmesg-warn of the baseline does not
# hide a fail)
SEVERITY = {"pass": 0, "skip": 0, "notrun": 0, "warn": 1, "dmesg-warn": 1}


def severity(r):
    return SEVERITY.get(r, 2)


def run_outcome(d, mode, rep):
    """(finished, {subtest: result}, problems[]) of one guest run directory."""
    problems = []
    if not os.path.isdir(d):
        return False, {}, ["not run"]
    finished = not os.path.exists(os.path.join(d, "boot.failed")) and \
        read(os.path.join(d, "job.rc")) is not None
    if not finished:
        why = (read(os.path.join(d, "boot.error")) or "guest did not finish").strip()
        steps = re.findall(r"vgm-job: step (.*)", read(os.path.join(d, "console.log")) or "")
        problems.append(f"guest did not finish: {why} (last step: "
                        f"{steps[-1].strip() if steps else 'none'})")
    log = read(os.path.join(d, "dmesg.txt")) or read(os.path.join(d, "console.log")) or ""
    for line in log.splitlines():
        if rep.SPLAT.search(line):
            problems.append(f"splat: {line.strip()[:160]}")
            break
    res = read(os.path.join(d, "results.json"))
    results = {}
    if res is None:
        if finished:
            problems.append("no results.json (igt_runner did not finish)")
    else:
        for name, t in json.loads(res).get("tests", {}).items():
            r = t.get("result", "?")
            # the host failed MAP_BLOB, and the driver says so (as report.py)
            if "error" in mode and r in ("dmesg-warn", "dmesg-fail") and rep.host_error_only(t):
                r = "pass" if r == "dmesg-warn" else "fail"
            results[name.removeprefix("igt@")] = r
    return finished, results, problems


def read_runs(out):
    """runs.tsv, written by mutants.sh as it goes (tab-separated):
    baseline MODE WINDOW CMDLINE DIR REGEX | run NAME MODE WINDOW CMDLINE DIR REGEX |
    mutant NAME BUILD SECONDS | wall SECONDS"""
    meta = {"baseline": {}, "mutants": [], "wall": "?"}
    by = {}

    def mutant(name):
        if name not in by:
            by[name] = {"name": name, "runs": [], "build": "not built", "seconds": 0}
            meta["mutants"].append(by[name])
        return by[name]

    for line in (read(os.path.join(out, "runs.tsv")) or "").splitlines():
        f = line.split("\t")
        if f[0] == "baseline":
            meta["baseline"][run_key(f[1], f[2], f[3])] = f[4]
        elif f[0] == "run":
            mutant(f[1])["runs"].append({"mode": f[2], "window": f[3], "cmdline": f[4],
                                         "dir": f[5], "regex": f[6]})
        elif f[0] == "mutant":
            m = mutant(f[1])
            m["build"], m["seconds"] = f[2], int(f[3])
        elif f[0] == "wall":
            meta["wall"] = f[1]
    return meta


def run_key(mode, window, cmdline):
    return f"{mode}@{window}" + (f" ({cmdline})" if cmdline != "-" else "")


def collapse(names):
    """bin@sub (result), with its failing dynamic subtests counted, not listed"""
    parents, dyn = {}, {}
    for n, r in names:
        parts = n.split("@")
        if len(parts) > 2:
            dyn.setdefault("@".join(parts[:2]), []).append(parts[2])
        else:
            parents[n] = r
    out = []
    for n in sorted(set(parents) | set(dyn)):
        d = dyn.get(n, [])
        extra = f", {len(d)} dynamic" if d else ""
        out.append(f"{n} ({parents.get(n, 'dynamic')}{extra})")
    return out


def cmd_report(out):
    rep = report_py()
    meta = read_runs(out)
    rows, bad_baseline, problems = [], [], []
    base = {}
    # baseline runs: one per host mode x window, the union of the subtests
    for key, rd in meta["baseline"].items():
        mode = key.split("@")[0]
        finished, results, probs = run_outcome(os.path.join(out, rd), mode, rep)
        base[key] = (results, probs)
        bad = sorted(f"{s}: {r}" for s, r in results.items() if severity(r))
        if probs or bad:
            bad_baseline.append(f"baseline {key}: " + "; ".join(probs + bad))
    survivors = 0
    for m in meta["mutants"]:
        name = m["name"]
        kills, notes, ran = [], [], 0
        if m["build"] != "ok":
            rows.append((name, "ERROR", "not built: " + m["build"], m["seconds"]))
            problems.append(name)
            continue
        for run in m["runs"]:
            key = run_key(run["mode"], run["window"], run["cmdline"])
            bres, bprobs = base.get(key, ({}, []))
            finished, results, probs = run_outcome(os.path.join(out, run["dir"]), run["mode"], rep)
            for p in probs:
                if p.startswith("splat") and any(b.startswith("splat") for b in bprobs):
                    notes.append(f"{key}: {p} (the baseline splats too: not counted)")
                else:
                    kills.append(f"{key}: {p}")
            failing = []
            for s in sorted(results):
                r = results[s]
                ran += r != "skip"
                if not severity(r):
                    continue
                if severity(r) <= severity(bres.get(s, "pass")):
                    notes.append(f"{s}: {r} (the baseline: {bres[s]}: not counted)")
                else:
                    failing.append((s, r))
            kills += collapse(failing)
            if finished and not results:
                notes.append(f"{key}: no subtest matched '{run['regex']}'")
        if kills:
            status = "killed"
        else:
            status = "SURVIVED"
            survivors += 1
            if not ran:
                notes.append("every subtest skipped: vacuous")
        rows.append((name, status, "; ".join(kills), m["seconds"]))
        for n in notes:
            rows.append(("", "", "note: " + n, ""))

    hdr = ("mutant", "result", "killed by", "seconds")
    w0 = max(len(str(r[0])) for r in rows + [hdr])
    w1 = max(len(str(r[1])) for r in rows + [hdr])
    print()
    for r in [hdr] + rows:
        print(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {str(r[3]):>7}  {r[2] or '-'}")
    n = len(meta["mutants"])
    killed = sum(1 for r in rows if r[1] == "killed")
    print(f"\n{killed} of {n} mutants killed, {survivors} survived"
          f"{', %d not built' % len(problems) if problems else ''}; "
          f"{len(base)} baseline guests; wall time {meta['wall']} s")
    if bad_baseline:
        print("\nthe unmutated module (baseline) is not clean; kills by these are not counted:")
        for b in bad_baseline:
            print("  " + b)
    return 1 if survivors or problems or bad_baseline or not n else 0


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "check" and args:
        cmd_check(args[0], args[1:])
    elif cmd == "apply" and len(args) == 3:
        cmd_apply(*args)
    elif cmd == "list":
        cmd_list(args)
    elif cmd == "describe":
        cmd_describe()
    elif cmd == "report" and len(args) == 1:
        return cmd_report(args[0])
    else:
        die(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
