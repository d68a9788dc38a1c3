#!/bin/bash
# SPDX-License-Identifier: MIT
#
# selftest/run.sh - check igt_harness against what igt_runner expects.
#
# Stage 1 (host, needs only bash, coreutils, sed and a C compiler):
#   build harness_selftest.c with $CC -Wall -Wextra -Werror, run it and
#   compare exact stdout lines and exit codes for --list-subtests, every
#   --run-subtest, subtest pattern lists, --dynamic-subtest, an unmatched
#   pattern (exit 79), --describe, plus selected stderr lines (log format,
#   IGT_SENTINEL_ON_STDERR copies) and the /dev/kmsg markers.
#
# Stage 2 (optional): if $IGT_CHROOT/usr/bin/igt_runner exists (a Debian
#   chroot with igt-gpu-tools 2.5), build the selftest with the chroot's gcc,
#   run the real igt_runner on it and check results.json per subtest and
#   dynamic subtest with the chroot's python3.  If the chroot has libigt.so,
#   the same source is also linked against the real libigt
#   (harness_selftest_ref) and both binaries' results must agree.  The chroot
#   is not modified: files go to a mktemp directory under its /tmp that is
#   removed on exit; /proc and /dev are mounted in a private mount namespace
#   (unshare) that disappears with the runner.  IGT_CHROOT=none skips it.
#
# How igt_runner discovers tests (runner/job_list.c, runner/settings.c):
#   "igt_runner [options] TEST_ROOT RESULTS" (or $IGT_TEST_ROOT).  TEST_ROOT
#   must contain test-list.txt: whitespace-separated binary names, the
#   tokens "TESTLIST" and "END" are ignored.  Without --test-list the runner
#   runs "TEST_ROOT/<binary> --list-subtests" (exit 79 = no subtests) and
#   executes "--run-subtest <name>" once per subtest, or once per binary with
#   a comma-separated list in multiple mode (-m).  With --test-list FILE,
#   lines "igt@binary[@subtest[@dynamic]]" are used as given (a dynamic entry
#   adds "--dynamic-subtest <dynamic>"); test-list.txt must still exist.
#   Results land in RESULTS/results.json, keyed "igt@binary@subtest[@dyn]".

set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
CC=${CC:-cc}
IGT_CHROOT=${IGT_CHROOT:-/var/cache/virtgpu-mapinfo/chroot}

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
nok() { failed=$((failed + 1)); echo "FAIL $*"; }
summary() { echo "$passed passed, $failed failed"; }

work=$(mktemp -d)
ch_work=
cleanup() {
	rm -rf "$work"
	[ -n "$ch_work" ] && rm -rf "$ch_work"
}
trap cleanup EXIT

bin=$work/harness_selftest
if (cd "$here" && $CC -std=gnu11 -Wall -Wextra -Werror -O2 -g -I"$src" \
		-o "$bin" harness_selftest.c "$src/igt_harness.c"); then
	ok "compile with $CC -Wall -Wextra -Werror"
else
	nok "compile with $CC -Wall -Wextra -Werror"
	summary
	exit 1
fi

line_of() { grep -n "$1" "$here/harness_selftest.c" | head -1 | cut -d: -f1; }
L_REQUIRE=$(line_of '@REQUIRE@')
L_GROUPREQ=$(line_of '@GROUPREQ@')
L_MAIN=$(line_of '@MAIN@')
L_ASSERTMSG=$(line_of '@ASSERTMSG@')
L_FIXTUREFAIL=$(line_of '@FIXTUREFAIL@')

VERSION="IGT-Version: 2.5-igt_harness ($(uname -m)) ($(uname -s): $(uname -r) $(uname -m))"
HEADER="$VERSION
Using IGT_SRANDOM=0 for randomisation"
GROUPSKIP="Test requirement not met in function group_requirement, file harness_selftest.c:$L_GROUPREQ:
Test requirement: answer < 0
no such feature: negative answer"

# times and log prefixes vary from run to run
normalize() {
	sed -E 's/\([0-9]+\.[0-9]{3}s\)/(T)/g;
		s/^\[[0-9]+\.[0-9]{6}\] \(([A-Za-z0-9_]+):[0-9]+\) /[TS] (\1) /'
}

expand() {
	local s
	s=$(cat)
	s=${s//@HEADER@/$HEADER}
	s=${s//@VERSION@/$VERSION}
	s=${s//@GROUPSKIP@/$GROUPSKIP}
	s=${s//@L_REQUIRE@/$L_REQUIRE}
	s=${s//@L_MAIN@/$L_MAIN}
	s=${s//@L_ASSERTMSG@/$L_ASSERTMSG}
	s=${s//@L_FIXTUREFAIL@/$L_FIXTUREFAIL}
	printf '%s' "$s"
}

# run_test [VAR=value...] -- ARGS: sets $out, $err (normalized) and $rc
run_test() {
	local envs=()

	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	(cd "$work" && env -u IGT_RUNNER_SOCKET_FD -u IGT_SENTINEL_ON_STDERR \
		-u IGT_LOG_LEVEL -u IGT_PLAIN_OUTPUT -u SELFTEST_FIXTURE_FAIL \
		IGT_SRANDOM=0 "${envs[@]}" "$bin" "$@" >out 2>err)
	rc=$?
	out=$(normalize < "$work/out")
	err=$(normalize < "$work/err")
}

report() {	# NAME WANT_RC WANT GOT
	if [ "$rc" = "$2" ] && [ "$4" = "$3" ]; then
		ok "$1"
	else
		nok "$1 (exit $rc, expected $2)"
		diff <(echo "$3") <(echo "$4") | sed 's/^/	/'
	fi
}

# expect NAME RC [VAR=value...] -- ARGS <<EOF  (exact stdout)
expect() {
	local name=$1 want_rc=$2 want

	shift 2
	want=$(expand)
	run_test "$@"
	report "$name" "$want_rc" "$want" "$out"
}

# expect_err NAME RC [VAR=value...] -- ARGS <<EOF  (exact stderr)
expect_err() {
	local name=$1 want_rc=$2 want

	shift 2
	want=$(expand)
	run_test "$@"
	report "$name" "$want_rc" "$want" "$err"
}

echo "# stage 1: host ($($CC --version | head -1))"

expect "--list-subtests" 0 -- --list-subtests <<'EOF'
pass-basic
pass-fmt-2
fail-assert-eq
fail-assert-msg
skip-require
skip-explicit
warn
fork-pass
fork-child-fail
crash
dynamic-mixed
dynamic-all-skip
dynamic-pass
group-fixture-fail
group-skip-a
group-skip-b
after-groups
EOF

expect "--list-subtests ignores --debug and --run-subtest" 0 -- \
	--debug --list-subtests --run-subtest pass-basic <<'EOF'
pass-basic
pass-fmt-2
fail-assert-eq
fail-assert-msg
skip-require
skip-explicit
warn
fork-pass
fork-child-fail
crash
dynamic-mixed
dynamic-all-skip
dynamic-pass
group-fixture-fail
group-skip-a
group-skip-b
after-groups
EOF

expect "--run-subtest pass-basic" 0 -- --run-subtest pass-basic <<'EOF'
@HEADER@
Starting subtest: pass-basic
info from pass-basic
Subtest pass-basic: SUCCESS (T)
@GROUPSKIP@
EOF

expect "--run-subtest pass-fmt-2" 0 -- --run-subtest pass-fmt-2 <<'EOF'
@HEADER@
Starting subtest: pass-fmt-2
Subtest pass-fmt-2: SUCCESS (T)
@GROUPSKIP@
EOF

expect "--run-subtest fail-assert-eq" 98 -- --run-subtest fail-assert-eq <<'EOF'
@HEADER@
Starting subtest: fail-assert-eq
Subtest fail-assert-eq: FAIL (T)
@GROUPSKIP@
EOF

expect "--run-subtest fail-assert-msg" 98 -- --run-subtest fail-assert-msg <<'EOF'
@HEADER@
Starting subtest: fail-assert-msg
Subtest fail-assert-msg: FAIL (T)
@GROUPSKIP@
EOF

expect "--run-subtest skip-require" 77 -- --run-subtest skip-require <<'EOF'
@HEADER@
Starting subtest: skip-require
Test requirement not met in function require_the_impossible, file harness_selftest.c:@L_REQUIRE@:
Test requirement: answer == 41
Subtest skip-require: SKIP (T)
@GROUPSKIP@
EOF

expect "--run-subtest skip-explicit" 77 -- --run-subtest skip-explicit <<'EOF'
@HEADER@
Starting subtest: skip-explicit
explicit skip, reason 7
Subtest skip-explicit: SKIP (T)
@GROUPSKIP@
EOF

expect "--run-subtest warn" 0 -- --run-subtest warn <<'EOF'
@HEADER@
Starting subtest: warn
Subtest warn: SUCCESS (T)
@GROUPSKIP@
EOF

expect "--run-subtest fork-pass" 0 -- --run-subtest fork-pass <<'EOF'
@HEADER@
Starting subtest: fork-pass
Subtest fork-pass: SUCCESS (T)
@GROUPSKIP@
EOF

expect "--run-subtest fork-child-fail" 98 -- --run-subtest fork-child-fail <<'EOF'
@HEADER@
Starting subtest: fork-child-fail
child 1 failed with exit status 98
Subtest fork-child-fail: FAIL (T)
@GROUPSKIP@
EOF

expect "--run-subtest crash" 139 -- --run-subtest crash <<'EOF'
@HEADER@
Starting subtest: crash
Subtest crash: CRASH (T)
@GROUPSKIP@
EOF

expect "--run-subtest dynamic-mixed" 98 -- --run-subtest dynamic-mixed <<'EOF'
@HEADER@
Starting subtest: dynamic-mixed
Starting dynamic subtest: dyn-pass
in dyn-pass
Dynamic subtest dyn-pass: SUCCESS (T)
Starting dynamic subtest: dyn-fail-1
Dynamic subtest dyn-fail-1: FAIL (T)
Starting dynamic subtest: dyn-skip
dynamic skip
Dynamic subtest dyn-skip: SKIP (T)
Starting dynamic subtest: dyn-pass-2
in dyn-pass-2
Dynamic subtest dyn-pass-2: SUCCESS (T)
Subtest dynamic-mixed: FAIL (T)
@GROUPSKIP@
EOF

expect "--run-subtest dynamic-all-skip" 77 -- --run-subtest dynamic-all-skip <<'EOF'
@HEADER@
Starting subtest: dynamic-all-skip
Starting dynamic subtest: skip-1
skip one
Dynamic subtest skip-1: SKIP (T)
Starting dynamic subtest: skip-2
skip two
Dynamic subtest skip-2: SKIP (T)
No dynamic tests executed.
Subtest dynamic-all-skip: SKIP (T)
@GROUPSKIP@
EOF

expect "--run-subtest dynamic-pass" 0 -- --run-subtest dynamic-pass <<'EOF'
@HEADER@
Starting subtest: dynamic-pass
Starting dynamic subtest: item-0
Dynamic subtest item-0: SUCCESS (T)
Starting dynamic subtest: item-1
Dynamic subtest item-1: SUCCESS (T)
Subtest dynamic-pass: SUCCESS (T)
@GROUPSKIP@
EOF

expect "--run-subtest group-fixture-fail" 0 -- --run-subtest group-fixture-fail <<'EOF'
@HEADER@
Starting subtest: group-fixture-fail
group fixture passed
Subtest group-fixture-fail: SUCCESS (T)
@GROUPSKIP@
EOF

expect "--run-subtest group-skip-a (fixture skip)" 77 -- --run-subtest group-skip-a <<'EOF'
@HEADER@
@GROUPSKIP@
Subtest group-skip-a: SKIP (T)
EOF

expect "--run-subtest group-skip-b (fixture skip)" 77 -- --run-subtest group-skip-b <<'EOF'
@HEADER@
@GROUPSKIP@
Subtest group-skip-b: SKIP (T)
EOF

expect "--run-subtest after-groups" 0 -- --run-subtest after-groups <<'EOF'
@HEADER@
@GROUPSKIP@
Starting subtest: after-groups
after the groups
Subtest after-groups: SUCCESS (T)
EOF

expect "--run-subtest 'pass-*,!pass-fmt-2'" 0 -- --run-subtest 'pass-*,!pass-fmt-2' <<'EOF'
@HEADER@
Starting subtest: pass-basic
info from pass-basic
Subtest pass-basic: SUCCESS (T)
@GROUPSKIP@
EOF

expect "--run-subtest 'group-skip-?,warn'" 0 -- --run-subtest 'group-skip-?,warn' <<'EOF'
@HEADER@
Starting subtest: warn
Subtest warn: SUCCESS (T)
@GROUPSKIP@
Subtest group-skip-a: SKIP (T)
Subtest group-skip-b: SKIP (T)
EOF

expect "--dynamic-subtest 'dyn-pass*'" 0 -- \
	--run-subtest dynamic-mixed --dynamic-subtest 'dyn-pass*' <<'EOF'
@HEADER@
Starting subtest: dynamic-mixed
Starting dynamic subtest: dyn-pass
in dyn-pass
Dynamic subtest dyn-pass: SUCCESS (T)
Starting dynamic subtest: dyn-pass-2
in dyn-pass-2
Dynamic subtest dyn-pass-2: SUCCESS (T)
Subtest dynamic-mixed: SUCCESS (T)
@GROUPSKIP@
EOF

expect "--dynamic-subtest without match skips" 77 -- \
	--run-subtest dynamic-mixed --dynamic-subtest nomatch <<'EOF'
@HEADER@
Starting subtest: dynamic-mixed
No dynamic tests executed.
Subtest dynamic-mixed: SKIP (T)
@GROUPSKIP@
EOF

expect "--run-subtest without match (exit 79)" 79 -- --run-subtest nomatch <<'EOF'
@HEADER@
@GROUPSKIP@
EOF
expect_err "--run-subtest without match, stderr" 79 -- --run-subtest nomatch <<'EOF'
[TS] (harness_selftest) CRITICAL: Unknown subtest: nomatch
EOF

expect "fixture failure fails the group's subtests" 98 SELFTEST_FIXTURE_FAIL=1 -- \
	--run-subtest group-fixture-fail <<'EOF'
@HEADER@
Subtest group-fixture-fail: FAIL (T)
@GROUPSKIP@
EOF
expect_err "fixture failure, stderr" 98 SELFTEST_FIXTURE_FAIL=1 -- \
	--run-subtest group-fixture-fail <<'EOF'
[TS] (harness_selftest) CRITICAL: Test assertion failure function __igt_unique____real_main@L_MAIN@, file harness_selftest.c:@L_FIXTUREFAIL@:
[TS] (harness_selftest) CRITICAL: Failed assertion: !getenv("SELFTEST_FIXTURE_FAIL")
[TS] (harness_selftest) CRITICAL: fixture failure requested
Test harness_selftest failed.
**** DEBUG ****
[TS] (harness_selftest) INFO: @VERSION@
[TS] (harness_selftest) INFO: Using IGT_SRANDOM=0 for randomisation
[TS] (harness_selftest) CRITICAL: Test assertion failure function __igt_unique____real_main@L_MAIN@, file harness_selftest.c:@L_FIXTUREFAIL@:
[TS] (harness_selftest) CRITICAL: Failed assertion: !getenv("SELFTEST_FIXTURE_FAIL")
[TS] (harness_selftest) CRITICAL: fixture failure requested
****  END  ****
EOF
expect "fixture failure fails the binary, not other subtests" 98 SELFTEST_FIXTURE_FAIL=1 -- \
	--run-subtest pass-basic <<'EOF'
@HEADER@
Starting subtest: pass-basic
info from pass-basic
Subtest pass-basic: SUCCESS (T)
@GROUPSKIP@
EOF

expect_err "assert message and log dump on stderr, with sentinels" 98 \
	IGT_SENTINEL_ON_STDERR=1 -- --run-subtest fail-assert-msg <<'EOF'
Starting subtest: fail-assert-msg
[TS] (harness_selftest) CRITICAL: Test assertion failure function __igt_unique____real_main@L_MAIN@, file harness_selftest.c:@L_ASSERTMSG@:
[TS] (harness_selftest) CRITICAL: Failed assertion: answer == 0
[TS] (harness_selftest) CRITICAL: custom message 42
Subtest fail-assert-msg failed.
**** DEBUG ****
[TS] (harness_selftest) CRITICAL: Test assertion failure function __igt_unique____real_main@L_MAIN@, file harness_selftest.c:@L_ASSERTMSG@:
[TS] (harness_selftest) CRITICAL: Failed assertion: answer == 0
[TS] (harness_selftest) CRITICAL: custom message 42
****  END  ****
Subtest fail-assert-msg: FAIL (T)
EOF

expect_err "igt_warn goes to stderr, with sentinels" 0 \
	IGT_SENTINEL_ON_STDERR=1 -- --run-subtest warn <<'EOF'
Starting subtest: warn
[TS] (harness_selftest) WARNING: this is a warning
Subtest warn: SUCCESS (T)
EOF

expect_err "crash is reported on stderr" 139 -- --run-subtest crash <<'EOF'
Received signal SIGSEGV.
EOF

run_test -- --run-subtest fork-child-fail
case "$err" in
*"CRITICAL: child 1 fails"*"Subtest fork-child-fail failed."*)
	ok "forked child's assert message on stderr" ;;
*)	nok "forked child's assert message on stderr"; echo "$err" | sed 's/^/	/' ;;
esac

expect "--debug shows igt_debug()" 0 -- --debug --run-subtest pass-basic <<'EOF'
@HEADER@
Starting subtest: pass-basic
info from pass-basic
[TS] (harness_selftest) DEBUG: debug output is only shown with --debug
Subtest pass-basic: SUCCESS (T)
@GROUPSKIP@
[TS] (harness_selftest) DEBUG: Exiting with status code 0
EOF

expect "--describe" 0 -- --describe <<'EOF'
Self test of igt_harness, the minimal re-implementation of the IGT core test API that our
virtio-gpu tests use until they move upstream into igt-gpu-tools.

SUB pass-basic harness_selftest.c:99:
  Assertions, ioctl helpers and logging that all pass.

SUB pass-fmt-2 harness_selftest.c:118:
  Subtest with a printf-formatted name.

SUB fail-assert-eq harness_selftest.c:129:
  igt_assert_eq() failure.

SUB fail-assert-msg harness_selftest.c:134:
  igt_assert_f() failure with a message.

SUB skip-require harness_selftest.c:138:
  NO DOCUMENTATION!

SUB skip-explicit harness_selftest.c:141:
  NO DOCUMENTATION!

SUB warn harness_selftest.c:145:
  Passes, but warns on stderr.

SUB fork-pass harness_selftest.c:148:
  NO DOCUMENTATION!

SUB fork-child-fail harness_selftest.c:155:
  One forked child fails an assertion.

SUB crash harness_selftest.c:161:
  NO DOCUMENTATION!

SUB dynamic-mixed harness_selftest.c:165:
  Dynamic subtests that pass, fail and skip.

SUB dynamic-all-skip harness_selftest.c:176:
  NO DOCUMENTATION!

SUB dynamic-pass harness_selftest.c:183:
  NO DOCUMENTATION!

SUB group-fixture-fail harness_selftest.c:196:
  A group whose fixture fails on request.

SUB group-skip-a harness_selftest.c:206:
  A group whose fixture skips.

  Skipped by the group fixture.

SUB group-skip-b harness_selftest.c:209:
  A group whose fixture skips.

SUB after-groups harness_selftest.c:213:
  NO DOCUMENTATION!
EOF

expect "--describe=group-skip-a" 0 -- --describe=group-skip-a <<'EOF'
Self test of igt_harness, the minimal re-implementation of the IGT core test API that our
virtio-gpu tests use until they move upstream into igt-gpu-tools.

SUB group-skip-a harness_selftest.c:206:
  A group whose fixture skips.

  Skipped by the group fixture.
EOF

expect "--describe=nomatch (exit 79)" 79 -- --describe=nomatch <<'EOF'
Self test of igt_harness, the minimal re-implementation of the IGT core test API that our
virtio-gpu tests use until they move upstream into igt-gpu-tools.
EOF

run_test -- --show-testlist
report "--show-testlist" 0 "igt@harness_selftest@pass-basic" "$(echo "$out" | head -1)"
run_test -- --help
report "--help" 0 "Usage: harness_selftest [OPTIONS]" "$(echo "$out" | head -1)"
run_test -- --no-such-option
report "unknown option (exit 79)" 79 "Usage: harness_selftest [OPTIONS]" "$(echo "$err" | sed -n 2p)"

# kmsg markers, under a unique program name so the lines can be told apart
if [ -w /dev/kmsg ] && dmesg > /dev/null 2>&1; then
	kname=hst_kmsg_$$_$RANDOM
	ln -s "$bin" "$work/$kname"
	(cd "$work" && IGT_SRANDOM=0 "./$kname" --run-subtest dynamic-mixed \
		--dynamic-subtest 'dyn-pass,dyn-skip' > /dev/null 2>&1)
	rc=$?
	sleep 0.2
	got=$(dmesg | grep -o "\[IGT\] $kname: .*")
	report "kmsg markers" 0 "[IGT] $kname: executing
[IGT] $kname: starting subtest dynamic-mixed
[IGT] $kname: starting dynamic subtest dyn-pass
[IGT] $kname: finished dynamic subtest dyn-pass, SUCCESS
[IGT] $kname: starting dynamic subtest dyn-skip
[IGT] $kname: finished dynamic subtest dyn-skip, SKIP
[IGT] $kname: finished subtest dynamic-mixed, SUCCESS
[IGT] $kname: exiting, ret=0" "$got"
else
	echo "skip kmsg markers: /dev/kmsg not writable or dmesg not readable"
fi

#
# Stage 2: the real igt_runner in the Debian chroot
#
if [ "$IGT_CHROOT" = none ] || [ ! -x "$IGT_CHROOT/usr/bin/igt_runner" ]; then
	echo "skip stage 2: no igt_runner chroot (IGT_CHROOT=$IGT_CHROOT)"
	summary
	[ "$failed" -eq 0 ]
	exit
fi
if [ "$(id -u)" != 0 ]; then
	echo "skip stage 2: chroot needs root"
	summary
	[ "$failed" -eq 0 ]
	exit
fi

CH=$IGT_CHROOT
echo "# stage 2: igt_runner in $CH"
ch_work=$(mktemp -d "$CH/tmp/igt-harness-selftest.XXXXXX")
W=${ch_work#"$CH"}	# the same directory as seen inside the chroot

# /proc and /dev inside the chroot, visible only to this command
if unshare --mount --propagation private true 2> /dev/null; then
	in_chroot() {
		unshare --mount --propagation private sh -c \
			'mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" &&
			 exec chroot "$@"' "$CH" "$CH" "$@"
	}
	have_proc=1
else
	in_chroot() { chroot "$CH" "$@"; }
	have_proc=0
fi

mkdir -p "$ch_work/src" "$ch_work/tests"
cp "$src/igt_harness.c" "$src/igt_harness.h" "$here/harness_selftest.c" "$ch_work/src/"
if in_chroot sh -c "cd $W/src && gcc -std=gnu11 -Wall -Wextra -Werror -O2 -g \
		-o $W/tests/harness_selftest harness_selftest.c igt_harness.c"; then
	ok "compile in chroot ($(chroot "$CH" gcc --version | head -1))"
else
	nok "compile in chroot"
	summary
	exit 1
fi

# reference: the same source against the real libigt (its igt_ioctl is a
# function pointer, the only API difference that matters here)
binaries=harness_selftest
if [ "$have_proc" = 1 ] && ls "$CH"/usr/lib/*/libigt.so.0 > /dev/null 2>&1; then
	cat > "$ch_work/src/ref_ioctl.c" <<'EOF'
#include <errno.h>
#include <sys/ioctl.h>
int ref_ioctl(int fd, unsigned long request, void *arg);
int ref_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret;
}
EOF
	if in_chroot sh -c "cd $W/src && gcc -std=gnu11 -O2 -g -Digt_ioctl=ref_ioctl \
			-o $W/tests/harness_selftest_ref harness_selftest.c ref_ioctl.c \
			-l:libigt.so.0"; then
		binaries="harness_selftest harness_selftest_ref"
		ok "reference build against the chroot's libigt.so"
	else
		nok "reference build against the chroot's libigt.so"
	fi
else
	echo "skip reference build: no libigt.so.0 or no private /proc mount"
fi

printf 'TESTLIST\n%s\nEND TESTLIST\n' "$binaries" > "$ch_work/tests/test-list.txt"
for b in $binaries; do
	printf 'igt@%s@pass-basic\nigt@%s@dynamic-mixed@dyn-pass\nigt@%s@dynamic-mixed@dyn-fail-1\n' \
		"$b" "$b" "$b"
done > "$ch_work/list.txt"

# CLI behaviour next to the real libigt: identical stdout and exit codes
if [ "$binaries" != harness_selftest ]; then
	for args in "--list-subtests" "--show-testlist" "--describe" \
		    "--describe=group-skip-a" "--describe=nomatch" "--help-description" \
		    "--run-subtest nomatch" "--run-subtest group-skip-a" \
		    "--run-subtest dynamic-mixed" "--run-subtest dynamic-all-skip" \
		    "--run-subtest fork-child-fail" "--run-subtest group-skip-?,warn" \
		    "--run-subtest dynamic-mixed --dynamic-subtest dyn-pass*"; do
		for b in harness_selftest harness_selftest_ref; do
			in_chroot sh -c "cd $W/tests && IGT_SRANDOM=0 ./$b $args > $b.out 2> /dev/null; echo \$? > $b.rc"
			# libigt prints libunwind stack traces, its own version and
			# "Last errno" values its internals left behind in here
			sed -E 's/\([0-9]+\.[0-9]{3}s\)/(T)/; /^Stack trace:$/d; /^  #[0-9]+ /d;
				s/^IGT-Version: [^ ]+/IGT-Version: V/; s/harness_selftest_ref/harness_selftest/g' \
				"$ch_work/tests/$b.out" > "$ch_work/tests/$b.norm"
			[ $b = harness_selftest_ref ] &&
				sed -i '/^Last errno: /d' "$ch_work/tests/$b.norm"
		done
		if cmp -s "$ch_work/tests/harness_selftest.norm" "$ch_work/tests/harness_selftest_ref.norm" &&
		   cmp -s "$ch_work/tests/harness_selftest.rc" "$ch_work/tests/harness_selftest_ref.rc"; then
			ok "same as libigt: $args"
		else
			nok "same as libigt: $args"
			diff "$ch_work/tests/harness_selftest_ref.norm" "$ch_work/tests/harness_selftest.norm" | sed 's/^/	/'
		fi
	done
fi

cat > "$ch_work/check.py" <<'EOF'
# check.py RESULTS_DIR MODE BINARY...: igt_runner's results.json per subtest
import json, sys

EXPECTED = {
    "pass-basic": "pass", "pass-fmt-2": "pass",
    "fail-assert-eq": "fail", "fail-assert-msg": "fail",
    "skip-require": "skip", "skip-explicit": "skip", "warn": "warn",
    "fork-pass": "pass", "fork-child-fail": "fail", "crash": "crash",
    "dynamic-mixed": "fail", "dynamic-mixed@dyn-pass": "pass",
    "dynamic-mixed@dyn-fail-1": "fail", "dynamic-mixed@dyn-skip": "skip",
    "dynamic-mixed@dyn-pass-2": "pass",
    "dynamic-all-skip": "skip", "dynamic-all-skip@skip-1": "skip",
    "dynamic-all-skip@skip-2": "skip",
    "dynamic-pass": "pass", "dynamic-pass@item-0": "pass",
    "dynamic-pass@item-1": "pass",
    "group-fixture-fail": "pass", "group-skip-a": "skip",
    "group-skip-b": "skip", "after-groups": "pass",
}

resdir, mode, binaries = sys.argv[1], sys.argv[2], sys.argv[3:]
tests = json.load(open(resdir + "/results.json"))["tests"]

def results(binary):
    prefix = "igt@%s@" % binary
    return {k[len(prefix):]: v for k, v in tests.items() if k.startswith(prefix)}

def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + "[%s] %s" % (mode, msg))

expected = dict(EXPECTED)
if mode == "fixture-fail":
    expected["group-fixture-fail"] = "fail"
    # stderr printed before a subtest starts (here the failed fixture's log
    # dump) is attributed to that subtest by resultgen, libigt included
    expected["after-groups"] = "warn"
if mode == "test-list":
    expected = {"pass-basic": "pass", "dynamic-mixed": "fail",
                "dynamic-mixed@dyn-pass": "pass",
                "dynamic-mixed@dyn-fail-1": "fail"}

for binary in binaries:
    got = results(binary)
    for name, want in expected.items():
        have = got.get(name, {}).get("result")
        # multiple mode: resultgen's comms parser slices err.txt with the
        # out.txt offset (comms_finish_subtest()), which can turn pass into
        # warn and back for libigt tests just the same
        fuzzy = mode == "multiple" and want in ("pass", "warn")
        check(have in (("pass", "warn") if fuzzy else (want,)),
              "%s %s: %s%s" % (binary, name, have,
                               "" if have == want else " (expected %s)" % want))
    extra = sorted(set(got) - set(expected))
    check(not extra, "%s: no unexpected results %s" % (binary, extra))

ours = results(binaries[0])
if mode in ("single", "text"):
    o = ours["skip-require"]["out"]
    check("Test requirement: answer == 41" in o, "skip reason in out")
    check("CRITICAL: custom message 42" in ours["fail-assert-msg"]["err"],
          "assert message in err")
    # a plain printf() only reaches results.json with the text protocol
    if mode == "text":
        check("child 1 failed with exit status 98" in ours["fork-child-fail"]["out"],
              "child failure in out")
    d = ours["dynamic-mixed@dyn-pass"].get("dmesg", "")
    if d:
        check("[IGT] harness_selftest: starting dynamic subtest dyn-pass" in d
              and "starting dynamic subtest dyn-fail-1" not in d,
              "dmesg split per dynamic subtest")
    else:
        print("skip [%s] dmesg: no /dev/kmsg in the chroot" % mode)
if len(binaries) == 2:
    ref = results(binaries[1])
    def res(r, k):
        v = r.get(k, {}).get("result")
        return "pass" if mode == "multiple" and v == "warn" else v
    diff = sorted(k for k in set(ours) | set(ref) if res(ours, k) != res(ref, k))
    check(not diff, "same results as libigt%s %s" %
          (" (pass == warn)" if mode == "multiple" else "", diff))
EOF

run_runner() {	# MODE [runner options...]
	local mode=$1

	shift
	in_chroot igt_runner -o "$@" "$W/tests" "$W/results-$mode" > "$ch_work/runner-$mode.log" 2>&1
	if [ ! -f "$ch_work/results-$mode/results.json" ]; then
		nok "[$mode] igt_runner produced no results.json"
		sed 's/^/	/' "$ch_work/runner-$mode.log" | tail -20
		return
	fi
	while read -r line; do
		case "$line" in
		ok*)	ok "${line#ok   }" ;;
		FAIL*)	nok "${line#FAIL }" ;;
		*)	echo "$line" ;;
		esac
	done < <(chroot "$CH" python3 "$W/check.py" "$W/results-$mode" "$mode" $binaries)
}

run_runner single
IGT_RUNNER_DISABLE_SOCKET_COMMUNICATION=1 run_runner text
run_runner multiple -m
run_runner test-list --test-list "$W/list.txt"
run_runner fixture-fail -e SELFTEST_FIXTURE_FAIL=1

summary
[ "$failed" -eq 0 ]
