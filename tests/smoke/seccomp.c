// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test: classic-BPF seccomp filters.
 *
 * Proves that a seccomp filter installed in a child (after
 * PR_SET_NO_NEW_PRIVS) is enforced on exactly the syscall it matches:
 *  - SECCOMP_RET_ERRNO makes getppid() fail with EPERM while other
 *    syscalls (getpid, uname) keep working, and the parent, which has no
 *    filter, is unaffected;
 *  - SECCOMP_RET_KILL_PROCESS kills the child with SIGSYS at uname(), so
 *    the code after the call never runs.
 * The ERRNO filter is installed with seccomp(2), the KILL filter with
 * prctl(PR_SET_SECCOMP), covering both entry points.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"

/* Child exit codes: 0 = all as expected, else the first failed check. */
enum {
	CHILD_OK,
	CHILD_NNP_FAILED,
	CHILD_INSTALL_FAILED,
	CHILD_NOT_BLOCKED,	/* filtered syscall did not fail */
	CHILD_WRONG_ERRNO,	/* ... failed with another errno */
	CHILD_OTHER_BROKEN,	/* unfiltered syscall failed */
	CHILD_SURVIVED,		/* returned from a killing syscall */
};

static const char *const child_why[] = {
	[CHILD_OK] = "ok",
	[CHILD_NNP_FAILED] = "prctl(PR_SET_NO_NEW_PRIVS) failed",
	[CHILD_INSTALL_FAILED] = "installing the filter failed",
	[CHILD_NOT_BLOCKED] = "filtered syscall succeeded",
	[CHILD_WRONG_ERRNO] = "filtered syscall failed with the wrong errno",
	[CHILD_OTHER_BROKEN] = "an unfiltered syscall failed",
	[CHILD_SURVIVED] = "child returned from the killing syscall",
};

static const char *why(int code)
{
	if (code < 0 || code >= (int)(sizeof(child_why) / sizeof(child_why[0])))
		return "unknown";
	return child_why[code];
}

/* Return @action for syscall @sysno, allow everything else (x86-64 only). */
#define FILTER(sysno, action) {						\
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS,				\
		 offsetof(struct seccomp_data, arch)),			\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),	\
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),		\
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS,				\
		 offsetof(struct seccomp_data, nr)),			\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (sysno), 0, 1),		\
	BPF_STMT(BPF_RET | BPF_K, (action)),				\
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),			\
}

static int errno_child(void)
{
	struct sock_filter insns[] =
		FILTER(__NR_getppid, SECCOMP_RET_ERRNO | EPERM);
	struct sock_fprog prog = {
		.len = sizeof(insns) / sizeof(insns[0]),
		.filter = insns,
	};
	struct utsname uts;
	long ret;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return CHILD_NNP_FAILED;
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return CHILD_INSTALL_FAILED;

	errno = 0;
	ret = syscall(__NR_getppid);
	if (ret != -1)
		return CHILD_NOT_BLOCKED;
	if (errno != EPERM)
		return CHILD_WRONG_ERRNO;
	if (syscall(__NR_getpid) <= 0 || uname(&uts))
		return CHILD_OTHER_BROKEN;
	return CHILD_OK;
}

static int kill_child(void)
{
	struct sock_filter insns[] =
		FILTER(__NR_uname, SECCOMP_RET_KILL_PROCESS);
	struct sock_fprog prog = {
		.len = sizeof(insns) / sizeof(insns[0]),
		.filter = insns,
	};
	struct rlimit no_core = { 0, 0 };
	struct utsname uts;

	setrlimit(RLIMIT_CORE, &no_core);	/* SIGSYS would dump core */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return CHILD_NNP_FAILED;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return CHILD_INSTALL_FAILED;
	if (syscall(__NR_getpid) <= 0)
		return CHILD_OTHER_BROKEN;
	syscall(__NR_uname, &uts);
	return CHILD_SURVIVED;
}

/* Run @fn in a child; return its wait status, or -1 (test failed). */
static int run_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		test_fail("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(fn());
	if (waitpid(pid, &status, 0) != pid) {
		test_fail("waitpid: %s", strerror(errno));
		return -1;
	}
	return status;
}

static void check_exit_ok(int status)
{
	if (WIFSIGNALED(status)) {
		test_fail("child killed by signal %d", WTERMSIG(status));
		return;
	}
	if (WEXITSTATUS(status) != CHILD_OK) {
		int code = WEXITSTATUS(status);

		test_fail("child: %s (exit %d)", why(code), code);
	}
}

static void test_seccomp_errno_blocks_syscall(void)
{
	int status = run_child(errno_child);

	if (status == -1)
		return;
	check_exit_ok(status);
}

static void test_seccomp_errno_parent_unaffected(void)
{
	/* The child above had the filter; this process never installed one. */
	errno = 0;
	ASSERT_NE(syscall(__NR_getppid), -1, "getppid() in the parent");
	ASSERT_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0,
		  "parent's seccomp mode");
}

static void test_seccomp_kill_process_sigsys(void)
{
	int status = run_child(kill_child);

	if (status == -1)
		return;
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);

		test_fail("child exited with %d (%s), want killed by SIGSYS",
			  code, why(code));
		return;
	}
	test_info("child calling uname() under a KILL_PROCESS filter: %s %d",
		  WIFSIGNALED(status) ? "killed by signal" : "status",
		  WIFSIGNALED(status) ? WTERMSIG(status) : status);
	ASSERT_TRUE(WIFSIGNALED(status), "child terminated by a signal");
	ASSERT_EQ(WTERMSIG(status), SIGSYS, "signal that killed the child");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN_TEST("smoke", test_seccomp_errno_blocks_syscall);
	RUN_TEST("smoke", test_seccomp_errno_parent_unaffected);
	RUN_TEST("smoke", test_seccomp_kill_process_sigsys);
	return test_exit();
}
