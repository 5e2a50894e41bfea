# SPDX-License-Identifier: GPL-2.0-or-later
"""hakoctl's containers by name: --name, ps and rm, on real containers run
by the hako runtime (the conftest's `ctl`: a store and run dir of its own)."""
import json
import subprocess
import time


def ps(ctl, *flags):
    return json.loads(ctl("ps", "--format", "json", *flags, check=True).stdout)


def wait_for(pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def background_run(ctl, *args):
    return subprocess.Popen(ctl.argv("run", *args), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_names_given_generated_and_unique(ctl):
    ctl("run", "--name", "hako-test-web", "busybox", "true", check=True)
    ctl("run", "busybox", "true", check=True)
    names = sorted(c["Names"][0] for c in ps(ctl, "-a"))
    assert "hako-test-web" in names and len(set(names)) == 2, names
    # docker's form: adjective_noun
    (gen,) = [n for n in names if n != "hako-test-web"]
    assert "_" in gen and gen.replace("_", "").isalpha(), gen
    before = sorted(ctl.leftovers())
    p = ctl("run", "--name", "hako-test-web", "busybox", "true")
    assert p.returncode == 125 and '"hako-test-web" is in use' in p.stderr, p.stderr
    p = ctl("run", "--name", "-bad name", "busybox", "true")
    assert p.returncode == 125 and "--name" in p.stderr, p.stderr
    assert sorted(ctl.leftovers()) == before  # the refused ones left nothing


def test_ps_shows_running_and_exited_containers_truthfully(ctl):
    ctl("run", "--name", "hako-test-three", "busybox", "sh", "-c", "exit 3")
    run = background_run(ctl, "--name", "hako-test-sleeper", "busybox", "sleep", "30")
    try:
        wait_for(lambda: [c["Names"] for c in ps(ctl)] == [["hako-test-sleeper"]],
                 "the running container in ps")
        (running,) = ps(ctl)
        assert running["State"] == "running" and running["Status"].startswith("Up ")
        assert running["Command"] == "sleep 30" and running["Image"] == "busybox"
        every = {c["Names"][0]: c for c in ps(ctl, "-a")}
        assert every["hako-test-three"]["State"] == "exited"
        assert every["hako-test-three"]["ExitCode"] == 3
        assert every["hako-test-three"]["Status"].startswith("Exited (3) ")
        # newest first, as docker lists them
        assert list(every) == ["hako-test-sleeper", "hako-test-three"]
        assert [c["Names"][0] for c in ps(ctl, "--filter", "status=exited")] == \
            ["hako-test-three"]
        assert [c["Names"][0] for c in ps(ctl, "-a", "--filter", "name=sleep")] == \
            ["hako-test-sleeper"]
        q = ctl("ps", "-a", "-q", check=True).stdout.split()
        assert q == [c["Id"][:12] for c in every.values()]
        table = ctl("ps", check=True).stdout.splitlines()
        assert table[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED",
                                    "STATUS", "NAMES"]
        assert table[1].endswith("hako-test-sleeper") and len(table) == 2
    finally:
        ctl("rm", "-f", "hako-test-sleeper")
        run.wait(timeout=30)


def test_rm_refuses_a_running_container_and_rm_f_removes_everything(ctl):
    run = background_run(ctl, "--name", "hako-test-busy", "busybox", "sleep", "30")
    wait_for(lambda: ps(ctl), "the container to run")
    p = ctl("rm", "hako-test-busy")
    assert p.returncode == 125 and "is running" in p.stderr, p.stderr
    assert ps(ctl)[0]["Names"] == ["hako-test-busy"]
    p = ctl("rm", "-f", "hako-test-busy", check=True)
    assert p.stdout == "hako-test-busy\n"
    assert run.wait(timeout=30) == 137  # killed, as docker's status says
    assert ps(ctl, "-a") == []
    assert ctl.leftovers() == []  # no upper dir, bundle, watcher, mount or runtime state


def test_rm_by_id_prefix_and_unknown_names(ctl):
    ctl("run", "--name", "hako-test-a", "busybox", "true", check=True)
    ctl("run", "--name", "hako-test-b", "busybox", "true", check=True)
    ids = {c["Names"][0]: c["Id"] for c in ps(ctl, "-a")}
    p = ctl("rm", ids["hako-test-a"][:10], check=True)
    assert p.stdout == ids["hako-test-a"][:10] + "\n"
    p = ctl("rm", "hako-test-nothing", "hako-test-b")
    assert p.returncode == 125
    assert 'no such container: "hako-test-nothing"' in p.stderr, p.stderr
    assert p.stdout == "hako-test-b\n"  # the others are still removed
    assert ctl.leftovers() == []
