/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmclock-host: plays the hypervisor for a VMClock page that lives inside a
 * file (a QEMU guest-RAM backing file) and answers the test rig's mailbox.
 *
 * Shared declarations of the small units: page.c (mapping and the writer
 * protocol), args.c (number and option parsing), fields.c (set/dump by
 * name), counter.c (host TSC and clock sampling), clock.c (clock, steady),
 * events.c (init, disrupt, leap, notify, sleep), echo.c (calibrate,
 * echo-check), bump.c (timed seq bump for bench/), serve.c (the mailbox
 * loop) and main.c (dispatch).
 *
 * Exit/return codes of every command: 0 done, 1 failed at run time,
 * 2 bad argument (nothing was written).
 */
#ifndef VMCLOCK_HOST_H
#define VMCLOCK_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <signal.h>

#include "linux/vmclock-abi.h"
#include "rig-mailbox.h"

#define PAGE_BYTES	0x1000u
#define TAI_UTC_DEFAULT	37	/* TAI - UTC since 2017-01-01 */

enum { RC_OK = 0, RC_FAIL = 1, RC_USAGE = 2 };

/* Clock description written by `clock` and every `steady` round. */
struct clock_cfg {
	int64_t counter_offset;		/* guest_tsc = host_tsc + counter_offset */
	uint8_t time_type;		/* VMCLOCK_TIME_TAI or VMCLOCK_TIME_UTC */
	int16_t tai_offset;		/* written as given; magnitude used */
	uint8_t status;
	uint64_t esterror_ns;
	uint64_t maxerror_ns;
};

/* Host TSC rate, measured once against CLOCK_MONOTONIC_RAW. */
struct tsc_rate {
	bool valid;
	uint64_t hz;			/* whole Hz: messages, calibrate's width in ns */
	uint8_t shift;			/* counter_period_shift */
	uint64_t period;		/* counter_period_frac_sec */
};

/* Background duties of `serve` (steady rounds, end of an unreliable window). */
struct serve_state {
	bool active;			/* running inside serve */
	bool notify_on_update;
	bool have_offset;		/* counter offset known (option or calibrate) */
	int64_t counter_offset;
	bool steady;			/* steady rounds on */
	bool steady_first;		/* next round is the first one */
	struct clock_cfg steady_cfg;
	uint64_t interval_ms;
	struct timespec next_round;
	bool steady_until_set;
	struct timespec steady_until;
	bool restore_pending;		/* disrupt's second transaction due */
	struct timespec restore_at;
	uint64_t stall_left;		/* stall windows still to run */
	uint64_t stall_ms, stall_gap_ms;
	bool stall_odd;			/* seq_count held odd right now */
	bool stall_disrupt;		/* marker +1 in every window */
	uint32_t stall_seq;		/* the odd value we wrote */
	struct timespec stall_next;	/* end of this window or gap */
	struct timespec stall_opened;	/* when this window opened */
	uint64_t stall_windows;		/* closed so far in this stall */
	uint64_t stall_longest_ns;	/* longest window so far, as held */
};

struct host {
	const char *file;
	uint64_t offset;		/* file offset of the VMClock page */
	uint64_t mailbox;		/* file offset of the rig mailbox */
	int fd;
	uint64_t file_size;
	struct vmclock_abi *page;	/* mapped MAP_SHARED */
	uint8_t *mb;			/* mapped lazily */
	FILE *out, *err;		/* stdout/stderr, or the serve reply */
	uint32_t tx_seq;		/* odd seq of the open transaction */
	struct tsc_rate rate;
	struct serve_state srv;
};

extern volatile sig_atomic_t stop_requested;

/* A name for a numeric value (enumerations, flags). */
struct name_val {
	const char *name;
	uint64_t val;
};
extern const struct name_val leap_names[];

/* args.c */
int parse_u64(const char *s, uint64_t *v);
int parse_s64(const char *s, int64_t *v);

enum opt_type { OPT_FLAG, OPT_U64, OPT_S64, OPT_STR };
struct opt {
	const char *name;		/* without the leading "--" */
	enum opt_type type;
	void *dst;			/* bool, uint64_t, int64_t or const char * */
	int64_t min, max;		/* numeric range (ignored when min > max) */
	bool seen;
};
int parse_opts(struct host *h, const char *cmd, int argc, char **argv,
	       struct opt *opts, int *npos, char **pos, int maxpos);
int usage_error(struct host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int run_error(struct host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int parse_time_type(struct host *h, const char *s, uint8_t *tt);
int parse_status(struct host *h, const char *s, uint8_t *st);

/* page.c */
int page_open(struct host *h);
void page_close(struct host *h);
int mailbox_map(struct host *h);
void tx_begin(struct host *h);
void tx_end(struct host *h);
void fld_store(void *p, unsigned int size, uint64_t v);
uint64_t fld_load(const void *p, unsigned int size);
#define PUT(h, f, v)	fld_store(&(h)->page->f, sizeof((h)->page->f), (v))
#define GET(h, f)	fld_load(&(h)->page->f, sizeof((h)->page->f))
uint32_t mb_load32(struct host *h, unsigned int off);
uint64_t mb_load64(struct host *h, unsigned int off);
void mb_store32(struct host *h, unsigned int off, uint32_t v);
void mb_notify(struct host *h);

/* counter.c */
bool counter_available(void);
uint64_t counter_read(void);
void counter_set_virtual(struct host *h, uint64_t hz);
uint8_t counter_id(void);
struct clock_sample {
	uint64_t tsc;			/* host counter at ts */
	struct timespec ts;
};
int clock_sample(clockid_t id, struct clock_sample *s);
int tsc_rate_measure(struct host *h);
uint64_t ts_ns(const struct timespec *ts);
void ts_add_ms(struct timespec *ts, uint64_t ms);
bool ts_reached(const struct timespec *deadline);
void sleep_ms(uint64_t ms);

/* fields.c */
int cmd_set(struct host *h, int argc, char **argv);
int cmd_dump(struct host *h, int argc, char **argv);

/* clock.c */
int clock_round(struct host *h, const struct clock_cfg *c, bool first);
int cmd_clock(struct host *h, int argc, char **argv);
int cmd_steady(struct host *h, int argc, char **argv);

/* events.c */
int cmd_init(struct host *h, int argc, char **argv);
int cmd_disrupt(struct host *h, int argc, char **argv);
int disrupt_restore(struct host *h);
int cmd_leap(struct host *h, int argc, char **argv);
int cmd_notify(struct host *h, int argc, char **argv);
int cmd_sleep(struct host *h, int argc, char **argv);
int cmd_stall(struct host *h, int argc, char **argv);
void stall_step(struct host *h);

/* echo.c */
int cmd_calibrate(struct host *h, int argc, char **argv);
int cmd_echo_check(struct host *h, int argc, char **argv);

/* bump.c */
int cmd_bump(struct host *h, int argc, char **argv);

/* fuzz.c */
int cmd_fuzz(struct host *h, int argc, char **argv);

/* serve.c */
int cmd_serve(struct host *h, int argc, char **argv);
void serve_duties(struct host *h);

/* main.c */
int run_command(struct host *h, int argc, char **argv);

#endif /* VMCLOCK_HOST_H */
