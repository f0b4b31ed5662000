"""data_class builds what dataclasses.dataclass builds: each shape declared twice, once with each,
and every behaviour compared between the twins."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import field
from typing import ClassVar

import pytest

from kubectl_harness_rollback.data_class import data_class


def twins(body: str, **options):
    """The class declared by `body`, built by dataclasses.dataclass and by data_class."""
    made = []
    for decorate in (dataclasses.dataclass, data_class):
        namespace = {"field": field, "ClassVar": ClassVar}
        exec(f"class Twin:\n{body}", namespace)
        made.append(decorate(**options)(namespace["Twin"]))
    return made


SHAPES = {
    "frozen, ordered (WorkloadRef)": ('    kind: str\n    name: str\n    namespace: str\n'
                                      '    def __str__(self):\n        return self.name\n',
                                      {"frozen": True, "order": True}, [("Deployment", "web", "shop"),
                                                                        ("Deployment", "api", "shop"),
                                                                        ("ReplicaSet", "web", "shop")]),
    "frozen, defaults, repr=False, compare=False": ('    """Has a docstring."""\n    number: int\n'
                                                    '    name: str | None = None\n'
                                                    '    raw: dict = field(default_factory=dict, repr=False, compare=False)\n'
                                                    '    seen: tuple = ()\n    LIMIT: ClassVar[int] = 3\n',
                                                    {"frozen": True}, [(1,), (1, "a"), (2, "a", {"x": 1}), (1, None, {"y": 2})]),
    "mutable, factories": ('    name: str\n    notes: list = field(default_factory=list)\n'
                           '    found: dict = field(default_factory=dict)\n', {}, [("a",), ("a", ["n"]), ("b", [], {"k": 1})]),
    "one field": ("    value: float\n", {"frozen": True}, [(1.0,), (float("nan"),), (2.0,)]),
    "no field": ("    pass\n", {"frozen": True}, [()]),
    "post_init": ('    value: int\n    def __post_init__(self):\n        object.__setattr__(self, "double", 2 * self.value)\n',
                  {"frozen": True}, [(1,), (2,)]),
}


def outcome(call):
    try:
        return ("value", call())
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_data_class_behaves_as_dataclass(shape):
    body, options, arguments = SHAPES[shape]
    standard, lean = twins(body, **options)
    assert dataclasses.is_dataclass(lean)
    assert str(inspect.signature(lean)) == str(inspect.signature(standard))
    assert lean.__doc__ == standard.__doc__
    assert lean.__match_args__ == standard.__match_args__
    assert [f.name for f in dataclasses.fields(lean)] == [f.name for f in dataclasses.fields(standard)]
    assert (lean.__hash__ is None) == (standard.__hash__ is None)
    pairs = [(standard(*args), lean(*args)) for args in arguments]
    for (s, m) in pairs:
        assert repr(m) == repr(s).replace(standard.__qualname__, lean.__qualname__)
        assert dataclasses.asdict(m) == dataclasses.asdict(s)
        assert repr(dataclasses.replace(m)) == repr(dataclasses.replace(s))
        assert outcome(lambda: hash(m)) == outcome(lambda: hash(s))
        assert vars(m) == vars(s)
    for args in arguments:  # on instances of their own: a mutable one's fields are deleted here
        s, m = standard(*args), lean(*args)
        for name in [f.name for f in dataclasses.fields(standard)] + ["other"]:
            assert outcome(lambda: setattr(m, name, 1)) == outcome(lambda: setattr(s, name, 1))
            assert outcome(lambda: delattr(m, name)) == outcome(lambda: delattr(s, name))
    for (s1, m1) in pairs:
        assert (m1 == 1) == (s1 == 1) and m1 != "x"
        for (s2, m2) in pairs:
            for compare in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
                assert outcome(lambda: getattr(m1, compare)(m2)) == outcome(lambda: getattr(s1, compare)(s2)), compare
            assert outcome(lambda: m1 < m2) == outcome(lambda: s1 < s2)
        assert outcome(lambda: m1 == s1) == ("value", False)  # another class, equal fields


def test_defaults_are_fresh_per_instance_and_arguments_checked_alike():
    standard, lean = twins("    name: str\n    notes: list = field(default_factory=list)\n")
    assert lean("a").notes is not lean("a").notes
    for args, kwargs in [((), {}), (("a", [], 3), {}), (("a",), {"name": "b"}), ((), {"nmae": "a"})]:
        assert outcome(lambda: lean(*args, **kwargs))[0] == outcome(lambda: standard(*args, **kwargs))[0] == "TypeError"
    assert lean(name="a", notes=["n"]) == lean("a", ["n"])


def test_a_subclass_compares_and_freezes_as_its_dataclass_parent_does():
    standard, lean = twins("    name: str\n", frozen=True)
    child_s, child_m = type("Child", (standard,), {}), type("Child", (lean,), {})
    assert (child_m("a") == child_m("a"), child_m("a") == lean("a")) == (child_s("a") == child_s("a"),
                                                                          child_s("a") == standard("a"))
    for target, name in [(child_m("a"), "name"), (child_m("a"), "extra")]:
        twin = child_s("a")
        assert outcome(lambda: setattr(target, name, 1)) == outcome(lambda: setattr(twin, name, 1))


def test_a_method_the_class_writes_itself_is_kept():
    standard, lean = twins("    name: str\n    def __repr__(self):\n        return 'mine'\n"
                           "    def __eq__(self, other):\n        return True\n", frozen=True)
    assert repr(lean("a")) == repr(standard("a")) == "mine"
    assert (lean("a") == 3) is (standard("a") == 3) is True
    assert hash(lean("a")) == hash(standard("a"))


def test_a_mutable_default_is_refused_as_dataclasses_refuses_it():
    assert outcome(lambda: twins("    notes: list = []\n"))[0] == "ValueError"
