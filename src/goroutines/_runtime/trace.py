"""The execution tracer: what ``run(main, trace=path)`` records, and the file it writes.

What it owns:
  - ``Tracer``: one per traced run (``Runtime.tracer``; None when not tracing).
    It holds one ``WorkerTrace`` per worker, a locked list for events that
    plain threads cause (a plain thread that wakes a goroutine), and writes
    the file when the run ends (``write``), whatever way it ends.
  - ``WorkerTrace``: one worker's append-only list of records. ``attach``
    sets it as ``worker.tracer`` and shadows the worker's ``switch_away`` and
    ``yield_now`` with traced versions (instance attributes), so that the
    hottest path, a goroutine parking and switching straight to the next,
    has no test at all when tracing is off; every other hook is one guarded
    line, ``if self.tracer is not None: self.tracer.<event>(...)``.

Who appends where (the invariant that makes recording lock-free):
  - A ``WorkerTrace``'s list is appended to only by its worker's thread: its
    scheduler greenlet and the goroutines pinned to it. An event caused on
    another thread (a worker readying a goroutine of another worker, a plain
    thread closing a fd) is recorded in the *causing* thread's list: the
    ``WorkerTrace`` of the worker running there, else ``Tracer.foreign`` under
    ``Tracer.lock``. So each list is in time order, and no lock is taken on a
    worker's path.
  - A record is ``time.perf_counter_ns(), KIND, ...`` (see ``_LENGTH``),
    stored flat: one ``list.extend`` of a tuple per record, which is atomic
    with or without the GIL, and leaves no tuple behind for the garbage
    collector to visit again and again. Turning records into names, sites and
    JSON is left to ``write``, after the workers have stopped (a worker still
    running a goroutine that never blocks may still append: ``write`` copies
    each list first, and drops a record cut short).
  - The user's line of a block is found by walking up from ``G.park``'s
    caller's caller: ``park`` is called only by this package's primitives.
    Whether a code object belongs to this package is cached per code object.

What is recorded (kinds, and the arguments after the time):
  RUN g           the worker starts or resumes goroutine ``g``
  STOP g          goroutine ``g`` leaves the worker (yields, or the run ends)
  BLOCK g, reason, code, line
                  ``g`` parks with Go's wait reason, and leaves the worker; the
                  code object and line of the first frame outside this package
                  (the user's line), found only when tracing, formatted only
                  when the file is written
  END g           ``g`` returned (or raised), and leaves the worker
  CREATE g, parent, name
  UNBLOCK g, by   ``g`` made ready by goroutine ``by`` (0: the scheduler: a
                  timer, the poller; -1: a plain thread)
  STEAL count, victim
  TIMERS count    timers fired in one pass of the scheduler
  NETPOLL count   goroutines whose fds became ready in one poll

The file: Chrome's trace-event JSON ("JSON Object Format"), because both
Perfetto (ui.perfetto.dev) and chrome://tracing open it with no converter,
and it is plain JSON any script can read (``goroutines trace summarize``
does). Go's own binary format would need Go's tools. Layout: one process,
one thread track per worker (``tid`` = worker index + 1, named by ``M``
metadata events), one ``X`` (complete) event per run slice, named
``goroutine 7 (module.func)``; ``i`` (instant) events for block, unblock,
create, end, steal, timers and netpoll; flow events (``s``/``f``) from a
creation or an unblock to the slice where that goroutine next runs.
Times are microseconds since the run started, as the format wants.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from .dump import describe
from .threads import tls
from .worker import Worker

if TYPE_CHECKING:
    from types import CodeType, FrameType

    from .g import G

_switch_away = Worker.switch_away  # the untraced versions, which the traced ones call
_yield_now = Worker.yield_now
_now = time.perf_counter_ns
_getframe = sys._getframe

RUN, STOP, BLOCK, END, CREATE, UNBLOCK, STEAL, TIMERS, NETPOLL = range(9)
# Each record's length, time and kind included: records are stored flat, one
# list.extend per record, so that recording allocates no object that lives on
# (a list of tuples would make the garbage collector's work grow with the trace).
_LENGTH = {
    RUN: 3,
    STOP: 3,
    BLOCK: 6,
    END: 3,
    CREATE: 5,
    UNBLOCK: 4,
    STEAL: 4,
    TIMERS: 3,
    NETPOLL: 3,
}

# The package's own frames are skipped when looking for the user's line.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_FOREIGN_TID = 1000  # the track of plain threads' events
_PLAIN_THREAD = -1


# code object -> whether it is this package's (cached: blocking is frequent).
_internal: dict[CodeType, bool] = {}


def _site(code: CodeType | None, line: int) -> str:
    return f"{code.co_filename}:{line}" if code is not None else "?"


class WorkerTrace:
    """One worker's records. Every method runs on the worker's thread, except
    ``unblock``, which routes to the calling thread's list."""

    def __init__(self, tracer: Tracer, worker: Worker) -> None:
        self.tracer = tracer
        self.worker = worker
        self.events: list[Any] = []  # flat records, see _LENGTH

    # ---- the traced switch_away / yield_now (see the module docstring) ----

    def switch_away(self) -> Any:
        # One record per switch each way: BLOCK and END also end the run slice.
        # (The hottest code when tracing: _user_frame is inlined.)
        worker = self.worker
        g = worker.current
        extend = self.events.extend
        if g is not None:
            state = g.state
            if state == 2:  # WAITING
                # Called by G.park, called by one of this package's primitives,
                # or by a compiled channel operation (which has no frame): the
                # walk skips the package's frames up to the user's.
                frame: FrameType | None = _getframe(1)
                while frame is not None:
                    code = frame.f_code
                    inside = _internal.get(code)
                    if inside is None:
                        inside = _internal[code] = code.co_filename.startswith(_PACKAGE_DIR)
                    if not inside:
                        extend((_now(), BLOCK, g.id, g.wait_reason, code, frame.f_lineno))
                        break
                    frame = frame.f_back
                else:
                    extend((_now(), BLOCK, g.id, g.wait_reason, None, 0))
            else:
                extend((_now(), END if state == 3 else STOP, g.id))
        result = _switch_away(worker)
        g = worker.current
        if g is not None:  # always, but a run ending mid-switch must not fail here
            extend((_now(), RUN, g.id))
        return result

    def yield_now(self, g: G) -> None:
        self.events.extend((_now(), STOP, g.id))
        worker = self.worker
        _yield_now(worker, g)
        self.run(worker.current)

    # ---- hooks --------------------------------------------------------------

    def run(self, g: G | None) -> None:
        if g is not None:
            self.events.extend((_now(), RUN, g.id))

    def stop(self, g: G) -> None:
        """``g`` ended and its greenlet returns to the scheduler."""
        self.events.extend((_now(), END, g.id))

    def create(self, g: G) -> None:
        self.events.extend((_now(), CREATE, g.id, g.parent_id, describe(g.fn)))

    def unblock(self, g: G) -> None:
        """``g`` was made ready, from any thread."""
        self.tracer.unblock(g)

    def unblock_here(self, g: G) -> None:
        """``g`` was made ready by this worker's current goroutine."""
        current = self.worker.current
        self.events.extend((_now(), UNBLOCK, g.id, current.id if current is not None else 0))

    def steal(self, count: int, victim: Worker) -> None:
        self.events.extend((_now(), STEAL, count, victim.index))

    def timers(self, count: int) -> None:
        if count:
            self.events.extend((_now(), TIMERS, count))

    def netpoll(self, ready: list[G]) -> None:
        if ready:
            now = _now()
            extend = self.events.extend
            extend((now, NETPOLL, len(ready)))
            for g in ready:
                extend((now, UNBLOCK, g.id, 0))


class Tracer:
    """A traced run's recorder. See the module docstring."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.start = _now()
        self.lock = threading.Lock()
        self.foreign: list[Any] = []
        self.workers: list[WorkerTrace] = []

    def attach(self, worker: Worker) -> WorkerTrace:
        """Give ``worker`` its list and its traced switches (before it runs)."""
        trace = WorkerTrace(self, worker)
        with self.lock:
            self.workers.append(trace)
        worker.switch_away = trace.switch_away  # type: ignore[method-assign]
        worker.yield_now = trace.yield_now  # type: ignore[method-assign]
        return trace

    def create_main(self, g: G) -> None:
        """The main goroutine, created by ``run`` on the thread that becomes
        the first worker, before that worker runs: its list is this thread's."""
        self.workers[0].events.extend((_now(), CREATE, g.id, 0, describe(g.fn)))

    def unblock(self, g: G) -> None:
        worker: Worker | None = getattr(tls, "worker", None)
        trace = worker.tracer if worker is not None else None
        if worker is not None and trace is not None and trace.tracer is self:
            current = worker.current
            by = current.id if current is not None else 0
            trace.events.extend((_now(), UNBLOCK, g.id, by))
            return
        with self.lock:
            self.foreign.extend((_now(), UNBLOCK, g.id, _PLAIN_THREAD))

    # ---- writing --------------------------------------------------------------

    def write(self) -> None:
        """Write the file (when the run has ended). The garbage collector is
        paused meanwhile: the million small dicts of a big trace would make it
        run again and again over all of them, for nothing (they hold no cycle)."""
        paused = gc.isenabled()
        gc.disable()
        try:
            self._write()
        finally:
            if paused:
                gc.enable()

    def _write(self) -> None:
        with self.lock:
            flat = [(t.worker.index + 1, list(t.events)) for t in self.workers]
            flat.append((_FOREIGN_TID, list(self.foreign)))
        tracks = [(tid, _records(events)) for tid, events in flat]
        end = max([_now(), *(events[-1][0] for _, events in tracks if events)])
        document = {
            "traceEvents": _Converter(self.start, end).convert(tracks),
            "displayTimeUnit": "ns",
            "otherData": {"producer": "goroutines", "version": 1},
        }
        text = json.dumps(document, separators=(",", ":"))  # dumps: json.dump is pure Python
        with open(self.path, "w", encoding="utf-8") as file:
            file.write(text + "\n")


def _records(flat: list[Any]) -> list[tuple[Any, ...]]:
    """A flat list of records as one tuple per record; a record cut short
    (appended while the file was being written) is dropped."""
    records = []
    i, size = 0, len(flat)
    while i + 1 < size:
        end = i + _LENGTH[flat[i + 1]]
        if end > size:
            break
        records.append(tuple(flat[i:end]))
        i = end
    return records


class _Converter:
    """Records of every track to trace events (see the module docstring)."""

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self.names: dict[int, str] = {}
        self.out: list[dict[str, Any]] = []
        self.pending_flow: dict[int, int] = {}  # goroutine -> flow id to finish at its next run
        self.flow_ids = 0
        # goroutine -> (track, by) of an unblock recorded before its block: the
        # waker, on another worker, completed it between publishing itself as
        # a waiter and switching away, which is when the block is recorded.
        self.early_unblocks: dict[int, tuple[int, int]] = {}

    def us(self, ns: int) -> float:
        return (ns - self.start) / 1000.0

    def convert(self, tracks: list[tuple[int, list[tuple[Any, ...]]]]) -> list[dict[str, Any]]:
        for _, events in tracks:  # names first: a goroutine may be created on another track
            for event in events:
                if event[1] == CREATE:
                    self.names[event[2]] = event[4]
        self.out.append(_meta("process_name", 0, "goroutines run"))
        # Flows end at a later run; walk every record in time order, each on its track.
        merged = sorted(
            ((event, tid) for tid, events in tracks for event in events), key=lambda e: e[0][0]
        )
        running: dict[int, tuple[int, int]] = {}  # tid -> (goroutine, since)
        for event, tid in merged:
            self.record(event, tid, running)
        for tid, (gid, since) in running.items():
            self.slice(tid, gid, since, self.end)
        for tid, events in tracks:
            if tid == _FOREIGN_TID:
                if events:
                    self.out.append(_meta("thread_name", tid, "other threads"))
            else:
                label = "worker 0 (run's thread)" if tid == 1 else f"worker {tid - 1}"
                self.out.append(_meta("thread_name", tid, label))
                self.out.append(_meta("thread_sort_index", tid, tid, key="sort_index"))
        return self.out

    def label(self, gid: int) -> str:
        name = self.names.get(gid)
        return f"goroutine {gid} ({name})" if name else f"goroutine {gid}"

    def record(self, event: tuple[Any, ...], tid: int, running: dict[int, tuple[int, int]]) -> None:
        t, kind = event[0], event[1]
        if kind == RUN:
            gid = event[2]
            previous = running.pop(tid, None)
            if previous is not None:
                self.slice(tid, *previous, t)
            running[tid] = (gid, t)
            flow = self.pending_flow.pop(gid, None)
            if flow is not None:
                self.flow("f", flow, tid, t)
        elif kind in (STOP, BLOCK, END):
            previous = running.pop(tid, None)
            if previous is not None:
                self.slice(tid, *previous, t)
            if kind == BLOCK:
                gid = event[2]
                args = {"goroutine": gid, "reason": event[3], "site": _site(*event[4:6])}
                self.instant(tid, t, f"block: {event[3]}", "block", args)
                early = self.early_unblocks.pop(gid, None)
                if early is not None:  # it was unblocked as it blocked
                    self.unblock(early[0], t, gid, early[1])
            elif kind == END:
                self.instant(tid, t, f"end: goroutine {event[2]}", "end", {"goroutine": event[2]})
        elif kind == CREATE:
            gid, parent = event[2], event[3]
            args = {"goroutine": gid, "parent": parent}
            self.instant(tid, t, f"create: {self.label(gid)}", "create", args)
            if tid in running:  # a flow starts inside a slice: not from the scheduler
                self.start_flow(tid, t, gid)
        elif kind == UNBLOCK:
            gid, by = event[2], event[3]
            if any(running_gid == gid for running_gid, _ in running.values()):
                self.early_unblocks[gid] = (tid, by)  # shown at its block, see __init__
            else:
                self.unblock(tid, t, gid, by)
            if tid in running:  # a flow starts inside a slice: not from the scheduler
                self.start_flow(tid, t, gid)
        elif kind == STEAL:
            args = {"count": event[2], "victim": event[3]}
            self.instant(tid, t, f"steal {event[2]} from worker {event[3]}", "steal", args)
        elif kind == TIMERS:
            self.instant(tid, t, f"timers: {event[2]} fired", "timers", {"count": event[2]})
        elif kind == NETPOLL:
            self.instant(tid, t, f"netpoll: {event[2]} ready", "netpoll", {"count": event[2]})

    def unblock(self, tid: int, t: int, gid: int, by: int) -> None:
        args = {"goroutine": gid, "by": by}
        self.instant(tid, t, f"unblock: goroutine {gid}", "unblock", args)

    def slice(self, tid: int, gid: int, since: int, until: int) -> None:
        self.out.append(
            {
                "ph": "X",
                "name": self.label(gid),
                "cat": "goroutine",
                "ts": self.us(since),
                "dur": (until - since) / 1000.0,
                "pid": 1,
                "tid": tid,
                "args": {"goroutine": gid},
            }
        )

    def instant(self, tid: int, t: int, name: str, cat: str, args: dict[str, Any]) -> None:
        ts = (t - self.start) / 1000.0
        self.out.append(
            {
                "ph": "i",
                "s": "t",
                "name": name,
                "cat": cat,
                "ts": ts,
                "pid": 1,
                "tid": tid,
                "args": args,
            }
        )

    def start_flow(self, tid: int, t: int, gid: int) -> None:
        self.flow_ids += 1
        self.pending_flow[gid] = self.flow_ids
        self.flow("s", self.flow_ids, tid, t)

    def flow(self, phase: str, flow_id: int, tid: int, t: int) -> None:
        ts = (t - self.start) / 1000.0
        event = {
            "ph": phase,
            "id": flow_id,
            "name": "wakeup",
            "cat": "flow",
            "ts": ts,
            "pid": 1,
            "tid": tid,
        }
        if phase == "f":
            event["bp"] = "e"
        self.out.append(event)


def _meta(name: str, tid: int, value: Any, key: str = "name") -> dict[str, Any]:
    return {"ph": "M", "name": name, "pid": 1, "tid": tid, "args": {key: value}}
