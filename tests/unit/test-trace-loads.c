// SPDX-License-Identifier: GPL-2.0-only
/*
 * omtrace --loads (host/trace/loadview.c): synthetic LOAD messages and node
 * events as a trace brings them, and the exact table drawn from them:
 * first-hand values, hearsay taken only when fresher (by more than the
 * transit it leaves out), malformed and short
 * LOADs refused whole and counted, nodes down and back, rates; and
 * omtrace --loads itself (the program, $OMTRACE) on a capture of them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "loadview.h"
#include "pcapng.h"

#define SEC 1000000000ull
#define MS 1000000ull
/* A time of the trace's clock: T0 + seconds and ms. */
#define T0 (1700000000ull * SEC)
#define AT(s, ms) (T0 + (uint64_t)(s) * SEC + (uint64_t)(ms) * MS)

struct entry {
	uint32_t node, age_ms, load, load_slow, speed, ncpus, flags, hosted, away, runnable;
	uint64_t free_kib, total_kib;
};

static unsigned char buf[VIRTIO_OM_LOAD_SIZE + 16 * VIRTIO_OM_LOAD_ENTRY_SIZE];

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A LOAD's payload of n entries, laid out as the protocol header says; its length. */
static uint32_t load_payload(uint32_t count, const struct entry *e, unsigned int n)
{
	memset(buf, 0, sizeof(buf));
	put32(buf + offsetof(struct virtio_om_load, count), count);
	for (unsigned int i = 0; i < n; i++) {
		unsigned char *p = buf + VIRTIO_OM_LOAD_SIZE + i * VIRTIO_OM_LOAD_ENTRY_SIZE;

#define PUT32(m) put32(p + offsetof(struct virtio_om_load_entry, m), e[i].m)
#define PUT64(m) put64(p + offsetof(struct virtio_om_load_entry, m), e[i].m)
		PUT32(node);
		PUT32(age_ms);
		PUT32(load);
		PUT32(load_slow);
		PUT32(speed);
		PUT32(ncpus);
		PUT64(free_kib);
		PUT64(total_kib);
		PUT32(flags);
		PUT32(hosted);
		PUT32(away);
		PUT32(runnable);
#undef PUT32
#undef PUT64
	}
	return VIRTIO_OM_LOAD_SIZE + n * VIRTIO_OM_LOAD_ENTRY_SIZE;
}

static struct om_trace_rec msg(uint64_t time_ns, uint16_t type, uint32_t src, uint32_t dst,
			       uint32_t len, uint32_t caplen)
{
	struct om_trace_rec r = { .kind = OM_TRACE_REC_MSG, .time_ns = time_ns,
				  .event = OM_TRACE_RELAYED, .caplen = caplen, .payload = buf };

	r.h.version = VIRTIO_OM_PROTOCOL_VERSION;
	r.h.type = type;
	r.h.src_node = src;
	r.h.dst_node = dst;
	r.h.len = len;
	om_msg_hdr_encode(&r.h, r.raw_hdr); /* as a capture holds it */
	return r;
}

/* Node src's LOAD of these entries (the first its own), whole, to node dst. */
static int send_load(struct om_loadview *v, uint64_t t, uint32_t src, uint32_t dst,
		     const struct entry *e, unsigned int n)
{
	uint32_t len = load_payload(n, e, n);
	struct om_trace_rec r = msg(t, VIRTIO_OM_T_LOAD, src, dst, len, len);

	return om_loadview_add(v, &r);
}

static void node_event(struct om_loadview *v, uint64_t t, uint16_t type, uint32_t node,
		       uint32_t dst)
{
	struct om_trace_rec r;

	memset(buf, 0, sizeof(buf));
	put32(buf, node);
	put32(buf + 4, type == VIRTIO_OM_T_NODE_UP ? VIRTIO_OM_NODE_JOINED
						   : VIRTIO_OM_NODE_DISCONNECTED);
	r = msg(t, type, 0, dst, VIRTIO_OM_NODE_EVENT_SIZE, VIRTIO_OM_NODE_EVENT_SIZE);
	assert_int_equal(om_loadview_add(v, &r), 0);
}

/* The table as drawn at now. */
static char *draw(const struct om_loadview *v, uint64_t now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	om_loadview_draw(v, now, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void assert_table(const struct om_loadview *v, uint64_t now, const char *expected)
{
	char *text = draw(v, now);

	if (strcmp(text, expected))
		fprintf(stderr, "drawn:\n%s\nexpected:\n%s\n", text, expected);
	assert_string_equal(text, expected);
	free(text);
}

#define HEADER                                                                            \
	"NODE    LOAD   SLOW  RUN CPUS  SPEED  FREE/TOTAL MiB HOSTED  AWAY     AGE LOAD/S FROM  " \
	"   STATE\n"

/* Node n's own values: load and slow load x 1000, the rest plain. */
static struct entry own(uint32_t n, uint32_t load, uint32_t slow)
{
	return (struct entry){ .node = n, .load = load, .load_slow = slow, .speed = 10000,
			       .ncpus = 2, .free_kib = 400 * 1024, .total_kib = 512 * 1024,
			       .flags = VIRTIO_OM_LOAD_F_BALANCING };
}

static struct om_loadview *new_view(uint64_t start)
{
	struct om_loadview *v = malloc(sizeof(*v));

	assert_non_null(v);
	om_loadview_init(v, start);
	return v;
}

static void first_hand_values(void **state)
{
	struct om_loadview *v = new_view(AT(0, 0));
	struct entry e1 = own(1, 2150, 1250), e3 = own(3, 125, 19);

	(void)state;
	assert_table(v, AT(0, 500), "0 nodes, 0 down; - LOADs/s, 0 LOADs, 0 malformed, "
				    "0 cut short, 0 messages missed\n" HEADER);
	e1.hosted = 2;
	e1.runnable = 3;
	e1.flags |= VIRTIO_OM_LOAD_F_BLOCKED;
	e3.away = 4;
	e3.speed = 20000;
	e3.ncpus = 16;
	e3.free_kib = 1536 * 1024 + 1023; /* MiB shown whole, rounded down */
	e3.total_kib = 16000 * 1024;
	e3.flags = 0;
	assert_int_equal(send_load(v, AT(0, 200), 1, 2, &e1, 1), 0);
	assert_int_equal(send_load(v, AT(1, 300), 3, 1, &e3, 1), 0);
	assert_int_equal(send_load(v, AT(1, 400), 1, 3, &e1, 1), 0);
	/* A later value replaces the earlier. */
	e1.load = 1994;
	e1.load_slow = 5;
	assert_int_equal(send_load(v, AT(2, 100), 1, 3, &e1, 1), 0);
	/* Rates over the whole seconds since the view began, 0 to 2: 3 and 1 LOADs. */
	assert_table(v, AT(3, 0),
		     "2 nodes, 0 down; 1.3 LOADs/s, 4 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "1       1.99   0.01    3    2  10000         400/512      2     0    0.9s    1.0 self "
		     "    balancing,blocked\n"
		     "3       0.13   0.02    0   16  20000      1536/16000      0     4    1.7s    0.3 self "
		     "    still\n");
	free(v);
}

static void hearsay_only_when_fresher(void **state)
{
	struct om_loadview *v = new_view(AT(0, 0));
	struct entry e[3] = { own(2, 1000, 1000), own(3, 3000, 3000), own(1, 500, 500) };

	(void)state;
	/* Node 2 passes on node 3's values of 0.5 s before: 3 is known through 2. */
	e[1].age_ms = 500;
	assert_int_equal(send_load(v, AT(10, 0), 2, 1, e, 2), 0);
	assert_table(v, AT(10, 0),
		     "2 nodes, 0 down; 0.0 LOADs/s, 1 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "2       1.00   1.00    0    2  10000         400/512      0     0    0.0s    0.0 self "
		     "    balancing\n"
		     "3       3.00   3.00    0    2  10000         400/512      0     0    0.5s    0.0 via 2"
		     "    balancing\n");
	/* Node 3 speaks for itself: its own values, newer. */
	e[1] = own(3, 2000, 2000);
	assert_int_equal(send_load(v, AT(10, 200), 3, 2, &e[1], 1), 0);
	/* Hearsay older than that (10.25 s less 100 ms) is not taken, however late it comes. */
	e[0] = own(1, 500, 500);
	e[1] = own(3, 7000, 7000);
	e[1].age_ms = 100;
	assert_int_equal(send_load(v, AT(10, 250), 1, 2, e, 2), 0);
	/* Nor hearsay of the very time already known. */
	e[1].age_ms = 50;
	assert_int_equal(send_load(v, AT(10, 250), 1, 2, e, 2), 0);
	/* Out of order: node 2 passes on, late, what node 1 said before 10.25 s. */
	e[0] = own(2, 1000, 1000);
	e[1] = own(1, 9000, 9000);
	e[1].age_ms = 900;
	assert_int_equal(send_load(v, AT(11, 0), 2, 3, e, 2), 0);
	assert_table(v, AT(11, 0),
		     "3 nodes, 0 down; 0.4 LOADs/s, 5 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "1       0.50   0.50    0    2  10000         400/512      0     0    0.7s    0.2 self "
		     "    balancing\n"
		     "2       1.00   1.00    0    2  10000         400/512      0     0    0.0s    0.1 self "
		     "    balancing\n"
		     "3       2.00   2.00    0    2  10000         400/512      0     0    0.8s    0.1 self "
		     "    balancing\n");
	/* Node 3 speaks again at 11.1 s. */
	e[0] = own(3, 2000, 2000);
	assert_int_equal(send_load(v, AT(11, 100), 3, 1, e, 1), 0);
	/*
	 * Node 1 passes that on as of 11.3 s (its ages leave out the transit):
	 * younger by less than half a second is the same LOAD, not taken; nor
	 * node 2's of 10.9 s, older than its own of 11.0 s.
	 */
	e[0] = own(1, 500, 500);
	e[1] = own(3, 7000, 7000);
	e[1].age_ms = 200;
	e[2] = own(2, 1500, 1500);
	e[2].age_ms = 600;
	assert_int_equal(send_load(v, AT(11, 500), 1, 2, e, 3), 0);
	assert_table(v, AT(11, 600),
		     "3 nodes, 0 down; 0.4 LOADs/s, 7 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "1       0.50   0.50    0    2  10000         400/512      0     0    0.1s    0.2 self "
		     "    balancing\n"
		     "2       1.00   1.00    0    2  10000         400/512      0     0    0.6s    0.1 self "
		     "    balancing\n"
		     "3       2.00   2.00    0    2  10000         400/512      0     0    0.5s    0.1 self "
		     "    balancing\n");
	/* Node 3's of 11.8 s is news (its own of then was missed): taken. */
	e[1] = own(3, 4000, 4000);
	e[1].age_ms = 100;
	assert_int_equal(send_load(v, AT(11, 900), 1, 2, e, 2), 0);
	assert_table(v, AT(12, 0),
		     "3 nodes, 0 down; 0.8 LOADs/s, 8 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "1       0.50   0.50    0    2  10000         400/512      0     0    0.1s    0.4 self "
		     "    balancing\n"
		     "2       1.00   1.00    0    2  10000         400/512      0     0    1.0s    0.2 self "
		     "    balancing\n"
		     "3       4.00   4.00    0    2  10000         400/512      0     0    0.2s    0.2 via 1"
		     "    balancing\n");
	free(v);
}

/* Each of these is refused whole: nothing it holds is taken. */
static void malformed_loads_are_counted(void **state)
{
	struct om_loadview *v = new_view(AT(0, 0));
	struct entry e[9];
	struct om_trace_rec r;
	uint32_t len;

	(void)state;
	e[0] = own(1, 1000, 1000);
	assert_int_equal(send_load(v, AT(0, 100), 1, 2, e, 1), 0);
	for (unsigned int i = 0; i < 9; i++)
		e[i] = own(i + 1, 5000, 5000);
	e[1].age_ms = 10;

	/* count 0, and 9 (more than the header allows), each with a length to match */
	len = load_payload(0, e, 0);
	r = msg(AT(1, 0), VIRTIO_OM_T_LOAD, 1, 2, len, len);
	assert_int_equal(om_loadview_add(v, &r), -EPROTO);
	len = load_payload(9, e, 9);
	r = msg(AT(1, 0), VIRTIO_OM_T_LOAD, 1, 2, len, len);
	assert_int_equal(om_loadview_add(v, &r), -EPROTO);
	/* a count the length does not carry: short, and long */
	len = load_payload(3, e, 2);
	r = msg(AT(1, 0), VIRTIO_OM_T_LOAD, 1, 2, len, len);
	assert_int_equal(om_loadview_add(v, &r), -EPROTO);
	len = load_payload(1, e, 2);
	r = msg(AT(1, 0), VIRTIO_OM_T_LOAD, 1, 2, len, len);
	assert_int_equal(om_loadview_add(v, &r), -EPROTO);
	/* shorter than the LOAD's own header */
	load_payload(1, e, 1);
	r = msg(AT(1, 0), VIRTIO_OM_T_LOAD, 1, 2, 4, 4);
	assert_int_equal(om_loadview_add(v, &r), -EPROTO);
	/* the reserved word set */
	len = load_payload(2, e, 2);
	put32(buf + offsetof(struct virtio_om_load, reserved), 1);
	r = msg(AT(1, 0), VIRTIO_OM_T_LOAD, 1, 2, len, len);
	assert_int_equal(om_loadview_add(v, &r), -EPROTO);
	/* first entry not the sender's; the sender's own aged; the sender as hearsay */
	assert_int_equal(send_load(v, AT(1, 0), 2, 1, e, 2), -EPROTO);
	e[0].age_ms = 5;
	assert_int_equal(send_load(v, AT(1, 0), 1, 2, e, 2), -EPROTO);
	e[0].age_ms = 0;
	e[1].node = 1;
	assert_int_equal(send_load(v, AT(1, 0), 1, 2, e, 2), -EPROTO);
	e[1].node = 2;
	/* a good first entry, then one of nonsense: node 0, past the last, no CPUs,
	 * speed 0, flags unknown, more free than total, more runnable than pids,
	 * CPUs and speed past the header's bounds */
	for (unsigned int k = 0; k < 9; k++) {
		struct entry bad = e[1];

		if (k == 0)
			bad.node = 0;
		if (k == 1)
			bad.node = VIRTIO_OM_MAX_NODES + 1;
		if (k == 2)
			bad.ncpus = 0;
		if (k == 3)
			bad.speed = 0;
		if (k == 4)
			bad.flags = 0x4;
		if (k == 5)
			bad.free_kib = bad.total_kib + 1;
		if (k == 6)
			bad.runnable = VIRTIO_OM_LOAD_MAX_RUNNABLE + 1;
		if (k == 7)
			bad.ncpus = VIRTIO_OM_LOAD_MAX_CPUS + 1;
		if (k == 8)
			bad.speed = VIRTIO_OM_LOAD_MAX_SPEED + 1;
		e[2] = bad;
		assert_int_equal(send_load(v, AT(1, 0), 1, 3, e, 3), -EPROTO);
	}
	/* A whole LOAD captured short (a capture's snap length): counted, not read. */
	e[2] = own(3, 5000, 5000);
	e[2].age_ms = 10;
	len = load_payload(3, e, 3);
	r = msg(AT(1, 0), VIRTIO_OM_T_LOAD, 1, 2, len, 128);
	assert_int_equal(om_loadview_add(v, &r), -EMSGSIZE);
	/* Missed messages are counted too. */
	r = (struct om_trace_rec){ .kind = OM_TRACE_REC_MISSED, .missed = 7, .missed_total = 7 };
	assert_int_equal(om_loadview_add(v, &r), 0);
	/* Only the first, good LOAD was read: node 1 at 1.00, nothing of 2 or 3. */
	assert_table(v, AT(2, 0),
		     "1 nodes, 0 down; 10.0 LOADs/s, 20 LOADs, 18 malformed, 1 cut short, "
		     "7 messages missed\n" HEADER
		     "1       1.00   1.00    0    2  10000         400/512      0     0    1.9s    9.5 self "
		     "    balancing\n");
	free(v);
}

static void nodes_down_and_back(void **state)
{
	struct om_loadview *v = new_view(AT(0, 0));
	struct entry e[2] = { own(1, 1000, 1000), own(2, 2000, 2000) };

	(void)state;
	assert_int_equal(send_load(v, AT(5, 0), 2, 1, &e[1], 1), 0);
	assert_int_equal(send_load(v, AT(5, 100), 1, 2, e, 1), 0);
	/* Node 2 goes away: the relay tells node 1 (and every other node). */
	node_event(v, AT(5, 500), VIRTIO_OM_T_NODE_DOWN, 2, 1);
	node_event(v, AT(5, 501), VIRTIO_OM_T_NODE_DOWN, 2, 3);
	/* Node 1 still passes on 2's last values, made to look younger: not taken. */
	e[1].age_ms = 0;
	e[1].load = 8000;
	assert_int_equal(send_load(v, AT(5, 600), 1, 3, e, 2), 0);
	assert_table(v, AT(6, 0),
		     "2 nodes, 1 down; 0.5 LOADs/s, 3 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "1       1.00   1.00    0    2  10000         400/512      0     0    0.4s    0.3 self "
		     "    balancing\n"
		     "2       2.00   2.00    0    2  10000         400/512      0     0    1.0s    0.2 self "
		     "    down\n");
	/* It comes back: nothing known of it until it speaks; what it said before is old news. */
	node_event(v, AT(8, 0), VIRTIO_OM_T_NODE_UP, 2, 1);
	/* and is told node 1 is up: node 1 goes on as it was. */
	node_event(v, AT(8, 0), VIRTIO_OM_T_NODE_UP, 1, 2);
	assert_table(v, AT(8, 50),
		     "2 nodes, 0 down; 0.4 LOADs/s, 3 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "1       1.00   1.00    0    2  10000         400/512      0     0    2.4s    0.3 self "
		     "    balancing\n"
		     "2          -      -    -    -      -               -      -     -       -    0.1 -    "
		     "    joined\n");
	e[1].age_ms = 2000;
	assert_int_equal(send_load(v, AT(8, 100), 1, 3, e, 2), 0);
	assert_table(v, AT(8, 200),
		     "2 nodes, 0 down; 0.4 LOADs/s, 4 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "1       1.00   1.00    0    2  10000         400/512      0     0    0.1s    0.3 self "
		     "    balancing\n"
		     "2          -      -    -    -      -               -      -     -       -    0.1 -    "
		     "    joined\n");
	/* Hearsay of after its return is news. */
	e[1].age_ms = 50;
	e[1].load = 300;
	assert_int_equal(send_load(v, AT(8, 300), 1, 3, e, 2), 0);
	assert_table(v, AT(8, 400),
		     "2 nodes, 0 down; 0.4 LOADs/s, 5 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "1       1.00   1.00    0    2  10000         400/512      0     0    0.1s    0.3 self "
		     "    balancing\n"
		     "2       0.30   2.00    0    2  10000         400/512      0     0    0.1s    0.1 via 1"
		     "    balancing\n");
	free(v);
}

/* LOADs a second: over the last 10 whole seconds, none before the view's start. */
static void rates_over_whole_seconds(void **state)
{
	struct om_loadview *v = new_view(AT(0, 400));
	struct entry e = own(4, 100, 100);
	unsigned int s;

	(void)state;
	/* Before the first whole second: no rate. */
	assert_int_equal(send_load(v, AT(0, 500), 4, 1, &e, 1), 0);
	assert_table(v, AT(0, 900),
		     "1 nodes, 0 down; - LOADs/s, 1 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "4       0.10   0.10    0    2  10000         400/512      0     0    0.4s      - self "
		     "    balancing\n");
	/* Seconds 1 to 4 (the view began in second 0): 4 LOADs in 4 s. */
	for (s = 1; s < 5; s++)
		assert_int_equal(send_load(v, AT(s, 500), 4, 1, &e, 1), 0);
	assert_table(v, AT(5, 0),
		     "1 nodes, 0 down; 1.0 LOADs/s, 5 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "4       0.10   0.10    0    2  10000         400/512      0     0    0.5s    1.0 self "
		     "    balancing\n");
	/* Seconds 20 to 29: 11 in 10 s. */
	for (s = 5; s < 30; s++)
		assert_int_equal(send_load(v, AT(s, 500), 4, 1, &e, 1), 0);
	assert_int_equal(send_load(v, AT(29, 900), 4, 2, &e, 1), 0);
	assert_table(v, AT(30, 100),
		     "1 nodes, 0 down; 1.1 LOADs/s, 31 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "4       0.10   0.10    0    2  10000         400/512      0     0    0.2s    1.1 self "
		     "    balancing\n");
	/* Quiet since: seconds 31 to 40 hold none. */
	assert_table(v, AT(41, 0),
		     "1 nodes, 0 down; 0.0 LOADs/s, 31 LOADs, 0 malformed, 0 cut short, "
		     "0 messages missed\n" HEADER
		     "4       0.10   0.10    0    2  10000         400/512      0     0   11.1s    0.0 self "
		     "    balancing\n");
	free(v);
}

/* What a command printed on stdout, and its exit status. */
static char *run(const char *cmd, int *status)
{
	static char out[8192];
	FILE *p = popen(cmd, "r");
	size_t n;

	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	*status = pclose(p);
	return out;
}

static void write_rec(struct om_pcapng_writer *w, struct om_trace_rec r)
{
	assert_int_equal(om_pcapng_write(w, &r), 0);
}

/* The program: a capture's LOADs through -r, the table as of its last record. */
static void omtrace_draws_a_capture(void **state)
{
	const char *omtrace = getenv("OMTRACE");
	char path[] = "/tmp/om-trace-loads.XXXXXX", cmd[512], want[2048];
	struct entry e[2] = { own(1, 1000, 1000), own(2, 2000, 2000) };
	struct om_pcapng_writer w;
	uint32_t len;
	int fd = mkstemp(path), status;
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;

	(void)state;
	assert_non_null(omtrace); /* meson's test() sets it */
	assert_non_null(f);
	assert_int_equal(om_pcapng_start(&w, f, "test", VIRTIO_OM_MAX_PAYLOAD), 0);
	len = load_payload(1, e, 1);
	write_rec(&w, msg(AT(0, 100), VIRTIO_OM_T_LOAD, 1, 2, len, len));
	e[0] = own(2, 2000, 2000);
	e[1] = own(3, 3000, 3000);
	e[1].age_ms = 300;
	len = load_payload(2, e, 2);
	write_rec(&w, msg(AT(1, 200), VIRTIO_OM_T_LOAD, 2, 1, len, len));
	len = load_payload(0, e, 0);
	write_rec(&w, msg(AT(1, 300), VIRTIO_OM_T_LOAD, 3, 1, len, len));
	memset(buf, 0, sizeof(buf));
	put32(buf, 1);
	put32(buf + 4, VIRTIO_OM_NODE_DISCONNECTED);
	write_rec(&w, msg(AT(2, 0), VIRTIO_OM_T_NODE_DOWN, 0, 2, VIRTIO_OM_NODE_EVENT_SIZE,
			  VIRTIO_OM_NODE_EVENT_SIZE));
	e[0].load = 2500;
	len = load_payload(1, e, 1);
	write_rec(&w, msg(AT(2, 500), VIRTIO_OM_T_LOAD, 2, 3, len, len));
	assert_int_equal(om_pcapng_finish(&w, 5, 0), 0);
	assert_int_equal(fclose(f), 0);

	snprintf(cmd, sizeof(cmd), "TZ=UTC '%s' -q -r '%s' --loads", omtrace, path);
	snprintf(want, sizeof(want),
		 "omtrace --loads: %s at 2023-11-14 22:13:22\n"
		 "3 nodes, 1 down; 2.0 LOADs/s, 4 LOADs, 1 malformed, 0 cut short, "
		 "0 messages missed\n" HEADER
		 "1       1.00   1.00    0    2  10000         400/512      0     0    2.4s    0.0 self "
		 "    down\n"
		 "2       2.50   2.00    0    2  10000         400/512      0     0    0.0s    1.0 self "
		 "    balancing\n"
		 "3       3.00   3.00    0    2  10000         400/512      0     0    1.6s    1.0 via 2"
		 "    balancing\n", path);
	assert_string_equal(run(cmd, &status), want);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* What shapes message lines has no place with it: usage errors. */
	snprintf(cmd, sizeof(cmd), "'%s' -r '%s' --loads --json 2>/dev/null", omtrace, path);
	run(cmd, &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	snprintf(cmd, sizeof(cmd), "'%s' -r '%s' --loads --type LOAD 2>/dev/null", omtrace, path);
	run(cmd, &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	snprintf(cmd, sizeof(cmd), "'%s' -r '%s' -n 2 2>/dev/null", omtrace, path);
	run(cmd, &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_hand_values),
		cmocka_unit_test(hearsay_only_when_fresher),
		cmocka_unit_test(malformed_loads_are_counted),
		cmocka_unit_test(nodes_down_and_back),
		cmocka_unit_test(rates_over_whole_seconds),
		cmocka_unit_test(omtrace_draws_a_capture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
