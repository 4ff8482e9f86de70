"""Go's ``sync`` package: WaitGroup, Mutex, RWMutex, Once, Cond.

Every type here is built the way ``_chan`` builds a channel, on the runtime's
park/ready and nothing else:

- a ``threading.Lock`` per object (``_lock``) guards all of its fields; it is
  only ever held for a few field updates, never across a park, and no other
  lock is taken while holding it (so there is no lock order to respect);
- a FIFO ``deque`` of waiter records (``current()``: the calling goroutine, or
  the plain thread's parker) holds whoever must block;
- a blocking operation publishes its waiter under ``_lock``, releases
  ``_lock``, then parks. A wake-up that comes between the release and the park
  is not lost: ``park`` returns at once if ``make_ready`` came first (see
  ``_runtime.g.G.park``);
- the party that pops a waiter owns it: it updates the object's state *for*
  the waiter (a mutex is handed over still locked, a reader is counted) before
  releasing ``_lock``, and wakes it with ``complete(None, True)`` after. So a
  woken waiter never has to retry, and a newcomer cannot overtake it.

The happens-before edges each type promises (stated in its docstring) all come
from ``_lock``: the releasing side writes under it, the released side reads
under it or is woken by the party holding it.

Wait reasons in dumps are Go's: ``sync.Mutex.Lock``, ``sync.RWMutex.Lock``,
``sync.RWMutex.RLock``, ``sync.WaitGroup.Wait``, ``sync.Cond.Wait``.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, ParamSpec, Protocol

from ._runtime import current, go, register_thread
from ._runtime.threads import tls

__all__ = ["Locker", "Mutex", "WaitGroup"]

P = ParamSpec("P")


def _register() -> None:
    """``register_thread`` at the cost of one attribute load once the thread is known."""
    try:
        tls.known  # noqa: B018
    except AttributeError:
        register_thread()


class Locker(Protocol):
    """Anything with ``lock()`` and ``unlock()`` (Go's ``sync.Locker``):
    ``Mutex``, ``RWMutex``, ``RWMutex.rlocker()``."""

    def lock(self) -> None: ...

    def unlock(self) -> None: ...


# ---- WaitGroup --------------------------------------------------------------------------


class WaitGroup:
    """Waits for a collection of goroutines to finish (Go's ``sync.WaitGroup``).

    ``add(n)`` before starting the work, ``done()`` when each piece finishes,
    ``wait()`` blocks until the counter is zero. ``go(fn, *args)`` does all
    three for one goroutine. A zero ``WaitGroup`` is ready to use; it may be
    reused once ``wait`` has returned.

    Memory model: a call to ``done`` happens before the return of any ``wait``
    that it unblocks.

    ``_lock`` guards ``_count`` and ``_waiters``; ``_waiters`` is empty
    whenever ``_count`` is zero.
    """

    __slots__ = ("__weakref__", "_count", "_lock", "_waiters")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._waiters: deque[Any] = deque()

    def add(self, delta: int = 1) -> None:
        """Add ``delta`` (may be negative) to the counter. When it reaches zero,
        every goroutine blocked in ``wait`` is released. Raises ``ValueError``
        if the counter would go negative (and leaves it unchanged)."""
        _register()
        with self._lock:
            count = self._count + delta
            if count < 0:
                raise ValueError("sync: negative WaitGroup counter")
            self._count = count
            if count or not self._waiters:
                return
            waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            waiter.complete(None, True)

    def done(self) -> None:
        """Decrement the counter by one."""
        self.add(-1)

    def wait(self) -> None:
        """Block until the counter is zero."""
        _register()
        lock = self._lock
        lock.acquire()
        try:
            if not self._count:
                return
            me = current()
            self._waiters.append(me)
        finally:
            lock.release()
        me.park("sync.WaitGroup.Wait")

    def go(self, fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Run ``fn(*args, **kwargs)`` in a new goroutine counted by this group:
        ``add(1)`` now, ``done()`` when ``fn`` returns or raises (Go 1.25's
        ``WaitGroup.Go``). An exception still escapes the goroutine and ends the run."""
        self.add(1)

        def counted() -> None:
            try:
                fn(*args, **kwargs)
            finally:
                self.add(-1)

        # Notes and dumps name the user's function, not this wrapper.
        functools.update_wrapper(counted, fn, updated=())
        go(counted)

    def __repr__(self) -> str:
        return f"<WaitGroup count={self._count} waiters={len(self._waiters)}>"


# ---- Mutex ------------------------------------------------------------------------------


class Mutex:
    """A mutual exclusion lock (Go's ``sync.Mutex``). Also a context manager.

    Not reentrant and not owned: any goroutine or thread may unlock it, and a
    goroutine that locks it twice blocks forever (the deadlock detector
    reports it, waiting in ``sync.Mutex.Lock``), as in Go.

    Fairness: waiters are served strictly first-come first-served. ``unlock``
    with waiters hands the mutex, still locked, to the longest waiter, so a
    goroutine that unlocks and relocks in a loop cannot starve it (Go's
    starvation mode, always on). An uncontended ``lock`` takes it at once.

    Memory model: for n < m, the n-th call to ``unlock`` happens before the
    m-th call to ``lock`` returns; a successful ``try_lock`` counts as a ``lock``.

    ``_lock`` guards ``_locked`` and ``_waiters``; ``_waiters`` is non-empty
    only while ``_locked`` is True.
    """

    __slots__ = ("__weakref__", "_lock", "_locked", "_waiters")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locked = False
        self._waiters: deque[Any] = deque()

    def lock(self) -> None:
        """Lock; block until the mutex is available."""
        try:
            tls.known  # noqa: B018
        except AttributeError:
            register_thread()
        lock = self._lock
        lock.acquire()
        if not self._locked:
            self._locked = True
            lock.release()
            return
        try:
            me = current()
            self._waiters.append(me)
        finally:
            lock.release()
        me.park("sync.Mutex.Lock")  # ``unlock`` handed the mutex over, still locked

    def try_lock(self) -> bool:
        """Lock if the mutex is free now, without blocking; True if it did."""
        _register()
        with self._lock:
            if self._locked:
                return False
            self._locked = True
            return True

    def unlock(self) -> None:
        """Unlock; raises ``RuntimeError`` if the mutex is not locked."""
        try:
            tls.known  # noqa: B018
        except AttributeError:
            register_thread()
        lock = self._lock
        lock.acquire()
        if self._waiters:
            waiter = self._waiters.popleft()  # the mutex stays locked: it is the waiter's now
            lock.release()
            waiter.complete(None, True)
            return
        locked = self._locked
        self._locked = False
        lock.release()
        if not locked:
            raise RuntimeError("sync: unlock of unlocked mutex")

    def locked(self) -> bool:
        """Whether the mutex is locked now (a snapshot, for tests and asserts)."""
        return self._locked

    def __enter__(self) -> None:
        self.lock()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unlock()

    def __repr__(self) -> str:
        state = "locked" if self._locked else "unlocked"
        return f"<Mutex {state} waiters={len(self._waiters)}>"
