# SPDX-License-Identifier: GPL-2.0-or-later
"""run -t in the foreground, from a real terminal (script(1) gives one): the
container gets its own pty, of the terminal's size, and its exit status."""
import os
import subprocess

from conftest import HAKO


def run_in_terminal(hako, tmp_path, args, rows=31, cols=97):
    b = hako.bundle(tmp_path, args, lambda c: c["process"].update(terminal=True))
    cmd = f"stty rows {rows} cols {cols}; {HAKO} --root {hako.root} run --bundle {b} " \
          f"{hako.new_id()}"
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    # script(1) echoes the NUL it writes at the end of its input as "^@".
    return p.returncode, p.stdout.replace("\r", "").replace("^@", "").splitlines()


def test_run_t_gives_a_pty_of_the_terminals_size(hako, tmp_path):
    code, out = run_in_terminal(hako, tmp_path, ["/bin/sh", "-c", "tty; stty size; exit 5"])
    assert code == 5, out
    assert out[:2] == ["/dev/pts/0", "31 97"], out


def test_run_t_the_pty_is_the_controlling_terminal(hako, tmp_path):
    """The pty is the process's controlling terminal, and its process group
    is the terminal's foreground one (so ^C and job control work)."""
    code, out = run_in_terminal(hako, tmp_path, ["/bin/cat", "/proc/self/stat"])
    assert code == 0, out
    fields = out[-1].rsplit(")", 1)[1].split()
    pgrp, tty_nr, tpgid = int(fields[2]), int(fields[4]), int(fields[5])
    assert tty_nr >> 8 == 136 and tty_nr & 0xff == 0, tty_nr  # /dev/pts/0
    assert tpgid == pgrp, (tpgid, pgrp)


def test_run_t_dev_console_is_the_pty(hako, tmp_path):
    code, out = run_in_terminal(hako, tmp_path, ["/bin/stat", "-c", "%t:%T", "/dev/console"])
    assert code == 0 and out[-1] == "88:0", out  # major 136, minor 0: /dev/pts/0


def test_a_dev_console_symlink_in_the_image_is_not_followed(hako, tmp_path):
    """The bind of the pty over /dev/console is made by fds, and a symlink in
    its place (here: /dev is a directory holding one, bound by the config)
    is refused, not followed to the host's core_pattern."""
    dev = tmp_path / "dev"
    dev.mkdir()
    os.symlink("/proc/sys/kernel/core_pattern", dev / "console")
    os.symlink("pts/ptmx", dev / "ptmx")

    def mutate(c):
        c["process"]["terminal"] = True
        for m in c["mounts"]:
            if m["destination"] == "/dev":
                m.update(type="bind", source=str(dev), options=["bind"])
    b = hako.bundle(tmp_path, ["/bin/true"], mutate)
    cmd = f"{HAKO} --root {hako.root} run --bundle {b} {hako.new_id()}"
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert '"/dev/console" is not a file or device' in p.stdout, p.stdout
    assert os.path.islink(dev / "console")
