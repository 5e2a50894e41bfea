// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hako-nft apply: hakoctl's nftables table, inet hako, made (or made again:
 * it is replaced) from the nft script on stdin, which hakoctl writes
 * (net/ruleset.c), in one transaction of libnftables: all of it happens, or
 * none of it. net/nft.h says why this is a program of its own, run only
 * when the table is missing, when the networks change, or by `network
 * reload`. Scripts that touch another table are refused: other tables are
 * never touched.
 */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every line that names a table names ours. */
static int ours_only(const char *script)
{
	for (const char *p = script; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *t = p + strspn(p, " \t");
		if (strncmp(t, "table ", 6) != 0 && strncmp(t, "add table ", 10) != 0 &&
		    strncmp(t, "delete table ", 13) != 0)
			continue;
		t = strstr(t, "table ") + 6;
		if (strncmp(t, "inet hako", 9) != 0 || (t[9] != ' ' && t[9] != '\n' && t[9]))
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	size_t len = 0, size = 1 << 16;
	char *script = malloc(size);
	struct nft_ctx *nft;
	size_t n;
	int r;

	if (argc != 2 || strcmp(argv[1], "apply") != 0) {
		fprintf(stderr, "usage: hako-nft apply < SCRIPT (it is run by hakoctl)\n");
		return 2;
	}
	while (script && (n = fread(script + len, 1, size - len - 1, stdin)) > 0)
		if ((len += n) == size - 1 && !(script = realloc(script, size *= 2)))
			break;
	if (!script) {
		perror("hako-nft");
		return 1;
	}
	script[len] = '\0';
	if (!ours_only(script)) {
		fprintf(stderr, "hako-nft: the script names a table other than inet hako\n");
		return 1;
	}
	if (!(nft = nft_ctx_new(NFT_CTX_DEFAULT))) {
		fprintf(stderr, "hako-nft: nft_ctx_new failed\n");
		return 1;
	}
	nft_ctx_buffer_error(nft);
	r = nft_run_cmd_from_buffer(nft, script);
	if (r)
		fprintf(stderr, "hako-nft apply: %s", nft_ctx_get_error_buffer(nft));
	nft_ctx_free(nft);
	free(script);
	return r ? 1 : 0;
}
