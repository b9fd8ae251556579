// SPDX-License-Identifier: GPL-2.0
/*
 * PKS foundation: enumeration and enabling, rights per key, fault handlers,
 * keys on kernel mappings, per-task rights across context switches, CPU
 * hotplug, restricted windows and the entry code.  Most checks run inside the kernel (CONFIG_PKS_TEST,
 * /sys/kernel/debug/pks/test); this program drives them, one case each.
 *
 * On a CPU without PKS (CPUID.(7,0):ECX[31] clear) every case is skipped.
 * When the CPU has PKS but the kernel does not report it enabled ("pks" in
 * /proc/cpuinfo), every case fails.
 */
#include <cpuid.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "moat.h"

#define SUITE		"pks"
#define PKS_TEST_FILE	"/sys/kernel/debug/pks/test"
#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

/* Number of "flags" lines in /proc/cpuinfo, and how many list "pks". */
static void cpuinfo_pks(int *cpus, int *with_pks)
{
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "r");

	*cpus = *with_pks = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		(*cpus)++;
		if (strstr(line, " pks ") || strstr(line, " pks\n"))
			(*with_pks)++;
	}
	fclose(f);
}

/*
 * Common preconditions: SKIP without PKS in the CPU, FAIL when the kernel
 * did not enable it.  Returns 0 when the case should go on.
 */
static int need_pks(void)
{
	int cpus, with_pks;

	if (!cpu_has_pks()) {
		test_skip("CPU has no PKS");
		return -1;
	}
	cpuinfo_pks(&cpus, &with_pks);
	if (with_pks != cpus || !cpus) {
		test_fail("CPU has PKS but the kernel did not enable it: 'pks' in /proc/cpuinfo on %d of %d CPUs",
			  with_pks, cpus);
		return -1;
	}
	return 0;
}

/* Run one kernel check; 0 and its result line in @res, or -1. */
static int kernel_check(const char *name, char *res, size_t len)
{
	int fd = open(PKS_TEST_FILE, O_RDWR);
	ssize_t n;

	if (fd < 0) {
		test_fail("open %s: %s (CONFIG_PKS_TEST off?)", PKS_TEST_FILE,
			  strerror(errno));
		return -1;
	}
	if (write(fd, name, strlen(name)) != (ssize_t)strlen(name)) {
		test_fail("write '%s' to %s: %s", name, PKS_TEST_FILE,
			  strerror(errno));
		close(fd);
		return -1;
	}
	n = pread(fd, res, len - 1, 0);
	close(fd);
	if (n <= 0) {
		test_fail("read %s: %s", PKS_TEST_FILE,
			  n ? strerror(errno) : "empty");
		return -1;
	}
	res[n] = '\0';
	res[strcspn(res, "\n")] = '\0';
	return 0;
}

/* Report a kernel check as this case's outcome. */
static void run_kernel_check(const char *name)
{
	char res[512];
	const char *detail;
	size_t nlen = strlen(name);

	if (need_pks() || kernel_check(name, res, sizeof(res)))
		return;
	detail = res + 5 + nlen;	/* "PASS <name>" */
	if (strlen(res) < 5 + nlen || strncmp(res + 5, name, nlen)) {
		test_fail("unexpected result line '%s'", res);
		return;
	}
	if (*detail == ':')
		detail += 2;
	if (!strncmp(res, "PASS ", 5)) {
		if (*detail)
			printf("INFO %s/%s: %s\n", SUITE, name, detail);
	} else if (!strncmp(res, "SKIP ", 5)) {
		test_skip("%s", detail);
	} else {
		test_fail("%s", detail);
	}
}

#define KERNEL_CASE(name) \
	static void test_##name(void) { run_kernel_check(#name); }

KERNEL_CASE(rights_api)
KERNEL_CASE(key_open)
KERNEL_CASE(key1_ad)
KERNEL_CASE(key1_wd)
KERNEL_CASE(key2_ad)
KERNEL_CASE(key2_wd)
KERNEL_CASE(keys_independent)
KERNEL_CASE(fault_handled)
KERNEL_CASE(keys_survive_pte_updates)
KERNEL_CASE(refuse_bad_ranges)
KERNEL_CASE(context_switch)
KERNEL_CASE(switch_cost)

/*
 * Restricted windows (key 0 access-disabled, interrupts off) and the
 * entry code: keys of the memory event delivery touches; no access to the
 * IST stacks of a CPU with another IST key under a window's rights; NMIs
 * inside windows on every CPU, and no timer interrupt or IPI; a key-0
 * access ending a window through its exit, never resumed; no entry-code
 * WRMSR for interrupts outside windows.
 */
KERNEL_CASE(entry_keys)
KERNEL_CASE(entry_ist_keys)
KERNEL_CASE(entry_irqs)
KERNEL_CASE(entry_fault)
KERNEL_CASE(entry_cost)
/* Interrupt load (used by the isolated smoke pass): handlers run open. */
KERNEL_CASE(irq_storm)

/* Enumeration: "pks" in /proc/cpuinfo exactly when the CPU has PKS. */
static void test_enabled(void)
{
	int cpus, with_pks;

	if (!cpu_has_pks()) {
		cpuinfo_pks(&cpus, &with_pks);
		ASSERT_EQ(with_pks, 0,
			  "CPUs listing 'pks' in /proc/cpuinfo without CPUID support");
		test_skip("CPU has no PKS");
		return;
	}
	need_pks();
}

/* Every online CPU: CR4.PKS set, PKRS consistent with its cache. */
static void test_all_cpus(void)
{
	run_kernel_check("cpus");
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* PKS state comes back on a CPU that went offline and online again. */
static void test_cpu_hotplug(void)
{
	int i;

	if (need_pks())
		return;
	if (access(CPU1_ONLINE, W_OK)) {
		test_skip("cpu1 cannot be taken offline (%s: %s)", CPU1_ONLINE,
			  strerror(errno));
		return;
	}
	for (i = 0; i < 3; i++) {
		ASSERT_OK(write_file(CPU1_ONLINE, "0"), "offline cpu1");
		ASSERT_OK(write_file(CPU1_ONLINE, "1"), "online cpu1");
	}
	run_kernel_check("cpus");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN_TEST(SUITE, test_enabled);
	RUN_TEST(SUITE, test_all_cpus);
	RUN_TEST(SUITE, test_rights_api);
	RUN_TEST(SUITE, test_key_open);
	RUN_TEST(SUITE, test_key1_ad);
	RUN_TEST(SUITE, test_key1_wd);
	RUN_TEST(SUITE, test_key2_ad);
	RUN_TEST(SUITE, test_key2_wd);
	RUN_TEST(SUITE, test_keys_independent);
	RUN_TEST(SUITE, test_fault_handled);
	RUN_TEST(SUITE, test_keys_survive_pte_updates);
	RUN_TEST(SUITE, test_refuse_bad_ranges);
	RUN_TEST(SUITE, test_context_switch);
	RUN_TEST(SUITE, test_switch_cost);
	RUN_TEST(SUITE, test_entry_keys);
	RUN_TEST(SUITE, test_entry_ist_keys);
	RUN_TEST(SUITE, test_entry_irqs);
	RUN_TEST(SUITE, test_entry_fault);
	RUN_TEST(SUITE, test_entry_cost);
	RUN_TEST(SUITE, test_irq_storm);
	RUN_TEST(SUITE, test_cpu_hotplug);
	return test_exit();
}
