// SPDX-License-Identifier: GPL-2.0-only
#include "filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

void om_filter_init(struct om_filter *f)
{
	memset(f, 0, sizeof(*f));
}

static int om_filter_number(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Calls add(f, item) for each comma-separated item of list. */
static int om_filter_each(struct om_filter *f, const char *list, const char *what,
			  int (*add)(struct om_filter *, const char *, char *, size_t), char *err,
			  size_t errlen)
{
	char copy[512], *save = NULL, *item;
	int rc;

	if (!*list || strlen(list) >= sizeof(copy)) {
		snprintf(err, errlen, "--%s: give a comma-separated list", what);
		return -EINVAL;
	}
	strcpy(copy, list);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		rc = add(f, item, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_node(struct om_filter *f, const char *item, char *err, size_t errlen)
{
	uint64_t v;

	if (om_filter_number(item, VIRTIO_OM_MAX_NODES, &v)) {
		snprintf(err, errlen, "--node '%s': give node ids 0..%u (0 is the host)", item,
			 VIRTIO_OM_MAX_NODES);
		return -EINVAL;
	}
	if (f->n_nodes == OM_FILTER_MAX) {
		snprintf(err, errlen, "--node: at most %u nodes", OM_FILTER_MAX);
		return -EINVAL;
	}
	f->nodes[f->n_nodes++] = (uint32_t)v;
	return 0;
}

static int add_pid(struct om_filter *f, const char *item, char *err, size_t errlen)
{
	uint64_t v;

	if (om_filter_number(item, UINT32_MAX, &v)) {
		snprintf(err, errlen, "--pid '%s': give process ids", item);
		return -EINVAL;
	}
	if (f->n_pids == OM_FILTER_MAX) {
		snprintf(err, errlen, "--pid: at most %u pids", OM_FILTER_MAX);
		return -EINVAL;
	}
	f->pids[f->n_pids++] = (uint32_t)v;
	return 0;
}

static int add_type(struct om_filter *f, const char *item, char *err, size_t errlen)
{
	const struct om_type_info *t = om_type_by_name(item);
	const struct om_type_range *r = om_type_range_by_name(item);
	uint64_t v;

	if (f->n_types == OM_FILTER_MAX) {
		snprintf(err, errlen, "--type: at most %u types", OM_FILTER_MAX);
		return -EINVAL;
	}
	if (t) {
		f->types[f->n_types].first = f->types[f->n_types].last = t->value;
	} else if (r) {
		f->types[f->n_types].first = r->first;
		f->types[f->n_types].last = r->last;
	} else if (!om_filter_number(item, UINT16_MAX, &v)) {
		f->types[f->n_types].first = f->types[f->n_types].last = (uint16_t)v;
	} else {
		size_t len = 0;

		len += (size_t)snprintf(err, errlen, "--type '%s': not a type; give", item);
		for (size_t i = 0; i < om_types_count && len < errlen; i++)
			len += (size_t)snprintf(err + len, errlen - len, " %s,", om_types[i].name);
		for (size_t i = 0; i < om_type_ranges_count && len < errlen; i++)
			len += (size_t)snprintf(err + len, errlen - len, " %s,", om_type_ranges[i].name);
		if (len < errlen)
			snprintf(err + len, errlen - len, " or a number");
		return -EINVAL;
	}
	f->n_types++;
	return 0;
}

static int add_syscall(struct om_filter *f, const char *item, char *err, size_t errlen)
{
	long nr = om_syscall_by_name(item);
	uint64_t v;

	if (nr < 0 && om_filter_number(item, UINT32_MAX, &v)) {
		snprintf(err, errlen, "--syscall '%s': not an x86_64 system call name or number",
			 item);
		return -EINVAL;
	}
	if (f->n_syscalls == OM_FILTER_MAX) {
		snprintf(err, errlen, "--syscall: at most %u calls", OM_FILTER_MAX);
		return -EINVAL;
	}
	f->syscalls[f->n_syscalls++] = nr >= 0 ? (uint64_t)nr : v;
	return 0;
}

int om_filter_add_nodes(struct om_filter *f, const char *list, char *err, size_t errlen)
{
	return om_filter_each(f, list, "node", add_node, err, errlen);
}

int om_filter_add_pids(struct om_filter *f, const char *list, char *err, size_t errlen)
{
	return om_filter_each(f, list, "pid", add_pid, err, errlen);
}

int om_filter_add_types(struct om_filter *f, const char *list, char *err, size_t errlen)
{
	return om_filter_each(f, list, "type", add_type, err, errlen);
}

int om_filter_add_syscalls(struct om_filter *f, const char *list, char *err, size_t errlen)
{
	return om_filter_each(f, list, "syscall", add_syscall, err, errlen);
}

static bool in_u32(const uint32_t *set, unsigned int n, uint32_t v)
{
	for (unsigned int i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

static size_t reply_slot(uint32_t src, uint32_t dst, uint64_t seq)
{
	uint64_t h = seq * 0x9e3779b97f4a7c15ull ^ ((uint64_t)src << 32 | dst) * 0xff51afd7ed558ccdull;

	return (size_t)(h >> 40) % OM_FILTER_REPLY_SLOTS;
}

/* A message with a SYSCALL field of a listed number, or a reply to one. */
static bool om_filter_syscall(struct om_filter *f, const struct om_trace_rec *r)
{
	const struct om_msg_hdr *h = &r->h;

	if (h->flags & VIRTIO_OM_F_REPLY) {
		size_t s = reply_slot(h->dst_node, h->src_node, h->reply_to);

		if (f->replies[s].used && f->replies[s].src == h->dst_node &&
		    f->replies[s].dst == h->src_node && f->replies[s].seq == h->reply_to) {
			f->replies[s].used = false;
			return true;
		}
		return false;
	}
	for (size_t i = 0; i < om_fields_count; i++) {
		const struct om_field_info *fi = &om_fields[i];
		uint64_t nr;

		if (fi->type != h->type || fi->kind != VIRTIO_OM_FIELD_SYSCALL ||
		    fi->offset + fi->size > r->caplen)
			continue;
		nr = om_field_raw(fi, r->payload);
		for (unsigned int k = 0; k < f->n_syscalls; k++) {
			if (f->syscalls[k] == nr) {
				size_t s = reply_slot(h->src_node, h->dst_node, h->seq);

				f->replies[s].src = h->src_node;
				f->replies[s].dst = h->dst_node;
				f->replies[s].seq = h->seq;
				f->replies[s].used = true;
				return true;
			}
		}
	}
	return false;
}

bool om_filter_match(struct om_filter *f, const struct om_trace_rec *r)
{
	const struct om_msg_hdr *h = &r->h;
	bool type_ok = !f->n_types;

	if (r->kind == OM_TRACE_REC_MISSED)
		return true;
	/*
	 * A link's DATA frame is its message to the filters (record.c decodes
	 * its header into r->h); other frames and events pass when nothing is
	 * asked of messages. A system call is not looked for inside frames.
	 */
	if (r->kind == OM_TRACE_REC_LINK &&
	    (r->link.type != OM_LINK_T_DATA || r->caplen < VIRTIO_OM_HDR_SIZE || f->n_syscalls))
		return !f->n_nodes && !f->n_pids && !f->n_types && !f->n_syscalls;
	if (f->n_nodes && !in_u32(f->nodes, f->n_nodes, h->src_node) &&
	    !in_u32(f->nodes, f->n_nodes, h->dst_node))
		return false;
	if (f->n_pids && !in_u32(f->pids, f->n_pids, h->src_pid) &&
	    !in_u32(f->pids, f->n_pids, h->dst_pid))
		return false;
	for (unsigned int i = 0; i < f->n_types && !type_ok; i++)
		type_ok = h->type >= f->types[i].first && h->type <= f->types[i].last;
	if (!type_ok)
		return false;
	return !f->n_syscalls || om_filter_syscall(f, r);
}
