// SPDX-License-Identifier: GPL-2.0
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpipe.h"
#include "tap.h"

const char *ref_script = "reference.py";

static int reap(pid_t pid, const char *what)
{
	int status;

	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		tap_diag("%s failed (status 0x%x)", what, status);
		return -1;
	}
	return 0;
}

int ref_run(const struct ref_job *job)
{
	const char *python = getenv("PYTHON") ? getenv("PYTHON") : "python3";
	int in[2], out[2], ret = 0;
	pid_t ref, writer;
	FILE *from_ref;

	if (pipe(in) || pipe(out))
		return -1;
	fflush(stdout);

	ref = fork();
	if (ref < 0)
		return -1;
	if (!ref) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execlp(python, python, ref_script, job->mode, (char *)NULL);
		perror("exec reference");
		_exit(127);
	}

	writer = fork();
	if (writer < 0)
		return -1;
	if (!writer) {
		FILE *to_ref;

		close(in[0]);
		close(out[0]);
		close(out[1]);
		to_ref = fdopen(in[1], "wb");
		if (!to_ref)
			_exit(1);
		job->emit(to_ref, job->ctx);
		_exit(fclose(to_ref) ? 1 : 0);
	}

	close(in[0]);
	close(in[1]);
	close(out[1]);
	from_ref = fdopen(out[0], "rb");
	if (!from_ref)
		return -1;
	job->check(from_ref, job->ctx);
	fclose(from_ref);

	if (reap(writer, "case writer"))
		ret = -1;
	if (reap(ref, "reference.py"))
		ret = -1;
	return ret;
}
