"""Blocking calls on helper threads: Go's hand-off of a P during a syscall.

``call(fn, args, kwargs)`` runs ``fn`` on a helper thread while the calling
goroutine is parked (wait reason ``blocking call``), so the worker goes on
running other goroutines. The helper makes the goroutine ready with the
outcome; the goroutine re-raises an exception there as its own.

The helpers are a bounded pool of daemon threads, started on demand up to
``max_threads`` (``set_max_threads``) and then kept, idle, for later calls;
calls beyond the bound queue, first-come first-served. Daemon threads, so that
a call that never returns cannot keep the process from exiting (as a Go
program exits with syscalls in flight).

A call counts as "in flight" for the deadlock detector from before it is
queued until after its goroutine has been made ready: the goroutine's wake-up
is queued first, so the detector never sees neither.

``_lock`` guards ``_max_threads``, ``_threads``, ``_idle``, ``_pending`` and
``_in_flight``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from . import hooks
from .g import G
from .sched import Runtime
from .threads import start_runtime_thread

_DEFAULT_MAX_THREADS = 64

_lock = threading.Lock()
_jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_max_threads = _DEFAULT_MAX_THREADS
_threads = 0  # helper threads started
_idle = 0  # helpers waiting for a job
_pending = 0  # jobs queued and not yet taken
# Jobs queued or running -> (the goroutine waiting for it, the function it calls),
# for leak checks (``in_flight``).
_in_flight: dict[Callable[[], None], tuple[G, Callable[..., Any]]] = {}


def set_max_threads(n: int) -> int:
    """Set the bound on helper threads; returns the previous bound. Lowering
    it stops no running helper; it only keeps new ones from starting."""
    global _max_threads
    with _lock:
        previous, _max_threads = _max_threads, n
    return previous


def call(g: G, runtime: Runtime, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """Run ``fn(*args, **kwargs)`` on a helper thread while ``g`` (the caller,
    running on a worker of ``runtime``) is parked; return or raise its outcome."""

    def job() -> None:
        race = hooks.race
        if race is not None:
            race.acquire(job)  # the call happens before fn starts
        try:
            outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except BaseException as exc:  # handed to the goroutine, which re-raises it
            outcome = (False, exc)
        if race is not None:
            race.release(job)
        g.complete(outcome, True)
        runtime.end_blocking_call()

    race = hooks.race
    if race is not None:
        race.release(job)
    runtime.begin_blocking_call()
    _submit(job, g, fn)
    g.park("blocking call")
    if race is not None:
        race.acquire(job)  # fn's return happens before the caller resumes
    (returned, value), g.value = g.value, None
    if returned:
        return value
    raise value


def in_flight() -> list[tuple[G, Callable[..., Any]]]:
    """The blocking calls queued or running now, as (goroutine, function)
    pairs: what a leak check reports as helper threads still busy."""
    with _lock:
        return list(_in_flight.values())


def _submit(job: Callable[[], None], g: G, fn: Callable[..., Any]) -> None:
    global _pending, _threads
    with _lock:
        _pending += 1
        _in_flight[job] = (g, fn)
        start = _pending > _idle and _threads < _max_threads
        if start:
            _threads += 1
    _jobs.put(job)
    if start:
        start_runtime_thread(_helper, "goroutines-blocking")


def _helper() -> None:
    global _idle, _pending
    while True:
        with _lock:
            _idle += 1
        job = _jobs.get()
        with _lock:
            _idle -= 1
            _pending -= 1
        job()
        with _lock:
            del _in_flight[job]
        del job  # drop the call's arguments and outcome before waiting again
