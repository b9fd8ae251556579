// SPDX-License-Identifier: GPL-2.0
/*
 * MOAT on vs off, side by side in one boot.
 *
 * Each program of bench.bpf.c is loaded twice, plain and isolated
 * (BPF_F_MOAT under kernel.bpf_moat=1), and run REPEAT times on the same
 * 64-byte packet with BPF_PROG_TEST_RUN, alternating plain and isolated
 * for ROUNDS rounds.  Reported per invocation: time (the kernel's own
 * average over the repeat loop; the best round), and the events MOAT
 * counts (/sys/kernel/debug/bpf_moat/stats): runs, helper calls through
 * the gate, PKRS writes, TLB flushes (IST stacks closed in NMI-context
 * runs, packet pages mapped into windows; 0 for these 64-byte packets in
 * task context).  Also the JIT image sizes, plain and isolated.
 *
 * Under QEMU TCG a PKRS write costs about 1.7 us instead of about 111
 * cycles on hardware, so the times overstate MOAT's cost here; the event
 * counts are what carries over.
 *
 *	moat_bench [repeat [rounds]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfobj.h"
#include "moat.h"

static const char *const progs[] = { "nop", "map_add", "helpers4" };
#define NR_PROGS (sizeof(progs) / sizeof(progs[0]))

/* TLB entries MOAT flushed: closing IST stacks, mapping packet pages. */
static long long tlb_flushes(void)
{
	return moat_file_value(MOAT_STATS, "ist_tlb_flushes") +
	       moat_file_value(MOAT_STATS, "ctx_tlb_flushes");
}

static struct bpf_object *load(int isolated)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	int err;

	obj = bpf_object__open_file(smoke_obj_path("bench", "bench"), NULL);
	if (libbpf_get_error(obj)) {
		fprintf(stderr, "moat_bench: cannot open bench.bpf.o\n");
		return NULL;
	}
	if (isolated) {
		bpf_object__for_each_program(p, obj)
			bpf_program__set_flags(p, BPF_F_MOAT);
		if (moat_set_mode("1")) {
			fprintf(stderr, "moat_bench: cannot write %s\n",
				MOAT_SYSCTL);
			bpf_object__close(obj);
			return NULL;
		}
	}
	err = bpf_object__load(obj);
	if (isolated)
		moat_set_mode("0");
	if (err) {
		fprintf(stderr, "moat_bench: loading (%s): %s\n",
			isolated ? "isolated" : "plain", strerror(-err));
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

/* Average ns per run over @repeat runs, or -1. */
static long long run(int fd, int repeat)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -1;
	return opts.duration;
}

static __u32 jited_len(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.jited_prog_len;
}

int main(int argc, char **argv)
{
	int repeat = argc > 1 ? atoi(argv[1]) : 2000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	struct bpf_object *plain, *iso;
	unsigned int i;

	if (argc > 3 || repeat <= 0 || rounds <= 0) {
		fprintf(stderr, "usage: moat_bench [repeat>0 [rounds>0]]\n");
		return 2;
	}
	if (!cpu_has_pks()) {
		printf("moat_bench: the CPU has no PKS: nothing to compare\n");
		return 0;
	}
	plain = load(0);
	iso = load(1);
	if (!plain || !iso)
		return 1;

	printf("%-9s %9s %9s %7s | %6s %7s %7s %5s | %6s %6s\n", "program",
	       "off ns", "on ns", "ratio", "runs", "helpers", "PKRS wr",
	       "TLB", "JIT off", "JIT on");
	for (i = 0; i < NR_PROGS; i++) {
		int pfd = bpf_program__fd(bpf_object__find_program_by_name(plain, progs[i]));
		int ifd = bpf_program__fd(bpf_object__find_program_by_name(iso, progs[i]));
		long long best_off = -1, best_on = -1, t;
		long long r0, h0, w0, r1, h1, w1, f0, f1;
		int k;

		r0 = moat_file_value(MOAT_STATS, "runs");
		h0 = moat_file_value(MOAT_STATS, "helper_calls");
		w0 = moat_file_value(MOAT_STATS, "pkrs_writes");
		for (k = 0; k < rounds; k++) {
			t = run(pfd, repeat);
			if (t >= 0 && (best_off < 0 || t < best_off))
				best_off = t;
		}
		r1 = moat_file_value(MOAT_STATS, "runs");
		if (r1 != r0)
			printf("  (%lld isolated runs happened during the plain runs)\n",
			       r1 - r0);
		r0 = r1;
		h0 = moat_file_value(MOAT_STATS, "helper_calls");
		w0 = moat_file_value(MOAT_STATS, "pkrs_writes");
		f0 = tlb_flushes();
		for (k = 0; k < rounds; k++) {
			t = run(ifd, repeat);
			if (t >= 0 && (best_on < 0 || t < best_on))
				best_on = t;
		}
		r1 = moat_file_value(MOAT_STATS, "runs");
		h1 = moat_file_value(MOAT_STATS, "helper_calls");
		w1 = moat_file_value(MOAT_STATS, "pkrs_writes");
		f1 = tlb_flushes();
		printf("%-9s %9lld %9lld %6.1fx | %6.2f %7.2f %7.2f %5.2f | %6u %6u\n",
		       progs[i], best_off, best_on,
		       best_off > 0 ? (double)best_on / best_off : 0.0,
		       (double)(r1 - r0) / (repeat * rounds),
		       (double)(h1 - h0) / (repeat * rounds),
		       (double)(w1 - w0) / (repeat * rounds),
		       (double)(f1 - f0) / (repeat * rounds),
		       jited_len(pfd), jited_len(ifd));
	}
	printf("per invocation; runs/helpers/PKRS writes/TLB flushes are MOAT's counters for the isolated runs (0 for plain)\n");
	bpf_object__close(plain);
	bpf_object__close(iso);
	return 0;
}
