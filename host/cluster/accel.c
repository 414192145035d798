// SPDX-License-Identifier: GPL-2.0-only
#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "proc.h"
#include "readiness.h"

#define PROBE_MARKER "OM-PROBE-OK"

const char *om_accel_name(enum om_accel a)
{
	switch (a) {
	case OM_ACCEL_KVM:
		return "kvm";
	case OM_ACCEL_TCG:
		return "tcg";
	default:
		return "auto";
	}
}

/* FNV-1a over the identity of every input the probe's answer depends on. */
static unsigned long long probe_key(const struct om_artifacts *art)
{
	const char *files[] = { art->qemu, art->kernel, art->initrd };
	unsigned long long h = 0xcbf29ce484222325ull;
	struct utsname u;
	char id[PATH_MAX + 128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct stat st;
		char real[PATH_MAX];

		if (!realpath(files[i], real) || stat(real, &st) < 0)
			snprintf(id, sizeof(id), "%s missing", files[i]);
		else
			snprintf(id, sizeof(id), "%s %lld %lld.%09ld", real, (long long)st.st_size,
				 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		for (const char *p = id; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	}
	if (uname(&u) == 0)
		for (const char *p = u.release; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

static int cache_read(const char *path, struct om_accel_choice *out)
{
	char line[300];
	FILE *f = fopen(path, "re");

	if (!f)
		return -ENOENT;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EBADMSG;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "kvm ", 4) == 0)
		out->accel = OM_ACCEL_KVM;
	else if (strncmp(line, "tcg ", 4) == 0)
		out->accel = OM_ACCEL_TCG;
	else
		return -EBADMSG;
	snprintf(out->reason, sizeof(out->reason), "%.*s", (int)sizeof(out->reason) - 1, line + 4);
	out->cached = true;
	return 0;
}

/* mkdir -p for the cache directory (0 or -errno). */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static void cache_write(const char *cache_dir, const char *path, const struct om_accel_choice *c)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	if (make_dirs(cache_dir))
		return; /* no cache: the next run probes again, nothing is lost */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return; /* no cache: the next run probes again, nothing is lost */
	fprintf(f, "%s %s\n", om_accel_name(c->accel), c->reason);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

/* Boots the guest once under KVM; 0 if it reached userland, else -errno. */
static int probe_boot(const struct om_artifacts *art, const char *work_dir,
		      unsigned int timeout_ms, char *why, size_t cap)
{
	struct om_guest g;
	struct om_argv *argv = calloc(1, sizeof(*argv));
	struct om_proc_id id;
	char console[PATH_MAX], log[PATH_MAX];
	long long deadline;
	int err;

	if (!argv)
		return -ENOMEM;
	err = om_guest_init(&g, 1, 256, 1, OM_ACCEL_KVM, work_dir, NULL);
	if (!err) {
		g.probe = true;
		err = om_guest_qemu_argv(&g, art, argv);
	}
	if (err) {
		free(argv);
		snprintf(why, cap, "could not describe the probe guest: %s", strerror(-err));
		return err;
	}
	om_guest_path(&g, OM_GUEST_CONSOLE, console, sizeof(console));
	om_guest_path(&g, OM_GUEST_QEMU_LOG, log, sizeof(log));
	unlink(console);
	err = om_proc_spawn(argv->argv, log, NULL, &id);
	free(argv);
	if (err) {
		snprintf(why, cap, "could not start QEMU: %s", strerror(-err));
		return err;
	}
	err = -ETIMEDOUT;
	deadline = om_now_ms() + timeout_ms;
	while (om_now_ms() < deadline) {
		char tail[4096];

		if (om_console_tail(console, 20, tail, sizeof(tail)) == 0 &&
		    strstr(tail, PROBE_MARKER)) {
			err = 0;
			break;
		}
		if (!om_proc_alive(&id)) {
			err = -ECHILD;
			break;
		}
		om_sleep_ms(100);
	}
	om_proc_stop(&id, 2000);
	om_proc_release(&id);
	if (err == -ETIMEDOUT)
		snprintf(why, cap, "a probe boot under KVM did not reach userland in %u s",
			 timeout_ms / 1000);
	else if (err)
		snprintf(why, cap, "QEMU exited during a probe boot under KVM (see %.120s)", log);
	unlink(console);
	unlink(log);
	return err;
}

int om_accel_choose(enum om_accel requested, const struct om_artifacts *art,
		    const char *cache_dir, const char *work_dir, struct om_accel_choice *out)
{
	return om_accel_choose_with(requested, art, cache_dir, work_dir, "/dev/kvm",
				    OM_PROBE_TIMEOUT_MS, out);
}

int om_accel_choose_with(enum om_accel requested, const struct om_artifacts *art,
			 const char *cache_dir, const char *work_dir, const char *kvm_dev,
			 unsigned int probe_timeout_ms, struct om_accel_choice *out)
{
	char cache[PATH_MAX];
	int fd;

	memset(out, 0, sizeof(*out));
	if (requested == OM_ACCEL_TCG) {
		out->accel = OM_ACCEL_TCG;
		snprintf(out->reason, sizeof(out->reason), "requested");
		return 0;
	}
	fd = open(kvm_dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		out->accel = OM_ACCEL_TCG;
		snprintf(out->reason, sizeof(out->reason), "%.200s: %s", kvm_dev, strerror(errno));
		return requested == OM_ACCEL_KVM ? -ENODEV : 0;
	}
	close(fd);
	snprintf(cache, sizeof(cache), "%s/accel-probe-%016llx", cache_dir, probe_key(art));
	if (cache_read(cache, out) != 0) {
		char why[200];

		if (probe_boot(art, work_dir, probe_timeout_ms, why, sizeof(why)) == 0) {
			out->accel = OM_ACCEL_KVM;
			snprintf(out->reason, sizeof(out->reason), "a probe boot under KVM worked");
		} else {
			out->accel = OM_ACCEL_TCG;
			snprintf(out->reason, sizeof(out->reason), "%s", why);
		}
		cache_write(cache_dir, cache, out);
	}
	if (requested == OM_ACCEL_KVM && out->accel != OM_ACCEL_KVM)
		return -ENODEV;
	return 0;
}
