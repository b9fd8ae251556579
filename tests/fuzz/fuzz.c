// SPDX-License-Identifier: GPL-2.0
/*
 * The escaped-program fuzzer: random isolated programs that use the test
 * kernel's verifier escape (bpf_moat_test_escape(), CONFIG_BPF_MOAT_TEST)
 * to forge pointers and scalars, run under interrupt and NMI load on both
 * CPUs, with the kernel's integrity checked after every batch.
 *
 * A case is one outer program (socket filter, cgroup skb or XDP, run by
 * BPF_PROG_TEST_RUN) and, in a third of the cases, an inner tracepoint
 * program on bpf_trace:bpf_trace_printk that runs nested inside the outer
 * program's bpf_trace_printk() calls on the same CPU.  Each program is a
 * list of actions: loads, stores and atomics at forged addresses (absolute
 * targets: kernel text and data, MOAT's own state (its per-CPU state on
 * both CPUs included), the direct map, the entry stacks of this and the
 * other CPU, the task stacks (where the helper gate keeps a run's return
 * frame) and thread.pks_ksp of the task running the case and of the
 * program running on the other CPU, user memory, non-canonical
 * addresses, the program's own image, read-only arrays, another program's
 * map; or small offsets from the map value, stack or context pointer),
 * helper calls with forged pointer arguments and forged sizes, and
 * legitimate accesses in between.
 *
 * The oracle knows what each action must do: an access of kernel memory
 * (or a store to read-only memory) must end the run right there with the
 * type's safe verdict and one violation counted against the program; an
 * access of the program's own memory must go through.  Actions whose
 * outcome depends on what lies at a guessed address (neighbouring BPF
 * memory, this CPU's entry stacks) may do either.  Every action stores its
 * index to the program's map first, so the oracle sees where a run ended.
 *
 * After each batch: the kernel canary, a read-only array and kernel
 * strings unchanged; a legitimate isolated program still gives its result;
 * PKS's per-CPU state checked by the PKS self-test "cpus"; no oops, BUG,
 * WARNING or KASAN report in the kernel log; the violations MOAT counted
 * in all equal those counted against the programs.  Another program's map
 * (the victim), in a domain of its own (Layer II), must not change, and
 * every access of it must end the run (unless no domain key was free for
 * it: then it is reported, not judged).
 *
 *   fuzz                         the deterministic slice of 'make test'
 *   MOAT_FUZZ=N,SEED fuzz        N cases from SEED ('make fuzz')
 *   fuzz --case SEED I           case I of SEED alone, its actions listed
 *   MOAT_FUZZ=case,SEED,I fuzz   the same (moat.fuzz=case,SEED,I)
 *
 * Case I of SEED is always the same programs: a failure is reproduced
 * with --case and shrunk to the smallest list of its actions that still
 * fails.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "moat.h"

#define PKS_TEST	"/sys/kernel/debug/pks/test"
#define PRINTK_ID	"/sys/kernel/tracing/events/bpf_trace/bpf_trace_printk/id"
#define NMI_ID		"/sys/kernel/tracing/events/nmi/nmi_handler/id"

#define SLICE_CASES	400
#define SLICE_SEED	0x4d4f4154ULL		/* "MOAT" */
#define BATCH		25

/* Layout of a program's own map value. */
#define OFF_VALUE	0	/* the value's address, laundered */
#define OFF_FP		8	/* the frame pointer, laundered */
#define OFF_CTX		16	/* the context pointer, laundered */
#define OFF_MARK	24	/* index of the action under way */
#define OFF_RUNS	32	/* runs of the program */
#define OFF_SINK	40	/* what loads read */
#define OFF_MAPP	48	/* the scratch hash map's struct bpf_map, laundered */
#define OFF_DONE	56	/* runs that got to the end */
#define OFF_OWN		64	/* [OFF_OWN, OFF_TAB): free for the program */
#define OFF_TAB		256	/* absolute targets, filled in before a run */
#define NR_SLOTS	16
/*
 * Per CPU (four, 32 bytes each): the frame, context and packet pointers,
 * laundered, that forged pointers are computed from.  OFF_FP and OFF_CTX
 * are one word for all CPUs, and an inner program in NMIs runs on both at
 * once: the other CPU's run would overwrite them between the store and
 * the use.
 */
#define OFF_LAUNDER	(OFF_TAB + 8 * NR_SLOTS)
#define LAUNDER_SHIFT	5
#define VALUE_SIZE	(OFF_LAUNDER + (4 << LAUNDER_SHIFT))
#define SCRATCH_SIZE	64

/* Packet bytes the program checks it has (every case's packet has 64). */
#define PKT_CHECKED	32

/* The stack: [-128, 0) fixed slots, [-512, -128) free for the program. */
#define FP_KEY		-8	/* u32 0, key of lookups */
#define FP_FMT		-16	/* "fz\n" */
#define FP_BUF		-64	/* 8-byte buffer of helpers */
#define FP_OWN_LO	-512
#define FP_OWN_HI	-128

#define MARK_END	0xffffULL
#define MARK_NONE	0xdeadULL
#define MAX_ACTIONS	24
#define MAX_INSNS	1024

/* --- what a forged address is */

enum cls {
	C_OWN,		/* the program's own memory: must go through */
	C_RO,		/* a read-only array value: reads go through */
	C_KERNEL,	/* kernel memory, user memory, wild: must end the run */
	C_OTHER,	/* another CPU's run's frame: must end the run */
	C_WILD,		/* whatever neighbours the program's memory: either */
	C_SELF_IST,	/* this CPU's entry area: either, maybe after the run */
	C_CEA_OTHER,	/* another CPU's entry area: stores must end the run */
	C_RET_PAGE,	/* a frame's return-address page: read-only */
	C_VICTIM,	/* another domain's map (Layer II): must end the run */
};

/*
 * Layer II: the victim map is used by an isolated program of a domain
 * with a key of its own (victim_owner), so that the cases cannot reach it.
 */
static int victim_separate;

static const char *const cls_name[] = {
	"own", "ro", "kernel", "other", "wild", "self-cea", "other-cea",
	"ret-page", "victim",
};

struct target {
	__u64 addr;
	enum cls cls;
	const char *what;
};

/* Late-bound targets: their address is known only once a case is loaded. */
enum late {
	L_NONE,
	L_OWN_VALUE,	/* own map value + OFF_OWN.. */
	L_OWN_IMAGE,	/* the program's JIT image */
	L_NMI_SELF,	/* NMI stack word of the CPU the case runs on */
	L_NMI_OTHER,	/* ... of the other CPU */
	L_CEA_SELF,	/* this CPU's entry area, NMI stack page + addr */
	L_CEA_OTHER,	/* the other CPU's */
	L_FRAME_OTHER,	/* frame pointer of the neighbour on the other CPU + addr */
	L_SHADOW_OTHER,	/* its context copy + addr */
	L_STACK_OTHER,	/* its task's stack top + addr */
};

#define MAX_TARGETS	160
static struct target targets[MAX_TARGETS];
static int nr_targets;
static __u64 nmi_word[2];		/* per CPU */
static __u64 neigh_fp[2], neigh_ctx[2];	/* the neighbours', per CPU */
static __u64 neigh_stack[2];		/* their task stacks' tops */

/* --- programs */

enum prog_type { P_SOCKET, P_CGROUP_SKB, P_XDP, P_TRACEPOINT };

static const char *const type_name[] = {
	"socket", "cgroup_skb", "xdp", "tracepoint",
};

enum kind {
	K_LOAD,		/* forged load into the sink */
	K_STORE,	/* forged store of an immediate */
	K_STORE_REG,	/* forged store of a 64-bit register */
	K_ATOMIC,	/* forged atomic add or exchange */
	K_LOOKUP_KEY,	/* bpf_map_lookup_elem(scratch, forged key) */
	K_UPDATE_VAL,	/* bpf_map_update_elem(scratch, key, forged value) */
	K_LOAD_BYTES,	/* skb/xdp_load_bytes(ctx, 0, forged dst, 8) */
	K_PRINTK_FMT,	/* bpf_trace_printk(forged fmt, 8) */
	K_PROBE_DST,	/* bpf_probe_read_kernel(forged dst, 8, own) */
	K_PROBE_SRC,	/* bpf_probe_read_kernel(buf, 8, forged src) */
	K_SIZE,		/* a helper's size, forged */
	K_NEST,		/* bpf_trace_printk("fz\n"): the inner program runs */
	K_LEGIT,	/* a store to the program's own memory */
	K_FAKE_MAP,	/* bpf_map_lookup_elem(forged struct bpf_map *, key):
			 * a hash map, as array lookups are inlined arithmetic */
	NR_KINDS,
};

static const char *const kind_name[] = {
	"load", "store", "store_reg", "atomic", "lookup_key", "update_val",
	"load_bytes", "printk_fmt", "probe_dst", "probe_src", "size", "nest",
	"legit", "fake_map",
};

enum base { B_VALUE, B_STACK, B_CTX, B_PKT };
static const char *const base_name[] = { "value", "stack", "ctx", "pkt" };

/* Whether programs of @t have a packet pointer (and may write: @w). */
static int has_pkt(enum prog_type t, int w)
{
	return t == P_XDP || (t == P_CGROUP_SKB && !w);
}

struct action {
	enum kind kind;
	enum base base;
	int abs;		/* absolute target (slot) or delta */
	int slot;		/* table slot of an absolute target */
	__s64 delta;		/* offset from the base pointer */
	int size;		/* 1, 2, 4, 8 */
	__s32 imm;
	__u64 val;
	/* what the oracle expects */
	enum cls cls;
	const char *what;
};

enum outcome { O_OK, O_TERM, O_EITHER };

struct prog {
	enum prog_type type;
	int n;
	struct action act[MAX_ACTIONS];
	/* absolute targets */
	int nr_slots;
	struct target slot[NR_SLOTS];
	enum late late[NR_SLOTS];
};

struct fuzz_case {
	struct prog outer, inner;
	int has_inner;
	int inner_nmi;		/* the inner program runs in NMIs */
	int cpu;
	int pkt_len;		/* the outer program's packet */
};

/* --- random numbers: splitmix64, one stream per case */

static __u64 rng_state;

static __u64 rnd(void)
{
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 below(__u64 n)
{
	return n ? rnd() % n : 0;
}

static int chance(int percent)
{
	return (int)below(100) < percent;
}

/* --- target pool */

static void add_target(__u64 addr, enum cls cls, const char *what)
{
	if (nr_targets < MAX_TARGETS && addr)
		targets[nr_targets++] = (struct target){ addr, cls, what };
}

/* Per-CPU symbols' values in /proc/kallsyms are offsets below this. */
#define PERCPU_END	0x1000000ULL
#define MAX_PERCPU	24

static __u64 percpu_addr[MAX_PERCPU];
static const char *percpu_name[MAX_PERCPU];
static int nr_percpu;

/*
 * MOAT's own data: every data symbol of the kernel that names it; the
 * per-CPU ones (PKS's too) noted for per_cpu_targets().
 */
static void add_moat_symbols(void)
{
	char line[256], sym[128];
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "r");
	int n = 0;
	char type;

	if (!f)
		return;
	while (n < 40 && fgets(line, sizeof(line), f)) {
		/* x86-64 lists per-CPU symbols as absolute ('A'). */
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) != 3 ||
		    !strchr("dDbBrRA", type) || strchr(line, '['))
			continue;
		if (addr < PERCPU_END) {
			if (nr_percpu < MAX_PERCPU &&
			    (strstr(sym, "moat") || strstr(sym, "pks") ||
			     strstr(sym, "pkrs"))) {
				percpu_addr[nr_percpu] = addr;
				percpu_name[nr_percpu++] = strdup(sym);
			}
			continue;
		}
		if (!strstr(sym, "moat") || type == 'A')
			continue;
		add_target(addr, C_KERNEL, strdup(sym));
		n++;
	}
	fclose(f);
}

/* The per-CPU symbols add_moat_symbols() noted, on @cpu, whose per-CPU
 * offset is @off. */
static void per_cpu_targets(int cpu, __u64 off)
{
	char *what;
	int i;

	for (i = 0; i < nr_percpu; i++) {
		if (asprintf(&what, "%s, CPU %d", percpu_name[i], cpu) < 0)
			return;
		add_target(off + percpu_addr[i], C_KERNEL, what);
	}
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int nr_cpus;
static __u64 canary_addr, canary_val;
static void *user_page;

static void build_targets(void)
{
	static const char *const syms[] = {
		"_stext", "init_cred", "init_task", "modprobe_path",
		"core_pattern", "idt_table", "jiffies_64", "array_map_ops",
		"init_uts_ns", "page_offset_base", "__per_cpu_offset",
		"pks_ist_key", "sys_call_table",
	};
	unsigned int i;
	__u64 off;

	add_target(canary_addr, C_KERNEL, "canary");
	for (i = 0; i < 8; i++)
		add_target(canary_addr + 8 * (1 + below(512)), C_KERNEL,
			   "next to the canary");
	for (i = 0; i < 8; i++)
		add_target((canary_addr & ~0x3fffffffULL) +
			   8 * below(64 << 17), C_KERNEL, "direct map");
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		add_target(moat_ksym(syms[i]), C_KERNEL, syms[i]);
	add_moat_symbols();
	for (i = 0; i < 2 && (int)i < nr_cpus; i++) {
		if (pin_cpu(i) || moat_facility_addr(MOAT_NMI_FILE, &nmi_word[i]))
			nmi_word[i] = 0;
		if (!moat_facility_addr(MOAT_PERCPU_FILE, &off))
			per_cpu_targets(i, off);
	}
	/* This task's: cases run here, and so do the gate's frames. */
	if (!moat_facility_addr(MOAT_TASK_STACK_FILE, &off))
		for (i = 0; i < 4; i++)
			add_target(off - 8 * (1 + below(1024)), C_KERNEL,
				   "task stack");
	if (!moat_facility_addr(MOAT_PKS_KSP_FILE, &off))
		add_target(off, C_KERNEL, "thread.pks_ksp");
	add_target((__u64)(unsigned long)user_page, C_KERNEL, "user page");
	add_target(0x10, C_KERNEL, "NULL page");
	add_target(0x8000000000000000ULL, C_KERNEL, "non-canonical");
	add_target(0x00007ffffffff000ULL + 0x10000, C_KERNEL,
		   "non-canonical, low");
	add_target(0xffff800000000000ULL - 0x1000, C_KERNEL,
		   "non-canonical, high");
}

/* --- the generator */

static void add_slot(struct prog *p, struct action *a, const struct target *t,
		     enum late late)
{
	int i;

	for (i = 0; i < p->nr_slots; i++)
		if (p->late[i] == late && p->slot[i].addr == t->addr)
			break;
	if (i == p->nr_slots) {
		if (p->nr_slots == NR_SLOTS)
			i = below(NR_SLOTS);
		else
			p->nr_slots++;
		p->slot[i] = *t;
		p->late[i] = late;
	}
	a->abs = 1;
	a->slot = i;
	a->cls = p->slot[i].cls;
	a->what = p->slot[i].what;
}

/*
 * Whether what lies at a late-bound target depends on the CPU the program
 * runs on (task stacks are kernel memory on every CPU).
 */
static int cpu_relative(enum late late)
{
	return late >= L_NMI_SELF && late != L_STACK_OTHER;
}

/* An absolute target for @a of @p, which runs on @cpu. */
static void pick_absolute(struct prog *p, struct action *a,
			  const struct target *ro, const struct target *victim)
{
	struct target t = { 0 };
	int r = below(100);

	if (r < 40) {
		t = targets[below(nr_targets)];
		/* Aim into the object now and then, not only at its start. */
		if (t.addr > 0x1000 && chance(30))
			t.addr += 8 * below(16);
		add_slot(p, a, &t, L_NONE);
	} else if (r < 47) {
		t = (struct target){ 0, C_KERNEL, "own JIT image" };
		add_slot(p, a, &t, L_OWN_IMAGE);
	} else if (r < 55) {
		t = (struct target){ 0, C_OWN, "own value, absolute" };
		add_slot(p, a, &t, L_OWN_VALUE);
	} else if (r < 60) {
		t = (struct target){ 0, C_SELF_IST, "NMI word, this CPU" };
		add_slot(p, a, &t, L_NMI_SELF);
	} else if (r >= 60 && r < 86 && nr_cpus < 2) {
		/* One CPU: no other CPU to aim at. */
		t = targets[below(nr_targets)];
		add_slot(p, a, &t, L_NONE);
	} else if (r < 65) {
		t = (struct target){ 0, C_KERNEL, "NMI word, other CPU" };
		add_slot(p, a, &t, L_NMI_OTHER);
	} else if (r < 71) {
		/* Pages around the NMI stack: the other entry stacks, the
		 * TSS, the GDT, guard pages. */
		t = (struct target){ 4096 * (1 - (__s64)below(14)) +
				     8 * below(512),
				     C_SELF_IST, "entry area, this CPU" };
		add_slot(p, a, &t, L_CEA_SELF);
	} else if (r < 77) {
		t = (struct target){ 4096 * (1 - (__s64)below(14)) +
				     8 * below(512),
				     C_CEA_OTHER, "entry area, other CPU" };
		add_slot(p, a, &t, L_CEA_OTHER);
	} else if (r < 82) {
		/* Its frame pointer is 8 bytes below its return address,
		 * in a page read-only to every window. */
		t = (struct target){ -1024 + 8 * (__s64)below(160), C_OTHER,
				     "frame of a program on the other CPU" };
		if ((__s64)t.addr >= 8) {
			t.cls = C_RET_PAGE;
			t.what = "return-address page of a program on the other CPU";
		}
		add_slot(p, a, &t, L_FRAME_OTHER);
	} else if (r < 86) {
		t = (struct target){ 8 * below(64), C_OTHER,
				     "context copy of a program on the other CPU" };
		add_slot(p, a, &t, L_SHADOW_OTHER);
	} else if (r < 89) {
		/* Where the other CPU's run keeps its gate's frames. */
		t = (struct target){ -8 * (1 + (__s64)below(1024)), C_KERNEL,
				     "task stack of a program on the other CPU" };
		add_slot(p, a, &t, L_STACK_OTHER);
	} else if (r < 94) {
		add_slot(p, a, ro, L_NONE);
	} else {
		add_slot(p, a, victim, L_NONE);
	}
}

static const int sizes[] = { 1, 2, 4, 8 };

/* @addr sign-extended from bit @bits - 1: @addr if canonical at @bits. */
static __u64 sext(__u64 addr, int bits)
{
	return (__u64)((__s64)(addr << (64 - bits)) >> (64 - bits));
}

/* A relative target for @a: a small offset from its base pointer. */
static void pick_relative(struct action *a)
{
	int own = chance(60), r;

	a->abs = 0;
	switch (a->base) {
	case B_VALUE:
		if (own) {
			a->delta = OFF_OWN + below(OFF_TAB - OFF_OWN - 8);
			a->cls = C_OWN;
		} else {
			/* Past the value, or before it. */
			a->delta = chance(50) ? VALUE_SIZE + (__s64)below(1 << 16) :
						-(1 + (__s64)below(1 << 16));
			a->cls = C_WILD;
		}
		break;
	case B_STACK:
		if (own) {
			/* The access is at fp + delta - 8. */
			a->delta = FP_OWN_LO + 8 +
				   below(FP_OWN_HI - FP_OWN_LO - 8);
			a->cls = C_OWN;
		} else {
			/*
			 * Above the frame pointer: the saved frame pointer,
			 * then the page with the program's return address,
			 * read-only to it; past the stack; or below the
			 * program's 512 bytes.
			 */
			r = below(100);
			if (r < 15) {
				a->delta = 8 + (__s64)below(8);
				a->cls = C_WILD;
			} else if (r < 60) {
				/* The access at fp + delta - 8, in the page. */
				a->delta = 16 + 8 * (__s64)below(511);
				a->cls = C_RET_PAGE;
				a->what = "own return-address page";
				return;
			} else if (r < 75) {
				a->delta = 4104 + (__s64)below(1 << 16);
				a->cls = C_WILD;
			} else {
				a->delta = FP_OWN_LO - (__s64)below(8192);
				a->cls = C_WILD;
			}
		}
		break;
	case B_CTX:
		if (own) {
			a->delta = 0;
			a->cls = C_OWN;
		} else {
			a->delta = (__s64)below(8192) - 4096;
			if (!a->delta)
				a->delta = 8;
			a->cls = C_WILD;
		}
		break;
	case B_PKT:
		/*
		 * Its checked bytes, or around them in its packet window:
		 * the rest of the packet, the copied edges, other frames'
		 * windows, guard pages.
		 */
		if (own) {
			a->delta = below(PKT_CHECKED - 8 + 1);
			a->cls = C_OWN;
		} else {
			a->delta = (__s64)below(1 << 17) - (1 << 16);
			if (a->delta >= 0 && a->delta <= PKT_CHECKED)
				a->delta = PKT_CHECKED + 8;
			a->cls = C_WILD;
		}
		break;
	}
	a->what = own ? "own, relative" : "near, relative";
}

static void gen_action(struct prog *p, struct action *a, int nested,
		       const struct target *ro, const struct target *victim)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->size = sizes[below(4)];
	a->imm = (__s32)rnd();
	a->val = rnd();
	r = below(100);
	if (r < 22)
		a->kind = K_LOAD;
	else if (r < 40)
		a->kind = chance(50) ? K_STORE : K_STORE_REG;
	else if (r < 46)
		a->kind = K_ATOMIC;
	else if (r < 52)
		a->kind = K_LOOKUP_KEY;
	else if (r < 58)
		a->kind = K_UPDATE_VAL;
	else if (r < 64)
		a->kind = p->type == P_TRACEPOINT ? K_PROBE_DST : K_LOAD_BYTES;
	else if (r < 69)
		a->kind = nested ? K_PROBE_SRC : K_PRINTK_FMT;
	else if (r < 74)
		a->kind = K_PROBE_DST;
	else if (r < 78)
		a->kind = K_PROBE_SRC;
	else if (r < 83)
		a->kind = K_SIZE;
	else if (r < 90 && !nested)
		a->kind = K_NEST;
	else if (r < 95)
		a->kind = K_FAKE_MAP;
	else
		a->kind = K_LEGIT;

	switch (a->kind) {
	case K_LOAD:
	case K_STORE:
	case K_STORE_REG:
		r = below(100);
		a->base = r < 55 ? B_VALUE : r < 78 ? B_STACK :
			  r < 90 ? B_PKT : B_CTX;
		if (a->base == B_CTX && (a->kind != K_LOAD &&
					 (p->type == P_XDP ||
					  p->type == P_TRACEPOINT)))
			a->base = B_VALUE;
		if (a->base == B_PKT && !has_pkt(p->type, a->kind != K_LOAD))
			a->base = B_VALUE;
		if (a->base == B_CTX)
			a->size = 4;
		if (a->kind == K_STORE_REG && a->base != B_CTX)
			a->size = 8;
		break;
	case K_ATOMIC:
		a->base = chance(70) ? B_VALUE : B_STACK;
		a->size = chance(50) ? 8 : 4;
		break;
	case K_SIZE:
		/* A forged extra length, never 0. */
		a->delta = 1 + below(chance(50) ? 64 : 1 << 20);
		a->cls = C_KERNEL;
		a->what = "forged size";
		return;
	case K_NEST:
	case K_LEGIT:
		a->cls = C_OWN;
		a->what = "legitimate";
		a->delta = OFF_OWN + 8 * below((OFF_TAB - OFF_OWN) / 8);
		return;
	case K_FAKE_MAP:
		/*
		 * The verifier lets a map pointer take a known 0: a forged
		 * one, at a target or near the real map (its ops pointer,
		 * its fields), must never reach a helper.
		 */
		a->base = B_VALUE;
		a->size = 8;
		if (chance(50)) {
			pick_absolute(p, a, ro, victim);
			a->cls = C_KERNEL;
		} else {
			a->abs = 0;
			a->delta = 8 * ((__s64)below(1024) - 512);
			if (!a->delta)
				a->delta = 8;
			a->cls = C_KERNEL;
			a->what = "near the map";
		}
		return;
	default:
		/* 64 bytes from the stack would not fit below fp-8. */
		a->base = chance(80) || a->kind == K_UPDATE_VAL ? B_VALUE :
								  B_STACK;
		/*
		 * From the packet: a map key (map helpers take packet
		 * pointers, most helpers do not) and probe_read's source (a
		 * number to the verifier).
		 */
		if (chance(15) && (a->kind == K_LOOKUP_KEY ||
				   a->kind == K_PROBE_SRC) &&
		    has_pkt(p->type, 0))
			a->base = B_PKT;
		a->size = 8;
		break;
	}
	/* A context pointer is only ever moved a little. */
	if (a->base != B_CTX && chance(65))
		pick_absolute(p, a, ro, victim);
	else
		pick_relative(a);
	/*
	 * Vanilla 6.1 bug, not MOAT's: copy_from_kernel_nofault_allowed()
	 * checks canonical addresses with the CPU's virtual address bits (57
	 * on QEMU's max CPU) while the kernel pages with 4 levels (48), so
	 * bpf_probe_read_kernel() of such an address takes a #GP in its
	 * fixup and warns, from any privileged program.  Shown with a plain
	 * program; not the fuzzer's business.
	 */
	if (a->kind == K_PROBE_SRC && a->abs &&
	    sext(p->slot[a->slot].addr, 57) == p->slot[a->slot].addr &&
	    sext(p->slot[a->slot].addr, 48) != p->slot[a->slot].addr) {
		a->base = B_VALUE;
		pick_relative(a);
	}
}

static void gen_prog(struct prog *p, enum prog_type type, int nested,
		     const struct target *ro, const struct target *victim)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->n = 1 + below(nested ? 4 : 8);
	for (i = 0; i < p->n; i++)
		gen_action(p, &p->act[i], nested, ro, victim);
}

static void gen_case(struct fuzz_case *c, __u64 seed, __u64 idx,
		     const struct target *ro, const struct target *victim)
{
	static const enum prog_type outer_types[] = {
		P_SOCKET, P_CGROUP_SKB, P_XDP,
	};
	int i, nest = 0;

	rng_state = seed ^ (idx * 0xd1342543de82ef95ULL);
	rnd();
	memset(c, 0, sizeof(*c));
	c->cpu = nr_cpus > 1 ? idx % 2 : 0;
	/* Up to most of a page: packet windows of one or two pages. */
	c->pkt_len = chance(50) ? 64 : 64 + below(2936);
	gen_prog(&c->outer, outer_types[below(3)], 0, ro, victim);
	c->has_inner = chance(40);
	c->inner_nmi = c->has_inner && chance(40);
	if (c->has_inner)
		gen_prog(&c->inner, P_TRACEPOINT, 1, ro, victim);
	if (c->inner_nmi) {
		/*
		 * On nmi:nmi_handler it runs in the storm's NMIs, on either
		 * CPU, in the outer program's windows among others: "this"
		 * and "the other" CPU are unknown to the oracle.
		 */
		for (i = 0; i < c->inner.nr_slots; i++)
			if (cpu_relative(c->inner.late[i]))
				c->inner.slot[i].cls = C_WILD;
		for (i = 0; i < c->inner.n; i++)
			if (c->inner.act[i].abs &&
			    cpu_relative(c->inner.late[c->inner.act[i].slot]))
				c->inner.act[i].cls = C_WILD;
	} else if (c->has_inner) {
		/* The inner program must get to run now and then. */
		for (i = 0; i < c->outer.n; i++)
			nest |= c->outer.act[i].kind == K_NEST;
		if (!nest) {
			i = below(c->outer.n);
			c->outer.act[i].kind = K_NEST;
			c->outer.act[i].cls = C_OWN;
			c->outer.act[i].what = "legitimate";
			c->outer.act[i].delta = OFF_OWN;
		}
	}
}

/* --- what the oracle expects of an action */

static int kind_writes(enum kind k)
{
	return k == K_STORE || k == K_STORE_REG || k == K_ATOMIC ||
	       k == K_LOAD_BYTES || k == K_PROBE_DST;
}

static enum outcome expect(const struct action *a)
{
	switch (a->kind) {
	case K_SIZE:
		return O_TERM;
	case K_NEST:
	case K_LEGIT:
		return O_OK;
	case K_PROBE_SRC:
		/* Reading kernel memory is what the helper is for; critical
		 * objects end the run, the rest is read. */
		return a->cls == C_KERNEL ? O_EITHER :
		       a->cls == C_OWN || a->cls == C_RO ? O_OK : O_EITHER;
	case K_PRINTK_FMT:
		/* Own memory as a format: the helper may refuse it. */
		if (a->cls == C_OWN || a->cls == C_RO)
			return O_OK;
		break;
	default:
		break;
	}
	switch (a->cls) {
	case C_OWN:
		return O_OK;
	case C_RO:
		return kind_writes(a->kind) ? O_TERM : O_OK;
	case C_CEA_OTHER:
		/* Its descriptor tables are readable in a window. */
		return kind_writes(a->kind) ? O_TERM : O_EITHER;
	case C_RET_PAGE:
		/* Loads go through (it is keyed like the descriptor tables);
		 * a helper may refuse to read it for the program. */
		if (kind_writes(a->kind))
			return O_TERM;
		return a->kind == K_LOAD ? O_OK : O_EITHER;
	case C_KERNEL:
		return O_TERM;
	case C_VICTIM:
		return victim_separate ? O_TERM : O_EITHER;
	case C_OTHER:
		/* Another CPU's frames have its key (up to five CPUs). */
		return nr_cpus <= 5 ? O_TERM : O_EITHER;
	default:
		return O_EITHER;
	}
}

/* --- the emitter */

struct emit {
	struct bpf_insn insn[MAX_INSNS];
	int n;
	int exit_fixups[MAX_ACTIONS + 4];
	int nr_fixups;
};

static void put(struct emit *e, __u8 code, __u8 dst, __u8 src, __s16 off,
		__s32 imm)
{
	if (e->n < MAX_INSNS)
		e->insn[e->n++] = (struct bpf_insn){
			.code = code, .dst_reg = dst, .src_reg = src,
			.off = off, .imm = imm,
		};
}

static void mov_reg(struct emit *e, int d, int s)
{
	put(e, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0);
}

static void mov_imm(struct emit *e, int d, __s32 imm)
{
	put(e, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, imm);
}

static void add_imm(struct emit *e, int d, __s32 imm)
{
	put(e, BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, imm);
}

static void ld64(struct emit *e, int d, __u64 v, int pseudo)
{
	put(e, BPF_LD | BPF_DW | BPF_IMM, d, pseudo, 0, (__u32)v);
	put(e, 0, 0, 0, 0, (__u32)(v >> 32));
}

static int bpf_size(int size)
{
	return size == 1 ? BPF_B : size == 2 ? BPF_H :
	       size == 4 ? BPF_W : BPF_DW;
}

static void ldx(struct emit *e, int size, int d, int s, __s16 off)
{
	put(e, BPF_LDX | BPF_MEM | bpf_size(size), d, s, off, 0);
}

static void stx(struct emit *e, int size, int d, int s, __s16 off)
{
	put(e, BPF_STX | BPF_MEM | bpf_size(size), d, s, off, 0);
}

static void st(struct emit *e, int size, int d, __s16 off, __s32 imm)
{
	put(e, BPF_ST | BPF_MEM | bpf_size(size), d, 0, off, imm);
}

static void call(struct emit *e, int helper)
{
	put(e, BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}

static __s32 escape_btf_id;
static int scratch_hash = -1;	/* a hash map for forged map pointers */

static void call_escape(struct emit *e)
{
	put(e, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, escape_btf_id);
}

/* if r0 == 0 goto the exit: patched once the exit is known */
static void jeq0_to_exit(struct emit *e, int reg)
{
	e->exit_fixups[e->nr_fixups++] = e->n;
	put(e, BPF_JMP | BPF_JEQ | BPF_K, reg, 0, 0, 0);
}

enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

/*
 * Register of base @b, and the word its laundered address is in: at r7 +
 * OFF_VALUE for the value (the same on every CPU), at r8 (this CPU's
 * laundering slots) + 0, 8 or 16 for the stack, the context and the
 * packet (r9, checked for PKT_CHECKED bytes).
 */
static int base_reg(enum base b)
{
	return b == B_VALUE ? R7 : b == B_STACK ? R10 : b == B_PKT ? R9 : R6;
}

static int base_slot_reg(enum base b)
{
	return b == B_VALUE ? R7 : R8;
}

static int base_slot(enum base b)
{
	return b == B_VALUE ? OFF_VALUE : b == B_STACK ? 0 :
	       b == B_PKT ? 16 : 8;
}

/*
 * r0 = how far @a's target (less @off) is from the base pointer whose
 * address the value word @slot holds, or @a's delta: a number the
 * verifier believes is 0.
 */
static void escape_delta(struct emit *e, const struct action *a, int sreg,
			 int slot, int off)
{
	if (a->abs) {
		ldx(e, 8, R1, R7, OFF_TAB + 8 * a->slot);
		ldx(e, 8, R3, sreg, slot);
		put(e, BPF_ALU64 | BPF_SUB | BPF_X, R1, R3, 0, 0);
		add_imm(e, R1, -off);
	} else {
		ld64(e, R1, (__u64)a->delta, 0);
	}
	call_escape(e);
}

/*
 * r2 = the forged pointer of @a, believed by the verifier to be its base
 * pointer unchanged; the access will be at r2 + @off.
 */
static void forge(struct emit *e, const struct action *a, int off)
{
	escape_delta(e, a, base_slot_reg(a->base), base_slot(a->base), off);
	mov_reg(e, R2, base_reg(a->base));
	put(e, BPF_ALU64 | BPF_ADD | BPF_X, R2, R0, 0, 0);
}

/* @reg = the forged pointer of @a plus @off: a helper's argument. */
static void forge_arg(struct emit *e, const struct action *a, int off,
		      int reg)
{
	forge(e, a, off);
	if (reg != R2)
		mov_reg(e, reg, R2);
	add_imm(e, reg, off);
}

/* Offset the access at a base pointer goes to, as the verifier sees it. */
static int access_off(const struct prog *p, const struct action *a)
{
	if (a->base == B_STACK)
		return -8;
	if (a->base != B_CTX)
		return 0;	/* the value, the packet */
	switch (p->type) {
	case P_XDP:
		return offsetof(struct xdp_md, ingress_ifindex);
	case P_TRACEPOINT:
		/* bpf_trace_printk's record is 12 bytes (attaching a program
		 * that reads past them fails); the first 8 are not readable. */
		return 8;
	default:
		return a->kind == K_LOAD ? offsetof(struct __sk_buff, len) :
					   offsetof(struct __sk_buff, cb[0]);
	}
}

static void emit_action(struct emit *e, const struct prog *p,
			const struct action *a, __u32 scratch_fd)
{
	int off = access_off(p, a);

	switch (a->kind) {
	case K_LOAD:
		forge(e, a, off);
		ldx(e, a->size, R3, R2, off);
		stx(e, 8, R7, R3, OFF_SINK);
		break;
	case K_STORE:
		forge(e, a, off);
		if (a->base == B_CTX) {
			/* The context takes register stores only. */
			mov_imm(e, R3, a->imm);
			stx(e, a->size, R2, R3, off);
		} else {
			st(e, a->size, R2, off, a->imm);
		}
		break;
	case K_STORE_REG:
		forge(e, a, off);
		ld64(e, R3, a->val, 0);
		stx(e, a->size, R2, R3, off);
		break;
	case K_ATOMIC:
		forge(e, a, off);
		ld64(e, R3, a->val, 0);
		/* cmpxchg compares with r0, whatever the escape left there */
		put(e, BPF_STX | BPF_ATOMIC | bpf_size(a->size), R2, R3, off,
		    (a->imm & 3) == 0 ? BPF_XCHG :
		    (a->imm & 3) == 1 ? BPF_CMPXCHG :
		    (a->imm & 3) == 2 ? (BPF_OR | BPF_FETCH) : BPF_ADD);
		break;
	case K_LOOKUP_KEY:
		forge_arg(e, a, off, R2);
		ld64(e, R1, scratch_fd, BPF_PSEUDO_MAP_FD);
		call(e, BPF_FUNC_map_lookup_elem);
		break;
	case K_UPDATE_VAL:
		forge_arg(e, a, off, R3);
		ld64(e, R1, scratch_fd, BPF_PSEUDO_MAP_FD);
		mov_reg(e, R2, R10);
		add_imm(e, R2, FP_KEY);
		mov_imm(e, R4, 0);
		call(e, BPF_FUNC_map_update_elem);
		break;
	case K_LOAD_BYTES:
		forge_arg(e, a, off, R3);
		mov_reg(e, R1, R6);
		mov_imm(e, R2, 0);
		mov_imm(e, R4, 8);
		call(e, p->type == P_XDP ? BPF_FUNC_xdp_load_bytes :
					   BPF_FUNC_skb_load_bytes);
		break;
	case K_PRINTK_FMT:
		forge_arg(e, a, off, R1);
		mov_imm(e, R2, 8);
		call(e, BPF_FUNC_trace_printk);
		break;
	case K_PROBE_DST:
		forge_arg(e, a, off, R1);
		mov_imm(e, R2, 8);
		mov_reg(e, R3, R7);
		call(e, BPF_FUNC_probe_read_kernel);
		break;
	case K_PROBE_SRC:
		forge_arg(e, a, off, R3);
		mov_reg(e, R1, R10);
		add_imm(e, R1, FP_BUF);
		mov_imm(e, R2, 8);
		call(e, BPF_FUNC_probe_read_kernel);
		break;
	case K_SIZE:
		/* A size of 8 + "0" into an 8-byte stack buffer. */
		ld64(e, R1, (__u64)a->delta, 0);
		call_escape(e);
		mov_reg(e, R2, R0);
		add_imm(e, R2, 8);
		if (p->type == P_TRACEPOINT) {
			mov_reg(e, R1, R10);
			add_imm(e, R1, FP_BUF);
			mov_reg(e, R3, R7);
			call(e, BPF_FUNC_probe_read_kernel);
		} else {
			mov_reg(e, R4, R2);
			mov_reg(e, R1, R6);
			mov_imm(e, R2, 0);
			mov_reg(e, R3, R10);
			add_imm(e, R3, FP_BUF);
			call(e, p->type == P_XDP ? BPF_FUNC_xdp_load_bytes :
						   BPF_FUNC_skb_load_bytes);
		}
		break;
	case K_NEST:
		mov_reg(e, R1, R10);
		add_imm(e, R1, FP_FMT);
		mov_imm(e, R2, 4);
		call(e, BPF_FUNC_trace_printk);
		break;
	case K_LEGIT:
		st(e, 8, R7, a->delta, a->imm);
		break;
	case K_FAKE_MAP:
		escape_delta(e, a, R7, OFF_MAPP, 0);
		ld64(e, R1, scratch_hash, BPF_PSEUDO_MAP_FD);
		put(e, BPF_ALU64 | BPF_ADD | BPF_X, R1, R0, 0, 0);
		mov_reg(e, R2, R10);
		add_imm(e, R2, FP_KEY);
		call(e, BPF_FUNC_map_lookup_elem);
		break;
	default:
		break;
	}
}

/* Verdicts: a run to the end, and the safe one of a terminated run. */
static __u32 end_verdict(enum prog_type t)
{
	switch (t) {
	case P_SOCKET:
		return 7;
	case P_CGROUP_SKB:
		return 1;
	case P_XDP:
		return XDP_PASS;
	default:
		return 0;
	}
}

static __u32 safe_verdict(enum prog_type t)
{
	return t == P_XDP ? XDP_ABORTED : 0;
}

/* Emit @p, using only the actions whose bit is set in @mask. */
static int emit_prog(struct emit *e, const struct prog *p, __u64 mask,
		     int own_fd, int scratch_fd)
{
	int i, exit0;

	memset(e, 0, sizeof(*e));
	mov_reg(e, R6, R1);
	/* The fixed stack slots */
	st(e, 8, R10, FP_KEY, 0);
	st(e, 4, R10, FP_FMT, 0x000a7a66);	/* "fz\n" */
	st(e, 4, R10, FP_FMT + 4, 0);
	st(e, 8, R10, FP_BUF, 0);
	for (i = FP_OWN_LO; i < FP_OWN_HI; i += 8)
		st(e, 8, R10, i, 0);
	/* r7 = own value */
	ld64(e, R1, own_fd, BPF_PSEUDO_MAP_FD);
	mov_reg(e, R2, R10);
	add_imm(e, R2, FP_KEY);
	call(e, BPF_FUNC_map_lookup_elem);
	jeq0_to_exit(e, R0);
	mov_reg(e, R7, R0);
	/* Launder the three base pointers into numbers. */
	stx(e, 8, R7, R7, OFF_VALUE);
	mov_reg(e, R1, R10);
	stx(e, 8, R7, R1, OFF_FP);
	stx(e, 8, R7, R6, OFF_CTX);
	ld64(e, R1, scratch_hash, BPF_PSEUDO_MAP_FD);
	stx(e, 8, R7, R1, OFF_MAPP);
	/* r8 = this CPU's laundering slots; the frame and context there. */
	call(e, BPF_FUNC_get_smp_processor_id);
	put(e, BPF_ALU64 | BPF_AND | BPF_K, R0, 0, 0, 3);
	put(e, BPF_ALU64 | BPF_LSH | BPF_K, R0, 0, 0, LAUNDER_SHIFT);
	mov_reg(e, R8, R7);
	add_imm(e, R8, OFF_LAUNDER);
	put(e, BPF_ALU64 | BPF_ADD | BPF_X, R8, R0, 0, 0);
	stx(e, 8, R8, R10, 0);
	stx(e, 8, R8, R6, 8);
	/* r9 = the packet, its first PKT_CHECKED bytes checked, laundered. */
	if (has_pkt(p->type, 0)) {
		int data = p->type == P_XDP ? offsetof(struct xdp_md, data) :
			   offsetof(struct __sk_buff, data);
		int end = p->type == P_XDP ? offsetof(struct xdp_md, data_end) :
			  offsetof(struct __sk_buff, data_end);

		ldx(e, 4, R9, R6, data);
		ldx(e, 4, R3, R6, end);
		mov_reg(e, R2, R9);
		add_imm(e, R2, PKT_CHECKED);
		e->exit_fixups[e->nr_fixups++] = e->n;
		put(e, BPF_JMP | BPF_JGT | BPF_X, R2, R3, 0, 0);
		stx(e, 8, R8, R9, 16);
	}
	/* runs++: atomic, as an inner program in NMIs runs on both CPUs */
	mov_imm(e, R1, 1);
	put(e, BPF_STX | BPF_ATOMIC | BPF_DW, R7, R1, OFF_RUNS, BPF_ADD);
	for (i = 0; i < p->n; i++) {
		if (!(mask & (1ULL << i)))
			continue;
		st(e, 8, R7, OFF_MARK, i);
		emit_action(e, p, &p->act[i], scratch_fd);
	}
	st(e, 8, R7, OFF_MARK, MARK_END);
	mov_imm(e, R1, 1);
	put(e, BPF_STX | BPF_ATOMIC | BPF_DW, R7, R1, OFF_DONE, BPF_ADD);
	mov_imm(e, R0, end_verdict(p->type));
	put(e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	exit0 = e->n;
	mov_imm(e, R0, safe_verdict(p->type));
	put(e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (i = 0; i < e->nr_fixups; i++)
		e->insn[e->exit_fixups[i]].off = exit0 - e->exit_fixups[i] - 1;
	return e->n < MAX_INSNS ? 0 : -E2BIG;
}

/* --- loading and running */

static char vlog[1 << 16];

static int load(const struct emit *e, enum prog_type t, int isolated,
		int verbose)
{
	static const enum bpf_prog_type types[] = {
		BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_CGROUP_SKB,
		BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_TRACEPOINT,
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.prog_flags = isolated ? BPF_F_MOAT : 0,
		.log_buf = vlog,
		.log_size = sizeof(vlog),
		.log_level = verbose ? 1 : 0,
	);
	int fd;

	vlog[0] = '\0';
	fd = bpf_prog_load(types[t], "moat_fuzz", "GPL", e->insn, e->n, &opts);
	if (fd < 0 && !verbose) {
		/* Again, for the log. */
		opts.log_level = 1;
		fd = bpf_prog_load(types[t], "moat_fuzz", "GPL", e->insn, e->n,
				   &opts);
		if (fd >= 0) {
			close(fd);
			fd = -EAGAIN;
		}
	}
	return fd < 0 ? -errno : fd;
}

static __u64 prog_image(int fd, __u32 *len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	__u64 image = 0;

	info.nr_jited_ksyms = 1;
	info.jited_ksyms = (__u64)(unsigned long)&image;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return 0;
	*len = info.jited_prog_len;
	return image;
}

static int printk_event_id = -1, nmi_event_id = -1;

/*
 * Attach tracepoint program @fd to bpf_trace_printk.  The programs of a
 * tracepoint are one list for all CPUs: one event (on CPU 0) is enough for
 * the program to run on both.
 */
static int attach_inner(int fd, int *pfd, int nmi)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = nmi ? nmi_event_id : printk_event_id,
		.sample_period = 1,
		.wakeup_events = 1,
	};

	pfd[0] = syscall(__NR_perf_event_open, &attr, -1, 0, -1,
			 PERF_FLAG_FD_CLOEXEC);
	if (pfd[0] < 0)
		return -errno;
	if (ioctl(pfd[0], PERF_EVENT_IOC_SET_BPF, fd) ||
	    ioctl(pfd[0], PERF_EVENT_IOC_ENABLE, 0))
		return -errno;
	return 0;
}

static void detach_inner(int *pfd)
{
	int cpu;

	for (cpu = 0; cpu < 2; cpu++)
		if (pfd[cpu] >= 0) {
			close(pfd[cpu]);
			pfd[cpu] = -1;
		}
}

/* Maps: each role's own value, the scratch map of helpers, the victim. */
static int outer_map = -1, inner_map = -1, scratch_map = -1;
static int victim_map = -1, ro_map = -1, control_map = -1, victim_owner = -1;
static int control_prog = -1;
static struct target ro_target, victim_target;
static __u64 ro_pattern[VALUE_SIZE / 8], victim_pattern[VALUE_SIZE / 8];

static int value_io(int map, void *val, int put)
{
	__u32 key = 0;

	return put ? bpf_map_update_elem(map, &key, val, BPF_ANY) :
		     bpf_map_lookup_elem(map, &key, val);
}

static long long moat_stat(const char *key)
{
	return moat_file_value(MOAT_STATS, key);
}

static int other_cpu(int cpu)
{
	return nr_cpus > 1 ? !cpu : cpu;
}

/* The address of each late-bound and ordinary slot of @p. */
static void fill_table(const struct prog *p, __u64 *val, __u64 own_value,
		       __u64 image, int cpu)
{
	int i;

	for (i = 0; i < p->nr_slots; i++) {
		__u64 a = p->slot[i].addr;

		switch (p->late[i]) {
		case L_OWN_VALUE:
			a = own_value + OFF_OWN + 8 * (i % 8);
			break;
		case L_OWN_IMAGE:
			a = image + 8 * i;
			break;
		case L_NMI_SELF:
			a = nmi_word[cpu];
			break;
		case L_NMI_OTHER:
			a = nmi_word[other_cpu(cpu)];
			break;
		case L_CEA_SELF:
			a = (nmi_word[cpu] & ~0xfffULL) + a;
			break;
		case L_CEA_OTHER:
			a = (nmi_word[other_cpu(cpu)] & ~0xfffULL) + a;
			break;
		case L_FRAME_OTHER:
			a = neigh_fp[other_cpu(cpu)] + a;
			break;
		case L_SHADOW_OTHER:
			a = neigh_ctx[other_cpu(cpu)] + a;
			break;
		case L_STACK_OTHER:
			a = neigh_stack[other_cpu(cpu)] + a;
			break;
		default:
			break;
		}
		val[OFF_TAB / 8 + i] = a;
	}
}

struct result {
	int loaded;
	__u32 retval;
	__u64 mark, runs;
	__u64 run_cnt;		/* invocations, with bpf_stats_enabled */
	long long viol;		/* violations counted against the program */
	/* Runs of any program MOAT did not make (Layer II: no key to be had). */
	long long refused;
	__u64 val[VALUE_SIZE / 8];
};

struct run_state {
	int fd[2];		/* outer, inner */
	__u64 image[2];
	int pfd[2];
	__u64 mask[2];
};

static int prepare_value(const struct prog *p, int map, __u64 image, int cpu,
			 __u64 own_value)
{
	__u64 val[VALUE_SIZE / 8] = { 0 };

	val[OFF_MARK / 8] = MARK_NONE;
	fill_table(p, val, own_value, image, cpu);
	return value_io(map, val, 1);
}

static __u64 own_value_addr[2];

/* Run a program once with nothing in it, to learn its value's address. */
static int learn_value_addr(int map, int role)
{
	struct emit e;
	struct prog p = { .type = P_SOCKET, .n = 0 };
	__u64 val[VALUE_SIZE / 8] = { 0 };
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	int fd;

	if (emit_prog(&e, &p, 0, map, scratch_map))
		return -E2BIG;
	fd = load(&e, P_SOCKET, 0, 0);
	if (fd < 0)
		return fd;
	if (value_io(map, val, 1) || bpf_prog_test_run_opts(fd, &opts) ||
	    value_io(map, val, 0)) {
		close(fd);
		return -errno;
	}
	close(fd);
	own_value_addr[role] = val[OFF_VALUE / 8];
	return own_value_addr[role] ? 0 : -EINVAL;
}

static int load_case(const struct fuzz_case *c, struct run_state *s,
		     int verbose)
{
	struct emit e;
	__u32 len;
	int i, err;

	s->fd[0] = s->fd[1] = -1;
	s->pfd[0] = s->pfd[1] = -1;
	for (i = 0; i < 1 + c->has_inner; i++) {
		const struct prog *p = i ? &c->inner : &c->outer;

		err = emit_prog(&e, p, s->mask[i], i ? inner_map : outer_map,
				scratch_map);
		if (err)
			return err;
		if (moat_set_mode("1"))
			return -EPERM;
		s->fd[i] = load(&e, p->type, 1, verbose);
		moat_set_mode("0");
		if (s->fd[i] < 0)
			return s->fd[i];
		if (fdinfo(s->fd[i], "moat_isolated") != 1) {
			snprintf(vlog, sizeof(vlog), "loaded, but not isolated");
			return -EPERM;
		}
		s->image[i] = prog_image(s->fd[i], &len);
	}
	return 0;
}

static void unload_case(struct run_state *s)
{
	int i;

	detach_inner(s->pfd);
	for (i = 0; i < 2; i++)
		if (s->fd[i] >= 0) {
			close(s->fd[i]);
			s->fd[i] = -1;
		}
}

static const char *run_step;

static void inner_quiesce(int fd)
{
	__u64 val[VALUE_SIZE / 8];
	long long v0, v1 = fdinfo(fd, "moat_violations");
	__u64 r0, r1 = value_io(inner_map, val, 0) ? 0 : val[OFF_RUNS / 8];
	int i;

	for (i = 0; i < 100; i++) {
		usleep(2000);
		v0 = v1;
		r0 = r1;
		v1 = fdinfo(fd, "moat_violations");
		r1 = value_io(inner_map, val, 0) ? 0 : val[OFF_RUNS / 8];
		if (v0 == v1 && r0 == r1)
			break;
	}
}

#define BPF_STATS	"/proc/sys/kernel/bpf_stats_enabled"

/* Invocations of program @fd, when kernel.bpf_stats_enabled is 1. */
static __u64 prog_run_cnt(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.run_cnt;
}

/* Words of the read-only array that differ from its pattern. */
static int ro_changed(void)
{
	__u64 v[VALUE_SIZE / 8];
	int k, n = 0;

	if (value_io(ro_map, v, 0))
		return -1;
	for (k = 0; k < VALUE_SIZE / 8; k++)
		n += v[k] != ro_pattern[k];
	return n;
}

static int run_case(const struct fuzz_case *c, struct run_state *s,
		    struct result *r)
{
	static unsigned char pkt[4096] = { [12] = 0x08, [14] = 0x45 };
	static unsigned char out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt,
		.data_size_in = c->pkt_len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1,
	);
	int i, err;

	memset(r, 0, 2 * sizeof(*r));
	run_step = "map values";
	for (i = 0; i < 1 + c->has_inner; i++) {
		const struct prog *p = i ? &c->inner : &c->outer;

		if (prepare_value(p, i ? inner_map : outer_map, s->image[i],
				  c->cpu, own_value_addr[i]))
			return -errno;
		r[i].viol = fdinfo(s->fd[i], "moat_violations");
		r[i].loaded = 1;
	}
	r[1].refused = moat_file_value(MOAT_DOMAINS, "no_key");
	run_step = "attaching the inner program";
	if (c->has_inner) {
		err = attach_inner(s->fd[1], s->pfd, c->inner_nmi);
		if (err)
			return err;
	}
	run_step = "pinning";
	if (pin_cpu(c->cpu))
		return -errno;
	run_step = "BPF_PROG_TEST_RUN";
	err = bpf_prog_test_run_opts(s->fd[0], &opts);
	if (err)
		return -errno;
	detach_inner(s->pfd);
	/*
	 * A run that began before the detach may still be under way in an
	 * NMI on the other CPU: wait until the inner program's run and
	 * violation counts stop moving (the second long run had three cases
	 * off by one or two in thousands of runs).
	 */
	if (c->has_inner)
		inner_quiesce(s->fd[1]);
	r[1].refused = moat_file_value(MOAT_DOMAINS, "no_key") - r[1].refused;
	r[0].retval = opts.retval;
	for (i = 0; i < 1 + c->has_inner; i++) {
		if (value_io(i ? inner_map : outer_map, r[i].val, 0))
			return -errno;
		r[i].mark = r[i].val[OFF_MARK / 8];
		r[i].runs = r[i].val[OFF_RUNS / 8];
		r[i].viol = fdinfo(s->fd[i], "moat_violations") - r[i].viol;
		r[i].run_cnt = prog_run_cnt(s->fd[i]);
		/*
		 * A run of an NMI-context program can end before its first
		 * count: after a helper's exception returned with IRET inside
		 * the NMI handler, the next NMI is delivered as a page fault
		 * in the window (pks_ist_close()), a violation wherever the
		 * program is.  The kernel's count of invocations holds it.
		 */
		if (r[i].run_cnt > r[i].runs)
			r[i].runs = r[i].run_cnt;
	}
	return 0;
}

/* --- the oracle */

/*
 * The first action of @p that must end a run (-1: none); in @either
 * whether one that may end it or not comes before, in @delayed whether
 * one may end it only when it returns (a write of this CPU's entry area:
 * the NMI nesting word is compared after the run).
 */
static int first_term(const struct prog *p, __u64 mask, int *either,
		      int *delayed)
{
	int i, t = -1;

	*either = 0;
	*delayed = 0;
	for (i = 0; i < p->n; i++) {
		enum outcome o;

		if (!(mask & (1ULL << i)))
			continue;
		o = expect(&p->act[i]);
		if (o == O_EITHER && p->act[i].cls == C_SELF_IST &&
		    kind_writes(p->act[i].kind))
			*delayed = 1;
		if (t >= 0)
			continue;
		if (o == O_TERM)
			t = i;
		else if (o == O_EITHER)
			*either = 1;
	}
	return t;
}

/*
 * Where a run of @p may have ended, whatever the actions that may do
 * either did: at its first action that must end it or before, never at
 * one that must go through, and at its end only if nothing had to end it.
 */
static int check_end(const struct prog *p, __u64 mask, __u64 mark, int t,
		     const char *who, char *why, size_t len)
{
	if (mark != MARK_END && (mark >= (__u64)p->n || !(mask >> mark & 1))) {
		snprintf(why, len, "%s: ended at %llu, which is no action",
			 who, (unsigned long long)mark);
		return -1;
	}
	if (t >= 0 && (mark == MARK_END || mark > (__u64)t)) {
		snprintf(why, len, "%s: action %d (%s at %s, %s) must end the run: it ended at %lld",
			 who, t, kind_name[p->act[t].kind], p->act[t].what,
			 cls_name[p->act[t].cls],
			 mark == MARK_END ? -1LL : (long long)mark);
		return -1;
	}
	if (mark != MARK_END && expect(&p->act[mark]) == O_OK) {
		snprintf(why, len, "%s: ended at action %llu (%s at %s, %s), which must go through",
			 who, (unsigned long long)mark, kind_name[p->act[mark].kind],
			 p->act[mark].what, cls_name[p->act[mark].cls]);
		return -1;
	}
	return 0;
}

static int check_prog(const struct prog *p, __u64 mask, const struct result *r,
		      int outer, char *why, size_t len)
{
	int either, delayed, t = first_term(p, mask, &either, &delayed);
	__u64 mark = r->mark;
	int ended = mark == MARK_END;

	if (!outer) {
		/* The inner program: any number of runs, each judged alike;
		 * the map shows the last one. */
		if (!r->runs)
			return mark == MARK_NONE && r->viol == 0 ? 0 :
			       (snprintf(why, len, "inner never ran, mark %llu, violations %lld",
					 (unsigned long long)mark, r->viol), -1);
		if (r->viol < 0 || (__u64)r->viol > r->runs) {
			snprintf(why, len, "inner: %lld violations in %llu runs",
				 r->viol, (unsigned long long)r->runs);
			return -1;
		}
		if (check_end(p, mask, mark, t, "inner", why, len))
			return -1;
		/*
		 * A run Layer II could not make (an NMI in this CPU's key
		 * change, say) was counted, not made: its safe verdict.
		 */
		if (t >= 0 && (__u64)(r->viol + r->refused) < r->runs) {
			snprintf(why, len, "inner: %lld violations in %llu runs (%lld runs of any program not made), want one per run",
				 r->viol, (unsigned long long)r->runs,
				 r->refused);
			return -1;
		}
		if (t < 0 && !either && !delayed && r->viol) {
			snprintf(why, len, "inner: %lld violations, nothing had to end a run",
				 r->viol);
			return -1;
		}
		return 0;
	}
	/* Only a stray store (another program's, no Layer II) could. */
	if (r->runs != 1 && !either) {
		snprintf(why, len, "outer ran %llu times", (unsigned long long)r->runs);
		return -1;
	}
	if (r->viol != 0 && r->viol != 1) {
		snprintf(why, len, "%lld violations in one run", r->viol);
		return -1;
	}
	/* Terminated: safe verdict, one violation; or ran to the end. */
	if (r->viol == 1 && r->retval != safe_verdict(p->type)) {
		snprintf(why, len, "terminated at %llu with verdict %u, want %u",
			 (unsigned long long)mark, r->retval, safe_verdict(p->type));
		return -1;
	}
	if (r->viol == 0 && (!ended || r->retval != end_verdict(p->type))) {
		snprintf(why, len, "no violation, but mark %llu verdict %u",
			 (unsigned long long)mark, r->retval);
		return -1;
	}
	if (check_end(p, mask, mark, t, "outer", why, len))
		return -1;
	if (ended && r->viol && !delayed) {
		snprintf(why, len, "terminated after its last action, which nothing explains");
		return -1;
	}
	if (t < 0 && !either && !delayed && r->viol) {
		snprintf(why, len, "nothing must end the run: ended at %llu, %lld violations",
			 (unsigned long long)mark, r->viol);
		return -1;
	}
	return 0;
}

/* --- integrity */

static int kmsg_fd = -1;

/* New kernel log lines that report damage: their count, the first one. */
static int kmsg_splats(char *first, size_t len)
{
	static const char *const bad[] = {
		"BUG", "WARNING", "Oops", "KASAN", "general protection",
		"stack-protector", "refcount_t", "corruption", "UBSAN",
		"lockdep", "possible recursive", "Call Trace",
	};
	char buf[2048];
	int n = 0;
	unsigned int i;
	ssize_t got;

	if (kmsg_fd < 0)
		return 0;
	while ((got = read(kmsg_fd, buf, sizeof(buf) - 1)) > 0 || errno == EPIPE) {
		if (got <= 0)
			continue;
		buf[got] = '\0';
		/* MOAT's own reports of the violations it contained */
		if (strstr(buf, "MOAT: terminated program"))
			continue;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strstr(buf, bad[i])) {
				if (!n++)
					snprintf(first, len, "%.200s", buf);
				break;
			}
	}
	return n;
}

static char hostname0[128], modprobe0[256];

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

static int control_run(void)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 3);
	__u64 val[VALUE_SIZE / 8] = { 0 };

	if (value_io(control_map, val, 1) ||
	    bpf_prog_test_run_opts(control_prog, &opts) ||
	    value_io(control_map, val, 0))
		return -1;
	return opts.retval == 7 && val[OFF_RUNS / 8] == 3 &&
	       val[OFF_MARK / 8] == MARK_END ? 0 : -1;
}

static int storm_pid = -1;

/*
 * PKS's state on every CPU (the self-test "cpus").  The storm shares the
 * self-test file: it is stopped meanwhile (a stop takes effect once its
 * write has returned).  0, or -1 with the test's report in @buf.
 */
static int pks_cpus_ok(char *buf, size_t len)
{
	int fd, ret = -1;

	if (storm_pid > 0) {
		kill(storm_pid, SIGSTOP);
		waitpid(storm_pid, NULL, WUNTRACED);
	}
	buf[0] = '\0';
	if (!moat_write_file(PKS_TEST, "cpus")) {
		fd = open(PKS_TEST, O_RDONLY);
		if (fd >= 0) {
			if (read(fd, buf, len - 1) < 0)
				buf[0] = '\0';
			close(fd);
			ret = strncmp(buf, "PASS cpus", 9) ? -1 : 0;
		}
	}
	if (storm_pid > 0)
		kill(storm_pid, SIGCONT);
	return ret;
}

/* 0 when everything is as it was; else what was not, in @why. */
static int integrity(char *why, size_t len, long long *victim_changed)
{
	__u64 a, v, val[VALUE_SIZE / 8];
	char s[256];

	if (moat_canary(&a, &v) || a != canary_addr || v != canary_val) {
		snprintf(why, len, "kernel canary changed: %llx", (unsigned long long)v);
		return -1;
	}
	if (value_io(ro_map, val, 0) || memcmp(val, ro_pattern, sizeof(val))) {
		snprintf(why, len, "read-only array changed");
		return -1;
	}
	if (read_str("/proc/sys/kernel/hostname", s, sizeof(s)) ||
	    strcmp(s, hostname0)) {
		snprintf(why, len, "hostname changed: '%s'", s);
		return -1;
	}
	if (read_str("/proc/sys/kernel/modprobe", s, sizeof(s)) ||
	    strcmp(s, modprobe0)) {
		snprintf(why, len, "modprobe_path changed: '%s'", s);
		return -1;
	}
	if (control_run()) {
		snprintf(why, len, "the control program gives another result");
		return -1;
	}
	if (pks_cpus_ok(s, sizeof(s))) {
		snprintf(why, len, "PKS self-test: %.200s", s);
		return -1;
	}
	if (kmsg_splats(s, sizeof(s))) {
		snprintf(why, len, "kernel log: %.200s", s);
		return -1;
	}
	if (!value_io(victim_map, val, 0) &&
	    memcmp(val, victim_pattern, sizeof(val))) {
		++*victim_changed;
		value_io(victim_map, victim_pattern, 1);
		if (victim_separate) {
			snprintf(why, len, "the map of another domain changed");
			return -1;
		}
	}
	return 0;
}

/*
 * An isolated program that uses the victim map and nothing else, loaded
 * before the cases' programs: the map is in a domain of its own, whose
 * key no case opens (the victim is judged only if it is).
 */
static int own_victim(void)
{
	struct emit e;
	int fd;

	memset(&e, 0, sizeof(e));
	ld64(&e, R1, victim_map, BPF_PSEUDO_MAP_VALUE);
	mov_imm(&e, R0, 0);
	put(&e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (moat_set_mode("1"))
		return -EPERM;
	fd = load(&e, P_SOCKET, 1, 0);
	moat_set_mode("0");
	if (fd < 0)
		return fd;
	victim_owner = fd;
	victim_separate = fdinfo(victim_map, "moat_domain") > 0;
	return 0;
}

/* --- setup */

/* Interrupts, NMIs and IPIs on both CPUs, in a loop, until stopped. */
static void storm_start(void)
{
	storm_pid = fork();
	if (storm_pid)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;)
		if (moat_write_file(PKS_TEST, "irq_storm"))
			usleep(1000);
}

static void storm_stop(void)
{
	if (storm_pid > 0) {
		kill(storm_pid, SIGKILL);
		waitpid(storm_pid, NULL, 0);
		storm_pid = -1;
	}
}

/*
 * A map of @type for the isolated programs: created with BPF_F_MOAT under
 * kernel.bpf_moat=1, so that its values are in BPF memory.
 */
static int make_map(enum bpf_map_type type, const char *name, __u32 size,
		    __u32 entries, __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags | BPF_F_MOAT);
	int fd;

	moat_set_mode("1");
	fd = bpf_map_create(type, name, 4, size, entries, &opts);
	moat_set_mode("0");
	return fd;
}

static int make_array(const char *name, __u32 size, __u32 flags)
{
	return make_map(BPF_MAP_TYPE_ARRAY, name, size, 1, flags);
}

/*
 * Neighbours: on each CPU a legitimate isolated program (stores to its map
 * and a helper call) runs in a loop from its own process while the cases
 * run, so that forged accesses meet the live frames of programs on the
 * other CPU.  Their results are watched, not judged: frames (stacks,
 * context copies) are not separated between programs yet, and a case may
 * change them.
 */
struct neighbour {
	int map, prog, pid;
	long long viol0;
	volatile long long runs, bad;
	volatile __u64 fp, ctx;
	volatile __u64 stack;	/* its task stack's top */
};

static struct neighbour *neigh;

static void neighbour_loop(struct neighbour *n, int cpu)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 10);
	__u64 val[VALUE_SIZE / 8], top;

	pin_cpu(cpu);
	if (!moat_facility_addr(MOAT_TASK_STACK_FILE, &top))
		n->stack = top;
	for (;;) {
		memset(val, 0, sizeof(val));
		val[OFF_MARK / 8] = MARK_NONE;
		if (value_io(n->map, val, 1) ||
		    bpf_prog_test_run_opts(n->prog, &opts) ||
		    value_io(n->map, val, 0) || opts.retval != 7 ||
		    val[OFF_RUNS / 8] != 10 || val[OFF_MARK / 8] != MARK_END ||
		    val[OFF_OWN / 8] != 1)
			n->bad++;
		n->fp = val[OFF_FP / 8];
		n->ctx = val[OFF_CTX / 8];
		n->runs++;
		usleep(500);
	}
}

static int neighbours_start(void)
{
	struct prog p = { .type = P_SOCKET, .n = 3 };
	struct emit e;
	int cpu, tries;
	pid_t pid;

	neigh = mmap(NULL, 2 * sizeof(*neigh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (neigh == MAP_FAILED)
		return -errno;
	p.act[0] = (struct action){ .kind = K_LEGIT, .delta = OFF_OWN, .imm = 1 };
	p.act[1] = (struct action){ .kind = K_LOOKUP_KEY, .base = B_VALUE,
				    .delta = OFF_OWN + 16, .cls = C_OWN };
	p.act[2] = (struct action){ .kind = K_LEGIT, .delta = OFF_OWN + 8, .imm = 2 };
	for (cpu = 0; cpu < nr_cpus && cpu < 2; cpu++) {
		struct neighbour *n = &neigh[cpu];

		n->map = make_array("fuzz_neighbour", VALUE_SIZE, 0);
		if (n->map < 0 || emit_prog(&e, &p, ~0ULL, n->map, scratch_map) ||
		    moat_set_mode("1"))
			return -EINVAL;
		n->prog = load(&e, P_SOCKET, 1, 0);
		moat_set_mode("0");
		if (n->prog < 0)
			return n->prog;
		n->viol0 = fdinfo(n->prog, "moat_violations");
		/* Only the parent writes the pid: *n is shared. */
		pid = fork();
		if (!pid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			neighbour_loop(n, cpu);
		}
		n->pid = pid;
		for (tries = 0; tries < 2000 && !n->runs; tries++)
			usleep(1000);
		if (!n->runs)
			return -ETIMEDOUT;
		neigh_fp[cpu] = n->fp;
		neigh_ctx[cpu] = n->ctx;
		neigh_stack[cpu] = n->stack;
	}
	return 0;
}

static void neighbours_stop(void)
{
	int cpu;

	for (cpu = 0; neigh && cpu < 2; cpu++)
		if (neigh[cpu].pid > 0) {
			kill(neigh[cpu].pid, SIGKILL);
			waitpid(neigh[cpu].pid, NULL, 0);
			neigh[cpu].pid = 0;
		}
}

/* Violations counted against the neighbours so far. */
static long long neighbours_viol(void)
{
	long long v = 0;
	int cpu;

	for (cpu = 0; neigh && cpu < nr_cpus && cpu < 2; cpu++)
		v += fdinfo(neigh[cpu].prog, "moat_violations") - neigh[cpu].viol0;
	return v;
}


/*
 * A plain program that leaks where the victim's and the read-only array's
 * values are: stands for any program of another user.
 */
static int learn_addrs(void)
{
	__u64 val[VALUE_SIZE / 8] = { 0 };
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	struct emit e;
	int fd, i, err = 0;

	memset(&e, 0, sizeof(e));
	st(&e, 8, R10, FP_KEY, 0);
	for (i = 0; i < 2; i++) {
		ld64(&e, R1, i ? ro_map : victim_map, BPF_PSEUDO_MAP_FD);
		mov_reg(&e, R2, R10);
		add_imm(&e, R2, FP_KEY);
		call(&e, BPF_FUNC_map_lookup_elem);
		jeq0_to_exit(&e, R0);
		mov_reg(&e, i ? R8 : R7, R0);
	}
	stx(&e, 8, R7, R7, 0);
	stx(&e, 8, R7, R8, 8);
	for (i = 0; i < e.nr_fixups; i++)
		e.insn[e.exit_fixups[i]].off = e.n - e.exit_fixups[i] - 1;
	mov_imm(&e, R0, 0);
	put(&e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	fd = load(&e, P_SOCKET, 0, 0);
	if (fd < 0)
		return fd;
	if (value_io(victim_map, val, 1) || bpf_prog_test_run_opts(fd, &opts) ||
	    value_io(victim_map, val, 0))
		err = -errno;
	close(fd);
	if (err)
		return err;
	victim_target = (struct target){ val[0] + 64, C_VICTIM, "victim map" };
	ro_target = (struct target){ val[1] + 64, C_RO, "read-only array" };
	return val[0] && val[1] ? 0 : -EINVAL;
}

static char setup_err[512];

static int setup(void)
{
	struct btf *vmlinux;
	struct prog ctl = { .type = P_SOCKET, .n = 2 };
	struct emit e;
	int id, i;

	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (moat_canary(&canary_addr, &canary_val))
		return snprintf(setup_err, sizeof(setup_err),
				"no %s: kernel without CONFIG_BPF_MOAT_TEST", MOAT_CANARY);
	vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux))
		return snprintf(setup_err, sizeof(setup_err), "no vmlinux BTF");
	id = btf__find_by_name_kind(vmlinux, "bpf_moat_test_escape",
				    BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id <= 0)
		return snprintf(setup_err, sizeof(setup_err),
				"no kfunc bpf_moat_test_escape");
	escape_btf_id = id;
	/* The helper gate checks every argument (a test knob turns it off). */
	moat_write_file("/sys/kernel/debug/moat_test/dpa_off", "0");
	if (read_str(PRINTK_ID, setup_err, sizeof(setup_err)))
		return snprintf(setup_err, sizeof(setup_err), "no %s", PRINTK_ID);
	printk_event_id = atoi(setup_err);
	if (read_str(NMI_ID, setup_err, sizeof(setup_err)))
		return snprintf(setup_err, sizeof(setup_err), "no %s", NMI_ID);
	nmi_event_id = atoi(setup_err);
	setup_err[0] = '\0';
	user_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	outer_map = make_array("fuzz_outer", VALUE_SIZE, 0);
	inner_map = make_array("fuzz_inner", VALUE_SIZE, 0);
	scratch_map = make_array("fuzz_scratch", SCRATCH_SIZE, 0);
	victim_map = make_array("fuzz_victim", VALUE_SIZE, 0);
	ro_map = make_array("fuzz_ro", VALUE_SIZE, BPF_F_RDONLY_PROG);
	control_map = make_array("fuzz_control", VALUE_SIZE, 0);
	scratch_hash = make_map(BPF_MAP_TYPE_HASH, "fuzz_hash", SCRATCH_SIZE,
				16, 0);
	if (outer_map < 0 || inner_map < 0 || scratch_map < 0 ||
	    victim_map < 0 || ro_map < 0 || control_map < 0 || scratch_hash < 0)
		return snprintf(setup_err, sizeof(setup_err), "maps: %s",
				strerror(errno));
	if (learn_addrs() || learn_value_addr(outer_map, 0) ||
	    learn_value_addr(inner_map, 1))
		return snprintf(setup_err, sizeof(setup_err),
				"learning map addresses failed: %s", vlog);
	for (i = 0; i < VALUE_SIZE / 8; i++) {
		ro_pattern[i] = 0x726f000000000000ULL | i;
		victim_pattern[i] = 0x7669630000000000ULL | i;
	}
	if (value_io(ro_map, ro_pattern, 1) ||
	    value_io(victim_map, victim_pattern, 1))
		return snprintf(setup_err, sizeof(setup_err), "map values");
	read_str("/proc/sys/kernel/hostname", hostname0, sizeof(hostname0));
	read_str("/proc/sys/kernel/modprobe", modprobe0, sizeof(modprobe0));
	build_targets();
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	if (!cpu_has_pks())
		return 0;
	if (own_victim())
		return snprintf(setup_err, sizeof(setup_err),
				"loading the victim map's isolated program: %s",
				vlog);
	/* The control program: two legitimate stores, isolated. */
	ctl.act[0] = (struct action){ .kind = K_LEGIT, .delta = OFF_OWN, .imm = 1 };
	ctl.act[1] = (struct action){ .kind = K_LEGIT, .delta = OFF_OWN + 8, .imm = 2 };
	if (emit_prog(&e, &ctl, ~0ULL, control_map, scratch_map) ||
	    moat_set_mode("1"))
		return snprintf(setup_err, sizeof(setup_err), "control program");
	control_prog = load(&e, P_SOCKET, 1, 0);
	moat_set_mode("0");
	if (control_prog < 0)
		return snprintf(setup_err, sizeof(setup_err),
				"loading the control program: %s", vlog);
	return 0;
}

/* --- reporting */

static void print_action(const struct prog *p, int i, const struct action *a)
{
	char where[96];

	if (a->kind == K_SIZE)
		snprintf(where, sizeof(where), "+%lld", (long long)a->delta);
	else if (a->kind == K_NEST || a->kind == K_LEGIT)
		snprintf(where, sizeof(where), "value+%lld", (long long)a->delta);
	else if (a->abs)
		snprintf(where, sizeof(where), "%s: %s (slot %d, %#llx)",
			 base_name[a->base], a->what, a->slot,
			 (unsigned long long)p->slot[a->slot].addr);
	else
		snprintf(where, sizeof(where), "%s%+lld", base_name[a->base],
			 (long long)a->delta);
	printf("INFO   %2d %-10s size %d  %-48s %s, expect %s\n", i,
	       kind_name[a->kind], a->size, where, cls_name[a->cls],
	       expect(a) == O_OK ? "ok" : expect(a) == O_TERM ? "end" : "either");
}

static void print_case(const struct fuzz_case *c, const __u64 *mask)
{
	int i, j;

	for (j = 0; j < 1 + c->has_inner; j++) {
		const struct prog *p = j ? &c->inner : &c->outer;

		printf("INFO  %s program (%s), CPU %d, packet %d bytes:\n",
		       j ? (c->inner_nmi ? "inner (NMI)" : "inner") : "outer",
		       type_name[p->type], c->cpu, c->pkt_len);
		for (i = 0; i < p->n; i++)
			if (mask[j] & (1ULL << i))
				print_action(p, i, &p->act[i]);
	}
}

/* --- one case */

struct stats {
	long long cases, runs, terminated, ran_through, inner_runs;
	long long programs, loads_failed, by_outcome[3], other_writes, victim_changed;
	long long pkt_based;	/* outer actions reached on a packet pointer */
	long long viol_sum, kinds[NR_KINDS];
};

/*
 * Load, run and judge case @c with the actions in @mask: 0 if as
 * expected, 1 if not (@why says how), <0 if it could not be run.
 */
static int do_case(const struct fuzz_case *c, const __u64 *mask,
		   struct stats *st, char *why, size_t len, int verbose)
{
	struct run_state s = { .mask = { mask[0], mask[1] } };
	struct result r[2];
	long long before = moat_stat("violations");
	long long nbefore = neighbours_viol();
	long long rbefore = moat_stat("runs"), fbefore = moat_stat("forged_helper_args");
	long long dbefore = moat_stat("too_deep");
	int err, bad = 0;

	err = load_case(c, &s, verbose);
	if (err) {
		unload_case(&s);
		snprintf(why, len, "load: %s: ...%.300s", strerror(-err),
			 vlog + (strlen(vlog) > 300 ? strlen(vlog) - 300 : 0));
		return err;
	}
	err = run_case(c, &s, r);
	unload_case(&s);
	if (err) {
		snprintf(why, len, "run: %s: %s", run_step, strerror(-err));
		return err;
	}
	if (check_prog(&c->outer, mask[0], &r[0], 1, why, len))
		bad = 1;
	else if (c->has_inner &&
		 check_prog(&c->inner, mask[1], &r[1], 0, why, len))
		bad = 1;
	else if (moat_stat("violations") - before !=
		 r[0].viol + r[1].viol + neighbours_viol() - nbefore) {
		snprintf(why, len, "MOAT counted %lld violations, the programs %lld and the neighbours %lld",
			 moat_stat("violations") - before, r[0].viol + r[1].viol,
			 neighbours_viol() - nbefore);
		bad = 1;
	}
	if (verbose)
		printf("INFO  outer: verdict %u, ended at %llu, %lld violations; inner: %llu runs, ended at %llu, %lld violations\n",
		       r[0].retval, (unsigned long long)r[0].mark, r[0].viol,
		       (unsigned long long)r[1].runs,
		       (unsigned long long)r[1].mark, r[1].viol);
	if (verbose)
		printf("INFO  invocations (bpf_stats): outer %llu, inner %llu; got to the end: outer %llu, inner %llu; read-only array words changed: %d\n",
		       (unsigned long long)r[0].run_cnt,
		       (unsigned long long)r[1].run_cnt,
		       (unsigned long long)r[0].val[OFF_DONE / 8],
		       (unsigned long long)r[1].val[OFF_DONE / 8], ro_changed());
	if (verbose)
		printf("INFO  MOAT: %lld runs, %lld violations, %lld forged helper arguments, %lld too deep\n",
		       moat_stat("runs") - rbefore, moat_stat("violations") - before,
		       moat_stat("forged_helper_args") - fbefore,
		       moat_stat("too_deep") - dbefore);
	if (st) {
		int i;

		st->cases++;
		st->programs += 1 + c->has_inner;
		st->runs += 1 + r[1].runs;
		st->inner_runs += r[1].runs;
		st->terminated += r[0].viol > 0;
		st->ran_through += r[0].mark == MARK_END;
		st->viol_sum += r[0].viol + r[1].viol;
		for (i = 0; i < c->outer.n; i++) {
			const struct action *a = &c->outer.act[i];

			if (i > (int)r[0].mark && r[0].mark != MARK_END)
				break;
			st->kinds[a->kind]++;
			st->by_outcome[expect(a)]++;
			st->pkt_based += a->base == B_PKT;
			if (a->cls == C_VICTIM && kind_writes(a->kind))
				st->other_writes++;
		}
	}
	return bad;
}

/* Drop actions, one at a time, while the case still fails. */
static void shrink(const struct fuzz_case *c, __u64 *mask)
{
	char why[512];
	int j, i;

	for (j = 0; j < 1 + c->has_inner; j++) {
		const struct prog *p = j ? &c->inner : &c->outer;

		for (i = p->n - 1; i >= 0; i--) {
			__u64 saved = mask[j];

			mask[j] &= ~(1ULL << i);
			if (do_case(c, mask, NULL, why, sizeof(why), 0) != 1)
				mask[j] = saved;
		}
	}
}

static void kmsg_note(__u64 seed, __u64 idx)
{
	char line[96];
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd < 0)
		return;
	snprintf(line, sizeof(line), "moat-fuzz: seed %#llx case %llu\n",
		 (unsigned long long)seed, (unsigned long long)idx);
	if (write(fd, line, strlen(line)) < 0)
		line[0] = '\0';	/* only a hint for a crash report */
	close(fd);
}

/* --- the cases of the suite */

static __u64 fuzz_seed = SLICE_SEED;
static long long fuzz_cases = SLICE_CASES;
static struct stats stats;
static char first_fail[1024];
static long long nr_bad, nr_integrity_bad;
static char integrity_why[512];

static void fuzz_ready_or_skip(int *ok)
{
	*ok = 0;
	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return;
	}
	if (setup_err[0]) {
		test_fail("%s", setup_err);
		return;
	}
	*ok = 1;
}

/*
 * MOAT off: the generator's attacks are real.  A program of the
 * generator's, loaded plain, reads the kernel canary through a forged map
 * value pointer and overwrites its low half through a forged stack pointer.
 */
static void test_attacks_land_moat_off(void)
{
	struct fuzz_case c = { 0 };
	struct target canary = { canary_addr, C_KERNEL, "canary" };
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	__u64 val[VALUE_SIZE / 8], a, v = 0;
	struct emit e;
	int fd, err;

	if (setup_err[0]) {
		test_fail("%s", setup_err);
		return;
	}
	c.outer.type = P_SOCKET;
	c.outer.n = 2;
	c.outer.act[0] = (struct action){ .kind = K_LOAD, .base = B_VALUE, .size = 8 };
	add_slot(&c.outer, &c.outer.act[0], &canary, L_NONE);
	c.outer.act[1] = (struct action){ .kind = K_STORE, .base = B_STACK,
					  .size = 4, .imm = 0x5a5a5a5a };
	add_slot(&c.outer, &c.outer.act[1], &canary, L_NONE);
	ASSERT_OK(emit_prog(&e, &c.outer, 3, outer_map, scratch_map), "emit");
	fd = load(&e, P_SOCKET, 0, 0);
	ASSERT_TRUE(fd >= 0, "loading the program plain");
	ASSERT_OK(prepare_value(&c.outer, outer_map, 0, 0, own_value_addr[0]),
		  "map value");
	err = bpf_prog_test_run_opts(fd, &opts);
	close(fd);
	ASSERT_OK(err, "run");
	ASSERT_OK(value_io(outer_map, val, 0), "map value");
	moat_canary(&a, &v);
	moat_set_canary(canary_val);
	test_info("MOAT off: the canary read as %#llx (it was %#llx), then written: %#llx",
		  (unsigned long long)val[OFF_SINK / 8],
		  (unsigned long long)canary_val, (unsigned long long)v);
	ASSERT_EQ(val[OFF_SINK / 8], canary_val, "what the forged load read");
	ASSERT_EQ(v, (canary_val & ~0xffffffffULL) | 0x5a5a5a5a,
		  "the canary after the forged store");
	ASSERT_EQ(val[OFF_MARK / 8], MARK_END, "the program ran to its end");
	ASSERT_EQ(opts.retval, 7, "verdict");
}

static void test_programs_contained(void)
{
	__u64 i, mask[2];
	struct fuzz_case c;
	long long runs0;
	char why[512];
	int ok, err;

	fuzz_ready_or_skip(&ok);
	if (!ok)
		return;
	/* The kernel counts each program's invocations (prog_run_cnt()). */
	moat_write_file(BPF_STATS, "1");
	err = neighbours_start();
	if (err) {
		neighbours_stop();
		test_fail("starting the neighbours: %s", strerror(-err));
		return;
	}
	storm_start();
	for (i = 0; i < (__u64)fuzz_cases; i++) {
		gen_case(&c, fuzz_seed, i, &ro_target, &victim_target);
		mask[0] = mask[1] = ~0ULL;
		kmsg_note(fuzz_seed, i);
		err = do_case(&c, mask, &stats, why, sizeof(why), 0);
		if (err < 0) {
			if (stats.loads_failed++ < 5) {
				printf("INFO fuzz: case %llu: %s\n",
				       (unsigned long long)i, why);
				print_case(&c, mask);
			}
			if (!first_fail[0])
				snprintf(first_fail, sizeof(first_fail),
					 "case %llu could not run: %s",
					 (unsigned long long)i, why);
			continue;
		}
		if (err) {
			if (nr_bad < 20)
				printf("INFO fuzz: case %llu: %s\n",
				       (unsigned long long)i, why);
			if (!nr_bad++) {
				snprintf(first_fail, sizeof(first_fail),
					 "case %llu of seed %#llx: %s",
					 (unsigned long long)i,
					 (unsigned long long)fuzz_seed, why);
				shrink(&c, mask);
				printf("INFO fuzz: case %llu shrunk (rerun: fuzz --case %#llx %llu):\n",
				       (unsigned long long)i,
				       (unsigned long long)fuzz_seed,
				       (unsigned long long)i);
				print_case(&c, mask);
			}
		}
		if ((i + 1) % BATCH == 0 || i + 1 == (__u64)fuzz_cases) {
			if (integrity(why, sizeof(why), &stats.victim_changed) &&
			    !nr_integrity_bad++)
				snprintf(integrity_why, sizeof(integrity_why),
					 "after case %llu: %.400s",
					 (unsigned long long)i, why);
			if (fuzz_cases > SLICE_CASES && (i + 1) % 1000 == 0) {
				printf("INFO fuzz: %llu cases, %lld bad, %lld integrity failures\n",
				       (unsigned long long)i + 1, nr_bad,
				       nr_integrity_bad);
				fflush(stdout);
			}
		}
	}
	storm_stop();
	neighbours_stop();
	moat_write_file(BPF_STATS, "0");
	/* Nothing the fuzzer started may outlive it (later tests count runs). */
	runs0 = moat_stat("runs");
	usleep(100 * 1000);
	ASSERT_EQ(moat_stat("runs") - runs0, 0, "isolated runs after the fuzzer stopped");
	test_info("neighbours: %lld + %lld loops, %lld + %lld results changed, %lld violations counted against them (watched, not judged)",
		  neigh[0].runs, neigh[1].runs, neigh[0].bad, neigh[1].bad,
		  neighbours_viol());
	test_info("seed %#llx: %lld cases (%lld programs run %lld times, %lld inner runs), %lld outer runs terminated, %lld ran to the end",
		  (unsigned long long)fuzz_seed, stats.cases,
		  stats.programs, stats.runs, stats.inner_runs,
		  stats.terminated, stats.ran_through);
	test_info("outer actions reached: %lld must go through, %lld must end the run, %lld either; %lld stores at another domain's map (victim %s, domain %lld), victim changed after %lld batches",
		  stats.by_outcome[O_OK], stats.by_outcome[O_TERM],
		  stats.by_outcome[O_EITHER], stats.other_writes,
		  victim_separate ? "judged" : "not judged: in no domain",
		  fdinfo(victim_map, "moat_domain"), stats.victim_changed);
	test_info("%d absolute targets (%d per-CPU symbols on each CPU, task stacks and pks_ksp among them); %lld outer actions reached on the packet pointer",
		  nr_targets, nr_percpu, stats.pkt_based);
	ASSERT_EQ(stats.loads_failed, 0, first_fail[0] ? first_fail : "cases that could not run");
	ASSERT_EQ(nr_bad, 0, first_fail[0] ? first_fail : "cases not as expected");
	/* The fuzzer must attack and must let legitimate work through. */
	ASSERT_TRUE(stats.terminated > stats.cases / 4, "runs terminated");
	ASSERT_TRUE(stats.ran_through > stats.cases / 20, "runs that ran to the end");
	ASSERT_TRUE(stats.inner_runs > 0, "nested runs");
	ASSERT_TRUE(stats.pkt_based > 0, "actions on the packet pointer");
	ASSERT_TRUE(nr_percpu > 0, "per-CPU MOAT state among the targets");
}

static void test_kernel_intact(void)
{
	int ok;

	fuzz_ready_or_skip(&ok);
	if (!ok)
		return;
	ASSERT_TRUE(stats.cases > 0, "cases run");
	ASSERT_EQ(nr_integrity_bad, 0, integrity_why);
}

static int run_one(__u64 seed, __u64 idx)
{
	__u64 mask[2] = { ~0ULL, ~0ULL };
	struct fuzz_case c;
	char why[512];
	int err;

	if (setup_err[0]) {
		fprintf(stderr, "%s\n", setup_err);
		return 2;
	}
	moat_write_file(BPF_STATS, "1");
	/* As in the long run: neighbours and the interrupt storm. */
	err = neighbours_start();
	if (err) {
		neighbours_stop();
		fprintf(stderr, "starting the neighbours: %s\n", strerror(-err));
		return 2;
	}
	storm_start();
	gen_case(&c, seed, idx, &ro_target, &victim_target);
	print_case(&c, mask);
	err = do_case(&c, mask, NULL, why, sizeof(why), 1);
	if (err > 0)
		shrink(&c, mask);
	storm_stop();
	neighbours_stop();
	if (!err) {
		printf("case %llu of seed %#llx: as expected\n",
		       (unsigned long long)idx, (unsigned long long)seed);
		return 0;
	}
	printf("case %llu of seed %#llx: %s\n", (unsigned long long)idx,
	       (unsigned long long)seed, why);
	if (err > 0) {
		printf("shrunk to:\n");
		print_case(&c, mask);
	}
	return 1;
}

int main(int argc, char **argv)
{
	const char *env = getenv("MOAT_FUZZ");

	if (setup() > 0 && !setup_err[0])
		snprintf(setup_err, sizeof(setup_err), "setup failed");
	if (argc == 4 && !strcmp(argv[1], "--case"))
		return run_one(strtoull(argv[2], NULL, 0),
			       strtoull(argv[3], NULL, 0));
	/* The same from the guest's command line: moat.fuzz=case,SEED,I. */
	if (env && !strncmp(env, "case,", 5) && strchr(env + 5, ','))
		return run_one(strtoull(env + 5, NULL, 0),
			       strtoull(strchr(env + 5, ',') + 1, NULL, 0));
	if (env) {
		fuzz_cases = strtoll(env, NULL, 0);
		if (strchr(env, ','))
			fuzz_seed = strtoull(strchr(env, ',') + 1, NULL, 0);
	}
	RUN_TEST("fuzz", test_attacks_land_moat_off);
	RUN_TEST("fuzz", test_programs_contained);
	RUN_TEST("fuzz", test_kernel_intact);
	return test_exit();
}
