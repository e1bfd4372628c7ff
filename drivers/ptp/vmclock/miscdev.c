// SPDX-License-Identifier: GPL-2.0
/*
 * ptp_vmclock: /dev/vmclockN, the page itself for user space.
 *
 * read()/pread() return a consistent copy of the page (the file is as long
 * as the page's size field was at probe), mmap() maps the page read-only
 * and never executable, and poll() reports a seq_count the file has not
 * read yet. Open files keep a reference on the state, so after an unbind
 * they see -ENODEV, never freed memory; the module cannot go away under
 * them because the file operations are owned by it.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "vmclock.h"

struct vmclock_file {
	struct vmclock_state *st;
	u32 last_seq;		/* seq_count of the last copy read(); 0 at open */
};

static int vmclock_miscdev_open(struct inode *inode, struct file *file)
{
	/* misc_open() set private_data and holds misc_mtx against removal. */
	struct vmclock_state *st = container_of(file->private_data,
						struct vmclock_state, miscdev);
	struct vmclock_file *fp;

	fp = kzalloc(sizeof(*fp), GFP_KERNEL);
	if (!fp)
		return -ENOMEM;

	kref_get(&st->kref);
	fp->st = st;
	file->private_data = fp;
	return 0;
}

static int vmclock_miscdev_release(struct inode *inode, struct file *file)
{
	struct vmclock_file *fp = file->private_data;

	vmclock_state_put(fp->st);
	kfree(fp);
	return 0;
}

/*
 * Copy [pos, pos + len) of the page to user space under the seq check and
 * return its seq; -EBUSY when the page stayed in flux for
 * VMCLOCK_SEQ_TIMEOUT_MS. A copy that raced an update is simply copied
 * again over it: what the caller gets back is the last, consistent one.
 * Straight to user space, without a bounce buffer: allocating and copying
 * one cost three times the instructions of the copy itself.
 */
static int vmclock_copy(struct vmclock_state *st, char __user *ubuf,
			size_t pos, size_t len, u32 *seq)
{
	const void *src = (const u8 *)st->page + pos;
	struct vmclock_retry r;
	u32 s;

	vmclock_retry_start(&r, VMCLOCK_SEQ_TIMEOUT_MS);
	do {
		s = le32_to_cpu(READ_ONCE(st->page->seq_count));
		if (s & 1)
			continue;
		/* The copy must not start before seq_count was read... */
		virt_rmb();
		if (copy_to_user(ubuf, src, len))
			return -EFAULT;
		/* ...and must be complete before it is read again. */
		virt_rmb();
		if (le32_to_cpu(READ_ONCE(st->page->seq_count)) == s) {
			*seq = s;
			return 0;
		}
	} while (vmclock_retry_again(&r));
	return -EBUSY;
}

static ssize_t vmclock_miscdev_read(struct file *file, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct vmclock_file *fp = file->private_data;
	struct vmclock_state *st = fp->st;
	loff_t pos = *ppos;
	u32 seq;
	int ret;

	if (READ_ONCE(st->removed))
		return -ENODEV;
	if (pos < 0)
		return -EINVAL;
	if (pos >= st->size || !count)
		return 0;
	/* The structure is far smaller than a page: longer reads come short. */
	count = min_t(size_t, count, min_t(loff_t, st->size - pos, PAGE_SIZE));

	ret = vmclock_copy(st, ubuf, pos, count, &seq);
	if (ret)
		return ret;

	WRITE_ONCE(fp->last_seq, seq);
	*ppos = pos + count;
	return count;
}

static loff_t vmclock_miscdev_llseek(struct file *file, loff_t offset,
				     int whence)
{
	struct vmclock_file *fp = file->private_data;

	switch (whence) {
	case SEEK_SET:
	case SEEK_CUR:
	case SEEK_END:
		/* Rejects results outside [0, size] with -EINVAL. */
		return fixed_size_llseek(file, offset, whence, fp->st->size);
	default:
		return -EINVAL;
	}
}

static int vmclock_miscdev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vmclock_file *fp = file->private_data;
	struct vmclock_state *st = fp->st;

	if (READ_ONCE(st->removed))
		return -ENODEV;
	if (vma->vm_flags & VM_WRITE)
		return -EROFS;
	/* The page is data: nothing to execute. */
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	/* A page that does not start on a page boundary cannot be mapped. */
	if (!PAGE_ALIGNED(st->phys))
		return -ENODEV;

	/* No mprotect(PROT_WRITE) or mprotect(PROT_EXEC) later either. */
	vm_flags_clear(vma, VM_MAYWRITE | VM_MAYEXEC);

	/* Write-back and shared with the host, like the kernel's mapping. */
	return remap_pfn_range(vma, vma->vm_start, PHYS_PFN(st->phys),
			       PAGE_SIZE, pgprot_decrypted(vma->vm_page_prot));
}

static __poll_t vmclock_miscdev_poll(struct file *file, poll_table *wait)
{
	struct vmclock_file *fp = file->private_data;
	struct vmclock_state *st = fp->st;
	__poll_t mask = 0;
	bool notified;
	u64 flags;
	u32 seq;

	poll_wait(file, &st->waitq, wait);

	if (READ_ONCE(st->removed))
		return EPOLLERR | EPOLLHUP;

	seq = le32_to_cpu(READ_ONCE(st->page->seq_count));
	if (seq != READ_ONCE(fp->last_seq))
		mask |= EPOLLIN | EPOLLRDNORM;

	/*
	 * Nobody will ever wake this file: say so instead of hanging. The
	 * detector runs on a notification only when the page promises one
	 * and a Notify handler or interrupt is wired up, else on its timer.
	 */
	flags = le64_to_cpu(READ_ONCE(st->page->flags));
	notified = READ_ONCE(st->has_notify) &&
		   (flags & VMCLOCK_FLAG_NOTIFICATION_PRESENT);
	if (!notified && !READ_ONCE(vmclock_poll_interval_ms))
		mask |= EPOLLHUP;
	else if (!notified)
		vmclock_listen(st);	/* the timer's short period, from now */

	return mask;
}

static const struct file_operations vmclock_miscdev_fops = {
	.owner		= THIS_MODULE,
	.open		= vmclock_miscdev_open,
	.release	= vmclock_miscdev_release,
	.read		= vmclock_miscdev_read,
	.llseek		= vmclock_miscdev_llseek,
	.mmap		= vmclock_miscdev_mmap,
	.poll		= vmclock_miscdev_poll,
};

static void vmclock_miscdev_unregister(void *data)
{
	struct vmclock_state *st = data;

	misc_deregister(&st->miscdev);
	/* No open() can start now; make the open files fail and wake them. */
	WRITE_ONCE(st->removed, true);
	wake_up_interruptible_all(&st->waitq);
}

int vmclock_miscdev_register(struct vmclock_state *st)
{
	int ret;

	st->miscdev.minor = MISC_DYNAMIC_MINOR;
	st->miscdev.name = st->name;
	st->miscdev.fops = &vmclock_miscdev_fops;
	st->miscdev.parent = st->dev;
	st->miscdev.mode = 0600;

	ret = misc_register(&st->miscdev);
	if (ret) {
		dev_err(st->dev, "cannot register %s: %d\n", st->name, ret);
		return ret;
	}
	st->misc_registered = true;
	return devm_add_action_or_reset(st->dev, vmclock_miscdev_unregister,
					st);
}
