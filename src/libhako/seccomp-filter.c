/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seccomp: linux.seccomp becomes a BPF program through libseccomp, in the
 * runtime before clone3(), so that the container's init only has to hand it
 * to the kernel (no allocation after clone, and a failure is reported before
 * the container exists). Syscall names this libseccomp does not know are
 * skipped with a warning, as runc does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "json.h"
#include "log.h"
#include "seccomp-filter.h"
#include "util.h"

static uint32_t action(enum hk_seccomp_action a, const struct hk_opt *errno_ret,
		       const struct hk_opt *default_errno)
{
	unsigned e = errno_ret && errno_ret->set	   ? (unsigned)errno_ret->v
		     : default_errno && default_errno->set ? (unsigned)default_errno->v
							   : EPERM;

	switch (a) {
	case HK_SCMP_KILL:
	case HK_SCMP_KILL_THREAD:
		return SCMP_ACT_KILL_THREAD;
	case HK_SCMP_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case HK_SCMP_TRAP:
		return SCMP_ACT_TRAP;
	case HK_SCMP_ERRNO:
		return SCMP_ACT_ERRNO(e);
	case HK_SCMP_TRACE:
		return SCMP_ACT_TRACE(errno_ret && errno_ret->set ? (unsigned)errno_ret->v : 0);
	case HK_SCMP_LOG:
		return SCMP_ACT_LOG;
	case HK_SCMP_NOTIFY:
		return SCMP_ACT_NOTIFY;
	case HK_SCMP_ALLOW:
	default:
		return SCMP_ACT_ALLOW;
	}
}

static const enum scmp_compare ops[] = {
    [HK_SCMP_NE] = SCMP_CMP_NE,
    [HK_SCMP_LT] = SCMP_CMP_LT,
    [HK_SCMP_LE] = SCMP_CMP_LE,
    [HK_SCMP_EQ] = SCMP_CMP_EQ,
    [HK_SCMP_GE] = SCMP_CMP_GE,
    [HK_SCMP_GT] = SCMP_CMP_GT,
    [HK_SCMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

/* "SCMP_ARCH_X86_64" to libseccomp's token for "x86_64"; 0 if unknown. */
static uint32_t arch_token(const char *name)
{
	char lower[64];
	size_t i = 0;

	if (strncmp(name, "SCMP_ARCH_", 10) != 0)
		return 0;
	for (const char *p = name + 10; *p && i + 1 < sizeof(lower); p++)
		lower[i++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	lower[i] = '\0';
	return seccomp_arch_resolve_name(lower);
}

static bool same_arg_twice(const struct scmp_arg_cmp *cmp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (cmp[i].arg == cmp[j].arg)
				return true;
	return false;
}

static int add_rule(scmp_filter_ctx ctx, const struct hk_seccomp *sc,
		    const struct hk_seccomp_rule *rule, size_t i, struct hk_error *err)
{
	uint32_t act = action(rule->action, &rule->errno_ret, NULL);
	struct scmp_arg_cmp cmp[6];
	size_t n = 0;

	(void)sc;
	for (size_t a = 0; a < rule->n_args && n < 6; a++) {
		const struct hk_seccomp_arg *arg = &rule->args[a];
		cmp[n++] =
		    (struct scmp_arg_cmp){arg->index, ops[arg->op], arg->value, arg->value_two};
	}
	for (char **name = rule->names; *name; name++) {
		int nr = seccomp_syscall_resolve_name(*name), r;
		if (nr == __NR_SCMP_ERROR)
			continue; /* check_unknown() said so */
		/* Several conditions on one argument mean "any of them" (as runc reads
		 * them; libseccomp can only AND): one rule each. */
		if (same_arg_twice(cmp, n)) {
			for (size_t k = 0; k < n; k++) {
				r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[k]);
				if (r < 0 && r != -EEXIST)
					return hk_error_set(err, r,
							    "linux.seccomp.syscalls[%zu]: \"%s\"",
							    i, *name);
			}
			continue;
		}
		r = seccomp_rule_add_array(ctx, act, nr, (unsigned)n, n ? cmp : NULL);
		/* The default action already: libseccomp refuses the redundant rule. */
		if (r == -EACCES || r == -EEXIST)
			continue;
		if (r < 0)
			return hk_error_set(err, r, "linux.seccomp.syscalls[%zu]: \"%s\"", i,
					    *name);
	}
	return 0;
}

static int compile(const struct hk_seccomp *sc, struct hk_seccomp_prog *ret, struct hk_error *err)
{
	scmp_filter_ctx ctx;
	_cleanup_close_ int fd = -1;
	off_t size;
	int r = 0;

	ctx = seccomp_init(action(sc->default_action, NULL, &sc->default_errno_ret));
	if (!ctx)
		return hk_error_setx(err, -EINVAL, "linux.seccomp: seccomp_init failed");
	for (char **a = sc->architectures; a && *a && r >= 0; a++) {
		uint32_t token = arch_token(*a);
		if (!token) {
			r = hk_error_setx(err, -EINVAL,
					  "linux.seccomp.architectures: unknown \"%s\"", *a);
			break;
		}
		r = seccomp_arch_add(ctx, token);
		if (r == -EEXIST)
			r = 0;
		else if (r < 0)
			hk_error_set(err, r, "linux.seccomp.architectures: \"%s\"", *a);
	}
	for (size_t i = 0; i < sc->n_rules && r >= 0; i++)
		r = add_rule(ctx, sc, &sc->rules[i], i, err);
	/* The init sets no_new_privs itself, when the config asks for it. */
	if (r >= 0)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r >= 0 && sc->flag_log && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1) < 0)
		r = hk_error_setx(err, -EINVAL, "linux.seccomp.flags: SECCOMP_FILTER_FLAG_LOG");
	if (r >= 0) {
		fd = memfd_create("hako-seccomp", MFD_CLOEXEC);
		if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0)
			r = hk_error_set(err, fd < 0 ? -errno : -EINVAL,
					 "linux.seccomp: export BPF");
	}
	seccomp_release(ctx);
	if (r < 0)
		return r;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter))
		return hk_error_setx(err, -EINVAL, "linux.seccomp: empty BPF program");
	ret->insns = hk_xmalloc((size_t)size);
	if (pread(fd, ret->insns, (size_t)size, 0) != size) {
		hk_seccomp_prog_release(ret);
		return hk_error_set(err, -errno, "linux.seccomp: read BPF");
	}
	ret->n = (size_t)size / sizeof(struct sock_filter);
	ret->notify = sc->notify;
	ret->flags = (sc->flag_tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0) |
		     (sc->flag_log ? SECCOMP_FILTER_FLAG_LOG : 0) |
		     (sc->flag_spec_allow ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0);
	hk_debug("seccomp: %zu rules compiled to %zu BPF instructions", sc->n_rules, ret->n);
	return 0;
}

void hk_seccomp_prog_release(struct hk_seccomp_prog *p)
{
	free(p->insns);
	*p = (struct hk_seccomp_prog){0};
}

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

int hk_seccomp_load(const struct hk_seccomp_prog *p, int *ret_listener, struct hk_error *err)
{
	struct sock_fprog prog = {(unsigned short)p->n, p->insns};
	unsigned flags = p->flags;
	long r;

	if (ret_listener)
		*ret_listener = -1;
	if (!p->n)
		return 0;
	/* A new listener and TSYNC go together only when TSYNC fails with ESRCH. */
	if (p->notify)
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER |
			 (flags & SECCOMP_FILTER_FLAG_TSYNC ? SECCOMP_FILTER_FLAG_TSYNC_ESRCH : 0);
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0)
		return hk_error_set(err, -errno,
				    "seccomp(SECCOMP_SET_MODE_FILTER, %zu instructions)", p->n);
	if (p->notify && ret_listener)
		*ret_listener = (int)r;
	hk_debug("seccomp(SECCOMP_SET_MODE_FILTER, %#x) = %ld: %zu instructions", flags, r, p->n);
	return 0;
}

int hk_seccomp_send_listener(const struct hk_seccomp *sc, int fd, const char *state, pid_t pid,
			     struct hk_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int sock = -1;
	struct hk_buf b = HK_BUF_INIT;
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	size_t off = 0;
	int r = 0;

	if (strlen(sc->listener_path) >= sizeof(addr.sun_path))
		return hk_error_setx(err, -ENAMETOOLONG,
				     "linux.seccomp.listenerPath \"%s\" is too long for a socket",
				     sc->listener_path);
	strcpy(addr.sun_path, sc->listener_path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hk_error_set(err, -errno, "linux.seccomp.listenerPath: connect \"%s\"",
				    sc->listener_path);
	hk_buf_addf(&b, "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":%d,", (int)pid);
	if (sc->listener_metadata) {
		hk_buf_adds(&b, "\"metadata\":");
		hk_buf_add_json_string(&b, sc->listener_metadata);
		hk_buf_adds(&b, ",");
	}
	hk_buf_addf(&b, "\"state\":%s}", state);
	/* The fd rides with the first bytes; the rest follows if the socket is full. */
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	while (off < b.len) {
		ssize_t n;
		iov = (struct iovec){b.buf + off, b.len - off};
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = hk_error_set(err, -errno, "linux.seccomp.listenerPath: send to \"%s\"",
					 sc->listener_path);
			break;
		}
		off += (size_t)n;
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	}
	if (r == 0)
		hk_debug("sent the seccomp listener fd of pid %d to \"%s\"", (int)pid,
			 sc->listener_path);
	hk_buf_release(&b);
	return r;
}

/* The cache's key: the profile as written, and what compiled it. */
static char *cache_key(const struct hk_seccomp *sc)
{
	struct hk_buf b = HK_BUF_INIT;
	const struct scmp_version *v = seccomp_version();

	hk_json_write(&b, sc->json);
	hk_buf_addf(&b, "\nlibseccomp %u.%u.%u\nhako %s\n", v->major, v->minor, v->micro,
		    HAKO_VERSION);
	return hk_buf_detach(&b);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

#define CACHE_MAGIC "hako-seccomp-1\n"

/* The cached program for key, if there is one and it is whole. */
static bool cache_read(int dirfd, const char *name, const char *key, struct hk_seccomp_prog *ret)
{
	_cleanup_free_ char *text = NULL;
	size_t len, klen = strlen(key), mlen = strlen(CACHE_MAGIC), hdr;
	struct hk_error ignored;

	if (hk_read_file_at(dirfd, name, 16 << 20, &text, &len, &ignored) < 0)
		return false;
	hdr = mlen + klen + sizeof(uint32_t);
	if (len < hdr || memcmp(text, CACHE_MAGIC, mlen) || memcmp(text + mlen, key, klen) ||
	    (len - hdr) % sizeof(struct sock_filter) || len == hdr)
		return false;
	memcpy(&ret->flags, text + mlen + klen, sizeof(uint32_t));
	ret->n = (len - hdr) / sizeof(struct sock_filter);
	ret->insns = hk_xmalloc(len - hdr);
	memcpy(ret->insns, text + hdr, len - hdr);
	return true;
}

static void cache_write(int dirfd, const char *name, const char *key,
			const struct hk_seccomp_prog *p)
{
	struct hk_buf b = HK_BUF_INIT;
	uint32_t flags = p->flags;
	struct hk_error ignored;

	hk_buf_adds(&b, CACHE_MAGIC);
	hk_buf_adds(&b, key);
	hk_buf_add(&b, (const char *)&flags, sizeof(flags));
	hk_buf_add(&b, (const char *)p->insns, p->n * sizeof(struct sock_filter));
	hk_write_atomic_at(dirfd, name, b.buf, b.len, &ignored);
	hk_buf_release(&b);
}

/* A cache hit skips libseccomp, but not the warnings about unknown names. */
/* Unknown syscall names are skipped with a warning, or fail when the
 * run.oci.seccomp_fail_unknown_syscall annotation asks for it. */
static int check_unknown(const struct hk_seccomp *sc, struct hk_error *err)
{
	for (size_t i = 0; i < sc->n_rules; i++)
		for (char **name = sc->rules[i].names; *name; name++) {
			if (seccomp_syscall_resolve_name(*name) != __NR_SCMP_ERROR)
				continue;
			if (sc->fail_unknown)
				return hk_error_setx(
				    err, -EINVAL,
				    "linux.seccomp.syscalls[%zu]: unknown syscall "
				    "\"%s\" (run.oci.seccomp_fail_unknown_syscall)",
				    i, *name);
			hk_log_write("warning",
				     "linux.seccomp.syscalls[%zu]: unknown syscall \"%s\" skipped",
				     i, *name);
		}
	return 0;
}

int hk_seccomp_compile(const struct hk_seccomp *sc, const char *cache_dir,
		       struct hk_seccomp_prog *ret, struct hk_error *err)
{
	_cleanup_free_ char *key = NULL;
	_cleanup_close_ int dirfd = -1;
	char name[32];

	*ret = (struct hk_seccomp_prog){0};
	if (!sc->present)
		return 0;
	if (check_unknown(sc, err) < 0)
		return err->code;
	if (cache_dir && sc->json) {
		key = cache_key(sc);
		snprintf(name, sizeof(name), "%016llx.bpf", (unsigned long long)fnv1a(key));
		dirfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd >= 0 && cache_read(dirfd, name, key, ret)) {
			ret->notify = sc->notify;
			hk_debug("seccomp: %zu BPF instructions from the cache (%s/%s)", ret->n,
				 cache_dir, name);
			return 0;
		}
	}
	if (compile(sc, ret, err) < 0)
		return err->code;
	/* Made only now: a profile that fails leaves nothing behind. */
	if (key && dirfd < 0) {
		struct hk_error ignored;
		if (hk_mkdir_p(cache_dir, 0700, &ignored) == 0)
			dirfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (key && dirfd >= 0)
		cache_write(dirfd, name, key, ret);
	return 0;
}
