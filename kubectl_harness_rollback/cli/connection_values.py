"""The collected connection flags checked without click or I/O: one ConnectionFlags.

The connection flags a command line gave, collected into a dict by field (cli/connection_flags.py
for click's route, cli/read_flags.py for the reads' short route), checked and turned into one
ConnectionFlags without importing click, so that both routes refuse the same values in the same words.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from kubectl_harness_rollback.cluster import header_values
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags, server_url
from kubectl_harness_rollback.errors import UsageError


def validated(collected: Mapping[str, Any]) -> ConnectionFlags:
    """Validate the collected connection flags without any I/O."""
    given = dict(collected)
    if given.get("impersonate_groups") and not given.get("impersonate"):
        raise UsageError("--as-group needs --as: name the user to impersonate too")
    if "request_timeout" in given:
        from kubectl_harness_rollback.cli.durations import parse_duration  # durationpy: only when given

        try:
            given["request_timeout"] = parse_duration(given["request_timeout"])  # 0: no timeout
        except ValueError as exc:
            raise UsageError(f"--request-timeout: {exc}") from None
    given["insecure_skip_tls_verify"] = bool(given.get("insecure_skip_tls_verify"))
    given["impersonate_groups"] = tuple(given.get("impersonate_groups", ()))
    _check_headers(given)
    if given.get("server"):
        try:
            server_url(given["server"], tls=True)
        except ValueError as exc:
            raise UsageError(f"--server: {exc}") from None
    return ConnectionFlags(**given)


def with_request_timeout(flags: ConnectionFlags, default: float | None) -> ConnectionFlags:
    """`flags`, with `default` as the request timeout when the line gave none (completion's)."""
    return dataclasses.replace(flags, request_timeout=flags.request_timeout or default)


def _check_headers(given: dict[str, Any]) -> None:
    """--token, --as and --as-group are sent as headers: refused here, before any request, when
    they cannot be (a token is never quoted)."""
    values = [("--token", given.get("token"), True), ("--as", given.get("impersonate"), False)]
    values += [("--as-group", group, False) for group in given.get("impersonate_groups", ())]
    for flag, value, secret in values:
        wrong = header_values.problem(flag, value, secret) if value else None
        if wrong:
            raise UsageError(wrong)
