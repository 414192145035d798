// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: what two front-ends send omhostd, file descriptors
 * included, so that the mapped-ring code is fuzzed too (ring checks on
 * every change, descriptor walks, used-ring writes, relaying between the
 * two). The input is a list of operations, each on node 1 or node 2:
 *
 *   op & 3 == 0  a vhost-user message (12-byte header, then up to 512 bytes
 *                of payload); the fds its request takes go with it:
 *                SET_MEM_TABLE a memfd per region (as long as the region
 *                asks, up to FZ_REGION_MAX; sealed F_SEAL_SHRINK as QEMU's
 *                memfd backend does), SET_VRING_KICK/CALL/ERR an eventfd
 *                (none with the no-fd flag). Bits 4-7 break that rule:
 *                memfds not sealed, a pipe instead of an eventfd, an fd
 *                more, an fd fewer;
 *   op & 3 == 1  a write into the node's guest memory (region, offset,
 *                length, bytes): rings, descriptors and messages;
 *   op & 3 == 2  a kick of a queue, then one turn of omhostd's loop;
 *   op & 3 == 3  the front-end hangs up and connects again;
 *   op & 8       node 2 instead of node 1.
 *
 * omhostd must answer, refuse or evict, and never crash, hang or leak.
 * make-seeds.py writes inputs that bring both nodes up and relay messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "omhostd.h"

#define FZ_NODES 2
#define FZ_REGIONS VHOST_MEMORY_BASELINE_NREGIONS
#define FZ_REGION_MAX (1u << 20) /* a memfd's size at most (the region may ask for more) */
#define FZ_PAYLOAD_MAX 512u	 /* more than any request's payload */
#define FZ_OPS_MAX 256		 /* bounds an input's run time */

enum {
	FZ_UNSEALED = 0x10,
	FZ_PIPE = 0x20,
	FZ_FD_MORE = 0x40,
	FZ_FD_LESS = 0x80,
};

/* The front-end's side of a node: its socket end, guest memory, kick fds. */
struct fz_fe {
	struct om_node *n;
	int sock;
	int kick[VIRTIO_OM_QUEUE_COUNT];
	int mem_fd[FZ_REGIONS];
	unsigned char *mem[FZ_REGIONS];
	size_t mem_len[FZ_REGIONS];
	unsigned int n_mem;
};

struct fz_in {
	const uint8_t *p;
	size_t left;
};

/* Up to n bytes of input into buf (the rest zeroed); how many there were. */
static size_t fz_take(struct fz_in *in, void *buf, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	memcpy(buf, in->p, k);
	memset((char *)buf + k, 0, n - k);
	in->p += k;
	in->left -= k;
	return k;
}

static void fz_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void fz_drop_memory(struct fz_fe *fe)
{
	for (unsigned int i = 0; i < fe->n_mem; i++) {
		munmap(fe->mem[i], fe->mem_len[i]);
		fz_close(&fe->mem_fd[i]);
	}
	fe->n_mem = 0;
}

/* A new connection of fe's front-end to its node. */
static void fz_connect(struct fz_fe *fe)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	fe->sock = sv[1];
	if (fcntl(fe->sock, F_SETFL, O_NONBLOCK))
		abort();
	if (om_node_attach(fe->n, sv[0]))
		fz_close(&fe->sock);
}

static void fz_hang_up(struct fz_fe *fe)
{
	fz_close(&fe->sock);
	for (unsigned int q = 0; q < VIRTIO_OM_QUEUE_COUNT; q++)
		fz_close(&fe->kick[q]);
	/* omhostd sees the end of the stream. */
	for (int i = 0; i < 4 && fe->n->state != OM_NODE_ABSENT; i++)
		om_node_dispatch(fe->n);
	om_hostd_settle(fe->n->d);
}

/* A memfd for region r of a SET_MEM_TABLE, as long as it asks (capped), mapped here too. */
static int fz_region_fd(struct fz_fe *fe, const VhostUserMemoryRegion *r, bool sealed)
{
	uint64_t want = r->mmap_offset + r->memory_size;
	size_t len = want >= r->mmap_offset && want && want <= FZ_REGION_MAX ? want : FZ_REGION_MAX;
	int fd = memfd_create("fz-guest-mem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)len))
		abort();
	if (sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		abort();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		abort();
	fe->mem[fe->n_mem] = p;
	fe->mem_len[fe->n_mem] = len;
	fe->mem_fd[fe->n_mem++] = fd;
	return fd;
}

/* An eventfd (or, to break the rule, a pipe's end). */
static int fz_event_fd(bool pipe_instead, int *keep)
{
	int p[2], fd;

	if (!pipe_instead) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fd < 0)
			abort();
		*keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		return fd;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		abort();
	*keep = p[1];
	return p[0];
}

/*
 * The fds request m takes, made per op's rule-breaking bits: into fds,
 * how many. The front-end keeps its memory and its kick fds.
 */
static int fz_fds_for(struct fz_fe *fe, const VhostUserMsg *m, size_t have, uint8_t op,
		      int fds[FZ_REGIONS + 1])
{
	int n = 0;

	switch (m->request) {
	case VHOST_USER_SET_MEM_TABLE: {
		VhostUserMemory mem;
		uint32_t k;

		memcpy(&mem, &m->payload, sizeof(mem));
		k = mem.nregions < FZ_REGIONS ? mem.nregions : FZ_REGIONS;
		fz_drop_memory(fe);
		for (uint32_t i = 0; i < k; i++) {
			VhostUserMemoryRegion r = { 0 };

			if (offsetof(VhostUserMemory, regions) + (i + 1) * sizeof(r) <= have)
				memcpy(&r, &mem.regions[i], sizeof(r));
			fds[n++] = fcntl(fz_region_fd(fe, &r, !(op & FZ_UNSEALED)), F_DUPFD_CLOEXEC, 0);
		}
		break;
	}
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR: {
		unsigned int q = m->payload.u64 & VHOST_USER_VRING_IDX_MASK;
		int keep = -1;

		if (m->payload.u64 & VHOST_USER_VRING_NOFD_MASK)
			break;
		fds[n++] = fz_event_fd(op & FZ_PIPE, &keep);
		if (m->request == VHOST_USER_SET_VRING_KICK && q < VIRTIO_OM_QUEUE_COUNT) {
			fz_close(&fe->kick[q]);
			fe->kick[q] = keep;
		} else {
			fz_close(&keep);
		}
		break;
	}
	default:
		break;
	}
	if ((op & FZ_FD_LESS) && n)
		close(fds[--n]);
	if (op & FZ_FD_MORE) {
		int keep = -1;

		fds[n++] = fz_event_fd(false, &keep);
		fz_close(&keep);
	}
	return n;
}

static void fz_settle(struct fz_fe *fe)
{
	char sink[4096];

	for (int i = 0; i < 4 && fe->n->state != OM_NODE_ABSENT; i++)
		om_node_dispatch(fe->n);
	for (int i = 0; i < 4; i++)
		om_hostd_settle(fe->n->d);
	/* Replies are read and dropped, as far as they came. */
	while (fe->sock >= 0 && recv(fe->sock, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

static void fz_message(struct fz_fe *fe, struct fz_in *in, uint8_t op)
{
	char control[CMSG_SPACE((FZ_REGIONS + 1) * sizeof(int))] = { 0 };
	unsigned char raw[VHOST_USER_HDR_SIZE + FZ_PAYLOAD_MAX];
	VhostUserMsg m = { 0 };
	int fds[FZ_REGIONS + 1];
	size_t have, len;
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int nfds;

	fz_take(in, raw, VHOST_USER_HDR_SIZE);
	memcpy(&m, raw, VHOST_USER_HDR_SIZE);
	len = m.size < FZ_PAYLOAD_MAX ? m.size : FZ_PAYLOAD_MAX;
	have = fz_take(in, raw + VHOST_USER_HDR_SIZE, len);
	/* What omhostd would take of it, to choose the fds by. */
	memcpy(&m.payload, raw + VHOST_USER_HDR_SIZE,
	       have < sizeof(m.payload) ? have : sizeof(m.payload));
	nfds = fz_fds_for(fe, &m, have, op, fds);
	iov = (struct iovec){ .iov_base = raw, .iov_len = VHOST_USER_HDR_SIZE + have };
	if (nfds) {
		struct cmsghdr *c;

		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	/* omhostd may have stopped reading (a reply not taken): then it is lost. */
	if (fe->sock >= 0)
		(void)!sendmsg(fe->sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	fz_settle(fe);
}

static void fz_write_memory(struct fz_fe *fe, struct fz_in *in)
{
	struct {
		uint8_t region;
		uint32_t off;
		uint16_t len;
	} __attribute__((packed)) w;
	unsigned char *p;
	size_t room;

	fz_take(in, &w, sizeof(w));
	if (!fe->n_mem) {
		in->p += w.len < in->left ? w.len : in->left;
		in->left -= w.len < in->left ? w.len : in->left;
		return;
	}
	w.region %= fe->n_mem;
	w.off %= fe->mem_len[w.region];
	p = fe->mem[w.region] + w.off;
	room = fe->mem_len[w.region] - w.off;
	fz_take(in, p, w.len < room ? w.len : room);
}

static void fz_kick(struct fz_fe *fe, struct fz_in *in)
{
	uint8_t q = 0;

	fz_take(in, &q, 1);
	q %= VIRTIO_OM_QUEUE_COUNT;
	if (fe->kick[q] >= 0)
		(void)!eventfd_write(fe->kick[q], 1);
	om_loop_run_once(fe->n->d->loop, 0);
	fz_settle(fe);
}

/* As omhostd's main() does: a kick written into a pipe whose reader went is no signal. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct om_hostd d = { .control_fd = -1, .grace_fd = -1, .responsive_fd = -1 };
	struct fz_fe fe[FZ_NODES + 1];
	struct fz_in in = { .p = data, .left = size };

	/* Queues open at once and small: they fill, deliver and drop; short turns. */
	d.cfg = (struct om_hostd_config){ .dir = "/nonexistent", .first_node = 1,
					  .last_node = FZ_NODES,
					  .max_payload = VIRTIO_OM_MAX_PAYLOAD,
					  .queue_bytes = 1u << 16, .queue_msgs = 8,
					  .tx_budget_msgs = 4 };
	if (om_loop_new(&d.loop))
		abort();
	memset(fe, 0, sizeof(fe));
	for (uint32_t id = 1; id <= FZ_NODES; id++) {
		fe[id].n = om_node_new(&d, id);
		if (!fe[id].n)
			abort();
		d.nodes[id] = fe[id].n;
		fe[id].kick[0] = fe[id].kick[1] = -1;
		fz_connect(&fe[id]);
	}
	for (int ops = 0; in.left && ops < FZ_OPS_MAX; ops++) {
		uint8_t op = 0;
		struct fz_fe *f;

		fz_take(&in, &op, 1);
		f = &fe[op & 8 ? 2 : 1];
		/* Evicted or gone: a new connection, as QEMU's reconnect makes. */
		if (f->n->state == OM_NODE_ABSENT) {
			fz_close(&f->sock);
			fz_connect(f);
		}
		switch (op & 3) {
		case 0:
			fz_message(f, &in, op);
			break;
		case 1:
			fz_write_memory(f, &in);
			break;
		case 2:
			fz_kick(f, &in);
			break;
		default:
			fz_hang_up(f);
			break;
		}
	}
	for (uint32_t id = 1; id <= FZ_NODES; id++) {
		fz_hang_up(&fe[id]);
		om_node_close(fe[id].n);
		fz_drop_memory(&fe[id]);
	}
	om_loop_free(d.loop);
	return 0;
}
