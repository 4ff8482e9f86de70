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

Stacks are read where that is safe (``stacks.read_stacks``): without the
GIL, by each worker for its own goroutines. A goroutine whose worker does not
answer in time (it runs a goroutine that cannot be preempted: see
``preempt``) is shown by its
function, and a running one with Go's words for that: ``goroutine running on
other thread; stack unavailable``. The dump is a snapshot, as Go's is: a
goroutine may have moved on since.
"""

from __future__ import annotations

import os
import time
from types import BuiltinMethodType, MethodType, ModuleType
from typing import TYPE_CHECKING, Any

from .g import DEAD, RUNNABLE, RUNNING
from .stacks import innermost_frame, read_stacks

if TYPE_CHECKING:
    from collections.abc import Container
    from types import FrameType

    from .g import G

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def format_goroutines(
    gs: list[G], leaked: Container[G] = frozenset(), *, quiescent: bool = False
) -> str:
    """The dump of ``gs``, ordered by goroutine id; those in ``leaked`` are
    marked so. ``quiescent``: no worker can switch a goroutine meanwhile (the
    deadlock check), so stacks may be read from this thread."""
    gs = sorted((g for g in gs if g.state != DEAD), key=lambda g: g.id)
    stacks = read_stacks(gs, _state_and_frame_lines, quiescent=quiescent)
    return "\n".join(format_goroutine(g, g in leaked, stacks.get(g)) for g in gs)


def format_goroutine(g: G, leaked: bool, stack: tuple[int, list[str]] | None) -> str:
    """One goroutine's block; ``stack``: its state and frame lines, read
    together (a goroutine preempted for the reading runs again right after),
    or None if unreadable."""
    state = g.state if stack is None else stack[0]
    lines = [f"goroutine {g.id} [{status(g, leaked, state)}]:"]
    if stack and stack[1]:
        lines.extend(stack[1])
    elif stack is None and g.greenlet is not None and state == RUNNING:
        lines.append("goroutine running on other thread; stack unavailable")
    elif g.fn is not None:
        lines.extend(_function_lines(g))
    if g.parent_id or g.created_at is not None:
        lines.extend(_created_by_lines(g))
    return "\n".join(lines) + "\n"


def status(g: G, leaked: bool = False, state: int | None = None) -> str:
    """Go's status word for a goroutine in ``state`` (default: its state now):
    ``running``, ``runnable`` or its wait reason, then `` (leaked)`` if
    ``leaked``, then ``, M minutes`` once it has waited a minute or more."""
    state = g.state if state is None else state
    if state == RUNNING:
        return "running"
    if state == RUNNABLE:
        return "runnable"
    reason = f"{g.wait_reason} (leaked)" if leaked else g.wait_reason
    since = getattr(g, "waiting_since", None)  # park sets it before state; a dump reads racily
    minutes = int((time.monotonic() - since) // 60) if since is not None else 0
    if minutes >= 1:
        return f"{reason}, {minutes} minutes"  # Go's words, "1 minutes" included
    return reason


def _state_and_frame_lines(g: G) -> tuple[int, list[str]]:
    return g.state, _frame_lines(g)


def _frame_lines(g: G) -> list[str]:
    """``g``'s frames outside this package, outermost first, two lines each
    (called where reading them is safe: see ``stacks``)."""
    top = innermost_frame(g)
    frames: list[FrameType] = []
    while top is not None:
        if not top.f_code.co_filename.startswith(_PACKAGE_DIR):
            frames.append(top)
        elif frames and top.f_code.co_name == "_execute":
            break  # the bottom of this goroutine's own stack
        top = top.f_back
    lines = []
    for frame in reversed(frames):
        code = frame.f_code
        lines.append(f"{frame.f_globals.get('__name__', '?')}.{code.co_qualname}(...)")
        lines.append(f"\t{code.co_filename}:{frame.f_lineno}")
    return lines


def describe(fn: Any) -> str:
    """A function's qualified name for notes and dumps. A method is named
    after its object's class (``goroutines.Chan.recv``), whether it is
    a Python function or, with the compiled core, a C one."""
    owner = getattr(fn, "__self__", None)
    if isinstance(fn, MethodType | BuiltinMethodType) and not isinstance(owner, ModuleType):
        cls = type(owner)
        return f"{cls.__module__}.{cls.__qualname__}.{fn.__name__}"
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or repr(fn)
    return f"{module}.{qualname}" if module else qualname


def _function_lines(g: G) -> list[str]:
    """A goroutine that has not started: show the function it will run."""
    code = getattr(g.fn, "__code__", None)
    name = describe(g.fn)
    if code is None:
        return [f"{name}(...)"]
    return [f"{name}(...)", f"\t{code.co_filename}:{code.co_firstlineno}"]


def _created_by_lines(g: G) -> list[str]:
    if g.created_at is None:
        return []
    module, code, line = g.created_at
    where = f" in goroutine {g.parent_id}" if g.parent_id else ""
    return [f"created by {module}.{code.co_qualname}{where}", f"\t{code.co_filename}:{line}"]
