// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostd as a process against hostile front-ends (tests/support/hostd-fixture):
 * malformed vhost-user messages, memory tables and fds, hostile rings in real
 * shared memory, and a front-end that stops mid-message or takes no reply.
 * Each is evicted for the rule it broke (the log line names it), the others
 * go on, and nothing is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostd-fixture.h"

/* ------------------------------------------------------------------ */
/* 7. Hostile vhost-user messages                                      */

static void bad_queue_index(struct vuf *f)
{
	struct vuf_vring_state s = { 7, 256 };

	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
}

static void ring_size_not_a_power_of_two(struct vuf *f)
{
	struct vuf_vring_state s = { VUF_TX, 100 };

	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
}

/* A descriptor table that starts in guest memory and runs past its end. */
static void ring_outside_memory(struct vuf *f)
{
	struct vuf_vring_state s = { VUF_RX, 256 };
	struct vuf_vq_view v;
	struct vuf_vring_addr a;
	uint64_t size;
	void *p;

	assert_int_equal(vuf_vq_view(f, VUF_RX, &v), 0);
	assert_int_equal(vuf_region(f, 0, NULL, &size, &p), 0);
	a = (struct vuf_vring_addr){ VUF_RX, 0, (uint64_t)(uintptr_t)p + size - 16,
				     (uint64_t)(uintptr_t)v.used, (uint64_t)(uintptr_t)v.avail, 0 };
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0));
}

/* libvhost-user answers VHOST_USER_NONE with exit(0). */
static void request_none(struct vuf *f)
{
	send_ok(vuf_send_raw(f, 0, NULL, 0, NULL, 0));
}

static void protocol_features_not_offered(struct vuf *f)
{
	uint64_t v = PF_OFFERED | VUF_BIT(VUF_PF_SLAVE_REQ);

	send_ok(vuf_send_raw(f, VUF_REQ_SET_PROTOCOL_FEATURES, &v, sizeof(v), NULL, 0));
}

static void config_write(struct vuf *f)
{
	struct vuf_config_msg c = { .offset = 0, .size = sizeof(struct virtio_om_config) };
	struct virtio_om_config cfg = { .node_id = htole32(2), .max_payload = htole32(1) };

	memcpy(c.payload, &cfg, sizeof(cfg));
	send_ok(vuf_send_raw(f, VUF_REQ_SET_CONFIG, &c, VUF_CONFIG_HDR_SIZE + sizeof(cfg), NULL,
			     0));
}

/* A memfd of size bytes (sparse) with seals, as QEMU's memory-backend-memfd makes. */
static int test_memfd(uint64_t size, unsigned int seals)
{
	int fd = memfd_create("omhf-mem", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

#define QEMU_SEALS (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

/* SET_MEM_TABLE of one region at f's region 0 addresses: size bytes of fd from offset. */
static void send_table(struct vuf *f, int fd, uint64_t offset, uint64_t size)
{
	struct vuf_mem_table t = { .nregions = 1 };
	uint64_t gpa;
	void *p;

	assert_int_equal(vuf_region(f, 0, &gpa, NULL, &p), 0);
	t.regions[0] = (struct vuf_mem_region){ .gpa = gpa, .size = size,
						.uva = (uint64_t)(uintptr_t)p,
						.mmap_offset = offset };
	send_ok(vuf_send_raw(f, VUF_REQ_SET_MEM_TABLE, &t, 8 + sizeof(t.regions[0]), &fd, 1));
}

/* f's own memory table again, region 0 only, cut to size bytes. */
static void send_own_table(struct vuf *f, uint64_t size)
{
	uint64_t offset;
	int fd = vuf_region_fd(f, 0, &offset);

	assert_true(fd >= 0);
	send_table(f, fd, offset, size);
}

/*
 * Rx ring of num entries: descriptors and avail at the start of region 0,
 * its used ring at byte used_off of it.
 */
static void send_rx_ring(struct vuf *f, uint32_t num, uint64_t used_off)
{
	struct vuf_vring_state s = { VUF_RX, num };
	struct vuf_vring_addr a;
	char *p;

	assert_int_equal(vuf_region(f, 0, NULL, NULL, (void **)&p), 0);
	a = (struct vuf_vring_addr){ VUF_RX, 0, (uint64_t)(uintptr_t)p,
				     (uint64_t)(uintptr_t)(p + used_off),
				     (uint64_t)(uintptr_t)(p + 16 * num), 0 };
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0));
}

#define USED_BYTES(num) (6u + 8u * (num))

/* A ring that fits, its used ring at the very end of memory; then 32768 entries. */
static void ring_grown_past_memory(struct vuf *f)
{
	struct vuf_vring_state s = { VUF_RX, 32768 };
	uint64_t size;

	assert_int_equal(vuf_region(f, 0, NULL, &size, NULL), 0);
	send_own_table(f, size);
	send_rx_ring(f, 256, (size - USED_BYTES(256)) & ~3ull);
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
}

/* A ring that fits; then a memory table where its used ring starts but does not end. */
static void memory_shrunk_under_a_ring(struct vuf *f)
{
	uint64_t size;

	assert_int_equal(vuf_region(f, 0, NULL, &size, NULL), 0);
	send_own_table(f, size);
	send_rx_ring(f, 256, size - 8192);
	send_own_table(f, size - 8192 + USED_BYTES(256) / 2);
}

/* Mapping all of it would raise SIGBUS in omhostd when touched. */
static void mem_table_file_too_short(struct vuf *f)
{
	int fd = test_memfd(1 << 20, QEMU_SEALS);

	send_table(f, fd, 0, 2 << 20);
	close(fd);
}

/* Long enough now, but it could be cut short later (SIGBUS). */
static void mem_table_file_not_sealed(struct vuf *f)
{
	int fd = test_memfd(4 << 20, F_SEAL_GROW);

	send_table(f, fd, 0, 4 << 20);
	close(fd);
}

static void mem_table_not_a_file(struct vuf *f)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	send_table(f, p[0], 0, 4 << 20);
	close(p[0]);
	close(p[1]);
}

/* 128 GiB (sparse): more than omhostd maps for one node. */
static void mem_table_too_large(struct vuf *f)
{
	int fd = test_memfd(128ull << 30, QEMU_SEALS);

	send_table(f, fd, 0, 128ull << 30);
	close(fd);
}

/*
 * A file that passes every check but cannot be mapped writable (opened
 * read-only); 4 GiB of it: a stale mapping unmapped with that size would
 * take much of omhostd's address space with it.
 */
static void mem_table_mapping_fails(struct vuf *f)
{
	char path[64];
	int fd = test_memfd(4ull << 30, QEMU_SEALS), ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	send_table(f, ro, 0, 4ull << 30);
	close(ro);
	close(fd);
}

static void payload_bigger_than_any(struct vuf *f)
{
	struct vuf_msg_hdr h = { VUF_REQ_GET_FEATURES, VUF_MSG_VERSION, 1u << 16 };

	send_ok(vuf_send_raw_hdr(f, &h, NULL, 0, NULL, 0));
}

static void payload_cut_short_then_eof(struct vuf *f)
{
	struct vuf_msg_hdr h = { VUF_REQ_SET_VRING_NUM, VUF_MSG_VERSION, 8 };
	uint32_t half = VUF_TX;

	send_ok(vuf_send_raw_hdr(f, &h, &half, sizeof(half), NULL, 0));
	vuf_disconnect(f);
}

static void header_cut_short_then_eof(struct vuf *f)
{
	struct vuf_msg_hdr h = { VUF_REQ_GET_FEATURES, VUF_MSG_VERSION, 0 };

	send_ok(vuf_send_bytes(f, &h, 6, NULL, 0));
	vuf_disconnect(f);
}

/* An fd with a request that takes none: it would stay open in omhostd. */
static void fd_with_get_features(struct vuf *f)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	assert_true(fd >= 0);
	send_ok(vuf_send_raw(f, VUF_REQ_GET_FEATURES, NULL, 0, &fd, 1));
	close(fd);
}

/* Request req for ring q with one end of a pipe (end 0: read, 1: write) for its eventfd. */
static void ring_fd_a_pipe(struct vuf *f, uint32_t req, uint64_t q, int end)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	send_ok(vuf_send_raw(f, req, &q, sizeof(q), &p[end], 1));
	close(p[0]);
	close(p[1]);
}

/* A call "eventfd" that is a pipe: omhostd would write into a pipe no one reads. */
static void call_fd_a_pipe(struct vuf *f)
{
	ring_fd_a_pipe(f, VUF_REQ_SET_VRING_CALL, VUF_TX, 1);
}

/* A kick "eventfd" that is a pipe: omhostd would read it as 8-byte counts. */
static void kick_fd_a_pipe(struct vuf *f)
{
	ring_fd_a_pipe(f, VUF_REQ_SET_VRING_KICK, VUF_RX, 0);
}

static void kick_nofd_with_an_fd(struct vuf *f)
{
	uint64_t q = VUF_RX | VUF_VRING_NOFD;
	int fd = eventfd(0, EFD_CLOEXEC);

	assert_true(fd >= 0);
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_KICK, &q, sizeof(q), &fd, 1));
	close(fd);
}

static const struct hostile {
	const char *name;
	void (*send)(struct vuf *f);
	bool closes;	 /* the front-end hangs up itself */
	const char *why; /* in the eviction omhostd logs: the rule that fired */
} hostiles[] = {
	{ "SET_VRING_NUM for queue 7", bad_queue_index, false,
	  "refused vhost-user request 8 (VHOST_USER_SET_VRING_NUM)" },
	{ "SET_VRING_NUM of 100", ring_size_not_a_power_of_two, false,
	  "SET_VRING_NUM: 100 entries, not a power of two" },
	{ "SET_VRING_ADDR outside the memory table", ring_outside_memory, false,
	  "SET_VRING_ADDR: queue 0's ring of 256 entries does not lie in guest memory" },
	{ "SET_VRING_NUM growing a ring past the end of memory", ring_grown_past_memory, false,
	  "SET_VRING_NUM: queue 0's ring of 32768 entries does not lie in guest memory" },
	{ "SET_MEM_TABLE cutting a ring short", memory_shrunk_under_a_ring, false,
	  "SET_MEM_TABLE: queue 0's ring no longer lies in guest memory" },
	{ "request 0 (VHOST_USER_NONE)", request_none, false,
	  "refused vhost-user request 0 (VHOST_USER_NONE)" },
	{ "request 999", request_unknown, false, "refused vhost-user request 999" },
	{ "SET_PROTOCOL_FEATURES not offered", protocol_features_not_offered, false,
	  "refused vhost-user request 16 (VHOST_USER_SET_PROTOCOL_FEATURES)" },
	{ "SET_CONFIG", config_write, false, "of read-only config" },
	{ "SET_MEM_TABLE with a short memfd", mem_table_file_too_short, false,
	  "SET_MEM_TABLE: region 0: file shorter than the mapping" },
	{ "SET_MEM_TABLE with a memfd not sealed", mem_table_file_not_sealed, false,
	  "SET_MEM_TABLE: region 0: file not sealed against shrinking" },
	{ "SET_MEM_TABLE with a pipe", mem_table_not_a_file, false,
	  "SET_MEM_TABLE: region 0: not a regular file" },
	{ "SET_MEM_TABLE of 128 GiB", mem_table_too_large, false,
	  "SET_MEM_TABLE: region 0: more guest memory than omhostd maps" },
	{ "SET_MEM_TABLE that cannot be mapped", mem_table_mapping_fails, false,
	  "SET_MEM_TABLE: region 0: cannot map it" },
	{ "GET_FEATURES with an fd", fd_with_get_features, false,
	  "VHOST_USER_GET_FEATURES): fds with a request that takes none (1 fds)" },
	{ "SET_VRING_CALL with a pipe", call_fd_a_pipe, false,
	  "VHOST_USER_SET_VRING_CALL): an fd that is not an eventfd" },
	{ "SET_VRING_KICK with a pipe", kick_fd_a_pipe, false,
	  "VHOST_USER_SET_VRING_KICK): an fd that is not an eventfd" },
	{ "SET_VRING_KICK with the no-fd flag and an fd", kick_nofd_with_an_fd, false,
	  "VHOST_USER_SET_VRING_KICK): an fd with the no-fd flag" },
	{ "a payload bigger than any", payload_bigger_than_any, false,
	  "payload larger than any request's" },
	{ "a payload cut short, then EOF", payload_cut_short_then_eof, true, "payload cut short" },
	{ "a header cut short, then EOF", header_cut_short_then_eof, true, "header cut short" },
};

/*
 * A front-end on node 3 sends c, before its handshake or once up: it is
 * disconnected and evicted; its peers hear NODE_DOWN EVICTED if it was up,
 * nothing otherwise; omhostd goes on serving nodes 1 and 2.
 */
static void hostile_one(struct fx *fx, const struct hostile *c, bool up)
{
	struct vuf_opts small = fe_default_opts();
	struct nstat before, after;
	long mark;

	print_message("hostile front-end: %s, %s\n", c->name,
		      up ? "once up" : "before the handshake");
	small.region_size = 4u << 20;
	small.rx_bufs = 4;
	small.tx_slots = 4;
	get_nstat(fx, 3, &before);
	if (up) {
		fe_up(fx, 3, &small);
		expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
		expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	} else {
		fe_open(fx, 3, &small);
		wait_state(fx, 3, "connected");
	}
	mark = log_mark(fx);
	c->send(fx->f[3]);
	if (!c->closes)
		assert_int_equal(vuf_wait_disconnect(fx->f[3], FE_TIMEOUT_MS), 0);
	fe_drop(fx, 3);
	wait_state(fx, 3, "absent");
	expect_evicted_for(fx, mark, 3, c->why);
	get_nstat(fx, 3, &after);
	assert_int_equal(after.connects, before.connects + 1);
	assert_int_equal(after.disconnects, before.disconnects + 1);
	assert_int_equal(after.evictions, before.evictions + 1);
	if (up) {
		expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_EVICTED);
		expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_EVICTED);
	}
	/* Nothing else came, and the others are served. */
	check_relay(fx, 1, 2, 100);
	check_relay(fx, 2, 1, 100);
	hostd_alive(fx);
}

static void hostile_vhost_user_messages(void **state)
{
	struct fx *fx = *state;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	for (size_t i = 0; i < sizeof(hostiles) / sizeof(hostiles[0]); i++) {
		hostile_one(fx, &hostiles[i], false);
		hostile_one(fx, &hostiles[i], true);
	}
	for (uint32_t n = 1; n <= 2; n++) {
		struct nstat s;

		get_nstat(fx, n, &s);
		assert_string_equal(s.state, "up");
		assert_int_equal(s.connects, 1);
		assert_int_equal(s.evictions, 0);
	}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 8. Hostile rings, through real shared memory                       */

/* A valid header (to node 2, no payload) in guest memory. */
static uint64_t guest_hdr(struct vuf *f)
{
	struct virtio_om_hdr h = { .version = htole16(VIRTIO_OM_PROTOCOL_VERSION),
				   .type = htole16(VIRTIO_OM_T_TEST_DATA),
				   .dst_node = htole32(2), .seq = htole64(1) };
	uint64_t gpa;
	void *p = vuf_alloc(f, sizeof(h), 64, &gpa);

	assert_non_null(p);
	memcpy(p, &h, sizeof(h));
	return gpa;
}

static void publish(struct vuf *f, uint16_t head)
{
	assert_int_equal(vuf_vq_publish_raw(f, VUF_TX, head), 0);
	assert_int_equal(vuf_vq_kick(f, VUF_TX), 0);
}

static void looped_chain(struct vuf *f)
{
	uint64_t gpa = guest_hdr(f);
	struct vuf_vq_view v;
	uint16_t id[2];

	assert_int_equal(vuf_vq_reserve(f, VUF_TX, 2, id), 0);
	assert_int_equal(vuf_vq_view(f, VUF_TX, &v), 0);
	v.desc[id[0]] = (struct vring_desc){ htole64(gpa), htole32(24), htole16(VRING_DESC_F_NEXT),
					     htole16(id[1]) };
	v.desc[id[1]] = (struct vring_desc){ htole64(gpa + 24), htole32(24),
					     htole16(VRING_DESC_F_NEXT), htole16(id[0]) };
	publish(f, id[0]);
}

static void descriptor_outside_memory(struct vuf *f)
{
	struct vuf_vq_view v;
	uint64_t gpa, size;
	uint16_t id;

	assert_int_equal(vuf_region(f, 0, &gpa, &size, NULL), 0);
	assert_int_equal(vuf_vq_reserve(f, VUF_TX, 1, &id), 0);
	assert_int_equal(vuf_vq_view(f, VUF_TX, &v), 0);
	v.desc[id] = (struct vring_desc){ htole64(gpa + size + (1u << 20)), htole32(48), 0, 0 };
	publish(f, id);
}

/* A well-formed chain whose message is one only the host may send. */
static void control_type_from_the_guest(struct vuf *f)
{
	struct virtio_om_node_event ev = { .node = htole32(3),
					   .reason = htole32(VIRTIO_OM_NODE_DISCONNECTED) };

	assert_int_equal(vuf_send_msg(f, 2, VIRTIO_OM_T_NODE_DOWN, &ev, sizeof(ev), NULL), 0);
}

static void hostile_rings(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *name;
		void (*inject)(struct vuf *f);
		unsigned int refused; /* a malformed message, not a broken ring */
		const char *why;      /* in the eviction omhostd logs */
	} cases[] = {
		{ "a looped chain", looped_chain, 0, "Looped descriptor" },
		{ "a descriptor outside guest memory", descriptor_outside_memory, 0,
		  "invalid address for buffers" },
		{ "a NODE_DOWN from a guest", control_type_from_the_guest, 1,
		  "type unknown or not for guests" },
	};
	uint64_t refused = 0;

	hostd_start(fx);
	up_all(fx, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nstat s;
		long mark;

		print_message("hostile ring: %s\n", cases[i].name);
		if (i > 0) { /* a new guest on node 1 */
			fe_up(fx, 1, NULL);
			expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
			expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
			expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
			expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
			check_relay(fx, 1, 2, 10);
		}
		mark = log_mark(fx);
		cases[i].inject(fx->f[1]);
		assert_int_equal(vuf_wait_disconnect(fx->f[1], FE_TIMEOUT_MS), 0);
		expect_evicted_for(fx, mark, 1, cases[i].why);
		fe_drop(fx, 1);
		wait_state(fx, 1, "absent");
		expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 1, VIRTIO_OM_NODE_EVICTED);
		expect_event(fx, 3, VIRTIO_OM_T_NODE_DOWN, 1, VIRTIO_OM_NODE_EVICTED);
		check_relay(fx, 2, 3, 1000);
		check_relay(fx, 3, 2, 1000);
		refused += cases[i].refused;
		get_nstat(fx, 1, &s);
		assert_int_equal(s.evictions, i + 1);
		assert_int_equal(s.refused, refused);
		hostd_alive(fx);
	}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 9. A front-end that stops mid-message, or does not read its replies */

/* Nodes 1 and 2 relay both ways, and the control socket answers, while node 3 holds on. */
static void others_served(struct fx *fx, const char *state3)
{
	struct nstat s;

	for (int i = 0; i < 5; i++) {
		check_relay(fx, 1, 2, 100);
		check_relay(fx, 2, 1, VIRTIO_OM_MAX_PAYLOAD);
	}
	get_nstat(fx, 3, &s);
	assert_string_equal(s.state, state3);
}

static void a_stalled_front_end_holds_up_no_one(void **state)
{
	struct fx *fx = *state;
	struct vuf_msg_hdr h = { VUF_REQ_GET_FEATURES, VUF_MSG_VERSION, 0 };
	struct vuf_opts small = fe_default_opts();
	unsigned int requests = 0;
	struct nstat s;
	long mark;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	small.region_size = 4u << 20;
	small.rx_bufs = 4;
	small.tx_slots = 4;

	/* 3 bytes of a header, and the connection held open: it waits, nobody else does. */
	fe_open(fx, 3, &small);
	wait_state(fx, 3, "connected");
	mark = log_mark(fx);
	send_ok(vuf_send_bytes(fx->f[3], &h, 3, NULL, 0));
	others_served(fx, "connected");
	/* Held longer than a front-end may take: dropped, and told why. */
	assert_int_equal(vuf_wait_disconnect(fx->f[3], FE_TIMEOUT_MS), 0);
	expect_evicted_for(fx, mark, 3, "vhost-user message incomplete for 3000 ms (3 bytes");
	fe_drop(fx, 3);
	wait_state(fx, 3, "absent");

	/*
	 * Requests, and never a reply read: once its socket is full omhostd
	 * stops reading it, and the others go on.
	 */
	fe_open(fx, 3, &small);
	wait_state(fx, 3, "connected");
	mark = log_mark(fx);
	h.flags |= VUF_MSG_F_NEED_REPLY;
	for (;;) {
		struct pollfd p = { .fd = vuf_socket(fx->f[3]), .events = POLLOUT };

		if (send(p.fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(h)) {
			requests++;
			continue;
		}
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		assert_true(requests < 1000000);
		/* Full: until omhostd has stopped taking requests for a while. */
		if (poll(&p, 1, 500) == 0)
			break;
	}
	print_message("a front-end not reading: omhostd stopped reading it after %u requests\n",
		      requests);
	others_served(fx, "connected");
	/* Its replies stay unread: watch for omhostd's hang-up without reading them. */
	{
		struct pollfd p = { .fd = vuf_socket(fx->f[3]), .events = POLLRDHUP };

		assert_int_equal(poll(&p, 1, FE_TIMEOUT_MS), 1);
		assert_true(p.revents & (POLLRDHUP | POLLHUP));
	}
	expect_evicted_for(fx, mark, 3, "did not take a reply for 3000 ms");
	fe_drop(fx, 3);
	wait_state(fx, 3, "absent");
	get_nstat(fx, 3, &s);
	assert_int_equal(s.evictions, 2);
	others_served(fx, "absent");
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 10. A call eventfd omhostd's write would wait on                    */

#define EVENTFD_FULL 0xfffffffffffffffeull /* an eventfd's largest count: a write of 1 waits */

/* Node 3, its front-end given f's defaults, up: every peer told. */
static void node3_up(struct fx *fx)
{
	fe_up(fx, 3, NULL);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
}

/* Node 1 sends node 3 a message: omhostd notifies node 3's rx, and node 3 is evicted for why. */
static void notify_evicts_node3(struct fx *fx, long mark, const char *why)
{
	send_data(fx, 1, 3, 100, NULL);
	assert_int_equal(vuf_wait_disconnect(fx->f[3], FE_TIMEOUT_MS), 0);
	expect_evicted_for(fx, mark, 3, why);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_EVICTED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_EVICTED);
	fe_drop(fx, 3);
	wait_state(fx, 3, "absent");
	fx->got[3][1] = fx->sent[1][3];
	others_served(fx, "absent");
}

/*
 * A call eventfd that blocks and is full: a write to it waits until
 * someone reads it, and omhostd writes it from its only thread. Passed so
 * (omhostd writes it at once), or made so later through the front-end's
 * own copy of the fd (its flags are shared with omhostd's), the front-end
 * is evicted and no one else waits for long.
 */
static void a_full_blocking_call_eventfd_holds_up_no_one(void **state)
{
	struct fx *fx = *state;
	uint64_t q = VUF_RX, full = EVENTFD_FULL, v;
	struct vuf_vq_view view;
	int64_t t0;
	long mark;
	int fd;

	hostd_start(fx);
	up_all(fx, NULL);

	/* Passed full and blocking. */
	mark = log_mark(fx);
	fd = eventfd(0, EFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &full, sizeof(full)), sizeof(full));
	send_ok(vuf_send_raw(fx->f[3], VUF_REQ_SET_VRING_CALL, &q, sizeof(q), &fd, 1));
	close(fd);
	others_served(fx, "up");
	notify_evicts_node3(fx, mark,
			    "vhost-user: Error writing eventfd: Resource temporarily unavailable");

	/* Its own call eventfd, filled and made blocking once omhostd took it. */
	node3_up(fx);
	mark = log_mark(fx);
	assert_int_equal(vuf_vq_view(fx->f[3], VUF_RX, &view), 0);
	while (read(view.call_fd, &v, sizeof(v)) == sizeof(v))
		;
	assert_int_equal(write(view.call_fd, &full, sizeof(full)), sizeof(full));
	assert_int_equal(fcntl(view.call_fd, F_SETFL, 0), 0);
	t0 = mono_ms();
	notify_evicts_node3(fx, mark, "vhost-user: Error writing eventfd: Interrupted system call");
	print_message("a call eventfd made blocking and full: evicted, others served again, "
		      "in %lld ms\n", (long long)(mono_ms() - t0));
	finish(fx);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(hostile_vhost_user_messages),
		T(hostile_rings),
		T(a_stalled_front_end_holds_up_no_one),
		T(a_full_blocking_call_eventfd_holds_up_no_one),
	};
#undef T

	return hf_run("test-hostd-hostile", tests, sizeof(tests) / sizeof(tests[0]));
}
