// SPDX-License-Identifier: GPL-2.0
/*
 * XDP program for the xdp_veth smoke test.
 *
 * Parses Ethernet/IPv4/UDP.  UDP datagrams to config[CFG_DROP_PORT] are
 * counted in counters[CNT_DROPPED] and dropped (XDP_DROP); UDP datagrams
 * to config[CFG_PASS_PORT] are counted in counters[CNT_PASSED] and passed.
 * Everything else (ARP, IPv6 neighbour discovery, ...) passes uncounted.
 *
 * Large frames: a UDP datagram to config[CFG_BIG_PORT] with at least
 * BIG_OFF + 4 bytes of payload gets the 32-bit word at payload offset
 * BIG_OFF complemented in place, is counted in counters[CNT_BIG] and
 * passed.  The word lies deep in the frame, beyond the first pages.  The
 * program then tries to grow the frame's tail by GROW bytes and shrinks it
 * back: counted in counters[CNT_GROWN], or in counters[CNT_GROW_FAILED]
 * when bpf_xdp_adjust_tail() refuses.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/types.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

enum { CFG_DROP_PORT, CFG_PASS_PORT, CFG_BIG_PORT, CFG_MAX };
enum { CNT_DROPPED, CNT_PASSED, CNT_BIG, CNT_GROWN, CNT_GROW_FAILED, CNT_MAX };

#define BIG_OFF		16000		/* as in xdp_veth.c */
#define GROW		8192

#include "counters.bpf.h"

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
		add(CNT_DROPPED, 1);
		return XDP_DROP;
	}
	if (dport == cfg(CFG_PASS_PORT))
		add(CNT_PASSED, 1);
	if (dport == cfg(CFG_BIG_PORT)) {
		__u32 *word = (void *)(udp + 1) + BIG_OFF;

		if ((void *)(word + 1) > data_end)
			return XDP_PASS;
		*word = ~*word;
		add(CNT_BIG, 1);
		if (bpf_xdp_adjust_tail(ctx, GROW)) {
			add(CNT_GROW_FAILED, 1);
		} else {
			add(CNT_GROWN, 1);
			if (bpf_xdp_adjust_tail(ctx, -GROW))
				return XDP_DROP;
		}
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
