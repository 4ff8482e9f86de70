"""Go by Example: Timeouts (https://gobyexample.com/timeouts), ported to goroutines.

A select with a case on time.after() bounds how long to wait for a result.

Run it with:  python examples/gobyexample/timeouts.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, go, select
from goroutines import time as gotime


def slow_call(result: Chan[str], delay: float, value: str) -> None:
    """Pretend to be an external call that takes `delay` seconds."""
    gotime.sleep(delay)
    # The channel has one slot: if nobody is listening any more (the caller
    # timed out), this send still completes and the goroutine can finish.
    result.send(value)


def main() -> None:
    # The call takes 0.2 s but we only wait 0.1 s (Go's example: 2 s and 1 s).
    c1: Chan[str] = Chan(1)
    go(slow_call, c1, 0.2, "result 1")
    index, res = select(c1.recv, gotime.after(0.1).recv)
    print(res if index == 0 else "timeout 1")

    # Same call, but now we are willing to wait 0.3 s, so the result wins.
    c2: Chan[str] = Chan(1)
    go(slow_call, c2, 0.2, "result 2")
    index, res = select(c2.recv, gotime.after(0.3).recv)
    print(res if index == 0 else "timeout 2")


if __name__ == "__main__":
    goroutines.run(main)
