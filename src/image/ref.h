/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image references, in docker's grammar: [DOMAIN/]PATH[:TAG][@DIGEST].
 * "busybox" is "docker.io/library/busybox:latest" as docker and podman
 * read it; a name made here (import, the built-in image) goes under
 * "localhost/", as podman's do.
 */
#pragma once

#include <stdbool.h>

#include "error.h"

/*
 * The full form of ref into out: the domain (default_domain when ref has
 * none: "docker.io" or "localhost"), "library/" for a one-part docker.io
 * name, and ":latest" when it has neither tag nor digest. A reference that
 * breaks the grammar fails with "invalid reference format" and its text.
 */
int hk_ref_normalize(const char *ref, const char *default_domain, char *out, size_t size,
		     struct hk_error *err);
/* Whether ref names a domain of its own ("localhost/x", "quay.io/x"). */
bool hk_ref_has_domain(const char *ref);
/* Split a full reference into repository and tag (or digest) for a table. */
void hk_ref_split(const char *full, char *repo, size_t rsize, const char **ret_tag);
