"""Kubeconfig loading with kubectl's rules, as pure functions of the files' contents.

kubectl (client-go clientcmd) reads `--kubeconfig` alone when it is given, else every file
listed in KUBECONFIG, else ~/.kube/config. When several files are merged, the first file
that sets a value wins: a named cluster, context or user, and `current-context` too. The
Python client takes `current-context` from the first file only, so a KUBECONFIG whose first
file has no current-context silently picks nothing; we merge ourselves to behave like kubectl.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import field
from typing import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.display import shown
from kubectl_harness_rollback.errors import ConfigError

DEFAULT_NAMESPACE = "default"
# kubectl waits for an answer forever unless --request-timeout is given; a rollback must not
# hang on an API server that accepts connections and never answers, so ours has a default.
DEFAULT_REQUEST_TIMEOUT = 30.0

# Fields whose values are file paths, resolved against the directory of the file that set
# them (clientcmd's ResolvePaths); a merged dict no longer knows where it came from.
_CLUSTER_PATH_KEYS = ("certificate-authority",)
_USER_PATH_KEYS = ("client-certificate", "client-key", "tokenFile")


@data_class(frozen=True)
class ConnectionFlags:
    """kubectl's connection flags, as given on the command line (None when not given)."""

    kubeconfig: str | None = None
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    namespace: str | None = None
    server: str | None = None
    token: str | None = None
    certificate_authority: str | None = None
    insecure_skip_tls_verify: bool = False
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    # Seconds; None when not given (DEFAULT_REQUEST_TIMEOUT applies), 0 for no timeout.
    request_timeout: float | None = None
    # -v N: 6 and above log each request on stderr (rest.py).
    verbosity: int = 0


@data_class
class ResolvedConfig:
    """A single kubeconfig dict with exactly the context to use, plus the namespace."""

    config: dict
    context: str
    namespace: str
    namespace_explicit: bool
    files: list[str] = field(default_factory=list)


# kubectl (client-go) builds these auth-provider plugins in; gcp and azure only say that they were
# removed (client-go plugin/pkg/client/auth/{gcp,azure}), with the exec plugin to use instead.
# oidc still works in kubectl, but the Python client's version of it fetches the issuer's discovery
# with TLS verification off and then sends the refresh token and client secret to whatever token
# endpoint that discovery names: refused as well, with the exec plugin that does it properly.
REMOVED_AUTH_PROVIDERS = {
    "gcp": 'the gcp auth plugin has been removed: use the "gke-gcloud-auth-plugin" kubectl/client-go '
           "credential plugin instead (users[].user.exec; see "
           "https://cloud.google.com/blog/products/containers-kubernetes/kubectl-auth-changes-in-gke)",
    "azure": "the azure auth plugin has been removed: use the https://github.com/Azure/kubelogin "
             "kubectl/client-go credential plugin instead (users[].user.exec; see "
             "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins)",
    "oidc": "the oidc auth plugin is not supported by kubectl harness-rollback: use the "
            "https://github.com/int128/kubelogin kubectl/client-go credential plugin instead "
            "(users[].user.exec: kubectl oidc-login get-token; see "
            "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins)",
}


_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.%A-Za-z]*")


def server_url(server: str, tls: bool) -> str:
    """The API server's URL as client-go's DefaultServerURL makes it: an address without a scheme
    gets https:// when the cluster has TLS settings (`tls`), else http://. Raises ValueError
    (one sentence) for anything that is not scheme://host[:port][/path]."""
    text = server.strip()
    wrong = f"'{shown(server, limit=80)}' is not an API server URL (https://HOST[:PORT][/PATH])"
    if not text.isascii() or not text.isprintable() or " " in text:
        raise ValueError(wrong)
    try:
        parts = urlsplit(text)
        if not parts.scheme or not parts.netloc:
            text = ("https://" if tls else "http://") + text
            parts = urlsplit(text)
        parts.port
    except ValueError:
        raise ValueError(wrong) from None
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.hostname or "") or parts.query \
            or parts.fragment or "@" in parts.netloc:
        raise ValueError(wrong)
    return text


def _cluster_has_tls(cluster: dict, user: dict) -> bool:
    """client-go's defaultTLS: a CA, a client certificate or insecure-skip-tls-verify is set."""
    return any(cluster.get(k) for k in ("certificate-authority", "certificate-authority-data",
                                        "insecure-skip-tls-verify")) or \
        any(user.get(k) for k in ("client-certificate", "client-certificate-data"))


def _check_user(name: str, body: dict) -> None:
    """Refuse, before any request, what kubectl refuses of a kubeconfig user."""
    provider = body.get("auth-provider")
    if provider:
        kind = provider.get("name") if isinstance(provider, dict) else None
        if kind in REMOVED_AUTH_PROVIDERS:
            raise ConfigError(f"kubeconfig user '{shown(name)}': {REMOVED_AUTH_PROVIDERS[kind]}")
        raise ConfigError(f'kubeconfig user \'{shown(name)}\': no Auth Provider found for name "{shown(kind)}"')


def kubeconfig_paths(flag: str | None, env: Mapping[str, str], home: str) -> list[str]:
    """Which files kubectl would read, in precedence order."""
    if flag:
        return [flag]
    listed = env.get("KUBECONFIG", "")
    if listed:
        seen: list[str] = []
        for path in listed.split(os.pathsep):
            if path and path not in seen:
                seen.append(path)
        return seen
    return [os.path.join(home, ".kube", "config")]


def _absolute(path: str, base_dir: str) -> str:
    return path if not path or os.path.isabs(path) else os.path.join(base_dir, path)


def _resolve_paths(doc: dict, base_dir: str) -> dict:
    doc = copy.deepcopy(doc)
    for section, inner, keys in (("clusters", "cluster", _CLUSTER_PATH_KEYS), ("users", "user", _USER_PATH_KEYS)):
        for entry in doc.get(section) or []:
            body = (entry or {}).get(inner) or {}
            for key in keys:
                if isinstance(body.get(key), str):
                    body[key] = _absolute(body[key], base_dir)
    return doc


def merge_kubeconfigs(docs: Iterable[tuple[str, dict]]) -> dict:
    """Merge parsed kubeconfig files (path, content) in order; the first value set wins."""
    merged: dict = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": []}
    current = ""
    for path, doc in docs:
        if not doc:
            continue
        doc = _resolve_paths(doc, os.path.dirname(os.path.abspath(path)))
        if not current and doc.get("current-context"):
            current = doc["current-context"]
        for section in ("clusters", "contexts", "users"):
            known = {entry.get("name") for entry in merged[section]}
            for entry in doc.get(section) or []:
                if entry and entry.get("name") not in known:
                    merged[section].append(entry)
                    known.add(entry.get("name"))
    merged["current-context"] = current
    return merged


def named(doc: dict, section: str, name: str) -> dict | None:
    """The entry called `name` of a kubeconfig section (clusters, contexts, users), or None."""
    for entry in doc.get(section) or []:
        if entry.get("name") == name:
            return entry
    return None


def resolve(merged: dict, flags: ConnectionFlags, files: list[str]) -> ResolvedConfig:
    """Apply the connection flags to a merged kubeconfig, the way kubectl's overrides do."""
    config = copy.deepcopy(merged)
    where = ", ".join(files) or "(none)"
    context_name = flags.context or config.get("current-context") or ""
    if not context_name:
        raise ConfigError(
            f"no current context in kubeconfig ({where}); pass --context or run "
            "'kubectl config use-context NAME'"
        )
    context = named(config, "contexts", context_name)
    if context is None:
        raise ConfigError(f'context "{context_name}" does not exist in kubeconfig ({where})')
    body = context.setdefault("context", {}) or {}
    context["context"] = body
    if flags.cluster:
        if named(config, "clusters", flags.cluster) is None:
            raise ConfigError(f'cluster "{flags.cluster}" does not exist in kubeconfig ({where})')
        body["cluster"] = flags.cluster
    if flags.user:
        if named(config, "users", flags.user) is None:
            raise ConfigError(f'user "{flags.user}" does not exist in kubeconfig ({where})')
        body["user"] = flags.user
    cluster = named(config, "clusters", body.get("cluster", ""))
    if cluster is None and not flags.server:
        raise ConfigError(
            f'context "{context_name}" names cluster "{body.get("cluster", "")}", which is not in kubeconfig ({where})'
        )
    if cluster is None:
        cluster = {"name": "--server", "cluster": {}}
        config["clusters"].append(cluster)
        body["cluster"] = cluster["name"]
    cluster_body = cluster.setdefault("cluster", {})
    if flags.server:
        cluster_body["server"] = flags.server
    if flags.certificate_authority:
        cluster_body["certificate-authority"] = os.path.abspath(flags.certificate_authority)
        cluster_body.pop("certificate-authority-data", None)
    if flags.insecure_skip_tls_verify:
        cluster_body["insecure-skip-tls-verify"] = True
        cluster_body.pop("certificate-authority", None)
        cluster_body.pop("certificate-authority-data", None)
    user = named(config, "users", body.get("user", ""))
    if user is None:
        user = {"name": body.get("user") or "--token", "user": {}}
        config["users"].append(user)
        body["user"] = user["name"]
    if flags.token:
        # A token flag replaces every other credential, as in kubectl.
        user["user"] = {"token": flags.token}
    user_body = user.get("user") or {}
    if not isinstance(user_body, dict):
        raise ConfigError(f"kubeconfig user '{shown(user.get('name'))}' is not a mapping ({where})")
    _check_user(str(user.get("name")), user_body)
    if cluster_body.get("server"):
        try:
            cluster_body["server"] = server_url(str(cluster_body["server"]), _cluster_has_tls(cluster_body, user_body))
        except ValueError as exc:
            raise ConfigError(f"cluster '{shown(cluster.get('name'))}' of kubeconfig ({where}): server {exc}") from None
    namespace = flags.namespace or body.get("namespace") or DEFAULT_NAMESPACE
    config["current-context"] = context_name
    return ResolvedConfig(config, context_name, namespace, bool(flags.namespace), files)


def proxy_url(resolved: ResolvedConfig) -> str | None:
    """The `proxy-url` of the context's cluster (read here: not every client version's loader does)."""
    context = named(resolved.config, "contexts", resolved.context) or {}
    cluster = named(resolved.config, "clusters", (context.get("context") or {}).get("cluster", "")) or {}
    value = (cluster.get("cluster") or {}).get("proxy-url")
    return str(value) if value else None


def context_names(flags: ConnectionFlags, env: Mapping[str, str], home: str,
                  read_yaml: Callable[[str], dict | None]) -> list[str]:
    """The contexts of the kubeconfig files kubectl would read, sorted (for completing --context)."""
    names = set()
    for path in kubeconfig_paths(flags.kubeconfig, env, home):
        doc = read_yaml(path)
        if isinstance(doc, dict):
            names.update(c.get("name") for c in doc.get("contexts") or [] if isinstance(c, dict) and c.get("name"))
    return sorted(names)


def load(flags: ConnectionFlags, env: Mapping[str, str], home: str,
         read_yaml: Callable[[str], dict | None]) -> ResolvedConfig:
    """Read the kubeconfig files kubectl would read and resolve the flags against them.

    `read_yaml(path)` returns the parsed file or None when it does not exist; injected so
    that tests can pass files from memory.
    """
    paths = kubeconfig_paths(flags.kubeconfig, env, home)
    docs = []
    for path in paths:
        doc = read_yaml(path)
        if doc is None:
            if flags.kubeconfig:
                raise ConfigError(f"kubeconfig file '{path}' does not exist")
            continue  # kubectl ignores missing files listed in KUBECONFIG
        if not isinstance(doc, dict):
            raise ConfigError(f"kubeconfig file '{path}' is not a kubeconfig (expected a YAML mapping)")
        docs.append((path, doc))
    if not docs and not flags.server:
        raise ConfigError(
            "no kubeconfig found (looked in " + ", ".join(paths) + "); set KUBECONFIG or pass --kubeconfig"
        )
    merged = merge_kubeconfigs(docs)
    if not docs:
        # `--server` alone is enough for kubectl; give it a context to live in.
        merged.update(
            clusters=[{"name": "--server", "cluster": {}}],
            users=[{"name": "--server", "user": {}}],
            contexts=[{"name": "--server", "context": {"cluster": "--server", "user": "--server"}}],
        )
        merged["current-context"] = "--server"
    return resolve(merged, flags, [p for p, _ in docs])
