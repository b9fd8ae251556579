// SPDX-License-Identifier: GPL-2.0
/*
 * Socket filters for the socket_filter smoke test.
 *
 * Both programs run on every datagram queued to the UDP socket they are
 * attached to.  They count it in counters[CNT_PACKETS] and record the
 * datagram's sequence number (the first 4 payload bytes, read through the
 * packet) in counters[CNT_LAST_SEQ], which proves the program saw the real
 * packet.  count_accept keeps the whole datagram; count_drop discards it.
 *
 * For a UDP socket skb->data points at the UDP header when the filter runs,
 * so the payload starts at offset sizeof(struct udphdr).
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

enum {
	CNT_PACKETS,
	CNT_LAST_SEQ,
	CNT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(struct __sk_buff *skb)
{
	__u32 key = CNT_PACKETS;
	__u32 seq;
	__u64 *val;

	val = bpf_map_lookup_elem(&counters, &key);
	if (val)
		__sync_fetch_and_add(val, 1);

	if (bpf_skb_load_bytes(skb, sizeof(struct udphdr), &seq, sizeof(seq)))
		return;
	key = CNT_LAST_SEQ;
	val = bpf_map_lookup_elem(&counters, &key);
	if (val)
		*val = seq;
}

SEC("socket")
int count_accept(struct __sk_buff *skb)
{
	count(skb);
	return skb->len;	/* keep the whole datagram */
}

SEC("socket")
int count_drop(struct __sk_buff *skb)
{
	count(skb);
	return 0;		/* drop */
}

char _license[] SEC("license") = "GPL";
