"""Seed 004, "Concurrency vs parallelism in Go", section "Mutex for shared
state", ported to goroutines.

A counter guarded by a Mutex, and a cache guarded by an RWMutex, which lets
any number of readers in at once but a writer only alone.

Run it with:  python examples/seeds/safe_counter.py
"""

from __future__ import annotations

import goroutines
from goroutines.sync import Mutex, RWMutex, WaitGroup


class SafeCounter:
    def __init__(self) -> None:
        self._mu = Mutex()
        self._value = 0

    def inc(self) -> None:
        with self._mu:  # Go: c.mu.Lock(); defer c.mu.Unlock()
            self._value += 1

    def get(self) -> int:
        with self._mu:
            return self._value


class Cache:
    def __init__(self) -> None:
        self._mu = RWMutex()
        self._items: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        self._mu.rlock()  # shared: readers do not block each other
        try:
            return self._items.get(key)
        finally:
            self._mu.runlock()  # Go: defer c.mu.RUnlock()

    def set(self, key: str, value: str) -> None:
        with self._mu:  # exclusive: waits for readers and other writers
            self._items[key] = value


def main() -> None:
    counter = SafeCounter()
    wg = WaitGroup()
    for _ in range(1000):
        wg.go(counter.inc)
    wg.wait()
    print(counter.get())  # always 1000

    cache = Cache()
    for i in range(10):
        wg.go(cache.set, f"user:{i}", f"name {i}")
    wg.wait()
    hits: list[str] = []
    for i in range(0, 20, 2):
        value = cache.get(f"user:{i}")
        if value is not None:
            hits.append(value)
    print("cache hits:", hits)


if __name__ == "__main__":
    goroutines.run(main)
