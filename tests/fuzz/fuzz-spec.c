/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: config.json, a process object (exec --process) and a
 * resources object (update --resources) from untrusted bytes. Any input must
 * give a spec or a clear error, never a crash, a leak or undefined behaviour;
 * an error must name the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_error err = {0};
	struct hk_spec *spec = NULL;
	struct hk_process proc;
	struct hk_resources res;
	const char *text = (const char *)data;

	if (hk_spec_parse(text, size, "config.json", "/bundle", &spec, &err) == 0)
		hk_spec_free(spec);
	else if (!strstr(err.msg, "config.json"))
		abort(); /* every error names the input */
	if (hk_process_parse(text, size, "process.json", &proc, &err) == 0)
		hk_process_release(&proc);
	if (hk_resources_parse(text, size, "resources.json", &res, &err) == 0)
		hk_resources_release(&res);
	return 0;
}
