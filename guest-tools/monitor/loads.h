/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /proc/hpc/loads (the engine's load view: this node, then what it heard
 * of others) read into a table, and drawn as om-mon shows it. Built for the
 * host too, where the unit tests feed it text.
 */
#ifndef OM_GUEST_LOADS_H
#define OM_GUEST_LOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OM_LOADS_MAX 64

struct om_load_row {
	uint32_t node;
	uint64_t age_ms;
	uint32_t load;	    /* runnable x 1000, fast decay */
	uint32_t load_slow;
	uint32_t runnable;  /* when measured, not decayed */
	uint32_t speed;
	uint32_t ncpus;
	uint64_t free_kib;
	uint64_t total_kib;
	bool self;
	bool balancing;
	bool blocked;
	uint32_t hosted;
	uint32_t away;
};

struct om_loads {
	unsigned int n;
	struct om_load_row row[OM_LOADS_MAX];
};

/* Parse the text of /proc/hpc/loads; 0, or -EPROTO for text not of that form. */
int om_loads_parse(const char *text, struct om_loads *out);
/* Sort by node id (this node is flagged, not first). */
void om_loads_sort(struct om_loads *l);
/* One screen of om-mon: a line per node with a bar of its load, @width columns wide. */
void om_loads_draw(FILE *f, const struct om_loads *l, unsigned int width);

#endif
