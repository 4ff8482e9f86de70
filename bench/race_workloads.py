"""The race detector benchmark's workloads (``race.py``), in a module of their
own so that ``race.py`` can load it twice: once plain, and once through the
race detector's import hook, instrumented (every attribute, item and global
access of this file then calls the detector while a session is open).

Each function runs one workload in ``run(main, gomaxprocs=1, race=race)`` and
returns the seconds of its timed part; each checks its result.
"""

from __future__ import annotations

from goroutines import Chan, go, run
from goroutines.sync import WaitGroup

from harness import Stopwatch, nth_prime, verify


def ping_pong(n: int, race: bool) -> float:
    """n round trips between two goroutines over two unbuffered channels."""

    def main() -> float:
        ping: Chan[int] = Chan()
        pong: Chan[int] = Chan()
        go(_forward, ping, pong)
        with Stopwatch() as clock:
            for i in range(n):
                ping.send(i)
                pong.recv()
        ping.close()
        return clock.seconds

    return run(main, gomaxprocs=1, race=race)


class Tally:
    def __init__(self) -> None:
        self.passed = 0


def sieve(n: int, race: bool, *, tallied: bool = False) -> float:
    """Go's concurrent prime sieve, up to the n-th prime. ``tallied``: each
    filter also counts the numbers it passes on, in an object of its own (a
    race-free access per number, which makes every filter's time part of the
    vector clocks: see the detector's "silent actors")."""

    def main() -> float:
        with Stopwatch() as clock:
            numbers: Chan[int] = Chan()
            go(_generate, numbers)
            for _ in range(n):
                prime = numbers.recv()
                filtered: Chan[int] = Chan()
                if tallied:
                    go(_tallied_filter, numbers, filtered, prime, Tally())
                else:
                    go(_filter, numbers, filtered, prime)
                numbers = filtered
        verify("last prime", prime, nth_prime(n))
        return clock.seconds

    return run(main, gomaxprocs=1, race=race)


class Particle:
    def __init__(self) -> None:
        self.x = 0.0
        self.v = 1.0


def cpu(goroutines: int, steps: int, race: bool, *, shared: bool = False) -> float:
    """``goroutines`` goroutines each run ``steps`` steps of a pure-Python loop
    over an object's attributes and a list's items: each its own (race-free),
    or all the same ones (``shared``: racy, to show the accesses are seen)."""

    def main() -> float:
        wg = WaitGroup()
        common = (Particle(), [0] * 8)
        states = [common if shared else (Particle(), [0] * 8) for _ in range(goroutines)]
        with Stopwatch() as clock:
            for particle, items in states:
                wg.go(_step, particle, items, steps)
            wg.wait()
        if not shared:
            verify("x", [p.x for p, _ in states], [float(steps)] * goroutines)
        return clock.seconds

    return run(main, gomaxprocs=1, race=race)


def _step(particle: Particle, items: list[int], steps: int) -> None:
    for i in range(steps):
        particle.x += particle.v  # an attribute read, and an attribute write
        items[i & 7] = items[(i + 1) & 7] + 1  # an item read, and an item write


def _forward(source: Chan[int], destination: Chan[int]) -> None:
    for value in source:
        destination.send(value)
    destination.close()


def _generate(numbers: Chan[int]) -> None:
    i = 2
    while True:
        numbers.send(i)
        i += 1


def _filter(source: Chan[int], destination: Chan[int], prime: int) -> None:
    for i in source:
        if i % prime:
            destination.send(i)


def _tallied_filter(source: Chan[int], destination: Chan[int], prime: int, tally: Tally) -> None:
    for i in source:
        if i % prime:
            tally.passed += 1
            destination.send(i)
