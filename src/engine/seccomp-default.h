/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seccomp profile of a container hakoctl runs: the default one, or one
 * from a file (--security-opt seccomp=FILE) in docker's form (archMap,
 * includes/excludes) or the OCI runtime spec's, as linux.seccomp.
 */
#pragma once

#include "error.h"
#include "json.h"

/* The profile as linux.seccomp: file's (converted), or the default when file is NULL. */
int hk_seccomp_profile(const char *file, struct hk_json **ret, struct hk_error *err);
