// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's syscall-filtering benchmark (Table 6 shape): a container
 * runtime's default seccomp profile as a classic filter, on syscall-heavy
 * work and on a small web server with a load generator over loopback.
 *
 * The "docker" profile has the shape of Docker's default: check the
 * architecture, allow about 290 system calls named in alphabetical order
 * (a linear filter, one compare each, as libseccomp emits without its
 * tree optimisation), clone() only without namespace flags, EPERM for
 * everything else (x32 numbers included).  Since Linux 5.11 the kernel
 * works out at install time which calls such a filter allows whatever
 * their arguments, and answers those from a bitmap without running the
 * filter: with this profile only clone() runs it.  The "args" profile
 * adds argument rules sandboxes commonly have on the calls the workloads
 * make (openat() read-only, W^X mmap()/mprotect(), accept4() flags,
 * socket() families, fcntl() and ioctl() commands), so the filter runs
 * for those calls: up to ~290 compares for the late names.
 *
 * A filter cannot be removed, so every state of every round runs in a new
 * child: it installs the filter (under kernel.bpf_moat=2 when isolated:
 * seccomp filters are classic BPF, isolated only in that mode), does the
 * work and reports the nanoseconds the work took.  "base" has no filter.
 *
 *   getppid    one getppid()
 *   file       openat(), fstat(), read(), close() of a small tmpfs file
 *   http       one HTTP/1.0 request over loopback TCP: the client here,
 *              unfiltered; the server (accept4, read, openat, fstat, read,
 *              writev, close, close) in the filtered child
 *   file+args, http+args   the same under the "args" profile
 *   mmap+args  mmap() and munmap() of an anonymous page ("args" profile)
 *
 *	seccomp [CASE...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "bench.h"

#define PAGE_FILE	"/tmp/moat-bench-page.html"
#define PAGE_BYTES	612		/* nginx's default page */

/* Docker's default allow list (x86-64 names), in its order. */
static const int allowed[] = {
	SYS_accept, SYS_accept4, SYS_access, SYS_adjtimex, SYS_alarm,
	SYS_bind, SYS_brk, SYS_capget, SYS_capset, SYS_chdir, SYS_chmod,
	SYS_chown, SYS_clock_adjtime, SYS_clock_getres, SYS_clock_gettime,
	SYS_clock_nanosleep, SYS_clone, SYS_close, SYS_close_range, SYS_connect,
	SYS_copy_file_range, SYS_creat, SYS_dup, SYS_dup2, SYS_dup3,
	SYS_epoll_create, SYS_epoll_create1, SYS_epoll_ctl,
	SYS_epoll_ctl_old, SYS_epoll_pwait, SYS_epoll_pwait2,
	SYS_epoll_wait, SYS_epoll_wait_old, SYS_eventfd, SYS_eventfd2,
	SYS_execve, SYS_execveat, SYS_exit, SYS_exit_group, SYS_faccessat,
	SYS_faccessat2, SYS_fadvise64, SYS_fallocate, SYS_fanotify_mark,
	SYS_fchdir, SYS_fchmod, SYS_fchmodat, SYS_fchown, SYS_fchownat,
	SYS_fcntl, SYS_fdatasync, SYS_fgetxattr, SYS_flistxattr,
	SYS_flock, SYS_fork, SYS_fremovexattr, SYS_fsetxattr, SYS_fstat,
	SYS_fstatfs, SYS_fsync, SYS_ftruncate, SYS_futex, SYS_futex_waitv,
	SYS_futimesat, SYS_getcpu, SYS_getcwd, SYS_getdents,
	SYS_getdents64, SYS_getegid, SYS_geteuid, SYS_getgid,
	SYS_getgroups, SYS_getitimer, SYS_getpeername, SYS_getpgid,
	SYS_getpgrp, SYS_getpid, SYS_getppid, SYS_getpriority,
	SYS_getrandom, SYS_getresgid, SYS_getresuid, SYS_getrlimit,
	SYS_get_robust_list, SYS_getrusage, SYS_getsid, SYS_getsockname,
	SYS_getsockopt, SYS_get_thread_area, SYS_gettid,
	SYS_gettimeofday, SYS_getuid, SYS_getxattr, SYS_inotify_add_watch,
	SYS_inotify_init, SYS_inotify_init1, SYS_inotify_rm_watch,
	SYS_io_cancel, SYS_ioctl, SYS_io_destroy, SYS_io_getevents,
	SYS_io_pgetevents, SYS_ioprio_get, SYS_ioprio_set, SYS_io_setup,
	SYS_io_submit, SYS_io_uring_enter, SYS_io_uring_register,
	SYS_io_uring_setup, SYS_kill, SYS_landlock_add_rule,
	SYS_landlock_create_ruleset, SYS_landlock_restrict_self,
	SYS_lchown, SYS_lgetxattr, SYS_link, SYS_linkat, SYS_listen,
	SYS_listxattr, SYS_llistxattr, SYS_lremovexattr, SYS_lseek,
	SYS_lsetxattr, SYS_lstat, SYS_madvise, SYS_membarrier,
	SYS_memfd_create, SYS_memfd_secret, SYS_mincore, SYS_mkdir,
	SYS_mkdirat, SYS_mknod, SYS_mknodat, SYS_mlock, SYS_mlock2,
	SYS_mlockall, SYS_mmap, SYS_mprotect, SYS_mq_getsetattr,
	SYS_mq_notify, SYS_mq_open, SYS_mq_timedreceive,
	SYS_mq_timedsend, SYS_mq_unlink, SYS_mremap, SYS_msgctl,
	SYS_msgget, SYS_msgrcv, SYS_msgsnd, SYS_msync, SYS_munlock,
	SYS_munlockall, SYS_munmap, SYS_name_to_handle_at, SYS_nanosleep,
	SYS_newfstatat, SYS_open, SYS_openat, SYS_openat2, SYS_pause,
	SYS_pidfd_open, SYS_pidfd_send_signal, SYS_pipe, SYS_pipe2,
	SYS_pkey_alloc, SYS_pkey_free, SYS_pkey_mprotect, SYS_poll,
	SYS_ppoll, SYS_prctl, SYS_pread64, SYS_preadv, SYS_preadv2,
	SYS_prlimit64, SYS_process_mrelease, SYS_pselect6, SYS_pwrite64,
	SYS_pwritev, SYS_pwritev2, SYS_read, SYS_readahead, SYS_readlink,
	SYS_readlinkat, SYS_readv, SYS_recvfrom, SYS_recvmmsg,
	SYS_recvmsg, SYS_remap_file_pages, SYS_removexattr, SYS_rename,
	SYS_renameat, SYS_renameat2, SYS_restart_syscall, SYS_rmdir,
	SYS_rseq, SYS_rt_sigaction, SYS_rt_sigpending, SYS_rt_sigprocmask,
	SYS_rt_sigqueueinfo, SYS_rt_sigreturn, SYS_rt_sigsuspend,
	SYS_rt_sigtimedwait, SYS_rt_tgsigqueueinfo, SYS_sched_getaffinity,
	SYS_sched_getattr, SYS_sched_getparam, SYS_sched_get_priority_max,
	SYS_sched_get_priority_min, SYS_sched_getscheduler,
	SYS_sched_rr_get_interval, SYS_sched_setaffinity,
	SYS_sched_setattr, SYS_sched_setparam, SYS_sched_setscheduler,
	SYS_sched_yield, SYS_seccomp, SYS_select, SYS_semctl, SYS_semget,
	SYS_semop, SYS_semtimedop, SYS_sendfile, SYS_sendmmsg,
	SYS_sendmsg, SYS_sendto, SYS_setfsgid, SYS_setfsuid, SYS_setgid,
	SYS_setgroups, SYS_setitimer, SYS_setpgid, SYS_setpriority,
	SYS_setregid, SYS_setresgid, SYS_setresuid, SYS_setreuid,
	SYS_setrlimit, SYS_set_robust_list, SYS_setsid, SYS_setsockopt,
	SYS_set_thread_area, SYS_set_tid_address, SYS_setuid,
	SYS_setxattr, SYS_shmat, SYS_shmctl, SYS_shmdt, SYS_shmget,
	SYS_shutdown, SYS_sigaltstack, SYS_signalfd, SYS_signalfd4,
	SYS_socket, SYS_socketpair, SYS_splice, SYS_stat, SYS_statfs,
	SYS_statx, SYS_symlink, SYS_symlinkat, SYS_sync,
	SYS_sync_file_range, SYS_syncfs, SYS_sysinfo, SYS_tee, SYS_tgkill,
	SYS_time, SYS_timer_create, SYS_timer_delete, SYS_timer_getoverrun,
	SYS_timer_gettime, SYS_timer_settime, SYS_timerfd_create,
	SYS_timerfd_gettime, SYS_timerfd_settime, SYS_times, SYS_tkill,
	SYS_truncate, SYS_umask, SYS_uname, SYS_unlink, SYS_unlinkat,
	SYS_utime, SYS_utimensat, SYS_utimes, SYS_vfork, SYS_vmsplice,
	SYS_wait4, SYS_waitid, SYS_write, SYS_writev,
};

#define NR_ALLOWED	(sizeof(allowed) / sizeof(allowed[0]))

/*
 * Argument rules: a call named here is allowed only when its argument
 * passes; otherwise the call gets EPERM.  Docker's profile has the clone()
 * rule; the "args" profile adds what sandboxes commonly check on the calls
 * the workloads make (a read-only file system view, W^X mappings, a few
 * socket families, fcntl() and ioctl() commands).
 */
enum { ARG_NONE_OF, ARG_ONE_OF, ARG_NOT_WX };

struct arg_rule {
	int nr, arg, kind;
	__u32 k[5];
	int nk;
	int sandbox;		/* only in the "args" profile */
};

static const struct arg_rule rules[] = {
	/* Namespace flags clone() must not carry (as in Docker's profile). */
	{ SYS_clone, 0, ARG_NONE_OF, { 0x7e020000u }, 1, 0 },
	{ SYS_accept4, 3, ARG_NONE_OF, { ~(__u32)(SOCK_CLOEXEC | SOCK_NONBLOCK) },
	  1, 1 },
	{ SYS_fcntl, 1, ARG_ONE_OF,
	  { F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC }, 5, 1 },
	{ SYS_ioctl, 1, ARG_ONE_OF, { TCGETS, FIONREAD, FIONBIO, FIOCLEX }, 4, 1 },
	{ SYS_mmap, 2, ARG_NOT_WX, {}, 0, 1 },
	{ SYS_mprotect, 2, ARG_NOT_WX, {}, 0, 1 },
	{ SYS_openat, 2, ARG_NONE_OF,
	  { O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND }, 1, 1 },
	{ SYS_socket, 0, ARG_ONE_OF, { AF_UNIX, AF_INET, AF_INET6 }, 3, 1 },
};

#define NR_RULES	(sizeof(rules) / sizeof(rules[0]))
/* The longest rule: compare, load, 5 values, allow, deny. */
#define MAX_RULE_LEN	9
#define FILTER_LEN	(4 + (NR_ALLOWED + NR_RULES) * MAX_RULE_LEN + 1)

enum { PROFILE_DOCKER, PROFILE_ARGS, NR_PROFILES };

static struct sock_filter filters[NR_PROFILES][FILTER_LEN];
static struct sock_fprog profiles[NR_PROFILES];

#define STMT(c, k)		((struct sock_filter)BPF_STMT(c, k))
#define JUMP(c, k, t, f)	((struct sock_filter)BPF_JUMP(c, k, t, f))
#define ALLOW			STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define DENY			STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

/*
 * Emit the test of call @nr at @f: with argument rule @r (or NULL), a
 * compare that skips the rule's block, which ends in a verdict either way.
 * The number of instructions.
 */
static int emit_call(struct sock_filter *f, int nr, const struct arg_rule *r)
{
	struct sock_filter b[MAX_RULE_LEN];
	int n = 0, i;

	if (!r) {
		f[0] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
		f[1] = ALLOW;
		return 2;
	}
	b[n++] = STMT(BPF_LD | BPF_W | BPF_ABS,
		      offsetof(struct seccomp_data, args[r->arg]));
	switch (r->kind) {
	case ARG_NONE_OF:
		b[n++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, r->k[0], 1, 0);
		b[n++] = ALLOW;
		b[n++] = DENY;
		break;
	case ARG_ONE_OF:
		for (i = 0; i < r->nk; i++)
			b[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, r->k[i],
				      r->nk - i, 0);
		b[n++] = DENY;
		b[n++] = ALLOW;
		break;
	case ARG_NOT_WX:
		b[n++] = STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC);
		b[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC,
			      0, 1);
		b[n++] = DENY;
		b[n++] = ALLOW;
		break;
	}
	f[0] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, n);
	memcpy(f + 1, b, n * sizeof(*b));
	return n + 1;
}

static const struct arg_rule *rule_of(int nr, int profile)
{
	unsigned int i;

	for (i = 0; i < NR_RULES; i++)
		if (rules[i].nr == nr && (profile == PROFILE_ARGS || !rules[i].sandbox))
			return &rules[i];
	return NULL;
}

static void profile_build(int profile)
{
	struct sock_filter *f = filters[profile];
	unsigned int i, n = 0;

	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS,
		      offsetof(struct seccomp_data, arch));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS,
		      offsetof(struct seccomp_data, nr));
	/* x32 numbers fall through every compare to EPERM. */
	for (i = 0; i < NR_ALLOWED; i++)
		n += emit_call(f + n, allowed[i], rule_of(allowed[i], profile));
	f[n++] = DENY;
	profiles[profile].filter = f;
	profiles[profile].len = n;
}

/*
 * Install @profile in this process, isolated when @iso: 0 or -1.  The
 * sysctl is opened first: the profile may refuse to open it for writing.
 */
static int profile_install(int profile, int iso)
{
	int fd = -1, err;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	if (iso) {
		fd = open(MOAT_SYSCTL, O_WRONLY);
		if (fd < 0 || pwrite(fd, "2", 1, 0) != 1)
			return -1;
	}
	err = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0,
		      &profiles[profile]);
	if (iso && (pwrite(fd, "0", 1, 0) != 1 || close(fd)))
		return -1;
	return err ? -1 : 0;
}

struct sc_case {
	const char *name;
	int profile;
	/* The unit of work, @n times (in the filtered child): 0 or -1. */
	int (*loop)(long n);
	int server;		/* the parent is the client of an HTTP server */
	int state;		/* set by attach: -1 base, 0 plain, 1 isolated */
};

static int loop_getppid(long n)
{
	long i;

	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}

static int loop_mmap(long n)
{
	long i;
	void *p;

	for (i = 0; i < n; i++) {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || munmap(p, 4096))
			return -1;
	}
	return 0;
}

static int loop_file(long n)
{
	char buf[PAGE_BYTES];
	struct stat st;
	long i;
	int fd;

	for (i = 0; i < n; i++) {
		fd = openat(AT_FDCWD, PAGE_FILE, O_RDONLY);
		if (fd < 0 || fstat(fd, &st) ||
		    read(fd, buf, sizeof(buf)) != PAGE_BYTES || close(fd))
			return -1;
	}
	return 0;
}

static int listen_fd;
static struct sockaddr_in server_addr;

/* The server: @n requests, one connection each, then it ends. */
static int loop_http(long n)
{
	static const char head[] = "HTTP/1.0 200 OK\r\n"
		"Content-Type: text/html\r\nContent-Length: 612\r\n\r\n";
	char req[1024], body[PAGE_BYTES];
	struct iovec iov[2] = {
		{ (void *)head, sizeof(head) - 1 }, { body, sizeof(body) },
	};
	struct stat st;
	long i;
	int c, fd;

	for (i = 0; i < n; i++) {
		c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0 || read(c, req, sizeof(req)) <= 0)
			return -1;
		fd = openat(AT_FDCWD, PAGE_FILE, O_RDONLY);
		if (fd < 0 || fstat(fd, &st) ||
		    read(fd, body, sizeof(body)) != PAGE_BYTES ||
		    writev(c, iov, 2) != (ssize_t)(sizeof(head) - 1 + PAGE_BYTES))
			return -1;
		close(fd);
		close(c);
	}
	return 0;
}

/* The client: @n requests to the server; 0 or -1. */
static int http_client(long n)
{
	static const char get[] = "GET / HTTP/1.0\r\nHost: moat\r\n\r\n";
	/* A server that died is not waited for: the listener is ours too. */
	struct timeval tmo = { .tv_sec = 10 };
	char buf[2048];
	long i, got;
	ssize_t r;
	int s;

	for (i = 0; i < n; i++) {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -1;
		if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) ||
		    connect(s, (struct sockaddr *)&server_addr,
			    sizeof(server_addr)) ||
		    write(s, get, sizeof(get) - 1) != sizeof(get) - 1) {
			close(s);
			return -1;
		}
		got = 0;
		while ((r = read(s, buf, sizeof(buf))) > 0)
			got += r;
		close(s);
		if (got < PAGE_BYTES)
			return -1;
	}
	return 0;
}

static int sc_attach(struct bench_case *c, int iso)
{
	((struct sc_case *)c->priv)->state = iso;
	return 0;
}

static void sc_detach(struct bench_case *c)
{
	((struct sc_case *)c->priv)->state = -1;
}

/*
 * One child does the work under the filter the state asks for.  It
 * reports its own time; for the web server the client here times it.
 */
static long long sc_work(struct bench_case *c, long n)
{
	struct sc_case *s = c->priv;
	long long t = 0, child_t;
	int rep[2], status;
	pid_t pid;

	if (pipe(rep))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(rep[0]);
		close(rep[1]);
		return -1;
	}
	if (!pid) {
		close(rep[0]);
		if (s->state >= 0 && profile_install(s->profile, s->state))
			_exit(2);
		t = bench_now();
		if (s->loop(n))
			_exit(3);
		t = bench_now() - t;
		if (write(rep[1], &t, sizeof(t)) != sizeof(t))
			_exit(4);
		_exit(0);
	}
	close(rep[1]);
	if (s->server) {
		t = bench_now();
		if (http_client(n))
			kill(pid, SIGKILL);	/* and the read below fails */
		t = bench_now() - t;
	}
	if (read(rep[0], &child_t, sizeof(child_t)) != sizeof(child_t))
		t = child_t = -1;
	else if (!s->server)
		t = child_t;
	close(rep[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "seccomp: %s: the child failed (status %#x)\n",
			s->name, status);
		return -1;
	}
	return t;
}

static int setup(void)
{
	char page[PAGE_BYTES];
	socklen_t len = sizeof(server_addr);
	int fd;

	memset(page, 'm', sizeof(page));
	fd = open(PAGE_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, page, sizeof(page)) != sizeof(page) ||
	    close(fd)) {
		perror("seccomp: setup");
		return -1;
	}
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 ||
	    bind(listen_fd, (struct sockaddr *)&server_addr,
		 sizeof(server_addr)) ||
	    getsockname(listen_fd, (struct sockaddr *)&server_addr, &len) ||
	    listen(listen_fd, 128)) {
		perror("seccomp: server socket");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct sc_case cs[] = {
		{ .name = "getppid", .loop = loop_getppid },
		{ .name = "file", .loop = loop_file },
		{ .name = "http", .loop = loop_http, .server = 1 },
		{ .name = "file+args", .profile = PROFILE_ARGS, .loop = loop_file },
		{ .name = "mmap+args", .profile = PROFILE_ARGS, .loop = loop_mmap },
		{ .name = "http+args", .profile = PROFILE_ARGS, .loop = loop_http,
		  .server = 1 },
	};
	int rounds = bench_quick() ? 2 : 3;
	unsigned int i;
	int ret = 0;

	if (bench_no_moat("seccomp"))
		return 0;
	profile_build(PROFILE_DOCKER);
	profile_build(PROFILE_ARGS);
	if (setup())
		return 1;
	printf("seccomp: %u allowed calls; %u instructions (Docker's rules), %u (with the argument rules)\n",
	       (unsigned int)NR_ALLOWED, profiles[PROFILE_DOCKER].len,
	       profiles[PROFILE_ARGS].len);
	fflush(stdout);
	for (i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		long n = cs[i].server ? 1000 : 10000;
		struct bench_case c = {
			.workload = "seccomp", .name = cs[i].name,
			.unit = "iteration",
			.n = bench_quick() ? n / 10 : n, .base = 1,
			.attach = sc_attach, .detach = sc_detach,
			.work = sc_work, .priv = &cs[i],
		};

		if (!bench_wanted(argc, argv, cs[i].name))
			continue;
		cs[i].state = -1;
		if (bench_run(&c, rounds))
			ret = 1;
	}
	unlink(PAGE_FILE);
	return ret;
}
