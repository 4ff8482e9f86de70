"""Seed 004, "Concurrency vs parallelism in Go", section "The done channel
pattern", ported to goroutines.

Closing a channel wakes every goroutine waiting on it, so one close() tells
all workers to stop.

Run it with:  python examples/seeds/done_channel.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import Chan, RecvChan, select
from goroutines.sync import WaitGroup


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def worker(ident: int, jobs: RecvChan[int], done: RecvChan[None]) -> None:
    while True:
        index, value = select(jobs.recv_ok, done.recv)
        if index == 1:
            echo(f"worker {ident}: shutting down")
            return
        job, ok = value
        if not ok:
            echo(f"worker {ident}: jobs channel closed")
            return
        echo(f"worker {ident}: processing job {job}")


def main() -> None:
    jobs: Chan[int] = Chan(10)
    done: Chan[None] = Chan()  # Go: chan struct{}; it only ever gets closed
    wg = WaitGroup()

    for ident in range(1, 4):
        wg.go(worker, ident, jobs.recv_only(), done.recv_only())

    for job in range(1, 10):
        jobs.send(job)

    # Broadcast: every worker's select sees the closed channel. When jobs are
    # still queued, select picks at random between a job and the shutdown, so
    # how many jobs get processed first differs from run to run.
    done.close()

    # The seed sleeps 100 ms to let the workers print; waiting on a WaitGroup
    # is exact.
    wg.wait()
    echo("all workers stopped")


if __name__ == "__main__":
    goroutines.run(main)
