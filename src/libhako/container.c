/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "cgroup.h"
#include "child.h"
#include "container.h"
#include "hooks.h"
#include "log.h"
#include "lsm.h"
#include "mount.h"
#include "namespaces.h"
#include "netdev.h"
#include "paths.h"
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

int hk_pidfd_open_checked(pid_t pid, unsigned long long start_time)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	/* The pidfd pins this process; the start time proves it is still ours. */
	if (fd >= 0 && !hk_proc_alive(pid, start_time)) {
		close(fd);
		return -ESRCH;
	}
	return fd < 0 ? -errno : fd;
}

/*
 * clone3(2) with the namespaces to create. Without CLONE_VM it returns twice
 * like fork(2); the child gets a copy of our memory, the parsed spec included.
 */
pid_t hk_clone_init(int flags, int *ret_pidfd, struct hk_error *err)
{
	struct clone_args args = {
	    .flags = (unsigned)flags | CLONE_PIDFD,
	    .pidfd = (unsigned long)ret_pidfd,
	    .exit_signal = SIGCHLD,
	};
	char f[256];
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0) {
		hk_error_set(err, -errno, "clone3(%s)", hk_clone_flags_str(flags, f, sizeof(f)));
		return -1;
	}
	if (pid > 0)
		hk_debug("clone3(%s) = %d", hk_clone_flags_str(flags, f, sizeof(f)), (int)pid);
	return pid;
}

/*
 * The pid file appears whole, and nothing else is left beside it if we are
 * killed while writing: an unnamed O_TMPFILE, linked in place when done (or,
 * over an existing file, linked under a temporary name and renamed).
 */
static int write_pid_at(int dirfd, const char *name, const char *data, struct hk_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	char fdpath[32], tmp[NAME_MAX + 1];
	size_t len = strlen(data);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR))
		return hk_write_atomic_at(dirfd, name, data, len, err); /* no O_TMPFILE there */
	if (fd < 0)
		return hk_error_set(err, -errno, "pid file \"%s\"", name);
	if (write(fd, data, len) != (ssize_t)len)
		return hk_error_set(err, errno ? -errno : -EIO, "write pid file \"%s\"", name);
	hk_fd_path(fd, fdpath);
	if (linkat(AT_FDCWD, fdpath, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != EEXIST)
		return hk_error_set(err, -errno, "pid file \"%s\"", name);
	snprintf(tmp, sizeof(tmp), ".%.200s.%d.tmp", name, (int)getpid());
	if (linkat(AT_FDCWD, fdpath, dirfd, tmp, AT_SYMLINK_FOLLOW) < 0)
		return hk_error_set(err, -errno, "pid file \"%s\"", name);
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return hk_error_set(err, -e, "pid file \"%s\"", name);
	}
	return 0;
}

int hk_write_pid_file(const char *path, pid_t pid, struct hk_error *err)
{
	char abs[PATH_MAX], dir[PATH_MAX * 2], buf[32];
	const char *name;
	_cleanup_close_ int dirfd = -1;

	if (!*path)
		return hk_error_setx(err, -EINVAL, "pid file: empty path");
	if (path[0] != '/') {
		if (!getcwd(abs, sizeof(abs)))
			return hk_error_set(err, -errno, "getcwd");
		snprintf(dir, sizeof(dir), "%s/%s", abs, path);
	} else {
		snprintf(dir, sizeof(dir), "%s", path);
	}
	name = strrchr(dir, '/');
	snprintf(abs, sizeof(abs), "%s", name + 1);
	dir[name - dir ? name - dir : 1] = '\0';
	if (!abs[0])
		return hk_error_setx(err, -EISDIR, "pid file \"%s\": names a directory", path);
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return hk_error_set(err, -errno, "pid file \"%s\"", path);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return write_pid_at(dirfd, abs, buf, err);
}

/* The checks that need no state: a missing rootfs fails before anything exists. */
static int check_bundle(const struct hk_create_opts *o, const struct hk_spec *spec,
			struct hk_error *err)
{
	struct stat st;

	if (stat(spec->root_path, &st) < 0)
		return hk_error_set(err, -errno, "rootfs \"%s\"", spec->root_path);
	if (!S_ISDIR(st.st_mode))
		return hk_error_setx(err, -ENOTDIR, "rootfs \"%s\": not a directory",
				     spec->root_path);
	if (!spec->has_process)
		return hk_error_setx(err, -EINVAL, "config.json: process: is required to create");
	if (spec->process.terminal && !o->console_socket && !o->keep_terminal)
		return hk_error_setx(err, -EINVAL,
				     "cannot allocate tty if hako will detach without setting "
				     "console socket");
	if (!spec->process.terminal && o->console_socket)
		return hk_error_setx(
		    err, -EINVAL,
		    "cannot use console socket if hako will not detach or allocate tty");
	return 0;
}

/* The namespaces of pid that differ from ours, as CLONE_NEW* flags. */
int hk_differing_namespaces(pid_t pid)
{
	static const struct {
		const char *name;
		int flag;
	} kinds[] = {{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},   {"uts", CLONE_NEWUTS},
		     {"ipc", CLONE_NEWIPC},   {"net", CLONE_NEWNET},  {"cgroup", CLONE_NEWCGROUP},
		     {"pid", CLONE_NEWPID},   {"time", CLONE_NEWTIME}};
	int flags = 0;

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char theirs[64], ours[64];
		struct stat a, b;
		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)pid, kinds[i].name);
		snprintf(ours, sizeof(ours), "/proc/self/ns/%s", kinds[i].name);
		if (stat(theirs, &a) == 0 && stat(ours, &b) == 0 &&
		    (a.st_ino != b.st_ino || a.st_dev != b.st_dev))
			flags |= kinds[i].flag;
	}
	return flags;
}

/* prestart and createRuntime in our namespaces, createContainer in the init's. */
static int run_create_hooks(const struct ready_ctx *h, const struct hk_container *c,
			    struct hk_error *err)
{
	_cleanup_free_ char *state = NULL;
	int ns;

	if (!h->spec->n_hooks[HK_HOOK_PRESTART] && !h->spec->n_hooks[HK_HOOK_CREATE_RUNTIME] &&
	    !h->spec->n_hooks[HK_HOOK_CREATE_CONTAINER])
		return 0;
	state = hk_state_to_json(h->st, HK_STATUS_CREATING, false);
	ns = hk_differing_namespaces(c->pid) & ~(CLONE_NEWPID | CLONE_NEWTIME);
	if (hk_hooks_run(h->spec, HK_HOOK_PRESTART, state, -1, 0, err) < 0 ||
	    hk_hooks_run(h->spec, HK_HOOK_CREATE_RUNTIME, state, -1, 0, err) < 0 ||
	    hk_hooks_run(h->spec, HK_HOOK_CREATE_CONTAINER, state, c->pidfd, ns, err) < 0)
		return err->code;
	return 0;
}

/*
 * linux.netDevices: bind the container's network namespace into its state
 * directory (the devices come back out of it at delete, when the init may be
 * gone), record them, and move each in.
 */
/* A "host:name" pair of linux.netDevices: *host gets a copy cut at the ':'
 * (no interface name holds one); returns the name inside, or NULL. */
static char *split_net_device(const char *pair, char **host)
{
	char *name;

	*host = hk_xstrdup(pair);
	name = strchr(*host, ':');
	if (name)
		*name++ = '\0';
	return name;
}

static int move_net_devices(const struct ready_ctx *x, pid_t pid, struct hk_error *err)
{
	char path[64];
	_cleanup_close_ int netns = -1, pin = -1, mfd = -1;

	if (!x->spec->net_devices || !x->spec->net_devices[0])
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	netns = open(path, O_RDONLY | O_CLOEXEC);
	if (netns < 0)
		return hk_error_set(err, -errno, "open \"%s\"", path);
	pin = openat(x->dirfd, HK_NETNS_PIN, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (pin < 0 || hk_sys_open_tree(netns, "", path, false, &mfd, err) < 0 ||
	    hk_sys_move_mount(mfd, pin, HK_NETNS_PIN, err) < 0)
		return pin < 0
			   ? hk_error_set(err, -errno, "create \"%s\"", HK_NETNS_PIN)
			   : hk_error_prefix(err, "linux.netDevices: pin the network namespace");
	x->st->net_devices = hk_strv_dup(x->spec->net_devices);
	if (hk_state_save(x->dirfd, x->st, err) < 0)
		return err->code;
	for (char *const *d = x->spec->net_devices; *d; d++) {
		_cleanup_free_ char *host = NULL;
		const char *name = split_net_device(*d, &host);

		if (hk_netdev_move(-1, host, netns, name, err) < 0)
			return hk_error_prefix(err, "linux.netDevices");
	}
	return 0;
}

void hk_net_devices_restore(int dirfd, char *const *devices)
{
	struct hk_error err = {0};
	_cleanup_close_ int netns = openat(dirfd, HK_NETNS_PIN, O_RDONLY | O_CLOEXEC);

	/* Back under their host names; one that cannot come back is named. A
	 * physical one the kernel returns itself when the namespace goes. */
	for (size_t i = hk_strv_len(devices); netns >= 0 && i-- > 0;) {
		_cleanup_free_ char *host = NULL;
		const char *name = split_net_device(devices[i], &host);

		if (!name)
			continue;
		if (hk_netdev_move(netns, name, -1, host, &err) < 0 && err.code != -ENODEV)
			hk_warn("linux.netDevices: %s stays in the container: %s", host, err.msg);
	}
	if (netns >= 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, HK_NETNS_PIN);
		/* EINVAL: a create that failed before it bound anything there. */
		if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
			hk_warn("unmount the network namespace's pin: %m");
	}
}

/* The seccomp listener of c's process, to the agent, with the container's state. */
static int send_listener(const struct ready_ctx *x, const struct hk_container *c, int fd,
			 struct hk_error *err)
{
	_cleanup_free_ char *state =
	    hk_state_to_json(x->st, x->exec ? HK_STATUS_RUNNING : HK_STATUS_CREATING, false);

	return hk_seccomp_send_listener(&x->spec->seccomp, fd, state, c->pid, err);
}

int hk_init_died(const struct hk_container *c, const char *what, struct hk_error *err)
{
	struct pollfd p = {c->pidfd, POLLIN, 0};
	siginfo_t si = {0};
	char how[64] = "";

	/* Its end of the sync socket closes a moment before it is a zombie. */
	if (c->pidfd >= 0 && poll(&p, 1, 1000) == 1 &&
	    waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid) {
		if (si.si_code == CLD_EXITED)
			snprintf(how, sizeof(how), " (exit status %d)", si.si_status);
		else
			snprintf(how, sizeof(how), " (killed by signal %d, SIG%s)", si.si_status,
				 sigabbrev_np(si.si_status) ? sigabbrev_np(si.si_status) : "?");
	}
	return hk_error_setx(err, -ECHILD, "%s exited before it was set up%s", what, how);
}

/* Wait for the init to be ready, passing its pty on; fills c->master. */
int hk_wait_for_ready(const struct hk_create_opts *o, int sock, struct hk_container *c,
		      const struct ready_ctx *x, struct hk_error *err)
{
	const char *who = x->exec ? "exec: the process" : "container init";

	for (;;) {
		struct hk_sync_msg msg;
		int fd = -1, r = hk_sync_recv(sock, &msg, &fd);

		if (r < 0)
			return hk_init_died(c, who, err);
		switch (msg.type) {
		case HK_SYNC_READY:
			return 0;
		case HK_SYNC_ERROR:
			*err = msg.err;
			return err->code ? err->code : -EIO;
		case HK_SYNC_SECCOMP:
			r = fd < 0 ? hk_error_setx(err, -EPROTO, "no seccomp listener fd")
				   : send_listener(x, c, fd, err);
			if (fd >= 0)
				close(fd);
			if (r < 0)
				return r;
			break;
		case HK_SYNC_BUILT:
			if (x->exec)
				return hk_error_setx(err, -EPROTO, "unexpected message from exec");
			/* The init is in its cgroups now (it wrote "0" into each). */
			if (move_net_devices(x, c->pid, err) < 0 || run_create_hooks(x, c, err) < 0)
				return err->code;
			if (hk_sync_send(sock, HK_SYNC_GO, NULL, -1) < 0)
				return hk_init_died(c, who, err);
			break;
		case HK_SYNC_PTY:
			if (o->console_socket) {
				r = hk_terminal_send_to_socket(o->console_socket, fd, err);
				close(fd);
				if (r < 0)
					return r;
			} else {
				c->master = fd;
			}
			break;
		default:
			if (fd >= 0)
				close(fd);
			return hk_error_setx(err, -EPROTO,
					     "unexpected message from container init");
		}
	}
}

struct create_ctx {
	struct hk_spec *spec;
	int dirfd;
	struct hk_ns_plan plan;
	int socks[2];
	struct hk_state st;
	struct hk_cgroup_mount *cgroups;
	size_t n_cgroups;
	struct hk_seccomp_prog seccomp;
	int *bind_fds; /* the bind mounts' sources, for an init in a new user namespace */
	struct hk_ns_children own_ns; /* ours, while we are in the container's */
};

/* The init is gone before it was set up: it said why, unless it was killed. */
static int init_failed(const struct hk_create_opts *o, int sock, struct hk_container *c,
		       const struct ready_ctx *ready, struct hk_error *err)
{
	if (hk_wait_for_ready(o, sock, c, ready, err) == 0)
		hk_error_setx(err, -EPROTO, "container init: ready before it was told to go on");
	return err->code;
}

static int spawn(const struct hk_create_opts *o, struct create_ctx *x, struct hk_container *c,
		 struct hk_error *err)
{
	char seccomp_cache[PATH_MAX];
	char keyring[128];
	struct hk_child_args args = {
	    .spec = x->spec,
	    .plan = &x->plan,
	    .sync_fd = -1,
	    .exec_fifo = -1,
	    .no_pivot = o->no_pivot,
	    .preserve_fds = o->preserve_fds,
	    .cap_last = hk_process_cap_last(),
	    .keyring = o->no_new_keyring ? NULL : keyring,
	    .exec_pidfd = -1,
	    .exec_root = -1,
	};
	/* The exec fifo is the one thing of the host's state directory the init
	 * holds (until execve: it is close-on-exec). Not the directory: a process
	 * in the container that may ptrace the init would reach the host through
	 * /proc/1/fd/N/../.. Opened for reading and writing, so that the init's
	 * wait blocks instead of seeing an end of file (see wait_for_start()). */
	_cleanup_close_ int fifo = openat(x->dirfd, HK_EXEC_FIFO, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	const struct ready_ctx ready = {x->spec, &x->st, false, x->dirfd};
	char created[64];
	pid_t pid;

	if (fifo < 0)
		return hk_error_set(err, -errno, "open the exec fifo");
	snprintf(keyring, sizeof(keyring), "_ses.%s", o->id);
	snprintf(seccomp_cache, sizeof(seccomp_cache), "%s/%s", o->root, HK_SECCOMP_CACHE);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x->socks) < 0)
		return hk_error_set(err, -errno, "socketpair");
	hk_process_drop_unknown_caps(&x->spec->process, args.cap_last);
	hk_process_reserve_home(&x->spec->process);
	if (x->spec->process.exec_cpus_initial || x->spec->process.exec_cpus_final)
		hk_debug("process.execCPUAffinity is for exec, not for the init: not applied");
	if (hk_lsm_prepare(x->spec, &x->spec->process, &args.lsms, err) < 0 ||
	    hk_seccomp_compile(&x->spec->seccomp, seccomp_cache, &x->seccomp, err) < 0 ||
	    hk_cgroup_plan(x->spec, o->id, &x->cgroups, &x->n_cgroups, err) < 0 ||
	    hk_ns_children_enter(x->spec, &x->plan, -1, 0, &x->own_ns, err) < 0)
		return err->code;
	/* Inside its user namespace the init may not reach a bind's source (a
	 * file in a root-only directory): we clone each for it, if we may. */
	if (!o->rootless && hk_ns_makes_user(x->spec) &&
	    hk_mount_open_sources(x->spec, &x->bind_fds, err) < 0)
		return err->code;
	args.bind_fds = x->bind_fds;
	/* Rootless: a cgroup we could make but not enter is no error, unless
	 * the config set limits there. */
	args.cgroups_optional = o->rootless && !x->spec->resources.any && !x->spec->n_device_rules;
	args.cgroups = x->cgroups;
	args.n_cgroups = x->n_cgroups;
	args.seccomp = &x->seccomp;
	pid = hk_clone_init(x->plan.clone_flags, &c->pidfd, err);
	if (pid < 0)
		return err->code;
	if (pid == 0) {
		/* The lock belongs to the open file that x->dirfd shares with us: drop
		 * it, or `start` would wait for it while we wait for `start`. */
		close(x->dirfd);
		close(x->socks[0]);
		hk_ns_children_drop(&x->own_ns);
		args.sync_fd = x->socks[1];
		args.exec_fifo = fifo;
		hk_child_main(&args);
	}
	hk_ns_children_leave(&x->own_ns);
	close(x->socks[1]);
	x->socks[1] = -1;
	close(TAKE_FD(fifo));
	hk_mount_close_sources(x->bind_fds, x->spec->n_mounts); /* the init has its own */
	x->bind_fds = NULL;
	c->pid = pid;
	x->st.pid = pid;
	/* The init goes on by itself from here, and may fail before we look. */
	if (hk_proc_start_time(pid, &x->st.start_time) < 0)
		return init_failed(o, x->socks[0], c, &ready, err);
	/* Before any cgroup exists, record where they will be: if we are killed
	 * while making them, delete --force still finds and removes them. */
	x->st.cgroup_dirs = calloc(x->n_cgroups + 1, sizeof(char *));
	for (size_t i = 0; i < x->n_cgroups; i++)
		x->st.cgroup_dirs[i] = hk_xstrdup(x->cgroups[i].path);
	if (hk_state_save(x->dirfd, &x->st, err) < 0)
		return err->code;
	hk_strv_free(x->st.cgroup_dirs);
	x->st.cgroup_dirs = NULL;
	/* In a new user namespace, the init waits for its maps. */
	if (hk_ns_write_id_maps(x->spec, pid, err) < 0)
		return err->code;
	if (hk_ns_makes_user(x->spec) && hk_sync_send(x->socks[0], HK_SYNC_MAPPED, NULL, -1) < 0)
		return init_failed(o, x->socks[0], c, &ready, err);
	/* The cgroups, with their limits, while the init builds its filesystem. */
	if (hk_cgroup_make(x->cgroups, x->n_cgroups, x->spec, o->rootless, &x->st.cgroup_dirs,
			   &x->st.cgroup_paths, err) < 0)
		return err->code;
	/* Record what exists so far: delete --force can clean up a crashed create. */
	if (hk_state_save(x->dirfd, &x->st, err) < 0)
		return err->code;
	/* The init moves itself into them once its filesystem is built: hand it
	 * the files to write "0" into. If it failed meanwhile, it said why, and
	 * hk_wait_for_ready() reads that. */
	if (hk_cgroup_send_join_fds(x->socks[0], x->st.cgroup_paths, args.cgroups_optional, err) ==
	    0)
		hk_sync_send(x->socks[0], HK_SYNC_GO, NULL, -1);
	else if (err->code != -EPIPE)
		return err->code;
	if (hk_wait_for_ready(o, x->socks[0], c, &ready, err) < 0) {
		if (err->code == -ECHILD && x->spec->resources.mem_limit.set &&
		    hk_cgroup_oom_kills(x->cgroups, x->n_cgroups) > 0)
			return hk_error_setx(
			    err, -ENOMEM,
			    "linux.resources.memory.limit: %lld bytes is too small "
			    "for the container to start (the OOM killer ended its "
			    "init during setup)",
			    (long long)x->spec->resources.mem_limit.v);
		return err->code;
	}
	hk_time_rfc3339(created, sizeof(created));
	x->st.created = hk_xstrdup(created);
	if (hk_state_save(x->dirfd, &x->st, err) < 0)
		return err->code;
	if (o->pid_file && hk_write_pid_file(o->pid_file, pid, err) < 0)
		return err->code;
	return 0;
}

int hk_container_create(const struct hk_create_opts *o, struct hk_container *c,
			struct hk_error *err)
{
	_cleanup_(hk_spec_freep) struct hk_spec *spec = NULL;
	struct create_ctx x = {.dirfd = -1, .socks = {-1, -1}, .own_ns = HK_NS_CHILDREN_INIT};
	struct hk_buf ann = HK_BUF_INIT;
	int r;

	*c = (struct hk_container){.pid = 0, .pidfd = -1, .master = -1};
	if (hk_id_validate(o->id, err) < 0 || hk_spec_load(o->bundle, NULL, &spec, err) < 0 ||
	    check_bundle(o, spec, err) < 0)
		return err->code;
	x.spec = spec;
	if (hk_ns_prepare(spec, &x.plan, err) < 0)
		return err->code;
	if (hk_state_create_dir(o->root, o->id, &x.dirfd, err) < 0) {
		hk_ns_plan_release(&x.plan);
		return err->code;
	}
	/* 0711 and 0622: nobody else can list the directory, and only start
	 * (the runtime's user) writes the fifo. */
	if (fchmod(x.dirfd, 0711) < 0 || mkfifoat(x.dirfd, HK_EXEC_FIFO, 0622) < 0 ||
	    fchmodat(x.dirfd, HK_EXEC_FIFO, 0622, 0) < 0) {
		r = hk_error_set(err, -errno, "create the exec fifo");
		goto fail;
	}
	x.st.id = hk_xstrdup(o->id);
	x.st.bundle = hk_xstrdup(spec->bundle);
	x.st.rootfs = hk_xstrdup(spec->root_path);
	x.st.later_hooks = spec->n_hooks[HK_HOOK_START_CONTAINER] ||
			   spec->n_hooks[HK_HOOK_POSTSTART] || spec->n_hooks[HK_HOOK_POSTSTOP];
	x.st.memory_limit = spec->resources.mem_limit.set && spec->resources.mem_limit.v > 0;
	if (spec->annotations) {
		hk_json_write(&ann, spec->annotations);
		x.st.annotations = hk_buf_detach(&ann);
	}
	r = spawn(o, &x, c, err);
	if (r < 0)
		goto fail;
	hk_ns_plan_release(&x.plan);
	hk_cgroup_mounts_free(x.cgroups, x.n_cgroups);
	hk_seccomp_prog_release(&x.seccomp);
	close(x.socks[0]);
	close(x.dirfd);
	hk_state_release(&x.st);
	return 0;

fail:
	/* Leave nothing behind: the init, its cgroups, the state directory. */
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	{
		struct hk_error ignored;
		hk_net_devices_restore(x.dirfd, x.st.net_devices);
		hk_cgroup_remove(x.st.cgroup_dirs, &ignored);
		hk_state_remove(x.dirfd, o->root, o->id, &ignored);
	}
	hk_container_release(c);
	hk_ns_plan_release(&x.plan);
	hk_cgroup_mounts_free(x.cgroups, x.n_cgroups);
	hk_seccomp_prog_release(&x.seccomp);
	hk_mount_close_sources(x.bind_fds, spec->n_mounts);
	hk_ns_children_leave(&x.own_ns);
	for (int i = 0; i < 2; i++)
		if (x.socks[i] >= 0)
			close(x.socks[i]);
	close(x.dirfd);
	hk_state_release(&x.st);
	return r;
}

void hk_container_release(struct hk_container *c)
{
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->master >= 0)
		close(c->master);
	c->pidfd = c->master = -1;
}

enum hk_status hk_container_status(int dirfd, const struct hk_state *st)
{
	enum hk_status status = hk_state_status(dirfd, st);
	struct hk_cgroup_mount *m = NULL;
	size_t n = 0;
	struct hk_error ignored;

	/* Running, but frozen: the freezer cgroup says "paused". */
	if (status == HK_STATUS_RUNNING && st->cgroup_paths && st->cgroup_paths[0] &&
	    hk_cgroup_attach(st->cgroup_paths, &m, &n, &ignored) == 0) {
		if (hk_cgroup_frozen(m, n))
			status = HK_STATUS_PAUSED;
		hk_cgroup_mounts_free(m, n);
	}
	return status;
}

/* Open and lock the state, load it, and compute the status from the kernel. */
int hk_container_load(const char *root, const char *id, int *ret_dirfd, struct hk_state *st,
		      enum hk_status *status, struct hk_error *err)
{
	int r;

	if (hk_state_open_dir(root, id, ret_dirfd, err) < 0)
		return err->code;
	r = hk_state_load(*ret_dirfd, id, st, err);
	if (r < 0 && r != -ENOENT) {
		close(*ret_dirfd);
		return r;
	}
	*status = hk_container_status(*ret_dirfd, st);
	return 0;
}

int hk_container_list(const char *root, bool ids_only,
		      void (*visit)(const char *id, const struct hk_state *st,
				    enum hk_status status, void *data),
		      void *data, struct hk_error *err)
{
	_cleanup_strv_free_ char **ids = NULL;

	if (hk_state_list(root, &ids, err) < 0)
		return err->code;
	for (char **id = ids; *id; id++) {
		char path[PATH_MAX];
		struct hk_state st = {0};
		struct hk_error ignored;
		_cleanup_close_ int dirfd = -1;

		if (ids_only) {
			visit(*id, NULL, HK_STATUS_STOPPED, data);
			continue;
		}
		/* Not locked: list reads what each state says at this moment, and
		 * one that vanishes or is half written in between is left out. */
		snprintf(path, sizeof(path), "%s/%s", root, *id);
		dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			continue;
		if (hk_state_load(dirfd, *id, &st, &ignored) < 0 && ignored.code != -ENOENT &&
		    st.id == NULL)
			continue;
		visit(*id, &st, hk_container_status(dirfd, &st), data);
		hk_state_release(&st);
	}
	return 0;
}

/*
 * The bundle's config, for the hooks that run after create; NULL (and a
 * debug line) if it is gone. Read only when create saw such hooks: start and
 * delete do not parse config.json otherwise.
 */
static struct hk_spec *load_hooks(const struct hk_state *st)
{
	struct hk_spec *spec = NULL;
	struct hk_error e;

	if (!st->later_hooks)
		return NULL;
	if (hk_spec_load(st->bundle, NULL, &spec, &e) < 0) {
		hk_debug("no hooks: %s", e.msg);
		return NULL;
	}
	return spec;
}

/* poststart and poststop: a failure is a warning, and the rest go on. */
static void run_hooks_warn(const struct hk_spec *spec, enum hk_hook_phase ph, const char *state)
{
	struct hk_error e;

	for (size_t i = 0; spec && i < spec->n_hooks[ph]; i++) {
		struct hk_spec one = *spec;
		memset(one.n_hooks, 0, sizeof(one.n_hooks));
		one.hooks[ph] = &spec->hooks[ph][i];
		one.n_hooks[ph] = 1;
		if (hk_hooks_run(&one, ph, state, -1, 0, &e) < 0)
			hk_log_write("warning", "%s", e.msg);
	}
}

static int count_oom_kills(const struct hk_cgroup_mount *m, size_t n, void *data,
			   struct hk_error *err)
{
	(void)data;
	(void)err;
	return (int)(hk_cgroup_oom_kills(m, n) > 0);
}

int hk_container_start(const char *root, const char *id, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1, fifo = -1, pidfd = -1;
	_cleanup_(hk_spec_freep) struct hk_spec *spec = NULL;
	struct hk_state st;
	enum hk_status status;
	struct pollfd fds[2];

	if (hk_container_load(root, id, &dirfd, &st, &status, err) < 0)
		return err->code;
	if (status != HK_STATUS_CREATED) {
		hk_error_setx(err, -EINVAL,
			      status == HK_STATUS_RUNNING
				  ? "cannot start an already running container"
				  : "cannot start a container that has %s",
			      hk_status_name(status));
		goto out;
	}
	/* The pidfd first: once the fifo is open, the init may exec a process
	 * that exits at once, and a zombie no longer passes the check. The fifo
	 * non-blocking, so that a dead init cannot leave us waiting forever. */
	pidfd = hk_pidfd_open_checked(st.pid, st.start_time);
	spec = load_hooks(&st);
	if (pidfd >= 0 && spec && spec->n_hooks[HK_HOOK_START_CONTAINER]) {
		/* startContainer: in the container, before its process runs. */
		_cleanup_free_ char *state = hk_state_to_json(&st, status, false);
		int ns = hk_differing_namespaces(st.pid) & ~(CLONE_NEWPID | CLONE_NEWTIME);
		if (hk_hooks_run(spec, HK_HOOK_START_CONTAINER, state, pidfd, ns, err) < 0) {
			/* The container does not start: it is stopped, as the spec says. */
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			goto out;
		}
	}
	/* The init waits polling the exec fifo, which it holds open for reading
	 * and writing (so it waits, not sees an end of file). With no reader
	 * left it is dead: the open fails with ENXIO. Our byte (its pipe page
	 * charged to us, not to the container) lets it go on; its fd is
	 * close-on-exec, so POLLERR on ours says it has executed its process
	 * (or died). */
	if (pidfd >= 0)
		fifo = openat(dirfd, HK_EXEC_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0 || pidfd < 0 || hk_write_nosigpipe(fifo, "0", 1) != 1) {
		hk_error_setx(err, -ESRCH, "container \"%s\": init exited before start", id);
		goto out;
	}
	/* The byte is in: the init goes on whatever becomes of us, and its
	 * status is "running" from now on (see hk_state_status()). The fifo is
	 * removed only for tidiness. */
	unlinkat(dirfd, HK_EXEC_FIFO, 0);
	/* Wait for the execve only when something comes after it: poststart
	 * hooks, or a memory limit that may be too small for it. */
	if ((spec && spec->n_hooks[HK_HOOK_POSTSTART]) || st.memory_limit) {
		fds[0] = (struct pollfd){fifo, 0, 0};
		fds[1] = (struct pollfd){pidfd, POLLIN, 0};
		while (poll(fds, 2, -1) < 0 && errno == EINTR)
			;
	}
	/* Killed by the OOM killer as it started (the counter moves before the
	 * fifo closes): it could not even start. */
	if (st.memory_limit && hk_with_cgroups(&st, count_oom_kills, NULL, err) > 0) {
		hk_error_setx(err, -ENOMEM,
			      "linux.resources.memory.limit is too small for the container to "
			      "start: the OOM killer ended its process as it started");
		goto out;
	}
	hk_debug("wrote the exec fifo: container \"%s\" (pid %d) runs its process", id,
		 (int)st.pid);
	if (spec && spec->n_hooks[HK_HOOK_POSTSTART]) {
		_cleanup_free_ char *state = hk_state_to_json(&st, HK_STATUS_RUNNING, false);
		/* From runtime-spec 1.3 a failing poststart hook fails start, and
		 * the container is stopped; before, it was a warning. */
		if (spec->oci_minor < 3) {
			run_hooks_warn(spec, HK_HOOK_POSTSTART, state);
		} else if (hk_hooks_run(spec, HK_HOOK_POSTSTART, state, -1, 0, err) < 0) {
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			goto out;
		}
	}
	err->code = 0;
out:
	hk_state_release(&st);
	return err->code;
}

int hk_container_kill(const char *root, const char *id, int sig, bool all, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1, pidfd = -1;
	struct hk_state st;
	enum hk_status status;
	int r = 0;

	if (hk_container_load(root, id, &dirfd, &st, &status, err) < 0)
		return err->code;
	if (status != HK_STATUS_CREATED && status != HK_STATUS_RUNNING &&
	    status != HK_STATUS_PAUSED) {
		r = hk_error_setx(err, -ESRCH, "container not running");
		goto out;
	}
	if (all) {
		r = hk_cgroup_kill_all(st.cgroup_dirs, sig, err);
		goto out;
	}
	/* pidfd_send_signal(2) cannot hit a recycled pid. */
	pidfd = hk_pidfd_open_checked(st.pid, st.start_time);
	if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
		r = hk_error_set(err, pidfd < 0 ? pidfd : -errno, "kill container \"%s\"", id);
		goto out;
	}
	hk_debug("pidfd_send_signal(%d, %d) ok", (int)st.pid, sig);
out:
	hk_state_release(&st);
	return r;
}

int hk_container_delete(const char *root, const char *id, bool force, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1, pidfd = -1;
	struct hk_state st;
	enum hk_status status;
	int r = 0;

	if (hk_state_open_dir(root, id, &dirfd, err) < 0)
		return err->code;
	/* A damaged state.json: --force removes what the recovery record names
	 * (the init, the cgroups) and the directory. */
	r = hk_state_load(dirfd, id, &st, err);
	if (r < 0 && r != -ENOENT && !(st.damaged && force))
		goto out;
	status = hk_container_status(dirfd, &st);
	r = 0;
	if ((status == HK_STATUS_RUNNING || status == HK_STATUS_PAUSED) && !force) {
		r = hk_error_setx(err, -EBUSY, "cannot delete container %s that is not stopped: %s",
				  id, hk_status_name(status));
		goto out;
	}
	/* A frozen v1 task does not die of SIGKILL until it is thawed. */
	if (status == HK_STATUS_PAUSED)
		hk_container_thaw(&st, err);
	/* A created (or half-created) container is killed, as runc does. */
	if (status != HK_STATUS_STOPPED && st.pid > 0) {
		pidfd = hk_pidfd_open_checked(st.pid, st.start_time);
		if (pidfd >= 0) {
			struct pollfd p = {pidfd, POLLIN, 0};
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			poll(&p, 1, 10000);
		}
	}
	hk_cgroup_kill_all(st.cgroup_dirs, SIGKILL, err);
	hk_net_devices_restore(dirfd, st.net_devices);
	if (hk_cgroup_remove(st.cgroup_dirs, err) < 0) {
		r = err->code;
		goto out;
	}
	r = hk_state_remove(dirfd, root, id, err);
	/* poststop: the container is gone, delete has not returned yet. */
	if (r >= 0) {
		_cleanup_(hk_spec_freep) struct hk_spec *spec = load_hooks(&st);
		if (spec && spec->n_hooks[HK_HOOK_POSTSTOP]) {
			_cleanup_free_ char *state =
			    hk_state_to_json(&st, HK_STATUS_STOPPED, false);
			run_hooks_warn(spec, HK_HOOK_POSTSTOP, state);
		}
	}
out:
	hk_state_release(&st);
	return r;
}

int hk_container_state(const char *root, const char *id, char **ret_json, struct hk_error *err)
{
	_cleanup_close_ int dirfd = -1;
	struct hk_state st;
	enum hk_status status;

	if (hk_container_load(root, id, &dirfd, &st, &status, err) < 0)
		return err->code;
	*ret_json = hk_state_to_json(&st, status, true);
	hk_state_release(&st);
	return 0;
}

int hk_container_wait(const struct hk_container *c)
{
	sigset_t blocked;
	_cleanup_close_ int sfd = -1;
	int status = 0;

	/* Forward every signal we can catch; the init decides what they mean. */
	sigprocmask(SIG_BLOCK, NULL, &blocked);
	sfd = signalfd(-1, &blocked, SFD_CLOEXEC);
	if (c->master >= 0)
		hk_terminal_proxy(c->master, c->pidfd, sfd);
	for (;;) {
		struct pollfd fds[2] = {{c->pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN)
			break;
		if (fds[1].revents & POLLIN)
			hk_signals_forward_one(sfd, c->pidfd, -1);
	}
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
