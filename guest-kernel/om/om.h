/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KERNEL_OM_OM_H
#define _KERNEL_OM_OM_H

#define OM_ENGINE_VERSION "0.1"

/* Provided by arch/<arch>/om/: the architecture the engine migrates for. */
const char *om_arch_name(void);

#endif /* _KERNEL_OM_OM_H */
