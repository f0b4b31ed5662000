"""`list`: every release name in a namespace (or all), from one list per kind, joined in memory."""

from __future__ import annotations

from kubernetes.client.exceptions import ApiException

from kubectl_harness_rollback import history_codec, live, views
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.assemble import ClusterObjects, assemble, release_name_of
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.reader import ensure_namespace, forbidden

HISTORY_KEY = "releaseHistory"


def _latest_from_history(kind: str, obj: dict) -> tuple[int | None, str | None]:
    """(latest number, its status) of one history; an unreadable one says why in its own row and
    never stops the others (decoding is bounded: history_codec refuses what is too big)."""
    meta = obj["metadata"]
    try:
        doc, _ = history_codec.decode_history(kind, meta["name"], meta["namespace"], obj.get("data"))
        releases = history_codec.releases_from_history(doc, f"{kind.lower()}/{meta['name']}", meta["namespace"],
                                                       quote_values=False)
    except PluginError as exc:
        return None, f"<unreadable history: {getattr(exc, 'reason', None) or 'cannot be decoded'}>"
    if not releases:
        return None, None
    return releases[0].number, releases[0].status.value if releases[0].status else None


def catalog(workloads: list[tuple[str, dict]], config_maps: list[dict], secrets: list[dict]) -> list[dict]:
    """Rows of `list`, sorted by namespace and release name. Pure."""
    rows: dict[tuple[str, str], dict] = {}

    def row(namespace: str, release: str) -> dict:
        return rows.setdefault((namespace, release), {"namespace": namespace, "release": release, "latest": None,
                                                      "status": None, "workloads": [], "source": "annotations"})

    for kind, obj in workloads:
        name = release_name_of(obj)
        if name:
            row(obj["metadata"]["namespace"], name)["workloads"].append(f"{kind.lower()}/{obj['metadata']['name']}")
    for kind, objects in (("ConfigMap", config_maps), ("Secret", secrets)):
        for obj in objects:
            meta = obj["metadata"]
            if not (obj.get("data") or {}).get(HISTORY_KEY):
                continue  # a Secret named like a release without a history is not one (Harness agrees)
            entry = row(meta["namespace"], meta["name"])
            entry["latest"], entry["status"] = _latest_from_history(kind, obj)
            entry["source"] = f"{kind.lower()}/{meta['name']}"
    for secret in secrets:
        meta = secret["metadata"]
        labels = meta.get("labels") or {}
        if labels.get("owner") != "harness" or "release" not in labels:
            continue
        entry = row(meta["namespace"], labels["release"])
        try:
            number = int(labels.get("release-number", ""))
        except ValueError:
            continue
        if entry["source"] in ("annotations", "declarative") and (entry["latest"] or 0) < number:
            entry["latest"], entry["status"], entry["source"] = number, labels.get("status"), "declarative"
    for entry in rows.values():
        entry["workloads"].sort()
    return [rows[key] for key in sorted(rows)]


def add_live(rows: list[dict], workloads: list[tuple[str, dict]], children: list[dict] | None,
             config_maps: list[dict], secrets: list[dict]) -> None:
    """Add to each row what is live (liveReleases, liveSince, lastRollback, live), joining the
    workloads with their ReplicaSets and ControllerRevisions in memory. Pure. `children` None:
    they could not be read, and nothing is said about what is live."""
    histories: dict[tuple[str, str], tuple[dict, str]] = {}
    for kind, objects in (("ConfigMap", config_maps), ("Secret", secrets)):  # a Secret wins, as in Harness
        for obj in objects:
            if (obj.get("data") or {}).get(HISTORY_KEY):
                histories[(obj["metadata"]["namespace"], obj["metadata"]["name"])] = (obj, kind)
    declarative: dict[tuple[str, str], list[dict]] = {}
    for secret in secrets:
        labels = secret["metadata"].get("labels") or {}
        if labels.get("owner") == "harness" and "release" in labels:
            declarative.setdefault((secret["metadata"]["namespace"], labels["release"]), []).append(secret)
    by_namespace: dict[str, list[dict]] = {}
    for child in children or []:
        by_namespace.setdefault(child["metadata"]["namespace"], []).append(child)
    states: dict[tuple[str, str], list] = {}
    for kind, obj in workloads:
        namespace, name = obj["metadata"]["namespace"], release_name_of(obj)
        if name and children is not None:
            states.setdefault((namespace, name), []).append(
                adapters.adapter_for(kind).state(obj, by_namespace.get(namespace, [])))
    for row in rows:
        key = (row["namespace"], row["release"])
        row.update({"liveReleases": [], "liveSince": None, "lastRollback": None, "live": []})
        if children is None:
            continue
        history, history_kind = histories.get(key, (None, None))
        try:
            model = assemble(ClusterObjects(row["release"], row["namespace"], history, history_kind,
                                            declarative.get(key, []), states.get(key, [])))
        except PluginError:
            continue  # the row already says the history is unreadable
        now = live.live_workloads(model)
        record = live.latest_rollback(now)
        row.update({"liveReleases": live.live_numbers(now),
                    "liveSince": max((r.since for r in now if r.since), default=None),
                    "lastRollback": record.view() if record else None,
                    "live": views.live_view(now)})


def read_catalog(kube, namespace: str | None) -> tuple[list[dict], list[str]]:
    """(rows, warnings) for one namespace, or every namespace when `namespace` is None."""
    warnings: list[str] = []
    where = namespace or "all namespaces"

    def listed(resource: str, namespaced, everywhere, forbidden_means: str | None = None) -> list[dict] | None:
        try:
            if namespace is None:
                return kube.list_all(everywhere)
            return kube.list_all(namespaced, namespace)
        except ApiException as exc:
            if exc.status == 403 and resource == "secrets":
                warnings.append(f"cannot list secrets in {where}: releases kept in Secrets are not shown")
                return []
            if exc.status == 403 and forbidden_means:
                warnings.append(f"cannot list {resource} in {where}: {forbidden_means}")
                return None
            if exc.status == 403:
                raise forbidden(exc, "list", resource, where) from None
            raise

    apps, core = kube.apps, kube.core
    workloads = [("Deployment", o) for o in listed("deployments", apps.list_namespaced_deployment,
                                                   apps.list_deployment_for_all_namespaces)]
    workloads += [("StatefulSet", o) for o in listed("statefulsets", apps.list_namespaced_stateful_set,
                                                     apps.list_stateful_set_for_all_namespaces)]
    workloads += [("DaemonSet", o) for o in listed("daemonsets", apps.list_namespaced_daemon_set,
                                                   apps.list_daemon_set_for_all_namespaces)]
    config_maps = listed("configmaps", core.list_namespaced_config_map, core.list_config_map_for_all_namespaces)
    secrets = listed("secrets", core.list_namespaced_secret, core.list_secret_for_all_namespaces)
    rows = catalog(workloads, config_maps, secrets)
    if rows:  # what is live: the revisions each workload runs, one list per kind
        unknown = "the LIVE column is left empty"
        replica_sets = listed("replicasets", apps.list_namespaced_replica_set, apps.list_replica_set_for_all_namespaces,
                              unknown)
        revisions = listed("controllerrevisions", apps.list_namespaced_controller_revision,
                           apps.list_controller_revision_for_all_namespaces, unknown)
        add_live(rows, workloads, None if replica_sets is None or revisions is None else replica_sets + revisions,
                 config_maps, secrets)
    if not rows and namespace is not None:
        ensure_namespace(kube, namespace)  # "nothing found" must not hide a mistyped -n
    return rows, warnings

