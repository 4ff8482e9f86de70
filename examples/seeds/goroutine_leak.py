"""Seed 002, "Go Goroutines and Concurrency Fundamentals", sections "Goroutine
Leaks: A Common Pitfall" and "Fixing Goroutine Leaks with Context", ported to
goroutines.

Workers that loop forever can never be stopped: they leak. Workers that check
a context's done() channel stop as soon as the context is cancelled.

Run it with:  python examples/seeds/goroutine_leak.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import context, default, go, runtime, select
from goroutines import time as gotime
from goroutines.sync import WaitGroup

WORK_SECONDS = 0.05  # one round of work (the seed: 500 ms)


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def leaky_worker() -> None:
    while True:  # no way out: this goroutine lives as long as the program
        gotime.sleep(1.0)


def worker(ctx: context.Context, ident: int) -> None:
    while True:
        # Non-blocking check of the context, then a round of work.
        index, _ = select(ctx.done().recv, default)
        if index == 0:
            echo(f"Worker {ident}: Stopping")
            return
        gotime.sleep(WORK_SECONDS)


def main() -> None:
    for _ in range(10):
        go(leaky_worker)
    gotime.sleep(WORK_SECONDS)
    echo("Goroutines with 10 leaky workers:", runtime.num_goroutine())

    ctx, cancel = context.with_cancel(context.background())
    wg = WaitGroup()
    for ident in range(10):
        wg.go(worker, ctx, ident)
    gotime.sleep(4 * WORK_SECONDS)  # let them work (the seed: 2 s)
    echo("Goroutines with 10 stoppable workers too:", runtime.num_goroutine())

    echo("Main: Canceling workers")
    cancel()  # closes ctx.done(): every worker sees it on its next check
    # The seed sleeps a second here and hopes; waiting on the group is exact.
    wg.wait()
    # A worker that has called done() may still be on its way out; give the
    # last ones a moment to return before counting.
    gotime.sleep(0.01)
    echo("Goroutines after cancel (the leaky ones remain):", runtime.num_goroutine())
    echo("Main: Exiting")


if __name__ == "__main__":
    goroutines.run(main)
