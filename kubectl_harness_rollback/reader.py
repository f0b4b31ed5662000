"""Read one release name from the cluster: a fixed number of requests, joined in memory.

Requests for a release name: what each record store reads (records/registry.py: GET the history
Secret, then, if it holds none, the ConfigMap; one list of declarative release Secrets); one list
per workload kind; one list of revisions per workload that belongs to the release, but for a
Deployment whose selector is labels alone: its ReplicaSets are found in the ReplicaSets already
listed as a workload kind (ReplicaSetsListedOnce). The number of revisions never adds a request.
Reading never writes.
"""

from __future__ import annotations

import re

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.cluster.apierrors import Forbidden
from kubectl_harness_rollback.cluster.apierrors import NotFound as ApiNotFound
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS, NAMESPACES, REPLICASETS, SECRETS, SERVICES, Started
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import PluginError, UsageError
from kubectl_harness_rollback.model import ReleaseModel, ServiceState
from kubectl_harness_rollback.records import legacy, registry
from kubectl_harness_rollback.records.assemble import assemble, release_name_of
from kubectl_harness_rollback.records.store import ClusterObjects, Read
from kubectl_harness_rollback.strategies import bluegreen, canary

# Kinds whose objects can be a release's workloads, in the order they are listed.
WORKLOAD_KINDS = kinds.WORKLOAD_NAMES


class NotFound(PluginError):
    """The release, workload or namespace named on the command line does not exist."""


_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def valid_release_name(text: str) -> bool:
    """A release name names a ConfigMap or Secret (a DNS subdomain) and is the value of the
    harness.io/release-name label (at most 63 characters): both rules at once."""
    return isinstance(text, str) and len(text) <= 63 and _SUBDOMAIN.fullmatch(text) is not None


RELEASE_PREFIX = "release/"  # TARGET may name a release as `list -o name` prints it: release/NAME


@data_class(frozen=True)
class Target:
    """What the user named: a release (`release-x`) or a workload (`deployment/web`)."""

    release_name: str | None = None
    kind: str | None = None
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Target":
        """Validate TARGET without any request: a KIND kubectl accepts for a supported workload and
        an object name, or a release name, which names a ConfigMap or Secret and is the value of
        the harness.io/release-name label: a DNS subdomain of at most 63 characters."""
        subdomain = _SUBDOMAIN
        if not text or text.strip() != text:
            raise UsageError("TARGET must be a release name or KIND/NAME, e.g. deployment/web")
        if text.startswith(RELEASE_PREFIX):  # what `list -o name` prints
            text = text[len(RELEASE_PREFIX):]
        if "/" in text:
            kind, _, name = text.partition("/")
            if not name or "/" in name:
                raise UsageError(f"{text!r} is not KIND/NAME (for example deployment/web)")
            kind = adapters.canonical_kind(kind)
            if len(name) > 253 or not subdomain.fullmatch(name):
                raise UsageError(f"{name!r} is not a valid {kind} name: lowercase letters, digits, '-' and '.', "
                                 "starting and ending with a letter or digit, at most 253 characters")
            return cls(kind=kind, name=name)
        if not valid_release_name(text):
            raise UsageError(f"{text!r} is not a valid release name: a release name is a Kubernetes object name "
                             "and a label value: lowercase letters, digits, '-' and '.', starting and ending with "
                             "a letter or digit, at most 63 characters")
        return cls(release_name=text)


def ensure_namespace(kube, namespace: str) -> None:
    try:
        kube.get(NAMESPACES, namespace)
    except ApiNotFound:
        raise NotFound(f"namespace '{namespace}' not found (check -n/--namespace)") from None
    except Forbidden:  # may not read namespaces: then we cannot tell, and say the rest
        pass


def _secrets_or_note(notes: list[str], namespace: str, method, *args, **kwargs):
    """A read of Secrets; a 403 becomes a note (the built-in `view` role cannot read Secrets, and a
    history kept in a ConfigMap is still worth showing) and None."""
    try:
        return method(*args, **kwargs)
    except Forbidden:
        pass
    note = f"cannot read secrets in {namespace}: releases kept in Secrets are not considered"
    if note not in notes:
        notes.append(note)
    return None


def _fetcher(kube, namespace: str, notes: list[str]):
    """The one request a record store asks for (store.Read): a get (None when absent) or a list.
    The stores decide what to read; this is where it is read."""
    def fetch(read: Read):
        selectors = {key: value for key, value in (("label_selector", read.label_selector),
                                                   ("field_selector", read.field_selector)) if value is not None}
        if read.kind == kinds.SECRET.name and read.verb == "get":
            return _secrets_or_note(notes, namespace, kube.get_or_none, SECRETS, read.name, namespace)
        if read.kind == kinds.SECRET.name:
            return _secrets_or_note(notes, namespace, kube.list, SECRETS, namespace, **selectors)
        if read.kind == kinds.CONFIG_MAP.name and read.verb == "get":
            return kube.get_or_none(CONFIGMAPS, read.name, namespace)
        if read.kind == kinds.CONFIG_MAP.name:
            return kube.list(CONFIGMAPS, namespace, **selectors)
        raise ValueError(f"a record store asked to read {read.kind}, which the reader does not read")
    return fetch


def _read_records(kube, objects: ClusterObjects, stores=registry.STORES) -> None:
    """Each record store reads what it keeps into `objects`, in precedence order."""
    fetch = _fetcher(kube, objects.namespace, objects.notes)
    for store in stores:
        store.read(fetch, objects.release_name, objects)


_EQUALITY = re.compile(r"([^=!,()\s]+)=([^=!,()\s]*)")


def label_equalities(selector: str) -> list[tuple[str, str]] | None:
    """`a=b,c=d` (what workloads.common.selector_string makes of matchLabels) as pairs; None for
    any other form (in, notin, !=, exists), which only the API server is asked to test."""
    if selector == "":
        return []
    pairs = [_EQUALITY.fullmatch(term) for term in selector.split(",")]
    return None if not all(pairs) else [(pair.group(1), pair.group(2)) for pair in pairs]


class ReplicaSetsListedOnce:
    """The cluster, for one read of a release: the namespace's ReplicaSets, listed once as a
    workload kind (for bare ReplicaSets), also answer a Deployment's list of its ReplicaSets by a
    selector of labels alone, as the API server answers it (every label equal); any other request
    is sent. A round trip less for every release with a Deployment, and its revisions and bare
    ReplicaSets come from one list, not two read moments apart."""

    def __init__(self, kube):
        self._kube = kube
        self._listed: dict[str | None, list[dict]] = {}

    def __getattr__(self, name: str):
        return getattr(self._kube, name)

    def list(self, resource, namespace: str | None = None, *more, **options) -> list[dict]:
        if resource != REPLICASETS or more or set(options) - {"label_selector"}:  # anything else: sent as asked
            return self._kube.list(resource, namespace, *more, **options)
        label_selector = options.get("label_selector")
        if label_selector is None:
            self._listed[namespace] = self._kube.list(resource, namespace)
            return self._listed[namespace]
        wanted = label_equalities(label_selector)
        if wanted is None or namespace not in self._listed:
            return self._kube.list(resource, namespace, label_selector=label_selector)
        return [obj for obj in self._listed[namespace]
                if all((obj["metadata"].get("labels") or {}).get(key) == value for key, value in wanted)]


def _release_workloads(kube, namespace: str, release_name: str,
                       others: set[str] | None = None) -> list[tuple[object, dict]]:
    """The workloads labelled `release_name`; the other release names their lists hold go into
    `others` (what a not-found error suggests, at no extra request)."""
    found = []
    for kind in WORKLOAD_KINDS:
        adapter = adapters.adapter_for(kind)
        for obj in adapter.list_workloads(kube, namespace):
            labelled = release_name_of(obj)
            if labelled == release_name:
                found.append((adapter, obj))
            elif labelled and others is not None:
                others.add(labelled)
    return found


def _states(kube, namespace: str, found: list[tuple[object, dict]]):
    states = []
    for adapter, obj in found:
        children = adapter.list_children(kube, namespace, obj)
        states.append(adapter.state(obj, children))
    return states


def _read_workload_target(kube, namespace: str, target: Target) -> tuple[str, list[tuple[object, dict]]]:
    adapter = adapters.adapter_for(target.kind)
    workloads = adapter.list_workloads(kube, namespace)
    obj = next((w for w in workloads if w["metadata"]["name"] == target.name), None)
    if obj is None:
        ensure_namespace(kube, namespace)
        from kubectl_harness_rollback.did_you_mean import suggestion  # a name that matched nothing alone

        alike = suggestion(target.name, (w["metadata"]["name"] for w in workloads))
        raise NotFound(f"{target.kind.lower()}/{target.name} not found in namespace {namespace}{alike}")
    release_name = release_name_of(obj)
    return release_name or f"{target.kind.lower()}/{target.name}", ([] if release_name else [(adapter, obj)])


def read_ahead(kube, target: Target) -> None:
    """Start reading TARGET in kube's namespace now, in a thread of its own; the next
    read_release of that very target on `kube` takes the answer (or raises what reading raised).

    A command that knows what it reads starts it as soon as it is connected: the code it runs
    next (the planner, the executor, the output) then loads while the API server answers, not
    before the first request. The requests are the same, in the same order, from one thread.
    """
    started = getattr(kube, "started", None)
    if started is None:  # a connection that keeps no started reads (not a rest.Rest): read when asked
        return
    started[(kube.namespace, target)] = Started(lambda: _read_release(kube, kube.namespace, target), "read-ahead")


def read_release(kube, namespace: str, target: Target, name_unlabelled: str | None = None) -> ReleaseModel:
    """The ReleaseModel for TARGET in `namespace`.

    A workload without a harness.io/release-name label has its own revisions as its history,
    unless `name_unlabelled` names the release it is to be recorded under (`record`).
    """
    started = getattr(kube, "started", None)
    if started and name_unlabelled is None and (namespace, target) in started:
        return started.pop((namespace, target)).answer()
    return _read_release(kube, namespace, target, name_unlabelled)


def _read_release(kube, namespace: str, target: Target, name_unlabelled: str | None = None) -> ReleaseModel:
    release_name = target.release_name
    if release_name is None:
        release_name, own = _read_workload_target(kube, namespace, target)
        if own and name_unlabelled:
            objects = ClusterObjects(name_unlabelled, namespace)
            _read_records(kube, objects, [legacy.STORE])  # the history it is to be recorded in
            objects.workloads = _states(kube, namespace, own)
            return assemble(objects)
        if own:
            return assemble(ClusterObjects(release_name, namespace, workloads=_states(kube, namespace, own)))
    kube = ReplicaSetsListedOnce(kube)
    objects = ClusterObjects(release_name, namespace)
    _read_records(kube, objects)
    others: set[str] = set()
    found = _release_workloads(kube, namespace, release_name, others)
    if not objects.found_any() and not found:
        ensure_namespace(kube, namespace)
        from kubectl_harness_rollback.did_you_mean import suggestion  # a name that matched nothing alone

        raise NotFound(f"release '{release_name}' not found in namespace {namespace}{suggestion(release_name, others)}"
                       f" (no release history, no release Secrets and no workload labelled "
                       f"harness.io/release-name={release_name}; see 'kubectl harness-rollback list -n {namespace}')")
    states = _states(kube, namespace, found)
    objects.workloads = states
    model = assemble(objects)
    if canary.companions(model):
        model.canary_objects = canary.read_versions(kube, model)
    if any(bluegreen.workload_color(state) for state in states):
        model.services = _release_services(kube, namespace, states)
    return model


def _release_services(kube, namespace: str, states) -> list[ServiceState]:
    """Blue/green: the Services whose selector, color aside, matches the release's pods (one list)."""
    return bluegreen.release_services(kube.list(SERVICES, namespace), namespace, states)
