"""Harness declarative-rollback release Secrets: one Secret per release.

The Secret (type `harness.io/release/v2`, name `harness.release.<release name>.<N>`) says in its
labels which release it is and how it ended, in its annotations who deployed it, and in
`data.release` (gzip of multi-document YAML) every resource of the release. A declarative release
is restored by re-applying those manifests, so its workloads carry no revision.

As a ReleaseStore: read by one list (by label and type), parsed Secret by Secret, and a
rollback labels the very Secret a release was read from (status Failed, or bg-environment). A roll
forward creates the Secret of a new release instead (roll_forward.py), as Harness creates one per deploy.

Pure: no kubernetes client, no I/O, no printing. Secret contents never appear in a message.
"""

from __future__ import annotations

import base64

from kubectl_harness_rollback import digits, kinds, outcome
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import CorruptHistory
from kubectl_harness_rollback.harness_names import INFRA_ID as ANNOTATION_INFRA
from kubectl_harness_rollback.harness_names import (
    LABEL_BG_ENVIRONMENT,
    LABEL_COLOR,
    LABEL_RELEASE,
    LABEL_RELEASE_NUMBER,
    LABEL_STATUS,
    RELEASE_KEY,
    RELEASE_SECRET_TYPE,
    SECRET_NAME_PREFIX,
    SECRET_OWNER_LABEL,
    SECRET_OWNER_VALUE,
)
from kubectl_harness_rollback.harness_names import SERVICE_ID as ANNOTATION_SERVICE
from kubectl_harness_rollback.model import (
    Identity,
    InfraMapping,
    Release,
    ReleaseModel,
    ReleaseWorkload,
    Source,
    Status,
    WorkloadRef,
)
from kubectl_harness_rollback.records.bounded import (
    GZIP_MAGIC,
    MAX_COMPRESSED_BYTES,
    check_text_bounds,
    gunzip,
    load_yaml,
    unbase64,
    utf8,
)
from kubectl_harness_rollback.records.store import ClusterObjects, Edit, Plan, Read, Right
from kubectl_harness_rollback.workloads.common import template_images

WORKLOAD_KINDS = kinds.WORKLOAD_NAMES


@data_class
class DeclarativeRelease:
    """A release read from its Secret, with the manifests that re-applying it would restore."""

    release: Release
    manifests: list[dict]
    secret_name: str


def parse_release_secret(name: str, namespace: str, labels: dict | None, annotations: dict | None,
                         data: dict | None) -> DeclarativeRelease:
    """The release a declarative release Secret records. `data` is as the client returns it (base64)."""
    labels, annotations, data = labels or {}, annotations or {}, data or {}
    manifests = _manifests(name, namespace, data.get(RELEASE_KEY))
    release = Release(
        number=_number(name, namespace, labels.get(LABEL_RELEASE_NUMBER)),
        status=_status(name, namespace, labels.get(LABEL_STATUS)),
        workloads=[ReleaseWorkload(ref, None) for ref in _workload_refs(manifests, namespace)],
        source=Source.DECLARATIVE,
        # The Secret records no Workflow Id (FirstGen's), and no cluster name: annotations add those.
        identity=Identity(workflow_id=None, infra=InfraMapping(
            service_id=annotations.get(ANNOTATION_SERVICE) or None,
            infra_id=annotations.get(ANNOTATION_INFRA) or None,
            cluster_name=None,
            namespace=namespace,
        )),
        bg_environment=labels.get(LABEL_BG_ENVIRONMENT) or None,
        color=labels.get(LABEL_COLOR) or None,
        resources=_resource_refs(manifests, namespace),
        secret=name,
    )
    return DeclarativeRelease(release=release, manifests=manifests, secret_name=name)


def images_of(manifest: dict) -> tuple[str, ...]:
    """The container images of a workload manifest's pod template, in order."""
    spec = manifest.get("spec") if isinstance(manifest, dict) else None
    return template_images(spec.get("template") if isinstance(spec, dict) else None)


def _corrupt(name: str, namespace: str, reason: str) -> CorruptHistory:
    return CorruptHistory(f"declarative release secret/{name} in namespace {namespace} is corrupt: "
                          f"{reason}; fix or delete the Secret")


def _shown(value: object) -> str:
    """A label value for a message (labels are metadata, not Secret content), kept to one short line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(name: str, namespace: str, label: object) -> int:
    """The `release-number` label decides; an unlabelled Secret still carries N in its name."""
    if label is not None:
        number = digits.natural(label) if isinstance(label, str) else None
        if number is not None:
            return number
        raise _corrupt(name, namespace, f"label {LABEL_RELEASE_NUMBER} {_shown(label)} is not a number")
    suffix = name.rsplit(".", 1)[-1]
    number = digits.natural(suffix) if name.startswith(SECRET_NAME_PREFIX) else None
    if number is not None:
        return number
    raise _corrupt(name, namespace, f"it has no {LABEL_RELEASE_NUMBER} label and its name does not end in one")


def _status(name: str, namespace: str, label: object) -> Status:
    try:
        return Status.parse(label)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        what = f"it has no {LABEL_STATUS} label" if label is None else f"label {LABEL_STATUS} {_shown(label)} is unknown"
        raise _corrupt(name, namespace, f"{what} (expected one of {allowed})") from None


def _manifests(name: str, namespace: str, value: object) -> list[dict]:
    """The resource documents of `data.release`: base64 (the API's), then gzip, then YAML.
    Plain YAML without gzip is accepted too, as the legacy history is read leniently."""
    if not value:
        return []
    try:
        raw = unbase64(value, MAX_COMPRESSED_BYTES)
        if raw.startswith(GZIP_MAGIC):
            raw = gunzip(raw)  # bounded in bytes and lines while it inflates
        else:
            check_text_bounds(raw)
        text = utf8(raw)
        documents = load_yaml(text, every_document=True)
    except ValueError as exc:  # the reason names no content; see history_codec
        raise _corrupt(name, namespace, f"data.{RELEASE_KEY} {exc}") from None
    manifests = [doc for doc in documents if doc is not None]
    if not all(isinstance(doc, dict) for doc in manifests):
        raise _corrupt(name, namespace, f"data.{RELEASE_KEY} holds a YAML document that is not a mapping")
    return manifests


def _resource_refs(manifests: list[dict], namespace: str) -> list[WorkloadRef]:
    """Every resource of the release with a kind and a name, once each, in manifest order."""
    refs: list[WorkloadRef] = []
    for manifest in manifests:
        kind, name = manifest.get("kind"), _path(manifest, "metadata", "name")
        if isinstance(kind, str) and kind and isinstance(name, str) and name:
            own_namespace = _path(manifest, "metadata", "namespace")
            ref = WorkloadRef(kind, name, own_namespace if isinstance(own_namespace, str) and own_namespace
                              else namespace)
            if ref not in refs:
                refs.append(ref)
    return refs


def _workload_refs(manifests: list[dict], namespace: str) -> list[WorkloadRef]:
    """Every workload kind rollback knows, once each, in manifest order."""
    return [ref for ref in _resource_refs(manifests, namespace) if ref.kind in WORKLOAD_KINDS]


def _path(document: object, *keys: str) -> object:
    """document[k1][k2]...; None where a level is missing or is not a mapping."""
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def selector(release_name: str) -> str:
    """The label selector of a release's Secrets (K8sReleaseHandlerImpl.getReleaseHistory)."""
    return f"{SECRET_OWNER_LABEL}={SECRET_OWNER_VALUE},{LABEL_RELEASE}={release_name}"


def is_release_secret(secret: dict) -> bool:
    """Harness reads only Secrets of its release type, whatever other Secrets carry its labels
    (K8sReleaseHandlerImpl.getReleaseHistory selects `type=harness.io/release/v2`)."""
    return secret.get("type") == RELEASE_SECRET_TYPE


def labelled_release(secret: dict) -> str | None:
    """The release a Secret's labels name (`owner=harness`, `release`), whatever its type."""
    labels = secret["metadata"].get("labels") or {}
    if labels.get(SECRET_OWNER_LABEL) != SECRET_OWNER_VALUE:
        return None
    return labels.get(LABEL_RELEASE)


def release_of(secret: dict) -> str | None:
    """The release a declarative release Secret belongs to (its `release` label), or None for any
    other Secret: one of another type is none, as for Harness."""
    return labelled_release(secret) if is_release_secret(secret) else None


def number_and_status(secret: dict) -> tuple[int | None, str | None]:
    """(release number, status) as a release Secret's labels say, without reading its data: what
    `list` shows. The number is None when the label is not one."""
    labels = secret["metadata"].get("labels") or {}
    return digits.natural(labels.get(LABEL_RELEASE_NUMBER)), labels.get(LABEL_STATUS)


def _labelled(model: ReleaseModel, release: Release, labels: dict[str, str]) -> Edit:
    """Label the very Secret the release was read from: a name rebuilt from the number could be
    another Secret, or none."""
    return Edit(kinds.SECRET.name, release.secret, model.namespace, {"metadata": {"labels": labels}},
                outcome.labelled(kinds.SECRET.name, release.secret, labels))


def secret_name(release_name: str, number: int) -> str:
    """Harness's name for the Secret of release `number` (K8sReleaseSecretHelper.generateName)."""
    return f"{SECRET_NAME_PREFIX}{release_name}.{number}"


def encode_manifests(manifests: list[dict]) -> str:
    """`data.release` for these manifests: gzip (a fixed mtime: the same release always encodes the
    same) of multi-document YAML, base64 as the API takes it."""
    import gzip  # writing only: a read inflates with records/bounded.py

    import yaml  # writing: a read loads with records/bounded.py

    raw = yaml.safe_dump_all(manifests, sort_keys=False).encode()
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode()


def _created(model: ReleaseModel, target: Release, number: int) -> Edit:
    """The Secret of a new release `number` holding `target`'s manifests, recorded Succeeded:
    named, labelled and typed as Harness's deploy creates one (K8sReleaseSecretHelper.generateName,
    generateLabels; its service and infra annotations, putHarnessReleaseMetadata), so Harness's next
    deploy numbers after it."""
    name = secret_name(model.release_name, number)
    infra = target.identity.infra if target.identity is not None else None
    annotations = {key: value for key, value in ((ANNOTATION_SERVICE, infra.service_id if infra else None),
                                                 (ANNOTATION_INFRA, infra.infra_id if infra else None)) if value}
    body = {"apiVersion": kinds.SECRET.api_version, "kind": kinds.SECRET.name, "type": RELEASE_SECRET_TYPE,
            "metadata": {"name": name, "namespace": model.namespace,
                         "labels": {SECRET_OWNER_LABEL: SECRET_OWNER_VALUE, LABEL_RELEASE: model.release_name,
                                    LABEL_RELEASE_NUMBER: str(number), LABEL_STATUS: Status.SUCCEEDED.value},
                         **({"annotations": annotations} if annotations else {})},
            "data": {RELEASE_KEY: encode_manifests(target.manifests)}}
    item = outcome.release_created(kinds.SECRET.name, name, number, Status.SUCCEEDED.value,
                                   outcome.roll_forward_description(target.number))
    # Guarded: a create meets a Secret of that name made since the read (a deploy) with a 409.
    return Edit(kinds.SECRET.name, name, model.namespace, body, item, guarded=True, verb="create")


class ReleaseSecrets:
    """Declarative release Secrets: releases the legacy history does not record continue it."""

    source = Source.DECLARATIVE
    fallback = False

    def read(self, fetch, release_name: str, objects: ClusterObjects) -> None:
        objects.release_secrets = fetch(Read("list", kinds.SECRET.name, label_selector=selector(release_name))) or []

    def releases(self, objects: ClusterObjects, model: ReleaseModel) -> list[Release]:
        """A Secret of another type that carries the labels is no release (a note names it, never
        its content); two Secrets saying they are the same release are refused: which one is the
        truth would depend on the API's list order."""
        releases: list[Release] = []
        read_from: dict[int, str] = {}
        for secret in sorted(objects.release_secrets, key=lambda s: s["metadata"]["name"]):
            meta = secret["metadata"]
            if not is_release_secret(secret):
                model.notes.append(
                    f"secret/{meta['name']} carries the labels of a release of {objects.release_name} but is not of "
                    f"type {RELEASE_SECRET_TYPE}: it is not a release, and is ignored (as Harness ignores it)")
                continue
            parsed = parse_release_secret(meta["name"], objects.namespace, meta.get("labels") or {},
                                          meta.get("annotations") or {}, secret.get("data") or {})
            number = parsed.release.number
            if number in read_from:
                raise CorruptHistory(
                    f"declarative release secret/{read_from[number]} and secret/{meta['name']} in namespace "
                    f"{objects.namespace} both say they are release {number} of {objects.release_name}; nothing "
                    "was changed: delete the one that is not the release",
                    reason=f"two release Secrets say they are release {number}")
            read_from[number] = meta["name"]
            parsed.release.manifests = parsed.manifests
            releases.append(parsed.release)
        return releases

    def edits(self, model: ReleaseModel, plan: Plan, revisions: dict[WorkloadRef, int] | None) -> list[Edit]:
        if plan.traffic is not None:  # blue/green swap bookkeeping: the harness.io/bg-environment label
            return [_labelled(model, release, {LABEL_BG_ENVIRONMENT: environment})
                    for release, environment in plan.traffic.environments if release.is_declarative]
        if plan.rolls_forward:  # a roll forward fails nothing: it records the release returned to anew
            if plan.target is not None and plan.target.is_declarative and plan.new_release is not None:
                return [_created(model, plan.target, plan.new_release)]
            return []
        if not plan.current.is_declarative or plan.current.status == Status.FAILED:
            return []
        return [_labelled(model, plan.current, {LABEL_STATUS: Status.FAILED.value})]

    def rights(self, model: ReleaseModel, plan: Plan) -> list[Right]:
        if plan.rolls_forward and plan.target is not None and plan.target.is_declarative:
            return ([Right("create", kinds.SECRET.name, "to record the roll forward as a new release Secret")]
                    if plan.new_release is not None else [])
        if any(r.is_declarative for r in (plan.current, plan.target) if r is not None):
            return [Right("patch", kinds.SECRET.name, "to record the rollback on the release Secrets")]
        return []


STORE = ReleaseSecrets()
