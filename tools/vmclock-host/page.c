// SPDX-License-Identifier: GPL-2.0
/*
 * The page and the mailbox inside the backing file, and the writer protocol.
 *
 * Both are mapped MAP_SHARED so stores reach the guest (whose RAM is the same
 * file) at once. Every field store is a single atomic store of the field's
 * width, so a reader never sees a torn field even when it ignores seq_count.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmclock-host.h"

/* Map PAGE_BYTES at file offset @off (any multiple of 8). */
static void *map_at(struct host *h, uint64_t off)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t base = off & ~(pg - 1);
	uint8_t *p;

	p = mmap(NULL, PAGE_BYTES + (off - base), PROT_READ | PROT_WRITE,
		 MAP_SHARED, h->fd, (off_t)base);
	if (p == MAP_FAILED)
		return NULL;
	return p + (off - base);
}

static int check_range(struct host *h, const char *what, uint64_t off)
{
	if (off % 8)
		return usage_error(h, "%s 0x%llx is not a multiple of 8", what,
				   (unsigned long long)off);
	if (off > h->file_size || h->file_size - off < PAGE_BYTES)
		return usage_error(h, "%s 0x%llx + 0x1000 does not fit in %s (%llu bytes)",
				   what, (unsigned long long)off, h->file,
				   (unsigned long long)h->file_size);
	return RC_OK;
}

int page_open(struct host *h)
{
	struct stat st;

	h->fd = open(h->file, O_RDWR | O_CLOEXEC);
	if (h->fd < 0)
		return usage_error(h, "cannot open %s read-write: %s", h->file,
				   strerror(errno));
	if (fstat(h->fd, &st) || !S_ISREG(st.st_mode))
		return usage_error(h, "%s is not a regular file", h->file);
	h->file_size = (uint64_t)st.st_size;
	if (check_range(h, "--offset", h->offset))
		return RC_USAGE;
	h->page = map_at(h, h->offset);
	if (!h->page)
		return run_error(h, "mmap %s at 0x%llx: %s", h->file,
				 (unsigned long long)h->offset, strerror(errno));
	return RC_OK;
}

/* The mailbox is only needed by some commands: map it on first use. */
int mailbox_map(struct host *h)
{
	if (h->mb)
		return RC_OK;
	if (check_range(h, "--mailbox", h->mailbox))
		return RC_USAGE;
	h->mb = map_at(h, h->mailbox);
	if (!h->mb)
		return run_error(h, "mmap mailbox at 0x%llx: %s",
				 (unsigned long long)h->mailbox, strerror(errno));
	return RC_OK;
}

void page_close(struct host *h)
{
	/* The mappings go away with the process; only the descriptor is ours. */
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* Little-endian stores and loads (the rig is x86, but say what we mean). */
void fld_store(void *p, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1:
		__atomic_store_n((uint8_t *)p, (uint8_t)v, __ATOMIC_RELAXED);
		break;
	case 2:
		__atomic_store_n((uint16_t *)p, htole16((uint16_t)v), __ATOMIC_RELAXED);
		break;
	case 4:
		__atomic_store_n((uint32_t *)p, htole32((uint32_t)v), __ATOMIC_RELAXED);
		break;
	default:
		__atomic_store_n((uint64_t *)p, htole64(v), __ATOMIC_RELAXED);
		break;
	}
}

uint64_t fld_load(const void *p, unsigned int size)
{
	switch (size) {
	case 1:
		return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
	case 2:
		return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
	case 4:
		return le32toh(__atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED));
	default:
		return le64toh(__atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED));
	}
}

/*
 * Writer protocol, first half: seq_count odd, then a full barrier so no
 * field store can become visible before the odd value. A seq_count left odd
 * (a crashed writer, a hostile `set seq_count=`) is kept: the transaction
 * then ends on the next even value.
 */
void tx_begin(struct host *h)
{
	uint32_t seq = (uint32_t)GET(h, seq_count);

	h->tx_seq = seq | 1;
	PUT(h, seq_count, h->tx_seq);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Second half: barrier, next even value, then the optional notification. */
void tx_end(struct host *h)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	PUT(h, seq_count, h->tx_seq + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (h->srv.notify_on_update)
		mb_notify(h);
}

uint32_t mb_load32(struct host *h, unsigned int off)
{
	return (uint32_t)fld_load(h->mb + off, 4);
}

uint64_t mb_load64(struct host *h, unsigned int off)
{
	return fld_load(h->mb + off, 8);
}

void mb_store32(struct host *h, unsigned int off, uint32_t v)
{
	fld_store(h->mb + off, 4, v);
}

/* Ask the rig module to evaluate the SSDT Notify method once more. */
void mb_notify(struct host *h)
{
	if (mailbox_map(h))
		return;
	mb_store32(h, RIG_MB_NOTIFY_REQ, mb_load32(h, RIG_MB_NOTIFY_REQ) + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
