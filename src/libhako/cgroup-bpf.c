/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device rules on cgroup v2: there is no devices.allow file, so the rules
 * become a small eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the
 * container's cgroup. The kernel runs it on every open and mknod of a device
 * node; it returns 1 to allow and 0 to deny.
 *
 * The rules mean what they mean on v1: starting from "everything allowed",
 * each rule in turn allows or denies, so the last rule that matches decides.
 * The program therefore tests the rules from the last to the first. An allow
 * rule matches when it grants all the access asked for; a deny rule, when it
 * refuses any of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "cgroup-internal.h"
#include "log.h"
#include "util.h"

#define MAX_INSNS 4096

struct prog {
	struct bpf_insn insn[MAX_INSNS];
	size_t n;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n < MAX_INSNS)
		p->insn[p->n++] = (struct bpf_insn){code, dst, src, off, imm};
}

/* Registers: r1 the context, r2 the device type, r3 the access, r4 major, r5 minor. */
enum { CTX = 1, TYPE = 2, ACCESS = 3, MAJOR = 4, MINOR = 5, TMP = 6 };

static unsigned access_bits(const char *access)
{
	unsigned bits = 0;

	if (strchr(access, 'm'))
		bits |= BPF_DEVCG_ACC_MKNOD;
	if (strchr(access, 'r'))
		bits |= BPF_DEVCG_ACC_READ;
	if (strchr(access, 'w'))
		bits |= BPF_DEVCG_ACC_WRITE;
	return bits;
}

/*
 * One rule: return its verdict when it matches, else jump past it. Returns
 * true when it matches everything: the verifier refuses code after it.
 */
static bool emit_rule(struct prog *p, const struct hk_device_rule *r)
{
	unsigned bits = access_bits(r->access);
	size_t jumps[4], n_jumps = 0;

	if (r->type != 'a') {
		jumps[n_jumps++] = p->n;
		emit(p, BPF_JMP | BPF_JNE | BPF_K, TYPE, 0, 0,
		     r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	}
	if (r->major >= 0) {
		jumps[n_jumps++] = p->n;
		emit(p, BPF_JMP | BPF_JNE | BPF_K, MAJOR, 0, 0, (int32_t)r->major);
	}
	if (r->minor >= 0) {
		jumps[n_jumps++] = p->n;
		emit(p, BPF_JMP | BPF_JNE | BPF_K, MINOR, 0, 0, (int32_t)r->minor);
	}
	if (bits != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
		emit(p, BPF_ALU64 | BPF_MOV | BPF_X, TMP, ACCESS, 0, 0);
		if (r->allow) {
			/* Asked for anything this rule does not grant: not this rule. */
			emit(p, BPF_ALU64 | BPF_AND | BPF_K, TMP, 0, 0, (int32_t)~bits);
			jumps[n_jumps++] = p->n;
			emit(p, BPF_JMP | BPF_JNE | BPF_K, TMP, 0, 0, 0);
		} else {
			/* Asked for none of what this rule refuses: not this rule. */
			emit(p, BPF_ALU64 | BPF_AND | BPF_K, TMP, 0, 0, (int32_t)bits);
			jumps[n_jumps++] = p->n;
			emit(p, BPF_JMP | BPF_JEQ | BPF_K, TMP, 0, 0, 0);
		}
	}
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* Each "not this rule" jumps to the next rule, just past this one. */
	for (size_t i = 0; i < n_jumps && p->n < MAX_INSNS; i++)
		p->insn[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
	return n_jumps == 0;
}

int hk_cgroup_bpf_devices(const struct hk_cgroup_mount *m, const struct hk_device_rule *rules,
			  size_t n, const struct hk_device_rule *defaults, size_t n_defaults,
			  struct hk_error *err)
{
	static struct prog p; /* 32 KiB: not on the stack */
	char log[4096] = "";
	union bpf_attr attr;
	_cleanup_close_ int prog = -1, dir = -1;
	bool done = false;

	p.n = 0;
	/* access_type is (access << 16) | type. */
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, TYPE, CTX,
	     offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, ACCESS, TYPE, 0, 0);
	emit(&p, BPF_ALU64 | BPF_AND | BPF_K, TYPE, 0, 0, 0xffff);
	emit(&p, BPF_ALU64 | BPF_RSH | BPF_K, ACCESS, 0, 0, 16);
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, MAJOR, CTX, offsetof(struct bpf_cgroup_dev_ctx, major),
	     0);
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, MINOR, CTX, offsetof(struct bpf_cgroup_dev_ctx, minor),
	     0);
	/* The defaults come after the config's rules, so they are tested first.
	 * A rule that matches everything ("a *:* rwm") ends the program. */
	for (size_t i = n_defaults + n; i-- > 0 && !done;)
		done = emit_rule(&p, i >= n ? &defaults[i - n] : &rules[i]);
	/* No rule matched: what a cgroup allows before any rule, everything. */
	if (!done) {
		emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
		emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	if (p.n >= MAX_INSNS)
		return hk_error_setx(err, -E2BIG, "linux.resources.devices: too many rules");

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)p.insn;
	attr.insn_cnt = (uint32_t)p.n;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (prog < 0)
		return hk_error_set(err, -errno,
				    "linux.resources.devices: load the cgroup v2 device "
				    "program (%zu instructions)%s%.200s",
				    p.n, *log ? ": " : "", log);
	dir = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return hk_error_set(err, -errno, "open cgroup \"%s\"", m->path);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dir;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
		return hk_error_set(err, -errno,
				    "linux.resources.devices: attach the device "
				    "program to \"%s\"",
				    m->path);
	hk_debug("bpf(BPF_PROG_ATTACH, \"%s\", BPF_CGROUP_DEVICE) ok: %zu rules, %zu instructions",
		 m->path, n + n_defaults, p.n);
	return 0;
}
