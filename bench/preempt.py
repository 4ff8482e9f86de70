"""Preemption on this interpreter: how late, how fair, how often.

    .venv/bin/python bench/preempt.py [--trials 30]

Prints, for a goroutine that spins without blocking on one worker:

- **timer lateness**: a 50 ms timer whose goroutine waits while another spins
  on the same worker fires this much after its deadline (sysmon notices the
  overrun after 10-20 ms, then the spinner yields at its next safe point);
- **request to yield**: from sysmon's request to the spinner switching away
  (the safe point's latency alone; with "signal", the retries it takes);
- **fair share**: two goroutines spin on one worker for 1 s; the share of the
  worker each got, read from the execution trace (as ``goroutines trace
  summarize`` reads it), and how many times they alternated.

Medians, with the 90th percentile and the worst of ``--trials`` runs. The cost
of sysmon when nothing overruns is ``pingpong`` against ``pingpong_nopreempt``
in ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import goroutines.time as gtime
from goroutines import _trace_tools, atomic, run
from goroutines._runtime import preempt
from goroutines.sync import WaitGroup


def spin_until(flag: atomic.Bool) -> None:
    while not flag.load():
        pass


def timer_lateness() -> float:
    """One run: how late a 50 ms timer fires while another goroutine spins."""

    def main() -> float:
        deadline = time.monotonic() + 0.05
        timer = gtime.Timer(0.05)
        stop, wg = atomic.Bool(), WaitGroup()
        wg.go(spin_until, stop)
        timer.c.recv()
        late = time.monotonic() - deadline
        stop.store(True)
        wg.wait()
        return late

    return run(main, gomaxprocs=1)


def request_to_yield(trials: int) -> list[float]:
    """The time from each first request to the switch it caused (instrumented)."""
    asked: dict[int, float] = {}
    took: list[float] = []
    request, switch_away = preempt.request, preempt._switch_away

    def timed_request(worker: object, g: object) -> None:
        asked.setdefault(id(g), time.perf_counter())
        request(worker, g)  # type: ignore[arg-type]

    def timed_switch(worker: object, g: object) -> None:
        since = asked.pop(id(g), None)
        if since is not None:
            took.append(time.perf_counter() - since)
        switch_away(worker, g)  # type: ignore[arg-type]

    preempt.request, preempt._switch_away = timed_request, timed_switch  # type: ignore[assignment]
    try:
        for _ in range(trials):
            timer_lateness()
    finally:
        preempt.request, preempt._switch_away = request, switch_away  # type: ignore[assignment]
    return took


def fair_share(seconds: float) -> tuple[float, int]:
    """Two spinners on one worker: the first one's share of their run time,
    and the number of run slices between them, from the execution trace."""

    def spin(until: float) -> None:
        while time.monotonic() < until:
            pass

    def main() -> None:
        wg = WaitGroup()
        until = time.monotonic() + seconds
        wg.go(spin, until)
        wg.go(spin, until)
        wg.wait()

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "trace.json")
        run(main, gomaxprocs=1, trace=path)
        trace = _trace_tools.load(path)
    ran = {2: 0.0, 3: 0.0}
    slices = 0
    for piece in trace.slices:
        if piece.goroutine in ran:
            ran[piece.goroutine] += piece.duration
            slices += 1
    return ran[2] / (ran[2] + ran[3]), slices


def summary(values: list[float], scale: float, unit: str) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    return (
        f"median {statistics.median(values) * scale:.1f} {unit}, "
        f"p90 {p90 * scale:.1f}, worst {values[-1] * scale:.1f} ({len(values)} runs)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    version = sys.version.split()[0]
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"CPython {version}{'' if gil else ' (GIL off)'}, mechanism: {preempt.MECHANISM}")
    if preempt.MECHANISM is None or preempt.off_by_godebug():
        print("preemption is off here: nothing to measure")
        return 0
    print("timer lateness:   ", summary([timer_lateness() for _ in range(args.trials)], 1e3, "ms"))
    print("request to yield: ", summary(request_to_yield(args.trials), 1e6, "µs"))
    shares = [fair_share(1.0) for _ in range(max(3, args.trials // 10))]
    print(
        "fair share:        first spinner got "
        + ", ".join(f"{share:.0%} in {slices} slices" for share, slices in shares)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
