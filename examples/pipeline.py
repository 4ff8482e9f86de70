"""A tour of goroutines in one program: a pipeline with fan-out and fan-in,
a worker pool, and select with a timeout.

Run it with:  python examples/pipeline.py
"""

from __future__ import annotations

import random

import goroutines
from goroutines import Chan, RecvChan, SendChan, go, select
from goroutines import time as gotime


def generate(numbers: list[int]) -> RecvChan[int]:
    """Stage 1: emit the numbers on a channel, then close it."""
    out: Chan[int] = Chan()

    def emit() -> None:
        for n in numbers:
            out.send(n)
        out.close()

    go(emit)
    return out.recv_only()


def square(source: RecvChan[int], name: str) -> RecvChan[tuple[str, int]]:
    """Stage 2 (fanned out): square each number, tagging it with the worker's name."""
    out: Chan[tuple[str, int]] = Chan()

    def work() -> None:
        for n in source:
            gotime.sleep(random.uniform(0, 0.002))  # pretend to work; other goroutines run
            out.send((name, n * n))
        out.close()

    go(work)
    return out.recv_only()


def merge(*sources: RecvChan[tuple[str, int]]) -> RecvChan[tuple[str, int]]:
    """Stage 3 (fan-in): one channel carrying everything the sources send."""
    out: Chan[tuple[str, int]] = Chan()
    finished: Chan[None] = Chan()

    def forward(source: RecvChan[tuple[str, int]]) -> None:
        for item in source:
            out.send(item)
        finished.send(None)

    def close_when_all_done() -> None:
        for _ in sources:
            finished.recv()
        out.close()

    for source in sources:
        go(forward, source)
    go(close_when_all_done)
    return out.recv_only()


def pipeline_demo() -> None:
    print("== pipeline: generate -> square (fan-out to 3 workers) -> merge (fan-in)")
    numbers = generate(list(range(1, 13)))
    workers = [square(numbers, f"sq{i}") for i in range(3)]
    total = 0
    by_worker: dict[str, int] = {}
    for name, value in merge(*workers):
        total += value
        by_worker[name] = by_worker.get(name, 0) + 1
    print(f"   sum of squares 1..12 = {total} (expected {sum(n * n for n in range(1, 13))})")
    print(f"   items per worker: {dict(sorted(by_worker.items()))}")


def worker_pool_demo() -> None:
    print("== worker pool: 4 workers, 10 jobs, results gathered over a channel")
    jobs: Chan[int] = Chan(10)
    results: Chan[tuple[int, int, int]] = Chan(10)

    def worker(ident: int, jobs: RecvChan[int], results: SendChan[tuple[int, int, int]]) -> None:
        for job in jobs:
            gotime.sleep(0.01)  # a job takes 10 ms
            results.send((ident, job, job * 2))

    for ident in range(1, 5):
        go(worker, ident, jobs.recv_only(), results.send_only())
    started = gotime.now()
    for job in range(1, 11):
        jobs.send(job)
    jobs.close()
    for _ in range(10):
        ident, job, result = results.recv()  # type: ignore[misc]
        print(f"   worker {ident} finished job {job:2} -> {result}")
    elapsed = gotime.since(started)
    print(f"   10 jobs of 10 ms on 4 workers took {elapsed * 1000:.0f} ms (sequential: 100 ms)")


def timeout_demo() -> None:
    print("== select with a timeout")
    fast: Chan[str] = Chan(1)
    slow: Chan[str] = Chan(1)
    goroutines.time.after_func(0.01, lambda: fast.send("fast result"))
    goroutines.time.after_func(0.5, lambda: slow.send("slow result"))
    for name, ch in (("fast", fast), ("slow", slow)):
        index, value = select(ch.recv, gotime.after(0.1).recv)
        if index == 0:
            print(f"   {name}: got {value!r}")
        else:
            print(f"   {name}: timed out after 100 ms")


def main() -> None:
    pipeline_demo()
    worker_pool_demo()
    timeout_demo()
    print(f"== done; goroutines alive, main included: {goroutines.runtime.num_goroutine()}")


if __name__ == "__main__":
    goroutines.run(main)
