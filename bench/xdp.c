// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's XDP benchmark (Table 5 shape): the programs of xdp.bpf.c
 * attached in native (driver) mode to one end of a veth pair, moatb0,
 * while raw Ethernet/IPv4/UDP frames are sent on the other end, moatb1,
 * through a packet socket; veth runs the program on moatb0's receive path
 * in the softirq the send ends with.  64-byte frames for xdp1 and xdp2,
 * 100-byte ones for the others, as in the paper.  Unit: one frame sent
 * and handled.  "base" is the same traffic with no program: the frame
 * goes up moatb0's stack, which drops it (the address is not local).
 *
 *   xdp1  count, drop                  xdp2  count, swap MACs, XDP_TX
 *   adj   ICMP reply built in place    rxq1  counters, read MAC, drop
 *   rxq2  counters, swap MACs, XDP_TX
 *
 * Frames sent back (XDP_TX) leave on moatb1, which has no program and so
 * drops them in veth.  After the run every case checks that its program
 * really saw the frames.
 *
 *	xdp [CASE...]
 */
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bench.h"
#include "netlink.h"
#include "xdp.h"

#define DEV_XDP		"moatb0"
#define DEV_PEER	"moatb1"

struct xdp_case {
	const char *name, *prog;
	int size;			/* frame bytes */
	struct rxq_config rxq;		/* xdp_rxq: action and options */
	const char *map;		/* a counter of the frames it saw */
	__u32 key;
};

static struct bpf_object *objs[2];
static int ifx, ifp, pkt_fd;
static unsigned char mac_xdp[6], mac_peer[6];
static unsigned char frame[128];

static int xdp_attach(struct bench_case *c, int iso)
{
	struct xdp_case *x = c->priv;
	int fd = bench_prog_fd(objs[iso], x->prog);
	__u32 zero = 0;

	if (fd < 0)
		return fd;
	if (!strcmp(x->prog, "xdp_rxq")) {
		struct rxq_config cfg = x->rxq;
		struct bpf_map *m;

		cfg.ifindex = ifx;
		m = bpf_object__find_map_by_name(objs[iso], "rxq_config");
		if (!m || bpf_map__update_elem(m, &zero, sizeof(zero), &cfg,
					       sizeof(cfg), BPF_ANY))
			return -EINVAL;
	}
	return bpf_xdp_attach(ifx, fd, XDP_FLAGS_DRV_MODE, NULL);
}

static void xdp_detach(struct bench_case *c)
{
	bpf_xdp_detach(ifx, XDP_FLAGS_DRV_MODE, NULL);
}

/* A frame moatb1 -> moatb0, 10.12.0.2:40000 -> 10.12.0.1:9, @size bytes. */
static void frame_build(int size)
{
	struct ether_header *eth = (void *)frame;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	int l3 = size - (int)sizeof(*eth);

	memset(frame, 0, sizeof(frame));
	memcpy(eth->ether_dhost, mac_xdp, ETH_ALEN);
	memcpy(eth->ether_shost, mac_peer, ETH_ALEN);
	eth->ether_type = htons(ETHERTYPE_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(l3);
	ip->saddr = htonl(0x0a0c0002);
	ip->daddr = htonl(0x0a0c0001);
	ip->check = ip_csum(ip, sizeof(*ip));
	udp->source = htons(40000);
	udp->dest = htons(9);
	udp->len = htons(l3 - sizeof(*ip));
}

static long long xdp_work(struct bench_case *c, long n)
{
	struct xdp_case *x = c->priv;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifp,
		.sll_halen = ETH_ALEN,
	};
	long long t;
	long i;

	memcpy(sll.sll_addr, mac_xdp, ETH_ALEN);
	t = bench_now();
	for (i = 0; i < n; i++)
		if (sendto(pkt_fd, frame, x->size, 0, (struct sockaddr *)&sll,
			   sizeof(sll)) != x->size)
			return -1;
	return bench_now() - t;
}

/* The frames case @x's program counted in object @iso (all CPUs). */
static long long xdp_seen(struct xdp_case *x, int iso)
{
	struct bpf_map *m = bpf_object__find_map_by_name(objs[iso], x->map);
	int ncpus = libbpf_num_possible_cpus();
	long long sum = 0;
	__u64 v[ncpus > 0 ? ncpus * 2 : 2];
	int i, per_cpu, words;

	if (!m || ncpus <= 0)
		return -1;
	per_cpu = bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY;
	words = bpf_map__value_size(m) / sizeof(__u64);
	if (bpf_map_lookup_elem(bpf_map__fd(m), &x->key, v))
		return -1;
	for (i = 0; i < (per_cpu ? ncpus : 1); i++)
		sum += v[i * words];
	return sum;
}

static int veth_setup(void)
{
	int err;

	link_del(if_nametoindex(DEV_XDP));	/* from an earlier run */
	err = veth_create(DEV_XDP, DEV_PEER);
	ifx = if_nametoindex(DEV_XDP);
	ifp = if_nametoindex(DEV_PEER);
	if (err || !ifx || !ifp || link_up(ifx) || link_up(ifp) ||
	    get_mac(DEV_XDP, mac_xdp) || get_mac(DEV_PEER, mac_peer)) {
		fprintf(stderr, "xdp: cannot set up the veth pair: %s\n",
			strerror(err ? -err : errno));
		return -1;
	}
	/* Protocol 0: it sends and never receives. */
	pkt_fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (pkt_fd < 0) {
		perror("xdp: packet socket");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct xdp_case xs[] = {
		{ "xdp1", "xdp1", 64, {}, "rxcnt", IPPROTO_UDP },
		{ "xdp2", "xdp2", 64, {}, "rxcnt", IPPROTO_UDP },
		{ "adj", "xdp_adj", 100, {}, "icmpcnt", 0 },
		{ "rxq1", "xdp_rxq", 100, { XDP_DROP, 0, RXQ_READ_MAC },
		  "rxq_stats", 0 },
		{ "rxq2", "xdp_rxq", 100, { XDP_TX, 0, RXQ_SWAP_MAC },
		  "rxq_stats", 0 },
	};
	long n = bench_quick() ? 1000 : 10000;
	int rounds = bench_quick() ? 2 : 3;
	long long seen[2][2] = {};
	unsigned int i;
	int ret = 0, iso;

	if (bench_no_moat("xdp"))
		return 0;
	objs[0] = bench_load("xdp", 0);
	objs[1] = bench_load("xdp", 1);
	if (!objs[0] || !objs[1] || veth_setup())
		return 1;
	for (i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		struct bench_case c = {
			.workload = "xdp", .name = xs[i].name,
			.unit = "frame", .n = n, .base = 1,
			.attach = xdp_attach, .detach = xdp_detach,
			.work = xdp_work, .priv = &xs[i],
		};

		if (!bench_wanted(argc, argv, xs[i].name))
			continue;
		frame_build(xs[i].size);
		for (iso = 0; iso < 2; iso++)
			seen[0][iso] = xdp_seen(&xs[i], iso);
		if (bench_run(&c, rounds)) {
			ret = 1;
			continue;
		}
		/* Each program saw every frame of its rounds. */
		for (iso = 0; iso < 2; iso++) {
			seen[1][iso] = xdp_seen(&xs[i], iso);
			if (seen[1][iso] - seen[0][iso] < (long long)n * rounds) {
				printf("xdp: %s %s saw %lld of %ld frames: failed\n",
				       xs[i].name, iso ? "isolated" : "plain",
				       seen[1][iso] - seen[0][iso], n * rounds);
				ret = 1;
			}
		}
	}
	link_del(ifx);
	return ret;
}
