// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin (QEMU 7.2, plugin API version 1) that counts the
 * guest kernel instructions executed per translation block, for finding
 * where MOAT's instructions go (scripts/bench-profile.sh symbolises the
 * output with the kernel's symbol table).
 *
 *	qemu-system-x86_64 ... -plugin insn-profile.so,arg=OUT
 *
 * OUT gets one line per block start address: "address instructions".  A
 * REP-prefixed string instruction counts once per iteration, as -icount
 * counts it.  Kernel addresses only; one vCPU (the counters are not
 * atomic).
 *
 * The few plugin API declarations it needs are written out here, so it
 * builds without QEMU's source tree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;

enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define SLOTS (1u << 20)		/* distinct block addresses */

static struct block {
	uint64_t vaddr, insns;
} *blocks;
static const char *out_path;
static unsigned long used;

static struct block *lookup(uint64_t vaddr)
{
	uint64_t h = (vaddr * 0x9e3779b97f4a7c15ull) >> 44;
	unsigned long i;

	for (i = 0; i < SLOTS; i++) {
		struct block *b = &blocks[(h + i) & (SLOTS - 1)];

		if (b->vaddr == vaddr)
			return b;
		if (!b->vaddr) {
			if (used + 1 >= SLOTS / 2)
				return NULL;
			used++;
			b->vaddr = vaddr;
			return b;
		}
	}
	return NULL;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	struct block *b;

	if (vaddr < 0xffff800000000000ull)
		return;
	b = lookup(vaddr);
	if (b)
		qemu_plugin_register_vcpu_tb_exec_inline(tb,
			QEMU_PLUGIN_INLINE_ADD_U64, &b->insns,
			qemu_plugin_tb_n_insns(tb));
}

static void finished(qemu_plugin_id_t id, void *data)
{
	FILE *f = fopen(out_path, "w");
	unsigned long i;

	if (!f) {
		perror(out_path);
		return;
	}
	for (i = 0; i < SLOTS; i++)
		if (blocks[i].insns)
			fprintf(f, "%llx %llu\n",
				(unsigned long long)blocks[i].vaddr,
				(unsigned long long)blocks[i].insns);
	fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "insn-profile: usage: -plugin insn-profile.so,arg=OUTFILE\n");
		return -1;
	}
	out_path = argv[0];
	if (!strncmp(out_path, "out=", 4))
		out_path += 4;
	blocks = calloc(SLOTS, sizeof(*blocks));
	if (!blocks)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, finished, NULL);
	fprintf(stderr, "insn-profile: writing %s at exit\n", out_path);
	return 0;
}
