// SPDX-License-Identifier: GPL-2.0
/*
 * uevent-listen: print kernel uevents, one per line, as
 * "ACTION=change DEVPATH=/devices/... SUBSYSTEM=... VAR=... SEQNUM=...".
 * Only events whose line contains every MATCH string are printed and
 * counted. Exits 0 after COUNT matches (default 1), 1 on timeout.
 * With -r FILE, FILE is created once the socket listens, so a script can
 * wait for it before triggering the event it expects.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE	2
#define UEVENT_GROUP_KERNEL	1
#define BUF_SIZE	16384	/* kernel uevents are at most a few KiB */

static void usage(void)
{
	fprintf(stderr,
		"usage: uevent-listen [-t SECONDS] [-n COUNT] [-r READY_FILE] [MATCH...]\n"
		"  prints kernel uevents whose text contains every MATCH;\n"
		"  exits 0 after COUNT (default 1) of them, 1 after SECONDS\n"
		"  (default: wait forever)\n");
	exit(EXIT_USAGE);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_socket(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = UEVENT_GROUP_KERNEL,
	};
	int sz = 1 << 20;
	int fd;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -1;
	/* A burst (module load) must not overflow the queue; best effort. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A kernel uevent is "ACTION@DEVPATH\0" then "KEY=VALUE\0"...; the header
 * repeats ACTION and DEVPATH, so only the KEY=VALUE strings are printed.
 * Returns the line length, or -1 if the message is not a kernel uevent.
 */
static int format_event(const char *msg, size_t len, char *line, size_t size)
{
	size_t i, out = 0;

	if (!len || !memchr(msg, '@', strnlen(msg, len)))
		return -1;
	i = strnlen(msg, len) + 1;
	while (i < len) {
		size_t n = strnlen(msg + i, len - i);

		if (n && out + n + 2 < size) {
			if (out)
				line[out++] = ' ';
			memcpy(line + out, msg + i, n);
			out += n;
		}
		i += n + 1;
	}
	line[out] = '\0';
	return (int)out;
}

static int matches(const char *line, char **match, int nmatch)
{
	for (int i = 0; i < nmatch; i++)
		if (!strstr(line, match[i]))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	static char buf[BUF_SIZE], line[BUF_SIZE];
	const char *ready = NULL;
	double timeout = -1, deadline = 0;
	long count = 1, seen = 0;
	char *end;
	int opt, fd;

	while ((opt = getopt(argc, argv, "t:n:r:h")) != -1) {
		switch (opt) {
		case 't':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(timeout) ||
			    timeout <= 0) {
				fprintf(stderr, "uevent-listen: bad timeout '%s'\n", optarg);
				usage();
			}
			break;
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || count < 1) {
				fprintf(stderr, "uevent-listen: bad count '%s'\n", optarg);
				usage();
			}
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			usage();
		}
	}

	fd = open_socket();
	if (fd < 0) {
		fprintf(stderr, "uevent-listen: netlink socket: %s\n", strerror(errno));
		return 1;
	}
	if (ready) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (rfd < 0) {
			fprintf(stderr, "uevent-listen: %s: %s\n", ready, strerror(errno));
			return 1;
		}
		close(rfd);
	}
	if (timeout > 0)
		deadline = now_s() + timeout;

	while (seen < count) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait_ms = -1;
		ssize_t len;

		if (timeout > 0) {
			double left = deadline - now_s();

			if (left <= 0)
				break;
			wait_ms = (int)ceil(left * 1000);
		}
		if (poll(&pfd, 1, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "uevent-listen: poll: %s\n", strerror(errno));
			return 1;
		}
		if (!(pfd.revents & POLLIN))
			continue;
		len = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (len < 0) {
			if (errno == ENOBUFS)
				fprintf(stderr, "uevent-listen: receive queue overrun, events lost\n");
			else if (errno != EAGAIN && errno != EINTR)
				fprintf(stderr, "uevent-listen: recv: %s\n", strerror(errno));
			continue;
		}
		/* Only the kernel (port 0) sends real uevents on group 1. */
		if (from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
			continue;
		buf[len] = '\0';
		if (format_event(buf, (size_t)len, line, sizeof(line)) < 0)
			continue;
		if (!matches(line, argv + optind, argc - optind))
			continue;
		printf("%s\n", line);
		fflush(stdout);
		seen++;
	}
	close(fd);
	if (seen < count) {
		fprintf(stderr, "uevent-listen: timed out after %g s with %ld of %ld matching events\n",
			timeout, seen, count);
		return 1;
	}
	return 0;
}
