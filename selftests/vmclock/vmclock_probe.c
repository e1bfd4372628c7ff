// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_probe: what the driver binds to, page by page. For each host
 * "init" variant the driver is unbound, the page rewritten, the driver
 * bound again, and the outcome compared with Linux 7.0's rules, which
 * common.md adopts (drop-in compatible):
 *   refused (bind write fails, no /dev/vmclock0): bad magic, size above the
 *     region, version 2;
 *   nothing registered (no /dev/vmclock0, no PTP clock): size 64;
 *   /dev/vmclock0 without a PTP clock: counter invalid, monotonic time,
 *     UTC without a valid TAI offset;
 *   with real clock data (needs VMCLOCK_COUNTER_OFFSET): /dev/vmclock0 and
 *     the PTP clock for TAI and for UTC + offset; only the PTP clock when
 *     the size covers the time fields but not a page (2048).
 * At the end the page as found is restored and must bind as before.
 *
 * Host commands: init, clock, set (restore).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "host.h"
#include "tap.h"

enum outcome {
	REFUSED,	/* bind fails, no misc device */
	NOTHING,	/* no misc device, no PTP clock (bind may or may not fail) */
	DEV_ONLY,	/* misc device, no PTP clock */
	PTP_ONLY,	/* PTP clock, no misc device */
	BOTH,
};

struct probe_case {
	const char *name;
	const char *init;	/* host init arguments */
	bool clock;		/* then write real clock data (clock ...) */
	const char *clock_args;
	enum outcome want;
};

static const struct probe_case cases[] = {
	{ "bad magic: probe refused", "--magic 0x12345678", false, NULL, REFUSED },
	{ "size field above the 4 KiB region: probe refused", "--size 8192", false, NULL, REFUSED },
	{ "version 2: probe refused", "--version 2", false, NULL, REFUSED },
	{ "size 64: neither /dev/vmclock0 nor a PTP clock", "--size 64 --counter tsc --time-type tai",
	  false, NULL, NOTHING },
	{ "counter invalid: /dev/vmclock0 only, no PTP clock", "--counter invalid", false, NULL, DEV_ONLY },
	{ "monotonic time: /dev/vmclock0 only, no PTP clock", "--counter " VMC_COUNTER " --time-type monotonic",
	  false, NULL, DEV_ONLY },
	{ "UTC without a TAI offset: /dev/vmclock0 only, no PTP clock", "--counter " VMC_COUNTER " --time-type utc",
	  false, NULL, DEV_ONLY },
	{ "TAI with clock data: /dev/vmclock0 and the PTP clock", "--counter " VMC_COUNTER " --time-type tai",
	  true, "--time-type tai", BOTH },
	{ "UTC with TAI offset 37: /dev/vmclock0 and the PTP clock",
	  "--counter " VMC_COUNTER " --time-type utc --tai-offset 37", true,
	  "--time-type utc --tai-offset 37", BOTH },
	{ "size 2048: the PTP clock only, no /dev/vmclock0",
	  "--size 2048 --counter tsc --time-type tai", true, "--time-type tai", PTP_ONLY },
};

static const char *outcome_str(enum outcome o)
{
	static const char *const s[] = { "refused", "nothing registered",
		"misc device only", "PTP clock only", "misc device and PTP clock" };

	return s[o];
}

static void run_case(const struct probe_case *c)
{
	bool dev, ptp, ok;
	int ret, bind;

	if (c->clock && !counter_offset_env()) {
		tap_skip(c->name, "needs VMCLOCK_COUNTER_OFFSET for real clock data");
		return;
	}
	if (vmc_bound() && (ret = vmc_unbind())) {
		tap_fail(c->name, "unbind failed: %s", strerror(-ret));
		return;
	}
	if (wait_path(VMC_DEV, false, VMC_SETTLE_MS) ||
	    wait_ptp(false, VMC_SETTLE_MS)) {
		tap_fail(c->name, "devices still present after unbind");
		return;
	}
	ret = host_cmd("init %s", c->init);
	if (!ret && c->clock)
		ret = host_cmd("clock --counter-offset %s %s",
			       counter_offset_env(), c->clock_args);
	if (ret) {
		tap_fail(c->name, "%s", host_error());
		return;
	}
	bind = vmc_bind();
	/* Registration is synchronous; the short wait covers devtmpfs. */
	dev = wait_path(VMC_DEV, true, 500);
	ptp = wait_ptp(true, 500);
	switch (c->want) {
	case REFUSED:
		ok = bind != 0 && !dev && !ptp;
		break;
	case NOTHING:
		ok = !dev && !ptp;
		break;
	case DEV_ONLY:
		ok = !bind && dev && !ptp;
		break;
	case PTP_ONLY:
		ok = !bind && !dev && ptp;
		break;
	default:
		ok = !bind && dev && ptp;
		break;
	}
	tap_check(ok, c->name, "want %s; bind %s, /dev/vmclock0 %s, PTP clock %s",
		  outcome_str(c->want), bind ? strerror(-bind) : "succeeded",
		  dev ? "present" : "absent", ptp ? "present" : "absent");
}

int main(void)
{
	struct vmclock_abi saved;
	bool had_ptp, dev, ptp;
	const char *why, *name;
	unsigned int i;
	int ret;

	tap_start("vmclock_probe: which pages the driver binds to");
	why = vmc_unavailable_reason();
	if (why)
		tap_skip_all("%s", why);
	watchdog_arm(300, "vmclock_probe");
	name = vmc_device_name();
	if (!name)
		tap_bail("no vmclock platform device under " VMC_DRIVER_DIR);
	ret = vmc_save_page(&saved, NULL);
	if (ret)
		tap_bail("cannot save the page: %s", strerror(-ret));
	had_ptp = wait_ptp(true, 0);
	tap_diag("device %s, PTP clock %s at start", name,
		 had_ptp ? "present" : "absent");

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);

	/* Put the page back exactly and bind as at the start. */
	if (vmc_bound())
		vmc_unbind();
	ret = host_restore_page(&saved);
	if (!tap_check(!ret, "restore the page as found", "%s", host_error()))
		tap_bail("the page could not be restored; later tests would see a broken page");
	ret = vmc_bind();
	dev = wait_path(VMC_DEV, true, VMC_SETTLE_MS);
	ptp = wait_ptp(true, had_ptp ? VMC_SETTLE_MS : 200);
	tap_check(!ret && dev && ptp == had_ptp,
		  "restored page binds as at the start",
		  "bind %s, /dev/vmclock0 %s, PTP clock %s (was %s)",
		  ret ? strerror(-ret) : "ok", dev ? "present" : "absent",
		  ptp ? "present" : "absent", had_ptp ? "present" : "absent");
	return tap_finish();
}
