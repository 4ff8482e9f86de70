"""``goroutines.runtime``: processors, goroutine counts, yielding, dumps.

Inside ``run`` these describe that run; called from a plain thread outside any
run, they describe the background runtime (see ``goroutines.go``).
"""

from __future__ import annotations

import os
import sys

from . import _compiled, _race
from ._runtime import current_runtime, get_procs, gosched, leaked_goroutines, set_procs
from ._runtime import handoff as _handoff
from ._runtime.dump import format_goroutines

__all__ = [
    "compiled",
    "gomaxprocs",
    "gosched",
    "leaks",
    "num_cpu",
    "num_goroutine",
    "races",
    "set_blocking_threads",
    "stack",
]


compiled: bool = _compiled.core is not None
"""Whether the compiled core runs (channels' hot paths in C, ``_core.c``):
False where it was not built (no C compiler at install) or where
``GOROUTINES_PURE`` was set when goroutines was imported; the pure-Python
code, its reference, runs then, and behaves the same."""


def gomaxprocs(n: int = 0) -> int:
    """Set the number of processors when ``n >= 1``; return the previous value.

    Inside a run this changes that run's workers at once (surplus workers
    finish the goroutines already started on them, then exit); outside, it
    sets the value that later runs and the background runtime start with.
    """
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"gomaxprocs: n must be an int, not {type(n).__name__}")
    if n < 1:
        return get_procs()
    return set_procs(n)


def num_cpu() -> int:
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def num_goroutine() -> int:
    """The number of goroutines that exist now (started or not, not finished)."""
    runtime = current_runtime()
    return len(runtime.allg) if runtime is not None else 0


def stack() -> str:
    """A dump of every goroutine, in Go's format (see the README)."""
    runtime = current_runtime()
    return format_goroutines(list(runtime.allg.values())) if runtime is not None else ""


def leaks() -> str:
    """A dump of the goroutines blocked forever: parked on a channel, a select
    or a ``sync`` type that no running goroutine, plain thread or module can
    reach any more (Go 1.27's goroutine leak profile). Empty when there are
    none. Each header says ``(leaked)``: ``goroutine 7 [chan send (leaked)]:``.

    As Go does, it stops the world for the scan: the other workers wait in
    their schedulers (a goroutine that computes is preempted for it). Plain
    threads keep running, so a goroutine whose only reference a thread is
    moving meanwhile can be reported. Without the GIL, raises
    ``RuntimeError`` if a worker cannot be stopped within 0.25 s (its
    goroutine cannot be preempted: see ``goroutines._runtime.preempt``).
    """
    runtime = current_runtime()
    if runtime is None:
        return ""
    leaked = leaked_goroutines(runtime, sys._getframe(1))
    return format_goroutines(list(leaked), leaked)


def set_blocking_threads(n: int) -> int:
    """Set how many helper threads ``goroutines.blocking`` may use at once
    (default 64); returns the previous bound. Calls beyond it wait their turn."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_blocking_threads: n must be an int, not {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_blocking_threads: n must be >= 1, got {n}")
    return _handoff.set_max_threads(n)


def races() -> int:
    """How many data races the race detector has reported in this process so
    far (``run(main, race=True)``, ``goroutines run --race``): a test or a
    program can read it, since a run that found races still returns normally,
    as a Go program built with ``-race`` runs on (``halt_on_error=0``)."""
    return _race.reported()
