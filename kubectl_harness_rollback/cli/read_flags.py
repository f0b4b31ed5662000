"""The short route: a parser of the command lines of list, history, plan, status and rollback that it fully understands.

`kubectl harness-rollback history release-x -n shop` and the like are most of what is typed, and
every TAB of completion parses such a line: reading them without click and without building the
command tree takes 20-30 ms off each (click and cli/app.py, `python -X importtime`); a rollback
is waited for by whoever is on call, so its line is read here too. The parser
accepts a line only when it is sure of what click would make of it: known flags spelled `-x
VALUE`, `--flag VALUE` or `--flag=VALUE`, values that convert as click converts them, the
arguments each command takes. Anything else (a mistake, --help, -o jsonpath=, a flag given as
`-nshop`, a repeatable flag, another command) returns None and the line goes to click, which
answers it as always. A command's `to_click` flags are always left to click: rollback's
--dry-run takes an optional value, and a rollback across contexts may ask before it writes.

The tables below are click's declarations (cli/app.py, cli/connection_flags.py) seen from here:
tests/unit/test_read_flags.py derives them from click's commands and fails when they differ, and
checks on generated lines that both parsers give the commands the same options.
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import Any

from kubectl_harness_rollback.data_class import data_class

TEXT, FLAG = "text", "flag"
ON, OFF = ("switch", True), ("switch", False)  # --wait / --no-wait
OUTPUTS = ("table", "wide", "name", "json", "yaml")
CONTEXTS = {"--all-contexts": ("all_contexts", FLAG), "--max-parallel": ("max_parallel", ("count", 1)),
            "--fail-fast": ("fail_fast", FLAG)}
CONTEXTS_DEFAULTS = {"contexts": (), "all_contexts": False, "max_parallel": None, "fail_fast": False}

# The connection flags, before or after the command (--as-group, repeatable, goes to click).
CONNECTION = {
    "--kubeconfig": ("kubeconfig", TEXT), "--context": ("context", TEXT), "--cluster": ("cluster", TEXT),
    "--user": ("user", TEXT), "-n": ("namespace", TEXT), "--namespace": ("namespace", TEXT),
    "-s": ("server", TEXT), "--server": ("server", TEXT), "--token": ("token", TEXT),
    "--certificate-authority": ("certificate_authority", TEXT),
    "--insecure-skip-tls-verify": ("insecure_skip_tls_verify", FLAG), "--as": ("impersonate", TEXT),
    "-v": ("verbosity", ("count", 0)), "--v": ("verbosity", ("count", 0)),
    "--request-timeout": ("request_timeout", TEXT),
}


def _output(*formats: str) -> dict[str, tuple[str, Any]]:
    return {"-o": ("output", ("choice", formats)), "--output": ("output", ("choice", formats))}


@data_class(frozen=True)
class Command:
    """A command as click declares it: its own flags (flag -> (parameter, kind)) but those it
    leaves to click, the value click passes for each of its parameters when the line does not
    give it, and its TARGET (None: none; False: optional; True: required)."""

    options: dict[str, tuple[str, Any]]
    defaults: dict[str, Any]
    target: bool | None
    to_click: tuple[str, ...] = ()


SELECTION = {"--match": ("match", ("choice", ("workflow", "infra"))), "--workflow-id": ("workflow_id", TEXT),
             "--from-release": ("from_release", ("count", 1)), "--to-release": ("to_release", ("count", 1)),
             "--to-revision": ("to_revision", ("count", 0)),
             "--mode": ("mode", ("choice", ("auto", "rolling", "blue-green", "canary"))), "--prune": ("prune", FLAG)}
SELECTION_DEFAULTS = {"match": "workflow", "workflow_id": None, "from_release": None, "to_release": None,
                      "to_revision": None, "mode": "auto", "prune": False}

COMMANDS = {
    "list": Command(
        {"-A": ("all_namespaces", FLAG), "--all-namespaces": ("all_namespaces", FLAG), "-l": ("selector", TEXT),
         "--selector": ("selector", TEXT), "--not-steady": ("not_steady", FLAG), "--no-headers": ("no_headers", FLAG),
         **_output(*OUTPUTS), **CONTEXTS},
        {"all_namespaces": False, "selector": None, "not_steady": False, "no_headers": False, "output": "table",
         **CONTEXTS_DEFAULTS},
        None),
    "history": Command(
        {"--timeline": ("timeline", FLAG), "--max": ("max_releases", ("count", 1)), "--no-headers": ("no_headers", FLAG),
         **_output(*OUTPUTS), **CONTEXTS},
        {"timeline": False, "max_releases": 256, "no_headers": False, "output": "table", **CONTEXTS_DEFAULTS},
        True),
    "plan": Command(
        {**SELECTION, "--diff": ("show_diff", FLAG), **_output("table", "name", "json", "yaml"), **CONTEXTS},
        {**SELECTION_DEFAULTS, "show_diff": False, "output": "table", **CONTEXTS_DEFAULTS},
        True),
    "rollback": Command(
        {**SELECTION, "--wait": ("wait", ON), "--no-wait": ("wait", OFF), "--timeout": ("timeout", TEXT),
         "--scale-down-stage": ("scale_down_stage", FLAG), "--ignore-owner": ("ignore_owner", FLAG),
         "-y": ("yes", FLAG), "--yes": ("yes", FLAG), "--reason": ("reason", TEXT),
         **_output("table", "json", "yaml")},
        {**SELECTION_DEFAULTS, "dry_run": "none", "wait": True, "timeout": "5m", "scale_down_stage": False,
         "ignore_owner": False, "yes": False, "reason": None, "output": "table", **CONTEXTS_DEFAULTS},
        True, to_click=("--dry-run", *CONTEXTS)),
    "status": Command(
        {"-w": ("watch", FLAG), "--watch": ("watch", FLAG), "--timeline": ("timeline", FLAG),
         "--timeout": ("timeout", TEXT), "-A": ("all_namespaces", FLAG), "--all-namespaces": ("all_namespaces", FLAG),
         "--not-steady": ("not_steady", FLAG), "-l": ("selector", TEXT), "--selector": ("selector", TEXT),
         "--no-headers": ("no_headers", FLAG), **_output(*OUTPUTS), **CONTEXTS},
        {"watch": False, "timeline": False, "timeout": None, "all_namespaces": False, "not_steady": False,
         "selector": None, "no_headers": False, "output": "table", **CONTEXTS_DEFAULTS},
        False),
}

DIGITS = re.compile(r"[0-9]+")


@data_class
class Line:
    """A command line as the short route understood it: the command, the connection flags by
    ConnectionFlags field (a flag after the command overriding one before it, as click's commands
    collect them), the command's parameters (its defaults, and what the line gave) and TARGET."""

    command: str | None = None
    connection: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)


def parse(argv: list[str]) -> Line | None:
    """The command line of a read, or None when click must read it."""
    line = scan(argv)
    if line is None or line.command is None:
        return None
    expected = COMMANDS[line.command].target
    if len(line.arguments) > (0 if expected is None else 1) or (expected and not line.arguments):
        return None
    if expected is not None:
        line.params["target"] = line.arguments[0] if line.arguments else None
    return line


def scan(words: list[str]) -> Line | None:
    """The flags and arguments of `words` (a read's line, or the start of one), or None when a
    word is not one this parser is sure of. Does not check the number of arguments."""
    line, index, before = Line(), 0, {}
    while index < len(words) and words[index].startswith("-"):  # flags before the command
        index = _option(words, index, CONNECTION, before)
        if index is None:
            return None
    if index == len(words):
        line.connection = before
        return line
    command = COMMANDS.get(words[index])
    if command is None:
        return None
    line.command, line.params, after = words[index], dict(command.defaults), {}
    index += 1
    while index < len(words):
        word = words[index]
        if not word.startswith("-"):
            line.arguments.append(word)
            index += 1
            continue
        into = after if _name(word) in CONNECTION else line.params
        index = _option(words, index, CONNECTION if into is after else command.options, into)
        if index is None:
            return None
    line.connection = {**before, **after}
    return line


def _name(word: str) -> str:
    return word.partition("=")[0] if word.startswith("--") else word


def _option(words: list[str], index: int, table: dict[str, tuple[str, Any]], into: dict[str, Any]) -> int | None:
    """Read the flag at words[index] (and its value) into `into`; the next index, or None."""
    word = words[index]
    name, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
    if name not in table:
        return None
    dest, kind = table[name]
    if kind == FLAG or kind in (ON, OFF):
        if equals:
            return None
        into[dest] = True if kind == FLAG else kind[1]
        return index + 1
    if not equals:
        if index + 1 == len(words) or words[index + 1].startswith("-"):
            return None
        value, index = words[index + 1], index + 1
    converted = _converted(value, kind)
    if converted is None:
        return None
    into[dest] = converted
    return index + 1


def _converted(value: str, kind: Any) -> Any:
    """The value as click's type converts it, or None when this parser leaves it to click."""
    if kind == TEXT:
        return value
    what, detail = kind
    if what == "count":
        return int(value) if DIGITS.fullmatch(value) and int(value) >= detail else None
    return value if value in detail else None  # choice
