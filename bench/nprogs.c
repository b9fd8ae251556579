// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's many-programs benchmark (Fig. 14 shape): 1, 10, 32, 64 and
 * 128 trivial tracepoint programs ("return 0") on the execve syscall
 * tracepoints (the first 64 on sys_enter_execve, the rest on
 * sys_exit_execve: a tracepoint takes at most 64 programs), under a
 * process-creation loop.  Unit: one process (fork, execve of busybox
 * "true", wait).  Then "syscalls": one trivial program on every syscall
 * tracepoint of the kernel (the paper's "nearly 700 programs", 685 on its
 * kernel) under the same loop.
 *
 *	nprogs
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bench.h"

#define MAX_PROGS 1024
#define SYSCALLS_DIR "/sys/kernel/tracing/events/syscalls"

/* The numbered cases' programs, plain and isolated. */
static int progs[2][128];
static int events[MAX_PROGS];
static int tp_id[2];
/* Every syscall tracepoint: the "syscalls" case. */
static int all_ids[MAX_PROGS], nr_all;

struct np_case {
	long nr;	/* programs */
	int all;	/* one on each syscall tracepoint */
};

static int tracepoint_id(const char *name)
{
	char path[320];

	snprintf(path, sizeof(path), SYSCALLS_DIR "/%s/id", name);
	return moat_read_int(path);
}

/* The ids of all syscall tracepoints into all_ids[]: how many, or -1. */
static int list_syscall_tracepoints(void)
{
	DIR *d = opendir(SYSCALLS_DIR);
	struct dirent *e;
	int id;

	if (!d)
		return -1;
	while ((e = readdir(d)) && nr_all < MAX_PROGS) {
		if (strncmp(e->d_name, "sys_", 4))
			continue;
		id = tracepoint_id(e->d_name);
		if (id >= 0)
			all_ids[nr_all++] = id;
	}
	closedir(d);
	return nr_all;
}

static int load_trivial(int iso)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = iso ? BPF_F_MOAT : 0);
	int fd;

	if (iso && moat_set_mode("1"))
		return -1;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "trivial", "GPL", insns,
			   2, &opts);
	if (iso)
		moat_set_mode("0");
	return fd;
}

static void np_detach(struct bench_case *c)
{
	int i;

	for (i = 0; i < MAX_PROGS; i++) {
		if (events[i] >= 0)
			close(events[i]);
		events[i] = -1;
	}
}

static int np_attach(struct bench_case *c, int iso)
{
	struct np_case *np = c->priv;
	int prog, err;
	long i;

	for (i = 0; i < np->nr; i++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
			.config = np->all ? all_ids[i] : tp_id[i >= 64],
			.sample_period = 1,
			.wakeup_events = 1,
		};

		/*
		 * The "syscalls" case loads its programs here and keeps
		 * only the events (which hold them): a process with 1200
		 * more descriptors would fork and exec slower in every case.
		 */
		prog = np->all ? load_trivial(iso) : progs[iso][i];
		events[i] = syscall(SYS_perf_event_open, &attr, -1, 0, -1,
				    PERF_FLAG_FD_CLOEXEC);
		err = prog < 0 || events[i] < 0 ||
		      ioctl(events[i], PERF_EVENT_IOC_SET_BPF, prog) ||
		      ioctl(events[i], PERF_EVENT_IOC_ENABLE, 0);
		if (np->all && prog >= 0)
			close(prog);
		if (err) {
			perror("nprogs: attaching");
			np_detach(c);
			return -1;
		}
	}
	return 0;
}

static long long np_work(struct bench_case *c, long n)
{
	char *argv[] = { "/bin/true", NULL };
	long long t = bench_now();
	long i;

	for (i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			execv(argv[0], argv);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			return -1;
	}
	return bench_now() - t;
}

int main(int argc, char **argv)
{
	static struct np_case cases[] = {
		{ .nr = 1 }, { .nr = 10 }, { .nr = 32 }, { .nr = 64 },
		{ .nr = 128 }, { .all = 1 },
	};
	struct rlimit fds = { 4096, 4096 };
	int rounds = bench_quick() ? 2 : 3;
	long n = bench_quick() ? 30 : 300;
	unsigned int i;
	int iso, ret = 0;

	if (bench_no_moat("nprogs"))
		return 0;
	tp_id[0] = tracepoint_id("sys_enter_execve");
	tp_id[1] = tracepoint_id("sys_exit_execve");
	if (tp_id[0] < 0 || tp_id[1] < 0) {
		fprintf(stderr, "nprogs: no execve syscall tracepoints (CONFIG_FTRACE_SYSCALLS)\n");
		return 1;
	}
	/* An event per tracepoint. */
	if (list_syscall_tracepoints() < 2 || setrlimit(RLIMIT_NOFILE, &fds)) {
		fprintf(stderr, "nprogs: cannot list the syscall tracepoints or raise the fd limit\n");
		return 1;
	}
	cases[5].nr = nr_all;
	printf("nprogs: %d syscall tracepoints\n", nr_all);
	fflush(stdout);
	for (iso = 0; iso < 2; iso++)
		for (i = 0; i < sizeof(progs[0]) / sizeof(progs[0][0]); i++) {
			progs[iso][i] = load_trivial(iso);
			if (progs[iso][i] < 0) {
				perror("nprogs: loading");
				return 1;
			}
		}
	memset(events, -1, sizeof(events));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[16];
		struct bench_case c = {
			.workload = "nprogs", .name = name, .unit = "process",
			.n = n, .base = 1, .attach = np_attach,
			.detach = np_detach, .work = np_work,
			.priv = &cases[i],
		};

		if (cases[i].all)
			snprintf(name, sizeof(name), "syscalls");
		else
			snprintf(name, sizeof(name), "%ld", cases[i].nr);
		if (!bench_wanted(argc, argv, name))
			continue;
		if (bench_run(&c, rounds))
			ret = 1;
	}
	return ret;
}
