// SPDX-License-Identifier: MIT
/*
 * Self test for igt_harness: every result path igt_runner has to see.
 * harness_cases.c runs it; *.expected hold its exact output, line numbers
 * too: after an edit, BLESS=1 ./run.sh, and review the golden files' diff.
 */

/**
 * TEST: harness selftest
 * Category: Infrastructure
 * Description: Exercises the igt_harness re-implementation of the IGT core
 *		API: subtest results, fixtures, subtest groups, dynamic subtests,
 *		forked children and the output protocol igt_runner parses.
 * Functionality: test harness
 * Test category: selftest
 *
 * SUBTEST: pass-basic
 * Description: Assertions, ioctl helpers and logging that all pass.
 *
 * SUBTEST: pass-fmt-%d
 * Description: Subtest with a printf-formatted name, using igt_until_timeout().
 *
 * arg[1].values: 2
 *
 * SUBTEST: fail-assert-eq
 * Description: igt_assert_eq() failure.
 *
 * SUBTEST: fail-assert-msg
 * Description: igt_assert_f() failure with a message.
 *
 * SUBTEST: skip-require
 * Description: igt_require() that is not met.
 *
 * SUBTEST: skip-explicit
 * Description: igt_skip() with a reason.
 *
 * SUBTEST: warn
 * Description: Passes but warns on stderr; igt_runner reports "warn".
 *
 * SUBTEST: fork-pass
 * Description: Forked children that all pass.
 *
 * SUBTEST: fork-child-fail
 * Description: One forked child fails an assertion.
 *
 * SUBTEST: crash
 * Description: A SIGSEGV inside a subtest is reported as CRASH.
 *
 * SUBTEST: dynamic-mixed
 * Description: Dynamic subtests that pass, fail and skip; the subtest fails.
 *
 * SUBTEST: dynamic-all-skip
 * Description: All dynamic subtests skip; the subtest skips.
 *
 * SUBTEST: dynamic-pass
 * Description: All dynamic subtests pass.
 *
 * SUBTEST: group-fixture-fail
 * Description: Fails through its group's fixture when SELFTEST_FIXTURE_FAIL
 *		is set in the environment, passes otherwise.
 *
 * SUBTEST: group-skip-a
 * Description: Skipped by its group's fixture.
 *
 * SUBTEST: group-skip-b
 * Description: Skipped by its group's fixture.
 *
 * SUBTEST: after-groups
 * Description: Runs after a skipped group.
 */

#include <signal.h>
#include <sys/ioctl.h>

#include "igt_harness.h"

IGT_TEST_DESCRIPTION("Self test of igt_harness, the minimal re-implementation of the IGT core test API that our virtio-gpu tests use until they move upstream into igt-gpu-tools.");

static int pipe_fds[2] = { -1, -1 };
static int answer = 42;

static void require_the_impossible(void)
{
	igt_require(answer == 41);
}

static void group_requirement(void)
{
	igt_require_f(answer < 0, "no such feature: %s\n", "negative answer");
}

int igt_main()
{
	igt_fixture() {
		igt_assert(pipe(pipe_fds) == 0);
	}

	igt_describe("Assertions, ioctl helpers and logging that all pass.");
	igt_subtest("pass-basic") {
		int avail = -1;

		igt_assert(true);
		igt_assert_eq(1 + 1, 2);
		igt_assert_neq(1, 2);
		igt_assert_lt(1, 2);
		igt_assert_lte(2, 2);
		igt_assert_eq_u32(0xffffffffu, ~0u);
		igt_assert_eq_u64(1ull << 40, 0x10000000000ull);
		igt_assert_fd(pipe_fds[0]);
		do_ioctl(pipe_fds[0], FIONREAD, &avail);
		igt_assert_eq(avail, 0);
		do_ioctl_err(-1, FIONREAD, &avail, EBADF);
		igt_info("info from pass-basic\n");
		igt_debug("debug output is only shown with --debug\n");
	}

	igt_describe("Subtest with a printf-formatted name.");
	igt_subtest_f("pass-fmt-%d", 2) {
		int loops = 0;

		igt_until_timeout(5) {
			if (++loops == 3)
				break;
		}
		igt_assert_eq(loops, 3);
	}

	igt_describe("igt_assert_eq() failure.");
	igt_subtest("fail-assert-eq") {
		igt_assert_eq(answer, 41);
	}

	igt_describe("igt_assert_f() failure with a message.");
	igt_subtest("fail-assert-msg") {
		igt_assert_f(answer == 0, "custom message %d\n", answer);
	}

	igt_subtest("skip-require")
		require_the_impossible();

	igt_subtest("skip-explicit")
		igt_skip("explicit skip, reason %d\n", 7);

	igt_describe("Passes, but warns on stderr.");
	igt_subtest("warn")
		igt_warn("this is a warning\n");

	igt_subtest("fork-pass") {
		igt_fork(child, 3)
			igt_assert(child < 3);
		igt_waitchildren();
	}

	igt_describe("One forked child fails an assertion.");
	igt_subtest("fork-child-fail") {
		igt_fork(child, 2)
			igt_assert_f(child != 1, "child %d fails\n", child);
		igt_waitchildren();
	}

	igt_subtest("crash")
		raise(SIGSEGV);

	igt_describe("Dynamic subtests that pass, fail and skip.");
	igt_subtest_with_dynamic("dynamic-mixed") {
		igt_dynamic("dyn-pass")
			igt_info("in dyn-pass\n");
		igt_dynamic_f("dyn-fail-%d", 1)
			igt_assert(answer == 1);
		igt_dynamic("dyn-skip")
			igt_skip("dynamic skip\n");
		igt_dynamic("dyn-pass-2")
			igt_info("in dyn-pass-2\n");
	}

	igt_subtest_with_dynamic("dynamic-all-skip") {
		igt_dynamic("skip-1")
			igt_skip("skip one\n");
		igt_dynamic("skip-2")
			igt_skip("skip two\n");
	}

	igt_subtest_with_dynamic("dynamic-pass") {
		for (int i = 0; i < 2; i++)
			igt_dynamic_f("item-%d", i)
				igt_assert(i < 2);
	}

	igt_describe("A group whose fixture fails on request.");
	igt_subtest_group() {
		igt_fixture() {
			igt_assert_f(!getenv("SELFTEST_FIXTURE_FAIL"),
				     "fixture failure requested\n");
		}

		igt_subtest("group-fixture-fail")
			igt_info("group fixture passed\n");
	}

	igt_describe("A group whose fixture skips.");
	igt_subtest_group() {
		igt_fixture()
			group_requirement();

		igt_describe("Skipped by the group fixture.");
		igt_subtest("group-skip-a")
			igt_info("not reached\n");

		igt_subtest("group-skip-b")
			igt_info("not reached\n");
	}

	igt_subtest("after-groups")
		igt_info("after the groups\n");

	igt_fixture() {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
	}
}
