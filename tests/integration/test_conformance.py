# SPDX-License-Identifier: GPL-2.0-or-later
"""What runc and crun do and engines and images rely on (issue 11): HOME,
loopback, stdio ownership, sessions, a hostname in a joined uts namespace,
tmpfs modes, unbindable roots, hooks' environment, the idle I/O class,
--help, and why an exec of a file that is there says ENOENT."""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import HAKO


def out(hako, tmp_path, script, mutate=None, **kw):
    p = hako.run(tmp_path, ["sh", "-c", script], mutate, **kw)
    assert p.returncode == 0, p.stderr
    return p.stdout


def as_user(uid, gid):
    def mutate(c):
        c["process"]["user"] = {"uid": uid, "gid": gid}
    return mutate


def test_home_comes_from_the_containers_passwd(hako, tmp_path):
    assert out(hako, tmp_path, "echo $HOME") == "/root\n"
    assert out(hako, tmp_path, "echo $HOME", as_user(65534, 65534)) == "/\n"
    assert out(hako, tmp_path, "echo $HOME", as_user(4242, 4242)) == "/\n"

    def own_home(c):
        c["process"]["env"].append("HOME=/somewhere")
    assert out(hako, tmp_path, "echo $HOME", own_home) == "/somewhere\n"
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["sleep", "30"]), cid, check=True)
    p = hako.cmd("exec", "--user", "65534:65534", cid, "sh", "-c", "echo $HOME")
    assert p.stdout == "/\n", p.stderr
    assert hako.cmd("exec", cid, "sh", "-c", "echo $HOME").stdout == "/root\n"


def test_loopback_is_up_in_a_new_network_namespace(hako, tmp_path):
    text = out(hako, tmp_path, "cat /sys/class/net/lo/operstate; "
               "nc -l -p 7777 >/dev/null & sleep 0.3; "
               "echo hi | nc 127.0.0.1 7777 && echo CONNECTED")
    assert text.splitlines()[0] == "unknown", text
    assert "CONNECTED" in text, text


def test_stdio_belongs_to_the_process_user(hako, tmp_path):
    """A non-root process can open /dev/stdout (nginx's and apache's logs):
    the pipes it is given are chowned to it. A file given as stdio is the
    caller's and keeps its owner."""
    b = hako.bundle(tmp_path, ["sh", "-c", "echo to-stdout > /dev/stdout; "
                               "echo to-stderr > /dev/stderr"], as_user(65534, 65534))
    p = subprocess.run([HAKO, "--root", hako.root, "run", "--bundle", b, hako.new_id()],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == "to-stdout\n", p.stderr
    assert p.stderr == "to-stderr\n"
    log = tmp_path / "log"
    with open(log, "w") as f:
        subprocess.run([HAKO, "--root", hako.root, "run", "--bundle", b, hako.new_id()],
                       stdout=f, stderr=f, timeout=30)
    assert os.stat(log).st_uid == 0


def test_the_process_leads_its_own_session(hako, tmp_path):
    fields = out(hako, tmp_path, "cut -d' ' -f1,5,6 /proc/self/stat").split()
    assert fields[0] == fields[1] == fields[2], fields
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["sleep", "30"]), cid, check=True)
    fields = hako.cmd("exec", cid, "cut", "-d ", "-f1,5,6", "/proc/self/stat").stdout.split()
    assert fields and fields[0] == fields[1] == fields[2], fields


def holder_of(kind, *unshare_args):
    """A process in a namespace of its own of kind ("uts", "mnt"), once
    unshare has made it: until then the path is the host's own, and joining
    that would name the machine (or mount on it)."""
    holder = subprocess.Popen(["unshare", *unshare_args, "sleep", "30"])
    path = f"/proc/{holder.pid}/ns/{kind}"
    deadline = time.time() + 10
    while os.readlink(path) == os.readlink(f"/proc/self/ns/{kind}"):
        if time.time() > deadline:
            holder.kill()
            holder.wait()
            raise AssertionError(f"unshare made no {kind} namespace")
        time.sleep(0.01)
    return holder, path


def joining(kind, path):
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                                    if n["type"] != kind] + [{"type": kind, "path": path}]
    return mutate


def test_a_hostname_in_a_joined_uts_namespace(hako, tmp_path):
    holder, path = holder_of("uts", "--uts")
    try:
        def mutate(c):
            c["hostname"] = "hako-test-pod"
            joining("uts", path)(c)
        assert out(hako, tmp_path, "hostname", mutate) == "hako-test-pod\n"
        seen = subprocess.run(["nsenter", "-t", str(holder.pid), "-u", "hostname"],
                              capture_output=True, text=True).stdout
        assert seen == "hako-test-pod\n"
        assert open("/proc/sys/kernel/hostname").read() != "hako-test-pod\n"
    finally:
        holder.kill()
        holder.wait()


def test_a_joined_mount_namespace_gets_the_root_and_the_mounts(hako, tmp_path):
    """Item 6: joining a mount namespace by path still switches to root.path
    and makes every mount, there and not on the host."""
    holder, path = holder_of("mnt", "--mount", "--propagation", "private")
    try:
        def mutate(c):
            joining("mount", path)(c)
            c["mounts"] += [{"destination": "/mnt", "type": "tmpfs", "source": "hako-test-mnt"}]
        got = out(hako, tmp_path, f"[ -e {tmp_path} ] && echo host root || echo own root; "
                  "grep -c hako-test-mnt /proc/self/mountinfo", mutate)
        assert got == "own root\n1\n", got
        assert "hako-test-mnt" not in open("/proc/self/mountinfo").read()
    finally:
        holder.kill()
        holder.wait()


def test_without_a_mount_namespace_the_process_is_chrooted(hako, tmp_path):
    """Item 14: the runtime's mount namespace is inherited: nothing is
    mounted there (it is the host's), and run and exec are chrooted."""
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "mount"]
    before = open("/proc/self/mountinfo").read().count("\n")
    probe = f"[ -e {tmp_path} ] && echo host root || echo rootfs; cat /etc/passwd | head -1"
    assert out(hako, tmp_path, probe, mutate) == "rootfs\nroot:x:0:0:root:/root:/bin/sh\n"
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["sleep", "30"], mutate), cid,
             check=True)
    p = hako.cmd("exec", cid, "sh", "-c", probe)
    assert p.stdout == "rootfs\nroot:x:0:0:root:/root:/bin/sh\n", p.stdout + p.stderr
    hako.cmd("delete", "--force", cid, check=True)
    assert open("/proc/self/mountinfo").read().count("\n") == before
    assert os.listdir(hako.root) == []


def test_a_tmpfs_over_a_directory_keeps_its_mode(hako, tmp_path):
    def mutate(c):
        c["mounts"] += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                         "options": ["nosuid"]},
                        {"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
                         "options": ["mode=700"]},
                        {"destination": "/hako-test-new", "type": "tmpfs", "source": "tmpfs"}]
    b = hako.bundle(tmp_path, ["stat", "-c", "%a", "/tmp", "/mnt", "/hako-test-new"], mutate,
                    copy_rootfs=True)
    os.chmod(os.path.join(b, "rootfs", "tmp"), 0o712)
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["712", "700", "1777"], p.stdout


def test_rootfs_propagation_unbindable(hako, tmp_path):
    def mutate(c):
        c["linux"]["rootfsPropagation"] = "unbindable"
    text = out(hako, tmp_path, "awk '$5 == \"/\"' /proc/self/mountinfo", mutate)
    assert "unbindable" in text, text


def test_hooks_without_env_inherit_the_runtimes(hako, tmp_path):
    seen = tmp_path / "hook-env"

    def mutate(c):
        c["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": [
            "sh", "-c", f"env > {seen}; command -v true >> {seen}"]}]}
    out(hako, tmp_path, "true", mutate, env={**os.environ, "HAKO_TEST_MARK": "x"})
    text = seen.read_text()
    assert "HAKO_TEST_MARK=x" in text and "PATH=" in text, text
    assert "true" in text.splitlines()[-1]


def test_the_idle_io_class_needs_no_priority(hako, tmp_path):
    def mutate(c):
        c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE"}
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["sleep", "30"], mutate), cid,
             check=True)
    pid = json.loads(hako.cmd("state", cid, check=True).stdout)["pid"]
    assert subprocess.run(["ionice", "-p", str(pid)], capture_output=True,
                          text=True).stdout.strip() == "idle"

    def best_effort(c):
        c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE"}
    p = hako.run(tmp_path, ["true"], best_effort)
    assert p.returncode != 0 and '"priority" is required' in p.stderr, p.stderr


COMMANDS = ["create", "start", "run", "exec", "state", "kill", "delete", "list", "pause",
            "resume", "ps", "update", "events", "spec", "features"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_answers_help(command):
    for flag in ("--help", "-h"):
        p = subprocess.run([HAKO, command, flag], capture_output=True, text=True)
        assert p.returncode == 0 and p.stdout.startswith(f"usage: hako {command}"), p


def test_help_after_the_id_belongs_to_the_container(hako, tmp_path):
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle", hako.bundle(tmp_path, ["sleep", "30"]), cid, check=True)
    p = hako.cmd("exec", cid, "sh", "-c", "echo $1", "sh", "--help")
    assert p.stdout == "--help\n", p.stderr


def test_enoent_names_the_missing_interpreter(hako, tmp_path):
    """The tutorials' pitfall: a host binary copied into a busybox rootfs."""
    dynamic = shutil.which("ls")
    b = hako.bundle(tmp_path, ["/bin/hostls"], copy_rootfs=True)
    rootfs = os.path.join(b, "rootfs")
    shutil.copy(dynamic, os.path.join(rootfs, "bin", "hostls"))
    with open(os.path.join(rootfs, "bin", "bashscript"), "w") as f:
        f.write("#!/bin/bash\necho hi\n")
    os.chmod(os.path.join(rootfs, "bin", "bashscript"), 0o755)
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert p.returncode == 127
    assert 'its ELF interpreter "/lib' in p.stderr and "is not in the container" in p.stderr, \
        p.stderr
    config = json.load(open(os.path.join(b, "config.json")))
    config["process"]["args"] = ["/bin/bashscript"]
    json.dump(config, open(os.path.join(b, "config.json"), "w"))
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert p.returncode == 127
    assert 'its "#!" interpreter "/bin/bash" is not in the container' in p.stderr, p.stderr


def test_tmpcopyup_on_the_root(hako, tmp_path):
    """podman's read-only-tmpfs root: a tmpfs on / holding a copy of the
    rootfs; the later mounts go into it, and the image is not written."""
    def mutate(c):
        c["root"]["readonly"] = False
        c["mounts"].insert(0, {"destination": "/", "type": "tmpfs", "source": "tmpfs",
                               "options": ["tmpcopyup", "mode=755"]})
    b = hako.bundle(tmp_path, ["sh", "-c", "touch /hako-test-new && echo writable; "
                               "awk '$5 == \"/\" || $5 == \"/proc\" {print $5, $9}' "
                               "/proc/self/mountinfo; cat /etc/passwd | head -1"], mutate,
                    copy_rootfs=True)
    p = hako.cmd("run", "--bundle", b, hako.new_id())
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["writable", "/ tmpfs", "/proc proc",
                                     "root:x:0:0:root:/root:/bin/sh"], p.stdout
    assert not os.path.exists(os.path.join(b, "rootfs", "hako-test-new"))


def test_a_filter_that_denies_close_range_and_getcwd(hako, tmp_path):
    """Without noNewPrivileges the filter is loaded before the runtime's own
    last steps: a Docker-style profile that lacks close_range (or denies
    getcwd) made create fail. The fds are still closed, and a cwd outside the
    root is still refused."""
    def mutate(c):
        c["process"]["noNewPrivileges"] = False
        c["process"]["cwd"] = "/tmp"
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["close_range", "getcwd"], "action": "SCMP_ACT_ERRNO"}]}
    secret = tmp_path / "host-file"
    secret.write_text("host\n")
    b = hako.bundle(tmp_path, ["ls", "/proc/self/fd"], mutate)
    p = subprocess.run(["sh", "-c", 'exec 7<"$0"; exec "$@"', str(secret), HAKO, "--root",
                        hako.root, "run", "--bundle", b, hako.new_id()],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.split()) == ["0", "1", "2", "3"], p.stdout


# ---- runtime-spec 1.3 ----

def spec13(c):
    c["ociVersion"] = "1.3.0"


@pytest.mark.parametrize("version,ok", [("1.3.0", True), ("1.3.1-dev", True), ("1.4.0", True),
                                         ("2.0.0", False), ("0.9.0", False)])
def test_config_versions(hako, tmp_path, version, ok):
    def mutate(c):
        c["ociVersion"] = version
    p = hako.run(tmp_path, ["true"], mutate)
    assert (p.returncode == 0) == ok, p.stderr
    if not ok:
        assert "supports 1.0.0 to 1.3.x" in p.stderr


def test_features_and_version_say_1_3():
    f = json.loads(subprocess.run([HAKO, "features"], capture_output=True, text=True).stdout)
    assert f["ociVersionMax"] == "1.3.0"
    assert "MPOL_INTERLEAVE" in f["linux"]["memoryPolicy"]["modes"]
    assert "spec: 1.3.0" in subprocess.run([HAKO, "--version"], capture_output=True,
                                           text=True).stdout


def test_memory_policy(hako, tmp_path):
    if not os.path.exists("/proc/self/numa_maps"):
        pytest.skip("this kernel has no NUMA memory policies")

    def mutate(c):
        spec13(c)
        c["linux"]["memoryPolicy"] = {"mode": "MPOL_INTERLEAVE", "nodes": "0",
                                      "flags": ["MPOL_F_STATIC_NODES"]}
    text = out(hako, tmp_path, "grep -c 'interleave=static:0' /proc/self/numa_maps", mutate)
    assert int(text) > 0, text

    def missing_node(c):
        spec13(c)
        c["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "1000"}
    p = hako.run(tmp_path, ["true"], missing_node)
    assert p.returncode != 0 and "linux.memoryPolicy: set_mempolicy" in p.stderr, p.stderr
    assert "a node this host does not have" in p.stderr

    def bad(c):
        spec13(c)
        c["linux"]["memoryPolicy"] = {"mode": "MPOL_SOMETIMES"}
    p = hako.run(tmp_path, ["true"], bad)
    assert p.returncode != 0 and 'unknown mode "MPOL_SOMETIMES"' in p.stderr, p.stderr


def test_intel_rdt_names_what_the_host_lacks(hako, tmp_path):
    def mutate(c):
        spec13(c)
        c["linux"]["intelRdt"] = {"closID": "hako-test", "schemata": ["L3:0=ff"],
                                  "enableMonitoring": True}
    p = hako.run(tmp_path, ["true"], mutate)
    assert p.returncode != 0 and "linux.intelRdt" in p.stderr, p.stderr
    if not os.path.exists("/sys/fs/resctrl/info"):
        assert "which this host does not have" in p.stderr, p.stderr
    assert os.listdir(hako.root) == []


@pytest.fixture
def veth_netns():
    """A network namespace of the test's (held by a process, so nothing is
    left in /run/netns) with a veth pair addressed in 192.0.2.0/24 (TEST-NET-1)
    and up: hako runs in it, so the "host" whose devices move is this
    namespace, never the machine's."""
    holder, path = holder_of("net", "--net")
    sh = ("ip link add hako-test-va type veth peer name hako-test-vb && "
          "ip addr add 192.0.2.1/24 dev hako-test-va && ip link set hako-test-va up && "
          "ip addr add 192.0.2.2/24 dev hako-test-vb && ip link set hako-test-vb up")
    try:
        subprocess.run(["nsenter", f"--net={path}", "sh", "-c", sh], check=True)
        yield path
    finally:
        holder.kill()
        holder.wait()


def in_netns(path, *argv, **kw):
    # nsenter --net, not `ip netns exec`, whose fresh /sys has no cgroups.
    return subprocess.run(["nsenter", f"--net={path}", *argv], capture_output=True, text=True,
                          timeout=30, **kw)


def test_net_devices_move_in_renamed_and_come_back(hako, tmp_path, veth_netns):
    """1.3's linux.netDevices: the device moves into the container's network
    namespace under its new name, with its address and up; delete moves it
    back under its own name, address and all."""
    def mutate(c):
        spec13(c)
        c["linux"]["netDevices"] = {"hako-test-va": {"name": "eth1"}}
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_NET_RAW")
    b = hako.bundle(tmp_path, ["sh", "-c", "ip -o -4 addr show eth1; "
                               "cat /sys/class/net/eth1/operstate; "
                               "ping -c 1 -W 5 192.0.2.2 | grep -c '1 packets received'"],
                    mutate)
    cid = hako.new_id()
    p = in_netns(veth_netns, HAKO, "--root", hako.root, "run", "--bundle", b, cid)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "eth1" in lines[0] and "192.0.2.1/24" in lines[0], p.stdout
    assert lines[1:] == ["up", "1"], p.stdout
    back = in_netns(veth_netns, "ip", "-o", "-4", "addr", "show", "hako-test-va")
    assert "192.0.2.1/24" in back.stdout, back.stdout + back.stderr
    assert "state UP" in in_netns(veth_netns, "ip", "link", "show", "hako-test-va").stdout
    assert os.listdir(hako.root) == []

    # A container that stops by itself keeps the device until delete.
    cid = hako.new_id()
    b = hako.bundle(tmp_path, ["true"], mutate)
    in_netns(veth_netns, HAKO, "--root", hako.root, "run", "-d", "--bundle", b, cid, check=True)
    for _ in range(200):
        state = in_netns(veth_netns, HAKO, "--root", hako.root, "state", cid).stdout
        if '"stopped"' in state:
            break
        time.sleep(0.02)
    assert in_netns(veth_netns, "ip", "link", "show", "hako-test-va").returncode != 0
    in_netns(veth_netns, HAKO, "--root", hako.root, "delete", cid, check=True)
    assert "192.0.2.1/24" in in_netns(veth_netns, "ip", "-o", "addr", "show",
                                      "hako-test-va").stdout
    assert os.listdir(hako.root) == []


def test_net_devices_errors_name_the_device_and_leave_it(hako, tmp_path, veth_netns):
    cases = [({"hako-test-va": {"name": "lo"}}, 'the other namespace has a "lo"'),
             ({"hako-test-none": {}}, 'network device "hako-test-none"'),
             ({"hako-test-va": {"name": "a/b"}}, "not a network interface name"),
             ({"hako-test-va": {}, "hako-test-vb": {"name": "hako-test-va"}},
              'a second device called "hako-test-va"')]
    for devices, message in cases:
        def mutate(c):
            spec13(c)
            c["linux"]["netDevices"] = devices
        b = hako.bundle(tmp_path, ["true"], mutate)
        p = in_netns(veth_netns, HAKO, "--root", hako.root, "run", "--bundle", b, hako.new_id())
        assert p.returncode != 0 and message in p.stderr and "linux.netDevices" in p.stderr, \
            (devices, p.stderr)
        assert os.listdir(hako.root) == []
        left = in_netns(veth_netns, "ip", "-o", "-4", "addr", "show", "hako-test-va").stdout
        assert "192.0.2.1/24" in left, (devices, left)

    def no_netns(c):
        spec13(c)
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                                    if n["type"] != "network"]
        c["linux"]["netDevices"] = {"hako-test-va": {}}
    p = hako.run(tmp_path, ["true"], no_netns)
    assert p.returncode != 0 and "needs a network namespace" in p.stderr, p.stderr


def test_a_failing_poststart_hook_fails_start_from_1_3(hako, tmp_path):
    def failing(version):
        def mutate(c):
            c["ociVersion"] = version
            c["hooks"] = {"poststart": [{"path": "/bin/false"}]}
        return mutate
    cid = hako.new_id()
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["sleep", "30"], failing("1.3.0")),
             cid, check=True)
    p = hako.cmd("start", cid)
    assert p.returncode != 0 and "hooks.poststart[0]" in p.stderr, p.stderr
    for _ in range(100):
        if json.loads(hako.cmd("state", cid, check=True).stdout)["status"] == "stopped":
            break
        time.sleep(0.02)
    assert json.loads(hako.cmd("state", cid, check=True).stdout)["status"] == "stopped"
    cid = hako.new_id()
    hako.cmd("create", "--bundle", hako.bundle(tmp_path, ["sleep", "30"], failing("1.2.0")),
             cid, check=True)
    p = hako.cmd("start", cid)
    assert p.returncode == 0 and "warning" in p.stderr, p.stderr


def test_bind_sources_are_opened_with_the_runtimes_privileges(hako, tmp_path):
    """Item 5: in a user namespace the init may not reach a file in a
    root-only directory; the runtime opens the bind's source for it. (The
    destinations exist in the image: its root may not create them.)"""
    secret = tmp_path / "hako-test-secret"
    (secret / "dir").mkdir(parents=True)
    (secret / "file").write_text("for the container\n")
    (secret / "dir" / "inner").write_text("inner\n")
    os.chmod(secret / "file", 0o644)
    os.chmod(secret / "dir", 0o755)
    os.chmod(secret, 0o700)

    def mutate(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["mounts"] += [
            {"destination": "/etc/group", "type": "bind", "source": str(secret / "file"),
             "options": ["bind", "ro"]},
            {"destination": "/mnt", "type": "bind", "source": str(secret / "dir"),
             "options": ["rbind", "ro"]}]
    p = hako.run(tmp_path, ["sh", "-c", "cat /etc/group /mnt/inner; "
                            "touch /mnt/x 2>&1 | grep -c Read-only"], mutate)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "for the container\ninner\n1\n", p.stdout
    # A source that does not exist is named, and nothing is left.
    def missing(c):
        mutate(c)
        c["mounts"][-1]["source"] = str(secret / "nothing")
    p = hako.run(tmp_path, ["true"], missing)
    assert p.returncode != 0 and "nothing" in p.stderr and "mounts[" in p.stderr, p.stderr
    assert os.listdir(hako.root) == []
