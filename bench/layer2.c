// SPDX-License-Identifier: GPL-2.0
/*
 * What MOAT's Layer II costs per run as the number of domains grows: N
 * socket filters, each with an array map of its own (so each in a domain
 * of its own), run in turn with BPF_PROG_TEST_RUN, one run per call.
 * Unit: one run.  Cases: 1 (one program back to back), 2 (two
 * alternating), 6 (as many as there are domain keys), 7 (one more: in
 * turn, every run takes a key from another domain), 10, 32, 64, 128.
 *
 * Besides the R line of bench.h, an L line gives Layer II's events per
 * run: keys that changed hands, PTEs rewritten for them, full local TLB
 * flushes, runs refused; Layer II writes no CR3.
 *
 *	layer2 [CASE...]
 */
#include <sys/resource.h>

#include "bench.h"

#define MAX_DOMS 128

struct l2_case {
	int nr;
};

static int maps[MAX_DOMS], progs[MAX_DOMS], nr_loaded;

struct l2_events {
	long long moves, pages, flushes, refused;
};

static void l2_events(struct l2_events *e)
{
	e->moves = moat_file_value(MOAT_DOMAINS, "key_moves");
	e->pages = moat_file_value(MOAT_DOMAINS, "pages_rekeyed");
	e->flushes = moat_file_value(MOAT_DOMAINS, "tlb_flushes");
	e->refused = moat_file_value(MOAT_DOMAINS, "no_key");
}

static struct l2_events l2_sum;

/* A filter that adds 1 to the value of its map @map; returns 0. */
static int l2_prog(int map, int iso)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = iso ? BPF_F_MOAT : 0);
	struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = map },
		{},
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2,
		  .imm = 1 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_REG_2 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "l2", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &o);
}

/* Isolated programs in domains before the case's were loaded. */
static long long l2_before;

static void l2_detach(struct bench_case *c)
{
	int i;

	for (i = 0; i < nr_loaded; i++) {
		close(progs[i]);
		close(maps[i]);
	}
	nr_loaded = 0;
	/*
	 * Programs are freed later, each with a grace period when its map
	 * had a key: wait for that here, not in the next case's runs.
	 */
	for (i = 0; i < 1000; i++) {
		if (moat_file_value(MOAT_DOMAINS, "programs") <= l2_before)
			break;
		usleep(10000);
	}
}

static int l2_attach(struct bench_case *c, int iso)
{
	struct l2_case *l = c->priv;
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = iso ? BPF_F_MOAT : 0);
	int err = 0;

	l2_before = moat_file_value(MOAT_DOMAINS, "programs");
	if (iso && moat_set_mode("1"))
		return -1;
	for (nr_loaded = 0; nr_loaded < l->nr; nr_loaded++) {
		int i = nr_loaded;

		maps[i] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "l2", 4, 8, 1, &mo);
		progs[i] = maps[i] < 0 ? -1 : l2_prog(maps[i], iso);
		if (progs[i] < 0) {
			if (maps[i] >= 0)
				close(maps[i]);
			err = -1;
			break;
		}
	}
	if (iso)
		moat_set_mode("0");
	if (err) {
		perror("layer2: loading");
		l2_detach(c);
	}
	return err;
}

static long long l2_work(struct bench_case *c, long n)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	struct l2_events e0, e1;
	long long t;
	long i;

	l2_events(&e0);
	t = bench_now();
	for (i = 0; i < n; i++)
		if (bpf_prog_test_run_opts(progs[i % nr_loaded], &opts))
			return -1;
	t = bench_now() - t;
	l2_events(&e1);
	l2_sum.moves += e1.moves - e0.moves;
	l2_sum.pages += e1.pages - e0.pages;
	l2_sum.flushes += e1.flushes - e0.flushes;
	l2_sum.refused += e1.refused - e0.refused;
	return t;
}

int main(int argc, char **argv)
{
	static struct l2_case cases[] = {
		{ 1 }, { 2 }, { 6 }, { 7 }, { 10 }, { 32 }, { 64 }, { 128 },
	};
	struct rlimit fds = { 4096, 4096 };
	int rounds = bench_quick() ? 2 : 3;
	long n = bench_quick() ? 256 : 2560;
	int ret = 0;
	unsigned int i;

	if (bench_no_moat("layer2"))
		return 0;
	if (moat_file_value(MOAT_DOMAINS, "keys") < 0) {
		printf("layer2: no %s: the kernel has no Layer II\n",
		       MOAT_DOMAINS);
		return 0;
	}
	setrlimit(RLIMIT_NOFILE, &fds);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[8];
		struct bench_case c = {
			.workload = "layer2", .name = name, .unit = "run",
			.n = n, .attach = l2_attach, .detach = l2_detach,
			.work = l2_work, .priv = &cases[i],
		};

		snprintf(name, sizeof(name), "%d", cases[i].nr);
		if (!bench_wanted(argc, argv, name))
			continue;
		if (bench_run(&c, rounds)) {
			ret = 1;
			continue;
		}
		/*
		 * l2_sum also counted the plain rounds and the warm-up, in
		 * which nothing is isolated: per isolated run, as bench_run().
		 */
		printf("L layer2 %s moves=%.2f pages=%.2f flushes=%.2f refused=%.2f cr3=0\n",
		       name, (double)l2_sum.moves / (n * rounds),
		       (double)l2_sum.pages / (n * rounds),
		       (double)l2_sum.flushes / (n * rounds),
		       (double)l2_sum.refused / (n * rounds));
		memset(&l2_sum, 0, sizeof(l2_sum));
		fflush(stdout);
	}
	return ret;
}
