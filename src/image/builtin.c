// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The built-in image (builtin.h). It is written as a tar into a memfd and
 * imported like any rootfs tar, so it goes through the same unpacking and
 * gets a diff_id like any layer. Its timestamps are those of the busybox
 * binary, so the same busybox gives the same image id on every machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "load.h"
#include "tarwrite.h"
#include "util.h"

bool hk_builtin_wanted(const char *name)
{
	return strcmp(name, "busybox") == 0 || strcmp(name, "busybox:latest") == 0 ||
	       strcmp(name, HK_BUILTIN_NAME) == 0 || strcmp(name, "localhost/busybox") == 0;
}

static int fd_write(void *ctx, const void *buf, size_t n)
{
	int fd = *(int *)ctx;

	for (size_t done = 0; done < n;) {
		ssize_t w = write(fd, (const char *)buf + done, n - done);
		if (w < 0 && errno != EINTR)
			return -errno;
		done += w > 0 ? (size_t)w : 0;
	}
	return 0;
}

static int add(struct hk_tar *t, const char *path, mode_t mode, time_t mtime, const char *link,
	       const void *data, size_t len, struct hk_error *err)
{
	struct hk_tar_entry e = {
	    .name = path, .mode = mode, .size = len, .mtime = mtime, .link = link};
	int r = hk_tar_header(t, &e, err);

	return r < 0 || !len ? r : hk_tar_data(t, data, len, err);
}

/* The applets this busybox has, from `busybox --list`. */
static char *applets(struct hk_error *err)
{
	int fds[2];
	pid_t pid;
	struct hk_buf b = HK_BUF_INIT;
	char buf[4096];
	ssize_t n;
	int status;

	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		hk_error_set(err, -errno, "run %s --list", HK_BUILTIN_BUSYBOX);
		return NULL;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		execl(HK_BUILTIN_BUSYBOX, "busybox", "--list", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		hk_buf_add(&b, buf, (size_t)n);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !b.len) {
		hk_buf_release(&b);
		hk_error_setx(err, -ENOENT, "%s --list failed: is busybox-static installed?",
			      HK_BUILTIN_BUSYBOX);
		return NULL;
	}
	return hk_buf_detach(&b);
}

static int write_tar(int fd, struct hk_error *err)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
				     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
	static const char group[] = "root:x:0:\nnobody:x:65534:\n";
	static const char *const dirs[] = {"dev", "etc", "proc", "root", "sys", "usr", "var"};
	_cleanup_close_ int bb = open(HK_BUILTIN_BUSYBOX, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *list = NULL;
	struct hk_tar t = {fd_write, &fd, 0, 0};
	struct stat st;
	void *data;
	char path[300];
	int r;

	if (bb < 0 || fstat(bb, &st) < 0)
		return hk_error_set(
		    err, -errno, "the built-in busybox image needs %s (apt install busybox-static)",
		    HK_BUILTIN_BUSYBOX);
	if (!(list = applets(err)))
		return err->code;
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, bb, 0);
	if (data == MAP_FAILED)
		return hk_error_set(err, -errno, "mmap %s", HK_BUILTIN_BUSYBOX);
	r = add(&t, "bin", S_IFDIR | 0755, st.st_mtime, NULL, NULL, 0, err);
	if (r >= 0)
		r = add(&t, "bin/busybox", S_IFREG | 0755, st.st_mtime, NULL, data,
			(size_t)st.st_size, err);
	for (char *save = NULL, *app = strtok_r(list, "\n", &save); r >= 0 && app;
	     app = strtok_r(NULL, "\n", &save)) {
		if (strcmp(app, "busybox") == 0 || strchr(app, '/'))
			continue;
		snprintf(path, sizeof(path), "bin/%s", app);
		r = add(&t, path, S_IFLNK | 0777, st.st_mtime, "busybox", NULL, 0, err);
	}
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(dirs); i++)
		r = add(&t, dirs[i], S_IFDIR | (strcmp(dirs[i], "root") ? 0755 : 0700), st.st_mtime,
			NULL, NULL, 0, err);
	if (r >= 0)
		r = add(&t, "tmp", S_IFDIR | 01777, st.st_mtime, NULL, NULL, 0, err);
	if (r >= 0)
		r = add(&t, "etc/passwd", S_IFREG | 0644, st.st_mtime, NULL, passwd,
			sizeof(passwd) - 1, err);
	if (r >= 0)
		r = add(&t, "etc/group", S_IFREG | 0644, st.st_mtime, NULL, group,
			sizeof(group) - 1, err);
	if (r >= 0)
		r = hk_tar_finish(&t, err);
	munmap(data, (size_t)st.st_size);
	return r;
}

int hk_builtin_image(struct hk_store *s, char *ret_id, struct hk_error *err)
{
	_cleanup_close_ int fd = memfd_create("hako-busybox-image", MFD_CLOEXEC);
	_cleanup_(hk_json_freep) struct hk_json *cfg = hk_json_new(HK_JSON_OBJECT);
	struct hk_load_opts o = {.progress_fd = -1, .max_bytes = 1ull << 30};
	struct hk_json *c;
	struct stat st;
	char created[64];
	int r;

	if (hk_store_resolve(s, HK_BUILTIN_NAME, ret_id, err) == 0)
		return 0;
	hk_error_clear(err);
	if (fd < 0)
		return hk_error_set(err, -errno, "memfd_create");
	if ((r = write_tar(fd, err)) < 0)
		return r;
	if (lseek(fd, 0, SEEK_SET) < 0 || stat(HK_BUILTIN_BUSYBOX, &st) < 0)
		return hk_error_set(err, -errno, "built-in image");
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&st.st_mtime));
	hk_json_set(cfg, "architecture",
		    hk_json_new_string(strchr(hk_platform_default(), '/') + 1));
	hk_json_set(cfg, "os", hk_json_new_string("linux"));
	hk_json_set(cfg, "created", hk_json_new_string(created));
	c = hk_json_child(cfg, "config", HK_JSON_OBJECT);
	hk_json_set(
	    c, "Env",
	    hk_json_new_strv((const char *const[]){
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL}));
	hk_json_set(c, "Cmd", hk_json_new_strv((const char *const[]){"sh", NULL}));
	c = hk_json_push(hk_json_child(cfg, "history", HK_JSON_ARRAY), hk_json_new(HK_JSON_OBJECT));
	hk_json_set(c, "created", hk_json_new_string(created));
	hk_json_set(c, "created_by",
		    hk_json_new_string("hakoctl: built-in, from " HK_BUILTIN_BUSYBOX));
	if ((r = hk_image_import(s, fd, "the built-in busybox image", cfg, &o, ret_id, err)) < 0)
		return r;
	if ((r = hk_store_lock(s, err)) < 0)
		return r;
	r = hk_store_tag(s, HK_BUILTIN_NAME, ret_id, err);
	hk_store_unlock(s);
	return r;
}
