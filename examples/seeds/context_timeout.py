"""Seed 004, "Concurrency vs parallelism in Go", section "Context
cancellation", ported to goroutines.

Workers loop until their context is done: first a context that times out on
its own, then one cancelled explicitly from another goroutine.

Run it with:  python examples/seeds/context_timeout.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import context, default, go, select
from goroutines import time as gotime
from goroutines.sync import WaitGroup


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def do_work(ctx: context.Context, ident: int) -> None:
    rounds = 0
    while True:
        index, _ = select(ctx.done().recv, default)
        if index == 0:
            echo(f"worker {ident} cancelled after {rounds} rounds: {ctx.err()}")
            return
        rounds += 1  # one round of "work" (the seed prints each one)
        gotime.sleep(0.05)  # the seed: 500 ms


def with_timeout() -> None:
    # Cancelled automatically after 0.2 s (the seed: 2 s).
    ctx, cancel = context.with_timeout(context.background(), 0.2)
    try:
        wg = WaitGroup()
        for ident in range(1, 4):
            wg.go(do_work, ctx, ident)
        wg.wait()
    finally:
        cancel()  # always release the context, even when it has expired


def with_cancel() -> None:
    ctx, cancel = context.with_cancel(context.background())

    def cancel_later() -> None:
        gotime.sleep(0.1)  # the seed: 1 s
        cancel()  # cancel from another goroutine

    go(cancel_later)
    ctx.done().recv()  # wait for cancellation
    echo("context cancelled:", ctx.err())


def main() -> None:
    with_timeout()
    with_cancel()


if __name__ == "__main__":
    goroutines.run(main)
