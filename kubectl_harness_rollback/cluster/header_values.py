"""What may be sent as an HTTP header value, and keeping credentials out of messages.

A token, a user or a group to impersonate travels in a header. http.client refuses a newline
(and would print the whole value in its error) and encodes as Latin-1 what the API server reads
as UTF-8, so a value is sent only when it is printable ASCII: anything else is refused before any
request, naming the flag or the kubeconfig field, never the value of a credential.
"""

from __future__ import annotations

import re
from typing import Iterable

from kubectl_harness_rollback.display import shown

WHY = "holds a newline, a control character or a non-ASCII character, which cannot be sent in an HTTP header"

# A run of characters that may be part of a token (RFC 6750's b64token, plus JWT's dots).
_TOKENISH = re.compile(r"[A-Za-z0-9._~+/=-]{8,}")
# Fragments shorter than this are not taken for a credential (they would match ordinary words).
_FRAGMENT = 8
REDACTED = "<redacted>"


def sendable(value: str) -> bool:
    """Whether `value` can be sent as a header value exactly as given (printable ASCII)."""
    return value.isascii() and value.isprintable()


def problem(what: str, value: str, secret: bool) -> str | None:
    """A one-line sentence when `value` cannot be sent, else None. A secret's value is never quoted."""
    if sendable(value):
        return None
    if secret:
        return f"{what} {WHY} (the value is not shown)"
    return f"{what} '{shown(value, limit=60)}' {WHY}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` without any credential in `secrets`, whole or in part: every run of token-like
    characters that shares 8 characters or more with a secret is replaced by <redacted>."""
    secrets = [s for s in secrets if s and len(s) >= _FRAGMENT]
    if not secrets:
        return text

    def redact(found: re.Match) -> str:
        run = found.group(0)
        for secret in secrets:
            if run in secret or secret in run or any(
                    run[i:i + _FRAGMENT] in secret for i in range(len(run) - _FRAGMENT + 1)):
                return REDACTED
        return run

    return _TOKENISH.sub(redact, text)
