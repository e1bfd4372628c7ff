// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_xts: PTP_SYS_OFFSET_PRECISE reads the page once, on the kselftest
 * harness. The driver remembers which cross-timestamp method the system
 * clock takes (the TSC, kvm-clock, or before 6.9 a timekeeper snapshot)
 * instead of trying each in turn, and chooses again, without reading the
 * page, when the clocksource changes. Counted with the driver's debugfs
 * counter of the consistent page copies its PTP clock took
 * (vmclock/vmclock0/ptp_page_reads).
 *
 * The timekeeper calls the driver back a second time when a tick updates
 * it during the call (its seqcount retry): not a method tried in vain, but
 * an extra read all the same. So calls are counted in batches and the
 * smallest batch is the figure: a batch without a tick in it reads the
 * page exactly once a call.
 *
 * Every test starts on the TSC clocksource (it skips otherwise, as on
 * arm64) and its teardown switches back to it when the test moved to hpet
 * or acpi_pm.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/ptp_clock.h>

#include "vmc_harness.h"

/*
 * GCC's -Wclobbered (in -Wextra) flags the harness's own "child" in each
 * test wrapper once a test body calls a helper that is not inlined. The
 * wrapper keeps it in memory across its setjmp (checked in the generated
 * code): a false alarm in kselftest_harness.h, not in this file.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif

#define PAGE_READS	"/sys/kernel/debug/vmclock/" VMC_PTP_NAME "/ptp_page_reads"
#define BATCHES		10
#define BATCH_CALLS	10

/*
 * Tests that switch the clocksource: the switch back waits up to 10 s for
 * the TSC on top of the setup's 12 s of waits, slow under TCG; a test
 * killed at its timeout skips the teardown that puts the TSC back.
 */
#define SWITCH_TIMEOUT_S	90

static int page_reads(uint64_t *n)
{
	char buf[32], *end;
	int ret;

	ret = file_read(PAGE_READS, buf, sizeof(buf));
	if (ret)
		return ret;
	*n = strtoull(buf, &end, 10);
	return end == buf ? -EINVAL : 0;
}

static int precise(int fd)
{
	struct ptp_sys_offset_precise x;

	memset(&x, 0, sizeof(x));
	return ioctl(fd, PTP_SYS_OFFSET_PRECISE2, &x) ? -errno : 0;
}

/*
 * Page reads of the cheapest of BATCHES batches of BATCH_CALLS PRECISE
 * calls, each call answering @want (0 or -errno); the largest in *max.
 */
static int reads_per_batch(int fd, int want, uint64_t *min, uint64_t *max)
{
	uint64_t before, after;
	int i, j, ret;

	*min = UINT64_MAX;
	*max = 0;
	for (i = 0; i < BATCHES; i++) {
		ret = page_reads(&before);
		for (j = 0; !ret && j < BATCH_CALLS; j++) {
			ret = precise(fd);
			if (ret == want)
				ret = 0;
			else if (!ret)
				ret = -EPROTO;	/* succeeded where it should fail */
		}
		if (!ret)
			ret = page_reads(&after);
		if (ret)
			return ret;
		if (after - before < *min)
			*min = after - before;
		if (after - before > *max)
			*max = after - before;
	}
	return 0;
}

/* hpet or acpi_pm, whichever the system offers; NULL if neither. */
static const char *other_clocksource(void)
{
	static const char *const others[] = { "hpet", "acpi_pm" };
	char avail[256] = "";
	unsigned int i;

	file_read(CLOCKSOURCE_AVAIL, avail, sizeof(avail));
	for (i = 0; i < ARRAY_SIZE(others); i++)
		if (strstr(avail, others[i]))
			return others[i];
	return NULL;
}

FIXTURE(xts) {
	int fd;			/* the PHC */
	bool switched;		/* the test moved off the TSC */
};

static bool tsc_available(void)
{
	char avail[256], *tok, *save = NULL;

	if (file_read(CLOCKSOURCE_AVAIL, avail, sizeof(avail)))
		return false;
	for (tok = strtok_r(avail, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, "tsc"))
			return true;
	return false;
}

FIXTURE_SETUP(xts)
{
	char dev[64];
	int err;

	self->fd = -1;
	if (!wait_ptp(true, VMC_SETTLE_MS) || ptp_find(dev, sizeof(dev)) < 0)
		SKIP(return, "no PTP clock named " VMC_PTP_NAME);
	/* Wait only for a TSC the kernel has (none on arm64: skip at once). */
	if (!tsc_available() || !wait_clocksource("tsc", 10000))
		SKIP(return, "the clocksource is not the TSC");
	self->fd = open(dev, O_RDWR);
	err = errno;
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", dev, strerror(err));
}

FIXTURE_TEARDOWN(xts)
{
	bool back = true;

	if (self->fd >= 0)
		close(self->fd);
	if (self->switched)
		back = !file_write(CLOCKSOURCE_CUR, "tsc") && wait_clocksource("tsc", 10000);
	EXPECT_TRUE(back) TH_LOG("could not switch the clocksource back to tsc");
}

/*
 * The cheapest batch of PRECISE2 calls on clocksource @cs (each answering
 * @want) must read the page @per_call times a call. The figures go to the
 * log either way.
 */
static void check_reads(struct __test_metadata *_metadata, int fd, const char *cs, int want,
			unsigned int per_call)
{
	uint64_t min, max;
	int ret;

	/* The first call may choose the method again. */
	precise(fd);
	ret = reads_per_batch(fd, want, &min, &max);
	ASSERT_EQ(0, ret)
		TH_LOG("clocksource %s: want every PRECISE2 to answer %s; %s", cs,
		       want ? strerror(-want) : "0",
		       ret == -EPROTO ? "one succeeded" : strerror(-ret));
	ksft_print_msg("clocksource %s: %" PRIu64 " to %" PRIu64 " page reads per %u PRECISE2\n",
		       cs, min, max, BATCH_CALLS);
	EXPECT_EQ((uint64_t)per_call * BATCH_CALLS, min)
		TH_LOG("clocksource %s: want %u page read%s a call; "
		       "the cheapest batch of %u calls read the page %" PRIu64 " times",
		       cs, per_call, per_call == 1 ? "" : "s", BATCH_CALLS, min);
}

/*
 * Moves to hpet or acpi_pm; false when the system offers neither or the
 * switch did not happen (the teardown puts the TSC back in both cases).
 */
static bool switch_to_other(bool *switched, const char **other)
{
	*other = other_clocksource();
	if (!*other)
		return false;
	*switched = true;
	return !file_write(CLOCKSOURCE_CUR, *other) && wait_clocksource(*other, 2000);
}

#define NO_OTHER	"cannot switch to hpet or acpi_pm"

/*
 * The driver's method chosen on the TSC, then calls on hpet or acpi_pm (as
 * many as the other clocksource's test makes), then the TSC again: where
 * the old program's single sequence stood after its check on the other
 * clocksource. False when there is no other clocksource to switch to.
 */
static bool tsc_other_tsc(struct __test_metadata *_metadata, int fd, bool *switched)
{
	const char *other;
	int i;

	precise(fd);
	if (!switch_to_other(switched, &other))
		return false;
	for (i = 0; i < 1 + BATCHES * BATCH_CALLS; i++)
		precise(fd);
	ASSERT_TRUE(!file_write(CLOCKSOURCE_CUR, "tsc") && wait_clocksource("tsc", 10000))
		TH_LOG("could not switch the clocksource back to tsc");
	return true;
}

TEST_F(xts, tsc_precise2_reads_page_once_a_call)
{
	check_reads(_metadata, self->fd, "tsc", 0, 1);
}

/* Nothing to choose: answered without looking at the page. */
TEST_F_TIMEOUT(xts, non_tsc_precise2_reads_page_0_times, SWITCH_TIMEOUT_S)
{
	const char *other;

	/* The method the TSC chose is the one the switch makes stale. */
	precise(self->fd);
	if (!switch_to_other(&self->switched, &other))
		SKIP(return, NO_OTHER);
	check_reads(_metadata, self->fd, other, -EOPNOTSUPP, 0);
}

TEST_F_TIMEOUT(xts, back_on_tsc_precise2_chooses_again, SWITCH_TIMEOUT_S)
{
	int ret;

	if (!tsc_other_tsc(_metadata, self->fd, &self->switched))
		SKIP(return, NO_OTHER);
	ret = precise(self->fd);
	EXPECT_EQ(0, ret) TH_LOG("want PRECISE2 to succeed on tsc again, got %s", strerror(-ret));
}

TEST_F_TIMEOUT(xts, tsc_again_precise2_reads_page_once_a_call, SWITCH_TIMEOUT_S)
{
	if (!tsc_other_tsc(_metadata, self->fd, &self->switched))
		SKIP(return, NO_OTHER);
	check_reads(_metadata, self->fd, "tsc again", 0, 1);
}

VMC_HARNESS_MAIN
