// SPDX-License-Identifier: GPL-2.0
/*
 * Socket filters for bench/moat_bench.c: no helper, a map access, and
 * four helper calls.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} bench_map SEC(".maps");

SEC("socket")
int nop(struct __sk_buff *skb)
{
	return skb->len;
}

/* An array lookup: inlined by the verifier, no helper call. */
SEC("socket")
int map_add(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&bench_map, &key);

	if (v)
		*v += skb->len;
	return 0;
}

SEC("socket")
int helpers4(struct __sk_buff *skb)
{
	return bpf_get_prandom_u32() ^ bpf_get_prandom_u32() ^
	       bpf_get_prandom_u32() ^ bpf_get_prandom_u32();
}

char LICENSE[] SEC("license") = "GPL";
