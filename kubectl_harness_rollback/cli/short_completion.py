"""Completion of a read's TARGET and -n without click: kubectl's plugin completion and click's bash protocol.

On a line cli/read_flags.py fully understands, the word being completed is a read's TARGET (no
argument given yet) or the value of -n/--namespace: its candidates come from the same functions
click's route calls (cli/completion.py), and are written in the format that route writes, so the
answer is the same, without loading click or the command tree. Any other line (an option name,
a choice, another command, quotes in bash's COMP_WORDS, zsh and fish) returns None and is
click's. tests/unit/test_read_flags.py compares both routes.
"""

from __future__ import annotations

import re
import warnings
from typing import Mapping

from kubectl_harness_rollback.cli import completion, read_flags

# Words of bash's COMP_WORDS that shlex (click's split_arg_string) splits as str.split would:
# no quote, no escape, and only the whitespace shlex knows.
PLAIN_WORDS = re.compile(r"[^'\"\\\s]*(?:[ \t\r\n]+[^'\"\\\s]*)*")


def candidates(words: list[str], incomplete: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(the parameter completed, its (value, description) candidates), or None for click."""
    from kubectl_harness_rollback.cli.connection_values import validated, with_request_timeout

    if incomplete == "=" or incomplete.startswith("-"):
        return None
    if words and words[-1] in ("-n", "--namespace"):
        line, param = read_flags.scan(words[:-1]), "namespace"
    else:
        line, param = read_flags.scan(words), "target"
        if line is not None and (line.command is None or line.arguments
                                 or read_flags.COMMANDS[line.command].target is None):
            return None
    if line is None:
        return None

    def flags():
        return with_request_timeout(validated(line.connection), completion.REQUEST_TIMEOUT)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if param == "target":
                return param, completion.targets(flags, incomplete)
            return param, [(name, "") for name in completion.namespaces(flags, incomplete)]
        except Exception:  # as click's shell_complete= functions: no candidates
            return param, []


def kubectl_answer(words: list[str], incomplete: str) -> str | None:
    """kubectl's plugin completion answer (Cobra's format), or None for click."""
    found = candidates(words, incomplete)
    if found is None:
        return None
    param, pairs = found
    return completion.cobra_text(pairs, completion.directive(param, [value for value, _ in pairs]))


def bash_answer(env: Mapping[str, str]) -> str | None:
    """click's bash_complete answer (`plain,VALUE` a line) for COMP_WORDS and COMP_CWORD, or None."""
    text, index = env.get("COMP_WORDS", ""), env.get("COMP_CWORD", "")
    if not PLAIN_WORDS.fullmatch(text) or not read_flags.DIGITS.fullmatch(index):
        return None
    words, index = text.split(), int(index)
    found = candidates(words[1:index], words[index] if index < len(words) else "")
    if found is None:
        return None
    return "\n".join(f"plain,{value}" for value, _ in found[1]) + "\n"
