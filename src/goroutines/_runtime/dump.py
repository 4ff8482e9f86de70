"""Goroutine dumps in Go's format (``runtime.stack``, ``DeadlockError``).

For each goroutine::

    goroutine 7 [chan receive, 3 minutes]:
    __main__.worker(...)
    \t/path/to/prog.py:12
    created by __main__.main in goroutine 1
    \t/path/to/prog.py:30

The wait reason is followed by `` (leaked)`` for a goroutine the leak check
found blocked forever (see ``leaks``), then by how long the goroutine has been
parked, in whole minutes, once that is at least one (Go's words: ``1 minutes``
too): ``goroutine 7 [chan send (leaked), 2 minutes]:``.
Frames are listed outermost first, innermost call last, as a Python traceback
reads (API.md fixes this order; Go prints the innermost frame first).
Frames of this package are left out: a reader wants to see the line of *their*
code that blocked (``ch.recv()``), not the runtime's switch into the scheduler.

Reading another goroutine's stack is racy by nature (it may be running on
another worker); the dump is a snapshot, as Go's is. With the GIL, each read
of a frame is atomic with respect to greenlet switches, so a goroutine that
runs, parks or finishes meanwhile only makes the snapshot stale. Without the
GIL (3.13t), a greenlet that its worker resumes while another thread reads its
frames can crash the interpreter; that is a known limit, not yet fixed.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING

from .g import DEAD, RUNNABLE, RUNNING

if TYPE_CHECKING:
    from collections.abc import Container
    from types import FrameType

    from .g import G

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def format_goroutines(gs: list[G], leaked: Container[G] = frozenset()) -> str:
    """The dump of ``gs``, ordered by goroutine id; those in ``leaked`` are
    marked so."""
    gs = sorted((g for g in gs if g.state != DEAD), key=lambda g: g.id)
    return "\n".join(format_goroutine(g, g in leaked) for g in gs)


def format_goroutine(g: G, leaked: bool = False) -> str:
    lines = [f"goroutine {g.id} [{status(g, leaked)}]:"]
    frames = _frames_of(g)
    if frames:
        for frame in frames:
            code = frame.f_code
            lines.append(f"{frame.f_globals.get('__name__', '?')}.{code.co_qualname}(...)")
            lines.append(f"\t{code.co_filename}:{frame.f_lineno}")
    elif g.fn is not None:
        lines.extend(_function_lines(g))
    if g.parent_id or g.created_at is not None:
        lines.extend(_created_by_lines(g))
    return "\n".join(lines) + "\n"


def status(g: G, leaked: bool = False) -> str:
    """Go's status word for a goroutine: ``running``, ``runnable`` or its wait
    reason, then `` (leaked)`` if ``leaked``, then ``, M minutes`` once it has
    waited a minute or more."""
    if g.state == RUNNING:
        return "running"
    if g.state == RUNNABLE:
        return "runnable"
    reason = f"{g.wait_reason} (leaked)" if leaked else g.wait_reason
    since = getattr(g, "waiting_since", None)  # park sets it before state; a dump reads racily
    minutes = int((time.monotonic() - since) // 60) if since is not None else 0
    if minutes >= 1:
        return f"{reason}, {minutes} minutes"  # Go's words, "1 minutes" included
    return reason


def _frames_of(g: G) -> list[FrameType]:
    top: FrameType | None
    if g.state == RUNNING:
        worker = getattr(g, "worker", None)  # racy by nature; see the module docstring
        if worker is None:
            return []
        if worker.thread_id == threading.get_ident():
            top = sys._getframe(1)
        else:
            top = sys._current_frames().get(worker.thread_id)
    elif g.greenlet is not None:
        top = g.greenlet.gr_frame
    else:
        return []
    frames: list[FrameType] = []
    while top is not None:
        if not top.f_code.co_filename.startswith(_PACKAGE_DIR):
            frames.append(top)
        elif frames and top.f_code.co_name == "_execute":
            break  # the bottom of this goroutine's own stack
        top = top.f_back
    frames.reverse()
    return frames


def _function_lines(g: G) -> list[str]:
    """A goroutine that has not started: show the function it will run."""
    code = getattr(g.fn, "__code__", None)
    name = f"{getattr(g.fn, '__module__', '?')}.{getattr(g.fn, '__qualname__', repr(g.fn))}"
    if code is None:
        return [f"{name}(...)"]
    return [f"{name}(...)", f"\t{code.co_filename}:{code.co_firstlineno}"]


def _created_by_lines(g: G) -> list[str]:
    if g.created_at is None:
        return []
    module, code, line = g.created_at
    where = f" in goroutine {g.parent_id}" if g.parent_id else ""
    return [f"created by {module}.{code.co_qualname}{where}", f"\t{code.co_filename}:{line}"]
