/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the files of relay links share inside omhostd: a peer's link, its
 * connection, all links of the relay. link.c does their I/O and timers,
 * link-status.c says how they are for the control socket's status.
 */
#ifndef OM_HOSTD_LINK_INTERNAL_H
#define OM_HOSTD_LINK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "link-session.h"
#include "link-tls.h"
#include "omhostd.h"

/* Connections accepted whose handshake has not named a peer yet. */
#define OM_LINK_MAX_PENDING 8

enum om_link_state { OM_LINK_DOWN, OM_LINK_CONNECTING, OM_LINK_UP };

/* A TCP connection, dialled or accepted, with its TLS. */
struct om_link_conn {
	struct om_links *ls;
	struct om_link_peer *peer; /* dialled: known; accepted: once the handshake named it */
	int fd;
	SSL *ssl;
	struct om_watch *rw, *ww; /* POLLIN always; POLLOUT while TLS wants to write */
	bool tcp_connecting;	  /* a dial not yet connected */
	bool handshaken;
	size_t write_len;	  /* a write TLS asked to retry with the same length */
	long long since_ms;
};

struct om_link_peer {
	struct om_links *ls;
	const struct om_link_peer_config *cfg;
	const struct om_link_key *key;
	bool dials;
	enum om_link_state state;
	struct om_link_session s;
	struct om_link_reader reader;
	struct om_link_conn *conn;
	long long last_rx_ms, last_tx_ms, down_since_ms, next_dial_ms;
	unsigned int redial_ms;
	bool given_up; /* its nodes were told down; a new run of ours began */
	uint64_t connects, cuts, auth_failed, log_suppressed;
	struct om_log_limit log;
	struct om_remote *remote; /* by node - first_node */
};

struct om_links {
	struct om_hostd *d;
	struct om_link_key keys[OM_HOSTD_MAX_PEERS];
	unsigned int n_keys;
	struct om_link_peer peers[OM_HOSTD_MAX_PEERS];
	unsigned int n_peers;
	struct om_link_peer *peer_of[VIRTIO_OM_MAX_NODES + 1];
	SSL_CTX *client, *server;
	int listen_fd;
	struct om_watch *listen_w;
	struct om_link_conn *pending[OM_LINK_MAX_PENDING];
	int timer_fd;
	struct om_watch *timer_w;
	uint64_t accepted, auth_failed, log_suppressed;
	struct om_log_limit log;
	long long started_ms;
};

#endif /* OM_HOSTD_LINK_INTERNAL_H */
