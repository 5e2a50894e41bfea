# SPDX-License-Identifier: GPL-2.0-or-later
"""The cgroup v2 lane: tests/v2lane/tests.sh run by scripts/v2lane.sh in a
qemu guest on Debian's cloud kernel with only cgroup2 mounted. Each TAP line
the guest prints becomes one test here."""
import os
import re
import subprocess

import pytest

HERE = os.path.dirname(__file__)
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
NAMES = re.findall(r'^t "(.*)"$', open(os.path.join(TOP, "tests", "v2lane", "tests.sh")).read(),
                   re.M)


@pytest.fixture(scope="module")
def lane():
    if os.environ.get("HAKO_BIN"):
        pytest.skip("the lane boots the normal build; the sanitizer run skips it")
    p = subprocess.run([os.path.join(TOP, "scripts", "v2lane.sh")], capture_output=True,
                       text=True, timeout=900)
    if p.returncode == 77:
        pytest.skip(p.stderr.strip())
    results = {}
    for m in re.finditer(r"^(ok|not ok) \d+ - (.*?)(?: # (.*))?\r?$", p.stdout, re.M):
        results[m.group(2)] = (m.group(1) == "ok", m.group(3) or "")
    assert "v2lane: done" in p.stdout, p.stdout[-3000:] + p.stderr[-2000:]
    return results, p.stdout


@pytest.mark.parametrize("name", NAMES)
def test_v2(lane, name):
    results, console = lane
    assert name in results, f"the guest never reported it:\n{console[-3000:]}"
    passed, why = results[name]
    assert passed, why
    if why.startswith("SKIP"):
        pytest.skip(why[4:].strip())
