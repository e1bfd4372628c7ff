// SPDX-License-Identifier: GPL-2.0
/*
 * ptp_vmclock: counters in debugfs, for tests and benchmarks.
 *
 * /sys/kernel/debug/vmclock/vmclockN/ptp_page_reads counts the consistent
 * copies of the page the PTP clock took (one per gettime, per EXTENDED
 * sample, and per PRECISE once its method is known). A per-CPU counter: an
 * increment on the read path costs one instruction and no shared cache
 * line. Without debugfs the directory is simply absent.
 */

#include <linux/debugfs.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>

#include "vmclock.h"

static struct dentry *vmclock_debugfs_root;

static int ptp_page_reads_show(struct seq_file *m, void *unused)
{
	struct vmclock_state *st = m->private;
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(st->ptp_page_reads, cpu);
	seq_printf(m, "%llu\n", sum);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ptp_page_reads);

static void vmclock_debugfs_remove(void *data)
{
	struct vmclock_state *st = data;

	/* Waits for readers of the files still inside their show(). */
	debugfs_remove(st->debugfs);
}

/**
 * vmclock_debugfs_add() - the device's counters, removed at unbind.
 * @st: the device, with its name and counters set up
 *
 * Return: 0 or -ENOMEM; a debugfs that cannot be used is no error.
 */
int vmclock_debugfs_add(struct vmclock_state *st)
{
	st->debugfs = debugfs_create_dir(st->name, vmclock_debugfs_root);
	debugfs_create_file("ptp_page_reads", 0400, st->debugfs, st,
			    &ptp_page_reads_fops);
	return devm_add_action_or_reset(st->dev, vmclock_debugfs_remove, st);
}

void vmclock_debugfs_init(void)
{
	vmclock_debugfs_root = debugfs_create_dir("vmclock", NULL);
}

void vmclock_debugfs_exit(void)
{
	debugfs_remove(vmclock_debugfs_root);
}
