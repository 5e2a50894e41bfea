/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "log.h"
#include "lsm.h"
#include "util.h"

/* Long enough for any label the kernel takes (a page, less our prefix). */
#define LABEL_MAX 4000

static unsigned lsm_enabled(void)
{
	unsigned lsms = 0;
	char yes = 0;
	_cleanup_close_ int fd =
	    open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && read(fd, &yes, 1) == 1 && yes == 'Y')
		lsms |= HK_LSM_APPARMOR;
	/* selinuxfs is there only while SELinux is enabled. */
	if (access("/sys/fs/selinux/enforce", F_OK) == 0)
		lsms |= HK_LSM_SELINUX;
	return lsms;
}

/* The file systems that take a context= option: not binds, not the kernel's views. */
static bool takes_mount_label(const struct hk_mount *m)
{
	static const char *const no[] = {"bind", "proc", "sysfs", "cgroup", "cgroup2"};

	if (m->flags & MS_BIND)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcmp(m->type, no[i]) == 0)
			return false;
	return true;
}

int hk_lsm_prepare(struct hk_spec *spec, const struct hk_process *p, unsigned *ret_lsms,
		   struct hk_error *err)
{
	bool labels = (p->apparmor_profile && *p->apparmor_profile) ||
		      (p->selinux_label && *p->selinux_label) ||
		      (spec->mount_label && *spec->mount_label);
	unsigned lsms = *ret_lsms = labels ? lsm_enabled() : 0;

	if (p->apparmor_profile && *p->apparmor_profile) {
		if (strlen(p->apparmor_profile) > LABEL_MAX)
			return hk_error_setx(err, -EINVAL, "process.apparmorProfile is too long");
		if (!(lsms & HK_LSM_APPARMOR))
			return hk_error_setx(
			    err, -EOPNOTSUPP,
			    "process.apparmorProfile \"%s\" is given, but AppArmor "
			    "is not enabled on this host",
			    p->apparmor_profile);
	}
	if (p->selinux_label && *p->selinux_label) {
		if (!(lsms & HK_LSM_SELINUX))
			return hk_error_setx(err, -EOPNOTSUPP,
					     "process.selinuxLabel \"%s\" is given, but SELinux is "
					     "not enabled on this host",
					     p->selinux_label);
		if (strlen(p->selinux_label) > LABEL_MAX)
			return hk_error_setx(err, -EINVAL, "process.selinuxLabel is too long");
	}
	if (!spec->mount_label || !*spec->mount_label)
		return 0;
	if (!(lsms & HK_LSM_SELINUX)) {
		hk_debug("SELinux is not enabled on this host: linux.mountLabel \"%s\" is not "
			 "applied",
			 spec->mount_label);
		return 0;
	}
	if (strchr(spec->mount_label, '"'))
		return hk_error_setx(err, -EINVAL, "linux.mountLabel \"%s\" holds a quote",
				     spec->mount_label);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct hk_mount *m = &spec->mounts[i];
		struct hk_buf b = {0};

		if (!takes_mount_label(m) || (m->data && strstr(m->data, "context=")))
			continue;
		if (m->data && *m->data)
			hk_buf_addf(&b, "%s,", m->data);
		hk_buf_addf(&b, "context=\"%s\"", spec->mount_label);
		free(m->data);
		m->data = hk_buf_detach(&b);
		hk_debug("mount %s gets SELinux option %s", m->destination, m->data);
	}
	return 0;
}

int hk_lsm_set_exec_labels(const struct hk_process *p, unsigned lsms, int procfd,
			   struct hk_error *err)
{
	char buf[LABEL_MAX + 16];
	int n;

	if (p->apparmor_profile && *p->apparmor_profile && (lsms & HK_LSM_APPARMOR)) {
		/* aa_change_onexec(): the profile takes effect at the next execve.
		 * Before Linux 5.8 the file was shared with the other LSMs. */
		const char *f = faccessat(procfd, "thread-self/attr/apparmor/exec", F_OK, 0) == 0
				    ? "thread-self/attr/apparmor/exec"
				    : "thread-self/attr/exec";
		n = snprintf(buf, sizeof(buf), "exec %s", p->apparmor_profile);
		if (hk_write_proc(procfd, f, buf, (size_t)n, err) < 0)
			return hk_error_prefix(err, "process.apparmorProfile \"%s\"",
					       p->apparmor_profile);
		hk_debug("write(\"/proc/%s\", \"%s\") ok", f, buf);
	}
	if (p->selinux_label && *p->selinux_label && (lsms & HK_LSM_SELINUX)) {
		n = snprintf(buf, sizeof(buf), "%s", p->selinux_label);
		if (hk_write_proc(procfd, "thread-self/attr/exec", buf, (size_t)n, err) < 0)
			return hk_error_prefix(err, "process.selinuxLabel \"%s\"",
					       p->selinux_label);
		hk_debug("write(\"/proc/thread-self/attr/exec\", \"%s\") ok", buf);
	}
	return 0;
}
