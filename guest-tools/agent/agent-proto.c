// SPDX-License-Identifier: GPL-2.0-only
#include "agent-proto.h"

#include <errno.h>
#include <string.h>

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void oma_encode_header(uint8_t *out, enum oma_type type, uint32_t len)
{
	put_le32(out, OMA_MAGIC);
	out[4] = (uint8_t)type;
	out[5] = (uint8_t)((unsigned)type >> 8);
	out[6] = 0;
	out[7] = 0;
	put_le32(out + 8, len);
}

int oma_decode_header(const uint8_t *in, struct oma_header *hdr)
{
	if (get_le32(in) != OMA_MAGIC)
		return -EPROTO;
	hdr->type = (uint16_t)(in[4] | in[5] << 8);
	hdr->flags = (uint16_t)(in[6] | in[7] << 8);
	hdr->len = get_le32(in + 8);
	if (hdr->type < OMA_HELLO || hdr->type > OMA_TYPE_MAX || hdr->flags != 0)
		return -EPROTO;
	if (hdr->len > OMA_MAX_PAYLOAD)
		return -EMSGSIZE;
	return 0;
}

int oma_encode_exec(uint8_t *out, size_t cap, uint32_t timeout_ms, uint32_t flags,
		    char *const argv[])
{
	size_t off = 8;

	if (cap < off || !argv[0])
		return -E2BIG;
	put_le32(out, timeout_ms);
	put_le32(out + 4, flags);
	for (size_t i = 0; argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (n > cap - off)
			return -E2BIG;
		memcpy(out + off, argv[i], n);
		off += n;
	}
	return (int)off;
}

int oma_decode_exec(uint8_t *payload, size_t len, uint32_t *timeout_ms, uint32_t *flags,
		    char **argv, size_t max_args)
{
	size_t argc = 0, off = 8;

	if (len <= off || payload[len - 1] != '\0' || max_args < 2)
		return -EINVAL;
	*timeout_ms = get_le32(payload);
	*flags = get_le32(payload + 4);
	while (off < len) {
		if (argc == max_args - 1)
			return -E2BIG;
		argv[argc++] = (char *)payload + off;
		off += strlen((char *)payload + off) + 1;
	}
	argv[argc] = NULL;
	if (argv[0][0] == '\0')
		return -EINVAL;
	return (int)argc;
}

int oma_encode_put(uint8_t *out, size_t cap, uint32_t mode, const char *path)
{
	size_t n = strlen(path) + 1;

	if (cap < 4 || n > cap - 4)
		return -E2BIG;
	put_le32(out, mode);
	memcpy(out + 4, path, n);
	return (int)(4 + n);
}

int oma_decode_put(uint8_t *payload, size_t len, uint32_t *mode, const char **path)
{
	if (len < 6 || payload[len - 1] != '\0' || payload[4] != '/' ||
	    strlen((char *)payload + 4) != len - 5)
		return -EINVAL;
	*mode = get_le32(payload);
	if (*mode & ~07777u)
		return -EINVAL;
	*path = (const char *)payload + 4;
	return 0;
}

void oma_encode_exit(uint8_t *out, enum oma_exit_how how, int32_t value)
{
	put_le32(out, (uint32_t)how);
	put_le32(out + 4, (uint32_t)value);
}

int oma_decode_exit(const uint8_t *in, size_t len, enum oma_exit_how *how, int32_t *value)
{
	uint32_t h;

	if (len != OMA_EXIT_SIZE)
		return -EINVAL;
	h = get_le32(in);
	if (h > OMA_TIMED_OUT)
		return -EINVAL;
	*how = (enum oma_exit_how)h;
	*value = (int32_t)get_le32(in + 4);
	return 0;
}

int oma_encode_error(uint8_t *out, size_t cap, int32_t err, const char *msg)
{
	size_t n = strlen(msg);

	if (cap < 4)
		return -E2BIG;
	if (n > cap - 4)
		n = cap - 4;
	put_le32(out, (uint32_t)err);
	memcpy(out + 4, msg, n);
	return (int)(4 + n);
}

int oma_decode_error(const uint8_t *in, size_t len, int32_t *err, char *msg, size_t msg_cap)
{
	size_t n;

	if (len < 4 || msg_cap == 0)
		return -EINVAL;
	*err = (int32_t)get_le32(in);
	n = len - 4;
	if (n >= msg_cap)
		n = msg_cap - 1;
	memcpy(msg, in + 4, n);
	msg[n] = '\0';
	return 0;
}
