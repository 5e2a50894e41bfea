/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running from a sealed memfd copy of ourselves (CVE-2019-5736). */
#pragma once

#include <stdbool.h>

#include "error.h"

/* Is /proc/self/exe a sealed memfd (we were re-executed already)? */
bool hk_selfexe_is_sealed(void);
/* If not, copy ourselves into a sealed memfd and execute that with argv. */
int hk_selfexe_reexec_sealed(char **argv, struct hk_error *err);
