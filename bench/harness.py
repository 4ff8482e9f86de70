"""Shared pieces of the benchmark suite, so that no other module repeats them.

* The workloads (:data:`WORKLOADS`): their sizes, units and per-implementation limits, and how a
  raw measurement becomes the figure in the table.
* What the ``impl_*`` modules measure with: :class:`Stopwatch`, :class:`RssGrowth`, :func:`verify`.
* The summary: :class:`Cell` (one workload on one implementation), medians, ratios, the table.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

BENCH_DIR = Path(__file__).resolve().parent

#: Every implementation, in table order; each one is the module ``impl_<name>.py``.
#: ``goroutines`` runs its compiled core where built, ``goroutines_pure`` its pure-Python one.
IMPLEMENTATIONS = (
    "goroutines",
    "goroutines_pure",
    "asyncio",
    "uvloop",
    "threads",
    "gevent",
    "trio",
)
#: The Python anchors that goroutines is compared with.
ANCHORS = IMPLEMENTATIONS[2:]


class Unavailable(Exception):
    """Raised by an ``impl_*`` module on import when it cannot run here; the message says why."""


# --- workloads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One benchmark, run by the function of the same ``function`` name in every impl module.

    That function takes ``params`` as keyword arguments and returns a raw measurement (seconds,
    or bytes for the RSS workloads); the figure is ``raw * scale / product(params[k] for k in
    per)``, so that a workload run at a smaller size still reports a comparable figure.
    """

    name: str
    function: str
    title: str  # a format string over the params
    unit: str
    full: Mapping[str, int]
    quick: Mapping[str, int]
    per: tuple[str, ...]
    scale: float
    #: Upper bounds on the ``n`` parameter for implementations that cannot take the full size.
    caps: Mapping[str, int] = field(default_factory=dict)
    #: Implementations that do not run this workload at all, with the reason.
    skips: Mapping[str, str] = field(default_factory=dict)

    def params(self, impl: str | None = None, *, quick: bool) -> dict[str, int]:
        """The sizes this implementation runs at (the workload's own, or smaller if capped)."""
        params = dict(self.quick if quick else self.full)
        if impl is not None and impl in self.caps:
            params["n"] = min(params["n"], self.caps[impl])
        return params

    def figure(self, raw: float, params: Mapping[str, int]) -> float:
        return raw * self.scale / math.prod(params[key] for key in self.per)

    def describe(self, params: Mapping[str, int]) -> str:
        return self.title.format(**params)


_THREADS_LIMIT = 10_000  # more OS threads than this is not a fair fight, nor a sane program
_NO_CONTEXT = "no context package (Go's context is goroutines-only here)"
_NO_TRACE = "no execution tracer to compare (the goroutines-only traced variant of pingpong)"
_NO_PREEMPT = "no preemption to turn off (the goroutines-only variant of pingpong)"

# fmt: off
WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "spawn", "spawn_join", "spawn and join {n:,} goroutines", "µs/goroutine",
        full={"n": 100_000}, quick={"n": 5_000}, per=("n",), scale=1e6,
        caps={"threads": _THREADS_LIMIT},
    ),
    Workload(
        "pingpong", "ping_pong", "{n:,} round trips over two unbuffered channels",
        "µs/round trip", full={"n": 100_000}, quick={"n": 5_000}, per=("n",), scale=1e6,
    ),
    Workload(
        "pingpong_trace", "ping_pong_traced",
        "pingpong with run(trace=...): {n:,} round trips, recorded (writing the file not timed)",
        "µs/round trip", full={"n": 100_000}, quick={"n": 5_000}, per=("n",), scale=1e6,
        skips={impl: _NO_TRACE for impl in ANCHORS},
    ),
    Workload(
        "pingpong_nopreempt", "ping_pong_no_preemption",
        "pingpong with preemption off (GODEBUG=asyncpreemptoff=1): {n:,} round trips",
        "µs/round trip", full={"n": 100_000}, quick={"n": 5_000}, per=("n",), scale=1e6,
        skips={impl: _NO_PREEMPT for impl in ANCHORS},
    ),
    Workload(
        "buffered", "buffered", "{n:,} items through a channel of capacity {capacity}",
        "ns/item", full={"n": 1_000_000, "capacity": 128}, quick={"n": 50_000, "capacity": 128},
        per=("n",), scale=1e9,
    ),
    Workload(
        "sieve", "sieve", "concurrent prime sieve, first {n:,} primes", "ms total",
        full={"n": 1_000}, quick={"n": 200}, per=(), scale=1e3,
    ),
    Workload(
        "ring", "ring", "token {laps} times around a ring of {size:,} goroutines", "µs/hop",
        full={"size": 1_000, "laps": 100}, quick={"size": 1_000, "laps": 5},
        per=("size", "laps"), scale=1e6,
    ),
    Workload(
        "select", "select_fan_in", "select over {producers} producers x {items:,} items",
        "µs/item", full={"producers": 4, "items": 100_000}, quick={"producers": 4, "items": 2_500},
        per=("producers", "items"), scale=1e6,
    ),
    Workload(
        "mutex", "mutex_uncontended", "{n:,} lock/unlock pairs on one mutex, never contended",
        "ns/pair", full={"n": 1_000_000}, quick={"n": 50_000}, per=("n",), scale=1e9,
    ),
    Workload(
        "mutex_4", "mutex_contended",
        "{workers} workers x {n:,} lock/unlock pairs on one mutex, each yielding while it holds it",
        "µs/pair", full={"workers": 4, "n": 25_000}, quick={"workers": 4, "n": 1_000},
        per=("workers", "n"), scale=1e6,
    ),
    Workload(
        "waitgroup", "waitgroup_fan",
        "{n:,} goroutines parked on one WaitGroup, released at once, joined by another",
        "µs/goroutine", full={"n": 100_000}, quick={"n": 5_000}, per=("n",), scale=1e6,
        caps={"threads": _THREADS_LIMIT},
    ),
    Workload(
        "rss_100k", "rss_parked", "RSS of {n:,} goroutines parked on a receive",
        "KB/goroutine", full={"n": 100_000}, quick={"n": 5_000}, per=("n",), scale=1 / 1024,
        caps={"threads": _THREADS_LIMIT},
    ),
    Workload(
        "rss_1m", "rss_parked", "RSS of {n:,} goroutines parked on a receive",
        "KB/goroutine", full={"n": 1_000_000}, quick={"n": 50_000}, per=("n",), scale=1 / 1024,
        skips={"threads": "a million OS threads is past any sane limit (see rss_100k)"},
    ),
    Workload(
        "ctx_cancel", "context_cancel",
        "cancel a context with {n:,} goroutines waiting on its done()",
        "µs/goroutine", full={"n": 100_000}, quick={"n": 5_000}, per=("n",), scale=1e6,
        skips={impl: _NO_CONTEXT for impl in ANCHORS},
    ),
)

# fmt: on

WORKLOADS_BY_NAME = {workload.name: workload for workload in WORKLOADS}


# --- measuring (used inside the child processes) -----------------------------------------------


class Stopwatch:
    """Wall-clock time of a ``with`` block, in seconds, in :attr:`seconds` after the block."""

    seconds: float

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.seconds = time.perf_counter() - self._start


def rss_bytes() -> int:
    """The resident set size of this process now (``VmRSS`` in ``/proc/self/status``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                kilobytes = line.split()[1]
                return int(kilobytes) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class RssGrowth:
    """How much the RSS grew over a ``with`` block, in bytes, in :attr:`bytes` after the block.

    Garbage is collected before the first reading, so that it does not hide growth.
    """

    bytes: int

    def __enter__(self) -> RssGrowth:
        gc.collect()
        self._before = rss_bytes()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.bytes = rss_bytes() - self._before


def verify(what: str, got: object, expected: object) -> None:
    """Fails the run when a workload did not do what it should (a lost item, a wrong prime)."""
    if got != expected:
        raise AssertionError(f"{what}: got {got!r}, expected {expected!r}")


def nth_prime(n: int) -> int:
    """The n-th prime (1-based), by trial division: the answer the sieve workload must reach."""
    primes: list[int] = []
    candidate = 1
    while len(primes) < n:
        candidate += 1
        if _is_prime(candidate, primes):
            primes.append(candidate)
    return primes[-1]


def _is_prime(candidate: int, smaller_primes: Sequence[int]) -> bool:
    for prime in smaller_primes:
        if prime * prime > candidate:
            return True
        if candidate % prime == 0:
            return False
    return True


# --- summary ----------------------------------------------------------------------------------


@dataclass
class Cell:
    """One workload on one implementation: a figure per repetition, or why there is none."""

    workload: Workload
    impl: str
    params: dict[str, int]
    figures: list[float] = field(default_factory=list)
    capped: bool = False  # run smaller than the workload's size, see Workload.caps
    unavailable: str | None = None  # the reason it was not run
    error: str | None = None  # the reason it failed

    @property
    def median(self) -> float | None:
        return statistics.median(self.figures) if self.figures else None


def best_anchor(cells: Sequence[Cell]) -> Cell | None:
    """The anchor with the lowest median among those that ran at the workload's own size."""
    measured = [
        cell
        for cell in cells
        if cell.impl in ANCHORS and cell.median is not None and not cell.capped
    ]
    return min(measured, key=lambda cell: cell.median or math.inf, default=None)


TABLE_LEGEND = (
    "median: of the runs of that cell. vs best anchor: median / the lowest median among the"
    " Python anchors\n(" + ", ".join(ANCHORS) + ") that ran the workload at its own size."
    " spread: (max - min) / 2 as a share of the median."
)
HEADERS = ("workload", "implementation", "median", "unit", "vs best anchor", "spread", "note")
_RIGHT_ALIGNED = {"median", "vs best anchor", "spread"}


def table_rows(cells: Sequence[Cell]) -> list[tuple[str, ...]]:
    """One row per cell, in the order given; ratios are to the best anchor of the same workload."""
    rows = []
    for name in dict.fromkeys(cell.workload.name for cell in cells):
        same = [cell for cell in cells if cell.workload.name == name]
        best = best_anchor(same)
        for cell in same:
            rows.append(_row(cell, best))
    return rows


def _row(cell: Cell, best: Cell | None) -> tuple[str, ...]:
    name, impl, unit = cell.workload.name, cell.impl, cell.workload.unit
    median = cell.median
    if median is None:
        note = f"n/a: {cell.unavailable}" if cell.unavailable else f"error: {cell.error}"
        return (name, impl, "n/a", unit, "", "", note)
    ratio = f"{median / best.median:.2f}x" if best and best.median else ""
    spread = (max(cell.figures) - min(cell.figures)) / 2 / median if median else 0.0
    notes = []
    if cell.capped:
        notes.append(f"scaled down to n={cell.params['n']:,} (not a reference)")
    if cell.error:
        notes.append(f"error in a later run: {cell.error}")
    if len(cell.figures) == 1:
        notes.append("1 run")
    return (name, impl, _number(median), unit, ratio, f"±{spread:.0%}", "; ".join(notes))


def _number(value: float) -> str:
    """Three significant digits, without switching to exponent notation."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_table(
    rows: Sequence[Sequence[str]],
    *,
    markdown: bool,
    headers: Sequence[str] = HEADERS,
    right_aligned: Collection[str] = _RIGHT_ALIGNED,
) -> str:
    """``rows`` under ``headers``, as aligned text or as a markdown table;
    the columns named in ``right_aligned`` are aligned right (numbers)."""
    if markdown:
        align = ["---:" if header in right_aligned else "---" for header in headers]
        lines = [headers, align, *rows]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines)
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if header in right_aligned else cell.ljust(width)
            for cell, width, header in zip(cells, widths, headers, strict=True)
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def name_list(known: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of names from ``known``, in ``known``'s order."""

    def parse(text: str) -> list[str]:
        names = {name.strip() for name in text.split(",") if name.strip()}
        if unknown := names - set(known):
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(sorted(unknown))}")
        return [name for name in known if name in names]

    return parse
