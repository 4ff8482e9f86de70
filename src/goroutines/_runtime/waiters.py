"""Waiter records: what a primitive queues for whoever blocks, and who may complete it.

A channel, select or lock that must block queues a *waiter record* (Go's
sudog) and parks on it; the party that later dequeues the record completes
it (``complete(value, ok)``: hand over what is due, wake the waiter). A
record is one of:

- the running ``G`` itself, for a goroutine's simple wait (the hot path:
  nothing is allocated);
- a ``ThreadWait``, made afresh for each wait of a plain thread;
- a select's ``_CaseWaiter``, one per case (``goroutines._select``).

Tokens. A record whose ``select_token`` is not None can be given up by its
owner, so whoever dequeues it must first *claim* it (``claim``: a
non-blocking acquire of the token) and skip it if that fails
(``pop_live``). Exactly one party ever claims a token, so a record is
completed at most once, and never after its owner left: the wake-up goes to
the next live waiter instead. Records whose token is taken are *stale*; they
stay in their queue until a dequeuer skips them (channels also rebuild a
queue that is half stale, ``Chan._drop_stale``).

- A select's case records share one token: the first case to fire claims it
  and the others go stale.
- A plain thread's wait can be interrupted: a signal handler runs on the main
  thread while it waits and may raise (Ctrl-C's ``KeyboardInterrupt``), and
  ``park`` raises that. So each wait gets its own ``ThreadWait`` with its own
  token (not the thread's parker, which outlives the wait: a stale entry must
  not name the thread's next wait). The primitive then calls ``withdraw``:

  * it claims the token: no waker has dequeued the record and none ever
    will; the primitive re-raises and is left as if never called (a stale
    record stays queued);
  * a waker claimed it first: its wake-up is on the way, and ``withdraw``
    waits for it, so that it cannot end the thread's next wait. The
    operation took effect, and ``value``/``ok`` say how; the primitive gives
    back what it can before re-raising (a value received goes back to the
    channel, a mutex handed over goes to the next waiter, a ``Cond`` signal
    to the next waiter, semaphore units are released), so that nothing is
    lost or delivered twice.

- A goroutine's record has no token: a goroutine's wait ends only when a
  waker completes it. (When an interrupted run unwinds its goroutines, a
  goroutine's ``park`` raises too; ``G.withdraw`` then gives nothing back, as
  the run is over.)

Primitives whose queue being non-empty is itself state (``RWMutex``,
``semaphore.Weighted``) also take a withdrawn record out of their queue at
once, so that a stale record never makes a newcomer wait.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from .threads import ThreadParker


def claim(waiter: Any) -> bool:
    """Claim ``waiter`` before completing it; False if its owner gave it up
    (or, for a select's case, another case fired): skip it then."""
    token = waiter.select_token
    return token is None or token.acquire(False)


def pop_live(queue: deque[Any]) -> Any:
    """Pop the first live waiter of ``queue`` and claim it, or return None."""
    while queue:
        waiter = queue.popleft()
        token = waiter.select_token
        if token is None or token.acquire(False):
            return waiter
    return None


def is_live(waiter: Any) -> bool:
    """Whether ``waiter`` may still be completed (a snapshot)."""
    token = waiter.select_token
    return token is None or not token.locked()


class ThreadWait:
    """The waiter record of one wait of a plain thread: the fields and calls
    of a ``G`` as a waiter, its own token, and ``withdraw`` (see the module
    docstring). The thread blocks on its ``ThreadParker``.

    ``value``/``ok``/``select_index`` belong to whoever claimed the token
    until it completes the record; after that, to the waiting thread."""

    __slots__ = ("ok", "parker", "select_index", "select_token", "value")

    def __init__(self, parker: ThreadParker) -> None:
        self.parker = parker
        self.select_token = threading.Lock()
        self.value: Any = None
        self.ok = False
        self.select_index = -1

    def park(self, wait_reason: str, waiting_on: object = None) -> None:
        """Block the thread until this record is completed. Raises what a
        signal handler raises meanwhile; call ``withdraw`` then."""
        self.parker.park(wait_reason, waiting_on)

    def make_ready(self) -> None:
        self.parker.make_ready()

    def complete(self, value: Any, ok: bool) -> None:
        """Hand ``value``/``ok`` to this waiter and wake it (simple wait)."""
        self.value = value
        self.ok = ok
        self.parker.make_ready()

    def withdraw(self, token: threading.Lock | None = None) -> bool:
        """Give up this wait after ``park`` raised. True: nobody had claimed
        it, and nobody will. False: a waker had, and its wake-up has been
        taken; ``value``/``ok`` (``select_index``) say what it handed over.

        ``token`` is the select's token for a select, else this record's."""
        if (self.select_token if token is None else token).acquire(False):
            return True
        self.parker.take_wakeup()
        return False
