/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CVE-2019-5736: a process in the container that can reach a runtime
 * process's /proc/<pid>/exe (or makes the runtime execute itself through a
 * "#!/proc/self/exe" script) can open the runtime's binary on the host and
 * overwrite it once the runtime exits. So the commands that put a hako
 * process into a container first re-execute hako from a sealed memfd copy:
 * that /proc/<pid>/exe is a file nobody can write, and the host's binary is
 * never reachable from the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "selfexe.h"
#include "util.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool hk_selfexe_is_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int seals = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;

	return seals >= 0 && (seals & SEALS) == SEALS;
}

int hk_selfexe_reexec_sealed(char **argv, struct hk_error *err)
{
	_cleanup_close_ int exe = -1, mem = -1;
	struct stat st;
	off_t off = 0;
	extern char **environ;

	if (hk_selfexe_is_sealed())
		return 0;
	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0 || fstat(exe, &st) < 0)
		return hk_error_set(err, -errno, "open /proc/self/exe");
	mem = memfd_create("hako", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem < 0)
		return hk_error_set(err, -errno, "memfd_create");
	while (off < st.st_size) {
		ssize_t n = sendfile(mem, exe, &off, (size_t)(st.st_size - off));
		if (n <= 0)
			return hk_error_set(err, n < 0 ? -errno : -EIO, "copy hako into a memfd");
	}
	if (fcntl(mem, F_ADD_SEALS, SEALS) < 0)
		return hk_error_set(err, -errno, "seal the memfd copy of hako");
	hk_debug("re-executing from a sealed memfd copy of %lld bytes (CVE-2019-5736)",
		 (long long)st.st_size);
	fexecve(mem, argv, environ);
	return hk_error_set(err, -errno, "fexecve the sealed copy of hako");
}
