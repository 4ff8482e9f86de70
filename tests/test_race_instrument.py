"""The race detector's instrumentation (``goroutines._race.instrument``).

A recording sink stands in for the detector: each test runs code rewritten by
the instrumenter and checks the exact (kind, object, key) events it reports,
and that the rewritten code computes what the original computes (hypothesis
generates small programs over objects that log every access).
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import sys
import textwrap
import traceback
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from goroutines._race import instrument
from goroutines._race.instrument import SINK, compile_source

pytestmark = pytest.mark.timeout(60)


# ---- a recording sink -----------------------------------------------------------------


class Recorder:
    """Records (kind, object, key); globals as (kind, module name, name), the
    module read from the caller's frame, as the detector will read it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, Any]] = []
        self.lines: list[int] = []

    def _note(self, kind: str, obj: Any, key: Any) -> None:
        self.events.append((kind, obj, key))
        self.lines.append(sys._getframe(2).f_lineno)

    def read_attr(self, obj: Any, name: str) -> Any:
        self._note("read_attr", obj, name)
        return obj

    def write_attr(self, obj: Any, name: str) -> Any:
        self._note("write_attr", obj, name)
        return obj

    def read_item(self, obj: Any, key: Any) -> Any:
        self._note("read_item", obj, key)
        return obj

    def write_item(self, obj: Any, key: Any) -> Any:
        self._note("write_item", obj, key)
        return obj

    def read_global(self, name: str) -> None:
        self._note("read_global", sys._getframe(1).f_globals["__name__"], name)

    def write_global(self, name: str) -> None:
        self._note("write_global", sys._getframe(1).f_globals["__name__"], name)

    def cells(self) -> tuple[str, str]:
        return ("cells", sys._getframe(1).f_code.co_qualname)

    def read_cell(self, token: tuple[str, str], name: str) -> None:
        self._note("read_cell", token, name)

    def write_cell(self, token: tuple[str, str], name: str) -> None:
        self._note("write_cell", token, name)


def load(source: str, name: str = "m", sink: Recorder | None = None) -> dict[str, Any]:
    """Run ``source`` instrumented as module ``name``; its namespace."""
    namespace: dict[str, Any] = {"__name__": name, SINK: sink or Recorder()}
    exec(compile_source(textwrap.dedent(source), f"<{name}>"), namespace)
    return namespace


def rewritten(source: str) -> str:
    return ast.unparse(instrument.rewrite(ast.parse(textwrap.dedent(source))))


class Obj:
    """A plain object whose identity the events name."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)

    def __getattr__(self, name: str) -> Any:  # as without it; tells mypy any name may be set
        raise AttributeError(name)


# ---- exact events, form by form ------------------------------------------------------------

OBJ, DCT, LST = "o", "d", "l"  # stand for the objects f(o, d, l) receives
CASES: list[tuple[str, list[tuple[str, Any, Any]]]] = [
    ("return o.a", [("read_attr", OBJ, "a")]),
    ("o.a = 1", [("write_attr", OBJ, "a")]),
    ("del o.a", [("write_attr", OBJ, "a")]),
    ("o.a += 1", [("write_attr", OBJ, "a")]),
    ("return o.n.a", [("read_attr", OBJ, "n"), ("read_attr", "n", "a")]),
    ("return o.m()", []),  # a method call: not a read of o.m
    ("return o.m() + o.a", [("read_attr", OBJ, "a")]),
    ("return o.n.a.bit_length()", [("read_attr", OBJ, "n"), ("read_attr", "n", "a")]),
    ("return (o.m,)[0]()", [("read_attr", OBJ, "m"), ("read_item", "tuple", 0)]),  # a value
    ("return d['k']", [("read_item", DCT, "k")]),
    ("d['k'] = 1", [("write_item", DCT, "k")]),
    ("del d['k']", [("write_item", DCT, "k")]),
    ("d['k'] += 1", [("write_item", DCT, "k")]),
    ("d['k' + ''] += 1", [("write_item", DCT, "k")]),
    ("return l[1:3]", [("read_item", LST, slice(1, 3))]),
    ("l[::2] = [7, 7]", [("write_item", LST, slice(None, None, 2))]),
    ("del l[:1]", [("write_item", LST, slice(None, 1))]),
    ("return d[o.a]", [("read_attr", OBJ, "a"), ("read_item", DCT, 1)]),
    ("return d[1, 2]", [("read_item", DCT, (1, 2))]),
    ("return d[o.a, 2]", [("read_attr", OBJ, "a"), ("read_item", DCT, (1, 2))]),
    (
        "o.a, d['k'] = d['k'], o.a",
        [
            ("read_item", DCT, "k"),
            ("read_attr", OBJ, "a"),
            ("write_attr", OBJ, "a"),
            ("write_item", DCT, "k"),
        ],
    ),
    ("x, *o.b = [1, 2, 3]", [("write_attr", OBJ, "b")]),
    ("[o.a, d['k']] = 5, 6", [("write_attr", OBJ, "a"), ("write_item", DCT, "k")]),
    ("o.a = d['k'] = 3", [("write_attr", OBJ, "a"), ("write_item", DCT, "k")]),
    ("for o.a in range(2): pass", [("write_attr", OBJ, "a")] * 2),
    ("for d[o.a] in range(1): pass", [("read_attr", OBJ, "a"), ("write_item", DCT, 1)]),
    ("with ctx as o.a: pass", [("write_attr", OBJ, "a")]),
    ("return 0 < o.a < d['k']", [("read_attr", OBJ, "a"), ("read_item", DCT, "k")]),
    ("return 5 < o.a < d['k']", [("read_attr", OBJ, "a")]),
    ("return o.a if d['k'] else l[0]", [("read_item", DCT, "k"), ("read_attr", OBJ, "a")]),
    ("return o.a and l[0]", [("read_attr", OBJ, "a"), ("read_item", LST, 0)]),
    ("return [l[i] for i in range(2)]", [("read_item", LST, 0), ("read_item", LST, 1)]),
    ("return [l[i + 0] for i in range(2)]", [("read_item", LST, 0), ("read_item", LST, 1)]),
    ("return {l[i]: o.a for i in range(1)}", [("read_item", LST, 0), ("read_attr", OBJ, "a")]),
    ("return sum(l[i] for i in range(2))", [("read_item", LST, 0), ("read_item", LST, 1)]),
    ("return [x for x in l[1:3]]", [("read_item", LST, slice(1, 3))]),
    (
        "return [y for x in l[:1] for y in l[x // 10 - 1 : x // 10]]",
        [("read_item", LST, slice(None, 1)), ("read_item", LST, slice(0, 1))],
    ),
    ("return [x for x in [l[i + 0] for i in range(1)]]", [("read_item", LST, 0)]),
    ("return (lambda: o.a)()", [("read_attr", OBJ, "a")]),
    ("return (lambda i: l[i + 1])(0)", [("read_item", LST, 1)]),
    ("return f\"{o.a}-{d['k']!r:>5}\"", [("read_attr", OBJ, "a"), ("read_item", DCT, "k")]),
    ("return (y := l[0 + 1])", [("read_item", LST, 1)]),
    ("return l[-1:][0]", [("read_item", LST, slice(-1, None)), ("read_item", "l[-1:]", 0)]),
    ("match o.a:\n    case 1: d['k'] = 2", [("read_attr", OBJ, "a"), ("write_item", DCT, "k")]),
    (
        "match d:\n    case {'k': v} if v < l[0]: return o.a",
        [("read_item", LST, 0), ("read_attr", OBJ, "a")],
    ),
    ("o.a: int", []),
    ("o.a: int = 5", [("write_attr", OBJ, "a")]),
    ("d['k']: int", []),
    ("class C:\n    x: o.a = 1\n    o.b: int", []),  # annotations are evaluated, not reported
    ("return type(o).__name__", [("read_attr", "Obj", "__name__")]),
    (
        "try:\n    d['nope']\nexcept KeyError as e:\n    return e.args",
        [("read_item", DCT, "nope"), ("read_attr", "KeyError", "args")],
    ),
    ("assert o.a == 1, d['k']", [("read_attr", OBJ, "a")]),
    ("def g(x=o.a): return x\nreturn g()", [("read_attr", OBJ, "a")]),
    ("@o.deco\ndef g(): pass", [("read_attr", OBJ, "deco")]),
    (
        "class C(o.base):\n    y = d['k']\nreturn C.y",
        [("read_attr", OBJ, "base"), ("read_item", DCT, "k"), ("read_attr", "C", "y")],
    ),
]


def run_case(body: str) -> tuple[list[tuple[str, Any, Any]], dict[str, Any], Any]:
    """Run ``body`` as f(o, d, l) instrumented; its events with the objects
    named, and the objects."""
    import contextlib

    source = "def f(o, d, l, ctx):\n" + textwrap.indent(body, "    ")
    recorder = Recorder()
    f = load(source, sink=recorder)["f"]
    inner = Obj(a=2)
    objects: dict[str, Any] = {
        OBJ: Obj(a=1, n=inner, m=lambda: 0, deco=lambda fn: fn, base=object),
        DCT: {"k": 1, 1: "one", (1, 2): 12},
        LST: [10, 20, 30, 40],
        "n": inner,
    }
    result = f(objects[OBJ], objects[DCT], objects[LST], contextlib.nullcontext(9))
    names = {id(value): name for name, value in objects.items()}

    def name_of(obj: Any) -> str:
        """The object's name in CASES: its argument's, a type's own name, or
        its type's name (and ``l[-1:]``, the one copy that a case reads)."""
        if id(obj) in names:
            return names[id(obj)]
        if isinstance(obj, list) and obj == objects[LST][-1:]:
            return "l[-1:]"
        return obj.__name__ if isinstance(obj, type) else type(obj).__name__

    return [(kind, name_of(obj), key) for kind, obj, key in recorder.events], objects, result


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_events_of_each_form(body: str, expected: list[tuple[str, Any, Any]]) -> None:
    events, _, _ = run_case(body)
    assert events == expected, rewritten("def f(o, d, l, ctx):\n" + textwrap.indent(body, "    "))


def test_class_body_uses_no_class_attribute_for_its_temporaries() -> None:
    events, _, cls = run_case(
        "class C:\n    y = d['k' + '']\n    z = [d[j + ''] for j in ('k',)]\nreturn C"
    )
    assert events == [("read_item", DCT, "k"), ("read_item", DCT, "k")]
    assert (cls.y, cls.z) == (1, [1])
    assert not [name for name in vars(cls) if "gr_t" in name]


def test_module_level_code_leaves_no_temporary_behind() -> None:
    recorder = Recorder()
    namespace = load(
        '''\
        """The docstring stays first."""
        from __future__ import annotations
        d = {"k": 1}
        x = d["k" + ""]
        ''',
        sink=recorder,
    )
    assert namespace["x"] == 1
    assert namespace["__doc__"] == "The docstring stays first."
    assert recorder.events == [("read_item", namespace["d"], "k")]
    assert not [name for name in namespace if "gr_t" in name]


def test_an_item_load_where_walrus_is_forbidden_is_reported_from_a_lambda_on_its_line() -> None:
    recorder = Recorder()
    namespace = load("l = [1, 2]\nclass C:\n    z = [l[i + 0] for i in range(2)]\n", sink=recorder)
    assert namespace["C"].z == [1, 2]
    assert recorder.events == [("read_item", namespace["l"], 0), ("read_item", namespace["l"], 1)]
    assert recorder.lines == [3, 3]


def test_items_of_a_tuple_key_with_slices() -> None:
    class Grid:
        def __getitem__(self, key: Any) -> Any:
            return key

    recorder = Recorder()
    f = load("def f(g, i):\n    return g[i:i + 2, 3, ::i]", sink=recorder)["f"]
    grid = Grid()
    key = (slice(1, 3), 3, slice(None, None, 1))
    assert f(grid, 1) == key
    assert recorder.events == [("read_item", grid, key)]


def test_attribute_names_are_reported_mangled() -> None:
    recorder = Recorder()
    namespace = load(
        """\
        class _Box:
            def __init__(self):
                self.__x = 1
            def get(self):
                return self.__x + (lambda: self.__x)()
        """,
        sink=recorder,
    )
    box = namespace["_Box"]()
    assert box.get() == 2
    assert box._Box__x == 1
    assert [key for _, _, key in recorder.events] == ["_Box__x"] * 3


def test_super_and_class_cell_still_work() -> None:
    recorder = Recorder()
    namespace = load(
        """\
        class A:
            def hello(self):
                return "a"
        class B(A):
            suffix = ""
            def hello(self):
                return super().hello() + self.suffix + __class__.__name__
        """,
        sink=recorder,
    )
    assert namespace["B"]().hello() == "aB"
    assert ("read_attr", "suffix") in [(kind, key) for kind, _, key in recorder.events]


def test_coroutines_keep_working() -> None:
    recorder = Recorder()
    namespace = load(
        """\
        async def g(o, d):
            async def inner():
                return d["k"]
            o.a = await inner()
            return [x async for x in agen(o)]
        async def agen(o):
            yield o.a
        """,
        sink=recorder,
    )
    o, d = Obj(), {"k": 7}
    coroutine = namespace["g"](o, d)
    with pytest.raises(StopIteration) as stop:
        coroutine.send(None)
    assert stop.value.value == [7]
    assert recorder.events == [
        ("read_item", d, "k"),
        ("write_attr", o, "a"),
        ("read_attr", o, "a"),
    ]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="generic classes: 3.12+")
def test_generic_class_bases_where_walrus_is_forbidden() -> None:
    recorder = Recorder()
    namespace = load("bases = [dict]\nclass C[T](bases[0 + 0]): pass\n", sink=recorder)
    assert namespace["C"].__bases__[0] is dict
    assert recorder.events == [("read_item", namespace["bases"], 0)]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="generic classes: 3.12+")
def test_temporaries_in_methods_of_a_class_that_defines_a_generic_class() -> None:
    """CPython 3.12 compiles a method's private (mangled) local as a name
    lookup once an earlier method has defined a generic class: the
    temporary must not be mangled."""
    recorder = Recorder()
    source = """\
        class Outer:
            def a(self):
                class Foo[T]: pass
            def m(self, d):
                return d[0 + 0]
        """
    namespace = load(source, sink=recorder)
    d = [4]
    assert namespace["Outer"]().m(d) == 4
    assert recorder.events == [("read_item", d, 0)]


def test_the_sink_name_itself_is_not_instrumented() -> None:
    """Accesses to ``__goroutines_race__`` (the rewriter's own, or code that
    names it) are never reported, which would recurse into the detector."""
    source = "def f(o):\n    return __goroutines_race__.read_attr(o, 'a').a[0]"
    assert "(__goroutines_race__, " not in rewritten(source)
    recorder = Recorder()
    o = Obj(a=[5])
    assert load(source, sink=recorder)["f"](o) == 5
    assert recorder.events == [("read_attr", o, "a"), ("read_attr", o, "a"), ("read_item", o.a, 0)]


# ---- globals ---------------------------------------------------------------------------------

GLOBALS = """\
counter = 0
other = 1

def inc():
    global counter
    counter += 1

def get():
    return counter + other

def shadow():
    counter = 5
    return counter

def nested():
    counter = 3
    def inner():
        nonlocal counter
        counter += 1
        return counter
    return inner()

def rebind():
    global counter
    for counter in range(2):
        pass
    del counter
    counter = 10
    return [counter for _ in range(1)]

def walrus():
    global counter
    return (counter := 4) + 1

class K:
    counter = 7
    seen = counter
    def method(self):
        return counter
"""


def global_events(recorder: Recorder) -> list[tuple[str, str]]:
    return [(kind, key) for kind, module, key in recorder.events if module == "m"]


def test_global_events() -> None:
    recorder = Recorder()
    namespace = load(GLOBALS, sink=recorder)
    assert global_events(recorder) == [("write_global", "counter")]  # the module's own store
    calls: list[tuple[str, list[tuple[str, str]]]] = [
        ("inc", [("write_global", "counter")]),
        ("get", [("read_global", "counter")]),  # ``other`` is declared global nowhere
        ("shadow", []),
        ("nested", []),
        ("rebind", [("write_global", "counter")] * 4 + [("read_global", "counter")]),
        ("walrus", [("write_global", "counter")]),
    ]
    for name, expected in calls:
        recorder.events.clear()
        namespace[name]()
        assert global_events(recorder) == expected, name
    recorder.events.clear()
    assert namespace["K"]().method() == 4
    assert namespace["K"].seen == 7
    assert global_events(recorder) == [("read_global", "counter")]


def test_shared_cells_are_reported_under_their_function_s_token() -> None:
    # A local that a nested function rebinds (nonlocal) is shared between
    # the calls of that function and of its nested ones, as a Go closure's
    # captured variable is: each use is reported, under the token of the call
    # that owns it (``cells``), even through a nested function that has
    # shared cells of its own. A captured variable nobody rebinds is not.
    recorder = Recorder()
    namespace = load(
        """\
        def counter():
            count = 0
            fixed = 10
            def bump():
                nonlocal count
                count += 1
                mine = 0
                def inner():
                    nonlocal mine
                    mine = count + fixed
                inner()
                return mine
            return bump(), count
        """,
        sink=recorder,
    )
    recorder.events.clear()
    assert namespace["counter"]() == (11, 1)
    outer, inner = ("cells", "counter"), ("cells", "counter.<locals>.bump")
    assert recorder.events == [
        ("write_cell", outer, "count"),  # count = 0
        ("write_cell", outer, "count"),  # count += 1 (fixed: not rebound, not reported)
        ("write_cell", inner, "mine"),  # mine = 0
        ("read_cell", outer, "count"),  # in inner: count + fixed
        ("write_cell", inner, "mine"),
        ("read_cell", inner, "mine"),  # return mine
        ("read_cell", outer, "count"),  # return ..., count
    ]


def test_global_bound_by_import_def_class_and_with() -> None:
    recorder = Recorder()
    namespace = load(
        """\
        import contextlib
        def setup():
            global json, helper, Thing, cm
            import json
            def helper(): pass
            class Thing: pass
            with contextlib.nullcontext(3) as cm:
                return cm
        """,
        sink=recorder,
    )
    recorder.events.clear()
    assert namespace["setup"]() == 3
    assert global_events(recorder) == [
        ("write_global", "json"),
        ("write_global", "helper"),
        ("write_global", "Thing"),
        ("write_global", "cm"),
        ("read_global", "cm"),
    ]


def test_global_store_is_reported_after_its_value_is_computed() -> None:
    """``g = ch.recv()`` must be a write made after the receive (its
    happens-before edge), not before."""
    recorder = Recorder()
    namespace = load(
        "def f(o):\n    global g\n    g = o.a\n    g += o.a",
        sink=recorder,
    )
    o = Obj(a=1)
    namespace["f"](o)
    assert [(kind, key) for kind, _, key in recorder.events] == [
        ("read_attr", "a"),
        ("write_global", "g"),
        ("write_global", "g"),  # ``+=``: one write, before the statement
        ("read_attr", "a"),
    ]
    assert namespace["g"] == 2


# ---- semantics: the rewritten code computes what the original does -----------------------


class Node:
    """An object that logs every access made to it; every result is a Node
    named by the path that produced it, so that runs compare by name."""

    __slots__ = ("_log", "_path")
    _log: list[Any]
    _path: str

    def __init__(self, log: list[Any], path: str) -> None:
        object.__setattr__(self, "_log", log)
        object.__setattr__(self, "_path", path)

    def _child(self, step: str) -> Node:
        return Node(self._log, f"{self._path}{step}")

    def __getattr__(self, name: str) -> Node:
        self._log.append(("get", self._path, name))
        if name == "bad":
            raise AttributeError(f"{self._path}.bad")
        return self._child(f".{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._log.append(("set", self._path, name, describe(value)))

    def __delattr__(self, name: str) -> None:
        self._log.append(("del", self._path, name))

    def __getitem__(self, key: Any) -> Node:
        self._log.append(("get", self._path, describe(key)))
        return self._child(f"[{describe(key)}]")

    def __setitem__(self, key: Any, value: Any) -> None:
        self._log.append(("set", self._path, describe(key), describe(value)))

    def __delitem__(self, key: Any) -> None:
        self._log.append(("del", self._path, describe(key)))

    def __add__(self, other: Any) -> Node:
        self._log.append(("add", self._path, describe(other)))
        return self._child(f"+{describe(other)}")

    def __lt__(self, other: Any) -> Node:
        self._log.append(("lt", self._path, describe(other)))
        return self._child(f"<{describe(other)}")

    def __bool__(self) -> bool:
        self._log.append(("bool", self._path))
        return len(self._path) % 2 == 0

    def __iter__(self) -> Iterator[Node]:
        self._log.append(("iter", self._path))
        return iter([self._child("#0"), self._child("#1")])

    def __format__(self, spec: str) -> str:
        self._log.append(("format", self._path))
        return self._path[1:]  # not "@...": only Nodes' names start with "@"

    def __hash__(self) -> int:
        return hash(self._path)

    def __repr__(self) -> str:
        return self._path[1:]


def describe(value: Any) -> Any:
    if isinstance(value, Node):
        return object.__getattribute__(value, "_path")
    if isinstance(value, slice):
        return ("slice", describe(value.start), describe(value.stop), describe(value.step))
    if isinstance(value, tuple | list):
        return [describe(item) for item in value]
    if isinstance(value, type):
        return value.__name__
    return value


def expressions() -> st.SearchStrategy[str]:
    leaves = st.sampled_from(["a", "b", "g", "f(a)", "0", "'k'", "v"])

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pair, triple = st.tuples(inner, inner), st.tuples(inner, inner, inner)
        return st.one_of(
            inner.map("f({})".format),
            inner.map("({}).x".format),
            inner.map("({}).bad".format),
            inner.map("({})['k']".format),
            inner.map('f"{{{}}}"'.format),
            inner.map("(lambda: {})()".format),
            pair.map(lambda p: "({})[{}]".format(*p)),
            pair.map(lambda p: "({})[{}, 0]".format(*p)),
            pair.map(lambda p: "({} + {})".format(*p)),
            pair.map(lambda p: "[{} for v in {}]".format(*p)),
            triple.map(lambda p: "({})[{}:{}]".format(*p)),
            triple.map(lambda p: "({} if {} else {})".format(*p)),
            triple.map(lambda p: "({} < {} < {})".format(*p)),
        )

    return st.recursive(leaves, extend, max_leaves=6)


EXPRESSIONS = expressions()
TARGETS = ["({}).x", "({})[{}]", "({})[{}:{}]", "g"]


def statements() -> st.SearchStrategy[str]:
    def make(parts: tuple[str, str, list[str]]) -> str:
        shape, template, operands = parts
        target = template.format(*operands)
        if shape == "del":
            return f"del {target}"
        if shape == "for":
            return f"for {target} in {operands[0]}: pass"
        return f"{target} {shape} {operands[-1]}"

    shapes = st.sampled_from(["=", "+=", "del", "for"])
    operands = st.lists(EXPRESSIONS, min_size=3, max_size=3)
    return st.tuples(shapes, st.sampled_from(TARGETS), operands).map(make)


# Where the code under test runs: a function, a class body, a comprehension
# of a class body and a comprehension's iterable (where ``:=`` is forbidden),
# a generator, the module's top level.
CONTEXTS = {
    "function": "def prog(a, b):\n    global g\n    {stmt}\n    return {expr}\n",
    "class": "def prog(a, b):\n    class C:\n        {stmt}\n        r = {expr}\n    return C.r\n",
    "class comprehension": (
        "def prog(a, b):\n    {stmt}\n    class C:\n        r = [{expr} for _ in (0,)][0]\n"
        "    return C.r\n"
    ),
    "iterable": "def prog(a, b):\n    {stmt}\n    return [w for w in [{expr}]][0]\n",
    "generator": "def prog(a, b):\n    {stmt}\n    yield {expr}\n",
    "module": "{stmt}\nr = {expr}\ndef prog(a, b):\n    return r\n",
}


DECLARE_G = "def _declare():\n    global g\n"  # so that ``g`` is an instrumented global


def execute(code: types.CodeType, sink: Recorder | None) -> tuple[Any, list[Any]]:
    """Run a program; (its result or exception, the log of accesses and the
    sink's events, in order)."""
    log: list[Any] = []

    def f(value: Any) -> Any:
        log.append(("call", describe(value)))
        return value

    namespace: dict[str, Any] = {"__name__": "m", "f": f, "g": Node(log, "@G")}
    namespace.update(a=Node(log, "@A"), b=Node(log, "@B"))  # for the module's top level
    if sink is not None:
        sink.events = _Tee(log)
        namespace[SINK] = sink
    try:
        exec(code, namespace)
        result = namespace["prog"](namespace["a"], namespace["b"])
        if isinstance(result, types.GeneratorType):
            result = list(result)
        outcome: Any = ("ok", describe(result))
    except Exception as exc:  # the same exception, from the same place
        outcome = ("raised", type(exc).__name__, str(exc))
    return outcome, log


class _Tee(list[Any]):
    """The sink's events, appended to the program's log as well."""

    def __init__(self, log: list[Any]) -> None:
        super().__init__()
        self._log = log

    def append(self, event: Any) -> None:
        kind, obj, key = event
        self._log.append(("sink", kind, describe(obj), describe(key)))
        super().append(event)


def check_events_frame_accesses(log: list[Any], augmented: bool) -> None:
    """Each sink event on a Node comes right before the access it announces,
    and each access to a Node right after its event (but the store that
    ends ``+=``, announced by the write before its load)."""
    announced = {"read_attr": ("get",), "read_item": ("get",)}
    writes = ("set", "del", "get") if augmented else ("set", "del")
    for index, entry in enumerate(log):
        if entry[0] == "sink" and isinstance(entry[2], str) and entry[2].startswith("@"):
            kind, path, key = entry[1], entry[2], entry[3]
            nxt = log[index + 1]
            assert nxt[0] in announced.get(kind, writes) and nxt[1:3] == (path, key), (entry, nxt)
        elif entry[0] in ("get", "set", "del"):
            previous = log[index - 1]
            if augmented and entry[0] == "set":
                continue
            assert previous[0] == "sink" and previous[2:4] == (entry[1], entry[2]), (
                previous,
                entry,
            )


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # the plain compile's: ``0['k']``
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    context=st.sampled_from(sorted(CONTEXTS)),
    stmt=st.one_of(st.just("pass"), statements()),
    expr=EXPRESSIONS,
)
def test_rewritten_code_computes_what_the_original_computes(
    context: str, stmt: str, expr: str
) -> None:
    source = CONTEXTS[context].format(stmt=stmt, expr=expr) + DECLARE_G
    try:
        plain = compile(source, "<prog>", "exec")
    except SyntaxError:  # f-strings nested in f-strings before 3.12
        assume(False)
        raise
    instrumented = compile_source(source, "<prog>")
    expected, plain_log = execute(plain, None)
    outcome, log = execute(instrumented, Recorder())
    assert outcome == expected, rewritten(source)
    assert [entry for entry in log if entry[0] != "sink"] == plain_log, rewritten(source)
    check_events_frame_accesses(log, augmented="+=" in stmt)


# ---- tracebacks and lines ------------------------------------------------------------------


def test_tracebacks_keep_the_users_lines() -> None:
    source = textwrap.dedent(
        """\
        def outer(d, o):
            x = [
                inner(d, o)
                for _ in range(1)
            ]
            return x

        def inner(d, o):
            o.a = 1
            return (o.a +
                    d["missing" + ""])
        """
    )

    def lines_of(code: types.CodeType, namespace: dict[str, Any]) -> list[tuple[str, int | None]]:
        exec(code, namespace)
        with pytest.raises(KeyError) as raised:
            namespace["outer"]({}, Obj())
        frames = traceback.extract_tb(raised.value.__traceback__)
        return [(frame.name, frame.lineno) for frame in frames if frame.filename == "prog.py"]

    recorder = Recorder()
    plain = lines_of(compile(source, "prog.py", "exec"), {})
    instrumented = lines_of(compile_source(source, "prog.py"), {SINK: recorder})
    assert instrumented == plain
    assert plain[-1] == ("inner", 11)
    assert recorder.lines == [9, 10, 11]  # the lines the detector's stacks show


# ---- the import hook -----------------------------------------------------------------------


@pytest.fixture
def hook() -> Iterator[Recorder]:
    recorder = Recorder()
    try:
        yield recorder
    finally:
        instrument.uninstall()


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Writes a module (or a package's module) under a directory on sys.path;
    its name is unique, and it leaves sys.modules with the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    made: list[str] = []

    def write(source: str, name: str | None = None) -> str:
        name = name or f"racemod_{uuid.uuid4().hex}"
        path = tmp_path.joinpath(*name.split("."))
        if "." in name:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.joinpath("__init__.py").write_text("x = {'k': 1}\nx['k']\n")
        path.with_suffix(".py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        made.append(name)
        return name

    yield write
    for name in list(sys.modules):
        if any(name == made_name or name.startswith(made_name.split(".")[0]) for made_name in made):
            del sys.modules[name]


USER_MODULE = """\
class Box:
    pass

def touch(box):
    box.x = 1
    return box.x
"""


def test_hook_instruments_a_user_module(hook: Recorder, user_dir: Callable[..., str]) -> None:
    name = user_dir(USER_MODULE)
    instrument.install(hook)
    module = importlib.import_module(name)
    box = module.Box()
    assert module.touch(box) == 1
    assert hook.events == [("write_attr", box, "x"), ("read_attr", box, "x")]
    assert type(module.__loader__).__name__ == "_Loader"
    assert "box.x = 1" in __import__("inspect").getsource(module)


def test_hook_instruments_packages_and_their_modules(
    hook: Recorder, user_dir: Callable[..., str]
) -> None:
    name = user_dir("def f(d):\n    return d[0]\n", f"racepkg_{uuid.uuid4().hex}.sub")
    instrument.install(hook)
    module = importlib.import_module(name)
    package = sys.modules[name.partition(".")[0]]
    assert hook.events == [("read_item", package.x, "k")]
    hook.events.clear()
    assert module.f([5]) == 5
    assert [kind for kind, _, _ in hook.events] == ["read_item"]


def test_hook_leaves_stdlib_site_packages_and_this_package_alone(hook: Recorder) -> None:
    instrument.install(hook)
    finder = sys.meta_path[0]
    for name in ("colorsys", "iniconfig"):  # the standard library, site-packages
        spec = finder.find_spec(name, None)
        assert spec is not None and spec.origin, name
        assert type(spec.loader) is importlib.machinery.SourceFileLoader, name
    # This package, even when included by name (under pytest, its own hook
    # loads this package: ask the path finder, as without pytest).
    instrument.install(hook, include=("goroutines",))
    path = importlib.import_module("goroutines").__path__
    spec = importlib.machinery.PathFinder.find_spec("goroutines.errgroup", path)
    assert spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader
    finder = instrument._Finder(hook, ("goroutines",), ())
    assert type(finder._instrumented(spec).loader) is importlib.machinery.SourceFileLoader
    assert not finder.wanted("goroutines.errgroup", spec.origin)


def test_include_and_exclude_by_name(hook: Recorder, user_dir: Callable[..., str]) -> None:
    instrument.install(hook, include=("colorsys", "iniconfig"))
    finder = sys.meta_path[0]
    for name in ("colorsys", "iniconfig"):
        spec = finder.find_spec(name, None)
        assert spec is not None and type(spec.loader).__name__ == "_Loader", name

    name = user_dir(USER_MODULE)
    instrument.install(hook, exclude=(name,))
    module = importlib.import_module(name)
    assert module.touch(module.Box()) == 1
    assert hook.events == []
    assert SINK not in vars(module)


def test_the_longest_matching_prefix_decides() -> None:
    finder = instrument._Finder(Recorder(), include=("a.b", "x"), exclude=("a", "x.y.z", "x"))
    assert [finder.chosen(name) for name in ("a", "a.c", "a.b", "a.b.c", "a.bc")] == [
        False,
        False,
        True,
        True,
        False,
    ]
    assert [finder.chosen(name) for name in ("x", "x.y", "x.y.z.w", "other")] == [
        False,  # a tie: excluded
        False,
        False,
        None,
    ]


def test_install_is_idempotent(hook: Recorder) -> None:
    other = Recorder()
    instrument.install(hook)
    instrument.install(other, exclude=("nothing",))
    finders = [finder for finder in sys.meta_path if isinstance(finder, instrument._Finder)]
    assert len(finders) == 1 and sys.meta_path[0] is finders[0]
    assert finders[0].sink is other and finders[0].exclude == ("nothing",)
    instrument.uninstall()
    instrument.uninstall()
    assert not [finder for finder in sys.meta_path if isinstance(finder, instrument._Finder)]


def test_a_module_too_deep_to_rewrite_is_imported_as_it_is(
    hook: Recorder, user_dir: Callable[..., str]
) -> None:
    name = user_dir("def f(o):\n    return o" + ".o" * 500 + "\n")
    instrument.install(hook)
    with pytest.warns(RuntimeWarning, match="nested too deeply to instrument"):
        module = importlib.import_module(name)
    o = Obj()
    o.__dict__["o"] = o
    assert module.f(o) is o and hook.events == []


def test_instrumented_code_never_goes_through_pycache(
    hook: Recorder, user_dir: Callable[..., str]
) -> None:
    name = user_dir(USER_MODULE)
    instrument.install(hook)
    module = importlib.import_module(name)
    cache = Path(module.__file__ or "").parent / "__pycache__"
    assert not (cache.exists() and [p for p in cache.iterdir() if p.name.startswith(name)])

    instrument.uninstall()  # a plain import writes the plain module's bytecode
    del sys.modules[name]
    plain = importlib.import_module(name)
    assert SINK not in vars(plain) and plain.touch(plain.Box()) == 1
    assert [p for p in cache.iterdir() if p.name.startswith(name)]

    instrument.install(hook)  # ... which the hook does not take
    del sys.modules[name]
    again = importlib.import_module(name)
    box = again.Box()
    again.touch(box)
    assert hook.events == [("write_attr", box, "x"), ("read_attr", box, "x")]

    instrument.uninstall()  # ... nor overwrite
    del sys.modules[name]
    last = importlib.import_module(name)
    hook.events.clear()
    assert last.touch(last.Box()) == 1 and hook.events == []


# ---- modules imported before the detector came on --------------------------------------

LOADED = """\
import functools

def deco(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper

def plain(o):
    return o.a

@deco
def decorated(o):
    return o.b

def make():
    seen = []
    def closure(o):
        seen.append(o.c)
        return seen
    return closure

closure = make()
partial = functools.partial(plain)

def comprehension(l):  # its rewritten code binds a new cell on 3.11 (``:=`` in a listcomp)
    return [l[i + 0] for i in range(2)]

class C:
    def method(self, o):
        return o.d
    @staticmethod
    def static(o):
        return o.e
    @classmethod
    def klass(cls, o):
        return o.f
    @property
    def prop(self):
        return self.g
    @functools.cached_property
    def cached(self):
        return self.h
    class Inner:
        def method(self, o):
            return o.i
"""


def test_instrument_loaded_switches_functions_and_methods(
    hook: Recorder, user_dir: Callable[..., str]
) -> None:
    module = importlib.import_module(user_dir(LOADED))
    held = module.plain  # a reference taken before: the same function object
    o = Obj(a=1, b=2, c=3, d=4, e=5, f=6, i=9)
    c = module.C()
    c.g, c.h = 7, 8
    assert module.plain(o) == 1 and hook.events == []

    # plain, wrapper, decorated, closure, make, deco, comprehension,
    # method, static, klass, prop, cached, Inner.method
    assert instrument.instrument_loaded(module, hook) == 13
    assert vars(module)[SINK] is hook
    calls = [
        held(o),
        module.partial(o),
        module.decorated(o),
        module.closure(o),
        c.method(o),
        module.C.static(o),
        module.C.klass(o),
        c.prop,
        module.C.Inner().method(o),
    ]
    assert calls == [1, 1, 2, [3], 4, 5, 6, 7, 9]
    assert [key for _, _, key in hook.events] == [
        "a", "a", "b", "c", "d", "e", "f", "g", "i"
    ]  # fmt: skip
    assert c.cached == 8 and hook.events[-1][2] == "h"
    assert module.comprehension([3, 4]) == [3, 4]
    assert [key for _, _, key in hook.events[-2:]] == [0, 1]


def test_instrument_loaded_again_changes_nothing_but_the_sink(
    hook: Recorder, user_dir: Callable[..., str]
) -> None:
    module = importlib.import_module(user_dir(USER_MODULE))
    assert instrument.instrument_loaded(module, hook) == 1
    other = Recorder()
    assert instrument.instrument_loaded(module, other) == 0
    box = module.Box()
    module.touch(box)
    assert hook.events == [] and other.events == [("write_attr", box, "x"), ("read_attr", box, "x")]


def test_instrument_loaded_skips_functions_whose_source_changed(
    hook: Recorder, user_dir: Callable[..., str]
) -> None:
    name = user_dir(USER_MODULE)
    module = importlib.import_module(name)
    path = Path(module.__file__ or "")
    path.write_text(USER_MODULE.replace("box.x = 1", "box.y = 2"))
    import linecache

    linecache.checkcache(str(path))
    assert instrument.instrument_loaded(module, hook) == 0
    box = module.Box()
    assert module.touch(box) == 1 and hook.events == []


def test_instrument_loaded_without_source_does_nothing(hook: Recorder) -> None:
    module = types.ModuleType("nosource")
    exec("def f(o):\n    return o.a\n", vars(module))
    assert instrument.instrument_loaded(module, hook) == 0
    assert module.f(Obj(a=1)) == 1 and hook.events == []


def test_instrument_loaded_main_like_script(
    hook: Recorder, user_dir: Callable[..., str], tmp_path: Path
) -> None:
    """A script run as ``__main__`` has no spec: its file is read."""
    script = tmp_path / "script.py"
    script.write_text("counter = 0\ndef bump():\n    global counter\n    counter += 1\n")
    module = types.ModuleType("__main__")
    module.__file__ = str(script)
    exec(compile(script.read_text(), str(script), "exec"), vars(module))
    assert instrument.instrument_loaded(module, hook) == 1
    module.bump()
    assert hook.events == [("write_global", "__main__", "counter")]


def test_keys_are_passed_as_python_passes_them_even_unhashable() -> None:
    with pytest.raises(TypeError, match="unhashable"):
        run_case("return d[(o.a, l[1:2])]")
    recorder = Recorder()
    f = load("def f(o, d, l):\n    return d[(o.a, l[1:2])]", sink=recorder)["f"]
    o, d, lst = Obj(a=1), dict[Any, Any](), [10, 20]
    with pytest.raises(TypeError, match="unhashable"):
        f(o, d, lst)
    assert recorder.events == [
        ("read_attr", o, "a"),
        ("read_item", lst, slice(1, 2)),
        ("read_item", d, (1, [20])),
    ]
