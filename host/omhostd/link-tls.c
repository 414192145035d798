// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLS 1.3 PSK for relay links, on OpenSSL 3 (link-tls.h). Only TLS 1.3,
 * one cipher suite, PSK with (EC)DHE; no certificates: a handshake
 * completes only on a PSK both sides hold.
 */
#include "link-tls.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

/* What a connection carries for the callbacks. */
struct om_link_tls_conn {
	const char *identity;		/* client: our name */
	const struct om_link_key *key;	/* client: the key for the peer dialled */
	char peer_name[OM_LINK_NAME_MAX + 1]; /* server: the identity the client gave */
};

struct om_link_tls_lookup {
	om_link_key_lookup fn;
	void *ctx;
};

static int om_link_conn_index = -1, om_link_ctx_index = -1;

int om_link_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > OM_LINK_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static int om_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int om_link_keys_load(const char *path, struct om_link_key *keys, unsigned int max,
		      unsigned int *n, char *err, size_t errlen)
{
	char line[512];
	struct stat st;
	unsigned int lineno = 0;
	FILE *f;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*n = 0;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;

		snprintf(err, errlen, "--psk-file %s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	/* Keys others can read are keys others have. */
	if (st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) {
		snprintf(err, errlen, "--psk-file %s: readable or writable by others (mode %03o): "
			 "make it 0600 or 0640", path, (unsigned int)(st.st_mode & 0777));
		close(fd);
		return -EPERM;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[128], hex[300];
		struct om_link_key *k;
		size_t hl;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "--psk-file %s:%u: line too long", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		if (sscanf(line, " %127s", name) != 1 || name[0] == '#')
			continue;
		if (sscanf(line, " %127s %299s", name, hex) != 2 || !om_link_name_ok(name)) {
			snprintf(err, errlen, "--psk-file %s:%u: give NAME HEX", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		hl = strlen(hex);
		if (hl % 2 || hl / 2 < OM_LINK_KEY_MIN || hl / 2 > OM_LINK_KEY_MAX || *n >= max) {
			snprintf(err, errlen, "--psk-file %s:%u: the key must be %u to %u bytes "
				 "as hex (at most %u keys)", path, lineno, OM_LINK_KEY_MIN,
				 OM_LINK_KEY_MAX, max);
			fclose(f);
			return -EINVAL;
		}
		k = &keys[(*n)++];
		memcpy(k->name, name, strlen(name) + 1); /* om_link_name_ok: at most 63 */
		k->len = hl / 2;
		for (size_t i = 0; i < k->len; i++) {
			int hi = om_hex(hex[2 * i]), lo = om_hex(hex[2 * i + 1]);

			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "--psk-file %s:%u: not hex", path, lineno);
				fclose(f);
				return -EINVAL;
			}
			k->key[i] = (unsigned char)(hi << 4 | lo);
		}
	}
	fclose(f);
	return 0;
}

/* A resumable-session object holding the key, as TLS 1.3 PSKs are given to OpenSSL. */
static SSL_SESSION *om_link_psk_session(SSL *ssl, const struct om_link_key *k)
{
	static const unsigned char aes128gcm[] = { 0x13, 0x01 }; /* TLS_AES_128_GCM_SHA256 */
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, aes128gcm);
	SSL_SESSION *s = SSL_SESSION_new();

	if (!s || !cipher || !SSL_SESSION_set1_master_key(s, k->key, k->len) ||
	    !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

static int om_link_use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id,
			       size_t *idlen, SSL_SESSION **sess)
{
	struct om_link_tls_conn *c = SSL_get_ex_data(ssl, om_link_conn_index);
	SSL_SESSION *s;

	*sess = NULL;
	if (!c || !c->key)
		return 0;
	s = om_link_psk_session(ssl, c->key);
	if (!s)
		return 0;
	if (md && md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(s))) {
		SSL_SESSION_free(s);
		return 1; /* no PSK for that digest: the handshake fails */
	}
	*id = (const unsigned char *)c->identity;
	*idlen = strlen(c->identity);
	*sess = s;
	return 1;
}

static int om_link_find_session(SSL *ssl, const unsigned char *identity, size_t identity_len,
				SSL_SESSION **sess)
{
	struct om_link_tls_conn *c = SSL_get_ex_data(ssl, om_link_conn_index);
	struct om_link_tls_lookup *l = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), om_link_ctx_index);
	const struct om_link_key *k;
	char name[OM_LINK_NAME_MAX + 1];

	*sess = NULL;
	if (!c || !l || identity_len > OM_LINK_NAME_MAX)
		return 1; /* unknown: no PSK, and no certificate either: refused */
	memcpy(name, identity, identity_len);
	name[identity_len] = '\0';
	if (!om_link_name_ok(name))
		return 1;
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", name);
	k = l->fn(l->ctx, name);
	if (!k)
		return 1;
	*sess = om_link_psk_session(ssl, k);
	return *sess ? 1 : 0;
}

static void om_link_free_lookup(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
				void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static void om_link_free_conn(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			      void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

SSL_CTX *om_link_tls_new(int server, om_link_key_lookup lookup, void *lookup_ctx)
{
	SSL_CTX *ctx;

	if (om_link_conn_index < 0) {
		om_link_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, om_link_free_conn);
		om_link_ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
							     om_link_free_lookup);
		if (om_link_conn_index < 0 || om_link_ctx_index < 0)
			return NULL;
	}
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256"))
		goto fail;
	/* Writes of what the link buffers, which moves and grows between tries. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* No tickets: every connection proves the key again. */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (server) {
		struct om_link_tls_lookup *l = malloc(sizeof(*l));

		if (!l)
			goto fail;
		*l = (struct om_link_tls_lookup){ lookup, lookup_ctx };
		SSL_CTX_set_ex_data(ctx, om_link_ctx_index, l);
		SSL_CTX_set_psk_find_session_callback(ctx, om_link_find_session);
	} else {
		/* A server answering with a certificate instead of the PSK is refused. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_psk_use_session_callback(ctx, om_link_use_session);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *om_link_tls_conn(SSL_CTX *ctx, int fd, const char *identity, const struct om_link_key *key)
{
	struct om_link_tls_conn *c = calloc(1, sizeof(*c));
	SSL *ssl = c ? SSL_new(ctx) : NULL;

	if (!ssl) {
		free(c);
		return NULL;
	}
	c->identity = identity;
	c->key = key;
	if (!SSL_set_ex_data(ssl, om_link_conn_index, c)) {
		free(c);
		SSL_free(ssl);
		return NULL;
	}
	if (!SSL_set_fd(ssl, fd)) {
		SSL_free(ssl);
		return NULL;
	}
	if (identity)
		SSL_set_connect_state(ssl);
	else
		SSL_set_accept_state(ssl);
	return ssl;
}

const char *om_link_tls_peer_name(SSL *ssl)
{
	struct om_link_tls_conn *c = SSL_get_ex_data(ssl, om_link_conn_index);

	return c ? c->peer_name : "";
}

void om_link_tls_free(SSL *ssl)
{
	SSL_free(ssl);
}
