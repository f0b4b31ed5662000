"""A read-only container registry that serves ONE real image under every repository name and tag.

The suite deploys fake image names (registry.example/web:1, registry.example/api:3, ...) that only
KWOK's fake kubelets accept. On kind, hack/local-cluster mirrors registry.example to this server,
so a real kubelet pulls, for any of those names, the same small image (registry.k8s.io/pause,
whose entrypoint runs until it is told to stop): pods start, stay Running and become Ready.

It speaks just enough of the OCI distribution API (v2) for a pull:

    GET /v2/                                  200, Docker-Distribution-API-Version: registry/2.0
    GET|HEAD /v2/<name>/manifests/<tag>       the image's top manifest or index, whatever the name
    GET|HEAD /v2/<name>/manifests/<digest>    that manifest or index
    GET|HEAD /v2/<name>/blobs/<digest>        that blob

Query strings (containerd's mirrors add `?ns=registry.example`) are ignored; anything else gets a
404 (405 for a write) with the registry's error JSON. The image is an OCI image layout: the tar
that `docker save` writes (Docker 25 or newer) or a directory with index.json and
blobs/sha256/...; it is read into memory, so keep it small.

    python -m tests.support.fake_registry --listen HOST:PORT --image PATH

Standard library only: on kind it runs in a stock python image with the repository mounted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tarfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = INDEX_TYPES + ("application/vnd.oci.image.manifest.v1+json",
                                "application/vnd.docker.distribution.manifest.v2+json")
# /v2/<name>/(manifests|blobs)/<reference>; a name has one or more path components.
ROUTE = re.compile(r"/v2/(?P<name>[^/]+(?:/[^/]+)*)/(?P<kind>manifests|blobs)/(?P<reference>[^/]+)")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Image:
    """One image: its blobs by digest, the media type of each manifest, and what a tag resolves to."""

    blobs: dict[str, bytes]
    media_types: dict[str, str]
    top: str  # digest of the manifest or index every tag resolves to

    def manifest(self, reference: str) -> tuple[bytes, str] | None:
        """(body, media type) of the manifest a tag or digest names, or None."""
        digest = reference if ":" in reference else self.top  # a tag never holds a colon
        media_type = self.media_types.get(digest)
        if media_type not in MANIFEST_TYPES or digest not in self.blobs:
            return None
        return self.blobs[digest], media_type


def _read_layout(files: dict[str, bytes]) -> Image:
    """The image of an OCI image layout given as {path: bytes} (index.json, blobs/sha256/<hex>)."""
    if "index.json" not in files:
        raise ValueError("not an OCI image layout: no index.json (docker save writes one from Docker 25 on)")
    blobs = {}
    for path, data in files.items():
        if path.startswith("blobs/sha256/"):
            digest = "sha256:" + path.rsplit("/", 1)[1]
            if digest_of(data) != digest:
                raise ValueError(f"blob {path} does not match its digest")
            blobs[digest] = data
    index = json.loads(files["index.json"])
    if not index.get("manifests"):
        raise ValueError("index.json lists no image")
    top = index["manifests"][0]
    media_types: dict[str, str] = {}
    _note_media_types(top, blobs, media_types)
    top_digest = top["digest"]
    if top["mediaType"] in INDEX_TYPES:
        top_digest = _present_platforms(top_digest, blobs, media_types)
    if top_digest not in blobs:
        raise ValueError(f"the image's manifest {top_digest} is not among the blobs")
    return Image(blobs, media_types, top_digest)


def _note_media_types(descriptor: dict, blobs: dict[str, bytes], media_types: dict[str, str]) -> None:
    """Record the media type of `descriptor` and of every manifest it reaches."""
    digest, media_type = descriptor["digest"], descriptor.get("mediaType", "")
    if digest not in blobs:
        return
    if not media_type:
        media_type = json.loads(blobs[digest]).get("mediaType", "")
    media_types[digest] = media_type
    if media_type in INDEX_TYPES:
        for child in json.loads(blobs[digest]).get("manifests", []):
            _note_media_types(child, blobs, media_types)


def _present_platforms(digest: str, blobs: dict[str, bytes], media_types: dict[str, str]) -> str:
    """An index whose platform manifests are not all in the layout (`docker save` keeps only the
    platforms pulled) is served as a new index listing only those present: a puller must not pick
    a platform that would 404."""
    index = json.loads(blobs[digest])
    present = [m for m in index.get("manifests", []) if m["digest"] in blobs]
    if len(present) == len(index.get("manifests", [])):
        return digest
    if not present:
        raise ValueError(f"none of the platform manifests of index {digest} is in the layout")
    body = json.dumps({**index, "manifests": present}, separators=(",", ":")).encode()
    reduced = digest_of(body)
    blobs[reduced] = body
    media_types[reduced] = media_types[digest]
    return reduced


def load_image(path: str | Path) -> Image:
    """Read an OCI image layout from a directory or a tar (`docker save -o image.tar IMAGE`)."""
    path = Path(path)
    files: dict[str, bytes] = {}
    if path.is_dir():
        for file in path.rglob("*"):
            if file.is_file():
                files[file.relative_to(path).as_posix()] = file.read_bytes()
    else:
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if member.isfile():
                    files[member.name.removeprefix("./")] = archive.extractfile(member).read()
    return _read_layout(files)


def _error(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "khr-fake-registry"
    image: Image
    quiet = False

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _refuse_write(self) -> None:
        self._send(405, _error("UNSUPPORTED", "this registry is read-only"), "application/json", True)

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse_write

    def _answer(self, body: bool) -> None:
        path = urlsplit(self.path).path
        if path in ("/v2", "/v2/"):
            self._send(200, b"{}", "application/json", body)
            return
        route = ROUTE.fullmatch(path)
        if not route:
            self._send(404, _error("NAME_UNKNOWN", f"no route for {path}"), "application/json", body)
            return
        reference = route["reference"]
        if route["kind"] == "manifests":
            found = self.image.manifest(reference)
            if found is None:
                self._send(404, _error("MANIFEST_UNKNOWN", f"manifest unknown: {reference}"), "application/json",
                           body)
                return
            data, media_type = found
        else:
            data = self.image.blobs.get(reference)
            if data is None:
                self._send(404, _error("BLOB_UNKNOWN", f"blob unknown: {reference}"), "application/json", body)
                return
            media_type = "application/octet-stream"
        self._send(200, data, media_type, body, digest=digest_of(data))

    def _send(self, status: int, data: bytes, media_type: str, body: bool, digest: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(data)))
        if digest:
            self.send_header("Docker-Content-Digest", digest)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(host: str, port: int, image: Image, quiet: bool = False) -> ThreadingHTTPServer:
    """A server bound to HOST:PORT (port 0: any free port) serving `image`; call serve_forever()."""
    handler = type("Handler", (_Handler,), {"image": image, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve from a daemon thread (tests); a short poll interval makes shutdown() quick."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_registry", description=__doc__.split("\n")[0])
    parser.add_argument("--listen", required=True, metavar="HOST:PORT", help="address to bind, e.g. 127.0.0.1:5000")
    parser.add_argument("--image", required=True, metavar="PATH",
                        help="OCI image layout: a `docker save` tar or a directory")
    parser.add_argument("--quiet", action="store_true", help="do not log each request to stderr")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--listen wants HOST:PORT, not {args.listen!r}")
    try:
        image = load_image(args.image)
    except (OSError, ValueError, tarfile.TarError, json.JSONDecodeError) as exc:
        print(f"fake_registry: cannot read {args.image}: {exc}", file=sys.stderr)
        return 1
    server = make_server(host, int(port), image, quiet=args.quiet)
    print(f"fake_registry: serving {image.top} ({image.media_types[image.top]}) under every name on "
          f"{args.listen}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
