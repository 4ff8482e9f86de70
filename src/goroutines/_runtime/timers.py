"""A worker's timer heap: a min-heap of pending timers, ordered by deadline.

The heap knows no clock: callers pass ``now`` in, so it can be tested with no
clock at all (as curio's ``timequeue`` is). Removal is lazy: ``cancel`` marks
the timer dead and the heap drops dead entries when they reach the top.

Locking: the owning worker's ``lock`` guards the heap and every ``Timer``'s
``active`` flag, because any thread may add or cancel a timer on any worker.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from .worker import Worker


class Timer:
    """One pending call of ``fn(arg, now)`` at time ``when`` on ``worker``.

    ``fn`` runs on the worker's scheduler greenlet, never on a goroutine: it must
    not block (it may make goroutines ready, or offer a value to a channel).
    An exception it raises does not stop the worker: ``Runtime.timer_failed``
    ends the run with it (the background runtime prints it), and the other
    timers due still fire.
    """

    __slots__ = ("active", "arg", "fn", "seq", "when", "worker")

    def __init__(self, when: float, fn: Callable[[Any, float], None], arg: Any) -> None:
        self.when = when
        self.fn = fn
        self.arg = arg
        self.seq = 0
        self.active = False
        self.worker: Worker | None = None

    def __lt__(self, other: Timer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class TimerHeap:
    """Pending timers of one worker. The caller holds the worker's lock."""

    __slots__ = ("_heap", "_seq", "active")

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = 0
        self.active = 0  # number of live timers, for the deadlock detector

    def push(self, timer: Timer) -> bool:
        """Add ``timer``; return True if it is now the earliest one."""
        self._seq += 1
        timer.seq = self._seq
        timer.active = True
        self.active += 1
        heapq.heappush(self._heap, timer)
        return self._heap[0] is timer

    def cancel(self, timer: Timer) -> bool:
        """Mark ``timer`` dead; return True if it was still pending."""
        if not timer.active:
            return False
        timer.active = False
        self.active -= 1
        return True

    def pending(self) -> list[Timer]:
        """The timers that have neither fired nor been cancelled."""
        return [timer for timer in self._heap if timer.active]

    def next_deadline(self) -> float | None:
        """The deadline of the earliest live timer, or None if there is none."""
        heap = self._heap
        while heap and not heap[0].active:
            heapq.heappop(heap)
        return heap[0].when if heap else None

    def pop_expired(self, now: float) -> list[Timer]:
        """Remove and return the live timers due at ``now``, earliest first."""
        heap = self._heap
        due: list[Timer] = []
        while heap and heap[0].when <= now:
            timer = heapq.heappop(heap)
            if timer.active:
                timer.active = False
                self.active -= 1
                due.append(timer)
        return due
