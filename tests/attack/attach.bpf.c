// SPDX-License-Identifier: GPL-2.0
/*
 * A tracing program attached to another BPF program (escape.bpf.c's
 * escape_value): the test sets the target before loading.  A trampoline
 * on an isolated program would run inside its window, without its gate.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("fentry/escape_value")
int on_entry(void *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
