// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-om driver ("kcom"): the guest end of the omvm message transport.
 * This file binds the device (docs/virtio-om-device.md): two queues, rx
 * and tx, and a configuration space with this guest's node id and the
 * host's payload limit. The rest of the driver is described in kcom.h.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <uapi/linux/virtio_om.h>

#include "kcom.h"

struct kcom kcom = {
	.dev_lock = __MUTEX_INITIALIZER(kcom.dev_lock),
	.tx_lock = __SPIN_LOCK_UNLOCKED(kcom.tx_lock),
	.tx_backlog = LIST_HEAD_INIT(kcom.tx_backlog),
	.tx_wait = __WAIT_QUEUE_HEAD_INITIALIZER(kcom.tx_wait),
	.tx_work = __WORK_INITIALIZER(kcom.tx_work, kcom_tx_work),
	.tx_check = __DELAYED_WORK_INITIALIZER(kcom.tx_check, kcom_tx_check, 0),
	.rx_lock = __SPIN_LOCK_UNLOCKED(kcom.rx_lock),
	.rx_work = __DELAYED_WORK_INITIALIZER(kcom.rx_work, kcom_rx_work, 0),
};

unsigned int kcom_port_stall_ms = 5000;
module_param_named(port_stall_ms, kcom_port_stall_ms, uint, 0644);
MODULE_PARM_DESC(port_stall_ms,
		 "How long rx may wait for a /dev/om-kcom reader whose queue is full (ms)");

unsigned int kcom_port_queue_bytes = 1 << 20;
module_param_named(port_queue_bytes, kcom_port_queue_bytes, uint, 0644);
MODULE_PARM_DESC(port_queue_bytes, "Receive queue bound of a /dev/om-kcom file opened from now on");

unsigned int kcom_rx_buffers = 32;
module_param_named(rx_buffers, kcom_rx_buffers, uint, 0444);
MODULE_PARM_DESC(rx_buffers, "Receive buffers kept in the rx queue (at least 1)");

/* Reads node id and payload limit; tells the engine when the id changes. */
static void kcom_config_read(struct virtio_device *vdev)
{
	u32 node, max, old;

	virtio_cread_le(vdev, struct virtio_om_config, node_id, &node);
	virtio_cread_le(vdev, struct virtio_om_config, max_payload, &max);
	WRITE_ONCE(kcom.max_payload, min_t(u32, max, VIRTIO_OM_MAX_PAYLOAD));
	if (node > VIRTIO_OM_MAX_NODES)
		node = 0; /* not a node id: as if none were assigned yet */
	old = READ_ONCE(kcom.self);
	if (node == old)
		return;
	WRITE_ONCE(kcom.self, node);
	kcom_notify(OM_KCOM_EV_SELF, node, 0);
}

/* Runs between probe and remove only: the core reports changes then. */
static void kcom_config_work(struct work_struct *work)
{
	struct virtio_device *vdev = READ_ONCE(kcom.vdev);

	if (vdev)
		kcom_config_read(vdev);
}

static DECLARE_WORK(kcom_config_changed_work, kcom_config_work);

static void kcom_config_changed(struct virtio_device *vdev)
{
	schedule_work(&kcom_config_changed_work);
}

static int kcom_validate(struct virtio_device *vdev)
{
	if (!vdev->config->get) {
		dev_err(&vdev->dev, "no configuration space access\n");
		return -EINVAL;
	}
	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "VIRTIO_F_VERSION_1 not offered\n");
		return -ENODEV;
	}
	return 0;
}

static int kcom_probe(struct virtio_device *vdev)
{
	struct virtqueue_info info[VIRTIO_OM_QUEUE_COUNT] = {
		[VIRTIO_OM_QUEUE_RX] = { .name = "rx", .callback = kcom_rx_done },
		[VIRTIO_OM_QUEUE_TX] = { .name = "tx", .callback = kcom_tx_done },
	};
	struct virtqueue *vqs[VIRTIO_OM_QUEUE_COUNT];
	int rc;

	mutex_lock(&kcom.dev_lock);
	if (kcom.vdev) {
		dev_err(&vdev->dev, "a virtio-om device is bound already: one per guest\n");
		rc = -EBUSY;
		goto out;
	}
	rc = virtio_find_vqs(vdev, VIRTIO_OM_QUEUE_COUNT, vqs, info, NULL);
	if (rc)
		goto out;
	vdev->priv = &kcom;
	kcom.vqs[VIRTIO_OM_QUEUE_RX] = vqs[VIRTIO_OM_QUEUE_RX];
	kcom.vqs[VIRTIO_OM_QUEUE_TX] = vqs[VIRTIO_OM_QUEUE_TX];
	kcom_nodes_reset();
	WRITE_ONCE(kcom.vdev, vdev);
	kcom_config_read(vdev);
	virtio_device_ready(vdev);
	kcom_tx_start(vqs[VIRTIO_OM_QUEUE_TX],
		      virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC));
	kcom_rx_start(vqs[VIRTIO_OM_QUEUE_RX]);
out:
	mutex_unlock(&kcom.dev_lock);
	return rc;
}

static void kcom_remove(struct virtio_device *vdev)
{
	mutex_lock(&kcom.dev_lock);
	cancel_work_sync(&kcom_config_changed_work);
	kcom_rx_stop();
	kcom_tx_stop();
	virtio_reset_device(vdev);
	/* Work the last interrupts scheduled finds no queue; let it finish. */
	cancel_delayed_work_sync(&kcom.rx_work);
	cancel_work_sync(&kcom.tx_work);
	cancel_delayed_work_sync(&kcom.tx_check);
	kcom_rx_drain(kcom.vqs[VIRTIO_OM_QUEUE_RX]);
	kcom_rx_pool_drain();
	kcom_tx_drain(kcom.vqs[VIRTIO_OM_QUEUE_TX]);
	vdev->config->del_vqs(vdev);
	kcom.vqs[VIRTIO_OM_QUEUE_RX] = NULL;
	kcom.vqs[VIRTIO_OM_QUEUE_TX] = NULL;
	WRITE_ONCE(kcom.vdev, NULL);

	kcom_call_abort_all(-ENODEV);
	kcom_nodes_all_down(VIRTIO_OM_NODE_DISCONNECTED);
	if (READ_ONCE(kcom.self)) {
		WRITE_ONCE(kcom.self, 0);
		kcom_notify(OM_KCOM_EV_SELF, 0, 0);
	}
	mutex_unlock(&kcom.dev_lock);
}

static const struct virtio_device_id kcom_id_table[] = {
	{ VIRTIO_ID_OM, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, kcom_id_table);

static struct virtio_driver kcom_driver = {
	.driver.name = "virtio-om",
	.id_table = kcom_id_table,
	.validate = kcom_validate,
	.probe = kcom_probe,
	.remove = kcom_remove,
	.config_changed = kcom_config_changed,
};

/*
 * device_initcall: after fs_initcall, where the engine creates /proc/hpc,
 * and after the misc class exists.
 */
static int __init kcom_init(void)
{
	int rc;

	kcom.wq = alloc_ordered_workqueue("om-kcom", 0);
	if (!kcom.wq)
		return -ENOMEM;
	rc = kcom_port_init();
	if (rc)
		goto err;
	rc = kcom_proc_init();
	if (rc)
		pr_warn("virtio-om: no /proc/hpc/nodes (%d)\n", rc);
	rc = register_virtio_driver(&kcom_driver);
	if (rc)
		goto err;
	return 0;

err:
	/* The API stays safe without a device: senders get -ENODEV. */
	pr_err("virtio-om: init failed (%d)\n", rc);
	return rc;
}
device_initcall(kcom_init);

MODULE_DESCRIPTION("virtio-om: omvm message transport (kcom)");
MODULE_LICENSE("GPL");
