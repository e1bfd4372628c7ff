// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the vmclock selftests (see common.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "host.h"

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static const char *watchdog_what = "test";

static void watchdog_fire(int sig)
{
	static const char msg1[] = "Bail out! watchdog expired while waiting in ";
	static const char msg2[] = " (a driver call hung?)\n";

	(void)sig;
	/* Only async-signal-safe calls here. */
	if (write(STDOUT_FILENO, msg1, sizeof(msg1) - 1) < 0 ||
	    write(STDOUT_FILENO, watchdog_what, strlen(watchdog_what)) < 0 ||
	    write(STDOUT_FILENO, msg2, sizeof(msg2) - 1) < 0)
		_exit(1);
	_exit(1);
}

void watchdog_arm(unsigned int seconds, const char *what)
{
	watchdog_what = what;
	signal(SIGALRM, watchdog_fire);
	alarm(seconds);
}

const char *vmc_dev_path(void)
{
	const char *p = getenv("VMCLOCK_DEV");

	return p && *p ? p : VMC_DEV_DEFAULT;
}

const char *vmc_unavailable_reason(void)
{
#if !defined(__x86_64__) && !defined(__aarch64__)
	return "these tests read the x86 TSC or the Arm virtual counter; neither here";
#else
	static char why[300];

	if (geteuid() != 0)
		return "must run as root";
	if (access(VMC_DEV, F_OK)) {
		snprintf(why, sizeof(why),
			 "no %s (ptp_vmclock not loaded or no VMClock device)",
			 VMC_DEV);
		return why;
	}
	return NULL;
#endif
}

int file_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int file_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

int param_read(const char *name, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), VMC_PARAM_DIR "/%s", name);
	return file_read(path, buf, len);
}

int param_write(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), VMC_PARAM_DIR "/%s", name);
	return file_write(path, text);
}

bool wait_path(const char *path, bool present, unsigned int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;

	for (;;) {
		bool there = access(path, F_OK) == 0;

		if (there == present)
			return there;
		if (mono_ns() >= end)
			return there;
		sleep_ms(10);
	}
}

int ptp_find(char *devpath, size_t len)
{
	struct dirent *de;
	DIR *dir;
	int found = -ENOENT;

	dir = opendir("/sys/class/ptp");
	if (!dir)
		return -ENOENT;
	while ((de = readdir(dir))) {
		char path[512], name[64];
		int idx;

		if (sscanf(de->d_name, "ptp%d", &idx) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/ptp/%s/clock_name",
			 de->d_name);
		if (file_read(path, name, sizeof(name)))
			continue;
		if (strcmp(name, VMC_PTP_NAME))
			continue;
		if (devpath)
			snprintf(devpath, len, "/dev/ptp%d", idx);
		found = idx;
		break;
	}
	closedir(dir);
	return found;
}

bool wait_ptp(bool present, unsigned int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	char dev[64];

	for (;;) {
		/* The class entry and the devtmpfs node both have to be there. */
		bool there = ptp_find(dev, sizeof(dev)) >= 0 &&
			     access(dev, F_OK) == 0;

		if (there == present || mono_ns() >= end)
			return there;
		sleep_ms(10);
	}
}

static char vmc_devname[256];

static bool looks_like_vmclock_device(const char *name)
{
	return !strncmp(name, "AMZNC10C:", 9) || !strncmp(name, "VMCLOCK:", 8) ||
	       strstr(name, "vmclock") != NULL;
}

const char *vmc_device_name(void)
{
	struct dirent *de;
	DIR *dir;

	if (vmc_devname[0])
		return vmc_devname;
	/* Bound: the driver directory holds a symlink per bound device. */
	dir = opendir(VMC_DRIVER_DIR);
	if (dir) {
		while ((de = readdir(dir))) {
			char path[512];
			struct stat st;

			if (de->d_name[0] == '.' || !strcmp(de->d_name, "module"))
				continue;
			snprintf(path, sizeof(path), VMC_DRIVER_DIR "/%s",
				 de->d_name);
			if (lstat(path, &st) || !S_ISLNK(st.st_mode))
				continue;
			snprintf(vmc_devname, sizeof(vmc_devname), "%s",
				 de->d_name);
			break;
		}
		closedir(dir);
	}
	if (vmc_devname[0])
		return vmc_devname;
	/* Unbound (e.g. a refused probe at boot): look on the bus. */
	dir = opendir("/sys/bus/platform/devices");
	if (!dir)
		return NULL;
	while ((de = readdir(dir))) {
		if (looks_like_vmclock_device(de->d_name)) {
			snprintf(vmc_devname, sizeof(vmc_devname), "%s",
				 de->d_name);
			break;
		}
	}
	closedir(dir);
	return vmc_devname[0] ? vmc_devname : NULL;
}

bool vmc_bound(void)
{
	const char *name = vmc_device_name();
	char path[512];

	if (!name)
		return false;
	snprintf(path, sizeof(path), VMC_DRIVER_DIR "/%s", name);
	return access(path, F_OK) == 0;
}

int vmc_unbind(void)
{
	const char *name = vmc_device_name();

	if (!name)
		return -ENODEV;
	return file_write(VMC_DRIVER_DIR "/unbind", name);
}

int vmc_bind(void)
{
	const char *name = vmc_device_name();

	if (!name)
		return -ENODEV;
	return file_write(VMC_DRIVER_DIR "/bind", name);
}

int vmc_rebind(void)
{
	if (vmc_bound()) {
		int ret = vmc_unbind();

		if (ret)
			return ret;
	}
	return vmc_bind();
}

int vmc_rebind_settled(void)
{
	int ret = vmc_rebind();

	if (ret)
		return ret;
	return wait_path(VMC_DEV, true, VMC_SETTLE_MS) ? 0 : -ETIMEDOUT;
}

int vmc_map_open(struct vmc_map *m)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p;
	u32 size;

	m->fd = open(VMC_DEV, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	p = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, m->fd, 0);
	if (p == MAP_FAILED) {
		int ret = -errno;

		close(m->fd);
		m->fd = -1;
		return ret;
	}
	m->page = p;
	m->len = (size_t)pg;
	size = le32toh(m->page->size);
	m->size = size > m->len ? (u32)m->len : size;
	return 0;
}

void vmc_map_close(struct vmc_map *m)
{
	if (m->page)
		munmap((void *)m->page, m->len);
	if (m->fd >= 0)
		close(m->fd);
	m->page = NULL;
	m->fd = -1;
}

u64 rdtsc_counter(void *ctx)
{
	unsigned int lo, hi;

	(void)ctx;
#if defined(__x86_64__)
	/* lfence on both sides: the read stays inside the seq window. */
	__asm__ __volatile__("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)
			     :: "memory");
#elif defined(__aarch64__)
	u64 v;

	/* isb on both sides, as lfence on x86. */
	__asm__ __volatile__("isb; mrs %0, cntvct_el0; isb" : "=r"(v) :: "memory");
	lo = (unsigned int)v;
	hi = (unsigned int)(v >> 32);
#else
	/* Built, never run: vmc_unavailable_reason() skips other arches. */
	lo = hi = 0;
#endif
	return ((u64)hi << 32) | lo;
}

int vmc_snap(const struct vmc_map *m, struct vmclock_snap *s, bool with_tsc)
{
	uint64_t end = mono_ns() + VMC_SNAP_BOUND_MS * 1000000ULL;

	do {
		if (!vmclock_snap_read(m->page, m->size, s,
				       with_tsc ? rdtsc_counter : NULL, NULL))
			return 0;
	} while (mono_ns() < end);
	return -EBUSY;
}

int vmc_save_page(struct vmclock_abi *saved, u32 *size)
{
	ssize_t n;
	int fd;

	fd = open(VMC_DEV, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(saved, 0, sizeof(*saved));
	/* read() gives a copy consistent under the seq check. */
	n = pread(fd, saved, sizeof(*saved), 0);
	close(fd);
	if (n < 0)
		return -errno;
	if ((size_t)n < offsetof(struct vmclock_abi, time_frac_sec))
		return -EIO;
	if (size)
		*size = le32toh(saved->size);
	return 0;
}

int host_restore_page(const struct vmclock_abi *p)
{
	return host_cmd("set magic=%u size=%u version=%u counter_id=%u time_type=%u "
			"disruption_marker=%llu flags=%llu clock_status=%u "
			"leap_second_smearing_hint=%u tai_offset_sec=%d "
			"leap_indicator=%u counter_period_shift=%u "
			"counter_value=%llu counter_period_frac_sec=%llu "
			"counter_period_esterror_rate_frac_sec=%llu "
			"counter_period_maxerror_rate_frac_sec=%llu "
			"time_sec=%llu time_frac_sec=%llu "
			"time_esterror_nanosec=%llu time_maxerror_nanosec=%llu "
			"vm_generation_counter=%llu",
			le32toh(p->magic), le32toh(p->size),
			le16toh(p->version), p->counter_id, p->time_type,
			(unsigned long long)le64toh(p->disruption_marker),
			(unsigned long long)le64toh(p->flags),
			p->clock_status, p->leap_second_smearing_hint,
			(int)(int16_t)le16toh(p->tai_offset_sec),
			p->leap_indicator, p->counter_period_shift,
			(unsigned long long)le64toh(p->counter_value),
			(unsigned long long)le64toh(p->counter_period_frac_sec),
			(unsigned long long)le64toh(p->counter_period_esterror_rate_frac_sec),
			(unsigned long long)le64toh(p->counter_period_maxerror_rate_frac_sec),
			(unsigned long long)le64toh(p->time_sec),
			(unsigned long long)le64toh(p->time_frac_sec),
			(unsigned long long)le64toh(p->time_esterror_nanosec),
			(unsigned long long)le64toh(p->time_maxerror_nanosec),
			(unsigned long long)le64toh(p->vm_generation_counter));
}

static char host_err[512];
static char host_out[2048];

static int host_vcmd(unsigned int timeout_ms, const char *fmt, va_list ap)
{
	char cmd[1024];
	int n, ret;

	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(cmd)) {
		snprintf(host_err, sizeof(host_err),
			 "host command too long (%d bytes)", n);
		return -E2BIG;
	}
	host_out[0] = '\0';
	ret = vmc_rig_request(cmd, timeout_ms, host_out, sizeof(host_out));
	if (ret)
		snprintf(host_err, sizeof(host_err),
			 "host command \"%.200s\" failed: %d (%.200s)",
			 cmd, ret, host_out);
	else
		host_err[0] = '\0';
	return ret;
}

int host_cmd(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = host_vcmd(0, fmt, ap);
	va_end(ap);
	return ret;
}

int host_cmd_timeout(unsigned int timeout_ms, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = host_vcmd(timeout_ms, fmt, ap);
	va_end(ap);
	return ret;
}

const char *host_error(void)
{
	return host_err;
}

const char *host_reply(void)
{
	return host_out;
}

pid_t fork_flushed(void)
{
	fflush(NULL);
	return fork();
}

pid_t host_cmds_later(unsigned int delay_ms, const char *const cmds[])
{
	pid_t pid = fork_flushed();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int i;

		/* Never outlive the parent's interest, and die silently:
		 * the inherited watchdog would print a "Bail out!". */
		signal(SIGALRM, SIG_DFL);
		alarm(60);
		sleep_ms(delay_ms);
		for (i = 0; cmds[i]; i++) {
			if (host_cmd("%s", cmds[i])) {
				printf("# child: %s\n", host_error());
				fflush(stdout);
				_exit(1);
			}
		}
		_exit(0);
	}
	return pid;
}

int wait_child(pid_t pid, unsigned int timeout_ms, int *status)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0)
			return -errno;
		if (mono_ns() >= end)
			break;
		sleep_ms(5);
	}
	kill(pid, SIGKILL);
	/* A task stuck in the kernel may not die at once: bounded reap. */
	end = mono_ns() + 2000000000ULL;
	while (waitpid(pid, status, WNOHANG) == 0 && mono_ns() < end)
		sleep_ms(10);
	return -ETIMEDOUT;
}

long kernel_taint(void)
{
	char buf[32];

	if (file_read("/proc/sys/kernel/tainted", buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

bool wait_clocksource(const char *name, unsigned int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	char cur[64];

	for (;;) {
		if (!file_read(CLOCKSOURCE_CUR, cur, sizeof(cur)) &&
		    !strcmp(cur, name))
			return true;
		if (mono_ns() >= end)
			return false;
		sleep_ms(50);
	}
}

const char *counter_offset_env(void)
{
	const char *v = getenv("VMCLOCK_COUNTER_OFFSET");

	return v && *v ? v : NULL;
}

bool vmc_module_path(char *path, size_t len)
{
	const char *env = getenv("VMCLOCK_KO");
	static const char *const dirs[] = { "extra", "updates", "kernel/drivers/ptp" };
	struct utsname u;
	unsigned int i;

	if (env && *env) {
		snprintf(path, len, "%s", env);
		return access(path, R_OK) == 0;
	}
	uname(&u);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, len, "/lib/modules/%s/%s/" VMC_MODULE ".ko",
			 u.release, dirs[i]);
		if (!access(path, R_OK))
			return true;
	}
	return false;
}

void vmc_module_params(char *params, size_t len)
{
	char interval[32] = "100", utc[8] = "N";

	param_read("poll_interval_ms", interval, sizeof(interval));
	param_read("phc_utc", utc, sizeof(utc));
	snprintf(params, len, "poll_interval_ms=%s phc_utc=%s", interval, utc);
}

int vmc_module_unload(void)
{
	return syscall(SYS_delete_module, VMC_MODULE, O_NONBLOCK) ? -errno : 0;
}

int vmc_module_load(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}
