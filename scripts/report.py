#!/usr/bin/env python3
"""Print the result table of a run directory made by scripts/run.sh.

Usage: report.py RUNDIR           the table and the verdict
       report.py --pin RUNDIR     write the run's results as the pinned
                                  expectations (expectations/x86_64.txt)

One row per kernel/window/host mode/test/subtest, with the guest attribute
the probe read from the guest's own page tables (ptdump) and PAT list. The
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


def last_step(d):
    """The last step the guest job announced on the console, or '-'."""
    steps = re.findall(r"vgm-job: step (.*)", read(os.path.join(d, "console.log")) or "")
    return steps[-1].strip() if steps else "none (the job did not start)"


FIRMWARE = os.environ.get("VGM_FIRMWARE", "seabios")


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
    exp = expectations(path)
    if not exp:
        problems.append(f"no pinned expectations in {path}")
        return 0
    got = {(r[0], FIRMWARE, r[1], r[2], f"{r[3]}@{r[4]}"): r[5]
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


def pin_write(rows, path):
    with open(path, "w") as f:
        f.write("# Pinned results: kernel firmware window host test@subtest result[|result]\n"
                "# (scripts/report.py --pin RUNDIR writes it from a run; review the diff)\n")
        for r in sorted(rows):
            if r[3] != "mesa":
                f.write(f"{r[0]} {FIRMWARE} {r[1]} {r[2]} {r[3]}@{r[4]} {r[5]}\n")


def main():
    pin = len(sys.argv) > 2 and sys.argv[1] == "--pin"
    top = sys.argv[2] if pin else sys.argv[1]
    pinned = os.environ.get("VGM_EXPECT", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "expectations", "x86_64.txt"))
    cells = set()
    rows, problems, notes = [], [], []
    counts = {}
    for k in sorted(os.listdir(top)):
        kd = os.path.join(top, k)
        if not os.path.isdir(kd):
            continue
        for w in sorted(os.listdir(kd)):
            for m in sorted(os.listdir(os.path.join(kd, w))):
                d = os.path.join(kd, w, m)
                tag = f"{k}/{w}/{m}"
                cells.add((k, FIRMWARE, w, m))
                if os.path.isdir(os.path.join(d, "attempt1")):
                    a1 = os.path.join(d, "attempt1")
                    why = (read(os.path.join(a1, "boot.error")) or "did not finish").strip()
                    notes.append(f"{tag}: first boot: {why}; last step: {last_step(a1)}; booted again")
                if os.path.exists(os.path.join(d, "boot.failed")) or \
                        read(os.path.join(d, "job.rc")) is None:
                    why = (read(os.path.join(d, "boot.error")) or "guest did not finish").strip()
                    problems.append(f"{tag}: {why}; last step: {last_step(d)}")
                    continue
                dmesg = read(os.path.join(d, "dmesg.txt")) or ""
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
    print("\nattribute table (probe: 4 MiB host-visible blob; PTE bits from the guest's ptdump)")
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
    print()
    for k, c in sorted(counts.items()):
        print(f"{k}: " + ", ".join(f"{n} {r}" for r, n in sorted(c.items())))
    if pin:
        pin_write(rows, pinned)
        print(f"\npinned {len(rows)} results into {pinned}")
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
