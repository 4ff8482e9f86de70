"""Preemption: a goroutine that computes for too long yields at a safe point.

Go preempts a goroutine that has run for more than 10 ms while others wait
(asynchronous preemption, Go 1.14). Here ``sysmon`` notices such an overrun
and calls ``request``; this module makes the goroutine yield at its next
*safe point*, exactly as if it had called ``runtime.gosched()`` there: it
goes to the back of its worker's run queue, runnable, and carries on later.

Vocabulary:
  request     ``Worker.preempt`` names the goroutine the worker should
              preempt; ``request`` sets it and arms the mechanism below.
  safe point  a point in the goroutine's own Python code where switching away
              is as safe as a ``gosched()`` call written there (see below).
  mechanism   how code runs on the goroutine's thread at its next safe point.

Mechanisms (``MECHANISM``):
  "monitoring" (CPython 3.12+): a ``sys.monitoring`` tool whose JUMP and
      PY_START events (every loop iteration's backward jump, every call of a
      Python function) are turned on only while some worker has a request, so
      that when no goroutine overruns nothing is instrumented and nothing is
      paid. The callback cannot switch greenlets itself: CPython runs it with
      the thread's ``tracing`` counter raised, which greenlet does not save per
      greenlet, so the goroutine switched to would run with every monitoring
      and tracing event (ours, coverage's, a debugger's) silenced. Instead the
      callback returns a ``_Yield`` object, and CPython drops it right after it
      has lowered the counter again: ``_Yield.__del__`` switches away there.
  "signal" (CPython 3.11, which has no ``sys.monitoring``): SIGURG, as Go uses,
      with a Python handler. Python runs signal handlers only on the main
      thread, so only the worker on the main thread (the one of a ``run``
      called there) is preempted; goroutines of other workers are not. The
      handler runs where the interpreter checks for signals: at a backward
      jump or a function's start (a safe point), after a call, or inside a
      C call that waits (``time.sleep``, a read: the call is interrupted and
      retried, PEP 475). Only the first is a safe point; elsewhere the handler
      returns, and sysmon sends the signal again a millisecond later (as Go's
      sysmon retries a preemption that found no safe point).
  None: no preemption (no ``sys.monitoring`` tool id free, or no SIGURG).
``GODEBUG=asyncpreemptoff=1`` (Go's switch) turns it off for the runtimes
started while it is set (``off_by_godebug``).

Safe points: a backward jump or a function's start (RESUME on 3.11) in code
that is neither this package's nor the standard library's, with no frame of
either under it on the goroutine's stack but this package's few frames that
only call the user's function (``PASS_THROUGH``: ``WaitGroup.go``'s,
``goroutines run``'s, ...). Never inside C code (a long regex, a numpy call):
there is no Python safe point there. Not in or under this package's code
otherwise, which holds the runtime's locks (a channel's, a worker's) at
places, and may run user code meanwhile without meaning to (a finalizer the
garbage collector calls). Not under the standard library either: its locks
(``logging``'s, ``queue``'s, the import lock) are thread locks, and a
goroutine preempted while holding one would leave the next goroutine of its
worker that asks for it blocking the worker's thread forever. The refusal
leaves the request pending; the next safe point takes it.

Invariants:
  - ``Worker.preempt`` is set by ``request`` (sysmon's thread) and cleared by
    ``_clear`` on the worker's own thread, or by ``drop_stale`` (sysmon, once
    the goroutine it names has stopped running) or ``withdraw`` (the run has
    ended, or the worker has retired), all under ``_lock``, which also
    guards ``_pending`` (the workers with a request), ``_armed`` and
    ``_switch_interval``: the mechanism is armed (``_arm_locked``) exactly
    while ``_pending`` or ``_dying`` is not empty.
  - Only the goroutine named by the request is switched away, and only from
    its own greenlet (``getcurrent() is g.greenlet``); a stale request (the
    goroutine has switched away by itself since) is dropped.
  - A goroutine switched away in ``_Yield.__del__`` resumes there. If it
    resumes with ``GreenletExit`` (an interrupted run unwinds its goroutines:
    see ``unwind``), ``__del__`` cannot pass the exception on; it puts the
    greenlet in ``_dying`` instead, which keeps the events on, and the next
    event of that greenlet in user code raises ``GreenletExit`` there (one
    that unwinds otherwise, parking or returning first, is forgotten when
    its run ends: ``withdraw``). (Early
    3.12 and 3.13 releases, 3.12.1 and 3.13.0 among them, skip the
    ``finally`` and ``except`` blocks of the frame whose JUMP event raises;
    its callers' run, and later releases run all of them.)
"""

from __future__ import annotations

import dis
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from greenlet import GreenletExit, getcurrent

from . import codekind
from .g import RUNNABLE
from .threads import tls
from .worker import Worker

if TYPE_CHECKING:
    from types import CodeType, FrameType

    from greenlet import greenlet

    from .g import G

_lock = threading.Lock()
_pending: set[Worker] = set()
_armed = False
_switch_interval = 0.0  # "signal": the GIL's switch interval to restore when disarmed
_dying: dict[greenlet, Worker] = {}  # see the last invariant


def off_by_godebug() -> bool:
    """Go's ``GODEBUG=asyncpreemptoff=1`` turns preemption off (read when a
    runtime starts)."""
    settings = os.environ.get("GODEBUG", "").split(",")
    return "asyncpreemptoff=1" in (item.strip() for item in settings)


# ---- what code may be preempted ---------------------------------------------------

# An installed library's code may be preempted as the user's own may.
_PREEMPTIBLE = (codekind.USER, codekind.SITE)
_kind = codekind.kind


_EXECUTE = Worker._execute.__code__  # the bottom frame of every goroutine's stack

# The frames of this package that may lie under user code on a goroutine's
# stack while holding no lock: each only calls the user's function, as
# (file, qualified name). Any other frame of the package there stops
# preemption: it may hold a lock while something it does runs user code (a
# finalizer that the garbage collector calls, a key's ``__eq__``).
PASS_THROUGH = frozenset(
    {
        ("_runtime/sched.py", "run"),  # a program's run(main) under ``goroutines run``
        ("_cli.py", "_main_goroutine.<locals>.body"),  # the program's top level
        ("sync.py", "WaitGroup.go.<locals>.counted"),
        ("sync.py", "Once.do"),
        ("sync.py", "once_value.<locals>.run_f"),
        ("sync.py", "once_value.<locals>.call"),
        ("sync.py", "once_func.<locals>.call"),
        ("errgroup.py", "Group._start.<locals>.member"),
    }
)
_pass_through_codes: dict[CodeType, bool] = {}  # cache: a code object -> in PASS_THROUGH


def _passes_through(code: CodeType) -> bool:
    passes = _pass_through_codes.get(code)
    if passes is None:
        where = os.path.relpath(os.path.realpath(code.co_filename), codekind.PACKAGE_DIR)
        where = where.replace(os.sep, "/")
        passes = _pass_through_codes[code] = (where, code.co_qualname) in PASS_THROUGH
    return passes


def preemptible_stack(frame: FrameType) -> bool:
    """Whether the goroutine whose innermost frame is ``frame`` may be switched
    away there (see the module docstring): ``frame`` is user code, and between
    it and the goroutine's bottom lies no frame of the standard library and
    none of this package but those in ``PASS_THROUGH``."""
    if _kind(frame.f_code.co_filename) not in _PREEMPTIBLE:
        return False
    below = frame.f_back
    while below is not None:
        code = below.f_code
        if code is _EXECUTE:
            return True
        kind = _kind(code.co_filename)
        if kind == codekind.STDLIB or (kind == codekind.OURS and not _passes_through(code)):
            return False
        below = below.f_back
    return True


# ---- requests -----------------------------------------------------------------------


def request(worker: Worker, g: G) -> None:
    """Ask ``worker`` (from sysmon's thread) to preempt ``g``, which has run
    too long while others wait, at its next safe point. Idempotent: sysmon
    repeats it until the request is taken."""
    with _lock:
        worker.preempt = g
        _pending.add(worker)
        _arm_locked()
    if MECHANISM == "signal":
        signal.pthread_kill(worker.thread_id, signal.SIGURG)


def withdraw(worker: Worker) -> None:
    """Forget ``worker``'s request and its greenlets in ``_dying``: its
    runtime has ended, or it has retired, and sysmon no longer looks at it
    (a greenlet that unwound by parking or returning before its next event
    would otherwise keep the events on for good)."""
    with _lock:
        worker.preempt = None
        _pending.discard(worker)
        for gl in [gl for gl, owner in _dying.items() if owner is worker]:
            del _dying[gl]
        _disarm_locked()


def drop_stale(worker: Worker, g: G | None) -> None:
    """Drop ``worker``'s request if it still names ``g``, which sysmon has
    seen stop running (from sysmon's thread: see ``sysmon``)."""
    with _lock:
        if worker.preempt is g:
            worker.preempt = None
            _pending.discard(worker)
            _disarm_locked()


def _clear(worker: Worker) -> None:
    """Drop ``worker``'s request (on its own thread, or once it has stopped)."""
    with _lock:
        worker.preempt = None
        _pending.discard(worker)
        _disarm_locked()


def _arm_locked() -> None:
    """Caller holds ``_lock``: make the next safe points count. "monitoring":
    turn the events on. "signal": shorten the GIL's switch interval, so that
    sysmon, which needs the GIL to send each signal, gets it in a tenth of the
    time (a spinning goroutine holds the GIL until the interval is over)."""
    global _armed, _switch_interval
    if _armed:
        return
    if MECHANISM == "monitoring":
        _monitoring.set_events(_TOOL, _EVENTS)
    else:
        _switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(_switch_interval / 10)
    _armed = True


def _disarm_locked() -> None:
    """Caller holds ``_lock``: undo ``_arm_locked`` once no request, and no
    greenlet to unwind, is left."""
    global _armed
    if not _armed or _pending or _dying:
        return
    if MECHANISM == "monitoring":
        _monitoring.set_events(_TOOL, 0)
    else:
        sys.setswitchinterval(_switch_interval)
    _armed = False


def pending() -> bool:
    """Whether some request has not been taken yet (sysmon then looks again
    sooner)."""
    return bool(_pending)


def can_preempt(worker: Worker) -> bool:
    """Whether a request to ``worker`` can take effect (see "signal")."""
    if MECHANISM == "signal":
        return worker.thread_id == _signal_thread
    return MECHANISM is not None


def _target(worker: Worker) -> G | None:
    """The goroutine to switch away now, on ``worker``'s thread: the one the
    request names, if it runs in its own greenlet here; a stale request is
    dropped."""
    g = worker.preempt
    if g is None:
        return None
    if worker.current is not g:
        _clear(worker)  # it switched away by itself since
        return None
    return g if getcurrent() is g.greenlet else None


def _switch_away(worker: Worker, g: G) -> None:
    g.state = RUNNABLE
    worker.yield_now(g)


# ---- mechanism "monitoring" (3.12+) ---------------------------------------------------

_monitoring: Any = getattr(sys, "monitoring", None)  # 3.12+ (mypy checks against 3.11)
_TOOL = -1
_EVENTS = 0


class _Yield:
    """Returned by the monitoring callback; dropped by CPython once the event
    is over (see "monitoring" in the module docstring), when it switches away."""

    __slots__ = ()

    def __del__(self) -> None:
        worker: Worker = tls.worker
        g = worker.current
        assert g is not None
        try:
            _switch_away(worker, g)
        except GreenletExit:
            with _lock:
                _dying[getcurrent()] = worker
                _arm_locked()


def _on_event(code: CodeType, *args: Any) -> Any:
    """The JUMP and PY_START callback: any thread, any code, while events are on."""
    if _kind(code.co_filename) not in _PREEMPTIBLE:
        return _monitoring.DISABLE  # never a safe point: stop this location's events
    if _dying and _unwinds_here():
        raise GreenletExit
    worker = getattr(tls, "worker", None)
    if worker is None or worker.preempt is None:
        return None
    g = _target(worker)
    if g is None or not preemptible_stack(sys._getframe(1)):
        return None
    _clear(worker)
    return _Yield()


def _unwinds_here() -> bool:
    """Whether the calling greenlet is in ``_dying``; if so it leaves it."""
    gl = getcurrent()
    with _lock:
        if _dying.pop(gl, None) is None:
            return False
        _disarm_locked()
    return True


def _claim_tool() -> int:
    """A free ``sys.monitoring`` tool id for us, or -1 if none is free."""
    monitoring = _monitoring
    for tool in (4, 3):  # the ids Python leaves unassigned
        try:
            monitoring.use_tool_id(tool, "goroutines")
        except ValueError:
            continue
        events = monitoring.events
        monitoring.register_callback(tool, events.JUMP, _on_event)
        monitoring.register_callback(tool, events.PY_START, _on_event)
        return tool
    return -1


# ---- mechanism "signal" (3.11) -----------------------------------------------------

_SAFE_OPCODES = frozenset(
    dis.opmap[name]
    for name in dis.opmap
    if name in ("RESUME", "JUMP_BACKWARD") or name.startswith("POP_JUMP_BACKWARD_IF_")
)
_signal_thread = 0  # the main thread's ident while ``_on_signal`` is installed


def _at_safe_opcode(frame: FrameType) -> bool:
    """Is ``frame`` at an instruction where the interpreter checks for signals
    in Python code (a backward jump, a function's start), rather than in a call
    that may be inside C code?"""
    code = frame.f_code.co_code
    offset = frame.f_lasti
    while 0 <= offset < len(code) and code[offset] == dis.EXTENDED_ARG:
        offset += 2
    return 0 <= offset < len(code) and code[offset] in _SAFE_OPCODES


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGURG's handler: runs on the main thread at the interpreter's next
    check for signals, in ``frame``."""
    worker = getattr(tls, "worker", None)
    if worker is None or worker.preempt is None or frame is None:
        return
    g = _target(worker)
    if g is None or not _at_safe_opcode(frame) or not preemptible_stack(frame):
        return  # sysmon sends the signal again soon (see ``pending``)
    _clear(worker)
    _switch_away(worker, g)


class SignalHandler:
    """SIGURG's handler for the span of a run on the main thread (3.11)."""

    def __init__(self) -> None:
        self._previous: Any = None

    def __enter__(self) -> None:
        global _signal_thread
        if MECHANISM != "signal" or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGURG) not in (signal.SIG_DFL, None):
            return  # the program's own: leave it alone, and preempt nothing
        self._previous = signal.signal(signal.SIGURG, _on_signal)
        _signal_thread = threading.get_ident()

    def __exit__(self, *exc: object) -> None:
        global _signal_thread
        if self._previous is not None:
            _signal_thread = 0
            signal.signal(signal.SIGURG, self._previous)


# ---- choosing the mechanism ------------------------------------------------------------


def _choose() -> str | None:
    global _TOOL, _EVENTS
    if _monitoring is not None:
        _TOOL = _claim_tool()
        if _TOOL < 0:
            return None
        _EVENTS = _monitoring.events.JUMP | _monitoring.events.PY_START
        return "monitoring"
    return "signal" if hasattr(signal, "SIGURG") and hasattr(signal, "pthread_kill") else None


MECHANISM = _choose()
