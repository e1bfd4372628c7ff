/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stream generated cases through reference.py and back, without storing
 * them: a child process writes the cases into the script's stdin while
 * this process reads the script's answers and regenerates the same cases
 * (same seed) to compare. No cycle between the pipes, so no deadlock.
 */
#ifndef VMCLOCK_REFPIPE_H
#define VMCLOCK_REFPIPE_H

#include <stdio.h>

struct ref_job {
	const char *mode;			/* reference.py argument */
	void (*emit)(FILE *to_ref, void *ctx);	/* runs in the child */
	void (*check)(FILE *from_ref, void *ctx);	/* runs here */
	void *ctx;
};

/* Path of reference.py, set by main() from argv. */
extern const char *ref_script;

/* 0 when the writer and the script both exited 0, else -1. */
int ref_run(const struct ref_job *job);

#endif
