// SPDX-License-Identifier: GPL-2.0-only
#include "kcom-dev.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

const char *kc_dev_path(void)
{
	const char *p = getenv("OM_KCOM_DEV");

	return p && *p ? p : "/dev/om-kcom";
}

int kc_open(uint32_t port, int extra_flags)
{
	int fd = open(kc_dev_path(), O_RDWR | O_CLOEXEC | extra_flags);

	if (fd < 0)
		return -errno;
	if (port && ioctl(fd, OM_KCOM_IOC_BIND, &port) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int kc_info(int fd, struct om_kcom_info *info)
{
	return ioctl(fd, OM_KCOM_IOC_INFO, info) < 0 ? -errno : 0;
}

int kc_node_state(int fd, uint32_t node)
{
	struct om_kcom_node n = { .node = node };

	return ioctl(fd, OM_KCOM_IOC_NODE, &n) < 0 ? -errno : (int)n.state;
}

int kc_send(int fd, struct om_msg_hdr *h, const void *payload, size_t len)
{
	unsigned char wire[VIRTIO_OM_HDR_SIZE];
	struct iovec iov[2] = {
		{ .iov_base = wire, .iov_len = sizeof(wire) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	ssize_t n;

	h->version = VIRTIO_OM_PROTOCOL_VERSION;
	h->len = (uint32_t)len;
	om_msg_hdr_encode(h, wire);
	n = writev(fd, iov, len ? 2 : 1);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(wire) + len ? 0 : -EIO;
}

int kc_recv(int fd, struct om_msg_hdr *h, void *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap);

	if (n < 0)
		return -errno;
	if ((size_t)n < VIRTIO_OM_HDR_SIZE)
		return -EIO;
	om_msg_hdr_decode(buf, h);
	if ((size_t)n != VIRTIO_OM_HDR_SIZE + h->len)
		return -EIO;
	return VIRTIO_OM_HDR_SIZE;
}

const char *kc_reason_name(uint32_t reason)
{
	switch (reason) {
	case VIRTIO_OM_NODE_JOINED:
		return "joined";
	case VIRTIO_OM_NODE_RECONNECTED:
		return "reconnected";
	case VIRTIO_OM_NODE_DISCONNECTED:
		return "disconnected";
	case VIRTIO_OM_NODE_EVICTED:
		return "evicted";
	default:
		return "unknown";
	}
}
