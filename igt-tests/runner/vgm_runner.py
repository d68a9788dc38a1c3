#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for IGT's igt_runner where Debian has no igt-gpu-tools (its
packages are built for x86 only: the arm64 guest has none).

    vgm_runner.py [--per-test-timeout S] [--overall-timeout S] [-t REGEX]
                  TEST_ROOT RESULTS_DIR

What it does is igt_runner's, for the subset this project uses:
  - TEST_ROOT/test-list.txt names the binaries ("TESTLIST" ... "END
    TESTLIST"); each binary's subtests come from `BIN --list-subtests`;
    -t REGEX keeps the igt@BIN@SUBTEST names it matches (re.search);
  - each subtest runs in its own process, `BIN --run-subtest NAME`, killed
    after the per-test timeout (result "timeout"); none starts once the
    overall timeout has passed ("notrun");
  - the result comes from the "Subtest NAME: SUCCESS|FAIL|SKIP" line,
    else from the exit status (0 pass, 77 skip, 98 fail, a signal crash);
    a pass that logged a WARNING (igt_warn) on stderr is "warn";
    dynamic subtests ("Dynamic subtest NAME: ...") get their own entries,
    igt@BIN@SUBTEST@DYNAMIC;
  - the kernel log written during the subtest (/dev/kmsg) is kept; a line
    of level warning or worse makes a pass "dmesg-warn" and a failure
    "dmesg-fail", as igt_runner's default dmesg-warn level (4) does;
  - RESULTS_DIR/results.json has igt_runner's format (results_version 10:
    tests with out, err, dmesg, result, time; totals; runtimes), written
    after every subtest;
  - a subtest is waited for as a process; one a kill does not end within
    10 s (an uninterruptible wait) is left behind as a timeout.
What differs from igt_runner: only WARNING lines on stderr make a pass a
warn (resultgen: any line that is not one of its markers).
The harness self-test runs its cases under both runners and compares the
results (igt-tests/selftest/run.sh).
"""
import argparse
import errno
import json
import os
import platform
import re
import select
import subprocess
import sys
import time

RESULT_OF_LINE = {"SUCCESS": "pass", "FAIL": "fail", "SKIP": "skip", "CRASH": "crash"}
SUBTEST_LINE = re.compile(r"^Subtest (\S+): (SUCCESS|FAIL|SKIP|CRASH)(?: \(([0-9.]+)s\))?", re.M)
DYNAMIC_LINE = re.compile(r"^Dynamic subtest (\S+): (SUCCESS|FAIL|SKIP|CRASH)(?: \(([0-9.]+)s\))?", re.M)
RESULTS = ("pass", "fail", "skip", "crash", "timeout", "incomplete", "abort",
           "dmesg-warn", "dmesg-fail", "notrun", "warn")


def test_list(root):
    with open(os.path.join(root, "test-list.txt")) as f:
        words = f.read().split()
    if "TESTLIST" in words:
        words = words[words.index("TESTLIST") + 1:]
        words = words[:words.index("END")] if "END" in words else words
    return words


def kmsg_open():
    """/dev/kmsg positioned at its end, or None."""
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(fd, 0, os.SEEK_END)
        return fd
    except OSError:
        return None


def kmsg_read(fd):
    """The records written since kmsg_open(): [(level, text)]; continuation
    records ('c' flag) are left out, as igt_runner leaves them out."""
    out = []
    if fd is None:
        return out
    while True:
        try:
            rec = os.read(fd, 8192).decode(errors="replace")
        except BlockingIOError:
            break
        except OSError as e:
            if e.errno == errno.EPIPE:  # records overwritten: go on
                continue
            break
        if not rec:
            break
        head, _, msg = rec.partition(";")
        fields = head.split(",")
        try:
            level = int(fields[0]) & 7
            ts = int(fields[2]) / 1e6
        except (ValueError, IndexError):
            continue
        if len(fields) > 3 and fields[3].startswith("c"):
            continue
        out.append((level, f"<{level}> [{ts:.6f}] {msg.splitlines()[0] if msg else ''}"))
    os.close(fd)
    return out


def run_one(binary, sub, timeout, scratch):
    """Run one subtest: (exit status or 'timeout', stdout, stderr, seconds).
    The process is waited for, not its pipes (a child that keeps them open
    does not hold the runner); one that a kill does not end within 10 s (a
    task in an uninterruptible wait) is left behind as a timeout."""
    start = time.monotonic()
    with open(os.path.join(scratch, "out.txt"), "w+b") as fo, \
            open(os.path.join(scratch, "err.txt"), "w+b") as fe:
        p = subprocess.Popen([binary, "--run-subtest", sub], stdout=fo, stderr=fe,
                             start_new_session=True)
        try:
            status = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = "timeout"
            try:
                os.killpg(p.pid, 9)
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        secs = time.monotonic() - start
        fo.seek(0)
        fe.seek(0)
        return (status, fo.read().decode(errors="replace"), fe.read().decode(errors="replace"), secs)


def result_of(sub, status, out, err):
    m = [x for x in SUBTEST_LINE.finditer(out + err) if x.group(1) == sub]
    if status == "timeout":
        return "timeout"
    if isinstance(status, int) and status < 0:
        return "crash"
    if m:
        return RESULT_OF_LINE[m[-1].group(2)]
    return {0: "pass", 77: "skip", 79: "skip", 98: "fail", 112: "abort"}.get(status, "fail")


WARNING = re.compile(r"^(?:\[ *[0-9.]+\] )?\([^)]*\) (?:\S+-)?WARNING: ", re.M)


def with_warnings(result, err):
    """A pass that logged a warning (igt_warn) is "warn", as in resultgen."""
    return "warn" if result == "pass" and WARNING.search(err) else result


def with_dmesg(result, warn):
    if not warn:
        return result
    return {"pass": "dmesg-warn", "warn": "dmesg-warn", "fail": "dmesg-fail"}.get(result, result)


def write_results(where, tests, runtimes, elapsed):
    """results.json as igt_runner writes it (results_version 10)."""
    totals = {r: 0 for r in RESULTS}
    for t in tests.values():
        totals[t["result"]] = totals.get(t["result"], 0) + 1
    doc = {"__type__": "TestrunResult", "results_version": 10, "name": "vgm-results",
           "uname": " ".join(platform.uname()), "cmdline": sys.argv,
           "time_elapsed": {"__type__": "TimeAttribute", "start": 0.0, "end": elapsed},
           "tests": tests, "totals": {"": totals, "root": totals}, "runtimes": runtimes}
    with open(os.path.join(where, "results.json.new"), "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(os.path.join(where, "results.json.new"), os.path.join(where, "results.json"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-test-timeout", type=float, default=0)
    ap.add_argument("--overall-timeout", type=float, default=0)
    ap.add_argument("-t", dest="include", action="append", default=[])
    ap.add_argument("root")
    ap.add_argument("results")
    a = ap.parse_args()
    os.makedirs(a.results, exist_ok=True)
    t0 = time.monotonic()
    jobs = []
    for b in test_list(a.root):
        path = os.path.join(a.root, b)
        try:
            subs = subprocess.run([path, "--list-subtests"], capture_output=True, text=True,
                                  timeout=60).stdout.split()
        except (OSError, subprocess.TimeoutExpired) as e:
            print(f"vgm_runner: {b}: cannot list subtests: {e}", file=sys.stderr)
            continue
        for s in subs:
            name = f"igt@{b}@{s}"
            if a.include and not any(re.search(r, name) for r in a.include):
                continue
            jobs.append((b, path, s))
    tests, runtimes = {}, {}
    for i, (b, path, sub) in enumerate(jobs):
        name = f"igt@{b}@{sub}"
        left = a.overall_timeout - (time.monotonic() - t0) if a.overall_timeout else None
        if left is not None and left <= 0:
            tests[name] = {"result": "notrun", "out": "", "err": "", "dmesg": ""}
            continue
        up = time.clock_gettime(time.CLOCK_BOOTTIME)
        left_s = f" ({int(left)}s left)" if left is not None else ""
        print(f"[{up:.6f}] [{i + 1:02d}/{len(jobs):02d}]{left_s} {b} ({sub})", flush=True)
        timeout = a.per_test_timeout or None
        if left is not None:
            timeout = min(timeout or left, left)
        k = kmsg_open()
        status, out, err, secs = run_one(path, sub, timeout, a.results)
        dmesg = kmsg_read(k)
        warn = any(lvl <= 4 for lvl, _ in dmesg)
        text = "\n".join(line for _, line in dmesg)
        res = with_dmesg(with_warnings(result_of(sub, status, out, err), err), warn)
        tests[name] = {"out": out, "err": err, "dmesg": text, "result": res,
                       "time": {"__type__": "TimeAttribute", "start": 0.0, "end": round(secs, 3)}}
        for d in DYNAMIC_LINE.finditer(out + err):
            dres = RESULT_OF_LINE[d.group(2)]
            tests[f"{name}@{d.group(1)}"] = {
                "out": out, "err": err, "dmesg": text, "result": with_dmesg(dres, warn),
                "time": {"__type__": "TimeAttribute", "start": 0.0,
                         "end": float(d.group(3) or 0)}}
        rt = runtimes.setdefault(f"igt@{b}", {"time": {"__type__": "TimeAttribute", "start": 0.0, "end": 0.0}})
        rt["time"]["end"] += secs
        # after every subtest: a guest stopped midway keeps what ran
        write_results(a.results, tests, runtimes, time.monotonic() - t0)
    write_results(a.results, tests, runtimes, time.monotonic() - t0)
    print(f"vgm_runner: {len(tests)} results in {a.results}/results.json", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
