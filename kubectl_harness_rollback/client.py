"""The connection to the cluster: the one module that builds a kubernetes API client.

It is imported only when a command needs the cluster, so `--help` and `version` never pay
for importing the kubernetes package.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.dateutil import parse_rfc3339
from kubernetes.config.exec_provider import ExecProvider
from kubernetes.config.kube_config import FileOrData, KubeConfigLoader
from kubernetes.client.exceptions import ApiException
from urllib3 import HTTPHeaderDict

from kubectl_harness_rollback import kubeconfig
from kubectl_harness_rollback.errors import ConfigError

# kubectl's dialer gives up connecting after 30 s, even with --request-timeout 0.
CONNECT_TIMEOUT = 30.0


def request_timeouts(request_timeout: float | None) -> tuple[float, float | None]:
    """(connect, read) timeouts of one request for the --request-timeout given (None: not given).

    kubectl waits forever by default; a rollback must not, so a request that was not given a
    timeout gets kubeconfig.DEFAULT_REQUEST_TIMEOUT. `--request-timeout 0` means no read timeout,
    as in kubectl; connecting is bounded all the same.
    """
    if request_timeout is None:
        request_timeout = kubeconfig.DEFAULT_REQUEST_TIMEOUT
    if not request_timeout:
        return CONNECT_TIMEOUT, None
    return min(request_timeout, CONNECT_TIMEOUT), request_timeout


@dataclass
class Kube:
    """What a command needs of the cluster: API groups, the namespace, a request log."""

    api_client: Any
    namespace: str
    namespace_explicit: bool
    context: str
    # (method, path) of every request sent: lets tests assert request counts.
    requests: list[tuple[str, str]] = field(default_factory=list)
    # time.monotonic() by which the whole command must end (rollback's --timeout): no request
    # waits past it, whatever its own timeout. None: each request has only its own.
    deadline: float | None = None

    @cached_property
    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api_client)

    @cached_property
    def apps(self) -> k8s.AppsV1Api:
        return k8s.AppsV1Api(self.api_client)

    @property
    def server(self) -> str:
        return self.api_client.configuration.host

    def call(self, method: Callable, *args: Any, **kwargs: Any) -> dict:
        """Call a generated API method and return the JSON body as plain dicts.

        The library works on dicts (the API's own field names), so the planning code needs
        no client import and its tests build objects as they appear in `kubectl get -o json`.
        """
        response = method(*args, _preload_content=False, **kwargs)
        return json.loads(response.data or b"{}")

    def get_or_none(self, method: Callable, *args: Any, **kwargs: Any) -> dict | None:
        """Like call(), but None when the object does not exist."""
        try:
            return self.call(method, *args, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def list_all(self, method: Callable, *args: Any, page_size: int = 500, **kwargs: Any) -> list[dict]:
        """Every item of a list call, following `continue` tokens page by page."""
        items: list[dict] = []
        token = None
        while True:
            page = self.call(method, *args, limit=page_size, _continue=token, **kwargs)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items


def _read_yaml_file(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle) or {}
    except FileNotFoundError:
        return None
    except yaml.YAMLError as exc:
        raise ConfigError(f"kubeconfig file '{path}' is not valid YAML: {exc.__class__.__name__}") from None


def _within(timeout: Any, deadline: float | None) -> Any:
    """A request timeout (seconds, or (connect, read)) cut to what is left before `deadline`."""
    if deadline is None:
        return timeout
    left = max(deadline - time.monotonic(), 0.001)
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return (min(connect, left) if connect else left, min(read, left) if read else left)


def _instrument(api_client: Any, flags: kubeconfig.ConnectionFlags, kube: "Kube") -> None:
    """Count requests, bound each one in time, and send one header per --as-group.

    The generated client keeps a single value per header name, but the API server reads
    every Impersonate-Group header as one group; so the groups are added here, at the edge.
    """
    rest = api_client.rest_client
    inner = rest.request
    timeouts = request_timeouts(flags.request_timeout)

    # kubernetes >= 37 calls request(method, url, headers=, body=, post_params=, _request_timeout=);
    # the pure-Python clients up to 35 (the one the release archive vendors) also pass
    # query_params= and _preload_content=: forward whatever else comes, unchanged.
    def request(method, url, *args, headers=None, _request_timeout=None, **kwargs):
        kube.requests.append((method.upper(), urlsplit(url).path))
        if flags.impersonate_groups:
            headers = HTTPHeaderDict(headers or {})
            for group in flags.impersonate_groups:
                headers.add("Impersonate-Group", group)
        if _request_timeout is None:
            _request_timeout = timeouts
        _request_timeout = _within(_request_timeout, kube.deadline)
        return inner(method, url, *args, headers=headers, _request_timeout=_request_timeout, **kwargs)

    # Assigned on the instance: RESTClientObject.GET/POST/... call self.request.
    rest.request = request


def connect(flags: kubeconfig.ConnectionFlags, env: Mapping[str, str] | None = None) -> Kube:
    """Build a client from kubeconfig and flags exactly as kubectl would."""
    env = os.environ if env is None else env
    configuration = k8s.Configuration()
    try:
        resolved = kubeconfig.load(flags, env, os.path.expanduser("~"), _read_yaml_file)
    except ConfigError:
        # kubectl's last resort: the in-cluster service account (a pipeline running in a pod).
        if flags.kubeconfig or "KUBERNETES_SERVICE_HOST" not in env:
            raise
        k8s_config.load_incluster_config(client_configuration=configuration)
        namespace = flags.namespace or _incluster_namespace()
        resolved = kubeconfig.ResolvedConfig({}, "in-cluster", namespace, bool(flags.namespace))
    else:
        try:
            loader = _KubeConfigLoader(config_dict=resolved.config, active_context=resolved.context)
            loader.load_and_set(configuration)
        except k8s_config.ConfigException as exc:
            raise ConfigError(f"kubeconfig context '{resolved.context}' cannot be used: {exc}") from None
    # kubectl does not retry a refused connection; neither do we (fail fast at 3 a.m.).
    configuration.retries = 0
    api_client = k8s.ApiClient(configuration)
    api_client.user_agent = "kubectl-harness_rollback"
    if flags.impersonate:
        api_client.set_default_header("Impersonate-User", flags.impersonate)
    kube = Kube(api_client, resolved.namespace, resolved.namespace_explicit, resolved.context)
    _instrument(api_client, flags, kube)
    return kube


class _KubeConfigLoader(KubeConfigLoader):
    """The Python client's loader, but a failed exec credential plugin stops, as in kubectl.

    The client only logs the failure and goes on without credentials: every request would then
    be sent as system:anonymous and fail as "forbidden", far from the cause. So the plugin runs
    here, and its ExecCredential is taken as the client takes it.
    """

    def _load_from_exec_plugin(self):
        if "exec" not in self._user:
            return None
        exec_config = self._user["exec"]
        command = exec_config.safe_get("command") or "(no command)"
        base_path = self._get_base_path(self._cluster.path)
        try:
            status = ExecProvider(exec_config, base_path, self._cluster).run()
        except k8s_config.ConfigException as exc:
            raise ConfigError(f"getting credentials: {_exec_failure(command, str(exc))}") from None
        except FileNotFoundError:
            raise ConfigError(f"getting credentials: exec: executable {command} not found; install it, or fix "
                              "users[].user.exec.command in the kubeconfig") from None
        except OSError as exc:
            raise ConfigError(f"getting credentials: exec: executable {command} failed: {exc.strerror}") from None
        if not isinstance(status, dict):
            raise ConfigError(f"getting credentials: exec: executable {command} returned no credential status")
        if status.get("token"):
            self.token = f"Bearer {status['token']}"
        elif status.get("clientCertificateData") and status.get("clientKeyData"):
            for attribute, key in (("cert_file", "clientCertificateData"), ("key_file", "clientKeyData")):
                setattr(self, attribute, FileOrData(
                    status, None, data_key_name=key, file_base_path=base_path, base64_file_content=False,
                    temp_file_path=self._temp_file_path).as_file())
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
