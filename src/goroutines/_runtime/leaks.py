"""Leaked goroutines: blocked forever on something nothing that runs can reach.

This is Go 1.27's goroutine leak profile (an experiment in 1.26,
``runtime.findGoroutineLeaks``), done over Python's object graph instead of
during a garbage collection. ``runtime.leaks()`` and the deadlock dump use it.

Vocabulary
----------
*Wakers* of a parked goroutine: the objects whose users could wake it, named
by its ``park`` (``G.waiting_on``): the channel of a send or receive, the
channels of a select, the Mutex, RWMutex, WaitGroup, Cond, Once or semaphore
it waits on. To wake the goroutine, somebody must hold a reference to one.

A *candidate* is a goroutine parked for a reason in ``LEAKABLE``: channels,
select and the sync types. A goroutine asleep, in IO wait or in a blocking
call is woken by the runtime itself (a timer, the poller, a helper thread), so
it is never a candidate, as in Go.

*Roots* are what can run or be run: every module (``sys.modules``), every OS
thread's stack (plain threads, and the goroutines running on workers; a
worker's own stack is cut at its scheduler loop, so the frames of the code
that called ``run``, suspended until the run ends, are not roots), signal
handlers, ``gc.garbage``, and every goroutine that is not a candidate: its
function, arguments, pending value and stack.

The algorithm (Go's fixed point)
--------------------------------
1. Mark everything reachable from the roots. Goroutine records (``G``) and
   greenlets are opaque: a channel refers to its waiting goroutines and a
   goroutine to its stack, but holding a channel does not let anybody run the
   goroutines waiting on it. So is a stopped timer, which stays in its heap
   until it reaches the top but will never call anything.
2. A candidate with a marked waker may be woken by somebody who runs: it is no
   candidate any more; its stack and arguments become roots, and marking goes on.
3. When no candidate changes, the ones left are leaked. A candidate with no
   wakers (a nil channel, ``select()`` with no cases) is always leaked.

Limits
------
Go stops the world for this; ``find_leaked`` stops every other worker in its
scheduler for the scan (``stacks.world_stopped``), so no goroutine runs
meanwhile but the caller, and every stack is read safely. Plain threads are
not stopped: a reference one of them moves during the scan (out of a local
not yet scanned, into an object already scanned) can go unseen and its waiter
be reported; a goroutine that left its wait before the scan ends is not. A
worker running a goroutine that cannot be preempted (in a C call: see
``preempt``) cannot be stopped: with the GIL
the scan goes on (that goroutine's stack is read as it runs); without it,
``find_leaked`` raises ``RuntimeError`` rather than read objects that
goroutine may be changing. References held only by C code (``atexit``, an
extension's globals) are not seen. Stacks are read as their locals
(``frame.f_locals``): a value that lives only on the evaluation stack of a
suspended frame (an argument being built) is not seen either.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

from greenlet import greenlet

from .g import DEAD, RUNNING, WAITING, G
from .stacks import TIMEOUT, gil_enabled, innermost_frame, read_stacks, world_stopped
from .timers import Timer
from .worker import Worker

if TYPE_CHECKING:
    pass

# The wait reasons of a goroutine that only another goroutine or thread can
# wake (Go's channel and sync wait reasons).
LEAKABLE = frozenset(
    {
        "chan send",
        "chan receive",
        "chan send (nil chan)",
        "chan receive (nil chan)",
        "select",
        "select (no cases)",
        "sync.Mutex.Lock",
        "sync.RWMutex.Lock",
        "sync.RWMutex.RLock",
        "sync.WaitGroup.Wait",
        "sync.Cond.Wait",
    }
)

_SCHEDULER_LOOP = Worker.run_loop.__code__


def find_leaked(
    goroutines: list[G], caller: FrameType, workers: list[Worker], *, quiescent: bool
) -> list[G]:
    """The goroutines among ``goroutines`` (those of ``workers``' runtimes) that
    are leaked (see the module docstring). ``caller`` is the frame to scan for
    the calling thread, so that the scan's own bookkeeping does not count as a
    reference. ``quiescent``: no worker can run a goroutine meanwhile (the
    deadlock check); otherwise the others are stopped for the scan, and
    without the GIL a scan they cannot all be stopped for raises
    ``RuntimeError`` rather than read what goroutines are changing."""
    if quiescent:
        return _scan(goroutines, caller, workers)
    with world_stopped(workers) as stopped:
        if not stopped and not gil_enabled():
            raise RuntimeError(
                "runtime.leaks: a goroutine on another worker has not yielded for "
                f"{TIMEOUT} s; without the GIL, stacks it may be changing cannot be read"
            )
        return _scan(goroutines, caller, workers)


def _scan(goroutines: list[G], caller: FrameType, workers: list[Worker]) -> list[G]:
    """``find_leaked`` once reading every stack is safe."""
    candidates: dict[G, tuple[tuple[object, ...], float]] = {}
    live: list[G] = []
    for g in goroutines:
        if g.state == WAITING and g.wait_reason in LEAKABLE:
            candidates[g] = (_wakers(g.waiting_on), g.waiting_since)
        elif g.state != DEAD:
            live.append(g)
    if not candidates:
        return []
    stacks = read_stacks(live, _top_frame, quiescent=True)  # candidates: when woken
    reachable = _Reachable()
    reachable.add_roots(caller, {worker.thread_id for worker in workers})
    for g in live:
        reachable.add_goroutine(g, stacks.get(g))
    while True:
        reachable.mark()
        woken = [g for g, (wakers, _) in candidates.items() if any(map(reachable.has, wakers))]
        if not woken:
            break
        for g in woken:
            del candidates[g]
            reachable.add_goroutine(g, read_stacks([g], _top_frame, quiescent=True).get(g))
    # Report only goroutines still in the very wait the scan started from.
    return [
        g for g, (_, since) in candidates.items() if g.state == WAITING and g.waiting_since == since
    ]


def _top_frame(g: G) -> FrameType | None:
    """``g``'s innermost frame, which ``mark`` walks down from; None for the
    goroutine running here: the caller's frame is a root already."""
    if g.state == RUNNING and g.worker.thread_id == threading.get_ident():
        return None
    return innermost_frame(g)


def _wakers(waiting_on: object) -> tuple[object, ...]:
    if waiting_on is None:
        return ()
    if type(waiting_on) is tuple:
        return waiting_on
    return (waiting_on,)


class _Reachable:
    """The set of objects marked so far, and the frontier still to expand.

    ``_seen`` maps ``id`` to the object, which keeps every marked object alive
    until the scan ends, so that an id cannot be reused meanwhile. Objects the
    garbage collector does not track (strings, numbers, tuples and dicts of
    those) are skipped: they cannot refer to a channel or a lock, which are
    always tracked. Frames are the exception: one that its thread or greenlet
    still owns is not tracked, but its locals matter.
    """

    def __init__(self) -> None:
        self._seen: dict[int, object] = {}
        self._frontier: list[object] = []

    def has(self, obj: object) -> bool:
        return id(obj) in self._seen

    def add(self, obj: object) -> None:
        if id(obj) not in self._seen and (gc.is_tracked(obj) or type(obj) is FrameType):
            self._seen[id(obj)] = obj
            self._frontier.append(obj)

    def add_roots(self, caller: FrameType, worker_threads: set[int]) -> None:
        """Modules, signal handlers, ``gc.garbage``, and the stacks of the
        plain threads and the caller; workers' stacks are read per goroutine
        (``add_goroutine``)."""
        self.add(sys.modules)
        self.add(gc.garbage)
        for signum in signal.valid_signals():
            self.add(signal.getsignal(signum))
        me = threading.get_ident()
        for thread_id, top in sys._current_frames().items():
            if thread_id != me and thread_id not in worker_threads:
                self.add(top)
        self.add(caller)  # not this thread's innermost frames: the scan's own

    def add_goroutine(self, g: G, top: FrameType | None) -> None:
        """``g`` may run: what it will use is reachable (``top``: its innermost
        frame, if it has started and may be read)."""
        self.add(g.fn)
        self.add(g.args)
        self.add(g.kwargs)
        self.add(getattr(g, "value", None))  # set by a waker, read when it runs
        self.add(top)

    def mark(self) -> None:
        """Mark everything reachable from the frontier."""
        seen = self._seen
        is_tracked = gc.is_tracked
        while self._frontier:
            batch, self._frontier = self._frontier, []
            plain = [obj for obj in batch if type(obj) not in _SPECIAL]
            if len(plain) < len(batch):
                plain = self._expand_special(batch)
            frontier = self._frontier
            for referent in gc.get_referents(*plain):
                key = id(referent)
                if key not in seen and (is_tracked(referent) or type(referent) is FrameType):
                    seen[key] = referent
                    frontier.append(referent)

    def _expand_special(self, batch: list[object]) -> list[object]:
        """Expand the frames of ``batch`` by hand; drop what is opaque (see
        the algorithm's step 1); return the rest."""
        plain = []
        for obj in batch:
            kind = type(obj)
            if kind is FrameType:
                self._add_frame(obj)  # type: ignore[arg-type]
            elif kind is Timer:
                if obj.active:  # type: ignore[attr-defined]
                    plain.append(obj)
            elif kind not in _SPECIAL:
                plain.append(obj)
        return plain

    def _add_frame(self, frame: FrameType) -> None:
        if frame.f_code is _SCHEDULER_LOOP:
            return  # see "Roots" in the module docstring
        # gc.get_referents does not show a running or suspended frame's
        # locals (the thread or the greenlet owns them); f_locals does.
        self.add(frame.f_back)
        self.add(frame.f_globals)
        self.add(frame.f_code)
        for value in frame.f_locals.values():
            self.add(value)


# Types ``mark`` does not pass to gc.get_referents as they are.
_SPECIAL = frozenset({FrameType, Timer, G, greenlet})
