"""kubectl's kubeconfig rules: which files, how they merge, how flags override."""

import os

import pytest

from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags, kubeconfig_paths, load
from kubectl_harness_rollback.errors import ConfigError


def kubeconfig(current=None, clusters=(), contexts=(), users=()):
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": s}} for n, s in clusters],
        "contexts": [{"name": n, "context": dict(c)} for n, c in contexts],
        "users": [{"name": n, "user": dict(u)} for n, u in users],
    }
    if current is not None:
        doc["current-context"] = current
    return doc


def loader(files):
    return lambda path: files.get(path)


HOME = "/home/admin"
PROD = kubeconfig(
    current="prod",
    clusters=[("prod", "https://127.0.0.1:6443")],
    contexts=[("prod", {"cluster": "prod", "user": "admin", "namespace": "shop"})],
    users=[("admin", {"token": "prod-token"})],
)


def test_kubeconfig_flag_beats_environment():
    assert kubeconfig_paths("/x", {"KUBECONFIG": "/a:/b"}, HOME) == ["/x"]


def test_environment_lists_files_in_order_without_duplicates_or_blanks():
    assert kubeconfig_paths(None, {"KUBECONFIG": f"/a{os.pathsep}{os.pathsep}/b{os.pathsep}/a"}, HOME) == ["/a", "/b"]


def test_default_file_in_home():
    assert kubeconfig_paths(None, {}, HOME) == ["/home/admin/.kube/config"]


def test_current_context_from_a_later_file_when_the_first_has_none():
    # The Python client reads current-context from the first file only; kubectl does not.
    first = kubeconfig(clusters=[("dev", "https://127.0.0.1:7443")],
                       contexts=[("dev", {"cluster": "dev", "user": "dev"})], users=[("dev", {"token": "t"})])
    files = {"/first": first, "/second": PROD}
    resolved = load(ConnectionFlags(), {"KUBECONFIG": "/first:/second"}, HOME, loader(files))
    assert resolved.context == "prod"
    assert resolved.namespace == "shop"
    assert resolved.files == ["/first", "/second"]


def test_first_file_that_names_a_cluster_wins():
    shadow = kubeconfig(current="prod", clusters=[("prod", "https://127.0.0.1:9999")])
    files = {"/a": shadow, "/b": PROD}
    resolved = load(ConnectionFlags(), {"KUBECONFIG": "/a:/b"}, HOME, loader(files))
    servers = [c["cluster"]["server"] for c in resolved.config["clusters"] if c["name"] == "prod"]
    assert servers == ["https://127.0.0.1:9999"]


def test_missing_files_in_kubeconfig_are_ignored():
    resolved = load(ConnectionFlags(), {"KUBECONFIG": "/gone:/b"}, HOME, loader({"/b": PROD}))
    assert resolved.context == "prod"


def test_missing_kubeconfig_flag_file_is_an_error():
    with pytest.raises(ConfigError, match="kubeconfig file '/gone' does not exist"):
        load(ConnectionFlags(kubeconfig="/gone"), {}, HOME, loader({}))


def test_no_files_at_all():
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        load(ConnectionFlags(), {}, HOME, loader({}))


def test_no_current_context_says_what_to_do():
    files = {"/a": kubeconfig(clusters=[("c", "https://127.0.0.1:1")])}
    with pytest.raises(ConfigError, match="pass --context"):
        load(ConnectionFlags(), {"KUBECONFIG": "/a"}, HOME, loader(files))


def test_unknown_context():
    with pytest.raises(ConfigError, match='context "nope" does not exist'):
        load(ConnectionFlags(context="nope"), {"KUBECONFIG": "/b"}, HOME, loader({"/b": PROD}))


def test_namespace_flag_overrides_context_namespace():
    resolved = load(ConnectionFlags(namespace="other"), {"KUBECONFIG": "/b"}, HOME, loader({"/b": PROD}))
    assert (resolved.namespace, resolved.namespace_explicit) == ("other", True)


def test_namespace_defaults_to_default():
    doc = kubeconfig(current="c", clusters=[("c", "https://127.0.0.1:1")],
                     contexts=[("c", {"cluster": "c", "user": "u"})], users=[("u", {})])
    resolved = load(ConnectionFlags(), {"KUBECONFIG": "/a"}, HOME, loader({"/a": doc}))
    assert (resolved.namespace, resolved.namespace_explicit) == ("default", False)


def test_cluster_user_server_and_token_flags_override_the_context():
    doc = kubeconfig(
        current="c",
        clusters=[("c", "https://127.0.0.1:1"), ("d", "https://127.0.0.1:2")],
        contexts=[("c", {"cluster": "c", "user": "u"})],
        users=[("u", {"client-certificate": "cert.pem"}), ("v", {"token": "v-token"})],
    )
    flags = ConnectionFlags(cluster="d", user="v")
    resolved = load(flags, {"KUBECONFIG": "/a"}, HOME, loader({"/a": doc}))
    context = next(c for c in resolved.config["contexts"] if c["name"] == "c")["context"]
    assert (context["cluster"], context["user"]) == ("d", "v")

    flags = ConnectionFlags(server="https://127.0.0.1:3", token="override")
    resolved = load(flags, {"KUBECONFIG": "/a"}, HOME, loader({"/a": doc}))
    cluster = next(c for c in resolved.config["clusters"] if c["name"] == "c")["cluster"]
    user = next(u for u in resolved.config["users"] if u["name"] == "u")["user"]
    assert cluster["server"] == "https://127.0.0.1:3"
    assert user == {"token": "override"}


def test_unknown_cluster_or_user_flag():
    with pytest.raises(ConfigError, match='cluster "x" does not exist'):
        load(ConnectionFlags(cluster="x"), {"KUBECONFIG": "/b"}, HOME, loader({"/b": PROD}))
    with pytest.raises(ConfigError, match='user "x" does not exist'):
        load(ConnectionFlags(user="x"), {"KUBECONFIG": "/b"}, HOME, loader({"/b": PROD}))


def test_relative_certificate_paths_resolve_against_their_own_file():
    doc = kubeconfig(current="c", clusters=[("c", "https://127.0.0.1:1")],
                     contexts=[("c", {"cluster": "c", "user": "u"})],
                     users=[("u", {"client-certificate": "certs/me.pem", "client-key": "/abs/key.pem"})])
    doc["clusters"][0]["cluster"]["certificate-authority"] = "ca.pem"
    resolved = load(ConnectionFlags(), {"KUBECONFIG": "/etc/kube/config"}, HOME, loader({"/etc/kube/config": doc}))
    assert resolved.config["clusters"][0]["cluster"]["certificate-authority"] == "/etc/kube/ca.pem"
    user = resolved.config["users"][0]["user"]
    assert (user["client-certificate"], user["client-key"]) == ("/etc/kube/certs/me.pem", "/abs/key.pem")


def test_server_flag_alone_is_enough():
    resolved = load(ConnectionFlags(server="https://127.0.0.1:6443"), {}, HOME, loader({}))
    assert resolved.config["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
