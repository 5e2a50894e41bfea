/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "lsm.h"
#include "mount.h"
#include "namespaces.h"
#include "paths.h"
#include "process.h"
#include "seccomp-filter.h"
#include "state.h"
#include "sync.h"
#include "sys.h"
#include "terminal.h"
#include "util.h"

/* The container's cgroups, as files the runtime opened for us to write "0"
 * into (HK_SYNC_CGROUP), with their paths for errors; see join_cgroups(). */
static struct {
	int fd;
	char file[192];
} cgroups[HK_CGROUP_JOIN_MAX];
static size_t n_cgroups;

/*
 * Step 1: in a new user namespace, wait until the runtime has written our id
 * maps, and become its root. Otherwise there is nothing to wait for: we
 * build our filesystem while the runtime makes our cgroups.
 */
static int wait_for_maps(const struct hk_child_args *a, struct hk_error *err)
{
	struct hk_sync_msg msg;
	int r;

	if (!hk_ns_makes_user(a->spec))
		return 0;
	r = hk_sync_recv(a->sync_fd, &msg, NULL);
	if (r < 0 || msg.type != HK_SYNC_MAPPED)
		return hk_error_setx(err, r < 0 ? r : -EPROTO, "waiting for the runtime failed");
	if (setresgid(0, 0, 0) == 0 && setresuid(0, 0, 0) == 0)
		hk_debug("setresuid(0) in the new user namespace ok");
	return 0;
}

/*
 * Wait until the runtime has made our cgroups: it hands us their files
 * (HK_SYNC_CGROUP), then says GO. We join them ourselves, in join_cgroups().
 * Called before a cgroup mount (it binds their directories) and before the
 * join, whichever comes first.
 */
static int recv_cgroups(const struct hk_child_args *a, struct hk_error *err)
{
	static bool received;
	struct hk_sync_msg msg;
	int fd, r;

	if (received)
		return 0;
	received = true;
	while ((r = hk_sync_recv(a->sync_fd, &msg, &fd)) == 0 && msg.type == HK_SYNC_CGROUP) {
		if (fd < 0 || n_cgroups == ARRAY_SIZE(cgroups)) {
			if (fd >= 0)
				close(fd);
			return hk_error_setx(err, -EPROTO, "unexpected cgroup from the runtime");
		}
		cgroups[n_cgroups].fd = fd;
		snprintf(cgroups[n_cgroups++].file, sizeof(cgroups[0].file), "%.*s",
			 (int)sizeof(cgroups[0].file) - 1, msg.err.msg);
	}
	if (r < 0 || msg.type != HK_SYNC_GO)
		return hk_error_setx(err, r < 0 ? r : -EPROTO,
				     "waiting for the runtime to make the cgroups failed");
	return 0;
}

/*
 * The procfs that settings are written through (hk_proc_open()): made when
 * first needed, closed before the container can run anything (it shows all
 * of /proc, unmasked and writable, to whoever reaches our fds).
 */
static int private_proc = -1;

static int proc_fd(struct hk_error *err)
{
	if (private_proc < 0 && hk_proc_open(&private_proc, err) < 0)
		return hk_error_prefix(err, "procfs for the container's settings");
	return private_proc;
}

static void close_proc(void)
{
	if (private_proc >= 0)
		close(private_proc);
	private_proc = -1;
}

/* linux.sysctl, in our namespaces (net, ipc and uts sysctls are per namespace). */
static int write_sysctls(const struct hk_spec *spec, struct hk_error *err)
{
	int procfd;

	if (!spec->sysctl || !*spec->sysctl)
		return 0;
	if ((procfd = proc_fd(err)) < 0)
		return procfd;
	for (char **s = spec->sysctl; s && *s; s++) {
		char path[PATH_MAX];
		const char *eq = strchr(*s, '=');
		size_t o = (size_t)snprintf(path, sizeof(path), "sys/");
		for (const char *k = *s; k < eq && o + 1 < sizeof(path); k++)
			path[o++] = *k == '.' ? '/' : *k;
		path[o] = '\0';
		if (hk_write_proc(procfd, path, eq + 1, strlen(eq + 1), err) < 0)
			return hk_error_prefix(err, "linux.sysctl");
		hk_debug("write(\"/proc/%s\", \"%s\") ok", path, eq + 1);
	}
	return 0;
}

/*
 * A network namespace we created starts with lo down: bring it up, as runc
 * and crun do, so that 127.0.0.1 works in the container.
 */
static int loopback_up(struct hk_error *err)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return hk_error_set(err, -errno, "socket(AF_INET) to bring lo up");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return hk_error_set(err, -errno, "ioctl(SIOCGIFFLAGS, \"lo\")");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return hk_error_set(err, -errno, "ioctl(SIOCSIFFLAGS, \"lo\", IFF_UP)");
	hk_debug("ioctl(SIOCSIFFLAGS, \"lo\", IFF_UP) ok: the loopback is up");
	return 0;
}

/* oomScoreAdj. Lowering it needs the host's CAP_SYS_RESOURCE: done while we have it. */
static int set_oom_score(const struct hk_process *p, struct hk_error *err)
{
	int procfd;

	if (!p->has_oom_score_adj)
		return 0;
	procfd = proc_fd(err);
	return procfd < 0 ? procfd : hk_process_set_oom_score_adj(p, procfd, err);
}

static bool has_create_hooks(const struct hk_spec *spec)
{
	return spec->n_hooks[HK_HOOK_PRESTART] || spec->n_hooks[HK_HOOK_CREATE_RUNTIME] ||
	       spec->n_hooks[HK_HOOK_CREATE_CONTAINER];
}

/* Write "0" (the writer) into each cgroup file the runtime gave us: on v1
 * `tasks` that moves this one thread, all of us, without the global lock a
 * move by pid takes (see hk_cgroup_send_join_fds()). */
static int join_cgroups(const struct hk_child_args *a, struct hk_error *err)
{
	int r = 0;

	for (size_t i = 0; i < n_cgroups; i++) {
		if (r == 0 && write(cgroups[i].fd, "0", 1) < 0) {
			if (a->cgroups_optional && (errno == EACCES || errno == EPERM))
				hk_debug("rootless: not in the cgroup of %s: %m", cgroups[i].file);
			else
				r = hk_error_set(err, -errno, "join cgroup: write \"%s\"",
						 cgroups[i].file);
		} else if (r == 0) {
			hk_debug("write(\"%s\", \"0\") ok", cgroups[i].file);
		}
		close(cgroups[i].fd);
	}
	n_cgroups = 0;
	return r;
}

/*
 * The container exists but for its root. We enter the container's cgroups
 * only now, so that what it cost to build the filesystem (the kernel's
 * objects for every mount) is not charged to the container's memory limit.
 * Then the runtime runs the create hooks (createRuntime, createContainer)
 * while we wait, and says GO. Our cgroup namespace comes after that, rooted
 * at the container's cgroups.
 */
static int enter_cgroups(const struct hk_child_args *a, struct hk_error *err)
{
	struct hk_sync_msg msg;
	int r;

	if (recv_cgroups(a, err) < 0 || join_cgroups(a, err) < 0)
		return err->code;
	if (hk_sync_send(a->sync_fd, HK_SYNC_BUILT, NULL, -1) < 0)
		return hk_error_setx(err, -EPIPE, "the runtime is gone");
	r = hk_sync_recv(a->sync_fd, &msg, NULL);
	if (r < 0 || msg.type != HK_SYNC_GO)
		return hk_error_setx(err, -ECANCELED,
				     "joining the cgroups or the create hooks failed");
	return hk_ns_unshare_cgroup(a->plan, err);
}

/* The rootfs as the runtime names it: the top mount there. */
static int open_root(const struct hk_spec *spec, int *rootfd, struct hk_error *err)
{
	if (*rootfd >= 0)
		close(*rootfd);
	*rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*rootfd < 0)
		return hk_error_set(err, -errno, "open rootfs \"%s\"", spec->root_path);
	return 0;
}

/*
 * Step 2 without a mount namespace: we are in the runtime's, where any mount
 * would be the host's. The spec says the namespace is inherited: mount
 * nothing, chroot into the rootfs (as crun does).
 */
static int chroot_only(const struct hk_child_args *a, struct hk_error *err)
{
	const struct hk_spec *spec = a->spec;

	if (spec->n_mounts || spec->root_readonly || hk_strv_len(spec->masked_paths) ||
	    hk_strv_len(spec->readonly_paths))
		hk_debug("no mount namespace: mounts, masked and read-only paths and "
			 "root.readonly are not applied (they would be the host's)");
	if (has_create_hooks(spec) && enter_cgroups(a, err) < 0)
		return err->code;
	return hk_mount_chroot(spec->root_path, err);
}

/* Step 2: the filesystem, from the rootfs bind to pivot_root. */
static int setup_rootfs(const struct hk_child_args *a, struct hk_error *err)
{
	const struct hk_spec *spec = a->spec;
	bool in_userns = spec->ns[HK_NS_USER].enabled;
	_cleanup_close_ int rootfd = -1, cwd = -1;

	if (hk_mount_prepare_rootfs(spec, err) < 0)
		return err->code;
	if (open_root(spec, &rootfd, err) < 0)
		return err->code;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct hk_mount *m = &spec->mounts[i];

		if (!strcmp(m->type, "cgroup") && recv_cgroups(a, err) < 0)
			return err->code;
		if (hk_mount_apply(rootfd, m, a->bind_fds ? a->bind_fds[i] : -1, a->cgroups,
				   a->n_cgroups, err) < 0)
			return hk_error_prefix(err, "mounts[%zu]", i);
		/* A mount on "/" (podman's tmpcopyup of the root) is the new root:
		 * what follows goes into it, not below it. */
		if (!m->destination[strspn(m->destination, "/")] &&
		    open_root(spec, &rootfd, err) < 0)
			return err->code;
	}
	if (hk_devices_setup(spec, rootfd, in_userns, err) < 0)
		return err->code;
	/* runc creates a missing cwd; so do we, inside the rootfs only. */
	if (hk_path_open_in_root(rootfd, spec->process.cwd, HK_RESOLVE_MKDIR, &cwd, err) < 0 &&
	    err->code != -EROFS)
		return hk_error_prefix(err, "process.cwd");
	if (hk_mount_mask_paths(spec, rootfd, err) < 0)
		return err->code;
	/* The create hooks run before pivot_root: join there if there are any. */
	if (has_create_hooks(spec) && enter_cgroups(a, err) < 0)
		return err->code;
	if (hk_mount_switch_root(spec, a->no_pivot, err) < 0)
		return err->code;
	return hk_mount_finish_root(spec, err);
}

/*
 * A session keyring of the container's own, so that it cannot reach the
 * keys of the runtime's session. Its possessor (the container) may search
 * it whichever uid it switches to. A kernel without keys is fine.
 */
static int join_session_keyring(const char *name, struct hk_error *err)
{
	char desc[256];
	unsigned perm;
	long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
	long n;

	if (id < 0 && errno == ENOSYS)
		return 0;
	if (id < 0)
		return hk_error_set(err, -errno, "keyctl(KEYCTL_JOIN_SESSION_KEYRING, \"%s\")",
				    name);
	/* "keyring;uid;gid;perm;name": keep the permissions, add user search. */
	n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof(desc) - 1);
	if (n < 0 || n >= (long)sizeof(desc))
		return hk_error_set(err, n < 0 ? -errno : -E2BIG, "keyctl(KEYCTL_DESCRIBE)");
	desc[n] = '\0';
	if (sscanf(desc, "%*[^;];%*[^;];%*[^;];%x", &perm) != 1)
		return hk_error_setx(err, -EINVAL, "keyctl(KEYCTL_DESCRIBE): \"%s\"", desc);
	perm |= 0x00080000; /* KEY_USR_SEARCH */
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm) < 0)
		return hk_error_set(err, -errno, "keyctl(KEYCTL_SETPERM, %#x)", perm);
	hk_debug("keyctl(KEYCTL_JOIN_SESSION_KEYRING, \"%s\") = %ld, perm %#x", name, id, perm);
	return 0;
}

/* Step 3: what the uts namespace is for, and the keyring. */
static int setup_identity(const struct hk_spec *spec, const char *keyring, struct hk_error *err)
{
	if (keyring && join_session_keyring(keyring, err) < 0)
		return err->code;
	if (spec->hostname && *spec->hostname && hk_sys_sethostname(spec->hostname, err) < 0)
		return err->code;
	if (spec->domainname && *spec->domainname &&
	    hk_sys_setdomainname(spec->domainname, err) < 0)
		return err->code;
	return 0;
}

/*
 * Whether the cwd is at or below root, without getcwd: up through ".." until
 * root (below it) or a directory that is its own parent (the top of the mount
 * namespace: outside).
 */
static bool cwd_below_root(int root)
{
	struct stat top, at, up;
	int fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fstat(root, &top) < 0)
		goto outside;
	for (int depth = 0; depth < 4096 && fstat(fd, &at) == 0; depth++) {
		int next;

		if (at.st_dev == top.st_dev && at.st_ino == top.st_ino) {
			close(fd);
			return true;
		}
		next = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
		if (fd < 0 || fstat(fd, &up) < 0 ||
		    (up.st_dev == at.st_dev && up.st_ino == at.st_ino))
			break;
	}
outside:
	if (fd >= 0)
		close(fd);
	return false;
}

/*
 * CVE-2024-21626: a cwd like /proc/self/fd/7 would land on whatever a runtime
 * fd names, on the host. Resolve it inside the root with magic links refused,
 * then check that the kernel sees the new cwd below our root.
 */
static int chdir_in_root(const char *cwd, struct hk_error *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;
	char buf[PATH_MAX];
	long n;

	if (root < 0)
		return hk_error_set(err, -errno, "open \"/\"");
	if (hk_path_open_in_root(root, cwd, 0, &fd, err) < 0)
		return err->code;
	if (fchdir(fd) < 0)
		return hk_error_set(err, -errno, "chdir(\"%s\")", cwd);
	/* The raw syscall: it says "(unreachable)" where glibc would say ENOENT.
	 * The container's seccomp filter may deny getcwd: then walk up. */
	n = syscall(SYS_getcwd, buf, sizeof(buf));
	if (n >= 0 ? buf[0] != '/' : errno == ENOENT || !cwd_below_root(root))
		return hk_error_setx(err, -EXDEV, "\"%s\" is outside the container's root", cwd);
	hk_debug("chdir(\"%s\") ok", cwd);
	return 0;
}

/* linux.memoryPolicy: set_mempolicy(2), inherited across execve. */
static int set_memory_policy(const struct hk_spec *spec, struct hk_error *err)
{
	if (syscall(SYS_set_mempolicy, spec->mempolicy_mode, spec->mempolicy_nodes,
		    (unsigned long)HK_MEMPOLICY_NODES + 1) < 0) {
		int e = errno;
		return hk_error_set(err, -e, "linux.memoryPolicy: set_mempolicy(%#x)%s",
				    (unsigned)spec->mempolicy_mode,
				    e == EINVAL ? " (a node this host does not have, a mode that "
						  "takes no nodes given some, or flags the mode "
						  "does not take)"
						: "");
	}
	hk_debug("set_mempolicy(%#x) ok", (unsigned)spec->mempolicy_mode);
	return 0;
}

/* Install the filter; a listener for SCMP_ACT_NOTIFY goes to the runtime. */
static int load_seccomp(const struct hk_child_args *a, struct hk_error *err)
{
	int listener, r;

	if (hk_seccomp_load(a->seccomp, &listener, err) < 0)
		return hk_error_prefix(err, "linux.seccomp");
	if (listener < 0)
		return 0;
	r = hk_sync_send(a->sync_fd, HK_SYNC_SECCOMP, NULL, listener);
	close(listener);
	if (r < 0)
		return hk_error_setx(err, -EPIPE, "send the seccomp listener to the runtime");
	return 0;
}

/* Step 4: the terminal, limits, user and capabilities, and the program to run. */
static int setup_process(const struct hk_child_args *a, char *exe, size_t exe_size,
			 struct hk_error *err)
{
	const struct hk_process *p = &a->spec->process;

	if (p->terminal) {
		int master;
		if (hk_terminal_setup_child(p->console_height, p->console_width, a->exec_pidfd < 0,
					    &master, err) < 0)
			return err->code;
		if (hk_sync_send(a->sync_fd, HK_SYNC_PTY, NULL, master) < 0)
			return hk_error_set(err, -EPIPE, "send the pty to the runtime");
		close(master);
	}
	/* Its own session, as runc and crun give it (with a terminal, the pty's). */
	if (!p->terminal && setsid() < 0)
		return hk_error_set(err, -errno, "setsid");
	if (hk_process_set_rlimits(p, err) < 0 || hk_process_set_scheduling(p, err) < 0)
		return err->code;
	if (a->spec->has_personality) {
		if (personality(a->spec->personality) < 0)
			return hk_error_set(err, -errno, "linux.personality: personality(%#lx)",
					    a->spec->personality);
		hk_debug("personality(%#lx) ok", a->spec->personality);
	}
	if (a->spec->has_mempolicy && set_memory_policy(a->spec, err) < 0)
		return err->code;
	hk_process_chown_stdio(p);
	if (a->lsms &&
	    (proc_fd(err) < 0 || hk_lsm_set_exec_labels(p, a->lsms, private_proc, err) < 0))
		return err->code;
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
	 * while we still have it. With it, as late as possible (before execve). */
	if (!p->no_new_privileges && load_seccomp(a, err) < 0)
		return err->code;
	if (hk_process_set_user_and_caps(p, a->cap_last, err) < 0)
		return err->code;
	if (chdir_in_root(p->cwd, err) < 0)
		return hk_error_prefix(err, "process.cwd");
	if (hk_process_find_executable(p, exe, exe_size, err) < 0)
		return err->code;
	if (p->no_new_privileges) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return hk_error_set(err, -errno, "prctl(PR_SET_NO_NEW_PRIVS)");
		hk_debug("prctl(PR_SET_NO_NEW_PRIVS, 1) ok");
		/* A listener must reach the runtime before READY: load it now. */
		if (a->seccomp->notify && load_seccomp(a, err) < 0)
			return err->code;
	}
	if (p->has_umask)
		umask(p->umask);
	return hk_process_close_fds(a->preserve_fds, err);
}

/*
 * exec: the container exists. Join all its namespaces at once through its
 * init's pidfd (setns(2) with a pidfd, Linux 5.8), the user namespace first,
 * which also puts us at the root of its filesystem; then the process steps.
 */
static int setup_exec(const struct hk_child_args *a, char *exe, size_t exe_size,
		      struct hk_error *err)
{
	struct hk_sync_msg msg;
	int r = hk_sync_recv(a->sync_fd, &msg, NULL);

	if (r < 0 || msg.type != HK_SYNC_GO)
		return hk_error_setx(err, r < 0 ? r : -EPROTO, "waiting for the runtime failed");
	/* Not to be ptraced or read through /proc by the container until execve. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return hk_error_set(err, -errno, "prctl(PR_SET_DUMPABLE, 0)");
	if (a->exec_ns_flags && setns(a->exec_pidfd, a->exec_ns_flags) < 0)
		return hk_error_set(err, -errno, "setns(pidfd of the container's init, %#x)",
				    (unsigned)a->exec_ns_flags);
	hk_debug("setns(pidfd, %#x) ok: in the container's namespaces", (unsigned)a->exec_ns_flags);
	close(a->exec_pidfd);
	if (a->exec_root >= 0 &&
	    (fchdir(a->exec_root) < 0 || hk_mount_chroot(".", err) < 0 || close(a->exec_root) < 0))
		return hk_error_set(err, err->code ? err->code : -errno,
				    "chroot into the container's root");
	if (set_oom_score(&a->spec->process, err) < 0 ||
	    hk_process_drop_bounding(&a->spec->process, a->cap_last, err) < 0)
		return err->code;
	hk_process_set_home(&a->spec->process);
	return setup_process(a, exe, exe_size, err);
}

static int setup(const struct hk_child_args *a, char *exe, size_t exe_size, struct hk_error *err)
{
	const struct hk_spec *spec = a->spec;

	if (a->exec_pidfd >= 0)
		return setup_exec(a, exe, exe_size, err);
	if (wait_for_maps(a, err) < 0)
		return err->code;
	/* The maps are written: from now until execve nobody but root on the host
	 * may ptrace us or open our /proc files (/proc/<pid>/exe among them). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return hk_error_set(err, -errno, "prctl(PR_SET_DUMPABLE, 0)");
	if (hk_ns_join_and_unshare(spec, a->plan, err) < 0)
		return err->code;
	if (set_oom_score(&spec->process, err) < 0 || write_sysctls(spec, err) < 0)
		return err->code;
	if (spec->ns[HK_NS_NET].enabled && !spec->ns[HK_NS_NET].path && loopback_up(err) < 0)
		return err->code;
	/* In a joined mount namespace too, as the spec says (and runc does). */
	if (spec->ns[HK_NS_MOUNT].enabled ? setup_rootfs(a, err) < 0 : chroot_only(a, err) < 0)
		return err->code;
	if (setup_identity(spec, a->keyring, err) < 0)
		return err->code;
	/* HOME from the container's /etc/passwd: before the cgroups are joined,
	 * so that its buffers and the env slot it fills are charged to the
	 * runtime, not to the container's memory limit. */
	hk_process_set_home(&spec->process);
	if (hk_process_drop_bounding(&spec->process, a->cap_last, err) < 0)
		return err->code;
	if (!has_create_hooks(spec) && enter_cgroups(a, err) < 0)
		return err->code;
	return setup_process(a, exe, exe_size, err);
}

/*
 * Step 5: wait on the exec fifo until `hako start` writes its byte. The fd,
 * opened by the runtime for reading and writing, makes poll wait rather than
 * see an end of file. The byte is left in the fifo: "created" is a fifo with
 * a reader (us) and no byte, so from start's write to our execve (which
 * closes the fd, the last reader) the status reads "running", with no window
 * in between. The pipe's page is charged to start, who wrote it.
 */
static void wait_for_start(int fifo)
{
	struct pollfd p = {fifo, POLLIN, 0};

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	if (!(p.revents & POLLIN))
		_exit(1);
}

_Noreturn void hk_child_main(const struct hk_child_args *a)
{
	struct hk_error err = {0};
	char exe[PATH_MAX];
	sigset_t none;

	if (setup(a, exe, sizeof(exe), &err) < 0) {
		hk_sync_send(a->sync_fd, HK_SYNC_ERROR, &err, -1);
		_exit(1);
	}
	close_proc();
	if (hk_sync_send(a->sync_fd, HK_SYNC_READY, NULL, -1) < 0)
		_exit(1);
	/* create waits for `start`; exec runs at once. */
	if (a->exec_pidfd < 0)
		wait_for_start(a->exec_fifo);
	if (a->spec->process.no_new_privileges && !a->seccomp->notify &&
	    hk_seccomp_load(a->seccomp, NULL, &err) < 0) {
		/* Nobody reads the sync socket any more: tell the container's stderr. */
		dprintf(STDERR_FILENO, "hako: %s\n", err.msg);
		_exit(1);
	}
	/* A foreground run blocked signals to forward them; the process gets none blocked. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	hk_debug("execve(\"%s\")", exe);
	execve(exe, a->spec->process.args, a->spec->process.env);
	{
		/* Nobody waits on the sync socket any more: tell the container's stderr. */
		char msg[PATH_MAX * 2 + 256], tmp[128], why[PATH_MAX + 96];
		int e = errno, n;

		/* ENOENT for a file that is there: its interpreter is not. */
		n = snprintf(msg, sizeof(msg), "hako: exec \"%s\": %s%s\n", exe,
			     hk_strerror(e, tmp, sizeof(tmp)),
			     e == ENOENT ? hk_process_explain_enoent(exe, why, sizeof(why)) : "");
		if (n >= (int)sizeof(msg))
			n = sizeof(msg) - 1;
		if (write(STDERR_FILENO, msg, (size_t)n) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
}
