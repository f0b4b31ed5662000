"""Helpers every workload adapter shares: selectors, owner references, images."""

from __future__ import annotations

from kubectl_harness_rollback import digits


def selector_string(selector: dict | None) -> str:
    """A LabelSelector as the query-string form the API takes (`a=b,c in (d,e)`)."""
    selector = selector or {}
    parts = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def controlled_by(child: dict, owner: dict) -> bool:
    """True if `owner` is the controller of `child` (the owner reference, not just the selector)."""
    uid = owner["metadata"]["uid"]
    return any(ref.get("uid") == uid and ref.get("controller")
               for ref in child["metadata"].get("ownerReferences") or [])


def template_images(template: object) -> tuple[str, ...]:
    """The images of a pod template's containers, in order (init containers are not the artifact
    a release ships). Tolerates malformed input: manifests also come from release Secrets."""
    spec = template.get("spec") if isinstance(template, dict) else None
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not isinstance(containers, list):
        return ()
    return tuple(c["image"] for c in containers if isinstance(c, dict) and isinstance(c.get("image"), str))


def annotations(obj: dict) -> dict[str, str]:
    return dict(obj.get("metadata", {}).get("annotations") or {})


def parse_revision_number(text: object) -> int | None:
    """kubectl's rule: a missing revision counts as 0, an unparsable one is skipped (None)."""
    if text is None or text == "":
        return 0
    return digits.natural(text)


def labels(obj: dict) -> dict[str, str]:
    """The object's labels merged with its pod template's (Harness labels either)."""
    template = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return {**(template.get("labels") or {}), **(obj.get("metadata", {}).get("labels") or {})}
