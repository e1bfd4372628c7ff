// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_dev: the /dev/vmclock0 file interface as common.md fixes it, one
 * behaviour per kselftest harness test:
 *   read()/pread() give a consistent copy, file length = the page's size,
 *   EOF at the end, pread() leaves the file position alone;
 *   lseek within [0, length] else EINVAL;
 *   mmap exactly one read-only page at offset 0: EROFS for a writable
 *   shared mapping, EINVAL for other sizes/offsets, EPERM for PROT_EXEC,
 *   and mprotect() adding PROT_WRITE or PROT_EXEC fails with EACCES;
 *   mode 0600, so a non-root open fails with EACCES (the "perm" tests
 *   change the node's mode and put it back in their teardown).
 * Every "dev" test opens the device and maps the page afresh (setup), so
 * each starts at file position 0. Needs no host command.
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

#include "vmc_harness.h"

#define NOBODY_ID	65534

/* Larger than any page (64 KiB pages on arm64): reads are never cut short. */
static char buf[2 * 65536];

FIXTURE(dev) {
	struct vmc_map m;	/* the page as mmap shows it */
	u32 length;		/* the file length: the page's size field */
	size_t pagesz;
	int fd;			/* a fresh O_RDONLY open, position 0 */
};

FIXTURE_SETUP(dev)
{
	int ret, err;

	self->m.fd = -1;
	self->fd = -1;
	self->pagesz = (size_t)sysconf(_SC_PAGESIZE);
	ret = vmc_map_open(&self->m);
	ASSERT_EQ(0, ret)
		TH_LOG("cannot open and map %s: %s", VMC_DEV, strerror(-ret));
	self->length = le32toh(self->m.page->size);
	ASSERT_TRUE(self->length <= self->m.len &&
		    self->length >= sizeof(struct vmclock_abi))
		TH_LOG("size field %u outside [%zu, %zu]: the rig page is not usable here",
		       self->length, sizeof(struct vmclock_abi), self->m.len);
	self->fd = open(VMC_DEV, O_RDONLY);
	err = errno;
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s O_RDONLY: %s", VMC_DEV, strerror(err));
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
	vmc_map_close(&self->m);
}

/* The figures every other test relies on, printed for the reader. */
TEST_F(dev, page_size_field_within_the_mapping)
{
	ksft_print_msg("page size field %u, seq %u\n", self->length,
		       le32toh(self->m.page->seq_count));
	EXPECT_TRUE(self->length <= self->m.len &&
		    self->length >= sizeof(struct vmclock_abi))
		TH_LOG("size field %u outside [%zu, %zu]", self->length,
		       sizeof(struct vmclock_abi), self->m.len);
}

TEST_F(dev, open_read_only_as_root)
{
	int fd = open(VMC_DEV, O_RDONLY);
	int err = errno;

	if (fd >= 0)
		close(fd);
	EXPECT_LE(0, fd) TH_LOG("want an fd; open: %s", strerror(err));
}

TEST_F(dev, pread_large_buffer_returns_page_size)
{
	ssize_t n = pread(self->fd, buf, sizeof(buf), 0);
	int err = errno;

	EXPECT_EQ((ssize_t)self->length, n)
		TH_LOG("pread returned %zd (errno %s), size field says %u", n,
		       n < 0 ? strerror(err) : "-", self->length);
}

TEST_F(dev, pread_copy_matches_mapped_page)
{
	bool same = false;
	ssize_t n = -1;
	int attempt;

	/* The host may update the page meanwhile: compare under seq. */
	for (attempt = 0; attempt < 10; attempt++) {
		u32 s1 = le32toh(self->m.page->seq_count), s2;

		n = pread(self->fd, buf, sizeof(buf), 0);
		same = n == (ssize_t)self->length &&
		       !memcmp(buf, (const void *)self->m.page, self->length);
		s2 = le32toh(self->m.page->seq_count);
		if (s1 != s2 || (s1 & 1))
			same = false;
		else
			break;
	}
	EXPECT_TRUE(same)
		TH_LOG("pread returned %zd of %u bytes or bytes differ from the mapping (seq %u)",
		       n, self->length, le32toh(self->m.page->seq_count));
}

TEST_F(dev, read_whole_file_from_offset_0)
{
	ssize_t n = read(self->fd, buf, sizeof(buf));

	EXPECT_EQ((ssize_t)self->length, n)
		TH_LOG("read returned %zd, expected %u", n, self->length);
}

TEST_F(dev, read_at_end_returns_0_eof)
{
	ssize_t n = read(self->fd, buf, sizeof(buf));
	int err;

	ASSERT_EQ((ssize_t)self->length, n)
		TH_LOG("reading up to the end first: read returned %zd, expected %u",
		       n, self->length);
	n = read(self->fd, buf, sizeof(buf));
	err = errno;
	EXPECT_EQ(0, n)
		TH_LOG("want 0 (EOF); read returned %zd (%s)", n,
		       n < 0 ? strerror(err) : "data");
}

/* magic..version never change under seq_count: exact compares below. */
TEST_F(dev, short_reads_advance_through_bytes_0_to_9)
{
	const unsigned char *pg = (const void *)self->m.page;
	unsigned char a[16], b[16];
	ssize_t n1, n2;

	n1 = read(self->fd, a, 4);
	n2 = read(self->fd, b, 6);
	EXPECT_TRUE(n1 == 4 && n2 == 6 && !memcmp(a, pg, 4) &&
		    !memcmp(b, pg + 4, 6))
		TH_LOG("want bytes 0-3, then 4-9; read 4 -> %zd, read 6 -> %zd, or content differs",
		       n1, n2);
}

/* Reads 4 then 6 bytes: the position should be 10 afterwards. */
static void read_4_then_6(struct __test_metadata *_metadata, int fd)
{
	unsigned char a[16];
	ssize_t n1, n2;

	n1 = read(fd, a, 4);
	n2 = read(fd, a, 6);
	ASSERT_TRUE(n1 == 4 && n2 == 6)
		TH_LOG("reading up to 10 first: read 4 -> %zd, read 6 -> %zd", n1, n2);
}

TEST_F(dev, position_is_10_after_reads_of_4_and_6)
{
	off_t r;
	int err;

	read_4_then_6(_metadata, self->fd);
	r = lseek(self->fd, 0, SEEK_CUR);
	err = errno;
	EXPECT_EQ(10, r)
		TH_LOG("lseek(0, SEEK_CUR) = %lld (%s)", (long long)r,
		       r < 0 ? strerror(err) : "-");
}

TEST_F(dev, pread_across_end_is_short)
{
	unsigned char a[16];
	ssize_t n = pread(self->fd, a, sizeof(a), self->length - 4);
	int err = errno;

	EXPECT_EQ(4, n)
		TH_LOG("want 4 of 16 bytes; pread(16 at size-4) returned %zd (%s)",
		       n, n < 0 ? strerror(err) : "-");
}

TEST_F(dev, pread_at_offset_size_returns_0)
{
	unsigned char a[16];
	ssize_t n = pread(self->fd, a, sizeof(a), self->length);
	int err = errno;

	EXPECT_EQ(0, n)
		TH_LOG("want 0 (EOF); pread returned %zd (%s)", n,
		       n < 0 ? strerror(err) : "data");
}

TEST_F(dev, pread_at_8_gives_version_counter_id_time_type)
{
	const unsigned char *pg = (const void *)self->m.page;
	unsigned char a[16];
	ssize_t n = pread(self->fd, a, 4, 8);

	EXPECT_TRUE(n == 4 && !memcmp(a, pg + 8, 4))
		TH_LOG("want bytes 8-11 of the page; pread returned %zd or content differs",
		       n);
}

/* The same preads as the three tests above, from position 10. */
TEST_F(dev, pread_leaves_the_position_alone)
{
	unsigned char a[16];
	ssize_t n1, n2, n3;
	off_t r;
	int err;

	read_4_then_6(_metadata, self->fd);
	n1 = pread(self->fd, a, sizeof(a), self->length - 4);
	n2 = pread(self->fd, a, sizeof(a), self->length);
	n3 = pread(self->fd, a, 4, 8);
	r = lseek(self->fd, 0, SEEK_CUR);
	err = errno;
	EXPECT_EQ(10, r)
		TH_LOG("want 10; position moved to %lld (%s) after preads returning %zd, %zd, %zd",
		       (long long)r, r < 0 ? strerror(err) : "-", n1, n2, n3);
}

TEST_F(dev, lseek_set_8_then_read_gives_bytes_8_to_11)
{
	const unsigned char *pg = (const void *)self->m.page;
	unsigned char b[4];
	ssize_t n = -1;
	off_t r;

	r = lseek(self->fd, 8, SEEK_SET);
	if (r == 8)
		n = read(self->fd, b, 4);
	EXPECT_TRUE(r == 8 && n == 4 && !memcmp(b, pg + 8, 4))
		TH_LOG("lseek returned %lld, read %zd, or data differs",
		       (long long)r, n);
}

/* Position 12 by reading, so that only SEEK_CUR is under test. */
TEST_F(dev, lseek_cur_minus_8_from_12_gives_4)
{
	ssize_t n = read(self->fd, buf, 12);
	off_t r;
	int err;

	ASSERT_EQ(12, n) TH_LOG("reading bytes 0-11 first: read returned %zd", n);
	r = lseek(self->fd, -8, SEEK_CUR);
	err = errno;
	EXPECT_EQ(4, r)
		TH_LOG("returned %lld (%s)", (long long)r, strerror(err));
}

TEST_F(dev, lseek_end_0_gives_the_length)
{
	off_t r = lseek(self->fd, 0, SEEK_END);
	int err = errno;

	EXPECT_EQ((off_t)self->length, r)
		TH_LOG("returned %lld (%s), size %u", (long long)r,
		       r < 0 ? strerror(err) : "-", self->length);
}

TEST_F(dev, lseek_end_minus_length_gives_0)
{
	off_t r = lseek(self->fd, -(off_t)self->length, SEEK_END);
	int err = errno;

	EXPECT_EQ(0, r)
		TH_LOG("returned %lld (%s)", (long long)r, strerror(err));
}

TEST_F(dev, lseek_set_length_is_allowed)
{
	off_t r = lseek(self->fd, self->length, SEEK_SET);
	int err = errno;

	EXPECT_EQ((off_t)self->length, r)
		TH_LOG("returned %lld (%s)", (long long)r, strerror(err));
}

/*
 * In the test's own body: with the check in a helper function, GCC 12
 * warns that the harness's setjmp() may clobber its wrapper's "child".
 */
#define EXPECT_LSEEK_EINVAL(fd, off, whence) do {			\
	off_t __r;							\
	int __err;							\
									\
	errno = 0;							\
	__r = lseek(fd, off, whence);					\
	__err = errno;							\
	EXPECT_TRUE(__r == -1 && __err == EINVAL)			\
		TH_LOG("want -1 with EINVAL; lseek returned %lld errno %s", \
		       (long long)__r, strerror(__err));		\
} while (0)

TEST_F(dev, lseek_set_minus_1_einval)
{
	EXPECT_LSEEK_EINVAL(self->fd, -1, SEEK_SET);
}

TEST_F(dev, lseek_set_past_the_end_einval)
{
	EXPECT_LSEEK_EINVAL(self->fd, (off_t)self->length + 1, SEEK_SET);
}

/* The fd is fresh: the position is 0. */
TEST_F(dev, lseek_cur_before_0_einval)
{
	EXPECT_LSEEK_EINVAL(self->fd, -1, SEEK_CUR);
}

TEST_F(dev, lseek_end_plus_1_einval)
{
	EXPECT_LSEEK_EINVAL(self->fd, 1, SEEK_END);
}

TEST_F(dev, lseek_whence_42_einval)
{
	EXPECT_LSEEK_EINVAL(self->fd, 0, 42);
}

TEST_F(dev, mmap_one_page_read_only_shows_the_magic)
{
	void *p = mmap(NULL, self->pagesz, PROT_READ, MAP_SHARED, self->fd, 0);
	int err = errno;
	u32 magic;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(err));
	magic = le32toh(((const struct vmclock_abi *)p)->magic);
	munmap(p, self->pagesz);
	EXPECT_EQ((u32)VMCLOCK_MAGIC, magic) TH_LOG("bad magic %#x", magic);
}

/*
 * A shared mapping of @len bytes at @off with @prot, unmapped again when
 * made. Return: 0 when mmap() succeeded, else its errno.
 */
static int mmap_errno(int fd, size_t len, int prot, off_t off)
{
	void *p;

	errno = 0;
	p = mmap(NULL, len, prot, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		return errno ? errno : -1;
	munmap(p, len);
	return 0;
}

/*
 * Maps one page PROT_READ (shared) and asks mprotect() to add @prot.
 * Return: 0 when mprotect() allowed it, else its errno; -1 with the
 * errno of mmap() in *map_err when the mapping itself failed.
 */
static int mprotect_errno(int fd, size_t len, int prot, int *map_err)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	int ret, err;

	if (p == MAP_FAILED) {
		*map_err = errno;
		return -1;
	}
	*map_err = 0;
	errno = 0;
	ret = mprotect(p, len, PROT_READ | prot);
	err = errno;
	munmap(p, len);
	return ret ? (err ? err : -1) : 0;
}

TEST_F(dev, mmap_two_pages_einval)
{
	int err = mmap_errno(self->fd, 2 * self->pagesz, PROT_READ, 0);

	EXPECT_EQ(EINVAL, err)
		TH_LOG("want EINVAL; mmap %s", err ? strerror(err) : "succeeded");
}

TEST_F(dev, mmap_at_offset_one_page_einval)
{
	int err = mmap_errno(self->fd, self->pagesz, PROT_READ,
			     (off_t)self->pagesz);

	EXPECT_EQ(EINVAL, err)
		TH_LOG("want EINVAL; mmap %s", err ? strerror(err) : "succeeded");
}

/* The page is data: no executable mapping, now or later. */
TEST_F(dev, mmap_prot_exec_eperm)
{
	int err = mmap_errno(self->fd, self->pagesz, PROT_READ | PROT_EXEC, 0);

	EXPECT_EQ(EPERM, err)
		TH_LOG("want EPERM; mmap %s", err ? strerror(err) : "succeeded");
}

TEST_F(dev, mprotect_exec_on_read_only_mapping_eacces)
{
	int map_err, err;

	err = mprotect_errno(self->fd, self->pagesz, PROT_EXEC, &map_err);
	ASSERT_EQ(0, map_err) TH_LOG("mmap PROT_READ: %s", strerror(map_err));
	EXPECT_EQ(EACCES, err)
		TH_LOG("want EACCES; mprotect %s", err ? strerror(err) : "succeeded");
}

/*
 * A shared writable mapping needs an fd open for writing first, else the
 * VFS answers EACCES before the driver is asked.
 */
TEST_F(dev, mmap_shared_writable_erofs)
{
	int rw = open(VMC_DEV, O_RDWR), err;

	if (rw < 0)
		SKIP(return, "open O_RDWR refused (%s): the driver is not reached",
		     strerror(errno));
	err = mmap_errno(rw, self->pagesz, PROT_READ | PROT_WRITE, 0);
	close(rw);
	EXPECT_EQ(EROFS, err)
		TH_LOG("want EROFS; mmap %s", err ? strerror(err) : "succeeded");
}

/*
 * From a writable fd only VM_MAYWRITE, cleared by the driver, stops an
 * upgrade; from an O_RDONLY fd the VFS would refuse anyway.
 */
TEST_F(dev, mprotect_write_from_o_rdwr_fd_eacces)
{
	int rw = open(VMC_DEV, O_RDWR), map_err, err;

	if (rw < 0)
		SKIP(return, "open O_RDWR refused (%s)", strerror(errno));
	err = mprotect_errno(rw, self->pagesz, PROT_WRITE, &map_err);
	close(rw);
	ASSERT_EQ(0, map_err) TH_LOG("mmap PROT_READ: %s", strerror(map_err));
	EXPECT_EQ(EACCES, err)
		TH_LOG("want EACCES; mprotect %s", err ? strerror(err) : "succeeded");
}

/* The node's mode as found, put back after every test. */
FIXTURE(perm) {
	mode_t old;
};

FIXTURE_SETUP(perm)
{
	struct stat st;
	int ret = stat(VMC_DEV, &st), err = errno;

	ASSERT_EQ(0, ret) TH_LOG("mode of %s: stat: %s", VMC_DEV, strerror(err));
	self->old = st.st_mode & 07777;
}

FIXTURE_TEARDOWN(perm)
{
	int ret = chmod(VMC_DEV, self->old), err = errno;

	EXPECT_EQ(0, ret)
		TH_LOG("could not restore mode %04o: %s",
		       (unsigned int)self->old, strerror(err));
}

/* Without udev (the rig's busybox) the kernel's mode shows. */
TEST_F(perm, mode_0600_from_the_kernel)
{
	if (!access("/run/udev", F_OK))
		SKIP(return, "udev is running and may have changed it (%04o)",
		     (unsigned int)self->old);
	EXPECT_EQ((mode_t)0600, self->old)
		TH_LOG("mode is %04o", (unsigned int)self->old);
}

TEST_F(perm, open_as_nobody_after_chmod_0600_eacces)
{
	int status = 0, ret, err;
	pid_t pid;

	ret = chmod(VMC_DEV, 0600);
	err = errno;
	ASSERT_EQ(0, ret) TH_LOG("chmod: %s", strerror(err));
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
	EXPECT_TRUE(!ret && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("want EACCES; child: %s", ret ? strerror(-ret) :
		       !WIFEXITED(status) ? "killed" :
		       WEXITSTATUS(status) == 100 ? "could not drop to nobody" :
		       WEXITSTATUS(status) == 101 ? "open succeeded" :
		       "open failed with another errno");
}

VMC_HARNESS_MAIN
