/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guest tests: locating and loading the BPF object
 * that belongs to a test binary, and small map accessors.
 *
 * A binary at <dir>/<name> (e.g. /tests/bin/smoke/socket_filter) finds its
 * object at <dir>/../../bpf/<suite>/<name>.bpf.o, so the tree can be moved.
 */
#ifndef MOAT_BPFOBJ_H
#define MOAT_BPFOBJ_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#ifndef BPF_F_MOAT
#define BPF_F_MOAT	(1U << 16)
#endif

/* Whether maps of @type can keep their values in MOAT's BPF memory. */
static inline int moat_map_type_ok(enum bpf_map_type type)
{
	switch (type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_LPM_TRIE:
	case BPF_MAP_TYPE_RINGBUF:
		return 1;
	default:
		return 0;
	}
}

/*
 * Before @obj is loaded: BPF_F_MOAT on each of its maps that can keep its
 * values in BPF memory, which isolated programs need under
 * kernel.bpf_moat=1 (maps created without it keep their values in kernel
 * memory, and isolated programs are refused their use).
 */
static inline void moat_object_maps(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		if (moat_map_type_ok(bpf_map__type(m)))
			bpf_map__set_map_flags(m, bpf_map__map_flags(m) |
						  BPF_F_MOAT);
}

/* Before @obj is loaded: ask for all of it to be isolated (mode 1). */
static inline void moat_isolate_object(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
		bpf_program__set_flags(p, bpf_program__flags(p) | BPF_F_MOAT);
	moat_object_maps(obj);
}

/*
 * Load "r1 = map (if @map_fd >= 0); r0 = 0; exit" as a program of @type
 * with @flags: a program that only names the map.  The verifier log goes
 * to @log (@len bytes) unless it is NULL.  fd, or -errno.
 */
static inline int load_naming_map(enum bpf_prog_type type, int map_fd,
				  __u32 flags, char *log, size_t len)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int skip = map_fd < 0 ? 2 : 0;
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.prog_flags = flags,
		.log_buf = log,
		.log_size = log ? len : 0,
		.log_level = log ? 1 : 0,
	);
	int fd;

	if (log)
		log[0] = '\0';
	fd = bpf_prog_load(type, "moat_names", "GPL", insns + skip, 4 - skip,
			   &opts);
	return fd < 0 ? -errno : fd;
}

/* Path of the BPF object of test @suite/@name; "" if /proc is missing. */
static inline const char *smoke_obj_path(const char *suite, const char *name)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX - 64];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "";
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return "";
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/../../bpf/%s/%s.bpf.o", exe, suite,
		 name);
	return path;
}

/*
 * Open and load the object of test @suite/@name.  On failure returns NULL
 * and writes a reason to @err.
 */
static inline struct bpf_object *smoke_load_suite(const char *suite,
						  const char *name, char *err,
						  size_t errlen)
{
	const char *path = smoke_obj_path(suite, name);
	struct bpf_object *obj;
	int ret;

	if (access(path, R_OK)) {
		snprintf(err, errlen, "BPF object '%s' not readable (%s)",
			 path, strerror(errno));
		return NULL;
	}
	obj = bpf_object__open_file(path, NULL);
	ret = libbpf_get_error(obj);
	if (ret) {
		snprintf(err, errlen, "bpf_object__open_file(%s): %s", path,
			 strerror(-ret));
		return NULL;
	}
	ret = bpf_object__load(obj);
	if (ret) {
		snprintf(err, errlen, "bpf_object__load(%s): %s", path,
			 strerror(-ret));
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

/* Open and load the object of smoke test @name. */
static inline struct bpf_object *smoke_load(const char *name, char *err,
					    size_t errlen)
{
	return smoke_load_suite("smoke", name, err, errlen);
}

/* Find a map / program fd by name; -1 (and a reason in @err) if missing. */
static inline int smoke_map_fd(struct bpf_object *obj, const char *name,
			       char *err, size_t errlen)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	if (!map) {
		snprintf(err, errlen, "map '%s' not found in object", name);
		return -1;
	}
	return bpf_map__fd(map);
}

static inline int smoke_prog_fd(struct bpf_object *obj, const char *name,
				char *err, size_t errlen)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);

	if (!prog) {
		snprintf(err, errlen, "program '%s' not found in object", name);
		return -1;
	}
	return bpf_program__fd(prog);
}

/* Read / write one __u64 slot of an array map; -errno on failure. */
static inline int smoke_get(int fd, __u32 key, __u64 *val)
{
	return bpf_map_lookup_elem(fd, &key, val) ? -errno : 0;
}

static inline int smoke_set(int fd, __u32 key, __u64 val)
{
	return bpf_map_update_elem(fd, &key, &val, BPF_ANY) ? -errno : 0;
}

#endif /* MOAT_BPFOBJ_H */
