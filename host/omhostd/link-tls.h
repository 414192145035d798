/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLS 1.3 with pre-shared keys for relay links (OpenSSL 3): the key file
 * and the contexts. The dialling side's PSK identity is its own name; the
 * accepting side takes the key it has for that name, so a handshake that
 * completes proves both relays hold the pair's key (docs/omhostd.md,
 * "Links between hosts").
 */
#ifndef OM_HOSTD_LINK_TLS_H
#define OM_HOSTD_LINK_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define OM_LINK_NAME_MAX 63
#define OM_LINK_KEY_MIN 32
#define OM_LINK_KEY_MAX 64
#define OM_LINK_MAX_PEERS 16

struct om_link_key {
	char name[OM_LINK_NAME_MAX + 1];
	unsigned char key[OM_LINK_KEY_MAX];
	size_t len;
};

/* Whether s is a valid relay name (letters, digits, '.', '-', '_'; 1..63). */
int om_link_name_ok(const char *s);

/*
 * Reads the key file: "NAME HEX" lines, '#' comments. Refused when others
 * may read it. 0, or -errno with a message in err.
 */
int om_link_keys_load(const char *path, struct om_link_key *keys, unsigned int max,
		      unsigned int *n, char *err, size_t errlen);

/*
 * Looks up the key a connection's peer is named by: the callback the
 * accepting context calls with the identity the dialler gave; NULL when
 * unknown. ctx is om_link_tls_new's.
 */
typedef const struct om_link_key *(*om_link_key_lookup)(void *ctx, const char *name);

/* The context for dialling (client) or accepting (server). NULL on error. */
SSL_CTX *om_link_tls_new(int server, om_link_key_lookup lookup, void *lookup_ctx);

/*
 * A connection over fd: as client, with identity our own name and key
 * (the key of the peer dialled). The name the accepting side saw is read
 * back with om_link_tls_peer_name(). NULL on error.
 */
SSL *om_link_tls_conn(SSL_CTX *ctx, int fd, const char *identity, const struct om_link_key *key);
/* The name the dialler gave (server side), "" before it did. */
const char *om_link_tls_peer_name(SSL *ssl);
void om_link_tls_free(SSL *ssl);

#endif /* OM_HOSTD_LINK_TLS_H */
