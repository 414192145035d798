// SPDX-License-Identifier: GPL-2.0-only
/*
 * Receivers of type ranges: the engine registers one per range it owns
 * (migration, system calls, memory). The receive worker calls them with
 * kcom_handlers_lock held, so unregistering waits for a running call.
 */
#include <linux/export.h>
#include <linux/list.h>
#include <linux/mutex.h>

#include "kcom.h"

static LIST_HEAD(kcom_handlers);
static DEFINE_MUTEX(kcom_handlers_lock);

static bool kcom_handler_range_ok(u16 first, u16 last)
{
	if (first > last)
		return false;
	if (first >= VIRTIO_OM_T_MIGRATION_FIRST && last <= VIRTIO_OM_T_MEMORY_LAST)
		return true;
	return first == VIRTIO_OM_T_TEST_DATA && last == VIRTIO_OM_T_TEST_DATA;
}

int om_kcom_register_handler(struct om_kcom_handler *h)
{
	struct om_kcom_handler *o;
	int rc = 0;

	if (!h->recv || !kcom_handler_range_ok(h->first, h->last))
		return -EINVAL;
	mutex_lock(&kcom_handlers_lock);
	list_for_each_entry(o, &kcom_handlers, list) {
		if (h->first <= o->last && o->first <= h->last) {
			rc = -EBUSY;
			goto out;
		}
	}
	list_add_tail(&h->list, &kcom_handlers);
out:
	mutex_unlock(&kcom_handlers_lock);
	return rc;
}
EXPORT_SYMBOL_GPL(om_kcom_register_handler);

void om_kcom_unregister_handler(struct om_kcom_handler *h)
{
	mutex_lock(&kcom_handlers_lock);
	list_del_init(&h->list);
	mutex_unlock(&kcom_handlers_lock);
}
EXPORT_SYMBOL_GPL(om_kcom_unregister_handler);

/* Gives @msg to the handler of its type; false when there is none. */
bool kcom_handler_deliver(struct om_kcom_msg *msg)
{
	struct om_kcom_handler *h;
	bool found = false;

	mutex_lock(&kcom_handlers_lock);
	list_for_each_entry(h, &kcom_handlers, list) {
		if (msg->hdr.type >= h->first && msg->hdr.type <= h->last) {
			h->recv(h, msg);
			found = true;
			break;
		}
	}
	mutex_unlock(&kcom_handlers_lock);
	return found;
}
