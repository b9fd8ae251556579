// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test: BPF_PROG_TYPE_TRACEPOINT programs.
 *
 * Proves that a tracepoint program attached with
 * bpf_program__attach_tracepoint() runs once per event with the event's
 * real arguments, and stops running once its link is destroyed:
 *  - sched/sched_process_fork: this process forks K children; the program
 *    must count exactly K forks by this pid and report the same child pids
 *    fork() returned (compared through their sum);
 *  - signal/signal_generate: this process sends itself K SIGUSR1; the
 *    program must count exactly K, as many as the handler ran;
 *  - after the fork link is destroyed, another fork is not counted.
 * The hand-written context layouts in tracepoint.bpf.c are checked against
 * the tracefs format files first.
 *
 * Tracing needs tracefs (or debugfs); the test mounts it if missing.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "bpfobj.h"

#define NR_EVENTS	5

#define TRACEFS		"/sys/kernel/tracing"
#define DEBUGFS		"/sys/kernel/debug"
#define DEBUGFS_TRACING	DEBUGFS "/tracing"

enum { CFG_PID, CFG_SIG };				/* as in the .bpf.c */
enum { CNT_FORKS, CNT_CHILD_PID_SUM, CNT_SIGNALS };

static struct bpf_object *obj;
static char load_err[256];
static int cfg_fd = -1, cnt_fd = -1;
static struct bpf_link *fork_link;
static const char *trace_root;		/* where events/ lives */
static char trace_err[256];
static volatile sig_atomic_t nr_handled;

static int has_events(const char *root)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/events/sched", root);
	return !access(path, F_OK);
}

/*
 * Find (or mount) tracefs.  libbpf looks for events under
 * /sys/kernel/debug/tracing when that exists, else under /sys/kernel/tracing,
 * so use the same order.
 */
static const char *find_tracefs(void)
{
	if (!access(DEBUGFS_TRACING, F_OK)) {
		if (has_events(DEBUGFS_TRACING))
			return DEBUGFS_TRACING;
		snprintf(trace_err, sizeof(trace_err),
			 "%s exists but has no events/sched (tracefs not "
			 "mounted there?)", DEBUGFS_TRACING);
		return NULL;
	}
	if (has_events(TRACEFS))
		return TRACEFS;
	mkdir(TRACEFS, 0755);
	if (!mount("tracefs", TRACEFS, "tracefs", 0, NULL) &&
	    has_events(TRACEFS))
		return TRACEFS;
	snprintf(trace_err, sizeof(trace_err),
		 "no tracefs: events not under %s or %s and mounting tracefs "
		 "on %s failed (%s)", DEBUGFS_TRACING, TRACEFS, TRACEFS,
		 strerror(errno));
	if (!mount("debugfs", DEBUGFS, "debugfs", 0, NULL) &&
	    has_events(DEBUGFS_TRACING))
		return DEBUGFS_TRACING;
	return NULL;
}

/*
 * Offset of @field in events/@event/format, or -1.  Lines look like
 * "\tfield:char comm[16];\toffset:20;\tsize:16;\tsigned:1;".
 */
static int field_offset(const char *event, const char *field)
{
	char path[256], line[256];
	int off = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/%s/format", trace_root, event);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *decl = strstr(line, "field:"), *end, *name, *o;

		if (!decl || !(end = strchr(decl, ';')))
			continue;
		*end = '\0';
		name = strrchr(decl, ' ');	/* last word of the declaration */
		name = name ? name + 1 : decl + 6;
		name[strcspn(name, "[")] = '\0';
		if (strcmp(name, field))
			continue;
		o = strstr(end + 1, "offset:");
		if (o)
			off = atoi(o + 7);
		break;
	}
	fclose(f);
	return off;
}

static void set_cfg(__u32 key, __u64 val)
{
	if (smoke_set(cfg_fd, key, val))
		test_fail("write config[%u]: %s", key, strerror(errno));
}

static __u64 counter(__u32 key)
{
	__u64 v = ~0ULL;

	if (smoke_get(cnt_fd, key, &v))
		test_fail("read counters[%u]: %s", key, strerror(errno));
	return v;
}

/* Common preconditions of every case; false (and FAIL printed) if unmet. */
static int ready(void)
{
	if (!obj) {
		test_fail("%s", load_err);
		return 0;
	}
	if (!trace_root) {
		test_fail("%s", trace_err);
		return 0;
	}
	return 1;
}

static struct bpf_link *attach(const char *prog, const char *cat,
			       const char *event)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, prog);
	struct bpf_link *link;
	long err;

	if (!p) {
		test_fail("program '%s' not found in object", prog);
		return NULL;
	}
	link = bpf_program__attach_tracepoint(p, cat, event);
	err = libbpf_get_error(link);
	if (err) {
		test_fail("attach %s to %s/%s: %s", prog, cat, event,
			  strerror(-err));
		return NULL;
	}
	return link;
}

static void test_tracepoint_format_matches(void)
{
	static const struct {
		const char *event, *field;
		int off;
	} fields[] = {
		{ "sched/sched_process_fork", "parent_pid", 24 },
		{ "sched/sched_process_fork", "child_pid", 44 },
		{ "signal/signal_generate", "sig", 8 },
		{ "signal/signal_generate", "pid", 36 },
	};
	unsigned int i;

	if (!trace_root) {
		test_fail("%s", trace_err);
		return;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char what[128];

		snprintf(what, sizeof(what), "offset of %s in %s/events/%s",
			 fields[i].field, trace_root, fields[i].event);
		ASSERT_EQ(field_offset(fields[i].event, fields[i].field),
			  fields[i].off, what);
	}
}

static void test_tracepoint_fork_counts(void)
{
	long long pid_sum = 0;
	int i, status;
	pid_t pid;

	if (!ready())
		return;
	set_cfg(CFG_PID, getpid());
	if (test_cur.failed)
		return;
	fork_link = attach("on_fork", "sched", "sched_process_fork");
	if (!fork_link)
		return;

	fflush(stdout);
	for (i = 0; i < NR_EVENTS; i++) {
		pid = fork();
		if (pid < 0) {
			test_fail("fork %d: %s", i, strerror(errno));
			return;
		}
		if (pid == 0)
			_exit(0);
		pid_sum += pid;
		waitpid(pid, &status, 0);
	}

	test_info("forked %d children; sched_process_fork program counted %llu",
		  NR_EVENTS, (unsigned long long)counter(CNT_FORKS));
	ASSERT_EQ(counter(CNT_FORKS), NR_EVENTS, "forks counted by on_fork");
	ASSERT_EQ(counter(CNT_CHILD_PID_SUM), pid_sum,
		  "sum of child pids seen by on_fork (vs fork() results)");
}

static void test_tracepoint_detach_stops_counting(void)
{
	__u64 before;
	int status;
	pid_t pid;

	if (!ready())
		return;
	if (!fork_link) {
		test_fail("fork tracepoint was not attached (see above)");
		return;
	}
	before = counter(CNT_FORKS);
	ASSERT_OK(bpf_link__destroy(fork_link), "bpf_link__destroy");
	fork_link = NULL;

	fflush(stdout);
	pid = fork();
	ASSERT_OK(pid, "fork after detach");
	if (pid == 0)
		_exit(0);
	waitpid(pid, &status, 0);
	ASSERT_EQ(counter(CNT_FORKS), before, "forks counted after detach");
}

static void on_usr1(int sig)
{
	nr_handled++;
}

static void test_tracepoint_signal_counts(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct bpf_link *link;
	int i;

	if (!ready())
		return;
	set_cfg(CFG_PID, getpid());
	set_cfg(CFG_SIG, SIGUSR1);
	if (test_cur.failed)
		return;
	ASSERT_OK(sigaction(SIGUSR1, &sa, NULL), "sigaction(SIGUSR1)");
	link = attach("on_signal", "signal", "signal_generate");
	if (!link)
		return;

	/* A signal sent to oneself is delivered before kill() returns. */
	for (i = 0; i < NR_EVENTS; i++)
		kill(getpid(), SIGUSR1);
	bpf_link__destroy(link);

	ASSERT_EQ(nr_handled, NR_EVENTS, "SIGUSR1 handler runs");
	ASSERT_EQ(counter(CNT_SIGNALS), NR_EVENTS,
		  "SIGUSR1 generations counted by on_signal");
}

int main(void)
{
	char err[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	trace_root = find_tracefs();
	obj = smoke_load("tracepoint", load_err, sizeof(load_err));
	if (obj) {
		cfg_fd = smoke_map_fd(obj, "config", err, sizeof(err));
		cnt_fd = smoke_map_fd(obj, "counters", err, sizeof(err));
		if (cfg_fd < 0 || cnt_fd < 0) {
			snprintf(load_err, sizeof(load_err), "%s", err);
			bpf_object__close(obj);
			obj = NULL;
		}
	}

	RUN_TEST("smoke", test_tracepoint_format_matches);
	RUN_TEST("smoke", test_tracepoint_fork_counts);
	RUN_TEST("smoke", test_tracepoint_detach_stops_counting);
	RUN_TEST("smoke", test_tracepoint_signal_counts);

	if (fork_link)
		bpf_link__destroy(fork_link);
	if (obj)
		bpf_object__close(obj);
	return test_exit();
}
