/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "signals.h"
#include "util.h"

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
    {"HUP", SIGHUP},	   {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},	   {"ABRT", SIGABRT}, {"IOT", SIGIOT},	     {"BUS", SIGBUS},
    {"FPE", SIGFPE},	   {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},	   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},	   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int hk_signal_parse(const char *s)
{
	long long n;

	if (hk_parse_int64(s, &n) == 0)
		return n > 0 && n < _NSIG ? (int)n : -EINVAL;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
		if (strcasecmp(s, signal_names[i].name) == 0)
			return signal_names[i].sig;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		bool max = strncasecmp(s, "RTMAX", 5) == 0;
		long long off = 0;
		if (s[5] && (hk_parse_int64(s + 5, &off) < 0 || (max ? off > 0 : off < 0)))
			return -EINVAL;
		n = (max ? SIGRTMAX : SIGRTMIN) + off;
		return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -EINVAL;
	}
	return -EINVAL;
}

void hk_signals_block_forwarded(sigset_t *ret_old)
{
	sigset_t all;

	sigfillset(&all);
	sigdelset(&all, SIGCHLD);
	sigprocmask(SIG_BLOCK, &all, ret_old);
}

void hk_signals_forward_one(int sfd, int pidfd, int master)
{
	struct signalfd_siginfo si;
	struct winsize ws;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return;
	/* A SIGPIPE of our own (a write to a closed stdout) is not the
	 * container's business; one another process sends is forwarded. */
	if (si.ssi_signo == SIGPIPE && si.ssi_pid == (uint32_t)getpid())
		return;
	if (si.ssi_signo == SIGWINCH && master >= 0) {
		if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
		return;
	}
	hk_debug("forwarding signal %u", si.ssi_signo);
	syscall(SYS_pidfd_send_signal, pidfd, si.ssi_signo, NULL, 0);
}
