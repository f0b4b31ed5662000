"""Whole-object comparison: which fields restoring an object changes, path by path (pure).

Two rules, one per way of restoring:
- a pod template restored from a revision (legacy releases, `kubectl rollout undo`): the whole
  template must be equal, ignoring the `pod-template-hash` label — kubectl's and the Deployment
  controller's EqualIgnoreHash (k8s.io/kubernetes pkg/controller/deployment/util/deployment_util.go);
- an object re-applied from a declarative release's stored manifest (`kubectl apply`): every field
  of the manifest must be as the manifest says, and every field the last `kubectl apply` set that
  the manifest no longer has must be gone (the three-way merge against
  `kubectl.kubernetes.io/last-applied-configuration`). Fields nobody applied (defaults, other
  writers) are not looked at, as kubectl apply leaves them.

Lists of objects are matched by their merge key (containers by name, env by name, ports by port),
as a strategic merge patch matches them, so a reordering is not a change.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.apply import last_applied
from kubectl_harness_rollback.data_class import data_class

if TYPE_CHECKING:
    from decimal import Decimal

HASH_LABEL = "pod-template-hash"
# Fields the API server owns: never part of what a restore changes.
SERVER_METADATA = frozenset({"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
                             "deletionGracePeriodSeconds", "managedFields", "selfLink", "ownerReferences"})
# The merge keys of the lists a release's objects hold, by field name: the strategic-merge-patch
# keys of the Kubernetes API (x-kubernetes-patch-merge-key). A list of objects not named here is
# matched by `name` when every element has one, else position by position.
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",), "initContainers": ("name",), "ephemeralContainers": ("name",),
    "env": ("name",), "volumes": ("name",), "volumeMounts": ("mountPath",), "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",), "hostAliases": ("ip",), "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
}
# `ports`: a container's by containerPort, a Service's by port (each with its protocol).
PORT_KEYS = (("containerPort", "protocol"), ("port", "protocol"))
QUANTITY_PARENTS = frozenset({"limits", "requests", "capacity", "hard", "overhead"})
# Decimal's arguments: decimal is imported only when quantities are compared (1.6 ms of a plan).
_SUFFIX = {"": 1, "n": "1e-9", "u": "1e-6", "m": "1e-3", "k": 10**3, "M": 10**6,
           "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
           "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_QUANTITY = re.compile(r"([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ABSENT = object()  # a field that is not there (None is a value)


@data_class(frozen=True)
class Difference:
    """One field that restoring changes: `now` is what the cluster has, `after` what it gets."""

    path: str
    now: object = ABSENT
    after: object = ABSENT

    def text(self, hide_values: bool = False) -> str:
        """`spec.template.spec.containers[app].env[MODE].value: BROKEN → safe`. Values are shown as
        the cluster stores them in the object's own spec (never a Secret's: `hide_values`)."""
        if self.now is ABSENT and self.after is ABSENT:
            return self.path
        if hide_values or self.path.endswith(f"[{last_applied.ANNOTATION}]"):
            what = "added" if self.now is ABSENT else "removed" if self.after is ABSENT else "changed"
            return f"{self.path}: {what}"
        return f"{self.path}: {_shown(self.now)} → {_shown(self.after)}"


def _shown(value: object) -> str:
    if value is ABSENT:
        return "<none>"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 60 else text[:57] + "..."


def _step(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key}]"


def _list_key(field: str, items: list) -> tuple[str, ...] | None:
    """The merge key of a list of objects, or None to compare it position by position."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    if field == "ports":
        return next((key for key in PORT_KEYS if all(key[0] in item for item in items)), None)
    key = LIST_KEYS.get(field)
    if key is None and all("name" in item for item in items):
        key = ("name",)
    return key if key is not None and all(key[0] in item for item in items) else None


def _key_of(item: dict, key: tuple[str, ...]) -> tuple:
    # A port's protocol defaults to TCP, so `{port: 80}` and `{port: 80, protocol: TCP}` are one port.
    return tuple(item.get(part, "TCP" if part == "protocol" else None) for part in key)


def _key_text(key_value: tuple) -> str:
    shown = [str(part) for part in key_value if part is not None]
    return "/".join(shown[:1] if len(shown) == 2 and shown[1] == "TCP" else shown)


def _quantity(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    match = _QUANTITY.fullmatch(str(value).strip())
    if match is None:
        return None
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(match.group(1)) * Decimal(_SUFFIX[match.group(2)])
    except InvalidOperation:
        return None


def _same_scalar(a: object, b: object, parent: str) -> bool:
    if a == b and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                         and not isinstance(a, bool) and not isinstance(b, bool) and a == b):
        return True
    if parent in QUANTITY_PARENTS:  # `cpu: 0.5` is stored as `500m`
        qa, qb = _quantity(a), _quantity(b)
        return qa is not None and qa == qb
    return False


def _empty(value: object) -> bool:
    return value is ABSENT or value is None or value == {} or value == []


# --- kubectl apply: the manifest's fields, then what the last apply set and the manifest dropped --------------

def _applied(want: object, have: object, path: str, field: str, parent: str, out: list[Difference]) -> None:
    """Every field of `want` (the manifest) that `have` (the cluster) does not hold as it says."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            if not (_empty(want) and _empty(have)):
                out.append(Difference(path, have, want))
            return
        for key, value in want.items():
            if value is None:  # `key: null` in a manifest deletes the field, which is then absent
                if key in have and have[key] is not None:
                    out.append(Difference(_step(path, key), have[key], ABSENT))
                continue
            _applied(value, have.get(key, ABSENT), _step(path, key), key, field, out)
        return
    if isinstance(want, list):
        key = _list_key(field, want)
        if key is None or not isinstance(have, list) or _list_key(field, have) != key:
            if not isinstance(have, list) or len(want) != len(have):
                if not (_empty(want) and _empty(have)):
                    out.append(Difference(path, have, want))
                return
            for index, (w, h) in enumerate(zip(want, have)):
                _applied(w, h, f"{path}[{index}]", field, parent, out)
            return
        present = {_key_of(item, key): item for item in have}
        for item in want:
            item_key = _key_of(item, key)
            _applied(item, present.get(item_key, ABSENT), f"{path}[{_key_text(item_key)}]", field, parent, out)
        return
    if have is ABSENT and isinstance(want, (str, int, float)) and not want:
        return  # a zero value the API server does not store (Go's omitempty): `value: ""` reads back absent
    if have is ABSENT or not _same_scalar(want, have, parent):
        out.append(Difference(path, have, want))


def _dropped(before: object, want: object, have: object, path: str, field: str, out: list[Difference]) -> None:
    """Every field the last apply set (`before`), the manifest no longer has, and the cluster still
    holds: kubectl apply deletes it."""
    if isinstance(before, dict) and isinstance(have, dict):
        want = want if isinstance(want, dict) else {}
        for key, value in before.items():
            if key not in have:
                continue
            if key not in want or want[key] is None:
                if want.get(key, ABSENT) is None:
                    continue  # a `null` in the manifest: _applied reports it
                out.append(Difference(_step(path, key), have[key], ABSENT))
            else:
                _dropped(value, want[key], have[key], _step(path, key), key, out)
    elif isinstance(before, list) and isinstance(have, list) and isinstance(want, list):
        key = _list_key(field, before)
        if key is None or _list_key(field, have) != key:
            return  # a list without a merge key is replaced whole: _applied compares it whole
        wanted = {_key_of(item, key): item for item in want if isinstance(item, dict)}
        present = {_key_of(item, key): item for item in have}
        for item in before:
            item_key = _key_of(item, key)
            if item_key not in present:
                continue
            if item_key not in wanted:
                out.append(Difference(f"{path}[{_key_text(item_key)}]", present[item_key], ABSENT))
            else:
                _dropped(item, wanted[item_key], present[item_key], f"{path}[{_key_text(item_key)}]", field, out)


def apply_differences(manifest: dict, live: dict | None, namespace: str) -> list[Difference]:
    """What `kubectl apply -f <manifest> -n <namespace>` changes on `live` (None: it creates it)."""
    if live is None:
        return [Difference("created from the stored manifest")]
    wanted = {key: value for key, value in manifest.items() if key != "status"}
    meta = dict(wanted.get("metadata") or {})
    for key in SERVER_METADATA:
        meta.pop(key, None)
    meta["namespace"] = meta.get("namespace") or namespace  # kubectl apply -n sets it
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != last_applied.ANNOTATION}
    meta["annotations"] = annotations
    wanted["metadata"] = meta
    if wanted.get("kind") == kinds.SECRET.name and isinstance(wanted.get("stringData"), dict):
        # The API server stores stringData into data, base64-encoded.
        data = dict(wanted.get("data") or {})
        data.update({k: base64.b64encode(str(v).encode()).decode() for k, v in wanted.pop("stringData").items()})
        wanted["data"] = data
    out: list[Difference] = []
    _applied(wanted, live, "", "", "", out)
    have = (live.get("metadata") or {}).get("annotations") or {}
    before = last_applied.parse(have.get(last_applied.ANNOTATION))
    if before is not None:
        _dropped({k: v for k, v in before.items() if k != "status"}, wanted, live, "", "", out)
    expected = last_applied.value(manifest, namespace)
    if last_applied.parse(have.get(last_applied.ANNOTATION)) != json.loads(expected):
        out.append(Difference(_step("metadata.annotations", last_applied.ANNOTATION),
                              have.get(last_applied.ANNOTATION, ABSENT), expected))
    if last_applied.has_apply_entry((live.get("metadata") or {}).get("managedFields")):
        # An earlier rollback stopped between its apply and handing the fields back.
        out.append(Difference(f"metadata.managedFields[{last_applied.CSA_MANAGER}]", last_applied.APPLY,
                              last_applied.UPDATE))
    return _unique(out)


def _unique(differences: list[Difference]) -> list[Difference]:
    seen, out = set(), []
    for difference in differences:
        if difference.path not in seen:
            seen.add(difference.path)
            out.append(difference)
    return out


# --- kubectl rollout undo: the whole template, but for the hash ------------------------------------------------

def _without_hash(template: dict) -> dict:
    """The template as EqualIgnoreHash compares it (and without a ControllerRevision's `$patch`)."""
    template = {k: v for k, v in (template or {}).items() if not k.startswith("$")}
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != HASH_LABEL}
    meta["labels"] = labels
    template["metadata"] = {k: v for k, v in meta.items() if not _empty(v) and k != "creationTimestamp"}
    return template


def _exact(a: object, b: object, path: str, field: str, parent: str, out: list[Difference]) -> None:
    """Every difference between `a` (now) and `b` (after), both ways."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if _empty(a.get(key, ABSENT)) and _empty(b.get(key, ABSENT)):
                continue
            _exact(a.get(key, ABSENT), b.get(key, ABSENT), _step(path, key), key, field, out)
        return
    if isinstance(a, list) and isinstance(b, list):
        key = _list_key(field, a + b)
        if key is None:
            if len(a) != len(b):
                out.append(Difference(path, a, b))
                return
            for index, (x, y) in enumerate(zip(a, b)):
                _exact(x, y, f"{path}[{index}]", field, parent, out)
            return
        now, after = {_key_of(i, key): i for i in a}, {_key_of(i, key): i for i in b}
        for item_key in list(now) + [k for k in after if k not in now]:
            _exact(now.get(item_key, ABSENT), after.get(item_key, ABSENT), f"{path}[{_key_text(item_key)}]",
                   field, parent, out)
        return
    if a is ABSENT or b is ABSENT or isinstance(a, (dict, list)) or isinstance(b, (dict, list)) \
            or not _same_scalar(a, b, parent):
        out.append(Difference(path, a, b))


def template_differences(live: dict, restored: dict, path: str = "spec.template") -> list[Difference]:
    """Every field in which the live pod template and the restored one differ (EqualIgnoreHash:
    none means they are equal)."""
    out: list[Difference] = []
    _exact(_without_hash(live), _without_hash(restored), path, "template", "", out)
    return out


# A controller writes its workloads' status all the time (a ReplicaSet counting pods that stop, a
# Deployment's conditions): that moves the resourceVersion a write is guarded by without changing
# anything the plan was made from. After a 409, an object whose spec, labels, annotations, owners
# and generation are still as read (only_status_moved) is written again with its new version, this many times at most.
STATUS_ONLY_RETRIES = 3


def only_status_moved(read: dict, now: dict, replicas_may_move: bool = False) -> bool:
    """Whether `now` differs from the object `read` only where controllers write (status,
    managedFields, resourceVersion): nothing a rollback restores or was planned from. With
    `replicas_may_move`, an autoscaler's write of spec.replicas (which moves the generation) is
    such a write too."""
    def planned_from(obj: dict) -> tuple:
        meta, spec = obj.get("metadata") or {}, obj.get("spec")
        generation = meta.get("generation")
        if replicas_may_move and isinstance(spec, dict):
            spec, generation = {k: v for k, v in spec.items() if k != "replicas"}, None
        return (spec, generation, meta.get("uid"), meta.get("labels"), meta.get("annotations"),
                meta.get("ownerReferences"), meta.get("deletionTimestamp"))
    return "spec" in read and planned_from(read) == planned_from(now)


# The comparison's own rules, for the diff shown to people (output/diff.py): the same template
# normalisation and the same list matching, so the diff and the field paths never disagree.
comparable_template = _without_hash
list_key = _list_key
key_of = _key_of
