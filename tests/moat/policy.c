// SPDX-License-Identifier: GPL-2.0
/*
 * MOAT isolation policy: the kernel.bpf_moat sysctl, the BPF_F_MOAT load
 * flag, the refusal of programs that must be isolated but cannot be, and
 * the fdinfo fields.
 *
 * Isolation itself is not implemented yet, so "must be isolated" always
 * ends in a refusal with EOPNOTSUPP and a "MOAT:" verifier-log line; for
 * classic BPF filters (seccomp, SO_ATTACH_FILTER) only policy 2 applies.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
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

#include "test.h"

#define SYSCTL "/proc/sys/kernel/bpf_moat"

#ifndef BPF_F_MOAT
#define BPF_F_MOAT (1U << 16)
#endif

static char log_buf[4096];

static int read_mode(void)
{
	char buf[16] = "";
	int fd = open(SYSCTL, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = '\0';
	close(fd);
	return buf[0] ? atoi(buf) : -1;
}

/* 0, or -errno of the write */
static int write_mode(const char *val)
{
	int fd = open(SYSCTL, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Load "r0 = 0; exit" as a socket filter: fd, or -errno. */
static int load(__u32 flags)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.prog_flags = flags,
		.log_buf = log_buf,
		.log_size = sizeof(log_buf),
		.log_level = 1,
	);
	int fd;

	log_buf[0] = '\0';
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "moat_policy", "GPL",
			   insns, 2, &opts);
	return fd < 0 ? -errno : fd;
}

/* Value of @key in the fdinfo of @fd, or -1 when absent. */
static long long fdinfo(int fd, const char *key)
{
	char path[64], line[256];
	long long val = -1;
	size_t len = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			val = atoll(line + len + 1);
	fclose(f);
	return val;
}

static void test_sysctl_default_off(void)
{
	ASSERT_EQ(read_mode(), 0, "kernel.bpf_moat at boot");
}

static void test_sysctl_rejects_bad_values(void)
{
	ASSERT_EQ(write_mode("3"), -EINVAL, "writing 3");
	ASSERT_EQ(write_mode("-1"), -EINVAL, "writing -1");
	ASSERT_EQ(read_mode(), 0, "kernel.bpf_moat after bad writes");
}

static void test_off_ignores_flag(void)
{
	int fd;

	ASSERT_EQ(write_mode("0"), 0, "writing 0");
	fd = load(BPF_F_MOAT);
	ASSERT_OK(fd, "load with BPF_F_MOAT, kernel.bpf_moat=0");
	ASSERT_EQ(fdinfo(fd, "moat_isolated"), 0, "fdinfo moat_isolated");
	ASSERT_EQ(fdinfo(fd, "moat_violations"), 0, "fdinfo moat_violations");
	close(fd);
}

static void test_on_request_plain_load_unaffected(void)
{
	int fd;

	ASSERT_EQ(write_mode("1"), 0, "writing 1");
	fd = load(0);
	write_mode("0");
	ASSERT_OK(fd, "load without BPF_F_MOAT, kernel.bpf_moat=1");
	ASSERT_EQ(fdinfo(fd, "moat_isolated"), 0, "fdinfo moat_isolated");
	close(fd);
}

static void check_refused(int ret, const char *what)
{
	if (ret >= 0) {
		close(ret);
		test_fail("%s: loaded, want EOPNOTSUPP (isolation is not available)",
			  what);
		return;
	}
	ASSERT_EQ(ret, -EOPNOTSUPP, what);
	if (!strstr(log_buf, "MOAT: isolation required"))
		test_fail("%s: verifier log has no MOAT line: '%s'", what, log_buf);
	else
		test_info("%s: %s", what, strstr(log_buf, "MOAT:"));
}

static void test_on_request_flag_refused(void)
{
	int ret;

	ASSERT_EQ(write_mode("1"), 0, "writing 1");
	ret = load(BPF_F_MOAT);
	write_mode("0");
	check_refused(ret, "load with BPF_F_MOAT, kernel.bpf_moat=1");
}

static void test_all_refuses_every_load(void)
{
	int ret;

	ASSERT_EQ(write_mode("2"), 0, "writing 2");
	ret = load(0);
	write_mode("0");
	check_refused(ret, "load without flag, kernel.bpf_moat=2");
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
	ASSERT_EQ(write_mode("0"), 0, "writing 0");
	ASSERT_EQ(attach_classic(), 0, "SO_ATTACH_FILTER, kernel.bpf_moat=0");
	ASSERT_EQ(install_seccomp(), 0, "seccomp filter, kernel.bpf_moat=0");
}

static void test_on_request_allows_classic_filters(void)
{
	int sock, sec;

	ASSERT_EQ(write_mode("1"), 0, "writing 1");
	sock = attach_classic();
	sec = install_seccomp();
	write_mode("0");
	ASSERT_EQ(sock, 0, "SO_ATTACH_FILTER, kernel.bpf_moat=1");
	ASSERT_EQ(sec, 0, "seccomp filter, kernel.bpf_moat=1");
}

static void test_all_refuses_classic_filters(void)
{
	int sock, sec;

	ASSERT_EQ(write_mode("2"), 0, "writing 2");
	sock = attach_classic();
	sec = install_seccomp();
	write_mode("0");
	test_info("kernel.bpf_moat=2: SO_ATTACH_FILTER -> %s, seccomp -> %s",
		  strerror(-sock), strerror(-sec));
	ASSERT_EQ(sock, -EOPNOTSUPP, "SO_ATTACH_FILTER, kernel.bpf_moat=2");
	ASSERT_EQ(sec, -EOPNOTSUPP, "seccomp filter, kernel.bpf_moat=2");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(SYSCTL, F_OK)) {
		printf("FAIL moat/policy: %s missing: is CONFIG_BPF_MOAT on?\n",
		       SYSCTL);
		return 1;
	}
	RUN_TEST("moat", test_sysctl_default_off);
	RUN_TEST("moat", test_sysctl_rejects_bad_values);
	RUN_TEST("moat", test_off_ignores_flag);
	RUN_TEST("moat", test_on_request_plain_load_unaffected);
	RUN_TEST("moat", test_on_request_flag_refused);
	RUN_TEST("moat", test_all_refuses_every_load);
	RUN_TEST("moat", test_off_allows_classic_filters);
	RUN_TEST("moat", test_on_request_allows_classic_filters);
	RUN_TEST("moat", test_all_refuses_classic_filters);
	write_mode("0");
	return test_exit();
}
