"""The registry that lets a real kubelet (kind) pull the suite's fake image names: over real HTTP on
127.0.0.1, every name and tag must lead a puller through index -> manifest -> blobs of one image."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
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
