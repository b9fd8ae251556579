// SPDX-License-Identifier: GPL-2.0
/*
 * What MOAT's Layer II costs per run as the number of domains grows: N
 * socket filters, each with an array map of its own (so each in a domain
 * of its own), run in turn with BPF_PROG_TEST_RUN, one run per call.
 * Unit: one run.  Cases: 1 (one program back to back), 2 (two
 * alternating), 6 (as many as there are domain keys), 7 (one more: in
 * turn, every run takes a key from another domain), 10, 32, 64, 128.
 * And vK: one program with K maps, run back to back, while K other
 * programs (not run) each use one of those maps, so that the program's
 * maps are in K domains and each of its runs holds K keys: what a
 * domain more in a program's view costs.
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
	int nr;		/* programs, a map each, run in turn */
	int views;	/* or one program with this many domains */
};

#define MAX_VIEW 6

static int maps[MAX_DOMS], progs[MAX_DOMS + MAX_VIEW], nr_loaded, nr_progs;
/* How many of progs[] are run, in turn. */
static int nr_run;

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

/* A filter that adds 1 to the value of each of its @n maps; returns 0. */
static int l2_prog(const int *map, int n, int iso)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = iso ? BPF_F_MOAT : 0);
	struct bpf_insn insns[MAX_VIEW * 5 + 2] = {}, *i = insns;
	int k;

	for (k = 0; k < n && k < MAX_VIEW; k++) {
		*i = (struct bpf_insn){ .code = BPF_LD | BPF_DW | BPF_IMM,
					.dst_reg = BPF_REG_1,
					.src_reg = BPF_PSEUDO_MAP_VALUE,
					.imm = map[k] };
		i += 2;
		*i++ = (struct bpf_insn){ .code = BPF_LDX | BPF_MEM | BPF_DW,
					  .dst_reg = BPF_REG_2,
					  .src_reg = BPF_REG_1 };
		*i++ = (struct bpf_insn){ .code = BPF_ALU64 | BPF_ADD | BPF_K,
					  .dst_reg = BPF_REG_2, .imm = 1 };
		*i++ = (struct bpf_insn){ .code = BPF_STX | BPF_MEM | BPF_DW,
					  .dst_reg = BPF_REG_1,
					  .src_reg = BPF_REG_2 };
	}
	*i++ = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K,
				  .dst_reg = BPF_REG_0 };
	*i++ = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "l2", "GPL", insns,
			     i - insns, &o);
}

/* Isolated programs in domains before the case's were loaded. */
static long long l2_before;

static void l2_detach(struct bench_case *c)
{
	int i;

	for (i = 0; i < nr_progs; i++)
		close(progs[i]);
	for (i = 0; i < nr_loaded; i++)
		close(maps[i]);
	nr_loaded = nr_progs = 0;
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
	int err = 0, i;

	l2_before = moat_file_value(MOAT_DOMAINS, "programs");
	if (iso && moat_set_mode("1"))
		return -1;
	nr_loaded = nr_progs = 0;
	nr_run = l->views ? 1 : l->nr;
	while (nr_loaded < (l->views ?: l->nr)) {
		maps[nr_loaded] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "l2", 4, 8,
						 1, &mo);
		if (maps[nr_loaded] < 0) {
			err = -1;
			break;
		}
		nr_loaded++;
		if (l->views)
			continue;
		progs[nr_progs] = l2_prog(&maps[nr_loaded - 1], 1, iso);
		if (progs[nr_progs] < 0) {
			err = -1;
			break;
		}
		nr_progs++;
	}
	/* The program run, then one per map to put each in a domain. */
	for (i = 0; !err && l->views && i <= l->views; i++) {
		progs[nr_progs] = i ? l2_prog(&maps[i - 1], 1, iso) :
				      l2_prog(maps, l->views, iso);
		if (progs[nr_progs] < 0)
			err = -1;
		else
			nr_progs++;
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
		if (bpf_prog_test_run_opts(progs[i % nr_run], &opts))
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
		{ 1, 0 }, { 2, 0 }, { 6, 0 }, { 7, 0 }, { 10, 0 }, { 32, 0 },
		{ 64, 0 }, { 128, 0 },
		{ 1, 2 }, { 1, 4 }, { 1, 6 },
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

		if (cases[i].views)
			snprintf(name, sizeof(name), "v%d", cases[i].views);
		else
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
