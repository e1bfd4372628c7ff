// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_dev: the /dev/vmclock0 file interface as common.md fixes it:
 * read()/pread() give a consistent copy, file length = the page's size,
 * EOF at the end; lseek within [0, length] else EINVAL; mmap exactly one
 * read-only page at offset 0 (EROFS for a writable shared mapping, EINVAL
 * for other sizes/offsets, mprotect(PROT_WRITE) EACCES, EPERM for
 * PROT_EXEC and mprotect(PROT_EXEC) EACCES); mode 0600, so a
 * non-root open fails with EACCES. Needs no host command.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "tap.h"

#define NOBODY_ID	65534

static long pagesz;
static u32 length;	/* the file length: the page's size field */

/* read()/pread() of the whole file against a seq-checked mmap copy. */
static void check_read_whole(const struct vmc_map *m)
{
	static char buf[2 * 65536];
	int attempt, fd;
	ssize_t n = -1;
	bool same = false;

	fd = open(VMC_DEV, O_RDONLY);
	if (!tap_check(fd >= 0, "open O_RDONLY as root", "open: %s",
		       strerror(errno)))
		return;
	/* The host may update the page meanwhile: compare under seq. */
	for (attempt = 0; attempt < 10 && !same; attempt++) {
		u32 s1 = le32toh(m->page->seq_count), s2;

		n = pread(fd, buf, sizeof(buf), 0);
		same = n == (ssize_t)length &&
		       !memcmp(buf, (const void *)m->page, length);
		s2 = le32toh(m->page->seq_count);
		if (s1 != s2 || (s1 & 1))
			same = false;
		else
			break;
	}
	tap_check(n == (ssize_t)length, "pread of a large buffer returns the page size",
		  "pread returned %zd (errno %s), size field says %u", n,
		  n < 0 ? strerror(errno) : "-", length);
	tap_check(same, "pread copy matches the mapped page",
		  "bytes differ from the mapping (seq %u)",
		  le32toh(m->page->seq_count));

	n = read(fd, buf, sizeof(buf));
	tap_check(n == (ssize_t)length, "read() of the whole file from offset 0",
		  "read returned %zd, expected %u", n, length);
	n = read(fd, buf, sizeof(buf));
	tap_check(n == 0, "read() at the end returns 0 (EOF)",
		  "read returned %zd (%s)", n, n < 0 ? strerror(errno) : "data");
	close(fd);
}

static void check_short_reads(const struct vmc_map *m)
{
	unsigned char a[16], b[16];
	const unsigned char *pg = (const void *)m->page;
	ssize_t n1, n2, n3;
	int fd;

	fd = open(VMC_DEV, O_RDONLY);
	if (fd < 0) {
		tap_fail("short reads", "open: %s", strerror(errno));
		return;
	}
	/* magic..version never change under seq_count: exact compare. */
	n1 = read(fd, a, 4);
	n2 = read(fd, b, 6);
	tap_check(n1 == 4 && n2 == 6 && !memcmp(a, pg, 4) &&
		  !memcmp(b, pg + 4, 6),
		  "short reads advance the position (bytes 0-3, then 4-9)",
		  "read 4 -> %zd, read 6 -> %zd, or content differs", n1, n2);
	tap_check(lseek(fd, 0, SEEK_CUR) == 10, "position is 10 after 4+6 bytes",
		  "lseek(0, SEEK_CUR) = %lld", (long long)lseek(fd, 0, SEEK_CUR));

	n1 = pread(fd, a, sizeof(a), length - 4);
	tap_check(n1 == 4, "pread across the end is short (4 of 16 bytes)",
		  "pread(16 at size-4) returned %zd", n1);
	n2 = pread(fd, a, sizeof(a), length);
	tap_check(n2 == 0, "pread at offset == size returns 0",
		  "pread returned %zd (%s)", n2, n2 < 0 ? strerror(errno) : "data");
	n3 = pread(fd, a, 4, 8);
	tap_check(n3 == 4 && !memcmp(a, pg + 8, 4),
		  "pread at offset 8 returns version/counter_id/time_type",
		  "pread returned %zd or content differs", n3);
	tap_check(lseek(fd, 0, SEEK_CUR) == 10, "pread leaves the position alone",
		  "position moved to %lld", (long long)lseek(fd, 0, SEEK_CUR));
	close(fd);
}

static void check_seek_einval(int fd, off_t off, int whence, const char *name)
{
	off_t r;

	errno = 0;
	r = lseek(fd, off, whence);
	tap_check(r == -1 && errno == EINVAL, name, "lseek returned %lld errno %s",
		  (long long)r, strerror(errno));
}

static void check_lseek(const struct vmc_map *m)
{
	const unsigned char *pg = (const void *)m->page;
	unsigned char b[4];
	off_t r;
	int fd;

	fd = open(VMC_DEV, O_RDONLY);
	if (fd < 0) {
		tap_fail("lseek", "open: %s", strerror(errno));
		return;
	}
	r = lseek(fd, 8, SEEK_SET);
	tap_check(r == 8 && read(fd, b, 4) == 4 && !memcmp(b, pg + 8, 4),
		  "lseek SEEK_SET 8 then read gives bytes 8-11",
		  "lseek returned %lld or data differs", (long long)r);
	r = lseek(fd, -8, SEEK_CUR);
	tap_check(r == 4, "lseek SEEK_CUR -8 from 12 gives 4",
		  "returned %lld (%s)", (long long)r, strerror(errno));
	r = lseek(fd, 0, SEEK_END);
	tap_check(r == (off_t)length, "lseek SEEK_END 0 gives the file length",
		  "returned %lld, size %u", (long long)r, length);
	r = lseek(fd, -(off_t)length, SEEK_END);
	tap_check(r == 0, "lseek SEEK_END -length gives 0",
		  "returned %lld (%s)", (long long)r, strerror(errno));
	r = lseek(fd, length, SEEK_SET);
	tap_check(r == (off_t)length, "lseek SEEK_SET length (the end) is allowed",
		  "returned %lld (%s)", (long long)r, strerror(errno));
	check_seek_einval(fd, -1, SEEK_SET, "lseek SEEK_SET -1 -> EINVAL");
	check_seek_einval(fd, (off_t)length + 1, SEEK_SET,
			  "lseek SEEK_SET past the end -> EINVAL");
	lseek(fd, 0, SEEK_SET);
	check_seek_einval(fd, -1, SEEK_CUR, "lseek SEEK_CUR before 0 -> EINVAL");
	check_seek_einval(fd, 1, SEEK_END, "lseek SEEK_END +1 -> EINVAL");
	check_seek_einval(fd, 0, 42, "lseek with whence 42 -> EINVAL");
	close(fd);
}

/* A shared mapping of one page at 0 with @prot must fail with @err. */
static void check_mmap_refused(int fd, int prot, int err, const char *name)
{
	void *p;

	errno = 0;
	p = mmap(NULL, pagesz, prot, MAP_SHARED, fd, 0);
	tap_check(p == MAP_FAILED && errno == err, name, "mmap %s",
		  p == MAP_FAILED ? strerror(errno) : "succeeded");
	if (p != MAP_FAILED)
		munmap(p, pagesz);
}

/* A PROT_READ mapping must refuse to gain @prot with EACCES. */
static void check_mprotect_refused(int fd, int prot, const char *name)
{
	void *p = mmap(NULL, pagesz, PROT_READ, MAP_SHARED, fd, 0);
	int ret;

	if (p == MAP_FAILED) {
		tap_fail(name, "mmap PROT_READ: %s", strerror(errno));
		return;
	}
	errno = 0;
	ret = mprotect(p, pagesz, PROT_READ | prot);
	tap_check(ret == -1 && errno == EACCES, name,
		  "mprotect returned %d errno %s", ret, strerror(errno));
	munmap(p, pagesz);
}

static void check_mmap(void)
{
	void *p;
	int fd, rw;

	fd = open(VMC_DEV, O_RDONLY);
	if (fd < 0) {
		tap_fail("mmap", "open: %s", strerror(errno));
		return;
	}
	p = mmap(NULL, pagesz, PROT_READ, MAP_SHARED, fd, 0);
	tap_check(p != MAP_FAILED &&
		  le32toh(((const struct vmclock_abi *)p)->magic) == VMCLOCK_MAGIC,
		  "mmap one page PROT_READ MAP_SHARED at 0 shows the magic",
		  "mmap: %s", p == MAP_FAILED ? strerror(errno) : "bad magic");
	if (p != MAP_FAILED)
		munmap(p, pagesz);

	errno = 0;
	p = mmap(NULL, 2 * pagesz, PROT_READ, MAP_SHARED, fd, 0);
	tap_check(p == MAP_FAILED && errno == EINVAL, "mmap two pages -> EINVAL",
		  "mmap %s", p == MAP_FAILED ? strerror(errno) : "succeeded");
	if (p != MAP_FAILED)
		munmap(p, 2 * pagesz);
	errno = 0;
	p = mmap(NULL, pagesz, PROT_READ, MAP_SHARED, fd, pagesz);
	tap_check(p == MAP_FAILED && errno == EINVAL,
		  "mmap at offset one page -> EINVAL",
		  "mmap %s", p == MAP_FAILED ? strerror(errno) : "succeeded");
	if (p != MAP_FAILED)
		munmap(p, pagesz);

	/* The page is data: no executable mapping, now or later. */
	check_mmap_refused(fd, PROT_READ | PROT_EXEC, EPERM,
			   "mmap PROT_READ|PROT_EXEC -> EPERM");
	check_mprotect_refused(fd, PROT_EXEC,
			       "mprotect(PROT_EXEC) on a read-only mapping -> EACCES");
	close(fd);

	/* A shared writable mapping needs an fd open for writing first,
	 * else the VFS answers EACCES before the driver is asked. */
	rw = open(VMC_DEV, O_RDWR);
	if (rw < 0) {
		tap_skip("mmap PROT_WRITE MAP_SHARED -> EROFS",
			 "open O_RDWR refused (%s): the driver is not reached",
			 strerror(errno));
		tap_skip("mprotect(PROT_WRITE) on a mapping from an O_RDWR fd -> EACCES",
			 "open O_RDWR refused");
		return;
	}
	check_mmap_refused(rw, PROT_READ | PROT_WRITE, EROFS,
			   "mmap PROT_WRITE MAP_SHARED -> EROFS");
	/* From a writable fd only VM_MAYWRITE, cleared by the driver, stops
	 * an upgrade; from an O_RDONLY fd the VFS would refuse anyway. */
	check_mprotect_refused(rw, PROT_WRITE,
			       "mprotect(PROT_WRITE) on a mapping from an O_RDWR fd -> EACCES");
	close(rw);
}

static void check_permissions(void)
{
	struct stat st;
	mode_t old;
	pid_t pid;
	int status = 0, ret;

	if (stat(VMC_DEV, &st)) {
		tap_fail("mode of /dev/vmclock0", "stat: %s", strerror(errno));
		return;
	}
	old = st.st_mode & 07777;
	/* Without udev (the rig's busybox) the kernel's mode shows. */
	if (access("/run/udev", F_OK))
		tap_check(old == 0600, "/dev/vmclock0 is mode 0600 from the kernel",
			  "mode is %04o", (unsigned int)old);
	else
		tap_skip("/dev/vmclock0 is mode 0600 from the kernel",
			 "udev is running and may have changed it (%04o)",
			 (unsigned int)old);

	if (chmod(VMC_DEV, 0600)) {
		tap_fail("non-root open -> EACCES", "chmod: %s", strerror(errno));
		return;
	}
	pid = fork_flushed();
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) || setgid(NOBODY_ID) || setuid(NOBODY_ID))
			_exit(100);
		fd = open(VMC_DEV, O_RDONLY);
		if (fd >= 0)
			_exit(101);
		_exit(errno == EACCES ? 0 : 102);
	}
	ret = pid < 0 ? -errno : wait_child(pid, 5000, &status);
	tap_check(!ret && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "open as nobody after chmod 0600 -> EACCES",
		  "child: %s", ret ? strerror(-ret) :
		  !WIFEXITED(status) ? "killed" :
		  WEXITSTATUS(status) == 100 ? "could not drop to nobody" :
		  WEXITSTATUS(status) == 101 ? "open succeeded" :
		  "open failed with another errno");
	if (chmod(VMC_DEV, old))
		tap_diag("could not restore mode %04o: %s", (unsigned int)old,
			 strerror(errno));
}

int main(void)
{
	struct vmc_map m = { .fd = -1 };
	const char *why;
	int ret;

	tap_start("vmclock_dev: /dev/vmclock0 read, lseek, mmap, permissions");
	why = vmc_unavailable_reason();
	if (why)
		tap_skip_all("%s", why);
	watchdog_arm(60, "vmclock_dev");
	pagesz = sysconf(_SC_PAGESIZE);

	ret = vmc_map_open(&m);
	if (ret)
		tap_bail("cannot open and map %s: %s", VMC_DEV, strerror(-ret));
	length = le32toh(m.page->size);
	tap_diag("page size field %u, seq %u", length,
		 le32toh(m.page->seq_count));
	if (length > m.len || length < sizeof(struct vmclock_abi))
		tap_bail("size field %u outside [%zu, %zu]: the rig page is not usable here",
			 length, sizeof(struct vmclock_abi), m.len);

	check_read_whole(&m);
	check_short_reads(&m);
	check_lseek(&m);
	check_mmap();
	check_permissions();

	vmc_map_close(&m);
	return tap_finish();
}
