# SPDX-License-Identifier: GPL-2.0-or-later
"""exec: a new process in a running container, seen from inside by hako-probe."""
import array
import json
import os
import socket
import threading

from test_namespaces import host_ns


def running(hako, tmp_path, mutate=None):
    cid = hako.new_id()
    hako.cmd("run", "-d", "--bundle",
             hako.bundle(tmp_path, ["/bin/hako-probe", "sleep", "60"], mutate), cid, check=True)
    return cid, json.loads(hako.cmd("state", cid, check=True).stdout)["pid"]


def exec_report(hako, cid, *flags):
    p = hako.cmd("exec", *flags, cid, "/bin/hako-probe", "report")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_exec_joins_every_namespace_and_the_cgroup(hako, tmp_path):
    cid, init = running(hako, tmp_path)
    r = exec_report(hako, cid)
    for kind in ("pid", "mnt", "uts", "ipc", "net", "cgroup"):
        assert r["ns"][kind] == os.readlink(f"/proc/{init}/ns/{kind}"), kind
        assert r["ns"][kind] != host_ns(kind), kind
    assert r["pid"] != 1 and r["hostname"] == "hako"
    # In the container's cgroup namespace, its cgroup is the root.
    assert all(line.endswith(":/") for line in r["cgroup"].splitlines()), r["cgroup"]
    # The same cgroups as the init, seen from the host.
    hako.cmd("exec", "-d", cid, "/bin/hako-probe", "sleep", "30", check=True)
    pids = json.loads(hako.cmd("ps", "--format", "json", cid, check=True).stdout)
    assert len(pids) == 2
    for pid in pids:
        assert open(f"/proc/{pid}/cgroup").read() == open(f"/proc/{init}/cgroup").read()
    assert r["fds"] == [0, 1, 2]
    # The same filesystem as the init: the same mounts (ids and mount points;
    # cgroup roots read differently from inside its cgroup namespace).
    mounts = lambda text: [tuple(l.split()[0:5:4]) for l in text.splitlines()]
    assert mounts(r["mountinfo"]) == mounts(open(f"/proc/{init}/mountinfo").read())


def test_exec_status_and_failures(hako, tmp_path):
    cid, _ = running(hako, tmp_path)
    assert hako.cmd("exec", cid, "/bin/sh", "-c", "exit 7").returncode == 7
    p = hako.cmd("exec", cid, "/no/such/program")
    assert p.returncode == 255 and "no such file or directory" in p.stderr
    p = hako.cmd("exec", cid, "not-in-path")
    assert p.returncode == 255 and "executable file not found in $PATH" in p.stderr
    hako.cmd("pause", cid, check=True)
    p = hako.cmd("exec", cid, "/bin/true")
    assert p.returncode == 255 and "cannot exec in a paused container" in p.stderr
    hako.cmd("resume", cid, check=True)
    hako.cmd("kill", cid, "KILL", check=True)
    for _ in range(100):
        if json.loads(hako.cmd("state", cid).stdout)["status"] == "stopped":
            break
    p = hako.cmd("exec", cid, "/bin/true")
    assert p.returncode == 255 and "cannot exec in a stopped container" in p.stderr
    p = hako.cmd("exec", "hako-test-missing", "/bin/true")
    assert p.returncode == 255 and "does not exist" in p.stderr


def test_exec_user_env_cwd_caps_and_no_new_privs(hako, tmp_path):
    cid, _ = running(hako, tmp_path)
    r = exec_report(hako, cid, "-u", "1000:1001", "--cwd", "/tmp", "-e", "HAKO_X=1",
                    "--no-new-privs")
    assert (r["uid"], r["gid"], r["cwd"]) == (1000, 1001, "/tmp")
    assert "NoNewPrivs:\t1" in r["status"]
    p = hako.cmd("exec", "-e", "HAKO_X=2", "-e", "PATH=/bin", cid, "/bin/sh", "-c",
                 "echo $HAKO_X $PATH")
    assert p.stdout == "2 /bin\n"
    plain = exec_report(hako, cid)
    more = exec_report(hako, cid, "--cap", "CAP_SYS_ADMIN")
    eff = lambda r: int(next(l for l in r["status"].splitlines()
                             if l.startswith("CapEff:")).split()[1], 16)
    assert eff(more) == eff(plain) | (1 << 21)
    p = hako.cmd("exec", "--cap", "CAP_NOPE", cid, "/bin/true")
    assert p.returncode == 255 and "unknown capability \"CAP_NOPE\"" in p.stderr


def test_exec_process_file_and_detach(hako, tmp_path):
    cid, _ = running(hako, tmp_path)
    proc = tmp_path / "process.json"
    proc.write_text(json.dumps({"args": ["/bin/sh", "-c", "echo $HAKO_Y $(id -u)"],
                                "cwd": "/", "env": ["HAKO_Y=from-file"],
                                "user": {"uid": 7, "gid": 7}}))
    p = hako.cmd("exec", "--process", str(proc), cid)
    assert p.returncode == 0 and p.stdout == "from-file 7\n", p.stderr
    proc.write_text('{"args": [], "cwd": "/"}')
    p = hako.cmd("exec", "--process", str(proc), cid)
    assert p.returncode == 255 and "process.args" in p.stderr
    pidfile = tmp_path / "exec.pid"
    hako.cmd("exec", "-d", "--pid-file", str(pidfile), cid, "/bin/hako-probe", "sleep", "30",
             check=True)
    pid = int(pidfile.read_text())
    assert pid in json.loads(hako.cmd("ps", "--format", "json", cid, check=True).stdout)


def test_exec_with_a_terminal_through_the_console_socket(hako, tmp_path):
    cid, _ = running(hako, tmp_path)
    path = str(tmp_path / "console.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    got = {}

    def receive():
        conn, _ = server.accept()
        fds = array.array("i")
        msg, anc, _, _ = conn.recvmsg(1024, socket.CMSG_LEN(fds.itemsize))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:fds.itemsize])
        got["fd"] = fds[0]
        conn.close()
    t = threading.Thread(target=receive)
    t.start()
    hako.cmd("exec", "-t", "-d", "--console-socket", path, cid, "/bin/sh", "-c",
             "tty; echo hello-tty", check=True)
    t.join(10)
    server.close()
    out = b""
    try:
        while b"hello-tty" not in out:
            chunk = os.read(got["fd"], 1024)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(got["fd"])
    assert b"/dev/pts/" in out and b"hello-tty" in out, out


def test_exec_in_a_user_namespace(hako, tmp_path):
    def mutate(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"].pop("resources")
        c["mounts"] = [m for m in c["mounts"] if m["type"] != "cgroup"]
    cid, init = running(hako, tmp_path, mutate)
    r = exec_report(hako, cid)
    assert r["uid"] == 0 and r["uid_map"].split() == ["0", "100000", "65536"]
    assert r["ns"]["user"] == os.readlink(f"/proc/{init}/ns/user") != host_ns("user")
