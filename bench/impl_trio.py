"""The workloads on trio, as coroutine functions; ``run_async`` runs one with ``trio.run``.

* Unbuffered channel: ``trio.open_memory_channel(0)``, a true rendezvous with a real close.
* select: one forwarding task per source copies its values into one merged channel, which the
  consumer reads; trio has no way to wait on several channels at once, and its documentation
  recommends exactly this fan-in.
* Tasks that would never end (the sieve's filters, the parked tasks) are cancelled through
  their nursery after the measurement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio
import trio.testing
from trio import MemoryReceiveChannel, MemorySendChannel

from harness import RssGrowth, Stopwatch, nth_prime, verify


def run_async(main: Callable[[], Awaitable[float]]) -> float:
    return trio.run(main)


async def spawn_join(n: int) -> float:
    with Stopwatch() as clock:
        async with trio.open_nursery() as nursery:
            for _ in range(n):
                nursery.start_soon(_nothing)
    return clock.seconds


async def ping_pong(n: int) -> float:
    ping_send, ping_receive = trio.open_memory_channel[int](0)
    pong_send, pong_receive = trio.open_memory_channel[int](0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_forward, ping_receive, pong_send)
        with Stopwatch() as clock:
            for i in range(n):
                await ping_send.send(i)
                await pong_receive.receive()
        await ping_send.aclose()
    return clock.seconds


async def buffered(n: int, capacity: int) -> float:
    send, receive = trio.open_memory_channel[int](capacity)
    async with trio.open_nursery() as nursery:
        with Stopwatch() as clock:
            nursery.start_soon(_send_range_and_close, send, n)
            async for _ in receive:
                pass
    return clock.seconds


async def sieve(n: int) -> float:
    async with trio.open_nursery() as nursery:
        with Stopwatch() as clock:
            send, numbers = trio.open_memory_channel[int](0)
            nursery.start_soon(_generate, send)
            for _ in range(n):
                prime = await numbers.receive()
                send, filtered = trio.open_memory_channel[int](0)
                nursery.start_soon(_filter, numbers, send, prime)
                numbers = filtered
        nursery.cancel_scope.cancel()
    verify("last prime", prime, nth_prime(n))
    return clock.seconds


async def ring(size: int, laps: int) -> float:
    """Main and ``size - 1`` relays form the ring; an untimed first lap starts every relay."""
    first, last = trio.open_memory_channel[int](0)
    async with trio.open_nursery() as nursery:
        for _ in range(size - 1):
            send, following = trio.open_memory_channel[int](0)
            nursery.start_soon(_forward, last, send)
            last = following
        await _lap(first, last, 0)
        with Stopwatch() as clock:
            for lap in range(1, laps + 1):
                await _lap(first, last, lap)
        await first.aclose()
    return clock.seconds


async def select_fan_in(producers: int, items: int) -> float:
    merged_send, merged = trio.open_memory_channel[int](0)
    total = 0
    async with trio.open_nursery() as nursery:
        with Stopwatch() as clock:
            for _ in range(producers):
                send, source = trio.open_memory_channel[int](0)
                nursery.start_soon(_send_range_and_close, send, items)
                nursery.start_soon(_forward, source, merged_send.clone())
            await merged_send.aclose()
            async for value in merged:
                total += value
    verify("sum of items", total, producers * sum(range(items)))
    return clock.seconds


async def rss_parked(n: int) -> float:
    """Measured once ``wait_all_tasks_blocked`` says every new task is blocked in ``receive``."""
    send, never = trio.open_memory_channel[int](0)
    async with send, trio.open_nursery() as nursery:
        with RssGrowth() as rss:
            for _ in range(n):
                nursery.start_soon(never.receive)
            await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    return rss.bytes


# --- task bodies ------------------------------------------------------------------------------


async def _nothing() -> None:
    pass


async def _send_range_and_close(channel: MemorySendChannel[int], n: int) -> None:
    async with channel:
        for i in range(n):
            await channel.send(i)


async def _forward(source: MemoryReceiveChannel[int], destination: MemorySendChannel[int]) -> None:
    """Copies every value, then closes ``destination`` when ``source`` is closed."""
    async with destination:
        async for value in source:
            await destination.send(value)


async def _lap(first: MemorySendChannel[int], last: MemoryReceiveChannel[int], token: int) -> None:
    await first.send(token)
    verify("token", await last.receive(), token)


async def _generate(numbers: MemorySendChannel[int]) -> None:
    i = 2
    while True:
        await numbers.send(i)
        i += 1


async def _filter(
    source: MemoryReceiveChannel[int], destination: MemorySendChannel[int], prime: int
) -> None:
    async for i in source:
        if i % prime:
            await destination.send(i)


# --- sync workloads: trio.Lock ----------------------------------------------------------------


async def mutex_uncontended(n: int) -> float:
    lock = trio.Lock()
    acquire, release = lock.acquire, lock.release
    with Stopwatch() as clock:
        for _ in range(n):
            await acquire()
            release()
    return clock.seconds


async def mutex_contended(workers: int, n: int) -> float:
    """Each task yields (``trio.sleep(0)``) while it holds the lock."""
    lock = trio.Lock()
    count = [0]

    async def worker() -> None:
        for _ in range(n):
            async with lock:
                count[0] += 1
                await trio.sleep(0)

    with Stopwatch() as clock:
        async with trio.open_nursery() as nursery:
            for _ in range(workers):
                nursery.start_soon(worker)
    verify("count", count[0], workers * n)
    return clock.seconds


async def waitgroup_fan(n: int) -> float:
    """``trio.Event`` releases the tasks once ``wait_all_tasks_blocked`` says all wait on it;
    the nursery joins them."""
    start = trio.Event()
    with Stopwatch() as clock:
        async with trio.open_nursery() as nursery:
            for _ in range(n):
                nursery.start_soon(start.wait)
            await trio.testing.wait_all_tasks_blocked()
            start.set()
    return clock.seconds
