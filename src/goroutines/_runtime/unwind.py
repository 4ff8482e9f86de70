"""Unwinding an interrupted run: every goroutine's ``finally`` and ``with`` blocks run.

A run that ends because main returned, or because an exception escaped a
goroutine (Go's panic), abandons the goroutines still alive, as Go abandons
them at exit: they are never scheduled again and none of their code runs.

A run that ends with ``KeyboardInterrupt`` (Ctrl-C: SIGINT's handler raises it
on the main thread, wherever that thread is, in a goroutine or in its
worker's scheduler) is different. Ctrl-C is how a Python program is stopped,
and Python unwinds the interrupted stack: ``finally`` blocks and context
managers release what they hold (sockets, files, locks, temporary files).
A run's stack is spread over its goroutines, so each of them is unwound: in
each goroutine still alive, ``greenlet.GreenletExit`` is raised where it
waits, as greenlet and gevent kill a greenlet. Then ``run`` raises the
``KeyboardInterrupt``. A goroutine's wait for a fd is unregistered from its
poller on the way out (``netpoll.wait``), so no fd stays registered.

How, on each worker (``unwind``, called by the worker's thread once its
scheduler loop has stopped, ``Runtime.done`` being set): the worker throws
``GreenletExit`` into each started goroutine pinned to it (a greenlet can only
run on its own thread), one at a time, from its scheduler greenlet, which is
each goroutine greenlet's parent: a goroutine that finishes returns there. A
goroutine that blocks again while unwinding (a ``finally`` that sends on a
channel, sleeps or locks) comes straight back: ``tick`` is zero, so
``Worker.switch_away`` switches to the scheduler rather than to another
goroutine, and the next pass raises ``GreenletExit`` in it again, where it
now waits, as trio raises ``Cancelled`` again at each checkpoint of a
cancelled scope. After ``_PASSES`` passes, what is left is abandoned.
Goroutines that never started hold nothing and are dropped
(``Runtime.drop_unstarted``). A worker stuck in a goroutine that never
blocks does not unwind: ``run`` does not wait for it longer than usual, and
its goroutines are abandoned; a worker that unwinds is waited for, however
long the goroutines' clean-up takes (``Runtime.join_worker_threads``).

A second Ctrl-C stops the unwinding: a ``KeyboardInterrupt`` raised in a
goroutine's clean-up clears ``Runtime.unwinding`` (``Runtime.failed``), which
each worker reads before each throw; one that lands in the unwinding loop
itself propagates out of ``run``. Exceptions that other clean-up code raises
are dropped, as any exception raised after a run ended is.

What is not given back: a goroutine unwound while waiting stays queued in the
channel or lock it waited on (its record has no token: see ``waiters``). The
run is over, but if a plain thread or the background runtime later uses the
same object, a value sent to that queued goroutine is lost, as one sent to an
abandoned goroutine is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenlet import GreenletExit

from .g import RUNNING

if TYPE_CHECKING:
    from .g import G
    from .worker import Worker

# How many times a goroutine that blocks again while unwinding has
# GreenletExit raised in it before it is abandoned.
_PASSES = 3


def unwind(worker: Worker) -> None:
    """Unwind the started goroutines pinned to ``worker``: on its thread, on
    its scheduler greenlet, after its loop stopped (see the module docstring)."""
    runtime = worker.runtime
    worker.unwinding = True  # ``run`` waits for it now (Runtime.join_worker_threads)
    for _ in range(_PASSES):
        pinned = [g for g in list(runtime.allg.values()) if _pinned_to(g, worker)]
        if not pinned:
            return
        for g in pinned:
            if not runtime.unwinding:
                return
            _throw(worker, g)


def _pinned_to(g: G, worker: Worker) -> bool:
    """Whether ``g`` started on ``worker`` and its stack is still there to
    unwind (an exception that escaped its greenlet, not the goroutine, left
    it dead: Runtime.failed got that one)."""
    gl = g.greenlet
    return gl is not None and not gl.dead and g.worker is worker


def _throw(worker: Worker, g: G) -> None:
    """Raise GreenletExit in ``g`` where it waits; return once it finished
    or blocked again."""
    gl = g.greenlet
    if gl is None or gl.dead:  # it finished meanwhile
        return
    worker.runq.clear()  # none of them may run but through this loop
    worker.yielded = None
    worker.tick = 0  # a park while unwinding switches back here
    worker.current = g
    g.state = RUNNING
    try:
        gl.throw(GreenletExit)
    except BaseException as exc:  # escaped the greenlet, not the goroutine: Runtime.failed
        worker.runtime.failed(exc, None)
    finally:
        worker.current = None
