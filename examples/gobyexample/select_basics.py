"""Go by Example: Select (https://gobyexample.com/select), ported to goroutines.

select() waits on several channel operations at once and performs whichever
becomes ready first.

Run it with:  python examples/gobyexample/select_basics.py

The file is not named select.py: run as a script, that name would shadow the
standard library's select module.
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, go, select
from goroutines import time as gotime


def send_later(ch: Chan[str], delay: float, value: str) -> None:
    """Stand-in for a slow call (an RPC, a query): sleep, then deliver."""
    gotime.sleep(delay)
    ch.send(value)


def main() -> None:
    c1: Chan[str] = Chan()
    c2: Chan[str] = Chan()
    # Go's version waits 1 s and 2 s; a tenth of that keeps the same order.
    go(send_later, c1, 0.1, "one")
    go(send_later, c2, 0.2, "two")

    started = gotime.now()
    # Each select takes whichever value is ready first. Both waits overlap, so
    # the whole loop takes about 0.2 s rather than 0.3 s.
    for _ in range(2):
        index, msg = select(c1.recv, c2.recv)
        print("received", msg, "from", f"c{index + 1}")
    print(f"both in about {gotime.since(started):.1f} s")


if __name__ == "__main__":
    goroutines.run(main)
