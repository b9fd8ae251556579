// SPDX-License-Identifier: GPL-2.0
/*
 * XDP programs for bench/xdp.c, in the spirit of the kernel's samples/bpf
 * programs that the paper's Table 5 uses (xdp1, xdp2, xdp_adjust_tail,
 * xdp_rxq_info):
 *
 *   xdp1     packets per IP protocol in a per-CPU array, then drop
 *   xdp2     the same, then swap the MAC addresses and send it back
 *   xdp_adj  answer an IPv4 frame longer than ADJ_MAX bytes with an ICMP
 *            "fragmentation needed" built in place: bpf_xdp_adjust_head()
 *            makes room for the reply's headers, bpf_xdp_adjust_tail()
 *            cuts the quoted packet, and the reply goes back out
 *   xdp_rxq  global and per-queue counters checked against a configuration
 *            map (the device it expects, the action, whether to read or
 *            swap the MAC addresses)
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdp.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} rxcnt SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* The IP protocol of the frame, 0 if it is not IP, -1 if it is cut short. */
static __always_inline int frame_proto(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__u64 off = sizeof(*eth);
	__be16 proto;

	if (data + off > data_end)
		return -1;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr *vh = data + off;

		off += sizeof(*vh);
		if (data + off > data_end)
			return -1;
		proto = vh->proto;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end)
			return -1;
		return ip->protocol;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		return ip6->nexthdr;
	}
	return 0;
}

static __always_inline void count_proto(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = frame_proto(data, data_end);
	__u64 *v = bpf_map_lookup_elem(&rxcnt, &key);

	if (v)
		*v += 1;
}

/* Swap the destination and source MAC addresses of the frame at @data. */
static __always_inline void swap_mac(void *data)
{
	__u16 *p = data;
	__u16 t[3];

	t[0] = p[0];
	t[1] = p[1];
	t[2] = p[2];
	p[0] = p[3];
	p[1] = p[4];
	p[2] = p[5];
	p[3] = t[0];
	p[4] = t[1];
	p[5] = t[2];
}

SEC("xdp")
int xdp1(struct xdp_md *ctx)
{
	count_proto(ctx);
	return XDP_DROP;
}

SEC("xdp")
int xdp2(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	count_proto(ctx);
	if (data + sizeof(struct ethhdr) > data_end)
		return XDP_DROP;
	swap_mac(data);
	return XDP_TX;
}

/* An ICMP "fragmentation needed" header (linux/icmp.h needs libc). */
struct icmp_frag {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 unused;
	__be16 mtu;
};

#define ICMP_DEST_UNREACH	3
#define ICMP_FRAG_NEEDED	4

/* xdp_adj: frames longer than this are answered. */
#define ADJ_MAX		64
/* Bytes of the offending IP packet quoted in the reply (even). */
#define ADJ_QUOTE	48
#define ADJ_HDRS	(sizeof(struct ethhdr) + sizeof(struct iphdr) + \
			 sizeof(struct icmp_frag))
#define ADJ_REPLY	(ADJ_HDRS + ADJ_QUOTE)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} icmpcnt SEC(".maps");

/* The Internet checksum of the @words 16-bit words at @p. */
static __always_inline __u16 csum16(__u16 *p, int words)
{
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < words; i++)
		sum += p[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

SEC("xdp")
int xdp_adj(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data, orig;
	struct iphdr *ip = data + sizeof(*eth);
	struct icmp_frag *icmp;
	__be32 saddr, daddr;
	__u32 key = 0;
	__u64 *cnt;
	int len;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (data_end - data <= ADJ_MAX)
		return XDP_PASS;
	__builtin_memcpy(&orig, eth, sizeof(orig));
	saddr = ip->saddr;
	daddr = ip->daddr;

	/* The reply's IP and ICMP headers go in front of the quoted packet. */
	if (bpf_xdp_adjust_head(ctx, -(int)(sizeof(*ip) + sizeof(*icmp))))
		return XDP_DROP;
	len = (long)ctx->data_end - (long)ctx->data;
	if (len < ADJ_REPLY || bpf_xdp_adjust_tail(ctx, ADJ_REPLY - len))
		return XDP_DROP;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + ADJ_REPLY > data_end)
		return XDP_DROP;
	eth = data;
	ip = data + sizeof(*eth);
	icmp = (void *)(ip + 1);
	__builtin_memcpy(eth->h_dest, orig.h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, orig.h_dest, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(ADJ_REPLY - sizeof(*eth));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = daddr;
	ip->daddr = saddr;
	ip->check = csum16((__u16 *)ip, sizeof(*ip) / 2);
	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(ADJ_MAX - sizeof(*eth));
	icmp->checksum = csum16((__u16 *)icmp, (sizeof(*icmp) + ADJ_QUOTE) / 2);

	cnt = bpf_map_lookup_elem(&icmpcnt, &key);
	if (cnt)
		*cnt += 1;
	return XDP_TX;
}

#define RXQ_MAX		64

struct rxq_rec {
	__u64 processed;
	__u64 issue;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rxq_config);
} rxq_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rxq_rec);
} rxq_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RXQ_MAX);
	__type(key, __u32);
	__type(value, struct rxq_rec);
} rxq_queues SEC(".maps");

/* Where xdp_rxq's RXQ_READ_MAC reads go (kept, so they are not elided). */
volatile __u16 rxq_seen;

SEC("xdp")
int xdp_rxq(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0, queue = ctx->rx_queue_index;
	struct rxq_config *cfg;
	struct rxq_rec *rec, *qrec;

	cfg = bpf_map_lookup_elem(&rxq_config, &key);
	if (!cfg)
		return XDP_ABORTED;
	rec = bpf_map_lookup_elem(&rxq_stats, &key);
	if (!rec)
		return XDP_ABORTED;
	rec->processed++;
	if (cfg->ifindex != ctx->ingress_ifindex || queue >= RXQ_MAX) {
		rec->issue++;
		return XDP_ABORTED;
	}
	qrec = bpf_map_lookup_elem(&rxq_queues, &queue);
	if (!qrec)
		return XDP_ABORTED;
	qrec->processed++;
	if (cfg->options & (RXQ_READ_MAC | RXQ_SWAP_MAC)) {
		if (data + sizeof(struct ethhdr) > data_end)
			return XDP_DROP;
		if (cfg->options & RXQ_READ_MAC)
			rxq_seen = *(__u16 *)data;
		if (cfg->options & RXQ_SWAP_MAC)
			swap_mac(data);
	}
	return cfg->action;
}

char LICENSE[] SEC("license") = "GPL";
