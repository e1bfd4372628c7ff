// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of include/vmclock/vmclock-core.h, TAP output.
 * Usage: vmclock-unit [path/to/reference.py]
 */
#include "refpipe.h"
#include "tap.h"
#include "tests.h"

int main(int argc, char **argv)
{
	if (argc > 1)
		ref_script = argv[1];

	test_abi_offsets();
	test_snap_read();
	test_scale_offset();
	test_pvclock();
	test_snap_time();
	return tap_finish();
}
