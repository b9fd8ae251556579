// SPDX-License-Identifier: GPL-2.0
/*
 * Verifier-escape attacks, with MOAT off and on.
 *
 * Each program in escape.bpf.c passes the verifier, then uses the test
 * kernel's bpf_moat_test_escape() (CONFIG_BPF_MOAT_TEST) to move a pointer
 * the verifier trusts onto the kernel canary in moat_test/canary.
 *
 * MOAT off (kernel.bpf_moat=0): each attack really reads the canary's
 * value or overwrites it.  This proves the attacks are real.
 *
 * MOAT on (the same programs loaded with BPF_F_MOAT, kernel.bpf_moat=1):
 * each attack is terminated at the access: it never gets to the end, the
 * verdict is the safe one (drop, XDP_ABORTED), the program's
 * moat_violations count goes up by one, the canary keeps its value, and
 * the violation is reported by the bpf_moat_violation tracepoint and the
 * kernel log.  On a CPU without PKS these cases are skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "bpfobj.h"
#include "moat.h"
#include "cgroup.h"

#define DB_FILE "/sys/kernel/debug/moat_test/db_stack"
#define KERNEL_CS 0x10

struct attack_cfg {
	__u64 target;
	__u64 write_val;
	__u64 ctx_adjust;
	__u64 result;
	__u64 scratch;
	__u64 ran;
	__u64 pid;
	__u64 inner_ns;
};

#define TRACEFS "/sys/kernel/tracing"

static struct bpf_object *obj, *mobj;	/* MOAT off, MOAT on */
static int cfg_fd = -1, mcfg_fd = -1;
static char setup_err[256], msetup_err[256];

/*
 * Offset of @member in the struct or union @id of @btf, looking into its
 * anonymous struct and union members too; -1 if it has none.
 */
static long long btf_member_offset(const struct btf *btf, int id,
				   const char *member)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	long long off;
	int i;

	if (!t || (!btf_is_struct(t) && !btf_is_union(t)))
		return -1;
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);

		off = -1;
		if (name && !strcmp(name, member))
			off = 0;
		else if (!name || !*name)
			off = btf_member_offset(btf, btf__resolve_type(btf, m->type),
						member);
		if (off >= 0)
			return btf_member_bit_offset(t, i) / 8 + off;
	}
	return -1;
}

/* Offset of member @member in kernel struct @type, from vmlinux BTF. */
static long long btf_offset(const char *type, const char *member)
{
	struct btf *btf = btf__load_vmlinux_btf();
	long long off = -1;
	int id;

	if (!btf)
		return -1;
	id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	if (id > 0)
		off = btf_member_offset(btf, id, member);
	btf__free(btf);
	return off;
}

/*
 * Run program @name of @o once on a 64-byte packet (a raw tracepoint
 * program: on two zero arguments) with @cfg in map @map: 0 or -errno.  The program's return value goes to @retval.
 */
/* Length of the packet the last run_in() gave back. */
static __u32 run_len_out;

static int run_in(struct bpf_object *o, int map, const char *name,
		  struct attack_cfg *cfg, __u32 *retval)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(o, name);
	unsigned char pkt[64] = { [12] = 0x08 };	/* IPv4 ethertype */
	unsigned char out[256];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt,
		.data_size_in = sizeof(pkt),
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1,
	);
	__u64 args[2] = {};
	__u32 key = 0;
	int err;

	if (!prog)
		return -ENOENT;
	/* Raw tracepoints run on their arguments, once. */
	if (bpf_program__type(prog) == BPF_PROG_TYPE_RAW_TRACEPOINT) {
		opts.data_in = NULL;
		opts.data_size_in = 0;
		opts.data_out = NULL;
		opts.data_size_out = 0;
		opts.repeat = 0;
		opts.ctx_in = args;
		opts.ctx_size_in = sizeof(args);
	}
	cfg->ran = 0;
	if (bpf_map_update_elem(map, &key, cfg, BPF_ANY))
		return -errno;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (err)
		return err;
	if (retval)
		*retval = opts.retval;
	run_len_out = opts.data_size_out;
	return bpf_map_lookup_elem(map, &key, cfg) ? -errno : 0;
}

static int run(const char *name, struct attack_cfg *cfg)
{
	return run_in(obj, cfg_fd, name, cfg, NULL);
}

/* Write @cfg into map @map (@put), or read it back: 0, or -1 after a FAIL. */
static int cfg_io(int map, struct attack_cfg *cfg, int put)
{
	__u32 key = 0;

	if (put ? bpf_map_update_elem(map, &key, cfg, BPF_ANY) :
		  bpf_map_lookup_elem(map, &key, cfg)) {
		test_fail("cfg: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int ready(void)
{
	if (setup_err[0]) {
		test_fail("%s", setup_err);
		return 0;
	}
	return 1;
}

static void test_escape_returns_runtime_value(void)
{
	struct attack_cfg c = { .target = 0x1234567890ULL };

	if (!ready())
		return;
	ASSERT_OK(run("escape_value", &c), "run escape_value");
	ASSERT_EQ(c.result, 0x1234567890ULL,
		  "run-time result of the kfunc the verifier models as 0");
}

/* Run a read attack on the canary and check it read the canary's value. */
static void read_attack(const char *name, __u64 adjust, __u64 mask)
{
	struct attack_cfg c = { .ctx_adjust = adjust };
	__u64 addr, val;

	if (!ready())
		return;
	ASSERT_OK(moat_canary(&addr, &val), "read " MOAT_CANARY);
	c.target = addr;
	ASSERT_OK(run(name, &c), name);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	test_info("%s, MOAT off: read 0x%llx at 0x%llx, canary holds 0x%llx",
		  name, (unsigned long long)c.result,
		  (unsigned long long)addr, (unsigned long long)val);
	ASSERT_EQ(c.result & mask, val & mask,
		  "value the attack read at the canary (MOAT off)");
}

static void test_map_oob_read_moat_off(void)
{
	read_attack("map_read", 0, ~0ULL);
}

static void test_hash_oob_read_moat_off(void)
{
	read_attack("hash_read", 0, ~0ULL);
}

static void test_nopre_hash_oob_read_moat_off(void)
{
	read_attack("nopre_hash_read", 0, ~0ULL);
}

static void test_lpm_oob_read_moat_off(void)
{
	read_attack("lpm_read", 0, ~0ULL);
}

static void test_rb_oob_read_moat_off(void)
{
	read_attack("rb_read", 0, ~0ULL);
}

static void test_stack_oob_read_moat_off(void)
{
	read_attack("stack_read", 0, ~0ULL);
}

static void test_ctx_oob_read_moat_off(void)
{
	long long off = btf_offset("sk_buff", "len");

	ASSERT_GE(off, 0, "offset of sk_buff.len in vmlinux BTF");
	read_attack("ctx_read", off, 0xffffffffULL);	/* a u32 field */
}

static void test_pkt_oob_read_moat_off(void)
{
	read_attack("pkt_read", 0, ~0ULL);
}

/* Run write attack @name on the canary and check it overwrote it. */
static void write_attack(const char *name)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	__u64 addr, before, after;

	if (!ready())
		return;
	ASSERT_OK(moat_canary(&addr, &before), "read " MOAT_CANARY);
	c.target = addr;
	ASSERT_OK(run(name, &c), name);
	ASSERT_OK(moat_canary(&addr, &after), "read " MOAT_CANARY " again");
	moat_set_canary(before);
	test_info("%s, MOAT off: canary 0x%llx -> 0x%llx", name,
		  (unsigned long long)before, (unsigned long long)after);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(after, c.write_val, "canary after the write attack (MOAT off)");
}

static void test_map_oob_write_moat_off(void)
{
	write_attack("map_write");
}

/* Pin the caller to CPU 0, keeping its affinity in @saved; 0 or -errno. */
static int pin_cpu0(cpu_set_t *saved)
{
	cpu_set_t one;

	sched_getaffinity(0, sizeof(*saved), saved);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}

/* Send this CPU an NMI: 0 if the handler got it, else -errno. */
static int nmi_send(void)
{
	int fd = open(MOAT_NMI_FILE, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

/*
 * Attach nmi_stack_rw of @o, send this CPU an NMI through the test
 * facility, detach: the program ran inside the NMI and tried to read and
 * rewrite the CS word of the frame on this CPU's NMI stack, or with @own
 * a word of its map value.  0 or -errno.
 */
static int nmi_attack(struct bpf_object *o, int map, struct attack_cfg *c,
		      int own)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o,
							"nmi_stack_rw");
	struct bpf_link *link;
	cpu_set_t all;
	__u32 key = 0;
	int err;

	if (!p)
		return -ENOENT;
	/* The address and the NMI must be those of one CPU. */
	err = pin_cpu0(&all);
	if (err)
		return err;
	err = moat_facility_addr(MOAT_NMI_FILE, &c->target);
	if (err)
		goto out;
	if (own)
		c->target = 1;
	c->ran = 0;
	c->result = 0;
	if (bpf_map_update_elem(map, &key, c, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	link = bpf_program__attach(p);
	if (libbpf_get_error(link)) {
		err = -errno;
		goto out;
	}
	err = nmi_send();
	bpf_link__destroy(link);
	if (!err && bpf_map_lookup_elem(map, &key, c))
		err = -errno;
out:
	sched_setaffinity(0, sizeof(all), &all);
	return err;
}

/*
 * Attach db_stack_rw of @o to a hardware breakpoint on the canary, on
 * CPU 0, and read the canary there: the kernel's read raises a #DB, and
 * the program runs in its handler and tries to read and rewrite the CS
 * word of the frame on CPU 0's #DB stack.  0 or -errno.
 */
static int db_attack(struct bpf_object *o, int map, struct attack_cfg *c)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o,
							"db_stack_rw");
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_RW,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.sample_period = 1,
	};
	struct bpf_link *link;
	cpu_set_t all;
	__u64 addr, val;
	__u32 key = 0;
	int pfd = -1, err;

	if (!p)
		return -ENOENT;
	err = pin_cpu0(&all);
	if (err)
		return err;
	err = moat_facility_addr(DB_FILE, &c->target);
	if (!err && moat_canary(&addr, &val))
		err = -EINVAL;
	if (err)
		goto out;
	c->ran = 0;
	c->result = 0;
	if (bpf_map_update_elem(map, &key, c, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	attr.bp_addr = addr;
	pfd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, 0);
	if (pfd < 0) {
		err = -errno;
		goto out;
	}
	link = bpf_program__attach_perf_event(p, pfd);
	if (libbpf_get_error(link)) {
		err = -errno;
		goto out;
	}
	moat_canary(&addr, &val);	/* the #DB */
	bpf_link__destroy(link);
	if (bpf_map_lookup_elem(map, &key, c))
		err = -errno;
out:
	if (pfd >= 0)
		close(pfd);
	sched_setaffinity(0, sizeof(all), &all);
	return err;
}

/* MOAT off, a program in a #DB handler can rewrite the #DB's frame. */
static void test_db_stack_moat_off(void)
{
	struct attack_cfg c = {};

	if (!ready())
		return;
	ASSERT_OK(db_attack(obj, cfg_fd, &c), "#DB with db_stack_rw attached");
	test_info("MOAT off: read 0x%llx at 0x%llx (the interrupted CS) and wrote it back",
		  (unsigned long long)c.result, (unsigned long long)c.target);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(c.result & 0xffff, KERNEL_CS,
		  "word read: the CS of the interrupted kernel code");
}

/* MOAT off, a program in an NMI can read and rewrite the NMI's frame. */
static void test_nmi_stack_moat_off(void)
{
	struct attack_cfg c = {};

	if (!ready())
		return;
	ASSERT_OK(nmi_attack(obj, cfg_fd, &c, 0),
		  "NMI with nmi_stack_rw attached");
	test_info("MOAT off: read 0x%llx at 0x%llx (the interrupted CS) and wrote it back",
		  (unsigned long long)c.result, (unsigned long long)c.target);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(c.result & 0xffff, KERNEL_CS,
		  "word read: the CS of the interrupted kernel code");
}

static void test_stack_oob_write_moat_off(void)
{
	write_attack("stack_write");
}

/* --- MOAT on */

/* Common precondition of the MOAT-on cases. */
static int moat_ready(void)
{
	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return 0;
	}
	if (setup_err[0] || msetup_err[0]) {
		test_fail("%s", setup_err[0] ? setup_err : msetup_err);
		return 0;
	}
	return 1;
}

static long long violations(const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(mobj, name);

	return p ? fdinfo(bpf_program__fd(p), "moat_violations") : -1;
}

static void test_isolated_programs_loaded(void)
{
	struct bpf_program *p;

	if (!moat_ready())
		return;
	bpf_object__for_each_program(p, mobj) {
		if (!bpf_program__autoload(p))
			continue;
		ASSERT_EQ(fdinfo(bpf_program__fd(p), "moat_isolated"), 1,
			  bpf_program__name(p));
	}
}

/* A legitimate isolated run: map access, a kfunc call, its result. */
static void test_escape_value_isolated(void)
{
	struct attack_cfg c = { .target = 0x1234567890ULL };
	__u32 ret = 1;

	if (!moat_ready())
		return;
	ASSERT_OK(run_in(mobj, mcfg_fd, "escape_value", &c, &ret),
		  "run escape_value");
	ASSERT_EQ(c.ran, 1, "isolated program ran to the end");
	ASSERT_EQ(c.result, 0x1234567890ULL, "kfunc result through the gate");
	ASSERT_EQ(ret, 0, "verdict");
	ASSERT_EQ(violations("escape_value"), 0, "moat_violations");
}

/*
 * MOAT on: the NMI stack holds the NMI handler's frames while the program
 * runs in the NMI; it is closed to the program, which is terminated at
 * its read.
 */
static void test_nmi_stack_moat_on(void)
{
	struct bpf_program *p;
	struct attack_cfg c = {};
	long long v0;

	if (!moat_ready())
		return;
	p = bpf_object__find_program_by_name(mobj, "nmi_stack_rw");
	v0 = p ? fdinfo(bpf_program__fd(p), "moat_violations") : -1;
	ASSERT_OK(nmi_attack(mobj, mcfg_fd, &c, 0),
		  "NMI with nmi_stack_rw attached");
	test_info("MOAT on: ran %llu, read 0x%llx at 0x%llx, violations %lld -> %lld",
		  (unsigned long long)c.ran, (unsigned long long)c.result,
		  (unsigned long long)c.target, v0,
		  violations("nmi_stack_rw"));
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(c.result, 0, "value the attack got (nothing)");
	ASSERT_TRUE(violations("nmi_stack_rw") > v0, "moat_violations went up");
}

/* MOAT on: the #DB stack is closed to a program run by the #DB handler. */
static void test_db_stack_moat_on(void)
{
	struct attack_cfg c = {};
	long long v0;

	if (!moat_ready())
		return;
	v0 = violations("db_stack_rw");
	ASSERT_OK(db_attack(mobj, mcfg_fd, &c), "#DB with db_stack_rw attached");
	test_info("MOAT on: ran %llu, read 0x%llx at 0x%llx, violations %lld -> %lld",
		  (unsigned long long)c.ran, (unsigned long long)c.result,
		  (unsigned long long)c.target, v0, violations("db_stack_rw"));
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(c.result, 0, "value the attack got (nothing)");
	ASSERT_TRUE(violations("db_stack_rw") > v0, "moat_violations went up");
}

/* The same program in an NMI, isolated, on its own map value: runs. */
static void test_nmi_isolated_run(void)
{
	struct attack_cfg c = { .scratch = 0x4e4d49 };
	long long v0, f0;

	if (!moat_ready())
		return;
	v0 = violations("nmi_stack_rw");
	f0 = moat_file_value(MOAT_STATS, "ist_tlb_flushes");
	ASSERT_OK(nmi_attack(mobj, mcfg_fd, &c, 1),
		  "NMI with nmi_stack_rw attached");
	test_info("IST stack TLB flushes %lld -> %lld", f0,
		  moat_file_value(MOAT_STATS, "ist_tlb_flushes"));
	/* NMI, #DB and #MC stacks closed and reopened: 2 pages each or more. */
	ASSERT_TRUE(moat_file_value(MOAT_STATS, "ist_tlb_flushes") >= f0 + 6,
		    "IST stack pages closed and reopened for the run");
	ASSERT_EQ(c.ran, 1, "isolated program in the NMI ran to the end");
	ASSERT_EQ(c.result, 0x4e4d49, "word it read in its map value");
	ASSERT_EQ(violations("nmi_stack_rw"), v0, "moat_violations");
}

#define PKS_TEST_FILE "/sys/kernel/debug/pks/test"

/*
 * Nested windows: the PKS self-test entry_irqs sends NMIs into restricted
 * windows on both CPUs for two seconds, while nmi_stack_rw, isolated and
 * harmless (its map value), runs in each of those NMIs: a window opened
 * inside an NMI that interrupted a window.  The storm must pass and the
 * program must not be terminated.
 */
static void test_nmi_isolated_in_windows(void)
{
	struct bpf_program *p;
	struct attack_cfg c = { .target = 1 };
	struct bpf_link *link;
	char res[512] = "";
	long long v0, runs0;
	__u32 key = 0;
	int fd, n;

	if (!moat_ready())
		return;
	p = bpf_object__find_program_by_name(mobj, "nmi_stack_rw");
	v0 = violations("nmi_stack_rw");
	runs0 = moat_file_value(MOAT_STATS, "runs");
	ASSERT_OK(bpf_map_update_elem(mcfg_fd, &key, &c, BPF_ANY), "cfg");
	link = p ? bpf_program__attach(p) : NULL;
	if (libbpf_get_error(link)) {
		test_fail("attaching nmi_stack_rw: %s", strerror(errno));
		return;
	}
	fd = open(PKS_TEST_FILE, O_RDWR);
	if (fd >= 0 && write(fd, "entry_irqs", 10) == 10) {
		n = pread(fd, res, sizeof(res) - 1, 0);
		res[n > 0 ? n : 0] = '\0';
	}
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	res[strcspn(res, "\n")] = '\0';
	test_info("storm: '%s'; MOAT runs %lld -> %lld", res, runs0,
		  moat_file_value(MOAT_STATS, "runs"));
	ASSERT_TRUE(!strncmp(res, "PASS entry_irqs", 15),
		    "entry_irqs passed with the program in its NMIs");
	ASSERT_TRUE(moat_file_value(MOAT_STATS, "runs") > runs0 + 100,
		    "isolated runs inside the NMIs");
	ASSERT_EQ(violations("nmi_stack_rw"), v0, "moat_violations");
}

/* Run attack @name isolated; check it was stopped and the canary kept. */
static void contained(const char *name, __u64 adjust)
{
	struct attack_cfg c = { .ctx_adjust = adjust,
				.write_val = 0x6861636b6564ULL };
	__u64 addr, before, after;
	long long v0 = violations(name);
	__u32 ret = 1;

	ASSERT_OK(moat_canary(&addr, &before), "read " MOAT_CANARY);
	c.target = addr;
	ASSERT_OK(run_in(mobj, mcfg_fd, name, &c, &ret), name);
	ASSERT_OK(moat_canary(&addr, &after), "read " MOAT_CANARY " again");
	test_info("%s, MOAT on: ran %llu, verdict %u, read 0x%llx, canary 0x%llx -> 0x%llx, violations %lld -> %lld",
		  name, (unsigned long long)c.ran, ret,
		  (unsigned long long)c.result, (unsigned long long)before,
		  (unsigned long long)after, v0, violations(name));
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(ret, 0, "safe verdict of the terminated program (drop, XDP_ABORTED)");
	ASSERT_EQ(c.result, 0, "value the attack got (nothing)");
	ASSERT_EQ(after, before, "canary after the attack (MOAT on)");
	ASSERT_EQ(violations(name), v0 + 1, "moat_violations");
}

static void test_map_oob_read_moat_on(void)
{
	if (moat_ready())
		contained("map_read", 0);
}

static void test_map_oob_write_moat_on(void)
{
	if (moat_ready())
		contained("map_write", 0);
}

static void test_hash_oob_read_moat_on(void)
{
	if (moat_ready())
		contained("hash_read", 0);
}

static void test_nopre_hash_oob_read_moat_on(void)
{
	if (moat_ready())
		contained("nopre_hash_read", 0);
}

static void test_lpm_oob_read_moat_on(void)
{
	if (moat_ready())
		contained("lpm_read", 0);
}

static void test_rb_oob_read_moat_on(void)
{
	if (moat_ready())
		contained("rb_read", 0);
}

static void test_stack_oob_write_moat_on(void)
{
	if (moat_ready())
		contained("stack_write", 0);
}

static void test_stack_oob_read_moat_on(void)
{
	if (moat_ready())
		contained("stack_read", 0);
}

static void test_pkt_oob_read_moat_on(void)
{
	if (moat_ready())
		contained("pkt_read", 0);
}

static void test_ctx_oob_read_moat_on(void)
{
	long long off = btf_offset("sk_buff", "len");

	if (!moat_ready())
		return;
	ASSERT_GE(off, 0, "offset of sk_buff.len in vmlinux BTF");
	contained("ctx_read", off);
}

/*
 * A read of a user address (NULL + 16) through a map value pointer: under
 * SMAP the kernel oopses on such an access without consulting exception
 * tables, so MOAT must catch it there too.  No MOAT-off half: it would
 * oops the kernel.
 */
static void test_user_addr_read_moat_on(void)
{
	struct attack_cfg c = { .target = 16 };
	long long v0;
	__u32 ret = 1;

	if (!moat_ready())
		return;
	v0 = violations("map_read");
	ASSERT_OK(run_in(mobj, mcfg_fd, "map_read", &c, &ret), "map_read");
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(ret, 0, "safe verdict (drop)");
	ASSERT_EQ(violations("map_read"), v0 + 1, "moat_violations");
}

/* Write @val to tracefs file @file: 0 or -errno. */
static int tracefs_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	return moat_write_file(path, val);
}

/*
 * The reads of @path (records, for /dev/kmsg) that hold @a and, unless
 * NULL, @b: how many, and, unless @last is NULL, the last one's message in
 * @last (@len bytes; "(none)").  Records the kernel overwrote while they
 * were read are skipped.
 */
static int log_scan(const char *path, int nonblock, const char *a,
		    const char *b, char *last, size_t len)
{
	int fd = open(path, O_RDONLY | (nonblock ? O_NONBLOCK : 0)), found = 0;
	char buf[4096], *msg;
	ssize_t n;

	if (last)
		snprintf(last, len, "(none)");
	if (fd < 0)
		return 0;
	/* /dev/kmsg returns one record per read. */
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0 ||
	       (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (!strstr(buf, a) || (b && !strstr(buf, b)))
			continue;
		found++;
		if (!last)
			continue;
		msg = strchr(buf, ';') ? strchr(buf, ';') + 1 : buf;
		msg[strcspn(msg, "\n")] = '\0';
		if (strlen(msg) >= len)
			msg[len - 1] = '\0';
		memcpy(last, msg, strlen(msg) + 1);
	}
	close(fd);
	return found;
}

/*
 * Whether the trace buffer or the kernel log holds a read (a line, for
 * /dev/kmsg) with @a and, unless NULL, @b.
 */
static int file_has(const char *path, const char *a, const char *b,
		    int nonblock)
{
	return log_scan(path, nonblock, a, b, NULL, 0) > 0;
}

/*
 * Ring buffer records are BPF memory, headers included, so an isolated
 * program can forge the header the kernel follows from a record to its
 * ring buffer: MOAT's check of the header keeps the record from being
 * committed.  The program is not terminated (it faulted nowhere).  No
 * MOAT-off half: without the check the kernel would write into the
 * target's page.
 */
static void test_rb_forged_header_moat_on(void)
{
	struct attack_cfg c = {};
	__u64 addr, before, after;
	__u32 ret = 1;

	if (!moat_ready())
		return;
	ASSERT_OK(moat_canary(&addr, &before), "read " MOAT_CANARY);
	c.target = addr;
	ASSERT_OK(run_in(mobj, mcfg_fd, "rb_forge_header", &c, &ret),
		  "rb_forge_header");
	ASSERT_OK(moat_canary(&addr, &after), "read " MOAT_CANARY " again");
	test_info("rb_forge_header, MOAT on: ran %llu, canary 0x%llx -> 0x%llx",
		  (unsigned long long)c.ran, (unsigned long long)before,
		  (unsigned long long)after);
	ASSERT_EQ(c.ran, 1, "program ran to its end");
	ASSERT_EQ(after, before, "canary");
	ASSERT_TRUE(file_has("/dev/kmsg", "MOAT: ring buffer record with a forged header or address not committed",
			     NULL, 1), "kernel log line");
}

/*
 * A record header the program wrote on its own restricted stack, which is
 * no ring buffer's but which the gate lets through as memory the program
 * may write: the kernel must check that header as it checks those in BPF
 * memory.  The record is not committed, the target (the canary) is not
 * touched, the program runs to its end.
 */
static void test_rb_forged_stack_header_moat_on(void)
{
	static const char line[] = "MOAT: ring buffer record with a forged header or address not committed";
	struct attack_cfg c = {};
	__u64 addr, before, after;
	__u32 ret = 1;
	int n0, n1;

	if (!moat_ready())
		return;
	ASSERT_OK(moat_canary(&addr, &before), "read " MOAT_CANARY);
	c.target = addr;
	n0 = log_scan("/dev/kmsg", 1, line, NULL, NULL, 0);
	ASSERT_OK(run_in(mobj, mcfg_fd, "rb_forge_stack", &c, &ret),
		  "rb_forge_stack");
	n1 = log_scan("/dev/kmsg", 1, line, NULL, NULL, 0);
	ASSERT_OK(moat_canary(&addr, &after), "read " MOAT_CANARY " again");
	test_info("rb_forge_stack, MOAT on: ran %llu, canary 0x%llx -> 0x%llx, \"not committed\" lines %d -> %d",
		  (unsigned long long)c.ran, (unsigned long long)before,
		  (unsigned long long)after, n0, n1);
	ASSERT_EQ(c.ran, 1, "program ran to its end");
	ASSERT_EQ(after, before, "canary");
	ASSERT_EQ(n1, n0 + 1, "the record was not committed (kernel log)");
}

/*
 * A record header whose length leads past the producer: the next
 * reservation's walk over the committed records stops at it instead of
 * going around the whole position space with the ring's spinlock held and
 * interrupts off (which hung the CPU).  The program runs to its end.
 */
static void test_rb_forged_length_moat_on(void)
{
	struct attack_cfg c = {};
	__u32 ret = 1;

	if (!moat_ready())
		return;
	ASSERT_OK(run_in(mobj, mcfg_fd, "rb_forge_len", &c, &ret),
		  "rb_forge_len");
	test_info("rb_forge_len, MOAT on: ran %llu, second reservation %s",
		  (unsigned long long)c.ran, c.result ? "made" : "refused");
	ASSERT_EQ(c.ran, 1, "program ran to its end (the CPU did not hang)");
}

/*
 * MOAT logs at most 10 terminations in 5 s (its own rate limit), and the
 * attacks before may have used them up.  Before a run whose log line a
 * test looks for, wait for a new window to begin.
 */
static void fresh_log_window(void)
{
	usleep(5200 * 1000);
}

/*
 * A kernel address passed as the record: the helper gate finds that the
 * record's header is not BPF memory and ends the program at the call.
 */
static void test_rb_forged_address_moat_on(void)
{
	if (!moat_ready())
		return;
	fresh_log_window();
	contained("rb_forge_addr", 0);
	ASSERT_TRUE(file_has("/dev/kmsg", "'rb_forge_addr'",
			     "forged argument 1", 1),
		    "kernel log line names the argument");
}


/*
 * Overwriting its own return address: the write itself faults (the slot
 * is read-only to the program), inside the program, so the program never
 * returns through it.  No MOAT-off half: it would crash the kernel.
 */
static void test_return_address_write_moat_on(void)
{
	struct attack_cfg c = { .write_val = 0xffffffff81000000ULL };
	long long v0;
	__u32 ret = 1;

	if (!moat_ready())
		return;
	v0 = violations("ret_write");
	fresh_log_window();
	ASSERT_OK(run_in(mobj, mcfg_fd, "ret_write", &c, &ret), "ret_write");
	ASSERT_EQ(c.ran, 0, "attack program terminated at the write");
	ASSERT_EQ(ret, 0, "safe verdict (drop)");
	ASSERT_EQ(violations("ret_write"), v0 + 1, "moat_violations");
	ASSERT_TRUE(file_has("/dev/kmsg", "'ret_write'", "ip bpf_prog_", 1),
		    "the fault was the write, inside the program");
}

/* The violation is visible: tracepoint event and kernel log line. */
static void test_violation_reported(void)
{
	struct bpf_program *p;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct attack_cfg c = {};
	char want[64];
	__u64 addr, val;
	int err;

	if (!moat_ready())
		return;
	p = bpf_object__find_program_by_name(mobj, "map_read");
	ASSERT_TRUE(p != NULL, "map_read");
	ASSERT_OK(bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len),
		  "prog info");
	ASSERT_OK(moat_canary(&addr, &val), "read " MOAT_CANARY);
	ASSERT_OK(tracefs_write("trace", ""), "clearing the trace buffer");
	ASSERT_OK(tracefs_write("events/bpf_moat/bpf_moat_violation/enable",
				"1"), "enabling bpf_moat:bpf_moat_violation");
	c.target = addr;
	fresh_log_window();
	err = run_in(mobj, mcfg_fd, "map_read", &c, NULL);
	tracefs_write("events/bpf_moat/bpf_moat_violation/enable", "0");
	ASSERT_OK(err, "map_read");
	snprintf(want, sizeof(want), "prog_id=%u name=map_read", info.id);
	ASSERT_TRUE(file_has(TRACEFS "/trace", want, NULL, 0),
		    "bpf_moat_violation event in the trace buffer");
	snprintf(want, sizeof(want), "MOAT: terminated program %u 'map_read'",
		 info.id);
	ASSERT_TRUE(file_has("/dev/kmsg", want, NULL, 1), "kernel log line");
}

/*
 * pkt_ro_write: a cgroup skb program writes into the packet it may only
 * read.  One UDP datagram of RO_LEN bytes over loopback has linear data
 * of several pages; the program writes 'X' at payload offset RO_OFF, in
 * a page that holds only packet bytes, which MOAT maps read-only.
 */
#define CG_DIR		"/sys/fs/cgroup/moat_attack"
#define RO_PORT		40011
#define RO_LEN		12000
#define RO_OFF		6000

struct ro_result {
	int rx;			/* datagrams received */
	char byte;		/* at payload offset RO_OFF */
	long long mapped;	/* MOAT's ctx_pages_mapped during the run */
};

static void ro_traffic(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(RO_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_usec = 300000 };
	int rx = socket(AF_INET, SOCK_DGRAM, 0);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct ro_result *r = arg;
	static char buf[RO_LEN];
	long long before;

	before = moat_file_value(MOAT_STATS, "ctx_pages_mapped");
	if (rx < 0 || tx < 0 || bind(rx, (void *)&a, sizeof(a)))
		goto out;
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(buf, 'm', sizeof(buf));
	sendto(tx, buf, sizeof(buf), 0, (void *)&a, sizeof(a));
	memset(buf, 0, sizeof(buf));
	if (recv(rx, buf, sizeof(buf), 0) == RO_LEN) {
		r->rx++;
		r->byte = buf[RO_OFF];
	}
out:
	r->mapped = moat_file_value(MOAT_STATS, "ctx_pages_mapped") - before;
	if (rx >= 0)
		close(rx);
	if (tx >= 0)
		close(tx);
}

/* Run pkt_ro_write of @o (config map @map) on one datagram: 0 or -1. */
static int ro_attack(struct bpf_object *o, int map, struct attack_cfg *c,
		     struct ro_result *r)
{
	/* Packet offset: IPv4 and UDP headers, then the payload. */
	c->target = 20 + 8 + RO_OFF;
	c->write_val = 'X';
	if (cfg_io(map, c, 1) ||
	    cgroup_run_prog(bpf_object__find_program_by_name(o, "pkt_ro_write"),
			    CG_DIR, ro_traffic, r))
		return -1;
	return cfg_io(map, c, 0);
}

static void test_pkt_ro_write_moat_off(void)
{
	struct attack_cfg c = {};
	struct ro_result r = {};

	if (!ready() || ro_attack(obj, cfg_fd, &c, &r))
		return;
	test_info("pkt_ro_write, MOAT off: ran %llu, received %d, byte '%c'",
		  (unsigned long long)c.ran, r.rx, r.byte);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(r.rx, 1, "datagram delivered");
	ASSERT_EQ(r.byte, 'X', "byte the program wrote into its read-only packet");
}

/* Mapped read-only: the write faults, the program ends, the packet drops. */
static void test_pkt_ro_write_moat_on(void)
{
	struct attack_cfg c = {};
	struct ro_result r = {};
	long long v0;

	if (!moat_ready())
		return;
	if (moat_read_int(MOAT_MAP_PACKETS) != 1) {
		test_skip("MOAT copies packets here (map_packets is not 1)");
		return;
	}
	v0 = violations("pkt_ro_write");
	if (ro_attack(mobj, mcfg_fd, &c, &r))
		return;
	test_info("pkt_ro_write, MOAT on: ran %llu, received %d, pages mapped %lld, violations %lld -> %lld",
		  (unsigned long long)c.ran, r.rx, r.mapped, v0,
		  violations("pkt_ro_write"));
	ASSERT_GE(r.mapped, 1, "packet pages mapped");
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(violations("pkt_ro_write"), v0 + 1, "moat_violations");
	ASSERT_EQ(r.rx, 0, "datagram delivered (safe verdict: drop)");
}

/*
 * Canary attacks from cgroup programs that run on a call of this process
 * (an open, a bind, a socket): the escaped program reads the canary,
 * overwrites it and lets the call through.  MOAT off: all of that
 * happens.  MOAT on: the program is terminated before it read anything,
 * the canary is kept, and the call is refused (a terminated program's
 * verdict for these types).
 *
 * dev_canary: a cgroup device program, on opening /dev/null.
 * sa_canary: a cgroup bind4 program, on binding a socket to port 40031.
 * sock_canary: a cgroup sock_create program, on creating an IPv4 raw
 * socket.
 */
static void dev_open_null(void *arg)
{
	int fd = open("/dev/null", O_RDWR);

	*(int *)arg = fd >= 0 ? 0 : errno;
	if (fd >= 0)
		close(fd);
}

static void sa_bind_40031(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(40031),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	*(int *)arg = fd < 0 || bind(fd, (void *)&a, sizeof(a)) ? errno : 0;
	if (fd >= 0)
		close(fd);
}

static void sock_raw(void *arg)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);

	*(int *)arg = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
}

/*
 * Run cgroup program @name of @o (config map @map) on one @call, which
 * puts its errno (0: allowed) in *@err: 0 or -1.
 */
static int cg_attack(struct bpf_object *o, int map, const char *name,
		     void (*call)(void *), struct attack_cfg *c, int *err)
{
	if (cfg_io(map, c, 1) ||
	    cgroup_run_prog(bpf_object__find_program_by_name(o, name),
			    CG_DIR, call, err))
		return -1;
	return cfg_io(map, c, 0);
}

/* Canary attack @name on @call (named @what), MOAT off: it works. */
static void cg_canary_moat_off(const char *name, void (*call)(void *),
			       const char *what, const char *read_by,
			       const char *allowed)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	__u64 addr, before, after = 0;
	int err = -1, ret;

	if (!ready())
		return;
	ASSERT_OK(moat_canary(&addr, &before), "read " MOAT_CANARY);
	c.target = addr;
	ret = cg_attack(obj, cfg_fd, name, call, &c, &err);
	moat_canary(&addr, &after);
	moat_set_canary(before);
	if (ret)
		return;
	test_info("%s, MOAT off: ran %llu, read 0x%llx, canary 0x%llx -> 0x%llx, %s: %s",
		  name, (unsigned long long)c.ran,
		  (unsigned long long)c.result, (unsigned long long)before,
		  (unsigned long long)after, what,
		  err ? strerror(err) : "allowed");
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(c.result, before, read_by);
	ASSERT_EQ(after, c.write_val, "canary after the write attack (MOAT off)");
	ASSERT_EQ(err, 0, allowed);
}

/* The same isolated: terminated, counted, canary kept, call refused. */
static void cg_canary_moat_on(const char *name, void (*call)(void *),
			      const char *what, const char *refused)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	__u64 addr, before, after = 0;
	int err = -1, ret;
	long long v0;

	if (!moat_ready())
		return;
	ASSERT_OK(moat_canary(&addr, &before), "read " MOAT_CANARY);
	c.target = addr;
	v0 = violations(name);
	ret = cg_attack(mobj, mcfg_fd, name, call, &c, &err);
	moat_canary(&addr, &after);
	if (after != before)
		moat_set_canary(before);
	if (ret)
		return;
	test_info("%s, MOAT on: ran %llu, read 0x%llx, canary 0x%llx -> 0x%llx, %s: %s, violations %lld -> %lld",
		  name, (unsigned long long)c.ran,
		  (unsigned long long)c.result, (unsigned long long)before,
		  (unsigned long long)after, what,
		  err ? strerror(err) : "allowed", v0, violations(name));
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(c.result, 0, "value the attack got (nothing)");
	ASSERT_EQ(after, before, "canary after the attack (MOAT on)");
	ASSERT_EQ(violations(name), v0 + 1, "moat_violations");
	ASSERT_EQ(err, EPERM, refused);
}

static void test_dev_canary_moat_off(void)
{
	cg_canary_moat_off("dev_canary", dev_open_null, "open of /dev/null",
			   "canary read by the device program", "open allowed");
}

static void test_dev_canary_moat_on(void)
{
	cg_canary_moat_on("dev_canary", dev_open_null, "open of /dev/null",
			  "open denied (safe verdict)");
}

static void test_sa_canary_moat_off(void)
{
	cg_canary_moat_off("sa_canary", sa_bind_40031, "bind",
			   "canary read by the bind program", "bind allowed");
}

static void test_sa_canary_moat_on(void)
{
	cg_canary_moat_on("sa_canary", sa_bind_40031, "bind",
			  "bind refused (safe verdict)");
}

static void test_sock_canary_moat_off(void)
{
	cg_canary_moat_off("sock_canary", sock_raw, "socket",
			   "canary read by the sock program", "socket created");
}

static void test_sock_canary_moat_on(void)
{
	cg_canary_moat_on("sock_canary", sock_raw, "socket",
			  "socket refused (safe verdict)");
}

/*
 * A packet an isolated XDP run was shown stays in the window pages of
 * its frame (those it copied) until the next packet replaces it.  A run
 * of a type without a packet in the same frame must not see it: an
 * escaped cgroup device program reads where win_mark's packet was, at
 * the same offset from its context, on the same CPU: zeros (or it is
 * terminated), never the packet's bytes.  (On the kernel before
 * moat_prep_ctx() cleared the window for such types, the spy read the
 * mark: "read 0x214e4957544f414d".)
 */
#define WIN_MARK	0x214e4957544f414dULL	/* "MOATWIN!" */
#define WIN_MARK_OFF	32

static void test_window_cleared_for_device_isolated(void)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	struct bpf_program *mark;
	struct attack_cfg c = {};
	__u64 mark_v = WIN_MARK;
	long long v0;
	cpu_set_t all;
	int err = -1, ret;

	if (!moat_ready())
		return;
	mark = bpf_object__find_program_by_name(mobj, "win_mark");
	if (!mark) {
		test_fail("no win_mark in the isolated attack object");
		return;
	}
	memcpy(pkt + WIN_MARK_OFF, &mark_v, sizeof(mark_v));
	if (pin_cpu0(&all)) {
		test_fail("pinning to CPU 0");
		return;
	}
	/* The XDP run: the packet shown in this CPU's level-0 window. */
	ret = cfg_io(mcfg_fd, &c, 1) ||
	      bpf_prog_test_run_opts(bpf_program__fd(mark), &o) ||
	      cfg_io(mcfg_fd, &c, 0);
	if (!ret) {
		/* Where the packet's mark was, from the spy's context. */
		c.write_val = WIN_MARK_OFF;
		c.ran = 0;
		c.result = 0;
		v0 = violations("dev_win_spy");
		ret = cg_attack(mobj, mcfg_fd, "dev_win_spy", dev_open_null,
				&c, &err);
	}
	sched_setaffinity(0, sizeof(all), &all);
	if (ret) {
		test_fail("running win_mark, then dev_win_spy");
		return;
	}
	test_info("win_mark: packet at 0x%llx, context at 0x%llx; dev_win_spy: ran %llu, read 0x%llx (the mark is 0x%llx), violations %lld -> %lld, open: %s",
		  (unsigned long long)c.target,
		  (unsigned long long)c.ctx_adjust, (unsigned long long)c.ran,
		  (unsigned long long)c.result, WIN_MARK, v0,
		  violations("dev_win_spy"), err ? strerror(err) : "allowed");
	ASSERT_TRUE(c.target && c.ctx_adjust, "win_mark ran isolated");
	ASSERT_TRUE(c.result != WIN_MARK, "the earlier packet out of the device program's sight");
	ASSERT_TRUE(c.ran == 1 || violations("dev_win_spy") == v0 + 1,
		    "the spy ran to its end or was terminated");
}

/*
 * Every run at one level of a CPU uses the same restricted stack.  The
 * escaped stack_spy counts the marks stack_mark left there, run after it
 * on the same CPU: none, since a run that returned has its frame cleared.
 * stack_mark_fault leaves the same marks, then a #GP ends it and the entry
 * code saves the faulting address, also a mark, below its frame: none in
 * the frame nor in the 64 words below, since all of the stack of a run
 * that did not return is cleared.  stack_mark_div leaves marks in the
 * two registers the JIT pushes below the program's frame for a division:
 * none, since the clear reaches as deep as the JIT code may go.  The spy's
 * control (a mark it writes in
 * its own stack) must be found.  (Before bpf_moat_run() cleared stacks,
 * the spy found all 60.  MOAT off, programs share the task stack with the
 * kernel, whose memory an escaped program reads anyway: stack_read.)
 */
#define STACK_WORDS	60
#define STACK_MARK_C	0x5354414b4d4f0000ULL	/* escape.bpf.c's STACK_MARK */

/*
 * stack_spy over @words (up to 128) words from @from (0: its control):
 * the marks found; the first word in *@first if not NULL.  *@err: 0, or
 * why not (left alone if set before).
 */
static __u64 spy_scan(__u64 from, __u64 words, __u64 *first, int *err)
{
	struct attack_cfg c = { .target = from, .write_val = words,
				.result = ~0ULL };

	if (!*err)
		*err = run_in(mobj, mcfg_fd, "stack_spy", &c, NULL);
	if (!*err && c.ran != 1)
		*err = -EFAULT;
	if (first)
		*first = c.ctx_adjust;
	return c.result;
}

static __u64 stack_spy_count(__u64 from, __u64 words, int *err)
{
	return spy_scan(from, words, NULL, err);
}

static void stack_residue(const char *mark, bool faults)
{
	struct attack_cfg c = {};
	__u64 control, in_frame = ~0ULL, below = ~0ULL;
	long long v0, spy_v0;
	cpu_set_t all;
	int err;

	if (!moat_ready())
		return;
	if (pin_cpu0(&all)) {
		test_fail("pinning to CPU 0");
		return;
	}
	v0 = violations(mark);
	spy_v0 = violations("stack_spy");
	err = 0;
	control = stack_spy_count(0, 1, &err);
	if (!err)
		err = run_in(mobj, mcfg_fd, mark, &c, NULL);
	if (!err && c.target) {
		in_frame = stack_spy_count(c.target, STACK_WORDS, &err);
		below = stack_spy_count(c.target - 64 * 8, 64, &err);
	}
	sched_setaffinity(0, sizeof(all), &all);
	test_info("%s: ran %llu, marks at 0x%llx, violations %lld -> %lld; stack_spy found %llu of 1 (control), %llu of %d in the frame, %llu in the 64 words below, violations %lld -> %lld",
		  mark, (unsigned long long)c.ran,
		  (unsigned long long)c.target, v0, violations(mark),
		  (unsigned long long)control,
		  (unsigned long long)in_frame, STACK_WORDS,
		  (unsigned long long)below, spy_v0, violations("stack_spy"));
	if (err || !c.target) {
		test_fail("running %s and stack_spy: %s", mark,
			  err ? strerror(-err) : "no marks");
		return;
	}
	ASSERT_EQ(control, 1, "the spy's own mark (control)");
	ASSERT_EQ(c.ran, faults ? 0 : 1, faults ?
		  "marking program terminated" : "marking program ran to its end");
	ASSERT_EQ(violations(mark), v0 + faults, "its moat_violations");
	ASSERT_EQ(violations("stack_spy"), spy_v0, "the spy's moat_violations");
	ASSERT_EQ(in_frame, 0, "marks the spy found in the earlier run's frame");
	ASSERT_EQ(below, 0, "marks the spy found below that frame");
}

static void test_stack_cleared_after_run_isolated(void)
{
	stack_residue("stack_mark", false);
}

static void test_stack_cleared_after_division_isolated(void)
{
	stack_residue("stack_mark_div", false);
}

static void test_stack_cleared_after_violation_isolated(void)
{
	stack_residue("stack_mark_fault", true);
}

/*
 * What NMI handlers leave on the NMI stack, which every window on its CPU
 * can read (the CPU pushes NMI frames there under the window's PKRS).
 * The escaped stack_spy, run after an NMI on CPU 0, reads the top
 * NMI_SCAN_WORDS words of CPU 0's NMI stack, where the handler's frames
 * were, and counts marks.  Its control: the CS word of the NMI's hardware
 * frame, which stays (__KERNEL_CS).
 *
 * nmi_frames: the test facility's NMI handler holds the number written to
 * it, STACK_MARK + 32, and the next three, in its locals.
 * nmi_regs: endless_marks loops isolated with marks in five registers
 * until the lockup watchdog's NMI ends it: the NMI saved them in its
 * pt_regs.  None may be left: the entry code clears the stack below its
 * frame and the saved registers when the handler is done.  (Before it
 * did, the spy found the handler's 4 and 6 of the registers: rdx twice.)
 */
#define NMI_SCAN_WORDS	512

static int watchdog_ready(void);
static struct bpf_object *load_isolated(char *err, size_t errlen);

/* Marks in the top NMI_SCAN_WORDS words of the NMI stack; *cs: control. */
static __u64 nmi_stack_marks(__u64 cs_addr, __u64 *cs, int *err)
{
	__u64 top = cs_addr + 32, n = 0;
	int i;

	for (i = NMI_SCAN_WORDS / 128; i > 0; i--)
		n += spy_scan(top - i * 128 * 8, 128, NULL, err);
	spy_scan(cs_addr, 1, cs, err);
	return n;
}

static void test_nmi_frames_cleared_isolated(void)
{
	__u64 cs_addr, cs = 0, marks = ~0ULL;
	char mark[32];
	cpu_set_t all;
	int err = 0, fd;

	if (!moat_ready())
		return;
	if (pin_cpu0(&all)) {
		test_fail("pinning to CPU 0");
		return;
	}
	err = moat_facility_addr(MOAT_NMI_FILE, &cs_addr);
	snprintf(mark, sizeof(mark), "%llu",
		 (unsigned long long)(STACK_MARK_C + 32));
	fd = open(MOAT_NMI_FILE, O_WRONLY);
	if (!err && (fd < 0 || write(fd, mark, strlen(mark)) < 0))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (!err)
		marks = nmi_stack_marks(cs_addr, &cs, &err);
	sched_setaffinity(0, sizeof(all), &all);
	if (err) {
		test_fail("an NMI with marks, then stack_spy: %s",
			  strerror(-err));
		return;
	}
	test_info("NMI handler with 4 marks in its locals; stack_spy then read CS 0x%llx (control) and found %llu marks in the top %d words of CPU 0's NMI stack",
		  (unsigned long long)cs, (unsigned long long)marks,
		  NMI_SCAN_WORDS);
	ASSERT_EQ(cs, 0x10, "the NMI frame's CS word (control: __KERNEL_CS)");
	ASSERT_EQ(marks, 0, "marks of the handler left on the NMI stack");
}

static void test_nmi_regs_cleared_isolated(void)
{
	struct attack_cfg c = { .write_val = 1 };
	__u64 cs_addr, cs = 0, marks = ~0ULL;
	struct bpf_object *own, *saved;
	char err_text[256];
	long long v0, t0;
	int err, saved_fd;
	cpu_set_t all;
	__u32 ret = 1;

	if (!watchdog_ready())
		return;
	own = load_isolated(err_text, sizeof(err_text));
	if (!own) {
		test_fail("%s", err_text);
		return;
	}
	/* Its programs for this test: endless_marks is not run twice. */
	saved = mobj;
	saved_fd = mcfg_fd;
	mobj = own;
	mcfg_fd = bpf_object__find_map_fd_by_name(own, "cfg_map");
	if (pin_cpu0(&all)) {
		test_fail("pinning to CPU 0");
		goto out;
	}
	err = moat_facility_addr(MOAT_NMI_FILE, &cs_addr);
	v0 = violations("endless_marks");
	t0 = moat_file_value(MOAT_STATS, "timeouts");
	if (!err)
		err = run_in(mobj, mcfg_fd, "endless_marks", &c, &ret);
	if (!err)
		marks = nmi_stack_marks(cs_addr, &cs, &err);
	sched_setaffinity(0, sizeof(all), &all);
	test_info("endless_marks: ran %llu, %llu laps, verdict %u, violations %lld -> %lld, watchdog ends %lld -> %lld; stack_spy then read CS 0x%llx (control) and found %llu marks in the top %d words of CPU 0's NMI stack",
		  (unsigned long long)c.ran, (unsigned long long)c.result, ret,
		  v0, violations("endless_marks"), t0,
		  moat_file_value(MOAT_STATS, "timeouts"),
		  (unsigned long long)cs, (unsigned long long)marks,
		  NMI_SCAN_WORDS);
	if (err) {
		test_fail("endless_marks, then stack_spy: %s", strerror(-err));
		goto out;
	}
	ASSERT_EQ(c.ran, 0, "endless_marks ended by the watchdog");
	ASSERT_TRUE(c.result > 1, "it looped");
	ASSERT_EQ(ret, 0, "safe verdict (drop)");
	ASSERT_EQ(violations("endless_marks"), v0 + 1, "moat_violations");
	ASSERT_EQ(moat_file_value(MOAT_STATS, "timeouts"), t0 + 1,
		  "runs the watchdog ended (stats: timeouts)");
	ASSERT_EQ(cs, 0x10, "the NMI frame's CS word (control: __KERNEL_CS)");
	ASSERT_EQ(marks, 0, "registers of the ended program left on the NMI stack");
out:
	mobj = saved;
	mcfg_fd = saved_fd;
	bpf_object__close(own);
}

/*
 * A #DB from user mode: the CPU and the entry code push the user's frame
 * and registers onto the #DB stack before they move to the task stack.
 * This process watches a word of its own (a hardware breakpoint) and
 * writes it with marks in rbx and r12-r15; then stack_spy reads the top
 * DB_SCAN_WORDS words of CPU 0's #DB stack: none may be left.
 */
#define DB_SCAN_WORDS	128

static volatile __u64 db_watched;

static void db_user_write(void)
{
	__u64 m = STACK_MARK_C + 40;

	asm volatile("movq %0, %%rbx\n\t"
		     "leaq 2(%0), %%r12\n\t"
		     "leaq 3(%0), %%r13\n\t"
		     "leaq 4(%0), %%r14\n\t"
		     "leaq 5(%0), %%r15\n\t"
		     "movq %%rbx, (%1)\n\t"
		     "xorl %%ebx, %%ebx\n\t"
		     "xorl %%r12d, %%r12d\n\t"
		     "xorl %%r13d, %%r13d\n\t"
		     "xorl %%r14d, %%r14d\n\t"
		     "xorl %%r15d, %%r15d"
		     :
		     : "r" (m), "r" (&db_watched)
		     : "rbx", "r12", "r13", "r14", "r15", "memory");
}

static void test_db_user_regs_cleared_isolated(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.bp_addr = (unsigned long)&db_watched,
		.sample_period = 1,
	};
	__u64 db_cs, marks = ~0ULL, top;
	long long hits;
	cpu_set_t all;
	int pfd, err;

	if (!moat_ready())
		return;
	if (pin_cpu0(&all)) {
		test_fail("pinning to CPU 0");
		return;
	}
	err = moat_facility_addr(DB_FILE, &db_cs);
	pfd = err ? -1 : syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
	if (!err && pfd < 0)
		err = -errno;
	if (!err) {
		db_user_write();
		if (read(pfd, &hits, sizeof(hits)) != sizeof(hits))
			hits = -1;
		close(pfd);
		top = db_cs + 32;
		marks = spy_scan(top - DB_SCAN_WORDS * 8, DB_SCAN_WORDS, NULL,
				 &err);
	}
	sched_setaffinity(0, sizeof(all), &all);
	if (err) {
		test_fail("a watched write, then stack_spy: %s", strerror(-err));
		return;
	}
	test_info("user write to a watched word: %lld breakpoint hits; stack_spy then found %llu marks in the top %d words of CPU 0's #DB stack",
		  hits, (unsigned long long)marks, DB_SCAN_WORDS);
	ASSERT_EQ(hits, 1, "the write hit the breakpoint (a #DB from user mode)");
	ASSERT_EQ(marks, 0, "the user's registers left on the #DB stack");
}

/* Copied: the write changes only the copy, the packet arrives intact. */
static void test_pkt_ro_write_copied_moat_on(void)
{
	struct attack_cfg c = {};
	struct ro_result r = {};
	long long v0;
	int ret, was;

	if (!moat_ready())
		return;
	v0 = violations("pkt_ro_write");
	was = moat_read_int(MOAT_MAP_PACKETS);
	ret = moat_write_file(MOAT_MAP_PACKETS, "0");
	ASSERT_OK(ret, "write 0 to " MOAT_MAP_PACKETS);
	ret = ro_attack(mobj, mcfg_fd, &c, &r);
	if (was == 1)
		moat_write_file(MOAT_MAP_PACKETS, "1");
	if (ret)
		return;
	test_info("pkt_ro_write, MOAT on, packets copied: ran %llu, received %d, byte '%c', pages mapped %lld",
		  (unsigned long long)c.ran, r.rx, r.byte, r.mapped);
	ASSERT_EQ(r.mapped, 0, "packet pages mapped");
	ASSERT_EQ(c.ran, 1, "program ran to the end (it wrote its copy)");
	ASSERT_EQ(violations("pkt_ro_write"), v0, "moat_violations");
	ASSERT_EQ(r.rx, 1, "datagram delivered");
	ASSERT_EQ(r.byte, 'm', "byte of the delivered packet (unchanged)");
}

/*
 * cb_forge: a socket filter on a UDP socket that asked for IP_RECVFRAGSIZE
 * forges IPCB(skb)->frag_max_size, which the kernel reports to the
 * receiver in a cmsg when it is not 0, and reads IPCB(skb)->iif.  The
 * filter never touches __sk_buff.cb[], so the kernel does not save and
 * restore cb around it.
 */
#ifndef IP_RECVFRAGSIZE
#define IP_RECVFRAGSIZE	25
#endif
#define CB_PORT		40012
#define CB_FORGED	1111

struct cb_result {
	int rx;			/* datagrams received */
	int fragsize;		/* IP_RECVFRAGSIZE cmsg, -1 if none */
};

/* One datagram over loopback to a socket with filter @prog_fd. */
static void cb_traffic(int prog_fd, struct cb_result *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(CB_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_usec = 300000 };
	int rx = socket(AF_INET, SOCK_DGRAM, 0);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[64], cbuf[CMSG_SPACE(sizeof(int)) * 4];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int on = 1;

	r->fragsize = -1;
	if (rx < 0 || tx < 0 || bind(rx, (void *)&a, sizeof(a)) ||
	    setsockopt(rx, SOL_IP, IP_RECVFRAGSIZE, &on, sizeof(on)) ||
	    setsockopt(rx, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd,
		       sizeof(prog_fd))) {
		test_fail("socket set-up: %s", strerror(errno));
		goto out;
	}
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sendto(tx, "cb", 2, 0, (void *)&a, sizeof(a));
	if (recvmsg(rx, &m, 0) != 2)
		goto out;
	r->rx++;
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVFRAGSIZE)
			memcpy(&r->fragsize, CMSG_DATA(cm), sizeof(int));
out:
	if (rx >= 0)
		close(rx);
	if (tx >= 0)
		close(tx);
}

/* Run cb_forge of @o (config map @map) on one datagram: 0 or -1. */
static int cb_attack(struct bpf_object *o, int map, struct attack_cfg *c,
		     struct cb_result *r)
{
	long long cb = btf_offset("sk_buff", "cb");
	long long iif = btf_offset("inet_skb_parm", "iif");
	long long frag = btf_offset("inet_skb_parm", "frag_max_size");
	struct bpf_program *p = bpf_object__find_program_by_name(o, "cb_forge");

	if (cb < 0 || iif < 0 || frag < 0 || !p) {
		test_fail("offsets from BTF (%lld %lld %lld) or program missing",
			  cb, iif, frag);
		return -1;
	}
	c->ctx_adjust = cb + iif;
	c->target = cb + frag;
	c->write_val = CB_FORGED;
	c->result = ~0ULL;
	if (cfg_io(map, c, 1))
		return -1;
	cb_traffic(bpf_program__fd(p), r);
	return cfg_io(map, c, 0);
}

static void test_cb_forge_moat_off(void)
{
	struct attack_cfg c = {};
	struct cb_result r = {};

	if (!ready() || cb_attack(obj, cfg_fd, &c, &r))
		return;
	test_info("cb_forge, MOAT off: ran %llu, received %d, IP_RECVFRAGSIZE %d, iif read %llu",
		  (unsigned long long)c.ran, r.rx, r.fragsize,
		  (unsigned long long)c.result);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(r.rx, 1, "datagram delivered");
	ASSERT_EQ(r.fragsize, CB_FORGED, "IP_RECVFRAGSIZE the receiver got (forged)");
	ASSERT_EQ(c.result, 1, "IPCB iif the program read (loopback)");
}

/*
 * MOAT on: the program writes and reads only its context copy, whose cb
 * holds nothing of the real one (the program does not use cb[]), and the
 * copy's cb is not copied back.  Nothing faults: no violation.
 */
static void test_cb_forge_moat_on(void)
{
	struct attack_cfg c = {};
	struct cb_result r = {};
	long long v0;

	if (!moat_ready())
		return;
	v0 = violations("cb_forge");
	if (cb_attack(mobj, mcfg_fd, &c, &r))
		return;
	test_info("cb_forge, MOAT on: ran %llu, received %d, IP_RECVFRAGSIZE %d, iif read %llu",
		  (unsigned long long)c.ran, r.rx, r.fragsize,
		  (unsigned long long)c.result);
	ASSERT_EQ(c.ran, 1, "program ran to the end (it wrote its copy)");
	ASSERT_EQ(violations("cb_forge"), v0, "moat_violations");
	ASSERT_EQ(r.rx, 1, "datagram delivered");
	ASSERT_EQ(r.fragsize, -1, "IP_RECVFRAGSIZE cmsg (the real IPCB is unchanged)");
	ASSERT_EQ(c.result, 0, "IPCB iif the program read (its copy's cb is clear)");
}

/*
 * A tail call jumps straight into the callee's image, so an isolated
 * program in a program array would run without its protection domain
 * (and its first helper call would switch to a stack it does not have).
 * A plain program goes into a program array; an isolated one is refused,
 * whether the array already has an owner or not.
 */
static void test_tail_call_isolated_refused(void)
{
	struct bpf_program *plain, *iso;
	__u32 k0 = 0, k1 = 1;
	int fd, fd2, pfd, ifd;

	if (!moat_ready())
		return;
	plain = bpf_object__find_program_by_name(obj, "escape_value");
	iso = bpf_object__find_program_by_name(mobj, "escape_value");
	ASSERT_TRUE(plain && iso, "escape_value, plain and isolated");
	pfd = bpf_program__fd(plain);
	ifd = bpf_program__fd(iso);
	fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "moat_tail", 4, 4, 2, NULL);
	fd2 = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "moat_tail2", 4, 4, 2, NULL);
	ASSERT_TRUE(fd >= 0 && fd2 >= 0, "program arrays created");
	ASSERT_OK(bpf_map_update_elem(fd, &k0, &pfd, BPF_ANY),
		  "plain socket filter into a program array");
	errno = 0;
	ASSERT_TRUE(bpf_map_update_elem(fd, &k1, &ifd, BPF_ANY) && errno == EINVAL,
		    "isolated socket filter next to it refused with EINVAL");
	errno = 0;
	ASSERT_TRUE(bpf_map_update_elem(fd2, &k0, &ifd, BPF_ANY) && errno == EINVAL,
		    "isolated socket filter into an empty program array refused with EINVAL");
	close(fd);
	close(fd2);
}

/*
 * tcp_fields on a raw IPPROTO_TCP socket: bpf_tcp_sock() hands out every
 * full socket whose protocol is TCP, so MOAT's copy of the packet's socket
 * must not take the TCP fields from a socket that is not a tcp_sock: that
 * read runs past the end of the smaller raw socket (KASAN: slab out of
 * bounds).  The isolated program reads them as 0.
 */
static void raw_tcp_traffic(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char seg[20] = { 0 };
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);

	if (fd < 0) {
		test_info("raw socket: %s", strerror(errno));
		return;
	}
	sendto(fd, seg, sizeof(seg), 0, (void *)&a, sizeof(a));
	close(fd);
}

static void test_raw_tcp_sock_copy_moat_on(void)
{
	struct attack_cfg c = { .result = ~0ULL };

	if (!moat_ready())
		return;
	if (cfg_io(mcfg_fd, &c, 1) ||
	    cgroup_run_prog(bpf_object__find_program_by_name(mobj, "tcp_fields"),
			    CG_DIR, raw_tcp_traffic, NULL) ||
	    cfg_io(mcfg_fd, &c, 0))
		return;
	test_info("tcp_fields on a raw TCP socket, isolated: ran %llu, fields 0x%llx",
		  (unsigned long long)c.ran, (unsigned long long)c.result);
	ASSERT_EQ(c.ran, 1, "program saw the raw socket's packet");
	ASSERT_EQ(c.result, 0, "TCP fields of a socket that is not a tcp_sock");
	ASSERT_TRUE(!file_has("/dev/kmsg", "BUG: KASAN", "moat_copy", 1),
		    "no KASAN report in MOAT's context copy");
}

/*
 * deputy_copy: an escaped program passes its context where a helper
 * expects a buffer, so that the helper copies the sk_buff into a map.
 * With MOAT off it copies the real one: the device pointer lands in the
 * map.  Isolated, the gate translates only arguments a helper declares as
 * the context (bpf_map_update_elem() declares none): the helper copies
 * the program's own context copy, which holds no kernel pointer.  The
 * gate used to translate any argument equal to the copy.
 */
static int deputy_attack(struct bpf_object *o, int map, __u64 *dev)
{
	long long off = btf_offset("sk_buff", "dev");
	int vmap = bpf_object__find_map_fd_by_name(o, "deputy_map");
	struct attack_cfg c = { .result = ~0ULL };
	__u64 val[8] = {};
	__u32 key = 0;

	if (off < 0 || off > 56 || vmap < 0) {
		test_fail("offset of sk_buff.dev %lld, deputy_map %d", off, vmap);
		return -1;
	}
	bpf_map_update_elem(vmap, &key, val, BPF_ANY);
	if (run_in(o, map, "deputy_copy", &c, NULL) ||
	    bpf_map_lookup_elem(vmap, &key, val)) {
		test_fail("running deputy_copy");
		return -1;
	}
	if (c.ran != 1 || c.result) {
		test_fail("deputy_copy: ran %llu, bpf_map_update_elem() %lld",
			  (unsigned long long)c.ran, (long long)c.result);
		return -1;
	}
	*dev = val[off / 8];
	return 0;
}

static void test_helper_deputy_moat_off(void)
{
	__u64 dev;

	if (!ready() || deputy_attack(obj, cfg_fd, &dev))
		return;
	test_info("deputy_copy, MOAT off: sk_buff.dev in the map 0x%llx",
		  (unsigned long long)dev);
	ASSERT_TRUE(dev >= 0xffff800000000000ULL,
		    "the map holds a kernel pointer (the packet's device)");
}

static void test_helper_deputy_moat_on(void)
{
	long long v0;
	__u64 dev;

	if (!moat_ready())
		return;
	v0 = violations("deputy_copy");
	if (deputy_attack(mobj, mcfg_fd, &dev))
		return;
	test_info("deputy_copy, MOAT on: sk_buff.dev in the map 0x%llx",
		  (unsigned long long)dev);
	ASSERT_EQ(dev, 0, "sk_buff.dev in the map (the copy's, not the real one)");
	ASSERT_EQ(violations("deputy_copy"), v0, "moat_violations");
}

/*
 * Helper-path attacks.  Each program passes a helper a pointer the
 * verifier checked, moved onto the canary (escape.bpf.c, dpa_*).  MOAT
 * off, the helper really reads or writes the canary for the program.
 * Isolated, the helper gate finds the argument is not memory the program
 * may use, and ends the program at the call (contained()).
 */
struct dpa_got {
	__u64 val;
	int n;
};

static int dpa_rb_sample(void *ctx, void *data, size_t size)
{
	struct dpa_got *got = ctx;

	if (size >= 8)
		memcpy(&got->val, data, 8);
	got->n++;
	return 0;
}

static void dpa_perf_sample(void *ctx, int cpu, void *data, __u32 size)
{
	dpa_rb_sample(ctx, data, size);
}

/*
 * Run helper attack @name of @o at c->target; what it sent to user space
 * (ring or perf buffer) goes to @got, its verdict to @ret.
 */
static int dpa_run_at(struct bpf_object *o, int map, const char *name,
		      struct attack_cfg *c, struct dpa_got *got, __u32 *ret)
{
	int rb = bpf_object__find_map_fd_by_name(o, "dpa_rb");
	int pb = bpf_object__find_map_fd_by_name(o, "dpa_perf");
	struct ring_buffer *ring = NULL;
	struct perf_buffer *perf = NULL;
	int err;

	memset(got, 0, sizeof(*got));
	ring = ring_buffer__new(rb, dpa_rb_sample, got, NULL);
	perf = perf_buffer__new(pb, 1, dpa_perf_sample, NULL, got, NULL);
	if (libbpf_get_error(ring) || libbpf_get_error(perf)) {
		test_fail("ring or perf buffer of %s", name);
		return -1;
	}
	err = run_in(o, map, name, c, ret);
	ring_buffer__consume(ring);
	perf_buffer__consume(perf);
	ring_buffer__free(ring);
	perf_buffer__free(perf);
	return err;
}

/*
 * Run helper attack @name of @o with the canary as the target; what the
 * helper wrote there goes to @wrote (the canary is restored), what it
 * read from there to user space (ring or perf buffer) to @got.
 */
static int dpa_run(struct bpf_object *o, int map, const char *name,
		   struct attack_cfg *c, __u64 *canary_val, __u64 *wrote,
		   struct dpa_got *got)
{
	__u64 addr, after;
	__u32 ret = 1;
	int err;

	if (moat_canary(&addr, canary_val))
		return -1;
	c->target = addr;
	err = dpa_run_at(o, map, name, c, got, &ret);
	if (moat_canary(&addr, &after))
		return -1;
	*wrote = after;
	if (after != *canary_val)
		moat_set_canary(*canary_val);
	if (err)
		test_fail("running %s: %s", name, strerror(-err));
	return err;
}

static void test_helper_load_bytes_dst_moat_off(void)
{
	struct attack_cfg c = {};
	struct dpa_got got;
	__u64 val, wrote;

	if (!ready() || dpa_run(obj, cfg_fd, "dpa_load_bytes", &c, &val,
				&wrote, &got))
		return;
	test_info("bpf_skb_load_bytes(to = canary), MOAT off: canary 0x%llx -> 0x%llx",
		  (unsigned long long)val, (unsigned long long)wrote);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(c.result, 0, "bpf_skb_load_bytes() succeeded");
	ASSERT_TRUE(val != 0 && wrote == 0,
		    "the packet's first 8 bytes (zeros) written over the canary");
}

static void test_helper_update_src_moat_off(void)
{
	int m = bpf_object__find_map_fd_by_name(obj, "dpa_map");
	struct attack_cfg c = {};
	__u64 val, wrote, v = 0;
	struct dpa_got got;
	__u32 key = 0;

	if (!ready())
		return;
	bpf_map_update_elem(m, &key, &v, BPF_ANY);
	if (dpa_run(obj, cfg_fd, "dpa_update_src", &c, &val, &wrote, &got))
		return;
	bpf_map_lookup_elem(m, &key, &v);
	test_info("bpf_map_update_elem(value = canary), MOAT off: map holds 0x%llx, canary 0x%llx",
		  (unsigned long long)v, (unsigned long long)val);
	ASSERT_EQ(c.result, 0, "bpf_map_update_elem() succeeded");
	ASSERT_EQ(v, val, "the map holds the canary's value");
}

/* dpa_hash maps the canary's value to this: a lookup that reads it finds it. */
#define DPA_FOUND 0x666f756e64ULL

static int dpa_hash_setup(struct bpf_object *o, __u64 key)
{
	int m = bpf_object__find_map_fd_by_name(o, "dpa_hash");
	__u64 v = DPA_FOUND;

	return m < 0 || bpf_map_update_elem(m, &key, &v, BPF_ANY);
}

static void test_helper_lookup_key_moat_off(void)
{
	struct attack_cfg c = {};
	__u64 addr, val, wrote;
	struct dpa_got got;

	if (!ready() || moat_canary(&addr, &val) || dpa_hash_setup(obj, val) ||
	    dpa_run(obj, cfg_fd, "dpa_lookup_key", &c, &val, &wrote, &got))
		return;
	test_info("bpf_map_lookup_elem(key = canary), MOAT off: found 0x%llx",
		  (unsigned long long)c.result);
	ASSERT_EQ(c.result, DPA_FOUND,
		  "the lookup used the canary's value as its key");
}

/* MOAT off, helper attack @name sends the canary's value to user space. */
static void leak_attack(const char *name, const char *what)
{
	struct attack_cfg c = {};
	__u64 val, wrote;
	struct dpa_got got;

	if (!ready() || dpa_run(obj, cfg_fd, name, &c, &val, &wrote, &got))
		return;
	test_info("%s(data = canary), MOAT off: %d %ss, 0x%llx", name, got.n,
		  what, (unsigned long long)got.val);
	ASSERT_EQ(got.n, 1, what);
	ASSERT_EQ(got.val, val, "it holds the canary's value");
}

static void test_helper_ringbuf_output_moat_off(void)
{
	leak_attack("dpa_ringbuf_output", "ring buffer record");
}

static void test_helper_perf_output_moat_off(void)
{
	leak_attack("dpa_perf_output", "perf buffer sample");
}

static void test_helper_probe_read_dst_moat_off(void)
{
	struct attack_cfg c = { .write_val = 0x70726f6265ULL };
	__u64 val, wrote;
	struct dpa_got got;

	if (!ready() || dpa_run(obj, cfg_fd, "dpa_probe_read", &c, &val,
				&wrote, &got))
		return;
	test_info("bpf_probe_read_kernel(dst = canary), MOAT off: canary 0x%llx -> 0x%llx",
		  (unsigned long long)val, (unsigned long long)wrote);
	ASSERT_EQ(c.result, 0, "bpf_probe_read_kernel() succeeded");
	ASSERT_EQ(wrote, c.write_val, "the canary holds the value written");
}

/*
 * Isolated: contained(), and nothing of the canary reached the maps or
 * buffers either.
 */
static void dpa_contained(const char *name)
{
	int m = bpf_object__find_map_fd_by_name(mobj, "dpa_map");
	struct attack_cfg c = {};
	__u64 addr, val, wrote, v = 0;
	struct dpa_got got;
	__u32 key = 0;

	if (!moat_ready())
		return;
	bpf_map_update_elem(m, &key, &v, BPF_ANY);
	if (moat_canary(&addr, &val) || dpa_hash_setup(mobj, val))
		return;
	contained(name, 0);
	if (dpa_run(mobj, mcfg_fd, name, &c, &val, &wrote, &got))
		return;
	bpf_map_lookup_elem(m, &key, &v);
	ASSERT_EQ(wrote, val, "canary");
	ASSERT_EQ(c.ran, 0, "terminated again");
	ASSERT_EQ(got.n, 0, "nothing sent to the ring or perf buffer");
	ASSERT_EQ(v, 0, "dpa_map unchanged");
}

static void test_helper_load_bytes_dst_moat_on(void)
{
	dpa_contained("dpa_load_bytes");
}

static void test_helper_update_src_moat_on(void)
{
	dpa_contained("dpa_update_src");
}

static void test_helper_lookup_key_moat_on(void)
{
	dpa_contained("dpa_lookup_key");
}

static void test_helper_ringbuf_output_moat_on(void)
{
	dpa_contained("dpa_ringbuf_output");
}

static void test_helper_perf_output_moat_on(void)
{
	dpa_contained("dpa_perf_output");
}

static void test_helper_probe_read_dst_moat_on(void)
{
	dpa_contained("dpa_probe_read");
}

/*
 * Critical object protection, shown on its own: the test facility's
 * dpa_off makes the helper gate let memory arguments through unchecked,
 * as if it had missed them, and the helper attacks aim at critical
 * objects: array_map_ops (a map type's operations) and bpf_map_seq_info
 * (an iterator's), whose first words are kernel function and table
 * addresses.  MOAT off the helper copies them out; isolated, the helper
 * faults on them, copies nothing and the program ends when it returns.
 */
#define DPA_OFF "/sys/kernel/debug/moat_test/dpa_off"

struct cop_case {
	const char *prog;	/* escape.bpf.c */
	const char *object;	/* the target */
	const char *first;	/* what its first word points to */
	int own_copy;		/* the program keeps what it read in scratch */
};

static const struct cop_case cop_map_ops = {
	"dpa_update_src", "array_map_ops", "array_map_alloc_check", 0
};
static const struct cop_case cop_seq_info = {
	"dpa_ringbuf_output", "bpf_map_seq_info", "bpf_map_seq_ops", 0
};
static const struct cop_case cop_probe_read = {
	"cop_probe_read", "array_map_ops", "array_map_alloc_check", 1
};

/* Address of kernel symbol @name in /proc/kallsyms, 0 if none. */
/*
 * Run @k's program of @o at its object; what reached user space (dpa_map,
 * the ring buffer, the program's own copy) goes to @leak.
 */
static int cop_run(struct bpf_object *o, int map, const struct cop_case *k,
		   struct attack_cfg *c, __u64 *leak, __u32 *ret)
{
	int m = bpf_object__find_map_fd_by_name(o, "dpa_map");
	__u64 v = 0;
	struct dpa_got got;
	__u32 key = 0;

	c->target = moat_ksym(k->object);
	if (!c->target || !moat_ksym(k->first)) {
		test_fail("no %s or %s in /proc/kallsyms", k->object,
			  k->first);
		return -1;
	}
	if (bpf_map_update_elem(m, &key, &v, BPF_ANY) ||
	    dpa_run_at(o, map, k->prog, c, &got, ret) ||
	    bpf_map_lookup_elem(m, &key, &v)) {
		test_fail("running %s", k->prog);
		return -1;
	}
	*leak = v | got.val | (k->own_copy ? c->scratch : 0);
	return 0;
}

static void cop_attack_moat_off(const struct cop_case *k)
{
	struct attack_cfg c = {};
	__u32 ret = 1;
	__u64 leak;

	if (!ready() || cop_run(obj, cfg_fd, k, &c, &leak, &ret))
		return;
	test_info("%s(%s), MOAT off: got 0x%llx (%s is at 0x%llx)", k->prog,
		  k->object, (unsigned long long)leak, k->first,
		  (unsigned long long)moat_ksym(k->first));
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(c.result, 0, "the helper succeeded");
	ASSERT_EQ(leak, moat_ksym(k->first),
		  "the object's first word reached user space");
}

static void cop_attack_moat_on(const struct cop_case *k, int dpa_off)
{
	struct attack_cfg c = {};
	long long v0, f0;
	__u32 ret = 1;
	__u64 leak;
	int err;

	if (!moat_ready())
		return;
	v0 = violations(k->prog);
	f0 = moat_file_value(MOAT_STATS, "critical_faults");
	if (moat_file_value(MOAT_STATS, "critical_pages") <= 0) {
		test_fail("critical objects not protected (critical_pages)");
		return;
	}
	if (dpa_off && moat_write_file(DPA_OFF, "1")) {
		test_fail("cannot write " DPA_OFF);
		return;
	}
	err = cop_run(mobj, mcfg_fd, k, &c, &leak, &ret);
	if (dpa_off)
		moat_write_file(DPA_OFF, "0");
	if (err)
		return;
	test_info("%s(%s), MOAT on%s: ran %llu, verdict %u, got 0x%llx, violations %lld -> %lld, critical_faults %lld -> %lld",
		  k->prog, k->object, dpa_off ? ", argument checks off" : "",
		  (unsigned long long)c.ran, ret, (unsigned long long)leak, v0,
		  violations(k->prog), f0,
		  moat_file_value(MOAT_STATS, "critical_faults"));
	ASSERT_EQ(c.ran, 0, "attack program terminated after the helper");
	ASSERT_EQ(ret, 0, "safe verdict of the terminated program");
	ASSERT_EQ(leak, 0, "nothing of the object reached user space");
	ASSERT_EQ(violations(k->prog), v0 + 1, "moat_violations");
	ASSERT_EQ(moat_file_value(MOAT_STATS, "critical_faults") > f0, 1,
		  "critical_faults counted");
}

static void test_helper_cop_map_ops_moat_off(void)
{
	cop_attack_moat_off(&cop_map_ops);
}

static void test_helper_cop_map_ops_moat_on(void)
{
	cop_attack_moat_on(&cop_map_ops, 1);
}

static void test_helper_cop_seq_info_moat_off(void)
{
	cop_attack_moat_off(&cop_seq_info);
}

static void test_helper_cop_seq_info_moat_on(void)
{
	cop_attack_moat_on(&cop_seq_info, 1);
}

/*
 * No escape needed: bpf_probe_read_kernel() reads any kernel address by
 * design, but not a critical object from an isolated program (its
 * copy_from_kernel_nofault() takes the fault's fixup, -EFAULT).
 */
static void test_probe_read_critical_moat_off(void)
{
	cop_attack_moat_off(&cop_probe_read);
}

static void test_probe_read_critical_moat_on(void)
{
	cop_attack_moat_on(&cop_probe_read, 0);
}

/*
 * Forged maps, isolated only (MOAT off the kernel would follow the fake's
 * or the array's words as its own pointers): a struct bpf_map in a map
 * value, and a real map of another type than the helper takes.
 */
static void test_helper_fake_map_moat_on(void)
{
	dpa_contained("dpa_fake_map");
}

static void test_helper_wrong_map_moat_on(void)
{
	dpa_contained("dpa_wrong_map");
}

/* NULL where the helper takes it only with size 0, isolated only. */
static void test_helper_null_sized_moat_on(void)
{
	dpa_contained("dpa_null_out");
}

/*
 * Forged scalars.  dpa_forged_size passes bpf_skb_load_bytes() element 0
 * of dpa_pair with a length the verifier believes is 8: with 16 the
 * packet's bytes 8-15 land in element 1.  The pointer is genuine and the
 * 16 bytes are BPF memory, so only the check of the length against the
 * verifier's bounds (Dynamic Parameter Auditing) can stop it.
 */
#define DPA_PAIR_MARK	0x7061697231ULL	/* "pair1" */
/* Bytes 8-15 of run_in()'s packet past its Ethernet header: zeros. */
#define DPA_PAIR_PKT	0ULL

/* Reset dpa_pair of @o (@put) or read it into @pair. */
static int dpa_pair_io(struct bpf_object *o, __u64 *pair, int put)
{
	int m = bpf_object__find_map_fd_by_name(o, "dpa_pair");
	__u32 k;

	for (k = 0; k < 2; k++) {
		if (put)
			pair[k] = k ? DPA_PAIR_MARK : 0;
		if (m < 0 || (put ? bpf_map_update_elem(m, &k, &pair[k], BPF_ANY) :
				    bpf_map_lookup_elem(m, &k, &pair[k]))) {
			test_fail("%s dpa_pair", put ? "setting" : "reading");
			return -1;
		}
	}
	return 0;
}

static void test_helper_forged_size_moat_off(void)
{
	struct attack_cfg c = { .write_val = 8 };
	__u64 pair[2];

	if (!ready() || dpa_pair_io(obj, pair, 1) ||
	    run("dpa_forged_size", &c) || dpa_pair_io(obj, pair, 0))
		return;
	test_info("bpf_skb_load_bytes(len = 8 + 8), MOAT off: element 1 0x%llx -> 0x%llx",
		  DPA_PAIR_MARK, (unsigned long long)pair[1]);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(c.result, 0, "bpf_skb_load_bytes() succeeded");
	ASSERT_EQ(pair[1], DPA_PAIR_PKT,
		  "element 1 holds packet bytes 8-15, past the 8 checked");
}

static void test_helper_forged_size_moat_on(void)
{
	struct attack_cfg c = { .write_val = 0 };
	const char *name = "dpa_forged_size";
	__u64 pair[2];
	long long v0;
	__u32 ret = 1;

	if (!moat_ready())
		return;
	/* The length the verifier saw: runs to the end, element 1 untouched. */
	if (dpa_pair_io(mobj, pair, 1) ||
	    run_in(mobj, mcfg_fd, name, &c, &ret) || dpa_pair_io(mobj, pair, 0))
		return;
	ASSERT_EQ(c.ran, 1, "with len 8 + 0, the program runs to the end");
	ASSERT_EQ(pair[1], DPA_PAIR_MARK, "element 1 with len 8 + 0");
	c.write_val = 8;
	v0 = violations(name);
	fresh_log_window();
	if (dpa_pair_io(mobj, pair, 1) ||
	    run_in(mobj, mcfg_fd, name, &c, &ret) || dpa_pair_io(mobj, pair, 0))
		return;
	test_info("bpf_skb_load_bytes(len = 8 + 8), MOAT on: ran %llu, verdict %u, elements 0x%llx 0x%llx, violations %lld -> %lld",
		  (unsigned long long)c.ran, ret, (unsigned long long)pair[0],
		  (unsigned long long)pair[1], v0, violations(name));
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(ret, 0, "safe verdict (drop)");
	ASSERT_EQ(pair[0], 0, "element 0 unchanged");
	ASSERT_EQ(pair[1], DPA_PAIR_MARK, "element 1 unchanged");
	ASSERT_EQ(violations(name), v0 + 1, "moat_violations");
	ASSERT_TRUE(file_has("/dev/kmsg", "'dpa_forged_size'",
			     "argument 4 (0x10) to bpf_skb_load_bytes outside the verifier's bounds",
			     1), "kernel log line names the argument");
}

/*
 * dpa_adjust_tail moves the end of an XDP packet by a delta the verifier
 * believes is 0: MOAT off the packet shrinks, isolated the program ends
 * before the helper runs.
 */
static void test_helper_adjust_tail_moat_off(void)
{
	struct attack_cfg c = { .write_val = -16 };
	__u32 ret = 0;

	if (!ready() || run_in(obj, cfg_fd, "dpa_adjust_tail", &c, &ret))
		return;
	test_info("bpf_xdp_adjust_tail(delta = -16), MOAT off: verdict %u, packet 64 -> %u bytes",
		  ret, run_len_out);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(c.result, 0, "bpf_xdp_adjust_tail() succeeded");
	ASSERT_EQ(run_len_out, 64 - 16, "packet length after the run");
}

static void test_helper_adjust_tail_moat_on(void)
{
	struct attack_cfg c = { .write_val = -16 };
	const char *name = "dpa_adjust_tail";
	long long v0;
	__u32 ret = 1;

	if (!moat_ready())
		return;
	v0 = violations(name);
	if (run_in(mobj, mcfg_fd, name, &c, &ret))
		return;
	test_info("bpf_xdp_adjust_tail(delta = -16), MOAT on: ran %llu, verdict %u, packet 64 -> %u bytes",
		  (unsigned long long)c.ran, ret, run_len_out);
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(ret, 0, "safe verdict (XDP_ABORTED)");
	ASSERT_EQ(run_len_out, 64, "packet length unchanged");
	ASSERT_EQ(violations(name), v0 + 1, "moat_violations");
}

/*
 * sk_prot_read: the socket MOAT gives a program that reads socket fields
 * is a copy of what it may read, not of struct sock_common and its
 * pointers.  With MOAT off the program reads the real socket's skc_prot
 * (a kernel address); isolated, its copy has nothing there.
 */
static int sk_prot_attack(struct bpf_object *o, int map, struct attack_cfg *c)
{
	long long sk = btf_offset("sk_buff", "sk");
	long long prot = btf_offset("sock_common", "skc_prot");
	struct bpf_program *p = bpf_object__find_program_by_name(o, "sk_prot_read");

	if (sk < 0 || prot < 0 || !p) {
		test_fail("offsets from BTF (%lld %lld) or program missing", sk, prot);
		return -1;
	}
	c->ctx_adjust = sk;
	c->target = prot;
	c->result = ~0ULL;
	if (cfg_io(map, c, 1) ||
	    cgroup_run_prog(p, CG_DIR, raw_tcp_traffic, NULL))
		return -1;
	return cfg_io(map, c, 0);
}

static void test_sk_prot_read_moat_off(void)
{
	struct attack_cfg c = {};

	if (!ready() || sk_prot_attack(obj, cfg_fd, &c))
		return;
	test_info("sk_prot_read, MOAT off: ran %llu, skc_prot 0x%llx",
		  (unsigned long long)c.ran, (unsigned long long)c.result);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_TRUE(c.result >= 0xffff800000000000ULL,
		    "it read a kernel address (the socket's struct proto)");
}

static void test_sk_prot_read_moat_on(void)
{
	struct attack_cfg c = {};
	long long v0;

	if (!moat_ready())
		return;
	v0 = violations("sk_prot_read");
	if (sk_prot_attack(mobj, mcfg_fd, &c))
		return;
	test_info("sk_prot_read, MOAT on: ran %llu, skc_prot 0x%llx",
		  (unsigned long long)c.ran, (unsigned long long)c.result);
	ASSERT_EQ(c.ran, 1, "program ran to the end (it read its socket copy)");
	ASSERT_EQ(violations("sk_prot_read"), v0, "moat_violations");
	ASSERT_EQ(c.result, 0, "skc_prot in the socket copy (no kernel pointer)");
}

/*
 * tp_regs_read: the first word of a trace record is perf's pointer to the
 * event's registers (kept there for the helpers), which tracepoint
 * programs may not read.  With MOAT off an escaped program reads it, a
 * kernel address; an isolated one finds 0 there in its copy.
 */
static int tp_regs_attack(struct bpf_object *o, int map, struct attack_cfg *c)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o,
							"tp_regs_read");
	struct bpf_link *link;
	sighandler_t old;

	if (!p) {
		test_fail("program tp_regs_read missing");
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->target = getpid();
	c->result = ~0ULL;
	if (cfg_io(map, c, 1))
		return -1;
	link = bpf_program__attach(p);
	if (libbpf_get_error(link)) {
		test_fail("attaching tp_regs_read: %s", strerror(errno));
		return -1;
	}
	old = signal(SIGUSR2, SIG_IGN);
	kill(getpid(), SIGUSR2);
	signal(SIGUSR2, old);
	bpf_link__destroy(link);
	return cfg_io(map, c, 0);
}

static void test_tp_regs_read_moat_off(void)
{
	struct attack_cfg c;

	if (!ready() || tp_regs_attack(obj, cfg_fd, &c))
		return;
	test_info("tp_regs_read, MOAT off: ran %llu, sig %llu, first record word 0x%llx",
		  (unsigned long long)c.ran, (unsigned long long)c.ctx_adjust,
		  (unsigned long long)c.result);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(c.ctx_adjust, SIGUSR2, "it read sig in the record");
	ASSERT_TRUE(c.result >= 0xffff800000000000ULL,
		    "it read a kernel address (perf's struct pt_regs pointer)");
}

static void test_tp_regs_read_moat_on(void)
{
	struct attack_cfg c;
	long long v0;

	if (!moat_ready())
		return;
	v0 = violations("tp_regs_read");
	if (tp_regs_attack(mobj, mcfg_fd, &c))
		return;
	test_info("tp_regs_read, MOAT on: ran %llu, sig %llu, first record word 0x%llx",
		  (unsigned long long)c.ran, (unsigned long long)c.ctx_adjust,
		  (unsigned long long)c.result);
	ASSERT_EQ(c.ran, 1, "program ran to the end (it read its record copy)");
	ASSERT_EQ(c.ctx_adjust, SIGUSR2, "the copy holds sig");
	ASSERT_EQ(c.result, 0, "the copy's first word (no kernel pointer)");
	ASSERT_EQ(violations("tp_regs_read"), v0, "moat_violations");
}

/*
 * kp_regs_addr: a kprobe program's registers are its context, and an
 * isolated one reads them in its copy in BPF memory, in its CPU's frame.
 * kp_regs_addr runs on CPU 0 and tells where its copy is, then map_read,
 * isolated, tries to read that copy from CPU 1: CPU 0's frames have CPU
 * 0's key, so every read ends map_read and none gets a word.  (The copy
 * is also cleared when the run ends, for programs that can still reach
 * it: nested on CPU 0, or on a CPU of the same key with more than five.)
 */
static int pin_cpu(int cpu);

static void test_kprobe_regs_other_cpu_moat_on(void)
{
	struct bpf_program *p;
	struct attack_cfg c = {}, r;
	struct bpf_link *link;
	unsigned int i, nz = 0, ran = 0;
	__u64 last = 0;
	long long v0;
	cpu_set_t all;

	if (!moat_ready())
		return;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		test_skip("needs a second CPU");
		return;
	}
	p = bpf_object__find_program_by_name(mobj, "kp_regs_addr");
	if (!p) {
		test_fail("program kp_regs_addr missing");
		return;
	}
	c.target = getpid();
	if (cfg_io(mcfg_fd, &c, 1) || pin_cpu0(&all))
		return;
	link = bpf_program__attach(p);
	if (libbpf_get_error(link)) {
		test_fail("attaching kp_regs_addr: %s", strerror(errno));
		goto out;
	}
	syscall(__NR_getppid);
	bpf_link__destroy(link);
	if (cfg_io(mcfg_fd, &c, 0) || pin_cpu(1))
		goto out;
	v0 = violations("map_read");
	/* struct pt_regs: 21 words. */
	for (i = 0; i < 21; i++) {
		r = (struct attack_cfg){ .target = c.ctx_adjust + 8 * i };
		if (run_in(mobj, mcfg_fd, "map_read", &r, NULL)) {
			test_fail("map_read of word %u of the copy", i);
			goto out;
		}
		ran += r.ran;
		if (r.result) {
			nz++;
			last = r.result;
		}
	}
	test_info("kp_regs_addr, isolated: ran %llu, ip 0x%llx, copy at 0x%llx; map_read of its 21 words on cpu1: %u ran to the end, %lld violations, %u non-zero (last 0x%llx)",
		  (unsigned long long)c.ran, (unsigned long long)c.result,
		  (unsigned long long)c.ctx_adjust, ran,
		  violations("map_read") - v0, nz, (unsigned long long)last);
	ASSERT_EQ(c.ran, 1, "kprobe program ran to the end");
	ASSERT_TRUE(c.result >= 0xffffffff80000000ULL,
		    "it read the probed address in its copy");
	/* The copy is cpu0's frame: cpu1's key differs. */
	ASSERT_EQ(ran, 0, "map_read runs on cpu1 that read cpu0's copy");
	ASSERT_EQ(violations("map_read") - v0, 21, "map_read runs terminated");
	ASSERT_EQ(nz, 0, "register words read from cpu1");
out:
	sched_setaffinity(0, sizeof(all), &all);
}

/*
 * Load attach.bpf.c's fentry program on program @target_fd's
 * escape_value: 0 or -errno.  The verifier log goes to @log.
 */
static int fentry_load(int target_fd, char *log, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = log,
		    .kernel_log_size = len, .kernel_log_level = 1);
	struct bpf_object *o;
	struct bpf_program *p;
	int ret;

	o = bpf_object__open_file(smoke_obj_path("attack", "attach"), &opts);
	ret = libbpf_get_error(o);
	if (ret)
		return ret;
	p = bpf_object__find_program_by_name(o, "on_entry");
	ret = p ? bpf_program__set_attach_target(p, target_fd, "escape_value") :
		  -ENOENT;
	if (!ret)
		ret = bpf_object__load(o);
	bpf_object__close(o);
	return ret;
}

/*
 * fentry (and freplace, by the same check) on an isolated program would
 * run the trampoline and the tracing program inside its window, without
 * the gate: refused at load.  On a plain program it loads.
 */
static void test_fentry_on_isolated_refused(void)
{
	static char log[16384];
	int ret;

	if (!moat_ready())
		return;
	ret = fentry_load(bpf_program__fd(bpf_object__find_program_by_name(obj,
						"escape_value")), log, sizeof(log));
	ASSERT_OK(ret, "fentry on the plain escape_value loads");
	log[0] = '\0';
	ret = fentry_load(bpf_program__fd(bpf_object__find_program_by_name(mobj,
						"escape_value")), log, sizeof(log));
	test_info("fentry on the isolated escape_value: %d", ret);
	ASSERT_EQ(ret, -EOPNOTSUPP, "fentry on the isolated escape_value");
	ASSERT_TRUE(strstr(log, "MOAT: cannot attach to isolated program") != NULL,
		    "verifier log names the reason");
}

/* Open the object again with BPF_F_MOAT on every program. */
/* --- nested programs and the helper gate */

struct nest_state {
	__u64 outer_fp;
	__u64 lo, hi;
	__u64 calls;
	__u64 found;
	__u64 ret1;
	__u64 hijacked;
	__u64 scratch;
};

/*
 * Run gate_outer of @o once with gate_inner attached to the
 * bpf_trace_printk tracepoint, so that it runs nested inside both of
 * gate_outer's helper calls.  The outer program's verdict goes to @ret,
 * the state the programs left to @s.  0 or -errno.
 */
static int gate_nest(struct bpf_object *o, struct nest_state *s, __u32 *ret)
{
	struct bpf_program *outer, *inner;
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), key = 0;
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt,
		.data_size_in = sizeof(pkt),
		.repeat = 1,
	);
	struct bpf_link *link;
	__u64 image = 0;
	int map, err;

	outer = bpf_object__find_program_by_name(o, "gate_outer");
	inner = bpf_object__find_program_by_name(o, "gate_inner");
	map = bpf_object__find_map_fd_by_name(o, "nest_map");
	if (!outer || !inner || map < 0)
		return -ENOENT;
	/* The outer program's image: where its return addresses point. */
	info.nr_jited_ksyms = 1;
	info.jited_ksyms = (__u64)(unsigned long)&image;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(outer), &info, &len))
		return -errno;
	if (!image || !info.jited_prog_len)
		return -EPERM;
	memset(s, 0, sizeof(*s));
	s->lo = image;
	s->hi = image + info.jited_prog_len;
	if (bpf_map_update_elem(map, &key, s, BPF_ANY))
		return -errno;
	link = bpf_program__attach(inner);
	if (libbpf_get_error(link))
		return -errno;
	err = bpf_prog_test_run_opts(bpf_program__fd(outer), &opts);
	err = err ? -errno : 0;
	bpf_link__destroy(link);
	if (!err)
		*ret = opts.retval;
	if (!err && bpf_map_lookup_elem(map, &key, s))
		err = -errno;
	return err;
}

/*
 * MOAT off: a program that runs nested inside a helper call of another
 * finds that call's return address on the outer program's stack and
 * redirects it: the outer program takes a path it never would.
 */
static void test_gate_hijack_moat_off(void)
{
	struct nest_state s;
	__u32 ret = 0;

	if (!ready())
		return;
	ASSERT_OK(gate_nest(obj, &s, &ret), "run gate_outer, gate_inner nested");
	test_info("MOAT off: inner runs %llu, return addresses found %llu, outer verdict %u",
		  (unsigned long long)s.calls, (unsigned long long)s.found,
		  ret);
	ASSERT_EQ(s.calls, 2, "gate_inner ran inside both helper calls");
	ASSERT_EQ(s.hijacked, 1, "the second call's return address was replaced");
	ASSERT_EQ(ret, 2, "outer verdict: the second call returned behind the first");
}

/*
 * MOAT on, both programs isolated: while an isolated program is inside a
 * helper, nothing a window can write holds where the gate returns to (nor
 * the flags it restores), so a nested program has nothing to redirect;
 * and the outer run's frame is closed to the nested one, whose first
 * read there ends it.
 */
static void test_gate_hijack_moat_on(void)
{
	struct nest_state s;
	long long vi;
	__u32 ret = 0;

	if (!moat_ready())
		return;
	vi = violations("gate_inner");
	ASSERT_OK(gate_nest(mobj, &s, &ret), "run gate_outer, gate_inner nested");
	test_info("MOAT on: inner runs %llu, return addresses found %llu, outer verdict %u, inner violations %lld",
		  (unsigned long long)s.calls, (unsigned long long)s.found,
		  ret, violations("gate_inner") - vi);
	ASSERT_EQ(s.calls, 2, "gate_inner ran inside both helper calls");
	ASSERT_EQ(s.hijacked, 0, "the second call's return address was replaced");
	ASSERT_EQ(ret, 1, "outer verdict");
	ASSERT_EQ(s.found, 0, "return addresses into the outer image on its stack");
	ASSERT_EQ(violations("gate_outer"), 0, "gate_outer moat_violations");
	/* The outer run's frame is closed while a run nests in it. */
	ASSERT_EQ(violations("gate_inner") - vi, 2,
		  "gate_inner ended at its first read of the outer stack");
}

/* --- exceptions in a window, with another CPU writing its stack */

struct spray_state {
	__u64 victim_fp;
	__u64 victim_target;
	__u64 value;
	__u64 sprays;
	__u64 scratch;
};

static int pin_cpu(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}

/*
 * An isolated program that faults on CPU 0, again and again, while an
 * isolated program on CPU 1 tries to overwrite the stack below its frame
 * pointer with a non-canonical value: the frames the CPU pushes for each
 * fault, the registers and return addresses the entry code pushes after
 * them.  Before windows ended on their exit, the entry code read all of
 * that back, returned through it with PKRS open, and resumed the window
 * from it: on the kernel before that change, with the writer's stores
 * landing, this test brings the kernel down.  Now each run is terminated
 * like any other violation, the canary keeps its value, and the kernel log
 * stays clean; and since CPU 0's frames have CPU 0's key, each of the
 * writer's runs ends at its first store (with more than five CPUs, two
 * CPUs of one key would still let the stores land, which the entry code
 * does not trust either).
 */
/* How many times spray_writer has run. */
static __u64 spray_count(int map)
{
	struct spray_state s = {};
	__u32 key = 0;

	bpf_map_lookup_elem(map, &key, &s);
	return s.sprays;
}

static void test_fault_stack_spray_moat_on(void)
{
	struct bpf_program *victim, *writer;
	struct spray_state s = { .value = 0x4141414141414141ULL };
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, vopts,
		.data_in = pkt,
		.data_size_in = sizeof(pkt),
		.repeat = 2000,
	);
	__u64 addr, before, after, start;
	long long v0, v1, wv0;
	int map, pid, status, err, i, rounds;
	cpu_set_t all;
	__u32 key = 0;

	if (!moat_ready())
		return;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		test_skip("needs two CPUs");
		return;
	}
	victim = bpf_object__find_program_by_name(mobj, "spray_victim");
	writer = bpf_object__find_program_by_name(mobj, "spray_writer");
	map = bpf_object__find_map_fd_by_name(mobj, "spray_map");
	if (!victim || !writer || map < 0) {
		test_fail("spray programs or map missing");
		return;
	}
	ASSERT_OK(moat_canary(&addr, &before), "read " MOAT_CANARY);
	s.victim_target = addr;
	if (bpf_map_update_elem(map, &key, &s, BPF_ANY)) {
		test_fail("spray_map: %s", strerror(errno));
		return;
	}
	v0 = violations("spray_victim");
	wv0 = violations("spray_writer");
	sched_getaffinity(0, sizeof(all), &all);
	pid = fork();
	if (pid == 0) {
		LIBBPF_OPTS(bpf_test_run_opts, wopts,
			.data_in = pkt,
			.data_size_in = sizeof(pkt),
			.repeat = 200,
		);

		pin_cpu(1);
		for (;;)
			bpf_prog_test_run_opts(bpf_program__fd(writer), &wopts);
	}
	if (pid < 0) {
		test_fail("fork: %s", strerror(errno));
		return;
	}
	err = pin_cpu(0);
	/* Let the writer get going (at most 5 s)... */
	for (i = 0; i < 500 && spray_count(map) < 100; i++)
		usleep(10000);
	/* ... then fault 2000 times under it, until it ran 100 times meanwhile. */
	start = spray_count(map);
	for (rounds = 0; !err && rounds < 20; rounds++) {
		err = bpf_prog_test_run_opts(bpf_program__fd(victim), &vopts);
		if (spray_count(map) - start >= 100)
			break;
	}
	rounds += !err;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	sched_setaffinity(0, sizeof(all), &all);
	ASSERT_OK(err, "run spray_victim 2000 times on cpu0");
	bpf_map_lookup_elem(map, &key, &s);
	v1 = violations("spray_victim");
	ASSERT_OK(moat_canary(&addr, &after), "read " MOAT_CANARY " again");
	test_info("spray: %llu writer runs during %d x 2000 victim runs; victim terminated %lld times, verdict of the last run %u",
		  (unsigned long long)(s.sprays - start), rounds, v1 - v0,
		  vopts.retval);
	ASSERT_GE(s.sprays - start, 100, "writer runs on cpu1 during the faults");
	ASSERT_EQ(v1 - v0, 2000LL * rounds, "victim runs terminated");
	ASSERT_EQ(vopts.retval, 0, "safe verdict");
	ASSERT_EQ(violations("spray_writer") - wv0, (long long)s.sprays,
		  "writer runs terminated (cpu0's frames out of cpu1's reach)");
	ASSERT_EQ(after, before, "canary");
}

/*
 * The "NMI executing" word of CPU 0's NMI stack, seven words below its top
 * (entry_64.S), three below the CS word the test facility gives: set, it
 * makes the NMI entry code take every NMI for a nested one and drop it.
 * Run map_write of @o on CPU 0 to write @val there; the caller pins.
 */
static int nmi_word_write(struct bpf_object *o, int map, __u64 val,
			  struct attack_cfg *c, __u32 *ret)
{
	__u64 cs;
	int err = moat_facility_addr(MOAT_NMI_FILE, &cs);

	if (err)
		return err;
	c->target = cs - 3 * 8;
	c->write_val = val;
	return run_in(o, map, "map_write", c, ret);
}

static void test_nmi_executing_word_moat_off(void)
{
	struct attack_cfg c = {};
	int lost, again;
	cpu_set_t all;

	if (!ready())
		return;
	ASSERT_OK(pin_cpu0(&all), "pin to cpu 0");
	ASSERT_OK(nmi_word_write(obj, cfg_fd, 1, &c, NULL), "map_write");
	lost = nmi_send();
	ASSERT_OK(nmi_word_write(obj, cfg_fd, 0, &c, NULL), "map_write 0");
	again = nmi_send();
	sched_setaffinity(0, sizeof(all), &all);
	test_info("MOAT off: \"NMI executing\" at 0x%llx set: NMI %s; cleared: NMI %s",
		  (unsigned long long)c.target, lost ? "lost" : "delivered",
		  again ? "lost" : "delivered");
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(lost, -ETIMEDOUT, "the NMI after the write was dropped");
	ASSERT_EQ(again, 0, "the NMI after clearing the word was delivered");
}

static void test_nmi_executing_word_moat_on(void)
{
	struct attack_cfg c = {};
	struct attack_cfg fix = {};
	__u32 ret = 1;
	cpu_set_t all;
	long long v0;
	int nmi;

	if (!moat_ready())
		return;
	v0 = violations("map_write");
	ASSERT_OK(pin_cpu0(&all), "pin to cpu 0");
	ASSERT_OK(nmi_word_write(mobj, mcfg_fd, 1, &c, &ret), "map_write");
	nmi = nmi_send();
	/* A kernel that kept the word set would drop NMIs from now on. */
	if (nmi)
		nmi_word_write(obj, cfg_fd, 0, &fix, NULL);
	sched_setaffinity(0, sizeof(all), &all);
	test_info("MOAT on: \"NMI executing\" at 0x%llx: verdict %u, violations %lld -> %lld, next NMI %s",
		  (unsigned long long)c.target, ret, v0,
		  violations("map_write"), nmi ? "lost" : "delivered");
	ASSERT_EQ(violations("map_write"), v0 + 1, "moat_violations");
	ASSERT_EQ(ret, 0, "safe verdict");
	ASSERT_EQ(nmi, 0, "the next NMI was delivered");
}

/*
 * An isolated program in an NMI calls a helper that runs another isolated
 * program (nmi_printk, nmi_printk_inner): the NMI handler below both keeps
 * "NMI executing" set, which neither run may take for a program's write.
 */
static void test_nmi_nested_isolated(void)
{
	const char *names[] = { "nmi_printk", "nmi_printk_inner" };
	int m = bpf_object__find_map_fd_by_name(mobj, "nmi_nest_map");
	struct bpf_link *link[2] = {};
	__u64 n[2] = {}, zero[2] = {};
	long long v0[2];
	int i, first = -1, second = -1;
	__u32 key = 0;
	cpu_set_t all;

	if (!moat_ready())
		return;
	bpf_map_update_elem(m, &key, zero, BPF_ANY);
	for (i = 0; i < 2; i++) {
		v0[i] = violations(names[i]);
		link[i] = bpf_program__attach(
			bpf_object__find_program_by_name(mobj, names[i]));
		if (libbpf_get_error(link[i]))
			link[i] = NULL;
	}
	if (link[0] && link[1] && !pin_cpu0(&all)) {
		first = nmi_send();
		second = nmi_send();
		sched_setaffinity(0, sizeof(all), &all);
	}
	for (i = 0; i < 2; i++)
		bpf_link__destroy(link[i]);
	bpf_map_lookup_elem(m, &key, n);
	test_info("NMIs %s, %s; outer runs %llu, inner runs %llu; violations %lld -> %lld, %lld -> %lld",
		  first ? "lost" : "delivered", second ? "lost" : "delivered",
		  (unsigned long long)n[0], (unsigned long long)n[1], v0[0],
		  violations(names[0]), v0[1], violations(names[1]));
	ASSERT_TRUE(link[0] && link[1], "both programs attached");
	ASSERT_EQ(first, 0, "the first NMI was delivered");
	ASSERT_EQ(second, 0, "the second NMI was delivered");
	ASSERT_GE(n[0], 2, "the outer program ran in both NMIs");
	ASSERT_GE(n[1], 2, "the inner program ran inside its helper");
	ASSERT_EQ(violations(names[0]), v0[0], "outer moat_violations");
	ASSERT_EQ(violations(names[1]), v0[1], "inner moat_violations");
}

/*
 * The frozen .rodata of escape.bpf.o (obj, plain): the verifier trusts its
 * values for every program.  rodata_addr gives the address of ro_word.
 */
#define RO_WORD 0x726f64617461ULL

/* Offset of ro_word in the .rodata section, from the object's BTF. */
static long long ro_word_offset(void)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *v;
	const struct btf_type *t;
	int id, i;

	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, id);
	for (i = 0, v = btf_var_secinfos(t); i < btf_vlen(t); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		if (!strcmp(btf__name_by_offset(btf, var->name_off), "ro_word"))
			return v->offset;
	}
	return -1;
}

/* Address of ro_word in obj's .rodata, and its value there: 0 or -1. */
static int ro_word_at(__u64 *addr, __u64 *val)
{
	long long off = ro_word_offset();
	struct bpf_map *m = NULL, *it;
	struct attack_cfg c = {};
	unsigned char buf[4096];
	__u32 key = 0;

	bpf_object__for_each_map(it, obj)
		if (strstr(bpf_map__name(it), ".rodata"))
			m = it;
	if (!m || off < 0 || off + 8 > bpf_map__value_size(m) ||
	    bpf_map__value_size(m) > sizeof(buf) ||
	    run("rodata_addr", &c) || !c.ran ||
	    bpf_map_lookup_elem(bpf_map__fd(m), &key, buf)) {
		test_fail("address or value of ro_word");
		return -1;
	}
	*addr = c.result;
	memcpy(val, buf + off, 8);
	return 0;
}

/*
 * Attack @prog on the frozen ro_word: map_write stores there itself,
 * dpa_probe_read has bpf_probe_read_kernel() write there (its destination
 * moved onto ro_word).  MOAT off the write lands (and is undone).
 */
static void rodata_attack_moat_off(const char *prog)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	struct attack_cfg undo = { .write_val = RO_WORD };
	__u64 addr, before, after;

	if (!ready() || ro_word_at(&addr, &before))
		return;
	c.target = undo.target = addr;
	ASSERT_OK(run(prog, &c), prog);
	ASSERT_OK(ro_word_at(&addr, &after), "ro_word again");
	ASSERT_OK(run("map_write", &undo), "map_write back");
	test_info("%s at frozen ro_word (0x%llx), MOAT off: 0x%llx -> 0x%llx",
		  prog, (unsigned long long)addr, (unsigned long long)before,
		  (unsigned long long)after);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(before, RO_WORD, "ro_word before");
	ASSERT_EQ(after, c.write_val, "frozen read-only value overwritten");
}

/* MOAT on: @prog is terminated at the write, ro_word keeps its value. */
static void rodata_attack_moat_on(const char *prog)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	__u64 addr, before, after;
	__u32 ret = 1;
	long long v0;

	if (!moat_ready() || ro_word_at(&addr, &before))
		return;
	v0 = violations(prog);
	c.target = addr;
	ASSERT_OK(run_in(mobj, mcfg_fd, prog, &c, &ret), prog);
	ASSERT_OK(ro_word_at(&addr, &after), "ro_word again");
	test_info("%s at frozen ro_word (0x%llx), MOAT on: ran %llu, verdict %u, 0x%llx -> 0x%llx, violations %lld -> %lld",
		  prog, (unsigned long long)addr, (unsigned long long)c.ran,
		  ret, (unsigned long long)before, (unsigned long long)after,
		  v0, violations(prog));
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(ret, 0, "safe verdict");
	ASSERT_EQ(after, before, "frozen read-only value unchanged");
	ASSERT_EQ(violations(prog), v0 + 1, "moat_violations");
}

static void test_rodata_write_moat_off(void)
{
	rodata_attack_moat_off("map_write");
}

static void test_rodata_write_moat_on(void)
{
	rodata_attack_moat_on("map_write");
}

static void test_rodata_helper_write_moat_off(void)
{
	rodata_attack_moat_off("dpa_probe_read");
}

static void test_rodata_helper_write_moat_on(void)
{
	rodata_attack_moat_on("dpa_probe_read");
}

/*
 * The map of a program that is not isolated, created under
 * kernel.bpf_moat=1 without BPF_F_MOAT, as a loader that knows nothing of
 * MOAT creates it: its fd, and in @addr the address of its value, which
 * a plain program stores there.  -1 after a FAIL.
 */
static int plain_map_at(__u64 *addr)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	__u32 key = 0;
	int map, prog;

	moat_set_mode("1");
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "trusted_cfg", 4, 8, 1, NULL);
	moat_set_mode("0");
	if (map < 0) {
		test_fail("creating the map: %s", strerror(-map));
		return -1;
	}
	{
		struct bpf_insn insns[] = {
			/* r1 = &value; *(u64 *)(r1 + 0) = r1; return 0 */
			{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1,
			  .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = map },
			{ },
			{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 1,
			  .src_reg = 1 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0 },
			{ .code = BPF_JMP | BPF_EXIT },
		};

		prog = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "map_addr",
				     "GPL", insns, 5, NULL);
	}
	if (prog < 0 || bpf_prog_test_run_opts(prog, &opts) ||
	    bpf_map_lookup_elem(map, &key, addr)) {
		test_fail("address of the map's value: %s", strerror(errno));
		if (prog >= 0)
			close(prog);
		close(map);
		return -1;
	}
	close(prog);
	return map;
}

/*
 * Under kernel.bpf_moat=1 an isolated program that escaped the verifier
 * writes the map of a program that is not isolated (a loader's
 * configuration, say).  MOAT off (the attacker not isolated either), the
 * write lands.
 */
static void test_plain_map_write_moat_off(void)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	__u64 addr, v = 0;
	__u32 key = 0;
	int map;

	if (!ready() || (map = plain_map_at(&addr)) < 0)
		return;
	c.target = addr;
	ASSERT_OK(run("map_write", &c), "map_write");
	bpf_map_lookup_elem(map, &key, &v);
	close(map);
	test_info("map_write at a plain program's map value (0x%llx), MOAT off: ran %llu, value 0x%llx",
		  (unsigned long long)addr, (unsigned long long)c.ran,
		  (unsigned long long)v);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(v, c.write_val, "the plain program's map value overwritten");
}

/*
 * MOAT on: that map was not created for isolated programs, so its value
 * is kernel memory, not BPF memory: the write ends the program, the value
 * stays.  (Before, every array's values were BPF memory whatever the
 * policy, and the write landed.)
 */
static void test_plain_map_write_moat_on(void)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	__u64 addr, v = 0;
	__u32 key = 0, ret = 1;
	long long v0;
	int map;

	if (!moat_ready() || (map = plain_map_at(&addr)) < 0)
		return;
	v0 = violations("map_write");
	c.target = addr;
	ASSERT_OK(run_in(mobj, mcfg_fd, "map_write", &c, &ret), "map_write");
	bpf_map_lookup_elem(map, &key, &v);
	close(map);
	test_info("map_write at a plain program's map value (0x%llx), MOAT on: ran %llu, verdict %u, value 0x%llx, violations %lld -> %lld",
		  (unsigned long long)addr, (unsigned long long)c.ran, ret,
		  (unsigned long long)v, v0, violations("map_write"));
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(ret, 0, "safe verdict");
	ASSERT_EQ(v, addr, "the plain program's map value unchanged");
	ASSERT_EQ(violations("map_write"), v0 + 1, "moat_violations");
}

/*
 * Layer II.  An array of one 16-byte value in BPF memory, as a loader that
 * asks for isolation creates it: fd, or -1 after a FAIL.
 */
static int dom_map(const char *name)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MOAT);
	int fd;

	moat_set_mode("1");
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 16, 1, &o);
	moat_set_mode("0");
	if (fd < 0)
		test_fail("creating %s: %s", name, strerror(-fd));
	return fd;
}

/*
 * Load an isolated socket filter that, each run, stores in the first word
 * of the value of each array in @maps (up to eight) that value's address
 * and adds 1 to its second word, and returns 1.  Its fd, or -errno.
 * (libbpf tries a load five times while it fails with EAGAIN: a domain
 * it splits held by runs too long.)
 */
static int dom_load(const char *name, const int *maps, int n)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = BPF_F_MOAT);
	struct bpf_insn insns[8 * 6 + 2] = {}, *i = insns;
	int k, fd;

	for (k = 0; k < n && k < 8; k++) {
		i->code = BPF_LD | BPF_DW | BPF_IMM;
		i->dst_reg = 1;
		i->src_reg = BPF_PSEUDO_MAP_VALUE;
		i->imm = maps[k];
		i += 2;
		*i++ = (struct bpf_insn){ .code = BPF_STX | BPF_MEM | BPF_DW,
					  .dst_reg = 1, .src_reg = 1 };
		*i++ = (struct bpf_insn){ .code = BPF_LDX | BPF_MEM | BPF_DW,
					  .dst_reg = 2, .src_reg = 1, .off = 8 };
		*i++ = (struct bpf_insn){ .code = BPF_ALU64 | BPF_ADD | BPF_K,
					  .dst_reg = 2, .imm = 1 };
		*i++ = (struct bpf_insn){ .code = BPF_STX | BPF_MEM | BPF_DW,
					  .dst_reg = 1, .src_reg = 2, .off = 8 };
	}
	*i++ = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K,
				  .dst_reg = 0, .imm = 1 };
	*i++ = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
	moat_set_mode("1");
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, name, "GPL", insns,
			   i - insns, &o);
	if (fd < 0)
		fd = -errno;
	moat_set_mode("0");
	return fd;
}

/* dom_load(): its fd, or -1 after a FAIL. */
static int dom_prog(const char *name, const int *maps, int n)
{
	int fd = dom_load(name, maps, n);

	if (fd < 0) {
		test_fail("loading %s isolated: %s", name, strerror(-fd));
		fd = -1;
	} else if (fdinfo(fd, "moat_isolated") != 1) {
		test_fail("%s is not isolated", name);
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Run @prog once on a packet: its verdict, or -1 after a FAIL. */
static int dom_run(int prog)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &opts)) {
		test_fail("running a Layer II program: %s", strerror(errno));
		return -1;
	}
	return opts.retval;
}

/* The value of dom_map() @map: v[0] its address, v[1] the runs. */
static void dom_value(int map, __u64 v[2])
{
	__u32 key = 0;

	v[0] = v[1] = 0;
	bpf_map_lookup_elem(map, &key, v);
}

/* The id of the Layer II domain of the map with fd @fd (0: none). */
static long long dom_id(int fd)
{
	return fdinfo(fd, "moat_domain");
}

/* The key that domain has now (0: none). */
static long long dom_key(int fd)
{
	return fdinfo(fd, "moat_key");
}

/*
 * @nr isolated programs @name, each with a dom_map() of its own, into
 * @maps and @progs: how many were made (fewer after a FAIL).
 */
static int dom_make(const char *name, int *maps, int *progs, int nr)
{
	int n;

	for (n = 0; n < nr; n++) {
		maps[n] = dom_map(name);
		if (maps[n] < 0)
			break;
		progs[n] = dom_prog(name, &maps[n], 1);
		if (progs[n] < 0) {
			close(maps[n]);
			break;
		}
	}
	return n;
}

/* Close the @n programs and maps of dom_make(). */
static void dom_close(int *maps, int *progs, int n)
{
	while (n-- > 0) {
		close(progs[n]);
		close(maps[n]);
	}
}

/*
 * A victim: isolated program "victim" and its own map, run once, so that
 * v[0] holds the address of its value.  0, or -1 after a FAIL.
 */
static int dom_victim(int *map, int *prog, __u64 v[2])
{
	*map = dom_map("victim_map");
	if (*map < 0)
		return -1;
	*prog = dom_prog("victim", map, 1);
	if (*prog < 0 || dom_run(*prog) != 1) {
		if (*prog >= 0)
			close(*prog);
		close(*map);
		return -1;
	}
	dom_value(*map, v);
	return 0;
}

/*
 * Layer II: an isolated program that escaped the verifier writes (@write)
 * or reads the map value of another isolated program, with which it
 * shares no map.  MOAT off (the attacker not isolated), that works.
 */
static void other_domain_moat_off(int write)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	__u64 v[2], after[2];
	int map, prog;

	if (!moat_ready() || dom_victim(&map, &prog, v))
		return;
	c.target = v[0];
	ASSERT_OK(run(write ? "map_write" : "map_read", &c), "attack run");
	dom_value(map, after);
	test_info("%s at another program's map value (0x%llx), MOAT off: ran %llu, read 0x%llx, value now 0x%llx",
		  write ? "map_write" : "map_read", (unsigned long long)v[0],
		  (unsigned long long)c.ran, (unsigned long long)c.result,
		  (unsigned long long)after[0]);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	if (write)
		ASSERT_EQ(after[0], c.write_val, "the other program's value overwritten");
	else
		ASSERT_EQ(c.result, v[0], "the other program's value read");
	close(prog);
	close(map);
}

/*
 * MOAT on: the victim is in a domain of its own, whose key the attacker's
 * runs do not open; the access ends the attacker (safe verdict, counted),
 * the value is unchanged, and the victim goes on running.
 */
static void other_domain_moat_on(int write)
{
	const char *name = write ? "map_write" : "map_read";
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	struct bpf_program *a;
	long long v0, dv, da;
	__u64 v[2], after[2];
	__u32 ret = 1;
	int map, prog;

	if (!moat_ready())
		return;
	a = bpf_object__find_program_by_name(mobj, name);
	if (!a || dom_victim(&map, &prog, v))
		return;
	dv = dom_id(map);
	da = dom_id(mcfg_fd);
	v0 = violations(name);
	c.target = v[0];
	ASSERT_OK(run_in(mobj, mcfg_fd, name, &c, &ret), "attack run");
	dom_value(map, after);
	test_info("%s at another program's map value (0x%llx), MOAT on: domains %lld (victim's map, key %lld) %lld (attacker's map, key %lld), ran %llu, verdict %u, read 0x%llx, value 0x%llx, violations %lld -> %lld",
		  name, (unsigned long long)v[0], dv, dom_key(map), da,
		  dom_key(mcfg_fd), (unsigned long long)c.ran, ret,
		  (unsigned long long)c.result, (unsigned long long)after[0],
		  v0, violations(name));
	ASSERT_TRUE(dv > 0 && da > 0 && dv != da, "separate domains");
	ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
	ASSERT_EQ(ret, 0, "safe verdict");
	ASSERT_EQ(c.result, 0, "nothing read");
	ASSERT_EQ(after[0], v[0], "the other program's value unchanged");
	ASSERT_EQ(violations(name), v0 + 1, "moat_violations");
	ASSERT_EQ(dom_run(prog), 1, "the victim runs on");
	dom_value(map, after);
	ASSERT_EQ(after[1], 2, "the victim's second run counted");
	ASSERT_EQ(fdinfo(prog, "moat_violations"), 0, "no violation of the victim");
	close(prog);
	close(map);
}

static void test_other_domain_write_moat_off(void)
{
	other_domain_moat_off(1);
}

static void test_other_domain_write_moat_on(void)
{
	other_domain_moat_on(1);
}

static void test_other_domain_read_moat_off(void)
{
	other_domain_moat_off(0);
}

static void test_other_domain_read_moat_on(void)
{
	other_domain_moat_on(0);
}

/*
 * Layer II follows exactly the maps each program references.  C uses map
 * m; B uses m and the attack object's cfg_map.  B and C both reach m, but
 * the escaped map_write, which shares only cfg_map with B, does not: m is
 * in a domain of B and C, cfg_map in one of the attack object's programs
 * and B.  (Were domains to follow shared maps from program to program,
 * all of them would be one, and the write would go through.)  MOAT off
 * (the attacker not isolated), the write goes through.
 */
static void test_domains_shared_isolated(void)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	int m = -1, b = -1, cp = -1, bm[2];
	__u64 v[2], after[2];
	long long v0;
	__u32 ret = 1;

	if (!moat_ready())
		return;
	m = dom_map("dom_m");
	if (m < 0)
		goto out;
	cp = dom_prog("dom_c", &m, 1);
	bm[0] = mcfg_fd;
	bm[1] = m;
	b = dom_prog("dom_b", bm, 2);
	if (cp < 0 || b < 0)
		goto out;
	ASSERT_EQ(dom_run(cp), 1, "C runs");
	ASSERT_EQ(dom_run(b), 1, "B runs");
	dom_value(m, v);
	ASSERT_EQ(v[1], 2, "m written by C and by B");
	ASSERT_EQ(fdinfo(b, "moat_domains"), 2, "B has two domains");
	ASSERT_TRUE(dom_id(m) > 0 && dom_id(mcfg_fd) > 0 &&
		    dom_id(m) != dom_id(mcfg_fd),
		    "m and cfg_map in separate domains");

	/* MOAT off: the plain map_write writes m. */
	c.target = v[0];
	ASSERT_OK(run("map_write", &c), "attack run, MOAT off");
	dom_value(m, after);
	test_info("map_write at a map of a program it shares a map with, MOAT off: ran %llu, value 0x%llx (was 0x%llx)",
		  (unsigned long long)c.ran, (unsigned long long)after[0],
		  (unsigned long long)v[0]);
	ASSERT_EQ(c.ran, 1, "MOAT off: the attack ran to the end");
	ASSERT_EQ(after[0], c.write_val, "MOAT off: m overwritten");
	/* C puts its word back. */
	ASSERT_EQ(dom_run(cp), 1, "C runs");
	dom_value(m, v);

	/* MOAT on: the isolated map_write is ended. */
	c = (struct attack_cfg){ .write_val = 0x6861636b6564ULL,
				 .target = v[0] };
	v0 = violations("map_write");
	ASSERT_OK(run_in(mobj, mcfg_fd, "map_write", &c, &ret), "attack run");
	dom_value(m, after);
	test_info("map_write at a map of a program it shares a map with, MOAT on: domains %lld (m) %lld (cfg_map), ran %llu, verdict %u, value 0x%llx (was 0x%llx), violations %lld -> %lld",
		  dom_id(m), dom_id(mcfg_fd), (unsigned long long)c.ran, ret,
		  (unsigned long long)after[0], (unsigned long long)v[0], v0,
		  violations("map_write"));
	ASSERT_EQ(c.ran, 0, "MOAT on: the attack terminated");
	ASSERT_EQ(ret, 0, "safe verdict");
	ASSERT_EQ(after[0], v[0], "m unchanged");
	ASSERT_EQ(violations("map_write"), v0 + 1, "moat_violations");
	ASSERT_EQ(dom_run(b), 1, "B runs on");
	ASSERT_EQ(dom_run(cp), 1, "C runs on");
	dom_value(m, after);
	ASSERT_EQ(after[1], v[1] + 2, "both runs counted");
	ASSERT_EQ(fdinfo(b, "moat_violations") + fdinfo(cp, "moat_violations"),
		  0, "no violation of B or C");
out:
	if (b >= 0)
		close(b);
	if (cp >= 0)
		close(cp);
	if (m >= 0)
		close(m);
}

/*
 * A domain splits when a program uses part of it.  V uses maps m1 and m2:
 * one domain.  W then uses m2 and the attack object's cfg_map: m2 leaves
 * V's domain for one of V and W.  V runs on with both maps (two domains
 * now), W reaches m2, and the escaped map_write, which shares cfg_map with
 * W, reaches neither m1 nor m2.
 */
static void test_domains_split_isolated(void)
{
	int m[2] = { -1, -1 }, v = -1, w = -1, wm[2], t;
	long long splits, v0, d1, d2;
	__u64 v1[2], v2[2], after[2];

	if (!moat_ready())
		return;
	m[0] = dom_map("dom_m1");
	m[1] = dom_map("dom_m2");
	if (m[0] < 0 || m[1] < 0)
		goto out;
	v = dom_prog("dom_v", m, 2);
	if (v < 0)
		goto out;
	ASSERT_EQ(dom_run(v), 1, "V runs");
	d1 = dom_id(m[0]);
	d2 = dom_id(m[1]);
	ASSERT_TRUE(d1 > 0 && d1 == d2, "m1 and m2 in one domain");
	ASSERT_EQ(fdinfo(v, "moat_domains"), 1, "V has one domain");
	splits = moat_file_value(MOAT_DOMAINS, "splits");
	wm[0] = mcfg_fd;
	wm[1] = m[1];
	w = dom_prog("dom_w", wm, 2);
	if (w < 0)
		goto out;
	test_info("domains of m1, m2: %lld, %lld before W; %lld, %lld after; V has %lld domains, W %lld; splits %lld -> %lld",
		  d1, d2, dom_id(m[0]), dom_id(m[1]),
		  fdinfo(v, "moat_domains"), fdinfo(w, "moat_domains"), splits,
		  moat_file_value(MOAT_DOMAINS, "splits"));
	ASSERT_TRUE(dom_id(m[0]) > 0 && dom_id(m[1]) > 0 &&
		    dom_id(m[0]) != dom_id(m[1]), "m2 split off");
	ASSERT_TRUE(moat_file_value(MOAT_DOMAINS, "splits") > splits,
		    "splits counted");
	ASSERT_EQ(fdinfo(v, "moat_domains"), 2, "V has two domains");
	ASSERT_EQ(dom_run(v), 1, "V runs after the split");
	ASSERT_EQ(dom_run(w), 1, "W runs");
	dom_value(m[0], v1);
	dom_value(m[1], v2);
	ASSERT_EQ(v1[1], 2, "m1 written by V twice");
	ASSERT_EQ(v2[1], 3, "m2 written by V twice and W once");
	v0 = violations("map_write");
	for (t = 0; t < 2; t++) {
		struct attack_cfg c = { .write_val = 0x6861636b6564ULL,
					.target = t ? v2[0] : v1[0] };
		__u32 ret = 1;

		ASSERT_OK(run_in(mobj, mcfg_fd, "map_write", &c, &ret),
			  "attack run");
		dom_value(m[t], after);
		test_info("map_write at m%d (domain %lld) from cfg_map's domain %lld: ran %llu, verdict %u, value 0x%llx (was 0x%llx)",
			  t + 1, dom_id(m[t]), dom_id(mcfg_fd),
			  (unsigned long long)c.ran, ret,
			  (unsigned long long)after[0],
			  (unsigned long long)(t ? v2[0] : v1[0]));
		ASSERT_EQ(c.ran, 0, "attack terminated");
		ASSERT_EQ(ret, 0, "safe verdict");
		ASSERT_EQ(after[0], t ? v2[0] : v1[0], "value unchanged");
	}
	ASSERT_EQ(violations("map_write"), v0 + 2, "a violation per attack");
	ASSERT_EQ(dom_run(v), 1, "V runs on");
	ASSERT_EQ(fdinfo(v, "moat_violations") + fdinfo(w, "moat_violations"),
		  0, "no violation of V or W");
out:
	if (w >= 0)
		close(w);
	if (v >= 0)
		close(v);
	if (m[0] >= 0)
		close(m[0]);
	if (m[1] >= 0)
		close(m[1]);
}

/*
 * A program may have at most as many domains as there are keys (six): a
 * run needs all of them at once.  V uses seven maps (one domain); W0..W4
 * each use one of them, splitting one off each time, so that V ends up
 * with six domains.  W5, which would give V a seventh, is not loaded
 * (E2BIG, counted); V still runs with all seven maps, and so do W0..W4.
 */
static void test_domains_too_many_refused(void)
{
	int m[7], v = -1, w[6], k, n = 0, err;
	long long refused0, viol = 0;
	__u64 val[2];
	bool ok = true;

	if (!moat_ready())
		return;
	for (k = 0; k < 6; k++)
		w[k] = -1;
	for (n = 0; n < 7; n++) {
		m[n] = dom_map("dom_many7");
		if (m[n] < 0)
			goto out;
	}
	v = dom_prog("dom_seven", m, 7);
	if (v < 0)
		goto out;
	refused0 = moat_file_value(MOAT_DOMAINS, "refused_loads");
	for (k = 0; k < 5; k++) {
		w[k] = dom_prog("dom_part", &m[k], 1);
		if (w[k] < 0)
			goto out;
	}
	ASSERT_EQ(fdinfo(v, "moat_domains"), 6, "V has six domains");
	/* W5: its failure is the expected outcome. */
	w[5] = dom_load("dom_part", &m[5], 1);
	err = w[5] < 0 ? -w[5] : 0;
	test_info("V with 7 maps: %lld domains after 5 splits; a 6th split's load: %s (errno %d); refused loads %lld -> %lld",
		  fdinfo(v, "moat_domains"),
		  w[5] < 0 ? "refused" : "loaded", err,
		  refused0, moat_file_value(MOAT_DOMAINS, "refused_loads"));
	ASSERT_TRUE(w[5] < 0 && err == E2BIG, "the load refused with E2BIG");
	ASSERT_EQ(moat_file_value(MOAT_DOMAINS, "refused_loads"), refused0 + 1,
		  "refused_loads");
	ASSERT_EQ(fdinfo(v, "moat_domains"), 6, "V still has six domains");
	ASSERT_EQ(dom_run(v), 1, "V runs with its seven maps");
	for (k = 0; k < 5; k++)
		if (dom_run(w[k]) != 1)
			ok = false;
	ASSERT_TRUE(ok, "W0..W4 run");
	for (k = 0; k < 7; k++) {
		dom_value(m[k], val);
		if (val[1] != 1 + (k < 5))
			ok = false;
	}
	ASSERT_TRUE(ok, "every map written by its programs' runs");
	viol = fdinfo(v, "moat_violations");
	for (k = 0; k < 5; k++)
		viol += fdinfo(w[k], "moat_violations");
	ASSERT_EQ(viol, 0, "no violation");
out:
	for (k = 0; k < 6; k++)
		if (w[k] >= 0)
			close(w[k]);
	if (v >= 0)
		close(v);
	while (n-- > 0)
		close(m[n]);
}

/*
 * Load an isolated socket filter that, each lap, adds 1 to the second
 * word of the values of arrays @a and @b (dom_map()s), and laps while
 * bpf_moat_test_escape(1) is not 0: the verifier believes it is, so it
 * loops until the lockup watchdog ends it, holding the key of the domain
 * of @a and @b.  Its fd, or -errno.
 */
static int park_loop_load(int a, int b)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = BPF_F_MOAT);
	struct btf *btf = btf__load_vmlinux_btf();
	int id = btf ? btf__find_by_name_kind(btf, "bpf_moat_test_escape",
					      BTF_KIND_FUNC) : -1;
	struct bpf_insn insns[] = {
		{ BPF_LD | BPF_DW | BPF_IMM, 6, BPF_PSEUDO_MAP_VALUE, 0, a },
		{ 0, 0, 0, 0, 0 },
		{ BPF_LD | BPF_DW | BPF_IMM, 7, BPF_PSEUDO_MAP_VALUE, 0, b },
		{ 0, 0, 0, 0, 0 },
		{ BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1 },
		{ BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, id },
		/* lap: */
		{ BPF_LDX | BPF_MEM | BPF_DW, 1, 6, 8, 0 },
		{ BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, 1 },
		{ BPF_STX | BPF_MEM | BPF_DW, 6, 1, 8, 0 },
		{ BPF_LDX | BPF_MEM | BPF_DW, 1, 7, 8, 0 },
		{ BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, 1 },
		{ BPF_STX | BPF_MEM | BPF_DW, 7, 1, 8, 0 },
		{ BPF_JMP | BPF_JNE | BPF_K, 0, 0, -7, 0 },
		{ BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1 },
		{ BPF_JMP | BPF_EXIT, 0, 0, 0, 0 },
	};
	int fd;

	btf__free(btf);
	if (id <= 0)
		return -ENOENT;
	moat_set_mode("1");
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "park_loop", "GPL",
			   insns, sizeof(insns) / sizeof(insns[0]), &o);
	if (fd < 0)
		fd = -errno;
	moat_set_mode("0");
	return fd;
}

/* Print debugfs file @path, a test_info() line per line of it. */
static void info_file(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		test_info("  %s", line);
	}
	fclose(f);
}

#define PARK_ROUNDS	2

/*
 * A split waits for the runs that hold the key of the domain it parks,
 * under the lock every isolated load and free takes: not for ever.  Each
 * round, a child runs park_loop_load()'s escaped loop on CPU 1 over two
 * fresh maps a and b (one domain), until the lockup watchdog ends it;
 * meanwhile a load that uses a alone (a split) fails with EAGAIN after
 * the park's bound, nothing changed, while the loop goes on.  Once the
 * watchdog ended the loop, the same load succeeds and splits the domain.
 */
static void test_domains_park_timeout(void)
{
	long long laps0, laps1, laps2, d0, db, key0, t0, t1, to0, to1;
	int r, a = -1, b = -1, loop = -1, w = -1, status, gone;
	bool ok = true;
	cpu_set_t all;
	__u64 v[2];
	pid_t child;

	if (!moat_ready())
		return;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		test_skip("needs a second CPU");
		return;
	}
	for (r = 0; r < PARK_ROUNDS && ok; r++) {
		a = dom_map("park_a");
		b = dom_map("park_b");
		loop = a >= 0 && b >= 0 ? park_loop_load(a, b) : -EBADF;
		if (loop < 0) {
			test_fail("loading the escaped loop: %s",
				  strerror(-loop));
			ok = false;
			goto close;
		}
		/* The loop on CPU 1, the loads on CPU 0 (it keeps its CPU). */
		if (pin_cpu0(&all)) {
			test_fail("pinning to CPU 0");
			ok = false;
			goto close;
		}
		child = fork();
		if (child == 0) {
			unsigned char pkt[64] = { [12] = 0x08 };
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
				    .data_size_in = sizeof(pkt), .repeat = 1);

			if (!pin_cpu(1))
				bpf_prog_test_run_opts(loop, &o);
			_exit(0);
		}
		if (child < 0) {
			test_fail("fork: %s", strerror(errno));
			sched_setaffinity(0, sizeof(all), &all);
			ok = false;
			goto close;
		}
		/* Until it loops: polled without sleeping, this CPU kept. */
		for (t0 = 0, v[1] = 0; t0 < 100000000 && v[1] < 1000; t0++)
			dom_value(a, v);
		laps0 = v[1];
		d0 = dom_id(a);
		db = dom_id(b);
		key0 = dom_key(a);
		t0 = moat_file_value(MOAT_DOMAINS, "park_timeouts");
		to0 = moat_file_value(MOAT_STATS, "timeouts");
		w = dom_load("dom_park", &a, 1);
		t1 = moat_file_value(MOAT_DOMAINS, "park_timeouts");
		to1 = moat_file_value(MOAT_STATS, "timeouts");
		dom_value(a, v);
		laps1 = v[1];
		usleep(20000);
		dom_value(a, v);
		laps2 = v[1];
		gone = waitpid(child, &status, WNOHANG);
		test_info("round %d: %lld laps in; domain of a, b %lld, %lld (key %lld); a split meanwhile: %s, park timeouts +%lld, watchdog ends +%lld; laps then %lld, 20 ms later %lld, loop %s",
			  r, laps0, d0, db, key0,
			  w >= 0 ? "loaded" : strerror(-w), t1 - t0, to1 - to0,
			  laps1, laps2, gone ? "gone" : "still running");
		if (w >= 0 || t1 == t0) {
			test_info("unexpected: a's domain %lld, key %lld now",
				  dom_id(a), dom_key(a));
			info_file(MOAT_DOMAINS);
			info_file(MOAT_STATS);
		}
		if (w >= 0)
			close(w);
		/* The loop ends when the watchdog ends it. */
		if (!gone)
			waitpid(child, &status, 0);
		sched_setaffinity(0, sizeof(all), &all);
		ok = laps0 >= 1000 && d0 > 0 && d0 == db && w == -EAGAIN &&
		     t1 > t0 && laps2 > laps1 && !gone &&
		     dom_id(a) == d0 && dom_id(b) == d0;
		ASSERT_TRUE(laps0 >= 1000, "the escaped loop loops");
		ASSERT_TRUE(d0 > 0 && d0 == db, "a and b in one domain");
		ASSERT_EQ(w, -EAGAIN, "the split load fails with EAGAIN");
		ASSERT_TRUE(t1 > t0, "park_timeouts counted");
		ASSERT_TRUE(laps2 > laps1 && !gone, "the loop went on");
		ASSERT_TRUE(dom_id(a) == d0 && dom_id(b) == d0,
			    "nothing changed");
		w = dom_load("dom_park", &a, 1);
		ASSERT_TRUE(w >= 0, "the same load succeeds once the loop ended");
		ASSERT_TRUE(dom_id(a) > 0 && dom_id(a) != dom_id(b),
			    "the domain split");
		if (w >= 0) {
			ASSERT_EQ(dom_run(w), 1, "the split load's program runs");
			close(w);
		}
close:
		if (loop >= 0)
			close(loop);
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	}
}

#define DOM_SPLIT_ROUNDS	20

/*
 * Splits while the split domain's program runs on the other CPU.  Each
 * round, V uses four fresh maps (one domain) and a child runs V without
 * pause; meanwhile three programs are loaded that each use one of V's
 * maps, so that V's domain splits three times under its runs.  A run
 * that missed a change of its view would fault on a map it uses: V is
 * never terminated, and every run V made wrote all four maps (equal
 * counts).  Runs may be refused while a domain is parked (safe verdict).
 */
static void test_domains_split_under_runs(void)
{
	long long runs = 0, retries0, splits0, nokey0, parks0;
	unsigned int bad = 0, uneven = 0, viol = 0;
	int r, k, m[4], v, w[3];
	__u64 val[4][2];
	pid_t child;

	if (!moat_ready())
		return;
	retries0 = moat_file_value(MOAT_DOMAINS, "view_retries");
	splits0 = moat_file_value(MOAT_DOMAINS, "splits");
	nokey0 = moat_file_value(MOAT_DOMAINS, "no_key");
	parks0 = moat_file_value(MOAT_DOMAINS, "park_timeouts");
	for (r = 0; r < DOM_SPLIT_ROUNDS && !bad; r++) {
		for (k = 0; k < 4; k++)
			m[k] = dom_map("dom_split");
		v = dom_prog("dom_split_v", m, 4);
		if (v < 0) {
			bad++;
			goto close_maps;
		}
		child = fork();
		if (child == 0) {
			unsigned char pkt[64] = { [12] = 0x08 };
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
				    .data_size_in = sizeof(pkt), .repeat = 50);

			for (;;)
				bpf_prog_test_run_opts(v, &o);
		}
		if (child < 0) {
			test_fail("fork: %s", strerror(errno));
			bad++;
			close(v);
			goto close_maps;
		}
		usleep(2000);
		for (k = 0; k < 3; k++) {
			w[k] = dom_prog("dom_split_w", &m[k], 1);
			if (w[k] < 0)
				bad++;
			usleep(1000);
		}
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		for (k = 0; k < 4; k++)
			dom_value(m[k], val[k]);
		runs += val[3][1];
		for (k = 0; k < 3; k++)
			if (val[k][1] != val[3][1])
				uneven++;
		if (fdinfo(v, "moat_violations"))
			viol++;
		if (fdinfo(v, "moat_domains") != 4)
			bad++;
		for (k = 0; k < 3; k++)
			if (w[k] >= 0)
				close(w[k]);
		close(v);
close_maps:
		for (k = 0; k < 4; k++)
			if (m[k] >= 0)
				close(m[k]);
	}
	test_info("%d rounds, 3 splits each under V's runs: %lld runs of V made, %lld refused (all programs), splits +%lld, view retries +%lld, park timeouts +%lld; %u rounds with a violation of V, %u maps with uneven counts, %u failures",
		  r, runs, moat_file_value(MOAT_DOMAINS, "no_key") - nokey0,
		  moat_file_value(MOAT_DOMAINS, "splits") - splits0,
		  moat_file_value(MOAT_DOMAINS, "view_retries") - retries0,
		  moat_file_value(MOAT_DOMAINS, "park_timeouts") - parks0,
		  viol, uneven, bad);
	ASSERT_EQ(bad, 0, "every program loaded, V in four domains after");
	ASSERT_TRUE(runs > 0, "V ran");
	ASSERT_EQ(viol, 0, "V never terminated");
	ASSERT_EQ(uneven, 0, "every run of V wrote all its maps");
	ASSERT_TRUE(moat_file_value(MOAT_DOMAINS, "splits") - splits0 >=
		    3 * DOM_SPLIT_ROUNDS, "three splits a round");
}

static struct bpf_object *load_isolated(char *err, size_t errlen);
static struct bpf_link *attach_isolated(const char *name);

#define DOM_MANY	128

/*
 * Many more domains than keys: DOM_MANY isolated programs loaded at once,
 * each with a map of its own, run in turn, so that keys change hands on
 * almost every run.  Then the escaped map_write, in a domain of its own,
 * attacks every one of their values: each attack ends the attacker (safe
 * verdict, counted) and leaves the value unchanged, and each victim runs
 * again without a violation.  No run is refused for want of a key.
 */
static void test_domains_many_isolated(void)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	int maps[DOM_MANY], progs[DOM_MANY], n = 0, i;
	long long moves0, nokey0, v0, ids = 0;
	unsigned int hit = 0, changed = 0, bad = 0;
	__u64 v[DOM_MANY][2], after[2];
	__u32 ret;

	if (!moat_ready())
		return;
	moves0 = moat_file_value(MOAT_DOMAINS, "key_moves");
	nokey0 = moat_file_value(MOAT_DOMAINS, "no_key");
	n = dom_make("dom_many", maps, progs, DOM_MANY);
	if (n < DOM_MANY)
		goto out;
	for (i = 0; i < n; i++) {
		if (dom_run(progs[i]) != 1)
			bad++;
		dom_value(maps[i], v[i]);
		/* Distinct ids: each program its own domain. */
		if (i && dom_id(maps[i]) != dom_id(maps[i - 1]))
			ids++;
	}
	ASSERT_EQ(bad, 0, "every program ran");
	ASSERT_EQ(ids, n - 1, "a domain each");
	v0 = violations("map_write");
	for (i = 0; i < n; i++) {
		c = (struct attack_cfg){ .write_val = 0x6861636b6564ULL,
					 .target = v[i][0] };
		ret = 1;
		if (run_in(mobj, mcfg_fd, "map_write", &c, &ret))
			bad++;
		if (c.ran || ret)
			hit++;
		dom_value(maps[i], after);
		if (after[0] != v[i][0])
			changed++;
		if (dom_run(progs[i]) != 1)
			bad++;
		dom_value(maps[i], after);
		if (after[1] != 2 || fdinfo(progs[i], "moat_violations"))
			bad++;
	}
	test_info("%d programs, a domain each (%lld domains, %lld bytes; bpf_moat/memory layer2_bytes %lld), %d keys: %lld key moves, %lld runs refused; %d attacks: %u not terminated, %u values changed, violations %lld -> %lld",
		  n, moat_file_value(MOAT_DOMAINS, "domains"),
		  moat_file_value(MOAT_DOMAINS, "domain_bytes"),
		  moat_file_value(MOAT_MEMORY, "layer2_bytes"),
		  (int)moat_file_value(MOAT_DOMAINS, "keys"),
		  moat_file_value(MOAT_DOMAINS, "key_moves") - moves0,
		  moat_file_value(MOAT_DOMAINS, "no_key") - nokey0, n, hit,
		  changed, v0, violations("map_write"));
	ASSERT_EQ(bad, 0, "every victim ran again, counted, no violation");
	ASSERT_EQ(hit, 0, "every attack terminated with the safe verdict");
	ASSERT_EQ(changed, 0, "no value changed");
	ASSERT_EQ(violations("map_write"), v0 + n, "a violation per attack");
	ASSERT_TRUE(moat_file_value(MOAT_DOMAINS, "key_moves") - moves0 >= n,
		    "keys changed hands");
	ASSERT_EQ(moat_file_value(MOAT_DOMAINS, "no_key"), nokey0,
		  "no run refused");
out:
	dom_close(maps, progs, n);
}

/*
 * The key a victim had, taken by the attacker right after the victim ran
 * on the same CPU: the TLB of that CPU still holds the victim's value
 * with that key, which the attacker's runs open.  The CPU must flush
 * before the attacker runs.  Pinned to CPU 0: twelve fresh domains run
 * first, so that every key has an owner and takes go round in order;
 * then victim V takes key s, five more fresh domains take the five after
 * it, V runs again (holding s, its value in the TLB), and the attacker
 * takes s.  Its write at V's value ends it, and V's value is unchanged.
 * (QEMU refills its TLB whenever PKRS is written, so under TCG this checks
 * the sequence and the count of flushes, not that a stale entry would be
 * caught: on hardware, without the flush, the write would go through.)
 */
static void test_domain_key_taken_isolated(void)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	int maps[17], progs[17], n = 0, i, vmap = -1, vprog = -1;
	long long key, flushes;
	struct bpf_program *a;
	__u64 v[2], after[2];
	cpu_set_t all;
	__u32 ret = 1;

	if (!moat_ready())
		return;
	a = bpf_object__find_program_by_name(mobj, "map_write");
	if (!a) {
		test_fail("no map_write in the isolated attack object");
		return;
	}
	/* Programs the tests before closed give their keys back first. */
	usleep(500 * 1000);
	n = dom_make("dom_take", maps, progs, 17);
	if (n < 17)
		goto out;
	if (dom_victim(&vmap, &vprog, v))
		goto out;
	if (pin_cpu0(&all)) {
		test_fail("pinning to CPU 0");
		goto out;
	}
	for (i = 0; i < 12; i++)
		dom_run(progs[i]);
	/* The victim's first run after they took every key takes one. */
	dom_run(vprog);
	key = dom_key(vmap);
	for (i = 12; i < 17; i++)
		dom_run(progs[i]);
	dom_run(vprog);
	dom_value(vmap, v);
	flushes = moat_file_value(MOAT_DOMAINS, "tlb_flushes");
	c.target = v[0];
	ASSERT_OK(run_in(mobj, mcfg_fd, "map_write", &c, &ret), "attack run");
	dom_value(vmap, after);
	sched_setaffinity(0, sizeof(all), &all);
	test_info("victim had key %lld (now %lld), attacker took key %lld; TLB flushes +%lld; attack ran %llu, verdict %u, value 0x%llx (was 0x%llx)",
		  key, dom_key(vmap), dom_key(mcfg_fd),
		  moat_file_value(MOAT_DOMAINS, "tlb_flushes") - flushes,
		  (unsigned long long)c.ran, ret,
		  (unsigned long long)after[0], (unsigned long long)v[0]);
	ASSERT_TRUE(key > 0 && dom_key(mcfg_fd) == key,
		    "the attacker took the key the victim had");
	ASSERT_TRUE(moat_file_value(MOAT_DOMAINS, "tlb_flushes") > flushes,
		    "the CPU flushed before the attacker ran");
	ASSERT_EQ(c.ran, 0, "attacker terminated");
	ASSERT_EQ(ret, 0, "safe verdict");
	ASSERT_EQ(after[0], v[0], "the victim's value unchanged");
	ASSERT_EQ(dom_run(vprog), 1, "the victim runs on");
	ASSERT_EQ(fdinfo(vprog, "moat_violations"), 0, "no violation of the victim");
out:
	if (vprog >= 0)
		close(vprog);
	if (vmap >= 0)
		close(vmap);
	dom_close(maps, progs, n);
}

/*
 * An isolated kprobe program on pks_set_pte_key(), which Layer II calls
 * with its lock held and interrupts off while a key changes hands: the
 * program runs nested in that critical section (an optimized or
 * ftrace-based kprobe, not an NMI).  Eight fresh domains run in turn, so
 * keys change hands on each run and the kprobe program's domain loses its
 * key.  Its runs under the lock must not wait for the lock (that would
 * hang the CPU): they are refused (no_key), the others are made, and
 * nothing else changes.
 */
static void test_domains_nested_in_take(void)
{
	struct attack_cfg c = {};
	int maps[8], progs[8], n = 0, i, bad = 0;
	long long nokey0, moves0;
	struct bpf_link *link;
	__u32 key = 0;

	if (!moat_ready())
		return;
	n = dom_make("dom_nest", maps, progs, 8);
	if (n < 8)
		goto out;
	if (bpf_map_update_elem(mcfg_fd, &key, &c, BPF_ANY)) {
		test_fail("cfg: %s", strerror(errno));
		goto out;
	}
	nokey0 = moat_file_value(MOAT_DOMAINS, "no_key");
	moves0 = moat_file_value(MOAT_DOMAINS, "key_moves");
	link = attach_isolated("kp_under_dom_lock");
	if (!link)
		goto out;
	/* Time for the kprobe to be optimized: a jump, not an int3 (NMI). */
	usleep(300 * 1000);
	for (i = 0; i < 4 * n; i++)
		if (dom_run(progs[i % n]) != 1)
			bad++;
	bpf_link__destroy(link);
	bpf_map_lookup_elem(mcfg_fd, &key, &c);
	test_info("%d domains in turn with kp_under_dom_lock attached: %lld key moves, kprobe runs made %llu, runs refused %lld",
		  n, moat_file_value(MOAT_DOMAINS, "key_moves") - moves0,
		  (unsigned long long)c.result,
		  moat_file_value(MOAT_DOMAINS, "no_key") - nokey0);
	ASSERT_EQ(bad, 0, "every domain's run made");
	ASSERT_TRUE(moat_file_value(MOAT_DOMAINS, "key_moves") - moves0 >= 4 * n,
		    "keys changed hands on each run");
	ASSERT_TRUE(moat_file_value(MOAT_DOMAINS, "no_key") > nokey0,
		    "kprobe runs under the lock refused");
	ASSERT_EQ(violations("kp_under_dom_lock"), 0, "no violation");
out:
	dom_close(maps, progs, n);
}

#define DOM_RELOADS	40

/*
 * Unload and reload under an interrupt storm.  A child sends interrupts,
 * NMIs and IPIs to both CPUs (the PKS self-test irq_storm) while, again
 * and again, a victim (a map and program of a domain of its own) is
 * loaded, run, attacked, and closed.  Each time the escaped map_write
 * writes the value of the victim loaded now and the address of the one
 * closed before (unmapped, or reused by a later allocation): every attack
 * ends the attacker with the safe verdict, and no victim's value changes.
 */
static void test_domains_reload_storm_isolated(void)
{
	unsigned int hit = 0, changed = 0, bad = 0;
	long long v0, runs0;
	__u64 prev = 0, v[2], after[2];
	int i, map, prog;
	pid_t storm;

	if (!moat_ready())
		return;
	storm = fork();
	if (storm == 0) {
		for (;;)
			if (moat_write_file(PKS_TEST_FILE, "irq_storm"))
				usleep(1000);
	}
	if (storm < 0) {
		test_fail("fork: %s", strerror(errno));
		return;
	}
	v0 = violations("map_write");
	runs0 = moat_file_value(MOAT_STATS, "runs");
	for (i = 0; i < DOM_RELOADS; i++) {
		__u64 targets[2];
		int t;

		if (dom_victim(&map, &prog, v)) {
			bad++;
			break;
		}
		targets[0] = v[0];
		targets[1] = prev ? prev : v[0];
		for (t = 0; t < 2; t++) {
			struct attack_cfg c = { .write_val = 0x6861636b6564ULL,
						.target = targets[t] };
			__u32 ret = 1;

			if (run_in(mobj, mcfg_fd, "map_write", &c, &ret))
				bad++;
			if (c.ran || ret)
				hit++;
		}
		dom_value(map, after);
		if (after[0] != v[0])
			changed++;
		if (dom_run(prog) != 1 || fdinfo(prog, "moat_violations"))
			bad++;
		prev = v[0];
		close(prog);
		close(map);
	}
	kill(storm, SIGKILL);
	waitpid(storm, NULL, 0);
	test_info("%d reloads under the storm: %u attacks not terminated, %u values changed, %u failures; violations %lld -> %lld, isolated runs %lld",
		  DOM_RELOADS, hit, changed, bad, v0, violations("map_write"),
		  moat_file_value(MOAT_STATS, "runs") - runs0);
	ASSERT_EQ(bad, 0, "every victim loaded, ran, no violation");
	ASSERT_EQ(hit, 0, "every attack terminated with the safe verdict");
	ASSERT_EQ(changed, 0, "no value changed");
	ASSERT_EQ(violations("map_write"), v0 + 2 * DOM_RELOADS,
		  "a violation per attack");
}

/* A helper of an isolated program reads its frozen .rodata: no violation. */
static void test_rodata_helper_read_isolated(void)
{
	int m = bpf_object__find_map_fd_by_name(mobj, "ro_copy");
	struct attack_cfg c = {};
	__u64 v = 0;
	__u32 key = 0, ret = 1;
	long long v0;

	if (!moat_ready())
		return;
	v0 = violations("rodata_copy");
	bpf_map_update_elem(m, &key, &v, BPF_ANY);
	ASSERT_OK(run_in(mobj, mcfg_fd, "rodata_copy", &c, &ret),
		  "rodata_copy");
	bpf_map_lookup_elem(m, &key, &v);
	test_info("bpf_map_update_elem(value = &ro_word), isolated: ran %llu, returned %lld, copied 0x%llx",
		  (unsigned long long)c.ran, (long long)c.result,
		  (unsigned long long)v);
	ASSERT_EQ(c.ran, 1, "program ran to the end");
	ASSERT_EQ(c.result, 0, "bpf_map_update_elem() succeeded");
	ASSERT_EQ(v, RO_WORD, "the helper read ro_word");
	ASSERT_EQ(violations("rodata_copy"), v0, "moat_violations");
}

/* Records rb_term delivered: how many, and the last one's word. */
struct rb_seen {
	int n;
	__u64 last;
};

static int rb_seen_sample(void *ctx, void *data, size_t size)
{
	struct rb_seen *s = ctx;

	s->n++;
	if (size >= 8)
		memcpy(&s->last, data, 8);
	return 0;
}

/*
 * Run rb_hold of @o twice: first with @target (a fault when isolated),
 * then without; what rb_term delivered goes to @seen.  0 or -1.
 */
static int rb_hold_runs(struct bpf_object *o, int map, __u64 target,
			struct attack_cfg *first, struct rb_seen *seen)
{
	int fd = bpf_object__find_map_fd_by_name(o, "rb_term");
	struct attack_cfg second = { .write_val = 0x5345434f4e44ULL };
	struct ring_buffer *rb;
	int err;

	memset(seen, 0, sizeof(*seen));
	rb = ring_buffer__new(fd, rb_seen_sample, seen, NULL);
	if (libbpf_get_error(rb)) {
		test_fail("ring buffer rb_term");
		return -1;
	}
	ring_buffer__consume(rb);
	memset(seen, 0, sizeof(*seen));
	first->target = target;
	first->write_val = 0x4649525354ULL;
	err = run_in(o, map, "rb_hold", first, NULL) ||
	      run_in(o, map, "rb_hold", &second, NULL);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	if (err) {
		test_fail("running rb_hold");
		return -1;
	}
	if (!second.ran) {
		test_fail("the second run of rb_hold did not get to the end");
		return -1;
	}
	return 0;
}

static void test_rb_reserve_terminated_moat_off(void)
{
	struct attack_cfg c = {};
	struct rb_seen seen;
	__u64 addr, val;

	if (!ready() || moat_canary(&addr, &val) ||
	    rb_hold_runs(obj, cfg_fd, addr, &c, &seen))
		return;
	test_info("MOAT off: first run ran %llu; %d records, the last 0x%llx",
		  (unsigned long long)c.ran, seen.n,
		  (unsigned long long)seen.last);
	ASSERT_EQ(c.ran, 1, "first run got to the end");
	ASSERT_EQ(seen.n, 2, "both records delivered");
	ASSERT_EQ(seen.last, 0x5345434f4e44ULL, "the second run's record last");
}

static void test_rb_reserve_terminated_moat_on(void)
{
	struct attack_cfg c = {};
	struct rb_seen seen;
	__u64 addr, val;
	long long v0;

	if (!moat_ready() || moat_canary(&addr, &val))
		return;
	v0 = violations("rb_hold");
	if (rb_hold_runs(mobj, mcfg_fd, addr, &c, &seen))
		return;
	test_info("MOAT on: first run ran %llu, violations %lld -> %lld; %d records, the last 0x%llx",
		  (unsigned long long)c.ran, v0, violations("rb_hold"), seen.n,
		  (unsigned long long)seen.last);
	ASSERT_EQ(c.ran, 0, "first run terminated");
	ASSERT_EQ(violations("rb_hold"), v0 + 1, "moat_violations");
	ASSERT_EQ(seen.n, 1, "the second run's record delivered, no other");
	ASSERT_EQ(seen.last, 0x5345434f4e44ULL, "the second run's record");
}

/*
 * Maps whose values hold kernel-trusted fields (escape.bpf.c's trusted_*):
 * isolated programs are refused them, and their values must be out of an
 * escaped isolated program's reach too.  trusted_addrs, a plain program,
 * uses them and gives the address of each value's data word, in the same
 * page as the lock, timer or kptr.
 */
static const char *const trusted_maps[] = {
	"trusted_lock_array", "trusted_timer_hash", "trusted_lock_hash",
	"trusted_kptr",
};

#define TRUSTED_VAL_MAX 4096

/* Run trusted_addrs of obj and fill @addr: 0, or -1 after a FAIL. */
static int trusted_addrs(__u64 *addr)
{
	struct attack_cfg c = {};
	__u32 key, zero = 0;
	__u64 val[2] = {};
	int i, m;

	for (i = 1; i <= 2; i++) {
		m = bpf_object__find_map_fd_by_name(obj, trusted_maps[i]);
		if (bpf_map_update_elem(m, &zero, val, BPF_NOEXIST) &&
		    errno != EEXIST) {
			test_fail("adding key 0 to %s: %s", trusted_maps[i],
				  strerror(errno));
			return -1;
		}
	}
	if (run("trusted_addrs", &c)) {
		test_fail("running trusted_addrs");
		return -1;
	}
	m = bpf_object__find_map_fd_by_name(obj, "trusted_out");
	for (key = 0; key < 4; key++) {
		if (bpf_map_lookup_elem(m, &key, &addr[key]) || !addr[key]) {
			test_fail("no address for %s", trusted_maps[key]);
			return -1;
		}
	}
	return 0;
}

/* The value of key 0 of trusted map @i (every CPU's if per-CPU). */
static int trusted_value(int i, unsigned char *buf)
{
	int m = bpf_object__find_map_fd_by_name(obj, trusted_maps[i]);
	__u32 key = 0;

	memset(buf, 0, TRUSTED_VAL_MAX);
	return bpf_map_lookup_elem(m, &key, buf) ? -errno : 0;
}

/*
 * Whether trusted map @m's value in @buf has data @v (one CPU's, if it is
 * per-CPU: 16-byte values, one per possible CPU).
 */
static int trusted_has(int m, const unsigned char *buf, __u64 v)
{
	int i, n = m == 3 ? libbpf_num_possible_cpus() : 1;
	size_t off = m == 1 ? 16 : 8;	/* after the timer, lock or kptr */
	__u64 d;

	for (i = 0; i < n; i++) {
		memcpy(&d, buf + 16 * i + off, sizeof(d));
		if (d == v)
			return 1;
	}
	return 0;
}

static void test_trusted_fields_moat_off(void)
{
	unsigned char buf[TRUSTED_VAL_MAX];
	__u64 addr[4];
	int i;

	if (!ready() || trusted_addrs(addr))
		return;
	for (i = 0; i < 4; i++) {
		struct attack_cfg c = { .target = addr[i],
					.write_val = 0x6861636b6564ULL + i };

		ASSERT_OK(run("map_write", &c), "map_write");
		ASSERT_OK(trusted_value(i, buf), trusted_maps[i]);
		test_info("map_write at %s's data word (0x%llx), MOAT off: ran %llu",
			  trusted_maps[i], (unsigned long long)addr[i],
			  (unsigned long long)c.ran);
		ASSERT_EQ(c.ran, 1, "attack program ran to the end");
		ASSERT_TRUE(trusted_has(i, buf, c.write_val),
			    "the value's data word overwritten");
	}
}

static void test_trusted_fields_moat_on(void)
{
	unsigned char before[TRUSTED_VAL_MAX], after[TRUSTED_VAL_MAX];
	__u64 addr[4];
	int i;

	if (!moat_ready() || trusted_addrs(addr))
		return;
	for (i = 0; i < 4; i++) {
		struct attack_cfg c = { .target = addr[i],
					.write_val = 0x6861636b6564ULL };
		long long v0 = violations("map_write");
		__u32 ret = 1;

		ASSERT_OK(trusted_value(i, before), trusted_maps[i]);
		ASSERT_OK(run_in(mobj, mcfg_fd, "map_write", &c, &ret),
			  "map_write");
		ASSERT_OK(trusted_value(i, after), trusted_maps[i]);
		test_info("map_write at %s's data word (0x%llx), MOAT on: ran %llu, verdict %u, violations %lld -> %lld",
			  trusted_maps[i], (unsigned long long)addr[i],
			  (unsigned long long)c.ran, ret, v0,
			  violations("map_write"));
		ASSERT_EQ(c.ran, 0, "attack program terminated before its end");
		ASSERT_EQ(ret, 0, "safe verdict of the terminated program");
		ASSERT_EQ(violations("map_write"), v0 + 1, "moat_violations");
		ASSERT_TRUE(!memcmp(before, after, sizeof(before)),
			    "the map's value unchanged");
	}
	/* The maps still work for the plain program that uses them. */
	ASSERT_OK(trusted_value(0, before), trusted_maps[0]);
	ASSERT_OK(trusted_addrs(addr), "trusted_addrs again");
	ASSERT_OK(trusted_value(0, after), trusted_maps[0]);
	ASSERT_EQ(*(__u64 *)(after + 8), *(__u64 *)(before + 8) + 1,
		  "trusted_addrs counted under its spin lock");
}

/*
 * trusted_kptr with a real kptr, { struct task_struct __kptr *task;
 * __u64 data; }, in BTF built here: the fd, or -errno.
 */
static int trusted_kptr_map(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct btf *btf = btf__new_empty();
	int i32, task, tag, ptr, u64, val, fd;

	if (!btf)
		return -ENOMEM;
	i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	task = btf__add_struct(btf, "task_struct", 4);
	btf__add_field(btf, "pid", i32, 0, 0);
	tag = btf__add_type_tag(btf, "kptr", task);
	ptr = btf__add_ptr(btf, tag);
	u64 = btf__add_int(btf, "unsigned long long", 8, 0);
	val = btf__add_struct(btf, "kptr_val", 16);
	btf__add_field(btf, "task", ptr, 0, 0);
	btf__add_field(btf, "data", u64, 64, 0);
	if (val < 0 || btf__load_into_kernel(btf)) {
		btf__free(btf);
		return -EINVAL;
	}
	opts.btf_fd = btf__fd(btf);
	opts.btf_key_type_id = i32;
	opts.btf_value_type_id = val;
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "trusted_kptr", 4, 16,
			    1, &opts);
	fd = fd < 0 ? -errno : fd;
	btf__free(btf);
	return fd;
}

/* --- runs that do not end */

/*
 * endless_loop with MOAT off: the verifier let through a loop it believes
 * runs once.  With write_val 0 it does run once.  With 1 a plain program
 * would keep its CPU in the kernel until reboot, so that run is not made;
 * the program's instructions as the verifier left them show the back edge
 * instead.
 */
static void test_endless_loop_moat_off(void)
{
	struct bpf_program *p;
	struct attack_cfg c = {};
	struct bpf_insn insns[512];
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), i, n, back = 0;
	__u8 cls;

	if (!ready())
		return;
	p = bpf_object__find_program_by_name(obj, "endless_loop");
	ASSERT_OK(run("endless_loop", &c), "run endless_loop, write_val 0");
	info.xlated_prog_insns = (__u64)(unsigned long)insns;
	info.xlated_prog_len = sizeof(insns);
	if (!p || bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len)) {
		test_fail("instructions of endless_loop: %s", strerror(errno));
		return;
	}
	n = info.xlated_prog_len / sizeof(insns[0]);
	for (i = 0; i < n && i < 512; i++) {
		cls = BPF_CLASS(insns[i].code);
		if ((cls == BPF_JMP || cls == BPF_JMP32) &&
		    BPF_OP(insns[i].code) != BPF_CALL &&
		    BPF_OP(insns[i].code) != BPF_EXIT && insns[i].off < 0)
			back++;
	}
	test_info("endless_loop, MOAT off, write_val 0: ran %llu, %llu laps; %u backward jumps in its %u instructions",
		  (unsigned long long)c.ran, (unsigned long long)c.result,
		  back, n);
	ASSERT_EQ(c.ran, 1, "program ran to the end");
	ASSERT_EQ(c.result, 1, "one lap");
	ASSERT_TRUE(back >= 1, "the loop's back edge is in the loaded program");
}

/*
 * endless_loop isolated with write_val 1: the run does not end by itself.
 * The lockup watchdog's timer on the other CPU finds that CPU in the same
 * run a whole period later and sends it an NMI, which ends the run as a
 * violation: the socket filter's safe verdict (0, not 1), the violation
 * counted, this test goes on.  With @word the program first sets its
 * CPU's "NMI executing" word, which would have that NMI dropped; an NMI
 * sent after the run must be delivered too.  With @inner, that program
 * runs nested in each of @prog's helper calls, and must not be ended;
 * with @endless, it and endless_inner2 do not end either, and the
 * watchdog must end both before it ends @prog.  A program the watchdog
 * ended is not run again: run once more, @prog returns the safe verdict
 * at once.  So each call loads its own copy of the object.
 */
/* @name of the isolated object attached, or NULL with a FAIL reported. */
static struct bpf_link *attach_isolated(const char *name)
{
	struct bpf_link *link = bpf_program__attach(
		bpf_object__find_program_by_name(mobj, name));

	if (libbpf_get_error(link)) {
		test_fail("attaching %s: %s", name, strerror(errno));
		return NULL;
	}
	return link;
}

/* Violations of @inner (and endless_inner2 if @both). */
static long long nested_viol(const char *inner, int both)
{
	return violations(inner) + (both ? violations("endless_inner2") : 0);
}

/* endless_nested_loop stops by itself after 40 s (no watchdog). */
#define NESTED_LOOP_NS		40000000000ULL
/* slow_nested's laps: tens of ms under TCG, the printk lap far less. */
#define NESTED_RUN_LAPS		10000000ULL


/* Whether the watchdog can end a run here; else SKIP or FAIL reported. */
static int watchdog_ready(void)
{
	if (!moat_ready())
		return 0;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		test_skip("the watchdog needs a second CPU");
		return 0;
	}
	if (moat_read_int("/proc/sys/kernel/soft_watchdog") != 1) {
		test_fail("the lockup watchdog is off (kernel.soft_watchdog)");
		return 0;
	}
	return 1;
}

/* Seconds from @t0 to @t1. */
static double seconds(const struct timespec *t0, const struct timespec *t1)
{
	return (t1->tv_sec - t0->tv_sec) + (t1->tv_nsec - t0->tv_nsec) / 1e9;
}

static void endless_loop_moat_on(const char *prog, int word,
				 const char *inner, int endless)
{
	struct attack_cfg c = { .write_val = 1 }, again = { .write_val = 1 };
	struct bpf_link *link = NULL, *link2 = NULL;
	struct bpf_object *saved = mobj, *own;
	int saved_fd = mcfg_fd;
	long long stopped;
	char err_text[256];
	__u32 ret_again = 1;
	char line[512], key[24];
	struct timespec t0, t1;
	long long v0, t, vi = 0;
	int err, after = 0;
	cpu_set_t all;
	__u32 ret = 1;
	__u64 cs;

	if (!watchdog_ready())
		return;
	own = load_isolated(err_text, sizeof(err_text));
	if (!own) {
		test_fail("%s", err_text);
		return;
	}
	mobj = own;
	mcfg_fd = bpf_object__find_map_fd_by_name(own, "cfg_map");
	if (pin_cpu0(&all))
		goto close;
	if (word) {
		if (moat_facility_addr(MOAT_NMI_FILE, &cs)) {
			test_fail("%s not readable", MOAT_NMI_FILE);
			goto out;
		}
		c.target = cs - 3 * 8;
	}
	if (inner) {
		/* The outer loop's own end; each nested run's laps. */
		c.target = NESTED_LOOP_NS;
		c.ctx_adjust = NESTED_RUN_LAPS;
		c.inner_ns = endless ? NESTED_LOOP_NS : 0;
		vi = violations(inner);
		link = attach_isolated(inner);
		if (!link)
			goto out;
		if (endless) {
			vi += violations("endless_inner2");
			link2 = attach_isolated("endless_inner2");
			if (!link2)
				goto out;
		}
	}
	v0 = violations(prog);
	t = moat_file_value(MOAT_STATS, "timeouts");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = run_in(mobj, mcfg_fd, prog, &c, &ret);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (word)
		after = nmi_send();
	if (link)
		bpf_link__destroy(link);
	if (link2)
		bpf_link__destroy(link2);
	link = link2 = NULL;
	test_info("%s, isolated%s: ran %llu, verdict %u, %llu laps, ended after %.1f s%s",
		  prog, word ? ", \"NMI executing\" set" : "",
		  (unsigned long long)c.ran, ret, (unsigned long long)c.result,
		  seconds(&t0, &t1),
		  word ? (after ? "; the NMI after it lost" :
			  "; the NMI after it delivered") : "");
	if (inner)
		test_info("%s%s: %llu runs nested in its helper calls, %lld violations",
			  inner, endless ? " and endless_inner2" : "",
			  (unsigned long long)c.scratch,
			  nested_viol(inner, endless) - vi);
	/* The kernel log names the program by its first 15 characters. */
	snprintf(key, sizeof(key), "'%.15s'", prog);
	log_scan("/dev/kmsg", 1, key, "still running", line, sizeof(line));
	test_info("%s: %s", prog, line);
	ASSERT_OK(err, prog);
	ASSERT_EQ(c.ran, 0, "terminated before its end");
	ASSERT_EQ(ret, 0, "safe verdict (drop)");
	/* With endless nested runs, the first lap is also the last. */
	ASSERT_TRUE(endless || c.result > 1, "it looped");
	ASSERT_EQ(violations(prog), v0 + 1, "moat_violations");
	ASSERT_EQ(moat_file_value(MOAT_STATS, "timeouts"),
		  t + 1 + (endless ? nested_viol(inner, 1) - vi : 0),
		  "runs the watchdog ended (stats: timeouts)");
	if (word)
		ASSERT_OK(after, "an NMI to this CPU after the run");
	/* Not run again. */
	stopped = moat_file_value(MOAT_STATS, "stopped");
	v0 = violations(prog);
	ASSERT_OK(run_in(mobj, mcfg_fd, prog, &again, &ret_again), prog);
	ASSERT_EQ(again.result, 0, "run again: not run (no lap)");
	ASSERT_EQ(ret_again, 0, "run again: safe verdict");
	ASSERT_EQ(moat_file_value(MOAT_STATS, "stopped"), stopped + 1,
		  "run again: counted (stats: stopped)");
	ASSERT_EQ(violations(prog), v0, "run again: no violation");
	if (inner && !endless) {
		ASSERT_TRUE(c.scratch >= 2 && c.scratch + 1 >= c.result,
			    "the nested program ran in (nearly) every lap");
		ASSERT_EQ(violations(inner), vi, "nested runs not ended");
	} else if (inner) {
		ASSERT_EQ(nested_viol(inner, 1) - vi, 2,
			  "the nested runs the watchdog ended: both");
		ASSERT_EQ(c.scratch, 2, "nested runs");
	}
out:
	if (link)
		bpf_link__destroy(link);
	if (link2)
		bpf_link__destroy(link2);
	sched_setaffinity(0, sizeof(all), &all);
close:
	mobj = saved;
	mcfg_fd = saved_fd;
	bpf_object__close(own);
}

static void test_endless_loop_moat_on(void)
{
	endless_loop_moat_on("endless_loop", 0, NULL, 0);
}

static void test_endless_loop_nmi_word_moat_on(void)
{
	endless_loop_moat_on("endless_loop", 1, NULL, 0);
}

/*
 * A loop that spends nearly all of its time in a helper: the NMI finds it
 * there, and the gate ends it when the helper returns.  (Before, only an
 * NMI that landed in its few BPF instructions ended it, a period apart.)
 */
static void test_endless_helper_loop_moat_on(void)
{
	endless_loop_moat_on("endless_helper_loop", 0, NULL, 0);
}

/*
 * A loop whose helper runs another isolated program each lap, which takes
 * far longer than the lap: the watchdog's timers nearly always find a new
 * innermost run, but the same outermost one.  Before, only the innermost
 * was compared, and the loop ran until it stopped itself (NESTED_LOOP_NS,
 * verdict 1); now the gate ends it when a printk returns.
 */
static void test_endless_nested_loop_moat_on(void)
{
	endless_loop_moat_on("endless_nested_loop", 0, "slow_nested", 0);
}

/*
 * A loop whose helper runs endless isolated programs (two, as a program
 * the watchdog ended is not run again): the watchdog ends the first,
 * which spares the loop once (it may have been a victim of it); when it
 * has had to end the second, it ends the loop too.  Before, the loop went
 * on for ever, a new endless program at each lap.
 */
static void test_endless_nested_endless_moat_on(void)
{
	endless_loop_moat_on("endless_nested_loop", 0, "endless_inner", 1);
}

/*
 * Three levels: nested_victim, a socket filter that does not loop, calls
 * bpf_probe_read_kernel() once; endless_kprobe_loop, on a kprobe in that
 * call, loops over bpf_trace_printk() without end; slow_nested runs in
 * each printk, longer than the lap.  The timers nearly always find a new
 * innermost run and the victim outermost: the loop in the middle must be
 * ended, and neither the victim (verdict 1, no violation) nor the nested
 * runs.
 */
static void test_endless_middle_loop_moat_on(void)
{
	struct attack_cfg c = {
		.write_val = 1, .target = NESTED_LOOP_NS,
		.ctx_adjust = NESTED_RUN_LAPS, .pid = getpid(),
	};
	struct bpf_link *kp = NULL, *tp = NULL;
	long long v[3], t;
	struct timespec t0, t1;
	cpu_set_t all;
	__u32 ret = 0;
	int err;

	if (!watchdog_ready() || pin_cpu0(&all))
		return;
	kp = attach_isolated("endless_kprobe_loop");
	tp = kp ? attach_isolated("slow_nested") : NULL;
	if (!tp)
		goto out;
	v[0] = violations("nested_victim");
	v[1] = violations("endless_kprobe_loop");
	v[2] = violations("slow_nested");
	t = moat_file_value(MOAT_STATS, "timeouts");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = run_in(mobj, mcfg_fd, "nested_victim", &c, &ret);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	test_info("nested_victim: verdict %u; endless_kprobe_loop in it: ran %llu, %llu laps, ended after %.1f s; slow_nested: %llu runs; violations %lld, %lld, %lld",
		  ret, (unsigned long long)c.ran, (unsigned long long)c.result,
		  seconds(&t0, &t1),
		  (unsigned long long)c.scratch,
		  violations("nested_victim") - v[0],
		  violations("endless_kprobe_loop") - v[1],
		  violations("slow_nested") - v[2]);
	ASSERT_OK(err, "nested_victim");
	ASSERT_TRUE(c.result > 1, "the middle program looped");
	ASSERT_EQ(c.ran, 0, "the middle program terminated before its end");
	ASSERT_EQ(violations("endless_kprobe_loop"), v[1] + 1,
		  "moat_violations of the middle program");
	ASSERT_EQ(moat_file_value(MOAT_STATS, "timeouts"), t + 1,
		  "runs the watchdog ended (stats: timeouts)");
	ASSERT_EQ(ret, 1, "the victim's own verdict");
	ASSERT_EQ(violations("nested_victim"), v[0], "the victim not ended");
	ASSERT_EQ(violations("slow_nested"), v[2], "nested runs not ended");
out:
	if (tp)
		bpf_link__destroy(tp);
	if (kp)
		bpf_link__destroy(kp);
	sched_setaffinity(0, sizeof(all), &all);
}

/* Open and load escape.bpf.o, its kptr map made by trusted_kptr_map(). */
static struct bpf_object *load_plain(char *err, size_t errlen)
{
	struct bpf_object *o;
	int ret, fd;

	o = bpf_object__open_file(smoke_obj_path("attack", "escape"), NULL);
	ret = libbpf_get_error(o);
	if (ret) {
		snprintf(err, errlen, "opening escape.bpf.o: %s", strerror(-ret));
		return NULL;
	}
	fd = trusted_kptr_map();
	ret = fd < 0 ? fd :
	      bpf_map__reuse_fd(bpf_object__find_map_by_name(o,
				"trusted_kptr"), fd);
	if (!ret)
		ret = bpf_object__load(o);
	if (fd >= 0)
		close(fd);
	if (ret) {
		snprintf(err, errlen, "loading escape.bpf.o: %s",
			 strerror(-ret));
		bpf_object__close(o);
		return NULL;
	}
	return o;
}

static struct bpf_object *load_isolated(char *err, size_t errlen)
{
	struct bpf_object *o;
	int ret;

	o = bpf_object__open_file(smoke_obj_path("attack", "escape"), NULL);
	ret = libbpf_get_error(o);
	if (ret) {
		snprintf(err, errlen, "opening escape.bpf.o: %s", strerror(-ret));
		return NULL;
	}
	moat_isolate_object(o);
	/* It uses maps isolated programs are refused; only ever plain. */
	bpf_program__set_autoload(bpf_object__find_program_by_name(o,
			"trusted_addrs"), false);
	if (moat_set_mode("1")) {
		snprintf(err, errlen, "cannot write " MOAT_SYSCTL);
		bpf_object__close(o);
		return NULL;
	}
	ret = bpf_object__load(o);
	moat_set_mode("0");
	if (ret) {
		snprintf(err, errlen, "loading escape.bpf.o isolated: %s",
			 strerror(-ret));
		bpf_object__close(o);
		return NULL;
	}
	return o;
}

int main(void)
{
	__u64 addr, val;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (moat_canary(&addr, &val))
		snprintf(setup_err, sizeof(setup_err),
			 "%s not readable: is CONFIG_BPF_MOAT_TEST on?", MOAT_CANARY);
	else if (!(obj = load_plain(setup_err, sizeof(setup_err))))
		;
	else
		cfg_fd = bpf_object__find_map_fd_by_name(obj, "cfg_map");
	if (cpu_has_pks() && !setup_err[0]) {
		mobj = load_isolated(msetup_err, sizeof(msetup_err));
		if (mobj)
			mcfg_fd = bpf_object__find_map_fd_by_name(mobj,
								  "cfg_map");
	}

	RUN_TEST("attack", test_escape_returns_runtime_value);
	RUN_TEST("attack", test_map_oob_read_moat_off);
	RUN_TEST("attack", test_map_oob_write_moat_off);
	RUN_TEST("attack", test_hash_oob_read_moat_off);
	RUN_TEST("attack", test_nopre_hash_oob_read_moat_off);
	RUN_TEST("attack", test_lpm_oob_read_moat_off);
	RUN_TEST("attack", test_rb_oob_read_moat_off);
	RUN_TEST("attack", test_stack_oob_read_moat_off);
	RUN_TEST("attack", test_stack_oob_write_moat_off);
	RUN_TEST("attack", test_ctx_oob_read_moat_off);
	RUN_TEST("attack", test_pkt_oob_read_moat_off);
	RUN_TEST("attack", test_dev_canary_moat_off);
	RUN_TEST("attack", test_dev_canary_moat_on);
	RUN_TEST("attack", test_window_cleared_for_device_isolated);
	RUN_TEST("attack", test_stack_cleared_after_run_isolated);
	RUN_TEST("attack", test_stack_cleared_after_division_isolated);
	RUN_TEST("attack", test_stack_cleared_after_violation_isolated);
	RUN_TEST("attack", test_nmi_frames_cleared_isolated);
	RUN_TEST("attack", test_db_user_regs_cleared_isolated);
	RUN_TEST("attack", test_sa_canary_moat_off);
	RUN_TEST("attack", test_sa_canary_moat_on);
	RUN_TEST("attack", test_sock_canary_moat_off);
	RUN_TEST("attack", test_sock_canary_moat_on);
	RUN_TEST("attack", test_pkt_ro_write_moat_off);
	RUN_TEST("attack", test_cb_forge_moat_off);
	RUN_TEST("attack", test_nmi_stack_moat_off);
	RUN_TEST("attack", test_db_stack_moat_off);
	RUN_TEST("attack", test_gate_hijack_moat_off);
	RUN_TEST("attack", test_isolated_programs_loaded);
	RUN_TEST("attack", test_escape_value_isolated);
	RUN_TEST("attack", test_map_oob_read_moat_on);
	RUN_TEST("attack", test_map_oob_write_moat_on);
	RUN_TEST("attack", test_hash_oob_read_moat_on);
	RUN_TEST("attack", test_nopre_hash_oob_read_moat_on);
	RUN_TEST("attack", test_lpm_oob_read_moat_on);
	RUN_TEST("attack", test_rb_oob_read_moat_on);
	RUN_TEST("attack", test_rb_forged_header_moat_on);
	RUN_TEST("attack", test_rb_forged_address_moat_on);
	RUN_TEST("attack", test_rb_forged_stack_header_moat_on);
	RUN_TEST("attack", test_rb_forged_length_moat_on);
	RUN_TEST("attack", test_stack_oob_read_moat_on);
	RUN_TEST("attack", test_stack_oob_write_moat_on);
	RUN_TEST("attack", test_ctx_oob_read_moat_on);
	RUN_TEST("attack", test_pkt_oob_read_moat_on);
	RUN_TEST("attack", test_pkt_ro_write_moat_on);
	RUN_TEST("attack", test_pkt_ro_write_copied_moat_on);
	RUN_TEST("attack", test_cb_forge_moat_on);
	RUN_TEST("attack", test_tail_call_isolated_refused);
	RUN_TEST("attack", test_fentry_on_isolated_refused);
	RUN_TEST("attack", test_raw_tcp_sock_copy_moat_on);
	RUN_TEST("attack", test_sk_prot_read_moat_off);
	RUN_TEST("attack", test_sk_prot_read_moat_on);
	RUN_TEST("attack", test_tp_regs_read_moat_off);
	RUN_TEST("attack", test_tp_regs_read_moat_on);
	RUN_TEST("attack", test_kprobe_regs_other_cpu_moat_on);
	RUN_TEST("attack", test_helper_deputy_moat_off);
	RUN_TEST("attack", test_helper_deputy_moat_on);
	RUN_TEST("attack", test_helper_load_bytes_dst_moat_off);
	RUN_TEST("attack", test_helper_load_bytes_dst_moat_on);
	RUN_TEST("attack", test_helper_update_src_moat_off);
	RUN_TEST("attack", test_helper_update_src_moat_on);
	RUN_TEST("attack", test_helper_lookup_key_moat_off);
	RUN_TEST("attack", test_helper_lookup_key_moat_on);
	RUN_TEST("attack", test_helper_ringbuf_output_moat_off);
	RUN_TEST("attack", test_helper_ringbuf_output_moat_on);
	RUN_TEST("attack", test_helper_perf_output_moat_off);
	RUN_TEST("attack", test_helper_perf_output_moat_on);
	RUN_TEST("attack", test_helper_probe_read_dst_moat_off);
	RUN_TEST("attack", test_helper_probe_read_dst_moat_on);
	RUN_TEST("attack", test_helper_forged_size_moat_off);
	RUN_TEST("attack", test_helper_forged_size_moat_on);
	RUN_TEST("attack", test_helper_adjust_tail_moat_off);
	RUN_TEST("attack", test_helper_adjust_tail_moat_on);
	RUN_TEST("attack", test_helper_cop_map_ops_moat_off);
	RUN_TEST("attack", test_helper_cop_map_ops_moat_on);
	RUN_TEST("attack", test_helper_cop_seq_info_moat_off);
	RUN_TEST("attack", test_helper_cop_seq_info_moat_on);
	RUN_TEST("attack", test_probe_read_critical_moat_off);
	RUN_TEST("attack", test_probe_read_critical_moat_on);
	RUN_TEST("attack", test_nmi_nested_isolated);
	RUN_TEST("attack", test_nmi_executing_word_moat_off);
	RUN_TEST("attack", test_nmi_executing_word_moat_on);
	RUN_TEST("attack", test_rb_reserve_terminated_moat_off);
	RUN_TEST("attack", test_rb_reserve_terminated_moat_on);
	RUN_TEST("attack", test_rodata_write_moat_off);
	RUN_TEST("attack", test_rodata_write_moat_on);
	RUN_TEST("attack", test_plain_map_write_moat_off);
	RUN_TEST("attack", test_plain_map_write_moat_on);
	RUN_TEST("attack", test_other_domain_write_moat_off);
	RUN_TEST("attack", test_other_domain_write_moat_on);
	RUN_TEST("attack", test_other_domain_read_moat_off);
	RUN_TEST("attack", test_other_domain_read_moat_on);
	RUN_TEST("attack", test_domains_shared_isolated);
	RUN_TEST("attack", test_domains_split_isolated);
	RUN_TEST("attack", test_domains_park_timeout);
	RUN_TEST("attack", test_domains_split_under_runs);
	RUN_TEST("attack", test_domains_too_many_refused);
	RUN_TEST("attack", test_domains_many_isolated);
	RUN_TEST("attack", test_domain_key_taken_isolated);
	RUN_TEST("attack", test_domains_nested_in_take);
	RUN_TEST("attack", test_domains_reload_storm_isolated);
	RUN_TEST("attack", test_rodata_helper_write_moat_off);
	RUN_TEST("attack", test_rodata_helper_write_moat_on);
	RUN_TEST("attack", test_rodata_helper_read_isolated);
	RUN_TEST("attack", test_trusted_fields_moat_off);
	RUN_TEST("attack", test_trusted_fields_moat_on);
	RUN_TEST("attack", test_user_addr_read_moat_on);
	RUN_TEST("attack", test_nmi_isolated_run);
	RUN_TEST("attack", test_nmi_stack_moat_on);
	RUN_TEST("attack", test_db_stack_moat_on);
	RUN_TEST("attack", test_nmi_isolated_in_windows);
	RUN_TEST("attack", test_return_address_write_moat_on);
	RUN_TEST("attack", test_gate_hijack_moat_on);
	RUN_TEST("attack", test_fault_stack_spray_moat_on);
	RUN_TEST("attack", test_violation_reported);
	RUN_TEST("attack", test_endless_loop_moat_off);
	RUN_TEST("attack", test_endless_loop_moat_on);
	RUN_TEST("attack", test_nmi_regs_cleared_isolated);
	RUN_TEST("attack", test_endless_loop_nmi_word_moat_on);
	RUN_TEST("attack", test_endless_helper_loop_moat_on);
	RUN_TEST("attack", test_endless_nested_loop_moat_on);
	RUN_TEST("attack", test_endless_middle_loop_moat_on);
	RUN_TEST("attack", test_endless_nested_endless_moat_on);
	/* Last: a kernel without the gate's map check does not survive them. */
	RUN_TEST("attack", test_helper_fake_map_moat_on);
	RUN_TEST("attack", test_helper_wrong_map_moat_on);
	RUN_TEST("attack", test_helper_null_sized_moat_on);
	if (mobj)
		bpf_object__close(mobj);
	if (obj)
		bpf_object__close(obj);
	return test_exit();
}
