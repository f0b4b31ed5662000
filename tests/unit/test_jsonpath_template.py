"""-o jsonpath=TEMPLATE: kubectl's template syntax, checked against the examples of kubectl's own
JSONPath reference (the same input, the output kubectl prints), and bad templates as usage errors."""

from __future__ import annotations

import pytest

from kubectl_harness_rollback.errors import UsageError
from kubectl_harness_rollback.output.jsonpath_template import parse, render

# kubectl's reference input (kubernetes.io, "JSONPath Support").
DOC = {
    "kind": "List",
    "items": [
        {"kind": "None", "metadata": {"name": "127.0.0.1", "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
         "status": {"capacity": {"cpu": "4"}, "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}},
        {"kind": "None", "metadata": {"name": "127.0.0.2"},
         "status": {"capacity": {"cpu": "8"}, "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.2"},
                                                            {"type": "another", "address": "127.0.0.3"}]}},
    ],
    "users": [{"name": "myself", "user": {}}, {"name": "e2e", "user": {"username": "admin", "password": "secret"}}],
}


@pytest.mark.parametrize("template, printed", [
    ("kind is {.kind}", "kind is List"),
    ("{.kind}", "List"),
    ("{['kind']}", "List"),
    ("{$.kind}", "List"),
    ("{..name}", "127.0.0.1 127.0.0.2 myself e2e"),
    ("{.items[*].metadata.name}", "127.0.0.1 127.0.0.2"),
    ("{.users[0].name}", "myself"),
    ("{.items[-1:].metadata.name}", "127.0.0.2"),
    ('{.users[?(@.name=="e2e")].user.password}', "secret"),
    ("{.items[0].metadata.labels.kubernetes\\.io/hostname}", "127.0.0.1"),  # kubectl's escaped dots
    ("{.items[0].metadata.labels['kubernetes.io/hostname']}", "127.0.0.1"),
    # Maps and lists print as compact JSON, keys sorted (kubectl's json.Marshal).
    ("{.items[*].status.capacity}", '{"cpu":"4"} {"cpu":"8"}'),
    ("{.users[1].user}", '{"password":"secret","username":"admin"}'),
    ("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}",
     '[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] '),
    ('{range .items[*]}{.metadata.name}{"\\t"}{end}', "127.0.0.1\t127.0.0.2\t"),
    ("{range .items[*]}{.metadata.name}{'\\n'}{end}", "127.0.0.1\n127.0.0.2\n"),
    ("{range .users[*]}{range .user.*}{@}{','}{end}{end}", "admin,secret,"),
    ("{.missing}|{.items[5].metadata}", "|"),  # a missing field prints nothing (allow-missing-template-keys)
])
def test_kubectls_examples(template, printed):
    assert render(parse(template), DOC) == printed


def test_a_list_is_seen_as_kubectls_list_and_scalars_print_as_kubectl_prints():
    rows = [{"release": "a", "latest": 3, "live": True, "by": None}, {"release": "b", "latest": None, "live": False}]
    assert render(parse("{.kind}: {.items[*].release}"), rows) == "List: a b"
    assert render(parse("{range .items[*]}{.release}={.latest},{.live},{.by};{end}"), rows) == "a=3,true,;b=,false,;"


@pytest.mark.parametrize("template, says", [
    ("", "needs a template"),
    ("{.items[*]", "unclosed action"),
    ("{range .items[*]}{.a}", "{range} without its {end}"),
    ("{.a}{end}", "{end} without its {range}"),
    ("{}", "an empty action"),
    ("{.items[}", "$.items[: unexpected end of query"),
    ("{.a b}", "unexpected token 'b'"),
])
def test_bad_templates_are_usage_errors(template, says):
    with pytest.raises(UsageError, match=says.replace("[", r"\[").replace("$", r"\$").replace("{", r"\{")
                       .replace("}", r"\}")):
        parse(template)
