// SPDX-License-Identifier: GPL-2.0
/*
 * fake-host: host-side test double for the mailbox's action requests, used
 * only by test.sh (the real responder is tools/vmclock-host "serve").
 *   fake-host [-b] FILE
 * Polls the mailbox page in FILE and answers each request:
 *   "exit N"           result N, reply "exit N"
 *   "delay MS WORDS"   waits MS ms, then answers like WORDS
 *   "quit"             answers, then exits
 *   anything else      result 0, reply "echo: TEXT"
 * -b (broken on purpose) answers "echo:" requests with the text reversed.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rig-mailbox.h"

static volatile unsigned char *page;

static uint32_t load32(unsigned int off)
{
	return __atomic_load_n((volatile uint32_t *)(page + off), __ATOMIC_ACQUIRE);
}

static void store32(unsigned int off, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)(page + off), v, __ATOMIC_RELEASE);
}

static int answer(const char *text, char *reply, int broken)
{
	int n;

	if (sscanf(text, "delay %d", &n) == 1) {
		const char *rest = strchr(text + 6, ' ');

		usleep((useconds_t)n * 1000);
		return answer(rest ? rest + 1 : "", reply, broken);
	}
	if (sscanf(text, "exit %d", &n) == 1) {
		snprintf(reply, RIG_MB_REPLY_MAX, "exit %d", n);
		return n;
	}
	snprintf(reply, RIG_MB_REPLY_MAX, "echo: %s", text);
	if (broken) {
		size_t len = strlen(reply);

		for (size_t i = 0; i < len / 2; i++) {
			char c = reply[i];

			reply[i] = reply[len - 1 - i];
			reply[len - 1 - i] = c;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char text[RIG_MB_REQ_MAX], reply[RIG_MB_REPLY_MAX];
	int broken = argc == 3 && !strcmp(argv[1], "-b");
	void *p;
	int fd;

	if (argc != 2 + broken) {
		fprintf(stderr, "usage: fake-host [-b] FILE\n");
		return 2;
	}
	fd = open(argv[argc - 1], O_RDWR);
	if (fd < 0) {
		perror(argv[argc - 1]);
		return 1;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	page = p;
	for (;;) {
		uint32_t seq = load32(RIG_MB_REQ_SEQ);
		int result, quit;

		if (seq == load32(RIG_MB_ACK_SEQ)) {
			usleep(1000);
			continue;
		}
		memcpy(text, (const void *)(page + RIG_MB_REQ_TEXT), sizeof(text));
		text[sizeof(text) - 1] = '\0';
		quit = !strcmp(text, "quit");
		result = answer(text, reply, broken);
		memcpy((void *)(page + RIG_MB_REPLY_TEXT), reply, sizeof(reply));
		store32(RIG_MB_RESULT, (uint32_t)result);
		store32(RIG_MB_ACK_SEQ, seq);
		if (quit)
			return 0;
	}
}
