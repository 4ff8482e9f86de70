"""``goroutines trace summarize`` and ``goroutines trace plot``: reading a trace file.

A trace file is the Chrome trace-event JSON that ``run(main, trace=path)``
writes (see ``_runtime/trace.py`` for its layout). These tools read only
that file, never the runtime, so they work on a trace from another machine.

Definitions used by both:
  - *run time* of a goroutine: the sum of its ``X`` slices (time on a worker).
  - *block time*: from each ``block`` mark to the goroutine's next ``unblock``
    mark (the moment something made it ready), or to the end of the trace if
    nothing did. Time spent runnable but not yet running counts in neither.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, TextIO


class TraceError(Exception):
    """The file is not a goroutines trace (the message says why)."""


@dataclass
class Slice:
    tid: int
    goroutine: int
    start: float  # microseconds
    duration: float


@dataclass
class Mark:
    kind: str  # "block" or "unblock"
    tid: int
    goroutine: int
    ts: float


@dataclass
class Block:
    goroutine: int
    reason: str
    site: str
    start: float
    end: float


@dataclass
class Trace:
    """What the tools need from a trace file, times in microseconds."""

    names: dict[int, str] = field(default_factory=dict)  # goroutine -> its slices' name
    tracks: dict[int, str] = field(default_factory=dict)  # tid -> thread name
    slices: list[Slice] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    end: float = 0.0


def load(path: str) -> Trace:
    """Read a trace file; raises OSError or TraceError."""
    with open(path, encoding="utf-8") as file:
        try:
            document = json.load(file)
        except ValueError as exc:
            raise TraceError(f"{path}: not JSON ({exc})") from None
    events = document.get("traceEvents") if isinstance(document, dict) else None
    if not isinstance(events, list):
        raise TraceError(f"{path}: no traceEvents list: not a trace-event file")
    try:
        return _parse(events)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TraceError(f"{path}: not a goroutines trace ({type(exc).__name__}: {exc})") from None


def _parse(events: list[dict[str, Any]]) -> Trace:
    trace = Trace()
    open_blocks: dict[int, tuple[str, str, float]] = {}  # goroutine -> (reason, site, since)
    timed = sorted((e for e in events if "ts" in e), key=lambda e: e["ts"])
    for event in events:
        if event.get("ph") == "M" and event.get("name") == "thread_name":
            trace.tracks[event["tid"]] = event["args"]["name"]
    for event in timed:
        phase, ts, args = event.get("ph"), float(event["ts"]), event.get("args", {})
        trace.end = max(trace.end, ts + float(event.get("dur", 0.0)))
        if phase == "X" and "goroutine" in args:
            gid = args["goroutine"]
            trace.names.setdefault(gid, event["name"])
            trace.slices.append(Slice(event["tid"], gid, ts, float(event["dur"])))
        elif phase == "i" and event.get("cat") == "block":
            gid = args["goroutine"]
            open_blocks[gid] = (args["reason"], args["site"], ts)
            trace.marks.append(Mark("block", event["tid"], gid, ts))
        elif phase == "i" and event.get("cat") == "unblock":
            gid = args["goroutine"]
            trace.marks.append(Mark("unblock", event["tid"], gid, ts))
            if gid in open_blocks:
                reason, site, since = open_blocks.pop(gid)
                trace.blocks.append(Block(gid, reason, site, since, ts))
    for gid, (reason, site, since) in open_blocks.items():
        trace.blocks.append(Block(gid, reason, site, since, trace.end))
    return trace


# ---- summarize ----------------------------------------------------------------


def summarize(trace: Trace, out: TextIO, *, top: int = 10) -> None:
    """Print per-goroutine run and block time, then the top blocking sites."""
    run: dict[int, float] = {}
    slices: dict[int, int] = {}
    for piece in trace.slices:
        run[piece.goroutine] = run.get(piece.goroutine, 0.0) + piece.duration
        slices[piece.goroutine] = slices.get(piece.goroutine, 0) + 1
    blocked: dict[int, float] = {}
    for block in trace.blocks:
        blocked[block.goroutine] = blocked.get(block.goroutine, 0.0) + block.end - block.start
    gids = sorted(set(run) | set(blocked))
    workers = sum(1 for name in trace.tracks.values() if name.startswith("worker"))
    out.write(f"trace: {_ms(trace.end)} ms, {len(gids)} goroutines, {workers} workers\n\n")
    rows: list[tuple[str, ...]] = [("goroutine", "run ms", "blocked ms", "slices", "function")]
    for gid in gids:
        name = trace.names.get(gid, f"goroutine {gid}")
        function = name.partition(" (")[2].rstrip(")") or "?"
        row = (
            str(gid),
            _ms(run.get(gid, 0.0)),
            _ms(blocked.get(gid, 0.0)),
            str(slices.get(gid, 0)),
        )
        rows.append((*row, function))
    _table(rows, out, right=(1, 2, 3))
    out.write("\ntop blocking sites\n")
    sites: dict[tuple[str, str], list[float]] = {}
    for block in trace.blocks:
        sites.setdefault((block.site, block.reason), []).append(block.end - block.start)
    ranked = sorted(sites.items(), key=lambda item: (-sum(item[1]), item[0]))[:top]
    rows = [("site", "wait reason", "count", "total ms")]
    for (site, reason), times in ranked:
        rows.append((_short_path(site), reason, str(len(times)), _ms(sum(times))))
    _table(rows, out, right=(2, 3))


def _ms(us: float) -> str:
    return f"{us / 1000.0:.3f}"


def _short_path(site: str) -> str:
    """``file:line`` with the file relative to the current directory when inside it."""
    path, sep, line = site.rpartition(":")
    if not sep or not os.path.isabs(path):
        return site
    relative = os.path.relpath(path)
    return f"{relative}:{line}" if not relative.startswith("..") else site


def _table(rows: list[tuple[str, ...]], out: TextIO, *, right: tuple[int, ...]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        out.write("  ".join(cells).rstrip() + "\n")


# ---- plot -----------------------------------------------------------------------


class PlotUnavailable(Exception):
    """matplotlib is not installed."""


def plot(trace: Trace, output: str, *, width: float = 12.0, dpi: int = 100) -> None:
    """Draw the timeline to ``output`` (a PNG, or any format matplotlib knows
    from the suffix): a row per worker, a colour per goroutine, block (red,
    pointing down) and unblock (green, pointing up) marks."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailable(
            "goroutines trace plot needs matplotlib: pip install 'goroutines[plot]'"
        ) from exc
    tids = sorted(tid for tid in {s.tid for s in trace.slices} | set(trace.tracks) if tid < 1000)
    rows = {tid: i for i, tid in enumerate(tids)}
    colours = plt.get_cmap("tab20")
    height = 1.2 + 0.8 * max(1, len(tids))
    figure, axes = plt.subplots(figsize=(width, height), dpi=dpi)
    scale = 1000.0  # microseconds -> milliseconds
    minimum = trace.end / scale / 2000  # so that very short slices still show
    bars: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for piece in trace.slices:
        if piece.tid in rows:
            bar = (piece.start / scale, max(piece.duration / scale, minimum))
            bars.setdefault((piece.tid, piece.goroutine), []).append(bar)
    for (tid, gid), pieces in bars.items():
        axes.broken_barh(pieces, (rows[tid] - 0.25, 0.5), color=colours(gid % 20))
    for kind, marker, colour, offset in (
        ("block", "v", "red", 0.36),
        ("unblock", "^", "green", -0.36),
    ):
        points = [
            (m.ts / scale, rows[m.tid] + offset)
            for m in trace.marks
            if m.kind == kind and m.tid in rows
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.scatter(xs, ys, marker=marker, color=colour, s=12, label=kind, zorder=3)
    axes.set_yticks(range(len(tids)), [trace.tracks.get(tid, f"worker {tid - 1}") for tid in tids])
    axes.set_ylim(len(tids) - 0.3, -0.7)
    axes.set_xlim(0, max(trace.end / scale, 1e-3))
    axes.set_xlabel("ms since the run started")
    axes.set_title(f"{len({g for _, g in bars})} goroutines on {len(tids)} workers")
    if trace.marks:
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    figure.tight_layout()
    figure.savefig(output)
    plt.close(figure)
