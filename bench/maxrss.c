/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maxrss CMD [ARGS...]: run CMD and print the peak RSS of its process tree in
 * KiB (ru_maxrss from wait4(2): the largest process of CMD and the children
 * it reaped). Built static and tiny, because the kernel counts the parent's
 * resident memory at fork into the child's peak until it calls execve: a
 * Python parent would add its 15 MiB to every runtime.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2) {
		fputs("usage: maxrss CMD [ARGS...]\n", stderr);
		return 2;
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 2;
	printf("%ld\n", ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
