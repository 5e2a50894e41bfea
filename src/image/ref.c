// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The reference grammar, from the distribution spec and docker's reference
 * package: path components are [a-z0-9]+ joined by ".", "_", "__" or "-"+;
 * a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; a digest is ALG:HEX.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ref.h"

#define MAX_REF 255

static bool alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component, [a-z0-9]+ with single separators between runs. */
static bool valid_component(const char *s, size_t n)
{
	size_t i = 0;

	if (!n || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	while (i < n) {
		if (alnum_lower(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !alnum_lower(s[j]))
			j++;
		/* ".", "_", "__", or dashes */
		if (!((j - i == 1 && (s[i] == '.' || s[i] == '_')) ||
		      (j - i == 2 && s[i] == '_' && s[i + 1] == '_') ||
		      strspn(s + i, "-") >= j - i))
			return false;
		i = j;
	}
	return true;
}

static bool valid_domain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(".-:[]", s[i]))
			return false;
	return n > 0;
}

bool hk_ref_has_domain(const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t n;

	if (!slash)
		return false;
	n = (size_t)(slash - ref);
	return memchr(ref, '.', n) || memchr(ref, ':', n) ||
	       (n == 9 && strncmp(ref, "localhost", 9) == 0) ||
	       strcspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < n;
}

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);

	if (!n || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr("_.-", t[i]))
			return false;
	return true;
}

static bool valid_digest(const char *d)
{
	const char *colon = strchr(d, ':');

	if (!colon || strncmp(d, "sha256:", 7) != 0 || strlen(colon + 1) != 64)
		return false;
	return strspn(colon + 1, "0123456789abcdef") == 64;
}

int hk_ref_normalize(const char *ref, const char *default_domain, char *out, size_t size,
		     struct hk_error *err)
{
	char buf[MAX_REF + 1], *digest, *tag = NULL, *path, *last;
	const char *domain = default_domain;

	if (strlen(ref) > MAX_REF || !*ref)
		goto invalid;
	snprintf(buf, sizeof(buf), "%s", ref);
	if ((digest = strchr(buf, '@'))) {
		*digest++ = '\0';
		if (!valid_digest(digest))
			goto invalid;
	}
	last = strrchr(buf, '/');
	if ((tag = strchr(last ? last : buf, ':'))) {
		*tag++ = '\0';
		if (!valid_tag(tag))
			goto invalid;
	}
	path = buf;
	if (hk_ref_has_domain(buf)) {
		char *slash = strchr(buf, '/');
		*slash = '\0';
		domain = buf;
		path = slash + 1;
		if (!valid_domain(domain, strlen(domain)))
			goto invalid;
	}
	for (const char *p = path;;) {
		const char *e = strchrnul(p, '/');
		if (!valid_component(p, (size_t)(e - p)))
			goto invalid;
		if (!*e)
			break;
		p = e + 1;
	}
	snprintf(out, size, "%s/%s%s%s%s%s%s", domain,
		 strcmp(domain, "docker.io") == 0 && !strchr(path, '/') ? "library/" : "", path,
		 tag || !digest ? ":" : "", tag ? tag : (digest ? "" : "latest"), digest ? "@" : "",
		 digest ? digest : "");
	return 0;
invalid:
	return hk_error_setx(err, -EINVAL, "invalid reference format: \"%s\"", ref);
}

void hk_ref_split(const char *full, char *repo, size_t rsize, const char **ret_tag)
{
	const char *slash = strrchr(full, '/'), *at = strchr(full, '@');
	const char *colon = strchr(slash ? slash : full, ':');
	const char *cut = colon && (!at || colon < at) ? colon : at;

	snprintf(repo, rsize, "%.*s", cut ? (int)(cut - full) : (int)strlen(full), full);
	*ret_tag = cut ? cut + 1 : "<none>";
}
