"""The connection to the cluster: the one module that reads the kubeconfig into a request layer.

It is imported only when a command needs the cluster. The common kubeconfig forms and the pod's
service account are read by credentials.py without the kubernetes package; an exec credential
plugin goes to the package's kubeconfig loader, of which only the loader and its configuration
are imported (see _lean_kubernetes).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
import sys
import threading
import types
from typing import Callable, Mapping

from kubectl_harness_rollback import block_yaml
from kubectl_harness_rollback.cluster import credentials, header_values, kubeconfig
from kubectl_harness_rollback.cluster.pool import (
    data_to_private_files,
    holds_data,
    pool_for,
    private_directory,
    private_file,
)
from kubectl_harness_rollback.cluster.rest import CONNECT_TIMEOUT, Rest  # noqa: F401 - CONNECT_TIMEOUT: part of this API
from kubectl_harness_rollback.cluster.rest import request_timeouts as _request_timeouts
from kubectl_harness_rollback.display import shown
from kubectl_harness_rollback.errors import ConfigError
from kubectl_harness_rollback.stand_ins import standing_in

USER_AGENT = "kubectl-harness_rollback"
# A kubeconfig has tens of nodes: a bigger one goes to PyYAML, which reads any size.
KUBECONFIG_BLOCK_NODES = 100_000


def request_timeouts(request_timeout: float | None) -> tuple[float, float | None]:
    """(connect, read) timeouts of one request for the --request-timeout given (None: not given):
    kubeconfig.DEFAULT_REQUEST_TIMEOUT unless told otherwise, 0 no read timeout (as in kubectl)."""
    return _request_timeouts(request_timeout, kubeconfig.DEFAULT_REQUEST_TIMEOUT)


class Kube(Rest):
    """What a command needs of the cluster: the request layer, the namespace, the context."""

    def __init__(self, rest_args: dict, namespace: str, namespace_explicit: bool, context: str):
        super().__init__(**rest_args)
        self.namespace = namespace
        self.namespace_explicit = namespace_explicit
        self.context = context


class _LazyPackage(types.ModuleType):
    """A package registered without running its __init__: a submodule is imported when asked
    for; any other name runs the real __init__ first (so a later `from kubernetes import client`
    of a test or a library still gets everything)."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return importlib.import_module(f"{self.__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{self.__name__}.{name}":
                raise
        if not self.__dict__.get("_khr_loaded"):
            self.__dict__["_khr_loaded"] = True
            exec(self.__spec__.loader.get_code(self.__name__), self.__dict__)
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def _lean_kubernetes() -> None:
    """Import only what the connection needs of the kubernetes package.

    `import kubernetes` runs its __init__, which imports the dynamic client, watch, stream,
    leader election and informers; the client package's __init__ of kubernetes <= 35 (the
    release archive's) imports every generated API class and model. Together they cost more
    than a whole `kubectl get`. The two packages are registered as _LazyPackage instead, and
    the few names the kubeconfig loader takes from `kubernetes.client` are given to it.
    """
    if "kubernetes" in sys.modules:
        return
    for name in ("kubernetes", "kubernetes.client"):
        spec = importlib.util.find_spec(name)
        package = _LazyPackage(name)
        package.__spec__, package.__path__ = spec, list(spec.submodule_search_locations)
        package.__file__, package.__package__, package.__loader__ = spec.origin, name, spec.loader
        sys.modules[name] = package
    sys.modules["kubernetes"].client = sys.modules["kubernetes.client"]
    from kubernetes.client.configuration import Configuration

    def api_client(*args, **kwargs):  # used by the loader's new_client_* helpers only, never here
        from kubernetes.client.api_client import ApiClient

        return ApiClient(*args, **kwargs)

    sys.modules["kubernetes.client"].Configuration = Configuration
    sys.modules["kubernetes.client"].ApiClient = api_client


def _deferred_call(module: str, name: str):
    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call


def _import_loader():
    """kubernetes.config.kube_config, without importing requests and oauthlib (for OIDC
    auth-providers, which kubectl itself dropped in 1.26): they cost more than the rest of the
    connection, and are imported when an OIDC token is refreshed."""
    if "kubernetes.config.kube_config" in sys.modules:
        return sys.modules["kubernetes.config.kube_config"]
    with standing_in("oauthlib", "oauthlib.oauth2", "requests_oauthlib") as placed:
        if "requests_oauthlib" in placed:
            sys.modules["requests_oauthlib"].OAuth2Session = _deferred_call("requests_oauthlib", "OAuth2Session")
        return importlib.import_module("kubernetes.config.kube_config")


def _read_yaml_file(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ConfigError(f"kubeconfig file '{shown(path)}' is not valid YAML: it is not UTF-8 text") from None
    except OSError as exc:  # a directory, no permission
        raise ConfigError(f"kubeconfig file '{shown(path)}' cannot be read: {exc.strerror}") from None
    # The block style kubectl writes is read without PyYAML; anything else by PyYAML (LibYAML's
    # parser when PyYAML was built with it: the same documents, several times faster).
    doc = block_yaml.read(text, max_nodes=KUBECONFIG_BLOCK_NODES)
    if doc is not block_yaml.DECLINED:
        return doc or {}
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"kubeconfig file '{shown(path)}' is not valid YAML: {exc.__class__.__name__}") from None


def _auth_headers(configuration):
    """The credentials' headers, asked for at each request: an exec plugin's token is refreshed
    by the configuration's hook when it expires."""
    def headers() -> dict[str, str]:
        # Stripped as client-go strips a token file (an in-cluster token file re-read here too).
        return {setting["key"]: setting["value"].strip() for setting in configuration.auth_settings().values()
                if setting.get("in") == "header" and setting.get("value")}

    return headers


# Many contexts connect in threads at once: _lean_kubernetes and _import_loader swap modules in
# sys.modules, which must not race.
_KUBERNETES_IMPORT = threading.Lock()


def _import_kubernetes() -> None:
    """What the kubeconfig loader needs of the kubernetes package, imported once, for the first
    kubeconfig that needs it (an exec plugin): the common forms never import it."""
    with _KUBERNETES_IMPORT:
        _lean_kubernetes()
        _import_loader()
        _loader_class()
        importlib.import_module("kubernetes.client.configuration")
        importlib.import_module("kubernetes.client.rest")
        importlib.import_module("kubernetes.client.exceptions")


def import_client() -> None:
    """Import what every connect() needs, in this thread, before several threads connect at once
    (many clusters); the kubernetes package is imported by the first connection that needs it."""
    importlib.import_module("kubectl_harness_rollback.cluster.connections")


def connect(flags: kubeconfig.ConnectionFlags, env: Mapping[str, str] | None = None,
            read_yaml: Callable[[str], dict | None] | None = None) -> Kube:
    """Build a client from kubeconfig and flags exactly as kubectl would. `read_yaml`: how the
    kubeconfig files are read (many clusters parse them once for all their contexts)."""
    env = os.environ if env is None else env
    try:
        resolved = kubeconfig.load(flags, env, os.path.expanduser("~"), read_yaml or _read_yaml_file)
    except ConfigError:
        # kubectl's last resort: the in-cluster service account (a pipeline running in a pod).
        if flags.kubeconfig or "KUBERNETES_SERVICE_HOST" not in env:
            raise
        pod = credentials.service_account(env)
        if pod is not None:
            host, transport, auth_headers = _on_the_stdlib(*pod)
        else:  # the client's loader says what is missing
            _import_kubernetes()
            from kubernetes.client.configuration import Configuration
            from kubernetes.config.incluster_config import load_incluster_config

            configuration = Configuration()
            load_incluster_config(client_configuration=configuration)
            host, transport, auth_headers = configuration.host, pool_for(configuration), _auth_headers(configuration)
        namespace = flags.namespace or _incluster_namespace()
        resolved = kubeconfig.ResolvedConfig({}, "in-cluster", namespace, bool(flags.namespace))
    else:
        common = None if holds_data(resolved) else credentials.settings(resolved, env)
        if common is not None:  # nothing to write to disk: no private directory to make and remove
            host, transport, auth_headers = _on_the_stdlib(common[0], common[1].copy)
        else:
            with private_directory() as scratch:  # the pool loads the keys before it is removed
                data_to_private_files(resolved, scratch)
                common = credentials.settings(resolved, env)
                if common is not None:
                    host, transport, auth_headers = _on_the_stdlib(common[0], common[1].copy)
                else:
                    configuration = _client_configuration(resolved, scratch)
                    host, transport = configuration.host, pool_for(configuration)
                    auth_headers = _auth_headers(configuration)
    headers = [("User-Agent", USER_AGENT)]
    if flags.impersonate:
        # The API server reads every Impersonate-Group header as one group.
        headers += [("Impersonate-User", flags.impersonate)] + [("Impersonate-Group", g) for g in
                                                                 flags.impersonate_groups]
    rest_args = {"host": host, "transport": transport, "auth_headers": auth_headers, "headers": headers,
                 "timeouts": request_timeouts(flags.request_timeout), "verbosity": flags.verbosity}
    return Kube(rest_args, resolved.namespace, resolved.namespace_explicit, resolved.context)


def _on_the_stdlib(settings, auth_headers: Callable[[], dict[str, str]]):
    """(host, transport, auth headers) of a connection credentials.py read, without the client."""
    return settings.host, pool_for(settings), auth_headers


def _client_configuration(resolved: kubeconfig.ResolvedConfig, scratch: str):
    """The kubernetes client's Configuration for a kubeconfig that needs its loader (an exec
    credential plugin), its certificate and key files in `scratch`."""
    _import_kubernetes()  # before anything else of kubernetes.config, whose __init__ imports the loader
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.config_exception import ConfigException

    configuration = Configuration()
    try:
        loader = _loader_class()(config_dict=resolved.config, active_context=resolved.context,
                                 temp_file_path=scratch)
        loader.load_and_set(configuration)
    except ConfigException as exc:
        raise ConfigError(f"kubeconfig context '{shown(resolved.context)}' cannot be used: "
                          f"{shown(exc)}") from None
    configuration.proxy = kubeconfig.proxy_url(resolved) or getattr(configuration, "proxy", None)
    return configuration


@functools.lru_cache(maxsize=None)
def _loader_class() -> type:
    class _KubeConfigLoader(_import_loader().KubeConfigLoader):
        """The Python client's loader, but a failed exec credential plugin stops, as in kubectl.

        The client only logs the failure and goes on without credentials: every request would then
        be sent as system:anonymous and fail as "forbidden", far from the cause. So the plugin runs
        here, and its ExecCredential is taken as the client takes it.
        """

        _load_from_exec_plugin = _load_from_exec_plugin
        _load_auth_provider_token = _load_auth_provider_token
        _load_user_token = _load_user_token
        _load_user_pass_token = _load_user_pass_token

    return _KubeConfigLoader


def _load_auth_provider_token(self):
    """kubeconfig.resolve refuses every auth-provider before the loader runs; never run one here
    (the client's OIDC refresh would send the refresh token where an unverified discovery says)."""
    return None


def _load_user_token(self):
    """credentials.user_token, with the loader's paths (relative to its base path)."""
    user = dict(self._user.value)
    if not user.get("token") and user.get("tokenFile"):
        user["tokenFile"] = os.path.join(self._get_base_path(self._user.path), self._user["tokenFile"])
    token = credentials.user_token(user)
    if token is None:
        return None
    self.token = token
    return True


def _load_user_pass_token(self):
    token = credentials.basic_auth(self._user.value)
    if token is None:
        return None
    self.token = token
    return True


def _load_from_exec_plugin(self):
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.dateutil import parse_rfc3339
    from kubernetes.config.exec_provider import ExecProvider

    if "exec" not in self._user:
        return None
    exec_config = self._user["exec"]
    command = exec_config.safe_get("command") or "(no command)"
    base_path = self._get_base_path(self._cluster.path)
    try:
        status = ExecProvider(exec_config, base_path, self._cluster).run()
    except ConfigException as exc:
        raise ConfigError(f"getting credentials: {_exec_failure(command, str(exc))}") from None
    except FileNotFoundError:
        raise ConfigError(f"getting credentials: exec: executable {command} not found; install it, or fix "
                          "users[].user.exec.command in the kubeconfig") from None
    except OSError as exc:
        raise ConfigError(f"getting credentials: exec: executable {command} failed: {exc.strerror}") from None
    if not isinstance(status, dict):
        raise ConfigError(f"getting credentials: exec: executable {command} returned no credential status")
    if status.get("token"):
        wrong = header_values.problem(f"getting credentials: exec: executable {command} returned a token that",
                                      str(status["token"]), secret=True)
        if wrong:
            raise ConfigError(wrong)
        self.token = f"Bearer {status['token']}"
    elif status.get("clientCertificateData") and status.get("clientKeyData"):
        for attribute, key in (("cert_file", "clientCertificateData"), ("key_file", "clientKeyData")):
            setattr(self, attribute, private_file(self._temp_file_path, str(status[key]).encode()))
    else:
        raise ConfigError(f"getting credentials: exec: executable {command} returned neither a token "
                          "nor a client certificate and key")
    if status.get("expirationTimestamp"):
        self.expiry = parse_rfc3339(status["expirationTimestamp"])
    return True


def _exec_failure(command: str, message: str) -> str:
    """kubectl's wording for a failed exec plugin, on one line (the plugin's stderr shortened)."""
    failed = re.match(r"exec: process returned (-?\d+)\.?\s*(.*)", message, re.DOTALL)
    if not failed:
        return " ".join(message.split())[:300]
    said = " ".join(failed.group(2).split())
    said = said if len(said) <= 200 else said[:197] + "..."
    return f"exec: executable {command} failed with exit code {failed.group(1)}" + (f" ({said})" if said else "")


def _incluster_namespace() -> str:
    try:
        with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace", encoding="utf-8") as handle:
            return handle.read().strip() or kubeconfig.DEFAULT_NAMESPACE
    except OSError:
        return kubeconfig.DEFAULT_NAMESPACE
