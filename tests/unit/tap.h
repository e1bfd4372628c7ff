/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal TAP producer shared by the unit tests. */
#ifndef VMCLOCK_TAP_H
#define VMCLOCK_TAP_H

#include <stdbool.h>

/* Report one test point; returns @pass so callers can add diagnostics. */
bool tap_ok(bool pass, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A "# ..." diagnostic line. */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan and the closing "N passed, N failed"; exit status. */
int tap_finish(void);

#endif
