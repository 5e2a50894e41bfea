// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl load [-i FILE|-] and hakoctl import FILE|- [NAME[:TAG]]: images in.
 * What the file is comes from its content (image/load.h); "oci:DIR[:TAG]"
 * names an OCI image layout directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load.h"
#include "commands.h"
#include "log.h"
#include "runtime.h"
#include "save.h"
#include "container.h"
#include "ref.h"
#include "util.h"

static int open_input(const char *path, int *ret_fd, struct hk_error *err)
{
	struct stat st;

	if (!path || strcmp(path, "-") == 0) {
		if (isatty(0))
			return hk_error_setx(err, -EINVAL,
					     "no input: give a file with -i, or pipe one in");
		*ret_fd = 0;
		return 0;
	}
	*ret_fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*ret_fd < 0)
		return hk_error_set(err, -errno, "open \"%s\"", path);
	if (fstat(*ret_fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		close(*ret_fd);
		return hk_error_setx(err, -EISDIR,
				     "\"%s\" is a directory (an OCI layout is given as oci:%s)",
				     path, path);
	}
	fcntl(*ret_fd, F_SETFL, 0);
	return 0;
}

int ctl_load(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"input", required_argument, NULL, 'i'},
	    {"platform", required_argument, NULL, 'p'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	struct hk_load_opts o = {.progress_fd = 2, .max_bytes = ctl_max_bytes()};
	const char *input = NULL;
	_cleanup_close_ int fd = -1;
	struct hk_store s;
	struct hk_loaded *loaded = NULL;
	size_t n = 0;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+i:q", opts, NULL)) != -1)
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'p':
			o.platform = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl load --help");
		}
	if (optind < argc)
		return hk_error_setx(
		    err, -EINVAL, "unexpected argument \"%s\" (the file is -i FILE)", argv[optind]);
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if (input && strncmp(input, "oci:", 4) == 0) {
		_cleanup_free_ char *dir = hk_xstrdup(input + 4);
		char *tag = strrchr(dir, ':');
		if (tag)
			*tag++ = '\0';
		o.ref_name = tag;
		r = hk_image_load_oci_dir(&s, dir, &o, &loaded, &n, err);
	} else if ((r = open_input(input, &fd, err)) >= 0) {
		r = hk_image_load(&s, fd, input ? input : "stdin", &o, &loaded, &n, err);
	}
	hk_store_close(&s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!loaded[i].names || !loaded[i].names[0])
			printf("Loaded image: %s\n", loaded[i].id);
		for (char **name = loaded[i].names; name && *name; name++)
			printf("Loaded image: %s\n", *name);
	}
	hk_loaded_free(loaded, n);
	return 0;
}

/* One --change: "CMD ["a","b"]", "CMD a b" (a shell form), "ENV K=V", ... */
static int parse_argv_value(const char *v, struct hk_json **ret, struct hk_error *err)
{
	const char *sh[] = {"/bin/sh", "-c", v, NULL};

	if (v[0] != '[') {
		*ret = hk_json_new_strv(sh);
		return 0;
	}
	if (hk_json_parse(v, strlen(v), ret, err) < 0)
		return hk_error_prefix(err, "--change: \"%s\"", v);
	for (size_t i = 0; i < (*ret)->n; i++)
		if ((*ret)->type != HK_JSON_ARRAY || (*ret)->items[i]->type != HK_JSON_STRING) {
			hk_json_free(*ret);
			return hk_error_setx(err, -EINVAL,
					     "--change: \"%s\": not a JSON list of strings", v);
		}
	if ((*ret)->type != HK_JSON_ARRAY) {
		hk_json_free(*ret);
		return hk_error_setx(err, -EINVAL, "--change: \"%s\": not a JSON list", v);
	}
	return 0;
}

static int apply_change(struct hk_json *cfg, const char *change, struct hk_error *err)
{
	char word[16];
	size_t n = strcspn(change, " =");
	const char *v = change + n;
	struct hk_json *value = NULL;
	int r;

	if (n >= sizeof(word) || !*v)
		return hk_error_setx(err, -EINVAL, "--change \"%s\": expected INSTRUCTION VALUE",
				     change);
	for (size_t i = 0; i < n; i++)
		word[i] = (char)(change[i] >= 'a' && change[i] <= 'z' ? change[i] - 32 : change[i]);
	word[n] = '\0';
	v += strspn(v, " =");
	if (!strcmp(word, "CMD") || !strcmp(word, "ENTRYPOINT")) {
		if ((r = parse_argv_value(v, &value, err)) < 0)
			return r;
		hk_json_set(cfg, !strcmp(word, "CMD") ? "Cmd" : "Entrypoint", value);
	} else if (!strcmp(word, "ENV")) {
		char kv[4096];
		size_t k = strcspn(v, "= ");
		snprintf(kv, sizeof(kv), "%.*s=%s", (int)k, v, v[k] ? v + k + 1 : "");
		hk_json_push(hk_json_child(cfg, "Env", HK_JSON_ARRAY), hk_json_new_string(kv));
	} else if (!strcmp(word, "WORKDIR")) {
		hk_json_set(cfg, "WorkingDir", hk_json_new_string(v));
	} else if (!strcmp(word, "USER")) {
		hk_json_set(cfg, "User", hk_json_new_string(v));
	} else if (!strcmp(word, "STOPSIGNAL")) {
		hk_json_set(cfg, "StopSignal", hk_json_new_string(v));
	} else if (!strcmp(word, "EXPOSE")) {
		char port[64];
		snprintf(port, sizeof(port), "%s%s", v, strchr(v, '/') ? "" : "/tcp");
		hk_json_set(hk_json_child(cfg, "ExposedPorts", HK_JSON_OBJECT), port,
			    hk_json_new(HK_JSON_OBJECT));
	} else if (!strcmp(word, "LABEL")) {
		char key[256];
		size_t k = strcspn(v, "=");
		if (!v[k])
			return hk_error_setx(err, -EINVAL, "--change \"%s\": LABEL KEY=VALUE",
					     change);
		snprintf(key, sizeof(key), "%.*s", (int)k, v);
		hk_json_set(hk_json_child(cfg, "Labels", HK_JSON_OBJECT), key,
			    hk_json_new_string(v + k + 1));
	} else if (!strcmp(word, "VOLUME")) {
		hk_json_set(hk_json_child(cfg, "Volumes", HK_JSON_OBJECT), v,
			    hk_json_new(HK_JSON_OBJECT));
	} else {
		return hk_error_setx(err, -EINVAL,
				     "--change \"%s\": %s is not one of CMD, ENTRYPOINT, ENV, "
				     "EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR",
				     change, word);
	}
	return 0;
}

/* The config of an imported rootfs: this machine's platform, now, the changes. */
static int import_config(char **changes, size_t n, const char *message, struct hk_json **ret,
			 struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *cfg = hk_json_new(HK_JSON_OBJECT);
	const char *platform = hk_platform_default();
	struct hk_json *c, *h;
	char arch[32], now[64];
	int r;

	snprintf(arch, sizeof(arch), "%s", strchr(platform, '/') + 1);
	*strchrnul(arch, '/') = '\0';
	hk_time_rfc3339(now, sizeof(now));
	hk_json_set(cfg, "architecture", hk_json_new_string(arch));
	hk_json_set(cfg, "os", hk_json_new_string("linux"));
	hk_json_set(cfg, "created", hk_json_new_string(now));
	c = hk_json_child(cfg, "config", HK_JSON_OBJECT);
	hk_json_push(hk_json_child(c, "Env", HK_JSON_ARRAY),
		     hk_json_new_string(
			 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	for (size_t i = 0; i < n; i++)
		if ((r = apply_change(c, changes[i], err)) < 0)
			return r;
	h = hk_json_push(hk_json_child(cfg, "history", HK_JSON_ARRAY), hk_json_new(HK_JSON_OBJECT));
	hk_json_set(h, "created", hk_json_new_string(now));
	hk_json_set(h, "created_by", hk_json_new_string("hakoctl import"));
	if (message)
		hk_json_set(h, "comment", hk_json_new_string(message));
	*ret = TAKE_PTR(cfg);
	return 0;
}

int ctl_import(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"change", required_argument, NULL, 'c'},
	    {"message", required_argument, NULL, 'm'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	struct hk_load_opts o = {.progress_fd = 2, .max_bytes = ctl_max_bytes()};
	_cleanup_(hk_json_freep) struct hk_json *cfg = NULL;
	_cleanup_free_ char **changes = hk_xmalloc(argc * sizeof(char *));
	const char *message = NULL, *name = NULL;
	char full[300], id[HK_DIGEST_MAX];
	_cleanup_close_ int fd = -1;
	struct hk_store s;
	size_t n = 0;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+c:m:q", opts, NULL)) != -1)
		switch (c) {
		case 'c':
			changes[n++] = optarg;
			break;
		case 'm':
			message = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl import --help");
		}
	if (optind >= argc || argc - optind > 2)
		return hk_error_setx(err, -EINVAL, "expected FILE|- [NAME[:TAG]]");
	if (optind + 1 < argc) {
		name = argv[optind + 1];
		if ((r = hk_ref_normalize(name, "localhost", full, sizeof(full), err)) < 0)
			return r;
	}
	if ((r = import_config(changes, n, message, &cfg, err)) < 0 ||
	    (r = open_input(argv[optind], &fd, err)) < 0 || (r = ctl_store_open(g, &s, err)) < 0)
		return r;
	r = hk_image_import(&s, fd, argv[optind], cfg, &o, id, err);
	if (r >= 0 && name && (r = hk_store_lock(&s, err)) >= 0) {
		r = hk_store_tag(&s, full, id, err);
		hk_store_unlock(&s);
	}
	hk_store_close(&s);
	if (r < 0)
		return r;
	printf("%s\n", id);
	return 0;
}

/*
 * hakoctl commit [-m MESSAGE] [-a AUTHOR] [-c CHANGE]... [-p|--pause=false]
 * CONTAINER [NAME[:TAG]]: a new image, the container's image with one more
 * layer, its upper dir (whiteouts and opaque dirs back in the image form);
 * a running container is paused while it is read, unless --pause=false.
 */
int ctl_commit(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"message", required_argument, NULL, 'm'}, {"author", required_argument, NULL, 'a'},
	    {"change", required_argument, NULL, 'c'},  {"pause", optional_argument, NULL, 'p'},
	    {"quiet", no_argument, NULL, 'q'},	       {NULL, 0, NULL, 0},
	};
	struct hk_load_opts o = {.progress_fd = -1, .max_bytes = ctl_max_bytes(), .quiet = true};
	_cleanup_(hk_json_freep) struct hk_json *base = NULL, *cfg = NULL;
	_cleanup_free_ char **changes = hk_xmalloc((size_t)argc * sizeof(char *));
	const char *message = NULL, *author = NULL, *name = NULL, *image;
	char full[300], id[HK_DIGEST_MAX], now[64], upper[128];
	_cleanup_close_ int tmp = -1, up = -1;
	bool pause = true, paused = false;
	struct hk_ctr c = {0};
	struct hk_json *h;
	struct hk_store s;
	size_t n = 0;
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+m:a:c:pq", opts, NULL)) != -1)
		switch (ch) {
		case 'm':
			message = optarg;
			break;
		case 'a':
			author = optarg;
			break;
		case 'c':
			changes[n++] = optarg;
			break;
		case 'p':
			pause = !optarg || strcmp(optarg, "false") != 0;
			break;
		case 'q':
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl commit --help");
		}
	if (optind >= argc || argc - optind > 2)
		return hk_error_setx(err, -EINVAL, "commit: expected CONTAINER [NAME[:TAG]]");
	if (optind + 1 < argc) {
		name = argv[optind + 1];
		if ((r = hk_ref_normalize(name, "localhost", full, sizeof(full), err)) < 0)
			return r;
	}
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_ctr_find(&s, ctl_run_dir(g), argv[optind], &c, err)) < 0)
		goto out;
	image = hk_json_get_string(c.record, "ImageID");
	if (!image || (r = hk_store_image_config(&s, image, &base, err)) < 0) {
		r = r < 0 ? r : hk_error_setx(err, -EINVAL, "container %s: no image", c.name);
		goto out;
	}
	/* The image's config, the changes, and a line of history for the new layer. */
	cfg = hk_json_copy(base);
	for (size_t i = 0; i < n; i++)
		if ((r = apply_change(hk_json_child(cfg, "config", HK_JSON_OBJECT), changes[i],
				      err)) < 0)
			goto out;
	hk_time_rfc3339(now, sizeof(now));
	hk_json_set(cfg, "created", hk_json_new_string(now));
	if (author)
		hk_json_set(cfg, "author", hk_json_new_string(author));
	h = hk_json_push(hk_json_child(cfg, "history", HK_JSON_ARRAY), hk_json_new(HK_JSON_OBJECT));
	hk_json_set(h, "created", hk_json_new_string(now));
	hk_json_set(h, "created_by", hk_json_new_string("hakoctl commit"));
	if (message)
		hk_json_set(h, "comment", hk_json_new_string(message));
	/* The upper dir as a layer tar, in a file of the store's tmp/ that has no name. */
	snprintf(upper, sizeof(upper), "containers/%s/upper", c.id);
	tmp = openat(s.dirfd, "tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	up = openat(s.dirfd, upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmp < 0 || up < 0) {
		r = hk_error_set(err, -errno, "container %s", c.name);
		goto out;
	}
	if (pause && c.status == HK_CTR_RUNNING && !c.paused) {
		const char *args[] = {"pause", c.id, NULL};
		paused = ctl_runtime_call(g, args, true, err) == 0;
		hk_error_clear(err);
	}
	r = hk_tar_write_tree(up, tmp, false, err);
	if (paused) {
		const char *args[] = {"resume", c.id, NULL};
		struct hk_error e = {0};
		if (ctl_runtime_call(g, args, true, &e) != 0)
			hk_warn("container %s: not resumed: %s", c.name, e.msg);
	}
	if (r < 0 || lseek(tmp, 0, SEEK_SET) < 0 ||
	    (r = hk_image_import(&s, tmp, "commit", cfg, &o, id, err)) < 0) {
		r = r < 0 ? r : hk_error_set(err, -errno, "lseek");
		goto out;
	}
	if (name && (r = hk_store_lock(&s, err)) >= 0) {
		r = hk_store_tag(&s, full, id, err);
		hk_store_unlock(&s);
	}
	if (r >= 0)
		printf("%s\n", id);
out:
	hk_ctr_free(&c);
	hk_store_close(&s);
	return r < 0 ? r : 0;
}
