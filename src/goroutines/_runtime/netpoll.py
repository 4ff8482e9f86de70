"""A worker's poller: goroutines waiting for file descriptors (Go's netpoll).

Each worker owns one ``Poller``: a kernel poller (epoll, called directly, on
Linux; the platform's ``selectors`` class elsewhere) holding the worker's
wake-up pipe and the file descriptors its goroutines wait
on. The worker polls it without blocking each time it passes through its
scheduler loop while some goroutine waits, and blocks in it when it has
nothing to run, so an idle worker sleeps until a goroutine's fd is ready, a
timer is due, or another thread wakes it.

A goroutine waits with ``wait(g, fds, timeout)``: it registers an ``FdWait``
(itself, and the ``(fd, events)`` pairs it waits for) and parks with the wait
reason ``IO wait``. Exactly one of three things ends the wait, and records its
``outcome``:

  READY      the worker's poll saw one of the fds ready (the caller retries
             its non-blocking operation, which may still find nothing to do);
  TIMED_OUT  the wait's timer fired;
  CLOSED     another goroutine or thread closed one of the fds (``evict``,
             called *before* the fd is closed, as Go's ``poll.FD.Close``
             evicts waiters before closing).

Registrations last one wait: a fd is in the kernel's poller only while some
goroutine of this worker waits on it (``poll`` unregisters the fds of the
waits it ends at once, or epoll, level-triggered, would report them again on
every poll until their goroutines ran), so a fd nobody waits on can be closed
(even by a garbage-collected socket, which tells nobody) and its number
reused without the poller noticing. The one window is a fd closed while a
goroutine waits on it: ``evict`` marks that wait CLOSED and wakes the
goroutine, but the old registration stays until the goroutine runs again; a
goroutine that registers the reused number first finds the CLOSED wait there
and registers the fd afresh. The price is two system calls per wait
(register, unregister), which Go avoids by registering each fd once.

Locking and ownership:
  - ``lock`` is the owning worker's lock. It guards ``_waits`` (fd -> the
    waits registered on it) and every ``FdWait.outcome``, because ``evict`` may
    run on any thread. The wake-up pipe is written under it too.
  - The kernel poller (epoll on Linux, else a ``selectors`` selector) and
    ``_masks`` (fd -> events registered in it) are touched only by the worker's
    thread: ``add``/``remove`` run on the waiting goroutine, which is pinned
    to the worker; ``poll`` on the scheduler. So are changes to the lists in
    ``_waits``; other threads only read them (and set outcomes) under ``lock``.
  - A wait's goroutine is made ready exactly once: by whoever sets its
    ``outcome`` (from PENDING), under ``lock``.
"""

from __future__ import annotations

import contextlib
import os
import select
import selectors
import threading
from typing import TYPE_CHECKING

from .timers import Timer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .g import G

# Captured before ``goroutines.patch()`` can replace them: the poller must block
# its worker's thread for real.
_epoll = getattr(select, "epoll", None)
_DefaultSelector = selectors.DefaultSelector

READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE

# FdWait.outcome values.
PENDING = 0
READY = 1
TIMED_OUT = 2
CLOSED = 3


class FdWait:
    """One goroutine waiting for any of ``fds`` (``(fd, events)`` pairs)."""

    __slots__ = ("fds", "g", "outcome", "timer")

    def __init__(self, g: G, fds: Sequence[tuple[int, int]]) -> None:
        self.g = g
        self.fds = fds
        self.outcome = PENDING
        self.timer: Timer | None = None


class _Epoll:
    """The kernel side of a poller on Linux: epoll, called directly (the
    ``selectors`` module would add a key object and dict entries per call)."""

    def __init__(self) -> None:
        assert _epoll is not None
        self._epoll = _epoll()
        self._to_epoll = {
            READ: select.EPOLLIN,
            WRITE: select.EPOLLOUT,
            READ | WRITE: select.EPOLLIN | select.EPOLLOUT,
        }
        # Hang-ups and errors wake readers and writers alike: their next call fails.
        self._readable = select.EPOLLIN | select.EPOLLPRI | select.EPOLLHUP | select.EPOLLERR
        self._writable = select.EPOLLOUT | select.EPOLLHUP | select.EPOLLERR

    def register(self, fd: int, events: int) -> None:
        self._epoll.register(fd, self._to_epoll[events])

    def modify(self, fd: int, events: int) -> None:
        self._epoll.modify(fd, self._to_epoll[events])

    def unregister(self, fd: int) -> None:
        self._epoll.unregister(fd)

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        """Ready ``(fd, READ|WRITE)`` pairs, waiting up to ``timeout`` (None: no limit)."""
        readable, writable = self._readable, self._writable
        return [
            (fd, (READ if mask & readable else 0) | (WRITE if mask & writable else 0))
            for fd, mask in self._epoll.poll(-1 if timeout is None else timeout)
        ]

    def close(self) -> None:
        self._epoll.close()


class _Selector:
    """The kernel side of a poller elsewhere: the platform's ``selectors`` class."""

    def __init__(self) -> None:
        self._selector = _DefaultSelector()

    def register(self, fd: int, events: int) -> None:
        self._selector.register(fd, events)

    def modify(self, fd: int, events: int) -> None:
        self._selector.modify(fd, events)

    def unregister(self, fd: int) -> None:
        try:
            self._selector.unregister(fd)
        except KeyError:
            raise ValueError(f"fd {fd} is not registered") from None

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        return [(key.fd, mask) for key, mask in self._selector.select(timeout)]

    def close(self) -> None:
        self._selector.close()


class Poller:
    """One worker's selector, wake-up pipe and fd waits. See the module docstring."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self._waits: dict[int, list[tuple[FdWait, int]]] = {}
        self._masks: dict[int, int] = {}
        self._kernel: _Epoll | _Selector = _Epoll() if _epoll is not None else _Selector()
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._kernel.register(self._wake_r, READ)

    def waiting(self) -> bool:
        """Whether some goroutine waits on a fd here. Exact under ``lock``; a
        hint for the worker's own thread without it."""
        return bool(self._waits)

    # ---- the waiting goroutine's side (the worker's thread) ---------------

    def add(self, wait: FdWait) -> None:
        """Register ``wait`` on each of its fds. Raises ``OSError`` or
        ``ValueError`` (having registered nothing) for a fd that cannot be
        polled, e.g. a closed one or a regular file."""
        stale: list[int] = []
        with self.lock:
            for fd, events in wait.fds:
                entries = self._waits.get(fd)
                if entries is None:
                    self._waits[fd] = [(wait, events)]
                    continue
                if any(other.outcome == CLOSED for other, _ in entries):
                    entries[:] = [e for e in entries if e[0].outcome != CLOSED]
                    stale.append(fd)
                entries.append((wait, events))
        try:
            for fd, _ in wait.fds:
                self._sync(fd, stale=fd in stale)
        except BaseException:
            self.remove(wait)
            raise

    def remove(self, wait: FdWait) -> None:
        """Unregister ``wait`` (idempotent): after it ended, or if ``add`` failed."""
        with self.lock:
            for fd, _ in wait.fds:
                entries = self._waits.get(fd)
                if entries is None:
                    continue
                if len(entries) > 1:
                    entries[:] = [e for e in entries if e[0] is not wait]
                elif entries[0][0] is wait:
                    del self._waits[fd]
        for fd, _ in wait.fds:
            try:  # noqa: SIM105 (a hot path: contextlib.suppress costs more)
                self._sync(fd, stale=False)
            except (OSError, ValueError):
                pass  # it was closed meanwhile: the kernel dropped it

    def _sync(self, fd: int, *, stale: bool) -> None:
        """Make the kernel's registration of ``fd`` match ``_waits`` (which
        only this thread changes, so it is read here without ``lock``)."""
        wanted = 0
        for _, events in self._waits.get(fd, ()):
            wanted |= events
        registered = self._masks.get(fd, 0)
        if registered and (stale or not wanted):
            del self._masks[fd]
            registered = 0
            try:  # noqa: SIM105 (a hot path)
                self._kernel.unregister(fd)
            except (OSError, ValueError):
                pass  # closed (and maybe reused) meanwhile: the kernel dropped it
        if not wanted or wanted == registered:
            return
        try:
            if registered:
                self._kernel.modify(fd, wanted)
            else:
                self._kernel.register(fd, wanted)
        except BaseException:
            # The kernel dropped the fd, or never took it (e.g. it was closed).
            self._masks.pop(fd, None)
            with contextlib.suppress(OSError, ValueError):
                self._kernel.unregister(fd)
            raise
        self._masks[fd] = wanted

    # ---- ending waits ------------------------------------------------------

    def poll(self, timeout: float | None) -> list[G]:
        """Wait up to ``timeout`` (None: until woken) for ready fds or a
        wake-up; return the goroutines whose waits became READY."""
        ready = self._kernel.poll(timeout)
        fired: list[FdWait] = []
        with self.lock:
            for fd, mask in ready:
                if fd == self._wake_r:
                    self._drain_wakeup()
                    continue
                for wait, events in self._waits.get(fd, ()):
                    if events & mask and wait.outcome == PENDING:
                        wait.outcome = READY
                        fired.append(wait)
        # Unregister at once, not when each goroutine runs again: the kernel
        # would report the same fds on every poll until then (level-triggered).
        for wait in fired:
            self.remove(wait)
        return [wait.g for wait in fired]

    def time_out(self, wait: FdWait) -> bool:
        """End ``wait`` as TIMED_OUT unless it already ended (worker's thread)."""
        with self.lock:
            if wait.outcome != PENDING:
                return False
            wait.outcome = TIMED_OUT
            return True

    def evict(self, fd: int) -> list[G]:
        """End every pending wait on ``fd`` as CLOSED (any thread); the caller
        makes the returned goroutines ready, after this returned."""
        woken: list[G] = []
        with self.lock:
            for wait, _ in self._waits.get(fd, ()):
                if wait.outcome == PENDING:
                    wait.outcome = CLOSED
                    woken.append(wait.g)
        return woken

    # ---- the wake-up pipe ------------------------------------------------------

    def wakeup(self) -> None:
        """Make a blocked or coming ``poll`` return. Caller holds ``lock``. A
        full pipe means a wake-up is pending anyway."""
        if not self._closed:
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b"x")

    def wakeup_fd(self) -> int:
        """The write end of the wake-up pipe, for ``signal.set_wakeup_fd``
        (a signal writes a byte there, which wakes ``poll``)."""
        return self._wake_w

    def _drain_wakeup(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._wake_r, 4096):
                pass

    def close(self) -> None:
        """Release the selector and pipe (the worker's loop has ended). Under
        ``lock``, so that no thread writes to a pipe whose fd number the
        process may already have reused."""
        with self.lock:
            self._closed = True
            self._kernel.close()
            os.close(self._wake_r)
            os.close(self._wake_w)


def wait(g: G, fds: Sequence[tuple[int, int]], timeout: float | None) -> int:
    """Park ``g`` (running, on its worker's thread) until one of ``fds`` is
    ready, ``timeout`` seconds pass (None: no limit) or one of them is closed;
    return the outcome (READY, TIMED_OUT or CLOSED). Raises as ``Poller.add``
    does for a fd that cannot be polled."""
    worker = g.worker
    poller = worker.poller
    pending = FdWait(g, fds)
    poller.add(pending)
    if timeout is not None:
        pending.timer = Timer(worker.now() + timeout, _time_out, pending)
        worker.add_timer(pending.timer)
    try:
        g.park("IO wait")
    finally:  # also when an interrupted run unwinds g: nothing stays registered
        poller.remove(pending)
        if pending.timer is not None and pending.outcome != TIMED_OUT:
            worker.cancel_timer(pending.timer)
    return pending.outcome


def _time_out(pending: FdWait, now: float) -> None:
    if pending.g.worker.poller.time_out(pending):
        pending.g.make_ready()
