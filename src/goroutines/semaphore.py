"""``goroutines.semaphore``: a weighted semaphore, as ``golang.org/x/sync/semaphore``.

Design
======

A ``Weighted`` semaphore of size ``n`` hands out up to ``n`` units. ``_cur`` is the
number held now; ``_waiters`` is the FIFO queue of blocked ``acquire`` calls, one
``_Waiter`` record each (how many units it wants, and the caller's waiter
record from the runtime: its goroutine, or its plain thread's parker).

Fairness (x/sync's): an ``acquire`` that finds waiters queues behind them even if
units are free, and units freed by ``release`` go to the queue strictly in
order: a request at the head that does not fit blocks every later one, so a
large request is never starved by a stream of small ones. A request larger than
the whole semaphore can never be served: it waits only for its context, without
queueing, so that it blocks no one.

Waiting is park/ready: the blocked caller parks; it is woken exactly once, by
whoever removes its record from the queue under ``_lock``:

- ``release`` (or a departing waiter, below), granting the units:
  ``complete(None, True)``;
- its context, through ``context.after_func``: the function runs in its own
  goroutine once the context is done, removes the record if it is still
  queued and wakes it with ``complete(None, False)``. If the units were granted
  first, it finds nothing to remove and does nothing.

A woken caller stops its ``after_func`` (so that a long-lived context keeps no
record of it). One granted while its context was done gives the units back and
raises, as x/sync does, so that a done context never yields units.

A plain thread's wait can also be interrupted (a signal handler raises in it:
Ctrl-C). Its record is then claimed by the first of the thread (withdrawing)
and a waker (granting or abandoning), as ``_runtime.waiters`` describes: a
waker completes a record only after claiming it. A thread that withdrew takes
its record off the queue (``_leave``); one that was granted units first
releases them, so that they go to the next in line.

Locking: ``_lock`` guards ``_cur`` and ``_waiters``. Under it we may take a
channel's lock (the non-blocking look at ``ctx.done()``) and wake waiters; we
never take a context's lock, and no context code takes ``_lock`` while holding
one (the ``after_func`` function runs in a goroutine of its own).

Memory model: the n-th ``release`` of units happens before the ``acquire`` that
they let return.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import partial

from . import context as _context
from ._chan import RecvChan, nilchan
from ._runtime import G, ThreadWait, claim, current, hooks, register_thread
from ._select import default, select

__all__ = ["Weighted"]


class _Waiter:
    """One blocked ``acquire``: ``units`` wanted by ``parker``."""

    __slots__ = ("parker", "units")

    def __init__(self, units: int, parker: G | ThreadWait) -> None:
        self.units = units
        self.parker = parker


class Weighted:
    """A semaphore of ``n`` units that callers acquire and release in any
    amounts, as Go's ``semaphore.Weighted``. Usable from goroutines on any
    worker and from plain threads."""

    __slots__ = ("_cur", "_lock", "_size", "_waiters")

    def __init__(self, n: int) -> None:
        self._size = _units(n, "semaphore size")
        self._cur = 0
        self._lock = threading.Lock()
        self._waiters: OrderedDict[_Waiter, None] = OrderedDict()

    def acquire(self, ctx: _context.Context, n: int = 1) -> None:
        """Acquire ``n`` units, blocking until they are available or ``ctx`` is done.

        If ``ctx`` is done first, raises ``ctx.err()`` (a ``context.Canceled``
        or ``context.DeadlineExceeded``) and acquires nothing; if it is already
        done, raises at once even when units are free. Callers are served
        first-come first-served."""
        n = _units(n, "acquire")
        register_thread()
        done = ctx.done()
        waiter = None
        with self._lock:
            if _is_closed(done):
                # ctx was done before we acquired: fail, even if units are free.
                raise _error_of(ctx)
            if self._size - self._cur >= n and not self._waiters:
                self._cur += n
                if hooks.race is not None:
                    hooks.race.acquire(self)  # x/sync's semaphore is a mutex's critical section
                return
            if n <= self._size:
                waiter = _Waiter(n, current())
                self._waiters[waiter] = None
        if waiter is None:
            # Can never succeed: wait for ctx without holding up anyone else.
            done.recv()
            raise _error_of(ctx)
        self._wait(ctx, done, waiter)

    def _wait(self, ctx: _context.Context, done: RecvChan[None], waiter: _Waiter) -> None:
        """Park until ``waiter`` is granted its units or ``ctx`` is done."""
        stop = None
        if done is not nilchan:
            stop = _context.after_func(ctx, partial(self._abandon, waiter))
        parker = waiter.parker
        wakers = (self, ctx) if stop is not None else self  # for leak checks
        try:
            parker.park("select", wakers)  # Go's Acquire blocks in a select
        except BaseException:  # a plain thread's wait, interrupted by a signal handler
            if stop is not None:
                stop()
            if parker.withdraw():
                self._leave(waiter)
            elif parker.ok:
                self.release(waiter.units)  # granted meanwhile: to the next in line
            raise
        granted = parker.ok
        if stop is not None:
            stop()
        if not granted:
            raise _error_of(ctx)
        if _is_closed(done):
            # Granted, but ctx was done as well: give the units back (x/sync does).
            self.release(waiter.units)
            raise _error_of(ctx)
        if hooks.race is not None:
            hooks.race.acquire(self)

    def _abandon(self, waiter: _Waiter) -> None:
        """``ctx`` is done: take ``waiter`` off the queue and wake it, unless it
        was granted its units already (or its thread gave up waiting)."""
        if self._leave(waiter, claiming=True):
            waiter.parker.complete(None, False)

    def _leave(self, waiter: _Waiter, *, claiming: bool = False) -> bool:
        """Take ``waiter`` off the queue, if it is still there (and, with
        ``claiming``, if it can be claimed); True if it was."""
        with self._lock:
            if waiter not in self._waiters or (claiming and not claim(waiter.parker)):
                return False
            at_front = next(iter(self._waiters)) is waiter
            del self._waiters[waiter]
            if at_front and self._size > self._cur:
                # The departing head may have held up waiters that now fit.
                self._notify_waiters()
        return True

    def try_acquire(self, n: int = 1) -> bool:
        """Acquire ``n`` units if that is possible now without waiting (and no
        one is waiting already); return whether it did."""
        n = _units(n, "try_acquire")
        with self._lock:
            if self._size - self._cur >= n and not self._waiters:
                self._cur += n
                if hooks.race is not None:
                    hooks.race.acquire(self)
                return True
            return False

    def release(self, n: int = 1) -> None:
        """Release ``n`` units, waking waiters that now fit, in order.

        Releasing more than is held raises ``RuntimeError("semaphore: released
        more than held")`` and changes nothing."""
        n = _units(n, "release")
        register_thread()
        if hooks.race is not None:
            hooks.race.release(self)
        with self._lock:
            if n > self._cur:
                raise RuntimeError("semaphore: released more than held")
            self._cur -= n
            self._notify_waiters()

    def _notify_waiters(self) -> None:
        """Grant units to waiters from the head of the queue while they fit.

        Caller must hold ``_lock``. Stops at the first waiter that does not fit,
        even if a later, smaller one would: otherwise, under load, a large
        request could wait forever."""
        waiters = self._waiters
        while waiters:
            waiter = next(iter(waiters))
            if self._size - self._cur < waiter.units:
                break
            waiters.popitem(last=False)
            if claim(waiter.parker):  # else its thread gave up waiting
                self._cur += waiter.units
                waiter.parker.complete(None, True)

    def __repr__(self) -> str:
        return (
            f"<semaphore.Weighted size={self._size} held={self._cur} waiters={len(self._waiters)}>"
        )


def _units(n: int, what: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{what}: the number of units must be an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError(f"{what}: negative number of units: {n}")
    return n


def _is_closed(done: RecvChan[None]) -> bool:
    """Whether ``done`` is closed now (a non-blocking receive)."""
    return done is not nilchan and select(done.recv, default)[0] == 0


def _error_of(ctx: _context.Context) -> Exception:
    """``ctx.err()``, to raise: the same instance every time, so its traceback
    is reset first (raising it again would otherwise extend the old one and
    keep every earlier raiser's frames alive)."""
    err = ctx.err()
    if err is None:  # a foreign context that closed done() before setting err()
        return _context.Canceled()
    return err.with_traceback(None)
