// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's many-programs benchmark (Fig. 14 shape): 1, 10, 32, 64 and
 * 128 trivial tracepoint programs ("return 0") on the execve syscall
 * tracepoints (the first 64 on sys_enter_execve, the rest on
 * sys_exit_execve: a tracepoint takes at most 64 programs), under a
 * process-creation loop.  Unit: one process (fork, execve of busybox
 * "true", wait).
 *
 *	nprogs
 */
#include <fcntl.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bench.h"

#define MAX_PROGS 128

static int progs[2][MAX_PROGS];
static int events[MAX_PROGS];
static int tp_id[2];

static int tracepoint_id(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path),
		 "/sys/kernel/tracing/events/syscalls/%s/id", name);
	return moat_read_int(path);
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
	long nr = (long)c->priv, i;

	for (i = 0; i < nr; i++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
			.config = tp_id[i >= 64], .sample_period = 1,
			.wakeup_events = 1,
		};

		events[i] = syscall(SYS_perf_event_open, &attr, -1, 0, -1,
				    PERF_FLAG_FD_CLOEXEC);
		if (events[i] < 0 ||
		    ioctl(events[i], PERF_EVENT_IOC_SET_BPF, progs[iso][i]) ||
		    ioctl(events[i], PERF_EVENT_IOC_ENABLE, 0)) {
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
	static const long counts[] = { 1, 10, 32, 64, 128 };
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
	for (iso = 0; iso < 2; iso++)
		for (i = 0; i < MAX_PROGS; i++) {
			progs[iso][i] = load_trivial(iso);
			if (progs[iso][i] < 0) {
				perror("nprogs: loading");
				return 1;
			}
		}
	memset(events, -1, sizeof(events));
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		char name[16];
		struct bench_case c = {
			.workload = "nprogs", .name = name, .unit = "process",
			.n = n, .base = 1, .attach = np_attach,
			.detach = np_detach, .work = np_work,
			.priv = (void *)counts[i],
		};

		snprintf(name, sizeof(name), "%ld", counts[i]);
		if (!bench_wanted(argc, argv, name))
			continue;
		if (bench_run(&c, rounds))
			ret = 1;
	}
	return ret;
}
