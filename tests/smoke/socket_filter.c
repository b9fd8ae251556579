// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test: BPF_PROG_TYPE_SOCKET_FILTER on a UDP socket.
 *
 * Proves that a socket filter attached with SO_ATTACH_BPF runs on every
 * datagram queued to the socket, sees the datagram's payload, and that its
 * verdict is enforced: returning the packet length delivers the datagram
 * intact, returning 0 discards it before it reaches the receive queue
 * (while the program still ran and counted it).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include "test.h"
#include "bpfobj.h"

#define NR_DGRAMS	32
#define QUIET_MS	500	/* no datagram for this long: sender is done */

enum { CNT_PACKETS, CNT_LAST_SEQ };	/* as in socket_filter.bpf.c */

struct payload {
	uint32_t seq;
	char tag[12];
};

struct sf_result {
	char err[256];		/* set when the run could not be done */
	__u64 count;		/* counters[CNT_PACKETS] after the run */
	__u64 last_seq;		/* counters[CNT_LAST_SEQ] after the run */
	int received;		/* datagrams read from the filtered socket */
	int intact;		/* ... with the expected seq and payload */
};

static struct bpf_object *obj;
static char load_err[256];
static struct sf_result accept_res, drop_res;

static void run(const char *prog, struct sf_result *res)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t alen = sizeof(addr);
	int map_fd, prog_fd, rx = -1, tx = -1, i;
	struct pollfd pfd;
	struct payload p;
	__u64 v;

	if (!obj) {
		snprintf(res->err, sizeof(res->err), "%s", load_err);
		return;
	}
	map_fd = smoke_map_fd(obj, "counters", res->err, sizeof(res->err));
	prog_fd = smoke_prog_fd(obj, prog, res->err, sizeof(res->err));
	if (map_fd < 0 || prog_fd < 0)
		return;
	if (smoke_set(map_fd, CNT_PACKETS, 0) ||
	    smoke_set(map_fd, CNT_LAST_SEQ, ~0ULL)) {
		snprintf(res->err, sizeof(res->err), "reset counters: %s",
			 strerror(errno));
		return;
	}

	rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	if (rx < 0 || tx < 0) {
		snprintf(res->err, sizeof(res->err), "socket: %s",
			 strerror(errno));
		goto out;
	}
	if (bind(rx, (struct sockaddr *)&addr, sizeof(addr)) ||
	    getsockname(rx, (struct sockaddr *)&addr, &alen)) {
		snprintf(res->err, sizeof(res->err),
			 "bind receiver to 127.0.0.1: %s", strerror(errno));
		goto out;
	}
	if (setsockopt(rx, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd,
		       sizeof(prog_fd))) {
		snprintf(res->err, sizeof(res->err),
			 "setsockopt(SO_ATTACH_BPF, %s): %s", prog,
			 strerror(errno));
		goto out;
	}

	for (i = 0; i < NR_DGRAMS; i++) {
		memset(&p, 0, sizeof(p));
		p.seq = i;
		snprintf(p.tag, sizeof(p.tag), "moat-%d", i);
		if (sendto(tx, &p, sizeof(p), 0, (struct sockaddr *)&addr,
			   sizeof(addr)) != sizeof(p)) {
			snprintf(res->err, sizeof(res->err),
				 "sendto datagram %d: %s", i, strerror(errno));
			goto out;
		}
	}

	pfd.fd = rx;
	pfd.events = POLLIN;
	while (res->received < NR_DGRAMS && poll(&pfd, 1, QUIET_MS) > 0) {
		char tag[sizeof(p.tag)];
		ssize_t n;

		n = recv(rx, &p, sizeof(p), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(res->err, sizeof(res->err), "recv: %s",
				 strerror(errno));
			goto out;
		}
		memset(tag, 0, sizeof(tag));
		snprintf(tag, sizeof(tag), "moat-%d", res->received);
		if (n == sizeof(p) && p.seq == (uint32_t)res->received &&
		    !memcmp(p.tag, tag, sizeof(tag)))
			res->intact++;
		res->received++;
	}

	if (smoke_get(map_fd, CNT_PACKETS, &res->count) ||
	    smoke_get(map_fd, CNT_LAST_SEQ, &v)) {
		snprintf(res->err, sizeof(res->err), "read counters: %s",
			 strerror(errno));
		goto out;
	}
	res->last_seq = v;
out:
	if (rx >= 0)
		close(rx);
	if (tx >= 0)
		close(tx);
}

static void test_socket_filter_counts_udp(void)
{
	ASSERT_NO_SETUP_ERR(accept_res.err);
	test_info("sent %d UDP datagrams over 127.0.0.1; the filter counted %llu",
		  NR_DGRAMS, (unsigned long long)accept_res.count);
	ASSERT_EQ(accept_res.count, NR_DGRAMS,
		  "datagrams counted by accepting filter");
	ASSERT_EQ(accept_res.last_seq, NR_DGRAMS - 1,
		  "last payload seq read by the filter");
}

static void test_socket_filter_accept_delivers(void)
{
	ASSERT_NO_SETUP_ERR(accept_res.err);
	ASSERT_EQ(accept_res.received, NR_DGRAMS,
		  "datagrams received through accepting filter");
	ASSERT_EQ(accept_res.intact, NR_DGRAMS,
		  "datagrams received in order with intact payload");
}

static void test_socket_filter_drop_counts(void)
{
	ASSERT_NO_SETUP_ERR(drop_res.err);
	ASSERT_EQ(drop_res.count, NR_DGRAMS,
		  "datagrams counted by dropping filter");
	ASSERT_EQ(drop_res.last_seq, NR_DGRAMS - 1,
		  "last payload seq read by the filter");
}

static void test_socket_filter_drop_blocks_delivery(void)
{
	ASSERT_NO_SETUP_ERR(drop_res.err);
	test_info("dropping filter: counted %llu, socket received %d",
		  (unsigned long long)drop_res.count, (int)drop_res.received);
	ASSERT_EQ(drop_res.received, 0,
		  "datagrams received through dropping filter");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	obj = smoke_load("socket_filter", load_err, sizeof(load_err));
	run("count_accept", &accept_res);
	run("count_drop", &drop_res);

	RUN_TEST("smoke", test_socket_filter_counts_udp);
	RUN_TEST("smoke", test_socket_filter_accept_delivers);
	RUN_TEST("smoke", test_socket_filter_drop_counts);
	RUN_TEST("smoke", test_socket_filter_drop_blocks_delivery);

	if (obj)
		bpf_object__close(obj);
	return test_exit();
}
