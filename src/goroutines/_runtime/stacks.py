"""Reading goroutine stacks safely, for dumps and the leak check.

Who may read a goroutine's frames (``gr_frame``, ``f_back``, ``f_locals``):

- With the GIL, any thread: each read is atomic with respect to greenlet
  switches, so a goroutine that runs, parks or finishes meanwhile only makes
  what is read stale, which a dump is anyway (Go's is a snapshot too).
- Without the GIL (3.13t), only the goroutine's worker's own thread while it
  does not run that goroutine, or anyone while no worker can switch a
  greenlet: the deadlock check (every worker is idle and needs the runtime's
  lock, which the check holds, to leave idle) or after the worker's loop has
  stopped. Walking another thread's frames makes CPython create frame objects
  for them (``_PyFrame_GetFrameObject``, an unlocked check-then-set), while
  greenlet keeps a switched-out stack's real ``previous`` pointer in the
  outermost frame's frame object and puts it back from there on the next
  switch. A frame object swapped in between left that outermost frame with no
  ``previous``, and the worker crashed when the frame returned.

``read_stacks(gs, read)`` applies ``read(g)`` to each started goroutine where
that is allowed: at once, or on its worker's thread (``Worker.submit``: the
worker serves the request on its next pass through its scheduler, when none of
its goroutines runs). All workers are asked at once and given ``TIMEOUT`` in
all; a worker busy in a goroutine that cannot be preempted (in a C call: see
``preempt``) does not answer, and its goroutines are left out of the result,
so callers must cope with gaps.

``world_stopped(workers)`` goes further, for the leak check, which must read
every stack and walk objects that goroutines may be changing: it holds every
other worker inside a request, in its scheduler, until the block ends, so no
goroutine runs anywhere but on the caller's thread (Go's stop-the-world, for
goroutines; plain threads still run). One stop at a time (``_world_lock``); a
worker waiting for its turn, or for the others to stop, serves its own
requests meanwhile, so two workers stopping the world at once take turns
instead of waiting for each other.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import TYPE_CHECKING, TypeVar

from .g import RUNNING
from .threads import tls

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from types import FrameType

    from .g import G
    from .worker import Request, Worker

T = TypeVar("T")

# How long the workers of a run get, in all, to answer (seconds).
TIMEOUT = 0.25

# How often a worker waiting to stop the world serves its own requests (seconds).
_POLL = 0.002
_world_lock = threading.Lock()

# Whether the GIL is on now (a free-threaded build turns it on at run time when
# it imports an extension module that needs it).
gil_enabled = getattr(sys, "_is_gil_enabled", lambda: True)


def read_stacks(gs: Iterable[G], read: Callable[[G], T], *, quiescent: bool = False) -> dict[G, T]:
    """``{g: read(g)}`` for each started goroutine of ``gs`` whose stack could
    be read (see the module docstring); ``quiescent``: no worker can switch a
    greenlet meanwhile, so any thread may read."""
    by_worker: dict[Worker, list[G]] = {}
    for g in gs:
        if g.greenlet is not None:
            by_worker.setdefault(g.worker, []).append(g)
    if quiescent or gil_enabled():
        return {g: read(g) for mine in by_worker.values() for g in mine}
    requests: list[Request] = [
        worker.submit(lambda mine=mine: {g: read(g) for g in mine})  # type: ignore[misc]
        for worker, mine in by_worker.items()
    ]
    deadline = time.monotonic() + TIMEOUT
    result: dict[G, T] = {}
    for request in requests:
        if request.wait(deadline):
            result.update(request.outcome())
    return result


def innermost_frame(g: G) -> FrameType | None:
    """``g``'s innermost frame, from a thread allowed to read it. For the
    goroutine running on the calling thread, the caller's frame (a frame of
    this package: callers skip those)."""
    if g.state != RUNNING:
        greenlet = g.greenlet
        return greenlet.gr_frame if greenlet is not None else None
    worker = getattr(g, "worker", None)  # racy by nature; see the module docstring
    if worker is None:
        return None
    if worker.thread_id == threading.get_ident():
        return sys._getframe(1)
    return sys._current_frames().get(worker.thread_id)


@contextlib.contextmanager
def world_stopped(workers: Iterable[Worker]) -> Iterator[bool]:
    """Hold ``workers`` (but the caller's) in their schedulers for the block
    (see the module docstring); yields whether all of them stopped within
    ``TIMEOUT`` (one running a goroutine that cannot be preempted does not)."""
    caller: Worker | None = getattr(tls, "worker", None)
    while not _world_lock.acquire(timeout=_POLL):
        if caller is not None:
            caller.serve_requests()
    resume = threading.Event()
    try:
        holds = [_hold(worker, resume) for worker in workers if worker is not caller]
        deadline = time.monotonic() + TIMEOUT
        yield all(_wait_until(held, deadline, caller) for held in holds)
    finally:
        resume.set()
        _world_lock.release()


def _hold(worker: Worker, resume: threading.Event) -> Callable[[], bool]:
    """Ask ``worker`` to wait for ``resume``; return a test of whether it does
    (or has stopped running goroutines for good)."""
    holding = threading.Event()

    def hold() -> None:
        if threading.get_ident() == worker.thread_id:  # not served for a stopped worker
            holding.set()
            resume.wait()

    request = worker.submit(hold)
    return lambda: holding.is_set() or request.done.is_set()


def _wait_until(held: Callable[[], bool], deadline: float, caller: Worker | None) -> bool:
    while not held():
        if time.monotonic() >= deadline:
            return False
        if caller is not None:
            caller.serve_requests()
        time.sleep(_POLL)
    return True
