#!/usr/bin/env python3
"""Print the result table of a run directory made by scripts/run.sh.

Usage: report.py RUNDIR           the table and the verdict
       report.py --pin RUNDIR     write the run's results as the pinned
                                  expectations (expectations/ARCH.txt, for
                                  each guest architecture of the run)

One row per kernel/window/host mode/test/subtest, with the guest attribute
the probe read from the guest's own page tables (vgm_ptewalk) and PAT list. The
exit status is 1 if anything failed on our kernel, if any guest splatted or
did not finish, if KUnit failed, or if no subtest ran at all; the stock
kernel's failures are the baseline and are reported, not gated.

Every result (IGT and KUnit, both kernels) is also compared with the pinned
expectations file: any difference fails the run, so a check that goes
vacuous (stock passing what it must fail) or a subtest that stops running
on our kernel is caught. VGM_PIN=0 turns the comparison off.
"""
import json
import os
import re
import sys

SPLAT = re.compile(r"WARNING:|BUG:|Oops|KASAN|possible circular locking|"
                   r"INFO: task .* blocked for more than|Kernel panic|"
                   r"UBSAN|refcount_t:|list_add corruption|general protection")


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


HOST_ERROR = re.compile(r"\*ERROR\* response 0x1200 \(command 0x208\)|"
                        r"virtio_gpu_dequeue_ctrl_func: \d+ callbacks suppressed")


def host_error_only(test):
    """In the host mode 'error', the only warning-level dmesg lines of a
    subtest are virtgpu_vq.c's report of the failed RESOURCE_MAP_BLOB."""
    warn = [l for l in test.get("dmesg", "").splitlines()
            if re.match(r"<[0-4]>", l)]
    return bool(warn) and all(HOST_ERROR.search(l) for l in warn)


def probe_attr(d):
    """host/guest attribute as the probe read them, or '-'."""
    txt = read(os.path.join(d, "probe.txt")) or ""
    m = re.search(r"^probe: (.*)$", txt, re.M)
    return m.group(1).strip() if m else "-"


def phase_of(d, m, text):
    """A cell of a guest that ran several (run.sh split_guest, guest.txt):
    the part of a guest-wide log that is its mode's phase, from its
    "vgm-job: step phase: host map_info=MODE" to the next phase's (the
    first phase also gets what came before it: the boot). Other cells:
    the whole text."""
    if not os.path.exists(os.path.join(d, "guest.txt")):
        return text
    mode = m.replace("_", ":", 1) if m.startswith("raw_") or m.startswith("slow_") else m
    marks = [x for x in re.finditer(r"vgm-job: step phase: host map_info=([^\s,]+)", text)]
    for i, x in enumerate(marks):
        if x.group(1) == mode:
            start = 0 if i == 0 else text.rfind("\n", 0, x.start()) + 1
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            if i + 1 < len(marks):
                end = text.rfind("\n", 0, end) + 1
            return text[start:end]
    return ""


def last_step(d):
    """The last step the guest job announced on the console, or '-'."""
    steps = re.findall(r"vgm-job: step (.*)", read(os.path.join(d, "console.log")) or "")
    return steps[-1].strip() if steps else "none (the job did not start)"


SIZES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def window_of(d):
    """(address, 'moved' or '') of the host-visible window, from dmesg."""
    dmesg = read(os.path.join(d, "dmesg.txt")) or ""
    w = re.findall(r"Host memory window: (0x[0-9a-f]+)", dmesg)
    if not w:
        return None, ""
    return int(w[-1], 16), "moved" if "host-visible window moved from" in dmesg else ""


def mtrr_at(d, addr):
    """The guest's MTRR type at addr, from its /proc/mtrr."""
    for line in (read(os.path.join(d, "mtrr.txt")) or "").splitlines():
        m = re.match(r"reg\d+: base=(0x[0-9a-f]+) .*size=\s*(\d+)([KMG])B.*: (\S+)", line)
        if m:
            base, size = int(m.group(1), 16), int(m.group(2)) * SIZES[m.group(3)]
            if base <= addr < base + size:
                return {"uncachable": "UC", "write-back": "WB", "write-combining": "WC"}.get(m.group(4), m.group(4))
    mtrr = read(os.path.join(d, "mtrr.txt"))
    if mtrr is None:
        return "?"
    return "WB (default)" if mtrr.strip() else "none (no MTRRs)"


def mesa_summary(d):
    """venus, GL persistent buffers, and the Vulkan mapping client, from mesa.txt."""
    res = {}
    for line in (read(os.path.join(d, "mesa.txt")) or "").splitlines():
        mm = re.match(r"mesa: (.*?): (\w+): (.*)", line)
        if mm:
            res[mm.group(1)] = (mm.group(2), mm.group(3))
    if not res:
        return "-", "-", "-"
    venus = res.get("vulkaninfo", ("-",))[0]
    pers = [v[0] for n, v in res.items() if n.startswith("bufferstorage-persistent")]
    vkmap = res.get("vkmap", ("-", ""))
    vk = vkmap[0] if vkmap[0] != "pass" else "pass: " + vkmap[1].split(" (")[0]
    return venus, f"{pers.count('pass')}/{len(pers)} pass", vk


def firmware_table(top):
    """Where each firmware puts each window, what the guest's MTRRs say
    there, and what each kernel does with memory the host maps cached:
    the PTE of a host-cached blob (the probe of the 'cached' cell), and
    the Mesa clients of the 'passthrough' cell (venus's real answer is
    cached)."""
    out = []
    kernels = sorted(k for k in os.listdir(top)
                     if os.path.isdir(os.path.join(top, k)) and not k.startswith("."))
    cells = set()
    for k in kernels:
        for fw in os.listdir(os.path.join(top, k)):
            for w in os.listdir(os.path.join(top, k, fw)):
                cells.add((fw, w))
    for fw, w in sorted(cells, key=lambda c: (c[0], int(c[1][:-1]) * SIZES[c[1][-1]])):
        for k in kernels:
            base = os.path.join(top, k, fw, w)
            pt, ca = os.path.join(base, "passthrough"), os.path.join(base, "cached")
            src = pt if os.path.isdir(pt) else ca
            if not os.path.isdir(src):
                continue
            addr, moved = window_of(src)
            where = f"{addr:#x}" + (" (moved)" if moved else "") if addr is not None else "?"
            mtrr = mtrr_at(src, addr) if addr is not None else "?"
            probe = probe_attr(ca) if os.path.isdir(ca) else "-"
            m = re.search(r"PTE (\S+)", probe)
            pte = m.group(1) if m else ("refused" if "not supported" in probe else probe)
            venus, pers, vk = mesa_summary(pt) if os.path.isdir(pt) else ("-", "-", "-")
            out.append((fw, w, k, where, mtrr, pte, venus, pers, vk))
    return out


def expectations(path):
    """{(kernel, firmware, window, host, test@subtest): set of results}"""
    exp = {}
    for line in (read(path) or "").splitlines():
        line = line.split("#", 1)[0].split()
        if len(line) == 6:
            exp[tuple(line[:5])] = set(line[5].split("|"))
    return exp


def pin_check(rows, cells, path, problems):
    """Every result of the cells that ran against the pinned file: a
    difference either way (stock passing what it must fail, ours skipping
    what must run, a subtest missing or new) fails the run."""
    exp = {}
    for arch in sorted({arch_of(c[0]) for c in cells}):
        e = expectations(os.path.join(path, f"{arch}.txt"))
        if not e:
            problems.append(f"no pinned expectations in {os.path.join(path, arch + '.txt')}")
        exp.update(e)
    if not exp:
        return 0
    got = {(r[0], *r[1].split("/"), r[2], f"{r[3]}@{r[4]}"): r[5]
           for r in rows if r[3] != "mesa"}
    n = 0
    for key, want in sorted(exp.items()):
        if key[:4] not in cells:
            continue
        n += 1
        have = got.get(key, "missing")
        if have not in want:
            problems.append(f"{'/'.join(key[:4])}: {key[4]}: {have}, pinned {'|'.join(sorted(want))}")
    for key, have in sorted(got.items()):
        if key[:4] in cells and key not in exp:
            problems.append(f"{'/'.join(key[:4])}: {key[4]}: {have}, not pinned")
    return n


def arch_of(kernel):
    """The guest architecture of a kernel variant: stock-arm64 ... arm64."""
    return "arm64" if "-arm64" in kernel else "x86_64"


def pin_write(rows, cells, pindir):
    """One file per guest architecture (expectations/ARCH.txt). The cells
    of the run replace their lines; the lines of cells that did not run
    stay (pinning make test's cells keeps make run's others), and so do
    the other architectures' files."""
    written = []
    for arch in sorted({arch_of(r[0]) for r in rows}):
        path = os.path.join(pindir, f"{arch}.txt")
        keep = [line for line in (read(path) or "").splitlines()
                if line.split("#", 1)[0].split() and
                tuple(line.split()[:4]) not in cells]
        new = [f"{r[0]} {r[1].replace('/', ' ')} {r[2]} {r[3]}@{r[4]} {r[5]}"
               for r in rows if r[3] != "mesa" and arch_of(r[0]) == arch]
        with open(path, "w") as f:
            f.write("# Pinned results: kernel firmware window host test@subtest result[|result]\n"
                    "# (scripts/report.py --pin RUNDIR writes it from a run; review the diff)\n")
            for line in sorted(set(keep) | set(new)):
                f.write(line + "\n")
        written.append(path)
    return written


def main():
    pin = len(sys.argv) > 2 and sys.argv[1] == "--pin"
    top = sys.argv[2] if pin else sys.argv[1]
    # the pinned expectations, a file per guest architecture
    pinned = os.environ.get("VGM_EXPECT", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "expectations"))
    cells = set()
    rows, problems, notes = [], [], []
    counts = {}
    for k in sorted(os.listdir(top)):
        kd = os.path.join(top, k)
        # .guests: the guests that ran several cells (run.sh split_guest)
        if not os.path.isdir(kd) or k.startswith("."):
            continue
        for fw, wsize, m in sorted((f, w, m) for f in os.listdir(kd)
                                   for w in os.listdir(os.path.join(kd, f))
                                   for m in os.listdir(os.path.join(kd, f, w))):
                w = f"{fw}/{wsize}"
                d = os.path.join(kd, fw, wsize, m)
                tag = f"{k}/{w}/{m}"
                cells.add((k, fw, wsize, m))
                if os.path.isdir(os.path.join(d, "attempt1")):
                    a1 = os.path.join(d, "attempt1")
                    why = (read(os.path.join(a1, "boot.error")) or "did not finish").strip()
                    notes.append(f"{tag}: first boot: {why}; last step: {last_step(a1)}; booted again")
                # a cell of a guest that ran several: its phase finished
                # if it has its results, whatever became of a later one
                grouped_done = os.path.exists(os.path.join(d, "guest.txt")) and \
                    os.path.exists(os.path.join(d, "results.json"))
                if not grouped_done and (os.path.exists(os.path.join(d, "boot.failed")) or
                                         read(os.path.join(d, "job.rc")) is None):
                    why = (read(os.path.join(d, "boot.error")) or "guest did not finish").strip()
                    problems.append(f"{tag}: {why}; last step: {last_step(d)}")
                    continue
                # dmesg.txt of the guest, or for a cell of a guest that ran
                # several the console of its phase (a splat there is its)
                dmesg = read(os.path.join(d, "dmesg.txt")) or ""
                if os.path.exists(os.path.join(d, "guest.txt")):
                    dmesg = phase_of(d, m, read(os.path.join(d, "console.log")) or "")
                for line in dmesg.splitlines():
                    if SPLAT.search(line):
                        problems.append(f"{tag}: kernel splat: {line.strip()}")
                        break
                kunit = read(os.path.join(d, "kunit.txt"))
                if kunit is not None:
                    tot = re.search(r"# Totals: pass:(\d+) fail:(\d+)", kunit)
                    ok, bad = (int(tot.group(1)), int(tot.group(2))) if tot else (0, 0)
                    bad += len(re.findall(r"\] not ok \d+", kunit))
                    rows.append((k, w, m, "kunit", "virtio-gpu-hostmap",
                                 "pass" if ok and not bad else "fail",
                                 f"{ok} passed, {bad} failed"))
                    if bad or not ok:
                        problems.append(f"{tag}: KUnit: {bad} not ok, {ok} ok")
                refused_platform = "PAT/MTRRs give the guest" in dmesg
                for line in (read(os.path.join(d, "mesa.txt")) or "").splitlines():
                    mm = re.match(r"mesa: (.*?): (\w+): (.*)", line)
                    if not mm:
                        continue
                    name, res, detail = mm.groups()
                    # where the host reports cached memory that PAT/MTRRs would make
                    # UC-, our kernel refuses the mapping (by design); virgl persistent
                    # buffers and venus need such mappings, so they cannot work there
                    if res == "fail" and not k.startswith("stock") and refused_platform \
                            and name != "eglinfo":
                        res, detail = "refused", "host says cached, PAT/MTRR give UC-: not mapped (by design)"
                    rows.append((k, w, m, "mesa", name, res, detail))
                    # the baseline's Mesa results are reported, not gated
                    if res not in ("pass", "info", "refused") and not k.startswith("stock"):
                        problems.append(f"{tag}: mesa {name}: {res}")
                res = read(os.path.join(d, "results.json"))
                if res is None:
                    problems.append(f"{tag}: no results.json (igt_runner did not finish)")
                    continue
                attr = probe_attr(d)
                tests = json.loads(res).get("tests", {})
                for name in sorted(tests):
                    parts = name.split("@")
                    test, sub = parts[1], "@".join(parts[2:])
                    r = tests[name].get("result", "?")
                    if r == "dmesg-warn" and "error" in m and host_error_only(tests[name]):
                        r = "pass"  # the host failed MAP_BLOB, and the driver says so
                    rows.append((k, w, m, test, sub, r, attr))
                    counts.setdefault(k, {}).setdefault(r, 0)
                    counts[k][r] += 1
                    if not k.startswith("stock") and r not in ("pass", "skip"):
                        problems.append(f"{tag}: {test}@{sub}: {r}")
                    if k.startswith("stock") and test == "drm_virtgpu" and r != "pass":
                        problems.append(f"{tag}: upstream {sub} on stock: {r}")

    hdr = ("kernel", "window", "host", "test", "subtest", "result", "probe (host -> guest PTE / PAT / query)")
    widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    for r in [hdr] + rows:
        print("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    # the attribute table: one line per run, what the probe read in the guest
    print("\nattribute table (probe: 4 MiB host-visible blob; the guest's own PTEs from vgm_ptewalk)")
    summary = {}
    for r in rows:
        if r[3] in ("kunit", "mesa"):
            continue
        key = (r[1], r[2], r[0])
        e = summary.setdefault(key, {"attr": r[6], "pass": 0, "fail": 0, "skip": 0, "other": 0})
        res = r[5] if r[5] in ("pass", "fail", "skip") else "other"
        e[res] += 1
    for (w, m, k), e in sorted(summary.items()):
        print(f"  {w:>5} {m:<12} {k:<6} {e['pass']:>3} pass {e['fail']:>3} fail "
              f"{e['skip']:>3} skip {e['other']:>2} other | {e['attr']}")
    ft = firmware_table(top)
    if ft:
        print("\nfirmware table (host maps the blob cached: the PTE the guest gets, and the Mesa clients "
              "with the host's real answer)")
        hdr = ("firmware", "hostmem", "kernel", "window at", "guest MTRR there", "PTE of a cached blob",
               "venus", "GL persistent", "vulkan mapping client")
        widths = [max(len(str(r[i])) for r in ft + [hdr]) for i in range(len(hdr))]
        for r in [hdr] + ft:
            print("  " + "  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    print()
    for k, c in sorted(counts.items()):
        print(f"{k}: " + ", ".join(f"{n} {r}" for r, n in sorted(c.items())))
    if pin:
        for path in pin_write(rows, cells, pinned):
            print(f"\npinned the results of its architecture into {os.path.relpath(path)}")
    elif os.environ.get("VGM_PIN", "1") == "1":
        n = pin_check(rows, cells, pinned, problems)
        print(f"\npinned expectations: {n} results of {len(cells)} guests compared with {os.path.relpath(pinned)}")
    ran = sum(n for c in counts.values() for r, n in c.items() if r != "skip")
    if not ran:
        problems.append("the suite ran nothing (every subtest skipped or none listed)")
    stock_fail = [r for r in rows if r[0].startswith("stock") and r[5] not in ("pass", "skip", "info")]
    if stock_fail:
        print(f"\nstock kernel (baseline) failures, expected where it aliases: {len(stock_fail)}")
    if notes:
        print("\nnotes:")
        for n in notes:
            print("  " + n)
    if problems:
        print("\nFAILED:")
        for p in problems:
            print("  " + p)
        return 1
    print("\nverdict: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
