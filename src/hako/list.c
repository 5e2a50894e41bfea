/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "state.h"
#include "util.h"

int cmd_list(const struct hako_globals *g, int argc, char **argv, struct hk_error *err)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"quiet", no_argument, NULL, 'q'},
					     {NULL, 0, NULL, 0}};
	bool json = false, quiet = false, first = true;
	char **ids = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "table")))
			json = !strcmp(optarg, "json");
		else
			return hk_error_setx(err, -EINVAL,
					     "list: expected --format table|json or -q");
	}
	if (hk_state_list(g->root, &ids, err) < 0)
		return err->code;
	if (json)
		printf("[");
	else if (!quiet)
		printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	for (char **id = ids; *id; id++) {
		char path[4096];
		struct hk_state st;
		enum hk_status status;
		_cleanup_close_ int dirfd = -1;

		if (quiet) {
			printf("%s\n", *id);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", g->root, *id);
		dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			continue;
		if (hk_state_load(dirfd, *id, &st, err) < 0 && err->code != -ENOENT &&
		    st.id == NULL)
			continue;
		status = hk_container_status(dirfd, &st);
		if (json) {
			char *s = hk_state_to_json(&st, status, false);
			printf("%s%s", first ? "" : ",", s);
			free(s);
		} else {
			bool alive = status == HK_STATUS_CREATED || status == HK_STATUS_RUNNING ||
				     status == HK_STATUS_PAUSED;
			printf("%-20s %-8d %-10s %-40s %-30s %s\n", *id, alive ? (int)st.pid : 0,
			       hk_status_name(status), st.bundle ? st.bundle : "",
			       st.created ? st.created : "", "root");
		}
		first = false;
		hk_state_release(&st);
	}
	if (json)
		printf("]\n");
	hk_strv_free(ids);
	hk_error_clear(err);
	return 0;
}
