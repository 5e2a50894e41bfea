/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel calls that set up a container, each narrated under --debug
 * ("mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID) ok") and each filling an
 * hk_error that names the objects on failure. Reading child.c through these
 * names reads like the classic container tutorials. None of them allocate, so
 * they are safe between clone() and execve().
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

int hk_sys_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		 const char *data, struct hk_error *err);
/* mount(2) onto the object an O_PATH fd refers to; what names it in messages. */
int hk_sys_mount_fd(const char *src, int dst_fd, const char *what, const char *type,
		    unsigned long flags, const char *data, struct hk_error *err);
/*
 * The new mount API, for mounts made detached and attached last (sys.c says
 * why). hk_sys_fsmount: fsopen + fsconfig (source, the superblock flags of
 * flags, each option of data) + fsmount with flags' per-mount attributes.
 * hk_sys_open_tree: a detached copy (OPEN_TREE_CLONE) of path below dirfd
 * ("" for dirfd itself), with its submounts when recursive.
 */
int hk_sys_fsmount(const char *type, const char *src, const char *data, unsigned long flags,
		   int *ret_mfd, struct hk_error *err);
int hk_sys_open_tree(int dirfd, const char *path, const char *what, bool recursive, int *ret_mfd,
		     struct hk_error *err);
/* mount_setattr(2) on the mount mfd (and its submounts when recursive). */
int hk_sys_mount_setattr(int mfd, const char *what, bool recursive, unsigned long long set,
			 unsigned long long clr, unsigned long long propagation,
			 struct hk_error *err);
/* move_mount(2) of the mount mfd onto the object dst_fd refers to. */
int hk_sys_move_mount(int mfd, int dst_fd, const char *what, struct hk_error *err);
/*
 * A procfs of our own to write settings through (sysctls, oom_score_adj, LSM
 * attributes): a private, detached instance no one else can have mounted
 * over (else, where proc may not be mounted, /proc if it is a procfs root).
 * It shows everything: close it before the container may run anything.
 */
int hk_proc_open(int *ret_fd, struct hk_error *err);
/* MS_* per-mount flags as MOUNT_ATTR_* to set and clear (atime is a field). */
void hk_mount_attr_from_flags(unsigned long flags, unsigned long long *ret_set,
			      unsigned long long *ret_clr);
int hk_sys_umount2(const char *target, int flags, struct hk_error *err);
int hk_sys_pivot_root(const char *new_root, const char *put_old, struct hk_error *err);
int hk_sys_chroot(const char *path, struct hk_error *err);
int hk_sys_chdir(const char *path, struct hk_error *err);
int hk_sys_unshare(int flags, struct hk_error *err);
int hk_sys_setns(int fd, int nstype, const char *path, struct hk_error *err);
int hk_sys_sethostname(const char *name, struct hk_error *err);
int hk_sys_setdomainname(const char *name, struct hk_error *err);

/* Render flags for narration into buf ("CLONE_NEWPID|CLONE_NEWNS"). */
const char *hk_clone_flags_str(int flags, char *buf, size_t size);
const char *hk_mount_flags_str(unsigned long flags, char *buf, size_t size);
