// SPDX-License-Identifier: GPL-2.0
/*
 * Verifier-escape attacks, MOAT off: proof that the attacks are real.
 *
 * Each program in escape.bpf.c passes the verifier, then uses the test
 * kernel's bpf_moat_test_escape() (CONFIG_BPF_MOAT_TEST) to move a pointer
 * the verifier trusts onto the kernel canary in moat_test/canary.  With
 * kernel.bpf_moat=0 each attack must really read the canary's value or
 * overwrite it: the same programs are what MOAT has to contain once
 * isolation exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "test.h"
#include "bpfobj.h"

#define CANARY "/sys/kernel/debug/moat_test/canary"

struct attack_cfg {
	__u64 target;
	__u64 write_val;
	__u64 ctx_adjust;
	__u64 result;
	__u64 scratch;
	__u64 ran;
};

static struct bpf_object *obj;
static int cfg_fd = -1;
static char setup_err[256];

/* Address and value of the canary; 0 on success. */
static int canary(__u64 *addr, __u64 *val)
{
	char buf[80] = "";
	int fd = open(CANARY, O_RDONLY), n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || sscanf(buf, "%llx %llx", addr, val) != 2)
		return -EINVAL;
	return 0;
}

static int set_canary(__u64 val)
{
	char buf[32];
	int fd = open(CANARY, O_WRONLY), n;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "0x%llx", val);
	n = write(fd, buf, n) == n ? 0 : -errno;
	close(fd);
	return n;
}

/* Offset of member @member in kernel struct @type, from vmlinux BTF. */
static long long btf_offset(const char *type, const char *member)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_member *m;
	const struct btf_type *t;
	long long off = -1;
	int id, i;

	if (!btf)
		return -1;
	id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (i = 0, m = t ? btf_members(t) : NULL; t && i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			off = btf_member_bit_offset(t, i) / 8;
	btf__free(btf);
	return off;
}

/* Run program @name once on a 64-byte packet with @cfg; 0 or -errno. */
static int run(const char *name, struct attack_cfg *cfg)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);
	unsigned char pkt[64] = { [12] = 0x08 };	/* IPv4 ethertype */
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt,
		.data_size_in = sizeof(pkt),
		.repeat = 1,
	);
	__u32 key = 0;
	int err;

	if (!prog)
		return -ENOENT;
	cfg->ran = 0;
	if (bpf_map_update_elem(cfg_fd, &key, cfg, BPF_ANY))
		return -errno;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (err)
		return err;
	return bpf_map_lookup_elem(cfg_fd, &key, cfg) ? -errno : 0;
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
	ASSERT_OK(canary(&addr, &val), "read " CANARY);
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

static void test_map_oob_write_moat_off(void)
{
	struct attack_cfg c = { .write_val = 0x6861636b6564ULL };
	__u64 addr, before, after;

	if (!ready())
		return;
	ASSERT_OK(canary(&addr, &before), "read " CANARY);
	c.target = addr;
	ASSERT_OK(run("map_write", &c), "map_write");
	ASSERT_OK(canary(&addr, &after), "read " CANARY " again");
	set_canary(before);
	test_info("map_write, MOAT off: canary 0x%llx -> 0x%llx",
		  (unsigned long long)before, (unsigned long long)after);
	ASSERT_EQ(c.ran, 1, "attack program ran to the end");
	ASSERT_EQ(after, c.write_val, "canary after the write attack (MOAT off)");
}

int main(void)
{
	__u64 addr, val;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (canary(&addr, &val))
		snprintf(setup_err, sizeof(setup_err),
			 "%s not readable: is CONFIG_BPF_MOAT_TEST on?", CANARY);
	else if (!(obj = smoke_load_suite("attack", "escape", setup_err,
					  sizeof(setup_err))))
		;
	else
		cfg_fd = bpf_object__find_map_fd_by_name(obj, "cfg_map");

	RUN_TEST("attack", test_escape_returns_runtime_value);
	RUN_TEST("attack", test_map_oob_read_moat_off);
	RUN_TEST("attack", test_map_oob_write_moat_off);
	RUN_TEST("attack", test_stack_oob_read_moat_off);
	RUN_TEST("attack", test_ctx_oob_read_moat_off);
	RUN_TEST("attack", test_pkt_oob_read_moat_off);
	if (obj)
		bpf_object__close(obj);
	return test_exit();
}
