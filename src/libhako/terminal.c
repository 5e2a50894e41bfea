/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "signals.h"
#include "sys.h"
#include "terminal.h"
#include "util.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x04
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#endif

/*
 * Bind the pty over /dev/console without looking either up by path at mount
 * time: the target is opened with O_NOFOLLOW and checked, the pty is cloned
 * from its fd, and move_mount(2) joins the two fds. A /dev/console swapped
 * for a symlink (to a /proc file, say) is refused, not followed.
 */
static int bind_console(int slave, const char *slave_name, struct hk_error *err)
{
	_cleanup_close_ int target = -1, tree = -1;
	struct stat st;
	int c = open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (c >= 0)
		close(c);
	else if (errno != EEXIST)
		return hk_error_set(err, -errno, "create \"/dev/console\"");
	target = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0 || fstat(target, &st) < 0)
		return hk_error_set(err, -errno, "open \"/dev/console\"");
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return hk_error_setx(err, -EXDEV,
				     "\"/dev/console\" is not a file or device: refusing to mount "
				     "the pty there");
	tree = (int)syscall(SYS_open_tree, slave, "", OPEN_TREE_CLONE | AT_EMPTY_PATH | O_CLOEXEC);
	if (tree < 0)
		return hk_error_set(err, -errno, "open_tree(\"%s\")", slave_name);
	if (syscall(SYS_move_mount, tree, "", target, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return hk_error_set(err, -errno, "move_mount(\"%s\", \"/dev/console\")",
				    slave_name);
	hk_debug("move_mount(\"%s\", \"/dev/console\") ok", slave_name);
	return 0;
}

int hk_terminal_setup_child(unsigned rows, unsigned cols, bool console, int *ret_master,
			    struct hk_error *err)
{
	char slave_name[64];
	int master, slave, n, unlock = 0;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return hk_error_set(err, -errno, "open \"/dev/ptmx\"");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0) {
		close(master);
		return hk_error_set(err, -errno, "unlock pty");
	}
	snprintf(slave_name, sizeof(slave_name), "/dev/pts/%d", n);
	slave = open(slave_name, O_RDWR | O_NOCTTY);
	if (slave < 0) {
		close(master);
		return hk_error_set(err, -errno, "open \"%s\"", slave_name);
	}
	if (rows && cols) {
		struct winsize ws = {.ws_row = (unsigned short)rows,
				     .ws_col = (unsigned short)cols};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	/* A new session, with the pty as its controlling terminal. */
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 ||
	    dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
		close(master);
		close(slave);
		return hk_error_set(err, -errno, "make \"%s\" the controlling terminal",
				    slave_name);
	}
	hk_debug("open(\"/dev/ptmx\") = pty %s, setsid, TIOCSCTTY ok", slave_name);
	/* /dev/console is the pty, as console(4) is for init. */
	if (console && bind_console(slave, slave_name, err) < 0) {
		close(master);
		close(slave);
		return err->code;
	}
	if (slave > 2)
		close(slave);
	*ret_master = master;
	return 0;
}

int hk_terminal_send_to_socket(const char *path, int master, struct hk_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char name[] = "/dev/ptmx";
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c;

	if (strlen(path) >= sizeof(addr.sun_path))
		return hk_error_setx(err, -ENAMETOOLONG, "console socket \"%s\": path too long",
				     path);
	strcpy(addr.sun_path, path);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hk_error_set(err, -errno, "connect to console socket \"%s\"", path);
	memset(&control, 0, sizeof(control));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return hk_error_set(err, -errno, "send pty to console socket \"%s\"", path);
	hk_debug("sendmsg(\"%s\", SCM_RIGHTS pty master) ok", path);
	return 0;
}

static bool copy_once(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = hk_write_nosigpipe(to, buf + off, (size_t)(n - off));
		if (w < 0)
			return false;
		off += w > 0 ? w : 0;
	}
	return true;
}

void hk_terminal_proxy(int master, int pidfd, int sfd)
{
	struct termios saved, raw;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	struct pollfd fds[4] = {
	    {STDIN_FILENO, POLLIN, 0}, {master, POLLIN, 0}, {pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};

	if (tty) {
		struct winsize ws;
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	for (;;) {
		if (poll(fds, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[3].revents & POLLIN)
			hk_signals_forward_one(sfd, pidfd, master);
		if (fds[1].revents & POLLIN) {
			if (!copy_once(master, STDOUT_FILENO))
				break;
			continue;
		}
		if (fds[1].revents & (POLLHUP | POLLERR))
			break;
		if ((fds[0].revents & (POLLIN | POLLHUP)) && !copy_once(STDIN_FILENO, master))
			fds[0].fd = -1; /* stdin closed: keep showing output */
		if (fds[2].revents & POLLIN) {
			/* Drain what the process wrote before it exited. */
			while (poll(&fds[1], 1, 0) > 0 && (fds[1].revents & POLLIN) &&
			       copy_once(master, STDOUT_FILENO))
				;
			break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}
