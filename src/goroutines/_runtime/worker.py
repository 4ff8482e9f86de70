"""Workers: Go's M and P in one object, and the scheduler loop each runs.

Glossary (Go's words, spelled out):
  G       a goroutine (``g.G``).
  worker  an OS thread holding the right to run goroutines (Go's M with its P).
  runq    the worker's FIFO of ready goroutines that have started: they are
          pinned to this worker, because their greenlet lives on its thread.
          (Also main before it starts: it must run on the caller's thread.)
  newq    the worker's FIFO of goroutines that have not started yet. They have
          no greenlet, so an idle worker may steal them (Go's work stealing).
  inbox   goroutines made ready by *other* threads, waiting to be moved to runq.
  park    a goroutine stops running until someone makes it ready.
  ready   make a parked goroutine runnable again (Go's ``goready``).

The scheduler loop runs on the thread's main greenlet (Go's g0). When a
goroutine parks it switches *directly* to the next goroutine in runq/newq when
there is one, and to the scheduler greenlet only when there is none or once
every ``_SCHED_EVERY`` switches, so that timers, the inbox and the global queue
are never starved by two goroutines that keep waking each other.

A goroutine that returns leaves its greenlet on the worker's free list, and the
next new goroutine reuses it, as Go reuses dead Gs: a new goroutine usually
costs no greenlet creation and, when started by a finishing one, no switch.
A greenlet that must be created is created by the scheduler greenlet, never by
a parking goroutine: greenlet starts a new greenlet at its creator's recursion
depth, and chains of goroutines starting one another would run out of it.

Invariants:
  - ``runq``, ``free``, ``current``, ``yielded``, ``tick`` and ``pinned`` are
    written only by this worker's thread (``sysmon`` reads ``current`` and
    ``tick`` racily, to see how long a goroutine has been running).
  - ``preempt`` is set by sysmon and cleared by this worker's thread, under
    ``preempt``'s lock (see ``preempt``).
  - ``newq`` is appended (at either end) and popped on the left by this
    worker's thread, and popped on the right by thieves; ``collections.deque`` makes each of those
    calls atomic, with or without the GIL.
  - ``lock`` guards ``inbox``, ``sleeping``, ``timers``, ``requests``,
    ``stopped`` and the poller's fd waits and wake-up pipe (``netpoll``). A
    thread that adds to ``inbox`` or adds an earlier timer while ``sleeping``
    is set clears it and wakes the poller, so a worker never sleeps through
    new work.
  - ``requests`` (``submit``) are served on each pass through the
    scheduler loop, where no goroutine of this worker runs: the one place
    where, without the GIL, the worker's goroutines' frames may be read
    (see ``stacks``).
  - A worker that has goroutines waiting on fds polls for them without
    blocking each time it passes through its scheduler loop, and blocks in the
    poller when it has nothing to run.
  - Lock order: a worker's ``lock`` may be taken while holding the runtime's
    ``lock`` (the deadlock check reads every worker), never the reverse.
  - No exception leaves the scheduler loop: one raised by a timer callback,
    or in the loop itself (a signal handler's KeyboardInterrupt lands there
    when the main thread's worker waits in its poller), goes to
    ``Runtime.failed``, which ends a run and lets a background worker carry on.
  - When a run ends with ``KeyboardInterrupt``, each worker unwinds the
    goroutines pinned to it before ``run_loop`` returns (``unwind``).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from greenlet import getcurrent, greenlet

from .g import DEAD, RUNNABLE, RUNNING, G
from .netpoll import Poller
from .threads import tls
from .timers import Timer, TimerHeap
from .unwind import unwind

if TYPE_CHECKING:
    from collections.abc import Callable

    from .sched import Runtime
    from .trace import WorkerTrace

# How often a worker passes through its scheduler loop even when it could switch
# straight from one goroutine to the next (a power of two, used as a mask).
_SCHED_EVERY = 64
# Finished goroutines' greenlets kept for reuse, per worker.
_FREE_MAX = 1024

_get_ident = threading.get_ident
# How often a worker waiting for a ``Request`` serves its own requests (seconds).
_REQUEST_POLL = 0.002


class Request:
    """A call to make on a worker's thread (``Worker.submit``)."""

    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.result: Any = None
        self.error: Exception | None = None  # raised by fn, re-raised to the caller
        self.done = threading.Event()

    def serve(self) -> None:
        try:
            self.result = self.fn()
        except Exception as exc:  # not into the scheduler loop: the caller gets it
            self.error = exc
        self.done.set()

    def wait(self, deadline: float) -> bool:
        """Wait until served or ``time.monotonic()`` passes ``deadline``; True
        if served. A worker waiting serves its own requests meanwhile, so that
        two workers asking each other do not both wait in vain."""
        caller: Worker | None = getattr(tls, "worker", None)
        while True:
            left = deadline - time.monotonic()
            if self.done.wait(max(0.0, min(left, _REQUEST_POLL) if caller else left)):
                return True
            if caller is not None:
                caller.serve_requests()
            if time.monotonic() >= deadline:
                return False

    def outcome(self) -> Any:
        """What ``fn`` returned (or raise what it raised); only once served."""
        if self.error is not None:
            raise self.error
        return self.result


class Worker:
    """One OS thread running goroutines. See the module docstring."""

    def __init__(self, runtime: Runtime, index: int) -> None:
        self.runtime = runtime
        self.now = runtime.now  # the run's clock (fake in a bubble)
        self.index = index
        self.runq: deque[G] = deque()
        self.newq: deque[G] = deque()
        self.inbox: deque[G] = deque()
        self.lock = threading.Lock()
        self.sleeping = False
        self.timers = TimerHeap()
        self.current: G | None = None
        self.yielded: G | None = None  # a goroutine in gosched, run after all others
        self.tick = 0
        self.pinned = 0  # started goroutines still alive on this worker
        self.retiring = False
        self.free: list[greenlet] = []
        self.thread_id = 0
        self.scheduler: greenlet | None = None
        self._ids: Any = iter(())
        self.poller = Poller(self.lock)
        self.requests: deque[Request] = deque()  # see ``submit``
        self.stopped = False  # set once run_loop has returned: nothing runs here any more
        self.unwinding = False  # its loop has stopped and it unwinds its goroutines (``unwind``)
        self.random = random.random  # select's choices (seeded: see ``seeded``)
        self.preempt: G | None = None  # the goroutine to preempt (see ``preempt``)
        # What sysmon saw running here: (current, tick, since when) (see ``sysmon``).
        self.sampled: tuple[G | None, int, float] = (None, 0, 0.0)
        self.tracer: WorkerTrace | None = None  # see ``trace``: set only when tracing
        if runtime.tracer is not None:
            self.tracer = runtime.tracer.attach(self)
        if runtime.seeded is not None:
            runtime.seeded.attach(self)

    # ---- entry points ---------------------------------------------------

    def run_loop(self) -> None:
        """Run the scheduler on the calling thread until the runtime stops."""
        self.thread_id = _get_ident()
        self.scheduler = getcurrent()
        tls.worker = self
        was_known = hasattr(tls, "known")
        tls.known = True
        try:
            self._schedule()
            if self.runtime.unwinding:
                unwind(self)
        finally:
            tls.worker = None
            if not was_known:
                del tls.known
            self.current = None
            with self.lock:
                self.stopped = True
            self.serve_requests()
            # Free the spare greenlets here: a greenlet must die on its own thread.
            self.free.clear()
            # Nor may this thread's main greenlet outlive the thread through us:
            # when a thread exits, greenlet (3.5) cleans up after it in a pending
            # call on the main thread, and if exactly one reference to its main
            # greenlet is left, it imports gc there and searches the whole heap
            # for it. That import looks __import__ up in the builtins of whatever
            # frame the main thread is running, and a namedtuple's __new__ has
            # none: an unraisable KeyError('__import__').
            self.scheduler = None

    def close(self) -> None:
        """Release the poller (after ``run_loop`` returned)."""
        self.poller.close()

    # ---- creating goroutines --------------------------------------------

    def spawn(self, g: G) -> None:
        """Queue a new goroutine created on this worker's thread."""
        self.newq.append(g)
        if self.tracer is not None:
            self.tracer.create(g)
        if self.runtime.idle:
            self.runtime.wake_idle_worker()

    def next_id(self) -> int:
        """A fresh goroutine id, from this worker's batch (as Go's P caches)."""
        try:
            return next(self._ids)  # type: ignore[no-any-return]
        except StopIteration:
            self._ids = self.runtime.id_batch()
            return next(self._ids)  # type: ignore[no-any-return]

    # ---- park / ready ---------------------------------------------------

    def ready(self, g: G) -> None:
        """Make ``g`` (a parked goroutine pinned to this worker) runnable."""
        if self.tracer is not None:
            self.tracer.unblock(g)
        g.state = RUNNABLE
        if self.thread_id == _get_ident():
            self.runq.append(g)
            return
        with self.lock:
            self.inbox.append(g)
            if self.sleeping:
                self.sleeping = False
                self.poller.wakeup()

    def switch_away(self) -> Any:
        """Leave the current goroutine: run the next one, or the scheduler.

        Returns what the greenlet that resumes us passes (a new G for a
        recycled greenlet, nothing for a parked goroutine).
        """
        if self.tick & (_SCHED_EVERY - 1):
            runq = self.runq
            if runq and not self.newq:  # the common case, inlined: a started G is next
                self.tick += 1
                started = runq.popleft()
                gl = started.greenlet
                if gl is not None:
                    self.current = started
                    started.state = RUNNING
                    return gl.switch()
                runq.appendleft(started)
            nxt = self._pick_local()
            if nxt is not None:
                if nxt.greenlet is not None or self.free:
                    return self._switch_to(nxt)
                # A new greenlet must be made on the scheduler's shallow stack
                # (greenlet starts it at its creator's recursion depth); until
                # then the goroutine stays first in line, and stealable.
                self.newq.appendleft(nxt)
        self.current = None
        return self.scheduler.switch()  # type: ignore[union-attr]

    def yield_now(self, g: G) -> None:
        """``runtime.gosched``: let other runnable goroutines go first: ``g`` runs
        again only after the scheduler has picked another goroutine, if any."""
        self.yielded = g
        self.current = None
        self.scheduler.switch()  # type: ignore[union-attr]

    # ---- calls made on this worker's thread ---------------------------------

    def submit(self, fn: Callable[[], Any]) -> Request:
        """Have ``fn()`` called on this worker's thread while no goroutine runs
        there (its scheduler serves requests on each pass); wait for it with
        ``Request.wait``. Submitted on this thread, or once the loop has
        stopped, ``fn`` runs at once."""
        request = Request(fn)
        with self.lock:
            queued = not self.stopped and self.thread_id != _get_ident()
            if queued:
                self.requests.append(request)
                self.poller.wakeup()
        if not queued:
            request.serve()
        return request

    def serve_requests(self) -> None:
        """Run the calls queued by ``submit`` (on this worker's thread)."""
        while True:
            with self.lock:
                if not self.requests:
                    return
                request = self.requests.popleft()
            request.serve()

    # ---- the scheduler ----------------------------------------------------

    def _schedule(self) -> None:
        while True:
            try:
                g = self._find_runnable()
                if g is None:
                    return
                self._switch_to(g)
            except BaseException as exc:  # e.g. KeyboardInterrupt while idle: see Runtime.failed
                self.runtime.failed(exc, None)
            self.current = None

    def _find_runnable(self) -> G | None:
        runtime = self.runtime
        yielded, self.yielded = self.yielded, None
        while not runtime.done:
            if self.requests:
                self.serve_requests()
            if self.timers.active:
                self._run_timers()
            if self.inbox:
                with self.lock:
                    self.runq.extend(self.inbox)
                    self.inbox.clear()
            if self.poller.waiting():
                self._poll_io(0)
            g = self._pick_local()
            if g is None and not self.retiring:
                g = runtime.take_global() or self._steal()
            if g is not None:
                if yielded is not None:
                    self.runq.append(yielded)
                return g
            if yielded is not None:
                return yielded
            if self.retiring and self._retire_if_unused():
                return None
            self._idle()
        return None

    def _pick_local(self) -> G | None:
        # Alternate between started and new goroutines so neither starves.
        self.tick = tick = self.tick + 1
        if tick & 1 and self.newq:
            try:
                return self.newq.popleft()
            except IndexError:  # a thief took it
                pass
        if self.runq:
            return self.runq.popleft()
        try:
            return self.newq.popleft()
        except IndexError:
            return None

    def _switch_to(self, g: G) -> Any:
        self.current = g
        gl = g.greenlet
        if gl is not None:
            g.state = RUNNING
            return gl.switch()
        g.worker = self  # before the state: a dump of a running G reads its worker
        g.state = RUNNING
        self.pinned += 1
        gl = self.free.pop() if self.free else greenlet(self._host, self.scheduler)
        g.greenlet = gl
        return gl.switch(g)

    def _host(self, g: G) -> None:
        """The body of a goroutine greenlet: run goroutines until retired."""
        me = getcurrent()
        free = self.free
        if self.tracer is not None:
            self.tracer.run(g)
        while True:
            self._execute(g)
            if len(free) >= _FREE_MAX or self.runtime.done:
                if self.tracer is not None:
                    self.tracer.stop(g)
                return
            free.append(me)
            g = self.switch_away()

    def _execute(self, g: G) -> None:
        try:
            result = g.fn(*g.args, **g.kwargs)
        except BaseException as exc:
            self.runtime.goroutine_failed(g, exc)
        else:
            if g is self.runtime.main:
                self.runtime.main_returned(result)
        g.state = DEAD
        g.fn = g.args = g.kwargs = None  # type: ignore[assignment]
        g.greenlet = None
        self.pinned -= 1
        self.runtime.allg.pop(g.id, None)

    def _steal(self) -> G | None:
        """Take half of another worker's not-yet-started goroutines."""
        for victim in self.runtime.steal_order(self):
            queue = victim.newq
            count = (len(queue) + 1) // 2
            stolen: list[G] = []
            for _ in range(count):
                try:
                    stolen.append(queue.pop())
                except IndexError:
                    break
            if stolen:
                if self.tracer is not None:
                    self.tracer.steal(len(stolen), victim)
                first = stolen.pop()
                self.newq.extend(reversed(stolen))
                return first
        return None

    def _retire_if_unused(self) -> bool:
        """A retiring worker hands its new goroutines to the global queue and
        exits once no goroutine is pinned to it any more."""
        while self.newq:
            try:
                self.runtime.put_global(self.newq.popleft())
            except IndexError:
                break
        if self.pinned:
            return False
        return self.runtime.remove_worker(self)

    # ---- timers ---------------------------------------------------------

    def add_timer(self, timer: Timer) -> None:
        """Schedule ``timer`` on this worker (from any thread)."""
        with self.lock:
            timer.worker = self
            if self.timers.push(timer) and self.sleeping:
                self.sleeping = False
                self.poller.wakeup()

    def cancel_timer(self, timer: Timer) -> bool:
        """Cancel ``timer``; True if it had not fired yet (from any thread)."""
        with self.lock:
            return self.timers.cancel(timer)

    def _run_timers(self) -> None:
        now = self.now()
        with self.lock:
            due = self.timers.pop_expired(now)
        if self.tracer is not None:
            self.tracer.timers(len(due))
        for timer in due:
            try:
                timer.fn(timer.arg, now)
            except BaseException as exc:  # not into the loop: the other timers still fire
                self.runtime.timer_failed(timer.fn, exc)

    # ---- sleeping when idle -----------------------------------------------

    def _idle(self) -> None:
        runtime = self.runtime
        with self.lock:
            if self.inbox:
                return
            self.sleeping = True
            deadline = self.timers.next_deadline()
        poll = runtime.enter_idle(self)
        if poll is not None:
            if runtime.bubble is not None:
                deadline = None  # a fake clock moves only in enter_idle, which wakes us
            timeout = None if deadline is None else max(0.0, deadline - self.now())
            if poll and (timeout is None or timeout > runtime.poll_interval):
                timeout = runtime.poll_interval
            self._poll_io(timeout)
        with self.lock:
            self.sleeping = False
        runtime.leave_idle(self)

    def _poll_io(self, timeout: float | None) -> None:
        """Poll for ready fds (waiting up to ``timeout``) and run their goroutines."""
        polled = self.poller.poll(timeout)
        if self.tracer is not None:
            self.tracer.netpoll(polled)
        for g in polled:
            g.state = RUNNABLE
        self.runq.extend(polled)

    def notify(self) -> None:
        """Wake this worker if it sleeps (from any thread)."""
        with self.lock:
            if self.sleeping:
                self.sleeping = False
                self.poller.wakeup()

    def interrupt(self) -> None:
        """Wake this worker unconditionally, e.g. because the runtime stopped."""
        with self.lock:
            self.poller.wakeup()

    def wants_preemption(self) -> bool:
        """From sysmon's thread, racily: is anything but the running goroutine
        waiting for this worker's thread (a ready goroutine, a request, a due
        timer, fds to poll, or global work that no idle worker can take)?"""
        if self.runq or self.newq or self.inbox or self.requests:
            return True
        runtime = self.runtime
        if runtime.global_queue and not runtime.idle:
            return True
        with self.lock:
            deadline = self.timers.next_deadline()
            return (deadline is not None and deadline <= self.now()) or self.poller.waiting()

    def has_work(self) -> bool:
        """Whether any goroutine is queued on this worker (racy snapshot)."""
        return bool(self.runq or self.newq or self.inbox)

    def may_wake(self) -> bool:
        """Caller holds ``lock``: could a goroutine of this worker be woken
        without help from outside it (queued, a timer pending, an fd waited on)?"""
        return self.has_work() or bool(self.timers.active) or self.poller.waiting()
