"""The runtime: a set of workers running goroutines, and ``run``/``go``.

A ``Runtime`` is one instance of the scheduler: its workers, the global run
queue, the table of live goroutines and the idle bookkeeping the deadlock
detector reads. There are two kinds:

- the *run* runtime, made by ``run(main)``: the calling thread is its first
  worker; it ends when main returns, when an exception escapes a goroutine,
  a timer callback or a scheduler loop (``failed``), or when it deadlocks. At
  most one is active at a time (``_active``).
- the *background* runtime, made the first time ``go`` is called from a plain
  thread: daemon worker threads that live until the process exits. Timers
  created from plain threads live there too.

Deadlock (Go's ``checkdead``): when the last worker of a run runtime goes idle
it checks, under ``lock``, that every live plain thread is blocked in a
goroutines primitive (``threads.any_running``: the runtime's own threads do
not count), no worker has queued goroutines, no timer is pending, no
goroutine waits on a fd, no ``blocking`` call is in flight and the background
runtime is quiet. Then nothing can ever wake a goroutine again; once that has
lasted a short grace period, ``run`` raises ``DeadlockError``. A plain thread
that blocks re-runs the check, and idle workers poll while some plain thread
is still running (a thread's exit cannot be observed otherwise). A false
report kills a correct program, a missed one only hangs it (SIGQUIT shows
where): every doubt keeps the detector quiet.

A run that ends with ``KeyboardInterrupt`` (Ctrl-C) unwinds its goroutines
before ``run`` raises it, instead of abandoning them: see ``unwind``.

Preemption: while a run (or the background runtime) is active, ``sysmon``
watches its workers and has a goroutine that computes too long while others
wait yield at a safe point (``preempt``); a seeded run is never watched.

Locking: ``lock`` guards ``idle``, ``workers``, ``global_queue``, ``done``,
``result``/``error``, ``unwinding`` (read without it by the workers),
``_deadlock_since``, ``blocking_calls`` and the id counter. ``allg`` is a
dict whose single operations are atomic in CPython with or without the GIL.
Lock order: ``Runtime.lock`` before ``Worker.lock`` and before the plain
threads' ``threads._state_lock``; a plain thread runs the deadlock check only
after releasing the latter.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
import threading
import time
import traceback
from collections import deque
from typing import TYPE_CHECKING, Any, TypeVar

from . import hooks, leaks, monitor, preempt, sysmon, threads
from .bubble import Bubble
from .dump import describe, format_goroutines
from .g import DEAD, G
from .seeded import SeededChoices
from .threads import start_runtime_thread, tls
from .trace import Tracer
from .worker import Worker

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import CodeType, FrameType

R = TypeVar("R")

_ID_BATCH = 16

# How often idle workers of a run look again at plain threads that are still
# running, to notice that they exited (seconds).
_POLL_INTERVAL = 0.05
# How long a deadlock must last before it is reported (see _deadlock_confirmed).
_DEADLOCK_GRACE = 0.05
# How long ``run`` waits, when it ends, for its worker threads to finish. They
# are daemon threads, and one still freeing its spare greenlets while the
# interpreter shuts down would crash it; a worker stuck in a goroutine that
# never blocks is not waited for longer than this (see join_worker_threads),
# and after it the others are looked at every _JOIN_POLL.
_JOIN_TIMEOUT = 1.0
_JOIN_POLL = 0.05


# What ``Runtime._liveness`` finds when every worker of a run is idle.
_POLL = "poll"
_SLEEP = "sleep"
_DEADLOCK = "deadlock"


class DeadlockError(RuntimeError):
    """Every goroutine is asleep and nothing can wake one: Go's fatal error."""


class Runtime:
    """One scheduler instance. See the module docstring."""

    def __init__(
        self,
        nprocs: int,
        *,
        background: bool,
        tracer: Tracer | None = None,
        bubble: Bubble | None = None,
        seeded: SeededChoices | None = None,
    ) -> None:
        self.background = background
        self.tracer = tracer  # set for a run with trace=; never changes
        self.bubble = bubble  # set for a run with a fake clock; never changes
        self.seeded = seeded  # set for a run with seeded scheduling; never changes
        # The run's clock: fake in a bubble, else time.monotonic. Never changes.
        self.now: Callable[[], float] = bubble.now if bubble is not None else time.monotonic
        self.lock = threading.Lock()
        self.workers: list[Worker] = []
        self.idle: list[Worker] = []
        self.global_queue: deque[G] = deque()
        self.allg: dict[int, G] = {}
        self.main: G | None = None
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.unwinding = False  # the run ended with KeyboardInterrupt: see ``unwind``
        self.poll_interval = _POLL_INTERVAL
        self._deadlock_since: float | None = None
        self.blocking_calls = 0  # goroutines.blocking calls in flight
        self.hosts_program = False  # made by ``goroutines run`` (see ``run_program``)
        self._next_id = 1
        self._next_index = 0
        self._threads: list[tuple[Worker, threading.Thread]] = []
        self.nprocs = nprocs

    # ---- workers ----------------------------------------------------------

    def add_worker(self) -> Worker:
        """Create a worker (the caller starts its thread or runs its loop)."""
        with self.lock:
            worker = Worker(self, self._next_index)
            self._next_index += 1
            self.workers.append(worker)
        return worker

    def start_worker_thread(self) -> None:
        worker = self.add_worker()
        name = f"goroutines-worker-{worker.index}"
        thread = start_runtime_thread(self._worker_main, name, (worker,))
        self._threads.append((worker, thread))

    def join_worker_threads(self, timeout: float) -> None:
        """Wait for the worker threads to end (after ``done`` is set). One
        still inside a goroutine once ``timeout`` seconds have passed, a
        goroutine that never blocks, is left behind, as Go leaves it at exit.
        The others are waited for however long they take: one in its
        scheduler ends without running any more user code, and one that
        unwinds its goroutines (see ``unwind``) runs their clean-up, which
        is the program's own, as a Python program interrupted by Ctrl-C does.
        (A second Ctrl-C, landing here, stops the wait.)"""
        deadline = time.monotonic() + timeout
        for worker, thread in self._threads:
            while thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0 and worker.current is not None and not worker.unwinding:
                    break  # stuck in a goroutine
                thread.join(max(left, _JOIN_POLL))

    def _worker_main(self, worker: Worker) -> None:
        try:
            worker.run_loop()
        finally:
            worker.close()

    def set_procs(self, n: int) -> None:
        """Change the number of workers at once (``runtime.gomaxprocs``).

        New workers start now. Surplus workers retire: they stop taking new
        goroutines and exit once the goroutines pinned to them have finished.
        """
        if self.seeded is not None and n != 1:
            raise RuntimeError("gomaxprocs: a seeded run has exactly one worker")
        with self.lock:
            active = [w for w in self.workers if not w.retiring]
            self.nprocs = n
            surplus = active[n:] if len(active) > n else []
            for worker in surplus:
                worker.retiring = True
            missing = n - len(active)
        for worker in surplus:
            worker.interrupt()
        for _ in range(missing):
            self.start_worker_thread()

    def remove_worker(self, worker: Worker) -> bool:
        """Drop a retired worker; True if it may exit its loop."""
        with self.lock:
            if worker.has_work() or worker.pinned:
                return False
            self.workers.remove(worker)
            if worker in self.idle:
                self.idle.remove(worker)
        preempt.withdraw(worker)  # sysmon no longer sees it: nothing of it may stay armed
        return True

    def steal_order(self, thief: Worker) -> list[Worker]:
        """The other workers, starting at a random one."""
        workers = [w for w in self.workers if w is not thief]
        if len(workers) > 1:
            start = random.randrange(len(workers))
            workers = workers[start:] + workers[:start]
        return workers

    def id_batch(self) -> Iterator[int]:
        with self.lock:
            start = self._next_id
            self._next_id += _ID_BATCH
        return iter(range(start, start + _ID_BATCH))

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id - 1

    # ---- the global queue and idle workers ---------------------------------

    def put_global(self, g: G) -> None:
        with self.lock:
            self.global_queue.append(g)
        self.wake_idle_worker()

    def take_global(self) -> G | None:
        if not self.global_queue:
            return None
        with self.lock:
            return self.global_queue.popleft() if self.global_queue else None

    def wake_idle_worker(self) -> None:
        """Wake one idle worker so it can look for work (Go's ``wakep``)."""
        with self.lock:
            worker = next((w for w in reversed(self.idle) if not w.retiring), None)
            if worker is not None:
                self.idle.remove(worker)
        if worker is not None:
            worker.notify()

    def enter_idle(self, worker: Worker) -> bool | None:
        """Register ``worker`` as idle. Returns None when it must not sleep
        (work appeared, or the runtime just stopped), else whether it should
        wake up periodically to look again at plain threads that still run
        and at a busy background runtime. In a bubble, the last worker to go
        idle moves the fake clock (see ``bubble``)."""
        with self.lock:
            if self.done or self.global_queue:
                return None
            self.idle.append(worker)
            if not worker.retiring and any(w.newq for w in self.workers if w is not worker):
                return None
            if len(self.idle) < len(self.workers) or self.background:
                return False
            liveness = self._liveness()
            step = None
            if self.bubble is not None and liveness is not _POLL:
                step = self.bubble.step_locked(self.workers, self.blocking_calls)
            if step is None:
                if liveness is not _DEADLOCK:
                    self._deadlock_since = None
                    return liveness is _POLL
                if not self._deadlock_confirmed():
                    return True
                self._stop_locked(error=self._deadlock_error())
                return None
            self._deadlock_since = None
        step()
        return None

    def leave_idle(self, worker: Worker) -> None:
        with self.lock:
            if worker in self.idle:
                self.idle.remove(worker)
            if worker.has_work():
                self._deadlock_since = None

    def _deadlock_confirmed(self) -> bool:
        """Caller holds ``lock`` and ``_liveness`` found a deadlock: report it
        only once it has lasted ``_DEADLOCK_GRACE`` seconds with no goroutine
        woken meanwhile. A thread that the ``threading`` module does not know
        (started with ``_thread`` or from C) is seen only once it uses a
        goroutines object; the grace lets one that was just started get there."""
        now = time.monotonic()
        if self._deadlock_since is None:
            self._deadlock_since = now
            return False
        return now - self._deadlock_since >= _DEADLOCK_GRACE

    def _liveness(self) -> str:
        """Caller holds ``lock`` and every worker is idle, so no goroutine of
        this run can run: can anything still wake one?

        ``_POLL``: a plain thread still runs, or the background runtime is busy;
        nothing tells an idle worker when that ends, so it must look again.
        ``_SLEEP``: a goroutine is queued or a timer pending; its worker wakes.
        ``_DEADLOCK``: nothing can. Plain threads are looked at *before* the
        queues: a thread that makes a goroutine ready and then blocks queues it
        first, so a thread seen blocked here has left any such work behind it
        in a queue that the next step sees.
        """
        if threads.any_running({w.thread_id for w in self.workers}):
            return _POLL
        if self._work_pending():
            return _SLEEP
        if _background_busy():
            return _POLL
        return _DEADLOCK

    def begin_blocking_call(self) -> None:
        with self.lock:
            self.blocking_calls += 1

    def end_blocking_call(self) -> None:
        with self.lock:
            self.blocking_calls -= 1

    def _work_pending(self) -> bool:
        """Caller holds ``lock``: is a goroutine queued, a timer pending, an fd
        waited on or a blocking call in flight here?"""
        if self.blocking_calls:
            return True
        for worker in self.workers:
            with worker.lock:
                if worker.may_wake():
                    return True
        return False

    def is_busy(self) -> bool:
        """Whether this (background) runtime may still wake anybody: a
        goroutine is queued or running, a timer pending, or an fd waited on."""
        with self.lock:
            if len(self.idle) < len(self.workers) or self.global_queue:
                return True
            return self._work_pending()

    def check_deadlock_after_thread_blocked(self) -> None:
        """A plain thread just blocked: maybe it was the last one running."""
        with self.lock:
            if self.done or len(self.idle) < len(self.workers) or self.background:
                return
            if self._liveness() is not _DEADLOCK:
                return
            if self._deadlock_confirmed():
                self._stop_locked(error=self._deadlock_error())
                return
            worker = self.idle[0]
        worker.interrupt()  # it looks again, and keeps looking until the grace is over

    def _deadlock_error(self) -> DeadlockError:
        """The error for a deadlock, with a dump marking the leaked goroutines:
        those blocked on something no plain thread (or module) can reach."""
        # Every worker is idle and needs ``lock`` (held) to leave idle: none
        # switches a goroutine meanwhile, so any thread may read their stacks.
        leaked = leaked_goroutines(self, sys._getframe(), quiescent=True)
        dump = format_goroutines(list(self.allg.values()), leaked, quiescent=True)
        return DeadlockError(f"all goroutines are asleep - deadlock!\n\n{dump}")

    # ---- ending a run --------------------------------------------------------

    def main_returned(self, result: Any) -> None:
        with self.lock:
            if not self.done:
                self.result = result
                self._stop_locked(error=None)

    def goroutine_failed(self, g: G, exc: BaseException) -> None:
        self.failed(exc, f"raised in goroutine {g.id} ({describe(g.fn)})")

    def timer_failed(self, fn: Any, exc: BaseException) -> None:
        """A timer callback raised: a bug, or on the main thread's worker a
        signal handler's exception (KeyboardInterrupt) that landed in it."""
        self.failed(exc, f"raised in timer callback {describe(fn)}")

    def failed(self, exc: BaseException, note: str | None) -> None:
        """An exception escaped a goroutine, a timer callback or a worker's
        scheduler loop (``note`` says which). As in Go, where a panic in any
        goroutine or timer function ends the program, it ends a run: ``run``
        re-raises this same object. On the background runtime, which has no
        caller to raise it to, it is printed to stderr and the workers carry on."""
        if note is not None:
            exc.add_note(note)
        if self.background:
            traceback.print_exception(exc, file=sys.stderr)
            return
        with self.lock:
            if not self.done:
                self._stop_locked(error=exc)
            elif isinstance(exc, KeyboardInterrupt):
                self.unwinding = False  # a second Ctrl-C, during the clean-up: enough

    def drop_unstarted(self) -> None:
        """Forget the goroutines that never started (the run is over): they
        hold nothing, so an interrupted run unwinds them by dropping them."""
        for g in list(self.allg.values()):
            if g.greenlet is None:
                g.state = DEAD
                self.allg.pop(g.id, None)

    def _stop_locked(self, *, error: BaseException | None) -> None:
        self.done = True
        self.error = error
        self.unwinding = isinstance(error, KeyboardInterrupt)
        for worker in self.workers:
            worker.interrupt()


def _background_busy() -> bool:
    """May the background runtime still wake a goroutine of a run?"""
    background = _background
    return background is not None and background.is_busy()


# ---- gomaxprocs ---------------------------------------------------------------


def _default_procs() -> int:
    env = os.environ.get("GOMAXPROCS", "")
    if env.strip().isdigit() and int(env) >= 1:
        return int(env)
    gil_enabled = getattr(sys, "_is_gil_enabled", lambda: True)()
    return (os.cpu_count() or 1) if not gil_enabled else 1


_procs_lock = threading.Lock()
_procs = _default_procs()


def get_procs() -> int:
    runtime = _active
    return runtime.nprocs if runtime is not None else _procs


def set_procs(n: int) -> int:
    """Set the number of processors; returns the previous value."""
    global _procs
    worker = getattr(tls, "worker", None)
    runtime = worker.runtime if worker is not None else _active
    if runtime is not None and not runtime.background:
        previous = runtime.nprocs
        runtime.set_procs(n)
        return previous
    with _procs_lock:
        previous, _procs = _procs, n
    return previous


# ---- run and go -------------------------------------------------------------

_active: Runtime | None = None
_background: Runtime | None = None
_state_lock = threading.Lock()


def _check_deadlock_after_thread_blocked() -> None:
    runtime = _active
    if runtime is not None:
        runtime.check_deadlock_after_thread_blocked()


threads.set_block_hook(_check_deadlock_after_thread_blocked)


def current_runtime() -> Runtime | None:
    """The runtime whose goroutine is calling, else the background runtime (if any)."""
    worker = getattr(tls, "worker", None)
    if worker is not None:
        return worker.runtime  # type: ignore[no-any-return]
    return _background


def run(
    main: Callable[..., R],
    /,
    *args: Any,
    gomaxprocs: int | None = None,
    race: bool = False,
    trace: str | None = None,
    **kwargs: Any,
) -> R:
    """Run ``main(*args, **kwargs)`` as the main goroutine and return its result.

    The calling thread becomes the first worker; ``gomaxprocs`` (default:
    ``runtime.gomaxprocs()``) workers run goroutines. ``run`` returns as soon
    as main returns: goroutines still alive are abandoned, never scheduled
    again. An exception escaping any goroutine ends the run and is re-raised
    here with a note naming the goroutine. When every goroutine is blocked
    and nothing can wake one, raises ``DeadlockError`` with a goroutine dump.
    """
    nprocs = _check_run(main, gomaxprocs, race, trace)
    worker = getattr(tls, "worker", None)
    if worker is not None and worker.runtime.hosts_program:
        runtime = worker.runtime
        if worker.current is runtime.main:
            # A program run by ``goroutines run`` calls run(main) from its top
            # level, which is already the main goroutine: main runs right there.
            if gomaxprocs is not None:
                runtime.set_procs(nprocs)
            return main(*args, **kwargs)
    return _start(main, args, kwargs, nprocs, hosts_program=False, trace=trace, race=race)


def run_in_bubble(
    main: Callable[..., R], args: Any, kwargs: Any, gomaxprocs: int | None, seed: int | None
) -> R:
    """``run(main, *args, **kwargs)`` with a fake clock (see ``bubble``) and,
    given a seed, seeded scheduling on one worker (see ``seeded``); an
    exception it raises then has a note naming the seed."""
    nprocs = _check_run(main, gomaxprocs, False, None)
    if seed is None:
        return _start(main, args, kwargs, nprocs, hosts_program=False, trace=None, bubble=Bubble())
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    if gomaxprocs not in (None, 1):
        raise ValueError(f"a seeded run has exactly one worker, not gomaxprocs={gomaxprocs}")
    seeded = SeededChoices(seed)
    try:
        return _start(
            main, args, kwargs, 1, hosts_program=False, trace=None, bubble=Bubble(), seeded=seeded
        )
    except BaseException as exc:
        exc.add_note(f"scheduling seed {seed}: pass seed={seed} to replay this interleaving")
        raise


def run_program(
    main: Callable[[], R], *, gomaxprocs: int | None, race: bool, trace: str | None
) -> R:
    """``run(main)`` for ``goroutines run``: ``main`` runs a program's top level,
    and a ``run(f)`` that the top level calls runs ``f`` in place."""
    nprocs = _check_run(main, gomaxprocs, race, trace)
    return _start(main, (), {}, nprocs, hosts_program=True, trace=trace, race=race)


def _check_run(main: Any, gomaxprocs: Any, race: bool, trace: str | None) -> int:
    """Check ``run``'s arguments; return the number of processors to use."""
    if not callable(main):
        raise TypeError(f"run: main must be callable, not {type(main).__name__}")
    nprocs = _check_procs(gomaxprocs) if gomaxprocs is not None else get_procs()
    if not isinstance(race, bool):
        raise TypeError(f"run: race must be a bool, not {type(race).__name__}")
    if trace is not None and not isinstance(trace, (str, os.PathLike)):
        raise TypeError(f"run: trace must be a path, not {type(trace).__name__}")
    return nprocs


def _start(
    main: Callable[..., R],
    args: Any,
    kwargs: Any,
    nprocs: int,
    *,
    hosts_program: bool,
    trace: str | None,
    bubble: Bubble | None = None,
    seeded: SeededChoices | None = None,
    race: bool = False,
) -> R:
    global _active
    with _state_lock:
        if _active is not None or getattr(tls, "worker", None) is not None:
            raise RuntimeError("goroutines.run: a run is already active in this process")
        tracer = Tracer(os.fspath(trace)) if trace is not None else None
        runtime = Runtime(nprocs, background=False, tracer=tracer, bubble=bubble, seeded=seeded)
        runtime.hosts_program = hosts_program
        _active = runtime
    try:
        if not race:
            return _run(runtime, main, args, kwargs)
        assert hooks.race_session is not None  # registered by goroutines._race
        with hooks.race_session(runtime, main):
            return _run(runtime, main, args, kwargs)
    finally:
        with _state_lock:
            _active = None


def _run(runtime: Runtime, main: Callable[..., R], args: Any, kwargs: Any) -> R:
    first = runtime.add_worker()
    main_g = G(first.next_id(), main, args, kwargs, 0, None)
    runtime.main = main_g
    runtime.allg[main_g.id] = main_g
    if runtime.tracer is not None:
        runtime.tracer.create_main(main_g)
    first.runq.append(main_g)  # not newq: main must not be stolen off the calling thread
    # SIGQUIT is given back whatever happens from here on, an exception (a
    # Ctrl-C) in the clean-up included: a run that kept it blocked on the
    # calling thread would leave it blocked in every process started later.
    sigquit = monitor.start(runtime)  # before any worker thread: they inherit its signal mask
    try:
        try:
            for _ in range(runtime.nprocs - 1):
                runtime.start_worker_thread()
            _watch_for_overruns(runtime)
            with _signals_wake(first), preempt.SignalHandler():
                first.run_loop()
        finally:
            _end_run(runtime, first)
    finally:
        sigquit.stop()
    if hooks.race is not None:
        hooks.race.returned(main_g)  # main's return happens before run returns
    if runtime.error is not None:
        raise runtime.error
    return runtime.result  # type: ignore[no-any-return]


def _end_run(runtime: Runtime, first: Worker) -> None:
    """Stop the run's workers (``first`` is the caller's), write its trace and
    abandon the goroutines still alive."""
    sysmon.unwatch(runtime)
    first.close()
    with runtime.lock:
        runtime.done = True
        for worker in runtime.workers:
            worker.interrupt()
    try:
        runtime.join_worker_threads(_JOIN_TIMEOUT)
        if runtime.tracer is not None:
            runtime.tracer.write()
    finally:
        _abandon(runtime)


def _watch_for_overruns(runtime: Runtime) -> None:
    """Have sysmon preempt ``runtime``'s goroutines that run too long, unless
    preemption is off (``preempt``) or the run is seeded: a seeded run's
    interleaving must not depend on how fast the machine is."""
    if preempt.MECHANISM is None or preempt.off_by_godebug() or runtime.seeded is not None:
        return
    sysmon.watch(runtime)


@contextlib.contextmanager
def _signals_wake(worker: Worker) -> Iterator[None]:
    """On the main thread, make a signal wake ``worker``'s poller, as asyncio
    does: Python runs a signal's handler (KeyboardInterrupt for Ctrl-C) only
    between bytecodes, so a signal that lands just before the worker blocks in
    its poller would otherwise wait until the poller returns by itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.set_wakeup_fd(worker.poller.wakeup_fd(), warn_on_full_buffer=False)
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)


# Goroutines left alive by runs that returned: kept, never run again (Go's exit
# semantics: no deferred code runs), so that leak checks can report them.
abandoned: list[G] = []


def _abandon(runtime: Runtime) -> None:
    if isinstance(runtime.error, KeyboardInterrupt):
        runtime.drop_unstarted()  # the others were unwound, or could not be
    abandoned.extend(runtime.allg.values())
    runtime.allg.clear()


def take_abandoned() -> list[G]:
    """Remove and return the goroutines abandoned so far (for leak checks).
    Safe against a run ending meanwhile: ``_abandon`` only appends."""
    taken = abandoned[:]
    del abandoned[: len(taken)]
    return taken


def leaked_goroutines(runtime: Runtime, caller: FrameType, *, quiescent: bool = False) -> set[G]:
    """The goroutines of ``runtime`` blocked forever (see ``leaks``). The live
    goroutines of every runtime count as roots. ``caller`` and ``quiescent``:
    see ``find_leaked``."""
    runtimes = [r for r in (_active, _background) if r is not None]
    everyone = [g for r in runtimes for g in list(r.allg.values())]
    workers = [w for r in runtimes for w in list(r.workers)]
    found = leaks.find_leaked(everyone, caller, workers, quiescent=quiescent)
    return {g for g in found if runtime.allg.get(g.id) is g}


def go(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Start ``fn(*args, **kwargs)`` as a new goroutine and return at once."""
    if not callable(fn):
        raise TypeError(f"go: fn must be callable, not {type(fn).__name__}")
    worker = getattr(tls, "worker", None)
    if worker is not None:
        parent = worker.current
        caller = sys._getframe(1)  # inlined _caller_site: go() is a hot path
        site = (caller.f_globals.get("__name__", "?"), caller.f_code, caller.f_lineno)
        g = G(worker.next_id(), fn, args, kwargs, parent.id if parent else 0, site)
        if hooks.race is not None:
            hooks.race.go(g)
        worker.runtime.allg[g.id] = g
        worker.spawn(g)
        return
    runtime = background_runtime()
    g = G(runtime.new_id(), fn, args, kwargs, 0, _caller_site(2))
    if hooks.race is not None:
        hooks.race.go(g)
    runtime.allg[g.id] = g
    runtime.put_global(g)


def evict_fd(fd: int) -> None:
    """``fd`` is about to be closed: wake every goroutine waiting on it, in any
    runtime, with the CLOSED outcome (see ``netpoll``)."""
    for runtime in (_active, _background):
        if runtime is None:
            continue
        for worker in list(runtime.workers):
            for g in worker.poller.evict(fd):
                g.make_ready()


def background_runtime() -> Runtime:
    """The process-wide runtime for goroutines and timers of plain threads."""
    global _background
    runtime = _background
    if runtime is not None:
        return runtime
    with _state_lock:
        if _background is None:
            runtime = Runtime(get_procs() if _active is None else _procs, background=True)
            for _ in range(runtime.nprocs):
                runtime.start_worker_thread()
            _watch_for_overruns(runtime)
            _background = runtime
        return _background


def _check_procs(n: Any) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"gomaxprocs must be an int, not {type(n).__name__}")
    if n < 1:
        raise ValueError(f"gomaxprocs must be >= 1, got {n}")
    return n


def _caller_site(depth: int) -> tuple[str, CodeType, int]:
    """``(module, code, line)`` of the frame ``depth`` levels up, for dumps."""
    frame = sys._getframe(depth)
    return frame.f_globals.get("__name__", "?"), frame.f_code, frame.f_lineno
