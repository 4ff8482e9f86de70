"""``wait_blocked(op)``: wait until some goroutine is parked in ``op``.

A test of concurrent code often needs "the worker is now blocked receiving"
before it goes on (to check a dump, to cancel, to advance a clock). Sleeping
for a while is slow and still flaky; this looks at what each goroutine is
parked on instead (its wait reason and ``G.waiting_on``, the objects its park
named), as trio's ``wait_all_tasks_blocked`` does for a whole program.

``op`` is the bound method a goroutine is blocked in: ``ch.recv``,
``ch.recv_ok``, ``ch.send`` (of a channel or one of its directional views),
``mu.lock``, ``rw.lock``, ``rw.rlock``, ``wg.wait``, ``cond.wait``,
``once.do`` or ``sem.acquire``. A goroutine blocked in a ``select`` counts for
a channel operation when one of its cases waits on that channel in that
direction. Only goroutines count, not plain threads.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from .. import time as _gtime
from .._chan import Chan, _RecvView, _SendView, nilchan
from .._runtime import current_runtime, running_goroutine
from .._runtime.g import WAITING, G
from ..runtime import gosched, stack
from ..semaphore import Weighted
from ..sync import Cond, Mutex, Once, RWMutex, WaitGroup

if TYPE_CHECKING:
    from collections.abc import Callable

# For each operation: the wait reason it parks with, and for a channel
# operation whether it sends (a select with such a case counts too).
_OPERATIONS: Final[dict[Any, tuple[str, bool | None]]] = {
    Chan.recv: ("chan receive", False),
    Chan.recv_ok: ("chan receive", False),
    Chan.send: ("chan send", True),
    Mutex.lock: ("sync.Mutex.Lock", None),
    RWMutex.lock: ("sync.RWMutex.Lock", None),
    RWMutex.rlock: ("sync.RWMutex.RLock", None),
    WaitGroup.wait: ("sync.WaitGroup.Wait", None),
    Cond.wait: ("sync.Cond.Wait", None),
    Once.do: ("sync.Mutex.Lock", None),  # Go's waiters block on the Once's mutex
    Weighted.acquire: ("select", None),  # Go's Acquire blocks in a select
}

# How many times a goroutine yields before it starts sleeping between looks.
_YIELDS = 100
_POLL_INTERVAL = 0.001


def wait_blocked(op: Callable[..., Any], /, *, count: int = 1, timeout: float = 5.0) -> None:
    """Return once at least ``count`` goroutines are parked in ``op`` (see the
    module docstring for the operations); raise ``TimeoutError``, with a
    goroutine dump, if that has not happened within ``timeout`` seconds.

    Called from a goroutine it looks at that goroutine's run, yielding between
    looks so that the others can get there; from a plain thread it looks at the
    background runtime (the goroutines plain threads started).
    """
    target, reason, sending = _operation(op)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"wait_blocked: count must be an int >= 1, got {count!r}")
    deadline = time.monotonic() + timeout
    looks = 0
    while _parked(target, reason, sending) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"wait_blocked: fewer than {count} goroutines parked in {_name(op)} "
                f"after {timeout} s:\n\n{stack()}"
            )
        looks += 1
        if running_goroutine() is None:
            time.sleep(_POLL_INTERVAL)
        elif looks < _YIELDS:
            gosched()
        else:
            _gtime.sleep(_POLL_INTERVAL)


def _operation(op: Any) -> tuple[object, str, bool | None]:
    """``(object, wait reason, sending)`` for a supported bound method."""
    owner = getattr(op, "__self__", None)
    function = getattr(op, "__func__", None)
    if isinstance(owner, (_RecvView, _SendView, Chan)):
        owner = getattr(owner, "_chan", owner)
        # nilchan and views: Chan's own (a C method, with the compiled core, has no __func__)
        function = getattr(Chan, getattr(op, "__name__", ""), None)
    entry = _OPERATIONS.get(function)
    if owner is None or entry is None:
        raise TypeError(
            "wait_blocked: op must be a channel's recv, recv_ok or send, or the lock, "
            f"rlock, wait, do or acquire of a goroutines sync type, not {op!r}"
        )
    reason, sending = entry
    if owner is nilchan:
        return None, f"{reason} (nil chan)", None
    return owner, reason, sending


def _parked(target: object, reason: str, sending: bool | None) -> int:
    runtime = current_runtime()
    if runtime is None:
        return 0
    return sum(1 for g in list(runtime.allg.values()) if _parked_in(g, target, reason, sending))


def _parked_in(g: G, target: object, reason: str, sending: bool | None) -> bool:
    if g.state != WAITING:
        return False
    on = g.waiting_on
    if g.wait_reason == reason:
        return on is target or (type(on) is tuple and any(x is target for x in on))
    if sending is None or g.wait_reason != "select" or type(on) is not tuple:
        return False
    if not isinstance(target, Chan) or not any(x is target for x in on):
        return False
    return target._has_waiter(g, sending=sending)


def _name(op: Any) -> str:
    if isinstance(getattr(op, "__self__", None), (_RecvView, _SendView, Chan)):
        return f"Chan.{op.__name__}"  # whichever class defines it (see _chan._PyChanCore)
    return getattr(op, "__qualname__", None) or repr(op)
