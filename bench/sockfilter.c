// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's socket-filter benchmark (Table 4 shape): UDP packets with a
 * 16-byte payload sent and received over the loopback device, with the
 * filters of sockfilter.bpf.c attached to packet sockets on it, one filter
 * per socket: each alone, then all five.  Unit: one UDP packet, sent and
 * received (on loopback every filter runs twice for it: once as the
 * packet leaves, once as it arrives).  "base" is the same traffic with no
 * packet socket at all.
 *
 *	sockfilter
 */
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include "bench.h"

#define MAX_FILTERS 5

struct sockfilter {
	const char *name;
	const char *progs[MAX_FILTERS];
	int socks[MAX_FILTERS];
};

static struct bpf_object *objs[2];
static int udp_tx, udp_rx;

/* A packet socket on lo, filtered by @prog_fd before it sees a packet. */
static int packet_socket(int prog_fd)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = if_nametoindex("lo"),
	};
	int s = socket(AF_PACKET, SOCK_RAW, 0);

	if (s < 0)
		return -1;
	if (setsockopt(s, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

static void sf_detach(struct bench_case *c)
{
	struct sockfilter *f = c->priv;
	int i;

	for (i = 0; i < MAX_FILTERS; i++) {
		if (f->socks[i] > 0)
			close(f->socks[i]);
		f->socks[i] = -1;
	}
}

static int sf_attach(struct bench_case *c, int iso)
{
	struct sockfilter *f = c->priv;
	int i, fd;

	for (i = 0; i < MAX_FILTERS && f->progs[i]; i++) {
		fd = bench_prog_fd(objs[iso], f->progs[i]);
		f->socks[i] = fd < 0 ? -1 : packet_socket(fd);
		if (f->socks[i] < 0) {
			sf_detach(c);
			return -1;
		}
	}
	return 0;
}

static long long sf_work(struct bench_case *c, long n)
{
	struct sockfilter *f = c->priv;
	char payload[16] = "moat bench udp.", buf[2048];
	long long t = bench_now();
	long i;
	int k;

	for (i = 0; i < n; i++) {
		if (send(udp_tx, payload, sizeof(payload), 0) != sizeof(payload) ||
		    recv(udp_rx, buf, sizeof(buf), 0) != sizeof(payload))
			return -1;
		/* What the trimming filter kept: read it, as a capture would. */
		for (k = 0; k < MAX_FILTERS; k++)
			if (f->socks[k] > 0 && !strcmp(f->progs[k], "sf_trim"))
				while (recv(f->socks[k], buf, sizeof(buf), MSG_DONTWAIT) > 0)
					;
	}
	return bench_now() - t;
}

static int udp_pair(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	udp_rx = socket(AF_INET, SOCK_DGRAM, 0);
	udp_tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp_rx < 0 || udp_tx < 0 ||
	    bind(udp_rx, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(udp_rx, (struct sockaddr *)&a, &len) ||
	    connect(udp_tx, (struct sockaddr *)&a, sizeof(a))) {
		perror("sockfilter: UDP sockets");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct sockfilter fs[] = {
		{ .name = "drop", .progs = { "sf_drop" } },
		{ .name = "byte", .progs = { "sf_byte" } },
		{ .name = "pkt", .progs = { "sf_pkt" } },
		{ .name = "trim", .progs = { "sf_trim" } },
		{ .name = "flow", .progs = { "sf_flow" } },
		{ .name = "all", .progs = { "sf_drop", "sf_byte", "sf_pkt",
					    "sf_trim", "sf_flow" } },
	};
	long n = bench_quick() ? 1000 : 10000;
	int rounds = bench_quick() ? 2 : 3;
	unsigned int i;
	int ret = 0;

	if (bench_no_moat("sockfilter"))
		return 0;
	objs[0] = bench_load("sockfilter", 0);
	objs[1] = bench_load("sockfilter", 1);
	if (!objs[0] || !objs[1] || udp_pair())
		return 1;
	for (i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		struct bench_case c = {
			.workload = "sockfilter", .name = fs[i].name,
			.unit = "packet", .n = n, .base = 1,
			.attach = sf_attach, .detach = sf_detach,
			.work = sf_work, .priv = &fs[i],
		};

		if (!bench_wanted(argc, argv, fs[i].name))
			continue;
		memset(fs[i].socks, -1, sizeof(fs[i].socks));
		if (bench_run(&c, rounds))
			ret = 1;
	}
	return ret;
}
