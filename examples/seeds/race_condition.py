"""Seed 002, "Go Goroutines and Concurrency Fundamentals", sections "Race
Conditions" and "Avoiding Race Conditions", ported to goroutines.

A thousand goroutines increment one counter. Done as read-then-write it loses
updates; a Mutex, an atomic integer, or a single owning goroutine fed by a
channel each get 1000 every time.

Run it with:  python examples/seeds/race_condition.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, RecvChan, SendChan, atomic, go, runtime
from goroutines.sync import Mutex, WaitGroup

N = 1000


def racy() -> int:
    counter = 0
    wg = WaitGroup()

    def increment() -> None:
        nonlocal counter
        try:
            value = counter  # 1. read
            # Go can preempt a goroutine between any two steps; goroutines only
            # switch at a blocking call, so yield here to show what happens then.
            runtime.gosched()
            counter = value + 1  # 2.+3. add and write back: may overwrite others
        finally:
            wg.done()

    for _ in range(N):
        wg.add(1)
        go(increment)
    wg.wait()
    return counter


def with_mutex() -> int:
    """Solution 1: the read and the write happen under one lock."""
    counter = 0
    mu = Mutex()
    wg = WaitGroup()

    def increment() -> None:
        nonlocal counter
        with mu:  # Go: mu.Lock(); ...; mu.Unlock()
            value = counter
            runtime.gosched()  # the same yield as above: now harmless
            counter = value + 1

    for _ in range(N):
        wg.go(increment)
    wg.wait()
    return counter


def with_atomic() -> int:
    """Solution 2: one indivisible add."""
    counter = atomic.Int()
    wg = WaitGroup()
    for _ in range(N):
        wg.go(counter.add, 1)
    wg.wait()
    return counter.load()


def counter_goroutine(ch: RecvChan[int], total: SendChan[int]) -> None:
    count = 0
    for _ in ch:
        count += 1
    total.send(count)


def with_channel() -> int:
    """Solution 3: don't share the counter; one goroutine owns it."""
    ch: Chan[int] = Chan()
    total: Chan[int] = Chan()
    go(counter_goroutine, ch.recv_only(), total.send_only())
    for _ in range(N):
        ch.send(1)
    ch.close()
    return total.recv() or 0


def main() -> None:
    print(f"Counter without synchronization: {racy()} (expected {N})")
    print(f"Counter with a mutex: {with_mutex()}")
    print(f"Counter with an atomic: {with_atomic()}")
    print(f"Counter with a channel: {with_channel()}")


if __name__ == "__main__":
    goroutines.run(main)
