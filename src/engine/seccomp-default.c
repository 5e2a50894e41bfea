// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The default seccomp profile. podman's and docker's defaults are allow
 * lists of about 370 system calls; what they leave out, for a container
 * without CAP_SYS_ADMIN, is the kernel's administrative surface: modules,
 * mounts and namespaces, keyrings, kexec, clock setting, tracing other
 * processes' memory, BPF, and the handle-based opens (open_by_handle_at was
 * the "shocker" escape). This profile denies that same set with EPERM and
 * allows the rest; new namespaces through clone(2) are denied by flag, and
 * clone3(2), whose flags seccomp cannot read, answers ENOSYS so that libc
 * falls back to clone(2). An allow list would also deny system calls that
 * do not exist yet; that is the difference, and a reason to pass
 * --security-opt seccomp=FILE with podman's profile where it matters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "load.h"
#include "seccomp-default.h"
#include "util.h"

static const char *const denied[] = {
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "create_module",
    "delete_module",
    "finit_module",
    "fanotify_init",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "init_module",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mount",
    "mount_setattr",
    "move_mount",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "setns",
    "settimeofday",
    "stime",
    "swapoff",
    "swapon",
    "sysfs",
    "_sysctl",
    "syslog",
    "umount",
    "umount2",
    "unshare",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
    "vm86old",
    "vhangup",
    NULL,
};

/* The CLONE_NEW* flags: clone(2) with any of them is denied. */
static const long long clone_ns_flags[] = {0x00020000, 0x02000000, 0x04000000, 0x08000000,
					   0x10000000, 0x20000000, 0x40000000};

static struct hk_json *rule(const char *const *names, const char *action, int errno_ret)
{
	struct hk_json *r = hk_json_new(HK_JSON_OBJECT);

	hk_json_set(r, "names", hk_json_new_strv(names));
	hk_json_set(r, "action", hk_json_new_string(action));
	if (errno_ret)
		hk_json_set(r, "errnoRet", hk_json_new_int(errno_ret));
	return r;
}

static struct hk_json *default_profile(void)
{
	struct hk_json *p = hk_json_new(HK_JSON_OBJECT), *calls;

	hk_json_set(p, "defaultAction", hk_json_new_string("SCMP_ACT_ALLOW"));
	calls = hk_json_set(p, "syscalls", hk_json_new(HK_JSON_ARRAY));
	hk_json_push(calls, rule(denied, "SCMP_ACT_ERRNO", EPERM));
	hk_json_push(calls, rule((const char *const[]){"clone3", NULL}, "SCMP_ACT_ERRNO", ENOSYS));
	for (size_t i = 0; i < ARRAY_SIZE(clone_ns_flags); i++) {
		struct hk_json *r =
		    rule((const char *const[]){"clone", NULL}, "SCMP_ACT_ERRNO", EPERM);
		struct hk_json *a = hk_json_push(hk_json_set(r, "args", hk_json_new(HK_JSON_ARRAY)),
						 hk_json_new(HK_JSON_OBJECT));
		hk_json_set(a, "index", hk_json_new_int(0));
		hk_json_set(a, "value", hk_json_new_int(clone_ns_flags[i]));
		hk_json_set(a, "valueTwo", hk_json_new_int(clone_ns_flags[i]));
		hk_json_set(a, "op", hk_json_new_string("SCMP_CMP_MASKED_EQ"));
		hk_json_push(calls, r);
	}
	return p;
}

/* "SCMP_ARCH_X86_64" for this machine, as docker's archMap names it. */
static const char *native_arch(void)
{
	const char *p = hk_platform_default();

	if (strstr(p, "amd64"))
		return "SCMP_ARCH_X86_64";
	if (strstr(p, "arm64"))
		return "SCMP_ARCH_AARCH64";
	return "";
}

static bool strv_has(const struct hk_json *a, const char *s)
{
	for (size_t i = 0; a && a->type == HK_JSON_ARRAY && i < a->n; i++)
		if (a->items[i]->type == HK_JSON_STRING && strcmp(a->items[i]->text, s) == 0)
			return true;
	return false;
}

/*
 * docker's form to the runtime spec's: archMap becomes this machine's
 * architectures; a rule kept only for some capabilities (includes.caps) is
 * dropped, as the container does not have them by default; includes and
 * excludes by architecture are applied.
 */
static void from_docker_form(struct hk_json *p)
{
	struct hk_json *map = hk_json_get(p, "archMap"), *calls = hk_json_get(p, "syscalls");
	const char *arch = native_arch();

	for (size_t i = 0; map && map->type == HK_JSON_ARRAY && i < map->n; i++) {
		const struct hk_json *a = hk_json_get(map->items[i], "architecture");
		if (!a || a->type != HK_JSON_STRING || strcmp(a->text, arch) != 0)
			continue;
		struct hk_json *archs = hk_json_set(p, "architectures", hk_json_new(HK_JSON_ARRAY));
		hk_json_push(archs, hk_json_new_string(arch));
		const struct hk_json *sub = hk_json_get(map->items[i], "subArchitectures");
		for (size_t j = 0; sub && sub->type == HK_JSON_ARRAY && j < sub->n; j++)
			if (sub->items[j]->type == HK_JSON_STRING)
				hk_json_push(archs, hk_json_new_string(sub->items[j]->text));
	}
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->keys[i], "archMap") == 0 || strcmp(p->keys[i], "defaultErrno") == 0)
			hk_json_remove(p, i--);
	for (size_t i = 0; calls && calls->type == HK_JSON_ARRAY && i < calls->n; i++) {
		struct hk_json *r = calls->items[i];
		const struct hk_json *inc = hk_json_get(r, "includes"),
				     *exc = hk_json_get(r, "excludes");
		const struct hk_json *ia = hk_json_get(inc, "arches"),
				     *ea = hk_json_get(exc, "arches");
		const struct hk_json *icaps = hk_json_get(inc, "caps");
		bool keep = !(icaps && icaps->n) && (!ia || !ia->n || strv_has(ia, arch)) &&
			    !strv_has(ea, arch);

		if (!keep) {
			hk_json_remove(calls, i--);
			continue;
		}
		for (size_t k = 0; k < r->n; k++)
			if (strcmp(r->keys[k], "includes") == 0 ||
			    strcmp(r->keys[k], "excludes") == 0 ||
			    strcmp(r->keys[k], "comment") == 0)
				hk_json_remove(r, k--);
	}
}

int hk_seccomp_profile(const char *file, struct hk_json **ret, struct hk_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if (!file) {
		*ret = default_profile();
		return 0;
	}
	if ((r = hk_read_regular_file_at(AT_FDCWD, file, 4 << 20, &text, &len, err)) < 0 ||
	    (r = hk_json_parse(text, len, ret, err)) < 0)
		return hk_error_prefix(err, "--security-opt seccomp=%s", file);
	if ((*ret)->type != HK_JSON_OBJECT || !hk_json_get(*ret, "defaultAction")) {
		hk_json_free(*ret);
		return hk_error_setx(err, -EINVAL,
				     "--security-opt seccomp=%s: not a seccomp profile (no "
				     "defaultAction)",
				     file);
	}
	from_docker_form(*ret);
	return 0;
}
