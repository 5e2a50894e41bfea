# SPDX-License-Identifier: GPL-2.0-or-later
"""run -t in the foreground, from a real terminal (script(1) gives one): the
container gets its own pty, of the terminal's size, and its exit status."""
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
