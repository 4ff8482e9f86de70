"""Seed 004, "Concurrency vs parallelism in Go", section "Goroutine leaks -
causes and prevention", ported to goroutines.

Two ways to leak a goroutine (a receive nobody will ever send to, a range
over a channel nobody closes) and their fixes: wait on a context as well, or
close the channel.

Run it with:  python examples/seeds/blocked_receive_leak.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, context, go, runtime, select
from goroutines import time as gotime
from goroutines.sync import WaitGroup


def leaky() -> None:
    ch: Chan[int] = Chan()

    def wait_for_value() -> None:
        val = ch.recv()  # nobody ever sends: blocked for good
        print(val)

    go(wait_for_value)
    # returns without sending; the goroutine above is stuck forever


def fixed(ctx: context.Context, wg: WaitGroup) -> None:
    ch: Chan[int] = Chan(1)

    def wait_for_value() -> None:
        index, val = select(ch.recv, ctx.done().recv)
        if index == 0:
            print(val)
        # else the context was cancelled: give up and return

    wg.go(wait_for_value)


def drain(ch: Chan[int], label: str) -> None:
    """Range over a channel: ends only when the channel is closed."""
    for v in ch:
        print(label, "got", v)
    print(label, "done: channel closed")


def main() -> None:
    base = runtime.num_goroutine()  # just main

    leaky()
    print("after leaky():", runtime.num_goroutine() - base, "goroutine left behind")

    ctx, cancel = context.with_cancel(context.background())
    wg = WaitGroup()
    fixed(ctx, wg)
    cancel()  # the clean exit condition
    wg.wait()
    # A goroutine that has finished its work (and let wait() return) may still
    # be on its way out; give it a moment before counting.
    gotime.sleep(0.01)
    print("after fixed() and cancel():", runtime.num_goroutine() - base - 1, "more")

    # Ranging over a channel that is never closed leaks the ranging goroutine;
    # closing it (the sender's job) lets the range finish.
    values: Chan[int] = Chan(2)
    finished = WaitGroup()
    finished.go(drain, values, "range")
    values.send(1)
    values.send(2)
    values.close()
    finished.wait()
    gotime.sleep(0.01)  # again, let the ranging goroutine return
    print("goroutines left:", runtime.num_goroutine() - base, "(the one from leaky())")


if __name__ == "__main__":
    goroutines.run(main)
