"""The workloads on asyncio, as coroutine functions; ``run_async`` runs one on a new event loop.

Emulations, since asyncio has neither of Go's two primitives:

* Unbuffered channel: ``asyncio.Queue(maxsize=1)``, the closest asyncio has. A ``put`` into it
  returns once the one slot is free instead of waiting for a receiver, so it is a little looser
  than a rendezvous (and cannot be slower for it). ``None`` stands for "closed".
* select: one pending ``get`` task per source, and ``asyncio.wait(..., FIRST_COMPLETED)`` over
  them; every value that arrived is taken and only its source is re-armed. That is select's
  shape (a waiter on every source, the first ready one wins) and loses no value.

impl_uvloop runs these same coroutines on uvloop's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from harness import RssGrowth, Stopwatch, nth_prime, verify

Queue = asyncio.Queue


def run_async(main: Callable[[], Coroutine[Any, Any, float]]) -> float:
    return asyncio.run(main())


async def spawn_join(n: int) -> float:
    with Stopwatch() as clock:
        async with asyncio.TaskGroup() as group:
            for _ in range(n):
                group.create_task(_nothing())
    return clock.seconds


async def ping_pong(n: int) -> float:
    ping: Queue[int | None] = Queue(1)
    pong: Queue[int | None] = Queue(1)
    echo = asyncio.create_task(_forward(ping, pong))
    with Stopwatch() as clock:
        for i in range(n):
            await ping.put(i)
            await pong.get()
    await ping.put(None)
    await echo
    return clock.seconds


async def buffered(n: int, capacity: int) -> float:
    channel: Queue[int | None] = Queue(capacity)
    with Stopwatch() as clock:
        producer = asyncio.create_task(_send_range_and_close(channel, n))
        while await channel.get() is not None:
            pass
    await producer
    return clock.seconds


async def sieve(n: int) -> float:
    """The generator and the filters are left running; ``asyncio.run`` cancels them after."""
    tasks = []
    with Stopwatch() as clock:
        numbers: Queue[int] = Queue(1)
        tasks.append(asyncio.create_task(_generate(numbers)))
        for _ in range(n):
            prime = await numbers.get()
            filtered: Queue[int] = Queue(1)
            tasks.append(asyncio.create_task(_filter(numbers, filtered, prime)))
            numbers = filtered
    verify("last prime", prime, nth_prime(n))
    return clock.seconds


async def ring(size: int, laps: int) -> float:
    """Main and ``size - 1`` relays form the ring; an untimed first lap starts every relay."""
    first: Queue[int | None] = Queue(1)
    last = first
    relays = []
    for _ in range(size - 1):
        following: Queue[int | None] = Queue(1)
        relays.append(asyncio.create_task(_forward(last, following)))
        last = following
    await _lap(first, last, 0)
    with Stopwatch() as clock:
        for lap in range(1, laps + 1):
            await _lap(first, last, lap)
    await first.put(None)
    await asyncio.gather(*relays)
    return clock.seconds


async def select_fan_in(producers: int, items: int) -> float:
    sources: list[Queue[int]] = [Queue(1) for _ in range(producers)]
    total = 0
    with Stopwatch() as clock:
        senders = [asyncio.create_task(_send_range(source, items)) for source in sources]
        left = [items] * producers  # values each source has still to deliver
        pending = {asyncio.create_task(source.get()): index for index, source in enumerate(sources)}
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for getter in done:
                index = pending.pop(getter)
                total += getter.result()
                left[index] -= 1
                if left[index]:
                    pending[asyncio.create_task(sources[index].get())] = index
    await asyncio.gather(*senders)
    verify("sum of items", total, producers * sum(range(items)))
    return clock.seconds


async def rss_parked(n: int) -> float:
    """One ``sleep(0)`` lets every new task run up to its ``get``.

    Afterwards each gets a value, so that they end cheaply: cancelling them instead would cost
    O(n) each, as a cancelled ``Queue.get`` removes itself from the middle of a deque.
    """
    empty: Queue[int] = Queue()
    with RssGrowth() as rss:
        parked = [asyncio.create_task(empty.get()) for _ in range(n)]
        await asyncio.sleep(0)
    verify("tasks parked", sum(not task.done() for task in parked), n)
    for _ in range(n):
        empty.put_nowait(0)
    await asyncio.gather(*parked)
    return rss.bytes


# --- task bodies ------------------------------------------------------------------------------


async def _nothing() -> None:
    pass


async def _send_range(channel: Queue[int], n: int) -> None:
    for i in range(n):
        await channel.put(i)


async def _send_range_and_close(channel: Queue[int | None], n: int) -> None:
    for i in range(n):
        await channel.put(i)
    await channel.put(None)


async def _forward(source: Queue[int | None], destination: Queue[int | None]) -> None:
    """Copies values up to and including the ``None`` that stands for close."""
    while True:
        value = await source.get()
        await destination.put(value)
        if value is None:
            return


async def _lap(first: Queue[int | None], last: Queue[int | None], token: int) -> None:
    await first.put(token)
    verify("token", await last.get(), token)


async def _generate(numbers: Queue[int]) -> None:
    i = 2
    while True:
        await numbers.put(i)
        i += 1


async def _filter(source: Queue[int], destination: Queue[int], prime: int) -> None:
    while True:
        i = await source.get()
        if i % prime:
            await destination.put(i)


# --- sync workloads: asyncio.Lock -------------------------------------------------------------


async def mutex_uncontended(n: int) -> float:
    lock = asyncio.Lock()
    acquire, release = lock.acquire, lock.release
    with Stopwatch() as clock:
        for _ in range(n):
            await acquire()
            release()
    return clock.seconds


async def mutex_contended(workers: int, n: int) -> float:
    """Each task yields (``asyncio.sleep(0)``) while it holds the lock."""
    lock = asyncio.Lock()
    count = [0]

    async def worker() -> None:
        for _ in range(n):
            async with lock:
                count[0] += 1
                await asyncio.sleep(0)

    with Stopwatch() as clock:
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
    verify("count", count[0], workers * n)
    return clock.seconds


async def waitgroup_fan(n: int) -> float:
    """``asyncio.Event`` releases the tasks (one ``sleep(0)`` first runs each up to its wait);
    a counter and an Event join them."""
    start, finished = asyncio.Event(), asyncio.Event()
    remaining = [n]

    async def worker() -> None:
        await start.wait()
        remaining[0] -= 1
        if not remaining[0]:
            finished.set()

    with Stopwatch() as clock:
        tasks = [asyncio.create_task(worker()) for _ in range(n)]
        await asyncio.sleep(0)
        start.set()
        await finished.wait()
    await asyncio.gather(*tasks)
    return clock.seconds
