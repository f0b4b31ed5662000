"""The kubeconfig's common credential and TLS forms, read without the kubernetes client.

Token, token file, basic auth, client certificate and key, CA, insecure-skip-tls-verify,
tls-server-name and proxy-url: what the client's KubeConfigLoader makes of them, field by field
(kube_config.py: FileOrData, _load_cluster_info, _load_authentication), so that a command on a
common kubeconfig never imports the client.
An exec credential plugin, or a kubeconfig the loader would refuse in its own words, goes to
the loader (client.py); `settings` says which by returning None. So does the pod's service
account (`service_account`), which the client's in-cluster loader reads only when a file is
missing or empty, to say so in its words.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Callable, Mapping

from kubectl_harness_rollback.cluster import header_values, kubeconfig
from kubectl_harness_rollback.cluster.pool import Settings, environment_proxies
from kubectl_harness_rollback.display import shown
from kubectl_harness_rollback.errors import ConfigError, PluginError

# The cluster and user fields the loader reads; a null one is an error in its words.
_CLUSTER_FIELDS = ("server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
                   "tls-server-name", "proxy-url")
_USER_FIELDS = ("client-certificate", "client-certificate-data", "client-key", "client-key-data", "token",
                "tokenFile", "username", "password")


def user_token(user: Mapping) -> str | None:
    """`token`, else the content of `tokenFile` with surrounding white space trimmed, as client-go
    reads it (transport/token_source.go: strings.TrimSpace); either must be sendable as a header."""
    if user.get("token"):
        token, where = str(user["token"]), "token"
    elif user.get("tokenFile"):
        path = str(user["tokenFile"])
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                token = handle.read().strip()
        except OSError as exc:
            raise ConfigError(f'failed to read token file "{shown(path)}": {exc.strerror}') from None
        if not token:
            raise ConfigError(f'read empty token from file "{shown(path)}"')
        where = f'token file "{shown(path)}"'
    else:
        return None
    wrong = header_values.problem(f"the kubeconfig user's {where}", token, secret=True)
    if wrong:
        raise ConfigError(wrong)
    return f"Bearer {token}"


def basic_auth(user: Mapping) -> str | None:
    """Basic authentication encoded as UTF-8, as Go does (the client's Latin-1 fails on others)."""
    if "username" in user and "password" in user:
        pair = f"{user['username']}:{user['password']}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    return None


def settings(resolved: kubeconfig.ResolvedConfig, env: Mapping[str, str]) -> tuple[Settings, dict[str, str]] | None:
    """(TLS and proxy settings, credential headers) of the context, or None when the kubernetes
    client must read it (an exec plugin, or a shape the loader refuses with a message of its own).
    Certificate and key data are already files (pool.data_to_private_files)."""
    config = resolved.config
    for section in ("clusters", "contexts", "users"):
        if not all(isinstance(entry, dict) and "name" in entry for entry in config.get(section) or []):
            return None
    context = (kubeconfig.named(config, "contexts", resolved.context) or {}).get("context")
    if not isinstance(context, dict) or not context.get("cluster"):
        return None
    cluster = (kubeconfig.named(config, "clusters", context["cluster"]) or {}).get("cluster")
    entry = kubeconfig.named(config, "users", context["user"]) if context.get("user") else None
    user = (entry or {}).get("user") or {}
    if not isinstance(cluster, dict) or not isinstance(user, dict) or "exec" in user or "auth-provider" in user:
        return None
    if any(key in cluster and cluster[key] is None for key in _CLUSTER_FIELDS) or \
            any(key in user and user[key] is None for key in _USER_FIELDS):
        return None
    credential = user_token(user) or basic_auth(user)  # before the files, as the loader reads them
    result = Settings()
    if "server" in cluster:
        result.host = str(cluster["server"]).rstrip("/")
        if result.host.startswith("https"):
            result.ssl_ca_cert = _file_or_data(cluster, "certificate-authority", resolved.context)
            result.cert_file = _file_or_data(user, "client-certificate", resolved.context)
            result.key_file = _file_or_data(user, "client-key", resolved.context)
    if "insecure-skip-tls-verify" in cluster:
        result.verify_ssl = not cluster["insecure-skip-tls-verify"]
    if "tls-server-name" in cluster:
        result.tls_server_name = cluster["tls-server-name"]
    result.proxy, result.no_proxy = environment_proxies(result.host, env)
    result.proxy = kubeconfig.proxy_url(resolved) or result.proxy
    return result, ({"authorization": credential} if credential else {})


def _file_or_data(body: Mapping, key: str, context: str) -> str | None:
    """The loader's FileOrData(...).as_file() once data is a file: the `-data` field wins when
    present (empty: nothing), else the file, which must exist."""
    if f"{key}-data" in body:
        return None  # data was present but empty: pool.data_to_private_files leaves only empty data
    if key not in body:
        return None
    path = os.path.normpath(str(body[key]))
    if not os.path.isfile(path):
        raise ConfigError(f"kubeconfig context '{shown(context)}' cannot be used: File does not exist: {shown(path)}")
    return path


# Where the kubelet mounts a pod's service account (the client's incluster_config names the same).
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
# The client's in-cluster loader reads the token again after a minute: the kubelet rotates it in place.
TOKEN_REREAD_SECONDS = 60.0


def service_account(env: Mapping[str, str]) -> tuple[Settings, Callable[[], dict[str, str]]] | None:
    """(TLS and proxy settings, credential headers) of the pod's service account, as the client's
    InClusterConfigLoader makes them; None when a variable or file it needs is missing, empty or
    unreadable, so that the loader says which."""
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port or not os.path.isfile(SERVICE_ACCOUNT_TOKEN) or not os.path.isfile(SERVICE_ACCOUNT_CA):
        return None
    try:
        token = _service_account_token()
        with open(SERVICE_ACCOUNT_CA) as handle:  # the loader's encoding (the locale's)
            if not handle.read():
                return None
    except (OSError, ValueError, PluginError):  # ValueError: UnicodeDecodeError
        return None
    result = Settings(host="https://" + (f"[{host}]:{port}" if ":" in host or "%" in host else f"{host}:{port}"),
                      ssl_ca_cert=SERVICE_ACCOUNT_CA)
    result.proxy, result.no_proxy = environment_proxies(result.host, env)
    return result, _RereadToken(token)


def _service_account_token() -> str:
    with open(SERVICE_ACCOUNT_TOKEN) as handle:  # the loader's encoding (the locale's)
        content = handle.read()
    if not content:
        # What the client's loader raises here, which reaches the user as an unexpected error.
        raise PluginError("unexpected ConfigException: Token file exists but empty.")
    return content


class _RereadToken:
    """The Authorization header of the service account's token, read again once it is a minute old
    (a failed read fails the request, as the client's refresh hook does)."""

    def __init__(self, token: str):
        self._token, self._read_at = token, time.monotonic()

    def __call__(self) -> dict[str, str]:
        if time.monotonic() - self._read_at >= TOKEN_REREAD_SECONDS:
            self._token, self._read_at = _service_account_token(), time.monotonic()
        # Stripped as client.py strips the client's header: a token file ends in a newline.
        return {"authorization": f"bearer {self._token}".strip()}
