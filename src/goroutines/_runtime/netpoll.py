"""A worker's poller: goroutines waiting for file descriptors (Go's netpoll).

Each worker owns one ``Poller``: a ``selectors`` selector (epoll on Linux)
holding the worker's wake-up pipe and the file descriptors its goroutines wait
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

Registrations last one wait: a fd is in the selector only while some
goroutine of this worker waits on it, so a fd nobody waits on can be closed
and its number reused without the poller noticing. The one window is a fd
closed while a goroutine waits on it: ``evict`` marks that wait CLOSED and
wakes the goroutine, but the selector still holds the old registration until
the goroutine runs again; a goroutine that registers the reused number first
finds the CLOSED wait there and registers the fd afresh.

Locking and ownership:
  - ``lock`` is the owning worker's lock. It guards ``_waits`` (fd -> the
    waits registered on it) and every ``FdWait.outcome``, because ``evict`` may
    run on any thread. The wake-up pipe is written under it too.
  - The selector and ``_masks`` (fd -> events registered in the selector) are
    touched only by the worker's thread: ``add``/``remove`` run on the waiting
    goroutine, which is pinned to the worker; ``poll`` on the scheduler.
  - A wait's goroutine is made ready exactly once: by whoever sets its
    ``outcome`` (from PENDING), under ``lock``.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
import time
from typing import TYPE_CHECKING

from .timers import Timer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .g import G

# Captured before ``goroutines.patch()`` can replace it: the poller must block
# its worker's thread for real.
_Selector = selectors.DefaultSelector

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


class Poller:
    """One worker's selector, wake-up pipe and fd waits. See the module docstring."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self._waits: dict[int, list[tuple[FdWait, int]]] = {}
        self._masks: dict[int, int] = {}
        self._selector = _Selector()
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, READ)

    def waiting(self) -> bool:
        """Whether some goroutine waits on a fd here. Exact under ``lock``; a
        hint for the worker's own thread without it."""
        return bool(self._waits)

    # ---- the waiting goroutine's side (the worker's thread) ---------------

    def add(self, wait: FdWait) -> None:
        """Register ``wait`` on each of its fds. Raises ``OSError`` or
        ``ValueError`` (having registered nothing) for a fd that cannot be
        polled, e.g. a closed one or a regular file."""
        stale: set[int] = set()
        with self.lock:
            for fd, events in wait.fds:
                entries = self._waits.setdefault(fd, [])
                if any(other.outcome == CLOSED for other, _ in entries):
                    entries[:] = [e for e in entries if e[0].outcome != CLOSED]
                    stale.add(fd)
                entries.append((wait, events))
        try:
            for fd, _ in wait.fds:
                self._update_selector(fd, fresh=fd in stale)
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
                entries[:] = [e for e in entries if e[0] is not wait]
                if not entries:
                    del self._waits[fd]
        for fd, _ in wait.fds:
            with contextlib.suppress(OSError, ValueError):
                self._update_selector(fd, fresh=False)

    def _update_selector(self, fd: int, *, fresh: bool) -> None:
        """Make the selector's registration of ``fd`` match ``_waits``."""
        with self.lock:
            wanted = 0
            for _, events in self._waits.get(fd, ()):
                wanted |= events
        registered = self._masks.get(fd, 0)
        if registered and (fresh or not wanted):
            del self._masks[fd]
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(fd)
            registered = 0
        if not wanted or wanted == registered:
            return
        try:
            if registered:
                self._selector.modify(fd, wanted)
            else:
                self._selector.register(fd, wanted)
        except BaseException:
            # The selector dropped the fd, or never took it (e.g. it was closed).
            self._masks.pop(fd, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(fd)
            raise
        self._masks[fd] = wanted

    # ---- ending waits ------------------------------------------------------

    def poll(self, timeout: float | None) -> list[G]:
        """Wait up to ``timeout`` (None: until woken) for ready fds or a
        wake-up; return the goroutines whose waits became READY."""
        ready = self._selector.select(timeout)
        woken: list[G] = []
        with self.lock:
            for key, mask in ready:
                if key.fd == self._wake_r:
                    self._drain_wakeup()
                    continue
                for wait, events in self._waits.get(key.fd, ()):
                    if events & mask and wait.outcome == PENDING:
                        wait.outcome = READY
                        woken.append(wait.g)
        return woken

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
            self._selector.close()
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
        pending.timer = Timer(time.monotonic() + timeout, _time_out, pending)
        worker.add_timer(pending.timer)
    g.park("IO wait")
    poller.remove(pending)
    if pending.timer is not None and pending.outcome != TIMED_OUT:
        worker.cancel_timer(pending.timer)
    return pending.outcome


def _time_out(pending: FdWait, now: float) -> None:
    if pending.g.worker.poller.time_out(pending):
        pending.g.make_ready()
