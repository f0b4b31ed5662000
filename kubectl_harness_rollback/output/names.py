"""`-o name`: what a command lists, one name a line, in kubectl's TYPE/NAME form. Pure.

kubectl prints `deployment.apps/web` (the kind, lowercase, qualified by its API group): the form
`kubectl get`, `kubectl rollout` and this plugin's TARGET all take back. A release has no API kind
of its own, so it is `release/NAME`, which TARGET takes too. A history lists releases of one name,
so its names are the release numbers, what `--to-release N` and `diff REL A B` take.
"""

from __future__ import annotations

from kubectl_harness_rollback import kinds


def object_name(kind: str, name: str) -> str:
    """kubectl's -o name of one object: "deployment.apps/web", "service/web"."""
    known = kinds.named(kind)
    group = known.group if known is not None else ""
    return f"{kind.lower()}.{group}/{name}" if group else f"{kind.lower()}/{name}"


def releases(rows: list[dict]) -> list[str]:
    """`list`: each release name, as TARGET takes it."""
    return [f"release/{row['release']}" for row in rows]


def release_numbers(rows: list[dict]) -> list[str]:
    """`history`: the release numbers, newest first (a revision no release records has none)."""
    return [str(row["number"]) for row in rows if row.get("number") is not None]


def workloads(view: dict) -> list[str]:
    """`status`: the release's workloads."""
    return [object_name(w["kind"], w["name"]) for w in view["workloads"]]


def changed_objects(view: dict) -> list[str]:
    """`plan`: every object the rollback would write, in its order (as `kubectl apply -o name` names
    what it applies): what it deletes first, the workloads it restores, what it re-applies, the
    Services it swaps back."""
    names = [object_name(item["kind"], item["name"]) for key in ("delete", "prune") for item in view.get(key) or []]
    names += [object_name(w["kind"], w["name"]) for w in view["workloads"] if not w.get("unchanged")]
    names += [object_name(item["kind"], item["name"]) for item in view.get("reapply") or []]
    names += [object_name(kinds.SERVICE.name, s["name"]) for s in view.get("services") or [] if s["fromColor"] != s["toColor"]]
    return list(dict.fromkeys(names))


def text(names: list[str]) -> str:
    return "".join(f"{name}\n" for name in names)
