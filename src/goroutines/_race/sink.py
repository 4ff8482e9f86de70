"""The functions that instrumented code calls (``instrument.Sink``), bound to
the name ``__goroutines_race__`` in every instrumented module.

They are ``detector``'s Python functions (the reference: ``_seen`` says what
each does), or the same functions compiled (``_sink.c``) where
``detector.COMPILED`` (the extension was built, and the environment does not
set ``GOROUTINES_PURE``). Only the per-access functions are
compiled: ``cells`` runs once per call of a function with shared cells.
"""

from __future__ import annotations

from .._runtime import threads
from .._runtime.g import G
from . import detector
from .detector import cells

__all__ = [
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

if not detector.COMPILED:
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
    from . import _sink

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
