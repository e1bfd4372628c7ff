/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny TAP 13 emitter for the vmclock in-guest selftests.
 *
 * Every program prints its own stream; the rig concatenates them. A check
 * is "ok N - name" or "not ok N - name" followed by a "# reason" line, a
 * skip is "ok N - name # SKIP reason" and counts neither as passed nor as
 * failed. tap_finish() prints the trailing plan (unless tap_plan() already
 * printed one) and the closing line "# N passed, N failed[, N skipped]".
 *
 * Exit codes follow kselftest: 0 all passed (skips allowed), 1 a check
 * failed or the run bailed out, 4 everything skipped.
 *
 * Header-only on purpose: the counters are per translation unit, so only the
 * test program's own .c file may call these; the helpers in common.c report
 * through return values and never print TAP lines.
 */
#ifndef VMCLOCK_TAP_H
#define VMCLOCK_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAP_EXIT_PASS	0
#define TAP_EXIT_FAIL	1
#define TAP_EXIT_SKIP	4

struct tap_state {
	unsigned int num;	/* test points printed so far */
	unsigned int passed;
	unsigned int failed;
	unsigned int skipped;
	bool planned;		/* "1..N" already printed */
	const char *suite;
};

static struct tap_state tap_st;

/* Prints "# " + message, one line per embedded newline. */
static inline void tap_vdiag(const char *fmt, va_list ap)
{
	char buf[1024];
	char *line, *save = NULL;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
	fflush(stdout);
}

static inline void __attribute__((format(printf, 1, 2)))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vdiag(fmt, ap);
	va_end(ap);
}

static inline void tap_start(const char *suite)
{
	/* Line buffering keeps the order right when a child also prints. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_st.suite = suite;
	printf("TAP version 13\n");
	tap_diag("%s", suite);
}

static inline void tap_plan(unsigned int count)
{
	printf("1..%u\n", count);
	fflush(stdout);
	tap_st.planned = true;
}

static inline void tap_pass(const char *name)
{
	tap_st.passed++;
	printf("ok %u - %s\n", ++tap_st.num, name);
	fflush(stdout);
}

static inline void __attribute__((format(printf, 2, 3)))
tap_fail(const char *name, const char *why_fmt, ...)
{
	va_list ap;

	tap_st.failed++;
	printf("not ok %u - %s\n", ++tap_st.num, name);
	va_start(ap, why_fmt);
	tap_vdiag(why_fmt, ap);
	va_end(ap);
}

/* The reason is formatted and printed only when @pass is false. */
static inline bool __attribute__((format(printf, 3, 4)))
tap_check(bool pass, const char *name, const char *why_fmt, ...)
{
	va_list ap;

	if (pass) {
		tap_pass(name);
		return true;
	}
	tap_st.failed++;
	printf("not ok %u - %s\n", ++tap_st.num, name);
	va_start(ap, why_fmt);
	tap_vdiag(why_fmt, ap);
	va_end(ap);
	return false;
}

static inline void __attribute__((format(printf, 2, 3)))
tap_skip(const char *name, const char *why_fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	tap_st.skipped++;
	printf("ok %u - %s # SKIP %s\n", ++tap_st.num, name, why);
	fflush(stdout);
}

static inline void tap_closing_line(void)
{
	if (!tap_st.planned)
		printf("1..%u\n", tap_st.num);
	if (tap_st.skipped)
		printf("# %u passed, %u failed, %u skipped\n",
		       tap_st.passed, tap_st.failed, tap_st.skipped);
	else
		printf("# %u passed, %u failed\n",
		       tap_st.passed, tap_st.failed);
	fflush(stdout);
}

/* Returns the exit code for main(). */
static inline int tap_finish(void)
{
	tap_closing_line();
	if (tap_st.failed)
		return TAP_EXIT_FAIL;
	if (!tap_st.passed && tap_st.skipped)
		return TAP_EXIT_SKIP;
	return TAP_EXIT_PASS;
}

/* Nothing in this program can run here: "1..0 # SKIP reason". */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
tap_skip_all(const char *why_fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	printf("1..0 # SKIP %s\n", why);
	printf("# 0 passed, 0 failed, 0 skipped\n");
	fflush(stdout);
	exit(TAP_EXIT_SKIP);
}

/* The run cannot go on: the remaining checks would only cascade. */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
tap_bail(const char *why_fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	printf("Bail out! %s\n", why);
	tap_st.failed++;
	tap_closing_line();
	exit(TAP_EXIT_FAIL);
}

#endif /* VMCLOCK_TAP_H */
