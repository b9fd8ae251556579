// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing programs of the types MOAT isolates besides socket filters and
 * tracepoints (covered by the smoke suite): a kprobe and a raw tracepoint,
 * each counting events of one process and reading its context.
 */
#define CFG_MAX 1
#define CNT_MAX 4
#include "counters.bpf.h"
#include <linux/ptrace.h>
#include <bpf/bpf_tracing.h>

enum { CFG_PID };
enum { CNT_KPROBE, CNT_KPROBE_IP, CNT_FORK, CNT_FORK_ARGS };

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == cfg(CFG_PID);
}

SEC("kprobe/__x64_sys_getppid")
int kp_getppid(struct pt_regs *ctx)
{
	if (!mine())
		return 0;
	add(CNT_KPROBE, 1);
	/* The probed address: read from the context (a copy when isolated). */
	if (PT_REGS_IP(ctx))
		add(CNT_KPROBE_IP, 1);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int rtp_fork(struct bpf_raw_tracepoint_args *ctx)
{
	if (!mine())
		return 0;
	add(CNT_FORK, 1);
	/* parent and child task pointers */
	if (ctx->args[0] && ctx->args[1] && ctx->args[0] != ctx->args[1])
		add(CNT_FORK_ARGS, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
