// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_rig: test-only guest helper of the vmclock QEMU rig.
 *
 * The rig's host side talks to the guest through a mailbox page of guest
 * RAM (layout in tools/vmclock-host/rig-mailbox.h). This module does the
 * two things that need the kernel:
 *
 *  - Notify on request. QEMU offers the host no way to raise an ACPI Notify
 *    on x86, so the rig's SSDT carries a method that does
 *    Notify(\_SB.VCLK, 0x80). A kthread polls RIG_MB_NOTIFY_REQ and, for
 *    each new value, evaluates that method, waits until the ACPI notify
 *    work has run, then copies the value to RIG_MB_NOTIFY_DONE.
 *
 *  - /dev/vmclock_rig. Its mmap() gives user space the mailbox page with the
 *    same write-back attribute as the kernel's mapping: /dev/mem would ask
 *    for uncached and PAT refuses the conflicting type.
 *
 *  - A second VMClock device on request (parameter platform_page): a plain
 *    platform device "vmclock" with the page as its only resource, no ACPI
 *    companion, no interrupt: the shape of a DT node without "interrupts"
 *    on a machine where the rig has no device tree.
 *
 * Not for production use: no product code depends on it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/acpi.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include "rig-mailbox.h"

static unsigned long long mailbox = RIG_MAILBOX_GPA;
module_param(mailbox, ullong, 0444);
MODULE_PARM_DESC(mailbox, "guest-physical address of the rig mailbox page");

/*
 * The rig's own canary: a kernel WARNING on load, so the runner's kernel-log
 * check can be seen to fail a run (tests/vm/boots/rig-canary.sh).
 */
static bool warn_on_load;
module_param(warn_on_load, bool, 0444);
MODULE_PARM_DESC(warn_on_load, "raise a deliberate WARNING on load (rig self-test)");

/*
 * The debug kernel's canary (tests/vm/boots/debug-canary.sh): on load, one
 * bug of each kind its detectors must report, so the runner's kernel-log
 * check can be seen to catch them: a leak (kmemleak), a use-after-free
 * (KASAN or KFENCE), a shift out of range (UBSAN) and an ABBA lock order
 * (lockdep). Never set outside that boot.
 */
static bool debug_canary;
module_param(debug_canary, bool, 0444);
MODULE_PARM_DESC(debug_canary, "commit deliberate leak, use-after-free, UBSAN and lockdep bugs (rig self-test)");

static char *notify_method = "\\_SB.VCLK.NTFY";
module_param(notify_method, charp, 0444);
MODULE_PARM_DESC(notify_method,
		 "absolute ACPI path of the method doing Notify(VCLK, 0x80); empty disables the notify thread");

static void *rig_mb;		/* kernel WB mapping of the mailbox */
static acpi_handle rig_notify_handle;
static struct task_struct *rig_thread;
static unsigned int rig_notifies;	/* only touched by rig_thread */
static unsigned int rig_failures;

static u32 rig_mb_read32(unsigned int off)
{
	__le32 *p = rig_mb + off;

	return le32_to_cpu(READ_ONCE(*p));
}

static void rig_mb_write32(unsigned int off, u32 val)
{
	__le32 *p = rig_mb + off;

	WRITE_ONCE(*p, cpu_to_le32(val));
}

/* Evaluate the Notify method and wait until the queued notify handlers ran. */
static bool rig_do_notify(void)
{
	acpi_status status;

	status = acpi_evaluate_object(rig_notify_handle, NULL, NULL, NULL);
	if (ACPI_FAILURE(status)) {
		pr_err("evaluating %s failed: %s\n", notify_method,
		       acpi_format_exception(status));
		return false;
	}
	/*
	 * Notify() only queues the handler on kacpi_notify_wq; flushing it
	 * makes NOTIFY_DONE mean "the driver's handler has run".
	 */
	acpi_os_wait_events_complete();
	return true;
}

static int rig_notify_thread(void *unused)
{
	u32 done = rig_mb_read32(RIG_MB_NOTIFY_DONE);
	u32 failed = done;
	bool have_failed = false;

	while (!kthread_should_stop()) {
		u32 req = rig_mb_read32(RIG_MB_NOTIFY_REQ);

		/* Pairs with the host's "write the page, then NOTIFY_REQ". */
		smp_rmb();
		if (req != done && !(have_failed && req == failed)) {
			if (rig_do_notify()) {
				rig_notifies++;
				done = req;
				/* The handler's effects before DONE. */
				smp_wmb();
				rig_mb_write32(RIG_MB_NOTIFY_DONE, req);
			} else {
				/*
				 * Leave DONE alone so the host times out, and
				 * do not retry this request (no log flood).
				 */
				rig_failures++;
				failed = req;
				have_failed = true;
			}
		}
		usleep_range(200, 500);
	}
	return 0;
}

static int rig_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff != 0 || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	/* A private writable mapping of a PFN range would need COW. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/*
	 * vm_page_prot is left as is (write-back), matching memremap(WB):
	 * PAT then sees one memory type for the page.
	 */
	return remap_pfn_range(vma, vma->vm_start, PHYS_PFN(mailbox),
			       PAGE_SIZE, vma->vm_page_prot);
}

static const struct file_operations rig_fops = {
	.owner = THIS_MODULE,
	.mmap = rig_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice rig_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmclock_rig",
	.fops = &rig_fops,
};

/* The VMClock page is the page before the mailbox (rig-mailbox.h). */
static struct platform_device *rig_pdev;
static DEFINE_MUTEX(rig_pdev_lock);

static int rig_platform_page_set(const char *val,
				 const struct kernel_param *kp)
{
	struct resource res = DEFINE_RES_MEM(mailbox - PAGE_SIZE, PAGE_SIZE);
	struct platform_device *pdev;
	bool on;
	int ret;

	ret = kstrtobool(val, &on);
	if (ret)
		return ret;
	mutex_lock(&rig_pdev_lock);
	if (on && !rig_pdev) {
		pdev = platform_device_register_simple("vmclock",
						       PLATFORM_DEVID_NONE,
						       &res, 1);
		if (IS_ERR(pdev))
			ret = PTR_ERR(pdev);
		else
			rig_pdev = pdev;
	} else if (!on && rig_pdev) {
		platform_device_unregister(rig_pdev);
		rig_pdev = NULL;
	}
	mutex_unlock(&rig_pdev_lock);
	return ret;
}

static int rig_platform_page_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%c\n", READ_ONCE(rig_pdev) ? 'Y' : 'N');
}

static const struct kernel_param_ops rig_platform_page_ops = {
	.set = rig_platform_page_set,
	.get = rig_platform_page_get,
};
module_param_cb(platform_page, &rig_platform_page_ops, NULL, 0644);
MODULE_PARM_DESC(platform_page,
		 "Y: add a platform device \"vmclock\" for the page (no ACPI, no IRQ); N: remove it");

static int rig_setup_notify(void)
{
	acpi_status status;

	if (!notify_method || !notify_method[0]) {
		pr_info("notify thread disabled (empty notify_method)\n");
		return 0;
	}
	status = acpi_get_handle(NULL, notify_method, &rig_notify_handle);
	if (ACPI_FAILURE(status)) {
		pr_err("ACPI method %s not found (%s); pass notify_method= to disable\n",
		       notify_method, acpi_format_exception(status));
		return -ENODEV;
	}
	rig_thread = kthread_run(rig_notify_thread, NULL, "vmclock_rig");
	if (IS_ERR(rig_thread)) {
		int ret = PTR_ERR(rig_thread);

		rig_thread = NULL;
		return ret;
	}
	return 0;
}

static DEFINE_MUTEX(rig_canary_a);
static DEFINE_MUTEX(rig_canary_b);
static void *rig_canary_ptr;
static unsigned int rig_canary_shift = 64;

static noinline void rig_debug_canary(void)
{
	unsigned int i;
	char *p;

	/*
	 * lockdep first: a KASAN report taints the kernel, which turns lock
	 * debugging off. a then b, b then a (never concurrently: no deadlock).
	 */
	mutex_lock(&rig_canary_a);
	mutex_lock(&rig_canary_b);
	mutex_unlock(&rig_canary_b);
	mutex_unlock(&rig_canary_a);
	mutex_lock(&rig_canary_b);
	mutex_lock(&rig_canary_a);
	mutex_unlock(&rig_canary_a);
	mutex_unlock(&rig_canary_b);

	/* kmemleak: the only pointers to these are overwritten at once. */
	for (i = 0; i < 16; i++)
		WRITE_ONCE(rig_canary_ptr, kmalloc(96, GFP_KERNEL));
	WRITE_ONCE(rig_canary_ptr, NULL);

	/* UBSAN: 1 << 64. */
	pr_info("vmclock_rig: canary shift %llu\n", 1ULL << READ_ONCE(rig_canary_shift));

	/* KASAN (or KFENCE): a read of freed memory. */
	p = kmalloc(32, GFP_KERNEL);
	if (!p)
		return;
	kfree(p);
	pr_info("vmclock_rig: canary read %d\n", READ_ONCE(p[8]));
}

static int __init rig_init(void)
{
	int ret;

	WARN(warn_on_load, "vmclock_rig: deliberate warning (warn_on_load=1)\n");
	if (debug_canary)
		rig_debug_canary();

	if (!PAGE_ALIGNED(mailbox)) {
		pr_err("mailbox 0x%llx is not page aligned\n", mailbox);
		return -EINVAL;
	}
	rig_mb = memremap(mailbox, PAGE_SIZE, MEMREMAP_WB);
	if (!rig_mb) {
		pr_err("cannot map mailbox at 0x%llx\n", mailbox);
		return -ENOMEM;
	}
	ret = misc_register(&rig_misc);
	if (ret)
		goto err_unmap;
	ret = rig_setup_notify();
	if (ret)
		goto err_misc;
	pr_info("mailbox at 0x%llx, notify method %s\n", mailbox,
		rig_thread ? notify_method : "(none)");
	return 0;

err_misc:
	misc_deregister(&rig_misc);
err_unmap:
	memunmap(rig_mb);
	return ret;
}

static void __exit rig_exit(void)
{
	if (rig_pdev)
		platform_device_unregister(rig_pdev);
	if (rig_thread) {
		/* kthread_stop() waits, so the counters are final after it. */
		kthread_stop(rig_thread);
		pr_info("%u notifies done, %u failed\n", rig_notifies,
			rig_failures);
	}
	misc_deregister(&rig_misc);
	memunmap(rig_mb);
}

module_init(rig_init);
module_exit(rig_exit);

MODULE_DESCRIPTION("vmclock test rig: mailbox mmap and ACPI Notify on request (test only)");
MODULE_LICENSE("GPL");
