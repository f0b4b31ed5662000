"""Harness's legacy release history: decode, parse into releases, edit, encode.

Edits are written back in exactly the encoding the history was read in.

One ConfigMap or Secret per release name holds the key `releaseHistory`: YAML, gzip-compressed
when `isReleaseHistoryCompressed` says so. Pure: no kubernetes client, no I/O, no printing. The
document is kept as the parsed YAML mapping so that fields this plugin does not know survive a
write back; the `Release` objects are a read-only view of it.
"""

from __future__ import annotations

import base64
import copy

from kubectl_harness_rollback import block_yaml, digits, kinds
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import CorruptHistory
from kubectl_harness_rollback.harness_names import COMPRESSED_KEY, HISTORY_KEY
from kubectl_harness_rollback.model import Release, ReleaseWorkload, Source, Status, WorkloadRef
from kubectl_harness_rollback.records.bounded import (
    _B64_SPACE,
    GZIP_MAGIC,
    MAX_COMPRESSED_BYTES,
    MAX_RELEASES,
    MAX_YAML_NODES,
    check_text_bounds,
    gunzip,
    load_yaml,
    unbase64,
    utf8,
)

SECRET_COMPRESSED_FLAG = b"\x01"  # Harness writes the single byte 1 into a Secret
CONFIGMAP_COMPRESSED_FLAG = "true"


def empty_history() -> dict:
    """What a missing or empty `releaseHistory` means."""
    return {"version": "v1", "releases": []}




def _step(key: str, step, value):
    """Run one codec step; a failure becomes a reason that starts with the key it was reading."""
    try:
        return step(value)
    except ValueError as exc:
        raise _Corrupt(f"{key} {exc}") from None


class _Corrupt(Exception):
    """A content-free reason, turned into CorruptHistory by the function that knows the object."""


@data_class(frozen=True)
class _Source:
    """The object being read, for one-line error messages that name it."""

    label: str  # configmap/NAME or secret/NAME
    namespace: str
    quote: bool = True  # whether a bad value of a ConfigMap may be quoted

    def corrupt(self, reason: str) -> CorruptHistory:
        return CorruptHistory(f"release history {self.label} in namespace {self.namespace} is corrupt: "
                              f"{reason}; fix or delete the object", reason=reason)

    def show(self, value: object) -> str:
        """` 'value'` to quote a bad value in a message, or nothing when it came from a Secret."""
        if not self.quote or self.label.lower().startswith("secret/"):
            return ""
        text = repr(value)
        return " " + (text if len(text) <= 40 else text[:37] + "...")


# -- decoding ---------------------------------------------------------------------------------

def decode_history(kind: str, name: str, namespace: str, data: dict[str, str] | None) -> tuple[dict, bool]:
    """The parsed history document of a ConfigMap's or Secret's `.data`, and whether it was gzipped.

    `data` is as the kubernetes client returns it: a Secret's values are base64 text.
    """
    source = _Source(f"{_kind(kind).lower()}/{name}", namespace)
    data = data or {}
    try:
        if _kind(kind) == kinds.SECRET.name:
            raw, compressed = _secret_bytes(data)
        else:
            raw, compressed = _configmap_bytes(data)
        doc = _document(raw)
    except _Corrupt as exc:
        raise source.corrupt(str(exc)) from None
    return doc, compressed


def _kind(kind: str) -> str:
    for known in (kinds.CONFIG_MAP.name, kinds.SECRET.name):
        if kind.lower() == known.lower():
            return known
    raise ValueError(f"a release history is a ConfigMap or a Secret, not {kind!r}")


def _configmap_bytes(data: dict) -> tuple[bytes | None, bool]:
    """ConfigMap data is text: compressed histories are base64 text of gzip, flagged "true"."""
    value, flag = data.get(HISTORY_KEY), data.get(COMPRESSED_KEY)
    flagged = isinstance(flag, str) and flag.strip().lower() == CONFIGMAP_COMPRESSED_FLAG
    if not value:
        return None, flagged
    if not isinstance(value, str):
        raise _Corrupt(f"{HISTORY_KEY} is not text")
    if flagged or _is_base64_gzip(value):  # lenient like Harness: the gzip magic decides too
        return _step(HISTORY_KEY, gunzip, _step(HISTORY_KEY, _compressed, value)), True
    _step(HISTORY_KEY, check_text_bounds, value)
    return value.encode("utf-8", "surrogatepass"), False  # a lone surrogate then fails as "not UTF-8"


def _compressed(text: object) -> bytes:
    return unbase64(text, MAX_COMPRESSED_BYTES)


def _is_base64_gzip(value: str) -> bool:
    try:  # the magic is in the first 4 characters of base64 text: decode no more than 8 of them
        return unbase64(_B64_SPACE.sub("", value[:64])[:8]).startswith(GZIP_MAGIC)
    except ValueError:
        return False


def _secret_bytes(data: dict) -> tuple[bytes | None, bool]:
    """Secret data is base64 of the bytes themselves: the gzip stream, and the flag byte 0x01."""
    value, flag = data.get(HISTORY_KEY), data.get(COMPRESSED_KEY)
    flagged = False
    if flag:
        flag_bytes = _step(COMPRESSED_KEY, unbase64, flag).strip().lower()
        flagged = flag_bytes in (SECRET_COMPRESSED_FLAG, b"true", b"1")  # 0x01; text forms, leniently
    if not value:
        return None, flagged
    raw = _step(HISTORY_KEY, _compressed, value)
    if flagged or raw.startswith(GZIP_MAGIC):
        return _step(HISTORY_KEY, gunzip, raw), True
    _step(HISTORY_KEY, check_text_bounds, raw)
    return raw, False


def _document(raw: bytes | None) -> dict:
    """The YAML mapping; empty text (or a document of only comments) is an empty history."""
    if raw is None:
        return empty_history()
    doc = _step(HISTORY_KEY, _load_history_yaml, _step(HISTORY_KEY, utf8, raw))
    if doc is None:
        return empty_history()
    if not isinstance(doc, dict):
        raise _Corrupt(f"{HISTORY_KEY} is not a YAML mapping")
    if not isinstance(doc.get("releases", []), (list, type(None))):
        raise _Corrupt("releases is not a list")
    if len(doc.get("releases") or []) > MAX_RELEASES:  # a `releases: *alias` the count did not see
        raise _Corrupt(f"{HISTORY_KEY} has more than {MAX_RELEASES} releases")
    return doc


def _load_history_yaml(text: str):
    # The block YAML Harness writes is read by block_yaml; anything else by PyYAML.
    doc = block_yaml.read(text, max_nodes=MAX_YAML_NODES, max_releases=MAX_RELEASES)
    return load_yaml(text, max_releases=MAX_RELEASES) if doc is block_yaml.DECLINED else doc


# -- releases -----------------------------------------------------------------------------------

def releases_from_history(doc: dict, source: str, namespace: str, *, quote_values: bool = True) -> list[Release]:
    """The releases of a decoded history, newest first. `source` names the object ("configmap/x").

    A CorruptHistory quotes the bad value of a ConfigMap, unless `quote_values` is false (`list`)."""
    where = _Source(source, namespace, quote_values)
    items = doc.get("releases") if isinstance(doc, dict) else None
    if not isinstance(items, (list, type(None))):
        raise where.corrupt("releases is not a list")
    releases = [_release(item, position, where, namespace) for position, item in enumerate(items or [], 1)]
    seen: set[int] = set()
    for release in releases:
        if release.number in seen:
            raise where.corrupt(f"release number {release.number} appears more than once")
        seen.add(release.number)
    return sorted(releases, key=lambda r: r.number, reverse=True)


def _release(item: object, position: int, where: _Source, namespace: str) -> Release:
    if not isinstance(item, dict):
        raise where.corrupt(f"entry {position} of releases is not a mapping")
    number = _as_int(item.get("number"))
    if number is None:
        what = "has no number" if item.get("number") is None else "has a number that is not an integer"
        raise where.corrupt(f"entry {position} of releases {what}{where.show(item.get('number'))}")
    try:
        status = Status.parse(item.get("status"))
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        status = item.get("status")
        what = "no status" if status is None else f"an unknown status{where.show(status)}"
        raise where.corrupt(f"release {number} has {what} (expected one of {allowed})") from None
    bg_environment = item.get("bgEnvironment")
    return Release(
        number=number,
        status=status,
        workloads=_workloads(item, number, where, namespace),
        source=Source.LEGACY,
        store=where.label,
        resources=_resources(item.get("resources"), namespace),
        bg_environment=bg_environment if isinstance(bg_environment, str) and bg_environment else None,
    )


def _as_int(value: object) -> int | None:
    """A non-negative integer, or a string of digits as a YAML writer may leave one; else None."""
    return digits.natural(value)


def _workloads(item: dict, number: int, where: _Source, namespace: str) -> list[ReleaseWorkload]:
    """Both forms Harness writes: `managedWorkloads` (a list) and the single `managedWorkload` with
    `managedWorkloadRevision`, plus `customWorkloads`. A record carrying several means all of them;
    a workload is listed once."""
    found: list[ReleaseWorkload] = []
    many = item.get("managedWorkloads")
    if many is not None and not isinstance(many, list):
        raise where.corrupt(f"release {number} has a managedWorkloads that is not a list")
    for entry in many or []:
        if not isinstance(entry, dict):
            raise where.corrupt(f"release {number} has an entry of managedWorkloads that is not a mapping")
        ref = _workload_ref(entry.get("workload"), "managedWorkloads", number, where, namespace)
        found.append(ReleaseWorkload(ref, _revision(entry.get("revision"), ref, number, where)))
    single = item.get("managedWorkload")
    if single:  # Harness may leave an empty or null managedWorkload next to managedWorkloads
        ref = _workload_ref(single, "managedWorkload", number, where, namespace)
        found.append(ReleaseWorkload(ref, _revision(item.get("managedWorkloadRevision"), ref, number, where)))
    custom = item.get("customWorkloads")  # CRDs Harness manages (harness.io/managed-workload): no revision
    for entry in custom if isinstance(custom, list) else []:
        found.append(ReleaseWorkload(_custom_workload_ref(entry, namespace), None))
    unique: dict[WorkloadRef, ReleaseWorkload] = {}
    for workload in found:
        unique.setdefault(workload.ref, workload)
    return list(unique.values())


# A kind recorded in another case (`kind: deployment`) is still that workload: the API's spelling
# is what the cluster's objects are matched by.
_API_KINDS = {kind.lower(): kind for kind in kinds.WORKLOAD_NAMES}


def _workload_ref(value: object, field: str, number: int, where: _Source, namespace: str) -> WorkloadRef:
    if not isinstance(value, dict):
        raise where.corrupt(f"release {number} has a {field} workload that is not a mapping")
    kind, name, own_namespace = (_text(value.get(key)) for key in ("kind", "name", "namespace"))
    if not kind or not name:
        raise where.corrupt(f"release {number} has a {field} workload without a kind and a name")
    return WorkloadRef(_API_KINDS.get(kind.lower(), kind), name, own_namespace or namespace)


def _resources(value: object, namespace: str) -> list[WorkloadRef]:
    """The release's `resources` ({kind, name, namespace}); entries without a kind and a name are
    passed over: only the canary delete reads them, and it never guesses."""
    refs = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict) and _text(entry.get("kind")) and _text(entry.get("name")):
            refs.append(WorkloadRef(_text(entry["kind"]), _text(entry["name"]),
                                    _text(entry.get("namespace")) or namespace))
    return refs


def _custom_workload_ref(entry: object, namespace: str) -> WorkloadRef:
    """Harness stores a custom workload as a whole KubernetesResource (`resourceId` and `value`, the
    manifest). Only its kind and name matter here: rollback refuses the kind by name."""
    entry = entry if isinstance(entry, dict) else {}
    resource_id = entry.get("resourceId") if isinstance(entry.get("resourceId"), dict) else {}
    value = entry.get("value") if isinstance(entry.get("value"), dict) else {}
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    kind = _text(resource_id.get("kind")) or _text(entry.get("kind")) or _text(value.get("kind"))
    name = _text(resource_id.get("name")) or _text(entry.get("name")) or _text(metadata.get("name"))
    return WorkloadRef(kind or "custom workload", name or "(unnamed)", namespace)


def _text(value: object) -> str | None:
    """A name as YAML may have typed it: an all-digit name can come back as an int."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def _revision(value: object, ref: WorkloadRef, number: int, where: _Source) -> int | None:
    """Harness stores revisions as strings, quoted or not; absent or empty means unknown."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    revision = _as_int(value)
    if revision is None:
        raise where.corrupt(f"release {number} has a revision of {ref} that is not a number{where.show(value)}")
    return revision


# -- encoding -----------------------------------------------------------------------------------

def encode_history(doc: dict, kind: str, compressed: bool) -> dict[str, str]:
    """The `.data` to write back, in the encoding decode_history reported (the inverse of it)."""
    from kubectl_harness_rollback import block_yaml_dump  # writing only

    # Key order and the fields this plugin ignores are kept. PyYAML only for what the block
    # writer declines: its import costs the controllers a core while the rollback waits.
    text = block_yaml_dump.dump(doc)
    if text is None:
        import yaml

        text = yaml.safe_dump(doc, sort_keys=False)
    raw = text.encode("utf-8")
    if _kind(kind) == kinds.CONFIG_MAP.name:
        if not compressed:
            return {HISTORY_KEY: text}
        return {HISTORY_KEY: _base64(_gzip(raw)), COMPRESSED_KEY: CONFIGMAP_COMPRESSED_FLAG}
    if not compressed:
        return {HISTORY_KEY: _base64(raw)}
    return {HISTORY_KEY: _base64(_gzip(raw)), COMPRESSED_KEY: _base64(SECRET_COMPRESSED_FLAG)}


def _gzip(raw: bytes) -> bytes:
    import gzip  # writing only: a read inflates with records/bounded.py

    return gzip.compress(raw, mtime=0)  # a fixed mtime: the same history always encodes the same


def _base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# -- bookkeeping edits ----------------------------------------------------------------------------

def set_release_status(doc: dict, number: int, status: Status) -> None:
    """Set release `number`'s status in place (rollback marks the current release Failed), in the
    spelling the release already uses (FAILED in a history of Harness's older enum names)."""
    item, status = _find_release(doc, number), Status(status)
    item["status"] = status.name if item.get("status") in Status.__members__ else status.value


def set_bg_environment(doc: dict, number: int, environment: str) -> None:
    """Set release `number`'s `bgEnvironment` (primary | stage) in place: the swap bookkeeping."""
    _find_release(doc, number)["bgEnvironment"] = environment


def set_workload_revision(doc: dict, number: int, ref: WorkloadRef, revision: int) -> None:
    """Store the new revision Kubernetes gave a rolled-back workload, as a string like Harness does."""
    item = _find_release(doc, number)
    text, updated = str(int(revision)), False
    many = item.get("managedWorkloads")
    for entry in many if isinstance(many, list) else []:
        if isinstance(entry, dict) and _same_workload(entry.get("workload"), ref):
            entry["revision"], updated = text, True
    if _same_workload(item.get("managedWorkload"), ref):
        item["managedWorkloadRevision"], updated = text, True
    if not updated:
        raise ValueError(f"release {number} in the release history has no workload {ref}")


def add_release_copy(doc: dict, number: int, new_number: int, status: Status) -> None:
    """Record release `number` again as release `new_number` with `status`, newest first (at index 0,
    where Harness's createNewRelease puts a release and getLatestRelease reads it): a roll forward.
    Its blue/green role is not copied (a roll forward is a rolling move)."""
    item = copy.deepcopy(_find_release(doc, number))
    item.pop("bgEnvironment", None)
    item["number"] = new_number
    doc["releases"].insert(0, item)
    set_release_status(doc, new_number, status)


def _find_release(doc: dict, number: int) -> dict:
    items = doc.get("releases") if isinstance(doc, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and _as_int(item.get("number")) == number:
            return item
    raise ValueError(f"release {number} is not in the release history")


def _same_workload(value: object, ref: WorkloadRef) -> bool:
    """The stored workload is `ref`; a stored workload without a namespace is in the history's."""
    if not isinstance(value, dict):
        return False
    kind, name, namespace = (_text(value.get(key)) for key in ("kind", "name", "namespace"))
    return (kind or "").lower() == ref.kind.lower() and name == ref.name and namespace in (None, "", ref.namespace)
