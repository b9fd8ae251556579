/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two array maps most test programs share: "config", written by the
 * loader before a run, and "counters", which the program adds to and the
 * loader checks.  Define CFG_MAX and CNT_MAX before including this.
 */
#ifndef MOAT_COUNTERS_BPF_H
#define MOAT_COUNTERS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CFG_MAX);
	__type(key, __u32);
	__type(value, __u64);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* config[@key], or 0 if the lookup fails. */
static __always_inline __u64 cfg(__u32 key)
{
	__u64 *val = bpf_map_lookup_elem(&config, &key);

	return val ? *val : 0;
}

/* counters[@key] += @n, atomically. */
static __always_inline void add(__u32 key, __u64 n)
{
	__u64 *val = bpf_map_lookup_elem(&counters, &key);

	if (val)
		__sync_fetch_and_add(val, n);
}

#endif /* MOAT_COUNTERS_BPF_H */
