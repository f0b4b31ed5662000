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
import warnings
from typing import Iterator, Mapping
from urllib.parse import urlsplit

from kubectl_harness_rollback.cluster import kubeconfig
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.display import shown
from kubectl_harness_rollback.errors import ConfigError


@contextlib.contextmanager
def private_directory() -> Iterator[str]:
    """A directory only this user can read, removed when the block ends however it ends (an error,
    Ctrl-C, SIGTERM: cli.main turns those into KeyboardInterrupt). A client key given as data is
    written to a file there (Python's ssl loads keys from files only) and loaded into the
    connection's SSL context before the block ends, so no file outlives connect()."""
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="kubectl-harness-rollback-")  # mode 0700
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def private_file(directory: str, content: bytes) -> str:
    """A new file in `directory` (from private_directory) holding `content`, readable by its owner only."""
    import tempfile

    descriptor, path = tempfile.mkstemp(dir=directory)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    return path


# Certificate and key data of the kubeconfig, and the path keys they stand for (clientcmd's).
_DATA_KEYS = (("clusters", "cluster", "certificate-authority-data", "certificate-authority"),
              ("users", "user", "client-certificate-data", "client-certificate"),
              ("users", "user", "client-key-data", "client-key"))


def _data(resolved: kubeconfig.ResolvedConfig) -> Iterator[tuple[dict, str, dict, str, str]]:
    """(entry, inner, body, data key, path key) of each certificate or key data of the context."""
    context = (kubeconfig.named(resolved.config, "contexts", resolved.context) or {}).get("context") or {}
    chosen = {"clusters": context.get("cluster"), "users": context.get("user")}
    for section, inner, data_key, path_key in _DATA_KEYS:
        entry = kubeconfig.named(resolved.config, section, chosen[section] or "") or {}
        body = entry.get(inner)
        if isinstance(body, dict) and body.get(data_key):
            yield entry, inner, body, data_key, path_key


def holds_data(resolved: kubeconfig.ResolvedConfig) -> bool:
    """Whether the context gives a certificate or key as data, which needs a private directory."""
    return any(True for _ in _data(resolved))


def data_to_private_files(resolved: kubeconfig.ResolvedConfig, directory: str) -> None:
    """Write the context's certificate and key data to files of its own in `directory`, and name
    them instead: the loader would write them to files it shares by content across connections
    (a module-level cache), which another thread's connection could be removing meanwhile."""
    for entry, inner, body, data_key, path_key in list(_data(resolved)):
        try:
            content = base64.b64decode(str(body.pop(data_key)), validate=True)
        except ValueError:
            raise ConfigError(f"kubeconfig {inner} '{shown(entry.get('name'))}': {data_key} is not base64") from None
        body[path_key] = private_file(directory, content)


SOCKS_SCHEMES = ("socks4", "socks4a", "socks5", "socks5h")


@data_class
class Settings:
    """What the connection needs of the kubeconfig, named as the kubernetes client's Configuration
    names it (either may be given to pool_for)."""

    host: str = "http://localhost"
    verify_ssl: bool = True
    ssl_ca_cert: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_server_name: str | None = None
    proxy: str | None = None
    no_proxy: str | None = None
    proxy_headers: dict | None = None
    assert_hostname: bool | None = None


def environment_proxies(host: str, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(proxy, no_proxy) for `host` from the environment, as urllib's getproxies reads it (the
    kubernetes client's rule): `<scheme>_proxy`, else `all_proxy`; a lower-case name wins."""
    found: dict[str, str] = {}
    for name, value in env.items():
        if value and name.lower().endswith("_proxy"):
            found[name.lower()[:-6]] = value
    if "REQUEST_METHOD" in env:  # a CGI script: HTTP_PROXY may come from a request's Proxy header
        found.pop("http", None)
    for name, value in env.items():
        if name.endswith("_proxy"):
            if value:
                found[name.lower()[:-6]] = value
            else:
                found.pop(name.lower()[:-6], None)
    scheme = host.split("://", 1)[0].lower()
    return found.get(scheme) or found.get("all"), found.get("no")


def bypasses_proxy(url: str, no_proxy: str) -> bool:
    """Whether NO_PROXY's rules exempt `url`: a host, a domain suffix, host:port, an IP or a
    CIDR, or `*` (the kubernetes client's should_bypass_proxies)."""
    import ipaddress

    parts = urlsplit(url)
    if not parts.hostname:
        return True
    host, host_and_port = parts.hostname.lower(), parts.netloc.lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (entry.strip().lower() for entry in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
        entry = entry.lstrip(".")
        if host == entry or host.endswith("." + entry) or host_and_port == entry:
            return True
    return False


def _proxy(configuration) -> str | None:
    """The proxy to use for the API server, if any; a SOCKS proxy only when PySocks is installed."""
    proxy = getattr(configuration, "proxy", None)
    if not proxy:
        return None
    no_proxy = getattr(configuration, "no_proxy", None)
    if no_proxy and bypasses_proxy(configuration.host, no_proxy):
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

    verify = bool(configuration.verify_ssl)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = verify and getattr(configuration, "assert_hostname", None) is not False
    context.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
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
    """The transport to the API server: TLS, client certificate and proxy as the kubeconfig says,
    with the keys held in memory. The standard library's http.client carries it, but through an
    https or SOCKS proxy, which urllib3 reaches."""
    from kubectl_harness_rollback.cluster.connections import Connections

    https = configuration.host.startswith("https")
    context = _ssl_context(configuration) if https else None
    proxy = _proxy(configuration)
    if proxy is None or proxy.split("://", 1)[0].lower() == "http":
        return Connections(configuration.host, context, getattr(configuration, "tls_server_name", None), proxy)
    return _urllib3_transport(configuration, context, proxy)


def _urllib3_transport(configuration, context, proxy: str):
    """urllib3's pool through an https or SOCKS proxy (what the client's RESTClientObject builds,
    but with the keys in memory)."""
    import urllib3

    verify = bool(configuration.verify_ssl)
    args = {"cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE", "retries": 0, "maxsize": 4}
    if context is not None:
        args["ssl_context"] = context
        if getattr(configuration, "tls_server_name", None):
            args["server_hostname"] = configuration.tls_server_name
        if getattr(configuration, "assert_hostname", None) is not None:
            args["assert_hostname"] = configuration.assert_hostname
    if not verify:
        # kubectl says nothing about --insecure-skip-tls-verify on each request; urllib3 would warn
        # on every one of them.
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    if proxy.split("://", 1)[0].lower() in SOCKS_SCHEMES:
        from urllib3.contrib.socks import SOCKSProxyManager

        manager = SOCKSProxyManager(proxy, **args)
    else:
        manager = urllib3.ProxyManager(proxy, proxy_headers=getattr(configuration, "proxy_headers", None), **args)

    def send(method, url, body, headers, timeout, stream):
        header_dict = urllib3.HTTPHeaderDict()
        for key, value in headers:
            header_dict.add(key, value)
        # kubectl does not retry a refused connection; neither do we (fail fast at 3 a.m.). The body
        # is left unread: the request layer reads it within the request's timeout.
        return manager.request(method, url, body=body, headers=header_dict, preload_content=False,
                               timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]), retries=0,
                               redirect=False)

    return send
