"""The connection to the cluster: the one module that builds a kubernetes API client.

It is imported only when a command needs the cluster, so `--help` and `version` never pay
for importing the kubernetes package.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from urllib3 import HTTPHeaderDict

from kubectl_harness_rollback import kubeconfig
from kubectl_harness_rollback.errors import ConfigError


@dataclass
class Kube:
    """What a command needs of the cluster: API groups, the namespace, a request log."""

    api_client: Any
    namespace: str
    namespace_explicit: bool
    context: str
    # (method, path) of every request sent: lets tests assert request counts.
    requests: list[tuple[str, str]] = field(default_factory=list)

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


def _instrument(api_client: Any, flags: kubeconfig.ConnectionFlags, log: list[tuple[str, str]]) -> None:
    """Count requests, apply --request-timeout, and send one header per --as-group.

    The generated client keeps a single value per header name, but the API server reads
    every Impersonate-Group header as one group; so the groups are added here, at the edge.
    """
    rest = api_client.rest_client
    inner = rest.request

    # kubernetes >= 37 calls request(method, url, headers=, body=, post_params=, _request_timeout=);
    # the pure-Python clients up to 35 (the one the release archive vendors) also pass
    # query_params= and _preload_content=: forward whatever else comes, unchanged.
    def request(method, url, *args, headers=None, _request_timeout=None, **kwargs):
        log.append((method.upper(), urlsplit(url).path))
        if flags.impersonate_groups:
            headers = HTTPHeaderDict(headers or {})
            for group in flags.impersonate_groups:
                headers.add("Impersonate-Group", group)
        if _request_timeout is None and flags.request_timeout:
            _request_timeout = flags.request_timeout
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
            loader = k8s_config.kube_config.KubeConfigLoader(
                config_dict=resolved.config, active_context=resolved.context
            )
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
    _instrument(api_client, flags, kube.requests)
    return kube


def _incluster_namespace() -> str:
    try:
        with open("/var/run/secrets/kubernetes.io/serviceaccount/namespace", encoding="utf-8") as handle:
            return handle.read().strip() or kubeconfig.DEFAULT_NAMESPACE
    except OSError:
        return kubeconfig.DEFAULT_NAMESPACE
