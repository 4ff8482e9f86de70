"""The race detector: ``run(main, race=True)``, ``goroutines run --race`` and
``pytest --goroutines-race``.

A tool, as Go's is: the runtime does not import it, and observes nothing
until a session starts. ``session`` is registered with the runtime
(``_runtime.hooks.race_session``) when the package is imported; ``run``
enters it around a run with ``race=True``. While it is open:

- ``hooks.race`` is the session's ``detector.Detector``: the primitives
  report their happens-before edges to it;
- user code is instrumented (``instrument``): modules imported from now
  on, and those imported already (``__main__``, the module of ``main``, and
  every other user module: ``instrument.instrument_imported``); their
  attribute, item and global accesses call the ``sink`` functions;
- ``threading.Thread``'s start and join are edges too (``_threads``), as
  ``pthread_create`` and ``pthread_join`` are to ThreadSanitizer.

When it closes, ``Found K data race(s)`` is printed if it reported any, and
``reported()`` counts them (``goroutines.runtime.races()``). Code
instrumented stays so; its calls do nothing once no session is open.

A process-wide session (``start``/``stop``, the pytest plugin's) is the same
but not tied to one run: it covers every run started meanwhile, with or
without ``race=True``, and the goroutines of the background runtime. A
``run(main, race=True)`` inside it only instruments ``main``'s module if the
import hook has not, and leaves the rest, the count and the reports to it.
``stop`` prints nothing: its caller says what was found.

Options, as Go reads ``GORACE``: the environment variable ``GORACE`` holds
space-separated ``name=value`` pairs, read when a session opens.
``include=a,b`` also instruments the modules ``a``, ``b`` and those under
them where they would not be (installed libraries); ``exclude=c`` never
instruments ``c`` or the modules under it (the longest name that matches
decides: ``instrument.install``). An unknown name, or a pair without
``=``, is an error then.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from .._runtime import hooks

if TYPE_CHECKING:
    from .detector import Detector

_reported = 0  # races reported by the sessions that have ended, in this process
_process: Detector | None = None  # the process-wide session's detector, between start and stop


def reported() -> int:
    """How many races have been reported in this process so far."""
    from . import detector

    live = detector.active.count if detector.active is not None else 0
    return _reported + live


@contextlib.contextmanager
def session(runtime: Any, main: Callable[..., Any]) -> Iterator[None]:
    """Detect races while a run is active (see the module docstring)."""
    from . import instrument, sink

    if _process is not None:  # the process-wide session covers this run already
        module = sys.modules.get(getattr(main, "__module__", ""))
        if module is not None and instrument.SINK not in vars(module):
            instrument.instrument_loaded(module, sink)
        yield
        return
    found = _open(None)
    for module in {sys.modules.get("__main__"), sys.modules.get(getattr(main, "__module__", ""))}:
        if module is not None:
            instrument.instrument_loaded(module, sink)
    instrument.instrument_imported()  # the user modules imported before
    try:
        yield
    finally:
        if _close(found):
            print(f"Found {found.count} data race(s)", file=sys.stderr, flush=True)


def start(out: TextIO | None = None) -> None:
    """Open the process-wide session; the detector prints its reports to
    ``out`` (stderr if None). Call it while no run is active and no
    goroutine runs; goroutines already started are covered from then on."""
    global _process
    if _process is not None or hooks.race is not None:
        raise RuntimeError("goroutines: a race detector session is already open")
    _process = _open(out)


def stop() -> int:
    """Close the process-wide session (after the last run, as ``start``);
    return how many races it reported."""
    global _process
    found, _process = _process, None
    return _close(found) if found is not None else 0


def options(gorace: str) -> dict[str, tuple[str, ...]]:
    """The module filters ``GORACE`` sets (see the module docstring)."""
    found: dict[str, tuple[str, ...]] = {"include": (), "exclude": ()}
    for pair in gorace.split():
        name, equals, value = pair.partition("=")
        if not equals or name not in found:
            known = ", ".join(f"{key}=MODULE,..." for key in found)
            raise ValueError(f"GORACE: cannot understand {pair!r} (known: {known})")
        found[name] = tuple(module for module in value.split(",") if module)
    return found


def _open(out: TextIO | None) -> Detector:
    from . import _threads, detector, instrument, sink

    filters = options(os.environ.get("GORACE", ""))
    found = detector.Detector(out)
    detector.activate(found)
    hooks.race = found
    instrument.install(sink, filters["include"], filters["exclude"])
    _threads.watch(found)
    return found


def _close(found: Detector) -> int:
    global _reported
    from . import _threads, detector, instrument

    _threads.unwatch()
    instrument.uninstall()
    hooks.race = None
    detector.activate(None)
    _reported += found.count
    return found.count


hooks.race_session = session
