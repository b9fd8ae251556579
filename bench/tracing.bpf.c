// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's 11 tracing programs (Fig. 15): page faults, context
 * switches and the file and exec syscalls, each counting its events per
 * process in a hash map, as a monitoring agent would.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} events SEC(".maps");

static __always_inline int count(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 *v = bpf_map_lookup_elem(&events, &pid), one = 1;

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&events, &pid, &one, BPF_NOEXIST);
	return 0;
}

#define COUNT(name, tp)			\
SEC("tracepoint/" tp)			\
int name(void *ctx)			\
{					\
	return count();			\
}

COUNT(fault_user, "exceptions/page_fault_user")
COUNT(fault_kernel, "exceptions/page_fault_kernel")
COUNT(sched_switch, "sched/sched_switch")
COUNT(enter_read, "syscalls/sys_enter_read")
COUNT(enter_write, "syscalls/sys_enter_write")
COUNT(enter_open, "syscalls/sys_enter_open")
COUNT(enter_openat, "syscalls/sys_enter_openat")
COUNT(enter_openat2, "syscalls/sys_enter_openat2")
COUNT(enter_close, "syscalls/sys_enter_close")
COUNT(enter_execve, "syscalls/sys_enter_execve")
COUNT(enter_execveat, "syscalls/sys_enter_execveat")

char LICENSE[] SEC("license") = "GPL";
