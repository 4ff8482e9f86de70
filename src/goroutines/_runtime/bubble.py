"""A run with a fake clock (Go's ``testing/synctest`` bubble).

A run made by ``goroutines.testing.synctest.run`` owns a ``Bubble``: its
clock starts at ``START`` (Go's bubbles start at midnight UTC, 2000-01-01)
and moves only when every goroutine of the run is *durably blocked*: parked
on a channel, a select, a lock, a WaitGroup, a Cond or a sleep, with nothing
outside the run able to wake one. Then the clock jumps to the earliest timer
of the run, which fires at once. So a test of a timeout of an hour runs in
microseconds, and its times are the same on every run.

The whole run is the bubble. Go marks goroutines one by one because its
program has one runtime; here a run already is a closed world: its
goroutines never run anywhere else, and other code reaches them only through
plain threads and the background runtime, which the deadlock detector
watches already.

Durably blocked, precisely: every worker of the run is idle (``Runtime.idle``
holds them all); no plain thread that used a goroutines object is running and
the background runtime is quiet (``Runtime._liveness``); no goroutine is
queued; no ``blocking`` call is in flight and no goroutine waits on a fd (I/O
and helper threads finish in real time, so the clock stands still while they
are pending, as in Go). ``Runtime.enter_idle`` asks ``step_locked`` what to
do when that may be so; in order:

1. a goroutine in ``wait()`` (Go's ``synctest.Wait``) is woken: the others
   are all durably blocked now, and time has not moved;
2. else the clock jumps to the earliest pending timer and every worker is
   woken to fire what is due;
3. else nothing can ever happen: the run deadlocks, as any run does.

Locking: ``Runtime.lock`` guards ``now`` (written only in ``step_locked``;
read without it, a float read being atomic) and ``waiter``. Each worker's
``lock`` is taken inside it, for the worker's queues, poller and timers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from threading import Lock

    from .g import G
    from .worker import Worker

# The clock's first reading: 2000-01-01 00:00:00 UTC in Unix seconds, where Go's
# bubbles start too.
START = 946_684_800.0


class Bubble:
    """The fake clock of one run, and the goroutine waiting in ``wait()``."""

    __slots__ = ("now_value", "waiter")

    def __init__(self) -> None:
        self.now_value = START
        self.waiter: G | None = None

    def now(self) -> float:
        return self.now_value

    def wait(self, g: G, runtime_lock: Lock) -> None:
        """Park ``g`` until ``step_locked`` finds the others durably blocked."""
        with runtime_lock:
            if self.waiter is not None:
                raise RuntimeError("synctest.wait: another goroutine is waiting already")
            self.waiter = g
        g.park("synctest.Wait")

    def step_locked(
        self, workers: Sequence[Worker], blocking_calls: int
    ) -> Callable[[], None] | None:
        """Caller holds ``Runtime.lock``, every worker is idle and nothing
        outside the run can wake a goroutine. Return what to do once the lock
        is released, or None if nothing is to be done (see the module
        docstring: the run is not durably blocked, or it is deadlocked)."""
        if blocking_calls:
            return None
        earliest: float | None = None
        for worker in workers:
            with worker.lock:
                if worker.has_work() or worker.poller.waiting():
                    return None
                deadline = worker.timers.next_deadline()
            if deadline is not None and (earliest is None or deadline < earliest):
                earliest = deadline
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            return waiter.make_ready
        if earliest is None:
            return None
        self.now_value = max(self.now_value, earliest)
        everyone = list(workers)
        return lambda: _interrupt_all(everyone)


def _interrupt_all(workers: list[Worker]) -> None:
    for worker in workers:
        worker.interrupt()
