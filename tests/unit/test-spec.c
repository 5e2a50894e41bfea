/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <sys/mount.h>

#include "spec.h"
#include "tap.h"
#include "util.h"

static int parse(const char *text, struct hk_spec **s, struct hk_error *err)
{
	return hk_spec_parse(text, strlen(text), "config.json", "/b", s, err);
}

#define BASE(extra)                                                                                \
	"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"                            \
	"\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}," extra                                 \
	"\"linux\": {\"namespaces\": [{\"type\": \"mount\"}]}}"

int main(void)
{
	struct hk_error err = {0};
	struct hk_spec *s = NULL;
	char *def = hk_spec_default(false, 0, 0), *rootless = hk_spec_default(true, 1000, 1000);

	ok(parse(def, &s, &err) == 0, "the default spec parses (%s)", err.msg);
	ok(s && s->ns[HK_NS_PID].enabled && s->ns[HK_NS_NET].enabled && !s->ns[HK_NS_USER].enabled,
	   "default namespaces");
	ok(s && strcmp(s->root_path, "/b/rootfs") == 0 && s->root_readonly,
	   "rootfs under the bundle");
	ok(s && s->n_mounts == 7 && (s->mounts[5].flags & MS_RDONLY), "mounts and options");
	ok(s && s->mounts[1].data && strcmp(s->mounts[1].data, "mode=755,size=65536k") == 0,
	   "filesystem options kept as data");
	ok(s && s->process.caps[HK_CAP_BOUNDING] == ((1ULL << 29) | (1ULL << 5) | (1ULL << 10)),
	   "capabilities");
	hk_spec_free(s);
	ok(parse(rootless, &s, &err) == 0 && s->ns[HK_NS_USER].enabled &&
	       s->uid_mappings[0].host_id == 1000,
	   "the rootless spec parses with its id maps (%s)", err.msg);
	hk_spec_free(s);

	ok(parse("{\"ociVersion\": \"2.0.0\"}", &s, &err) < 0 &&
	       strstr(err.msg, "unsupported version"),
	   "ociVersion 2.0.0 refused: %s", err.msg);
	ok(parse("{\"ociVersion\": \"1.0.2\",\n \"root\": {\"path\": 5}}", &s, &err) < 0 &&
	       strcmp(err.msg, "config.json:2:19: root.path: expected a string, got number") == 0,
	   "type error with file:line:col and path: %s", err.msg);
	ok(parse(BASE("\"mounts\": [{\"destination\": \"rel\"}],"), &s, &err) < 0 &&
	       strstr(err.msg, "mounts[0]"),
	   "relative mount destination refused: %s", err.msg);
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
		 "[\"sh\"], \"cwd\": \"/\"}, \"linux\": {\"namespaces\": [{\"type\": \"mount\"}, "
		 "{\"type\": \"bogus\"}]}}",
		 &s, &err) < 0 &&
	       strstr(err.msg, "unsupported namespace type \"bogus\""),
	   "unknown namespace refused: %s", err.msg);
	ok(parse(BASE("\"hostname\": \"x\","), &s, &err) < 0 && strstr(err.msg, "uts namespace"),
	   "hostname without uts namespace refused");
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
		 "[\"sh\"], \"cwd\": \"/\", \"oomScoreAdj\": 5000}, \"linux\": {\"namespaces\": "
		 "[{\"type\": \"mount\"}]}}",
		 &s, &err) < 0 &&
	       strstr(err.msg, "process.oomScoreAdj"),
	   "out-of-range number refused: %s", err.msg);
	ok(parse(BASE("\"process2\": 1,"), &s, &err) == 0, "unknown properties are ignored (OCI)");
	hk_spec_free(s);
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
		 "[], \"cwd\": \"/\"}, \"linux\": {\"namespaces\": [{\"type\": \"mount\"}]}}",
		 &s, &err) < 0 &&
	       strstr(err.msg, "process.args"),
	   "empty args refused");
	free(def);
	free(rootless);
	tap_done();
}
