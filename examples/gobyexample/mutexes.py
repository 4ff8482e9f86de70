"""Go by Example: Mutexes (https://gobyexample.com/mutexes), ported to goroutines.

A Mutex guards state more complex than one number: here a dict of counters
updated by several goroutines.

Run it with:  python examples/gobyexample/mutexes.py
"""

from __future__ import annotations

import goroutines
from goroutines.sync import Mutex, WaitGroup


class Container:
    """Counters by name, safe to update from many goroutines at once."""

    def __init__(self, names: list[str]) -> None:
        self._mu = Mutex()  # guards counters; a Mutex must not be copied, share the object
        self.counters = dict.fromkeys(names, 0)

    def inc(self, name: str) -> None:
        # `with` locks and unlocks even if the body raises (Go: Lock + defer Unlock).
        with self._mu:
            self.counters[name] += 1


def main() -> None:
    container = Container(["a", "b"])
    wg = WaitGroup()

    def do_increment(name: str, n: int) -> None:
        for _ in range(n):
            container.inc(name)

    # Two goroutines share counter "a", a third works on "b".
    wg.go(do_increment, "a", 10000)
    wg.go(do_increment, "a", 10000)
    wg.go(do_increment, "b", 10000)

    wg.wait()
    print(container.counters)


if __name__ == "__main__":
    goroutines.run(main)
