/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hako-probe: runs inside test containers and reports what it sees, so that
 * the integration tests check the kernel's view, not hako's word.
 *
 *   hako-probe report          one JSON object: ids, namespaces, hostname, ...
 *   hako-probe exit N          exit with status N
 *   hako-probe sleep SECS      sleep (to be killed or inspected)
 *   hako-probe signals         print each signal received; exit 100+sig on TERM/INT/HUP/USR1
 *   hako-probe cat PATH        print a file (for host-escape checks)
 *   hako-probe write PATH TEXT write to a file; exit 1 and print the error on failure
 *   hako-probe alloc MIB       allocate and touch MIB MiB (to meet a memory limit)
 *   hako-probe try WHAT [ARG]  attempt one escape; print "refused: <error>" and exit 1,
 *                              or print "ESCAPED" and exit 0. WHAT is module, mount,
 *                              unshare NS, ptrace PID, seccomp DIR (mkdir DIR after
 *                              installing an allow-all filter), chdir DIR
 *   hako-probe trap            call uname(2); print the syscall a SIGSYS names
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void file_member(const char *key, const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	printf(",\"%s\":", key);
	json_str(buf);
}

static int report(void)
{
	static const char *const ns[] = {"pid", "mnt",	"uts",	  "ipc",
					 "net", "user", "cgroup", "time"};
	struct utsname u;
	struct timespec mono, boot;
	struct rlimit nofile;
	char cwd[4096] = "", link[256];
	gid_t groups[64];
	int ngroups = getgroups(64, groups);
	DIR *d;
	struct dirent *de;
	mode_t mask = umask(0);
	int first = 1;

	umask(mask);
	uname(&u);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	getrlimit(RLIMIT_NOFILE, &nofile);
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "?");
	printf("{\"pid\":%d,\"ppid\":%d,\"uid\":%d,\"gid\":%d,\"umask\":%d", getpid(), getppid(),
	       getuid(), getgid(), mask);
	printf(",\"groups\":[");
	for (int i = 0; i < ngroups; i++)
		printf("%s%d", i ? "," : "", groups[i]);
	printf("],\"hostname\":");
	json_str(u.nodename);
	printf(",\"domainname\":");
	json_str(u.domainname);
	printf(",\"cwd\":");
	json_str(cwd);
	printf(",\"monotonic\":%lld,\"boottime\":%lld", (long long)mono.tv_sec,
	       (long long)boot.tv_sec);
	printf(",\"nofile\":[%llu,%llu]", (unsigned long long)nofile.rlim_cur,
	       (unsigned long long)nofile.rlim_max);
	printf(",\"ns\":{");
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char path[64];
		ssize_t n;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		printf("%s\"%s\":", i ? "," : "", ns[i]);
		json_str(link);
	}
	printf("},\"fds\":[");
	d = opendir("/proc/self/fd");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		printf("%s%s", first ? "" : ",", de->d_name);
		first = 0;
	}
	if (d)
		closedir(d);
	printf("],\"netdevs\":[");
	first = 1;
	d = opendir("/sys/class/net");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		printf("%s", first ? "" : ",");
		json_str(de->d_name);
		first = 0;
	}
	if (d)
		closedir(d);
	printf("]");
	file_member("status", "/proc/self/status");
	file_member("mountinfo", "/proc/self/mountinfo");
	file_member("cgroup", "/proc/self/cgroup");
	file_member("uid_map", "/proc/self/uid_map");
	file_member("oom_score_adj", "/proc/self/oom_score_adj");
	{
		/* "keyring;uid;gid;perm;name" of our session keyring (KEYCTL_DESCRIBE). */
		char key[256] = "";
		long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, -3 /* session */, key,
				 sizeof(key) - 1);
		key[n > 0 && n < (long)sizeof(key) ? n : 0] = '\0';
		printf(",\"keyring\":");
		json_str(key);
	}
	{
		/* sched_getattr(2): policy, nice and real-time priority. */
		unsigned attr[14] = {0}; /* struct sched_attr, 56 bytes */
		cpu_set_t set;
		int first = 1;
		if (syscall(SYS_sched_getattr, 0, attr, sizeof(attr), 0) == 0)
			printf(",\"sched\":{\"policy\":%u,\"nice\":%d,\"priority\":%u}", attr[1],
			       (int)attr[4], attr[5]);
		printf(",\"ioprio\":%ld", syscall(SYS_ioprio_get, 1, 0));
		printf(",\"personality\":%d", personality(0xffffffff));
		printf(",\"cpus\":[");
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
				if (CPU_ISSET(cpu, &set)) {
					printf("%s%d", first ? "" : ",", cpu);
					first = 0;
				}
		printf("]");
	}
	file_member("attr_current", "/proc/self/attr/current");
	printf("}\n");
	return 0;
}

static int try_escape(const char *what, const char *arg)
{
	static const struct {
		const char *name;
		int flag;
	} ns[] = {{"mnt", CLONE_NEWNS},	 {"net", CLONE_NEWNET}, {"uts", CLONE_NEWUTS},
		  {"ipc", CLONE_NEWIPC}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
		  {"time", 0x80}};
	long r = -1;

	errno = EINVAL;
	if (!strcmp(what, "module")) {
		/* Without CAP_SYS_MODULE: EPERM before the fd is even looked at. */
		r = syscall(SYS_finit_module, -1, "", 0);
		if (r < 0 && errno == EBADF)
			r = 0; /* the capability check passed */
	} else if (!strcmp(what, "mount")) {
		r = mount("none", "/tmp", "tmpfs", 0, NULL);
	} else if (!strcmp(what, "unshare") && arg) {
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
			if (!strcmp(arg, ns[i].name))
				r = unshare(ns[i].flag);
	} else if (!strcmp(what, "ptrace") && arg) {
		r = ptrace(PTRACE_ATTACH, atoi(arg), NULL, NULL);
	} else if (!strcmp(what, "seccomp") && arg) {
		/* Stack an allow-all filter: the stricter one must still win. */
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = {1, &allow};
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			printf("(seccomp: %s)\n", strerror(errno));
		r = mkdir(arg, 0755);
	} else if (!strcmp(what, "chdir") && arg) {
		char cwd[4096] = "";
		r = chdir(arg);
		if (r == 0 && (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0 || cwd[0] != '/')) {
			printf("cwd %s\n", cwd);
			r = 0; /* outside our root */
		} else if (r == 0) {
			r = -1;
			errno = 0;
			printf("cwd %s (inside)\n", cwd);
		}
	}
	if (r < 0) {
		printf("refused: %s\n", strerror(errno));
		return 1;
	}
	printf("ESCAPED\n");
	return 0;
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	printf("SIGSYS syscall %d\n", si->si_syscall);
	fflush(stdout);
	_exit(0);
}

static void on_signal(int sig)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "signal %d\n", sig);

	if (write(1, buf, (size_t)n) < 0)
		_exit(2);
	if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGUSR1)
		_exit(100 + sig);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return report();
	if (argc >= 3 && !strcmp(argv[1], "exit"))
		return atoi(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "sleep")) {
		sleep((unsigned)atoi(argv[2]));
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "signals")) {
		int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], on_signal);
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (argc >= 3 && !strcmp(argv[1], "cat")) {
		char buf[4096];
		int fd = open(argv[2], O_RDONLY);
		ssize_t n;
		if (fd < 0) {
			fprintf(stderr, "open %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stdout);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "write")) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, argv[3], strlen(argv[3])) < 0) {
			printf("error: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "alloc")) {
		/* Touch N MiB, one page at a time, so each is charged to our memcg. */
		size_t n = (size_t)atoi(argv[2]) << 20;
		char *p = malloc(n);
		for (size_t i = 0; p && i < n; i += 4096)
			p[i] = 1;
		printf("allocated %s MiB\n", argv[2]);
		return p ? 0 : 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "try"))
		return try_escape(argv[2], argc >= 4 ? argv[3] : NULL);
	if (argc >= 2 && !strcmp(argv[1], "trap")) {
		struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
		struct utsname u;
		sigaction(SIGSYS, &sa, NULL);
		printf("uname: %ld\n", syscall(SYS_uname, &u));
		return 1;
	}
	fprintf(stderr,
		"usage: hako-probe report|exit N|sleep S|signals|cat P|write P T|alloc MiB\n");
	return 2;
}
