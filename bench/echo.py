"""Echo-server benchmark: the same TCP echo server on goroutines, asyncio, uvloop, gevent, threads.

    python bench/echo.py [--clients N] [--duration S] [--repeat N] [--impl NAME,...]
                         [--quick] [--markdown] [--wait-idle S]

Every run starts one server in a process of its own (``echo_servers.py IMPL``, listening on
127.0.0.1, port 0) and points one load generator at it, in another process (``echo_client.py``,
the same client for every server): ``--clients`` connections, each a closed loop of
``--size``-byte requests, ``--warmup`` seconds unmeasured, then ``--duration`` seconds counted.
The server is killed when the client is done. Within each repetition the servers take turns, in
an order that rotates from one repetition to the next, so that a noisy machine hurts all alike;
the table gives the median of the runs. Progress goes to stderr, the table to stdout. See
bench/README.md for the method.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from echo_client import CONNECT_PHASE_TIMEOUT, FIRST_ECHO_TIMEOUT
from echo_servers import BACKLOG, DEFAULT_SERVERS, SERVERS, raise_fd_limit
from harness import name_list, render_table

BENCH_DIR = Path(__file__).resolve().parent
#: The servers whose request rates every other one is divided by, in the table.
ANCHORS = ("threads", "asyncio")
#: Seconds for a server to print its port.
START_TIMEOUT = 30.0
#: Seconds the client may run past its own phases' timeouts before it is killed.
CLIENT_SLACK = 30.0
#: CPU time per second of the window, beyond the server's and the client's, above which a run
#: counts as disturbed by other programs (a quiet machine shows a few percent).
DISTURBED = 0.25
#: The idle share of the machine's CPU time that ``--wait-idle`` waits for.
IDLE_ENOUGH = 0.9


class RunFailed(Exception):
    """A server or the client crashed, hung or misbehaved; the message says which and how."""


class RunUnavailable(Exception):
    """The server cannot run here (its library is missing); the message says why."""


@dataclass
class Cell:
    """One server: the client's report of each run, or why there is none."""

    impl: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    unavailable: str | None = None
    error: str | None = None
    stderr: str | None = None  # the last line a server wrote to stderr in a run that passed

    @property
    def counted(self) -> list[dict[str, Any]]:
        """The runs the table's medians are of: the undisturbed ones, or all if none is."""
        return [run for run in self.runs if not _disturbed(run)] or self.runs

    def median(self, key: str) -> float | None:
        values = [run[key] for run in self.counted if run.get(key) is not None]
        return statistics.median(values) if values else None


def _disturbed(run: dict[str, Any]) -> bool:
    """Whether other programs took enough CPU during the run to move its figures."""
    rest = run.get("rest_cpu")
    return rest is not None and rest > DISTURBED


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    limit = raise_fd_limit(args.clients + 64)
    print(describe_setup(args, limit), flush=True)
    cells = [Cell(impl) for impl in args.impl]
    try:
        run_repetitions(cells, args)
    except KeyboardInterrupt:
        print("\ninterrupted: the table shows what ran so far", file=sys.stderr)
    print()
    print(
        render_table(
            table_rows(cells), markdown=args.markdown, headers=HEADERS, right_aligned=_RIGHT_ALIGNED
        )
    )
    print()
    print(LEGEND)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="connections (default 1000)")
    parser.add_argument("--size", type=int, default=64, help="bytes per request (default 64)")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds measured per run (default 3)"
    )
    parser.add_argument(
        "--warmup", type=float, default=None, help="seconds before measuring (default 1)"
    )
    parser.add_argument("--repeat", type=int, default=None, help="runs per server (default 3)")
    parser.add_argument(
        "--impl",
        "--only",
        type=name_list(tuple(SERVERS)),
        default=list(DEFAULT_SERVERS),
        help="servers to run, comma-separated, from: "
        + ",".join(SERVERS)
        + f" (default {','.join(DEFAULT_SERVERS)})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 run of 1 s per server, 0.5 s warm-up"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"before each run, wait up to SECONDS for a second of >= {IDLE_ENOUGH:.0%}% idle CPU"
        " (for a machine that others share; default 0: do not wait)",
    )
    parser.add_argument(
        "--client-loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the client's event loop (default uvloop, asyncio when uvloop is missing)",
    )
    parser.add_argument(
        "--backlog", type=int, default=BACKLOG, help="every server's listen backlog"
    )
    args = parser.parse_args(argv)
    for name, full, quick in (("duration", 3.0, 1.0), ("warmup", 1.0, 0.5), ("repeat", 3, 1)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if args.repeat < 1 or args.clients < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--repeat and --clients must be at least 1, --duration above 0")
    return args


def describe_setup(args: argparse.Namespace, fd_limit: int) -> str:
    libraries = ("goroutines", "gevent", "uvloop")
    versions = ", ".join(f"{name} {_version(name)}" for name in libraries)
    lines = [
        f"{datetime.date.today().isoformat()}: Python {platform.python_version()} on"
        f" {platform.system()}, {len(os.sched_getaffinity(0))} CPUs ({_cpu_model()}); {versions}",
        f"{args.clients:,} connections x {args.size}-byte requests, closed loop;"
        f" {args.warmup:g} s warm-up, {args.duration:g} s measured; {args.repeat} run(s) per"
        f" server, interleaved; client on {args.client_loop}; listen backlog {args.backlog}",
    ]
    somaxconn = _read_int("/proc/sys/net/core/somaxconn")
    if somaxconn is not None and somaxconn < args.backlog:
        lines.append(f"note: net.core.somaxconn is {somaxconn}: listen backlogs are capped to it")
    load = os.getloadavg()[0]
    if load >= 0.5:
        lines.append(f"note: load average {load:.2f} at the start: other programs are running")
    if fd_limit < args.clients + 64:
        lines.append(f"note: the open-file limit is {fd_limit}, too low for the connections")
    return "\n".join(lines)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as file:
            return int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- running -----------------------------------------------------------------------------------


def run_repetitions(cells: Sequence[Cell], args: argparse.Namespace) -> None:
    """Runs every server ``args.repeat`` times, taking turns; one that fails is not run again."""
    for repetition in range(args.repeat):
        shift = repetition % len(cells)
        progress = []
        for cell in [*cells[shift:], *cells[:shift]]:
            if cell.unavailable or cell.error:
                continue
            if args.wait_idle:
                wait_idle(args.wait_idle)
            try:
                outcome = run_once(cell.impl, args)
            except RunUnavailable as exc:
                cell.unavailable = str(exc)
                print(f"{cell.impl}: n/a: {exc}", file=sys.stderr, flush=True)
                continue
            except RunFailed as exc:
                cell.error = str(exc)
                print(f"{cell.impl} failed: {exc}", file=sys.stderr, flush=True)
                continue
            if None not in (outcome["machine_cpu"], outcome["server_cpu"]):
                outcome["rest_cpu"] = (
                    outcome["machine_cpu"] - outcome["server_cpu"] - outcome["client_cpu"]
                )
            cell.runs.append(outcome)
            if outcome.get("server_stderr"):
                cell.stderr = outcome["server_stderr"]
            progress.append(
                f"{cell.impl} {outcome['rps']:,.0f}/s p99 {outcome['p99_ms']:.1f} ms"
                f" (cpu server {_percent(outcome['server_cpu'])},"
                f" client {_percent(outcome['client_cpu'])},"
                f" rest {_percent(outcome.get('rest_cpu'))})"
            )
        head = f"run {repetition + 1}/{args.repeat}: "
        print(head + "; ".join(progress), file=sys.stderr, flush=True)


def wait_idle(limit: float) -> None:
    """Waits, up to ``limit`` seconds, for a second in which the machine is mostly idle."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = _cpu_ticks()
        time.sleep(1.0)
        after = _cpu_ticks()
        if before is None or after is None:
            return
        total = sum(after) - sum(before)
        idle = (after[3] + after[4]) - (before[3] + before[4])
        if total > 0 and idle / total >= IDLE_ENOUGH:
            return
    print(f"the machine was busy for {limit:g} s: running anyway", file=sys.stderr, flush=True)


def _cpu_ticks() -> list[int] | None:
    """The first line of ``/proc/stat``: clock ticks per state, over all the cores."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def run_once(impl: str, args: argparse.Namespace) -> dict[str, Any]:
    """Starts the server, runs the client against it, kills the server; the client's report."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as server_stderr:
        server = subprocess.Popen(
            [
                sys.executable,
                str(BENCH_DIR / "echo_servers.py"),
                impl,
                "--backlog",
                str(args.backlog),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=server_stderr,
            text=True,
        )
        try:
            port = _read_port(server, server_stderr)
            outcome = _run_client(port, server.pid, args)
            if server.poll() is not None:
                raise RunFailed(
                    f"the server exited with status {server.returncode} during the run:"
                    f" {_tail(server_stderr)}"
                )
            if "error" in outcome:
                raise RunFailed(f"{outcome['error']}; server stderr: {_tail(server_stderr)}")
        finally:
            server.kill()
            server.wait()
            if server.stdout is not None:
                server.stdout.close()
        outcome["server_stderr"] = _tail(server_stderr, default="")
    return outcome


def _read_port(server: subprocess.Popen[str], stderr: IO[str]) -> int:
    assert server.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        if not selector.select(START_TIMEOUT):
            raise RunFailed(f"the server printed no port in {START_TIMEOUT:g} s")
    line = server.stdout.readline().strip()
    if line.startswith("unavailable:"):
        raise RunUnavailable(line.removeprefix("unavailable:").strip())
    if not line.isdigit():
        server.wait(timeout=START_TIMEOUT)
        raise RunFailed(f"the server did not start: {line or _tail(stderr)}")
    return int(line)


def _run_client(port: int, server_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        str(BENCH_DIR / "echo_client.py"),
        str(port),
        f"--clients={args.clients}",
        f"--size={args.size}",
        f"--warmup={args.warmup}",
        f"--duration={args.duration}",
        f"--server-pid={server_pid}",
        f"--loop={args.client_loop}",
    ]
    timeout = CONNECT_PHASE_TIMEOUT + FIRST_ECHO_TIMEOUT + args.warmup + args.duration
    timeout += CLIENT_SLACK
    try:
        finished = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise RunFailed(f"the client did not finish in {timeout:g} s") from exc
    lines = finished.stdout.strip().splitlines()
    try:
        outcome: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError) as exc:
        last = finished.stderr.strip().splitlines()
        raise RunFailed(f"the client crashed: {last[-1] if last else finished.returncode}") from exc
    return outcome


def _tail(file: IO[str], default: str = "(nothing)") -> str:
    """The last line written to ``file``."""
    file.flush()
    file.seek(0)
    lines = file.read().strip().splitlines()
    return lines[-1].strip() if lines else default


# --- the table ---------------------------------------------------------------------------------

HEADERS = (
    "server",
    "requests/s",
    "vs threads",
    "vs asyncio",
    "p50 ms",
    "p99 ms",
    "spread",
    "per connection",
    "server CPU",
    "client CPU",
    "rest CPU",
    "note",
)
_RIGHT_ALIGNED = set(HEADERS) - {"server", "note"}
LEGEND = f"""\
Medians of each server's undisturbed runs (of all its runs if none is). requests/s: echoes
completed per second in the measured window (higher is better). vs threads, vs asyncio:
requests/s over that server's. p50, p99: latency of one request, send to last byte back.
spread: (max - min) / 2 of requests/s, as a share of the median. per connection: requests
completed in the window by the least served connection / the median one / the most served one.
server CPU, client CPU: CPU time (user + system) per second of the window, 100% being one core.
rest CPU: the machine's busy time (/proc/stat) less theirs, i.e. interrupts and any other
program; a run is disturbed when it is above {DISTURBED:.0%}: its figures are not the servers'."""


def table_rows(cells: Sequence[Cell]) -> list[tuple[str, ...]]:
    anchors = {name: cell.median("rps") for cell in cells for name in ANCHORS if cell.impl == name}
    return [_row(cell, anchors) for cell in cells]


def _row(cell: Cell, anchors: dict[str, float | None]) -> tuple[str, ...]:
    rps = cell.median("rps")
    if rps is None:
        if cell.unavailable:
            note = f"n/a: {cell.unavailable}"
        else:
            note = f"error: {cell.error}" if cell.error else "not run (interrupted)"
        return (cell.impl, "n/a", "", "", "", "", "", "", "", "", "", note)
    ratios = []
    for name in ANCHORS:
        anchor = anchors.get(name)
        ratios.append(f"{rps / anchor:.2f}x" if anchor else "")
    values = [run["rps"] for run in cell.counted]
    spread = (max(values) - min(values)) / 2 / rps
    notes = []
    if cell.impl == "uvloop_protocol":
        notes.append("gauge: a Protocol, no streams")
    if cell.error:
        notes.append(f"error in a later run: {cell.error}")
    disturbed = sum(map(_disturbed, cell.runs))
    if disturbed == len(cell.runs):
        notes.append(f"every run disturbed (rest CPU > {DISTURBED:.0%})")
    elif disturbed:
        notes.append(
            f"{disturbed} of {len(cell.runs)} runs disturbed (rest CPU > {DISTURBED:.0%}): left out"
        )
    idle = max(run["idle_connections"] for run in cell.counted)
    if idle:
        notes.append(f"connections with no echo in a window: up to {idle}")
    if cell.stderr:
        notes.append(f"server stderr: {cell.stderr}")
    if len(cell.counted) == 1:
        notes.append("1 run")
    return (
        cell.impl,
        f"{rps:,.0f}",
        *ratios,
        _number(cell.median("p50_ms")),
        _number(cell.median("p99_ms")),
        f"±{spread:.0%}",
        "/".join(
            f"{cell.median(f'per_connection_{key}') or 0:,.0f}" for key in ("min", "median", "max")
        ),
        _percent(cell.median("server_cpu")),
        _percent(cell.median("client_cpu")),
        _percent(cell.median("rest_cpu")),
        "; ".join(notes),
    )


def _number(value: float | None) -> str:
    """Three significant digits, without switching to exponent notation."""
    if value is None:
        return ""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"


if __name__ == "__main__":
    sys.exit(main())
