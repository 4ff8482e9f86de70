"""What a goroutine switch costs on each Python: a bare greenlet switch pair
next to the interpreter's own costs, and goroutines' unbuffered round trip.

    python bench/switch.py .venv311/bin/python .venv312/bin/python .venv313/bin/python

Each interpreter named (each needs greenlet and goroutines installed) runs every
measurement in a fresh process, ``--repeat`` times, interleaved between the
interpreters; the table gives medians in ns, and each one's ratio to the first
interpreter's. With ``--child`` the script runs one measurement itself.

- ``loop``: one iteration of an empty ``for`` loop (the measuring loop itself).
- ``call``: calling an empty Python function.
- ``lock``: ``threading.Lock`` acquire and release.
- ``switch pair``: greenlet ``a.switch()`` to ``b`` and ``b`` switching back:
  two switches, no goroutines code.
- ``round trip``: goroutines' ``ping.send(i); pong.recv()`` with a forwarder
  goroutine on one worker (bench/run.py's ``pingpong``): two switches and four
  channel operations.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

N = 1_000_000
ROUND_TRIPS = 100_000


def _loop(n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        pass
    return time.perf_counter() - started


def _call(n: int) -> float:
    def f() -> None:
        pass

    started = time.perf_counter()
    for _ in range(n):
        f()
    return time.perf_counter() - started


def _lock(n: int) -> float:
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    started = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return time.perf_counter() - started


def _switch_pair(n: int) -> float:
    from greenlet import getcurrent, greenlet

    back = getcurrent().switch

    def other() -> None:
        while True:
            back()

    there = greenlet(other).switch
    there()
    started = time.perf_counter()
    for _ in range(n):
        there()
    return time.perf_counter() - started


def _round_trip(n: int) -> float:
    import goroutines
    from goroutines import Chan, go

    def forward(source: Chan[int], sink: Chan[int]) -> None:
        for value in source:
            sink.send(value)

    def main() -> float:
        ping: Chan[int] = Chan()
        pong: Chan[int] = Chan()
        go(forward, ping, pong)
        started = time.perf_counter()
        for i in range(n):
            ping.send(i)
            pong.recv()
        elapsed = time.perf_counter() - started
        ping.close()
        return elapsed

    return goroutines.run(main, gomaxprocs=1)


MEASUREMENTS: dict[str, tuple[Callable[[int], float], int]] = {
    "loop": (_loop, N),
    "call": (_call, N),
    "lock": (_lock, N),
    "switch pair": (_switch_pair, N),
    "round trip": (_round_trip, ROUND_TRIPS),
}


def _child(name: str) -> None:
    function, n = MEASUREMENTS[name]
    print(function(n) / n * 1e9)


def _version(python: str) -> str:
    code = "import sys, greenlet; print(sys.version.split()[0], 'greenlet', greenlet.__version__)"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pythons", nargs="*", help="interpreters to compare (default: this one)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each cell (default 5)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    pythons = args.pythons or [sys.executable]
    names = [_version(python).strip() for python in pythons]
    results: dict[tuple[str, str], list[float]] = {}
    for repetition in range(args.repeat):
        for name in MEASUREMENTS:
            shift = repetition % len(pythons)
            for python in pythons[shift:] + pythons[:shift]:
                out = subprocess.run(
                    [python, __file__, "--child", name], capture_output=True, text=True, check=True
                ).stdout
                results.setdefault((name, python), []).append(float(out))
    print(f"medians of {args.repeat} runs, ns; in brackets: ratio to the first interpreter")
    print(f"{'':12}" + "".join(f"{n:>30}" for n in names))
    for name in MEASUREMENTS:
        first = statistics.median(results[name, pythons[0]])
        cells = []
        for python in pythons:
            median = statistics.median(results[name, python])
            cells.append(f"{median:,.1f} ({median / first:.2f}x)")
        print(f"{name:12}" + "".join(f"{cell:>30}" for cell in cells))


if __name__ == "__main__":
    main()
