# SPDX-License-Identifier: GPL-2.0-or-later
"""podman (with conmon) driving hako as its OCI runtime, configured in a
private directory: its storage, run and tmp directories, and the cgroups of
its containers and conmon, all under hako-test names."""
import os
import shutil
import subprocess
import tarfile
import uuid

import pytest

from conftest import BASE_BUNDLE, HAKO, cgroup_leftovers, remove_cgroup_tree


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    if not shutil.which("podman") or not shutil.which("conmon"):
        pytest.skip("podman and conmon are installed by scripts/deps.sh test")
    if os.environ.get("HAKO_BIN"):
        pytest.skip("podman drives the normal build; the sanitizer run skips it")
    top = tmp_path_factory.mktemp("hako-test-podman")
    tag = "hako-test-" + uuid.uuid4().hex[:8]
    (top / "containers.conf").write_text(f"""[containers]
netns = "none"
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{top}/tmp"
static_dir = "{top}/static"
volume_path = "{top}/volumes"
""")
    (top / "storage.conf").write_text(f"""[storage]
driver = "overlay"
graphroot = "{top}/graph"
runroot = "{top}/run"
""")
    env = dict(os.environ, CONTAINERS_CONF=str(top / "containers.conf"),
               CONTAINERS_STORAGE_CONF=str(top / "storage.conf"))
    parent = f"/{tag}"

    def run(*args, check=True, timeout=120, **kw):
        p = subprocess.run(["podman", "--runtime", HAKO, *args], env=env, text=True,
                           capture_output=True, timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {args} failed ({p.returncode}): {p.stderr}")
        return p

    image = f"localhost/{tag}:latest"
    tar = top / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        t.add(os.path.join(BASE_BUNDLE, "rootfs"), arcname=".")
    run("import", str(tar), image)
    run.image = image
    run.parent = parent
    run.tag = tag
    yield run
    run("rm", "-af", check=False)
    run("system", "reset", "-f", check=False)
    # conmon's and the containers' cgroups sit under our parent.
    remove_cgroup_tree(tag)
    shutil.rmtree(top, ignore_errors=True)


def test_podman_run_rm(podman):
    p = podman("run", "--rm", "--cgroup-parent", podman.parent, podman.image, "echo", "hi")
    assert p.stdout == "hi\n"


def test_podman_run_d_exec_stop_rm(podman):
    name = podman.tag + "-c1"
    podman("run", "-d", "--name", name, "--cgroup-parent", podman.parent, podman.image,
           "sleep", "100")
    p = podman("exec", name, "sh", "-c", "echo from-exec $(hostname)")
    assert p.stdout.startswith("from-exec ")
    assert podman("exec", name, "sh", "-c", "exit 3", check=False).returncode == 3
    podman("pause", name)
    state = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
    assert state == "paused"
    podman("unpause", name)
    assert "sleep 100" in podman("top", name).stdout
    podman("stop", "-t", "1", name)
    podman("rm", name)
    assert not cgroup_leftovers("libpod-" + name)


def test_podman_limits_reach_the_cgroup(podman):
    p = podman("run", "--rm", "--cgroup-parent", podman.parent, "--memory", "64m",
               "--pids-limit", "50", podman.image, "sh", "-c",
               "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max")
    assert p.stdout.split() == [str(64 << 20), "50"]
