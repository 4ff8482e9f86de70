"""Seed 004, "Concurrency vs parallelism in Go", section "Production
concurrency patterns: Worker pool", ported to goroutines.

Five workers share one jobs channel; a WaitGroup closes the results channel
once they are all done, which ends the collecting loop.

Run it with:  python examples/seeds/worker_pool_total.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, RecvChan, SendChan, go
from goroutines.sync import WaitGroup


def worker_pool(num_workers: int, jobs: RecvChan[int], results: SendChan[int]) -> None:
    wg = WaitGroup()

    def worker() -> None:
        for job in jobs:
            results.send(job * job)  # process the job

    for _ in range(num_workers):
        wg.go(worker)

    def close_when_done() -> None:
        wg.wait()
        results.close()

    go(close_when_done)


def main() -> None:
    jobs: Chan[int] = Chan(100)
    results: Chan[int] = Chan(100)

    worker_pool(5, jobs.recv_only(), results.send_only())  # 5 concurrent workers

    for i in range(1, 21):  # 20 jobs
        jobs.send(i)
    jobs.close()

    total = 0
    for r in results:
        total += r
    print("total:", total)  # 1² + 2² + ... + 20² = 2870


if __name__ == "__main__":
    goroutines.run(main)
