"""Go by Example: Atomic Counters (https://gobyexample.com/atomic-counters),
ported to goroutines.

Many goroutines bump one shared counter; goroutines.atomic.Int makes each
increment indivisible, so no update is lost.

Run it with:  python examples/gobyexample/atomic_counters.py
"""

from __future__ import annotations

import goroutines
from goroutines import atomic
from goroutines.sync import WaitGroup


def main() -> None:
    # Go's atomic.Uint64; here a Python int that never wraps around.
    ops = atomic.Int()
    wg = WaitGroup()

    def bump() -> None:
        for _ in range(1000):
            # A plain `count += 1` reads, adds and writes in separate steps, and
            # with several processors two goroutines can interleave those steps.
            ops.add(1)

    for _ in range(50):
        wg.go(bump)

    # Once wait() returns no goroutine is writing any more, and wait() orders
    # their writes before this load.
    wg.wait()
    print("ops:", ops.load())


if __name__ == "__main__":
    goroutines.run(main)
