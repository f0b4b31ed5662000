"""The legacy release history as a ReleaseStore: one ConfigMap or Secret named after the release.

Harness looks for a Secret first, then a ConfigMap, named exactly the release name
(K8sReleaseHandlerImpl; 960-api-services .../k8s/releasehistory/). It holds every release as
YAML (gzip+base64 when compressed); a rollback marks the release it rolled back from Failed,
records the revision numbers the controller gave the restored revisions, and, for blue/green,
moves bgEnvironment. The history is written back in the format and encoding it was read in,
guarded by the resourceVersion read with it. Pure: decoding and encoding are history_codec's.
"""

from __future__ import annotations

import copy

from kubectl_harness_rollback import kinds, outcome
from kubectl_harness_rollback.harness_names import HISTORY_KEY
from kubectl_harness_rollback.model import HistoryStore, Release, ReleaseModel, Source, Status, WorkloadRef
from kubectl_harness_rollback.records import history_codec
from kubectl_harness_rollback.records.store import ClusterObjects, Edit, Plan, Read, Right


def updated_history_doc(doc: dict, plan: Plan, new_revisions: dict[WorkloadRef, int]) -> dict:
    """The legacy history after the rollback (pure: edits a copy). Only the releases that live
    in the legacy history are edited here; declarative ones keep their records in their Secrets."""
    doc = copy.deepcopy(doc)  # YAML may hold dates and other values JSON cannot copy
    if plan.traffic is not None:
        # Blue/green: Harness's swap bookkeeping moves bgEnvironment and changes no status.
        for release, environment in plan.traffic.environments:
            if release.is_legacy:
                history_codec.set_bg_environment(doc, release.number, environment)
        return doc
    if plan.new_release is not None:
        if not plan.target.is_legacy:  # a declarative release is recorded anew in a Secret of its own
            return doc
        # A roll forward fails nothing: the release it returns to is recorded again, Succeeded, as the
        # newest (roll_forward.py), with the numbers the controller gave its revisions.
        history_codec.add_release_copy(doc, plan.target.number, plan.new_release, Status.SUCCEEDED)
        for ref, number in sorted(new_revisions.items()):
            if number is not None and any(w.ref == ref for w in plan.target.workloads):
                history_codec.set_workload_revision(doc, plan.new_release, ref, number)
        return doc
    if plan.current.is_legacy:
        # Harness marks the release it rolled back from Failed, whatever it was recorded as.
        history_codec.set_release_status(doc, plan.current.number, Status.FAILED)
    if not plan.target.is_legacy:  # declarative, or a revision no release records (--to-revision)
        return doc
    for ref, number in sorted(new_revisions.items()):
        recorded = next((w for w in plan.target.workloads if w.ref == ref), None)
        if recorded is not None and number is not None:
            history_codec.set_workload_revision(doc, plan.target.number, ref, number)
    return doc


def history_patch(store: HistoryStore, doc: dict) -> dict:
    """The patch that writes `doc` back where and how it was read, guarded by the version read."""
    data: dict = history_codec.encode_history(doc, store.kind, store.compressed)
    if not store.compressed:
        data.setdefault(history_codec.COMPRESSED_KEY, None)  # a merge patch null removes a stale flag
    return {"metadata": {"resourceVersion": store.resource_version}, "data": data}


def history_edit(store: HistoryStore, doc: dict, changes: list[dict]) -> Edit:
    """Writing `doc` back into `store`, reported as `changes`."""
    return Edit(store.kind, store.name, store.namespace, history_patch(store, doc),
                outcome.history_updated(store.kind, store.name, changes), guarded=True)


def _changes(plan: Plan, revisions: dict[WorkloadRef, int]) -> list[dict]:
    """What the write changes, for the outcome (the numbers the controller gave, once known)."""
    if plan.traffic is not None:
        return [{"release": r.number, "bgEnvironment": env} for r, env in plan.traffic.environments if r.is_legacy]
    if plan.new_release is not None:
        return [{"release": plan.new_release, "status": Status.SUCCEEDED.value,
                 "description": outcome.roll_forward_description(plan.target.number)}] + [
            {"release": plan.new_release, "kind": ref.kind, "name": ref.name, "revision": n}
            for ref, n in sorted(revisions.items()) if n is not None]
    changes = [{"release": plan.current.number, "status": Status.FAILED.value}] if plan.current.is_legacy else []
    if plan.target.is_legacy:
        changes += [{"release": plan.target.number, "kind": ref.kind, "name": ref.name, "revision": n}
                    for ref, n in sorted(revisions.items()) if n is not None]
    return changes


class LegacyHistory:
    """The legacy history ConfigMap or Secret: it decides status and numbers where it records them."""

    source = Source.LEGACY
    fallback = False

    def read(self, fetch, release_name: str, objects: ClusterObjects) -> None:
        """A Secret without a non-empty releaseHistory is not the history: Harness then reads the
        ConfigMap and warns about the clash."""
        secret = fetch(Read("get", kinds.SECRET.name, release_name))
        if secret is not None:
            if (secret.get("data") or {}).get(HISTORY_KEY):
                objects.history, objects.history_kind = secret, kinds.SECRET.name
                return
            objects.notes.append(f"secret/{release_name} is named like the release but holds no {HISTORY_KEY}: it "
                                 f"is not the release history (Harness reads the ConfigMap {release_name} instead, "
                                 "as this plugin does)")
        config_map = fetch(Read("get", kinds.CONFIG_MAP.name, release_name))
        if config_map is not None:
            objects.history, objects.history_kind = config_map, kinds.CONFIG_MAP.name

    def releases(self, objects: ClusterObjects, model: ReleaseModel) -> list[Release]:
        if objects.history is None:
            return []
        meta = objects.history["metadata"]
        doc, compressed = objects.decoded_history or history_codec.decode_history(
            objects.history_kind, meta["name"], objects.namespace, objects.history.get("data"))
        model.history_store = HistoryStore(objects.history_kind, meta["name"], objects.namespace, compressed,
                                           meta.get("resourceVersion", ""), doc)
        if objects.parsed_releases is not None:
            return list(objects.parsed_releases)
        return history_codec.releases_from_history(doc, f"{objects.history_kind.lower()}/{meta['name']}",
                                                   objects.namespace)

    def edits(self, model: ReleaseModel, plan: Plan, revisions: dict[WorkloadRef, int] | None) -> list[Edit]:
        store = model.history_store
        if store is None:
            return []
        if revisions is None:  # planned: the history is written whenever a release it records is involved
            changes = _changes(plan, {})
            involved = (changes if plan.traffic is not None
                        else plan.target.is_legacy if plan.rolls_forward  # the release recorded anew
                        else plan.current.is_legacy or plan.target.is_legacy)
            return [Edit(store.kind, store.name, model.namespace, None,
                         outcome.history_updated(store.kind, store.name, changes), guarded=True)] if involved else []
        doc = updated_history_doc(store.document, plan, revisions)
        if doc == store.document:
            return []
        return [history_edit(store, doc, _changes(plan, revisions))]

    def rights(self, model: ReleaseModel, plan: Plan) -> list[Right]:
        store = model.history_store
        if store is None:
            return []
        return [Right("patch", store.kind, f"to record the rollback in {store.kind.lower()}/{store.name}")]


STORE = LegacyHistory()
