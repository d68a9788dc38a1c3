// SPDX-License-Identifier: MIT
/*
 * igt_harness.c - minimal re-implementation of IGT's lib/igt_core.c
 *
 * Own code; upstream igt-gpu-tools was used as a reference for behaviour only.
 *
 * What igt_runner (igt-gpu-tools 2.5) relies on, and what this file emits:
 *
 * - "--list-subtests": subtest names only, one per line, exit 0; nothing
 *   else on stdout and no fixture is run.  runner/job_list.c reads them
 *   with fscanf("%ms"); exit code 79 means "binary has no subtests".
 * - The runner executes "<test_root>/<binary> --run-subtest <pattern>"
 *   (a comma-separated uwildmat list in multiple mode, "*,!a,!b" when
 *   resuming) plus "--dynamic-subtest <pattern>" for test list entries of
 *   the form igt@bin@subtest@dynamic (runner/executor.c).
 * - The runner always sets IGT_SENTINEL_ON_STDERR=1 and, unless
 *   IGT_RUNNER_DISABLE_SOCKET_COMMUNICATION is set, IGT_RUNNER_SOCKET_FD, a
 *   SOCK_DGRAM unix socket (lib/runnercomms.[ch]).  Like libigt we then send
 *   every log line, subtest start/result and the version string as packets:
 *   16-byte packed header {u32 size, u32 type, s32 pid, s32 tid} followed by
 *   nul-terminated strings (LOG carries a u8 stream number first).  The
 *   runner dumps them into "comms" and resultgen.c builds results.json from
 *   that dump; raw printf()s then only reach out.txt, as with libigt.
 *   The socket is optional: without it (or when the dump holds nothing but
 *   the runner's own EXEC packet, comms_read_dump() == COMMSPARSE_EMPTY)
 *   resultgen.c parses out.txt, err.txt and journal.txt instead, using the
 *   text protocol below, which is also what a human sees on a terminal.
 * - stdout lines, at the start of a line (runner/output_strings.h):
 *	"IGT-Version: ..."
 *	"Starting subtest: NAME"
 *	"Subtest NAME: SUCCESS|FAIL|SKIP|CRASH (%.3fs)"
 *	"Starting dynamic subtest: NAME"
 *	"Dynamic subtest NAME: RESULT (%.3fs)"
 *   The same start/result lines are copied to stderr when
 *   IGT_SENTINEL_ON_STDERR is set, so err.txt can be split per subtest;
 *   any other stderr output inside a passing subtest turns it into "warn".
 *   A subtest skipped/failed by a fixture only gets the result line.
 * - /dev/kmsg: "<6>[IGT] BIN: executing", "...: starting subtest NAME",
 *   "...: starting dynamic subtest NAME", "...: finished subtest NAME, RESULT",
 *   "...: exiting, ret=N".  resultgen.c splits dmesg per subtest on
 *   ": starting subtest " / ": starting dynamic subtest ".
 * - Exit codes: 0 success, 77 all skipped, 98 (or the first failure's code)
 *   on failure, 79 for an unmatched --run-subtest/--describe pattern or a
 *   bad option, 128+signal on a crash.
 */
#define _GNU_SOURCE
#include "igt_harness.h"

#include <ctype.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define IGT_HARNESS_VERSION "2.5-igt_harness"

sigjmp_buf igt_subtest_jmpbuf;
sigjmp_buf igt_dynamic_jmpbuf;
enum igt_log_level igt_log_level = IGT_LOG_INFO;

static const char *command_str;
static bool list_subtests, show_testlist, describe_subtests;
static char *run_single_subtest, *run_single_dynamic_subtest;
static bool run_single_subtest_found;
static const char *in_subtest, *in_dynamic_subtest;
static struct timespec subtest_time, dynamic_subtest_time;
static bool in_fixture, test_with_subtests, test_child;
static enum { CONT = 0, SKIP, FAIL } skip_subtests_henceforth;
static int dynamic_tests_executed = -1;
static bool skipped_one, succeeded_one, failed_one, dynamic_failed_one;
static int igt_exitcode = IGT_EXIT_SUCCESS;
static bool plain_output, stderr_needs_sentinel;
static char *log_domain_filter;

static char current_description[512];
static char group_descriptions[16][sizeof(current_description)];
static int num_group_descriptions;

static pid_t *test_children;
static int num_test_children, test_children_sz;

/* ring buffer of recent log lines, dumped to stderr when something fails */
static struct {
	char *entries[256];
	uint8_t start, end;
} log_buffer;
static bool log_continuation;

/* igt_runner socket comms, see lib/runnercomms.h */
enum {
	PACKETTYPE_LOG = 1,
	PACKETTYPE_SUBTEST_START = 4,
	PACKETTYPE_SUBTEST_RESULT,
	PACKETTYPE_DYNAMIC_SUBTEST_START,
	PACKETTYPE_DYNAMIC_SUBTEST_RESULT,
	PACKETTYPE_VERSIONSTRING,
};

struct runnerpacket {
	uint32_t size;
	uint32_t type;
	int32_t senderpid;
	int32_t sendertid;
} __attribute__((packed));

static int runner_socket = -1;

/* one datagram: header, [u8 stream,] then the strings, each nul-terminated */
static void send_to_runner(uint32_t type, int stream, int n, const char *const *strs)
{
	char buf[16384];
	struct runnerpacket *p = (struct runnerpacket *)buf;
	size_t size = sizeof(*p);
	ssize_t r;

	if (stream >= 0)
		buf[size++] = stream;
	for (int i = 0; i < n; i++) {
		size_t len = strnlen(strs[i], sizeof(buf) - size - 1);

		memcpy(buf + size, strs[i], len);
		buf[size + len] = '\0';
		size += len + 1;
	}
	p->size = size;
	p->type = type;
	p->senderpid = getpid();
	p->sendertid = gettid();
	r = write(runner_socket, buf, size);
	(void)r;
}

/* text for stdout/stderr: a LOG packet (4096 chars max each) or the stream */
static void log_to(FILE *stream, const char *str)
{
	int saved_errno = errno;

	if (runner_socket < 0) {
		fputs(str, stream);
		fflush(stream);
	} else {
		do {
			char chunk[4097];

			snprintf(chunk, sizeof(chunk), "%s", str);
			send_to_runner(PACKETTYPE_LOG, fileno(stream), 1,
				       (const char *[]){ chunk });
			str += strlen(chunk);
		} while (*str);
	}
	errno = saved_errno;
}

__attribute__((format(printf, 2, 3)))
static void log_to_f(FILE *stream, const char *fmt, ...)
{
	va_list ap;
	char *str;

	va_start(ap, fmt);
	if (vasprintf(&str, fmt, ap) >= 0) {
		log_to(stream, str);
		free(str);
	}
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void internal_assert(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "please refer to lib/igt_core documentation\n");
	abort();
}

const char *igt_test_name(void) { return command_str; }
const char *igt_subtest_name(void) { return in_subtest; }
const char *igt_dynamic_subtest_name(void) { return in_dynamic_subtest; }
bool igt_only_list_subtests(void) { return list_subtests || show_testlist; }
bool igt_can_fail(void) { return !test_with_subtests || in_fixture || in_subtest; }

/* time */

int igt_gettime(struct timespec *ts)
{
	memset(ts, 0, sizeof(*ts));
	if (clock_gettime(CLOCK_MONOTONIC_RAW, ts) &&
	    clock_gettime(CLOCK_MONOTONIC, ts))
		return -errno;
	return 0;
}

double igt_time_elapsed(struct timespec *then, struct timespec *now)
{
	if (!(then->tv_sec || then->tv_nsec) || !(now->tv_sec || now->tv_nsec))
		return -1.0;
	return (now->tv_sec - then->tv_sec) + (now->tv_nsec - then->tv_nsec) * 1e-9;
}

uint64_t igt_nsec_elapsed(struct timespec *start)
{
	struct timespec now;

	igt_gettime(&now);
	if (!(start->tv_sec | start->tv_nsec)) {
		*start = now;
		return 0;
	}
	return (now.tv_nsec - start->tv_nsec) +
	       1000000000ull * (now.tv_sec - start->tv_sec);
}

/* logging */

static void log_buffer_reset(void)
{
	log_buffer.start = log_buffer.end = 0;
}

static void log_buffer_dump(void)
{
	uint8_t i;

	/* a failed dynamic subtest already dumped its log */
	if (in_subtest && !in_dynamic_subtest && dynamic_tests_executed >= 0) {
		log_buffer_reset();
		return;
	}

	if (in_dynamic_subtest)
		log_to_f(stderr, "Dynamic subtest %s failed.\n", in_dynamic_subtest);
	else if (in_subtest)
		log_to_f(stderr, "Subtest %s failed.\n", in_subtest);
	else
		log_to_f(stderr, "Test %s failed.\n", command_str);

	if (log_buffer.start == log_buffer.end) {
		log_to(stderr, "No log.\n");
		return;
	}
	log_to(stderr, "**** DEBUG ****\n");
	i = log_buffer.start;
	do {
		log_to(stderr, log_buffer.entries[i]);
		i++;
	} while (i != log_buffer.start && i != log_buffer.end);
	log_buffer_reset();
	log_to(stderr, "****  END  ****\n");
}

void igt_vlog(const char *domain, enum igt_log_level level, const char *format,
	      va_list args)
{
	static const char *const level_str[] = {
		"DEBUG", "INFO", "WARNING", "CRITICAL", "NONE"
	};
	int saved_errno = errno;
	char *line, *formatted;
	struct timespec ts;
	FILE *file;

	if (igt_only_list_subtests() && level <= IGT_LOG_WARN)
		return;
	if (vasprintf(&line, format, args) < 0)
		return;

	if (log_continuation) {
		formatted = strdup(line);
	} else {
		igt_gettime(&ts);
		if (asprintf(&formatted, "[%ld.%06ld] (%s:%d) %s%s%s: %s",
			     (long)ts.tv_sec, ts.tv_nsec / 1000,
			     program_invocation_short_name, getpid(),
			     domain ?: "", domain ? "-" : "",
			     level_str[level], line) < 0)
			formatted = NULL;
	}
	log_continuation = line[0] && line[strlen(line) - 1] != '\n';

	if (formatted) {
		free(log_buffer.entries[log_buffer.end]);
		log_buffer.entries[log_buffer.end++] = formatted;
		if (log_buffer.end == log_buffer.start)
			log_buffer.start++;
	}

	if (igt_log_level > level)
		goto out;
	if (log_domain_filter &&
	    strcmp(log_domain_filter, domain ?: "application"))
		goto out;

	/* warnings and worse go to stderr, making the runner report "warn" */
	file = level >= IGT_LOG_WARN ? stderr : stdout;
	log_to(file, level != IGT_LOG_INFO && formatted ? formatted : line);
out:
	free(line);
	errno = saved_errno;
}

void igt_log(const char *domain, enum igt_log_level level, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	igt_vlog(domain, level, format, args);
	va_end(args);
}

void igt_kmsg(const char *format, ...)
{
	int saved_errno = errno;
	va_list ap;
	FILE *file;

	file = fopen("/dev/kmsg", "w");
	if (file) {
		va_start(ap, format);
		vfprintf(file, format, ap);
		va_end(ap);
		fclose(file);
	}
	errno = saved_errno;
}

/* --describe support */

static void print_line_wrapping(const char *indent, const char *text)
{
	const int line_length = 80 - strlen(indent);
	char *copy = strdup(text), *curr = copy, *next_space;
	int current = 0;
	bool done = false;

	printf("%s", indent);
	while (!done) {
		next_space = strchr(curr, ' ');
		if (!next_space) {
			done = true;
			next_space = strchr(curr, '\0');
		}
		*next_space = '\0';

		/* word lengths only, spaces are not counted (as in IGT) */
		if ((next_space - curr) + current > line_length && curr != copy) {
			printf("\n%s", indent);
			current = 0;
		}
		printf(current ? " %s" : "%s", curr);
		current += next_space - curr;
		curr = next_space + 1;
	}
	printf("\n");
	free(copy);
}

static void print_test_description(void)
{
	if (&__igt_test_description) {
		print_line_wrapping("", __igt_test_description);
		if (describe_subtests)
			printf("\n");
	}
}

static void print_subtest_description(const char *name, const char *file, int line)
{
	bool has_doc = false;

	printf("SUB %s %s:%d:\n", name, file, line);
	for (int i = 0; i < num_group_descriptions; i++) {
		print_line_wrapping("  ", group_descriptions[i]);
		printf("\n");
		has_doc = true;
	}
	if (current_description[0]) {
		print_line_wrapping("  ", current_description);
		printf("\n");
		has_doc = true;
	}
	if (!has_doc)
		printf("  NO DOCUMENTATION!\n\n");
}

void igt_describe_f(const char *fmt, ...)
{
	va_list args;
	int ret;

	internal_assert(!in_subtest || dynamic_tests_executed < 0,
			"documenting dynamic subsubtests is impossible, document the subtest instead.\n");
	if (!describe_subtests)
		return;
	va_start(args, fmt);
	ret = vsnprintf(current_description, sizeof(current_description), fmt, args);
	va_end(args);
	internal_assert(ret < (int)sizeof(current_description),
			"igt_describe(): description too long\n");
}

void __igt_subtest_group_save(int *save, int *desc)
{
	if (current_description[0]) {
		internal_assert(num_group_descriptions < (int)ARRAY_SIZE(group_descriptions),
				"igt_subtest_group() nested too deeply\n");
		memcpy(group_descriptions[num_group_descriptions++],
		       current_description, sizeof(current_description));
		current_description[0] = '\0';
		*desc = true;
	}
	*save = skip_subtests_henceforth;
}

void __igt_subtest_group_restore(int save, int desc)
{
	if (desc)
		num_group_descriptions--;
	skip_subtests_henceforth = save;
}

/* subtest selection: uwildmat-style list, the last matching element wins */
static bool subtest_matches(const char *name, const char *patterns)
{
	char *copy = strdup(patterns), *save = NULL, *pat;
	bool match = false;

	for (pat = strtok_r(copy, ",", &save); pat; pat = strtok_r(NULL, ",", &save)) {
		bool negate = pat[0] == '!';

		if (fnmatch(pat + negate, name, 0) == 0)
			match = !negate;
	}
	free(copy);
	return match;
}

static bool valid_name_for_subtest(const char *name)
{
	for (int i = 0; name[i]; i++)
		if (name[i] != '_' && name[i] != '-' && !isalnum((unsigned char)name[i]))
			return false;
	return true;
}

/* result reporting */

static void subtest_result_message(bool dynamic, const char *name,
				   const char *result, double elapsed)
{
	const char *kind = dynamic ? "Dynamic subtest" : "Subtest";
	char timestr[32];

	snprintf(timestr, sizeof(timestr), "%.3f", elapsed);
	if (runner_socket >= 0) {
		send_to_runner(dynamic ? PACKETTYPE_DYNAMIC_SUBTEST_RESULT :
					 PACKETTYPE_SUBTEST_RESULT, -1, 4,
			       (const char *[]){ name, result, timestr, "" });
		return;
	}

	printf("%s%s %s: %s (%ss)%s\n", plain_output ? "" : "\x1b[1m",
	       kind, name, result, timestr, plain_output ? "" : "\x1b[0m");
	fflush(stdout);
	if (stderr_needs_sentinel)
		fprintf(stderr, "%s %s: %s (%ss)\n", kind, name, result, timestr);
}

static void subtest_starting_message(bool dynamic, const char *name)
{
	const char *kind = dynamic ? "dynamic subtest" : "subtest";

	if (runner_socket >= 0) {
		send_to_runner(dynamic ? PACKETTYPE_DYNAMIC_SUBTEST_START :
					 PACKETTYPE_SUBTEST_START, -1, 1,
			       (const char *[]){ name });
		return;
	}

	igt_info("Starting %s: %s\n", kind, name);
	fflush(stdout);
	if (stderr_needs_sentinel)
		fprintf(stderr, "Starting %s: %s\n", kind, name);
}

/* our own bookkeeping must not leak into "Last errno" of later asserts */
void igt_kill_children(int signal)
{
	int saved_errno = errno;

	for (int c = 0; c < num_test_children; c++)
		if (test_children[c] > 0)
			kill(test_children[c], signal);
	errno = saved_errno;
}

static void reap_children(void)
{
	int saved_errno = errno;

	for (int c = 0; c < num_test_children; c++) {
		if (test_children[c] > 0) {
			kill(test_children[c], SIGKILL);
			waitpid(test_children[c], NULL, 0);
		}
	}
	num_test_children = 0;
	errno = saved_errno;
}

__noreturn static void exit_subtest(const char *result)
{
	bool dynamic = in_dynamic_subtest != NULL;
	const char **name = dynamic ? &in_dynamic_subtest : &in_subtest;
	struct timespec now;

	igt_gettime(&now);
	subtest_result_message(dynamic, *name, result,
			       igt_time_elapsed(dynamic ? &dynamic_subtest_time :
						&subtest_time, &now));
	igt_kmsg(KMSG_INFO "%s: finished %s %s, %s\n", command_str,
		 dynamic ? "dynamic subtest" : "subtest", *name, result);

	/* an aborted subtest may have left children behind */
	reap_children();

	if (dynamic)
		log_buffer_reset();
	else
		dynamic_tests_executed = -1;
	*name = NULL;
	siglongjmp(dynamic ? igt_dynamic_jmpbuf : igt_subtest_jmpbuf, 1);
}

bool __igt_fixture(void)
{
	internal_assert(!in_fixture, "nesting multiple igt_fixture()s is invalid\n");
	internal_assert(!in_subtest, "nesting igt_fixture() in igt_subtest is invalid\n");

	if (igt_only_list_subtests() || skip_subtests_henceforth)
		return false;
	in_fixture = true;
	return true;
}

void __igt_fixture_complete(void)
{
	in_fixture = false;
}

void __igt_fixture_end(void)
{
	in_fixture = false;
	siglongjmp(igt_subtest_jmpbuf, 1);
}

bool __igt_run_subtest(const char *name, const char *file, const int line)
{
	internal_assert(!igt_can_fail(),
			"igt_subtest can be nested only in igt_main() or igt_subtest_group()\n");

	if (!valid_name_for_subtest(name)) {
		igt_critical("Invalid subtest name \"%s\".\n", name);
		igt_exit();
	}

	if (run_single_subtest) {
		if (!subtest_matches(name, run_single_subtest)) {
			current_description[0] = '\0';
			return false;
		}
		run_single_subtest_found = true;
	}

	if (describe_subtests) {
		print_subtest_description(name, file, line);
		current_description[0] = '\0';
		return false;
	} else if (show_testlist) {
		printf("igt@%s@%s\n", command_str, name);
		return false;
	} else if (list_subtests) {
		printf("%s\n", name);
		return false;
	}

	if (skip_subtests_henceforth) {
		subtest_result_message(false, name,
				       skip_subtests_henceforth == SKIP ? "SKIP" : "FAIL",
				       0.0);
		return false;
	}

	igt_kmsg(KMSG_INFO "%s: starting subtest %s\n", command_str, name);
	subtest_starting_message(false, name);
	log_buffer_reset();
	igt_gettime(&subtest_time);
	return (in_subtest = name);
}

bool __igt_enter_dynamic_container(void)
{
	dynamic_tests_executed = 0;
	dynamic_failed_one = false;
	return true;
}

bool __igt_run_dynamic_subtest(const char *name)
{
	internal_assert(in_subtest && dynamic_tests_executed >= 0,
			"igt_dynamic is allowed only inside igt_subtest_with_dynamic\n");
	internal_assert(!in_dynamic_subtest,
			"igt_dynamic is not allowed to be nested in another igt_dynamic\n");

	if (!valid_name_for_subtest(name)) {
		igt_critical("Invalid dynamic subtest name \"%s\".\n", name);
		igt_exit();
	}

	if (run_single_dynamic_subtest &&
	    !subtest_matches(name, run_single_dynamic_subtest))
		return false;

	igt_kmsg(KMSG_INFO "%s: starting dynamic subtest %s\n", command_str, name);
	subtest_starting_message(true, name);
	log_buffer_reset();
	dynamic_tests_executed++;
	igt_gettime(&dynamic_subtest_time);
	return (in_dynamic_subtest = name);
}

void igt_success(void)
{
	if (in_subtest && !in_dynamic_subtest && dynamic_tests_executed >= 0) {
		/* leaving a dynamic container: result follows its children */
		if (dynamic_failed_one)
			igt_fail(IGT_EXIT_FAILURE);
		if (dynamic_tests_executed == 0)
			igt_skip("No dynamic tests executed.\n");
	}

	if (!in_dynamic_subtest)
		succeeded_one = true;
	if (in_subtest)
		exit_subtest("SUCCESS");
}

void igt_skip(const char *f, ...)
{
	va_list args;

	skipped_one = true;
	internal_assert(!test_child, "skips are not allowed in forks\n");

	if (!igt_only_list_subtests()) {
		char *str;

		va_start(args, f);
		if (runner_socket < 0)
			vprintf(f, args);
		else if (vasprintf(&str, f, args) >= 0) {
			log_to(stdout, str);
			free(str);
		}
		va_end(args);
	}

	if (in_subtest) {
		/* skipped dynamic subtests do not count for the container */
		if (in_dynamic_subtest)
			dynamic_tests_executed--;
		exit_subtest("SKIP");
	}

	skip_subtests_henceforth = SKIP;
	internal_assert(in_fixture,
			"skipping is allowed only in fixtures, subtests or igt_simple_main()\n");
	__igt_fixture_end();
}

void __igt_skip_check(const char *file, const int line, const char *func,
		      const char *check, const char *f, ...)
{
	static char *buf, *err_str;
	int err = errno;
	va_list args;

	free(buf);
	free(err_str);
	buf = err_str = NULL;
	if (err && asprintf(&err_str, "Last errno: %i, %s\n", err, strerror(err)) < 0)
		err_str = NULL;
	if (f) {
		va_start(args, f);
		if (vasprintf(&buf, f, args) < 0)
			buf = NULL;
		va_end(args);
	}

	igt_skip("Test requirement not met in function %s, file %s:%i:\n"
		 "Test requirement: %s\n%s%s",
		 func, file, line, check, buf ?: "", err_str ?: "");
}

void igt_fail(int exitcode)
{
	internal_assert(exitcode != IGT_EXIT_SUCCESS && exitcode != IGT_EXIT_SKIP,
			"igt_fail() with exit code %d\n", exitcode);

	if (in_dynamic_subtest) {
		dynamic_failed_one = true;
	} else {
		internal_assert(dynamic_tests_executed < 0 || dynamic_failed_one,
				"dynamic subtest containers must not fail explicitly, use igt_dynamic()\n");
		if (!failed_one)
			igt_exitcode = exitcode;
		failed_one = true;
	}

	log_buffer_dump();

	if (test_child)
		exit(exitcode);
	if (in_subtest)
		exit_subtest("FAIL");

	internal_assert(igt_can_fail(),
			"failing test is only allowed in fixtures, subtests and igt_simple_main()\n");
	if (in_fixture) {
		skip_subtests_henceforth = FAIL;
		__igt_fixture_end();
	}
	igt_exit();
}

void __igt_fail_assert(const char *domain, const char *file, const int line,
		       const char *func, const char *assertion, const char *f, ...)
{
	int err = errno;
	va_list args;

	igt_log(domain, IGT_LOG_CRITICAL,
		"Test assertion failure function %s, file %s:%i:\n", func, file, line);
	igt_log(domain, IGT_LOG_CRITICAL, "Failed assertion: %s\n", assertion);
	if (err)
		igt_log(domain, IGT_LOG_CRITICAL, "Last errno: %i, %s\n", err,
			strerror(err));
	if (f) {
		va_start(args, f);
		igt_vlog(domain, IGT_LOG_CRITICAL, f, args);
		va_end(args);
	}
	igt_fail(IGT_EXIT_FAILURE);
}

void igt_exit(void)
{
	if (run_single_subtest && !run_single_subtest_found) {
		igt_critical("Unknown subtest: %s\n", run_single_subtest);
		exit(IGT_EXIT_INVALID);
	}
	if (igt_only_list_subtests())
		exit(IGT_EXIT_SUCCESS);

	internal_assert(skipped_one || succeeded_one || failed_one,
			"igt_exit() without any subtest result\n");
	if (!failed_one)
		igt_exitcode = succeeded_one ? IGT_EXIT_SUCCESS : IGT_EXIT_SKIP;

	igt_kmsg(KMSG_INFO "%s: exiting, ret=%d\n", command_str, igt_exitcode);
	igt_debug("Exiting with status code %d\n", igt_exitcode);
	reap_children();
	exit(igt_exitcode);
}

/* forked children */

bool __igt_fork(void)
{
	pid_t pid;

	internal_assert(in_subtest, "forking is only allowed in subtests or igt_simple_main()\n");
	internal_assert(!test_child, "forking is not allowed from already forked children\n");

	if (num_test_children >= test_children_sz) {
		test_children_sz = test_children_sz ? test_children_sz * 2 : 4;
		test_children = realloc(test_children,
					sizeof(*test_children) * test_children_sz);
		igt_assert(test_children);
	}

	fflush(NULL);	/* don't duplicate buffered output in the child */
	pid = fork();
	igt_assert(pid >= 0);
	if (pid == 0) {
		test_child = true;
		return true;
	}
	test_children[num_test_children++] = pid;
	return false;
}

int __igt_waitchildren(void)
{
	int err = 0, count = 0;

	internal_assert(!test_child, "igt_waitchildren() called from a child\n");
	while (count < num_test_children) {
		int status = -1, c;
		pid_t pid = wait(&status);

		if (pid == -1) {
			if (errno == EINTR)
				continue;
			printf("wait(num_children:%d) failed with %m\n",
			       num_test_children - count);
			return IGT_EXIT_FAILURE;
		}
		for (c = 0; c < num_test_children; c++)
			if (pid == test_children[c])
				break;
		if (c == num_test_children)
			continue;

		if (err == 0 && status != 0) {
			if (WIFEXITED(status)) {
				printf("child %i failed with exit status %i\n",
				       c, WEXITSTATUS(status));
				err = WEXITSTATUS(status);
			} else if (WIFSIGNALED(status)) {
				printf("child %i died with signal %i, %s\n", c,
				       WTERMSIG(status), strsignal(WTERMSIG(status)));
				err = 128 + WTERMSIG(status);
			} else {
				printf("Unhandled failure [%d] in child %i\n", status, c);
				err = 256;
			}
			igt_kill_children(SIGKILL);
		}
		count++;
	}
	num_test_children = 0;
	return err;
}

void igt_waitchildren(void)
{
	int err = __igt_waitchildren();

	if (err)
		igt_fail(err);
}

int igt_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

/* a crash inside a subtest reports CRASH and carries on, like IGT */
static void crash_handler(int sig)
{
	const char *msg = sig == SIGSEGV ? "Received signal SIGSEGV.\n" :
			  sig == SIGBUS ? "Received signal SIGBUS.\n" :
					  "Received signal SIGFPE.\n";

	if (runner_socket >= 0) {
		send_to_runner(PACKETTYPE_LOG, STDERR_FILENO, 1, &msg);
	} else {
		ssize_t r = write(STDERR_FILENO, msg, strlen(msg));

		(void)r;
	}
	if (!failed_one)
		igt_exitcode = 128 + sig;
	failed_one = true;

	if (in_subtest && !test_child) {
		if (in_dynamic_subtest)
			dynamic_failed_one = true;
		exit_subtest("CRASH");
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* option parsing */

enum {
	OPT_LIST_SUBTESTS = 500,
	OPT_SHOW_TESTLIST,
	OPT_DESCRIBE_SUBTESTS,
	OPT_RUN_SUBTEST,
	OPT_RUN_DYNAMIC_SUBTEST,
	OPT_DESCRIPTION,
	OPT_DEBUG,
	OPT_VERSION,
	OPT_HELP = 'h'
};

static const struct option core_options[] = {
	{ "list-subtests",    no_argument,       NULL, OPT_LIST_SUBTESTS },
	{ "show-testlist",    no_argument,       NULL, OPT_SHOW_TESTLIST },
	{ "describe",         optional_argument, NULL, OPT_DESCRIBE_SUBTESTS },
	{ "run-subtest",      required_argument, NULL, OPT_RUN_SUBTEST },
	{ "dynamic-subtest",  required_argument, NULL, OPT_RUN_DYNAMIC_SUBTEST },
	{ "help-description", no_argument,       NULL, OPT_DESCRIPTION },
	{ "debug",            optional_argument, NULL, OPT_DEBUG },
	{ "version",          no_argument,       NULL, OPT_VERSION },
	{ "help",             no_argument,       NULL, OPT_HELP },
	{ 0, 0, 0, 0 }
};

static void print_usage(const char *help_str, bool output_on_stderr)
{
	FILE *f = output_on_stderr ? stderr : stdout;

	fprintf(f, "Usage: %s [OPTIONS]\n", command_str);
	fprintf(f, "  --list-subtests\n"
		   "  --show-testlist\n"
		   "  --run-subtest <pattern>\n"
		   "  --dynamic-subtest <pattern>\n"
		   "  --debug[=log-domain]\n"
		   "  --help-description\n"
		   "  --describe\n"
		   "  --version\n"
		   "  --help|-h\n");
	if (help_str)
		fprintf(f, "%s\n", help_str);
}

static void print_version(void)
{
	struct utsname uts;
	char version[512];

	if (igt_only_list_subtests())
		return;
	uname(&uts);
	snprintf(version, sizeof(version), "IGT-Version: %s (%s) (%s: %s %s)\n",
		 IGT_HARNESS_VERSION, uts.machine, uts.sysname, uts.release,
		 uts.machine);
	if (runner_socket >= 0)
		send_to_runner(PACKETTYPE_VERSIONSTRING, -1, 1,
			       (const char *[]){ version });
	else
		igt_info("%s", version);
}

static void common_init_env(void)
{
	const char *env;

	plain_output = !isatty(STDOUT_FILENO) || getenv("IGT_PLAIN_OUTPUT");
	errno = 0;	/* isatty() leaves ENOTTY behind */

	env = getenv("IGT_LOG_LEVEL");
	if (env) {
		if (!strcmp(env, "debug"))
			igt_log_level = IGT_LOG_DEBUG;
		else if (!strcmp(env, "info"))
			igt_log_level = IGT_LOG_INFO;
		else if (!strcmp(env, "warn"))
			igt_log_level = IGT_LOG_WARN;
		else if (!strcmp(env, "none"))
			igt_log_level = IGT_LOG_NONE;
	}
	stderr_needs_sentinel = getenv("IGT_SENTINEL_ON_STDERR") != NULL;

	env = getenv("IGT_RUNNER_SOCKET_FD");
	if (env) {
		struct stat st;
		int fd = atoi(env);

		if (!fstat(fd, &st) && S_ISSOCK(st.st_mode))
			runner_socket = fd;
	}
}

int igt_subtest_init_parse_opts(int *argc, char **argv,
				const char *extra_short_opts,
				const struct option *extra_long_opts,
				const char *help_str,
				igt_opt_handler_t extra_opt_handler,
				void *handler_data)
{
	struct sigaction sa = { .sa_handler = crash_handler };
	int c, i, option_index = 0, ret = 0, extra = 0;
	struct option *opts;
	char *short_opts;

	test_with_subtests = true;
	common_init_env();
	command_str = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	while (extra_long_opts && extra_long_opts[extra].name)
		extra++;
	opts = calloc(extra + ARRAY_SIZE(core_options), sizeof(*opts));
	if (extra)
		memcpy(opts, extra_long_opts, extra * sizeof(*opts));
	memcpy(opts + extra, core_options, sizeof(core_options));
	if (!opts || asprintf(&short_opts, "%sh", extra_short_opts ?: "") < 0)
		abort();

	while ((c = getopt_long(*argc, argv, short_opts, opts, &option_index)) != -1) {
		switch (c) {
		case OPT_DEBUG:
			igt_log_level = IGT_LOG_DEBUG;
			if (optarg && *optarg)
				log_domain_filter = strdup(optarg);
			break;
		case OPT_LIST_SUBTESTS:
			if (!run_single_subtest)
				list_subtests = true;
			break;
		case OPT_SHOW_TESTLIST:
			show_testlist = true;
			break;
		case OPT_DESCRIBE_SUBTESTS:
			if (optarg)
				run_single_subtest = strdup(optarg);
			list_subtests = true;
			describe_subtests = true;
			print_test_description();
			break;
		case OPT_RUN_SUBTEST:
			if (!igt_only_list_subtests())
				run_single_subtest = strdup(optarg);
			break;
		case OPT_RUN_DYNAMIC_SUBTEST:
			if (!igt_only_list_subtests())
				run_single_dynamic_subtest = strdup(optarg);
			break;
		case OPT_DESCRIPTION:
			print_test_description();
			ret = -1;
			goto out;
		case OPT_VERSION:
			print_version();
			ret = -1;
			goto out;
		case OPT_HELP:
			print_usage(help_str, false);
			ret = -1;
			goto out;
		case '?':
			print_usage(help_str, true);
			ret = -2;
			goto out;
		default:
			ret = extra_opt_handler ?
			      extra_opt_handler(c, option_index, handler_data) :
			      IGT_OPT_HANDLER_ERROR;
			if (ret)
				goto out;
		}
	}
out:
	free(short_opts);
	free(opts);
	if (ret < 0)
		exit(ret == -1 ? 0 : IGT_EXIT_INVALID);

	if (!igt_only_list_subtests()) {
		const char *env = getenv("IGT_SRANDOM");
		int seed = env ? atoi(env) : time(NULL);
		int fd;

		igt_kmsg(KMSG_INFO "%s: executing\n", command_str);
		print_version();
		srandom(seed);
		igt_info("Using IGT_SRANDOM=%d for randomisation\n", seed);
		sync();

		/* like IGT: be the first one the OOM killer picks */
		fd = open("/proc/self/oom_score_adj", O_WRONLY);
		if (fd >= 0) {
			ssize_t r = write(fd, "1000", 4);

			(void)r;
			close(fd);
		}
		errno = 0;
	}

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);

	/* leave the non-option arguments to the test, as IGT does */
	for (i = 0; optind + i < *argc; i++)
		argv[i + 1] = argv[optind + i];
	*argc = *argc - optind + 1;

	return ret;
}
