// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_probe: what the driver binds to, page by page. Each variant has
 * the driver unbound, the page rewritten by the host ("init", then real
 * clock data where the variant wants it), the driver bound again, and the
 * outcome compared with Linux 7.0's rules, which common.md adopts (drop-in
 * compatible):
 *   refused (bind write fails, no /dev/vmclock0): bad magic, size above the
 *     region, version 2;
 *   nothing registered (no /dev/vmclock0, no PTP clock): size 64;
 *   /dev/vmclock0 without a PTP clock: counter invalid, monotonic time,
 *     UTC without a valid TAI offset;
 *   with real clock data (needs VMCLOCK_COUNTER_OFFSET): /dev/vmclock0 and
 *     the PTP clock for TAI and for UTC + offset; only the PTP clock when
 *     the size covers the time fields but not a page (2048).
 * Every test puts the page back as it found it and binds the driver again
 * (teardown); the last test checks that this restores the start state.
 *
 * Host commands: init, clock, set (restore).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmc_harness.h"

enum outcome {
	REFUSED,	/* bind fails, no misc device */
	NOTHING,	/* no misc device, no PTP clock (bind may or may not fail) */
	DEV_ONLY,	/* misc device, no PTP clock */
	PTP_ONLY,	/* PTP clock, no misc device */
	BOTH,
};

static const char *outcome_str(enum outcome o)
{
	static const char *const s[] = { "refused", "nothing registered",
		"misc device only", "PTP clock only", "misc device and PTP clock" };

	return s[o];
}

FIXTURE(probe) {
	struct vmclock_abi saved;
	bool had_ptp;
};

FIXTURE_VARIANT(probe) {
	const char *init;	/* host init arguments */
	const char *clock_args;	/* then real clock data, or NULL */
	enum outcome want;
};

FIXTURE_VARIANT_ADD(probe, bad_magic_refused) {
	.init = "--magic 0x12345678", .want = REFUSED,
};

FIXTURE_VARIANT_ADD(probe, size_above_region_refused) {
	.init = "--size 8192", .want = REFUSED,
};

FIXTURE_VARIANT_ADD(probe, version_2_refused) {
	.init = "--version 2", .want = REFUSED,
};

FIXTURE_VARIANT_ADD(probe, size_64_registers_nothing) {
	.init = "--size 64 --counter tsc --time-type tai", .want = NOTHING,
};

FIXTURE_VARIANT_ADD(probe, counter_invalid_dev_only) {
	.init = "--counter invalid", .want = DEV_ONLY,
};

FIXTURE_VARIANT_ADD(probe, monotonic_time_dev_only) {
	.init = "--counter " VMC_COUNTER " --time-type monotonic", .want = DEV_ONLY,
};

FIXTURE_VARIANT_ADD(probe, utc_without_tai_offset_dev_only) {
	.init = "--counter " VMC_COUNTER " --time-type utc", .want = DEV_ONLY,
};

FIXTURE_VARIANT_ADD(probe, tai_clock_data_dev_and_ptp) {
	.init = "--counter " VMC_COUNTER " --time-type tai",
	.clock_args = "--time-type tai", .want = BOTH,
};

FIXTURE_VARIANT_ADD(probe, utc_tai_offset_37_dev_and_ptp) {
	.init = "--counter " VMC_COUNTER " --time-type utc --tai-offset 37",
	.clock_args = "--time-type utc --tai-offset 37", .want = BOTH,
};

FIXTURE_VARIANT_ADD(probe, size_2048_ptp_only) {
	.init = "--size 2048 --counter tsc --time-type tai",
	.clock_args = "--time-type tai", .want = PTP_ONLY,
};

FIXTURE_SETUP(probe)
{
	int ret;

	VMC_NEED_HOST();
	ASSERT_NE(NULL, vmc_device_name())
		TH_LOG("no vmclock platform device under " VMC_DRIVER_DIR);
	ret = vmc_save_page(&self->saved, NULL);
	ASSERT_EQ(0, ret) TH_LOG("cannot save the page: %s", strerror(-ret));
	self->had_ptp = wait_ptp(true, 0);
}

/* The page as found, bound as at the start; checked by the last test. */
static int restore_and_bind(struct vmclock_abi *saved)
{
	int ret;

	if (vmc_bound())
		vmc_unbind();
	ret = host_restore_page(saved);
	if (ret)
		return ret;
	return vmc_bind();
}

FIXTURE_TEARDOWN(probe)
{
	int ret = restore_and_bind(&self->saved);

	EXPECT_EQ(0, ret) TH_LOG("restoring the page and binding: %d (%s)",
				 ret, host_error());
}

TEST_F(probe, outcome)
{
	bool dev, ptp, ok;
	int ret, bind;

	if (variant->clock_args && !counter_offset_env())
		SKIP(return, "needs VMCLOCK_COUNTER_OFFSET for real clock data");
	if (vmc_bound()) {
		ret = vmc_unbind();
		ASSERT_EQ(0, ret) TH_LOG("unbind failed: %s", strerror(-ret));
	}
	ASSERT_FALSE(wait_path(VMC_DEV, false, VMC_SETTLE_MS) ||
		     wait_ptp(false, VMC_SETTLE_MS))
		TH_LOG("devices still present after unbind");
	ret = host_cmd("init %s", variant->init);
	if (!ret && variant->clock_args)
		ret = host_cmd("clock --counter-offset %s %s",
			       counter_offset_env(), variant->clock_args);
	ASSERT_EQ(0, ret) TH_LOG("%s", host_error());

	bind = vmc_bind();
	/* Registration is synchronous; the short wait covers devtmpfs. */
	dev = wait_path(VMC_DEV, true, 500);
	ptp = wait_ptp(true, 500);
	switch (variant->want) {
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
	EXPECT_TRUE(ok)
		TH_LOG("want %s; bind %s, /dev/vmclock0 %s, PTP clock %s",
		       outcome_str(variant->want),
		       bind ? strerror(-bind) : "succeeded",
		       dev ? "present" : "absent", ptp ? "present" : "absent");
}

/* No variant: the teardown's restore, checked in the open. */
FIXTURE(restore) {
	struct vmclock_abi saved;
	bool had_ptp;
};

FIXTURE_SETUP(restore)
{
	int ret;

	VMC_NEED_HOST();
	ret = vmc_save_page(&self->saved, NULL);
	ASSERT_EQ(0, ret) TH_LOG("cannot save the page: %s", strerror(-ret));
	self->had_ptp = wait_ptp(true, 0);
}

FIXTURE_TEARDOWN(restore)
{
}

/* Unbound, the page made unbindable (bad magic), then put back as saved. */
static void unbind_break_restore(struct __test_metadata *_metadata,
				 const struct vmclock_abi *saved)
{
	int ret;

	ASSERT_EQ(0, vmc_unbind());
	ASSERT_EQ(0, host_cmd("init --magic 0x12345678"))
		TH_LOG("%s", host_error());
	ret = host_restore_page(saved);
	ASSERT_EQ(0, ret) TH_LOG("restore the page: %s", host_error());
}

TEST_F(restore, host_rewrites_every_field_as_found)
{
	struct vmclock_abi now;
	int ret;

	unbind_break_restore(_metadata, &self->saved);
	ASSERT_EQ(0, vmc_bind());
	ASSERT_TRUE(wait_path(VMC_DEV, true, VMC_SETTLE_MS));
	ret = vmc_save_page(&now, NULL);
	ASSERT_EQ(0, ret) TH_LOG("cannot read the page back: %s", strerror(-ret));
	/*
	 * The identity of the clock and the disruption state; the clock
	 * data itself may have moved on since (the rig's steady updates).
	 */
	EXPECT_EQ(self->saved.magic, now.magic);
	EXPECT_EQ(self->saved.size, now.size);
	EXPECT_EQ(self->saved.version, now.version);
	EXPECT_EQ(self->saved.counter_id, now.counter_id);
	EXPECT_EQ(self->saved.time_type, now.time_type);
	EXPECT_EQ(self->saved.flags, now.flags);
	EXPECT_EQ(self->saved.tai_offset_sec, now.tai_offset_sec);
	EXPECT_EQ(self->saved.disruption_marker, now.disruption_marker);
	EXPECT_EQ(self->saved.vm_generation_counter, now.vm_generation_counter);
}

TEST_F(restore, page_as_found_binds_as_at_the_start)
{
	bool dev, ptp;
	int ret;

	unbind_break_restore(_metadata, &self->saved);
	ret = vmc_bind();
	dev = wait_path(VMC_DEV, true, VMC_SETTLE_MS);
	ptp = wait_ptp(true, self->had_ptp ? VMC_SETTLE_MS : 200);
	EXPECT_TRUE(!ret && dev && ptp == self->had_ptp)
		TH_LOG("bind %s, /dev/vmclock0 %s, PTP clock %s (was %s)",
		       ret ? strerror(-ret) : "ok", dev ? "present" : "absent",
		       ptp ? "present" : "absent",
		       self->had_ptp ? "present" : "absent");
}

VMC_HARNESS_MAIN
