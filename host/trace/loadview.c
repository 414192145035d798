// SPDX-License-Identifier: GPL-2.0-only
#include "loadview.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS 1000000ull

_Static_assert(sizeof(struct virtio_om_load) == VIRTIO_OM_LOAD_SIZE, "LOAD header size");
_Static_assert(sizeof(struct virtio_om_load_entry) == VIRTIO_OM_LOAD_ENTRY_SIZE,
	       "LOAD entry size");

/* One entry as read from a payload, host order. */
struct om_loadview_entry {
	uint32_t node, age_ms, load, load_slow, speed, ncpus, flags, hosted, away, runnable;
	uint64_t free_kib, total_kib;
};

#define ENTRY_U32(p, member) om_trace_le32((p) + offsetof(struct virtio_om_load_entry, member))
#define ENTRY_U64(p, member) om_trace_le64((p) + offsetof(struct virtio_om_load_entry, member))

static void entry_read(const unsigned char *p, struct om_loadview_entry *e)
{
	e->node = ENTRY_U32(p, node);
	e->age_ms = ENTRY_U32(p, age_ms);
	e->load = ENTRY_U32(p, load);
	e->load_slow = ENTRY_U32(p, load_slow);
	e->speed = ENTRY_U32(p, speed);
	e->ncpus = ENTRY_U32(p, ncpus);
	e->free_kib = ENTRY_U64(p, free_kib);
	e->total_kib = ENTRY_U64(p, total_kib);
	e->flags = ENTRY_U32(p, flags);
	e->hosted = ENTRY_U32(p, hosted);
	e->away = ENTRY_U32(p, away);
	e->runnable = ENTRY_U32(p, runnable);
}

/*
 * The guests' own rule (guest-kernel/om/load.c, om_load_recv), so the host
 * shows what they accept: the sender speaks first, for itself, with age 0,
 * then only of others, within the header's bounds on CPUs and speed.
 */
static bool entry_valid(const struct om_loadview_entry *e, unsigned int i, uint32_t src)
{
	return e->node && e->node <= VIRTIO_OM_MAX_NODES && e->ncpus &&
	       e->ncpus <= VIRTIO_OM_LOAD_MAX_CPUS && e->speed && e->speed <= VIRTIO_OM_LOAD_MAX_SPEED &&
	       !(e->flags & ~VIRTIO_OM_LOAD_F_ALL) && e->free_kib <= e->total_kib &&
	       e->runnable <= VIRTIO_OM_LOAD_MAX_RUNNABLE && (e->node == src) == !i &&
	       (i || !e->age_ms);
}

static void count_sent(struct om_loadview_node *n, uint64_t time_ns)
{
	uint64_t sec = time_ns / NS_PER_SEC;
	unsigned int b = sec % (OM_LOADVIEW_RATE_SECS + 1);

	if (n->sec_id[b] != sec) {
		n->sec_id[b] = sec;
		n->sec_n[b] = 0;
	}
	n->sec_n[b]++;
}

/*
 * Keeps e, measured at at_ns, if fresher than what is known of its node.
 * A value passed on looks younger than it is: each hop's age leaves out
 * the transit and the time until the receiver took it in (a guest takes
 * its own clock less the age), 100 ms and more under TCG. A node's values
 * travel only in its own LOADs, one a second, which the relay saw: so
 * hearsay is news only when more than half a second younger than what is
 * known (the node's next LOAD, missed), and must be of after the node's
 * last NODE_UP (before, it speaks of its previous life). It never brings
 * back a node seen down: a node back up says so with a NODE_UP first.
 */
static void take(struct om_loadview_node *n, const struct om_loadview_entry *e, uint64_t at_ns,
		 uint32_t via)
{
	if (via ? n->down || at_ns <= n->floor_ns ||
			  (n->known && at_ns <= n->at_ns + OM_LOADVIEW_HEARSAY_SLACK_MS * NS_PER_MS)
		: at_ns < n->floor_ns || (n->known && at_ns < n->at_ns))
		return;
	n->known = true;
	n->down = n->joined = false;
	n->via = via;
	n->at_ns = at_ns;
	n->load = e->load;
	n->load_slow = e->load_slow;
	n->speed = e->speed;
	n->ncpus = e->ncpus;
	n->free_kib = e->free_kib;
	n->total_kib = e->total_kib;
	n->flags = e->flags;
	n->hosted = e->hosted;
	n->away = e->away;
	n->runnable = e->runnable;
}

static int add_load(struct om_loadview *v, const struct om_trace_rec *r)
{
	struct om_loadview_entry e[VIRTIO_OM_LOAD_MAX_ENTRIES];
	uint32_t src = r->h.src_node, count, i;

	v->loads++;
	if (src && src <= VIRTIO_OM_MAX_NODES)
		count_sent(&v->node[src], r->time_ns);
	if (r->caplen < r->h.len) {
		v->cut++;
		return -EMSGSIZE;
	}
	if (r->h.len < VIRTIO_OM_LOAD_SIZE)
		goto bad;
	count = om_trace_le32(r->payload + offsetof(struct virtio_om_load, count));
	if (!count || count > VIRTIO_OM_LOAD_MAX_ENTRIES ||
	    om_trace_le32(r->payload + offsetof(struct virtio_om_load, reserved)) ||
	    r->h.len != VIRTIO_OM_LOAD_SIZE + count * VIRTIO_OM_LOAD_ENTRY_SIZE)
		goto bad;
	/* All checked before any is kept: a message is taken or refused whole. */
	for (i = 0; i < count; i++) {
		entry_read(r->payload + VIRTIO_OM_LOAD_SIZE + i * VIRTIO_OM_LOAD_ENTRY_SIZE, &e[i]);
		if (!entry_valid(&e[i], i, src))
			goto bad;
	}
	for (i = 0; i < count; i++) {
		uint64_t age_ns = (uint64_t)e[i].age_ms * NS_PER_MS;
		uint64_t at = r->time_ns > age_ns ? r->time_ns - age_ns : 0;

		take(&v->node[e[i].node], &e[i], at, i ? src : 0);
	}
	return 0;
bad:
	v->malformed++;
	return -EPROTO;
}

static void node_event(struct om_loadview *v, const struct om_trace_rec *r)
{
	struct om_loadview_node *n;
	uint32_t node;

	if (r->caplen < VIRTIO_OM_NODE_EVENT_SIZE)
		return;
	node = om_trace_le32(r->payload + offsetof(struct virtio_om_node_event, node));
	if (!node || node > VIRTIO_OM_MAX_NODES)
		return;
	n = &v->node[node];
	/*
	 * A newcomer is told of every node up by a NODE_UP of each: about a
	 * node heard and not seen down, that is no news.
	 */
	if (r->h.type == VIRTIO_OM_T_NODE_UP && n->known && !n->down)
		return;
	/* Sent to every other node: the copies after the first change nothing. */
	if (r->time_ns > n->floor_ns)
		n->floor_ns = r->time_ns;
	if (r->h.type == VIRTIO_OM_T_NODE_DOWN) {
		n->down = true;
		n->joined = false;
	} else {
		/* A node that joins starts anew: what it said before is of before. */
		n->known = n->down = false;
		n->joined = true;
	}
}

void om_loadview_init(struct om_loadview *v, uint64_t start_ns)
{
	memset(v, 0, sizeof(*v));
	v->start_ns = start_ns;
}

int om_loadview_add(struct om_loadview *v, const struct om_trace_rec *r)
{
	if (r->kind == OM_TRACE_REC_MISSED) {
		v->missed += r->missed;
		return 0;
	}
	if (r->kind != OM_TRACE_REC_MSG)
		return 0;
	if (r->h.type == VIRTIO_OM_T_LOAD)
		return add_load(v, r);
	if (r->h.type == VIRTIO_OM_T_NODE_UP || r->h.type == VIRTIO_OM_T_NODE_DOWN)
		node_event(v, r);
	return 0;
}

/*
 * The whole seconds rates count over: [*from, now's second), at most
 * OM_LOADVIEW_RATE_SECS of them, none before the view's first whole
 * second. Returns how many (0: none yet).
 */
static uint64_t rate_window(const struct om_loadview *v, uint64_t now_ns, uint64_t *from)
{
	uint64_t now_sec = now_ns / NS_PER_SEC;
	uint64_t first = (v->start_ns + NS_PER_SEC - 1) / NS_PER_SEC;

	*from = now_sec > OM_LOADVIEW_RATE_SECS ? now_sec - OM_LOADVIEW_RATE_SECS : 0;
	if (*from < first)
		*from = first;
	return now_sec > *from ? now_sec - *from : 0;
}

static uint64_t sent_in(const struct om_loadview_node *n, uint64_t from, uint64_t to)
{
	uint64_t sum = 0;

	for (unsigned int b = 0; b <= OM_LOADVIEW_RATE_SECS; b++)
		if (n->sec_id[b] >= from && n->sec_id[b] < to)
			sum += n->sec_n[b];
	return sum;
}

/* count / secs with one decimal, rounded half up, or "-" without a second yet. */
static const char *rate_text(uint64_t count, uint64_t secs, char *buf, size_t cap)
{
	uint64_t tenths;

	if (!secs) {
		snprintf(buf, cap, "-");
		return buf;
	}
	tenths = (count * 20 / secs + 1) / 2;
	snprintf(buf, cap, "%" PRIu64 ".%" PRIu64, tenths / 10, tenths % 10);
	return buf;
}

/* Runnable processes x 1000 as processes with two decimals, rounded half up. */
static const char *procs_text(uint32_t milli, char *buf, size_t cap)
{
	uint32_t hundredths = (milli + 5) / 10;

	snprintf(buf, cap, "%" PRIu32 ".%02" PRIu32, hundredths / 100, hundredths % 100);
	return buf;
}

static const char *state_text(const struct om_loadview_node *n)
{
	static const char *const names[] = { "still", "balancing", "still,blocked",
					     "balancing,blocked" };

	if (n->down)
		return "down";
	if (n->joined)
		return "joined";
	return names[(n->flags & VIRTIO_OM_LOAD_F_BALANCING ? 1 : 0) +
		     (n->flags & VIRTIO_OM_LOAD_F_BLOCKED ? 2 : 0)];
}

void om_loadview_draw(const struct om_loadview *v, uint64_t now_ns, FILE *out)
{
	uint64_t from, secs = rate_window(v, now_ns, &from), to = now_ns / NS_PER_SEC;
	uint64_t all = 0;
	unsigned int nodes = 0, down = 0;
	char rate[32];

	for (uint32_t i = 1; i <= VIRTIO_OM_MAX_NODES; i++) {
		const struct om_loadview_node *n = &v->node[i];

		all += sent_in(n, from, to);
		if (n->known || n->down || n->joined) {
			nodes++;
			down += n->down;
		}
	}
	fprintf(out, "%u nodes, %u down; %s LOADs/s, %" PRIu64 " LOADs, %" PRIu64
		" malformed, %" PRIu64 " cut short, %" PRIu64 " messages missed\n",
		nodes, down, rate_text(all, secs, rate, sizeof(rate)), v->loads, v->malformed,
		v->cut, v->missed);
	fprintf(out, "%-5s %6s %6s %4s %4s %6s %15s %6s %5s %7s %6s %-8s %s\n", "NODE", "LOAD",
		"SLOW", "RUN", "CPUS", "SPEED", "FREE/TOTAL MiB", "HOSTED", "AWAY", "AGE", "LOAD/S",
		"FROM", "STATE");
	for (uint32_t i = 1; i <= VIRTIO_OM_MAX_NODES; i++) {
		const struct om_loadview_node *n = &v->node[i];
		char load[16], slow[16], mem[48], age[32], via[24];
		uint64_t tenths;

		if (!n->known && !n->down && !n->joined)
			continue;
		rate_text(sent_in(n, from, to), secs, rate, sizeof(rate));
		if (!n->known) {
			fprintf(out, "%-5" PRIu32 " %6s %6s %4s %4s %6s %15s %6s %5s %7s %6s %-8s %s\n",
				i, "-", "-", "-", "-", "-", "-", "-", "-", "-", rate, "-", state_text(n));
			continue;
		}
		snprintf(mem, sizeof(mem), "%" PRIu64 "/%" PRIu64, n->free_kib / 1024,
			 n->total_kib / 1024);
		tenths = now_ns > n->at_ns ? (now_ns - n->at_ns) / (NS_PER_SEC / 10) : 0;
		snprintf(age, sizeof(age), "%" PRIu64 ".%" PRIu64 "s", tenths / 10, tenths % 10);
		if (n->via)
			snprintf(via, sizeof(via), "via %" PRIu32, n->via);
		else
			snprintf(via, sizeof(via), "self");
		fprintf(out, "%-5" PRIu32 " %6s %6s %4" PRIu32 " %4" PRIu32 " %6" PRIu32 " %15s %6" PRIu32
			" %5" PRIu32 " %7s %6s %-8s %s\n",
			i, procs_text(n->load, load, sizeof(load)),
			procs_text(n->load_slow, slow, sizeof(slow)), n->runnable, n->ncpus, n->speed, mem,
			n->hosted, n->away, age, rate, via, state_text(n));
	}
}
