// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hakoctl volume create [NAME] | ls [-q] | inspect NAME... | rm [-f] NAME... |
 * prune [-a]: the store's volumes (volume.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "container.h"
#include "util.h"
#include "volume.h"

static int volume_create(struct hk_store *s, int argc, char **argv, struct hk_error *err)
{
	char name[80], data[4096];
	bool created;
	int r;

	if (argc > 2)
		return hk_error_setx(err, -EINVAL, "volume create [NAME]");
	if (argc == 2 && !hk_ctr_name_valid(argv[1]))
		return hk_error_setx(
		    err, -EINVAL,
		    "\"%s\": a volume name is letters, digits and \"_.-\", and starts "
		    "with a letter or digit",
		    argv[1]);
	if ((r = hk_volume_get(s, argc == 2 ? argv[1] : NULL, name, sizeof(name), &created, data,
			       sizeof(data), err)) < 0)
		return r;
	printf("%s\n", name);
	return 0;
}

static int volume_ls(struct hk_store *s, int argc, char **argv, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *list = NULL;
	bool quiet = argc == 2 && (strcmp(argv[1], "-q") == 0 || strcmp(argv[1], "--quiet") == 0);
	int r;

	if (argc > 2 || (argc == 2 && !quiet))
		return hk_error_setx(err, -EINVAL, "volume ls [-q]");
	if ((r = hk_volume_list(s, &list, err)) < 0)
		return r;
	if (!quiet)
		printf("%-8s  %s\n", "DRIVER", "VOLUME NAME");
	for (size_t i = 0; i < list->n; i++)
		printf(quiet ? "%.0s%s\n" : "%-8s  %s\n", "local",
		       hk_json_get_string(list->items[i], "Name"));
	return 0;
}

static int volume_inspect(struct hk_store *s, int argc, char **argv, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *list = NULL;
	_cleanup_(hk_json_freep) struct hk_json *out = hk_json_new(HK_JSON_ARRAY);
	struct hk_buf b = HK_BUF_INIT;
	int r;

	if (argc < 2)
		return hk_error_setx(err, -EINVAL, "volume inspect NAME...");
	if ((r = hk_volume_list(s, &list, err)) < 0)
		return r;
	for (int i = 1; i < argc; i++) {
		struct hk_json *found = NULL;
		for (size_t j = 0; j < list->n && !found; j++)
			if (strcmp(hk_json_get_string(list->items[j], "Name"), argv[i]) == 0)
				found = list->items[j];
		if (!found)
			return hk_error_setx(err, -ENOENT, "no such volume: \"%s\"", argv[i]);
		found = hk_json_copy(found);
		hk_json_set(found, "Driver", hk_json_new_string("local"));
		hk_json_set(found, "UsedBy", hk_json_new_int(hk_volume_users(s, argv[i])));
		hk_json_push(out, found);
	}
	hk_json_write_pretty(&b, out);
	printf("%s\n", b.buf);
	hk_buf_release(&b);
	return 0;
}

static int volume_rm(struct hk_store *s, int argc, char **argv, struct hk_error *err)
{
	bool force = false;
	int i = 1, failed = 0;

	if (i < argc && (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0))
		force = true, i++;
	if (i == argc)
		return hk_error_setx(err, -EINVAL, "volume rm [-f] NAME...");
	for (; i < argc; i++) {
		if (hk_volume_remove(s, argv[i], force, err) < 0) {
			fprintf(stderr, "hakoctl volume rm: %s\n", err->msg);
			hk_error_clear(err);
			failed = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	return failed ? hk_error_setx(err, -EINVAL, "not every volume: see above") : 0;
}

/* Unused volumes go: the anonymous ones, or with -a all. */
static int volume_prune(struct hk_store *s, int argc, char **argv, struct hk_error *err)
{
	_cleanup_(hk_json_freep) struct hk_json *list = NULL;
	bool all = argc == 2 && (strcmp(argv[1], "-a") == 0 || strcmp(argv[1], "--all") == 0);
	int r;

	if (argc > 2 || (argc == 2 && !all))
		return hk_error_setx(err, -EINVAL, "volume prune [-a]");
	if ((r = hk_volume_list(s, &list, err)) < 0)
		return r;
	for (size_t i = 0; i < list->n; i++) {
		const char *name = hk_json_get_string(list->items[i], "Name");
		const struct hk_json *anon = hk_json_get(list->items[i], "Anonymous");
		if (!all && !(anon && anon->boolean))
			continue;
		if (hk_volume_remove(s, name, false, err) == 0)
			printf("%s\n", name);
		hk_error_clear(err);
	}
	return 0;
}

int ctl_volume(const struct ctl_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct {
		const char *name;
		int (*fn)(struct hk_store *, int, char **, struct hk_error *);
	} subs[] = {{"create", volume_create},	 {"ls", volume_ls}, {"list", volume_ls},
		    {"inspect", volume_inspect}, {"rm", volume_rm}, {"remove", volume_rm},
		    {"prune", volume_prune}};
	struct hk_store s;
	int r;

	if (argc < 2)
		return hk_error_setx(err, -EINVAL, "volume create|ls|inspect|rm|prune");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		if ((r = ctl_store_open(g, &s, err)) < 0)
			return r;
		r = subs[i].fn(&s, argc - 1, argv + 1, err);
		hk_store_close(&s);
		return r;
	}
	return hk_error_setx(err, -EINVAL, "volume %s: create, ls, inspect, rm or prune", argv[1]);
}
