// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_xts: PTP_SYS_OFFSET_PRECISE reads the page once. The driver
 * remembers which cross-timestamp method the system clock takes (the TSC,
 * kvm-clock, or before 6.9 a timekeeper snapshot) instead of trying each in
 * turn, and chooses again, without reading the page, when the clocksource
 * changes. Counted with the driver's debugfs counter of the consistent
 * page copies its PTP clock took (vmclock/vmclock0/ptp_page_reads).
 *
 * The timekeeper calls the driver back a second time when a tick updates
 * it during the call (its seqcount retry): not a method tried in vain, but
 * an extra read all the same. So calls are counted in batches and the
 * smallest batch is the figure: a batch without a tick in it reads the
 * page exactly once a call.
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

#include "common.h"
#include "tap.h"

#define PAGE_READS	"/sys/kernel/debug/vmclock/" VMC_PTP_NAME "/ptp_page_reads"
#define BATCHES		10
#define BATCH_CALLS	10

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

static void check_reads(int fd, const char *cs, int want, unsigned int per_call)
{
	uint64_t min, max;
	char name[160];
	int ret;

	snprintf(name, sizeof(name), "clocksource %s: PRECISE2 reads the page %u time%s a call",
		 cs, per_call, per_call == 1 ? "" : "s");
	/* The first call may choose the method again. */
	precise(fd);
	ret = reads_per_batch(fd, want, &min, &max);
	if (ret) {
		tap_fail(name, "%s", strerror(-ret));
		return;
	}
	tap_diag("clocksource %s: %" PRIu64 " to %" PRIu64 " page reads per %u PRECISE2",
		 cs, min, max, BATCH_CALLS);
	tap_check(min == (uint64_t)per_call * BATCH_CALLS, name,
		  "the cheapest batch of %u calls read the page %" PRIu64 " times",
		  BATCH_CALLS, min);
}

/* hpet or acpi_pm, whichever the system offers; NULL if neither. */
static const char *other_clocksource(void)
{
	static const char *const others[] = { "hpet", "acpi_pm" };
	char avail[256] = "";
	unsigned int i;

	file_read(CLOCKSOURCE_AVAIL, avail, sizeof(avail));
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (strstr(avail, others[i]))
			return others[i];
	return NULL;
}

int main(void)
{
	const char *why, *other;
	char dev[64];
	int fd, ret;

	tap_start("vmclock_xts: page reads per PTP_SYS_OFFSET_PRECISE");
	why = vmc_unavailable_reason();
	if (why)
		tap_skip_all("%s", why);
	watchdog_arm(120, "vmclock_xts");

	if (!wait_ptp(true, VMC_SETTLE_MS) || ptp_find(dev, sizeof(dev)) < 0)
		tap_skip_all("no PTP clock named " VMC_PTP_NAME);
	if (!wait_clocksource("tsc", 10000))
		tap_skip_all("the clocksource is not the TSC");
	fd = open(dev, O_RDWR);
	if (fd < 0)
		tap_bail("open %s: %s", dev, strerror(errno));

	check_reads(fd, "tsc", 0, 1);

	other = other_clocksource();
	if (!other || file_write(CLOCKSOURCE_CUR, other) ||
	    !wait_clocksource(other, 2000)) {
		tap_skip("another clocksource: no page read, then back on tsc",
			 "cannot switch to hpet or acpi_pm");
		close(fd);
		return tap_finish();
	}
	/* Nothing to choose: answered without looking at the page. */
	check_reads(fd, other, -EOPNOTSUPP, 0);

	if (file_write(CLOCKSOURCE_CUR, "tsc") || !wait_clocksource("tsc", 10000))
		tap_bail("could not switch the clocksource back to tsc");
	ret = precise(fd);
	tap_check(!ret, "back on tsc: PRECISE2 chooses its method again",
		  "%s", strerror(-ret));
	check_reads(fd, "tsc again", 0, 1);

	close(fd);
	return tap_finish();
}
