/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The side-by-side driver every benchmark of bench/ shares.
 *
 * A case is a unit of work (a packet, a syscall, a process) done n times
 * in a loop, with BPF programs attached plain ("off") or isolated ("on",
 * loaded with BPF_F_MOAT under kernel.bpf_moat=1, their maps created with
 * it, and run with the sysctl back at 0), and optionally with nothing
 * attached ("base").  The states
 * alternate within each round, in one boot; the best round of each is
 * kept.  What MOAT counted while the isolated programs ran
 * (/sys/kernel/debug/bpf_moat/stats) is reported per unit.
 *
 * The host does not read times: it reads nanoseconds.  Under
 * "qemu -icount shift=0,sleep=off" with one vCPU a guest nanosecond is one
 * executed instruction, so the same lines are instruction counts there;
 * scripts/bench-report.sh puts the two boots side by side.
 *
 * One line per case:
 *   R <workload> <case> <unit> n=N base=B off=F on=O runs=R helpers=H
 *     pkrs=P tlb=T
 * B, F, O in ns per unit (base=- when not measured); R, H, P, T per unit.
 */
#ifndef MOAT_BENCH_H
#define MOAT_BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfobj.h"
#include "moat.h"

struct bench_events {
	long long runs, helpers, pkrs, tlb;
};

static inline void bench_events(struct bench_events *e)
{
	e->runs = moat_file_value(MOAT_STATS, "runs");
	e->helpers = moat_file_value(MOAT_STATS, "helper_calls");
	e->pkrs = moat_file_value(MOAT_STATS, "pkrs_writes");
	/*
	 * INVLPGs: IST stacks closed in NMI-context runs, packet pages,
	 * frames of nested runs (Layer II).
	 */
	e->tlb = moat_file_value(MOAT_STATS, "ist_tlb_flushes") +
		 moat_file_value(MOAT_STATS, "ctx_tlb_flushes") +
		 moat_file_value(MOAT_STATS, "frame_tlb_flushes");
}

static inline long long bench_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* 1 for "make bench QUICK=1": fewer units and rounds. */
static inline int bench_quick(void)
{
	const char *q = getenv("MOAT_BENCH_QUICK");

	return q && *q && strcmp(q, "0");
}

struct bench_case {
	const char *workload, *name, *unit;
	long n;			/* units per round */
	int base;		/* also measure with nothing attached */
	/* Attach the case's programs, plain (iso = 0) or isolated: 0/-errno. */
	int (*attach)(struct bench_case *c, int iso);
	void (*detach)(struct bench_case *c);
	/* Do @n units of work: the ns they took (measured by the case), < 0 on error. */
	long long (*work)(struct bench_case *c, long n);
	void *priv;
};

/*
 * Load BPF object bench/@name, every program isolated when @iso: the
 * object, or NULL (reported).
 */
static inline struct bpf_object *bench_load(const char *name, int iso)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	int err;

	obj = bpf_object__open_file(smoke_obj_path("bench", name), NULL);
	if (libbpf_get_error(obj)) {
		fprintf(stderr, "bench: cannot open %s.bpf.o\n", name);
		return NULL;
	}
	if (iso) {
		moat_isolate_object(obj);
		if (moat_set_mode("1")) {
			fprintf(stderr, "bench: cannot write %s\n", MOAT_SYSCTL);
			bpf_object__close(obj);
			return NULL;
		}
	}
	err = bpf_object__load(obj);
	if (iso)
		moat_set_mode("0");
	if (err) {
		fprintf(stderr, "bench: loading %s (%s): %s\n", name,
			iso ? "isolated" : "plain", strerror(-err));
		bpf_object__close(obj);
		return NULL;
	}
	/* The checks MOAT put before each isolated program's calls. */
	bpf_object__for_each_program(p, obj)
		if (iso && bpf_program__fd(p) >= 0)
			printf("C %s %s calls=%lld scalar=%lld gated=%lld\n",
			       name, bpf_program__name(p),
			       fdinfo(bpf_program__fd(p), "moat_calls"),
			       fdinfo(bpf_program__fd(p), "moat_scalar_checks"),
			       fdinfo(bpf_program__fd(p), "moat_gated_args"));
	return obj;
}

static inline int bench_prog_fd(struct bpf_object *obj, const char *prog)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, prog);

	return p ? bpf_program__fd(p) : -ENOENT;
}

/* One measured state of a round: ns per unit, or -1. */
static inline double bench_state(struct bench_case *c, int state, long n,
				 struct bench_events *d)
{
	struct bench_events e0, e1;
	long long ns;

	if (state >= 0 && c->attach(c, state)) {
		fprintf(stderr, "bench: %s/%s: cannot attach (%s)\n",
			c->workload, c->name, state ? "isolated" : "plain");
		return -1;
	}
	bench_events(&e0);
	ns = c->work(c, n);
	bench_events(&e1);
	if (state >= 0)
		c->detach(c);
	if (ns < 0) {
		fprintf(stderr, "bench: %s/%s: the workload failed\n",
			c->workload, c->name);
		return -1;
	}
	if (d) {
		d->runs += e1.runs - e0.runs;
		d->helpers += e1.helpers - e0.helpers;
		d->pkrs += e1.pkrs - e0.pkrs;
		d->tlb += e1.tlb - e0.tlb;
	}
	return (double)ns / n;
}

static inline double bench_min(double best, double v)
{
	return best < 0 || (v >= 0 && v < best) ? v : best;
}

/* Measure case @c over @rounds rounds and print its line: 0, or -1. */
static inline int bench_run(struct bench_case *c, int rounds)
{
	struct bench_events d = {};
	double base = -1, off = -1, on = -1, v;
	int r;

	/* One unmeasured pass warms caches, slabs and the page cache. */
	if (bench_state(c, 0, c->n / 10 + 1, NULL) < 0)
		return -1;
	for (r = 0; r < rounds; r++) {
		if (c->base) {
			v = bench_state(c, -1, c->n, NULL);
			if (v < 0)
				return -1;
			base = bench_min(base, v);
		}
		v = bench_state(c, 0, c->n, NULL);
		if (v < 0)
			return -1;
		off = bench_min(off, v);
		v = bench_state(c, 1, c->n, &d);
		if (v < 0)
			return -1;
		on = bench_min(on, v);
	}
	printf("R %s %s %s n=%ld ", c->workload, c->name, c->unit, c->n);
	if (c->base)
		printf("base=%.1f ", base);
	else
		printf("base=- ");
	printf("off=%.1f on=%.1f runs=%.2f helpers=%.2f pkrs=%.2f tlb=%.2f\n",
	       off, on, (double)d.runs / (c->n * rounds),
	       (double)d.helpers / (c->n * rounds),
	       (double)d.pkrs / (c->n * rounds),
	       (double)d.tlb / (c->n * rounds));
	fflush(stdout);
	return 0;
}

/* Whether case @name was asked for: all are when no case is named. */
static inline int bench_wanted(int argc, char **argv, const char *name)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return argc < 2;
}

/* Every benchmark starts here: 1 when MOAT cannot run (said why). */
static inline int bench_no_moat(const char *prog)
{
	if (!cpu_has_pks()) {
		printf("%s: the CPU has no PKS: nothing to compare\n", prog);
		return 1;
	}
	if (moat_mode() < 0) {
		printf("%s: no %s: the kernel has no MOAT\n", prog, MOAT_SYSCTL);
		return 1;
	}
	return 0;
}

#endif
