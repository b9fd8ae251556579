/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for tests of MOAT itself: the CPU's PKS bit, the kernel.bpf_moat
 * policy, a program's fdinfo, MOAT's debugfs counters, the test kernel's
 * attack facility (CONFIG_BPF_MOAT_TEST) and kernel symbols.
 */
#ifndef MOAT_MOAT_H
#define MOAT_MOAT_H

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>

#define MOAT_SYSCTL	"/proc/sys/kernel/bpf_moat"
#define MOAT_MEMORY	"/sys/kernel/debug/bpf_moat/memory"
#define MOAT_STATS	"/sys/kernel/debug/bpf_moat/stats"
#define MOAT_DOMAINS	"/sys/kernel/debug/bpf_moat/domains"
/* 1 while MOAT maps packet pages into windows, 0 while it copies them. */
#define MOAT_MAP_PACKETS "/sys/kernel/debug/bpf_moat/map_packets"
/* CONFIG_BPF_MOAT_TEST's files: a kernel canary, an NMI on demand. */
#define MOAT_CANARY	"/sys/kernel/debug/moat_test/canary"
#define MOAT_NMI_FILE	"/sys/kernel/debug/moat_test/nmi"
/* The reading CPU's per-CPU offset, the reading task's stack top and
 * the address of its thread.pks_ksp (test facility). */
#define MOAT_PERCPU_FILE	"/sys/kernel/debug/moat_test/percpu"
#define MOAT_TASK_STACK_FILE	"/sys/kernel/debug/moat_test/task_stack"
#define MOAT_PKS_KSP_FILE	"/sys/kernel/debug/moat_test/pks_ksp"

#ifndef BPF_F_MOAT
#define BPF_F_MOAT	(1U << 16)
#endif

/* CPUID.(7,0):ECX[31]: the CPU has Protection Keys for Supervisor. */
static inline int cpu_has_pks(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return 0;
	return (ecx >> 31) & 1;
}

/*
 * Read file @path into @buf (@size bytes, NUL-terminated): the bytes
 * read, or -errno.
 */
static inline int moat_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY), n;

	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	n = n < 0 ? -errno : n;
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* The number file @path holds (sysctl, debugfs switch), or -1. */
static inline int moat_read_int(const char *path)
{
	char buf[16];

	return moat_read_text(path, buf, sizeof(buf)) > 0 ? atoi(buf) : -1;
}

/* kernel.bpf_moat, or -1. */
static inline int moat_mode(void)
{
	return moat_read_int(MOAT_SYSCTL);
}

/* Write @val to file @path (sysctl, tracefs): 0, or -errno. */
static inline int moat_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Write @val to kernel.bpf_moat: 0, or -errno of the write. */
static inline int moat_set_mode(const char *val)
{
	return moat_write_file(MOAT_SYSCTL, val);
}

/* Value of "@key:" in file @path (fdinfo, MOAT debugfs), or -1. */
static inline long long moat_file_value(const char *path, const char *key)
{
	char line[256];
	long long val = -1;
	size_t len = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) &&
		    (line[len] == ':' || line[len] == ' '))
			val = atoll(line + len + 1);
	fclose(f);
	return val;
}

/* Value of @key in the fdinfo of @fd, or -1 when absent. */
static inline long long fdinfo(int fd, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return moat_file_value(path, key);
}

/* The address the test facility file @path gives; 0 or -errno. */
static inline int moat_facility_addr(const char *path, __u64 *addr)
{
	char buf[32];
	int n = moat_read_text(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	return n > 0 && sscanf(buf, "%llx", addr) == 1 ? 0 : -EINVAL;
}

/* Address and value of the kernel canary; 0 or -errno. */
static inline int moat_canary(__u64 *addr, __u64 *val)
{
	char buf[80];
	int n = moat_read_text(MOAT_CANARY, buf, sizeof(buf));

	if (n < 0)
		return n;
	return n > 0 && sscanf(buf, "%llx %llx", addr, val) == 2 ? 0 : -EINVAL;
}

/* Give the kernel canary value @val: 0 or -errno. */
static inline int moat_set_canary(__u64 val)
{
	char buf[32];
	int fd = open(MOAT_CANARY, O_WRONLY), n;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "0x%llx", val);
	n = write(fd, buf, n) == n ? 0 : -errno;
	close(fd);
	return n;
}

/* Address of kernel symbol @name (/proc/kallsyms), or 0. */
static inline __u64 moat_ksym(const char *name)
{
	char line[256], sym[128];
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "r");
	__u64 found = 0;
	char type;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name))
			found = addr;
	fclose(f);
	return found;
}

#endif /* MOAT_MOAT_H */
