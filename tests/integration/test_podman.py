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
    run.env = env
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


def test_podman_run_flags_reach_the_process(podman):
    p = podman("run", "--rm", "--cgroup-parent", podman.parent, "--hostname", "hako-test-h",
               "--cap-drop", "ALL", "--read-only", "--user", "1000:1000", "-e", "HAKO_X=y",
               "-w", "/tmp", podman.image, "sh", "-c",
               "hostname; id -u; id -g; echo $HAKO_X; pwd; grep CapEff /proc/self/status; "
               "touch /hako-test-ro 2>&1 || echo read-only")
    lines = p.stdout.splitlines()
    assert lines[:5] == ["hako-test-h", "1000", "1000", "y", "/tmp"], p.stdout
    assert lines[5].split() == ["CapEff:", "0000000000000000"]
    assert lines[-1] == "read-only", p.stdout


def test_podman_exit_codes_for_a_missing_or_not_executable_command(podman):
    """podman reads the runtime's error: "no such file" is 127, "permission denied" 126."""
    p = podman("run", "--rm", "--cgroup-parent", podman.parent, podman.image,
               "/no/such/program", check=False)
    assert p.returncode == 127, (p.returncode, p.stderr)
    p = podman("run", "--rm", "--cgroup-parent", podman.parent, podman.image, "/etc/passwd",
               check=False)
    assert p.returncode == 126, (p.returncode, p.stderr)


def test_podman_run_it_through_a_pty(podman):
    """run -it from a terminal: the container gets a pty of its own, of the
    outer terminal's size (script(1) gives us the terminal)."""
    cmd = " ".join(["stty rows 31 cols 97;", "podman", "--runtime", HAKO, "run", "-it", "--rm",
                    "--cgroup-parent", podman.parent, podman.image,
                    "sh", "-c", "'tty; stty size'"])
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=podman.env, text=True,
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    # (script(1) echoes the NUL it writes at the end of its input as "^@",
    # with runc as well.)
    out = p.stdout.replace("\r", "").replace("^@", "").splitlines()
    assert "/dev/pts/0" in out and "31 97" in out, p.stdout
