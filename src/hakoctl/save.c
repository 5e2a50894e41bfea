// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl save [-o FILE] [--format docker-archive|oci-archive] IMAGE: an
 * image out, for podman load, docker load or skopeo. The file appears only
 * when it is whole (written beside it, then renamed); without -o the
 * archive goes to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "ref.h"
#include "save.h"
#include "util.h"

/* The full name the user gave, if the image has it: that goes in the archive. */
static char **names_for(struct hk_store *s, const char *arg, const char *id)
{
	_cleanup_(hk_json_freep) struct hk_json *names = NULL;
	struct hk_error err = {0};
	char **v = hk_xmalloc(2 * sizeof(char *));
	const char *ref;

	v[0] = v[1] = NULL;
	if (hk_store_names(s, &names, &err) == 0 && hk_names_find(names, arg, &ref, &err) == 0 &&
	    strcmp(hk_json_get_string(names, ref), id) == 0)
		v[0] = hk_xstrdup(ref);
	return v;
}

int ctl_save(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	enum hk_save_format format = HK_SAVE_DOCKER_ARCHIVE;
	const char *output = NULL;
	_cleanup_(hk_strv_freep) char **refs = NULL;
	char id[HK_DIGEST_MAX], tmp[4096];
	struct hk_store s;
	int c, r, fd = 1;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+o:", opts, NULL)) != -1)
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "oci-archive") == 0)
				format = HK_SAVE_OCI_ARCHIVE;
			else if (strcmp(optarg, "docker-archive") != 0)
				return hk_error_setx(
				    err, -EINVAL, "--format \"%s\": docker-archive or oci-archive",
				    optarg);
			break;
		default:
			return hk_error_setx(err, -EINVAL, "see hakoctl save --help");
		}
	if (optind + 1 != argc)
		return hk_error_setx(err, -EINVAL, "expected one IMAGE");
	if (!output && isatty(1))
		return hk_error_setx(err, -EINVAL,
				     "refusing to write an archive to a terminal: give -o FILE");
	if ((r = ctl_store_open(g, &s, err)) < 0)
		return r;
	if ((r = hk_store_resolve(&s, argv[optind], id, err)) < 0)
		goto out;
	refs = names_for(&s, argv[optind], id);
	if (output) {
		snprintf(tmp, sizeof(tmp), "%s.hakoctl-%d", output, (int)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			r = hk_error_set(err, -errno, "create \"%s\"", tmp);
			goto out;
		}
	}
	r = hk_image_save(&s, id, refs, format, fd, err);
	if (output) {
		close(fd);
		if (r >= 0 && rename(tmp, output) < 0)
			r = hk_error_set(err, -errno, "rename to \"%s\"", output);
		if (r < 0)
			unlink(tmp);
	}
out:
	hk_store_close(&s);
	return r < 0 ? r : 0;
}
