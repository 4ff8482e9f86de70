"""Seed 004, "Concurrency vs parallelism in Go", section "Production
concurrency patterns: Pipeline", ported to goroutines.

Stages connected by channels: gen -> square -> square. Every stage also
watches a context, so cancelling it tears the whole pipeline down.

Run it with:  python examples/seeds/pipeline_squares.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, RecvChan, context, go, select


def gen(ctx: context.Context, *nums: int) -> RecvChan[int]:
    out: Chan[int] = Chan()

    def emit() -> None:
        try:
            for n in nums:
                # Send, unless the consumer has gone away.
                index, _ = select((out.send, n), ctx.done().recv)
                if index == 1:
                    return
        finally:
            out.close()  # Go: defer close(out)

    go(emit)
    return out.recv_only()


def square(ctx: context.Context, source: RecvChan[int]) -> RecvChan[int]:
    out: Chan[int] = Chan()

    def work() -> None:
        try:
            for n in source:
                index, _ = select((out.send, n * n), ctx.done().recv)
                if index == 1:
                    return
        finally:
            out.close()

    go(work)
    return out.recv_only()


def main() -> None:
    ctx, cancel = context.with_cancel(context.background())
    try:
        # gen -> square -> square: 2, 3, 4 become 16, 81, 256.
        for n in square(ctx, square(ctx, gen(ctx, 2, 3, 4))):
            print(n)

        # Stopping early: take one value, then cancel; every stage returns.
        first = square(ctx, gen(ctx, 5, 6, 7, 8)).recv()
        print("first of a longer pipeline:", first)
    finally:
        cancel()  # Go: defer cancel()


if __name__ == "__main__":
    goroutines.run(main)
