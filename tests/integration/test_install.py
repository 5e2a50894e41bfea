# SPDX-License-Identifier: GPL-2.0-or-later
"""meson install puts hako and a man page for it and for each command in place,
and hakoctl with its man page."""
import os
import re
import subprocess

from conftest import BUILD, HAKO


def commands():
    """The commands `hako --help` lists."""
    out = subprocess.run([HAKO, "--help"], capture_output=True, text=True).stdout
    block = out.split("Commands:\n")[1].split("\n\n")[0]
    return [line.split()[0] for line in block.splitlines()]


def test_install_puts_the_binary_and_man_pages_in_place(tmp_path):
    dest = tmp_path / "dest"
    p = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                        "--destdir", str(dest)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    files = {os.path.relpath(os.path.join(d, f), dest)
             for d, _, fs in os.walk(dest) for f in fs}
    assert any(f.endswith("bin/hako") for f in files), files
    assert any(f.endswith("bin/hakoctl") for f in files), files
    assert any(f.endswith("bin/hako-monitor") for f in files), files
    assert any(f.endswith("man1/hakoctl.1") for f in files), files
    pages = {os.path.basename(f) for f in files if "/man8/" in f}
    names = commands()
    assert "run" in names and "exec" in names
    assert pages == {"hako.8"} | {f"hako-{c}.8" for c in names}, pages ^ (
        {"hako.8"} | {f"hako-{c}.8" for c in names})
    for page in sorted(pages) + ["hakoctl.1"]:
        path = next(os.path.join(dest, f) for f in files if f.endswith("/" + page))
        r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80"))
        assert r.returncode == 0 and not r.stderr, (page, r.stderr)
        assert re.search(r"^NAME\n", r.stdout, re.M) and "SYNOPSIS" in r.stdout, page
