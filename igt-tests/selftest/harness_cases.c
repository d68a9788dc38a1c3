// SPDX-License-Identifier: MIT
/*
 * harness_cases: the cases of the igt_harness self-test. As the kernel's
 * kselftest_harness self-test does (tools/testing/selftests/
 * kselftest_harness/: a program, its golden output, a script that diffs
 * them), this program runs every case and prints what it saw, normalized;
 * run.sh diffs that with the golden *.expected files next to it.
 *
 *   harness_cases host BINARY
 *	every command-line case of BINARY (harness_selftest): exact stdout,
 *	stderr and exit status (harness_selftest.expected)
 *   harness_cases kmsg BINARY
 *	the [IGT] markers one run writes to /dev/kmsg (kmsg.expected)
 *   harness_cases runner CHROOT SRCDIR
 *	in the Debian chroot CHROOT (igt-gpu-tools 2.5): SRCDIR's
 *	harness_selftest built with its gcc, and against its real libigt.so
 *	as a reference; both binaries' command line next to each other; the
 *	real igt_runner in five modes, its results.json per subtest and
 *	dynamic subtest, the same results from both (runner.expected)
 *
 * Normalized: times "(0.123s)" -> "(T)", log prefixes "[12.345678]
 * (name:pid) " -> "[TS] (name) ", this machine's uname release and
 * machine -> <release> and <machine>.
 *
 * How igt_runner discovers tests (runner/job_list.c, runner/settings.c):
 * "igt_runner [options] TEST_ROOT RESULTS". TEST_ROOT must contain
 * test-list.txt: whitespace-separated binary names ("TESTLIST" and "END"
 * are ignored). Without --test-list the runner runs "TEST_ROOT/<binary>
 * --list-subtests" (exit 79: no subtests) and executes "--run-subtest
 * <name>" once per subtest, or once per binary with a comma-separated
 * list in multiple mode (-m). With --test-list FILE, lines
 * "igt@binary[@subtest[@dynamic]]" are used as given (a dynamic entry adds
 * "--dynamic-subtest <dynamic>"); test-list.txt must still exist. Results
 * land in RESULTS/results.json, keyed "igt@binary@subtest[@dynamic]".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TIMEOUT_S 300

static struct utsname uts;

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "harness_cases: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

/* ------------------------------------------------------------- strings */

struct buf {
	char *p;
	size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static char *xstrdup(const char *s)
{
	struct buf b = {};

	buf_str(&b, s ? s : "");
	return b.p;
}

/* @s with every @from replaced by @to (a new string) */
static char *replace(const char *s, const char *from, const char *to)
{
	struct buf b = {};
	size_t n = strlen(from);
	const char *hit;

	buf_str(&b, "");
	while (n && (hit = strstr(s, from))) {
		buf_add(&b, s, hit - s);
		buf_str(&b, to);
		s = hit + n;
	}
	buf_str(&b, s);
	return b.p;
}

static void replace_in(char **s, const char *from, const char *to)
{
	char *r = replace(*s, from, to);

	free(*s);
	*s = r;
}

static bool digits(const char **p)
{
	const char *s = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > s;
}

/*
 * What varies from run to run: "(0.123s)" -> "(T)"; a line's leading
 * "[12.345678] (name:123) " -> "[TS] (name) "; the uname release and
 * machine.
 */
static char *normalize(const char *text)
{
	struct buf b = {};
	const char *s = text, *q, *eol;
	char *out;

	buf_str(&b, "");
	while (*s) {
		eol = strchr(s, '\n');
		eol = eol ? eol + 1 : s + strlen(s);
		/* "[digits.digits] (name:digits) " at the start */
		q = s;
		if (*q == '[' && (q++, digits(&q)) && *q == '.' && (q++, digits(&q)) &&
		    q[0] == ']' && q[1] == ' ' && q[2] == '(') {
			const char *name = q + 3, *colon = name;

			while (colon < eol && *colon != ':' && *colon != ')' && *colon != ' ')
				colon++;
			q = colon + 1;
			if (*colon == ':' && digits(&q) && q[0] == ')' && q[1] == ' ') {
				buf_str(&b, "[TS] (");
				buf_add(&b, name, colon - name);
				buf_str(&b, ") ");
				s = q + 2;
			}
		}
		/* "(digits.digitsdigitsdigits s)" anywhere */
		while (s < eol) {
			q = s;
			if (*q == '(' && (q++, digits(&q)) && *q == '.' &&
			    q[1] >= '0' && q[1] <= '9' && q[2] >= '0' && q[2] <= '9' &&
			    q[3] >= '0' && q[3] <= '9' && q[4] == 's' && q[5] == ')') {
				buf_str(&b, "(T)");
				s = q + 6;
			} else {
				buf_add(&b, s++, 1);
			}
		}
	}
	out = b.p;
	replace_in(&out, uts.release, "<release>");
	replace_in(&out, uts.machine, "<machine>");
	return out;
}

/* print @text, ending with a newline, under "--- @label" */
static void block(const char *label, const char *text)
{
	size_t n = strlen(text);

	printf("--- %s\n%s", label, text);
	if (n && text[n - 1] != '\n')
		printf("\n(no newline at the end)\n");
}

/* -------------------------------------------------------------- running */

struct run {
	char *out, *err;
	int status;
	bool timed_out;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * Run @argv (@path, or argv[0] through PATH) with exactly @envp, in @cwd,
 * stdin from /dev/null; collect stdout and stderr apart. Killed after
 * TIMEOUT_S seconds.
 */
static void run(const char *path, char *const argv[], char *const envp[], const char *cwd,
		struct run *r)
{
	struct buf out = {}, err = {};
	int po[2], pe[2], open_fds = 2;
	double end = now_s() + TIMEOUT_S;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (cwd && chdir(cwd))
			_exit(126);
		if (path)
			execve(path, argv, envp);
		else
			execvpe(argv[0], argv, envp);
		fprintf(stderr, "exec %s: %s\n", path ? path : argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	buf_str(&out, "");
	buf_str(&err, "");
	while (open_fds) {
		struct pollfd pfd[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };
		char chunk[4096];
		int i, left = (int)((end - now_s()) * 1000);

		if (left <= 0) {
			kill(pid, SIGKILL);
			r->timed_out = true;
			break;
		}
		if (poll(pfd, 2, left) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				buf_add(i ? &err : &out, chunk, n);
			} else if (n == 0 || errno != EINTR) {
				close(i ? pe[0] : po[0]);
				if (i)
					pe[0] = -1;
				else
					po[0] = -1;
				open_fds--;
			}
		}
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	while (waitpid(pid, &r->status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	r->out = out.p;
	r->err = err.p;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* "exit N", "signal N (NAME)" or "killed after the timeout" */
static const char *how(const struct run *r)
{
	static char s[64];

	if (r->timed_out)
		snprintf(s, sizeof(s), "killed after %d s", TIMEOUT_S);
	else if (WIFEXITED(r->status))
		snprintf(s, sizeof(s), "exit %d", WEXITSTATUS(r->status));
	else
		snprintf(s, sizeof(s), "signal %d (%s)", WTERMSIG(r->status), strsignal(WTERMSIG(r->status)));
	return s;
}

static bool ok(const struct run *r)
{
	return !r->timed_out && WIFEXITED(r->status) && !WEXITSTATUS(r->status);
}

/* ------------------------------------------------------- stage 1: host */

/*
 * Every case runs the binary as "harness_selftest" with only PATH,
 * IGT_SRANDOM=0 and the case's variables in its environment (no
 * IGT_RUNNER_SOCKET_FD, IGT_SENTINEL_ON_STDERR, IGT_LOG_LEVEL, ...).
 */
struct tcase {
	const char *env[2];
	const char *args[6];
};

static const struct tcase host_cases[] = {
	{ {}, { "--list-subtests" } },
	/* --debug and --run-subtest change nothing while listing */
	{ {}, { "--debug", "--list-subtests", "--run-subtest", "pass-basic" } },
	/* every subtest */
	{ {}, { "--run-subtest", "pass-basic" } },
	{ {}, { "--run-subtest", "pass-fmt-2" } },
	{ {}, { "--run-subtest", "fail-assert-eq" } },
	{ {}, { "--run-subtest", "fail-assert-msg" } },
	{ {}, { "--run-subtest", "skip-require" } },
	{ {}, { "--run-subtest", "skip-explicit" } },
	{ {}, { "--run-subtest", "warn" } },
	{ {}, { "--run-subtest", "fork-pass" } },
	{ {}, { "--run-subtest", "fork-child-fail" } },
	{ {}, { "--run-subtest", "crash" } },
	{ {}, { "--run-subtest", "dynamic-mixed" } },
	{ {}, { "--run-subtest", "dynamic-all-skip" } },
	{ {}, { "--run-subtest", "dynamic-pass" } },
	{ {}, { "--run-subtest", "group-fixture-fail" } },
	{ {}, { "--run-subtest", "group-skip-a" } },
	{ {}, { "--run-subtest", "group-skip-b" } },
	{ {}, { "--run-subtest", "after-groups" } },
	/* pattern lists: the last matching element wins */
	{ {}, { "--run-subtest", "pass-*,!pass-fmt-2" } },
	{ {}, { "--run-subtest", "group-skip-?,warn" } },
	{ {}, { "--run-subtest", "dynamic-mixed", "--dynamic-subtest", "dyn-pass*" } },
	{ {}, { "--run-subtest", "dynamic-mixed", "--dynamic-subtest", "nomatch" } },
	/* no such subtest: exit 79 */
	{ {}, { "--run-subtest", "nomatch" } },
	/* a failing fixture fails its group's subtests and the binary, not the others */
	{ { "SELFTEST_FIXTURE_FAIL=1" }, { "--run-subtest", "group-fixture-fail" } },
	{ { "SELFTEST_FIXTURE_FAIL=1" }, { "--run-subtest", "pass-basic" } },
	/* the result lines copied to stderr */
	{ { "IGT_SENTINEL_ON_STDERR=1" }, { "--run-subtest", "fail-assert-msg" } },
	{ { "IGT_SENTINEL_ON_STDERR=1" }, { "--run-subtest", "warn" } },
	{ {}, { "--debug", "--run-subtest", "pass-basic" } },
	{ {}, { "--describe" } },
	{ {}, { "--describe=group-skip-a" } },
	{ {}, { "--describe=nomatch" } },
	{ {}, { "--show-testlist" } },
	{ {}, { "--help-description" } },
	{ {}, { "--help" } },
	{ {}, { "--no-such-option" } },
};

static void case_env(const struct tcase *c, char **envp, int n)
{
	int i, k = 0;

	envp[k++] = "PATH=/usr/bin:/bin";
	envp[k++] = "IGT_SRANDOM=0";
	for (i = 0; i < (int)ARRAY_SIZE(c->env) && c->env[i] && k < n - 1; i++)
		envp[k++] = (char *)c->env[i];
	envp[k] = NULL;
}

static void case_title(const struct tcase *c, const char *name)
{
	int i;

	printf("=== ");
	for (i = 0; i < (int)ARRAY_SIZE(c->env) && c->env[i]; i++)
		printf("%s ", c->env[i]);
	printf("%s", name);
	for (i = 0; i < (int)ARRAY_SIZE(c->args) && c->args[i]; i++)
		printf(" %s", c->args[i]);
	printf("\n");
}

static void stage_host(const char *binary)
{
	char dir[] = "/tmp/harness_cases.XXXXXX";
	unsigned int i;

	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(host_cases); i++) {
		const struct tcase *c = &host_cases[i];
		char *argv[8] = { "harness_selftest" }, *envp[8], *out, *err;
		struct run r;
		int a;

		for (a = 0; a < (int)ARRAY_SIZE(c->args) && c->args[a]; a++)
			argv[a + 1] = (char *)c->args[a];
		case_env(c, envp, ARRAY_SIZE(envp));
		run(binary, argv, envp, dir, &r);
		out = normalize(r.out);
		err = normalize(r.err);
		case_title(c, "harness_selftest");
		block("stdout", out);
		block("stderr", err);
		printf("--- %s\n", how(&r));
		free(out);
		free(err);
		run_free(&r);
	}
	rmdir(dir);
}

/* ------------------------------------------------------- stage 1: kmsg */

static void stage_kmsg(const char *binary)
{
	char dir[] = "/tmp/harness_cases.XXXXXX", name[64], link[128], marker[96], rec[4096];
	char *argv[] = { name, "--run-subtest", "dynamic-mixed", "--dynamic-subtest", "dyn-pass,dyn-skip", NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", "IGT_SRANDOM=0", NULL };
	struct run r;
	ssize_t n;
	int fd;

	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	/* a name of its own, to tell its lines from any other run's */
	snprintf(name, sizeof(name), "hst_kmsg_%d", getpid());
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	if (symlink(binary, link))
		die("symlink %s: %s", link, strerror(errno));
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		die("/dev/kmsg: %s", strerror(errno));
	lseek(fd, 0, SEEK_END);
	run(link, argv, envp, dir, &r);
	printf("=== kmsg markers of harness_selftest --run-subtest dynamic-mixed --dynamic-subtest dyn-pass,dyn-skip\n");
	snprintf(marker, sizeof(marker), "[IGT] %s: ", name);
	for (;;) {
		char *msg, *nl, *hit;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		hit = strstr(msg, marker);
		if (hit)
			printf("[IGT] harness_selftest: %s\n", hit + strlen(marker));
	}
	printf("--- %s\n", how(&r));
	close(fd);
	run_free(&r);
	unlink(link);
	rmdir(dir);
}

/* ----------------------------------------------- stage 2: the chroot */

static const char *ch;		/* the chroot, as the host sees it */
static char work[4096];		/* our directory in it, as the host sees it */
static const char *w;		/* the same inside the chroot */

static char *const ch_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/tmp",
	"IGT_SRANDOM=0",
	NULL,
};

/*
 * Run a shell command in the chroot, with /proc and /dev mounted in a
 * private mount namespace (unshare) that goes away with it: the chroot
 * itself is left as it was. @env (may be NULL) adds one variable.
 */
static void in_chroot(const char *cmd, const char *env, struct run *r)
{
	char *envp[ARRAY_SIZE(ch_env) + 1];
	char *argv[] = {
		"unshare", "--mount", "--propagation", "private", "sh", "-c",
		"mount -t proc proc \"$0/proc\" && mount --rbind /dev \"$0/dev\" && exec chroot \"$0\" /bin/sh -c \"$1\"",
		(char *)ch, (char *)cmd, NULL,
	};
	unsigned int i;

	for (i = 0; ch_env[i]; i++)
		envp[i] = ch_env[i];
	envp[i++] = (char *)env;
	envp[i] = NULL;
	run(NULL, argv, envp, "/", r);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		die("writing %s: %s", path, strerror(errno));
}

static void copy_file(const char *from, const char *to)
{
	struct buf b = {};
	char chunk[8192];
	size_t n;
	FILE *f = fopen(from, "r");

	if (!f)
		die("%s: %s", from, strerror(errno));
	buf_str(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	write_file(to, b.p);
	free(b.p);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void cleanup(void)
{
	if (work[0])
		nftw(work, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* a build step in the chroot: "ok", or its output and status (the seen file then differs) */
static bool build(const char *what, const char *cmd)
{
	struct run r;
	bool good;

	in_chroot(cmd, NULL, &r);
	good = ok(&r);
	printf("%s: %s\n", what, good ? "ok" : how(&r));
	if (!good) {
		block("stdout", r.out);
		block("stderr", r.err);
	}
	run_free(&r);
	return good;
}

/* command lines compared with the real libigt: stdout and exit status */
static const char *const cli_cases[] = {
	"--list-subtests", "--show-testlist", "--describe", "--describe=group-skip-a",
	"--describe=nomatch", "--help-description", "--run-subtest nomatch",
	"--run-subtest group-skip-a", "--run-subtest dynamic-mixed",
	"--run-subtest dynamic-all-skip", "--run-subtest fork-child-fail",
	"--run-subtest 'group-skip-?,warn'",
	"--run-subtest dynamic-mixed --dynamic-subtest 'dyn-pass*'",
};

/*
 * What libigt prints beyond us: libunwind stack traces, its own version,
 * "Last errno" values its internals left behind, its binary's name.
 */
static char *cli_normalize(const char *text, bool ref)
{
	struct buf b = {};
	char *n = normalize(text), *line, *next, *out;

	buf_str(&b, "");
	for (line = n; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!strcmp(line, "Stack trace:") || (!strncmp(line, "  #", 3) && line[3] >= '0' && line[3] <= '9'))
			continue;
		if (ref && !strncmp(line, "Last errno: ", 12))
			continue;
		if (!strncmp(line, "IGT-Version: ", 13)) {
			buf_str(&b, "IGT-Version: V");
			line = strchr(line + 13, ' ');
			if (!line)
				line = "";
		}
		buf_str(&b, line);
		buf_str(&b, "\n");
	}
	free(n);
	out = replace(b.p, "harness_selftest_ref", "harness_selftest");
	free(b.p);
	return out;
}

static void stage_cli(bool have_ref)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cli_cases); i++) {
		char cmd[512], *ours, *ref = NULL;
		struct run r, rr;

		snprintf(cmd, sizeof(cmd), "cd %s/tests && ./harness_selftest %s", w, cli_cases[i]);
		in_chroot(cmd, NULL, &r);
		ours = cli_normalize(r.out, false);
		printf("=== in the chroot: harness_selftest %s\n", cli_cases[i]);
		block("stdout", ours);
		printf("--- %s\n", how(&r));
		if (have_ref) {
			snprintf(cmd, sizeof(cmd), "cd %s/tests && ./harness_selftest_ref %s", w, cli_cases[i]);
			in_chroot(cmd, NULL, &rr);
			ref = cli_normalize(rr.out, true);
			if (!strcmp(ref, ours) && !strcmp(how(&rr), how(&r))) {
				printf("libigt: the same stdout and %s\n", how(&rr));
			} else {
				printf("libigt differs:\n");
				block("libigt stdout", ref);
				printf("--- libigt %s\n", how(&rr));
			}
			free(ref);
			run_free(&rr);
		}
		free(ours);
		run_free(&r);
	}
}

/*
 * igt_runner's results.json, as the chroot's python3 dumps it: one line
 * per result, "name<TAB>result<TAB>out<TAB>err<TAB>dmesg", sorted, the
 * last three JSON-quoted (no tab or newline in them).
 */
static const char dump_py[] =
	"import json, sys\n"
	"for k, v in sorted(json.load(open(sys.argv[1]))['tests'].items()):\n"
	"    print('\\t'.join([k, v.get('result', '')] + [json.dumps(v.get(f, '')) for f in ('out', 'err', 'dmesg')]))\n";

struct result {
	char *name, *result, *out, *err, *dmesg;
};

/* @binary's results from the dump; pass and warn as one if @fuzzy */
static struct result *results(const char *dump, const char *binary, bool fuzzy, int *n)
{
	struct result *r = NULL;
	char prefix[64], *copy = xstrdup(dump), *line, *save = NULL;

	snprintf(prefix, sizeof(prefix), "igt@%s@", binary);
	*n = 0;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[5] = {}, *tab = line;
		int i;

		for (i = 0; i < 5 && tab; i++) {
			f[i] = tab;
			tab = strchr(tab, '\t');
			if (tab)
				*tab++ = '\0';
		}
		if (i < 5 || strncmp(f[0], prefix, strlen(prefix)))
			continue;
		r = xrealloc(r, (*n + 1) * sizeof(*r));
		r[*n].name = xstrdup(f[0] + strlen(prefix));
		r[*n].result = xstrdup(fuzzy && (!strcmp(f[1], "pass") || !strcmp(f[1], "warn")) ? "pass/warn" : f[1]);
		r[*n].out = xstrdup(f[2]);
		r[*n].err = xstrdup(f[3]);
		r[*n].dmesg = xstrdup(f[4]);
		(*n)++;
	}
	free(copy);
	return r;
}

static const struct result *result_of(const struct result *r, int n, const char *name)
{
	static const struct result none = { .out = "", .err = "", .dmesg = "" };
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(r[i].name, name))
			return &r[i];
	return &none;
}

static void free_results(struct result *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].result);
		free(r[i].out);
		free(r[i].err);
		free(r[i].dmesg);
	}
	free(r);
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

struct mode {
	const char *name;
	const char *options;	/* igt_runner's */
	const char *env;	/* for igt_runner */
	const char *note;
	bool lite;		/* runner/vgm_runner.py instead of igt_runner */
};

static const struct mode modes[] = {
	{ "single", "", NULL, "one subtest per execution, results over the runner's socket", false },
	{ "text", "", "IGT_RUNNER_DISABLE_SOCKET_COMMUNICATION=1", "the text protocol on stdout", false },
	{ "multiple", "-m", NULL,
	  "every subtest in one execution; pass and warn are one here: resultgen's comms parser slices err.txt with out.txt's offset (comms_finish_subtest()) and moves warns, for libigt tests just the same", false },
	{ "test-list", "--test-list LIST", NULL, "igt@binary@subtest[@dynamic] lines", false },
	{ "fixture-fail", "-e SELFTEST_FIXTURE_FAIL=1", NULL,
	  "a failing group fixture; its log, printed before the next subtest starts, makes resultgen call that one warn, libigt included", false },
	{ "vgm_runner", "", NULL,
	  "runner/vgm_runner.py, igt_runner's stand-in where Debian has no igt-gpu-tools (arm64): the results of single mode expected",
	  true },
};

static void stage_results(const struct mode *m, bool have_ref)
{
	bool fuzzy = !strcmp(m->name, "multiple");
	struct result *ours, *ref = NULL;
	int n, nref = 0, i, diffs = 0;
	char cmd[1024], list[600], *opts;
	struct run r;

	snprintf(list, sizeof(list), "%s/list.txt", w);
	opts = replace(m->options, "LIST", list);
	if (m->lite)
		snprintf(cmd, sizeof(cmd), "python3 %s/vgm_runner.py %s/tests %s/results-%s", w, w, w, m->name);
	else
		snprintf(cmd, sizeof(cmd), "igt_runner -o %s %s/tests %s/results-%s", opts, w, w, m->name);
	free(opts);
	in_chroot(cmd, m->env, &r);
	if (m->lite)
		printf("=== vgm_runner.py\n");
	else
		printf("=== igt_runner %s%s%s%s%s\n", m->name, *m->options ? " " : "", m->options,
		       m->env ? ", with " : "", m->env ? m->env : "");
	printf("(%s)\n", m->note);
	if (!ok(&r)) {
		/* it fails only when it cannot run: failed subtests are results */
		printf("igt_runner: %s\n", how(&r));
		block("igt_runner's output", r.out);
		block("igt_runner's errors", r.err);
	}
	run_free(&r);
	snprintf(cmd, sizeof(cmd), "python3 %s/dump.py %s/results-%s/results.json", w, w, m->name);
	in_chroot(cmd, NULL, &r);
	if (!ok(&r)) {
		printf("no results.json to read (%s)\n", how(&r));
		block("python3's errors", r.err);
		run_free(&r);
		return;
	}

	ours = results(r.out, "harness_selftest", fuzzy, &n);
	for (i = 0; i < n; i++)
		printf("%s: %s\n", ours[i].name, ours[i].result);
	if (m->lite) {
		struct result *single;
		struct run rs;
		int ns;

		snprintf(cmd, sizeof(cmd), "python3 %s/dump.py %s/results-single/results.json", w, w);
		in_chroot(cmd, NULL, &rs);
		single = results(rs.out, "harness_selftest", false, &ns);
		for (i = 0; i < n || i < ns; i++) {
			if (i < n && i < ns && !strcmp(ours[i].name, single[i].name) &&
			    !strcmp(ours[i].result, single[i].result))
				continue;
			if (!diffs++)
				printf("igt_runner (single) differs:\n");
			printf("  vgm_runner %s: %s; igt_runner %s: %s\n", i < n ? ours[i].name : "-",
			       i < n ? ours[i].result : "-", i < ns ? single[i].name : "-",
			       i < ns ? single[i].result : "-");
		}
		if (!diffs)
			printf("igt_runner (single): the same results\n");
		diffs = 0;
		free_results(single, ns);
		run_free(&rs);
	}
	if (!strcmp(m->name, "single") || !strcmp(m->name, "text")) {
		const char *d = result_of(ours, n, "dynamic-mixed@dyn-pass")->dmesg;

		printf("skip-require: the requirement is in out: %s\n",
		       yes(strstr(result_of(ours, n, "skip-require")->out, "Test requirement: answer == 41")));
		printf("fail-assert-msg: the assert message is in err: %s\n",
		       yes(strstr(result_of(ours, n, "fail-assert-msg")->err, "CRITICAL: custom message 42")));
		/* a plain printf() only reaches results.json with the text protocol */
		if (!strcmp(m->name, "text"))
			printf("fork-child-fail: the child's failure is in out: %s\n",
			       yes(strstr(result_of(ours, n, "fork-child-fail")->out, "child 1 failed with exit status 98")));
		printf("dynamic-mixed@dyn-pass: dmesg split per dynamic subtest: %s\n",
		       !strcmp(d, "\"\"") ? "no dmesg at all" :
		       yes(strstr(d, "[IGT] harness_selftest: starting dynamic subtest dyn-pass") &&
			   !strstr(d, "starting dynamic subtest dyn-fail-1")));
	}
	if (have_ref) {
		ref = results(r.out, "harness_selftest_ref", fuzzy, &nref);
		for (i = 0; i < n || i < nref; i++) {
			if (i < n && i < nref && !strcmp(ours[i].name, ref[i].name) &&
			    !strcmp(ours[i].result, ref[i].result))
				continue;
			if (!diffs++)
				printf("libigt differs:\n");
			printf("  ours %s: %s; libigt %s: %s\n", i < n ? ours[i].name : "-", i < n ? ours[i].result : "-",
			       i < nref ? ref[i].name : "-", i < nref ? ref[i].result : "-");
		}
		if (!diffs)
			printf("libigt: the same results\n");
		free_results(ref, nref);
	}
	free_results(ours, n);
	run_free(&r);
}

static void stage_runner(const char *chroot_dir, const char *src)
{
	char path[4200], cmd[2048], *dir;
	bool have_ref = false;
	struct run r;
	unsigned int i;

	ch = chroot_dir;
	snprintf(work, sizeof(work), "%s/tmp/igt-harness-selftest.XXXXXX", ch);
	if (!mkdtemp(work))
		die("mkdtemp %s: %s", work, strerror(errno));
	atexit(cleanup);
	w = work + strlen(ch);
	dir = work;
	snprintf(path, sizeof(path), "%s/src", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/tests", dir);
	mkdir(path, 0755);
	{
		static const char *const files[][2] = {
			{ "igt_harness.c", "src/igt_harness.c" },
			{ "igt_harness.h", "src/igt_harness.h" },
			{ "selftest/harness_selftest.c", "src/harness_selftest.c" },
			{ "runner/vgm_runner.py", "vgm_runner.py" },
		};
		char from[4200];

		for (i = 0; i < ARRAY_SIZE(files); i++) {
			snprintf(from, sizeof(from), "%s/%s", src, files[i][0]);
			snprintf(path, sizeof(path), "%s/%s", dir, files[i][1]);
			copy_file(from, path);
		}
	}
	/* libigt's igt_ioctl is a function pointer: the one API difference that matters here */
	snprintf(path, sizeof(path), "%s/src/ref_ioctl.c", dir);
	write_file(path,
		   "#include <errno.h>\n"
		   "#include <sys/ioctl.h>\n"
		   "int ref_ioctl(int fd, unsigned long request, void *arg);\n"
		   "int ref_ioctl(int fd, unsigned long request, void *arg)\n"
		   "{\n"
		   "\tint ret;\n\n"
		   "\tdo {\n"
		   "\t\tret = ioctl(fd, request, arg);\n"
		   "\t} while (ret == -1 && (errno == EINTR || errno == EAGAIN));\n"
		   "\treturn ret;\n"
		   "}\n");

	snprintf(path, sizeof(path), "%s/dump.py", dir);
	write_file(path, dump_py);

	in_chroot("gcc --version | head -n 1", NULL, &r);
	fprintf(stderr, "harness_cases: the chroot's %s", r.out);
	run_free(&r);
	printf("=== builds in the chroot\n");
	snprintf(cmd, sizeof(cmd),
		 "cd %s/src && gcc -std=gnu11 -Wall -Wextra -Werror -O2 -g -o %s/tests/harness_selftest harness_selftest.c igt_harness.c",
		 w, w);
	if (!build("harness_selftest with the chroot's gcc -Wall -Wextra -Werror", cmd))
		return;
	snprintf(cmd, sizeof(cmd),
		 "cd %s/src && ls /usr/lib/*/libigt.so.0 >/dev/null && gcc -std=gnu11 -O2 -g -Digt_ioctl=ref_ioctl -o %s/tests/harness_selftest_ref harness_selftest.c ref_ioctl.c -l:libigt.so.0",
		 w, w);
	have_ref = build("harness_selftest_ref, the same source against the chroot's libigt.so.0", cmd);

	snprintf(path, sizeof(path), "%s/tests/test-list.txt", dir);
	write_file(path, have_ref ? "TESTLIST\nharness_selftest harness_selftest_ref\nEND TESTLIST\n" :
		   "TESTLIST\nharness_selftest\nEND TESTLIST\n");
	snprintf(path, sizeof(path), "%s/list.txt", dir);
	write_file(path, have_ref ?
		   "igt@harness_selftest@pass-basic\nigt@harness_selftest@dynamic-mixed@dyn-pass\nigt@harness_selftest@dynamic-mixed@dyn-fail-1\n"
		   "igt@harness_selftest_ref@pass-basic\nigt@harness_selftest_ref@dynamic-mixed@dyn-pass\nigt@harness_selftest_ref@dynamic-mixed@dyn-fail-1\n" :
		   "igt@harness_selftest@pass-basic\nigt@harness_selftest@dynamic-mixed@dyn-pass\nigt@harness_selftest@dynamic-mixed@dyn-fail-1\n");

	stage_cli(have_ref);
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		stage_results(&modes[i], have_ref);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (uname(&uts))
		die("uname: %s", strerror(errno));
	if (argc == 3 && !strcmp(argv[1], "host"))
		stage_host(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "kmsg"))
		stage_kmsg(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "runner"))
		stage_runner(argv[2], argv[3]);
	else
		die("usage: harness_cases host BINARY | kmsg BINARY | runner CHROOT SRCDIR");
	return 0;
}
