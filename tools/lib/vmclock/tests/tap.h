/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* A header-only TAP producer for the library's and the command's tests. */
#ifndef VMCLOCK_TEST_TAP_H
#define VMCLOCK_TEST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static unsigned int tap_n, tap_failed;

static bool __attribute__((format(printf, 2, 3), unused))
tap_ok(bool pass, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!pass)
		tap_failed++;
	printf("%s %u - ", pass ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return pass;
}

static void __attribute__((format(printf, 1, 2), unused))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int __attribute__((unused)) tap_finish(void)
{
	printf("1..%u\n%u passed, %u failed\n", tap_n, tap_n - tap_failed,
	       tap_failed);
	return tap_failed ? 1 : 0;
}

#endif /* VMCLOCK_TEST_TAP_H */
