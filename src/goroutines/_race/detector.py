"""The race detector's core: happens-before, shadow state, reports.

Go's race detector (ThreadSanitizer) reports two accesses to one memory
location, at least one a write, from two goroutines, when neither happens
before the other. This module does the same for Python locations, with the
same algorithm family: vector clocks, and FastTrack's epochs for the last
write.

Actors: every goroutine and every plain thread that touches shared state or
a primitive has an ``Actor``: an id (``tid``), its epoch (``time``) and a
vector clock of what it has seen of the others (``clock``, a ``Clock``:
tid -> time, whose base the children of one creator share). A goroutine's
actor lives in its G (``G.race``, set by the ``go`` hook), a plain
thread's in ``_threads``, keyed by its ``threading.Thread``; a worker's
scheduler (timer callbacks) has one too.

Happens-before: a *sync object* (a channel's slot, a mutex, a WaitGroup, an
atomic, ...) has a clock in ``_syncs``. ``release`` joins the actor's clock
into it and starts the actor's next epoch; ``acquire`` joins the sync's
clock into the actor's. The primitives call these at the points Go's
runtime calls its race annotations (``hooks``); ``go`` copies the parent's
clock into the child's. Some edges are made on behalf of a waiter that is
parked (``sync_with``, ``acquire_for``): its clock is changed while it does
not run, under ``_lock``.

Silent actors: an actor's time enters clocks (``Clock.see``: a release, a
rendezvous, ``go``) only once it has made a recorded access. Before that, no
clock needs it: a clock's entry for ``tid`` is only ever compared with the
epochs of ``tid``'s recorded accesses, and an entry below the first of them
answers as 0 does. So goroutines that only pass values on (the prime sieve's
filters) keep the clocks small, and a channel operation costs the same
however many of them there are; once one touches shared state, its time
travels as Go's does.

Shadow state: each location (container, key) has a ``_Cell``: the last write
(actor, epoch, stack) and the reads since it (actor -> epoch, stack). An
access races with a recorded one of another actor that it does not happen
after: ``clock[tid] < epoch``. FastTrack's same-epoch case comes first, in
two steps, without the lock. The sinks (``_seen``) compare the cell's marks
with the actor's epoch token: the cell's last recorded change was that
actor's write in this epoch (then any repeat adds nothing), or its read (then
a repeated read adds nothing); any other actor's recorded access replaces
the marks, and a new epoch has a new token. Past that, ``access`` looks at
the cell itself (``_same_epoch``). Either way, an access that adds nothing
returns before any stack is taken. Locations are keyed by ``id(container)``; so
that a dead container's history never meets a new object at the same
address, a container that takes weak references is watched by one
(``_track``: its death queues its id in ``_dead``, dropped at the next
access, before any lookup), and one that does not (a dict, a list) is held
strongly, in a bounded FIFO (``_STRONG_MAX``): the oldest is forgotten, its
history dropped. Forgetting only ever hides a race, never invents one.

Reports: Go's format on stderr, once per pair of code locations
(``_reported``); ``count`` says how many were printed in this process.

Invariant: ``_lock`` guards every change to the tables here and to every
actor's clock (the fast path only reads); it is never held while user code
runs (weakref callbacks only append to ``_dead``).
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections import deque
from types import CodeType, FrameType, ModuleType
from typing import Any, TextIO

from .. import _compiled
from .._runtime.codekind import OURS, STDLIB, kind
from .._runtime.g import DEAD
from .._runtime.preempt import _EXECUTE
from .._runtime.threads import tls

# Kinds of location.
ATTR, ITEM, GLOBAL, CELL = 0, 1, 2, 3

_STRONG_MAX = 1 << 16  # containers without weak references whose history is kept
_MAX_DEPTH = 16  # frames kept per access
_UNHASHABLE = object()  # the key of every access with an unhashable key (a slice)

Stack = tuple[tuple[CodeType, int], ...]


class Clock:
    """A vector clock, tid -> time: a ``base`` that may be shared with other
    clocks and is never changed, under an ``own`` overlay that only this
    clock changes (an entry there is never below the base's). Copies share
    the base, so the clock a thousand goroutines inherit from their creator
    is one dict, and joining two clocks with the same base looks at their
    overlays only. ``freeze`` folds the overlay into a new base: ``go`` does
    it to the creator's clock, whose base its children then share. A sync
    object's clock is never frozen: it keeps the base of the goroutines that
    release into it, most often the children of one creator."""

    __slots__ = ("base", "own")

    def __init__(self, base: dict[int, int], own: dict[int, int]) -> None:
        self.base = base
        self.own = own

    def get(self, tid: int) -> int:
        time = self.own.get(tid)
        return self.base.get(tid, 0) if time is None else time

    def see(self, actor: Actor) -> None:
        """Raise ``actor``'s entry to its current time, unless it has never
        made a recorded access (see "Silent actors" in the module docstring)."""
        if actor.recorded and self.get(actor.tid) < actor.time:
            self.own[actor.tid] = actor.time

    def join(self, other: Clock) -> None:
        own, base = self.own, self.base
        if other.base is not base:
            _raise_all(own, base, other.base)
        _raise_all(own, base, other.own)

    def freeze(self) -> dict[int, int]:
        """Fold the overlay into a new base; return the base (to share)."""
        if self.own:
            self.base = {**self.base, **self.own}
            self.own = {}
        return self.base

    def copy(self) -> Clock:
        return Clock(self.base, dict(self.own))


def _raise_all_python(own: dict[int, int], base: dict[int, int], part: dict[int, int], /) -> None:
    """Raise a clock (``own`` over ``base``) to the entries of ``part``: a
    join's work, O(len(part)), and most of a channel operation's cost when
    many goroutines have made recorded accesses (compiled: ``_raise_all``)."""
    for tid, time in part.items():
        mine = own.get(tid)
        if mine is None:
            mine = base.get(tid, 0)
        if mine < time:
            own[tid] = time


# The compiled parts (``_sink.c``: this ``_raise_all`` and the sinks, see
# ``sink``), unless the extension was not built or GOROUTINES_PURE is
# set to a non-empty value; the Python functions here are the reference.
PURE_PYTHON = _compiled.PURE
try:
    if PURE_PYTHON:
        raise ImportError("GOROUTINES_PURE is set")
    from ._sink import raise_all as _raise_all
except ImportError:
    COMPILED = False
    _raise_all = _raise_all_python
else:
    COMPILED = True


class Actor:
    """A goroutine's or plain thread's race state (see the module docstring):
    its ``tid``, its current epoch ``time``, and what it has seen of the
    others (``clock``)."""

    __slots__ = (
        "callers", "clock", "created", "g", "label", "recorded", "seen", "thread", "tid",
        "time", "token",
    )  # fmt: skip

    def __init__(self, tid: int, clock: Clock, label: str, created: Stack | None) -> None:
        self.tid = tid
        self.time = 1
        self.token = object()  # this epoch's, for the cells' marks
        self.recorded = False  # whether an access of its was ever recorded in a cell
        self.clock = clock
        # The stack of the frame that last accessed shared state, but that
        # frame's own line (``seen``: its id and its caller's, ``callers``):
        # a loop's accesses share it. Ids, not the frames: a frame kept here
        # would keep its locals alive.
        self.seen = (0, 0)
        self.callers: Stack = ()
        self.label = label
        self.created = created
        self.g: Any = None
        self.thread: threading.Thread | None = None

    def tick(self) -> None:
        """Start the next epoch (the caller holds the detector's lock)."""
        self.time += 1
        self.token = object()

    def state(self) -> str:
        if self.g is not None:
            return "finished" if self.g.state == DEAD else "running"
        thread = self.thread
        return "running" if thread is not None and thread.is_alive() else "finished"


class _Cell:
    """A location's shadow state: the last write and the reads since, and the
    marks that the sinks' fast path compares with the accessing actor's epoch
    ``token`` (a read, or a write, by that actor in that epoch adds nothing)."""

    __slots__ = ("fast_read", "fast_write", "reads", "write")

    def __init__(self) -> None:
        self.write: tuple[Actor, int, Stack] | None = None
        self.reads: dict[int, tuple[Actor, int, Stack]] | None = None
        self.fast_read: object = None
        self.fast_write: object = None


def stack_of(frame: FrameType | None) -> Stack:
    """The user frames from ``frame`` outwards, innermost first, down to the
    goroutine's function: none of this package's or the standard library's."""
    frames: list[tuple[CodeType, int]] = []
    while frame is not None and len(frames) < _MAX_DEPTH:
        code = frame.f_code
        if code is _EXECUTE:
            break
        if kind(code.co_filename) not in (OURS, STDLIB):
            frames.append((code, frame.f_lineno))
        frame = frame.f_back
    return tuple(frames)


class Detector:
    """One race-detecting session (``run(race=True)``): see the module docstring."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._lock = threading.Lock()
        self._out = out
        self._next_tid = 0
        self._threads: dict[threading.Thread, Actor] = {}
        self._workers: dict[Any, Actor] = {}
        self._syncs: dict[Any, Clock] = {}
        self._cells: dict[int, dict[Any, _Cell]] = {}  # items and globals, by id(container)
        self._attrs: dict[int, dict[Any, _Cell]] = {}  # attributes (obj.x is not obj["x"])
        self._anchors: dict[int, Any] = {}
        self._strong: deque[int] = deque()
        self._dead: deque[int] = deque()  # ids of tracked containers that died
        self._reported: set[frozenset[tuple[CodeType | None, int]]] = set()
        self._chans: dict[Any, list[int]] = {}  # channel -> [sendx, recvx]
        self.count = 0  # races reported by this session

    # ---- actors --------------------------------------------------------------

    def _new_actor(self, clock: Clock, label: str, created: Stack | None) -> Actor:
        with self._lock:
            tid = self._next_tid
            self._next_tid += 1
        return Actor(tid, clock, label, created)

    def actor(self) -> Actor:
        """The calling goroutine's or thread's actor."""
        worker = getattr(tls, "worker", None)
        if worker is not None:
            g = worker.current
            if g is not None:
                try:
                    return g.race  # type: ignore[no-any-return]
                except AttributeError:
                    return self._adopt(g)
            actor = self._workers.get(worker)
            if actor is None:
                actor = self._workers[worker] = self._new_actor(Clock({}, {}), "scheduler", None)
            return actor
        thread = threading.current_thread()
        return self._threads.get(thread) or self._thread_actor(thread)

    def _thread_actor(self, thread: threading.Thread) -> Actor:
        """A plain thread's new actor: it starts after its ``start()`` (``_threads``)."""
        actor = self._new_actor(Clock({}, {}), f"thread {thread.name!r}", None)
        actor.thread = thread
        with self._lock:
            started = self._syncs.get(("thread start", thread))
            if started is not None:
                actor.clock.join(started)
        self._threads[thread] = actor
        return actor

    def _adopt(self, g: Any) -> Actor:
        """A goroutine created before the detector came on: main, whose
        actor carries on the history of the thread that called ``run``."""
        if g.id == 1:
            thread = threading.current_thread()
            parent = self._threads.get(thread)
            clock = Clock({}, {})
            if parent is not None:
                with self._lock:
                    clock = parent.clock.copy()
                    clock.see(parent)
            actor = self._new_actor(clock, "main goroutine", None)
        else:
            actor = self._new_actor(Clock({}, {}), f"goroutine {g.id}", None)
        actor.g = g
        g.race = actor
        return actor

    # ---- happens-before --------------------------------------------------------

    def go(self, g: Any) -> None:
        """``go``: the new goroutine ``g`` starts with its creator's clock."""
        parent = self.actor()
        with self._lock:
            clock = Clock(parent.clock.freeze(), {})
            clock.see(parent)
            parent.tick()
        child = self._new_actor(clock, f"goroutine {g.id}", stack_of(sys._getframe(1)))
        child.g = g
        g.race = child

    def acquire(self, sync: Any) -> None:
        actor = self.actor()
        with self._lock:
            clock = self._syncs.get(sync)
            if clock is not None:
                actor.clock.join(clock)

    def release(self, sync: Any) -> None:
        actor = self.actor()
        with self._lock:
            self._release_locked(actor, sync)

    def release_acquire(self, sync: Any) -> None:
        """A synchronising access both ways (an atomic, a channel's slot)."""
        actor = self.actor()
        with self._lock:
            self._release_acquire_locked(actor, sync)

    def _release_acquire_locked(self, actor: Actor, sync: Any) -> None:
        clock = self._syncs.get(sync)
        if clock is not None:
            actor.clock.join(clock)
        self._release_locked(actor, sync)

    def _release_locked(self, actor: Actor, sync: Any) -> None:
        clock = self._syncs.get(sync)
        if clock is None:
            clock = self._syncs[sync] = actor.clock.copy()
        else:
            clock.join(actor.clock)
        clock.see(actor)
        actor.tick()

    def _owner(self, waiter: Any) -> Actor:
        """The actor of a parked waiter record: a G, a select's case of one,
        or a plain thread's ``ThreadWait``."""
        owner = getattr(waiter, "parker", waiter)  # a select's case -> its G or ThreadWait
        parker = getattr(owner, "parker", None)  # a ThreadWait -> its thread's parker
        if parker is not None:
            thread = parker.thread
            return self._threads.get(thread) or self._thread_actor(thread)
        try:
            return owner.race  # type: ignore[no-any-return]
        except AttributeError:
            return self._adopt(owner)

    def sync_with(self, waiter: Any) -> None:
        """An unbuffered channel's rendezvous with a parked waiter: each side
        happens before the other completes (Go's ``racesync``)."""
        me = self.actor()
        other = self._owner(waiter)
        with self._lock:
            mine = me.clock.copy()
            me.clock.join(other.clock)
            me.clock.see(other)
            other.clock.join(mine)
            other.clock.see(me)
            me.tick()
            other.tick()

    def acquire_for(self, waiter: Any, sync: Any) -> None:
        """``acquire(sync)`` on behalf of a parked waiter (a close wakes it)."""
        other = self._owner(waiter)
        with self._lock:
            clock = self._syncs.get(sync)
            if clock is not None:
                other.clock.join(clock)

    def returned(self, g: Any) -> None:
        """``run`` returns: its main goroutine ``g`` has ended, and what it did
        happens before what the thread that called ``run`` does next."""
        me = self.actor()
        other = self._owner(g)
        with self._lock:
            me.clock.join(other.clock)
            me.clock.see(other)

    # ---- channels (called under the channel's lock) --------------------------------

    def chan_buffer(self, chan: Any, receiving: bool) -> None:
        """A value goes into (sent) or out of (received) a buffered channel's
        buffer: the slot it uses syncs both ways, as each slot of a Go
        channel's ring does (the k-th receive happens before the (k+C)-th
        send completes)."""
        actor = self.actor()
        with self._lock:
            indexes = self._chans.setdefault(chan, [0, 0])
            which = 1 if receiving else 0
            slot = (chan, indexes[which] % chan._cap)  # a timer's channel has one, though cap is 0
            indexes[which] += 1
            self._release_acquire_locked(actor, slot)

    def chan_handoff(self, chan: Any, waiter: Any) -> None:
        """A value passes between the caller and a parked waiter without
        resting in the buffer (or, on a full buffer, a receiver takes the
        head and a waiting sender's value takes the tail)."""
        if not chan._cap:
            self.sync_with(waiter)
            return
        me = self.actor()
        other = self._owner(waiter)
        with self._lock:
            indexes = self._chans.setdefault(chan, [0, 0])
            slot = (chan, indexes[1] % chan._cap)
            indexes[1] += 1
            indexes[0] += 1
            self._release_acquire_locked(me, slot)
            self._release_acquire_locked(other, slot)

    # ---- accesses ------------------------------------------------------------------

    def access(self, container: Any, key: Any, kind: int, write: bool, frame: FrameType) -> None:
        """Record an access to ``container``'s location ``key``; report a race.

        FastTrack's fast path comes first, without the lock: an actor that
        accesses a location again in the same epoch, with nothing since that
        a later check needs, changes nothing. (Read without the lock, the
        cell is as some instant left it; the access then happens at that
        instant, before whatever another thread is recording.)"""
        worker = getattr(tls, "worker", None)
        g = worker.current if worker is not None else None
        actor = g.race if g is not None and hasattr(g, "race") else self.actor()
        table = self._attrs if kind == ATTR else self._cells
        cells = table.get(id(container)) if not self._dead else None
        if cells is not None:
            try:
                cell = cells.get(key)
            except TypeError:
                cell = None
            if cell is not None and _same_epoch(cell, actor, write):
                return
        with self._lock:
            if self._dead:
                self._drop_dead()
            ident = id(container)
            cells = table.get(ident)
            if cells is None:
                cells = self._track(container, ident, table)
            try:
                cell = cells.get(key)
            except TypeError:
                key = _UNHASHABLE
                cell = cells.get(key)
            if cell is None:
                cell = cells[key] = _Cell()
            if _same_epoch(cell, actor, write):
                return
            clock = actor.clock
            now = actor.time
            last = cell.write
            reads = cell.reads
            seen = (id(frame), id(frame.f_back))
            if seen != actor.seen:
                actor.seen = seen
                actor.callers = stack_of(frame.f_back)
            stack = ((frame.f_code, frame.f_lineno), *actor.callers)
            if last is not None and last[0] is not actor and clock.get(last[0].tid) < last[1]:
                self._report(container, key, kind, write, actor, stack, last, prior_write=True)
            actor.recorded = True
            if write:
                if reads:
                    for prior in reads.values():
                        if prior[0] is not actor and clock.get(prior[0].tid) < prior[1]:
                            self._report(
                                container, key, kind, write, actor, stack, prior, prior_write=False
                            )
                cell.write = (actor, now, stack)
                cell.reads = None
                cell.fast_read = cell.fast_write = actor.token
            else:
                if cell.reads is None:
                    cell.reads = {}
                cell.reads[actor.tid] = (actor, now, stack)
                cell.fast_read, cell.fast_write = actor.token, None

    def _track(
        self, container: Any, ident: int, table: dict[int, dict[Any, _Cell]]
    ) -> dict[Any, _Cell]:
        dead = self._dead

        def died(_: object) -> None:
            dead.append(ident)  # only this: it may run anywhere, even under _lock

        try:
            self._anchors[ident] = weakref.ref(container, died)
        except TypeError:  # no weak references: hold it, for a while
            self._anchors[ident] = container
            self._strong.append(ident)
            if len(self._strong) > _STRONG_MAX:
                self._forget(self._strong.popleft())
        cells: dict[Any, _Cell] = {}
        table[ident] = cells
        return cells

    def _drop_dead(self) -> None:
        dead = self._dead
        while dead:
            self._forget(dead.popleft())

    def _forget(self, ident: int) -> None:
        self._cells.pop(ident, None)
        self._attrs.pop(ident, None)
        self._anchors.pop(ident, None)

    # ---- reports -------------------------------------------------------------------

    def _report(
        self,
        container: Any,
        key: Any,
        kind: int,
        write: bool,
        actor: Actor,
        stack: Stack,
        prior: tuple[Actor, int, Stack],
        *,
        prior_write: bool,
    ) -> None:
        """Caller holds ``_lock``: print a race, once per pair of code locations."""
        other, _, other_stack = prior
        pair = frozenset((_innermost(stack), _innermost(other_stack)))
        if pair in self._reported:
            return
        self._reported.add(pair)
        self.count += 1
        what = describe(container, key, kind)
        lines = ["==================", "WARNING: DATA RACE"]
        lines.append(f"{'Write' if write else 'Read'} at {what} by {actor.label}:")
        lines += _format_stack(stack)
        lines.append("")
        lines.append(f"Previous {'write' if prior_write else 'read'} at {what} by {other.label}:")
        lines += _format_stack(other_stack)
        for who in (actor, other):
            if who.created is not None:
                lines.append("")
                lines.append(f"{who.label.capitalize()} ({who.state()}) created at:")
                lines += _format_stack(who.created)
        lines.append("==================")
        out = self._out if self._out is not None else sys.stderr
        print("\n".join(lines), file=out, flush=True)


def _same_epoch(cell: _Cell, actor: Actor, write: bool) -> bool:
    """Whether ``actor``'s access to ``cell`` now adds nothing (FastTrack's
    "same epoch" cases): it wrote the location in this epoch and nobody has
    read it since (a write, or a read of its own write), or it read it in
    this epoch and nobody has written it since (a read: a write would have
    dropped the reads)."""
    last = cell.write
    reads = cell.reads
    now = actor.time
    if last is not None and last[0] is actor and last[1] == now and reads is None:
        return True
    if write or reads is None:
        return False
    mine = reads.get(actor.tid)
    return mine is not None and mine[1] == now


def _innermost(stack: Stack) -> tuple[CodeType | None, int]:
    return stack[0] if stack else (None, 0)


def _format_stack(stack: Stack) -> list[str]:
    lines: list[str] = []
    for code, line in stack:
        lines.append(f"  {code.co_qualname}()")
        lines.append(f"      {code.co_filename}:{line}")
    return lines


def describe(container: Any, key: Any, kind: int) -> str:
    """A location in Python's terms, for a report."""
    if kind == GLOBAL:
        return f"global {key!r} of module {container.get('__name__', '?')}"
    if kind == CELL:
        return f"variable {key!r} of {container.function}() at {id(container):#x}"
    if key is _UNHASHABLE:
        key = "(a slice)"
    if kind == ATTR:
        return f"attribute {key!r} of {type(container).__name__} object at {id(container):#x}"
    shown = repr(key)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"item {shown} of {type(container).__name__} at {id(container):#x}"


# ---- the functions instrumented code calls (``__goroutines_race__``) ---------------

active: Detector | None = None  # the session's detector, while one is on
# What the compiled sinks (``_sink.c``) read of it, in one object: the detector,
# its ``_attrs`` and ``_cells`` tables and its ``_dead`` queue; None while none is on.
_sink_state: (
    tuple[Detector, dict[int, dict[Any, _Cell]], dict[int, dict[Any, _Cell]], deque[int]] | None
) = None


def activate(detector: Detector | None) -> None:
    """Make ``detector`` the session's (None: end it)."""
    global active, _sink_state
    active = detector
    _sink_state = (
        None if detector is None else (detector, detector._attrs, detector._cells, detector._dead)
    )


def _seen(container: Any, key: Any, kind: int, write: bool) -> None:
    """What every sink does: an access by its caller's caller (the user's
    code) to ``container``'s location ``key``. The fast path comes first,
    before any frame is looked at: by the marks of the location's cell, the
    calling goroutine's access in its current epoch adds nothing. Anything
    missing (no cell yet, a plain thread, a goroutine without an actor, an
    unhashable key), or a dead container not yet dropped, sends the access
    to ``Detector.access``."""
    detector = active
    if detector is None:
        return
    try:
        cell = (detector._attrs if kind == ATTR else detector._cells)[id(container)][key]
        token = tls.worker.current.race.token
    except (KeyError, AttributeError, TypeError):
        pass
    else:
        if (cell.fast_write if write else cell.fast_read) is token and not detector._dead:
            return
    detector.access(container, key, kind, write, sys._getframe(2))


def read_attr(obj: Any, name: str, /) -> Any:
    if type(obj) is ModuleType:
        _seen(obj.__dict__, name, GLOBAL, False)
    else:
        _seen(obj, name, ATTR, False)
    return obj


def write_attr(obj: Any, name: str, /) -> Any:
    if type(obj) is ModuleType:
        _seen(obj.__dict__, name, GLOBAL, True)
    else:
        _seen(obj, name, ATTR, True)
    return obj


def read_item(obj: Any, key: Any, /) -> Any:
    _seen(obj, key, ITEM, False)
    return obj


def write_item(obj: Any, key: Any, /) -> Any:
    _seen(obj, key, ITEM, True)
    return obj


def read_global(name: str, /) -> None:
    _seen(sys._getframe(1).f_globals, name, GLOBAL, False)


def write_global(name: str, /) -> None:
    _seen(sys._getframe(1).f_globals, name, GLOBAL, True)


class Cells:
    """The token a call's shared cells are reported under (``cells``): the
    variables of one call of ``function`` that its nested functions rebind."""

    __slots__ = ("__weakref__", "function")

    def __init__(self, function: str) -> None:
        self.function = function


def cells() -> Cells:
    return Cells(sys._getframe(1).f_code.co_qualname)


def read_cell(token: Cells, name: str, /) -> None:
    _seen(token, name, CELL, False)


def write_cell(token: Cells, name: str, /) -> None:
    _seen(token, name, CELL, True)
