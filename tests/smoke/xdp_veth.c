// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test: XDP on a veth pair, native (driver) and generic (skb) mode.
 *
 * Creates a veth pair moatxdp0 <-> moatxdp1 over rtnetlink, gives
 * moatxdp0 the address 10.11.0.1/24 and binds two UDP sockets there, on a
 * "drop" port and a "pass" port.  The XDP program in xdp_veth.bpf.c is
 * attached to moatxdp0, and raw Ethernet/IPv4/UDP frames from 10.11.0.2
 * are injected on moatxdp1 through an AF_PACKET socket, so they really
 * arrive on moatxdp0's receive path (addresses of one netns would
 * otherwise be routed over lo; this kernel has no network namespaces).
 *
 * For each mode it proves that:
 *  - every frame to the drop port was counted by the program and none was
 *    delivered to the drop-port socket;
 *  - every frame to the pass port was counted and delivered intact;
 *  - after bpf_xdp_detach() frames to the drop port are delivered again
 *    and no longer counted.
 *
 * Then, in generic mode with the MTU raised to BIG_MTU, frames of
 * BIG_PAYLOAD bytes of payload: the program complements a word deep in
 * each (XDP packet rewrite), grows the tail by 8 KiB and shrinks it back,
 * and the receiver checks every byte.  When the program runs isolated,
 * MOAT must have mapped packet pages into its window rather than copied
 * them (debugfs ctx_pages_mapped); and once more with MOAT told to copy
 * them (debugfs map_packets), the fallback of machines whose CPUs share
 * protection keys.  Then jumbo frames of JUMBO_PAYLOAD bytes.
 */
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "test.h"
#include "bpfobj.h"
#include "moat.h"
#include "netlink.h"

#define DEV_XDP		"moatxdp0"	/* XDP attached here, receives */
#define DEV_PEER	"moatxdp1"	/* frames are injected here */
#define ADDR_XDP	"10.11.0.1"
#define ADDR_PEER	"10.11.0.2"	/* source only, not configured */
#define PORT_DROP	7001
#define PORT_PASS	7002
#define NR_FRAMES	16
#define QUIET_MS	500
#define PORT_BIG	7003
#define BIG_PAYLOAD	20000		/* a frame of six pages */
/*
 * Jumbo frames: generic XDP linearises them into a 128 KiB buffer, larger
 * than MOAT's 64 KiB packet window, but the packet itself fits it.
 */
#define JUMBO_PAYLOAD	65000
#define MAX_PAYLOAD	JUMBO_PAYLOAD
#define BIG_OFF		16000		/* as in xdp_veth.bpf.c */
#define BIG_MTU		65535
#define NR_BIG		8

/* as in xdp_veth.bpf.c */
enum { CFG_DROP_PORT, CFG_PASS_PORT, CFG_BIG_PORT };
enum { CNT_DROPPED, CNT_PASSED, CNT_BIG, CNT_GROWN, CNT_GROW_FAILED };

struct payload {
	uint32_t seq;
	char tag[12];
};

struct frame {
	struct ether_header eth;
	struct iphdr ip;
	struct udphdr udp;
	struct payload data;
} __attribute__((packed));

struct mode_result {
	char err[256];		/* set when the run could not be done */
	__u64 dropped;		/* counters after sending to both ports */
	__u64 passed;
	int rx_drop;		/* datagrams received on the drop port */
	int rx_pass;		/* ... on the pass port */
	int after_rx_drop;	/* drop port, after detach */
	__u64 after_dropped;	/* counters[CNT_DROPPED] after detach */
};

static struct bpf_object *obj;
static char setup_err[256];
static int ifx, ifp;				/* ifindexes */
static unsigned char mac_xdp[6], mac_peer[6];
static int prog_fd, cnt_fd, pkt_fd = -1;
static struct mode_result drv_res, skb_res;

struct big_result {
	char err[256];
	__u64 counted;		/* counters[CNT_BIG] */
	__u64 grown;		/* counters[CNT_GROWN] */
	__u64 grow_failed;	/* counters[CNT_GROW_FAILED] */
	int rx;			/* datagrams received */
	int rx_ok;		/* ... with the word complemented, rest intact */
	int isolated;		/* the program's moat_isolated */
	long long mapped;	/* MOAT's ctx_pages_mapped during the run */
};

/* Large frames, again with MOAT made to copy them, jumbo frames. */
static struct big_result big_res, big_copy_res, jumbo_res;
/* debugfs map_packets at the start: 1 when MOAT maps packet pages here. */
static int map_packets;

static int link_mtu(int ifindex, unsigned int mtu)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
	};
	struct nlreq req;

	nl_init(&req, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	nl_add(&req.nh, IFLA_MTU, &mtu, sizeof(mtu));
	return nl_talk(&req.nh);
}

static int addr_add(int ifindex, const char *addr, int prefixlen)
{
	struct ifaddrmsg ifa = {
		.ifa_family = AF_INET,
		.ifa_prefixlen = prefixlen,
		.ifa_index = ifindex,
	};
	struct nlreq req;
	struct in_addr in;

	inet_pton(AF_INET, addr, &in);
	nl_init(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa,
		sizeof(ifa));
	nl_add(&req.nh, IFA_LOCAL, &in, sizeof(in));
	nl_add(&req.nh, IFA_ADDRESS, &in, sizeof(in));
	return nl_talk(&req.nh);
}

/* ---- traffic ---------------------------------------------------------- */

/*
 * Headers of a frame 10.11.0.2:40000 -> 10.11.0.1:@port with @len bytes of
 * UDP payload.
 */
static void frame_headers(struct frame *f, int port, uint32_t seq, size_t len)
{
	memset(f, 0, offsetof(struct frame, data));
	memcpy(f->eth.ether_dhost, mac_xdp, ETH_ALEN);
	memcpy(f->eth.ether_shost, mac_peer, ETH_ALEN);
	f->eth.ether_type = htons(ETHERTYPE_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.tot_len = htons(sizeof(f->ip) + sizeof(f->udp) + len);
	f->ip.id = htons(seq);
	inet_pton(AF_INET, ADDR_PEER, &f->ip.saddr);
	inet_pton(AF_INET, ADDR_XDP, &f->ip.daddr);
	f->ip.check = ip_csum(&f->ip, sizeof(f->ip));
	f->udp.source = htons(40000);
	f->udp.dest = htons(port);
	f->udp.len = htons(sizeof(f->udp) + len);
	f->udp.check = 0;			/* no checksum (IPv4) */
}

/* Inject the @size bytes of frame @buf on the peer end: 0 or -errno. */
static int send_frame(const void *buf, size_t size)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifp,
		.sll_halen = ETH_ALEN,
	};

	memcpy(sll.sll_addr, mac_xdp, ETH_ALEN);
	if (sendto(pkt_fd, buf, size, 0, (struct sockaddr *)&sll,
		   sizeof(sll)) != (ssize_t)size)
		return -errno;
	return 0;
}

/* Inject one frame 10.11.0.2:40000 -> 10.11.0.1:@port on the peer end. */
static int inject(int port, uint32_t seq)
{
	struct frame f;

	frame_headers(&f, port, seq, sizeof(f.data));
	memset(&f.data, 0, sizeof(f.data));
	f.data.seq = seq;
	snprintf(f.data.tag, sizeof(f.data.tag), "moat-%u", seq);
	return send_frame(&f, sizeof(f));
}

/* Word @i of the payload of large frame @seq. */
static uint32_t big_word(uint32_t seq, uint32_t i)
{
	return seq << 16 | i;
}

/*
 * Inject one large frame to PORT_BIG, @len bytes of payload made of
 * big_word()s.
 */
static int inject_big(uint32_t seq, int len)
{
	static unsigned char buf[offsetof(struct frame, data) + MAX_PAYLOAD];
	unsigned char *payload = buf + offsetof(struct frame, data);
	uint32_t i, w;

	frame_headers((struct frame *)buf, PORT_BIG, seq, len);
	for (i = 0; i < (uint32_t)len / 4; i++) {
		w = big_word(seq, i);
		memcpy(payload + 4 * i, &w, sizeof(w));	/* unaligned */
	}
	return send_frame(buf, offsetof(struct frame, data) + len);
}

static int udp_socket(int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};
	int fd;

	inet_pton(AF_INET, ADDR_XDP, &sin.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Read datagrams from @fd until @want arrived or none came for QUIET_MS.
 * Returns how many arrived with a well-formed payload.
 */
static int drain(int fd, int want)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct payload p;
	int got = 0;

	while (got < want && poll(&pfd, 1, QUIET_MS) > 0) {
		char tag[sizeof(p.tag)] = { 0 };
		ssize_t n = recv(fd, &p, sizeof(p), 0);

		if (n < 0)
			continue;
		snprintf(tag, sizeof(tag), "moat-%u", p.seq);
		if (n == sizeof(p) && !memcmp(tag, p.tag, sizeof(tag)))
			got++;
	}
	return got;
}

/*
 * Read datagrams of @len bytes until @want arrived or none came for
 * QUIET_MS.  Counts them in @rx, and in @rx_ok those whose word at BIG_OFF
 * is complemented and whose other words are as sent.
 */
static void drain_big(int fd, int want, int len, int *rx, int *rx_ok)
{
	static uint32_t p[MAX_PAYLOAD / 4 + 1];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint32_t seq, i;
	ssize_t n;
	bool ok;

	while (*rx < want && poll(&pfd, 1, QUIET_MS) > 0) {
		n = recv(fd, p, sizeof(p), 0);
		if (n < 0)
			continue;
		(*rx)++;
		if (n != len)
			continue;
		seq = p[0] >> 16;
		ok = true;
		for (i = 0; i < (uint32_t)len / 4; i++)
			if (p[i] != (i == BIG_OFF / 4 ? ~big_word(seq, i) :
						       big_word(seq, i)))
				ok = false;
		*rx_ok += ok;
	}
}

/* ---- the experiment --------------------------------------------------- */

static int reset_counters(void)
{
	return smoke_set(cnt_fd, CNT_DROPPED, 0) ?:
	       smoke_set(cnt_fd, CNT_PASSED, 0);
}

static int read_counters(__u64 *dropped, __u64 *passed)
{
	return smoke_get(cnt_fd, CNT_DROPPED, dropped) ?:
	       smoke_get(cnt_fd, CNT_PASSED, passed);
}

static void run_mode(__u32 mode, struct mode_result *res)
{
	const char *name = mode == XDP_FLAGS_DRV_MODE ? "native" : "generic";
	int sd = -1, sp = -1, i, ret;
	__u64 passed;

	if (setup_err[0]) {
		snprintf(res->err, sizeof(res->err), "%s", setup_err);
		return;
	}
	sd = udp_socket(PORT_DROP);
	sp = udp_socket(PORT_PASS);
	if (sd < 0 || sp < 0) {
		snprintf(res->err, sizeof(res->err), "bind UDP %s:%d/%d: %s",
			 ADDR_XDP, PORT_DROP, PORT_PASS,
			 strerror(-(sd < 0 ? sd : sp)));
		goto out;
	}
	if (reset_counters()) {
		snprintf(res->err, sizeof(res->err), "reset counters: %s",
			 strerror(errno));
		goto out;
	}
	ret = bpf_xdp_attach(ifx, prog_fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST,
			     NULL);
	if (ret) {
		snprintf(res->err, sizeof(res->err),
			 "bpf_xdp_attach(%s, %s mode): %s", DEV_XDP, name,
			 strerror(-ret));
		goto out;
	}

	for (i = 0; i < NR_FRAMES; i++) {
		ret = inject(PORT_DROP, i) ?: inject(PORT_PASS, i);
		if (ret) {
			snprintf(res->err, sizeof(res->err),
				 "inject frame %d on %s: %s", i, DEV_PEER,
				 strerror(-ret));
			bpf_xdp_detach(ifx, mode, NULL);
			goto out;
		}
	}
	/* Pass-port frames were interleaved: once they are in, all are. */
	res->rx_pass = drain(sp, NR_FRAMES);
	res->rx_drop = drain(sd, NR_FRAMES);
	if (read_counters(&res->dropped, &res->passed)) {
		snprintf(res->err, sizeof(res->err), "read counters: %s",
			 strerror(errno));
		bpf_xdp_detach(ifx, mode, NULL);
		goto out;
	}

	ret = bpf_xdp_detach(ifx, mode, NULL);
	if (ret) {
		snprintf(res->err, sizeof(res->err),
			 "bpf_xdp_detach(%s, %s mode): %s", DEV_XDP, name,
			 strerror(-ret));
		goto out;
	}
	for (i = 0; i < NR_FRAMES; i++) {
		ret = inject(PORT_DROP, NR_FRAMES + i);
		if (ret) {
			snprintf(res->err, sizeof(res->err),
				 "inject frame after detach on %s: %s",
				 DEV_PEER, strerror(-ret));
			goto out;
		}
	}
	res->after_rx_drop = drain(sd, NR_FRAMES);
	if (read_counters(&res->after_dropped, &passed))
		snprintf(res->err, sizeof(res->err), "read counters: %s",
			 strerror(errno));
out:
	if (sd >= 0)
		close(sd);
	if (sp >= 0)
		close(sp);
}

/*
 * Large frames of @len bytes of payload, generic mode, MTU raised on both
 * ends for the run.
 */
static void run_big(struct big_result *res, int len)
{
	int fd = -1, size = 4 << 20, i, ret;
	long long before;

	if (setup_err[0]) {
		snprintf(res->err, sizeof(res->err), "%s", setup_err);
		return;
	}
	res->isolated = fdinfo(prog_fd, "moat_isolated") == 1;
	ret = link_mtu(ifx, BIG_MTU) ?: link_mtu(ifp, BIG_MTU);
	if (ret) {
		snprintf(res->err, sizeof(res->err), "MTU %d on %s/%s: %s",
			 BIG_MTU, DEV_XDP, DEV_PEER, strerror(-ret));
		goto out;
	}
	fd = udp_socket(PORT_BIG);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
				 sizeof(size))) {
		snprintf(res->err, sizeof(res->err), "UDP socket %s:%d: %s",
			 ADDR_XDP, PORT_BIG,
			 strerror(fd < 0 ? -fd : errno));
		goto out;
	}
	if (smoke_set(cnt_fd, CNT_BIG, 0) || smoke_set(cnt_fd, CNT_GROWN, 0) ||
	    smoke_set(cnt_fd, CNT_GROW_FAILED, 0)) {
		snprintf(res->err, sizeof(res->err), "reset counters: %s",
			 strerror(errno));
		goto out;
	}
	ret = bpf_xdp_attach(ifx, prog_fd,
			     XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			     NULL);
	if (ret) {
		snprintf(res->err, sizeof(res->err),
			 "bpf_xdp_attach(%s, generic mode): %s", DEV_XDP,
			 strerror(-ret));
		goto out;
	}
	before = moat_file_value(MOAT_STATS, "ctx_pages_mapped");
	for (i = 0; i < NR_BIG && !ret; i++)
		ret = inject_big(i, len);
	if (ret)
		snprintf(res->err, sizeof(res->err),
			 "inject large frame on %s: %s", DEV_PEER,
			 strerror(-ret));
	else
		drain_big(fd, NR_BIG, len, &res->rx, &res->rx_ok);
	res->mapped = moat_file_value(MOAT_STATS, "ctx_pages_mapped") - before;
	if (!ret && (smoke_get(cnt_fd, CNT_BIG, &res->counted) ||
		     smoke_get(cnt_fd, CNT_GROWN, &res->grown) ||
		     smoke_get(cnt_fd, CNT_GROW_FAILED, &res->grow_failed)))
		snprintf(res->err, sizeof(res->err), "read counters: %s",
			 strerror(errno));
	bpf_xdp_detach(ifx, XDP_FLAGS_SKB_MODE, NULL);
out:
	if (fd >= 0)
		close(fd);
	link_mtu(ifx, 1500);
	link_mtu(ifp, 1500);
}

static void setup(void)
{
	char err[256];
	int ret, old;

	obj = smoke_load("xdp_veth", setup_err, sizeof(setup_err));
	if (!obj)
		return;
	prog_fd = smoke_prog_fd(obj, "xdp_drop_port", err, sizeof(err));
	cnt_fd = smoke_map_fd(obj, "counters", err, sizeof(err));
	ret = smoke_map_fd(obj, "config", err, sizeof(err));
	if (prog_fd < 0 || cnt_fd < 0 || ret < 0) {
		snprintf(setup_err, sizeof(setup_err), "%s", err);
		return;
	}
	if (smoke_set(ret, CFG_DROP_PORT, PORT_DROP) ||
	    smoke_set(ret, CFG_PASS_PORT, PORT_PASS) ||
	    smoke_set(ret, CFG_BIG_PORT, PORT_BIG)) {
		snprintf(setup_err, sizeof(setup_err), "write config: %s",
			 strerror(errno));
		return;
	}

	old = if_nametoindex(DEV_XDP);		/* left over from a crash */
	if (old)
		link_del(old);
	ret = veth_create(DEV_XDP, DEV_PEER);
	if (ret) {
		snprintf(setup_err, sizeof(setup_err),
			 "RTM_NEWLINK veth %s/%s: %s", DEV_XDP, DEV_PEER,
			 strerror(-ret));
		return;
	}
	ifx = if_nametoindex(DEV_XDP);
	ifp = if_nametoindex(DEV_PEER);
	if (!ifx || !ifp) {
		snprintf(setup_err, sizeof(setup_err),
			 "veth created but %s/%s not found", DEV_XDP, DEV_PEER);
		return;
	}
	ret = addr_add(ifx, ADDR_XDP, 24) ?: link_up(ifx) ?: link_up(ifp) ?:
	      get_mac(DEV_XDP, mac_xdp) ?: get_mac(DEV_PEER, mac_peer);
	if (ret) {
		snprintf(setup_err, sizeof(setup_err),
			 "configure %s (%s/24, up) and %s: %s", DEV_XDP,
			 ADDR_XDP, DEV_PEER, strerror(-ret));
		return;
	}
	pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (pkt_fd < 0)
		snprintf(setup_err, sizeof(setup_err),
			 "socket(AF_PACKET, SOCK_RAW): %s", strerror(errno));
}

/* ---- cases ------------------------------------------------------------ */

#define DROPS_PORT(res) do {						\
	ASSERT_NO_SETUP_ERR((res).err);					\
	test_info("XDP on veth: %d frames per port; dropped %llu, "	\
		  "passed %llu, delivered %d", NR_FRAMES,		\
		  (unsigned long long)(res).dropped,			\
		  (unsigned long long)(res).passed, (int)(res).rx_pass); \
	ASSERT_EQ((res).dropped, NR_FRAMES,				\
		  "frames to the drop port counted (XDP_DROP)");	\
	ASSERT_EQ((res).rx_drop, 0,					\
		  "datagrams delivered on the drop port");		\
} while (0)

#define PASSES_OTHER(res) do {						\
	ASSERT_NO_SETUP_ERR((res).err);					\
	ASSERT_EQ((res).passed, NR_FRAMES,				\
		  "frames to the pass port counted (XDP_PASS)");	\
	ASSERT_EQ((res).rx_pass, NR_FRAMES,				\
		  "datagrams delivered intact on the pass port");	\
} while (0)

#define DETACH_RESTORES(res) do {					\
	ASSERT_NO_SETUP_ERR((res).err);					\
	ASSERT_EQ((res).after_rx_drop, NR_FRAMES,			\
		  "drop-port datagrams delivered after detach");	\
	ASSERT_EQ((res).after_dropped, (res).dropped,			\
		  "drop-port frames counted after detach");		\
} while (0)

static void test_xdp_veth_drv_drops_port(void)
{
	DROPS_PORT(drv_res);
}

static void test_xdp_veth_drv_passes_other(void)
{
	PASSES_OTHER(drv_res);
}

static void test_xdp_veth_drv_detach_restores(void)
{
	DETACH_RESTORES(drv_res);
}

static void test_xdp_veth_skb_drops_port(void)
{
	DROPS_PORT(skb_res);
}

static void test_xdp_veth_skb_passes_other(void)
{
	PASSES_OTHER(skb_res);
}

static void test_xdp_veth_skb_detach_restores(void)
{
	DETACH_RESTORES(skb_res);
}

/* Rewriting a word deep in large frames works, and nothing else changes. */
static void test_xdp_veth_skb_large_frames(void)
{
	ASSERT_NO_SETUP_ERR(big_res.err);
	test_info("%d frames of %d bytes of payload: counted %llu, grown %llu, received %d, intact %d",
		  NR_BIG, BIG_PAYLOAD, (unsigned long long)big_res.counted,
		  (unsigned long long)big_res.grown, big_res.rx,
		  big_res.rx_ok);
	ASSERT_EQ(big_res.counted, NR_BIG, "large frames rewritten (XDP_PASS)");
	ASSERT_EQ(big_res.grown, NR_BIG, "tails grown by 8 KiB and shrunk");
	ASSERT_EQ(big_res.rx_ok, NR_BIG,
		  "datagrams received with exactly the rewritten word changed");
}

/*
 * Isolated, the pages of a large frame that hold only packet bytes are
 * mapped into the program's window, not copied.
 */
static void test_xdp_veth_skb_large_frames_mapped(void)
{
	ASSERT_NO_SETUP_ERR(big_res.err);
	if (!big_res.isolated) {
		test_skip("the program does not run isolated");
		return;
	}
	if (map_packets != 1) {
		test_skip("MOAT copies packets here (map_packets is %d)",
			  map_packets);
		return;
	}
	test_info("packet pages mapped for %d large frames: %lld", NR_BIG,
		  big_res.mapped);
	/* Each frame has at least three pages of payload only. */
	ASSERT_GE(big_res.mapped, 3 * NR_BIG,
		  "packet pages mapped: at least three per large frame");
}

/* Copied instead of mapped, large frames are rewritten the same. */
static void test_xdp_veth_skb_large_frames_copied(void)
{
	if (!big_res.isolated) {
		test_skip("the program does not run isolated");
		return;
	}
	ASSERT_NO_SETUP_ERR(big_copy_res.err);
	test_info("copied: counted %llu, received %d, intact %d, pages mapped %lld",
		  (unsigned long long)big_copy_res.counted, big_copy_res.rx,
		  big_copy_res.rx_ok, big_copy_res.mapped);
	ASSERT_EQ(big_copy_res.isolated, 1, "program isolated");
	ASSERT_EQ(big_copy_res.counted, NR_BIG,
		  "large frames rewritten (XDP_PASS)");
	ASSERT_EQ(big_copy_res.grown, NR_BIG, "tails grown by 8 KiB and shrunk");
	ASSERT_EQ(big_copy_res.rx_ok, NR_BIG,
		  "datagrams received with exactly the rewritten word changed");
	ASSERT_EQ(big_copy_res.mapped, 0, "packet pages mapped");
}

/*
 * Jumbo frames, whose 128 KiB buffer is larger than MOAT's packet window:
 * rewritten the same isolated.  Growing their tail by 8 KiB works plain;
 * isolated it would take the packet beyond the window, so it fails.
 */
static void test_xdp_veth_skb_jumbo_frames(void)
{
	ASSERT_NO_SETUP_ERR(jumbo_res.err);
	test_info("%d frames of %d bytes of payload: counted %llu, grown %llu, not grown %llu, received %d, intact %d",
		  NR_BIG, JUMBO_PAYLOAD, (unsigned long long)jumbo_res.counted,
		  (unsigned long long)jumbo_res.grown,
		  (unsigned long long)jumbo_res.grow_failed, jumbo_res.rx,
		  jumbo_res.rx_ok);
	ASSERT_EQ(jumbo_res.counted, NR_BIG, "jumbo frames rewritten (XDP_PASS)");
	ASSERT_EQ(jumbo_res.rx_ok, NR_BIG,
		  "datagrams received with exactly the rewritten word changed");
	if (jumbo_res.isolated)
		ASSERT_EQ(jumbo_res.grow_failed, NR_BIG,
			  "tails not grown beyond MOAT's packet window");
	else
		ASSERT_EQ(jumbo_res.grown, NR_BIG,
			  "tails grown by 8 KiB and shrunk");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	run_mode(XDP_FLAGS_DRV_MODE, &drv_res);
	run_mode(XDP_FLAGS_SKB_MODE, &skb_res);
	map_packets = moat_read_int(MOAT_MAP_PACKETS);
	run_big(&big_res, BIG_PAYLOAD);
	if (big_res.isolated) {
		int ret = moat_write_file(MOAT_MAP_PACKETS, "0");

		if (ret) {
			snprintf(big_copy_res.err, sizeof(big_copy_res.err),
				 "write 0 to %s: %s", MOAT_MAP_PACKETS,
				 strerror(-ret));
		} else {
			run_big(&big_copy_res, BIG_PAYLOAD);
			if (map_packets == 1)
				moat_write_file(MOAT_MAP_PACKETS, "1");
		}
	}
	run_big(&jumbo_res, JUMBO_PAYLOAD);

	RUN_TEST("smoke", test_xdp_veth_drv_drops_port);
	RUN_TEST("smoke", test_xdp_veth_drv_passes_other);
	RUN_TEST("smoke", test_xdp_veth_drv_detach_restores);
	RUN_TEST("smoke", test_xdp_veth_skb_drops_port);
	RUN_TEST("smoke", test_xdp_veth_skb_passes_other);
	RUN_TEST("smoke", test_xdp_veth_skb_detach_restores);
	RUN_TEST("smoke", test_xdp_veth_skb_large_frames);
	RUN_TEST("smoke", test_xdp_veth_skb_large_frames_mapped);
	RUN_TEST("smoke", test_xdp_veth_skb_large_frames_copied);
	RUN_TEST("smoke", test_xdp_veth_skb_jumbo_frames);

	if (pkt_fd >= 0)
		close(pkt_fd);
	if (ifx)
		link_del(ifx);			/* removes the peer too */
	if (obj)
		bpf_object__close(obj);
	return test_exit();
}
