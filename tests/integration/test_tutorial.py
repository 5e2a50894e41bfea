# SPDX-License-Identifier: GPL-2.0-or-later
"""docs/tutorial.md: every sh block, in order, in one shell, with a store of
the test's own."""
import os
import re
import shlex
import subprocess

from conftest import CTL_NETNS, HAKO, HAKOCTL

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "tutorial.md")


def test_every_command_of_the_tutorial_runs(ctl, tmp_path):
    blocks = re.findall(r"```sh\n(.*?)```", open(DOC).read(), re.S)
    assert len(blocks) >= 8
    # The network's block runs where hakoctl does (its port is on that "host").
    script = "set -eu\n" + "\n".join(
        f"nsenter --net=/run/netns/{CTL_NETNS} bash -euc {shlex.quote(b)}"
        if "--network hako" in b else b for b in blocks)
    # The binaries under test, not the build dir's, when they differ (ASan).
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # hakoctl in the session's network namespace: its containers' network is
    # made there (the tutorial's reader has it on the host).
    (bindir / "hakoctl").write_text(
        f'#!/bin/sh\nexec nsenter --net=/run/netns/{CTL_NETNS} {HAKOCTL} "$@"\n')
    (bindir / "hakoctl").chmod(0o755)
    os.symlink(HAKO, bindir / "hako")
    script = script.replace('export PATH="$PWD/build:$PATH"', f'export PATH="{bindir}:$PATH"')
    env = dict(os.environ, HAKO_STORAGE=str(ctl.store), HAKO_RUNROOT=str(ctl.runroot))
    p = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    out = p.stdout
    assert "hello from a container" in out
    assert 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' in out
    assert "pid 1 on tutorial" in out
    assert "pivot_root" in out
    assert "written\nnot in the image" in out
    assert "uid=65534(nobody)" in out
    # 7: a detached container's exit code, its log with times, and it is gone after rm
    assert re.search(r"^3\n", out, re.M) and re.search(r"Z to stdout$", out, re.M)
    assert '"Status": "exited"' in out, out[-2000:]
    # 8: an address on the bridge, a route through it, a published port
    assert re.search(r"eth0\s+inet 10\.88\.\d+\.\d+/16", out), out[-2000:]
    assert "default via 10.88.0.1 dev eth0" in out
    # and IPv6: an address of the store's ULA /64, its default route, the port on ::1 too
    assert re.search(r"eth0\s+inet6 fd[0-9a-f]{2}:[0-9a-f:]+/64", out), out[-2000:]
    assert re.search(r"^default via fd[0-9a-f:]+::1 dev eth0", out, re.M), out[-2000:]
    assert "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\nroot:x:0:0:" in out, out[-2000:]
    assert "root:x:0:0:root:/root:/bin/sh\nroot:x:0:0:root:/root:/bin/sh\n" in out, out[-2000:]
    # 9: a network of one's own, a name answered there
    assert re.search(r"^Address: 10\.89\.\d+\.\d+\nnameserver 10\.89\.\d+\.1$", out,
                     re.M), out[-2000:]
    assert "removed: " in out
