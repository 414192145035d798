// SPDX-License-Identifier: GPL-2.0-only
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

void om_latency_init(struct om_latency *l)
{
	memset(l, 0, sizeof(*l));
}

static size_t om_latency_slot(uint32_t src, uint32_t dst, uint64_t seq)
{
	uint64_t h = seq * 0x9e3779b97f4a7c15ull ^ ((uint64_t)src << 32 | dst) * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h >> 32) % OM_LATENCY_SLOTS;
}

bool om_latency_note(struct om_latency *l, const struct om_trace_rec *r, uint64_t *ns,
		     uint16_t *req_type)
{
	const struct om_msg_hdr *h = &r->h;
	size_t s;

	if (r->kind != OM_TRACE_REC_MSG || r->event != OM_TRACE_RELAYED)
		return false;
	if (!(h->flags & VIRTIO_OM_F_REPLY)) {
		s = om_latency_slot(h->src_node, h->dst_node, h->seq);
		l->slot[s].src = h->src_node;
		l->slot[s].dst = h->dst_node;
		l->slot[s].seq = h->seq;
		l->slot[s].time_ns = r->time_ns;
		l->slot[s].type = h->type;
		l->slot[s].used = true;
		return false;
	}
	s = om_latency_slot(h->dst_node, h->src_node, h->reply_to);
	if (!l->slot[s].used || l->slot[s].src != h->dst_node || l->slot[s].dst != h->src_node ||
	    l->slot[s].seq != h->reply_to)
		return false;
	l->slot[s].used = false;
	*ns = r->time_ns >= l->slot[s].time_ns ? r->time_ns - l->slot[s].time_ns : 0;
	*req_type = l->slot[s].type;
	return true;
}

static unsigned int om_hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < 64)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v); /* >= 6 */
	shift = msb - 5;			       /* v >> shift is 32..63 */
	return 64 + (msb - 6) * OM_HIST_SUB + (unsigned int)((v >> shift) - OM_HIST_SUB);
}

/* The largest value a bucket holds. */
static uint64_t om_hist_upper(unsigned int i)
{
	unsigned int msb, shift;
	uint64_t top;

	if (i < 64)
		return i;
	msb = (i - 64) / OM_HIST_SUB + 6;
	shift = msb - 5;
	top = (i - 64) % OM_HIST_SUB + OM_HIST_SUB;
	return ((top + 1) << shift) - 1;
}

void om_hist_add(struct om_hist *h, uint64_t v)
{
	if (!h->n || v < h->min)
		h->min = v;
	if (!h->n || v > h->max)
		h->max = v;
	h->n++;
	h->bucket[om_hist_index(v)]++;
}

uint64_t om_hist_percentile(const struct om_hist *h, double p)
{
	uint64_t want, seen = 0;

	if (!h->n)
		return 0;
	want = (uint64_t)(p / 100.0 * (double)h->n + 0.999999);
	if (want < 1)
		want = 1;
	for (unsigned int i = 0; i < OM_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			uint64_t v = om_hist_upper(i);

			return v > h->max ? h->max : v < h->min ? h->min : v;
		}
	}
	return h->max;
}

void om_summary_init(struct om_summary *s)
{
	memset(s, 0, sizeof(*s));
}

static struct om_summary_type *om_summary_type(struct om_summary *s, uint16_t type)
{
	struct om_summary_type *t;
	size_t i;

	for (i = 0; i < s->n_types && s->types[i].type < type; i++)
		;
	if (i < s->n_types && s->types[i].type == type)
		return &s->types[i];
	t = realloc(s->types, (s->n_types + 1) * sizeof(*t));
	if (!t)
		return NULL;
	s->types = t;
	memmove(&t[i + 1], &t[i], (s->n_types - i) * sizeof(*t));
	s->n_types++;
	memset(&t[i], 0, sizeof(t[i]));
	t[i].type = type;
	return &t[i];
}

static int om_pair_cmp(const struct om_summary_pair *p, uint32_t src, uint32_t dst, uint16_t type)
{
	if (p->src != src)
		return p->src < src ? -1 : 1;
	if (p->dst != dst)
		return p->dst < dst ? -1 : 1;
	return p->type < type ? -1 : p->type > type;
}

static struct om_summary_pair *om_summary_pair(struct om_summary *s, uint32_t src, uint32_t dst,
					       uint16_t type)
{
	struct om_summary_pair *p;
	size_t i;

	for (i = 0; i < s->n_pairs && om_pair_cmp(&s->pairs[i], src, dst, type) < 0; i++)
		;
	if (i < s->n_pairs && !om_pair_cmp(&s->pairs[i], src, dst, type))
		return &s->pairs[i];
	p = realloc(s->pairs, (s->n_pairs + 1) * sizeof(*p));
	if (!p)
		return NULL;
	s->pairs = p;
	memmove(&p[i + 1], &p[i], (s->n_pairs - i) * sizeof(*p));
	s->n_pairs++;
	p[i] = (struct om_summary_pair){ .src = src, .dst = dst, .type = type };
	return &p[i];
}

int om_summary_add(struct om_summary *s, const struct om_trace_rec *r, bool have_latency,
		   uint64_t latency, uint16_t req_type)
{
	struct om_summary_type *t;
	struct om_summary_pair *p;

	if (r->kind == OM_TRACE_REC_MISSED) {
		s->missed += r->missed;
		return 0;
	}
	/* A link's frames carry messages its relay or the peer's trace as delivered. */
	if (r->kind == OM_TRACE_REC_LINK)
		return 0;
	t = om_summary_type(s, r->h.type);
	p = om_summary_pair(s, r->h.src_node, r->h.dst_node, r->h.type);
	if (!t || !p)
		return -ENOMEM;
	if (!s->msgs)
		s->first_ns = r->time_ns;
	s->last_ns = r->time_ns;
	s->msgs++;
	s->bytes += r->h.len;
	t->msgs++;
	t->bytes += r->h.len;
	if (r->event == OM_TRACE_UNDELIVERABLE)
		t->undeliverable++;
	p->msgs++;
	p->bytes += r->h.len;
	if (have_latency) {
		t = om_summary_type(s, req_type);
		if (!t)
			return -ENOMEM;
		om_hist_add(&t->latency, latency);
	}
	return 0;
}

/* A duration in ns, in a unit that keeps it short. */
static const char *om_dur(uint64_t ns, char *buf, size_t cap)
{
	if (ns < 10000)
		snprintf(buf, cap, "%" PRIu64 "ns", ns);
	else if (ns < 10000000)
		snprintf(buf, cap, "%.1fus", (double)ns / 1e3);
	else
		snprintf(buf, cap, "%.1fms", (double)ns / 1e6);
	return buf;
}

void om_summary_print(const struct om_summary *s, FILE *out)
{
	char name[32], a[24], b[24], c[24], d[24];

	fprintf(out, "omtrace summary: %" PRIu64 " messages, %" PRIu64 " payload bytes, %.3f s, "
		"%" PRIu64 " missed\n", s->msgs, s->bytes,
		s->msgs ? (double)(s->last_ns - s->first_ns) / 1e9 : 0.0, s->missed);
	fprintf(out, "%-20s %10s %14s %8s %8s %10s %10s %10s %10s\n", "type", "messages", "bytes",
		"undeliv", "replies", "rtt p50", "rtt p90", "rtt p99", "rtt max");
	for (size_t i = 0; i < s->n_types; i++) {
		const struct om_summary_type *t = &s->types[i];

		fprintf(out, "%-20s %10" PRIu64 " %14" PRIu64 " %8" PRIu64 " %8" PRIu64,
			om_type_label(t->type, name, sizeof(name)), t->msgs, t->bytes,
			t->undeliverable, t->latency.n);
		if (t->latency.n)
			fprintf(out, " %10s %10s %10s %10s\n",
				om_dur(om_hist_percentile(&t->latency, 50), a, sizeof(a)),
				om_dur(om_hist_percentile(&t->latency, 90), b, sizeof(b)),
				om_dur(om_hist_percentile(&t->latency, 99), c, sizeof(c)),
				om_dur(t->latency.max, d, sizeof(d)));
		else
			fprintf(out, " %10s %10s %10s %10s\n", "-", "-", "-", "-");
	}
	fprintf(out, "%-12s %-20s %10s %14s\n", "pair", "type", "messages", "bytes");
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct om_summary_pair *p = &s->pairs[i];
		char pair[24];

		snprintf(pair, sizeof(pair), "%u->%u", p->src, p->dst);
		fprintf(out, "%-12s %-20s %10" PRIu64 " %14" PRIu64 "\n", pair,
			om_type_label(p->type, name, sizeof(name)), p->msgs, p->bytes);
	}
}

void om_summary_free(struct om_summary *s)
{
	free(s->types);
	free(s->pairs);
	om_summary_init(s);
}
