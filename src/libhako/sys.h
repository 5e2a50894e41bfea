/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel calls that set up a container, each narrated under --debug
 * ("mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID) ok") and each filling an
 * hk_error that names the objects on failure. Reading child.c through these
 * names reads like the classic container tutorials. None of them allocate, so
 * they are safe between clone() and execve().
 */
#pragma once

#include <sys/types.h>

#include "error.h"

int hk_sys_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		 const char *data, struct hk_error *err);
/* mount(2) onto the object an O_PATH fd refers to; what names it in messages. */
int hk_sys_mount_fd(const char *src, int dst_fd, const char *what, const char *type,
		    unsigned long flags, const char *data, struct hk_error *err);
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
