// SPDX-License-Identifier: GPL-2.0
/*
 * XDP program for the xdp_veth smoke test.
 *
 * Parses Ethernet/IPv4/UDP.  UDP datagrams to config[CFG_DROP_PORT] are
 * counted in counters[CNT_DROPPED] and dropped (XDP_DROP); UDP datagrams
 * to config[CFG_PASS_PORT] are counted in counters[CNT_PASSED] and passed.
 * Everything else (ARP, IPv6 neighbour discovery, ...) passes uncounted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/types.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

enum { CFG_DROP_PORT, CFG_PASS_PORT, CFG_MAX };
enum { CNT_DROPPED, CNT_PASSED, CNT_MAX };

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

static __always_inline __u64 cfg(__u32 key)
{
	__u64 *val = bpf_map_lookup_elem(&config, &key);

	return val ? *val : 0;
}

static __always_inline void count(__u32 key)
{
	__u64 *val = bpf_map_lookup_elem(&counters, &key);

	if (val)
		__sync_fetch_and_add(val, 1);
}

SEC("xdp")
int xdp_drop_port(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	__u16 dport;

	if ((void *)(eth + 1) > data_end ||
	    eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5 ||
	    ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;

	dport = bpf_ntohs(udp->dest);
	if (dport == cfg(CFG_DROP_PORT)) {
		count(CNT_DROPPED);
		return XDP_DROP;
	}
	if (dport == cfg(CFG_PASS_PORT))
		count(CNT_PASSED);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
