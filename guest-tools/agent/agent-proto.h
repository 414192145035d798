/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest agent's wire format: how the cluster tool on the host asks a
 * guest to run a command or take a file, over a virtio-serial port. It is an
 * operations channel for people and tests, separate from virtio-om. Frames
 * are a fixed little-endian header and a payload of at most OMA_MAX_PAYLOAD
 * bytes; see docs/cluster-tool.md.
 */
#ifndef OM_AGENT_PROTO_H
#define OM_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define OMA_MAGIC 0x47414d4fu /* "OMAG" in memory order */
#define OMA_HEADER_SIZE 12u
#define OMA_MAX_PAYLOAD (64u * 1024u)
#define OMA_PORT_NAME "org.omvm.agent"

enum oma_type {
	OMA_HELLO = 1,	/* host: are you there; guest: "node=N\nrelease=R\n" */
	OMA_EXEC = 2,	/* host: u32 timeout_ms, u32 flags, argv (NUL-separated) */
	OMA_STDIN = 3,	/* host: data for the command; empty payload = EOF */
	OMA_PUT = 4,	/* host: u32 mode, path; then OMA_STDIN frames, empty = end */
	OMA_STDOUT = 5, /* guest: the command's standard output */
	OMA_STDERR = 6, /* guest: the command's standard error */
	OMA_EXIT = 7,	/* guest: u32 how (enum oma_exit_how), i32 value */
	OMA_ERROR = 8,	/* guest: i32 errno, message; the request failed */
	OMA_DONE = 9,	/* guest: an OMA_PUT completed */
	OMA_TYPE_MAX = OMA_DONE,
};

enum oma_exit_how {
	OMA_EXITED = 0,	   /* value: the exit status */
	OMA_SIGNALED = 1,  /* value: the signal number */
	OMA_TIMED_OUT = 2, /* value: 0; the command was killed */
};

struct oma_header {
	uint16_t type;
	uint16_t flags; /* none defined; must be 0 */
	uint32_t len;
};

/* Encodes a header for a payload of len bytes into out[OMA_HEADER_SIZE]. */
void oma_encode_header(uint8_t *out, enum oma_type type, uint32_t len);

/* Decodes and validates a header; returns 0 or -EPROTO / -EMSGSIZE. */
int oma_decode_header(const uint8_t *in, struct oma_header *hdr);

/*
 * OMA_EXEC payload. oma_encode_exec writes at most cap bytes and returns the
 * length, or -E2BIG. oma_decode_exec fills argv (at most max_args - 1
 * entries, NULL-terminated, pointing into payload, which must end in NUL)
 * and returns argc, or -EINVAL / -E2BIG.
 */
int oma_encode_exec(uint8_t *out, size_t cap, uint32_t timeout_ms, uint32_t flags,
		    char *const argv[]);
int oma_decode_exec(uint8_t *payload, size_t len, uint32_t *timeout_ms, uint32_t *flags,
		    char **argv, size_t max_args);

/* OMA_PUT payload: mode and a NUL-terminated absolute path. */
int oma_encode_put(uint8_t *out, size_t cap, uint32_t mode, const char *path);
int oma_decode_put(uint8_t *payload, size_t len, uint32_t *mode, const char **path);

/* OMA_EXIT payload. */
#define OMA_EXIT_SIZE 8u
void oma_encode_exit(uint8_t *out, enum oma_exit_how how, int32_t value);
int oma_decode_exit(const uint8_t *in, size_t len, enum oma_exit_how *how, int32_t *value);

/* OMA_ERROR payload: errno and a message (not NUL-terminated on the wire). */
int oma_encode_error(uint8_t *out, size_t cap, int32_t err, const char *msg);
int oma_decode_error(const uint8_t *in, size_t len, int32_t *err, char *msg, size_t msg_cap);

#endif /* OM_AGENT_PROTO_H */
