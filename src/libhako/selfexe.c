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
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
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

/*
 * How much of the binary execve needs: up to the end of its last loaded
 * segment. What follows (debug info, the section headers) is most of an
 * unstripped build and would only be copied on every run. 0: copy it all
 * (not an ELF file we understand).
 */
static off_t loaded_size(int exe, ElfW(Ehdr) * eh)
{
	off_t end = 0;

	if (pread(exe, eh, sizeof(*eh), 0) != (ssize_t)sizeof(*eh) ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_phentsize != sizeof(ElfW(Phdr)) ||
	    eh->e_phnum > 64)
		return 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		ElfW(Phdr) ph;

		if (pread(exe, &ph, sizeof(ph), (off_t)(eh->e_phoff + i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			return 0;
		if ((off_t)(ph.p_offset + ph.p_filesz) > end)
			end = (off_t)(ph.p_offset + ph.p_filesz);
	}
	return (off_t)(eh->e_phoff + eh->e_phnum * sizeof(ElfW(Phdr))) > end ? 0 : end;
}

/*
 * A sealed memfd holding the first size bytes of exe (and eh as its ELF
 * header when that is shorter than the file). -EBUSY when the kernel found
 * the copy's pages still referenced when it was sealed (memfd_wait_for_pins:
 * rare, and gone a moment later).
 */
static int sealed_copy(int exe, off_t size, off_t file_size, ElfW(Ehdr) * eh, int *ret,
		       struct hk_error *err)
{
	_cleanup_close_ int mem = memfd_create("hako", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	off_t off = 0;

	if (mem < 0)
		return hk_error_set(err, -errno, "memfd_create");
	while (off < size) {
		ssize_t n = sendfile(mem, exe, &off, (size_t)(size - off));
		if (n <= 0)
			return hk_error_set(err, n < 0 ? -errno : -EIO, "copy into a memfd");
	}
	/* A shorter copy has no section headers: say so in its ELF header. */
	if (size < file_size) {
		eh->e_shoff = 0;
		eh->e_shnum = 0;
		eh->e_shstrndx = 0;
		if (pwrite(mem, eh, sizeof(*eh), 0) != (ssize_t)sizeof(*eh))
			return hk_error_set(err, -errno, "copy into a memfd: its ELF header");
	}
	if (fcntl(mem, F_ADD_SEALS, SEALS) < 0)
		return hk_error_set(err, -errno, "seal the memfd copy");
	*ret = mem;
	mem = -1;
	return 0;
}

int hk_exe_sealed_copy(int exe, int *ret_memfd, struct hk_error *err)
{
	struct stat st;
	ElfW(Ehdr) eh;
	off_t size;
	int r;

	if (fstat(exe, &st) < 0)
		return hk_error_set(err, -errno, "stat the binary to copy");
	size = loaded_size(exe, &eh);
	if (size <= 0 || size > st.st_size)
		size = st.st_size;
	/* A seal refused for pages still referenced (EBUSY): a new copy, a moment later. */
	for (int tries = 0;
	     (r = sealed_copy(exe, size, st.st_size, &eh, ret_memfd, err)) == -EBUSY && tries < 5;
	     tries++) {
		hk_debug("%s: again", err->msg);
		hk_error_clear(err);
		usleep(1000u << tries);
	}
	if (r >= 0)
		hk_debug("a sealed memfd copy of %lld of its %lld bytes (CVE-2019-5736)",
			 (long long)size, (long long)st.st_size);
	return r;
}

int hk_selfexe_reexec_sealed(char **argv, struct hk_error *err)
{
	_cleanup_close_ int exe = -1, mem = -1;
	int r;
	extern char **environ;

	if (hk_selfexe_is_sealed())
		return 0;
	if ((exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return hk_error_set(err, -errno, "open /proc/self/exe");
	if ((r = hk_exe_sealed_copy(exe, &mem, err)) < 0)
		return r;
	hk_debug("re-executing from that copy");
	fexecve(mem, argv, environ);
	return hk_error_set(err, -errno, "fexecve the sealed copy of hako");
}
