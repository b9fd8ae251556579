// SPDX-License-Identifier: GPL-2.0
/*
 * Socket filters for bench/sockfilter.c, in the spirit of the kernel's
 * samples/bpf/sockex1 and sockex2 that the paper's Table 4 uses.  Each is
 * attached to a packet socket on the loopback device, where the packet
 * starts with its (all-zero) Ethernet header.
 *
 *   drop  look at the IP protocol, drop the packet
 *   byte  bytes per IP protocol (sockex1)
 *   pkt   packets per IP protocol
 *   trim  keep IPv4/UDP packets, cut to 64 bytes
 *   flow  packets and bytes per flow, in a hash map (sockex2)
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_bytes SEC(".maps"), proto_pkts SEC(".maps");

struct flow_key {
	__u32 src, dst;
	__u16 sport, dport;
	__u32 proto;
};

struct flow_val {
	__u64 pkts, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

/* The IP protocol of an IPv4 packet, or -1. */
static __always_inline int ip_proto(struct __sk_buff *skb)
{
	__u8 proto;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return -1;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol),
			       &proto, 1))
		return -1;
	return proto;
}

SEC("socket")
int sf_drop(struct __sk_buff *skb)
{
	ip_proto(skb);
	return 0;
}

/* Add @n to @map's counter for the packet's IP protocol (sockex1). */
static __always_inline int count_proto(struct __sk_buff *skb, void *map,
				       __u64 n)
{
	int proto = ip_proto(skb);
	__u32 key = proto;
	__u64 *v;

	if (proto < 0)
		return 0;
	v = bpf_map_lookup_elem(map, &key);
	if (v)
		__sync_fetch_and_add(v, n);
	return 0;
}

SEC("socket")
int sf_byte(struct __sk_buff *skb)
{
	return count_proto(skb, &proto_bytes, skb->len);
}

SEC("socket")
int sf_pkt(struct __sk_buff *skb)
{
	return count_proto(skb, &proto_pkts, 1);
}

SEC("socket")
int sf_trim(struct __sk_buff *skb)
{
	return ip_proto(skb) == IPPROTO_UDP ? 64 : 0;
}

SEC("socket")
int sf_flow(struct __sk_buff *skb)
{
	struct flow_key key = {};
	struct flow_val *v, init = { 1, 0 };
	struct iphdr ip;
	__u16 ports[2];

	if (skb->protocol != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return 0;
	key.src = ip.saddr;
	key.dst = ip.daddr;
	key.proto = ip.protocol;
	if ((ip.protocol == IPPROTO_UDP || ip.protocol == IPPROTO_TCP) &&
	    !bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, ports, sizeof(ports))) {
		key.sport = ports[0];
		key.dport = ports[1];
	}
	v = bpf_map_lookup_elem(&flows, &key);
	if (v) {
		__sync_fetch_and_add(&v->pkts, 1);
		__sync_fetch_and_add(&v->bytes, skb->len);
	} else {
		init.bytes = skb->len;
		bpf_map_update_elem(&flows, &key, &init, BPF_ANY);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
