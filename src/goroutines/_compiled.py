"""Which implementation runs: the compiled extensions, or pure Python.

The package has two C extensions, both optional: ``_core`` (a channel's hot
paths, see ``_core.c``) and ``_race._sink`` (the race detector's sinks). Each
has a pure-Python reference in the package, which runs where the extension
was not built (no C compiler at install) or where the environment variable
``GOROUTINES_PURE`` is set to a non-empty value when goroutines is imported.
Both behave alike; the tests run with both. ``goroutines.runtime.compiled``
tells which is in use.
"""

from __future__ import annotations

import os
from types import ModuleType

PURE = bool(os.environ.get("GOROUTINES_PURE"))

core: ModuleType | None = None
if not PURE:
    try:
        from . import _core as core
    except ImportError:  # not built: the pure-Python core runs
        core = None
