// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoint programs for the tracepoint smoke test.
 *
 * on_fork (sched/sched_process_fork) counts forks whose parent is the
 * target pid and adds up the child pids; on_signal (signal/signal_generate)
 * counts signals of the target number generated for the target pid.  The
 * target pid and signal number are written to the config map by the loader.
 *
 * There is no vmlinux.h: the context layouts below are copied from the
 * 6.1 TRACE_EVENT definitions (include/trace/events/{sched,signal}.h) and
 * match events/<cat>/<event>/format in tracefs; the loader checks the
 * offsets against the format files before attaching.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

struct trace_common {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
};

/* offsets: parent_comm 8, parent_pid 24, child_comm 28, child_pid 44 */
struct sched_process_fork_ctx {
	struct trace_common common;
	char parent_comm[TASK_COMM_LEN];
	int parent_pid;
	char child_comm[TASK_COMM_LEN];
	int child_pid;
};

/* offsets: sig 8, errno 12, code 16, comm 20, pid 36, group 40, result 44 */
struct signal_generate_ctx {
	struct trace_common common;
	int sig;
	int errno_;
	int code;
	char comm[TASK_COMM_LEN];
	int pid;
	int group;
	int result;
};

enum { CFG_PID, CFG_SIG, CFG_MAX };
enum { CNT_FORKS, CNT_CHILD_PID_SUM, CNT_SIGNALS, CNT_MAX };

#include "counters.bpf.h"

SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct sched_process_fork_ctx *ctx)
{
	__u64 pid = cfg(CFG_PID);

	if (!pid || ctx->parent_pid != (int)pid)
		return 0;
	/* The event fires in the parent: cross-check with the helper. */
	if ((bpf_get_current_pid_tgid() >> 32) != pid)
		return 0;
	add(CNT_FORKS, 1);
	add(CNT_CHILD_PID_SUM, ctx->child_pid);
	return 0;
}

SEC("tracepoint/signal/signal_generate")
int on_signal(struct signal_generate_ctx *ctx)
{
	__u64 pid = cfg(CFG_PID);

	if (!pid || ctx->pid != (int)pid || ctx->sig != (int)cfg(CFG_SIG))
		return 0;
	add(CNT_SIGNALS, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
