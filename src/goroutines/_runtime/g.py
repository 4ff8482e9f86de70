"""The goroutine record, G, and the parker protocol it shares with plain threads.

A G is one goroutine: the function to run, its state, why it waits, and the
greenlet that carries its stack. It is also the waiter record for a simple
(non-select) channel or lock operation: while a G waits in one queue, the
``value``/``ok`` fields carry what is handed to it, the way Go's sudog does.

Who may touch what (the invariants every other module relies on):

- ``state``, ``wait_reason``, ``waiting_since``, ``waiting_on``, ``greenlet``,
  ``worker`` are written only by the thread of the worker the G runs on (its
  own thread once started), except that whichever party wakes the G
  (``make_ready``, ``complete``, the poller) sets ``state`` to RUNNABLE just
  before it hands the G to its worker: a dump shows a woken goroutine as
  ``runnable``, as Go's does, not as still waiting. The wake-up is published
  to the G's worker through that worker's locked inbox, so the worker sees
  the writes the waker made before it.
- A G is *pinned*: once ``greenlet`` is set it only ever runs on ``worker``'s
  thread, because a greenlet cannot move between OS threads.
- ``value``/``ok``/``select_index`` belong to whoever dequeued the G from a
  wait queue (under that queue's lock) until the G is made ready; after that
  they belong to the G again.
- ``select_token`` is always ``None``: a G waits as itself only in a simple
  wait, and such a wait cannot be given up. Waiters that are part of a
  select are separate records that carry the select's token; see
  ``goroutines._select`` and ``waiters``.

A plain OS thread that uses a channel or lock queues a ``waiters.ThreadWait``
per wait, with the same fields and the same calls (``park``, ``make_ready``,
``complete``, ``withdraw``); it blocks its own thread on a lock instead of
switching.
"""

from __future__ import annotations

from threading import get_ident as _get_ident
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from threading import Lock
    from types import CodeType

    from greenlet import greenlet

    from .worker import Worker

# G states (Go's _Grunnable, _Grunning, _Gwaiting, _Gdead).
RUNNABLE = 0
RUNNING = 1
WAITING = 2
DEAD = 3


class G:
    """One goroutine. See the module docstring for who may touch each field."""

    select_token = None  # see the module docstring

    greenlet: greenlet | None
    worker: Worker  # set when the G first runs
    value: Any  # waiter fields: written by whoever wakes the G, before it reads them
    ok: bool
    select_index: int
    waiting_since: float  # time.monotonic() of the last park; read by dumps
    waiting_on: object  # what the last park said can wake it; read by ``leaks``
    race: Any  # the race detector's state of this goroutine, while one is on (``hooks``)

    __slots__ = (
        "args",
        "created_at",
        "fn",
        "greenlet",
        "id",
        "kwargs",
        "ok",
        "parent_id",
        "race",
        "select_index",
        "state",
        "value",
        "wait_reason",
        "waiting_on",
        "waiting_since",
        "worker",
    )

    def __init__(
        self,
        gid: int,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        parent_id: int,
        created_at: tuple[str, CodeType, int] | None,
    ) -> None:
        # Only what may be read before the G first runs is set here (go() is a
        # hot path); the rest is written before it is ever read.
        self.id = gid
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.state = RUNNABLE
        self.wait_reason = ""
        self.greenlet = None
        self.parent_id = parent_id
        self.created_at = created_at

    def park(self, wait_reason: str, waiting_on: object = None) -> None:
        """Block this goroutine until some party calls ``make_ready``.

        ``waiting_on`` names the object whose owner can wake it (the channel,
        the lock), or a tuple of them (a select's channels), for the leak
        check (``leaks``): a goroutine waiting on objects nothing running can
        reach will never wake.

        The caller must have published this G (or a waiter pointing to it) where
        a waker can find it, and released the lock guarding that place, before
        calling ``park``: a wake-up that comes first is not lost, because the
        waker hands the G to its worker's inbox, which the worker only drains
        once this G has switched away.
        """
        self.wait_reason = wait_reason  # before state: a dump on another thread reads both
        self.waiting_since = _monotonic()
        self.waiting_on = waiting_on
        self.state = WAITING
        self.worker.switch_away()

    def withdraw(self, token: Lock | None = None) -> bool:
        """A goroutine's simple wait cannot be given up (see ``waiters``):
        ``park`` returns once a waker completed it, and raises only when an
        interrupted run unwinds the goroutine (``unwind``). The run is over,
        so nothing handed to it is given back (True, as if nobody had); a
        select's cases are made stale if no case fired yet (``token``). (A
        plain thread's wait: ``ThreadWait.withdraw``.)"""
        if token is not None:
            token.acquire(False)
        return True

    def make_ready(self) -> None:
        """Make a parked goroutine runnable again. Called once per ``park``."""
        self.worker.ready(self)

    def complete(self, value: Any, ok: bool) -> None:
        """Hand ``value``/``ok`` to this waiter and wake it (simple wait)."""
        self.value = value
        self.ok = ok
        worker = self.worker
        if worker.thread_id == _get_ident():
            if worker.tracer is not None:
                worker.tracer.unblock_here(self)
            self.state = RUNNABLE
            worker.runq.append(self)  # Worker.ready's fast path
        else:
            worker.ready(self)

    def __repr__(self) -> str:
        return f"<goroutine {self.id}>"
