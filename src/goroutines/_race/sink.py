"""The functions that instrumented code calls (``instrument.Sink``), bound to
the name ``__goroutines_race__`` in every instrumented module.

They are ``detector``'s Python functions (the reference: ``_seen`` says what
each does), or the same functions compiled (``_sink.c``) where the extension
was built, unless the environment sets ``GOROUTINES_PURE_PYTHON`` (to a
non-empty value: ``PURE_PYTHON``). ``COMPILED`` says which. Only the per-access functions are
compiled: ``cells`` runs once per call of a function with shared cells.
"""

from __future__ import annotations

import os

from .._runtime import threads
from .._runtime.g import G
from . import detector
from .detector import cells

__all__ = [
    "COMPILED",
    "PURE_PYTHON",
    "cells",
    "read_attr",
    "read_cell",
    "read_global",
    "read_item",
    "write_attr",
    "write_cell",
    "write_global",
    "write_item",
]

PURE_PYTHON = bool(os.environ.get("GOROUTINES_PURE_PYTHON"))

try:
    if PURE_PYTHON:
        raise ImportError("GOROUTINES_PURE_PYTHON is set")
    from . import _sink
except ImportError:
    COMPILED = False
    from .detector import (
        read_attr,
        read_cell,
        read_global,
        read_item,
        write_attr,
        write_cell,
        write_global,
        write_item,
    )
else:
    COMPILED = True
    _sink.bind(vars(detector), threads.tls, G, detector.Actor, detector._Cell)
    from ._sink import (
        read_attr,
        read_cell,
        read_global,
        read_item,
        write_attr,
        write_cell,
        write_global,
        write_item,
    )
