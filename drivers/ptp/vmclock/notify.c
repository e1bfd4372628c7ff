// SPDX-License-Identifier: GPL-2.0
/*
 * ptp_vmclock: change detection.
 *
 * One delayed work item per device compares the page with what it saw last:
 * every new seq_count wakes the pollers of /dev/vmclockN, and a new
 * disruption_marker or vm_generation_counter also sends one KOBJ_CHANGE
 * uevent (at most one per VMCLOCK_UEVENT_GAP_MS). The work runs when the
 * hypervisor notifies (ACPI Notify or the DT interrupt, if the page has
 * NOTIFICATION_PRESENT; the handler wakes the pollers itself, without
 * waiting for the work), and otherwise polls: every poll_interval_ms while
 * a reader waits in poll() on /dev/vmclockN, else only every
 * VMCLOCK_IDLE_POLL_MS, which bounds how late a disruption's uevent comes
 * and keeps an idle guest from waking ten times a second for nobody.
 */

#include <linux/acpi.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "vmclock.h"

/* Our own workqueue: the system_wq name is deprecated since 7.x. */
static struct workqueue_struct *vmclock_wq;

/* Devices whose detector a change of poll_interval_ms must kick. */
static LIST_HEAD(vmclock_devices);
static DEFINE_MUTEX(vmclock_devices_lock);

unsigned int vmclock_poll_interval_ms = 100;

static int vmclock_poll_interval_set(const char *val,
				     const struct kernel_param *kp)
{
	struct vmclock_state *st;
	int ret;

	ret = param_set_uint(val, kp);
	if (ret)
		return ret;

	/* Let each detector pick the new interval up now, not a period later. */
	mutex_lock(&vmclock_devices_lock);
	list_for_each_entry(st, &vmclock_devices, node)
		mod_delayed_work(vmclock_wq, &st->work, 0);
	mutex_unlock(&vmclock_devices_lock);
	return 0;
}

static const struct kernel_param_ops vmclock_poll_interval_ops = {
	.set = vmclock_poll_interval_set,
	.get = param_get_uint,
};
module_param_cb(poll_interval_ms, &vmclock_poll_interval_ops,
		&vmclock_poll_interval_ms, 0644);
__MODULE_PARM_TYPE(poll_interval_ms, "uint");
MODULE_PARM_DESC(poll_interval_ms,
		 "Poll the page this often (ms) when the hypervisor does not notify; 0: never (default 100)");

/* Room for a variable's name, "=", the longest u64 or u32 value and NUL. */
#define VMCLOCK_ENV_U64(name)	(sizeof(name "=") + 20)
#define VMCLOCK_ENV_U32(name)	(sizeof(name "=") + 10)

static void vmclock_uevent(struct vmclock_state *st,
			   const struct vmclock_snap *snap)
{
	char marker[VMCLOCK_ENV_U64("VMCLOCK_DISRUPTION_MARKER")];
	char seq[VMCLOCK_ENV_U32("VMCLOCK_SEQ_COUNT")];
	char generation[VMCLOCK_ENV_U64("VMCLOCK_VM_GENERATION_COUNTER")];
	char *envp[4] = { marker, seq, NULL, NULL };
	struct device *dev = st->misc_registered ? st->miscdev.this_device
						 : st->dev;

	snprintf(marker, sizeof(marker), "VMCLOCK_DISRUPTION_MARKER=%llu",
		 snap->disruption_marker);
	snprintf(seq, sizeof(seq), "VMCLOCK_SEQ_COUNT=%u", snap->seq);
	if (snap->flags & VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT) {
		snprintf(generation, sizeof(generation),
			 "VMCLOCK_VM_GENERATION_COUNTER=%llu",
			 snap->vm_generation_counter);
		envp[2] = generation;
	}
	kobject_uevent_env(&dev->kobj, KOBJ_CHANGE, envp);
}

/*
 * Record @snap as seen; wake pollers and send a uevent as it warrants. A
 * hypervisor flapping disruption_marker gets at most one uevent per
 * VMCLOCK_UEVENT_GAP_MS: a change inside the gap is held back, and the
 * detector runs again at the gap's end to send the values then current.
 */
static void vmclock_compare(struct vmclock_state *st,
			    const struct vmclock_snap *snap)
{
	bool disrupted = snap->disruption_marker != st->last_marker;
	bool regenerated = (snap->flags & VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT) &&
			   snap->vm_generation_counter != st->last_generation;
	bool seq_changed = snap->seq != st->last_seq;

	st->last_seq = snap->seq;
	st->last_marker = snap->disruption_marker;
	st->last_generation = snap->vm_generation_counter;

	if (disrupted || regenerated)
		st->uevent_pending = true;
	if (st->uevent_pending && time_after_eq(jiffies, st->uevent_after)) {
		vmclock_uevent(st, snap);
		st->uevent_pending = false;
		st->uevent_after = jiffies +
				   msecs_to_jiffies(VMCLOCK_UEVENT_GAP_MS);
	}
	if (seq_changed)
		wake_up_interruptible_all(&st->waitq);
}

/*
 * The polling period: poll_interval_ms while a reader waits, else at least
 * VMCLOCK_IDLE_POLL_MS. polling_fast goes false before the wait queue is
 * looked at, and vmclock_listen() looks at polling_fast after queueing its
 * reader, both behind a full barrier: one of the two sees the other.
 */
static unsigned long vmclock_poll_delay(struct vmclock_state *st,
					unsigned int interval)
{
	if (!interval)
		return 0;
	WRITE_ONCE(st->polling_fast, false);
	if (wq_has_sleeper(&st->waitq)) {
		WRITE_ONCE(st->polling_fast, true);
		return msecs_to_jiffies(interval);
	}
	return msecs_to_jiffies(max(interval, VMCLOCK_IDLE_POLL_MS));
}

static void vmclock_detect(struct work_struct *work)
{
	struct vmclock_state *st = container_of(to_delayed_work(work),
						struct vmclock_state, work);
	unsigned int interval = READ_ONCE(vmclock_poll_interval_ms);
	unsigned long delay = vmclock_poll_delay(st, interval);
	struct vmclock_snap snap;

	if (!vmclock_snapshot(st, &snap, NULL, NULL)) {
		vmclock_compare(st, &snap);
		/* The hypervisor tells us about the next change. */
		if (st->has_notify &&
		    (snap.flags & VMCLOCK_FLAG_NOTIFICATION_PRESENT))
			delay = 0;
	} else if (!delay && (st->has_notify || st->uevent_pending)) {
		/* Caught mid-update with nothing else to wake us: look again. */
		delay = 1;
	}

	/* A held-back uevent goes out at the end of its gap. */
	if (st->uevent_pending) {
		unsigned long left = 1;

		if (time_after(st->uevent_after, jiffies))
			left = st->uevent_after - jiffies;
		if (!delay || left < delay)
			delay = left;
	}

	/* No delay: no timer, the next run comes from a notification. */
	if (delay)
		queue_delayed_work(vmclock_wq, &st->work, delay);
}

static void vmclock_kick(struct vmclock_state *st)
{
	mod_delayed_work(vmclock_wq, &st->work, 0);
}

/*
 * The hypervisor says the page changed: wake the readers here and now
 * (poll() compares the page with what each file read last, so they need
 * nothing from the detector), and let the detector send the uevent and
 * take note a tick later, so that the readers run first. Waking them from
 * the work item, or running it at once, cost each wake-up 6000 to 9000
 * guest instructions more (bench/README.md). A pending run (a held-back
 * uevent's) is not postponed: a flood of notifications cannot starve it.
 */
static void vmclock_notified(struct vmclock_state *st)
{
	wake_up_interruptible_all(&st->waitq);
	queue_delayed_work(vmclock_wq, &st->work, 1);
}

/**
 * vmclock_listen() - a reader may have been queued to wait for a change.
 * @st: the device, polled by its timer (not notified)
 *
 * Called by poll() after poll_wait(). If someone waits and the detector is
 * on its idle period, it runs now and goes on at poll_interval_ms while
 * anyone waits. A poll() that does not wait (a zero timeout, epoll_wait()
 * on a file already registered) leaves the detector alone.
 */
void vmclock_listen(struct vmclock_state *st)
{
	/*
	 * Pairs with wq_has_sleeper() in vmclock_poll_delay(): our entry on
	 * the wait queue is visible before polling_fast is read.
	 */
	smp_mb();
	if (READ_ONCE(st->polling_fast))
		return;
	/* Empty (after the barrier) only if this poll() did not queue itself. */
	if (!waitqueue_active(&st->waitq))
		return;
	WRITE_ONCE(st->polling_fast, true);

	/* Not after vmclock_detector_stop(): nothing would cancel it. */
	spin_lock(&st->detector_lock);
	if (!st->detector_stopped)
		vmclock_kick(st);
	spin_unlock(&st->detector_lock);
}

static void vmclock_detector_stop(void *data)
{
	struct vmclock_state *st = data;

	mutex_lock(&vmclock_devices_lock);
	list_del_init(&st->node);
	mutex_unlock(&vmclock_devices_lock);
	spin_lock(&st->detector_lock);
	st->detector_stopped = true;
	spin_unlock(&st->detector_lock);

	/* Nothing can queue the work any more; it may still requeue itself. */
	cancel_delayed_work_sync(&st->work);
}

#ifdef CONFIG_ACPI
static void vmclock_acpi_notify(acpi_handle handle, u32 event, void *data)
{
	vmclock_notified(data);
}

static void vmclock_acpi_notify_remove(void *data)
{
	struct vmclock_state *st = data;

	acpi_dev_remove_notify_handler(ACPI_COMPANION(st->dev),
				       ACPI_DEVICE_NOTIFY, vmclock_acpi_notify);
}

static int vmclock_acpi_notify_init(struct vmclock_state *st)
{
	int ret;

	/* Device notifications are the values 0x80..0xff. */
	ret = acpi_dev_install_notify_handler(ACPI_COMPANION(st->dev),
					      ACPI_DEVICE_NOTIFY,
					      vmclock_acpi_notify, st);
	if (ret) {
		dev_err(st->dev, "cannot install ACPI notify handler: %d\n",
			ret);
		return ret;
	}
	WRITE_ONCE(st->has_notify, true);
	return devm_add_action_or_reset(st->dev, vmclock_acpi_notify_remove,
					st);
}
#else
static int vmclock_acpi_notify_init(struct vmclock_state *st)
{
	return 0;
}
#endif

static irqreturn_t vmclock_irq(int irq, void *data)
{
	vmclock_notified(data);
	return IRQ_HANDLED;
}

static int vmclock_irq_init(struct vmclock_state *st)
{
	struct platform_device *pdev = to_platform_device(st->dev);
	int irq, ret;

	irq = platform_get_irq_optional(pdev, 0);
	if (irq == -ENXIO)
		return 0;		/* no interrupt: poll */
	if (irq < 0)
		return irq;

	ret = devm_request_irq(st->dev, irq, vmclock_irq, IRQF_SHARED,
			       st->name, st);
	if (ret) {
		dev_err(st->dev, "cannot request irq %d: %d\n", irq, ret);
		return ret;
	}
	WRITE_ONCE(st->has_notify, true);
	return 0;
}

/**
 * vmclock_detector_prepare() - the detector's state, not running yet.
 * @st: the device, before its misc device is registered
 *
 * A poll() may come as soon as the misc device exists, before
 * vmclock_notify_init(): it finds the detector stopped and leaves it alone.
 */
void vmclock_detector_prepare(struct vmclock_state *st)
{
	spin_lock_init(&st->detector_lock);
	st->detector_stopped = true;
	INIT_DELAYED_WORK(&st->work, vmclock_detect);
}

/**
 * vmclock_notify_init() - start the change detector.
 * @st: the device, with its misc device and PTP clock registered
 * @snap: the copy of the page taken at probe, the baseline for changes
 *
 * The work's teardown is registered before the notification sources, so
 * devm removes the sources first and then stops the work.
 */
int vmclock_notify_init(struct vmclock_state *st,
			const struct vmclock_snap *snap)
{
	int ret;

	st->last_seq = snap->seq;
	st->last_marker = snap->disruption_marker;
	st->last_generation = snap->vm_generation_counter;
	st->uevent_after = jiffies;

	mutex_lock(&vmclock_devices_lock);
	list_add_tail(&st->node, &vmclock_devices);
	mutex_unlock(&vmclock_devices_lock);

	ret = devm_add_action_or_reset(st->dev, vmclock_detector_stop, st);
	if (ret)
		return ret;
	spin_lock(&st->detector_lock);
	st->detector_stopped = false;
	spin_unlock(&st->detector_lock);

	if (has_acpi_companion(st->dev))
		ret = vmclock_acpi_notify_init(st);
	else
		ret = vmclock_irq_init(st);
	if (ret)
		return ret;

	vmclock_kick(st);
	return 0;
}

int vmclock_notify_module_init(void)
{
	/* Unbound: no CPU in particular needs to wake for a look at the page. */
	vmclock_wq = alloc_workqueue("vmclock", WQ_UNBOUND, 0);
	return vmclock_wq ? 0 : -ENOMEM;
}

void vmclock_notify_module_exit(void)
{
	destroy_workqueue(vmclock_wq);
}
