// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's tracing benchmark (Fig. 15 shape): the 11 programs of
 * tracing.bpf.c attached, under a UnixBench-like set of workloads.  Each
 * workload's unit is one iteration of its loop; "base" is the loop with
 * no program attached (the paper normalises to it).
 *
 *   syscall   close(dup(0)), getpid(), getuid(), umask()
 *   pipe      write and read 512 bytes through a pipe
 *   pipectx   a 4-byte token there and back between two processes
 *   execl     one execve() of this program
 *   fc1..3    copy one block of a tmpfs file: 256, 1024, 4096 bytes
 *   proc      fork(), _exit() in the child, waitpid()
 *   shell1    one busybox "sh -c" of a small pipeline
 *   shell8    eight of them at once
 *
 *	tracing
 *	tracing --exec-chain N	(internal: execve() itself N more times)
 */
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bench.h"

struct tracing {
	const char *name;
	long n, quick_n;
	long long (*loop)(long n, long arg);
	long arg;
};

static struct bpf_object *objs[2];
static struct bpf_link *links[16];
static int nr_links;

static void tr_detach(struct bench_case *c)
{
	while (nr_links > 0)
		bpf_link__destroy(links[--nr_links]);
}

static int tr_attach(struct bench_case *c, int iso)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, objs[iso]) {
		struct bpf_link *l = bpf_program__attach(p);

		if (libbpf_get_error(l) || nr_links == 16) {
			fprintf(stderr, "tracing: cannot attach %s\n",
				bpf_program__name(p));
			tr_detach(c);
			return -1;
		}
		links[nr_links++] = l;
	}
	return 0;
}

static long long loop_syscall(long n, long arg)
{
	long long t = bench_now();
	long i;

	for (i = 0; i < n; i++) {
		close(dup(0));
		syscall(SYS_getpid);
		getuid();
		umask(022);
	}
	return bench_now() - t;
}

static long long loop_pipe(long n, long arg)
{
	char buf[512] = "";
	long long t;
	int p[2];
	long i;

	if (pipe(p))
		return -1;
	t = bench_now();
	for (i = 0; i < n; i++)
		if (write(p[1], buf, sizeof(buf)) != sizeof(buf) ||
		    read(p[0], buf, sizeof(buf)) != sizeof(buf))
			break;
	t = bench_now() - t;
	close(p[0]);
	close(p[1]);
	return i == n ? t : -1;
}

static long long loop_pipectx(long n, long arg)
{
	int there[2], back[2], status;
	long long t;
	int token = 0;
	pid_t pid;
	long i;

	if (pipe(there) || pipe(back))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(there[1]);
		close(back[0]);
		while (read(there[0], &token, sizeof(token)) == sizeof(token))
			if (write(back[1], &token, sizeof(token)) != sizeof(token))
				break;
		_exit(0);
	}
	close(there[0]);
	close(back[1]);
	t = bench_now();
	for (i = 0; pid > 0 && i < n; i++)
		if (write(there[1], &token, sizeof(token)) != sizeof(token) ||
		    read(back[0], &token, sizeof(token)) != sizeof(token))
			break;
	t = bench_now() - t;
	close(there[1]);
	close(back[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return pid > 0 && i == n ? t : -1;
}

/* fork() + wait for @argv; its exit status, or -1. */
static int spawn(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static long long loop_execl(long n, long arg)
{
	char count[24], self[256];
	char *argv[] = { self, "--exec-chain", count, NULL };
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	long long t;

	if (len <= 0)
		return -1;
	self[len] = '\0';
	snprintf(count, sizeof(count), "%ld", n - 1);
	t = bench_now();
	if (spawn(argv))
		return -1;
	return bench_now() - t;
}

static long long loop_fc(long n, long bs)
{
	static char buf[4096];
	int in, out;
	long long t;
	long i;

	in = open("/tmp/fc.src", O_RDONLY);
	out = open("/tmp/fc.dst", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (in < 0 || out < 0)
		return -1;
	t = bench_now();
	for (i = 0; i < n; i++) {
		ssize_t got = read(in, buf, bs);

		if (got == 0) {	/* end of the 1 MiB source: start over */
			lseek(in, 0, SEEK_SET);
			lseek(out, 0, SEEK_SET);
			got = read(in, buf, bs);
		}
		if (got <= 0 || write(out, buf, got) != got)
			break;
	}
	t = bench_now() - t;
	close(in);
	close(out);
	return i == n ? t : -1;
}

static long long loop_proc(long n, long arg)
{
	long long t = bench_now();
	int status;
	long i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			return -1;
	}
	return bench_now() - t;
}

static long long loop_shell(long n, long width)
{
	char *argv[] = { "/bin/sh", "-c",
		"echo one two three | tr a-z A-Z | wc -c > /dev/null; "
		"ls /tests > /dev/null; x=0; while [ $x -lt 5 ]; do x=$((x+1)); done",
		NULL };
	long long t = bench_now();
	long i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < width; k++) {
			pid_t pid = fork();

			if (pid == 0) {
				execv(argv[0], argv);
				_exit(127);
			}
			if (pid < 0)
				return -1;
		}
		for (k = 0; k < width; k++) {
			int status;

			if (wait(&status) < 0 || !WIFEXITED(status) ||
			    WEXITSTATUS(status))
				return -1;
		}
	}
	return bench_now() - t;
}

static struct tracing workloads[] = {
	{ "syscall", 20000, 2000, loop_syscall, 0 },
	{ "pipe", 20000, 2000, loop_pipe, 0 },
	{ "pipectx", 5000, 500, loop_pipectx, 0 },
	{ "execl", 200, 20, loop_execl, 0 },
	{ "fc1", 8000, 800, loop_fc, 256 },
	{ "fc2", 8000, 800, loop_fc, 1024 },
	{ "fc3", 8000, 800, loop_fc, 4096 },
	{ "proc", 500, 50, loop_proc, 0 },
	{ "shell1", 40, 4, loop_shell, 1 },
	{ "shell8", 8, 2, loop_shell, 8 },
};

static long long tr_work(struct bench_case *c, long n)
{
	struct tracing *w = c->priv;

	return w->loop(n, w->arg);
}

static int make_source(void)
{
	static char block[4096];
	int fd = open("/tmp/fc.src", O_WRONLY | O_CREAT | O_TRUNC, 0600), i;

	if (fd < 0)
		return -1;
	memset(block, 'm', sizeof(block));
	for (i = 0; i < 256; i++)
		if (write(fd, block, sizeof(block)) != sizeof(block))
			break;
	close(fd);
	return i == 256 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int rounds = bench_quick() ? 2 : 3;
	unsigned int i;
	int ret = 0;

	if (argc == 3 && !strcmp(argv[1], "--exec-chain")) {
		char count[24];
		long left = atol(argv[2]);

		if (left <= 0)
			return 0;
		snprintf(count, sizeof(count), "%ld", left - 1);
		argv[2] = count;
		execv("/proc/self/exe", argv);
		return 1;
	}
	if (bench_no_moat("tracing"))
		return 0;
	objs[0] = bench_load("tracing", 0);
	objs[1] = bench_load("tracing", 1);
	if (!objs[0] || !objs[1] || make_source())
		return 1;
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		struct bench_case c = {
			.workload = "tracing", .name = workloads[i].name,
			.unit = "iteration", .base = 1,
			.n = bench_quick() ? workloads[i].quick_n : workloads[i].n,
			.attach = tr_attach, .detach = tr_detach,
			.work = tr_work, .priv = &workloads[i],
		};

		if (!bench_wanted(argc, argv, workloads[i].name))
			continue;
		if (bench_run(&c, rounds))
			ret = 1;
	}
	unlink("/tmp/fc.src");
	unlink("/tmp/fc.dst");
	return ret;
}
