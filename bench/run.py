"""Runs the benchmark suite: every workload on every implementation, side by side.

    python bench/run.py [--repeat N] [--only WORKLOAD,...] [--impl NAME,...] [--quick] [--markdown]

Every run of one workload on one implementation is a fresh process (``child.py``), so memory
and runtime state start clean. Within each repetition the implementations take turns, in an
order that rotates from one repetition to the next, so that a noisy machine hurts all alike.
Progress goes to stderr; the table of medians goes to stdout. See README.md for the method.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata

from harness import (
    BENCH_DIR,
    IMPLEMENTATIONS,
    TABLE_LEGEND,
    WORKLOADS_BY_NAME,
    Cell,
    Workload,
    name_list,
    render_table,
    table_rows,
)

PROBE_WORKLOAD, PROBE_PARAMS = WORKLOADS_BY_NAME["pingpong"], {"n": 10}
PROBE_TIMEOUT = 60.0


class ChildFailed(Exception):
    """A child process crashed, timed out or printed no result; the message says which."""


class ChildUnavailable(Exception):
    """A child process could not import its implementation; the message says why."""


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workloads = [WORKLOADS_BY_NAME[name] for name in args.only]
    print(describe_setup(args, workloads), flush=True)
    unavailable = {impl: probe(impl) for impl in args.impl}
    cells: list[Cell] = []
    try:
        for workload in workloads:
            row = [new_cell(workload, impl, args.quick, unavailable[impl]) for impl in args.impl]
            cells += row
            run_repetitions(row, args.repeat, args.timeout)
    except KeyboardInterrupt:
        print("\ninterrupted: the table shows what ran so far", file=sys.stderr)
    print()
    print(render_table(table_rows(cells), markdown=args.markdown))
    print()
    print(TABLE_LEGEND)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each cell (default 5)")
    parser.add_argument(
        "--only",
        type=name_list(tuple(WORKLOADS_BY_NAME)),
        default=list(WORKLOADS_BY_NAME),
        help="workloads to run, comma-separated: " + ",".join(WORKLOADS_BY_NAME),
    )
    parser.add_argument(
        "--impl",
        type=name_list(IMPLEMENTATIONS),
        default=list(IMPLEMENTATIONS),
        help="implementations to run, comma-separated: " + ",".join(IMPLEMENTATIONS),
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds before one child run counts as failed (default 600, or 120 with --quick)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.timeout is None:
        args.timeout = 120.0 if args.quick else 600.0
    return args


def describe_setup(args: argparse.Namespace, workloads: Sequence[Workload]) -> str:
    libraries = ("goroutines", "gevent", "trio", "uvloop")
    versions = ", ".join(f"{name} {_version(name)}" for name in libraries)
    sizes = "quick sizes" if args.quick else "full sizes"
    width = max(len(w.name) for w in workloads)
    lines = [
        f"Python {platform.python_version()} ({sys.executable}) on {platform.system()},"
        f" {len(os.sched_getaffinity(0))} CPUs; {args.repeat} runs per cell, {sizes}; {versions}",
        "",
        *(f"  {w.name:<{width}} {w.describe(w.params(quick=args.quick))}" for w in workloads),
    ]
    return "\n".join(lines)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def probe(impl: str) -> str | None:
    """Why the implementation cannot run here, or None when a tiny ping-pong works."""
    try:
        run_child(impl, PROBE_WORKLOAD, PROBE_PARAMS, PROBE_TIMEOUT)
    except ChildUnavailable as exc:
        reason = str(exc)
    except ChildFailed as exc:
        reason = f"probe failed ({exc})"
    else:
        return None
    print(f"{impl}: n/a: {reason}", file=sys.stderr)
    return reason


def new_cell(workload: Workload, impl: str, quick: bool, unavailable: str | None) -> Cell:
    params = workload.params(impl, quick=quick)
    capped = params != workload.params(quick=quick)
    reason = unavailable or workload.skips.get(impl)
    return Cell(workload, impl, params, capped=capped, unavailable=reason)


def run_repetitions(cells: Sequence[Cell], repeat: int, timeout: float) -> None:
    """Runs every cell ``repeat`` times, taking turns; a cell that fails once is not run again."""
    for repetition in range(repeat):
        shift = repetition % len(cells)
        progress = []
        for cell in [*cells[shift:], *cells[:shift]]:
            if cell.unavailable or cell.error:
                continue
            try:
                cell.figures.append(run_child(cell.impl, cell.workload, cell.params, timeout))
            except (ChildFailed, ChildUnavailable) as exc:
                cell.error = str(exc)
                print(f"{cell.workload.name} on {cell.impl} failed: {exc}", file=sys.stderr)
                continue
            progress.append(f"{cell.impl} {cell.figures[-1]:.4g}")
        workload = cells[0].workload
        head = f"{workload.name} [{workload.unit}] run {repetition + 1}/{repeat}: "
        print(head + ", ".join(progress), file=sys.stderr, flush=True)


def run_child(impl: str, workload: Workload, params: dict[str, int], timeout: float) -> float:
    """Runs one workload on one implementation in a new process and returns its figure."""
    command = [sys.executable, str(BENCH_DIR / "child.py"), impl, workload.name, json.dumps(params)]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ChildFailed(f"timed out after {timeout:g} s") from exc
    if finished.returncode != 0:
        raise ChildFailed(_last_line(finished.stderr) or f"exit status {finished.returncode}")
    try:
        outcome = json.loads(_last_line(finished.stdout))
    except ValueError as exc:
        raise ChildFailed(f"no result on stdout: {_last_line(finished.stdout)!r}") from exc
    if "unavailable" in outcome:
        raise ChildUnavailable(outcome["unavailable"])
    return float(outcome["figure"])


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else ""


if __name__ == "__main__":
    sys.exit(main())
