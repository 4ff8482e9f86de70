"""The race detector's cost: each workload plain and with ``race=True``.

    .venv/bin/python bench/race.py [--repeat 5] [--quick]

In one process, with ``gomaxprocs`` 1, each repetition runs every workload
plain and instrumented under the detector (alternating which goes first) and
prints the medians and the slowdown (race / plain; issue 11's target: at
most 10x):

- ``pingpong``: round trips over two unbuffered channels (per round trip);
- ``sieve``: Go's concurrent prime sieve up to the 300th prime (total; not
  ``run.py``'s 1,000th: under the detector that takes minutes per run here);
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
from collections.abc import Callable
from typing import Any

from goroutines import run, runtime
from goroutines._runtime import hooks

HERE = os.path.dirname(os.path.abspath(__file__))


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


def measure(
    name: str, plain: Callable[[bool], float], racy: Callable[[bool], float], repeat: int
) -> tuple[float, float]:
    """Medians (seconds) of ``repeat`` plain and race runs, alternating."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for index in range(repeat):
        for race in (False, True) if index % 2 == 0 else (True, False):
            before = runtime.races()
            times[race].append((racy if race else plain)(race))
            assert runtime.races() == before, f"{name}: a race was reported"
    return statistics.median(times[False]), statistics.median(times[True])


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
        ("cpu", f"{goroutines} x {steps:,} steps", "µs per step", 1e6 / (goroutines * steps),
         lambda m: lambda race: m.cpu(goroutines, steps, race)),
    ]  # fmt: skip
    print(f"{'workload':<10} {'size':<22} {'plain':>10} {'race':>10}  {'slowdown':>8}  unit")
    for name, size, unit, factor, make in rows:
        base, raced = measure(name, make(plain), make(instrumented), args.repeat)
        print(
            f"{name:<10} {size:<22} {base * factor:>10.2f} {raced * factor:>10.2f}  "
            f"{raced / base:>7.1f}x  {unit}"
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
