"""-l/--selector: a Kubernetes label selector, parsed and checked before any request, matched in memory. Pure.

The grammar is the API server's (k8s.io/apimachinery labels.Parse): requirements joined by
commas, each `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (a,b)`,
`key notin (a,b)`, `key>N` or `key<N`. The text goes to the API server as it was given, where a
list can take it; `matches` decides the same in memory where it cannot (a bare ReplicaSet listed
among a Deployment's revisions).
"""

from __future__ import annotations

import re
from dataclasses import replace

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import UsageError
from kubectl_harness_rollback.model import ReleaseModel

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# One requirement: !key | key op value | key in/notin (values) | key. Operators longest first.
_REQUIREMENT = re.compile(r"\s*(?:(?P<not>!)\s*(?P<nkey>[^\s,!=<>()]+)"
                          r"|(?P<key>[^\s,!=<>()]+)\s*(?:(?P<op>==|!=|=|<|>)\s*(?P<value>[^\s,!=<>()]*)"
                          r"|\s+(?P<set>in|notin)\s*\((?P<values>[^()]*)\)|))\s*(?:,|$)")


@data_class(frozen=True)
class Requirement:
    key: str
    operator: str  # exists, !, =, !=, in, notin, <, >
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present, value = self.key in labels, labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        if not present or not re.fullmatch(r"-?[0-9]+", value or ""):
            return False  # as the API server: a label that is not an integer never compares
        return int(value) > int(self.values[0]) if self.operator == ">" else int(value) < int(self.values[0])


@data_class(frozen=True)
class Selector:
    """A parsed selector: `text` as given (sent to the API server), its requirements (all must hold)."""

    text: str
    requirements: tuple[Requirement, ...]

    def matches(self, labels: dict[str, str] | None) -> bool:
        return all(requirement.matches(labels or {}) for requirement in self.requirements)

    def matches_object(self, obj: dict) -> bool:
        return self.matches((obj.get("metadata") or {}).get("labels"))


def _check_key(key: str, text: str) -> None:
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _PREFIX.fullmatch(prefix)):
        raise UsageError(f"-l {text!r}: {key!r} is not a valid label key: its prefix must be a DNS subdomain")
    if not _NAME.fullmatch(name):
        raise UsageError(f"-l {text!r}: {key!r} is not a valid label key: at most 63 letters, digits, '-', '_' "
                         "and '.', starting and ending with a letter or digit")


def _check_value(value: str, key: str, text: str) -> None:
    if value and not _NAME.fullmatch(value):
        raise UsageError(f"-l {text!r}: {value!r} is not a valid value for {key}: at most 63 letters, digits, '-', "
                         "'_' and '.', starting and ending with a letter or digit")


def parse(text: str) -> Selector:
    """The selector in `text`; UsageError (exit 2, nothing sent) naming what is wrong."""
    if not text.strip():
        raise UsageError("-l/--selector needs a label selector, e.g. -l app=web or -l 'tier in (web,api)'")
    requirements, position = [], 0
    while position < len(text):
        found = _REQUIREMENT.match(text, position)
        if found is None or found.end() == position:
            raise UsageError(f"-l {text!r} is not a label selector (from {text[position:].strip()!r} on): use key, "
                             "!key, key=value, key!=value, key in (a,b) or key notin (a,b), joined by commas")
        if found.group("not"):
            key, operator, values = found.group("nkey"), "!", ()
        elif found.group("op"):
            key, operator, values = found.group("key"), found.group("op").replace("==", "="), (found.group("value"),)
        elif found.group("set"):
            values = tuple(v.strip() for v in found.group("values").split(","))
            key, operator = found.group("key"), found.group("set")
            if values == ("",):
                raise UsageError(f"-l {text!r}: {key} {operator} () needs at least one value")
        else:
            key, operator, values = found.group("key"), "exists", ()
        _check_key(key, text)
        for value in values:
            if operator in ("<", ">") and not re.fullmatch(r"-?[0-9]+", value):
                raise UsageError(f"-l {text!r}: {key}{operator} needs an integer, not {value!r}")
            _check_value(value, key, text)
        requirements.append(Requirement(key, operator, values))
        position = found.end()
        if text[position - 1:position] == "," and position == len(text):
            raise UsageError(f"-l {text!r} ends with a comma: a requirement is missing")
    return Selector(text, tuple(requirements))


def select_workloads(model: ReleaseModel, selector: Selector | None) -> ReleaseModel:
    """`status -l`: the release with only the workloads whose own labels `selector` matches (the
    model unchanged without one); a note when it selects none of them."""
    if selector is None:
        return model
    chosen = {ref: state for ref, state in model.workloads.items() if selector.matches_object(state.raw)}
    notes = list(model.notes)
    if model.workloads and not chosen:
        notes.append(f"-l {selector.text} selects none of the release's {len(model.workloads)} workloads")
    return replace(model, workloads=chosen, notes=notes)
