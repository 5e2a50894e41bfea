/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running from a sealed memfd copy of ourselves (CVE-2019-5736). */
#pragma once

#include <stdbool.h>

#include "error.h"

/* Is /proc/self/exe a sealed memfd (we were re-executed already)? */
bool hk_selfexe_is_sealed(void);
/*
 * A sealed memfd copy of the executable exe (the part execve loads), in
 * *ret_memfd (close-on-exec): a process executed from it has a
 * /proc/<pid>/exe nobody can write.
 */
int hk_exe_sealed_copy(int exe, int *ret_memfd, struct hk_error *err);
/* If not, copy ourselves into a sealed memfd and execute that with argv. */
int hk_selfexe_reexec_sealed(char **argv, struct hk_error *err);
