// SPDX-License-Identifier: GPL-2.0-only
#include "hosts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "proc.h"
#include "state.h"

/* Where `ip netns` keeps its namespaces (bind mounts). */
#define NETNS_DIR "/run/netns"
/* The key the relays share: 32 bytes, as hex. */
#define PSK_BYTES 32

void om_host_range(unsigned int nodes, unsigned int hosts, unsigned int h, unsigned int *first,
		   unsigned int *last)
{
	unsigned int base = nodes / hosts, extra = nodes % hosts;

	*first = (h - 1) * base + (h - 1 < extra ? h - 1 : extra) + 1;
	*last = *first + base + (h <= extra ? 1 : 0) - 1;
}

unsigned int om_node_host(unsigned int nodes, unsigned int hosts, unsigned int node)
{
	for (unsigned int h = 1; h <= hosts; h++) {
		unsigned int first, last;

		om_host_range(nodes, hosts, h, &first, &last);
		if (node >= first && node <= last)
			return h;
	}
	return 0;
}

/* "omc-NAME-HASH-": what every namespace of the cluster's name starts with. */
static int netns_prefix(const char *cluster, const char *dir, char *out, size_t cap)
{
	int n = snprintf(out, cap, "omc-%s-%08x-", cluster, om_dir_hash(dir));

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int om_hosts_netns(const char *cluster, const char *dir, unsigned int h, char *out, size_t cap)
{
	char prefix[128];
	int n;

	if (netns_prefix(cluster, dir, prefix, sizeof(prefix)))
		return -ENAMETOOLONG;
	n = h ? snprintf(out, cap, "%sh%u", prefix, h) : snprintf(out, cap, "%ssw", prefix);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int fits(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int om_hosts_relay_link(const char *cluster, const char *dir, unsigned int nodes,
			unsigned int hosts, unsigned int h, struct om_relay_link *link)
{
	char ns[128];
	int err;

	memset(link, 0, sizeof(*link));
	err = om_hosts_netns(cluster, dir, h, ns, sizeof(ns));
	if (!err)
		err = fits(snprintf(link->netns, sizeof(link->netns), NETNS_DIR "/%s", ns),
			   sizeof(link->netns));
	if (!err)
		err = fits(snprintf(link->psk_file, sizeof(link->psk_file), "%s/" OM_HOSTS_PSK_FILE,
				    dir),
			   sizeof(link->psk_file));
	if (err)
		return err;
	snprintf(link->name, sizeof(link->name), "h%u", h);
	snprintf(link->listen, sizeof(link->listen), OM_HOSTS_NET "%u:%u", h, OM_HOSTS_PORT);
	for (unsigned int k = 1; k <= hosts; k++) {
		unsigned int first, last;

		if (k == h)
			continue;
		om_host_range(nodes, hosts, k, &first, &last);
		snprintf(link->peers[link->n_peers++], sizeof(link->peers[0]),
			 "h%u=" OM_HOSTS_NET "%u:%u:%u-%u", k, k, OM_HOSTS_PORT, first, last);
	}
	return 0;
}

/* The first `ip` of the usual places: commands run with execv, not a PATH search. */
static const char *ip_program(void)
{
	static const char *const paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/*
 * Runs `ip` with the words of fmt (split at blanks; none of ours holds
 * one). 0, or -errno / -EIO with what ip said in err.
 */
static int ip(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ip(char *err, size_t errlen, const char *fmt, ...)
{
	char line[512], out[512], *argv[24], *save = NULL;
	const char *prog = ip_program();
	unsigned int argc = 0;
	va_list ap;
	int r;

	if (!prog) {
		snprintf(err, errlen, "no ip program (iproute2) in /usr/sbin, /sbin, /usr/bin or /bin");
		return -ENOENT;
	}
	va_start(ap, fmt);
	r = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (fits(r, sizeof(line)))
		return -ENAMETOOLONG;
	argv[argc++] = (char *)prog;
	for (char *w = strtok_r(line, " ", &save); w && argc < 23; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	r = om_proc_capture(argv, out, sizeof(out), 10000);
	if (r == 0)
		return 0;
	out[strcspn(out, "\n")] = '\0';
	/* The words were cut apart: fmt again, for the message. */
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "ip %s: %s", line, r < 0 ? strerror(-r) : out[0] ? out : "failed");
	return r < 0 ? r : (r == 2 && strstr(out, "exists") ? -EEXIST : -EIO);
}

/* The key file: one line per host, all with the same key (each pair uses its peer's line). */
static int write_psk(const char *dir, unsigned int hosts, char *err, size_t errlen)
{
	unsigned char key[PSK_BYTES];
	char path[PATH_MAX], hex[2 * PSK_BYTES + 1];
	int fd, r = 0;
	FILE *f;

	if (fits(snprintf(path, sizeof(path), "%s/" OM_HOSTS_PSK_FILE, dir), sizeof(path)))
		return -ENAMETOOLONG;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		r = -errno;
		snprintf(err, errlen, "no random bytes for the relays' key: %s", strerror(errno));
		return r;
	}
	for (size_t i = 0; i < sizeof(key); i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	fprintf(f, "# the relays of omcluster's hosts: one key, a line per host\n");
	for (unsigned int h = 1; h <= hosts; h++)
		fprintf(f, "h%u %s\n", h, hex);
	if (ferror(f))
		r = -EIO;
	if (fclose(f) && !r)
		r = -errno;
	explicit_bzero(key, sizeof(key));
	explicit_bzero(hex, sizeof(hex));
	if (r)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
	return r;
}

/* Host h's namespace, its veth to the switch's bridge, its address. */
static int make_host(const char *sw, const char *ns, unsigned int h, char *err, size_t errlen)
{
	int r = ip(err, errlen, "netns add %s", ns);

	/* Named after the host on the switch's side; om0 on the host's. */
	if (!r)
		r = ip(err, errlen, "-n %s link add name h%u type veth peer name om0 netns %s", sw,
		       h, ns);
	if (!r)
		r = ip(err, errlen, "-n %s link set h%u master br0 up", sw, h);
	if (!r)
		r = ip(err, errlen, "-n %s addr add " OM_HOSTS_NET "%u/24 dev om0", ns, h);
	if (!r)
		r = ip(err, errlen, "-n %s link set om0 up", ns);
	if (!r)
		r = ip(err, errlen, "-n %s link set lo up", ns);
	return r;
}

int om_hosts_create(const char *cluster, const char *dir, unsigned int hosts, char *err,
		    size_t errlen)
{
	char sw[128], ns[128];
	int r = om_hosts_netns(cluster, dir, 0, sw, sizeof(sw));

	if (r) {
		snprintf(err, errlen, "the namespaces' names are too long");
		return r;
	}
	r = ip(err, errlen, "netns add %s", sw);
	if (!r)
		r = ip(err, errlen, "-n %s link add name br0 type bridge", sw);
	if (!r)
		r = ip(err, errlen, "-n %s link set br0 up", sw);
	for (unsigned int h = 1; h <= hosts && !r; h++) {
		r = om_hosts_netns(cluster, dir, h, ns, sizeof(ns));
		if (!r)
			r = make_host(sw, ns, h, err, errlen);
	}
	if (!r)
		r = write_psk(dir, hosts, err, errlen);
	if (r)
		om_hosts_remove(cluster, dir);
	return r;
}

unsigned int om_hosts_remove(const char *cluster, const char *dir)
{
	char prefix[128], msg[256], names[32][256];
	unsigned int left = 0, n = 0;
	struct dirent *e;
	DIR *d;

	if (netns_prefix(cluster, dir, prefix, sizeof(prefix)))
		return 0;
	d = opendir(NETNS_DIR);
	if (!d)
		return 0;
	/* Named first, deleted after: not while the directory is being read. */
	while ((e = readdir(d)) && n < sizeof(names) / sizeof(names[0]))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	closedir(d);
	/*
	 * Deleting a namespace deletes its end of each veth, and so the pair.
	 * One another command deleted meanwhile is not left.
	 */
	for (unsigned int i = 0; i < n; i++) {
		char path[sizeof(NETNS_DIR) + sizeof(names[0])];

		snprintf(path, sizeof(path), NETNS_DIR "/%.255s", names[i]);
		if (ip(msg, sizeof(msg), "netns del %s", names[i]) && access(path, F_OK) == 0)
			left++;
	}
	return left;
}
