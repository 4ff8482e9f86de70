"""``goroutines.testing.synctest``: tests of time that run instantly (Go's
``testing/synctest``).

``run(main)`` is ``goroutines.run(main)`` with a fake clock: ``goroutines.time``
(``now``, ``sleep``, ``after``, ``Timer``, ``Ticker``, ``after_func``) and
context deadlines go by it. It starts at 2000-01-01 00:00:00 UTC in Unix seconds
(946684800.0, as Go's bubbles do) and moves only when every goroutine of the
run is durably blocked, by jumping to the earliest pending timer. A test of a
one-hour timeout takes microseconds, and reads the same times on every run::

    def test_timeout():
        def main():
            ctx, cancel = context.with_timeout(context.background(), 3600)
            start = gtime.now()
            ctx.done().recv()                  # the clock jumps an hour
            assert gtime.since(start) == 3600
            cancel()
        synctest.run(main)

``wait()`` returns once every other goroutine of the run is durably blocked,
before the clock moves: the way to say "let everything that can run, run",
without sleeping.

*Durably blocked* means parked on a channel, a select, a ``sync`` lock,
WaitGroup or Cond, or a sleep or timer, with no plain thread that uses
goroutines objects still running. A goroutine waiting on I/O (a socket, a
``blocking`` call) is not: while one does, the clock stands still, and an I/O
timeout only fires once the I/O wait ends by itself, as in Go. Code that
reads ``time.monotonic()`` or ``time.time()`` directly sees real time.
A run that has no timer left and every goroutine blocked deadlocks, as any
run does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from .._runtime import run_in_bubble, wait_in_bubble

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["run", "wait"]

R = TypeVar("R")


def run(
    main: Callable[..., R],
    /,
    *args: Any,
    gomaxprocs: int | None = None,
    seed: int | None = None,
    **kwargs: Any,
) -> R:
    """``goroutines.run(main, *args, **kwargs)`` with a fake clock (see the module
    docstring); returns main's result or raises as ``run`` does.

    With ``seed``, the run is also deterministic: one worker, which picks the
    next goroutine to run, and ``select`` its case, with
    ``random.Random(seed)``. The same seed gives the same interleaving, as long
    as the program uses no plain threads and no I/O; different seeds explore
    different interleavings. An exception the run raises carries a note with
    the seed, to replay it.
    """
    return run_in_bubble(main, args, kwargs, gomaxprocs, seed)


def wait() -> None:
    """Wait until every other goroutine of this ``synctest.run`` is durably
    blocked (Go's ``synctest.Wait``). Raises ``RuntimeError`` outside one, or
    while another goroutine of the run is waiting already."""
    wait_in_bubble()
