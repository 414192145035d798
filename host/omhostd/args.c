// SPDX-License-Identifier: GPL-2.0-only
#include "args.h"
#include "parse-u32.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char om_hostd_usage[] =
	"usage: omhostd --dir DIR --nodes N|A-B [--max-payload BYTES]\n"
	"               [--allow-uid [A[-B]=]UID]... [--trace-group GID]\n"
	"               [--evict-backoff-ms MS] [--unresponsive-ms MS]\n"
	"               [--queue-bytes BYTES] [--queue-msgs N] [--queue-after-ms MS]\n"
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
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:n:p:u:g:b:r:q:m:a:hV", opts, NULL)) != -1) {
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
	return OM_HOSTD_RUN;
}
