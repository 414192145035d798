// SPDX-License-Identifier: GPL-2.0-only
#include "loads.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The columns the engine writes, in its order (admin_load.c). */
static const char header[] =
	"node\tage_ms\tload\tload_slow\tspeed\tncpus\tfree_kib\ttotal_kib\tstate\thosted\taway\tpending\trunnable";

static int parse_state(const char *s, struct om_load_row *r)
{
	char buf[64], *save = NULL, *w;

	if (strlen(s) >= sizeof(buf))
		return -EPROTO;
	strcpy(buf, s);
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "self"))
			r->self = true;
		else if (!strcmp(w, "balancing"))
			r->balancing = true;
		else if (!strcmp(w, "blocked"))
			r->blocked = true;
		else if (strcmp(w, "still"))
			return -EPROTO;
	}
	return 0;
}

static int parse_row(const char *line, struct om_load_row *r)
{
	char state[64];
	uint32_t pending;
	int used = 0;

	memset(r, 0, sizeof(*r));
	if (sscanf(line,
		   "%" SCNu32 "\t%" SCNu64 "\t%" SCNu32 "\t%" SCNu32 "\t%" SCNu32 "\t%" SCNu32
		   "\t%" SCNu64 "\t%" SCNu64 "\t%63[^\t]\t%" SCNu32 "\t%" SCNu32 "\t%" SCNu32
		   "\t%" SCNu32 "%n",
		   &r->node, &r->age_ms, &r->load, &r->load_slow, &r->speed, &r->ncpus,
		   &r->free_kib, &r->total_kib, state, &r->hosted, &r->away, &pending, &r->runnable, &used) != 13 ||
	    line[used] != '\0' || !r->node)
		return -EPROTO;
	return parse_state(state, r);
}

int om_loads_parse(const char *text, struct om_loads *out)
{
	const char *line = text, *end;
	char buf[512];
	size_t len;
	bool first = true;

	out->n = 0;
	for (; *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		len = (size_t)(end - line);
		if (len >= sizeof(buf))
			return -EPROTO;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (first) {
			if (strcmp(buf, header))
				return -EPROTO;
			first = false;
			continue;
		}
		if (out->n == OM_LOADS_MAX)
			break;
		if (parse_row(buf, &out->row[out->n]))
			return -EPROTO;
		out->n++;
	}
	return first || !out->n ? -EPROTO : 0;
}

static int by_node(const void *a, const void *b)
{
	const struct om_load_row *x = a, *y = b;

	return (x->node > y->node) - (x->node < y->node);
}

void om_loads_sort(struct om_loads *l)
{
	qsort(l->row, l->n, sizeof(l->row[0]), by_node);
}

void om_loads_draw(FILE *f, const struct om_loads *l, unsigned int width)
{
	/* The bar: one column per tenth of a process, to the screen's edge. */
	unsigned int bar_max = width > 77 ? width - 77 : 8;
	unsigned int i, j, bar;

	fprintf(f, "%-6s %7s %7s %4s %5s %6s %17s %6s %5s %7s %s\n", "NODE", "LOAD", "SLOW", "RUN",
		"CPUS", "SPEED", "FREE/TOTAL MiB", "HOSTED", "AWAY", "AGE", "STATE");
	for (i = 0; i < l->n; i++) {
		const struct om_load_row *r = &l->row[i];
		char node[16], mem[48], age[32];

		snprintf(node, sizeof(node), "%" PRIu32 "%s", r->node, r->self ? "*" : "");
		snprintf(mem, sizeof(mem), "%" PRIu64 "/%" PRIu64, r->free_kib / 1024,
			 r->total_kib / 1024);
		snprintf(age, sizeof(age), "%" PRIu64 ".%" PRIu64 "s", r->age_ms / 1000,
			 r->age_ms % 1000 / 100);
		fprintf(f, "%-6s %7.2f %7.2f %4" PRIu32 " %5" PRIu32 " %6" PRIu32 " %17s %6" PRIu32
			   " %5" PRIu32 " %7s %s%s ",
			node, r->load / 1000.0, r->load_slow / 1000.0, r->runnable, r->ncpus, r->speed, mem,
			r->hosted, r->away, age, r->balancing ? "balancing" : "still",
			r->blocked ? ",blocked" : "");
		bar = r->load / 100;
		for (j = 0; j < bar && j < bar_max; j++)
			fputc('#', f);
		fputc('\n', f);
	}
}
