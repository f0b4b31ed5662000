"""@dataclass for the classes a read builds at import, with one method compiled per class instead of six.

dataclasses compiles every method it writes (`__init__`, `__repr__`, `__eq__`, `__hash__`, and a
frozen class's `__setattr__` and `__delattr__`) from source, each apart: 0.05-0.13 ms each, about
0.5 ms a frozen class, and a read builds some 40 classes before its first request. `data_class`
compiles `__init__` only (its signature is the class's fields); the other methods are the
closures below, which do what the compiled ones do. The class stays a dataclass to
`dataclasses.fields`, `replace`, `asdict` and `is_dataclass`. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import operator
import reprlib
from typing import Callable, TypeVar

T = TypeVar("T", bound=type)


class _Factory:
    """What `__init__` receives for a field with a default_factory that the caller left out."""

    def __repr__(self) -> str:
        return "<factory>"  # as dataclasses shows it in the signature


_FACTORY = _Factory()


def data_class(cls: T | None = None, /, *, frozen: bool = False, order: bool = False):
    """`@dataclass`, `@dataclass(frozen=True)` or `@dataclass(frozen=True, order=True)`: the same
    `__init__` (positional or by name, defaults, default_factory, `__post_init__`), equality and
    order as tuples of the compared fields between instances of the same class only (an instance
    equals itself), the hash of
    those fields when frozen (none when not), the same repr (repr=False fields left out), and
    FrozenInstanceError on assigning or deleting an attribute of a frozen instance."""

    def wrap(cls: T) -> T:
        return _build(cls, frozen, order)

    return wrap if cls is None else wrap(cls)


def _build(cls, frozen: bool, order: bool):
    had_doc = bool(cls.__dict__.get("__doc__"))
    class_hash = cls.__dict__.get("__hash__", dataclasses.MISSING)
    has_explicit_hash = not (class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    if not had_doc:
        # dataclasses describes an undocumented class by its signature, which is object's until
        # __init__ is made below; reading object's takes inspect through tokenize (5 ms, once).
        cls.__doc__ = cls.__name__
    # dataclasses reads the fields (ClassVar, field(), defaults) and compiles nothing here.
    dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    fields = dataclasses.fields(cls)
    compared = _values([f.name for f in fields if f.compare])
    if "__init__" not in cls.__dict__:
        _set(cls, "__init__", _init(cls, fields, frozen))
    if "__repr__" not in cls.__dict__:
        _set(cls, "__repr__", _repr([f.name for f in fields if f.repr]))
    if "__eq__" not in cls.__dict__:
        _set(cls, "__eq__", _equal(compared))
    if order:
        for name, test in (("__lt__", operator.lt), ("__le__", operator.le), ("__gt__", operator.gt),
                           ("__ge__", operator.ge)):
            if name in cls.__dict__:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}. "
                                "Consider using functools.total_ordering")
            _set(cls, name, _compare(compared, test))
    if frozen:
        for name, method in _frozen(cls, tuple(f.name for f in fields)).items():
            if name in cls.__dict__:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
            _set(cls, name, method)
    if not has_explicit_hash:
        # dataclasses' rule for eq=True: a frozen class hashes its fields, a mutable one none.
        hashed = _values([f.name for f in fields if (f.compare if f.hash is None else f.hash)])
        cls.__hash__ = (lambda self: hash(hashed(self))) if frozen else None
        if frozen:
            cls.__hash__.__qualname__ = f"{cls.__qualname__}.__hash__"
    if not had_doc:
        cls.__doc__ = _SignatureDoc()
    return cls


class _SignatureDoc:
    """The `__doc__` dataclasses gives a class without a docstring (its signature), written when
    first read: it takes inspect, whose import (ast, dis, tokenize) would cost every command's
    start 6 ms (stand_ins.py). A class's `__doc__` that is a descriptor is read through it."""

    def __get__(self, obj: object, cls: type) -> str:
        import inspect

        text = cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
        type.__setattr__(cls, "__doc__", text)
        return text


def _set(cls, name: str, method: Callable) -> None:
    method.__name__, method.__qualname__ = name, f"{cls.__qualname__}.{name}"
    setattr(cls, name, method)


def _values(names: list[str]) -> Callable[[object], tuple]:
    """The tuple of these attributes, as the compiled methods build it."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return operator.attrgetter(*names)


def _init(cls, fields, frozen: bool) -> Callable:
    """`__init__(self, <fields>)`, compiled: the one method whose signature is the class's own."""
    namespace = {"__dc_factory": _FACTORY, "__dc_setattr": object.__setattr__}
    params, body = [], []
    for field in fields:
        if not field.init or field.kw_only:
            raise TypeError(f"data_class: field {field.name!r} of {cls.__name__} needs dataclasses.dataclass")
        value = field.name
        if field.default is not dataclasses.MISSING:
            namespace[f"__dc_default_{field.name}"] = field.default
            params.append(f"{field.name}=__dc_default_{field.name}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"__dc_factory_{field.name}"] = field.default_factory
            params.append(f"{field.name}=__dc_factory")
            value = f"__dc_factory_{field.name}() if {field.name} is __dc_factory else {field.name}"
        else:
            params.append(field.name)
        body.append(f"__dc_setattr(self, {field.name!r}, {value})" if frozen else f"self.{field.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"])
    exec(source, namespace)
    init = namespace["__init__"]
    init.__annotations__ = {**{field.name: field.type for field in fields}, "return": None}
    return init


def _repr(shown: list[str]) -> Callable:
    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        return self.__class__.__qualname__ + "(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in shown) + ")"

    return __repr__


def _equal(values: Callable[[object], tuple]) -> Callable:
    def __eq__(self, other):
        if self is other:  # as Python 3.13's dataclasses; before, comparing its fields with themselves agreed
            return True
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _compare(values: Callable[[object], tuple], test: Callable[[tuple, tuple], bool]) -> Callable:
    def compare(self, other):
        if other.__class__ is self.__class__:
            return test(values(self), values(other))
        return NotImplemented

    return compare


def _frozen(cls, names: tuple[str, ...]) -> dict[str, Callable]:
    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return {"__setattr__": __setattr__, "__delattr__": __delattr__}
