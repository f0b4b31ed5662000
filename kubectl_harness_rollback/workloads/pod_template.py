"""Pod templates, read as a user thinks of them: what they reference, what restoring one changes (pure)."""

from __future__ import annotations


def referenced_config(template: dict, pull_secrets: bool = True) -> list[tuple[str, str]]:
    """(kind, name) of every ConfigMap and Secret a pod template needs (optional ones excluded);
    `pull_secrets` False leaves out its image pull Secrets."""
    spec = (template or {}).get("spec") or {}
    found: list[tuple[str, str]] = []

    def need(kind: str, ref: dict | None, key: str = "name") -> None:
        if ref and ref.get(key) and not ref.get("optional"):
            found.append((kind, ref[key]))

    for volume in spec.get("volumes") or []:
        need("ConfigMap", volume.get("configMap"))
        need("Secret", volume.get("secret"), "secretName")
        for source in (volume.get("projected") or {}).get("sources") or []:
            need("ConfigMap", source.get("configMap"))
            need("Secret", source.get("secret"))
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for source in container.get("envFrom") or []:
            need("ConfigMap", source.get("configMapRef"))
            need("Secret", source.get("secretRef"))
        for env in container.get("env") or []:
            value_from = env.get("valueFrom") or {}
            need("ConfigMap", value_from.get("configMapKeyRef"))
            need("Secret", value_from.get("secretKeyRef"))
    for pull_secret in (spec.get("imagePullSecrets") or []) if pull_secrets else []:
        need("Secret", pull_secret)
    return sorted(set(found))


# PriorityClasses the API server defines itself: they always exist.
BUILT_IN_PRIORITY_CLASSES = frozenset({"system-cluster-critical", "system-node-critical"})


def referenced_objects(template: dict) -> list[tuple[str, str]]:
    """(kind, name) of the ServiceAccount, PriorityClass and PersistentVolumeClaims a pod template
    names: without them no pod of it is ever created (or scheduled)."""
    spec = (template or {}).get("spec") or {}
    found: set[tuple[str, str]] = set()
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if account:
        found.add(("ServiceAccount", account))
    if spec.get("priorityClassName") and spec["priorityClassName"] not in BUILT_IN_PRIORITY_CLASSES:
        found.add(("PriorityClass", spec["priorityClassName"]))
    for volume in spec.get("volumes") or []:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            found.add(("PersistentVolumeClaim", claim))
    return sorted(found)


def image_pull_secrets(template: dict) -> list[str]:
    """The names of the Secrets a pod template pulls its images with."""
    spec = (template or {}).get("spec") or {}
    return sorted({s.get("name") for s in spec.get("imagePullSecrets") or [] if s.get("name")})


def _containers(template: dict) -> dict[str, dict]:
    spec = (template or {}).get("spec") or {}
    return {c.get("name", ""): c for c in spec.get("containers") or []}


def _env(container: dict) -> dict[str, object]:
    return {e.get("name"): e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


def describe_changes(live: dict, restored: dict) -> list[str]:
    """Lines such as 'image web: web:2 -> web:1' for every difference that matters to a user."""
    lines = []
    now, after = _containers(live), _containers(restored)
    for name in sorted(set(now) | set(after)):
        if name not in after:
            lines.append(f"container {name}: removed")
            continue
        if name not in now:
            lines.append(f"container {name}: added (image {after[name].get('image')})")
            continue
        if now[name].get("image") != after[name].get("image"):
            lines.append(f"image {name}: {now[name].get('image')} -> {after[name].get('image')}")
        env_now, env_after = _env(now[name]), _env(after[name])
        for key in sorted(set(env_now) | set(env_after), key=str):
            if key not in env_after:
                lines.append(f"env {name}.{key}: removed")
            elif key not in env_now:
                lines.append(f"env {name}.{key}: added")
            elif env_now[key] != env_after[key]:
                lines.append(f"env {name}.{key}: changed")  # values may be secret-derived: never shown
    refs_now, refs_after = set(referenced_config(live)), set(referenced_config(restored))
    for kind, ref in sorted(refs_after - refs_now):
        lines.append(f"{kind.lower()}/{ref}: now referenced")
    for kind, ref in sorted(refs_now - refs_after):
        lines.append(f"{kind.lower()}/{ref}: no longer referenced")
    return lines
