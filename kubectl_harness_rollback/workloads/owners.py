"""Who else owns a workload: Argo CD, Flux or Helm, recognised from its metadata (pure).

A rollback here writes the workload's template. A GitOps controller that tracks the workload puts
what its source says back at its next sync (Argo CD with self-heal, Flux on every reconcile), so
the failed version comes back and a second rollback fights it; the owner's own rollback is the
one that sticks. Helm does not reconcile: it only records, in `meta.helm.sh/*` annotations and
its release Secrets, which release owns the object, and its next `helm upgrade` refuses an object
whose ownership annotations are gone ("invalid ownership metadata").

Evidence, per owner (what each tool writes on the objects it manages):
- Argo CD: the `argocd.argoproj.io/tracking-id` annotation (annotation tracking,
  `<app>:<group>/<kind>:<namespace>/<name>`, `<app namespace>_<app>` for apps in any namespace);
  the `argocd.argoproj.io/instance` label (a common custom tracking label); the
  `app.kubernetes.io/instance` label (label tracking) only together with another sign of Argo CD,
  since Helm charts set that label on everything; the field managers `argocd-controller`
  (Argo CD's server-side apply manager) and `argocd-application-controller`.
- Flux: the `kustomize.toolkit.fluxcd.io/name`/`namespace` labels (a Kustomization),
  `helm.toolkit.fluxcd.io/name`/`namespace` (a HelmRelease); the field managers
  `kustomize-controller` and `helm-controller`. `kustomize.toolkit.fluxcd.io/reconcile: disabled`
  on the object stops Flux from touching it.
- Helm: the `meta.helm.sh/release-name` (and `-namespace`) annotations, with
  `app.kubernetes.io/managed-by: Helm`; the field manager `helm`.
"""

from __future__ import annotations

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import PluginError

ARGO_TRACKING_ID = "argocd.argoproj.io/tracking-id"
ARGO_INSTANCE_LABEL = "argocd.argoproj.io/instance"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
FLUX_KUSTOMIZATION = ("kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace")
FLUX_HELM_RELEASE = ("helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace")
FLUX_RECONCILE = "kustomize.toolkit.fluxcd.io/reconcile"
HELM_RELEASE_NAME = "meta.helm.sh/release-name"
HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"

ARGO_MANAGERS = ("argocd-controller", "argocd-application-controller")
HELM_MANAGERS = ("helm",)

# Annotations and labels under these prefixes say who owns the object, not what a revision runs:
# a restore keeps them as they are now (README: "Other owners").
OWNERSHIP_PREFIXES = ("argocd.argoproj.io/", "kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/",
                      "meta.helm.sh/")

ARGO_CD, FLUX, HELM = "Argo CD", "Flux", "Helm"


@data_class(frozen=True)
class Owner:
    """One tool that owns a workload, and how to roll back through it."""

    tool: str  # Argo CD | Flux | Helm
    kind: str  # what the tool calls the owning object: Application, Kustomization, HelmRelease, release
    name: str | None  # None: recognised by its field manager alone, the object is not named
    namespace: str | None
    evidence: tuple[str, ...]  # what it was recognised by, for people
    # It reconciles the workload back to its source: a rollback here is undone by its next sync.
    gitops: bool
    command: str  # the owner's own way back

    @property
    def title(self) -> str:
        """"Argo CD Application shop-web", "Helm release web (namespace shop)"."""
        if self.name is None:
            return f"{self.tool} (its {self.kind} is not named on the object)"
        where = f" (namespace {self.namespace})" if self.namespace else ""
        return f"{self.tool} {self.kind} {self.name}{where}"

    @property
    def consequence(self) -> str:
        """What the owner does after a rollback made here."""
        if self.tool == ARGO_CD:
            return "if the Application syncs automatically with self-heal, Argo CD puts the failed version back"
        if self.tool == FLUX:
            return f"Flux puts the failed version back at the {self.kind}'s next reconcile"
        return ("Helm does not put it back by itself, but its next `helm upgrade` deploys whatever the chart says, "
                "and Helm's history does not know about this rollback")


def is_ownership_key(key: str) -> bool:
    """An annotation or label that says who owns the object (kept as it is by a restore)."""
    return key.startswith(OWNERSHIP_PREFIXES)


def owners_of(obj: dict) -> list[Owner]:
    """Every owner the object's annotations, labels and field managers name (Argo CD, Flux, Helm)."""
    meta = obj.get("metadata") or {}
    annotations = _strings(meta.get("annotations"))
    labels = _strings(meta.get("labels"))
    managers = {entry.get("manager") for entry in meta.get("managedFields") or [] if isinstance(entry, dict)}
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    found = [_argo(annotations, labels, managers), *_flux(annotations, labels, managers),
             _helm(annotations, labels, managers, namespace)]
    return [owner for owner in found if owner is not None]


def _strings(values: object) -> dict[str, str]:
    return {k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(values, dict) else {}


def _argo(annotations: dict[str, str], labels: dict[str, str], managers: set) -> Owner | None:
    evidence: list[str] = []
    app = None
    tracking = annotations.get(ARGO_TRACKING_ID)
    if tracking:
        evidence.append(f"annotation {ARGO_TRACKING_ID}")
        app = tracking.split(":", 1)[0] or None
    if labels.get(ARGO_INSTANCE_LABEL):
        evidence.append(f"label {ARGO_INSTANCE_LABEL}")
        app = app or labels[ARGO_INSTANCE_LABEL]
    by_manager = sorted(m for m in managers if m in ARGO_MANAGERS)
    evidence += [f"field manager {m}" for m in by_manager]
    other_signs = bool(evidence) or any(key.startswith("argocd.argoproj.io/") for key in annotations)
    if labels.get(INSTANCE_LABEL) and other_signs and app is None:
        # Label tracking: the label names the Application, but only Argo CD's other marks say it is Argo's.
        evidence.append(f"label {INSTANCE_LABEL}")
        app = labels[INSTANCE_LABEL]
    if not evidence:
        return None
    app_namespace = None
    if app and "_" in app:  # apps in any namespace: `<namespace>_<name>`, the CLI's `<namespace>/<name>`
        app_namespace, app = app.split("_", 1)
    cli_name = f"{app_namespace}/{app}" if app_namespace else (app or "APP")
    command = (f"argocd app rollback {cli_name} (Argo CD refuses while auto-sync is on: "
               f"argocd app set {cli_name} --sync-policy none first), or revert the change in Git")
    return Owner(ARGO_CD, "Application", app, app_namespace, tuple(evidence), True, command)


def _flux(annotations: dict[str, str], labels: dict[str, str], managers: set) -> list[Owner]:
    owners = []
    disabled = annotations.get(FLUX_RECONCILE, "").lower() == "disabled"
    for kind, (name_key, namespace_key), manager, cli in (
            ("Kustomization", FLUX_KUSTOMIZATION, "kustomize-controller", "kustomization"),
            ("HelmRelease", FLUX_HELM_RELEASE, "helm-controller", "helmrelease")):
        name, namespace = labels.get(name_key), labels.get(namespace_key)
        evidence = [f"label {name_key}"] if name else []
        if manager in managers:
            evidence.append(f"field manager {manager}")
        if not evidence:
            continue
        target = f"{name or 'NAME'} -n {namespace or 'NAMESPACE'}"
        after = "helm rollback" if kind == "HelmRelease" else "roll back"
        command = (f"flux suspend {cli} {target}, then {after} (and revert the change in Git before "
                   f"flux resume {cli} {target})")
        # Flux leaves an object annotated reconcile: disabled alone; it does not put anything back.
        gitops = not (kind == "Kustomization" and disabled)
        if not gitops:
            evidence.append(f"annotation {FLUX_RECONCILE}: disabled")
        owners.append(Owner(FLUX, kind, name, namespace, tuple(evidence), gitops, command))
    return owners


def _helm(annotations: dict[str, str], labels: dict[str, str], managers: set, namespace: str | None) -> Owner | None:
    release = annotations.get(HELM_RELEASE_NAME)
    evidence = [f"annotation {HELM_RELEASE_NAME}"] if release else []
    if release and labels.get(MANAGED_BY_LABEL) == "Helm":
        evidence.append(f"label {MANAGED_BY_LABEL}: Helm")
    evidence += [f"field manager {m}" for m in sorted(managers) if m in HELM_MANAGERS]
    if not evidence:
        return None
    release_namespace = annotations.get(HELM_RELEASE_NAMESPACE) or namespace
    command = f"helm rollback {release or 'RELEASE'} -n {release_namespace or 'NAMESPACE'}"
    return Owner(HELM, "release", release, release_namespace, tuple(evidence), False, command)


class OwnedElsewhere(PluginError):
    """`rollback` of a workload a GitOps controller reconciles, without --ignore-owner: refused
    before any write (exit 1), naming the owner's own rollback."""

    exit_code = 1


def gitops_owned(owned: list[tuple[str, Owner]]) -> list[tuple[str, Owner]]:
    """The (workload, owner) pairs whose owner reconciles the workload (Argo CD, Flux)."""
    return [(ref, owner) for ref, owner in owned if owner.gitops]


def refusal(owned: list[tuple[str, Owner]]) -> str | None:
    """The one-line reason `rollback` refuses without --ignore-owner (None: nothing reconciles)."""
    found = gitops_owned(owned)
    if not found:
        return None
    ref, owner = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return (f"{ref} is managed by {owner.title}{more}: {owner.consequence}, so a rollback here would not stick; "
            f"roll back with the owner: {owner.command}; or pass --ignore-owner to roll back here anyway; "
            "nothing was changed")


def owned_workloads(states) -> list[tuple[object, Owner]]:
    """(workload ref, owner) for each owner of each workload state, in the workloads' order."""
    return [(state.ref, owner) for state in sorted(states, key=lambda s: s.ref) for owner in owners_of(state.raw)]
