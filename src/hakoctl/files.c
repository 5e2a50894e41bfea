// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A container's files: hakoctl export (them all, as a tar) and hakoctl cp
 * (some, out or in). A running container's are reached through its
 * process's root; a stopped one's through its overlay, mounted in a child
 * of ours in a mount namespace of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "monitor.h"
#include "paths.h"
#include "rootfs.h"
#include "save.h"
#include "util.h"
#include "volume.h"

int ctl_container_mounted(const struct ctl_globals *g, const char *id, bool write,
			  int (*fn)(int rootfd, void *arg, struct hk_error *err), void *arg,
			  struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *image = NULL;
	_cleanup_free_ const char **ids = NULL;
	_cleanup_free_ char *image_id = NULL;
	_cleanup_close_ int dirfd = -1, runfd = -1, rootfd = -1;
	char dir[128], rootfs[4096];
	struct hk_store s;
	size_t n, len;
	int r;

	/* Layers and upper dir must be reached through this namespace's mounts. */
	if ((r = ctl_own_mount_namespace(err)) < 0 || (r = ctl_store_open(g, &s, err)) < 0)
		return r;
	snprintf(dir, sizeof(dir), "containers/%s", id);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", ctl_run_dir(g));
	if ((dirfd = openat(s.dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "container %s", id);
		goto out;
	}
	if ((r = hk_read_regular_file_at(dirfd, "image", 128, &image_id, &len, err)) < 0 ||
	    (r = hk_store_image_config(&s, image_id, &image, err)) < 0 ||
	    (r = hk_image_diff_ids(image, &ids, &n, err)) < 0 ||
	    (r = hk_mkdir_p(rootfs, 0700, err)) < 0)
		goto out;
	if ((runfd = open(ctl_run_dir(g), O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "%s", ctl_run_dir(g));
		goto out;
	}
	r = write ? hk_rootfs_mount(&s, dirfd, runfd, ids, n, false, err)
		  : hk_rootfs_mount_ro(&s, dirfd, runfd, ids, n, err);
	if (r < 0)
		goto out;
	if ((rootfd = openat(runfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = hk_error_set(err, -errno, "%s", rootfs);
		goto out;
	}
	r = fn(rootfd, arg, err);
out:
	hk_store_close(&s);
	return r;
}

static int with_container_root(const struct ctl_globals *g, const struct hk_ctr *c, bool write,
			       int (*fn)(int rootfd, void *arg, struct hk_error *err), void *arg,
			       struct hk_error *err);

static int export_tree(int rootfd, void *arg, struct hk_error *err)
{
	return hk_tar_write_tree(rootfd, *(const int *)arg, true, err);
}

/*
 * hakoctl export [-o FILE] CONTAINER: the container's files as a tar (what
 * the tutorials import). A running one is read through its process's root,
 * its mounts (/proc, /dev...) as empty dirs; a stopped one through a read-only
 * overlay of its upper dir on its image's layers.
 */
int ctl_export(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	const char *output = NULL;
	struct hk_ctr c = {0};
	struct hk_store s;
	int ch, r, out = 1;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		if (ch != 'o')
			return hk_error_setx(err, -EINVAL, "see hakoctl export --help");
		output = optarg;
	}
	if (argc - optind != 1)
		return hk_error_setx(err, -EINVAL, "export: expected one CONTAINER");
	if (!output && isatty(1))
		return hk_error_setx(err, -EINVAL,
				     "not writing a tar to a terminal: give -o FILE, or a pipe");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	r = hk_ctr_find(&s, ctl_run_dir(g), argv[optind], &c, err);
	hk_store_close(&s);
	if (r < 0)
		goto out;
	if (output && (out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		r = hk_error_set(err, -errno, "%s", output);
		goto out;
	}
	r = with_container_root(g, &c, false, export_tree, &out, err);
	if (output) {
		close(out);
		if (r < 0)
			unlink(output); /* no half tar left */
	}
out:
	hk_ctr_free(&c);
	return r;
}

/* Copy the file or tree at srcfd (an O_PATH fd, what stat says in st) to dirfd/name. */
static int copy_entry(int srcfd, const struct stat *st, int dirfd, const char *name,
		      struct hk_error *err)
{
	char self[32];
	_cleanup_close_ int from = -1, to = -1;

	if (S_ISDIR(st->st_mode)) {
		if (mkdirat(dirfd, name, st->st_mode & 07777) < 0 && errno != EEXIST)
			return hk_error_set(err, -errno, "mkdir \"%s\"", name);
		from = open(hk_fd_path(srcfd, self), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		to = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (from < 0 || to < 0)
			return hk_error_set(err, -errno, "copy into \"%s\"", name);
		return hk_copy_tree(from, to, err);
	}
	if (!S_ISREG(st->st_mode))
		return hk_error_setx(err, -EINVAL, "\"%s\": only files and directories are copied",
				     name);
	from = open(hk_fd_path(srcfd, self), O_RDONLY | O_CLOEXEC);
	/* Never through a symlink that is there: it is replaced, not followed. */
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT && errno != EISDIR)
		return hk_error_set(err, -errno, "\"%s\"", name);
	to = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    st->st_mode & 07777);
	if (from < 0 || to < 0)
		return hk_error_set(err, -errno, "copy to \"%s\"", name);
	for (char buf[65536];;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 || write(to, buf, (size_t)n) != n)
			return hk_error_set(err, -errno, "copy to \"%s\"", name);
	}
	if (fchown(to, st->st_uid, st->st_gid) < 0 || fchmod(to, st->st_mode & 07777) < 0)
		return hk_error_set(err, -errno, "copy to \"%s\": owner and mode", name);
	return 0;
}

/*
 * Where a copy goes, as docker's cp: into dst when it is a directory (under
 * the source's own name), else as dst itself. dst is resolved by open_dst,
 * below a root (the container's, inside it) or on the host.
 */
struct cp_side {
	int rootfd; /* the container's root, or -1: the host */
};

static int open_at_side(const struct cp_side *side, const char *path, int *ret_fd,
			struct hk_error *err)
{
	if (side->rootfd >= 0)
		return hk_path_open_in_root(side->rootfd, path, 0, ret_fd, err);
	if ((*ret_fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "\"%s\"", path);
	return 0;
}

static int do_copy(const struct cp_side *from, const char *src, const struct cp_side *to,
		   const char *dst, struct hk_error *err)
{
	_cleanup_close_ int sfd = -1, dfd = -1, parent = -1;
	_cleanup_free_ char *d = hk_xstrdup(dst), *sc = hk_xstrdup(src);
	char *slash, *base = basename(sc);
	struct stat st, dt;
	int r;

	if ((r = open_at_side(from, src, &sfd, err)) < 0)
		return r;
	if (fstat(sfd, &st) < 0)
		return hk_error_set(err, -errno, "\"%s\"", src);
	/* dst there and a directory: into it */
	if (open_at_side(to, dst, &dfd, err) == 0 && fstat(dfd, &dt) == 0 && S_ISDIR(dt.st_mode)) {
		char self[32];
		_cleanup_close_ int dir =
		    open(hk_fd_path(dfd, self), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return hk_error_set(err, -errno, "\"%s\"", dst);
		return copy_entry(sfd, &st, dir, strcmp(base, "/") ? base : ".", err);
	}
	hk_error_clear(err);
	/* else as dst: its parent must be there */
	while (strlen(d) > 1 && d[strlen(d) - 1] == '/')
		d[strlen(d) - 1] = '\0';
	slash = strrchr(d, '/');
	const char *name = slash ? slash + 1 : d;
	if (slash)
		*slash = '\0';
	if ((r = open_at_side(to, slash ? (*d ? d : "/") : ".", &parent, err)) < 0)
		return r;
	char self[32];
	_cleanup_close_ int pdir =
	    open(hk_fd_path(parent, self), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pdir < 0 || !*name || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
		return hk_error_set(err, pdir < 0 ? -errno : -EINVAL, "\"%s\"", dst);
	return copy_entry(sfd, &st, pdir, name, err);
}

/* The container's root: its process's while it runs; else its overlay, in a child of ours. */
static int with_container_root(const struct ctl_globals *g, const struct hk_ctr *c, bool write,
			       int (*fn)(int rootfd, void *arg, struct hk_error *err), void *arg,
			       struct hk_error *err)
{
	char root[64];
	int status;
	pid_t pid;

	if (c->status == HK_CTR_RUNNING && c->init > 0) {
		_cleanup_close_ int rootfd = -1;
		snprintf(root, sizeof(root), "/proc/%d/root", (int)c->init);
		if ((rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return hk_error_set(err, -errno, "the root of container \"%s\"", c->name);
		return fn(rootfd, arg, err);
	}
	if ((pid = fork()) < 0)
		return hk_error_set(err, -errno, "fork");
	if (pid == 0) {
		struct hk_error e = {0};
		int r = ctl_container_mounted(g, c->id, write, fn, arg, &e);
		if (r < 0)
			fprintf(stderr, "hakoctl: %s\n", e.msg);
		_exit(r < 0 ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hk_error_set(err, -errno, "waitpid");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0
		   ? 0
		   : hk_error_setx(err, -EIO, "container \"%s\": its files were not reached",
				   c->name);
}

struct cp_job {
	const char *src, *dst;
	bool into; /* host to container */
};

static int cp_in_root(int rootfd, void *arg, struct hk_error *err)
{
	const struct cp_job *j = arg;
	struct cp_side host = {-1}, ctr = {rootfd};

	return j->into ? do_copy(&host, j->src, &ctr, j->dst, err)
		       : do_copy(&ctr, j->src, &host, j->dst, err);
}

/*
 * hakoctl cp CONTAINER:PATH HOSTPATH | HOSTPATH CONTAINER:PATH. The
 * container's side is resolved inside its root, a component at a time with
 * no path looked up twice (the in-root walk): a symlink in it, or a "..",
 * never leads out of it (the docker cp CVEs), and a symlink at the
 * destination is replaced, not written through.
 */
int ctl_cp(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	char *a, *b, *colon;
	struct cp_job j;
	struct hk_ctr c = {0};
	struct hk_store s;
	int r;

	if (argc != 3)
		return hk_error_setx(err, -EINVAL,
				     "cp CONTAINER:PATH HOSTPATH | HOSTPATH CONTAINER:PATH");
	a = argv[1], b = argv[2];
	/* A host path is absolute or relative with a "/" or "." first; NAME:PATH is a container. */
	bool a_ctr = a[0] != '/' && a[0] != '.' && (colon = strchr(a, ':'));
	bool b_ctr = b[0] != '/' && b[0] != '.' && strchr(b, ':');
	if (a_ctr == b_ctr)
		return hk_error_setx(err, -EINVAL,
				     "cp: one side is CONTAINER:PATH, the other a host path");
	char *spec = a_ctr ? a : b;
	colon = strchr(spec, ':');
	*colon = '\0';
	j = (struct cp_job){a_ctr ? colon + 1 : a, a_ctr ? b : colon + 1, !a_ctr};
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	r = hk_ctr_find(&s, ctl_run_dir(g), spec, &c, err);
	hk_store_close(&s);
	if (r >= 0)
		r = with_container_root(g, &c, j.into, cp_in_root, &j, err);
	hk_ctr_free(&c);
	return r;
}
