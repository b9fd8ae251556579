/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal test harness for the MOAT guest suite.
 *
 * A test binary runs one or more cases.  Each case prints exactly one line:
 *
 *   PASS <suite>/<case>
 *   FAIL <suite>/<case>: <what>: got <x>, want <y>
 *   SKIP <suite>/<case>: <reason>
 *
 * The host-side runner counts these lines; the binary's exit status is
 * non-zero when any case failed.  With MOAT_VERBOSE set in the environment,
 * test_info() adds "INFO <suite>/<case>: <text>" lines saying what a case
 * observed (the demo shows them; the runner ignores them).
 *
 *	static void test_counts(void)
 *	{
 *		ASSERT_EQ(packets, 10, "packets counted by the filter");
 *	}
 *	int main(void)
 *	{
 *		RUN_TEST("smoke", test_counts);
 *		return test_exit();
 *	}
 *
 * An ASSERT_* that fails records the failure and returns from the case.
 */
#ifndef MOAT_TEST_H
#define MOAT_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_state {
	const char *suite;
	const char *name;
	int failed;
	int skipped;
	int nr_fail;
};

static struct test_state test_cur;

static inline void test_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void test_fail(const char *fmt, ...)
{
	va_list ap;

	if (test_cur.failed)
		return;
	test_cur.failed = 1;
	printf("FAIL %s/%s: ", test_cur.suite, test_cur.name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void test_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void test_skip(const char *fmt, ...)
{
	va_list ap;

	test_cur.skipped = 1;
	printf("SKIP %s/%s: ", test_cur.suite, test_cur.name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void test_info(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void test_info(const char *fmt, ...)
{
	va_list ap;

	if (!getenv("MOAT_VERBOSE"))
		return;
	printf("INFO %s/%s: ", test_cur.suite, test_cur.name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/*
 * The suite name as printed: @suite, plus $MOAT_TEST_SUFFIX when set (the
 * guest runs some suites a second time, isolated, as "<suite>@isolated").
 */
static inline const char *test_suite_name(const char *suite)
{
	static char name[64];
	const char *suffix = getenv("MOAT_TEST_SUFFIX");

	if (!suffix)
		return suite;
	snprintf(name, sizeof(name), "%s%s", suite, suffix);
	return name;
}

/*
 * Whether test @name is to run: $MOAT_TESTS (moat.tests=, run-guest.sh
 * --tests), when set, names the tests to run by comma-separated parts
 * of their names.
 */
static inline int test_selected(const char *name)
{
	const char *only = getenv("MOAT_TESTS"), *p, *end;
	char part[64];
	size_t n;

	if (!only || !*only)
		return 1;
	for (p = only; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		n = end - p;
		if (n && n < sizeof(part)) {
			memcpy(part, p, n);
			part[n] = 0;
			if (strstr(name, part))
				return 1;
		}
	}
	return 0;
}

#define RUN_TEST(suite_, fn) do {					\
	if (!test_selected(#fn))					\
		break;							\
	test_cur = (struct test_state){ .suite = test_suite_name(suite_), \
					 .name = #fn,			\
					 .nr_fail = test_cur.nr_fail };	\
	if (!strncmp(test_cur.name, "test_", 5))			\
		test_cur.name += 5;					\
	fn();								\
	if (test_cur.failed)						\
		test_cur.nr_fail++;					\
	else if (!test_cur.skipped)					\
		printf("PASS %s/%s\n", test_cur.suite, test_cur.name);	\
	fflush(stdout);							\
} while (0)

static inline int test_exit(void)
{
	return test_cur.nr_fail ? 1 : 0;
}

#define ASSERT_EQ(got, want, what) do {					\
	long long __g = (long long)(got), __w = (long long)(want);	\
	if (__g != __w) {						\
		test_fail("%s: got %lld, want %lld", (what), __g, __w);	\
		return;							\
	}								\
} while (0)

#define ASSERT_NE(got, bad, what) do {					\
	long long __g = (long long)(got), __b = (long long)(bad);	\
	if (__g == __b) {						\
		test_fail("%s: got %lld, want anything else", (what), __g); \
		return;							\
	}								\
} while (0)

#define ASSERT_GE(got, min, what) do {					\
	long long __g = (long long)(got), __m = (long long)(min);	\
	if (__g < __m) {						\
		test_fail("%s: got %lld, want >= %lld", (what), __g, __m); \
		return;							\
	}								\
} while (0)

/* For calls returning 0 / -1 with errno, or 0 / -errno (libbpf). */
#define ASSERT_OK(ret, what) do {					\
	long long __r = (long long)(ret);				\
	if (__r < 0) {							\
		test_fail("%s: returned %lld (%s)", (what), __r,	\
			  strerror(__r == -1 ? errno : (int)-__r));	\
		return;							\
	}								\
} while (0)

/* Fail the case with the message a setup step left in @err, if any. */
#define ASSERT_NO_SETUP_ERR(err) do {					\
	if ((err)[0]) {							\
		test_fail("%s", (err));					\
		return;							\
	}								\
} while (0)

#define ASSERT_TRUE(cond, what) do {					\
	if (!(cond)) {							\
		test_fail("%s: condition '%s' is false", (what), #cond); \
		return;							\
	}								\
} while (0)

#endif /* MOAT_TEST_H */
