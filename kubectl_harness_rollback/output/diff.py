"""`plan --diff` and `diff`: unified diffs of what a rollback changes, or of two releases (pure).

Legacy releases keep pod templates in revisions: the diff is the whole pod template, live against
the revision restored (the pod-template-hash label aside, as the Deployment controller compares
them). Declarative releases are re-applied: the diff is of every field `kubectl apply` sets or
removes (the stored manifest's fields and those the last apply set), live against the manifest,
for each object whose re-apply changes something (apply/object_diff.py decides which). A Secret's
values are never shown: each is `***`, and `*** (before)` / `*** (after)` where it changes, as
`kubectl diff` masks them.
"""

from __future__ import annotations

import copy
import difflib

import yaml

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.apply import last_applied, object_diff
from kubectl_harness_rollback.apply.reapply_scope import split_scope
from kubectl_harness_rollback.display import shown
from kubectl_harness_rollback.model import Release, ReleaseModel

# ANSI colors, as `git diff` uses them: removed red, added green, hunk headers cyan, file headers bold.
RED, GREEN, CYAN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m"
SECRET_FIELDS = ("data", "stringData")
SERVER_FIELDS = ("status",)


def _template(template: dict | None) -> dict:
    return object_diff.comparable_template(template or {})


def _masked(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Both Secrets with every value replaced: `***` where equal, `*** (before)`/`*** (after)` where not."""
    before, after = copy.deepcopy(before), copy.deepcopy(after)
    for field in SECRET_FIELDS:
        old = (before or {}).get(field) if isinstance((before or {}).get(field), dict) else {}
        new = (after or {}).get(field) if isinstance((after or {}).get(field), dict) else {}
        if before is not None and field in before:
            before[field] = {k: "***" if new.get(k) == v else "*** (before)" for k, v in old.items()}
        if after is not None and field in after:
            after[field] = {k: "***" if old.get(k) == v else "*** (after)" for k, v in new.items()}
    return before, after


def _project(value: object, shape: object, field: str = "") -> object:
    """The part of `value` at the fields `shape` names (lists of objects matched by merge key):
    what `kubectl apply` of `shape` looks at."""
    if isinstance(value, dict) and isinstance(shape, dict):
        return {k: _project(value[k], shape[k], k) for k in shape if k in value}
    if isinstance(value, list) and isinstance(shape, list):
        key = object_diff.list_key(field, value + shape)
        if key is None:
            return value
        wanted = {object_diff.key_of(item, key): item for item in shape}
        return [_project(item, wanted[k], field) if k in wanted else item
                for item in value for k in [object_diff.key_of(item, key)]]
    return value


def _merged(a: dict, b: dict) -> dict:
    out = copy.deepcopy(a)
    for key, value in b.items():
        out[key] = _merged(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) else value
    return out


def applied_pair(manifest: dict, live: dict | None, namespace: str) -> tuple[dict | None, dict]:
    """(the live object, what re-applying `manifest` leaves), each on the fields the apply touches:
    the manifest's and those the last apply set (which it removes when the manifest has them not)."""
    wanted = {k: v for k, v in manifest.items() if k not in SERVER_FIELDS}
    wanted = copy.deepcopy(wanted)
    meta = wanted.setdefault("metadata", {})
    meta["namespace"] = meta.get("namespace") or namespace
    for key in object_diff.SERVER_METADATA:
        meta.pop(key, None)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != last_applied.ANNOTATION}
    meta.pop("annotations", None)
    if annotations:
        meta["annotations"] = annotations
    if live is None:
        return None, wanted
    have = dict(live)
    have_meta = dict(have.get("metadata") or {})
    before = last_applied.parse((have_meta.get("annotations") or {}).get(last_applied.ANNOTATION)) or {}
    have_meta["annotations"] = {k: v for k, v in (have_meta.get("annotations") or {}).items()
                                if k != last_applied.ANNOTATION}
    have["metadata"] = have_meta
    shape = _merged({k: v for k, v in before.items() if k not in SERVER_FIELDS}, wanted)
    return _project(have, shape), wanted


def _document(obj: dict | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=False).splitlines()


def unified(name: str, before_label: str, after_label: str, before: dict | None, after: dict | None,
            secret: bool = False) -> list[str]:
    """The unified diff lines of one object (none when equal); a Secret's values masked."""
    if secret:
        before, after = _masked(before, after)
    lines = list(difflib.unified_diff(_document(before), _document(after), f"{before_label}/{name}",
                                      f"{after_label}/{name}", lineterm="", n=3))
    return [shown(line) if not line.startswith(("---", "+++")) else line for line in lines]


def colored(lines: list[str], color: bool) -> str:
    """The diff as text: coloured as `git diff` colours it when `color`, plain otherwise."""
    if not color:
        return "".join(line + "\n" for line in lines)
    out = []
    for line in lines:
        paint = (BOLD if line.startswith(("---", "+++")) else CYAN if line.startswith("@@")
                 else RED if line.startswith("-") else GREEN if line.startswith("+") else "")
        out.append(f"{paint}{line}{RESET}\n" if paint else line + "\n")
    return "".join(out)


def plan_diff(model: ReleaseModel, plan) -> list[str]:
    """Every object the planned rollback changes: live against what the rollback leaves."""
    target = plan.target
    if target is None:
        return []
    label = f"release-{target.number}" if target.number is not None else "restored"
    lines: list[str] = []
    if target.is_declarative and plan.traffic is None:
        live = model.live_objects or {}
        for obj, manifest in split_scope(target.manifests, model.namespace)[0]:
            now = live.get((obj.group, obj.kind, obj.name))
            if not object_diff.apply_differences(manifest, now, model.namespace):
                continue
            before, after = applied_pair(manifest, now, model.namespace)
            lines += unified(str(obj), "live", label, before, after, secret=obj.kind == kinds.SECRET.name)
        return lines
    for change in plan.workloads:
        if change.unchanged or change.source is None:
            continue
        state = model.workloads.get(change.ref)
        now = ((state.raw.get("spec") or {}).get("template") if state else None)
        lines += unified(f"{change.ref}/spec.template", "live", label, _template(now), _template(change.source.template))
    return lines


def release_documents(model: ReleaseModel, release: Release) -> dict[str, tuple[dict, bool]]:
    """{object name: (what the release stores for it, whether it is a Secret)}: a legacy release's
    pod templates (from the revisions it recorded), a declarative release's manifests."""
    if release.is_declarative:
        return {str(obj): (applied_pair(manifest, None, model.namespace)[1], obj.kind == kinds.SECRET.name)
                for obj, manifest in split_scope(release.manifests, model.namespace)[0]}
    out = {}
    for workload in release.workloads:
        state = model.workloads.get(workload.ref)
        revision = state.revision(workload.revision) if state and workload.revision is not None else None
        if revision is not None:
            out[f"{workload.ref}/spec.template"] = (_template(revision.template), False)
    return out


def releases_diff(model: ReleaseModel, a: Release, b: Release) -> list[str]:
    """What changes from release `a` to release `b`, object by object (one missing: all added/removed)."""
    docs_a, docs_b = release_documents(model, a), release_documents(model, b)
    lines: list[str] = []
    for name in sorted(set(docs_a) | set(docs_b)):
        before, secret_a = docs_a.get(name, (None, False))
        after, secret_b = docs_b.get(name, (None, False))
        lines += unified(name, f"release-{a.number}", f"release-{b.number}", before, after, secret_a or secret_b)
    return lines
