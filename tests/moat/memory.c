// SPDX-License-Identifier: GPL-2.0
/*
 * MOAT BPF memory: array maps live in it, isolated programs run with it,
 * and all of it goes back when they are gone.
 *
 * Loads and unloads 10,000 isolated programs, each with its own array map
 * (BPF memory), and checks that MOAT's page count
 * (/sys/kernel/debug/bpf_moat/memory) rises while they exist and returns
 * exactly to where it started; the same for the value pools of maps that
 * allocate on demand (hash maps without preallocation, LPM tries).  Also
 * checks that an mmapable array in BPF memory still maps to user space and
 * shares its values with programs, and that only the maps the policy puts
 * there are in BPF memory: created under kernel.bpf_moat=2, or under 1
 * with BPF_F_MOAT (map_policy_*).
 * Skipped on a CPU without PKS, where there is no BPF memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "test.h"
#include "bpfobj.h"
#include "moat.h"

#ifndef BPF_F_MMAPABLE
#define BPF_F_MMAPABLE	(1U << 10)
#endif

#define ROUNDS		10000
#define HELD		64	/* alive at once, to see the count rise */

static long long moat_pages(void)
{
	return moat_file_value(MOAT_MEMORY, "pages");
}

/*
 * An isolated socket filter that increments the first u64 of @map (an
 * array with one entry: direct value access) and returns the new value:
 * fd or -errno.
 */
static int load_with_map(int map)
{
	struct bpf_insn insns[] = {
		/* r2 = &value[0] (direct value access) */
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 2,
		  .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = map },
		{ .imm = 0 },
		/* r0 = *(u64 *)r2; *(u64 *)r2 = r0 + 1; exit with r0 */
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 0, .src_reg = 2 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 2, .src_reg = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = BPF_F_MOAT);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "moat_mem", "GPL",
			   insns, sizeof(insns) / sizeof(insns[0]), &opts);
	return fd < 0 ? -errno : fd;
}

/* Run @prog once on a small packet: its return value, or -errno. */
static long long run_once(int prog)
{
	unsigned char pkt[64] = { [12] = 0x08 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	int err = bpf_prog_test_run_opts(prog, &opts);

	return err ? -errno : (long long)opts.retval;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Wait for deferred frees (maps after an RCU grace period and a work item,
 * programs after RCU) to bring the page count to @want, or, with @want
 * negative, to stop changing.
 */
static long long settle(long long want)
{
	long long pages = moat_pages(), prev = -1;
	int i;

	for (i = 0; i < 200; i++) {
		if (want >= 0 ? pages == want : pages == prev)
			break;
		usleep(want >= 0 ? 100 * 1000 : 300 * 1000);
		prev = pages;
		pages = moat_pages();
	}
	return pages;
}

static int ready(void)
{
	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return 0;
	}
	if (moat_pages() < 0) {
		test_fail("%s not readable", MOAT_MEMORY);
		return 0;
	}
	return 1;
}

static void test_isolated_program_uses_array(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, moat, .map_flags = BPF_F_MOAT);
	int map, prog, err;
	__u64 val = 41;
	__u32 key = 0;

	if (!ready())
		return;
	ASSERT_OK(moat_set_mode("1"), "writing 1");
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "moat_arr", 4, 8, 1, &moat);
	if (map < 0)
		moat_set_mode("0");
	ASSERT_OK(map, "creating an array map");
	ASSERT_OK(bpf_map_update_elem(map, &key, &val, BPF_ANY), "update");
	prog = load_with_map(map);
	moat_set_mode("0");
	if (prog < 0) {
		close(map);
		ASSERT_OK(prog, "loading an isolated program using the map");
	}
	err = 0;
	if (fdinfo(prog, "moat_isolated") != 1)
		err = -1;
	val = run_once(prog);
	bpf_map_lookup_elem(map, &key, &val);
	close(prog);
	close(map);
	ASSERT_EQ(err, 0, "program isolated");
	ASSERT_EQ(val, 42, "map value after one isolated run");
}

static void test_mmapable_array_in_moat_memory(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts,
		    .map_flags = BPF_F_MMAPABLE | BPF_F_MOAT);
	volatile __u64 *p;
	int map, prog;
	long long ret;

	if (!ready())
		return;
	ASSERT_OK(moat_set_mode("1"), "writing 1");
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "moat_mmap", 4, 8, 1,
			     &mopts);
	moat_set_mode("0");
	ASSERT_OK(map, "creating an mmapable array map");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, map, 0);
	if (p == MAP_FAILED) {
		close(map);
		test_fail("mmap of the array: %s", strerror(errno));
		return;
	}
	p[0] = 1000;
	ASSERT_OK(moat_set_mode("1"), "writing 1");
	prog = load_with_map(map);
	moat_set_mode("0");
	ret = prog >= 0 ? run_once(prog) : prog;
	if (prog >= 0)
		close(prog);
	ASSERT_EQ(ret, 1001, "isolated program's view of the user write");
	ASSERT_EQ(p[0], 1001, "user's view of the program's write");
	munmap((void *)p, 4096);
	close(map);
}

static void test_10000_programs_and_maps_freed(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, moat, .map_flags = BPF_F_MOAT);
	int maps[HELD], progs[HELD];
	long long start, peak = 0, end;
	double t0;
	int i, j, n = 0;

	if (!ready())
		return;
	start = settle(-1);
	ASSERT_OK(moat_set_mode("1"), "writing 1");
	t0 = now();
	for (i = 0; i < ROUNDS; i += HELD) {
		for (j = 0; j < HELD && i + j < ROUNDS; j++) {
			maps[j] = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4,
						 256, 1, &moat);
			progs[j] = maps[j] < 0 ? -1 : load_with_map(maps[j]);
			if (maps[j] < 0 || progs[j] < 0) {
				test_fail("round %d: map %d, program %d (%s)",
					  i + j, maps[j], progs[j],
					  strerror(errno));
				break;
			}
			n++;
		}
		if (peak < moat_pages())
			peak = moat_pages();
		if (i == 0 && fdinfo(progs[0], "moat_isolated") != 1)
			test_fail("program not isolated");
		while (j-- > 0) {
			if (progs[j] >= 0)
				close(progs[j]);
			if (maps[j] >= 0)
				close(maps[j]);
		}
		if (test_cur.failed)
			break;
	}
	moat_set_mode("0");
	end = settle(start);
	test_info("%d isolated programs with maps in %.1f s; MOAT pages %lld -> peak %lld -> %lld",
		  n, now() - t0, start, peak, end);
	if (test_cur.failed)
		return;
	ASSERT_EQ(n, ROUNDS, "programs and maps loaded");
	ASSERT_GE(peak, start + HELD, "MOAT pages while they exist");
	ASSERT_EQ(end, start, "MOAT pages after all are gone");
}

/*
 * Maps that allocate on demand (hash and per-CPU hash with
 * BPF_F_NO_PREALLOC, LPM trie) take their values' BPF memory as one pool
 * when they are created: the count rises by at least the values' size,
 * element churn does not change it, and it returns when the maps go.
 */
static void test_pooled_maps_freed(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, nopre,
		    .map_flags = BPF_F_NO_PREALLOC | BPF_F_MOAT);
	struct { __u32 prefixlen, addr; } lkey = { 32, 0 };
	long long start, full, churned, end;
	int maps[3], i, k, n = 0;
	char val[256] = "moat";
	const int entries = 1000;

	if (!ready())
		return;
	start = settle(-1);
	ASSERT_OK(moat_set_mode("1"), "writing 1");
	maps[0] = bpf_map_create(BPF_MAP_TYPE_HASH, "moat_nopre", 4,
				 sizeof(val), entries, &nopre);
	maps[1] = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "moat_nopre_pc", 4,
				 sizeof(val), entries, &nopre);
	maps[2] = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "moat_lpm", 8,
				 sizeof(val), entries, &nopre);
	moat_set_mode("0");
	for (i = 0; i < 3; i++)
		if (maps[i] < 0)
			test_fail("creating map %d: %s", i, strerror(errno));
	full = moat_pages();
	/* Fill every map, empty it, fill it again. */
	for (k = 0; k < 2 * entries && !test_cur.failed; k++) {
		__u32 key = k % entries;

		lkey.addr = key;
		if (bpf_map_update_elem(maps[0], &key, val, BPF_NOEXIST) ||
		    bpf_map_update_elem(maps[2], &lkey, val, BPF_NOEXIST))
			test_fail("insert %d: %s", k, strerror(errno));
		if (k % entries == entries - 1 && k < entries)
			for (key = 0; key < (__u32)entries; key++) {
				lkey.addr = key;
				bpf_map_delete_elem(maps[0], &key);
				bpf_map_delete_elem(maps[2], &lkey);
			}
		n++;
	}
	churned = moat_pages();
	for (i = 0; i < 3; i++)
		if (maps[i] >= 0)
			close(maps[i]);
	end = settle(start);
	test_info("MOAT pages %lld -> %lld with 3 maps of %d entries -> %lld after %d inserts -> %lld",
		  start, full, entries, churned, n, end);
	if (test_cur.failed)
		return;
	/* hash + LPM: 1000 values of 256 bytes each = 63 pages at least */
	ASSERT_GE(full, start + 2 * (entries * (long long)sizeof(val) / 4096),
		  "MOAT pages with the maps created");
	ASSERT_EQ(churned, full, "MOAT pages after filling twice");
	ASSERT_EQ(end, start, "MOAT pages after the maps are gone");
}

/*
 * One policy case: an array of 64 KiB created under kernel.bpf_moat=@mode
 * with @flags has its values in BPF memory iff @want, and an isolated
 * program (loaded under 1) may use it iff so.
 */
static void map_policy(const char *mode, __u32 flags, int want)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	long long before, after;
	int map, prog;

	if (!ready())
		return;
	before = settle(-1);
	ASSERT_OK(moat_set_mode(mode), "writing the mode");
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "moat_policy", 4, 65536, 1,
			     &opts);
	moat_set_mode("1");
	prog = map < 0 ? -1 : load_with_map(map);
	moat_set_mode("0");
	after = moat_pages();
	test_info("kernel.bpf_moat=%s, map_flags 0x%x: MOAT pages %lld -> %lld, isolated program using it: %d",
		  mode, flags, before, after, prog);
	if (prog >= 0)
		close(prog);
	if (map >= 0)
		close(map);
	ASSERT_OK(map, "creating the array");
	if (want) {
		ASSERT_GE(after, before + 16, "values in BPF memory");
		ASSERT_OK(prog, "an isolated program may use the map");
	} else {
		ASSERT_EQ(after, before, "values not in BPF memory");
		ASSERT_EQ(prog, -EOPNOTSUPP,
			  "an isolated program using the map is refused");
	}
}

static void test_map_policy_off(void)
{
	map_policy("0", 0, 0);
}

/* Under 0 the flag is ignored, as BPF_F_MOAT for programs. */
static void test_map_policy_off_flag(void)
{
	map_policy("0", BPF_F_MOAT, 0);
}

/* Under 1 the maps of programs that are not isolated stay kernel memory. */
static void test_map_policy_request_no_flag(void)
{
	map_policy("1", 0, 0);
}

static void test_map_policy_request_flag(void)
{
	map_policy("1", BPF_F_MOAT, 1);
}

static void test_map_policy_all(void)
{
	map_policy("2", 0, 1);
}

/* An isolated socket filter that only names @map: fd, or -errno. */
static int load_naming(int map)
{
	return load_naming_map(BPF_PROG_TYPE_SOCKET_FILTER, map, BPF_F_MOAT,
			       NULL, 0);
}

/*
 * Every map type whose values can be in BPF memory, created under each
 * policy with and without BPF_F_MOAT: an isolated program may use it only
 * when created under 2, or under 1 with the flag.
 */
static void test_map_policy_types(void)
{
	static const struct {
		const char *name;
		enum bpf_map_type type;
		__u32 key, value, entries, flags;
	} maps[] = {
		{ "array", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0 },
		{ "percpu array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0 },
		{ "hash", BPF_MAP_TYPE_HASH, 4, 8, 4, 0 },
		{ "hash, no prealloc", BPF_MAP_TYPE_HASH, 4, 8, 4,
		  BPF_F_NO_PREALLOC },
		{ "LRU hash", BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, 0 },
		{ "percpu hash", BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4, 0 },
		{ "LRU percpu hash", BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 4, 0 },
		{ "LPM trie", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 4,
		  BPF_F_NO_PREALLOC },
		{ "ring buffer", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0 },
	};
	static const struct {
		const char *mode;
		__u32 flag;
		int want;
	} cases[] = {
		{ "0", 0, 0 }, { "0", BPF_F_MOAT, 0 }, { "1", 0, 0 },
		{ "1", BPF_F_MOAT, 1 }, { "2", 0, 1 },
	};
	unsigned int i, j;
	int map, prog;

	if (!ready())
		return;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		for (j = 0; j < sizeof(cases) / sizeof(cases[0]); j++) {
			LIBBPF_OPTS(bpf_map_create_opts, opts,
				    .map_flags = maps[i].flags | cases[j].flag);

			moat_set_mode(cases[j].mode);
			map = bpf_map_create(maps[i].type, NULL, maps[i].key,
					     maps[i].value, maps[i].entries,
					     &opts);
			moat_set_mode("1");
			prog = map < 0 ? map : load_naming(map);
			moat_set_mode("0");
			if (prog >= 0)
				close(prog);
			if (map >= 0)
				close(map);
			if (map < 0 || (cases[j].want ? prog < 0 :
					prog != -EOPNOTSUPP))
				test_fail("%s created under %s%s: map %d, isolated program %d (want %s)",
					  maps[i].name, cases[j].mode,
					  cases[j].flag ? " with BPF_F_MOAT" : "",
					  map, prog,
					  cases[j].want ? "loaded" : "-EOPNOTSUPP");
		}
	}
}

/* The flag on maps whose values cannot be in BPF memory: EINVAL. */
static void test_map_policy_flag_refused(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MOAT);
	static const struct {
		enum bpf_map_type type;
		__u32 key, value, entries;
	} types[] = {
		{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4 },
		{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4 },
		{ BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 4 },
		{ BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4 },
		{ BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 4 },
		{ BPF_MAP_TYPE_USER_RINGBUF, 0, 0, 4096 },
		{ BPF_MAP_TYPE_QUEUE, 0, 8, 4 },
		{ BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4 },
	};
	LIBBPF_OPTS(bpf_map_create_opts, inner);
	unsigned int i;
	int fd, plain, in;

	if (!ready())
		return;
	moat_set_mode("1");
	/* Maps of maps take an inner map: an array. */
	in = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, NULL);
	inner.inner_map_fd = opts.inner_map_fd = in;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		/* The same map without the flag is created. */
		plain = bpf_map_create(types[i].type, NULL, types[i].key,
				       types[i].value, types[i].entries,
				       &inner);
		fd = bpf_map_create(types[i].type, NULL, types[i].key,
				    types[i].value, types[i].entries, &opts);
		if (plain >= 0)
			close(plain);
		if (fd >= 0)
			close(fd);
		if (plain < 0 || fd != -EINVAL)
			test_fail("map type %d: %d without BPF_F_MOAT, %d with it (want -EINVAL)",
				  types[i].type, plain, fd);
	}
	if (in >= 0)
		close(in);
	moat_set_mode("0");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN_TEST("moat", test_isolated_program_uses_array);
	RUN_TEST("moat", test_mmapable_array_in_moat_memory);
	RUN_TEST("moat", test_10000_programs_and_maps_freed);
	RUN_TEST("moat", test_pooled_maps_freed);
	RUN_TEST("moat", test_map_policy_off);
	RUN_TEST("moat", test_map_policy_off_flag);
	RUN_TEST("moat", test_map_policy_request_no_flag);
	RUN_TEST("moat", test_map_policy_request_flag);
	RUN_TEST("moat", test_map_policy_all);
	RUN_TEST("moat", test_map_policy_types);
	RUN_TEST("moat", test_map_policy_flag_refused);
	moat_set_mode("0");
	return test_exit();
}
