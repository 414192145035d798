// SPDX-License-Identifier: GPL-2.0-only
/*
 * omtrace: the virtio-om traffic of a running omhostd, or of a capture
 * file, one decoded line per message (or JSON lines, or a summary), with
 * filters, and capture to pcapng; or the fleet's load from the LOAD
 * messages it relays, redrawn every second (--loads). See docs/tracing.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "control-client.h"
#include "filter.h"
#include "loadview.h"
#include "parse-u32.h"
#include "pcapng.h"
#include "print.h"
#include "stats.h"

static const char usage[] =
	"usage: omtrace (-d DIR | -s SOCKET | -r FILE) [options]\n"
	"       omtrace (-d DIR | -s SOCKET | -r FILE) --loads [-n COUNT] [-b]\n"
	"\n"
	"Shows the virtio-om messages a running omhostd relays (or a capture's),\n"
	"one line each: time, source -> destination node and pid, type, length,\n"
	"seq, decoded payload fields, and for a reply the latency from its request.\n"
	"\n"
	"  -d, --dir DIR         omhostd's --dir (attaches to DIR/control.sock)\n"
	"  -s, --socket PATH     the control socket itself\n"
	"  -r, --read FILE       read a capture written with -w instead\n"
	"  -w, --write FILE      write a pcapng capture (- for stdout); no lines unless --print\n"
	"  -p, --print           with -w, print the lines too\n"
	"  -j, --json            JSON lines instead of text\n"
	"  -S, --summary         at the end, counts, bytes and latency percentiles per type\n"
	"                        and counts per pair of nodes (no lines unless --print)\n"
	"  -c, --count N         stop after N messages (that pass the filters)\n"
	"      --node LIST       only messages from or to these nodes (0: the host)\n"
	"      --pid LIST        only messages from or to these pids\n"
	"      --type LIST       only these types: names (PING), ranges (control, liveness,\n"
	"                        migration, syscall, memory, test) or numbers (0x7f00)\n"
	"      --syscall LIST    only forwarded system calls of these names or numbers,\n"
	"                        and their replies\n"
	"      --snaplen BYTES   payload bytes kept per message (default 128; 0: all)\n"
	"      --buffer BYTES    the ring omhostd shares with it (default 4194304)\n"
	"  -t, --timeout MS      give up connecting after MS milliseconds (default 5000)\n"
	"  -q, --quiet           no attach and end-of-run notes on stderr\n"
	"  -L, --loads           instead of messages, each node's load from the LOAD\n"
	"                        messages relayed, a table redrawn every second\n"
	"                        (with -r: the table at the capture's end)\n"
	"  -n, --views COUNT     with --loads, stop after COUNT tables\n"
	"  -b, --batch           with --loads, never clear the screen (not a tty: never)\n"
	"\n"
	"Ends at -c, at Ctrl-C (SIGINT) or SIGTERM, or when omhostd stops. Messages this\n"
	"listener missed (it read too slowly) are reported in place and at the end.\n";

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

struct omtrace {
	const char *sock, *read_path, *write_path;
	bool json, summary, print, quiet;
	bool loads, batch, snaplen_given;
	uint64_t count;
	uint32_t views;	/* --loads: tables to draw, 0 for no end */
	uint32_t snaplen, buffer;
	int timeout_ms;
	struct om_filter filter;
	struct om_latency latency;
	struct om_summary sum;
	struct om_pcapng_writer pcap;
	FILE *pcap_f;
	bool show_lines;
	uint64_t records, shown, missed; /* message records received, passed, missed */
	bool opened; /* attached, or the capture opened: the end-of-run note is due */
	struct om_loadview loadview;
	uint64_t first_ns, last_ns; /* --loads: the trace's clock at its first and last record */
	uint32_t drawn;		   /* --loads: tables drawn */
};

enum { OPT_NODE = 256, OPT_PID, OPT_TYPE, OPT_SYSCALL, OPT_SNAPLEN, OPT_BUFFER };

/* The whole of the largest LOAD: the view reads every entry. */
#define OM_LOADS_SNAPLEN (VIRTIO_OM_LOAD_SIZE + VIRTIO_OM_LOAD_MAX_ENTRIES * VIRTIO_OM_LOAD_ENTRY_SIZE)

/* --loads is a view of its own: what shapes the lines has no place with it. 0 or 2. */
static int loads_args_check(struct omtrace *t, char *err, size_t cap)
{
	const struct om_filter *f = &t->filter;

	if (t->write_path || t->json || t->summary || t->print || t->count)
		snprintf(err, cap, "--loads goes with none of -w, -j, -S, -p, -c");
	else if (f->n_nodes || f->n_pids || f->n_types || f->n_syscalls)
		snprintf(err, cap, "--loads takes no filter: it reads every LOAD and node event");
	else if (t->snaplen_given && t->snaplen && t->snaplen < OM_LOADS_SNAPLEN)
		snprintf(err, cap, "--loads needs --snaplen 0 or at least %u (a whole LOAD)",
			 OM_LOADS_SNAPLEN);
	else
		return 0;
	return 2;
}

/* 0 to run, 1 for --help, 2 on a usage error (said on stderr). */
static int parse_args(struct omtrace *t, int argc, char **argv, char *sock, size_t sock_cap)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "read", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "print", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "summary", no_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "syscall", required_argument, NULL, OPT_SYSCALL },
		{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
		{ "buffer", required_argument, NULL, OPT_BUFFER },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "loads", no_argument, NULL, 'L' },
		{ "views", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char err[512] = "";
	uint32_t v;
	int c, rc = 0;

	opterr = 0;
	while (!rc && (c = getopt_long(argc, argv, ":d:s:r:w:pjSc:t:qLn:bh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (om_ctl_socket_path(optarg, sock, sock_cap))
				snprintf(err, sizeof(err), "--dir: path too long"), rc = 2;
			t->sock = sock;
			break;
		case 's':
			t->sock = optarg;
			break;
		case 'r':
			t->read_path = optarg;
			break;
		case 'w':
			t->write_path = optarg;
			break;
		case 'p':
			t->print = true;
			break;
		case 'j':
			t->json = true;
			break;
		case 'S':
			t->summary = true;
			break;
		case 'c':
			if (parse_u32(optarg, 1, UINT32_MAX, &v))
				snprintf(err, sizeof(err), "--count '%s': give 1 or more", optarg), rc = 2;
			t->count = v;
			break;
		case OPT_NODE:
			rc = om_filter_add_nodes(&t->filter, optarg, err, sizeof(err)) ? 2 : 0;
			break;
		case OPT_PID:
			rc = om_filter_add_pids(&t->filter, optarg, err, sizeof(err)) ? 2 : 0;
			break;
		case OPT_TYPE:
			rc = om_filter_add_types(&t->filter, optarg, err, sizeof(err)) ? 2 : 0;
			break;
		case OPT_SYSCALL:
			rc = om_filter_add_syscalls(&t->filter, optarg, err, sizeof(err)) ? 2 : 0;
			break;
		case OPT_SNAPLEN:
			t->snaplen_given = true;
			if (parse_u32(optarg, 0, VIRTIO_OM_MAX_PAYLOAD, &t->snaplen))
				snprintf(err, sizeof(err), "--snaplen '%s': give 0..%u", optarg,
					 VIRTIO_OM_MAX_PAYLOAD), rc = 2;
			break;
		case OPT_BUFFER:
			if (parse_u32(optarg, OM_TRACE_BUFFER_MIN, OM_TRACE_BUFFER_MAX, &t->buffer))
				snprintf(err, sizeof(err), "--buffer '%s': give %u..%u bytes", optarg,
					 OM_TRACE_BUFFER_MIN, OM_TRACE_BUFFER_MAX), rc = 2;
			break;
		case 't':
			if (parse_u32(optarg, 1, 3600000, &v))
				snprintf(err, sizeof(err), "--timeout '%s': give milliseconds > 0",
					 optarg), rc = 2;
			t->timeout_ms = (int)v;
			break;
		case 'q':
			t->quiet = true;
			break;
		case 'L':
			t->loads = true;
			break;
		case 'n':
			if (parse_u32(optarg, 1, UINT32_MAX, &t->views))
				snprintf(err, sizeof(err), "--views '%s': give 1 or more", optarg), rc = 2;
			break;
		case 'b':
			t->batch = true;
			break;
		case 'h':
			return 1;
		case ':':
			snprintf(err, sizeof(err), "%s needs a value", argv[optind - 1]), rc = 2;
			break;
		default:
			snprintf(err, sizeof(err), "unknown option '%s'", argv[optind - 1]), rc = 2;
			break;
		}
	}
	if (!rc && optind < argc)
		snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]), rc = 2;
	if (!rc && !!t->sock + !!t->read_path != 1)
		snprintf(err, sizeof(err), "give one of -d DIR, -s SOCKET or -r FILE"), rc = 2;
	if (!rc && t->read_path && t->write_path)
		snprintf(err, sizeof(err), "-r and -w do not go together"), rc = 2;
	if (!rc && t->write_path && !strcmp(t->write_path, "-") && (t->print || t->summary))
		snprintf(err, sizeof(err), "-w - writes the capture to stdout: no --print or --summary"),
			rc = 2;
	if (!rc && t->loads)
		rc = loads_args_check(t, err, sizeof(err));
	if (!rc && !t->loads && (t->views || t->batch))
		snprintf(err, sizeof(err), "-n and -b go with --loads"), rc = 2;
	if (rc)
		fprintf(stderr, "omtrace: %s\nTry 'omtrace --help'.\n", err);
	return rc;
}

/* Handles one record; false when -c is reached or output failed. */
static bool omtrace_record(struct omtrace *t, const struct om_trace_rec *r)
{
	struct om_reply_info ri = { 0 };
	int err;

	if (r->kind == OM_TRACE_REC_MSG)
		t->records++;
	if (t->loads) {
		if (!t->first_ns)
			t->first_ns = r->time_ns;
		t->last_ns = r->time_ns;
		t->missed += r->kind == OM_TRACE_REC_MISSED ? r->missed : 0;
		om_loadview_add(&t->loadview, r);
		return true;
	}
	if (r->kind == OM_TRACE_REC_MISSED) {
		t->missed += r->missed;
		if (!t->quiet && !t->json && !t->show_lines)
			fprintf(stderr, "omtrace: missed %" PRIu64 " messages (%" PRIu64
				" in all): reading too slowly\n", r->missed, r->missed_total);
	}
	if (!om_filter_match(&t->filter, r))
		return true;
	if (r->kind == OM_TRACE_REC_MSG)
		ri.known = om_latency_note(&t->latency, r, &ri.ns, &ri.req_type);
	if (t->summary && om_summary_add(&t->sum, r, ri.known, ri.ns, ri.req_type)) {
		fprintf(stderr, "omtrace: out of memory for the summary\n");
		return false;
	}
	if (t->pcap_f) {
		err = om_pcapng_write(&t->pcap, r);
		if (err) {
			fprintf(stderr, "omtrace: %s: %s\n", t->write_path, strerror(-err));
			return false;
		}
	}
	if (t->show_lines) {
		if (t->json)
			om_print_json(stdout, r, &ri);
		else
			om_print_text(stdout, r, &ri);
	}
	if (r->kind == OM_TRACE_REC_MSG)
		t->shown++;
	return !(t->count && t->shown >= t->count);
}

static int omtrace_live(struct omtrace *t)
{
	struct om_trace_conn c;
	struct om_trace_rec r;
	char err[300];
	int rc;

	rc = om_trace_conn_open(&c, t->sock, t->snaplen, t->buffer, t->timeout_ms, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "omtrace: %s\n", err);
		return 1;
	}
	t->opened = true;
	if (!t->quiet)
		fprintf(stderr, "omtrace: attached: %s\n", c.ok + 3);
	while (!g_stop) {
		rc = om_trace_conn_next(&c, &r, -1);
		if (rc == -EINTR)
			continue;
		if (rc <= 0)
			break;
		if (!omtrace_record(t, &r)) {
			rc = 0;
			break;
		}
		if (t->show_lines)
			fflush(stdout); /* live: each line as it comes */
	}
	om_trace_conn_close(&c);
	if (rc == 0 && !g_stop && !t->quiet && !(t->count && t->shown >= t->count))
		fprintf(stderr, "omtrace: omhostd ended the trace (it stopped)\n");
	if (rc < 0 && rc != -EINTR) {
		fprintf(stderr, "omtrace: reading the trace: %s\n",
			rc == -EPROTO ? "malformed record" : strerror(-rc));
		return 1;
	}
	return 0;
}

#define NS_PER_SEC 1000000000ull

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* One table as of now_ns: over the last one on a terminal, else after it. */
static void loads_draw(struct omtrace *t, uint64_t now_ns, bool clear)
{
	time_t sec = (time_t)(now_ns / NS_PER_SEC);
	char when[32] = "?";
	struct tm tm;

	if (localtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (clear)
		fputs("\033[H\033[2J", stdout);
	else if (t->drawn)
		fputc('\n', stdout);
	printf("omtrace --loads: %s at %s\n", t->read_path ? t->read_path : t->sock, when);
	om_loadview_draw(&t->loadview, now_ns, stdout);
	fflush(stdout);
	t->drawn++;
}

/*
 * --loads, live: records taken in as they come, a table every second of
 * the monotonic clock, drawn as of the real-time clock (the trace's).
 */
static int omtrace_loads_live(struct omtrace *t)
{
	bool clear = !t->batch && isatty(STDOUT_FILENO);
	struct om_trace_conn c;
	struct om_trace_rec r;
	uint64_t next, now;
	char err[300];
	int rc;

	rc = om_trace_conn_open(&c, t->sock, t->snaplen_given ? t->snaplen : OM_LOADS_SNAPLEN,
				t->buffer, t->timeout_ms, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "omtrace: %s\n", err);
		return 1;
	}
	t->opened = true;
	if (!t->quiet)
		fprintf(stderr, "omtrace: attached: %s\n", c.ok + 3);
	om_loadview_init(&t->loadview, clock_ns(CLOCK_REALTIME));
	next = clock_ns(CLOCK_MONOTONIC) + NS_PER_SEC;
	while (!g_stop) {
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= next) {
			loads_draw(t, clock_ns(CLOCK_REALTIME), clear);
			if (t->views && t->drawn >= t->views)
				break;
			next = next + NS_PER_SEC > now ? next + NS_PER_SEC : now + NS_PER_SEC;
			continue;
		}
		rc = om_trace_conn_next(&c, &r, (int)((next - now + 999999) / 1000000));
		if (rc == -EINTR || rc == -ETIMEDOUT)
			continue;
		if (rc <= 0)
			break;
		omtrace_record(t, &r);
	}
	om_trace_conn_close(&c);
	if (rc == 0 && !g_stop && !t->quiet)
		fprintf(stderr, "omtrace: omhostd ended the trace (it stopped)\n");
	if (rc < 0 && rc != -EINTR && rc != -ETIMEDOUT) {
		fprintf(stderr, "omtrace: reading the trace: %s\n",
			rc == -EPROTO ? "malformed record" : strerror(-rc));
		return 1;
	}
	return 0;
}

static int omtrace_file(struct omtrace *t)
{
	struct om_pcapng_reader rd;
	struct om_trace_rec r;
	char err[200];
	FILE *f = strcmp(t->read_path, "-") ? fopen(t->read_path, "rb") : stdin;
	int rc;

	if (!f) {
		fprintf(stderr, "omtrace: %s: %s\n", t->read_path, strerror(errno));
		return 1;
	}
	rc = om_pcapng_open(&rd, f, err, sizeof(err));
	t->opened = !rc;
	while (!rc && !g_stop) {
		rc = om_pcapng_next(&rd, &r, err, sizeof(err));
		if (rc <= 0)
			break;
		rc = omtrace_record(t, &r) ? 0 : 1;
	}
	if (f != stdin)
		fclose(f);
	if (rc < 0) {
		fprintf(stderr, "omtrace: %s: %s\n", t->read_path, err);
		om_pcapng_close(&rd);
		return 1;
	}
	if (rd.have_stats && !t->quiet)
		fprintf(stderr, "omtrace: the capture says: %" PRIu64 " records received, %" PRIu64
			" missed\n", rd.stats_received, rd.stats_missed);
	om_pcapng_close(&rd);
	return 0;
}

static int omtrace_open_capture(struct omtrace *t)
{
	char ifname[160];
	int err;

	t->pcap_f = strcmp(t->write_path, "-") ? fopen(t->write_path, "wb") : stdout;
	if (!t->pcap_f) {
		fprintf(stderr, "omtrace: %s: %s\n", t->write_path, strerror(errno));
		return 1;
	}
	snprintf(ifname, sizeof(ifname), "omhostd:%s", t->sock);
	err = om_pcapng_start(&t->pcap, t->pcap_f, ifname,
			      t->snaplen ? t->snaplen : VIRTIO_OM_MAX_PAYLOAD);
	if (err) {
		fprintf(stderr, "omtrace: %s: %s\n", t->write_path, strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct omtrace t; /* large (latency table): not on the stack */
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: reads end */
	char sock[108];
	int rc;

	t.snaplen = OM_TRACE_SNAPLEN_DEFAULT;
	t.buffer = OM_TRACE_BUFFER_DEFAULT;
	t.timeout_ms = 5000;
	om_filter_init(&t.filter);
	rc = parse_args(&t, argc, argv, sock, sizeof(sock));
	if (rc == 1) {
		fputs(usage, stdout);
		return 0;
	}
	if (rc)
		return 2;
	om_latency_init(&t.latency);
	om_summary_init(&t.sum);
	t.show_lines = (!t.write_path && !t.summary) || t.print;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (t.write_path && omtrace_open_capture(&t))
		return 1;
	if (t.loads && t.read_path) {
		/* The capture's clock: rates count from its first record. */
		om_loadview_init(&t.loadview, 0);
		rc = omtrace_file(&t);
		t.loadview.start_ns = t.first_ns;
		if (!rc)
			loads_draw(&t, t.last_ns, false);
	} else if (t.loads) {
		rc = omtrace_loads_live(&t);
	} else {
		rc = t.read_path ? omtrace_file(&t) : omtrace_live(&t);
	}
	if (t.pcap_f) {
		int err = om_pcapng_finish(&t.pcap, t.records, t.missed);

		if ((t.pcap_f != stdout && fclose(t.pcap_f)) || err) {
			fprintf(stderr, "omtrace: %s: %s\n", t.write_path,
				strerror(err ? -err : errno));
			rc = 1;
		}
	}
	if (t.summary)
		om_summary_print(&t.sum, stdout);
	om_summary_free(&t.sum);
	fflush(stdout);
	if (!t.quiet && t.opened && t.loads)
		fprintf(stderr, "omtrace: %" PRIu64 " messages read, %" PRIu64 " LOADs (%" PRIu64
			" malformed, %" PRIu64 " cut short), %" PRIu64 " missed\n", t.records,
			t.loadview.loads, t.loadview.malformed, t.loadview.cut, t.missed);
	else if (!t.quiet && t.opened)
		fprintf(stderr, "omtrace: %" PRIu64 " messages shown, %" PRIu64 " missed by %s%s\n",
			t.shown, t.missed, t.read_path ? "the capturing listener" : "this listener",
			t.missed ? " (it read too slowly; omhostd relayed them all the same)" : "");
	return rc;
}
