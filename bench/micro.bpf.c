// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for bench/micro.c: the cost of one invocation (entry and exit)
 * per program type, and of a helper call through the gate.  Each does as
 * little as its type allows.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} micro_map SEC(".maps");

SEC("socket")
int sk_nop(struct __sk_buff *skb)
{
	return skb->len;
}

/* An array lookup: inlined by the verifier, no helper call. */
SEC("socket")
int sk_map(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&micro_map, &key);

	if (v)
		*v += skb->len;
	return 0;
}

SEC("socket")
int sk_helper1(struct __sk_buff *skb)
{
	return bpf_get_prandom_u32();
}

SEC("socket")
int sk_helper4(struct __sk_buff *skb)
{
	return bpf_get_prandom_u32() ^ bpf_get_prandom_u32() ^
	       bpf_get_prandom_u32() ^ bpf_get_prandom_u32();
}

/*
 * Helpers whose arguments the gate checks: a hash lookup (the map, and
 * the key in BPF memory) and a packet load (the context, and the buffer
 * with its size).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} micro_hash SEC(".maps");

SEC("socket")
int sk_hash(struct __sk_buff *skb)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&micro_hash, &key);

	return v ? *v : 0;
}

SEC("socket")
int sk_load(struct __sk_buff *skb)
{
	__u64 buf = 0;

	bpf_skb_load_bytes(skb, 0, &buf, sizeof(buf));
	return buf;
}

SEC("xdp")
int xdp_nop(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("cgroup_skb/ingress")
int cg_nop(struct __sk_buff *skb)
{
	return 1;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_nop(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int raw_tp_nop(void *ctx)
{
	return 0;
}

SEC("kprobe/__x64_sys_getppid")
int kprobe_nop(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
