"""The race detector: ``run(main, race=True)`` and ``goroutines run --race``.

A tool, as Go's is: the runtime does not import it, and observes nothing
until a session starts. ``session`` is registered with the runtime
(``_runtime.hooks.race_session``) when the package is imported; ``run``
enters it around a run with ``race=True``. While it is open:

- ``hooks.race`` is the session's ``detector.Detector``: the primitives
  report their happens-before edges to it;
- user code is instrumented (``instrument``): modules imported from now
  on, and the module of ``main`` and ``__main__``, already imported; their
  attribute, item and global accesses call ``detector``'s access functions;
- ``threading.Thread``'s start and join are edges too (``_threads``), as
  ``pthread_create`` and ``pthread_join`` are to ThreadSanitizer.

When it closes, ``Found K data race(s)`` is printed if it reported any, and
``reported()`` counts them (``goroutines.runtime.races()``). Code
instrumented stays so; its calls do nothing once no session is open.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from .._runtime import hooks

_reported = 0  # races reported by the sessions that have ended, in this process


def reported() -> int:
    """How many races have been reported in this process so far."""
    from . import detector

    live = detector.active.count if detector.active is not None else 0
    return _reported + live


@contextlib.contextmanager
def session(runtime: Any, main: Callable[..., Any]) -> Iterator[None]:
    """Detect races while a run is active (see the module docstring)."""
    global _reported
    from . import _threads, detector, instrument

    found = detector.Detector()
    detector.active = found
    hooks.race = found
    instrument.install(detector)
    for module in {sys.modules.get("__main__"), sys.modules.get(getattr(main, "__module__", ""))}:
        if module is not None:
            instrument.instrument_loaded(module, detector)
    _threads.watch(found)
    try:
        yield
    finally:
        _threads.unwatch()
        instrument.uninstall()
        hooks.race = None
        detector.active = None
        _reported += found.count
        if found.count:
            print(f"Found {found.count} data race(s)", file=sys.stderr, flush=True)


hooks.race_session = session
