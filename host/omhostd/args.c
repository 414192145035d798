// SPDX-License-Identifier: GPL-2.0-only
#include "args.h"
#include "parse-u32.h"
#include "link-tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char om_hostd_usage[] =
	"usage: omhostd --dir DIR --nodes N|A-B [--max-payload BYTES]\n"
	"               [--allow-uid [A[-B]=]UID]... [--trace-group GID]\n"
	"               [--evict-backoff-ms MS] [--unresponsive-ms MS]\n"
	"               [--queue-bytes BYTES] [--queue-msgs N] [--queue-after-ms MS]\n"
	"               [--grace-ms MS]\n"
	"               [--name NAME [--listen ADDR:PORT] --psk-file FILE\n"
	"                --peer NAME=HOST:PORT:FIRST-LAST... [--peer-down-ms MS]\n"
	"                [--link-hold-ms MS]]\n"
	"\n"
	"The virtio-om host relay: serves the guests of nodes A..B (or 1..N) as\n"
	"a vhost-user back-end, one socket per node, DIR/node-N.sock, and relays\n"
	"their messages. DIR/control.sock answers omhostctl.\n"
	"\n"
	"  -d, --dir DIR            where the sockets are made (must exist)\n"
	"  -n, --nodes N|A-B        the node ids served here (1..1024)\n"
	"  -p, --max-payload BYTES  largest payload accepted (1..65536, default 65536)\n"
	"  -u, --allow-uid [A[-B]=]UID  the user whose front-ends (QEMU) may connect to\n"
	"                           the sockets of nodes A..B (all without A-B=), besides\n"
	"                           root; repeatable, the last for a node counts\n"
	"                           (default: omhostd's own uid)\n"
	"  -g, --trace-group GID    a group whose members get trace payloads, as root\n"
	"                           and omhostd's own user do (others: headers only)\n"
	"  -b, --evict-backoff-ms MS  refuse an evicted node's reconnects for MS, doubling\n"
	"                           with each eviction in a row up to 60 s (default 1000;\n"
	"                           0: no back-off)\n"
	"  -r, --unresponsive-ms MS a receiver that takes no message for MS while\n"
	"                           senders wait for it is marked unresponsive: messages\n"
	"                           to it are dropped until it takes one (default 30000;\n"
	"                           0: senders wait as long as it takes)\n"
	"  -q, --queue-bytes BYTES  a receiver that takes no message for --queue-after-ms\n"
	"                           while senders wait gets a queue of this many bytes\n"
	"                           (headers included): messages for it are copied there\n"
	"                           and their senders go on; one sender fills at most a\n"
	"                           quarter (default 4194304; 0: no queue)\n"
	"  -m, --queue-msgs N       and of at most N messages (default 1024; 0: no queue)\n"
	"  -a, --queue-after-ms MS  (default 1000; 0: at once)\n"
	"  -G, --grace-ms MS        after start, messages for nodes not yet up wait for\n"
	"                           them this long (guests come back after a restart);\n"
	"                           then peers are told which did not (default 10000)\n"
	"  -N, --name NAME          this relay's name towards its peers\n"
	"  -l, --listen ADDR:PORT   where peer relays connect (IPv4, or [IPv6]:PORT)\n"
	"  -k, --psk-file FILE      the pre-shared keys, NAME HEX per line (mode 0600)\n"
	"  -P, --peer NAME=HOST:PORT:FIRST-LAST  a peer relay, where it listens, the\n"
	"                           nodes it serves; their messages go over a TLS link\n"
	"                           (repeatable, at most 16)\n"
	"  -D, --peer-down-ms MS    a peer unlinked this long: its nodes are down\n"
	"                           (default 30000; 0: never)\n"
	"  -H, --link-hold-ms MS    a guest's tx chain with a message for a peer's node\n"
	"                           (and those after it) is returned only once the peer\n"
	"                           acknowledged it, so a kill of this relay loses\n"
	"                           nothing; at most MS, then it is returned anyway\n"
	"                           (default 1000; 0: at once, as a queue does)\n"
	"  -h, --help               this text\n"
	"  -V, --version            the version and protocol version\n";

int om_parse_node_range(const char *s, uint32_t *first, uint32_t *last)
{
	const char *dash = strchr(s, '-');
	char a[16];

	if (!dash) {
		*first = 1;
		return parse_u32(s, 1, VIRTIO_OM_MAX_NODES, last);
	}
	if ((size_t)(dash - s) >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = '\0';
	if (parse_u32(a, 1, VIRTIO_OM_MAX_NODES, first) ||
	    parse_u32(dash + 1, 1, VIRTIO_OM_MAX_NODES, last) || *first > *last)
		return -EINVAL;
	return 0;
}

/* "UID" (every node), "N=UID" or "A-B=UID": sets cfg's allowed uid for those nodes. */
static int om_parse_allow_uid(const char *s, struct om_hostd_config *cfg)
{
	const char *eq = strchr(s, '=');
	uint32_t first = 1, last = VIRTIO_OM_MAX_NODES, uid;
	char range[24];

	if (eq) {
		if ((size_t)(eq - s) >= sizeof(range))
			return -EINVAL;
		memcpy(range, s, (size_t)(eq - s));
		range[eq - s] = '\0';
		/* A lone N is node N here, not 1..N as for --nodes. */
		if (strchr(range, '-') ? om_parse_node_range(range, &first, &last) :
					 parse_u32(range, 1, VIRTIO_OM_MAX_NODES, &first))
			return -EINVAL;
		if (!strchr(range, '-'))
			last = first;
		s = eq + 1;
	}
	/* (uid_t)-1 means "unchanged" to the kernel, never a user. */
	if (parse_u32(s, 0, UINT32_MAX - 1, &uid))
		return -EINVAL;
	for (uint32_t n = first; n <= last; n++)
		cfg->allow_uid[n] = (uid_t)uid;
	return 0;
}

/* "ADDR:PORT" or "[ADDR6]:PORT", numeric: 0 or -EINVAL. */
static int om_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	uint32_t port;
	size_t hl;

	if (!colon || parse_u32(colon + 1, 1, 65535, &port))
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host) || !hl)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return 0;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return 0;
	}
}

/* "NAME=HOST:PORT:FIRST-LAST". */
static int om_parse_peer(const char *s, struct om_link_peer_config *p)
{
	const char *eq = strchr(s, '='), *colon;
	char addr[sizeof(p->addr_str)];
	size_t n;

	if (!eq || (size_t)(eq - s) >= sizeof(p->name))
		return -EINVAL;
	memcpy(p->name, s, (size_t)(eq - s));
	p->name[eq - s] = '\0';
	colon = strrchr(eq + 1, ':');
	if (!om_link_name_ok(p->name) || !colon || !strchr(colon, '-') ||
	    om_parse_node_range(colon + 1, &p->first_node, &p->last_node))
		return -EINVAL;
	n = (size_t)(colon - (eq + 1));
	if (n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, eq + 1, n);
	addr[n] = '\0';
	memcpy(p->addr_str, addr, n + 1);
	return om_parse_addr(addr, &p->addr, &p->addr_len);
}

static bool om_ranges_overlap(uint32_t a1, uint32_t b1, uint32_t a2, uint32_t b2)
{
	return a1 <= b2 && a2 <= b1;
}

/* The link options together: names, ranges apart, what each side needs. */
static int om_check_links(struct om_hostd_config *cfg, char *err, size_t errlen)
{
	bool accepts = false;

	if (!cfg->n_peers) {
		if (cfg->name[0] || cfg->listen_set || cfg->psk_file[0]) {
			snprintf(err, errlen, "--name, --listen and --psk-file are for --peer");
			return -EINVAL;
		}
		return 0;
	}
	if (!cfg->name[0] || !cfg->psk_file[0]) {
		snprintf(err, errlen, "--peer needs --name and --psk-file");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->n_peers; i++) {
		const struct om_link_peer_config *p = &cfg->peers[i];
		int cmp = strcmp(cfg->name, p->name);

		if (!cmp) {
			snprintf(err, errlen, "--peer %s: that is this relay's own --name", p->name);
			return -EINVAL;
		}
		accepts = accepts || cmp > 0;
		if (om_ranges_overlap(p->first_node, p->last_node, cfg->first_node,
				      cfg->last_node)) {
			snprintf(err, errlen, "--peer %s: nodes %u-%u overlap --nodes %u-%u",
				 p->name, p->first_node, p->last_node, cfg->first_node,
				 cfg->last_node);
			return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++) {
			const struct om_link_peer_config *q = &cfg->peers[j];

			if (!strcmp(p->name, q->name) ||
			    om_ranges_overlap(p->first_node, p->last_node, q->first_node,
					      q->last_node)) {
				snprintf(err, errlen, "--peer %s and --peer %s: the same name or "
					 "overlapping nodes", q->name, p->name);
				return -EINVAL;
			}
		}
	}
	/* The side whose name sorts first dials: the other must listen. */
	if (accepts && !cfg->listen_set) {
		snprintf(err, errlen, "--listen is needed: peers whose names sort before '%s' "
			 "connect to it", cfg->name);
		return -EINVAL;
	}
	return 0;
}

/* An option's number, 0..max: 0, or -EINVAL with the message for the user in err. */
static int om_parse_opt_u32(const char *opt, const char *v, uint32_t max, uint32_t *out,
			    char *err, size_t errlen)
{
	if (!parse_u32(v, 0, max, out))
		return 0;
	snprintf(err, errlen, "%s '%s': give 0..%u", opt, v, max);
	return -EINVAL;
}

int om_hostd_parse_args(int argc, char **argv, struct om_hostd_config *cfg, char *err,
			size_t errlen)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "max-payload", required_argument, NULL, 'p' },
		{ "allow-uid", required_argument, NULL, 'u' },
		{ "trace-group", required_argument, NULL, 'g' },
		{ "evict-backoff-ms", required_argument, NULL, 'b' },
		{ "unresponsive-ms", required_argument, NULL, 'r' },
		{ "queue-bytes", required_argument, NULL, 'q' },
		{ "queue-msgs", required_argument, NULL, 'm' },
		{ "queue-after-ms", required_argument, NULL, 'a' },
		{ "name", required_argument, NULL, 'N' },
		{ "listen", required_argument, NULL, 'l' },
		{ "psk-file", required_argument, NULL, 'k' },
		{ "peer", required_argument, NULL, 'P' },
		{ "peer-down-ms", required_argument, NULL, 'D' },
		{ "link-hold-ms", required_argument, NULL, 'H' },
		{ "grace-ms", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	bool have_nodes = false;
	uint32_t v;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_payload = VIRTIO_OM_MAX_PAYLOAD;
	for (size_t i = 0; i < sizeof(cfg->allow_uid) / sizeof(cfg->allow_uid[0]); i++)
		cfg->allow_uid[i] = geteuid();
	cfg->backoff_ms = OM_HOSTD_BACKOFF_MS_DEFAULT;
	cfg->unresponsive_ms = OM_HOSTD_UNRESPONSIVE_MS_DEFAULT;
	cfg->queue_bytes = OM_HOSTD_QUEUE_BYTES_DEFAULT;
	cfg->queue_msgs = OM_HOSTD_QUEUE_MSGS_DEFAULT;
	cfg->queue_after_ms = OM_HOSTD_QUEUE_AFTER_MS_DEFAULT;
	cfg->peer_down_ms = OM_HOSTD_PEER_DOWN_MS_DEFAULT;
	cfg->link_hold_ms = OM_HOSTD_LINK_HOLD_MS_DEFAULT;
	cfg->grace_ms = OM_HOSTD_GRACE_MS;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:n:p:u:g:b:r:q:m:a:N:l:k:P:D:H:G:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg || strlen(optarg) >= sizeof(cfg->dir) - 32) {
				snprintf(err, errlen, "--dir: empty or too long");
				return -EINVAL;
			}
			snprintf(cfg->dir, sizeof(cfg->dir), "%s", optarg);
			break;
		case 'n':
			if (om_parse_node_range(optarg, &cfg->first_node, &cfg->last_node)) {
				snprintf(err, errlen,
					 "--nodes '%s': give N or A-B with 1 <= A <= B <= %u", optarg,
					 VIRTIO_OM_MAX_NODES);
				return -EINVAL;
			}
			have_nodes = true;
			break;
		case 'p':
			if (parse_u32(optarg, 1, VIRTIO_OM_MAX_PAYLOAD, &cfg->max_payload)) {
				snprintf(err, errlen, "--max-payload '%s': give 1..%u", optarg,
					 VIRTIO_OM_MAX_PAYLOAD);
				return -EINVAL;
			}
			break;
		case 'u':
			if (om_parse_allow_uid(optarg, cfg)) {
				snprintf(err, errlen,
					 "--allow-uid '%s': give UID, NODE=UID or A-B=UID (numeric "
					 "uid, nodes 1..%u)", optarg, VIRTIO_OM_MAX_NODES);
				return -EINVAL;
			}
			break;
		case 'g':
			if (parse_u32(optarg, 0, UINT32_MAX - 1, &v)) {
				snprintf(err, errlen, "--trace-group '%s': give a numeric gid", optarg);
				return -EINVAL;
			}
			cfg->trace_gid = (gid_t)v;
			cfg->trace_gid_set = true;
			break;
		case 'b':
			if (om_parse_opt_u32("--evict-backoff-ms", optarg, OM_HOSTD_BACKOFF_MAX_MS,
					     &cfg->backoff_ms, err, errlen))
				return -EINVAL;
			break;
		case 'r':
			if (om_parse_opt_u32("--unresponsive-ms", optarg, OM_HOSTD_UNRESPONSIVE_MS_MAX,
					     &cfg->unresponsive_ms, err, errlen))
				return -EINVAL;
			break;
		case 'q':
			if (om_parse_opt_u32("--queue-bytes", optarg, OM_HOSTD_QUEUE_BYTES_MAX,
					     &cfg->queue_bytes, err, errlen))
				return -EINVAL;
			break;
		case 'm':
			if (om_parse_opt_u32("--queue-msgs", optarg, OM_HOSTD_QUEUE_MSGS_MAX,
					     &cfg->queue_msgs, err, errlen))
				return -EINVAL;
			break;
		case 'a':
			if (om_parse_opt_u32("--queue-after-ms", optarg, OM_HOSTD_UNRESPONSIVE_MS_MAX,
					     &cfg->queue_after_ms, err, errlen))
				return -EINVAL;
			break;
		case 'N':
			if (!om_link_name_ok(optarg)) {
				snprintf(err, errlen, "--name '%s': letters, digits, '.', '-', '_', "
					 "at most 63", optarg);
				return -EINVAL;
			}
			snprintf(cfg->name, sizeof(cfg->name), "%s", optarg);
			break;
		case 'l':
			if (strlen(optarg) >= sizeof(cfg->listen_str) ||
			    om_parse_addr(optarg, &cfg->listen_addr, &cfg->listen_len)) {
				snprintf(err, errlen, "--listen '%s': give ADDR:PORT or [ADDR6]:PORT "
					 "(numeric)", optarg);
				return -EINVAL;
			}
			snprintf(cfg->listen_str, sizeof(cfg->listen_str), "%s", optarg);
			cfg->listen_set = true;
			break;
		case 'k':
			if (!*optarg || strlen(optarg) >= sizeof(cfg->psk_file)) {
				snprintf(err, errlen, "--psk-file: empty or too long");
				return -EINVAL;
			}
			snprintf(cfg->psk_file, sizeof(cfg->psk_file), "%s", optarg);
			break;
		case 'P':
			if (cfg->n_peers >= OM_HOSTD_MAX_PEERS ||
			    om_parse_peer(optarg, &cfg->peers[cfg->n_peers])) {
				snprintf(err, errlen, "--peer '%s': give NAME=HOST:PORT:FIRST-LAST "
					 "(numeric address, at most %u peers)", optarg,
					 OM_HOSTD_MAX_PEERS);
				return -EINVAL;
			}
			cfg->n_peers++;
			break;
		case 'D':
			if (om_parse_opt_u32("--peer-down-ms", optarg, OM_HOSTD_UNRESPONSIVE_MS_MAX,
					     &cfg->peer_down_ms, err, errlen))
				return -EINVAL;
			break;
		case 'H':
			if (om_parse_opt_u32("--link-hold-ms", optarg, OM_HOSTD_UNRESPONSIVE_MS_MAX,
					     &cfg->link_hold_ms, err, errlen))
				return -EINVAL;
			break;
		case 'G':
			if (om_parse_opt_u32("--grace-ms", optarg, OM_HOSTD_UNRESPONSIVE_MS_MAX,
					     &cfg->grace_ms, err, errlen))
				return -EINVAL;
			break;
		case 'h':
			return OM_HOSTD_HELP;
		case 'V':
			return OM_HOSTD_VERSION;
		case ':':
			snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->dir[0] || !have_nodes) {
		snprintf(err, errlen, "--dir and --nodes are required");
		return -EINVAL;
	}
	if (om_check_links(cfg, err, errlen))
		return -EINVAL;
	return OM_HOSTD_RUN;
}
