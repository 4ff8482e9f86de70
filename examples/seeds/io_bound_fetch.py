"""Seed 002, "Go Goroutines and Concurrency Fundamentals", section "Example:
I/O-Bound Concurrency", ported to goroutines.

Three slow fetches run at once, so the total time is about the slowest one,
not the sum. The fetches are simulated (a sleep stands for the network) so
that the example runs offline.

Run it with:  python examples/seeds/io_bound_fetch.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import go
from goroutines import time as gotime
from goroutines.sync import WaitGroup

# Simulated sites: URL -> (latency in seconds, page size in bytes).
SITES = {
    "https://golang.org": (0.10, 61_952),
    "https://github.com": (0.15, 286_114),
    "https://stackoverflow.com": (0.20, 173_250),
}


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def fetch_url(url: str, wg: WaitGroup) -> None:
    try:
        start = gotime.now()
        latency, size = SITES[url]
        gotime.sleep(latency)  # the request; only this goroutine waits
        body = bytes(size)
        echo(f"Fetched {url} ({len(body)} bytes) in {gotime.since(start):.2f} s")
    finally:
        wg.done()


def main() -> None:
    wg = WaitGroup()
    start = gotime.now()
    for url in SITES:
        wg.add(1)
        go(fetch_url, url, wg)
    wg.wait()
    sequential = sum(latency for latency, _ in SITES.values())
    echo(f"Total time: {gotime.since(start):.2f} s (one after another: {sequential:.2f} s)")


if __name__ == "__main__":
    goroutines.run(main)
