"""Leak checks for tests (Go's ``goleak``): ``verify_none``, ``ignore_current``.

A test leaks when, once it is over, it leaves behind:

- goroutines of the background runtime (started by ``go`` outside a run) that
  are still running, runnable or blocked;
- goroutines abandoned by a ``run`` that returned: ``run`` keeps them, never
  to be scheduled again, as Go abandons goroutines at exit;
- timers pending on the background runtime: a ``goroutines.time`` ``Timer``,
  ``Ticker``, ``after`` or ``after_func`` (or a context's deadline) started
  from a plain thread that has neither fired nor been stopped;
- file descriptors still registered with a background worker's poller;
- ``goroutines.blocking`` calls still queued or running on helper threads.

``verify_none()`` looks for all of these and raises ``LeakError`` with a
goroutine dump of what it found. Something found may be about to go away (a
goroutine returning, a helper finishing its call), so it looks again, backing
off from 1 ms to 100 ms between looks, for up to ``timeout`` seconds (as
goleak retries) before it raises. It does not wait for abandoned goroutines
that are not running: nothing can ever change them.

Each leak is reported once. After raising, ``verify_none`` forgets what it
reported: it drops the abandoned goroutines, and later checks ignore the
goroutines, timers and calls it found that are still there, so the next test
starts clean. ``ignore_current()`` forgets in the same way without checking:
for a test that leaks on purpose (the pytest plugin calls it after a test
marked ``allow_goroutine_leaks``) or for a long-lived fixture whose goroutines
outlive the test that started them.

Inside a run (called from one of its goroutines), ``verify_none`` checks
that run only, like goleak at the end of a Go test: every goroutine of the
run other than the caller and main must have finished; the caller sleeps
between looks, so that the others can run and finish. Its timers and poller
are not checked (they end with the run), nor is anything outside the run (the
background runtime, goroutines that earlier runs abandoned, helper threads):
that is for the check after the run, which the pytest plugin makes. Calling
it at the end of main is how a test waits for the goroutines that are still
finishing, which ``run`` would otherwise abandon as soon as main returns.
From a plain thread (or a goroutine of the background runtime) it checks
everything above except a run active on another thread.

Forgetting abandoned goroutines runs none of their code, as Go's exit
semantics demand. Their greenlets never die by being dropped: a greenlet
whose thread still runs (``run``'s calling thread) is kept alive by its own
suspended frames, which hold its goroutine; one whose worker thread has ended
was already made dead by greenlet, with no exception thrown into it, and is
merely freed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import time as _gtime
from .._runtime import current_runtime, handoff, running_goroutine, sched
from .._runtime.dump import describe, format_goroutines
from .._runtime.g import DEAD, RUNNING, WAITING, G

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .._runtime.sched import Runtime
    from .._runtime.timers import Timer
    from .._runtime.worker import Worker

__all__ = ["LeakError", "ignore_current", "verify_none"]

# How long verify_none looks again by default (goleak retries for about as long).
_TIMEOUT = 1.0
_FIRST_DELAY = 0.001
_MAX_DELAY = 0.1
_IO_WAIT = "IO wait"  # the wait reason of a goroutine parked on a fd (netpoll)


class LeakError(AssertionError):
    """Goroutines (or timers, fd waits, blocking calls) left behind by a test;
    the message lists them, goroutines as a ``runtime.stack()`` dump."""


# Goroutines, timer owners and callers of blocking calls already reported or
# ignored (see ``ignore_current``): later checks skip them. Each key is kept
# while it is still found, so the set stays small. ``_lock`` guards it.
_lock = threading.Lock()
_ignored: set[object] = set()


@dataclass
class _Found:
    """What one look found: everything still there, ignored or not."""

    goroutines: list[G] = field(default_factory=list)  # of the background runtime
    run_goroutines: list[G] = field(default_factory=list)  # of the caller's run
    abandoned: list[G] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)  # of the background runtime
    fd_workers: list[tuple[Worker, list[G]]] = field(default_factory=list)  # with their IO waits
    calls: list[tuple[G, Callable[..., Any]]] = field(default_factory=list)

    def keys(self) -> set[object]:
        """Everything that ``_ignored`` may name."""
        keys: set[object] = {*self.goroutines, *self.run_goroutines, *self.abandoned}
        keys.update(_timer_owner(timer) for timer in self.timers)
        keys.update(g for g, _ in self.calls)
        return keys

    def leaks(self, ignored: set[object]) -> _Found:
        """The part of this look that is not ignored."""
        return _Found(
            goroutines=[g for g in self.goroutines if g not in ignored],
            run_goroutines=[g for g in self.run_goroutines if g not in ignored],
            abandoned=[g for g in self.abandoned if g not in ignored],
            timers=[t for t in self.timers if _timer_owner(t) not in ignored],
            fd_workers=[
                (worker, waiting)
                for worker, waiting in self.fd_workers
                if not waiting or any(g not in ignored for g in waiting)
            ],
            calls=[(g, fn) for g, fn in self.calls if g not in ignored],
        )

    def __bool__(self) -> bool:
        return bool(self.abandoned) or self._more_than_abandoned()

    def settled(self) -> bool:
        """Whether looking again cannot change this (leaks only): nothing is
        left but abandoned goroutines that no thread runs any more."""
        return not self._more_than_abandoned() and all(g.state != RUNNING for g in self.abandoned)

    def _more_than_abandoned(self) -> bool:
        """Whether anything but abandoned goroutines was found."""
        return bool(
            self.goroutines or self.run_goroutines or self.timers or self.fd_workers or self.calls
        )


def verify_none(*, timeout: float = _TIMEOUT) -> None:
    """Raise ``LeakError`` if goroutines, timers, fd waits or blocking calls
    are left behind (see the module docstring), once they have had up to
    ``timeout`` seconds to go away. What it reports is forgotten: a later
    check does not report it again."""
    __tracebackhide__ = True  # pytest shows the report, not this function
    caller = running_goroutine()
    run = _run_of(caller)
    deadline = time.monotonic() + timeout
    delay = _FIRST_DELAY
    abandoned: list[G] = []  # taken from sched.abandoned; dropped when this returns
    while True:
        if run is None:
            abandoned += sched.take_abandoned()
        found = _look(caller, abandoned) if run is None else _look_in_run(run, caller)
        with _lock:
            if run is None:  # a look in a run sees only part of what is ignored
                _ignored.intersection_update(found.keys())
            leaks = found.leaks(_ignored)
        if not leaks:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0 or leaks.settled():
            break
        _gtime.sleep(min(delay, remaining))  # parks the caller if it is a goroutine
        delay = min(delay * 2, _MAX_DELAY)
    with _lock:
        _ignored.update(leaks.keys())
    raise LeakError(_describe(leaks))


def ignore_current() -> None:
    """Forget what is left behind now, without reporting it: drop the
    abandoned goroutines, and make later checks ignore the goroutines,
    timers and blocking calls alive now (while they last). Inside a run, it
    ignores the run's goroutines alive now."""
    caller = running_goroutine()
    run = _run_of(caller)
    found = _look(caller, sched.take_abandoned()) if run is None else _look_in_run(run, caller)
    with _lock:
        if run is None:
            _ignored.clear()  # what is no longer there needs no ignoring
        _ignored.update(found.keys())
    # abandoned is dropped here; see the module docstring for why that is safe


# ---- looking ------------------------------------------------------------------


def _run_of(caller: G | None) -> Runtime | None:
    """The run whose goroutine ``caller`` is (None on a plain thread or in
    the background runtime)."""
    runtime = current_runtime() if caller is not None else None
    return runtime if runtime is not None and not runtime.background else None


def _look_in_run(run: Runtime, caller: G | None) -> _Found:
    """The goroutines of ``run`` still alive, other than the caller and main."""
    return _Found(run_goroutines=_goroutines(run, exclude=(caller, run.main)))


def _look(caller: G | None, abandoned: list[G]) -> _Found:
    """Everything left behind now outside runs, ignored or not."""
    found = _Found(abandoned=[g for g in abandoned if g.state != DEAD])
    background = sched._background
    if background is not None:
        found.goroutines += _goroutines(background, exclude=(caller,))
        workers = list(background.workers)
        found.timers = [timer for worker in workers for timer in _pending_timers(worker)]
        io_waits = [g for g in found.goroutines if g.state == WAITING and g.wait_reason == _IO_WAIT]
        for worker in workers:
            with worker.lock:
                registered = worker.poller.waiting()
            if registered:
                waiting = [g for g in io_waits if getattr(g, "worker", None) is worker]
                found.fd_workers.append((worker, waiting))
    found.calls = handoff.in_flight()
    return found


def _goroutines(runtime: Runtime, exclude: Iterable[G | None]) -> list[G]:
    excluded = {g for g in exclude if g is not None}
    alive = list(runtime.allg.values())  # one atomic copy, as runtime.stack() takes
    return [g for g in alive if g.state != DEAD and g not in excluded]


def _pending_timers(worker: Worker) -> list[Timer]:
    """``worker``'s pending timers, except those of goroutines' own waits (a
    ``sleep``, an fd wait's timeout): the goroutine is what is reported."""
    with worker.lock:
        timers = worker.timers.pending()
    return [timer for timer in timers if not _waits_for_goroutine(timer)]


def _waits_for_goroutine(timer: Timer) -> bool:
    arg = timer.arg
    return isinstance(arg, G) or isinstance(getattr(arg, "g", None), G)


def _timer_owner(timer: Timer) -> object:
    """What a pending timer is ignored by: the ``goroutines.time`` Timer or
    Ticker whose method it calls (the same across a Ticker's periods), else
    the runtime timer itself."""
    return getattr(timer.fn, "__self__", timer)


# ---- the report -----------------------------------------------------------------


def _describe(leaks: _Found) -> str:
    sections = [_summary(leaks)]
    if leaks.run_goroutines:
        sections.append(
            "goroutines still alive in this run (other than the caller and main):\n"
            + format_goroutines(leaks.run_goroutines)
        )
    if leaks.goroutines:
        sections.append(
            "goroutines still alive on the background runtime (started by go outside a run):\n"
            + format_goroutines(leaks.goroutines)
        )
    if leaks.abandoned:
        sections.append(
            "goroutines abandoned by a run that returned (never scheduled again):\n"
            + format_goroutines(leaks.abandoned)
        )
    if leaks.timers:
        now = time.monotonic()
        lines = [
            f"  due in {max(0.0, timer.when - now):.3f}s: {describe(timer.fn)}"
            for timer in sorted(leaks.timers)
        ]
        sections.append("timers pending on the background runtime:\n" + "\n".join(lines))
    if leaks.fd_workers:
        lines = [
            f"  background worker {worker.index}"
            + (f" (for goroutine {', '.join(str(g.id) for g in waiting)})" if waiting else "")
            for worker, waiting in leaks.fd_workers
        ]
        sections.append("file descriptors still registered with a poller:\n" + "\n".join(lines))
    if leaks.calls:
        lines = [f"  {describe(fn)} for goroutine {g.id}" for g, fn in leaks.calls]
        sections.append(
            "goroutines.blocking calls still queued or running on helper threads:\n"
            + "\n".join(lines)
        )
    return "\n\n".join(section.rstrip("\n") for section in sections)


def _summary(leaks: _Found) -> str:
    counts = [
        (
            len(leaks.goroutines) + len(leaks.run_goroutines) + len(leaks.abandoned),
            "goroutine",
            "goroutines",
        ),
        (len(leaks.timers), "pending timer", "pending timers"),
        (len(leaks.fd_workers), "poller with file descriptors", "pollers with file descriptors"),
        (len(leaks.calls), "blocking call", "blocking calls"),
    ]
    return "leaked: " + ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts if n)
