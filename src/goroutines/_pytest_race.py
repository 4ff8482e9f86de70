"""``pytest --goroutines-race``: the race detector over a whole test session.

The goroutines pytest plugin (``_pytest_plugin``) wires this in; here is what
it needs that is about races, not about pytest's test protocol.

The session
    ``begin`` opens the detector's process-wide session (``_race.start``) as
    early as the plugin's options are known, before the initial ``conftest.py``
    files and the test modules are imported, so that the import hook
    instruments them and the package under test (see ``_race.instrument``
    for what is user code and what is never seen). It stays open until
    ``end``, covering every ``run`` (a ``run(main, race=True)`` inside it joins
    it) and the background runtime's goroutines.

Two import hooks, one module
    pytest rewrites the ``assert`` statements of test modules and conftests
    with its own loader; the race instrumentation passes such a module by
    (another tool's loader). So, while the session is open, ``_BothRewrites``
    stands first on ``sys.meta_path``: a module that pytest's hook would load
    and that is user code gets a loader that applies pytest's assertion
    rewrite to the syntax tree first, then the race rewrite, and compiles the
    result once. In that order, pytest's failure messages show the user's
    expressions (not the detector's calls), and the accesses made by an
    assert's expressions are seen; the calls pytest adds (``@pytest_ar``'s
    helpers, the ``@py_assert`` temporaries) are reads of its module's
    functions or locals, never reported. Such a module is not cached as
    bytecode (neither pytest's cache nor Python's hold instrumented code).

Reports
    The detector prints each report to ``log`` (a ``RaceLog``), not to
    stderr: pytest's capture would file it under whichever phase's output it
    fell in, or lose it between tests. ``RaceLog`` keeps what is printed
    while a test is being watched (``watch``/``seen``) for that test, and
    what is printed between tests for the session's summary (``outside``).
"""

from __future__ import annotations

import ast
import importlib.machinery
import io
import sys
import threading
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO, cast

import pytest
from _pytest.assertion.rewrite import AssertionRewritingHook, rewrite_asserts

from . import _race
from ._race import detector, instrument, sink
from ._runtime import codekind


class RaceLog(io.TextIOBase):
    """Where the detector prints its reports (see the module docstring).
    The detector writes under its own lock; ``_lock`` orders the writes with
    ``watch`` and ``seen``, which the test's thread calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._test: list[str] | None = None  # the watched test's reports, or None
        self.outside: list[str] = []  # what was printed while no test was watched

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            (self._test if self._test is not None else self.outside).append(text)
        return len(text)

    def watch(self) -> None:
        """A test starts: keep what is printed from now on for it."""
        with self._lock:
            self._test = []

    def seen(self) -> str:
        """The test ends: what was printed since ``watch`` ("" if nothing)."""
        with self._lock:
            text, self._test = "".join(self._test or ()), None
        return text

    def take_outside(self) -> str:
        """What was printed while no test was watched, since the last call."""
        with self._lock:
            text, self.outside = "".join(self.outside), []
        return text


log = RaceLog()


class DataRaceError(AssertionError):
    """The race detector reported races during a test; the message holds
    the reports."""


def races_seen() -> pytest.ExceptionInfo[DataRaceError] | None:
    """The reports printed since the test's ``log.watch()``, as an error to
    fail it with (None if there were none)."""
    text = log.seen()
    if not text:
        return None
    races = text.count("WARNING: DATA RACE")
    try:
        raise DataRaceError(
            f"{races} data race(s) reported during this test (--goroutines-race)\n{text}"
        ) from None
    except DataRaceError as error:
        return pytest.ExceptionInfo.from_exception(error)


def begin(config: pytest.Config) -> None:
    """Open the session, with both import hooks (see the module docstring)."""
    _race.start(cast(TextIO, log))  # it only writes and flushes
    sys.meta_path.insert(0, _BothRewrites(config))


def end() -> None:
    """Close the session (the last thing the plugin does)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _BothRewrites)]
    _race.stop()


def count() -> int:
    """How many races the session has reported so far."""
    return detector.active.count if detector.active is not None else 0


class _BothRewrites:
    """First on ``sys.meta_path``: a user module that pytest's assertion
    rewriter would load gets ``_Loader`` (see the module docstring)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        hook = next((f for f in sys.meta_path if isinstance(f, AssertionRewritingHook)), None)
        if hook is None:  # --assert=plain: the race hook alone
            return None
        spec = hook.find_spec(fullname, path, target)
        if spec is None or spec.loader is not hook or not spec.origin:
            return None
        if codekind.kind(spec.origin) != codekind.USER:
            return spec  # pytest's alone: an installed plugin, or this package
        spec.loader = _Loader(fullname, spec.origin, self.config, hook)
        return spec


class _Loader(importlib.machinery.SourceFileLoader):
    """Loads a test module or conftest with pytest's assert rewrite, then the
    race rewrite; reads and writes no bytecode cache."""

    def __init__(
        self, fullname: str, path: str, config: pytest.Config, hook: AssertionRewritingHook
    ) -> None:
        super().__init__(fullname, path)
        self._config = config
        self._hook = hook

    def get_code(self, fullname: str) -> types.CodeType:
        source = self.get_data(self.path)
        tree = ast.parse(source, self.path)
        rewrite_asserts(tree, source, self.path, self._config)
        return compile(instrument.rewrite(tree), self.path, "exec", dont_inherit=True)

    def exec_module(self, module: types.ModuleType) -> None:
        names: Any = getattr(self._hook, "_rewritten_names", None)
        if isinstance(names, dict):  # pytest's record of what it rewrote (it warns otherwise)
            names[module.__name__] = Path(self.path)
        module.__dict__[instrument.SINK] = sink
        super().exec_module(module)
