"""Go by Example: Worker Pools (https://gobyexample.com/worker-pools), ported to goroutines.

A fixed number of worker goroutines share one channel of jobs and report on a
channel of results.

Run it with:  python examples/gobyexample/worker_pools.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import Chan, RecvChan, SendChan, go
from goroutines import time as gotime

JOB_SECONDS = 0.1  # each job "takes" this long (Go's example: one second)


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def worker(ident: int, jobs: RecvChan[int], results: SendChan[int]) -> None:
    """Take jobs until the jobs channel is closed; send each job's result."""
    for job in jobs:
        echo("worker", ident, "started  job", job)
        gotime.sleep(JOB_SECONDS)  # parks this goroutine only; the others keep working
        echo("worker", ident, "finished job", job)
        results.send(job * 2)


def main() -> None:
    num_jobs = 5
    # Buffers big enough for every job and result, so main never waits to send.
    jobs: Chan[int] = Chan(num_jobs)
    results: Chan[int] = Chan(num_jobs)

    # Three workers; they block at once because there are no jobs yet.
    for ident in range(1, 4):
        go(worker, ident, jobs.recv_only(), results.send_only())

    started = gotime.now()
    for job in range(1, num_jobs + 1):
        jobs.send(job)
    jobs.close()  # lets each worker's for loop end once the jobs run out

    # Receiving one result per job is also how main knows all the work is done.
    collected = sorted(results.recv() or 0 for _ in range(num_jobs))
    elapsed = gotime.since(started)
    echo("results:", collected)
    # 5 jobs on 3 workers: two rounds of JOB_SECONDS, not five.
    sequential = num_jobs * JOB_SECONDS
    echo(f"{num_jobs} jobs in about {elapsed:.1f} s (one after another: {sequential:.1f} s)")


if __name__ == "__main__":
    goroutines.run(main)
