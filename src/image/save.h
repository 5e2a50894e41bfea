/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing images out (hakoctl save), as docker-archive (docker save's
 * manifest.json form) or oci-archive (an OCI image layout in a tar), which
 * podman, docker and skopeo load.
 *
 * The store keeps layers unpacked, not their tars, so a layer is written
 * again from its directory: in name order, overlayfs's whiteouts turned back
 * into ".wh." entries, xattrs kept but overlayfs's own. That tar is a new
 * one, so the config written carries its diff_ids, and the saved image has
 * an id of its own (the content is the same).
 */
#pragma once

#include <stdbool.h>

#include "store.h"

enum hk_save_format {
	HK_SAVE_DOCKER_ARCHIVE,
	HK_SAVE_OCI_ARCHIVE,
};

/* Write image id, with the names refs (may be empty), as an archive to fd. */
int hk_image_save(struct hk_store *s, const char *id, char *const *refs, enum hk_save_format format,
		  int fd, struct hk_error *err);

/*
 * The tree below dirfd as a tar to fd, as a layer is written (hardlinks,
 * xattrs, whiteouts in image form). With one_file_system, nothing below a
 * mount point: it is an empty directory (a running container's /proc).
 */
int hk_tar_write_tree(int dirfd, int fd, bool one_file_system, struct hk_error *err);
