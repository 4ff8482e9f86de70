"""Race instrumentation: user code tells the detector about every shared access
just before it makes it.

What this module owns
  The rewriting of a module's syntax tree (``rewrite``, ``compile_source``), the
  import hook that applies it to user modules as they are imported
  (``install``/``uninstall``), and the re-instrumenting of a module imported
  before the detector came on (``instrument_loaded``). It knows nothing of
  vector clocks: it only emits calls to the six functions of the *sink* (the
  detector), found through one global name, ``__goroutines_race__`` (``SINK``).

Why an import hook that rewrites syntax trees
  The detector must see attribute, item and global accesses of Python code.
  CPython has no event for them: 3.11 has no ``sys.monitoring``, and
  ``sys.monitoring`` (3.12+) has line, call, jump and branch events but none for
  an attribute or a subscript; a trace function sees lines, not accesses, and
  costs every line of every module. Rewriting the source of the modules that
  matter (as pytest rewrites ``assert`` statements) costs one call per access,
  in those modules only, and none elsewhere.

Rewrite rules (``R`` stands for ``__goroutines_race__``, ``T`` for the temporary
``__gr_t__``; the object is evaluated before the key, the key before the call):
  ``o.a``  (load)                 ``R.read_attr(o, 'a').a``
  ``o.m(...)``                     unchanged but for ``o`` and the arguments: a method call
                                  (see "What is not seen")
  ``o.a = v``, ``del o.a``          ``R.write_attr(o, 'a').a = v``, ``del R.write_attr(o, 'a').a``
  ``o.a += v``                    ``R.write_attr(o, 'a').a += v``  (one write: it subsumes the read)
  ``o[k]`` (load)                 ``R.read_item(o, (T := k))[T]`` (``[k]`` if a constant or name)
  ``o[k] = v``, ``del``, ``+=``       ``R.write_item(o, (T := k))[T] ...``
  ``o[a:b]``                      the key is the slice object Python would pass:
                                  ``().__class__[a:b].__args__[0]`` (``slice`` may be rebound)
  ``g`` (load)                    ``(R.read_global('g') or g)``
  ``g = v``, ``for g in``, ``import g``  ``R.write_global('g')`` as the statement right after the
                                  store (a name cannot be stored from inside an expression); for a
                                  ``for``/``with``/``except``/``case``, the body's first statement
  ``g += v``, ``del g``             ``R.write_global('g')`` just before the statement
  ``(g := v)``                    ``((g := v), R.write_global('g'))[0]``
  ``c`` a shared cell             as a global, with ``read_cell(C, 'c')``/``write_cell(C, 'c')``
  Python's semantics are otherwise kept: every operand is evaluated once, in
  the same order, raising the same exceptions; ``T`` is the only name added,
  besides ``C``: ``C = R.cells()`` at the start of a function with shared
  cells (``__gr_cellsN__``, N its nesting depth), the token they are reported
  under, one per call, which the nested functions see as a free variable.
  The instrumented globals are the names that some ``global`` statement of the
  module declares (they are the ones written after import), wherever they are
  loaded or stored as globals, at module level too; the shared cells are a
  function's locals that a nested function declares ``nonlocal`` (goroutines
  that are closures share them, as Go's closures share captured variables),
  wherever they are used. Other globals (functions, classes, imports), other
  locals and other closure variables are not reported. Attribute names are
  reported mangled (``self.__x`` in class ``C`` as ``'_C__x'``), as stored.
  Type annotations, ``match`` patterns and ``type`` aliases are left alone.

Where ``T`` may not be bound
  ``T`` is a local of the function (or lambda) around the access; only one is
  needed, since each is stored and read back with nothing but the sink's call
  in between. Its name ends with ``__`` so that Python does not mangle it in
  a class: CPython 3.12 (3.12.1 at least) compiles a mangled local of a
  method as a global-or-class name (``SystemError: no locals found``) once an
  earlier method of the class has defined a generic class. At module level
  and in a class body ``T`` would remain a global or a class attribute: those
  bodies set ``T = None`` first and ``del T`` last.
  Python forbids ``:=`` in a comprehension's ``in`` clause, in any
  comprehension of a class body and in a generic class's bases (3.12+): there
  an item load becomes
  ``(lambda o, k: R.read_item(o, k)[k])(o, key)`` (the sink sees the lambda's
  frame, at the same line), and an item store with a computed key in a
  comprehension's ``for`` target is not reported.

What is not seen (as Go's detector finds only the races that happen in the code
it instruments)
  Accesses made by C code (C extensions, the built-in types' methods: a
  ``list.append`` is no item store), by the standard library and installed
  libraries (unless included by name), by this package, by strings passed to
  ``exec``/``eval``, by modules imported before ``install`` (but those given to
  ``instrument_loaded``) or without a source file, by module-level and class
  bodies that already ran, by code objects that existed before
  ``instrument_loaded`` and are not reachable from the module (see there),
  and by a module nested too deeply to rewrite (an attribute chain hundreds
  long: it is imported as it is, with a ``RuntimeWarning``).
  The lookup of the method in a call ``o.m(...)`` is not a read of ``o.m``:
  it is nearly always a method of ``o``'s class (or a C method, such as a
  list's ``append``), which nobody writes; recording it would cost every
  method call a shadow access for no report (Go's method calls read no
  memory either). So a function stored in an attribute and called as
  ``o.f()``, while another goroutine assigns ``o.f``, is not reported
  (``g = o.f; g()`` is).
  Also: attribute reads done by ``match`` class patterns, ``getattr``/``setattr``
  and other built-ins, and a global's store inside a tuple target is reported
  after the statement's other stores.
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib.machinery
import inspect
import sys
import threading
import types
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, cast

from .._runtime import codekind

SINK = "__goroutines_race__"
_TEMP = "__gr_t__"  # dunder-shaped: never mangled (see "Where T may not be bound")


class Sink(Protocol):
    """What rewritten code calls (the detector implements it). Each function
    takes the user's frame as ``sys._getframe(1)``: the calls are made directly
    from the user's code. The rewritten code relies on the results: the
    ``*_attr`` and ``*_item`` functions return ``obj``, the ``*_global`` and
    ``*_cell`` ones None (``R.read_global('g') or g``), ``cells`` a token."""

    def read_attr(self, obj: Any, name: str, /) -> Any: ...
    def write_attr(self, obj: Any, name: str, /) -> Any: ...
    def read_item(self, obj: Any, key: Any, /) -> Any: ...
    def write_item(self, obj: Any, key: Any, /) -> Any: ...
    def read_global(self, name: str, /) -> None: ...
    def write_global(self, name: str, /) -> None: ...
    def cells(self) -> Any: ...
    def read_cell(self, token: Any, name: str, /) -> None: ...
    def write_cell(self, token: Any, name: str, /) -> None: ...


# ---- scopes: which names are the module's globals where they are used ------------------


class _Scope:
    """A module, class, function (or lambda) or comprehension body, with the
    names it binds and declares."""

    def __init__(self, kind: str, parent: _Scope | None, class_name: str | None) -> None:
        self.kind = kind  # "module", "class", "function" or "comprehension"
        self.parent = parent
        self.class_name = class_name  # the innermost enclosing class's, for name mangling
        self.bound: set[str] = set()
        self.declared_global: set[str] = set()
        self.declared_nonlocal: set[str] = set()
        self.shared: set[str] = set()  # its locals that a nested function rebinds (nonlocal)
        above = parent.depth if parent is not None else 0
        self.depth: int = above + 1 if kind == "function" else above  # functions around and at it

    def cells(self) -> str:
        """The name of the variable holding this function's shared cells'
        token (one per nesting depth: a nested function's does not hide it)."""
        return f"__gr_cells{self.depth}__"

    def owner(self, name: str) -> _Scope | None:
        """The function (or comprehension) scope whose local ``name``, used
        here, is; None for a global, a builtin or a class body's name."""
        scope: _Scope | None = self
        while scope is not None and scope.kind != "module":
            if scope.kind == "class":
                if scope is self and name in scope.bound:
                    return None
            elif name in scope.declared_global:
                return None
            elif name in scope.bound and name not in scope.declared_nonlocal:
                return scope
            scope = scope.parent
        return None

    def binder(self) -> _Scope:
        """Where ``:=`` binds from here: comprehensions bind in their parent."""
        scope = self
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        return scope

    def is_global(self, name: str) -> bool:
        """Whether ``name`` used here is the module's global (a name bound in a
        class body counts as the class's, though a load may fall through)."""
        if self.kind == "module" or name in self.declared_global:
            return True
        if name in self.declared_nonlocal or name in self.bound:
            return False
        scope = self.parent
        while scope is not None and scope.kind != "module":
            if scope.kind != "class":  # functions do not see their classes' names
                if name in scope.declared_global:
                    return True
                if name in scope.declared_nonlocal or name in scope.bound:
                    return False
            scope = scope.parent
        return True


class _Scopes(ast.NodeVisitor):
    """First pass: the scope of every scope node, and the instrumented globals
    (every name some ``global`` statement declares)."""

    def __init__(self, tree: ast.Module) -> None:
        self.module = self._current = _Scope("module", None, None)
        self.of: dict[ast.AST, _Scope] = {tree: self.module}
        self.instrumented: set[str] = set()
        self._visit_all(tree.body)
        for scope in list(self.of.values()):
            for name in scope.declared_nonlocal:
                owner = scope.parent.owner(name) if scope.parent is not None else None
                if owner is not None:
                    owner.shared.add(name)

    def _open(self, node: ast.AST, kind: str, class_name: str | None) -> _Scope:
        scope = self.of[node] = _Scope(kind, self._current, class_name)
        return scope

    def _visit_all(self, nodes: Sequence[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def _inside(self, scope: _Scope, nodes: Sequence[ast.AST | None]) -> None:
        outer, self._current = self._current, scope
        try:
            self._visit_all(nodes)
        finally:
            self._current = outer

    def _bind_arguments(self, scope: _Scope, args: ast.arguments) -> None:
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        scope.bound.update(arg.arg for arg in every if arg is not None)

    def visit_Global(self, node: ast.Global) -> None:
        self._current.declared_global.update(node.names)
        self.instrumented.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._current.declared_nonlocal.update(node.names)

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            self._current.bound.add(node.id)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._current.binder().bound.add(node.target.id)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._current.bound.add(node.name)
        self._visit_all([*node.decorator_list, *node.args.defaults, *node.args.kw_defaults])
        scope = self._open(node, "function", self._current.class_name)
        self._bind_arguments(scope, node.args)
        self._inside(scope, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_all([*node.args.defaults, *node.args.kw_defaults])
        scope = self._open(node, "function", self._current.class_name)
        self._bind_arguments(scope, node.args)
        self._inside(scope, [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._current.bound.add(node.name)
        self._visit_all([*node.decorator_list, *node.bases, *node.keywords])
        self._inside(self._open(node, "class", node.name), node.body)

    def _comprehension(self, node: ast.AST, results: list[ast.expr]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        scope = self._open(node, "comprehension", self._current.class_name)
        inner: list[ast.AST] = []
        for index, generator in enumerate(generators):
            inner += [generator.target, *([generator.iter] if index else []), *generator.ifs]
        self._inside(scope, [*inner, *results])

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        self._current.bound.update(_imported_names(node))

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._current.bound.add(node.name)
        self.generic_visit(node)

    def visit_match_case(self, node: ast.match_case) -> None:
        self._current.bound.update(_captured_names(node.pattern))
        self._visit_all([node.guard, *node.body])

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._visit_all([node.target, node.value])  # not the annotation

    def visit_arg(self, node: ast.arg) -> None:
        pass  # annotations are not looked into

    def visit_TypeAlias(self, node: ast.AST) -> None:  # 3.12+
        self.visit(node.name)  # type: ignore[attr-defined]


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    names = (alias.asname or alias.name.partition(".")[0] for alias in node.names)
    return [name for name in names if name != "*"]


def _captured_names(pattern: ast.pattern) -> list[str]:
    names: list[str] = []
    for node in ast.walk(pattern):
        if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            names.append(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.append(node.rest)
    return names


def _mangle(class_name: str | None, name: str) -> str:
    """The name Python stores for ``name`` written inside class ``class_name``."""
    if class_name is None or not name.startswith("__") or name.endswith("__") or "." in name:
        return name
    stripped = class_name.lstrip("_")
    return f"_{stripped}{name}" if stripped else name


# ---- emitted code -------------------------------------------------------------------


def _located(new: ast.AST, old: ast.AST) -> Any:
    """``new`` with the position of ``old`` on each of its nodes that has none
    (tracebacks, and the frames the sink reads, keep the user's lines)."""
    for node in ast.walk(new):
        if "lineno" in node._attributes and getattr(node, "lineno", None) is None:
            ast.copy_location(node, old)
    return new


def _sink_call(function: str, *args: ast.expr) -> ast.Call:
    method = ast.Attribute(ast.Name(SINK, ast.Load()), function, ast.Load())
    return ast.Call(method, list(args), [])


def _slice_object(bounds: ast.Slice) -> ast.expr:
    """``().__class__[lower:upper:step].__args__[0]``: the slice object that
    ``o[lower:upper:step]`` passes, built without the name ``slice``."""
    tuple_type = ast.Attribute(ast.Tuple([], ast.Load()), "__class__", ast.Load())
    alias = ast.Subscript(tuple_type, bounds, ast.Load())
    args = ast.Attribute(alias, "__args__", ast.Load())
    return ast.Subscript(args, ast.Constant(0), ast.Load())


def _is_simple(key: ast.expr) -> bool:
    """Whether ``key`` may be evaluated twice: a constant or a plain name."""
    if isinstance(key, ast.Tuple):
        return all(isinstance(item, ast.Constant) for item in key.elts)
    return isinstance(key, ast.Constant | ast.Name)


def _read_item_call(obj: ast.expr, key: ast.expr) -> ast.expr:
    """``(lambda o, k: R.read_item(o, k)[k])(obj, key)``, where ``:=`` is not allowed."""
    load = ast.Load()
    params = ast.arguments([], [ast.arg("o"), ast.arg("k")], None, [], [], None, [])
    body = ast.Subscript(
        _sink_call("read_item", ast.Name("o", load), ast.Name("k", load)), ast.Name("k", load), load
    )
    return ast.Call(ast.Lambda(params, body), [obj, key], [])


def _body_start(body: list[ast.stmt]) -> int:
    """Where statements may be added at the top of a module or class body:
    after its docstring and ``from __future__`` imports."""
    index = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        index = 1 if isinstance(body[0].value.value, str) else 0
    while index < len(body):
        statement = body[index]
        if not (isinstance(statement, ast.ImportFrom) and statement.module == "__future__"):
            break
        index += 1
    return index


# ---- the rewriter --------------------------------------------------------------------


class _Rewriter(ast.NodeTransformer):
    """Second pass: the rules of the module docstring. Nodes it creates are
    never visited again, so the sink's own accesses are not instrumented."""

    def __init__(self, scopes: _Scopes) -> None:
        self._scopes = scopes
        self._scope = scopes.module
        self._walrus_ok = True
        self._stored: list[str] = []  # instrumented globals stored by the current targets
        self._temp_binders: set[_Scope] = set()  # module and class bodies that bind T

    # -- helpers

    def _expr(self, node: ast.expr) -> ast.expr:
        return cast(ast.expr, self.visit(node))

    def _stmts(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in body:
            new = self.visit(statement)
            out.extend(new if isinstance(new, list) else [new])
        return out

    def _instrumented(self, name: str, scope: _Scope | None = None) -> bool:
        scope = scope or self._scope
        if name in self._scopes.instrumented and scope.is_global(name):
            return True
        return self._cell_owner(name, scope) is not None

    def _cell_owner(self, name: str, scope: _Scope) -> _Scope | None:
        """The function whose shared local ``name`` used in ``scope`` is, if it is one."""
        owner = scope.owner(name)
        return owner if owner is not None and name in owner.shared else None

    def _access(self, write: bool, name: str, scope: _Scope | None = None) -> ast.Call:
        """The sink call that reports an access to the instrumented ``name``."""
        scope = scope or self._scope
        owner = self._cell_owner(name, scope)
        if owner is not None:
            token = ast.Name(owner.cells(), ast.Load())
            return _sink_call("write_cell" if write else "read_cell", token, ast.Constant(name))
        mangled = ast.Constant(_mangle(self._scope.class_name, name))
        return _sink_call("write_global" if write else "read_global", mangled)

    def _targets(self, target: ast.expr) -> tuple[ast.expr, list[str]]:
        """``target`` rewritten, and the instrumented globals it stores."""
        mark = len(self._stored)
        new = self._expr(target)
        names = self._stored[mark:]
        del self._stored[mark:]
        return new, names

    def _writes(self, names: list[str], at: ast.AST) -> list[ast.stmt]:
        return [cast(ast.stmt, _located(ast.Expr(self._access(True, name)), at)) for name in names]

    def _inside(self, node: ast.AST, walrus_ok: bool, body: list[ast.stmt]) -> list[ast.stmt]:
        outer = self._scope, self._walrus_ok
        self._scope, self._walrus_ok = self._scopes.of[node], walrus_ok
        try:
            return self._stmts(body)
        finally:
            self._scope, self._walrus_ok = outer

    def _temp(self) -> ast.Name:
        binder = self._scope.binder()
        if binder.kind in ("module", "class"):
            self._temp_binders.add(binder)
        return ast.Name(_TEMP, ast.Store())

    def _with_temp_cleared(self, scope: _Scope, body: list[ast.stmt]) -> list[ast.stmt]:
        """``T = None`` first and ``del T`` last in a module or class body that binds T."""
        if scope not in self._temp_binders or not body:
            return body
        start = _body_start(body)
        at = body[min(start, len(body) - 1)]
        first = _located(ast.Assign([ast.Name(_TEMP, ast.Store())], ast.Constant(None)), at)
        last = _located(ast.Delete([ast.Name(_TEMP, ast.Del())]), body[-1])
        return [*body[:start], first, *body[start:], last]

    # -- modules, functions, classes

    def rewrite(self, tree: ast.Module) -> ast.Module:
        tree.body = self._with_temp_cleared(self._scope, self._stmts(tree.body))
        return tree

    def _defaults(self, args: ast.arguments) -> None:
        args.defaults = [self._expr(value) for value in args.defaults]
        args.kw_defaults = [value and self._expr(value) for value in args.kw_defaults]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
        node.decorator_list = [self._expr(value) for value in node.decorator_list]
        self._defaults(node.args)
        node.body = self._inside(node, True, node.body)
        scope = self._scopes.of[node]
        if scope.shared:  # the token its shared cells are reported under
            start = _body_start(node.body)
            at = node.body[min(start, len(node.body) - 1)]
            token = ast.Assign([ast.Name(scope.cells(), ast.Store())], _sink_call("cells"))
            node.body.insert(start, cast(ast.stmt, _located(token, at)))
        return [node, *self._bound_by(node, [node.name])]

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> list[ast.stmt]:
        node.decorator_list = [self._expr(value) for value in node.decorator_list]
        generic = bool(getattr(node, "type_params", None))
        walrus_ok, self._walrus_ok = self._walrus_ok, self._walrus_ok and not generic
        try:  # a generic class's bases are evaluated where ``:=`` is not allowed (3.12+)
            node.bases = [self._expr(value) for value in node.bases]
            node.keywords = [self.visit(keyword) for keyword in node.keywords]
        finally:
            self._walrus_ok = walrus_ok
        body = self._inside(node, True, node.body)
        node.body = self._with_temp_cleared(self._scopes.of[node], body)
        return [node, *self._bound_by(node, [node.name])]

    def visit_Lambda(self, node: ast.Lambda) -> ast.expr:
        self._defaults(node.args)
        outer = self._scope
        self._scope = self._scopes.of[node]  # ``:=`` stays as allowed as around the lambda
        try:
            node.body = self._expr(node.body)
        finally:
            self._scope = outer
        return node

    def _comprehension(self, node: Any, results: Sequence[str]) -> ast.expr:
        generators: list[ast.comprehension] = node.generators
        scope = self._scopes.of[node]
        outer = self._scope, self._walrus_ok
        self._walrus_ok = False  # ``:=`` is not allowed in an ``in`` clause
        generators[0].iter = self._expr(generators[0].iter)
        self._scope = scope
        try:
            for index, generator in enumerate(generators):
                generator.target = self._expr(generator.target)
                generator.iter = self._expr(generator.iter) if index else generator.iter
            self._walrus_ok = outer[1] and scope.binder().kind != "class"
            for generator in generators:
                generator.ifs = [self._expr(condition) for condition in generator.ifs]
            for field in results:
                setattr(node, field, self._expr(getattr(node, field)))
        finally:
            self._scope, self._walrus_ok = outer
        return cast(ast.expr, node)

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> ast.expr:
        return self._comprehension(node, ["elt"])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> ast.expr:
        return self._comprehension(node, ["key", "value"])

    # -- attributes and items

    def visit_Call(self, node: ast.Call) -> ast.expr:
        function = node.func
        if isinstance(function, ast.Attribute):  # o.m(...): o is seen, the lookup of m is not
            function.value = self._expr(function.value)
        else:
            node.func = self._expr(function)
        node.args = [self._expr(arg) for arg in node.args]
        for keyword in node.keywords:
            keyword.value = self._expr(keyword.value)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        node.value = self._expr(node.value)
        if isinstance(node.value, ast.Name) and node.value.id == SINK:
            return node
        function = "read_attr" if isinstance(node.ctx, ast.Load) else "write_attr"
        name = ast.Constant(_mangle(self._scope.class_name, node.attr))
        new = ast.Attribute(_sink_call(function, node.value, name), node.attr, node.ctx)
        return cast(ast.expr, _located(new, node))

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        obj = self._expr(node.value)
        key = self._key(node.slice)
        load = isinstance(node.ctx, ast.Load)
        function = "read_item" if load else "write_item"
        if _is_simple(key):
            new = ast.Subscript(_sink_call(function, obj, key), copy.deepcopy(key), node.ctx)
        elif self._walrus_ok:
            saved = ast.NamedExpr(self._temp(), key)
            new = ast.Subscript(
                _sink_call(function, obj, saved), ast.Name(_TEMP, ast.Load()), node.ctx
            )
        elif load:
            return cast(ast.expr, _located(_read_item_call(obj, key), node))
        else:  # a comprehension's ``for`` target: not reported (see the docstring)
            new = ast.Subscript(obj, key, node.ctx)
        return cast(ast.expr, _located(new, node))

    def _key(self, key: ast.expr) -> ast.expr:
        """The object a subscript passes to ``__getitem__``, as an expression."""
        if isinstance(key, ast.Slice):
            return cast(
                ast.expr, _located(_slice_object(cast(ast.Slice, self.generic_visit(key))), key)
            )
        if isinstance(key, ast.Tuple) and any(isinstance(item, ast.Slice) for item in key.elts):
            key.elts = [self._key(item) for item in key.elts]
            return key
        return self._expr(key)

    # -- globals

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if not self._instrumented(node.id):
            return node
        if not isinstance(node.ctx, ast.Load):
            self._stored.append(node.id)
            return node
        read = self._access(False, node.id)
        return cast(ast.expr, _located(ast.BoolOp(ast.Or(), [read, node]), node))

    def visit_NamedExpr(self, node: ast.NamedExpr) -> ast.expr:
        node.value = self._expr(node.value)
        name = node.target.id
        if not self._instrumented(name, self._scope.binder()):
            return node
        write = self._access(True, name, self._scope.binder())
        pair = ast.Tuple([node, write], ast.Load())
        return cast(ast.expr, _located(ast.Subscript(pair, ast.Constant(0), ast.Load()), node))

    def _bound_by(self, node: ast.stmt, names: list[str]) -> list[ast.stmt]:
        return self._writes([name for name in names if self._instrumented(name)], node)

    # -- statements that store

    def visit_Assign(self, node: ast.Assign) -> list[ast.stmt]:
        node.value = self._expr(node.value)
        stored: list[str] = []
        for index, target in enumerate(node.targets):
            node.targets[index], names = self._targets(target)
            stored += names
        return [node, *self._writes(stored, node)]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> list[ast.stmt]:
        if node.value is None:
            return [node]  # an annotation only: nothing is stored
        node.value = self._expr(node.value)
        node.target, stored = cast(tuple[Any, list[str]], self._targets(node.target))
        return [node, *self._writes(stored, node)]

    def visit_AugAssign(self, node: ast.AugAssign) -> list[ast.stmt]:
        before: list[ast.stmt] = []
        if isinstance(node.target, ast.Name):
            before = self._bound_by(node, [node.target.id])
        else:
            node.target = cast(Any, self._expr(node.target))
        node.value = self._expr(node.value)
        return [*before, node]

    def visit_Delete(self, node: ast.Delete) -> list[ast.stmt]:
        """``del a, b`` is ``del a; del b``: split, so that each global's write
        comes right before its deletion."""
        out: list[ast.stmt] = []
        for target in _flat(node.targets):
            if isinstance(target, ast.Name):
                out += self._bound_by(node, [target.id])
                out.append(_located(ast.Delete([target]), node))
            else:
                out.append(_located(ast.Delete([self._expr(target)]), node))
        return out

    def visit_For(self, node: ast.For | ast.AsyncFor) -> ast.stmt:
        node.iter = self._expr(node.iter)
        node.target, stored = self._targets(node.target)
        node.body = [*self._writes(stored, node), *self._stmts(node.body)]
        node.orelse = self._stmts(node.orelse)
        return node

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> ast.stmt:
        stored: list[str] = []
        for item in node.items:
            item.context_expr = self._expr(item.context_expr)
            if item.optional_vars is not None:
                item.optional_vars, names = self._targets(item.optional_vars)
                stored += names
        node.body = [*self._writes(stored, node), *self._stmts(node.body)]
        return node

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        node.type = node.type and self._expr(node.type)
        bound = self._bound_by(node.body[0], [node.name]) if node.name else []
        node.body = [*bound, *self._stmts(node.body)]
        return node

    def visit_match_case(self, node: ast.match_case) -> ast.match_case:
        node.guard = node.guard and self._expr(node.guard)
        bound = self._bound_by(node.body[0], _captured_names(node.pattern))
        node.body = [*bound, *self._stmts(node.body)]
        return node

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> list[ast.stmt]:
        return [node, *self._bound_by(node, _imported_names(node))]

    visit_ImportFrom = visit_Import

    def visit_TypeAlias(self, node: ast.AST) -> ast.AST:  # 3.12+: evaluated lazily, a type
        return node


def _flat(targets: list[ast.expr]) -> Iterator[ast.expr]:
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            yield from _flat(target.elts)
        else:
            yield target


def rewrite(tree: ast.Module) -> ast.Module:
    """Rewrite ``tree`` (a parsed module, changed in place) by the rules above."""
    tree = _Rewriter(_Scopes(tree)).rewrite(tree)
    return ast.fix_missing_locations(tree)


def compile_source(source: str | bytes, filename: str) -> types.CodeType:
    """The instrumented code of a module's source. Running it needs ``SINK``
    in the module's globals."""
    tree = ast.parse(source, filename)
    return compile(rewrite(tree), filename, "exec", dont_inherit=True)


# ---- the import hook -------------------------------------------------------------------


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


class _Loader(importlib.machinery.SourceFileLoader):
    """The path finder's loader of a user module, made to run it instrumented.
    It neither reads nor writes ``__pycache__``: the cached bytecode is the
    plain module's, and the instrumented code must never be taken for it."""

    def __init__(self, fullname: str, path: str, hook: _Finder) -> None:
        super().__init__(fullname, path)
        self._hook = hook

    def get_code(self, fullname: str) -> types.CodeType:
        source = self.get_source(fullname)
        if source is None:
            raise ImportError(f"no source for {fullname}", name=fullname)
        try:
            return compile_source(source, self.path)
        except RecursionError:  # the rewriter recurses deeper than the compiler does
            message = f"race detector: {self.path} is nested too deeply to instrument; not seen"
            warnings.warn(message, RuntimeWarning, stacklevel=1)
            return compile(source, self.path, "exec", dont_inherit=True)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__[SINK] = self._hook.sink
        super().exec_module(module)


class _Finder:
    """First on ``sys.meta_path``: asks the finders after it, and gives the
    spec of a module to instrument (see ``install``) a ``_Loader``."""

    def __init__(self, sink: Sink, include: Sequence[str], exclude: Sequence[str]) -> None:
        self.sink = sink
        self.include = tuple(include)
        self.exclude = tuple(exclude)

    def chosen(self, fullname: str) -> bool | None:
        """By name: True (included), False (excluded) or None (no rule). The
        longest matching prefix decides; on a tie, exclusion."""
        best: tuple[int, bool] | None = None
        for prefixes, verdict in ((self.include, True), (self.exclude, False)):
            for prefix in prefixes:
                if _matches(fullname, prefix) and (best is None or len(prefix) >= best[0]):
                    best = (len(prefix), verdict)
        return None if best is None else best[1]

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        chosen = self.chosen(fullname)
        if chosen is False:
            return None
        finders = sys.meta_path
        after = finders[finders.index(self) + 1 :] if self in finders else finders
        for finder in after:
            find = getattr(finder, "find_spec", None)
            if find is None:
                return None  # an old-style finder: let the import system ask it
            spec = find(fullname, path, target)
            if spec is not None:
                return self._instrumented(spec)
        return None

    def wanted(self, fullname: str, origin: str) -> bool:
        """Whether the module ``fullname``, from the file ``origin``, is one to
        instrument (see ``install``)."""
        chosen = self.chosen(fullname)
        kind = codekind.kind(origin)
        return (
            chosen is not False
            and kind != codekind.OURS
            and (kind == codekind.USER or bool(chosen))
        )

    def _instrumented(self, spec: importlib.machinery.ModuleSpec) -> importlib.machinery.ModuleSpec:
        if type(spec.loader) is not importlib.machinery.SourceFileLoader or not spec.origin:
            return spec  # no source file, or another tool's loader (pytest's)
        if self.wanted(spec.name, spec.origin):
            spec.loader = _Loader(spec.name, spec.origin, self)
        return spec


_lock = threading.Lock()
_finder: _Finder | None = None


def install(sink: Sink, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
    """Instrument, from now on, every module imported from a source file that
    is user code (neither the standard library, nor site-packages, nor this
    package) or whose name ``include`` names, unless ``exclude`` does.
    Names are prefixes of dotted names (``"a.b"`` names ``a.b`` and
    ``a.b.c``, not ``a.bc``); the longest that matches decides. This package
    is never instrumented. Installing again replaces the settings."""
    global _finder
    with _lock:
        if _finder is None:
            _finder = _Finder(sink, include, exclude)
        else:
            _finder.sink, _finder.include, _finder.exclude = sink, tuple(include), tuple(exclude)
        if _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Stop instrumenting imports (modules already imported stay as they are)."""
    global _finder
    with _lock:
        if _finder is not None and _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
        _finder = None


# ---- modules imported before the detector came on ----------------------------------------


def instrument_loaded(module: types.ModuleType, sink: Sink) -> int:
    """Instrument ``module``, already imported (``__main__`` run as a script, the
    module of the function given to ``run``): its source is rewritten and
    compiled again, and each function reachable from it that comes from its
    source gets the instrumented code of the same ``co_qualname`` and
    ``co_firstlineno``. Reachable: the module's attributes, the ``__dict__``
    of its classes (nested ones too), methods, ``staticmethod``,
    ``classmethod``, ``property``, ``functools.partial``/``cached_property``
    wrappers, and ``__wrapped__`` chains. Puts ``SINK`` into its globals.
    Returns how many functions were switched.

    Not seen: the module's top level and class bodies (they ran already),
    code running now (a frame keeps its code), generators and coroutines
    already created, functions held elsewhere only (in a list, in another
    module's closure), functions whose free variables differ, and, as a
    precaution, functions whose code no longer matches the source (the file
    changed since the import). A module without source is left alone."""
    filename = getattr(module, "__file__", None)
    source = _source_of(module)
    if filename is None or source is None:
        return 0
    try:
        tree = ast.parse(source, filename)
        plain = compile(tree, filename, "exec", dont_inherit=True)
        instrumented = compile(rewrite(tree), filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return 0
    module.__dict__[SINK] = sink
    plain_codes, new_codes = _codes_by_place(plain), _codes_by_place(instrumented)
    switched = 0
    for function in _functions_of(module):
        code = function.__code__
        place = (code.co_qualname, code.co_firstlineno)
        old, new = plain_codes.get(place), new_codes.get(place)
        if code.co_filename != filename or old is None or new is None:
            continue
        if code.co_code == old.co_code and code.co_freevars == new.co_freevars:
            function.__code__ = new
            switched += 1
    return switched


def instrument_imported() -> int:
    """``instrument_loaded`` for each module already imported from a source
    file that ``install``'s rules would instrument if it were imported now,
    and that is not instrumented yet: so that ``run(main, race=True)`` sees
    the code that ``main`` calls in user modules imported before it (with
    what ``instrument_loaded`` cannot see). Call it after ``install``; it
    returns how many modules it instrumented."""
    finder = _finder
    if finder is None:
        return 0
    count = 0
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        origin = getattr(module, "__file__", None)
        if not isinstance(namespace, dict) or SINK in namespace:
            continue
        if isinstance(origin, str) and origin.endswith(".py") and finder.wanted(name, origin):
            instrument_loaded(module, finder.sink)
            count += 1
    return count


def _source_of(module: types.ModuleType) -> str | None:
    try:
        return inspect.getsource(module)
    except (OSError, TypeError):
        return None


def _codes_by_place(code: types.CodeType) -> dict[tuple[str, int], types.CodeType | None]:
    """Every code object in ``code`` by (qualified name, first line); None
    where two share both (two lambdas on a line): they cannot be told apart."""
    found: dict[tuple[str, int], types.CodeType | None] = {}
    pending = [code]
    while pending:
        current = pending.pop()
        place = (current.co_qualname, current.co_firstlineno)
        found[place] = None if place in found else current
        pending += [const for const in current.co_consts if isinstance(const, types.CodeType)]
    return found


def _functions_of(module: types.ModuleType) -> Iterator[types.FunctionType]:
    """The functions reachable from ``module`` (see ``instrument_loaded``)."""
    seen: set[int] = set()
    pending: list[Any] = list(vars(module).values())
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, types.FunctionType):
            yield value
            pending.append(getattr(value, "__wrapped__", None))
        elif isinstance(value, staticmethod | classmethod | types.MethodType):
            pending.append(value.__func__)
        elif isinstance(value, property):
            pending += [value.fget, value.fset, value.fdel]
        elif isinstance(value, functools.partial | functools.cached_property):
            pending.append(value.func)
        elif isinstance(value, type) and value.__module__ == module.__name__:
            pending += list(vars(value).values())
