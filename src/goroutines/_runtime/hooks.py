"""Where a tool observes the runtime and its primitives: the race detector.

The race detector (``goroutines._race``) is a tool, as Go's is: the runtime
does not import it. While a race session is open (a run with ``race=True``,
or the pytest plugin's for a whole test session), ``race`` holds
its hooks, and the primitives call them at each event that orders memory in
Go's memory model (``go``, a channel's send, receive and close, a mutex's
lock and unlock, ...). Every call site reads ``hooks.race`` and does nothing
more when it is None, so a run without the detector pays one attribute load
per operation (``bench/race.py`` measures it).

``race_session`` is how ``run`` starts the detector without importing it:
the package registers it when it is imported (``goroutines._race``).

Invariant: ``race`` is set and cleared only by a race session: one of a run,
on the thread that calls ``run``, while no goroutine of that run is running
yet or any more; or the process-wide one (the pytest plugin's), while no run
is active.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

race: Any = None  # the active detector (goroutines._race.detector.Detector) or None
race_session: Callable[[Any, Any], AbstractContextManager[None]] | None = None
