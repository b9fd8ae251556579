// SPDX-License-Identifier: GPL-2.0
/*
 * Legitimate kprobe and raw tracepoint programs give the same results with
 * MOAT off and isolated, while a second process on the other vCPU makes
 * the same programs run (isolated) there at the same time.
 *
 * Each case loads types.bpf.c, attaches it, makes NR_CALLS getppid() calls
 * and NR_FORKS forks from this process, and checks the exact counts and
 * the context-derived counts.  "isolated" cases load with BPF_F_MOAT under
 * kernel.bpf_moat=1 and also check fdinfo and MOAT's run counter; they are
 * skipped on a CPU without PKS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "bpfobj.h"
#include "moat.h"

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

static void run_types(int isolated)
{
	struct bpf_program *p;
	struct bpf_link *links[2] = {};
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
	bpf_object__for_each_program(p, obj)
		if (isolated)
			bpf_program__set_flags(p, bpf_program__flags(p) |
						  BPF_F_MOAT);
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
		links[n] = bpf_program__attach(p);
		if (libbpf_get_error(links[n])) {
			links[n] = NULL;
			snprintf(err, sizeof(err), "attaching %s: %s",
				 bpf_program__name(p), strerror(errno));
			break;
		}
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
	moat_set_mode("0");
	return test_exit();
}
