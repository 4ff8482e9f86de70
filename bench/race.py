"""The race detector's cost: each workload plain and with ``race=True``.

    .venv/bin/python bench/race.py [--repeat 5] [--quick]

In one process, with ``gomaxprocs`` 1, each repetition runs every workload
plain and instrumented under the detector (alternating which goes first) and
prints the medians and the slowdown (race / plain; issue 11's target: at
most 10x), with the detector's compiled functions (``_sink.c``, where
built: the sinks and the clocks' inner loop) and with detector.py's Python
ones, the reference (``race (py)``):

- ``pingpong``: round trips over two unbuffered channels (per round trip);
- ``sieve``: Go's concurrent prime sieve up to the 300th prime (total);
- ``sieve+``: the same, each filter also counting what it passes on in an
  object of its own: every filter then makes recorded accesses, and its
  time travels in the vector clocks (the detector's "silent actors" are
  those that never do), so a channel operation costs O(filters);
- ``cpu``: 4 goroutines each run a pure-Python loop over its own object's
  attributes and its own list's items (per step: 2 attribute and 2 item
  accesses, race-free).

The workloads live in ``race_workloads.py``, loaded twice: plain (straight
from its file, past every import hook) and instrumented (imported through
the race detector's import hook while a session is open). Each race run must
report no race, and a racy variant of ``cpu`` (all goroutines on one object)
must report one: so the instrumented code really runs and is seen.

Last, the cost of the hooks when the detector is off: every primitive reads
``hooks.race`` once per operation; the number of such reads per round trip
(counted) times the time of the check (``timeit``), as a fraction of a
plain round trip.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import os
import statistics
import sys
import timeit
import types
from collections.abc import Callable, Iterator
from typing import Any

from goroutines import run, runtime
from goroutines._race import detector, sink
from goroutines._runtime import hooks

HERE = os.path.dirname(os.path.abspath(__file__))
SINKS = [name for name in sink.__all__ if name.startswith(("read_", "write_"))]


def load_plain() -> Any:
    path = os.path.join(HERE, "race_workloads.py")
    spec = importlib.util.spec_from_file_location("race_workloads_plain", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_instrumented() -> Any:
    module = run(lambda: importlib.import_module("race_workloads"), race=True)
    assert "__goroutines_race__" in vars(module), "race_workloads was not instrumented"
    return module


def check_seen(instrumented: Any) -> None:
    """The racy variant of ``cpu`` must be reported: accesses are seen."""
    before = runtime.races()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        instrumented.cpu(2, 100, True, shared=True)
    assert runtime.races() > before and "WARNING: DATA RACE" in err.getvalue(), err.getvalue()


@contextlib.contextmanager
def python_sinks() -> Iterator[None]:
    """Run instrumented code with detector.py's Python functions (the
    reference) in place of the compiled ones: ``sink``'s names rebound, and
    the clocks' inner loop."""
    compiled = {name: getattr(sink, name) for name in SINKS}
    compiled_join = detector._raise_all
    for name in SINKS:
        setattr(sink, name, getattr(detector, name))
    detector._raise_all = detector._raise_all_python
    try:
        yield
    finally:
        for name, function in compiled.items():
            setattr(sink, name, function)
        detector._raise_all = compiled_join


def measure(
    name: str, plain: Callable[[bool], float], racy: Callable[[bool], float], repeat: int
) -> list[float]:
    """Medians (seconds) of ``repeat`` runs each: plain, race, and race with
    the Python sinks, in a rotating order."""
    times: list[list[float]] = [[], [], []]
    for index in range(repeat):
        for which in (index % 3, (index + 1) % 3, (index + 2) % 3):
            before = runtime.races()
            if which == 0:
                times[0].append(plain(False))
            elif which == 1:
                times[1].append(racy(True))
            else:
                with python_sinks():
                    times[2].append(racy(True))
            assert runtime.races() == before, f"{name}: a race was reported"
    return [statistics.median(t) for t in times]


class _CountingModule(types.ModuleType):
    loads = 0

    def __getattribute__(self, name: str) -> Any:
        if name == "race":
            _CountingModule.loads += 1
        return super().__getattribute__(name)


def race_checks_per_round_trip(plain: Any, n: int) -> float:
    """How many times the primitives read ``hooks.race`` per round trip."""
    hooks.__class__ = _CountingModule
    try:
        plain.ping_pong(10, False)  # warm-up: the lazy imports and first-time paths
        _CountingModule.loads = 0
        plain.ping_pong(n, False)
        return _CountingModule.loads / n
    finally:
        hooks.__class__ = types.ModuleType


def check_cost() -> float:
    """Seconds per ``if hooks.race is not None`` (a module global's attribute,
    as at the primitives' call sites), less an empty ``pass``."""
    timer = timeit.Timer("if hooks.race is not None: pass", globals={"hooks": hooks})
    empty = timeit.Timer("pass")
    number = 2_000_000
    check = min(timer.repeat(5, number)) / number
    baseline = min(empty.repeat(5, number)) / number
    return max(check - baseline, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="about a tenth of the sizes")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    pings, primes, steps, goroutines = 20_000 // scale, 300 // scale, 20_000 // scale, 4

    plain, instrumented = load_plain(), load_instrumented()
    check_seen(instrumented)
    print(f"Python {sys.version.split()[0]}, gomaxprocs 1, {args.repeat} runs each, medians")
    rows = [
        ("pingpong", f"{pings:,} round trips", "µs per round trip", 1e6 / pings,
         lambda m: lambda race: m.ping_pong(pings, race)),
        ("sieve", f"{primes:,} primes", "ms total", 1e3,
         lambda m: lambda race: m.sieve(primes, race)),
        ("sieve+", f"{primes:,} primes, tallied", "ms total", 1e3,
         lambda m: lambda race: m.sieve(primes, race, tallied=True)),
        ("cpu", f"{goroutines} x {steps:,} steps", "µs per step", 1e6 / (goroutines * steps),
         lambda m: lambda race: m.cpu(goroutines, steps, race)),
    ]  # fmt: skip
    print(f"compiled: {detector.COMPILED}; race (py): with detector.py's Python functions")
    print(
        f"{'workload':<10} {'size':<22} {'plain':>10} {'race':>10}  {'slowdown':>8}"
        f" {'race (py)':>10}  {'slowdown':>8}  unit"
    )
    for name, size, unit, factor, make in rows:
        workloads = make(plain), make(instrumented)
        base, raced, pure = measure(name, *workloads, args.repeat)
        print(
            f"{name:<10} {size:<22} {base * factor:>10.2f} {raced * factor:>10.2f}  "
            f"{raced / base:>7.1f}x {pure * factor:>10.2f}  {pure / base:>7.1f}x  {unit}"
        )

    checks = race_checks_per_round_trip(plain, pings)
    cost = check_cost()
    round_trip = (
        statistics.median(plain.ping_pong(pings, False) for _ in range(args.repeat)) / pings
    )
    print(
        f"race off: {checks:.1f} reads of hooks.race per round trip x {cost * 1e9:.1f} ns "
        f"= {checks * cost * 1e9:.0f} ns, {checks * cost / round_trip:.2%} of a "
        f"{round_trip * 1e6:.2f} µs round trip"
    )


if __name__ == "__main__":
    main()
