# SPDX-License-Identifier: GPL-2.0-or-later
"""hakoctl run: an image in one command, docker's flags and exit statuses."""
import json
import os
import signal
import subprocess
import tarfile
import time

import pytest

import imagekit
from conftest import run_in_pty


def test_the_built_in_busybox_image(ctl):
    p = ctl("run", "--rm", "busybox", "sh", "-c", "echo $0; ls /bin/busybox; id -u")
    assert (p.returncode, p.stdout) == (0, "sh\n/bin/busybox\n0\n"), p.stderr
    out = ctl("images", check=True).stdout
    assert "localhost/busybox" in out
    # Made once: the second run finds it.
    assert ctl("run", "--rm", "busybox", "true").returncode == 0
    assert len(os.listdir(ctl.store / "images")) == 1
    assert ctl.leftovers() == []


@pytest.mark.parametrize("argv,status", [
    (["true"], 0), (["sh", "-c", "exit 3"], 3), (["sh", "-c", "sh -c 'kill -9 $$'; exit $?"], 137),
    (["/nonexistent"], 127), (["nosuchcommand"], 127), (["/etc/passwd"], 126),
])
def test_exit_statuses_are_dockers(ctl, argv, status):
    p = ctl("run", "--rm", "busybox", *argv)
    assert p.returncode == status, p.stderr
    assert ctl.leftovers() == []


def test_hakoctls_own_failures_are_125(ctl):
    p = ctl("run", "--rm", "hako-test-no-such-image")
    assert p.returncode == 125 and "hako-test-no-such-image: image not known" in p.stderr
    p = ctl("run", "--rm", "--memory", "lots", "busybox", "true")
    assert p.returncode == 125 and '--memory "lots"' in p.stderr
    p = ctl("run", "--rm", "-u", "nosuchuser", "busybox", "true")
    assert p.returncode == 125 and "unable to find user nosuchuser" in p.stderr
    assert ctl.leftovers() == []


def test_a_missing_interpreter_explains_itself(ctl, images, tmp_path):
    """The tutorials' "execv ENOENT although the file exists"."""
    nold = tmp_path / "nold.tar"
    with tarfile.open(images["rootfs"]) as i, tarfile.open(nold, "w") as o:
        for m in i:
            if "ld-linux" not in m.name:
                o.addfile(m, i.extractfile(m) if m.isfile() else None)
    ctl("import", "-q", str(nold), "hako-test-nold", check=True)
    p = ctl("run", "--rm", "hako-test-nold", "/bin/cat", "/etc/hostname")
    assert p.returncode == 127
    assert 'its ELF interpreter "/lib64/ld-linux-x86-64.so.2" is not in the container' in p.stderr
    script = tmp_path / "script.tar"
    script.write_bytes(imagekit.tar_bytes([("s", "pax", {"data": b"#!/nonexistent/sh\n",
                                                         "pax": {}, "mode": 0o755})]))
    ctl("import", "-q", str(script), "hako-test-script", check=True)
    p = ctl("run", "--rm", "hako-test-script", "/s")
    assert p.returncode == 127 and '"#!" interpreter "/nonexistent/sh"' in p.stderr


def test_the_image_config_and_the_flags(ctl, images, tmp_path):
    envfile = tmp_path / "env"
    envfile.write_text("# a comment\nFROM_FILE=yes\n\nHAKO_FROM=file\n")
    ctl("load", "-q", "-i", str(images["docker-archive"]), check=True)
    # The image's Env (HAKO_FROM=podman) is overridden by the flags, in order.
    p = ctl("run", "--rm", "-e", "A=1", "--env-file", str(envfile), "-w", "/usr/share",
            "--hostname", "hako-test-host", "localhost/hako-test-deb:1", "dash", "-c",
            'echo $A $FROM_FILE $HAKO_FROM; pwd; cat /proc/sys/kernel/hostname; echo $HOSTNAME')
    assert p.stdout.split() == ["1", "yes", "file", "/usr/share", "hako-test-host",
                                "hako-test-host"], p.stderr
    # The image's Cmd when no command is given.
    p = ctl("run", "--rm", "localhost/hako-test-deb:1")
    assert 'ID=debian' in p.stdout


def test_user_names_are_looked_up_in_the_image(ctl):
    p = ctl("run", "--rm", "-u", "nobody", "busybox", "id")
    assert p.stdout.strip() == "uid=65534(nobody) gid=65534(nobody)", p.stderr
    p = ctl("run", "--rm", "-u", "1234:nobody", "busybox", "sh", "-c", "id -u; id -g")
    assert p.stdout.split() == ["1234", "65534"], p.stderr
    p = ctl("run", "--rm", "-u", "nobody", "busybox", "grep", "CapEff", "/proc/self/status")
    assert p.stdout.split()[1] == "0000000000000000"


def test_security_flags(ctl, tmp_path):
    status = lambda *flags: dict(
        l.split(":\t", 1) for l in ctl("run", "--rm", *flags, "busybox", "cat",
                                       "/proc/self/status", check=True).stdout.splitlines()
        if ":\t" in l)
    default = status()
    assert default["Seccomp"].strip() == "2" and default["NoNewPrivs"].strip() == "0"
    # podman's eleven default capabilities.
    assert int(default["CapEff"], 16) == 0x800405fb
    assert status("--security-opt", "no-new-privileges")["NoNewPrivs"].strip() == "1"
    assert status("--security-opt", "seccomp=unconfined")["Seccomp"].strip() == "0"
    cap = status("--cap-add", "NET_ADMIN", "--cap-drop", "chown")
    assert int(cap["CapEff"], 16) == (0x800405fb | 1 << 12) & ~1
    assert int(status("--cap-drop", "ALL")["CapEff"], 16) == 0
    priv = status("--privileged")
    assert priv["Seccomp"].strip() == "0" and int(priv["CapEff"], 16) == int(
        open("/proc/self/status").read().split("CapBnd:\t")[1].split()[0], 16)
    # The default profile denies the administrative calls: mount, namespaces.
    p = ctl("run", "--rm", "busybox", "unshare", "-U", "true")
    assert p.returncode != 0 and "Operation not permitted" in p.stderr
    # A profile file in docker's form.
    prof = tmp_path / "seccomp.json"
    prof.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [{"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 1, "comment": "no new dirs"}]}))
    p = ctl("run", "--rm", "--security-opt", f"seccomp={prof}", "busybox", "mkdir", "/tmp/x")
    assert p.returncode == 1 and "Operation not permitted" in p.stderr


def test_read_only_and_limits(ctl):
    p = ctl("run", "--rm", "--read-only", "busybox", "touch", "/x")
    assert p.returncode == 1 and "Read-only file system" in p.stderr
    p = ctl("run", "--rm", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5",
            "--ulimit", "nofile=100:200", "busybox", "sh", "-c",
            "ulimit -n; ulimit -Hn; cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
            "/sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    assert p.stdout.split() == ["100", "200", str(64 << 20), "50", "50000"], p.stderr


def test_rm_removes_everything_and_a_kept_container_keeps_its_upper(ctl):
    p = ctl("run", "busybox", "sh", "-c", "echo kept > /kept")
    assert p.returncode == 0, p.stderr
    (cid,) = [x for x in os.listdir(ctl.store / "containers") if x[0] != "."]
    assert (ctl.store / "containers" / cid / "upper" / "kept").read_text() == "kept\n"
    # no mount, no runtime state: the container and its name
    left = ctl.leftovers()
    assert [x for x in left if not x.startswith("containers/.names/")] == [f"containers/{cid}"]
    assert len(left) == 2, left


def test_the_files_go_as_soon_as_the_containers_process_has_exited(ctl):
    """A foreground container's overlay is unmounted, and with --rm its dir
    removed, once its process has exited, while the runtime still tidies up
    its own state; a kept one keeps its files and gets its exit status."""
    p = ctl("--debug", "run", "--rm", "busybox", "sh", "-c", "echo x > /x; exit 3")
    assert p.returncode == 3, p.stderr
    assert "its process has exited: its files go" in p.stderr
    assert ctl.leftovers() == []
    p = ctl("--debug", "run", "--name", "kept", "busybox", "sh", "-c", "echo x > /x; exit 4")
    assert p.returncode == 4, p.stderr
    assert "its process has exited: its files go" in p.stderr
    (state,) = json.loads(ctl("inspect", "kept", check=True).stdout)
    assert state["State"]["ExitCode"] == 4
    assert (ctl.store / "containers" / state["Id"] / "upper" / "x").read_text() == "x\n"
    assert ctl.leftovers() == [f"containers/{state['Id']}", "containers/.names/kept"]


def root_mount_options(ctl, *flags):
    p = ctl("run", *flags, "busybox", "cat", "/proc/self/mountinfo", check=True)
    (root,) = [l for l in p.stdout.splitlines() if l.split()[4] == "/"]
    return root.split(" - ")[1].split()[2]


def test_a_throwaway_containers_overlay_is_volatile(ctl):
    # --rm: never synced (overlayfs would sync the store's filesystem at the
    # unmount); a kept container's overlay is a normal one. (The kernel
    # shows "volatile" or, since 6.6, "fsync=volatile".)
    assert "volatile" in root_mount_options(ctl, "--rm")
    assert "volatile" not in root_mount_options(ctl)


def test_signals_are_forwarded(ctl):
    p = subprocess.Popen(ctl.argv("run", "--rm", "busybox", "sh", "-c",
                                  "trap 'exit 42' TERM; echo ready; "
                                  "while :; do sleep 0.05; done"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    p.send_signal(signal.SIGTERM)
    assert p.wait(10) == 42
    assert ctl.leftovers() == []


def test_the_runtime_runs_from_the_sealed_copy_hakoctl_made(ctl):
    """CVE-2019-5736: hako, started by hakoctl, runs from a sealed memfd copy
    of itself that hakoctl made, finds it sealed, and does not copy and
    re-execute itself again (one execve less on every container's start)."""
    import fcntl
    p = subprocess.Popen(ctl.argv("--debug", "run", "--rm", "busybox", "sh", "-c",
                                  "trap 'exit 7' TERM; echo ready; "
                                  "while :; do sleep 0.05; done"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        # nsenter has become hakoctl; the runtime is its child.
        with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
            (runtime,) = [int(x) for x in f.read().split()]
        assert os.readlink(f"/proc/{runtime}/exe").startswith("/memfd:hako")
        fd = os.open(f"/proc/{runtime}/exe", os.O_RDONLY)
        try:
            seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
        finally:
            os.close(fd)
        want = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
        assert seals & want == want
    finally:
        p.send_signal(signal.SIGTERM)
    assert p.wait(10) == 7
    err = p.stderr.read()
    assert "a sealed memfd copy" in err and "re-executing" not in err, err
    assert ctl.leftovers() == []


def test_stdin_only_with_i(ctl):
    p = ctl("run", "--rm", "-i", "busybox", "cat", input="through stdin\n", stdin=None)
    assert p.stdout == "through stdin\n", p.stderr
    p = ctl("run", "--rm", "busybox", "cat", input="not given\n", stdin=None)
    assert (p.returncode, p.stdout) == (0, "")


def test_t_gives_a_real_pty(ctl):
    status, out = run_in_pty(ctl.argv("run", "--rm", "-t", "busybox", "sh", "-c",
                                      "tty; echo TERM=$TERM"))
    assert status == 0, out
    assert b"/dev/pts/0" in out and b"TERM=xterm" in out, out


def test_references_in_docker_grammar(ctl):
    assert ctl("run", "--rm", "busybox", "true").returncode == 0
    (img,) = json.loads(ctl("images", "--format", "json", check=True).stdout)
    for ref in ("busybox", "busybox:latest", "localhost/busybox", "localhost/busybox:latest",
                img["Id"][:12], "sha256:" + img["Id"], "busybox@sha256:" + img["Id"]):
        p = ctl("run", "--rm", ref, "true")
        assert p.returncode == 0, (ref, p.stderr)
    for bad in ("Busybox", "busybox:", "busy box", "busybox@sha256:123"):
        p = ctl("run", "--rm", bad, "true")
        assert p.returncode == 125, (bad, p.stderr)
    p = ctl("run", "--rm", "busybox@sha256:" + "0" * 64, "true")
    assert p.returncode == 125 and "image not known" in p.stderr
