"""The workloads on OS threads and ``queue.Queue``, one thread per goroutine.

* Unbuffered channel: ``queue.Queue(maxsize=1)`` (a ``put`` returns once the slot is free, a
  little looser than a rendezvous); ``None`` stands for "closed".
* select: one forwarding thread per source copies its values into one merged queue, which the
  consumer reads; there is no way to wait on several ``queue.Queue`` objects at once.
* Sizes: spawn and rss_100k run 10,000 threads instead of 100,000 (see ``Workload.caps``), and
  rss_1m does not run; threads that would never end are daemon threads, left behind at exit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from queue import Queue
from typing import Any

from harness import RssGrowth, Stopwatch, nth_prime, verify


def spawn_join(n: int) -> float:
    with Stopwatch() as clock:
        threads = [_start(_nothing) for _ in range(n)]
        for thread in threads:
            thread.join()
    return clock.seconds


def ping_pong(n: int) -> float:
    ping: Queue[int | None] = Queue(1)
    pong: Queue[int | None] = Queue(1)
    echo = _start(_forward, ping, pong)
    with Stopwatch() as clock:
        for i in range(n):
            ping.put(i)
            pong.get()
    ping.put(None)
    echo.join()
    return clock.seconds


def buffered(n: int, capacity: int) -> float:
    channel: Queue[int | None] = Queue(capacity)
    with Stopwatch() as clock:
        producer = _start(_send_range_and_close, channel, n)
        while channel.get() is not None:
            pass
    producer.join()
    return clock.seconds


def sieve(n: int) -> float:
    with Stopwatch() as clock:
        numbers: Queue[int] = Queue(1)
        _start(_generate, numbers)
        for _ in range(n):
            prime = numbers.get()
            filtered: Queue[int] = Queue(1)
            _start(_filter, numbers, filtered, prime)
            numbers = filtered
    verify("last prime", prime, nth_prime(n))
    return clock.seconds


def ring(size: int, laps: int) -> float:
    """Main and ``size - 1`` relays form the ring; an untimed first lap starts every relay."""
    first: Queue[int | None] = Queue(1)
    last = first
    relays = []
    for _ in range(size - 1):
        following: Queue[int | None] = Queue(1)
        relays.append(_start(_forward, last, following))
        last = following
    _lap(first, last, 0)
    with Stopwatch() as clock:
        for lap in range(1, laps + 1):
            _lap(first, last, lap)
    first.put(None)
    for relay in relays:
        relay.join()
    return clock.seconds


def select_fan_in(producers: int, items: int) -> float:
    sources: list[Queue[int]] = [Queue(1) for _ in range(producers)]
    merged: Queue[int] = Queue(1)
    total = 0
    with Stopwatch() as clock:
        threads = [_start(_send_range, source, items) for source in sources]
        threads += [_start(_forward_count, source, merged, items) for source in sources]
        for _ in range(producers * items):
            total += merged.get()
    for thread in threads:
        thread.join()
    verify("sum of items", total, producers * sum(range(items)))
    return clock.seconds


def rss_parked(n: int) -> float:
    """Each thread signals before it blocks; a short sleep then lets the last ones block."""
    never: Queue[int] = Queue()
    started = threading.Semaphore(0)

    def parked() -> None:
        started.release()
        never.get()

    with RssGrowth() as rss:
        for _ in range(n):
            _start(parked)
        for _ in range(n):
            started.acquire()
        time.sleep(0.1)
    return rss.bytes


# --- thread bodies ----------------------------------------------------------------------------


def _start(target: Callable[..., None], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def _nothing() -> None:
    pass


def _send_range(channel: Queue[int], n: int) -> None:
    for i in range(n):
        channel.put(i)


def _send_range_and_close(channel: Queue[int | None], n: int) -> None:
    for i in range(n):
        channel.put(i)
    channel.put(None)


def _forward(source: Queue[int | None], destination: Queue[int | None]) -> None:
    """Copies values up to and including the ``None`` that stands for close."""
    while True:
        value = source.get()
        destination.put(value)
        if value is None:
            return


def _forward_count(source: Queue[int], destination: Queue[int], count: int) -> None:
    for _ in range(count):
        destination.put(source.get())


def _lap(first: Queue[int | None], last: Queue[int | None], token: int) -> None:
    first.put(token)
    verify("token", last.get(), token)


def _generate(numbers: Queue[int]) -> None:
    i = 2
    while True:
        numbers.put(i)
        i += 1


def _filter(source: Queue[int], destination: Queue[int], prime: int) -> None:
    while True:
        i = source.get()
        if i % prime:
            destination.put(i)


# --- sync workloads: threading.Lock -----------------------------------------------------------


def mutex_uncontended(n: int) -> float:
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    with Stopwatch() as clock:
        for _ in range(n):
            acquire()
            release()
    return clock.seconds


def mutex_contended(workers: int, n: int) -> float:
    """Each thread yields (``time.sleep(0)`` drops the GIL) while it holds the lock."""
    lock = threading.Lock()
    count = [0]

    def worker() -> None:
        for _ in range(n):
            with lock:
                count[0] += 1
                time.sleep(0)

    with Stopwatch() as clock:
        threads = [_start(worker) for _ in range(workers)]
        for thread in threads:
            thread.join()
    verify("count", count[0], workers * n)
    return clock.seconds


def waitgroup_fan(n: int) -> float:
    """A countdown (lock + Event) stands in for each WaitGroup; ``start`` is an Event."""
    ready, finished, start = _Countdown(n), _Countdown(n), threading.Event()

    def worker() -> None:
        ready.done()
        start.wait()
        finished.done()

    with Stopwatch() as clock:
        threads = [_start(worker) for _ in range(n)]
        ready.wait()
        start.set()
        finished.wait()
    for thread in threads:
        thread.join()
    return clock.seconds


class _Countdown:
    def __init__(self, n: int) -> None:
        self._lock = threading.Lock()
        self._count = n
        self._zero = threading.Event()

    def done(self) -> None:
        with self._lock:
            self._count -= 1
            if not self._count:
                self._zero.set()

    def wait(self) -> None:
        self._zero.wait()
