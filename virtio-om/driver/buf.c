// SPDX-License-Identifier: GPL-2.0-only
/*
 * Received messages. An rx buffer is a struct om_kcom_msg whose header
 * field is the first descriptor and whose payload is a chain of whole
 * pages, so a page of a process arrives page-aligned. The buffer that
 * carried a message is the message given to its receiver: nothing is
 * copied on the way in. A buffer its receiver frees goes back to a small
 * pool for the next refill: a buffer is max_payload bytes of pages (16),
 * and allocating and freeing them for every message, a short answer too,
 * took a tenth of a busy deputy's time under TCG.
 */
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>

#include "kcom.h"

/* Rx buffers freed by their receivers, at most KCOM_RX_POOL_MAX. */
#define KCOM_RX_POOL_MAX 16
static DEFINE_SPINLOCK(kcom_rx_pool_lock);
static LIST_HEAD(kcom_rx_pool);
static unsigned int kcom_rx_pool_len;

static void kcom_msg_release(struct om_kcom_msg *msg)
{
	unsigned int i;

	for (i = 0; i < msg->nr_pages; i++)
		__free_page(msg->pages[i]);
	kfree(msg);
}

/* A freed rx buffer kept for the next refill; false if the pool is full. */
static bool kcom_rx_pool_put(struct om_kcom_msg *msg)
{
	unsigned long flags;
	bool kept = false;

	spin_lock_irqsave(&kcom_rx_pool_lock, flags);
	if (kcom_rx_pool_len < KCOM_RX_POOL_MAX) {
		list_add(&msg->list, &kcom_rx_pool);
		kcom_rx_pool_len++;
		kept = true;
	}
	spin_unlock_irqrestore(&kcom_rx_pool_lock, flags);
	return kept;
}

static struct om_kcom_msg *kcom_rx_pool_get(void)
{
	struct om_kcom_msg *msg;
	unsigned long flags;

	spin_lock_irqsave(&kcom_rx_pool_lock, flags);
	msg = list_first_entry_or_null(&kcom_rx_pool, struct om_kcom_msg, list);
	if (msg) {
		list_del(&msg->list);
		kcom_rx_pool_len--;
	}
	spin_unlock_irqrestore(&kcom_rx_pool_lock, flags);
	return msg;
}

/* Frees the pool's buffers (the device is gone). */
void kcom_rx_pool_drain(void)
{
	struct om_kcom_msg *msg;

	while ((msg = kcom_rx_pool_get()))
		kcom_msg_release(msg);
}

/* An rx buffer for messages of up to @cap payload bytes. */
struct om_kcom_msg *kcom_msg_alloc_rx(u32 cap, gfp_t gfp)
{
	unsigned int i, n = DIV_ROUND_UP(cap, PAGE_SIZE);
	struct om_kcom_msg *msg = kcom_rx_pool_get();

	if (msg && msg->nr_pages == n) {
		memset(&msg->wire, 0, sizeof(msg->wire));
		memset(&msg->hdr, 0, sizeof(msg->hdr));
		INIT_LIST_HEAD(&msg->list);
		msg->cap = cap;
		return msg;
	}
	/* Of another size: the device's limit changed. */
	if (msg)
		kcom_msg_release(msg);
	msg = kzalloc(struct_size(msg, pages, n), gfp);
	if (!msg)
		return NULL;
	INIT_LIST_HEAD(&msg->list);
	msg->cap = cap;
	for (i = 0; i < n; i++) {
		msg->pages[i] = alloc_page(gfp);
		if (!msg->pages[i]) {
			om_kcom_msg_free(msg);
			return NULL;
		}
		msg->nr_pages = i + 1;
	}
	return msg;
}

/* A message of the driver's own, with @h->len payload bytes from @payload. */
struct om_kcom_msg *kcom_msg_build(const struct om_kcom_hdr *h, const void *payload, gfp_t gfp)
{
	struct om_kcom_msg *msg;

	msg = kzalloc(sizeof(*msg) + h->len, gfp);
	if (!msg)
		return NULL;
	INIT_LIST_HEAD(&msg->list);
	msg->hdr = *h;
	kcom_hdr_encode(h, &msg->wire);
	msg->cap = h->len;
	msg->data = msg + 1;
	if (h->len)
		memcpy(msg->data, payload, h->len);
	return msg;
}

#if IS_ENABLED(CONFIG_KUNIT)
struct om_kcom_msg *om_kcom_msg_build(const struct om_kcom_hdr *h, const void *payload,
				      gfp_t gfp)
{
	return kcom_msg_build(h, payload, gfp);
}
EXPORT_SYMBOL_GPL(om_kcom_msg_build);
#endif

/* A copy of a small message (a node event) for one more receiver. */
struct om_kcom_msg *kcom_msg_alloc_copy(const struct om_kcom_msg *src, gfp_t gfp)
{
	struct om_kcom_msg *msg;

	msg = kzalloc(sizeof(*msg) + src->hdr.len, gfp);
	if (!msg)
		return NULL;
	INIT_LIST_HEAD(&msg->list);
	msg->wire = src->wire;
	msg->hdr = src->hdr;
	msg->cap = src->hdr.len;
	msg->data = msg + 1;
	if (om_kcom_msg_copy(src, 0, msg->data, src->hdr.len) != src->hdr.len) {
		kfree(msg);
		return NULL;
	}
	return msg;
}

/* Fills @sg (at least 1 + nr_pages entries) with an rx buffer's chain. */
unsigned int kcom_msg_rx_sg(struct om_kcom_msg *msg, struct scatterlist *sg, unsigned int max)
{
	unsigned int i, n = 1 + msg->nr_pages;
	u32 left = msg->cap;

	if (WARN_ON_ONCE(n > max))
		return 0;
	sg_init_table(sg, n);
	sg_set_buf(&sg[0], &msg->wire, sizeof(msg->wire));
	for (i = 0; i < msg->nr_pages; i++) {
		u32 chunk = min_t(u32, left, PAGE_SIZE);

		sg_set_page(&sg[1 + i], msg->pages[i], chunk, 0);
		left -= chunk;
	}
	return n;
}

const struct om_kcom_hdr *om_kcom_msg_hdr(const struct om_kcom_msg *msg)
{
	return &msg->hdr;
}
EXPORT_SYMBOL_GPL(om_kcom_msg_hdr);

size_t om_kcom_msg_copy(const struct om_kcom_msg *msg, size_t offset, void *buf, size_t len)
{
	size_t done = 0;

	if (offset >= msg->hdr.len)
		return 0;
	len = min_t(size_t, len, msg->hdr.len - offset);
	if (msg->data) {
		memcpy(buf, msg->data + offset, len);
		return len;
	}
	while (done < len) {
		size_t pos = offset + done;
		size_t chunk = min_t(size_t, len - done, PAGE_SIZE - offset_in_page(pos));

		memcpy_from_page(buf + done, msg->pages[pos >> PAGE_SHIFT], offset_in_page(pos),
				 chunk);
		done += chunk;
	}
	return done;
}
EXPORT_SYMBOL_GPL(om_kcom_msg_copy);

size_t om_kcom_msg_copy_iter(const struct om_kcom_msg *msg, size_t offset, size_t len,
			     struct iov_iter *to)
{
	size_t done = 0;

	if (offset >= msg->hdr.len)
		return 0;
	len = min_t(size_t, len, msg->hdr.len - offset);
	if (msg->data)
		return copy_to_iter(msg->data + offset, len, to);
	while (done < len) {
		size_t pos = offset + done;
		size_t chunk = min_t(size_t, len - done, PAGE_SIZE - offset_in_page(pos));
		size_t n = copy_page_to_iter(msg->pages[pos >> PAGE_SHIFT], offset_in_page(pos),
					     chunk, to);

		done += n;
		if (n != chunk)
			break;
	}
	return done;
}
EXPORT_SYMBOL_GPL(om_kcom_msg_copy_iter);

/* Copies the whole message, header as received then payload, to @to. */
size_t kcom_msg_to_iter(const struct om_kcom_msg *msg, struct iov_iter *to)
{
	size_t done, pos = 0, len = msg->hdr.len;

	done = copy_to_iter(&msg->wire, sizeof(msg->wire), to);
	if (done != sizeof(msg->wire))
		return done;
	if (msg->data)
		return done + copy_to_iter(msg->data, len, to);
	while (pos < len) {
		size_t chunk = min_t(size_t, len - pos, PAGE_SIZE);
		size_t n = copy_page_to_iter(msg->pages[pos >> PAGE_SHIFT], 0, chunk, to);

		done += n;
		if (n != chunk)
			break;
		pos += chunk;
	}
	return done;
}

void om_kcom_msg_free(struct om_kcom_msg *msg)
{
	if (!msg)
		return;
	/* An rx buffer whole (its pages all allocated) goes back to the pool. */
	if (!msg->data && msg->nr_pages && msg->nr_pages == DIV_ROUND_UP(msg->cap, PAGE_SIZE) &&
	    kcom_rx_pool_put(msg))
		return;
	kcom_msg_release(msg);
}
EXPORT_SYMBOL_GPL(om_kcom_msg_free);
