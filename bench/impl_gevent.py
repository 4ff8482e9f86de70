"""The workloads on gevent greenlets, without monkey-patching (none of them does I/O).

* Unbuffered channel: ``gevent.queue.Channel``, a true rendezvous; ``None`` stands for "closed".
* Buffered channel: ``gevent.queue.Queue(maxsize)``.
* select: one forwarding greenlet per source copies its values into one merged ``Channel``,
  which the consumer reads; gevent cannot wait on several queues at once.
"""

from __future__ import annotations

import gevent
from gevent.event import Event
from gevent.lock import Semaphore
from gevent.queue import Channel, Queue

from harness import RssGrowth, Stopwatch, nth_prime, verify


def spawn_join(n: int) -> float:
    with Stopwatch() as clock:
        gevent.joinall([gevent.spawn(_nothing) for _ in range(n)])
    return clock.seconds


def ping_pong(n: int) -> float:
    ping, pong = Channel(), Channel()
    echo = gevent.spawn(_forward, ping, pong)
    with Stopwatch() as clock:
        for i in range(n):
            ping.put(i)
            pong.get()
    _close(ping, pong)
    echo.join()
    return clock.seconds


def buffered(n: int, capacity: int) -> float:
    channel = Queue(capacity)
    with Stopwatch() as clock:
        producer = gevent.spawn(_send_range_and_close, channel, n)
        while channel.get() is not None:
            pass
    producer.join()
    return clock.seconds


def sieve(n: int) -> float:
    """The generator and the filters are left blocked when it returns."""
    with Stopwatch() as clock:
        numbers = Channel()
        gevent.spawn(_generate, numbers)
        for _ in range(n):
            prime = numbers.get()
            filtered = Channel()
            gevent.spawn(_filter, numbers, filtered, prime)
            numbers = filtered
    verify("last prime", prime, nth_prime(n))
    return clock.seconds


def ring(size: int, laps: int) -> float:
    """Main and ``size - 1`` relays form the ring; an untimed first lap starts every relay."""
    first = last = Channel()
    relays = []
    for _ in range(size - 1):
        following = Channel()
        relays.append(gevent.spawn(_forward, last, following))
        last = following
    _lap(first, last, 0)
    with Stopwatch() as clock:
        for lap in range(1, laps + 1):
            _lap(first, last, lap)
    _close(first, last)
    gevent.joinall(relays)
    return clock.seconds


def select_fan_in(producers: int, items: int) -> float:
    sources = [Channel() for _ in range(producers)]
    merged = Channel()
    total = 0
    with Stopwatch() as clock:
        greenlets = [gevent.spawn(_send_range, source, items) for source in sources]
        greenlets += [gevent.spawn(_forward_count, source, merged, items) for source in sources]
        for _ in range(producers * items):
            total += merged.get()
    gevent.joinall(greenlets)
    verify("sum of items", total, producers * sum(range(items)))
    return clock.seconds


def rss_parked(n: int) -> float:
    """One ``sleep(0)`` runs every new greenlet up to its ``get``; they stay blocked at exit."""
    never = Channel()
    with RssGrowth() as rss:
        for _ in range(n):
            gevent.spawn(never.get)
        gevent.sleep(0)
    return rss.bytes


# --- greenlet bodies --------------------------------------------------------------------------


def _nothing() -> None:
    pass


def _send_range(channel: Channel, n: int) -> None:
    for i in range(n):
        channel.put(i)


def _send_range_and_close(channel: Queue, n: int) -> None:
    for i in range(n):
        channel.put(i)
    channel.put(None)


def _forward(source: Channel, destination: Channel) -> None:
    """Copies values up to and including the ``None`` that stands for close."""
    while True:
        value = source.get()
        destination.put(value)
        if value is None:
            return


def _close(first: Channel, last: Channel) -> None:
    """Sends the close down a chain of forwarders and takes it off the far end."""
    first.put(None)
    verify("close", last.get(), None)


def _forward_count(source: Channel, destination: Channel, count: int) -> None:
    for _ in range(count):
        destination.put(source.get())


def _lap(first: Channel, last: Channel, token: int) -> None:
    first.put(token)
    verify("token", last.get(), token)


def _generate(numbers: Channel) -> None:
    i = 2
    while True:
        numbers.put(i)
        i += 1


def _filter(source: Channel, destination: Channel, prime: int) -> None:
    while True:
        i = source.get()
        if i % prime:
            destination.put(i)


# --- sync workloads: gevent.lock.Semaphore(1), gevent's lock ----------------------------------


def mutex_uncontended(n: int) -> float:
    lock = Semaphore(1)
    acquire, release = lock.acquire, lock.release
    with Stopwatch() as clock:
        for _ in range(n):
            acquire()
            release()
    return clock.seconds


def mutex_contended(workers: int, n: int) -> float:
    """Each greenlet yields (``gevent.sleep(0)``) while it holds the lock."""
    lock = Semaphore(1)
    count = [0]

    def worker() -> None:
        for _ in range(n):
            with lock:
                count[0] += 1
                gevent.sleep(0)

    with Stopwatch() as clock:
        gevent.joinall([gevent.spawn(worker) for _ in range(workers)])
    verify("count", count[0], workers * n)
    return clock.seconds


def waitgroup_fan(n: int) -> float:
    """``gevent.event.Event`` releases the greenlets; a counter and an Event join them."""
    start, finished = Event(), Event()
    remaining = [n]

    def worker() -> None:
        start.wait()
        remaining[0] -= 1
        if not remaining[0]:
            finished.set()

    with Stopwatch() as clock:
        for _ in range(n):
            gevent.spawn(worker)
        gevent.sleep(0)  # every greenlet runs up to ``start.wait()``
        start.set()
        finished.wait()
    return clock.seconds
