"""What `kubectl apply` (client-side) leaves on an object, computed without kubectl (pure).

Harness re-applies a release with `kubectl apply` (K8sTaskHelperBase.applyManifests), so a
declarative rollback must end exactly where `kubectl apply -f <that manifest>` ends, and leave the
object fit for the next `kubectl apply` and the next `kubectl apply --server-side`. Two facts do it:

- the `kubectl.kubernetes.io/last-applied-configuration` annotation, byte for byte as kubectl
  writes it (k8s.io/kubectl pkg/util/apply.go GetModifiedConfiguration): the manifest, namespace
  set, the annotation itself left out, `annotations: {}` where it has none, as Go's JSON encoder
  writes it (keys sorted, no spaces, `<>&` escaped, a final newline);
- field ownership. The server removes a field on apply only when the applier owns it, and the
  fields a `kubectl apply` set belong to the manager `kubectl-client-side-apply` (an Update). So
  the rollback first hands those fields to an Apply entry of the same name, exactly as
  client-go's util/csaupgrade does for `kubectl apply --server-side`, applies the release under it,
  then turns that entry back into the Update entry a client-side apply leaves.
"""

from __future__ import annotations

import copy
import json

ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
CSA_MANAGER = "kubectl-client-side-apply"  # kubectl apply's field manager (FieldManagerClientSideApply)
APPLY, UPDATE = "Apply", "Update"
_ANNOTATION_FIELD = ("f:metadata", "f:annotations", f"f:{ANNOTATION}")


def value(manifest: dict, namespace: str) -> str:
    """The annotation `kubectl apply -n NAMESPACE` writes for `manifest`."""
    obj = copy.deepcopy(manifest)
    meta = obj.setdefault("metadata", {})
    if not meta.get("namespace"):
        meta["namespace"] = namespace
    annotations = dict(meta.get("annotations") or {})
    annotations.pop(ANNOTATION, None)
    meta["annotations"] = annotations
    return go_json(obj) + "\n"


def go_json(obj: object) -> str:
    """JSON as Go's encoding/json writes it: sorted keys, compact, HTML characters escaped."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def parse(text: object) -> dict | None:
    """The configuration an annotation records; None when there is none or it is not JSON."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def expected(manifest: dict, namespace: str) -> dict:
    """The configuration the annotation records once `manifest` is applied."""
    return json.loads(value(manifest, namespace))


def records(annotation: object, manifest: dict) -> bool:
    """Whether a last-applied annotation records `manifest`: the last `kubectl apply` of the object
    applied it (the namespace it was applied to, and an empty `annotations`, aside)."""
    applied = parse(annotation)
    if applied is None or not isinstance(manifest, dict):
        return False

    def comparable(document: dict) -> dict:
        document = json.loads(json.dumps(document))  # YAML's types as JSON's
        meta = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
        meta.pop("namespace", None)
        meta["annotations"] = {k: v for k, v in (meta.get("annotations") or {}).items() if k != ANNOTATION}
        return document
    return comparable(applied) == comparable(manifest)


# --- field ownership ---------------------------------------------------------------------------------------

def _owns(entry: dict, path: tuple[str, ...]) -> bool:
    fields = entry.get("fieldsV1") or {}
    for step in path:
        if not isinstance(fields, dict) or step not in fields:
            return False
        fields = fields[step]
    return True


def _union(into: dict, other: dict) -> dict:
    for key, value in other.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            _union(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
    return into


def _main(entry: dict) -> bool:
    return not entry.get("subresource")


def csa_managers(managed_fields: list[dict]) -> set[str]:
    """The managers of Update operations that own the last-applied annotation: the client-side
    appliers (kubectl's migrateToSSAIfNecessary asks the same)."""
    return {e.get("manager", "") for e in managed_fields
            if e.get("operation") == UPDATE and _main(e) and _owns(e, _ANNOTATION_FIELD)}


def upgraded(managed_fields: list[dict], manager: str = CSA_MANAGER) -> list[dict] | None:
    """The managed fields with every client-side applier's fields handed to an Apply entry of
    `manager` (client-go util/csaupgrade.UpgradeManagedFields); None when there is nothing to do."""
    entries = copy.deepcopy(managed_fields or [])
    for csa in sorted(csa_managers(entries) | {CSA_MANAGER}):
        target = next((i for i, e in enumerate(entries)
                       if e.get("manager") == manager and e.get("operation") == APPLY and _main(e)), None)
        if target is None:
            target = next((i for i, e in enumerate(entries)
                           if e.get("manager") == csa and e.get("operation") == UPDATE and _main(e)), None)
            if target is None:
                continue
            entries[target] = {**entries[target], "manager": manager, "operation": APPLY}
        source = next((e for e in entries if e.get("manager") == csa and e.get("operation") == UPDATE and _main(e)
                       and e.get("apiVersion") == entries[target].get("apiVersion")), None)
        if source is not None:
            entries[target]["fieldsV1"] = _union(copy.deepcopy(entries[target].get("fieldsV1") or {}),
                                                 source.get("fieldsV1") or {})
        entries = [e for e in entries if not (e.get("manager") == csa and e.get("operation") == UPDATE and _main(e))]
    return None if entries == (managed_fields or []) else entries


def downgraded(managed_fields: list[dict], manager: str = CSA_MANAGER) -> list[dict] | None:
    """The managed fields with `manager`'s Apply entry turned into the Update entry a client-side
    apply leaves; None when there is none."""
    if not has_apply_entry(managed_fields, manager):
        return None
    return [{**e, "operation": UPDATE} if e.get("manager") == manager and e.get("operation") == APPLY and _main(e)
            else e for e in managed_fields]


def has_apply_entry(managed_fields: list[dict] | None, manager: str = CSA_MANAGER) -> bool:
    """An apply by this plugin was cut short before it handed the fields back."""
    return any(e.get("manager") == manager and e.get("operation") == APPLY and _main(e)
               for e in managed_fields or [])


def managed_fields_patch(entries: list[dict], resource_version: str) -> list[dict]:
    """The JSON patch that writes `entries`, refused with 409 if the object changed since it was
    read (client-go's UpgradeManagedFieldsPatch: "replace", not "test", for a 409)."""
    return [{"op": "replace", "path": "/metadata/managedFields", "value": entries},
            {"op": "replace", "path": "/metadata/resourceVersion", "value": resource_version}]
