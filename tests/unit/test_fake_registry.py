"""The registry that lets a real kubelet (kind) pull the suite's fake image names: over real HTTP on
127.0.0.1, every name and tag must lead a puller through index -> manifest -> blobs of one image."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time

import pytest

from tests.support.cluster import REPO
from tests.support.fake_registry import load_image, make_server, serve_in_thread

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MISSING = "sha256:" + "0" * 64


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer() -> bytes:
    """A gzipped tar holding one file, as a real image layer."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        content = b"#!/bin/sh\nexec sleep infinity\n"
        info = tarfile.TarInfo("pause")
        info.size, info.mode = len(content), 0o755
        archive.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def write_layout(root, extra_platform: bool = False) -> dict[str, str]:
    """An OCI image layout (index.json -> index -> linux/amd64 manifest -> config, layer) under root.
    extra_platform: the index also lists a linux/arm64 manifest that is not in the layout, as
    `docker save` of a multi-platform image leaves it. Returns the digests by role."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        digest = sha256(data)
        (blobs / digest.split(":")[1]).write_bytes(data)
        return digest

    layer_data = layer()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/pause"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha256(gzip.decompress(layer_data))]}}).encode()
    digests = {"config": put(config), "layer": put(layer_data)}
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digests["config"],
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digests["layer"],
                    "size": len(layer_data)}]}).encode()
    digests["manifest"] = put(manifest)
    platforms = [{"mediaType": MANIFEST, "digest": digests["manifest"], "size": len(manifest),
                  "platform": {"architecture": "amd64", "os": "linux"}}]
    if extra_platform:
        platforms.append({"mediaType": MANIFEST, "digest": MISSING, "size": 512,
                          "platform": {"architecture": "arm64", "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": platforms}).encode()
    digests["index"] = put(index)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": INDEX, "digest": digests["index"], "size": len(index),
        "annotations": {"org.opencontainers.image.ref.name": "3.10"}}]}))
    return digests


@pytest.fixture
def layout(tmp_path):
    return tmp_path, write_layout(tmp_path)


@pytest.fixture
def registry(layout):
    """(request function, digests): request(method, path) -> (status, headers, body)."""
    root, digests = layout
    server = make_server("127.0.0.1", 0, load_image(root), quiet=True)
    serve_in_thread(server)
    port = server.server_address[1]

    def request(method: str, path: str):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    request.port = port
    yield request, digests
    server.shutdown()
    server.server_close()


def test_the_api_version_check_answers(registry):
    request, _ = registry
    status, headers, _ = request("GET", "/v2/")
    assert status == 200 and headers["docker-distribution-api-version"] == "registry/2.0"


def test_every_name_and_tag_is_the_same_image(registry):
    request, digests = registry
    answers = [request("GET", path) for path in ("/v2/web/manifests/1", "/v2/team/api/manifests/v3.2-rc.1",
                                                 "/v2/shop/manifests/latest")]
    assert {(status, headers["docker-content-digest"], headers["content-type"]) for status, headers, _ in answers} \
        == {(200, digests["index"], INDEX)}
    assert {sha256(body) for _, _, body in answers} == {digests["index"]}


def test_a_pull_walks_from_the_tag_to_every_blob_and_each_verifies(registry):
    request, digests = registry
    _, _, index = request("GET", "/v2/web/manifests/2")
    platform = json.loads(index)["manifests"][0]["digest"]
    status, headers, manifest = request("GET", f"/v2/web/manifests/{platform}")
    assert (status, headers["content-type"], headers["docker-content-digest"]) == (200, MANIFEST, platform)
    assert sha256(manifest) == platform == digests["manifest"]
    wanted = [json.loads(manifest)["config"]] + json.loads(manifest)["layers"]
    for descriptor in wanted:
        status, headers, blob = request("GET", f"/v2/web/blobs/{descriptor['digest']}")
        assert status == 200 and sha256(blob) == descriptor["digest"] == headers["docker-content-digest"]
        assert len(blob) == descriptor["size"] == int(headers["content-length"])


def raw_exchange(port: int, request: bytes) -> bytes:
    """Everything the server sends back, to the byte, until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("path", ["/v2/web/manifests/1", "/v2/web/blobs/{layer}", "/v2/web/manifests/{manifest}"])
def test_head_gives_the_headers_of_get_without_a_body(registry, path):
    request, digests = registry
    path = path.format(**digests)
    get_status, get_headers, get_body = request("GET", path)
    head = raw_exchange(request.port, f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    status_line, _, rest = head.partition(b"\r\n")
    header_block, _, body = rest.partition(b"\r\n\r\n")
    head_headers = dict(line.decode().lower().split(": ", 1) for line in header_block.split(b"\r\n"))
    assert get_status == 200 and status_line.split()[1] == b"200"
    assert body == b"" and len(get_body) > 0
    for header in ("content-type", "content-length", "docker-content-digest"):
        assert head_headers[header] == get_headers[header].lower()


@pytest.mark.parametrize("path, code", [
    (f"/v2/web/manifests/{MISSING}", "MANIFEST_UNKNOWN"),
    (f"/v2/web/blobs/{MISSING}", "BLOB_UNKNOWN"),
    ("/v2/web/manifests/sha512:abc", "MANIFEST_UNKNOWN"),
    ("/v2/web/manifests/{layer}", "MANIFEST_UNKNOWN"),  # a blob, not a manifest
    ("/v2/web/tags/list", "NAME_UNKNOWN"),
    ("/v1/web", "NAME_UNKNOWN"),
])
def test_what_it_does_not_hold_is_a_404_in_registry_error_json(registry, path, code):
    request, digests = registry
    status, headers, body = request("GET", path.format(**digests))
    assert status == 404 and headers["content-type"] == "application/json"
    assert [error["code"] for error in json.loads(body)["errors"]] == [code]


def test_the_namespace_query_of_a_containerd_mirror_is_ignored(registry):
    request, digests = registry
    status, headers, _ = request("GET", "/v2/web/manifests/1?ns=registry.example")
    assert (status, headers["docker-content-digest"]) == (200, digests["index"])
    status, _, blob = request("GET", f"/v2/web/blobs/{digests['config']}?ns=registry.example")
    assert status == 200 and sha256(blob) == digests["config"]


def test_it_is_read_only(registry):
    request, _ = registry
    status, _, body = request("PUT", "/v2/web/manifests/1")
    assert status == 405 and json.loads(body)["errors"][0]["code"] == "UNSUPPORTED"


def test_an_index_missing_platforms_is_served_with_the_present_ones_only(tmp_path):
    digests = write_layout(tmp_path, extra_platform=True)
    image = load_image(tmp_path)
    body, media_type = image.manifest("7")
    assert media_type == INDEX and sha256(body) == image.top != digests["index"]
    assert [m["digest"] for m in json.loads(body)["manifests"]] == [digests["manifest"]]


def test_a_docker_save_tar_is_read_like_the_directory(tmp_path):
    layout = tmp_path / "layout"
    layout.mkdir()
    digests = write_layout(layout)
    (layout / "manifest.json").write_text("[]")  # docker save writes its legacy index too
    tar = tmp_path / "image.tar"
    with tarfile.open(tar, "w") as archive:
        archive.add(layout, arcname=".")
    image = load_image(tar)
    assert image.top == digests["index"] and set(digests.values()) <= set(image.blobs)


def test_a_corrupt_blob_is_refused_when_loading(layout):
    root, digests = layout
    (root / "blobs" / "sha256" / digests["layer"].split(":")[1]).write_bytes(b"not the layer")
    with pytest.raises(ValueError, match="does not match its digest"):
        load_image(root)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_command_line_serves_the_image_it_is_given(layout):
    root, digests = layout
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.support.fake_registry", "--listen", f"127.0.0.1:{port}",
                                "--image", str(root), "--quiet"], cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("HEAD", "/v2/anything/manifests/v9")
                headers = dict(connection.getresponse().getheaders())
                connection.close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
                time.sleep(0.1)
        assert headers["Docker-Content-Digest"] == digests["index"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert digests["index"] in process.stderr.read()


def test_the_command_line_says_why_it_cannot_read_the_image(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tests.support.fake_registry", "--listen", "127.0.0.1:0",
                           "--image", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "no index.json" in done.stderr


# -- hack/local-cluster's kind wiring, with stand-ins for docker, kind and kubectl --------------------
# No Docker here: the stand-ins keep what the script does to "containers" and "nodes" in a folder,
# run the registry container's command as a local process on 127.0.0.1 (with its mounts and working
# directory mapped to the host paths), and play containerd's pull (hosts.toml, then
# manifest -> blobs, each verified), so everything but Docker and containerd themselves is the real thing.

DOCKER_STAND_IN = r'''
import hashlib, json, os, socket, subprocess, sys, tomllib, urllib.request
from pathlib import Path

state = Path(os.environ["STAND_IN_STATE"])
containers = json.loads((state / "containers.json").read_text()) if (state / "containers.json").exists() else {}
args = sys.argv[1:]
(state / "calls.log").open("a").write(" ".join(args) + "\n")


def save():
    (state / "containers.json").write_text(json.dumps(containers))


def local(url):
    """A container name on the kind network -> the stand-in's 127.0.0.1 port."""
    for name, container in containers.items():
        url = url.replace(f"//{name}:5000", f"//127.0.0.1:{container['port']}")
    return url


def fetch(url, accept="*/*"):
    request = urllib.request.Request(local(url), headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read(), response.headers


def node_path(node, path):
    return state / "nodes" / node / path.lstrip("/")


def pull(node, reference):
    host, _, rest = reference.partition("/")
    name, _, tag = rest.rpartition(":")
    hosts = tomllib.loads(node_path(node, f"/etc/containerd/certs.d/{host}/hosts.toml").read_text())
    base = next(iter(hosts.get("host", {})), None) or hosts["server"]
    accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"
    body, headers = fetch(f"{base}/v2/{name}/manifests/{tag}?ns={host}", accept)
    digest = headers["Docker-Content-Digest"]
    assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
    manifest = json.loads(body)
    if "manifests" in manifest:
        digest = manifest["manifests"][0]["digest"]
        body, _ = fetch(f"{base}/v2/{name}/manifests/{digest}?ns={host}", accept)
        assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
        manifest = json.loads(body)
    for descriptor in [manifest["config"]] + manifest["layers"]:
        blob, _ = fetch(f"{base}/v2/{name}/blobs/{descriptor['digest']}?ns={host}")
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == descriptor["digest"]


command = args[0]
if command == "info" or command == "pull" or command == "logs":
    sys.exit(0)
if command == "save":
    Path(args[args.index("-o") + 1]).write_bytes(Path(os.environ["STAND_IN_IMAGE"]).read_bytes())
elif command == "rm":
    container = containers.pop(args[-1], None)
    if container:
        os.kill(container["pid"], 15)
    save()
    sys.exit(0 if container else 1)
elif command == "run":
    options, i, mounts, workdir = {}, 1, {}, "/"
    while args[i].startswith("-"):
        if args[i] == "-d":
            i += 1
            continue
        options.setdefault(args[i], []).append(args[i + 1])
        i += 2
    for volume in options.get("-v", []):
        source, target, _ = volume.split(":")
        mounts[target] = source
    workdir = mounts[options["-w"][0]]
    image, command_line = args[i], args[i + 1:]
    assert options["--network"] == ["kind"] and "-p" not in options, options
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command_line = [sys.executable if c == "python" else mounts.get(c, c) for c in command_line]
    command_line = [f"127.0.0.1:{port}" if c == "0.0.0.0:5000" else c for c in command_line]
    log = open(state / "registry.log", "w")
    process = subprocess.Popen(command_line, cwd=workdir, stdout=log, stderr=log, start_new_session=True)
    containers[options["--name"][0]] = {"pid": process.pid, "port": port, "image": image}
    save()
    print("0123456789ab")
elif command == "exec":
    rest = args[1:]
    stdin = rest[0] == "-i"
    node, tool, tool_args = rest[int(stdin)], rest[int(stdin) + 1], rest[int(stdin) + 2:]
    if tool == "mkdir":
        node_path(node, tool_args[-1]).mkdir(parents=True, exist_ok=True)
    elif tool == "cp":
        node_path(node, tool_args[1]).write_bytes(sys.stdin.buffer.read())
    elif tool == "curl":
        try:
            fetch(tool_args[-1])
        except OSError:
            sys.exit(7)
    elif tool == "crictl":
        pull(node, tool_args[-1])
    else:
        sys.exit(f"docker stand-in: no {tool} on the node")
else:
    sys.exit(f"docker stand-in: unexpected {args}")
'''

KIND_STAND_IN = r'''
import os, shutil, sys
from pathlib import Path

state = Path(os.environ["STAND_IN_STATE"])
args = sys.argv[1:]
name = args[args.index("--name") + 1] if "--name" in args else "kind"
if args[:2] == ["get", "clusters"]:
    print((state / "cluster").read_text() if (state / "cluster").exists() else "", end="")
elif args[:2] == ["get", "nodes"]:
    print(f"{name}-control-plane")
elif args[:2] == ["create", "cluster"]:
    shutil.copy(args[args.index("--config") + 1], state / "kind-config.yaml")
    Path(args[args.index("--kubeconfig") + 1]).write_text("apiVersion: v1\nkind: Config\n")
    (state / "cluster").write_text(name + "\n")
elif args[:2] == ["delete", "cluster"]:
    (state / "cluster").unlink(missing_ok=True)
'''


def stand_in(path, source: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{source}")
    path.chmod(0o755)


def kind_version() -> str:
    versions = (REPO / "hack" / "versions.env").read_text()
    return next(line.split("=", 1)[1] for line in versions.splitlines() if line.startswith("KIND_VERSION="))


def test_local_cluster_kind_serves_every_fake_name_and_down_removes_the_registry(tmp_path):
    pytest.importorskip("tomllib")  # the stand-in reads hosts.toml as containerd would (Python 3.11+)
    import yaml

    layout = tmp_path / "layout"
    layout.mkdir()
    write_layout(layout, extra_platform=True)
    saved = tmp_path / "saved.tar"
    with tarfile.open(saved, "w") as archive:
        archive.add(layout, arcname=".")
    state, bin_dir, cache = tmp_path / "state", tmp_path / "bin", tmp_path / "cache"
    state.mkdir()
    stand_in(bin_dir / "docker", DOCKER_STAND_IN)
    stand_in(bin_dir / "kubectl", "import sys\nsys.exit(0)\n")
    stand_in(cache / f"kind-{kind_version()}" / "kind", KIND_STAND_IN)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KHR_")},
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "KHR_CACHE_DIR": str(cache),
           "KHR_CLUSTER_BACKEND": "kind", "KHR_CLUSTER_NAME": "khr-t", "KHR_KIND_FAKE_IMAGES": "1",
           "STAND_IN_STATE": str(state), "STAND_IN_IMAGE": str(saved)}

    def local_cluster(command: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(REPO / "hack" / "local-cluster"), command], env=env, capture_output=True,
                              text=True, timeout=120)

    try:
        up = local_cluster("up")
        assert up.returncode == 0, up.stderr + (state / "registry.log").read_text()
        assert "every registry.example/NAME:TAG is registry.k8s.io/pause:3.10 (served by container " \
               "khr-t-registry)" in up.stderr
        patch = yaml.safe_load((state / "kind-config.yaml").read_text())["containerdConfigPatches"][0]
        assert 'config_path = "/etc/containerd/certs.d"' in patch
        hosts = (state / "nodes" / "khr-t-control-plane" / "etc/containerd/certs.d/registry.example/hosts.toml")
        import tomllib
        assert tomllib.loads(hosts.read_text()) == {
            "server": "http://khr-t-registry:5000",
            "host": {"http://khr-t-registry:5000": {"capabilities": ["pull", "resolve"]}}}
        calls = (state / "calls.log").read_text()
        assert "exec khr-t-control-plane crictl pull registry.example/khr-smoke:1" in calls
        container = json.loads((state / "containers.json").read_text())["khr-t-registry"]
        assert container["image"] == "python:3.12-slim"

        again = local_cluster("up")  # idempotent: the registry is replaced, not doubled
        assert again.returncode == 0, again.stderr
        assert list(json.loads((state / "containers.json").read_text())) == ["khr-t-registry"]

        down = local_cluster("down")
        assert down.returncode == 0, down.stderr
        assert json.loads((state / "containers.json").read_text()) == {}
        assert not list(cache.glob("kind-khr-t*"))
    finally:
        for container in json.loads((state / "containers.json").read_text() or "{}").values() \
                if (state / "containers.json").exists() else ():
            os.kill(container["pid"], 15)
