// SPDX-License-Identifier: GPL-2.0
/*
 * Legitimate kprobe and raw tracepoint programs give the same results with
 * MOAT off and isolated, while a second process on the other vCPU makes
 * the same programs run (isolated) there at the same time.  An XDP program
 * that rewrites the frame, moves its head and writes metadata produces the
 * same frame and verdict isolated as not; so do a cgroup skb program that
 * reads packets directly, drops and marks, a perf event program, a
 * cgroup device program that denies a device, cgroup sock_addr programs
 * that rewrite a connection's destination and refuse a bind, and a cgroup
 * sock program that marks and refuses new sockets.
 *
 * Each case loads types.bpf.c, attaches it, makes NR_CALLS getppid() calls
 * and NR_FORKS forks from this process, and checks the exact counts and
 * the context-derived counts.  "isolated" cases load with BPF_F_MOAT under
 * kernel.bpf_moat=1 and also check fdinfo and MOAT's run counter; they are
 * skipped on a CPU without PKS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/net_tstamp.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "bpfobj.h"
#include "moat.h"
#include "cgroup.h"

#define NR_CALLS	200
#define NR_FORKS	10

enum { CNT_KPROBE, CNT_KPROBE_IP, CNT_FORK, CNT_FORK_ARGS, CNT_NR };

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* A process on cpu1 that keeps the same probes firing, until killed. */
static pid_t start_noise(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pin(1);
		for (;;) {
			pid_t c;
			int i;

			for (i = 0; i < 100; i++)
				getppid();
			c = fork();
			if (c == 0)
				_exit(0);
			if (c > 0)
				waitpid(c, NULL, 0);
		}
	}
	return pid;
}

/*
 * Wait until the kprobe of @kp, attached by @link, fires for this process, then zero its
 * counters.  Under QEMU's TCG the emulated CPU now and then keeps running a
 * stale translation of the probed function after the int3 has been written
 * (about one attach in 50 here: the int3 is in memory, yet getppid() never
 * traps, for the rest of the process).  Writing the int3 again ends that, so
 * the probe is detached and attached once more when it stays silent.  Which
 * calls are counted is unchanged: exactly the NR_CALLS made afterwards.
 * Returns the number of extra attaches, or -1 if the probe never fired.
 */
static int kprobe_live(struct bpf_program *kp, struct bpf_link **link,
		       int cnt_fd)
{
	__u64 zero = 0, hits = 0;
	__u32 key;
	int tries, i;

	for (tries = 0; tries < 5; tries++) {
		if (tries) {
			bpf_link__destroy(*link);
			*link = bpf_program__attach(kp);
			if (libbpf_get_error(*link)) {
				*link = NULL;
				return -1;
			}
		}
		for (i = 0; i < 10; i++)
			getppid();
		key = CNT_KPROBE;
		bpf_map_lookup_elem(cnt_fd, &key, &hits);
		if (hits)
			break;
	}
	if (!hits)
		return -1;
	for (key = CNT_KPROBE; key <= CNT_KPROBE_IP; key++)
		bpf_map_update_elem(cnt_fd, &key, &zero, BPF_ANY);
	return tries;
}

static void run_types(int isolated)
{
	struct bpf_program *p;
	struct bpf_link *links[2] = {}, **kp_link = NULL;
	struct bpf_object *obj = NULL;
	char err[256] = "";
	long long runs0 = moat_file_value(MOAT_STATS, "runs");
	__u64 cnt[CNT_NR] = {}, pid = getpid();
	pid_t noise = 0;
	int cfg_fd, cnt_fd, i, n = 0, ret;
	__u32 key;

	if (isolated && !cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	obj = bpf_object__open_file(smoke_obj_path("moat", "types"), NULL);
	if (libbpf_get_error(obj)) {
		test_fail("opening types.bpf.o");
		return;
	}
	bpf_object__for_each_program(p, obj) {
		if (strcmp(bpf_program__name(p), "kp_getppid") &&
		    strcmp(bpf_program__name(p), "rtp_fork"))
			bpf_program__set_autoload(p, false);
		else if (isolated)
			bpf_program__set_flags(p, bpf_program__flags(p) |
						  BPF_F_MOAT);
	}
	if (isolated)
		moat_object_maps(obj);
	if (isolated && moat_set_mode("1")) {
		test_fail("cannot write %s", MOAT_SYSCTL);
		goto out;
	}
	ret = bpf_object__load(obj);
	moat_set_mode("0");
	if (ret) {
		test_fail("loading types.bpf.o: %s", strerror(-ret));
		goto out;
	}
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		if (fdinfo(bpf_program__fd(p), "moat_isolated") != isolated) {
			test_fail("%s: moat_isolated is not %d",
				  bpf_program__name(p), isolated);
			goto out;
		}
	}
	cfg_fd = bpf_object__find_map_fd_by_name(obj, "config");
	cnt_fd = bpf_object__find_map_fd_by_name(obj, "counters");
	key = 0;
	if (bpf_map_update_elem(cfg_fd, &key, &pid, BPF_ANY)) {
		test_fail("config: %s", strerror(errno));
		goto out;
	}
	/* Before attaching: its own fork is not one of ours. */
	pin(0);
	noise = start_noise();
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;	/* the cases below run the others */
		if (n == 2)
			break;
		links[n] = bpf_program__attach(p);
		if (libbpf_get_error(links[n])) {
			links[n] = NULL;
			snprintf(err, sizeof(err), "attaching %s: %s",
				 bpf_program__name(p), strerror(errno));
			break;
		}
		if (!strcmp(bpf_program__name(p), "kp_getppid"))
			kp_link = &links[n];
		n++;
	}
	if (err[0]) {
		test_fail("%s", err);
		goto out;
	}

	if (noise <= 0) {
		test_fail("no second process: %s", strerror(errno));
		goto out;
	}
	usleep(20000);
	ret = kp_link ? kprobe_live(bpf_object__find_program_by_name(obj,
							"kp_getppid"),
				    kp_link, cnt_fd) : -1;
	if (ret < 0) {
		test_fail("kp_getppid never fired in 5 attaches");
		goto out;
	}
	if (ret)
		test_info("kp_getppid fired after %d more attaches", ret);
	for (i = 0; i < NR_CALLS; i++)
		getppid();
	for (i = 0; i < NR_FORKS; i++) {
		pid_t c = fork();

		if (c == 0)
			_exit(0);
		if (c > 0)
			waitpid(c, NULL, 0);
	}
	if (noise > 0) {
		kill(noise, SIGKILL);
		waitpid(noise, NULL, 0);
	}
	noise = 0;
	for (i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	n = 0;
	for (key = 0; key < CNT_NR; key++)
		bpf_map_lookup_elem(cnt_fd, &key, &cnt[key]);
	test_info("%s: kprobe %llu (ip set %llu), fork %llu (args %llu), MOAT runs %lld -> %lld",
		  isolated ? "isolated" : "MOAT off",
		  (unsigned long long)cnt[CNT_KPROBE],
		  (unsigned long long)cnt[CNT_KPROBE_IP],
		  (unsigned long long)cnt[CNT_FORK],
		  (unsigned long long)cnt[CNT_FORK_ARGS], runs0,
		  moat_file_value(MOAT_STATS, "runs"));
	if (cnt[CNT_KPROBE] != NR_CALLS || cnt[CNT_KPROBE_IP] != NR_CALLS)
		test_fail("kprobe counted %llu calls, %llu with ip, want %d",
			  (unsigned long long)cnt[CNT_KPROBE],
			  (unsigned long long)cnt[CNT_KPROBE_IP], NR_CALLS);
	else if (cnt[CNT_FORK] != NR_FORKS || cnt[CNT_FORK_ARGS] != NR_FORKS)
		test_fail("raw tracepoint counted %llu forks, %llu with args, want %d",
			  (unsigned long long)cnt[CNT_FORK],
			  (unsigned long long)cnt[CNT_FORK_ARGS], NR_FORKS);
	else if (isolated &&
		 moat_file_value(MOAT_STATS, "runs") < runs0 + NR_CALLS + NR_FORKS)
		test_fail("MOAT ran %lld isolated programs, want >= %d",
			  moat_file_value(MOAT_STATS, "runs") - runs0,
			  NR_CALLS + NR_FORKS);
out:
	if (noise > 0) {
		kill(noise, SIGKILL);
		waitpid(noise, NULL, 0);
	}
	for (i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
}

/*
 * Load types.bpf.o plain or isolated; run its XDP program @name once on
 * @pkt and put the output frame (metadata included) in @out: its size, or
 * -errno.
 */
static int xdp_run(const char *name, int isolated, const unsigned char *pkt,
		   size_t len, unsigned char *out, size_t outlen,
		   __u32 *retval)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	int ret;

	obj = bpf_object__open_file(smoke_obj_path("moat", "types"), NULL);
	if (libbpf_get_error(obj))
		return -ENOENT;
	bpf_object__for_each_program(p, obj) {
		if (bpf_program__type(p) != BPF_PROG_TYPE_XDP)
			bpf_program__set_autoload(p, false);
		else if (isolated)
			bpf_program__set_flags(p, BPF_F_MOAT);
	}
	if (isolated) {
		moat_object_maps(obj);
		moat_set_mode("1");
	}
	ret = bpf_object__load(obj);
	moat_set_mode("0");
	if (!ret) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
			    .data_size_in = len, .data_out = out,
			    .data_size_out = outlen, .repeat = 1);

		p = bpf_object__find_program_by_name(obj, name);
		if (fdinfo(bpf_program__fd(p), "moat_isolated") != isolated)
			ret = -EINVAL;
		else if (bpf_prog_test_run_opts(bpf_program__fd(p), &opts))
			ret = -errno;
		else
			ret = opts.data_size_out;
		*retval = opts.retval;
	}
	bpf_object__close(obj);
	return ret;
}

/*
 * Run XDP program @name once plain and once isolated on a 64-byte packet
 * of byte i = i * @step, into @plain and @iso (@outlen bytes each,
 * cleared to different values): sizes or -errno to @n, verdicts to @r.
 * False, with a SKIP reported, if the CPU has no PKS.
 */
static int xdp_run_both(const char *name, int step, unsigned char *pkt,
			unsigned char *plain, unsigned char *iso,
			size_t outlen, int n[2], __u32 r[2])
{
	int i;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return 0;
	}
	for (i = 0; i < 64; i++)
		pkt[i] = i * step;
	memset(plain, 0, outlen);
	memset(iso, 0xee, outlen);
	r[0] = r[1] = 0;
	n[0] = xdp_run(name, 0, pkt, 64, plain, outlen, &r[0]);
	n[1] = xdp_run(name, 1, pkt, 64, iso, outlen, &r[1]);
	return 1;
}

/* The isolated run of xdp_run_both() gave what the plain one gave. */
static void assert_xdp_same(const int n[2], const __u32 r[2],
			    const unsigned char *plain,
			    const unsigned char *iso)
{
	ASSERT_EQ(n[1], n[0], "isolated: output size");
	ASSERT_EQ(r[1], r[0], "isolated: verdict");
	ASSERT_EQ(memcmp(iso, plain, n[0] > 0 ? n[0] : 0), 0,
		  "isolated: output bytes");
}

/* Packet rewrite, adjust_head and metadata give the same frame isolated. */
static void test_xdp_writes_identical(void)
{
	unsigned char pkt[64], plain[256], iso[256];
	int n[2];
	__u32 r[2];

	if (!xdp_run_both("xdp_rewrite", 7, pkt, plain, iso, sizeof(plain),
			  n, r))
		return;
	test_info("plain: %d bytes, verdict %u; isolated: %d bytes, verdict %u",
		  n[0], r[0], n[1], r[1]);
	ASSERT_OK(n[0], "plain run");
	ASSERT_OK(n[1], "isolated run");
	ASSERT_EQ(n[0], 4 + sizeof(pkt) - 14, "plain: metadata + frame after adjust_head");
	ASSERT_EQ(r[0], 3 /* XDP_TX */, "plain verdict");
	ASSERT_EQ(plain[4 + 1], pkt[15] ^ 0xff, "plain: rewritten byte");
	assert_xdp_same(n, r, plain, iso);
}

/*
 * Direct packet accesses and helpers that see the packet, through the
 * context or by packet pointer, in sequence: each finds what the one
 * before wrote, isolated (the packet in a window) as plain.
 */
static void test_xdp_pkt_helpers_identical(void)
{
	unsigned char pkt[64], plain[128], iso[128];
	int n[2];
	__u32 r[2];

	if (!xdp_run_both("xdp_pkt_helpers", 13, pkt, plain, iso,
			  sizeof(plain), n, r))
		return;
	test_info("plain: %d bytes, verdict %u, bytes 20-24 %02x%02x%02x%02x %02x, sums %02x%02x%02x%02x %02x, value %02x%02x; isolated: %d bytes, verdict %u",
		  n[0], r[0], plain[20], plain[21], plain[22], plain[23],
		  plain[24], plain[28], plain[29], plain[30], plain[31],
		  plain[36], plain[40], plain[41], n[1], r[1]);
	ASSERT_EQ(n[0], (int)sizeof(pkt), "plain run");
	ASSERT_EQ(r[0], 3 /* XDP_TX */, "plain verdict");
	ASSERT_EQ(plain[21], 0x5b, "plain: load_bytes saw the direct write");
	ASSERT_EQ(plain[24], 0xa5 ^ 0x3c, "plain: store_bytes seen directly");
	ASSERT_EQ(plain[40], plain[24], "plain: map value from the packet");
	assert_xdp_same(n, r, plain, iso);
}

/*
 * types.bpf.o with only program @name loaded, plain or isolated (checked
 * in fdinfo); NULL with a FAIL reported.
 */
static struct bpf_object *load_one(const char *name, int isolated)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	int ret;

	obj = bpf_object__open_file(smoke_obj_path("moat", "types"), NULL);
	if (libbpf_get_error(obj)) {
		test_fail("opening types.bpf.o");
		return NULL;
	}
	bpf_object__for_each_program(p, obj) {
		if (strcmp(bpf_program__name(p), name))
			bpf_program__set_autoload(p, false);
		else if (isolated)
			bpf_program__set_flags(p, BPF_F_MOAT);
	}
	if (isolated) {
		moat_object_maps(obj);
		moat_set_mode("1");
	}
	ret = bpf_object__load(obj);
	moat_set_mode("0");
	p = bpf_object__find_program_by_name(obj, name);
	if (ret || fdinfo(bpf_program__fd(p), "moat_isolated") != isolated) {
		test_fail("loading %s (isolated %d): %s", name, isolated,
			  strerror(-ret));
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

static __u64 counter(struct bpf_object *obj, __u32 key)
{
	__u64 val = 0;

	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "counters"),
			    &key, &val);
	return val;
}

static void set_cfg(struct bpf_object *obj, __u32 key, __u64 val)
{
	bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "config"),
			    &key, &val, BPF_ANY);
}

#define CG_DIR		"/sys/fs/cgroup/moat_types"
#define PORT_COUNT	40001
#define PORT_DROP	40002
#define NR_DGRAMS	16

/* Send NR_DGRAMS to @port on loopback; how many arrived. */
static int udp_roundtrip(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_usec = 200000 };
	int rx = socket(AF_INET, SOCK_DGRAM, 0);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	int i, got = 0;
	char buf[32];

	if (rx < 0 || tx < 0 || bind(rx, (void *)&a, sizeof(a)))
		goto out;
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < NR_DGRAMS; i++)
		sendto(tx, "moat", 4, 0, (void *)&a, sizeof(a));
	while (recv(rx, buf, sizeof(buf), 0) > 0)
		got++;
out:
	if (rx >= 0)
		close(rx);
	if (tx >= 0)
		close(tx);
	return got;
}

/* Run @traffic with cgroup skb program @name of @obj on CG_DIR. */
static int with_cgroup_prog(struct bpf_object *obj, const char *name,
			    void (*traffic)(void *), void *arg)
{
	return cgroup_run_prog(bpf_object__find_program_by_name(obj, name),
			       CG_DIR, traffic, arg);
}

static void udp_traffic(void *delivered)
{
	((int *)delivered)[0] = udp_roundtrip(PORT_COUNT);
	((int *)delivered)[1] = udp_roundtrip(PORT_DROP);
}

/* Returns 0 and fills @seen/@dropped/@delivered, or -1 after a FAIL. */
static int run_cgroup(int isolated, __u64 *seen, __u64 *dropped,
		      int *delivered)
{
	struct bpf_object *obj = load_one("cg_egress", isolated);
	int ret;

	if (!obj)
		return -1;
	set_cfg(obj, 1, PORT_COUNT);
	set_cfg(obj, 2, PORT_DROP);
	ret = with_cgroup_prog(obj, "cg_egress", udp_traffic, delivered);
	*seen = counter(obj, 4);
	*dropped = counter(obj, 5);
	bpf_object__close(obj);
	return ret;
}

#define TXTIME_NS	0x123456789ULL

/* One datagram to PORT_COUNT whose skb->tstamp is TXTIME_NS (SO_TXTIME). */
static void txtime_traffic(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORT_COUNT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sock_txtime cfg = { .clockid = CLOCK_MONOTONIC };
	char ctl[CMSG_SPACE(sizeof(__u64))] = {};
	struct iovec iov = { .iov_base = "moat", .iov_len = 4 };
	struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof(a),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	__u64 t = TXTIME_NS;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_TXTIME;
	cm->cmsg_len = CMSG_LEN(sizeof(t));
	memcpy(CMSG_DATA(cm), &t, sizeof(t));
	*(int *)arg = fd >= 0 &&
		      !setsockopt(fd, SOL_SOCKET, SO_TXTIME, &cfg, sizeof(cfg)) &&
		      sendmsg(fd, &m, 0) == 4;
	if (fd >= 0)
		close(fd);
}

/*
 * skb->tstamp read into the context's register: the same isolated (the
 * isolated copy must hold the word although the conversion overwrites
 * that register on a branch the load does not take).
 */
static void test_cgroup_skb_tstamp_identical(void)
{
	__u64 seen[2];
	int sent[2] = {}, i;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("cg_tstamp", i);

		if (!obj)
			return;
		set_cfg(obj, 3, TXTIME_NS);
		if (with_cgroup_prog(obj, "cg_tstamp", txtime_traffic, &sent[i])) {
			bpf_object__close(obj);
			return;
		}
		seen[i] = counter(obj, 13);
		bpf_object__close(obj);
	}
	test_info("datagram with SCM_TXTIME 0x%llx: plain saw it %llu time(s), isolated %llu",
		  TXTIME_NS, (unsigned long long)seen[0],
		  (unsigned long long)seen[1]);
	ASSERT_TRUE(sent[0] && sent[1], "datagrams sent with SO_TXTIME");
	ASSERT_EQ(seen[0], 1, "plain program read the SCM_TXTIME timestamp");
	ASSERT_EQ(seen[1], 1, "isolated program read the SCM_TXTIME timestamp");
}

/* Direct packet reads, drops and the mark: the same isolated. */
static void test_cgroup_skb_identical(void)
{
	__u64 seen[2], dropped[2];
	int delivered[2][2], i;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++)
		if (run_cgroup(i, &seen[i], &dropped[i], delivered[i]))
			return;
	test_info("plain: seen %llu dropped %llu delivered %d/%d; isolated: seen %llu dropped %llu delivered %d/%d",
		  (unsigned long long)seen[0], (unsigned long long)dropped[0],
		  delivered[0][0], delivered[0][1],
		  (unsigned long long)seen[1], (unsigned long long)dropped[1],
		  delivered[1][0], delivered[1][1]);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(seen[i], NR_DGRAMS, i ? "isolated: counted" : "plain: counted");
		ASSERT_EQ(dropped[i], NR_DGRAMS, i ? "isolated: dropped" : "plain: dropped");
		ASSERT_EQ(delivered[i][0], NR_DGRAMS, i ? "isolated: delivered" : "plain: delivered");
		ASSERT_EQ(delivered[i][1], 0, i ? "isolated: delivered to the dropped port" : "plain: delivered to the dropped port");
	}
}

#define NR_OPENS	8

struct dev_result {
	int null_ok;		/* opens of /dev/null that succeeded */
	int zero_eperm;		/* opens of /dev/zero denied with EPERM */
};

static void dev_traffic(void *arg)
{
	struct dev_result *r = arg;
	int i, fd;

	for (i = 0; i < NR_OPENS; i++) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			r->null_ok++;
			close(fd);
		}
		fd = open("/dev/zero", O_RDONLY);
		if (fd < 0 && errno == EPERM)
			r->zero_eperm++;
		else if (fd >= 0)
			close(fd);
	}
}

/*
 * A cgroup device program that denies /dev/zero and counts the checks of
 * /dev/null: the same opens fail and succeed, and the same checks are
 * counted, isolated; each check is an isolated run.
 */
static void test_cgroup_device_identical(void)
{
	__u64 null[2], rw[2], denied[2];
	struct dev_result r[2] = {};
	long long runs = 0;
	int i, ret;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("cg_dev", i);

		if (!obj)
			return;
		if (i)
			runs = moat_file_value(MOAT_STATS, "runs");
		ret = with_cgroup_prog(obj, "cg_dev", dev_traffic, &r[i]);
		if (i)
			runs = moat_file_value(MOAT_STATS, "runs") - runs;
		null[i] = counter(obj, 9);
		denied[i] = counter(obj, 14);
		rw[i] = counter(obj, 15);
		bpf_object__close(obj);
		if (ret)
			return;
	}
	for (i = 0; i < 2; i++)
		test_info("%s: /dev/null opened %d/%d, /dev/zero denied %d/%d; checks of /dev/null %llu (read-write %llu), denials %llu",
			  i ? "isolated" : "plain", r[i].null_ok, NR_OPENS,
			  r[i].zero_eperm, NR_OPENS,
			  (unsigned long long)null[i],
			  (unsigned long long)rw[i],
			  (unsigned long long)denied[i]);
	test_info("isolated runs: %lld", runs);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(r[i].null_ok, NR_OPENS, i ? "isolated: /dev/null opened" : "plain: /dev/null opened");
		ASSERT_EQ(r[i].zero_eperm, NR_OPENS, i ? "isolated: /dev/zero denied" : "plain: /dev/zero denied");
		ASSERT_EQ(null[i], NR_OPENS, i ? "isolated: /dev/null checks" : "plain: /dev/null checks");
		ASSERT_EQ(rw[i], NR_OPENS, i ? "isolated: read-write checks" : "plain: read-write checks");
		ASSERT_EQ(denied[i], NR_OPENS, i ? "isolated: denials" : "plain: denials");
	}
	ASSERT_GE(runs, 2 * NR_OPENS, "isolated runs counted");
}

#define SA_VIP		0x0a4d0001	/* 10.77.0.1 */
#define SA_VPORT	40021
#define SA_PORT		40022
#define SA_DENY_PORT	40023
#define SA_ALLOW_PORT	40024
#define NR_CONNECTS	4

/*
 * NR_CONNECTS TCP connections to SA_VIP:SA_VPORT, which only exists if
 * sa_connect4 sends them to 127.0.0.1:SA_PORT, each carrying 4 bytes:
 * *@arg = connections that got through.
 */
static void sa_connect_traffic(void *arg)
{
	struct sockaddr_in l = { .sin_family = AF_INET,
				 .sin_port = htons(SA_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in v = { .sin_family = AF_INET,
				 .sin_port = htons(SA_VPORT),
				 .sin_addr.s_addr = htonl(SA_VIP) };
	struct timeval tv = { .tv_sec = 2 };
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, i;
	int *ok = arg;
	char buf[8];

	*ok = 0;
	if (lfd < 0)
		return;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(lfd, (void *)&l, sizeof(l)) || listen(lfd, NR_CONNECTS)) {
		close(lfd);
		return;
	}
	for (i = 0; i < NR_CONNECTS; i++) {
		int cfd = socket(AF_INET, SOCK_STREAM, 0), afd = -1;

		setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (cfd >= 0 && !connect(cfd, (void *)&v, sizeof(v)) &&
		    send(cfd, "moat", 4, 0) == 4 &&
		    (afd = accept(lfd, NULL, NULL)) >= 0) {
			setsockopt(afd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (recv(afd, buf, sizeof(buf), 0) == 4 &&
			    !memcmp(buf, "moat", 4))
				(*ok)++;
		}
		if (afd >= 0)
			close(afd);
		if (cfd >= 0)
			close(cfd);
	}
	close(lfd);
}

/* Bind to SA_DENY_PORT (*@arg[0] = errno) and SA_ALLOW_PORT ([1]). */
static void sa_bind_traffic(void *arg)
{
	int *err = arg, port[2] = { SA_DENY_PORT, SA_ALLOW_PORT }, i;

	for (i = 0; i < 2; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons(port[i]),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		err[i] = fd < 0 || bind(fd, (void *)&a, sizeof(a)) ? errno : 0;
		if (fd >= 0)
			close(fd);
	}
}

/*
 * cgroup sock_addr: a connect4 program that rewrites the destination of
 * connections to a virtual address (reading the address, port, the
 * socket's family, type and protocol, and the socket through ctx->sk),
 * and a bind4 program that refuses a port: the same connections get
 * through and the same bind fails isolated.
 */
static void test_cgroup_sock_addr_identical(void)
{
	__u64 rewrites[2], fields[2], denied[2];
	int ok[2] = {}, err[2][2] = {}, i;
	long long runs = 0;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *c = load_one("sa_connect4", i);
		struct bpf_object *b = c ? load_one("sa_bind4", i) : NULL;
		int ret;

		if (!b) {
			if (c)
				bpf_object__close(c);
			return;
		}
		if (i)
			runs = moat_file_value(MOAT_STATS, "runs");
		ret = with_cgroup_prog(c, "sa_connect4", sa_connect_traffic,
				       &ok[i]) ||
		      with_cgroup_prog(b, "sa_bind4", sa_bind_traffic, err[i]);
		if (i)
			runs = moat_file_value(MOAT_STATS, "runs") - runs;
		rewrites[i] = counter(c, 16);
		fields[i] = counter(c, 17);
		denied[i] = counter(b, 18);
		bpf_object__close(c);
		bpf_object__close(b);
		if (ret)
			return;
	}
	for (i = 0; i < 2; i++)
		test_info("%s: connections through the rewrite %d/%d (rewrites %llu, fields right %llu); bind to %d: %s (denials %llu), to %d: %s",
			  i ? "isolated" : "plain", ok[i], NR_CONNECTS,
			  (unsigned long long)rewrites[i],
			  (unsigned long long)fields[i], SA_DENY_PORT,
			  err[i][0] ? strerror(err[i][0]) : "allowed",
			  (unsigned long long)denied[i], SA_ALLOW_PORT,
			  err[i][1] ? strerror(err[i][1]) : "allowed");
	test_info("isolated runs: %lld", runs);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(ok[i], NR_CONNECTS, i ? "isolated: connections rewritten" : "plain: connections rewritten");
		ASSERT_EQ(rewrites[i], NR_CONNECTS, i ? "isolated: rewrites counted" : "plain: rewrites counted");
		ASSERT_EQ(fields[i], NR_CONNECTS, i ? "isolated: socket fields" : "plain: socket fields");
		ASSERT_EQ(err[i][0], EPERM, i ? "isolated: bind refused" : "plain: bind refused");
		ASSERT_EQ(err[i][1], 0, i ? "isolated: other bind allowed" : "plain: other bind allowed");
		ASSERT_EQ(denied[i], 1, i ? "isolated: denial counted" : "plain: denial counted");
	}
	ASSERT_GE(runs, NR_CONNECTS + 2, "isolated runs counted");
}

#define NR_SOCKS	4

struct sock_result {
	int marked;		/* UDP sockets created with the mark and priority */
	int v6_eperm;		/* IPv6 UDP sockets refused with EPERM */
};

static void sock_traffic(void *arg)
{
	struct sock_result *r = arg;
	int i, fd, mark, prio;
	socklen_t len;

	for (i = 0; i < NR_SOCKS; i++) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		mark = prio = -1;
		len = sizeof(mark);
		if (fd >= 0 &&
		    !getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len) &&
		    !getsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, &len) &&
		    mark == 0x4d4f && prio == 3)
			r->marked++;
		if (fd >= 0)
			close(fd);
		fd = socket(AF_INET6, SOCK_DGRAM, 0);
		if (fd < 0 && errno == EPERM)
			r->v6_eperm++;
		else if (fd >= 0)
			close(fd);
	}
}

/*
 * A cgroup sock_create program that sets the mark and priority of new
 * sockets and refuses IPv6 datagram sockets: the same sockets, with the
 * same mark and priority, and the same refusals isolated.
 */
static void test_cgroup_sock_identical(void)
{
	struct sock_result r[2] = {};
	__u64 marked[2], denied[2];
	long long runs = 0;
	int i, ret;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("sock_create", i);

		if (!obj)
			return;
		if (i)
			runs = moat_file_value(MOAT_STATS, "runs");
		ret = with_cgroup_prog(obj, "sock_create", sock_traffic, &r[i]);
		if (i)
			runs = moat_file_value(MOAT_STATS, "runs") - runs;
		marked[i] = counter(obj, 19);
		denied[i] = counter(obj, 20);
		bpf_object__close(obj);
		if (ret)
			return;
	}
	for (i = 0; i < 2; i++)
		test_info("%s: UDP sockets with mark 0x4d4f and priority 3 %d/%d (counted %llu), IPv6 UDP sockets refused %d/%d (counted %llu)",
			  i ? "isolated" : "plain", r[i].marked, NR_SOCKS,
			  (unsigned long long)marked[i], r[i].v6_eperm,
			  NR_SOCKS, (unsigned long long)denied[i]);
	test_info("isolated runs: %lld", runs);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(r[i].marked, NR_SOCKS, i ? "isolated: mark and priority set" : "plain: mark and priority set");
		ASSERT_EQ(marked[i], NR_SOCKS, i ? "isolated: UDP sockets counted" : "plain: UDP sockets counted");
		ASSERT_EQ(r[i].v6_eperm, NR_SOCKS, i ? "isolated: IPv6 UDP refused" : "plain: IPv6 UDP refused");
		ASSERT_EQ(denied[i], NR_SOCKS, i ? "isolated: refusals counted" : "plain: refusals counted");
	}
	ASSERT_GE(runs, 2 * NR_SOCKS, "isolated runs counted");
}

#define PORT_TCP	40003
#define TCP_BYTES	4096

/*
 * One TCP connection on loopback from a socket with mark 0x4d4f and
 * priority 5, TCP_BYTES sent through it: *@arg = bytes received, or -1.
 */
static void tcp_traffic(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(PORT_TCP),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 3 };
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int cfd = socket(AF_INET, SOCK_STREAM, 0);
	int mark = 0x4d4f, prio = 5, one = 1, afd = -1, n;
	static char buf[TCP_BYTES];
	int *got = arg;

	*got = -1;
	if (lfd < 0 || cfd < 0)
		goto out;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (setsockopt(cfd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ||
	    setsockopt(cfd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)) ||
	    bind(lfd, (void *)&a, sizeof(a)) || listen(lfd, 1) ||
	    connect(cfd, (void *)&a, sizeof(a)))
		goto out;
	afd = accept(lfd, NULL, NULL);
	if (afd < 0 || send(cfd, buf, sizeof(buf), 0) != sizeof(buf))
		goto out;
	setsockopt(afd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*got = 0;
	while (*got < TCP_BYTES &&
	       (n = recv(afd, buf, sizeof(buf), 0)) > 0)
		*got += n;
out:
	if (afd >= 0)
		close(afd);
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
}

/*
 * A cgroup skb program reading its socket through bpf_sk_fullsock() and
 * bpf_tcp_sock(): the same fields, and the connection works, isolated.
 */
static void test_cgroup_skb_socket_fields(void)
{
	__u64 seen[2], fields[2], tcp[2];
	int got[2], i;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("cg_sock", i);

		if (!obj)
			return;
		if (with_cgroup_prog(obj, "cg_sock", tcp_traffic, &got[i])) {
			bpf_object__close(obj);
			return;
		}
		seen[i] = counter(obj, 10);
		fields[i] = counter(obj, 11);
		tcp[i] = counter(obj, 12);
		bpf_object__close(obj);
	}
	test_info("plain: %d bytes, %llu packets, %llu/%llu with socket/TCP fields; isolated: %d bytes, %llu packets, %llu/%llu",
		  got[0], (unsigned long long)seen[0],
		  (unsigned long long)fields[0], (unsigned long long)tcp[0],
		  got[1], (unsigned long long)seen[1],
		  (unsigned long long)fields[1], (unsigned long long)tcp[1]);
	for (i = 0; i < 2; i++) {
		const char *who = i ? "isolated" : "plain";
		char what[64];

		snprintf(what, sizeof(what), "%s: bytes through TCP", who);
		ASSERT_EQ(got[i], TCP_BYTES, what);
		snprintf(what, sizeof(what), "%s: packets seen", who);
		ASSERT_GE(seen[i], 2, what);
		snprintf(what, sizeof(what), "%s: mark, type, protocol, priority, family", who);
		ASSERT_EQ(fields[i], seen[i], what);
		snprintf(what, sizeof(what), "%s: mss_cache and snd_cwnd", who);
		ASSERT_EQ(tcp[i], seen[i], what);
	}
}

/* Samples of a software cpu-clock event: period and ip readable. */
static void run_perf(int isolated, __u64 *samples, __u64 *good)
{
	struct bpf_object *obj = load_one("pe_sample", isolated);
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.sample_period = 1000000,	/* 1 ms of CPU time */
	};
	struct bpf_link *link;
	volatile unsigned long spin = 0;
	double t0;
	int pfd;

	*samples = *good = 0;
	if (!obj)
		return;
	pfd = syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
	if (pfd < 0) {
		test_fail("perf_event_open(cpu-clock): %s", strerror(errno));
		bpf_object__close(obj);
		return;
	}
	link = bpf_program__attach_perf_event(
		bpf_object__find_program_by_name(obj, "pe_sample"), pfd);
	if (libbpf_get_error(link)) {
		test_fail("attaching pe_sample: %s", strerror(errno));
	} else {
		struct timespec ts;

		/*
		 * Spin until 20 samples came or 10 s passed: how much CPU
		 * time the guest gets in a given time depends on the host.
		 */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = ts.tv_sec + ts.tv_nsec / 1e9;
		do {
			if (!(++spin % 4096) && counter(obj, 6) >= 20)
				break;
			clock_gettime(CLOCK_MONOTONIC, &ts);
		} while (ts.tv_sec + ts.tv_nsec / 1e9 < t0 + 10);
		bpf_link__destroy(link);
		*samples = counter(obj, 6);
		*good = counter(obj, 7);
	}
	close(pfd);
	bpf_object__close(obj);
}

static void test_perf_event_identical(void)
{
	__u64 samples[2], good[2];

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	run_perf(0, &samples[0], &good[0]);
	run_perf(1, &samples[1], &good[1]);
	test_info("samples with period and ip: plain %llu/%llu, isolated %llu/%llu",
		  (unsigned long long)good[0], (unsigned long long)samples[0],
		  (unsigned long long)good[1], (unsigned long long)samples[1]);
	ASSERT_GE(samples[0], 10, "plain: samples in 10 s");
	ASSERT_EQ(good[0], samples[0], "plain: samples with period and ip");
	ASSERT_GE(samples[1], 10, "isolated: samples in 10 s");
	ASSERT_EQ(good[1], samples[1], "isolated: samples with period and ip");
}

/* Run socket filter @name of @obj once on a 64-byte packet: its verdict. */
static long long run_sf(struct bpf_object *obj, const char *name)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(
			bpf_object__find_program_by_name(obj, name)), &opts))
		return -errno;
	return opts.retval;
}

/*
 * Load program @name of types.bpf.o with BPF_F_MOAT and check that MOAT
 * refused it, naming @reason in the verifier log.
 */
static void check_isolation_refused(const char *name, const char *reason)
{
	char log[8192] = "";
	struct bpf_object *obj;
	struct bpf_program *p;
	int ret;

	obj = bpf_object__open_file(smoke_obj_path("moat", "types"), NULL);
	ASSERT_OK(libbpf_get_error(obj), "opening types.bpf.o");
	bpf_object__for_each_program(p, obj) {
		if (strcmp(bpf_program__name(p), name)) {
			bpf_program__set_autoload(p, false);
			continue;
		}
		bpf_program__set_flags(p, BPF_F_MOAT);
		bpf_program__set_log_buf(p, log, sizeof(log));
		bpf_program__set_log_level(p, 1);
	}
	moat_object_maps(obj);
	moat_set_mode("1");
	ret = bpf_object__load(obj);
	moat_set_mode("0");
	bpf_object__close(obj);
	ASSERT_EQ(ret, -EOPNOTSUPP, name);
	ASSERT_TRUE(strstr(log, "MOAT: isolation required") &&
		    strstr(log, reason), "verifier log names the reason");
}

/*
 * Subprogram calls compute the same plain; isolated they are refused:
 * their return addresses would be on the writable BPF stack.
 */
static void test_bpf2bpf_calls_refused(void)
{
	struct bpf_object *plain;
	long long r_plain;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	plain = load_one("sf_subprog", 0);
	if (!plain)
		return;
	r_plain = run_sf(plain, "sf_subprog");
	bpf_object__close(plain);
	/* skb->len is 64 - 14: test runs pull the Ethernet header. */
	ASSERT_EQ(r_plain, (4 * (64 - 14) + 6) * 7, "plain: result");
	check_isolation_refused("sf_subprog", "bpf-to-bpf calls");
}

/*
 * Sockets that helpers return other than the packet's own are kernel
 * memory: programs that get them load plain and are refused isolated,
 * naming the helper.
 */
static void test_socket_lookups_refused(void)
{
	static const char *const progs[][2] = {
		{ "cg_sk_lookup", "bpf_sk_lookup_tcp()" },
		{ "cg_listener", "bpf_get_listener_sock()" },
	};
	struct bpf_object *plain;
	int i;

	for (i = 0; i < 2; i++) {
		plain = load_one(progs[i][0], 0);
		if (!plain)
			return;
		bpf_object__close(plain);
	}
	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++)
		check_isolation_refused(progs[i][0], progs[i][1]);
}

/* Hash and LRU hash lookups, in-place updates and inserts, isolated. */
static void test_hash_maps_identical(void)
{
	__u64 h[2] = {}, l[2] = {};
	__u32 key = 50;	/* skb->len of a test run */
	int i, k;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("sf_hash", i);

		if (!obj)
			return;
		for (k = 0; k < 3; k++)
			run_sf(obj, "sf_hash");
		bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "hmap"),
				    &key, &h[i]);
		bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "lmap"),
				    &key, &l[i]);
		bpf_object__close(obj);
	}
	test_info("hash %llu/%llu, LRU hash %llu/%llu (plain/isolated)",
		  (unsigned long long)h[0], (unsigned long long)h[1],
		  (unsigned long long)l[0], (unsigned long long)l[1]);
	ASSERT_EQ(h[0], 3, "plain: hash value after 3 runs");
	ASSERT_EQ(l[0], 30, "plain: LRU hash value after 3 runs");
	ASSERT_EQ(h[1], h[0], "isolated: hash value");
	ASSERT_EQ(l[1], l[0], "isolated: LRU hash value");
}

/* Sum over possible CPUs of per-CPU map @name's value at @key, or 0. */
static __u64 percpu_sum(struct bpf_object *obj, const char *name, __u32 key)
{
	int k, ncpus = libbpf_num_possible_cpus();
	__u64 vals[ncpus > 0 ? ncpus : 1], sum = 0;

	memset(vals, 0, sizeof(vals));
	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, name), &key,
			    vals);
	for (k = 0; k < ncpus; k++)
		sum += vals[k];
	return sum;
}

/* Per-CPU array: this CPU's value from the program, all from user space. */
static void test_percpu_array_identical(void)
{
	long long last[2] = {};
	__u64 sum[2] = {};
	int i, k;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	ASSERT_GE(libbpf_num_possible_cpus(), 1, "possible CPUs");
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("sf_percpu", i);

		if (!obj)
			return;
		for (k = 0; k < 4; k++)
			last[i] = run_sf(obj, "sf_percpu");
		sum[i] = percpu_sum(obj, "pcpu", 2);
		bpf_object__close(obj);
	}
	test_info("plain: last %lld sum %llu; isolated: last %lld sum %llu",
		  last[0], (unsigned long long)sum[0], last[1],
		  (unsigned long long)sum[1]);
	ASSERT_EQ(sum[0], 4 * 50, "plain: sum over CPUs after 4 runs");
	ASSERT_EQ(sum[1], sum[0], "isolated: sum over CPUs");
	ASSERT_GE(last[1], 50, "isolated: value seen by the program");
}

/* Per-CPU hash: inserts and updates, summed over CPUs from user space. */
static void test_percpu_hash_identical(void)
{
	__u64 sum[2] = {};
	int i, k;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	ASSERT_GE(libbpf_num_possible_cpus(), 1, "possible CPUs");
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("sf_percpu_hash", i);

		if (!obj)
			return;
		for (k = 0; k < 3; k++)
			run_sf(obj, "sf_percpu_hash");
		sum[i] = percpu_sum(obj, "pcpu_hash", 7);
		bpf_object__close(obj);
	}
	test_info("sum over CPUs: plain %llu, isolated %llu",
		  (unsigned long long)sum[0], (unsigned long long)sum[1]);
	ASSERT_EQ(sum[0], 3 * 50, "plain: sum after 3 runs");
	ASSERT_EQ(sum[1], sum[0], "isolated: sum after 3 runs");
}

/*
 * Hash and per-CPU hash maps allocated on demand (BPF_F_NO_PREALLOC):
 * lookups, in-place updates, inserts and deletes, isolated and not.
 */
static void test_nopre_hash_maps_identical(void)
{
	__u64 h[2] = {}, sum[2] = {};
	__u32 key = 50, gone = 1000;	/* skb->len of a test run */
	int i, k, left[2] = { -1, -1 };

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("sf_hash_nopre", i);
		int fd;
		__u64 v;

		if (!obj)
			return;
		for (k = 0; k < 5; k++)
			run_sf(obj, "sf_hash_nopre");
		fd = bpf_object__find_map_fd_by_name(obj, "nhmap");
		bpf_map_lookup_elem(fd, &key, &h[i]);
		left[i] = bpf_map_lookup_elem(fd, &gone, &v) ? -errno : 0;
		sum[i] = percpu_sum(obj, "nphmap", 7);
		bpf_object__close(obj);
	}
	test_info("hash %llu/%llu, per-CPU hash sum %llu/%llu (plain/isolated)",
		  (unsigned long long)h[0], (unsigned long long)h[1],
		  (unsigned long long)sum[0], (unsigned long long)sum[1]);
	ASSERT_EQ(h[0], 5, "plain: hash value after 5 runs");
	ASSERT_EQ(sum[0], 5 * 50, "plain: per-CPU hash sum after 5 runs");
	ASSERT_EQ(left[0], -ENOENT, "plain: deleted element gone");
	ASSERT_EQ(h[1], h[0], "isolated: hash value");
	ASSERT_EQ(sum[1], sum[0], "isolated: per-CPU hash sum");
	ASSERT_EQ(left[1], -ENOENT, "isolated: deleted element gone");
}

/* LPM trie lookups and value updates, inserts and deletes, isolated. */
static void test_lpm_trie_identical(void)
{
	struct { __u32 prefixlen, addr; } net = { 8, 50 };
	long long last[2] = { -1, -1 };
	__u64 val[2] = {}, init = 100;
	int i, k;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("sf_lpm", i);
		int fd;

		if (!obj)
			return;
		fd = bpf_object__find_map_fd_by_name(obj, "lpm");
		ASSERT_OK(bpf_map_update_elem(fd, &net, &init, BPF_ANY),
			  "inserting the /8 entry");
		for (k = 0; k < 3; k++)
			last[i] = run_sf(obj, "sf_lpm");
		bpf_map_lookup_elem(fd, &net, &val[i]);
		bpf_object__close(obj);
	}
	test_info("last verdict %lld/%lld, /8 value %llu/%llu (plain/isolated)",
		  last[0], last[1], (unsigned long long)val[0],
		  (unsigned long long)val[1]);
	ASSERT_EQ(last[0], 103, "plain: value the third run found");
	ASSERT_EQ(val[0], 103, "plain: /8 value after 3 runs");
	ASSERT_EQ(last[1], last[0], "isolated: value the third run found");
	ASSERT_EQ(val[1], val[0], "isolated: /8 value");
}

/* An isolated program run from a helper of another isolated program. */
static void test_nested_isolated_runs(void)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_link *link;
	long long runs0, viol0;
	int k, ret;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	obj = bpf_object__open_file(smoke_obj_path("moat", "types"), NULL);
	ASSERT_OK(libbpf_get_error(obj), "opening types.bpf.o");
	bpf_object__for_each_program(p, obj) {
		if (strcmp(bpf_program__name(p), "kp_rnd") &&
		    strcmp(bpf_program__name(p), "sf_rnd"))
			bpf_program__set_autoload(p, false);
		else
			bpf_program__set_flags(p, BPF_F_MOAT);
	}
	moat_object_maps(obj);
	moat_set_mode("1");
	ret = bpf_object__load(obj);
	moat_set_mode("0");
	if (ret) {
		bpf_object__close(obj);
		ASSERT_OK(ret, "loading kp_rnd and sf_rnd isolated");
	}
	link = bpf_program__attach(bpf_object__find_program_by_name(obj,
								    "kp_rnd"));
	if (libbpf_get_error(link)) {
		bpf_object__close(obj);
		test_fail("attaching kp_rnd: %s", strerror(errno));
		return;
	}
	runs0 = moat_file_value(MOAT_STATS, "runs");
	viol0 = moat_file_value(MOAT_STATS, "violations");
	for (k = 0; k < 5; k++)
		run_sf(obj, "sf_rnd");
	test_info("kprobe ran %llu times in 5 runs of sf_rnd; MOAT runs +%lld",
		  (unsigned long long)counter(obj, 8),
		  moat_file_value(MOAT_STATS, "runs") - runs0);
	ASSERT_EQ(counter(obj, 8), 10, "kprobe runs inside the helper calls");
	ASSERT_GE(moat_file_value(MOAT_STATS, "runs") - runs0, 15,
		  "isolated runs (5 outer, 10 nested)");
	ASSERT_EQ(moat_file_value(MOAT_STATS, "violations"), viol0,
		  "violations");
	bpf_link__destroy(link);
	bpf_object__close(obj);
}

static int rb_record(void *ctx, void *data, size_t len)
{
	if (len == sizeof(__u64))
		*(__u64 *)ctx = *(__u64 *)data;
	return 0;
}

/* Queue pushes and ring buffer output from an isolated program. */
static void test_copying_maps_isolated(void)
{
	struct bpf_object *obj;
	struct ring_buffer *rb;
	__u64 queued = 0, record = 0, want = 0x4d4f4154 + 50;
	long long ret;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	obj = load_one("sf_copy_maps", 1);
	if (!obj)
		return;
	ret = run_sf(obj, "sf_copy_maps");
	bpf_map_lookup_and_delete_elem(
		bpf_object__find_map_fd_by_name(obj, "queue"), NULL, &queued);
	rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "ringbuf"),
			      rb_record, &record, NULL);
	if (rb) {
		ring_buffer__consume(rb);
		ring_buffer__free(rb);
	}
	bpf_object__close(obj);
	ASSERT_EQ(ret, 0, "verdict (0: both helpers succeeded)");
	ASSERT_EQ(queued, want, "value popped from the queue");
	ASSERT_EQ(record, want, "ring buffer record");
}

/* Local dynptrs give the same result plain and isolated. */
static void test_dynptr_identical(void)
{
	struct bpf_object *obj;
	long long ret[2];
	int iso;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (iso = 0; iso < 2; iso++) {
		obj = load_one("sf_dynptr", iso);
		if (!obj)
			return;
		ret[iso] = run_sf(obj, "sf_dynptr");
		bpf_object__close(obj);
	}
	/* skb->len of a 64-byte test packet: 50, past its Ethernet header. */
	ASSERT_EQ(ret[0], 50 + 1000, "verdict plain (skb->len + 1000)");
	ASSERT_EQ(ret[1], ret[0], "verdict isolated");
}

/* run_sf() with a packet of @len bytes. */
static long long run_sf_len(struct bpf_object *obj, const char *name,
			    unsigned int len)
{
	unsigned char pkt[64] = { [12] = 0x08, [20] = 0x31, [27] = 0x72 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(
			bpf_object__find_program_by_name(obj, name)), &opts))
		return -errno;
	return opts.retval;
}

#define JIT_HARDEN "/proc/sys/net/core/bpf_jit_harden"

/*
 * Scalar arguments checked against the verifier's bounds: a call reached
 * with different values on different paths runs isolated as plain, on
 * each path (packets of 64 and 48 bytes take the two lengths), also with
 * constant blinding, which rewrites the program the JIT sees; the
 * program's fdinfo counts its calls and the compares put before them.
 */
static void test_scalar_bounds_identical(void)
{
	static const unsigned int lens[] = { 64, 48 };
	long long ret[3][2], calls = -1, checks = -1;
	struct bpf_object *obj;
	int iso, k, fd;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (iso = 0; iso < 3; iso++) {
		/* Third: isolated, with every constant blinded. */
		if (iso == 2 && moat_write_file(JIT_HARDEN, "2")) {
			test_fail("writing " JIT_HARDEN);
			return;
		}
		obj = load_one("sf_dpa_union", !!iso);
		if (iso == 2)
			moat_write_file(JIT_HARDEN, "0");
		if (!obj)
			return;
		for (k = 0; k < 2; k++)
			ret[iso][k] = run_sf_len(obj, "sf_dpa_union", lens[k]);
		fd = bpf_program__fd(bpf_object__find_program_by_name(obj,
							"sf_dpa_union"));
		if (iso == 1) {
			calls = fdinfo(fd, "moat_calls");
			checks = fdinfo(fd, "moat_scalar_checks");
		}
		bpf_object__close(obj);
	}
	test_info("verdicts plain %lld %lld, isolated %lld %lld, blinded %lld %lld; isolated: %lld calls, %lld scalar checks",
		  ret[0][0], ret[0][1], ret[1][0], ret[1][1], ret[2][0],
		  ret[2][1], calls, checks);
	ASSERT_EQ(ret[0][0] % 10, 8, "64-byte packet: length 8 (plain)");
	ASSERT_EQ(ret[0][1] % 10, 4, "48-byte packet: length 4 (plain)");
	ASSERT_EQ(ret[1][0], ret[0][0], "64-byte packet: verdict isolated");
	ASSERT_EQ(ret[1][1], ret[0][1], "48-byte packet: verdict isolated");
	ASSERT_EQ(ret[2][0], ret[0][0], "64-byte packet: isolated, blinded");
	ASSERT_EQ(ret[2][1], ret[0][1], "48-byte packet: isolated, blinded");
	ASSERT_TRUE(calls >= 1, "fdinfo moat_calls");
	/* Each call: its offset and its length (4 or 8), at least. */
	ASSERT_TRUE(checks >= 2 * calls, "fdinfo moat_scalar_checks");
}

/*
 * Map calls whose call sites see two maps go through the generic helpers,
 * which call the map's operations through map->ops, critical objects that
 * helpers of isolated programs cannot read for the program: MOAT opens
 * them for such a use (critical_opened), and the program runs as plain.
 */
static void test_generic_map_helper_isolated(void)
{
	static const unsigned int lens[] = { 64, 48 };
	long long ret[2][2], d0, d1, v = -1;
	struct bpf_object *obj;
	int iso, k;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	d0 = moat_file_value(MOAT_STATS, "critical_opened");
	for (iso = 0; iso < 2; iso++) {
		obj = load_one("sf_two_maps", iso);
		if (!obj)
			return;
		for (k = 0; k < 2; k++)
			ret[iso][k] = run_sf_len(obj, "sf_two_maps", lens[k]);
		if (iso)
			v = fdinfo(bpf_program__fd(bpf_object__find_program_by_name(
					obj, "sf_two_maps")), "moat_violations");
		bpf_object__close(obj);
	}
	d1 = moat_file_value(MOAT_STATS, "critical_opened");
	test_info("verdicts plain %lld %lld, isolated %lld %lld; critical_opened %lld -> %lld",
		  ret[0][0], ret[0][1], ret[1][0], ret[1][1], d0, d1);
	ASSERT_EQ(ret[0][0], 1050, "64-byte packet (skb->len 50): update, lookup, delete of ops_a (plain)");
	ASSERT_EQ(ret[0][1], 1134, "48-byte packet (skb->len 34): update, lookup, delete of ops_b (plain)");
	ASSERT_EQ(ret[1][0], ret[0][0], "64-byte packet: isolated");
	ASSERT_EQ(ret[1][1], ret[0][1], "48-byte packet: isolated");
	ASSERT_EQ(v, 0, "moat_violations");
	/* Each of the four calls of both runs, if the compiler kept them. */
	ASSERT_TRUE(d1 - d0 >= 2, "map->ops opened for the generic helpers");
}

/*
 * The same generic map helpers, called by a program that is not isolated
 * and runs nested in the helper of an isolated one (bpf_trace_printk()'s
 * tracepoint), where the critical objects are closed: it works as it
 * does on its own, and the outer program is not ended.
 */
static void test_generic_map_helper_nested(void)
{
	long long r[2] = { -1, -1 }, v[2] = { -1, -1 }, d0, d1 = 0;
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_link *link;
	int iso, ret;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	d0 = moat_file_value(MOAT_STATS, "critical_opened");
	for (iso = 0; iso < 2; iso++) {
		obj = bpf_object__open_file(smoke_obj_path("moat", "types"),
					    NULL);
		ASSERT_OK(libbpf_get_error(obj), "opening types.bpf.o");
		bpf_object__for_each_program(p, obj) {
			if (!strcmp(bpf_program__name(p), "sf_printk")) {
				if (iso)
					bpf_program__set_flags(p, BPF_F_MOAT);
			} else if (strcmp(bpf_program__name(p), "tp_two_maps")) {
				bpf_program__set_autoload(p, false);
			}
		}
		if (iso)
			moat_object_maps(obj);
		moat_set_mode("1");
		ret = bpf_object__load(obj);
		moat_set_mode("0");
		if (ret) {
			bpf_object__close(obj);
			ASSERT_OK(ret, "loading sf_printk and tp_two_maps");
		}
		link = bpf_program__attach(bpf_object__find_program_by_name(
						obj, "tp_two_maps"));
		if (libbpf_get_error(link)) {
			bpf_object__close(obj);
			test_fail("attaching tp_two_maps: %s", strerror(errno));
			return;
		}
		r[iso] = run_sf(obj, "sf_printk");
		v[iso] = counter(obj, 9);
		if (iso)
			d1 = moat_file_value(MOAT_STATS, "critical_opened");
		bpf_link__destroy(link);
		ret = fdinfo(bpf_program__fd(bpf_object__find_program_by_name(
					obj, "sf_printk")), "moat_isolated");
		bpf_object__close(obj);
		ASSERT_EQ(ret, iso, "sf_printk isolated");
	}
	test_info("sf_printk plain: %lld, nested result %lld; isolated: %lld, nested result %lld; critical_opened %lld -> %lld",
		  r[0], v[0], r[1], v[1], d0, d1);
	ASSERT_EQ(r[0], 7, "verdict of sf_printk (plain)");
	ASSERT_EQ(v[0], 1005, "update, lookup, delete nested (plain)");
	ASSERT_EQ(r[1], 7, "verdict of sf_printk (isolated, not ended)");
	ASSERT_EQ(v[1], 1005, "update, lookup, delete nested in the isolated program's helper");
	ASSERT_TRUE(d1 > d0, "map->ops opened for the nested program");
}

#define INSN(c, d, s_, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), \
			    .off = (o), .imm = (i) })

/*
 * Load socket filter @insns (@n instructions) with @flags, isolated when
 * @iso: its fd, or -1 after a FAIL.
 */
static int load_insns(const struct bpf_insn *insns, size_t n, __u32 flags,
		      int iso)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .prog_flags = flags | (iso ? BPF_F_MOAT : 0));
	int fd;

	if (iso)
		moat_set_mode("1");
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "raw", "GPL", insns, n,
			   &opts);
	moat_set_mode("0");
	if (fd < 0 || fdinfo(fd, "moat_isolated") != iso) {
		test_fail("loading the program (isolated %d): %s", iso,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Two paths spill different constants to the stack, which is read back
 * through a copy of r10 and passed as bpf_skb_load_bytes()'s offset.  The
 * verifier's precision tracking does not follow a stack read through a
 * copy of r10: without care it would prune the second path against the
 * first and note only the first offset, and the check would end a correct
 * program.  Each packet length takes one path; the verdicts must match.
 */
static void test_scalar_bounds_stack_copy(void)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),	/* r6 = ctx */
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 7, 10, 0, 0),	/* r7 = r10 */
		INSN(BPF_LDX | BPF_W | BPF_MEM, 2, 6, 0, 0),	/* r2 = len */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 1),
		INSN(BPF_JMP | BPF_JGT | BPF_K, 2, 0, 2, 40),
		INSN(BPF_STX | BPF_DW | BPF_MEM, 10, 3, -8, 0),	/* fp-8 = 1 */
		INSN(BPF_JMP | BPF_JA, 0, 0, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 2),
		INSN(BPF_STX | BPF_DW | BPF_MEM, 10, 3, -8, 0),	/* fp-8 = 2 */
		INSN(BPF_LDX | BPF_DW | BPF_MEM, 2, 7, -8, 0),	/* via r7 */
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -16),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 4),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_load_bytes),
		INSN(BPF_LDX | BPF_W | BPF_MEM, 0, 10, -16, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	static const unsigned int lens[] = { 64, 48 };
	unsigned char pkt[64] = { 1, 2, 3, 4, 5, 6, 7, 8, [12] = 0x08,
				  [14] = 0x45, [15] = 0x11, [16] = 0x22,
				  [17] = 0x33, [18] = 0x44 };
	long long ret[2][2], v0 = -1, v1 = -1;
	int iso, k, fd;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (iso = 0; iso < 2; iso++) {
		fd = load_insns(insns, sizeof(insns) / sizeof(insns[0]), 0, iso);
		if (fd < 0)
			return;
		if (iso)
			v0 = fdinfo(fd, "moat_violations");
		for (k = 0; k < 2; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt,
				    .data_size_in = lens[k], .repeat = 1);

			ret[iso][k] = bpf_prog_test_run_opts(fd, &run) ?
				      -errno : (long long)run.retval;
		}
		if (iso)
			v1 = fdinfo(fd, "moat_violations");
		close(fd);
	}
	test_info("verdicts plain %lld %lld, isolated %lld %lld",
		  ret[0][0], ret[0][1], ret[1][0], ret[1][1]);
	/* skb->len 50: offset 2; 34: offset 1 (past the Ethernet header). */
	ASSERT_EQ(ret[0][0], 0x443322, "64-byte packet (plain)");
	ASSERT_EQ(ret[0][1], 0x44332211, "48-byte packet (plain)");
	ASSERT_EQ(ret[1][0], ret[0][0], "64-byte packet, isolated");
	ASSERT_EQ(ret[1][1], ret[0][1], "48-byte packet, isolated");
	ASSERT_EQ(v1, v0, "moat_violations");
}

/*
 * A kfunc's u32 argument is checked on its low half: the verifier tracks
 * only that half of a register a 32-bit operation defined, and loaded
 * with BPF_F_TEST_RND_HI32 the upper half is junk.  w1 = (len & 0xff) + 7
 * passed to bpf_moat_test_u32(), which returns it: isolated as plain.
 */
static void test_scalar_bounds_sub32(void)
{
	struct bpf_insn insns[] = {
		INSN(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0),	/* w2 = len */
		INSN(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xff),
		INSN(BPF_ALU | BPF_ADD | BPF_K, 2, 0, 0, 7),
		INSN(BPF_ALU | BPF_MOV | BPF_X, 1, 2, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	unsigned char pkt[64] = { [12] = 0x08 };
	long long ret[2], v0 = -1, v1 = -1, checks = -1;
	struct btf *btf;
	int iso, fd, id;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	btf = btf__load_vmlinux_btf();
	id = libbpf_get_error(btf) ? -1 :
	     btf__find_by_name_kind(btf, "bpf_moat_test_u32", BTF_KIND_FUNC);
	btf__free(btf);
	if (id < 0) {
		test_fail("bpf_moat_test_u32 in the kernel's BTF");
		return;
	}
	insns[4].imm = id;
	for (iso = 0; iso < 2; iso++) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt,
			    .data_size_in = sizeof(pkt), .repeat = 1);

		fd = load_insns(insns, sizeof(insns) / sizeof(insns[0]),
				BPF_F_TEST_RND_HI32, iso);
		if (fd < 0)
			return;
		if (iso) {
			v0 = fdinfo(fd, "moat_violations");
			checks = fdinfo(fd, "moat_scalar_checks");
		}
		ret[iso] = bpf_prog_test_run_opts(fd, &run) ? -errno :
			   (long long)run.retval;
		if (iso)
			v1 = fdinfo(fd, "moat_violations");
		close(fd);
	}
	test_info("verdicts plain %lld, isolated %lld (%lld scalar checks)",
		  ret[0], ret[1], checks);
	/* skb->len of a 64-byte test packet: 50. */
	ASSERT_EQ(ret[0], 50 + 7, "verdict plain");
	ASSERT_EQ(ret[1], ret[0], "verdict isolated");
	ASSERT_TRUE(checks >= 2, "the argument is checked (its range)");
	ASSERT_EQ(v1, v0, "moat_violations");
}

/* Collects up to 8 ring buffer records of 8 bytes. */
struct rb_records {
	__u64 v[8];
	int n;
};

static int rb_collect(void *ctx, void *data, size_t len)
{
	struct rb_records *r = ctx;

	if (len == sizeof(__u64) && r->n < 8)
		r->v[r->n++] = *(__u64 *)data;
	return 0;
}

/* Records reserved, written in place and submitted or discarded. */
static void test_ringbuf_reserve_identical(void)
{
	struct rb_records recs[2] = {};
	long long ret[2] = { -1, -1 };
	int i, k;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj = load_one("sf_rb_reserve", i);
		struct ring_buffer *rb;

		if (!obj)
			return;
		ret[i] = run_sf(obj, "sf_rb_reserve");
		rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj,
								      "ringbuf"),
				      rb_collect, &recs[i], NULL);
		if (rb) {
			ring_buffer__consume(rb);
			ring_buffer__free(rb);
		}
		bpf_object__close(obj);
	}
	test_info("plain: %lld reserved, %d records; isolated: %lld reserved, %d records",
		  ret[0], recs[0].n, ret[1], recs[1].n);
	ASSERT_EQ(ret[0], 4, "plain: reservations");
	ASSERT_EQ(recs[0].n, 3, "plain: records (one of 4 discarded)");
	ASSERT_EQ(recs[0].v[0], 5000, "plain: first record");
	ASSERT_EQ(recs[0].v[2], 5003, "plain: last record");
	ASSERT_EQ(ret[1], ret[0], "isolated: reservations");
	ASSERT_EQ(recs[1].n, recs[0].n, "isolated: records");
	for (k = 0; k < recs[0].n; k++)
		ASSERT_EQ(recs[1].v[k], recs[0].v[k], "isolated: record");
}

/*
 * A ring buffer too large for BPF memory (256 MiB, mapped twice) stays
 * where vmap() puts it: plain programs commit records to it as usual,
 * and isolated ones are refused.
 */
static void test_ringbuf_outside_moat_memory(void)
{
	struct rb_records recs = {};
	char log[8192] = "";
	long long ret = -1;
	int i, err[2];

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	for (i = 0; i < 2; i++) {
		struct bpf_object *obj;
		struct bpf_program *p;
		struct ring_buffer *rb;

		obj = bpf_object__open_file(smoke_obj_path("moat", "types"),
					    NULL);
		ASSERT_OK(libbpf_get_error(obj), "opening types.bpf.o");
		bpf_object__for_each_program(p, obj) {
			bpf_program__set_autoload(p, !strcmp(bpf_program__name(p),
							     "sf_rb_reserve"));
			if (i)
				bpf_program__set_flags(p, BPF_F_MOAT);
			bpf_program__set_log_buf(p, log, sizeof(log));
			bpf_program__set_log_level(p, 1);
		}
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj,
								      "ringbuf"),
					 256 << 20);
		if (i) {
			moat_object_maps(obj);
			moat_set_mode("1");
		}
		err[i] = bpf_object__load(obj);
		moat_set_mode("0");
		if (!i && !err[i]) {
			ret = run_sf(obj, "sf_rb_reserve");
			rb = ring_buffer__new(
				bpf_object__find_map_fd_by_name(obj, "ringbuf"),
				rb_collect, &recs, NULL);
			if (rb) {
				ring_buffer__consume(rb);
				ring_buffer__free(rb);
			}
		}
		bpf_object__close(obj);
	}
	test_info("plain: load %d, %lld reserved, %d records; isolated: load %d",
		  err[0], ret, recs.n, err[1]);
	ASSERT_EQ(err[0], 0, "plain: load");
	ASSERT_EQ(ret, 4, "plain: reservations");
	ASSERT_EQ(recs.n, 3, "plain: records committed (one of 4 discarded)");
	ASSERT_EQ(err[1], -EOPNOTSUPP, "isolated: load");
	ASSERT_TRUE(strstr(log, "map 'ringbuf' (type 27) is a map whose values are not in MOAT memory"),
		    "verifier log names the reason");
}

/* A reservation into a dynptr is refused, with the reason. */
static void test_ringbuf_dynptr_refused(void)
{
	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	check_isolation_refused("sf_rb_dynptr", "into dynptrs");
}

/* Helpers taking kernel objects are refused isolated. */
static void test_btf_object_helper_refused(void)
{
	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	check_isolation_refused("kp_task_stack",
				"bpf_get_task_stack() takes a kernel object");
}

static void test_kprobe_raw_tp_moat_off(void)
{
	run_types(0);
}

static void test_kprobe_raw_tp_isolated(void)
{
	run_types(1);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN_TEST("moat", test_kprobe_raw_tp_moat_off);
	RUN_TEST("moat", test_kprobe_raw_tp_isolated);
	RUN_TEST("moat", test_xdp_writes_identical);
	RUN_TEST("moat", test_xdp_pkt_helpers_identical);
	RUN_TEST("moat", test_cgroup_skb_identical);
	RUN_TEST("moat", test_cgroup_skb_socket_fields);
	RUN_TEST("moat", test_cgroup_skb_tstamp_identical);
	RUN_TEST("moat", test_cgroup_device_identical);
	RUN_TEST("moat", test_cgroup_sock_addr_identical);
	RUN_TEST("moat", test_cgroup_sock_identical);
	RUN_TEST("moat", test_perf_event_identical);
	RUN_TEST("moat", test_bpf2bpf_calls_refused);
	RUN_TEST("moat", test_socket_lookups_refused);
	RUN_TEST("moat", test_hash_maps_identical);
	RUN_TEST("moat", test_percpu_array_identical);
	RUN_TEST("moat", test_percpu_hash_identical);
	RUN_TEST("moat", test_nopre_hash_maps_identical);
	RUN_TEST("moat", test_lpm_trie_identical);
	RUN_TEST("moat", test_copying_maps_isolated);
	RUN_TEST("moat", test_dynptr_identical);
	RUN_TEST("moat", test_scalar_bounds_identical);
	RUN_TEST("moat", test_scalar_bounds_sub32);
	RUN_TEST("moat", test_scalar_bounds_stack_copy);
	RUN_TEST("moat", test_generic_map_helper_isolated);
	RUN_TEST("moat", test_generic_map_helper_nested);
	RUN_TEST("moat", test_btf_object_helper_refused);
	RUN_TEST("moat", test_nested_isolated_runs);
	RUN_TEST("moat", test_ringbuf_reserve_identical);
	RUN_TEST("moat", test_ringbuf_outside_moat_memory);
	RUN_TEST("moat", test_ringbuf_dynptr_refused);
	moat_set_mode("0");
	return test_exit();
}
