"""The workloads on goroutines, written against the public API of API.md only.

``sync.WaitGroup`` joins goroutines when the runtime has it; otherwise a buffered channel does.
Goroutines still running when ``main`` returns (the sieve's filters) are abandoned, as Go does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from harness import RssGrowth, Stopwatch, Unavailable, nth_prime, verify

try:
    from goroutines import Chan, go, run, select
except ImportError as exc:  # the runtime has not landed yet
    raise Unavailable(f"goroutines not ready ({exc})") from exc


def spawn_join(n: int) -> float:
    def main() -> float:
        done, wait = _joiner(n)
        with Stopwatch() as clock:
            for _ in range(n):
                go(done)
            wait()
        return clock.seconds

    return run(main)


def ping_pong(n: int, trace: str | None = None) -> float:
    def main() -> float:
        ping: Chan[int] = Chan()
        pong: Chan[int] = Chan()
        go(_forward, ping, pong)
        with Stopwatch() as clock:
            for i in range(n):
                ping.send(i)
                pong.recv()
        ping.close()
        return clock.seconds

    return run(main, trace=trace)


def ping_pong_traced(n: int) -> float:
    """``ping_pong`` with the execution tracer on: the recording's cost (the
    file is written after ``main`` returns, outside the timed loop)."""
    with tempfile.TemporaryDirectory() as directory:
        return ping_pong(n, trace=os.path.join(directory, "trace.json"))


def ping_pong_no_preemption(n: int) -> float:
    """``ping_pong`` with preemption off (Go's ``GODEBUG=asyncpreemptoff=1``):
    against ``ping_pong``, what the sysmon thread costs when nothing overruns."""
    os.environ["GODEBUG"] = "asyncpreemptoff=1"  # read when the run starts
    return ping_pong(n)


def buffered(n: int, capacity: int) -> float:
    def main() -> float:
        channel: Chan[int] = Chan(capacity)
        with Stopwatch() as clock:
            go(_send_range_and_close, channel, n)
            for _ in channel:
                pass
        return clock.seconds

    return run(main)


def sieve(n: int) -> float:
    def main() -> float:
        with Stopwatch() as clock:
            numbers: Chan[int] = Chan()
            go(_generate, numbers)
            for _ in range(n):
                prime = numbers.recv()
                filtered: Chan[int] = Chan()
                go(_filter, numbers, filtered, prime)
                numbers = filtered
        verify("last prime", prime, nth_prime(n))
        return clock.seconds

    return run(main)


def ring(size: int, laps: int) -> float:
    """Main and ``size - 1`` relays form the ring; an untimed first lap starts every relay."""

    def main() -> float:
        first: Chan[int] = Chan()
        last = first
        for _ in range(size - 1):
            following: Chan[int] = Chan()
            go(_forward, last, following)
            last = following
        _lap(first, last, 0)
        with Stopwatch() as clock:
            for lap in range(1, laps + 1):
                _lap(first, last, lap)
        first.close()
        return clock.seconds

    return run(main)


def select_fan_in(producers: int, items: int) -> float:
    def main() -> float:
        channels: list[Chan[int]] = [Chan() for _ in range(producers)]
        cases = [channel.recv for channel in channels]
        total = 0
        with Stopwatch() as clock:
            for channel in channels:
                go(_send_range, channel, items)
            for _ in range(producers * items):
                _, value = select(*cases)
                total += value
        verify("sum of items", total, producers * sum(range(items)))
        return clock.seconds

    return run(main)


def rss_parked(n: int) -> float:
    def main() -> float:
        never: Chan[None] = Chan()
        started, wait_started = _joiner(n)

        def parked() -> None:
            started()
            never.recv()

        with RssGrowth() as rss:
            for _ in range(n):
                go(parked)
            wait_started()
        return rss.bytes

    return run(main)


def context_cancel(n: int) -> float:
    """n goroutines block in ``ctx.done().recv()``; the time from ``cancel()`` until every one
    of them has woken (each then counts down a WaitGroup). With one worker (the default on a
    GIL build) every goroutine is parked when ``ready.wait()`` returns: each one goes from
    ``ready.done()`` to its receive without a switch, and main runs only after the last."""
    from goroutines import context
    from goroutines.sync import WaitGroup

    def main() -> float:
        ctx, cancel = context.with_cancel(context.background())
        ready, woken = WaitGroup(), WaitGroup()
        ready.add(n)
        woken.add(n)

        def waiter() -> None:
            ready.done()
            ctx.done().recv()
            woken.done()

        for _ in range(n):
            go(waiter)
        ready.wait()
        with Stopwatch() as clock:
            cancel()
            woken.wait()
        verify("woken by the cancel", type(ctx.err()).__name__, "Canceled")
        return clock.seconds

    return run(main)


# --- goroutine bodies -------------------------------------------------------------------------


def _send_range(channel: Chan[int], n: int) -> None:
    for i in range(n):
        channel.send(i)


def _send_range_and_close(channel: Chan[int], n: int) -> None:
    _send_range(channel, n)
    channel.close()


def _forward(source: Chan[int], destination: Chan[int]) -> None:
    for value in source:
        destination.send(value)
    destination.close()


def _lap(first: Chan[int], last: Chan[int], token: int) -> None:
    first.send(token)
    verify("token", last.recv(), token)


def _generate(numbers: Chan[int]) -> None:
    i = 2
    while True:
        numbers.send(i)
        i += 1


def _filter(source: Chan[int], destination: Chan[int], prime: int) -> None:
    for i in source:
        if i % prime:
            destination.send(i)


def _joiner(n: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """``(done, wait)`` for n goroutines: a ``sync.WaitGroup``, or a channel without one."""
    try:
        from goroutines.sync import WaitGroup
    except ImportError:
        return _channel_joiner(n)
    group = WaitGroup()
    group.add(n)
    return group.done, group.wait


def _channel_joiner(n: int) -> tuple[Callable[[], None], Callable[[], None]]:
    finished: Chan[None] = Chan(n)

    def done() -> None:
        finished.send(None)

    def wait() -> None:
        for _ in range(n):
            finished.recv()

    return done, wait


# --- sync workloads ---------------------------------------------------------------------------


def mutex_uncontended(n: int) -> float:
    from goroutines.sync import Mutex

    def main() -> float:
        mutex = Mutex()
        lock, unlock = mutex.lock, mutex.unlock
        with Stopwatch() as clock:
            for _ in range(n):
                lock()
                unlock()
        return clock.seconds

    return run(main)


def mutex_contended(workers: int, n: int) -> float:
    """Each worker yields (``gosched``) while it holds the mutex, so the others queue on it."""
    from goroutines.runtime import gosched
    from goroutines.sync import Mutex, WaitGroup

    def main() -> float:
        mutex = Mutex()
        count = [0]

        def worker() -> None:
            for _ in range(n):
                with mutex:
                    count[0] += 1
                    gosched()

        group = WaitGroup()
        with Stopwatch() as clock:
            for _ in range(workers):
                group.go(worker)
            group.wait()
        verify("count", count[0], workers * n)
        return clock.seconds

    return run(main)


def waitgroup_fan(n: int) -> float:
    """Fan-out: n goroutines each ``done`` on ``ready`` and park in ``start.wait()``; one
    ``start.done()`` releases them all. Fan-in: each then ``done`` on ``finished``."""
    from goroutines.sync import WaitGroup

    def main() -> float:
        ready, start, finished = WaitGroup(), WaitGroup(), WaitGroup()
        ready.add(n)
        start.add(1)
        finished.add(n)

        def worker() -> None:
            ready.done()
            start.wait()
            finished.done()

        with Stopwatch() as clock:
            for _ in range(n):
                go(worker)
            ready.wait()
            start.done()
            finished.wait()
        return clock.seconds

    return run(main)
