"""The runtime kernel: goroutines, workers, park/ready, timers, deadlock detection.

Everything above this package (channels, select, sync, time, ...) is built on
the few calls re-exported here and nothing else:

- ``current()``: the waiter record of the caller: the running ``G``, or a
  new ``ThreadWait`` for this wait of a plain thread. Both have
  ``park(reason)``, ``make_ready()``, ``complete(value, ok)``, ``withdraw()``
  and the waiter fields ``value``, ``ok``, ``select_token``, ``select_index``.
  ``claim``, ``pop_live`` and ``is_live`` are how a primitive dequeues a
  record that its owner may have given up (a plain thread's wait interrupted
  by a signal, a select's other cases): see ``waiters``.
- ``register_thread()``: every public operation calls it first, so that plain
  threads using goroutines objects are known to the deadlock detector.
- ``start_timer(seconds, fn, arg)`` / ``stop_timer(timer)``: run ``fn(arg, now)``
  later on a worker's scheduler (never blocking). ``now()``: the clock timers
  go by (a run's fake clock in a bubble, else ``time.monotonic``).
- ``wait_fds(fds, timeout)`` / ``evict_fd(fd)``: park the running goroutine
  until a file descriptor is ready (``netpoll``); wake its waiters before a fd
  is closed. ``running_goroutine()`` tells whether the caller is a goroutine
  (rather than a plain thread or a timer callback).
- ``run``, ``go``, ``blocking``, ``DeadlockError`` and the ``runtime`` module's
  queries (``leaked_goroutines``: see ``leaks``).
- ``run_in_bubble`` / ``wait_in_bubble``: a run with a fake clock and, given a
  seed, seeded scheduling (``bubble``, ``seeded``), for
  ``goroutines.testing.synctest``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from . import handoff as _handoff
from . import netpoll as _netpoll
from .g import RUNNABLE, G
from .netpoll import CLOSED, READ, READY, TIMED_OUT, WRITE
from .sched import (
    DeadlockError,
    background_runtime,
    current_runtime,
    evict_fd,
    get_procs,
    go,
    leaked_goroutines,
    run,
    run_in_bubble,
    run_program,
    set_procs,
)
from .threads import register_thread, thread_parker, tls
from .timers import Timer
from .waiters import ThreadWait, claim, is_live, pop_live

R = TypeVar("R")

__all__ = [
    "CLOSED",
    "READ",
    "READY",
    "TIMED_OUT",
    "WRITE",
    "DeadlockError",
    "G",
    "ThreadWait",
    "Timer",
    "blocking",
    "claim",
    "current",
    "current_runtime",
    "evict_fd",
    "get_procs",
    "go",
    "gosched",
    "in_goroutine",
    "is_live",
    "leaked_goroutines",
    "now",
    "pop_live",
    "register_thread",
    "run",
    "run_in_bubble",
    "run_program",
    "running_goroutine",
    "set_procs",
    "start_timer",
    "stop_timer",
    "wait_fds",
    "wait_in_bubble",
]


def current() -> G | ThreadWait:
    """The caller's waiter record for the wait it is about to make: its
    goroutine, or on a plain thread a new ``ThreadWait``.

    Must not be called from a timer callback (the scheduler greenlet)."""
    worker = getattr(tls, "worker", None)
    if worker is not None:
        g = worker.current
        assert g is not None, "blocking operation called from a timer callback"
        return g  # type: ignore[no-any-return]
    return ThreadWait(thread_parker())


def in_goroutine() -> bool:
    return getattr(tls, "worker", None) is not None


def running_goroutine() -> G | None:
    """The goroutine calling, or None on a plain thread or in a timer callback
    (a worker's scheduler, which must never park)."""
    worker = getattr(tls, "worker", None)
    return None if worker is None else worker.current


def gosched() -> None:
    """Yield: let the other runnable goroutines of this worker go first; the
    caller runs again after them. From a plain thread (or a timer callback)
    the OS thread yields."""
    worker = getattr(tls, "worker", None)
    if worker is None or worker.current is None:
        os.sched_yield()
        return
    g = worker.current
    g.state = RUNNABLE
    worker.yield_now(g)


def wait_fds(fds: Sequence[tuple[int, int]], timeout: float | None) -> int:
    """Park the calling goroutine until one of ``fds`` (``(fd, READ|WRITE)``
    pairs) is ready, ``timeout`` passes (None: no limit) or one is closed by
    ``evict_fd``; returns READY, TIMED_OUT or CLOSED. Only for goroutines
    (see ``running_goroutine``). Raises ``OSError``/``ValueError`` for a fd
    that cannot be polled."""
    g = running_goroutine()
    assert g is not None, "wait_fds called outside a goroutine"
    return _netpoll.wait(g, fds, timeout)


def now() -> float:
    """The current time in seconds on a monotonic clock: ``time.monotonic()``,
    or in a ``goroutines.testing.synctest`` run that run's fake clock (see
    ``bubble``). This is ``goroutines.time.now``."""
    worker = getattr(tls, "worker", None)
    return worker.now() if worker is not None else time.monotonic()


def wait_in_bubble() -> None:
    """Go's ``synctest.Wait``: park the calling goroutine until every other
    goroutine of its run is durably blocked (see ``bubble``)."""
    g = running_goroutine()
    runtime = g.worker.runtime if g is not None else None
    if g is None or runtime is None or runtime.bubble is None:
        raise RuntimeError("synctest.wait: call it from a goroutine of synctest.run")
    runtime.bubble.wait(g, runtime.lock)


def start_timer(seconds: float, fn: Any, arg: Any) -> Timer:
    """Call ``fn(arg, now)`` in ``seconds`` on this worker (or, from a plain
    thread, on the background runtime). ``fn`` must not block. An exception
    it raises ends the run, with a note naming ``fn`` (on the background
    runtime it is printed to stderr): see ``Runtime.failed``."""
    worker = getattr(tls, "worker", None)
    if worker is None:
        worker = background_runtime().workers[0]
    timer = Timer(worker.now() + seconds, fn, arg)
    worker.add_timer(timer)
    return timer


def stop_timer(timer: Timer) -> bool:
    """Cancel ``timer``; True if it had not fired yet."""
    worker = timer.worker
    return worker is not None and worker.cancel_timer(timer)


def blocking(fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """Run a blocking call (a C library, a file read) on a helper thread while
    the calling goroutine is parked, so no other goroutine waits on it; return
    its result or raise its exception. From a plain thread, just calls ``fn``.

    The helpers are a pool of up to 64 daemon threads, started as needed
    (``goroutines.runtime.set_blocking_threads`` changes the bound); calls
    beyond it wait their turn. A goroutine abandoned while its call runs
    (its run ended) is never resumed; the call finishes on its helper (also
    when an interrupted run unwinds the goroutine: see ``unwind``).
    """
    if not callable(fn):
        raise TypeError(f"blocking: fn must be callable, not {type(fn).__name__}")
    worker = getattr(tls, "worker", None)
    if worker is None or worker.current is None:
        return fn(*args, **kwargs)
    return _handoff.call(worker.current, worker.runtime, fn, args, kwargs)  # type: ignore[no-any-return]
