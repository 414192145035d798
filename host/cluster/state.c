// SPDX-License-Identifier: GPL-2.0-only
#include "state.h"
#include "guest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_FILE "cluster.state"
#define STATE_MAGIC "omcluster-state 1"

int om_state_dir(const char *run_dir, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", run_dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static const char *accel_name(enum om_accel a)
{
	return a == OM_ACCEL_KVM ? "kvm" : "tcg";
}

/*
 * Every text value of the state: none may hold a newline, and a node's CPU
 * model must be one parse takes back.
 */
static bool one_line(const struct om_cluster_state *st)
{
	const char *values[] = { st->name, st->dir, st->accel_reason, st->kernel, st->initrd,
				 st->qemu, st->omhostd, st->append, st->cgroup };

	/* A URI or domain name with a blank would not be read back as one value. */
	if (strpbrk(st->libvirt_uri, " \n"))
		return false;
	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].domain[0] && !om_state_domain_name_valid(st->nodes[i].domain))
			return false;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (strchr(values[i], '\n'))
			return false;
	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (strchr(st->nodes[i].dir, '\n') ||
		    (st->nodes[i].cpu_model[0] && !om_cpu_model_valid(st->nodes[i].cpu_model)))
			return false;
	return true;
}

int om_state_write(FILE *f, const struct om_cluster_state *st)
{
	const struct {
		const char *key, *value;
	} files[] = {
		{ "kernel", st->kernel },
		{ "initrd", st->initrd },
		{ "qemu", st->qemu },
		{ "omhostd", st->omhostd },
		{ "cgroup", st->cgroup },
	};

	if (!one_line(st))
		return -EINVAL;
	fprintf(f, "%s\n", STATE_MAGIC);
	fprintf(f, "name %s\n", st->name);
	fprintf(f, "dir %s\n", st->dir);
	fprintf(f, "accel %s\n", accel_name(st->accel));
	fprintf(f, "accel-reason %s\n", st->accel_reason);
	fprintf(f, "created %lld\n", st->created);
	fprintf(f, "mem-mib %u\n", st->mem_mib);
	fprintf(f, "cpus %u\n", st->cpus);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].value[0])
			fprintf(f, "%s %s\n", files[i].key, files[i].value);
	}
	if (st->append[0])
		fprintf(f, "append %s\n", st->append);
	if (st->net)
		fprintf(f, "net mesh\n");
	if (st->libvirt_uri[0])
		fprintf(f, "libvirt %s\n", st->libvirt_uri);
	if (st->qemu_user_set)
		fprintf(f, "qemu-user %u %u\n", (unsigned int)st->qemu_user.uid,
			(unsigned int)st->qemu_user.gid);
	if (st->relay.pid > 0)
		fprintf(f, "relay %d %llu\n", (int)st->relay.pid, st->relay.start);
	if (st->hosts)
		fprintf(f, "hosts %u\n", st->hosts);
	for (unsigned int h = 1; h <= st->hosts; h++)
		if (st->host_relay[h - 1].pid > 0)
			fprintf(f, "host-relay %u %d %llu\n", h, (int)st->host_relay[h - 1].pid,
				st->host_relay[h - 1].start);
	for (unsigned int i = 0; i < st->n_nodes; i++) {
		const struct om_node_state *n = &st->nodes[i];

		fprintf(f, "node %u %d %llu %s\n", n->node, (int)n->qemu.pid, n->qemu.start,
			n->dir);
	}
	for (unsigned int i = 0; i < st->n_nodes; i++) {
		const struct om_node_state *n = &st->nodes[i];

		if (n->cpu_model[0])
			fprintf(f, "node-cpu %u %s\n", n->node, n->cpu_model);
		if (n->domain[0])
			fprintf(f, "node-domain %u %s\n", n->node, n->domain);
	}
	return ferror(f) ? -EIO : 0;
}

int om_state_save(const struct om_cluster_state *st)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", st->dir, STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", st->dir, STATE_FILE);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	err = om_state_write(f, st);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int bad(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "line %u: %s", line, what);
	return -EBADMSG;
}

/*
 * A run of decimal digits worth at most max, ending at a space or the
 * end; *p moves past it (and the space). Nothing else: no sign, no blanks.
 */
static int take_number(const char **p, unsigned long long max, unsigned long long *out)
{
	const char *s = *p;
	unsigned long long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (unsigned long long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (*s == ' ')
		s++;
	else if (*s)
		return -1;
	*p = s;
	*out = v;
	return 0;
}

/* "PID START": the relay's process. */
static int parse_proc_id(const char *value, struct om_proc_id *id)
{
	unsigned long long pid, start;
	const char *p = value;

	if (take_number(&p, INT_MAX, &pid) || pid == 0 || p[-1] != ' ' ||
	    take_number(&p, ULLONG_MAX, &start) || *p || p[-1] == ' ')
		return -1;
	id->pid = (pid_t)pid;
	id->start = start;
	return 0;
}

/* Where the value of a path key (kernel, initrd, qemu, omhostd, cgroup) goes, or NULL. */
static char *file_value(struct om_cluster_state *st, const char *key)
{
	if (strcmp(key, "kernel") == 0)
		return st->kernel;
	if (strcmp(key, "initrd") == 0)
		return st->initrd;
	if (strcmp(key, "qemu") == 0)
		return st->qemu;
	if (strcmp(key, "omhostd") == 0)
		return st->omhostd;
	if (strcmp(key, "cgroup") == 0)
		return st->cgroup;
	return NULL;
}

static int copy_value(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

/*
 * A line that adds to a node, "N VALUE" (node-cpu, node-domain), after
 * node N's own line: the node into *n, VALUE into *v. 0 or -EBADMSG.
 */
static int node_line(struct om_cluster_state *st, const char *key, const char *what,
		     const char *value, struct om_node_state **n, const char **v, char *err,
		     size_t errlen, unsigned int lineno)
{
	unsigned long long id;

	*v = value;
	if (take_number(v, OM_MAX_NODES, &id) || *v == value || (*v)[-1] != ' ')
		return bad(err, errlen, lineno, "%s entry '%s' (want: NODE %s)", key, value, what);
	*n = (struct om_node_state *)om_state_node(st, (unsigned int)id);
	if (!*n)
		return bad(err, errlen, lineno, "%s for node %llu, not listed before", key, id);
	return 0;
}

int om_state_parse(FILE *f, struct om_cluster_state *st, char *err, size_t errlen)
{
	char line[PATH_MAX + 128];
	unsigned int lineno = 0;
	bool seen_accel = false;
	/* Keys added with start and relay are refused when repeated. */
	const char *once[] = { "kernel", "initrd",  "qemu",      "omhostd", "append", "relay",
			       "net",    "libvirt", "qemu-user", "cgroup", "hosts" };
	bool seen[sizeof(once) / sizeof(once[0])] = { false };

	memset(st, 0, sizeof(*st));
	if (!fgets(line, sizeof(line), f) || strcmp(line, STATE_MAGIC "\n") != 0)
		return bad(err, errlen, 1, "not an omcluster state file");
	lineno = 1;
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n'), *sp, *value, *dst;

		lineno++;
		if (!nl)
			return bad(err, errlen, lineno, "line too long or unterminated");
		*nl = '\0';
		sp = strchr(line, ' ');
		if (!sp)
			return bad(err, errlen, lineno, "no value");
		*sp = '\0';
		value = sp + 1;
		for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++) {
			if (strcmp(line, once[i]) != 0)
				continue;
			if (seen[i])
				return bad(err, errlen, lineno, "%s listed twice", line);
			seen[i] = true;
		}
		if (strcmp(line, "name") == 0) {
			if (copy_value(st->name, sizeof(st->name), value))
				return bad(err, errlen, lineno, "name too long");
		} else if (strcmp(line, "dir") == 0) {
			if (copy_value(st->dir, sizeof(st->dir), value))
				return bad(err, errlen, lineno, "dir too long");
		} else if (strcmp(line, "accel") == 0) {
			if (strcmp(value, "kvm") == 0)
				st->accel = OM_ACCEL_KVM;
			else if (strcmp(value, "tcg") == 0)
				st->accel = OM_ACCEL_TCG;
			else
				return bad(err, errlen, lineno, "accel '%s'", value);
			seen_accel = true;
		} else if (strcmp(line, "accel-reason") == 0) {
			if (copy_value(st->accel_reason, sizeof(st->accel_reason), value))
				return bad(err, errlen, lineno, "accel-reason too long");
		} else if (strcmp(line, "created") == 0) {
			char *end;

			st->created = strtoll(value, &end, 10);
			if (*end || end == value)
				return bad(err, errlen, lineno, "created '%s'", value);
		} else if (strcmp(line, "mem-mib") == 0) {
			if (om_parse_uint(value, 1, 1u << 20, 10, &st->mem_mib))
				return bad(err, errlen, lineno, "mem-mib '%s'", value);
		} else if (strcmp(line, "cpus") == 0) {
			if (om_parse_uint(value, 1, 1024, 10, &st->cpus))
				return bad(err, errlen, lineno, "cpus '%s'", value);
		} else if ((dst = file_value(st, line))) {
			if (value[0] != '/')
				return bad(err, errlen, lineno, "%s must be an absolute path, not '%s'",
					   line, value);
			if (copy_value(dst, PATH_MAX, value))
				return bad(err, errlen, lineno, "%s too long", line);
		} else if (strcmp(line, "append") == 0) {
			if (!value[0] || copy_value(st->append, sizeof(st->append), value))
				return bad(err, errlen, lineno, "append empty or too long");
		} else if (strcmp(line, "net") == 0) {
			/* The one topology there is; the value leaves room for others. */
			if (strcmp(value, "mesh") != 0)
				return bad(err, errlen, lineno, "net '%s' (want: mesh)", value);
			st->net = true;
		} else if (strcmp(line, "libvirt") == 0) {
			if (!value[0] || strchr(value, ' ') ||
			    copy_value(st->libvirt_uri, sizeof(st->libvirt_uri), value))
				return bad(err, errlen, lineno, "libvirt URI '%s'", value);
		} else if (strcmp(line, "qemu-user") == 0) {
			const char *p = value;
			unsigned long long uid, gid;

			if (take_number(&p, UINT_MAX - 1, &uid) || p[-1] != ' ' ||
			    take_number(&p, UINT_MAX - 1, &gid) || *p || p[-1] == ' ')
				return bad(err, errlen, lineno, "qemu-user '%s' (want: UID GID)",
					   value);
			st->qemu_user.uid = (uid_t)uid;
			st->qemu_user.gid = (gid_t)gid;
			st->qemu_user_set = true;
		} else if (strcmp(line, "relay") == 0) {
			if (parse_proc_id(value, &st->relay))
				return bad(err, errlen, lineno, "relay entry '%s' (want: PID START)",
					   value);
		} else if (strcmp(line, "hosts") == 0) {
			if (om_parse_uint(value, 2, OM_MAX_HOSTS, 10, &st->hosts))
				return bad(err, errlen, lineno, "hosts '%s' (want: 2-%d)", value,
					   OM_MAX_HOSTS);
		} else if (strcmp(line, "host-relay") == 0) {
			const char *p = value;
			unsigned long long h;
			struct om_proc_id *id;

			/* After hosts: a relay of a host the cluster has. */
			if (take_number(&p, OM_MAX_HOSTS, &h) || p == value || p[-1] != ' ' || !h ||
			    h > st->hosts)
				return bad(err, errlen, lineno, "host-relay entry '%s' (want: HOST PID START, HOST of 1-%u)",
					   value, st->hosts);
			id = &st->host_relay[h - 1];
			if (id->pid > 0)
				return bad(err, errlen, lineno, "host-relay for host %llu listed twice", h);
			if (parse_proc_id(p, id))
				return bad(err, errlen, lineno, "host-relay entry '%s' (want: HOST PID START)",
					   value);
		} else if (strcmp(line, "node") == 0) {
			struct om_node_state *n;
			int pid, used = 0;
			unsigned int id;
			unsigned long long start;

			if (st->n_nodes == OM_MAX_NODES)
				return bad(err, errlen, lineno, "more than %d nodes", OM_MAX_NODES);
			if (sscanf(value, "%u %d %llu %n", &id, &pid, &start, &used) != 3 || !used ||
			    id < 1 || id > OM_MAX_NODES || pid < 0 || value[used] != '/')
				return bad(err, errlen, lineno, "node entry '%s'", value);
			if (om_state_node(st, id))
				return bad(err, errlen, lineno, "node %u listed twice", id);
			n = &st->nodes[st->n_nodes++];
			n->node = id;
			n->qemu.pid = pid;
			n->qemu.start = start;
			if (copy_value(n->dir, sizeof(n->dir), value + used))
				return bad(err, errlen, lineno, "node dir too long");
		} else if (strcmp(line, "node-cpu") == 0 || strcmp(line, "node-domain") == 0) {
			bool cpu = strcmp(line, "node-cpu") == 0;
			struct om_node_state *n;
			const char *v;
			int r = node_line(st, line, cpu ? "MODEL" : "NAME", value, &n, &v, err, errlen,
					  lineno);

			if (r)
				return r;
			if (cpu ? n->cpu_model[0] != '\0' : n->domain[0] != '\0')
				return bad(err, errlen, lineno, "%s for node %u listed twice", line,
					   n->node);
			if (cpu && !om_cpu_model_valid(v))
				return bad(err, errlen, lineno, "node-cpu model '%s'", v);
			if (!cpu && (!om_state_domain_name_valid(v) ||
				     copy_value(n->domain, sizeof(n->domain), v)))
				return bad(err, errlen, lineno, "node-domain name '%s'", v);
			if (cpu)
				snprintf(n->cpu_model, sizeof(n->cpu_model), "%s", v);
		} else {
			return bad(err, errlen, lineno, "unknown key '%s'", line);
		}
	}
	if (!st->name[0] || !st->dir[0] || !seen_accel)
		return bad(err, errlen, lineno, "incomplete: name, dir and accel are required");
	/* One relay per host, or the one relay: never both. */
	if (st->hosts && st->relay.pid > 0)
		return bad(err, errlen, lineno, "relay and hosts together: a cluster across hosts has a relay per host");
	/* A domain's node and a QEMU's are told apart by the cluster's kind. */
	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (st->libvirt_uri[0] && !st->nodes[i].domain[0])
			return bad(err, errlen, lineno, "node %u of a libvirt cluster has no node-domain",
				   st->nodes[i].node);
		else if (!st->libvirt_uri[0] && st->nodes[i].domain[0])
			return bad(err, errlen, lineno,
				   "node-domain for node %u of a cluster without libvirt",
				   st->nodes[i].node);
	return 0;
}

int om_state_load(const char *dir, struct om_cluster_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	r = om_state_parse(f, st, err, errlen);
	fclose(f);
	return r;
}

bool om_state_domain_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(((struct om_node_state *)0)->domain))
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

const struct om_node_state *om_state_node(const struct om_cluster_state *st, unsigned int node)
{
	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].node == node)
			return &st->nodes[i];
	return NULL;
}

unsigned int om_dir_hash(const char *dir)
{
	unsigned int hash = 2166136261u; /* FNV-1a, 32 bits */

	for (const char *c = dir; *c; c++)
		hash = (hash ^ (unsigned char)*c) * 16777619u;
	return hash;
}
