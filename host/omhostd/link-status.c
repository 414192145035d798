// SPDX-License-Identifier: GPL-2.0-only
/* The links' lines of the control socket's status (omhostd.md, "Links between hosts"). */
#include <errno.h>
#include <stdio.h>

#include "link-internal.h"

static const char *om_link_state_name(enum om_link_state s)
{
	return s == OM_LINK_UP ? "up" : s == OM_LINK_CONNECTING ? "connecting" : "down";
}

int om_links_status(struct om_hostd *d, char *buf, size_t cap, size_t *len)
{
	struct om_links *ls = d->links;
	int n;

	if (!ls)
		return 0;
	if (d->cfg.listen_set) {
		n = snprintf(buf + *len, cap - *len, "listen=%s accepted=%llu auth_failed=%llu "
			     "log_suppressed=%llu\n", d->cfg.listen_str,
			     (unsigned long long)ls->accepted, (unsigned long long)ls->auth_failed,
			     (unsigned long long)ls->log_suppressed);
		if (n < 0 || (size_t)n >= cap - *len)
			return -ENOSPC;
		*len += (size_t)n;
	}
	for (unsigned int i = 0; i < ls->n_peers; i++) {
		const struct om_link_peer *p = &ls->peers[i];
		const struct om_link_counters *c = &p->s.c;
		uint64_t malformed = 0;

		for (unsigned int v = 1; v < OM_LINK_VERDICT_COUNT; v++)
			if (v != OM_LINK_FOREIGN_SOURCE && v != OM_LINK_CREDIT_EXCEEDED)
				malformed += c->refused[v];
		n = snprintf(buf + *len, cap - *len,
			     "link=%s state=%s nodes=%u-%u connects=%llu cuts=%llu auth_failed=%llu "
			     "malformed=%llu foreign_source=%llu credit_exceeded=%llu "
			     "frames_tx=%llu frames_rx=%llu data_tx=%llu data_rx=%llu resent=%llu "
			     "duplicates=%llu unacked=%u outbox=%u held=%u undeliverable=%llu "
			     "log_suppressed=%llu\n",
			     p->cfg->name, om_link_state_name(p->state), p->cfg->first_node,
			     p->cfg->last_node, (unsigned long long)p->connects,
			     (unsigned long long)p->cuts, (unsigned long long)p->auth_failed,
			     (unsigned long long)malformed,
			     (unsigned long long)c->refused[OM_LINK_FOREIGN_SOURCE],
			     (unsigned long long)c->refused[OM_LINK_CREDIT_EXCEEDED],
			     (unsigned long long)c->frames_tx, (unsigned long long)c->frames_rx,
			     (unsigned long long)c->data_tx, (unsigned long long)c->data_rx,
			     (unsigned long long)c->resent, (unsigned long long)c->duplicates,
			     p->s.unacked_n, p->s.outbox_n, p->s.held_n,
			     (unsigned long long)c->undeliverable,
			     (unsigned long long)p->log_suppressed);
		if (n < 0 || (size_t)n >= cap - *len)
			return -ENOSPC;
		*len += (size_t)n;
	}
	return 0;
}
