"""`list`: every release name in a namespace or all, from one list per kind.

`list`: every release name in a namespace (or all), from one list per kind, joined in memory;
then the objects named like a release (the histories): a few by name, many by one list of their
namespace, so that the requests grow with the namespaces, not with the releases."""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.cluster.apierrors import Forbidden
from kubectl_harness_rollback.cluster.rest import (
    CONFIGMAPS,
    CONTROLLERREVISIONS,
    REPLICASETS,
    SECRETS,
    SERVICES,
    WAKE_SECONDS,
    Resource,
    Started,
)
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.harness_names import (
    HISTORY_KEY,
    LAST_ROLLBACK_ANNOTATION,
    RELEASE_SECRET_TYPE,
    SECRET_OWNER_LABEL,
    SECRET_OWNER_VALUE,
)
from kubectl_harness_rollback.model import Release
from kubectl_harness_rollback.records import declarative, history_codec
from kubectl_harness_rollback.records.assemble import release_name_of

# Reads made at once by `list` (its first lists, a history by name, or a namespace's list); the
# connection pool keeps at least this many.
READERS = 4
# A namespace's objects needed in full are read by name up to this many: a read by name downloads
# nothing else, and costs a request as a list does. Beyond, one list of the namespace reads them all.
BY_NAME_UP_TO = 4
# How many objects a namespace's list may hold per object it is read for: more, and they are read
# by name (a namespace of many unrelated ConfigMaps is not downloaded for a few histories).
CONFIGMAPS_PER_HISTORY = 4
# Secrets: a namespace is listed whole only when every Secret in it is wanted, so a Secret that is
# not a release history (Helm's releases, certificates) is never downloaded.
SECRETS_PER_HISTORY = 1


# Each history object decoded and parsed, once per command:
# {(kind, namespace, name): (doc, compressed, its releases newest first) or the error}.
Decoded = dict[tuple[str, str, str], "tuple[dict, bool, list[Release]] | PluginError"]


def decode_histories(config_maps: list[dict], secrets: list[dict]) -> Decoded:
    """Decode and parse every object that holds a release history, once: `list` shows the latest
    release and what is live from the same releases. An unreadable one is kept as its error, which
    quotes no value (a row says it in one line). Pure."""
    decoded: Decoded = {}
    for kind, objects in ((kinds.CONFIG_MAP.name, config_maps), (kinds.SECRET.name, secrets)):
        for obj in objects:
            if not (obj.get("data") or {}).get(HISTORY_KEY):
                continue
            meta = obj["metadata"]
            try:
                doc, compressed = history_codec.decode_history(kind, meta["name"], meta["namespace"], obj.get("data"))
                releases = history_codec.releases_from_history(doc, f"{kind.lower()}/{meta['name']}",
                                                               meta["namespace"], quote_values=False)
                decoded[(kind, meta["namespace"], meta["name"])] = (doc, compressed, releases)
            except PluginError as exc:
                decoded[(kind, meta["namespace"], meta["name"])] = exc
    return decoded


def _latest_from_history(kind: str, obj: dict, decoded: Decoded) -> tuple[int | None, str | None]:
    """(latest number, its status) of one history; an unreadable one says why in its own row and
    never stops the others (decoding is bounded: history_codec refuses what is too big)."""
    meta = obj["metadata"]
    found = decoded[(kind, meta["namespace"], meta["name"])]
    if isinstance(found, PluginError):
        return None, f"<unreadable history: {getattr(found, 'reason', None) or 'cannot be decoded'}>"
    releases = found[2]
    if not releases:
        return None, None
    return releases[0].number, releases[0].status.value if releases[0].status else None


def declarative_release_of(secret: dict) -> str | None:
    """The release a Harness declarative release Secret belongs to (its `release` label), or None
    for any other Secret: one of another type is none, as for Harness."""
    return declarative.release_of(secret)


def with_release_types(secrets: list[dict], typed: list[dict]) -> list[dict]:
    """`secrets` (metadata only: no `type`), each of `typed` (those listed by the release type)
    given that type, so that declarative_release_of can tell them. Pure."""
    found = {_key(obj) for obj in typed}
    return [{**obj, "type": RELEASE_SECRET_TYPE} if _key(obj) in found else obj for obj in secrets]


def catalog(workloads: list[tuple[str, dict]], config_maps: list[dict], secrets: list[dict],
            decoded: Decoded | None = None) -> list[dict]:
    """Rows of `list`, sorted by namespace and release name. Pure. `decoded`: decode_histories'."""
    decoded = decode_histories(config_maps, secrets) if decoded is None else decoded
    rows: dict[tuple[str, str], dict] = {}

    def row(namespace: str, release: str) -> dict:
        return rows.setdefault((namespace, release), {"namespace": namespace, "release": release, "latest": None,
                                                      "status": None, "workloads": [], "source": "annotations"})

    for kind, obj in workloads:
        name = release_name_of(obj)
        if name:
            row(obj["metadata"]["namespace"], name)["workloads"].append(f"{kind.lower()}/{obj['metadata']['name']}")
    for kind, objects in ((kinds.CONFIG_MAP.name, config_maps), (kinds.SECRET.name, secrets)):
        for obj in objects:
            meta = obj["metadata"]
            if not (obj.get("data") or {}).get(HISTORY_KEY):
                continue  # a Secret named like a release without a history is not one (Harness agrees)
            entry = row(meta["namespace"], meta["name"])
            entry["latest"], entry["status"] = _latest_from_history(kind, obj, decoded)
            entry["source"] = f"{kind.lower()}/{meta['name']}"
    for secret in secrets:
        meta, release = secret["metadata"], declarative_release_of(secret)
        if release is None:
            continue
        entry = row(meta["namespace"], release)
        number, status = declarative.number_and_status(secret)
        if number is None:
            continue
        if entry["source"] in ("annotations", "declarative") and (entry["latest"] or 0) < number:
            entry["latest"], entry["status"], entry["source"] = number, status, "declarative"
    for entry in rows.values():
        entry["workloads"].sort()
    return [rows[key] for key in sorted(rows)]


def history_candidates(workloads: list[tuple[str, dict]], secrets: list[dict]) -> set[tuple[str, str]]:
    """(namespace, name) of every release a workload's harness.io/release-name label names, or a
    declarative release Secret's `release` label: only a ConfigMap or Secret named like one of these
    can be a release history. Pure."""
    names = {(obj["metadata"]["namespace"], release_name_of(obj)) for _, obj in workloads if release_name_of(obj)}
    for secret in secrets:
        release = declarative_release_of(secret)
        if release:
            names.add((secret["metadata"]["namespace"], release))
    return names


def _key(obj: dict) -> tuple[str, str]:
    return obj["metadata"]["namespace"], obj["metadata"]["name"]


def plan_reads(listed: list[dict], wanted: set[tuple[str, str]], per_object: int = 0,
               ) -> tuple[list[str | None], list[tuple[str, str]]]:
    """(namespaces to list whole, (namespace, name) to read by name) that read each of `listed`
    (metadata) which is `wanted`. A namespace is listed whole when it holds more than
    BY_NAME_UP_TO wanted objects and at most `per_object` objects for each (0: never).

    Several namespaces listed whole are one list of every namespace ([None]) when the other
    namespaces hold few objects that are not wanted: at most `per_object` - 1 for each namespace
    listed whole (a namespace's own kube-root-ca.crt, say), so that one list downloads about what
    the namespaces' lists would, in a fixed number of requests however many namespaces hold
    releases. Secrets (`per_object` 1): only when no other Secret would be downloaded. Pure."""
    chosen: dict[str, list[str]] = {}
    held: dict[str, int] = {}
    for obj in listed:
        namespace, name = _key(obj)
        held[namespace] = held.get(namespace, 0) + 1
        if (namespace, name) in wanted:
            chosen.setdefault(namespace, []).append(name)
    whole = sorted(namespace for namespace, names in chosen.items()
                   if len(names) > BY_NAME_UP_TO and held[namespace] <= per_object * len(names))
    listed_whole = set(whole)
    by_name = [(namespace, name) for namespace, names in chosen.items() if namespace not in listed_whole
               for name in names]
    unwanted_elsewhere = sum(count - len(chosen.get(namespace, ())) for namespace, count in held.items()
                             if namespace not in listed_whole)
    if len(whole) > 1 and unwanted_elsewhere <= (per_object - 1) * len(whole):
        return [None], []
    return whole, by_name


def reads_at_once(reads: list[Callable[[], Any]]) -> list:
    """What each of `reads` (one request or list each) answers, in their order, READERS at a time:
    the API server prepares one answer while this process decodes another. The first error in
    their order is raised, as if they were made one after the other, and no other read starts
    after it. Daemon threads, for the reason rest.Started gives."""
    if len(reads) < 2:
        return [read() for read in reads]
    answers: list = [None] * len(reads)
    done = [threading.Event() for _ in reads]
    pending, take = list(range(len(reads))), threading.Lock()

    def worker() -> None:
        while True:
            with take:
                if not pending:
                    return
                index = pending.pop(0)
            try:
                answers[index] = (True, reads[index]())
            except BaseException as exc:  # Ctrl-C too (rest.py's `cancel`): the caller raises it
                answers[index] = (False, exc)
            finally:
                done[index].set()

    for n in range(min(READERS, len(reads))):
        threading.Thread(target=worker, daemon=True, name=f"list-reads-{n}").start()
    try:
        found = []
        for index, answered in enumerate(done):
            while not answered.wait(WAKE_SECONDS):  # looks up often enough to see Ctrl-C at once
                pass
            ok, value = answers[index]
            if not ok:
                raise value
            found.append(value)
        return found
    finally:
        with take:
            pending.clear()


_collector_lock = threading.Lock()
# How many reads hold the collector off, and whether it was on before the first of them.
_collector = {"pauses": 0, "was_enabled": False}


@contextmanager
def collection_paused():
    """Python's cyclic garbage collector held off while `list` decodes: each full collection walks
    every object alive, and decoding a fleet's lists and histories (hundreds of thousands of dicts)
    set off collections that walked the growing heap again and again (a third of `list -A`'s CPU at
    500 releases). JSON and the records decoded here hold no reference cycles to collect. Counted,
    so that the contexts of a fleet, read at once, pause it together and the last one resumes it."""
    with _collector_lock:
        if _collector["pauses"] == 0:
            _collector["was_enabled"] = gc.isenabled()
            gc.disable()
        _collector["pauses"] += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector["pauses"] -= 1
            if _collector["pauses"] == 0 and _collector["was_enabled"]:
                gc.enable()


def _read_in_full(kube, resource, listed: list[dict], wanted: set[tuple[str, str]], per_object: int = 0,
                  ) -> list[dict]:
    """`listed` (metadata only) with each object whose (namespace, name) is `wanted` read in full,
    a few requests at a time (plan_reads: by name, or by one list of its namespace). Read by name
    as a list with a field selector, so the `list` right `list` needs anyway suffices. A wanted
    object the full read no longer finds was deleted in between (a namespace being torn down, a
    tenant's cleanup): it is left out, not kept as the metadata that has no spec or data."""
    whole, by_name = plan_reads(listed, wanted, per_object)

    def read(step: tuple[str | None, str | None]) -> list[dict]:
        namespace, name = step
        if name is None:  # only what is wanted is kept, page by page: another object's data is never looked at
            return kube.list(resource, namespace, trim=lambda obj: obj if _key(obj) in wanted else None)
        return kube.list(resource, namespace, field_selector=f"metadata.name={name}")

    steps = [(namespace, None) for namespace in whole] + by_name
    found = reads_at_once([lambda step=step: read(step) for step in steps])
    read_objects = {_key(o): o for objects in found for o in objects}
    return [read_objects.get(_key(o), o) for o in listed if _key(o) not in wanted or _key(o) in read_objects]


def bare_replica_sets(replica_sets: list[dict]) -> set[tuple[str, str]]:
    """(namespace, name) of the ReplicaSets no controller owns: workloads of their own (a
    Deployment's ReplicaSets are its revisions). Pure; works on metadata."""
    return {_key(rs) for rs in replica_sets
            if not any(ref.get("controller") for ref in rs["metadata"].get("ownerReferences") or [])}


def current_revisions_to_read(workloads: list[tuple[str, dict]], replica_sets: list[dict]) -> set[tuple[str, str]]:
    """(namespace, name) of the ReplicaSets, listed as metadata, whose pod template the LIVE column
    needs: the current one of a Deployment whose last rollback its revision numbers alone do not
    confirm (live_release.still_restored then compares images). Few: rolled-back Deployments only. Pure."""
    from kubectl_harness_rollback import live_release
    from kubectl_harness_rollback import workloads as adapters

    deployment = adapters.adapter_for(kinds.DEPLOYMENT.name)
    by_owner = children_by_controller(replica_sets)
    wanted = set()
    for kind, obj in workloads:
        if kind != kinds.DEPLOYMENT.name or LAST_ROLLBACK_ANNOTATION not in (obj["metadata"].get("annotations") or {}):
            continue
        state = deployment.state(obj, by_owner.get(obj["metadata"].get("uid"), []))
        current = live_release.revision_needing_images(state)
        if current is not None:
            wanted.add(_key(current.raw))
    return wanted


def children_by_controller(children: list[dict]) -> dict[str, list[dict]]:
    """Each child under the UID of its controller (its owner reference marked controller): a
    workload's state is built from its own children, not by testing every child of its namespace
    (500 Deployments of 10 revisions in 20 namespaces: 125,000 tests). Pure."""
    by_owner: dict[str, list[dict]] = {}
    for child in children:
        for ref in child["metadata"].get("ownerReferences") or []:
            if ref.get("controller") and ref.get("uid"):
                by_owner.setdefault(ref["uid"], []).append(child)
    return by_owner


def add_live(rows: list[dict], workloads: list[tuple[str, dict]], children: list[dict] | None,
             config_maps: list[dict], secrets: list[dict], decoded: Decoded | None = None,
             now_time: datetime | None = None, services: dict[str, list[dict]] | None = None) -> None:
    """Add to each row what is live (liveReleases, liveSince, lastRollback, live), whether it is
    steady and what it needs (steady, action: action.py), joining the workloads with their
    ReplicaSets and ControllerRevisions in memory. Pure but for the clock when `now_time` is None.
    `children` None: they could not be read, and nothing is said about what is live (steady and
    action None). `decoded`: decode_histories'. `services`: each blue/green namespace's Services,
    whose primary says what is live for ACTION."""
    from kubectl_harness_rollback import live_release, status, views
    from kubectl_harness_rollback import workloads as adapters
    from kubectl_harness_rollback.records.assemble import ClusterObjects, assemble
    from kubectl_harness_rollback.strategies import bluegreen

    decoded = decode_histories(config_maps, secrets) if decoded is None else decoded
    histories: dict[tuple[str, str], tuple[dict, str]] = {}
    for kind, objects in ((kinds.CONFIG_MAP.name, config_maps), (kinds.SECRET.name, secrets)):  # a Secret wins, as in Harness
        for obj in objects:
            if (obj.get("data") or {}).get(HISTORY_KEY):
                histories[(obj["metadata"]["namespace"], obj["metadata"]["name"])] = (obj, kind)
    declarative: dict[tuple[str, str], list[dict]] = {}
    for secret in secrets:
        release = declarative_release_of(secret)
        if release is not None:
            declarative.setdefault((secret["metadata"]["namespace"], release), []).append(secret)
    by_owner = children_by_controller(children or [])
    states: dict[tuple[str, str], list] = {}
    for kind, obj in workloads:
        namespace, name = obj["metadata"]["namespace"], release_name_of(obj)
        if name and children is not None:
            states.setdefault((namespace, name), []).append(
                adapters.adapter_for(kind).state(obj, by_owner.get(obj["metadata"].get("uid"), [])))
    for row in rows:
        key = (row["namespace"], row["release"])
        row.update({"liveReleases": [], "liveSince": None, "lastRollback": None, "live": [], "steady": None,
                    "action": None})
        if children is None:
            continue
        history, history_kind = histories.get(key, (None, None))
        found = decoded.get((history_kind, *key)) if history is not None else None
        try:
            if isinstance(found, PluginError):
                raise found
            model = assemble(ClusterObjects(row["release"], row["namespace"], history, history_kind,
                                            declarative.get(key, []), states.get(key, []),
                                            decoded_history=found[:2] if found else None,
                                            parsed_releases=found[2] if found else None))
        except PluginError:
            continue  # the row already says the history is unreadable
        now = live_release.live_workloads(model)
        record = live_release.latest_rollback(now)
        ready = {ref: status.readiness(state) for ref, state in model.workloads.items()}
        if row["namespace"] in (services or {}) and bluegreen.is_blue_green(model):
            model.services = bluegreen.release_services(services[row["namespace"]], row["namespace"],
                                                        list(model.workloads.values()))
        row.update({"liveReleases": live_release.live_numbers(now),
                    "liveSince": max((r.since for r in now if r.since), default=None),
                    "lastRollback": record.view() if record else None,
                    "live": views.live_view(now),
                    "steady": all(steady for steady, _, _ in ready.values()),
                    "action": status.release_action(model, now, ready, now_time, *status.primary_route(model, now))})


def blue_green_namespaces(workloads: list[tuple[str, dict]]) -> set[str]:
    """The namespaces holding a blue/green workload (bluegreen.carries_color, the test
    is_blue_green makes of each workload): only there can a Service record a swap-back. Pure."""
    from kubectl_harness_rollback.strategies import bluegreen

    return {obj["metadata"]["namespace"] for _, obj in workloads if bluegreen.carries_color(obj)}


def _by_namespace(services: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for service in services:
        found.setdefault(service["metadata"]["namespace"], []).append(service)
    return found


def add_swap_backs(rows: list[dict], services: list[dict]) -> None:
    """Add to each row `swapBack`: the swap-back its primary Service records while it is still in
    effect (the row's latest release is the one swapped out and primary still routes the color it
    restored), else None. Pure."""
    found: dict[tuple[str, str], dict] = {}
    if services:  # what reads them is loaded only then: completion reads no Service
        from kubectl_harness_rollback.strategies import bluegreen, swap_record
    for service in services:
        meta = service["metadata"]
        record = swap_record.read(meta["name"], meta.get("annotations"))
        if record is None or record.release_name is None:
            continue
        color = ((service.get("spec") or {}).get("selector") or {}).get(bluegreen.COLOR)
        found[(meta["namespace"], record.release_name)] = (record, color)
    for row in rows:
        record, color = found.get((row["namespace"], row["release"]), (None, None))
        row["swapBack"] = record.view() if record and swap_record.in_effect(record, color, row["latest"]) else None


# ReplicaSets are a cluster's most numerous objects (10 a Deployment): they are listed as metadata
# this many a page, each without its managedFields (most of its metadata, and never looked at
# here), so that only one page is held whole.
REPLICA_SET_PAGE = 1000


def without_managed_fields(obj: dict) -> dict:
    """The object without metadata.managedFields (in place: it is a fresh item of a list)."""
    obj.get("metadata", {}).pop("managedFields", None)
    return obj


def _listed_or_none(kube, resource, namespace: str | None, metadata_only: bool = False, **paging) -> list[dict] | None:
    try:
        return kube.list(resource, namespace, metadata_only=metadata_only, **paging)
    except Forbidden:
        return None


def _revisions(kube, namespace: str | None, workloads: list[tuple[str, dict]], replica_sets: list[dict] | None,
               warnings: list[str]) -> list[dict] | None:
    """The ReplicaSets (metadata, but for the few whose template live_release.py needs) and every
    ControllerRevision, which say what each workload runs now; None, with a warning, without the
    right to list them. A ControllerRevision's number is no metadata: they are listed in full
    (a StatefulSet's or DaemonSet's revisions, few next to a cluster's ReplicaSets)."""
    revisions = _listed_or_none(kube, CONTROLLERREVISIONS, namespace) if replica_sets is not None else None
    if revisions is None:
        warnings.append(f"cannot list replicasets or controllerrevisions in {namespace or 'all namespaces'}: "
                        "the LIVE column is left empty")
        return None
    wanted = current_revisions_to_read(workloads, replica_sets)
    return _read_in_full(kube, REPLICASETS, replica_sets, wanted) + revisions


def read_catalog(kube, namespace: str | None, live: bool = True, selector=None) -> tuple[list[dict], list[str]]:
    """(rows, warnings) for one namespace, or every namespace when `namespace` is None.

    Workloads are listed whole (their labels name the releases); ReplicaSets, ConfigMaps and
    Secrets as metadata only, and only those that can matter are then read: the bare ReplicaSets
    (workloads of their own), the histories (named like a release), the few current ReplicaSets
    the LIVE column must compare. A cluster's other Secrets (Helm's releases, certificates) and a
    Deployment's old ReplicaSets are never downloaded. `live` False: without what is live
    (completion), which spares listing the ControllerRevisions and reading current ReplicaSets.

    `selector` (label_selector.Selector): only the releases with a workload whose labels match it,
    what is live judged from those workloads alone. The API server selects the workloads; the bare
    ReplicaSets are chosen in memory, since every ReplicaSet is listed anyway for what is live."""
    with collection_paused():
        return _read_catalog(kube, namespace, live, selector)


def _read_catalog(kube, namespace: str | None, live: bool, selector) -> tuple[list[dict], list[str]]:
    if not live and selector is None and namespace is not None:
        return _names_in_few_reads(kube, namespace)
    warnings: list[str] = []
    label_selector = selector.text if selector is not None else None
    # The ReplicaSets (a cluster's most numerous objects, in pages read one after another) are
    # wanted last, for the bare ones and what is live: the histories are read and decoded meanwhile.
    replica_sets_read = Started(lambda: _listed_or_none(kube, REPLICASETS, namespace, metadata_only=True,
                                                        page_size=REPLICA_SET_PAGE, trim=without_managed_fields),
                                "list-reads-started")
    listed = reads_at_once([lambda kind=kind: kube.list(Resource.of(kind), namespace, label_selector=label_selector)
                            for kind in kinds.RELEASE_WORKLOADS]
                           + [lambda: kube.list(CONFIGMAPS, namespace, metadata_only=True),
                              lambda: _listed_or_none(kube, SECRETS, namespace, metadata_only=True)])
    workloads = [(kind.name, obj) for kind, objects in zip(kinds.RELEASE_WORKLOADS, listed) for obj in objects]
    config_maps, secrets = listed[len(kinds.RELEASE_WORKLOADS):]
    secrets = _typed_secrets(kube, namespace, secrets, warnings)
    # With a selector, a release is found through its selected workloads alone.
    candidates = history_candidates(workloads, secrets if selector is None else [])
    config_maps = _read_in_full(kube, CONFIGMAPS, config_maps, candidates, CONFIGMAPS_PER_HISTORY)
    secrets = _read_in_full(kube, SECRETS, secrets, candidates, SECRETS_PER_HISTORY)
    decoded = decode_histories(config_maps, secrets)
    replica_sets = replica_sets_read.answer()
    if replica_sets:
        bare = bare_replica_sets(replica_sets)
        if selector is not None:
            bare = {_key(rs) for rs in replica_sets if _key(rs) in bare and selector.matches_object(rs)}
        replica_sets = _read_in_full(kube, REPLICASETS, replica_sets, bare)
        bare_workloads = [(kinds.REPLICA_SET.name, rs) for rs in replica_sets
                          if _key(rs) in bare and release_name_of(rs)]
        workloads += bare_workloads
        # A release only a bare ReplicaSet names: its history is read now.
        more = history_candidates(bare_workloads, []) - candidates
        if more:
            config_maps = _read_in_full(kube, CONFIGMAPS, config_maps, more, CONFIGMAPS_PER_HISTORY)
            secrets = _read_in_full(kube, SECRETS, secrets, more, SECRETS_PER_HISTORY)
            decoded.update(decode_histories([o for o in config_maps if _key(o) in more],
                                            [o for o in secrets if _key(o) in more]))
    rows = catalog(workloads, config_maps, secrets, decoded)
    if selector is not None:
        rows = [row for row in rows if row["workloads"]]
    bg_namespaces = blue_green_namespaces(workloads) if rows and live else set()
    # Blue/green only: one list of Services, which say the color primary routes (ACTION) and
    # record a swap-back (swap_record.py).
    listed = _listed_or_none(kube, SERVICES, namespace) if bg_namespaces else []
    if listed is None:
        warnings.append(f"cannot list services in {namespace or 'all namespaces'}: blue/green swap-backs are not "
                        "shown")
    services = [s for s in listed or [] if s["metadata"]["namespace"] in bg_namespaces]
    if rows and live:  # what is live: the revisions each workload runs, one list per kind
        add_live(rows, workloads, _revisions(kube, namespace, workloads, replica_sets, warnings), config_maps,
                 secrets, decoded, services=_by_namespace(services))
    add_swap_backs(rows, services)
    if not rows and namespace is not None:
        from kubectl_harness_rollback.reader import ensure_namespace

        ensure_namespace(kube, namespace)  # "nothing found" must not hide a mistyped -n
    return rows, warnings


def _typed_secrets(kube, namespace: str | None, secrets: list[dict] | None, warnings: list[str]) -> list[dict]:
    """The Secrets' metadata, those of the release type marked so; [] and a warning without the
    right to list them (None)."""
    if secrets is None:
        warnings.append(f"cannot list secrets in {namespace or 'all namespaces'}: releases kept in Secrets are not "
                        "shown")
        return []
    if any(declarative.labelled_release(secret) for secret in secrets):
        # Metadata carries no `type`: one more list, of the release type only, tells the releases
        # from other Secrets that carry their labels (Harness selects them by that type too).
        secrets = with_release_types(secrets, kube.list(SECRETS, namespace, metadata_only=True,
                                                        label_selector=f"{SECRET_OWNER_LABEL}={SECRET_OWNER_VALUE}",
                                                        field_selector=f"type={RELEASE_SECRET_TYPE}"))
    return secrets


def _names_in_few_reads(kube, namespace: str) -> tuple[list[dict], list[str]]:
    """read_catalog's rows and warnings without what is live (completion's), for one namespace, in
    the fewest requests, one after another on one connection: one list per workload kind, the
    ReplicaSets and Secrets as metadata, then what only a full read says (a bare ReplicaSet's
    release, the histories) by name. A few releases' histories are read without a list of the
    ConfigMaps first (an empty answer for a release without one costs what that list would). A
    first TAB waits for every request, and against a near API server a new connection's TLS
    handshake costs more than a small list."""
    warnings: list[str] = []
    workloads = [(kind.name, obj) for kind in kinds.RELEASE_WORKLOADS
                 for obj in kube.list(Resource.of(kind), namespace)]
    replica_sets = _listed_or_none(kube, REPLICASETS, namespace, metadata_only=True, page_size=REPLICA_SET_PAGE,
                                   trim=without_managed_fields)
    bare = bare_replica_sets(replica_sets or [])
    if bare:
        workloads += [(kinds.REPLICA_SET.name, rs) for rs in _read_in_full(kube, REPLICASETS, replica_sets, bare)
                      if _key(rs) in bare and release_name_of(rs)]
    secrets = _typed_secrets(kube, namespace, _listed_or_none(kube, SECRETS, namespace, metadata_only=True), warnings)
    candidates = history_candidates(workloads, secrets)
    if len(candidates) > BY_NAME_UP_TO:
        config_maps = _read_in_full(kube, CONFIGMAPS, kube.list(CONFIGMAPS, namespace, metadata_only=True), candidates,
                                    CONFIGMAPS_PER_HISTORY)
    else:
        config_maps = [obj for _, name in sorted(candidates)
                       for obj in kube.list(CONFIGMAPS, namespace, field_selector=f"metadata.name={name}")]
    secrets = _read_in_full(kube, SECRETS, secrets, candidates, SECRETS_PER_HISTORY)
    rows = catalog(workloads, config_maps, secrets)
    add_swap_backs(rows, [])  # without what is live no Service is read: none is in effect
    if not rows:
        from kubectl_harness_rollback.reader import ensure_namespace

        ensure_namespace(kube, namespace)  # as _read_catalog: "nothing found" must not hide a mistyped -n
    return rows, warnings
