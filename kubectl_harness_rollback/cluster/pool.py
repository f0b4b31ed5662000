"""The connection pool: TLS, client keys in memory, proxies.

The connection pool to the API server: TLS, the client certificate and the proxy as the
kubeconfig says, with every key held in memory.

Python's ssl loads a certificate chain from files only, so certificate and key data are written
to files of a private directory, loaded into the pool's SSL context, and the directory is removed
before the first request (client.connect). urllib3 would otherwise read the files again for each
new connection, and the kubernetes loader leaves them in /tmp until the process exits normally.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import importlib.util
import os
import shutil
import tempfile
import warnings
from typing import Iterator

from kubectl_harness_rollback.cluster import kubeconfig
from kubectl_harness_rollback.display import shown
from kubectl_harness_rollback.errors import ConfigError


@contextlib.contextmanager
def private_directory() -> Iterator[str]:
    """A directory only this user can read, removed when the block ends however it ends (an error,
    Ctrl-C, SIGTERM: cli.main turns those into KeyboardInterrupt). A client key given as data is
    written to a file there (Python's ssl loads keys from files only) and loaded into the
    connection's SSL context before the block ends, so no file outlives connect()."""
    path = tempfile.mkdtemp(prefix="kubectl-harness-rollback-")  # mode 0700
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def private_file(directory: str, content: bytes) -> str:
    """A new file in `directory` (from private_directory) holding `content`, readable by its owner only."""
    descriptor, path = tempfile.mkstemp(dir=directory)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return path


# Certificate and key data of the kubeconfig, and the path keys they stand for (clientcmd's).
_DATA_KEYS = (("clusters", "cluster", "certificate-authority-data", "certificate-authority"),
              ("users", "user", "client-certificate-data", "client-certificate"),
              ("users", "user", "client-key-data", "client-key"))


def data_to_private_files(resolved: kubeconfig.ResolvedConfig, directory: str) -> None:
    """Write the context's certificate and key data to files of its own in `directory`, and name
    them instead: the loader would write them to files it shares by content across connections
    (a module-level cache), which another thread's connection could be removing meanwhile."""
    context = (kubeconfig.named(resolved.config, "contexts", resolved.context) or {}).get("context") or {}
    chosen = {"clusters": context.get("cluster"), "users": context.get("user")}
    for section, inner, data_key, path_key in _DATA_KEYS:
        entry = kubeconfig.named(resolved.config, section, chosen[section] or "") or {}
        body = entry.get(inner)
        if not isinstance(body, dict) or not body.get(data_key):
            continue
        try:
            content = base64.b64decode(str(body.pop(data_key)), validate=True)
        except ValueError:
            raise ConfigError(f"kubeconfig {inner} '{shown(entry.get('name'))}': {data_key} is not base64") from None
        body[path_key] = private_file(directory, content)


SOCKS_SCHEMES = ("socks4", "socks4a", "socks5", "socks5h")


def _proxy(configuration) -> str | None:
    """The proxy to use for the API server, if any; a SOCKS proxy only when PySocks is installed."""
    proxy = getattr(configuration, "proxy", None)
    if not proxy:
        return None
    no_proxy = getattr(configuration, "no_proxy", None)
    if no_proxy:
        bypass = getattr(importlib.import_module("kubernetes.client.rest"), "should_bypass_proxies", None)
        if bypass is not None and bypass(configuration.host, no_proxy):
            return None
    scheme = str(proxy).split("://", 1)[0].lower() if "://" in str(proxy) else ""
    if scheme in SOCKS_SCHEMES and importlib.util.find_spec("socks") is None:
        raise ConfigError(f"proxy {_proxy_address(proxy)}: a {scheme} proxy needs the optional PySocks package "
                          "(urllib3's socks extra), which is not installed; install it next to the plugin "
                          "(pip install PySocks) or use an http(s) proxy")
    if scheme not in SOCKS_SCHEMES + ("http", "https"):
        raise ConfigError(f"proxy {_proxy_address(proxy)}: not an http, https or socks5 proxy URL")
    return proxy


def _proxy_address(proxy: str) -> str:
    """scheme://host:port of a proxy URL, without the user and password it may carry."""
    scheme, _, rest = str(proxy).partition("://")
    return shown(f"{scheme}://{rest.rpartition('@')[2]}" if rest else proxy, limit=80)


def _ssl_context(configuration):
    """The SSL context of the connection, with the CA and the client certificate loaded now: the
    files written for them can be removed as soon as it is built."""
    import ssl

    from urllib3.util.ssl_ import create_urllib3_context

    verify = bool(configuration.verify_ssl)
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE)
    try:
        if verify and configuration.ssl_ca_cert:
            context.load_verify_locations(cafile=configuration.ssl_ca_cert)
        elif verify and getattr(configuration, "ca_cert_data", None):
            context.load_verify_locations(cadata=configuration.ca_cert_data)
        elif verify:
            context.load_default_certs()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the cluster's certificate authority cannot be read: {_ssl_reason(exc)}") from None
    if configuration.cert_file:
        try:
            context.load_cert_chain(configuration.cert_file, configuration.key_file)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"the kubeconfig user's client certificate and key cannot be used: "
                              f"{_ssl_reason(exc)}") from None
    return context


def _ssl_reason(exc: Exception) -> str:
    return getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc.__class__.__name__


def pool_for(configuration):
    """The connection pool: TLS, client certificate and proxy as the kubeconfig says (what the
    client's RESTClientObject builds, but holding the keys in memory rather than in files)."""
    import urllib3

    verify = bool(configuration.verify_ssl)
    args = {"cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE", "retries": 0,
            "maxsize": getattr(configuration, "connection_pool_maxsize", None) or 4}
    if configuration.host.startswith("https"):
        args["ssl_context"] = _ssl_context(configuration)
        if getattr(configuration, "tls_server_name", None):
            args["server_hostname"] = configuration.tls_server_name
        if getattr(configuration, "assert_hostname", None) is not None:
            args["assert_hostname"] = configuration.assert_hostname
    if not verify:
        # kubectl says nothing about --insecure-skip-tls-verify on each request; urllib3 would warn
        # on every one of them (56 lines for a `list -A`).
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    proxy = _proxy(configuration)
    if proxy is None:
        return urllib3.PoolManager(**args)
    if proxy.split("://", 1)[0].lower() in SOCKS_SCHEMES:
        from urllib3.contrib.socks import SOCKSProxyManager

        return SOCKSProxyManager(proxy, **args)
    return urllib3.ProxyManager(proxy, proxy_headers=getattr(configuration, "proxy_headers", None), **args)
