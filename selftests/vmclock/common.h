/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vmclock selftests: finding the devices, rebinding
 * the driver, reading the page through the core's seq reader, bounded waits.
 *
 * These never print results (the harness and kselftest.h do); failures are
 * negative errno values, with a human-readable detail where it helps.
 */
#ifndef VMCLOCK_SELFTEST_COMMON_H
#define VMCLOCK_SELFTEST_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <endian.h>
#include <sys/types.h>

#include <vmclock/vmclock-core.h>

/*
 * The misc device. VMCLOCK_DEV in the environment replaces it: a test hook
 * to run vmclock_dev against a plain file and watch its checks fail.
 */
#define VMC_DEV_DEFAULT		"/dev/vmclock0"
#define VMC_DEV			vmc_dev_path()
const char *vmc_dev_path(void);
#define VMC_PTP_NAME		"vmclock0"
#define VMC_DRIVER_DIR		"/sys/bus/platform/drivers/vmclock"
#define VMC_PARAM_DIR		"/sys/module/ptp_vmclock/parameters"
#define VMC_MODULE		"ptp_vmclock"
#define CLOCKSOURCE_CUR	\
	"/sys/devices/system/clocksource/clocksource0/current_clocksource"
#define CLOCKSOURCE_AVAIL \
	"/sys/devices/system/clocksource/clocksource0/available_clocksource"

/* The PHC as a POSIX clock id, as the kernel's posix-clock code decodes it. */
#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)

/* Default bound for "the device should appear/disappear now". */
#define VMC_SETTLE_MS		2000
/* The driver's seq reader gives up after ~100 ms; so do we. */
#define VMC_SNAP_BOUND_MS	100

uint64_t mono_ns(void);
void sleep_ms(unsigned int ms);

/* Kills the program with a KTAP "Bail out!" when a wait hangs anyway
 * (vmclock_stress; harness programs have the harness's per-test timeout). */
void watchdog_arm(unsigned int seconds, const char *what);

/*
 * The CPU counter the page describes on this architecture: its name for
 * vmclock-host init --counter, and the clocksource that reads it.
 */
#if defined(__aarch64__)
#define VMC_COUNTER		"arm"
#define VMC_CLOCKSOURCE		"arch_sys_counter"
#else
#define VMC_COUNTER		"tsc"
#define VMC_CLOCKSOURCE		"tsc"
#endif

/* Common preconditions: root, x86-64 or arm64, /dev/vmclock0; else skip all. */
const char *vmc_unavailable_reason(void);

/* sysfs/procfs text files: read trims the trailing newline. */
int file_read(const char *path, char *buf, size_t len);
int file_write(const char *path, const char *text);
int param_read(const char *name, char *buf, size_t len);
int param_write(const char *name, const char *text);

/* True when the path exists, after waiting up to @timeout_ms for it to
 * reach the wanted state. */
bool wait_path(const char *path, bool present, unsigned int timeout_ms);

/* /dev/ptpN whose clock_name is "vmclock0": returns N or -ENOENT. */
int ptp_find(char *devpath, size_t len);
bool wait_ptp(bool present, unsigned int timeout_ms);

/* Platform device name (e.g. "AMZNC10C:00"), remembered once seen. */
const char *vmc_device_name(void);
/* 0 or -errno of the write to unbind/bind (a refused probe: bind fails). */
int vmc_unbind(void);
int vmc_bind(void);
/* Unbind (if bound) then bind; returns vmc_bind()'s result. */
int vmc_rebind(void);
/* vmc_rebind(), then up to VMC_SETTLE_MS for /dev/vmclock0 to appear:
 * 0, the bind's -errno, or -ETIMEDOUT when the device did not come. */
int vmc_rebind_settled(void);
bool vmc_bound(void);

/* The page through /dev/vmclock0: one read-only shared page. */
struct vmc_map {
	int fd;
	const struct vmclock_abi *page;
	size_t len;
	u32 size;		/* page->size, clamped to the mapping */
};
int vmc_map_open(struct vmc_map *m);
void vmc_map_close(struct vmc_map *m);

/* The CPU counter (TSC, or arm64's CNTVCT_EL0) read with ordering
 * barriers, as the counter callback of the core. */
u64 rdtsc_counter(void *ctx);

/* A consistent copy through vmclock_snap_read(), retried for up to
 * VMC_SNAP_BOUND_MS; @with_tsc takes the TSC inside the window.
 * Return: 0 or -EBUSY. */
int vmc_snap(const struct vmc_map *m, struct vmclock_snap *s, bool with_tsc);

/* Raw byte copy of the page for later restore (see host_restore_page). */
int vmc_save_page(struct vmclock_abi *saved, u32 *size);
/* Host: rewrite every field of @saved (except seq_count) with "set". */
int host_restore_page(const struct vmclock_abi *saved);

/*
 * A child that sleeps @delay_ms, then sends each host command in turn
 * (NULL-terminated list) and exits 0 when all succeeded, 1 otherwise; it
 * lets the parent block in poll()/epoll_wait()/recv() meanwhile.
 * Return: the child's pid or -errno.
 */
pid_t host_cmds_later(unsigned int delay_ms, const char *const cmds[]);

/* fork() after flushing stdio so a child never repeats buffered KTAP. */
pid_t fork_flushed(void);
/* Waits up to @timeout_ms; on timeout kills the child and returns
 * -ETIMEDOUT. Otherwise 0 and the wait status in *status. */
int wait_child(pid_t pid, unsigned int timeout_ms, int *status);

/* /proc/sys/kernel/tainted; the bits a crash or warning sets. */
#define TAINT_CRASH_BITS	((1UL << 7) | (1UL << 9))	/* D, W */
long kernel_taint(void);

/* Waits up to @timeout_ms for current_clocksource == @name. */
bool wait_clocksource(const char *name, unsigned int timeout_ms);

/* The module file: $VMCLOCK_KO or the usual /lib/modules places. */
bool vmc_module_path(char *path, size_t len);
/* The loaded module's parameters as an insmod argument string. */
void vmc_module_params(char *params, size_t len);
/* delete_module(O_NONBLOCK) and finit_module(): 0 or -errno. */
int vmc_module_unload(void);
int vmc_module_load(const char *path, const char *params);

/* VMCLOCK_COUNTER_OFFSET from the rig, or NULL. */
const char *counter_offset_env(void);

#endif /* VMCLOCK_SELFTEST_COMMON_H */
