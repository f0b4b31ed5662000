"""`-o jsonpath=TEMPLATE`: kubectl's JSONPath templates, the expressions evaluated by python-jsonpath.

kubectl's template (k8s.io/client-go/util/jsonpath) is text with actions in braces: an expression
(`{.items[*].metadata.name}`, `$` optional), `{range EXPR}...{end}` over its results, and quoted
text (`{"\\n"}`, `{'\\t'}`). No Python library implements the template, so the braces are read
here, and each expression is handed whole to python-jsonpath (RFC 9535 plus the filters kubectl
writes, `[?(@.name=="web")]`). Printed as kubectl prints: a result's values space-separated, maps
and lists as compact JSON with sorted keys, true/false, a null or a missing field as nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from kubectl_harness_rollback.errors import UsageError

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


@dataclass
class _Node:
    text: str | None = None  # literal text
    path: object = None  # a compiled JSONPath
    body: list[_Node] | None = None  # range: what is printed for each result of `path`


@dataclass
class Template:
    source: str
    nodes: list[_Node] = field(default_factory=list)


def _fail(template: str, why: str) -> UsageError:
    return UsageError(f"-o jsonpath={template}: {why}")


def _actions(template: str) -> list[tuple[bool, str]]:
    """(is an action, its text) in order: braces outside quotes delimit the actions."""
    parts, position = [], 0
    while position < len(template):
        start = template.find("{", position)
        if start < 0:
            parts.append((False, template[position:]))
            break
        if start > position:
            parts.append((False, template[position:start]))
        quote, end = None, start + 1
        while end < len(template) and (quote or template[end] != "}"):
            if quote and template[end] == "\\":
                end += 1
            elif template[end] in "\"'" and (quote is None or quote == template[end]):
                quote = None if quote else template[end]
            end += 1
        if end >= len(template):
            raise _fail(template, "unclosed action: a '{' without its '}'")
        parts.append((True, template[start + 1:end].strip()))
        position = end + 1
    return parts


def _quoted(text: str) -> str | None:
    """The text of a quoted action ("\\n", '\\t'), its escapes read; None when it is not one."""
    if len(text) < 2 or text[0] not in "\"'" or text[-1] != text[0]:
        return None
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text[1:-1])


def _escaped_dots(expression: str) -> str:
    """kubectl's `.labels.app\\.kubernetes\\.io/name` (a name holding dots, escaped) as the
    bracketed name JSONPath reads: `.labels['app.kubernetes.io/name']`."""
    if "\\." not in expression:
        return expression
    return re.sub(r"\.((?:\\\.|[^.\[\]])+)",
                  lambda m: f"['{m.group(1).replace(chr(92) + '.', '.')}']" if "\\." in m.group(1) else m.group(0),
                  expression)


def _compile(expression: str, template: str):
    import jsonpath  # python-jsonpath: imported only when a template is given

    expression = _escaped_dots(expression)
    if expression.startswith("@"):
        expression = "$" + expression[1:]
    elif expression.startswith((".", "[")):
        expression = "$" + expression
    elif not expression.startswith("$"):
        expression = "$." + expression  # {kind}: a field of the root, as kubectl reads it
    try:
        return jsonpath.compile(expression)
    except jsonpath.JSONPathError as exc:
        raise _fail(template, f"{expression}: {str(exc).splitlines()[0]}") from None


def parse(template: str) -> Template:
    """The template, checked before any request (UsageError, exit 2)."""
    if not template:
        raise UsageError("-o jsonpath needs a template, e.g. -o jsonpath='{.items[*].release}'")
    stack: list[list[_Node]] = [[]]
    for is_action, text in _actions(template):
        if not is_action:
            stack[-1].append(_Node(text=text))
        elif text == "end":
            if len(stack) == 1:
                raise _fail(template, "{end} without its {range}")
            stack.pop()
        elif text.startswith("range ") or text == "range":
            node = _Node(path=_compile(text[len("range"):].strip() or "@", template), body=[])
            stack[-1].append(node)
            stack.append(node.body)
        elif _quoted(text) is not None:
            stack[-1].append(_Node(text=_quoted(text)))
        elif not text:
            raise _fail(template, "an empty action {}")
        else:
            stack[-1].append(_Node(path=_compile(text, template)))
    if len(stack) > 1:
        raise _fail(template, "{range} without its {end}")
    return Template(template, stack[0])


def _found(path, data) -> list:
    if not isinstance(data, (dict, list)):
        # A scalar (a range over strings) has no fields: only the current object itself.
        return [data] if str(path) == "$" else []
    return path.findall(data)


def _text(value: object) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _render(nodes: list[_Node], data) -> str:
    out = []
    for node in nodes:
        if node.text is not None:
            out.append(node.text)
        elif node.body is not None:
            out += [_render(node.body, item) for item in _found(node.path, data)]
        else:
            out.append(" ".join(_text(value) for value in _found(node.path, data)))
    return "".join(out)


def render(template: Template, data) -> str:
    """The template applied to `data` (what -o json prints; a list is seen as kubectl's List,
    `{"kind": "List", "items": [...]}`, so that `{.items[*]...}` reads as it does in kubectl)."""
    if isinstance(data, list):
        data = {"kind": "List", "items": data}
    return _render(template.nodes, data)
