"""Go by Example: Rate Limiting (https://gobyexample.com/rate-limiting), ported to goroutines.

A ticker spaces requests out evenly; a buffered channel refilled by a ticker
lets short bursts through while keeping the same long-run rate.

Run it with:  python examples/gobyexample/rate_limiting.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, SendChan, go
from goroutines import time as gotime

INTERVAL = 0.05  # one request per 50 ms (Go's example: per 200 ms)
BURST = 3


def incoming(count: int) -> Chan[int]:
    """A closed channel holding `count` numbered requests, as if they had queued up."""
    requests: Chan[int] = Chan(count)
    for req in range(1, count + 1):
        requests.send(req)
    requests.close()
    return requests


def refill(bursty: SendChan[float]) -> None:
    """Add one token per INTERVAL; send blocks while the bucket is full."""
    for tick in gotime.tick(INTERVAL):
        bursty.send(tick)


def main() -> None:
    # Steady: every request waits for the next tick, so request n is served
    # no earlier than n * INTERVAL after the start.
    print("steady limiter:")
    started = gotime.now()
    limiter = gotime.tick(INTERVAL)
    for req in incoming(5):
        limiter.recv()
        print(f"request {req} at +{gotime.since(started):.3f} s")

    # Bursty: a bucket of BURST tokens, full at the start, topped up one token
    # per INTERVAL. The first three requests go at once; later ones are paced.
    print("bursty limiter:")
    started = gotime.now()
    bursty: Chan[float] = Chan(BURST)
    for _ in range(BURST):
        bursty.send(gotime.now())
    go(refill, bursty.send_only())  # runs until main returns
    for req in incoming(5):
        bursty.recv()
        print(f"request {req} at +{gotime.since(started):.3f} s")


if __name__ == "__main__":
    goroutines.run(main)
