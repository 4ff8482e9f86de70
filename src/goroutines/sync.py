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
  woken waiter never has to retry, and a newcomer cannot overtake it;
- a plain thread's wait can be given up: a signal handler (Ctrl-C) raises in
  it. So whoever pops a waiter first claims it (``claim``, ``pop_live``: see
  ``_runtime.waiters``) and skips one whose thread gave up; the thread, if a
  waker claimed it first, passes on what it was handed (a mutex, a read or
  write lock, a ``Cond`` signal goes to the next waiter) and then raises.

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
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, ParamSpec, Protocol, TypeVar

from ._runtime import G, ThreadWait, claim, current, go, hooks, is_live, pop_live, register_thread
from ._runtime.threads import tls

__all__ = [
    "Cond",
    "Locker",
    "Mutex",
    "Once",
    "RWMutex",
    "WaitGroup",
    "once_func",
    "once_value",
]

T = TypeVar("T")

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


class _LockerContext:
    """``with locker:`` locks it and unlocks it on the way out, whatever happens."""

    __slots__ = ()

    def __enter__(self: Locker) -> None:
        self.lock()

    def __exit__(
        self: Locker,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unlock()


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
        try:
            tls.known  # noqa: B018
        except AttributeError:
            register_thread()
        if delta < 0 and hooks.race is not None:
            hooks.race.release(self)  # done happens before the wait it releases
        lock = self._lock
        lock.acquire()
        try:
            count = self._count + delta
            if count < 0:
                raise ValueError("sync: negative WaitGroup counter")
            self._count = count
            if count or not self._waiters:
                return
            waiters, self._waiters = self._waiters, deque()
        finally:
            lock.release()
        for waiter in waiters:
            if claim(waiter):
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
                if hooks.race is not None:
                    hooks.race.acquire(self)
                return
            me = current()
            self._waiters.append(me)
        finally:
            lock.release()
        try:
            me.park("sync.WaitGroup.Wait", self)
        except BaseException:  # a plain thread's wait, interrupted by a signal handler
            me.withdraw()  # a wake-up that came meanwhile concerns nobody else
            raise
        if hooks.race is not None:
            hooks.race.acquire(self)

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


class Mutex(_LockerContext):
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

    State: ``_held`` (a ``threading.Lock``) is acquired exactly while the
    mutex is locked, so an uncontended ``lock`` is one non-blocking acquire of
    it. ``_lock`` guards ``_waiters``. Invariant: ``_waiters`` holds live
    waiters only while ``_held`` is acquired. It holds because a waiter queues
    itself, under ``_lock``, only after failing to acquire ``_held``, and
    ``_held`` is released only under ``_lock`` with no live waiter left;
    otherwise ``unlock`` hands it over without releasing it. So nobody can
    overtake a waiter. A plain thread that gives up its wait (interrupted)
    stays queued, stale, and ``unlock`` skips it; if ``unlock`` had handed it
    the mutex already, the thread unlocks it, handing it to the next waiter.
    """

    __slots__ = ("__weakref__", "_held", "_lock", "_waiters")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = threading.Lock()
        self._waiters: deque[Any] = deque()

    def lock(self) -> None:
        """Lock; block until the mutex is available."""
        try:
            tls.known  # noqa: B018
        except AttributeError:
            register_thread()
        if not self._held.acquire(False):
            self._lock_slow()
        if hooks.race is not None:
            hooks.race.acquire(self)  # the last unlock happens before this lock

    def _lock_slow(self) -> None:
        lock = self._lock
        lock.acquire()
        try:
            if self._held.acquire(False):
                return
            me = current()
            self._waiters.append(me)
        finally:
            lock.release()
        try:
            me.park("sync.Mutex.Lock", self)  # ``unlock`` hands the mutex over, still locked
        except BaseException:  # a plain thread's wait, interrupted by a signal handler
            if not me.withdraw():
                self.unlock()  # it was handed over to us: on to the next waiter
            raise

    def try_lock(self) -> bool:
        """Lock if the mutex is free now, without blocking; True if it did."""
        _register()
        if not self._held.acquire(False):
            return False
        if hooks.race is not None:
            hooks.race.acquire(self)
        return True

    def unlock(self) -> None:
        """Unlock; raises ``RuntimeError`` if the mutex is not locked."""
        # No register_thread here: unlocking never blocks, and a thread that
        # locked the mutex was registered by ``lock``.
        if hooks.race is not None:
            hooks.race.release(self)
        lock = self._lock
        lock.acquire()
        waiter = pop_live(self._waiters) if self._waiters else None
        if waiter is not None:  # ``_held`` stays acquired: it is the waiter's now
            lock.release()
            waiter.complete(None, True)
            return
        try:
            self._held.release()
        except RuntimeError:
            raise RuntimeError("sync: unlock of unlocked mutex") from None
        finally:
            lock.release()

    def locked(self) -> bool:
        """Whether the mutex is locked now (a snapshot, for tests and asserts)."""
        return self._held.locked()

    __enter__ = lock  # one call less than _LockerContext's, which calls ``lock``

    def __repr__(self) -> str:
        state = "locked" if self._held.locked() else "unlocked"
        return f"<Mutex {state} waiters={len(self._waiters)}>"


# ---- RWMutex ----------------------------------------------------------------------------


class RWMutex(_LockerContext):
    """A reader/writer mutual exclusion lock (Go's ``sync.RWMutex``).

    Any number of readers (``rlock``/``runlock``) or one writer
    (``lock``/``unlock``) hold it at a time. As a context manager it takes the
    write lock; ``rlocker()`` gives the read side as a ``Locker``.

    Fairness, as Go: once a writer is waiting, new readers wait too, so a
    stream of readers cannot starve it; when a writer unlocks, every reader that
    queued behind it is admitted together before the next writer, so writers
    cannot starve readers either. Writers are served FIFO. A goroutine that
    holds a read lock must not rlock again while a writer may be waiting: that
    deadlocks, as in Go.

    Memory model: for n < m, the n-th ``unlock`` happens before the m-th
    ``lock`` returns; for any ``rlock`` there is an n such that the n-th
    ``unlock`` happens before that ``rlock`` returns, and the matching
    ``runlock`` happens before the (n+1)-th ``lock`` returns.

    ``_lock`` guards every field: ``_readers`` (read locks held now),
    ``_writer`` (a writer holds it), ``_writers`` (writers waiting, FIFO),
    ``_readers_waiting`` (readers waiting for the writers ahead of them).
    Invariants: not both ``_writer`` and ``_readers``; ``_writers`` holds live
    waiters only while held; ``_readers_waiting`` holds live waiters only while
    a writer holds it or waits. A plain thread that gives up its wait
    (interrupted) takes its record out of the queue at once (``_leave``), since
    a queued writer keeps readers out; if it had been handed the lock already,
    it unlocks it, to the next in line.
    """

    __slots__ = ("__weakref__", "_lock", "_readers", "_readers_waiting", "_writer", "_writers")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers = 0
        self._writer = False
        self._writers: deque[Any] = deque()
        self._readers_waiting: deque[Any] = deque()

    def lock(self) -> None:
        """Lock for writing; block until no reader or writer holds it."""
        _register()
        lock = self._lock
        lock.acquire()
        try:
            if not self._writer and not self._readers and not self._writers:
                self._writer = True
                me = None
            else:
                me = current()
                self._writers.append(me)
        finally:
            lock.release()
        if me is not None:
            try:
                me.park("sync.RWMutex.Lock", self)  # handed over with ``_writer`` set for us
            except BaseException:  # a plain thread's wait, interrupted by a signal handler
                self._leave(me, self._writers, self.unlock)
                raise
        if hooks.race is not None:
            self._race_locked(writing=True)

    def try_lock(self) -> bool:
        """Lock for writing if nobody holds or waits for it now; True if it did."""
        _register()
        with self._lock:
            if self._writer or self._readers or self._writers:
                return False
            self._writer = True
        if hooks.race is not None:
            self._race_locked(writing=True)
        return True

    def unlock(self) -> None:
        """Unlock for writing: admit every waiting reader, else the next writer.
        Raises ``RuntimeError`` if not locked for writing."""
        _register()
        if hooks.race is not None:
            hooks.race.release((self, "r"))
        woken: Iterable[Any]
        with self._lock:
            if not self._writer:
                raise RuntimeError("sync: Unlock of unlocked RWMutex")
            self._writer = False
            woken = self._admit_readers_locked() or self._next_writer_locked()
        for waiter in woken:
            waiter.complete(None, True)

    def rlock(self) -> None:
        """Lock for reading; block while a writer holds it or waits for it."""
        _register()
        lock = self._lock
        lock.acquire()
        try:
            if not self._writer and not self._writers:
                self._readers += 1
                me = None
            else:
                me = current()
                self._readers_waiting.append(me)
        finally:
            lock.release()
        if me is not None:
            try:
                me.park("sync.RWMutex.RLock", self)  # counted in ``_readers`` by whoever woke us
            except BaseException:  # a plain thread's wait, interrupted by a signal handler
                self._leave(me, self._readers_waiting, self.runlock)
                raise
        if hooks.race is not None:
            self._race_locked(writing=False)

    def try_rlock(self) -> bool:
        """Lock for reading if no writer holds or waits for it now; True if it did."""
        _register()
        with self._lock:
            if self._writer or self._writers:
                return False
            self._readers += 1
        if hooks.race is not None:
            self._race_locked(writing=False)
        return True

    def runlock(self) -> None:
        """Undo one ``rlock``; the last reader out admits a waiting writer.
        Raises ``RuntimeError`` if not locked for reading."""
        _register()
        if hooks.race is not None:
            hooks.race.release((self, "w"))
        with self._lock:
            if not self._readers:
                raise RuntimeError("sync: RUnlock of unlocked RWMutex")
            self._readers -= 1
            woken = self._next_writer_locked() if not self._readers else ()
        for waiter in woken:
            waiter.complete(None, True)

    def _race_locked(self, *, writing: bool) -> None:
        """For the race detector, as Go annotates its RWMutex: a reader gets
        in after the last writer's unlock; a writer after that and after the
        last readers' unlocks. Readers are not ordered with each other."""
        hooks.race.acquire((self, "r"))
        if writing:
            hooks.race.acquire((self, "w"))

    def _next_writer_locked(self) -> Iterable[Any]:
        """Caller holds ``_lock`` and nobody holds the lock: hand it to the
        longest-waiting writer, else admit the readers waiting (for writers
        that gave up); returns whom to wake."""
        writer = pop_live(self._writers)
        if writer is None:
            return self._admit_readers_locked()
        self._writer = True
        return (writer,)

    def _admit_readers_locked(self) -> list[Any]:
        """Caller holds ``_lock`` and no writer holds the lock: count every
        waiting reader in; returns them, to wake."""
        waiting, self._readers_waiting = self._readers_waiting, deque()
        woken = [waiter for waiter in waiting if claim(waiter)]
        self._readers += len(woken)
        return woken

    def _leave(self, me: G | ThreadWait, queue: deque[Any], unlock: Callable[[], None]) -> None:
        """``me``'s park in ``queue`` raised: give the wait up. A lock handed
        over meanwhile is passed on with ``unlock``; else ``me`` leaves the
        queue, and readers that waited only for writers that gave up get in."""
        if not me.withdraw():
            unlock()
            return
        woken: list[Any] = []
        with self._lock:
            if me in queue:
                queue.remove(me)
            if not self._writer and not any(is_live(w) for w in self._writers):
                woken = self._admit_readers_locked()
        for waiter in woken:
            waiter.complete(None, True)

    def rlocker(self) -> _RLocker:
        """A ``Locker`` (also a context manager) whose ``lock``/``unlock`` are
        this RWMutex's ``rlock``/``runlock``."""
        return _RLocker(self)

    def __repr__(self) -> str:
        return (
            f"<RWMutex writer={self._writer} readers={self._readers}"
            f" writers_waiting={len(self._writers)}"
            f" readers_waiting={len(self._readers_waiting)}>"
        )


class _RLocker(_LockerContext):
    """``RWMutex.rlocker()``: the read side of an RWMutex as a ``Locker``."""

    __slots__ = ("_rw",)

    def __init__(self, rw: RWMutex) -> None:
        self._rw = rw

    def lock(self) -> None:
        self._rw.rlock()

    def unlock(self) -> None:
        self._rw.runlock()

    def __repr__(self) -> str:
        return f"<rlocker of {self._rw!r}>"


# ---- Once -------------------------------------------------------------------------------


class Once:
    """Performs exactly one action (Go's ``sync.Once``).

    ``do(f)`` calls ``f()`` if and only if ``do`` is being called for the first
    time on this Once; other callers, concurrent or later, do not call their
    ``f``. Callers that arrive while ``f`` runs wait until it has returned, so
    when any ``do`` returns, ``f`` has finished. If ``f`` raises, the exception
    propagates out of that one ``do`` and the Once still counts as done. An
    ``f`` that calls ``do`` on its own Once deadlocks, as in Go.

    Memory model: the return from ``f`` happens before the return of any
    ``do`` on this Once.

    Why not simply "if not done: done = True; f()": a second caller would then
    return while ``f`` still runs and see its effects half done. Hence the
    ``_running`` state and the queue of callers waiting for ``f`` to return.

    ``_lock`` guards ``_done``, ``_running`` and ``_waiters``; ``_waiters`` is
    non-empty only while ``_running``.
    """

    __slots__ = ("__weakref__", "_done", "_lock", "_running", "_waiters")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._running = False
        self._waiters: deque[Any] = deque()

    def do(self, f: Callable[[], object]) -> None:
        """Call ``f()`` if no ``do`` on this Once has called its function yet;
        in any case return only once that call has finished."""
        _register()
        lock = self._lock
        lock.acquire()
        try:
            if self._done:
                if hooks.race is not None:
                    hooks.race.acquire(self)  # f's return happens before every do's
                return
            if self._running:
                me = current()
                self._waiters.append(me)
            else:
                self._running = True
                me = None
        finally:
            lock.release()
        if me is not None:
            try:
                me.park("sync.Mutex.Lock", self)  # Go's waiters block on the Once's mutex
            except BaseException:  # a plain thread's wait, interrupted by a signal handler
                me.withdraw()
                raise
            if hooks.race is not None:
                hooks.race.acquire(self)
            return
        try:
            f()
        finally:
            if hooks.race is not None:
                hooks.race.release(self)
            with lock:
                self._done = True
                self._running = False
                waiters, self._waiters = self._waiters, deque()
            for waiter in waiters:
                if claim(waiter):
                    waiter.complete(None, True)

    def __repr__(self) -> str:
        state = "done" if self._done else "running" if self._running else "not done"
        return f"<Once {state}>"


def once_func(f: Callable[[], object]) -> Callable[[], None]:
    """A function that calls ``f`` only once, however often and from however
    many goroutines it is called (Go 1.21's ``sync.OnceFunc``).

    Calls that arrive while ``f`` runs wait for it. If ``f`` raised, every call
    raises that same exception object again.

    Memory model: the return of ``f`` happens before the return of every call.
    """
    value = once_value(f)

    def call() -> None:
        value()

    functools.update_wrapper(call, f, updated=())
    return call


def once_value(f: Callable[[], T]) -> Callable[[], T]:
    """A function that calls ``f`` only once and returns its result on every
    call (Go 1.21's ``sync.OnceValue``).

    Calls that arrive while ``f`` runs wait for it. If ``f`` raised, every call
    raises that same exception object again (with ``f``'s traceback).

    Memory model: the return of ``f`` happens before the return of every call.
    """
    once = Once()
    result: list[T] = []
    failure: list[tuple[BaseException, TracebackType | None]] = []

    def run_f() -> None:
        try:
            result.append(f())
        except BaseException as exc:
            failure.append((exc, exc.__traceback__))

    def call() -> T:
        once.do(run_f)  # never raises: run_f keeps the exception
        if failure:
            exc, traceback = failure[0]
            raise exc.with_traceback(traceback)  # not growing the traceback call after call
        return result[0]

    functools.update_wrapper(call, f, updated=())
    return call


# ---- Cond -------------------------------------------------------------------------------


class Cond:
    """A condition variable (Go's ``sync.Cond``): a place for goroutines to
    wait for, or announce, that something changed.

    ``l`` is the ``Locker`` (a ``Mutex``, an ``RWMutex``, or ``rlocker()``)
    held while changing the condition and while calling ``wait``. ``wait``
    unlocks ``l``, parks, and locks ``l`` again before it returns, so callers
    loop: ``while not condition: c.wait()``. ``signal`` wakes the goroutine
    that has waited longest, ``broadcast`` wakes all; neither needs ``l``.

    Memory model: a call to ``signal`` or ``broadcast`` happens before the
    return of any ``wait`` call that it unblocks.

    ``_lock`` guards ``_waiters`` (FIFO). A waiter joins ``_waiters`` before it
    unlocks ``l`` (so no signal given after that can miss it) and parks after
    (a signal in between is not lost: ``park`` returns at once). A waiter that
    leaves without being signalled (``l.unlock`` failed, or a plain thread's
    wait was interrupted) passes on a signal that came meanwhile, to the next
    waiter; ``wait`` locks ``l`` again before it raises, as it does before it
    returns, so that the caller's ``with l:`` unlocks what it holds.
    """

    __slots__ = ("__weakref__", "_lock", "_waiters", "l")

    def __init__(self, locker: Locker) -> None:
        self.l = locker
        self._lock = threading.Lock()
        self._waiters: deque[Any] = deque()

    def wait(self) -> None:
        """Unlock ``l``, wait for a ``signal``/``broadcast``, lock ``l`` again."""
        _register()
        me = current()
        with self._lock:
            self._waiters.append(me)
        try:
            self.l.unlock()
        except BaseException:
            self._withdraw(me)
            raise
        try:
            me.park("sync.Cond.Wait", self)
        except BaseException:  # a plain thread's wait, interrupted by a signal handler
            if not me.withdraw():
                self.signal()  # the signal meant for us goes to the next waiter
            raise
        finally:
            self.l.lock()
        if hooks.race is not None:
            hooks.race.acquire(self)  # the signal that woke us happens before

    def _withdraw(self, me: Any) -> None:
        """``wait`` failed before parking: leave the queue, or, if a signal
        already took us off it, consume that wake-up so it cannot wake a later
        park, and pass the signal on."""
        with self._lock:
            try:
                self._waiters.remove(me)
            except ValueError:
                pass
            else:
                return
        me.park("sync.Cond.Wait", self)
        self.signal()

    def signal(self) -> None:
        """Wake the goroutine that has waited longest, if any."""
        _register()
        if hooks.race is not None:
            hooks.race.release(self)
        with self._lock:
            waiter = pop_live(self._waiters)
        if waiter is not None:
            waiter.complete(None, True)

    def broadcast(self) -> None:
        """Wake every waiting goroutine."""
        _register()
        if hooks.race is not None:
            hooks.race.release(self)
        with self._lock:
            waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if claim(waiter):
                waiter.complete(None, True)

    def __repr__(self) -> str:
        return f"<Cond waiters={len(self._waiters)} l={self.l!r}>"
