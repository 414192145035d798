/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's request handling, apart from how it finds its port, so that
 * tests can serve a socket with it on the host.
 */
#ifndef OM_AGENT_SERVER_H
#define OM_AGENT_SERVER_H

#include <stdint.h>

#include "agent-proto.h"

struct agent {
	int port;	  /* non-blocking: the host side may vanish at any time */
	char hello[128];  /* the answer to OMA_HELLO */
	uint8_t buf[OMA_MAX_PAYLOAD];
	uint8_t out[OMA_HEADER_SIZE + OMA_MAX_PAYLOAD];
};

/* Serves one host connection on a->port until the host closes it. */
void agent_serve_connection(struct agent *a);

#endif /* OM_AGENT_SERVER_H */
