/*
 * The least an engine on overlayfs must add to its runtime, for the engine
 * table's floor row: what `hakoctl run --rm` does with nothing else (no image
 * lookup, no record, no name, no config written, no lock).
 *
 *   ovlfloor LOWER DIR MOUNTPOINT RUNTIME ARG...
 *
 * In a mount namespace of its own: mkdir DIR/<random>/{upper,work}, mount a
 * volatile overlay of LOWER with them on MOUNTPOINT (which the bundle's
 * config.json names as its root), vfork and exec `RUNTIME ARG... <random>`
 * (`hako --root R run --bundle B`), wait, unmount, remove DIR/<random>.
 * Exits as the runtime did.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(125);
}

/* A container's dir as hakoctl's removal walks it (no recursion beyond). */
static void rm_rf(int parent, const char *name)
{
	if (unlinkat(parent, name, 0) == 0)
		return;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(name);
	char buf[4096];
	long n;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n;) {
			struct {
				unsigned long long ino;
				long long off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			if (strcmp(d->name, ".") != 0 && strcmp(d->name, ".."))
				rm_rf(fd, d->name);
			off += d->reclen;
		}
	close(fd);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
		die(name);
}

int main(int argc, char **argv)
{
	unsigned char rnd[8];
	char id[17], path[4096];
	int status;

	if (argc < 5 || argc > 30) {
		fprintf(stderr, "usage: ovlfloor LOWER DIR MOUNTPOINT RUNTIME ARG...\n");
		return 125;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("mount namespace");
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		die("getrandom");
	for (int i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	int dir = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || mkdirat(dir, id, 0700) < 0)
		die(argv[2]);
	int ctr = openat(dir, id, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctr < 0 || mkdirat(ctr, "upper", 0755) < 0 || mkdirat(ctr, "work", 0700) < 0)
		die(id);
	int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	snprintf(path, sizeof(path), "%s/%s/upper", argv[2], id);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", argv[1], 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", path, 0) < 0)
		die("overlay");
	snprintf(path, sizeof(path), "%s/%s/work", argv[2], id);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "workdir", path, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die("overlay");
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0 || move_mount(mnt, "", AT_FDCWD, argv[3], MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die(argv[3]);
	close(mnt);
	close(fs);
	char *args[32];
	int n = 0;
	for (int i = 4; i < argc; i++)
		args[n++] = argv[i];
	args[n++] = id;
	args[n] = NULL;
	pid_t pid = vfork();
	if (pid == 0) {
		execv(args[0], args);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		die("runtime");
	if (umount2(argv[3], MNT_DETACH) < 0)
		die(argv[3]);
	rm_rf(dir, id);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
