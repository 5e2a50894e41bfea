# SPDX-License-Identifier: GPL-2.0-or-later
"""containerd's CRI plugin, the way the kubelet drives it, with hako as the
runtime of its runc shim: a pod sandbox, a container in it, ExecSync, stop
and remove. The test speaks CRI (gRPC, package runtime.v1) itself, through
messages compiled by protoc from tests/integration/cri/cri_subset.proto, to a
private containerd whose image is made here from the busybox rootfs."""
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import uuid

import pytest

from conftest import BASE_BUNDLE, HAKO, Containerd, cgroup_leftovers, remove_cgroup_tree

HERE = os.path.dirname(__file__)


def oci_image_tar(path, name):
    """An OCI image layout tar of the busybox rootfs: one layer, a config, a
    manifest and an index naming it."""
    def blob(data):
        return "sha256:" + hashlib.sha256(data).hexdigest(), data

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        t.add(os.path.join(BASE_BUNDLE, "rootfs"), arcname=".")
    layer_digest, layer_data = blob(layer.getvalue())
    config_digest, config_data = blob(json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": ["/bin/sleep"], "Cmd": ["3600"],
                   "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}).encode())
    manifest_digest, manifest_data = blob(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config_data)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": len(layer_data)}]}).encode())
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": manifest_digest, "size": len(manifest_data),
        "platform": {"architecture": "amd64", "os": "linux"},
        "annotations": {"io.containerd.image.name": name,
                        "org.opencontainers.image.ref.name": "latest"}}]}).encode()
    with tarfile.open(path, "w") as t:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        add("index.json", index)
        for digest, data in ((layer_digest, layer_data), (config_digest, config_data),
                             (manifest_digest, manifest_data)):
            add("blobs/sha256/" + digest.split(":")[1], data)


@pytest.fixture(scope="module")
def cri(tmp_path_factory):
    if not shutil.which("containerd") or not shutil.which("protoc"):
        pytest.skip("containerd and protoc are installed by scripts/deps.sh test")
    if os.environ.get("HAKO_BIN"):
        pytest.skip("the CRI drives the normal build; the sanitizer run skips it")
    try:
        import grpc
    except ImportError:
        pytest.skip("python3-grpcio is installed by scripts/deps.sh test")
    top = tmp_path_factory.mktemp("hako-test-cri")
    tag = "hako-test-" + uuid.uuid4().hex[:8]
    image = f"docker.io/library/{tag}:latest"
    subprocess.run(["protoc", "-I", os.path.join(HERE, "cri"), "--python_out", str(top),
                    "cri_subset.proto"], check=True)
    sys.path.insert(0, str(top))
    import cri_subset_pb2 as pb
    daemon = Containerd(top, f"""[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{image}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{top}/cni/bin"
    conf_dir = "{top}/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "hako"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako.options]
        BinaryName = "{HAKO}"
        Root = "{top}/hako-root"
""")
    sock = daemon.sock
    oci_image_tar(top / "image.tar", image)
    subprocess.run(["ctr", "--address", str(sock), "-n", "k8s.io", "images", "import",
                    str(top / "image.tar")], check=True, capture_output=True, timeout=120)
    channel = grpc.insecure_channel(f"unix://{sock}")

    def call(method, request, response):
        rpc = channel.unary_unary(f"/runtime.v1.RuntimeService/{method}",
                                  request_serializer=request.SerializeToString,
                                  response_deserializer=response.FromString)
        return rpc(request, timeout=60)

    class Cri:
        pass
    c = Cri()
    c.pb, c.call, c.tag, c.image, c.top = pb, call, tag, image, top
    c.hako_root = top / "hako-root" / "k8s.io"
    yield c
    channel.close()
    daemon.stop()
    remove_cgroup_tree(tag)
    shutil.rmtree(top, ignore_errors=True)


def test_a_pod_and_its_container_run_on_hako(cri):
    pb, call = cri.pb, cri.call
    (cri.top / "logs").mkdir(exist_ok=True)
    sandbox = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name="pod", uid=cri.tag, namespace="default"),
        # With the node's network (no CNI here) there is no UTS namespace of
        # the pod's own, so no hostname: the kubelet sends none either.
        log_directory=str(cri.top / "logs"),
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=f"/{cri.tag}",
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER))))
    pod = call("RunPodSandbox", pb.RunPodSandboxRequest(config=sandbox),
               pb.RunPodSandboxResponse).pod_sandbox_id
    # The sandbox ("pause") container is hako's.
    assert pod in subprocess.run([HAKO, "--root", str(cri.hako_root), "list", "-q"],
                                 capture_output=True, text=True).stdout
    config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="app"), image=pb.ImageSpec(image=cri.image),
        command=["/bin/sh", "-c", "echo hi-from-cri; hostname; exec sleep 60"],
        envs=[pb.KeyValue(key="HAKO_CRI", value="yes")], log_path="app.log",
        linux=pb.LinuxContainerConfig(resources=pb.LinuxContainerResources(
            memory_limit_in_bytes=64 << 20)))
    cid = call("CreateContainer", pb.CreateContainerRequest(
        pod_sandbox_id=pod, config=config, sandbox_config=sandbox),
        pb.CreateContainerResponse).container_id
    call("StartContainer", pb.StartContainerRequest(container_id=cid),
         pb.StartContainerResponse)
    status = call("ContainerStatus", pb.ContainerStatusRequest(container_id=cid),
                  pb.ContainerStatusResponse).status
    assert status.state == pb.CONTAINER_RUNNING, status
    state = json.loads(subprocess.run([HAKO, "--root", str(cri.hako_root), "state", cid],
                                      capture_output=True, text=True, check=True).stdout)
    assert state["status"] == "running"
    # Its cgroup is under the pod's parent, with the limit the CRI asked for.
    limit = open(f"/sys/fs/cgroup/memory/{cri.tag}/{cid}/memory.limit_in_bytes").read()
    assert int(limit) == 64 << 20
    r = call("ExecSync", pb.ExecSyncRequest(
        container_id=cid, cmd=["/bin/sh", "-c", "echo $HAKO_CRI; exit 3"], timeout=30),
        pb.ExecSyncResponse)
    assert r.stdout == b"yes\n" and r.exit_code == 3, r
    call("StopContainer", pb.StopContainerRequest(container_id=cid, timeout=1),
         pb.StopContainerResponse)
    status = call("ContainerStatus", pb.ContainerStatusRequest(container_id=cid),
                  pb.ContainerStatusResponse).status
    assert status.state == pb.CONTAINER_EXITED, status
    logged = (cri.top / "logs" / "app.log").read_text()
    assert "hi-from-cri" in logged and socket.gethostname() in logged, logged
    call("RemoveContainer", pb.RemoveContainerRequest(container_id=cid),
         pb.RemoveContainerResponse)
    call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=pod),
         pb.StopPodSandboxResponse)
    call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=pod),
         pb.RemovePodSandboxResponse)
    assert subprocess.run([HAKO, "--root", str(cri.hako_root), "list", "-q"],
                          capture_output=True, text=True).stdout == ""
    assert not cgroup_leftovers(cid) and not cgroup_leftovers(pod)
