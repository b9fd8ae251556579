// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's microbenchmark (Table 3 shape): what one invocation of an
 * isolated program costs over the same program plain, per program type,
 * and what a helper call through the gate costs.
 *
 * Socket filter, XDP and cgroup skb programs run through
 * BPF_PROG_TEST_RUN (the kernel's own loop and clock: ns per run).
 * Tracepoint, raw tracepoint and kprobe programs run on getppid(): the
 * unit is one syscall, with the program's invocation in it ("base" is the
 * syscall with nothing attached).
 *
 *	micro
 */
#include <unistd.h>
#include <sys/syscall.h>

#include "bench.h"

struct micro {
	const char *prog;
	int test_run;		/* through BPF_PROG_TEST_RUN, else getppid() */
	int fd;			/* test_run: the program picked by attach */
	struct bpf_link *link;
};

static struct bpf_object *objs[2];

static int micro_attach(struct bench_case *c, int iso)
{
	struct micro *m = c->priv;
	struct bpf_program *p;

	p = bpf_object__find_program_by_name(objs[iso], m->prog);
	if (!p)
		return -ENOENT;
	if (m->test_run) {
		m->fd = bpf_program__fd(p);
		return 0;
	}
	m->link = bpf_program__attach(p);
	return libbpf_get_error(m->link) ? -1 : 0;
}

static void micro_detach(struct bench_case *c)
{
	struct micro *m = c->priv;

	bpf_link__destroy(m->link);
	m->link = NULL;
}

static long long micro_work(struct bench_case *c, long n)
{
	/* Ethernet + IPv4/UDP header, 64 bytes in all. */
	unsigned char pkt[64] = { [12] = 0x08, [14] = 0x45, [23] = 17 };
	struct micro *m = c->priv;
	long long t;
	long i;

	if (m->test_run) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
			    .data_size_in = sizeof(pkt), .repeat = n);

		if (bpf_prog_test_run_opts(m->fd, &opts))
			return -1;
		return (long long)opts.duration * n;
	}
	t = bench_now();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return bench_now() - t;
}

int main(int argc, char **argv)
{
	static struct micro ms[] = {
		{ .prog = "sk_nop", .test_run = 1 },
		{ .prog = "sk_map", .test_run = 1 },
		{ .prog = "sk_helper1", .test_run = 1 },
		{ .prog = "sk_helper4", .test_run = 1 },
		{ .prog = "sk_hash", .test_run = 1 },
		{ .prog = "sk_load", .test_run = 1 },
		{ .prog = "xdp_nop", .test_run = 1 },
		{ .prog = "cg_nop", .test_run = 1 },
		{ .prog = "tp_nop" },
		{ .prog = "raw_tp_nop" },
		{ .prog = "kprobe_nop" },
	};
	long n = bench_quick() ? 2000 : 20000;
	int rounds = bench_quick() ? 2 : 5;
	unsigned int i;
	int ret = 0;

	if (bench_no_moat("micro"))
		return 0;
	objs[0] = bench_load("micro", 0);
	objs[1] = bench_load("micro", 1);
	if (!objs[0] || !objs[1])
		return 1;
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		struct bench_case c = {
			.workload = "micro", .name = ms[i].prog,
			.unit = ms[i].test_run ? "run" : "syscall",
			.n = n, .base = !ms[i].test_run,
			.attach = micro_attach, .detach = micro_detach,
			.work = micro_work, .priv = &ms[i],
		};

		if (!bench_wanted(argc, argv, ms[i].prog))
			continue;
		if (bench_run(&c, rounds))
			ret = 1;
	}
	bpf_object__close(objs[0]);
	bpf_object__close(objs[1]);
	return ret;
}
