/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exec: a new process in a running container (architecture.md, "exec"). */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "cgroup.h"
#include "child.h"
#include "container.h"
#include "hooks.h"
#include "log.h"
#include "lsm.h"
#include "namespaces.h"
#include "process.h"
#include "seccomp-filter.h"
#include "signals.h"
#include "spec.h"
#include "state.h"
#include "sync.h"
#include "sys.h"
#include "terminal.h"
#include "util.h"
#include "container-internal.h"

/* The process exec runs: --process, or the config's with the flags applied. */
static int exec_process(const struct hk_exec_opts *o, struct hk_spec *spec, struct hk_error *err)
{
	struct hk_process *p = &spec->process;

	if (o->process_file) {
		_cleanup_free_ char *text = NULL;
		struct hk_process np;
		size_t len;
		if (hk_read_file_at(AT_FDCWD, o->process_file, 4 << 20, &text, &len, err) < 0)
			return hk_error_prefix(err, "--process");
		if (hk_process_parse(text, len, o->process_file, &np, err) < 0)
			return err->code;
		hk_process_release(p);
		*p = np;
	} else if (o->args && o->args[0]) {
		hk_strv_free(p->args);
		p->args = calloc(hk_strv_len(o->args) + 1, sizeof(char *));
		for (size_t i = 0; o->args[i]; i++)
			p->args[i] = hk_xstrdup(o->args[i]);
		p->terminal = o->tty;
	} else {
		return hk_error_setx(err, -EINVAL, "exec: give the command to run, or --process");
	}
	for (char **e = o->env; e && *e; e++) {
		size_t key = strcspn(*e, "=");
		size_t i = 0, n = hk_strv_len(p->env);
		if (!(*e)[key] || key == 0)
			return hk_error_setx(err, -EINVAL, "exec: --env \"%s\" is not KEY=VALUE",
					     *e);
		while (i < n && !(strncmp(p->env[i], *e, key) == 0 && p->env[i][key] == '='))
			i++;
		if (i == n) {
			p->env = hk_xrealloc(p->env, (n + 2) * sizeof(char *));
			p->env[n + 1] = NULL;
		} else {
			free(p->env[i]);
		}
		p->env[i] = hk_xstrdup(*e);
	}
	if (o->cwd) {
		if (o->cwd[0] != '/')
			return hk_error_setx(err, -EINVAL, "exec: --cwd \"%s\" is not absolute",
					     o->cwd);
		free(p->cwd);
		p->cwd = hk_xstrdup(o->cwd);
	}
	if (o->user) {
		char *end;
		unsigned long uid = strtoul(o->user, &end, 10), gid = p->gid;
		if (end == o->user || (*end && *end != ':'))
			return hk_error_setx(err, -EINVAL,
					     "exec: --user \"%s\": give UID or UID:GID as numbers",
					     o->user);
		if (*end == ':') {
			char *g = end + 1;
			gid = strtoul(g, &end, 10);
			if (end == g || *end)
				return hk_error_setx(err, -EINVAL, "exec: --user \"%s\": bad GID",
						     o->user);
		}
		p->uid = (uid_t)uid;
		p->gid = (gid_t)gid;
	}
	for (char **c = o->caps; c && *c; c++) {
		int cap = hk_cap_from_name(*c);
		if (cap < 0)
			return hk_error_setx(err, -EINVAL, "exec: --cap: unknown capability \"%s\"",
					     *c);
		p->has_capabilities = true;
		p->caps[HK_CAP_BOUNDING] |= 1ULL << cap;
		p->caps[HK_CAP_EFFECTIVE] |= 1ULL << cap;
		p->caps[HK_CAP_PERMITTED] |= 1ULL << cap;
	}
	if (o->no_new_privs)
		p->no_new_privileges = true;
	if (o->apparmor) {
		free(p->apparmor_profile);
		p->apparmor_profile = hk_xstrdup(o->apparmor);
	}
	if (o->process_label) {
		free(p->selinux_label);
		p->selinux_label = hk_xstrdup(o->process_label);
	}
	if (p->terminal && !o->console_socket && !o->keep_terminal)
		return hk_error_setx(err, -EINVAL,
				     "exec: a terminal needs --console-socket when detached");
	if (!p->terminal && o->console_socket)
		return hk_error_setx(err, -EINVAL, "exec: --console-socket needs a terminal (-t)");
	return 0;
}

/*
 * process.execCPUAffinity: pin pid to the cpus in list. "" is the cpus it
 * would have had without an initial list: ours, which a cpuset cgroup narrows.
 */
static int set_affinity(pid_t pid, const char *list, const char *which, struct hk_error *err)
{
	cpu_set_t set;

	if (!list)
		return 0;
	if (*list ? hk_parse_cpu_list(list, &set) < 0 : sched_getaffinity(0, sizeof(set), &set) < 0)
		return hk_error_setx(err, -EINVAL, "process.execCPUAffinity.%s \"%s\"", which,
				     list);
	if (sched_setaffinity(pid, sizeof(set), &set) < 0)
		return hk_error_set(err, -errno,
				    "process.execCPUAffinity.%s: sched_setaffinity(%s)", which,
				    *list ? list : "the runtime's cpus");
	hk_debug("sched_setaffinity(%d, %s) ok: execCPUAffinity.%s", (int)pid,
		 *list ? list : "the runtime's cpus", which);
	return 0;
}

int hk_container_exec(const struct hk_exec_opts *o, struct hk_container *c, struct hk_error *err)
{
	_cleanup_(hk_spec_freep) struct hk_spec *spec = NULL;
	_cleanup_close_ int pidfd = -1, root = -1;
	struct hk_ns_children own = HK_NS_CHILDREN_INIT;
	struct hk_state st;
	struct hk_ns_plan plan = {0};
	struct hk_seccomp_prog seccomp = {0};
	enum hk_status status;
	int socks[2] = {-1, -1}, ns, r;
	struct hk_child_args args;
	char seccomp_cache[PATH_MAX];
	unsigned lsms = 0;
	int cap_last = hk_process_cap_last();
	pid_t pid;

	snprintf(seccomp_cache, sizeof(seccomp_cache), "%s/%s", o->root, HK_SECCOMP_CACHE);
	*c = (struct hk_container){.pid = 0, .pidfd = -1, .master = -1};
	{
		/* Not under the lock: the process may run for as long as the container. */
		_cleanup_close_ int dirfd = -1;
		if (hk_container_load(o->root, o->id, &dirfd, &st, &status, err) < 0)
			return err->code;
	}
	if (status != HK_STATUS_RUNNING && status != HK_STATUS_CREATED) {
		r = hk_error_setx(err, -EINVAL, "cannot exec in a %s container",
				  hk_status_name(status));
		goto out;
	}
	if (hk_spec_load(st.bundle, NULL, &spec, err) < 0 || exec_process(o, spec, err) < 0 ||
	    hk_lsm_prepare(spec, &spec->process, &lsms, err) < 0 ||
	    hk_seccomp_compile(&spec->seccomp, seccomp_cache, &seccomp, err) < 0) {
		r = err->code;
		goto out;
	}
	hk_process_drop_unknown_caps(&spec->process, cap_last);
	hk_process_reserve_home(&spec->process);
	pidfd = hk_pidfd_open_checked(st.pid, st.start_time);
	if (pidfd < 0) {
		r = hk_error_setx(err, -ESRCH, "container not running");
		goto out;
	}
	ns = hk_differing_namespaces(st.pid);
	/* A container without a mount namespace of its own is chrooted
	 * (hk_mount_chroot()): so is the process, into the init's root. */
	if (!(ns & CLONE_NEWNS)) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/root", (int)st.pid);
		root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0) {
			r = hk_error_set(err, -errno, "open \"%s\"", path);
			goto out;
		}
	}
	/* pid and time namespaces take effect for our children: join them here,
	 * for the clone below, and go back to ours right after it. */
	if (hk_ns_children_enter(spec, &plan, pidfd, ns, &own, err) < 0) {
		r = err->code;
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0) {
		r = hk_error_set(err, -errno, "socketpair");
		goto out;
	}
	args = (struct hk_child_args){
	    .spec = spec,
	    .plan = &plan,
	    .sync_fd = socks[1],
	    .exec_fifo = -1,
	    .preserve_fds = o->preserve_fds,
	    .cap_last = cap_last,
	    .lsms = lsms,
	    .exec_pidfd = pidfd,
	    .exec_ns_flags = ns & ~(CLONE_NEWPID | CLONE_NEWTIME),
	    .exec_root = root,
	    .seccomp = &seccomp,
	};
	pid = hk_clone_init(0, &c->pidfd, err);
	if (pid == 0) {
		close(socks[0]);
		hk_ns_children_drop(&own);
		hk_child_main(&args);
	}
	hk_ns_children_leave(&own);
	if (pid < 0) {
		r = err->code;
		goto out;
	}
	close(socks[1]);
	socks[1] = -1;
	c->pid = pid;
	/* Into the container's cgroups, before it runs anything, on the cpus
	 * execCPUAffinity gives for before and after. */
	if (set_affinity(pid, spec->process.exec_cpus_initial, "initial", err) < 0 ||
	    hk_cgroup_join(st.cgroup_paths, pid, err) < 0 ||
	    set_affinity(pid,
			 spec->process.exec_cpus_final	   ? spec->process.exec_cpus_final
			 : spec->process.exec_cpus_initial ? ""
							   : NULL,
			 "final", err) < 0) {
		r = hk_error_prefix(err, "exec");
		goto fail;
	}
	if (hk_sync_send(socks[0], HK_SYNC_GO, NULL, -1) < 0) {
		r = hk_init_died(c, "exec: the process", err);
		goto fail;
	}
	{
		struct hk_create_opts co = {.console_socket = o->console_socket};
		if (hk_wait_for_ready(&co, socks[0], c, &(struct ready_ctx){spec, &st, true}, err) <
		    0) {
			r = err->code;
			goto fail;
		}
	}
	if (o->pid_file && hk_write_pid_file(o->pid_file, pid, err) < 0) {
		r = err->code;
		goto fail;
	}
	r = 0;
	goto out;
fail:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	hk_container_release(c);
out:
	hk_ns_children_leave(&own);
	for (int i = 0; i < 2; i++)
		if (socks[i] >= 0)
			close(socks[i]);
	hk_seccomp_prog_release(&seccomp);
	hk_state_release(&st);
	return r;
}
