// SPDX-License-Identifier: GPL-2.0
/* Guest side of the rig mailbox's action requests: see rig_request.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "rig_request.h"

#define RIG_PAGE_SIZE	4096
#define RIG_POLL_US	1000

const char *rig_mailbox_path(void)
{
	const char *p = getenv("RIG_MAILBOX_DEV");

	return p && *p ? p : RIG_MAILBOX_DEV_DEFAULT;
}

int rig_mailbox_open(struct rig_mailbox *mb)
{
	void *p;
	int err;

	mb->page = NULL;
	mb->fd = open(rig_mailbox_path(), O_RDWR | O_CLOEXEC);
	if (mb->fd < 0)
		return -errno;
	p = mmap(NULL, RIG_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 mb->fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		close(mb->fd);
		mb->fd = -1;
		return err;
	}
	mb->page = p;
	return 0;
}

void rig_mailbox_close(struct rig_mailbox *mb)
{
	if (mb->page)
		munmap((void *)mb->page, RIG_PAGE_SIZE);
	if (mb->fd >= 0)
		close(mb->fd);
	mb->page = NULL;
	mb->fd = -1;
}

/* The mailbox is little-endian; so is x86, the only rig architecture. */
static uint32_t mb_load32(struct rig_mailbox *mb, unsigned int off)
{
	return __atomic_load_n((volatile uint32_t *)(mb->page + off),
			       __ATOMIC_ACQUIRE);
}

static void mb_store32(struct rig_mailbox *mb, unsigned int off, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)(mb->page + off), v,
			 __ATOMIC_RELEASE);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until ACK_SEQ equals want; 0 or -ETIMEDOUT at deadline_ms. */
static int wait_ack(struct rig_mailbox *mb, uint32_t want, int64_t deadline_ms)
{
	while (mb_load32(mb, RIG_MB_ACK_SEQ) != want) {
		if (now_ms() >= deadline_ms)
			return -ETIMEDOUT;
		usleep(RIG_POLL_US);
	}
	return 0;
}

int rig_request(struct rig_mailbox *mb, const char *text,
		unsigned int timeout_ms, struct rig_reply *reply)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t len = strlen(text);
	uint32_t seq, ack;
	int ret;

	reply->result = 0;
	reply->text[0] = '\0';
	if (len >= RIG_MB_REQ_MAX)
		return -E2BIG;
	if (flock(mb->fd, LOCK_EX) < 0)
		return -errno;

	/* One request at a time: let an earlier one (maybe timed out) finish. */
	seq = mb_load32(mb, RIG_MB_REQ_SEQ);
	ret = wait_ack(mb, seq, deadline);
	if (ret) {
		ack = mb_load32(mb, RIG_MB_ACK_SEQ);
		snprintf(reply->text, sizeof(reply->text),
			 "earlier request %u still not acknowledged (ack %u)",
			 seq, ack);
		goto out;
	}

	memcpy((void *)(mb->page + RIG_MB_REQ_TEXT), text, len + 1);
	seq++;
	/* Release: the host must see the text before the new sequence. */
	mb_store32(mb, RIG_MB_REQ_SEQ, seq);

	ret = wait_ack(mb, seq, deadline);
	if (ret) {
		ack = mb_load32(mb, RIG_MB_ACK_SEQ);
		snprintf(reply->text, sizeof(reply->text),
			 "request %u not acknowledged (ack %u)", seq, ack);
		goto out;
	}
	/* wait_ack()'s acquire load orders these reads after the ack. */
	reply->result = (int32_t)mb_load32(mb, RIG_MB_RESULT);
	memcpy(reply->text, (const void *)(mb->page + RIG_MB_REPLY_TEXT),
	       sizeof(reply->text));
	reply->text[sizeof(reply->text) - 1] = '\0';
out:
	flock(mb->fd, LOCK_UN);
	return ret;
}

int rig_host(struct rig_reply *reply, const char *fmt, ...)
{
	struct rig_mailbox mb = { .page = NULL, .fd = -1 };
	char text[RIG_MB_REQ_MAX];
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(text))
		return -E2BIG;
	ret = rig_mailbox_open(&mb);
	if (ret)
		return ret;
	ret = rig_request(&mb, text, RIG_TIMEOUT_MS_DEFAULT, reply);
	rig_mailbox_close(&mb);
	return ret;
}
