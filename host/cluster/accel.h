/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Choosing the accelerator: KVM only where a probe boot under KVM reaches
 * the guest's userland (a /dev/kvm that opens is not enough: some hosts
 * offer KVM that cannot run a standard kernel), TCG otherwise.
 */
#ifndef OM_CLUSTER_ACCEL_H
#define OM_CLUSTER_ACCEL_H

#include <stddef.h>

#include "cli.h"
#include "guest.h"

#define OM_PROBE_TIMEOUT_MS 15000

struct om_accel_choice {
	enum om_accel accel;
	char reason[256];
	bool cached; /* the probe's answer came from an earlier run */
};

/*
 * Resolves requested (auto, kvm, tcg) into kvm or tcg. A probe's answer is
 * kept under cache_dir, keyed by QEMU, kernel, initramfs and host kernel,
 * so it runs once per build. Returns 0, or -ENODEV when kvm was requested
 * and does not work (the reason says why).
 */
int om_accel_choose(enum om_accel requested, const struct om_artifacts *art,
		    const char *cache_dir, const char *work_dir, struct om_accel_choice *out);

/* The same with the KVM device and the probe's time limit given (tests). */
int om_accel_choose_with(enum om_accel requested, const struct om_artifacts *art,
			 const char *cache_dir, const char *work_dir, const char *kvm_dev,
			 unsigned int probe_timeout_ms, struct om_accel_choice *out);

const char *om_accel_name(enum om_accel a);

#endif /* OM_CLUSTER_ACCEL_H */
