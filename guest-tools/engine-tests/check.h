/* SPDX-License-Identifier: GPL-2.0-only */
/* The engine test programs' checks: each failed one prints why and counts. */
#ifndef OM_ENGINE_TESTS_CHECK_H
#define OM_ENGINE_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                         \
	do {                                                     \
		if (!(cond)) {                                   \
			printf("FAIL %s:%d: ", __func__, __LINE__); \
			printf(__VA_ARGS__);                     \
			printf("\n");                            \
			failures++;                              \
		}                                                \
	} while (0)

#endif
