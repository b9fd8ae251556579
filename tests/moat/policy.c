// SPDX-License-Identifier: GPL-2.0
/*
 * MOAT isolation policy: the kernel.bpf_moat sysctl, the BPF_F_MOAT load
 * flag, the refusal of programs that must be isolated but cannot be, and
 * the fdinfo fields.
 *
 * On a CPU with PKS, "must be isolated" means the program loads isolated
 * (fdinfo moat_isolated 1) if MOAT covers it, and is refused with
 * EOPNOTSUPP and a "MOAT:" verifier-log line naming the reason if not; on
 * a CPU without PKS every such load is refused.  Classic BPF filters
 * (seccomp, SO_ATTACH_FILTER, and those the kernel builds from bytecode
 * user space hands it: cls_bpf here, xt_bpf, act_bpf, team, PPP) cannot
 * ask: only policy 2 applies to them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "bpfobj.h"
#include "moat.h"
#include "netlink.h"

static char log_buf[4096];

/* load_naming_map() with the verifier log in log_buf. */
static int load_type(enum bpf_prog_type type, int map_fd, __u32 flags)
{
	return load_naming_map(type, map_fd, flags, log_buf, sizeof(log_buf));
}

/* Load "r0 = 0; exit" as a socket filter: fd, or -errno. */
static int load(__u32 flags)
{
	return load_type(BPF_PROG_TYPE_SOCKET_FILTER, -1, flags);
}

static void test_sysctl_default_off(void)
{
	ASSERT_EQ(moat_mode(), 0, "kernel.bpf_moat at boot");
}

static void test_sysctl_rejects_bad_values(void)
{
	ASSERT_EQ(moat_set_mode("3"), -EINVAL, "writing 3");
	ASSERT_EQ(moat_set_mode("-1"), -EINVAL, "writing -1");
	ASSERT_EQ(moat_mode(), 0, "kernel.bpf_moat after bad writes");
}

static void test_off_ignores_flag(void)
{
	int fd;

	ASSERT_EQ(moat_set_mode("0"), 0, "writing 0");
	fd = load(BPF_F_MOAT);
	ASSERT_OK(fd, "load with BPF_F_MOAT, kernel.bpf_moat=0");
	ASSERT_EQ(fdinfo(fd, "moat_isolated"), 0, "fdinfo moat_isolated");
	ASSERT_EQ(fdinfo(fd, "moat_violations"), 0, "fdinfo moat_violations");
	close(fd);
}

static void test_on_request_plain_load_unaffected(void)
{
	int fd;

	ASSERT_EQ(moat_set_mode("1"), 0, "writing 1");
	fd = load(0);
	moat_set_mode("0");
	ASSERT_OK(fd, "load without BPF_F_MOAT, kernel.bpf_moat=1");
	ASSERT_EQ(fdinfo(fd, "moat_isolated"), 0, "fdinfo moat_isolated");
	close(fd);
}

/* Check that a load was refused for @reason, with a MOAT log line. */
static void check_refused(int ret, const char *what, const char *reason)
{
	if (ret >= 0) {
		close(ret);
		test_fail("%s: loaded, want EOPNOTSUPP (%s)", what, reason);
		return;
	}
	ASSERT_EQ(ret, -EOPNOTSUPP, what);
	if (!strstr(log_buf, "MOAT: isolation required") ||
	    !strstr(log_buf, reason))
		test_fail("%s: verifier log lacks the MOAT line with '%s': '%s'",
			  what, reason, log_buf);
	else
		test_info("%s: %s", what, strstr(log_buf, "MOAT:"));
}

#define NO_PKS "the CPU has no Protection Keys for Supervisor (PKS)"

/* A load that must be isolated: isolated with PKS, refused without. */
static void check_isolated(int ret, const char *what)
{
	if (!cpu_has_pks()) {
		check_refused(ret, what, NO_PKS);
		return;
	}
	ASSERT_OK(ret, what);
	ASSERT_EQ(fdinfo(ret, "moat_isolated"), 1, "fdinfo moat_isolated");
	ASSERT_EQ(fdinfo(ret, "moat_violations"), 0, "fdinfo moat_violations");
	close(ret);
}

static void test_on_request_flag_isolates(void)
{
	int ret;

	ASSERT_EQ(moat_set_mode("1"), 0, "writing 1");
	ret = load(BPF_F_MOAT);
	moat_set_mode("0");
	check_isolated(ret, "load with BPF_F_MOAT, kernel.bpf_moat=1");
}

static void test_all_isolates_every_load(void)
{
	int ret;

	ASSERT_EQ(moat_set_mode("2"), 0, "writing 2");
	ret = load(0);
	moat_set_mode("0");
	check_isolated(ret, "load without flag, kernel.bpf_moat=2");
}

/* A program type MOAT does not cover yet is refused, never run bare. */
static void test_uncovered_type_refused(void)
{
	int ret;

	ASSERT_EQ(moat_set_mode("2"), 0, "writing 2");
	ret = load_type(BPF_PROG_TYPE_SCHED_CLS, -1, 0);
	moat_set_mode("0");
	check_refused(ret, "tc classifier, kernel.bpf_moat=2",
		      cpu_has_pks() ? "program type 3 is not isolated yet" :
				      NO_PKS);
}

/* So is a program using a map whose values are not in MOAT memory. */
static void test_uncovered_map_refused(void)
{
	int map, ret;

	map = bpf_map_create(BPF_MAP_TYPE_BLOOM_FILTER, "moat_bloom", 0, 8, 4,
			     NULL);
	ASSERT_OK(map, "creating a bloom filter");
	ASSERT_EQ(moat_set_mode("1"), 0, "writing 1");
	ret = load_type(BPF_PROG_TYPE_SOCKET_FILTER, map, BPF_F_MOAT);
	moat_set_mode("0");
	close(map);
	check_refused(ret, "socket filter using a bloom filter, BPF_F_MOAT",
		      cpu_has_pks() ? "map 'moat_bloom' (type 30) is a map type whose values are not in MOAT memory yet" :
				      NO_PKS);
}

/* Classic BPF programs that accept every packet / allow every syscall. */
static struct sock_filter accept_all[] = {
	{ .code = BPF_RET | BPF_K, .k = 0xffffffff },
};
static struct sock_fprog accept_prog = { .len = 1, .filter = accept_all };
static struct sock_filter allow_all[] = {
	{ .code = BPF_RET | BPF_K, .k = SECCOMP_RET_ALLOW },
};
static struct sock_fprog allow_prog = { .len = 1, .filter = allow_all };

/* Attach a classic socket filter to a fresh UDP socket: 0 or -errno. */
static int attach_classic(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &accept_prog,
		       sizeof(accept_prog)))
		ret = -errno;
	close(fd);
	return ret;
}

/* Install a seccomp filter in a child: 0 or -errno seen by the child. */
static int install_seccomp(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			_exit(100);
		if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0,
			    &allow_prog))
			_exit(errno);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

static void test_off_allows_classic_filters(void)
{
	ASSERT_EQ(moat_set_mode("0"), 0, "writing 0");
	ASSERT_EQ(attach_classic(), 0, "SO_ATTACH_FILTER, kernel.bpf_moat=0");
	ASSERT_EQ(install_seccomp(), 0, "seccomp filter, kernel.bpf_moat=0");
}

static void test_on_request_allows_classic_filters(void)
{
	int sock, sec;

	ASSERT_EQ(moat_set_mode("1"), 0, "writing 1");
	sock = attach_classic();
	sec = install_seccomp();
	moat_set_mode("0");
	ASSERT_EQ(sock, 0, "SO_ATTACH_FILTER, kernel.bpf_moat=1");
	ASSERT_EQ(sec, 0, "seccomp filter, kernel.bpf_moat=1");
}

/* Policy 2 covers classic filters: isolated with PKS, refused without. */
static void test_all_covers_classic_filters(void)
{
	int sock, sec, want = cpu_has_pks() ? 0 : -EOPNOTSUPP;

	ASSERT_EQ(moat_set_mode("2"), 0, "writing 2");
	sock = attach_classic();
	sec = install_seccomp();
	moat_set_mode("0");
	test_info("kernel.bpf_moat=2: SO_ATTACH_FILTER -> %s, seccomp -> %s",
		  strerror(-sock), strerror(-sec));
	ASSERT_EQ(sock, want, "SO_ATTACH_FILTER, kernel.bpf_moat=2");
	ASSERT_EQ(sec, want, "seccomp filter, kernel.bpf_moat=2");
}

/*
 * Classic BPF the kernel builds with bpf_prog_create(): a cls_bpf filter
 * in classic form ("ret #0": no class, the packet goes on) on lo's
 * ingress, added (@add) or deleted over rtnetlink.  0 or -errno.
 */
#define CLS_PRIO	7
#define CLS_PORT	40021

static int cls_classic(int add)
{
	struct tcmsg t = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = 1,			/* lo */
		.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		.tcm_info = TC_H_MAKE(CLS_PRIO << 16, htons(ETH_P_ALL)),
	};
	struct sock_filter ret0[] = { { .code = BPF_RET | BPF_K, .k = 0 } };
	__u16 len = 1;
	struct rtattr *opts;
	struct nlreq req;

	nl_init(&req, add ? RTM_NEWTFILTER : RTM_DELTFILTER,
		add ? NLM_F_CREATE | NLM_F_EXCL : 0, &t, sizeof(t));
	nl_add(&req.nh, TCA_KIND, "bpf", 4);
	if (add) {
		opts = nl_add(&req.nh, TCA_OPTIONS, NULL, 0);
		nl_add(&req.nh, TCA_BPF_OPS_LEN, &len, sizeof(len));
		nl_add(&req.nh, TCA_BPF_OPS, ret0, sizeof(ret0));
		nl_end(&req.nh, opts);
	}
	return nl_talk(&req.nh);
}

/* @n UDP datagrams over lo: each passes lo's ingress once. */
static int lo_traffic(int n)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(CLS_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i, sent = 0;

	if (fd < 0)
		return -errno;
	for (i = 0; i < n; i++)
		sent += sendto(fd, "moat", 4, 0, (struct sockaddr *)&to,
			       sizeof(to)) == 4;
	close(fd);
	return sent;
}

static long long moat_runs(void)
{
	return moat_file_value(MOAT_STATS, "runs");
}

/*
 * Add the cls_bpf filter under policy @mode, then (policy 0 again) send
 * 20 datagrams over lo: the filter's add result, and in @runs how many
 * isolated runs MOAT counted meanwhile.
 */
static int cls_classic_run(const char *mode, long long *runs)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1,
		    .attach_point = BPF_TC_INGRESS);
	long long before;
	int err, sent;

	*runs = -1;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	if (moat_set_mode(mode))
		return -EPERM;
	err = cls_classic(1);
	moat_set_mode("0");
	if (!err) {
		before = moat_runs();
		sent = lo_traffic(20);
		*runs = sent == 20 ? moat_runs() - before : -1;
		cls_classic(0);
	}
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
	return err;
}

/* Policy 0: the kernel-built classic filter runs as it always did. */
static void test_off_kernel_classic_plain(void)
{
	long long runs;

	ASSERT_OK(cls_classic_run("0", &runs), "adding a classic cls_bpf filter, kernel.bpf_moat=0");
	test_info("kernel.bpf_moat=0: 20 datagrams, %lld isolated runs", runs);
	if (cpu_has_pks())
		ASSERT_EQ(runs, 0, "isolated runs");
}

/*
 * Policy 2: the classic filters the kernel builds from user bytecode
 * (bpf_prog_create(): cls_bpf, act_bpf, xt_bpf, team, PPP) are isolated
 * like every other program, or refused without PKS.
 */
static void test_all_covers_kernel_classic(void)
{
	long long runs;
	int err = cls_classic_run("2", &runs);

	test_info("kernel.bpf_moat=2: classic cls_bpf filter -> %s, 20 datagrams, %lld isolated runs",
		  strerror(-err), runs);
	if (!cpu_has_pks()) {
		ASSERT_EQ(err, -EOPNOTSUPP, "adding a classic cls_bpf filter, kernel.bpf_moat=2, no PKS");
		return;
	}
	ASSERT_OK(err, "adding a classic cls_bpf filter, kernel.bpf_moat=2");
	ASSERT_GE(runs, 20, "isolated runs: one per datagram at least");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(MOAT_SYSCTL, F_OK)) {
		printf("FAIL moat/policy: %s missing: is CONFIG_BPF_MOAT on?\n",
		       MOAT_SYSCTL);
		return 1;
	}
	RUN_TEST("moat", test_sysctl_default_off);
	RUN_TEST("moat", test_sysctl_rejects_bad_values);
	RUN_TEST("moat", test_off_ignores_flag);
	RUN_TEST("moat", test_on_request_plain_load_unaffected);
	RUN_TEST("moat", test_on_request_flag_isolates);
	RUN_TEST("moat", test_all_isolates_every_load);
	RUN_TEST("moat", test_uncovered_type_refused);
	RUN_TEST("moat", test_uncovered_map_refused);
	RUN_TEST("moat", test_off_allows_classic_filters);
	RUN_TEST("moat", test_on_request_allows_classic_filters);
	RUN_TEST("moat", test_all_covers_classic_filters);
	RUN_TEST("moat", test_off_kernel_classic_plain);
	RUN_TEST("moat", test_all_covers_kernel_classic);
	moat_set_mode("0");
	return test_exit();
}
