"""Seed 004, "Concurrency vs parallelism in Go", section "Buffered channels as
semaphores", and seed 002, "Go Goroutines and Concurrency Fundamentals", best
practice 4 ("Limit Goroutine Count"), ported to goroutines.

A channel with N slots admits at most N goroutines at once: a send takes a
slot (blocking while all are taken), a receive gives it back.

Run it with:  python examples/seeds/channel_semaphore.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import Chan, atomic, go
from goroutines import time as gotime
from goroutines.sync import WaitGroup

LIMIT = 10


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


class Gauge:
    """How many goroutines are inside the limited section, and the most seen."""

    def __init__(self) -> None:
        self.inside = atomic.Int()
        self.peak = atomic.Int()

    def enter(self) -> None:
        now = self.inside.add(1)
        while True:  # raise the peak to `now` unless another goroutine beat us to it
            peak = self.peak.load()
            if now <= peak or self.peak.compare_and_swap(peak, now):
                return

    def leave(self) -> None:
        self.inside.add(-1)


def fetch_all(urls: list[str]) -> int:
    """Seed 004: every goroutine starts at once and waits for a slot itself."""
    sem: Chan[None] = Chan(LIMIT)  # Go: make(chan struct{}, 10)
    gauge = Gauge()
    wg = WaitGroup()

    def fetch(u: str) -> None:
        try:
            sem.send(None)  # acquire a slot
            try:
                gauge.enter()
                echo("fetching", u)
                gotime.sleep(0.01)  # the request
                gauge.leave()
            finally:
                sem.recv()  # release it
        finally:
            wg.done()

    for url in urls:
        wg.add(1)
        go(fetch, url)
    wg.wait()
    return gauge.peak.load()


def process_all(tasks: list[int]) -> int:
    """Seed 002: the loop takes a slot before starting each goroutine, so at
    most LIMIT goroutines exist at any time, not just LIMIT busy ones."""
    sem: Chan[None] = Chan(LIMIT)
    gauge = Gauge()
    wg = WaitGroup()

    def process_task(t: int) -> None:
        try:
            gauge.enter()
            gotime.sleep(0.01)
            gauge.leave()
        finally:
            sem.recv()  # release the slot the loop took for us
            wg.done()

    for task in tasks:
        sem.send(None)  # acquire; main blocks here while LIMIT tasks run
        wg.add(1)
        go(process_task, task)
    wg.wait()
    return gauge.peak.load()


def main() -> None:
    urls = [f"https://example.com/{i}" for i in range(50)]
    echo(f"fetched {len(urls)} urls, at most {fetch_all(urls)} at once (limit {LIMIT})")
    tasks = list(range(30))
    echo(f"processed {len(tasks)} tasks, at most {process_all(tasks)} at once (limit {LIMIT})")


if __name__ == "__main__":
    goroutines.run(main)
