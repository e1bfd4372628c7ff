// SPDX-License-Identifier: GPL-2.0
/*
 * ptp_vmclock: the VMClock device (probe, removal, mapping, validation).
 *
 * A hypervisor describes the VMClock page with an ACPI device (AMZNC10C or
 * VMCLOCK, as _HID or _CID) whose _CRS holds exactly one memory descriptor,
 * or with a DT node "amazon,vmclock" (reg, optional interrupt). The page is
 * mapped once, validated once (waiting a moment for a page in flux), and
 * from then on never trusted: every value read from it goes through the
 * time-bounded seq reader of vmclock-core.h.
 */

#include <linux/acpi.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mod_devicetable.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "compat.h"
#include "vmclock.h"

/* Smallest page worth mapping: the header fields up to and with flags. */
#define VMCLOCK_MIN_SIZE	offsetofend(struct vmclock_abi, flags)

static DEFINE_IDA(vmclock_ida);

/**
 * vmclock_retry_start() - begin a retry loop bounded in time.
 * @r: the loop's state
 * @ms: the bound
 *
 * The deadline is armed by the first failed attempt, not here: a page not
 * in flux, the rule, costs no clock read. The first attempt is a copy of
 * at most one page, so the bound still holds from the caller's view.
 */
void vmclock_retry_start(struct vmclock_retry *r, unsigned int ms)
{
	r->ms = ms;
	r->deadline_ns = 0;
	r->last = false;
}

/**
 * vmclock_retry_again() - after a failed attempt: try again?
 * @r: the loop's state
 *
 * Spins (the hypervisor finishes an update in microseconds as a rule) but
 * lets the scheduler in, so a writer stuck for milliseconds costs the
 * reader time, not the CPU. The loop gives up only after an attempt that
 * began past the deadline failed too: a reader kept off the CPU past the
 * deadline still looks at the page once more. Process context only.
 *
 * Return: true to try again, false to give up.
 */
bool vmclock_retry_again(struct vmclock_retry *r)
{
	u64 now;

	if (r->last)
		return false;
	cond_resched();
	cpu_relax();
	now = ktime_get_mono_fast_ns();
	if (!r->deadline_ns)
		r->deadline_ns = now + (u64)r->ms * NSEC_PER_MSEC;
	r->last = now >= r->deadline_ns;
	return true;
}

/**
 * vmclock_snapshot_retry() - vmclock_snapshot()'s bounded retry loop.
 * @st: the device
 * @snap: filled on success
 * @read_counter: reads the CPU counter inside the seq window (may be NULL)
 * @ctx: passed to @read_counter
 *
 * Out of line: reached when the inline attempt found the page in flux, or
 * on a page shorter than today's ABI. A copy is consistent with itself,
 * whatever happened before it: a disruption that lands while we retry only
 * means the copy shows it.
 *
 * Return: 0, or -EBUSY when the page stayed in flux for
 * VMCLOCK_SEQ_TIMEOUT_MS.
 */
int vmclock_snapshot_retry(struct vmclock_state *st, struct vmclock_snap *snap,
			   u64 (*read_counter)(void *ctx), void *ctx)
{
	struct vmclock_retry r;

	vmclock_retry_start(&r, VMCLOCK_SEQ_TIMEOUT_MS);
	do {
		if (!vmclock_snap_read(st->page, st->size, snap, read_counter,
				       ctx))
			return 0;
	} while (vmclock_retry_again(&r));
	return -EBUSY;
}

static void vmclock_state_release(struct kref *kref)
{
	struct vmclock_state *st = container_of(kref, struct vmclock_state,
						kref);

	if (st->page)
		memunmap((void *)st->page);
	free_percpu(st->ptp_page_reads);
	kfree(st);
}

void vmclock_state_put(struct vmclock_state *st)
{
	kref_put(&st->kref, vmclock_state_release);
}

static void vmclock_put_action(void *data)
{
	vmclock_state_put(data);
}

static void vmclock_ida_free(void *data)
{
	struct vmclock_state *st = data;

	ida_free(&vmclock_ida, st->index);
}

#ifdef CONFIG_ACPI
struct vmclock_crs {
	struct device *dev;
	struct resource res;
	unsigned int nr_mem;
};

static acpi_status vmclock_acpi_resource(struct acpi_resource *ares,
					 void *data)
{
	struct vmclock_crs *crs = data;
	struct resource_win win = {};
	bool ok;

	switch (ares->type) {
	case ACPI_RESOURCE_TYPE_END_TAG:
		return AE_OK;
	case ACPI_RESOURCE_TYPE_MEMORY24:
	case ACPI_RESOURCE_TYPE_MEMORY32:
	case ACPI_RESOURCE_TYPE_FIXED_MEMORY32:
		ok = acpi_dev_resource_memory(ares, &win.res);
		break;
	case ACPI_RESOURCE_TYPE_ADDRESS32:
	case ACPI_RESOURCE_TYPE_ADDRESS64:
	case ACPI_RESOURCE_TYPE_EXTENDED_ADDRESS64:
		ok = acpi_dev_resource_address_space(ares, &win) &&
		     resource_type(&win.res) == IORESOURCE_MEM;
		break;
	default:
		dev_err(crs->dev, "unexpected resource type %u in _CRS\n",
			ares->type);
		return AE_ERROR;
	}

	if (!ok) {
		dev_err(crs->dev, "unusable memory descriptor in _CRS\n");
		return AE_ERROR;
	}
	if (++crs->nr_mem > 1) {
		dev_err(crs->dev, "more than one memory descriptor in _CRS\n");
		return AE_ERROR;
	}
	crs->res = win.res;
	return AE_OK;
}

static int vmclock_acpi_region(struct device *dev, struct resource *res)
{
	struct vmclock_crs crs = { .dev = dev };
	acpi_status status;

	status = acpi_walk_resources(ACPI_HANDLE(dev), METHOD_NAME__CRS,
				     vmclock_acpi_resource, &crs);
	if (ACPI_FAILURE(status)) {
		/* AE_ERROR comes from the walker, which said why. */
		if (status != AE_ERROR)
			dev_err(dev, "cannot read _CRS: %s\n",
				acpi_format_exception(status));
		return -ENODEV;
	}
	if (!crs.nr_mem) {
		dev_err(dev, "no memory descriptor in _CRS\n");
		return -ENODEV;
	}
	*res = crs.res;
	return 0;
}
#else
static int vmclock_acpi_region(struct device *dev, struct resource *res)
{
	return -ENODEV;
}
#endif

static int vmclock_get_region(struct platform_device *pdev,
			      struct resource *res)
{
	struct resource *r;

	if (has_acpi_companion(&pdev->dev))
		return vmclock_acpi_region(&pdev->dev, res);

	r = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	if (!r) {
		dev_err(&pdev->dev, "no memory region\n");
		return -ENODEV;
	}
	*res = *r;
	return 0;
}

/* Map the page: cacheable like RAM, shared with the hypervisor (SEV/TDX). */
static int vmclock_map(struct vmclock_state *st, const struct resource *res)
{
	resource_size_t region = resource_size(res);

	if (region < VMCLOCK_MIN_SIZE) {
		dev_err(st->dev, "region of %pa bytes is too small\n", &region);
		return -EINVAL;
	}
	st->page = memremap(res->start, region, MEMREMAP_WB | MEMREMAP_DEC);
	if (!st->page) {
		dev_err(st->dev, "cannot map %pR\n", res);
		return -ENOMEM;
	}
	st->phys = res->start;
	return 0;
}

/* The fields outside the seq_count protocol. */
struct vmclock_header {
	u32 magic;
	u32 size;
	u16 version;
};

static void vmclock_read_header(const struct vmclock_abi *page,
				struct vmclock_header *h)
{
	h->magic = le32_to_cpu(READ_ONCE(page->magic));
	h->size = le32_to_cpu(READ_ONCE(page->size));
	h->version = le16_to_cpu(READ_ONCE(page->version));
}

static bool vmclock_same_header(const struct vmclock_header *a,
				const struct vmclock_header *b)
{
	return a->magic == b->magic && a->size == b->size &&
	       a->version == b->version;
}

static int vmclock_check_header(struct vmclock_state *st,
				const struct vmclock_header *h,
				resource_size_t region, bool report)
{
	if (h->magic != VMCLOCK_MAGIC) {
		if (report)
			dev_err(st->dev, "bad magic %#x\n", h->magic);
		return -EINVAL;
	}
	if (h->version != 1) {
		if (report)
			dev_err(st->dev, "unsupported version %u\n", h->version);
		return -EINVAL;
	}
	if (h->size < VMCLOCK_MIN_SIZE || h->size > region) {
		if (report)
			dev_err(st->dev, "size %u outside [%zu, %pa]\n", h->size,
				VMCLOCK_MIN_SIZE, &region);
		return -EINVAL;
	}
	return 0;
}

/*
 * Validate the page and take the first copy. magic, size and version are
 * outside the seq_count protocol, so a hypervisor still setting the page up
 * gives no sign of it: a page that fails the checks, stays in flux, or
 * changes its header meanwhile is looked at again for up to
 * VMCLOCK_PROBE_WAIT_MS before the probe gives up.
 */
static int vmclock_settle(struct vmclock_state *st, resource_size_t region,
			  struct vmclock_snap *snap)
{
	u64 deadline = ktime_get_mono_fast_ns() +
		       (u64)VMCLOCK_PROBE_WAIT_MS * NSEC_PER_MSEC;
	struct vmclock_header h, again;
	bool last;
	int ret;

	do {
		last = ktime_get_mono_fast_ns() >= deadline;
		vmclock_read_header(st->page, &h);
		ret = vmclock_check_header(st, &h, region, false);
		if (!ret) {
			st->size = h.size;
			ret = vmclock_snapshot(st, snap, NULL, NULL);
		}
		if (!ret) {
			vmclock_read_header(st->page, &again);
			if (vmclock_same_header(&h, &again))
				return 0;
			ret = -EBUSY;
		}
		if (!last)
			usleep_range(1000, 2000);
	} while (!last);

	if (ret == -EINVAL)
		vmclock_check_header(st, &h, region, true);
	else
		dev_err(st->dev, "page still in flux after %u ms\n",
			VMCLOCK_PROBE_WAIT_MS);
	return ret;
}

static int vmclock_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct vmclock_state *st;
	struct vmclock_snap snap;
	struct resource res;
	int ret;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->ptp_page_reads = alloc_percpu(u64);
	if (!st->ptp_page_reads) {
		kfree(st);
		return -ENOMEM;
	}
	kref_init(&st->kref);
	st->dev = dev;
	init_waitqueue_head(&st->waitq);
	INIT_LIST_HEAD(&st->node);
	vmclock_detector_prepare(st);

	/* From here on the device's reference is dropped by devm. */
	ret = devm_add_action_or_reset(dev, vmclock_put_action, st);
	if (ret)
		return ret;

	ret = vmclock_get_region(pdev, &res);
	if (ret)
		return ret;

	ret = vmclock_map(st, &res);
	if (ret)
		return ret;

	ret = vmclock_settle(st, resource_size(&res), &snap);
	if (ret)
		return ret;

	ret = ida_alloc(&vmclock_ida, GFP_KERNEL);
	if (ret < 0)
		return ret;
	st->index = ret;
	ret = devm_add_action_or_reset(dev, vmclock_ida_free, st);
	if (ret)
		return ret;
	snprintf(st->name, sizeof(st->name), "vmclock%d", st->index);

	ret = vmclock_debugfs_add(st);
	if (ret)
		return ret;

	/*
	 * Teardown runs in reverse: notification sources go first, then the
	 * detector work, then the PTP clock, then the misc device, so no
	 * handler or work ever runs against an unregistered device.
	 */
	if (st->size >= PAGE_SIZE) {
		ret = vmclock_miscdev_register(st);
		if (ret)
			return ret;
	}

	if (vmclock_ptp_usable(st, &snap)) {
		ret = vmclock_ptp_register(st);
		if (ret)
			return ret;
	}

	if (!st->misc_registered && !st->ptp) {
		dev_info(dev, "page of %u bytes without usable clock data: nothing to expose\n",
			 st->size);
		return -ENODEV;
	}

	ret = vmclock_notify_init(st, &snap);
	if (ret)
		return ret;

	dev_info(dev, "%s: misc device %s, PTP clock %s\n", st->name,
		 st->misc_registered ? "yes" : "no", st->ptp ? "yes" : "no");
	return 0;
}

static const struct acpi_device_id vmclock_acpi_ids[] = {
	{ "AMZNC10C", 0 },
	{ "VMCLOCK", 0 },
	{}
};
MODULE_DEVICE_TABLE(acpi, vmclock_acpi_ids);

static const struct of_device_id vmclock_of_ids[] = {
	{ .compatible = "amazon,vmclock" },
	{}
};
MODULE_DEVICE_TABLE(of, vmclock_of_ids);

static struct platform_driver vmclock_platform_driver = {
	.probe = vmclock_probe,
	.driver = {
		.name = "vmclock",
		.acpi_match_table = vmclock_acpi_ids,
		.of_match_table = vmclock_of_ids,
	},
};

static int __init vmclock_init(void)
{
	int ret;

	ret = vmclock_notify_module_init();
	if (ret)
		return ret;
	vmclock_debugfs_init();
	ret = platform_driver_register(&vmclock_platform_driver);
	if (ret) {
		vmclock_debugfs_exit();
		vmclock_notify_module_exit();
	}
	return ret;
}
module_init(vmclock_init);

static void __exit vmclock_exit(void)
{
	platform_driver_unregister(&vmclock_platform_driver);
	vmclock_debugfs_exit();
	vmclock_notify_module_exit();
	ida_destroy(&vmclock_ida);
}
module_exit(vmclock_exit);

MODULE_DESCRIPTION("PTP clock and /dev/vmclock for the VMClock shared page");
MODULE_AUTHOR("vmclock project");
MODULE_LICENSE("GPL");
