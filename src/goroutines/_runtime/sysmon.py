"""sysmon: the thread that watches the workers, as Go's ``sysmon`` does.

One daemon thread per process, started by the first runtime that asks for it
(``watch``), wakes every ``TICK`` and looks at each worker of the runtimes it
watches: a goroutine that has run for ``FORCE_PREEMPT`` (10 ms, Go's
``forcePreemptNS``) or more while something else waits for its worker (a
ready goroutine, a due timer, fds to poll, a dump to serve:
``Worker.wants_preemption``) is preempted (``preempt.request``). While nothing
is watched the thread sleeps on a condition and costs nothing.

How "has run for 10 ms" is known at no cost to the scheduler: every
scheduling decision advances ``Worker.tick``, so the same ``(current, tick)``
pair seen at two samples ``FORCE_PREEMPT`` apart means the goroutine ran all
that time (Go compares its ``schedtick`` the same way). A goroutine is thus
preempted after 10 to 10 + ``TICK`` ms. While a request has not found its safe
point (the "signal" mechanism may miss one: see ``preempt``), sysmon samples
every ``RETRY`` and repeats the request, as Go's sysmon shortens its sleep.

Invariants:
  - ``_cond``'s lock guards ``_watched`` and is held for each pass over the
    workers (lock order: it, then ``preempt``'s lock, then a worker's lock).
    ``Worker.sampled`` (what the worker
    ran when first seen running it) is touched only by the sysmon thread.
  - Workers' fields are read without their locks: a stale read at most delays
    a request by a tick or makes one the worker then drops as stale (see
    ``preempt``), which is harmless.
  - A request concerns one stretch of one goroutine's running: once a sample
    shows its worker has moved on (another goroutine, or a new ``tick``), the
    request is dropped (``preempt.drop_stale``). The goroutine may have
    switched away by itself before any safe point, and the worker's thread
    may never run user code again (an idle worker of the background runtime):
    no event there would drop it, and the mechanism would stay armed.
  - ``unwatch`` drops the runtime's pending requests: nothing of a runtime
    that has ended stays armed (monitoring events cost every thread).
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import TYPE_CHECKING

from . import preempt
from .threads import start_runtime_thread

if TYPE_CHECKING:
    from .sched import Runtime
    from .worker import Worker

# How often sysmon samples the workers (while a request waits for its safe
# point: ``RETRY``), and how long a goroutine may run while others wait before
# it is preempted (seconds).
TICK = 0.01
RETRY = 0.001
FORCE_PREEMPT = 0.01

_cond = threading.Condition(threading.Lock())
_watched: list[Runtime] = []
_thread: threading.Thread | None = None


def watch(runtime: Runtime) -> None:
    """Preempt ``runtime``'s overrunning goroutines until ``unwatch``."""
    global _thread
    with _cond:
        _watched.append(runtime)
        if _thread is None:
            _thread = start_runtime_thread(_main, "goroutines-sysmon")
        _cond.notify()


def unwatch(runtime: Runtime) -> None:
    """Stop watching ``runtime`` (if watched) and drop its pending requests."""
    with _cond:
        if runtime in _watched:
            _watched.remove(runtime)
    for worker in list(runtime.workers):
        preempt.withdraw(worker)


def _main() -> None:
    while True:
        with _cond:  # held while sampling: after ``unwatch``, no request comes
            while not _watched:
                _cond.wait()
            try:
                _sample([w for runtime in _watched for w in runtime.workers], time.monotonic())
            except Exception:  # a bug: say so, but never stop preempting for good
                traceback.print_exc()
        time.sleep(RETRY if preempt.pending() else TICK)


def _sample(workers: list[Worker], now: float) -> None:
    for worker in workers:
        g, tick = worker.current, worker.tick
        seen, seen_tick, since = worker.sampled
        if g is None or seen is not g or seen_tick != tick:
            worker.sampled = (g, tick, now)
            if worker.preempt is not None:
                preempt.drop_stale(worker, seen)
        elif (
            now - since >= FORCE_PREEMPT
            and preempt.can_preempt(worker)
            and worker.wants_preemption()
        ):
            preempt.request(worker, g)
